//! Links between cases, closing as a duplicate, and merging, over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::routing::entries;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn links_of(app: &TestApp, case: &str) -> Vec<(String, String)> {
    let r = app.get(&format!("/api/v1/cases/{case}/links")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["type"].as_str().unwrap().to_string(), l["case"]["id"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn links_show_from_both_ends_and_are_on_both_timelines() {
    let app = spawn_app().await;
    let a = id(&app.create_case(json!({"subject": "outage"})).await);
    let b = id(&app.create_case(json!({"subject": "login fails"})).await);
    let c = id(&app.create_case(json!({"subject": "slow pages"})).await);

    let r = app.post(&format!("/api/v1/cases/{a}/links"), json!({"type": "child", "case_id": b})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.body["type"].as_str(), r.body["case"]["id"].as_str()), (Some("child"), Some(b.as_str())));
    let link_ab = id(&r.body);
    let r = app.post(&format!("/api/v1/cases/{a}/links"), json!({"type": "related", "case_id": c})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    assert_eq!(links_of(&app, &a).await, [("child".to_string(), b.clone()), ("related".to_string(), c.clone())]);
    assert_eq!(links_of(&app, &b).await, [("parent".to_string(), a.clone())]);
    assert_eq!(links_of(&app, &c).await, [("related".to_string(), a.clone())]);
    assert_eq!(entries(&app, &b, "link.added").await.len(), 1);

    // The same link again is a conflict (also when named from the other end); bad input is a 422.
    app.post(&format!("/api/v1/cases/{b}/links"), json!({"type": "parent", "case_id": a}))
        .await
        .assert_problem(409, "link_exists");
    let r = app.post(&format!("/api/v1/cases/{a}/links"), json!({"type": "sibling", "case_id": b})).await;
    assert_eq!(r.error_fields(), ["type"]);
    let r = app.post(&format!("/api/v1/cases/{a}/links"), json!({"type": "related", "case_id": a})).await;
    assert_eq!(r.error_fields(), ["case_id"]);
    let r = app
        .post(
            &format!("/api/v1/cases/{a}/links"),
            json!({"type": "related", "case_id": "case_0000000000007000800000000000dead"}),
        )
        .await;
    assert_eq!(r.error_fields(), ["case_id"]);

    // Removing from either end.
    let r = app.delete(&format!("/api/v1/cases/{b}/links/{link_ab}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(links_of(&app, &b).await.is_empty());
    assert_eq!(entries(&app, &a, "link.removed").await.len(), 1);
    assert_eq!(app.delete(&format!("/api/v1/cases/{c}/links/{link_ab}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn close_as_duplicate_links_closes_and_tells_the_requester() {
    let app = spawn_app().await;
    let original = app.create_case(json!({"subject": "VPN down"})).await;
    let dup = id(&app.create_case(json!({"subject": "VPN not working"})).await);
    let r = app
        .post(
            &format!("/api/v1/cases/{dup}/close-as-duplicate"),
            json!({"of": original["id"], "note": "same outage", "notify_requester": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "closed");
    let notes = format!("Duplicate of #{}: same outage", original["case_number"]);
    assert_eq!(r.body["resolution_notes"], notes.as_str());
    assert_eq!(links_of(&app, &dup).await, [("duplicate_of".to_string(), id(&original))]);
    let comments = app.get(&format!("/api/v1/cases/{dup}/comments")).await.body;
    let reply = &comments["data"][0];
    assert_eq!(reply["internal"], false, "the requester is told in a public reply");
    assert!(reply["body"].as_str().unwrap().contains(&format!("#{}", original["case_number"])));
    // Closed is final.
    app.post(&format!("/api/v1/cases/{dup}/close-as-duplicate"), json!({"of": original["id"]}))
        .await
        .assert_problem(409, "case_closed");
}

#[tokio::test]
async fn merging_moves_comments_and_links_and_closes_the_sources() {
    let app = spawn_app().await;
    let contact = app.post("/api/v1/contacts", json!({"name": "Ana", "email": "ana@example.com"})).await.body;
    let target = app.create_case(json!({"subject": "Printer jams"})).await;
    let tid = id(&target);
    let s1 = id(&app.create_case(json!({"subject": "printer again", "contact_id": contact["id"]})).await);
    let s2 = id(&app.create_case(json!({"subject": "paper stuck"})).await);
    let other = id(&app.create_case(json!({"subject": "toner"})).await);
    for (case, body) in [(&s1, "first report"), (&s2, "second report"), (&tid, "target note")] {
        let r = app.post(&format!("/api/v1/cases/{case}/comments"), json!({"body": body})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let logged = app.post(&format!("/api/v1/cases/{s1}/time-entries"), json!({"duration": "45m"})).await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    let call =
        app.post(&format!("/api/v1/cases/{s2}/activities"), json!({"kind": "call", "subject": "spoke to Ana"})).await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.body);
    let before: Vec<Value> =
        app.get(&format!("/api/v1/cases/{s1}/comments")).await.body["data"].as_array().unwrap().clone();
    app.post(&format!("/api/v1/cases/{s2}/links"), json!({"type": "related", "case_id": other})).await;
    app.post(&format!("/api/v1/cases/{s1}/links"), json!({"type": "related", "case_id": tid})).await;

    let r = app.post(&format!("/api/v1/cases/{tid}/merge"), json!({"source_ids": [s1, s2]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["contact_id"], contact["id"], "the target takes a contact it lacked");

    let comments = app.get(&format!("/api/v1/cases/{tid}/comments")).await.body;
    let bodies: Vec<&str> = comments["data"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["first report", "second report", "target note"], "oldest first, original times");
    let moved = comments["data"].as_array().unwrap().iter().find(|c| c["body"] == "first report").unwrap();
    assert_eq!((&moved["created_at"], &moved["author_id"]), (&before[0]["created_at"], &before[0]["author_id"]));
    // Time and activities moved too.
    let time = app.get(&format!("/api/v1/cases/{tid}/time-entries")).await.body;
    assert_eq!(time["time_spent_minutes"], 45, "{time}");
    let acts = app.get(&format!("/api/v1/cases/{tid}/activities")).await.body;
    assert_eq!(acts["data"][0]["subject"], "spoke to Ana");
    // Links moved; the one between a source and the target is gone.
    assert_eq!(links_of(&app, &tid).await, [("related".to_string(), other.clone())]);
    // Sources closed as merged, pointing at the target, for good.
    for s in [&s1, &s2] {
        let c = app.get(&format!("/api/v1/cases/{s}")).await.body;
        assert_eq!((c["status"].as_str(), c["merged_into_id"].as_str()), (Some("closed"), Some(tid.as_str())));
        assert_eq!(entries(&app, s, "case.merged_into").await.len(), 1);
        app.patch(&format!("/api/v1/cases/{s}"), json!({"status": "open"})).await.assert_problem(409, "case_closed");
    }
    let merged = entries(&app, &tid, "case.merged").await;
    assert_eq!(merged[0]["data"]["sources"].as_array().unwrap().len(), 2);
    // Search finds the moved text on the target.
    let found = app.get("/api/v1/cases?q=second%20report").await.body;
    let ids: Vec<&str> = found["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [tid.as_str()]);

    // Refusals: into itself, into a closed case, a closed source, a missing one.
    let r = app.post(&format!("/api/v1/cases/{tid}/merge"), json!({"source_ids": [tid]})).await;
    assert_eq!(r.error_fields(), ["source_ids[0]"]);
    app.post(&format!("/api/v1/cases/{s1}/merge"), json!({"source_ids": [other]}))
        .await
        .assert_problem(409, "case_closed");
    app.post(&format!("/api/v1/cases/{tid}/merge"), json!({"source_ids": [s2]}))
        .await
        .assert_problem(409, "case_closed");
    let r = app
        .post(&format!("/api/v1/cases/{tid}/merge"), json!({"source_ids": ["case_0000000000007000800000000000dead"]}))
        .await;
    assert_eq!(r.error_fields(), ["source_ids[0]"]);
    // Another organization's case is just missing.
    let (_, b_token) = app.other_org().await;
    let b_case = app
        .call(reqwest::Method::POST, "/api/v1/cases", Some(&b_token), Some(&json!({"subject": "B's"})), &[])
        .await
        .body;
    let r = app.post(&format!("/api/v1/cases/{tid}/merge"), json!({"source_ids": [b_case["id"]]})).await;
    assert_eq!(r.error_fields(), ["source_ids[0]"]);
}
