//! The external-visitors API (seed 002) and its signing keys: a host application, with its API
//! token, reads the cases of a visitor it names with a JWT signed by one of the organization's
//! keys. Every status code the seed lists, paging and ordering, internal notes never shown,
//! organizations kept apart, key rotation and revocation, token expiry on a manual clock.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, spawn_app, spawn_app_at};

/// RFC 8037 A.1's Ed25519 key pair.
const ED_PRIVATE: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED_PUBLIC: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

pub(crate) fn hs256(kid: &str, secret: &[u8], claims: &Value) -> String {
    let signed = format!("{}.{}", b64(&json!({"alg": "HS256", "typ": "JWT", "kid": kid})), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn eddsa(kid: &str, claims: &Value) -> String {
    let d: [u8; 32] = URL_SAFE_NO_PAD.decode(ED_PRIVATE).unwrap().try_into().unwrap();
    let signed = format!("{}.{}", b64(&json!({"alg": "EdDSA", "kid": kid})), b64(claims));
    let sig = ed25519_dalek::SigningKey::from_bytes(&d).sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// Claims for `visitor` valid for ten minutes from `now`.
pub(crate) fn claims(visitor: &str, now: Timestamp) -> Value {
    json!({"sub": visitor, "iat": now.as_second(), "exp": now.as_second() + 600})
}

/// Adds an HS256 key with this kid; returns its secret.
pub(crate) async fn hs_key(app: &TestApp, kid: &str) -> String {
    let r = app.post("/api/v1/signing-keys", json!({"alg": "HS256", "kid": kid})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["secret"].as_str().unwrap().to_string()
}

async fn contact(app: &TestApp, name: &str, external_id: &str) -> String {
    let r = app.post("/api/v1/contacts", json!({"name": name, "external_id": external_id})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn case_for(app: &TestApp, contact_id: &str, subject: &str) -> String {
    app.create_case(json!({"subject": subject, "contact_id": contact_id})).await["id"].as_str().unwrap().to_string()
}

fn cases_path(org: &str, jwt: &str) -> String {
    format!("/api/v1/orgs/{org}/external-visitors/{jwt}/cases")
}

fn ids(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn signing_keys_are_added_listed_and_revoked_by_admins() {
    let app = spawn_app().await;
    let hs =
        app.post("/api/v1/signing-keys", json!({"alg": "HS256", "kid": "host-2026", "description": "web app"})).await;
    assert_eq!(hs.status, StatusCode::CREATED, "{}", hs.body);
    assert!(hs.body["secret"].as_str().unwrap().starts_with("cdks_"), "a generated secret, shown once");
    assert_eq!((hs.body["alg"].as_str(), hs.body["active"].as_bool()), (Some("HS256"), Some(true)));
    assert!(hs.body["public_key"].is_null());
    let ed = app
        .post(
            "/api/v1/signing-keys",
            json!({"alg": "EdDSA", "kid": "ed-1", "public_key": {"kty": "OKP", "crv": "Ed25519", "x": ED_PUBLIC}}),
        )
        .await;
    assert_eq!(ed.status, StatusCode::CREATED, "{}", ed.body);
    assert!(ed.body.get("secret").is_none());
    assert_eq!(ed.body["public_key"]["x"], ED_PUBLIC);

    // The secret is never shown again.
    let one = app.get(&format!("/api/v1/signing-keys/{}", hs.body["id"].as_str().unwrap())).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.get("secret").is_none());
    let list = app.get("/api/v1/signing-keys").await;
    assert_eq!(ids(&list).len(), 2);
    assert!(!list.body.to_string().contains(hs.body["secret"].as_str().unwrap()));

    app.post("/api/v1/signing-keys", json!({"alg": "HS256", "kid": "host-2026"}))
        .await
        .assert_problem(409, "duplicate_kid");
    let bad = app.post("/api/v1/signing-keys", json!({"alg": "none"})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["alg"]);
    let bad = app
        .post(
            "/api/v1/signing-keys",
            json!({"alg": "EdDSA", "public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["public_key"]);
    let bad = app.post("/api/v1/signing-keys", json!({"alg": "HS256", "secret": "too short"})).await;
    assert_eq!(bad.error_fields(), ["secret"]);

    let (_, agent) = app.agent().await;
    app.call(Method::GET, "/api/v1/signing-keys", Some(&agent), None, &[]).await.assert_problem(403, "forbidden");

    let revoked = app.delete(&format!("/api/v1/signing-keys/{}", hs.body["id"].as_str().unwrap())).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.body["active"], false);
    assert!(revoked.body["revoked_at"].is_string());
    app.delete("/api/v1/signing-keys/sk_missing").await.assert_problem(404, "not_found");
}

#[tokio::test]
async fn visitor_cases_answer_every_status_code_of_seed_002() {
    let app = spawn_app().await;
    let now = Timestamp::now();
    let secret = hs_key(&app, "k1").await;
    let ana = contact(&app, "Ana", "visitor-1").await;
    let ann = contact(&app, "Ann", "visitor-1").await;
    let bo = contact(&app, "Bo", "visitor-2").await;
    let c1 = case_for(&app, &ana, "Printer jam").await;
    let c2 = case_for(&app, &ann, "Invoice copy").await;
    let bos = case_for(&app, &bo, "Bo's case").await;
    app.post(&format!("/api/v1/cases/{c1}/comments"), json!({"body": "We are on it."})).await;
    app.post(&format!("/api/v1/cases/{c1}/comments"), json!({"body": "INTERNAL: refund over limit", "internal": true}))
        .await;
    let jwt = hs256("k1", secret.as_bytes(), &claims("visitor-1", now));

    // 200: the cases of both contacts assigned to the visitor, oldest first by default.
    let list = app.get(&cases_path(&app.org_id, &jwt)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(ids(&list), [c1.clone(), c2.clone()]);
    assert_eq!(list.body["has_more"], false);
    assert_eq!(list.body["data"][0]["contact"]["id"], ana);
    assert!(list.body["data"][0].get("tags").is_none(), "agents' fields are not a customer's");
    let one = app.get(&format!("{}/{c1}", cases_path(&app.org_id, &jwt))).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body["subject"], "Printer jam");
    let bodies: Vec<&str> =
        one.body["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["We are on it."], "internal notes are never shown");
    assert!(!one.body.to_string().contains("INTERNAL"));

    // 404: a visitor nobody is assigned to, and another visitor's case.
    let nobody = hs256("k1", secret.as_bytes(), &claims("visitor-9", now));
    app.get(&cases_path(&app.org_id, &nobody)).await.assert_problem(404, "not_found");
    app.get(&format!("{}/{bos}", cases_path(&app.org_id, &jwt))).await.assert_problem(404, "not_found");
    app.get(&format!("{}/case_missing", cases_path(&app.org_id, &jwt))).await.assert_problem(404, "not_found");

    // 400: malformed, expired, bad signature, unknown kid.
    for bad in [
        "not-a-jwt".to_string(),
        hs256("k1", secret.as_bytes(), &json!({"sub": "visitor-1", "exp": now.as_second() - 3600})),
        hs256("k1", b"another secret that is long enough!!", &claims("visitor-1", now)),
        hs256("k9", secret.as_bytes(), &claims("visitor-1", now)),
        hs256("k1", secret.as_bytes(), &json!({"sub": "visitor-1"})),
        hs256("k1", secret.as_bytes(), &json!({"sub": "visitor-1", "exp": now.as_second() + 2 * 86_400})),
    ] {
        let r = app.get(&cases_path(&app.org_id, &bad)).await;
        r.assert_problem(400, "invalid_visitor_token");
        app.get(&format!("{}/{c1}", cases_path(&app.org_id, &bad))).await.assert_problem(400, "invalid_visitor_token");
    }
    // A tampered payload: another visitor under visitor-1's signature.
    let parts: Vec<&str> = jwt.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims("visitor-2", now)), parts[2]);
    app.get(&cases_path(&app.org_id, &tampered)).await.assert_problem(400, "invalid_visitor_token");

    // 401: no API token, or a bad one.
    let path = cases_path(&app.org_id, &jwt);
    app.call(Method::GET, &path, None, None, &[]).await.assert_problem(401, "unauthorized");
    app.call(Method::GET, &path, Some("cdk_wrong"), None, &[]).await.assert_problem(401, "unauthorized");

    // 403: a token of another organization, and an organization without an active subscription.
    let (other_org, other_token) = app.other_org().await;
    app.call(Method::GET, &path, Some(&other_token), None, &[]).await.assert_problem(403, "organization_access_denied");
    app.get(&cases_path(&other_org, &jwt)).await.assert_problem(403, "organization_access_denied");
    app.core.set_org_status(&app.org_id, "suspended").await.unwrap();
    app.get(&path).await.assert_problem(403, "subscription_inactive");
    app.get(&format!("{path}/{c1}")).await.assert_problem(403, "subscription_inactive");
    app.core.set_org_status(&app.org_id, "active").await.unwrap();
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
    // Any role of the organization may read (the host's token is usually a service agent's).
    let (_, agent) = app.agent().await;
    assert_eq!(app.call(Method::GET, &path, Some(&agent), None, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn visitor_cases_page_and_order_by_creation_or_update() {
    let app = spawn_app().await;
    let secret = hs_key(&app, "k1").await;
    let ana = contact(&app, "Ana", "v-1").await;
    let mut made = Vec::new();
    for s in ["one", "two", "three"] {
        made.push(case_for(&app, &ana, s).await);
    }
    let jwt = hs256("k1", secret.as_bytes(), &json!({"external_id": "v-1", "exp": Timestamp::now().as_second() + 600}));
    let path = cases_path(&app.org_id, &jwt);
    let first = app.get(&format!("{path}?limit=2")).await;
    assert_eq!(ids(&first), made[..2]);
    assert_eq!(first.body["has_more"], true);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("{path}?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&rest), made[2..]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let newest = app.get(&format!("{path}?ordering=-created_at")).await;
    assert_eq!(ids(&newest), made.iter().rev().cloned().collect::<Vec<_>>());
    // Updating the first case moves it to the end of updated_at, to the front of -updated_at.
    let r = app.patch(&format!("/api/v1/cases/{}", made[0]), json!({"subject": "one, again"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let by_update = app.get(&format!("{path}?ordering=updated_at")).await;
    assert_eq!(ids(&by_update).last(), Some(&made[0]));
    let latest = app.get(&format!("{path}?ordering=-updated_at&limit=1")).await;
    assert_eq!(ids(&latest), [made[0].clone()]);
    let next = app
        .get(&format!("{path}?ordering=-updated_at&limit=1&cursor={}", latest.body["next_cursor"].as_str().unwrap()))
        .await;
    assert_eq!(next.body["data"].as_array().unwrap().len(), 1);
    assert_ne!(ids(&next), [made[0].clone()]);

    let bad = app.get(&format!("{path}?ordering=priority")).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.error_fields(), ["ordering"]);
    assert_eq!(app.get(&format!("{path}?foo=1")).await.error_fields(), ["foo"]);
}

#[tokio::test]
async fn eddsa_keys_rotate_without_downtime_and_refuse_algorithm_confusion() {
    let app = spawn_app().await;
    let now = Timestamp::now();
    let ana = contact(&app, "Ana", "v-1").await;
    let case = case_for(&app, &ana, "hello").await;
    let old_secret = hs_key(&app, "old").await;
    let ed = app
        .post(
            "/api/v1/signing-keys",
            json!({"alg": "EdDSA", "kid": "new", "public_key": json!({"kty": "OKP", "crv": "Ed25519", "x": ED_PUBLIC}).to_string()}),
        )
        .await;
    assert_eq!(ed.status, StatusCode::CREATED, "{}", ed.body);
    let old_jwt = hs256("old", old_secret.as_bytes(), &claims("v-1", now));
    let new_jwt = eddsa("new", &claims("v-1", now));
    // Both keys are active during the rotation.
    assert_eq!(ids(&app.get(&cases_path(&app.org_id, &old_jwt)).await), [case.as_str()]);
    assert_eq!(ids(&app.get(&cases_path(&app.org_id, &new_jwt)).await), [case.as_str()]);
    // Revoking the old key ends its tokens at once; the new key goes on.
    let old_id = app.get("/api/v1/signing-keys").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == "old")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(app.delete(&format!("/api/v1/signing-keys/{old_id}")).await.status, StatusCode::OK);
    app.get(&cases_path(&app.org_id, &old_jwt)).await.assert_problem(400, "invalid_visitor_token");
    assert_eq!(app.get(&cases_path(&app.org_id, &new_jwt)).await.status, StatusCode::OK);
    // An HS256 token "signed" with the Ed25519 public key as its secret is refused.
    let public = URL_SAFE_NO_PAD.decode(ED_PUBLIC).unwrap();
    let confused = hs256("new", &public, &claims("v-1", now));
    let r = app.get(&cases_path(&app.org_id, &confused)).await;
    r.assert_problem(400, "invalid_visitor_token");
    assert!(r.body["detail"].as_str().unwrap().contains("does not match"), "{}", r.body);
    // alg none is refused too.
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "new"})), b64(&claims("v-1", now)));
    app.get(&cases_path(&app.org_id, &none)).await.assert_problem(400, "invalid_visitor_token");
}

#[tokio::test]
async fn organizations_keep_their_visitors_and_keys_apart() {
    let app = spawn_app().await;
    let now = Timestamp::now();
    let secret = hs_key(&app, "shared-kid").await;
    let ana = contact(&app, "Ana", "v-1").await;
    let ours = case_for(&app, &ana, "ours").await;
    // Another organization: a contact with the same external id, and its own key of the same kid.
    let (other_org, other_token) = app.other_org().await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let token = other_token.clone();
        let app = &app;
        async move { app.call(method, &path, Some(&token), body.as_ref(), &[]).await }
    };
    let theirs_secret =
        call(Method::POST, "/api/v1/signing-keys".into(), Some(json!({"alg": "HS256", "kid": "shared-kid"})))
            .await
            .body["secret"]
            .as_str()
            .unwrap()
            .to_string();
    let zed = call(Method::POST, "/api/v1/contacts".into(), Some(json!({"name": "Zed", "external_id": "v-1"}))).await;
    let theirs =
        call(Method::POST, "/api/v1/cases".into(), Some(json!({"subject": "theirs", "contact_id": zed.body["id"]})))
            .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);

    let our_jwt = hs256("shared-kid", secret.as_bytes(), &claims("v-1", now));
    let their_jwt = hs256("shared-kid", theirs_secret.as_bytes(), &claims("v-1", now));
    assert_eq!(ids(&app.get(&cases_path(&app.org_id, &our_jwt)).await), [ours.as_str()]);
    let r = call(Method::GET, cases_path(&other_org, &their_jwt), None).await;
    assert_eq!(ids(&r), [theirs.body["id"].as_str().unwrap().to_string()]);
    // A token signed with the other organization's key does not verify here, and our case is
    // not theirs to read.
    app.get(&cases_path(&app.org_id, &their_jwt)).await.assert_problem(400, "invalid_visitor_token");
    call(Method::GET, format!("{}/{ours}", cases_path(&other_org, &their_jwt)), None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn visitor_tokens_expire_on_the_servers_clock() {
    let start = Timestamp::from_second(1_900_000_000).unwrap();
    let app = spawn_app_at(start).await;
    let secret = hs_key(&app, "k1").await;
    let ana = contact(&app, "Ana", "v-1").await;
    case_for(&app, &ana, "hello").await;
    let jwt = hs256("k1", secret.as_bytes(), &claims("v-1", start));
    let path = cases_path(&app.org_id, &jwt);
    assert_eq!(app.get(&path).await.status, StatusCode::OK);
    // Not valid before nbf (beyond the minute of leeway).
    let later = hs256(
        "k1",
        secret.as_bytes(),
        &json!({"sub": "v-1", "nbf": start.as_second() + 300, "exp": start.as_second() + 900}),
    );
    app.get(&cases_path(&app.org_id, &later)).await.assert_problem(400, "invalid_visitor_token");
    let clock = app.clock.clone().unwrap();
    clock.advance(SignedDuration::from_secs(400));
    assert_eq!(app.get(&cases_path(&app.org_id, &later)).await.status, StatusCode::OK, "valid from nbf on");
    clock.advance(SignedDuration::from_secs(300));
    let r = app.get(&path).await;
    r.assert_problem(400, "invalid_visitor_token");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{}", r.body);
}
