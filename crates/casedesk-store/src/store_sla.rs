//! [`Store`] methods for business calendars, SLA policies and the breach sweep.

use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{CalendarRecord, IdempotencyRecord, Page, PageRequest, PolicyRecord, Result, Store};

impl Store {
    pub async fn insert_calendar(&self, c: &CalendarRecord, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_calendar(c, idem))
    }

    pub async fn get_calendar(&self, org_id: &str, id: &str) -> Result<CalendarRecord> {
        dispatch!(self, read, get_calendar(org_id, id))
    }

    pub async fn list_calendars(&self, org_id: &str, page: &PageRequest) -> Result<Page<CalendarRecord>> {
        dispatch!(self, read, list_calendars(org_id, page))
    }

    pub async fn update_calendar(&self, c: &CalendarRecord) -> Result<()> {
        dispatch!(self, write, update_calendar(c))
    }

    /// Deletes a calendar that no policy or queue uses ([`crate::StoreError::InUse`] otherwise).
    pub async fn delete_calendar(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_calendar(org_id, id))
    }

    pub async fn insert_policy(&self, p: &PolicyRecord, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_policy(p, idem))
    }

    pub async fn get_policy(&self, org_id: &str, id: &str) -> Result<PolicyRecord> {
        dispatch!(self, read, get_policy(org_id, id))
    }

    pub async fn list_policies(&self, org_id: &str, page: &PageRequest) -> Result<Page<PolicyRecord>> {
        dispatch!(self, read, list_policies(org_id, page))
    }

    pub async fn update_policy(&self, p: &PolicyRecord) -> Result<()> {
        dispatch!(self, write, update_policy(p))
    }

    /// Deletes a policy; queues using it are left without one.
    pub async fn delete_policy(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_policy(org_id, id))
    }

    /// Active cases following `policy_id`, `(seq, id)` in `seq` order after `after_seq`.
    pub async fn cases_with_policy(
        &self,
        org_id: &str,
        policy_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        dispatch!(self, write, cases_with_policy(org_id, policy_id, after_seq, limit))
    }

    /// `(org_id, case_id)` of cases with an SLA warning or breach due at `now`, earliest first.
    pub async fn sla_due(&self, now: Timestamp, limit: i64) -> Result<Vec<(String, String)>> {
        dispatch!(self, write, sla_due(now, limit))
    }

    /// `(org_id, case_id, version)` of resolved cases due to close at `now`, oldest first.
    pub async fn resolved_due(&self, now: Timestamp, limit: i64) -> Result<Vec<(String, String, i64)>> {
        dispatch!(self, write, resolved_due(now, limit))
    }

    /// Benchmarks only: inserts `n` synthetic open cases numbered after `first_number`, each with
    /// the clocks `sla_json` and the sweep time `check_from + i * check_step` microseconds. Each
    /// is created its number of microseconds after `created_at`: distinct times, as real cases
    /// have, so that lists page through them by the index.
    #[allow(clippy::too_many_arguments)]
    pub async fn bench_seed_open_cases(
        &self,
        org_id: &str,
        user_id: &str,
        first_number: i64,
        n: i64,
        created_at: Timestamp,
        sla_json: &str,
        check_from: i64,
        check_step: i64,
    ) -> Result<()> {
        dispatch!(
            self,
            write,
            bench_seed_open_cases(org_id, user_id, first_number, n, created_at, sla_json, check_from, check_step)
        )
    }
}
