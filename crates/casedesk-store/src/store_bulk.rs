//! [`Store`] methods for background bulk jobs.

use casedesk_domain::bulk::BulkJob;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    pub async fn insert_bulk_job(&self, job: &BulkJob) -> Result<()> {
        dispatch!(self, write, insert_bulk_job(job))
    }

    pub async fn get_bulk_job(&self, org_id: &str, id: &str) -> Result<BulkJob> {
        dispatch!(self, read, get_bulk_job(org_id, id))
    }

    /// Claims the oldest waiting (or abandoned) job for `claim` until `lease_until`.
    pub async fn claim_bulk_job(&self, claim: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<BulkJob>> {
        dispatch!(self, write, claim_bulk_job(claim, now, lease_until))
    }

    /// Saves a claimed job's progress; returns whether a cancel was asked for.
    pub async fn save_bulk_job(&self, job: &BulkJob, claim: &str, lease_until: Timestamp) -> Result<bool> {
        dispatch!(self, write, save_bulk_job(job, claim, lease_until))
    }

    pub async fn cancel_bulk_job(&self, org_id: &str, id: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, cancel_bulk_job(org_id, id, now))
    }
}
