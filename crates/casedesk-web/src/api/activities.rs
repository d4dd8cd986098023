//! `/api/v1/cases/{id}/activities`, `/api/v1/activities/{id}` and `/api/v1/tasks`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_domain::activity::{Activity, ActivityInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use super::{QueryReader, nullable, parse_instant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

type Ts = jiff::Timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    pub id: String,
    pub case_id: String,
    /// call, meeting, email, other or task
    pub kind: &'static str,
    pub subject: String,
    pub note: String,
    pub with_whom: Option<String>,
    pub outcome: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Ts>,
    pub duration_minutes: Option<i64>,
    pub assignee_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Ts>,
    pub completed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Ts>,
    pub completed_by: Option<String>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<Activity> for ActivityResponse {
    fn from(a: Activity) -> Self {
        ActivityResponse {
            completed: a.completed_at.is_some(),
            id: a.id,
            case_id: a.case_id,
            kind: a.kind.as_str(),
            subject: a.subject,
            note: a.note,
            with_whom: a.with_whom,
            outcome: a.outcome,
            occurred_at: a.occurred_at,
            duration_minutes: a.duration_minutes,
            assignee_id: a.assignee_id,
            due_at: a.due_at,
            completed_at: a.completed_at,
            completed_by: a.completed_by,
            created_by: a.created_by,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An activity or task. On update, only the fields present change; `kind` is fixed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityRequest {
    /// call, meeting, email, other or task (required on create)
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub note: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub with_whom: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Option<String>>,
    /// RFC 3339 or a date (00:00 UTC); default: now (not for tasks).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub occurred_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub duration_minutes: Option<Option<i64>>,
    /// Tasks only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    /// Tasks only; RFC 3339 or a date (00:00 UTC).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Option<String>>,
    /// Tasks only: true completes it, false reopens it.
    pub completed: Option<bool>,
}

fn instant(
    field: &str,
    v: Option<Option<String>>,
    errors: &mut Vec<casedesk_domain::FieldError>,
) -> Option<Option<Ts>> {
    match v {
        Some(Some(s)) => match parse_instant(&s) {
            Ok(t) => Some(Some(t)),
            Err(m) => {
                errors.push(casedesk_domain::FieldError::new(field, m));
                None
            }
        },
        Some(None) => Some(None),
        None => None,
    }
}

impl ActivityRequest {
    fn into_input(self) -> Result<ActivityInput, ApiError> {
        let mut errors = Vec::new();
        let occurred_at = instant("occurred_at", self.occurred_at, &mut errors);
        let due_at = instant("due_at", self.due_at, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        Ok(ActivityInput {
            kind: self.kind,
            subject: self.subject,
            note: self.note,
            with_whom: self.with_whom,
            outcome: self.outcome,
            occurred_at,
            duration_minutes: self.duration_minutes,
            assignee_id: self.assignee_id,
            due_at,
            completed: self.completed,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivitiesResponse {
    pub data: Vec<ActivityResponse>,
}

/// A case's activities and tasks, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/activities", tag = "activities", params(("id" = String, Path)),
    responses((status = 200, body = ActivitiesResponse), (status = 404, body = Problem)))]
pub async fn list_activities(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ActivitiesResponse>, ApiError> {
    let data = s.app.list_activities(&actor, &id).await?.into_iter().map(Into::into).collect();
    Ok(Json(ActivitiesResponse { data }))
}

/// Log a call, meeting, email or other activity, or create a task, on a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/activities", tag = "activities", params(("id" = String, Path)),
    request_body = ActivityRequest,
    responses((status = 201, body = ActivityResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_activity(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ActivityRequest>,
) -> Result<Response, ApiError> {
    let a = s.app.add_activity(&actor, &id, body.value.into_input()?).await?;
    Ok(created(format!("/api/v1/activities/{}", a.id), None, false, ActivityResponse::from(a)))
}

/// Change an activity; complete or reopen a task.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = String, Path)),
    request_body = ActivityRequest,
    responses((status = 200, body = ActivityResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_activity(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ActivityRequest>,
) -> Result<Json<ActivityResponse>, ApiError> {
    Ok(Json(s.app.update_activity(&actor, &id, body.value.into_input()?).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_activity(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_activity(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open tasks across cases, soonest due first: `assignee=me` for the caller's.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "activities",
    params(("assignee" = Option<String>, Query, description = "me or a user id"),
        ("due_before" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1 to 500, default 100")),
    responses((status = 200, body = ActivitiesResponse), (status = 422, body = Problem)))]
pub async fn open_tasks(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ActivitiesResponse>, ApiError> {
    let mut r = QueryReader::new(q, &["assignee", "due_before"]);
    let assignee = r.one("assignee");
    let due_before = r.parse("due_before", parse_instant);
    let limit = r.parse("limit", |v| v.parse::<i64>().map_err(|_| "must be a number".to_string())).unwrap_or(100);
    r.finish()?;
    let tasks = s.app.open_tasks(&actor, assignee.as_deref(), due_before, limit).await?;
    Ok(Json(ActivitiesResponse { data: tasks.into_iter().map(Into::into).collect() }))
}
