//! Webhooks: subscriptions, and deliveries to a real receiver on loopback — signed, retried with
//! the same event id until it answers, in order per case, across a restart of casedesk, logged,
//! redelivered, dead-lettered and switched off after a day of failures (on a manual clock).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::helpers::{TestApp, spawn_app, spawn_app_at};

const SECRET: &str = "whsec_test_secret_0123456789abcdef";

/// One request a receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub body: String,
    pub json: Value,
    pub signature: String,
    pub delivery: String,
    /// The status the receiver answered.
    pub answered: u16,
}

/// A webhook endpoint on loopback that fails its first `fail_first` requests (500), or all
/// of them when `fail_first` is `usize::MAX`, then answers 204.
#[derive(Clone)]
pub(crate) struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    pub(crate) async fn start(fail_first: usize) -> Receiver {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.expect("bind"), fail_first)
    }

    fn start_on(listener: TcpListener, fail_first: usize) -> Receiver {
        let addr = listener.local_addr().expect("addr");
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let store = got.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let (store, seen) = (store.clone(), seen.clone());
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let status = if n < fail_first { AxumStatus::INTERNAL_SERVER_ERROR } else { AxumStatus::NO_CONTENT };
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                store.lock().unwrap().push(Received {
                    json: serde_json::from_str(&body).unwrap_or(Value::Null),
                    signature: header("casedesk-signature"),
                    delivery: header("casedesk-delivery"),
                    body,
                    answered: status.as_u16(),
                });
                status
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver { addr, got, task: Arc::new(task) }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received (on PostgreSQL the dispatcher waits for
    /// every older transaction of the cluster, and other tests run beside this one).
    pub(crate) async fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; received {got:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

/// Checks `Casedesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` as a receiver would.
pub(crate) fn verifies(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.split_once(',') else { return false };
    let (Some(t), Some(v1)) = (t.strip_prefix("t="), v1.strip_prefix("v1=")) else { return false };
    let Ok(expected) = hex::decode(v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&expected).is_ok()
}

fn start_time() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

async fn create_webhook(app: &TestApp, url: &str, events: Value) -> Value {
    let r = app.post("/api/v1/webhooks", json!({"url": url, "events": events, "secret": SECRET})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn deliveries(app: &TestApp, webhook_id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/webhooks/{webhook_id}/deliveries?limit=200")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

/// Waits until the webhook's delivery log satisfies `done`.
async fn wait_for_log(app: &TestApp, webhook_id: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = deliveries(app, webhook_id).await;
        if done(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; log {log:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ids of the event of each request, first receipt only, grouped by case in the order
/// they arrived.
fn first_receipts_by_case(got: &[Received]) -> BTreeMap<String, Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in got {
        let id = r.json["id"].as_str().unwrap().to_string();
        if seen.insert(id.clone()) {
            out.entry(r.json["case_id"].as_str().unwrap().to_string()).or_default().push(id);
        }
    }
    out
}

/// The events of each case (of `kinds`, or all) in the order they were written: a case's
/// writes follow one another, so this is also the change feed's order for the case. (Timelines
/// read committed rows at once; the feed on PostgreSQL waits for other tests' transactions.)
async fn timelines(app: &TestApp, case_ids: &[String], kinds: Option<&[&str]>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for id in case_ids {
        let mut events: Vec<(i64, String)> = app
            .timeline(id)
            .await
            .iter()
            .filter(|e| kinds.is_none_or(|k| k.contains(&e["kind"].as_str().unwrap())))
            .map(|e| {
                let id = e["id"].as_str().unwrap().to_string();
                (id.trim_start_matches("evt_").parse().unwrap(), id)
            })
            .collect();
        events.sort();
        out.insert(id.clone(), events.into_iter().map(|(_, id)| id).collect());
    }
    out
}

/// A webhook of the app's organization whose endpoint refuses connections, once its first
/// delivery has been attempted (so its state no longer changes for a while); returns the ids
/// of the webhook and of that delivery.
pub(crate) async fn unreachable_webhook_with_a_delivery(app: &TestApp) -> (String, String) {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", reserved.local_addr().unwrap());
    drop(reserved);
    let hook = create_webhook(app, &url, json!(["case.created"])).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    app.create_case(json!({"subject": "Announced to nobody"})).await;
    let log = wait_for_log(app, &hook_id, "an attempt", |log| log.iter().any(|d| d["error"].is_string())).await;
    (hook_id, log[0]["id"].as_str().unwrap().to_string())
}

pub(crate) fn advance(app: &TestApp, by: SignedDuration) {
    app.clock.as_ref().expect("a manual clock").advance(by);
}

/// Waits until `done` gives a value, moving the manual clock on by `step` after each request the
/// receiver gets and whenever none came for longer than the dispatcher's one-second poll. A
/// delivery's log counts an attempt when it is claimed and writes its outcome after the answer;
/// a clock moved in between makes the retry due later than the clock, and the pause moves it on.
pub(crate) async fn advance_until<T>(
    app: &TestApp,
    receiver: &Receiver,
    step: SignedDuration,
    what: &str,
    mut done: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut seen, mut moved) = (receiver.received().len(), Instant::now());
    loop {
        if let Some(value) = done().await {
            return value;
        }
        let got = receiver.received().len();
        assert!(Instant::now() < deadline, "timed out waiting for {what} after {got} requests");
        if got > seen || moved.elapsed() > Duration::from_millis(1500) {
            (seen, moved) = (got, Instant::now());
            advance(app, step);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn deliveries_are_signed_and_retried_with_the_same_event_id_until_the_receiver_answers() {
    let app = spawn_app_at(start_time()).await;
    let receiver = Receiver::start(3).await;
    let hook = create_webhook(&app, &receiver.url(), json!(["case.created", "comment.added"])).await;
    let hook_id = hook["id"].as_str().unwrap();
    assert_eq!(hook["secret"], SECRET, "the secret is shown on create");

    let case = app.create_case(json!({"subject": "Printer on fire"})).await;
    let case_id = case["id"].as_str().unwrap();
    let c = app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Still burning"})).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    // Not subscribed: never sent.
    app.patch(&format!("/api/v1/cases/{case_id}"), json!({"priority": "high"})).await;

    // Three failures, each retried once the (manual) clock passes its backoff.
    for n in 1..=3 {
        receiver.wait_until(&format!("attempt {n}"), |got| got.len() >= n).await;
        let log = wait_for_log(&app, hook_id, "the failure recorded", |log| {
            log.iter().any(|d| d["attempts"] == n && d["response_status"] == 500 && d["status"] == "pending")
        })
        .await;
        let first = log.iter().find(|d| d["event_type"] == "case.created").unwrap();
        assert_eq!(first["error"], "the endpoint answered 500", "{first}");
        assert!(first["next_attempt_at"].is_string(), "a pending delivery says when it is tried next: {first}");
        advance(&app, SignedDuration::from_hours(2));
    }
    let got = receiver
        .wait_until("both events delivered", |got| {
            got.iter().filter(|r| r.answered == 204).map(|r| r.json["type"].to_string()).collect::<BTreeSet<_>>().len()
                == 2
        })
        .await;

    let created: Vec<&Received> = got.iter().filter(|r| r.json["type"] == "case.created").collect();
    assert_eq!(created.len(), 4, "three failures and a success: {got:#?}");
    for r in &got {
        assert!(verifies(SECRET, &r.signature, &r.body), "signature {} of {}", r.signature, r.body);
        assert!(!verifies("whsec_another_secret_000000000000", &r.signature, &r.body));
        assert!(r.delivery.starts_with("whd_"), "delivery id header: {:?}", r.delivery);
    }
    assert!(created.iter().all(|r| r.body == created[0].body), "every retry sends the same body");
    assert!(created.iter().all(|r| r.delivery == created[0].delivery), "and is the same delivery");
    let body = &created[0].json;
    assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");
    assert_eq!(body["case_id"], case_id);
    assert_eq!(body["case"]["subject"], "Printer on fire");
    assert_eq!(body["changes"]["subject"], "Printer on fire");
    assert!(body["occurred_at"].is_string(), "{body}");
    let comment = &got.iter().find(|r| r.json["type"] == "comment.added").unwrap().json;
    assert_eq!(comment["comment"]["body"], "Still burning", "{comment}");
    assert_eq!(comment["comment"]["id"], comment["changes"]["comment_id"], "{comment}");

    // Order per case: the comment went out only after the creation was delivered.
    let comment_first = got.iter().position(|r| r.json["type"] == "comment.added").unwrap();
    let created_ok = got.iter().position(|r| r.json["type"] == "case.created" && r.answered == 204).unwrap();
    assert!(created_ok < comment_first, "the comment was sent before its case's creation was delivered");
    let written = timelines(&app, &[case_id.to_string()], Some(&["case.created", "comment.added"])).await;
    assert_eq!(first_receipts_by_case(&got), written, "the event ids are the timeline's, in its order");

    let log = deliveries(&app, hook_id).await;
    assert_eq!(log.len(), 2, "one delivery per subscribed event: {log:#?}");
    let done = log.iter().find(|d| d["event_type"] == "case.created").unwrap();
    assert_eq!(
        (done["status"].as_str(), done["attempts"].as_i64(), done["response_status"].as_i64()),
        (Some("delivered"), Some(4), Some(204))
    );
    assert_eq!(done["event_id"], body["id"]);
    assert!(done["delivered_at"].is_string() && done["next_attempt_at"].is_null(), "{done}");
    let hook = app.get(&format!("/api/v1/webhooks/{hook_id}")).await.body;
    assert_eq!(
        (hook["active"].as_bool(), hook["failing_since"].clone()),
        (Some(true), Value::Null),
        "a success clears the failures"
    );
    assert!(hook.get("secret").is_none(), "the secret is never shown again: {hook}");
    receiver.stop();
}

#[tokio::test]
async fn a_receiver_down_while_casedesk_restarts_gets_every_event_once_in_order() {
    let app = spawn_app_at(start_time()).await;
    // A port with nothing listening until the receiver starts on it after the restart.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let url = format!("http://{addr}/hook");
    let hook = create_webhook(&app, &url, json!(["*"])).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();

    let mut cases = Vec::new();
    for n in 0..3 {
        let case = app.create_case(json!({"subject": format!("Case {n}")})).await;
        let id = case["id"].as_str().unwrap().to_string();
        for body in ["first", "second"] {
            let r = app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": body})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        app.patch(&format!("/api/v1/cases/{id}"), json!({"status": "pending"})).await;
        cases.push(id);
    }
    wait_for_log(&app, &hook_id, "a refused attempt", |log| {
        log.iter().any(|d| d["error"] == "could not connect to the endpoint")
    })
    .await;
    // One more change, committed just before the process stops.
    let last = app.post(&format!("/api/v1/cases/{}/comments", cases[0]), json!({"body": "last words"})).await;
    assert_eq!(last.status, StatusCode::CREATED, "{}", last.body);

    let app = app.restart().await;
    let receiver = Receiver::start_on(TcpListener::bind(addr).await.expect("rebind the reserved port"), 0);
    advance(&app, SignedDuration::from_hours(2));
    let written = timelines(&app, &cases, None).await;
    let want: usize = written.values().map(Vec::len).sum();
    assert!(want > 3 * 4, "every change (4 per case and one more) is on a timeline: {written:?}");
    let got = receiver
        .wait_until("every event", |got| {
            got.iter().map(|r| r.json["id"].to_string()).collect::<BTreeSet<_>>().len() >= want
        })
        .await;

    assert_eq!(first_receipts_by_case(&got), written, "every event, in order per case");
    // An event received twice (at least once) is the same event with the same id and body.
    let mut by_id: BTreeMap<String, &str> = BTreeMap::new();
    for r in &got {
        let id = r.json["id"].as_str().unwrap().to_string();
        let prev = by_id.insert(id.clone(), r.body.as_str());
        assert!(prev.is_none_or(|p| p == r.body), "event {id} came twice with different bodies");
        assert!(verifies(SECRET, &r.signature, &r.body));
    }
    let mut distinct_events = BTreeSet::new();
    for r in &got {
        let what = (
            r.json["case_id"].to_string(),
            r.json["type"].to_string(),
            r.json["changes"].to_string(),
            r.json["occurred_at"].to_string(),
        );
        distinct_events.insert((what, r.json["id"].to_string()));
    }
    let ids_per_event: BTreeSet<_> = distinct_events.iter().map(|(what, _)| what.clone()).collect();
    assert_eq!(ids_per_event.len(), distinct_events.len(), "no event was sent under two ids");
    receiver.stop();
}

#[tokio::test]
async fn webhooks_are_validated_and_managed_by_admins() {
    let app = spawn_app().await;
    let bad = app.post("/api/v1/webhooks", json!({"url": "ftp://example.com/x"})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["url"]);
    let bad = app
        .post("/api/v1/webhooks", json!({"url": "https://example.com/x", "events": ["case.created", "case.exploded"]}))
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["events[1]"]);
    let bad = app.post("/api/v1/webhooks", json!({"events": ["*"], "secret": "short"})).await;
    assert_eq!(bad.error_fields(), ["secret"]);
    let bad = app.post("/api/v1/webhooks", json!({"url": "https://example.com/x", "evnets": []})).await;
    assert_eq!(bad.error_fields(), ["evnets"]);
    let bad = app.post("/api/v1/webhooks", json!({"url": 7})).await;
    bad.assert_problem(422, "validation_failed");

    let (_, agent) = app.agent().await;
    let r = app
        .call(Method::POST, "/api/v1/webhooks", Some(&agent), Some(&json!({"url": "https://example.com/x"})), &[])
        .await;
    r.assert_problem(403, "forbidden");
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&agent), None, &[]).await;
    r.assert_problem(403, "forbidden");

    let r = app.post("/api/v1/webhooks", json!({"url": "https://hooks.example.com/in", "description": "CRM"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/webhooks/{id}").as_str()));
    let secret = r.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "a generated secret: {secret}");
    assert_eq!((r.body["events"].clone(), r.body["active"].clone()), (json!(["*"]), json!(true)), "all events, on");

    let got = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.get("secret").is_none(), "{}", got.body);
    assert_eq!(got.body["description"], "CRM");
    let list = app.get("/api/v1/webhooks").await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1), "{}", list.body);
    assert!(list.body["data"][0].get("secret").is_none());

    let p = app.patch(&format!("/api/v1/webhooks/{id}"), json!({"events": ["status.changed"], "active": false})).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_eq!((p.body["events"].clone(), p.body["active"].clone()), (json!(["status.changed"]), json!(false)));
    let p = app.patch(&format!("/api/v1/webhooks/{id}"), json!({"url": "not a url"})).await;
    assert_eq!(p.error_fields(), ["url"]);
    let p = app.patch(&format!("/api/v1/webhooks/{id}"), json!({"secret": SECRET})).await;
    assert_eq!(p.error_fields(), ["secret"], "the secret cannot be changed");

    let (_, other) = app.other_org().await;
    let r = app.call(Method::GET, &format!("/api/v1/webhooks/{id}"), Some(&other), None, &[]).await;
    r.assert_problem(404, "not_found");
    let r = app.call(Method::GET, "/api/v1/webhooks", Some(&other), None, &[]).await;
    assert_eq!(r.body["data"], json!([]), "another organization lists none of ours");

    assert_eq!(app.delete(&format!("/api/v1/webhooks/{id}")).await.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/webhooks/{id}")).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn a_delivered_event_can_be_redelivered_with_its_id() {
    let app = spawn_app_at(start_time()).await;
    let receiver = Receiver::start(0).await;
    let hook = create_webhook(&app, &receiver.url(), json!(["case.created"])).await;
    let hook_id = hook["id"].as_str().unwrap();
    app.create_case(json!({"subject": "Deliver me twice"})).await;
    let log =
        wait_for_log(&app, hook_id, "the delivery", |log| log.len() == 1 && log[0]["status"] == "delivered").await;
    let first = log[0]["id"].as_str().unwrap().to_string();

    let r = app.post(&format!("/api/v1/webhooks/{hook_id}/deliveries/{first}/redeliver"), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let again = r.body["id"].as_str().unwrap().to_string();
    assert_ne!(again, first);
    assert_eq!((r.body["event_id"].clone(), r.body["status"].clone()), (log[0]["event_id"].clone(), json!("pending")));
    let got = receiver.wait_until("the redelivery", |got| got.len() == 2).await;
    assert_eq!(got[0].body, got[1].body, "the same event and body");
    assert_eq!((got[0].delivery.as_str(), got[1].delivery.as_str()), (first.as_str(), again.as_str()));
    wait_for_log(&app, hook_id, "the redelivery logged", |log| {
        log.iter().all(|d| d["status"] == "delivered") && log.len() == 2
    })
    .await;

    // A delivery still waiting (its webhook is off) is not redelivered; other ids are 404s.
    app.patch(&format!("/api/v1/webhooks/{hook_id}"), json!({"active": false})).await;
    let r = app.post(&format!("/api/v1/webhooks/{hook_id}/deliveries/{first}/redeliver"), json!({})).await;
    let waiting = r.body["id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/api/v1/webhooks/{hook_id}/deliveries/{waiting}/redeliver"), json!({})).await;
    r.assert_problem(409, "delivery_pending");
    let r = app
        .post(
            &format!("/api/v1/webhooks/{hook_id}/deliveries/whd_0000000000007000800000000000dead/redeliver"),
            json!({}),
        )
        .await;
    r.assert_problem(404, "not_found");
    let (_, other) = app.other_org().await;
    let r = app.call(Method::GET, &format!("/api/v1/webhooks/{hook_id}/deliveries"), Some(&other), None, &[]).await;
    r.assert_problem(404, "not_found");
    receiver.stop();
}

#[tokio::test]
async fn a_delivery_failing_for_a_day_is_dead_lettered_and_its_endpoint_switched_off() {
    let app = spawn_app_at(start_time()).await;
    let receiver = Receiver::start(usize::MAX).await;
    let hook = create_webhook(&app, &receiver.url(), json!(["case.created"])).await;
    let hook_id = hook["id"].as_str().unwrap();
    app.create_case(json!({"subject": "Nobody listens"})).await;
    receiver.wait_until("the first attempt", |got| !got.is_empty()).await;
    wait_for_log(&app, hook_id, "the first failure", |log| log.len() == 1 && log[0]["response_status"] == 500).await;
    let h = app.get(&format!("/api/v1/webhooks/{hook_id}")).await.body;
    assert_eq!((h["active"].as_bool(), h["failing_since"].is_string()), (Some(true), true), "failing, still on: {h}");

    // Retries for most of a day: still pending, still on.
    for attempt in 2..=12 {
        // Counted before the clock moves: the retry may arrive before this task runs again.
        let n = receiver.received().len();
        advance(&app, SignedDuration::from_hours(2));
        receiver.wait_until("a retry", |got| got.len() > n).await;
        // The receiver answers before the worker records the failure and its next time; moving
        // the clock in between would schedule the next retry past the next move.
        wait_for_log(&app, hook_id, "the retry recorded", |log| log[0]["attempts"].as_i64() >= Some(attempt)).await;
    }
    let log = wait_for_log(&app, hook_id, "retries recorded", |log| {
        log[0]["attempts"].as_i64() >= Some(12) && log[0]["response_status"] == 500
    })
    .await;
    assert_eq!(log[0]["status"], "pending", "retried for 22 hours: {log:#?}");

    // Past a day: the delivery is dead-lettered and the endpoint switched off.
    advance(&app, SignedDuration::from_hours(3));
    let log = wait_for_log(&app, hook_id, "the dead letter", |log| log[0]["status"] == "failed").await;
    assert!(log[0]["next_attempt_at"].is_null(), "{log:#?}");
    let h = app.get(&format!("/api/v1/webhooks/{hook_id}")).await.body;
    assert_eq!(h["active"], false, "{h}");
    assert!(h["disabled_at"].is_string() && h["disabled_reason"].as_str().unwrap().contains("failed"), "{h}");
    // Its creator (the admin) is told in an in-app notification.
    let notes = app.get("/api/v1/notifications").await.body["data"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let message = notes[0]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("The webhook to {} was switched off", receiver.url())), "{message}");

    // Switched back on, its failures are forgotten and new events go out.
    let on = app.patch(&format!("/api/v1/webhooks/{hook_id}"), json!({"active": true})).await;
    assert_eq!(
        (on.body["active"].clone(), on.body["disabled_at"].clone(), on.body["failing_since"].clone()),
        (json!(true), Value::Null, Value::Null)
    );
    app.create_case(json!({"subject": "Heard again"})).await;
    receiver.wait_until("the next event", |got| got.iter().any(|r| r.json["case"]["subject"] == "Heard again")).await;
    receiver.stop();
}

#[tokio::test]
async fn two_instances_share_the_outbox_and_send_each_event_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let hook = create_webhook(&app, &receiver.url(), json!(["case.created", "comment.added"])).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    // A second instance on the same database, dispatching and sending beside the server's own
    // (on PostgreSQL: several instances share a PostgreSQL; an SQLite file has one server).
    let sender = casedesk::webhook_sender::ReqwestSender::new(Duration::from_secs(5)).unwrap();
    let second = app.core.clone().with_http_sender(Arc::new(sender));
    let shared = app.core.store.kind() == casedesk_core::store::BackendKind::Postgres;
    let worker = shared.then(|| {
        tokio::spawn(async move {
            loop {
                let _ = second.dispatch_webhooks().await;
                let _ = second.deliver_webhooks().await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    });

    let mut cases = Vec::new();
    for n in 0..10 {
        let case = app.create_case(json!({"subject": format!("Shared {n}")})).await;
        let id = case["id"].as_str().unwrap().to_string();
        let r = app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": "more"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        cases.push(id);
    }
    wait_for_log(&app, &hook_id, "every delivery done", |log| {
        log.len() >= 20 && log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    if let Some(w) = worker {
        w.abort();
    }

    let log = deliveries(&app, &hook_id).await;
    assert_eq!(log.len(), 20, "one delivery per event, however many dispatchers: {log:#?}");
    let got = receiver.received();
    assert_eq!(got.len(), 20, "each event sent once: {got:#?}");
    let written = timelines(&app, &cases, Some(&["case.created", "comment.added"])).await;
    assert_eq!(first_receipts_by_case(&got), written, "in order per case");
    receiver.stop();
}
