//! `/api/v1/views`: predefined and saved views, their cases and their counts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::views::AnyView;
use casedesk_domain::view::{DEFAULT_COLUMNS, ViewInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{CaseListItemResponse, created};
use super::{ListResponse, QueryReader, nullable, parse_bool, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewResponse {
    /// A predefined view's id is a word (`my-cases`); a saved view's starts with `vw_`.
    pub id: String,
    pub name: String,
    /// In the search syntax (docs/search.md).
    pub query: String,
    pub columns: Vec<String>,
    pub ordering: &'static str,
    /// predefined, personal, queue or organization
    pub scope: &'static str,
    pub queue_id: Option<String>,
    /// Null for a predefined view.
    pub created_by: Option<String>,
    /// With `counts=true`: how many cases the view holds (null if its query no longer reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<Option<i64>>,
}

impl From<&AnyView> for ViewResponse {
    fn from(v: &AnyView) -> Self {
        match v {
            AnyView::Predefined(p) => ViewResponse {
                id: p.id.into(),
                name: p.name.into(),
                query: p.query.into(),
                columns: DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
                ordering: p.ordering.as_str(),
                scope: "predefined",
                queue_id: None,
                created_by: None,
                count: None,
            },
            AnyView::Saved(v) => ViewResponse {
                id: v.id.clone(),
                name: v.name.clone(),
                query: v.query.clone(),
                columns: v.columns.clone(),
                ordering: v.ordering.as_str(),
                scope: v.scope.as_str(),
                queue_id: v.queue_id.clone(),
                created_by: Some(v.created_by.clone()),
                count: None,
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewsResponse {
    pub data: Vec<ViewResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    pub name: Option<String>,
    /// In the search syntax; checked when saved (422 on `query` saying where).
    pub query: Option<String>,
    /// Columns to show: case_number, subject, status, custom_status, priority, type, queue,
    /// assignee, requester, contact, account, tags, category, funnel_stage, created_at, updated_at,
    /// closed_at, due_at, sla, time_spent, or cf.<key>.
    pub columns: Option<Vec<String>>,
    /// created_at, -created_at (default), updated_at, -updated_at, priority, -priority
    pub ordering: Option<String>,
    /// personal (default), queue (its members see it) or organization. Shared views are for
    /// admins to make.
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub queue_id: Option<Option<String>>,
}

impl From<ViewRequest> for ViewInput {
    fn from(r: ViewRequest) -> Self {
        ViewInput {
            name: r.name,
            query: r.query,
            columns: r.columns,
            ordering: r.ordering,
            scope: r.scope,
            queue_id: r.queue_id,
        }
    }
}

/// Every view the caller sees: the predefined ones, then saved ones. `counts=true` adds how many
/// cases each holds.
#[utoipa::path(get, path = "/api/v1/views", tag = "views",
    params(("counts" = Option<bool>, Query, description = "Add each view's number of cases")),
    responses((status = 200, body = ViewsResponse), (status = 422, body = Problem)))]
pub async fn list_views(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ViewsResponse>, ApiError> {
    let mut r = QueryReader::new(q, &["counts"]);
    let counts = r.parse("counts", parse_bool);
    r.finish()?;
    let views = s.app.list_views(&actor).await?;
    let mut data: Vec<ViewResponse> = views.iter().map(ViewResponse::from).collect();
    if counts == Some(true) {
        let n = s.app.count_views(&actor, &views).await?;
        for (v, n) in data.iter_mut().zip(n) {
            v.count = Some(n);
        }
    }
    Ok(Json(ViewsResponse { data }))
}

/// Save a view.
#[utoipa::path(post, path = "/api/v1/views", tag = "views", request_body = ViewRequest,
    responses((status = 201, body = ViewResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_view(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<ViewRequest>,
) -> Result<Response, ApiError> {
    let v = s.app.create_view(&actor, body.value.into()).await?;
    Ok(created(format!("/api/v1/views/{}", v.id), None, false, ViewResponse::from(&AnyView::Saved(v))))
}

#[utoipa::path(get, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)),
    responses((status = 200, body = ViewResponse), (status = 404, body = Problem)))]
pub async fn get_view(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ViewResponse>, ApiError> {
    Ok(Json(ViewResponse::from(&s.app.get_view(&actor, &id).await?)))
}

/// Change a saved view (its creator, or an admin for a shared one).
#[utoipa::path(patch, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)), request_body = ViewRequest,
    responses((status = 200, body = ViewResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_view(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ViewRequest>,
) -> Result<Json<ViewResponse>, ApiError> {
    let v = s.app.update_view(&actor, &id, body.value.into()).await?;
    Ok(Json(ViewResponse::from(&AnyView::Saved(v))))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_view(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_view(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cases a view shows, in its order, a page at a time.
#[utoipa::path(get, path = "/api/v1/views/{id}/cases", tag = "views",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<CaseListItemResponse>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn view_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<ListResponse<CaseListItemResponse>>, ApiError> {
    let page = simple_page(q)?;
    let (_, cases) = s.app.view_cases(&actor, &id, &page).await?;
    Ok(Json(ListResponse::new(cases, CaseListItemResponse::from)))
}
