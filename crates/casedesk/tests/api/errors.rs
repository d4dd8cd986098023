//! Bad input: every kind gets problem+json with a stable code, never a 500 and never a
//! half-written record.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_json_is_400_and_unknown_fields_are_named() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(format!("{}/api/v1/cases", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");

    let r = app.post("/api/v1/cases", json!({"subject": "x", "priorty": "high"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["priorty"], "a typo is reported, not ignored");
    assert!(
        r.body["errors"][0]["message"].as_str().unwrap().contains("priority"),
        "the message suggests the right name"
    );

    let r = app.post("/api/v1/cases", json!({"description": "no subject"})).await;
    assert_eq!(r.error_fields(), ["subject"]);
    let r = app.post("/api/v1/cases", json!({"subject": 42})).await;
    assert_eq!(r.error_fields(), ["subject"]);
    let r = app.post("/api/v1/cases", json!({"subject": "x", "priority": "extreme", "status": "done", "type": "bug", "channel": "fax", "tags": ["ok", "no spaces"]})).await;
    assert_eq!(r.error_fields(), ["status", "priority", "type", "channel"], "every bad field at once: {}", r.body);
    let r = app.post("/api/v1/cases", json!({"subject": "x", "tags": ["ok", "no spaces"]})).await;
    assert_eq!(r.error_fields(), ["tags[1]"]);
    let r = app.post("/api/v1/cases", json!({"subject": "x", "contact_id": "acc_wrongkind"})).await;
    assert_eq!(r.error_fields(), ["contact_id"]);
    let r = app.post("/api/v1/cases", json!([1, 2])).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(app.get("/api/v1/cases").await.body["data"].as_array().unwrap().len(), 0, "nothing was written");
}

#[tokio::test]
async fn string_lengths_are_bounded() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/cases", json!({"subject": "s".repeat(501)})).await;
    assert_eq!(r.error_fields(), ["subject"]);
    let r = app.post("/api/v1/cases", json!({"subject": "ok", "description": "d".repeat(100_001)})).await;
    assert_eq!(r.error_fields(), ["description"]);
    let r = app.post("/api/v1/accounts", json!({"name": "n".repeat(201)})).await;
    assert_eq!(r.error_fields(), ["name"]);
    let r = app.post("/api/v1/cases", json!({"subject": "ok\u{0}"})).await;
    assert_eq!(r.error_fields(), ["subject"]);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/cases", json!({"subject": "big", "description": "x".repeat(2 * 1024 * 1024)})).await;
    r.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401() {
    let app = spawn_app().await;
    let r = app.call(Method::GET, "/api/v1/cases", None, None, &[]).await;
    r.assert_problem(401, "unauthorized");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    app.call(Method::GET, "/api/v1/cases", Some("cdk_not_a_real_token"), None, &[])
        .await
        .assert_problem(401, "unauthorized");
    app.call(Method::GET, "/api/v1/cases", None, None, &[("authorization", "Basic YWRtaW46cHc=")])
        .await
        .assert_problem(401, "unauthorized");
    let r = app.call(Method::POST, "/api/v1/cases", None, Some(&json!({"subject": "x"})), &[]).await;
    r.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn unknown_routes_methods_and_parameters_are_clear() {
    let app = spawn_app().await;
    app.get("/api/v1/nope").await.assert_problem(404, "not_found");
    app.call(Method::PUT, "/api/v1/cases", Some(&app.token), Some(&json!({})), &[])
        .await
        .assert_problem(405, "method_not_allowed");
    let r = app.get("/api/v1/cases?stauts=open").await;
    assert_eq!(r.error_fields(), ["stauts"]);
    let r = app.get("/api/v1/cases?limit=500").await;
    assert_eq!(r.error_fields(), ["limit"]);
    let r = app.get("/api/v1/cases?cursor=garbage").await;
    assert_eq!(r.error_fields(), ["cursor"]);
    let r = app.get("/api/v1/cases?created_after=yesterday").await;
    assert_eq!(r.error_fields(), ["created_after"]);
    let r = app.get("/api/v1/cases?ordering=subject").await;
    assert_eq!(r.error_fields(), ["ordering"]);
    let r = app.call(Method::POST, "/api/v1/cases", Some(&app.token), None, &[("content-type", "text/plain")]).await;
    r.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn hostile_search_text_is_just_words() {
    let app = spawn_app().await;
    app.create_case(json!({"subject": "printer on fire"})).await;
    // The engines' own syntax (FTS5 operators, SQL) is plain words here.
    for q in ["AND OR NOT", "*", "printer)(", "' OR 1=1 --", "NEAR(printer fire)", "ünïcödé", "a\u{0}b"] {
        let r = app.get(&format!("/api/v1/cases?q={}", urlencode(q))).await;
        assert_eq!(r.status, StatusCode::OK, "q={q:?}: {}", r.body);
    }
    // What the search syntax cannot read is a 422 on q, never a 500.
    for q in ["\"unbalanced", "subject:printer", "status:", "-printer", "priority>=", "created>yesterday"] {
        let r = app.get(&format!("/api/v1/cases?q={}", urlencode(q))).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec!["q"], "q={q:?}");
    }
    let r = app.get(&format!("/api/v1/cases?q={}", urlencode("printer)("))).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
