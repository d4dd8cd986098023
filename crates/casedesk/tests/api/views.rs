//! Views: predefined and saved, who sees them, their cases and their counts.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn ids(body: &Value) -> BTreeSet<String> {
    body["data"].as_array().expect("data").iter().filter_map(|c| c["id"].as_str().map(String::from)).collect()
}

/// Every case of a view, through all its pages, in order.
async fn view_cases(app: &TestApp, token: &str, view: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/views/{view}/cases?limit=2&cursor={c}"),
            None => format!("/api/v1/views/{view}/cases?limit=2"),
        };
        let r = app.call(Method::GET, &path, Some(token), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{view}: {}", r.body);
        out.extend(r.body["data"].as_array().expect("data").iter().filter_map(|c| c["id"].as_str().map(String::from)));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// The cases a query finds through the list.
async fn query(app: &TestApp, token: &str, q: &str) -> BTreeSet<String> {
    let mut url = reqwest::Url::parse(&format!("{}/api/v1/cases", app.base)).expect("url");
    url.query_pairs_mut().append_pair("q", q).append_pair("limit", "200");
    let r =
        app.call(Method::GET, &format!("{}?{}", url.path(), url.query().unwrap_or("")), Some(token), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
    ids(&r.body)
}

#[tokio::test]
async fn predefined_views_show_what_their_queries_find_and_count_it() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.agent().await;
    for (i, spec) in [
        json!({"subject": "mine", "owner_id": app.admin_id}),
        json!({"subject": "agent's", "owner_id": agent}),
        json!({"subject": "nobody's"}),
        json!({"subject": "nobody's too", "tags": ["vip"]}),
        json!({"subject": "done", "owner_id": app.admin_id}),
    ]
    .into_iter()
    .enumerate()
    {
        let c = app.create_case(spec).await;
        if i == 4 {
            app.patch(&format!("/api/v1/cases/{}", c["id"].as_str().expect("id")), json!({"status": "closed"})).await;
        }
    }
    let r = app.get("/api/v1/views?counts=true").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let views = r.body["data"].as_array().expect("data").clone();
    let names: Vec<&str> = views.iter().filter_map(|v| v["name"].as_str()).collect();
    for expected in
        ["My cases", "Unassigned", "Overdue", "All open", "Created by me", "Updated by me", "Open", "Closed", "All"]
    {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    for v in &views {
        let id = v["id"].as_str().expect("id");
        let q = v["query"].as_str().expect("query");
        let listed = view_cases(&app, &app.token, id).await;
        let unique: BTreeSet<String> = listed.iter().cloned().collect();
        assert_eq!(unique.len(), listed.len(), "{id}: no case twice across pages");
        assert_eq!(unique, query(&app, &app.token, q).await, "{id} shows what {q:?} finds");
        assert_eq!(v["count"], json!(listed.len()), "{id}: the count is the number of cases");
        assert_eq!(v["scope"], "predefined");
    }
    let count = |id: &str| views.iter().find(|v| v["id"] == id).map(|v| v["count"].clone()).expect("view");
    assert_eq!(count("my-cases"), 1);
    assert_eq!(count("unassigned"), 2);
    assert_eq!(count("closed"), 1);
    assert_eq!(count("all"), 5);
    // "me" is whoever asks.
    let mine = view_cases(&app, &agent_token, "my-cases").await;
    assert_eq!(mine.len(), 1);
    // Predefined views cannot be changed.
    app.patch("/api/v1/views/my-cases", json!({"name": "x"})).await.assert_problem(409, "predefined_view");
    app.delete("/api/v1/views/all").await.assert_problem(409, "predefined_view");
}

#[tokio::test]
async fn saved_views_are_checked_and_seen_by_their_scope_only() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.agent().await;
    let (_, other_agent_token) = app.agent().await;
    let queue = app.post("/api/v1/case-queues", json!({"name": "Tier 1", "assignment_method": "manual"})).await.body;
    let queue_id = queue["id"].as_str().expect("id").to_string();
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/case-queues/{queue_id}/members/{agent}"),
            Some(&app.token),
            Some(&json!({})),
            &[],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    app.create_case(json!({"subject": "VIP one", "tags": ["vip"], "priority": "high"})).await;
    app.create_case(json!({"subject": "VIP two", "tags": ["vip"], "priority": "low"})).await;
    app.create_case(json!({"subject": "plain"})).await;

    // Mistakes name their field; a bad query says where.
    let r = app
        .post(
            "/api/v1/views",
            json!({"name": "", "query": "tag:vip foo:1", "columns": ["subject", "colour"], "ordering": "x"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["name", "columns[1]", "ordering"]);
    let r = app.post("/api/v1/views", json!({"name": "Bad", "query": "tag:vip foo:1"})).await;
    assert_eq!(r.error_fields(), vec!["query"]);
    assert!(r.body["errors"][0]["message"].as_str().unwrap_or("").starts_with("at character 9"), "{}", r.body);
    let r = app
        .post("/api/v1/views", json!({"name": "Q", "scope": "queue", "queue_id": "q_0000000000007000800000000000dead"}))
        .await;
    assert_eq!(r.error_fields(), vec!["queue_id"]);
    // Agents keep views to themselves; sharing is for admins.
    let r = app
        .call(
            Method::POST,
            "/api/v1/views",
            Some(&agent_token),
            Some(&json!({"name": "All VIP", "scope": "organization"})),
            &[],
        )
        .await;
    r.assert_problem(403, "forbidden");

    let personal = app
        .call(
            Method::POST,
            "/api/v1/views",
            Some(&agent_token),
            Some(&json!({"name": "My VIPs", "query": "tag:vip", "columns": ["subject", "priority", "cf.order_id"], "ordering": "-priority"})),
            &[],
        )
        .await;
    assert_eq!(personal.status, StatusCode::CREATED, "{}", personal.body);
    assert_eq!(personal.body["scope"], "personal");
    assert_eq!(personal.body["columns"], json!(["subject", "priority", "cf.order_id"]));
    let personal_id = personal.body["id"].as_str().expect("id").to_string();
    let shared = app
        .post(
            "/api/v1/views",
            json!({"name": "Tier 1 VIPs", "query": "tag:vip", "scope": "queue", "queue_id": queue_id}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    let shared_id = shared.body["id"].as_str().expect("id").to_string();
    let everyone = app.post("/api/v1/views", json!({"name": "Everything", "scope": "organization"})).await;
    let everyone_id = everyone.body["id"].as_str().expect("id").to_string();

    // Its cases, in its order.
    let cases: Vec<String> = view_cases(&app, &agent_token, &personal_id).await;
    let subjects: Vec<String> = {
        let mut out = Vec::new();
        for id in &cases {
            out.push(app.get(&format!("/api/v1/cases/{id}")).await.body["subject"].as_str().unwrap_or("").to_string());
        }
        out
    };
    assert_eq!(subjects, ["VIP one", "VIP two"], "ordered by -priority");

    // Who sees what.
    let seen = |token: String| {
        let app = &app;
        async move {
            let r = app.call(Method::GET, "/api/v1/views", Some(&token), None, &[]).await;
            ids(&r.body).into_iter().filter(|id| id.starts_with("vw_")).collect::<BTreeSet<String>>()
        }
    };
    assert_eq!(seen(agent_token.clone()).await, [personal_id.clone(), shared_id.clone(), everyone_id.clone()].into());
    assert_eq!(seen(other_agent_token.clone()).await, [everyone_id.clone()].into(), "not a member, not the owner");
    assert_eq!(
        seen(app.token.clone()).await,
        [shared_id.clone(), everyone_id.clone()].into(),
        "admins see shared views"
    );
    let r =
        app.call(Method::GET, &format!("/api/v1/views/{personal_id}/cases"), Some(&other_agent_token), None, &[]).await;
    r.assert_problem(404, "not_found");

    // Changing and deleting: the creator; an admin for shared ones.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/views/{personal_id}"),
            Some(&agent_token),
            Some(&json!({"query": "tag:vip priority:high"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(view_cases(&app, &agent_token, &personal_id).await.len(), 1);
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/views/{shared_id}"),
            Some(&agent_token),
            Some(&json!({"name": "mine now"})),
            &[],
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = app.patch(&format!("/api/v1/views/{shared_id}"), json!({"scope": "personal"})).await;
    assert_eq!(r.error_fields(), vec!["queue_id"], "a personal view names no queue");
    let r = app.patch(&format!("/api/v1/views/{shared_id}"), json!({"scope": "personal", "queue_id": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!seen(agent_token.clone()).await.contains(&shared_id), "no longer shared");
    let r = app.call(Method::DELETE, &format!("/api/v1/views/{personal_id}"), Some(&agent_token), None, &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.call(Method::GET, &format!("/api/v1/views/{personal_id}"), Some(&agent_token), None, &[])
        .await
        .assert_problem(404, "not_found");

    let counts = app.get("/api/v1/views?counts=true").await;
    let everything =
        counts.body["data"].as_array().expect("data").iter().find(|v| v["id"] == everyone_id.as_str()).cloned();
    assert_eq!(everything.expect("listed")["count"], 3);
}

/// Each view's count next to the number of cases its query finds through the list.
async fn counts_and_finds(app: &TestApp, token: &str) -> Vec<(String, Value, usize)> {
    let r = app.call(Method::GET, "/api/v1/views?counts=true", Some(token), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut out = Vec::new();
    for v in r.body["data"].as_array().expect("data") {
        let q = v["query"].as_str().expect("query").to_string();
        let found = query(app, token, &q).await.len();
        out.push((q, v["count"].clone(), found));
    }
    out
}

async fn assert_counts_right(app: &TestApp, token: &str, step: &str) {
    for (q, count, found) in counts_and_finds(app, token).await {
        assert_eq!(count, json!(found), "after {step}: the count of {q:?} is what it finds");
    }
}

/// Counts of views made only of statuses and one of owner, queue, priority, creator, last editor
/// or tag are kept as totals; they must follow every write exactly as a count of the rows would.
#[tokio::test]
async fn view_counts_follow_creates_updates_deletes_and_merges() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.agent().await;
    let agent_email =
        app.get(&format!("/api/v1/users/{agent}")).await.body["email"].as_str().expect("email").to_string();
    let tier1 = app.post("/api/v1/case-queues", json!({"name": "Tier 1", "assignment_method": "manual"})).await.body;
    let tier1 = tier1["id"].as_str().expect("id").to_string();
    for q in [
        "queue:\"tier 1\" status:new,open".to_string(),
        "priority>=high".into(),
        "-status:closed,resolved".into(),
        format!("assignee:{agent_email} status:new,open,pending,on_hold"),
        format!("updated_by:{agent}"),
        "status:open -status:open".into(),
        "tag:vip status:new,open".into(),
        "tag:gold".into(),
    ] {
        let r = app.post("/api/v1/views", json!({"name": q, "query": q})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    assert_counts_right(&app, &app.token, "nothing").await;

    let mut ids = Vec::new();
    for spec in [
        json!({"subject": "a", "owner_id": app.admin_id, "queue_id": tier1, "priority": "high"}),
        json!({"subject": "b", "owner_id": agent, "priority": "critical", "tags": ["vip"]}),
        json!({"subject": "c", "queue_id": tier1}),
        json!({"subject": "d", "priority": "low"}),
        json!({"subject": "e", "owner_id": agent, "queue_id": tier1}),
    ] {
        ids.push(app.create_case(spec).await["id"].as_str().expect("id").to_string());
    }
    let (_, other_token) = app.other_org().await;
    let r =
        app.call(Method::POST, "/api/v1/cases", Some(&other_token), Some(&json!({"subject": "elsewhere"})), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_counts_right(&app, &app.token, "creates").await;
    assert_counts_right(&app, &agent_token, "creates, as the agent").await;

    let case = |i: usize| format!("/api/v1/cases/{}", ids[i]);
    for (i, change) in [
        (0, json!({"status": "open"})),
        (1, json!({"owner_id": app.admin_id})),
        (2, json!({"queue_id": null, "priority": "critical"})),
        (3, json!({"owner_id": agent, "queue_id": tier1})),
        (4, json!({"status": "resolved"})),
        (3, json!({"tags": ["vip", "gold"]})),
        (2, json!({"tags": ["gold"], "status": "open"})),
        (3, json!({"status": "open"})),
    ] {
        let r = app.patch(&case(i), change.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{change}: {}", r.body);
        assert_counts_right(&app, &app.token, &format!("update {change}")).await;
    }
    let r = app.call(Method::PATCH, &case(3), Some(&agent_token), Some(&json!({"status": "pending"})), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_counts_right(&app, &app.token, "an update by the agent").await;
    assert_counts_right(&app, &agent_token, "an update by the agent, as the agent").await;

    assert_eq!(app.delete(&case(2)).await.status, StatusCode::NO_CONTENT);
    assert_counts_right(&app, &app.token, "a delete").await;
    let r = app.post(&format!("{}/merge", case(0)), json!({"source_ids": [ids[1], ids[3]]})).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_counts_right(&app, &app.token, "a merge").await;
    assert_counts_right(&app, &agent_token, "a merge, as the agent").await;
}
