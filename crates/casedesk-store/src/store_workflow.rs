//! [`Store`] methods for custom statuses and funnel stages.

use casedesk_domain::profile::Category;
use casedesk_domain::workflow::{CustomStatus, FunnelStage};

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{IdempotencyRecord, Result, Store};

impl Store {
    /// The organization's statuses, by category then position.
    pub async fn list_statuses(&self, org_id: &str) -> Result<Vec<CustomStatus>> {
        dispatch!(self, read, list_statuses(org_id))
    }

    pub async fn get_status(&self, org_id: &str, id: &str) -> Result<CustomStatus> {
        dispatch!(self, read, get_status(org_id, id))
    }

    /// Inserts or updates a status; a default takes over its category's default.
    pub async fn put_status(&self, s: &CustomStatus, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, put_status(s, idem))
    }

    /// Deletes a status that is no default and that no case is in ([`crate::StoreError::InUse`]).
    pub async fn delete_status(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_status(org_id, id))
    }

    /// The organization's funnel stages in order, each with its number of active cases.
    pub async fn list_stages(&self, org_id: &str) -> Result<Vec<(FunnelStage, i64)>> {
        dispatch!(self, read, list_stages(org_id))
    }

    pub async fn get_stage(&self, org_id: &str, id: &str) -> Result<FunnelStage> {
        dispatch!(self, read, get_stage(org_id, id))
    }

    pub async fn put_stage(&self, f: &FunnelStage, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, put_stage(f, idem))
    }

    /// The organization's case categories, in order.
    pub async fn list_categories(&self, org_id: &str) -> Result<Vec<Category>> {
        dispatch!(self, read, list_categories(org_id))
    }

    pub async fn get_category(&self, org_id: &str, id: &str) -> Result<Category> {
        dispatch!(self, read, get_category(org_id, id))
    }

    pub async fn put_category(&self, k: &Category, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, put_category(k, idem))
    }

    /// Deletes a category no case has ([`crate::StoreError::InUse`] otherwise).
    pub async fn delete_category(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_category(org_id, id))
    }

    /// Deletes a stage no case is at ([`crate::StoreError::InUse`] otherwise).
    pub async fn delete_stage(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_stage(org_id, id))
    }
}
