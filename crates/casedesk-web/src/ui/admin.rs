//! Pages for admins. The use cases decide who may see them: an agent gets the 403 page.
//!
//! This module holds the admin index (`/admin`), the pieces the admin pages share (the admin
//! check, form fields with their errors) and the trash: deleted cases, newest first, each
//! restorable (they are purged after 30 days). The other admin pages live beside it:
//! [`super::admin_users`] (users and API tokens), [`super::admin_queues`] (queues and their
//! members), [`super::admin_sla`] (SLA policies and business calendars), [`super::admin_rules`]
//! (automation rules), [`super::admin_macros`] (macros), [`super::admin_workflow`]
//! (custom statuses and categories), [`super::admin_settings`] (mail and assistant settings), [`super::admin_mailboxes`] (mailboxes and
//! their IMAP polling) and [`super::admin_webhooks`] (webhooks and their deliveries).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::AppError;
use casedesk_core::store::PageRequest;
use casedesk_domain::FieldError;
use casedesk_domain::badge;
use casedesk_domain::policy::Action;
use jiff::Timestamp;
use serde::Deserialize;

use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{Posted, Viewer};
use crate::AppState;

/// Admin pages are for admins: an agent gets the 403 page before anything is read (some of
/// what they list, such as users and queues, agents may otherwise read).
pub fn require_admin(viewer: &Viewer) -> Result<(), UiError> {
    Ok(viewer.who.actor.require(Action::ManageUsers, "open the admin pages")?)
}

/// A use case's refusal of a form's input as errors to show beside its fields (a duplicate
/// becomes an error of `conflict_field`); any other failure stays a failure page.
pub fn invalid(e: AppError, conflict_field: &str) -> Result<FieldErrors, UiError> {
    match e {
        AppError::Validation(fields) => Ok(FieldErrors(fields)),
        AppError::Conflict { message, .. } => Ok(FieldErrors(vec![FieldError::new(conflict_field, message)])),
        other => Err(other.into()),
    }
}

/// One field of an admin form, with its current value and its error (see `admin_input.html`).
pub struct Input {
    /// The form's id prefix and the field's name make the element's id.
    pub id: String,
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `email`, `password`, `number`, `url`, `date`, `select`, `textarea` or `checkbox`.
    pub kind: &'static str,
    pub value: String,
    /// A select's choices: value and label.
    pub options: Vec<(String, String)>,
    pub hint: &'static str,
    pub error: Option<String>,
}

impl Input {
    pub fn new(
        form: &str,
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        value: impl Into<String>,
    ) -> Self {
        Input {
            id: format!("{form}-{name}"),
            name,
            label,
            kind,
            value: value.into(),
            options: Vec::new(),
            hint: "",
            error: None,
        }
    }

    pub fn options(mut self, options: Vec<(String, String)>) -> Self {
        self.options = options;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    /// Takes this field's message from the form's errors.
    pub fn errors(mut self, errors: &FieldErrors) -> Self {
        self.error = errors.get(self.name).map(str::to_string);
        self
    }

    /// Whether `v` is the chosen option (or, for a checkbox, whether it is ticked).
    pub fn is(&self, v: &str) -> bool {
        self.value == v
    }
}

/// Choices whose value is also their label's source: `round_robin` → `Round robin`.
pub fn choices(values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), super::display::label(v))).collect()
}

/// A mail server's connection security (SMTP, IMAP), in the order given, by its usual name.
pub fn security_choices(order: &[&str]) -> Vec<(String, String)> {
    let name = |v: &str| match v {
        "tls" => "TLS".to_string(),
        "starttls" => "STARTTLS".to_string(),
        "none" => "None (a server on this host only)".to_string(),
        other => other.to_string(),
    };
    order.iter().map(|v| (v.to_string(), name(v))).collect()
}

/// A whole number from a form field; empty is `None`.
pub fn number(field: &str, v: Option<&str>, errors: &mut Vec<FieldError>) -> Option<i64> {
    let v = v.unwrap_or("").trim();
    if v.is_empty() {
        return None;
    }
    v.parse().map_err(|_| errors.push(FieldError::new(field, "must be a whole number"))).ok()
}

/// A comma-separated list from a form field, trimmed, without empty entries.
pub fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// An instant as a page shows it: `2026-05-06 15:00 UTC`.
pub fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A link to the page after `path`'s current one.
pub fn next_page(path: &str, cursor: Option<String>) -> Option<String> {
    cursor.map(|c| format!("{path}?cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()))
}

/// A section of the admin index.
pub struct Section {
    pub href: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminIndex {
    chrome: Chrome,
    sections: Vec<Section>,
}

pub async fn index(viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let sections = vec![
        Section {
            href: "/admin/users",
            title: "Users",
            text: "Who works here: roles, availability, capacity and their skills in each queue.",
        },
        Section {
            href: "/admin/queues",
            title: "Queues",
            text: "Where cases wait, who works them and how they are assigned.",
        },
        Section {
            href: "/admin/tokens",
            title: "API tokens",
            text: "Keys for scripts and integrations; revoke the ones no longer used.",
        },
        Section {
            href: "/admin/webhooks",
            title: "Webhooks",
            text: "Endpoints told of every change, with the log of each delivery.",
        },
        Section {
            href: "/admin/sla",
            title: "SLA policies and calendars",
            text: "Response and resolution targets, and the business hours they count in.",
        },
        Section {
            href: "/admin/rules",
            title: "Automation rules",
            text: "What happens by itself when a case is created or changes.",
        },
        Section {
            href: "/admin/macros",
            title: "Macros",
            text: "Saved replies and actions agents apply to a case by hand.",
        },
        Section {
            href: "/admin/workflow",
            title: "Statuses and categories",
            text: "The statuses cases move through, and the categories with the fields each asks for.",
        },
        Section {
            href: "/admin/mailboxes",
            title: "Mailboxes",
            text: "The addresses mail arrives at, the queue each feeds, and IMAP polling.",
        },
        Section {
            href: "/admin/settings",
            title: "Mail and assistant",
            text: "The server outgoing mail goes through, and which provider the assistant uses.",
        },
        Section { href: "/admin/trash", title: "Trash", text: "Deleted cases, restorable for 30 days." },
    ];
    Ok(html(StatusCode::OK, &AdminIndex { chrome: Chrome::of(&viewer, "admin"), sections }))
}

pub struct TrashRow {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub deleted: String,
    pub deleted_by: String,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    chrome: Chrome,
    rows: Vec<TrashRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
}

pub async fn trash(State(s): State<AppState>, viewer: Viewer, Query(q): Query<PageQuery>) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let page = s.app.list_trash(actor, &PageRequest { limit: 50, cursor: q.cursor }).await?;
    let users = s.app.list_users(actor, &PageRequest::first(200)).await?.items;
    let name = |id: &Option<String>| {
        id.as_ref()
            .map(|id| users.iter().find(|u| &u.id == id).map_or(id.clone(), |u| u.name.clone()))
            .unwrap_or_default()
    };
    let now = s.app.clock.now();
    let rows = page
        .items
        .iter()
        .map(|t| TrashRow {
            id: t.case.id.clone(),
            number: t.case.case_number,
            subject: t.case.subject.clone(),
            deleted: badge::ago(t.deleted_at, now),
            deleted_by: name(&t.deleted_by),
        })
        .collect();
    let next = next_page("/admin/trash", page.next_cursor);
    Ok(html(StatusCode::OK, &TrashPage { chrome: Chrome::of(&viewer, "admin"), rows, next }))
}

pub async fn restore(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let case = s.app.restore_case(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{}", case.id)).into_response())
}
