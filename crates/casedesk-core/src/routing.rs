//! Routing use cases: a case entering a queue gets an assignee and the queue's SLA policy in the
//! transaction that writes it; cases nobody could take wait and are handed out, most urgent and
//! oldest first, as soon as someone becomes eligible.

use std::collections::HashSet;

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

/// What became of one waiting case on a backlog pass.
enum Waiting {
    Assigned,
    /// Left waiting for its own reasons (skills nobody eligible has; or it no longer waits).
    Passed,
    /// Nobody in the queue takes cases now (all away, offline, full or deactivated): the rest
    /// of the backlog would find nobody either.
    NobodyEligible,
}

/// What routing a case needs besides the queue's snapshot.
pub(crate) struct RouteInput<'a> {
    /// The case's account has one of the queue's VIP tiers.
    pub vip_case: bool,
    /// The SLA the queue applies; `Keep` leaves the case's clocks alone (backfill).
    pub sla: SlaChange<'a>,
    /// Route even if the case has an owner (escalation); otherwise only unassigned cases are.
    pub reassign: bool,
    /// The case exists already: a change of status is a timeline entry of its own.
    pub record_status: bool,
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
    let mut vip_raised = false;
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
        vip_raised = true;
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
                    case.custom_status_id = None;
                    // A new case's `created` entry already shows where it starts.
                    if input.record_status {
                        events.push(NewEvent {
                            kind: casedesk_domain::timeline::STATUS_CHANGED,
                            data: json!({ "field": "status", "old": "new", "new": "open" }),
                            created_at: now,
                        });
                    }
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
        // Same policy as before (so `apply_plan` keeps the clocks) but the VIP priority: the
        // clocks take that priority's targets, as for any priority change.
        if vip_raised
            && let (Some(sla), Some(plan)) = (case.sla.as_mut(), plan)
            && sla.policy_id == plan.policy_id
        {
            events.extend(sla.on_priority(case.priority, now, plan.setup()));
        }
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
        // Cases looked at and left waiting (they need skills no eligible member has, or changed
        // meanwhile). They stay at the head of the backlog, so each round reads past them rather
        // than letting them hold up the cases behind.
        let mut passed: HashSet<String> = HashSet::new();
        loop {
            let limit = passed.len() as i64 + BACKLOG_PAGE;
            let backlog = self.store.unassigned_cases(org_id, queue_id, limit).await?;
            let fresh: Vec<String> = backlog.iter().filter(|id| !passed.contains(*id)).cloned().collect();
            for case_id in fresh {
                match self.assign_waiting(org_id, &queue, &case_id).await? {
                    Waiting::Assigned => assigned += 1,
                    // The rest waits for the next change.
                    Waiting::NobodyEligible => return Ok(assigned),
                    Waiting::Passed => {
                        passed.insert(case_id);
                    }
                }
            }
            if (backlog.len() as i64) < limit {
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

    /// Routes one waiting case if it still waits.
    async fn assign_waiting(
        &self,
        org_id: &str,
        queue: &casedesk_domain::queue::Queue,
        case_id: &str,
    ) -> Result<Waiting> {
        for _ in 0..3 {
            let case = match self.store.get_case_for_update(org_id, case_id).await {
                Ok(c) => c,
                Err(StoreError::NotFound) => return Ok(Waiting::Passed),
                Err(e) => return Err(e.into()),
            };
            if case.owner_id.is_some() || !case.status.is_active() || case.queue_id.as_deref() != Some(&queue.id) {
                return Ok(Waiting::Passed);
            }
            let vip_case = self.is_vip_case(&case, queue).await?;
            let now = self.clock.now();
            let input = RouteInput { vip_case, sla: SlaChange::Keep, reassign: false, record_status: true, now };
            let version = case.version;
            let actor = case.updated_by.clone();
            let mut nobody = false;
            let written = self
                .store
                .update_case_routed(org_id, &queue.id, version, &actor, |ctx| {
                    let mut w = decide(case, ctx, &input);
                    if w.assigned.is_none() {
                        nobody = !ctx.members.iter().any(routing::takes_cases);
                        return None;
                    }
                    // Only the assignment is recorded: "queued again" is noise on a backlog pass.
                    w.events.retain(|e| e.kind != CASE_QUEUED);
                    w.case.version = version + 1;
                    w.case.updated_at = now.max(w.case.updated_at);
                    Some(w)
                })
                .await;
            match written {
                Ok(Some(_)) => return Ok(Waiting::Assigned),
                Ok(None) if nobody => return Ok(Waiting::NobodyEligible),
                Ok(None) => return Ok(Waiting::Passed),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Waiting::Passed)
    }
}
