//! The timeline of a case: an append-only list of what happened, written in the same
//! transaction as the change it describes.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::case::{Case, Change};
use crate::error::{DomainError, Errors};
use crate::text;

/// One entry on a case's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the organization's event log; increases with every event.
    pub seq: i64,
    pub org_id: String,
    pub case_id: String,
    /// `case.created`, `case.imported`, `field.changed`, `status.changed`, `comment.added`,
    /// `case.deleted`.
    pub kind: String,
    pub actor_id: Option<String>,
    pub data: Value,
    pub created_at: Timestamp,
}

/// An event not yet stored (it gets its `seq` from the store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: &'static str,
    pub data: Value,
    pub created_at: Timestamp,
}

pub const CASE_CREATED: &str = "case.created";
pub const CASE_IMPORTED: &str = "case.imported";
pub const FIELD_CHANGED: &str = "field.changed";
pub const STATUS_CHANGED: &str = "status.changed";
pub const COMMENT_ADDED: &str = "comment.added";
pub const CASE_DELETED: &str = "case.deleted";
/// A case taken back out of the trash.
pub const CASE_RESTORED: &str = "case.restored";
/// A case removed for good; the change feed's last word on it.
pub const CASE_PURGED: &str = "case.purged";

/// The events that record a new case.
pub fn created(case: &Case, kind: &'static str) -> NewEvent {
    NewEvent {
        kind,
        data: json!({
            "case_number": case.case_number,
            "subject": case.subject,
            "status": case.status.as_str(),
            "priority": case.priority.as_str(),
            "type": case.case_type.as_str(),
            "channel": case.channel.as_str(),
            "queue_id": case.queue_id,
            "owner_id": case.owner_id,
        }),
        created_at: case.created_at,
    }
}

/// One event per changed field; a status change gets its own kind so it stands out.
pub fn changes(changes: &[Change], at: Timestamp) -> Vec<NewEvent> {
    changes
        .iter()
        .map(|c| NewEvent {
            kind: if c.field == "status" { STATUS_CHANGED } else { FIELD_CHANGED },
            data: json!({ "field": c.field, "old": c.old, "new": c.new }),
            created_at: at,
        })
        .collect()
}

/// Who wrote a comment. Only an agent's public reply counts as a response for SLA; a
/// customer's message waits for one; a system message (an automatic acknowledgment) is neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorType {
    Agent,
    Customer,
    System,
}

impl AuthorType {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthorType::Agent => "agent",
            AuthorType::Customer => "customer",
            AuthorType::System => "system",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(AuthorType::Agent),
            "customer" | "requester" | "end_user" => Ok(AuthorType::Customer),
            "system" | "automation" => Ok(AuthorType::System),
            _ => Err(format!("unknown author_type {s:?}; expected agent, customer or system")),
        }
    }
}

/// A reply or note on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    pub author_id: Option<String>,
    pub body: String,
    /// `true`: an internal note for agents only; `false`: a reply the customer sees.
    pub internal: bool,
    pub author_type: AuthorType,
    pub created_at: Timestamp,
    /// Files of the case attached to this comment.
    pub attachments: Vec<crate::file::CaseFile>,
    /// The channel an agent chose to send this reply by (see
    /// [`crate::messaging::reply_route`]); `None`: the case's own channel decides.
    pub reply_channel: Option<crate::case::Channel>,
}

impl Comment {
    /// Validates a new comment's body.
    pub fn new(
        org_id: &str,
        case: &Case,
        author_id: &str,
        body: &str,
        internal: bool,
        author_type: AuthorType,
        now: Timestamp,
    ) -> Result<Comment, DomainError> {
        let mut errors = Errors::new();
        let body = errors.take("body", text::required_line(body, text::MAX_BODY).map(|_| body.to_string()));
        if internal && author_type == AuthorType::Customer {
            errors.add("internal", "a customer's message cannot be an internal note");
        }
        errors.finish()?;
        if case.is_closed() {
            return Err(DomainError::Conflict {
                code: crate::case::CASE_CLOSED,
                message: format!("case #{} is closed: a closed case takes no more comments", case.case_number),
            });
        }
        Ok(Comment {
            id: crate::ids::IdKind::Comment.new_id(),
            org_id: org_id.to_string(),
            case_id: case.id.clone(),
            author_id: Some(author_id.to_string()),
            body: body.unwrap_or_default(),
            internal,
            author_type,
            created_at: now,
            attachments: Vec::new(),
            reply_channel: None,
        })
    }

    /// A comment brought over from another helpdesk with its original time and author. Unlike
    /// [`Comment::new`] it may belong to a case that is closed now.
    pub fn historical(
        org_id: &str,
        case_id: &str,
        author_id: &str,
        body: &str,
        internal: bool,
        at: Timestamp,
    ) -> Result<Comment, DomainError> {
        let mut errors = Errors::new();
        errors.take("body", text::required_line(body, text::MAX_BODY));
        errors.finish()?;
        Ok(Comment {
            id: crate::ids::IdKind::Comment.new_id(),
            org_id: org_id.to_string(),
            case_id: case_id.to_string(),
            author_id: Some(author_id.to_string()),
            body: body.to_string(),
            internal,
            author_type: AuthorType::Agent,
            created_at: at,
            attachments: Vec::new(),
            reply_channel: None,
        })
    }

    pub fn event(&self) -> NewEvent {
        let mut data = json!({
            "comment_id": self.id,
            "internal": self.internal,
            "author_id": self.author_id,
            "author_type": self.author_type.as_str(),
        });
        if !self.attachments.is_empty() {
            data["file_ids"] = json!(self.attachments.iter().map(|f| f.id.as_str()).collect::<Vec<_>>());
        }
        if let Some(c) = self.reply_channel {
            data["channel"] = json!(c.as_str());
        }
        NewEvent { kind: COMMENT_ADDED, data, created_at: self.created_at }
    }
}

/// How a comment changes its case: every comment is activity (`updated_at`); an agent's public
/// reply answers a waiting requester and a customer's message makes them wait again.
pub fn case_after_comment(case: &Case, comment: &Comment, actor_id: &str) -> Case {
    let mut next = case.clone();
    next.updated_at = comment.created_at;
    next.updated_by = actor_id.to_string();
    next.version += 1;
    match (comment.author_type, comment.internal) {
        (AuthorType::Agent, false) => {
            next.is_waiting = false;
            next.unread_message_count = 0;
        }
        (AuthorType::Customer, _) => {
            next.is_waiting |= next.status.is_active();
            next.unread_message_count += 1;
        }
        _ => {}
    }
    next
}
