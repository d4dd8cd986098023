//! Bulk actions on lists of ids and on queries (background jobs), and the trash they delete to.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use casedesk_domain::bulk::{BulkAction, BulkJob};
use jiff::{SignedDuration, Timestamp};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id in {v}")).to_string()
}

/// Polls a bulk job until it is finished; returns it.
pub async fn wait_for_job(app: &TestApp, token: &str, job_id: &str) -> Value {
    for _ in 0..600 {
        let r = app.call(Method::GET, &format!("/api/v1/bulk-jobs/{job_id}"), Some(token), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "job {job_id}: {}", r.body);
        if ["done", "failed", "cancelled"].contains(&r.body["state"].as_str().unwrap_or("")) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job_id} did not finish");
}

/// Each case's outcome (and error code) by id.
fn outcomes(body: &Value) -> BTreeMap<String, (String, Option<String>)> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results in {body}"))
        .iter()
        .map(|r| {
            let code = r["error"]["code"].as_str().map(String::from);
            (
                r["case_id"].as_str().expect("case_id").to_string(),
                (r["outcome"].as_str().expect("outcome").into(), code),
            )
        })
        .collect()
}

fn outcome(kind: &str, code: Option<&str>) -> (String, Option<String>) {
    (kind.into(), code.map(String::from))
}

async fn case(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.body);
    r.body
}

fn kinds(timeline: &[Value]) -> Vec<String> {
    timeline.iter().filter_map(|e| e["kind"].as_str().map(String::from)).collect()
}

#[tokio::test]
async fn a_bulk_action_changes_each_case_on_its_own_and_reports_each_failure() {
    let app = spawn_app().await;
    let (agent, _) = app.agent().await;
    let a = id(&app.create_case(json!({"subject": "first"})).await);
    let b = id(&app.create_case(json!({"subject": "second"})).await);
    let already = id(&app.create_case(json!({"subject": "already the agent's", "owner_id": agent})).await);
    let closed = id(&app.create_case(json!({"subject": "closed"})).await);
    app.patch(&format!("/api/v1/cases/{closed}"), json!({"status": "closed"})).await;
    let (_, other_token) = app.other_org().await;
    let theirs = app
        .call(Method::POST, "/api/v1/cases", Some(&other_token), Some(&json!({"subject": "another org's"})), &[])
        .await;
    let theirs = id(&theirs.body);
    let missing = "case_0000000000007000800000000000dead".to_string();
    let closed_before = case(&app, &closed).await;

    let ids = [&a, &b, &already, &closed, &theirs, &missing, &a];
    let r = app.post("/api/v1/cases/bulk", json!({"action": "assign", "owner_id": agent, "ids": ids})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["summary"], json!({"changed": 2, "unchanged": 1, "failed": 3}), "{}", r.body);
    let results = r.body["results"].as_array().expect("results");
    assert_eq!(results.len(), 6, "a repeated id is acted on once");
    let order: Vec<&str> = results.iter().filter_map(|r| r["case_id"].as_str()).collect();
    assert_eq!(order, [&a, &b, &already, &closed, &theirs, &missing], "results come in the order given");
    let got = outcomes(&r.body);
    assert_eq!(got[&a], outcome("changed", None));
    assert_eq!(got[&b], outcome("changed", None));
    assert_eq!(got[&already], outcome("unchanged", None));
    assert_eq!(got[&closed], outcome("failed", Some("case_closed")));
    assert_eq!(got[&theirs], outcome("failed", Some("not_found")), "another organization's case is not found");
    assert_eq!(got[&missing], outcome("failed", Some("not_found")));

    for c in [&a, &b] {
        assert_eq!(case(&app, c).await["owner_id"], agent.as_str());
        let timeline = app.timeline(c).await;
        let assigned: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "case.assigned").collect();
        assert_eq!(assigned.len(), 1, "each case has its own assignment entry: {timeline:?}");
    }
    assert_eq!(case(&app, &closed).await, closed_before, "the closed case is untouched");
    let r = app.call(Method::GET, &format!("/api/v1/cases/{theirs}"), Some(&other_token), None, &[]).await;
    assert_eq!(r.body["owner_id"], Value::Null, "the other organization's case is untouched");
}

#[tokio::test]
async fn every_action_does_what_it_says() {
    let app = spawn_app().await;
    let queue =
        id(&app.post("/api/v1/case-queues", json!({"name": "Tier 2", "assignment_method": "manual"})).await.body);
    let mk = |subject: &'static str, tags: Value| {
        let app = &app;
        async move { id(&app.create_case(json!({"subject": subject, "tags": tags})).await) }
    };
    let one = mk("one", json!(["keep", "spam"])).await;
    let two = mk("two", json!(["keep"])).await;
    let both = [&one, &two];
    let run = |body: Value| {
        let app = &app;
        async move {
            let r = app.post("/api/v1/cases/bulk", body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body
        }
    };

    run(json!({"action": "move_to_queue", "queue_id": queue, "ids": both})).await;
    run(json!({"action": "set_priority", "priority": "critical", "ids": both})).await;
    run(json!({"action": "add_tags", "tags": ["Billing"], "ids": both})).await;
    let r = run(json!({"action": "remove_tags", "tags": ["spam"], "ids": both})).await;
    assert_eq!(r["summary"], json!({"changed": 1, "unchanged": 1, "failed": 0}), "only one had the tag: {r}");
    run(json!({"action": "set_status", "status": "pending", "ids": both})).await;
    for c in both {
        let c = case(&app, c).await;
        assert_eq!(c["queue_id"], queue.as_str());
        assert_eq!(c["priority"], "critical");
        assert_eq!(c["tags"], json!(["keep", "billing"]), "{c}");
        assert_eq!(c["status"], "pending");
    }
    let r = run(json!({"action": "assign", "owner_id": null, "ids": both})).await;
    assert_eq!(r["summary"]["unchanged"], 2, "unassigning unassigned cases changes nothing: {r}");

    let r = run(json!({"action": "close", "ids": [&one]})).await;
    assert_eq!(r["summary"]["changed"], 1);
    let r = run(json!({"action": "close", "ids": both})).await;
    assert_eq!(r["summary"], json!({"changed": 1, "unchanged": 1, "failed": 0}), "closing a closed case is no change");
    assert_eq!(case(&app, &two).await["status"], "closed");

    // Merge: each source is closed into the target; the target itself, if listed, is refused.
    let target = mk("target", json!([])).await;
    let s1 = mk("source one", json!([])).await;
    let s2 = mk("source two", json!([])).await;
    app.post(&format!("/api/v1/cases/{s1}/comments"), json!({"body": "from source one"})).await;
    let r = run(json!({"action": "merge_into", "target_id": target, "ids": [&s1, &target, &s2]})).await;
    let got = outcomes(&r);
    assert_eq!(got[&s1], outcome("changed", None));
    assert_eq!(got[&s2], outcome("changed", None));
    assert_eq!(got[&target], outcome("failed", Some("merge_into_itself")));
    for s in [&s1, &s2] {
        let c = case(&app, s).await;
        assert_eq!((c["status"].as_str(), c["merged_into_id"].as_str()), (Some("closed"), Some(target.as_str())));
    }
    let comments = app.get(&format!("/api/v1/cases/{target}/comments")).await;
    assert!(comments.body.to_string().contains("from source one"), "{}", comments.body);
    let merged = kinds(&app.timeline(&target).await).iter().filter(|k| *k == "case.merged").count();
    assert_eq!(merged, 2, "the target records each merge on its own");

    // Delete: admins only; the cases go to the trash.
    let (_, agent_token) = app.agent().await;
    let body = json!({"action": "delete", "ids": [&one]});
    let r = app.call(Method::POST, "/api/v1/cases/bulk", Some(&agent_token), Some(&body), &[]).await;
    r.assert_problem(403, "forbidden");
    let r = run(json!({"action": "delete", "ids": both})).await;
    assert_eq!(r["summary"]["changed"], 2);
    assert_eq!(app.get(&format!("/api/v1/cases/{one}")).await.status, StatusCode::NOT_FOUND);
    let trash = app.get("/api/v1/trash/cases").await;
    let trashed: Vec<&str> =
        trash.body["data"].as_array().expect("data").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(trashed.len(), 2, "{}", trash.body);
    assert!(trashed.contains(&one.as_str()) && trashed.contains(&two.as_str()));
}

#[tokio::test]
async fn a_bad_bulk_request_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let c = id(&app.create_case(json!({"subject": "untouched"})).await);
    let before = case(&app, &c).await;
    let many: Vec<String> = (0..1001).map(|i| format!("case_{i:032}")).collect();
    for (body, field) in [
        (json!({"action": "explode", "ids": [&c]}), "action"),
        (json!({"action": "assign", "ids": [&c]}), "owner_id"),
        (json!({"action": "assign", "owner_id": "usr_0000000000007000800000000000dead", "ids": [&c]}), "owner_id"),
        (json!({"action": "move_to_queue", "queue_id": "q_0000000000007000800000000000dead", "ids": [&c]}), "queue_id"),
        (
            json!({"action": "merge_into", "target_id": "case_0000000000007000800000000000dead", "ids": [&c]}),
            "target_id",
        ),
        (json!({"action": "set_status", "status": "gone", "ids": [&c]}), "status"),
        (json!({"action": "close", "priority": "high", "ids": [&c]}), "priority"),
        (json!({"action": "close"}), "ids"),
        (json!({"action": "close", "ids": [&c], "query": "tag:x"}), "query"),
        (json!({"action": "close", "ids": many}), "ids"),
        (json!({"action": "close", "ids": ["usr_1"]}), "ids[0]"),
        (json!({"action": "close", "query": "status:bogus"}), "query"),
        (json!({"action": "close", "query": "created>notadate"}), "query"),
    ] {
        let r = app.post("/api/v1/cases/bulk", body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.error_fields().contains(&field.to_string()), "{body} names {field}: {}", r.body);
    }
    let r = app.post("/api/v1/cases/bulk", json!({"action": "close", "ids": [&c], "color": "red"})).await;
    assert_eq!(r.status.as_u16(), 422, "unknown fields are refused: {}", r.body);
    assert_eq!(case(&app, &c).await, before, "nothing was written");
}

#[tokio::test]
async fn a_query_becomes_a_background_job_whose_progress_can_be_polled() {
    let app = spawn_app().await;
    let mut matching = Vec::new();
    for i in 0..7 {
        matching.push(id(&app.create_case(json!({"subject": format!("sweep {i}"), "tags": ["sweep"]})).await));
    }
    let closed = id(&app.create_case(json!({"subject": "closed sweep", "tags": ["sweep"]})).await);
    app.patch(&format!("/api/v1/cases/{closed}"), json!({"status": "closed"})).await;
    let other = id(&app.create_case(json!({"subject": "not matching", "tags": ["keep"]})).await);

    let r = app
        .post("/api/v1/cases/bulk", json!({"action": "set_priority", "priority": "high", "query": "tag:sweep"}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let job_id = id(&r.body);
    assert_eq!(r.header("location"), Some(format!("/api/v1/bulk-jobs/{job_id}")));
    assert_eq!(r.body["total"], 8, "the job counts what the query matched: {}", r.body);
    assert_eq!(r.body["action"], json!({"action": "set_priority", "priority": "high"}));

    let job = wait_for_job(&app, &app.token, &job_id).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["processed"], 8);
    assert_eq!(job["summary"], json!({"changed": 7, "unchanged": 0, "failed": 1}), "{job}");
    assert_eq!(
        job["failures"],
        json!([{"case_id": closed, "code": "case_closed", "message": job["failures"][0]["message"]}])
    );
    assert!(job["finished_at"].is_string() && job["started_at"].is_string(), "{job}");
    for c in &matching {
        assert_eq!(case(&app, c).await["priority"], "high");
        let changed = kinds(&app.timeline(c).await).iter().filter(|k| *k == "field.changed").count();
        assert!(changed >= 1, "each case records its own change");
    }
    assert_ne!(case(&app, &other).await["priority"], "high", "a case the query does not match is untouched");

    // A finished job cannot be cancelled any more; asking changes nothing.
    let r = app.post(&format!("/api/v1/bulk-jobs/{job_id}/cancel"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "done");
}

/// Queues a job straight in the store, as another instance would, and claims it for `claim`
/// until `lease_until` before any worker does (retrying if this server's worker got there first).
async fn claimed_job(app: &TestApp, action: BulkAction, query: &str, claim: &str, lease_until: Timestamp) -> BulkJob {
    let store = &app.core.store;
    loop {
        let job = BulkJob::new(&app.org_id, &app.admin_id, action.clone(), query.into(), 3, Timestamp::now());
        store.insert_bulk_job(&job).await.expect("insert");
        let claimed = store.claim_bulk_job(claim, Timestamp::now(), lease_until).await.expect("claim");
        if let Some(c) = claimed.filter(|c| c.id == job.id) {
            return c;
        }
        wait_for_job(app, &app.token, &job.id).await;
    }
}

#[tokio::test]
async fn a_job_left_by_a_dead_instance_is_taken_over_and_a_running_one_can_be_cancelled() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_case(json!({"subject": format!("late {i}"), "tags": ["late"]})).await;
    }
    let store = &app.core.store;
    let hour = SignedDuration::from_hours(1);

    // A worker that holds a job learns of a cancel when it saves its progress, and stops.
    let action = BulkAction::SetPriority { priority: casedesk_domain::case::Priority::Low };
    let job = claimed_job(&app, action, "tag:late", "holder", Timestamp::now() + hour).await;
    let r = app.post(&format!("/api/v1/bulk-jobs/{}/cancel", job.id), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["cancel_requested"].as_bool()), (Some("running"), Some(true)));
    let told = store.save_bulk_job(&job, "holder", Timestamp::now() - hour).await.expect("save");
    assert!(told, "the holder is told to stop");
    // The holder died instead; whoever takes the job over finds the cancel before doing anything.
    app.core.run_bulk_jobs().await.expect("run");
    let done = wait_for_job(&app, &app.token, &job.id).await;
    assert_eq!((done["state"].as_str(), done["processed"].as_i64()), (Some("cancelled"), Some(0)), "{done}");
    assert!(store.save_bulk_job(&job, "holder", Timestamp::now()).await.is_err(), "the old holder lost the job");

    // A job whose worker died mid-way (its lease ran out) is taken over and finished.
    let action = BulkAction::AddTags { tags: vec!["taken-over".into()] };
    let job = claimed_job(&app, action, "tag:late", "dead-worker", Timestamp::now() - hour).await;
    app.core.run_bulk_jobs().await.expect("run");
    let done = wait_for_job(&app, &app.token, &job.id).await;
    assert_eq!((done["state"].as_str(), done["processed"].as_i64()), (Some("done"), Some(3)), "{done}");
    let found = app.get("/api/v1/cases?q=tag:taken-over").await;
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(3), "{}", found.body);
}

#[tokio::test]
async fn a_deleted_case_waits_in_the_trash_until_restored_or_purged() {
    let app = spawn_app().await;
    let c = app.create_case(json!({"subject": "Shredder jams on page two", "tags": ["paper"]})).await;
    let id = id(&c);
    app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": "it also smells of smoke"})).await;
    let file = crate::files::upload(&app, &id, "jam.png", None, &crate::files::png(50, 2)).await;
    assert_eq!(file.status.as_u16(), 201, "{}", file.body);

    let before = view_counts(&app).await;
    assert_eq!(before["all"], 1, "{before:?}");
    assert_eq!(app.delete(&format!("/api/v1/cases/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.status, StatusCode::NOT_FOUND);
    assert!(view_counts(&app).await.values().all(|n| *n == 0), "a deleted case counts nowhere");
    let found = app.get("/api/v1/search/cases?q=shredder").await;
    assert_eq!(found.body["data"], json!([]), "a deleted case is not found by search");

    let trash = app.get("/api/v1/trash/cases").await;
    assert_eq!(trash.status, StatusCode::OK, "{}", trash.body);
    let entry = &trash.body["data"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["subject"], "Shredder jams on page two");
    assert_eq!(entry["deleted_by"], app.admin_id.as_str());
    let deleted_at: Timestamp = entry["deleted_at"].as_str().expect("deleted_at").parse().expect("time");
    let purge_at: Timestamp = entry["purge_at"].as_str().expect("purge_at").parse().expect("time");
    assert_eq!(purge_at.duration_since(deleted_at), SignedDuration::from_hours(30 * 24), "kept for 30 days");

    // Agents neither see nor touch the trash.
    let (_, agent) = app.agent().await;
    for (m, p) in [
        (Method::GET, "/api/v1/trash/cases".to_string()),
        (Method::POST, format!("/api/v1/trash/cases/{id}/restore")),
        (Method::DELETE, format!("/api/v1/trash/cases/{id}")),
    ] {
        app.call(m, &p, Some(&agent), None, &[]).await.assert_problem(403, "forbidden");
    }

    // Restored, it is back as it was: found by its words, with its comment and file.
    let r = app.post(&format!("/api/v1/trash/cases/{id}/restore"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["subject"], "Shredder jams on page two");
    assert_eq!(r.body["tags"], json!(["paper"]));
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.status, StatusCode::OK);
    assert_eq!(view_counts(&app).await, before, "a restored case counts again where it did");
    let found = app.get("/api/v1/search/cases?q=smoke").await;
    assert_eq!(found.body["data"][0]["id"], id.as_str(), "its comment is searchable again: {}", found.body);
    let files = app.get(&format!("/api/v1/cases/{id}/files")).await;
    assert_eq!(files.body["data"].as_array().map(Vec::len), Some(1), "{}", files.body);
    let k = kinds(&app.timeline(&id).await);
    assert!(k.contains(&"case.deleted".to_string()) && k.contains(&"case.restored".to_string()), "{k:?}");
    assert_eq!(app.get("/api/v1/trash/cases").await.body["data"], json!([]));
    app.post(&format!("/api/v1/trash/cases/{id}/restore"), json!({})).await.assert_problem(404, "not_found");

    // Purged, it is gone for good; the change feed says so last.
    app.post(&format!("/api/v1/trash/cases/{id}/restore"), json!({})).await;
    app.delete(&format!("/api/v1/trash/cases/{id}")).await.assert_problem(404, "not_found");
    assert_eq!(app.delete(&format!("/api/v1/cases/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/api/v1/trash/cases/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/trash/cases").await.body["data"], json!([]));
    assert!(view_counts(&app).await.values().all(|n| *n == 0), "a purged case counts nowhere");
    app.post(&format!("/api/v1/trash/cases/{id}/restore"), json!({})).await.assert_problem(404, "not_found");
    let comments = app.core.store.list_comments(&app.org_id, &id, &casedesk_core::store::PageRequest::first(10)).await;
    assert!(comments.map(|p| p.items.is_empty()).unwrap_or(true), "its comments are gone");
    let swept = app.core.sweep_blobs(Duration::ZERO).await.expect("sweep");
    assert_eq!(swept.removed, 1, "its file's content is removed by the next sweep");
    // The feed may show a commit a moment late (PostgreSQL); the purge shows all at once.
    let mut of_case = Vec::new();
    for _ in 0..200 {
        of_case = feed_kinds_of(&app, &id).await;
        if !of_case.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(of_case, ["case.purged"], "only the purge is left of the case in the feed: {of_case:?}");
}

/// Every view's count, by view id.
async fn view_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let r = app.get("/api/v1/views?counts=true").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| (v["id"].as_str().expect("id").to_string(), v["count"].as_i64().expect("count")))
        .collect()
}

/// The kinds of the change feed's events about one case.
async fn feed_kinds_of(app: &TestApp, case_id: &str) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(c) => format!("/api/v1/events?after={c}&limit=200"),
            None => "/api/v1/events?limit=200".to_string(),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let data = r.body["data"].as_array().expect("data");
        kinds.extend(
            data.iter().filter(|e| e["case_id"] == case_id).filter_map(|e| e["kind"].as_str().map(String::from)),
        );
        after = r.body["cursor"].as_str().map(String::from);
        if r.body["has_more"] != true {
            return kinds;
        }
    }
}

#[tokio::test]
async fn cases_left_in_the_trash_for_thirty_days_are_purged() {
    let start: Timestamp = "2026-03-02T09:00:00Z".parse().expect("time");
    let app = spawn_app_at(start).await;
    let old = id(&app.create_case(json!({"subject": "old"})).await);
    app.delete(&format!("/api/v1/cases/{old}")).await;
    app.clock.as_ref().expect("manual clock").advance(SignedDuration::from_hours(24 * 20));
    let recent = id(&app.create_case(json!({"subject": "recent"})).await);
    app.delete(&format!("/api/v1/cases/{recent}")).await;

    app.clock.as_ref().expect("manual clock").advance(SignedDuration::from_hours(24 * 10 - 1));
    assert_eq!(app.core.purge_expired_trash().await.expect("purge"), 0, "29 days and 23 hours is not yet 30 days");
    app.clock.as_ref().expect("manual clock").advance(SignedDuration::from_hours(2));
    assert_eq!(app.core.purge_expired_trash().await.expect("purge"), 1);
    let left: Vec<String> =
        app.get("/api/v1/trash/cases").await.body["data"].as_array().expect("data").iter().map(id).collect();
    assert_eq!(left, [recent], "only the case deleted 20 days later is left");
    app.post(&format!("/api/v1/trash/cases/{old}/restore"), json!({})).await.assert_problem(404, "not_found");
}
