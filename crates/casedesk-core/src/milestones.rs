//! Milestones of cases, the templates queues give their new cases, and the overdue sweep.

use casedesk_domain::Errors;
use casedesk_domain::calendar::BusinessCalendar;
use casedesk_domain::case::Case;
use casedesk_domain::ids::IdKind;
use casedesk_domain::milestone::{self, Milestone, MilestoneState, MilestoneTemplate, Target};
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;
use serde_json::json;

use crate::{Actor, App, AppError, Result};

pub const MILESTONE_ADDED: &str = "milestone.added";
pub const MILESTONE_COMPLETED: &str = "milestone.completed";
pub const MILESTONE_REMOVED: &str = "milestone.removed";
pub const MILESTONE_OVERDUE: &str = "milestone.overdue";
const SWEEP_BATCH: i64 = 200;
/// Most milestones on one case.
pub const MAX_MILESTONES: usize = 50;

/// A milestone as requested.
#[derive(Debug, Clone, Default)]
pub struct MilestoneInput {
    pub name: Option<String>,
    pub after_start_minutes: Option<i64>,
    pub after_previous_minutes: Option<i64>,
    pub due_at: Option<Timestamp>,
    pub position: Option<i64>,
    /// `true` completes it, `false` reopens it.
    pub completed: Option<bool>,
}

/// Milestone `id` of a case's ordered milestones, with its state at `now`.
fn state_of(ms: &[Milestone], id: &str, now: Timestamp) -> Result<(Milestone, MilestoneState)> {
    let states = milestone::states(ms, now);
    ms.iter()
        .zip(states)
        .find(|(m, _)| m.id == id)
        .map(|(m, s)| (m.clone(), s))
        .ok_or_else(|| AppError::Internal(format!("milestone {id} lost while saving")))
}

fn event(kind: &'static str, m: &Milestone, at: Timestamp) -> NewEvent {
    NewEvent {
        kind,
        data: json!({ "milestone_id": m.id, "name": m.name, "due_at": m.due_at.map(|t| t.to_string()) }),
        created_at: at,
    }
}

impl App {
    /// The calendar a case's milestones count in: its queue's, or around the clock.
    async fn milestone_calendar(&self, case: &Case) -> Result<BusinessCalendar> {
        let Some(queue_id) = &case.queue_id else { return Ok(BusinessCalendar::always()) };
        let queue = self.store.get_queue(&case.org_id, queue_id).await?;
        match &queue.calendar_id {
            Some(id) => Ok(self.store.get_calendar(&case.org_id, id).await?.calendar),
            None => Ok(BusinessCalendar::always()),
        }
    }

    /// A case's milestones in order, each with its state now.
    pub async fn list_milestones(&self, actor: &Actor, case_id: &str) -> Result<Vec<(Milestone, MilestoneState)>> {
        let case = self.get_case(actor, case_id).await?;
        let ms = self.store.list_milestones(&actor.org_id, &case.id).await?;
        let states = milestone::states(&ms, self.clock.now());
        Ok(ms.into_iter().zip(states).collect())
    }

    /// `ms` in order with their due times computed in the case's calendar.
    async fn scheduled(&self, case: &Case, mut ms: Vec<Milestone>) -> Result<Vec<Milestone>> {
        let cal = self.milestone_calendar(case).await?;
        milestone::schedule(&mut ms, case.created_at, &cal);
        Ok(ms)
    }

    /// Re-schedules `ms` and writes them with `events`; returns them as written.
    async fn save_milestones(
        &self,
        case: &Case,
        ms: Vec<Milestone>,
        events: Vec<NewEvent>,
        actor_id: &str,
    ) -> Result<Vec<Milestone>> {
        let ms = self.scheduled(case, ms).await?;
        self.store.put_milestones(&ms, &events, actor_id).await?;
        Ok(ms)
    }

    pub async fn add_milestone(
        &self,
        actor: &Actor,
        case_id: &str,
        input: MilestoneInput,
    ) -> Result<(Milestone, MilestoneState)> {
        actor.require(Action::WriteCases, "add milestones")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let mut errors = Errors::new();
        let name = match &input.name {
            Some(n) => milestone::check_name(n, "name", &mut errors),
            None => {
                errors.add("name", "is required");
                None
            }
        };
        let target =
            Target::from_input(input.after_start_minutes, input.after_previous_minutes, input.due_at, "", &mut errors);
        errors.finish()?;
        let mut ms = self.store.list_milestones(&actor.org_id, &case.id).await?;
        if ms.len() >= MAX_MILESTONES {
            return Err(AppError::field("name", format!("a case has at most {MAX_MILESTONES} milestones")));
        }
        let position = match input.position {
            Some(p) => milestone::check_position(p)?,
            None => ms.iter().map(|m| m.position).max().unwrap_or(0) + 1,
        };
        let now = self.clock.now();
        let (Some(name), Some(target)) = (name, target) else {
            return Err(AppError::Internal("validated milestone fields missing".into()));
        };
        let m = Milestone {
            id: IdKind::Milestone.new_id(),
            org_id: actor.org_id.clone(),
            case_id: case.id.clone(),
            name,
            position,
            target,
            due_at: None,
            completed_at: None,
            completed_by: None,
            overdue_at: None,
            created_at: now,
            updated_at: now,
        };
        let id = m.id.clone();
        ms.push(m);
        let ms = self.scheduled(&case, ms).await?;
        let (added, state) = state_of(&ms, &id, now)?;
        self.store.put_milestones(&ms, &[event(MILESTONE_ADDED, &added, now)], &actor.user_id).await?;
        Ok((added, state))
    }

    /// Renames, moves, completes or reopens a milestone; the ones after it are re-timed.
    pub async fn update_milestone(
        &self,
        actor: &Actor,
        id: &str,
        input: MilestoneInput,
    ) -> Result<(Milestone, MilestoneState)> {
        actor.require(Action::WriteCases, "change milestones")?;
        let current = self.store.get_milestone(&actor.org_id, id).await?;
        let case = self.store.get_case(&actor.org_id, &current.case_id).await?;
        let mut ms = self.store.list_milestones(&actor.org_id, &case.id).await?;
        let now = self.clock.now();
        let mut errors = Errors::new();
        let mut events = Vec::new();
        let Some(m) = ms.iter_mut().find(|m| m.id == id) else { return Err(AppError::NotFound) };
        if let Some(n) = &input.name
            && let Some(n) = milestone::check_name(n, "name", &mut errors)
        {
            m.name = n;
        }
        if let Some(p) = input.position {
            match milestone::check_position(p) {
                Ok(p) => m.position = p,
                Err(_) => errors.add("position", "must be 0 to 1000"),
            }
        }
        if input.after_start_minutes.is_some() || input.after_previous_minutes.is_some() || input.due_at.is_some() {
            let t = Target::from_input(
                input.after_start_minutes,
                input.after_previous_minutes,
                input.due_at,
                "",
                &mut errors,
            );
            if let Some(t) = t {
                m.target = t;
                m.overdue_at = None;
            }
        }
        match input.completed {
            Some(true) if m.completed_at.is_none() => {
                m.completed_at = Some(now);
                m.completed_by = Some(actor.user_id.clone());
                events.push(event(MILESTONE_COMPLETED, m, now));
            }
            Some(false) => {
                m.completed_at = None;
                m.completed_by = None;
                m.overdue_at = None;
            }
            _ => {}
        }
        m.updated_at = now;
        errors.finish()?;
        let ms = self.save_milestones(&case, ms, events, &actor.user_id).await?;
        state_of(&ms, id, now)
    }

    pub async fn delete_milestone(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::WriteCases, "remove milestones")?;
        let m = self.store.get_milestone(&actor.org_id, id).await?;
        self.store.delete_milestone(&m, &event(MILESTONE_REMOVED, &m, self.clock.now()), &actor.user_id).await?;
        // The ones after it count from the one before it now.
        let case = self.store.get_case(&actor.org_id, &m.case_id).await?;
        let rest = self.store.list_milestones(&actor.org_id, &case.id).await?;
        if !rest.is_empty() {
            self.save_milestones(&case, rest, Vec::new(), &actor.user_id).await?;
        }
        Ok(())
    }

    // ---- templates ---------------------------------------------------------------------------

    pub async fn list_templates(&self, actor: &Actor, queue_id: &str) -> Result<Vec<MilestoneTemplate>> {
        actor.require(Action::ReadCases, "read queues")?;
        self.store.get_queue(&actor.org_id, queue_id).await?;
        Ok(self.store.list_templates(&actor.org_id, queue_id).await?)
    }

    /// Replaces a queue's milestone templates (durations only: a template has no fixed date).
    pub async fn put_templates(
        &self,
        actor: &Actor,
        queue_id: &str,
        inputs: Vec<MilestoneInput>,
    ) -> Result<Vec<MilestoneTemplate>> {
        actor.require(Action::ManageQueues, "change queue milestones")?;
        self.store.get_queue(&actor.org_id, queue_id).await?;
        if inputs.len() > MAX_MILESTONES {
            return Err(AppError::field("milestones", format!("at most {MAX_MILESTONES}")));
        }
        let mut errors = Errors::new();
        let now = self.clock.now();
        let mut out = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = format!("milestones[{i}].");
            let name = match &input.name {
                Some(n) => milestone::check_name(n, &format!("{prefix}name"), &mut errors),
                None => {
                    errors.add(format!("{prefix}name"), "is required");
                    None
                }
            };
            if input.due_at.is_some() {
                errors.add(format!("{prefix}due_at"), "a template has durations only");
            }
            let target =
                Target::from_input(input.after_start_minutes, input.after_previous_minutes, None, &prefix, &mut errors);
            if let (Some(name), Some(target)) = (name, target) {
                out.push(MilestoneTemplate {
                    id: IdKind::MilestoneTemplate.new_id(),
                    org_id: actor.org_id.clone(),
                    queue_id: queue_id.to_string(),
                    name,
                    position: i as i64 + 1,
                    target,
                    created_at: now,
                });
            }
        }
        errors.finish()?;
        self.store.replace_templates(&actor.org_id, queue_id, &out).await?;
        Ok(out)
    }

    /// Gives a new case its queue's milestones.
    pub(crate) async fn apply_templates(&self, case: &Case) -> Result<()> {
        let Some(queue_id) = &case.queue_id else { return Ok(()) };
        let templates = self.store.list_templates(&case.org_id, queue_id).await?;
        if templates.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let ms: Vec<Milestone> = templates
            .iter()
            .map(|t| Milestone {
                id: IdKind::Milestone.new_id(),
                org_id: case.org_id.clone(),
                case_id: case.id.clone(),
                name: t.name.clone(),
                position: t.position,
                target: t.target,
                due_at: None,
                completed_at: None,
                completed_by: None,
                overdue_at: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        let events = vec![NewEvent {
            kind: MILESTONE_ADDED,
            data: json!({ "from_queue": queue_id, "names": names }),
            created_at: now,
        }];
        self.save_milestones(case, ms, events, &case.created_by).await.map(|_| ())
    }

    /// Flags milestones whose due time has passed (once each, whichever instance gets there
    /// first); returns how many.
    pub async fn sweep_milestones(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut flagged = 0;
        for m in self.store.milestones_due(now, SWEEP_BATCH).await? {
            if self.store.mark_overdue(&m, now, &event(MILESTONE_OVERDUE, &m, now)).await? {
                flagged += 1;
            }
        }
        Ok(flagged)
    }
}
