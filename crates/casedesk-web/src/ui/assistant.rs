//! The assistant on the case page: a panel that runs summarize, categorize, suggest reply and
//! evaluate on the case (the same use case as `POST /api/v1/cases/{id}/ai`) and shows the
//! answer with the provider and model that produced it. A suggested reply comes in an editable
//! field: sent as it is or after editing (it goes through the ordinary reply form), or
//! discarded. Suggestions on the timeline read the same way.
//!
//! The panel's markup is `templates/case_assistant.html`, included by the case page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use casedesk_core::ai::{AiRequest, Suggestion};
use casedesk_domain::ai::AiAction;
use casedesk_domain::timeline::Event;
use jiff::Timestamp;
use serde_json::Value;

use super::cases::{Refused, case_page, explain};
use super::display::{Entry, Names, label};
use super::error::UiError;
use super::session::Posted;
use crate::AppState;

/// What the panel shows: nothing yet, an answer, or why there is none.
#[derive(Default)]
pub struct Panel {
    pub error: Option<String>,
    pub shown: Option<Shown>,
}

/// An answer as the panel shows it.
pub struct Shown {
    /// "Summary", "Suggested reply" …
    pub title: &'static str,
    pub provider: String,
    pub model: String,
    /// Why the organization's provider's answer was not used, when it was not.
    pub fallback: Option<String>,
    /// The result in lines of text (not for a draft).
    pub lines: Vec<String>,
    /// A suggested reply, to edit and send.
    pub draft: Option<String>,
}

fn title(action: &str) -> &'static str {
    match action {
        "summarize" => "Summary",
        "categorize" => "Categories",
        "suggest_reply" => "Suggested reply",
        "evaluate" => "Evaluation",
        _ => "Suggestion",
    }
}

fn percent(v: &Value) -> String {
    format!("{:.0} %", v.as_f64().unwrap_or(0.0) * 100.0)
}

/// A result in lines of text, for the panel and the timeline.
fn lines(action: &str, r: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match action {
        "summarize" | "suggest_reply" => out.push(r["text"].as_str().unwrap_or_default().to_string()),
        "categorize" => {
            let guess =
                |g: &Value, v: &Value| format!("{} ({})", v.as_str().unwrap_or_default(), percent(&g["confidence"]));
            match r["category"].as_object() {
                Some(_) => out.push(format!("Category: {}", guess(&r["category"], &r["category"]["value"]["name"]))),
                None => out.push("Category: none fits".to_string()),
            }
            let alternatives: Vec<String> = r["alternatives"]
                .as_array()
                .map(|a| a.iter().map(|g| guess(g, &g["value"]["name"])).collect())
                .unwrap_or_default();
            if !alternatives.is_empty() {
                out.push(format!("Also possible: {}", alternatives.join(", ")));
            }
            if r["topic"].is_object() {
                let topic = label(r["topic"]["value"].as_str().unwrap_or_default()).to_lowercase();
                out.push(format!("Topic: {topic} ({})", percent(&r["topic"]["confidence"])));
            }
            let priority = label(r["priority"]["value"].as_str().unwrap_or_default());
            out.push(format!("Priority: {priority} ({})", percent(&r["priority"]["confidence"])));
        }
        "evaluate" => {
            let scored = |k: &str| format!("{} ({})", r[k]["label"].as_str().unwrap_or_default(), r[k]["score"]);
            out.push(format!("Complexity: {}", scored("complexity")));
            out.push(format!("Sentiment: {}", scored("sentiment")));
            let risk = &r["sla_risk"];
            let mut sla = format!("SLA risk: {}", risk["level"].as_str().unwrap_or("none"));
            if let Some(m) = risk["minutes_left"].as_i64() {
                sla.push_str(&format!(", {m} minutes left"));
            }
            out.push(sla);
            for s in r["next_steps"].as_array().into_iter().flatten() {
                out.push(format!(
                    "Next: {} — {}",
                    label(s["action"].as_str().unwrap_or_default()),
                    s["reason"].as_str().unwrap_or_default()
                ));
            }
        }
        _ => {}
    }
    out
}

fn fallback_text(f: &Value) -> Option<String> {
    f.as_object()?;
    Some(format!(
        "{} ({}) gave no usable answer: {}",
        f["provider"].as_str().unwrap_or_default(),
        f["model"].as_str().unwrap_or_default(),
        f["reason"].as_str().unwrap_or_default()
    ))
}

impl Shown {
    /// An answer from the suggestion's timeline data (`action`, `provider`, `model`, `result`,
    /// `fallback`), which the API answers with too.
    fn of_data(data: &Value) -> Shown {
        let action = data["action"].as_str().unwrap_or_default();
        let draft =
            (action == "suggest_reply").then(|| data["result"]["text"].as_str().unwrap_or_default().to_string());
        Shown {
            title: title(action),
            provider: data["provider"].as_str().unwrap_or_default().to_string(),
            model: data["model"].as_str().unwrap_or_default().to_string(),
            fallback: fallback_text(&data["fallback"]),
            lines: if draft.is_some() { Vec::new() } else { lines(action, &data["result"]) },
            draft,
        }
    }

    fn of(s: &Suggestion) -> Shown {
        let mut data = serde_json::json!({
            "action": s.action.as_str(), "provider": s.provider, "model": s.model, "result": s.result,
        });
        if let Some(f) = &s.fallback {
            data["fallback"] = serde_json::json!({"provider": f.provider, "model": f.model, "reason": f.reason});
        }
        Shown::of_data(&data)
    }
}

/// A suggestion on the timeline: what was asked, by which provider and model, and the answer.
pub fn timeline_entry(e: &Event, names: &Names, now: Timestamp) -> Entry {
    let shown = Shown::of_data(&e.data);
    let mut text = format!("{} by {} ({})", shown.title, shown.provider, shown.model);
    if let Some(f) = &shown.fallback {
        text.push_str(&format!(" — {f}"));
    }
    for l in shown.draft.iter().chain(shown.lines.iter()) {
        text.push('\n');
        text.push_str(l);
    }
    let who = e.actor_id.as_deref().map(|id| names.user(Some(id))).unwrap_or_else(|| "casedesk".into());
    Entry::at("ai", "AI suggestion", who, text, e.created_at, now)
}

/// `POST /cases/{id}/assistant`: runs the action of the button pressed and shows the case page
/// with the answer in the panel (htmx swaps in the panel alone).
pub async fn ask(State(s): State<AppState>, Path(id): Path<String>, p: Posted) -> Result<Response, UiError> {
    let asked = p.form.get("action").unwrap_or_default();
    let (status, panel) = match AiAction::parse(asked) {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, Panel { error: Some(message), shown: None }),
        Ok(action) => match s.app.ai_assist(&p.viewer.who.actor, &id, AiRequest { action, erp_context: None }).await {
            Ok(suggestion) => (StatusCode::OK, Panel { error: None, shown: Some(Shown::of(&suggestion)) }),
            Err(e) => {
                let (status, message) = explain(e)?;
                (status, Panel { error: Some(message), shown: None })
            }
        },
    };
    let shown = Refused { assistant: panel, ..Default::default() };
    case_page(&s, &p.viewer, &id, shown, status).await
}

/// `GET /cases/{id}/assistant` (a reload after asking without JavaScript): the case page.
pub async fn back(Path(id): Path<String>) -> Response {
    Redirect::to(&format!("/cases/{id}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_read_as_lines() {
        let cat = json!({"category": {"value": {"id": "ccat_1", "name": "Billing"}, "confidence": 0.82},
            "alternatives": [{"value": {"id": "ccat_2", "name": "Refunds"}, "confidence": 0.1}],
            "topic": {"value": "refund_request", "confidence": 0.5}, "priority": {"value": "high", "confidence": 0.6}});
        assert_eq!(
            lines("categorize", &cat),
            [
                "Category: Billing (82 %)",
                "Also possible: Refunds (10 %)",
                "Topic: refund request (50 %)",
                "Priority: High (60 %)"
            ]
        );
        let ev = json!({"complexity": {"label": "low", "score": 0.5}, "sentiment": {"label": "negative", "score": -0.6},
            "sla_risk": {"level": "high", "due_at": null, "minutes_left": 30},
            "next_steps": [{"action": "ask_for_information", "reason": "no order number was given"}]});
        assert_eq!(
            lines("evaluate", &ev),
            [
                "Complexity: low (0.5)",
                "Sentiment: negative (-0.6)",
                "SLA risk: high, 30 minutes left",
                "Next: Ask for information — no order number was given"
            ]
        );
        let shown = Shown::of_data(&json!({"action": "suggest_reply", "provider": "builtin", "model": "retrieval",
            "result": {"text": "Hi Ana"}, "fallback": {"provider": "openai_compatible", "model": "gpt", "reason": "no answer within 20 s"}}));
        assert_eq!(shown.draft.as_deref(), Some("Hi Ana"));
        assert_eq!(
            shown.fallback.as_deref(),
            Some("openai_compatible (gpt) gave no usable answer: no answer within 20 s")
        );
    }
}
