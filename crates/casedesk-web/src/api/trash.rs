//! `/api/v1/trash/cases`: deleted cases, restorable for 30 days, then purged (admins only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::store::TrashedCase;
use casedesk_core::trash::TRASH_RETENTION;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::{CaseResponse, with_etag};
use super::{ListResponse, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

const TAG: &str = "trash";

/// A deleted case: the case as it was, and when it goes for good.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrashedCaseResponse {
    #[serde(flatten)]
    pub case: CaseResponse,
    #[schema(value_type = String)]
    pub deleted_at: Timestamp,
    pub deleted_by: Option<String>,
    /// When the case is purged unless restored first.
    #[schema(value_type = String)]
    pub purge_at: Timestamp,
}

impl From<TrashedCase> for TrashedCaseResponse {
    fn from(t: TrashedCase) -> Self {
        TrashedCaseResponse {
            case: t.case.into(),
            deleted_at: t.deleted_at,
            deleted_by: t.deleted_by,
            purge_at: t.deleted_at + TRASH_RETENTION,
        }
    }
}

/// Deleted cases, most recently deleted first.
#[utoipa::path(get, path = "/api/v1/trash/cases", tag = TAG,
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<TrashedCaseResponse>), (status = 403, body = Problem)))]
pub async fn list_trash(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<TrashedCaseResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_trash(&actor, &page).await?, TrashedCaseResponse::from)))
}

/// Restore a deleted case, as it was; its timeline says who restored it.
#[utoipa::path(post, path = "/api/v1/trash/cases/{id}/restore", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = CaseResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn restore_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let case = s.app.restore_case(&actor, &id).await?;
    Ok(with_etag(case.version, CaseResponse::from(case)))
}

/// Purge a deleted case now: it, its comments, files, links, time and timeline are gone for good.
/// The change feed keeps a `case.purged` entry.
#[utoipa::path(delete, path = "/api/v1/trash/cases/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn purge_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.purge_case(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
