//! The case page's requester panel: an agent changes whom a case is for by email address. A known
//! address picks its contact (and the contact's account), a new one becomes a contact; a bad
//! address, a closed case or a stale page are refused in the panel and change nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::ui::{Browser, agnes};

/// Contacts with this address, through the API.
async fn contacts_with(app: &TestApp, email: &str) -> Vec<serde_json::Value> {
    let r = app.get(&format!("/api/v1/contacts?email={email}")).await;
    r.body["data"].as_array().cloned().unwrap_or_default()
}

/// Posts the requester form with the case page's CSRF token and version.
async fn change(b: &mut Browser, id: &str, email: &str, name: &str) -> crate::ui::Page {
    let page = b.get(&format!("/cases/{id}")).await;
    let (token, version) = (page.csrf(), version_of(&page.html));
    b.post(
        &format!("/cases/{id}/requester"),
        &[("_csrf", &token), ("version", &version), ("email", email), ("name", name)],
    )
    .await
}

fn version_of(html: &str) -> String {
    let at = html.find(r#"name="version" value=""#).expect("a version field") + 22;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn agents_change_the_requester_by_address_and_refusals_change_nothing() {
    let app = spawn_app().await;
    let acme =
        app.post("/api/v1/accounts", json!({"name": "Acme Corp"})).await.body["id"].as_str().unwrap().to_string();
    let zoe =
        app.post("/api/v1/contacts", json!({"name": "Zoë Keller", "email": "zoe@acme.example", "account_id": acme}));
    let zoe = zoe.await.body["id"].as_str().unwrap().to_string();
    let id = app.create_case(json!({"subject": "Printer on fire"})).await["id"].as_str().unwrap().to_string();
    let mut b = agnes(&app).await;

    // A known address: the contact becomes requester and contact, and brings her account.
    let r = change(&mut b, &id, "  Zoe@Acme.Example ", "").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("/cases/{id}#people").as_str()), "{}", r.html);
    let c = app.get(&format!("/api/v1/cases/{id}")).await.body;
    assert_eq!(
        (c["requester_id"].as_str(), c["contact_id"].as_str(), c["account_id"].as_str()),
        (Some(zoe.as_str()), Some(zoe.as_str()), Some(acme.as_str()))
    );
    let page = b.get(&format!("/cases/{id}")).await;
    assert!(page.html.contains("<strong>Zoë Keller</strong>"), "{}", page.html);
    assert!(page.html.contains("changed requester from Administrator to Zoë Keller"), "{}", page.html);
    assert!(page.html.contains("changed account from none to Acme Corp"), "{}", page.html);

    // A new address becomes a contact with the given name; the case keeps its account.
    let r = change(&mut b, &id, "nia@new.example", "Nia Novak").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let made = contacts_with(&app, "nia@new.example").await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["name"], "Nia Novak");
    let c = app.get(&format!("/api/v1/cases/{id}")).await.body;
    assert_eq!((c["requester_id"].as_str(), c["account_id"].as_str()), (made[0]["id"].as_str(), Some(acme.as_str())));
    // The same address again finds her instead of making a second contact.
    let r = change(&mut b, &id, "zoe@acme.example", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = change(&mut b, &id, "NIA@new.example", "Someone Else").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(contacts_with(&app, "nia@new.example").await.len(), 1);

    // Not an address: refused in the panel, nothing made, nothing changed.
    let before = app.get(&format!("/api/v1/cases/{id}")).await.body;
    let r = change(&mut b, &id, "nia at example", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html.contains(r#"id="people-error""#) && r.html.contains("Email: must be an email address"),
        "{}",
        r.html
    );
    assert!(r.html.contains("<details open>"), "the panel stays open on its error");
    // A page older than the case: refused, the case as it is now is shown.
    let page = b.get(&format!("/cases/{id}")).await;
    let token = page.csrf();
    let stale = (version_of(&page.html).parse::<i64>().unwrap() - 1).to_string();
    let form = [("_csrf", token.as_str()), ("version", stale.as_str()), ("email", "old@page.example")];
    let r = b.post(&format!("/cases/{id}/requester"), &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.html);
    assert!(r.html.contains("Someone changed this case"), "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.body, before);

    // A closed case is final: refused before any contact is made for the address.
    assert_eq!(app.patch(&format!("/api/v1/cases/{id}"), json!({"status": "closed"})).await.status, StatusCode::OK);
    let r = change(&mut b, &id, "late@new.example", "Late").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.html);
    assert!(r.html.contains("is closed"), "{}", r.html);
    assert!(contacts_with(&app, "late@new.example").await.is_empty());
    assert!(contacts_with(&app, "old@page.example").await.is_empty());

    // Another organization's case is the 404 page.
    let (_, other) = app.other_org().await;
    let body = json!({"subject": "Theirs"});
    let theirs = app.call(reqwest::Method::POST, "/api/v1/cases", Some(&other), Some(&body), &[]).await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let token = b.get(&format!("/cases/{id}")).await.csrf();
    let r = b.post(&format!("/cases/{theirs}/requester"), &[("_csrf", &token), ("email", "x@y.example")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(contacts_with(&app, "x@y.example").await.is_empty());
}

/// Addresses outside ASCII are addresses too: the panel and a chat escalation both make a contact
/// for one, once, however often it is given.
#[tokio::test]
async fn addresses_beyond_ascii_become_contacts_once() {
    let app = spawn_app().await;
    let id = app.create_case(json!({"subject": "Café machine leaks"})).await["id"].as_str().unwrap().to_string();
    let mut b = agnes(&app).await;

    let r = change(&mut b, &id, "zoë@umlaut.example", "Zoë Keller").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let made = contacts_with(&app, "zo%C3%AB%40umlaut.example").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.body["requester_id"], made[0]["id"]);
    let r = change(&mut b, &id, "zoë@umlaut.example", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(contacts_with(&app, "zo%C3%AB%40umlaut.example").await.len(), 1);

    // A chat escalation from a new customer with such an address.
    let escalation = |conversation: &str| {
        json!({
            "channel": "chat",
            "conversation_id": conversation,
            "messages": [{"from": "customer", "text": "¿Dónde está mi pedido?"}],
            "contact": {"email": "josé@cliente.example", "name": "José"},
        })
    };
    for conversation in ["c-1", "c-2"] {
        let r = app.post("/api/v1/intake/conversations", escalation(conversation)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let jose = contacts_with(&app, "jos%C3%A9%40cliente.example").await;
    assert_eq!(jose.len(), 1, "{jose:?}");
}
