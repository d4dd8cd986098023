//! Drafting a customer-facing reply from what is known: the case, the facts of the ERP context,
//! and what agents wrote on similar resolved cases — never anything invented, and never another
//! customer's details or an internal note.

use serde::Serialize;

use super::CaseThread;
use super::erp::{ErpContext, order_numbers};
use super::text::{clean_message, first_name, sentences, words};

/// What a similar resolved case offers a draft: its number and the last reply the customer saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimilarCase {
    pub case_number: i64,
    pub last_public_reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub text: String,
    /// The ERP facts the draft states.
    pub facts: Vec<String>,
    /// The similar resolved cases whose replies the draft draws on.
    pub similar_cases: Vec<i64>,
}

fn opening(topic: Option<&str>, subject: &str) -> String {
    match topic {
        Some("shipping_damage") => "I'm sorry your order arrived damaged, and thank you for letting us know.".into(),
        Some("delivery_delay") => "I'm sorry your delivery is taking longer than expected.".into(),
        Some("billing") => "Thank you for reaching out about your bill.".into(),
        Some("login_problem") => "I'm sorry you're having trouble signing in.".into(),
        Some("bug_report") => "Thank you for reporting this problem.".into(),
        Some("feature_request") => "Thank you for the suggestion; ideas like this help us decide what to build.".into(),
        Some("cancellation") => "I'm sorry to hear you'd like to cancel.".into(),
        Some("complaint") => "I'm sorry about your experience, and thank you for telling us about it.".into(),
        Some("refund_request") => "Thank you for your refund request.".into(),
        Some("account_change") => "Thank you for your request to change your account.".into(),
        _ => format!("Thank you for contacting us about \"{}\".", subject.trim()),
    }
}

/// Sentences of another case's reply that carry no detail of that case: no numbers, addresses,
/// or names (capitalized words after the first), between 5 and 40 words.
fn generic_sentences(reply: &str) -> Vec<String> {
    sentences(&clean_message(reply))
        .into_iter()
        .filter(|s| {
            let n = words(s).len();
            let tokens: Vec<&str> = s.split_whitespace().collect();
            (5..=40).contains(&tokens.len())
                && n >= 3
                && !s.chars().any(|c| c.is_ascii_digit() || c == '@' || c == '#')
                && !s.contains("http")
                && tokens.iter().skip(1).all(|t| {
                    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
                    !t.starts_with(char::is_uppercase) || t == "I" || t.starts_with("I'")
                })
                && !s.ends_with('?')
        })
        .collect()
}

/// A draft reply to the customer, from public messages only.
pub fn suggest_reply(
    case: &CaseThread,
    topic: Option<&str>,
    erp: Option<&ErpContext>,
    similar: &[SimilarCase],
    agent_name: Option<&str>,
) -> Draft {
    let public_text: String = std::iter::once(case.subject.as_str())
        .chain(std::iter::once(case.description.as_str()))
        .chain(case.messages.iter().filter(|m| !m.internal).map(|m| m.body.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let greeting = match case.requester_name.as_deref().and_then(first_name) {
        Some(n) => format!("Hi {n},"),
        None => "Hello,".into(),
    };
    let mut paragraphs = vec![greeting, opening(topic, &case.subject)];

    let facts = erp.map(|e| e.facts(&public_text)).unwrap_or_default();
    if !facts.is_empty() {
        paragraphs.push(facts.join(" "));
    }
    // Orders the customer names that the context does not know of: say we are looking, not what
    // we do not know.
    let known: Vec<&str> = erp.map(|e| e.known_orders()).unwrap_or_default();
    let unknown: Vec<String> = order_numbers(&case.subject)
        .into_iter()
        .chain(order_numbers(&case.description))
        .filter(|n| !known.iter().any(|k| k.eq_ignore_ascii_case(n)))
        .take(2)
        .collect();
    if facts.is_empty() && !unknown.is_empty() {
        paragraphs
            .push(format!("I'm looking into #{} now and will get back to you with an update.", unknown.join(" and #")));
    }

    let mut used = Vec::new();
    let mut borrowed: Vec<String> = Vec::new();
    for s in similar {
        let Some(reply) = &s.last_public_reply else { continue };
        let generic: Vec<String> =
            generic_sentences(reply).into_iter().filter(|g| !borrowed.contains(g)).take(2).collect();
        if !generic.is_empty() {
            used.push(s.case_number);
            borrowed.extend(generic);
        }
        if borrowed.len() >= 2 {
            break;
        }
    }
    if !borrowed.is_empty() {
        paragraphs.push(borrowed.join(" "));
    }
    paragraphs.push("If anything else comes up, just reply to this message.".into());
    let sign = agent_name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("The support team");
    paragraphs.push(format!("Best regards,\n{sign}"));
    Draft { text: paragraphs.join("\n\n"), facts, similar_cases: used }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::tests::thread;
    use serde_json::json;

    #[test]
    fn a_draft_states_given_facts_and_borrows_only_generic_sentences() {
        let case = thread("Where is my replacement?", "The replacement for order #4521 has not arrived.", &[]);
        let erp = ErpContext::parse(&json!({"shipments": [{"order_id": "4521", "carrier": "DHL", "tracking": "JD01", "shipped_at": "2026-11-21"}]}))
            .expect("erp");
        let similar = [SimilarCase {
            case_number: 17,
            last_public_reply: Some(
                "Hi Bob,\nWe have asked the courier to prioritise your parcel. You will receive an email as soon as it moves. Your order 9981 left on Monday. Maria Lopez will call you."
                    .into(),
            ),
        }];
        let d = suggest_reply(&case, Some("delivery_delay"), Some(&erp), &similar, Some("Sam"));
        assert!(d.text.starts_with("Hi Ana,\n\nI'm sorry your delivery"), "{}", d.text);
        assert!(
            d.text.contains("Your order #4521 shipped on 21 Nov 2026 with DHL, tracking number JD01."),
            "{}",
            d.text
        );
        assert!(d.text.contains("We have asked the courier to prioritise your parcel."), "{}", d.text);
        for leak in ["Bob", "9981", "Maria"] {
            assert!(!d.text.contains(leak), "another case's detail {leak} leaked: {}", d.text);
        }
        assert!(d.text.ends_with("Best regards,\nSam"));
        assert_eq!(d.similar_cases, [17]);
    }

    #[test]
    fn without_facts_a_draft_promises_to_look_and_states_nothing() {
        let case = thread("Order 4521 missing", "Nothing arrived.", &[(false, true, "Warehouse says it was lost.")]);
        let d = suggest_reply(&case, None, None, &[], None);
        assert!(d.text.contains("I'm looking into #4521 now"), "{}", d.text);
        assert!(!d.text.contains("Warehouse"), "internal notes never reach the customer: {}", d.text);
        assert!(d.facts.is_empty());
    }
}
