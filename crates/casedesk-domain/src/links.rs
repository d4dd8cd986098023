//! Links between cases (related, parent / child, duplicate) and the rules of merging cases.

use jiff::Timestamp;

use crate::case::{CASE_CLOSED, Case};
use crate::error::DomainError;

/// How a link is stored: `from` is related to, a child of, or a duplicate of `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Related,
    ChildOf,
    DuplicateOf,
}

impl LinkKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkKind::Related => "related",
            LinkKind::ChildOf => "child_of",
            LinkKind::DuplicateOf => "duplicate_of",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "related" => Ok(LinkKind::Related),
            "child_of" => Ok(LinkKind::ChildOf),
            "duplicate_of" => Ok(LinkKind::DuplicateOf),
            _ => Err(format!("unknown link kind {s:?}")),
        }
    }
}

/// A link as one of its two cases sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    Related,
    /// The other case is this one's parent.
    Parent,
    /// The other case is this one's child.
    Child,
    /// This case duplicates the other.
    DuplicateOf,
    /// The other case duplicates this one.
    DuplicatedBy,
}

impl LinkType {
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkType::Related => "related",
            LinkType::Parent => "parent",
            LinkType::Child => "child",
            LinkType::DuplicateOf => "duplicate_of",
            LinkType::DuplicatedBy => "duplicated_by",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "related" | "relates_to" => Ok(LinkType::Related),
            "parent" => Ok(LinkType::Parent),
            "child" => Ok(LinkType::Child),
            "duplicate_of" | "duplicate" => Ok(LinkType::DuplicateOf),
            "duplicated_by" => Ok(LinkType::DuplicatedBy),
            _ => {
                Err(format!("unknown link type {s:?}; expected related, parent, child, duplicate_of or duplicated_by"))
            }
        }
    }

    /// How a link of this type from `this` to `other` is stored: `(from, to, kind)`.
    pub fn stored<'a>(self, this: &'a str, other: &'a str) -> (&'a str, &'a str, LinkKind) {
        match self {
            LinkType::Related => (this, other, LinkKind::Related),
            LinkType::Parent => (this, other, LinkKind::ChildOf),
            LinkType::Child => (other, this, LinkKind::ChildOf),
            LinkType::DuplicateOf => (this, other, LinkKind::DuplicateOf),
            LinkType::DuplicatedBy => (other, this, LinkKind::DuplicateOf),
        }
    }

    /// The type a stored link has as seen from the case at its `from` end (`true`) or `to` end.
    pub fn seen(kind: LinkKind, from_end: bool) -> LinkType {
        match (kind, from_end) {
            (LinkKind::Related, _) => LinkType::Related,
            (LinkKind::ChildOf, true) => LinkType::Parent,
            (LinkKind::ChildOf, false) => LinkType::Child,
            (LinkKind::DuplicateOf, true) => LinkType::DuplicateOf,
            (LinkKind::DuplicateOf, false) => LinkType::DuplicatedBy,
        }
    }
}

/// A stored link.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLink {
    pub id: String,
    pub org_id: String,
    pub from_case_id: String,
    pub to_case_id: String,
    pub kind: LinkKind,
    pub created_by: String,
    pub created_at: Timestamp,
}

impl CaseLink {
    /// The other case, as seen from `case_id`, and the link's type from there.
    pub fn seen_from(&self, case_id: &str) -> (&str, LinkType) {
        if self.from_case_id == case_id {
            (&self.to_case_id, LinkType::seen(self.kind, true))
        } else {
            (&self.from_case_id, LinkType::seen(self.kind, false))
        }
    }
}

/// Most cases merged in one request.
pub const MAX_MERGE: usize = 50;

/// Checks that `sources` may be merged into `target`: none is the target or repeated, none and
/// not the target is closed.
pub fn check_merge(target: &Case, sources: &[Case]) -> Result<(), DomainError> {
    if sources.is_empty() || sources.len() > MAX_MERGE {
        return Err(DomainError::field("source_ids", format!("name 1 to {MAX_MERGE} cases")));
    }
    for (i, s) in sources.iter().enumerate() {
        if s.id == target.id {
            return Err(DomainError::field(format!("source_ids[{i}]"), "a case cannot be merged into itself"));
        }
        if sources[..i].iter().any(|o| o.id == s.id) {
            return Err(DomainError::field(format!("source_ids[{i}]"), "is named twice"));
        }
    }
    if target.is_closed() {
        return Err(DomainError::Conflict {
            code: CASE_CLOSED,
            message: format!("case #{} is closed: nothing can be merged into it", target.case_number),
        });
    }
    if let Some(s) = sources.iter().find(|s| s.is_closed()) {
        return Err(DomainError::Conflict {
            code: CASE_CLOSED,
            message: format!("case #{} is closed and cannot be merged", s.case_number),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_store_one_way_and_read_back_from_both_ends() {
        for t in [LinkType::Related, LinkType::Parent, LinkType::Child, LinkType::DuplicateOf, LinkType::DuplicatedBy] {
            let (from, to, kind) = t.stored("a", "b");
            let link = CaseLink {
                id: "lnk_1".into(),
                org_id: "org_1".into(),
                from_case_id: from.into(),
                to_case_id: to.into(),
                kind,
                created_by: "usr_1".into(),
                created_at: Timestamp::UNIX_EPOCH,
            };
            assert_eq!(link.seen_from("a"), ("b", t), "{t:?} from a");
            let inverse = match t {
                LinkType::Parent => LinkType::Child,
                LinkType::Child => LinkType::Parent,
                LinkType::DuplicateOf => LinkType::DuplicatedBy,
                LinkType::DuplicatedBy => LinkType::DuplicateOf,
                LinkType::Related => LinkType::Related,
            };
            assert_eq!(link.seen_from("b"), ("a", inverse), "{t:?} from b");
        }
        assert_eq!(LinkType::parse("duplicate-of"), Ok(LinkType::DuplicateOf));
        assert!(LinkType::parse("sibling").is_err());
    }
}
