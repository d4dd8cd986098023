//! Rule validation, condition operators, occurrences and the loop guard, as tables.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::*;
use crate::case::{Case, Ctx, NewCase, Priority};
use crate::timeline::Event;

fn now() -> Timestamp {
    "2026-03-02T10:00:00Z".parse().unwrap()
}

fn case() -> Case {
    let tz = TimeZone::UTC;
    let input = NewCase {
        subject: "Printer on fire".into(),
        description: "Paper jam, then smoke".into(),
        priority: Some(Priority::High),
        tags: vec!["hardware".into(), "vip".into()],
        custom_fields: json!({"seats": 40, "region": "EMEA"}).as_object().unwrap().clone(),
        ..Default::default()
    };
    Case::create(input, &Ctx { org_id: "org_1", actor_id: "usr_1", now: now(), tz: &tz }).unwrap()
}

fn cond(field: &str, op: &str, value: Value) -> Result<Condition, Vec<crate::FieldError>> {
    let mut errors = Errors::new();
    let c = parse_condition(&json!({"field": field, "operator": op, "value": value}), "c", &mut errors);
    match errors.finish() {
        Ok(()) => Ok(c.unwrap()),
        Err(DomainError::Validation(e)) => Err(e),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn operators_over_case_fields() {
    let case = case();
    let changes = vec![FieldChange { field: "priority".into(), old: json!("medium"), new: json!("high") }];
    let facts = Facts {
        case: &case,
        requester_name: Some("Ann Lee".into()),
        requester_email: Some("ann@example.com".into()),
        account_tier: Some("gold".into()),
        inside_business_hours: false,
        changes: &changes,
        comment: Some(CommentFacts { internal: false, author_type: "customer".into() }),
        csat: None,
    };
    let table: &[(&str, &str, Value, bool)] = &[
        ("priority", "is", json!("high"), true),
        ("priority", "is", json!("HIGH"), true),
        ("priority", "is_not", json!("high"), false),
        ("priority", "in", json!(["low", "high"]), true),
        ("priority", "in", json!(["low", "critical"]), false),
        ("priority", "greater_than", json!("medium"), true),
        ("priority", "less_than", json!("medium"), false),
        ("priority", "changed", Value::Null, true),
        ("priority", "changed_to", json!("high"), true),
        ("priority", "changed_from", json!("medium"), true),
        ("priority", "changed_from", json!("low"), false),
        ("status", "changed", Value::Null, false),
        ("status", "is", json!("new"), true),
        ("subject", "contains", json!("FIRE"), true),
        ("subject", "contains", json!("water"), false),
        ("tags", "contains", json!("vip"), true),
        ("tags", "is", json!("hardware"), true),
        ("tags", "is_not", json!("billing"), true),
        ("tags", "in", json!(["billing", "vip"]), true),
        ("custom_fields.seats", "greater_than", json!(10), true),
        ("custom_fields.seats", "less_than", json!(10), false),
        ("custom_fields.region", "is", json!("emea"), true),
        ("custom_fields.missing", "is", Value::Null, true),
        ("requester.email", "contains", json!("@example.com"), true),
        ("requester.name", "is", json!("ann lee"), true),
        ("account.tier", "in", json!(["gold", "platinum"]), true),
        ("business_hours", "is", json!("outside"), true),
        ("business_hours", "is_not", json!("outside"), false),
        ("channel", "is", json!("api"), case.channel.as_str() == "api"),
        ("owner_id", "is", Value::Null, true),
        ("comment.author_type", "is", json!("customer"), true),
        ("comment.internal", "is", json!(false), true),
    ];
    for (field, op, value, want) in table {
        let c = cond(field, op, value.clone()).unwrap_or_else(|e| panic!("{field} {op}: {e:?}"));
        assert_eq!(c.holds(&facts), *want, "{field} {op} {value}");
    }
}

#[test]
fn all_and_any() {
    let case = case();
    let facts = Facts {
        case: &case,
        requester_name: None,
        requester_email: None,
        account_tier: None,
        inside_business_hours: true,
        changes: &[],
        comment: None,
        csat: None,
    };
    let c = |f: &str, v: &str| cond(f, "is", json!(v)).unwrap();
    let yes = c("priority", "high");
    let no = c("priority", "low");
    let cases = [
        (vec![], vec![], true),
        (vec![yes.clone()], vec![], true),
        (vec![yes.clone(), no.clone()], vec![], false),
        (vec![yes.clone()], vec![no.clone(), yes.clone()], true),
        (vec![yes.clone()], vec![no.clone()], false),
        (vec![], vec![no.clone()], false),
    ];
    for (all, any, want) in cases {
        assert_eq!(Conditions { all: all.clone(), any: any.clone() }.matches(&facts), want, "{all:?} {any:?}");
    }
}

#[test]
fn conditions_name_each_bad_field() {
    let table: &[(&str, &str, Value, &str)] = &[
        ("colour", "is", json!("red"), "c.field"),
        ("priority", "resembles", json!("high"), "c.operator"),
        ("priority", "is", json!("urgent-ish"), "c.value"),
        ("status", "in", json!([]), "c.value"),
        ("subject", "greater_than", json!(3), "c.operator"),
        ("custom_fields.seats", "greater_than", json!("many"), "c.value"),
        ("business_hours", "is", json!("lunch"), "c.value"),
        ("business_hours", "contains", json!("in"), "c.operator"),
        ("channel", "contains", json!("e"), "c.operator"),
    ];
    for (field, op, value, want) in table {
        let errs = cond(field, op, value.clone()).unwrap_err();
        assert_eq!(errs[0].field, *want, "{field} {op} {value}: {errs:?}");
    }
}

fn rule(input: Value) -> Result<Rule, Vec<crate::FieldError>> {
    let input = RuleInput {
        name: input["name"].as_str().map(str::to_string),
        trigger: input["trigger"].as_str().map(str::to_string),
        after_minutes: input.get("after_minutes").map(Value::as_i64),
        conditions: input.get("conditions").cloned(),
        actions: input.get("actions").cloned(),
        ..Default::default()
    };
    input.apply(Rule::new("rule_1".into(), "org_1", "usr_1", now()), now()).map_err(|e| match e {
        DomainError::Validation(v) => v,
        e => panic!("{e}"),
    })
}

#[test]
fn rule_validation_names_the_path() {
    let ok = rule(json!({
        "name": "Critical to tier 2", "trigger": "case.created",
        "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
        "actions": [{"type": "assign_to_queue", "queue_id": "q_1"}]
    }))
    .unwrap();
    assert_eq!(ok.actions, vec![Action::AssignToQueue { queue_id: "q_1".into() }]);
    let table: &[(Value, &str)] = &[
        (json!({"trigger": "case.created", "actions": [{"type": "add_tag", "tag": "x"}]}), "name"),
        (json!({"name": "n", "trigger": "case.exploded", "actions": [{"type": "add_tag", "tag": "x"}]}), "trigger"),
        (
            json!({"name": "n", "trigger": "time.pending", "actions": [{"type": "add_tag", "tag": "x"}]}),
            "after_minutes",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "after_minutes": 5, "actions": [{"type": "add_tag", "tag": "x"}]}),
            "after_minutes",
        ),
        (json!({"name": "n", "trigger": "case.created", "actions": []}), "actions"),
        (json!({"name": "n", "trigger": "case.created"}), "actions"),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "assign_to_queue"}]}),
            "actions[0].queue_id",
        ),
        (json!({"name": "n", "trigger": "case.created", "actions": [{"type": "launch"}]}), "actions[0].type"),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "add_tag", "tag": "x"}, {"type": "set_priority", "priority": "urgentest"}]}),
            "actions[1].priority",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "add_tag", "tag": "x", "colour": 1}]}),
            "actions[0].colour",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "channel_notify", "body": "Hi {{requester.shoe_size}}"}]}),
            "actions[0].body",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "send_notification", "to": "users", "message": "m"}]}),
            "actions[0].user_ids",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "conditions": {"all": [{"field": "priority", "operator": "is", "value": "high"}, {"field": "tags", "operator": "is", "value": "a"}, {"field": "status", "operator": "sort_of", "value": "new"}]}, "actions": [{"type": "add_tag", "tag": "x"}]}),
            "conditions.all[2].operator",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "conditions": {"some": []}, "actions": [{"type": "add_tag", "tag": "x"}]}),
            "conditions.some",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "categorize", "apply": "colour"}]}),
            "actions[0].apply",
        ),
        (
            json!({"name": "n", "trigger": "case.created", "actions": [{"type": "categorize", "min_confidence": 1.5}]}),
            "actions[0].min_confidence",
        ),
    ];
    for (input, want) in table {
        let errs = rule(input.clone()).unwrap_err();
        assert!(errs.iter().any(|e| e.field == *want), "{input}: want {want}, got {errs:?}");
    }
}

fn event(seq: i64, case: &str, kind: &str, actor: &str, at: &str, data: Value) -> Event {
    Event {
        seq,
        org_id: "org_1".into(),
        case_id: case.into(),
        kind: kind.into(),
        actor_id: Some(actor.into()),
        data,
        created_at: at.parse().unwrap(),
    }
}

#[test]
fn occurrences_group_one_write_and_fire_triggers() {
    let t1 = "2026-03-02T10:00:00Z";
    let t2 = "2026-03-02T10:05:00Z";
    let events = vec![
        event(1, "case_a", "case.created", "usr_1", t1, json!({})),
        event(2, "case_a", "case.assigned", "usr_1", t1, json!({})),
        event(3, "case_b", "case.created", "usr_1", t1, json!({})),
        event(4, "case_a", "field.changed", "usr_2", t2, json!({"field": "priority", "old": "low", "new": "high"})),
        event(5, "case_a", "status.changed", "usr_2", t2, json!({"field": "status", "old": "new", "new": "open"})),
        event(6, "case_a", "comment.added", "usr_3", t2, json!({"internal": true, "author_type": "agent"})),
        event(7, "case_b", "sla.breached", "system", t2, json!({})),
    ];
    let occ = occurrences(events.clone(), true);
    assert_eq!(occ.iter().map(|o| o.first_seq).collect::<Vec<_>>(), vec![1, 3, 4, 6, 7]);
    let fires = |o: &Occurrence| EVENT_TRIGGERS.iter().filter(|t| o.fires(t)).copied().collect::<Vec<_>>();
    assert_eq!(fires(&occ[0]), vec!["case.created"]);
    assert_eq!(fires(&occ[2]), vec!["case.updated", "status.changed", "priority.changed"]);
    assert_eq!(fires(&occ[3]), vec!["comment.added"]);
    assert_eq!(fires(&occ[4]), vec!["sla.breached"]);
    assert_eq!(occ[2].changes().len(), 2);
    assert_eq!(occ[3].comment(), Some(CommentFacts { internal: true, author_type: "agent".into() }));
    // A batch cut short leaves its last write for the next pass, which sees it whole.
    let partial = occurrences(events[..5].to_vec(), false);
    assert_eq!(partial.iter().map(|o| o.first_seq).collect::<Vec<_>>(), vec![1, 3]);
}

#[test]
fn loop_guard() {
    let table = [
        ("rule_a", Some("usr_1"), 0, true),
        ("rule_a", Some("rule_a"), 1, false),
        ("rule_a", Some("rule_b"), 1, true),
        ("rule_a", Some("rule_b"), MAX_DEPTH - 1, true),
        ("rule_a", Some("rule_b"), MAX_DEPTH, false),
        ("rule_a", None, 0, true),
    ];
    for (rule, actor, depth, want) in table {
        assert_eq!(may_run(rule, actor, depth), want, "{rule} {actor:?} {depth}");
    }
    assert!(is_rule_actor("rule_0192abc"));
    assert!(!is_rule_actor("usr_0192abc"));
}

#[test]
fn actions_describe_themselves_for_the_timeline() {
    assert_eq!(Action::SetPriority { priority: Priority::High }.describe(), "set priority to high");
    let json = serde_json::to_value(Action::AssignToQueue { queue_id: "q_1".into() }).unwrap();
    assert_eq!(json, json!({"type": "assign_to_queue", "queue_id": "q_1"}));
}

#[test]
fn categorize_reads_its_options_and_applies_only_confident_suggestions() {
    let r = rule(json!({"name": "n", "trigger": "case.created", "actions": [{"type": "categorize"}, {"type": "categorize", "apply": "priority", "min_confidence": 0.8}]}))
        .unwrap();
    assert_eq!(
        r.actions,
        vec![
            Action::Categorize { apply: Apply::Both, min_confidence: DEFAULT_MIN_CONFIDENCE },
            Action::Categorize { apply: Apply::Priority, min_confidence: 0.8 },
        ]
    );
    let stored: Action = serde_json::from_value(json!({"type": "categorize"})).unwrap();
    assert_eq!(stored, Action::Categorize { apply: Apply::Both, min_confidence: DEFAULT_MIN_CONFIDENCE });

    let mut c = case();
    let billing = Some((("ccat_1", "Billing"), 0.8));
    let (patch, said) = categorize_patch(Apply::Both, 0.5, &c, billing, Some((Priority::Low, 0.6)));
    assert_eq!((patch.category_id, patch.priority), (Some(Some("ccat_1".to_string())), Some(Priority::Low)));
    assert_eq!(said, ["set category to Billing (0.80)", "set priority to low (0.60)"]);
    let (patch, said) = categorize_patch(Apply::Category, 0.9, &c, billing, Some((Priority::Low, 0.95)));
    assert!(patch.is_empty(), "below the bar, and priority not asked for");
    assert_eq!(said, ["left the category: Billing is only 0.80 sure, below 0.90"]);
    let (patch, said) = categorize_patch(Apply::Priority, 0.5, &c, billing, Some((Priority::High, 0.9)));
    assert!(patch.is_empty());
    assert_eq!(said, ["kept priority high"]);
    c.category_id = Some("ccat_9".into());
    let (patch, said) = categorize_patch(Apply::Both, 0.5, &c, billing, None);
    assert!(patch.is_empty(), "a chosen category stays");
    assert_eq!(said, ["left the category someone chose", "found no priority"]);
}
