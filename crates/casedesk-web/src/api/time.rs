//! Time tracking: `/api/v1/time-types`, the caller's timers (`/api/v1/timers`,
//! `/api/v1/cases/{id}/timer/start|pause|stop`), a case's entries and estimate
//! (`/api/v1/cases/{id}/time-entries`, `/api/v1/cases/{id}/time-estimate`), timesheets and totals
//! (`/api/v1/time-entries`, `/api/v1/time-entries/totals`) and single entries.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::idempotency::Created;
use casedesk_core::store::{CaseTime, EntryFilter, TimeTotal, TotalsGroup};
use casedesk_core::time::{StopInput, TimerStart, TimerStop};
use casedesk_domain::time::{EntryInput, TimeEntry, TimeType, TimeTypeInput, Timer, minutes_of};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, QueryReader, nullable, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs, parse_json};

pub const TAG: &str = "time";

type Ts = jiff::Timestamp;

// ---- time types --------------------------------------------------------------------------------

/// A kind of work (investigation, travel, call …).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeTypeResponse {
    pub id: String,
    pub name: String,
    /// Entries of this type are billable unless they say otherwise.
    pub billable: bool,
    /// Inactive types take no new entries.
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<TimeType> for TimeTypeResponse {
    fn from(t: TimeType) -> Self {
        TimeTypeResponse {
            id: t.id,
            name: t.name,
            billable: t.billable,
            active: t.active,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeTypeRequest {
    /// Unique in the organization (case-insensitive).
    pub name: Option<String>,
    /// Default: true.
    pub billable: Option<bool>,
    /// Default: true.
    pub active: Option<bool>,
}

impl From<TimeTypeRequest> for TimeTypeInput {
    fn from(r: TimeTypeRequest) -> Self {
        TimeTypeInput { name: r.name, billable: r.billable, active: r.active }
    }
}

/// Define a time type (admins).
#[utoipa::path(post, path = "/api/v1/time-types", tag = TAG, request_body = TimeTypeRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TimeTypeResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_time_type(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<TimeTypeRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_time_type(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/time-types/{}", value.id), None, replayed, TimeTypeResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/time-types", tag = TAG, params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<TimeTypeResponse>)))]
pub async fn list_time_types(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<TimeTypeResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_time_types(&actor, &page).await?, TimeTypeResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/time-types/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = TimeTypeResponse), (status = 404, body = Problem)))]
pub async fn get_time_type(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<TimeTypeResponse>, ApiError> {
    Ok(Json(s.app.get_time_type(&actor, &id).await?.into()))
}

/// Change a time type (admins).
#[utoipa::path(patch, path = "/api/v1/time-types/{id}", tag = TAG, params(("id" = String, Path)), request_body = TimeTypeRequest,
    responses((status = 200, body = TimeTypeResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_time_type(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<TimeTypeRequest>,
) -> Result<Json<TimeTypeResponse>, ApiError> {
    Ok(Json(s.app.update_time_type(&actor, &id, body.value.into()).await?.into()))
}

/// Delete a time type no entry uses (admins); 409 `in_use` otherwise — deactivate it instead.
#[utoipa::path(delete, path = "/api/v1/time-types/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_time_type(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_time_type(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- entries: types ----------------------------------------------------------------------------

/// Time an agent spent on a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeEntryResponse {
    pub id: String,
    pub case_id: String,
    /// Whose time it is.
    pub user_id: String,
    /// The day of the work (YYYY-MM-DD).
    pub date: String,
    pub duration_seconds: i64,
    /// Whole minutes, rounded half up.
    pub duration_minutes: i64,
    pub time_type_id: Option<String>,
    pub billable: bool,
    pub note: String,
    /// manual or timer
    pub source: &'static str,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<TimeEntry> for TimeEntryResponse {
    fn from(e: TimeEntry) -> Self {
        TimeEntryResponse {
            id: e.id,
            case_id: e.case_id,
            user_id: e.user_id,
            date: e.work_date.to_string(),
            duration_seconds: e.duration_secs,
            duration_minutes: minutes_of(e.duration_secs),
            time_type_id: e.time_type_id,
            billable: e.billable,
            note: e.note,
            source: e.source.as_str(),
            created_by: e.created_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Past work on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTimeEntryRequest {
    /// Minutes as a number (`45`), or a string with a unit: `90m`, `1.5h`, `1d` (a working day
    /// of the organization, `working_day_minutes`), `1h 30m`.
    #[schema(value_type = String)]
    pub duration: Value,
    /// The day of the work (YYYY-MM-DD). Default: today in the organization's time zone.
    pub date: Option<String>,
    pub time_type_id: Option<String>,
    /// Default: the time type's, or true.
    pub billable: Option<bool>,
    pub note: Option<String>,
    /// Admins only: log the time of another user. Default: the caller.
    pub user_id: Option<String>,
}

/// A change to an entry: only the fields present change; `time_type_id: null` clears the type.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTimeEntryRequest {
    #[schema(value_type = Option<String>)]
    pub duration: Option<Value>,
    pub date: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub time_type_id: Option<Option<String>>,
    pub billable: Option<bool>,
    pub note: Option<String>,
}

/// A duration as the client wrote it: a number of minutes or a string with units.
fn duration_text(field: &str, v: &Value) -> Result<String, ApiError> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        _ => Err(ApiError::field(field, "must be a number of minutes or a string such as 90m, 1.5h or 1d")),
    }
}

/// A case's entries with its time spent and estimate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseTimeEntriesResponse {
    /// Latest work first.
    pub data: Vec<TimeEntryResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
    /// Totals over all the case's entries (not just this page).
    #[serde(flatten)]
    pub time: CaseTimeResponse,
}

/// A case's time spent against its estimate.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseTimeResponse {
    pub time_spent_seconds: i64,
    pub time_spent_minutes: i64,
    pub billable_minutes: i64,
    pub entries: i64,
    /// Set by admins and the queue's managers; null when none.
    pub time_estimate_minutes: Option<i64>,
    /// Estimate minus time spent (negative when over); null without an estimate.
    pub time_remaining_minutes: Option<i64>,
}

impl From<CaseTime> for CaseTimeResponse {
    fn from(t: CaseTime) -> Self {
        let spent = minutes_of(t.spent_seconds);
        CaseTimeResponse {
            time_spent_seconds: t.spent_seconds,
            time_spent_minutes: spent,
            billable_minutes: minutes_of(t.billable_seconds),
            entries: t.entries,
            time_estimate_minutes: t.estimate_minutes,
            time_remaining_minutes: t.estimate_minutes.map(|e| e - spent),
        }
    }
}

// ---- entries: handlers -------------------------------------------------------------------------

/// A case's time entries, latest work first, with time spent against the estimate.
#[utoipa::path(get, path = "/api/v1/cases/{id}/time-entries", tag = TAG,
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = CaseTimeEntriesResponse), (status = 404, body = Problem)))]
pub async fn list_case_time_entries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<CaseTimeEntriesResponse>, ApiError> {
    let page = simple_page(q)?;
    let r = s.app.case_time_entries(&actor, &id, &page).await?;
    let list = ListResponse::new(r.page, TimeEntryResponse::from);
    Ok(Json(CaseTimeEntriesResponse {
        data: list.data,
        next_cursor: list.next_cursor,
        has_more: list.has_more,
        time: r.time.into(),
    }))
}

/// Log past work on a case. 409 `time_tracking_disabled` when the case's queue has time
/// tracking off.
#[utoipa::path(post, path = "/api/v1/cases/{id}/time-entries", tag = TAG, request_body = CreateTimeEntryRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TimeEntryResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_time_entry(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<CreateTimeEntryRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let r = body.value;
    let input = EntryInput {
        duration: Some(duration_text("duration", &r.duration)?),
        work_date: r.date,
        time_type_id: r.time_type_id.map(Some),
        billable: r.billable,
        note: r.note,
    };
    let Created { value, replayed } = s.app.create_time_entry(&actor, &id, r.user_id, input, idem).await?;
    Ok(created(format!("/api/v1/time-entries/{}", value.id), None, replayed, TimeEntryResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/time-entries/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = TimeEntryResponse), (status = 404, body = Problem)))]
pub async fn get_time_entry(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<TimeEntryResponse>, ApiError> {
    Ok(Json(s.app.get_time_entry(&actor, &id).await?.into()))
}

/// Change an entry: your own, or anyone's as an admin.
#[utoipa::path(patch, path = "/api/v1/time-entries/{id}", tag = TAG, params(("id" = String, Path)), request_body = UpdateTimeEntryRequest,
    responses((status = 200, body = TimeEntryResponse), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_time_entry(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<UpdateTimeEntryRequest>,
) -> Result<Json<TimeEntryResponse>, ApiError> {
    let r = body.value;
    let input = EntryInput {
        duration: r.duration.as_ref().map(|d| duration_text("duration", d)).transpose()?,
        work_date: r.date,
        time_type_id: r.time_type_id,
        billable: r.billable,
        note: r.note,
    };
    Ok(Json(s.app.update_time_entry(&actor, &id, input).await?.into()))
}

/// Delete an entry: your own, or anyone's as an admin.
#[utoipa::path(delete, path = "/api/v1/time-entries/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_time_entry(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_time_entry(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

const FILTER_PARAMS: &[&str] = &["user_id", "case_id", "account_id", "time_type_id", "billable", "from", "to"];

fn parse_date(s: &str) -> Result<jiff::civil::Date, String> {
    s.trim().parse().map_err(|_| "must be a date (2026-03-01)".to_string())
}

fn read_filter(r: &mut QueryReader) -> EntryFilter {
    let billable = r.parse("billable", super::parse_bool);
    let f = EntryFilter {
        user_id: r.one("user_id"),
        case_id: r.one("case_id"),
        account_id: r.one("account_id"),
        time_type_id: r.one("time_type_id"),
        billable,
        from: r.parse("from", parse_date),
        to: r.parse("to", parse_date),
    };
    if let (Some(from), Some(to)) = (f.from, f.to)
        && from > to
    {
        r.error("to", "must not be before from");
    }
    f
}

/// Timesheets: entries filtered by user, case, account, time type, billable and date (from and
/// to are days of the work, both included), latest work first, a keyset page at a time.
#[utoipa::path(get, path = "/api/v1/time-entries", tag = TAG,
    params(("user_id" = Option<String>, Query), ("case_id" = Option<String>, Query), ("account_id" = Option<String>, Query),
        ("time_type_id" = Option<String>, Query), ("billable" = Option<bool>, Query),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD)"), ("to" = Option<String>, Query, description = "Last day (YYYY-MM-DD)"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<TimeEntryResponse>), (status = 422, body = Problem)))]
pub async fn list_time_entries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<TimeEntryResponse>>, ApiError> {
    let mut r = QueryReader::new(q, FILTER_PARAMS);
    let filter = read_filter(&mut r);
    let page = r.page();
    r.finish()?;
    Ok(Json(ListResponse::new(s.app.list_time_entries(&actor, &filter, &page).await?, TimeEntryResponse::from)))
}

/// Time summed over one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeTotalResponse {
    /// The user, account, time type or case id, or the date; null for entries without one.
    pub key: Option<String>,
    pub seconds: i64,
    pub minutes: i64,
    pub billable_minutes: i64,
    pub entries: i64,
}

impl From<TimeTotal> for TimeTotalResponse {
    fn from(t: TimeTotal) -> Self {
        TimeTotalResponse {
            key: t.key,
            seconds: t.seconds,
            minutes: minutes_of(t.seconds),
            billable_minutes: minutes_of(t.billable_seconds),
            entries: t.entries,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeTotalsResponse {
    /// user, account, time_type, case or date
    pub group_by: &'static str,
    /// Largest first.
    pub data: Vec<TimeTotalResponse>,
    /// All groups together.
    pub total: TimeTotalResponse,
}

/// Time summed per user, account, time type, case or date, with the same filters as the
/// timesheet.
#[utoipa::path(get, path = "/api/v1/time-entries/totals", tag = TAG,
    params(("group_by" = String, Query, description = "user, account, time_type, case or date"),
        ("user_id" = Option<String>, Query), ("case_id" = Option<String>, Query), ("account_id" = Option<String>, Query),
        ("time_type_id" = Option<String>, Query), ("billable" = Option<bool>, Query),
        ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = TimeTotalsResponse), (status = 422, body = Problem)))]
pub async fn time_totals(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<TimeTotalsResponse>, ApiError> {
    let mut allowed = FILTER_PARAMS.to_vec();
    allowed.push("group_by");
    let mut r = QueryReader::new(q, &allowed);
    let filter = read_filter(&mut r);
    let group = r.parse("group_by", TotalsGroup::parse);
    if r.one("group_by").is_none() {
        r.error("group_by", "is required: user, account, time_type, case or date");
    }
    r.finish()?;
    let group = group.ok_or_else(|| ApiError::field("group_by", "is required"))?;
    let totals = s.app.time_totals(&actor, group, &filter).await?;
    let sum = |f: fn(&TimeTotal) -> i64| totals.iter().map(f).sum::<i64>();
    let total = TimeTotal {
        key: None,
        seconds: sum(|t| t.seconds),
        billable_seconds: sum(|t| t.billable_seconds),
        entries: sum(|t| t.entries),
    };
    Ok(Json(TimeTotalsResponse {
        group_by: group.as_str(),
        data: totals.into_iter().map(Into::into).collect(),
        total: total.into(),
    }))
}

/// A case's estimate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    /// Minutes (`120`) or a duration string (`2h`, `1.5d`); null removes the estimate.
    #[schema(value_type = Option<String>)]
    pub time_estimate_minutes: Value,
}

/// Set a case's estimated duration (admins and managers of the case's queue). Answers the
/// case's time spent against it.
#[utoipa::path(put, path = "/api/v1/cases/{id}/time-estimate", tag = TAG, params(("id" = String, Path)), request_body = EstimateRequest,
    responses((status = 200, body = CaseTimeResponse), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_time_estimate(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<EstimateRequest>,
) -> Result<Json<CaseTimeResponse>, ApiError> {
    let estimate = match &body.value.time_estimate_minutes {
        Value::Null => None,
        v => Some(duration_text("time_estimate_minutes", v)?),
    };
    Ok(Json(s.app.set_time_estimate(&actor, &id, estimate).await?.into()))
}

// ---- timers ------------------------------------------------------------------------------------

/// The caller's timer on a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimerResponse {
    pub id: String,
    pub case_id: String,
    pub user_id: String,
    /// running or paused
    pub state: &'static str,
    /// While running: since when this run counts.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub running_since: Option<Ts>,
    /// Counted so far, as of the answer.
    pub elapsed_seconds: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl TimerResponse {
    fn new(t: Timer, now: Ts) -> Self {
        TimerResponse {
            state: if t.is_running() { "running" } else { "paused" },
            elapsed_seconds: t.elapsed_secs(now),
            id: t.id,
            case_id: t.case_id,
            user_id: t.user_id,
            running_since: t.running_since,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A stopped timer and the entry it became (null when it counted under a second).
#[derive(Debug, Serialize, ToSchema)]
pub struct StoppedTimerResponse {
    pub case_id: String,
    pub elapsed_seconds: i64,
    pub entry: Option<TimeEntryResponse>,
}

impl From<TimerStop> for StoppedTimerResponse {
    fn from(s: TimerStop) -> Self {
        StoppedTimerResponse {
            case_id: s.timer.case_id,
            elapsed_seconds: s.elapsed_secs,
            entry: s.entry.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartTimerResponse {
    pub timer: TimerResponse,
    /// The timer was paused and now runs again.
    pub resumed: bool,
    /// Your timer on another case that was running: it was stopped and became an entry.
    pub stopped: Option<StoppedTimerResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimersResponse {
    /// Running first.
    pub data: Vec<TimerResponse>,
}

/// Details for the entry a stopped timer becomes; the body may be omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopTimerRequest {
    pub time_type_id: Option<String>,
    pub billable: Option<bool>,
    pub note: Option<String>,
}

/// A JSON body that may be left out.
fn optional_body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { parse_json(bytes) }
}

/// Your timers (running first), with the time each counted so far.
#[utoipa::path(get, path = "/api/v1/timers", tag = TAG, responses((status = 200, body = TimersResponse)))]
pub async fn list_timers(State(s): State<AppState>, Auth(actor): Auth) -> Result<Json<TimersResponse>, ApiError> {
    let now = s.app.clock.now();
    let timers = s.app.list_timers(&actor).await?;
    Ok(Json(TimersResponse { data: timers.into_iter().map(|t| TimerResponse::new(t, now)).collect() }))
}

/// Start (or resume) your timer on a case. Your timer running on another case is stopped and
/// becomes a time entry (`stopped`). 409 `time_tracking_disabled` when the case's queue has
/// time tracking off, `case_closed` on a closed case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/timer/start", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = StartTimerResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn start_timer(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<StartTimerResponse>, ApiError> {
    let TimerStart { timer, resumed, stopped } = s.app.start_timer(&actor, &id).await?;
    let now = s.app.clock.now();
    Ok(Json(StartTimerResponse { timer: TimerResponse::new(timer, now), resumed, stopped: stopped.map(Into::into) }))
}

/// Pause your timer on a case; it keeps what it counted. 409 `no_timer` without one.
#[utoipa::path(post, path = "/api/v1/cases/{id}/timer/pause", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = TimerResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn pause_timer(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<TimerResponse>, ApiError> {
    let timer = s.app.pause_timer(&actor, &id).await?;
    Ok(Json(TimerResponse::new(timer, s.app.clock.now())))
}

/// Stop your timer on a case: it becomes a time entry with the time it counted. 409 `no_timer`
/// without one.
#[utoipa::path(post, path = "/api/v1/cases/{id}/timer/stop", tag = TAG, params(("id" = String, Path)),
    request_body(content = Option<StopTimerRequest>),
    responses((status = 200, body = StoppedTimerResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn stop_timer(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<StoppedTimerResponse>, ApiError> {
    let r: StopTimerRequest = optional_body(&body)?;
    let input = StopInput { time_type_id: r.time_type_id, billable: r.billable, note: r.note };
    Ok(Json(s.app.stop_timer(&actor, &id, input).await?.into()))
}
