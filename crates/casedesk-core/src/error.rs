//! [`AppError`]: the one error type of the use-case layer. The HTTP layer maps each variant to a
//! status and a stable `code` in one table.

use casedesk_domain::{DomainError, FieldError};
use casedesk_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields that break a rule (422).
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The record's state forbids the change, e.g. a closed case (409, with the rule's code).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// No credentials, or bad ones (401).
    #[error("authentication required")]
    Unauthorized,
    /// The caller's role does not allow this (403).
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// The caller may not use this organization, or the organization may not use this now
    /// (403, with the reason's code: `organization_access_denied`, `subscription_inactive`).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    /// A visitor token that is malformed, expired, or does not verify (400).
    #[error("invalid visitor token: {0}")]
    InvalidToken(String),
    /// No such record in the caller's organization (404) — also for other organizations' ids.
    #[error("not found")]
    NotFound,
    /// `If-Match` names a version that is no longer current (412).
    #[error("the record changed since the given version")]
    PreconditionFailed,
    /// An `Idempotency-Key` reused with a different request (422).
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    /// A file larger than the configured limit, in bytes (413).
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Something unexpected; the cause is logged once, never shown to the client (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable snake_case code clients see for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Conflict { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Denied { code, .. } => code,
            AppError::InvalidToken(_) => "invalid_visitor_token",
            AppError::NotFound => "not_found",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::IdempotencyMismatch => "idempotency_key_reused",
            AppError::TooLarge { .. } => "payload_too_large",
            AppError::Internal(_) => "internal_error",
        }
    }
}

/// A record a request body names: missing (or another organization's) is a 422 on `field`,
/// not a 404 — the URL was right, the body was not.
pub fn named<T>(found: Result<T, StoreError>, field: &str, what: &str, id: &str) -> Result<T, AppError> {
    match found {
        Ok(v) => Ok(v),
        Err(StoreError::NotFound) => Err(AppError::field(field, format!("no such {what}: {id}"))),
        Err(e) => Err(e.into()),
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(f) => AppError::Validation(f),
            DomainError::Conflict { code, message } => AppError::Conflict { code, message },
            DomainError::Forbidden(what) => AppError::Forbidden(what),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Duplicate(m) => {
                AppError::Conflict { code: "duplicate", message: format!("already exists ({m})") }
            }
            StoreError::InUse(m) => AppError::Conflict { code: "in_use", message: m },
            StoreError::Stale => AppError::Conflict {
                code: "concurrent_update",
                message: "the record was changed by another request; retry".into(),
            },
            StoreError::InvalidCursor => AppError::field("cursor", "is not a cursor this list issued"),
            StoreError::Corrupt(m) => AppError::Internal(m),
            StoreError::Database(e) => AppError::Internal(e.to_string()),
        }
    }
}
