//! `/api/v1/exports/cases.xlsx` and `/api/v1/exports/cases.csv`: a query or a view, as a
//! spreadsheet download.
//!
//! The request is checked before the answer starts, so a mistake is an ordinary 422. CSV then
//! streams as the cases are read; an `.xlsx` is built into an anonymous temporary file (deleted
//! by the system when it is closed) and streamed from there.

use std::io::Seek;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::export::ExportRequest;
use casedesk_core::{Actor, App, AppError};
use casedesk_domain::list::Ordering;

use super::QueryReader;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

const TAG: &str = "cases";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Batches of CSV held between the reader of the cases and a slow client.
const CSV_BUFFER: usize = 4;

/// Reads `q`, `view`, `columns` and `ordering`; anything else is a 422 naming it.
fn export_request(q: QueryPairs) -> Result<ExportRequest, ApiError> {
    let mut r = QueryReader::new(q, &["q", "view", "columns", "ordering"]);
    for paging in ["limit", "cursor"] {
        if r.one(paging).is_some() {
            r.error(paging, "an export has no pages; it holds every case of the query or view");
        }
    }
    let columns = r.all("columns");
    let req = ExportRequest {
        query: r.one("q"),
        view: r.one("view"),
        columns: (!columns.is_empty()).then_some(columns),
        ordering: r.parse("ordering", Ordering::parse),
    };
    r.finish()?;
    Ok(req)
}

fn download(resp: &mut Response, content_type: &'static str, disposition: &'static str) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// Export cases as an `.xlsx` workbook: one sheet with a bold, frozen header row, an autofilter,
/// and typed cells (numbers, booleans, times in the organization's time zone with a date format).
/// `view` exports a predefined or saved view with its query, columns and order; `q` (the search
/// syntax) narrows it or stands alone; `columns` and `ordering` override the view's. At most
/// 1,048,575 cases fit in a sheet.
#[utoipa::path(get, path = "/api/v1/exports/cases.xlsx", tag = TAG,
    params(("q" = Option<String>, Query, description = "A query in the search syntax"),
        ("view" = Option<String>, Query, description = "A predefined (`my-cases`) or saved (`vw_…`) view"),
        ("columns" = Option<String>, Query, description = "Comma-separated view columns (`case_number,subject,cf.order_id`); default: the view's"),
        ("ordering" = Option<String>, Query, description = "created_at, -created_at (default), updated_at, -updated_at, priority, -priority")),
    responses((status = 200, description = "The workbook",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = Problem)))]
pub async fn export_xlsx(State(s): State<AppState>, Auth(actor): Auth, q: QueryPairs) -> Result<Response, ApiError> {
    Ok(xlsx_download(&s.app, &actor, export_request(q)?).await?)
}

/// An export as an `.xlsx` download (also the web UI's export link).
pub(crate) async fn xlsx_download(app: &App, actor: &Actor, req: ExportRequest) -> Result<Response, AppError> {
    let export = app.prepare_export(actor, req).await?;
    let mut file = casedesk_core::export::temp_file().map_err(internal)?;
    let writer = file.try_clone().map_err(internal)?;
    app.write_xlsx(&export, writer, &|_| {}).await?;
    file.rewind().map_err(internal)?;
    let size = file.metadata().map_err(internal)?.len();
    let mut resp = super::reader_body(tokio::fs::File::from_std(file)).into_response();
    download(&mut resp, XLSX, "attachment; filename=\"cases.xlsx\"");
    resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    Ok(resp)
}

/// Export cases as CSV (RFC 4180, UTF-8, a header row), streamed as the cases are read. The same
/// parameters as the `.xlsx` export. Times are RFC 3339 in the organization's time zone; text
/// that a spreadsheet would run as a formula starts with `'`.
#[utoipa::path(get, path = "/api/v1/exports/cases.csv", tag = TAG,
    params(("q" = Option<String>, Query, description = "A query in the search syntax"),
        ("view" = Option<String>, Query, description = "A predefined (`my-cases`) or saved (`vw_…`) view"),
        ("columns" = Option<String>, Query, description = "Comma-separated view columns; default: the view's"),
        ("ordering" = Option<String>, Query, description = "created_at, -created_at (default), updated_at, -updated_at, priority, -priority")),
    responses((status = 200, description = "The CSV", content_type = "text/csv"), (status = 422, body = Problem)))]
pub async fn export_csv(State(s): State<AppState>, Auth(actor): Auth, q: QueryPairs) -> Result<Response, ApiError> {
    let export = s.app.prepare_export(&actor, export_request(q)?).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CSV_BUFFER);
    let app = s.app.clone();
    tokio::spawn(async move {
        let send = |b: Vec<u8>| {
            let tx = tx.clone();
            async move {
                tx.send(Ok(Bytes::from(b)))
                    .await
                    .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
            }
        };
        if let Err(e) = app.write_csv(&export, send, &|_| {}).await {
            // The answer has started: the client sees a cut-off body instead of a problem.
            tracing::warn!(error = %e, "CSV export stopped");
            let _ = tx.send(Err(std::io::Error::other("the export stopped"))).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let mut resp = Body::from_stream(stream).into_response();
    download(&mut resp, "text/csv; charset=utf-8", "attachment; filename=\"cases.csv\"");
    Ok(resp)
}

fn internal(e: std::io::Error) -> AppError {
    AppError::Internal(format!("export file: {e}"))
}
