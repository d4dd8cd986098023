//! Automation rules: a trigger (an event on a case, or time spent in a state), conditions over
//! the case, and the actions to take when they hold — and the guard that keeps rules from
//! triggering each other forever.
//!
//! Pure: which rules fire for which events, and whether a case matches, are functions of their
//! inputs. Running the actions (routing, comments, notifications) is the core's job.
//!
//! Layout: [`Rule`] and [`RuleInput`] here (validation naming each field:
//! `conditions.all[2].operator`, `actions[0].queue_id`); `condition` (conditions and their
//! evaluation over [`Facts`]); `action` ([`Action`] and how it is read); `occurrence`
//! ([`Occurrence`]: the events one write made on a case, the triggers they fire, the loop guard).

mod action;
mod condition;
mod occurrence;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

pub use action::*;
pub use condition::*;
pub use occurrence::*;

use crate::error::{DomainError, Errors};
use crate::text;

/// The event triggers: a write on a case that made an event of this kind.
pub const EVENT_TRIGGERS: &[&str] = &[
    "case.created",
    "case.updated",
    "status.changed",
    "priority.changed",
    "assignee.changed",
    "comment.added",
    "sla.warning",
    "sla.breached",
    "milestone.overdue",
    "csat.received",
];

/// The time triggers: a case has been in a state for `after_minutes`. Each fires once per case
/// and episode (the state beginning again starts a new episode).
pub const TIME_TRIGGERS: &[&str] = &["time.no_agent_reply", "time.pending", "time.unassigned", "time.resolved"];

/// Rules started by a rule's own changes, in a chain, before the chain is cut.
pub const MAX_DEPTH: i64 = 3;

/// The longest a time trigger can wait: a year.
const MAX_AFTER_MINUTES: i64 = 366 * 24 * 60;
const MAX_CONDITIONS: usize = 50;
const MAX_ACTIONS: usize = 20;

/// An automation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    /// One of [`EVENT_TRIGGERS`] or [`TIME_TRIGGERS`].
    pub trigger: String,
    /// For a time trigger: how long the case is in the state before the rule fires.
    pub after_minutes: Option<i64>,
    pub conditions: Conditions,
    pub actions: Vec<Action>,
    pub active: bool,
    /// Rules of one trigger run in ascending position (then creation) order.
    pub position: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Rule {
    pub fn new(id: String, org_id: &str, created_by: &str, now: Timestamp) -> Rule {
        Rule {
            id,
            org_id: org_id.to_string(),
            name: String::new(),
            description: String::new(),
            trigger: String::new(),
            after_minutes: None,
            conditions: Conditions::default(),
            actions: Vec::new(),
            active: true,
            position: 0,
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_time_rule(&self) -> bool {
        self.trigger.starts_with("time.")
    }

    /// The time-trigger delay.
    pub fn after(&self) -> SignedDuration {
        SignedDuration::from_mins(self.after_minutes.unwrap_or(0))
    }
}

/// A rule as a request gives it; `None` keeps the current value on an update.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub trigger: Option<String>,
    pub after_minutes: Option<Option<i64>>,
    pub conditions: Option<Value>,
    pub actions: Option<Value>,
    pub active: Option<bool>,
    pub position: Option<i64>,
}

impl RuleInput {
    /// Applies the input to `base` (a new rule, or the stored one) at `now`, checking every field.
    pub fn apply(self, mut base: Rule, now: Timestamp) -> Result<Rule, DomainError> {
        let mut errors = Errors::new();
        match self.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(n.trim(), 200)) {
                    base.name = n;
                }
            }
            None if base.name.is_empty() => errors.add("name", "a rule needs a name"),
            None => {}
        }
        if let Some(d) = self.description
            && let Some(d) = errors.take("description", text::bounded(d.trim(), 2000))
        {
            base.description = d;
        }
        match self.trigger {
            Some(t) => {
                let t = t.trim();
                if EVENT_TRIGGERS.contains(&t) || TIME_TRIGGERS.contains(&t) {
                    base.trigger = t.to_string();
                } else {
                    errors.add(
                        "trigger",
                        format!(
                            "unknown trigger {t:?}; expected one of {}, {}",
                            EVENT_TRIGGERS.join(", "),
                            TIME_TRIGGERS.join(", ")
                        ),
                    );
                }
            }
            None if base.trigger.is_empty() => errors.add("trigger", "a rule needs a trigger"),
            None => {}
        }
        if let Some(a) = self.after_minutes {
            base.after_minutes = a;
        }
        if !base.trigger.is_empty() {
            match (base.is_time_rule(), base.after_minutes) {
                (true, None) => errors.add("after_minutes", "a time trigger needs after_minutes"),
                (true, Some(m)) if !(1..=MAX_AFTER_MINUTES).contains(&m) => {
                    errors.add("after_minutes", format!("must be 1 to {MAX_AFTER_MINUTES}"))
                }
                (false, Some(_)) => errors.add("after_minutes", "only a time trigger waits"),
                _ => {}
            }
        }
        if let Some(c) = self.conditions {
            base.conditions = parse_conditions(&c, &mut errors);
        }
        if let Some(a) = self.actions {
            base.actions = parse_actions(&a, &mut errors);
        } else if base.actions.is_empty() {
            errors.add("actions", "a rule needs at least one action");
        }
        if let Some(active) = self.active {
            base.active = active;
        }
        if let Some(p) = self.position {
            base.position = p;
        }
        errors.finish()?;
        base.updated_at = now;
        Ok(base)
    }
}

#[cfg(test)]
mod tests;
