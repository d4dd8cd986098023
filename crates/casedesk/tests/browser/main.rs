//! The web UI in a real browser: headless Chromium (Debian's `chromium`) driven through
//! `chromedriver` over WebDriver, against the real server on a real socket.
//!
//! One scenario walks what an agent does — sign in, create a case, reply, add an internal note
//! (with the `n` shortcut), change status and priority, see it all on the timeline, search —
//! and saves screenshots of the main pages, at desktop and phone width, under
//! `target/ui-screenshots/` for a reviewer to look at. Another has an admin add a user and a
//! queue with a member through the admin pages.
//!
//! Without Chromium the suite says so and passes, except when `CI=true`: there a browser that
//! cannot start fails the run. Paths: `CASEDESK_CHROMIUM` (default `/usr/bin/chromium`) and
//! `CASEDESK_CHROMEDRIVER` (default `/usr/bin/chromedriver`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // The API suite's helpers; this suite uses a few.
#[path = "../api/helpers.rs"]
mod helpers;
mod webdriver;

use std::path::PathBuf;

use calamine::{Reader, Xlsx};
use serde_json::json;

use helpers::{ADMIN_PASSWORD, spawn_app};
use webdriver::{Browser, Driver};

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Chromium and its driver, or `None` (with the reason printed) where they are missing and this
/// is not CI.
async fn browser(downloads: &std::path::Path) -> Option<(Driver, Browser)> {
    let chromium = std::env::var("CASEDESK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let chromedriver = std::env::var("CASEDESK_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let started = async {
        let driver = Driver::start(&chromedriver).await?;
        let browser = Browser::open(&driver, &chromium, downloads).await?;
        Ok::<_, String>((driver, browser))
    }
    .await;
    match started {
        Ok(b) => Some(b),
        Err(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!(
                "browser suite skipped: {why} (install Debian's chromium and chromium-driver; CI=true fails instead)"
            );
            None
        }
        Err(why) => panic!("headless Chromium could not start: {why}"),
    }
}

#[tokio::test]
async fn an_agent_works_a_case_in_the_browser() {
    let downloads = tempfile::tempdir().expect("download directory");
    let Some((_driver, b)) = browser(downloads.path()).await else { return };
    let app = spawn_app().await;
    let shots = screenshots_dir();
    // The organization's default SLA targets, so the list shows its badges.
    assert_eq!(app.patch("/api/v1/organization", json!({"default_sla": true})).await.status.as_u16(), 200);
    app.create_case(json!({"subject": "Printer on floor 3 jams", "priority": "high"})).await;
    app.create_case(json!({"subject": "Invoice shows the wrong address", "owner_id": app.admin_id})).await;

    // Signing in leads back to the page that was asked for.
    b.goto(&format!("{}/cases", app.base)).await;
    b.find("#email").await;
    b.screenshot(&shots.join("01-sign-in.png")).await;
    b.type_into(&b.find("#email").await, "admin@example.com").await;
    b.type_into(&b.find("#password").await, ADMIN_PASSWORD).await;
    b.click(&b.find("form[action='/login'] button").await).await;
    b.wait_text("main h1", "All open").await;
    b.wait_text(".views a[aria-current='page'] .count", "2").await;
    b.wait_text("table.cases", "due in").await;
    b.screenshot(&shots.join("02-case-list.png")).await;

    // j moves through the list.
    b.press("j").await;
    let selected = b.script("return document.activeElement.textContent", json!([])).await;
    assert!(selected.as_str().is_some_and(|t| !t.is_empty()), "j focuses a case: {selected}");

    // A new case, with a validation error first.
    b.click(&b.find(".content-head a[href='/cases/new']").await).await;
    b.find("#subject").await;
    b.click(&b.find("form[action='/cases'] button[type=submit]").await).await;
    b.wait_text("#subject-error", "").await;
    b.screenshot(&shots.join("03-new-case-errors.png")).await;
    b.type_into(&b.find("#subject").await, "Laptop will not start after update").await;
    b.type_into(&b.find("#description").await, "Black screen since this morning's update.").await;
    b.click(&b.find("#priority option[value='medium']").await).await;
    b.click(&b.find("form[action='/cases'] button[type=submit]").await).await;
    b.wait_text("main h1", "Laptop will not start after update").await;
    let id = b.script("return document.querySelector('article.case').dataset.case", json!([])).await;
    let id = id.as_str().unwrap().to_string();
    assert!(id.starts_with("case_"), "{id}");

    // A reply, then an internal note opened with the n shortcut.
    b.type_into(&b.find("#body").await, "Thanks — we are looking into it.").await;
    b.click(&b.find("#send").await).await;
    b.wait_text(".entry.reply .body", "we are looking into it").await;
    b.click(&b.find("main h1").await).await;
    b.press("n").await;
    let state = b
        .script("return [document.activeElement.id, document.getElementById('visibility-note').checked]", json!([]))
        .await;
    assert_eq!(state, json!(["body", true]), "n opens an internal note");
    b.type_into(&b.find("#body").await, "Probably the BIOS update; check with IT.").await;
    b.click(&b.find("main h1").await).await;
    b.press("a").await;
    let focused = b.script("return document.activeElement.id", json!([])).await;
    assert_eq!(focused, json!("owner_id"), "a picks the assignee");
    assert_eq!(
        b.script("return document.getElementById('body').value", json!([])).await,
        json!("Probably the BIOS update; check with IT.")
    );
    b.click(&b.find("#send").await).await;
    b.wait_text(".entry.note .body", "BIOS update").await;

    // Status and priority from the header.
    b.click(&b.find("#status option[value='pending']").await).await;
    b.click(&b.find("#priority option[value='critical']").await).await;
    b.click(&b.find(".controls button[type=submit]").await).await;
    b.wait_text("#case-status", "Pending").await;
    b.wait_text("#case-priority", "Critical").await;
    b.wait_text("#timeline", "changed priority from Medium to Critical").await;
    b.wait_text("#timeline", "changed status from New to Pending").await;
    let note_tag = b.text(&b.find(".entry.note .tag").await).await;
    assert_eq!(note_tag.to_lowercase(), "internal note");
    // A timer started on the case ticks in the header of every page until it is stopped, and
    // then its time is logged on the case.
    b.click(&b.find("#timer-start").await).await;
    b.find("#timer-stop").await;
    let ticking = "return document.querySelector('#timer-indicator .timer-clock').textContent";
    let first = b.script(ticking, json!([])).await;
    b.wait_for(&format!("{ticking} !== {first}"), json!(true)).await;
    b.screenshot(&shots.join("04-case.png")).await;
    b.click(&b.find(".nav a[href='/cases']").await).await;
    b.wait_text("main h1", "All open").await;
    b.click(&b.find("#timer-indicator").await).await;
    b.click(&b.find("#timer-stop").await).await;
    b.find("#timer-start").await;
    b.wait_for("return document.getElementById('timer-indicator') === null", json!(true)).await;
    let time = app.get(&format!("/api/v1/cases/{id}/time-entries")).await.body;
    assert_eq!(time["entries"], 1, "{time}");
    assert!(time["time_spent_seconds"].as_i64().unwrap() >= 1, "{time}");

    // A change made elsewhere (here through the API) appears without a reload — the page hears
    // of it over server-sent events — and a draft in the composer survives it.
    b.type_into(&b.find("#body").await, "Draft in progress").await;
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/comments"),
            json!({"body": "Customer called: it works again", "internal": true}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    b.wait_text("#timeline", "Customer called: it works again").await;
    let draft = b.script("return document.getElementById('body').value", json!([])).await;
    assert_eq!(draft, json!("Draft in progress"));
    b.script("document.getElementById('body').value = ''", json!([])).await;

    // The server agrees.
    let case = app.get(&format!("/api/v1/cases/{id}")).await.body;
    assert_eq!((case["status"].as_str(), case["priority"].as_str()), (Some("pending"), Some("critical")));
    let comments = app.get(&format!("/api/v1/cases/{id}/comments")).await.body;
    let internal: Vec<bool> = comments["data"].as_array().unwrap().iter().map(|c| c["internal"] == true).collect();
    assert_eq!(internal, vec![false, true, true]);

    // The search box filters as one types; a query it cannot read is explained in place.
    b.goto(&format!("{}/cases?view=all", app.base)).await;
    let q = b.find("#q").await;
    b.script("document.getElementById('q').value = ''", json!([])).await;
    b.type_into(&q, "laptop").await;
    b.wait_for("return document.querySelectorAll('#results a.case-link').length", json!(1)).await;
    b.wait_text("#results", "Laptop will not start").await;
    assert!(b.current_url().await.ends_with("/cases?q=laptop"), "the URL follows the search");
    b.type_into(&q, " priority>=bogus").await;
    b.wait_text("#q-error", "Cannot read this search").await;
    b.screenshot(&shots.join("04b-search-error.png")).await;

    // Three cases chosen on the list (one with the x key) and assigned at once; each one's
    // result is shown, and the filter controls narrow the list to them.
    let (agent, _) = app.agent().await;
    b.goto(&format!("{}/cases?view=all", app.base)).await;
    b.wait_text("#bulk-count", "Select cases").await;
    let boxes = "#bulk tbody input[name=ids]";
    assert_eq!(b.script(&format!("return document.querySelectorAll('{boxes}').length"), json!([])).await, json!(3));
    b.click(&b.find(boxes).await).await;
    b.click(&b.find("#bulk tbody tr:nth-child(2) input[name=ids]").await).await;
    b.script("document.querySelector('#bulk tbody tr:nth-child(3) a.case-link').focus()", json!([])).await;
    b.press("x").await;
    b.wait_text("#bulk-count", "3 selected").await;
    let shown = "return [...document.querySelectorAll('.bulk-param')].filter(p => !p.hidden).map(p => p.dataset.for)";
    assert_eq!(b.script(shown, json!([])).await, json!(["assign"]), "only the chosen action's parameter");
    b.click(&b.find(&format!("#bulk-owner option[value='{agent}']")).await).await;
    b.screenshot(&shots.join("05-bulk-selection.png")).await;
    b.click(&b.find("#bulk-apply").await).await;
    b.wait_text("#bulk-summary", "Assign: 3 changed, 0 unchanged, 0 failed").await;
    assert!(b.current_url().await.ends_with("/cases?view=all"), "the list's address, not the form's");
    b.screenshot(&shots.join("06-bulk-results.png")).await;
    let cases = app.get("/api/v1/cases?limit=10").await.body;
    let owners: Vec<&str> =
        cases["data"].as_array().unwrap().iter().map(|c| c["owner_id"].as_str().unwrap_or("")).collect();
    assert_eq!(owners, [agent.as_str(); 3]);
    b.click(&b.find("details.filters summary").await).await;
    b.click(&b.find("#f_priority option[value='critical']").await).await;
    b.wait_for("return document.getElementById('q').value", json!("priority:critical")).await;
    b.wait_for("return document.querySelectorAll('#results a.case-link').length", json!(1)).await;
    // The open list follows changes made elsewhere, live: a critical case made through the API
    // joins it, and the view counts move.
    app.create_case(json!({"subject": "Core switch down", "priority": "critical"})).await;
    b.wait_text("#results", "Core switch down").await;
    b.wait_text("#views a[href='/cases?view=all'] .count", "4").await;

    // The list on screen, downloaded as a workbook that opens.
    b.goto(&format!("{}/cases?q=laptop", app.base)).await;
    b.click(&b.find("#export").await).await;
    let file = downloads.path().join("cases.xlsx");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !file.exists() {
        assert!(std::time::Instant::now() < deadline, "no download in {}", downloads.path().display());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut book: Xlsx<_> = calamine::open_workbook(&file).expect("the downloaded workbook opens");
    let subjects: Vec<String> = book.worksheet_range("Cases").unwrap().rows().map(|r| r[1].to_string()).collect();
    assert_eq!(subjects, ["Subject", "Laptop will not start after update"]);

    // A contact's page lists her cases and opens a new one for her.
    let zoe = app.post("/api/v1/contacts", json!({"name": "Zoë Keller", "email": "zoe@example.com"})).await;
    let zoe = zoe.body["id"].as_str().unwrap().to_string();
    app.create_case(json!({"subject": "Zoë's scanner", "contact_id": zoe})).await;
    b.goto(&format!("{}/contacts/{zoe}", app.base)).await;
    b.wait_text("main", "Zoë's scanner").await;
    b.screenshot(&shots.join("09-contact.png")).await;
    b.click(&b.find("#new-case-for").await).await;
    b.wait_text("#new-case-for", "For Zoë Keller").await;

    // Phone width.
    b.resize(390, 844).await;
    b.goto(&format!("{}/cases", app.base)).await;
    b.find("a.case-link").await;
    b.screenshot(&shots.join("07-case-list-phone.png")).await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth + 1";
    assert_eq!(b.script(fits, json!([])).await, json!(true), "the list fits a phone's width");
    b.goto(&format!("{}/cases/{id}", app.base)).await;
    b.find("#timeline").await;
    b.screenshot(&shots.join("08-case-phone.png")).await;
    assert_eq!(b.script(fits, json!([])).await, json!(true), "the case page fits a phone's width");

    // Signing out ends the session.
    b.resize(1280, 900).await;
    b.click(&b.find("form[action='/logout'] button").await).await;
    b.find("#email").await;
    b.goto(&format!("{}/cases", app.base)).await;
    b.find("#email").await;
    b.close().await;
    eprintln!("screenshots in {}", shots.display());
}

/// The assistant's draft: asked for, discarded, asked again, edited and sent as a reply, and both
/// suggestions on the timeline.
#[tokio::test]
async fn an_agent_edits_and_sends_the_assistants_draft() {
    let downloads = tempfile::tempdir().expect("download directory");
    let Some((_driver, b)) = browser(downloads.path()).await else { return };
    let app = spawn_app().await;
    let shots = screenshots_dir();
    let ana = app.post("/api/v1/contacts", json!({"name": "Ana Silva", "email": "ana@example.com"})).await;
    let case = app
        .create_case(json!({"subject": "Parcel arrived damaged", "description": "The vase inside is broken.", "contact_id": ana.body["id"]}))
        .await;
    let id = case["id"].as_str().unwrap().to_string();

    b.goto(&format!("{}/cases/{id}", app.base)).await;
    b.type_into(&b.find("#email").await, "admin@example.com").await;
    b.type_into(&b.find("#password").await, ADMIN_PASSWORD).await;
    b.click(&b.find("form[action='/login'] button").await).await;
    b.wait_text("main h1", "Parcel arrived damaged").await;

    // A draft, and who wrote it.
    b.click(&b.find("#assistant-suggest").await).await;
    b.find("#assistant-draft").await;
    b.wait_for("return document.getElementById('assistant-draft').value.startsWith('Hi Ana,')", json!(true)).await;
    b.wait_text("#assistant-provider", "builtin").await;
    b.wait_text("#assistant-model", "retrieval").await;
    b.script("document.getElementById('assistant').scrollIntoView()", json!([])).await;
    b.screenshot(&shots.join("08-assistant-draft.png")).await;

    // Discarded, it is gone; asked again, edited and sent, it is a reply on the timeline.
    b.click(&b.find("#assistant-discard").await).await;
    b.wait_for("return document.getElementById('assistant-draft') === null", json!(true)).await;
    b.click(&b.find("#assistant-suggest").await).await;
    let draft = b.find("#assistant-draft").await;
    b.script("document.getElementById('assistant-draft').value = ''", json!([])).await;
    b.type_into(&draft, "Hi Ana, sorry about the vase: a new one leaves our warehouse today.").await;
    b.click(&b.find("#assistant-send").await).await;
    b.wait_text(".entry.reply .body", "a new one leaves our warehouse today").await;
    b.wait_text(".entry.ai", "Suggested reply by builtin (retrieval)").await;
    b.script("document.querySelector('.entry.ai').scrollIntoView()", json!([])).await;
    b.screenshot(&shots.join("09-assistant-sent.png")).await;

    let comments = app.get(&format!("/api/v1/cases/{id}/comments")).await.body;
    let sent: Vec<(&str, bool)> = comments["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["body"].as_str().unwrap(), c["internal"] == true))
        .collect();
    assert_eq!(sent, [("Hi Ana, sorry about the vase: a new one leaves our warehouse today.", false)]);
    let suggestions = app.timeline(&id).await.into_iter().filter(|e| e["kind"] == "ai.suggestion").count();
    assert_eq!(suggestions, 2, "both drafts are on the timeline");
    b.close().await;
}

/// An admin opens the admin pages from the navigation, adds a user (after a validation error
/// shown beside its field), gives them a queue with skills and adds a mailbox feeding it; the
/// API sees all three.
#[tokio::test]
async fn an_admin_adds_a_user_and_a_queue_in_the_browser() {
    let downloads = tempfile::tempdir().expect("download directory");
    let Some((_driver, b)) = browser(downloads.path()).await else { return };
    let app = spawn_app().await;
    let shots = screenshots_dir();

    b.goto(&format!("{}/admin", app.base)).await;
    b.type_into(&b.find("#email").await, "admin@example.com").await;
    b.type_into(&b.find("#password").await, ADMIN_PASSWORD).await;
    b.click(&b.find("form[action='/login'] button").await).await;
    b.wait_text("main h1", "Admin").await;
    b.screenshot(&shots.join("10-admin.png")).await;

    b.click(&b.find("main a[href='/admin/users']").await).await;
    b.wait_text("main h1", "Users").await;
    b.type_into(&b.find("#new-user-name").await, "Bea Lopez").await;
    b.type_into(&b.find("#new-user-email").await, "bea@example.com").await;
    b.type_into(&b.find("#new-user-password").await, "short").await;
    b.click(&b.find("form[action='/admin/users'] button[type=submit]").await).await;
    b.wait_text("#new-user-password-error", "10 to 1024 characters").await;
    b.screenshot(&shots.join("11-admin-users-error.png")).await;
    b.type_into(&b.find("#new-user-password").await, "long-enough-password").await;
    b.click(&b.find("form[action='/admin/users'] button[type=submit]").await).await;
    b.wait_text("main h1", "Bea Lopez").await;

    b.goto(&format!("{}/admin/queues", app.base)).await;
    b.type_into(&b.find("#new-queue-name").await, "Billing").await;
    b.click(&b.find("#new-queue-assignment_method option[value='round_robin']").await).await;
    b.click(&b.find("form[action='/admin/queues'] button[type=submit]").await).await;
    b.wait_text("main h1", "Billing").await;
    b.type_into(&b.find("#add-member-skills").await, "invoices, german").await;
    b.click(&b.find("#add-member-user_id option:nth-child(2)").await).await;
    b.click(&b.find("#add-member-vip").await).await;
    b.click(&b.find("form[action$='/members'].stack button[type=submit]").await).await;
    b.wait_for("return document.querySelectorAll('ul.admin-members > li').length", json!(1)).await;
    b.script("document.getElementById('queue-members-title').scrollIntoView()", json!([])).await;
    b.screenshot(&shots.join("12-admin-queue.png")).await;

    // A mailbox for the queue; its page holds the IMAP settings.
    b.goto(&format!("{}/admin/mailboxes", app.base)).await;
    b.type_into(&b.find("#new-mailbox-address").await, "billing@acme.test").await;
    b.click(&b.find("#new-mailbox-queue_id option:nth-child(2)").await).await;
    b.click(&b.find("form[action='/admin/mailboxes'] button[type=submit]").await).await;
    b.wait_text("main h1", "billing@acme.test").await;
    b.screenshot(&shots.join("13-admin-mailbox.png")).await;
    assert_eq!(app.get("/api/v1/mailboxes").await.body["data"][0]["address"], "billing@acme.test");

    let users = app.get("/api/v1/users").await.body;
    let bea = users["data"].as_array().unwrap().iter().find(|u| u["email"] == "bea@example.com").unwrap();
    assert_eq!(bea["name"], "Bea Lopez");
    let queues = app.get("/api/v1/case-queues").await.body;
    let queue = &queues["data"][0];
    assert_eq!(queue["assignment_method"], "round_robin");
    let members = app.get(&format!("/api/v1/case-queues/{}/members", queue["id"].as_str().unwrap())).await.body;
    assert_eq!(members["data"][0]["skills"], json!(["invoices", "german"]));
    assert_eq!(members["data"][0]["vip"], true);
    b.close().await;
}
