//! Activities linked to a case (seed 000): calls, meetings, emails and other work logged with
//! who, with whom, when, how long and the outcome; and tasks with an assignee and a due time that
//! are completed.

use jiff::Timestamp;

use crate::error::{DomainError, Errors};
use crate::text;

/// What an activity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Call,
    Meeting,
    Email,
    Other,
    Task,
}

impl ActivityKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Email => "email",
            ActivityKind::Other => "other",
            ActivityKind::Task => "task",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "call" | "phone" => ActivityKind::Call,
            "meeting" => ActivityKind::Meeting,
            "email" => ActivityKind::Email,
            "other" | "note" => ActivityKind::Other,
            "task" | "todo" => ActivityKind::Task,
            _ => return Err(format!("unknown kind {s:?}; expected call, meeting, email, other or task")),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    pub kind: ActivityKind,
    pub subject: String,
    pub note: String,
    /// Who the agent talked to (a name, a number, an address).
    pub with_whom: Option<String>,
    pub outcome: Option<String>,
    /// When a call, meeting or email happened (default: when it was logged).
    pub occurred_at: Option<Timestamp>,
    pub duration_minutes: Option<i64>,
    /// Tasks: who is to do it and by when.
    pub assignee_id: Option<String>,
    pub due_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub completed_by: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Fields as given; `None` leaves one alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub note: Option<String>,
    pub with_whom: Option<Option<String>>,
    pub outcome: Option<Option<String>>,
    pub occurred_at: Option<Option<Timestamp>>,
    pub duration_minutes: Option<Option<i64>>,
    pub assignee_id: Option<Option<String>>,
    pub due_at: Option<Option<Timestamp>>,
    /// Tasks: `true` completes, `false` reopens.
    pub completed: Option<bool>,
}

fn opt_line(field: &str, v: Option<Option<String>>, errors: &mut Errors) -> Option<Option<String>> {
    match v {
        Some(Some(s)) if s.trim().is_empty() => Some(None),
        Some(Some(s)) => errors.take(field, text::bounded(s.trim(), 500)).map(Some),
        other => other,
    }
}

impl Activity {
    /// Applies `input` to `self` (a fresh activity when `creating`) by `actor_id` at `now`.
    pub fn apply(
        mut self,
        input: ActivityInput,
        creating: bool,
        actor_id: &str,
        now: Timestamp,
    ) -> Result<Activity, DomainError> {
        let mut errors = Errors::new();
        match input.kind {
            Some(k) if creating => {
                if let Some(k) = errors.take("kind", ActivityKind::parse(&k)) {
                    self.kind = k;
                }
            }
            Some(k) if ActivityKind::parse(&k).ok() != Some(self.kind) => {
                errors.add("kind", "cannot change; log a new activity instead")
            }
            _ => {}
        }
        match input.subject {
            Some(s) => {
                if let Some(s) = errors.take("subject", text::required_line(&s, text::MAX_LINE)) {
                    self.subject = s;
                }
            }
            None if creating => errors.add("subject", "is required"),
            None => {}
        }
        if let Some(n) = input.note
            && let Some(n) = errors.take("note", text::bounded(&n, text::MAX_BODY))
        {
            self.note = n;
        }
        if let Some(w) = opt_line("with_whom", input.with_whom, &mut errors) {
            self.with_whom = w;
        }
        if let Some(o) = opt_line("outcome", input.outcome, &mut errors) {
            self.outcome = o;
        }
        if let Some(t) = input.occurred_at {
            self.occurred_at = t;
        }
        if let Some(d) = input.duration_minutes {
            if d.is_some_and(|m| !(0..=100_000).contains(&m)) {
                errors.add("duration_minutes", "must be 0 to 100000");
            }
            self.duration_minutes = d;
        }
        if let Some(a) = input.assignee_id {
            self.assignee_id = a;
        }
        if let Some(d) = input.due_at {
            self.due_at = d;
        }
        let is_task = self.kind == ActivityKind::Task;
        if !is_task && (self.assignee_id.is_some() || self.due_at.is_some()) {
            errors.add("kind", "only a task has an assignee and a due time");
        }
        match input.completed {
            Some(_) if !is_task => errors.add("completed", "only a task is completed"),
            Some(true) if self.completed_at.is_none() => {
                self.completed_at = Some(now);
                self.completed_by = Some(actor_id.to_string());
            }
            Some(false) => {
                self.completed_at = None;
                self.completed_by = None;
            }
            _ => {}
        }
        if creating && !is_task && self.occurred_at.is_none() {
            self.occurred_at = Some(now);
        }
        errors.finish()?;
        self.updated_at = now;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> Activity {
        Activity {
            id: "act_1".into(),
            org_id: "org_1".into(),
            case_id: "case_1".into(),
            kind: ActivityKind::Other,
            subject: String::new(),
            note: String::new(),
            with_whom: None,
            outcome: None,
            occurred_at: None,
            duration_minutes: None,
            assignee_id: None,
            due_at: None,
            completed_at: None,
            completed_by: None,
            created_by: "usr_1".into(),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_call_is_logged_when_it_happened_and_a_task_is_completed() {
        let now = Timestamp::from_second(1_000).expect("ts");
        let call = blank()
            .apply(
                ActivityInput {
                    kind: Some("call".into()),
                    subject: Some("Called back".into()),
                    duration_minutes: Some(Some(12)),
                    ..Default::default()
                },
                true,
                "usr_1",
                now,
            )
            .expect("ok");
        assert_eq!((call.kind, call.occurred_at, call.duration_minutes), (ActivityKind::Call, Some(now), Some(12)));
        let task = blank()
            .apply(
                ActivityInput {
                    kind: Some("task".into()),
                    subject: Some("Send RMA label".into()),
                    assignee_id: Some(Some("usr_2".into())),
                    ..Default::default()
                },
                true,
                "usr_1",
                now,
            )
            .expect("ok");
        let done =
            task.apply(ActivityInput { completed: Some(true), ..Default::default() }, false, "usr_2", now).expect("ok");
        assert_eq!((done.completed_at, done.completed_by.as_deref()), (Some(now), Some("usr_2")));
        let err = call
            .apply(
                ActivityInput { completed: Some(true), kind: Some("task".into()), ..Default::default() },
                false,
                "usr_1",
                now,
            )
            .expect_err("bad");
        let DomainError::Validation(f) = err else { panic!() };
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["kind", "completed"]);
    }
}
