//! Admin pages for SLA policies and business calendars: `/admin/sla` lists both with a form to
//! add each; `/admin/sla/policies/{id}` and `/admin/sla/calendars/{id}` change one. A policy's
//! rules and a calendar's hours and holidays are nested lists, so each is written as its JSON
//! definition in a textarea — the same document the API takes (`PolicyRequest`,
//! `CalendarRequest`) — and every error is listed with the field it names (`rules[0].priority`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::AppError;
use casedesk_core::store::PageRequest;
use casedesk_domain::FieldError;
use serde::Serialize;

use super::admin::{invalid, require_admin};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{Posted, Viewer};
use crate::AppState;
use crate::api::sla::{CalendarRequest, CalendarResponse, PolicyRequest, PolicyResponse};

const POLICY_EXAMPLE: &str = r#"{
  "name": "Standard",
  "description": "",
  "calendar_id": null,
  "rules": [
    {"priority": "critical", "first_response_minutes": 30, "resolution_minutes": 240},
    {"priority": "high", "first_response_minutes": 60, "resolution_minutes": 480},
    {"priority": "medium", "first_response_minutes": 240, "resolution_minutes": 1440},
    {"priority": "low", "first_response_minutes": 480, "resolution_minutes": 2880}
  ],
  "pause_statuses": ["pending", "on_hold"],
  "warn_percent": 80
}"#;

const CALENDAR_EXAMPLE: &str = r#"{
  "name": "Office hours",
  "time_zone": "Europe/Lisbon",
  "hours": {
    "monday": [{"start": "09:00", "end": "18:00"}],
    "tuesday": [{"start": "09:00", "end": "18:00"}],
    "wednesday": [{"start": "09:00", "end": "18:00"}],
    "thursday": [{"start": "09:00", "end": "18:00"}],
    "friday": [{"start": "09:00", "end": "18:00"}]
  },
  "holidays": [{"date": "2026-12-25", "name": "Christmas"}]
}"#;

/// A JSON definition form: what it says and what is wrong with it.
pub struct Definition {
    /// `policy` or `calendar`: the form's id prefix.
    pub kind: &'static str,
    pub action: String,
    pub text: String,
    pub errors: Vec<FieldError>,
}

impl Definition {
    pub fn new(kind: &'static str, action: String, text: String, errors: FieldErrors) -> Self {
        Definition { kind, action, text, errors: errors.0 }
    }
}

pub struct PolicyRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub calendar: String,
    pub rules: usize,
}

pub struct CalendarRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub holidays: usize,
}

#[derive(Template)]
#[template(path = "admin_sla.html")]
struct SlaPage {
    chrome: Chrome,
    policies: Vec<PolicyRow>,
    calendars: Vec<CalendarRow>,
    new_policy: Definition,
    new_calendar: Definition,
}

async fn sla_page(
    s: &AppState,
    viewer: &Viewer,
    new_policy: Definition,
    new_calendar: Definition,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let calendars = s.app.list_calendars(actor, &PageRequest::first(200)).await?.items;
    let policies = s.app.list_policies(actor, &PageRequest::first(200)).await?.items;
    let calendar_name = |id: &Option<String>| match id {
        None => "Around the clock".to_string(),
        Some(id) => calendars.iter().find(|c| &c.id == id).map_or(id.clone(), |c| c.name.clone()),
    };
    let policies = policies
        .iter()
        .map(|p| PolicyRow {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            calendar: calendar_name(&p.calendar_id),
            rules: p.policy.rules.len(),
        })
        .collect();
    let calendars = calendars
        .into_iter()
        .map(|c| {
            let input = c.calendar.to_input();
            CalendarRow { id: c.id, name: c.name, time_zone: input.time_zone, holidays: input.holidays.len() }
        })
        .collect();
    let status = if new_policy.errors.is_empty() && new_calendar.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(status, &SlaPage { chrome: Chrome::of(viewer, "admin"), policies, calendars, new_policy, new_calendar }))
}

fn blank_policy() -> Definition {
    Definition::new("policy", "/admin/sla/policies".into(), POLICY_EXAMPLE.into(), FieldErrors::default())
}

fn blank_calendar() -> Definition {
    Definition::new("calendar", "/admin/sla/calendars".into(), CALENDAR_EXAMPLE.into(), FieldErrors::default())
}

pub async fn index(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    sla_page(&s, &viewer, blank_policy(), blank_calendar()).await
}

/// The textarea's JSON as the API's request document; a document that does not read is an
/// error of the `definition` field, with serde's words (line, column, unknown field …).
pub fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::field("definition", format!("is not a valid definition: {e}")))
}

/// A record's definition as the textarea shows it: the API's answer without what is not
/// written (id, author, times).
pub fn definition_of(response: impl Serialize) -> Result<String, AppError> {
    let mut v = serde_json::to_value(response).map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "created_by", "created_at", "updated_at"] {
            o.remove(k);
        }
    }
    serde_json::to_string_pretty(&v).map_err(|e| AppError::Internal(e.to_string()))
}

pub fn text(p: &Posted) -> String {
    p.form.0.iter().find(|(k, _)| k == "definition").map(|(_, v)| v.clone()).unwrap_or_default()
}

/// What tells the pages of one kind of record written as a definition from another's.
pub struct Kind {
    /// The form's id prefix.
    pub name: &'static str,
    /// Where they are created; each one's page is below it.
    pub path: &'static str,
    pub title: &'static str,
    /// The page that lists them.
    pub back: &'static str,
}

const POLICY: Kind = Kind { name: "policy", path: "/admin/sla/policies", title: "SLA policy", back: "/admin/sla" };
const CALENDAR: Kind =
    Kind { name: "calendar", path: "/admin/sla/calendars", title: "Business calendar", back: "/admin/sla" };

/// Creates a record from the posted definition with `write` (which answers its id), or shows the
/// list page again with the errors beside that form.
async fn create<Req: serde::de::DeserializeOwned>(
    s: &AppState,
    p: &Posted,
    kind: &Kind,
    write: impl AsyncFnOnce(Req) -> Result<String, AppError>,
) -> Result<Response, UiError> {
    let text = text(p);
    let result = match parse::<Req>(&text) {
        Ok(r) => write(r).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("{}/{id}", kind.path)).into_response()),
        Err(e) => {
            let form = Definition::new(kind.name, kind.path.into(), text, invalid(e, "name")?);
            let (policy, calendar) =
                if kind.name == POLICY.name { (form, blank_calendar()) } else { (blank_policy(), form) };
            sla_page(s, &p.viewer, policy, calendar).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_definition.html")]
struct DefinitionPage {
    chrome: Chrome,
    title: String,
    back: &'static str,
    form: Definition,
    saved: bool,
}

/// A record's page: its definition in the form, with `errors` if it was just refused.
pub fn show(
    viewer: &Viewer,
    kind: &Kind,
    id: &str,
    name: &str,
    text: String,
    errors: FieldErrors,
    saved: bool,
) -> Response {
    let status = errors.status();
    let form = Definition::new(kind.name, format!("{}/{id}", kind.path), text, errors);
    let title = format!("{}: {name}", kind.title);
    html(status, &DefinitionPage { chrome: Chrome::of(viewer, "admin"), title, back: kind.back, form, saved })
}

/// Changes a record to the posted definition with `write` (which answers its new name and
/// definition), or shows its page again with the errors.
pub async fn update<Req: serde::de::DeserializeOwned>(
    p: &Posted,
    kind: &Kind,
    id: &str,
    current_name: &str,
    write: impl AsyncFnOnce(Req) -> Result<(String, String), AppError>,
) -> Result<Response, UiError> {
    let text = text(p);
    let result = match parse::<Req>(&text) {
        Ok(r) => write(r).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok((name, saved)) => show(&p.viewer, kind, id, &name, saved, FieldErrors::default(), true),
        Err(e) => show(&p.viewer, kind, id, current_name, text, invalid(e, "name")?, false),
    })
}

pub async fn create_policy(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let write = async |r: PolicyRequest| Ok(s.app.create_policy(actor, r.into_fields(None), None).await?.value.id);
    create(&s, &p, &POLICY, write).await
}

pub async fn create_calendar(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let write = async |r: CalendarRequest| Ok(s.app.create_calendar(actor, r.into_fields(None), None).await?.value.id);
    create(&s, &p, &CALENDAR, write).await
}

pub async fn policy(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let p = s.app.get_policy(&viewer.who.actor, &id).await?;
    let name = p.name.clone();
    Ok(show(&viewer, &POLICY, &id, &name, definition_of(PolicyResponse::from(p))?, FieldErrors::default(), false))
}

pub async fn calendar(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let c = s.app.get_calendar(&viewer.who.actor, &id).await?;
    let name = c.name.clone();
    Ok(show(&viewer, &CALENDAR, &id, &name, definition_of(CalendarResponse::from(c))?, FieldErrors::default(), false))
}

pub async fn update_policy(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let current = s.app.get_policy(actor, &id).await?;
    let write = async |r: PolicyRequest| {
        let saved = s.app.update_policy(actor, &id, r.into_fields(Some(&current))).await?;
        Ok((saved.name.clone(), definition_of(PolicyResponse::from(saved))?))
    };
    update(&p, &POLICY, &id, &current.name, write).await
}

pub async fn update_calendar(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let current = s.app.get_calendar(actor, &id).await?;
    let write = async |r: CalendarRequest| {
        let saved = s.app.update_calendar(actor, &id, r.into_fields(Some(&current))).await?;
        Ok((saved.name.clone(), definition_of(CalendarResponse::from(saved))?))
    };
    update(&p, &CALENDAR, &id, &current.name, write).await
}
