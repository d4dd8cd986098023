//! `/metrics` scraped over HTTP: refused without the token, and its request counters, latency
//! histograms and database gauges move with the requests and cases made between two scrapes.

use casedesk_web::HttpConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_at_with, spawn_app_with};

const METRICS_TOKEN: &str = "metrics-token-0123456789";

/// The value of the series named exactly `series` (name and labels), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    let resp = app.client.get(format!("{}/metrics", app.base)).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    resp.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_read_the_database() {
    let app = spawn_app_with(HttpConfig { metrics_token: Some(METRICS_TOKEN.into()), ..HttpConfig::default() }).await;
    let no_token = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let wrong = app.client.get(format!("{}/metrics", app.base)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let case = app.create_case(json!({"subject": "counted"})).await;
    let id = case["id"].as_str().unwrap();
    let before = scrape(&app).await;
    let org = &app.org_id;
    let open = format!("casedesk_open_cases{{org_id=\"{org}\",queue_id=\"\"}}");
    assert_eq!(value(&before, &open), Some(1.0), "{before}");
    assert_eq!(value(&before, "casedesk_database_up"), Some(1.0));
    assert_eq!(value(&before, "casedesk_jobs{state=\"queued\"}"), Some(0.0));
    assert_eq!(value(&before, "casedesk_webhook_deliveries{state=\"pending\"}"), Some(0.0));
    assert!(before.contains("# TYPE casedesk_http_request_duration_seconds histogram"));
    let found = "casedesk_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"200\"}";
    let missing = "casedesk_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\"}";
    let count = "casedesk_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/cases/{id}\"}";
    let inf = "casedesk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/cases/{id}\",le=\"+Inf\"}";
    assert_eq!(value(&before, found), None);

    for _ in 0..3 {
        assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/api/v1/cases/case_missing").await.status, StatusCode::NOT_FOUND);
    app.create_case(json!({"subject": "another"})).await;
    assert_eq!(app.get("/api/v1/no/such/route").await.status, StatusCode::NOT_FOUND);

    let after = scrape(&app).await;
    // Routes are the matched pattern: two ids, one series.
    assert_eq!(value(&after, found), Some(3.0), "{after}");
    assert_eq!(value(&after, missing), Some(1.0));
    assert_eq!(value(&after, count), Some(4.0));
    assert_eq!(value(&after, inf), Some(4.0));
    assert!(!after.contains("case_missing"), "raw URLs never become labels");
    assert_eq!(
        value(&after, "casedesk_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "casedesk_http_requests_total{method=\"POST\",route=\"/api/v1/cases\",status=\"201\"}"),
        Some(2.0)
    );
    assert_eq!(value(&after, &open), Some(2.0));
    // The first scrape is counted too.
    assert_eq!(
        value(&after, "casedesk_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"),
        Some(1.0)
    );
}

#[tokio::test]
async fn metrics_are_not_served_without_a_token_or_an_admin_address() {
    let app = spawn_app().await;
    let resp = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// The real binary with `--metrics-listen`: the admin address serves `/metrics` (asking for the
/// token, which is set too) and nothing else; the operator suspends an organization.
#[tokio::test]
async fn the_binary_serves_metrics_on_an_admin_address_and_sets_org_status() {
    use std::process::Command;

    use crate::server::{free_port, serve_binary};

    const BIN: &str = env!("CARGO_BIN_EXE_casedesk");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("casedesk.db");
    let db = db.to_str().unwrap();
    let admin_port = free_port();
    let (child, base) = serve_binary(
        db,
        &["--metrics-listen", &format!("127.0.0.1:{admin_port}")],
        &[
            ("CASEDESK_METRICS_TOKEN", METRICS_TOKEN),
            ("CASEDESK_SIGNING_KEY_SECRET", "0123456789abcdef0123456789abcdef-binary"),
            ("CASEDESK_BOOTSTRAP_TOKEN", "binary-test-token-0123456789"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let admin = format!("http://127.0.0.1:{admin_port}");
    assert_eq!(client.get(format!("{admin}/metrics")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let text = client.get(format!("{admin}/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(text.status(), StatusCode::OK);
    let text = text.text().await.unwrap();
    assert!(text.contains("casedesk_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"), "{text}");
    assert_eq!(client.get(format!("{admin}/api/v1/users")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // The sealing secret is taken: HS256 keys can be added.
    let key = client
        .post(format!("{base}/api/v1/signing-keys"))
        .bearer_auth("binary-test-token-0123456789")
        .json(&json!({"alg": "HS256"}))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), StatusCode::CREATED);
    let org: serde_json::Value = client
        .get(format!("{base}/api/v1/organization"))
        .bearer_auth("binary-test-token-0123456789")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = org["id"].as_str().unwrap().to_string();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("metrics on http://127.0.0.1:{admin_port}/metrics"))
    );

    let set = |status: &str| {
        Command::new(BIN)
            .args(["--database-url", db, "admin", "set-org-status", "--org", &org, "--status", status])
            .output()
            .unwrap()
    };
    let done = set("suspended");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("suspended"));
    let bad = set("paused");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("status: must be active or suspended"));
}

#[tokio::test]
async fn metrics_show_webhook_deliveries_waiting_and_failed_attempts() {
    let app = spawn_app_with(HttpConfig { metrics_token: Some(METRICS_TOKEN.into()), ..HttpConfig::default() }).await;
    let before = scrape(&app).await;
    assert_eq!(value(&before, "casedesk_webhook_deliveries{state=\"pending\"}"), Some(0.0));
    assert_eq!(value(&before, "casedesk_webhook_attempts_total{outcome=\"retry\"}"), Some(0.0));
    // A delivery whose first attempt failed (nothing listens there) waits for its retry.
    crate::webhooks::unreachable_webhook_with_a_delivery(&app).await;
    let after = scrape(&app).await;
    assert_eq!(value(&after, "casedesk_webhook_deliveries{state=\"pending\"}"), Some(1.0), "{after}");
    assert_eq!(value(&after, "casedesk_webhook_attempts_total{outcome=\"retry\"}"), Some(1.0));
    assert_eq!(value(&after, "casedesk_webhook_attempts_total{outcome=\"delivered\"}"), Some(0.0));
    assert_eq!(value(&after, "casedesk_webhook_deliveries{state=\"failed\"}"), Some(0.0));
}

#[tokio::test]
async fn metrics_show_breached_cases() {
    let start = jiff::Timestamp::from_second(1_900_000_000).unwrap();
    let http = HttpConfig { metrics_token: Some(METRICS_TOKEN.into()), ..HttpConfig::default() };
    let app = spawn_app_at_with(start, http).await;
    let r = app.patch("/api/v1/organization", json!({"default_sla": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.create_case(json!({"subject": "urgent", "priority": "critical"})).await;
    app.create_case(json!({"subject": "calm", "priority": "low"})).await;
    let breached = format!("casedesk_sla_breached_cases{{org_id=\"{}\"}}", app.org_id);
    assert_eq!(value(&scrape(&app).await, &breached), None, "nothing breached yet");
    // Past the critical case's hour for a first response.
    app.clock.as_ref().unwrap().advance(jiff::SignedDuration::from_mins(61));
    app.core.sweep_sla().await.unwrap();
    let text = scrape(&app).await;
    assert_eq!(value(&text, &breached), Some(1.0), "{text}");
    assert!(text.contains("# TYPE casedesk_sla_alarms_total counter"));
}

#[tokio::test]
async fn metrics_show_mail_sent_failed_and_held() {
    use crate::email::{fill, post_raw, set_up_mail};
    let app = spawn_app_with(HttpConfig { metrics_token: Some(METRICS_TOKEN.into()), ..HttpConfig::default() }).await;
    let sink = crate::smtp_sink::SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    let before = scrape(&app).await;
    assert_eq!(value(&before, "casedesk_emails{direction=\"in\",state=\"quarantined\"}"), Some(0.0), "{before}");
    assert_eq!(value(&before, "casedesk_email_attempts_total{outcome=\"sent\"}"), Some(0.0));

    assert_eq!(post_raw(&app, &fill("no_sender.eml", &[]), "").await.status, StatusCode::ACCEPTED);
    let r = post_raw(&app, &fill("html_only.eml", &[]), "").await;
    let case_id = r.body["case_id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "On it."})).await;
    sink.wait_for(1).await;
    sink.refuse_next(&["554 5.7.1 rejected"]);
    app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Still on it."})).await;
    sink.wait_for_attempts(2).await;

    let start = std::time::Instant::now();
    let after = loop {
        let text = scrape(&app).await;
        if value(&text, "casedesk_emails{direction=\"out\",state=\"failed\"}") == Some(1.0) {
            break text;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(value(&after, "casedesk_emails{direction=\"in\",state=\"quarantined\"}"), Some(1.0));
    assert_eq!(value(&after, "casedesk_emails{direction=\"out\",state=\"queued\"}"), Some(0.0));
    assert_eq!(value(&after, "casedesk_email_attempts_total{outcome=\"sent\"}"), Some(1.0));
    assert_eq!(value(&after, "casedesk_email_attempts_total{outcome=\"failed\"}"), Some(1.0));
    assert_eq!(value(&after, "casedesk_email_attempts_total{outcome=\"retry\"}"), Some(0.0));
}

#[tokio::test]
async fn metrics_count_imap_polls_and_the_messages_they_took_in() {
    let app = spawn_app_with(HttpConfig { metrics_token: Some(METRICS_TOKEN.into()), ..HttpConfig::default() }).await;
    let server = crate::imap_server::ImapServer::start("help@acme.test", "pw-1", "INBOX").await;
    server.deliver(
        "From: dana@customer.test\nTo: help@acme.test\nSubject: Hi\nMessage-ID: <m-1@customer.test>\n\nHello.\n",
    );
    let imap = json!({"host": "127.0.0.1", "port": server.port, "security": "none", "username": "help@acme.test"});
    let mut ok = imap.clone();
    ok["password"] = json!("pw-1");
    let r = app.post("/api/v1/mailboxes", json!({"address": "help@acme.test", "imap": ok})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    server.wait_for("the message seen", |s| s.messages().iter().all(|m| m.seen)).await;
    let mut wrong = imap;
    wrong["password"] = json!("pw-2");
    let r = app.post("/api/v1/mailboxes", json!({"address": "sales@acme.test", "imap": wrong})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    server.wait_for("a refused login", |s| s.refused_logins() >= 1).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let text = scrape(&app).await;
        if value(&text, "casedesk_imap_polls_total{outcome=\"failed\"}") >= Some(1.0) {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(value(&text, "casedesk_imap_polls_total{outcome=\"ok\"}") >= Some(1.0), "{text}");
    assert_eq!(value(&text, "casedesk_imap_messages_total"), Some(1.0), "{text}");
    assert!(text.contains("# TYPE casedesk_imap_polls_total counter"));
}
