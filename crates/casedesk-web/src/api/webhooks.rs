//! `/api/v1/webhooks`: subscriptions of an endpoint to case events (admins), each with its
//! delivery log and redelivery. See docs/API.md "Webhooks" for the body and signature.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::webhooks::NewWebhook;
use casedesk_domain::webhook::{Delivery, Webhook, WebhookInput, event_id};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    pub url: String,
    /// The event types sent; `["*"]` for all.
    pub events: Vec<String>,
    pub description: String,
    pub active: bool,
    /// The admin who created it.
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    /// Since when every delivery attempt failed; null while it succeeds.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<jiff::Timestamp>,
    /// When casedesk switched it off because every attempt failed for a day.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<jiff::Timestamp>,
    pub disabled_reason: Option<String>,
}

impl From<Webhook> for WebhookResponse {
    fn from(w: Webhook) -> Self {
        WebhookResponse {
            id: w.id,
            url: w.url,
            events: w.events,
            description: w.description,
            active: w.active,
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
            failing_since: w.failing_since,
            disabled_at: w.disabled_at,
            disabled_reason: w.disabled_reason,
        }
    }
}

/// A new webhook, with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhookResponse {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// Signs every delivery (`Casedesk-Signature`). Store it now: it is never shown again.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An http:// or https:// URL the deliveries are POSTed to.
    pub url: Option<String>,
    /// Event types (case.created, comment.added, status.changed …), or `["*"]` (the default) for all.
    pub events: Option<Vec<String>>,
    /// 16 to 200 printable characters; generated (`whsec_…`) when omitted.
    pub secret: Option<String>,
    pub description: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Switching a webhook back on forgets its failures.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: String,
    pub webhook_id: String,
    /// The event's id, the `id` of the body: the same on every attempt and redelivery.
    pub event_id: String,
    pub event_type: String,
    pub case_id: String,
    /// pending (waiting for its next attempt), delivered, or failed (dead-lettered after a day).
    pub status: &'static str,
    /// Attempts made (including one under way).
    pub attempts: i64,
    /// The HTTP status of the last answer; null when the endpoint could not be reached.
    pub response_status: Option<i64>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<jiff::Timestamp>,
    /// While pending: when it is tried next.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<jiff::Timestamp>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        let pending = d.state == casedesk_domain::webhook::DeliveryState::Pending;
        DeliveryResponse {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: event_id(d.event_seq),
            event_type: d.event_type,
            case_id: d.case_id,
            status: d.state.as_str(),
            attempts: d.attempts,
            response_status: d.response_status,
            error: d.last_error,
            created_at: d.created_at,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
        }
    }
}

/// The organization's webhooks, newest first (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<WebhookResponse>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<WebhookResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_webhooks(&actor, &page).await?, WebhookResponse::from)))
}

/// Subscribe an endpoint to case events (admins). The answer holds the secret, shown only now.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhookRequest,
    responses((status = 201, body = CreatedWebhookResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let input = WebhookInput { url: r.url, events: r.events, description: r.description, active: r.active };
    let w = s.app.create_webhook(&actor, NewWebhook { input, secret: r.secret }).await?;
    let secret = w.secret.clone();
    let location = format!("/api/v1/webhooks/{}", w.id);
    Ok(created(location, None, false, CreatedWebhookResponse { webhook: w.into(), secret }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_webhook(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    Ok(Json(s.app.get_webhook(&actor, &id).await?.into()))
}

/// Change a webhook's url, events, description, or switch it on or off.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_webhook(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<UpdateWebhookRequest>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let r = body.value;
    let input = WebhookInput { url: r.url, events: r.events, description: r.description, active: r.active };
    Ok(Json(s.app.update_webhook(&actor, &id, input).await?.into()))
}

/// Delete a webhook and its delivery log; pending deliveries are not sent.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook's deliveries, newest first: status, last response code and error, attempts.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<DeliveryResponse>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<ListResponse<DeliveryResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_webhook_deliveries(&actor, &id, &page).await?, DeliveryResponse::from)))
}

/// Send a delivered or failed delivery's event again: a new delivery with the same event id and
/// body, due at once. A delivery still pending answers 409 `delivery_pending`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 201, body = DeliveryResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn redeliver(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = s.app.redeliver_webhook(&actor, &id, &delivery_id).await?;
    let location = format!("/api/v1/webhooks/{id}/deliveries");
    Ok(created(location, None, false, DeliveryResponse::from(d)))
}
