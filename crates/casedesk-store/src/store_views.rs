//! [`Store`] methods for saved views and counting cases.

use casedesk_domain::list::CaseFilter;
use casedesk_domain::view::View;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    pub async fn put_view(&self, v: &View) -> Result<()> {
        dispatch!(self, write, put_view(v))
    }

    pub async fn get_view(&self, org_id: &str, id: &str) -> Result<View> {
        dispatch!(self, read, get_view(org_id, id))
    }

    /// Every saved view of the organization, oldest first.
    pub async fn list_views(&self, org_id: &str) -> Result<Vec<View>> {
        dispatch!(self, read, list_views(org_id))
    }

    pub async fn delete_view(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_view(org_id, id))
    }

    /// The queues a user is a member of.
    pub async fn queues_of_user(&self, org_id: &str, user_id: &str) -> Result<Vec<String>> {
        dispatch!(self, read, queues_of_user(org_id, user_id))
    }

    /// How many cases of the organization the filter matches.
    pub async fn count_cases(&self, org_id: &str, filter: &CaseFilter) -> Result<i64> {
        dispatch!(self, read, count_cases(org_id, filter))
    }
}
