//! Cases: the seed 000 examples as written, lifecycle rules, comments, detail, timeline,
//! ETag / If-Match, Idempotency-Key and import.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn setup_refs(app: &TestApp) -> (String, String, String) {
    let acc = app.post("/api/v1/accounts", json!({"name": "XYZ Retail", "tier": "vip"})).await;
    assert_eq!(acc.status, StatusCode::CREATED, "{}", acc.body);
    let acc_id = acc.body["id"].as_str().unwrap().to_string();
    let cnt =
        app.post("/api/v1/contacts", json!({"name": "Ana", "email": "ana@xyz.example", "account_id": acc_id})).await;
    assert_eq!(cnt.status, StatusCode::CREATED, "{}", cnt.body);
    let q = app
        .post(
            "/api/v1/case-queues",
            json!({"name": "Tier 1 Support", "description": "First-line support for general inquiries", "assignment_method": "round_robin"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.body);
    (acc_id, cnt.body["id"].as_str().unwrap().to_string(), q.body["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn seed_000_create_and_update_examples_work_as_written() {
    let app = spawn_app().await;
    let (acc, cnt, q) = setup_refs(&app).await;
    let created = app
        .post(
            "/api/v1/cases",
            json!({
                "subject": "Order #4521 arrived damaged",
                "description": "Customer reports box was crushed during shipping...",
                "priority": "high",
                "contact_id": cnt,
                "account_id": acc,
                "queue_id": q
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let c = &created.body;
    assert_eq!(c["case_number"], 1);
    assert_eq!(c["status"], "new");
    assert_eq!(c["priority"], "high");
    assert_eq!(c["queue_id"], q.as_str());
    assert_eq!(c["requester_id"], app.admin_id.as_str(), "the requester defaults to the submitter");
    assert_eq!(c["created_by"], app.admin_id.as_str());
    assert_eq!(c["is_closed"], false);
    assert_eq!(c["is_waiting"], true);
    let id = c["id"].as_str().unwrap();
    assert!(id.starts_with("case_"));
    assert_eq!(created.header("location").as_deref(), Some(format!("/api/v1/cases/{id}").as_str()));
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));

    let updated = app
        .patch(
            &format!("/api/v1/cases/{id}"),
            json!({"status": "resolved", "resolution_notes": "Replacement shipped via overnight delivery"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["status"], "resolved");
    assert_eq!(updated.body["resolution_notes"], "Replacement shipped via overnight delivery");
    assert!(updated.body["resolved_at"].is_string());
    assert_eq!(updated.body["is_waiting"], false);

    let comment = app
        .post(
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "Reached out to shipping — replacement is on the way.", "internal": true}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    assert_eq!(comment.body["internal"], true);
    assert_eq!(comment.body["author_id"], app.admin_id.as_str());

    let detail = app.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["account"]["name"], "XYZ Retail");
    assert_eq!(detail.body["contact"]["email"], "ana@xyz.example");
    assert_eq!(detail.body["comments"].as_array().unwrap().len(), 1);
    assert_eq!(detail.body["comments"][0]["body"], "Reached out to shipping — replacement is on the way.");
    assert_eq!(detail.header("etag").as_deref(), Some(format!("\"{}\"", detail.body["version"]).as_str()));
}

#[tokio::test]
async fn case_numbers_are_sequential_per_organization_and_never_reused() {
    let app = spawn_app().await;
    let mut numbers = Vec::new();
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = app.create_case(json!({"subject": format!("case {i}")})).await;
        numbers.push(c["case_number"].as_i64().unwrap());
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(app.delete(&format!("/api/v1/cases/{}", ids[2])).await.status, StatusCode::NO_CONTENT);
    let next = app.create_case(json!({"subject": "after delete"})).await;
    assert_eq!(next["case_number"], 4, "a deleted case's number is not reused");
    let (_, other) = app.other_org().await;
    let r = app.call(Method::POST, "/api/v1/cases", Some(&other), Some(&json!({"subject": "elsewhere"})), &[]).await;
    assert_eq!(r.body["case_number"], 1, "numbers are per organization");
}

#[tokio::test]
async fn priorities_and_statuses_accept_aliases_and_answer_canonically() {
    let app = spawn_app().await;
    for (given, canonical) in
        [(json!("normal"), "medium"), (json!("urgent"), "critical"), (json!(4), "high"), (json!("LOW"), "low")]
    {
        let c = app.create_case(json!({"subject": "p", "priority": given})).await;
        assert_eq!(c["priority"], canonical);
    }
    let c = app.create_case(json!({"subject": "s", "status": "on-hold"})).await;
    assert_eq!(c["status"], "on_hold");
    let c = app.create_case(json!({"subject": "t", "type": "incident", "channel": "voicemail"})).await;
    assert_eq!((c["type"].as_str(), c["channel"].as_str()), (Some("incident"), Some("voicemail")));
}

#[tokio::test]
async fn a_closed_case_cannot_be_updated_or_reopened_but_a_resolved_one_can() {
    let app = spawn_app().await;
    let c = app.create_case(json!({"subject": "lifecycle"})).await;
    let path = format!("/api/v1/cases/{}", c["id"].as_str().unwrap());
    let r = app.patch(&path, json!({"status": "resolved"})).await;
    assert_eq!(r.body["status"], "resolved");
    let r = app.patch(&path, json!({"status": "open"})).await;
    assert_eq!(r.status, StatusCode::OK, "a resolved case can be reopened: {}", r.body);
    assert_eq!(r.body["resolved_at"], Value::Null);
    let r = app.patch(&path, json!({"status": "closed"})).await;
    assert_eq!(r.body["is_closed"], true);
    assert!(r.body["closed_at"].is_string(), "closed_at is set when the case closes");
    let before = app.get(&path).await.body;
    for body in [json!({"status": "open"}), json!({"subject": "again"}), json!({"priority": "low"})] {
        let r = app.patch(&path, body).await;
        r.assert_problem(409, "case_closed");
        assert!(r.body["detail"].as_str().unwrap().contains("closed"));
    }
    let r = app.post(&format!("{path}/comments"), json!({"body": "late"})).await;
    r.assert_problem(409, "case_closed");
    assert_eq!(app.get(&path).await.body, before, "a refused write changes nothing");
}

#[tokio::test]
async fn assigning_a_new_case_opens_it_and_owner_must_exist() {
    let app = spawn_app().await;
    let (agent, _) = app.agent().await;
    let c = app.create_case(json!({"subject": "assign me"})).await;
    let path = format!("/api/v1/cases/{}", c["id"].as_str().unwrap());
    let r = app.patch(&path, json!({"owner_id": agent})).await;
    assert_eq!(r.body["owner_id"], agent.as_str());
    assert_eq!(r.body["status"], "open");
    let r = app.patch(&path, json!({"owner_id": "usr_doesnotexist"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["owner_id"]);
    let r = app.patch(&path, json!({"owner_id": null})).await;
    assert_eq!(r.body["owner_id"], Value::Null, "null clears an optional field");
    let r = app.patch(&path, json!({"subject": null})).await;
    assert_eq!(r.error_fields(), ["subject"], "a required field cannot be cleared");
}

#[tokio::test]
async fn a_contact_brings_its_account_and_tasks_take_due_dates() {
    let app = spawn_app().await;
    let (acc, cnt, _) = setup_refs(&app).await;
    let c = app.create_case(json!({"subject": "x", "contact_id": cnt})).await;
    assert_eq!(c["account_id"], acc.as_str());
    let t = app.create_case(json!({"subject": "call back", "type": "task", "due_at": "2026-07-01"})).await;
    assert_eq!(t["due_at"], "2026-07-01T12:00:00Z", "a date means 12:00 in the organization's time zone (UTC here)");
    let r = app.post("/api/v1/cases", json!({"subject": "q", "due_at": "2026-07-01"})).await;
    assert_eq!(r.error_fields(), ["due_at"]);
}

#[tokio::test]
async fn timeline_records_every_change_with_who_and_when() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.agent().await;
    let c = app.create_case(json!({"subject": "timeline", "tags": ["a"]})).await;
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/cases/{id}");
    app.patch(&path, json!({"priority": "critical", "tags": ["a", "b"]})).await;
    let r = app.call(Method::PATCH, &path, Some(&agent_token), Some(&json!({"status": "pending"})), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.post(&format!("{path}/comments"), json!({"body": "hello", "internal": false})).await;
    let t = app.get(&format!("{path}/timeline")).await;
    assert_eq!(t.status, StatusCode::OK);
    let events = t.body["data"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["case.created", "field.changed", "field.changed", "status.changed", "comment.added"]);
    assert_eq!(events[1]["field"], "priority");
    assert_eq!(events[1]["old"], "medium");
    assert_eq!(events[1]["new"], "critical");
    assert_eq!(events[1]["actor_id"], app.admin_id.as_str());
    assert_eq!(events[2]["field"], "tags");
    assert_eq!(events[2]["new"], json!(["a", "b"]));
    assert_eq!(events[3]["old"], "new");
    assert_eq!(events[3]["new"], "pending");
    assert_eq!(events[3]["actor_id"], agent.as_str());
    assert!(events.iter().all(|e| e["created_at"].is_string() && e["id"].as_str().unwrap().starts_with("evt_")));
    // Paging through the timeline gives the same events.
    let first = app.get(&format!("{path}/timeline?limit=2")).await;
    assert_eq!(first.body["has_more"], true);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("{path}/timeline?limit=10&cursor={cursor}")).await;
    let paged: Vec<Value> =
        first.body["data"].as_array().unwrap().iter().chain(second.body["data"].as_array().unwrap()).cloned().collect();
    assert_eq!(&paged, events);
}

#[tokio::test]
async fn if_match_refuses_stale_writes() {
    let app = spawn_app().await;
    let c = app.create_case(json!({"subject": "etag"})).await;
    let path = format!("/api/v1/cases/{}", c["id"].as_str().unwrap());
    let etag = app.get(&path).await.header("etag").unwrap();
    let ok = app
        .call(Method::PATCH, &path, Some(&app.token), Some(&json!({"priority": "high"})), &[("if-match", &etag)])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_ne!(ok.header("etag").unwrap(), etag, "the ETag changes with the case");
    let stale = app
        .call(Method::PATCH, &path, Some(&app.token), Some(&json!({"priority": "low"})), &[("if-match", &etag)])
        .await;
    stale.assert_problem(412, "precondition_failed");
    assert_eq!(app.get(&path).await.body["priority"], "high", "the stale write changed nothing");
    let bad = app
        .call(
            Method::PATCH,
            &path,
            Some(&app.token),
            Some(&json!({"priority": "low"})),
            &[("if-match", "\"nonsense\"")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn idempotency_key_returns_the_first_case_and_never_creates_a_second() {
    let app = spawn_app().await;
    let body = json!({"subject": "charged twice"});
    let key = [("idempotency-key", "retry-123")];
    let first = app.call(Method::POST, "/api/v1/cases", Some(&app.token), Some(&body), &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.call(Method::POST, "/api/v1/cases", Some(&app.token), Some(&body), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    // Concurrent retries with the same key also create one case.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url, token) = (app.client.clone(), format!("{}/api/v1/cases", app.base), app.token.clone());
        set.spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", "burst-1")
                .json(&json!({"subject": "burst"}))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(body) = set.join_next().await {
        ids.insert(body.unwrap()["id"].as_str().unwrap_or("ERR").to_string());
    }
    assert_eq!(ids.len(), 1, "one case for one key: {ids:?}");
    let other =
        app.call(Method::POST, "/api/v1/cases", Some(&app.token), Some(&json!({"subject": "different"})), &key).await;
    other.assert_problem(422, "idempotency_key_reused");
    let list = app.get("/api/v1/cases?limit=200").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2, "exactly two cases exist");
}

#[tokio::test]
async fn comments_list_oldest_first_and_replies_answer_a_waiting_case() {
    let app = spawn_app().await;
    let c = app.create_case(json!({"subject": "thread"})).await;
    let path = format!("/api/v1/cases/{}", c["id"].as_str().unwrap());
    app.post(&format!("{path}/comments"), json!({"body": "note", "internal": true})).await;
    assert_eq!(app.get(&path).await.body["is_waiting"], true, "an internal note does not answer the customer");
    let reply = app.post(&format!("{path}/comments"), json!({"body": "reply"})).await;
    assert_eq!(reply.body["internal"], false, "internal defaults to false");
    assert_eq!(app.get(&path).await.body["is_waiting"], false);
    let list = app.get(&format!("{path}/comments")).await;
    let bodies: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["note", "reply"]);
    let r = app.post(&format!("{path}/comments"), json!({"body": "   "})).await;
    assert_eq!(r.error_fields(), ["body"]);
}

#[tokio::test]
async fn deleting_is_for_admins_and_hides_the_case() {
    let app = spawn_app().await;
    let (_, agent) = app.agent().await;
    let c = app.create_case(json!({"subject": "delete me"})).await;
    let path = format!("/api/v1/cases/{}", c["id"].as_str().unwrap());
    app.call(Method::DELETE, &path, Some(&agent), None, &[]).await.assert_problem(403, "forbidden");
    assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
    app.get(&path).await.assert_problem(404, "not_found");
    app.delete(&path).await.assert_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/cases").await.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn import_keeps_original_times_numbers_and_comments() {
    let app = spawn_app().await;
    let body = json!({"cases": [
        {"subject": "Old refund", "status": "closed", "priority": "urgent", "case_number": 1000,
         "created_at": "2024-01-02T10:00:00Z", "updated_at": "2024-01-05T10:00:00Z", "closed_at": "2024-01-05T09:00:00Z",
         "comments": [
            {"body": "Please refund my parcel", "created_at": "2024-01-02T10:05:00Z"},
            {"body": "Refunded", "internal": false, "created_at": "2024-01-04T08:00:00Z"}]},
        {"subject": "Old question", "created_at": "2024-02-01T00:00:00Z"}
    ]});
    let r = app.post("/api/v1/imports/cases", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["imported"], 2);
    assert_eq!(r.body["data"][0]["case_number"], 1000);
    let first = r.body["data"][0]["id"].as_str().unwrap();
    let c = app.get(&format!("/api/v1/cases/{first}")).await.body;
    assert_eq!(c["created_at"], "2024-01-02T10:00:00Z");
    assert_eq!(c["closed_at"], "2024-01-05T09:00:00Z");
    assert_eq!(c["status"], "closed");
    assert_eq!(c["comments"][0]["created_at"], "2024-01-02T10:05:00Z");
    let next = app.create_case(json!({"subject": "new"})).await;
    assert!(next["case_number"].as_i64().unwrap() > 1001, "kept numbers are never reused: {}", next["case_number"]);
    let found = app.get("/api/v1/cases?q=refund").await;
    assert_eq!(found.body["data"][0]["id"], first, "imported comments are searchable");
    // Same numbers again: nothing imported, nothing half-written.
    let again = app.post("/api/v1/imports/cases", body).await;
    again.assert_problem(409, "case_number_taken");
    let all = app.get("/api/v1/cases?limit=200").await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 3);
    // One bad case fails the whole batch, naming it.
    let bad = app
        .post("/api/v1/imports/cases", json!({"cases": [{"subject": "ok", "created_at": "2024-01-01T00:00:00Z"}, {"subject": "", "created_at": "yesterday"}]}))
        .await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["cases[1].created_at"]);
    let bad = app
        .post("/api/v1/imports/cases", json!({"cases": [{"subject": "ok", "created_at": "2024-01-01T00:00:00Z"}, {"subject": " ", "created_at": "2024-01-01T00:00:00Z"}]}))
        .await;
    assert_eq!(bad.error_fields(), ["cases[1].subject"]);
    assert_eq!(app.get("/api/v1/cases?limit=200").await.body["data"].as_array().unwrap().len(), 3);
    // Ordinary creation never accepts timestamps.
    let r = app.post("/api/v1/cases", json!({"subject": "x", "created_at": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(r.error_fields(), ["created_at"]);
    // Agents cannot import.
    let (_, agent) = app.agent().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/imports/cases",
            Some(&agent),
            Some(&json!({"cases": [{"subject": "x", "created_at": "2024-01-01T00:00:00Z"}]})),
            &[],
        )
        .await;
    r.assert_problem(403, "forbidden");
}
