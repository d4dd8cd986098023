//! `POST /api/v1/cases/{id}/ai`: the assistant's summaries, categories, reply drafts and
//! evaluations; `GET`/`PUT /api/v1/ai/settings`: which provider answers them (admins).

use axum::Json;
use axum::extract::{Path, State};
use casedesk_core::ai::{AiRequest, Fallback, Suggestion};
use casedesk_domain::ai::AiAction;
use casedesk_domain::ai::erp::ErpContext;
use casedesk_domain::ai::settings::{AiSettings, AiSettingsInput};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::nullable;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiRequestBody {
    /// summarize, categorize, suggest_reply or evaluate.
    pub action: String,
    /// Orders, shipments and credit from an ERP, for replies on order and delivery cases:
    /// `{"orders": [{"id", "status"}], "shipments": [{"order_id", "carrier", "tracking_number",
    /// "status", "shipped_at", "eta"}], "credit": {"status"}}`. A reply states only what is given.
    #[schema(value_type = Option<Object>)]
    pub erp_context: Option<Value>,
}

/// A suggestion, also kept on the case's timeline (`ai.suggestion`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionResponse {
    pub action: &'static str,
    /// Who produced it: `builtin`, or `openai_compatible` (the organization's chosen provider).
    pub provider: String,
    /// The model that produced it: the built-in method (`extractive`, `keyword-rules`,
    /// `logistic-regression`, `retrieval`, `rules`) or the model the provider named.
    pub model: String,
    /// Set when the organization's provider was asked and its answer not used (no answer in
    /// time, an error status, an answer that did not fit): the built-in provider answered instead.
    pub fallback: Option<FallbackResponse>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// summarize: `{text, asked, done, pending}`; categorize: `{category, alternatives, topic,
    /// priority, learned_from}`, each guess with a `confidence`; suggest_reply: `{text, facts,
    /// similar_cases}`; evaluate: `{complexity, sentiment, sla_risk, next_steps}`.
    #[schema(value_type = Object)]
    pub result: Value,
}

/// The provider that was asked, and why its answer was not used.
#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackResponse {
    pub provider: String,
    pub model: String,
    pub reason: String,
}

impl From<Fallback> for FallbackResponse {
    fn from(f: Fallback) -> Self {
        FallbackResponse { provider: f.provider, model: f.model, reason: f.reason }
    }
}

impl From<Suggestion> for SuggestionResponse {
    fn from(s: Suggestion) -> Self {
        SuggestionResponse {
            action: s.action.as_str(),
            provider: s.provider,
            model: s.model,
            fallback: s.fallback.map(Into::into),
            created_at: s.created_at,
            result: s.result,
        }
    }
}

/// Ask the assistant about a case: summarize it, categorize it (category, topic and priority with
/// confidences), draft a reply to the customer, or evaluate it (complexity, sentiment, SLA risk,
/// next steps).
#[utoipa::path(post, path = "/api/v1/cases/{id}/ai", tag = "ai", params(("id" = String, Path)),
    request_body = AiRequestBody,
    responses((status = 200, body = SuggestionResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assist(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<AiRequestBody>,
) -> Result<Json<SuggestionResponse>, ApiError> {
    let b = body.value;
    let action = AiAction::parse(&b.action).map_err(|m| ApiError::field("action", m))?;
    let erp_context = b.erp_context.as_ref().filter(|v| !v.is_null()).map(ErpContext::parse).transpose()?;
    let suggestion = s.app.ai_assist(&actor, &id, AiRequest { action, erp_context }).await?;
    Ok(Json(suggestion.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AiSettingsResponse {
    /// `builtin` (offline, the default) or `openai_compatible`.
    pub provider: &'static str,
    /// The API's base URL; requests go to `<base_url>/chat/completions`.
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Whether an API key is stored; the key itself is never shown.
    pub api_key_set: bool,
    /// `authorization` (`Bearer <key>`) or `api-key` (Azure OpenAI).
    pub api_key_header: &'static str,
    /// Azure OpenAI's `api-version` query parameter.
    pub api_version: Option<String>,
    /// How long the provider has to answer before the built-in provider does.
    pub timeout_secs: u32,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<AiSettings> for AiSettingsResponse {
    fn from(s: AiSettings) -> Self {
        AiSettingsResponse {
            provider: s.provider.as_str(),
            base_url: s.base_url,
            model: s.model,
            api_key_set: s.api_key_sealed.is_some(),
            api_key_header: s.api_key_header.as_str(),
            api_version: s.api_version,
            timeout_secs: s.timeout_secs,
            updated_at: s.updated_at,
        }
    }
}

/// The whole settings: fields left out take their defaults, except `api_key`, which left out
/// keeps the stored key as long as `base_url` is unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSettingsRequest {
    /// `builtin` or `openai_compatible`.
    pub provider: Option<String>,
    /// E.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama),
    /// `https://<resource>.openai.azure.com/openai/deployments/<deployment>` (Azure OpenAI).
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Write-only: stored sealed, never shown. `null` or `""` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
    /// `authorization` (default) or `api-key`.
    pub api_key_header: Option<String>,
    pub api_version: Option<String>,
    /// 1 to 120 (default 20).
    pub timeout_secs: Option<i64>,
}

/// Which provider answers the organization's assistant requests (admins).
#[utoipa::path(get, path = "/api/v1/ai/settings", tag = "ai",
    responses((status = 200, body = AiSettingsResponse), (status = 403, body = Problem)))]
pub async fn get_ai_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<AiSettingsResponse>, ApiError> {
    Ok(Json(s.app.ai_settings(&actor).await?.into()))
}

/// Choose the provider (admins): the built-in one, or an OpenAI-compatible chat-completions
/// endpoint with its model, key and timeout. A key needs the server's `--signing-key-secret`.
#[utoipa::path(put, path = "/api/v1/ai/settings", tag = "ai", request_body = AiSettingsRequest,
    responses((status = 200, body = AiSettingsResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_ai_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<AiSettingsRequest>,
) -> Result<Json<AiSettingsResponse>, ApiError> {
    let r = body.value;
    let input = AiSettingsInput {
        provider: r.provider,
        base_url: r.base_url,
        model: r.model,
        api_key: r.api_key,
        api_key_header: r.api_key_header,
        api_version: r.api_version,
        timeout_secs: r.timeout_secs,
    };
    Ok(Json(s.app.update_ai_settings(&actor, input).await?.into()))
}
