//! The assistant panel of the case page over real HTTP, without JavaScript: each action's answer
//! with the provider and model that produced it, a suggested reply edited and sent as a reply,
//! suggestions on the timeline, a failed provider explained, and another organization's case a
//! 404 page.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::ui::admin;

/// The text of the first `<textarea id="{id}">`.
fn textarea(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("<textarea id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    Some(rest[start..start + rest[start..].find("</textarea>")?].to_string())
}

#[tokio::test]
async fn an_agent_asks_for_a_draft_edits_it_and_sends_it() {
    let app = spawn_app().await;
    let ana = app.post("/api/v1/contacts", json!({"name": "Ana Silva", "email": "ana@example.com"})).await;
    let case = app
        .create_case(json!({"subject": "Parcel arrived damaged", "description": "The vase inside is broken.", "contact_id": ana.body["id"]}))
        .await;
    let id = case["id"].as_str().unwrap();
    let path = format!("/cases/{id}");
    let mut b = admin(&app).await;

    let page = b.get(&path).await;
    for button in ["assistant-summarize", "assistant-categorize", "assistant-suggest", "assistant-evaluate"] {
        assert!(page.html.contains(&format!("id=\"{button}\"")), "{button}: {}", page.html);
    }
    assert!(!page.html.contains("id=\"assistant-result\""), "nothing asked yet");

    // A draft to edit, saying who wrote it.
    let r = b.submit(&path, &format!("{path}/assistant"), &[("action", "suggest_reply")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(
        r.html
            .contains(r#"<span id="assistant-provider">builtin</span> (<span id="assistant-model">retrieval</span>)"#),
        "{}",
        r.html
    );
    let draft = textarea(&r.html, "assistant-draft").expect("an editable draft");
    assert!(draft.starts_with("Hi Ana,"), "{draft}");
    assert!(r.html.contains(r#"<input type="hidden" name="visibility" value="reply">"#));

    // Edited and sent through the reply form: a reply to the customer.
    let edited = "Hi Ana,\n\nSorry about the vase: a new one leaves today.\n\nBest regards,\nAdmin";
    let r = b.submit(&path, &format!("{path}/comments"), &[("visibility", "reply"), ("body", edited)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let comments = app.get(&format!("/api/v1/cases/{id}/comments")).await.body;
    assert_eq!(comments["data"][0]["body"], edited);
    assert_eq!(comments["data"][0]["internal"], false);

    // The timeline shows the suggestion, by whom and with what, before the reply.
    let page = b.get(&path).await;
    let suggestion = page.html.find(r#"<li class="entry ai">"#).expect("the suggestion on the timeline");
    let reply = page.html.find(r#"<li class="entry reply">"#).expect("the reply");
    assert!(suggestion < reply, "oldest first");
    assert!(page.html[suggestion..reply].contains("AI suggestion"));
    assert!(
        page.html[suggestion..reply].contains("Suggested reply by builtin (retrieval)"),
        "{}",
        &page.html[suggestion..]
    );
    assert!(!page.html.contains("id=\"assistant-result\""), "sent, the draft is gone from the panel");

    // The other actions read as lines.
    for (action, says) in
        [("summarize", "Summary</strong> by"), ("categorize", "Priority: Medium"), ("evaluate", "Sentiment: ")]
    {
        let r = b.submit(&path, &format!("{path}/assistant"), &[("action", action)]).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.html);
        assert!(r.html.contains(says), "{action} says {says:?}: {}", r.html);
        assert!(!r.html.contains("id=\"assistant-draft\""));
    }
    let r = b.submit(&path, &format!("{path}/assistant"), &[("action", "dance")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"assistant-error\""), "{}", r.html);
    // A reload of the asking URL leads back to the case.
    let r = b.get(&format!("{path}/assistant")).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, path.as_str()));
}

#[tokio::test]
async fn a_provider_that_fails_is_named_with_its_reason_and_others_cases_are_not_found() {
    let app = spawn_app().await;
    // Nothing listens on the discard port: the provider cannot be reached.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/ai/settings",
            Some(&app.token),
            Some(&json!({"provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "model": "gpt-test"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let case = app.create_case(json!({"subject": "VPN drops", "description": "Every hour."})).await;
    let path = format!("/cases/{}", case["id"].as_str().unwrap());
    let mut b = admin(&app).await;
    let r = b.submit(&path, &format!("{path}/assistant"), &[("action", "summarize")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains(r#"<span id="assistant-provider">builtin</span>"#), "{}", r.html);
    assert!(
        r.html.contains("openai_compatible (gpt-test) gave no usable answer: could not connect to the provider"),
        "{}",
        r.html
    );

    let (_, other_token) = app.other_org().await;
    let theirs = app
        .call(reqwest::Method::POST, "/api/v1/cases", Some(&other_token), Some(&json!({"subject": "Theirs"})), &[])
        .await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let token = b.get("/cases").await.csrf();
    let r = b.post(&format!("/cases/{theirs}/assistant"), &[("_csrf", &token), ("action", "summarize")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.html.contains("Theirs"));
}
