//! The directory over HTTP: users, tokens, accounts, contacts and case queues.
//!
//! Each is created, read, listed (two at a time, following `next_cursor` to the end), changed
//! and deleted, and each rule of `casedesk_core::directory` and the permission table is tried:
//! what agents may not do (403), what nobody may do (422, 409), tokens whose secret is shown
//! once and that stop working when revoked or when their user is deactivated, contacts named
//! after their email, records in use that cannot be deleted, and `Idempotency-Key` replays.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app};

/// Every item of a list read `limit` at a time, checking each page on the way: no page longer
/// than `limit`, `has_more` exactly when there is a `next_cursor`, full pages before the last,
/// and no item twice.
pub(crate) async fn all_pages(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let r = app.call(Method::GET, &url, Some(token), None, &[]).await;
        assert_eq!(r.status.as_u16(), 200, "GET {url}: {}", r.body);
        let data = r.body["data"].as_array().unwrap_or_else(|| panic!("GET {url}: data is a list: {}", r.body));
        assert!(data.len() <= limit as usize, "GET {url}: {} items on a page of {limit}", data.len());
        let has_more = r.body["has_more"].as_bool().expect("has_more is a boolean");
        let next = r.body["next_cursor"].as_str().map(str::to_string);
        assert_eq!(has_more, next.is_some(), "GET {url}: has_more {has_more} but next_cursor {:?}", next);
        if has_more {
            assert_eq!(data.len(), limit as usize, "GET {url}: a page before the last is full");
        }
        items.extend(data.iter().cloned());
        match next {
            Some(c) => cursor = Some(c),
            None => {
                let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().expect("an id")).collect();
                let unique: HashSet<&str> = ids.iter().copied().collect();
                assert_eq!(unique.len(), ids.len(), "{path}: an item appears on two pages: {ids:?}");
                return items;
            }
        }
    }
    panic!("{path}: the list never ended");
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().expect("id").to_string()).collect()
}

/// Walks `path` two at a time and checks it matches one big page, in order, and holds `expected`.
async fn assert_paginates(app: &TestApp, path: &str, expected: &[String]) {
    let paged = ids(&all_pages(app, &app.token, path, 2).await);
    let whole = app.get(&format!("{path}?limit=200")).await;
    assert_eq!(whole.status.as_u16(), 200, "{}", whole.body);
    assert_eq!(whole.body["has_more"], false);
    let whole = ids(whole.body["data"].as_array().expect("data"));
    assert_eq!(paged, whole, "{path}: pages of 2 and one page list the same items in the same order");
    for id in expected {
        assert!(paged.contains(id), "{path} lists {id}");
    }
    assert!(paged.len() > 2, "{path}: enough items to need several pages ({})", paged.len());
}

#[track_caller]
fn created(r: &Resp, what: &str) -> String {
    assert_eq!(r.status.as_u16(), 201, "create {what}: {}", r.body);
    r.body["id"].as_str().unwrap_or_else(|| panic!("{what} has an id: {}", r.body)).to_string()
}

#[track_caller]
fn assert_invalid(r: &Resp, field: &str) {
    r.assert_problem(422, "validation_failed");
    assert!(r.error_fields().iter().any(|f| f == field), "422 names {field}: {}", r.body);
}

/// Whether any string anywhere in `v` equals or contains `secret`.
fn mentions(v: &Value, secret: &str) -> bool {
    match v {
        Value::String(s) => s.contains(secret),
        Value::Array(a) => a.iter().any(|x| mentions(x, secret)),
        Value::Object(o) => o.iter().any(|(k, x)| k.contains(secret) || mentions(x, secret)),
        _ => false,
    }
}

async fn as_token(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    app.call(method, path, Some(token), body.as_ref(), &[]).await
}

// ---- users ------------------------------------------------------------------------------------

#[tokio::test]
async fn users_are_created_read_listed_changed_and_deactivated() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/users", json!({"email": "Lena@Example.com", "name": "Lena", "role": "admin"})).await;
    let lena = created(&r, "user");
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/users/{lena}").as_str()));
    assert_eq!(r.body["email"], "lena@example.com", "emails are lower-cased");
    assert_eq!(r.body["role"], "admin");
    assert_eq!(r.body["availability"], "available");
    assert_eq!(r.body["is_active"], true);
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());

    // Defaults: an agent named after the email.
    let r = app.post("/api/v1/users", json!({"email": "omar@example.com"})).await;
    let omar = created(&r, "user");
    assert_eq!(r.body["name"], "omar@example.com");
    assert_eq!(r.body["role"], "agent");
    let mut all = vec![lena.clone(), omar.clone(), app.admin_id.clone()];
    for i in 0..3 {
        all.push(created(&app.post("/api/v1/users", json!({"email": format!("u{i}@example.com")})).await, "user"));
    }

    let r = app.get(&format!("/api/v1/users/{lena}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["name"], "Lena");
    assert_paginates(&app, "/api/v1/users", &all).await;

    let r = app
        .patch(&format!("/api/v1/users/{omar}"), json!({"name": "Omar F", "role": "admin", "availability": "away"}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["role"].as_str(), r.body["availability"].as_str()),
        (Some("Omar F"), Some("admin"), Some("away"))
    );
    let r = app.get(&format!("/api/v1/users/{omar}")).await;
    assert_eq!(r.body["role"], "admin", "the change is stored");

    assert_invalid(&app.patch(&format!("/api/v1/users/{omar}"), json!({"role": "owner"})).await, "role");
    assert_invalid(
        &app.patch(&format!("/api/v1/users/{omar}"), json!({"availability": "asleep"})).await,
        "availability",
    );
    assert_invalid(&app.post("/api/v1/users", json!({"email": "not-an-email"})).await, "email");
    assert_invalid(
        &app.post("/api/v1/users", json!({"email": "p@example.com", "password": "short"})).await,
        "password",
    );

    let r = app.delete(&format!("/api/v1/users/{lena}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["is_active"], false);
    let r = app.get(&format!("/api/v1/users/{lena}")).await;
    assert_eq!(r.body["is_active"], false, "a deactivated user stays, inactive");
    app.get("/api/v1/users/usr_0000000000007000800000000000dead").await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn agents_cannot_manage_users_but_change_their_own_name_and_availability() {
    let app = spawn_app().await;
    let (agent_id, agent) = app.agent().await;

    let r = as_token(&app, Method::POST, "/api/v1/users", &agent, Some(json!({"email": "x@example.com"}))).await;
    r.assert_problem(403, "forbidden");
    let admin_path = format!("/api/v1/users/{}", app.admin_id);
    as_token(&app, Method::PATCH, &admin_path, &agent, Some(json!({"role": "agent"})))
        .await
        .assert_problem(403, "forbidden");
    as_token(&app, Method::PATCH, &admin_path, &agent, Some(json!({"name": "Pwned"})))
        .await
        .assert_problem(403, "forbidden");
    as_token(&app, Method::DELETE, &admin_path, &agent, None).await.assert_problem(403, "forbidden");
    let own = format!("/api/v1/users/{agent_id}");
    as_token(&app, Method::PATCH, &own, &agent, Some(json!({"role": "admin"}))).await.assert_problem(403, "forbidden");
    as_token(&app, Method::PATCH, &own, &agent, Some(json!({"email": "new@example.com"})))
        .await
        .assert_problem(403, "forbidden");
    let admin = app.get(&admin_path).await;
    assert_eq!(
        (admin.body["role"].as_str(), admin.body["name"].as_str()),
        (Some("admin"), Some("Administrator")),
        "the admin is untouched"
    );

    // Agents read the directory.
    let r = as_token(&app, Method::GET, "/api/v1/users", &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    for availability in ["away", "offline", "available"] {
        let r = as_token(&app, Method::PATCH, &own, &agent, Some(json!({"availability": availability}))).await;
        assert_eq!(r.status.as_u16(), 200, "{availability}: {}", r.body);
        assert_eq!(r.body["availability"], availability);
        assert_eq!(app.get(&own).await.body["availability"], availability, "stored");
    }
    let r = as_token(&app, Method::PATCH, &own, &agent, Some(json!({"name": "Agent Smith"}))).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["name"], "Agent Smith");
    assert_eq!(r.body["role"], "agent");
    assert_invalid(
        &as_token(&app, Method::PATCH, &own, &agent, Some(json!({"availability": "lunch"}))).await,
        "availability",
    );
}

#[tokio::test]
async fn an_admin_cannot_deactivate_or_demote_themselves() {
    let app = spawn_app().await;
    let me = format!("/api/v1/users/{}", app.admin_id);
    assert_invalid(&app.delete(&me).await, "is_active");
    assert_invalid(&app.patch(&me, json!({"is_active": false})).await, "is_active");
    assert_invalid(&app.patch(&me, json!({"role": "agent"})).await, "role");
    let r = app.get(&me).await;
    assert_eq!(r.status.as_u16(), 200, "the admin's token still works: {}", r.body);
    assert_eq!((r.body["is_active"].as_bool(), r.body["role"].as_str()), (Some(true), Some("admin")));
}

#[tokio::test]
async fn deactivating_a_user_stops_their_tokens_and_reactivating_restores_them() {
    let app = spawn_app().await;
    let (agent_id, agent) = app.agent().await;
    let r = as_token(&app, Method::GET, "/api/v1/cases", &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "the agent's token works: {}", r.body);

    let r = app.delete(&format!("/api/v1/users/{agent_id}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    as_token(&app, Method::GET, "/api/v1/cases", &agent, None).await.assert_problem(401, "unauthorized");
    as_token(&app, Method::GET, "/api/v1/users", &agent, None).await.assert_problem(401, "unauthorized");

    let r = app.patch(&format!("/api/v1/users/{agent_id}"), json!({"is_active": true})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let r = as_token(&app, Method::GET, "/api/v1/cases", &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "reactivated: {}", r.body);
}

#[tokio::test]
async fn a_duplicate_email_is_a_conflict() {
    let app = spawn_app().await;
    created(&app.post("/api/v1/users", json!({"email": "dup@example.com"})).await, "user");
    app.post("/api/v1/users", json!({"email": "dup@example.com"})).await.assert_problem(409, "duplicate");
    app.post("/api/v1/users", json!({"email": "DUP@Example.com"})).await.assert_problem(409, "duplicate");
    app.post("/api/v1/users", json!({"email": "admin@example.com"})).await.assert_problem(409, "duplicate");
    let other = created(&app.post("/api/v1/users", json!({"email": "other@example.com"})).await, "user");
    app.patch(&format!("/api/v1/users/{other}"), json!({"email": "dup@example.com"}))
        .await
        .assert_problem(409, "duplicate");
    assert_eq!(app.get(&format!("/api/v1/users/{other}")).await.body["email"], "other@example.com");
}

// ---- tokens -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_secret_is_shown_once_works_and_stops_when_revoked() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/tokens", json!({"name": "ci"})).await;
    let id = created(&r, "token");
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/tokens/{id}").as_str()));
    let secret = r.body["secret"].as_str().expect("the secret is shown on creation").to_string();
    assert!(secret.starts_with("cdk_") && secret.len() >= 32, "secret {secret}");
    assert_eq!(r.body["user_id"], app.admin_id.as_str(), "a token is the caller's by default");
    assert_eq!(r.body["name"], "ci");
    let prefix = r.body["prefix"].as_str().expect("prefix");
    assert!(secret.starts_with(prefix) && prefix.len() < secret.len(), "prefix {prefix}");
    assert!(r.body["revoked_at"].is_null() && r.body["expires_at"].is_null());

    // The new token works, as the same user.
    let r = as_token(&app, Method::GET, &format!("/api/v1/users/{}", app.admin_id), &secret, None).await;
    assert_eq!(r.status.as_u16(), 200, "the new token works: {}", r.body);

    // No list ever shows the secret again.
    for _ in 0..3 {
        created(&app.post("/api/v1/tokens", json!({"name": "filler"})).await, "token");
    }
    let listed = all_pages(&app, &app.token, "/api/v1/tokens", 2).await;
    assert!(ids(&listed).contains(&id), "the token is listed");
    let whole = app.get("/api/v1/tokens?limit=200").await;
    for (what, v) in [("paged list", &Value::Array(listed.clone())), ("list", &whole.body)] {
        assert!(!mentions(v, &secret), "the {what} shows the secret: {v}");
        assert!(!mentions(v, crate::helpers::ADMIN_TOKEN), "the {what} shows the bootstrap secret: {v}");
        assert!(!v.to_string().contains("\"secret\""), "the {what} has a secret field: {v}");
    }
    assert_paginates(&app, "/api/v1/tokens", std::slice::from_ref(&id)).await;

    let r = app.delete(&format!("/api/v1/tokens/{id}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(r.body["revoked_at"].is_string(), "revoked_at is set: {}", r.body);
    assert!(!mentions(&r.body, &secret));
    as_token(&app, Method::GET, "/api/v1/cases", &secret, None).await.assert_problem(401, "unauthorized");
    let r = app.get("/api/v1/tokens?limit=200").await;
    let t = r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .expect("still listed");
    assert!(t["revoked_at"].is_string(), "listed as revoked: {t}");
    app.delete("/api/v1/tokens/tok_0000000000007000800000000000dead").await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_agent_sees_and_revokes_only_their_own_tokens() {
    let app = spawn_app().await;
    let (agent_id, agent) = app.agent().await;
    let r = as_token(&app, Method::POST, "/api/v1/tokens", &agent, Some(json!({"name": "mine"}))).await;
    let own = created(&r, "agent token");
    assert_eq!(r.body["user_id"], agent_id.as_str());
    let second = r.body["secret"].as_str().expect("secret").to_string();
    let r = as_token(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &agent,
        Some(json!({"name": "admin's", "user_id": app.admin_id})),
    )
    .await;
    r.assert_problem(403, "forbidden");

    let listed = all_pages(&app, &agent, "/api/v1/tokens", 200).await;
    assert_eq!(listed.len(), 2, "the agent's two tokens: {listed:?}");
    assert!(listed.iter().all(|t| t["user_id"] == agent_id.as_str()), "only the agent's tokens: {listed:?}");
    assert!(ids(&listed).contains(&own));

    let admin_tokens = all_pages(&app, &app.token, "/api/v1/tokens", 200).await;
    let admin_token = admin_tokens
        .iter()
        .find(|t| t["user_id"] == app.admin_id.as_str())
        .and_then(|t| t["id"].as_str())
        .expect("the admin's bootstrap token is listed")
        .to_string();
    assert!(admin_tokens.len() >= 3, "the admin sees every token of the organization");
    as_token(&app, Method::DELETE, &format!("/api/v1/tokens/{admin_token}"), &agent, None)
        .await
        .assert_problem(404, "not_found");
    let r = app.get("/api/v1/users").await;
    assert_eq!(r.status.as_u16(), 200, "the admin's token still works: {}", r.body);

    // An agent revokes their own.
    let r = as_token(&app, Method::DELETE, &format!("/api/v1/tokens/{own}"), &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    as_token(&app, Method::GET, "/api/v1/cases", &second, None).await.assert_problem(401, "unauthorized");
    let r = as_token(&app, Method::GET, "/api/v1/cases", &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "the agent's other token still works: {}", r.body);
}

#[tokio::test]
async fn a_token_must_expire_in_the_future() {
    let app = spawn_app().await;
    assert_invalid(
        &app.post("/api/v1/tokens", json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"})).await,
        "expires_at",
    );
    assert_invalid(
        &app.post("/api/v1/tokens", json!({"name": "bad", "expires_at": "next tuesday"})).await,
        "expires_at",
    );
    assert_invalid(&app.post("/api/v1/tokens", json!({"name": "  "})).await, "name");
    let r = app.post("/api/v1/tokens", json!({"name": "later", "expires_at": "2999-01-01T00:00:00Z"})).await;
    created(&r, "token");
    assert_eq!(r.body["expires_at"], "2999-01-01T00:00:00Z");
    let secret = r.body["secret"].as_str().expect("secret");
    let r = as_token(&app, Method::GET, "/api/v1/cases", secret, None).await;
    assert_eq!(r.status.as_u16(), 200, "a token that expires later works now: {}", r.body);
}

// ---- accounts ---------------------------------------------------------------------------------

#[tokio::test]
async fn accounts_are_created_read_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/accounts", json!({"name": "Globex", "domain": "Globex.COM", "tier": "VIP"})).await;
    let globex = created(&r, "account");
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/accounts/{globex}").as_str()));
    assert_eq!(
        (r.body["name"].as_str(), r.body["domain"].as_str(), r.body["tier"].as_str()),
        (Some("Globex"), Some("globex.com"), Some("vip"))
    );
    let mut all = vec![globex.clone()];
    for i in 0..4 {
        all.push(created(&app.post("/api/v1/accounts", json!({"name": format!("Account {i}")})).await, "account"));
    }
    let r = app.get(&format!("/api/v1/accounts/{globex}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["domain"], "globex.com");
    assert_paginates(&app, "/api/v1/accounts", &all).await;

    let r = app.patch(&format!("/api/v1/accounts/{globex}"), json!({"name": "Globex Corp", "domain": null})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["domain"].as_str(), r.body["tier"].as_str()),
        (Some("Globex Corp"), None, Some("vip"))
    );
    assert_eq!(app.get(&format!("/api/v1/accounts/{globex}")).await.body["name"], "Globex Corp");
    assert_invalid(&app.post("/api/v1/accounts", json!({"domain": "x.com"})).await, "name");
    assert_invalid(&app.patch(&format!("/api/v1/accounts/{globex}"), json!({"name": ""})).await, "name");

    let (_, agent) = app.agent().await;
    let r = as_token(&app, Method::POST, "/api/v1/accounts", &agent, Some(json!({"name": "By agent"}))).await;
    created(&r, "account by an agent");
    as_token(&app, Method::DELETE, &format!("/api/v1/accounts/{globex}"), &agent, None)
        .await
        .assert_problem(403, "forbidden");

    let r = app.delete(&format!("/api/v1/accounts/{globex}")).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    app.get(&format!("/api/v1/accounts/{globex}")).await.assert_problem(404, "not_found");
    app.delete(&format!("/api/v1/accounts/{globex}")).await.assert_problem(404, "not_found");
}

// ---- contacts ---------------------------------------------------------------------------------

#[tokio::test]
async fn contacts_are_created_listed_filtered_changed_and_deleted() {
    let app = spawn_app().await;
    let acme = created(&app.post("/api/v1/accounts", json!({"name": "Acme"})).await, "account");
    let r = app
        .post("/api/v1/contacts", json!({"name": "Ana", "email": "Ana@Acme.com", "phone": "+1 555 0100", "account_id": acme, "external_id": "ext-ana"}))
        .await;
    let ana = created(&r, "contact");
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/contacts/{ana}").as_str()));
    assert_eq!(r.body["email"], "ana@acme.com");
    assert_eq!(r.body["account_id"], acme.as_str());
    let bo = created(
        &app.post("/api/v1/contacts", json!({"name": "Bo", "email": "bo@acme.com", "account_id": acme})).await,
        "contact",
    );
    let cy = created(
        &app.post("/api/v1/contacts", json!({"name": "Cy", "email": "cy@else.com", "external_id": "ext-cy"})).await,
        "contact",
    );
    let di = created(&app.post("/api/v1/contacts", json!({"phone": "+1 555 0199"})).await, "contact");
    assert_eq!(app.get(&format!("/api/v1/contacts/{di}")).await.body["name"], "+1 555 0199", "named after the phone");
    assert_paginates(&app, "/api/v1/contacts", &[ana.clone(), bo.clone(), cy.clone(), di.clone()]).await;

    let filtered = |q: String| {
        let app = &app;
        async move {
            let mut v = ids(&all_pages(app, &app.token, &format!("/api/v1/contacts?{q}"), 2).await);
            v.sort();
            v
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(filtered(format!("account_id={acme}")).await, sorted(vec![ana.clone(), bo.clone()]));
    assert_eq!(filtered("email=ana%40acme.com".into()).await, [ana.as_str()]);
    assert_eq!(filtered("email=ANA%40Acme.com".into()).await, [ana.as_str()], "the email filter ignores case");
    assert_eq!(filtered("external_id=ext-cy".into()).await, [cy.as_str()]);
    assert_eq!(filtered(format!("account_id={acme}&external_id=ext-ana")).await, [ana.as_str()], "filters combine");
    assert!(filtered("email=nobody%40acme.com".into()).await.is_empty());
    assert_invalid(&app.get("/api/v1/contacts?name=Ana").await, "name");

    let r = app
        .patch(
            &format!("/api/v1/contacts/{bo}"),
            json!({"name": "Bo Brown", "account_id": null, "phone": "+1 555 0111"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["account_id"].as_str(), r.body["phone"].as_str()),
        (Some("Bo Brown"), None, Some("+1 555 0111"))
    );
    assert_eq!(filtered(format!("account_id={acme}")).await, [ana.as_str()], "moved out of the account");
    let r = app
        .patch(&format!("/api/v1/contacts/{bo}"), json!({"account_id": "acc_0000000000007000800000000000dead"}))
        .await;
    assert_invalid(&r, "account_id");

    let r = app.delete(&format!("/api/v1/contacts/{cy}")).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    app.get(&format!("/api/v1/contacts/{cy}")).await.assert_problem(404, "not_found");
    assert!(filtered("external_id=ext-cy".into()).await.is_empty());
}

#[tokio::test]
async fn a_contact_with_only_an_email_is_named_after_it_and_emails_are_checked() {
    let app = spawn_app().await;
    let r = app.post("/api/v1/contacts", json!({"email": "Solo@Example.com"})).await;
    let solo = created(&r, "contact");
    assert_eq!(r.body["name"], "solo@example.com");
    assert_eq!(r.body["email"], "solo@example.com");
    assert_eq!(app.get(&format!("/api/v1/contacts/{solo}")).await.body["name"], "solo@example.com");

    for bad in ["not-an-email", "a@", "@b.com", "two words@x.com"] {
        assert_invalid(&app.post("/api/v1/contacts", json!({"name": "Bad", "email": bad})).await, "email");
    }
    assert_invalid(&app.patch(&format!("/api/v1/contacts/{solo}"), json!({"email": "nope"})).await, "email");
    assert_eq!(app.get(&format!("/api/v1/contacts/{solo}")).await.body["email"], "solo@example.com", "unchanged");
    assert_invalid(&app.post("/api/v1/contacts", json!({})).await, "name");
    assert_invalid(
        &app.post("/api/v1/contacts", json!({"name": "X", "account_id": "acc_0000000000007000800000000000dead"})).await,
        "account_id",
    );
}

#[tokio::test]
async fn accounts_contacts_and_queues_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let account = created(&app.post("/api/v1/accounts", json!({"name": "Busy"})).await, "account");
    let contact =
        created(&app.post("/api/v1/contacts", json!({"name": "Busy Bee", "account_id": account})).await, "contact");
    let queue = created(&app.post("/api/v1/case-queues", json!({"name": "Busy queue"})).await, "queue");
    let case = app.create_case(json!({"subject": "In use", "contact_id": contact, "queue_id": queue})).await;
    assert_eq!(case["account_id"], account.as_str(), "the case takes the contact's account");

    app.delete(&format!("/api/v1/accounts/{account}")).await.assert_problem(409, "in_use");
    app.delete(&format!("/api/v1/contacts/{contact}")).await.assert_problem(409, "in_use");
    app.delete(&format!("/api/v1/case-queues/{queue}")).await.assert_problem(409, "in_use");
    for path in [
        format!("/api/v1/accounts/{account}"),
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/case-queues/{queue}"),
    ] {
        assert_eq!(app.get(&path).await.status.as_u16(), 200, "{path} is still there");
    }

    // An account is in use by its contacts too; once they are gone it can be deleted.
    let lonely = created(&app.post("/api/v1/accounts", json!({"name": "Lonely"})).await, "account");
    let member =
        created(&app.post("/api/v1/contacts", json!({"name": "Member", "account_id": lonely})).await, "contact");
    app.delete(&format!("/api/v1/accounts/{lonely}")).await.assert_problem(409, "in_use");
    assert_eq!(app.delete(&format!("/api/v1/contacts/{member}")).await.status.as_u16(), 204);
    assert_eq!(app.delete(&format!("/api/v1/accounts/{lonely}")).await.status.as_u16(), 204);
}

// ---- queues -----------------------------------------------------------------------------------

#[tokio::test]
async fn queues_are_created_as_seed_000_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let seed = json!({"name": "Tier 1 Support", "description": "First-line support for general inquiries", "assignment_method": "round_robin"});
    let r = app.post("/api/v1/case-queues", seed.clone()).await;
    let tier1 = created(&r, "queue");
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/case-queues/{tier1}").as_str()));
    for field in ["name", "description", "assignment_method"] {
        assert_eq!(r.body[field], seed[field], "{field}");
    }
    let r = app.get(&format!("/api/v1/case-queues/{tier1}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    for field in ["name", "description", "assignment_method"] {
        assert_eq!(r.body[field], seed[field], "stored {field}");
    }

    let r = app.post("/api/v1/case-queues", json!({"name": "Defaults"})).await;
    let defaults = created(&r, "queue");
    assert_eq!((r.body["description"].as_str(), r.body["assignment_method"].as_str()), (Some(""), Some("manual")));
    let mut all = vec![tier1.clone(), defaults];
    for m in ["least_active", "skills"] {
        all.push(created(&app.post("/api/v1/case-queues", json!({"name": m, "assignment_method": m})).await, "queue"));
    }
    assert_paginates(&app, "/api/v1/case-queues", &all).await;

    assert_invalid(
        &app.post("/api/v1/case-queues", json!({"name": "Q", "assignment_method": "random"})).await,
        "assignment_method",
    );
    assert_invalid(&app.post("/api/v1/case-queues", json!({"description": "no name"})).await, "name");
    assert_invalid(
        &app.patch(&format!("/api/v1/case-queues/{tier1}"), json!({"assignment_method": "lottery"})).await,
        "assignment_method",
    );
    let r = app.patch(&format!("/api/v1/case-queues/{tier1}"), json!({"assignment_method": "least_active"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["assignment_method"].as_str()),
        (Some("Tier 1 Support"), Some("least_active"))
    );
    assert_eq!(app.get(&format!("/api/v1/case-queues/{tier1}")).await.body["assignment_method"], "least_active");

    let r = app.delete(&format!("/api/v1/case-queues/{tier1}")).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    app.get(&format!("/api/v1/case-queues/{tier1}")).await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn agents_list_queues_but_cannot_manage_them() {
    let app = spawn_app().await;
    let q = created(&app.post("/api/v1/case-queues", json!({"name": "Billing"})).await, "queue");
    let (_, agent) = app.agent().await;
    let path = format!("/api/v1/case-queues/{q}");
    as_token(&app, Method::POST, "/api/v1/case-queues", &agent, Some(json!({"name": "Mine"})))
        .await
        .assert_problem(403, "forbidden");
    as_token(&app, Method::PATCH, &path, &agent, Some(json!({"name": "Renamed"})))
        .await
        .assert_problem(403, "forbidden");
    as_token(&app, Method::DELETE, &path, &agent, None).await.assert_problem(403, "forbidden");

    let listed = all_pages(&app, &agent, "/api/v1/case-queues", 2).await;
    assert_eq!(ids(&listed), [q.as_str()], "the agent lists the queues");
    let r = as_token(&app, Method::GET, &path, &agent, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["name"], "Billing", "unchanged by the agent");
}

// ---- idempotency ------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_contact_with_an_idempotency_key_is_replayed_not_repeated() {
    let app = spawn_app().await;
    let body = json!({"name": "Retry Ray", "email": "ray@example.com"});
    let key = [("idempotency-key", "contact-ray-1")];
    let first = app.call(Method::POST, "/api/v1/contacts", Some(&app.token), Some(&body), &key).await;
    let id = created(&first, "contact");
    assert_eq!(first.header("idempotent-replayed"), None, "the first request is not a replay");
    let second = app.call(Method::POST, "/api/v1/contacts", Some(&app.token), Some(&body), &key).await;
    assert_eq!(created(&second, "replayed contact"), id, "the same contact both times");
    assert_eq!(second.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(second.body["name"], "Retry Ray");
    let r = app.get("/api/v1/contacts?email=ray%40example.com").await;
    assert_eq!(ids(r.body["data"].as_array().expect("data")), [id.as_str()], "only one contact was created");

    let other = json!({"name": "Someone Else", "email": "else@example.com"});
    let r = app.call(Method::POST, "/api/v1/contacts", Some(&app.token), Some(&other), &key).await;
    r.assert_problem(422, "idempotency_key_reused");
    let r = app.get("/api/v1/contacts?email=else%40example.com").await;
    assert_eq!(r.body["data"], json!([]), "nothing was created by the reused key");

    // Another key is another request.
    let r = app
        .call(Method::POST, "/api/v1/contacts", Some(&app.token), Some(&body), &[("idempotency-key", "contact-ray-2")])
        .await;
    assert_ne!(created(&r, "contact with a new key"), id);
}
