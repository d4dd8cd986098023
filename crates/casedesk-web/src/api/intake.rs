//! `/api/v1/intake/…`: cases from other channels' pipelines (seed 000: "the voicemail pipeline
//! auto-creates cases from transcribed messages"; seed 004: conversations a bot escalates).

use axum::extract::State;
use axum::response::Response;
use casedesk_core::conversations::{Conversation, ConversationContact, MessageInput};
use casedesk_core::idempotency::Created;
use casedesk_core::intake::Voicemail;
use serde::{Deserialize, Serialize};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationMessageRequest {
    /// customer, bot or agent (a person on the channel's side).
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub text: String,
    /// When it was written (RFC 3339).
    pub at: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationContactRequest {
    /// An existing contact (`cnt_…`).
    pub id: Option<String>,
    /// Else the contact with this address, then with this number, or a new one.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The name a new contact gets.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationRequest {
    /// chat, sms, whatsapp or webchat.
    #[serde(default)]
    pub channel: String,
    /// The conversation's id on the channel: later posts with it join the same case.
    #[serde(default)]
    pub conversation_id: String,
    /// The transcript (or its new part), oldest first.
    #[serde(default)]
    pub messages: Vec<ConversationMessageRequest>,
    #[serde(default)]
    pub contact: ConversationContactRequest,
    /// Why the bot escalated: the case's subject.
    pub reason: Option<String>,
    /// The queue a new case goes to.
    pub queue_id: Option<String>,
}

/// The case a conversation went to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationResponse {
    /// true: this post opened the case (201); false: it joined it (200).
    pub opened: bool,
    pub case: CaseResponse,
}

/// File a bot's escalated conversation (seed 004): a conversation not seen before — or whose
/// case is closed — opens a case (channel = the conversation's; a follow-up is linked to the
/// closed one) with the transcript as its first comments; later posts join that case. Messages
/// already received (same sender, time and text) are not added again. `Idempotency-Key` makes a
/// retried post answer the same.
#[utoipa::path(post, path = "/api/v1/intake/conversations", tag = "cases", request_body = ConversationRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ConversationResponse), (status = 200, body = ConversationResponse),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn conversation(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<ConversationRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let r = body.value;
    let c = Conversation {
        channel: r.channel,
        conversation_id: r.conversation_id,
        messages: r.messages.into_iter().map(|m| MessageInput { from: m.from, text: m.text, at: m.at }).collect(),
        contact: ConversationContact {
            id: r.contact.id,
            name: r.contact.name,
            email: r.contact.email,
            phone: r.contact.phone,
        },
        reason: r.reason,
        queue_id: r.queue_id,
    };
    let Created { value, replayed } = s.app.conversation_case(&actor, c, idem).await?;
    let case = if replayed { value.case } else { settled(&s, &actor, value.case).await };
    let (id, version) = (case.id.clone(), case.version);
    let body = ConversationResponse { opened: value.opened, case: CaseResponse::from(case) };
    let mut resp = created(format!("/api/v1/cases/{id}"), Some(version), replayed, body);
    if !value.opened {
        *resp.status_mut() = axum::http::StatusCode::OK;
    }
    Ok(resp)
}
