//! `/api/v1/channel-connectors`: where replies on chat, SMS, WhatsApp and web chat cases are
//! sent (admins); a case's replies to its connector and its unread count. See docs/API.md
//! "Messaging channels".

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::channels::NewConnector;
use casedesk_domain::case::Channel;
use casedesk_domain::messaging::{ChannelConnector, ChannelDelivery, ConnectorInput, ReplyRoute, reply_route};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseResponse, created};
use super::{ListResponse, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorResponse {
    pub id: String,
    /// chat, sms, whatsapp or webchat: one connector per channel.
    pub channel: &'static str,
    /// Where replies are POSTed.
    pub url: String,
    pub active: bool,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    /// Since when every delivery failed; null after a success.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<jiff::Timestamp>,
    /// When casedesk switched the connector off after a day of failures (its creator is
    /// notified); cleared by setting active to true.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<jiff::Timestamp>,
    pub disabled_reason: Option<String>,
}

impl From<ChannelConnector> for ConnectorResponse {
    fn from(c: ChannelConnector) -> Self {
        ConnectorResponse {
            id: c.id,
            channel: c.channel.as_str(),
            url: c.url,
            active: c.active,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            failing_since: c.failing_since,
            disabled_at: c.disabled_at,
            disabled_reason: c.disabled_reason,
        }
    }
}

/// A new connector, with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedConnectorResponse {
    #[serde(flatten)]
    pub connector: ConnectorResponse,
    /// Signs every delivery (`Casedesk-Signature`). Store it now: it is never shown again.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorListResponse {
    pub data: Vec<ConnectorResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectorRequest {
    /// chat, sms, whatsapp or webchat.
    #[serde(default)]
    pub channel: String,
    /// An http:// or https:// URL replies are POSTed to.
    pub url: Option<String>,
    /// 16 to 200 printable characters; generated (`whsec_…`) when omitted.
    pub secret: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnectorRequest {
    pub url: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDeliveryResponse {
    pub id: String,
    pub connector_id: String,
    pub case_id: String,
    /// The reply (comment) sent.
    pub comment_id: String,
    /// pending (waiting for its next attempt), delivered, or failed (given up after a day).
    pub status: &'static str,
    pub attempts: i64,
    /// The HTTP status of the last answer; null when the connector could not be reached.
    pub response_status: Option<i64>,
    pub error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<jiff::Timestamp>,
}

impl From<ChannelDelivery> for ChannelDeliveryResponse {
    fn from(c: ChannelDelivery) -> Self {
        let d = c.delivery;
        ChannelDeliveryResponse {
            id: d.id,
            connector_id: d.webhook_id,
            case_id: d.case_id,
            comment_id: c.comment_id,
            status: d.state.as_str(),
            attempts: d.attempts,
            response_status: d.response_status,
            error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDeliveryListResponse {
    pub data: Vec<ChannelDeliveryResponse>,
}

/// The organization's channel connectors (admins).
#[utoipa::path(get, path = "/api/v1/channel-connectors", tag = "channels",
    responses((status = 200, body = ConnectorListResponse), (status = 403, body = Problem)))]
pub async fn list_connectors(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<ConnectorListResponse>, ApiError> {
    let data = s.app.list_channel_connectors(&actor).await?.into_iter().map(ConnectorResponse::from).collect();
    Ok(Json(ConnectorListResponse { data }))
}

/// Send a channel's replies to an endpoint (admins). The answer holds the secret, shown only
/// now. A channel that already has a connector answers 409 `connector_exists`.
#[utoipa::path(post, path = "/api/v1/channel-connectors", tag = "channels", request_body = CreateConnectorRequest,
    responses((status = 201, body = CreatedConnectorResponse), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_connector(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateConnectorRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let new =
        NewConnector { channel: r.channel, input: ConnectorInput { url: r.url, active: r.active }, secret: r.secret };
    let c = s.app.create_channel_connector(&actor, new).await?;
    let secret = c.secret.clone();
    let location = format!("/api/v1/channel-connectors/{}", c.id);
    Ok(created(location, None, false, CreatedConnectorResponse { connector: c.into(), secret }))
}

#[utoipa::path(get, path = "/api/v1/channel-connectors/{id}", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ConnectorResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_connector(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ConnectorResponse>, ApiError> {
    Ok(Json(s.app.get_channel_connector(&actor, &id).await?.into()))
}

/// Change a connector's url, or switch it on or off.
#[utoipa::path(patch, path = "/api/v1/channel-connectors/{id}", tag = "channels", params(("id" = String, Path)),
    request_body = UpdateConnectorRequest,
    responses((status = 200, body = ConnectorResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_connector(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<UpdateConnectorRequest>,
) -> Result<Json<ConnectorResponse>, ApiError> {
    let r = body.value;
    Ok(Json(s.app.update_channel_connector(&actor, &id, ConnectorInput { url: r.url, active: r.active }).await?.into()))
}

/// Delete a connector and its deliveries; pending replies are not sent.
#[utoipa::path(delete, path = "/api/v1/channel-connectors/{id}", tag = "channels", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_connector(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_channel_connector(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The case's replies to its channel's connector, oldest first, with their delivery state.
#[utoipa::path(get, path = "/api/v1/cases/{id}/channel-deliveries", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ChannelDeliveryListResponse), (status = 404, body = Problem)))]
pub async fn case_deliveries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ChannelDeliveryListResponse>, ApiError> {
    let data =
        s.app.case_channel_deliveries(&actor, &id).await?.into_iter().map(ChannelDeliveryResponse::from).collect();
    Ok(Json(ChannelDeliveryListResponse { data }))
}

/// The connector's deliveries, newest first: status, last response code and error, attempts.
#[utoipa::path(get, path = "/api/v1/channel-connectors/{id}/deliveries", tag = "channels",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<ChannelDeliveryResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn connector_deliveries(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<ListResponse<ChannelDeliveryResponse>>, ApiError> {
    let page = simple_page(q)?;
    let deliveries = s.app.list_connector_deliveries(&actor, &id, &page).await?;
    Ok(Json(ListResponse::new(deliveries, ChannelDeliveryResponse::from)))
}

/// Send a delivered or failed reply again: a new delivery with the same event id and body, due
/// at once. A delivery still pending answers 409 `delivery_pending`.
#[utoipa::path(post, path = "/api/v1/channel-connectors/{id}/deliveries/{delivery_id}/redeliver", tag = "channels",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 201, body = ChannelDeliveryResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn redeliver(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let d = s.app.redeliver_channel_reply(&actor, &id, &delivery_id).await?;
    let location = format!("/api/v1/channel-connectors/{id}/deliveries");
    Ok(created(location, None, false, ChannelDeliveryResponse::from(d)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyChannelsResponse {
    /// Where a reply goes when the agent picks nothing: the case's messaging channel, else email.
    pub default: &'static str,
    /// What the agent can pick (`channel` of a new comment), email first.
    pub channels: Vec<&'static str>,
}

/// The channels an agent can send the case's next reply by: email to the requester's address,
/// SMS or WhatsApp to the contact's number or conversation, chat and web chat into a
/// conversation feeding the case; a messaging channel needs an active connector.
#[utoipa::path(get, path = "/api/v1/cases/{id}/reply-channels", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ReplyChannelsResponse), (status = 404, body = Problem)))]
pub async fn reply_channels(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ReplyChannelsResponse>, ApiError> {
    let case = s.app.get_case(&actor, &id).await?;
    let channels = s.app.reply_channels(&actor, &case).await?.into_iter().map(Channel::as_str).collect();
    let default = match reply_route(case.channel, None) {
        ReplyRoute::Email => Channel::Email.as_str(),
        ReplyRoute::Connector(c) => c.as_str(),
    };
    Ok(Json(ReplyChannelsResponse { default, channels }))
}

/// An agent has read the case: `unread_message_count` goes back to 0.
#[utoipa::path(post, path = "/api/v1/cases/{id}/read", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = CaseResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn mark_read(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<CaseResponse>, ApiError> {
    Ok(Json(s.app.mark_case_read(&actor, &id).await?.into()))
}
