//! AI assistance, built in: summaries, categories and priorities, reply drafts and evaluations
//! computed from the case itself, offline and deterministic. An external model, when an
//! organization chooses one ([`settings`]), is asked for the same results in the same shapes
//! ([`llm`]), and its answers are checked before they are used.

pub mod classify;
pub mod erp;
pub mod evaluate;
pub mod llm;
pub mod reply;
pub mod settings;
pub mod summarize;
pub mod text;

use jiff::Timestamp;
use serde::Serialize;

use crate::case::{Priority, Status};

/// What the assistant is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiAction {
    Summarize,
    Categorize,
    SuggestReply,
    Evaluate,
}

impl AiAction {
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "summarize" => AiAction::Summarize,
            "categorize" => AiAction::Categorize,
            "suggest_reply" => AiAction::SuggestReply,
            "evaluate" => AiAction::Evaluate,
            _ => {
                return Err(format!("unknown action {s:?}; expected summarize, categorize, suggest_reply or evaluate"));
            }
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            AiAction::Summarize => "summarize",
            AiAction::Categorize => "categorize",
            AiAction::SuggestReply => "suggest_reply",
            AiAction::Evaluate => "evaluate",
        }
    }
}

/// One message of a case's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub from_customer: bool,
    /// An internal note: agents only, never in anything the customer sees.
    pub internal: bool,
    pub author: Option<String>,
    pub body: String,
    pub at: Timestamp,
}

/// A case as the assistant reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseThread {
    pub case_number: i64,
    pub subject: String,
    pub description: String,
    pub requester_name: Option<String>,
    pub status: Status,
    pub priority: Priority,
    pub messages: Vec<Message>,
    /// The earliest running SLA target, and whether any is breached.
    pub sla_due_at: Option<Timestamp>,
    pub sla_breached: bool,
    pub now: Timestamp,
}

impl CaseThread {
    /// What the customer wrote: the description and their public messages, cleaned of quotes.
    pub fn customer_text(&self) -> String {
        std::iter::once(text::clean_message(&self.description))
            .chain(
                self.messages.iter().filter(|m| m.from_customer && !m.internal).map(|m| text::clean_message(&m.body)),
            )
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A suggested label with how sure the assistant is (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guess<T> {
    pub value: T,
    pub confidence: f64,
}

impl<T> Guess<T> {
    pub fn new(value: T, confidence: f64) -> Self {
        Guess { value, confidence: (confidence.clamp(0.0, 1.0) * 100.0).round() / 100.0 }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A case by Ana Silva with `(from_customer, internal, body)` messages an hour apart.
    pub fn thread(subject: &str, description: &str, messages: &[(bool, bool, &str)]) -> CaseThread {
        let start: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
        CaseThread {
            case_number: 42,
            subject: subject.into(),
            description: description.into(),
            requester_name: Some("Ana Silva".into()),
            status: Status::Open,
            priority: Priority::Medium,
            messages: messages
                .iter()
                .enumerate()
                .map(|(i, (c, internal, body))| Message {
                    from_customer: *c,
                    internal: *internal,
                    author: Some(if *c { "cnt_ana".into() } else { "usr_sam".into() }),
                    body: (*body).into(),
                    at: start + jiff::SignedDuration::from_hours(i as i64 + 1),
                })
                .collect(),
            sla_due_at: None,
            sla_breached: false,
            now: start + jiff::SignedDuration::from_hours(messages.len() as i64 + 1),
        }
    }

    #[test]
    fn actions_read_back() {
        for a in [AiAction::Summarize, AiAction::Categorize, AiAction::SuggestReply, AiAction::Evaluate] {
            assert_eq!(AiAction::parse(a.as_str()), Ok(a));
        }
        assert!(AiAction::parse("dance").is_err());
    }
}
