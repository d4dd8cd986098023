//! Admin pages for users and API tokens.
//!
//! `/admin/users` lists the organization's users with a form to add one; `/admin/users/{id}`
//! changes a user (role, availability, capacity, password), deactivates or reactivates them and
//! shows their skills in each queue they belong to. `/admin/tokens` lists every API token with a
//! form to create one (its secret is shown once, on the page the form answers) and revokes them.
//! Every change goes through the same use cases as the API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::directory::UserInput;
use casedesk_core::store::PageRequest;
use casedesk_domain::FieldError;
use casedesk_domain::badge;
use casedesk_domain::people::User;
use jiff::Timestamp;

use super::admin::{Input, PageQuery, choices, invalid, next_page, number, require_admin, when};
use super::display::{Chrome, FieldErrors, label};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

const ROLES: &[&str] = &["agent", "admin"];
const AVAILABILITY: &[&str] = &["available", "away", "offline"];

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub availability: String,
    pub capacity: String,
    pub active: bool,
}

fn capacity(u: &User) -> String {
    u.max_open_cases.map_or_else(|| "No limit".to_string(), |n| format!("{n} open cases"))
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    next: Option<String>,
    fields: Vec<Input>,
}

/// The new-user form, filled with what was sent.
fn new_user_fields(form: &FormData, errors: &FieldErrors) -> Vec<Input> {
    let v = |n: &str| form.get(n).unwrap_or_default().to_string();
    let role = form.get("role").unwrap_or("agent").to_string();
    vec![
        Input::new("new-user", "name", "Name", "text", v("name")).errors(errors),
        Input::new("new-user", "email", "Email", "email", v("email")).errors(errors),
        Input::new("new-user", "role", "Role", "select", role).options(choices(ROLES)).errors(errors),
        Input::new("new-user", "password", "Password", "password", "")
            .hint("At least 10 characters; they can change it after signing in.")
            .errors(errors),
        Input::new("new-user", "max_open_cases", "Capacity (open cases)", "number", v("max_open_cases"))
            .hint("Empty for no limit.")
            .errors(errors),
    ]
}

async fn users_page(
    s: &AppState,
    viewer: &Viewer,
    cursor: Option<String>,
    form: &FormData,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let page = s.app.list_users(&viewer.who.actor, &PageRequest { limit: 50, cursor }).await?;
    let rows = page
        .items
        .iter()
        .map(|u| UserRow {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: label(u.role.as_str()),
            availability: label(u.availability.as_str()),
            capacity: capacity(u),
            active: u.is_active,
        })
        .collect();
    let status = errors.status();
    let fields = new_user_fields(form, &errors);
    let next = next_page("/admin/users", page.next_cursor);
    Ok(html(status, &UsersPage { chrome: Chrome::of(viewer, "admin"), rows, next, fields }))
}

pub async fn users(State(s): State<AppState>, viewer: Viewer, Query(q): Query<PageQuery>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    users_page(&s, &viewer, q.cursor, &FormData(Vec::new()), FieldErrors::default()).await
}

pub async fn create_user(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let mut parse_errors = Vec::new();
    let max = number("max_open_cases", p.form.get("max_open_cases"), &mut parse_errors);
    let result = if parse_errors.is_empty() {
        let input = UserInput {
            email: Some(p.form.get("email").unwrap_or_default().to_string()),
            name: Some(p.form.get("name").unwrap_or_default().to_string()),
            role: p.form.non_empty("role"),
            password: Some(p.form.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone()).unwrap_or_default()),
            max_open_cases: Some(max),
            ..Default::default()
        };
        s.app.create_user(&p.viewer.who.actor, input).await
    } else {
        Err(casedesk_core::AppError::Validation(parse_errors))
    };
    match result {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}", u.id)).into_response()),
        Err(e) => {
            let errors = invalid(e, "email")?;
            users_page(&s, &p.viewer, None, &p.form, errors).await
        }
    }
}

/// A user's membership of a queue, with their skills there.
pub struct Membership {
    pub queue_id: String,
    pub queue: String,
    pub role: String,
    pub skills: String,
    pub vip: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserRow,
    fields: Vec<Input>,
    memberships: Vec<Membership>,
    /// Errors of the (de)activation button.
    active_error: Option<String>,
    saved: bool,
}

async fn user_page(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    form: Option<&FormData>,
    errors: FieldErrors,
    saved: bool,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let u = s.app.get_user(actor, id).await?;
    let mut memberships = Vec::new();
    for q in s.app.list_queues(actor, &PageRequest::first(200)).await?.items {
        if let Some(m) = s.app.list_members(actor, &q.id).await?.into_iter().find(|m| m.user_id == u.id) {
            memberships.push(Membership {
                queue_id: q.id.clone(),
                queue: q.name.clone(),
                role: label(m.role.as_str()),
                skills: m.skills.join(", "),
                vip: m.vip,
            });
        }
    }
    let v = |n: &str, current: String| form.map_or(current, |f| f.get(n).unwrap_or_default().to_string());
    let fields = vec![
        Input::new("user", "name", "Name", "text", v("name", u.name.clone())).errors(&errors),
        Input::new("user", "email", "Email", "email", v("email", u.email.clone())).errors(&errors),
        Input::new("user", "role", "Role", "select", v("role", u.role.as_str().into()))
            .options(choices(ROLES))
            .errors(&errors),
        Input::new("user", "availability", "Availability", "select", v("availability", u.availability.as_str().into()))
            .options(choices(AVAILABILITY))
            .errors(&errors),
        Input::new(
            "user",
            "max_open_cases",
            "Capacity (open cases)",
            "number",
            v("max_open_cases", u.max_open_cases.map(|n| n.to_string()).unwrap_or_default()),
        )
        .hint("Empty for no limit.")
        .errors(&errors),
        Input::new("user", "password", "New password", "password", "")
            .hint("Leave empty to keep the current one.")
            .errors(&errors),
    ];
    let status = errors.status();
    let active_error = errors.get("is_active").map(str::to_string);
    let user = UserRow {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        role: label(u.role.as_str()),
        availability: label(u.availability.as_str()),
        capacity: capacity(&u),
        active: u.is_active,
    };
    Ok(html(status, &UserPage { chrome: Chrome::of(viewer, "admin"), user, fields, memberships, active_error, saved }))
}

pub async fn user(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    user_page(&s, &viewer, &id, None, FieldErrors::default(), false).await
}

pub async fn update_user(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let mut parse_errors = Vec::new();
    let max = number("max_open_cases", p.form.get("max_open_cases"), &mut parse_errors);
    let result = if parse_errors.is_empty() {
        let password = p.form.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        let input = UserInput {
            email: Some(p.form.get("email").unwrap_or_default().to_string()),
            name: Some(p.form.get("name").unwrap_or_default().to_string()),
            role: Some(p.form.get("role").unwrap_or_default().to_string()),
            availability: Some(p.form.get("availability").unwrap_or_default().to_string()),
            password,
            max_open_cases: Some(max),
            ..Default::default()
        };
        s.app.update_user(&p.viewer.who.actor, &id, input).await
    } else {
        Err(casedesk_core::AppError::Validation(parse_errors))
    };
    match result {
        Ok(_) => user_page(&s, &p.viewer, &id, None, FieldErrors::default(), true).await,
        Err(e) => {
            let errors = invalid(e, "email")?;
            user_page(&s, &p.viewer, &id, Some(&p.form), errors, false).await
        }
    }
}

/// Deactivates (`active=false`) or reactivates (`active=true`) a user.
pub async fn set_active(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let active = p.form.get("active") == Some("true");
    let actor = &p.viewer.who.actor;
    let result = if active {
        s.app.update_user(actor, &id, UserInput { is_active: Some(true), ..Default::default() }).await
    } else {
        s.app.deactivate_user(actor, &id).await
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(e) => {
            let errors = invalid(e, "is_active")?;
            user_page(&s, &p.viewer, &id, None, errors, false).await
        }
    }
}

// ---- API tokens ------------------------------------------------------------------------------

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub user: String,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    next: Option<String>,
    fields: Vec<Input>,
    /// A token just created: its name and its secret, shown this once.
    created: Option<(String, String)>,
}

async fn tokens_page(
    s: &AppState,
    viewer: &Viewer,
    cursor: Option<String>,
    form: &FormData,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let page = s.app.list_tokens(actor, &PageRequest { limit: 50, cursor }).await?;
    let users = s.app.list_users(actor, &PageRequest::first(200)).await?.items;
    let name = |id: &str| users.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.name.clone());
    let now = s.app.clock.now();
    let rows = page
        .items
        .iter()
        .map(|t| TokenRow {
            id: t.id.clone(),
            name: t.name.clone(),
            user: name(&t.user_id),
            prefix: t.prefix.clone(),
            created: badge::ago(t.created_at, now),
            last_used: t.last_used_at.map(|at| badge::ago(at, now)).unwrap_or_else(|| "Never".into()),
            expires: t.expires_at.map(when).unwrap_or_else(|| "Never".into()),
            state: if t.revoked_at.is_some() {
                "revoked"
            } else if t.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "active"
            },
        })
        .collect();
    let owners =
        users.iter().filter(|u| u.is_active).map(|u| (u.id.clone(), format!("{} <{}>", u.name, u.email))).collect();
    let v = |n: &str| form.get(n).unwrap_or_default().to_string();
    let owner = form.non_empty("user_id").unwrap_or_else(|| actor.user_id.clone());
    let fields = vec![
        Input::new("new-token", "name", "Name", "text", v("name"))
            .hint("What it is for, e.g. \"CRM sync\".")
            .errors(&errors),
        Input::new("new-token", "user_id", "Acts as", "select", owner).options(owners).errors(&errors),
        Input::new("new-token", "expires_at", "Expires on", "date", v("expires_at"))
            .hint("Empty for never; it stops working at the start of that day (UTC).")
            .errors(&errors),
    ];
    let status = errors.status();
    let next = next_page("/admin/tokens", page.next_cursor);
    Ok(html(status, &TokensPage { chrome: Chrome::of(viewer, "admin"), rows, next, fields, created }))
}

pub async fn tokens(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    tokens_page(&s, &viewer, q.cursor, &FormData(Vec::new()), FieldErrors::default(), None).await
}

/// A day (`2026-05-06`) as the instant it starts in UTC.
fn day_start(v: &str) -> Result<Timestamp, FieldError> {
    let bad = || FieldError::new("expires_at", "must be a date like 2026-05-06");
    let date: jiff::civil::Date = v.parse().map_err(|_| bad())?;
    date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|_| bad())
}

pub async fn create_token(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let expires = p.form.non_empty("expires_at").map(|v| day_start(&v)).transpose();
    let result = match expires {
        Ok(expires) => {
            let name = p.form.get("name").unwrap_or_default();
            s.app.create_token(actor, name, p.form.get("user_id").filter(|v| !v.is_empty()), expires).await
        }
        Err(e) => Err(casedesk_core::AppError::Validation(vec![e])),
    };
    match result {
        Ok((token, secret)) => {
            tokens_page(&s, &p.viewer, None, &FormData(Vec::new()), FieldErrors::default(), Some((token.name, secret)))
                .await
        }
        Err(e) => {
            let errors = invalid(e, "name")?;
            tokens_page(&s, &p.viewer, None, &p.form, errors, None).await
        }
    }
}

pub async fn revoke_token(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.revoke_token(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
