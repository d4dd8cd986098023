//! `/api/v1/macros` (saved replies and actions, shared or personal), applying one to a case, and
//! `/api/v1/notifications` (the caller's in-app notifications, which rules send).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_domain::macros::{Macro, MacroInput};
use casedesk_domain::notification::Notification;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cases::{CaseResponse, CommentResponse, created, settled};
use super::{ListResponse, QueryReader, parse_bool, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct MacroResponse {
    pub id: String,
    pub name: String,
    /// The reply, with placeholders such as `{{requester.name}}` and `{{case.number}}`.
    pub body: String,
    /// Whether the reply is added as an internal note.
    pub internal: bool,
    #[schema(value_type = Vec<Object>)]
    pub actions: Value,
    /// true: every agent sees it; false: only its owner.
    pub shared: bool,
    pub owner_id: Option<String>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

impl From<Macro> for MacroResponse {
    fn from(m: Macro) -> Self {
        MacroResponse {
            id: m.id,
            name: m.name,
            body: m.body,
            internal: m.internal,
            actions: serde_json::to_value(&m.actions).unwrap_or_default(),
            shared: m.owner_id.is_none(),
            owner_id: m.owner_id,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMacroRequest {
    pub name: Option<String>,
    pub body: Option<String>,
    /// Default false: the reply goes to the requester.
    pub internal: Option<bool>,
    /// Case actions: assign_to_queue, assign_to_user, set_priority, set_status, add_tag,
    /// remove_tag, add_internal_note.
    #[schema(value_type = Option<Vec<Object>>)]
    pub actions: Option<Value>,
    /// true: for every agent (admins only); default false: the caller's own.
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMacroRequest {
    pub name: Option<String>,
    pub body: Option<String>,
    pub internal: Option<bool>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub actions: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyMacroRequest {
    pub macro_id: String,
}

/// What applying a macro did: the case after its actions, and the reply it added.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedMacroResponse {
    pub case: CaseResponse,
    pub comment: Option<CommentResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: String,
    pub case_id: Option<String>,
    /// The rule that sent it.
    pub rule_id: Option<String>,
    pub message: String,
    pub read: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<Notification> for NotificationResponse {
    fn from(n: Notification) -> Self {
        NotificationResponse {
            id: n.id,
            case_id: n.case_id,
            rule_id: n.rule_id,
            message: n.message,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

/// The macros the caller sees: shared ones and their own, newest first.
#[utoipa::path(get, path = "/api/v1/macros", tag = "macros",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<MacroResponse>), (status = 422, body = Problem)))]
pub async fn list_macros(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<MacroResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_macros(&actor, &page).await?, MacroResponse::from)))
}

/// Create a macro. An unknown placeholder in `body` is a 422 on `body`.
#[utoipa::path(post, path = "/api/v1/macros", tag = "macros", request_body = CreateMacroRequest,
    responses((status = 201, body = MacroResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_macro(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateMacroRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let input = MacroInput { name: r.name, body: r.body, internal: r.internal, actions: r.actions };
    let m = s.app.create_macro(&actor, r.shared, input).await?;
    Ok(created(format!("/api/v1/macros/{}", m.id), None, false, MacroResponse::from(m)))
}

#[utoipa::path(get, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = String, Path)),
    responses((status = 200, body = MacroResponse), (status = 404, body = Problem)))]
pub async fn get_macro(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MacroResponse>, ApiError> {
    Ok(Json(s.app.get_macro(&actor, &id).await?.into()))
}

/// Change a macro: one's own, or a shared one (admins).
#[utoipa::path(patch, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = String, Path)),
    request_body = UpdateMacroRequest,
    responses((status = 200, body = MacroResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_macro(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<UpdateMacroRequest>,
) -> Result<Json<MacroResponse>, ApiError> {
    let r = body.value;
    let input = MacroInput { name: r.name, body: r.body, internal: r.internal, actions: r.actions };
    Ok(Json(s.app.update_macro(&actor, &id, input).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/macros/{id}", tag = "macros", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_macro(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_macro(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Apply a macro to a case as the caller: its reply (placeholders filled), then its actions.
#[utoipa::path(post, path = "/api/v1/cases/{id}/apply-macro", tag = "macros", params(("id" = String, Path)),
    request_body = ApplyMacroRequest,
    responses((status = 200, body = AppliedMacroResponse), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn apply_macro(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ApplyMacroRequest>,
) -> Result<Json<AppliedMacroResponse>, ApiError> {
    let applied = s.app.apply_macro(&actor, &id, &body.value.macro_id).await?;
    let case = s.app.get_case(&actor, &id).await?;
    let case = settled(&s, &actor, case).await;
    Ok(Json(AppliedMacroResponse { case: case.into(), comment: applied.comment.map(CommentResponse::from) }))
}

/// The caller's notifications, newest first; `unread=true` for unread ones only.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "macros",
    params(("unread" = Option<bool>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<NotificationResponse>), (status = 422, body = Problem)))]
pub async fn list_notifications(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<NotificationResponse>>, ApiError> {
    let mut r = QueryReader::new(q, &["unread"]);
    let unread = r.parse("unread", parse_bool).unwrap_or(false);
    let page = r.page();
    r.finish()?;
    Ok(Json(ListResponse::new(s.app.list_notifications(&actor, unread, &page).await?, NotificationResponse::from)))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "macros", params(("id" = String, Path)),
    responses((status = 200, body = NotificationResponse), (status = 404, body = Problem)))]
pub async fn read_notification(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<NotificationResponse>, ApiError> {
    Ok(Json(s.app.read_notification(&actor, &id).await?.into()))
}
