//! Admin pages for mailboxes: `/admin/mailboxes` lists the addresses mail arrives at (each with
//! its queue and how its mail comes in) with a form to add one; `/admin/mailboxes/{id}` sets a
//! mailbox's IMAP polling (server, security, account, folder, on/off), shows the last poll and
//! its error, removes the IMAP settings or deletes the mailbox. A stored IMAP password is never
//! shown back, only whether one is set; leaving its field empty keeps it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::email::MailboxInput;
use casedesk_core::imap::MailboxWithImap;
use casedesk_core::store::PageRequest;
use casedesk_domain::badge;
use casedesk_domain::imap::{ImapInput, ImapMailbox};

use super::admin::{Input, invalid, number, require_admin, security_choices, when};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

const SECURITY: &[&str] = &["tls", "starttls", "none"];

pub struct MailboxRow {
    pub id: String,
    pub address: String,
    pub name: String,
    pub queue: String,
    /// How its mail comes in: by IMAP (and how that goes), or handed over by the MTA or HTTP.
    pub intake: String,
}

/// How a mailbox's polling stands, in words.
fn intake(imap: Option<&ImapMailbox>, now: jiff::Timestamp) -> String {
    let Some(i) = imap else { return "Delivered to casedesk (MTA pipe or HTTP)".into() };
    let server = format!("IMAP {}:{} {}", i.host, i.port, i.folder);
    if !i.enabled {
        return format!("{server}, switched off");
    }
    match (&i.last_error, i.last_poll_at) {
        (Some(e), _) => format!("{server}: failing ({} in a row): {e}; next try {}", i.failures, when(i.next_poll_at)),
        (None, Some(at)) => format!("{server}, polled {}", badge::ago(at, now)),
        (None, None) => format!("{server}, not polled yet"),
    }
}

async fn queue_names(s: &AppState, viewer: &Viewer) -> Result<Vec<(String, String)>, UiError> {
    let page = s.app.list_queues(&viewer.who.actor, &PageRequest::first(200)).await?;
    Ok(page.items.into_iter().map(|q| (q.id, q.name)).collect())
}

fn row(m: &MailboxWithImap, queues: &[(String, String)], now: jiff::Timestamp) -> MailboxRow {
    let b = &m.mailbox;
    let queue = b.queue_id.as_ref().and_then(|q| queues.iter().find(|(id, _)| id == q)).map(|(_, n)| n.clone());
    MailboxRow {
        id: b.id.clone(),
        address: b.address.clone(),
        name: b.name.clone().unwrap_or_default(),
        queue: queue.unwrap_or_else(|| "No queue".into()),
        intake: intake(m.imap.as_ref(), now),
    }
}

#[derive(Template)]
#[template(path = "admin_mailboxes.html")]
struct MailboxesPage {
    chrome: Chrome,
    rows: Vec<MailboxRow>,
    fields: Vec<Input>,
}

async fn mailboxes_page(
    s: &AppState,
    viewer: &Viewer,
    form: &FormData,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let queues = queue_names(s, viewer).await?;
    let now = s.app.clock.now();
    let rows = s.app.mailboxes_with_imap(&viewer.who.actor).await?.iter().map(|m| row(m, &queues, now)).collect();
    let v = |n: &str| form.get(n).unwrap_or_default().to_string();
    let queue_options = std::iter::once((String::new(), "No queue".to_string())).chain(queues).collect();
    let fields = vec![
        Input::new("new-mailbox", "address", "Address", "email", v("address"))
            .hint("Mail to this address opens cases and threads replies.")
            .errors(&errors),
        Input::new("new-mailbox", "name", "Sender name", "text", v("name")).errors(&errors),
        Input::new("new-mailbox", "queue_id", "Queue", "select", v("queue_id")).options(queue_options).errors(&errors),
    ];
    let status = errors.status();
    Ok(html(status, &MailboxesPage { chrome: Chrome::of(viewer, "admin"), rows, fields }))
}

pub async fn mailboxes(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    mailboxes_page(&s, &viewer, &FormData(Vec::new()), FieldErrors::default()).await
}

pub async fn create_mailbox(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let input = MailboxInput {
        address: p.form.get("address").unwrap_or_default().to_string(),
        name: p.form.non_empty("name"),
        queue_id: p.form.non_empty("queue_id"),
        imap: None,
    };
    match s.app.create_mailbox(&p.viewer.who.actor, input).await {
        Ok(m) => Ok(Redirect::to(&format!("/admin/mailboxes/{}", m.mailbox.id)).into_response()),
        Err(e) => {
            let errors = invalid(e, "address")?;
            mailboxes_page(&s, &p.viewer, &p.form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_mailbox.html")]
struct MailboxPage {
    chrome: Chrome,
    mailbox: MailboxRow,
    imap_set: bool,
    password_set: bool,
    fields: Vec<Input>,
    saved: bool,
}

async fn mailbox_page(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    sent: Option<(&FormData, FieldErrors)>,
    saved: bool,
) -> Result<Response, UiError> {
    let m = s.app.mailbox_with_imap(&viewer.who.actor, id).await?;
    let queues = queue_names(s, viewer).await?;
    let i = m.imap.as_ref();
    let none = FieldErrors::default();
    let (form, errors) = match &sent {
        Some((f, e)) => (Some(*f), e),
        None => (None, &none),
    };
    // What was sent, or else what is stored.
    let v = |n: &str, stored: Option<String>| match form {
        Some(f) => f.get(n).unwrap_or_default().to_string(),
        None => stored.unwrap_or_default(),
    };
    let enabled = match form {
        Some(f) => f.get("enabled").unwrap_or("false").to_string(),
        None => i.is_none_or(|i| i.enabled).to_string(),
    };
    let fields = vec![
        Input::new("imap", "host", "IMAP server", "text", v("host", i.map(|i| i.host.clone()))).errors(errors),
        Input::new("imap", "security", "Security", "select", v("security", i.map(|i| i.security.as_str().into())))
            .options(security_choices(SECURITY))
            .hint("TLS from the start (port 993), STARTTLS (143), or none for a server on this host.")
            .errors(errors),
        Input::new("imap", "port", "Port", "number", v("port", i.map(|i| i.port.to_string())))
            .hint("Empty: the usual port for the security.")
            .errors(errors),
        Input::new("imap", "username", "User name", "text", v("username", i.map(|i| i.username.clone())))
            .errors(errors),
        Input::new("imap", "password", "Password", "password", "")
            .hint("Empty keeps the stored password.")
            .errors(errors),
        Input::new("imap", "folder", "Folder", "text", v("folder", i.map(|i| i.folder.clone()))).errors(errors),
        Input::new("imap", "enabled", "Poll this mailbox", "checkbox", enabled).errors(errors),
    ];
    let status = errors.status();
    let page = MailboxPage {
        chrome: Chrome::of(viewer, "admin"),
        mailbox: row(&m, &queues, s.app.clock.now()),
        imap_set: i.is_some(),
        password_set: i.is_some_and(|i| i.password_sealed.is_some()),
        fields,
        saved,
    };
    Ok(html(status, &page))
}

pub async fn mailbox(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    mailbox_page(&s, &viewer, &id, None, false).await
}

/// Saves the IMAP settings form; polling starts at once when it is on.
pub async fn set_imap(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let f = &p.form;
    let mut errors = Vec::new();
    let port = number("port", f.get("port"), &mut errors);
    let errors = if errors.is_empty() {
        let input = ImapInput {
            host: f.non_empty("host"),
            port,
            security: f.non_empty("security"),
            username: f.non_empty("username"),
            password: f.non_empty("password").map(Some),
            folder: f.non_empty("folder"),
            enabled: Some(f.get("enabled") == Some("true")),
        };
        match s.app.set_mailbox_imap(&p.viewer.who.actor, &id, input).await {
            Ok(_) => return mailbox_page(&s, &p.viewer, &id, None, true).await,
            Err(e) => invalid(e, "host")?,
        }
    } else {
        FieldErrors(errors)
    };
    mailbox_page(&s, &p.viewer, &id, Some((f, errors)), false).await
}

/// Stops polling and forgets the IMAP settings and password.
pub async fn clear_imap(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.clear_mailbox_imap(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to(&format!("/admin/mailboxes/{id}")).into_response())
}

pub async fn delete_mailbox(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.delete_mailbox(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to("/admin/mailboxes").into_response())
}
