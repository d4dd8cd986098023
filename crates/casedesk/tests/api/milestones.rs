//! Milestones over HTTP on a manual clock: a queue's templates on new cases, business-time
//! targets in the queue's calendar, completing re-times what follows, the overdue sweep and the
//! list filter.

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app_at;
use crate::routing::{MONDAY_0900_BERLIN, entries, queue, ts};

fn states(list: &Value) -> Vec<(String, String, Value)> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().into(), m["state"].as_str().unwrap().into(), m["due_at"].clone()))
        .collect()
}

#[tokio::test]
async fn queue_templates_give_new_cases_milestones_that_run_in_business_time() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let cal = app
        .post(
            "/api/v1/business-calendars",
            json!({"name": "Berlin", "time_zone": "Europe/Berlin", "hours": {"monday": day, "tuesday": day}}),
        )
        .await;
    assert_eq!(cal.status, StatusCode::CREATED, "{}", cal.body);
    let q =
        queue(&app, json!({"name": "Onboarding", "assignment_method": "manual", "calendar_id": cal.body["id"]})).await;
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/case-queues/{q}/milestone-templates"),
            Some(&app.token),
            Some(&json!({"milestones": [
                {"name": "Kick-off", "after_start_minutes": 120},
                {"name": "Setup", "after_previous_minutes": 420}
            ]})),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let bad = app
        .call(
            Method::PUT,
            &format!("/api/v1/case-queues/{q}/milestone-templates"),
            Some(&app.token),
            Some(&json!({"milestones": [{"name": "", "after_start_minutes": 0}]})),
            &[],
        )
        .await;
    assert_eq!(bad.error_fields(), ["milestones[0].name", "milestones[0].after_start_minutes"]);

    let case = app.create_case(json!({"subject": "New customer", "queue_id": q})).await;
    let cid = case["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cases/{cid}/milestones");
    // Monday 09:00 + 2 h = 11:00; + 7 business hours = Tuesday 10:00 (Berlin, UTC+2).
    let list = app.get(&path).await.body;
    assert_eq!(
        states(&list),
        [
            ("Kick-off".into(), "current".into(), json!("2026-06-08T09:00:00Z")),
            ("Setup".into(), "upcoming".into(), json!("2026-06-09T08:00:00Z")),
        ]
    );
    // A milestone by hand, at a fixed time.
    let r = app.post(&path, json!({"name": "Go-live", "due_at": "2026-06-12T10:00:00Z"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.post(&path, json!({"name": "Both", "after_start_minutes": 5, "due_at": "2026-06-12T10:00:00Z"})).await;
    assert_eq!(r.error_fields(), ["target"]);

    // Noon: the kick-off is overdue; the sweep records it once, and the filter finds the case.
    app.clock.as_ref().unwrap().advance(SignedDuration::from_hours(3));
    // (The server's own sweep may get there first; either way it is recorded once.)
    app.core.sweep_milestones().await.unwrap();
    assert_eq!(app.core.sweep_milestones().await.unwrap(), 0);
    assert_eq!(entries(&app, &cid, "milestone.overdue").await.len(), 1);
    let found = app.get("/api/v1/cases?has_overdue_milestone=true").await.body;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(states(&app.get(&path).await.body)[0].1, "overdue");

    // Completing it at 12:00 moves the next: 12:00 + 7 business hours = Tuesday 11:00.
    let kickoff = list["data"][0]["id"].as_str().unwrap().to_string();
    let done = app.patch(&format!("/api/v1/milestones/{kickoff}"), json!({"completed": true})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        (done.body["state"].as_str(), done.body["completed_by"].as_str()),
        (Some("completed"), Some(app.admin_id.as_str()))
    );
    let after = states(&app.get(&path).await.body);
    assert_eq!(after[1], ("Setup".into(), "current".into(), json!("2026-06-09T09:00:00Z")));
    assert_eq!(entries(&app, &cid, "milestone.completed").await.len(), 1);
    assert!(app.get("/api/v1/cases?has_overdue_milestone=true").await.body["data"].as_array().unwrap().is_empty());
    let r = app.delete(&format!("/api/v1/milestones/{kickoff}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}
