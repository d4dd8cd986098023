//! How values read on a page: the page chrome, chips, SLA badges, times and timeline entries.
//! Plain data for the templates (which escape everything they print).

use std::collections::HashMap;

use casedesk_core::store::{CaseListItem, WorkflowSummary};
use casedesk_domain::badge::{self, SlaBadge};
use casedesk_domain::case::Case;
use casedesk_domain::timeline::{AuthorType, COMMENT_ADDED, Comment, Event, FIELD_CHANGED, STATUS_CHANGED};
use jiff::Timestamp;
use serde_json::Value;

use super::session::Viewer;

/// What every page's frame shows: who is signed in and the token their forms carry.
pub struct Chrome {
    pub user_name: Option<String>,
    /// Admins see the admin pages in the navigation.
    pub admin: bool,
    pub csrf: String,
    /// The navigation entry to mark as current: `cases`, `new`, `trash`, `account` or empty.
    pub section: &'static str,
    /// The viewer's running timer, ticking in the header on every page.
    pub timer: Option<TimerChip>,
}

/// The header's timer: its case and the time counted when the page was made.
pub struct TimerChip {
    pub case_id: String,
    pub number: i64,
    pub elapsed_secs: i64,
    pub clock: String,
}

impl Chrome {
    pub fn anonymous() -> Self {
        Chrome { user_name: None, admin: false, csrf: String::new(), section: "", timer: None }
    }

    pub fn of(viewer: &Viewer, section: &'static str) -> Self {
        Chrome {
            user_name: Some(viewer.who.user.name.clone()),
            admin: viewer.who.actor.role == casedesk_domain::policy::Role::Admin,
            csrf: viewer.csrf.clone(),
            section,
            timer: viewer.timer.as_ref().map(|t| TimerChip {
                case_id: t.case_id.clone(),
                number: t.number,
                elapsed_secs: t.elapsed_secs,
                clock: clock(t.elapsed_secs),
            }),
        }
    }
}

/// A running count of seconds as a stopwatch shows it: `0:04:05`, `12:30:00`.
pub fn clock(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Time worked, in hours and minutes: `45 min`, `2 h`, `2 h 30 min`.
pub fn worked(secs: i64) -> String {
    let m = secs.max(0) / 60;
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The invalid fields of a submitted form, each with its message.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<casedesk_domain::FieldError>);

impl FieldErrors {
    /// The status of a page showing the form: 422 when it holds errors.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY }
    }

    /// The use case's field names, some renamed to the form's (`password` → `new_password`).
    pub fn renamed(fields: Vec<casedesk_domain::FieldError>, names: &[(&str, &str)]) -> Self {
        FieldErrors(
            fields
                .into_iter()
                .map(|mut f| {
                    if let Some((_, to)) = names.iter().find(|(from, _)| *from == f.field) {
                        f.field = (*to).to_string();
                    }
                    f
                })
                .collect(),
        )
    }

    /// The message for `field`, if it is invalid.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|f| f.field == field).map(|f| f.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `on_hold` → `On hold`.
/// What a case's status is called: its custom status's name, or the status itself.
pub fn status_label(c: &Case, workflow: &WorkflowSummary) -> String {
    workflow.custom_status.as_ref().map(|s| s.1.clone()).unwrap_or_else(|| label(c.status.as_str()))
}

pub fn label(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// An SLA badge: its words and its CSS modifier.
pub struct Badge {
    pub text: String,
    pub class: &'static str,
}

pub fn sla_badge(case: &Case, now: Timestamp) -> Option<Badge> {
    if !case.status.is_active() {
        return None;
    }
    let b = SlaBadge::of(case.sla.as_ref()?, now)?;
    let class = if b.is_breached() {
        "breached"
    } else if b.is_soon() {
        "soon"
    } else {
        "ok"
    };
    Some(Badge { text: b.text(), class })
}

/// Names of users and queues, for showing references.
#[derive(Default)]
pub struct Names {
    pub users: HashMap<String, String>,
    pub queues: HashMap<String, String>,
    /// Contacts and accounts a page names (only those it shows, unlike users and queues).
    pub people: HashMap<String, String>,
}

impl Names {
    pub fn user(&self, id: Option<&str>) -> String {
        id.map(|id| self.users.get(id).cloned().unwrap_or_else(|| id.to_string())).unwrap_or_default()
    }

    /// A requester, contact or account by name: a user or a contact, or an account.
    pub fn person(&self, id: &str) -> String {
        self.users.get(id).or_else(|| self.people.get(id)).cloned().unwrap_or_else(|| id.to_string())
    }

    pub fn queue(&self, id: Option<&str>) -> String {
        id.map(|id| self.queues.get(id).cloned().unwrap_or_else(|| id.to_string())).unwrap_or_default()
    }
}

/// One row of the case list.
pub struct CaseRow {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: &'static str,
    pub status_label: String,
    pub priority: &'static str,
    pub priority_label: String,
    pub assignee: String,
    pub sla: Option<Badge>,
    pub updated: String,
    pub updated_iso: String,
}

impl CaseRow {
    pub fn new(item: &CaseListItem, names: &Names, now: Timestamp) -> Self {
        let c = &item.case;
        CaseRow {
            id: c.id.clone(),
            number: c.case_number,
            subject: c.subject.clone(),
            status: c.status.as_str(),
            status_label: status_label(c, &item.workflow),
            priority: c.priority.as_str(),
            priority_label: label(c.priority.as_str()),
            assignee: names.user(c.owner_id.as_deref()),
            sla: sla_badge(c, now),
            updated: badge::ago(c.updated_at, now),
            updated_iso: c.updated_at.to_string(),
        }
    }
}

/// One entry of a case's timeline.
pub struct Entry {
    /// `reply`, `note`, `customer` or `event`: the entry's look.
    pub kind: &'static str,
    /// "Reply", "Internal note" …; empty for events.
    pub label: &'static str,
    pub who: String,
    pub text: String,
    pub when: String,
    pub when_iso: String,
    at: Timestamp,
}

impl Entry {
    pub fn comment(c: &Comment, names: &Names, now: Timestamp) -> Self {
        let (kind, label) = match (c.internal, c.author_type) {
            (true, _) => ("note", "Internal note"),
            (false, AuthorType::Customer) => ("customer", "Customer"),
            (false, _) => ("reply", "Reply"),
        };
        let who = match c.author_type {
            AuthorType::System => "casedesk".to_string(),
            _ => names.user(c.author_id.as_deref()),
        };
        Entry::at(kind, label, who, c.body.clone(), c.created_at, now)
    }

    /// An event as a line of text; comments come from [`Entry::comment`] instead.
    pub fn event(e: &Event, names: &Names, now: Timestamp) -> Option<Self> {
        if e.kind == casedesk_core::ai::AI_SUGGESTION {
            return Some(super::assistant::timeline_entry(e, names, now));
        }
        let text = event_text(&e.kind, &e.data, names)?;
        let who = e.actor_id.as_deref().map(|id| names.user(Some(id))).unwrap_or_else(|| "casedesk".into());
        Some(Entry::at("event", "", who, text, e.created_at, now))
    }

    pub(super) fn at(
        kind: &'static str,
        label: &'static str,
        who: String,
        text: String,
        at: Timestamp,
        now: Timestamp,
    ) -> Self {
        Entry { kind, label, who, text, when: badge::ago(at, now), when_iso: at.to_string(), at }
    }
}

/// Comments and events in the order they happened.
pub fn timeline(comments: &[Comment], events: &[Event], names: &Names, now: Timestamp) -> Vec<Entry> {
    let mut out: Vec<Entry> = comments.iter().map(|c| Entry::comment(c, names, now)).collect();
    out.extend(events.iter().filter_map(|e| Entry::event(e, names, now)));
    out.sort_by_key(|e| e.at);
    out
}

fn field_value(field: &str, v: &Value, names: &Names) -> String {
    match (field, v) {
        (_, Value::Null) => "none".into(),
        ("owner_id", Value::String(id)) => names.user(Some(id)),
        ("queue_id", Value::String(id)) => names.queue(Some(id)),
        ("requester_id" | "contact_id" | "account_id", Value::String(id)) => names.person(id),
        ("status" | "priority" | "type" | "case_type", Value::String(s)) => label(s),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) if items.is_empty() => "none".into(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        (_, other) => other.to_string(),
    }
}

fn field_name(field: &str) -> String {
    match field {
        "owner_id" => "assignee".into(),
        "queue_id" => "queue".into(),
        "case_type" => "type".into(),
        other => other.trim_end_matches("_id").replace('_', " "),
    }
}

/// How an event reads on the timeline; `None` for comments (shown as themselves).
pub fn event_text(kind: &str, data: &Value, names: &Names) -> Option<String> {
    Some(match kind {
        COMMENT_ADDED => return None,
        STATUS_CHANGED | FIELD_CHANGED => {
            let field = data["field"].as_str().unwrap_or_default();
            format!(
                "changed {} from {} to {}",
                field_name(field),
                field_value(field, &data["old"], names),
                field_value(field, &data["new"], names)
            )
        }
        "case.created" => "created the case".into(),
        "case.assigned" => format!("assigned the case to {}", field_value("owner_id", &data["owner_id"], names)),
        "sla.applied" => "SLA targets applied".into(),
        // The delivery state of a reply to a messaging channel's connector.
        "channel.sent" => format!("reply delivered by {}", data["channel"].as_str().unwrap_or("its channel")),
        "channel.failed" => format!(
            "reply by {} failed: {}",
            data["channel"].as_str().unwrap_or("its channel"),
            data["error"].as_str().unwrap_or("no answer")
        ),
        // "Rule Triage set priority to high": the rule's own words.
        "rule.applied" => data["summary"].as_str().unwrap_or("an automation rule ran").to_string(),
        "sla.met" | "sla.warning" | "sla.breached" | "sla.paused" | "sla.resumed" => {
            let target = data["target"].as_str().map(|t| label(t).to_lowercase()).unwrap_or_else(|| "SLA".into());
            let what = match kind {
                "sla.met" => "met",
                "sla.warning" => "due soon",
                "sla.breached" => "missed",
                "sla.paused" => "paused",
                _ => "running again",
            };
            format!("{target} target {what}")
        }
        other => {
            let target = data["target"].as_str().map(|t| format!(" ({})", label(t).to_lowercase())).unwrap_or_default();
            format!("{}{target}", other.replace(['.', '_'], " "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_a_stopwatch_and_as_time_worked() {
        assert_eq!(clock(245), "0:04:05");
        assert_eq!(clock(45_000), "12:30:00");
        assert_eq!(clock(-3), "0:00:00");
        assert_eq!(worked(59), "0 min");
        assert_eq!(worked(2700), "45 min");
        assert_eq!(worked(7200), "2 h");
        assert_eq!(worked(9000 + 59), "2 h 30 min");
    }

    #[test]
    fn labels_and_event_lines_read_like_words() {
        assert_eq!(label("on_hold"), "On hold");
        assert_eq!(label(""), "");
        let mut names = Names::default();
        names.users.insert("usr_1".into(), "Ana".into());
        let line = |kind, data| event_text(kind, &data, &names);
        assert_eq!(line("channel.sent", json!({"channel": "sms"})).as_deref(), Some("reply delivered by sms"));
        assert_eq!(
            line("channel.failed", json!({"channel": "chat", "error": "the endpoint answered 500"})).as_deref(),
            Some("reply by chat failed: the endpoint answered 500")
        );
        assert_eq!(
            line(STATUS_CHANGED, json!({"field": "status", "old": "new", "new": "on_hold"})).as_deref(),
            Some("changed status from New to On hold")
        );
        assert_eq!(
            line(FIELD_CHANGED, json!({"field": "owner_id", "old": null, "new": "usr_1"})).as_deref(),
            Some("changed assignee from none to Ana")
        );
        assert_eq!(
            line("sla.breached", json!({"target": "first_response"})).as_deref(),
            Some("first response target missed")
        );
        assert_eq!(line("sla.applied", json!({})).as_deref(), Some("SLA targets applied"));
        assert_eq!(line("case.escalated", json!({"target": "x"})).as_deref(), Some("case escalated (x)"));
        assert_eq!(
            line(FIELD_CHANGED, json!({"field": "tags", "old": [], "new": ["vpn", "network"]})).as_deref(),
            Some("changed tags from none to vpn, network")
        );
        assert_eq!(line(COMMENT_ADDED, json!({})), None);
        assert_eq!(
            line("rule.applied", json!({"summary": "Rule Triage set priority to high"})).as_deref(),
            Some("Rule Triage set priority to high")
        );
    }
}
