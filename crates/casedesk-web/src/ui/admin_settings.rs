//! Admin page for the organization's mail and assistant settings: `/admin/settings` shows the
//! outgoing mail server (host, port, security, user, sender) and the assistant's provider
//! (built-in or an OpenAI-compatible endpoint with its model, key header and timeout), each with
//! a form of its own. A stored SMTP password or API key is never shown back, only whether one
//! is set; leaving its field empty keeps it, and a checkbox removes it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_domain::ai::settings::AiSettingsInput;
use casedesk_domain::email::MailSettingsInput;

use super::admin::{Input, invalid, number, require_admin, security_choices};
use super::display::{Chrome, FieldErrors};
use super::error::{UiError, html};
use super::session::{FormData, Posted, Viewer};
use crate::AppState;

const SECURITY: &[&str] = &["starttls", "tls", "none"];

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    mail: Vec<Input>,
    mail_password_set: bool,
    sending: bool,
    ai: Vec<Input>,
    ai_key_set: bool,
    /// `mail` or `ai`: the form just saved.
    saved: &'static str,
}

/// Which form was sent, with what and what was wrong with it.
enum Sent<'a> {
    Nothing,
    Saved(&'static str),
    Mail(&'a FormData, FieldErrors),
    Ai(&'a FormData, FieldErrors),
}

async fn settings_page(s: &AppState, viewer: &Viewer, sent: Sent<'_>) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let m = s.app.mail_settings(actor).await?;
    let a = s.app.ai_settings(actor).await?;
    let none = FieldErrors::default();
    let (mail_form, mail_errors) = match &sent {
        Sent::Mail(f, e) => (Some(*f), e),
        _ => (None, &none),
    };
    let (ai_form, ai_errors) = match &sent {
        Sent::Ai(f, e) => (Some(*f), e),
        _ => (None, &none),
    };
    // What was sent, or else what is stored.
    let mv = |n: &str, stored: Option<String>| match mail_form {
        Some(f) => f.get(n).unwrap_or_default().to_string(),
        None => stored.unwrap_or_default(),
    };
    let av = |n: &str, stored: Option<String>| match ai_form {
        Some(f) => f.get(n).unwrap_or_default().to_string(),
        None => stored.unwrap_or_default(),
    };
    let password_hint =
        if m.smtp_password.is_some() { "A password is set; leave empty to keep it." } else { "No password is set." };
    let mail = vec![
        Input::new("mail", "smtp_host", "SMTP server", "text", mv("smtp_host", m.smtp_host.clone()))
            .errors(mail_errors),
        Input::new("mail", "smtp_port", "Port", "number", mv("smtp_port", Some(m.port().to_string())))
            .errors(mail_errors),
        Input::new(
            "mail",
            "smtp_security",
            "Security",
            "select",
            mv("smtp_security", Some(m.smtp_security.as_str().into())),
        )
        .options(security_choices(SECURITY))
        .hint("STARTTLS on port 587, TLS on port 465; none only for a relay on this machine.")
        .errors(mail_errors),
        Input::new("mail", "smtp_username", "User name", "text", mv("smtp_username", m.smtp_username.clone()))
            .errors(mail_errors),
        Input::new("mail", "smtp_password", "Password", "password", "").hint(password_hint).errors(mail_errors),
        Input::new("mail", "remove_password", "Remove the stored password", "checkbox", "").errors(mail_errors),
        Input::new("mail", "from_address", "Sender address", "email", mv("from_address", m.from_address.clone()))
            .hint("Replies on cases whose queue has no mailbox come from this address.")
            .errors(mail_errors),
        Input::new("mail", "from_name", "Sender name", "text", mv("from_name", m.from_name.clone()))
            .errors(mail_errors),
    ];
    let key_hint = if a.api_key_sealed.is_some() {
        "A key is set; leave empty to keep it (it goes with its URL)."
    } else {
        "No key is set."
    };
    let ai = vec![
        Input::new("ai", "provider", "Provider", "select", av("provider", Some(a.provider.as_str().into())))
            .options(vec![
                ("builtin".into(), "Built in (offline)".into()),
                ("openai_compatible".into(), "OpenAI-compatible endpoint".into()),
            ])
            .errors(ai_errors),
        Input::new("ai", "base_url", "Base URL", "url", av("base_url", a.base_url.clone()))
            .hint("Requests go to <base URL>/chat/completions, e.g. https://api.openai.com/v1.")
            .errors(ai_errors),
        Input::new("ai", "model", "Model", "text", av("model", a.model.clone())).errors(ai_errors),
        Input::new("ai", "api_key", "API key", "password", "").hint(key_hint).errors(ai_errors),
        Input::new("ai", "remove_api_key", "Remove the stored key", "checkbox", "").errors(ai_errors),
        Input::new(
            "ai",
            "api_key_header",
            "Key header",
            "select",
            av("api_key_header", Some(a.api_key_header.as_str().into())),
        )
        .options(vec![
            ("authorization".into(), "Authorization: Bearer".into()),
            ("api-key".into(), "api-key (Azure OpenAI)".into()),
        ])
        .errors(ai_errors),
        Input::new("ai", "api_version", "API version", "text", av("api_version", a.api_version.clone()))
            .hint("Azure OpenAI only.")
            .errors(ai_errors),
        Input::new(
            "ai",
            "timeout_secs",
            "Timeout (seconds)",
            "number",
            av("timeout_secs", Some(a.timeout_secs.to_string())),
        )
        .hint("1 to 120; past it the built-in provider answers.")
        .errors(ai_errors),
    ];
    let status =
        if mail_errors.is_empty() && ai_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let saved = if let Sent::Saved(which) = sent { which } else { "" };
    let page = SettingsPage {
        chrome: Chrome::of(viewer, "admin"),
        mail,
        mail_password_set: m.smtp_password.is_some(),
        sending: m.can_send(),
        ai,
        ai_key_set: a.api_key_sealed.is_some(),
        saved,
    };
    Ok(html(status, &page))
}

pub async fn settings(State(s): State<AppState>, viewer: Viewer) -> Result<Response, UiError> {
    require_admin(&viewer)?;
    settings_page(&s, &viewer, Sent::Nothing).await
}

/// A secret's field: a new value, removed (`Some(None)`) when ticked so, else kept (`None`).
fn secret(form: &FormData, field: &str, remove: &str) -> Option<Option<String>> {
    if form.get(remove) == Some("true") { Some(None) } else { form.non_empty(field).map(Some) }
}

pub async fn update_mail(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let f = &p.form;
    let mut errors = Vec::new();
    let port = number("smtp_port", f.get("smtp_port"), &mut errors);
    let text = |n: &str| Some(Some(f.get(n).unwrap_or_default().to_string()));
    let errors = if errors.is_empty() {
        let input = MailSettingsInput {
            smtp_host: text("smtp_host"),
            smtp_port: Some(port),
            smtp_security: Some(f.get("smtp_security").unwrap_or_default().to_string()),
            smtp_username: text("smtp_username"),
            smtp_password: secret(f, "smtp_password", "remove_password"),
            from_address: text("from_address"),
            from_name: text("from_name"),
        };
        match s.app.update_mail_settings(&p.viewer.who.actor, input).await {
            Ok(_) => return settings_page(&s, &p.viewer, Sent::Saved("mail")).await,
            Err(e) => invalid(e, "smtp_host")?,
        }
    } else {
        FieldErrors(errors)
    };
    settings_page(&s, &p.viewer, Sent::Mail(f, errors)).await
}

pub async fn update_ai(State(s): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p.viewer)?;
    let f = &p.form;
    let mut errors = Vec::new();
    let timeout_secs = number("timeout_secs", f.get("timeout_secs"), &mut errors);
    let errors = if errors.is_empty() {
        let input = AiSettingsInput {
            provider: f.non_empty("provider"),
            base_url: f.non_empty("base_url"),
            model: f.non_empty("model"),
            api_key: secret(f, "api_key", "remove_api_key"),
            api_key_header: f.non_empty("api_key_header"),
            api_version: f.non_empty("api_version"),
            timeout_secs,
        };
        match s.app.update_ai_settings(&p.viewer.who.actor, input).await {
            Ok(_) => return settings_page(&s, &p.viewer, Sent::Saved("ai")).await,
            Err(e) => invalid(e, "provider")?,
        }
    } else {
        FieldErrors(errors)
    };
    settings_page(&s, &p.viewer, Sent::Ai(f, errors)).await
}
