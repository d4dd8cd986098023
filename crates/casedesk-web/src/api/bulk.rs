//! `/api/v1/cases/bulk` and `/api/v1/bulk-jobs`: one action on many cases, and the background
//! jobs a query-based request becomes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::bulk::{BulkStarted, CaseResult};
use casedesk_domain::bulk::{BulkInput, BulkJob, CaseFailure, Outcome};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::nullable;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody};

const TAG: &str = "bulk";

/// One action on many cases: a list of `ids` (at most 1,000; answered when done) or everything a
/// `query` matches (a background job; answered at once with 202 and the job).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequestBody {
    /// assign, move_to_queue, set_status, close, set_priority, add_tags, remove_tags,
    /// merge_into or delete.
    pub action: String,
    pub ids: Option<Vec<String>>,
    /// In the search syntax (docs/search.md).
    pub query: Option<String>,
    /// assign: the agent, or null to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<String>>,
    /// move_to_queue: the queue.
    pub queue_id: Option<String>,
    /// set_status: new, open, pending, on_hold, resolved or closed.
    pub status: Option<String>,
    /// set_priority: low, medium, high or critical.
    pub priority: Option<String>,
    /// add_tags, remove_tags.
    pub tags: Option<Vec<String>>,
    /// merge_into: the case the others are merged into.
    pub target_id: Option<String>,
}

impl From<BulkRequestBody> for BulkInput {
    fn from(b: BulkRequestBody) -> Self {
        BulkInput {
            action: b.action,
            ids: b.ids,
            query: b.query,
            owner_id: b.owner_id,
            queue_id: b.queue_id,
            status: b.status,
            priority: b.priority,
            tags: b.tags,
            target_id: b.target_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseError {
    /// What the API would have answered for this case alone: case_closed, not_found,
    /// validation_failed, forbidden …
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResultResponse {
    pub case_id: String,
    /// changed, unchanged (it already was as asked) or failed.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CaseError>,
}

impl From<CaseResult> for CaseResultResponse {
    fn from(r: CaseResult) -> Self {
        CaseResultResponse {
            case_id: r.case_id,
            outcome: r.outcome,
            error: r.error.map(|(code, message)| CaseError { code, message }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkSummary {
    pub changed: i64,
    pub unchanged: i64,
    pub failed: i64,
}

/// The results of a bulk request on a list of ids, in the order given.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResultsResponse {
    pub action: &'static str,
    pub summary: BulkSummary,
    pub results: Vec<CaseResultResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseFailureResponse {
    pub case_id: String,
    pub code: String,
    pub message: String,
}

/// A background bulk job and how far it has got.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkJobResponse {
    pub id: String,
    /// The action as requested (`{"action": "assign", "owner_id": …}`).
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    pub query: String,
    /// queued, running, done, failed or cancelled.
    pub state: &'static str,
    /// Cases the query matched when the job was created.
    pub total: i64,
    pub processed: i64,
    pub summary: BulkSummary,
    /// The reasons of the first 1,000 failures.
    pub failures: Vec<CaseFailureResponse>,
    /// Why the job as a whole failed.
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub finished_at: Option<Timestamp>,
}

impl From<BulkJob> for BulkJobResponse {
    fn from(j: BulkJob) -> Self {
        BulkJobResponse {
            action: j.action.to_json(),
            id: j.id,
            query: j.query,
            state: j.state.as_str(),
            total: j.total,
            processed: j.processed,
            summary: BulkSummary { changed: j.changed, unchanged: j.unchanged, failed: j.failed },
            failures: j
                .failures
                .into_iter()
                .map(|CaseFailure { case_id, code, message }| CaseFailureResponse { case_id, code, message })
                .collect(),
            error: j.error,
            cancel_requested: j.cancel_requested,
            created_by: j.created_by,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

/// Apply one action to many cases. Each case is changed in its own transaction, with its own
/// timeline entries and events; one case's failure (closed, not found …) does not stop the others
/// and is reported in its result. With `ids` the answer (200) has a result per case; with `query`
/// the request becomes a background job (202, `Location: /api/v1/bulk-jobs/{id}`) acting on the
/// cases matching when it was made.
#[utoipa::path(post, path = "/api/v1/cases/bulk", tag = TAG, request_body = BulkRequestBody,
    responses((status = 200, body = BulkResultsResponse), (status = 202, body = BulkJobResponse),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn bulk_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<BulkRequestBody>,
) -> Result<Response, ApiError> {
    let req = BulkInput::from(body.value).check()?;
    let action = req.action.name();
    match s.app.bulk_cases(&actor, req).await? {
        BulkStarted::Done(results) => {
            let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count() as i64;
            let summary = BulkSummary {
                changed: count(Outcome::Changed),
                unchanged: count(Outcome::Unchanged),
                failed: count(Outcome::Failed),
            };
            let results = results.into_iter().map(CaseResultResponse::from).collect();
            Ok(Json(BulkResultsResponse { action, summary, results }).into_response())
        }
        BulkStarted::Job(job) => {
            let location = format!("/api/v1/bulk-jobs/{}", job.id);
            let mut resp = (StatusCode::ACCEPTED, Json(BulkJobResponse::from(*job))).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            Ok(resp)
        }
    }
}

/// A bulk job's progress.
#[utoipa::path(get, path = "/api/v1/bulk-jobs/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = BulkJobResponse), (status = 404, body = Problem)))]
pub async fn get_bulk_job(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<BulkJobResponse>, ApiError> {
    Ok(Json(s.app.get_bulk_job(&actor, &id).await?.into()))
}

/// Stop a bulk job: a queued one at once, a running one after the batch it is on. Cases already
/// changed stay changed.
#[utoipa::path(post, path = "/api/v1/bulk-jobs/{id}/cancel", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = BulkJobResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn cancel_bulk_job(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<BulkJobResponse>, ApiError> {
    Ok(Json(s.app.cancel_bulk_job(&actor, &id).await?.into()))
}
