//! Extractive summaries: the sentences of a thread that say who asked what, what was done and
//! what is pending, picked by how central their words are to the whole thread.

use std::collections::HashMap;

use serde::Serialize;

use super::text::{clean_message, sentences, words};
use super::{CaseThread, Message};
use crate::case::Status;

/// Words that mark a sentence as something an agent did.
const ACTION_WORDS: &[&str] = &[
    "sent",
    "refunded",
    "refund",
    "issued",
    "replaced",
    "replacement",
    "reset",
    "escalated",
    "checked",
    "shipped",
    "credited",
    "fixed",
    "deployed",
    "updated",
    "cancelled",
    "canceled",
    "reactivated",
    "created",
    "forwarded",
    "investigated",
    "investigating",
    "confirmed",
    "arranged",
    "applied",
    "processed",
    "reissued",
    "restored",
    "contacted",
    "scheduled",
    "booked",
    "unlocked",
    "changed",
    "removed",
    "added",
    "opened",
    "filed",
    "raised",
    "approved",
    "resent",
    "verified",
    "waived",
    "adjusted",
    "logged",
    "reproduced",
    "patched",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The whole summary, a few sentences.
    pub text: String,
    /// What the customer asked.
    pub asked: Vec<String>,
    /// What agents did.
    pub done: Vec<String>,
    /// What is pending, and on whom.
    pub pending: String,
}

/// How central each word is to the thread: how many of its parts mention it.
fn centrality(parts: &[String]) -> HashMap<String, f64> {
    let mut df: HashMap<String, f64> = HashMap::new();
    for p in parts {
        let mut seen: Vec<String> = words(p);
        seen.sort();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1.0;
        }
    }
    df
}

fn score(sentence: &str, weights: &HashMap<String, f64>) -> f64 {
    let ws = words(sentence);
    if ws.is_empty() {
        return 0.0;
    }
    let mut distinct = ws.clone();
    distinct.sort();
    distinct.dedup();
    let weight: f64 = distinct.iter().map(|w| weights.get(w).copied().unwrap_or(0.0) + 1.0).sum();
    // Order, invoice and tracking numbers are what an agent looks for first.
    let numbers = sentence.split_whitespace().filter(|t| t.chars().filter(char::is_ascii_digit).count() >= 3).count();
    weight / (ws.len() as f64).sqrt() + 1.5 * numbers as f64
}

/// The `n` best sentences of `candidates` by score, in their original order.
fn best(candidates: &[String], weights: &HashMap<String, f64>, n: usize) -> Vec<String> {
    let mut ranked: Vec<(usize, f64)> = candidates.iter().enumerate().map(|(i, s)| (i, score(s, weights))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut keep: Vec<usize> = ranked.into_iter().take(n).map(|(i, _)| i).collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| candidates[i].clone()).collect()
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let cut: String = s.chars().take(max_chars).collect();
    format!("{}…", cut.trim_end())
}

/// Summarizes a case and its thread (internal notes included: the summary is for agents).
pub fn summarize(case: &CaseThread) -> Summary {
    let messages: Vec<(&Message, String)> = case.messages.iter().map(|m| (m, clean_message(&m.body))).collect();
    let description = clean_message(&case.description);
    let mut parts = vec![case.subject.clone(), description.clone()];
    parts.extend(messages.iter().map(|(_, b)| b.clone()));
    let weights = centrality(&parts);

    // Asked: the description's best sentences, or the first customer message's.
    let opening = if words(&description).is_empty() {
        messages.iter().find(|(m, _)| m.from_customer).map(|(_, b)| b.clone()).unwrap_or_default()
    } else {
        description
    };
    let mut asked = vec![case.subject.trim().to_string()];
    asked.extend(best(&sentences(&opening), &weights, 2).into_iter().filter(|s| !case.subject.contains(s.as_str())));
    asked.retain(|s| !s.is_empty());

    // Done: agents' sentences that report an action, else their most central ones.
    let agent: Vec<String> =
        messages.iter().filter(|(m, _)| !m.from_customer).flat_map(|(_, b)| sentences(b)).collect();
    let actions: Vec<String> =
        agent.iter().filter(|s| words(s).iter().any(|w| ACTION_WORDS.contains(&w.as_str()))).cloned().collect();
    let done = if actions.is_empty() { best(&agent, &weights, 1) } else { best(&actions, &weights, 2) };

    let pending = pending(case, &messages, &weights);
    let who = case.requester_name.clone().unwrap_or_else(|| "The customer".into());
    let mut text = format!("{who} asked: {}", joined(&asked));
    if !done.is_empty() {
        text.push_str(&format!(" Done: {}", joined(&done)));
    }
    text.push_str(&format!(" Pending: {pending}"));
    Summary { text, asked, done, pending }
}

/// Sentences (clipped) joined into running text, each ending like a sentence.
fn joined(sentences: &[String]) -> String {
    sentences
        .iter()
        .map(|s| {
            let s = clip(s, 240);
            if s.ends_with(['.', '!', '?', '…']) { s } else { format!("{s}.") }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn pending(case: &CaseThread, messages: &[(&Message, String)], weights: &HashMap<String, f64>) -> String {
    match case.status {
        Status::Resolved => return "nothing; the case is resolved.".into(),
        Status::Closed => return "nothing; the case is closed.".into(),
        _ => {}
    }
    let public: Vec<&(&Message, String)> = messages.iter().filter(|(m, _)| !m.internal).collect();
    match public.last() {
        None if messages.is_empty() => "a first response to the customer.".into(),
        None => "a first reply to the customer (only internal notes so far).".into(),
        Some((m, body)) if m.from_customer => match best(&sentences(body), weights, 1).first() {
            Some(s) => format!("a reply to the customer, who last wrote: \"{}\"", clip(s, 200)),
            None => "a reply to the customer's last message.".into(),
        },
        Some((_, body)) => match sentences(body).into_iter().rev().find(|s| s.ends_with('?')) {
            Some(q) => format!("the customer's answer to: \"{}\"", clip(&q, 200)),
            None => "the customer's reply to our last message.".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::tests::thread;

    #[test]
    fn a_summary_says_what_was_asked_done_and_pending() {
        let case = thread(
            "Order #4521 arrived damaged",
            "Hi,\nThe box was crushed and the lamp inside is broken. Order 4521. I need it for Friday.\nSent from my iPhone",
            &[
                (
                    false,
                    false,
                    "Sorry about that! I have shipped a replacement for order 4521 by express. Can you send a photo of the box?",
                ),
                (true, false, "Sure, photo attached.\n\nOn Mon, Ana wrote:\n> Sorry about that!"),
            ],
        );
        let s = summarize(&case);
        assert_eq!(s.asked[0], "Order #4521 arrived damaged");
        assert!(s.asked.iter().any(|a| a.contains("lamp inside is broken")), "{s:?}");
        assert!(s.done.iter().any(|d| d.contains("shipped a replacement")), "{s:?}");
        assert!(s.pending.contains("photo attached"), "{s:?}");
        assert!(!s.text.contains("iPhone") && !s.text.contains("> Sorry"), "quotes and signatures are cut: {}", s.text);
        assert!(s.text.starts_with("Ana Silva asked: Order #4521 arrived damaged."), "{}", s.text);
    }

    #[test]
    fn pending_follows_the_last_public_word() {
        let waiting = thread("Login", "Cannot log in.", &[(false, false, "I reset it. Could you try again?")]);
        assert!(summarize(&waiting).pending.contains("Could you try again?"));
        let fresh = thread("Login", "Cannot log in.", &[]);
        assert_eq!(summarize(&fresh).pending, "a first response to the customer.");
        let mut done = thread("Login", "Cannot log in.", &[(false, true, "Reset the password.")]);
        assert!(summarize(&done).pending.contains("only internal notes"));
        done.status = Status::Resolved;
        assert_eq!(summarize(&done).pending, "nothing; the case is resolved.");
        assert_eq!(summarize(&done).done, ["Reset the password."]);
    }
}
