//! Custom statuses (seed 001) and funnel stages (seed 002) over HTTP: the defaults every
//! organization has, setting a status by category or by name and keeping both consistent, list
//! filters, a status that overrides its category's SLA pause, stages per queue with their counts.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};
use crate::routing::{MONDAY_0900_BERLIN, entries, queue, ts};

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {}", r.body);
    r.body
}

async fn patch_ok(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.patch(path, body).await;
    assert_eq!(r.status, StatusCode::OK, "PATCH {path}: {}", r.body);
    r.body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/cases?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "list {query}: {}", r.body);
    r.body["data"].as_array().unwrap().iter().map(id).collect()
}

#[tokio::test]
async fn every_organization_starts_with_a_default_status_per_category() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/case-statuses").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got: Vec<(String, String, bool)> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["category"].as_str().unwrap().into(), s["name"].as_str().unwrap().into(), s["is_default"] == true))
        .collect();
    let want: Vec<(String, String, bool)> = [
        ("new", "New"),
        ("open", "Open"),
        ("pending", "Pending"),
        ("on_hold", "On hold"),
        ("resolved", "Resolved"),
        ("closed", "Closed"),
    ]
    .iter()
    .map(|(c, n)| (c.to_string(), n.to_string(), true))
    .collect();
    assert_eq!(got, want);
    // A case shows its category's default status.
    let case = app.create_case(json!({"subject": "printer"})).await;
    let detail = app.get(&format!("/api/v1/cases/{}", id(&case))).await.body;
    assert_eq!((detail["status"].as_str(), detail["custom_status"]["name"].as_str()), (Some("new"), Some("New")));
}

#[tokio::test]
async fn a_custom_status_sets_its_category_and_a_category_change_takes_its_default() {
    let app = spawn_app().await;
    let vendor =
        created(&app, "/api/v1/case-statuses", json!({"name": "Waiting on vendor", "category": "on_hold"})).await;
    let progress =
        created(&app, "/api/v1/case-statuses", json!({"name": "In progress", "category": "open", "is_default": true}))
            .await;
    let vid = id(&vendor);

    let case = app.create_case(json!({"subject": "RMA", "custom_status_id": vid})).await;
    let cid = id(&case);
    assert_eq!(case["status"], "on_hold", "the custom status sets the category");
    let detail = app.get(&format!("/api/v1/cases/{cid}")).await.body;
    assert_eq!(detail["custom_status"], json!({"id": vid, "name": "Waiting on vendor"}));

    // Setting the category alone: the category's default (now "In progress").
    patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"status": "open"})).await;
    let detail = app.get(&format!("/api/v1/cases/{cid}")).await.body;
    assert_eq!(detail["custom_status"]["id"], progress["id"]);
    let changed = entries(&app, &cid, "field.changed").await;
    assert!(changed.iter().any(|e| e["field"] == "custom_status_id"), "the timeline records the custom status");

    // Naming the status alone sets the category; naming both must agree.
    let back = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"custom_status_id": vid})).await;
    assert_eq!(back["status"], "on_hold");
    let r = app.patch(&format!("/api/v1/cases/{cid}"), json!({"status": "pending", "custom_status_id": vid})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["custom_status_id"]);
    let r = app
        .post("/api/v1/cases", json!({"subject": "x", "custom_status_id": "cst_0000000000007000800000000000dead"}))
        .await;
    assert_eq!(r.error_fields(), ["custom_status_id"], "{}", r.body);

    // Filters: a named status; a default also matches the cases naming none in its category.
    let plain = app.create_case(json!({"subject": "plain", "status": "open"})).await;
    assert_eq!(listed(&app, &format!("custom_status_id={vid}")).await, vec![cid.clone()]);
    assert_eq!(listed(&app, &format!("custom_status_id={}", id(&progress))).await, vec![id(&plain)]);

    // A status in use cannot go, nor a category's default; a status's category is fixed.
    app.delete(&format!("/api/v1/case-statuses/{vid}")).await.assert_problem(409, "in_use");
    app.delete(&format!("/api/v1/case-statuses/{}", id(&progress))).await.assert_problem(409, "in_use");
    let r = app.patch(&format!("/api/v1/case-statuses/{vid}"), json!({"category": "open"})).await;
    assert_eq!(r.error_fields(), ["category"]);
    let r = app.post("/api/v1/case-statuses", json!({"name": "", "category": "later"})).await;
    assert_eq!(r.error_fields(), ["name", "category"]);
}

#[tokio::test]
async fn a_custom_status_can_keep_the_sla_clocks_running_where_its_category_pauses() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let pol = created(
        &app,
        "/api/v1/sla-policies",
        json!({"name": "24/7", "rules": [{"priority": "medium", "resolution_minutes": 240}]}),
    )
    .await;
    let q = queue(&app, json!({"name": "Support", "assignment_method": "manual", "sla_policy_id": pol["id"]})).await;
    let chasing = created(
        &app,
        "/api/v1/case-statuses",
        json!({"name": "Chasing vendor", "category": "on_hold", "pauses_sla": false}),
    )
    .await;
    let case = app.create_case(json!({"subject": "RMA", "queue_id": q, "status": "open"})).await;
    let cid = id(&case);
    let state = |v: &Value| v["sla"]["targets"][0]["state"].as_str().unwrap().to_string();

    // The on_hold category pauses (the policy's default); this status of it does not.
    let held = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"status": "on_hold"})).await;
    assert_eq!(state(&held), "paused");
    let chased = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"custom_status_id": chasing["id"]})).await;
    assert_eq!(state(&chased), "running");
    assert_eq!(chased["status"], "on_hold");
    let back = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"custom_status_id": null})).await;
    assert_eq!(state(&back), "paused", "back to the category's default, which pauses");
}

#[tokio::test]
async fn cases_move_through_funnel_stages_of_their_queue() {
    let app = spawn_app().await;
    let support = queue(&app, json!({"name": "Support"})).await;
    let billing = queue(&app, json!({"name": "Billing"})).await;
    let intake = created(&app, "/api/v1/funnel-stages", json!({"name": "Intake", "position": 1})).await;
    let fix = created(&app, "/api/v1/funnel-stages", json!({"name": "Fix", "position": 3, "queue_id": support})).await;
    let diagnosis = created(&app, "/api/v1/funnel-stages", json!({"name": "Diagnosis", "position": 2})).await;

    let case =
        app.create_case(json!({"subject": "crash", "queue_id": support, "case_funnel_stage_id": intake["id"]})).await;
    let cid = id(&case);
    assert_eq!(case["case_funnel_stage_id"], intake["id"]);
    let moved = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"funnel_stage_id": diagnosis["id"]})).await;
    assert_eq!(moved["case_funnel_stage_id"], diagnosis["id"]);
    patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"funnel_stage_id": fix["id"]})).await;
    let detail = app.get(&format!("/api/v1/cases/{cid}")).await.body;
    assert_eq!(detail["funnel_stage"], json!({"id": fix["id"], "name": "Fix", "position": 3}));
    let moves: Vec<Value> =
        entries(&app, &cid, "field.changed").await.into_iter().filter(|e| e["field"] == "funnel_stage_id").collect();
    assert_eq!(moves.len(), 2, "each move is on the timeline");

    // A stage of another queue does not fit.
    let other = app.create_case(json!({"subject": "invoice", "queue_id": billing})).await;
    let r = app.patch(&format!("/api/v1/cases/{}", id(&other)), json!({"funnel_stage_id": fix["id"]})).await;
    assert_eq!(r.error_fields(), ["funnel_stage_id"], "{}", r.body);
    let r = app.post("/api/v1/cases", json!({"subject": "x", "queue_id": billing, "funnel_stage_id": fix["id"]})).await;
    assert_eq!(r.error_fields(), ["funnel_stage_id"], "{}", r.body);

    // Filter and counts by stage.
    app.create_case(json!({"subject": "second", "funnel_stage_id": intake["id"]})).await;
    assert_eq!(listed(&app, &format!("funnel_stage_id={}", id(&fix))).await, vec![cid.clone()]);
    let stages = app.get("/api/v1/funnel-stages").await.body;
    let counts: Vec<(String, i64)> = stages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().into(), s["active_cases"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [("Intake".to_string(), 1), ("Diagnosis".to_string(), 0), ("Fix".to_string(), 1)]);

    // Moving the case to another queue drops the old queue's stage.
    let to_billing = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"queue_id": billing})).await;
    assert_eq!(to_billing["case_funnel_stage_id"], Value::Null);
    app.delete(&format!("/api/v1/funnel-stages/{}", id(&intake))).await.assert_problem(409, "in_use");
    let r = app.delete(&format!("/api/v1/funnel-stages/{}", id(&fix))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}

#[tokio::test]
async fn custom_fields_follow_the_category_profile() {
    let app = spawn_app().await;
    // The seed 004 types exist out of the box.
    let names: Vec<String> = app.get("/api/v1/case-categories").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Bug", "Feature Request", "Question", "Complaint", "Other"]);

    let bug = created(
        &app,
        "/api/v1/case-categories",
        json!({"name": "Defect", "fields": [
            {"key": "version", "label": "Version", "kind": "text", "required": true},
            {"key": "severity", "kind": "select", "options": ["minor", "major"]},
            {"key": "platforms", "kind": "multi_select", "options": ["web", "ios", "android"]},
            {"key": "users", "kind": "number"}
        ]}),
    )
    .await;
    let question = created(
        &app,
        "/api/v1/case-categories",
        json!({"name": "Ask", "fields": [{"key": "version", "kind": "text"}, {"key": "topic", "kind": "text"}]}),
    )
    .await;
    let bad = app
        .post("/api/v1/case-categories", json!({"name": "x", "fields": [{"key": "Bad Key", "kind": "colour"}]}))
        .await;
    assert_eq!(bad.error_fields(), ["fields[0].key", "fields[0].kind"]);

    // Every bad value is named; a required field must be there.
    let r = app
        .post(
            "/api/v1/cases",
            json!({"subject": "crash", "category_id": bug["id"],
                "custom_fields": {"severity": "fatal", "platforms": ["mac"], "users": "many", "colour": "red"}}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "custom_fields.colour",
            "custom_fields.platforms",
            "custom_fields.severity",
            "custom_fields.users",
            "custom_fields.version"
        ]
    );
    let case = app
        .create_case(json!({"subject": "crash", "category_id": bug["id"],
            "custom_fields": {"version": "2.1", "severity": "major", "platforms": ["web", "ios"], "users": 40}}))
        .await;
    let cid = id(&case);
    app.create_case(json!({"subject": "other", "category_id": bug["id"],
        "custom_fields": {"version": "2.2", "severity": "minor", "platforms": ["android"]}}))
        .await;

    // Filters: a scalar and an item of a multi-select; the category.
    assert_eq!(listed(&app, "cf.severity=major").await, vec![cid.clone()]);
    assert_eq!(listed(&app, "cf.platforms=ios").await, vec![cid.clone()]);
    assert_eq!(listed(&app, "cf.users=40").await, vec![cid.clone()]);
    assert_eq!(listed(&app, &format!("category_id={}&cf.version=2.1", id(&bug))).await, vec![cid.clone()]);

    // A new category keeps the values its profile shares and says which it dropped.
    let moved = patch_ok(&app, &format!("/api/v1/cases/{cid}"), json!({"category_id": question["id"]})).await;
    assert_eq!(moved["custom_fields"], json!({"version": "2.1"}));
    let dropped = entries(&app, &cid, "custom_fields.dropped").await;
    let mut keys: Vec<&str> =
        dropped[0]["data"]["dropped"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["platforms", "severity", "users"]);
    // Writes naming custom fields are checked against the new profile.
    let r = app.patch(&format!("/api/v1/cases/{cid}"), json!({"custom_fields": {"severity": "major"}})).await;
    assert_eq!(r.error_fields(), ["custom_fields.severity"]);
    let r = app
        .patch(&format!("/api/v1/cases/{cid}"), json!({"category_id": "ccat_0000000000007000800000000000dead"}))
        .await;
    assert_eq!(r.error_fields(), ["category_id"]);
    app.delete(&format!("/api/v1/case-categories/{}", id(&question))).await.assert_problem(409, "in_use");
}
