//! The case list: each filter, each ordering, keyset pagination and full-text search.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn ids(r: &Value) -> Vec<String> {
    r["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

/// Every page of a list, following next_cursor.
async fn walk(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?{query}{sep}limit=2&cursor={c}"),
            None => format!("/api/v1/cases?{query}{sep}limit=2"),
        };
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        out.extend(r.body["data"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(r.body["has_more"], true);
                cursor = Some(c.to_string());
            }
            None => {
                assert_eq!(r.body["has_more"], false);
                break;
            }
        }
    }
    out
}

#[tokio::test]
async fn filters_select_exactly_the_matching_cases() {
    let app = spawn_app().await;
    let (agent, _) = app.agent().await;
    let acc = app.post("/api/v1/accounts", json!({"name": "Acme"})).await.body["id"].as_str().unwrap().to_string();
    let cnt = app.post("/api/v1/contacts", json!({"email": "bo@acme.example", "account_id": acc})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = app.post("/api/v1/case-queues", json!({"name": "Billing"})).await.body["id"].as_str().unwrap().to_string();
    let a = app.create_case(json!({"subject": "Invoice wrong", "priority": "high", "tags": ["billing", "vip"], "queue_id": q, "contact_id": cnt})).await;
    let b = app.create_case(json!({"subject": "Login broken", "description": "password reset mail never arrives", "type": "incident", "owner_id": agent})).await;
    let c = app
        .create_case(json!({"subject": "Refund please", "priority": "low", "status": "pending", "tags": ["billing"]}))
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let closed = app.patch(&format!("/api/v1/cases/{}", id(&c)), json!({"status": "closed"})).await.body;
    app.post(&format!("/api/v1/cases/{}/comments", id(&b)), json!({"body": "customer mentions a Zebra keyboard"}))
        .await;

    let cases: [(&str, Vec<String>); 15] = [
        ("status=new", vec![id(&a)]),
        ("status=open,closed", vec![id(&c), id(&b)]),
        ("status=open&status=closed", vec![id(&c), id(&b)]),
        ("priority=high", vec![id(&a)]),
        ("priority=urgent,low", vec![id(&c)]),
        ("type=incident", vec![id(&b)]),
        (&format!("queue_id={q}"), vec![id(&a)]),
        (&format!("owner_id={agent}"), vec![id(&b)]),
        ("unassigned=true", vec![id(&c), id(&a)]),
        (&format!("contact_id={cnt}"), vec![id(&a)]),
        (&format!("account_id={acc}"), vec![id(&a)]),
        ("tag=billing", vec![id(&c), id(&a)]),
        ("tag=VIP", vec![id(&a)]),
        ("q=zebra", vec![id(&b)]),
        ("q=password+reset", vec![id(&b)]),
    ];
    for (query, expected) in &cases {
        let r = app.get(&format!("/api/v1/cases?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(&ids(&r.body), expected, "{query}");
    }
    let r = app.get(&format!("/api/v1/cases?requester_id={}", app.admin_id)).await;
    assert_eq!(ids(&r.body).len(), 3);
    let r = app.get("/api/v1/cases?q=invoice+password").await;
    assert!(ids(&r.body).is_empty(), "all words must match");

    let closed_at = closed["closed_at"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/cases?closed_after={closed_at}")).await;
    assert_eq!(ids(&r.body), [id(&c)]);
    let r = app.get(&format!("/api/v1/cases?closed_before={closed_at}")).await;
    assert!(ids(&r.body).is_empty(), "ranges are half-open");
    let created_b = b["created_at"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/cases?created_after={created_b}&created_before=2999-01-01")).await;
    assert_eq!(ids(&r.body), [id(&c), id(&b)]);
    let r = app.get(&format!("/api/v1/cases?updated_after={}", closed["updated_at"].as_str().unwrap())).await;
    assert_eq!(ids(&r.body), [id(&c), id(&b)], "c closed then, b commented after");
}

#[tokio::test]
async fn list_items_carry_account_and_contact_summaries() {
    let app = spawn_app().await;
    let acc = app.post("/api/v1/accounts", json!({"name": "Acme", "tier": "gold"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cnt = app
        .post("/api/v1/contacts", json!({"name": "Bo", "email": "bo@acme.example", "account_id": acc}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.create_case(json!({"subject": "with refs", "contact_id": cnt})).await;
    app.create_case(json!({"subject": "without"})).await;
    let r = app.get("/api/v1/cases?ordering=created_at").await;
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data[0]["account"], json!({"id": acc, "name": "Acme", "tier": "gold"}));
    assert_eq!(data[0]["contact"], json!({"id": cnt, "name": "Bo", "email": "bo@acme.example"}));
    assert_eq!(data[1]["account"], Value::Null);
}

#[tokio::test]
async fn every_ordering_pages_through_all_cases_exactly_once() {
    let app = spawn_app().await;
    let priorities = ["low", "high", "medium", "critical", "high", "low", "medium"];
    let mut created = Vec::new();
    for (i, p) in priorities.iter().enumerate() {
        created.push(app.create_case(json!({"subject": format!("case {i}"), "priority": p})).await);
    }
    // Touch two cases so updated_at order differs from created_at order.
    for i in [1, 4] {
        app.patch(
            &format!("/api/v1/cases/{}", created[i]["id"].as_str().unwrap()),
            json!({"subject": format!("touched {i}")}),
        )
        .await;
    }
    let all = walk(&app, "ordering=created_at").await;
    let key = |v: &Value, k: &str| v[k].as_str().unwrap().to_string();
    let at = |v: &Value, k: &str| v[k].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let rank = |v: &Value| ["low", "medium", "high", "critical"].iter().position(|p| *p == v["priority"]).unwrap();
    for ordering in ["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority"] {
        let got = walk(&app, &format!("ordering={ordering}")).await;
        assert_eq!(got.len(), 7, "{ordering}");
        let unique: HashSet<String> = got.iter().map(|c| key(c, "id")).collect();
        assert_eq!(unique.len(), 7, "{ordering}: no duplicates across pages");
        let mut expected = all.clone();
        match ordering {
            "created_at" => {}
            "-created_at" => expected.reverse(),
            "updated_at" => expected.sort_by_key(|c| at(c, "updated_at")),
            "-updated_at" => {
                expected.sort_by_key(|c| at(c, "updated_at"));
                expected.reverse();
            }
            "priority" => expected.sort_by_key(|c| rank(c)),
            _ => {
                expected.reverse();
                expected.sort_by_key(|c| std::cmp::Reverse(rank(c)));
            }
        }
        let got_ids: Vec<String> = got.iter().map(|c| key(c, "id")).collect();
        let expected_ids: Vec<String> = expected.iter().map(|c| key(c, "id")).collect();
        assert_eq!(got_ids, expected_ids, "{ordering}");
    }
    // A cursor belongs to its ordering.
    let first = app.get("/api/v1/cases?ordering=priority&limit=2").await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/cases?ordering=-created_at&cursor={cursor}")).await;
    assert_eq!(r.error_fields(), ["cursor"]);
}
