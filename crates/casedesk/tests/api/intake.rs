//! The voicemail pipeline (seed 000): transcribed messages become cases for the caller's
//! contact, found by phone number however the phone system writes it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_voicemail_becomes_a_case_for_the_contact_with_that_number() {
    let app = spawn_app().await;
    let known = app.post("/api/v1/contacts", json!({"name": "Ana Silva", "phone": "+1 (415) 555-0100"})).await;
    assert_eq!(known.status, StatusCode::CREATED, "{}", known.body);
    let q = app.post("/api/v1/case-queues", json!({"name": "Phones"})).await;
    let queue_id = q.body["id"].as_str().unwrap();

    let r = app
        .post(
            "/api/v1/intake/voicemail",
            json!({"caller_number": "4155550100", "transcript": "Hi, my router keeps rebooting. Call me back.",
                   "recording_url": "https://pbx.example/rec/771.mp3", "duration_seconds": 83, "queue_id": queue_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["channel"], "voicemail");
    assert_eq!(r.body["subject"], "Voicemail from Ana Silva (4155550100)");
    assert_eq!(r.body["contact_id"], known.body["id"], "matched by number however written");
    assert_eq!(r.body["requester_id"], known.body["id"]);
    assert_eq!(r.body["queue_id"], queue_id);
    let d = r.body["description"].as_str().unwrap();
    assert!(d.starts_with("Hi, my router keeps rebooting."), "{d}");
    assert!(d.contains("Recording: https://pbx.example/rec/771.mp3") && d.contains("Length: 1:23"), "{d}");

    // An unknown caller becomes a contact with that number; their next call finds it.
    let first = app
        .post("/api/v1/intake/voicemail", json!({"caller_number": "+44 20 7946 0958", "caller_name": "J SMITH"}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["subject"], "Voicemail from J SMITH (+44 20 7946 0958)");
    assert!(first.body["description"].as_str().unwrap().starts_with("(no transcript)"));
    let again = app
        .post("/api/v1/intake/voicemail", json!({"caller_number": "020 7946 0958", "transcript": "Me again."}))
        .await;
    assert_eq!(again.body["contact_id"], first.body["contact_id"]);
    assert_ne!(again.body["id"], first.body["id"], "each voicemail is a case");
    let found = app.get("/api/v1/contacts?phone=%2B44-20-7946-0958").await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1, "{}", found.body);
    assert_eq!(found.body["data"][0]["phone"], "+44 20 7946 0958");

    // A retried post with its key is the same case.
    let body = json!({"caller_number": "555 0199", "transcript": "Once."});
    let key = [("idempotency-key", "vm-1")];
    let a = app.call(Method::POST, "/api/v1/intake/voicemail", Some(&app.token), Some(&body), &key).await;
    let b = app.call(Method::POST, "/api/v1/intake/voicemail", Some(&app.token), Some(&body), &key).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
}

#[tokio::test]
async fn a_bad_voicemail_is_refused_by_field_and_makes_nothing() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/intake/voicemail",
            json!({"caller_number": "12", "recording_url": "ftp://pbx/x", "duration_seconds": -1}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["caller_number", "recording_url", "duration_seconds"]);
    let r = app.post("/api/v1/intake/voicemail", json!({"transcript": "who?"})).await;
    assert_eq!(r.error_fields(), ["caller_number"]);
    let r = app.post("/api/v1/intake/voicemail", json!({"caller_number": "5550100", "queue_id": "q_nope"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["queue_id"]);
    assert_eq!(app.get("/api/v1/cases").await.body["data"].as_array().unwrap().len(), 0);
    let contacts = app.get("/api/v1/contacts?phone=5550100").await;
    assert_eq!(contacts.body["data"].as_array().unwrap().len(), 0, "no contact from a refused voicemail");
}
