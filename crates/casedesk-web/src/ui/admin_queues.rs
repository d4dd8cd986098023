//! Admin pages for queues: `/admin/queues` lists them with a form to add one; `/admin/queues/{id}`
//! changes a queue (name, description, assignment method, time tracking) and its members: who
//! works it, as member or manager, with which skills, and who takes its VIP cases first.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::store::PageRequest;
use casedesk_domain::queue::{MemberInput, QueueInput};

use super::admin::{Input, PageQuery, choices, invalid, list, next_page, require_admin};
use super::display::{Chrome, FieldErrors, label};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

const METHODS: &[&str] = &["manual", "round_robin", "least_active", "skills"];
const MEMBER_ROLES: &[&str] = &["member", "manager"];

pub struct QueueRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub method: String,
}

#[derive(Template)]
#[template(path = "admin_queues.html")]
struct QueuesPage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    next: Option<String>,
    fields: Vec<Input>,
}

fn queue_fields(form: &str, name: String, description: String, method: String, errors: &FieldErrors) -> Vec<Input> {
    vec![
        Input::new(form, "name", "Name", "text", name).errors(errors),
        Input::new(form, "description", "Description", "text", description).errors(errors),
        Input::new(form, "assignment_method", "Assignment", "select", method)
            .options(choices(METHODS))
            .hint("Manual leaves cases waiting for someone to take them; the others assign on arrival.")
            .errors(errors),
    ]
}

async fn queues_page(
    s: &AppState,
    viewer: &Viewer,
    cursor: Option<String>,
    form: &FormData,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let page = s.app.list_queues(&viewer.who.actor, &PageRequest { limit: 50, cursor }).await?;
    let rows = page
        .items
        .iter()
        .map(|q| QueueRow {
            id: q.id.clone(),
            name: q.name.clone(),
            description: q.description.clone(),
            method: label(q.assignment_method.as_str()),
        })
        .collect();
    let v = |n: &str| form.get(n).unwrap_or_default().to_string();
    let method = form.get("assignment_method").unwrap_or("manual").to_string();
    let fields = queue_fields("new-queue", v("name"), v("description"), method, &errors);
    let status = errors.status();
    let next = next_page("/admin/queues", page.next_cursor);
    Ok(html(status, &QueuesPage { chrome: Chrome::of(viewer, "admin"), rows, next, fields }))
}

pub async fn queues(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    queues_page(&s, &viewer, q.cursor, &FormData(Vec::new()), FieldErrors::default()).await
}

/// The queue fields of a submitted form.
fn queue_input(form: &FormData, time_tracking: Option<bool>) -> QueueInput {
    QueueInput {
        name: Some(form.get("name").unwrap_or_default().to_string()),
        description: Some(form.get("description").unwrap_or_default().to_string()),
        assignment_method: Some(form.get("assignment_method").unwrap_or_default().to_string()),
        time_tracking,
        ..Default::default()
    }
}

pub async fn create_queue(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    match s.app.create_queue(&p.viewer.who.actor, queue_input(&p.form, None), None).await {
        Ok(created) => Ok(Redirect::to(&format!("/admin/queues/{}", created.value.id)).into_response()),
        Err(e) => {
            let errors = invalid(e, "name")?;
            queues_page(&s, &p.viewer, None, &p.form, errors).await
        }
    }
}

pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    /// The per-member form's fields: role, skills, VIP.
    pub fields: Vec<Input>,
}

#[derive(Template)]
#[template(path = "admin_queue.html")]
struct QueuePage {
    chrome: Chrome,
    id: String,
    name: String,
    fields: Vec<Input>,
    members: Vec<MemberRow>,
    add: Vec<Input>,
    saved: bool,
}

/// What a queue page was sent: the queue form or the add-member form, with its errors.
enum Sent<'a> {
    Nothing,
    Queue(&'a FormData, FieldErrors),
    Member(&'a FormData, FieldErrors),
}

fn member_fields(form: &str, role: String, skills: String, vip: bool, errors: &FieldErrors) -> Vec<Input> {
    vec![
        Input::new(form, "role", "Role", "select", role).options(choices(MEMBER_ROLES)).errors(errors),
        Input::new(form, "skills", "Skills", "text", skills)
            .hint("Comma-separated, e.g. billing, german.")
            .errors(errors),
        Input::new(form, "vip", "Takes VIP cases first", "checkbox", if vip { "true" } else { "" }).errors(errors),
    ]
}

async fn queue_page(s: &AppState, viewer: &Viewer, id: &str, sent: Sent<'_>, saved: bool) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let q = s.app.get_queue(actor, id).await?;
    let members = s.app.list_members(actor, id).await?;
    let users = s.app.list_users(actor, &PageRequest::first(200)).await?.items;
    let name = |uid: &str| users.iter().find(|u| u.id == uid).map_or(uid.to_string(), |u| u.name.clone());
    let none = FieldErrors::default();
    let (queue_form, queue_errors) = match &sent {
        Sent::Queue(f, e) => (Some(*f), e),
        _ => (None, &none),
    };
    let (member_form, member_errors) = match &sent {
        Sent::Member(f, e) => (Some(*f), e),
        _ => (None, &none),
    };
    let qv = |n: &str, current: String| queue_form.map_or(current, |f| f.get(n).unwrap_or_default().to_string());
    let mut fields = queue_fields(
        "queue",
        qv("name", q.name.clone()),
        qv("description", q.description.clone()),
        qv("assignment_method", q.assignment_method.as_str().into()),
        queue_errors,
    );
    let tracking = queue_form.map_or(q.time_tracking, |f| f.get("time_tracking") == Some("true"));
    fields.push(
        Input::new(
            "queue",
            "time_tracking",
            "Time tracking on its cases",
            "checkbox",
            if tracking { "true" } else { "" },
        )
        .errors(queue_errors),
    );
    let rows = members
        .iter()
        .map(|m| MemberRow {
            user_id: m.user_id.clone(),
            name: name(&m.user_id),
            fields: member_fields(
                &format!("member-{}", m.user_id),
                m.role.as_str().into(),
                m.skills.join(", "),
                m.vip,
                &none,
            ),
        })
        .collect();
    let candidates: Vec<(String, String)> = users
        .iter()
        .filter(|u| u.is_active && !members.iter().any(|m| m.user_id == u.id))
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let mv = |n: &str| member_form.and_then(|f| f.get(n)).unwrap_or_default().to_string();
    let mut add = vec![
        Input::new("add-member", "user_id", "User", "select", mv("user_id")).options(candidates).errors(member_errors),
    ];
    let role = member_form.and_then(|f| f.get("role")).unwrap_or("member").to_string();
    add.extend(member_fields("add-member", role, mv("skills"), mv("vip") == "true", member_errors));
    let status = if queue_errors.is_empty() && member_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = QueuePage {
        chrome: Chrome::of(viewer, "admin"),
        id: q.id.clone(),
        name: q.name.clone(),
        fields,
        members: rows,
        add,
        saved,
    };
    Ok(html(status, &page))
}

pub async fn queue(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    queue_page(&s, &viewer, &id, Sent::Nothing, false).await
}

pub async fn update_queue(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let input = queue_input(&p.form, Some(p.form.get("time_tracking") == Some("true")));
    match s.app.update_queue(&p.viewer.who.actor, &id, input).await {
        Ok(_) => queue_page(&s, &p.viewer, &id, Sent::Nothing, true).await,
        Err(e) => {
            let errors = invalid(e, "name")?;
            queue_page(&s, &p.viewer, &id, Sent::Queue(&p.form, errors), false).await
        }
    }
}

/// Adds a member, or changes one (`user_id` names them either way).
pub async fn put_member(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let user_id = p.form.get("user_id").unwrap_or_default().to_string();
    let input = MemberInput {
        role: p.form.non_empty("role"),
        skills: Some(list(p.form.get("skills"))),
        vip: Some(p.form.get("vip") == Some("true")),
    };
    match s.app.put_member(&p.viewer.who.actor, &id, &user_id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/queues/{id}")).into_response()),
        Err(e) => {
            let errors = invalid(e, "user_id")?;
            queue_page(&s, &p.viewer, &id, Sent::Member(&p.form, errors), false).await
        }
    }
}

pub async fn remove_member(
    State(s): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.delete_member(&p.viewer.who.actor, &id, &user_id).await?;
    Ok(Redirect::to(&format!("/admin/queues/{id}")).into_response())
}
