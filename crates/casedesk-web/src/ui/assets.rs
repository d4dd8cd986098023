//! Static assets, embedded in the binary: nothing is fetched from elsewhere at run time.
//!
//! Each is served with its content hash as `ETag` (a revalidation answers 304) and a short
//! public cache lifetime, so a new release's files are picked up within the hour.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::UiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

fn asset(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(body))[..16]);
    Asset { name, content_type, body, etag }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        asset("app.css", "text/css; charset=utf-8", include_bytes!("../../assets/app.css")),
        asset("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/app.js")),
        asset("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/htmx.min.js")),
    ]
});

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, UiError> {
    let a = ASSETS.iter().find(|a| a.name == name).ok_or(UiError::NotFound)?;
    let etag = HeaderValue::from_str(&a.etag).map_err(|e| UiError::internal(e.to_string()))?;
    let cache = HeaderValue::from_static("public, max-age=3600");
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == a.etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)]).into_response());
    }
    let ct = HeaderValue::from_static(a.content_type);
    Ok(([(header::CONTENT_TYPE, ct), (header::ETAG, etag), (header::CACHE_CONTROL, cache)], a.body).into_response())
}
