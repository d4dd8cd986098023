//! Time tracking use cases: time types, timers, time entries, timesheets, totals and estimates.
//!
//! A timer is a row per agent and case (`running_since` + what earlier runs counted), so it
//! survives reloads, logouts and restarts. Starting one stops the agent's other running timer,
//! which becomes a time entry; both cases' timelines say so. Every entry written, changed or
//! deleted is on its case's timeline, in the same transaction. Time is logged only on cases
//! whose queue allows it (`time_tracking`); cases without a queue always allow it.

use casedesk_domain::case::Case;
use casedesk_domain::error::FieldError;
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::queue::MemberRole;
use casedesk_domain::time::{
    self, EntryCtx, EntryInput, NO_TIMER, Source, StopReason, TIME_TRACKING_DISABLED, TimeEntry, TimeType,
    TimeTypeInput, Timer,
};
use casedesk_store::{
    CaseTime, EntryFilter, Org, Page, PageRequest, RefKind, StoreError, TimeTotal, TimerChange, TotalsGroup,
};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

/// What starting a timer did.
#[derive(Debug, Clone)]
pub struct TimerStart {
    /// The caller's timer on the case, now running.
    pub timer: Timer,
    /// Whether it was paused before (a resume) rather than new or already running.
    pub resumed: bool,
    /// The caller's timer on another case that was running and was stopped.
    pub stopped: Option<TimerStop>,
}

/// A stopped timer and the entry it became (none when it counted less than a second).
#[derive(Debug, Clone)]
pub struct TimerStop {
    pub timer: Timer,
    pub elapsed_secs: i64,
    pub entry: Option<TimeEntry>,
}

/// Details for the entry a stopped timer becomes.
#[derive(Debug, Clone, Default)]
pub struct StopInput {
    pub time_type_id: Option<String>,
    pub billable: Option<bool>,
    pub note: Option<String>,
}

/// A case's entries (one page) and its time summary.
#[derive(Debug, Clone)]
pub struct CaseEntries {
    pub page: Page<TimeEntry>,
    pub time: CaseTime,
}

/// Today in the organization's time zone.
fn today(org: &Org, now: Timestamp) -> Date {
    let tz = TimeZone::get(&org.time_zone).unwrap_or(TimeZone::UTC);
    now.to_zoned(tz).date()
}

impl App {
    // ---- time types ---------------------------------------------------------------------------

    pub async fn create_time_type(
        &self,
        actor: &Actor,
        input: TimeTypeInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<TimeType>> {
        actor.require(Action::ManageTime, "define time types")?;
        let get = async |id: String| self.store.get_time_type(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let t =
            TimeType::blank(IdKind::TimeType.new_id(), actor.org_id.clone(), self.clock.now()).apply(input, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &t.id, 201);
        let written = self.store.insert_time_type(&t, rec.as_ref()).await.map(|()| t);
        let written = match written {
            Err(StoreError::Duplicate(_)) if idem.is_none() => return Err(name_taken()),
            other => other,
        };
        let get = async |id: String| self.store.get_time_type(&actor.org_id, &id).await;
        match self.settle_create(actor, idem.as_ref(), written, get).await {
            Err(AppError::Conflict { code: "duplicate", .. }) => Err(name_taken()),
            other => other,
        }
    }

    pub async fn get_time_type(&self, actor: &Actor, id: &str) -> Result<TimeType> {
        actor.require(Action::ReadCases, "read time types")?;
        Ok(self.store.get_time_type(&actor.org_id, id).await?)
    }

    pub async fn list_time_types(&self, actor: &Actor, page: &PageRequest) -> Result<Page<TimeType>> {
        actor.require(Action::ReadCases, "read time types")?;
        Ok(self.store.list_time_types(&actor.org_id, page).await?)
    }

    pub async fn update_time_type(&self, actor: &Actor, id: &str, input: TimeTypeInput) -> Result<TimeType> {
        actor.require(Action::ManageTime, "change time types")?;
        let current = self.store.get_time_type(&actor.org_id, id).await?;
        let mut next = current.clone().apply(input, false)?;
        if next == current {
            return Ok(current);
        }
        next.updated_at = self.clock.now();
        match self.store.update_time_type(&next).await {
            Err(StoreError::Duplicate(_)) => Err(name_taken()),
            other => Ok(other.map(|()| next)?),
        }
    }

    /// Deletes a time type that no entry uses (409 `in_use` otherwise; deactivate it instead).
    pub async fn delete_time_type(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageTime, "delete time types")?;
        Ok(self.store.delete_time_type(&actor.org_id, id).await?)
    }

    // ---- shared checks ------------------------------------------------------------------------

    /// The case, if the caller may log time on it: it exists in the organization (404) and its
    /// queue, if any, has time tracking on (409 `time_tracking_disabled`).
    async fn loggable_case(&self, actor: &Actor, case_id: &str) -> Result<Case> {
        actor.require(Action::LogTime, "log time")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        if let Some(q) = &case.queue_id {
            let queue = self.store.get_queue(&actor.org_id, q).await?;
            if !queue.time_tracking {
                return Err(AppError::Conflict {
                    code: TIME_TRACKING_DISABLED,
                    message: format!(
                        "time tracking is off in queue {:?}, where case #{} is",
                        queue.name, case.case_number
                    ),
                });
            }
        }
        Ok(case)
    }

    /// The time type an input names: `None` when it names none, `Some(None)` when there is no
    /// such type in the organization.
    async fn named_time_type(&self, org_id: &str, id: Option<&Option<String>>) -> Result<Option<Option<TimeType>>> {
        let Some(Some(id)) = id else { return Ok(None) };
        if !IdKind::TimeType.matches(id) {
            return Ok(Some(None));
        }
        match self.store.get_time_type(org_id, id).await {
            Ok(t) => Ok(Some(Some(t))),
            Err(StoreError::NotFound) => Ok(Some(None)),
            Err(e) => Err(e.into()),
        }
    }

    // ---- timers -------------------------------------------------------------------------------

    /// The caller's timers, running first.
    pub async fn list_timers(&self, actor: &Actor) -> Result<Vec<Timer>> {
        actor.require(Action::LogTime, "log time")?;
        Ok(self.store.list_timers(&actor.org_id, &actor.user_id).await?)
    }

    /// Starts (or resumes) the caller's timer on a case. Another running timer of the caller is
    /// stopped and becomes a time entry, which both timelines record.
    pub async fn start_timer(&self, actor: &Actor, case_id: &str) -> Result<TimerStart> {
        let case = self.loggable_case(actor, case_id).await?;
        if case.is_closed() {
            return Err(AppError::Conflict {
                code: casedesk_domain::case::CASE_CLOSED,
                message: format!("case #{} is closed: start no timer on it", case.case_number),
            });
        }
        let org = self.store.get_org(&actor.org_id).await?;
        let now = self.clock.now();
        let timers = self.store.list_timers(&actor.org_id, &actor.user_id).await?;
        let mine = timers.iter().find(|t| t.case_id == case.id);
        if let Some(t) = mine.filter(|t| t.is_running()) {
            return Ok(TimerStart { timer: t.clone(), resumed: false, stopped: None });
        }
        let mut change = TimerChange { org_id: actor.org_id.clone(), ..Default::default() };
        let mut stopped = None;
        if let Some(other) = timers.iter().find(|t| t.is_running() && t.case_id != case.id) {
            let reason = StopReason::OtherTimerStarted { case_id: case.id.clone() };
            let stop = self.stop_into(&org, actor, other, &reason, StopInput::default(), now, &mut change).await?;
            stopped = Some(stop);
        }
        let base = mine
            .cloned()
            .unwrap_or_else(|| Timer::new(IdKind::Timer.new_id(), &actor.org_id, &actor.user_id, &case.id, now));
        let resumed = mine.is_some();
        let timer = base.started(now);
        change.events.push((case.id.clone(), vec![timer.started_event(resumed, now)]));
        change.put = Some(timer.clone());
        self.write_timer_change(&change, actor).await?;
        Ok(TimerStart { timer, resumed, stopped })
    }

    /// Pauses the caller's timer on a case (unchanged if already paused).
    pub async fn pause_timer(&self, actor: &Actor, case_id: &str) -> Result<Timer> {
        actor.require(Action::LogTime, "log time")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let timer = self.my_timer(actor, &case).await?;
        if !timer.is_running() {
            return Ok(timer);
        }
        let now = self.clock.now();
        let paused = timer.paused(now);
        let change = TimerChange {
            org_id: actor.org_id.clone(),
            put: Some(paused.clone()),
            events: vec![(case.id.clone(), vec![timer.paused_event(now)])],
            ..Default::default()
        };
        self.write_timer_change(&change, actor).await?;
        Ok(paused)
    }

    /// Stops the caller's timer on a case: it becomes a time entry with the time it counted.
    pub async fn stop_timer(&self, actor: &Actor, case_id: &str, input: StopInput) -> Result<TimerStop> {
        actor.require(Action::LogTime, "log time")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let timer = self.my_timer(actor, &case).await?;
        let org = self.store.get_org(&actor.org_id).await?;
        let now = self.clock.now();
        let mut change = TimerChange { org_id: actor.org_id.clone(), ..Default::default() };
        let stop = self.stop_into(&org, actor, &timer, &StopReason::Stopped, input, now, &mut change).await?;
        self.write_timer_change(&change, actor).await?;
        Ok(stop)
    }

    async fn my_timer(&self, actor: &Actor, case: &Case) -> Result<Timer> {
        let timers = self.store.list_timers(&actor.org_id, &actor.user_id).await?;
        timers.into_iter().find(|t| t.case_id == case.id).ok_or_else(|| AppError::Conflict {
            code: NO_TIMER,
            message: format!("you have no timer on case #{}", case.case_number),
        })
    }

    /// Adds the stop of `timer` to `change`: its removal, its entry and its timeline events.
    #[allow(clippy::too_many_arguments)]
    async fn stop_into(
        &self,
        org: &Org,
        actor: &Actor,
        timer: &Timer,
        reason: &StopReason,
        input: StopInput,
        now: Timestamp,
        change: &mut TimerChange,
    ) -> Result<TimerStop> {
        let elapsed_secs = timer.elapsed_secs(now);
        let tt_ref = input.time_type_id.clone().map(Some);
        let named = self.named_time_type(&actor.org_id, tt_ref.as_ref()).await?;
        let base = TimeEntry {
            id: IdKind::TimeEntry.new_id(),
            org_id: actor.org_id.clone(),
            case_id: timer.case_id.clone(),
            user_id: timer.user_id.clone(),
            work_date: today(org, now),
            duration_secs: elapsed_secs,
            time_type_id: None,
            billable: true,
            note: String::new(),
            source: Source::Timer,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let ctx = EntryCtx {
            working_day_minutes: org.working_day_minutes,
            today: today(org, now),
            time_type: named.as_ref().map(|t| t.as_ref()),
        };
        // The duration is the timer's; billable follows the time type unless given.
        let billable = input.billable.or_else(|| named.as_ref().and_then(|t| t.as_ref()).map(|t| t.billable));
        let input = EntryInput {
            duration: None,
            work_date: None,
            time_type_id: tt_ref,
            billable: Some(billable.unwrap_or(true)),
            note: input.note,
        };
        let entry = base.apply(input, &ctx, false)?;
        let entry = (elapsed_secs > 0).then_some(entry);
        let mut events = vec![timer.stopped_event(reason, entry.as_ref().map(|e| e.id.as_str()), now)];
        if let Some(e) = &entry {
            events.push(e.created_event(now));
            change.entries.push(e.clone());
        }
        change.stop.push(timer.clone());
        change.events.push((timer.case_id.clone(), events));
        Ok(TimerStop { timer: timer.clone(), elapsed_secs, entry })
    }

    /// Writes a timer change; a concurrent change of the same timers is a 409.
    async fn write_timer_change(&self, change: &TimerChange, actor: &Actor) -> Result<()> {
        match self.store.write_timers(change, &actor.user_id).await {
            Ok(()) => Ok(()),
            Err(StoreError::Duplicate(_) | StoreError::Stale) => Err(AppError::Conflict {
                code: "concurrent_update",
                message: "your timers were changed by another request; retry".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    // ---- entries ------------------------------------------------------------------------------

    /// Logs past work on a case. `user_id` (admins only) logs it for another agent.
    pub async fn create_time_entry(
        &self,
        actor: &Actor,
        case_id: &str,
        user_id: Option<String>,
        input: EntryInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<TimeEntry>> {
        let case = self.loggable_case(actor, case_id).await?;
        let get = async |id: String| self.store.get_time_entry(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let user_id = match user_id {
            Some(u) if u != actor.user_id => {
                actor.require(Action::ManageTime, "log time for another user")?;
                if !IdKind::User.matches(&u) || !self.store.exists(RefKind::User, &actor.org_id, &u).await? {
                    return Err(AppError::Validation(vec![FieldError::new("user_id", format!("no such user: {u}"))]));
                }
                u
            }
            _ => actor.user_id.clone(),
        };
        let org = self.store.get_org(&actor.org_id).await?;
        let now = self.clock.now();
        let named = self.named_time_type(&actor.org_id, input.time_type_id.as_ref()).await?;
        let ctx = EntryCtx {
            working_day_minutes: org.working_day_minutes,
            today: today(&org, now),
            time_type: named.as_ref().map(|t| t.as_ref()),
        };
        let entry = TimeEntry {
            id: IdKind::TimeEntry.new_id(),
            org_id: actor.org_id.clone(),
            case_id: case.id.clone(),
            user_id,
            work_date: today(&org, now),
            duration_secs: 0,
            time_type_id: None,
            billable: true,
            note: String::new(),
            source: Source::Manual,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
        }
        .apply(input, &ctx, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &entry.id, 201);
        let events = [entry.created_event(now)];
        let written = self.store.insert_time_entry(&entry, &events, &actor.user_id, rec.as_ref()).await.map(|()| entry);
        let get = async |id: String| self.store.get_time_entry(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn get_time_entry(&self, actor: &Actor, id: &str) -> Result<TimeEntry> {
        actor.require(Action::ReadCases, "read time entries")?;
        Ok(self.store.get_time_entry(&actor.org_id, id).await?)
    }

    /// The entry, if the caller may change it: their own, or any for an admin (403 otherwise).
    async fn editable_entry(&self, actor: &Actor, id: &str) -> Result<TimeEntry> {
        actor.require(Action::LogTime, "log time")?;
        let entry = self.store.get_time_entry_for_update(&actor.org_id, id).await?;
        if !time::may_edit(&entry, &actor.user_id, actor.role == Role::Admin) {
            return Err(AppError::Forbidden("change another agent's time entries"));
        }
        Ok(entry)
    }

    pub async fn update_time_entry(&self, actor: &Actor, id: &str, input: EntryInput) -> Result<TimeEntry> {
        let current = self.editable_entry(actor, id).await?;
        let org = self.store.get_org(&actor.org_id).await?;
        let now = self.clock.now();
        let named = self.named_time_type(&actor.org_id, input.time_type_id.as_ref()).await?;
        let ctx = EntryCtx {
            working_day_minutes: org.working_day_minutes,
            today: today(&org, now),
            time_type: named.as_ref().map(|t| t.as_ref()),
        };
        let mut next = current.clone().apply(input, &ctx, false)?;
        if next == current {
            return Ok(current);
        }
        next.updated_at = now;
        self.store.update_time_entry(&next, &[next.updated_event(&current, now)], &actor.user_id).await?;
        Ok(next)
    }

    pub async fn delete_time_entry(&self, actor: &Actor, id: &str) -> Result<()> {
        let entry = self.editable_entry(actor, id).await?;
        let now = self.clock.now();
        Ok(self.store.delete_time_entry(&entry, &[entry.deleted_event(now)], &actor.user_id).await?)
    }

    /// A case's entries, latest work first, with its time spent and estimate.
    pub async fn case_time_entries(&self, actor: &Actor, case_id: &str, page: &PageRequest) -> Result<CaseEntries> {
        actor.require(Action::ReadCases, "read time entries")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        let filter = EntryFilter { case_id: Some(case.id.clone()), ..Default::default() };
        let page = self.store.list_time_entries(&actor.org_id, &filter, page).await?;
        let time = self.store.case_time(&actor.org_id, &case.id).await?;
        Ok(CaseEntries { page, time })
    }

    /// Timesheets: entries matching the filter, latest work first.
    pub async fn list_time_entries(
        &self,
        actor: &Actor,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<TimeEntry>> {
        actor.require(Action::ReadCases, "read time entries")?;
        Ok(self.store.list_time_entries(&actor.org_id, filter, page).await?)
    }

    pub async fn time_totals(&self, actor: &Actor, group: TotalsGroup, filter: &EntryFilter) -> Result<Vec<TimeTotal>> {
        actor.require(Action::ReadCases, "read time entries")?;
        Ok(self.store.time_totals(&actor.org_id, group, filter).await?)
    }

    /// Sets or (with `None`) removes a case's estimate. Admins, and managers of the case's
    /// queue, may.
    /// `estimate` is written like an entry's duration (`120`, `2h`, `1.5d`).
    pub async fn set_time_estimate(&self, actor: &Actor, case_id: &str, estimate: Option<String>) -> Result<CaseTime> {
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        if actor.role != Role::Admin {
            let manager = match &case.queue_id {
                Some(q) => match self.store.get_member(&actor.org_id, q, &actor.user_id).await {
                    Ok(m) => m.role == MemberRole::Manager,
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                },
                None => false,
            };
            if !manager {
                return Err(AppError::Forbidden("set estimates (admins and the queue's managers may)"));
            }
        }
        let org = self.store.get_org(&actor.org_id).await?;
        let minutes = estimate
            .map(|e| time::parse_duration(&e, org.working_day_minutes))
            .transpose()
            .map_err(|e| AppError::field("time_estimate_minutes", e))?;
        let before = self.store.case_time(&actor.org_id, &case.id).await?;
        if before.estimate_minutes == minutes {
            return Ok(before);
        }
        let now = self.clock.now();
        let events = [time::estimate_event(before.estimate_minutes, minutes, now)];
        self.store.set_time_estimate(&actor.org_id, &case.id, minutes, &events, &actor.user_id, now).await?;
        Ok(CaseTime { estimate_minutes: minutes, ..before })
    }

    /// A case's time spent and estimate.
    pub async fn case_time(&self, actor: &Actor, case_id: &str) -> Result<CaseTime> {
        actor.require(Action::ReadCases, "read time entries")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        Ok(self.store.case_time(&actor.org_id, &case.id).await?)
    }
}

fn name_taken() -> AppError {
    AppError::Validation(vec![FieldError::new("name", "another time type has this name")])
}
