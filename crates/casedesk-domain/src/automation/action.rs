//! Actions: what a rule (or a macro) does, and how actions are read from a request, each
//! mistake named by its path (`actions[0].queue_id`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::MAX_ACTIONS;
use crate::case::{Case, CasePatch, Priority, Status};
use crate::error::Errors;
use crate::{template, text};

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipients {
    /// The case's owner (nobody while it has none).
    Owner,
    /// The members of a queue: `queue_id`, or the case's queue when none is named.
    Queue,
    /// These agents (`user_ids`).
    Users,
}

/// Which of the assistant's suggestions a `categorize` action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Apply {
    Category,
    Priority,
    Both,
}

impl Apply {
    fn parse(s: &str) -> Result<Apply, String> {
        match s {
            "category" => Ok(Apply::Category),
            "priority" => Ok(Apply::Priority),
            "both" => Ok(Apply::Both),
            _ => Err(format!("unknown value {s:?}; expected category, priority or both")),
        }
    }

    fn both() -> Apply {
        Apply::Both
    }
}

/// The confidence a suggestion needs before `categorize` applies it, unless the rule says.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;

fn default_min_confidence() -> f64 {
    DEFAULT_MIN_CONFIDENCE
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Moves the case to a queue, whose router picks the agent.
    AssignToQueue {
        queue_id: String,
    },
    AssignToUser {
        user_id: String,
    },
    SetPriority {
        priority: Priority,
    },
    SetStatus {
        status: Status,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    AddInternalNote {
        body: String,
    },
    /// An in-app notification (`GET /api/v1/notifications`).
    SendNotification {
        to: Recipients,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue_id: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        user_ids: Vec<String>,
        message: String,
    },
    /// A reply to the requester from a template: a customer-facing comment, which the case's
    /// channel delivers (email for email cases).
    SendEmail {
        subject: String,
        body: String,
    },
    /// A message on the case's channel from a template: a customer-facing comment, like
    /// `send_email`, without a subject.
    ChannelNotify {
        body: String,
    },
    /// Sends the case to one webhook subscription (through the webhook outbox).
    Webhook {
        webhook_id: String,
    },
    /// Asks the assistant to categorize the case and applies its category and/or priority when
    /// it is at least `min_confidence` sure (see [`categorize_patch`]).
    Categorize {
        #[serde(default = "Apply::both")]
        apply: Apply,
        #[serde(default = "default_min_confidence")]
        min_confidence: f64,
    },
    /// A follow-up case linked to this one.
    CreateCase {
        subject: String,
        #[serde(default)]
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<Priority>,
    },
}

impl Action {
    /// What it did, for the timeline: "set priority to high".
    pub fn describe(&self) -> String {
        match self {
            Action::AssignToQueue { queue_id } => format!("assigned to queue {queue_id}"),
            Action::AssignToUser { user_id } => format!("assigned to {user_id}"),
            Action::SetPriority { priority } => format!("set priority to {priority}"),
            Action::SetStatus { status } => format!("set status to {status}"),
            Action::AddTag { tag } => format!("added tag {tag}"),
            Action::RemoveTag { tag } => format!("removed tag {tag}"),
            Action::AddInternalNote { .. } => "added an internal note".into(),
            Action::SendNotification { .. } => "sent a notification".into(),
            Action::SendEmail { .. } => "sent an email to the requester".into(),
            Action::ChannelNotify { .. } => "sent a message on the case's channel".into(),
            Action::Webhook { webhook_id } => format!("sent the case to webhook {webhook_id}"),
            Action::CreateCase { .. } => "created a follow-up case".into(),
            Action::Categorize { .. } => "categorized the case".into(),
        }
    }

    /// The ids the action names, as `(field, kind, id)`, for the caller to check they exist.
    pub fn references(&self) -> Vec<(&'static str, crate::ids::IdKind, &str)> {
        use crate::ids::IdKind;
        match self {
            Action::AssignToQueue { queue_id } => vec![("queue_id", IdKind::Queue, queue_id)],
            Action::AssignToUser { user_id } => vec![("user_id", IdKind::User, user_id)],
            Action::Webhook { webhook_id } => vec![("webhook_id", IdKind::Webhook, webhook_id)],
            Action::SendNotification { queue_id, user_ids, .. } => {
                let mut out: Vec<_> = queue_id.iter().map(|q| ("queue_id", IdKind::Queue, q.as_str())).collect();
                out.extend(user_ids.iter().map(|u| ("user_ids", IdKind::User, u.as_str())));
                out
            }
            Action::CreateCase { queue_id, .. } => {
                queue_id.iter().map(|q| ("queue_id", IdKind::Queue, q.as_str())).collect()
            }
            _ => Vec::new(),
        }
    }
}

pub(super) fn parse_actions(v: &Value, errors: &mut Errors) -> Vec<Action> {
    let Some(items) = v.as_array() else {
        errors.add("actions", "must be a list of actions");
        return Vec::new();
    };
    if items.is_empty() {
        errors.add("actions", "a rule needs at least one action");
    }
    if items.len() > MAX_ACTIONS {
        errors.add("actions", format!("at most {MAX_ACTIONS} actions"));
    }
    items.iter().enumerate().filter_map(|(i, a)| parse_action(a, &format!("actions[{i}]"), errors)).collect()
}

/// The action types, for error messages.
pub const ACTION_TYPES: &[&str] = &[
    "assign_to_queue",
    "assign_to_user",
    "set_priority",
    "set_status",
    "add_tag",
    "remove_tag",
    "add_internal_note",
    "send_notification",
    "send_email",
    "channel_notify",
    "webhook",
    "create_case",
    "categorize",
];

/// Reads one action, naming each bad field under `path` (`actions[0].queue_id`).
pub fn parse_action(v: &Value, path: &str, errors: &mut Errors) -> Option<Action> {
    let Some(obj) = v.as_object() else {
        errors.add(path, "must be an object with a type");
        return None;
    };
    let mut f = Fields { obj, path, errors, used: vec!["type"] };
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(k) if ACTION_TYPES.contains(&k) => k,
        Some(k) => {
            f.errors.add(
                format!("{path}.type"),
                format!("unknown action type {k:?}; expected one of {}", ACTION_TYPES.join(", ")),
            );
            return None;
        }
        None => {
            f.errors.add(format!("{path}.type"), "required");
            return None;
        }
    };
    let action = match kind {
        "assign_to_queue" => f.id("queue_id").map(|queue_id| Action::AssignToQueue { queue_id }),
        "assign_to_user" => f.id("user_id").map(|user_id| Action::AssignToUser { user_id }),
        "set_priority" => f.parsed("priority", Priority::parse).map(|priority| Action::SetPriority { priority }),
        "set_status" => f.parsed("status", Status::parse).map(|status| Action::SetStatus { status }),
        "add_tag" => f.parsed("tag", text::tag).map(|tag| Action::AddTag { tag }),
        "remove_tag" => f.parsed("tag", text::tag).map(|tag| Action::RemoveTag { tag }),
        "add_internal_note" => f.template("body", text::MAX_BODY).map(|body| Action::AddInternalNote { body }),
        "send_notification" => {
            let to = f.parsed("to", |s| match s {
                "owner" => Ok(Recipients::Owner),
                "queue" => Ok(Recipients::Queue),
                "users" => Ok(Recipients::Users),
                _ => Err(format!("unknown recipients {s:?}; expected owner, queue or users")),
            });
            let queue_id = f.optional_id("queue_id");
            let user_ids = f.ids("user_ids");
            let message = f.template("message", 2000);
            if to == Some(Recipients::Users) && user_ids.is_empty() {
                f.errors.add(format!("{path}.user_ids"), "name at least one user for to: users");
            }
            Some(Action::SendNotification { to: to?, queue_id, user_ids, message: message? })
        }
        "send_email" => {
            let subject = f.template("subject", text::MAX_LINE);
            let body = f.template("body", text::MAX_BODY);
            Some(Action::SendEmail { subject: subject?, body: body? })
        }
        "channel_notify" => f.template("body", text::MAX_BODY).map(|body| Action::ChannelNotify { body }),
        "webhook" => f.id("webhook_id").map(|webhook_id| Action::Webhook { webhook_id }),
        "create_case" => {
            let subject = f.template("subject", text::MAX_LINE);
            let description = f.optional_template("description", text::MAX_BODY);
            let queue_id = f.optional_id("queue_id");
            let priority = match obj.get("priority") {
                None | Some(Value::Null) => None,
                Some(_) => f.parsed("priority", Priority::parse),
            };
            f.used.push("priority");
            Some(Action::CreateCase { subject: subject?, description, queue_id, priority })
        }
        "categorize" => {
            let apply = match obj.get("apply") {
                None | Some(Value::Null) => Some(Apply::Both),
                Some(_) => f.parsed("apply", Apply::parse),
            };
            f.used.push("apply");
            f.used.push("min_confidence");
            let min_confidence = match obj.get("min_confidence") {
                None | Some(Value::Null) => Some(DEFAULT_MIN_CONFIDENCE),
                Some(v) => match v.as_f64().filter(|c| (0.0..=1.0).contains(c)) {
                    Some(c) => Some(c),
                    None => {
                        f.errors.add(format!("{path}.min_confidence"), "must be a number from 0 to 1");
                        None
                    }
                },
            };
            Some(Action::Categorize { apply: apply?, min_confidence: min_confidence? })
        }
        _ => None,
    };
    for key in obj.keys().filter(|k| !f.used.contains(&k.as_str())) {
        f.errors.add(format!("{path}.{key}"), format!("not a field of {kind}"));
    }
    action
}

/// Reads the fields of one action object, recording errors under its path.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    path: &'a str,
    errors: &'a mut Errors,
    used: Vec<&'static str>,
}

impl Fields<'_> {
    fn str(&mut self, key: &'static str) -> Option<&str> {
        self.used.push(key);
        match self.obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.as_str()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                self.errors.add(format!("{}.{key}", self.path), "required");
                None
            }
            Some(_) => {
                self.errors.add(format!("{}.{key}", self.path), "must be a string");
                None
            }
        }
    }

    fn parsed<T>(&mut self, key: &'static str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let s = self.str(key)?.trim().to_string();
        let path = format!("{}.{key}", self.path);
        self.errors.take(&path, parse(&s))
    }

    fn id(&mut self, key: &'static str) -> Option<String> {
        self.parsed(key, |s| Ok(s.to_string()))
    }

    fn optional_id(&mut self, key: &'static str) -> Option<String> {
        match self.obj.get(key) {
            None | Some(Value::Null) => {
                self.used.push(key);
                None
            }
            Some(_) => self.id(key),
        }
    }

    fn ids(&mut self, key: &'static str) -> Vec<String> {
        self.used.push(key);
        match self.obj.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v.as_str() {
                    Some(s) => Some(s.to_string()),
                    None => {
                        self.errors.add(format!("{}.{key}[{i}]", self.path), "must be a user id");
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.errors.add(format!("{}.{key}", self.path), "must be a list of user ids");
                Vec::new()
            }
        }
    }

    fn template(&mut self, key: &'static str, max: usize) -> Option<String> {
        let s = self.str(key)?.to_string();
        let path = format!("{}.{key}", self.path);
        let s = self.errors.take(&path, text::bounded(&s, max))?;
        self.errors.take(&path, template::check(&s))
    }

    fn optional_template(&mut self, key: &'static str, max: usize) -> String {
        match self.obj.get(key) {
            None | Some(Value::Null) => {
                self.used.push(key);
                String::new()
            }
            Some(_) => self.template(key, max).unwrap_or_default(),
        }
    }
}

/// A suggested category (id, name) or priority with the assistant's confidence.
pub type Suggested<T> = Option<(T, f64)>;

/// What a `categorize` action changes on `case`, given the assistant's suggestions, and what it
/// did or left, in words for the timeline. A category is set only on a case that has none (what
/// someone chose is never overwritten by a guess); a priority when it differs. Either only when
/// the suggestion is at least `min_confidence` sure.
pub fn categorize_patch(
    apply: Apply,
    min_confidence: f64,
    case: &Case,
    category: Suggested<(&str, &str)>,
    priority: Suggested<Priority>,
) -> (CasePatch, Vec<String>) {
    let mut patch = CasePatch::default();
    let mut said = Vec::new();
    if matches!(apply, Apply::Category | Apply::Both) {
        match category {
            _ if case.category_id.is_some() => said.push("left the category someone chose".to_string()),
            None => said.push("found no category".to_string()),
            Some(((_, name), c)) if c < min_confidence => {
                said.push(format!("left the category: {name} is only {c:.2} sure, below {min_confidence:.2}"))
            }
            Some(((id, name), c)) => {
                patch.category_id = Some(Some(id.to_string()));
                said.push(format!("set category to {name} ({c:.2})"));
            }
        }
    }
    if matches!(apply, Apply::Priority | Apply::Both) {
        match priority {
            None => said.push("found no priority".to_string()),
            Some((p, c)) if c < min_confidence => {
                said.push(format!("left the priority: {p} is only {c:.2} sure, below {min_confidence:.2}"))
            }
            Some((p, _)) if p == case.priority => said.push(format!("kept priority {p}")),
            Some((p, c)) => {
                patch.priority = Some(p);
                said.push(format!("set priority to {p} ({c:.2})"));
            }
        }
    }
    (patch, said)
}
