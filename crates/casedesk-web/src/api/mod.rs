//! The `/api/v1` JSON API: one module per resource, each with its request and response types
//! (which are also the OpenAPI schemas) and thin handlers that call a use case.

pub mod activities;
pub mod ai;
pub mod automation;
pub mod bulk;
pub mod cases;
pub mod channels;
pub mod csat;
pub mod directory;
pub mod email;
pub mod events;
pub mod exports;
pub mod files;
pub mod health;
pub mod imports;
pub mod intake;
pub mod macros;
pub mod milestones;
pub mod org;
pub mod queues;
pub mod reports;
pub mod search;
pub mod signing_keys;
pub mod sla;
pub mod time;
pub mod trash;
pub mod views;
pub mod visitors;
pub mod webhooks;
pub mod workflow;

use casedesk_core::store::PageRequest;
use casedesk_domain::FieldError;
use casedesk_domain::list::{DEFAULT_LIMIT, MAX_LIMIT};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::QueryPairs;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

impl<T> ListResponse<T> {
    pub fn new<U>(page: casedesk_core::store::Page<U>, f: impl FnMut(U) -> T) -> Self {
        let has_more = page.next_cursor.is_some();
        ListResponse { data: page.items.into_iter().map(f).collect(), next_cursor: page.next_cursor, has_more }
    }
}

/// Deserializes a field that distinguishes "absent" (`None`) from `null` (`Some(None)`).
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Reads `limit` and `cursor`; reports other parameters not in `allowed` as unknown.
pub struct QueryReader {
    pairs: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl QueryReader {
    pub fn new(q: QueryPairs, allowed: &[&str]) -> Self {
        let mut errors = Vec::new();
        for (k, _) in &q.0 {
            if k != "limit" && k != "cursor" && !allowed.contains(&k.as_str()) {
                errors.push(FieldError::new(
                    k.clone(),
                    format!("unknown query parameter; expected one of limit, cursor, {}", allowed.join(", ")),
                ));
            }
        }
        QueryReader { pairs: q.0, errors }
    }

    /// All values of `name`, comma-separated values split.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .collect()
    }

    pub fn one(&mut self, name: &str) -> Option<String> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            self.errors.push(FieldError::new(name, "give this parameter once"));
        }
        first.filter(|v| !v.is_empty())
    }

    pub fn parse<T>(&mut self, name: &str, f: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let v = self.one(name)?;
        match f(&v) {
            Ok(t) => Some(t),
            Err(m) => {
                self.errors.push(FieldError::new(name, m));
                None
            }
        }
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    pub fn page(&mut self) -> PageRequest {
        let limit = self.parse("limit", parse_limit).unwrap_or(DEFAULT_LIMIT);
        PageRequest { limit, cursor: self.one("cursor") }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::fields(self.errors)) }
    }
}

/// A query parameter's boolean: `true`/`1` or `false`/`0`.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

pub fn parse_limit(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("must be a number from 1 to {MAX_LIMIT}")),
    }
}

/// An instant given as RFC 3339 or as a date (meaning 00:00 UTC that day).
pub fn parse_instant(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| "must be an RFC 3339 time (2026-03-01T12:00:00Z) or a date (2026-03-01)".to_string())
}

/// A response body that streams what `reader` reads, 64 KiB at a time.
pub fn reader_body<R>(reader: R) -> axum::body::Body
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let stream = futures_util::stream::unfold(reader, |mut r| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match r.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), r))
            }
            Err(e) => Some((Err(e), r)),
        }
    });
    axum::body::Body::from_stream(stream)
}

/// Lists a page of `T` with only `limit` and `cursor` allowed.
pub fn simple_page(q: QueryPairs) -> Result<PageRequest, ApiError> {
    let mut r = QueryReader::new(q, &[]);
    let page = r.page();
    r.finish()?;
    Ok(page)
}
