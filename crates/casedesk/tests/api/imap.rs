//! Mailboxes polled over IMAP, end to end: the real server's poller logs in to a small IMAP
//! server on loopback (`imap_server`), takes the folder's messages in as cases and replies,
//! marks them seen, never takes one twice, records failures on the mailbox and backs off, and
//! never shows the password.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, spawn_app};
use crate::imap_server::ImapServer;

const USER: &str = "help@acme.test";
const PASSWORD: &str = "imap-pass-8c1f0e27";

async fn queue(app: &TestApp, name: &str) -> String {
    let q = app.post("/api/v1/case-queues", json!({"name": name})).await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.body);
    q.body["id"].as_str().unwrap().to_string()
}

fn imap_settings(server: &ImapServer, password: &str) -> Value {
    json!({"host": "127.0.0.1", "port": server.port, "security": "none", "username": USER, "password": password})
}

/// No answer of the API carries the password.
fn no_password(r: &Resp) {
    assert!(!r.body.to_string().contains(PASSWORD), "the password leaked: {}", r.body);
}

async fn put_imap(app: &TestApp, mailbox_id: &str, body: Value) -> Resp {
    let r = app
        .call(Method::PUT, &format!("/api/v1/mailboxes/{mailbox_id}/imap"), Some(&app.token), Some(&body), &[])
        .await;
    no_password(&r);
    r
}

async fn mailbox(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/mailboxes/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    no_password(&r);
    r.body
}

async fn cases(app: &TestApp) -> Vec<Value> {
    let r = app.get("/api/v1/cases?limit=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

async fn comments(app: &TestApp, case_id: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cases/{case_id}/comments?limit=200")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

/// Waits (up to 20 s) until the mailbox's API answer satisfies `done`.
async fn wait_for_mailbox(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = mailbox(app, id).await;
        if done(&m) {
            return m;
        }
        assert!(Instant::now() < deadline, "the mailbox never showed {what}: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server has seen `n` more logins than now: that many more polls happened.
async fn more_polls(server: &ImapServer, n: usize) {
    let from = server.logins();
    server.wait_for(&format!("{n} more polls"), |s| s.logins() >= from + n).await;
}

fn message(id: &str, subject: &str, body: &str, extra: &str) -> String {
    format!(
        "From: Dana Customer <dana@customer.test>\nTo: help@acme.test\nSubject: {subject}\n\
         Message-ID: <{id}>\nDate: Mon, 7 Dec 2026 09:00:00 +0000\n{extra}MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

#[tokio::test]
async fn a_polled_mailbox_turns_mail_into_cases_and_replies_exactly_once() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    let queue_id = queue(&app, "Billing").await;
    // Someone had read this one before casedesk polled: the first poll takes unread mail only.
    server.deliver_read(&message("old-1@customer.test", "Old news", "Read already.", ""));

    let created = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@acme.test", "queue_id": queue_id, "imap": imap_settings(&server, PASSWORD)}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    no_password(&created);
    let id = created.body["id"].as_str().unwrap().to_string();
    let imap = &created.body["imap"];
    assert_eq!(
        (&imap["host"], &imap["port"], &imap["security"], &imap["username"], &imap["folder"]),
        (&json!("127.0.0.1"), &json!(server.port), &json!("none"), &json!(USER), &json!("INBOX"))
    );
    assert_eq!(
        (&imap["password_set"], &imap["enabled"], &imap["last_error"]),
        (&json!(true), &json!(true), &Value::Null)
    );
    assert!(imap.get("password").is_none() && imap.get("password_sealed").is_none());

    let first = server.deliver(&message("paper-1@customer.test", "Invoice 2291 is wrong", "Please fix the total.", ""));
    server.wait_for("the new message seen", |s| s.messages().iter().all(|m| m.seen)).await;
    let all = cases(&app).await;
    assert_eq!(all.len(), 1, "one case, not the old read message: {all:?}");
    let case = &all[0];
    assert_eq!((&case["subject"], &case["channel"]), (&json!("Invoice 2291 is wrong"), &json!("email")));
    assert_eq!(case["queue_id"], json!(queue_id), "the mailbox's queue");
    let case_id = case["id"].as_str().unwrap().to_string();

    // The customer's reply in the same folder joins the case; the server will not set flags now.
    server.refuse_store(true);
    let reply = server.deliver(&message(
        "paper-2@customer.test",
        "Re: Invoice 2291 is wrong",
        "It should be 120 EUR.\n\nOn Monday Dana wrote:\n> Please fix the total.",
        "In-Reply-To: <paper-1@customer.test>\nReferences: <paper-1@customer.test>\n",
    ));
    // An unreadable message is quarantined by the ordinary path, and the poll goes past it.
    let junk = server.deliver("this is not an email at all");
    server
        .wait_for("the reply and the junk fetched", |s| s.fetched().contains(&reply) && s.fetched().contains(&junk))
        .await;
    more_polls(&server, 2).await;
    let texts: Vec<String> =
        comments(&app, &case_id).await.iter().map(|c| c["body"].as_str().unwrap_or("").to_string()).collect();
    assert!(texts.iter().any(|t| t.contains("It should be 120 EUR.")), "{texts:?}");
    assert_eq!(cases(&app).await.len(), 1, "the reply made no case of its own");
    let held = app.get("/api/v1/inbound/held?state=quarantined").await;
    assert_eq!(held.body["data"].as_array().unwrap().len(), 1, "{}", held.body);

    // Flags cleared by another mail program (or never set) do not bring messages back: the
    // cursor says they were taken in.
    server.refuse_store(false);
    server.set_seen(first, false);
    more_polls(&server, 2).await;
    let mut fetched = server.fetched();
    fetched.sort_unstable();
    assert_eq!(fetched, vec![first, reply, junk], "each message fetched once, the old read one never");
    assert!(first > 1);
    assert_eq!(cases(&app).await.len(), 1);
    assert_eq!(comments(&app, &case_id).await.len(), 1);

    let m = mailbox(&app, &id).await;
    assert!(m["imap"]["last_poll_at"].is_string(), "{m}");
    assert_eq!((&m["imap"]["last_error"], &m["imap"]["failures"]), (&Value::Null, &json!(0)));
    let listed = app.get("/api/v1/mailboxes").await;
    no_password(&listed);
    assert_eq!(listed.body["data"][0]["imap"]["password_set"], true);
    assert!(
        !server.commands().iter().any(|c| c.contains("SELECT") && c.contains(PASSWORD)),
        "the password went only into LOGIN"
    );
}

#[tokio::test]
async fn a_wrong_password_shows_on_the_mailbox_backs_off_and_a_fix_resumes_polling() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    let queue_id = queue(&app, "Support").await;
    let m = app.post("/api/v1/mailboxes", json!({"address": "help@acme.test", "queue_id": queue_id})).await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    assert_eq!(m.body["imap"], Value::Null, "not polled");
    let id = m.body["id"].as_str().unwrap().to_string();
    server.deliver(&message("waiting-1@customer.test", "Printer on fire", "Help.", ""));

    let set = put_imap(&app, &id, imap_settings(&server, "not-the-password")).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let failed = wait_for_mailbox(&app, &id, "two failures", |m| m["imap"]["failures"].as_u64() >= Some(2)).await;
    let error = failed["imap"]["last_error"].as_str().unwrap();
    assert!(error.contains("AUTHENTICATIONFAILED") || error.contains("Invalid credentials"), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
    // Each failure waits longer: the wait before the next poll is the interval doubled per
    // failure after the first.
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let wait = at(&failed["imap"]["next_poll_at"]).duration_since(at(&failed["imap"]["last_poll_at"]));
    let failures = failed["imap"]["failures"].as_u64().unwrap() as u32;
    assert_eq!(wait, jiff::SignedDuration::from_millis(200 * (1 << (failures - 1))), "{failed}");
    assert_eq!(server.logins(), 0);
    assert!(server.refused_logins() >= 2);
    assert!(cases(&app).await.is_empty());
    // The server goes on answering.
    assert_eq!(app.get("/api/v1/cases").await.status, StatusCode::OK);

    // Settings without a password keep the stored (wrong) one; the right one fixes it.
    let kept =
        put_imap(&app, &id, json!({"host": "127.0.0.1", "port": server.port, "security": "none", "username": USER}))
            .await;
    assert_eq!((kept.status, &kept.body["imap"]["password_set"]), (StatusCode::OK, &json!(true)), "{}", kept.body);
    let fixed = put_imap(&app, &id, imap_settings(&server, PASSWORD)).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    server.wait_for("the waiting message seen", |s| s.messages().iter().all(|m| m.seen)).await;
    let ok = wait_for_mailbox(&app, &id, "the error cleared", |m| m["imap"]["last_error"].is_null()).await;
    assert_eq!(ok["imap"]["failures"], 0);
    assert_eq!(cases(&app).await.len(), 1);

    // Switched off: no more polls. Removed: no settings, and the mailbox stays.
    let mut off = imap_settings(&server, PASSWORD);
    off["enabled"] = json!(false);
    let off = put_imap(&app, &id, off).await;
    assert_eq!(off.body["imap"]["enabled"], false, "{}", off.body);
    let cleared = app.delete(&format!("/api/v1/mailboxes/{id}/imap")).await;
    assert_eq!((cleared.status, &cleared.body["imap"]), (StatusCode::OK, &Value::Null), "{}", cleared.body);
    assert_eq!(mailbox(&app, &id).await["address"], "help@acme.test");
}

#[tokio::test]
async fn bad_imap_settings_are_named_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@acme.test",
                   "imap": {"host": "imap example", "port": 70000, "security": "ssl", "username": "", "password": PASSWORD,
                            "folder": "In\u{7}box"}}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    no_password(&r);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["imap.folder", "imap.host", "imap.port", "imap.security", "imap.username"]);
    let listed = app.get("/api/v1/mailboxes").await;
    assert_eq!(listed.body["data"], json!([]), "no half-made mailbox");

    let m = app.post("/api/v1/mailboxes", json!({"address": "help@acme.test"})).await;
    let id = m.body["id"].as_str().unwrap().to_string();
    let no_pw = put_imap(&app, &id, json!({"host": "imap.acme.test", "username": USER})).await;
    no_pw.assert_problem(422, "validation_failed");
    assert_eq!(no_pw.error_fields(), ["password"]);
    let unknown =
        put_imap(&app, "mbx_missing", json!({"host": "imap.acme.test", "username": USER, "password": "x"})).await;
    unknown.assert_problem(404, "not_found");
    let extra =
        put_imap(&app, &id, json!({"host": "imap.acme.test", "username": USER, "password": "x", "pasword": "y"})).await;
    assert_eq!(extra.status.as_u16(), 422, "{}", extra.body);
    assert_eq!(mailbox(&app, &id).await["imap"], Value::Null);

    // Defaults: TLS on 993, INBOX.
    let ok = put_imap(
        &app,
        &id,
        json!({"host": "imap.acme.test", "username": USER, "password": PASSWORD, "enabled": false}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        (&ok.body["imap"]["security"], &ok.body["imap"]["port"], &ok.body["imap"]["folder"]),
        (&json!("tls"), &json!(993), &json!("INBOX"))
    );

    // Agents may not see or change it.
    let (_, agent) = app.agent().await;
    let r = app.call(Method::GET, &format!("/api/v1/mailboxes/{id}"), Some(&agent), None, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let body = json!({"host": "imap.acme.test", "username": USER, "password": "x"});
    let r = app.call(Method::PUT, &format!("/api/v1/mailboxes/{id}/imap"), Some(&agent), Some(&body), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn two_instances_never_poll_one_mailbox_at_once() {
    let app = spawn_app().await;
    let _second = app.another_instance().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    let queue_id = queue(&app, "Support").await;
    for n in 0..6 {
        server.deliver(&message(&format!("many-{n}@customer.test"), &format!("Question {n}"), "Hello.", ""));
    }
    let m = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@acme.test", "queue_id": queue_id, "imap": imap_settings(&server, PASSWORD)}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    server.wait_for("every message seen", |s| s.messages().iter().all(|m| m.seen)).await;
    more_polls(&server, 6).await;
    assert_eq!(server.most_open(), 1, "one session at a time");
    assert_eq!(cases(&app).await.len(), 6);
    let mut fetched = server.fetched();
    fetched.sort_unstable();
    assert_eq!(fetched, (1..=6).collect::<Vec<u32>>(), "each message fetched once");
}

#[tokio::test]
async fn after_the_first_poll_mail_read_elsewhere_is_taken_in_too() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    let queue_id = queue(&app, "Escalations").await;
    let m = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@acme.test", "queue_id": queue_id, "imap": imap_settings(&server, PASSWORD)}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let id = m.body["id"].as_str().unwrap().to_string();
    wait_for_mailbox(&app, &id, "a first poll", |m| m["imap"]["last_poll_at"].is_string()).await;
    // Read in another mail program before casedesk's next poll: still new to casedesk. It was
    // forwarded from an old address, so only the polled mailbox says which queue it is for.
    let forwarded = message("read-1@customer.test", "Read by a colleague", "Hello.", "")
        .replace("To: help@acme.test", "To: support@old-acme.test");
    let uid = server.deliver_read(&forwarded);
    server.wait_for("the read message fetched", |s| s.fetched().contains(&uid)).await;
    more_polls(&server, 1).await;
    let all = cases(&app).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["subject"], "Read by a colleague");
    assert_eq!(all[0]["queue_id"], json!(queue_id), "the polled mailbox's queue");
}

#[tokio::test]
async fn a_server_that_does_not_speak_tls_is_an_error_on_the_mailbox_not_a_plain_login() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    let m = app.post("/api/v1/mailboxes", json!({"address": "help@acme.test"})).await;
    let id = m.body["id"].as_str().unwrap().to_string();
    for (security, expected) in [("tls", "TLS handshake"), ("starttls", "STARTTLS")] {
        let mut settings = imap_settings(&server, PASSWORD);
        settings["security"] = json!(security);
        let r = put_imap(&app, &id, settings).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        wait_for_mailbox(&app, &id, expected, |m| {
            m["imap"]["last_error"].as_str().is_some_and(|e| e.contains(expected))
        })
        .await;
    }
    assert_eq!(server.logins() + server.refused_logins(), 0, "the password never went over plain text");
}

#[tokio::test]
async fn a_renumbered_folder_is_read_again_without_taking_anything_twice() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    server.deliver(&message("renum-1@customer.test", "Broken laptop", "It will not start.", ""));
    server.deliver(&message(
        "renum-2@customer.test",
        "Re: Broken laptop",
        "Still broken.",
        "In-Reply-To: <renum-1@customer.test>\n",
    ));
    let m = app
        .post("/api/v1/mailboxes", json!({"address": "help@acme.test", "imap": imap_settings(&server, PASSWORD)}))
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    server.wait_for("both messages seen", |s| s.messages().iter().all(|m| m.seen)).await;
    let all = cases(&app).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let case_id = all[0]["id"].as_str().unwrap().to_string();
    assert_eq!(comments(&app, &case_id).await.len(), 1);

    // A new UIDVALIDITY: the cursor means nothing now. The unread messages are fetched again
    // and recognised by their Message-IDs.
    server.renumber();
    server.wait_for("both messages fetched again", |s| s.fetched().len() == 2).await;
    server.wait_for("both messages seen again", |s| s.messages().iter().all(|m| m.seen)).await;
    more_polls(&server, 1).await;
    assert_eq!(cases(&app).await.len(), 1, "no new case");
    assert_eq!(comments(&app, &case_id).await.len(), 1, "no new comment");
    assert_eq!(server.fetched().len(), 2, "and the new cursor holds");
}

#[tokio::test]
async fn a_connection_lost_mid_poll_is_an_error_and_the_next_poll_takes_the_message() {
    let app = spawn_app().await;
    let server = ImapServer::start(USER, PASSWORD, "INBOX").await;
    server.hang_up_on_fetch(true);
    let uid = server.deliver(&message("lost-1@customer.test", "Network trouble", "Hello?", ""));
    let m = app
        .post("/api/v1/mailboxes", json!({"address": "help@acme.test", "imap": imap_settings(&server, PASSWORD)}))
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    let id = m.body["id"].as_str().unwrap().to_string();
    let failed = wait_for_mailbox(&app, &id, "a failure", |m| m["imap"]["failures"].as_u64() >= Some(1)).await;
    let error = failed["imap"]["last_error"].as_str().unwrap();
    assert!(error.contains(&format!("fetching the message with UID {uid}")), "{error}");
    assert!(cases(&app).await.is_empty());

    server.hang_up_on_fetch(false);
    server.wait_for("the message seen", |s| s.messages().iter().all(|m| m.seen)).await;
    wait_for_mailbox(&app, &id, "the error cleared", |m| m["imap"]["last_error"].is_null()).await;
    assert_eq!(cases(&app).await.len(), 1);
}
