//! Conditions: what a rule tests of a case (`field operator value`, in `all` and `any` lists),
//! how they are read from a request (each mistake named by its path), and how they are
//! evaluated over [`Facts`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MAX_CONDITIONS;
use crate::case::{CaseType, Channel, Priority, Status};
use crate::error::Errors;

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
    "csat.rating",
    "csat.positive",
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

pub(super) fn parse_conditions(v: &Value, errors: &mut Errors) -> Conditions {
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

pub(super) fn parse_condition(v: &Value, path: &str, errors: &mut Errors) -> Option<Condition> {
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
    let ordered = matches!(field, "priority" | "csat.rating") || custom_field_key(field).is_some();
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
            "csat.rating" => match v {
                Value::String(r)
                    if matches!(
                        r.trim().to_ascii_lowercase().as_str(),
                        "good" | "bad" | "1" | "2" | "3" | "4" | "5"
                    ) =>
                {
                    Ok(())
                }
                Value::Number(n) if n.as_i64().is_some_and(|n| (1..=5).contains(&n)) => Ok(()),
                _ => Err("expected good, bad or 1 to 5".into()),
            },
            "is_waiting" | "comment.internal" | "csat.positive" => {
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

/// The answer a `csat.received` occurrence is about.
#[derive(Debug, Clone, PartialEq)]
pub struct CsatFacts {
    /// `good`/`bad`, or `1`–`5`.
    pub rating: String,
    pub positive: bool,
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
    /// The survey answer of a `csat.received` occurrence.
    pub csat: Option<CsatFacts>,
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
            "csat.rating" => self.csat.as_ref().map_or(Value::Null, |c| Value::String(c.rating.clone())),
            "csat.positive" => self.csat.as_ref().map_or(Value::Null, |c| Value::Bool(c.positive)),
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
