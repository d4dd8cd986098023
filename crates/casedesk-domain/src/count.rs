//! Which case counts the store can read from its maintained totals instead of counting rows.
//!
//! The store keeps, per organization, how many live cases there are in each status along a few
//! dimensions: all cases, owner (or none), queue (or none), priority, creator, last editor and
//! tag.
//! A filter that asks only for statuses and at most one of those dimensions — "My cases",
//! "Unassigned", "All open", "Created by me", `queue:"Tier 1" status:open` — is a sum of a few of
//! those totals. [`totals_query`] says which sum, or `None` when the filter needs the rows.

use crate::case::{Priority, Status};
use crate::list::{CaseFilter, Range};
use crate::query::{Clause, Test, Who};

/// One dimension of the maintained totals, with the values that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// Every case.
    All,
    /// The owner: a user (id or email) or nobody.
    Owner(Who),
    /// Queue names or ids.
    Queue(Vec<String>),
    Priority(Vec<Priority>),
    /// A user id or email.
    CreatedBy(String),
    /// A user id or email.
    UpdatedBy(String),
    /// One tag (a case with several of a list of tags would count once per tag, so a list is not
    /// a sum of totals).
    Tag(String),
}

impl Dimension {
    /// The name the store keeps this dimension's totals under.
    pub const fn key(&self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Owner(_) => "owner",
            Dimension::Queue(_) => "queue",
            Dimension::Priority(_) => "priority",
            Dimension::CreatedBy(_) => "created_by",
            Dimension::UpdatedBy(_) => "updated_by",
            Dimension::Tag(_) => "tag",
        }
    }
}

/// A count as a sum of maintained totals: the cases in any of `statuses` along `dimension`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsQuery {
    pub dimension: Dimension,
    /// Every status when the filter names none; empty when no status can match.
    pub statuses: Vec<Status>,
}

/// The totals that answer `f`, when its conditions are only statuses (also negated) and at most
/// one of the dimensions.
pub fn totals_query(f: &CaseFilter) -> Option<TotalsQuery> {
    let CaseFilter {
        statuses,
        priorities,
        types,
        queue_id,
        owner_id,
        unassigned,
        requester_id,
        contact_id,
        contact_external_id,
        account_id,
        tag,
        created,
        updated,
        closed,
        terms,
        sla_breached,
        sla_due_before,
        problem_id,
        funnel_stage_id,
        custom_status,
        category_id,
        custom_fields,
        milestone_overdue_at,
        phrases,
        clauses,
    } = f;
    let only_clauses = statuses.is_empty()
        && priorities.is_empty()
        && types.is_empty()
        && [
            queue_id,
            owner_id,
            requester_id,
            contact_id,
            contact_external_id,
            account_id,
            tag,
            problem_id,
            funnel_stage_id,
            category_id,
        ]
        .iter()
        .all(|v| v.is_none())
        && !unassigned
        && [created, updated, closed].iter().all(|r| **r == Range::default())
        && terms.is_empty()
        && sla_breached.is_none()
        && sla_due_before.is_none()
        && custom_status.is_none()
        && custom_fields.is_empty()
        && milestone_overdue_at.is_none()
        && phrases.is_empty();
    if !only_clauses {
        return None;
    }
    let mut statuses: Vec<Status> = Status::ALL.to_vec();
    let mut dimension = None;
    for Clause { negated, test } in clauses {
        if let Test::Status(listed) = test {
            statuses.retain(|s| listed.contains(s) != *negated);
            continue;
        }
        if *negated || dimension.is_some() {
            return None;
        }
        dimension = Some(match test {
            Test::Assignee(who) => Dimension::Owner(who.clone()),
            Test::Queue(names) => Dimension::Queue(names.clone()),
            Test::Priority(p) => Dimension::Priority(p.clone()),
            Test::CreatedBy(who) => Dimension::CreatedBy(who.clone()),
            Test::UpdatedBy(who) => Dimension::UpdatedBy(who.clone()),
            Test::Tag(tags) => match tags.as_slice() {
                [tag] => Dimension::Tag(tag.clone()),
                _ => return None,
            },
            _ => return None,
        });
    }
    Some(TotalsQuery { dimension: dimension.unwrap_or(Dimension::All), statuses })
}

/// "Overdue" (`sla:overdue`) is "breached, or not breached and due before now": two parts that
/// never overlap, each of which an index answers alone, where the either-or needs every case of the
/// statuses. Returns the filter as those two parts, whose counts add up to its count, when it holds
/// `sla:overdue` (not negated).
pub fn split_overdue(f: &CaseFilter) -> Option<(CaseFilter, CaseFilter)> {
    let at = f.clauses.iter().position(|c| !c.negated && matches!(c.test, Test::SlaOverdue(_)))?;
    let Test::SlaOverdue(now) = f.clauses[at].test else { return None };
    if f.sla_breached.is_some() || f.sla_due_before.is_some() {
        return None;
    }
    let mut rest = f.clone();
    rest.clauses.remove(at);
    let breached = CaseFilter { sla_breached: Some(true), ..rest.clone() };
    let due = CaseFilter { sla_breached: Some(false), sla_due_before: Some(now), ..rest };
    Some((breached, due))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{QueryContext, parse};
    use crate::view::PREDEFINED;
    use jiff::Timestamp;

    fn totals(q: &str) -> Option<TotalsQuery> {
        let tz = jiff::tz::TimeZone::UTC;
        let ctx = QueryContext { me: "usr_me", now: Timestamp::UNIX_EPOCH, tz: &tz };
        let mut f = CaseFilter::default();
        f.add_query(parse(q, &ctx).expect("query"));
        totals_query(&f)
    }

    const ACTIVE: [Status; 4] = [Status::New, Status::Open, Status::Pending, Status::OnHold];

    #[test]
    fn statuses_and_one_dimension_are_a_sum_of_totals() {
        let t = |dimension, statuses: &[Status]| Some(TotalsQuery { dimension, statuses: statuses.to_vec() });
        assert_eq!(totals(""), t(Dimension::All, Status::ALL));
        assert_eq!(totals("status:open,pending"), t(Dimension::All, &[Status::Open, Status::Pending]));
        assert_eq!(totals("-status:resolved,closed"), t(Dimension::All, &ACTIVE));
        assert_eq!(totals("status:open -status:open"), t(Dimension::All, &[]));
        assert_eq!(
            totals("assignee:me status:new,open,pending,on_hold"),
            t(Dimension::Owner(Who::User("usr_me".into())), &ACTIVE)
        );
        assert_eq!(totals("status:open assignee:none"), t(Dimension::Owner(Who::Nobody), &[Status::Open]));
        assert_eq!(
            totals("queue:\"Tier 1\",q_2"),
            t(Dimension::Queue(vec!["Tier 1".into(), "q_2".into()]), Status::ALL)
        );
        assert_eq!(
            totals("priority>=high status:open"),
            t(Dimension::Priority(vec![Priority::High, Priority::Critical]), &[Status::Open])
        );
        assert_eq!(totals("created_by:me"), t(Dimension::CreatedBy("usr_me".into()), Status::ALL));
        assert_eq!(
            totals("updated_by:ana@example.com"),
            t(Dimension::UpdatedBy("ana@example.com".into()), Status::ALL)
        );
    }

    #[test]
    fn anything_else_needs_the_rows() {
        for q in [
            "printer",
            "\"paper jam\"",
            "assignee:me queue:billing",
            "-assignee:me",
            "-queue:billing status:open",
            "tag:vip,gold",
            "-tag:vip",
            "tag:vip assignee:me",
            "sla:overdue status:open",
            "updated<7d",
            "type:incident",
            "cf.order:1",
        ] {
            assert_eq!(totals(q), None, "{q}");
        }
        let mut f = CaseFilter { owner_id: Some("usr_x".into()), ..Default::default() };
        assert_eq!(totals_query(&f), None, "fields of the filter other than the query's conditions");
        f.owner_id = None;
        f.unassigned = true;
        assert_eq!(totals_query(&f), None);
    }

    #[test]
    fn overdue_is_breached_plus_due_and_not_breached() {
        let tz = jiff::tz::TimeZone::UTC;
        let now = Timestamp::from_second(1_000).expect("time");
        let ctx = QueryContext { me: "usr_me", now, tz: &tz };
        let mut f = CaseFilter::default();
        f.add_query(parse("sla:overdue status:open", &ctx).expect("query"));
        let (breached, due) = split_overdue(&f).expect("split");
        let status = vec![Clause { negated: false, test: Test::Status(vec![Status::Open]) }];
        assert_eq!((breached.sla_breached, breached.sla_due_before, &breached.clauses), (Some(true), None, &status));
        assert_eq!((due.sla_breached, due.sla_due_before, &due.clauses), (Some(false), Some(now), &status));
        let mut negated = CaseFilter::default();
        negated.add_query(parse("-sla:overdue", &ctx).expect("query"));
        assert!(split_overdue(&negated).is_none(), "the complement is not a sum");
        assert!(split_overdue(&CaseFilter::default()).is_none());
    }

    #[test]
    fn every_predefined_view_but_overdue_reads_totals() {
        for p in PREDEFINED {
            assert_eq!(totals(p.query).is_some(), p.id != "overdue", "{}", p.id);
        }
    }
}
