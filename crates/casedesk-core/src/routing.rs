//! Routing use cases: a case entering a queue gets an assignee and the queue's SLA policy in the
//! transaction that writes it; cases nobody could take wait and are handed out, most urgent and
//! oldest first, as soon as someone becomes eligible.

use casedesk_domain::case::{Case, Status};
use casedesk_domain::case_sla::{CaseSla, SLA_REMOVED};
use casedesk_domain::queue::AssignmentMethod;
use casedesk_domain::routing::{self, Request};
use casedesk_domain::timeline::NewEvent;
use casedesk_store::{RouteContext, RoutedWrite, StoreError};
use jiff::Timestamp;
use serde_json::json;

use crate::sla::SlaPlan;
use crate::{App, Result};

pub const CASE_ASSIGNED: &str = "case.assigned";
pub const CASE_QUEUED: &str = "case.queued";
pub const CASE_ESCALATED: &str = "case.escalated";

/// Cases of one queue's backlog looked at per round.
const BACKLOG_PAGE: i64 = 50;

/// What routing a case needs besides the queue's snapshot.
pub(crate) struct RouteInput<'a> {
    /// The case's account has one of the queue's VIP tiers.
    pub vip_case: bool,
    /// The SLA the queue applies; `Keep` leaves the case's clocks alone (backfill).
    pub sla: SlaChange<'a>,
    /// Route even if the case has an owner (escalation); otherwise only unassigned cases are.
    pub reassign: bool,
    pub now: Timestamp,
}

pub(crate) enum SlaChange<'a> {
    Keep,
    /// Follow this plan (or none), starting clocks from the case's creation if the policy is new.
    Apply(Option<&'a SlaPlan>),
}

/// Routes `case` into `ctx.queue`: VIP priority, assignee, SLA clocks, and the timeline entries.
pub(crate) fn decide(mut case: Case, ctx: &RouteContext, input: &RouteInput<'_>) -> RoutedWrite {
    let now = input.now;
    let queue = &ctx.queue;
    let mut events = Vec::new();
    if input.vip_case
        && let Some(p) = queue.vip_priority
        && p != case.priority
    {
        events.push(NewEvent {
            kind: casedesk_domain::timeline::FIELD_CHANGED,
            data: json!({ "field": "priority", "old": case.priority.as_str(), "new": p.as_str(), "reason": "VIP account" }),
            created_at: now,
        });
        case.priority = p;
    }
    let mut assigned = None;
    if (case.owner_id.is_none() || input.reassign) && case.status.is_active() {
        let request = Request {
            method: queue.assignment_method,
            members: &ctx.members,
            last_turn: ctx.last_turn.as_deref(),
            required_skills: &case.required_skills,
            vip_case: input.vip_case,
        };
        match routing::route(&request) {
            Ok(a) => {
                events.push(NewEvent {
                    kind: CASE_ASSIGNED,
                    data: json!({
                        "owner_id": a.user_id,
                        "previous_owner_id": case.owner_id,
                        "queue_id": queue.id,
                        "method": queue.assignment_method.as_str(),
                        "reason": a.reason,
                    }),
                    created_at: now,
                });
                if case.status == Status::New {
                    case.status = Status::Open;
                }
                case.owner_id = Some(a.user_id.clone());
                assigned = Some(a.user_id);
            }
            Err(reason) => {
                if input.reassign {
                    case.owner_id = None;
                }
                if queue.assignment_method != AssignmentMethod::Manual {
                    events.push(NewEvent {
                        kind: CASE_QUEUED,
                        data: json!({ "queue_id": queue.id, "method": queue.assignment_method.as_str(), "reason": reason }),
                        created_at: now,
                    });
                }
            }
        }
    }
    if let SlaChange::Apply(plan) = input.sla {
        events.extend(apply_plan(&mut case, plan, now));
    }
    RoutedWrite { case, events, assigned }
}

/// Puts the case under `plan`: unchanged if it already follows that policy; otherwise the old
/// clocks go and the new policy's start from the case's creation (a first response already given
/// is not timed again).
pub(crate) fn apply_plan(case: &mut Case, plan: Option<&SlaPlan>, now: Timestamp) -> Vec<NewEvent> {
    let current = case.sla.as_ref().map(|s| s.policy_id.as_deref());
    let wanted = plan.map(|p| p.policy_id.as_deref());
    if current == wanted {
        return Vec::new();
    }
    let responded = case
        .sla
        .as_ref()
        .and_then(|s| s.clock(casedesk_domain::sla::TargetKind::FirstResponse))
        .is_some_and(|c| c.met_at.is_some());
    let mut events = Vec::new();
    if let Some(old) = case.sla.take() {
        events.push(NewEvent { kind: SLA_REMOVED, data: json!({ "policy_id": old.policy_id }), created_at: now });
    }
    if let Some(plan) = plan {
        let (sla, started) = CaseSla::start(plan.setup(), case.priority, case.status, case.created_at, responded, now);
        case.sla = Some(sla);
        events.extend(started);
    }
    events
}

impl App {
    /// Whether the case's account is VIP in the queue.
    pub(crate) async fn is_vip_case(&self, case: &Case, queue: &casedesk_domain::queue::Queue) -> Result<bool> {
        let Some(account_id) = &case.account_id else { return Ok(false) };
        match self.store.get_account(&case.org_id, account_id).await {
            Ok(a) => Ok(queue.is_vip_tier(a.tier.as_deref())),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Hands out `queue_id`'s waiting cases, most urgent then oldest first, for as long as
    /// someone can take them. Returns how many were assigned.
    pub async fn backfill_queue(&self, org_id: &str, queue_id: &str) -> Result<usize> {
        let queue = match self.store.get_queue(org_id, queue_id).await {
            Ok(q) => q,
            Err(StoreError::NotFound) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        if queue.assignment_method == AssignmentMethod::Manual {
            return Ok(0);
        }
        let mut assigned = 0;
        loop {
            let backlog = self.store.unassigned_cases(org_id, queue_id, BACKLOG_PAGE).await?;
            let mut progress = 0;
            for case_id in &backlog {
                if self.assign_waiting(org_id, &queue, case_id).await? {
                    progress += 1;
                }
            }
            assigned += progress;
            // Nobody could take anything on this page: the rest waits for the next change.
            if progress == 0 || (backlog.len() as i64) < BACKLOG_PAGE {
                return Ok(assigned);
            }
        }
    }

    /// Hands out the waiting cases of every queue `user_id` works in (they came back, were
    /// given room, or finished a case).
    pub async fn backfill_for_agent(&self, org_id: &str, user_id: &str) -> Result<usize> {
        let mut assigned = 0;
        for queue_id in self.store.queues_waiting_for(org_id, user_id).await? {
            assigned += self.backfill_queue(org_id, &queue_id).await?;
        }
        Ok(assigned)
    }

    /// Routes one waiting case if it still waits; whether it got an assignee.
    async fn assign_waiting(&self, org_id: &str, queue: &casedesk_domain::queue::Queue, case_id: &str) -> Result<bool> {
        for _ in 0..3 {
            let case = match self.store.get_case_for_update(org_id, case_id).await {
                Ok(c) => c,
                Err(StoreError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            if case.owner_id.is_some() || !case.status.is_active() || case.queue_id.as_deref() != Some(&queue.id) {
                return Ok(false);
            }
            let vip_case = self.is_vip_case(&case, queue).await?;
            let now = self.clock.now();
            let input = RouteInput { vip_case, sla: SlaChange::Keep, reassign: false, now };
            let version = case.version;
            let actor = case.updated_by.clone();
            let written = self
                .store
                .update_case_routed(org_id, &queue.id, version, &actor, |ctx| {
                    let mut w = decide(case, ctx, &input);
                    w.assigned.as_ref()?;
                    // Only the assignment is recorded: "queued again" is noise on a backlog pass.
                    w.events.retain(|e| e.kind != CASE_QUEUED);
                    w.case.version = version + 1;
                    w.case.updated_at = now.max(w.case.updated_at);
                    Some(w)
                })
                .await;
            match written {
                Ok(Some(_)) => return Ok(true),
                Ok(None) => return Ok(false),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }
}
