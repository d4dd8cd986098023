//! The case list's filter controls and bulk actions.
//!
//! The filters write the search syntax: each control shows the query's condition on its field
//! and, when sent, replaces it ([`casedesk_domain::query_edit`]), so the search box always says
//! what the list shows. Bulk actions send the chosen cases to the use case behind
//! `POST /api/v1/cases/bulk`, which changes each case on its own; the list then comes back with
//! every case's result.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::bulk::{BulkStarted, CaseResult};
use casedesk_domain::bulk::{BulkInput, MAX_BULK_IDS, Outcome};
use casedesk_domain::case::{Priority, Status};
use casedesk_domain::query_edit::{filter_value, with_filter};

use super::cases::{Directory, ListExtras, ListQuery, Listing, Opt, Select, enum_options, list_page, options, select};
use super::display::label;
use super::error::UiError;
use super::session::Posted;
use crate::AppState;

/// The fields the filter controls stand for, with their form names.
const FILTERS: [(&str, &str); 5] = [
    ("status", "f_status"),
    ("priority", "f_priority"),
    ("queue", "f_queue"),
    ("assignee", "f_assignee"),
    ("tag", "f_tag"),
];

/// Adds the query's own value as a choice when it is none of the listed ones (`open,pending`),
/// so the control shows what the query says.
fn with_current(mut opts: Vec<Opt>, current: Option<String>) -> Vec<Opt> {
    if let Some(c) = current.filter(|c| !opts.iter().any(|o| o.selected) && !c.is_empty()) {
        opts.push(Opt { label: c.clone(), value: c, selected: true });
    }
    opts
}

/// The filter controls for query `q`: status, priority, queue and assignee choices, and the tags.
pub fn filter_controls(q: &str, dir: &Directory) -> (Vec<Select>, String) {
    let now = |field| filter_value(q, field);
    let status = now("status").unwrap_or_default();
    let priority = now("priority").unwrap_or_default();
    let queue = now("queue");
    let assignee = now("assignee");
    let queues = dir.queues.iter().map(|(_, name)| (name.clone(), name.clone()));
    let mut people = vec![("me".to_string(), "Me".to_string()), ("none".to_string(), "Unassigned".to_string())];
    people.extend(dir.emails.iter().cloned());
    let selects = vec![
        select(
            "f_status",
            "Status",
            Some("Any"),
            with_current(enum_options(Status::ALL, Status::as_str, &status), Some(status.clone())),
        ),
        select(
            "f_priority",
            "Priority",
            Some("Any"),
            with_current(enum_options(Priority::ALL, Priority::as_str, &priority), Some(priority.clone())),
        ),
        select("f_queue", "Queue", Some("Any"), with_current(options(queues, queue.as_deref()), queue.clone())),
        select(
            "f_assignee",
            "Assignee",
            Some("Anyone"),
            with_current(options(people, assignee.as_deref().map(str::to_lowercase).as_deref()), assignee.clone()),
        ),
    ];
    (selects, now("tag").unwrap_or_default())
}

/// The query the filter form asks for, or `None` when the request is no filter form.
pub fn filtered_query(lq: &ListQuery) -> Option<String> {
    lq.filter.as_ref()?;
    let mut q = lq.q.clone().unwrap_or_default();
    for (field, param) in FILTERS {
        if let Some(v) = lq.filter_param(param) {
            q = with_filter(&q, field, v);
        }
    }
    Some(q)
}

/// The bulk bar: the parameters of each action, and whether Delete is offered.
pub struct BulkBar {
    pub admin: bool,
    pub owners: Vec<Opt>,
    pub queues: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub priorities: Vec<Opt>,
}

impl BulkBar {
    pub fn new(dir: &Directory, admin: bool) -> Self {
        BulkBar {
            admin,
            owners: options(dir.users.clone(), None),
            queues: options(dir.queues.clone(), None),
            statuses: enum_options(Status::ALL, Status::as_str, ""),
            priorities: enum_options(Priority::ALL, Priority::as_str, ""),
        }
    }
}

/// What a bulk action did: a summary and each case's result.
pub struct BulkDone {
    pub summary: String,
    pub rows: Vec<BulkRow>,
}

pub struct BulkRow {
    pub id: String,
    /// `#12 Printer jams`, or the id of a case that could not be read.
    pub case: String,
    /// `changed`, `unchanged` or `failed`.
    pub outcome: &'static str,
    pub message: String,
}

impl BulkDone {
    fn new(action: &str, results: Vec<CaseResult>, names: &[(String, String)]) -> Self {
        let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
        let summary = format!(
            "{}: {} changed, {} unchanged, {} failed",
            label(action),
            count(Outcome::Changed),
            count(Outcome::Unchanged),
            count(Outcome::Failed)
        );
        let rows = results
            .into_iter()
            .map(|r| BulkRow {
                case: names
                    .iter()
                    .find(|(id, _)| *id == r.case_id)
                    .map_or_else(|| r.case_id.clone(), |(_, n)| n.clone()),
                outcome: match r.outcome {
                    Outcome::Changed => "changed",
                    Outcome::Unchanged => "unchanged",
                    Outcome::Failed => "failed",
                },
                message: r.error.map(|(_, m)| m).unwrap_or_default(),
                id: r.case_id,
            })
            .collect();
        BulkDone { summary, rows }
    }
}

/// The request the bulk form makes: the action, the chosen cases and the action's parameter.
fn bulk_input(p: &Posted) -> BulkInput {
    let action = p.form.get("action").unwrap_or_default().to_string();
    let ids: Vec<String> =
        p.form.0.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.trim().to_string()).take(MAX_BULK_IDS + 1).collect();
    let text = |name: &str| p.form.get(name).unwrap_or_default().to_string();
    let mut input = BulkInput { ids: Some(ids), ..BulkInput::default() };
    match action.as_str() {
        "assign" => input.owner_id = Some(p.form.non_empty("owner_id")),
        "move_to_queue" => input.queue_id = Some(text("queue_id")),
        "set_status" => input.status = Some(text("status")),
        "set_priority" => input.priority = Some(text("priority")),
        "add_tags" | "remove_tags" => {
            input.tags =
                Some(text("tags").split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect())
        }
        _ => {}
    }
    input.action = action;
    input
}

/// `POST /cases/bulk`: one action on the chosen cases; the list comes back with each result.
pub async fn apply(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let lq = ListQuery {
        view: p.form.non_empty("view"),
        q: p.form.non_empty("q"),
        ordering: p.form.non_empty("ordering"),
        ..ListQuery::default()
    };
    let input = bulk_input(&p);
    let action = input.action.clone();
    let mut extras = ListExtras::default();
    let checked = input.check().map_err(casedesk_core::AppError::from);
    // The chosen cases' numbers and subjects, read before the action (a deleted case is gone).
    let mut names = Vec::new();
    if let Ok(req) = &checked
        && let casedesk_domain::bulk::BulkTarget::Ids(ids) = &req.target
    {
        for id in ids {
            if let Ok(c) = s.app.get_case(actor, id).await {
                names.push((id.clone(), format!("#{} {}", c.case_number, c.subject)));
            }
        }
    }
    let started = match checked {
        Ok(req) => s.app.bulk_cases(actor, req).await,
        Err(e) => Err(e),
    };
    let status = match started {
        Ok(BulkStarted::Done(results)) => {
            extras.bulk = Some(BulkDone::new(&action, results, &names));
            StatusCode::OK
        }
        // A list of ids is never a job; were it one, its progress is on the API.
        Ok(BulkStarted::Job(_)) => StatusCode::ACCEPTED,
        Err(casedesk_core::AppError::Validation(f)) if f.iter().any(|f| f.field == "ids") => {
            extras.bulk_error = Some("Select at least one case first.".into());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e) => {
            let (status, message) = super::cases::explain(e)?;
            extras.bulk_error = Some(message);
            status
        }
    };
    let back = Listing::of(&lq).href("/cases", None);
    let mut resp = list_page(&s, &p.viewer, lq, false, extras).await?;
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    // htmx shows the list's own address, not the form's.
    if let Ok(v) = HeaderValue::from_str(&back) {
        resp.headers_mut().insert(HeaderName::from_static("hx-push-url"), v);
    }
    Ok(resp)
}

/// A reload of the results page (after a bulk action without JavaScript) goes back to the list.
pub async fn back_to_list() -> Response {
    Redirect::to("/cases").into_response()
}
