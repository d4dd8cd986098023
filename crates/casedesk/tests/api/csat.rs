//! Customer satisfaction over HTTP: a resolution mails the requester a survey link (through the
//! real outbox to a real SMTP sink), the public page takes a rating and comment without sign-in,
//! the answer can change for 7 days after the resolution (on the manual clock) and not after,
//! a reopen and resolve sends a new survey, the rating shows on the case, its timeline and the
//! CSAT report, a rule fires on a bad rating, and no API lets an agent write a rating.

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::email::set_up_mail;
use crate::helpers::{TestApp, spawn_app_at};
use crate::routing::{id, ts};
use crate::smtp_sink::SmtpSink;

/// The survey link of the `n`-th message the sink got.
async fn survey_link(sink: &SmtpSink, n: usize) -> String {
    let got = sink.wait_for(n).await;
    let m = got[n - 1].parsed();
    let text = m.body_text(0).expect("a text body").to_string();
    let link = text.split_whitespace().find(|w| w.contains("/csat/")).expect("a survey link").to_string();
    assert!(m.subject().unwrap_or_default().contains("How did we do?"), "{:?}", m.subject());
    link
}

/// Posts the survey form as a browser would: no token, no cookie.
async fn answer(app: &TestApp, link: &str, rating: &str, comment: &str) -> (StatusCode, String) {
    let r = app.client.post(link).form(&[("rating", rating), ("comment", comment)]).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn surveys(app: &TestApp, case_id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cases/{case_id}/csat")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

async fn set_status(app: &TestApp, case_id: &str, status: &str) {
    let r = app.patch(&format!("/api/v1/cases/{case_id}"), json!({"status": status})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// Waits until the case has `tag` (rules run right after the answer, or on the worker).
async fn wait_for_tag(app: &TestApp, case_id: &str, tag: &str) -> Value {
    let start = Instant::now();
    loop {
        let c = app.get(&format!("/api/v1/cases/{case_id}")).await.body;
        if c["tags"].as_array().unwrap().iter().any(|t| t == tag) {
            return c;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "tag {tag} on {case_id}: {}", c["tags"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_resolution_mails_a_survey_whose_answer_lands_on_the_case_and_changes_for_seven_days() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let clock = app.clock.clone().unwrap();
    let sink = SmtpSink::start().await;
    let queue_id = set_up_mail(&app, &sink).await;

    // Settings: off by default, admins turn them on, the scale is checked by name.
    let s = app.get("/api/v1/csat/settings").await;
    assert_eq!((s.body["enabled"].clone(), s.body["scale"].clone()), (json!(false), json!("good_bad")));
    app.patch("/api/v1/csat/settings", json!({"scale": "stars10"})).await.assert_problem(422, "validation_failed");
    let s = app.patch("/api/v1/csat/settings", json!({"enabled": true, "scale": "one_to_five"})).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(s.body["window_days"], 7);

    // A rule: a poor rating tags the case.
    let r = app
        .post(
            "/api/v1/automation-rules",
            json!({"name": "Unhappy customer", "trigger": "csat.received",
                   "conditions": {"all": [{"field": "csat.rating", "operator": "less_than", "value": 3}]},
                   "actions": [{"type": "add_tag", "tag": "unhappy"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let contact =
        id(&app.post("/api/v1/contacts", json!({"name": "Ana Silva", "email": "ana@example.com"})).await.body);
    let case = app
        .create_case(
            json!({"subject": "Printer on fire", "requester_id": contact, "contact_id": contact, "queue_id": queue_id}),
        )
        .await;
    let case_id = id(&case);
    set_status(&app, &case_id, "resolved").await;

    // The requester gets one message with a link to this server's survey page.
    let link = survey_link(&sink, 1).await;
    assert!(link.starts_with(&format!("{}/csat/", app.base)), "{link}");
    assert_eq!(sink.messages()[0].rcpt_to, vec!["ana@example.com".to_string()]);
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 40);

    // The page needs no sign-in and shows the case and the 1–5 scale.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Printer on fire") && html.contains("value=\"5\"") && html.contains("csat-form"), "{html}");

    // A bad rating is refused naming the field; an unknown token is a 404.
    let (status, html) = answer(&app, &link, "9", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("rating"), "{html}");
    let unknown = app.client.get(format!("{}/csat/{}", app.base, "x".repeat(43))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(surveys(&app, &case_id).await[0]["rating"].is_null());

    // The answer: on the case, its survey list, its timeline; the rule fires.
    let (status, html) = answer(&app, &link, "2", "Took three days").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("csat-thanks"), "{html}");
    let list = surveys(&app, &case_id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (&list[0]["rating"], &list[0]["score"], &list[0]["positive"], &list[0]["comment"]),
        (&json!("2"), &json!(2), &json!(false), &json!("Took three days"))
    );
    let c = wait_for_tag(&app, &case_id, "unhappy").await;
    assert_eq!(c["csat"]["rating"], "2");
    let received: Vec<Value> =
        app.timeline(&case_id).await.into_iter().filter(|e| e["kind"] == "csat.received").collect();
    assert_eq!(received.len(), 1);
    assert_eq!(
        (received[0]["data"]["rating"].clone(), received[0]["data"]["changed"].clone()),
        (json!("2"), json!(false))
    );

    // Six days later the requester changes their mind; the report counts the answer once.
    clock.advance(SignedDuration::from_hours(24 * 6));
    let (status, _) = answer(&app, &link, "5", "Fine after all").await;
    assert_eq!(status, StatusCode::OK);
    let list = surveys(&app, &case_id).await;
    assert_eq!((list[0]["rating"].clone(), list[0]["positive"].clone()), (json!("5"), json!(true)));
    assert_eq!(app.get(&format!("/api/v1/cases/{case_id}")).await.body["csat"]["comment"], "Fine after all");
    let report = app.get("/api/v1/reports/csat?from=2026-05-25&to=2026-06-10").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["totals"][0]["values"]["responses"], 1);
    assert_eq!(report.body["totals"][0]["values"]["positive"], 1);
    assert_eq!(report.body["totals"][0]["values"]["mean_score"], 5);

    // Seven days after the resolution the survey is closed: the answer stays.
    clock.advance(SignedDuration::from_hours(24));
    let (status, html) = answer(&app, &link, "1", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let page = app.client.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("csat-closed"), "{page}");
    assert_eq!(surveys(&app, &case_id).await[0]["rating"], "5");

    // Reopened and resolved again: a new survey with a new link; the old one stays closed.
    set_status(&app, &case_id, "open").await;
    set_status(&app, &case_id, "resolved").await;
    let second = survey_link(&sink, 2).await;
    assert_ne!(second, link);
    let (status, _) = answer(&app, &second, "4", "").await;
    assert_eq!(status, StatusCode::OK);
    let list = surveys(&app, &case_id).await;
    assert_eq!(list.iter().map(|s| s["rating"].clone()).collect::<Vec<_>>(), vec![json!("5"), json!("4")]);

    // No API writes a rating: agents cannot forge one.
    for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::PATCH] {
        let body = json!({"rating": "5"});
        let r = app.call(method, &format!("/api/v1/cases/{case_id}/csat"), Some(&app.token), Some(&body), &[]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    }
    let r = app.patch(&format!("/api/v1/cases/{case_id}"), json!({"csat": {"rating": "5"}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn surveys_stay_off_until_turned_on_and_are_read_only_in_the_own_organization() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let sink = SmtpSink::start().await;
    let queue_id = set_up_mail(&app, &sink).await;
    let contact = id(&app.post("/api/v1/contacts", json!({"name": "Bo", "email": "bo@example.com"})).await.body);
    let case = app.create_case(json!({"subject": "Quiet", "requester_id": contact, "queue_id": queue_id})).await;
    let case_id = id(&case);
    set_status(&app, &case_id, "resolved").await;
    // An agent reply after the resolution goes out; no survey went before it.
    let r = app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Closing note"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let got = sink.wait_for(1).await;
    assert!(!got[0].parsed().subject().unwrap_or_default().contains("How did we do?"));
    assert!(surveys(&app, &case_id).await.is_empty());

    // Agents read the settings but only admins change them.
    let (_, agent) = app.agent().await;
    let on = json!({"enabled": true});
    let r = app.call(reqwest::Method::PATCH, "/api/v1/csat/settings", Some(&agent), Some(&on), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.call(reqwest::Method::GET, "/api/v1/csat/settings", Some(&agent), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
}
