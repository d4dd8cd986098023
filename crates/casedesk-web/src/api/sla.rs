//! `/api/v1/business-calendars` and `/api/v1/sla-policies`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::idempotency::Created;
use casedesk_core::sla::{CalendarFields, PolicyFields};
use casedesk_core::store::{CalendarRecord, PolicyRecord};
use casedesk_domain::calendar::{CalendarInput, DayInput, HolidayInput, PeriodInput};
use casedesk_domain::sla::{PolicyInput, Rule, RuleInput};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, nullable, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs};

type Ts = jiff::Timestamp;

// ---- calendars --------------------------------------------------------------------------------

/// One open period of a day, `HH:MM` to `HH:MM` (the end may be `24:00`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodBody {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    /// YYYY-MM-DD
    pub date: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarResponse {
    pub id: String,
    pub name: String,
    /// IANA time zone, e.g. Europe/Berlin.
    pub time_zone: String,
    /// Open periods by weekday (monday … sunday); a day not listed is closed.
    #[schema(value_type = Object)]
    pub hours: BTreeMap<String, Vec<PeriodBody>>,
    pub holidays: Vec<HolidayBody>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<CalendarRecord> for CalendarResponse {
    fn from(c: CalendarRecord) -> Self {
        let input = c.calendar.to_input();
        CalendarResponse {
            id: c.id,
            name: c.name,
            time_zone: input.time_zone,
            hours: input
                .hours
                .into_iter()
                .map(|d| (d.day, d.periods.into_iter().map(|p| PeriodBody { start: p.start, end: p.end }).collect()))
                .collect(),
            holidays: input.holidays.into_iter().map(|h| HolidayBody { date: h.date, name: h.name }).collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A calendar. On update, `hours` and `holidays` replace the old ones when given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarRequest {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub hours: Option<BTreeMap<String, Vec<PeriodBody>>>,
    pub holidays: Option<Vec<HolidayBody>>,
}

impl CalendarRequest {
    /// Merges the given parts over `current` (a new calendar has none).
    pub(crate) fn into_fields(self, current: Option<&CalendarRecord>) -> CalendarFields {
        let base = current.map(|c| c.calendar.to_input());
        let changed = self.time_zone.is_some() || self.hours.is_some() || self.holidays.is_some();
        let calendar = (changed || current.is_none()).then(|| {
            let base = base.unwrap_or_default();
            CalendarInput {
                time_zone: self.time_zone.unwrap_or(base.time_zone),
                hours: match self.hours {
                    Some(h) => h
                        .into_iter()
                        .map(|(day, ps)| DayInput {
                            day,
                            periods: ps.into_iter().map(|p| PeriodInput { start: p.start, end: p.end }).collect(),
                        })
                        .collect(),
                    None => base.hours,
                },
                holidays: match self.holidays {
                    Some(h) => h.into_iter().map(|h| HolidayInput { date: h.date, name: h.name }).collect(),
                    None => base.holidays,
                },
            }
        });
        CalendarFields { name: self.name, calendar }
    }
}

/// Create a business calendar (admins): a time zone, open periods per weekday, holidays.
#[utoipa::path(post, path = "/api/v1/business-calendars", tag = "sla", request_body = CalendarRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CalendarResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_calendar(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<CalendarRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let fields = body.value.into_fields(None);
    let Created { value, replayed } = s.app.create_calendar(&actor, fields, idem).await?;
    Ok(created(format!("/api/v1/business-calendars/{}", value.id), None, replayed, CalendarResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/business-calendars", tag = "sla", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<CalendarResponse>)))]
pub async fn list_calendars(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<CalendarResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_calendars(&actor, &page).await?, CalendarResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/business-calendars/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 200, body = CalendarResponse), (status = 404, body = Problem)))]
pub async fn get_calendar(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<CalendarResponse>, ApiError> {
    Ok(Json(s.app.get_calendar(&actor, &id).await?.into()))
}

/// Change a calendar; running SLA clocks that count in it get new due times.
#[utoipa::path(patch, path = "/api/v1/business-calendars/{id}", tag = "sla", params(("id" = String, Path)), request_body = CalendarRequest,
    responses((status = 200, body = CalendarResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_calendar(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<CalendarRequest>,
) -> Result<Json<CalendarResponse>, ApiError> {
    let current = s.app.get_calendar(&actor, &id).await?;
    let fields = body.value.into_fields(Some(&current));
    Ok(Json(s.app.update_calendar(&actor, &id, fields).await?.into()))
}

/// Import holidays from an iCalendar file (the body, `text/calendar`): each all-day event's
/// dates become holidays named by its summary; dates already present keep theirs.
#[utoipa::path(post, path = "/api/v1/business-calendars/{id}/holidays/import", tag = "sla", params(("id" = String, Path)),
    request_body(content = String, content_type = "text/calendar"),
    responses((status = 200, body = CalendarResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn import_holidays(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: String,
) -> Result<Json<CalendarResponse>, ApiError> {
    Ok(Json(s.app.import_holidays(&actor, &id, &body).await?.into()))
}

/// Delete a calendar no policy or queue uses (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/business-calendars/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_calendar(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_calendar(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- policies ---------------------------------------------------------------------------------

/// Targets for one priority, in business minutes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// low, medium, high or critical
    pub priority: String,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

impl From<&Rule> for RuleBody {
    fn from(r: &Rule) -> Self {
        RuleBody {
            priority: r.priority.as_str().into(),
            first_response_minutes: r.first_response_minutes,
            next_response_minutes: r.next_response_minutes,
            resolution_minutes: r.resolution_minutes,
        }
    }
}

impl From<RuleBody> for RuleInput {
    fn from(r: RuleBody) -> Self {
        RuleInput {
            priority: r.priority,
            first_response_minutes: r.first_response_minutes,
            next_response_minutes: r.next_response_minutes,
            resolution_minutes: r.resolution_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyResponse {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The business calendar the targets count in; null: around the clock.
    pub calendar_id: Option<String>,
    pub rules: Vec<RuleBody>,
    /// Statuses in which the clocks pause.
    pub pause_statuses: Vec<&'static str>,
    /// Share of a target at which `sla.warning` fires.
    pub warn_percent: u8,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<PolicyRecord> for PolicyResponse {
    fn from(p: PolicyRecord) -> Self {
        PolicyResponse {
            id: p.id,
            name: p.name,
            description: p.description,
            calendar_id: p.calendar_id,
            rules: p.policy.rules.iter().map(RuleBody::from).collect(),
            pause_statuses: p.policy.pause_statuses.iter().map(|s| s.as_str()).collect(),
            warn_percent: p.policy.warn_percent,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A policy exactly as seed 000 (`name`, `rules`), plus the optional calendar, pausing statuses
/// and warning share. On update, `rules`, `pause_statuses` and `warn_percent` are given together
/// or taken from the current policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub calendar_id: Option<Option<String>>,
    pub rules: Option<Vec<RuleBody>>,
    /// Default: pending and on_hold.
    pub pause_statuses: Option<Vec<String>>,
    /// Default: 80.
    pub warn_percent: Option<i64>,
}

impl PolicyRequest {
    pub(crate) fn into_fields(self, current: Option<&PolicyRecord>) -> PolicyFields {
        let changed = self.rules.is_some() || self.pause_statuses.is_some() || self.warn_percent.is_some();
        let policy = (changed || current.is_none()).then(|| {
            let rules = match self.rules {
                Some(rules) => rules.into_iter().map(RuleInput::from).collect(),
                None => current
                    .map(|c| c.policy.rules.iter().map(|r| RuleInput::from(RuleBody::from(r))).collect())
                    .unwrap_or_default(),
            };
            let pause_statuses = self
                .pause_statuses
                .or_else(|| current.map(|c| c.policy.pause_statuses.iter().map(|s| s.as_str().to_string()).collect()));
            let warn_percent = self.warn_percent.or_else(|| current.map(|c| i64::from(c.policy.warn_percent)));
            PolicyInput { rules, pause_statuses, warn_percent }
        });
        PolicyFields { name: self.name, description: self.description, calendar_id: self.calendar_id, policy }
    }
}

/// Create an SLA policy (admins).
#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "sla", request_body = PolicyRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PolicyResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<PolicyRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let fields = body.value.into_fields(None);
    let Created { value, replayed } = s.app.create_policy(&actor, fields, idem).await?;
    Ok(created(format!("/api/v1/sla-policies/{}", value.id), None, replayed, PolicyResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "sla", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<PolicyResponse>)))]
pub async fn list_policies(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<PolicyResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_policies(&actor, &page).await?, PolicyResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 200, body = PolicyResponse), (status = 404, body = Problem)))]
pub async fn get_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<PolicyResponse>, ApiError> {
    Ok(Json(s.app.get_policy(&actor, &id).await?.into()))
}

/// Change a policy; its cases' running clocks take the new targets from their original start.
#[utoipa::path(patch, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)), request_body = PolicyRequest,
    responses((status = 200, body = PolicyResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<PolicyRequest>,
) -> Result<Json<PolicyResponse>, ApiError> {
    let current = s.app.get_policy(&actor, &id).await?;
    let fields = body.value.into_fields(Some(&current));
    Ok(Json(s.app.update_policy(&actor, &id, fields).await?.into()))
}

/// Delete a policy: queues stop applying it and its cases stop being timed.
#[utoipa::path(delete, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_policy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_policy(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
