//! What a case list asks for: filters, ordering and a page size, already validated.

use jiff::Timestamp;

use crate::case::{CaseType, Priority, Status};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The order of a case list. Every ordering ends with the id, so pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ordering {
    CreatedAsc,
    #[default]
    CreatedDesc,
    UpdatedAsc,
    UpdatedDesc,
    PriorityAsc,
    PriorityDesc,
    /// Best match of the free-text words first (subject words weigh most), then newest. Without
    /// words to rank by it orders like [`Ordering::CreatedDesc`] ([`Ordering::effective`]).
    Relevance,
}

impl Ordering {
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "created_at" => Ordering::CreatedAsc,
            "-created_at" => Ordering::CreatedDesc,
            "updated_at" => Ordering::UpdatedAsc,
            "-updated_at" => Ordering::UpdatedDesc,
            "priority" => Ordering::PriorityAsc,
            "-priority" => Ordering::PriorityDesc,
            "relevance" => Ordering::Relevance,
            _ => {
                return Err(format!(
                    "unknown ordering {s:?}; expected created_at, -created_at, updated_at, -updated_at, priority, -priority or relevance"
                ));
            }
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Ordering::CreatedAsc => "created_at",
            Ordering::CreatedDesc => "-created_at",
            Ordering::UpdatedAsc => "updated_at",
            Ordering::UpdatedDesc => "-updated_at",
            Ordering::PriorityAsc => "priority",
            Ordering::PriorityDesc => "-priority",
            Ordering::Relevance => "relevance",
        }
    }

    /// The ordering a list with this filter really has: relevance needs words to rank by.
    pub fn effective(self, filter: &CaseFilter) -> Ordering {
        match self {
            Ordering::Relevance if filter.terms.is_empty() && filter.phrases.is_empty() => Ordering::CreatedDesc,
            o => o,
        }
    }

    pub const fn descending(self) -> bool {
        matches!(self, Ordering::CreatedDesc | Ordering::UpdatedDesc | Ordering::PriorityDesc)
    }
}

/// A half-open time range `[from, to)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Range {
    pub fn is_set(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// A validated case list request.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub types: Vec<CaseType>,
    pub queue_id: Option<String>,
    pub owner_id: Option<String>,
    pub unassigned: bool,
    pub requester_id: Option<String>,
    pub contact_id: Option<String>,
    /// Only the cases of contacts with this external id (an external visitor's cases).
    pub contact_external_id: Option<String>,
    pub account_id: Option<String>,
    pub tag: Option<String>,
    pub created: Range,
    pub updated: Range,
    pub closed: Range,
    /// Free-text words, already split; all must occur in the case.
    pub terms: Vec<String>,
    /// Only cases with (true) or without (false) a breached SLA target.
    pub sla_breached: Option<bool>,
    /// Only cases with a running SLA target due before this instant.
    pub sla_due_before: Option<Timestamp>,
    /// Only the incidents of this problem.
    pub problem_id: Option<String>,
    pub funnel_stage_id: Option<String>,
    pub custom_status: Option<CustomStatusFilter>,
    pub category_id: Option<String>,
    /// `cf.<key>=value`: the custom field equals the value, or (a multi-select) holds it.
    pub custom_fields: Vec<(String, String)>,
    /// Only cases with a milestone not completed and due before this instant (the use case sets
    /// it to "now" for `has_overdue_milestone=true`).
    pub milestone_overdue_at: Option<Timestamp>,
    /// Quoted phrases (folded words in order); each must occur.
    pub phrases: Vec<Vec<String>>,
    /// Conditions of the query language (`q=`); each must hold.
    pub clauses: Vec<crate::query::Clause>,
}

impl CaseFilter {
    /// Adds a parsed query's text and conditions to the filter; returns the query's words (of
    /// phrases too), to show where they matched.
    pub fn add_query(&mut self, q: crate::query::Query) -> Vec<String> {
        let words = q.words.iter().chain(q.phrases.iter().flatten()).cloned().collect();
        self.terms.extend(q.words);
        self.phrases.extend(q.phrases);
        self.clauses.extend(q.clauses);
        words
    }
}

/// Cases in one custom status. A category's default status also matches the cases that name no
/// custom status in that category.
#[derive(Debug, Clone)]
pub struct CustomStatusFilter {
    pub id: String,
    pub default_of: Option<Status>,
}

#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: CaseFilter,
    pub ordering: Ordering,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// The words of a free-text query (see [`crate::search::terms`]).
pub fn search_terms(q: &str) -> Vec<String> {
    crate::search::terms(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn orderings_round_trip() {
        for o in [
            Ordering::CreatedAsc,
            Ordering::CreatedDesc,
            Ordering::UpdatedAsc,
            Ordering::UpdatedDesc,
            Ordering::PriorityAsc,
            Ordering::PriorityDesc,
            Ordering::Relevance,
        ] {
            assert_eq!(Ordering::parse(o.as_str()), Ok(o));
        }
        assert!(Ordering::parse("subject").is_err());
    }

    #[test]
    fn relevance_needs_words_to_rank_by() {
        let mut f = CaseFilter::default();
        assert_eq!(Ordering::Relevance.effective(&f), Ordering::CreatedDesc);
        f.phrases.push(vec!["refund".into(), "please".into()]);
        assert_eq!(Ordering::Relevance.effective(&f), Ordering::Relevance);
        f.phrases.clear();
        f.terms.push("refund".into());
        assert_eq!(Ordering::Relevance.effective(&f), Ordering::Relevance);
        assert_eq!(Ordering::UpdatedAsc.effective(&CaseFilter::default()), Ordering::UpdatedAsc);
    }

    #[test]
    fn search_terms_strip_syntax() {
        assert_eq!(search_terms("Order #4521 \"arrived\" damaged*"), ["order", "4521", "arrived", "damaged"]);
        assert!(search_terms("  ** ").is_empty());
    }

    proptest! {
        #[test]
        fn search_terms_are_always_plain_words(q in ".{0,200}") {
            for t in search_terms(&q) {
                prop_assert!(!t.is_empty());
                prop_assert!(t.chars().all(|c| c.is_alphanumeric()));
            }
        }
    }
}
