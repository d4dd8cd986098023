//! [`Store`] methods for exports: what a page of exported cases refers to, read a page at a time.

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// The names of the users, contacts, queues and categories among `ids` (by their prefix),
    /// as `(id, name)`; ids of another organization are left out.
    pub async fn names_of(&self, org_id: &str, ids: &[String]) -> Result<Vec<(String, String)>> {
        dispatch!(self, read, names_of(org_id, ids))
    }

    /// Seconds of time logged on each of these cases that has any, as `(case_id, seconds)`.
    pub async fn time_spent_of(&self, org_id: &str, case_ids: &[String]) -> Result<Vec<(String, i64)>> {
        dispatch!(self, read, time_spent_of(org_id, case_ids))
    }
}
