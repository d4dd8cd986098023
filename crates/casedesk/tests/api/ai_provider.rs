//! An organization's own AI provider: a fake OpenAI-compatible chat-completions endpoint on
//! loopback (the real ones are on the internet) is asked with the case at hand and nothing
//! else; a fitting answer is used, anything else — a reply that is not the asked JSON, an error
//! status, an invented number, no answer in time — falls back to the built-in provider and says
//! why. The settings keep the key sealed and never show it, and are the organization's own.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use casedesk_core::Actor;
use casedesk_core::AppError;
use casedesk_domain::ai::settings::AiSettingsInput;
use casedesk_domain::policy::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::ai::{comment, id, resolved_replacement_case};
use crate::automation::{eventually, settled};
use crate::helpers::{TestApp, spawn_app};

const KEY: &str = "sk-test-0123456789abcdef";

/// What the fake answers next.
enum Reply {
    /// A completion whose message content is this text.
    Content(String),
    /// This status, with an error body.
    Status(u16),
    /// A completion, after this long.
    Slow(Duration, String),
}

/// One request the fake got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    api_key: Option<String>,
    json: Value,
}

impl Got {
    /// The user message: the case as sent.
    fn case_text(&self) -> String {
        self.json["messages"][1]["content"].as_str().unwrap_or_default().to_string()
    }
}

/// A chat-completions endpoint on loopback that answers from a script, in order (a 500 when
/// the script is empty).
#[derive(Clone)]
struct FakeLlm {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "fake-model-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    })
    .to_string()
}

impl FakeLlm {
    async fn start() -> FakeLlm {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
        let (g, sc) = (got.clone(), script.clone());
        let handler = move |uri: Uri, headers: HeaderMap, body: String| {
            let (g, sc) = (g.clone(), sc.clone());
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                g.lock().unwrap().push(Got {
                    path: uri.path().to_string(),
                    query: uri.query().map(str::to_string),
                    authorization: header("authorization"),
                    api_key: header("api-key"),
                    json: serde_json::from_str(&body).unwrap_or(Value::Null),
                });
                let next = sc.lock().unwrap().pop_front();
                match next {
                    Some(Reply::Content(c)) => (AxumStatus::OK, completion(&c)),
                    Some(Reply::Slow(wait, c)) => {
                        tokio::time::sleep(wait).await;
                        (AxumStatus::OK, completion(&c))
                    }
                    Some(Reply::Status(s)) => {
                        (AxumStatus::from_u16(s).unwrap(), json!({"error": {"message": "overloaded"}}).to_string())
                    }
                    None => (AxumStatus::INTERNAL_SERVER_ERROR, "no reply scripted".to_string()),
                }
            }
        };
        let router = axum::Router::new().fallback(handler);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeLlm { addr, got, script }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn then(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    fn answer(&self, content: Value) {
        self.then(Reply::Content(content.to_string()));
    }

    fn received(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

async fn put_settings(app: &TestApp, token: &str, body: Value) -> crate::helpers::Resp {
    app.call(Method::PUT, "/api/v1/ai/settings", Some(token), Some(&body), &[]).await
}

/// The organization asks the fake, with the key, `timeout_secs` to answer.
async fn choose(app: &TestApp, llm: &FakeLlm, timeout_secs: u64) {
    let r = put_settings(
        app,
        &app.token,
        json!({"provider": "openai_compatible", "base_url": llm.base_url(), "model": "gpt-test", "api_key": KEY, "timeout_secs": timeout_secs}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn ask(app: &TestApp, case_id: &str, body: Value) -> Value {
    let r = app.post(&format!("/api/v1/cases/{case_id}/ai"), body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.body);
    r.body
}

/// A case by Ana Silva about order 4521, with an internal note, and a resolved case of another
/// customer like it. Returns the case's id.
async fn damaged_order_case(app: &TestApp) -> String {
    resolved_replacement_case(app).await;
    let ana = id(&app.post("/api/v1/contacts", json!({"name": "Ana Silva", "email": "ana@example.com"})).await.body);
    let c = id(&app
        .create_case(json!({
            "subject": "Where is my replacement parcel?",
            "description": "The replacement for order #4521 has not arrived, still waiting.",
            "contact_id": ana,
        }))
        .await);
    comment(app, &c, "Warehouse says the first parcel was stolen from the van.", true, "agent").await;
    comment(app, &c, "Any news? I need it before the weekend.", false, "customer").await;
    c
}

fn erp() -> Value {
    json!({"shipments": [{"order_id": "4521", "carrier": "DHL", "tracking_number": "JD0147", "shipped_at": "2026-11-21"}]})
}

#[tokio::test]
async fn the_chosen_provider_gets_the_case_at_hand_and_its_fitting_answer_is_used() {
    let app = spawn_app().await;
    let llm = FakeLlm::start().await;
    let c = damaged_order_case(&app).await;
    choose(&app, &llm, 10).await;

    let draft = "Hi Ana,\n\nYour order #4521 shipped on 21 Nov 2026 with DHL, tracking number JD0147. We have asked the courier to prioritise your replacement parcel.\n\nBest regards,\nAdmin";
    llm.answer(json!({"text": draft}));
    let r = ask(&app, &c, json!({"action": "suggest_reply", "erp_context": erp()})).await;
    assert_eq!((r["provider"].as_str(), r["model"].as_str()), (Some("openai_compatible"), Some("fake-model-1")), "{r}");
    assert_eq!(r["fallback"], Value::Null);
    assert_eq!(r["result"]["text"], draft);
    assert_eq!(r["result"]["facts"].as_array().map(Vec::len), Some(1), "{r}");

    // What was sent: the key, the model, this case's public thread and the facts, the reusable
    // wording of the similar case — and nothing else of it, nor the internal note.
    let got = llm.received();
    assert_eq!(got.len(), 1);
    let sent = &got[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.authorization.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(sent.json["model"], "gpt-test");
    assert_eq!(sent.json["response_format"]["type"], "json_object");
    let text = sent.case_text();
    for expected in [
        "Where is my replacement parcel?",
        "The replacement for order #4521 has not arrived",
        "Any news? I need it before the weekend.",
        "Customer's first name: Ana",
        "tracking number JD0147",
        "We have asked the courier to prioritise your replacement parcel.",
    ] {
        assert!(text.contains(expected), "{expected:?} is sent: {text}");
    }
    for withheld in ["stolen", "Warehouse", "Carla", "1111", "Silva", "ana@example.com", "carla@other.example"] {
        assert!(!text.contains(withheld), "{withheld:?} must not be sent: {text}");
    }

    // The suggestion on the timeline names who produced it.
    let timeline = app.timeline(&c).await;
    let entry = timeline.iter().rev().find(|e| e["kind"] == "ai.suggestion").expect("a suggestion");
    assert_eq!(entry["data"]["provider"], "openai_compatible");
    assert_eq!(entry["data"]["model"], "fake-model-1");
    assert_eq!(entry["data"]["result"]["text"], draft);

    // A summary is for agents: the internal note is part of what it reads.
    llm.answer(json!({"text": "Ana waits for a replacement of order 4521; the first parcel was stolen.", "asked": ["Where the replacement is"], "done": [], "pending": "our reply to Ana"}));
    let r = ask(&app, &c, json!({"action": "summarize"})).await;
    assert_eq!(r["provider"], "openai_compatible", "{r}");
    assert_eq!(r["result"]["pending"], "our reply to Ana");
    assert!(llm.received()[1].case_text().contains("stolen from the van"));

    // Categories: the organization's, by name; the answer's names become the organization's ids.
    let billing = id(&app.post("/api/v1/case-categories", json!({"name": "Billing"})).await.body);
    let shipping = id(&app.post("/api/v1/case-categories", json!({"name": "Shipping"})).await.body);
    llm.answer(json!({"category": {"value": "Shipping", "confidence": 0.9}, "alternatives": [{"value": "billing", "confidence": 0.05}], "topic": {"value": "delivery_delay", "confidence": 0.8}, "priority": {"value": "high", "confidence": 0.7}}));
    let r = ask(&app, &c, json!({"action": "categorize"})).await;
    assert_eq!(r["result"]["category"]["value"]["id"], shipping.as_str(), "{r}");
    assert_eq!(r["result"]["alternatives"][0]["value"]["id"], billing.as_str(), "{r}");
    assert_eq!(r["result"]["priority"], json!({"value": "high", "confidence": 0.7}));
    let sent = llm.received()[2].case_text();
    assert!(
        sent.contains("Categories: ") && sent.contains("; Billing; Shipping"),
        "the organization's categories: {sent}"
    );
    assert!(
        !sent.contains("stolen") && !sent.contains("Warehouse"),
        "categorizing reads what the customer wrote: {sent}"
    );
}

#[tokio::test]
async fn answers_that_do_not_fit_or_come_too_late_fall_back_to_the_builtin_provider() {
    let app = spawn_app().await;
    let llm = FakeLlm::start().await;
    let c = damaged_order_case(&app).await;
    choose(&app, &llm, 1).await;

    llm.then(Reply::Content("Sure! The customer wants their parcel.".into()));
    llm.then(Reply::Status(503));
    llm.answer(json!({"text": "Hi Ana, your parcel arrives tomorrow with tracking number JD99999."}));
    llm.then(Reply::Slow(Duration::from_secs(4), json!({"text": "Too late"}).to_string()));
    llm.answer(json!({"text": "x", "asked": [], "done": [], "pending": "", "mood": "calm"}));
    let cases = [
        ("summarize", "extractive", "not JSON in the asked shape"),
        ("summarize", "extractive", "answered 503"),
        ("suggest_reply", "retrieval", "a number it was not given"),
        ("suggest_reply", "retrieval", "no answer within 1 s"),
        ("summarize", "extractive", "unknown field"),
    ];
    for (action, model, why) in cases {
        let r = ask(&app, &c, json!({"action": action})).await;
        assert_eq!((r["provider"].as_str(), r["model"].as_str()), (Some("builtin"), Some(model)), "{action}: {r}");
        assert_eq!(r["fallback"]["provider"], "openai_compatible", "{r}");
        assert_eq!(r["fallback"]["model"], "gpt-test", "{r}");
        let reason = r["fallback"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{action}: want {why:?}, got {reason:?}");
        assert!(r["result"]["text"].as_str().is_some_and(|t| !t.is_empty()), "the built-in answer: {r}");
        assert!(!r.to_string().contains(KEY), "the key is never in an answer");
    }
    assert_eq!(llm.received().len(), cases.len(), "each request asked the provider once");
    // The built-in draft never took the invented tracking number.
    let timeline = app.timeline(&c).await;
    let fell_back: Vec<&Value> =
        timeline.iter().filter(|e| e["kind"] == "ai.suggestion" && e["data"]["fallback"].is_object()).collect();
    assert_eq!(fell_back.len(), cases.len());
    assert!(fell_back.iter().all(|e| e["data"]["provider"] == "builtin"));
    assert!(!timeline.iter().any(|e| e.to_string().contains("JD99999")));
}

#[tokio::test]
async fn settings_are_checked_sealed_never_shown_and_each_organizations_own() {
    let app = spawn_app().await;
    let llm = FakeLlm::start().await;

    let r = app.get("/api/v1/ai/settings").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!((r.body["provider"].as_str(), r.body["api_key_set"].as_bool()), (Some("builtin"), Some(false)));
    assert_eq!(r.body["timeout_secs"], 20);

    for (body, fields) in [
        (
            json!({"provider": "openai_compatible", "base_url": "ftp://models.example", "model": "", "timeout_secs": 500}),
            vec!["base_url", "model", "timeout_secs"],
        ),
        (json!({"provider": "skynet"}), vec!["provider"]),
        (json!({"base_url": "https://api.openai.com/v1"}), vec!["provider"]),
        (
            json!({"provider": "openai_compatible", "base_url": "https://user:pw@api.example/v1?x=1", "model": "m", "api_key": "has spaces in it", "api_key_header": "x-token", "api_version": "2024/10"}),
            vec!["base_url", "api_key", "api_key_header", "api_version"],
        ),
    ] {
        let r = put_settings(&app, &app.token, body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), fields, "{body}: {}", r.body);
    }
    let r = put_settings(&app, &app.token, json!({"provider": "builtin", "colour": "red"})).await;
    assert_eq!(r.status.as_u16(), 422, "unknown fields are refused: {}", r.body);

    // Agents neither read nor change them.
    let (_, agent) = app.agent().await;
    assert_eq!(
        app.call(Method::GET, "/api/v1/ai/settings", Some(&agent), None, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(put_settings(&app, &agent, json!({"provider": "builtin"})).await.status, StatusCode::FORBIDDEN);

    // Saved: the key is sealed, shown as set, never echoed.
    choose(&app, &llm, 5).await;
    let r = app.get("/api/v1/ai/settings").await;
    assert_eq!(r.body["provider"], "openai_compatible");
    assert_eq!(r.body["base_url"], llm.base_url().as_str());
    assert_eq!(r.body["api_key_set"], true);
    assert!(!r.body.to_string().contains(KEY), "{}", r.body);
    let stored: Option<String> = stored_key(&app).await;
    assert!(stored.as_deref().is_some_and(|k| k.starts_with("v1.") && !k.contains(KEY)), "sealed: {stored:?}");

    // The key stays with its URL, and only with it.
    let same = json!({"provider": "openai_compatible", "base_url": llm.base_url(), "model": "gpt-other"});
    assert_eq!(put_settings(&app, &app.token, same).await.body["api_key_set"], true);
    let moved = json!({"provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "model": "gpt-other"});
    let r = put_settings(&app, &app.token, moved).await;
    assert_eq!((r.status, r.body["api_key_set"].as_bool()), (StatusCode::OK, Some(false)), "{}", r.body);

    // Azure OpenAI: the key in `api-key`, the version as a query parameter.
    let azure = format!("http://{}/openai/deployments/gpt4o", llm.addr);
    let r = put_settings(
        &app,
        &app.token,
        json!({"provider": "openai_compatible", "base_url": azure, "model": "gpt-4o", "api_key": KEY, "api_key_header": "api-key", "api_version": "2024-10-21"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = id(&app.create_case(json!({"subject": "Printer jams", "description": "It jams on every page."})).await);
    llm.answer(json!({"text": "The printer jams on every page.", "asked": ["Fix the jam"], "done": [], "pending": "a first reply"}));
    assert_eq!(ask(&app, &c, json!({"action": "summarize"})).await["provider"], "openai_compatible");
    let got = llm.received().pop().expect("asked");
    assert_eq!(got.path, "/openai/deployments/gpt4o/chat/completions");
    assert_eq!(got.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!((got.api_key.as_deref(), got.authorization), (Some(KEY), None));

    // Another organization sees its own settings, and its cases are answered by its provider.
    let (_, b_token) = app.other_org().await;
    let r = app.call(Method::GET, "/api/v1/ai/settings", Some(&b_token), None, &[]).await;
    assert_eq!((r.body["provider"].as_str(), r.body["base_url"].as_str()), (Some("builtin"), None), "{}", r.body);
    let b_case = app
        .call(Method::POST, "/api/v1/cases", Some(&b_token), Some(&json!({"subject": "B's printer jams"})), &[])
        .await;
    let before = llm.received().len();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{}/ai", id(&b_case.body)),
            Some(&b_token),
            Some(&json!({"action": "summarize"})),
            &[],
        )
        .await;
    assert_eq!((r.body["provider"].as_str(), r.body["fallback"].is_null()), (Some("builtin"), true), "{}", r.body);
    assert_eq!(llm.received().len(), before, "A's provider never hears of B's case");

    // Back to the built-in provider: the key goes with the rest.
    let r = put_settings(&app, &app.token, json!({"provider": "builtin"})).await;
    assert_eq!((r.body["provider"].as_str(), r.body["api_key_set"].as_bool()), (Some("builtin"), Some(false)));
}

/// The sealed key as stored.
async fn stored_key(app: &TestApp) -> Option<String> {
    app.core.store.get_ai_settings(&app.org_id).await.expect("settings").and_then(|s| s.api_key_sealed)
}

#[tokio::test]
async fn a_server_without_a_sealing_secret_refuses_a_key_and_says_why() {
    let app = spawn_app().await;
    // `core` is an App over the same database without --signing-key-secret.
    let admin = Actor { org_id: app.org_id.clone(), user_id: app.admin_id.clone(), role: Role::Admin };
    let input = AiSettingsInput {
        provider: Some("openai_compatible".into()),
        base_url: Some("https://api.openai.com/v1".into()),
        model: Some("gpt-4o-mini".into()),
        api_key: Some(Some(KEY.into())),
        ..Default::default()
    };
    match app.core.update_ai_settings(&admin, input.clone()).await {
        Err(AppError::Validation(f)) => {
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].field, "api_key");
            assert!(f[0].message.contains("--signing-key-secret"), "{}", f[0].message);
        }
        other => panic!("refused: {other:?}"),
    }
    assert_eq!(app.core.store.get_ai_settings(&app.org_id).await.expect("read"), None, "nothing was saved");
    // A provider that needs no key (Ollama on this machine) needs no secret.
    let local = AiSettingsInput {
        base_url: Some("http://localhost:11434/v1".into()),
        model: Some("llama3.1:8b".into()),
        api_key: None,
        ..input
    };
    let saved = app.core.update_ai_settings(&admin, local).await.expect("saved");
    assert_eq!(saved.api_key_sealed, None);
}

#[tokio::test]
async fn a_rule_categorizes_new_cases_with_the_chosen_provider() {
    let app = spawn_app().await;
    let llm = FakeLlm::start().await;
    choose(&app, &llm, 10).await;
    let billing = id(&app.post("/api/v1/case-categories", json!({"name": "Billing"})).await.body);
    let rule = json!({"name": "Triage", "trigger": "case.created",
        "actions": [{"type": "categorize", "apply": "both", "min_confidence": 0.6}]});
    assert_eq!(app.post("/api/v1/automation-rules", rule).await.status, StatusCode::CREATED);

    llm.answer(json!({"category": {"value": "Billing", "confidence": 0.92}, "topic": {"value": "billing", "confidence": 0.9}, "priority": {"value": "high", "confidence": 0.75}}));
    let answer = app
        .create_case(json!({"subject": "Charged twice", "description": "My card was charged twice this month."}))
        .await;
    let c = settled(&app, answer, |c| c["category_id"] == billing.as_str()).await;
    assert_eq!((c["category_id"].as_str(), c["priority"].as_str()), (Some(billing.as_str()), Some("high")), "{c}");
    let case_id = id(&c);
    eventually("the rule's timeline entry", || async {
        app.timeline(&case_id).await.iter().any(|e| e["kind"] == "rule.applied")
    })
    .await;
    let timeline = app.timeline(&case_id).await;
    let applied = timeline.iter().find(|e| e["kind"] == "rule.applied").expect("the rule ran");
    let summary = applied["data"]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("set category to Billing (0.92)") && summary.contains("set priority to high (0.75)"),
        "{summary}"
    );
    assert!(summary.contains("openai_compatible fake-model-1"), "{summary}");
    assert!(timeline.iter().any(|e| e["kind"] == "ai.suggestion" && e["data"]["provider"] == "openai_compatible"));
    assert_eq!(llm.received().len(), 1, "the rule ran once");
}
