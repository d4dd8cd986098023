//! Milestones of a case (seed 003): named targets a case should reach in order, each due a
//! business duration after the case's start or after the previous milestone, or at a fixed time.

use jiff::Timestamp;

use crate::calendar::BusinessCalendar;
use crate::error::{DomainError, Errors};
use crate::text;

/// When a milestone is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Business minutes after the case was created.
    AfterStart(i64),
    /// Business minutes after the previous milestone (completed, or else due).
    AfterPrevious(i64),
    At(Timestamp),
}

/// Longest milestone duration: a year of minutes.
pub const MAX_MINUTES: i64 = 525_600;

impl Target {
    pub const fn kind(self) -> &'static str {
        match self {
            Target::AfterStart(_) => "after_start",
            Target::AfterPrevious(_) => "after_previous",
            Target::At(_) => "at",
        }
    }

    pub const fn minutes(self) -> Option<i64> {
        match self {
            Target::AfterStart(m) | Target::AfterPrevious(m) => Some(m),
            Target::At(_) => None,
        }
    }

    pub const fn at(self) -> Option<Timestamp> {
        match self {
            Target::At(t) => Some(t),
            _ => None,
        }
    }

    /// From the stored columns.
    pub fn from_parts(kind: &str, minutes: Option<i64>, at: Option<Timestamp>) -> Result<Target, String> {
        match (kind, minutes, at) {
            ("after_start", Some(m), _) => Ok(Target::AfterStart(m)),
            ("after_previous", Some(m), _) => Ok(Target::AfterPrevious(m)),
            ("at", _, Some(t)) => Ok(Target::At(t)),
            _ => Err(format!("bad milestone target {kind:?}")),
        }
    }

    /// From an API request: exactly one of `after_start_minutes`, `after_previous_minutes`,
    /// `due_at`; errors on `prefix.<field>`.
    pub fn from_input(
        after_start: Option<i64>,
        after_previous: Option<i64>,
        at: Option<Timestamp>,
        prefix: &str,
        errors: &mut Errors,
    ) -> Option<Target> {
        let check = |m: i64, field: &str, errors: &mut Errors| {
            if (1..=MAX_MINUTES).contains(&m) {
                Some(m)
            } else {
                errors.add(format!("{prefix}{field}"), format!("must be 1 to {MAX_MINUTES} minutes"));
                None
            }
        };
        match (after_start, after_previous, at) {
            (Some(m), None, None) => check(m, "after_start_minutes", errors).map(Target::AfterStart),
            (None, Some(m), None) => check(m, "after_previous_minutes", errors).map(Target::AfterPrevious),
            (None, None, Some(t)) => Some(Target::At(t)),
            _ => {
                errors.add(
                    format!("{prefix}target"),
                    "give exactly one of after_start_minutes, after_previous_minutes or due_at",
                );
                None
            }
        }
    }
}

/// A milestone of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    pub name: String,
    pub position: i64,
    pub target: Target,
    pub due_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub completed_by: Option<String>,
    /// When the overdue sweep recorded it.
    pub overdue_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a milestone stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneState {
    Completed,
    /// The first not completed, not overdue.
    Current,
    Upcoming,
    Overdue,
}

impl MilestoneState {
    pub const fn as_str(self) -> &'static str {
        match self {
            MilestoneState::Completed => "completed",
            MilestoneState::Current => "current",
            MilestoneState::Upcoming => "upcoming",
            MilestoneState::Overdue => "overdue",
        }
    }
}

/// Checks a milestone name.
pub fn check_name(name: &str, field: &str, errors: &mut Errors) -> Option<String> {
    errors.take(field, text::required_line(name, 200))
}

/// Recomputes the due times of a case's milestones (in position order) from the case's start:
/// a milestone after the previous one counts from its completion, or else its due time.
pub fn schedule(milestones: &mut [Milestone], case_start: Timestamp, cal: &BusinessCalendar) {
    milestones.sort_by_key(|m| (m.position, m.created_at));
    let mut previous: Option<Timestamp> = Some(case_start);
    for m in milestones.iter_mut() {
        m.due_at = match m.target {
            Target::AfterStart(min) => cal.add_seconds(case_start, min * 60),
            Target::AfterPrevious(min) => previous.and_then(|p| cal.add_seconds(p, min * 60)),
            Target::At(t) => Some(t),
        };
        previous = m.completed_at.or(m.due_at);
    }
}

/// The state of each milestone (in the given order) at `now`.
pub fn states(milestones: &[Milestone], now: Timestamp) -> Vec<MilestoneState> {
    let mut current_given = false;
    milestones
        .iter()
        .map(|m| {
            if m.completed_at.is_some() {
                MilestoneState::Completed
            } else if m.due_at.is_some_and(|d| d < now) {
                MilestoneState::Overdue
            } else if !current_given {
                current_given = true;
                MilestoneState::Current
            } else {
                MilestoneState::Upcoming
            }
        })
        .collect()
}

/// Validates a milestone change; returns an error naming the field.
pub fn check_position(position: i64) -> Result<i64, DomainError> {
    if (0..=1000).contains(&position) { Ok(position) } else { Err(DomainError::field("position", "must be 0 to 1000")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    fn m(position: i64, target: Target) -> Milestone {
        Milestone {
            id: format!("ms_{position}"),
            org_id: "org_1".into(),
            case_id: "case_1".into(),
            name: format!("step {position}"),
            position,
            target,
            due_at: None,
            completed_at: None,
            completed_by: None,
            overdue_at: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn milestones_chain_from_the_start_and_from_each_other() {
        let cal = BusinessCalendar::always();
        let start = ts("2026-03-02T09:00:00Z");
        let mut ms = vec![
            m(1, Target::AfterStart(60)),
            m(2, Target::AfterPrevious(120)),
            m(3, Target::At(ts("2026-03-05T12:00:00Z"))),
        ];
        schedule(&mut ms, start, &cal);
        let due: Vec<_> = ms.iter().map(|m| m.due_at).collect();
        assert_eq!(
            due,
            [Some(ts("2026-03-02T10:00:00Z")), Some(ts("2026-03-02T12:00:00Z")), Some(ts("2026-03-05T12:00:00Z"))]
        );
        // Completing the first late moves the second with it.
        ms[0].completed_at = Some(ts("2026-03-02T11:00:00Z"));
        schedule(&mut ms, start, &cal);
        assert_eq!(ms[1].due_at, Some(ts("2026-03-02T13:00:00Z")));
        let st = states(&ms, ts("2026-03-02T13:30:00Z"));
        assert_eq!(st, [MilestoneState::Completed, MilestoneState::Overdue, MilestoneState::Current]);
        let st = states(&ms, ts("2026-03-02T12:30:00Z"));
        assert_eq!(st, [MilestoneState::Completed, MilestoneState::Current, MilestoneState::Upcoming]);
    }

    #[test]
    fn targets_need_exactly_one_form() {
        let mut e = Errors::new();
        assert_eq!(Target::from_input(Some(30), None, None, "", &mut e), Some(Target::AfterStart(30)));
        assert!(Target::from_input(Some(30), Some(10), None, "", &mut e).is_none());
        assert!(Target::from_input(None, Some(0), None, "milestones[1].", &mut e).is_none());
        let DomainError::Validation(f) = e.finish().expect_err("errors") else { panic!() };
        assert_eq!(
            f.iter().map(|x| x.field.as_str()).collect::<Vec<_>>(),
            ["target", "milestones[1].after_previous_minutes"]
        );
    }
}

/// A milestone a queue gives each of its new cases.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneTemplate {
    pub id: String,
    pub org_id: String,
    pub queue_id: String,
    pub name: String,
    pub position: i64,
    /// A duration (a template has no fixed date).
    pub target: Target,
    pub created_at: Timestamp,
}
