//! Case use cases: create, read, change, delete, list, comment, timeline, import.

use casedesk_domain::calendar::BusinessCalendar;
use casedesk_domain::case::{self, Case, CasePatch, CaseType, Channel, Ctx, ImportTimes, NewCase, Status};
use casedesk_domain::ids::IdKind;
use casedesk_domain::list::ListRequest;
use casedesk_domain::people::{Account, Contact};
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::search;
use casedesk_domain::timeline::{self, AuthorType, Comment, Event, NewEvent};
use casedesk_domain::{Errors, error::FieldError};
use casedesk_store::{
    CaseListItem, FeedPage, ImportedCase, Org, Page, PageRequest, RefKind, StoreError, WorkflowSummary,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;

use crate::idempotency::{Created, IdemKey};
use crate::routing::{CASE_ASSIGNED, CASE_ESCALATED, RouteInput, SlaChange, apply_plan, decide};
use crate::{Actor, App, AppError, Result};
use casedesk_domain::workflow::{self, FunnelStage};

/// A case with what its detail page shows: account, contact, the whole comment thread, a
/// problem's incidents, and the calendar its SLA clocks count in.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: Case,
    pub account: Option<Account>,
    pub contact: Option<Contact>,
    pub comments: Vec<Comment>,
    pub incidents: Vec<Case>,
    pub calendar: Option<BusinessCalendar>,
    pub workflow: WorkflowSummary,
    /// The case's satisfaction surveys, oldest first.
    pub surveys: Vec<casedesk_domain::csat::Survey>,
}

pub(crate) fn org_zone(org: &Org) -> Result<TimeZone> {
    TimeZone::get(&org.time_zone)
        .map_err(|e| AppError::Internal(format!("organization time zone {}: {e}", org.time_zone)))
}

/// The timeline entry of an assignment made by hand.
fn manual_assignment(current: &Case, next: &Case, actor_id: &str, now: Timestamp) -> NewEvent {
    NewEvent {
        kind: CASE_ASSIGNED,
        data: json!({
            "owner_id": next.owner_id,
            "previous_owner_id": current.owner_id,
            "queue_id": next.queue_id,
            "method": "manual",
            "reason": format!("assigned by {actor_id}"),
        }),
        created_at: now,
    }
}

/// A historical case to import, as given.
#[derive(Debug, Clone)]
pub struct ImportCaseInput {
    pub case: NewCase,
    pub case_number: Option<i64>,
    pub times: ImportTimes,
    pub created_by: Option<String>,
    pub comments: Vec<ImportCommentInput>,
}

#[derive(Debug, Clone)]
pub struct ImportCommentInput {
    pub body: String,
    pub internal: bool,
    pub author_id: Option<String>,
    pub created_at: Timestamp,
}

/// The timeline entry naming the custom fields a change of category dropped.
pub const CUSTOM_FIELDS_DROPPED: &str = "custom_fields.dropped";

/// Most cases in one import request.
pub const MAX_IMPORT: usize = 1000;
/// Most comments of one case read for the detail view; longer threads page through
/// `/comments`.
pub const DETAIL_COMMENTS: u32 = 1000;
pub(crate) const UPDATE_ATTEMPTS: usize = 5;

/// The references a case carries, each checked to exist in the caller's organization.
struct Refs<'a> {
    queue_id: Option<&'a str>,
    owner_id: Option<&'a str>,
    requester_id: Option<&'a str>,
    contact_id: Option<&'a str>,
    account_id: Option<&'a str>,
    problem_id: Option<&'a str>,
}

/// What a new comment says and carries.
#[derive(Debug, Clone, Copy)]
pub struct CommentInput<'a> {
    pub body: &'a str,
    /// An internal note for agents rather than a reply the customer sees.
    pub internal: bool,
    pub author_type: AuthorType,
    /// Files already uploaded to the case, to attach.
    pub file_ids: &'a [String],
    /// An agent's reply sent by this channel rather than the case's own
    /// ([`casedesk_domain::messaging::reply_route`]).
    pub reply_channel: Option<Channel>,
}

impl App {
    pub(crate) async fn org_time_zone(&self, org_id: &str) -> Result<TimeZone> {
        let org = self.store.get_org(org_id).await?;
        org_zone(&org)
    }

    /// Checks that every referenced record exists in the actor's organization and returns the
    /// organization's settings (one query for all); names each field that does not.
    async fn check_refs(&self, org_id: &str, refs: Refs<'_>) -> Result<Org> {
        let mut errors = Vec::new();
        let checks = [
            ("queue_id", refs.queue_id, Some(IdKind::Queue)),
            ("owner_id", refs.owner_id, Some(IdKind::User)),
            ("requester_id", refs.requester_id, None),
            ("contact_id", refs.contact_id, Some(IdKind::Contact)),
            ("account_id", refs.account_id, Some(IdKind::Account)),
            ("problem_id", refs.problem_id, Some(IdKind::Case)),
        ];
        let mut lookups: Vec<(&str, RefKind, &str)> = Vec::new();
        for (field, id, kind) in checks {
            let Some(id) = id else { continue };
            // A requester is a user (an agent asking) or a contact (a customer).
            let kind = kind.or_else(|| [IdKind::User, IdKind::Contact].into_iter().find(|k| k.matches(id)));
            match kind.filter(|k| k.matches(id)) {
                Some(k) => lookups.push((field, ref_kind(k), id)),
                None => {
                    let what = match kind {
                        Some(k) => format!("an id starting with {}", k.prefix()),
                        None => "a user (usr_…) or contact (cnt_…) id".to_string(),
                    };
                    errors.push(FieldError::new(field, format!("must be {what}")));
                }
            }
        }
        let wanted: Vec<(RefKind, &str)> = lookups.iter().map(|(_, k, id)| (*k, *id)).collect();
        let (org, found) = self.store.org_and_refs(org_id, &wanted).await?;
        for ((field, _, id), ok) in lookups.iter().zip(found) {
            if !ok {
                errors.push(FieldError::new(*field, format!("no such record: {id}")));
            }
        }
        if let Some(problem_id) = refs.problem_id
            && errors.iter().all(|e| e.field != "problem_id")
            && self.store.get_case(org_id, problem_id).await?.case_type != CaseType::Problem
        {
            errors.push(FieldError::new("problem_id", "must be a case of type problem"));
        }
        if errors.is_empty() { Ok(org) } else { Err(AppError::Validation(errors)) }
    }

    pub async fn create_case(&self, actor: &Actor, mut input: NewCase, idem: Option<IdemKey>) -> Result<Created<Case>> {
        actor.require(Action::WriteCases, "create cases")?;
        let get = async |id: String| self.store.get_case(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let org = self
            .check_refs(
                &actor.org_id,
                Refs {
                    queue_id: input.queue_id.as_deref(),
                    owner_id: input.owner_id.as_deref(),
                    requester_id: input.requester_id.as_deref(),
                    contact_id: input.contact_id.as_deref(),
                    account_id: input.account_id.as_deref(),
                    problem_id: input.problem_id.as_deref(),
                },
            )
            .await?;
        // A case about a contact belongs to the contact's account unless told otherwise.
        if input.account_id.is_none()
            && let Some(contact_id) = &input.contact_id
        {
            input.account_id = self.store.get_contact(&actor.org_id, contact_id).await?.account_id;
        }
        self.resolve_workflow(&actor.org_id, &mut input).await?;
        let tz = org_zone(&org)?;
        let now = self.clock.now();
        let ctx = Ctx { org_id: &actor.org_id, actor_id: &actor.user_id, now, tz: &tz };
        let mut case = Case::create(input, &ctx)?;
        self.fit_profile(None, &mut case, true).await?;
        let queue = match &case.queue_id {
            Some(id) => Some(self.store.get_queue(&actor.org_id, id).await?),
            None => None,
        };
        let plan = self.plan_for_queue(&org, queue.as_ref()).await?;
        let rec = self.idem_record(actor, idem.as_ref(), &case.id, 201);
        let written = match &queue {
            Some(q) => {
                let vip_case = self.is_vip_case(&case, q).await?;
                let input = RouteInput {
                    vip_case,
                    sla: SlaChange::Apply(plan.as_ref()),
                    reassign: false,
                    record_status: false,
                    now,
                };
                let case = case.clone();
                self.store.create_case_routed(&actor.org_id, &q.id, rec.as_ref(), |ctx| decide(case, ctx, &input)).await
            }
            None => {
                let events = apply_plan(&mut case, plan.as_ref(), now);
                self.store.create_case(&case, &events, rec.as_ref()).await
            }
        };
        let get = async |id: String| self.store.get_case(&actor.org_id, &id).await;
        let created = self.settle_create(actor, idem.as_ref(), written, get).await?;
        if !created.replayed {
            self.apply_templates(&created.value).await?;
            if created.value.category_id.is_some() {
                self.ai.forget(&actor.org_id);
            }
        }
        Ok(created)
    }

    pub async fn get_case(&self, actor: &Actor, id: &str) -> Result<Case> {
        actor.require(Action::ReadCases, "read cases")?;
        Ok(self.store.get_case(&actor.org_id, id).await?)
    }

    pub async fn case_detail(&self, actor: &Actor, id: &str) -> Result<CaseDetail> {
        actor.require(Action::ReadCases, "read cases")?;
        let (case, account, contact, workflow) = self.store.get_case_with_refs(&actor.org_id, id).await?;
        let comments =
            self.store.list_comments(&actor.org_id, &case.id, &PageRequest::first(DETAIL_COMMENTS)).await?.items;
        let incidents = if case.case_type == CaseType::Problem {
            self.store.incidents_of(&actor.org_id, &case.id).await?
        } else {
            Vec::new()
        };
        let plan = self.plan_for_case(&case).await?;
        let surveys = self.store.list_surveys(&actor.org_id, &case.id).await?;
        Ok(CaseDetail {
            case,
            account,
            contact,
            comments,
            incidents,
            calendar: plan.map(|p| p.calendar),
            workflow,
            surveys,
        })
    }

    /// Applies `patch`. With `if_match`, the case must still be at that version (else 412);
    /// without, a concurrent change is re-read and the patch applied on top of it.
    pub async fn update_case(&self, actor: &Actor, id: &str, patch: CasePatch, if_match: Option<i64>) -> Result<Case> {
        self.update_case_with(actor, id, patch, if_match, &[]).await
    }

    /// [`update_case`](Self::update_case), writing `extra` timeline entries with the change.
    async fn update_case_with(
        &self,
        actor: &Actor,
        id: &str,
        mut patch: CasePatch,
        if_match: Option<i64>,
        extra: &[NewEvent],
    ) -> Result<Case> {
        actor.require(Action::WriteCases, "update cases")?;
        self.resolve_patch_workflow(&actor.org_id, &mut patch).await?;
        let stage = match patch.funnel_stage_id.clone().flatten() {
            Some(id) => Some(self.named_stage(&actor.org_id, &id).await?),
            None => None,
        };
        let org = self
            .check_refs(
                &actor.org_id,
                Refs {
                    queue_id: patch.queue_id.as_ref().and_then(|v| v.as_deref()),
                    owner_id: patch.owner_id.as_ref().and_then(|v| v.as_deref()),
                    requester_id: patch.requester_id.as_deref(),
                    contact_id: patch.contact_id.as_ref().and_then(|v| v.as_deref()),
                    account_id: patch.account_id.as_ref().and_then(|v| v.as_deref()),
                    problem_id: patch.problem_id.as_ref().and_then(|v| v.as_deref()),
                },
            )
            .await?;
        let tz = org_zone(&org)?;
        let explicit_owner = patch.owner_id.is_some();
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.store.get_case_for_update(&actor.org_id, id).await?;
            if if_match.is_some_and(|v| v != current.version) {
                return Err(AppError::PreconditionFailed);
            }
            let now = self.clock.now();
            let ctx = Ctx { org_id: &actor.org_id, actor_id: &actor.user_id, now, tz: &tz };
            let (mut next, mut changes) = current.apply(patch.clone(), &ctx)?;
            self.fit_stage(&current, &mut next, stage.as_ref(), &mut changes).await?;
            // Custom fields are judged when a write names them or the category: a profile that
            // gained a required field does not block closing an older case.
            let dropped = if patch.custom_fields.is_some() || patch.category_id.is_some() {
                self.fit_profile(Some(&current), &mut next, patch.custom_fields.is_some()).await?
            } else {
                Vec::new()
            };
            if !dropped.is_empty() {
                changes.retain(|c| c.field != "custom_fields");
                changes.push(case::Change {
                    field: "custom_fields",
                    old: serde_json::Value::Object(current.custom_fields.clone()),
                    new: serde_json::Value::Object(next.custom_fields.clone()),
                });
            }
            if changes.is_empty() {
                return Ok(current);
            }
            let mut events = timeline::changes(&changes, now);
            if !dropped.is_empty() {
                events.push(NewEvent {
                    kind: CUSTOM_FIELDS_DROPPED,
                    data: json!({ "category_id": next.category_id, "dropped": dropped }),
                    created_at: now,
                });
            }
            if explicit_owner && next.owner_id != current.owner_id {
                events.push(manual_assignment(&current, &next, &actor.user_id, now));
            }
            events.extend(self.sla_transitions(&current, &mut next, now).await?);
            self.mark_resolution(&current, &mut next).await?;
            events.extend_from_slice(extra);
            match self.write_update(&org, &current, next, events, &actor.user_id, explicit_owner, now).await? {
                Some(next) => {
                    self.after_update(&current, &next, &actor.user_id).await?;
                    return Ok(next);
                }
                None if if_match.is_some() => return Err(AppError::PreconditionFailed),
                None => continue,
            }
        }
        Err(StoreError::Stale.into())
    }

    /// Keeps the funnel stage consistent with the queue: a stage named in the patch must fit the
    /// case's queue (422 otherwise); a stage of the old queue is dropped when the case moves.
    async fn fit_stage(
        &self,
        current: &Case,
        next: &mut Case,
        named: Option<&FunnelStage>,
        changes: &mut Vec<case::Change>,
    ) -> Result<()> {
        if let Some(stage) = named {
            if !stage.fits(next.queue_id.as_deref()) {
                return Err(AppError::field("funnel_stage_id", "the stage belongs to another queue"));
            }
            return Ok(());
        }
        if next.queue_id == current.queue_id {
            return Ok(());
        }
        let Some(id) = next.funnel_stage_id.clone() else { return Ok(()) };
        let fits = match self.store.get_stage(&next.org_id, &id).await {
            Ok(stage) => stage.fits(next.queue_id.as_deref()),
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        if !fits {
            next.funnel_stage_id = None;
            changes.push(case::Change { field: "funnel_stage_id", old: json!(id), new: serde_json::Value::Null });
        }
        Ok(())
    }

    /// Moves the case's clocks for a change of status, custom status or priority, under the
    /// policy it follows.
    pub(crate) async fn sla_transitions(
        &self,
        current: &Case,
        next: &mut Case,
        now: Timestamp,
    ) -> Result<Vec<NewEvent>> {
        let mut events = Vec::new();
        if current.status == next.status
            && current.priority == next.priority
            && current.custom_status_id == next.custom_status_id
        {
            return Ok(events);
        }
        let Some(plan) = self.plan_for_case(current).await? else { return Ok(events) };
        let Some(sla) = next.sla.as_mut() else { return Ok(events) };
        if next.priority != current.priority {
            events.extend(sla.on_priority(next.priority, now, plan.setup()));
        }
        if next.status != current.status {
            events.extend(sla.on_status(current.status, next.status, now, plan.setup()));
        }
        // A custom status may pause the clocks where its category does not, or the reverse.
        if next.status.is_active() {
            let statuses = self.store.list_statuses(&next.org_id).await?;
            let by_category = plan.policy.pauses(next.status);
            let paused = workflow::pauses(&statuses, next.status, next.custom_status_id.as_deref(), by_category);
            // All clocks of a case run or pause together: enforce the status's word.
            let running = sla.clocks.iter().any(|c| c.is_running());
            if paused == running {
                events.extend(sla.hold(paused, now, plan.setup()));
            }
        }
        Ok(events)
    }

    /// Writes an updated case; one that moved to another queue is routed there (and takes that
    /// queue's SLA policy) in the same transaction. `None`: the case changed meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn write_update(
        &self,
        org: &Org,
        current: &Case,
        mut next: Case,
        mut events: Vec<NewEvent>,
        actor_id: &str,
        explicit_owner: bool,
        now: Timestamp,
    ) -> Result<Option<Case>> {
        let stale_is_none = |r: std::result::Result<Option<Case>, StoreError>| match r {
            Ok(c) => Ok(c),
            Err(StoreError::Stale) => Ok(None),
            Err(e) => Err(AppError::from(e)),
        };
        if next.queue_id == current.queue_id {
            let written = self.store.update_case(&next, current.version, &events, actor_id).await;
            return stale_is_none(written.map(|()| Some(next)));
        }
        let queue = match &next.queue_id {
            Some(id) => Some(self.store.get_queue(&org.id, id).await?),
            None => None,
        };
        let plan = self.plan_for_queue(org, queue.as_ref()).await?;
        let Some(queue) = queue else {
            events.extend(apply_plan(&mut next, plan.as_ref(), now));
            let written = self.store.update_case(&next, current.version, &events, actor_id).await;
            return stale_is_none(written.map(|()| Some(next)));
        };
        let vip_case = self.is_vip_case(&next, &queue).await?;
        let sla = SlaChange::Apply(plan.as_ref());
        let input = RouteInput { vip_case, sla, reassign: !explicit_owner, record_status: true, now };
        let routed = self
            .store
            .update_case_routed(&org.id, &queue.id, current.version, actor_id, |ctx| {
                let mut w = decide(next, ctx, &input);
                events.append(&mut w.events);
                w.events = events;
                Some(w)
            })
            .await;
        stale_is_none(routed)
    }

    /// What follows a committed change: a freed agent takes waiting cases; a resolved problem
    /// resolves its incidents.
    async fn after_update(&self, current: &Case, next: &Case, actor_id: &str) -> Result<()> {
        // An agent's correction of a category is something the assistant should learn at once.
        if next.category_id != current.category_id {
            self.ai.forget(&next.org_id);
        }
        let freed = current
            .owner_id
            .as_ref()
            .filter(|o| current.status.is_active() && (!next.status.is_active() || next.owner_id.as_ref() != Some(*o)));
        if let Some(owner) = freed {
            self.backfill_for_agent(&next.org_id, owner).await?;
        }
        // Resolving or closing a problem resolves its incidents.
        if next.case_type == CaseType::Problem && !next.status.is_active() && current.status.is_active() {
            self.resolve_incidents(next, actor_id).await?;
        }
        Ok(())
    }

    /// Resolves every active incident of `problem`, each with a timeline entry naming it.
    async fn resolve_incidents(&self, problem: &Case, actor_id: &str) -> Result<()> {
        let actor = Actor { org_id: problem.org_id.clone(), user_id: actor_id.to_string(), role: Role::Admin };
        for incident in self.store.incidents_of(&problem.org_id, &problem.id).await? {
            if !incident.status.is_active() {
                continue;
            }
            let patch = CasePatch {
                status: Some(Status::Resolved),
                resolution_notes: incident
                    .resolution_notes
                    .is_none()
                    .then(|| Some(format!("Resolved with problem #{}", problem.case_number))),
                ..Default::default()
            };
            // Boxed: resolving an incident runs this same update path again.
            match Box::pin(self.update_case(&actor, &incident.id, patch, None)).await {
                Ok(_) | Err(AppError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Escalates a case: moves it to `queue_id` (or its queue's escalation queue), where it is
    /// routed afresh.
    pub async fn escalate_case(
        &self,
        actor: &Actor,
        id: &str,
        queue_id: Option<String>,
        reason: Option<String>,
    ) -> Result<Case> {
        actor.require(Action::WriteCases, "escalate cases")?;
        let case = self.store.get_case(&actor.org_id, id).await?;
        let target = match queue_id {
            Some(q) => q,
            None => {
                let current = match &case.queue_id {
                    Some(q) => self.store.get_queue(&actor.org_id, q).await?,
                    None => {
                        return Err(AppError::field(
                            "queue_id",
                            "the case is in no queue; name the queue to escalate to",
                        ));
                    }
                };
                current.escalation_queue_id.ok_or_else(|| {
                    AppError::field(
                        "queue_id",
                        "the case's queue has no escalation queue; name the queue to escalate to",
                    )
                })?
            }
        };
        if case.queue_id.as_deref() == Some(target.as_str()) {
            return Err(AppError::field("queue_id", "the case is already in that queue"));
        }
        let reason = reason.map(|r| r.trim().chars().take(500).collect::<String>());
        let event = NewEvent {
            kind: CASE_ESCALATED,
            data: json!({ "from_queue_id": case.queue_id, "to_queue_id": target, "reason": reason }),
            created_at: self.clock.now(),
        };
        let patch = CasePatch { queue_id: Some(Some(target)), ..Default::default() };
        self.update_case_with(actor, id, patch, None, &[event]).await
    }

    pub async fn delete_case(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::DeleteCase, "delete cases")?;
        let case = self.store.get_case(&actor.org_id, id).await?;
        self.store.soft_delete_case(&case, self.clock.now(), &actor.user_id).await?;
        if let Some(owner) = case.owner_id.as_deref().filter(|_| case.status.is_active()) {
            self.backfill_for_agent(&actor.org_id, owner).await?;
        }
        Ok(())
    }

    pub async fn list_cases(&self, actor: &Actor, req: &ListRequest) -> Result<Page<CaseListItem>> {
        Ok(self.search_cases(actor, req, None).await?.0)
    }

    /// Lists cases matching `req` and the query `q` (the search syntax of [`query`]); also
    /// returns the query's words, to show where they matched. A query that cannot be read is a
    /// 422 on `q` saying where and why.
    pub async fn search_cases(
        &self,
        actor: &Actor,
        req: &ListRequest,
        q: Option<&str>,
    ) -> Result<(Page<CaseListItem>, Vec<String>)> {
        actor.require(Action::ReadCases, "read cases")?;
        let mut req = req.clone();
        let mut words = Vec::new();
        if let Some(q) = q {
            let parsed = self.query_scope(actor).await?.parse_field(q, "q")?;
            words = req.filter.add_query(parsed);
        }
        if req.filter.milestone_overdue_at.is_some() {
            req.filter.milestone_overdue_at = Some(self.clock.now());
        }
        // A category's default status also stands for cases that name none in that category.
        if let Some(f) = req.filter.custom_status.as_mut() {
            let s = self.named_status(&actor.org_id, &f.id).await?;
            f.default_of = s.is_default.then_some(s.category);
        }
        Ok((self.store.list_cases(&actor.org_id, &req).await?, words))
    }

    /// Where `words` matched each of these cases (see [`search::case_highlights`]); the comments
    /// of the cases whose own text does not match are read in one query.
    pub async fn highlights(
        &self,
        actor: &Actor,
        items: &[CaseListItem],
        words: &[String],
    ) -> Result<Vec<Vec<search::FieldHighlight>>> {
        actor.require(Action::ReadCases, "read cases")?;
        fn text(i: &CaseListItem) -> search::CaseText<'_> {
            search::CaseText {
                subject: &i.case.subject,
                description: &i.case.description,
                contact: i.contact.as_ref().map(|c| c.name.as_str()),
            }
        }
        let own: Vec<Vec<search::FieldHighlight>> =
            items.iter().map(|i| search::case_highlights(text(i), [], words)).collect();
        let unmatched: Vec<String> = items
            .iter()
            .zip(&own)
            .filter(|(_, h)| h.is_empty() && !words.is_empty())
            .map(|(i, _)| i.case.id.clone())
            .collect();
        let comments = self.store.comments_of(&actor.org_id, &unmatched).await?;
        Ok(items
            .iter()
            .zip(own)
            .map(|(i, own)| {
                if !own.is_empty() || !unmatched.contains(&i.case.id) {
                    return own;
                }
                let of_case = comments.iter().filter(|c| c.0 == i.case.id).map(|c| (c.1.as_str(), c.2.as_str()));
                search::case_highlights(text(i), of_case, words)
            })
            .collect())
    }

    /// Adds a reply or note, with files of the case attached.
    pub async fn add_comment(
        &self,
        actor: &Actor,
        case_id: &str,
        input: CommentInput<'_>,
        idem: Option<IdemKey>,
    ) -> Result<Created<Comment>> {
        self.add_comment_sending(actor, case_id, input, idem, None).await
    }

    /// Adds a comment; with `email`, also the message it makes of the comment, written in the
    /// same transaction ("send update").
    pub(crate) async fn add_comment_sending(
        &self,
        actor: &Actor,
        case_id: &str,
        input: CommentInput<'_>,
        idem: Option<IdemKey>,
        email: Option<&crate::email::MessageOfComment<'_>>,
    ) -> Result<Created<Comment>> {
        let CommentInput { body, internal, author_type, file_ids, reply_channel } = input;
        if reply_channel.is_some() && (internal || author_type != AuthorType::Agent) {
            return Err(AppError::field("channel", "only an agent's reply to the customer goes by a channel"));
        }
        actor.require(Action::WriteCases, "comment on cases")?;
        let get = async |id: String| self.store.get_comment(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        for _ in 0..UPDATE_ATTEMPTS {
            let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
            let now = self.clock.now();
            let mut comment = Comment::new(&actor.org_id, &case, &actor.user_id, body, internal, author_type, now)?;
            comment.attachments = self.attachable(&actor.org_id, &case.id, file_ids).await?;
            if email.is_some() {
                // "Send update": the message written with the comment is how it goes out.
                comment.reply_channel = Some(Channel::Email);
            } else if let Some(channel) = reply_channel {
                if let Some(why) = self.reachable(&actor.org_id, &case).await?.refusal(channel) {
                    return Err(AppError::field("channel", why));
                }
                comment.reply_channel = Some(channel);
            }
            let mut next = timeline::case_after_comment(&case, &comment, &actor.user_id);
            let events = self.sla_on_comment(&case, &mut next, &comment).await?;
            self.mark_first_response(&case, &mut next, &comment).await?;
            let rec = self.idem_record(actor, idem.as_ref(), &comment.id, 201);
            let written = match email {
                None => self.store.add_comment(&comment, &next, case.version, &events, rec.as_ref()).await,
                Some(make) => {
                    let message = make(&case, &comment);
                    self.store
                        .add_comment_with_email(&comment, &next, case.version, &events, rec.as_ref(), &message)
                        .await
                }
            };
            match written {
                Ok(()) => {
                    return Ok(Created { value: comment, replayed: false });
                }
                Err(StoreError::Stale) => continue,
                Err(e @ StoreError::Duplicate(_)) => {
                    let get = async |id: String| self.store.get_comment(&actor.org_id, &id).await;
                    return self.settle_create(actor, idem.as_ref(), Err(e), get).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }

    /// An agent's public reply meets the response targets; a customer's message starts the
    /// next-response clock. Internal notes and system messages change nothing.
    async fn sla_on_comment(&self, case: &Case, next: &mut Case, comment: &Comment) -> Result<Vec<NewEvent>> {
        let Some(sla) = next.sla.as_mut() else { return Ok(Vec::new()) };
        let respond = comment.author_type == AuthorType::Agent && !comment.internal;
        let waits = comment.author_type == AuthorType::Customer && case.status.is_active();
        if !respond && !waits {
            return Ok(Vec::new());
        }
        let Some(plan) = self.plan_for_case(case).await? else { return Ok(Vec::new()) };
        let at = comment.created_at;
        Ok(if respond {
            sla.on_agent_reply(at, plan.setup())
        } else {
            sla.on_customer_message(case.priority, case.status, at, plan.setup())
        })
    }

    pub async fn list_comments(&self, actor: &Actor, case_id: &str, page: &PageRequest) -> Result<Page<Comment>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_comments(&actor.org_id, &case.id, page).await?)
    }

    /// The organization's change feed after `after`: every case event, each exactly once, in an
    /// order that never puts a new event behind a cursor already handed out.
    pub async fn event_feed(&self, actor: &Actor, after: Option<&str>, limit: u32) -> Result<FeedPage> {
        actor.require(Action::ReadCases, "read the change feed")?;
        match self.store.event_feed(&actor.org_id, after, limit).await {
            Err(StoreError::InvalidCursor) => Err(AppError::field("after", "is not a cursor this feed issued")),
            other => Ok(other?),
        }
    }

    pub async fn timeline(&self, actor: &Actor, case_id: &str, page: &PageRequest) -> Result<Page<Event>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_events(&actor.org_id, &case.id, page).await?)
    }

    /// Imports historical cases: all of them or, if any is invalid, none (422 naming
    /// `cases[i].field`).
    pub async fn import_cases(
        &self,
        actor: &Actor,
        inputs: Vec<ImportCaseInput>,
        idem: Option<IdemKey>,
    ) -> Result<Created<Vec<ImportedRef>>> {
        actor.require(Action::ImportCases, "import cases")?;
        if inputs.is_empty() || inputs.len() > MAX_IMPORT {
            return Err(AppError::field("cases", format!("must hold 1 to {MAX_IMPORT} cases")));
        }
        if let Some(prev) = self.idem_previous(actor, idem.as_ref()).await? {
            return Ok(Created { value: parse_import_record(&prev.resource_id)?, replayed: true });
        }
        let tz = self.org_time_zone(&actor.org_id).await?;
        let now = self.clock.now();
        let mut out = Vec::with_capacity(inputs.len());
        let mut errors = Errors::new();
        let mut numbers = std::collections::HashSet::new();
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = format!("cases[{i}]");
            let refs = Refs {
                queue_id: input.case.queue_id.as_deref(),
                owner_id: input.case.owner_id.as_deref(),
                requester_id: input.case.requester_id.as_deref(),
                contact_id: input.case.contact_id.as_deref(),
                account_id: input.case.account_id.as_deref(),
                problem_id: input.case.problem_id.as_deref(),
            };
            if let Err(e) = self.check_refs(&actor.org_id, refs).await {
                push_prefixed(&mut errors, &prefix, e)?;
                continue;
            }
            let created_by = input.created_by.clone().unwrap_or_else(|| actor.user_id.clone());
            let ctx = Ctx { org_id: &actor.org_id, actor_id: &created_by, now, tz: &tz };
            let mut case = match case::import(input.case, input.times, &ctx) {
                Ok(c) => c,
                Err(e) => {
                    push_prefixed(&mut errors, &prefix, e.into())?;
                    continue;
                }
            };
            if let Some(n) = input.case_number {
                if n < 1 || !numbers.insert(n) {
                    errors.add(format!("{prefix}.case_number"), "must be a positive number, unique in the import");
                }
                case.case_number = n;
            }
            let mut comments = Vec::with_capacity(input.comments.len());
            for (j, c) in input.comments.into_iter().enumerate() {
                let author = c.author_id.unwrap_or_else(|| created_by.clone());
                match Comment::historical(&actor.org_id, &case.id, &author, &c.body, c.internal, c.created_at) {
                    Ok(comment) => comments.push(comment),
                    Err(e) => push_prefixed(&mut errors, &format!("{prefix}.comments[{j}]"), e.into())?,
                }
            }
            out.push(ImportedCase { case, comments });
        }
        errors.finish()?;
        // The store fills the record's resource_id with the numbered cases it created.
        let rec = self.idem_record(actor, idem.as_ref(), "", 201);
        match self.store.import_cases(&actor.org_id, &out, &actor.user_id, rec.as_ref()).await {
            Ok(cases) => Ok(Created {
                value: cases.into_iter().map(|c| ImportedRef { id: c.id, case_number: c.case_number }).collect(),
                replayed: false,
            }),
            Err(StoreError::Duplicate(_)) => Err(AppError::Conflict {
                code: "case_number_taken",
                message: "a kept case_number is already used in this organization, or the import was already done"
                    .into(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

fn ref_kind(k: IdKind) -> RefKind {
    match k {
        IdKind::Queue => RefKind::Queue,
        IdKind::Contact => RefKind::Contact,
        IdKind::Account => RefKind::Account,
        IdKind::Case => RefKind::Case,
        _ => RefKind::User,
    }
}

/// What an import created, case by case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRef {
    pub id: String,
    pub case_number: i64,
}

/// Reads the `id:number,…` list an import's idempotency record keeps.
fn parse_import_record(s: &str) -> Result<Vec<ImportedRef>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (id, n) = p.split_once(':').ok_or_else(|| AppError::Internal(format!("bad import record {p:?}")))?;
            let case_number = n.parse().map_err(|_| AppError::Internal(format!("bad import record {p:?}")))?;
            Ok(ImportedRef { id: id.to_string(), case_number })
        })
        .collect()
}

/// Files a nested validation error under `prefix` (`cases[3].subject`); other errors abort.
fn push_prefixed(errors: &mut Errors, prefix: &str, e: AppError) -> Result<()> {
    match e {
        AppError::Validation(fields) => {
            for f in fields {
                errors.add(format!("{prefix}.{}", f.field), f.message);
            }
            Ok(())
        }
        other => Err(other),
    }
}
