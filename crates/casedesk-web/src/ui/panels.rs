//! The case page's side panels besides time: the SLA targets, the requester (changed by email
//! address), milestones, linked
//! cases (with close as duplicate and merge) and files (upload, download, attach to a reply).
//! Each change goes through the same use case as its API endpoint; a refusal comes back on the
//! case page, in the panel it belongs to.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::milestones::MilestoneInput;
use casedesk_core::requester::RequesterInput;
use casedesk_core::{Actor, App, AppError};
use casedesk_domain::badge::{self, short_duration};
use casedesk_domain::case::Case;
use casedesk_domain::links::LinkType;
use casedesk_domain::sla::ClockState;
use jiff::Timestamp;

use super::cases::{Refused, case_page, explain};
use super::display::{Names, label};
use super::error::UiError;
use super::session::{Posted, Viewer, same};
use crate::AppState;
use crate::error::ApiError;

/// How the upload's guard says the CSRF token was missing or wrong.
const CSRF_REFUSED: &str = "the form's CSRF token is missing or wrong";

/// One SLA target of the case.
pub struct SlaRow {
    pub target: String,
    /// `running`, `paused`, `met` or `breached`.
    pub state: &'static str,
    pub due: String,
    pub due_iso: String,
}

pub struct MilestoneRow {
    pub id: String,
    pub name: String,
    /// `completed`, `current`, `upcoming` or `overdue`.
    pub state: &'static str,
    pub due: String,
    pub completed: bool,
}

pub struct LinkRow {
    pub id: String,
    pub case_id: String,
    pub number: i64,
    pub subject: String,
    pub relation: String,
}

pub struct FileRow {
    pub id: String,
    pub name: String,
    pub size: String,
    pub attached: bool,
}

/// The side panels' data.
pub struct Panels {
    pub sla: Vec<SlaRow>,
    pub requester: String,
    pub contact: Option<(String, String)>,
    pub account: Option<(String, String)>,
    pub milestones: Vec<MilestoneRow>,
    pub links: Vec<LinkRow>,
    pub files: Vec<FileRow>,
    /// Some files are in no message yet: the composer offers to attach them.
    pub loose_files: bool,
    /// A refused panel change: which panel (`milestones`, `links`, `files`) and why.
    pub error: Option<(&'static str, String)>,
}

fn when(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(t) if t > now => format!("due in {}", short_duration(now.duration_until(t))),
        Some(t) => format!("due {}", badge::ago(t, now)),
        None => String::new(),
    }
}

pub(crate) fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

impl Panels {
    pub async fn load(
        app: &App,
        actor: &Actor,
        detail: &casedesk_core::cases::CaseDetail,
        names: &Names,
        now: Timestamp,
        refused: &Refused,
    ) -> Result<Self, UiError> {
        let c: &Case = &detail.case;
        let sla = c
            .sla
            .iter()
            .flat_map(|s| &s.clocks)
            .map(|k| {
                let state = k.state();
                let due_at = if state == ClockState::Met { k.met_at } else { k.breached_at.or(k.due_at) };
                SlaRow {
                    target: label(k.kind.as_str()),
                    state: state.as_str(),
                    due: match state {
                        ClockState::Met => k.met_at.map(|t| format!("met {}", badge::ago(t, now))).unwrap_or_default(),
                        ClockState::Paused => "paused".into(),
                        ClockState::Breached => {
                            k.breached_at.map(|t| format!("breached {}", badge::ago(t, now))).unwrap_or_default()
                        }
                        ClockState::Running => when(k.due_at, now),
                    },
                    due_iso: due_at.map(|t| t.to_string()).unwrap_or_default(),
                }
            })
            .collect();
        let milestones = app
            .list_milestones(actor, &c.id)
            .await?
            .into_iter()
            .map(|(m, state)| MilestoneRow {
                due: if m.completed_at.is_some() { String::new() } else { when(m.due_at, now) },
                completed: m.completed_at.is_some(),
                state: state.as_str(),
                id: m.id,
                name: m.name,
            })
            .collect();
        let links = app
            .list_links(actor, &c.id)
            .await?
            .into_iter()
            .map(|(link, other)| {
                let (_, t) = link.seen_from(&c.id);
                LinkRow {
                    id: link.id.clone(),
                    case_id: other.id,
                    number: other.case_number,
                    subject: other.subject,
                    relation: relation(t).into(),
                }
            })
            .collect();
        let files: Vec<FileRow> = app
            .list_files(actor, &c.id)
            .await?
            .into_iter()
            .map(|f| FileRow { attached: f.comment_id.is_some(), size: size(f.size), id: f.id, name: f.name })
            .collect();
        let requester = if c.requester_id.starts_with("usr_") {
            names.user(Some(&c.requester_id))
        } else {
            detail.contact.as_ref().filter(|k| k.id == c.requester_id).map(|k| k.name.clone()).unwrap_or_default()
        };
        Ok(Panels {
            sla,
            requester,
            contact: detail.contact.as_ref().map(|k| (k.id.clone(), k.name.clone())),
            account: detail.account.as_ref().map(|a| (a.id.clone(), a.name.clone())),
            milestones,
            links,
            loose_files: files.iter().any(|f| !f.attached),
            files,
            error: refused.panel_error.clone(),
        })
    }
}

impl Panels {
    /// Why the last change in `panel` was refused, if it was.
    pub fn error_of(&self, panel: &str) -> Option<&str> {
        self.error.as_ref().filter(|(p, _)| *p == panel).map(|(_, e)| e.as_str())
    }
}

/// How a linked case relates to this one, in words.
fn relation(t: LinkType) -> &'static str {
    match t {
        LinkType::Related => "Related",
        LinkType::Parent => "Parent",
        LinkType::Child => "Child",
        LinkType::DuplicateOf => "This duplicates",
        LinkType::DuplicatedBy => "Duplicated by",
    }
}

/// A case named by its id or by the address of its page (pasted from the browser).
fn case_ref(s: &str) -> String {
    let s = s.trim();
    s.rsplit('/').next().unwrap_or(s).split(['#', '?']).next().unwrap_or(s).to_string()
}

/// Back to the case (at `anchor`), or the case page with the panel's refusal.
async fn settle(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    panel: &'static str,
    result: Result<String, AppError>,
) -> Result<Response, UiError> {
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let (status, message) = explain(e)?;
            let refused = Refused { panel_error: Some((panel, message)), ..Refused::default() };
            case_page(s, viewer, id, refused, status).await
        }
    }
}

/// `POST /cases/{id}/requester`: the customer the case is for, by `email` (a new address
/// becomes a contact named `name`, or by the address when no name is given).
pub async fn requester(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let input =
        RequesterInput { email: p.form.get("email").unwrap_or_default().to_string(), name: p.form.non_empty("name") };
    let version = p.form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = s.app.change_requester(&p.viewer.who.actor, &id, input, version).await;
    settle(&s, &p.viewer, &id, "people", result.map(|c| format!("/cases/{}#people", c.id))).await
}

/// `POST /cases/{id}/milestones`: a new milestone (`name`, `due` as a date and time), or
/// `complete` / `reopen` of one (`milestone_id`).
pub async fn milestones(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let back = format!("/cases/{id}#milestones");
    let result = match (p.form.get("do"), p.form.non_empty("milestone_id")) {
        (Some(what @ ("complete" | "reopen")), Some(m)) => {
            let input = MilestoneInput { completed: Some(what == "complete"), ..MilestoneInput::default() };
            // Only a milestone of this case: another's is "not found" like a missing one.
            match s.app.list_milestones(actor, &id).await {
                Ok(ms) if ms.iter().any(|(x, _)| x.id == m) => {
                    s.app.update_milestone(actor, &m, input).await.map(|_| back)
                }
                Ok(_) => Err(AppError::NotFound),
                Err(e) => Err(e),
            }
        }
        _ => {
            let due = p.form.non_empty("due");
            let due_at = match due.as_deref().map(|d| parse_local(d, &s.app, actor)) {
                Some(fut) => match fut.await {
                    Ok(t) => Some(t),
                    Err(e) => return settle(&s, &p.viewer, &id, "milestones", Err(e)).await,
                },
                None => None,
            };
            let input = MilestoneInput { name: p.form.non_empty("name"), due_at, ..MilestoneInput::default() };
            s.app.add_milestone(actor, &id, input).await.map(|_| back)
        }
    };
    settle(&s, &p.viewer, &id, "milestones", result).await
}

/// A `datetime-local` value (`2026-03-01T14:30`) in the organization's time zone.
async fn parse_local(v: &str, app: &App, actor: &Actor) -> Result<Timestamp, AppError> {
    let org = app.store.get_org(&actor.org_id).await?;
    let tz = jiff::tz::TimeZone::get(&org.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    v.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|d| d.to_zoned(tz).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| AppError::field("due", "expected a date and time, e.g. 2026-03-01T14:30"))
}

/// `POST /cases/{id}/links`: `do` is `link` (with `type` and `case`), `unlink` (`link_id`),
/// `duplicate` (close this case as a duplicate of `case`) or `merge` (merge this case into
/// `case`).
pub async fn links(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let other = case_ref(p.form.get("case").unwrap_or_default());
    let back = format!("/cases/{id}#links");
    let result = match p.form.get("do") {
        Some("unlink") => {
            let link = p.form.get("link_id").unwrap_or_default();
            s.app.remove_link(actor, &id, link).await.map(|()| back)
        }
        Some("duplicate") => {
            let note = p.form.non_empty("note");
            let notify = p.form.get("notify") == Some("on");
            s.app.close_as_duplicate(actor, &id, &other, note, notify).await.map(|_| back)
        }
        Some("merge") => {
            s.app.merge_cases(actor, &other, std::slice::from_ref(&id)).await.map(|t| format!("/cases/{}", t.id))
        }
        _ => {
            let t = p.form.get("type").unwrap_or("related");
            s.app.add_link(actor, &id, t, &other).await.map(|_| back)
        }
    };
    settle(&s, &p.viewer, &id, "links", result).await
}

/// `POST /cases/{id}/files`: a file uploaded to the case (multipart, its CSRF token first).
pub async fn upload(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, UiError> {
    let header_token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut checked = header_token.as_deref().is_some_and(|t| same(t, &viewer.csrf));
    let csrf = viewer.csrf.clone();
    // The token is checked before the file is stored: a forged form stores nothing.
    let guard = |part: Option<(&str, &str)>| match part {
        Some((_, v)) => {
            checked = checked || same(v, &csrf);
            Ok(())
        }
        None if checked => Ok(()),
        None => Err(ApiError::BadRequest(CSRF_REFUSED.into())),
    };
    let received = crate::api::files::receive(&s.app, &viewer.who.actor, &id, &headers, form, &["_csrf"], guard).await;
    let result = match received {
        Ok(f) => Ok(format!("/cases/{id}#file-{}", f.id)),
        Err(ApiError::BadRequest(m)) if m == CSRF_REFUSED => return Err(UiError::Csrf),
        Err(ApiError::App(e)) => Err(e),
        Err(ApiError::UnsupportedMediaType(_)) => Err(AppError::field("file", "choose a file to upload")),
        Err(_) => Err(AppError::field("file", "the upload could not be read; try again")),
    };
    settle(&s, &viewer, &id, "files", result).await
}

/// `GET /cases/{id}/files/{file_id}`: a file's content, as a download.
pub async fn download(
    State(s): State<AppState>,
    viewer: Viewer,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    Ok(crate::api::files::download(&s.app, &viewer.who.actor, &id, &file_id, &headers).await?)
}
