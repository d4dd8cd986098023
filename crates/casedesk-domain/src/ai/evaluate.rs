//! Evaluating a case: how complex it is, how the customer feels, how close its SLA is to a
//! breach, and what to do next.

use jiff::Timestamp;
use serde::Serialize;

use super::CaseThread;
use super::erp::order_numbers;
use super::text::{clean_message, words};
use crate::case::{Priority, Status};

const NEGATIVE: &[&str] = &[
    "angry",
    "unacceptable",
    "terrible",
    "awful",
    "worst",
    "disappointed",
    "disappointing",
    "frustrated",
    "frustrating",
    "furious",
    "ridiculous",
    "useless",
    "horrible",
    "annoyed",
    "upset",
    "disgusted",
    "waste",
    "scam",
    "complaint",
    "lawyer",
    "poor",
    "bad",
    "hate",
    "wrong",
    "broken",
    "never",
    "still",
    "again",
    "fed",
    "incompetent",
    "joke",
];
const POSITIVE: &[&str] = &[
    "thanks",
    "thank",
    "great",
    "appreciate",
    "appreciated",
    "happy",
    "excellent",
    "perfect",
    "awesome",
    "love",
    "works",
    "working",
    "helpful",
    "glad",
    "good",
    "wonderful",
    "fantastic",
    "resolved",
    "solved",
    "brilliant",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// low, medium, high — or negative, neutral, positive for sentiment.
    pub label: &'static str,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaRisk {
    /// none (no running target), low, medium, high or breached.
    pub level: &'static str,
    pub due_at: Option<Timestamp>,
    pub minutes_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    /// reply, escalate, ask_for_information, link_to_problem, follow_up or resolve.
    pub action: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub complexity: Scored,
    pub sentiment: Scored,
    pub sla_risk: SlaRisk,
    pub next_steps: Vec<NextStep>,
}

/// A similar open problem the case could be linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemCandidate {
    pub id: String,
    pub case_number: i64,
}

/// How the customer's words feel, from -1 (angry) to 1 (pleased).
pub fn sentiment(text: &str) -> Scored {
    let ws = words(text);
    let neg = ws.iter().filter(|w| NEGATIVE.contains(&w.as_str())).count() as f64;
    let pos = ws.iter().filter(|w| POSITIVE.contains(&w.as_str())).count() as f64;
    let shouting = text.matches("!!").count() as f64
        + text.split_whitespace().filter(|t| t.len() >= 4 && t.chars().all(|c| c.is_ascii_uppercase())).count() as f64;
    let neg = neg + if neg > 0.0 { shouting * 0.5 } else { 0.0 };
    let score = ((pos - neg) / (pos + neg + 2.0)).clamp(-1.0, 1.0);
    let label = if score <= -0.2 {
        "negative"
    } else if score >= 0.2 {
        "positive"
    } else {
        "neutral"
    };
    Scored { label, score: (score * 100.0).round() / 100.0 }
}

fn complexity(case: &CaseThread) -> Scored {
    let messages = case.messages.len() as f64;
    let notes = case.messages.iter().filter(|m| m.internal).count() as f64;
    let mut authors: Vec<&str> =
        case.messages.iter().filter(|m| !m.from_customer).filter_map(|m| m.author.as_deref()).collect();
    authors.sort_unstable();
    authors.dedup();
    let length: usize =
        case.description.len() + case.messages.iter().map(|m| clean_message(&m.body).len()).sum::<usize>();
    let score = messages / 4.0 + notes / 2.0 + authors.len().saturating_sub(1) as f64 + length as f64 / 2000.0;
    let label = if score < 1.5 {
        "low"
    } else if score < 3.5 {
        "medium"
    } else {
        "high"
    };
    Scored { label, score: (score * 100.0).round() / 100.0 }
}

fn sla_risk(case: &CaseThread) -> SlaRisk {
    if case.sla_breached {
        return SlaRisk { level: "breached", due_at: case.sla_due_at, minutes_left: None };
    }
    let Some(due) = case.sla_due_at.filter(|_| case.status.is_active()) else {
        return SlaRisk { level: "none", due_at: None, minutes_left: None };
    };
    let left = (due.as_second() - case.now.as_second()).div_euclid(60);
    let level = match left {
        ..=0 => "breached",
        1..=60 => "high",
        61..=240 => "medium",
        _ => "low",
    };
    SlaRisk { level, due_at: Some(due), minutes_left: Some(left) }
}

/// Evaluates a case; `topic` is what categorizing found, `problems` similar open problems.
pub fn evaluate(case: &CaseThread, topic: Option<&str>, problems: &[ProblemCandidate]) -> Evaluation {
    let customer_text: String = std::iter::once(case.description.clone())
        .chain(case.messages.iter().filter(|m| m.from_customer).map(|m| clean_message(&m.body)))
        .collect::<Vec<_>>()
        .join("\n");
    let latest_customer = case.messages.iter().rev().find(|m| m.from_customer).map(|m| clean_message(&m.body));
    let sentiment = sentiment(latest_customer.as_deref().unwrap_or(&customer_text));
    let complexity = complexity(case);
    let sla_risk = sla_risk(case);
    let mut next = Vec::new();
    let active = case.status.is_active();
    let last_public = case.messages.iter().rev().find(|m| !m.internal);

    if active
        && (sentiment.score <= -0.5
            || case.priority == Priority::Critical
            || matches!(sla_risk.level, "high" | "breached"))
    {
        let why = if matches!(sla_risk.level, "high" | "breached") {
            format!("the SLA is {}", if sla_risk.level == "breached" { "breached" } else { "due within the hour" })
        } else if case.priority == Priority::Critical {
            "the case is critical".to_string()
        } else {
            "the customer is upset".to_string()
        };
        next.push(NextStep { action: "escalate", reason: why });
    }
    if let Some(p) = problems.first().filter(|_| active) {
        next.push(NextStep {
            action: "link_to_problem",
            reason: format!("it looks like problem #{} ({})", p.case_number, p.id),
        });
    }
    let needs_order = matches!(topic, Some("shipping_damage" | "delivery_delay" | "refund_request"));
    if active
        && ((needs_order && order_numbers(&format!("{} {}", case.subject, customer_text)).is_empty())
            || words(&customer_text).len() < 6)
    {
        let why = if needs_order { "no order number was given" } else { "the request says very little" };
        next.push(NextStep { action: "ask_for_information", reason: why.into() });
    }
    match last_public {
        Some(m) if active && m.from_customer => {
            let thanks = sentiment.label == "positive" && words(&clean_message(&m.body)).len() < 20;
            if thanks {
                next.push(NextStep {
                    action: "resolve",
                    reason: "the customer's last message reads as a confirmation".into(),
                });
            } else {
                next.push(NextStep { action: "reply", reason: "the customer wrote last".into() });
            }
        }
        Some(m) if active && (case.now.as_second() - m.at.as_second()) > 3 * 86_400 => {
            next.push(NextStep {
                action: "follow_up",
                reason: "no answer from the customer for more than three days".into(),
            });
        }
        None if active => next.push(NextStep { action: "reply", reason: "the customer has no answer yet".into() }),
        _ => {}
    }
    if case.status == Status::Pending && next.is_empty() {
        next.push(NextStep { action: "follow_up", reason: "waiting for the customer".into() });
    }
    Evaluation { complexity, sentiment, sla_risk, next_steps: next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::tests::thread;

    fn actions(e: &Evaluation) -> Vec<&str> {
        e.next_steps.iter().map(|s| s.action).collect()
    }

    #[test]
    fn an_angry_customer_near_a_breach_is_escalated_and_answered() {
        let mut case = thread("Still no refund", "This is UNACCEPTABLE!! Third time I write. Order 88123.", &[]);
        case.sla_due_at = Some(case.now + jiff::SignedDuration::from_mins(30));
        let e = evaluate(&case, Some("refund_request"), &[]);
        assert_eq!(e.sentiment.label, "negative");
        assert_eq!((e.sla_risk.level, e.sla_risk.minutes_left), ("high", Some(30)));
        assert_eq!(actions(&e), ["escalate", "reply"]);
    }

    #[test]
    fn missing_details_and_known_problems_are_pointed_out() {
        let case = thread("Parcel damaged", "The box came crushed and the item inside is broken, please help me", &[]);
        let problems = [ProblemCandidate { id: "case_p".into(), case_number: 7 }];
        let e = evaluate(&case, Some("shipping_damage"), &problems);
        assert_eq!(actions(&e), ["link_to_problem", "ask_for_information", "reply"]);
        assert_eq!(e.sla_risk.level, "none");
        assert_eq!(e.complexity.label, "low");
        let thanked = thread(
            "Login",
            "I cannot log in to my account since the update",
            &[(false, false, "I reset it."), (true, false, "Works now, thanks!")],
        );
        assert_eq!(actions(&evaluate(&thanked, None, &[])), ["resolve"]);
        assert_eq!(sentiment("thanks, great help").label, "positive");
        assert_eq!(sentiment("the invoice is attached").label, "neutral");
    }
}
