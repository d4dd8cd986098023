//! Automation rules: a trigger (an event on a case, or time spent in a state), conditions over
//! the case, and the actions to take when they hold — and the guard that keeps rules from
//! triggering each other forever.
//!
//! Pure: which rules fire for which events, and whether a case matches, are functions of their
//! inputs. Running the actions (routing, comments, notifications) is the core's job.
//!
//! Layout: [`Rule`] and [`RuleInput`] (validation naming each field: `conditions.all[2].operator`,
//! `actions[0].queue_id`); [`conditions`](Conditions) and their evaluation over [`Facts`];
//! [`Action`]; [`Occurrence`]: the events one write made on a case, and which triggers they fire.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::case::{CaseType, Channel, Priority, Status};
use crate::error::{DomainError, Errors};
use crate::template;
use crate::text;
use crate::timeline::Event;

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

/// The operators of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Is,
    IsNot,
    In,
    Contains,
    GreaterThan,
    LessThan,
    /// The write that fired the rule changed the field.
    Changed,
    ChangedTo,
    ChangedFrom,
}

impl Operator {
    const ALL: &[(&str, Operator)] = &[
        ("is", Operator::Is),
        ("is_not", Operator::IsNot),
        ("in", Operator::In),
        ("contains", Operator::Contains),
        ("greater_than", Operator::GreaterThan),
        ("less_than", Operator::LessThan),
        ("changed", Operator::Changed),
        ("changed_to", Operator::ChangedTo),
        ("changed_from", Operator::ChangedFrom),
    ];

    fn parse(s: &str) -> Result<Operator, String> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, o)| *o).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
            format!("unknown operator {s:?}; expected one of {}", names.join(", "))
        })
    }
}

/// The fields a condition can test, besides `custom_fields.<key>`.
pub const FIELDS: &[&str] = &[
    "subject",
    "description",
    "status",
    "priority",
    "type",
    "channel",
    "queue_id",
    "owner_id",
    "requester_id",
    "account_id",
    "category_id",
    "tags",
    "is_waiting",
    "requester.name",
    "requester.email",
    "account.tier",
    "business_hours",
    "comment.internal",
    "comment.author_type",
];

/// One test of a case: `field operator value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub operator: Operator,
    #[serde(default)]
    pub value: Value,
}

/// A rule's conditions: every one of `all`, and at least one of `any` (when it has any).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default)]
    pub all: Vec<Condition>,
    #[serde(default)]
    pub any: Vec<Condition>,
}

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

fn parse_conditions(v: &Value, errors: &mut Errors) -> Conditions {
    let mut out = Conditions::default();
    let Some(obj) = v.as_object() else {
        errors.add("conditions", "must be an object with \"all\" and/or \"any\" lists");
        return out;
    };
    for key in obj.keys().filter(|k| !matches!(k.as_str(), "all" | "any")) {
        errors.add(format!("conditions.{key}"), "unknown key; expected all or any");
    }
    for (key, list) in [("all", &mut out.all), ("any", &mut out.any)] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.len() > MAX_CONDITIONS => {
                errors.add(format!("conditions.{key}"), format!("at most {MAX_CONDITIONS} conditions"))
            }
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(c) = parse_condition(item, &format!("conditions.{key}[{i}]"), errors) {
                        list.push(c);
                    }
                }
            }
            Some(_) => errors.add(format!("conditions.{key}"), "must be a list of conditions"),
        }
    }
    out
}

fn parse_condition(v: &Value, path: &str, errors: &mut Errors) -> Option<Condition> {
    let Some(obj) = v.as_object() else {
        errors.add(path, "must be an object with field, operator and value");
        return None;
    };
    for key in obj.keys().filter(|k| !matches!(k.as_str(), "field" | "operator" | "value")) {
        errors.add(format!("{path}.{key}"), "unknown key; expected field, operator, value");
    }
    let field = match obj.get("field").and_then(Value::as_str) {
        Some(f) if FIELDS.contains(&f) || custom_field_key(f).is_some() => Some(f.to_string()),
        Some(f) => {
            errors.add(
                format!("{path}.field"),
                format!("unknown field {f:?}; expected custom_fields.<key> or one of {}", FIELDS.join(", ")),
            );
            None
        }
        None => {
            errors.add(format!("{path}.field"), "required");
            None
        }
    };
    let operator = match obj.get("operator").and_then(Value::as_str) {
        Some(o) => errors.take(&format!("{path}.operator"), Operator::parse(o)),
        None => {
            errors.add(format!("{path}.operator"), "required");
            None
        }
    };
    let value = obj.get("value").cloned().unwrap_or(Value::Null);
    let (field, operator) = (field?, operator?);
    if let Err(m) = check_operator(&field, operator) {
        errors.add(format!("{path}.operator"), m);
        return None;
    }
    if let Err(m) = check_value(&field, operator, &value) {
        errors.add(format!("{path}.value"), m);
        return None;
    }
    Some(Condition { field, operator, value })
}

fn custom_field_key(f: &str) -> Option<&str> {
    f.strip_prefix("custom_fields.").filter(|k| !k.is_empty() && k.len() <= 100)
}

/// Which operators make sense on which field.
fn check_operator(field: &str, op: Operator) -> Result<(), String> {
    let ordered = matches!(field, "priority") || custom_field_key(field).is_some();
    match op {
        Operator::GreaterThan | Operator::LessThan if !ordered => {
            Err(format!("{field} has no order; greater_than and less_than work on priority and custom fields"))
        }
        Operator::Is | Operator::IsNot => Ok(()),
        _ if field == "business_hours" => Err("business_hours takes is or is_not (inside / outside)".into()),
        Operator::Contains
            if !matches!(field, "subject" | "description" | "tags" | "requester.name" | "requester.email")
                && custom_field_key(field).is_none() =>
        {
            Err(format!("contains works on text fields and tags, not {field}"))
        }
        _ => Ok(()),
    }
}

/// The value a condition compares with, checked against the field's kind.
fn check_value(field: &str, op: Operator, v: &Value) -> Result<(), String> {
    let one = |v: &Value| -> Result<(), String> {
        let s = v.as_str();
        match field {
            "status" => Status::parse(s.unwrap_or("")).map(|_| ()),
            "priority" => Priority::parse_json(v).map(|_| ()),
            "type" => CaseType::parse(s.unwrap_or("")).map(|_| ()),
            "channel" => Channel::parse(s.unwrap_or("")).map(|_| ()),
            "business_hours" => match s {
                Some("inside" | "outside") => Ok(()),
                _ => Err("expected \"inside\" or \"outside\"".into()),
            },
            "is_waiting" | "comment.internal" => {
                v.as_bool().map(|_| ()).ok_or_else(|| "expected true or false".to_string())
            }
            "comment.author_type" => crate::timeline::AuthorType::parse(s.unwrap_or("")).map(|_| ()),
            _ if custom_field_key(field).is_some() => Ok(()),
            _ => match v {
                Value::String(_) | Value::Null => Ok(()),
                _ => Err("expected a string".into()),
            },
        }
    };
    match op {
        Operator::Changed => Ok(()),
        Operator::In => match v.as_array() {
            Some(items) if !items.is_empty() => items.iter().try_for_each(one),
            _ => Err("in takes a non-empty list of values".into()),
        },
        Operator::GreaterThan | Operator::LessThan if field != "priority" => {
            v.as_f64().map(|_| ()).ok_or_else(|| "expected a number".to_string())
        }
        Operator::Contains if field == "tags" => v.as_str().map(|_| ()).ok_or_else(|| "expected a tag".to_string()),
        Operator::Contains => match v {
            Value::String(s) if !s.is_empty() => Ok(()),
            _ if custom_field_key(field).is_some() && !v.is_null() => Ok(()),
            _ => Err("expected a non-empty string".into()),
        },
        _ if field == "tags" => v.as_str().map(|_| ()).ok_or_else(|| "expected a tag".to_string()),
        _ => one(v),
    }
}

fn parse_actions(v: &Value, errors: &mut Errors) -> Vec<Action> {
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

// ---- evaluation ---------------------------------------------------------------------------

/// A field a write changed: its name as the timeline records it (`priority`, `owner_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// The comment a `comment.added` occurrence is about.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentFacts {
    pub internal: bool,
    pub author_type: String,
}

/// What conditions are evaluated against: the case as it is now and what it is related to.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub case: &'a crate::case::Case,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub account_tier: Option<String>,
    /// Whether now is within the business hours of the case's calendar.
    pub inside_business_hours: bool,
    /// What the write that fired the rule changed (empty for time triggers).
    pub changes: &'a [FieldChange],
    pub comment: Option<CommentFacts>,
}

impl Facts<'_> {
    fn value(&self, field: &str) -> Value {
        let c = self.case;
        let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        match field {
            "subject" => Value::String(c.subject.clone()),
            "description" => Value::String(c.description.clone()),
            "status" => Value::String(c.status.as_str().into()),
            "priority" => Value::String(c.priority.as_str().into()),
            "type" => Value::String(c.case_type.as_str().into()),
            "channel" => Value::String(c.channel.as_str().into()),
            "queue_id" => opt(&c.queue_id),
            "owner_id" => opt(&c.owner_id),
            "requester_id" => Value::String(c.requester_id.clone()),
            "account_id" => opt(&c.account_id),
            "category_id" => opt(&c.category_id),
            "tags" => Value::Array(c.tags.iter().cloned().map(Value::String).collect()),
            "is_waiting" => Value::Bool(c.is_waiting),
            "requester.name" => opt(&self.requester_name),
            "requester.email" => opt(&self.requester_email),
            "account.tier" => opt(&self.account_tier),
            "business_hours" => Value::String(if self.inside_business_hours { "inside" } else { "outside" }.into()),
            "comment.internal" => self.comment.as_ref().map_or(Value::Null, |c| Value::Bool(c.internal)),
            "comment.author_type" => {
                self.comment.as_ref().map_or(Value::Null, |c| Value::String(c.author_type.clone()))
            }
            f => custom_field_key(f).and_then(|k| c.custom_fields.get(k)).cloned().unwrap_or(Value::Null),
        }
    }

    /// The change of `field` in the firing write (custom fields: of `custom_fields`' key).
    fn change(&self, field: &str) -> Option<(Value, Value)> {
        let name = match field {
            "type" => "case_type",
            f => f,
        };
        if let Some(key) = custom_field_key(field) {
            let c = self.changes.iter().find(|c| c.field == "custom_fields")?;
            let (old, new) =
                (c.old.get(key).cloned().unwrap_or(Value::Null), c.new.get(key).cloned().unwrap_or(Value::Null));
            return (old != new).then_some((old, new));
        }
        self.changes.iter().find(|c| c.field == name || c.field == field).map(|c| (c.old.clone(), c.new.clone()))
    }
}

impl Conditions {
    /// Whether the case matches: every `all`, and one of `any` when there are any.
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        self.all.iter().all(|c| c.holds(facts)) && (self.any.is_empty() || self.any.iter().any(|c| c.holds(facts)))
    }
}

impl Condition {
    pub fn holds(&self, facts: &Facts<'_>) -> bool {
        let actual = facts.value(&self.field);
        let field = self.field.as_str();
        match self.operator {
            Operator::Is => is(field, &actual, &self.value),
            Operator::IsNot => !is(field, &actual, &self.value),
            Operator::In => self.value.as_array().is_some_and(|vs| vs.iter().any(|v| is(field, &actual, v))),
            Operator::Contains => contains(&actual, &self.value),
            Operator::GreaterThan => compare(field, &actual, &self.value).is_some_and(|o| o.is_gt()),
            Operator::LessThan => compare(field, &actual, &self.value).is_some_and(|o| o.is_lt()),
            Operator::Changed => facts.change(field).is_some(),
            Operator::ChangedTo => facts.change(field).is_some_and(|(_, new)| same(&new, &self.value)),
            Operator::ChangedFrom => facts.change(field).is_some_and(|(old, _)| same(&old, &self.value)),
        }
    }
}

/// Equality of a field with a value: text ignoring case; a list field (tags) holds the value.
fn is(field: &str, actual: &Value, want: &Value) -> bool {
    match actual {
        Value::Array(items) if field == "tags" => items.iter().any(|i| same(i, want)),
        _ => same(actual, want),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.trim().eq_ignore_ascii_case(y.trim()),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::Number(y)) | (Value::Number(y), Value::String(x)) => {
            x.trim().parse::<f64>().ok() == y.as_f64()
        }
        _ => a == b,
    }
}

fn contains(actual: &Value, want: &Value) -> bool {
    match (actual, want) {
        (Value::Array(items), w) => items.iter().any(|i| same(i, w)),
        (Value::String(s), Value::String(w)) => s.to_lowercase().contains(&w.to_lowercase()),
        _ => false,
    }
}

fn compare(field: &str, actual: &Value, want: &Value) -> Option<std::cmp::Ordering> {
    if field == "priority" {
        let a = Priority::parse_json(actual).ok()?;
        let b = Priority::parse_json(want).ok()?;
        return Some(a.rank().cmp(&b.rank()));
    }
    let num = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    num(actual)?.partial_cmp(&num(want)?)
}

// ---- occurrences: the events of one write -------------------------------------------------

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
            "comment.added" | "sla.warning" | "sla.breached" | "milestone.overdue" => self.has(trigger),
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

#[cfg(test)]
mod tests;
