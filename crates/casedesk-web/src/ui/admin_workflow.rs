//! Admin pages for custom statuses and case categories: `/admin/workflow` lists both, adds a
//! status from a short form (name, the category it counts as, whether it pauses the SLA
//! clocks, whether it is its category's default) and a category from its JSON definition (its
//! name and the custom fields it opens, the document the API takes, `CategoryRequest`);
//! `/admin/workflow/categories/{id}` changes a category's definition.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_domain::workflow::StatusInput;

use super::admin::{Input, choices, invalid, number, require_admin};
use super::admin_sla::{Definition, Kind, definition_of, parse, show, text, update};
use super::display::{Chrome, FieldErrors, label};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;
use crate::api::workflow::{CategoryRequest, CategoryResponse};

const CATEGORY: Kind =
    Kind { name: "category", path: "/admin/workflow/categories", title: "Category", back: "/admin/workflow" };

const STATUS_CATEGORIES: &[&str] = &["new", "open", "pending", "on_hold", "resolved", "closed"];

const CATEGORY_EXAMPLE: &str = r#"{
  "name": "Refund request",
  "fields": [
    {"key": "order_number", "label": "Order number", "kind": "text", "required": true},
    {"key": "reason", "label": "Reason", "kind": "select", "options": ["Damaged", "Late", "Other"]}
  ]
}"#;

pub struct StatusRow {
    pub name: String,
    pub category: String,
    pub pauses_sla: &'static str,
    pub is_default: bool,
}

pub struct CategoryRow {
    pub id: String,
    pub name: String,
    /// `Order number (text, required), Reason (select)`.
    pub fields: String,
}

#[derive(Template)]
#[template(path = "admin_workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    statuses: Vec<StatusRow>,
    categories: Vec<CategoryRow>,
    status_fields: Vec<Input>,
    form: Definition,
}

fn pauses(v: Option<bool>) -> &'static str {
    match v {
        None => "as its category",
        Some(true) => "pauses",
        Some(false) => "keeps running",
    }
}

async fn workflow_page(
    s: &AppState,
    viewer: &Viewer,
    status_form: &FormData,
    status_errors: FieldErrors,
    form: Definition,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let statuses = s
        .app
        .list_statuses(actor)
        .await?
        .into_iter()
        .map(|st| StatusRow {
            name: st.name,
            category: label(st.category.as_str()),
            pauses_sla: pauses(st.pauses_sla),
            is_default: st.is_default,
        })
        .collect();
    let categories = s
        .app
        .list_categories(actor)
        .await?
        .into_iter()
        .map(|c| CategoryRow {
            id: c.id,
            name: c.name,
            fields: c
                .fields
                .iter()
                .map(|f| {
                    let required = if f.required { ", required" } else { "" };
                    format!("{} ({}{required})", f.label, f.kind.as_str())
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let v = |n: &str| status_form.get(n).unwrap_or_default().to_string();
    let status_fields = vec![
        Input::new("new-status", "name", "Name", "text", v("name")).errors(&status_errors),
        Input::new("new-status", "category", "Counts as", "select", status_form.get("category").unwrap_or("open"))
            .options(choices(STATUS_CATEGORIES))
            .hint("Reports, SLA clocks and the portal treat the status as this category.")
            .errors(&status_errors),
        Input::new("new-status", "pauses_sla", "SLA clocks", "select", v("pauses_sla"))
            .options(vec![
                (String::new(), "As its category under the case's policy".into()),
                ("true".into(), "Pause".into()),
                ("false".into(), "Keep running".into()),
            ])
            .errors(&status_errors),
        Input::new("new-status", "position", "Position", "number", v("position"))
            .hint("Statuses of one category are listed by position.")
            .errors(&status_errors),
        Input::new("new-status", "is_default", "Its category's default", "checkbox", v("is_default"))
            .errors(&status_errors),
    ];
    let status = if status_errors.is_empty() && form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = WorkflowPage { chrome: Chrome::of(viewer, "admin"), statuses, categories, status_fields, form };
    Ok(html(status, &page))
}

fn blank_category() -> Definition {
    Definition::new(CATEGORY.name, CATEGORY.path.into(), CATEGORY_EXAMPLE.into(), FieldErrors::default())
}

pub async fn index(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    workflow_page(&s, &viewer, &FormData(Vec::new()), FieldErrors::default(), blank_category()).await
}

pub async fn create_status(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let mut errors = Vec::new();
    let position = number("position", p.form.get("position"), &mut errors);
    let pauses_sla = match p.form.get("pauses_sla").unwrap_or("") {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errors.push(casedesk_domain::FieldError::new("pauses_sla", "must be pause, keep running or empty"));
            None
        }
    };
    let errors = if errors.is_empty() {
        let input = StatusInput {
            name: Some(p.form.get("name").unwrap_or_default().to_string()),
            category: Some(p.form.get("category").unwrap_or_default().to_string()),
            pauses_sla: Some(pauses_sla),
            position,
            is_default: Some(p.form.get("is_default") == Some("true")),
        };
        match s.app.create_status(&p.viewer.who.actor, input, None).await {
            Ok(_) => return Ok(Redirect::to("/admin/workflow").into_response()),
            Err(e) => invalid(e, "name")?,
        }
    } else {
        FieldErrors(errors)
    };
    workflow_page(&s, &p.viewer, &p.form, errors, blank_category()).await
}

pub async fn create_category(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let text = text(&p);
    let result = match parse::<CategoryRequest>(&text) {
        Ok(r) => s.app.create_category(&p.viewer.who.actor, r.into(), None).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("{}/{}", CATEGORY.path, c.value.id)).into_response()),
        Err(e) => {
            let form = Definition::new(CATEGORY.name, CATEGORY.path.into(), text, invalid(e, "name")?);
            workflow_page(&s, &p.viewer, &FormData(Vec::new()), FieldErrors::default(), form).await
        }
    }
}

pub async fn category(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let c = s.app.get_category(&viewer.who.actor, &id).await?;
    let name = c.name.clone();
    Ok(show(&viewer, &CATEGORY, &id, &name, definition_of(CategoryResponse::from(c))?, FieldErrors::default(), false))
}

/// Changes a category to the posted definition; `fields`, when given, replaces them all.
pub async fn update_category(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let current = s.app.get_category(actor, &id).await?;
    let write = async |r: CategoryRequest| {
        let saved = s.app.update_category(actor, &id, r.into()).await?;
        Ok((saved.name.clone(), definition_of(CategoryResponse::from(saved))?))
    };
    update(&p, &CATEGORY, &id, &current.name, write).await
}
