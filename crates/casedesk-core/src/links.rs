//! Links between cases, closing a case as a duplicate, and merging cases.

use casedesk_domain::case::{Case, CasePatch, Ctx, Status};
use casedesk_domain::ids::IdKind;
use casedesk_domain::links::{self, CaseLink, LinkType};
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{self, AuthorType, NewEvent};
use casedesk_store::StoreError;
use jiff::tz::TimeZone;
use serde_json::json;

use crate::error::named;
use crate::{Actor, App, AppError, Result};

pub const LINK_ADDED: &str = "link.added";
pub const LINK_REMOVED: &str = "link.removed";
pub const CASE_MERGED: &str = "case.merged";
pub const CASE_MERGED_INTO: &str = "case.merged_into";

const MERGE_ATTEMPTS: usize = 3;

fn link_event(kind: &'static str, link: &CaseLink, end: &str, now: jiff::Timestamp) -> NewEvent {
    let (other, t) = link.seen_from(end);
    NewEvent { kind, data: json!({ "link_id": link.id, "type": t.as_str(), "case_id": other }), created_at: now }
}

impl App {
    /// A case of the actor's organization named in a request body: a 422 on `field` if missing.
    async fn named_case(&self, org_id: &str, field: &str, id: &str) -> Result<Case> {
        named(self.store.get_case_for_update(org_id, id).await, field, "case", id)
    }

    pub async fn list_links(&self, actor: &Actor, case_id: &str) -> Result<Vec<(CaseLink, Case)>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_links(&actor.org_id, &case.id).await?)
    }

    /// Links `case_id` to `other_id` (`type` as seen from `case_id`); both timelines record it.
    pub async fn add_link(
        &self,
        actor: &Actor,
        case_id: &str,
        link_type: &str,
        other_id: &str,
    ) -> Result<(CaseLink, Case)> {
        actor.require(Action::WriteCases, "link cases")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let t = LinkType::parse(link_type).map_err(|m| AppError::field("type", m))?;
        if other_id == case.id {
            return Err(AppError::field("case_id", "a case cannot be linked to itself"));
        }
        let other = self.named_case(&actor.org_id, "case_id", other_id).await?;
        let (from, to, kind) = t.stored(&case.id, &other.id);
        let now = self.clock.now();
        let link = CaseLink {
            id: IdKind::Link.new_id(),
            org_id: actor.org_id.clone(),
            from_case_id: from.to_string(),
            to_case_id: to.to_string(),
            kind,
            created_by: actor.user_id.clone(),
            created_at: now,
        };
        let from_event = link_event(LINK_ADDED, &link, &link.from_case_id, now);
        let to_event = link_event(LINK_ADDED, &link, &link.to_case_id, now);
        match self.store.insert_link(&link, &from_event, &to_event).await {
            Ok(()) => Ok((link, other)),
            Err(StoreError::Duplicate(_)) => {
                Err(AppError::Conflict { code: "link_exists", message: "the cases are already linked so".into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn remove_link(&self, actor: &Actor, case_id: &str, link_id: &str) -> Result<()> {
        actor.require(Action::WriteCases, "unlink cases")?;
        let link = self.store.get_link(&actor.org_id, link_id).await?;
        if link.from_case_id != case_id && link.to_case_id != case_id {
            return Err(AppError::NotFound);
        }
        let now = self.clock.now();
        let from_event = link_event(LINK_REMOVED, &link, &link.from_case_id, now);
        let to_event = link_event(LINK_REMOVED, &link, &link.to_case_id, now);
        Ok(self.store.delete_link(&link, &actor.user_id, &from_event, &to_event).await?)
    }

    /// Closes a case as a duplicate of `of`: links them, closes it with a note pointing there,
    /// and, if asked, tells the requester in a public reply.
    pub async fn close_as_duplicate(
        &self,
        actor: &Actor,
        case_id: &str,
        of: &str,
        note: Option<String>,
        notify_requester: bool,
    ) -> Result<Case> {
        actor.require(Action::WriteCases, "close cases as duplicates")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        if case.is_closed() {
            return Err(AppError::Conflict {
                code: casedesk_domain::case::CASE_CLOSED,
                message: format!("case #{} is closed already", case.case_number),
            });
        }
        let original = self.named_case(&actor.org_id, "of", of).await?;
        match self.add_link(actor, case_id, "duplicate_of", &original.id).await {
            Ok(_) | Err(AppError::Conflict { code: "link_exists", .. }) => {}
            Err(AppError::Validation(mut f)) => {
                f.iter_mut().filter(|e| e.field == "case_id").for_each(|e| e.field = "of".into());
                return Err(AppError::Validation(f));
            }
            Err(e) => return Err(e),
        }
        let pointer = format!("Duplicate of #{}", original.case_number);
        if notify_requester {
            let body = format!(
                "This request duplicates case #{} ({}); we continue there.",
                original.case_number, original.subject
            );
            let reply = crate::cases::CommentInput {
                body: &body,
                internal: false,
                author_type: AuthorType::Agent,
                file_ids: &[],
                reply_channel: None,
            };
            self.add_comment(actor, case_id, reply, None).await?;
        }
        let notes = match note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
            Some(n) => format!("{pointer}: {n}"),
            None => pointer,
        };
        let patch =
            CasePatch { status: Some(Status::Closed), resolution_notes: Some(Some(notes)), ..Default::default() };
        self.update_case(actor, case_id, patch, None).await
    }

    /// Merges `source_ids` into `target_id`: their comments and links move to the target with
    /// their original times and authors; each source is closed as merged, pointing at the target;
    /// both timelines say what happened. All or nothing.
    pub async fn merge_cases(&self, actor: &Actor, target_id: &str, source_ids: &[String]) -> Result<Case> {
        actor.require(Action::WriteCases, "merge cases")?;
        for _ in 0..MERGE_ATTEMPTS {
            let target = self.store.get_case_for_update(&actor.org_id, target_id).await?;
            let mut sources = Vec::with_capacity(source_ids.len());
            for (i, id) in source_ids.iter().enumerate() {
                sources.push(self.named_case(&actor.org_id, &format!("source_ids[{i}]"), id).await?);
            }
            links::check_merge(&target, &sources)?;
            let now = self.clock.now();
            let ctx = Ctx { org_id: &actor.org_id, actor_id: &actor.user_id, now, tz: &TimeZone::UTC };
            let mut writes = Vec::with_capacity(sources.len());
            for s in &sources {
                let patch = CasePatch {
                    status: Some(Status::Closed),
                    resolution_notes: Some(Some(format!("Merged into #{}", target.case_number))),
                    ..Default::default()
                };
                let (mut next, changes) = s.apply(patch, &ctx)?;
                next.merged_into_id = Some(target.id.clone());
                let mut events = timeline::changes(&changes, now);
                events.extend(self.sla_transitions(s, &mut next, now).await?);
                self.mark_resolution(s, &mut next).await?;
                events.push(NewEvent {
                    kind: CASE_MERGED_INTO,
                    data: json!({ "target_id": target.id, "target_case_number": target.case_number }),
                    created_at: now,
                });
                writes.push((next, s.version, events));
            }
            // The target takes a contact when it has none (the first source's).
            let mut next_target = target.clone();
            let mut target_events = Vec::new();
            if next_target.contact_id.is_none()
                && let Some(s) = sources.iter().find(|s| s.contact_id.is_some())
            {
                next_target.contact_id.clone_from(&s.contact_id);
                if next_target.account_id.is_none() {
                    next_target.account_id.clone_from(&s.account_id);
                }
                target_events.push(NewEvent {
                    kind: timeline::FIELD_CHANGED,
                    data: json!({ "field": "contact_id", "old": null, "new": s.contact_id }),
                    created_at: now,
                });
            }
            let merged: Vec<_> = sources
                .iter()
                .map(|s| json!({ "id": s.id, "case_number": s.case_number, "requester_id": s.requester_id, "contact_id": s.contact_id }))
                .collect();
            target_events.push(NewEvent { kind: CASE_MERGED, data: json!({ "sources": merged }), created_at: now });
            next_target.version = target.version + 1;
            next_target.updated_at = now;
            next_target.updated_by = actor.user_id.clone();
            let target_write = (next_target, target.version, target_events);
            match self.store.merge_cases(&target_write, &writes, &actor.user_id).await {
                Ok(()) => return Ok(target_write.0),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }
}
