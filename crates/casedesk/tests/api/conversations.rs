//! Messaging channels (seeds 002, 004): a bot's escalated conversation becomes a case with its
//! transcript, later messages join it, the case counts the customer's unread messages, and an
//! agent's reply goes back to the channel's connector — a real receiver on loopback — signed and
//! retried like a webhook, with its delivery state on the timeline.

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};
use crate::webhooks::{Receiver, advance, advance_until, verifies};

const SECRET: &str = "chsec_test_secret_0123456789abcdef";

fn escalation(conversation_id: &str, messages: Value) -> Value {
    json!({
        "channel": "chat",
        "conversation_id": conversation_id,
        "messages": messages,
        "contact": {"email": "rosa@customer.example", "name": "Rosa Diaz"},
        "reason": "Refund for a double charge",
    })
}

async fn comments(app: &TestApp, case_id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cases/{case_id}/comments?limit=200")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

async fn case(app: &TestApp, case_id: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test]
async fn an_escalated_conversation_becomes_a_case_and_later_messages_join_it() {
    let app = spawn_app().await;
    let q = app.post("/api/v1/case-queues", json!({"name": "Chat"})).await;
    let queue_id = q.body["id"].as_str().unwrap();
    let mut body = escalation(
        "conv-1001",
        json!([
            {"from": "customer", "text": "I was charged twice", "at": "2026-03-02T09:00:00Z"},
            {"from": "bot", "text": "I can't refund that myself, let me get a person.", "at": "2026-03-02T09:00:05Z"},
            {"from": "customer", "text": "Order 4521", "at": "2026-03-02T09:00:20Z"},
        ]),
    );
    body["queue_id"] = json!(queue_id);
    let r = app.post("/api/v1/intake/conversations", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["opened"], true);
    let c = &r.body["case"];
    let case_id = c["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/cases/{case_id}").as_str()));
    assert_eq!(
        (c["channel"].as_str(), c["subject"].as_str(), c["queue_id"].as_str()),
        (Some("chat"), Some("Refund for a double charge"), Some(queue_id))
    );
    assert!(c["description"].as_str().unwrap().contains("conv-1001"), "{c}");
    assert_eq!(
        (c["latest_messaging_channel"].as_str(), c["channel_priority"].as_i64(), c["unread_message_count"].as_i64()),
        (Some("chat"), Some(3), Some(2)),
        "{c}"
    );
    assert_eq!(c["is_waiting"], true);
    // The contact was made from the address and name; the case is theirs.
    let found = app.get("/api/v1/contacts?email=rosa%40customer.example").await;
    let contact_id = found.body["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(found.body["data"][0]["name"], "Rosa Diaz");
    assert_eq!(
        (c["contact_id"].as_str(), c["requester_id"].as_str()),
        (Some(contact_id.as_str()), Some(contact_id.as_str()))
    );

    // The transcript is the first comments: the customer's as theirs, the bot's marked.
    let got = comments(&app, &case_id).await;
    let lines: Vec<(&str, &str, bool)> = got
        .iter()
        .map(|c| (c["author_type"].as_str().unwrap(), c["body"].as_str().unwrap(), c["internal"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            ("customer", "I was charged twice", false),
            ("system", "[Bot on chat] I can't refund that myself, let me get a person.", false),
            ("customer", "Order 4521", false),
        ]
    );
    assert_eq!(got[0]["author_id"], contact_id.as_str());
    let kinds: Vec<String> =
        app.timeline(&case_id).await.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "case.created").count(), 1, "{kinds:?}");

    // The channel resends the whole transcript with one new line: only that line joins.
    let again = escalation(
        "conv-1001",
        json!([
            {"from": "customer", "text": "I was charged twice", "at": "2026-03-02T09:00:00Z"},
            {"from": "bot", "text": "I can't refund that myself, let me get a person.", "at": "2026-03-02T09:00:05Z"},
            {"from": "customer", "text": "Order 4521", "at": "2026-03-02T09:00:20Z"},
            {"from": "customer", "text": "Anyone there?", "at": "2026-03-02T09:05:00Z"},
        ]),
    );
    let r = app.post("/api/v1/intake/conversations", again).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["opened"].as_bool(), r.body["case"]["id"].as_str()), (Some(false), Some(case_id.as_str())));
    assert_eq!(r.body["case"]["unread_message_count"], 3);
    let got = comments(&app, &case_id).await;
    assert_eq!(got.len(), 4, "{got:#?}");
    assert_eq!(got[3]["body"], "Anyone there?");

    // An agent reads the case: nothing unread; the next customer message counts again, and an
    // agent's reply answers it.
    let read = app.post(&format!("/api/v1/cases/{case_id}/read"), json!({})).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["unread_message_count"], 0);
    assert_eq!(case(&app, &case_id).await["unread_message_count"], 0);
    let more = escalation("conv-1001", json!([{"from": "customer", "text": "Hello?"}]));
    let r = app.post("/api/v1/intake/conversations", more).await;
    assert_eq!(r.body["case"]["unread_message_count"], 1, "{}", r.body);
    let note =
        app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "checking", "internal": true})).await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert_eq!(case(&app, &case_id).await["unread_message_count"], 1, "an internal note is no answer");
    let reply = app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Refund is on its way"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let now = case(&app, &case_id).await;
    assert_eq!((now["unread_message_count"].as_i64(), now["is_waiting"].as_bool()), (Some(0), Some(false)));

    // The same conversation id on another channel is another conversation.
    let mut sms = escalation("conv-1001", json!([{"from": "customer", "text": "texting too"}]));
    sms["channel"] = json!("sms");
    let r = app.post("/api/v1/intake/conversations", sms).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_ne!(r.body["case"]["id"], case_id.as_str());
    assert_eq!(
        (r.body["case"]["channel"].as_str(), r.body["case"]["channel_priority"].as_i64()),
        (Some("sms"), Some(2))
    );

    // A retried post with its Idempotency-Key answers the same, adding nothing.
    let body = escalation("conv-2002", json!([{"from": "customer", "text": "New question"}]));
    let key = [("idempotency-key", "conv-2002-a")];
    let a = app.call(Method::POST, "/api/v1/intake/conversations", Some(&app.token), Some(&body), &key).await;
    let b = app.call(Method::POST, "/api/v1/intake/conversations", Some(&app.token), Some(&body), &key).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{} {}", a.body, b.body);
    assert_eq!(a.body["case"]["id"], b.body["case"]["id"]);
    assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(comments(&app, a.body["case"]["id"].as_str().unwrap()).await.len(), 1);
    let other = escalation("conv-2002", json!([{"from": "customer", "text": "Different"}]));
    let c = app.call(Method::POST, "/api/v1/intake/conversations", Some(&app.token), Some(&other), &key).await;
    assert_eq!(c.status, StatusCode::UNPROCESSABLE_ENTITY, "the same key with another body: {}", c.body);
}

#[tokio::test]
async fn a_message_after_the_case_closed_opens_a_linked_follow_up() {
    let app = spawn_app().await;
    let first = escalation("conv-77", json!([{"from": "customer", "text": "Broken login"}]));
    let r = app.post("/api/v1/intake/conversations", first).await;
    let closed_id = r.body["case"]["id"].as_str().unwrap().to_string();
    let c = app.patch(&format!("/api/v1/cases/{closed_id}"), json!({"status": "closed"})).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);

    let later = escalation("conv-77", json!([{"from": "customer", "text": "Broken again"}]));
    let r = app.post("/api/v1/intake/conversations", later).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let follow_up = r.body["case"]["id"].as_str().unwrap().to_string();
    assert_ne!(follow_up, closed_id);
    let links = app.get(&format!("/api/v1/cases/{follow_up}/links")).await;
    assert_eq!(links.status, StatusCode::OK, "{}", links.body);
    let linked: Vec<(&str, &str)> = links.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["type"].as_str().unwrap(), l["case"]["id"].as_str().unwrap()))
        .collect();
    assert_eq!(linked, [("related", closed_id.as_str())]);
    assert_eq!(comments(&app, &closed_id).await.len(), 1, "the closed case is left alone");
    assert_eq!(comments(&app, &follow_up).await[0]["body"], "Broken again");

    // The conversation now feeds the follow-up.
    let next = escalation("conv-77", json!([{"from": "customer", "text": "Still broken"}]));
    let r = app.post("/api/v1/intake/conversations", next).await;
    assert_eq!((r.status, r.body["case"]["id"].as_str()), (StatusCode::OK, Some(follow_up.as_str())), "{}", r.body);
}

#[tokio::test]
async fn a_bad_conversation_is_refused_naming_the_field_and_leaves_nothing() {
    let app = spawn_app().await;
    let count = async |app: &TestApp| app.get("/api/v1/cases?limit=200").await.body["data"].as_array().unwrap().len();
    let contacts =
        async |app: &TestApp| app.get("/api/v1/contacts?limit=200").await.body["data"].as_array().unwrap().len();
    let (cases_before, contacts_before) = (count(&app).await, contacts(&app).await);
    let ok = escalation("conv-x", json!([{"from": "customer", "text": "hi"}]));
    let with = |patch: Value| {
        let mut b = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, field) in [
        (with(json!({"channel": "email"})), "channel"),
        (with(json!({"channel": ""})), "channel"),
        (with(json!({"conversation_id": "  "})), "conversation_id"),
        (with(json!({"messages": []})), "messages"),
        (with(json!({"messages": [{"from": "robot", "text": "x"}]})), "messages[0].from"),
        (
            with(json!({"messages": [{"from": "customer", "text": "ok"}, {"from": "bot", "text": " "}]})),
            "messages[1].text",
        ),
        (with(json!({"messages": [{"from": "customer", "text": "x", "at": "yesterday"}]})), "messages[0].at"),
        (with(json!({"contact": {}})), "contact"),
        (with(json!({"contact": {"email": "not an address"}})), "contact.email"),
        (with(json!({"contact": {"phone": "12"}})), "contact.phone"),
        (with(json!({"contact": {"id": "cnt_0000000000007000800000000000dead"}})), "contact.id"),
        (with(json!({"queue_id": "q_0000000000007000800000000000dead"})), "queue_id"),
    ] {
        let r = app.post("/api/v1/intake/conversations", body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.error_fields().contains(&field.to_string()), "{field}: {} for {body}", r.body);
    }
    let r = app.post("/api/v1/intake/conversations", json!({"channel": "chat", "transcript": "x"})).await;
    assert_eq!(r.status.as_u16() / 100, 4, "unknown fields are refused: {}", r.body);
    assert_eq!((count(&app).await, contacts(&app).await), (cases_before, contacts_before), "nothing was written");
}

async fn channel_deliveries(app: &TestApp, case_id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cases/{case_id}/channel-deliveries")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

async fn wait_for_deliveries(app: &TestApp, case_id: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = channel_deliveries(app, case_id).await;
        if done(&log) {
            return log;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; log {log:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_agents_reply_on_a_chat_case_reaches_the_connector_signed_and_retried() {
    let app = spawn_app_at("2026-03-02T09:00:00Z".parse().unwrap()).await;
    let receiver = Receiver::start(2).await;
    let k = app
        .post("/api/v1/channel-connectors", json!({"channel": "chat", "url": receiver.url(), "secret": SECRET}))
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.body);
    assert_eq!((k.body["channel"].as_str(), k.body["secret"].as_str()), (Some("chat"), Some(SECRET)));

    let r = app
        .post("/api/v1/intake/conversations", escalation("conv-9", json!([{"from": "customer", "text": "Help"}])))
        .await;
    let case_id = r.body["case"]["id"].as_str().unwrap().to_string();
    // Neither an internal note nor the customer's own words go out; the agent's reply does.
    app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "looks like a refund", "internal": true}))
        .await;
    let reply = app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Refunded, sorry!"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply_id = reply.body["id"].as_str().unwrap();
    // An email case's reply is not the connector's.
    let email_case = app.create_case(json!({"subject": "By mail", "channel": "email"})).await;
    let email_id = email_case["id"].as_str().unwrap();
    app.post(&format!("/api/v1/cases/{email_id}/comments"), json!({"body": "Mail answer"})).await;

    for n in 1..=2 {
        receiver.wait_until(&format!("attempt {n}"), |got| got.len() >= n).await;
        wait_for_deliveries(&app, &case_id, "the failure recorded", |log| {
            log.len() == 1
                && log[0]["attempts"] == n
                && log[0]["status"] == "pending"
                && log[0]["response_status"] == 500
        })
        .await;
        advance(&app, SignedDuration::from_hours(2));
    }
    let got = advance_until(&app, &receiver, SignedDuration::from_hours(2), "the reply delivered", async || {
        let got = receiver.received();
        got.iter().any(|r| r.answered == 204).then_some(got)
    })
    .await;
    assert_eq!(got.len(), 3, "two failures and a success: {got:#?}");
    for r in &got {
        assert!(verifies(SECRET, &r.signature, &r.body), "signature {} of {}", r.signature, r.body);
        assert!(!verifies("chsec_another_secret_0000000000000", &r.signature, &r.body));
        assert_eq!(r.body, got[0].body, "every retry sends the same body");
    }
    let body = &got[0].json;
    assert_eq!(
        (body["case_id"].as_str(), body["conversation_id"].as_str(), body["channel"].as_str()),
        (Some(case_id.as_str()), Some("conv-9"), Some("chat")),
        "{body}"
    );
    assert_eq!(
        (body["message"]["id"].as_str(), body["message"]["text"].as_str()),
        (Some(reply_id), Some("Refunded, sorry!"))
    );
    assert!(got[0].delivery.starts_with("chd_"), "{:?}", got[0].delivery);

    let log =
        wait_for_deliveries(&app, &case_id, "delivered", |log| log.iter().any(|d| d["status"] == "delivered")).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!((log[0]["attempts"].as_i64(), log[0]["comment_id"].as_str()), (Some(3), Some(reply_id)));
    let timeline = app.timeline(&case_id).await;
    let sent: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "channel.sent").collect();
    assert_eq!(sent.len(), 1, "{timeline:#?}");
    assert_eq!(
        (sent[0]["data"]["comment_id"].as_str(), sent[0]["data"]["attempts"].as_i64()),
        (Some(reply_id), Some(3))
    );
    assert!(channel_deliveries(&app, email_id).await.is_empty(), "email cases keep going by email");

    // The connector's own log; an admin sends the delivered reply again, same event and body.
    let connector_id = k.body["id"].as_str().unwrap();
    let log = app.get(&format!("/api/v1/channel-connectors/{connector_id}/deliveries")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let first = log.body["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(log.body["data"].as_array().unwrap().len(), 1);
    let redeliver = format!("/api/v1/channel-connectors/{connector_id}/deliveries/{first}/redeliver");
    let again = app.post(&redeliver, json!({})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!((again.body["status"].as_str(), again.body["comment_id"].as_str()), (Some("pending"), Some(reply_id)));
    let got = receiver.wait_until("the redelivery", |got| got.len() == 4).await;
    assert_eq!(got[3].body, got[0].body, "the same reply, with the same event id");
    assert_ne!(got[3].delivery, got[2].delivery, "a delivery of its own");
    // Sent again and again: each is a delivery of its own.
    assert_eq!(app.post(&redeliver, json!({})).await.status, StatusCode::CREATED);
    // Another connector's path, or another organization, finds nothing.
    let (_, other) = app.other_org().await;
    let path = format!("/api/v1/channel-connectors/{connector_id}/deliveries");
    app.call(Method::GET, &path, Some(&other), None, &[]).await.assert_problem(404, "not_found");
    let wrong = "/api/v1/channel-connectors/chc_0000000000007000800000000000dead/deliveries";
    app.post(&format!("{wrong}/{first}/redeliver"), json!({})).await.assert_problem(404, "not_found");
    receiver.wait_until("the second redelivery", |got| got.len() == 5).await;
    receiver.stop();
}

#[tokio::test]
async fn a_reply_failing_for_a_day_is_given_up_on_the_timeline() {
    let app = spawn_app_at("2026-03-02T09:00:00Z".parse().unwrap()).await;
    let receiver = Receiver::start(usize::MAX).await;
    let k = app.post("/api/v1/channel-connectors", json!({"channel": "whatsapp", "url": receiver.url()})).await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.body);
    let mut body = escalation("wa-1", json!([{"from": "customer", "text": "Hola"}]));
    body["channel"] = json!("whatsapp");
    let r = app.post("/api/v1/intake/conversations", body).await;
    let case_id = r.body["case"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "Hola!"})).await;
    // Each attempt moves the clock on two hours, until the delivery is given up.
    let log = advance_until(&app, &receiver, SignedDuration::from_hours(2), "the delivery given up", async || {
        let log = channel_deliveries(&app, &case_id).await;
        (log.len() == 1 && log[0]["status"] == "failed").then_some(log)
    })
    .await;
    let attempts = receiver.received().len();
    assert!((2..40).contains(&attempts), "retried, then given up within a day: {attempts} attempts");
    assert_eq!(log[0]["attempts"], json!(receiver.received().len()), "every attempt counted: {log:#?}");
    let failed: Vec<Value> =
        app.timeline(&case_id).await.into_iter().filter(|e| e["kind"] == "channel.failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["error"], "the endpoint answered 500");

    // A day of failures switches the connector off, as a webhook, and tells its creator.
    let path = format!("/api/v1/channel-connectors/{}", k.body["id"].as_str().unwrap());
    let connector = app.get(&path).await.body;
    assert_eq!(connector["active"], false, "{connector}");
    assert!(connector["disabled_at"].is_string(), "{connector}");
    assert!(connector["disabled_reason"].as_str().unwrap().contains("failed for 24 hours"), "{connector}");
    let notes = app.get("/api/v1/notifications").await.body;
    let notes = notes["data"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let message = notes[0]["message"].as_str().unwrap();
    assert!(message.starts_with("The whatsapp connector to http://") && message.contains("switched off"), "{message}");
    // Switched back on, its failures are forgotten.
    let on = app.patch(&path, json!({"active": true})).await.body;
    assert_eq!(
        (on["active"].clone(), on["disabled_at"].clone(), on["failing_since"].clone()),
        (json!(true), Value::Null, Value::Null)
    );
    receiver.stop();
}

#[tokio::test]
async fn connectors_are_validated_and_managed_by_admins() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"channel": "email", "url": "https://x.example/in"}), "channel"),
        (json!({"channel": "sms"}), "url"),
        (json!({"channel": "sms", "url": "ftp://x.example"}), "url"),
        (json!({"channel": "sms", "url": "https://x.example", "secret": "short"}), "secret"),
    ] {
        let r = app.post("/api/v1/channel-connectors", body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.error_fields().contains(&field.to_string()), "{field}: {}", r.body);
    }
    let k = app.post("/api/v1/channel-connectors", json!({"channel": "sms", "url": "https://sms.example/out"})).await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.body);
    assert!(k.body["secret"].as_str().unwrap().starts_with("whsec_"), "a secret is made: {}", k.body);
    let id = k.body["id"].as_str().unwrap();
    let twice = app.post("/api/v1/channel-connectors", json!({"channel": "SMS", "url": "https://other.example"})).await;
    twice.assert_problem(409, "connector_exists");

    let got = app.get(&format!("/api/v1/channel-connectors/{id}")).await;
    assert_eq!(
        (got.body["url"].as_str(), got.body.get("secret")),
        (Some("https://sms.example/out"), None),
        "{}",
        got.body
    );
    let p = app
        .patch(&format!("/api/v1/channel-connectors/{id}"), json!({"url": "https://sms2.example/out", "active": false}))
        .await;
    assert_eq!(
        (p.body["url"].as_str(), p.body["active"].as_bool()),
        (Some("https://sms2.example/out"), Some(false)),
        "{}",
        p.body
    );
    let list = app.get("/api/v1/channel-connectors").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1, "{}", list.body);

    let (_, agent) = app.agent().await;
    let r = app.call(Method::GET, "/api/v1/channel-connectors", Some(&agent), None, &[]).await;
    r.assert_problem(403, "forbidden");

    let d = app.delete(&format!("/api/v1/channel-connectors/{id}")).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/channel-connectors/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_agent_answers_a_chat_case_by_another_channel_the_customer_has() {
    let app = spawn_app().await;
    let sink = crate::smtp_sink::SmtpSink::start().await;
    crate::email::set_up_mail(&app, &sink).await;
    let (chat, sms) = (Receiver::start(0).await, Receiver::start(0).await);
    for (channel, r) in [("chat", &chat), ("sms", &sms)] {
        let k = app.post("/api/v1/channel-connectors", json!({"channel": channel, "url": r.url()})).await;
        assert_eq!(k.status, StatusCode::CREATED, "{}", k.body);
    }
    let mut body = escalation("conv-7", json!([{"from": "customer", "text": "My parcel?"}]));
    body["contact"]["phone"] = json!("+1 555 0100");
    let r = app.post("/api/v1/intake/conversations", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let case_id = r.body["case"]["id"].as_str().unwrap().to_string();

    let choices = app.get(&format!("/api/v1/cases/{case_id}/reply-channels")).await.body;
    assert_eq!(choices, json!({"default": "chat", "channels": ["email", "chat", "sms"]}));

    // By SMS: to the SMS connector with the customer's number, not into the chat.
    let path = format!("/api/v1/cases/{case_id}/comments");
    let by_sms = app.post(&path, json!({"body": "Shipped today", "channel": "sms"})).await;
    assert_eq!((by_sms.status, by_sms.body["channel"].as_str()), (StatusCode::CREATED, Some("sms")), "{}", by_sms.body);
    let got = sms.wait_until("the SMS reply", |got| !got.is_empty()).await;
    let sent = &got[0].json;
    assert_eq!((sent["channel"].as_str(), sent["message"]["text"].as_str()), (Some("sms"), Some("Shipped today")));
    assert_eq!((sent["to"]["phone"].as_str(), sent["conversation_id"].clone()), (Some("+1 555 0100"), Value::Null));
    // By email: a message to her address through the outbox, nothing to a connector.
    let by_mail = app.post(&path, json!({"body": "Tracking number inside", "channel": "email"})).await;
    assert_eq!(by_mail.status, StatusCode::CREATED, "{}", by_mail.body);
    let mail = sink.wait_for(1).await;
    let m =
        mail.iter().find(|d| String::from_utf8_lossy(&d.data).contains("Tracking number inside")).expect("the mail");
    assert_eq!(m.rcpt_to, vec!["rosa@customer.example".to_string()]);
    // Without a choice, the reply goes where the case came from.
    app.post(&path, json!({"body": "Anything else?"})).await;
    let got = chat.wait_until("the chat reply", |got| !got.is_empty()).await;
    assert_eq!(
        (got[0].json["message"]["text"].as_str(), got[0].json["conversation_id"].as_str()),
        (Some("Anything else?"), Some("conv-7"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((chat.received().len(), sms.received().len()), (1, 1), "each reply went one way only");
    assert!(!sink.messages().iter().any(|d| String::from_utf8_lossy(&d.data).contains("Shipped today")));

    // A channel the customer cannot be reached on is refused, naming the field, and adds nothing.
    let before = comments(&app, &case_id).await.len();
    for (body, why) in [
        (json!({"body": "x", "channel": "whatsapp"}), "no active connector"),
        (json!({"body": "x", "channel": "webchat"}), "no active connector"),
        (json!({"body": "x", "channel": "phone"}), "not phone"),
        (json!({"body": "x", "channel": "pigeon"}), "unknown"),
        (json!({"body": "x", "channel": "sms", "internal": true}), "only an agent's reply"),
    ] {
        let r = app.post(&path, body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "channel", "{body}: {}", r.body);
        assert!(r.body["errors"][0]["message"].as_str().unwrap().contains(why), "{body}: {}", r.body);
    }
    assert_eq!(comments(&app, &case_id).await.len(), before);
    // A case whose contact has no number cannot be answered by SMS.
    let web = app.create_case(json!({"subject": "From the form"})).await;
    let web_id = web["id"].as_str().unwrap();
    let r = app.post(&format!("/api/v1/cases/{web_id}/comments"), json!({"body": "x", "channel": "sms"})).await;
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("no phone number"), "{}", r.body);

    // On the case page the composer offers the other channels; a note goes nowhere whatever is
    // picked, and a reply goes by the picked one.
    let mut b = crate::ui::admin(&app).await;
    let page = b.get(&format!("/cases/{case_id}")).await;
    assert!(page.html.contains(r#"<option value="" selected>Chat (its own)</option><option value="email">Email</option><option value="sms">SMS</option>"#), "{}", page.html);
    assert!(!b.get(&format!("/cases/{web_id}")).await.html.contains("reply-channel"), "no choice, no picker");
    let token = page.csrf();
    for (visibility, text) in [("note", "internal only"), ("reply", "Out for delivery")] {
        let form = [("_csrf", token.as_str()), ("visibility", visibility), ("channel", "sms"), ("body", text)];
        let r = b.post(&format!("/cases/{case_id}/comments"), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    }
    let got = sms.wait_until("the reply from the page", |got| got.len() == 2).await;
    assert_eq!(got[1].json["message"]["text"], "Out for delivery");
    let last = comments(&app, &case_id).await;
    let note = last.iter().find(|c| c["body"] == "internal only").unwrap();
    assert_eq!((note["internal"].as_bool(), note["channel"].clone()), (Some(true), Value::Null));
    chat.stop();
    sms.stop();
}
