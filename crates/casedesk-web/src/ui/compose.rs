//! The rest of working a case from its page: macros applied from the composer, an update sent by
//! email to chosen recipients (seed 003), and the category's profile fields. Each goes through the
//! same use case as its API endpoint.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::email::SendUpdate;
use casedesk_core::store::PageRequest;
use casedesk_core::{Actor, App, AppError};
use casedesk_domain::case::{Case, CasePatch, Channel};
use casedesk_domain::messaging::{ReplyRoute, reply_route};
use casedesk_domain::profile::{FieldDef, FieldKind};
use serde_json::{Map, Value};

use super::cases::{Opt, Refused, case_page, explain};
use super::error::UiError;
use super::session::{Posted, Viewer};
use crate::AppState;

/// One profile field of the case's category, as its input shows it.
pub struct FieldRow {
    /// The form name: `cf.<key>`.
    pub name: String,
    pub label: String,
    /// `text`, `textarea`, `number`, `date`, `select`, `checkbox` or `url`.
    pub input: &'static str,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    pub options: Vec<Opt>,
}

/// What the composer and the details panel offer beyond replies and notes.
pub struct Compose {
    pub macros: Vec<Opt>,
    /// The category's name and its fields, when the case has one.
    pub category: Option<String>,
    pub fields: Vec<FieldRow>,
    /// Where a requester with an address would get the update.
    pub update_to: String,
    /// The channels a reply can go by besides the case's own (which is first, as the empty
    /// choice); empty when there is no other.
    pub reply_channels: Vec<Opt>,
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn field_row(f: &FieldDef, value: Option<&Value>) -> FieldRow {
    let current = shown(value);
    let input = match f.kind {
        FieldKind::LongText => "textarea",
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Select => "select",
        FieldKind::Checkbox => "checkbox",
        FieldKind::Url => "url",
        FieldKind::Text | FieldKind::MultiSelect | FieldKind::User => "text",
    };
    FieldRow {
        name: format!("cf.{}", f.key),
        label: f.label.clone(),
        input,
        checked: value == Some(&Value::Bool(true)),
        required: f.required,
        options: f
            .options
            .iter()
            .map(|o| Opt { selected: *o == current, value: o.clone(), label: o.clone() })
            .collect(),
        value: current,
    }
}

impl Compose {
    pub async fn load(app: &App, actor: &Actor, case: &Case, requester_email: Option<String>) -> Result<Self, UiError> {
        let macros = app
            .list_macros(actor, &PageRequest::first(100))
            .await?
            .items
            .into_iter()
            .map(|m| Opt { value: m.id, label: m.name, selected: false })
            .collect();
        let category = match &case.category_id {
            Some(id) => match app.get_category(actor, id).await {
                Ok(c) => Some(c),
                Err(AppError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let fields = category
            .as_ref()
            .map(|c| c.fields.iter().map(|f| field_row(f, case.custom_fields.get(&f.key))).collect())
            .unwrap_or_default();
        let default = match reply_route(case.channel, None) {
            ReplyRoute::Email => Channel::Email,
            ReplyRoute::Connector(c) => c,
        };
        let others: Vec<Channel> =
            app.reply_channels(actor, case).await?.into_iter().filter(|c| *c != default).collect();
        let reply_channels = match others.is_empty() {
            true => Vec::new(),
            false => std::iter::once(Opt {
                value: String::new(),
                label: format!("{} (its own)", channel_label(default)),
                selected: true,
            })
            .chain(others.into_iter().map(|c| Opt {
                value: c.as_str().into(),
                label: channel_label(c),
                selected: false,
            }))
            .collect(),
        };
        Ok(Compose {
            macros,
            category: category.map(|c| c.name),
            fields,
            update_to: requester_email.unwrap_or_default(),
            reply_channels,
        })
    }
}

fn channel_label(c: Channel) -> String {
    match c {
        Channel::Email => "Email".into(),
        Channel::Sms => "SMS".into(),
        Channel::Whatsapp => "WhatsApp".into(),
        Channel::Webchat => "Web chat".into(),
        Channel::Chat => "Chat".into(),
        other => other.as_str().into(),
    }
}

/// Back to the case, or the case page with the composer's refusal.
async fn settle(s: &AppState, viewer: &Viewer, id: &str, result: Result<&str, AppError>) -> Result<Response, UiError> {
    match result {
        Ok(anchor) => Ok(Redirect::to(&format!("/cases/{id}#{anchor}")).into_response()),
        Err(e) => {
            let (status, message) = explain(e)?;
            case_page(s, viewer, id, Refused { composer_error: Some(message), ..Refused::default() }, status).await
        }
    }
}

/// `POST /cases/{id}/macro`: applies the chosen macro (its reply and its actions).
pub async fn apply_macro(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let m = p.form.get("macro_id").unwrap_or_default().to_string();
    let result = s.app.apply_macro(&p.viewer.who.actor, &id, &m).await.map(|_| "composer");
    settle(&s, &p.viewer, &id, result).await
}

fn addresses(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default().split([',', ';']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect()
}

/// `POST /cases/{id}/send-update`: an update by email to the recipients given, from the case's
/// mailbox or the agent's own address, with chosen files.
pub async fn send_update(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let u = SendUpdate {
        from: p.form.non_empty("from"),
        to: addresses(p.form.get("to")),
        cc: addresses(p.form.get("cc")),
        subject: p.form.non_empty("subject"),
        message: p.form.get("message").unwrap_or_default().to_string(),
        file_ids: p.form.0.iter().filter(|(k, _)| k == "file_ids").map(|(_, v)| v.clone()).collect(),
    };
    let result = s.app.send_update(&p.viewer.who.actor, &id, u, None).await.map(|_| "timeline");
    settle(&s, &p.viewer, &id, result).await
}

/// `POST /cases/{id}/fields`: the category's profile fields, typed as the category says.
pub async fn fields(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let actor = &p.viewer.who.actor;
    let case = s.app.get_case(actor, &id).await?;
    let Some(cat) = &case.category_id else { return Err(UiError::BadRequest("the case has no category".into())) };
    let category = s.app.get_category(actor, cat).await?;
    let mut values: Map<String, Value> = case.custom_fields.clone();
    for f in &category.fields {
        let raw = p.form.get(&format!("cf.{}", f.key)).unwrap_or_default();
        let v = match f.kind {
            FieldKind::Checkbox => Value::Bool(raw == "on"),
            _ if raw.is_empty() => Value::Null,
            FieldKind::Number => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::String(raw.into()), Value::Number),
            FieldKind::MultiSelect => Value::Array(addresses(Some(raw)).into_iter().map(Value::String).collect()),
            _ => Value::String(raw.to_string()),
        };
        values.insert(f.key.clone(), v);
    }
    let patch = CasePatch { custom_fields: Some(values), ..CasePatch::default() };
    let result = match s.app.update_case(actor, &id, patch, None).await {
        Ok(_) => Ok("details"),
        Err(e) => Err(e),
    };
    match result {
        Ok(anchor) => Ok(Redirect::to(&format!("/cases/{id}#{anchor}")).into_response()),
        Err(e) => {
            let (status, message) = explain(e)?;
            let refused = Refused { panel_error: Some(("details", message)), ..Refused::default() };
            case_page(&s, &p.viewer, &id, refused, status).await
        }
    }
}
