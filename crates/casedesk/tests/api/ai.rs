//! The built-in assistant through the API: each action's result, kept on the timeline.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id in {v}")).to_string()
}

async fn ask(app: &TestApp, case_id: &str, body: Value) -> Value {
    let r = app.post(&format!("/api/v1/cases/{case_id}/ai"), body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.body);
    assert_eq!(r.body["provider"], "builtin");
    r.body
}

/// Asks to categorize until the answer satisfies `done` (learning happens in the background).
async fn categorize_until(app: &TestApp, case_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = ask(app, case_id, json!({"action": "categorize"})).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("never learned: {last}");
}

pub(crate) async fn comment(app: &TestApp, case_id: &str, body: &str, internal: bool, author_type: &str) {
    let r = app
        .post(
            &format!("/api/v1/cases/{case_id}/comments"),
            json!({"body": body, "internal": internal, "author_type": author_type}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// A resolved case of another customer (Carla Berg, carla@other.example) about a replacement
/// parcel, whose last reply names her and her order 1111 around one sentence a draft may borrow.
pub(crate) async fn resolved_replacement_case(app: &TestApp) {
    let carla =
        id(&app.post("/api/v1/contacts", json!({"name": "Carla Berg", "email": "carla@other.example"})).await.body);
    let old = id(&app
        .create_case(json!({"subject": "Replacement parcel has not arrived", "description": "still waiting for the replacement parcel", "contact_id": carla}))
        .await);
    comment(
        app,
        &old,
        "Hi Carla,\nWe have asked the courier to prioritise your replacement parcel. Your order 1111 left Monday.",
        false,
        "agent",
    )
    .await;
    app.patch(&format!("/api/v1/cases/{old}"), json!({"status": "resolved"})).await;
}

#[tokio::test]
async fn a_summary_of_the_thread_is_kept_on_the_timeline() {
    let app = spawn_app().await;
    let contact =
        id(&app.post("/api/v1/contacts", json!({"name": "Ana Silva", "email": "ana@example.com"})).await.body);
    let c = id(&app
        .create_case(json!({
            "subject": "Order #4521 arrived damaged",
            "description": "The box was crushed and the lamp inside is broken.\nSent from my iPhone",
            "contact_id": contact,
        }))
        .await);
    comment(&app, &c, "Checked with the warehouse: packed without padding.", true, "agent").await;
    comment(
        &app,
        &c,
        "I have shipped a replacement for order 4521. Could you send a photo of the box?",
        false,
        "agent",
    )
    .await;

    let r = ask(&app, &c, json!({"action": "summarize"})).await;
    assert_eq!(r["action"], "summarize");
    let text = r["result"]["text"].as_str().expect("text");
    assert!(text.starts_with("Ana Silva asked: Order #4521 arrived damaged."), "{text}");
    assert!(text.contains("shipped a replacement"), "{text}");
    assert!(r["result"]["pending"].as_str().expect("pending").contains("photo of the box"), "{r}");
    assert!(!text.contains("iPhone"));

    let timeline = app.timeline(&c).await;
    let entry = timeline.iter().find(|e| e["kind"] == "ai.suggestion").expect("the suggestion is on the timeline");
    assert_eq!(entry["data"]["action"], "summarize");
    assert_eq!(entry["data"]["provider"], "builtin");
    assert_eq!(entry["data"]["result"], r["result"]);
}

#[tokio::test]
async fn categorizing_learns_from_the_organizations_cases_and_their_corrections() {
    let app = spawn_app().await;
    let billing = id(&app.post("/api/v1/case-categories", json!({"name": "Billing"})).await.body);
    let damage = id(&app.post("/api/v1/case-categories", json!({"name": "Damaged in shipping"})).await.body);
    let c = id(&app
        .create_case(json!({"subject": "Parcel smashed", "description": "the box arrived crushed, mug broken"}))
        .await);

    // A new organization: keyword rules, matched to the categories by name.
    let r = ask(&app, &c, json!({"action": "categorize"})).await;
    assert_eq!(r["model"], "keyword-rules");
    assert_eq!(r["result"]["category"]["value"]["id"], damage.as_str(), "{r}");
    assert_eq!(r["result"]["topic"]["value"], "shipping_damage");
    assert_eq!(r["result"]["learned_from"], 0);

    // Once agents have categorized cases, what they did is learned.
    for (subject, cat, priority) in [
        ("Invoice shows wrong amount", &billing, "medium"),
        ("Charged twice this month", &billing, "high"),
        ("VAT missing on my invoice", &billing, "low"),
        ("Refund of the monthly fee", &billing, "medium"),
        ("Payment declined but money taken", &billing, "high"),
        ("Vase shattered in transit", &damage, "medium"),
        ("Parcel arrived crushed", &damage, "medium"),
        ("Screen cracked on delivery", &damage, "high"),
        ("Box dented and item broken", &damage, "medium"),
        ("Chair leg snapped in the box", &damage, "low"),
    ] {
        app.create_case(json!({"subject": subject, "category_id": cat, "priority": priority})).await;
    }
    let invoice = id(&app
        .create_case(json!({"subject": "My invoice amount looks wrong", "description": "please check the VAT"}))
        .await);
    // What was learned before answers while the new cases are learned in the background.
    let r = categorize_until(&app, &invoice, |r| r["model"] == "logistic-regression").await;
    assert_eq!(r["result"]["category"]["value"]["name"], "Billing", "{r}");
    let confidence = r["result"]["category"]["confidence"].as_f64().expect("confidence");
    assert!(confidence > 0.5 && confidence <= 1.0, "{r}");
    assert_eq!(r["result"]["learned_from"], 10);
    assert!(["low", "medium", "high", "critical"].contains(&r["result"]["priority"]["value"].as_str().unwrap_or("")));

    // An agent's correction is learned in the background; the next requests see it.
    app.patch(&format!("/api/v1/cases/{invoice}"), json!({"category_id": billing})).await;
    let learned = categorize_until(&app, &c, |r| r["result"]["learned_from"] == 11).await["result"].clone();
    assert_eq!(learned["learned_from"], 11, "{learned}");
    assert_eq!(learned["category"]["value"]["name"], "Damaged in shipping", "{learned}");
}

#[tokio::test]
async fn a_reply_draft_states_only_given_facts_and_never_an_internal_note() {
    let app = spawn_app().await;
    let contact = id(&app.post("/api/v1/contacts", json!({"name": "Bo Berg", "email": "bo@example.com"})).await.body);
    resolved_replacement_case(&app).await;

    let c = id(&app
        .create_case(json!({
            "subject": "Where is my replacement parcel?",
            "description": "The replacement for order #4521 has not arrived, still waiting.",
            "contact_id": contact,
        }))
        .await);
    comment(&app, &c, "Warehouse says the first parcel was stolen from the van.", true, "agent").await;
    let erp = json!({
        "orders": [{"id": 4521, "status": "Shipped"}],
        "shipments": [{"order_id": "4521", "carrier": "DHL", "tracking_number": "JD0147", "shipped_at": "2026-11-21"}],
    });
    let r = ask(&app, &c, json!({"action": "suggest_reply", "erp_context": erp})).await;
    let text = r["result"]["text"].as_str().expect("text");
    assert!(text.starts_with("Hi Bo,"), "{text}");
    assert!(text.contains("Your order #4521 shipped on 21 Nov 2026 with DHL, tracking number JD0147."), "{text}");
    assert!(text.contains("We have asked the courier to prioritise your replacement parcel."), "{text}");
    for leak in ["stolen", "Warehouse", "Carla", "1111"] {
        assert!(!text.contains(leak), "{leak} must not reach the customer: {text}");
    }
    assert_eq!(r["result"]["similar_cases"].as_array().map(Vec::len), Some(1), "{r}");

    // Without ERP data nothing about the order is claimed.
    let r = ask(&app, &c, json!({"action": "suggest_reply"})).await;
    let text = r["result"]["text"].as_str().expect("text");
    assert!(!text.contains("DHL") && !text.contains("shipped on"), "{text}");
    assert!(text.contains("I'm looking into #4521"), "{text}");
}

#[tokio::test]
async fn an_evaluation_weighs_mood_risk_and_next_steps() {
    let app = spawn_app().await;
    let problem = id(&app.create_case(json!({"subject": "Checkout payments failing", "type": "problem"})).await);
    let c = id(&app
        .create_case(json!({
            "subject": "Payments failing at checkout",
            "description": "This is UNACCEPTABLE!! Payments keep failing at checkout, I have lost sales all day.",
            "priority": "critical",
        }))
        .await);
    let r = ask(&app, &c, json!({"action": "evaluate"})).await;
    let e = &r["result"];
    assert_eq!(e["sentiment"]["label"], "negative", "{e}");
    let steps: Vec<&str> =
        e["next_steps"].as_array().expect("steps").iter().filter_map(|s| s["action"].as_str()).collect();
    assert!(steps.contains(&"escalate"), "{e}");
    assert!(steps.contains(&"reply"), "{e}");
    let link = e["next_steps"].as_array().expect("steps").iter().find(|s| s["action"] == "link_to_problem");
    assert!(link.is_some_and(|s| s["reason"].as_str().unwrap_or("").contains(&problem)), "{e}");
    assert!(e["complexity"]["label"].is_string() && e["sla_risk"]["level"].is_string(), "{e}");
}

#[tokio::test]
async fn a_bad_request_names_the_field() {
    let app = spawn_app().await;
    let c = id(&app.create_case(json!({"subject": "x"})).await);
    for (body, field) in [
        (json!({"action": "dance"}), "action"),
        (json!({"action": "suggest_reply", "erp_context": {"orders": "lots"}}), "erp_context.orders"),
        (json!({"action": "suggest_reply", "erp_context": [1]}), "erp_context"),
    ] {
        let r = app.post(&format!("/api/v1/cases/{c}/ai"), body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.body);
    }
    let r = app.post("/api/v1/cases/case_0000000000007000800000000000dead/ai", json!({"action": "summarize"})).await;
    r.assert_problem(404, "not_found");
    assert!(app.timeline(&c).await.iter().all(|e| e["kind"] != "ai.suggestion"), "nothing was kept");
}

#[tokio::test]
async fn a_rule_categorizes_new_cases_when_the_assistant_is_sure_enough() {
    let app = spawn_app().await;
    let damage = id(&app.post("/api/v1/case-categories", json!({"name": "Damaged in shipping"})).await.body);
    // Keyword rules are 0.6 sure of a category they match by name, and 0.4 of a plain "medium".
    let rule = json!({"name": "Triage", "trigger": "case.created",
        "actions": [{"type": "categorize", "apply": "both", "min_confidence": 0.5}]});
    assert_eq!(app.post("/api/v1/automation-rules", rule).await.status, StatusCode::CREATED);
    let answer = app
        .create_case(json!({"subject": "Parcel arrived crushed", "description": "the box was crushed, mug broken"}))
        .await;
    let c = crate::automation::settled(&app, answer, |c| c["category_id"] == damage.as_str()).await;
    assert_eq!(c["priority"], "medium", "a guess below the bar is left alone: {c}");
    let case_id = id(&c);
    crate::automation::eventually("the rule's timeline entry", || async {
        app.timeline(&case_id).await.iter().any(|e| e["kind"] == "rule.applied")
    })
    .await;
    let timeline = app.timeline(&case_id).await;
    let summary = timeline.iter().find(|e| e["kind"] == "rule.applied").expect("ran")["data"]["summary"].clone();
    let summary = summary.as_str().unwrap_or_default();
    assert!(summary.contains("set category to Damaged in shipping (0.60)"), "{summary}");
    assert!(summary.contains("left the priority: medium is only 0.40 sure, below 0.50"), "{summary}");
    assert!(summary.contains("builtin keyword-rules"), "{summary}");
    let suggestion = timeline.iter().find(|e| e["kind"] == "ai.suggestion").expect("kept on the timeline");
    assert_eq!(suggestion["data"]["action"], "categorize");

    // A category someone chose is never overwritten by a guess.
    let other = id(&app.post("/api/v1/case-categories", json!({"name": "Other"})).await.body);
    let chosen = id(&app.create_case(json!({"subject": "Box arrived crushed", "category_id": other})).await);
    crate::automation::eventually("the rule's run", || async {
        app.timeline(&chosen).await.iter().any(|e| e["kind"] == "rule.applied")
    })
    .await;
    assert_eq!(app.get(&format!("/api/v1/cases/{chosen}")).await.body["category_id"], other.as_str());
}

#[tokio::test]
async fn a_draft_draws_on_the_macro_that_fits_the_case() {
    let app = spawn_app().await;
    let m = json!({"name": "Damaged parcel", "shared": true,
        "body": "Hi {{requester.name}},\nWe will send a replacement for the damaged item at no cost. Maria will call you on 0800 123 456."});
    let r = app.post("/api/v1/macros", m).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let macro_id = id(&r.body);
    let c = id(&app
        .create_case(json!({"subject": "Parcel arrived damaged", "description": "The item inside is damaged."}))
        .await);
    let r = ask(&app, &c, json!({"action": "suggest_reply"})).await;
    let text = r["result"]["text"].as_str().expect("text");
    assert!(text.contains("We will send a replacement for the damaged item at no cost."), "{text}");
    assert!(!text.contains("Maria") && !text.contains("0800") && !text.contains("{{"), "{text}");
    assert_eq!(r["result"]["macro"]["id"], macro_id.as_str(), "{r}");
}
