//! SLA over HTTP on a manual clock: business calendars (Monday to Friday 09:00–17:00 in
//! Europe/Berlin), holidays imported from iCalendar, which replies respond, pausing, priority
//! changes and reopening, warnings and breaches flagged by the sweep (called directly, and by the
//! server's own background job), the list filters, the organization's default targets,
//! auto-close, and problems that resolve their incidents.
//!
//! The server's background jobs run during every test on the same manual clock, so an assertion
//! never depends on which of the two sweeps got to a case first; only on the clock.

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_at};
use crate::routing::{MONDAY_0900_BERLIN, entries, queue, ts};

/// Friday 2026-06-05 16:00 in Berlin (summer time, UTC+2).
const FRIDAY_1600_BERLIN: &str = "2026-06-05T14:00:00Z";

/// Monday to Friday 09:00–17:00 in Europe/Berlin.
fn office_hours() -> Value {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    json!({"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day})
}

async fn calendar(app: &TestApp, holidays: Value) -> String {
    let body =
        json!({"name": "Berlin office", "time_zone": "Europe/Berlin", "hours": office_hours(), "holidays": holidays});
    let r = app.post("/api/v1/business-calendars", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "create calendar: {}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn policy(app: &TestApp, calendar_id: Option<&str>, rules: Value) -> String {
    let r = app
        .post("/api/v1/sla-policies", json!({"name": "Standard SLA", "calendar_id": calendar_id, "rules": rules}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "create policy: {}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// A manual-assignment queue (no routing noise) applying a policy in office hours; returns
/// (calendar, policy, queue).
async fn office_queue(app: &TestApp, rules: Value) -> (String, String, String) {
    let cal = calendar(app, json!([])).await;
    let pol = policy(app, Some(&cal), rules).await;
    let q = queue(app, json!({"name": "Support", "assignment_method": "manual", "sla_policy_id": pol})).await;
    (cal, pol, q)
}

fn medium(first: i64, next: Option<i64>, resolution: Option<i64>) -> Value {
    json!([{"priority": "medium", "first_response_minutes": first, "next_response_minutes": next, "resolution_minutes": resolution}])
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// One target of a case's SLA.
#[track_caller]
fn target(case: &Value, kind: &str) -> Value {
    case["sla"]["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("the case has SLA targets: {case}"))
        .iter()
        .find(|t| t["target"] == kind)
        .unwrap_or_else(|| panic!("the case has a {kind} target: {}", case["sla"]))
        .clone()
}

fn kinds_of(case: &Value) -> Vec<String> {
    case["sla"]["targets"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap().to_string()).collect()
}

async fn get_case(app: &TestApp, case: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(r.status, StatusCode::OK, "get case: {}", r.body);
    r.body
}

async fn patch_case(app: &TestApp, case: &str, body: Value) -> Value {
    let r = app.patch(&format!("/api/v1/cases/{case}"), body).await;
    assert_eq!(r.status, StatusCode::OK, "patch case: {}", r.body);
    r.body
}

async fn comment(app: &TestApp, token: &str, case: &str, body: Value) {
    let r = app.call(Method::POST, &format!("/api/v1/cases/{case}/comments"), Some(token), Some(&body), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "comment: {}", r.body);
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/cases?limit=200&{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "list {query}: {}", r.body);
    r.body["data"].as_array().expect("data").iter().map(id).collect()
}

fn set(app: &TestApp, at: &str) {
    app.clock.as_ref().expect("a manual clock").set(ts(at));
}

async fn sweep(app: &TestApp) {
    app.core.sweep_sla().await.expect("sweep");
}

#[tokio::test]
async fn a_case_created_friday_afternoon_is_due_monday_and_only_an_agents_public_reply_responds() {
    let app = spawn_app_at(ts(FRIDAY_1600_BERLIN)).await;
    let (_, pol, q) = office_queue(&app, medium(120, Some(60), Some(480))).await;
    let (_, agent) = app.agent().await;

    let c = app.create_case(json!({"subject": "Printer on fire", "queue_id": q})).await;
    let case = id(&c);
    assert_eq!(c["sla"]["policy_id"], pol.as_str());
    assert_eq!(c["sla_breached"], false);
    assert_eq!(kinds_of(&c), ["first_response", "resolution"], "next response starts only when a customer waits");
    let first = target(&c, "first_response");
    // One hour on Friday (16:00–17:00), one on Monday (09:00–10:00).
    assert_eq!(first["due_at"], "2026-06-08T08:00:00Z", "Monday 10:00 in Berlin");
    assert_eq!((first["state"].as_str(), first["budget_minutes"].as_i64()), (Some("running"), Some(120)));
    assert_eq!(first["remaining_minutes"], Value::Null, "only a single case's GET computes what is left");
    // 8 hours: 1 on Friday and 7 on Monday.
    assert_eq!(target(&c, "resolution")["due_at"], "2026-06-08T14:00:00Z", "Monday 16:00 in Berlin");
    let applied = entries(&app, &case, "sla.applied").await;
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["data"]["policy_id"], pol.as_str());
    assert_eq!(applied[0]["data"]["targets"][0], json!({"target": "first_response", "due_at": "2026-06-08T08:00:00Z"}));
    assert_eq!(target(&get_case(&app, &case).await, "first_response")["remaining_minutes"], 120);

    // Saturday: the hour after closing on Friday was used; the weekend uses nothing.
    set(&app, "2026-06-06T10:00:00Z");
    let sat = get_case(&app, &case).await;
    assert_eq!(target(&sat, "first_response")["remaining_minutes"], 60);
    assert_eq!(target(&sat, "resolution")["remaining_minutes"], 420);
    assert_eq!(listed(&app, "sla_breached=false").await, [case.as_str()]);

    // Monday 09:20: an internal note, an automatic acknowledgment and a customer's message are not
    // responses; the customer's message starts no next-response clock while the first is owed.
    set(&app, "2026-06-08T07:20:00Z");
    comment(&app, &agent, &case, json!({"body": "Checked the logs", "internal": true})).await;
    comment(&app, &agent, &case, json!({"body": "We received your request", "author_type": "system"})).await;
    comment(&app, &agent, &case, json!({"body": "Any news?", "author_type": "customer"})).await;
    let c = get_case(&app, &case).await;
    assert_eq!(target(&c, "first_response")["state"], "running");
    assert_eq!(target(&c, "first_response")["remaining_minutes"], 40);
    assert_eq!(kinds_of(&c), ["first_response", "resolution"]);
    assert!(entries(&app, &case, "sla.met").await.is_empty());

    // Monday 09:30: the agent's public reply meets the first response, on time.
    set(&app, "2026-06-08T07:30:00Z");
    comment(&app, &agent, &case, json!({"body": "We are on it"})).await;
    let c = get_case(&app, &case).await;
    let first = target(&c, "first_response");
    assert_eq!((first["state"].as_str(), first["met_at"].as_str()), (Some("met"), Some("2026-06-08T07:30:00Z")));
    assert_eq!(first["due_at"], Value::Null);
    let met = entries(&app, &case, "sla.met").await;
    assert_eq!(met.len(), 1);
    assert_eq!(met[0]["data"], json!({"target": "first_response", "late": false}));
    assert_eq!(target(&c, "resolution")["state"], "running", "a reply does not resolve");

    // Monday 10:00: now a customer's message starts the next-response clock (60 minutes).
    set(&app, "2026-06-08T08:00:00Z");
    comment(&app, &agent, &case, json!({"body": "It is still burning", "author_type": "customer"})).await;
    let next = target(&get_case(&app, &case).await, "next_response");
    assert_eq!((next["state"].as_str(), next["due_at"].as_str()), (Some("running"), Some("2026-06-08T09:00:00Z")));
    // An internal note does not answer it; the next public reply does.
    comment(&app, &agent, &case, json!({"body": "call the fire brigade?", "internal": true})).await;
    assert_eq!(target(&get_case(&app, &case).await, "next_response")["state"], "running");
    set(&app, "2026-06-08T08:30:00Z");
    comment(&app, &agent, &case, json!({"body": "Fire brigade is on the way"})).await;
    let next = target(&get_case(&app, &case).await, "next_response");
    assert_eq!((next["state"].as_str(), next["met_at"].as_str()), (Some("met"), Some("2026-06-08T08:30:00Z")));
}

#[tokio::test]
async fn pending_pauses_the_clocks_and_resuming_moves_the_due_times_later() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (_, _, q) = office_queue(&app, medium(120, None, Some(480))).await;
    let c = app.create_case(json!({"subject": "waiting on the customer", "queue_id": q})).await;
    let case = id(&c);
    assert_eq!(target(&c, "first_response")["due_at"], "2026-06-08T09:00:00Z");
    assert_eq!(target(&c, "resolution")["due_at"], "2026-06-08T15:00:00Z");

    // 10:00: pending. Both clocks stop with what they used.
    set(&app, "2026-06-08T08:00:00Z");
    let p = patch_case(&app, &case, json!({"status": "pending"})).await;
    for kind in ["first_response", "resolution"] {
        let t = target(&p, kind);
        assert_eq!((t["state"].as_str(), t["due_at"].clone()), (Some("paused"), Value::Null), "{kind}");
    }
    assert_eq!(entries(&app, &case, "sla.paused").await.len(), 2);
    assert_eq!(
        listed(&app, "sla_due_before=2026-06-30T00:00:00Z").await,
        Vec::<String>::new(),
        "a paused clock is due nowhere"
    );

    // 11:30 and later: nothing is used while paused, not even by the sweep.
    set(&app, "2026-06-08T09:30:00Z");
    sweep(&app).await;
    let c = get_case(&app, &case).await;
    assert_eq!(target(&c, "first_response")["remaining_minutes"], 60);
    assert_eq!(target(&c, "resolution")["remaining_minutes"], 420);
    assert_eq!(c["sla_breached"], false, "the first response would have been due at 11:00, but it is paused");

    // Open again at 11:30: 90 minutes later than planned.
    let o = patch_case(&app, &case, json!({"status": "open"})).await;
    assert_eq!(target(&o, "first_response")["due_at"], "2026-06-08T10:30:00Z", "12:30 in Berlin");
    // 7 hours left from 11:30: 5.5 on Monday, 1.5 on Tuesday from 09:00.
    assert_eq!(target(&o, "resolution")["due_at"], "2026-06-09T08:30:00Z", "Tuesday 10:30 in Berlin");
    assert_eq!(target(&o, "resolution")["state"], "running");
    let resumed = entries(&app, &case, "sla.resumed").await;
    assert_eq!(resumed.len(), 2);
    assert!(resumed.iter().any(|e| e["data"] == json!({"target": "first_response", "due_at": "2026-06-08T10:30:00Z"})));

    // On hold pauses too; a pause from Friday evening to Monday morning moves nothing.
    set(&app, "2026-06-12T15:30:00Z");
    let before = target(&get_case(&app, &case).await, "resolution");
    patch_case(&app, &case, json!({"status": "on_hold"})).await;
    set(&app, "2026-06-15T06:00:00Z");
    let after = patch_case(&app, &case, json!({"status": "open"})).await;
    let after = target(&after, "resolution");
    assert_eq!(after["state"], "breached", "Tuesday 10:30 has long passed");
    let c = get_case(&app, &case).await;
    assert_eq!(
        target(&c, "resolution")["remaining_minutes"],
        before["remaining_minutes"],
        "a pause outside business hours uses and saves nothing"
    );
}

#[tokio::test]
async fn the_sweep_warns_at_80_percent_and_flags_a_breach_only_after_the_due_time() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (_, _, q) = office_queue(&app, medium(120, None, Some(480))).await;
    let (_, agent) = app.agent().await;
    let a = id(&app.create_case(json!({"subject": "A", "queue_id": q})).await);
    set(&app, "2026-06-08T07:30:00Z");
    let b = id(&app.create_case(json!({"subject": "B", "queue_id": q})).await);
    let other = id(&app.create_case(json!({"subject": "no SLA"})).await);

    // A's first response: due 11:00, warned at 96 of 120 minutes, 10:36.
    set(&app, "2026-06-08T08:35:59Z");
    sweep(&app).await;
    assert!(entries(&app, &a, "sla.warning").await.is_empty(), "not yet 80 %");
    set(&app, "2026-06-08T08:36:00Z");
    sweep(&app).await;
    let warned = entries(&app, &a, "sla.warning").await;
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0]["data"], json!({"target": "first_response", "due_at": "2026-06-08T09:00:00Z"}));
    assert!(entries(&app, &b, "sla.warning").await.is_empty(), "B is 30 minutes behind");
    assert_eq!(get_case(&app, &a).await["sla_breached"], false, "a warning is not a breach");

    // The due-time filter: A is due at 11:00, B at 11:30 (Berlin).
    assert_eq!(listed(&app, "sla_due_before=2026-06-08T09:15:00Z").await, [a.as_str()]);
    let mut both = listed(&app, "sla_due_before=2026-06-08T09:45:00Z").await;
    both.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(both, expected);
    let r = app.get("/api/v1/cases?sla_due_before=tomorrow").await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["sla_due_before"]);

    // Exactly at the due time nothing is breached yet.
    set(&app, "2026-06-08T09:00:00Z");
    sweep(&app).await;
    assert!(entries(&app, &a, "sla.breached").await.is_empty());
    assert_eq!(listed(&app, "sla_breached=true").await, Vec::<String>::new());

    // A second later it is.
    set(&app, "2026-06-08T09:00:01Z");
    sweep(&app).await;
    let c = get_case(&app, &a).await;
    assert_eq!(c["sla_breached"], true);
    assert_eq!(c["sla"]["breached"], true);
    let first = target(&c, "first_response");
    assert_eq!(
        (first["state"].as_str(), first["breached_at"].as_str()),
        (Some("breached"), Some("2026-06-08T09:00:00Z"))
    );
    assert_eq!(first["remaining_minutes"], -1, "overdue shows as negative");
    let breached = entries(&app, &a, "sla.breached").await;
    assert_eq!(breached.len(), 1);
    assert_eq!(breached[0]["data"], json!({"target": "first_response", "due_at": "2026-06-08T09:00:00Z"}));
    assert_eq!(listed(&app, "sla_breached=true").await, [a.as_str()]);
    let in_list = app.get("/api/v1/cases?sla_breached=true").await;
    let listed_first = target(&in_list.body["data"][0], "first_response");
    assert_eq!(
        (listed_first["state"].as_str(), listed_first["remaining_minutes"].clone()),
        (Some("breached"), Value::Null)
    );
    let mut unbreached = listed(&app, "sla_breached=false").await;
    unbreached.sort();
    let mut expected = vec![b.clone(), other];
    expected.sort();
    assert_eq!(unbreached, expected);
    // A breached target no longer counts as due; A's resolution is due at 17:00.
    assert_eq!(listed(&app, "sla_due_before=2026-06-08T09:45:00Z").await, [b.as_str()]);

    // Sweeping again records nothing twice.
    sweep(&app).await;
    sweep(&app).await;
    assert_eq!(entries(&app, &a, "sla.warning").await.len(), 1);
    assert_eq!(entries(&app, &a, "sla.breached").await.len(), 1);

    // The team still owes the answer: the late reply is met, and stays shown as breached.
    set(&app, "2026-06-08T09:05:00Z");
    comment(&app, &agent, &a, json!({"body": "Sorry for the wait"})).await;
    let first = target(&get_case(&app, &a).await, "first_response");
    assert_eq!((first["state"].as_str(), first["met_at"].as_str()), (Some("breached"), Some("2026-06-08T09:05:00Z")));
    assert_eq!(entries(&app, &a, "sla.met").await[0]["data"], json!({"target": "first_response", "late": true}));
    assert_eq!(listed(&app, "sla_breached=true").await, [a.as_str()], "the breach stays recorded");

    // B's warning time (11:06) and due time (11:30) pass at once: the breach makes the warning
    // moot, so only the breach is recorded.
    set(&app, "2026-06-08T09:40:00Z");
    sweep(&app).await;
    assert_eq!(entries(&app, &b, "sla.breached").await.len(), 1);
    assert!(entries(&app, &b, "sla.warning").await.is_empty());
}

#[tokio::test]
async fn the_background_job_alone_flags_a_breach_within_seconds() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let pol = policy(&app, None, json!([{"priority": "critical", "first_response_minutes": 30}])).await;
    let q = queue(&app, json!({"name": "Urgent", "sla_policy_id": pol})).await;
    let c = app.create_case(json!({"subject": "Site down", "priority": "critical", "queue_id": q})).await;
    let case = id(&c);
    assert_eq!(target(&c, "first_response")["due_at"], "2026-06-08T07:30:00Z");

    // Around the clock: due 30 minutes after creation. Move past it and let the server notice
    // on its own (it sweeps every second; the docs promise a breach within 2 s of the deadline).
    app.clock.as_ref().unwrap().advance(SignedDuration::from_secs(30 * 60 + 1));
    let started = Instant::now();
    loop {
        let c = get_case(&app, &case).await;
        if c["sla_breached"] == true {
            assert_eq!(target(&c, "first_response")["breached_at"], "2026-06-08T07:30:00Z");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "no breach flagged 3 s after the deadline passed: {c}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(entries(&app, &case, "sla.breached").await.len(), 1);
}

#[tokio::test]
async fn a_priority_change_recomputes_the_targets_from_their_original_start() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let rules = json!([
        {"priority": "medium", "first_response_minutes": 480},
        {"priority": "high", "first_response_minutes": 120},
        {"priority": "low", "resolution_minutes": 2400}
    ]);
    let (_, _, q) = office_queue(&app, rules).await;
    let a = app.create_case(json!({"subject": "A", "queue_id": q})).await;
    let b = app.create_case(json!({"subject": "B", "queue_id": q})).await;
    let c = app.create_case(json!({"subject": "C", "queue_id": q})).await;
    assert_eq!(target(&a, "first_response")["due_at"], "2026-06-08T15:00:00Z", "8 hours: 17:00 in Berlin");

    // Raised to high at 10:30: 2 hours from 09:00, due at 11:00.
    set(&app, "2026-06-08T08:30:00Z");
    let raised = patch_case(&app, &id(&a), json!({"priority": "high"})).await;
    let first = target(&raised, "first_response");
    assert_eq!((first["due_at"].as_str(), first["budget_minutes"].as_i64()), (Some("2026-06-08T09:00:00Z"), Some(120)));
    assert_eq!(first["state"], "running");

    // Raised at 11:30: already overdue, flagged by the next sweep as breached at 11:00.
    set(&app, "2026-06-08T09:30:00Z");
    let raised = patch_case(&app, &id(&b), json!({"priority": "high"})).await;
    assert_eq!(target(&raised, "first_response")["due_at"], "2026-06-08T09:00:00Z");
    sweep(&app).await;
    let b = get_case(&app, &id(&b)).await;
    assert_eq!(b["sla_breached"], true);
    assert_eq!(target(&b, "first_response")["breached_at"], "2026-06-08T09:00:00Z");
    assert_eq!(target(&b, "first_response")["remaining_minutes"], -30);

    // Lowered to low, which has no first-response target: it stops being timed.
    let lowered = patch_case(&app, &id(&c), json!({"priority": "low"})).await;
    assert!(!kinds_of(&lowered).contains(&"first_response".to_string()), "{}", lowered["sla"]);
    let removed = entries(&app, &id(&c), "sla.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["data"]["target"], "first_response");
}

#[tokio::test]
async fn reopening_runs_resolution_again_with_the_time_already_used() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (_, _, q) = office_queue(&app, medium(120, None, Some(480))).await;
    let case = id(&app.create_case(json!({"subject": "flaky VPN", "queue_id": q})).await);
    set(&app, "2026-06-08T07:10:00Z");
    comment(&app, &app.token, &case, json!({"body": "Looking into it"})).await;

    // Resolved at 15:00 (Berlin): 6 of 8 hours used, met on time.
    set(&app, "2026-06-08T13:00:00Z");
    let resolved = patch_case(&app, &case, json!({"status": "resolved"})).await;
    let res = target(&resolved, "resolution");
    assert_eq!((res["state"].as_str(), res["met_at"].as_str()), (Some("met"), Some("2026-06-08T13:00:00Z")));
    let met: Vec<Value> = entries(&app, &case, "sla.met").await;
    assert_eq!(met.last().unwrap()["data"], json!({"target": "resolution", "late": false}));

    // Reopened Tuesday 09:00: the 2 hours left, due 11:00.
    set(&app, "2026-06-09T07:00:00Z");
    let reopened = patch_case(&app, &case, json!({"status": "open"})).await;
    let res = target(&reopened, "resolution");
    assert_eq!((res["state"].as_str(), res["due_at"].as_str()), (Some("running"), Some("2026-06-09T09:00:00Z")));
    assert_eq!(res["met_at"], Value::Null);
    assert_eq!(target(&get_case(&app, &case).await, "resolution")["remaining_minutes"], 120);
    assert_eq!(target(&reopened, "first_response")["state"], "met", "the first response stays met");
    assert!(entries(&app, &case, "sla.resumed").await.iter().any(|e| e["data"]["target"] == "resolution"));
}

#[tokio::test]
async fn the_organizations_default_targets_apply_to_cases_without_a_queue_policy() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let org = app.get("/api/v1/organization").await;
    assert_eq!((org.body["default_sla"].as_bool(), org.body["auto_close_days"].as_i64()), (Some(false), Some(4)));
    let plain = app.create_case(json!({"subject": "before"})).await;
    assert_eq!((plain["sla"].clone(), plain["sla_breached"].as_bool()), (Value::Null, Some(false)));

    let r = app.patch("/api/v1/organization", json!({"default_sla": true})).await;
    assert_eq!((r.status, r.body["default_sla"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.body);
    let no_policy = queue(&app, json!({"name": "No policy"})).await;
    let pol = policy(&app, None, json!([{"priority": "medium", "first_response_minutes": 15}])).await;
    let with_policy = queue(&app, json!({"name": "With policy", "sla_policy_id": pol})).await;

    // Around the clock, first response only.
    let mut critical = None;
    for (priority, minutes, due) in [
        ("critical", 60, "2026-06-08T08:00:00Z"),
        ("high", 240, "2026-06-08T11:00:00Z"),
        ("medium", 1440, "2026-06-09T07:00:00Z"),
        ("low", 2880, "2026-06-10T07:00:00Z"),
    ] {
        let c = app.create_case(json!({"subject": priority, "priority": priority})).await;
        assert_eq!(c["sla"]["policy_id"], Value::Null, "the defaults are no policy record");
        assert_eq!(kinds_of(&c), ["first_response"], "{priority}: no resolution target");
        let first = target(&c, "first_response");
        assert_eq!(
            (first["budget_minutes"].as_i64(), first["due_at"].as_str()),
            (Some(minutes), Some(due)),
            "{priority}"
        );
        if priority == "critical" {
            critical = Some(id(&c));
        }
    }
    let in_queue = app.create_case(json!({"subject": "queue without policy", "queue_id": no_policy})).await;
    assert_eq!(target(&in_queue, "first_response")["budget_minutes"], 1440);
    let with = app.create_case(json!({"subject": "queue with policy", "queue_id": with_policy})).await;
    assert_eq!(
        (with["sla"]["policy_id"].as_str(), target(&with, "first_response")["budget_minutes"].as_i64()),
        (Some(pol.as_str()), Some(15))
    );
    // The default targets breach like any other (the queue's 15 minutes have passed too).
    set(&app, "2026-06-08T08:00:01Z");
    sweep(&app).await;
    let mut breached = listed(&app, "sla_breached=true").await;
    breached.sort();
    let mut expected = vec![critical.unwrap(), id(&with)];
    expected.sort();
    assert_eq!(breached, expected);

    // Turned off again: new cases are not timed.
    app.patch("/api/v1/organization", json!({"default_sla": false})).await;
    assert_eq!(app.create_case(json!({"subject": "after"})).await["sla"], Value::Null);

    for (body, field) in [
        (json!({"auto_close_days": 0}), "auto_close_days"),
        (json!({"auto_close_days": 366}), "auto_close_days"),
        (json!({"time_zone": "Mars/Olympus_Mons"}), "time_zone"),
    ] {
        let r = app.patch("/api/v1/organization", body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field]);
    }
}

#[tokio::test]
async fn moving_a_case_between_queues_swaps_its_policy() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (cal, pol, q) = office_queue(&app, medium(120, None, None)).await;
    let fast = policy(&app, Some(&cal), medium(30, None, None)).await;
    let bare = queue(&app, json!({"name": "Untimed"})).await;
    let vip = queue(&app, json!({"name": "VIP desk", "sla_policy_id": fast})).await;
    let r = app.patch(&format!("/api/v1/case-queues/{q}"), json!({"escalation_queue_id": vip})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let case = id(&app.create_case(json!({"subject": "moves", "queue_id": q})).await);

    // Escalated at 09:10 into a queue with a 30-minute policy, counted from the creation.
    set(&app, "2026-06-08T07:10:00Z");
    let r = app.post(&format!("/api/v1/cases/{case}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["sla"]["policy_id"], fast.as_str());
    assert_eq!(target(&r.body, "first_response")["due_at"], "2026-06-08T07:30:00Z");
    let removed = entries(&app, &case, "sla.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["data"]["policy_id"], pol.as_str());
    assert_eq!(entries(&app, &case, "sla.applied").await.len(), 2);

    // Moved to a queue without a policy: no clocks any more.
    let moved = patch_case(&app, &case, json!({"queue_id": bare})).await;
    assert_eq!((moved["sla"].clone(), moved["sla_breached"].as_bool()), (Value::Null, Some(false)));
    assert_eq!(entries(&app, &case, "sla.removed").await.len(), 2);
    set(&app, "2026-06-08T12:00:00Z");
    sweep(&app).await;
    assert!(entries(&app, &case, "sla.breached").await.is_empty(), "an untimed case never breaches");
}

#[tokio::test]
async fn holidays_imported_from_icalendar_close_their_dates_and_move_running_clocks() {
    let app = spawn_app_at(ts(FRIDAY_1600_BERLIN)).await;
    let cal = calendar(&app, json!([{"date": "2026-12-25", "name": "Christmas Day"}])).await;
    let pol = policy(&app, Some(&cal), medium(120, None, None)).await;
    let q = queue(&app, json!({"name": "Support", "sla_policy_id": pol})).await;
    let case = id(&app.create_case(json!({"subject": "before the import", "queue_id": q})).await);
    assert_eq!(target(&get_case(&app, &case).await, "first_response")["due_at"], "2026-06-08T08:00:00Z");

    let ics = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//casedesk tests//EN",
        "BEGIN:VEVENT",
        "UID:1@test",
        "DTSTART;VALUE=DATE:20260608",
        "DTEND;VALUE=DATE:20260609",
        "SUMMARY:Company day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:2@test",
        "DTSTART;VALUE=DATE:20261231",
        "DTEND;VALUE=DATE:20270102",
        "SUMMARY:New Year",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:3@test",
        "DTSTART:20261003T100000Z",
        "DTEND:20261003T120000Z",
        "SUMMARY:Unity Day parade",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:4@test",
        "DTSTART;VALUE=DATE:20261225",
        "RRULE:FREQ=YEARLY",
        "SUMMARY:Christmas (from the file)",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n");
    let url = format!("{}/api/v1/business-calendars/{cal}/holidays/import", app.base);
    let send = async |body: String| {
        let r = app
            .client
            .post(&url)
            .bearer_auth(&app.token)
            .header("content-type", "text/calendar")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, body) = send(ics).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut holidays: Vec<(String, String)> = body["holidays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["date"].as_str().unwrap().to_string(), h["name"].as_str().unwrap().to_string()))
        .collect();
    holidays.sort();
    let expected: Vec<(String, String)> = [
        ("2026-06-08", "Company day"),
        ("2026-10-03", "Unity Day parade"),
        ("2026-12-25", "Christmas Day"),
        ("2026-12-31", "New Year"),
        ("2027-01-01", "New Year"),
    ]
    .iter()
    .map(|(d, n)| (d.to_string(), n.to_string()))
    .collect();
    assert_eq!(holidays, expected, "a date already there keeps its name");
    let stored = app.get(&format!("/api/v1/business-calendars/{cal}")).await;
    assert_eq!(stored.body["holidays"].as_array().unwrap().len(), 5);

    // Monday is closed now: the case started Friday 16:00 is due Tuesday 10:00.
    assert_eq!(target(&get_case(&app, &case).await, "first_response")["due_at"], "2026-06-09T08:00:00Z");
    let later = app.create_case(json!({"subject": "after the import", "queue_id": q})).await;
    assert_eq!(target(&later, "first_response")["due_at"], "2026-06-09T08:00:00Z");

    let (status, body) = send("this is not a calendar".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "body");
    let (status, body) =
        send("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:no date\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into()).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body")),
        "{body}"
    );
}

#[tokio::test]
async fn invalid_calendars_and_policies_are_refused_naming_each_field() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let check = async |path: &str, body: Value, fields: &[&str]| {
        let r = app.post(path, body).await;
        r.assert_problem(422, "validation_failed");
        let mut got = r.error_fields();
        got.sort();
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{path}: {}", r.body);
    };
    let cal = "/api/v1/business-calendars";
    check(
        cal,
        json!({
            "name": "Broken",
            "time_zone": "Mars/Olympus_Mons",
            "hours": {"monday": [{"start": "09:00", "end": "25:00"}], "tuesday": [{"start": "9am", "end": "17:00"}]},
            "holidays": [{"date": "2026-02-30", "name": "no such day"}]
        }),
        &["time_zone", "hours.monday[0].end", "hours.tuesday[0].start", "holidays[0].date"],
    )
    .await;
    check(cal, json!({"name": "Overlap", "time_zone": "UTC", "hours": {"friday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}), &["hours.friday[1]"]).await;
    check(
        cal,
        json!({"name": "Backwards", "time_zone": "UTC", "hours": {"friday": [{"start": "17:00", "end": "09:00"}]}}),
        &["hours.friday[0]"],
    )
    .await;
    check(cal, json!({"name": "Closed", "time_zone": "UTC", "hours": {"sunday": []}}), &["hours"]).await;
    check(
        cal,
        json!({"name": "Funday", "time_zone": "UTC", "hours": {"funday": [{"start": "09:00", "end": "17:00"}]}}),
        &["hours.funday"],
    )
    .await;
    check(cal, json!({"name": "No zone", "hours": office_hours()}), &["time_zone"]).await;
    check(cal, json!({"time_zone": "UTC", "hours": office_hours()}), &["name"]).await;

    let pol = "/api/v1/sla-policies";
    check(
        pol,
        json!({
            "name": "Broken",
            "rules": [
                {"priority": "urgentish", "first_response_minutes": 10},
                {"priority": "high", "first_response_minutes": 0, "resolution_minutes": 525_601},
                {"priority": "low"}
            ],
            "warn_percent": 100,
            "pause_statuses": ["pending", "closed"]
        }),
        &[
            "rules[0].priority",
            "rules[1].first_response_minutes",
            "rules[1].resolution_minutes",
            "rules[2]",
            "warn_percent",
            "pause_statuses[1]",
        ],
    )
    .await;
    check(pol, json!({"name": "Twice", "rules": [{"priority": "high", "first_response_minutes": 10}, {"priority": "urgent", "first_response_minutes": 5}, {"priority": "High", "first_response_minutes": 5}]}), &["rules[2].priority"]).await;
    check(pol, json!({"name": "Empty", "rules": []}), &["rules"]).await;
    check(pol, json!({"name": "Nowhere", "calendar_id": "cal_00000000000000000000000000000000", "rules": medium(10, None, None)}), &["calendar_id"]).await;
    check(
        pol,
        json!({"name": "Wrong kind", "calendar_id": "q_123", "rules": medium(10, None, None)}),
        &["calendar_id"],
    )
    .await;
    check(
        "/api/v1/case-queues",
        json!({"name": "Bad refs", "sla_policy_id": "sla_00000000000000000000000000000000", "calendar_id": "cal_00000000000000000000000000000000"}),
        &["sla_policy_id", "calendar_id"],
    )
    .await;

    // A valid policy reads back as written, with the defaults filled in.
    let r = app.post(pol, json!({"name": "Fine", "rules": [{"priority": "urgent", "first_response_minutes": 30, "resolution_minutes": 240}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["rules"][0]["priority"], "critical");
    assert_eq!(r.body["pause_statuses"], json!(["pending", "on_hold"]));
    assert_eq!(r.body["warn_percent"], 80);
    assert_eq!(r.body["calendar_id"], Value::Null);
}

#[tokio::test]
async fn resolved_cases_close_after_the_auto_close_delay_unless_reopened_first() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let r = app.patch("/api/v1/organization", json!({"auto_close_days": 2})).await;
    assert_eq!(r.body["auto_close_days"], 2, "{}", r.body);
    let a = id(&app.create_case(json!({"subject": "resolved and left"})).await);
    let b = id(&app.create_case(json!({"subject": "reopened in time"})).await);
    let open = id(&app.create_case(json!({"subject": "never resolved"})).await);
    patch_case(&app, &a, json!({"status": "resolved"})).await;
    patch_case(&app, &b, json!({"status": "resolved"})).await;
    set(&app, "2026-06-09T07:00:00Z");
    let c = id(&app.create_case(json!({"subject": "resolved a day later"})).await);
    patch_case(&app, &c, json!({"status": "resolved"})).await;
    let reopened = patch_case(&app, &b, json!({"status": "open"})).await;
    assert_eq!((reopened["status"].as_str(), reopened["resolved_at"].clone()), (Some("open"), Value::Null));

    // A second short of two days: nothing closes.
    set(&app, "2026-06-10T06:59:59Z");
    assert_eq!(app.core.close_resolved().await.unwrap(), 0);
    assert_eq!(get_case(&app, &a).await["status"], "resolved");

    // Two days after it was resolved, A closes; B (reopened) and C (resolved later) do not.
    set(&app, "2026-06-10T07:00:00Z");
    app.core.close_resolved().await.unwrap();
    let closed = get_case(&app, &a).await;
    assert_eq!((closed["status"].as_str(), closed["is_closed"].as_bool()), (Some("closed"), Some(true)));
    assert_eq!(closed["closed_at"], "2026-06-10T07:00:00Z");
    assert_eq!(closed["updated_by"], "system");
    let change = entries(&app, &a, "status.changed").await;
    let last = change.last().unwrap();
    assert_eq!(
        (last["old"].as_str(), last["new"].as_str(), last["actor_id"].as_str()),
        (Some("resolved"), Some("closed"), Some("system"))
    );
    assert_eq!(get_case(&app, &b).await["status"], "open");
    assert_eq!(get_case(&app, &c).await["status"], "resolved");
    assert_eq!(get_case(&app, &open).await["status"], "new");
    assert_eq!(app.core.close_resolved().await.unwrap(), 0, "nothing is closed twice");

    // A closed case is final.
    let r = app.patch(&format!("/api/v1/cases/{a}"), json!({"status": "open"})).await;
    r.assert_problem(409, "case_closed");

    // C closes a day later.
    set(&app, "2026-06-11T07:00:00Z");
    app.core.close_resolved().await.unwrap();
    assert_eq!(get_case(&app, &c).await["status"], "closed");
}

#[tokio::test]
async fn resolving_a_problem_resolves_its_active_incidents() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let problem = app.create_case(json!({"subject": "Mail relay drops messages", "type": "problem"})).await;
    let pid = id(&problem);
    let question = id(&app.create_case(json!({"subject": "How do I reset my password?"})).await);

    // Only an incident links to a problem, and only to a problem.
    let r = app.post("/api/v1/cases", json!({"subject": "q", "problem_id": pid})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["problem_id"]);
    let r = app.post("/api/v1/cases", json!({"subject": "i", "type": "incident", "problem_id": question})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["problem_id"]);
    let r = app
        .post(
            "/api/v1/cases",
            json!({"subject": "i", "type": "incident", "problem_id": "case_00000000000000000000000000000000"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["problem_id"], "{}", r.body);

    let mut incidents = Vec::new();
    for subject in ["Bounce from example.org", "Newsletter lost", "Invoice mail missing"] {
        let c = app.create_case(json!({"subject": subject, "type": "incident", "problem_id": pid})).await;
        assert_eq!(c["problem_id"], pid.as_str());
        incidents.push(id(&c));
    }
    // The third was already solved another way, with its own notes.
    patch_case(&app, &incidents[2], json!({"status": "resolved", "resolution_notes": "Resent by hand"})).await;
    let detail = get_case(&app, &pid).await;
    let listed_incidents: Vec<&str> =
        detail["incidents"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(listed_incidents, incidents.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(detail["incidents"][0]["subject"], "Bounce from example.org");
    assert_eq!(detail["incidents"][2]["status"], "resolved");
    assert!(detail["incidents"][0]["case_number"].is_i64());
    let mut by_filter = listed(&app, &format!("problem_id={pid}")).await;
    by_filter.sort();
    let mut expected = incidents.clone();
    expected.sort();
    assert_eq!(by_filter, expected);

    set(&app, "2026-06-08T08:00:00Z");
    patch_case(&app, &pid, json!({"status": "resolved", "resolution_notes": "Relay patched"})).await;
    for incident in &incidents[..2] {
        let c = get_case(&app, incident).await;
        assert_eq!(c["status"], "resolved", "{incident}");
        assert_eq!(c["resolved_at"], "2026-06-08T08:00:00Z");
        let notes = format!("Resolved with problem #{}", problem["case_number"]);
        assert_eq!(c["resolution_notes"], notes.as_str());
        let changed = entries(&app, incident, "status.changed").await;
        assert_eq!(changed.len(), 1);
        assert_eq!((changed[0]["old"].as_str(), changed[0]["new"].as_str()), (Some("new"), Some("resolved")));
    }
    let third = get_case(&app, &incidents[2]).await;
    assert_eq!(third["resolution_notes"], "Resent by hand", "an incident already resolved is left alone");
    assert_eq!(entries(&app, &incidents[2], "status.changed").await.len(), 1);
    let detail = get_case(&app, &pid).await;
    assert!(detail["incidents"].as_array().unwrap().iter().all(|i| i["status"] == "resolved"));
    // The question was not touched.
    assert_eq!(get_case(&app, &question).await["status"], "new");
}

#[tokio::test]
async fn a_vip_case_moved_into_a_queue_with_a_vip_priority_is_timed_at_that_priority() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let rules = json!([
        {"priority": "medium", "first_response_minutes": 480},
        {"priority": "critical", "first_response_minutes": 60}
    ]);
    let (_, pol, front) = office_queue(&app, rules).await;
    let vip_desk = queue(&app, json!({"name": "VIP desk", "sla_policy_id": pol, "vip_priority": "critical"})).await;
    let acc = app.post("/api/v1/accounts", json!({"name": "Big Corp", "tier": "vip"})).await.body["id"].clone();

    // Created straight in the VIP desk: critical, and timed as critical.
    let direct = app.create_case(json!({"subject": "direct", "queue_id": vip_desk, "account_id": acc})).await;
    assert_eq!(direct["priority"], "critical");
    assert_eq!(target(&direct, "first_response")["due_at"], "2026-06-08T08:00:00Z");

    // Created at the front desk (no VIP priority there) and moved to the VIP desk at 09:10: the
    // same policy, but now critical, so 60 minutes from the start, not 480.
    let c = app.create_case(json!({"subject": "moved", "queue_id": front, "account_id": acc})).await;
    assert_eq!(
        (c["priority"].as_str(), target(&c, "first_response")["due_at"].as_str()),
        (Some("medium"), Some("2026-06-08T15:00:00Z"))
    );
    set(&app, "2026-06-08T07:10:00Z");
    let moved = patch_case(&app, &id(&c), json!({"queue_id": vip_desk})).await;
    assert_eq!(moved["priority"], "critical");
    let first = target(&moved, "first_response");
    assert_eq!(
        (first["budget_minutes"].as_i64(), first["due_at"].as_str()),
        (Some(60), Some("2026-06-08T08:00:00Z")),
        "{first}"
    );

    // Escalated there: the same.
    let e = app.create_case(json!({"subject": "escalated", "queue_id": front, "account_id": acc})).await;
    let r = app.post(&format!("/api/v1/cases/{}/escalate", id(&e)), json!({"queue_id": vip_desk})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(target(&r.body, "first_response")["budget_minutes"], 60);
    assert_eq!(target(&r.body, "first_response")["due_at"], "2026-06-08T08:10:00Z", "60 minutes from 09:10");
}

#[tokio::test]
async fn deleted_cases_do_not_hold_up_the_sweep() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let pol = policy(&app, None, medium(10, None, None)).await;
    let q = queue(&app, json!({"name": "Busy", "sla_policy_id": pol})).await;
    // More deleted cases with overdue clocks than one sweep round handles (200)…
    for i in 0..201 {
        let c = app.create_case(json!({"subject": format!("spam {i}"), "queue_id": q})).await;
        assert_eq!(app.delete(&format!("/api/v1/cases/{}", id(&c))).await.status, StatusCode::NO_CONTENT);
    }
    // …and one live case, due a minute after them.
    app.clock.as_ref().unwrap().advance(SignedDuration::from_mins(1));
    let live = id(&app.create_case(json!({"subject": "real customer", "queue_id": q})).await);
    set(&app, "2026-06-08T07:30:00Z");
    sweep(&app).await;
    sweep(&app).await;
    let c = get_case(&app, &live).await;
    assert_eq!(c["sla_breached"], true, "the live case's breach is flagged: {}", c["sla"]);
    assert_eq!(entries(&app, &live, "sla.breached").await.len(), 1);
}

#[tokio::test]
async fn closing_a_problem_outright_resolves_its_incidents_too() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let problem = app.create_case(json!({"subject": "Outage", "type": "problem"})).await;
    let pid = id(&problem);
    let incident = id(&app.create_case(json!({"subject": "Site down", "type": "incident", "problem_id": pid})).await);
    patch_case(&app, &pid, json!({"status": "closed"})).await;
    let c = get_case(&app, &incident).await;
    assert_eq!(c["status"], "resolved", "closing the problem resolves its incident: {c}");
}
