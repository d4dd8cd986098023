//! `/api/v1/cases/{id}/milestones`, `/api/v1/milestones/{id}` and a queue's milestone templates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::milestones::MilestoneInput;
use casedesk_domain::milestone::{Milestone, MilestoneState, MilestoneTemplate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody};

type Ts = jiff::Timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneResponse {
    pub id: String,
    pub case_id: String,
    pub name: String,
    pub position: i64,
    /// completed, current, upcoming or overdue (now)
    pub state: &'static str,
    pub after_start_minutes: Option<i64>,
    pub after_previous_minutes: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Ts>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Ts>,
    pub completed_by: Option<String>,
}

impl MilestoneResponse {
    fn new(m: Milestone, state: MilestoneState) -> Self {
        use casedesk_domain::milestone::Target;
        let (after_start, after_previous) = match m.target {
            Target::AfterStart(x) => (Some(x), None),
            Target::AfterPrevious(x) => (None, Some(x)),
            Target::At(_) => (None, None),
        };
        MilestoneResponse {
            id: m.id,
            case_id: m.case_id,
            name: m.name,
            position: m.position,
            state: state.as_str(),
            after_start_minutes: after_start,
            after_previous_minutes: after_previous,
            due_at: m.due_at,
            completed_at: m.completed_at,
            completed_by: m.completed_by,
        }
    }
}

/// A milestone: a name and exactly one target — business minutes after the case's start or
/// after the previous milestone (in the queue's calendar), or a fixed `due_at`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneRequest {
    pub name: Option<String>,
    pub after_start_minutes: Option<i64>,
    pub after_previous_minutes: Option<i64>,
    /// RFC 3339.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Ts>,
    pub position: Option<i64>,
    /// true completes it (who and when are recorded), false reopens it.
    pub completed: Option<bool>,
}

impl From<MilestoneRequest> for MilestoneInput {
    fn from(r: MilestoneRequest) -> Self {
        MilestoneInput {
            name: r.name,
            after_start_minutes: r.after_start_minutes,
            after_previous_minutes: r.after_previous_minutes,
            due_at: r.due_at,
            position: r.position,
            completed: r.completed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestonesResponse {
    pub data: Vec<MilestoneResponse>,
}

/// A case's milestones in order, each with its state now.
#[utoipa::path(get, path = "/api/v1/cases/{id}/milestones", tag = "milestones", params(("id" = String, Path)),
    responses((status = 200, body = MilestonesResponse), (status = 404, body = Problem)))]
pub async fn list_milestones(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MilestonesResponse>, ApiError> {
    let data =
        s.app.list_milestones(&actor, &id).await?.into_iter().map(|(m, st)| MilestoneResponse::new(m, st)).collect();
    Ok(Json(MilestonesResponse { data }))
}

/// Add a milestone to a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/milestones", tag = "milestones", params(("id" = String, Path)),
    request_body = MilestoneRequest,
    responses((status = 201, body = MilestoneResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_milestone(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<MilestoneRequest>,
) -> Result<Response, ApiError> {
    let (m, state) = s.app.add_milestone(&actor, &id, body.value.into()).await?;
    Ok(created(format!("/api/v1/milestones/{}", m.id), None, false, MilestoneResponse::new(m, state)))
}

/// Rename, move, re-target, complete or reopen a milestone; those after it are re-timed.
#[utoipa::path(patch, path = "/api/v1/milestones/{id}", tag = "milestones", params(("id" = String, Path)),
    request_body = MilestoneRequest,
    responses((status = 200, body = MilestoneResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_milestone(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<MilestoneRequest>,
) -> Result<Json<MilestoneResponse>, ApiError> {
    let (m, state) = s.app.update_milestone(&actor, &id, body.value.into()).await?;
    Ok(Json(MilestoneResponse::new(m, state)))
}

#[utoipa::path(delete, path = "/api/v1/milestones/{id}", tag = "milestones", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_milestone(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_milestone(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateResponse {
    pub name: String,
    pub position: i64,
    pub after_start_minutes: Option<i64>,
    pub after_previous_minutes: Option<i64>,
}

impl From<MilestoneTemplate> for TemplateResponse {
    fn from(t: MilestoneTemplate) -> Self {
        use casedesk_domain::milestone::Target;
        let (a, p) = match t.target {
            Target::AfterStart(x) => (Some(x), None),
            Target::AfterPrevious(x) => (None, Some(x)),
            Target::At(_) => (None, None),
        };
        TemplateResponse { name: t.name, position: t.position, after_start_minutes: a, after_previous_minutes: p }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatesResponse {
    pub data: Vec<TemplateResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatesRequest {
    /// In order; each with a name and a duration.
    pub milestones: Vec<MilestoneRequest>,
}

/// The milestones a queue gives each new case.
#[utoipa::path(get, path = "/api/v1/case-queues/{id}/milestone-templates", tag = "milestones", params(("id" = String, Path)),
    responses((status = 200, body = TemplatesResponse), (status = 404, body = Problem)))]
pub async fn list_templates(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<TemplatesResponse>, ApiError> {
    let data = s.app.list_templates(&actor, &id).await?.into_iter().map(Into::into).collect();
    Ok(Json(TemplatesResponse { data }))
}

/// Replace the milestones a queue gives each new case (admins).
#[utoipa::path(put, path = "/api/v1/case-queues/{id}/milestone-templates", tag = "milestones", params(("id" = String, Path)),
    request_body = TemplatesRequest,
    responses((status = 200, body = TemplatesResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_templates(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<TemplatesRequest>,
) -> Result<Json<TemplatesResponse>, ApiError> {
    let inputs = body.value.milestones.into_iter().map(Into::into).collect();
    let data = s.app.put_templates(&actor, &id, inputs).await?.into_iter().map(Into::into).collect();
    Ok(Json(TemplatesResponse { data }))
}
