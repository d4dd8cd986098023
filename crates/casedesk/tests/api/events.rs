//! The change feed: `GET /api/v1/events`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Reads the feed from `after`, `limit` at a time, until it has given `want` events (on
/// PostgreSQL the feed waits for every older transaction of the cluster, and other tests run
/// beside this one); returns the events and the cursor.
async fn read_all(
    app: &TestApp,
    token: &str,
    after: Option<String>,
    limit: u32,
    want: usize,
) -> (Vec<Value>, Option<String>) {
    let mut cursor = after;
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit={limit}&after={c}"),
            None => format!("/api/v1/events?limit={limit}"),
        };
        let r = app.call(reqwest::Method::GET, &path, Some(token), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        out.extend(r.body["data"].as_array().expect("data").iter().cloned());
        cursor = r.body["cursor"].as_str().map(str::to_string).or(cursor);
        if r.body["has_more"] == true {
            continue;
        }
        if out.len() >= want || std::time::Instant::now() > deadline {
            return (out, cursor);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_feed_lists_every_event_once_in_order_and_resumes_from_a_cursor_across_restarts() {
    let app = spawn_app().await;
    let token = app.token.clone();
    let a = app.create_case(json!({ "subject": "Feed one" })).await;
    let b = app.create_case(json!({ "subject": "Feed two" })).await;
    let a_id = a["id"].as_str().expect("id");
    app.post(&format!("/api/v1/cases/{a_id}/comments"), json!({ "body": "hello" })).await;
    app.patch(&format!("/api/v1/cases/{}", b["id"].as_str().expect("id")), json!({ "priority": "high" })).await;

    let mut timeline_count = 0;
    for case in [&a, &b] {
        timeline_count += app.timeline(case["id"].as_str().expect("id")).await.len();
    }
    let (all, cursor) = read_all(&app, &token, None, 2, timeline_count).await;
    let kinds: Vec<&str> = all.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "case.created").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"comment.added") && kinds.contains(&"field.changed"), "{kinds:?}");
    let ids: Vec<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "each event once");
    // The same events as the cases' own timelines, with their case.
    for case in [&a, &b] {
        let id = case["id"].as_str().expect("id");
        let t = app.timeline(id).await;
        for e in &t {
            let fed = all.iter().find(|f| f["id"] == e["id"]).expect("a timeline event is in the feed");
            assert_eq!(fed["case_id"], id);
            assert_eq!(fed["kind"], e["kind"]);
        }
    }
    assert_eq!(all.len(), timeline_count);
    let changed = all.iter().find(|e| e["kind"] == "field.changed").expect("field.changed");
    assert_eq!((changed["field"].as_str(), changed["new"].as_str()), (Some("priority"), Some("high")));

    // Nothing new: an empty page and the same cursor. After a restart the cursor still works.
    let (none, same) = read_all(&app, &token, cursor.clone(), 10, 0).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);
    let app = app.restart().await;
    app.post(&format!("/api/v1/cases/{a_id}/comments"), json!({ "body": "after the restart" })).await;
    let (new, _) = read_all(&app, &token, cursor, 10, 1).await;
    assert_eq!(new.len(), 1, "only what happened since: {new:?}");
    assert_eq!(new[0]["kind"], "comment.added");

    // Another organization sees none of it; a bad cursor names `after`.
    let (_, other_token) = app.other_org().await;
    let (theirs, _) = read_all(&app, &other_token, None, 50, 0).await;
    assert!(theirs.is_empty(), "{theirs:?}");
    let r = app.get("/api/v1/events?after=not-a-cursor").await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["after"]);
    assert_eq!(app.get("/api/v1/events?limit=0").await.error_fields(), vec!["limit"]);
    assert_eq!(app.get("/api/v1/events?since=1").await.error_fields(), vec!["since"]);
}
