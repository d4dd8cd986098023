//! Asking an external chat-completions model (OpenAI's API, which Azure OpenAI, Ollama, vLLM and
//! llama.cpp's server speak too): the messages sent for each action, the request body, and the
//! answer read back and checked against the action's result shape. An answer that does not fit
//! is refused with a short reason, and the caller falls back to the built-in provider.
//!
//! What is sent is the case at hand and nothing of another customer's:
//! - the subject, the description and the thread, cleaned of quoted history and signatures, the
//!   requester by first name only, authors as "customer" or "agent" (no names, addresses or ids);
//! - internal notes only for `summarize` and `evaluate`, whose results are for agents;
//!   `suggest_reply` and `categorize` see what the customer sees;
//! - for `suggest_reply`, the ERP facts the built-in draft would state and the sentences it would
//!   borrow from the best-fitting macro and from similar resolved cases (only sentences with no
//!   numbers, addresses, links or names); the similar cases themselves are never sent;
//! - for `categorize`, the names of the organization's categories; for `evaluate`, the SLA risk.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::classify::{Categorization, CategoryRef, TOPICS};
use super::evaluate::{Evaluation, NextStep, Scored, SlaRisk};
use super::reply::{Draft, signature};
use super::summarize::Summary;
use super::text::{clean_message, first_name};
use super::{AiAction, CaseThread, Guess};
use crate::case::Priority;

/// Most messages of a thread sent (the latest ones), and most characters of each.
const MAX_MESSAGES: usize = 40;
const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The longest answer text accepted.
const MAX_TEXT: usize = 10_000;
const MAX_ITEM: usize = 1000;
const MAX_ITEMS: usize = 10;

/// One message of a chat-completions request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

/// What is asked of the model for one action.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    pub action: AiAction,
    pub case: &'a CaseThread,
    /// categorize: the organization's categories.
    pub categories: &'a [CategoryRef],
    /// suggest_reply: the ERP facts it may state, as the built-in draft states them.
    pub facts: &'a [String],
    /// suggest_reply: sentences it may reuse (see [`super::reply::borrow`]).
    pub borrowed: &'a [String],
    /// suggest_reply: who signs.
    pub agent_name: Option<&'a str>,
    /// evaluate: the risk of an SLA breach, from the case's clocks.
    pub sla: Option<&'a SlaRisk>,
}

impl Ask<'_> {
    /// The system message (what to do, and the exact JSON shape to answer in) and the user
    /// message (the case).
    pub fn messages(&self) -> Vec<ChatMessage> {
        vec![
            ChatMessage { role: "system", content: self.instructions() },
            ChatMessage { role: "user", content: self.material() },
        ]
    }

    fn instructions(&self) -> String {
        let rules = "Answer with one JSON object and nothing else, in exactly the shape given, without other keys. \
                     Use only what the case below says; never invent order numbers, dates, tracking numbers, \
                     amounts, links or names.";
        let task = match self.action {
            AiAction::Summarize => {
                "Summarize this support case for the agents working on it. Shape: {\"text\": \"3 to 5 sentences: \
                 who asked what, what was done, what is pending and on whom\", \"asked\": [\"what the customer \
                 asked\"], \"done\": [\"what agents did\"], \"pending\": \"what is pending, and on whom\"}"
                    .to_string()
            }
            AiAction::Categorize => format!(
                "Categorize this support case. Shape: {{\"category\": {{\"value\": \"one of the categories, \
                 exactly as written\", \"confidence\": 0.0}} or null when none fits, \"alternatives\": \
                 [{{\"value\": \"another of the categories\", \"confidence\": 0.0}}], \"topic\": {{\"value\": \
                 \"one of the topics\", \"confidence\": 0.0}} or null, \"priority\": {{\"value\": \"low, medium, \
                 high or critical\", \"confidence\": 0.0}}}}. Confidences are from 0 to 1. Topics: {}.",
                TOPICS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
            ),
            AiAction::SuggestReply => format!(
                "Draft the next reply to the customer, for an agent to review before it is sent. Shape: \
                 {{\"text\": \"the reply\"}}. Greet the customer by first name when it is given. State only the \
                 facts listed under Facts, exactly as given; where the customer names an order the facts do not \
                 cover, say it is being looked into. You may reuse the approved wording. Never mention other \
                 customers or cases. Sign as {}.",
                signature(self.agent_name)
            ),
            AiAction::Evaluate => "Evaluate this support case. Shape: {\"complexity\": {\"label\": \"low, medium or \
                 high\", \"score\": 0.0}, \"sentiment\": {\"label\": \"negative, neutral or positive\", \"score\": \
                 0.0}, \"next_steps\": [{\"action\": \"reply, escalate, ask_for_information, follow_up or resolve\", \
                 \"reason\": \"why, in one sentence\"}]}. Complexity scores are from 0 (trivial) to 10; sentiment \
                 scores from -1 (angry) to 1 (pleased). Give one to four next steps, the most important first."
                .to_string(),
        };
        format!("{task}\n{rules}")
    }

    fn material(&self) -> String {
        let c = self.case;
        let with_notes = matches!(self.action, AiAction::Summarize | AiAction::Evaluate);
        let mut out = format!("Case #{}: {}\n", c.case_number, c.subject.trim());
        out.push_str(&format!("Status: {}. Priority: {}.\n", c.status.as_str(), c.priority.as_str()));
        if let Some(name) = c.requester_name.as_deref().and_then(first_name) {
            out.push_str(&format!("Customer's first name: {name}\n"));
        }
        out.push_str(&format!("\nDescription:\n{}\n", clip(&clean_message(&c.description), MAX_DESCRIPTION_CHARS)));
        let shown: Vec<_> = c
            .messages
            .iter()
            .filter(|m| with_notes || !m.internal)
            .filter(|m| self.action != AiAction::Categorize || m.from_customer)
            .collect();
        if !shown.is_empty() {
            out.push_str("\nThread, oldest first:\n");
            for m in shown.iter().skip(shown.len().saturating_sub(MAX_MESSAGES)) {
                let who = match (m.from_customer, m.internal) {
                    (true, _) => "customer",
                    (false, true) => "agent, internal note",
                    (false, false) => "agent",
                };
                out.push_str(&format!(
                    "[{} {}]\n{}\n",
                    who,
                    m.at.strftime("%Y-%m-%d %H:%M UTC"),
                    clip(&clean_message(&m.body), MAX_MESSAGE_CHARS)
                ));
            }
        }
        match self.action {
            AiAction::Categorize => {
                let names: Vec<&str> = self.categories.iter().map(|c| c.name.as_str()).collect();
                if names.is_empty() {
                    out.push_str("\nThe organization has no categories: answer null for category.\n");
                } else {
                    out.push_str(&format!("\nCategories: {}\n", names.join("; ")));
                }
            }
            AiAction::SuggestReply => {
                out.push_str("\nFacts:\n");
                if self.facts.is_empty() {
                    out.push_str("(none)\n");
                }
                for f in self.facts {
                    out.push_str(&format!("- {f}\n"));
                }
                if !self.borrowed.is_empty() {
                    out.push_str("\nApproved wording:\n");
                    for b in self.borrowed {
                        out.push_str(&format!("- {b}\n"));
                    }
                }
            }
            AiAction::Evaluate => {
                if let Some(s) = self.sla {
                    out.push_str(&format!("\nSLA: {}", s.level));
                    if let Some(m) = s.minutes_left {
                        out.push_str(&format!(", {m} minutes left"));
                    }
                    out.push('\n');
                }
            }
            AiAction::Summarize => {}
        }
        out
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

/// The body of a chat-completions request: the model, the messages, and JSON asked for.
pub fn request_body(model: &str, messages: &[ChatMessage]) -> String {
    json!({"model": model, "messages": messages, "response_format": {"type": "json_object"}}).to_string()
}

/// A model's answer: what it wrote, and which model it says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub content: String,
    pub model: Option<String>,
}

#[derive(Deserialize)]
struct CompletionBody {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

/// Reads a chat-completions response body: the first choice's content, without a Markdown code
/// fence around it.
pub fn read_completion(body: &str) -> Result<Completion, String> {
    let parsed: CompletionBody =
        serde_json::from_str(body).map_err(|e| format!("the answer is not a chat completion ({})", brief(&e)))?;
    let content = parsed
        .choices
        .into_iter()
        .next()
        .and_then(|c| c.message.content)
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| "the answer has no content".to_string())?;
    let model = parsed
        .model
        .map(|m| m.trim().chars().filter(|c| !c.is_control()).take(200).collect::<String>())
        .filter(|m| !m.is_empty());
    Ok(Completion { content: unfence(&content).to_string(), model })
}

fn unfence(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("```") {
        Some(rest) => {
            let rest = rest.strip_prefix("json").unwrap_or(rest);
            rest.strip_suffix("```").unwrap_or(rest).trim()
        }
        None => t,
    }
}

/// A serde error without the values it quotes (they are the model's words, perhaps the case's).
fn brief(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let cut = msg.split('"').next().unwrap_or("").trim_end_matches([':', ' ']);
    cut.chars().take(120).collect()
}

fn parse<T: for<'de> Deserialize<'de>>(content: &str) -> Result<T, String> {
    serde_json::from_str(content).map_err(|e| format!("the answer is not JSON in the asked shape ({})", brief(&e)))
}

fn check_text(what: &str, s: &str, max: usize, required: bool) -> Result<String, String> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if t.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    Ok(t.to_string())
}

fn check_list(what: &str, items: Vec<String>) -> Result<Vec<String>, String> {
    if items.len() > MAX_ITEMS {
        return Err(format!("{what} has more than {MAX_ITEMS} entries"));
    }
    items.iter().map(|i| check_text(what, i, MAX_ITEM, true)).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryAnswer {
    text: String,
    asked: Vec<String>,
    done: Vec<String>,
    pending: String,
}

/// A summary answer.
pub fn read_summary(content: &str) -> Result<Summary, String> {
    let a: SummaryAnswer = parse(content)?;
    Ok(Summary {
        text: check_text("text", &a.text, MAX_TEXT, true)?,
        asked: check_list("asked", a.asked)?,
        done: check_list("done", a.done)?,
        pending: check_text("pending", &a.pending, MAX_ITEM, false)?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    value: String,
    confidence: f64,
}

impl Labelled {
    fn confidence(&self, what: &str) -> Result<f64, String> {
        if (0.0..=1.0).contains(&self.confidence) {
            Ok(self.confidence)
        } else {
            Err(format!("the {what} confidence is not between 0 and 1"))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategorizeAnswer {
    category: Option<Labelled>,
    #[serde(default)]
    alternatives: Vec<Labelled>,
    topic: Option<Labelled>,
    priority: Labelled,
}

/// A categorization answer: categories must be the organization's (by name or id), the topic a
/// built-in one, the priority one of the four.
pub fn read_categorization(content: &str, categories: &[CategoryRef]) -> Result<Categorization, String> {
    let a: CategorizeAnswer = parse(content)?;
    let find = |l: &Labelled| -> Result<Guess<CategoryRef>, String> {
        let v = l.value.trim();
        let c = categories
            .iter()
            .find(|c| c.id == v || c.name.trim().eq_ignore_ascii_case(v))
            .ok_or_else(|| "a category is not one of the organization's".to_string())?;
        Ok(Guess::new(c.clone(), l.confidence("category")?))
    };
    let category = a.category.as_ref().map(find).transpose()?;
    if a.alternatives.len() > 3 {
        return Err("more than three alternatives".into());
    }
    let mut alternatives: Vec<Guess<CategoryRef>> = Vec::new();
    for l in &a.alternatives {
        let g = find(l)?;
        if category.as_ref().is_none_or(|c| c.value != g.value) && !alternatives.iter().any(|x| x.value == g.value) {
            alternatives.push(g);
        }
    }
    alternatives.truncate(2);
    let topic = match &a.topic {
        Some(t) => {
            let name = TOPICS
                .iter()
                .map(|(n, _)| *n)
                .find(|n| n.eq_ignore_ascii_case(t.value.trim()))
                .ok_or_else(|| "the topic is not one of the built-in topics".to_string())?;
            Some(Guess::new(name, t.confidence("topic")?))
        }
        None => None,
    };
    let priority = Priority::parse(a.priority.value.trim()).map_err(|_| "the priority is not one of the four")?;
    Ok(Categorization {
        category,
        alternatives,
        topic,
        priority: Guess::new(priority.as_str(), a.priority.confidence("priority")?),
        learned_from: 0,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftAnswer {
    text: String,
}

/// Runs of three or more digits: order, tracking and phone numbers, years.
fn digit_runs(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_digit()).filter(|r| r.len() >= 3)
}

/// Why `text` says something that `sent` did not give it — a number, a link or an address — if
/// it does.
pub fn ungrounded(text: &str, sent: &str) -> Option<&'static str> {
    let given: HashSet<&str> = digit_runs(sent).collect();
    if digit_runs(text).any(|r| !given.contains(r)) {
        return Some("the draft states a number it was not given");
    }
    let linkish = text
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != '@'))
        .filter(|t| t.contains("://") || t.starts_with("www.") || t.contains('@'));
    for t in linkish {
        if !sent.contains(t) {
            return Some("the draft gives a link or an address it was not given");
        }
    }
    None
}

/// A reply draft: only numbers, links and addresses from what was sent (`sent`), no template
/// placeholders. The facts, similar cases and macro are those of `given` (the built-in draft
/// offered them) — facts only when the draft states their numbers.
pub fn read_draft(content: &str, sent: &str, given: &Draft) -> Result<Draft, String> {
    let a: DraftAnswer = parse(content)?;
    let text = check_text("text", &a.text, MAX_TEXT, true)?;
    if let Some(why) = ungrounded(&text, sent) {
        return Err(why.into());
    }
    if text.contains("{{") {
        return Err("the draft holds a template placeholder".into());
    }
    let facts = given.facts.iter().filter(|f| digit_runs(f).all(|r| text.contains(r))).cloned().collect();
    Ok(Draft { text, facts, similar_cases: given.similar_cases.clone(), from_macro: given.from_macro.clone() })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoredAnswer {
    label: String,
    score: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepAnswer {
    action: String,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateAnswer {
    complexity: ScoredAnswer,
    sentiment: ScoredAnswer,
    next_steps: Vec<StepAnswer>,
}

fn scored(what: &str, a: &ScoredAnswer, labels: &[&'static str], range: (f64, f64)) -> Result<Scored, String> {
    let label = labels
        .iter()
        .find(|l| l.eq_ignore_ascii_case(a.label.trim()))
        .ok_or_else(|| format!("the {what} label is not one of {}", labels.join(", ")))?;
    if !(range.0..=range.1).contains(&a.score) {
        return Err(format!("the {what} score is not from {} to {}", range.0, range.1));
    }
    Ok(Scored { label, score: (a.score * 100.0).round() / 100.0 })
}

/// An evaluation answer. The SLA risk and links to open problems are casedesk's own (from the
/// clocks and the full-text index, in `builtin`); the model judges the rest.
pub fn read_evaluation(content: &str, builtin: &Evaluation) -> Result<Evaluation, String> {
    const STEPS: &[&str] = &["reply", "escalate", "ask_for_information", "follow_up", "resolve"];
    let a: EvaluateAnswer = parse(content)?;
    let complexity = scored("complexity", &a.complexity, &["low", "medium", "high"], (0.0, 10.0))?;
    let sentiment = scored("sentiment", &a.sentiment, &["negative", "neutral", "positive"], (-1.0, 1.0))?;
    if a.next_steps.is_empty() || a.next_steps.len() > 6 {
        return Err("next_steps must have one to six entries".into());
    }
    let mut next_steps = Vec::new();
    for s in &a.next_steps {
        let action = STEPS
            .iter()
            .find(|x| x.eq_ignore_ascii_case(s.action.trim()))
            .ok_or_else(|| format!("a next step is not one of {}", STEPS.join(", ")))?;
        next_steps.push(NextStep { action, reason: check_text("reason", &s.reason, MAX_ITEM, true)? });
    }
    // A link to a known problem comes after an escalation, as the built-in evaluation puts it.
    let at = next_steps.iter().take_while(|s| s.action == "escalate").count();
    for (i, link) in builtin.next_steps.iter().filter(|s| s.action == "link_to_problem").enumerate() {
        next_steps.insert(at + i, link.clone());
    }
    Ok(Evaluation { complexity, sentiment, sla_risk: builtin.sla_risk.clone(), next_steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::evaluate::{self, ProblemCandidate};
    use crate::ai::tests::thread;

    fn ask<'a>(action: AiAction, case: &'a CaseThread) -> Ask<'a> {
        Ask { action, case, categories: &[], facts: &[], borrowed: &[], agent_name: Some("Sam"), sla: None }
    }

    #[test]
    fn a_reply_is_asked_from_what_the_customer_sees() {
        let case = thread(
            "Where is order #4521?",
            "Nothing arrived.\n\nOn Mon, Bob wrote:\n> older text",
            &[(false, true, "Warehouse lost it, blame the night shift."), (false, false, "Checking now.")],
        );
        let facts = vec!["Your order #4521 shipped on 21 Nov 2026 with DHL.".to_string()];
        let borrowed = vec!["We have asked the courier to prioritise your parcel.".to_string()];
        let a = Ask { facts: &facts, borrowed: &borrowed, ..ask(AiAction::SuggestReply, &case) };
        let m = a.messages();
        assert_eq!((m[0].role, m[1].role), ("system", "user"));
        let user = &m[1].content;
        for sent in [
            "Where is order #4521?",
            "Nothing arrived.",
            "Checking now.",
            "Customer's first name: Ana",
            &facts[0],
            &borrowed[0],
        ] {
            assert!(user.contains(sent), "{sent} is sent: {user}");
        }
        for kept in ["Warehouse", "night shift", "older text", "Silva", "cnt_ana", "usr_sam"] {
            assert!(!user.contains(kept), "{kept} is not sent: {user}");
        }
        assert!(m[0].content.contains("Sign as Sam."));
        let summary = ask(AiAction::Summarize, &case).messages();
        assert!(
            summary[1].content.contains("[agent, internal note"),
            "a summary is for agents: {}",
            summary[1].content
        );
        let body: serde_json::Value = serde_json::from_str(&request_body("gpt-4o-mini", &m)).expect("json");
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["response_format"]["type"], "json_object");
        assert_eq!(body["messages"][1]["content"], user.as_str());
    }

    #[test]
    fn completions_are_read_with_or_without_a_fence() {
        let body = r#"{"id":"x","model":"llama3.1:8b","choices":[{"index":0,"message":{"role":"assistant","content":"```json\n{\"text\": \"hi\"}\n```"}}]}"#;
        let c = read_completion(body).expect("completion");
        assert_eq!(c.content, "{\"text\": \"hi\"}");
        assert_eq!(c.model.as_deref(), Some("llama3.1:8b"));
        assert!(read_completion(r#"{"choices": []}"#).is_err());
        assert!(read_completion(r#"{"choices": [{"message": {"content": null}}]}"#).is_err());
        assert!(read_completion("<html>").is_err());
    }

    #[test]
    fn answers_must_fit_the_shape() {
        assert!(
            read_summary(
                r#"{"text": "Ana asked for a refund.", "asked": ["a refund"], "done": [], "pending": "our reply"}"#
            )
            .is_ok()
        );
        for bad in [
            r#"{"text": "x", "asked": [], "done": []}"#,
            r#"{"text": "", "asked": [], "done": [], "pending": ""}"#,
            r#"{"text": "x", "asked": [], "done": [], "pending": "", "mood": "good"}"#,
            r#"["x"]"#,
        ] {
            assert!(read_summary(bad).is_err(), "{bad}");
        }
        let cats = [
            CategoryRef { id: "ccat_1".into(), name: "Billing".into() },
            CategoryRef { id: "ccat_2".into(), name: "Shipping".into() },
        ];
        let c = read_categorization(
            r#"{"category": {"value": "billing", "confidence": 0.8}, "alternatives": [{"value": "Shipping", "confidence": 0.1}], "topic": {"value": "billing", "confidence": 0.7}, "priority": {"value": "high", "confidence": 0.6}}"#,
            &cats,
        )
        .expect("fits");
        assert_eq!(c.category.map(|g| (g.value.id, g.confidence)), Some(("ccat_1".to_string(), 0.8)));
        assert_eq!(c.alternatives.len(), 1);
        assert_eq!((c.priority.value, c.topic.map(|t| t.value)), ("high", Some("billing")));
        for bad in [
            r#"{"category": {"value": "Refunds", "confidence": 0.8}, "topic": null, "priority": {"value": "high", "confidence": 0.6}}"#,
            r#"{"category": null, "topic": {"value": "weather", "confidence": 0.5}, "priority": {"value": "high", "confidence": 0.6}}"#,
            r#"{"category": null, "topic": null, "priority": {"value": "urgent!", "confidence": 0.6}}"#,
            r#"{"category": null, "topic": null, "priority": {"value": "low", "confidence": 7}}"#,
        ] {
            assert!(read_categorization(bad, &cats).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_draft_may_state_only_what_it_was_given() {
        let sent =
            "Case #42: Where is order #4521?\nFacts:\n- Your order #4521 shipped with DHL, tracking number JD0147.\n";
        let given = Draft {
            text: String::new(),
            facts: vec!["Your order #4521 shipped with DHL, tracking number JD0147.".into()],
            similar_cases: vec![7],
            from_macro: None,
        };
        let ok = read_draft(r#"{"text": "Hi Ana, order 4521 is with DHL (JD0147)."}"#, sent, &given).expect("grounded");
        assert_eq!((ok.facts.len(), ok.similar_cases), (1, vec![7]));
        for (bad, why) in [
            (r#"{"text": "Hi Ana, order 4521 arrives with tracking JD9999."}"#, "number"),
            (r#"{"text": "Call us on 0800 555 0100."}"#, "number"),
            (r#"{"text": "See https://track.example/x for details."}"#, "link"),
            (r#"{"text": "Write to refunds@shop.example."}"#, "address"),
            (r#"{"text": "Hi {{requester.name}}"}"#, "placeholder"),
        ] {
            let e = read_draft(bad, sent, &given).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn an_evaluation_keeps_casedesks_own_clock_and_problem_links() {
        let mut case = thread("Checkout down", "Payments fail for all users.", &[]);
        case.sla_due_at = Some(case.now + jiff::SignedDuration::from_mins(20));
        let builtin = evaluate::evaluate(&case, None, &[ProblemCandidate { id: "case_p".into(), case_number: 7 }]);
        let e = read_evaluation(
            r#"{"complexity": {"label": "high", "score": 6.5}, "sentiment": {"label": "negative", "score": -0.7}, "next_steps": [{"action": "escalate", "reason": "Revenue is at stake."}, {"action": "reply", "reason": "Tell the customer."}]}"#,
            &builtin,
        )
        .expect("fits");
        let actions: Vec<&str> = e.next_steps.iter().map(|s| s.action).collect();
        assert_eq!(actions, ["escalate", "link_to_problem", "reply"]);
        assert_eq!(e.sla_risk, builtin.sla_risk);
        assert_eq!((e.complexity.label, e.sentiment.score), ("high", -0.7));
        for bad in [
            r#"{"complexity": {"label": "huge", "score": 6}, "sentiment": {"label": "negative", "score": -0.7}, "next_steps": [{"action": "reply", "reason": "x"}]}"#,
            r#"{"complexity": {"label": "low", "score": 1}, "sentiment": {"label": "negative", "score": -3}, "next_steps": [{"action": "reply", "reason": "x"}]}"#,
            r#"{"complexity": {"label": "low", "score": 1}, "sentiment": {"label": "neutral", "score": 0}, "next_steps": [{"action": "refund", "reason": "x"}]}"#,
            r#"{"complexity": {"label": "low", "score": 1}, "sentiment": {"label": "neutral", "score": 0}, "next_steps": []}"#,
        ] {
            assert!(read_evaluation(bad, &builtin).is_err(), "{bad}");
        }
    }
}
