//! Email: the organization's SMTP settings and mailboxes with their IMAP polling (admins), raw messages posted by a
//! mail provider (`POST /api/v1/inbound/email`), held inbound mail, each case's mail log, and a
//! message's original. See docs/email.md.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::email::{Inbound, MailboxInput, SendUpdate};
use casedesk_core::imap::MailboxWithImap;
use casedesk_domain::email::{EmailMessage, EmailState, MailSettings, MailSettingsInput};
use casedesk_domain::imap::{ImapInput, ImapMailbox};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ListResponse, QueryReader, nullable};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs};

const TAG: &str = "email";

#[derive(Debug, Serialize, ToSchema)]
pub struct MailSettingsResponse {
    pub smtp_host: Option<String>,
    /// The port connected to (the usual one for the security unless set).
    pub smtp_port: u16,
    /// starttls (required, port 587), tls (port 465) or none (a local relay only).
    pub smtp_security: &'static str,
    pub smtp_username: Option<String>,
    /// Whether a password is stored; the password itself is never shown.
    pub smtp_password_set: bool,
    /// The sender of replies on cases whose queue has no mailbox.
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    /// Whether mail can go out: a server and a sender are set.
    pub sending: bool,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

impl From<MailSettings> for MailSettingsResponse {
    fn from(s: MailSettings) -> Self {
        MailSettingsResponse {
            sending: s.can_send(),
            smtp_port: s.port(),
            smtp_host: s.smtp_host,
            smtp_security: s.smtp_security.as_str(),
            smtp_username: s.smtp_username,
            smtp_password_set: s.smtp_password.is_some(),
            from_address: s.from_address,
            from_name: s.from_name,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailSettingsRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_host: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub smtp_port: Option<Option<i64>>,
    pub smtp_security: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_username: Option<Option<String>>,
    /// Write-only.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_password: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub from_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub from_name: Option<Option<String>>,
}

/// The organization's outgoing mail settings (admins).
#[utoipa::path(get, path = "/api/v1/mail/settings", tag = TAG,
    responses((status = 200, body = MailSettingsResponse), (status = 403, body = Problem)))]
pub async fn get_mail_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<MailSettingsResponse>, ApiError> {
    Ok(Json(s.app.mail_settings(&actor).await?.into()))
}

/// Change the outgoing mail settings (admins). Fields left out stay; `null` clears one.
#[utoipa::path(patch, path = "/api/v1/mail/settings", tag = TAG, request_body = MailSettingsRequest,
    responses((status = 200, body = MailSettingsResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_mail_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<MailSettingsRequest>,
) -> Result<Json<MailSettingsResponse>, ApiError> {
    let r = body.value;
    let input = MailSettingsInput {
        smtp_host: r.smtp_host,
        smtp_port: r.smtp_port,
        smtp_security: r.smtp_security,
        smtp_username: r.smtp_username,
        smtp_password: r.smtp_password,
        from_address: r.from_address,
        from_name: r.from_name,
    };
    Ok(Json(s.app.update_mail_settings(&actor, input).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxResponse {
    pub id: String,
    /// Mail to this address opens cases in `queue_id`; replies on that queue's cases come from it.
    pub address: String,
    pub name: Option<String>,
    pub queue_id: Option<String>,
    /// The IMAP server the mailbox is polled on; `null` when mail reaches it otherwise.
    pub imap: Option<ImapResponse>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

/// A mailbox's IMAP settings and how its polling goes. The password is never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImapResponse {
    pub host: String,
    pub port: u16,
    /// tls (TLS from the first byte, port 993), starttls (required, port 143) or none (a server
    /// on the same host only).
    pub security: &'static str,
    pub username: String,
    /// Whether a password is stored; the password itself is never shown.
    pub password_set: bool,
    pub folder: String,
    /// Whether the mailbox is polled.
    pub enabled: bool,
    /// When the last poll ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_poll_at: Option<jiff::Timestamp>,
    /// Why the last poll failed; `null` once one succeeds.
    pub last_error: Option<String>,
    /// Failed polls in a row; each waits longer before the next (up to an hour).
    pub failures: u32,
    /// When the mailbox is polled next.
    #[schema(value_type = String, format = DateTime)]
    pub next_poll_at: jiff::Timestamp,
}

impl From<ImapMailbox> for ImapResponse {
    fn from(i: ImapMailbox) -> Self {
        ImapResponse {
            host: i.host,
            port: i.port,
            security: i.security.as_str(),
            username: i.username,
            password_set: i.password_sealed.is_some(),
            folder: i.folder,
            enabled: i.enabled,
            last_poll_at: i.last_poll_at,
            last_error: i.last_error,
            failures: i.failures,
            next_poll_at: i.next_poll_at,
        }
    }
}

impl From<MailboxWithImap> for MailboxResponse {
    fn from(MailboxWithImap { mailbox: m, imap }: MailboxWithImap) -> Self {
        MailboxResponse {
            id: m.id,
            address: m.address,
            name: m.name,
            queue_id: m.queue_id,
            imap: imap.map(ImapResponse::from),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxRequest {
    pub address: Option<String>,
    pub name: Option<String>,
    pub queue_id: Option<String>,
    /// Poll the mailbox on an IMAP server.
    pub imap: Option<ImapRequest>,
}

/// A mailbox's IMAP settings, whole.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapRequest {
    pub host: Option<String>,
    /// Default: 993 for tls, 143 otherwise.
    pub port: Option<i64>,
    /// tls (the default), starttls or none.
    pub security: Option<String>,
    pub username: Option<String>,
    /// Write-only: stored sealed, never shown. Left out, the stored one stays while host and
    /// username do; `null` or `""` removes it. Required to poll.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    /// Default: INBOX.
    pub folder: Option<String>,
    /// Default: true.
    pub enabled: Option<bool>,
}

impl std::fmt::Debug for ImapRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapRequest").field("host", &self.host).finish_non_exhaustive()
    }
}

impl From<ImapRequest> for ImapInput {
    fn from(r: ImapRequest) -> Self {
        ImapInput {
            host: r.host,
            port: r.port,
            security: r.security,
            username: r.username,
            password: r.password,
            folder: r.folder,
            enabled: r.enabled,
        }
    }
}

/// The organization's mailboxes (admins).
#[utoipa::path(get, path = "/api/v1/mailboxes", tag = TAG,
    responses((status = 200, body = ListResponse<MailboxResponse>), (status = 403, body = Problem)))]
pub async fn list_mailboxes(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<ListResponse<MailboxResponse>>, ApiError> {
    let data = s.app.mailboxes_with_imap(&actor).await?.into_iter().map(MailboxResponse::from).collect();
    Ok(Json(ListResponse { data, next_cursor: None, has_more: false }))
}

/// Add a mailbox: an address mail comes in to, and the queue its new cases go to (admins); with
/// `imap`, casedesk polls it on that server.
#[utoipa::path(post, path = "/api/v1/mailboxes", tag = TAG, request_body = MailboxRequest,
    responses((status = 201, body = MailboxResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_mailbox(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<MailboxRequest>,
) -> Result<(StatusCode, Json<MailboxResponse>), ApiError> {
    let r = body.value;
    let input = MailboxInput {
        address: r.address.unwrap_or_default(),
        name: r.name,
        queue_id: r.queue_id,
        imap: r.imap.map(ImapInput::from),
    };
    Ok((StatusCode::CREATED, Json(s.app.create_mailbox(&actor, input).await?.into())))
}

/// One mailbox, with its IMAP settings and the state of its polling (admins).
#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = MailboxResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_mailbox(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MailboxResponse>, ApiError> {
    Ok(Json(s.app.mailbox_with_imap(&actor, &id).await?.into()))
}

/// Set a mailbox's IMAP settings, whole (admins): casedesk polls it on that server, the first
/// time at once.
#[utoipa::path(put, path = "/api/v1/mailboxes/{id}/imap", tag = TAG, params(("id" = String, Path)),
    request_body = ImapRequest,
    responses((status = 200, body = MailboxResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn put_mailbox_imap(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ImapRequest>,
) -> Result<Json<MailboxResponse>, ApiError> {
    Ok(Json(s.app.set_mailbox_imap(&actor, &id, body.value.into()).await?.into()))
}

/// Stop polling a mailbox and forget its IMAP settings and password (admins).
#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}/imap", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = MailboxResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_mailbox_imap(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MailboxResponse>, ApiError> {
    Ok(Json(s.app.clear_mailbox_imap(&actor, &id).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_mailbox(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_mailbox(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailResponse {
    pub id: String,
    /// in or out.
    pub direction: &'static str,
    pub message_id: String,
    pub case_id: Option<String>,
    pub comment_id: Option<String>,
    pub from: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// In: received, processed, ignored (machine-written), quarantined. Out: queued, sent, failed.
    pub state: &'static str,
    /// Why it was ignored or quarantined.
    pub reason: Option<String>,
    pub size: i64,
    pub attempts: i64,
    pub error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<jiff::Timestamp>,
    /// Where the original message can be downloaded (inbound mail).
    pub original_url: Option<String>,
}

impl From<EmailMessage> for EmailResponse {
    fn from(m: EmailMessage) -> Self {
        let original_url = m.raw_sha256.as_ref().map(|_| format!("/api/v1/emails/{}/original", m.id));
        EmailResponse {
            original_url,
            id: m.id,
            direction: m.direction.as_str(),
            message_id: m.message_id,
            case_id: m.case_id,
            comment_id: m.comment_id,
            from: m.from_address,
            from_name: m.from_name,
            to: m.to,
            cc: m.cc,
            subject: m.subject,
            state: m.state.as_str(),
            reason: m.reason,
            size: m.size,
            attempts: m.attempts,
            error: m.last_error,
            next_attempt_at: m.next_attempt_at,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundResponse {
    #[serde(flatten)]
    pub email: EmailResponse,
    /// The case it opened or joined.
    pub case_number: Option<i64>,
    /// The message had been received before: nothing new was made.
    pub duplicate: bool,
}

impl From<Inbound> for InboundResponse {
    fn from(i: Inbound) -> Self {
        InboundResponse { case_number: i.case.map(|c| c.case_number), duplicate: i.duplicate, email: i.email.into() }
    }
}

/// Take in one raw RFC 5322 message, as a mail provider forwards it (the body is the message).
/// It opens a case, joins the case it answers, or is held (machine-written or unreadable mail).
/// `queue_id` is where a new case goes when no recipient is a mailbox.
#[utoipa::path(post, path = "/api/v1/inbound/email", tag = TAG,
    params(("queue_id" = Option<String>, Query)),
    request_body(content = String, content_type = "message/rfc822"),
    responses((status = 201, body = InboundResponse, description = "Made into a case or comment"),
        (status = 202, body = InboundResponse, description = "Kept but held: ignored or quarantined"),
        (status = 200, body = InboundResponse, description = "Received before"),
        (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn inbound_email(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut r = QueryReader::new(q, &["queue_id"]);
    let queue_id = r.one("queue_id");
    r.finish()?;
    let inbound = s.app.receive_email_as(&actor, &body, queue_id.as_deref()).await?;
    let status = if inbound.duplicate {
        StatusCode::OK
    } else if inbound.email.state == EmailState::Processed {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(InboundResponse::from(inbound))).into_response())
}

/// Inbound mail that became no case, newest first (admins): `state=quarantined` (unreadable or
/// too large; the default) or `state=ignored` (auto-replies, bounces, bulk mail), or both.
#[utoipa::path(get, path = "/api/v1/inbound/held", tag = TAG,
    params(("state" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<EmailResponse>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn held_emails(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<EmailResponse>>, ApiError> {
    let mut r = QueryReader::new(q, &["state", "limit", "cursor"]);
    let mut states = Vec::new();
    for v in r.all("state") {
        for one in v.split(',') {
            match EmailState::parse(one.trim()) {
                Ok(st @ (EmailState::Quarantined | EmailState::Ignored)) => states.push(st),
                _ => r.error("state", "must be quarantined or ignored"),
            }
        }
    }
    if states.is_empty() {
        states.push(EmailState::Quarantined);
    }
    let page = r.page();
    let before = match &page.cursor {
        Some(c) => match c.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                r.error("cursor", "not a cursor of this list");
                None
            }
        },
        None => None,
    };
    r.finish()?;
    let (items, next) = s.app.held_emails(&actor, &states, before, page.limit).await?;
    Ok(Json(ListResponse {
        data: items.into_iter().map(EmailResponse::from).collect(),
        has_more: next.is_some(),
        next_cursor: next.map(|n| n.to_string()),
    }))
}

/// A case's mail in both directions, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/emails", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = ListResponse<EmailResponse>), (status = 404, body = Problem)))]
pub async fn case_emails(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ListResponse<EmailResponse>>, ApiError> {
    let data = s.app.case_emails(&actor, &id).await?.into_iter().map(EmailResponse::from).collect();
    Ok(Json(ListResponse { data, next_cursor: None, has_more: false }))
}

/// An inbound message exactly as it was received (`message/rfc822`, as an attachment).
#[utoipa::path(get, path = "/api/v1/emails/{id}/original", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, description = "The message", content_type = "message/rfc822"), (status = 404, body = Problem)))]
pub async fn email_original(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (m, blob) = s.app.email_original(&actor, &id).await?;
    let mut resp = super::reader_body(blob.reader).into_response();
    let h: &mut HeaderMap = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    if let Ok(v) = HeaderValue::from_str(&blob.size.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.eml\"", m.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendUpdateRequest {
    /// `queue` (the case's mailbox; the default) or `me` (your own address).
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Default `Re: <case subject> [#<number>]`; the tag is added when missing.
    pub subject: Option<String>,
    #[serde(default)]
    pub message: String,
    /// Files of the case to attach.
    #[serde(default)]
    pub file_ids: Vec<String>,
}

/// Send an update about the case by email to the recipients given (a customer-facing comment on
/// its timeline, and one message). 409 `mail_not_set_up` until the organization can send.
#[utoipa::path(post, path = "/api/v1/cases/{id}/send-update", tag = TAG, request_body = SendUpdateRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = EmailResponse), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn send_update(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<SendUpdateRequest>,
) -> Result<(StatusCode, Json<EmailResponse>), ApiError> {
    let idem = key.with(&body.request_hash)?;
    let r = body.value;
    let update =
        SendUpdate { from: r.from, to: r.to, cc: r.cc, subject: r.subject, message: r.message, file_ids: r.file_ids };
    Ok((StatusCode::CREATED, Json(s.app.send_update(&actor, &id, update, idem).await?.into())))
}
