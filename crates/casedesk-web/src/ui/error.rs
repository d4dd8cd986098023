//! The UI's error adapter: a failure becomes a page (or, for a missing session, a redirect to
//! the sign-in page), never JSON and never a cause's text.

use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use casedesk_core::AppError;

/// A failure of a page request.
#[derive(Debug)]
pub enum UiError {
    App(AppError),
    /// No valid session: sign in, then come back to `next`. An htmx request (a poll, a boosted
    /// link) is told to load the sign-in page as a whole page instead of swapping it in.
    SignIn {
        next: String,
        htmx: bool,
    },
    /// A state-changing form without its session's CSRF token (403).
    Csrf,
    /// No such page or record (404).
    NotFound,
    /// A request that cannot be read (400).
    BadRequest(String),
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => UiError::NotFound,
            other => UiError::App(other),
        }
    }
}

impl UiError {
    pub fn internal(cause: impl Into<String>) -> Self {
        UiError::App(AppError::Internal(cause.into()))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: super::display::Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

/// A rendered template as an HTML response, or a logged 500 if it cannot render.
pub fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong on our side; it has been logged").into_response()
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        use StatusCode as S;
        let (status, title, message) = match self {
            UiError::SignIn { next, htmx } => {
                let to =
                    format!("/login?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
                if htmx && let Ok(v) = HeaderValue::from_str(&to) {
                    return ([(HeaderName::from_static("hx-redirect"), v)], "").into_response();
                }
                return Redirect::to(&to).into_response();
            }
            UiError::Csrf => (
                S::FORBIDDEN,
                "Form expired",
                "This form was not sent from your current session. Reload the page and try again.".to_string(),
            ),
            UiError::NotFound => {
                (S::NOT_FOUND, "Not found", "There is nothing here, or it is not yours to see.".into())
            }
            UiError::BadRequest(m) => (S::BAD_REQUEST, "Bad request", m),
            UiError::App(e) => match e {
                AppError::Unauthorized => return Redirect::to("/login").into_response(),
                AppError::Forbidden(what) => {
                    (S::FORBIDDEN, "Not allowed", format!("Your role does not allow you to {what}."))
                }
                AppError::NotFound => {
                    (S::NOT_FOUND, "Not found", "There is nothing here, or it is not yours to see.".into())
                }
                AppError::Conflict { message, .. } => (S::CONFLICT, "Conflict", message),
                AppError::PreconditionFailed => (
                    S::CONFLICT,
                    "Changed meanwhile",
                    "Someone changed this record since you opened it. Reload to see the change.".into(),
                ),
                AppError::Validation(fields) => (
                    S::UNPROCESSABLE_ENTITY,
                    "Invalid input",
                    fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
                ),
                AppError::Internal(cause) => {
                    // Logged once, here; the page says nothing of it.
                    tracing::error!(error = %cause, "internal error");
                    (
                        S::INTERNAL_SERVER_ERROR,
                        "Something went wrong",
                        "It has been logged. Try again in a moment.".into(),
                    )
                }
                other => (S::BAD_REQUEST, "Request refused", other.to_string()),
            },
        };
        html(
            status,
            &ErrorPage { chrome: super::display::Chrome::anonymous(), status: status.as_u16(), title, message },
        )
    }
}
