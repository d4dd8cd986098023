//! The case pages: the list with its views and search, the new-case form, and a case with its
//! timeline, header controls and composer.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::cases::CommentInput;
use casedesk_core::export::ExportRequest;
use casedesk_core::store::PageRequest;
use casedesk_core::views::AnyView;
use casedesk_core::{Actor, App, AppError};
use casedesk_domain::Errors;
use casedesk_domain::case::{CasePatch, CaseType, Channel, NewCase, Priority, Status};
use casedesk_domain::ids::IdKind;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::timeline::{AuthorType, Event, FIELD_CHANGED};
use casedesk_domain::view::ViewInput;
use serde::Deserialize;

use super::bulk::{BulkBar, BulkDone};
use super::compose::Compose;
use super::display::{Badge, CaseRow, Chrome, Entry, FieldErrors, Names, label, sla_badge, status_label, timeline};
use super::error::{UiError, html};
use super::live::{Person, PresenceLine};
use super::panels::Panels;
use super::session::{FormData, Posted, Viewer};
use super::time::TimePanel;
use crate::AppState;

/// Cases per list page.
const PAGE: u32 = 50;
/// Timeline events read for a case page.
const EVENTS: u32 = 200;
/// The view the list opens with.
const DEFAULT_VIEW: &str = "all-open";

/// An option of a `<select>`.
#[derive(Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A labelled `<select>` of a form.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    /// The label of the empty choice, if the field may be empty.
    pub empty: Option<&'static str>,
    pub options: Vec<Opt>,
}

pub(super) fn select(
    name: &'static str,
    label: &'static str,
    empty: Option<&'static str>,
    options: Vec<Opt>,
) -> Select {
    Select { name, label, empty, options }
}

pub(super) fn options(items: impl IntoIterator<Item = (String, String)>, current: Option<&str>) -> Vec<Opt> {
    items.into_iter().map(|(value, label)| Opt { selected: current == Some(value.as_str()), value, label }).collect()
}

pub(super) fn enum_options<T: Copy>(all: &[T], as_str: fn(T) -> &'static str, current: &str) -> Vec<Opt> {
    options(all.iter().map(|v| (as_str(*v).to_string(), label(as_str(*v)))), Some(current))
}

/// The users and queues of the organization, for names and choices.
pub struct Directory {
    pub names: Names,
    /// Active users: id and name.
    pub users: Vec<(String, String)>,
    /// Active users: email and name (the search syntax names people by email).
    pub emails: Vec<(String, String)>,
    pub queues: Vec<(String, String)>,
}

pub async fn directory(app: &App, actor: &Actor) -> Result<Directory, UiError> {
    let active: Vec<_> =
        app.list_users(actor, &PageRequest::first(200)).await?.items.into_iter().filter(|u| u.is_active).collect();
    let emails = active.iter().map(|u| (u.email.clone(), u.name.clone())).collect();
    let users: Vec<(String, String)> = active.into_iter().map(|u| (u.id, u.name)).collect();
    let queues: Vec<(String, String)> =
        app.list_queues(actor, &PageRequest::first(200)).await?.items.into_iter().map(|q| (q.id, q.name)).collect();
    let names = Names {
        users: users.iter().cloned().collect(),
        queues: queues.iter().cloned().collect(),
        people: Default::default(),
    };
    Ok(Directory { names, users, emails, queues })
}

/// A page's live stream, starting after the feed cursor the page was rendered at.
fn live_url(path: &str, cursor: Option<String>) -> String {
    match cursor {
        Some(c) => format!("{path}?after={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()),
        None => path.to_string(),
    }
}

// ---- the list -----------------------------------------------------------------------------

pub struct ViewLink {
    pub id: String,
    pub name: String,
    pub count: Option<i64>,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "cases.html", blocks = ["results"])]
struct CasesPage {
    chrome: Chrome,
    views: Vec<ViewLink>,
    title: String,
    q: String,
    q_error: Option<String>,
    rows: Vec<CaseRow>,
    next: Option<String>,
    /// The list's export link (view or query, no cursor).
    export: String,
    /// The sortable headers: number (creation), priority, updated.
    sorts: [SortLink; 3],
    /// Why saving the search as a view failed, with the name typed.
    save_error: Option<String>,
    save_name: String,
    /// The filter controls (status, priority, queue, assignee), each showing the query's
    /// condition on its field, and the tags the query asks for.
    filters: Vec<Select>,
    tag_filter: String,
    /// Whether the filters hold anything, so they open by themselves.
    filtering: bool,
    bulk: BulkBar,
    /// What a bulk action just did, case by case.
    bulk_done: Option<BulkDone>,
    /// Why a bulk action was refused as a whole.
    bulk_error: Option<String>,
    /// The view (or else the query) and the ordering on screen, which the bulk form carries so
    /// the list comes back as it was.
    view_id: Option<String>,
    ordering: Option<&'static str>,
    /// A live refresh of the results: the view counts come along, swapped in out of band.
    live: bool,
    /// Where the page hears of changes (server-sent events), from the feed as it was rendered.
    live_url: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub view: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// A column header's order (`-updated_at`, `priority` …); default: the view's.
    pub ordering: Option<String>,
    /// Set by the filter form: its `f_*` fields rewrite `q`.
    pub filter: Option<String>,
    pub f_status: Option<String>,
    pub f_priority: Option<String>,
    pub f_queue: Option<String>,
    pub f_assignee: Option<String>,
    pub f_tag: Option<String>,
}

impl ListQuery {
    /// A filter control's value as sent.
    pub fn filter_param(&self, name: &str) -> Option<&str> {
        match name {
            "f_status" => self.f_status.as_deref(),
            "f_priority" => self.f_priority.as_deref(),
            "f_queue" => self.f_queue.as_deref(),
            "f_assignee" => self.f_assignee.as_deref(),
            "f_tag" => self.f_tag.as_deref(),
            _ => None,
        }
    }
}

/// What a list page shows besides the list: a refused "save as view", a bulk action's results.
#[derive(Default)]
pub struct ListExtras {
    pub refused: Option<SaveRefused>,
    pub bulk: Option<BulkDone>,
    pub bulk_error: Option<String>,
    pub live: bool,
}

/// A sortable column header: where it leads and how the list is sorted by it now.
pub struct SortLink {
    pub href: String,
    /// The header's `aria-sort`: `ascending`, `descending` or `none`.
    pub state: &'static str,
}

/// The list on screen: a view or a query, in an order chosen by a column header (if any).
pub struct Listing {
    view: Option<String>,
    q: String,
    ordering: Option<Ordering>,
}

impl Listing {
    /// The list a request asks for: its query if it has one, else its view.
    pub fn of(lq: &ListQuery) -> Self {
        let q = lq.q.as_deref().map(str::trim).unwrap_or_default().to_string();
        let view = if q.is_empty() { lq.view.clone() } else { None };
        let ordering = lq.ordering.as_deref().and_then(|o| Ordering::parse(o).ok());
        Listing { view, q, ordering }
    }

    pub fn href(&self, path: &str, cursor: Option<&str>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        match &self.view {
            Some(v) => s.append_pair("view", v),
            None => s.append_pair("q", &self.q),
        };
        if let Some(o) = self.ordering {
            s.append_pair("ordering", o.as_str());
        }
        if let Some(c) = cursor {
            s.append_pair("cursor", c);
        }
        format!("{path}?{}", s.finish())
    }

    /// The header of a column sorted `asc` or `desc`: a click sorts by it, newest or highest
    /// first, and a second click turns the order round.
    fn sort(&self, asc: Ordering, desc: Ordering, now: Ordering) -> SortLink {
        let (state, next) = match now {
            o if o == desc => ("descending", asc),
            o if o == asc => ("ascending", desc),
            _ => ("none", desc),
        };
        let by = Listing { view: self.view.clone(), q: self.q.clone(), ordering: Some(next) };
        SortLink { href: by.href("/cases", None), state }
    }
}

/// `/cases`: a view (`view=`) or a query (`q=`), a page at a time (`cursor=`). The search box
/// shows the query of the list on screen, so a view can be refined by editing it.
pub async fn list(
    State(s): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(lq): Query<ListQuery>,
) -> Result<Response, UiError> {
    // The filter form rewrites the query and shows the list it makes.
    if let Some(q) = super::bulk::filtered_query(&lq) {
        let listing = Listing { view: None, q: q.clone(), ordering: Listing::of(&lq).ordering };
        let to = if q.trim().is_empty() { "/cases".to_string() } else { listing.href("/cases", None) };
        return Ok(Redirect::to(&to).into_response());
    }
    let fragment = headers.get("hx-target").is_some_and(|t| t == "results");
    let live = fragment && headers.contains_key("x-live");
    list_page(&s, &viewer, lq, fragment, ListExtras { live, ..ListExtras::default() }).await
}

/// A refused "save as view": its message and the name that was typed.
pub struct SaveRefused {
    message: String,
    name: String,
}

pub(super) async fn list_page(
    s: &AppState,
    viewer: &Viewer,
    lq: ListQuery,
    fragment: bool,
    extras: ListExtras,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let views = s.app.list_views(actor).await?;
    let counts = s.app.count_views(actor, &views).await?;
    let text = lq.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_string);
    let view = match &text {
        Some(_) => None,
        None => Some(s.app.get_view(actor, lq.view.as_deref().unwrap_or(DEFAULT_VIEW)).await?),
    };
    let q = text.unwrap_or_else(|| view.as_ref().map(|v| v.query().to_string()).unwrap_or_default());
    let chosen = lq.ordering.as_deref().map(Ordering::parse).transpose();
    let ordering = chosen.as_ref().ok().copied().flatten();
    // A typed search lists the best matches first, as the search API does: relevance ranks a
    // bounded window of the newest matches, where "last updated" would sort every match of a
    // common word (0.7 s at 1M cases). Without words relevance is newest first, as the API's list.
    let shown = ordering.unwrap_or_else(|| view.as_ref().map_or(Ordering::Relevance, AnyView::ordering));
    let req = ListRequest { filter: CaseFilter::default(), ordering: shown, limit: PAGE, cursor: lq.cursor.clone() };
    let result = match chosen {
        Ok(_) => s.app.search_cases(actor, &req, Some(&q)).await.map(|(p, _)| p),
        Err(e) => Err(AppError::field("ordering", e)),
    };
    let (status, page, q_error) = match result {
        Ok(p) => (StatusCode::OK, Some(p), None),
        Err(AppError::Validation(f)) => (StatusCode::UNPROCESSABLE_ENTITY, None, f.first().map(|f| f.message.clone())),
        Err(e) => return Err(e.into()),
    };
    let dir = directory(&s.app, actor).await?;
    let now = s.app.clock.now();
    let view_id = view.as_ref().map(|v| v.id().to_string());
    let listing = Listing { view: view_id.clone(), q: q.clone(), ordering };
    let rows =
        page.as_ref().map(|p| p.items.iter().map(|i| CaseRow::new(i, &dir.names, now)).collect()).unwrap_or_default();
    let next = page.and_then(|p| p.next_cursor).map(|c| listing.href("/cases", Some(&c)));
    let title = match &view {
        Some(AnyView::Predefined(p)) => p.name.to_string(),
        Some(AnyView::Saved(v)) => v.name.clone(),
        None => "Search".to_string(),
    };
    let views = views
        .iter()
        .zip(counts)
        .map(|(v, count)| ViewLink {
            id: v.id().to_string(),
            name: match v {
                AnyView::Predefined(p) => p.name.to_string(),
                AnyView::Saved(v) => v.name.clone(),
            },
            count,
            current: view_id.as_deref() == Some(v.id()),
        })
        .collect();
    let export = listing.href("/cases/export.xlsx", None);
    let sorts = [
        listing.sort(Ordering::CreatedAsc, Ordering::CreatedDesc, shown),
        listing.sort(Ordering::PriorityAsc, Ordering::PriorityDesc, shown),
        listing.sort(Ordering::UpdatedAsc, Ordering::UpdatedDesc, shown),
    ];
    let (filters, tag_filter) = super::bulk::filter_controls(&q, &dir);
    // Open by themselves when the query on screen is the user's own, not a view's.
    let filtering =
        view.is_none() && (filters.iter().any(|f| f.options.iter().any(|o| o.selected)) || !tag_filter.is_empty());
    let bulk = BulkBar::new(&dir, viewer.who.actor.role == casedesk_domain::policy::Role::Admin);
    let (save_error, save_name, status) = match extras.refused {
        Some(r) => (Some(r.message), r.name, StatusCode::UNPROCESSABLE_ENTITY),
        None => (None, String::new(), status),
    };
    let page = CasesPage {
        chrome: Chrome::of(viewer, "cases"),
        views,
        title,
        q,
        q_error,
        rows,
        next,
        export,
        sorts,
        save_error,
        save_name,
        filters,
        tag_filter,
        filtering,
        bulk,
        bulk_done: extras.bulk,
        bulk_error: extras.bulk_error,
        view_id,
        ordering: ordering.map(Ordering::as_str),
        live: extras.live,
        live_url: live_url("/cases/live", s.app.live_cursor(actor).await?),
    };
    // htmx asks for the results alone when the search box changes.
    if fragment {
        return Ok(html(status, &page.as_results()));
    }
    Ok(html(status, &page))
}

/// The list on screen as an `.xlsx` download: the same view or query, every page.
pub async fn export(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(lq): Query<ListQuery>,
) -> Result<Response, UiError> {
    let query = lq.q.filter(|q| !q.trim().is_empty());
    let view = if query.is_some() { None } else { Some(lq.view.unwrap_or_else(|| DEFAULT_VIEW.to_string())) };
    let ordering =
        lq.ordering.as_deref().map(Ordering::parse).transpose().map_err(|e| AppError::field("ordering", e))?;
    let req = ExportRequest { query, view, columns: None, ordering };
    Ok(crate::api::exports::xlsx_download(&s.app, &viewer.who.actor, req).await?)
}

/// Saves the list's query as a personal view and opens it.
pub async fn save_view(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let name = p.form.get("name").unwrap_or_default().to_string();
    let q = p.form.get("q").unwrap_or_default().to_string();
    let input = ViewInput { name: Some(name.clone()), query: Some(q.clone()), ..ViewInput::default() };
    match s.app.create_view(&p.viewer.who.actor, input).await {
        Ok(v) => {
            let listing = Listing { view: Some(v.id), q: String::new(), ordering: None };
            Ok(Redirect::to(&listing.href("/cases", None)).into_response())
        }
        Err(e) => {
            let (_, message) = explain(e)?;
            let lq = ListQuery { q: Some(q), ..ListQuery::default() };
            let extras = ListExtras { refused: Some(SaveRefused { message, name }), ..ListExtras::default() };
            list_page(&s, &p.viewer, lq, false, extras).await
        }
    }
}

// ---- a new case ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "new_case.html")]
struct NewCasePage {
    chrome: Chrome,
    /// The contact or account the case is for, when opened from their page.
    for_whom: Option<String>,
    contact_id: String,
    account_id: String,
    subject: String,
    description: String,
    selects: Vec<Select>,
    errors: FieldErrors,
}

async fn new_case_page(
    s: &AppState,
    viewer: &Viewer,
    form: &FormData,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let dir = directory(&s.app, actor).await?;
    let contact_id = form.get("contact_id").unwrap_or_default().to_string();
    let account_id = form.get("account_id").unwrap_or_default().to_string();
    // Whom it is for, by name (an id of another organization is not found, like a missing one).
    let for_whom = if !contact_id.is_empty() {
        Some(s.app.get_contact(actor, &contact_id).await?.name)
    } else if !account_id.is_empty() {
        Some(s.app.get_account(actor, &account_id).await?.name)
    } else {
        None
    };
    let page = NewCasePage {
        chrome: Chrome::of(viewer, "new"),
        for_whom,
        contact_id,
        account_id,
        subject: form.get("subject").unwrap_or_default().to_string(),
        description: form.get("description").unwrap_or_default().to_string(),
        selects: vec![
            select(
                "priority",
                "Priority",
                None,
                enum_options(Priority::ALL, Priority::as_str, form.get("priority").unwrap_or("medium")),
            ),
            select(
                "type",
                "Type",
                None,
                enum_options(CaseType::ALL, CaseType::as_str, form.get("type").unwrap_or("question")),
            ),
            select("queue_id", "Queue", Some("No queue"), options(dir.queues, form.get("queue_id"))),
            select("owner_id", "Assignee", Some("Unassigned"), options(dir.users, form.get("owner_id"))),
        ],
        errors,
    };
    Ok(html(status, &page))
}

#[derive(Deserialize)]
pub struct NewQuery {
    contact_id: Option<String>,
    account_id: Option<String>,
}

/// The new-case form, for a contact or an account when opened from their page.
pub async fn new_page(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, UiError> {
    let given = [("contact_id", q.contact_id), ("account_id", q.account_id)];
    let form = FormData(given.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect());
    new_case_page(&s, &viewer, &form, FieldErrors::default(), StatusCode::OK).await
}

/// The form as a new case; choices that are not valid values are errors on their field.
fn new_case(form: &FormData) -> Result<NewCase, AppError> {
    let mut e = Errors::new();
    let input = NewCase {
        subject: form.get("subject").unwrap_or_default().to_string(),
        description: form.get("description").unwrap_or_default().to_string(),
        priority: form.non_empty("priority").and_then(|p| e.take("priority", Priority::parse(&p))),
        case_type: form.non_empty("type").and_then(|t| e.take("type", CaseType::parse(&t))),
        channel: Some(Channel::Web),
        queue_id: form.non_empty("queue_id"),
        owner_id: form.non_empty("owner_id"),
        contact_id: form.non_empty("contact_id"),
        account_id: form.non_empty("account_id"),
        ..NewCase::default()
    };
    e.finish()?;
    Ok(input)
}

pub async fn create(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let created = match new_case(&p.form) {
        Ok(input) => s.app.create_case(&p.viewer.who.actor, input, None).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}", c.value.id)).into_response()),
        Err(AppError::Validation(f)) => {
            new_case_page(&s, &p.viewer, &p.form, FieldErrors(f), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- a case -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    number: i64,
    subject: String,
    description: String,
    status: &'static str,
    status_label: String,
    priority: &'static str,
    priority_label: String,
    queue: String,
    assignee: String,
    created: String,
    version: i64,
    /// The tags, comma-separated as the tags field shows them.
    tags: String,
    sla: Option<Badge>,
    selects: Vec<Select>,
    entries: Vec<Entry>,
    /// A change that was refused, shown above the header.
    error: Option<String>,
    /// Why a reply or note was refused, with the text that was typed.
    composer_error: Option<String>,
    draft: String,
    /// The side column's panels.
    time: TimePanel,
    panels: Panels,
    compose: Compose,
    live_url: String,
    /// Who else views the case or types a reply on it.
    people: Vec<Person>,
    assistant: super::assistant::Panel,
}

/// What a case page shows besides the case: a refused change, comment or time entry, the
/// assistant's answer.
#[derive(Default)]
pub struct Refused {
    pub error: Option<String>,
    pub composer_error: Option<String>,
    pub draft: String,
    pub time_error: Option<String>,
    pub time_draft: String,
    /// A refused change in a side panel: the panel (`milestones`, `links`, `files`) and why.
    pub panel_error: Option<(&'static str, String)>,
    pub assistant: super::assistant::Panel,
}

pub(super) async fn case_page(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    refused: Refused,
    status: StatusCode,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let detail = s.app.case_detail(actor, id).await?;
    let events = s.app.timeline(actor, id, &PageRequest::first(EVENTS)).await?.items;
    let mut dir = directory(&s.app, actor).await?;
    name_people(&s.app, actor, &events, &mut dir.names).await;
    let now = s.app.clock.now();
    let c = &detail.case;
    let page = CasePage {
        chrome: Chrome::of(viewer, "cases"),
        id: c.id.clone(),
        number: c.case_number,
        subject: c.subject.clone(),
        description: c.description.clone(),
        status: c.status.as_str(),
        status_label: status_label(c, &detail.workflow),
        priority: c.priority.as_str(),
        priority_label: label(c.priority.as_str()),
        queue: dir.names.queue(c.queue_id.as_deref()),
        assignee: dir.names.user(c.owner_id.as_deref()),
        created: casedesk_domain::badge::ago(c.created_at, now),
        version: c.version,
        tags: c.tags.join(", "),
        sla: sla_badge(c, now),
        entries: timeline(&detail.comments, &events, &dir.names, now),
        selects: vec![
            select("status", "Status", None, enum_options(Status::ALL, Status::as_str, c.status.as_str())),
            select("priority", "Priority", None, enum_options(Priority::ALL, Priority::as_str, c.priority.as_str())),
            select("type", "Type", None, enum_options(CaseType::ALL, CaseType::as_str, c.case_type.as_str())),
            select("queue_id", "Queue", Some("No queue"), options(dir.queues, c.queue_id.as_deref())),
            select("owner_id", "Assignee", Some("Unassigned"), options(dir.users, c.owner_id.as_deref())),
        ]
        .into_iter()
        .chain(workflow_selects(&s.app, actor, c).await?)
        .collect(),
        time: TimePanel::load(&s.app, actor, &c.id, &dir.names, now, &refused).await?,
        panels: Panels::load(&s.app, actor, &detail, &dir.names, now, &refused).await?,
        compose: Compose::load(&s.app, actor, c, detail.contact.as_ref().and_then(|k| k.email.clone())).await?,
        live_url: live_url(&format!("/cases/{}/live", c.id), s.app.live_cursor(actor).await?),
        people: PresenceLine::new(&s.app.case_others(actor, &c.id).await?, &dir.names).people,
        error: refused.error,
        composer_error: refused.composer_error,
        draft: refused.draft,
        assistant: refused.assistant,
    };
    Ok(html(status, &page))
}

/// Names the contacts and accounts the timeline's field changes mention (a requester changed from
/// one customer to another reads as their names). One gone since shows as its id.
async fn name_people(app: &App, actor: &Actor, events: &[Event], names: &mut Names) {
    let ids: std::collections::BTreeSet<String> = events
        .iter()
        .filter(|e| e.kind == FIELD_CHANGED)
        .filter(|e| matches!(e.data["field"].as_str(), Some("requester_id" | "contact_id" | "account_id")))
        .flat_map(|e| [&e.data["old"], &e.data["new"]])
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for id in ids {
        let name = if IdKind::Contact.matches(&id) {
            app.get_contact(actor, &id).await.map(|k| k.name).ok()
        } else if IdKind::Account.matches(&id) {
            app.get_account(actor, &id).await.map(|a| a.name).ok()
        } else {
            None
        };
        if let Some(name) = name {
            names.people.insert(id, name);
        }
    }
}

/// The organization's custom statuses and categories, as header choices (when it has any).
async fn workflow_selects(app: &App, actor: &Actor, c: &casedesk_domain::case::Case) -> Result<Vec<Select>, UiError> {
    let mut out = Vec::new();
    let statuses = app.list_statuses(actor).await?;
    if !statuses.is_empty() {
        let items = statuses.into_iter().map(|st| (st.id, format!("{} ({})", st.name, label(st.category.as_str()))));
        out.push(select(
            "custom_status_id",
            "Custom status",
            Some("Default"),
            options(items, c.custom_status_id.as_deref()),
        ));
    }
    let categories = app.list_categories(actor).await?;
    if !categories.is_empty() {
        let items = categories.into_iter().map(|k| (k.id, k.name));
        out.push(select("category_id", "Category", Some("None"), options(items, c.category_id.as_deref())));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct CaseQuery {
    /// The version the page on screen shows: unchanged, the answer is an empty 204 (the case
    /// page polls with it to show others' changes without a reload).
    since: Option<i64>,
}

pub async fn page(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(cq): Query<CaseQuery>,
) -> Result<Response, UiError> {
    if let Some(since) = cq.since
        && s.app.get_case(&viewer.who.actor, &id).await?.version == since
    {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    case_page(&s, &viewer, &id, Refused::default(), StatusCode::OK).await
}

/// A refusal the page can explain (with its status), or a failure for the error page.
pub(super) fn explain(e: AppError) -> Result<(StatusCode, String), UiError> {
    Ok(match e {
        AppError::Validation(f) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f.iter().map(|f| format!("{}: {}", label(&f.field), f.message)).collect::<Vec<_>>().join("; "),
        ),
        AppError::Conflict { message, .. } => (StatusCode::CONFLICT, message),
        AppError::Forbidden(what) => (StatusCode::FORBIDDEN, format!("Your role does not allow you to {what}.")),
        AppError::PreconditionFailed => {
            (StatusCode::CONFLICT, "Someone changed this case since you opened it; here it is as it is now.".into())
        }
        other => return Err(other.into()),
    })
}

/// The header form: status, priority, type, tags, queue and assignee, changed where they differ.
pub async fn update(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let current = s.app.get_case(actor, &id).await?;
    let mut e = Errors::new();
    let mut patch = CasePatch::default();
    if let Some(v) = p.form.non_empty("status").filter(|v| v != current.status.as_str()) {
        patch.status = e.take("status", Status::parse(&v));
    }
    if let Some(v) = p.form.non_empty("priority").filter(|v| v != current.priority.as_str()) {
        patch.priority = e.take("priority", Priority::parse(&v));
    }
    if let Some(v) = p.form.non_empty("type").filter(|v| v != current.case_type.as_str()) {
        patch.case_type = e.take("type", CaseType::parse(&v));
    }
    if let Some(v) = p.form.get("tags") {
        let tags: Vec<String> = v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
        patch.tags = (tags != current.tags).then_some(tags);
    }
    if let Some(v) = p.form.get("queue_id").map(|v| Some(v.to_string()).filter(|v| !v.is_empty())) {
        patch.queue_id = (v != current.queue_id).then_some(v);
    }
    if let Some(v) = p.form.get("owner_id").map(|v| Some(v.to_string()).filter(|v| !v.is_empty())) {
        patch.owner_id = (v != current.owner_id).then_some(v);
    }
    if let Some(v) = p.form.get("custom_status_id").map(|v| Some(v.to_string()).filter(|v| !v.is_empty())) {
        patch.custom_status_id = (v != current.custom_status_id).then_some(v);
    }
    if let Some(v) = p.form.get("category_id").map(|v| Some(v.to_string()).filter(|v| !v.is_empty())) {
        patch.category_id = (v != current.category_id).then_some(v);
    }
    let version = p.form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = match e.finish() {
        Err(err) => Err(err.into()),
        Ok(()) if patch.is_empty() => Ok(()),
        Ok(()) => s.app.update_case(actor, &current.id, patch, version).await.map(|_| ()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{}", current.id)).into_response()),
        Err(err) => {
            let (status, message) = explain(err)?;
            case_page(&s, &p.viewer, &id, Refused { error: Some(message), ..Refused::default() }, status).await
        }
    }
}

/// The composer: a reply the customer sees, or an internal note.
pub async fn comment(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let body = p.form.get("body").unwrap_or_default().to_string();
    let internal = p.form.get("visibility") == Some("note");
    // Files of the case chosen to go with the message.
    let files: Vec<String> = p.form.0.iter().filter(|(k, _)| k == "file_ids").map(|(_, v)| v.clone()).collect();
    // The channel a reply goes by, when the agent picked another than the case's own; a note
    // goes nowhere, whatever the picker says.
    let reply_channel = p.form.non_empty("channel").filter(|_| !internal).map(|c| Channel::parse(&c));
    let result = match reply_channel.transpose() {
        Err(m) => Err(AppError::field("channel", m)),
        Ok(reply_channel) => {
            let input =
                CommentInput { body: &body, internal, author_type: AuthorType::Agent, file_ids: &files, reply_channel };
            s.app.add_comment(&p.viewer.who.actor, &id, input, None).await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}#composer")).into_response()),
        Err(err) => {
            let (status, message) = explain(err)?;
            let refused = Refused { composer_error: Some(message), draft: body, ..Refused::default() };
            case_page(&s, &p.viewer, &id, refused, status).await
        }
    }
}
