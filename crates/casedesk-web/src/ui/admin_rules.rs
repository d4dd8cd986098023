//! Admin pages for automation rules: `/admin/rules` lists them, newest last, each switched on
//! or off with one button, and adds a rule from its JSON definition (the document the API
//! takes, `RuleRequest`), listing every error with the field it names (`actions[0].queue_id`);
//! `/admin/rules/{id}` shows a rule's definition to change it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::store::PageRequest;
use casedesk_domain::automation::RuleInput;

use super::admin::{invalid, require_admin};
use super::admin_sla::{Definition, Kind, definition_of, parse, show, text, update};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{Posted, Viewer};
use crate::AppState;
use crate::api::automation::{RuleRequest, RuleResponse};

const RULE: Kind = Kind { name: "rule", path: "/admin/rules", title: "Automation rule", back: "/admin/rules" };

const RULE_EXAMPLE: &str = r#"{
  "name": "Critical cases get a tag",
  "trigger": "case.created",
  "conditions": {"all": [{"field": "priority", "operator": "is", "value": "critical"}]},
  "actions": [{"type": "add_tag", "tag": "urgent"}]
}"#;

pub struct RuleRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub trigger: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin_rules.html")]
struct RulesPage {
    chrome: Chrome,
    rows: Vec<RuleRow>,
    form: Definition,
}

async fn rules_page(s: &AppState, viewer: &Viewer, form: Definition) -> Result<Response, UiError> {
    let rules = s.app.list_rules(&viewer.who.actor, &PageRequest::first(200)).await?.items;
    let rows = rules
        .into_iter()
        .map(|r| RuleRow { id: r.id, name: r.name, description: r.description, trigger: r.trigger, active: r.active })
        .collect();
    let status = if form.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(html(status, &RulesPage { chrome: Chrome::of(viewer, "admin"), rows, form }))
}

pub async fn rules(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let form = Definition::new("rule", "/admin/rules".into(), RULE_EXAMPLE.into(), FieldErrors::default());
    rules_page(&s, &viewer, form).await
}

pub async fn create_rule(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let text = text(&p);
    let result = match parse::<RuleRequest>(&text) {
        Ok(r) => s.app.create_rule(&p.viewer.who.actor, r.into()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(Redirect::to(&format!("/admin/rules/{}", r.id)).into_response()),
        Err(e) => {
            let form = Definition::new("rule", "/admin/rules".into(), text, invalid(e, "name")?);
            rules_page(&s, &p.viewer, form).await
        }
    }
}

/// Switches a rule on (`active=true`) or off.
pub async fn set_active(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let input = RuleInput { active: Some(p.form.get("active") == Some("true")), ..Default::default() };
    s.app.update_rule(&p.viewer.who.actor, &id, input).await?;
    Ok(Redirect::to("/admin/rules").into_response())
}

pub async fn rule(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    let r = s.app.get_rule(&viewer.who.actor, &id).await?;
    let name = r.name.clone();
    Ok(show(&viewer, &RULE, &id, &name, definition_of(RuleResponse::from(r))?, FieldErrors::default(), false))
}

/// Changes a rule to the posted definition; what it leaves out stays as it was.
pub async fn update_rule(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let actor = &p.viewer.who.actor;
    let current = s.app.get_rule(actor, &id).await?;
    let write = async |r: RuleRequest| {
        let saved = s.app.update_rule(actor, &id, r.into()).await?;
        Ok((saved.name.clone(), definition_of(RuleResponse::from(saved))?))
    };
    update(&p, &RULE, &id, &current.name, write).await
}
