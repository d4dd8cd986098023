//! Case queues: where a case lives and how it gets an assignee.

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

/// Validated queue fields; `None` leaves a field unchanged on update.
#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub assignment_method: Option<String>,
}

/// Checks queue fields; returns (name, description, method) with the ones not given taken from
/// `current`.
pub fn validate(
    input: QueueInput,
    current: Option<(&str, &str, AssignmentMethod)>,
) -> Result<(String, String, AssignmentMethod), DomainError> {
    let mut errors = Errors::new();
    let name = match (input.name, current) {
        (Some(n), _) => errors.take("name", text::required_line(&n, 200)),
        (None, Some((n, _, _))) => Some(n.to_string()),
        (None, None) => {
            errors.add("name", "is required");
            None
        }
    };
    let description = match (input.description, current) {
        (Some(d), _) => errors.take("description", text::bounded(&d, 2000)),
        (None, Some((_, d, _))) => Some(d.to_string()),
        (None, None) => Some(String::new()),
    };
    let method = match (input.assignment_method, current) {
        (Some(m), _) => errors.take("assignment_method", AssignmentMethod::parse(&m)),
        (None, Some((_, _, m))) => Some(m),
        (None, None) => Some(AssignmentMethod::Manual),
    };
    errors.finish()?;
    match (name, description, method) {
        (Some(n), Some(d), Some(m)) => Ok((n, d, m)),
        _ => Err(DomainError::field("name", "is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_and_queues_validate() {
        assert_eq!(AssignmentMethod::parse("round-robin"), Ok(AssignmentMethod::RoundRobin));
        assert!(AssignmentMethod::parse("random").is_err());
        let (n, d, m) = validate(QueueInput { name: Some("Tier 1".into()), ..Default::default() }, None).expect("ok");
        assert_eq!((n.as_str(), d.as_str(), m), ("Tier 1", "", AssignmentMethod::Manual));
        assert!(validate(QueueInput::default(), None).is_err());
        let kept = validate(
            QueueInput { assignment_method: Some("least_active".into()), ..Default::default() },
            Some(("Q", "desc", AssignmentMethod::Manual)),
        )
        .expect("ok");
        assert_eq!(kept, ("Q".into(), "desc".into(), AssignmentMethod::LeastActive));
    }
}
