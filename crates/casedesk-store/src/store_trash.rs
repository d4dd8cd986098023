//! [`Store`] methods for the trash: deleted cases, restored or purged.

use casedesk_domain::case::Case;
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Page, PageRequest, Result, Store, TrashedCase};

impl Store {
    /// The organization's deleted cases, most recently deleted first.
    pub async fn list_trash(&self, org_id: &str, page: &PageRequest) -> Result<Page<TrashedCase>> {
        dispatch!(self, read, list_trash(org_id, page))
    }

    pub async fn get_trashed_case(&self, org_id: &str, id: &str) -> Result<TrashedCase> {
        dispatch!(self, read, get_trashed_case(org_id, id))
    }

    /// Takes a case out of the trash, writing it as `case` (at `expected_version` + 1).
    pub async fn restore_case(
        &self,
        case: &Case,
        expected_version: i64,
        events: &[NewEvent],
        actor_id: &str,
    ) -> Result<()> {
        dispatch!(self, write, restore_case(case, expected_version, events, actor_id))
    }

    /// Removes a case in the trash, and all that is its own, for good.
    pub async fn purge_case(&self, org_id: &str, id: &str, now: Timestamp, actor_id: &str) -> Result<()> {
        dispatch!(self, write, purge_case(org_id, id, now, actor_id))
    }

    /// (organization, case) of cases deleted before `before`, oldest first.
    pub async fn trash_expired(&self, before: Timestamp, limit: i64) -> Result<Vec<(String, String)>> {
        dispatch!(self, read, trash_expired(before, limit))
    }
}
