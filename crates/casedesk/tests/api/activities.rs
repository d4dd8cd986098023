//! Activities and tasks on cases over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::routing::entries;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn calls_and_meetings_are_logged_and_tasks_are_assigned_and_completed() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.agent().await;
    let case = id(&app.create_case(json!({"subject": "Router keeps rebooting"})).await);
    let path = format!("/api/v1/cases/{case}/activities");

    let call = app
        .post(
            &path,
            json!({"kind": "call", "subject": "Called the customer", "with_whom": "Ana, +351 912 000 000",
                "duration_minutes": 12, "outcome": "firmware update agreed", "occurred_at": "2026-03-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.body);
    assert_eq!((call.body["kind"].as_str(), call.body["duration_minutes"].as_i64()), (Some("call"), Some(12)));
    assert_eq!(call.body["occurred_at"], "2026-03-02T10:00:00Z");
    let meeting = app.post(&path, json!({"kind": "meeting", "subject": "On-site visit"})).await;
    assert!(meeting.body["occurred_at"].is_string(), "defaults to when it was logged: {}", meeting.body);

    let soon = app
        .post(&path, json!({"kind": "task", "subject": "Send a new router", "assignee_id": agent, "due_at": "2026-03-03T12:00:00Z"}))
        .await;
    assert_eq!(soon.status, StatusCode::CREATED, "{}", soon.body);
    let later = app
        .post(&path, json!({"kind": "task", "subject": "Check in a week later", "assignee_id": agent, "due_at": "2026-03-09T12:00:00Z"}))
        .await;
    app.post(&path, json!({"kind": "task", "subject": "Admin's own", "assignee_id": app.admin_id})).await;

    // The agent sees their open tasks across cases, soonest first, and can narrow by due time.
    let mine = app.call(reqwest::Method::GET, "/api/v1/tasks?assignee=me", Some(&agent_token), None, &[]).await;
    let subjects: Vec<&str> =
        mine.body["data"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Send a new router", "Check in a week later"]);
    let due = app
        .call(
            reqwest::Method::GET,
            "/api/v1/tasks?assignee=me&due_before=2026-03-05T00:00:00Z",
            Some(&agent_token),
            None,
            &[],
        )
        .await;
    assert_eq!(due.body["data"].as_array().unwrap().len(), 1);

    // Completing records who and when; a completed task leaves the open list.
    let done = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/activities/{}", id(&soon.body)),
            Some(&agent_token),
            Some(&json!({"completed": true})),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        (done.body["completed"].as_bool(), done.body["completed_by"].as_str()),
        (Some(true), Some(agent.as_str()))
    );
    let mine = app.call(reqwest::Method::GET, "/api/v1/tasks?assignee=me", Some(&agent_token), None, &[]).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);

    // The case lists them; the timeline records each.
    let listed = app.get(&path).await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 5);
    assert_eq!(entries(&app, &case, "activity.logged").await.len(), 2);
    assert_eq!(entries(&app, &case, "task.created").await.len(), 3);
    assert_eq!(entries(&app, &case, "task.completed").await.len(), 1);
    let r = app.delete(&format!("/api/v1/activities/{}", id(&later.body))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(entries(&app, &case, "activity.deleted").await.len(), 1);

    // Bad input names its fields.
    let r = app.post(&path, json!({"kind": "fax", "subject": ""})).await;
    assert_eq!(r.error_fields(), ["kind", "subject"]);
    let r = app.post(&path, json!({"kind": "call", "subject": "x", "assignee_id": agent})).await;
    assert_eq!(r.error_fields(), ["kind"]);
    let r = app
        .post(&path, json!({"kind": "task", "subject": "x", "assignee_id": "usr_0000000000007000800000000000dead"}))
        .await;
    assert_eq!(r.error_fields(), ["assignee_id"]);
    let r = app.post(&path, json!({"kind": "task", "subject": "x", "due_at": "tomorrow"})).await;
    assert_eq!(r.error_fields(), ["due_at"]);
    let r = app.patch(&format!("/api/v1/activities/{}", id(&call.body)), json!({"completed": true})).await;
    assert_eq!(r.error_fields(), ["completed"]);
}
