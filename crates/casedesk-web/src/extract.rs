//! Request extractors: the caller's identity, JSON bodies with precise errors, the
//! `Idempotency-Key` header, `If-Match`, and query strings read strictly.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use casedesk_core::idempotency::IdemKey;
use casedesk_core::{Actor, AppError};
use casedesk_domain::FieldError;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller, from `Authorization: Bearer <token>`.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value =
            parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(AppError::Unauthorized)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AppError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AppError::Unauthorized.into());
        }
        Ok(Auth(state.app.authenticate(token.trim()).await?))
    }
}

/// A JSON body of type `T`, plus a hash of the request (method, path, body) for idempotency.
///
/// Errors are precise: invalid JSON is a 400; a well-formed body with a wrong, missing or
/// unknown field is a 422 naming the field by its path (`priorty`, `cases[2].subject`).
pub struct JsonBody<T> {
    pub value: T,
    pub request_hash: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType("application/json"));
            }
        }
        let fingerprint = format!("{} {}", req.method(), req.uri().path());
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => ApiError::TooLarge,
            other => ApiError::BadRequest(other.body_text()),
        })?;
        let value = parse_json(&bytes)?;
        let mut hasher = Sha256::new();
        hasher.update(fingerprint.as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        Ok(JsonBody { value, request_hash: hex::encode(hasher.finalize()) })
    }
}

/// Parses `bytes` as `T`, turning serde's error into the field it is about.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => data_error(&path, &inner),
                _ => ApiError::MalformedJson(inner.to_string()),
            });
        }
    };
    de.end().map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// Names the field of a data error: serde reports unknown and missing fields at their parent's
/// path, with the field's name in backticks in the message.
fn data_error(path: &str, e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| msg.strip_prefix(p).and_then(|rest| rest.split('`').next()).map(str::to_string));
    let parent = if path == "." { "" } else { path };
    let (field, message) = match named {
        Some(name) if msg.starts_with("unknown") => {
            // serde_path_to_error already ends the path with the unknown key.
            let field = if parent.is_empty() || parent == name {
                name
            } else if parent.ends_with(&format!(".{name}")) {
                parent.to_string()
            } else {
                format!("{parent}.{name}")
            };
            let expected = msg.split_once(", expected ").map(|(_, e)| format!("; expected {e}")).unwrap_or_default();
            (field, format!("unknown field{expected}"))
        }
        Some(name) => (if parent.is_empty() { name } else { format!("{parent}.{name}") }, "is required".to_string()),
        None => (if parent.is_empty() { "body".to_string() } else { parent.to_string() }, msg),
    };
    ApiError::fields(vec![FieldError::new(field, message)])
}

/// The `Idempotency-Key` header, if sent.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => v
                .to_str()
                .map(|s| IdempotencyKey(Some(s.to_string())))
                .map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII")),
        }
    }
}

impl IdempotencyKey {
    /// Pairs the key with the request's hash.
    pub fn with(self, request_hash: &str) -> Result<Option<IdemKey>, ApiError> {
        self.0.map(|k| IdemKey::new(&k, request_hash.to_string())).transpose().map_err(ApiError::from)
    }
}

/// The version an `If-Match` header names (`"3"`, `W/"3"`); `*` and absence mean none.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().map_err(|_| ApiError::BadRequest("If-Match must be an ETag".into()))?.trim();
    if s == "*" {
        return Ok(None);
    }
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ApiError::BadRequest(format!("If-Match {s} is not an ETag this server issued")))
}

/// The ETag of a record at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A query string as (name, value) pairs, for strict parsing: unknown parameters are reported,
/// and a parameter may repeat (`status=open&status=pending`).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        Ok(QueryPairs(form_urlencoded::parse(q.as_bytes()).into_owned().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        subject: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        subject: String,
        priority: Option<String>,
        #[serde(default)]
        cases: Vec<Inner>,
    }

    fn field_of(body: &str) -> Option<String> {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::App(AppError::Validation(f))) => Some(f[0].field.clone()),
            _ => None,
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(field_of(r#"{"subject":"a","priorty":"high"}"#).as_deref(), Some("priorty"));
        assert_eq!(field_of(r#"{"priority":"high"}"#).as_deref(), Some("subject"));
        assert_eq!(field_of(r#"{"subject":5}"#).as_deref(), Some("subject"));
        assert_eq!(
            field_of(r#"{"subject":"a","cases":[{"subject":"x"},{"subjekt":"y"}]}"#).as_deref(),
            Some("cases[1].subjekt")
        );
        assert!(matches!(parse_json::<Outer>(b"{\"subject\":"), Err(ApiError::MalformedJson(_))));
        assert!(matches!(parse_json::<Outer>(b"{\"subject\":\"a\"} trailing"), Err(ApiError::MalformedJson(_))));
    }
}
