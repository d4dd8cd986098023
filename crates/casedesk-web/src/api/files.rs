//! `/api/v1/cases/{id}/files`: upload (multipart, streamed to the blob store), list, download,
//! delete.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::files::Upload;
use casedesk_domain::file::CaseFile;
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::created;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Auth;

const TAG: &str = "cases";
/// How much of a refused upload is still read (and thrown away) so the client sees the 413
/// instead of a reset connection; a body declared larger than the limit plus this is refused
/// before any of it is read.
const DRAIN_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct FileResponse {
    pub id: String,
    pub case_id: String,
    /// The comment the file is attached to.
    pub comment_id: Option<String>,
    pub name: String,
    /// Checked against the content when uploaded.
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    /// Where to download the content.
    pub content_url: String,
}

impl From<&CaseFile> for FileResponse {
    fn from(f: &CaseFile) -> Self {
        FileResponse {
            id: f.id.clone(),
            case_id: f.case_id.clone(),
            comment_id: f.comment_id.clone(),
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            uploaded_by: f.uploaded_by.clone(),
            created_at: f.created_at,
            content_url: format!("/api/v1/cases/{}/files/{}/content", f.case_id, f.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilesResponse {
    pub data: Vec<FileResponse>,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the request for the OpenAPI document only.
pub struct UploadForm {
    /// The file: its part's `filename` names it and its `Content-Type` declares its type, which
    /// must agree with the content (omit it, or send application/octet-stream, to have the
    /// content name it).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("the multipart body cannot be read: {}", e.body_text()))
}

/// Reads and discards the rest of a field, counting against `left`; false once `left` is used up.
async fn drain_field(field: &mut axum::extract::multipart::Field<'_>, left: &mut u64) -> bool {
    while let Ok(Some(chunk)) = field.chunk().await {
        *left = left.saturating_sub(chunk.len() as u64);
        if *left == 0 {
            return false;
        }
    }
    true
}

/// Reads and discards what is left of a refused upload, up to [`DRAIN_BYTES`] in all.
async fn drain_rest(form: &mut Multipart, mut left: u64) {
    while let Ok(Some(mut f)) = form.next_field().await {
        if !drain_field(&mut f, &mut left).await {
            return;
        }
    }
}

/// Upload a file to the case (`multipart/form-data`, one part named `file`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/files", tag = TAG, params(("id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileResponse), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let f = receive(&s.app, &actor, &id, &headers, form, &[], |_| Ok(())).await?;
    Ok(created(format!("/api/v1/cases/{id}/files/{}", f.id), None, false, FileResponse::from(&f)))
}

/// Receives a multipart upload to case `id`: the one part named `file`, streamed to the blob
/// store. Text parts named in `texts` (the web UI's CSRF token) must come before it; each is
/// read (at most 4 KiB) and handed to `guard`, which is asked once more (with `None`) before the
/// file is taken: its refusal ends the upload with nothing stored. Any other part is a 422
/// naming it.
pub(crate) async fn receive(
    app: &casedesk_core::App,
    actor: &casedesk_core::Actor,
    id: &str,
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
    texts: &[&str],
    mut guard: impl FnMut(Option<(&str, &str)>) -> Result<(), ApiError>,
) -> Result<CaseFile, ApiError> {
    let max = app.files.max_bytes;
    let declared_length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > max.saturating_add(DRAIN_BYTES)) {
        return Err(ApiError::App(casedesk_core::AppError::TooLarge { limit: max }));
    }
    // The case first: a missing case is a 404 whatever the body.
    let mut upload = Some(app.begin_upload(actor, id).await?);
    let mut form = form.map_err(|_| ApiError::UnsupportedMediaType("multipart/form-data"))?;
    let mut done: Option<(Upload, String, Option<String>)> = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(&e))? {
        let part = field.name().unwrap_or_default().to_string();
        if texts.contains(&part.as_str()) && done.is_none() {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
                value.extend_from_slice(&chunk);
                if value.len() > 4096 {
                    return Err(ApiError::field(&part, "is too long"));
                }
            }
            guard(Some((&part, String::from_utf8_lossy(&value).trim())))?;
            continue;
        }
        if part != "file" {
            return Err(ApiError::field(&part, "unknown part; send the file as the one part named file"));
        }
        guard(None)?;
        let Some(mut upload) = upload.take() else {
            return Err(ApiError::field("file", "send one file per request"));
        };
        let name = field.file_name().unwrap_or_default().to_string();
        let declared = field.content_type().map(str::to_string);
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if let Err(e) = upload.write(&chunk).await {
                drop(upload);
                let mut left = DRAIN_BYTES;
                if drain_field(&mut field, &mut left).await {
                    drop(field);
                    drain_rest(&mut form, left).await;
                }
                return Err(e.into());
            }
        }
        done = Some((upload, name, declared));
    }
    let Some((upload, name, declared)) = done else {
        return Err(ApiError::field("file", "send the file as a multipart part named file"));
    };
    Ok(app.finish_upload(upload, &name, declared.as_deref()).await?)
}

/// The case's files, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/files", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = FilesResponse), (status = 404, body = Problem)))]
pub async fn list_files(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<FilesResponse>, ApiError> {
    let files = s.app.list_files(&actor, &id).await?;
    Ok(Json(FilesResponse { data: files.iter().map(FileResponse::from).collect() }))
}

/// One file's details.
#[utoipa::path(get, path = "/api/v1/cases/{id}/files/{file_id}", tag = TAG,
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, body = FileResponse), (status = 404, body = Problem)))]
pub async fn get_file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<Json<FileResponse>, ApiError> {
    let f = s.app.case_file(&actor, &id, &file_id).await?;
    Ok(Json(FileResponse::from(&f)))
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII stand-in for old
/// clients and the exact name, percent-encoded, for the rest.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Download a file: its content with its type, size and name. Always an attachment, never
/// rendered as a page of this site.
#[utoipa::path(get, path = "/api/v1/cases/{id}/files/{file_id}/content", tag = TAG,
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, description = "The file's content", content_type = "application/octet-stream"),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"), (status = 404, body = Problem)))]
pub async fn download_file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Ok(download(&s.app, &actor, &id, &file_id, &headers).await?)
}

/// A file's content as a download (304 when the browser has it), for the API and the web UI.
pub(crate) async fn download(
    app: &casedesk_core::App,
    actor: &casedesk_core::Actor,
    id: &str,
    file_id: &str,
    headers: &HeaderMap,
) -> Result<Response, casedesk_core::AppError> {
    let (f, blob) = app.download_file(actor, id, file_id).await?;
    Ok(file_response(&f, blob, headers))
}

/// A file's content as a download (304 when the browser has it): always an attachment, never
/// rendered as a page of this site.
pub(crate) fn file_response(f: &CaseFile, blob: casedesk_core::blobs::BlobReader, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", f.sha256);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut resp = super::reader_body(blob.reader).into_response();
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    set(h, header::CONTENT_TYPE, &f.content_type);
    set(h, header::CONTENT_LENGTH, &blob.size.to_string());
    set(h, header::CONTENT_DISPOSITION, &content_disposition(&f.name));
    set(h, header::ETAG, &etag);
    set(h, header::CACHE_CONTROL, "private, max-age=0, must-revalidate");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox");
    resp
}

/// Delete a file (the timeline records it).
#[utoipa::path(delete, path = "/api/v1/cases/{id}/files/{file_id}", tag = TAG,
    params(("id" = String, Path), ("file_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_file(&actor, &id, &file_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn dispositions_carry_an_ascii_name_and_the_exact_one() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("März \"Q1\".xlsx"),
            "attachment; filename=\"M_rz _Q1_.xlsx\"; filename*=UTF-8''M%C3%A4rz%20%22Q1%22.xlsx"
        );
    }
}
