//! Organization-defined statuses (each within one of the six categories, seed 001) and funnel
//! stages (seed 002): the vocabulary a team uses for where a case stands.

use jiff::Timestamp;

use crate::case::Status;
use crate::error::{DomainError, Errors};
use crate::text;

/// A status an organization defines within a category, e.g. "Waiting on vendor" (on_hold).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomStatus {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub category: Status,
    /// `None`: clocks pause exactly when the category does under the case's SLA policy.
    pub pauses_sla: Option<bool>,
    pub position: i64,
    /// The status a case gets when only its category is set; one per category.
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Fields as given; `None` leaves one alone, `pauses_sla: Some(None)` returns to the category.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub name: Option<String>,
    pub category: Option<String>,
    pub pauses_sla: Option<Option<bool>>,
    pub position: Option<i64>,
    pub is_default: Option<bool>,
}

fn name(field: &str, value: Option<String>, creating: bool, errors: &mut Errors) -> Option<String> {
    match value {
        Some(n) => errors.take(field, text::required_line(&n, 100)),
        None if creating => {
            errors.add(field, "is required");
            None
        }
        None => None,
    }
}

fn position(value: Option<i64>, errors: &mut Errors) -> Option<i64> {
    match value {
        Some(p) if !(0..=10_000).contains(&p) => {
            errors.add("position", "must be 0 to 10000");
            None
        }
        other => other,
    }
}

impl CustomStatus {
    pub fn blank(id: String, org_id: String, now: Timestamp) -> CustomStatus {
        CustomStatus {
            id,
            org_id,
            name: String::new(),
            category: Status::Open,
            pauses_sla: None,
            position: 100,
            is_default: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// Applies `input`. The category of an existing status is fixed: cases in it would
    /// otherwise change category behind their owners' backs.
    pub fn apply(mut self, input: StatusInput, creating: bool) -> Result<CustomStatus, DomainError> {
        let mut errors = Errors::new();
        if let Some(n) = name("name", input.name, creating, &mut errors) {
            self.name = n;
        }
        match input.category {
            Some(c) if creating => {
                if let Some(c) = errors.take("category", Status::parse(&c)) {
                    self.category = c;
                }
            }
            Some(c) if Status::parse(&c).ok() != Some(self.category) => {
                errors.add("category", "cannot change; create a status in the other category instead")
            }
            Some(_) => {}
            None if creating => errors.add("category", "is required"),
            None => {}
        }
        if let Some(p) = input.pauses_sla {
            self.pauses_sla = p;
        }
        if let Some(p) = position(input.position, &mut errors) {
            self.position = p;
        }
        match input.is_default {
            Some(true) => self.is_default = true,
            Some(false) if self.is_default && !creating => {
                errors.add("is_default", "make another status of the category its default instead")
            }
            _ => {}
        }
        errors.finish()?;
        Ok(self)
    }

    /// Whether a case in this status has its SLA clocks paused, given whether its category
    /// pauses them under the case's policy.
    pub fn pauses(&self, category_pauses: bool) -> bool {
        self.pauses_sla.unwrap_or(category_pauses)
    }
}

/// Whether a case in `status` (with custom status `custom`, or the category's default) has its
/// SLA clocks paused, given whether the category pauses them under the case's policy: a custom
/// status may say otherwise.
pub fn pauses(statuses: &[CustomStatus], status: Status, custom: Option<&str>, category_pauses: bool) -> bool {
    let named = match custom {
        Some(id) => statuses.iter().find(|s| s.id == id),
        None => statuses.iter().find(|s| s.category == status && s.is_default),
    };
    named.map_or(category_pauses, |s| s.pauses(category_pauses))
}

/// The status of a case from what a request names: a custom status fixes the category; a
/// category alone means its default custom status (`None`). Both must agree.
pub fn status_of(
    category: Option<Status>,
    custom: Option<&CustomStatus>,
) -> Result<(Option<Status>, Option<String>), DomainError> {
    match (category, custom) {
        (Some(c), Some(s)) if c != s.category => {
            Err(DomainError::field("custom_status_id", format!("is in category {}, but status is {c}", s.category)))
        }
        (_, Some(s)) => Ok((Some(s.category), (!s.is_default).then(|| s.id.clone()))),
        (c, None) => Ok((c, None)),
    }
}

/// A stage of the organization's case funnel (seed 002), optionally only for one queue.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelStage {
    pub id: String,
    pub org_id: String,
    pub queue_id: Option<String>,
    pub name: String,
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct StageInput {
    pub name: Option<String>,
    pub queue_id: Option<Option<String>>,
    pub position: Option<i64>,
}

impl FunnelStage {
    pub fn blank(id: String, org_id: String, now: Timestamp) -> FunnelStage {
        FunnelStage { id, org_id, queue_id: None, name: String::new(), position: 100, created_at: now, updated_at: now }
    }

    pub fn apply(mut self, input: StageInput, creating: bool) -> Result<FunnelStage, DomainError> {
        let mut errors = Errors::new();
        if let Some(n) = name("name", input.name, creating, &mut errors) {
            self.name = n;
        }
        if let Some(q) = input.queue_id {
            self.queue_id = q;
        }
        if let Some(p) = position(input.position, &mut errors) {
            self.position = p;
        }
        errors.finish()?;
        Ok(self)
    }

    /// Whether a case in `queue_id` may be at this stage.
    pub fn fits(&self, queue_id: Option<&str>) -> bool {
        self.queue_id.as_deref().is_none_or(|q| Some(q) == queue_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(category: Status, is_default: bool) -> CustomStatus {
        CustomStatus {
            name: "x".into(),
            category,
            is_default,
            ..CustomStatus::blank("cst_1".into(), "org_1".into(), Timestamp::UNIX_EPOCH)
        }
    }

    #[test]
    fn a_custom_status_fixes_the_category_and_a_default_is_stored_as_none() {
        let vendor = status(Status::OnHold, false);
        assert_eq!(status_of(None, Some(&vendor)), Ok((Some(Status::OnHold), Some("cst_1".into()))));
        assert_eq!(status_of(Some(Status::OnHold), Some(&vendor)), Ok((Some(Status::OnHold), Some("cst_1".into()))));
        assert!(status_of(Some(Status::Open), Some(&vendor)).is_err());
        assert_eq!(status_of(None, Some(&status(Status::Open, true))), Ok((Some(Status::Open), None)));
        assert_eq!(status_of(Some(Status::Pending), None), Ok((Some(Status::Pending), None)));
    }

    #[test]
    fn statuses_validate_and_keep_their_category() {
        let base = CustomStatus::blank("cst_1".into(), "org_1".into(), Timestamp::UNIX_EPOCH);
        let s = base
            .clone()
            .apply(
                StatusInput {
                    name: Some("Waiting on vendor".into()),
                    category: Some("on-hold".into()),
                    ..Default::default()
                },
                true,
            )
            .expect("ok");
        assert_eq!((s.category, s.pauses_sla, s.pauses(true)), (Status::OnHold, None, true));
        let DomainError::Validation(f) = base.clone().apply(StatusInput::default(), true).expect_err("bad") else {
            panic!()
        };
        assert_eq!(f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["name", "category"]);
        let moved = s.clone().apply(StatusInput { category: Some("open".into()), ..Default::default() }, false);
        assert!(moved.is_err());
        let never = s.apply(StatusInput { pauses_sla: Some(Some(false)), ..Default::default() }, false).expect("ok");
        assert!(!never.pauses(true));
        let default = status(Status::Open, true);
        assert!(default.apply(StatusInput { is_default: Some(false), ..Default::default() }, false).is_err());
    }

    #[test]
    fn stages_fit_their_queue() {
        let any = FunnelStage::blank("stg_1".into(), "org_1".into(), Timestamp::UNIX_EPOCH)
            .apply(StageInput { name: Some("Intake".into()), ..Default::default() }, true)
            .expect("ok");
        assert!(any.fits(None) && any.fits(Some("q_1")));
        let only = FunnelStage { queue_id: Some("q_1".into()), ..any };
        assert!(only.fits(Some("q_1")) && !only.fits(Some("q_2")) && !only.fits(None));
    }
}
