//! `/api/v1/case-queues`: queues (seed 000's shape plus routing and SLA settings) and their
//! members.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::idempotency::Created;
use casedesk_domain::queue::{MemberInput, Queue, QueueInput, QueueMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, nullable, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs};

type Ts = jiff::Timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    pub id: String,
    pub name: String,
    pub description: String,
    /// round_robin, least_active, skills or manual
    pub assignment_method: &'static str,
    /// The SLA policy applied to cases routed here.
    pub sla_policy_id: Option<String>,
    /// The queue's opening hours.
    pub calendar_id: Option<String>,
    /// Account tiers whose cases are VIP here.
    pub vip_tiers: Vec<String>,
    /// The priority VIP cases get.
    pub vip_priority: Option<&'static str>,
    /// Where "escalate" moves a case by default.
    pub escalation_queue_id: Option<String>,
    /// Whether agents log time on this queue's cases (default true).
    pub time_tracking: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<Queue> for QueueResponse {
    fn from(q: Queue) -> Self {
        QueueResponse {
            id: q.id,
            name: q.name,
            description: q.description,
            assignment_method: q.assignment_method.as_str(),
            sla_policy_id: q.sla_policy_id,
            calendar_id: q.calendar_id,
            vip_tiers: q.vip_tiers,
            vip_priority: q.vip_priority.map(|p| p.as_str()),
            escalation_queue_id: q.escalation_queue_id,
            time_tracking: q.time_tracking,
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    /// round_robin, least_active, skills or manual (default)
    pub assignment_method: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub sla_policy_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub calendar_id: Option<Option<String>>,
    /// Default: ["vip"].
    pub vip_tiers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub vip_priority: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub escalation_queue_id: Option<Option<String>>,
    /// Whether agents log time on this queue's cases. Default: true.
    pub time_tracking: Option<bool>,
}

impl From<QueueRequest> for QueueInput {
    fn from(r: QueueRequest) -> Self {
        QueueInput {
            name: r.name,
            description: r.description,
            assignment_method: r.assignment_method,
            sla_policy_id: r.sla_policy_id,
            calendar_id: r.calendar_id,
            vip_tiers: r.vip_tiers,
            vip_priority: r.vip_priority,
            escalation_queue_id: r.escalation_queue_id,
            time_tracking: r.time_tracking,
        }
    }
}

/// Create a queue (admins): seed 000's name, description and assignment_method, plus routing
/// and SLA settings.
#[utoipa::path(post, path = "/api/v1/case-queues", tag = "queues", request_body = QueueRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = QueueResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_queue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<QueueRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_queue(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/case-queues/{}", value.id), None, replayed, QueueResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/case-queues", tag = "queues", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<QueueResponse>)))]
pub async fn list_queues(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<QueueResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_queues(&actor, &page).await?, QueueResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/case-queues/{id}", tag = "queues", params(("id" = String, Path)),
    responses((status = 200, body = QueueResponse), (status = 404, body = Problem)))]
pub async fn get_queue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<QueueResponse>, ApiError> {
    Ok(Json(s.app.get_queue(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/case-queues/{id}", tag = "queues", params(("id" = String, Path)), request_body = QueueRequest,
    responses((status = 200, body = QueueResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_queue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<QueueRequest>,
) -> Result<Json<QueueResponse>, ApiError> {
    Ok(Json(s.app.update_queue(&actor, &id, body.value.into()).await?.into()))
}

/// Delete a queue (admins); refused (409) while cases are in it or queues escalate to it.
#[utoipa::path(delete, path = "/api/v1/case-queues/{id}", tag = "queues", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_queue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_queue(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- members ----------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    pub queue_id: String,
    pub user_id: String,
    /// member or manager
    pub role: &'static str,
    pub skills: Vec<String>,
    /// Receives the queue's VIP cases first.
    pub vip: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
}

impl From<QueueMember> for MemberResponse {
    fn from(m: QueueMember) -> Self {
        MemberResponse {
            queue_id: m.queue_id,
            user_id: m.user_id,
            role: m.role.as_str(),
            skills: m.skills,
            vip: m.vip,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// member (default) or manager
    pub role: Option<String>,
    pub skills: Option<Vec<String>>,
    pub vip: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersResponse {
    /// In rotation order.
    pub data: Vec<MemberResponse>,
}

/// A queue's members, in rotation order.
#[utoipa::path(get, path = "/api/v1/case-queues/{id}/members", tag = "queues", params(("id" = String, Path)),
    responses((status = 200, body = MembersResponse), (status = 404, body = Problem)))]
pub async fn list_members(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MembersResponse>, ApiError> {
    let members = s.app.list_members(&actor, &id).await?;
    Ok(Json(MembersResponse { data: members.into_iter().map(Into::into).collect() }))
}

/// Add an agent to a queue, or change their membership (role, skills, VIP). A new member joins
/// the end of the rotation and may take the queue's waiting cases at once.
#[utoipa::path(put, path = "/api/v1/case-queues/{id}/members/{user_id}", tag = "queues",
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = MemberRequest,
    responses((status = 200, body = MemberResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_member(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, user_id)): Path<(String, String)>,
    body: JsonBody<MemberRequest>,
) -> Result<Json<MemberResponse>, ApiError> {
    let r = body.value;
    let input = MemberInput { role: r.role, skills: r.skills, vip: r.vip };
    Ok(Json(s.app.put_member(&actor, &id, &user_id, input).await?.into()))
}

/// Remove an agent from a queue; cases assigned to them stay theirs.
#[utoipa::path(delete, path = "/api/v1/case-queues/{id}/members/{user_id}", tag = "queues",
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_member(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_member(&actor, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
