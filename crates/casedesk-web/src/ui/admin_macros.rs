//! Admin pages for macros: `/admin/macros` lists the shared ones and the admin's own, with a
//! form to add one (name, reply text, whether the reply is an internal note, and the actions as
//! the API's JSON list); `/admin/macros/{id}` changes or deletes one. An error in the actions
//! (`actions[0].queue_id`) is shown beside the actions field, naming the action it is about.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::AppError;
use casedesk_core::store::PageRequest;
use casedesk_domain::macros::{Macro, MacroInput};
use serde_json::Value;

use super::admin::{Input, invalid, require_admin};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

pub struct MacroRow {
    pub id: String,
    pub name: String,
    pub shared: bool,
    pub internal: bool,
    pub actions: usize,
}

#[derive(Template)]
#[template(path = "admin_macros.html")]
struct MacrosPage {
    chrome: Chrome,
    rows: Vec<MacroRow>,
    fields: Vec<Input>,
}

/// A macro's form: its values as the form shows them (actions as pretty JSON).
struct Values {
    name: String,
    body: String,
    internal: bool,
    actions: String,
    shared: bool,
}

impl Values {
    fn of(m: &Macro) -> Self {
        let actions = serde_json::to_string_pretty(&m.actions).unwrap_or_else(|_| "[]".into());
        Values {
            name: m.name.clone(),
            body: m.body.clone(),
            internal: m.internal,
            actions,
            shared: m.owner_id.is_none(),
        }
    }

    fn posted(form: &FormData) -> Self {
        let raw = |n: &str| form.0.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
        Values {
            name: raw("name"),
            body: raw("body"),
            internal: form.get("internal") == Some("true"),
            actions: raw("actions"),
            shared: form.get("shared") == Some("true"),
        }
    }
}

fn tick(on: bool) -> &'static str {
    if on { "true" } else { "" }
}

/// The form's fields; `shared` only when adding (a macro stays shared or personal).
fn fields(form: &str, v: Values, with_shared: bool, errors: &FieldErrors) -> Vec<Input> {
    let mut fields = vec![
        Input::new(form, "name", "Name", "text", v.name).errors(errors),
        Input::new(form, "body", "Reply", "textarea", v.body)
            .hint("Placeholders such as {{requester.name}}, {{case.number}} and {{agent.name}} are filled in.")
            .errors(errors),
        Input::new(form, "internal", "Add the reply as an internal note", "checkbox", tick(v.internal)).errors(errors),
        Input::new(form, "actions", "Actions (JSON, as the API takes them)", "textarea", v.actions)
            .hint(
                r#"A list, e.g. [{"type": "set_status", "status": "pending"}, {"type": "add_tag", "tag": "billing"}]."#,
            )
            .errors(errors),
    ];
    if with_shared {
        fields.push(
            Input::new(form, "shared", "Shared with every agent", "checkbox", tick(v.shared))
                .hint("Otherwise only you see it.")
                .errors(errors),
        );
    }
    fields
}

/// The posted form as the use case's input; actions that are not JSON are an error of `actions`.
fn input(form: &FormData) -> Result<MacroInput, AppError> {
    let v = Values::posted(form);
    let text = v.actions.trim();
    let actions = if text.is_empty() {
        Value::Array(Vec::new())
    } else {
        serde_json::from_str(text).map_err(|e| AppError::field("actions", format!("is not valid JSON: {e}")))?
    };
    Ok(MacroInput { name: Some(v.name), body: Some(v.body), internal: Some(v.internal), actions: Some(actions) })
}

/// The use case's refusal as errors by field: an action's error is shown on the actions field.
fn errors_of(e: AppError) -> Result<FieldErrors, UiError> {
    let mut errors = invalid(e, "name")?;
    for f in &mut errors.0 {
        if let Some(rest) = f.field.strip_prefix("actions")
            && !rest.is_empty()
        {
            f.message = format!("actions{rest}: {}", f.message);
            f.field = "actions".into();
        }
    }
    // One message per field: the form shows the first.
    let mut seen = Vec::new();
    let mut merged: Vec<casedesk_domain::FieldError> = Vec::new();
    for f in errors.0 {
        if let Some(i) = seen.iter().position(|s: &String| s == &f.field) {
            merged[i].message = format!("{}; {}", merged[i].message, f.message);
        } else {
            seen.push(f.field.clone());
            merged.push(f);
        }
    }
    Ok(FieldErrors(merged))
}

async fn macros_page(s: &AppState, viewer: &Viewer, v: Values, errors: FieldErrors) -> Result<Response, UiError> {
    let macros = s.app.list_macros(&viewer.who.actor, &PageRequest::first(200)).await?.items;
    let rows = macros
        .iter()
        .map(|m| MacroRow {
            id: m.id.clone(),
            name: m.name.clone(),
            shared: m.owner_id.is_none(),
            internal: m.internal,
            actions: m.actions.len(),
        })
        .collect();
    let fields = fields("new-macro", v, true, &errors);
    let status = errors.status();
    Ok(html(status, &MacrosPage { chrome: Chrome::of(viewer, "admin"), rows, fields }))
}

pub async fn macros(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let blank =
        Values { name: String::new(), body: String::new(), internal: false, actions: "[]".into(), shared: true };
    macros_page(&s, &viewer, blank, FieldErrors::default()).await
}

pub async fn create_macro(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let shared = p.form.get("shared") == Some("true");
    let result = match input(&p.form) {
        Ok(i) => s.app.create_macro(&p.viewer.who.actor, shared, i).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/admin/macros/{}", m.id)).into_response()),
        Err(e) => macros_page(&s, &p.viewer, Values::posted(&p.form), errors_of(e)?).await,
    }
}

#[derive(Template)]
#[template(path = "admin_macro.html")]
struct MacroPage {
    chrome: Chrome,
    id: String,
    name: String,
    shared: bool,
    fields: Vec<Input>,
    saved: bool,
}

fn macro_page(viewer: &Viewer, m: &Macro, v: Values, errors: FieldErrors, saved: bool) -> Response {
    let status = errors.status();
    let page = MacroPage {
        chrome: Chrome::of(viewer, "admin"),
        id: m.id.clone(),
        name: m.name.clone(),
        shared: m.owner_id.is_none(),
        fields: fields("macro", v, false, &errors),
        saved,
    };
    html(status, &page)
}

pub async fn macro_(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let m = s.app.get_macro(&viewer.who.actor, &id).await?;
    Ok(macro_page(&viewer, &m, Values::of(&m), FieldErrors::default(), false))
}

pub async fn update_macro(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let current = s.app.get_macro(actor, &id).await?;
    let result = match input(&p.form) {
        Ok(i) => s.app.update_macro(actor, &id, i).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(m) => macro_page(&p.viewer, &m, Values::of(&m), FieldErrors::default(), true),
        Err(e) => macro_page(&p.viewer, &current, Values::posted(&p.form), errors_of(e)?, false),
    })
}

pub async fn delete_macro(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.delete_macro(&p.viewer.who.actor, &id).await?;
    Ok(Redirect::to("/admin/macros").into_response())
}
