//! Sign-in, sign-out and password change.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::AppError;
use casedesk_core::auth::random_secret;
use casedesk_core::sessions::SignIn;
use casedesk_domain::badge::short_duration;
use serde::Deserialize;

use super::UiConfig;
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{ClientAddr, FormData, LOGIN_COOKIE, Posted, SESSION_COOKIE, Viewer, cookie, same, set_cookie};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    login_token: String,
    error: Option<String>,
}

/// Only a path of this site may follow a sign-in (never `//elsewhere` or a full URL).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/cases".into(),
    }
}

/// The sign-in form with a fresh form token (set as its cookie too).
fn login_form(status: StatusCode, config: &UiConfig, email: String, next: String, error: Option<String>) -> Response {
    let token = random_secret(32);
    let page = LoginPage { chrome: Chrome::anonymous(), email, next, login_token: token.clone(), error };
    let mut resp = html(status, &page);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(LOGIN_COOKIE, &token, "/login", 3600, config)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(Extension(config): Extension<UiConfig>, Query(q): Query<NextQuery>) -> Response {
    login_form(StatusCode::OK, &config, String::new(), safe_next(q.next.as_deref()), None)
}

pub async fn login(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UiError> {
    let form = FormData::parse(&body);
    let email = form.get("email").unwrap_or_default().to_string();
    let next = safe_next(form.get("next"));
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(form.get("_csrf").unwrap_or_default(), &expected) {
        let msg = "This sign-in form expired (or cookies are off). Please try again.".to_string();
        return Ok(login_form(StatusCode::FORBIDDEN, &config, email, next, Some(msg)));
    }
    let password = form.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.as_str()).unwrap_or_default();
    Ok(match s.app.sign_in(&email, password, &client, &config.sign_in).await? {
        SignIn::Session { secret, .. } => {
            let max_age = config.sign_in.session.lifetime.as_secs();
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            for c in [
                set_cookie(SESSION_COOKIE, &secret, "/", max_age, &config),
                set_cookie(LOGIN_COOKIE, "", "/login", 0, &config),
            ] {
                h.append(header::SET_COOKIE, HeaderValue::from_str(&c).map_err(|e| UiError::internal(e.to_string()))?);
            }
            resp
        }
        SignIn::Refused => {
            let msg = "That email and password do not match an account.".to_string();
            login_form(StatusCode::UNAUTHORIZED, &config, email, next, Some(msg))
        }
        SignIn::Throttled { retry_after } => {
            let msg = format!(
                "Too many failed sign-ins. For your account's safety, try again in {}.",
                short_duration(retry_after.max(jiff::SignedDuration::from_mins(1)))
            );
            let mut resp = login_form(StatusCode::TOO_MANY_REQUESTS, &config, email, next, Some(msg));
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            resp
        }
    })
}

pub async fn logout(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    p: Posted,
) -> Result<Response, UiError> {
    s.app.sign_out(&p.viewer.secret).await?;
    let mut resp = Redirect::to("/login").into_response();
    let gone = set_cookie(SESSION_COOKIE, "", "/", 0, &config);
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&gone).map_err(|e| UiError::internal(e.to_string()))?);
    Ok(resp)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    errors: FieldErrors,
    done: bool,
}

pub async fn password_page(viewer: Viewer) -> Response {
    html(
        StatusCode::OK,
        &PasswordPage { chrome: Chrome::of(&viewer, "account"), errors: FieldErrors::default(), done: false },
    )
}

pub async fn change_password(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let field = |n: &str| p.form.0.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let (current, new, confirm) = (field("current_password"), field("new_password"), field("confirm_password"));
    let result = if new != confirm {
        Err(AppError::field("confirm_password", "does not match the new password"))
    } else {
        s.app.change_password(&p.viewer.who, &current, &new).await
    };
    let (status, errors, done) = match result {
        Ok(()) => (StatusCode::OK, FieldErrors::default(), true),
        Err(AppError::Validation(f)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, FieldErrors::renamed(f, &[("password", "new_password")]), false)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(html(status, &PasswordPage { chrome: Chrome::of(&p.viewer, "account"), errors, done }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_follow_sign_in() {
        assert_eq!(safe_next(Some("/cases/case_1?x=1")), "/cases/case_1?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/cases");
        assert_eq!(safe_next(Some("/\\evil.example")), "/cases");
        assert_eq!(safe_next(Some("https://evil.example/")), "/cases");
        assert_eq!(safe_next(None), "/cases");
    }
}
