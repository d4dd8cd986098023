//! Case queues: where a case lives and how it gets an assignee.

use jiff::Timestamp;

use crate::case::Priority;
use crate::error::{DomainError, Errors};
use crate::text;

/// How a queue picks an assignee for a new case (seed 000, seed 004).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentMethod {
    /// Even rotation over the queue's eligible members.
    RoundRobin,
    /// The member with the fewest open cases.
    LeastActive,
    /// Members whose skills cover the case's, then least active.
    Skills,
    /// Nobody is assigned automatically.
    Manual,
}

impl AssignmentMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            AssignmentMethod::RoundRobin => "round_robin",
            AssignmentMethod::LeastActive => "least_active",
            AssignmentMethod::Skills => "skills",
            AssignmentMethod::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "round_robin" => Ok(AssignmentMethod::RoundRobin),
            "least_active" => Ok(AssignmentMethod::LeastActive),
            "skills" => Ok(AssignmentMethod::Skills),
            "manual" => Ok(AssignmentMethod::Manual),
            _ => Err(format!("unknown assignment_method {s:?}; expected round_robin, least_active, skills or manual")),
        }
    }
}

/// A case queue: where a case lives, who works it, how it is assigned and which SLA applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub assignment_method: AssignmentMethod,
    /// The SLA policy applied to cases routed here.
    pub sla_policy_id: Option<String>,
    /// The business calendar the policy counts in when the policy names none.
    pub calendar_id: Option<String>,
    /// Account tiers whose cases are VIP here (lower-case).
    pub vip_tiers: Vec<String>,
    /// The priority VIP cases get on arrival.
    pub vip_priority: Option<Priority>,
    /// Where "escalate" moves a case when no queue is named.
    pub escalation_queue_id: Option<String>,
    /// Whether agents log time on this queue's cases (timers and entries).
    pub time_tracking: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Queue fields as given; `None` leaves a field unchanged, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub assignment_method: Option<String>,
    pub sla_policy_id: Option<Option<String>>,
    pub calendar_id: Option<Option<String>>,
    pub vip_tiers: Option<Vec<String>>,
    pub vip_priority: Option<Option<String>>,
    pub escalation_queue_id: Option<Option<String>>,
    pub time_tracking: Option<bool>,
}

impl Queue {
    /// A queue with defaults, to `apply` a creation's input to.
    pub fn blank(id: String, org_id: String, now: Timestamp) -> Queue {
        Queue {
            id,
            org_id,
            name: String::new(),
            description: String::new(),
            assignment_method: AssignmentMethod::Manual,
            sla_policy_id: None,
            calendar_id: None,
            vip_tiers: vec!["vip".into()],
            vip_priority: None,
            escalation_queue_id: None,
            time_tracking: true,
            created_at: now,
            updated_at: now,
        }
    }

    /// Applies `input`, validating every field. References (policy, calendar, queue) are
    /// checked to exist by the use case.
    pub fn apply(mut self, input: QueueInput, creating: bool) -> Result<Queue, DomainError> {
        let mut errors = Errors::new();
        match input.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(&n, 200)) {
                    self.name = n;
                }
            }
            None if creating => errors.add("name", "is required"),
            None => {}
        }
        if let Some(d) = input.description
            && let Some(d) = errors.take("description", text::bounded(&d, 2000))
        {
            self.description = d;
        }
        if let Some(m) = input.assignment_method
            && let Some(m) = errors.take("assignment_method", AssignmentMethod::parse(&m))
        {
            self.assignment_method = m;
        }
        if let Some(p) = input.sla_policy_id {
            self.sla_policy_id = p;
        }
        if let Some(c) = input.calendar_id {
            self.calendar_id = c;
        }
        if let Some(tiers) = input.vip_tiers {
            let mut out: Vec<String> = Vec::new();
            for (i, t) in tiers.iter().enumerate() {
                if let Some(t) = errors.take(&format!("vip_tiers[{i}]"), text::required_line(t, 64))
                    && !out.contains(&t.to_lowercase())
                {
                    out.push(t.to_lowercase());
                }
            }
            self.vip_tiers = out;
        }
        if let Some(p) = input.vip_priority {
            match p {
                Some(p) => self.vip_priority = errors.take("vip_priority", Priority::parse(&p)),
                None => self.vip_priority = None,
            }
        }
        if let Some(e) = input.escalation_queue_id {
            if e.as_deref() == Some(self.id.as_str()) {
                errors.add("escalation_queue_id", "a queue cannot escalate to itself");
            }
            self.escalation_queue_id = e;
        }
        if let Some(on) = input.time_tracking {
            self.time_tracking = on;
        }
        errors.finish()?;
        Ok(self)
    }

    /// Whether a case of an account with `tier` is VIP in this queue.
    pub fn is_vip_tier(&self, tier: Option<&str>) -> bool {
        tier.is_some_and(|t| self.vip_tiers.iter().any(|v| v.eq_ignore_ascii_case(t)))
    }
}

/// A member's role in a queue. Managers see and reassign the queue's cases; both receive cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Member,
    Manager,
}

impl MemberRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            MemberRole::Member => "member",
            MemberRole::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "member" | "agent" => Ok(MemberRole::Member),
            "manager" | "lead" => Ok(MemberRole::Manager),
            _ => Err(format!("unknown role {s:?}; expected member or manager")),
        }
    }
}

/// An agent's membership of a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMember {
    pub queue_id: String,
    pub user_id: String,
    pub org_id: String,
    pub role: MemberRole,
    /// Lower-case skill names, matched against a case's required skills.
    pub skills: Vec<String>,
    /// Receives the queue's VIP cases first.
    pub vip: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct MemberInput {
    pub role: Option<String>,
    pub skills: Option<Vec<String>>,
    pub vip: Option<bool>,
}

/// Most skills on a member or a case.
pub const MAX_SKILLS: usize = 50;

/// Validates a skill list: lower-cased, trimmed, de-duplicated; errors under `field[i]`.
pub fn normalize_skills(field: &str, skills: &[String], errors: &mut Errors) -> Vec<String> {
    if skills.len() > MAX_SKILLS {
        errors.add(field, format!("at most {MAX_SKILLS} skills"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, s) in skills.iter().enumerate() {
        if let Some(s) = errors.take(&format!("{field}[{i}]"), text::required_line(s, 64)) {
            let s = s.to_lowercase();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

impl QueueMember {
    pub fn apply(mut self, input: MemberInput) -> Result<QueueMember, DomainError> {
        let mut errors = Errors::new();
        if let Some(r) = input.role
            && let Some(r) = errors.take("role", MemberRole::parse(&r))
        {
            self.role = r;
        }
        if let Some(s) = input.skills {
            self.skills = normalize_skills("skills", &s, &mut errors);
        }
        if let Some(v) = input.vip {
            self.vip = v;
        }
        errors.finish()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank() -> Queue {
        Queue::blank("q_1".into(), "org_1".into(), Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn methods_parse_and_queues_validate() {
        assert_eq!(AssignmentMethod::parse("round-robin"), Ok(AssignmentMethod::RoundRobin));
        assert!(AssignmentMethod::parse("random").is_err());
        let q = blank().apply(QueueInput { name: Some("Tier 1".into()), ..Default::default() }, true).expect("ok");
        assert_eq!(
            (q.name.as_str(), q.description.as_str(), q.assignment_method),
            ("Tier 1", "", AssignmentMethod::Manual)
        );
        assert!(blank().apply(QueueInput::default(), true).is_err());
        let named = Queue { name: "Q".into(), description: "desc".into(), ..blank() };
        let kept = named
            .apply(QueueInput { assignment_method: Some("least_active".into()), ..Default::default() }, false)
            .expect("ok");
        assert_eq!((kept.name.as_str(), kept.assignment_method), ("Q", AssignmentMethod::LeastActive));
    }

    #[test]
    fn vip_settings_and_escalation_validate() {
        let input = QueueInput {
            name: Some("VIP".into()),
            vip_tiers: Some(vec!["Gold".into(), "gold".into(), "Platinum".into()]),
            vip_priority: Some(Some("urgent".into())),
            ..Default::default()
        };
        let q = blank().apply(input, true).expect("ok");
        assert_eq!(q.vip_tiers, ["gold", "platinum"]);
        assert_eq!(q.vip_priority, Some(Priority::Critical));
        assert!(q.is_vip_tier(Some("GOLD")) && !q.is_vip_tier(Some("silver")) && !q.is_vip_tier(None));
        let bad = QueueInput {
            vip_priority: Some(Some("asap".into())),
            escalation_queue_id: Some(Some("q_1".into())),
            ..Default::default()
        };
        let DomainError::Validation(f) = blank().apply(bad, false).expect_err("bad") else { panic!() };
        let fields: Vec<&str> = f.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["vip_priority", "escalation_queue_id"]);
    }

    #[test]
    fn members_validate_roles_and_skills() {
        let m = QueueMember {
            queue_id: "q_1".into(),
            user_id: "usr_1".into(),
            org_id: "org_1".into(),
            role: MemberRole::Member,
            skills: vec![],
            vip: false,
            created_at: Timestamp::UNIX_EPOCH,
        };
        let m2 = m
            .clone()
            .apply(MemberInput {
                role: Some("manager".into()),
                skills: Some(vec![" Billing ".into(), "billing".into()]),
                vip: Some(true),
            })
            .expect("ok");
        assert_eq!((m2.role, m2.skills.as_slice(), m2.vip), (MemberRole::Manager, &["billing".to_string()][..], true));
        let DomainError::Validation(f) = m
            .apply(MemberInput { role: Some("boss".into()), skills: Some(vec!["".into()]), vip: None })
            .expect_err("bad")
        else {
            panic!()
        };
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["role", "skills[0]"]);
    }
}
