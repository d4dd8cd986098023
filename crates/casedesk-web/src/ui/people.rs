//! Contacts and accounts: lists, and each one's page with its cases (and an account's contacts),
//! from which a new case for them is opened (seed 000, "New Case" from the customer's record).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::store::{ContactFilter, PageRequest};
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};

use super::cases::directory;
use super::display::{CaseRow, Chrome};
use super::error::{UiError, html};
use super::session::Viewer;
use crate::AppState;

/// Rows per page of a list, and cases shown on a record's page (newest first).
const PAGE: u32 = 50;

#[derive(serde::Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
}

/// A contact or an account in a list.
pub struct PersonRow {
    pub href: String,
    pub name: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    chrome: Chrome,
    title: &'static str,
    rows: Vec<PersonRow>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    /// `Contact` or `Account`.
    kind: &'static str,
    name: String,
    facts: Vec<(&'static str, String)>,
    /// An account's contacts.
    members: Vec<PersonRow>,
    /// Where "New case" leads: the new-case form for this contact or account.
    new_case: String,
    rows: Vec<CaseRow>,
    more: bool,
}

fn next_href(path: &str, cursor: Option<String>) -> Option<String> {
    cursor.map(|c| format!("{path}?cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()))
}

pub async fn contacts(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let page =
        s.app.list_contacts(actor, &ContactFilter::default(), &PageRequest { limit: PAGE, cursor: q.cursor }).await?;
    let rows = page
        .items
        .into_iter()
        .map(|c| PersonRow {
            href: format!("/contacts/{}", c.id),
            detail: [c.email, c.phone].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            name: c.name,
        })
        .collect();
    let next = next_href("/contacts", page.next_cursor);
    Ok(html(StatusCode::OK, &PeoplePage { chrome: Chrome::of(&viewer, "contacts"), title: "Contacts", rows, next }))
}

pub async fn accounts(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let page = s.app.list_accounts(actor, &PageRequest { limit: PAGE, cursor: q.cursor }).await?;
    let rows = page
        .items
        .into_iter()
        .map(|a| PersonRow {
            href: format!("/accounts/{}", a.id),
            detail: [a.domain, a.tier].into_iter().flatten().collect::<Vec<_>>().join(" · "),
            name: a.name,
        })
        .collect();
    let next = next_href("/accounts", page.next_cursor);
    Ok(html(StatusCode::OK, &PeoplePage { chrome: Chrome::of(&viewer, "accounts"), title: "Accounts", rows, next }))
}

/// The newest cases matching `filter`, and whether there are more.
async fn cases_of(s: &AppState, viewer: &Viewer, filter: CaseFilter) -> Result<(Vec<CaseRow>, bool), UiError> {
    let actor = &viewer.who.actor;
    let req = ListRequest { filter, ordering: Ordering::CreatedDesc, limit: PAGE, cursor: None };
    let page = s.app.list_cases(actor, &req).await?;
    let dir = directory(&s.app, actor).await?;
    let now = s.app.clock.now();
    Ok((page.items.iter().map(|i| CaseRow::new(i, &dir.names, now)).collect(), page.next_cursor.is_some()))
}

pub async fn contact(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let c = s.app.get_contact(actor, &id).await?;
    let account = match &c.account_id {
        Some(a) => s.app.get_account(actor, a).await.ok(),
        None => None,
    };
    let (rows, more) =
        cases_of(&s, &viewer, CaseFilter { contact_id: Some(c.id.clone()), ..CaseFilter::default() }).await?;
    let facts = [("Email", c.email.clone()), ("Phone", c.phone.clone()), ("Account", account.map(|a| a.name))]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let page = PersonPage {
        chrome: Chrome::of(&viewer, "contacts"),
        kind: "Contact",
        new_case: format!("/cases/new?contact_id={}", c.id),
        name: c.name,
        facts,
        members: Vec::new(),
        rows,
        more,
    };
    Ok(html(StatusCode::OK, &page))
}

pub async fn account(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let a = s.app.get_account(actor, &id).await?;
    let filter = ContactFilter { account_id: Some(a.id.clone()), ..ContactFilter::default() };
    let members = s
        .app
        .list_contacts(actor, &filter, &PageRequest::first(PAGE))
        .await?
        .items
        .into_iter()
        .map(|c| PersonRow { href: format!("/contacts/{}", c.id), detail: c.email.unwrap_or_default(), name: c.name })
        .collect();
    let (rows, more) =
        cases_of(&s, &viewer, CaseFilter { account_id: Some(a.id.clone()), ..CaseFilter::default() }).await?;
    let facts = [("Domain", a.domain.clone()), ("Tier", a.tier.clone())]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let page = PersonPage {
        chrome: Chrome::of(&viewer, "accounts"),
        kind: "Account",
        new_case: format!("/cases/new?account_id={}", a.id),
        name: a.name,
        facts,
        members,
        rows,
        more,
    };
    Ok(html(StatusCode::OK, &page))
}
