//! [`Store`] methods for time tracking: time types, time entries (with their timeline events),
//! totals, estimates and timers; and the records only they use.

use casedesk_domain::time::{TimeEntry, TimeType, Timer};
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;
use jiff::civil::Date;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{IdempotencyRecord, Page, PageRequest, Result, Store};

/// Which entries a timesheet or a total covers; every condition is optional. Dates are the days
/// of the work, both ends included.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFilter {
    pub user_id: Option<String>,
    pub case_id: Option<String>,
    pub account_id: Option<String>,
    pub time_type_id: Option<String>,
    pub billable: Option<bool>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// What totals are summed per.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalsGroup {
    User,
    Account,
    TimeType,
    Case,
    Date,
}

impl TotalsGroup {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "user" => Ok(TotalsGroup::User),
            "account" => Ok(TotalsGroup::Account),
            "time_type" => Ok(TotalsGroup::TimeType),
            "case" => Ok(TotalsGroup::Case),
            "date" => Ok(TotalsGroup::Date),
            _ => Err(format!("unknown group_by {s:?}; expected user, account, time_type, case or date")),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            TotalsGroup::User => "user",
            TotalsGroup::Account => "account",
            TotalsGroup::TimeType => "time_type",
            TotalsGroup::Case => "case",
            TotalsGroup::Date => "date",
        }
    }
}

/// Time summed over one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeTotal {
    /// The user, account, time type, case or date; `None` for entries without one (no account,
    /// no time type).
    pub key: Option<String>,
    pub seconds: i64,
    pub billable_seconds: i64,
    pub entries: i64,
}

/// A case's time: spent (all entries and the billable ones) and estimated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTime {
    pub spent_seconds: i64,
    pub billable_seconds: i64,
    pub entries: i64,
    pub estimate_minutes: Option<i64>,
}

/// One timer transition, written in one transaction (see [`Store::write_timers`]).
#[derive(Debug, Clone, Default)]
pub struct TimerChange {
    pub org_id: String,
    /// Timers to remove, at the version read.
    pub stop: Vec<Timer>,
    /// The timer to write: version 1 is inserted, a later version replaces the one before it.
    pub put: Option<Timer>,
    /// Entries the stopped timers became.
    pub entries: Vec<TimeEntry>,
    /// Timeline events, per case.
    pub events: Vec<(String, Vec<NewEvent>)>,
}

impl Store {
    pub async fn insert_time_type(&self, t: &TimeType, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_time_type(t, idem))
    }

    pub async fn get_time_type(&self, org_id: &str, id: &str) -> Result<TimeType> {
        dispatch!(self, read, get_time_type(org_id, id))
    }

    pub async fn list_time_types(&self, org_id: &str, page: &PageRequest) -> Result<Page<TimeType>> {
        dispatch!(self, read, list_time_types(org_id, page))
    }

    pub async fn update_time_type(&self, t: &TimeType) -> Result<()> {
        dispatch!(self, write, update_time_type(t))
    }

    /// Deletes a time type no entry uses ([`crate::StoreError::InUse`] otherwise).
    pub async fn delete_time_type(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_time_type(org_id, id))
    }

    /// Stores an entry, its timeline events (on its case) and the idempotency key, in one
    /// transaction.
    pub async fn insert_time_entry(
        &self,
        e: &TimeEntry,
        events: &[NewEvent],
        actor_id: &str,
        idem: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        dispatch!(self, write, insert_time_entry(e, events, actor_id, idem))
    }

    pub async fn get_time_entry(&self, org_id: &str, id: &str) -> Result<TimeEntry> {
        dispatch!(self, read, get_time_entry(org_id, id))
    }

    /// The entry as the writer sees it, to change it.
    pub async fn get_time_entry_for_update(&self, org_id: &str, id: &str) -> Result<TimeEntry> {
        dispatch!(self, write, get_time_entry(org_id, id))
    }

    pub async fn update_time_entry(&self, e: &TimeEntry, events: &[NewEvent], actor_id: &str) -> Result<()> {
        dispatch!(self, write, update_time_entry(e, events, actor_id))
    }

    pub async fn delete_time_entry(&self, e: &TimeEntry, events: &[NewEvent], actor_id: &str) -> Result<()> {
        dispatch!(self, write, delete_time_entry(e, events, actor_id))
    }

    /// Entries matching `filter`, latest work first, a keyset page at a time.
    pub async fn list_time_entries(
        &self,
        org_id: &str,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<TimeEntry>> {
        dispatch!(self, read, list_time_entries(org_id, filter, page))
    }

    /// Time matching `filter`, summed per group, largest first (at most 1,000 groups).
    pub async fn time_totals(&self, org_id: &str, group: TotalsGroup, filter: &EntryFilter) -> Result<Vec<TimeTotal>> {
        dispatch!(self, read, time_totals(org_id, group, filter))
    }

    /// A case's time spent and estimate.
    pub async fn case_time(&self, org_id: &str, case_id: &str) -> Result<CaseTime> {
        dispatch!(self, read, case_time(org_id, case_id))
    }

    /// Sets or removes a case's estimate, with its timeline events.
    pub async fn set_time_estimate(
        &self,
        org_id: &str,
        case_id: &str,
        minutes: Option<i64>,
        events: &[NewEvent],
        actor_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        dispatch!(self, write, set_time_estimate(org_id, case_id, minutes, events, actor_id, now))
    }

    /// A user's timers, running first. Read from the writer: a timer is read to be changed.
    pub async fn list_timers(&self, org_id: &str, user_id: &str) -> Result<Vec<Timer>> {
        dispatch!(self, write, list_timers(org_id, user_id))
    }

    /// Writes a timer transition (stops, the changed timer, entries, events) in one transaction.
    pub async fn write_timers(&self, change: &TimerChange, actor_id: &str) -> Result<()> {
        dispatch!(self, write, write_timers(change, actor_id))
    }
}
