//! Pages for admins. The use cases decide who may see them: an agent gets the 403 page.
//!
//! The trash: deleted cases, newest first, each restorable (they are purged after 30 days).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::store::PageRequest;
use casedesk_domain::badge;
use serde::Deserialize;

use super::display::Chrome;
use super::error::{UiError, html};
use super::session::{Posted, Viewer};
use crate::AppState;

pub struct TrashRow {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub deleted: String,
    pub deleted_by: String,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    chrome: Chrome,
    rows: Vec<TrashRow>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
}

pub async fn trash(State(s): State<AppState>, viewer: Viewer, Query(q): Query<PageQuery>) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let page = s.app.list_trash(actor, &PageRequest { limit: 50, cursor: q.cursor }).await?;
    let users = s.app.list_users(actor, &PageRequest::first(200)).await?.items;
    let name = |id: &Option<String>| {
        id.as_ref()
            .map(|id| users.iter().find(|u| &u.id == id).map_or(id.clone(), |u| u.name.clone()))
            .unwrap_or_default()
    };
    let now = s.app.clock.now();
    let rows = page
        .items
        .iter()
        .map(|t| TrashRow {
            id: t.case.id.clone(),
            number: t.case.case_number,
            subject: t.case.subject.clone(),
            deleted: badge::ago(t.deleted_at, now),
            deleted_by: name(&t.deleted_by),
        })
        .collect();
    let next = page
        .next_cursor
        .map(|c| format!("/admin/trash?cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()));
    Ok(html(StatusCode::OK, &TrashPage { chrome: Chrome::of(&viewer, "trash"), rows, next }))
}

pub async fn restore(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let case = s.app.restore_case(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{}", case.id)).into_response())
}
