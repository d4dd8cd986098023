//! `/api/v1/events`: the organization's change feed.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::TimelineEventResponse;
use super::{QueryReader, parse_limit};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEventResponse {
    pub case_id: String,
    #[serde(flatten)]
    pub event: TimelineEventResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResponse {
    pub data: Vec<FeedEventResponse>,
    /// Pass as `after` to continue. Always given once the feed has events, also when this page
    /// is empty, so a client can store it and poll.
    pub cursor: Option<String>,
    /// More events are ready now; ask again at once.
    pub has_more: bool,
}

/// Every case event of the organization, each once, in an order that never places a new event
/// behind a cursor already handed out: sync incrementally by passing the last `cursor` as `after`.
#[utoipa::path(get, path = "/api/v1/events", tag = "cases",
    params(("after" = Option<String>, Query, description = "The `cursor` of the previous page; omit to start at the beginning"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)")),
    responses((status = 200, body = FeedResponse), (status = 422, body = Problem)))]
pub async fn event_feed(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<FeedResponse>, ApiError> {
    let mut r = QueryReader::new(q, &["after"]);
    let after = r.one("after");
    let limit = r.parse("limit", parse_limit).unwrap_or(casedesk_domain::list::DEFAULT_LIMIT);
    r.finish()?;
    let page = s.app.event_feed(&actor, after.as_deref(), limit).await?;
    Ok(Json(FeedResponse {
        data: page
            .items
            .into_iter()
            .map(|e| FeedEventResponse { case_id: e.case_id.clone(), event: TimelineEventResponse::from(e) })
            .collect(),
        cursor: page.cursor,
        has_more: page.has_more,
    }))
}
