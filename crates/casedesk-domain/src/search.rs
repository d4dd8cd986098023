//! What full-text search sees: text folded to plain, lower-case, accent-free words.
//!
//! Both the indexed documents and the query go through [`fold`], so the two database engines
//! (SQLite FTS5 and PostgreSQL tsvector) index and match exactly the same words: `Café` is
//! found by `cafe`, `ana.silva@example.com` by `silva`, `v2.4.1` by `4`.

use unicode_normalization::UnicodeNormalization;

use crate::ids::IdKind;
use unicode_normalization::char::is_combining_mark;

/// Most words of a query that are used.
pub const MAX_QUERY_WORDS: usize = 16;

/// The words of `text`: decomposed, accents dropped, lower-cased, split at anything that is not
/// a letter or digit, joined by single spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if !in_word && !out.is_empty() {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
            in_word = true;
        } else {
            in_word = false;
        }
    }
    out
}

/// The words of a query, folded like documents; at most [`MAX_QUERY_WORDS`]. Quotes, operators
/// and punctuation are not syntax, so no input can make an engine's query language fail.
pub fn terms(q: &str) -> Vec<String> {
    fold(q).split(' ').filter(|w| !w.is_empty()).take(MAX_QUERY_WORDS).map(str::to_string).collect()
}

/// A case's searchable text, folded: its subject, description, every comment body and the
/// names of the people it is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    pub subject: String,
    pub description: String,
    pub comments: String,
    pub people: String,
}

impl SearchDoc {
    pub fn new<'a>(subject: &str, description: &str, comments: impl IntoIterator<Item = &'a str>) -> Self {
        SearchDoc {
            subject: fold(subject),
            description: fold(description),
            comments: fold_joined(comments),
            people: String::new(),
        }
    }

    /// The document with these names of the people the case is about (see [`people_ids`]).
    pub fn with_people<'a>(self, names: impl IntoIterator<Item = &'a str>) -> Self {
        SearchDoc { people: fold_joined(names), ..self }
    }
}

/// Each text folded, the non-empty ones joined by a space.
pub fn fold_joined<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let folded: Vec<String> = texts.into_iter().map(fold).filter(|t| !t.is_empty()).collect();
    folded.join(" ")
}

/// The contacts whose names a case is found by: its contact, and its requester when that is a
/// contact (a customer) rather than a user. Without repeats.
pub fn people_ids<'a>(contact_id: Option<&'a str>, requester_id: Option<&'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::with_capacity(2);
    for id in [contact_id, requester_id].into_iter().flatten() {
        if IdKind::Contact.matches(id) && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Where a query's words occur in a text: a fragment around the first occurrence and the
/// occurrences within it, as `[start, end)` character offsets into the fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub fragment: String,
    pub matches: Vec<(usize, usize)>,
}

/// Words kept on each side of the first match in a [`Highlight`].
pub const HIGHLIGHT_CONTEXT_WORDS: usize = 8;

/// The fragment of `text` around the first word that, folded, is one of `words` (which are
/// folded), with every such word in it marked. `None` if no word of `text` matches.
pub fn highlight(text: &str, words: &[String]) -> Option<Highlight> {
    // The words of the text as byte ranges, the way `fold` splits them.
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                tokens.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push((s, text.len()));
    }
    let hits: Vec<bool> = tokens.iter().map(|&(s, e)| words.iter().any(|w| *w == fold(&text[s..e]))).collect();
    let first = hits.iter().position(|&h| h)?;
    let lo = first.saturating_sub(HIGHLIGHT_CONTEXT_WORDS);
    let hi = (first + HIGHLIGHT_CONTEXT_WORDS).min(tokens.len() - 1);
    let (from, to) =
        (if lo == 0 { 0 } else { tokens[lo].0 }, if hi == tokens.len() - 1 { text.len() } else { tokens[hi].1 });
    let prefix = if from > 0 { "…" } else { "" };
    let mut fragment = format!("{prefix}{}", &text[from..to]);
    let offset = |byte: usize| prefix.chars().count() + text[from..byte].chars().count();
    let matches = (lo..=hi).filter(|&i| hits[i]).map(|i| (offset(tokens[i].0), offset(tokens[i].1))).collect();
    if to < text.len() {
        fragment.push('…');
    }
    Some(Highlight { fragment, matches })
}

/// Where a query's words matched one field of a case (a comment names itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldHighlight {
    /// `subject`, `description`, `contact` (the contact's name) or `comment`.
    pub field: &'static str,
    pub comment_id: Option<String>,
    pub highlight: Highlight,
}

/// A case's own text that a search may have matched.
#[derive(Debug, Clone, Copy)]
pub struct CaseText<'a> {
    pub subject: &'a str,
    pub description: &'a str,
    /// The name of the case's contact.
    pub contact: Option<&'a str>,
}

/// Where `words` matched a case: its subject, description and contact's name; when none holds
/// one, the first of `comments` (id, body) that does.
pub fn case_highlights<'a>(
    text: CaseText<'_>,
    comments: impl IntoIterator<Item = (&'a str, &'a str)>,
    words: &[String],
) -> Vec<FieldHighlight> {
    let own = [("subject", Some(text.subject)), ("description", Some(text.description)), ("contact", text.contact)];
    let mut out: Vec<FieldHighlight> = own
        .into_iter()
        .filter_map(|(field, text)| Some((field, text?)))
        .filter_map(|(field, text)| {
            highlight(text, words).map(|highlight| FieldHighlight { field, comment_id: None, highlight })
        })
        .collect();
    if out.is_empty() {
        out.extend(comments.into_iter().find_map(|(id, body)| {
            highlight(body, words).map(|highlight| FieldHighlight {
                field: "comment",
                comment_id: Some(id.into()),
                highlight,
            })
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_mark_folded_matches_in_a_fragment() {
        let words = vec!["cafe".to_string(), "jam".to_string()];
        let h = highlight("The Café printer has a paper JAM again", &words).expect("a match");
        assert_eq!(h.fragment, "The Café printer has a paper JAM again");
        let marked: Vec<String> =
            h.matches.iter().map(|&(s, e)| h.fragment.chars().skip(s).take(e - s).collect()).collect();
        assert_eq!(marked, ["Café", "JAM"]);
        assert_eq!(highlight("nothing here", &words), None);
        let long = format!("{} jam {}", "word ".repeat(20), "more ".repeat(20));
        let h = highlight(&long, &words).expect("a match");
        assert!(h.fragment.starts_with('…') && h.fragment.ends_with('…'), "{}", h.fragment);
        let (s, e) = h.matches[0];
        assert_eq!(h.fragment.chars().skip(s).take(e - s).collect::<String>(), "jam");
        assert_eq!(h.fragment.split_whitespace().filter(|w| *w != "…").count(), 2 * HIGHLIGHT_CONTEXT_WORDS + 1);
    }
    #[test]
    fn a_case_is_highlighted_in_a_comment_only_when_its_own_text_does_not_match() {
        let words = vec!["zebra".to_string()];
        let comments = [("cmt_1", "nothing"), ("cmt_2", "a Zebra here"), ("cmt_3", "zebra again")];
        let text = |subject, contact| CaseText { subject, description: "slow", contact };
        let h = case_highlights(text("Scanner", None), comments, &words);
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].field, h[0].comment_id.as_deref()), ("comment", Some("cmt_2")));
        let h = case_highlights(text("Zebra scanner", None), comments, &words);
        assert_eq!((h.len(), h[0].field, h[0].comment_id.as_deref()), (1, "subject", None));
        let h = case_highlights(text("Scanner", Some("Zebra Ltd")), comments, &words);
        assert_eq!((h.len(), h[0].field, h[0].highlight.fragment.as_str()), (1, "contact", "Zebra Ltd"));
        assert!(case_highlights(text("a", Some("b")), [], &words).is_empty());
    }

    use proptest::prelude::*;

    #[test]
    fn folding_drops_accents_case_and_punctuation() {
        assert_eq!(fold("Café CRÈME, s'il vous plaît!"), "cafe creme s il vous plait");
        assert_eq!(fold("ana.silva@example.com v2.4.1"), "ana silva example com v2 4 1");
        assert_eq!(fold("Order #4521"), "order 4521");
        assert_eq!(fold("  "), "");
        assert_eq!(terms("\"unbalanced AND NEAR(x)"), ["unbalanced", "and", "near", "x"]);
    }

    #[test]
    fn a_document_folds_every_part() {
        let d = SearchDoc::new("Café", "Crème", ["Brûlée!", "", "ok"]);
        assert_eq!(
            d,
            SearchDoc {
                subject: "cafe".into(),
                description: "creme".into(),
                comments: "brulee ok".into(),
                people: String::new()
            }
        );
        assert_eq!(d.with_people(["Zoë Ångström", ""]).people, "zoe angstrom");
    }

    #[test]
    fn people_are_contacts_named_once() {
        assert_eq!(people_ids(Some("cnt_a"), Some("usr_b")), ["cnt_a"]);
        assert_eq!(people_ids(Some("cnt_a"), Some("cnt_a")), ["cnt_a"]);
        assert_eq!(people_ids(None, Some("cnt_b")), ["cnt_b"]);
        assert_eq!(people_ids(Some("cnt_a"), Some("cnt_b")), ["cnt_a", "cnt_b"]);
        assert!(people_ids(None, Some("usr_b")).is_empty());
    }

    proptest! {
        #[test]
        fn folded_text_is_words_and_single_spaces(s in ".{0,200}") {
            let f = fold(&s);
            prop_assert!(!f.starts_with(' ') && !f.ends_with(' ') && !f.contains("  "));
            prop_assert!(f.chars().all(|c| c == ' ' || c.is_alphanumeric()));
            prop_assert_eq!(fold(&f), f.clone(), "folding is idempotent");
            for t in terms(&s) {
                prop_assert!(f.split(' ').any(|w| w == t), "every query term is a word of the folded text");
            }
        }
    }
}
