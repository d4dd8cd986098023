//! Admin pages for webhooks: `/admin/webhooks` lists them with a form to add one (the answer
//! shows the signing secret, once); `/admin/webhooks/{id}` shows a webhook, switches it off or
//! on, and lists its deliveries, newest first, with each one's state, attempts and last error;
//! a delivered or given-up one can be sent again.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::store::PageRequest;
use casedesk_core::webhooks::NewWebhook;
use casedesk_domain::badge;
use casedesk_domain::webhook::{DeliveryState, Webhook, WebhookInput};

use super::admin::{Input, PageQuery, invalid, list, next_page, require_admin, when};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub description: String,
    /// `Active`, `Off`, or why casedesk switched it off.
    pub state: String,
    pub active: bool,
}

impl WebhookRow {
    fn of(w: &Webhook) -> Self {
        let state = match (&w.disabled_reason, w.active) {
            (_, true) if w.failing_since.is_some() => {
                format!("Active, failing since {}", w.failing_since.map(when).unwrap_or_default())
            }
            (_, true) => "Active".into(),
            (Some(why), false) => format!("Switched off: {why}"),
            (None, false) => "Off".into(),
        };
        WebhookRow {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.join(", "),
            description: w.description.clone(),
            state,
            active: w.active,
        }
    }
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    rows: Vec<WebhookRow>,
    next: Option<String>,
    fields: Vec<Input>,
}

async fn webhooks_page(
    s: &AppState,
    viewer: &Viewer,
    cursor: Option<String>,
    form: &FormData,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let page = s.app.list_webhooks(&viewer.who.actor, &PageRequest { limit: 50, cursor }).await?;
    let rows = page.items.iter().map(WebhookRow::of).collect();
    let v = |n: &str| form.get(n).unwrap_or_default().to_string();
    let events = form.get("events").unwrap_or("*").to_string();
    let fields = vec![
        Input::new("new-webhook", "url", "URL", "url", v("url")).hint("Deliveries are POSTed here.").errors(&errors),
        Input::new("new-webhook", "events", "Events", "text", events)
            .hint("Comma-separated event types, e.g. case.created, comment.added; * for all.")
            .errors(&errors),
        Input::new("new-webhook", "description", "Description", "text", v("description")).errors(&errors),
    ];
    let status = errors.status();
    let next = next_page("/admin/webhooks", page.next_cursor);
    Ok(html(status, &WebhooksPage { chrome: Chrome::of(viewer, "admin"), rows, next, fields }))
}

pub async fn webhooks(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    webhooks_page(&s, &viewer, q.cursor, &FormData(Vec::new()), FieldErrors::default()).await
}

pub async fn create_webhook(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let input = WebhookInput {
        url: Some(p.form.get("url").unwrap_or_default().to_string()),
        events: Some(list(p.form.get("events"))),
        description: Some(p.form.get("description").unwrap_or_default().to_string()),
        active: None,
    };
    match s.app.create_webhook(&p.viewer.who.actor, NewWebhook { input, secret: None }).await {
        Ok(w) => {
            let secret = w.secret.clone();
            webhook_page(&s, &p.viewer, &w.id, None, Some(secret)).await
        }
        Err(e) => {
            // The form has one events field: `events[2]`'s message is shown there.
            let mut errors = invalid(e, "url")?;
            for f in &mut errors.0 {
                if f.field.starts_with("events[") {
                    f.field = "events".into();
                }
            }
            webhooks_page(&s, &p.viewer, None, &p.form, errors).await
        }
    }
}

pub struct DeliveryRow {
    pub id: String,
    /// Delivered or given up: it can be sent again.
    pub finished: bool,
    pub event_type: String,
    pub case_id: String,
    pub state: &'static str,
    pub attempts: i64,
    pub response: String,
    pub error: String,
    pub created: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "admin_webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    hook: WebhookRow,
    deliveries: Vec<DeliveryRow>,
    next: Option<String>,
    /// The signing secret, on the page that answers the creation only.
    secret: Option<String>,
}

async fn webhook_page(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    cursor: Option<String>,
    secret: Option<String>,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let w = s.app.get_webhook(actor, id).await?;
    let page = s.app.list_webhook_deliveries(actor, id, &PageRequest { limit: 50, cursor }).await?;
    let now = s.app.clock.now();
    let deliveries = page
        .items
        .iter()
        .map(|d| DeliveryRow {
            id: d.id.clone(),
            finished: d.state != DeliveryState::Pending,
            event_type: d.event_type.clone(),
            case_id: d.case_id.clone(),
            state: d.state.as_str(),
            attempts: d.attempts,
            response: d.response_status.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            error: d.last_error.clone().unwrap_or_default(),
            created: badge::ago(d.created_at, now),
            next: if d.state.as_str() == "pending" { when(d.next_attempt_at) } else { String::new() },
        })
        .collect();
    let next = next_page(&format!("/admin/webhooks/{id}"), page.next_cursor);
    let status = if secret.is_some() { StatusCode::CREATED } else { StatusCode::OK };
    Ok(html(
        status,
        &WebhookPage { chrome: Chrome::of(viewer, "admin"), hook: WebhookRow::of(&w), deliveries, next, secret },
    ))
}

pub async fn webhook(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    webhook_page(&s, &viewer, &id, q.cursor, None).await
}

/// Switches a webhook off (`active=false`) or back on (`active=true`, forgetting its failures).
pub async fn set_active(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let active = p.form.get("active") == Some("true");
    let input = WebhookInput { active: Some(active), ..Default::default() };
    s.app.update_webhook(&p.viewer.who.actor, &id, input).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

/// Sends a delivered or given-up delivery again (same event id and body, due at once).
pub async fn redeliver(
    State(s): State<AppState>,
    Path((id, delivery_id)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    s.app.redeliver_webhook(&p.viewer.who.actor, &id, &delivery_id).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}
