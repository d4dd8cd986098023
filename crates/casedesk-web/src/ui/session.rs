//! The session cookie, the signed-in viewer of a page, and forms checked against CSRF.
//!
//! The cookie is HttpOnly and SameSite=Lax (and Secure when configured), so scripts cannot read
//! it and other sites' forms do not carry it. Every state-changing request must also carry the
//! session's CSRF token — as the `_csrf` form field or htmx's `X-CSRF-Token` header — which
//! [`Posted`] checks before a handler sees the form. The sign-in form, which has no session yet,
//! is protected the same way by a random token in a short-lived cookie of its own.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use casedesk_core::AppError;
use casedesk_core::sessions::{SignedIn, csrf_token};

use super::UiConfig;
use super::error::UiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "casedesk_session";
/// The sign-in form's own CSRF token (double-submit: cookie and hidden field must match).
pub const LOGIN_COOKIE: &str = "casedesk_login";

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value for `name`; `max_age` 0 removes the cookie.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, config: &UiConfig) -> String {
    let secure = if config.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The UI's settings, put on every UI request by `ui::routes`.
pub fn config(parts: &Parts) -> UiConfig {
    parts.extensions.get::<UiConfig>().cloned().unwrap_or_default()
}

/// The client's address, for throttling sign-in attempts ("unknown" if the server was started
/// without connection info).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client's address as an extractor.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_address(parts)))
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user of a page, with their session's CSRF token. Without a valid session the
/// request is sent to the sign-in page, to come back afterwards.
pub struct Viewer {
    pub who: SignedIn,
    pub csrf: String,
    /// The session cookie's secret (to sign out).
    pub secret: String,
    /// Their running timer, shown in every page's header (read for pages only).
    pub timer: Option<RunningTimer>,
}

/// A running timer as the page header shows it.
#[derive(Debug, Clone)]
pub struct RunningTimer {
    pub case_id: String,
    pub number: i64,
    pub elapsed_secs: i64,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = if parts.method == Method::GET {
            parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/cases".into())
        } else {
            "/cases".into()
        };
        let htmx = parts.headers.contains_key("hx-request");
        let secret =
            cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| UiError::SignIn { next: next.clone(), htmx })?;
        let rules = config(parts).sign_in.session;
        let who = state.app.session(&secret, &rules).await.map_err(|e| match e {
            AppError::Unauthorized => UiError::SignIn { next, htmx },
            other => other.into(),
        })?;
        // Pages show the viewer's running timer in their header; a live stream needs none.
        let page = parts.method == Method::GET
            && !parts.headers.get(header::ACCEPT).is_some_and(|a| a.as_bytes().starts_with(b"text/event-stream"));
        let timer = if page { running_timer(state, &who).await? } else { None };
        Ok(Viewer { who, csrf: csrf_token(&secret), secret, timer })
    }
}

/// The viewer's running timer, if they have one, with its case's number.
async fn running_timer(state: &AppState, who: &SignedIn) -> Result<Option<RunningTimer>, UiError> {
    let timers = match state.app.list_timers(&who.actor).await {
        Ok(t) => t,
        Err(AppError::Forbidden(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(t) = timers.into_iter().find(|t| t.is_running()) else { return Ok(None) };
    let number = match state.app.get_case(&who.actor, &t.case_id).await {
        Ok(c) => c.case_number,
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(RunningTimer { elapsed_secs: t.elapsed_secs(state.app.clock.now()), case_id: t.case_id, number }))
}

/// A submitted `application/x-www-form-urlencoded` form, as name–value pairs.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        FormData(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, trimmed; `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
    }

    /// The value of `name`, `None` when absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_string)
    }
}

/// A state-changing form from a signed-in viewer, its CSRF token checked.
pub struct Posted {
    pub viewer: Viewer,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let header_token = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| UiError::BadRequest(e.body_text()))?;
        let form = FormData::parse(&bytes);
        let sent = form.get("_csrf").map(str::to_string).or(header_token).unwrap_or_default();
        if !same(&sent, &viewer.csrf) {
            tracing::info!(user.id = %viewer.who.actor.user_id, "form refused: CSRF token missing or wrong");
            return Err(UiError::Csrf);
        }
        Ok(Posted { viewer, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; casedesk_session_x=2; casedesk_session=abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        let c = set_cookie(SESSION_COOKIE, "v", "/", 60, &UiConfig { secure_cookies: true, ..UiConfig::default() });
        assert_eq!(c, "casedesk_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
