//! Time tracking on the case page: the viewer's timer (start, pause, stop), time logged by hand
//! (`90m`, `1.5h`), and the time spent against the estimate. Timers are the server's rows, so a
//! running one keeps counting across pages, reloads and instances; every page's header shows it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::store::PageRequest;
use casedesk_core::time::StopInput;
use casedesk_core::{Actor, App, AppError};
use casedesk_domain::time::{EntryInput, Timer};
use jiff::Timestamp;

use super::cases::{Opt, Refused, case_page, explain};
use super::display::{Names, clock, worked};
use super::error::UiError;
use super::session::Posted;
use crate::AppState;

/// Entries listed on the case page, newest first.
const ENTRIES: u32 = 5;

/// The time panel of a case page.
pub struct TimePanel {
    /// The viewer's timer on this case: `running`, `paused` or `none`.
    pub timer: &'static str,
    pub elapsed_secs: i64,
    pub clock: String,
    pub spent: String,
    pub estimate: Option<String>,
    /// Minutes spent and estimated, for the meter.
    pub spent_minutes: i64,
    pub estimate_minutes: i64,
    pub over: bool,
    pub entries: Vec<EntryRow>,
    pub more_entries: bool,
    pub types: Vec<Opt>,
    /// Admins set estimates here (managers of the case's queue may too, through the API).
    pub may_estimate: bool,
    pub estimate_value: String,
    /// Why the last timer, entry or estimate change was refused, and what was typed.
    pub error: Option<String>,
    pub draft: String,
}

pub struct EntryRow {
    pub who: String,
    pub duration: String,
    pub date: String,
    pub note: String,
    pub source: &'static str,
}

impl TimePanel {
    pub async fn load(
        app: &App,
        actor: &Actor,
        case_id: &str,
        names: &Names,
        now: Timestamp,
        refused: &Refused,
    ) -> Result<Self, UiError> {
        let timers = match app.list_timers(actor).await {
            Ok(t) => t,
            Err(AppError::Forbidden(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mine: Option<&Timer> = timers.iter().find(|t| t.case_id == case_id);
        let elapsed_secs = mine.map_or(0, |t| t.elapsed_secs(now));
        let listed = app.case_time_entries(actor, case_id, &PageRequest::first(ENTRIES)).await?;
        let time = listed.time;
        let types = app
            .list_time_types(actor, &PageRequest::first(100))
            .await?
            .items
            .into_iter()
            .filter(|t| t.active)
            .map(|t| Opt { value: t.id, label: t.name, selected: false })
            .collect();
        let estimate_minutes = time.estimate_minutes.unwrap_or(0);
        Ok(TimePanel {
            timer: match mine {
                Some(t) if t.is_running() => "running",
                Some(_) => "paused",
                None => "none",
            },
            elapsed_secs,
            clock: clock(elapsed_secs),
            spent: worked(time.spent_seconds),
            estimate: time.estimate_minutes.map(|m| worked(m * 60)),
            spent_minutes: time.spent_seconds / 60,
            estimate_minutes,
            over: time.estimate_minutes.is_some() && time.spent_seconds > estimate_minutes * 60,
            entries: listed
                .page
                .items
                .iter()
                .map(|e| EntryRow {
                    who: names.user(Some(&e.user_id)),
                    duration: worked(e.duration_secs),
                    date: e.work_date.to_string(),
                    note: e.note.clone(),
                    source: e.source.as_str(),
                })
                .collect(),
            more_entries: listed.page.next_cursor.is_some(),
            types,
            may_estimate: actor.role == casedesk_domain::policy::Role::Admin,
            estimate_value: time.estimate_minutes.map(|m| format!("{m}m")).unwrap_or_default(),
            error: refused.time_error.clone(),
            draft: refused.time_draft.clone(),
        })
    }
}

/// Back to the case's time panel, or the case page with the reason a change was refused.
async fn settle(
    s: &AppState,
    p: &Posted,
    id: &str,
    result: Result<(), AppError>,
    draft: String,
) -> Result<Response, UiError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}#time")).into_response()),
        Err(e) => {
            let (status, message) = explain(e)?;
            let refused = Refused { time_error: Some(message), time_draft: draft, ..Refused::default() };
            case_page(s, &p.viewer, id, refused, status).await
        }
    }
}

/// `POST /cases/{id}/timer`: `do` is `start` (or resume), `pause` or `stop` (the time becomes an
/// entry).
pub async fn timer(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let result = match p.form.get("do") {
        Some("start") => s.app.start_timer(actor, &id).await.map(|_| ()),
        Some("pause") => s.app.pause_timer(actor, &id).await.map(|_| ()),
        Some("stop") => s.app.stop_timer(actor, &id, StopInput::default()).await.map(|_| ()),
        _ => return Err(UiError::BadRequest("expected do=start, pause or stop".into())),
    };
    settle(&s, &p, &id, result, String::new()).await
}

/// `POST /cases/{id}/time`: time worked, logged by hand.
pub async fn log(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let duration = p.form.get("duration").unwrap_or_default().to_string();
    let input = EntryInput {
        duration: Some(duration.clone()),
        work_date: p.form.non_empty("work_date"),
        time_type_id: p.form.non_empty("time_type_id").map(Some),
        billable: None,
        note: p.form.non_empty("note"),
    };
    let result = s.app.create_time_entry(&p.viewer.who.actor, &id, None, input, None).await.map(|_| ());
    settle(&s, &p, &id, result, duration).await
}

/// `POST /cases/{id}/estimate`: sets the estimate (`4h`, `1.5d`), or removes it when empty.
pub async fn estimate(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let value = p.form.non_empty("estimate");
    let result = s.app.set_time_estimate(&p.viewer.who.actor, &id, value).await.map(|_| ());
    settle(&s, &p, &id, result, String::new()).await
}
