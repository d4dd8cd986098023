//! Occurrences: the events one write made on one case, which triggers they fire, and the loop
//! guard that keeps rules from firing each other forever.

use jiff::Timestamp;

use super::{CommentFacts, CsatFacts, FieldChange, MAX_DEPTH};
use crate::timeline::Event;

/// The events one write made on one case (they share the case, the actor and the time, and are
/// consecutive in the change feed): what event triggers see. A rule runs at most once per
/// occurrence, keyed by its first event's `seq`.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub case_id: String,
    pub first_seq: i64,
    pub actor_id: Option<String>,
    pub events: Vec<Event>,
}

/// Splits feed events (in feed order) into occurrences. When `complete` is false the last
/// occurrence may continue beyond the batch and is left for the next one.
pub fn occurrences(events: Vec<Event>, complete: bool) -> Vec<Occurrence> {
    let mut out: Vec<Occurrence> = Vec::new();
    for e in events {
        match out.last_mut() {
            Some(o)
                if o.case_id == e.case_id
                    && o.actor_id == e.actor_id
                    && o.events.last().is_some_and(|l| l.created_at == e.created_at) =>
            {
                o.events.push(e)
            }
            _ => out.push(Occurrence {
                case_id: e.case_id.clone(),
                first_seq: e.seq,
                actor_id: e.actor_id.clone(),
                events: vec![e],
            }),
        }
    }
    if !complete {
        out.pop();
    }
    out
}

impl Occurrence {
    fn has(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e.kind == kind)
    }

    fn changed(&self, field: &str) -> bool {
        self.events.iter().any(|e| e.kind == "field.changed" && e.data["field"] == field)
    }

    /// Whether this occurrence fires an event trigger.
    pub fn fires(&self, trigger: &str) -> bool {
        let created = self.has("case.created");
        match trigger {
            "case.created" => created,
            "case.updated" => !created && (self.has("field.changed") || self.has("status.changed")),
            "status.changed" => !created && self.has("status.changed"),
            "priority.changed" => !created && self.changed("priority"),
            "assignee.changed" => !created && (self.changed("owner_id") || self.has("case.assigned")),
            "comment.added" | "sla.warning" | "sla.breached" | "milestone.overdue" | "csat.received" => {
                self.has(trigger)
            }
            _ => false,
        }
    }

    /// The fields this write changed.
    pub fn changes(&self) -> Vec<FieldChange> {
        self.events
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "field.changed" | "status.changed"))
            .filter_map(|e| {
                Some(FieldChange {
                    field: e.data["field"].as_str()?.to_string(),
                    old: e.data["old"].clone(),
                    new: e.data["new"].clone(),
                })
            })
            .collect()
    }

    /// The comment of a `comment.added` occurrence.
    pub fn comment(&self) -> Option<CommentFacts> {
        let e = self.events.iter().find(|e| e.kind == "comment.added")?;
        Some(CommentFacts {
            internal: e.data["internal"].as_bool().unwrap_or(false),
            author_type: e.data["author_type"].as_str().unwrap_or("agent").to_string(),
        })
    }

    /// The survey answer of a `csat.received` occurrence.
    pub fn csat(&self) -> Option<CsatFacts> {
        let e = self.events.iter().find(|e| e.kind == crate::csat::CSAT_RECEIVED)?;
        Some(CsatFacts {
            rating: e.data["rating"].as_str()?.to_string(),
            positive: e.data["positive"].as_bool().unwrap_or(false),
        })
    }

    /// When it happened.
    pub fn at(&self) -> Option<Timestamp> {
        self.events.first().map(|e| e.created_at)
    }
}

/// The loop guard: whether `rule_id` may run for an occurrence made by `actor_id` at chain depth
/// `depth` (0 for a person's change; one more for each rule in between). A rule never runs on
/// its own changes, and a chain of rules stops at [`MAX_DEPTH`].
pub fn may_run(rule_id: &str, actor_id: Option<&str>, depth: i64) -> bool {
    actor_id != Some(rule_id) && depth < MAX_DEPTH
}

/// Whether `actor_id` is a rule (changes made by automation carry the rule's id as their actor).
pub fn is_rule_actor(actor_id: &str) -> bool {
    crate::ids::IdKind::AutomationRule.matches(actor_id)
}
