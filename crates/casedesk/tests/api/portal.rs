//! The customer portal over real HTTP: a requester asks for a sign-in link, reads it from the
//! mail that reached a real SMTP sink, follows it once (a second use and an expired link are
//! refused), sees their own cases and never another's (a 404 page) nor internal notes, opens a
//! case, replies as a mailed reply would, closes, and rates a resolved case through the CSAT
//! survey rules; a visitor of the host application signs in with a signed token; an account
//! shares its cases only when it says so; the portal's cookie and the agents' open nothing of
//! each other; a requester attaches files to a new case and a reply and downloads only the
//! files of their cases that are not the agents' own.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::email::set_up_mail;
use crate::files::{BOUNDARY, Part, multipart, upload};
use crate::helpers::{TestApp, spawn_app_at, spawn_app_with_file_limit};
use crate::routing::ts;
use crate::smtp_sink::SmtpSink;
use crate::ui::{Browser, Page};
use crate::visitors::{claims, hs_key, hs256};

/// The path of the `n`-th (1-based) sign-in link mailed to `to`, waiting for it to arrive.
async fn sign_in_link(sink: &SmtpSink, to: &str, n: usize) -> String {
    let start = Instant::now();
    loop {
        let links: Vec<String> = sink
            .messages()
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == to))
            .filter_map(|m| {
                let text = m.parsed().body_text(0)?.to_string();
                let url = text.split_whitespace().find(|w| w.contains("/portal/link/"))?.to_string();
                Some(url[url.find("/portal/link/").unwrap()..].to_string())
            })
            .collect();
        if links.len() >= n {
            return links[n - 1].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no sign-in link #{n} for {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn contact(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v1/contacts", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn case_for(app: &TestApp, contact_id: &str, subject: &str) -> String {
    let c = app.create_case(json!({"subject": subject, "contact_id": contact_id, "requester_id": contact_id})).await;
    c["id"].as_str().unwrap().to_string()
}

async fn case_json(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Asks for a link on the portal's sign-in form.
async fn ask_for_link(b: &mut Browser, email: &str) -> Page {
    let form = b.get("/portal").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let token = form.csrf();
    b.post("/portal/sign-in", &[("_csrf", &token), ("email", email)]).await
}

/// A browser signed in to the portal through a mailed link.
async fn signed_in(app: &TestApp, sink: &SmtpSink, email: &str, n: usize) -> Browser {
    let mut b = Browser::new(app);
    assert_eq!(ask_for_link(&mut b, email).await.status, StatusCode::OK);
    let link = sign_in_link(sink, email, n).await;
    let r = b.post(&link, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/portal"), "{}", r.html);
    b
}

#[tokio::test]
async fn a_requester_signs_in_by_a_mailed_link_and_follows_only_their_own_cases() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let clock = app.clock.clone().unwrap();
    let sink = SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    let ana = contact(&app, json!({"name": "Ana", "email": "ana@example.com"})).await;
    let bob = contact(&app, json!({"name": "Bob", "email": "bob@example.com"})).await;
    let printer = case_for(&app, &ana, "Printer jams").await;
    let theirs = case_for(&app, &bob, "Bob's VPN").await;
    let r = app.post(&format!("/api/v1/cases/{printer}/comments"), json!({"body": "Try the rear tray."})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(&format!("/api/v1/cases/{printer}/comments"), json!({"body": "INTERNAL: toner budget", "internal": true}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // The form answers alike for a known and an unknown address, and mails only the known one.
    let mut stranger = Browser::new(&app);
    let unknown = ask_for_link(&mut stranger, "nobody@example.com").await;
    let mut b = Browser::new(&app);
    let known = ask_for_link(&mut b, "Ana@Example.com").await;
    assert_eq!((known.status, unknown.status), (StatusCode::OK, StatusCode::OK));
    assert!(known.html.contains("id=\"portal-link-sent\"") && unknown.html.contains("id=\"portal-link-sent\""));
    let strip = |p: &Page, email: &str| {
        let h = p.html.replace(email, "");
        let at = h.find("name=\"_csrf\" value=\"").unwrap() + 20;
        format!("{}{}", &h[..at], &h[at + 32..])
    };
    assert_eq!(strip(&known, "Ana@Example.com"), strip(&unknown, "nobody@example.com"), "same page either way");
    // Without the form's own token, nothing is sent.
    let bare = Browser::new(&app).post("/portal/sign-in", &[("email", "ana@example.com")]).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    let bad = ask_for_link(&mut Browser::new(&app), "not-an-address").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("email: must be an email address"), "{}", bad.html);

    let link = sign_in_link(&sink, "ana@example.com", 1).await;
    let mail = sink
        .messages()
        .into_iter()
        .find(|m| m.parsed().body_text(0).is_some_and(|t| t.contains(&link)))
        .expect("the link's message");
    assert_eq!(mail.rcpt_to, ["ana@example.com"]);
    assert_eq!(mail.parsed().subject(), Some("Sign in to Acme Support"));
    assert!(
        sink.messages().iter().all(|m| m.rcpt_to != ["nobody@example.com"]),
        "an unknown address is never written to"
    );

    // Opening the link only shows a button; the button signs in, with a cookie of the portal's own.
    let opened = b.get(&link).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.html.contains("id=\"portal-link-continue\""));
    let r = b.post(&link, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/portal"), "{}", r.html);
    let set: Vec<&str> = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session = set.iter().find(|c| c.starts_with("casedesk_portal=")).expect("a portal cookie");
    for attr in ["Path=/portal", "HttpOnly", "SameSite=Lax"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    // The link works once.
    let again = Browser::new(&app).post(&link, &[]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.html.contains("id=\"portal-link-refused\""));

    // Their cases, not Bob's; the thread without internal notes; Bob's case is a 404 page.
    let home = b.get("/portal").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.html.contains("Printer jams") && !home.html.contains("Bob&#x27;s VPN") && !home.html.contains("VPN"));
    let page = b.get(&format!("/portal/cases/{printer}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Try the rear tray.") && !page.html.contains("toner budget"), "{}", page.html);
    assert_eq!(b.get(&format!("/portal/cases/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let r = b
        .submit(&format!("/portal/cases/{printer}"), &format!("/portal/cases/{theirs}/reply"), &[("body", "hi")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no writing to another's case either");
    // The portal's cookie is no agent session.
    let agent_page = b.get("/cases").await;
    assert_eq!(agent_page.status, StatusCode::SEE_OTHER);
    assert!(agent_page.location().starts_with("/login"));

    // Opening a case: CSRF checked, the subject required, then the case is Ana's, from the web.
    let no_csrf = b.post("/portal/cases", &[("subject", "Forged")]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let blank = b.submit("/portal/cases/new", "/portal/cases", &[("subject", ""), ("description", "x")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.html.contains("id=\"subject-error\""), "{}", blank.html);
    let made = b
        .submit(
            "/portal/cases/new",
            "/portal/cases",
            &[("subject", "Scanner offline"), ("description", "Since Monday.")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let new_id = made.location().trim_start_matches("/portal/cases/").to_string();
    let c = case_json(&app, &new_id).await;
    assert_eq!((c["requester_id"].as_str(), c["contact_id"].as_str()), (Some(ana.as_str()), Some(ana.as_str())));
    assert_eq!((c["channel"].as_str(), c["subject"].as_str()), (Some("web"), Some("Scanner offline")));

    // A reply is a customer comment, as a mailed reply is: the case waits on the agents again.
    assert_eq!(case_json(&app, &printer).await["is_waiting"], false, "the agent answered last");
    let path = format!("/portal/cases/{printer}");
    let r = b.submit(&path, &format!("{path}/reply"), &[("body", "Still jams on page 2.")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, path.as_str()), "{}", r.html);
    assert_eq!(case_json(&app, &printer).await["is_waiting"], true);
    let comments = app.get(&format!("/api/v1/cases/{printer}/comments")).await.body;
    let last = comments["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["body"].as_str(), last["author_type"].as_str()),
        (Some("Still jams on page 2."), Some("customer"))
    );
    assert_eq!(last["internal"], false);
    let empty = b.submit(&path, &format!("{path}/reply"), &[("body", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Closing: the case is closed and takes no more replies.
    let r = b.submit(&path, &format!("{path}/close"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert_eq!(case_json(&app, &printer).await["status"], "closed");
    let shown = b.get(&path).await;
    assert!(shown.html.contains("id=\"portal-closed\"") && !shown.html.contains("id=\"portal-reply\""));
    let token = shown.csrf();
    let late = b.post(&format!("{path}/reply"), &[("_csrf", &token), ("body", "One more thing")]).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.html);

    // Rating: a resolved case's survey is answered from the portal, under the survey's rules.
    let r = app.patch("/api/v1/csat/settings", json!({"enabled": true, "scale": "good_bad"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.patch(&format!("/api/v1/cases/{new_id}"), json!({"status": "resolved"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let path = format!("/portal/cases/{new_id}");
    let start = Instant::now();
    let page = loop {
        let p = b.get(&path).await;
        if p.html.contains("id=\"portal-rate\"") {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no survey on the resolved case: {}", p.html);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let token = page.csrf();
    let wrong = b.post(&format!("{path}/rate"), &[("_csrf", &token), ("rating", "7")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rated =
        b.post(&format!("{path}/rate"), &[("_csrf", &token), ("rating", "good"), ("comment", "Quick, thanks")]).await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.html);
    assert!(rated.html.contains("id=\"portal-notice\"") && rated.html.contains("id=\"portal-rated\""));
    let surveys = app.get(&format!("/api/v1/cases/{new_id}/csat")).await.body;
    let s = surveys.as_array().unwrap().last().unwrap();
    assert_eq!((s["rating"].as_str(), s["comment"].as_str()), (Some("good"), Some("Quick, thanks")), "{s}");
    // Eight days on, the session is long over (12 hours at most); signed in again, the rating
    // stands and the survey's window is closed.
    clock.advance(SignedDuration::from_hours(24 * 8));
    assert_eq!(b.get(&path).await.location(), "/portal", "an expired session signs in again");
    let mut b = signed_in(&app, &sink, "ana@example.com", 2).await;
    let shown = b.get(&path).await;
    assert!(shown.html.contains("id=\"portal-rated\"") && !shown.html.contains("id=\"portal-rate\""));
    let token = shown.csrf();
    let closed = b.post(&format!("{path}/rate"), &[("_csrf", &token), ("rating", "bad")]).await;
    assert_eq!(closed.status, StatusCode::CONFLICT, "{}", closed.html);

    // Signing out ends the session.
    let r = b.submit("/portal", "/portal/sign-out", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(b.get("/portal").await.html.contains("id=\"portal-sign-in\""));
    assert_eq!(b.get(&path).await.location(), "/portal");
}

#[tokio::test]
async fn a_sign_in_link_expires_after_fifteen_minutes() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let clock = app.clock.clone().unwrap();
    let sink = SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    contact(&app, json!({"name": "Ana", "email": "ana@example.com"})).await;
    let mut b = Browser::new(&app);
    assert_eq!(ask_for_link(&mut b, "ana@example.com").await.status, StatusCode::OK);
    let link = sign_in_link(&sink, "ana@example.com", 1).await;
    clock.advance(SignedDuration::from_mins(15));
    let r = b.post(&link, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.html);
    assert!(r.html.contains("id=\"portal-link-refused\""));
    assert!(!b.cookies.contains_key("casedesk_portal"));
    // A fresh link, used in time, works.
    let mut b = signed_in(&app, &sink, "ana@example.com", 2).await;
    assert!(b.get("/portal").await.html.contains("id=\"portal-no-cases\""));
}

#[tokio::test]
async fn a_visitor_of_the_host_application_signs_in_with_a_signed_token() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let now: Timestamp = ts("2026-06-01T09:00:00Z");
    let secret = hs_key(&app, "host-1").await;
    let mine = contact(&app, json!({"name": "Vera", "external_id": "visitor-7"})).await;
    let other = contact(&app, json!({"name": "Otto", "external_id": "visitor-8"})).await;
    let visible = case_for(&app, &mine, "Invoice question").await;
    let hidden = case_for(&app, &other, "Otto's refund").await;
    let org = app.org_id.clone();
    let token = hs256("host-1", secret.as_bytes(), &claims("visitor-7", now));

    let mut b = Browser::new(&app);
    let r = b.get(&format!("/portal/visitor?org={org}&token={token}")).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/portal"), "{}", r.html);
    let home = b.get("/portal").await;
    assert!(home.html.contains("Invoice question") && !home.html.contains("refund"), "{}", home.html);
    assert_eq!(b.get(&format!("/portal/cases/{visible}")).await.status, StatusCode::OK);
    assert_eq!(b.get(&format!("/portal/cases/{hidden}")).await.status, StatusCode::NOT_FOUND);

    // A token signed with another secret, an expired one, none, or for an unknown visitor.
    let forged = hs256("host-1", b"not-the-secret", &claims("visitor-7", now));
    let expired = hs256("host-1", secret.as_bytes(), &claims("visitor-7", now - SignedDuration::from_hours(1)));
    let unknown = hs256("host-1", secret.as_bytes(), &claims("visitor-404", now));
    for (query, status) in [
        (format!("org={org}&token={forged}"), StatusCode::BAD_REQUEST),
        (format!("org={org}&token={expired}"), StatusCode::BAD_REQUEST),
        (format!("org={org}&token=abc"), StatusCode::BAD_REQUEST),
        (format!("org={org}"), StatusCode::BAD_REQUEST),
        (format!("org={org}&token={unknown}"), StatusCode::NOT_FOUND),
        (format!("org=org_nope&token={token}"), StatusCode::NOT_FOUND),
    ] {
        let mut fresh = Browser::new(&app);
        let r = fresh.get(&format!("/portal/visitor?{query}")).await;
        assert_eq!(r.status, status, "{query}: {}", r.html);
        assert!(!fresh.cookies.contains_key("casedesk_portal"), "{query} signed in");
    }
}

#[tokio::test]
async fn an_account_shares_its_cases_in_the_portal_only_when_it_says_so() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let sink = SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    let acc = app.post("/api/v1/accounts", json!({"name": "Initech"})).await;
    assert_eq!(acc.body["portal_shares_cases"], false, "off by default");
    let acc = acc.body["id"].as_str().unwrap().to_string();
    let ana = contact(&app, json!({"name": "Ana", "email": "ana@initech.test", "account_id": acc})).await;
    let pete = contact(&app, json!({"name": "Pete", "email": "pete@initech.test", "account_id": acc})).await;
    case_for(&app, &ana, "Ana's laptop").await;
    let petes = case_for(&app, &pete, "Pete's stapler").await;

    let mut b = signed_in(&app, &sink, "ana@initech.test", 1).await;
    assert!(!b.get("/portal").await.html.contains("stapler"));
    assert_eq!(b.get(&format!("/portal/cases/{petes}")).await.status, StatusCode::NOT_FOUND);

    let r = app.patch(&format!("/api/v1/accounts/{acc}"), json!({"portal_shares_cases": true})).await;
    assert_eq!((r.status, r.body["portal_shares_cases"].clone()), (StatusCode::OK, json!(true)), "{}", r.body);
    let home = b.get("/portal").await;
    assert!(home.html.contains("stapler") && home.html.contains("laptop"), "{}", home.html);
    assert_eq!(b.get(&format!("/portal/cases/{petes}")).await.status, StatusCode::OK);

    // A flag that is not a boolean is refused.
    let r = app.patch(&format!("/api/v1/accounts/{acc}"), json!({"portal_shares_cases": "yes"})).await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_eq!(app.get(&format!("/api/v1/accounts/{acc}")).await.body["portal_shares_cases"], true);
}

/// The `href`s of the file links on a portal case page.
fn file_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| h.contains("/files/"))
        .map(str::to_string)
        .collect()
}

/// Posts a portal form as `multipart/form-data`, as a browser does for a form with a file input.
async fn post_multipart(b: &mut Browser, path: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Page {
    let mut parts: Vec<Part<'_>> = fields.iter().map(|(k, v)| (*k, None, None, v.as_bytes())).collect();
    parts.extend(files.iter().map(|(name, bytes)| ("file", Some(*name), Some("text/plain"), *bytes)));
    b.post_raw(path, &format!("multipart/form-data; boundary={BOUNDARY}"), multipart(&parts)).await
}

#[tokio::test]
async fn a_requester_attaches_files_and_only_they_download_their_cases_files() {
    let app = spawn_app_with_file_limit(1024).await;
    let sink = SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    let ana = contact(&app, json!({"name": "Ana", "email": "ana@example.com"})).await;
    contact(&app, json!({"name": "Bob", "email": "bob@example.com"})).await;
    let mut b = signed_in(&app, &sink, "ana@example.com", 1).await;
    let mut bob = signed_in(&app, &sink, "bob@example.com", 1).await;

    // A new case with a file (and an empty second file input, as a browser sends it).
    let form = b.get("/portal/cases/new").await;
    assert!(form.html.contains("enctype=\"multipart/form-data\"") && form.html.contains("type=\"file\""));
    let token = form.csrf();
    let log = b"printer.log: jam at tray 2\n";
    let made = post_multipart(
        &mut b,
        "/portal/cases",
        &[("_csrf", &token), ("subject", "Printer log"), ("description", "Log attached.")],
        &[("printer.log.txt", log), ("", b"")],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let case = made.location().trim_start_matches("/portal/cases/").to_string();
    let path = format!("/portal/cases/{case}");
    let files = app.get(&format!("/api/v1/cases/{case}/files")).await.body;
    let data = files["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{files}");
    assert_eq!(
        (data[0]["name"].as_str(), data[0]["uploaded_by"].as_str()),
        (Some("printer.log.txt"), Some(ana.as_str()))
    );
    assert_eq!(case_json(&app, &case).await["requester_id"].as_str(), Some(ana.as_str()));

    // Listed on the case page; the link downloads the same bytes, as an attachment.
    let page = b.get(&path).await;
    assert!(page.html.contains("id=\"portal-files\"") && page.html.contains("printer.log.txt"), "{}", page.html);
    let links = file_links(&page.html);
    assert_eq!(links.len(), 1, "{links:?}");
    let got = b.get(&links[0]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.html.as_bytes(), log);
    assert!(got.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));

    // Another requester gets the "Not found" page; so does no session at all (sign-in).
    assert_eq!(bob.get(&links[0]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(Browser::new(&app).get(&links[0]).await.location(), "/portal");

    // A reply with a file: the file is attached to the customer's comment.
    let token = page.csrf();
    let notes = b"second attempt: same jam\n";
    let r = post_multipart(
        &mut b,
        &format!("{path}/reply"),
        &[("_csrf", &token), ("body", "Another log.")],
        &[("attempt2.txt", notes)],
    )
    .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, path.as_str()), "{}", r.html);
    let comments = app.get(&format!("/api/v1/cases/{case}/comments")).await.body;
    let last = comments["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body"], "Another log.");
    assert_eq!(last["files"][0]["name"], "attempt2.txt", "{last}");

    // The agents' own files never show: one on no comment, one on an internal note. A file on
    // a public reply does.
    let own = upload(&app, &case, "agent-only.txt", Some("text/plain"), b"internal working file").await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    let noted = upload(&app, &case, "note-file.txt", Some("text/plain"), b"attached to a note").await;
    let r = app
        .post(
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "see file", "internal": true, "file_ids": [noted.body["id"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let shared = upload(&app, &case, "manual.txt", Some("text/plain"), b"how to clear a jam").await;
    let r = app
        .post(
            &format!("/api/v1/cases/{case}/comments"),
            json!({"body": "Manual attached.", "file_ids": [shared.body["id"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let page = b.get(&path).await;
    for shown in ["printer.log.txt", "attempt2.txt", "manual.txt"] {
        assert!(page.html.contains(shown), "{shown} missing: {}", page.html);
    }
    for hidden in ["agent-only.txt", "note-file.txt"] {
        assert!(!page.html.contains(hidden), "{hidden} shown: {}", page.html);
    }
    assert_eq!(file_links(&page.html).len(), 3);
    for id in [own.body["id"].as_str().unwrap(), noted.body["id"].as_str().unwrap()] {
        assert_eq!(b.get(&format!("{path}/files/{id}")).await.status, StatusCode::NOT_FOUND, "{id}");
    }
    let manual = format!("{path}/files/{}", shared.body["id"].as_str().unwrap());
    assert_eq!(b.get(&manual).await.html, "how to clear a jam");

    // Too large: the page says so, and neither a case nor a comment nor a file is written.
    let big = vec![b'a'; 2048];
    let cases_before = app.get("/api/v1/cases").await.body["data"].as_array().unwrap().len();
    let token = b.get("/portal/cases/new").await.csrf();
    let r = post_multipart(
        &mut b,
        "/portal/cases",
        &[("_csrf", &token), ("subject", "Huge log"), ("description", "x")],
        &[("huge.txt", &big)],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.html);
    assert!(
        r.html.contains("id=\"file-error\"") && r.html.contains("is too large: a file may be at most 1 KB"),
        "{}",
        r.html
    );
    assert!(r.html.contains("value=\"Huge log\""), "the form keeps what was typed");
    assert_eq!(app.get("/api/v1/cases").await.body["data"].as_array().unwrap().len(), cases_before);
    let token = b.get(&path).await.csrf();
    let r =
        post_multipart(&mut b, &format!("{path}/reply"), &[("_csrf", &token), ("body", "huge")], &[("huge.txt", &big)])
            .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.html);
    assert!(r.html.contains("id=\"portal-case-error\"") && r.html.contains("is too large"), "{}", r.html);
    let after = app.get(&format!("/api/v1/cases/{case}/comments")).await.body;
    assert_eq!(after["data"].as_array().unwrap().len(), comments["data"].as_array().unwrap().len() + 2);
    assert_eq!(app.get(&format!("/api/v1/cases/{case}/files")).await.body["data"].as_array().unwrap().len(), 5);

    // A reply refused for its text stores none of its files; a forged form stores nothing.
    let r =
        post_multipart(&mut b, &format!("{path}/reply"), &[("_csrf", &token), ("body", " ")], &[("x.txt", b"x")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.html);
    let r = post_multipart(&mut b, &format!("{path}/reply"), &[("_csrf", "forged"), ("body", "y")], &[("y.txt", b"y")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.html);
    assert_eq!(app.get(&format!("/api/v1/cases/{case}/files")).await.body["data"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn an_address_gets_at_most_three_sign_in_links_in_fifteen_minutes() {
    let app = spawn_app_at(ts("2026-06-01T09:00:00Z")).await;
    let clock = app.clock.clone().unwrap();
    let sink = SmtpSink::start().await;
    set_up_mail(&app, &sink).await;
    contact(&app, json!({"name": "Ana", "email": "ana@example.com"})).await;
    contact(&app, json!({"name": "Bob", "email": "bob@example.com"})).await;
    let mailed = |to: &str| sink.messages().iter().filter(|m| m.rcpt_to.iter().any(|r| r == to)).count();

    let mut b = Browser::new(&app);
    for n in 1..=3 {
        let page = ask_for_link(&mut b, "ana@example.com").await;
        assert_eq!(page.status, StatusCode::OK);
        sign_in_link(&sink, "ana@example.com", n).await;
    }
    // The fourth answers the same page, however the address is written, and mails nothing.
    let fourth = ask_for_link(&mut b, "ANA@example.com").await;
    assert_eq!(fourth.status, StatusCode::OK);
    assert!(fourth.html.contains("id=\"portal-link-sent\""), "{}", fourth.html);
    // Another address is not held back by Ana's; its link arrives after anything queued before it.
    assert_eq!(ask_for_link(&mut Browser::new(&app), "bob@example.com").await.status, StatusCode::OK);
    sign_in_link(&sink, "bob@example.com", 1).await;
    assert_eq!(mailed("ana@example.com"), 3, "no fourth link within the window");

    // Fourteen minutes on, still none; once the first have left the window, one more may be
    // asked for.
    clock.advance(SignedDuration::from_mins(14));
    ask_for_link(&mut b, "ana@example.com").await;
    clock.advance(SignedDuration::from_mins(2));
    ask_for_link(&mut b, "ana@example.com").await;
    let link = sign_in_link(&sink, "ana@example.com", 4).await;
    let r = b.post(&link, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/portal"), "the fresh link works: {}", r.html);
    ask_for_link(&mut Browser::new(&app), "bob@example.com").await;
    sign_in_link(&sink, "bob@example.com", 2).await;
    assert_eq!(mailed("ana@example.com"), 4, "one more, not two");
}
