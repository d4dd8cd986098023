//! The text work the built-in assistant shares: cleaning a message of quoted history and
//! signatures, splitting it into sentences, and the words that carry meaning.

use crate::search::fold;

/// Words too common to say anything about a case.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off",
    "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some",
    "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to",
    "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "whom", "why", "will", "with", "would", "you", "your", "yours", "hi", "hello", "dear", "thanks", "thank",
    "regards", "best", "please", "kind", "team", "im", "ive", "dont", "its", "get", "got", "one", "let", "know",
    "still", "us", "s", "t", "re", "ll", "d", "m", "ve",
];

pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// The meaningful words of `text`, folded, in order.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(' ').filter(|w| w.len() > 1 && !is_stopword(w)).map(str::to_string).collect()
}

/// A message without what it quotes and without its signature: quoted lines (`>`), an
/// "On … wrote:" or "-----Original Message-----" block and everything after it, and a signature
/// from "-- " or a "Sent from my …" line on.
pub fn clean_message(body: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let quote_header = (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || lower.starts_with("-----original message")
            || lower.starts_with("---------- forwarded message")
            || (lower.starts_with("from:") && kept.iter().any(|l| !l.trim().is_empty()));
        let signature = t == "--" || lower.starts_with("sent from my ") || lower.starts_with("get outlook for");
        if quote_header || signature {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

/// The sentences of a text: split after `.`, `!` or `?` followed by a space, and at line breaks
/// that end a paragraph or a list item. Greetings and sign-offs are dropped.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut current = String::new();
        let chars: Vec<char> = para.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            current.push(c);
            let end = matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            // "No. 4521", "e.g." and decimals are not sentence ends.
            let abbreviation = c == '.' && {
                let last = current.trim_end_matches('.').rsplit(' ').next().unwrap_or("");
                last.len() <= 2 || ["approx", "etc", "incl"].contains(&last.to_lowercase().as_str())
            };
            if end && !abbreviation {
                push_sentence(&mut out, &current);
                current.clear();
            }
        }
        push_sentence(&mut out, &current);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, s: &str) {
    let s = s.trim().trim_start_matches(['-', '*', '•']).trim();
    let lower = s.to_lowercase();
    let filler = words(s).is_empty()
        || lower.starts_with("hi ")
        || lower.starts_with("hello")
        || lower.starts_with("dear ")
        || lower.starts_with("thanks")
        || lower.starts_with("thank you")
        || lower.starts_with("best regards")
        || lower.starts_with("kind regards")
        || lower.starts_with("regards")
        || lower.starts_with("cheers");
    if !filler {
        out.push(s.to_string());
    }
}

/// The first name in a display name ("Ana Silva" → "Ana"); none for an address.
pub fn first_name(name: &str) -> Option<String> {
    let first = name.split_whitespace().next()?;
    (!first.contains('@') && first.chars().any(char::is_alphabetic)).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_and_signatures_are_cut() {
        let body = "Still broken, see below.\n\nSent from my iPhone\n\nOn Tue, 3 Mar 2026, Ana wrote:\n> old text";
        assert_eq!(clean_message(body), "Still broken, see below.");
        let body = "Thanks!\n> quoted\nMore text\n-- \nJohn Doe\nACME Corp";
        assert_eq!(clean_message(body), "Thanks!\nMore text");
        let body = "Please refund.\n-----Original Message-----\nFrom: shop";
        assert_eq!(clean_message(body), "Please refund.");
    }

    #[test]
    fn sentences_split_at_ends_but_not_at_abbreviations() {
        let s = sentences("Hi team,\nMy order No. 4521 arrived broken. The box was crushed! Can you help?\nThanks");
        assert_eq!(s, ["My order No. 4521 arrived broken.", "The box was crushed!", "Can you help?"]);
        assert_eq!(sentences("Version 2.4 crashes on start"), ["Version 2.4 crashes on start"]);
    }

    #[test]
    fn words_drop_stopwords_and_fold() {
        assert_eq!(words("The Café is CLOSED, and I'm upset"), ["cafe", "closed", "upset"]);
        assert_eq!(first_name("Ana Silva").as_deref(), Some("Ana"));
        assert_eq!(first_name("ana@example.com"), None);
    }
}
