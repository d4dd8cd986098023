//! `POST /api/v1/cases/{id}/ai`: the assistant's summaries, categories, reply drafts and
//! evaluations.

use axum::Json;
use axum::extract::{Path, State};
use casedesk_core::ai::{AiRequest, Suggestion};
use casedesk_domain::ai::AiAction;
use casedesk_domain::ai::erp::ErpContext;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

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
    /// Who produced it: `builtin`, or the organization's chosen provider.
    pub provider: String,
    pub model: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// summarize: `{text, asked, done, pending}`; categorize: `{category, alternatives, topic,
    /// priority, learned_from}`, each guess with a `confidence`; suggest_reply: `{text, facts,
    /// similar_cases}`; evaluate: `{complexity, sentiment, sla_risk, next_steps}`.
    #[schema(value_type = Object)]
    pub result: Value,
}

impl From<Suggestion> for SuggestionResponse {
    fn from(s: Suggestion) -> Self {
        SuggestionResponse {
            action: s.action.as_str(),
            provider: s.provider,
            model: s.model,
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
