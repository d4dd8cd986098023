//! The one error type of the domain layer.

use serde::Serialize;

/// One invalid input field, named as the client spelled it (`priority`, `tags[2]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Why a domain rule refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input broke one or more field rules (HTTP 422 with the list of fields).
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The change is well-formed but the record's state forbids it, e.g. updating a closed case
    /// (HTTP 409 with `code`).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The caller's role does not allow the action (HTTP 403).
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
}

impl DomainError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError::new(field, message)])
    }
}

/// Collects field errors so a client learns about every bad field in one answer.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of `result`, recording its error under `field`.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() { Ok(()) } else { Err(DomainError::Validation(self.0)) }
    }
}
