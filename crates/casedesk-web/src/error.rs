//! The API's error adapter: every failure becomes an RFC 9457 `application/problem+json` body
//! with a stable snake_case `code`, from one table of (code, status).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::AppError;
use casedesk_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// A failure of an API request.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    /// The body is not JSON (400).
    MalformedJson(String),
    /// A header or query parameter that cannot be read (400).
    BadRequest(String),
    /// The body is larger than this endpoint accepts (413).
    TooLarge,
    /// A body whose content type is not the one this endpoint takes (415).
    UnsupportedMediaType(&'static str),
    /// No route (404) or no such method on it (405).
    NoRoute,
    MethodNotAllowed,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<casedesk_domain::DomainError> for ApiError {
    fn from(e: casedesk_domain::DomainError) -> Self {
        ApiError::App(e.into())
    }
}

impl ApiError {
    pub fn fields(errors: Vec<FieldError>) -> Self {
        ApiError::App(AppError::Validation(errors))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::App(AppError::field(field, message))
    }
}

/// The problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:casedesk:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable reason, e.g. `validation_failed`, `case_closed`.
    pub code: String,
    pub detail: String,
    /// On 422: each invalid field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

/// (code, status, title) for each kind of failure: the one table clients can rely on.
fn classify(e: &ApiError) -> (&'static str, StatusCode, &'static str) {
    use StatusCode as S;
    match e {
        ApiError::MalformedJson(_) => ("malformed_json", S::BAD_REQUEST, "Malformed JSON"),
        ApiError::BadRequest(_) => ("bad_request", S::BAD_REQUEST, "Bad request"),
        ApiError::TooLarge => ("payload_too_large", S::PAYLOAD_TOO_LARGE, "Payload too large"),
        ApiError::UnsupportedMediaType(_) => {
            ("unsupported_media_type", S::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
        }
        ApiError::NoRoute => ("not_found", S::NOT_FOUND, "Not found"),
        ApiError::MethodNotAllowed => ("method_not_allowed", S::METHOD_NOT_ALLOWED, "Method not allowed"),
        ApiError::App(app) => {
            let (status, title) = match app {
                AppError::Validation(_) => (S::UNPROCESSABLE_ENTITY, "Validation failed"),
                AppError::Conflict { .. } => (S::CONFLICT, "Conflict"),
                AppError::Unauthorized => (S::UNAUTHORIZED, "Unauthorized"),
                AppError::Forbidden(_) | AppError::Denied { .. } => (S::FORBIDDEN, "Forbidden"),
                AppError::InvalidToken(_) => (S::BAD_REQUEST, "Invalid visitor token"),
                AppError::NotFound => (S::NOT_FOUND, "Not found"),
                AppError::PreconditionFailed => (S::PRECONDITION_FAILED, "Precondition failed"),
                AppError::IdempotencyMismatch => (S::UNPROCESSABLE_ENTITY, "Idempotency key reused"),
                AppError::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "Payload too large"),
                AppError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "Internal server error"),
            };
            (app.code(), status, title)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status, title) = classify(&self);
        let mut errors = Vec::new();
        let detail = match self {
            ApiError::MalformedJson(m) => format!("the body is not valid JSON: {m}"),
            ApiError::BadRequest(m) => m,
            ApiError::TooLarge => "the body is larger than this endpoint accepts".into(),
            ApiError::UnsupportedMediaType(expected) => format!("send the body as {expected}"),
            ApiError::NoRoute => "no such endpoint".into(),
            ApiError::MethodNotAllowed => "this endpoint does not take that method".into(),
            ApiError::App(app) => match app {
                AppError::Validation(fields) => {
                    let names: Vec<String> = fields.iter().map(|f| f.field.clone()).collect();
                    errors = fields.into_iter().map(|f| ProblemField { field: f.field, message: f.message }).collect();
                    format!("invalid field(s): {}", names.join(", "))
                }
                AppError::Conflict { message, .. } => message,
                AppError::Unauthorized => "send a valid API token as 'Authorization: Bearer <token>'".into(),
                AppError::Forbidden(what) => format!("your role does not allow you to {what}"),
                AppError::Denied { message, .. } | AppError::InvalidToken(message) => message,
                AppError::NotFound => "no such record".into(),
                AppError::PreconditionFailed => {
                    "the record changed since the version in If-Match; fetch it again".into()
                }
                AppError::IdempotencyMismatch => "this Idempotency-Key was used with a different request".into(),
                AppError::TooLarge { limit } => format!("the file is larger than the limit of {limit} bytes"),
                AppError::Internal(cause) => {
                    // Logged once, here, where it is handled; the client gets nothing of it.
                    tracing::error!(error = %cause, "internal error");
                    "something went wrong on our side; it has been logged".into()
                }
            },
        };
        let problem = Problem {
            kind: format!("urn:casedesk:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            code: code.into(),
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
