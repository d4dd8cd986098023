//! Time tracking over HTTP: timers (start, pause, resume, stop; one running per agent; across a
//! restart), manual entries in each unit, timesheets, totals, estimates, the queue switch,
//! permissions and the timeline. Timers run on a manual clock, so every duration is exact.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app, spawn_app_at};

fn start() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

fn advance(app: &TestApp, minutes: i64) {
    app.clock.as_ref().expect("manual clock").advance(SignedDuration::from_mins(minutes));
}

async fn case(app: &TestApp, body: Value) -> String {
    app.create_case(body).await["id"].as_str().unwrap().to_string()
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Resp {
    app.call(Method::PUT, path, Some(token), Some(&body), &[]).await
}

async fn post_as(app: &TestApp, path: &str, token: &str, body: Option<Value>) -> Resp {
    app.call(Method::POST, path, Some(token), body.as_ref(), &[]).await
}

fn kinds(timeline: &[Value]) -> Vec<String> {
    timeline.iter().map(|e| e["kind"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn a_timer_starts_pauses_resumes_and_stops_into_an_entry() {
    let app = spawn_app_at(start()).await;
    let c = case(&app, json!({"subject": "Slow VPN"})).await;
    let tt = app.post("/api/v1/time-types", json!({"name": "Investigation"})).await.body["id"].clone();

    let r = app.post(&format!("/api/v1/cases/{c}/timer/start"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["timer"]["state"].as_str(), r.body["resumed"].as_bool()), (Some("running"), Some(false)));
    assert_eq!(r.body["stopped"], Value::Null);
    advance(&app, 10);
    let timers = app.get("/api/v1/timers").await;
    assert_eq!(timers.body["data"][0]["elapsed_seconds"], 600, "{}", timers.body);

    let p = app.post(&format!("/api/v1/cases/{c}/timer/pause"), json!({})).await;
    assert_eq!(
        (p.status.as_u16(), p.body["state"].as_str(), p.body["elapsed_seconds"].as_i64()),
        (200, Some("paused"), Some(600))
    );
    advance(&app, 60);
    assert_eq!(
        app.get("/api/v1/timers").await.body["data"][0]["elapsed_seconds"],
        600,
        "a paused timer does not count"
    );

    let r = app.post(&format!("/api/v1/cases/{c}/timer/start"), json!({})).await;
    assert_eq!((r.body["resumed"].as_bool(), r.body["timer"]["elapsed_seconds"].as_i64()), (Some(true), Some(600)));
    advance(&app, 5);
    let s =
        app.post(&format!("/api/v1/cases/{c}/timer/stop"), json!({"time_type_id": tt, "note": "traced the MTU"})).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let entry = &s.body["entry"];
    assert_eq!((entry["duration_seconds"].as_i64(), entry["duration_minutes"].as_i64()), (Some(900), Some(15)));
    assert_eq!((entry["source"].as_str(), entry["date"].as_str()), (Some("timer"), Some("2026-03-02")));
    assert_eq!((entry["time_type_id"].clone(), entry["note"].as_str()), (tt.clone(), Some("traced the MTU")));
    assert_eq!(app.get("/api/v1/timers").await.body["data"], json!([]));

    app.post(&format!("/api/v1/cases/{c}/timer/pause"), json!({})).await.assert_problem(409, "no_timer");
    app.post(&format!("/api/v1/cases/{c}/timer/stop"), json!({})).await.assert_problem(409, "no_timer");
    let list = app.get(&format!("/api/v1/cases/{c}/time-entries")).await;
    assert_eq!(
        (list.body["time_spent_minutes"].as_i64(), list.body["data"][0]["id"].clone()),
        (Some(15), entry["id"].clone())
    );

    let k = kinds(&app.timeline(&c).await);
    let time_kinds: Vec<&str> = k.iter().map(String::as_str).filter(|k| k.starts_with("time")).collect();
    assert_eq!(time_kinds, ["timer.started", "timer.paused", "timer.started", "timer.stopped", "time_entry.created"]);
}

#[tokio::test]
async fn starting_a_second_timer_stops_the_first_and_says_so() {
    let app = spawn_app_at(start()).await;
    let first = case(&app, json!({"subject": "First"})).await;
    let second = case(&app, json!({"subject": "Second"})).await;
    app.post(&format!("/api/v1/cases/{first}/timer/start"), json!({})).await;
    advance(&app, 20);
    let r = app.post(&format!("/api/v1/cases/{second}/timer/start"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stopped = &r.body["stopped"];
    assert_eq!((stopped["case_id"].as_str(), stopped["elapsed_seconds"].as_i64()), (Some(first.as_str()), Some(1200)));
    assert_eq!(stopped["entry"]["duration_minutes"], 20);
    let timers = app.get("/api/v1/timers").await.body["data"].clone();
    assert_eq!(timers.as_array().map(Vec::len), Some(1));
    assert_eq!((timers[0]["case_id"].as_str(), timers[0]["state"].as_str()), (Some(second.as_str()), Some("running")));

    let tl = app.timeline(&first).await;
    let stop = tl.iter().find(|e| e["kind"] == "timer.stopped").expect("the first case says its timer stopped");
    assert_eq!(stop["data"]["reason"], "another_timer_started");
    assert_eq!(stop["data"]["started_on_case_id"], second.as_str());
    assert_eq!(stop["data"]["time_entry_id"], stopped["entry"]["id"]);
    assert_eq!(app.get(&format!("/api/v1/cases/{first}/time-entries")).await.body["time_spent_minutes"], 20);
}

#[tokio::test]
async fn a_running_timer_survives_a_restart() {
    let app = spawn_app_at(start()).await;
    let c = case(&app, json!({"subject": "Long job"})).await;
    app.post(&format!("/api/v1/cases/{c}/timer/start"), json!({})).await;
    advance(&app, 30);
    let app = app.restart().await;
    advance(&app, 15);
    let timers = app.get("/api/v1/timers").await;
    assert_eq!(timers.body["data"][0]["state"], "running", "{}", timers.body);
    assert_eq!(timers.body["data"][0]["elapsed_seconds"], 45 * 60);
    let s = app.call(Method::POST, &format!("/api/v1/cases/{c}/timer/stop"), Some(&app.token), None, &[]).await;
    assert_eq!(s.body["entry"]["duration_minutes"], 45, "{}", s.body);
}

#[tokio::test]
async fn manual_entries_take_minutes_hours_and_working_days() {
    let app = spawn_app_at(start()).await;
    assert_eq!(app.get("/api/v1/organization").await.body["working_day_minutes"], 480);
    app.patch("/api/v1/organization", json!({"working_day_minutes": 0})).await.assert_problem(422, "validation_failed");
    let r = app.patch("/api/v1/organization", json!({"working_day_minutes": 450})).await;
    assert_eq!(r.body["working_day_minutes"], 450, "{}", r.body);
    let c = case(&app, json!({"subject": "Migration"})).await;
    let path = format!("/api/v1/cases/{c}/time-entries");
    for (duration, minutes) in
        [(json!("90m"), 90), (json!("1.5h"), 90), (json!("1d"), 450), (json!(45), 45), (json!("1h 30m"), 90)]
    {
        let r = app.post(&path, json!({"duration": duration, "date": "2026-03-01", "billable": false})).await;
        assert_eq!(r.status, 201, "{duration}: {}", r.body);
        assert_eq!((r.body["duration_minutes"].as_i64(), r.body["source"].as_str()), (Some(minutes), Some("manual")));
        assert_eq!((r.body["date"].as_str(), r.body["billable"].as_bool()), (Some("2026-03-01"), Some(false)));
        assert!(r.header("location").is_some_and(|l| l.starts_with("/api/v1/time-entries/te_")));
    }
    let d = app.post(&path, json!({"duration": "1h"})).await;
    assert_eq!(d.body["date"], "2026-03-02", "the date defaults to today");
    for (body, field) in [
        (json!({"duration": "soon"}), "duration"),
        (json!({"duration": "0m"}), "duration"),
        (json!({"duration": true}), "duration"),
        (json!({"duration": "1h", "date": "2026-03-03"}), "date"),
        (json!({"duration": "1h", "date": "March"}), "date"),
        (json!({"duration": "1h", "time_type_id": "tt_nope"}), "time_type_id"),
        (json!({"note": "no duration"}), "duration"),
        (json!({"duration": "1h", "minutes": 5}), "minutes"),
    ] {
        let r = app.post(&path, body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.body);
    }

    // Idempotency-Key: the same request again is the same entry; another body is refused.
    let body = json!({"duration": "2h", "note": "retry-safe"});
    let once = app.call(Method::POST, &path, Some(&app.token), Some(&body), &[("idempotency-key", "k-1")]).await;
    let twice = app.call(Method::POST, &path, Some(&app.token), Some(&body), &[("idempotency-key", "k-1")]).await;
    assert_eq!((once.status.as_u16(), twice.status.as_u16()), (201, 201));
    assert_eq!(once.body["id"], twice.body["id"]);
    assert_eq!(twice.header("idempotent-replayed").as_deref(), Some("true"));
    let other = json!({"duration": "3h"});
    app.call(Method::POST, &path, Some(&app.token), Some(&other), &[("idempotency-key", "k-1")])
        .await
        .assert_problem(422, "idempotency_key_reused");
    let list = app.get(&path).await;
    assert_eq!(list.body["entries"], 7, "{}", list.body);
    assert_eq!(list.body["time_spent_minutes"], 90 + 90 + 450 + 45 + 90 + 60 + 120);
}

#[tokio::test]
async fn timesheets_filter_by_user_date_and_billable_a_page_at_a_time() {
    let app = spawn_app_at(start()).await;
    let (agent, agent_token) = app.agent().await;
    let c = case(&app, json!({"subject": "Timesheet"})).await;
    let path = format!("/api/v1/cases/{c}/time-entries");
    let mut mine = Vec::new();
    for (day, billable) in [("2026-02-26", true), ("2026-02-27", false), ("2026-02-28", true), ("2026-03-01", true)] {
        let r = app.post(&path, json!({"duration": "1h", "date": day, "billable": billable})).await;
        mine.push(r.body["id"].as_str().unwrap().to_string());
    }
    let theirs = post_as(&app, &path, &agent_token, Some(json!({"duration": "30m", "date": "2026-02-27"}))).await;
    assert_eq!(theirs.body["user_id"], agent.as_str(), "{}", theirs.body);

    let ids = |r: &Resp| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
    };
    let admin = app.get(&format!("/api/v1/time-entries?user_id={}", app.admin_id)).await;
    assert_eq!(ids(&admin), mine.iter().rev().cloned().collect::<Vec<_>>(), "latest work first");
    let r = app.get(&format!("/api/v1/time-entries?user_id={agent}")).await;
    assert_eq!(ids(&r), [theirs.body["id"].as_str().unwrap()]);
    let r = app.get("/api/v1/time-entries?from=2026-02-27&to=2026-02-28").await;
    assert_eq!(r.body["data"].as_array().map(Vec::len), Some(3), "both ends included: {}", r.body);
    let r = app.get(&format!("/api/v1/time-entries?billable=false&user_id={}", app.admin_id)).await;
    assert_eq!(ids(&r), [mine[1].clone()]);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let r = app.get(&format!("/api/v1/time-entries?limit=2{q}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(ids(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "every entry once: {seen:?}");
    for bad in ["from=yesterday", "billable=maybe", "from=2026-03-02&to=2026-03-01", "cursor=nope", "color=red"] {
        app.get(&format!("/api/v1/time-entries?{bad}")).await.assert_problem(422, "validation_failed");
    }
    // A deleted case's time leaves the timesheet and the totals.
    let gone = case(&app, json!({"subject": "Deleted later"})).await;
    app.post(&format!("/api/v1/cases/{gone}/time-entries"), json!({"duration": "4h", "date": "2026-02-27"})).await;
    assert_eq!(app.get("/api/v1/time-entries?limit=100").await.body["data"].as_array().map(Vec::len), Some(6));
    assert_eq!(app.delete(&format!("/api/v1/cases/{gone}")).await.status, 204);
    assert_eq!(app.get("/api/v1/time-entries?limit=100").await.body["data"].as_array().map(Vec::len), Some(5));
    let totals = app.get("/api/v1/time-entries/totals?group_by=case").await.body;
    assert!(!totals.to_string().contains(&gone), "{totals}");
}

#[tokio::test]
async fn totals_per_user_account_time_type_and_case() {
    let app = spawn_app_at(start()).await;
    let (agent, agent_token) = app.agent().await;
    let acc = app.post("/api/v1/accounts", json!({"name": "Globex"})).await.body["id"].as_str().unwrap().to_string();
    let with_account = case(&app, json!({"subject": "Billed", "account_id": acc})).await;
    let without = case(&app, json!({"subject": "Internal"})).await;
    let travel = app.post("/api/v1/time-types", json!({"name": "Travel", "billable": false})).await.body["id"].clone();
    let e = |c: &str| format!("/api/v1/cases/{c}/time-entries");
    app.post(&e(&with_account), json!({"duration": "2h", "time_type_id": travel})).await;
    app.post(&e(&with_account), json!({"duration": "1h"})).await;
    post_as(&app, &e(&without), &agent_token, Some(json!({"duration": "30m"}))).await;

    let r = app.get("/api/v1/time-entries/totals?group_by=user").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"][0]["key"], app.admin_id.as_str());
    assert_eq!(
        (r.body["data"][0]["minutes"].as_i64(), r.body["data"][0]["billable_minutes"].as_i64()),
        (Some(180), Some(60))
    );
    assert_eq!(
        (r.body["data"][1]["key"].as_str(), r.body["data"][1]["minutes"].as_i64()),
        (Some(agent.as_str()), Some(30))
    );
    assert_eq!((r.body["total"]["minutes"].as_i64(), r.body["total"]["entries"].as_i64()), (Some(210), Some(3)));

    let r = app.get("/api/v1/time-entries/totals?group_by=account").await;
    assert_eq!(
        r.body["data"],
        json!([
            {"key": acc, "seconds": 10800, "minutes": 180, "billable_minutes": 60, "entries": 2},
            {"key": null, "seconds": 1800, "minutes": 30, "billable_minutes": 30, "entries": 1},
        ])
    );
    let r = app.get("/api/v1/time-entries/totals?group_by=time_type").await;
    assert_eq!((r.body["data"][0]["key"].clone(), r.body["data"][0]["minutes"].as_i64()), (travel.clone(), Some(120)));
    let r = app.get(&format!("/api/v1/time-entries/totals?group_by=case&user_id={}", app.admin_id)).await;
    assert_eq!(r.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.body["data"][0]["key"], with_account.as_str());
    let r = app.get("/api/v1/time-entries/totals?group_by=date&from=2026-03-03").await;
    assert_eq!((r.body["data"].clone(), r.body["total"]["minutes"].as_i64()), (json!([]), Some(0)));
    app.get("/api/v1/time-entries/totals").await.assert_problem(422, "validation_failed");
    let r = app.get("/api/v1/time-entries/totals?group_by=team").await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["group_by"]);
}

#[tokio::test]
async fn estimates_are_set_by_admins_and_queue_managers_and_shown_against_time_spent() {
    let app = spawn_app_at(start()).await;
    let (agent, agent_token) = app.agent().await;
    let q = app.post("/api/v1/case-queues", json!({"name": "Projects"})).await.body["id"].as_str().unwrap().to_string();
    let c = case(&app, json!({"subject": "Rollout", "queue_id": q})).await;
    let est = format!("/api/v1/cases/{c}/time-estimate");
    let r = put(&app, &est, &app.token, json!({"time_estimate_minutes": "3h"})).await;
    assert_eq!((r.status.as_u16(), r.body["time_estimate_minutes"].as_i64()), (200, Some(180)), "{}", r.body);
    app.post(&format!("/api/v1/cases/{c}/time-entries"), json!({"duration": "50m"})).await;
    let r = app.get(&format!("/api/v1/cases/{c}/time-entries")).await;
    assert_eq!(
        (
            r.body["time_spent_minutes"].as_i64(),
            r.body["time_estimate_minutes"].as_i64(),
            r.body["time_remaining_minutes"].as_i64()
        ),
        (Some(50), Some(180), Some(130))
    );

    put(&app, &est, &agent_token, json!({"time_estimate_minutes": 60})).await.assert_problem(403, "forbidden");
    let m =
        put(&app, &format!("/api/v1/case-queues/{q}/members/{agent}"), &app.token, json!({"role": "manager"})).await;
    assert_eq!(m.status, 200, "{}", m.body);
    let r = put(&app, &est, &agent_token, json!({"time_estimate_minutes": 240})).await;
    assert_eq!(r.body["time_estimate_minutes"], 240, "a queue manager sets estimates: {}", r.body);
    let r = put(&app, &est, &app.token, json!({"time_estimate_minutes": "lots"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["time_estimate_minutes"]);
    let r = put(&app, &est, &app.token, json!({"time_estimate_minutes": null})).await;
    assert_eq!(
        (r.body["time_estimate_minutes"].clone(), r.body["time_remaining_minutes"].clone()),
        (Value::Null, Value::Null)
    );

    let changes: Vec<Value> =
        app.timeline(&c).await.into_iter().filter(|e| e["kind"] == "time_estimate.changed").collect();
    let values: Vec<(Value, Value)> =
        changes.iter().map(|e| (e["data"]["old"].clone(), e["data"]["new"].clone())).collect();
    assert_eq!(values, [(Value::Null, json!(180)), (json!(180), json!(240)), (json!(240), Value::Null)]);
}

#[tokio::test]
async fn a_queue_with_time_tracking_off_refuses_time_on_its_cases() {
    let app = spawn_app_at(start()).await;
    let q = app.post("/api/v1/case-queues", json!({"name": "No clocks"})).await;
    assert_eq!(q.body["time_tracking"], true, "on by default: {}", q.body);
    let q = q.body["id"].as_str().unwrap().to_string();
    let off = app.patch(&format!("/api/v1/case-queues/{q}"), json!({"time_tracking": false})).await;
    assert_eq!(off.body["time_tracking"], false, "{}", off.body);
    let c = case(&app, json!({"subject": "Queued", "queue_id": q})).await;
    let r = app.post(&format!("/api/v1/cases/{c}/time-entries"), json!({"duration": "1h"})).await;
    r.assert_problem(409, "time_tracking_disabled");
    assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("No clocks")), "{}", r.body);
    app.post(&format!("/api/v1/cases/{c}/timer/start"), json!({})).await.assert_problem(409, "time_tracking_disabled");

    let free = case(&app, json!({"subject": "No queue"})).await;
    assert_eq!(app.post(&format!("/api/v1/cases/{free}/time-entries"), json!({"duration": "1h"})).await.status, 201);
    app.patch(&format!("/api/v1/case-queues/{q}"), json!({"time_tracking": true})).await;
    assert_eq!(app.post(&format!("/api/v1/cases/{c}/time-entries"), json!({"duration": "1h"})).await.status, 201);
}

#[tokio::test]
async fn agents_change_their_own_entries_and_admins_any_on_the_timeline() {
    let app = spawn_app_at(start()).await;
    let (agent, agent_token) = app.agent().await;
    let c = case(&app, json!({"subject": "Shared"})).await;
    let path = format!("/api/v1/cases/{c}/time-entries");
    let own = post_as(&app, &path, &agent_token, Some(json!({"duration": "1h"}))).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admins = app.post(&path, json!({"duration": "2h"})).await.body["id"].as_str().unwrap().to_string();
    let entry = |id: &str| format!("/api/v1/time-entries/{id}");

    let r = app
        .call(Method::PATCH, &entry(&own), Some(&agent_token), Some(&json!({"duration": "75m", "note": "fixed"})), &[])
        .await;
    assert_eq!((r.status.as_u16(), r.body["duration_minutes"].as_i64()), (200, Some(75)), "{}", r.body);
    app.call(Method::PATCH, &entry(&admins), Some(&agent_token), Some(&json!({"note": "mine now"})), &[])
        .await
        .assert_problem(403, "forbidden");
    app.call(Method::DELETE, &entry(&admins), Some(&agent_token), None, &[]).await.assert_problem(403, "forbidden");
    let r = app.patch(&entry(&own), json!({"billable": false})).await;
    assert_eq!(r.body["billable"], false, "an admin changes anyone's entry: {}", r.body);
    app.patch(&entry(&own), json!({"duration": "forever"})).await.assert_problem(422, "validation_failed");
    let d = app.call(Method::DELETE, &entry(&own), Some(&agent_token), None, &[]).await;
    assert_eq!(d.status, 204);
    app.get(&entry(&own)).await.assert_problem(404, "not_found");

    // Logging for someone else is for admins.
    post_as(&app, &path, &agent_token, Some(json!({"duration": "1h", "user_id": app.admin_id})))
        .await
        .assert_problem(403, "forbidden");
    let r = app.post(&path, json!({"duration": "1h", "user_id": agent})).await;
    assert_eq!(
        (r.body["user_id"].as_str(), r.body["created_by"].as_str()),
        (Some(agent.as_str()), Some(app.admin_id.as_str()))
    );
    let r = app.post(&path, json!({"duration": "1h", "user_id": "usr_0000000000007000800000000000dead"})).await;
    assert_eq!(r.error_fields(), ["user_id"]);

    let k = kinds(&app.timeline(&c).await);
    let time_kinds: Vec<&str> = k.iter().map(String::as_str).filter(|k| k.starts_with("time_entry")).collect();
    assert_eq!(
        time_kinds,
        [
            "time_entry.created",
            "time_entry.created",
            "time_entry.updated",
            "time_entry.updated",
            "time_entry.deleted",
            "time_entry.created"
        ]
    );
}

#[tokio::test]
async fn time_types_are_an_organizations_own_list() {
    let app = spawn_app().await;
    let (_, agent_token) = app.agent().await;
    post_as(&app, "/api/v1/time-types", &agent_token, Some(json!({"name": "Call"})))
        .await
        .assert_problem(403, "forbidden");
    let call = app.post("/api/v1/time-types", json!({"name": "Call"})).await;
    assert_eq!((call.status.as_u16(), call.body["billable"].as_bool()), (201, Some(true)), "{}", call.body);
    let call = call.body["id"].as_str().unwrap().to_string();
    let r = app.post("/api/v1/time-types", json!({"name": "call"})).await;
    assert_eq!(r.error_fields(), ["name"], "names are unique: {}", r.body);
    app.post("/api/v1/time-types", json!({})).await.assert_problem(422, "validation_failed");
    let travel = app.post("/api/v1/time-types", json!({"name": "Travel", "billable": false})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = app.get("/api/v1/time-types").await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(2));

    let c = case(&app, json!({"subject": "Typed"})).await;
    let path = format!("/api/v1/cases/{c}/time-entries");
    let r = app.post(&path, json!({"duration": "1h", "time_type_id": travel})).await;
    assert_eq!(r.body["billable"], false, "the type's default: {}", r.body);
    let r = app.patch(&format!("/api/v1/time-types/{travel}"), json!({"active": false})).await;
    assert_eq!(r.body["active"], false);
    let r = app.post(&path, json!({"duration": "1h", "time_type_id": travel})).await;
    assert_eq!(r.error_fields(), ["time_type_id"], "inactive types take no new entries: {}", r.body);
    app.delete(&format!("/api/v1/time-types/{travel}")).await.assert_problem(409, "in_use");
    assert_eq!(app.delete(&format!("/api/v1/time-types/{call}")).await.status, 204);

    // Another organization sees none of it and cannot use it.
    let (_, b_token) = app.other_org().await;
    for list in ["/api/v1/time-types", "/api/v1/time-entries", "/api/v1/timers"] {
        let r = app.call(Method::GET, list, Some(&b_token), None, &[]).await;
        assert_eq!(r.body["data"], json!([]), "B's {list}: {}", r.body);
    }
    let r = app.call(Method::GET, "/api/v1/time-entries/totals?group_by=user", Some(&b_token), None, &[]).await;
    assert_eq!(r.body["total"]["minutes"], 0);
    let b_case = post_as(&app, "/api/v1/cases", &b_token, Some(json!({"subject": "B"}))).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post_as(
        &app,
        &format!("/api/v1/cases/{b_case}/time-entries"),
        &b_token,
        Some(json!({"duration": "1h", "time_type_id": travel})),
    )
    .await;
    assert_eq!(r.error_fields(), ["time_type_id"], "{}", r.body);
}
