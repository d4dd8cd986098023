//! Automation rules and macros over HTTP: CRUD and validation naming each field, the three
//! automation patterns of seed 000 (a critical case goes to a queue, an SLA breach alerts an
//! agent, a new case gets a channel message from a template), each event trigger, time triggers
//! on the manual clock, the loop guard, dry runs, the webhook and follow-up-case actions,
//! macros with placeholders, notifications, and organization isolation.
//!
//! The server's own background worker runs rules too; every run is claimed once in the
//! database, so which of the two got to an event never changes what a test sees — only when.
//! Where a test drives the evaluator itself (time rules, the SLA sweep) it waits for the
//! recorded outcome rather than for a time.

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};
use crate::routing::{MONDAY_0900_BERLIN, entries, get_case, id, patch_case, queue, ts};

async fn rule(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v1/automation-rules", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "create rule: {}", r.body);
    id(&r.body)
}

async fn comments(app: &TestApp, case: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cases/{case}/comments?limit=200")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

fn tags(case: &Value) -> Vec<String> {
    case["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

/// On PostgreSQL a request answers once its rules ran, unless its events were not yet readable
/// within its short wait (other transactions still open, as under this suite's parallel load);
/// then the worker applies them moments later. SQLite's answers always show them.
fn on_postgres() -> bool {
    std::env::var("CASEDESK_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// The case once the rules its last write triggered have run: the write's answer on SQLite,
/// on PostgreSQL read until `done` holds.
pub(crate) async fn settled(app: &TestApp, answer: Value, done: impl Fn(&Value) -> bool) -> Value {
    if !on_postgres() {
        assert!(done(&answer), "the answer shows the rules' effect: {answer}");
        return answer;
    }
    let case = id(&answer);
    eventually("the rules' effect", || async { done(&get_case(app, &case).await) }).await;
    get_case(app, &case).await
}

/// Waits (bounded) until `check` holds: for outcomes the background worker may be recording
/// at the same moment as the test's own call.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    // Generous: on PostgreSQL under the suite's parallel load an event can take seconds to
    // become readable, and each link of a chain of rules waits for the one before.
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test]
async fn rules_crud_validation_permissions_and_isolation() {
    let app = spawn_app().await;
    let q = queue(&app, json!({"name": "Tier 2", "assignment_method": "manual"})).await;
    let body = json!({
        "name": "Critical to tier 2",
        "trigger": "case.created",
        "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
        "actions": [{"type": "assign_to_queue", "queue_id": q}]
    });
    let r = app.post("/api/v1/automation-rules", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rule_id = id(&r.body);
    assert!(rule_id.starts_with("rule_"));
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["actions"], json!([{"type": "assign_to_queue", "queue_id": q}]));
    assert_eq!(r.body["conditions"]["all"][0]["operator"], "is");

    let got = app.get(&format!("/api/v1/automation-rules/{rule_id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["name"], "Critical to tier 2");
    let list = app.get("/api/v1/automation-rules").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);

    let off = app.patch(&format!("/api/v1/automation-rules/{rule_id}"), json!({"active": false, "position": 3})).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!((off.body["active"].clone(), off.body["position"].clone()), (json!(false), json!(3)));

    // Validation names each field, and nothing is written.
    let bad = app
        .post(
            "/api/v1/automation-rules",
            json!({
                "name": "Bad",
                "trigger": "case.created",
                "conditions": {"all": [
                    {"field": "priority", "operator": "is", "value": "high"},
                    {"field": "tags", "operator": "contains", "value": "vip"},
                    {"field": "status", "operator": "looks_like", "value": "new"}
                ]},
                "actions": [{"type": "assign_to_queue", "queue_id": "q_doesnotexist"}]
            }),
        )
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["conditions.all[2].operator"]);
    let missing_queue = app
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Bad", "trigger": "case.created", "actions": [{"type": "assign_to_queue", "queue_id": "q_doesnotexist"}]}),
        )
        .await;
    missing_queue.assert_problem(422, "validation_failed");
    assert_eq!(missing_queue.error_fields(), ["actions[0].queue_id"]);
    let placeholder = app
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Bad", "trigger": "case.created", "actions": [{"type": "channel_notify", "body": "Hi {{requester.shoe_size}}"}]}),
        )
        .await;
    assert_eq!(placeholder.error_fields(), ["actions[0].body"]);
    let timed = app
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Bad", "trigger": "time.pending", "actions": [{"type": "add_tag", "tag": "x"}]}),
        )
        .await;
    assert_eq!(timed.error_fields(), ["after_minutes"]);
    assert_eq!(app.get("/api/v1/automation-rules").await.body["data"].as_array().unwrap().len(), 1);

    // Agents may not manage rules; another organization's rule is a 404 like a missing one.
    let (_, agent) = app.agent().await;
    let r = app.call(Method::GET, "/api/v1/automation-rules", Some(&agent), None, &[]).await;
    r.assert_problem(403, "forbidden");
    let (_, other) = app.other_org().await;
    let path = format!("/api/v1/automation-rules/{rule_id}");
    app.call(Method::GET, &path, Some(&other), None, &[]).await.assert_problem(404, "not_found");
    let patch = json!({"active": true});
    app.call(Method::PATCH, &path, Some(&other), Some(&patch), &[]).await.assert_problem(404, "not_found");
    app.call(Method::DELETE, &path, Some(&other), None, &[]).await.assert_problem(404, "not_found");
    let dry = format!("{path}/dry-run");
    app.call(Method::POST, &dry, Some(&other), None, &[]).await.assert_problem(404, "not_found");

    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

/// Seed 000: "case.created + priority critical → assign_to_queue".
#[tokio::test]
async fn seed_a_critical_case_is_already_in_the_queue_when_its_creation_answers() {
    let app = spawn_app().await;
    let q = queue(&app, json!({"name": "Critical response", "assignment_method": "round_robin"})).await;
    let (responder, _) = app.agent().await;
    crate::routing::join(&app, &q, &responder, json!({})).await;
    rule(
        &app,
        json!({
            "name": "Critical to the response team",
            "trigger": "case.created",
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
            "actions": [{"type": "assign_to_queue", "queue_id": q}]
        }),
    )
    .await;
    let critical = app.create_case(json!({"subject": "Production down", "priority": "critical"})).await;
    let critical = settled(&app, critical, |c| c["queue_id"] == q.as_str()).await;
    assert_eq!(critical["owner_id"], responder.as_str(), "the queue's router assigned it");
    let normal = app.create_case(json!({"subject": "Question", "priority": "low"})).await;
    assert_eq!(normal["queue_id"], Value::Null);

    let runs = entries(&app, &id(&critical), "rule.applied").await;
    assert_eq!(runs.len(), 1);
    let summary = runs[0]["data"]["summary"].as_str().unwrap();
    assert_eq!(summary, format!("Rule Critical to the response team assigned to queue {q}"));
    assert!(runs[0]["actor_id"].as_str().unwrap().starts_with("rule_"));
    assert!(entries(&app, &id(&normal), "rule.applied").await.is_empty());
}

/// Seed 000: "SLA breach → send_notification" (the escalation alert), read in the agent's
/// notifications.
#[tokio::test]
async fn seed_an_sla_breach_notifies_the_queue() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let pol = app
        .post(
            "/api/v1/sla-policies",
            json!({"name": "Urgent", "rules": [{"priority": "critical", "first_response_minutes": 30}]}),
        )
        .await;
    assert_eq!(pol.status, StatusCode::CREATED, "{}", pol.body);
    let q = queue(&app, json!({"name": "Urgent", "assignment_method": "manual", "sla_policy_id": id(&pol.body)})).await;
    let (agent_id, agent) = app.agent().await;
    crate::routing::join(&app, &q, &agent_id, json!({})).await;
    rule(
        &app,
        json!({
            "name": "Escalation alert",
            "trigger": "sla.breached",
            "actions": [{"type": "send_notification", "to": "queue", "message": "SLA breached on case #{{case.number}}: {{case.subject}}"}]
        }),
    )
    .await;
    rule(
        &app,
        json!({"name": "Warned", "trigger": "sla.warning", "actions": [{"type": "add_tag", "tag": "sla-warned"}]}),
    )
    .await;
    let case = app.create_case(json!({"subject": "Site down", "priority": "critical", "queue_id": q})).await;
    let number = case["case_number"].as_i64().unwrap();

    // 80 % of the 30 minutes: the warning, and its rule.
    app.clock.as_ref().unwrap().advance(SignedDuration::from_mins(25));
    app.core.sweep_sla().await.unwrap();
    app.core.run_all_automation().await.unwrap();
    eventually("the warning's rule", || async { tags(&get_case(&app, &id(&case)).await) == ["sla-warned"] }).await;
    let none = app.call(Method::GET, "/api/v1/notifications", Some(&agent), None, &[]).await;
    assert_eq!(none.body["data"].as_array().unwrap().len(), 0, "no breach yet");

    app.clock.as_ref().unwrap().advance(SignedDuration::from_mins(6));
    app.core.sweep_sla().await.unwrap();
    app.core.run_all_automation().await.unwrap();
    let path = "/api/v1/notifications?unread=true";
    eventually("the escalation alert", || async {
        let r = app.call(Method::GET, path, Some(&agent), None, &[]).await;
        r.body["data"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    let alert = app.call(Method::GET, path, Some(&agent), None, &[]).await.body["data"][0].clone();
    assert_eq!(alert["message"], format!("SLA breached on case #{number}: Site down"));
    assert_eq!(alert["case_id"], case["id"]);
    assert_eq!(alert["read"], false);
    // The admin (not a queue member) got none.
    assert_eq!(app.get("/api/v1/notifications").await.body["data"].as_array().unwrap().len(), 0);

    let read =
        app.call(Method::POST, &format!("/api/v1/notifications/{}/read", id(&alert)), Some(&agent), None, &[]).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["read"], true);
    let unread = app.call(Method::GET, path, Some(&agent), None, &[]).await;
    assert_eq!(unread.body["data"].as_array().unwrap().len(), 0);
    // Someone else's notification is a 404.
    let theirs = app.post(&format!("/api/v1/notifications/{}/read", id(&alert)), json!({})).await;
    theirs.assert_problem(404, "not_found");
}

/// Seed 000: "case.created → channel_notify with a template message": a customer-facing
/// comment by the system, which the case's channel delivers.
#[tokio::test]
async fn seed_a_new_case_gets_a_templated_channel_message() {
    let app = spawn_app().await;
    let contact =
        id(&app.post("/api/v1/contacts", json!({"name": "Ana <Silva>", "email": "ana@example.com"})).await.body);
    rule(
        &app,
        json!({
            "name": "Acknowledge",
            "trigger": "case.created",
            "actions": [{"type": "channel_notify", "body": "Hi {{requester.name}}, we received case #{{ case.number }} ({{case.subject}})."}]
        }),
    )
    .await;
    let case = app.create_case(json!({"subject": "Printer jam", "requester_id": contact, "contact_id": contact})).await;
    eventually("the message", || async { !comments(&app, &id(&case)).await.is_empty() }).await;
    let all = comments(&app, &id(&case)).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let number = case["case_number"].as_i64().unwrap();
    assert_eq!(all[0]["body"], format!("Hi Ana <Silva>, we received case #{number} (Printer jam)."));
    assert_eq!((all[0]["internal"].clone(), all[0]["author_type"].clone()), (json!(false), json!("system")));

    // Seed 004's resolution confirmation: send_email renders subject and body into a
    // customer-facing comment, which the case's channel delivers.
    rule(
        &app,
        json!({
            "name": "Resolution confirmation", "trigger": "status.changed",
            "conditions": {"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
            "actions": [{"type": "send_email", "subject": "Case #{{case.number}} is resolved", "body": "Dear {{requester.name}}, reply to reopen it."}]
        }),
    )
    .await;
    patch_case(&app, &id(&case), json!({"status": "resolved"})).await;
    eventually("the email", || async { comments(&app, &id(&case)).await.len() == 2 }).await;
    let email = &comments(&app, &id(&case)).await[1];
    assert_eq!(email["body"], format!("Case #{number} is resolved\n\nDear Ana <Silva>, reply to reopen it."));
    assert_eq!((email["internal"].clone(), email["author_type"].clone()), (json!(false), json!("system")));
}

#[tokio::test]
async fn each_event_trigger_fires_on_its_change_only() {
    let app = spawn_app().await;
    let (agent_id, agent) = app.agent().await;
    for (trigger, tag) in [
        ("case.updated", "t-updated"),
        ("status.changed", "t-status"),
        ("priority.changed", "t-priority"),
        ("assignee.changed", "t-assignee"),
    ] {
        rule(&app, json!({"name": trigger, "trigger": trigger, "actions": [{"type": "add_tag", "tag": tag}]})).await;
    }
    rule(
        &app,
        json!({
            "name": "Customer replied", "trigger": "comment.added",
            "conditions": {"all": [{"field": "comment.author_type", "operator": "is", "value": "customer"}]},
            "actions": [{"type": "add_tag", "tag": "t-customer"}]
        }),
    )
    .await;
    rule(
        &app,
        json!({
            "name": "Escalated to high", "trigger": "priority.changed",
            "conditions": {"all": [{"field": "priority", "operator": "changed_to", "value": "high"}]},
            "actions": [{"type": "add_internal_note", "body": "Now {{case.priority}}"}]
        }),
    )
    .await;
    let c = id(&app.create_case(json!({"subject": "Triggers"})).await);
    assert!(tags(&get_case(&app, &c).await).is_empty(), "creation fires none of them");

    let tagged = |want: &'static [&'static str]| move |c: &Value| tags(c) == want;
    let after = patch_case(&app, &c, json!({"priority": "high"})).await;
    settled(&app, after, tagged(&["t-updated", "t-priority"])).await;
    eventually("the note", || async { comments(&app, &c).await.len() == 1 }).await;
    assert_eq!(comments(&app, &c).await[0]["body"], "Now high");
    let after = patch_case(&app, &c, json!({"status": "pending"})).await;
    settled(&app, after, tagged(&["t-updated", "t-priority", "t-status"])).await;
    let after = patch_case(&app, &c, json!({"owner_id": agent_id})).await;
    settled(&app, after, tagged(&["t-updated", "t-priority", "t-status", "t-assignee"])).await;

    // An agent's internal note is not a customer's message.
    let note = json!({"body": "checking", "internal": true});
    let path = format!("/api/v1/cases/{c}/comments");
    assert_eq!(app.call(Method::POST, &path, Some(&agent), Some(&note), &[]).await.status, StatusCode::CREATED);
    assert!(!tags(&get_case(&app, &c).await).contains(&"t-customer".to_string()));
    let reply = json!({"body": "it works now", "author_type": "customer"});
    assert_eq!(app.post(&path, reply).await.status, StatusCode::CREATED);
    eventually("the customer tag", || async { tags(&get_case(&app, &c).await).contains(&"t-customer".to_string()) })
        .await;
}

#[tokio::test]
async fn rules_do_not_loop() {
    let app = spawn_app().await;
    // A rule whose own change would trigger it again.
    let touch = rule(&app, json!({"name": "Touch", "trigger": "case.updated", "actions": [{"type": "add_tag", "tag": "touched"}, {"type": "remove_tag", "tag": "fresh"}]})).await;
    // Two rules that undo each other's change, forever but for the depth limit.
    rule(
        &app,
        json!({"name": "Down", "trigger": "priority.changed",
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": "high"}]},
            "actions": [{"type": "set_priority", "priority": "low"}]}),
    )
    .await;
    rule(
        &app,
        json!({"name": "Up", "trigger": "priority.changed",
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": "low"}]},
            "actions": [{"type": "set_priority", "priority": "high"}]}),
    )
    .await;
    let c = id(&app.create_case(json!({"subject": "Ping pong", "tags": ["fresh"]})).await);
    let after = patch_case(&app, &c, json!({"subject": "Ping pong!"})).await;
    settled(&app, after, |c| tags(c) == ["touched"]).await;
    let runs = entries(&app, &c, "rule.applied").await;
    let touched: Vec<_> = runs.iter().filter(|r| r["actor_id"] == touch.as_str()).collect();
    assert_eq!(touched.len(), 1, "its own change does not fire it again: {runs:?}");
    assert_eq!(tags(&get_case(&app, &c).await), ["touched"]);

    patch_case(&app, &c, json!({"priority": "high"})).await;
    let flip_runs = || async {
        entries(&app, &c, "rule.applied")
            .await
            .into_iter()
            .filter(|r| r["data"]["trigger"] == "priority.changed")
            .count()
    };
    eventually("the chain", || async { flip_runs().await >= 4 }).await;
    let flips: Vec<_> = entries(&app, &c, "rule.applied")
        .await
        .into_iter()
        .filter(|r| r["data"]["rule_name"] == "Down" || r["data"]["rule_name"] == "Up")
        .map(|r| (r["data"]["rule_name"].as_str().unwrap().to_string(), r["data"]["depth"].as_i64().unwrap()))
        .collect();
    // Rules of one event see the changes of the rules before them (Up finds the case low right
    // after Down); each later link of the chain is one deeper, and the chain ends at the limit.
    // Which rule makes the deeper links depends on which of the two depth-1 events an evaluator
    // reads first (the request's and the worker's run side by side on PostgreSQL); the links
    // still alternate.
    let pairs = |v: &[(&str, i64)]| v.iter().map(|(n, d)| (n.to_string(), *d)).collect::<Vec<_>>();
    assert_eq!(flips[..2], pairs(&[("Down", 0), ("Up", 0)]), "both rules on the first change: {flips:?}");
    let depths: Vec<i64> = flips.iter().map(|(_, d)| *d).collect();
    assert_eq!(depths, [0, 0, 1, 2], "the chain stops at the depth limit: {flips:?}");
    assert_ne!(flips[2].0, flips[3].0, "each link undoes the one before: {flips:?}");
    assert_eq!(get_case(&app, &c).await["priority"], "high");
}

#[tokio::test]
async fn time_rules_fire_once_per_episode_on_the_manual_clock() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    rule(
        &app,
        json!({"name": "Nudge", "trigger": "time.pending", "after_minutes": 60,
            "actions": [{"type": "add_internal_note", "body": "Pending an hour on #{{case.number}}"}]}),
    )
    .await;
    rule(
        &app,
        json!({"name": "Chase", "trigger": "time.no_agent_reply", "after_minutes": 120,
            "conditions": {"all": [{"field": "priority", "operator": "is", "value": "high"}]},
            "actions": [{"type": "add_tag", "tag": "no-reply-2h"}]}),
    )
    .await;
    let clock = app.clock.clone().unwrap();
    let c = id(&app.create_case(json!({"subject": "Waiting", "priority": "high"})).await);
    let quiet = id(&app.create_case(json!({"subject": "Low", "priority": "low"})).await);
    patch_case(&app, &c, json!({"status": "pending"})).await;
    let notes = || async { comments(&app, &c).await.iter().filter(|x| x["internal"] == true).count() };

    clock.advance(SignedDuration::from_mins(59));
    app.core.run_time_rules().await.unwrap();
    assert_eq!(notes().await, 0, "not an hour yet");
    clock.advance(SignedDuration::from_mins(2));
    app.core.run_time_rules().await.unwrap();
    eventually("the nudge", || async { notes().await == 1 }).await;
    app.core.run_time_rules().await.unwrap();
    clock.advance(SignedDuration::from_hours(5));
    app.core.run_time_rules().await.unwrap();
    assert_eq!(notes().await, 1, "once per episode");
    // The high-priority case waited two hours for an agent; the low one is not matched.
    eventually("the chase", || async { tags(&get_case(&app, &c).await) == ["no-reply-2h"] }).await;
    assert!(tags(&get_case(&app, &quiet).await).is_empty());

    // Open, then pending again: a new episode.
    patch_case(&app, &c, json!({"status": "open"})).await;
    patch_case(&app, &c, json!({"status": "pending"})).await;
    clock.advance(SignedDuration::from_mins(61));
    app.core.run_time_rules().await.unwrap();
    eventually("the second nudge", || async { notes().await == 2 }).await;
}

#[tokio::test]
async fn dry_run_lists_matching_open_cases() {
    let app = spawn_app().await;
    let r = rule(
        &app,
        json!({"name": "VIP", "trigger": "case.updated",
            "conditions": {"all": [{"field": "tags", "operator": "contains", "value": "vip"}],
                           "any": [{"field": "priority", "operator": "in", "value": ["high", "critical"]}, {"field": "subject", "operator": "contains", "value": "outage"}]},
            "actions": [{"type": "add_tag", "tag": "seen"}]}),
    )
    .await;
    let a = id(&app.create_case(json!({"subject": "A", "tags": ["vip"], "priority": "high"})).await);
    let b = id(&app.create_case(json!({"subject": "Outage in B", "tags": ["vip"]})).await);
    app.create_case(json!({"subject": "C", "tags": ["vip"], "priority": "low"})).await;
    app.create_case(json!({"subject": "D outage", "priority": "high"})).await;
    let closed = id(&app.create_case(json!({"subject": "E", "tags": ["vip"], "priority": "high"})).await);
    patch_case(&app, &closed, json!({"status": "resolved"})).await;

    let d = app.post(&format!("/api/v1/automation-rules/{r}/dry-run"), json!({})).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let mut ids: Vec<String> = d.body["data"].as_array().unwrap().iter().map(id).collect();
    ids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(d.body["has_more"], false);
    assert_eq!(d.body["examined"], 4, "open cases only");
    let one = app.post(&format!("/api/v1/automation-rules/{r}/dry-run?limit=1"), json!({})).await;
    assert_eq!(one.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(one.body["has_more"], true);
    let next = one.body["next_cursor"].as_str().unwrap();
    let rest = app.post(&format!("/api/v1/automation-rules/{r}/dry-run?cursor={next}"), json!({})).await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 1);
    // A dry run changes nothing.
    assert!(app.timeline(&ids[0]).await.iter().all(|e| e["kind"] != "rule.applied"));
}

#[tokio::test]
async fn webhook_and_follow_up_case_actions() {
    let app = spawn_app().await;
    let hook = app
        .post("/api/v1/webhooks", json!({"url": "http://127.0.0.1:9/hook", "events": ["sla.met"], "active": true}))
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let hook = id(&hook.body);
    rule(
        &app,
        json!({"name": "Follow up", "trigger": "case.created",
        "conditions": {"all": [{"field": "tags", "operator": "contains", "value": "needs-visit"}]},
        "actions": [
            {"type": "webhook", "webhook_id": hook},
            {"type": "create_case", "subject": "Visit for #{{case.number}}", "priority": "high"}
        ]}),
    )
    .await;
    let src = app.create_case(json!({"subject": "Broken boiler", "tags": ["needs-visit"]})).await;
    let links_path = format!("/api/v1/cases/{}/links", id(&src));
    eventually("the follow-up", || async {
        app.get(&links_path).await.body["data"].as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    let links = app.get(&links_path).await;
    let data = links.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", links.body);
    assert_eq!(data[0]["type"], "child");
    let follow = get_case(&app, data[0]["case"]["id"].as_str().unwrap()).await;
    assert_eq!(follow["subject"], format!("Visit for #{}", src["case_number"]));
    assert_eq!(follow["priority"], "high");
    assert_eq!(follow["requester_id"], src["requester_id"]);
    // The follow-up is a new case too, but the rule's own case does not fire it again.
    assert!(entries(&app, &id(&follow), "rule.applied").await.is_empty());

    let deliveries = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).await;
    let d = deliveries.body["data"].as_array().unwrap();
    assert_eq!(d.len(), 1, "only the rule's delivery; the webhook is not subscribed to case.created");
    assert_eq!(d[0]["event_type"], "rule.applied");
    assert_eq!(d[0]["case_id"], src["id"]);
}

#[tokio::test]
async fn macros_fill_placeholders_apply_actions_and_stay_private() {
    let app = spawn_app().await;
    let contact = id(&app.post("/api/v1/contacts", json!({"name": "Bo Berg", "email": "bo@example.com"})).await.body);
    let (_, agent) = app.agent().await;
    let (_, other_agent) = app.agent().await;
    let bad = app.post("/api/v1/macros", json!({"name": "Bad", "body": "Hi {{requester.nickname}}"})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["body"]);
    let not_shared = app
        .call(
            Method::POST,
            "/api/v1/macros",
            Some(&agent),
            Some(&json!({"name": "S", "body": "x", "shared": true})),
            &[],
        )
        .await;
    not_shared.assert_problem(403, "forbidden");

    let shared = app
        .post(
            "/api/v1/macros",
            json!({"name": "Solved", "shared": true,
                "body": "Hi {{requester.name}}, case #{{case.number}} ({{case.subject}}) is solved. {{agent.name}}",
                "actions": [{"type": "set_status", "status": "pending"}, {"type": "add_tag", "tag": "macro"}]}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    assert_eq!(shared.body["shared"], true);
    let mine = app
        .call(
            Method::POST,
            "/api/v1/macros",
            Some(&agent),
            Some(&json!({"name": "Mine", "body": "Note", "internal": true})),
            &[],
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);

    let case = app.create_case(json!({"subject": "Login fails", "requester_id": contact})).await;
    let path = format!("/api/v1/cases/{}/apply-macro", id(&case));
    let body = json!({"macro_id": id(&shared.body)});
    let applied = app.call(Method::POST, &path, Some(&agent), Some(&body), &[]).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    let number = case["case_number"].as_i64().unwrap();
    assert_eq!(applied.body["comment"]["body"], format!("Hi Bo Berg, case #{number} (Login fails) is solved. Agent"));
    assert_eq!(applied.body["comment"]["internal"], false);
    assert_eq!(applied.body["case"]["status"], "pending");
    assert_eq!(tags(&applied.body["case"]), ["macro"]);

    // A personal macro: its owner sees and applies it; another agent gets 404.
    let mine = id(&mine.body);
    let list = app.call(Method::GET, "/api/v1/macros", Some(&other_agent), None, &[]).await;
    assert_eq!(list.body["data"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), [id(&shared.body)]);
    let theirs = format!("/api/v1/macros/{mine}");
    app.call(Method::GET, &theirs, Some(&other_agent), None, &[]).await.assert_problem(404, "not_found");
    let apply_theirs = json!({"macro_id": mine});
    app.call(Method::POST, &path, Some(&other_agent), Some(&apply_theirs), &[]).await.assert_problem(404, "not_found");
    let own = app.call(Method::POST, &path, Some(&agent), Some(&apply_theirs), &[]).await;
    assert_eq!(own.body["comment"]["internal"], true);
    let patch = json!({"name": "Mine, renamed"});
    let renamed = app.call(Method::PATCH, &theirs, Some(&agent), Some(&patch), &[]).await;
    assert_eq!(renamed.body["name"], "Mine, renamed");
    // Agents cannot change shared macros; another organization cannot see them.
    let shared_path = format!("/api/v1/macros/{}", id(&shared.body));
    app.call(Method::PATCH, &shared_path, Some(&agent), Some(&patch), &[]).await.assert_problem(403, "forbidden");
    let (_, other) = app.other_org().await;
    app.call(Method::GET, &shared_path, Some(&other), None, &[]).await.assert_problem(404, "not_found");
    assert_eq!(app.delete(&shared_path).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_overdue_milestone_fires_its_rule() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    rule(
        &app,
        json!({"name": "Overdue", "trigger": "milestone.overdue",
            "actions": [{"type": "set_priority", "priority": "high"}, {"type": "add_internal_note", "body": "A milestone of #{{case.number}} is overdue"}]}),
    )
    .await;
    let c = id(&app.create_case(json!({"subject": "Onboarding", "priority": "low"})).await);
    let r = app
        .post(&format!("/api/v1/cases/{c}/milestones"), json!({"name": "Kick-off", "due_at": "2026-06-08T08:00:00Z"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.clock.as_ref().unwrap().advance(SignedDuration::from_mins(59));
    app.core.sweep_milestones().await.unwrap();
    app.core.run_all_automation().await.unwrap();
    assert_eq!(get_case(&app, &c).await["priority"], "low", "not due yet");
    app.clock.as_ref().unwrap().advance(SignedDuration::from_mins(2));
    app.core.sweep_milestones().await.unwrap();
    app.core.run_all_automation().await.unwrap();
    eventually("the overdue rule", || async { get_case(&app, &c).await["priority"] == "high" }).await;
    eventually("the note", || async { comments(&app, &c).await.len() == 1 }).await;
    let runs = entries(&app, &c, "rule.applied").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["data"]["trigger"], "milestone.overdue");
}

/// Evaluators racing over the same events (instances, the worker, requests) run each rule once
/// per event: the run is claimed in the database.
#[tokio::test]
async fn evaluators_racing_over_one_event_run_the_rule_once() {
    let app = spawn_app().await;
    rule(
        &app,
        json!({"name": "Once", "trigger": "case.created", "actions": [{"type": "add_internal_note", "body": "once"}]}),
    )
    .await;
    let actor = casedesk_core::Actor {
        org_id: app.org_id.clone(),
        user_id: app.admin_id.clone(),
        role: casedesk_domain::policy::Role::Admin,
    };
    // Created through a second App on the same database: no request runs its rules.
    let input = casedesk_domain::case::NewCase { subject: "Raced".into(), ..Default::default() };
    let case = app.core.create_case(&actor, input, None).await.unwrap().value;
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let core = app.core.clone();
        racers.spawn(async move { core.run_all_automation().await });
    }
    while let Some(done) = racers.join_next().await {
        done.unwrap().unwrap();
    }
    eventually("the note", || async { !comments(&app, &case.id).await.is_empty() }).await;
    app.core.run_all_automation().await.unwrap();
    assert_eq!(comments(&app, &case.id).await.len(), 1, "one note, whoever ran it");
    assert_eq!(entries(&app, &case.id, "rule.applied").await.len(), 1);
}
