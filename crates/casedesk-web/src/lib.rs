//! casedesk-web: the HTTP face of casedesk.
//!
//! [`router`] builds the whole axum application: `/healthz` and `/readyz`, the `/api/v1` JSON
//! API (whose OpenAPI document is generated from the handlers and served at
//! `/api/v1/openapi.json`), the agent web UI under `/` ([`ui`]: pages, sessions, assets),
//! request ids, tracing and body limits, and [`metrics`] (`/metrics`, and the middleware that
//! counts every request by its matched route). Handlers are thin: they read
//! the request, call one use case of [`casedesk_core::App`], and shape the answer. Failures go
//! through one adapter ([`error::ApiError`]) into `application/problem+json`.

#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::routing::get;
use casedesk_core::App;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest JSON body of an ordinary request.
    pub max_body_bytes: usize,
    /// Largest body of an import request.
    pub max_import_bytes: usize,
    /// Largest raw message `POST /api/v1/inbound/email` reads; messages between the inbound
    /// mail limit and this are quarantined rather than refused.
    pub max_inbound_email_bytes: usize,
    /// The web UI's cookies, sessions and sign-in throttling.
    pub ui: ui::UiConfig,
    /// With a token, the main listener serves `/metrics` to `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 32 * 1024 * 1024,
            max_inbound_email_bytes: 64 * 1024 * 1024,
            ui: ui::UiConfig::default(),
            metrics_token: None,
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "casedesk API", description = "Cases, comments, timelines, contacts, accounts, users and tokens of a casedesk organization."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(error::Problem, error::ProblemField)),
    tags(
        (name = "cases", description = "Cases, their comments and timeline"),
        (name = "queues", description = "Case queues"),
        (name = "accounts"), (name = "contacts"), (name = "users"), (name = "tokens"),
        (name = "imports", description = "Historical cases from another helpdesk"),
        (name = "views", description = "Predefined and saved views, their cases and counts"),
        (name = "time", description = "Time tracking: timers, time entries, timesheets, totals, estimates"),
        (name = "webhooks", description = "Signed HTTP deliveries of case events, their log and redelivery"),
        (name = "channels", description = "Connectors that take agents' replies to chat, SMS, WhatsApp and web chat"),
        (name = "signing-keys", description = "Keys that sign the visitor tokens of the external-visitors API"),
        (name = "external-visitors", description = "A host application reads its visitors' cases (seed 002)"),
        (name = "email", description = "Mail in and out: SMTP settings, mailboxes, inbound messages, each case's mail"),
        (name = "automation", description = "Rules that act on cases when something happens or after a time"),
        (name = "macros", description = "Saved replies and actions agents apply by hand; agents' notifications"),
        (name = "ai", description = "The assistant: summaries, categories, reply drafts, evaluations; its provider"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The `/api/v1` routes and the OpenAPI document describing exactly them.
pub fn api_routes(config: &HttpConfig) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use api::{
        activities as act, ai, automation as au, bulk, cases, channels as ch, directory as d, email, events, exports,
        files, imports, intake, macros as mc, milestones as ms, org, queues, search, signing_keys as sk, sla, time,
        trash, views, visitors, webhooks as wh, workflow as w,
    };
    let imports = OpenApiRouter::new()
        .routes(routes!(imports::import_cases))
        .layer(DefaultBodyLimit::max(config.max_import_bytes));
    // Uploads stream to the blob store and enforce the file size limit themselves.
    let uploads =
        OpenApiRouter::new().routes(routes!(files::upload_file, files::list_files)).layer(DefaultBodyLimit::disable());
    let inbound = OpenApiRouter::new()
        .routes(routes!(email::inbound_email))
        .layer(DefaultBodyLimit::max(config.max_inbound_email_bytes));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(cases::list_cases, cases::create_case))
        .routes(routes!(cases::get_case, cases::update_case, cases::delete_case))
        .routes(routes!(bulk::bulk_cases))
        .routes(routes!(ai::assist))
        .routes(routes!(ai::get_ai_settings, ai::put_ai_settings))
        .routes(routes!(bulk::get_bulk_job))
        .routes(routes!(bulk::cancel_bulk_job))
        .routes(routes!(trash::list_trash))
        .routes(routes!(trash::restore_case))
        .routes(routes!(trash::purge_case))
        .routes(routes!(cases::list_comments, cases::create_comment))
        .routes(routes!(cases::timeline))
        .routes(routes!(events::event_feed))
        .routes(routes!(search::search_cases))
        .routes(routes!(views::list_views, views::create_view))
        .routes(routes!(views::get_view, views::update_view, views::delete_view))
        .routes(routes!(views::view_cases))
        .routes(routes!(wh::list_webhooks, wh::create_webhook))
        .routes(routes!(wh::get_webhook, wh::update_webhook, wh::delete_webhook))
        .routes(routes!(wh::list_deliveries))
        .routes(routes!(wh::redeliver))
        .routes(routes!(sk::list_signing_keys, sk::create_signing_key))
        .routes(routes!(sk::get_signing_key, sk::revoke_signing_key))
        .routes(routes!(visitors::list_visitor_cases))
        .routes(routes!(visitors::get_visitor_case))
        .routes(routes!(au::list_rules, au::create_rule))
        .routes(routes!(au::get_rule, au::update_rule, au::delete_rule))
        .routes(routes!(au::dry_run))
        .routes(routes!(mc::list_macros, mc::create_macro))
        .routes(routes!(mc::get_macro, mc::update_macro, mc::delete_macro))
        .routes(routes!(mc::apply_macro))
        .routes(routes!(mc::list_notifications))
        .routes(routes!(mc::read_notification))
        .routes(routes!(exports::export_xlsx))
        .routes(routes!(exports::export_csv))
        .routes(routes!(d::list_users, d::create_user))
        .routes(routes!(d::get_user, d::update_user, d::delete_user))
        .routes(routes!(d::list_tokens, d::create_token))
        .routes(routes!(d::revoke_token))
        .routes(routes!(d::list_accounts, d::create_account))
        .routes(routes!(d::get_account, d::update_account, d::delete_account))
        .routes(routes!(d::list_contacts, d::create_contact))
        .routes(routes!(d::get_contact, d::update_contact, d::delete_contact))
        .routes(routes!(cases::escalate_case))
        .routes(routes!(cases::list_links, cases::create_link))
        .routes(routes!(cases::delete_link))
        .routes(routes!(cases::close_as_duplicate))
        .routes(routes!(cases::merge_cases))
        .routes(routes!(act::list_activities, act::create_activity))
        .routes(routes!(act::update_activity, act::delete_activity))
        .routes(routes!(act::open_tasks))
        .routes(routes!(ms::list_milestones, ms::create_milestone))
        .routes(routes!(ms::update_milestone, ms::delete_milestone))
        .routes(routes!(ms::list_templates, ms::put_templates))
        .routes(routes!(queues::list_queues, queues::create_queue))
        .routes(routes!(queues::get_queue, queues::update_queue, queues::delete_queue))
        .routes(routes!(queues::list_members))
        .routes(routes!(queues::put_member, queues::delete_member))
        .routes(routes!(sla::list_calendars, sla::create_calendar))
        .routes(routes!(sla::get_calendar, sla::update_calendar, sla::delete_calendar))
        .routes(routes!(sla::import_holidays))
        .routes(routes!(sla::list_policies, sla::create_policy))
        .routes(routes!(sla::get_policy, sla::update_policy, sla::delete_policy))
        .routes(routes!(org::get_organization, org::update_organization))
        .routes(routes!(w::list_statuses, w::create_status))
        .routes(routes!(w::get_status, w::update_status, w::delete_status))
        .routes(routes!(w::list_stages, w::create_stage))
        .routes(routes!(w::get_stage, w::update_stage, w::delete_stage))
        .routes(routes!(w::list_categories, w::create_category))
        .routes(routes!(w::get_category, w::update_category, w::delete_category))
        .routes(routes!(time::list_time_types, time::create_time_type))
        .routes(routes!(time::get_time_type, time::update_time_type, time::delete_time_type))
        .routes(routes!(time::list_timers))
        .routes(routes!(time::start_timer))
        .routes(routes!(time::pause_timer))
        .routes(routes!(time::stop_timer))
        .routes(routes!(time::list_case_time_entries, time::create_time_entry))
        .routes(routes!(time::set_time_estimate))
        .routes(routes!(time::list_time_entries))
        .routes(routes!(time::time_totals))
        .routes(routes!(time::get_time_entry, time::update_time_entry, time::delete_time_entry))
        .routes(routes!(files::get_file, files::delete_file))
        .routes(routes!(files::download_file))
        .routes(routes!(email::get_mail_settings, email::update_mail_settings))
        .routes(routes!(email::list_mailboxes, email::create_mailbox))
        .routes(routes!(email::get_mailbox, email::delete_mailbox))
        .routes(routes!(email::put_mailbox_imap, email::delete_mailbox_imap))
        .routes(routes!(email::held_emails))
        .routes(routes!(email::case_emails))
        .routes(routes!(email::send_update))
        .routes(routes!(intake::voicemail))
        .routes(routes!(intake::conversation))
        .routes(routes!(ch::list_connectors, ch::create_connector))
        .routes(routes!(ch::get_connector, ch::update_connector, ch::delete_connector))
        .routes(routes!(ch::case_deliveries))
        .routes(routes!(ch::connector_deliveries))
        .routes(routes!(ch::redeliver))
        .routes(routes!(ch::reply_channels))
        .routes(routes!(ch::mark_read))
        .routes(routes!(api::reports::get_report))
        .routes(routes!(api::csat::get_csat_settings, api::csat::update_csat_settings))
        .routes(routes!(api::csat::case_csat))
        .routes(routes!(email::email_original))
        .merge(imports)
        .merge(uploads)
        .merge(inbound)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .split_for_parts()
}

/// The whole application, with request metrics of its own.
pub fn router(app: App, config: &HttpConfig) -> Router {
    router_with_metrics(app, config, std::sync::Arc::default())
}

/// The whole application, recording its requests in `http_metrics` (which a separate metrics
/// listener may serve too).
pub fn router_with_metrics(
    app: App,
    config: &HttpConfig,
    http_metrics: std::sync::Arc<metrics::HttpMetrics>,
) -> Router {
    let (api, openapi) = api_routes(config);
    let scrape = match &config.metrics_token {
        Some(token) => metrics::routes(metrics::MetricsState::new(app.clone(), http_metrics.clone(), Some(token))),
        None => Router::new(),
    };
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_default();
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(api)
        .merge(ui::routes(&config.ui))
        .fallback(|uri: axum::http::Uri| async move {
            // The API answers problem+json; anything else is a page.
            if uri.path().starts_with("/api/") {
                ApiError::NoRoute.into_response()
            } else {
                ui::error::UiError::NotFound.into_response()
            }
        })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(AppState { app })
        .merge(scrape)
        .layer(axum::middleware::from_fn_with_state(http_metrics, metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("http", http.method = %req.method(), http.path = %req.uri().path(), request.id = %id)
                })
                .on_response(|resp: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                    tracing::debug!(http.status = resp.status().as_u16(), duration_ms = latency.as_secs_f64() * 1000.0, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
