//! [`Store`] methods for milestones and queue milestone templates.

use casedesk_domain::milestone::{Milestone, MilestoneTemplate};
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// A case's milestones in order.
    pub async fn list_milestones(&self, org_id: &str, case_id: &str) -> Result<Vec<Milestone>> {
        dispatch!(self, write, list_milestones(org_id, case_id))
    }

    pub async fn get_milestone(&self, org_id: &str, id: &str) -> Result<Milestone> {
        dispatch!(self, read, get_milestone(org_id, id))
    }

    /// Inserts or updates a case's milestones with timeline entries, in one transaction.
    pub async fn put_milestones(&self, milestones: &[Milestone], events: &[NewEvent], actor_id: &str) -> Result<()> {
        dispatch!(self, write, put_milestones(milestones, events, actor_id))
    }

    pub async fn delete_milestone(&self, m: &Milestone, event: &NewEvent, actor_id: &str) -> Result<()> {
        dispatch!(self, write, delete_milestone(m, event, actor_id))
    }

    /// Milestones past due and not yet flagged, earliest first.
    pub async fn milestones_due(&self, now: Timestamp, limit: i64) -> Result<Vec<Milestone>> {
        dispatch!(self, write, milestones_due(now, limit))
    }

    /// Flags a milestone overdue once (whether this call did).
    pub async fn mark_overdue(&self, m: &Milestone, now: Timestamp, event: &NewEvent) -> Result<bool> {
        dispatch!(self, write, mark_overdue(m, now, event))
    }

    pub async fn list_templates(&self, org_id: &str, queue_id: &str) -> Result<Vec<MilestoneTemplate>> {
        dispatch!(self, read, list_templates(org_id, queue_id))
    }

    pub async fn replace_templates(&self, org_id: &str, queue_id: &str, templates: &[MilestoneTemplate]) -> Result<()> {
        dispatch!(self, write, replace_templates(org_id, queue_id, templates))
    }
}
