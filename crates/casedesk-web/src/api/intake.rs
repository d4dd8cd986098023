//! `/api/v1/intake/…`: cases from other channels' pipelines (seed 000: "the voicemail pipeline
//! auto-creates cases from transcribed messages").

use axum::extract::State;
use axum::response::Response;
use casedesk_core::idempotency::Created;
use casedesk_core::intake::Voicemail;
use serde::Deserialize;
use utoipa::ToSchema;

use super::cases::{CaseResponse, created, settled};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailRequest {
    /// The caller's number, as the phone system gives it (`+1 415 555 0100`).
    #[serde(default)]
    pub caller_number: String,
    /// The caller ID name, if the phone system has one.
    pub caller_name: Option<String>,
    /// The transcribed message.
    pub transcript: Option<String>,
    /// Where the recording can be played (http or https).
    pub recording_url: Option<String>,
    pub duration_seconds: Option<i64>,
    /// The queue the case goes to (for a line that belongs to one team).
    pub queue_id: Option<String>,
}

/// Open a case from a transcribed voicemail. The caller's contact is found by phone number,
/// however it is written, or made; `Idempotency-Key` makes a retried post the same case.
#[utoipa::path(post, path = "/api/v1/intake/voicemail", tag = "cases", request_body = VoicemailRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CaseResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn voicemail(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<VoicemailRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let r = body.value;
    let v = Voicemail {
        caller_number: r.caller_number,
        caller_name: r.caller_name,
        transcript: r.transcript,
        recording_url: r.recording_url,
        duration_seconds: r.duration_seconds,
        queue_id: r.queue_id,
    };
    let Created { value, replayed } = s.app.voicemail_case(&actor, v, idem).await?;
    let value = if replayed { value } else { settled(&s, &actor, value).await };
    Ok(created(format!("/api/v1/cases/{}", value.id), Some(value.version), replayed, CaseResponse::from(value)))
}
