//! The agent web UI: server-rendered pages under `/`, next to the JSON API.
//!
//! Pages are askama templates (`templates/`, checked at compile time, escaped by default);
//! htmx (embedded, like every asset: [`assets`]) boosts links and forms into partial page
//! swaps and refreshes the case list as the search box is typed in, and everything works as
//! plain links and form posts with JavaScript off. Handlers are as thin as the API's: they call
//! the same [`casedesk_core::App`] use cases and render the answer.
//!
//! Layout: [`session`] (the session cookie, the signed-in viewer and the CSRF-checked form
//! extractor), [`error`] (failures as pages), [`auth`] (sign-in, sign-out, password change),
//! [`cases`] (list, new case, case page), [`assistant`] (the case page's assistant panel), [`bulk`] (the list's filters and bulk actions), [`time`] (timers and time
//! logged on a case), [`live`] (server-sent events for live pages, and who else is on a case), [`panels`] (the case page's
//! SLA, requester, milestones, links and files), [`compose`] (macros, updates by email, profile fields), [`people`] (contacts and
//! accounts with their cases), [`reports`] (the reports page with its SVG charts), [`csat`] (the public satisfaction survey
//! page), [`portal`] (the customer portal: requesters' sign-in by mailed link or visitor token, and their cases), [`admin`] (the admin index, what admin pages share, and the trash), [`admin_users`] (users and API tokens), [`admin_queues`] (queues and their members), [`admin_sla`] (SLA policies and business calendars), [`admin_rules`] (automation rules), [`admin_macros`] (macros), [`admin_settings`] (mail and assistant settings), [`admin_workflow`] (custom statuses and categories), [`admin_webhooks`] (webhooks and their deliveries), [`display`] (how values read on a page).

pub mod admin;
pub mod admin_macros;
pub mod admin_mailboxes;
pub mod admin_queues;
pub mod admin_rules;
pub mod admin_settings;
pub mod admin_sla;
pub mod admin_users;
pub mod admin_webhooks;
pub mod admin_workflow;
pub mod assets;
pub mod assistant;
pub mod auth;
pub mod bulk;
pub mod cases;
pub mod compose;
pub mod csat;
pub mod display;
pub mod error;
pub mod live;
pub mod panels;
pub mod people;
pub mod portal;
pub mod reports;
pub mod session;
pub mod time;

use axum::Router;
use axum::extract::Extension;
use axum::http::{HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use casedesk_core::sessions::SignInPolicy;

use crate::AppState;

/// Settings of the web UI.
#[derive(Debug, Clone, Default)]
pub struct UiConfig {
    /// Mark the session cookie `Secure` (serve over TLS, or behind a proxy that terminates it).
    pub secure_cookies: bool,
    /// Session lifetime, idle timeout and sign-in throttling.
    pub sign_in: SignInPolicy,
}

/// Pages allow scripts, styles and forms from this origin only, and no framing.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The UI's routes.
pub fn routes(config: &UiConfig) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/cases") }))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/account/password", get(auth::password_page).post(auth::change_password))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/new", get(cases::new_page))
        .route("/cases/export.xlsx", get(cases::export))
        .route("/cases/live", get(live::list_stream))
        .route("/cases/{id}/live", get(live::case_stream))
        .route("/cases/{id}/typing", post(live::typing))
        .route("/cases/bulk", get(bulk::back_to_list).post(bulk::apply))
        .route("/views", post(cases::save_view))
        .route("/cases/{id}", get(cases::page).post(cases::update))
        .route("/cases/{id}/comments", post(cases::comment))
        .route("/cases/{id}/assistant", get(assistant::back).post(assistant::ask))
        .route("/cases/{id}/timer", post(time::timer))
        .route("/cases/{id}/time", post(time::log))
        .route("/cases/{id}/estimate", post(time::estimate))
        .route("/cases/{id}/milestones", post(panels::milestones))
        .route("/cases/{id}/macro", post(compose::apply_macro))
        .route("/cases/{id}/send-update", post(compose::send_update))
        .route("/cases/{id}/fields", post(compose::fields))
        .route("/cases/{id}/links", post(panels::links))
        .route("/cases/{id}/requester", post(panels::requester))
        // Uploads stream to the blob store, which enforces the file size limit itself.
        .route("/cases/{id}/files", post(panels::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/cases/{id}/files/{file_id}", get(panels::download))
        .route("/contacts", get(people::contacts))
        .route("/contacts/{id}", get(people::contact))
        .route("/accounts", get(people::accounts))
        .route("/accounts/{id}", get(people::account))
        .route("/admin", get(admin::index))
        .route("/admin/users", get(admin_users::users).post(admin_users::create_user))
        .route("/admin/users/{id}", get(admin_users::user).post(admin_users::update_user))
        .route("/admin/users/{id}/active", post(admin_users::set_active))
        .route("/admin/tokens", get(admin_users::tokens).post(admin_users::create_token))
        .route("/admin/tokens/{id}/revoke", post(admin_users::revoke_token))
        .route("/admin/queues", get(admin_queues::queues).post(admin_queues::create_queue))
        .route("/admin/queues/{id}", get(admin_queues::queue).post(admin_queues::update_queue))
        .route("/admin/queues/{id}/members", post(admin_queues::put_member))
        .route("/admin/queues/{id}/members/{user_id}/remove", post(admin_queues::remove_member))
        .route("/admin/webhooks", get(admin_webhooks::webhooks).post(admin_webhooks::create_webhook))
        .route("/admin/webhooks/{id}", get(admin_webhooks::webhook))
        .route("/admin/webhooks/{id}/active", post(admin_webhooks::set_active))
        .route("/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(admin_webhooks::redeliver))
        .route("/admin/sla", get(admin_sla::index))
        .route("/admin/sla/policies", post(admin_sla::create_policy))
        .route("/admin/sla/policies/{id}", get(admin_sla::policy).post(admin_sla::update_policy))
        .route("/admin/sla/calendars", post(admin_sla::create_calendar))
        .route("/admin/sla/calendars/{id}", get(admin_sla::calendar).post(admin_sla::update_calendar))
        .route("/admin/rules", get(admin_rules::rules).post(admin_rules::create_rule))
        .route("/admin/rules/{id}", get(admin_rules::rule).post(admin_rules::update_rule))
        .route("/admin/rules/{id}/active", post(admin_rules::set_active))
        .route("/admin/macros", get(admin_macros::macros).post(admin_macros::create_macro))
        .route("/admin/macros/{id}", get(admin_macros::macro_).post(admin_macros::update_macro))
        .route("/admin/macros/{id}/delete", post(admin_macros::delete_macro))
        .route("/admin/workflow", get(admin_workflow::index))
        .route("/admin/workflow/statuses", post(admin_workflow::create_status))
        .route("/admin/workflow/categories", post(admin_workflow::create_category))
        .route("/admin/workflow/categories/{id}", get(admin_workflow::category).post(admin_workflow::update_category))
        .route("/admin/mailboxes", get(admin_mailboxes::mailboxes).post(admin_mailboxes::create_mailbox))
        .route("/admin/mailboxes/{id}", get(admin_mailboxes::mailbox))
        .route("/admin/mailboxes/{id}/imap", post(admin_mailboxes::set_imap))
        .route("/admin/mailboxes/{id}/imap/remove", post(admin_mailboxes::clear_imap))
        .route("/admin/mailboxes/{id}/delete", post(admin_mailboxes::delete_mailbox))
        .route("/admin/settings", get(admin_settings::settings))
        .route("/admin/settings/mail", post(admin_settings::update_mail))
        .route("/admin/settings/ai", post(admin_settings::update_ai))
        .route("/admin/trash", get(admin::trash))
        .route("/admin/trash/{id}/restore", post(admin::restore))
        .route("/reports", get(reports::page))
        .route("/reports/download", get(reports::download))
        .route("/csat/{token}", get(csat::page).post(csat::answer))
        .merge(portal::routes())
        .layer(axum::middleware::map_response(security_headers))
        .route("/assets/{name}", get(assets::serve))
        .layer(Extension(config.clone()))
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
