//! [`Store`] methods for activities and tasks.

use casedesk_domain::activity::Activity;
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// Inserts or updates an activity with its timeline entry.
    pub async fn put_activity(&self, a: &Activity, event: &NewEvent, actor_id: &str) -> Result<()> {
        dispatch!(self, write, put_activity(a, event, actor_id))
    }

    pub async fn get_activity(&self, org_id: &str, id: &str) -> Result<Activity> {
        dispatch!(self, read, get_activity(org_id, id))
    }

    /// A case's activities and tasks, oldest first.
    pub async fn list_activities(&self, org_id: &str, case_id: &str) -> Result<Vec<Activity>> {
        dispatch!(self, read, list_activities(org_id, case_id))
    }

    pub async fn delete_activity(&self, a: &Activity, event: &NewEvent, actor_id: &str) -> Result<()> {
        dispatch!(self, write, delete_activity(a, event, actor_id))
    }

    /// Open tasks across cases, soonest due first.
    pub async fn open_tasks(
        &self,
        org_id: &str,
        assignee_id: Option<&str>,
        due_before: Option<Timestamp>,
        limit: i64,
    ) -> Result<Vec<Activity>> {
        dispatch!(self, read, open_tasks(org_id, assignee_id, due_before, limit))
    }
}
