//! The web UI's pages over real HTTP: sign-in and its throttling, CSRF, session expiry, the case
//! list, the new-case form, the case page, and tenancy (another organization's case is a 404
//! page). A small cookie-keeping client stands in for the browser.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_at};

const ADMIN_EMAIL: &str = "admin@example.com";

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value of the first hidden `_csrf` field.
    pub fn csrf(&self) -> String {
        field_value(&self.html, "_csrf").unwrap_or_else(|| panic!("no _csrf field in {}", self.html))
    }
}

/// The `value` of the first input named `name`.
fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A browser without JavaScript: follows nothing by itself, keeps cookies.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: app.base.clone(), client, cookies: HashMap::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let resp = req.header("cookie", cookie).send().await.expect("request");
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        Page { status, headers, html: resp.text().await.expect("body") }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Posts a body of this content type as it is.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        self.send(req).await
    }

    /// Posts `form` with the CSRF token of the page at `from`.
    pub async fn submit(&mut self, from: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.get(from).await.csrf();
        let mut all = vec![("_csrf", token.as_str())];
        all.extend_from_slice(form);
        self.post(path, &all).await
    }

    /// Fills in and sends the sign-in form.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let token = form.csrf();
        self.post("/login", &[("_csrf", &token), ("email", email), ("password", password), ("next", "/cases")]).await
    }
}

/// A browser signed in as Agnes, a new agent.
pub(crate) async fn agnes(app: &TestApp) -> Browser {
    let user = json!({"email": "agnes@example.com", "name": "Agnes", "role": "agent", "password": "agent-password-1"});
    assert_eq!(app.post("/api/v1/users", user).await.status, StatusCode::CREATED);
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in("agnes@example.com", "agent-password-1").await.status, StatusCode::SEE_OTHER);
    b
}

/// A case of another organization, "Theirs"; returns its id.
async fn their_case(app: &TestApp) -> String {
    let (_, other) = app.other_org().await;
    let r =
        app.call(reqwest::Method::POST, "/api/v1/cases", Some(&other), Some(&json!({"subject": "Theirs"})), &[]).await;
    r.body["id"].as_str().unwrap().to_string()
}

/// A browser signed in as the bootstrap admin.
pub(crate) async fn admin(app: &TestApp) -> Browser {
    let mut b = Browser::new(app);
    let r = b.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    b
}

#[tokio::test]
async fn sign_in_opens_the_session_and_sign_out_ends_it() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);

    let r = b.get("/cases?view=overdue").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fcases%3Fview%3Doverdue");

    let r = b.sign_in(ADMIN_EMAIL, "not the password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.html.contains("do not match an account"), "{}", r.html);
    assert!(!b.cookies.contains_key("casedesk_session"));
    let r = b.sign_in("nobody@example.com", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "an unknown email answers like a wrong password");

    let r = b.sign_in(" Admin@Example.com ", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(r.location(), "/cases");
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("casedesk_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not configured for TLS");

    let r = b.get("/cases").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains("Sign out") && r.html.contains("All open"), "{}", r.html);
    assert_eq!(r.headers["content-security-policy"].to_str().unwrap().split(';').next(), Some("default-src 'self'"));

    // Signing out ends the session on the server: the old cookie no longer works.
    let secret = b.cookies["casedesk_session"].clone();
    let r = b.submit("/cases", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("casedesk_session"));
    b.cookies.insert("casedesk_session".into(), secret);
    assert_eq!(b.get("/cases").await.status, StatusCode::SEE_OTHER);

    // A redirect after sign-in stays on this site.
    let form = b.get("/login?next=//evil.example/").await;
    let r = b
        .post(
            "/login",
            &[
                ("_csrf", &form.csrf()),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/cases");
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_email_and_per_address() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(b.sign_in(ADMIN_EMAIL, "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused, with a clear message and Retry-After.
    let r = b.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.html.contains("Too many failed sign-ins"), "{}", r.html);
    let wait: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(!b.cookies.contains_key("casedesk_session"));

    // Another email from the same address is not locked by the first one's failures …
    assert_eq!(b.sign_in("someone@example.com", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    for i in 0..14 {
        let r = b.sign_in(&format!("guess-{i}@example.com"), "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "failure {}", 7 + i);
    }
    // … but the address is, after 20 failures in all, whatever the email.
    assert_eq!(b.sign_in("fresh@example.com", "wrong password").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;

    let r = b.post("/cases", &[("subject", "Forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.html.contains("Form expired"), "{}", r.html);
    let r = b.post("/cases", &[("_csrf", "0000"), ("subject", "Forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another session's token does not do either.
    let mut other = admin(&app).await;
    let theirs = other.get("/cases/new").await.csrf();
    let r = b.post("/cases", &[("_csrf", &theirs), ("subject", "Forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "signing out is a form too");
    let cases = app.get("/api/v1/cases").await;
    assert_eq!(cases.body["data"].as_array().unwrap().len(), 0, "nothing was created");

    // htmx sends the token as a header.
    let token = b.get("/cases/new").await.csrf();
    let req = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = req
        .post(format!("{}/cases", app.base))
        .header("cookie", format!("casedesk_session={}", b.cookies["casedesk_session"]))
        .header("x-csrf-token", token)
        .form(&[("subject", "Sent by htmx")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The sign-in form carries a token of its own.
    let mut fresh = Browser::new(&app);
    let r = fresh.post("/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!fresh.cookies.contains_key("casedesk_session"));
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_lifetime() {
    let start = Timestamp::from_second(1_800_000_000).unwrap();
    let app = spawn_app_at(start).await;
    let clock = app.clock.clone().unwrap();

    let mut b = admin(&app).await;
    clock.advance(SignedDuration::from_mins(119));
    assert_eq!(b.get("/cases").await.status, StatusCode::OK, "used within the idle timeout");
    clock.advance(SignedDuration::from_mins(121));
    let r = b.get("/cases").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "idle for more than two hours");
    assert!(r.location().starts_with("/login"));

    // Kept busy, a session still ends 12 hours after sign-in.
    let mut b = admin(&app).await;
    for _ in 0..11 {
        clock.advance(SignedDuration::from_hours(1));
        assert_eq!(b.get("/cases").await.status, StatusCode::OK);
    }
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(b.get("/cases").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn another_organizations_case_is_a_404_page() {
    let app = spawn_app().await;
    let (_, other_token) = app.other_org().await;
    let r = app
        .call(reqwest::Method::POST, "/api/v1/cases", Some(&other_token), Some(&json!({"subject": "Theirs"})), &[])
        .await;
    let theirs = r.body["id"].as_str().unwrap().to_string();
    let mut b = admin(&app).await;
    for path in [format!("/cases/{theirs}"), "/cases/case_missing".to_string(), "/no-such-page".to_string()] {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.html.contains("<h1>Not found</h1>") && !r.html.contains("Theirs"), "{path}: {}", r.html);
    }
    let token = b.get("/cases").await.csrf();
    let r = b.post(&format!("/cases/{theirs}/comments"), &[("_csrf", &token), ("body", "hello")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b.post(&format!("/cases/{theirs}"), &[("_csrf", &token), ("status", "closed")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The API keeps answering problem+json for what it does not have.
    let r = app.get("/api/v1/no-such-endpoint").await;
    r.assert_problem(404, "not_found");
}

#[tokio::test]
async fn the_list_shows_views_with_counts_search_errors_inline_and_pages() {
    let app = spawn_app().await;
    for i in 0..52 {
        app.create_case(
            json!({"subject": format!("Printer {i} jams"), "priority": if i == 51 { "critical" } else { "low" }}),
        )
        .await;
    }
    app.create_case(json!({"subject": "Refund request", "owner_id": app.admin_id})).await;
    let mut b = admin(&app).await;

    let r = b.get("/cases").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains(r#"<a href="/cases?view=all-open" aria-current="page">"#), "{}", r.html);
    assert!(r.html.contains(r#"<span>My cases</span>"#) && r.html.contains(r#"<span class="count">1</span>"#));
    assert!(r.html.contains(r#"<span class="count">53</span>"#), "All open counts every case");
    assert_eq!(r.html.matches("class=\"case-link\"").count(), 50, "a page of 50");
    assert!(r.html.contains("chip priority-critical") && r.html.contains("chip status-new"));
    let next =
        r.html.split("href=\"/cases?view=all-open&#38;cursor=").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = b.get(&format!("/cases?view=all-open&cursor={next}")).await;
    assert_eq!(r.html.matches("class=\"case-link\"").count(), 3, "the rest on the next page");
    assert!(!r.html.contains("rel=\"next\""));

    // A search in the query language; an unreadable one is explained next to the box.
    let r = b.get("/cases?q=refund").await;
    assert_eq!(r.html.matches("class=\"case-link\"").count(), 1);
    assert!(r.html.contains("Refund request"));
    // Typed words list the best match first (a word in the subject beats one in the
    // description, however new), as the search API does; conditions alone list newest first.
    app.create_case(json!({"subject": "Toner smudges", "description": "the refund desk printer"})).await;
    let r = b.get("/cases?q=refund").await;
    let (subject, description) = (r.html.find("Refund request").unwrap(), r.html.find("Toner smudges").unwrap());
    assert!(subject < description, "best match first: {}", r.html);
    let r = b.get("/cases?q=created%3E2000-01-01").await;
    assert!(r.html.find("Toner smudges").unwrap() < r.html.find("Refund request").unwrap(), "newest first");
    let r = b.get("/cases?q=priority%3E%3Dbogus").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"q-error\"") && r.html.contains("value=\"priority&#62;=bogus\""), "{}", r.html);
    // htmx asks for the results alone.
    let r = b.get_with("/cases?q=printer%201", &[("hx-request", "true"), ("hx-target", "results")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.html.contains("<html") && r.html.contains("Printer 1 jams"), "{}", r.html);
    // A cursor this list did not issue is an error on the page, not a 500.
    let r = b.get("/cases?view=all-open&cursor=garbage").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b.get("/cases?view=no-such-view").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn new_case_form_shows_errors_by_their_field() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let form = b.get("/cases/new").await;
    assert!(form.html.contains("<label for=\"subject\">Subject</label>"));
    let token = form.csrf();
    let r = b
        .post("/cases", &[("_csrf", &token), ("subject", " "), ("description", "kept"), ("priority", "urgentish")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"priority-error\""), "{}", r.html);
    let r = b.post("/cases", &[("_csrf", &token), ("subject", " "), ("description", "kept")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"subject-error\""), "{}", r.html);
    assert!(r.html.contains(">kept</textarea>"), "what was typed is kept");
    let r = b.post("/cases", &[("_csrf", &token), ("subject", "Valid"), ("queue_id", "q_nope")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"queue_id-error\"") && r.html.contains("value=\"Valid\""), "{}", r.html);

    let r = b
        .post(
            "/cases",
            &[
                ("_csrf", &token),
                ("subject", "Screen <flickers>"),
                ("priority", "high"),
                ("type", "incident"),
                ("owner_id", &app.admin_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(r.location()).await;
    assert!(page.html.contains("<h1>Screen &#60;flickers&#62;</h1>"), "escaped: {}", page.html);
    let id = r.location().trim_start_matches("/cases/");
    let c = app.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        (c.body["priority"].as_str(), c.body["type"].as_str(), c.body["channel"].as_str()),
        (Some("high"), Some("incident"), Some("web"))
    );
    assert_eq!(c.body["owner_id"], app.admin_id.as_str());
}

#[tokio::test]
async fn the_case_page_changes_fields_and_keeps_replies_and_notes_apart() {
    let app = spawn_app().await;
    let case = app.create_case(json!({"subject": "VPN drops", "description": "Every hour"})).await;
    let id = case["id"].as_str().unwrap();
    let path = format!("/cases/{id}");
    let mut b = admin(&app).await;

    let page = b.get(&path).await;
    let version = field_value(&page.html, "version").unwrap();
    let r = b
        .submit(
            &path,
            &path,
            &[
                ("version", &version),
                ("status", "pending"),
                ("priority", "high"),
                ("owner_id", &app.admin_id),
                ("queue_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let r = b.submit(&path, &format!("{path}/comments"), &[("visibility", "reply"), ("body", "We are on it")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b
        .submit(&path, &format!("{path}/comments"), &[("visibility", "note"), ("body", "Probably the firewall")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let page = b.get(&path).await;
    assert!(page.html.contains(r#"<span class="chip priority-high" id="case-priority">High</span>"#), "{}", page.html);
    assert!(page.html.contains(r#"id="case-status">Pending</span>"#));
    assert!(page.html.contains("changed priority from Medium to High"));
    assert!(page.html.contains("changed status from New to Pending"));
    let r = b.submit(&path, &path, &[("type", "incident"), ("tags", " vpn, Network ,")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(&path).await;
    assert!(page.html.contains("changed type from Question to Incident"), "{}", page.html);
    assert!(page.html.contains("changed tags from none to vpn, network"), "{}", page.html);
    assert!(page.html.contains(r#"name="tags" value="vpn, network""#));
    let reply = page.html.find(r#"<li class="entry reply">"#).expect("a reply entry");
    let note = page.html.find(r#"<li class="entry note">"#).expect("a note entry");
    assert!(reply < note, "oldest first");
    assert!(page.html[note..].contains("Internal note") && page.html[note..].contains("Probably the firewall"));
    let comments = app.get(&format!("/api/v1/cases/{id}/comments")).await;
    let internal: Vec<bool> =
        comments.body["data"].as_array().unwrap().iter().map(|c| c["internal"].as_bool().unwrap()).collect();
    assert_eq!(internal, vec![false, true]);

    // The page polls with its version: unchanged is an empty 204; changed, the page.
    let version = field_value(&b.get(&path).await.html, "version").unwrap();
    let poll = format!("{path}?since={version}");
    assert_eq!(b.get_with(&poll, &[("hx-request", "true")]).await.status, StatusCode::NO_CONTENT);
    app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": "From the API"})).await;
    let r = b.get_with(&poll, &[("hx-request", "true")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains("From the API"));
    // A poll whose session has ended sends the whole page to sign-in.
    let mut stranger = Browser::new(&app);
    let r = stranger.get_with(&poll, &[("hx-request", "true")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["hx-redirect"].to_str().unwrap().starts_with("/login?next="));

    // An empty message is explained at the composer; a stale form at the header.
    let r = b.submit(&path, &format!("{path}/comments"), &[("visibility", "note"), ("body", "  ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"composer-error\""), "{}", r.html);
    let r = b.submit(&path, &path, &[("version", &version), ("priority", "low")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.html.contains("id=\"case-error\""));
    let r = b.submit(&path, &path, &[("status", "not-a-status")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn password_change_checks_the_current_password_and_ends_other_sessions() {
    let app = spawn_app().await;
    let mut b = admin(&app).await;
    let mut elsewhere = admin(&app).await;
    let page = "/account/password";

    let r = b
        .submit(
            page,
            page,
            &[
                ("current_password", "wrong"),
                ("new_password", "new-password-456"),
                ("confirm_password", "new-password-456"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"current_password-error\""), "{}", r.html);
    let r = b
        .submit(
            page,
            page,
            &[("current_password", ADMIN_PASSWORD), ("new_password", "short"), ("confirm_password", "short")],
        )
        .await;
    assert!(r.html.contains("id=\"new_password-error\""), "{}", r.html);
    let r = b
        .submit(
            page,
            page,
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "new-password-456"),
                ("confirm_password", "other"),
            ],
        )
        .await;
    assert!(r.html.contains("id=\"confirm_password-error\""), "{}", r.html);

    let r = b
        .submit(
            page,
            page,
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "new-password-456"),
                ("confirm_password", "new-password-456"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains("Your password was changed"));
    assert_eq!(b.get("/cases").await.status, StatusCode::OK, "this session goes on");
    assert_eq!(elsewhere.get("/cases").await.status, StatusCode::SEE_OTHER, "the other one ended");
    let mut fresh = Browser::new(&app);
    assert_eq!(fresh.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(fresh.sign_in(ADMIN_EMAIL, "new-password-456").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn assets_are_embedded_and_cached() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    for (name, ct) in [("app.css", "text/css"), ("htmx.min.js", "text/javascript"), ("app.js", "text/javascript")] {
        let r = b.get(&format!("/assets/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(r.headers["content-type"].to_str().unwrap().starts_with(ct));
        assert_eq!(r.headers["cache-control"], "public, max-age=3600");
        let etag = r.headers["etag"].to_str().unwrap().to_string();
        let again = b.get_with(&format!("/assets/{name}"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    }
    assert!(b.get("/assets/htmx.min.js").await.html.contains("htmx"));
    assert_eq!(b.get("/assets/nope.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_trash_page_is_for_admins_only() {
    let app = spawn_app().await;
    let case = app.create_case(json!({"subject": "Spam from a bot"})).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/cases/{id}")).await.status, StatusCode::NO_CONTENT);
    let user = json!({"email": "agnes@example.com", "name": "Agnes", "role": "agent", "password": "agent-password-1"});
    assert_eq!(app.post("/api/v1/users", user).await.status, StatusCode::CREATED);

    let mut agent = Browser::new(&app);
    assert_eq!(agent.sign_in("agnes@example.com", "agent-password-1").await.status, StatusCode::SEE_OTHER);
    let page = agent.get("/cases").await;
    assert!(page.html.contains("Agnes") && !page.html.contains("href=\"/admin\""), "no link for agents");
    let r = agent.get("/admin/trash").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.html.contains("Not allowed") && !r.html.contains("Spam from a bot"), "{}", r.html);
    let r = agent.post(&format!("/admin/trash/{id}/restore"), &[("_csrf", &page.csrf())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.status, StatusCode::NOT_FOUND, "still deleted");

    let mut b = admin(&app).await;
    let r = b.get("/admin/trash").await;
    assert!(
        r.html.contains("Spam from a bot") && r.html.contains(r#"<a href="/admin" aria-current="page">"#),
        "{}",
        r.html
    );
    let r = b.submit("/admin/trash", &format!("/admin/trash/{id}/restore"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/cases/{id}"));
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.status, StatusCode::OK, "restored");
}

#[tokio::test]
async fn sla_badges_count_down_and_then_say_how_long_ago_the_target_was_missed() {
    let start = Timestamp::from_second(1_800_000_000).unwrap();
    let app = spawn_app_at(start).await;
    let clock = app.clock.clone().unwrap();
    let r = app.patch("/api/v1/organization", json!({"default_sla": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let case = app.create_case(json!({"subject": "Site is down", "priority": "critical"})).await;
    let path = format!("/cases/{}", case["id"].as_str().unwrap());
    let mut b = admin(&app).await;

    clock.advance(SignedDuration::from_mins(25));
    let list = b.get("/cases").await;
    assert!(list.html.contains(r#"<span class="badge sla-soon">due in 35 min</span>"#), "{}", list.html);
    clock.advance(SignedDuration::from_mins(100));
    let list = b.get("/cases").await;
    assert!(list.html.contains(r#"<span class="badge sla-breached">breached 1 h ago</span>"#), "{}", list.html);
    assert!(b.get(&path).await.html.contains("SLA breached 1 h ago"));
}

#[tokio::test]
async fn the_list_exports_to_xlsx_and_saves_its_search_as_a_view() {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};

    let app = spawn_app().await;
    app.create_case(json!({"subject": "Refund for order 17"})).await;
    app.create_case(json!({"subject": "Password reset"})).await;
    let mut b = admin(&app).await;

    let list = b.get("/cases?q=refund").await;
    assert!(list.html.contains(r#"href="/cases/export.xlsx?q=refund""#), "{}", list.html);
    let r = b.get("/cases/export.xlsx?q=refund").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-disposition"], "attachment; filename=\"cases.xlsx\"");
    let bytes = reqwest::Client::new()
        .get(format!("{}/cases/export.xlsx?q=refund", app.base))
        .header("cookie", format!("casedesk_session={}", b.cookies["casedesk_session"]))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let rows: Vec<String> = book.worksheet_range("Cases").unwrap().rows().map(|r| r[1].to_string()).collect();
    assert_eq!(rows, ["Subject", "Refund for order 17"]);
    assert_eq!(b.get("/cases/export.xlsx?q=priority%3E%3Dbogus").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(Browser::new(&app).get("/cases/export.xlsx").await.status, StatusCode::SEE_OTHER, "signed in only");

    // Saving the search: a name is required; then the view opens with its count in the sidebar.
    let r = b.submit("/cases?q=refund", "/views", &[("q", "refund"), ("name", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html.contains("id=\"save-error\"") && r.html.contains("<details class=\"save-view\" open>"),
        "{}",
        r.html
    );
    let r = b.submit("/cases?q=refund", "/views", &[("q", "refund"), ("name", "Refunds")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(r.location()).await;
    assert!(page.html.contains("<h1>Refunds</h1>") && page.html.contains("Refund for order 17"));
    assert!(!page.html.contains("Password reset"));
    assert!(
        page.html.contains(
            r#"aria-current="page">
        <span>Refunds</span>
        <span class="count">1</span>"#
        ),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn column_headers_sort_the_list_and_the_export() {
    let app = spawn_app().await;
    for (subject, priority) in [("Alpha", "low"), ("Bravo", "critical"), ("Charlie", "medium")] {
        app.create_case(json!({"subject": subject, "priority": priority})).await;
    }
    let mut b = admin(&app).await;
    let order = |html: &str| -> Vec<String> {
        html.split("class=\"case-link\" href=\"/cases/")
            .skip(1)
            .map(|s| s.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
            .collect()
    };

    // All open is newest-updated first; its Updated header says so.
    let r = b.get("/cases?view=all-open").await;
    assert_eq!(order(&r.html), ["Charlie", "Bravo", "Alpha"]);
    assert!(r.html.contains(r#"<th scope="col" aria-sort="descending"><a class="sort" href="/cases?view=all-open&#38;ordering=updated_at">Updated</a>"#), "{}", r.html);
    let r = b.get("/cases?view=all-open&ordering=-priority").await;
    assert_eq!(order(&r.html), ["Bravo", "Charlie", "Alpha"]);
    assert!(r.html.contains(r#"<a href="/cases?view=all-open" aria-current="page">"#), "still the view");
    assert!(r.html.contains(r#"href="/cases/export.xlsx?view=all-open&#38;ordering=-priority""#));
    let r = b.get("/cases?q=status%3Anew&ordering=priority").await;
    assert_eq!(order(&r.html), ["Alpha", "Charlie", "Bravo"]);
    let r = b.get("/cases?view=all-open&ordering=sideways").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("unknown ordering"), "{}", r.html);
}

/// The `value` of the options selected in the `<select>` named `name`.
fn selected(html: &str, name: &str) -> Vec<String> {
    let Some(at) = html.find(&format!("<select id=\"{name}\" name=\"{name}\">")) else { return vec![] };
    let select = &html[at..at + html[at..].find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .filter(|o| o.split('>').next().unwrap().ends_with(" selected"))
        .map(|o| o.split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn filter_controls_write_the_search_syntax_and_show_it() {
    let app = spawn_app().await;
    crate::routing::queue(&app, json!({"name": "Tier 1"})).await;
    app.create_case(json!({"subject": "Printer jams", "priority": "high", "tags": ["vip"]})).await;
    app.create_case(json!({"subject": "Printer smokes", "priority": "low"})).await;
    let mut b = admin(&app).await;

    // The form's choices become conditions; the text and the negated condition stay as typed.
    let r = b
        .get("/cases?filter=1&q=printer+-tag%3Aspam+priority%3Alow&f_status=new&f_priority=high&f_queue=&f_assignee=me&f_tag=vip,+gold")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/cases?q=printer+-tag%3Aspam+status%3Anew+priority%3Ahigh+assignee%3Ame+tag%3Avip%2Cgold"
    );
    let page = b.get(r.location()).await;
    assert!(
        page.html.contains(r#"value="printer -tag:spam status:new priority:high assignee:me tag:vip,gold""#),
        "{}",
        page.html
    );
    assert_eq!(selected(&page.html, "f_status"), ["new"]);
    assert_eq!(selected(&page.html, "f_priority"), ["high"]);
    assert_eq!(selected(&page.html, "f_assignee"), ["me"]);
    assert!(page.html.contains(r#"name="f_tag" value="vip,gold""#));
    assert!(page.html.contains(r#"<details class="filters" open>"#));
    assert_eq!(page.html.matches("class=\"case-link\"").count(), 0, "nobody's case is assigned to me");

    // A queue with a space is quoted; clearing a choice removes its condition.
    let r = b.get("/cases?filter=1&q=printer+status%3Anew&f_status=&f_queue=Tier+1").await;
    assert_eq!(r.location(), "/cases?q=printer+queue%3A%22Tier+1%22");
    let r = b.get("/cases?filter=1&q=priority%3Ahigh&f_priority=").await;
    assert_eq!(r.location(), "/cases", "no query left: the default view");
    // A view's own query shows in the controls, composite values included.
    let page = b.get("/cases?view=unassigned").await;
    assert_eq!(selected(&page.html, "f_status"), ["new,open,pending,on_hold"]);
    assert_eq!(selected(&page.html, "f_assignee"), ["none"]);
    let page = b.get("/cases?q=printer").await;
    assert_eq!(page.html.matches("class=\"case-link\"").count(), 2);
    assert!(page.html.contains(r#"<details class="filters">"#), "nothing filtered: closed");
}

#[tokio::test]
async fn bulk_actions_change_each_chosen_case_and_report_each_result() {
    let app = spawn_app().await;
    let (agent, _) = app.agent().await;
    let mut ids = Vec::new();
    for s in ["Alpha", "Bravo", "Charlie"] {
        ids.push(app.create_case(json!({"subject": s})).await["id"].as_str().unwrap().to_string());
    }
    let closed = app.create_case(json!({"subject": "Delta"})).await["id"].as_str().unwrap().to_string();
    assert_eq!(app.patch(&format!("/api/v1/cases/{closed}"), json!({"status": "closed"})).await.status, StatusCode::OK);
    let mut b = admin(&app).await;

    let list = b.get("/cases?view=all").await;
    assert!(
        list.html
            .contains(&format!(r#"<input type="checkbox" name="ids" value="{}" aria-label="Select case #1">"#, ids[0]))
    );
    assert!(list.html.contains(r#"<option value="delete">Delete</option>"#), "admins may delete");
    let token = list.csrf();
    let mut form = vec![("_csrf", token.as_str()), ("view", "all"), ("action", "assign"), ("owner_id", agent.as_str())];
    // Parameters of other actions, sent along by a form without JavaScript, are left out.
    form.extend([("status", "pending"), ("tags", "x")]);
    for id in ids.iter().chain([&closed]) {
        form.push(("ids", id));
    }
    let r = b.post("/cases/bulk", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert_eq!(r.headers["hx-push-url"], "/cases?view=all");
    assert!(r.html.contains("Assign: 3 changed, 0 unchanged, 1 failed"), "{}", r.html);
    assert!(r.html.contains(&format!(r#"<li class="result-changed" data-case="{}"><span class="outcome">changed</span> <a href="/cases/{}">#1 Alpha</a></li>"#, ids[0], ids[0])), "{}", r.html);
    let failed = r
        .html
        .split(&format!(r#"<li class="result-failed" data-case="{closed}">"#))
        .nth(1)
        .expect("the closed case failed");
    assert!(failed.split("</li>").next().unwrap().contains("#4 Delta</a> — "), "{failed}");
    for id in &ids {
        let c = app.get(&format!("/api/v1/cases/{id}")).await.body;
        // Assigned (which opens a new case), and not set pending by the other action's field.
        assert_eq!((c["owner_id"].as_str(), c["status"].as_str()), (Some(agent.as_str()), Some("open")));
    }
    // Again: nothing to change.
    let r = b.post("/cases/bulk", &form).await;
    assert!(r.html.contains("Assign: 0 changed, 3 unchanged, 1 failed"), "{}", r.html);

    // Tags, then nothing chosen, then an unknown action.
    let mut tags = vec![("_csrf", token.as_str()), ("q", "bravo"), ("action", "add_tags"), ("tags", "vip, billing")];
    tags.push(("ids", &ids[1]));
    let r = b.post("/cases/bulk", &tags).await;
    assert!(r.html.contains("Add tags: 1 changed"), "{}", r.html);
    assert_eq!(r.headers["hx-push-url"], "/cases?q=bravo");
    assert_eq!(app.get(&format!("/api/v1/cases/{}", ids[1])).await.body["tags"], json!(["vip", "billing"]));
    let r = b.post("/cases/bulk", &[("_csrf", &token), ("view", "all"), ("action", "close")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="bulk-error">Select at least one case first."#), "{}", r.html);
    let r = b.post("/cases/bulk", &[("_csrf", &token), ("action", "explode"), ("ids", &ids[0])]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("id=\"bulk-error\">Action: unknown action"), "{}", r.html);
    assert_eq!(
        b.post("/cases/bulk", &[("action", "close"), ("ids", &ids[0])]).await.status,
        StatusCode::FORBIDDEN,
        "CSRF"
    );

    // Agents are not offered Delete, and a forged one is refused as a whole.
    let mut agnes = agnes(&app).await;
    let list = agnes.get("/cases?view=all").await;
    assert!(!list.html.contains(r#"value="delete""#));
    let r = agnes.post("/cases/bulk", &[("_csrf", &list.csrf()), ("action", "delete"), ("ids", &ids[0])]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/cases/{}", ids[0])).await.status, StatusCode::OK, "not deleted");
    // Another organization's case is "no such case", like a missing one.
    let theirs = their_case(&app).await;
    let r = b.post("/cases/bulk", &[("_csrf", &token), ("action", "close"), ("ids", &theirs)]).await;
    assert!(r.html.contains("Close: 0 changed, 0 unchanged, 1 failed") && !r.html.contains("Theirs"), "{}", r.html);
    assert_eq!(b.get("/cases/bulk").await.location(), "/cases");
}

#[tokio::test]
async fn timers_keep_running_across_pages_and_time_is_logged_against_the_estimate() {
    let start = Timestamp::from_second(1_800_000_000).unwrap();
    let app = spawn_app_at(start).await;
    let clock = app.clock.clone().unwrap();
    let id = app.create_case(json!({"subject": "Migrate the mail server"})).await["id"].as_str().unwrap().to_string();
    let path = format!("/cases/{id}");
    let mut b = admin(&app).await;

    let page = b.get(&path).await;
    assert!(page.html.contains(r#"id="timer-start">Start timer</button>"#), "{}", page.html);
    assert!(!page.html.contains("timer-indicator"), "no timer yet");
    let r = b.submit(&path, &format!("{path}/timer"), &[("do", "start")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{path}#time").as_str()));

    // Every page's header shows the running timer, counted by the server.
    clock.advance(SignedDuration::from_mins(5));
    let list = b.get("/cases").await;
    assert!(
        list.html.contains(&format!(r##"<a class="timer-indicator" id="timer-indicator" href="/cases/{id}#time""##)),
        "{}",
        list.html
    );
    assert!(list.html.contains(r#"<span class="timer-clock" data-elapsed="300" data-running="true">0:05:00</span>"#));
    let page = b.get(&path).await;
    assert!(page.html.contains(r#"class="timer timer-running""#) && page.html.contains("id=\"timer-stop\""));

    // Paused, it stops counting and leaves the header; resumed, it goes on from there.
    b.submit(&path, &format!("{path}/timer"), &[("do", "pause")]).await;
    clock.advance(SignedDuration::from_mins(10));
    let page = b.get(&path).await;
    assert!(page.html.contains(r#"data-elapsed="300">0:05:00</span>"#) && page.html.contains(">Resume</button>"));
    assert!(!page.html.contains("timer-indicator"));
    b.submit(&path, &format!("{path}/timer"), &[("do", "start")]).await;
    clock.advance(SignedDuration::from_mins(1));
    let r = b.submit(&path, &format!("{path}/timer"), &[("do", "stop")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get(&path).await;
    assert!(page.html.contains(r#"Spent <strong id="time-spent">6 min</strong>"#), "{}", page.html);
    assert!(page.html.contains("<strong>6 min</strong> Administrator"), "the entry is listed");

    // An estimate, then time logged by hand past it.
    let r = b.submit(&path, &format!("{path}/estimate"), &[("estimate", "1h")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for d in ["90m", "1.5h"] {
        let r = b.submit(&path, &format!("{path}/time"), &[("duration", d), ("note", "cut-over")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{d}");
    }
    let page = b.get(&path).await;
    assert!(
        page.html.contains(r#"Spent <strong id="time-spent">3 h 6 min</strong> of <strong id="time-estimate">1 h</strong> estimated — <span class="over">over the estimate</span>"#),
        "{}",
        page.html
    );
    assert!(page.html.contains(r#"max="60""#) && page.html.contains(r#"value="186""#), "the meter");
    let time = app.get(&format!("/api/v1/cases/{id}/time-entries")).await.body;
    assert_eq!(time["time_spent_seconds"], 3 * 3600 + 6 * 60, "{time}");

    // What cannot be read is explained in the panel, with what was typed.
    let r = b.submit(&path, &format!("{path}/time"), &[("duration", "a while")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="time-error""#) && r.html.contains(r#"value="a while""#), "{}", r.html);
    assert!(r.html.contains("<details class=\"log-time\" open>"));
    assert_eq!(b.submit(&path, &format!("{path}/timer"), &[("do", "explode")]).await.status, StatusCode::BAD_REQUEST);

    // Agents are not offered the estimate, and one sent anyway is refused on the page.
    let mut agnes = agnes(&app).await;
    let page = agnes.get(&path).await;
    assert!(!page.html.contains(&format!(r#"action="/cases/{id}/estimate""#)));
    let r = agnes.submit(&path, &format!("{path}/estimate"), &[("estimate", "9h")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.html.contains(r#"id="time-error">Your role does not allow you to set estimates"#), "{}", r.html);
    // Another organization's case has no timer to start.
    let theirs = their_case(&app).await;
    let r = b.submit(&path, &format!("/cases/{theirs}/timer"), &[("do", "start")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// A server-sent event stream, read an event at a time.
struct Events {
    resp: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(base: &str, path: &str, session: &str) -> Events {
        let resp = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .header("cookie", format!("casedesk_session={session}"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Events { resp, buf: String::new() }
    }

    /// The data of the next event named `name` whose data satisfies `ok`, waiting up to 20 s.
    async fn expect(&mut self, name: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |f: &str| {
                    block.lines().filter_map(|l| l.strip_prefix(f)).map(str::trim_start).collect::<Vec<_>>().join("\n")
                };
                let (event, data) = (field("event:"), field("data:"));
                if event == name && ok(&data) {
                    return data;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {name} event in time; the stream said {:?}", self.buf))
                .unwrap()
                .expect("the stream goes on");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The page's live stream, from its `data-live`.
fn live_path(html: &str) -> String {
    let at = html.find("data-live=\"").expect("a live page") + 11;
    html[at..at + html[at..].find('"').unwrap()].replace("&#38;", "&")
}

#[tokio::test]
async fn open_pages_hear_of_changes_and_of_each_other_across_instances() {
    let app = spawn_app().await;
    let second = app.another_instance().await;
    let id = app.create_case(json!({"subject": "Printer jams"})).await["id"].as_str().unwrap().to_string();
    // On PostgreSQL an event shows in the feed once every older transaction of the cluster has
    // ended (other tests' included); until then the organization's feed is empty and a page has
    // no cursor to give its stream.
    for _ in 0..200 {
        if !app.get("/api/v1/events").await.body["data"].as_array().expect("data").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let path = format!("/cases/{id}");
    let mut b = admin(&app).await;
    let mut agnes = agnes(&app).await;
    let session = |b: &Browser| b.cookies["casedesk_session"].clone();

    // The admin's page streams from the second instance, Agnes's from the first.
    let live = live_path(&b.get(&path).await.html);
    assert!(live.starts_with(&format!("/cases/{id}/live?after=")), "{live}");
    let mut mine = Events::open(&second.base, &live, &session(&b)).await;
    let hers = Events::open(&app.base, &format!("{path}/live"), &session(&agnes)).await;
    let line = mine.expect("presence", |d| d.contains("Agnes")).await;
    assert!(
        line.contains(
            r#"<span class="person"><span class="avatar" aria-hidden="true">A</span> Agnes is viewing</span>"#
        ),
        "{line}"
    );
    assert!(!line.contains("Administrator"), "not oneself: {line}");
    let r = agnes.submit(&path, &format!("{path}/typing"), &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // She keeps typing (a mark lasts seconds), as the composer reports it, until it is seen.
    let (url, cookie, token) = (
        format!("{}{path}/typing", app.base),
        format!("casedesk_session={}", session(&agnes)),
        agnes.get(&path).await.csrf(),
    );
    let typing = tokio::spawn(async move {
        loop {
            let _ =
                reqwest::Client::new().post(&url).header("cookie", &cookie).header("x-csrf-token", &token).send().await;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
    mine.expect("presence", |d| d.contains("Agnes is typing a reply")).await;
    typing.abort();
    // Agnes's page (rendered now) shows the admin, who is on the case too.
    assert!(agnes.get(&path).await.html.contains("Administrator is viewing"));

    // A reply made through the API on the first instance reaches the page on the second.
    app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": "From the API"})).await;
    mine.expect("changed", |_| true).await;
    // So does any change to the organization's cases, for the list.
    let list = live_path(&b.get("/cases").await.html);
    assert!(list.starts_with("/cases/live?after="), "{list}");
    let mut cases = Events::open(&second.base, &list, &session(&b)).await;
    app.patch(&path.replace("/cases/", "/api/v1/cases/"), json!({"priority": "high"})).await;
    cases.expect("changed", |_| true).await;
    // A live refresh of the list brings the view counts along, to swap in out of band.
    let r = b.get_with("/cases", &[("hx-request", "true"), ("hx-target", "results"), ("x-live", "1")]).await;
    assert!(r.html.contains(r#"<ul class="views" id="views" hx-swap-oob="true">"#) && !r.html.contains("<html"));

    // Agnes closes her page: she leaves the case without waiting for her presence to run out.
    drop(hers);
    mine.expect("presence", |d| !d.contains("Agnes")).await;

    // A page whose stream connects late still hears what happened since it was rendered.
    let live = live_path(&b.get(&path).await.html);
    app.post(&format!("/api/v1/cases/{id}/comments"), json!({"body": "While connecting"})).await;
    let mut late = Events::open(&app.base, &live, &session(&b)).await;
    late.expect("changed", |_| true).await;

    // Another organization's case has no stream; without a session there is none either.
    let theirs = their_case(&app).await;
    assert_eq!(b.get(&format!("/cases/{theirs}/live")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.submit(&path, &format!("/cases/{theirs}/typing"), &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(Browser::new(&app).get(&format!("{path}/live")).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn case_panels_show_sla_targets_and_work_milestones_links_and_files() {
    use crate::files::{BOUNDARY, multipart};
    let app = spawn_app().await;
    assert_eq!(app.patch("/api/v1/organization", json!({"default_sla": true})).await.status, StatusCode::OK);
    let id = app.create_case(json!({"subject": "Printer jams", "priority": "high"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.create_case(json!({"subject": "Printer smokes"})).await["id"].as_str().unwrap().to_string();
    let path = format!("/cases/{id}");
    let mut b = admin(&app).await;

    let page = b.get(&path).await;
    assert!(
        page.html.contains(
            r#"<li class="sla-row"><span>First response</span> <span class="badge sla-state-running">running</span>"#
        ),
        "{}",
        page.html
    );
    assert!(page.html.contains("<strong>Administrator</strong>"), "the requester");

    // Milestones: added with a due time, completed, reopened.
    let r =
        b.submit(&path, &format!("{path}/milestones"), &[("name", "Parts ordered"), ("due", "2099-03-01T14:30")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{path}#milestones").as_str()));
    let ms = app.get(&format!("/api/v1/cases/{id}/milestones")).await.body;
    let m = ms["data"][0]["id"].as_str().unwrap().to_string();
    assert!(b.get(&path).await.html.contains(r#"<li class="milestone ms-current">"#));
    b.submit(&path, &format!("{path}/milestones"), &[("milestone_id", &m), ("do", "complete")]).await;
    assert!(b.get(&path).await.html.contains(r#"<li class="milestone ms-completed">"#));
    let r = b.submit(&path, &format!("{path}/milestones"), &[("name", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="milestones-error""#), "{}", r.html);
    let r = b.submit(&path, &format!("/cases/{other}/milestones"), &[("milestone_id", &m), ("do", "reopen")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another case's milestone");

    // Links: to a case named by its page's address; removed again; then close as duplicate.
    let r = b
        .submit(
            &path,
            &format!("{path}/links"),
            &[("do", "link"), ("type", "related"), ("case", &format!("{}/cases/{other}#x", app.base))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(&path).await;
    assert!(
        page.html
            .contains(&format!(r#"<span class="muted">Related</span> <a href="/cases/{other}">#2 Printer smokes</a>"#)),
        "{}",
        page.html
    );
    let link = app.get(&format!("/api/v1/cases/{id}/links")).await.body["data"][0]["id"].as_str().unwrap().to_string();
    b.submit(&path, &format!("{path}/links"), &[("do", "unlink"), ("link_id", &link)]).await;
    assert!(b.get(&path).await.html.contains("<p class=\"muted\">None.</p>"));
    let r = b.submit(&path, &format!("{path}/links"), &[("do", "link"), ("case", "case_nope")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains(r#"id="links-error""#));
    let r = b.submit(&path, &format!("/cases/{other}/links"), &[("do", "duplicate"), ("case", &id)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/cases/{other}")).await.body["status"], "closed");

    // Files: uploaded with the form's token, downloaded, attached to a reply.
    let token = b.get(&path).await.csrf();
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(&[
        ("_csrf", None, None, token.as_bytes()),
        ("file", Some("notes.txt"), Some("text/plain"), b"toner low"),
    ]);
    let r = b.post_raw(&format!("{path}/files"), &ct, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let files = app.get(&format!("/api/v1/cases/{id}/files")).await.body;
    let f = files["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(r.location(), format!("{path}#file-{f}"));
    let d = b.get(&format!("{path}/files/{f}")).await;
    assert_eq!((d.status, d.html.as_str()), (StatusCode::OK, "toner low"));
    assert!(d.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let page = b.get(&path).await;
    assert!(page.html.contains(&format!(r#"<input type="checkbox" name="file_ids" value="{f}"> notes.txt"#)));
    let r = b
        .submit(
            &path,
            &format!("{path}/comments"),
            &[("visibility", "reply"), ("body", "See the notes"), ("file_ids", &f)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get(&path).await;
    assert!(page.html.contains("in a message") && !page.html.contains("Attach files of the case"), "{}", page.html);
    // Without the token nothing is stored; another organization's case is not found.
    let body = multipart(&[("file", Some("forged.txt"), Some("text/plain"), b"x")]);
    assert_eq!(b.post_raw(&format!("{path}/files"), &ct, body).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}/files")).await.body["data"].as_array().unwrap().len(), 1);
    let theirs = their_case(&app).await;
    let body = multipart(&[("_csrf", None, None, token.as_bytes()), ("file", Some("a.txt"), Some("text/plain"), b"x")]);
    assert_eq!(b.post_raw(&format!("/cases/{theirs}/files"), &ct, body).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&format!("/cases/{theirs}/files/{f}")).await.status, StatusCode::NOT_FOUND);
    let r = b.submit(&path, &format!("/cases/{theirs}/links"), &[("do", "link"), ("case", &id)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_case_page_applies_macros_sends_updates_and_keeps_workflow_and_profile_fields() {
    let app = spawn_app().await;
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let id = app.create_case(json!({"subject": "Invoice wrong"})).await["id"].as_str().unwrap().to_string();
    let path = format!("/cases/{id}");
    let status = app.post("/api/v1/case-statuses", json!({"name": "Waiting on vendor", "category": "on_hold"})).await;
    let status = status.body["id"].as_str().unwrap().to_string();
    let category = app
        .post(
            "/api/v1/case-categories",
            json!({"name": "Billing", "fields": [
                {"key": "invoice", "label": "Invoice number", "kind": "text"},
                {"key": "amount", "label": "Amount", "kind": "number"},
                {"key": "refund", "label": "Refund", "kind": "checkbox"}]}),
        )
        .await;
    let category = category.body["id"].as_str().unwrap().to_string();
    let m = app
        .post("/api/v1/macros", json!({"name": "Ask for the invoice", "shared": true, "body": "Please send the invoice, {{requester.name}}.",
            "actions": [{"type": "add_tag", "tag": "billing"}]}))
        .await;
    let m = m.body["id"].as_str().unwrap().to_string();
    let mut b = admin(&app).await;

    // Custom status and category from the header; the category's fields appear in their panel.
    let page = b.get(&path).await;
    assert!(
        page.html.contains(&format!(r#"<option value="{status}">Waiting on vendor (On hold)</option>"#)),
        "{}",
        page.html
    );
    let r = b.submit(&path, &path, &[("custom_status_id", &status), ("category_id", &category)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(&path).await;
    assert!(page.html.contains(r#"id="case-status">Waiting on vendor</span>"#), "{}", page.html);
    assert!(
        page.html.contains(r#"<h2 id="details-title">Billing</h2>"#)
            && page.html.contains(r#"name="cf.amount" type="number""#)
    );
    let r = b.submit(&path, &format!("{path}/fields"), &[("cf.invoice", "INV-7"), ("cf.amount", "lots")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the amount is a number");
    assert!(r.html.contains(r#"id="details-error""#), "{}", r.html);
    let r = b
        .submit(
            &path,
            &format!("{path}/fields"),
            &[("cf.invoice", "INV-7"), ("cf.amount", "12.5"), ("cf.refund", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let c = app.get(&format!("/api/v1/cases/{id}")).await.body;
    assert_eq!(c["custom_fields"], json!({"invoice": "INV-7", "amount": 12.5, "refund": true}));
    assert_eq!(c["status"], "on_hold");

    // A macro from the composer: its reply and its actions.
    let r = b.submit(&path, &format!("{path}/macro"), &[("macro_id", &m)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = b.get(&path).await;
    assert!(page.html.contains("Please send the invoice, Administrator."), "{}", page.html);
    assert_eq!(app.get(&format!("/api/v1/cases/{id}")).await.body["tags"], json!(["billing"]));

    // An update by email: refused until mail is set up, then sent to the recipients given.
    let update = [("to", "finance@firma.test"), ("message", "Credit note issued.")];
    let r = b.submit(&path, &format!("{path}/send-update"), &update).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.html.contains(r#"id="composer-error""#), "{}", r.html);
    crate::email::set_up_mail(&app, &sink).await;
    let r = b.submit(&path, &format!("{path}/send-update"), &update).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let mail = app.get(&format!("/api/v1/cases/{id}/emails")).await.body;
    assert_eq!(mail["data"][0]["to"], json!(["finance@firma.test"]), "{mail}");
    assert!(b.get(&path).await.html.contains("Credit note issued."));
}

#[tokio::test]
async fn contacts_and_accounts_show_their_cases_and_open_new_ones_for_them() {
    let app = spawn_app().await;
    let acme =
        app.post("/api/v1/accounts", json!({"name": "Acme Corp", "domain": "acme.example", "tier": "vip"})).await;
    let acme = acme.body["id"].as_str().unwrap().to_string();
    let zoe = app
        .post("/api/v1/contacts", json!({"name": "Zoë Keller", "email": "zoe@acme.example", "account_id": acme}))
        .await;
    let zoe = zoe.body["id"].as_str().unwrap().to_string();
    app.create_case(json!({"subject": "Zoë's printer", "contact_id": zoe})).await;
    app.create_case(json!({"subject": "Someone else's"})).await;
    let mut b = admin(&app).await;

    let list = b.get("/contacts").await;
    assert!(
        list.html.contains(&format!(r#"<a class="case-link" href="/contacts/{zoe}">Zoë Keller</a>"#)),
        "{}",
        list.html
    );
    let page = b.get(&format!("/contacts/{zoe}")).await;
    assert!(page.html.contains("Zoë&#39;s printer") && !page.html.contains("Someone else"), "{}", page.html);
    assert!(page.html.contains("<dd>Acme Corp</dd>"));
    let accounts = b.get("/accounts").await;
    assert!(accounts.html.contains("acme.example · vip"), "{}", accounts.html);
    let page = b.get(&format!("/accounts/{acme}")).await;
    assert!(page.html.contains("Zoë&#39;s printer") && page.html.contains(&format!(r#"href="/contacts/{zoe}""#)));

    // "New case" from the contact's page opens the form for her, and the case is hers.
    let form = b.get(&format!("/cases/new?contact_id={zoe}")).await;
    assert!(form.html.contains(r#"<p class="muted" id="new-case-for">For Zoë Keller</p>"#), "{}", form.html);
    let token = form.csrf();
    let r = b.post("/cases", &[("_csrf", &token), ("subject", "Toner again"), ("contact_id", &zoe)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let id = r.location().trim_start_matches("/cases/");
    let c = app.get(&format!("/api/v1/cases/{id}")).await.body;
    assert_eq!((c["contact_id"].as_str(), c["account_id"].as_str()), (Some(zoe.as_str()), Some(acme.as_str())));

    // Another organization's contact or account is the 404 page.
    let (_, other) = app.other_org().await;
    let theirs =
        app.call(reqwest::Method::POST, "/api/v1/contacts", Some(&other), Some(&json!({"name": "Theirs"})), &[]).await;
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    for path in
        [format!("/contacts/{theirs}"), format!("/cases/new?contact_id={theirs}"), "/accounts/acc_missing".into()]
    {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.html.contains("Theirs"));
    }
}
