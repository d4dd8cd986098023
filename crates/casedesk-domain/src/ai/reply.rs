//! Drafting a customer-facing reply from what is known: the case, the facts of the ERP context,
//! the organization's macro that best fits the case, and what agents wrote on similar resolved
//! cases — never anything invented, and never another customer's details or an internal note.

use std::collections::HashSet;

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

/// A macro an agent may use: its reply is the organization's own wording for a kind of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroCandidate {
    pub id: String,
    pub name: String,
    /// The reply template (placeholders unfilled).
    pub body: String,
}

/// The macro a draft drew on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacroRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    pub text: String,
    /// The ERP facts the draft states.
    pub facts: Vec<String>,
    /// The similar resolved cases whose replies the draft draws on.
    pub similar_cases: Vec<i64>,
    /// The macro whose wording the draft draws on.
    #[serde(rename = "macro")]
    pub from_macro: Option<MacroRef>,
}

/// Sentences a draft may borrow, and where they come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Borrowed {
    pub sentences: Vec<String>,
    pub similar_cases: Vec<i64>,
    pub from_macro: Option<MacroRef>,
}

/// Most sentences borrowed from the macro, from similar cases, and in all.
const FROM_MACRO: usize = 2;
const FROM_SIMILAR: usize = 2;
const BORROWED: usize = 3;
/// Word stems a macro must share with a case to be taken as fitting it.
const MACRO_MIN_SHARED: usize = 2;

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
                && !s.contains("{{")
                && tokens.iter().skip(1).all(|t| {
                    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
                    !t.starts_with(char::is_uppercase) || t == "I" || t.starts_with("I'")
                })
                && !s.ends_with('?')
        })
        .collect()
}

/// A word's first five letters: "damaged" and "damage", "replacement" and "replace" meet.
fn stem(w: &str) -> String {
    w.chars().take(5).collect()
}

/// The macro whose words best fit `case_text`: the most shared word stems for its length, with
/// at least [`MACRO_MIN_SHARED`] and a sentence it can lend (see `generic_sentences`), which it
/// comes with. Placeholders do not count.
pub fn best_macro<'a>(case_text: &str, macros: &'a [MacroCandidate]) -> Option<(&'a MacroCandidate, Vec<String>)> {
    let case: HashSet<String> = words(case_text).iter().map(|w| stem(w)).collect();
    let mut best: Option<(f64, &MacroCandidate, Vec<String>)> = None;
    for m in macros {
        let own: HashSet<String> =
            words(&format!("{} {}", m.name, without_placeholders(&m.body))).iter().map(|w| stem(w)).collect();
        let shared = own.iter().filter(|w| case.contains(*w)).count();
        if shared < MACRO_MIN_SHARED {
            continue;
        }
        let lendable = generic_sentences(&m.body);
        if lendable.is_empty() {
            continue;
        }
        let score = shared as f64 / (own.len() as f64).sqrt();
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, m, lendable));
        }
    }
    best.map(|(_, m, s)| (m, s))
}

fn without_placeholders(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// What a draft for `case` may borrow: up to [`FROM_MACRO`] sentences of the best-fitting macro,
/// then up to [`FROM_SIMILAR`] from the last replies on similar resolved cases, [`BORROWED`] in
/// all — only sentences that carry no detail of another case (see `generic_sentences`).
pub fn borrow(case: &CaseThread, similar: &[SimilarCase], macros: &[MacroCandidate]) -> Borrowed {
    let mut out = Borrowed::default();
    let case_text = format!("{}\n{}", case.subject, case.customer_text());
    if let Some((m, sentences)) = best_macro(&case_text, macros) {
        out.sentences.extend(sentences.into_iter().take(FROM_MACRO));
        out.from_macro = Some(MacroRef { id: m.id.clone(), name: m.name.clone() });
    }
    let mut from_similar = 0;
    for s in similar {
        if from_similar >= FROM_SIMILAR || out.sentences.len() >= BORROWED {
            break;
        }
        let Some(reply) = &s.last_public_reply else { continue };
        let room = (FROM_SIMILAR - from_similar).min(BORROWED - out.sentences.len());
        let generic: Vec<String> =
            generic_sentences(reply).into_iter().filter(|g| !out.sentences.contains(g)).take(room).collect();
        if !generic.is_empty() {
            out.similar_cases.push(s.case_number);
            from_similar += generic.len();
            out.sentences.extend(generic);
        }
    }
    out
}

/// The text of a case the customer sees: subject, description and public messages.
pub fn public_text(case: &CaseThread) -> String {
    std::iter::once(case.subject.as_str())
        .chain(std::iter::once(case.description.as_str()))
        .chain(case.messages.iter().filter(|m| !m.internal).map(|m| m.body.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A draft reply to the customer, from public messages only.
pub fn suggest_reply(
    case: &CaseThread,
    topic: Option<&str>,
    erp: Option<&ErpContext>,
    borrowed: &Borrowed,
    agent_name: Option<&str>,
) -> Draft {
    let greeting = match case.requester_name.as_deref().and_then(first_name) {
        Some(n) => format!("Hi {n},"),
        None => "Hello,".into(),
    };
    let mut paragraphs = vec![greeting, opening(topic, &case.subject)];

    let facts = erp.map(|e| e.facts(&public_text(case))).unwrap_or_default();
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
    if !borrowed.sentences.is_empty() {
        paragraphs.push(borrowed.sentences.join(" "));
    }
    paragraphs.push("If anything else comes up, just reply to this message.".into());
    paragraphs.push(format!("Best regards,\n{}", signature(agent_name)));
    Draft {
        text: paragraphs.join("\n\n"),
        facts,
        similar_cases: borrowed.similar_cases.clone(),
        from_macro: borrowed.from_macro.clone(),
    }
}

/// Who signs a draft.
pub fn signature(agent_name: Option<&str>) -> &str {
    agent_name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("The support team")
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
        let d = suggest_reply(&case, Some("delivery_delay"), Some(&erp), &borrow(&case, &similar, &[]), Some("Sam"));
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
        let d = suggest_reply(&case, None, None, &Borrowed::default(), None);
        assert!(d.text.contains("I'm looking into #4521 now"), "{}", d.text);
        assert!(!d.text.contains("Warehouse"), "internal notes never reach the customer: {}", d.text);
        assert!(d.facts.is_empty());
    }
    fn macros() -> Vec<MacroCandidate> {
        let m =
            |id: &str, name: &str, body: &str| MacroCandidate { id: id.into(), name: name.into(), body: body.into() };
        vec![
            m(
                "mac_pw",
                "Password reset",
                "Hi {{requester.name}},\nI have sent a link to reset your password. The link works for one hour.",
            ),
            m(
                "mac_damage",
                "Damaged parcel",
                "Hi {{requester.name}},\nWe will send a replacement for the damaged item at no cost. Please keep the box until the courier collects the parcel. \
                 Your case {{case.number}} is with Maria Lopez. Call 0800 123 456 if you need us.",
            ),
            m("mac_vague", "General", "Thanks for writing to us, we will get back to you soon."),
        ]
    }

    #[test]
    fn the_macro_that_fits_lends_its_generic_wording_only() {
        let case = thread("Parcel arrived damaged", "The box was crushed and the vase inside is damaged.", &[]);
        let all = macros();
        let (m, lent) = best_macro(&format!("{}\n{}", case.subject, case.customer_text()), &all).expect("a fit");
        assert_eq!(m.id, "mac_damage");
        assert_eq!(
            lent,
            [
                "We will send a replacement for the damaged item at no cost.",
                "Please keep the box until the courier collects the parcel."
            ]
        );
        let d = suggest_reply(&case, Some("shipping_damage"), None, &borrow(&case, &[], &macros()), None);
        assert!(d.text.contains("We will send a replacement for the damaged item at no cost."), "{}", d.text);
        for leak in ["Maria", "0800", "{{", "requester.name"] {
            assert!(!d.text.contains(leak), "{leak} must not reach the draft: {}", d.text);
        }
        assert_eq!(d.from_macro, Some(MacroRef { id: "mac_damage".into(), name: "Damaged parcel".into() }));
    }

    #[test]
    fn no_macro_lends_when_none_fits_and_sentences_are_capped() {
        let case = thread("Invoice question about the box", "Why is the VAT missing on my invoice?", &[]);
        assert!(best_macro(&case.subject, &macros()).is_none(), "one shared word is no fit");
        let damaged = thread("Parcel arrived damaged", "The box was crushed, the item is damaged.", &[]);
        let similar = [SimilarCase {
            case_number: 9,
            last_public_reply: Some(
                "We have asked the courier to collect the parcel. A new one leaves our warehouse within a day.".into(),
            ),
        }];
        let b = borrow(&damaged, &similar, &macros());
        assert_eq!(b.sentences.len(), 3, "two from the macro, one from the similar case: {b:?}");
        assert_eq!(b.similar_cases, [9]);
        let without = borrow(&damaged, &similar, &[]);
        assert_eq!(without.sentences.len(), 2, "{without:?}");
        assert_eq!(without.from_macro, None);
    }
}
