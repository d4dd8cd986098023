//! What full-text search sees: text folded to plain, lower-case, accent-free words.
//!
//! Both the indexed documents and the query go through [`fold`], so the two database engines
//! (SQLite FTS5 and PostgreSQL tsvector) index and match exactly the same words: `Café` is
//! found by `cafe`, `ana.silva@example.com` by `silva`, `v2.4.1` by `4`.

use unicode_normalization::UnicodeNormalization;
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

/// A case's searchable text, folded: its subject, description and every comment body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    pub subject: String,
    pub description: String,
    pub comments: String,
}

impl SearchDoc {
    pub fn new<'a>(subject: &str, description: &str, comments: impl IntoIterator<Item = &'a str>) -> Self {
        let comments: Vec<String> = comments.into_iter().map(fold).filter(|c| !c.is_empty()).collect();
        SearchDoc { subject: fold(subject), description: fold(description), comments: comments.join(" ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(d, SearchDoc { subject: "cafe".into(), description: "creme".into(), comments: "brulee ok".into() });
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
