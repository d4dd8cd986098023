//! Macros: a saved reply and actions an agent applies to a case by hand. Shared macros belong to
//! the organization (admins manage them); personal ones to the agent who made them.

use jiff::Timestamp;
use serde_json::Value;

use crate::automation::{Action, parse_action};
use crate::error::{DomainError, Errors};
use crate::{template, text};

#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    pub id: String,
    pub org_id: String,
    /// `None`: shared with everyone; otherwise the agent it belongs to.
    pub owner_id: Option<String>,
    pub name: String,
    /// The reply, a template (`{{requester.name}}` …); empty for a macro of actions only.
    pub body: String,
    /// Whether the reply is an internal note rather than a reply to the requester.
    pub internal: bool,
    pub actions: Vec<Action>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Macro {
    pub fn new(id: String, org_id: &str, created_by: &str, owner_id: Option<String>, now: Timestamp) -> Macro {
        Macro {
            id,
            org_id: org_id.to_string(),
            owner_id,
            name: String::new(),
            body: String::new(),
            internal: false,
            actions: Vec::new(),
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `user_id` sees (and may apply) it.
    pub fn visible_to(&self, user_id: &str) -> bool {
        self.owner_id.as_deref().is_none_or(|o| o == user_id)
    }
}

/// The actions a macro may take: the ones on the case itself (an agent's own hand, so no
/// notifications, webhooks or follow-up cases).
const MACRO_ACTIONS: &[&str] =
    &["assign_to_queue", "assign_to_user", "set_priority", "set_status", "add_tag", "remove_tag", "add_internal_note"];

#[derive(Debug, Clone, Default)]
pub struct MacroInput {
    pub name: Option<String>,
    pub body: Option<String>,
    pub internal: Option<bool>,
    pub actions: Option<Value>,
}

impl MacroInput {
    pub fn apply(self, mut base: Macro, now: Timestamp) -> Result<Macro, DomainError> {
        let mut errors = Errors::new();
        match self.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(n.trim(), 200)) {
                    base.name = n;
                }
            }
            None if base.name.is_empty() => errors.add("name", "a macro needs a name"),
            None => {}
        }
        if let Some(b) = self.body
            && let Some(b) = errors.take("body", text::bounded(&b, text::MAX_BODY))
            && let Some(b) = errors.take("body", template::check(&b))
        {
            base.body = b;
        }
        if let Some(i) = self.internal {
            base.internal = i;
        }
        if let Some(a) = self.actions {
            match a.as_array() {
                Some(items) => {
                    base.actions = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let path = format!("actions[{i}]");
                        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
                        if !kind.is_empty() && !MACRO_ACTIONS.contains(&kind) {
                            errors.add(
                                format!("{path}.type"),
                                format!("a macro's actions are {}", MACRO_ACTIONS.join(", ")),
                            );
                            continue;
                        }
                        if let Some(action) = parse_action(item, &path, &mut errors) {
                            base.actions.push(action);
                        }
                    }
                }
                None => errors.add("actions", "must be a list of actions"),
            }
        }
        if base.body.trim().is_empty() && base.actions.is_empty() && errors.is_empty() {
            errors.add("body", "a macro needs a reply body or at least one action");
        }
        errors.finish()?;
        base.updated_at = now;
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn apply(input: MacroInput) -> Result<Macro, DomainError> {
        let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        input.apply(Macro::new("mac_1".into(), "org_1", "usr_1", None, now), now)
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn validates_placeholders_and_actions_at_save_time() {
        let ok = apply(MacroInput {
            name: Some("Thanks".into()),
            body: Some("Hi {{requester.name}}, case {{case.number}} is solved.".into()),
            actions: Some(json!([{"type": "set_status", "status": "resolved"}])),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.actions.len(), 1);
        let bad = apply(MacroInput {
            name: Some("Bad".into()),
            body: Some("Hi {{requester.nickname}}".into()),
            actions: Some(json!([{"type": "webhook", "webhook_id": "wh_1"}, {"type": "set_priority"}])),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(bad), vec!["body", "actions[0].type", "actions[1].priority"]);
        let empty = apply(MacroInput { name: Some("Nothing".into()), ..Default::default() }).unwrap_err();
        assert_eq!(fields(empty), vec!["body"]);
    }

    #[test]
    fn personal_macros_are_their_owners() {
        let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        let shared = Macro::new("mac_1".into(), "org_1", "usr_1", None, now);
        let mine = Macro::new("mac_2".into(), "org_1", "usr_1", Some("usr_1".into()), now);
        assert!(shared.visible_to("usr_2"));
        assert!(mine.visible_to("usr_1"));
        assert!(!mine.visible_to("usr_2"));
    }
}
