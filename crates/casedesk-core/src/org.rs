//! The organization's own settings: name, time zone, auto-close, default SLA targets and the
//! length of a working day (for time entries given in days).

use casedesk_domain::policy::Action;
use casedesk_domain::{Errors, text};
use casedesk_store::Org;
use jiff::tz::TimeZone;

use crate::{Actor, App, Result};

/// Resolved cases close after this many days unless the organization says otherwise.
pub const DEFAULT_AUTO_CLOSE_DAYS: i64 = 4;
/// Longest auto-close delay, in days.
pub const MAX_AUTO_CLOSE_DAYS: i64 = 365;

/// Settings to change; `None` leaves one alone.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub auto_close_days: Option<i64>,
    pub default_sla: Option<bool>,
    pub working_day_minutes: Option<i64>,
}

impl App {
    pub async fn get_organization(&self, actor: &Actor) -> Result<Org> {
        Ok(self.store.get_org(&actor.org_id).await?)
    }

    /// Changes the organization's settings (admins).
    pub async fn update_organization(&self, actor: &Actor, input: OrgInput) -> Result<Org> {
        actor.require(Action::ManageUsers, "change the organization's settings")?;
        let mut org = self.store.get_org(&actor.org_id).await?;
        let mut errors = Errors::new();
        if let Some(n) = input.name
            && let Some(n) = errors.take("name", text::required_line(&n, 200))
        {
            org.name = n;
        }
        if let Some(tz) = input.time_zone {
            match TimeZone::get(tz.trim()) {
                Ok(_) => org.time_zone = tz.trim().to_string(),
                Err(e) => errors.add("time_zone", format!("unknown time zone: {e}")),
            }
        }
        if let Some(days) = input.auto_close_days {
            if (1..=MAX_AUTO_CLOSE_DAYS).contains(&days) {
                org.auto_close_days = days;
            } else {
                errors.add("auto_close_days", format!("must be 1 to {MAX_AUTO_CLOSE_DAYS} days"));
            }
        }
        if let Some(on) = input.default_sla {
            org.default_sla = on;
        }
        if let Some(m) = input.working_day_minutes
            && let Some(m) = errors.take("working_day_minutes", casedesk_domain::time::validate_working_day(m))
        {
            org.working_day_minutes = m;
        }
        errors.finish()?;
        org.updated_at = self.clock.now();
        self.store.update_org(&org).await?;
        Ok(org)
    }
}
