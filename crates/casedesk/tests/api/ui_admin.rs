//! The admin pages of the web UI over real HTTP: users (with availability, capacity and their
//! skills per queue), queues with members and assignment method, API tokens and webhooks with
//! their deliveries. Each change made through a page is checked through the API; bad input shows
//! beside its field; an agent is refused every admin page and form; another organization's
//! records are 404 pages.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ui::{Browser, admin, agnes};

/// The id at the end of a redirect to `/admin/<kind>/<id>`.
fn id_from(location: &str, prefix: &str) -> String {
    location.strip_prefix(prefix).unwrap_or_else(|| panic!("{location} does not start with {prefix}")).to_string()
}

/// A user made through the API; returns their id.
async fn api_user(app: &TestApp, email: &str, name: &str) -> String {
    let r = app.post("/api/v1/users", json!({"email": email, "name": name, "role": "agent"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_pages_are_for_admins_only() {
    let app = spawn_app().await;
    let mut anon = Browser::new(&app);
    let r = anon.get("/admin/users").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());

    let queue =
        app.post("/api/v1/case-queues", json!({"name": "Support"})).await.body["id"].as_str().unwrap().to_string();
    let mut agent = agnes(&app).await;
    let cases = agent.get("/cases").await;
    assert!(!cases.html.contains("href=\"/admin\""), "no admin link for agents");
    for path in [
        "/admin",
        "/admin/users",
        "/admin/queues",
        &format!("/admin/queues/{queue}"),
        "/admin/tokens",
        "/admin/webhooks",
    ] {
        let r = agent.get(path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.html.contains("Not allowed"), "{path}: {}", r.html);
    }
    let csrf = cases.csrf();
    let sent = [
        (
            "/admin/users",
            vec![("name", "Eve"), ("email", "eve@example.com"), ("role", "admin"), ("password", "long-enough-1")],
        ),
        ("/admin/queues", vec![("name", "Shadow"), ("assignment_method", "manual")]),
        ("/admin/tokens", vec![("name", "backdoor")]),
        ("/admin/webhooks", vec![("url", "https://evil.example/hook"), ("events", "*")]),
        ("/admin/sla/calendars", vec![("definition", r#"{"name": "Shadow", "time_zone": "UTC"}"#)]),
        ("/admin/rules", vec![("definition", r#"{"name": "Shadow", "trigger": "case.created", "actions": []}"#)]),
    ];
    for (path, form) in sent {
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend(form);
        assert_eq!(agent.post(path, &all).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let users = app.get("/api/v1/users").await.body;
    assert!(!users.to_string().contains("eve@example.com"), "no user was made");
    assert_eq!(app.get("/api/v1/case-queues").await.body["data"].as_array().unwrap().len(), 1);
    assert!(!app.get("/api/v1/tokens").await.body.to_string().contains("backdoor"));
    assert!(app.get("/api/v1/webhooks").await.body["data"].as_array().unwrap().is_empty());
    assert!(app.get("/api/v1/business-calendars").await.body["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn admins_add_change_and_deactivate_users() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let cases = b.get("/cases").await;
    assert!(cases.html.contains("href=\"/admin\""), "admins see the admin link");
    let index = b.get("/admin").await;
    assert_eq!(index.status, StatusCode::OK);
    for href in ["/admin/users", "/admin/queues", "/admin/tokens", "/admin/webhooks", "/admin/trash"] {
        assert!(index.html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    assert!(index.html.contains(r#"<a href="/admin" aria-current="page">Admin</a>"#));

    // Bad input: each message beside its field, what was typed kept, nothing written.
    let r = b
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Bea <b>"),
                ("email", "not-an-email"),
                ("role", "agent"),
                ("password", "short"),
                ("max_open_cases", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(
        r.html.contains("id=\"new-user-email-error\"") && r.html.contains("id=\"new-user-password-error\""),
        "{}",
        r.html
    );
    assert!(r.html.contains("value=\"Bea &#60;b&#62;\""), "kept and escaped: {}", r.html);
    let r = b
        .submit(
            "/admin/users",
            "/admin/users",
            &[("name", "Bea"), ("email", "bea@example.com"), ("password", "long-enough-1"), ("max_open_cases", "lots")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html.contains("id=\"new-user-max_open_cases-error\"") && r.html.contains("must be a whole number"),
        "{}",
        r.html
    );
    assert!(!app.get("/api/v1/users").await.body.to_string().contains("bea@example.com"), "nothing written");

    let r = b
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Bea"),
                ("email", "bea@example.com"),
                ("role", "agent"),
                ("password", "long-enough-1"),
                ("max_open_cases", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = id_from(r.location(), "/admin/users/");
    let u = app.get(&format!("/api/v1/users/{id}")).await.body;
    assert_eq!(
        (u["name"].as_str(), u["role"].as_str(), u["max_open_cases"].as_i64()),
        (Some("Bea"), Some("agent"), Some(3))
    );
    let mut bea = Browser::new(&app);
    assert_eq!(
        bea.sign_in("bea@example.com", "long-enough-1").await.status,
        StatusCode::SEE_OTHER,
        "the password works"
    );
    let list = b.get("/admin/users").await;
    assert!(
        list.html.contains(&format!("href=\"/admin/users/{id}\"")) && list.html.contains("3 open cases"),
        "{}",
        list.html
    );

    // The same email again is refused on the email field.
    let r = b
        .submit(
            "/admin/users",
            "/admin/users",
            &[("name", "Bea 2"), ("email", "bea@example.com"), ("password", "long-enough-1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-user-email-error\"") && r.html.contains("already taken"), "{}", r.html);

    // Availability and capacity; skills are shown per queue.
    let queue =
        app.post("/api/v1/case-queues", json!({"name": "Billing"})).await.body["id"].as_str().unwrap().to_string();
    let m = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/case-queues/{queue}/members/{id}"),
            Some(&app.token),
            Some(&json!({"skills": ["invoices", "german"]})),
            &[],
        )
        .await;
    assert!(m.status.is_success(), "{}", m.body);
    let page_path = format!("/admin/users/{id}");
    let page = b.get(&page_path).await;
    assert!(page.html.contains("Billing") && page.html.contains("invoices, german"), "{}", page.html);
    let edit = [
        ("name", "Bea Lopez"),
        ("email", "bea@example.com"),
        ("role", "agent"),
        ("availability", "away"),
        ("max_open_cases", ""),
    ];
    let r = b.submit(&page_path, &page_path, &edit).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved."));
    let u = app.get(&format!("/api/v1/users/{id}")).await.body;
    assert_eq!((u["name"].as_str(), u["availability"].as_str()), (Some("Bea Lopez"), Some("away")));
    assert!(u["max_open_cases"].is_null(), "empty is no limit: {u}");
    let r = b
        .submit(
            &page_path,
            &page_path,
            &[("name", ""), ("email", "bea@example.com"), ("role", "boss"), ("availability", "away")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"user-name-error\"") && r.html.contains("id=\"user-role-error\""), "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body["name"], "Bea Lopez", "nothing half-written");

    // Deactivate, and back; an admin cannot deactivate themselves.
    let r = b.submit(&page_path, &format!("/admin/users/{id}/active"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body["is_active"], false);
    assert!(b.get(&page_path).await.html.contains("Reactivate user"));
    let r = b.submit(&page_path, &format!("/admin/users/{id}/active"), &[("active", "true")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/users/{id}")).await.body["is_active"], true);
    let me = format!("/admin/users/{}", app.admin_id);
    let r = b.submit(&me, &format!("{me}/active"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("you cannot deactivate yourself"), "{}", r.html);
    assert_eq!(app.get(&me.replace("/admin/users", "/api/v1/users")).await.body["is_active"], true);
}

#[tokio::test]
async fn admins_make_queues_with_members_skills_and_an_assignment_method() {
    let app = spawn_app().await;
    let bea = api_user(&app, "bea@example.com", "Bea").await;
    let mut b = admin(&app).await;
    let r = b.submit("/admin/queues", "/admin/queues", &[("name", " "), ("assignment_method", "manual")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-queue-name-error\""), "{}", r.html);
    let r = b.submit("/admin/queues", "/admin/queues", &[("name", "Billing"), ("assignment_method", "sideways")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-queue-assignment_method-error\""), "{}", r.html);
    assert!(app.get("/api/v1/case-queues").await.body["data"].as_array().unwrap().is_empty(), "nothing written");

    let r = b
        .submit(
            "/admin/queues",
            "/admin/queues",
            &[("name", "Billing"), ("description", "Invoices"), ("assignment_method", "manual")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = id_from(r.location(), "/admin/queues/");
    let path = format!("/admin/queues/{id}");
    assert!(b.get("/admin/queues").await.html.contains(&format!("href=\"{path}\"")));

    let r = b
        .submit(
            &path,
            &path,
            &[
                ("name", "Billing EU"),
                ("description", "Invoices"),
                ("assignment_method", "round_robin"),
                ("time_tracking", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    let q = app.get(&format!("/api/v1/case-queues/{id}")).await.body;
    assert_eq!(
        (q["name"].as_str(), q["assignment_method"].as_str(), q["time_tracking"].as_bool()),
        (Some("Billing EU"), Some("round_robin"), Some(true))
    );

    // Members: a wrong user is an error on the user field; then Bea with her skills.
    let members = format!("{path}/members");
    let r = b.submit(&path, &members, &[("user_id", "usr_nobody"), ("role", "member"), ("skills", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"add-member-user_id-error\""), "{}", r.html);
    let r = b
        .submit(
            &path,
            &members,
            &[("user_id", &bea), ("role", "manager"), ("skills", "refunds, German "), ("vip", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let api_members = format!("/api/v1/case-queues/{id}/members");
    let m = &app.get(&api_members).await.body["data"][0];
    assert_eq!(
        (m["user_id"].as_str(), m["role"].as_str(), m["vip"].as_bool()),
        (Some(bea.as_str()), Some("manager"), Some(true))
    );
    assert_eq!(m["skills"], json!(["refunds", "german"]));
    let page = b.get(&path).await;
    assert!(page.html.contains("value=\"refunds, german\""), "{}", page.html);
    // Changing her skills through her row's form; then removing her.
    let r = b.submit(&path, &members, &[("user_id", &bea), ("role", "member"), ("skills", "refunds")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let m = &app.get(&api_members).await.body["data"][0];
    assert_eq!(
        (m["role"].as_str(), m["vip"].as_bool(), m["skills"].clone()),
        (Some("member"), Some(false), json!(["refunds"]))
    );
    let r = b.submit(&path, &format!("{members}/{bea}/remove"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.get(&api_members).await.body["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn tokens_show_their_secret_once_and_can_be_revoked() {
    let app = spawn_app().await;
    let bea = api_user(&app, "bea@example.com", "Bea").await;
    let mut b = admin(&app).await;
    let r = b
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "CRM sync"), ("user_id", &bea), ("expires_at", "next week")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-token-expires_at-error\""), "{}", r.html);
    let r = b.submit("/admin/tokens", "/admin/tokens", &[("name", ""), ("user_id", &bea)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-token-name-error\""), "{}", r.html);

    let r = b
        .submit(
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "CRM sync"), ("user_id", &bea), ("expires_at", "2099-01-31")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    let open = "<code class=\"secret\">";
    let at = r.html.find(open).expect("the secret is shown") + open.len();
    let secret = r.html[at..at + r.html[at..].find('<').unwrap()].to_string();
    let me = app.call(reqwest::Method::GET, "/api/v1/cases", Some(&secret), None, &[]).await;
    assert_eq!(me.status, StatusCode::OK, "the secret works");
    let tokens = app.get("/api/v1/tokens").await.body;
    let t = tokens["data"].as_array().unwrap().iter().find(|t| t["name"] == "CRM sync").unwrap().clone();
    assert_eq!(t["user_id"].as_str(), Some(bea.as_str()));
    assert!(t["expires_at"].as_str().unwrap().starts_with("2099-01-31T00:00:00"), "{t}");
    let list = b.get("/admin/tokens").await;
    assert!(list.html.contains("CRM sync") && !list.html.contains(&secret), "never shown again");

    let id = t["id"].as_str().unwrap();
    let r = b.submit("/admin/tokens", &format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let me = app.call(reqwest::Method::GET, "/api/v1/cases", Some(&secret), None, &[]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "revoked");
    assert!(b.get("/admin/tokens").await.html.contains("revoked"));
}

/// The webhook's delivery log through the API, once the server's dispatcher has made at least
/// one. (Dispatching from the test as well would run a second dispatcher beside the server's on
/// one SQLite file, which casedesk does not do.)
async fn delivered(app: &TestApp, id: &str) -> Vec<Value> {
    for _ in 0..100 {
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.body["data"].as_array().unwrap().clone();
        if !log.is_empty() {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery for {id}");
}

#[tokio::test]
async fn webhooks_are_added_switched_off_and_show_their_deliveries() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let r = b
        .submit("/admin/webhooks", "/admin/webhooks", &[("url", "ftp://example.com"), ("events", "case.created")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-webhook-url-error\""), "{}", r.html);
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[("url", "https://example.com/hook"), ("events", "case.exploded")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-webhook-events-error\"") && r.html.contains("unknown event type"), "{}", r.html);
    assert!(app.get("/api/v1/webhooks").await.body["data"].as_array().unwrap().is_empty());

    // An endpoint that refuses connections: its deliveries wait in the log.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", reserved.local_addr().unwrap());
    drop(reserved);
    let r = b
        .submit(
            "/admin/webhooks",
            "/admin/webhooks",
            &[("url", &url), ("events", "case.created"), ("description", "CRM")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.html);
    assert!(r.html.contains("<code class=\"secret\">"), "the secret, once: {}", r.html);
    let hooks = app.get("/api/v1/webhooks").await.body;
    let hook = &hooks["data"][0];
    let id = hook["id"].as_str().unwrap().to_string();
    assert_eq!(
        (hook["url"].as_str(), hook["events"].clone(), hook["active"].as_bool()),
        (Some(url.as_str()), json!(["case.created"]), Some(true))
    );

    app.create_case(json!({"subject": "Announced"})).await;
    let log = delivered(&app, &id).await;
    let path = format!("/admin/webhooks/{id}");
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("case.created") && page.html.contains(log[0]["case_id"].as_str().unwrap()),
        "{}",
        page.html
    );
    assert!(!page.html.contains("<code class=\"secret\">"), "not shown again");
    assert!(b.get("/admin/webhooks").await.html.contains(&format!("href=\"{path}\"")));

    let r = b.submit(&path, &format!("{path}/active"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}")).await.body["active"], false);
    assert!(b.get(&path).await.html.contains("Switch on"));
    let r = b.submit(&path, &format!("{path}/active"), &[("active", "true")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}")).await.body["active"], true);
}

#[tokio::test]
async fn a_finished_delivery_is_sent_again_from_the_webhook_page() {
    let app = spawn_app().await;
    let receiver = crate::webhooks::Receiver::start(0).await;
    let hook = app.post("/api/v1/webhooks", json!({"url": receiver.url(), "events": ["case.created"]})).await;
    let id = hook.body["id"].as_str().unwrap().to_string();
    app.create_case(json!({"subject": "Deliver me twice"})).await;
    receiver.wait_until("the delivery", |got| got.len() == 1).await;
    let path = format!("/admin/webhooks/{id}");
    let mut b = admin(&app).await;
    let mut first = String::new();
    for _ in 0..100 {
        let log = delivered(&app, &id).await;
        if log[0]["status"] == "delivered" {
            first = log[0]["id"].as_str().unwrap().to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let action = format!("{path}/deliveries/{first}/redeliver");
    let page = b.get(&path).await;
    assert!(page.html.contains(&format!(r#"action="{action}""#)), "{}", page.html);

    let r = b.submit(&path, &action, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, path.as_str()));
    let got = receiver.wait_until("the redelivery", |got| got.len() == 2).await;
    assert_eq!(got[0].body, got[1].body, "the same event, again");
    // An agent cannot; another webhook's path for the delivery is not found.
    let mut agent = agnes(&app).await;
    let token = agent.get("/cases").await.csrf();
    assert_eq!(agent.post(&action, &[("_csrf", &token)]).await.status, StatusCode::FORBIDDEN);
    let wrong = format!("/admin/webhooks/wh_0000000000007000800000000000dead/deliveries/{first}/redeliver");
    assert_eq!(b.submit(&path, &wrong, &[]).await.status, StatusCode::NOT_FOUND);
    receiver.stop();
}

#[tokio::test]
async fn mailboxes_are_added_polled_over_imap_and_their_errors_shown() {
    let app = spawn_app().await;
    let queue =
        app.post("/api/v1/case-queues", json!({"name": "Front desk"})).await.body["id"].as_str().unwrap().to_string();
    let mut b = admin(&app).await;
    let r =
        b.submit("/admin/mailboxes", "/admin/mailboxes", &[("address", "not an address"), ("queue_id", &queue)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="new-mailbox-address-error""#), "{}", r.html);
    let r = b
        .submit(
            "/admin/mailboxes",
            "/admin/mailboxes",
            &[("address", "help@acme.test"), ("name", "Acme"), ("queue_id", &queue)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let path = r.location().to_string();
    let id = path.trim_start_matches("/admin/mailboxes/").to_string();
    let list = b.get("/admin/mailboxes").await;
    assert!(
        list.html.contains(&format!(r#"href="{path}">help@acme.test</a>"#)) && list.html.contains("Front desk"),
        "{}",
        list.html
    );
    assert!(b.get(&path).await.html.contains("Delivered to casedesk"));

    // A wrong password: the poll's error shows on the page, and the password never does.
    let password = "imap-secret-5b2e71";
    let server = crate::imap_server::ImapServer::start("help@acme.test", password, "INBOX").await;
    let port = server.port.to_string();
    let form = |pw: &'static str| {
        vec![
            ("host", "127.0.0.1"),
            ("security", "none"),
            ("port", ""),
            ("username", "help@acme.test"),
            ("password", pw),
            ("folder", ""),
            ("enabled", "true"),
        ]
    };
    let mut wrong = form("not-the-password");
    wrong[2].1 = &port;
    let r = b.submit(&path, &format!("{path}/imap"), &wrong).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(
        r.html.contains("Saved.") && r.html.contains(r#"<strong id="imap-password-state">set</strong>"#),
        "{}",
        r.html
    );
    assert!(!r.html.contains("not-the-password"));
    let mut page = String::new();
    for _ in 0..200 {
        page = b.get(&path).await.html;
        if page.contains("failing (1 in a row)") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(page.contains("IMAP 127.0.0.1:") && page.contains("failing (1 in a row)"), "{page}");

    // The right one: mail in the folder becomes a case in the mailbox's queue.
    server.deliver("From: Dana <dana@customer.test>\nTo: help@acme.test\nSubject: Order 77 is late\nMessage-ID: <m1@customer.test>\n\nWhere is it?\n");
    let mut right = form(password);
    right[2].1 = &port;
    let r = b.submit(&path, &format!("{path}/imap"), &right).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    let mut found = Value::Null;
    for _ in 0..200 {
        let cases = app.get("/api/v1/cases").await.body;
        if let Some(c) = cases["data"].as_array().unwrap().iter().find(|c| c["subject"] == "Order 77 is late") {
            found = c.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found["queue_id"].as_str(), Some(queue.as_str()), "{found}");

    // Bad settings are named by field; an agent cannot; removing and deleting work.
    let mut bad = form(password);
    bad[0].1 = "";
    bad[2].1 = "70000";
    let r = b.submit(&path, &format!("{path}/imap"), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="imap-port-error""#), "{}", r.html);
    let mut agent = agnes(&app).await;
    let token = agent.get("/cases").await.csrf();
    assert_eq!(agent.get(&path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(agent.post(&format!("{path}/delete"), &[("_csrf", &token)]).await.status, StatusCode::FORBIDDEN);
    let r = b.submit(&path, &format!("{path}/imap/remove"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.get(&format!("/api/v1/mailboxes/{id}")).await.body["imap"].is_null());
    let r = b.submit(&path, &format!("{path}/delete"), &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/mailboxes"));
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_organizations_records_are_404_pages() {
    let app = spawn_app().await;
    let (_, other) = app.other_org().await;
    let post =
        async |path: &str, body: Value| app.call(reqwest::Method::POST, path, Some(&other), Some(&body), &[]).await;
    let user = post("/api/v1/users", json!({"email": "theirs@other.example", "name": "Theirs"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = post("/api/v1/case-queues", json!({"name": "Theirs"})).await.body["id"].as_str().unwrap().to_string();
    let hook = post("/api/v1/webhooks", json!({"url": "https://other.example/hook", "events": ["*"]})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = post("/api/v1/tokens", json!({"name": "theirs"})).await.body["id"].as_str().unwrap().to_string();

    let mut b = admin(&app).await;
    for path in [format!("/admin/users/{user}"), format!("/admin/queues/{queue}"), format!("/admin/webhooks/{hook}")] {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.html.contains("Not found") && !r.html.contains("Theirs"), "{path}: {}", r.html);
    }
    for list in ["/admin/users", "/admin/queues", "/admin/tokens", "/admin/webhooks"] {
        let r = b.get(list).await;
        assert!(
            !r.html.contains("Theirs") && !r.html.contains("theirs") && !r.html.contains("other.example"),
            "{list}"
        );
    }
    let writes = [
        (
            format!("/admin/users/{user}"),
            vec![("name", "Ours"), ("email", "x@example.com"), ("role", "agent"), ("availability", "away")],
        ),
        (format!("/admin/users/{user}/active"), vec![("active", "false")]),
        (format!("/admin/queues/{queue}"), vec![("name", "Ours"), ("assignment_method", "manual")]),
        (format!("/admin/queues/{queue}/members"), vec![("user_id", app.admin_id.as_str())]),
        (format!("/admin/tokens/{token}/revoke"), vec![]),
        (format!("/admin/webhooks/{hook}/active"), vec![("active", "false")]),
    ];
    for (path, form) in writes {
        let r = b.submit("/admin", &path, &form).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.html);
    }
    let get = async |path: String| app.call(reqwest::Method::GET, &path, Some(&other), None, &[]).await;
    let u = get(format!("/api/v1/users/{user}")).await.body;
    assert_eq!((u["name"].as_str(), u["is_active"].as_bool()), (Some("Theirs"), Some(true)), "unchanged");
    assert_eq!(get(format!("/api/v1/case-queues/{queue}")).await.body["name"], "Theirs");
    assert!(get(format!("/api/v1/case-queues/{queue}/members")).await.body["data"].as_array().unwrap().is_empty());
    assert_eq!(get(format!("/api/v1/webhooks/{hook}")).await.body["active"], true);
    let tokens = get("/api/v1/tokens".into()).await.body;
    assert!(tokens["data"].as_array().unwrap().iter().all(|t| t["revoked_at"].is_null()), "{tokens}");
}

#[tokio::test]
async fn sla_policies_and_calendars_are_written_as_their_definitions() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let page = b.get("/admin/sla").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("&#34;first_response_minutes&#34;"), "an example to start from: {}", page.html);

    // JSON that does not read, and a definition the domain refuses: each error names its field.
    let r = b.submit("/admin/sla", "/admin/sla/calendars", &[("definition", "{\"name\": \"Office\",")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"calendar-errors\"") && r.html.contains("<code>definition</code>"), "{}", r.html);
    let bad = json!({"name": "Office", "time_zone": "Mars/Olympus", "hours": {"monday": [{"start": "09:00", "end": "18:00"}]}});
    let r = b.submit("/admin/sla", "/admin/sla/calendars", &[("definition", &bad.to_string())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>time_zone</code>"), "{}", r.html);
    assert!(r.html.contains("Mars/Olympus"), "what was typed is kept");
    let bad = json!({"name": "Standard", "rules": [{"priority": "someday", "first_response_minutes": 30}]});
    let r = b.submit("/admin/sla", "/admin/sla/policies", &[("definition", &bad.to_string())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>rules[0].priority</code>"), "{}", r.html);
    assert!(app.get("/api/v1/business-calendars").await.body["data"].as_array().unwrap().is_empty(), "nothing written");
    assert!(app.get("/api/v1/sla-policies").await.body["data"].as_array().unwrap().is_empty(), "nothing written");

    let calendar = json!({"name": "Office", "time_zone": "Europe/Lisbon", "hours": {"monday": [{"start": "09:00", "end": "18:00"}]}});
    let r = b.submit("/admin/sla", "/admin/sla/calendars", &[("definition", &calendar.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let cal = id_from(r.location(), "/admin/sla/calendars/");
    let c = app.get(&format!("/api/v1/business-calendars/{cal}")).await.body;
    assert_eq!((c["name"].as_str(), c["time_zone"].as_str()), (Some("Office"), Some("Europe/Lisbon")));

    let policy =
        json!({"name": "Standard", "calendar_id": cal, "rules": [{"priority": "high", "first_response_minutes": 60}]});
    let r = b.submit("/admin/sla", "/admin/sla/policies", &[("definition", &policy.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let pol = id_from(r.location(), "/admin/sla/policies/");
    let path = format!("/admin/sla/policies/{pol}");
    let page = b.get(&path).await;
    assert!(page.html.contains("SLA policy: Standard") && page.html.contains(&cal), "{}", page.html);
    let list = b.get("/admin/sla").await;
    assert!(list.html.contains(&format!("href=\"{path}\"")) && list.html.contains("Office"), "{}", list.html);

    // Edited: the new definition replaces the rules.
    let edited = json!({"name": "Standard EU", "calendar_id": null, "rules": [{"priority": "critical", "first_response_minutes": 15}], "warn_percent": 90});
    let r = b.submit(&path, &path, &[("definition", &edited.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved."));
    let p = app.get(&format!("/api/v1/sla-policies/{pol}")).await.body;
    assert_eq!((p["name"].as_str(), p["warn_percent"].as_i64()), (Some("Standard EU"), Some(90)));
    assert!(p["calendar_id"].is_null(), "{p}");
    assert_eq!(p["rules"][0]["priority"], "critical");
    let r = b.submit(&path, &path, &[("definition", r#"{"warn_percent": 500}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>warn_percent</code>"), "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/sla-policies/{pol}")).await.body["warn_percent"], 90, "unchanged");

    // Another organization's are 404 pages.
    let (_, other) = app.other_org().await;
    let theirs = app
        .call(
            reqwest::Method::POST,
            "/api/v1/business-calendars",
            Some(&other),
            Some(&json!({"name": "Theirs", "time_zone": "UTC", "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}})),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let r = b.get(&format!("/admin/sla/calendars/{theirs}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b
        .submit("/admin/sla", &format!("/admin/sla/calendars/{theirs}"), &[("definition", r#"{"name": "Ours"}"#)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let c =
        app.call(reqwest::Method::GET, &format!("/api/v1/business-calendars/{theirs}"), Some(&other), None, &[]).await;
    assert_eq!(c.body["name"], "Theirs");
}

#[tokio::test]
async fn automation_rules_are_added_from_their_definition_and_switched_on_and_off() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let page = b.get("/admin/rules").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("id=\"rule-definition\""), "{}", page.html);
    let bad = json!({"name": "Bad", "trigger": "case.created", "actions": [{"type": "assign_to_queue", "queue_id": "q_doesnotexist"}]});
    let r = b.submit("/admin/rules", "/admin/rules", &[("definition", &bad.to_string())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>actions[0].queue_id</code>"), "{}", r.html);
    let r = b.submit("/admin/rules", "/admin/rules", &[("definition", r#"{"name": "Bad", "colour": "red"}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>definition</code>") && r.html.contains("colour"), "{}", r.html);
    assert!(app.get("/api/v1/automation-rules").await.body["data"].as_array().unwrap().is_empty(), "nothing written");

    let rule = json!({"name": "Critical gets a tag", "trigger": "case.created",
        "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
        "actions": [{"type": "add_tag", "tag": "urgent"}]});
    let r = b.submit("/admin/rules", "/admin/rules", &[("definition", &rule.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let rules = app.get("/api/v1/automation-rules").await.body;
    let id = rules["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        (rules["data"][0]["name"].as_str(), rules["data"][0]["active"].as_bool()),
        (Some("Critical gets a tag"), Some(true))
    );
    assert!(b.get("/admin/rules").await.html.contains("Critical gets a tag"));

    let r = b.submit("/admin/rules", &format!("/admin/rules/{id}/active"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/automation-rules/{id}")).await.body["active"], false);
    let r = b.submit("/admin/rules", &format!("/admin/rules/{id}/active"), &[("active", "true")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/automation-rules/{id}")).await.body["active"], true);

    // Its page shows the definition to change; an error names its field and changes nothing.
    let path = format!("/admin/rules/{id}");
    assert!(b.get("/admin/rules").await.html.contains(&format!("href=\"{path}\"")));
    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("Automation rule: Critical gets a tag") && page.html.contains("&#34;add_tag&#34;"),
        "prefilled: {}",
        page.html
    );
    assert!(!page.html.contains("&#34;created_by&#34;"), "only what can be written: {}", page.html);
    let edited = json!({"name": "Critical gets two tags", "trigger": "case.created",
        "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
        "actions": [{"type": "add_tag", "tag": "urgent"}, {"type": "add_tag", "tag": "vip"}], "active": true});
    let r = b.submit(&path, &path, &[("definition", &edited.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved.") && r.html.contains("Critical gets two tags"), "{}", r.html);
    let got = app.get(&format!("/api/v1/automation-rules/{id}")).await.body;
    assert_eq!(got["name"], "Critical gets two tags");
    assert_eq!(got["actions"][1]["tag"], "vip");
    let r = b.submit(&path, &path, &[("definition", r#"{"trigger": "case.exploded"}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>trigger</code>") && r.html.contains("case.exploded"), "{}", r.html);
    let r = b.submit(&path, &path, &[("definition", r#"{"name": "X", "colour": "red"}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>definition</code>"), "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/automation-rules/{id}")).await.body["name"], "Critical gets two tags");
    let mut agent = agnes(&app).await;
    assert_eq!(agent.get(&path).await.status, StatusCode::FORBIDDEN);

    // Another organization's rule cannot be switched or changed.
    let (_, other) = app.other_org().await;
    let theirs = app.call(reqwest::Method::POST, "/api/v1/automation-rules", Some(&other), Some(&rule), &[]).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    let r = b.submit("/admin/rules", &format!("/admin/rules/{theirs}/active"), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/admin/rules/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let r = b.submit("/admin/rules", &format!("/admin/rules/{theirs}"), &[("definition", r#"{"name": "Ours"}"#)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let got =
        app.call(reqwest::Method::GET, &format!("/api/v1/automation-rules/{theirs}"), Some(&other), None, &[]).await;
    assert_eq!((got.body["active"].as_bool(), got.body["name"].as_str()), (Some(true), Some("Critical gets a tag")));
}

#[tokio::test]
async fn macros_are_added_changed_and_deleted() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let page = b.get("/admin/macros").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("id=\"new-macro-actions\""), "{}", page.html);
    assert!(b.get("/admin").await.html.contains("href=\"/admin/macros\""));

    // Bad input: an unknown placeholder on the reply, an action's error on the actions field,
    // actions that are not JSON; what was typed is kept and nothing is written.
    let r = b
        .submit(
            "/admin/macros",
            "/admin/macros",
            &[
                ("name", "Refund"),
                ("body", "Hi {{requester.nickname}}"),
                ("actions", r#"[{"type": "explode"}]"#),
                ("shared", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"new-macro-body-error\""), "{}", r.html);
    assert!(r.html.contains("id=\"new-macro-actions-error\"") && r.html.contains("actions[0].type"), "{}", r.html);
    assert!(r.html.contains("requester.nickname"), "kept: {}", r.html);
    let r = b
        .submit(
            "/admin/macros",
            "/admin/macros",
            &[("name", "Refund"), ("actions", r#"[{"type": "assign_to_queue", "queue_id": "q_doesnotexist"}]"#)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"new-macro-actions-error\"") && r.html.contains("actions[0].queue_id"), "{}", r.html);
    assert!(r.html.contains("q_doesnotexist"), "kept: {}", r.html);
    let r = b
        .submit("/admin/macros", "/admin/macros", &[("name", "Refund"), ("body", "Hi"), ("actions", "[{\"type\":")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-macro-actions-error\"") && r.html.contains("not valid JSON"), "{}", r.html);
    let r = b.submit("/admin/macros", "/admin/macros", &[("name", ""), ("body", ""), ("actions", "[]")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-macro-name-error\""), "{}", r.html);
    assert!(app.get("/api/v1/macros").await.body["data"].as_array().unwrap().is_empty(), "nothing written");

    let r = b
        .submit(
            "/admin/macros",
            "/admin/macros",
            &[
                ("name", "Refund"),
                ("body", "Hi {{requester.name}}, your refund is on its way."),
                ("actions", r#"[{"type": "set_status", "status": "pending"}, {"type": "add_tag", "tag": "refund"}]"#),
                ("shared", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = id_from(r.location(), "/admin/macros/");
    let m = app.get(&format!("/api/v1/macros/{id}")).await.body;
    assert_eq!(
        (m["name"].as_str(), m["shared"].as_bool(), m["internal"].as_bool()),
        (Some("Refund"), Some(true), Some(false))
    );
    assert_eq!(m["actions"].as_array().unwrap().len(), 2, "{m}");
    assert_eq!(m["actions"][1]["tag"], "refund");
    let path = format!("/admin/macros/{id}");
    assert!(b.get("/admin/macros").await.html.contains(&format!("href=\"{path}\"")));
    let page = b.get(&path).await;
    assert!(
        page.html.contains("your refund is on its way") && page.html.contains("&#34;add_tag&#34;"),
        "{}",
        page.html
    );

    // Changed: the reply becomes an internal note and the actions are replaced.
    let r = b
        .submit(
            &path,
            &path,
            &[
                ("name", "Refund note"),
                ("body", "Refund sent."),
                ("internal", "true"),
                ("actions", r#"[{"type": "set_priority", "priority": "low"}]"#),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved."));
    let m = app.get(&format!("/api/v1/macros/{id}")).await.body;
    assert_eq!((m["name"].as_str(), m["internal"].as_bool()), (Some("Refund note"), Some(true)));
    assert_eq!(m["actions"], json!([{"type": "set_priority", "priority": "low"}]));
    let r = b.submit(&path, &path, &[("name", "Refund note"), ("body", ""), ("actions", r#"{"type": "x"}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"macro-actions-error\""), "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/macros/{id}")).await.body["body"], "Refund sent.", "unchanged");

    // Agents are refused; another organization's macro is a 404 page.
    let mut agent = agnes(&app).await;
    assert_eq!(agent.get("/admin/macros").await.status, StatusCode::FORBIDDEN);
    assert_eq!(agent.get(&path).await.status, StatusCode::FORBIDDEN);
    let csrf = agent.get("/cases").await.csrf();
    let r = agent.post(&format!("{path}/delete"), &[("_csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = agent.post("/admin/macros", &[("_csrf", csrf.as_str()), ("name", "Shadow"), ("body", "Hi")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (_, other) = app.other_org().await;
    let theirs = app
        .call(
            reqwest::Method::POST,
            "/api/v1/macros",
            Some(&other),
            Some(&json!({"name": "Theirs", "body": "Hello", "shared": true})),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    assert_eq!(b.get(&format!("/admin/macros/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let r = b.submit("/admin/macros", &format!("/admin/macros/{theirs}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!b.get("/admin/macros").await.html.contains("Theirs"));
    let got = app.call(reqwest::Method::GET, &format!("/api/v1/macros/{theirs}"), Some(&other), None, &[]).await;
    assert_eq!(got.status, StatusCode::OK);

    // Deleted.
    let r = b.submit(&path, &format!("{path}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/macros/{id}")).await.status, StatusCode::NOT_FOUND);
    assert!(app.get("/api/v1/macros").await.body["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn custom_statuses_and_categories_with_their_fields() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    assert!(b.get("/admin").await.html.contains("href=\"/admin/workflow\""));
    let page = b.get("/admin/workflow").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let statuses = app.get("/api/v1/case-statuses").await.body["data"].as_array().unwrap().clone();
    let before = statuses.len();
    let first = statuses[0]["name"].as_str().unwrap();
    assert!(page.html.contains(first), "the built-in statuses are listed: {}", page.html);
    assert!(page.html.contains("&#34;order_number&#34;"), "an example category: {}", page.html);

    // A status: bad input beside its field, nothing written; then one that pauses the clocks.
    let r = b
        .submit(
            "/admin/workflow",
            "/admin/workflow/statuses",
            &[("name", "Waiting on vendor"), ("category", "sleeping"), ("pauses_sla", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"new-status-category-error\""), "{}", r.html);
    assert!(r.html.contains("value=\"Waiting on vendor\""), "kept: {}", r.html);
    let r = b
        .submit(
            "/admin/workflow",
            "/admin/workflow/statuses",
            &[("name", "Waiting on vendor"), ("category", "pending"), ("position", "first")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"new-status-position-error\""), "{}", r.html);
    assert_eq!(app.get("/api/v1/case-statuses").await.body["data"].as_array().unwrap().len(), before);
    let r = b
        .submit(
            "/admin/workflow",
            "/admin/workflow/statuses",
            &[("name", "Waiting on vendor"), ("category", "pending"), ("pauses_sla", "true"), ("position", "5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let statuses = app.get("/api/v1/case-statuses").await.body["data"].as_array().unwrap().clone();
    let s = statuses.iter().find(|s| s["name"] == "Waiting on vendor").expect("created").clone();
    assert_eq!(
        (s["category"].as_str(), s["pauses_sla"].as_bool(), s["position"].as_i64(), s["is_default"].as_bool()),
        (Some("pending"), Some(true), Some(5), Some(false))
    );
    assert!(b.get("/admin/workflow").await.html.contains("Waiting on vendor"));

    // A category with its fields, written as its definition; errors name the field.
    let bad = json!({"name": "Refund", "fields": [{"key": "Order Number", "kind": "text"}]});
    let r = b.submit("/admin/workflow", "/admin/workflow/categories", &[("definition", &bad.to_string())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"category-errors\"") && r.html.contains("<code>fields[0]"), "{}", r.html);
    let r =
        b.submit("/admin/workflow", "/admin/workflow/categories", &[("definition", r#"{"name": "Refund",}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("<code>definition</code>"), "{}", r.html);
    let cats = || async { app.get("/api/v1/case-categories").await.body["data"].as_array().unwrap().clone() };
    assert!(!cats().await.iter().any(|c| c["name"] == "Refund"), "nothing written");
    let def = json!({"name": "Refund", "fields": [
        {"key": "order_number", "label": "Order number", "kind": "text", "required": true},
        {"key": "reason", "label": "Reason", "kind": "select", "options": ["Damaged", "Late"]}]});
    let r = b.submit("/admin/workflow", "/admin/workflow/categories", &[("definition", &def.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = id_from(r.location(), "/admin/workflow/categories/");
    let c = app.get(&format!("/api/v1/case-categories/{id}")).await.body;
    assert_eq!(c["name"], "Refund");
    assert_eq!(c["fields"][0]["key"], "order_number");
    assert_eq!(c["fields"][1]["options"], json!(["Damaged", "Late"]));
    let list = b.get("/admin/workflow").await;
    assert!(
        list.html.contains(&format!("href=\"/admin/workflow/categories/{id}\""))
            && list.html.contains("Order number (text, required)"),
        "{}",
        list.html
    );

    // Its page: the definition prefilled, changed, refused without a change.
    let path = format!("/admin/workflow/categories/{id}");
    let page = b.get(&path).await;
    assert!(page.html.contains("Category: Refund") && page.html.contains("&#34;order_number&#34;"), "{}", page.html);
    let r = b
        .submit(
            &path,
            &path,
            &[("definition", r#"{"name": "Refunds", "fields": [{"key": "amount", "kind": "number"}]}"#)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved."));
    let c = app.get(&format!("/api/v1/case-categories/{id}")).await.body;
    assert_eq!((c["name"].as_str(), c["fields"].as_array().unwrap().len()), (Some("Refunds"), 1));
    let r = b.submit(&path, &path, &[("definition", r#"{"fields": [{"key": "x", "kind": "colour"}]}"#)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("/api/v1/case-categories/{id}")).await.body["fields"][0]["key"], "amount");

    // Agents are refused; another organization's category is a 404 page.
    let mut agent = agnes(&app).await;
    assert_eq!(agent.get("/admin/workflow").await.status, StatusCode::FORBIDDEN);
    let csrf = agent.get("/cases").await.csrf();
    let r = agent
        .post("/admin/workflow/statuses", &[("_csrf", csrf.as_str()), ("name", "Shadow"), ("category", "open")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!app.get("/api/v1/case-statuses").await.body.to_string().contains("Shadow"));
    let (_, other) = app.other_org().await;
    let theirs = app
        .call(reqwest::Method::POST, "/api/v1/case-categories", Some(&other), Some(&json!({"name": "Theirs"})), &[])
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    assert_eq!(b.get(&format!("/admin/workflow/categories/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let r = b
        .submit(
            "/admin/workflow",
            &format!("/admin/workflow/categories/{theirs}"),
            &[("definition", r#"{"name": "Ours"}"#)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!b.get("/admin/workflow").await.html.contains("Theirs"));
}

#[tokio::test]
async fn mail_and_assistant_settings_never_show_their_secrets() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    assert!(b.get("/admin").await.html.contains("href=\"/admin/settings\""));
    let page = b.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("id=\"mail-password-state\">not set<"), "{}", page.html);
    assert!(page.html.contains("id=\"ai-key-state\">not set<"), "{}", page.html);

    // Mail: bad input beside its field, nothing written.
    let mail = |port: &'static str, from: &'static str| {
        vec![
            ("smtp_host", "smtp.acme.test"),
            ("smtp_port", port),
            ("smtp_security", "starttls"),
            ("smtp_username", "desk"),
            ("smtp_password", "s3cret-pass"),
            ("from_address", from),
            ("from_name", "Acme support"),
        ]
    };
    let r = b.submit("/admin/settings", "/admin/settings/mail", &mail("70000", "support@acme.test")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"mail-smtp_port-error\""), "{}", r.html);
    assert!(!r.html.contains("s3cret-pass"), "the password is not sent back");
    let r = b.submit("/admin/settings", "/admin/settings/mail", &mail("587", "not-an-address")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"mail-from_address-error\""), "{}", r.html);
    let m = app.get("/api/v1/mail/settings").await.body;
    assert!(m["smtp_host"].is_null() && m["smtp_password_set"] == false, "nothing written: {m}");

    let r = b.submit("/admin/settings", "/admin/settings/mail", &mail("587", "support@acme.test")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("Saved.") && r.html.contains("id=\"mail-password-state\">set<"), "{}", r.html);
    assert!(!r.html.contains("s3cret-pass"), "never shown back");
    let m = app.get("/api/v1/mail/settings").await.body;
    assert_eq!(
        (m["smtp_host"].as_str(), m["smtp_port"].as_i64(), m["smtp_username"].as_str(), m["from_address"].as_str()),
        (Some("smtp.acme.test"), Some(587), Some("desk"), Some("support@acme.test"))
    );
    assert_eq!((m["smtp_password_set"].as_bool(), m["sending"].as_bool()), (Some(true), Some(true)));
    // An empty password field keeps the stored one; the checkbox removes it.
    let mut keep = mail("2525", "support@acme.test");
    keep[4] = ("smtp_password", "");
    let r = b.submit("/admin/settings", "/admin/settings/mail", &keep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    let m = app.get("/api/v1/mail/settings").await.body;
    assert_eq!((m["smtp_port"].as_i64(), m["smtp_password_set"].as_bool()), (Some(2525), Some(true)));
    keep.push(("remove_password", "true"));
    b.submit("/admin/settings", "/admin/settings/mail", &keep).await;
    assert_eq!(app.get("/api/v1/mail/settings").await.body["smtp_password_set"], false);

    // Assistant: an OpenAI-compatible endpoint with a key, shown only as set.
    let ai = [
        ("provider", "openai_compatible"),
        ("base_url", "http://127.0.0.1:9/v1"),
        ("model", "gpt-test"),
        ("api_key", "sk-very-secret-key"),
        ("api_key_header", "authorization"),
        ("api_version", ""),
        ("timeout_secs", "500"),
    ];
    let r = b.submit("/admin/settings", "/admin/settings/ai", &ai).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    assert!(r.html.contains("id=\"ai-timeout_secs-error\""), "{}", r.html);
    assert!(!r.html.contains("sk-very-secret-key"));
    assert_eq!(app.get("/api/v1/ai/settings").await.body["provider"], "builtin", "nothing written");
    let mut ai = ai.to_vec();
    ai[6] = ("timeout_secs", "15");
    let r = b.submit("/admin/settings", "/admin/settings/ai", &ai).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.html.contains("id=\"ai-key-state\">set<") && !r.html.contains("sk-very-secret-key"), "{}", r.html);
    let a = app.get("/api/v1/ai/settings").await.body;
    assert_eq!(
        (a["provider"].as_str(), a["model"].as_str(), a["timeout_secs"].as_i64(), a["api_key_set"].as_bool()),
        (Some("openai_compatible"), Some("gpt-test"), Some(15), Some(true))
    );
    let page = b.get("/admin/settings").await;
    assert!(page.html.contains("value=\"gpt-test\"") && !page.html.contains("sk-very-secret-key"), "{}", page.html);
    ai.push(("remove_api_key", "true"));
    b.submit("/admin/settings", "/admin/settings/ai", &ai).await;
    assert_eq!(app.get("/api/v1/ai/settings").await.body["api_key_set"], false);

    // Agents are refused, and change nothing.
    let mut agent = agnes(&app).await;
    assert_eq!(agent.get("/admin/settings").await.status, StatusCode::FORBIDDEN);
    let csrf = agent.get("/cases").await.csrf();
    let r = agent
        .post(
            "/admin/settings/mail",
            &[("_csrf", csrf.as_str()), ("smtp_host", "evil.example"), ("smtp_security", "none")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = agent.post("/admin/settings/ai", &[("_csrf", csrf.as_str()), ("provider", "builtin")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/mail/settings").await.body["smtp_host"], "smtp.acme.test");
    assert_eq!(app.get("/api/v1/ai/settings").await.body["provider"], "openai_compatible");
}
