//! `/api/v1/case-statuses` (custom statuses, seed 001) and `/api/v1/funnel-stages` (seed 002).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::idempotency::Created;
use casedesk_domain::profile::{Category, CategoryInput, FieldInput};
use casedesk_domain::workflow::{CustomStatus, FunnelStage, StageInput, StatusInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use super::nullable;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody};

type Ts = jiff::Timestamp;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    pub id: String,
    pub name: String,
    /// new, open, pending, on_hold, resolved or closed
    pub category: &'static str,
    /// null: the SLA clocks pause exactly when the category does under the case's policy.
    pub pauses_sla: Option<bool>,
    pub position: i64,
    /// The status a case gets when only its category is set.
    pub is_default: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<CustomStatus> for StatusResponse {
    fn from(s: CustomStatus) -> Self {
        StatusResponse {
            id: s.id,
            name: s.name,
            category: s.category.as_str(),
            pauses_sla: s.pauses_sla,
            position: s.position,
            is_default: s.is_default,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub name: Option<String>,
    /// Required on create; fixed afterwards.
    pub category: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub pauses_sla: Option<Option<bool>>,
    pub position: Option<i64>,
    /// true makes it its category's default (the former default stops being one).
    pub is_default: Option<bool>,
}

impl From<StatusRequest> for StatusInput {
    fn from(r: StatusRequest) -> Self {
        StatusInput {
            name: r.name,
            category: r.category,
            pauses_sla: r.pauses_sla,
            position: r.position,
            is_default: r.is_default,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusesResponse {
    /// By category, then position.
    pub data: Vec<StatusResponse>,
}

/// The organization's statuses: one default per category out of the box, plus its own.
#[utoipa::path(get, path = "/api/v1/case-statuses", tag = "workflow", responses((status = 200, body = StatusesResponse)))]
pub async fn list_statuses(State(s): State<AppState>, Auth(actor): Auth) -> Result<Json<StatusesResponse>, ApiError> {
    let data = s.app.list_statuses(&actor).await?.into_iter().map(Into::into).collect();
    Ok(Json(StatusesResponse { data }))
}

/// Create a status within a category (admins).
#[utoipa::path(post, path = "/api/v1/case-statuses", tag = "workflow", request_body = StatusRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StatusResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_status(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<StatusRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_status(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/case-statuses/{}", value.id), None, replayed, StatusResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/case-statuses/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 200, body = StatusResponse), (status = 404, body = Problem)))]
pub async fn get_status(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    Ok(Json(s.app.get_status(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/case-statuses/{id}", tag = "workflow", params(("id" = String, Path)), request_body = StatusRequest,
    responses((status = 200, body = StatusResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_status(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<StatusRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    Ok(Json(s.app.update_status(&actor, &id, body.value.into()).await?.into()))
}

/// Delete a status no case is in (a category's default cannot go).
#[utoipa::path(delete, path = "/api/v1/case-statuses/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_status(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_status(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- funnel stages ----------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct StageResponse {
    pub id: String,
    pub name: String,
    /// null: the stage applies to every queue.
    pub queue_id: Option<String>,
    pub position: i64,
    /// Active (not resolved or closed) cases at this stage; in lists.
    pub active_cases: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl StageResponse {
    fn new(f: FunnelStage, active_cases: Option<i64>) -> Self {
        StageResponse {
            id: f.id,
            name: f.name,
            queue_id: f.queue_id,
            position: f.position,
            active_cases,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub queue_id: Option<Option<String>>,
    pub position: Option<i64>,
}

impl From<StageRequest> for StageInput {
    fn from(r: StageRequest) -> Self {
        StageInput { name: r.name, queue_id: r.queue_id, position: r.position }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StagesResponse {
    /// In funnel order, each with its number of active cases.
    pub data: Vec<StageResponse>,
}

/// The funnel stages in order, with how many active cases stand at each.
#[utoipa::path(get, path = "/api/v1/funnel-stages", tag = "workflow", responses((status = 200, body = StagesResponse)))]
pub async fn list_stages(State(s): State<AppState>, Auth(actor): Auth) -> Result<Json<StagesResponse>, ApiError> {
    let data = s.app.list_stages(&actor).await?.into_iter().map(|(f, n)| StageResponse::new(f, Some(n))).collect();
    Ok(Json(StagesResponse { data }))
}

/// Create a funnel stage (admins), for every queue or one.
#[utoipa::path(post, path = "/api/v1/funnel-stages", tag = "workflow", request_body = StageRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StageResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_stage(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<StageRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_stage(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/funnel-stages/{}", value.id), None, replayed, StageResponse::new(value, None)))
}

#[utoipa::path(get, path = "/api/v1/funnel-stages/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 200, body = StageResponse), (status = 404, body = Problem)))]
pub async fn get_stage(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<StageResponse>, ApiError> {
    Ok(Json(StageResponse::new(s.app.get_stage(&actor, &id).await?, None)))
}

#[utoipa::path(patch, path = "/api/v1/funnel-stages/{id}", tag = "workflow", params(("id" = String, Path)), request_body = StageRequest,
    responses((status = 200, body = StageResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_stage(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<StageRequest>,
) -> Result<Json<StageResponse>, ApiError> {
    Ok(Json(StageResponse::new(s.app.update_stage(&actor, &id, body.value.into()).await?, None)))
}

/// Delete a stage no case is at (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/funnel-stages/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_stage(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_stage(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- categories -------------------------------------------------------------------------------

/// A custom field of a category's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldBody {
    /// Lower-case letters, digits and `_`: the key in a case's `custom_fields`.
    pub key: String,
    pub label: Option<String>,
    /// text, long_text, number, date, select, multi_select, checkbox, user or url
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The choices of a select or multi_select.
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryResponse {
    pub id: String,
    pub name: String,
    pub fields: Vec<FieldBody>,
    pub position: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<Category> for CategoryResponse {
    fn from(k: Category) -> Self {
        CategoryResponse {
            id: k.id,
            name: k.name,
            fields: k
                .fields
                .into_iter()
                .map(|f| FieldBody {
                    key: f.key,
                    label: Some(f.label),
                    kind: f.kind.as_str().into(),
                    required: f.required,
                    options: f.options,
                })
                .collect(),
            position: k.position,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

/// A category. On update, `fields` replaces the whole profile when given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryRequest {
    pub name: Option<String>,
    pub fields: Option<Vec<FieldBody>>,
    pub position: Option<i64>,
}

impl From<CategoryRequest> for CategoryInput {
    fn from(r: CategoryRequest) -> Self {
        CategoryInput {
            name: r.name,
            position: r.position,
            fields: r.fields.map(|fs| {
                fs.into_iter()
                    .map(|f| FieldInput {
                        key: f.key,
                        label: f.label,
                        kind: f.kind,
                        required: f.required,
                        options: f.options,
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoriesResponse {
    pub data: Vec<CategoryResponse>,
}

/// The organization's case categories (Bug, Feature Request, Question, Complaint, Other out of
/// the box) with the custom fields each opens.
#[utoipa::path(get, path = "/api/v1/case-categories", tag = "workflow", responses((status = 200, body = CategoriesResponse)))]
pub async fn list_categories(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<CategoriesResponse>, ApiError> {
    let data = s.app.list_categories(&actor).await?.into_iter().map(Into::into).collect();
    Ok(Json(CategoriesResponse { data }))
}

/// Create a category with its profile (admins).
#[utoipa::path(post, path = "/api/v1/case-categories", tag = "workflow", request_body = CategoryRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CategoryResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_category(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<CategoryRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_category(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/case-categories/{}", value.id), None, replayed, CategoryResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/case-categories/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 200, body = CategoryResponse), (status = 404, body = Problem)))]
pub async fn get_category(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<CategoryResponse>, ApiError> {
    Ok(Json(s.app.get_category(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/case-categories/{id}", tag = "workflow", params(("id" = String, Path)), request_body = CategoryRequest,
    responses((status = 200, body = CategoryResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_category(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<CategoryRequest>,
) -> Result<Json<CategoryResponse>, ApiError> {
    Ok(Json(s.app.update_category(&actor, &id, body.value.into()).await?.into()))
}

/// Delete a category no case has (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/case-categories/{id}", tag = "workflow", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_category(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_category(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
