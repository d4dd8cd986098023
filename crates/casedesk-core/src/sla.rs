//! SLA use cases: business calendars, policies, which policy a case follows, and the background
//! sweep that flags warnings and breaches.

use casedesk_domain::calendar::{self, BusinessCalendar, CalendarInput, HolidayInput};
use casedesk_domain::case::Case;
use casedesk_domain::case_sla::{CaseSla, SLA_REMOVED, Setup};
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::Action;
use casedesk_domain::queue::Queue;
use casedesk_domain::sla::{Policy, PolicyInput};
use casedesk_domain::text;
use casedesk_domain::timeline::NewEvent;
use casedesk_store::{CalendarRecord, Org, Page, PageRequest, PolicyRecord, RefKind, StoreError};
use jiff::Timestamp;
use serde_json::json;

use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

/// Cases the sweep handles per round.
const SWEEP_BATCH: i64 = 200;
/// Cases re-timed per page after a policy or calendar change.
const RETIME_PAGE: i64 = 200;

/// A policy ready to apply to cases: the policy, its id (`None` for the organization's default
/// targets) and the calendar it counts in.
#[derive(Debug, Clone)]
pub struct SlaPlan {
    pub policy_id: Option<String>,
    pub policy: Policy,
    pub calendar: BusinessCalendar,
}

impl SlaPlan {
    pub fn setup(&self) -> Setup<'_> {
        Setup { policy_id: self.policy_id.as_deref(), policy: &self.policy, calendar: &self.calendar }
    }

    fn defaults() -> SlaPlan {
        SlaPlan { policy_id: None, policy: Policy::seed_defaults(), calendar: BusinessCalendar::always() }
    }
}

/// A calendar's fields as given; `None` leaves one alone on update.
#[derive(Debug, Clone, Default)]
pub struct CalendarFields {
    pub name: Option<String>,
    pub calendar: Option<CalendarInput>,
}

/// A policy's fields as given; `None` leaves one alone on update.
#[derive(Debug, Clone, Default)]
pub struct PolicyFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub calendar_id: Option<Option<String>>,
    pub policy: Option<PolicyInput>,
}

fn name_field(name: Option<String>, current: &str, creating: bool) -> Result<String> {
    match name {
        Some(n) => text::required_line(&n, 200).map_err(|m| AppError::field("name", m)),
        None if creating => Err(AppError::field("name", "is required")),
        None => Ok(current.to_string()),
    }
}

impl App {
    // ---- which policy applies -----------------------------------------------------------------

    /// The plan of policy `policy_id`, or `None` if it no longer exists.
    pub(crate) async fn plan_for_policy(&self, org_id: &str, policy_id: &str) -> Result<Option<SlaPlan>> {
        let record = match self.store.get_policy(org_id, policy_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let calendar = match &record.calendar_id {
            Some(id) => self.store.get_calendar(org_id, id).await?.calendar,
            None => BusinessCalendar::always(),
        };
        Ok(Some(SlaPlan { policy_id: Some(record.id), policy: record.policy, calendar }))
    }

    /// The plan a case routed to `queue` follows: the queue's policy, else the organization's
    /// default targets if turned on.
    pub(crate) async fn plan_for_queue(&self, org: &Org, queue: Option<&Queue>) -> Result<Option<SlaPlan>> {
        if let Some(id) = queue.and_then(|q| q.sla_policy_id.as_deref())
            && let Some(plan) = self.plan_for_policy(&org.id, id).await?
        {
            return Ok(Some(plan));
        }
        Ok(org.default_sla.then(SlaPlan::defaults))
    }

    /// The plan a case's clocks follow now.
    pub(crate) async fn plan_for_case(&self, case: &Case) -> Result<Option<SlaPlan>> {
        match &case.sla {
            None => Ok(None),
            Some(CaseSla { policy_id: None, .. }) => Ok(Some(SlaPlan::defaults())),
            Some(CaseSla { policy_id: Some(id), .. }) => self.plan_for_policy(&case.org_id, id).await,
        }
    }

    // ---- calendars ----------------------------------------------------------------------------

    pub async fn create_calendar(
        &self,
        actor: &Actor,
        fields: CalendarFields,
        idem: Option<IdemKey>,
    ) -> Result<Created<CalendarRecord>> {
        actor.require(Action::ManageQueues, "create business calendars")?;
        let get = async |id: String| self.store.get_calendar(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let name = name_field(fields.name, "", true);
        let calendar = match fields.calendar {
            Some(input) => BusinessCalendar::from_input(input).map_err(AppError::from),
            None => Err(AppError::field("time_zone", "is required")),
        };
        let (name, calendar) = merge_errors(name, calendar)?;
        let now = self.clock.now();
        let record = CalendarRecord {
            id: IdKind::Calendar.new_id(),
            org_id: actor.org_id.clone(),
            name,
            calendar,
            created_at: now,
            updated_at: now,
        };
        let rec = self.idem_record(actor, idem.as_ref(), &record.id, 201);
        let written = self.store.insert_calendar(&record, rec.as_ref()).await.map(|()| record);
        let get = async |id: String| self.store.get_calendar(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn get_calendar(&self, actor: &Actor, id: &str) -> Result<CalendarRecord> {
        actor.require(Action::ReadCases, "read business calendars")?;
        Ok(self.store.get_calendar(&actor.org_id, id).await?)
    }

    pub async fn list_calendars(&self, actor: &Actor, page: &PageRequest) -> Result<Page<CalendarRecord>> {
        actor.require(Action::ReadCases, "read business calendars")?;
        Ok(self.store.list_calendars(&actor.org_id, page).await?)
    }

    /// Changes a calendar; running clocks of cases whose policy counts in it get new due times.
    pub async fn update_calendar(&self, actor: &Actor, id: &str, fields: CalendarFields) -> Result<CalendarRecord> {
        actor.require(Action::ManageQueues, "change business calendars")?;
        let mut record = self.store.get_calendar(&actor.org_id, id).await?;
        let name = name_field(fields.name, &record.name, false);
        let calendar = match fields.calendar {
            Some(input) => BusinessCalendar::from_input(input).map_err(AppError::from),
            None => Ok(record.calendar.clone()),
        };
        let (name, calendar) = merge_errors(name, calendar)?;
        if name == record.name && calendar == record.calendar {
            return Ok(record);
        }
        record.name = name;
        record.calendar = calendar;
        record.updated_at = self.clock.now();
        self.store.update_calendar(&record).await?;
        let mut page = PageRequest::first(100);
        loop {
            let policies = self.store.list_policies(&actor.org_id, &page).await?;
            for p in policies.items.iter().filter(|p| p.calendar_id.as_deref() == Some(id)) {
                self.retime_cases(&actor.org_id, &p.id).await?;
            }
            match policies.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        Ok(record)
    }

    /// Adds the holidays of an iCalendar file (`.ics`) to a calendar; dates it has already keep
    /// their names.
    pub async fn import_holidays(&self, actor: &Actor, id: &str, ics: &str) -> Result<CalendarRecord> {
        actor.require(Action::ManageQueues, "change business calendars")?;
        let record = self.store.get_calendar(&actor.org_id, id).await?;
        let found = calendar::holidays_from_ical(ics).map_err(|m| AppError::field("body", m))?;
        let mut input = record.calendar.to_input();
        for h in found {
            let date = h.date.to_string();
            if !input.holidays.iter().any(|x| x.date == date) {
                input.holidays.push(HolidayInput { date, name: h.name });
            }
        }
        self.update_calendar(actor, id, CalendarFields { name: None, calendar: Some(input) }).await
    }

    pub async fn delete_calendar(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete business calendars")?;
        Ok(self.store.delete_calendar(&actor.org_id, id).await?)
    }

    // ---- policies -----------------------------------------------------------------------------

    pub async fn create_policy(
        &self,
        actor: &Actor,
        fields: PolicyFields,
        idem: Option<IdemKey>,
    ) -> Result<Created<PolicyRecord>> {
        actor.require(Action::ManageQueues, "create SLA policies")?;
        let get = async |id: String| self.store.get_policy(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let name = name_field(fields.name, "", true);
        let policy = match fields.policy {
            Some(input) => Policy::validate(input).map_err(AppError::from),
            None => Err(AppError::field("rules", "a policy needs at least one rule")),
        };
        let (name, policy) = merge_errors(name, policy)?;
        let description = text::bounded(&fields.description.unwrap_or_default(), 2000)
            .map_err(|m| AppError::field("description", m))?;
        let calendar_id = fields.calendar_id.flatten();
        self.check_calendar_ref(&actor.org_id, calendar_id.as_deref()).await?;
        let now = self.clock.now();
        let record = PolicyRecord {
            id: IdKind::SlaPolicy.new_id(),
            org_id: actor.org_id.clone(),
            name,
            description,
            calendar_id,
            policy,
            created_at: now,
            updated_at: now,
        };
        let rec = self.idem_record(actor, idem.as_ref(), &record.id, 201);
        let written = self.store.insert_policy(&record, rec.as_ref()).await.map(|()| record);
        let get = async |id: String| self.store.get_policy(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    async fn check_calendar_ref(&self, org_id: &str, calendar_id: Option<&str>) -> Result<()> {
        self.check_typed_refs(org_id, &[("calendar_id", calendar_id, IdKind::Calendar, RefKind::Calendar)]).await
    }

    pub async fn get_policy(&self, actor: &Actor, id: &str) -> Result<PolicyRecord> {
        actor.require(Action::ReadCases, "read SLA policies")?;
        Ok(self.store.get_policy(&actor.org_id, id).await?)
    }

    pub async fn list_policies(&self, actor: &Actor, page: &PageRequest) -> Result<Page<PolicyRecord>> {
        actor.require(Action::ReadCases, "read SLA policies")?;
        Ok(self.store.list_policies(&actor.org_id, page).await?)
    }

    /// Changes a policy; the running clocks of its cases take the new targets and calendar,
    /// counted from their original start with the time already used.
    pub async fn update_policy(&self, actor: &Actor, id: &str, fields: PolicyFields) -> Result<PolicyRecord> {
        actor.require(Action::ManageQueues, "change SLA policies")?;
        let mut record = self.store.get_policy(&actor.org_id, id).await?;
        let name = name_field(fields.name, &record.name, false);
        let policy = match fields.policy {
            Some(input) => Policy::validate(input).map_err(AppError::from),
            None => Ok(record.policy.clone()),
        };
        let (name, policy) = merge_errors(name, policy)?;
        if let Some(d) = fields.description {
            record.description = text::bounded(&d, 2000).map_err(|m| AppError::field("description", m))?;
        }
        if let Some(c) = fields.calendar_id {
            self.check_calendar_ref(&actor.org_id, c.as_deref()).await?;
            record.calendar_id = c;
        }
        record.name = name;
        record.policy = policy;
        record.updated_at = self.clock.now();
        self.store.update_policy(&record).await?;
        self.retime_cases(&actor.org_id, id).await?;
        Ok(record)
    }

    /// Deletes a policy: queues stop applying it and the cases following it stop being timed
    /// (breaches already recorded stay on their timelines).
    pub async fn delete_policy(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete SLA policies")?;
        self.store.delete_policy(&actor.org_id, id).await?;
        self.retime_cases(&actor.org_id, id).await
    }

    /// Brings the clocks of every active case following `policy_id` in line with the policy as
    /// it is now (or removes them if it is gone).
    async fn retime_cases(&self, org_id: &str, policy_id: &str) -> Result<()> {
        let plan = self.plan_for_policy(org_id, policy_id).await?;
        let mut after = 0;
        loop {
            let page = self.store.cases_with_policy(org_id, policy_id, after, RETIME_PAGE).await?;
            for (seq, case_id) in &page {
                after = *seq;
                self.rewrite_sla(org_id, case_id, |case, now| match (&mut case.sla, &plan) {
                    (Some(sla), Some(plan)) => {
                        for c in &mut sla.clocks {
                            if let Some(budget) = plan.policy.budget(case.priority, c.kind) {
                                c.budget_secs = budget;
                            }
                        }
                        sla.refresh(plan.setup());
                        Vec::new()
                    }
                    (Some(_), None) => {
                        case.sla = None;
                        vec![NewEvent { kind: SLA_REMOVED, data: json!({ "policy_id": policy_id }), created_at: now }]
                    }
                    (None, _) => Vec::new(),
                })
                .await?;
            }
            if (page.len() as i64) < RETIME_PAGE {
                return Ok(());
            }
        }
    }

    /// Re-reads a case, lets `change` adjust its clocks, and writes it back with the entries it
    /// returned; retried if the case changed meanwhile.
    async fn rewrite_sla(
        &self,
        org_id: &str,
        case_id: &str,
        change: impl Fn(&mut Case, Timestamp) -> Vec<NewEvent>,
    ) -> Result<bool> {
        for _ in 0..5 {
            let current = match self.store.get_case_for_update(org_id, case_id).await {
                Ok(c) => c,
                Err(StoreError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            let now = self.clock.now();
            let mut next = current.clone();
            let events = change(&mut next, now);
            if next == current {
                return Ok(false);
            }
            next.version = current.version + 1;
            next.updated_at = current.updated_at.max(now);
            let actor = next.updated_by.clone();
            match self.store.update_case(&next, current.version, &events, &actor).await {
                Ok(()) => return Ok(!events.is_empty()),
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }

    // ---- the sweep ----------------------------------------------------------------------------

    /// Flags every SLA warning and breach due at the clock's now; returns how many cases got
    /// one. Safe to run on several instances at once: each case is written only if unchanged
    /// since it was read, so an alarm is recorded once.
    pub async fn sweep_sla(&self) -> Result<usize> {
        let now = self.clock.now();
        let due = self.store.sla_due(now, SWEEP_BATCH).await?;
        let mut flagged = 0;
        for (org_id, case_id) in due {
            let changed = self
                .rewrite_sla(&org_id, &case_id, |case, now| match &mut case.sla {
                    Some(sla) => sla.sweep(now),
                    None => Vec::new(),
                })
                .await?;
            if changed {
                flagged += 1;
            }
        }
        crate::metrics::Counters::add(&self.counters.sla_alarms, flagged as u64);
        Ok(flagged)
    }
}

/// Both results, or every field error of both.
fn merge_errors<A, B>(a: Result<A>, b: Result<B>) -> Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(AppError::Validation(mut x)), Err(AppError::Validation(y))) => {
            x.extend(y);
            Err(AppError::Validation(x))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}
