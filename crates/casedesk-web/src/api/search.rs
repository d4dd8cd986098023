//! `/api/v1/search/cases`: the search syntax, with where the text matched.

use axum::Json;
use axum::extract::State;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::CaseListItemResponse;
use super::{ListResponse, QueryReader};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

/// Where the query's text matched a field.
#[derive(Debug, Serialize, ToSchema)]
pub struct HighlightResponse {
    /// subject, description, contact (the name of the case's contact) or comment
    pub field: &'static str,
    /// For a match in a comment: which one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    /// The text around the first match ("…" where it is cut).
    pub fragment: String,
    /// Each match as `[start, end)`, in characters (Unicode scalar values) of `fragment`.
    pub matches: Vec<[usize; 2]>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitResponse {
    #[serde(flatten)]
    pub item: CaseListItemResponse,
    /// Where the text matched the subject, the description and the contact's name; when it
    /// matched none of them, the first comment it matched. Empty when the query has no text.
    pub highlights: Vec<HighlightResponse>,
}

/// Search cases with the search syntax: free text and "phrases" (over subject, description,
/// comments and the names of the case's contact and requester) combined with conditions such as `status:open,pending priority>=high assignee:me
/// -tag:spam updated<7d` (docs/search.md). A query that cannot be read is a 422 on `q` saying at
/// which character and why.
#[utoipa::path(get, path = "/api/v1/search/cases", tag = "cases",
    params(("q" = String, Query, description = "The query"),
        ("ordering" = Option<String>, Query, description = "relevance (default when the query has words: best match first), created_at, -created_at (default otherwise), updated_at, -updated_at, priority, -priority"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<SearchHitResponse>), (status = 422, body = Problem)))]
pub async fn search_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<SearchHitResponse>>, ApiError> {
    let mut r = QueryReader::new(q, &["q", "ordering"]);
    let text = r.one("q").unwrap_or_default();
    // A search is for finding: the best match first unless told otherwise.
    let ordering = r.parse("ordering", Ordering::parse).unwrap_or(Ordering::Relevance);
    let page = r.page();
    r.finish()?;
    let req = ListRequest { filter: CaseFilter::default(), ordering, limit: page.limit, cursor: page.cursor };
    let (page, words) = s.app.search_cases(&actor, &req, Some(&text)).await?;
    let highlights = s.app.highlights(&actor, &page.items, &words).await?;
    let mut highlights = highlights.into_iter();
    Ok(Json(ListResponse::new(page, |item| SearchHitResponse {
        item: CaseListItemResponse::from(item),
        highlights: highlights
            .next()
            .unwrap_or_default()
            .into_iter()
            .map(|h| HighlightResponse {
                field: h.field,
                comment_id: h.comment_id,
                fragment: h.highlight.fragment,
                matches: h.highlight.matches.into_iter().map(|(s, e)| [s, e]).collect(),
            })
            .collect(),
    })))
}
