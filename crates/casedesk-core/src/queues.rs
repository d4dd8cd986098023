//! Queue use cases: queues, their members, and the backlog the router works off when an agent
//! becomes eligible.

use casedesk_domain::error::FieldError;
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::Action;
use casedesk_domain::queue::{MemberInput, MemberRole, Queue, QueueInput, QueueMember};
use casedesk_store::{Page, PageRequest, RefKind, StoreError};

use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

impl App {
    /// Checks that the queue's references (policy, calendar, escalation queue) exist in its
    /// organization, naming each field that does not.
    async fn check_queue_refs(&self, q: &Queue) -> Result<()> {
        let refs = [
            ("sla_policy_id", q.sla_policy_id.as_deref(), IdKind::SlaPolicy, RefKind::SlaPolicy),
            ("calendar_id", q.calendar_id.as_deref(), IdKind::Calendar, RefKind::Calendar),
            ("escalation_queue_id", q.escalation_queue_id.as_deref(), IdKind::Queue, RefKind::Queue),
        ];
        self.check_typed_refs(&q.org_id, &refs).await
    }

    /// For each `(field, id, kind)`, fails unless `id` has the kind's prefix and exists in the
    /// organization (one query for all).
    pub(crate) async fn check_typed_refs(
        &self,
        org_id: &str,
        refs: &[(&str, Option<&str>, IdKind, RefKind)],
    ) -> Result<()> {
        let mut errors = Vec::new();
        let mut lookups = Vec::new();
        for (field, id, kind, rk) in refs {
            let Some(id) = id else { continue };
            if kind.matches(id) {
                lookups.push((*field, *rk, *id));
            } else {
                errors.push(FieldError::new(*field, format!("must be an id starting with {}", kind.prefix())));
            }
        }
        let wanted: Vec<(RefKind, &str)> = lookups.iter().map(|(_, k, id)| (*k, *id)).collect();
        let found = self.store.exist_all(org_id, &wanted).await?;
        for ((field, _, id), ok) in lookups.iter().zip(found) {
            if !ok {
                errors.push(FieldError::new(*field, format!("no such record: {id}")));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
    }

    pub async fn create_queue(
        &self,
        actor: &Actor,
        input: QueueInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<Queue>> {
        actor.require(Action::ManageQueues, "create queues")?;
        let get = async |id: String| self.store.get_queue(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let q = Queue::blank(IdKind::Queue.new_id(), actor.org_id.clone(), self.clock.now()).apply(input, true)?;
        self.check_queue_refs(&q).await?;
        let rec = self.idem_record(actor, idem.as_ref(), &q.id, 201);
        let written = self.store.insert_queue(&q, rec.as_ref()).await.map(|()| q);
        let get = async |id: String| self.store.get_queue(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn get_queue(&self, actor: &Actor, id: &str) -> Result<Queue> {
        actor.require(Action::ReadCases, "read queues")?;
        Ok(self.store.get_queue(&actor.org_id, id).await?)
    }

    pub async fn list_queues(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Queue>> {
        actor.require(Action::ReadCases, "read queues")?;
        Ok(self.store.list_queues(&actor.org_id, page).await?)
    }

    /// Changes a queue. A new policy or calendar applies to cases routed from then on; cases
    /// already in the queue keep the clocks they have.
    pub async fn update_queue(&self, actor: &Actor, id: &str, input: QueueInput) -> Result<Queue> {
        actor.require(Action::ManageQueues, "change queues")?;
        let current = self.store.get_queue(&actor.org_id, id).await?;
        let mut next = current.clone().apply(input, false)?;
        if next == current {
            return Ok(current);
        }
        self.check_queue_refs(&next).await?;
        next.updated_at = self.clock.now();
        self.store.update_queue(&next).await?;
        if next.assignment_method != current.assignment_method {
            self.backfill_queue(&actor.org_id, id).await?;
        }
        Ok(next)
    }

    pub async fn delete_queue(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete queues")?;
        Ok(self.store.delete_queue(&actor.org_id, id).await?)
    }

    // ---- members ----------------------------------------------------------------------------

    pub async fn list_members(&self, actor: &Actor, queue_id: &str) -> Result<Vec<QueueMember>> {
        actor.require(Action::ReadCases, "read queues")?;
        self.store.get_queue(&actor.org_id, queue_id).await?;
        Ok(self.store.list_members(&actor.org_id, queue_id).await?)
    }

    /// Adds `user_id` to the queue or changes their membership; a new member may take the
    /// queue's waiting cases at once.
    pub async fn put_member(
        &self,
        actor: &Actor,
        queue_id: &str,
        user_id: &str,
        input: MemberInput,
    ) -> Result<QueueMember> {
        actor.require(Action::ManageQueues, "change queue members")?;
        self.store.get_queue(&actor.org_id, queue_id).await?;
        let existing = match self.store.get_member(&actor.org_id, queue_id, user_id).await {
            Ok(m) => Some(m),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let base = match existing {
            Some(m) => m,
            None => {
                if !IdKind::User.matches(user_id) || !self.store.exists(RefKind::User, &actor.org_id, user_id).await? {
                    return Err(AppError::Validation(vec![FieldError::new(
                        "user_id",
                        format!("no such active user: {user_id}"),
                    )]));
                }
                QueueMember {
                    queue_id: queue_id.to_string(),
                    user_id: user_id.to_string(),
                    org_id: actor.org_id.clone(),
                    role: MemberRole::Member,
                    skills: Vec::new(),
                    vip: false,
                    created_at: self.clock.now(),
                }
            }
        };
        let member = base.apply(input)?;
        self.store.put_member(&member).await?;
        self.backfill_queue(&actor.org_id, queue_id).await?;
        Ok(member)
    }

    /// Removes a member. Cases assigned to them stay theirs until reassigned.
    pub async fn delete_member(&self, actor: &Actor, queue_id: &str, user_id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "change queue members")?;
        self.store.get_queue(&actor.org_id, queue_id).await?;
        Ok(self.store.delete_member(&actor.org_id, queue_id, user_id).await?)
    }
}
