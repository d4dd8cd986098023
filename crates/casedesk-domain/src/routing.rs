//! The router: which member of a queue gets a case.
//!
//! A pure function of the queue's members as they are at this instant (availability, capacity,
//! open cases, when each last got a case) and the queue's rotation state. The store reads that
//! snapshot inside the transaction that writes the case, so the decision and the write are one.

use jiff::Timestamp;

use crate::people::Availability;
use crate::queue::AssignmentMethod;

/// A queue member as the router sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: String,
    pub skills: Vec<String>,
    /// Receives the queue's VIP cases first.
    pub vip: bool,
    pub availability: Availability,
    /// A deactivated user never gets cases.
    pub active: bool,
    /// Most active cases at once; `None` = no limit.
    pub max_open_cases: Option<i64>,
    /// Cases assigned to them now that are not resolved or closed.
    pub open_cases: i64,
    pub last_assigned_at: Option<Timestamp>,
}

/// What the router knows about the case and the queue.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: AssignmentMethod,
    /// Members in rotation order (the order they joined the queue).
    pub members: &'a [Member],
    /// Who had the last round-robin turn.
    pub last_turn: Option<&'a str>,
    pub required_skills: &'a [String],
    /// The case's account has one of the queue's VIP tiers.
    pub vip_case: bool,
}

/// The member chosen, and why (shown on the timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub user_id: String,
    pub reason: String,
}

/// Why a member cannot take a case now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    Inactive,
    Away,
    Offline,
    Full,
    Skills,
}

fn skip_reason(m: &Member, required: &[String]) -> Option<Skip> {
    if !m.active {
        return Some(Skip::Inactive);
    }
    match m.availability {
        Availability::Away => return Some(Skip::Away),
        Availability::Offline => return Some(Skip::Offline),
        Availability::Available => {}
    }
    if m.max_open_cases.is_some_and(|max| m.open_cases >= max) {
        return Some(Skip::Full);
    }
    if !required.iter().all(|s| m.skills.iter().any(|have| have.eq_ignore_ascii_case(s))) {
        return Some(Skip::Skills);
    }
    None
}

/// Whether a member takes cases at all now (active, available, below capacity), whatever skills
/// a case needs.
pub fn takes_cases(m: &Member) -> bool {
    skip_reason(m, &[]).is_none()
}

/// Chooses the assignee, or explains why nobody can take the case (the case then waits,
/// unassigned, for someone to become eligible). `Manual` queues never assign.
pub fn route(req: &Request<'_>) -> Result<Assignment, String> {
    if req.method == AssignmentMethod::Manual {
        return Err("the queue assigns manually".into());
    }
    let eligible: Vec<&Member> = req.members.iter().filter(|m| skip_reason(m, req.required_skills).is_none()).collect();
    if eligible.is_empty() {
        return Err(nobody_reason(req));
    }
    // VIP cases go to the VIP members first; if none of them can take it, to everyone.
    let vip: Vec<&Member> = eligible.iter().copied().filter(|m| m.vip).collect();
    let (pool, vip_note) =
        if req.vip_case && !vip.is_empty() { (vip, "VIP case to a VIP member; ") } else { (eligible, "") };
    let skills_note = if req.required_skills.is_empty() {
        String::new()
    } else {
        format!("has the skills {}; ", req.required_skills.join(", "))
    };
    let (chosen, why) = match req.method {
        AssignmentMethod::RoundRobin => round_robin(req.members, &pool, req.last_turn),
        AssignmentMethod::LeastActive | AssignmentMethod::Skills | AssignmentMethod::Manual => least_active(&pool),
    };
    Ok(Assignment { user_id: chosen.user_id.clone(), reason: format!("{vip_note}{skills_note}{why}") })
}

/// The first eligible member after the one who had the last turn, in rotation order, wrapping.
fn round_robin<'m>(all: &'m [Member], pool: &[&'m Member], last_turn: Option<&str>) -> (&'m Member, String) {
    let start = last_turn.and_then(|last| all.iter().position(|m| m.user_id == last)).map_or(0, |i| i + 1);
    let n = all.len();
    for k in 0..n {
        let candidate = &all[(start + k) % n];
        if pool.iter().any(|m| m.user_id == candidate.user_id) {
            let skipped = k;
            let why = if skipped == 0 {
                "next in the rotation".to_string()
            } else {
                format!("next in the rotation ({skipped} member(s) skipped as not eligible)")
            };
            return (candidate, why);
        }
    }
    // Unreachable when `pool` is a non-empty subset of `all`; fall back to its first member.
    (pool[0], "next in the rotation".into())
}

/// Fewest open cases; ties go to whoever waited longest since their last assignment (never
/// assigned = longest), then rotation order.
fn least_active<'m>(pool: &[&'m Member]) -> (&'m Member, String) {
    let mut best = pool[0];
    for m in &pool[1..] {
        let better = (m.open_cases, m.last_assigned_at.map(|t| t.as_microsecond()).unwrap_or(i64::MIN))
            < (best.open_cases, best.last_assigned_at.map(|t| t.as_microsecond()).unwrap_or(i64::MIN));
        if better {
            best = m;
        }
    }
    let tied = pool.iter().filter(|m| m.open_cases == best.open_cases).count();
    let why = if tied > 1 {
        format!("fewest open cases ({}), waited longest of {tied}", best.open_cases)
    } else {
        format!("fewest open cases ({})", best.open_cases)
    };
    (best, why)
}

fn nobody_reason(req: &Request<'_>) -> String {
    if req.members.is_empty() {
        return "the queue has no members".into();
    }
    let mut counts: Vec<(Skip, usize)> = Vec::new();
    for m in req.members {
        if let Some(s) = skip_reason(m, req.required_skills) {
            match counts.iter_mut().find(|(k, _)| *k == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(s, n)| {
            let what = match s {
                Skip::Inactive => "deactivated",
                Skip::Away => "away",
                Skip::Offline => "offline",
                Skip::Full => "at capacity",
                Skip::Skills => "without the required skills",
            };
            format!("{n} {what}")
        })
        .collect();
    format!("no eligible member ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> Member {
        Member {
            user_id: id.into(),
            skills: vec![],
            vip: false,
            availability: Availability::Available,
            active: true,
            max_open_cases: None,
            open_cases: 0,
            last_assigned_at: None,
        }
    }

    fn req<'a>(method: AssignmentMethod, members: &'a [Member], last: Option<&'a str>) -> Request<'a> {
        Request { method, members, last_turn: last, required_skills: &[], vip_case: false }
    }

    #[test]
    fn round_robin_rotates_and_wraps() {
        let ms = [member("a"), member("b"), member("c")];
        let mut last: Option<String> = None;
        let mut got = Vec::new();
        for _ in 0..7 {
            let a = route(&req(AssignmentMethod::RoundRobin, &ms, last.as_deref())).expect("assigned");
            got.push(a.user_id.clone());
            last = Some(a.user_id);
        }
        assert_eq!(got, ["a", "b", "c", "a", "b", "c", "a"]);
    }

    #[test]
    fn round_robin_skips_away_full_and_inactive_members() {
        let mut ms = [member("a"), member("b"), member("c"), member("d")];
        ms[1].availability = Availability::Away;
        ms[2].max_open_cases = Some(2);
        ms[2].open_cases = 2;
        ms[3].active = false;
        let a = route(&req(AssignmentMethod::RoundRobin, &ms, Some("a"))).expect("assigned");
        assert_eq!(a.user_id, "a");
        assert!(a.reason.contains("3 member(s) skipped"), "{}", a.reason);
    }

    #[test]
    fn a_departed_last_turn_restarts_the_rotation() {
        let ms = [member("a"), member("b")];
        assert_eq!(route(&req(AssignmentMethod::RoundRobin, &ms, Some("gone"))).expect("ok").user_id, "a");
    }

    #[test]
    fn least_active_prefers_fewest_then_longest_waiting() {
        let mut ms = [member("a"), member("b"), member("c")];
        ms[0].open_cases = 3;
        ms[1].open_cases = 1;
        ms[1].last_assigned_at = Some(Timestamp::from_second(2000).expect("ts"));
        ms[2].open_cases = 1;
        ms[2].last_assigned_at = Some(Timestamp::from_second(1000).expect("ts"));
        let a = route(&req(AssignmentMethod::LeastActive, &ms, None)).expect("ok");
        assert_eq!(a.user_id, "c");
        assert!(a.reason.contains("waited longest"), "{}", a.reason);
        ms[2].last_assigned_at = None;
        ms[1].last_assigned_at = None;
        assert_eq!(route(&req(AssignmentMethod::LeastActive, &ms, None)).expect("ok").user_id, "b");
    }

    #[test]
    fn skills_must_be_covered() {
        let mut ms = [member("a"), member("b")];
        ms[0].skills = vec!["billing".into()];
        ms[0].open_cases = 5;
        ms[1].skills = vec!["Billing".into(), "german".into()];
        ms[1].open_cases = 9;
        let skills = ["billing".to_string(), "german".to_string()];
        let r = Request { required_skills: &skills, ..req(AssignmentMethod::Skills, &ms, None) };
        assert_eq!(route(&r).expect("ok").user_id, "b");
        let skills = ["french".to_string()];
        let r = Request { required_skills: &skills, ..req(AssignmentMethod::Skills, &ms, None) };
        assert_eq!(route(&r).expect_err("nobody"), "no eligible member (2 without the required skills)");
    }

    #[test]
    fn vip_cases_go_to_vip_members_first_then_anyone() {
        let mut ms = [member("a"), member("b"), member("c")];
        ms[2].vip = true;
        let r = Request { vip_case: true, ..req(AssignmentMethod::RoundRobin, &ms, None) };
        let a = route(&r).expect("ok");
        assert_eq!(a.user_id, "c");
        assert!(a.reason.starts_with("VIP case"), "{}", a.reason);
        // Not a VIP case: ordinary rotation.
        assert_eq!(route(&req(AssignmentMethod::RoundRobin, &ms, None)).expect("ok").user_id, "a");
        // The VIP member is away: anyone eligible.
        ms[2].availability = Availability::Offline;
        let r = Request { vip_case: true, ..req(AssignmentMethod::RoundRobin, &ms, None) };
        assert_eq!(route(&r).expect("ok").user_id, "a");
    }

    #[test]
    fn nobody_eligible_is_explained() {
        let mut ms = [member("a"), member("b")];
        ms[0].availability = Availability::Away;
        ms[1].max_open_cases = Some(0);
        let e = route(&req(AssignmentMethod::LeastActive, &ms, None)).expect_err("nobody");
        assert_eq!(e, "no eligible member (1 away, 1 at capacity)");
        assert_eq!(
            route(&req(AssignmentMethod::RoundRobin, &[], None)).expect_err("empty"),
            "the queue has no members"
        );
        assert!(route(&req(AssignmentMethod::Manual, &[member("a")], None)).is_err());
    }
}
