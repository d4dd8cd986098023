//! [`Store`] methods for live pages: the change feed's head, and who views or types on a case.

use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

pub use casedesk_domain::presence::Presence;

impl Store {
    /// The cursor of the organization's newest event in the change feed; `None` while it has none.
    pub async fn feed_head(&self, org_id: &str) -> Result<Option<String>> {
        dispatch!(self, read, feed_head(org_id))
    }

    /// The user views the case until `viewing_until` (and types on it until `typing_until`);
    /// times already recorded are never shortened. Rows of the case that ran out are removed.
    pub async fn touch_presence(
        &self,
        org_id: &str,
        case_id: &str,
        user_id: &str,
        viewing_until: Timestamp,
        typing_until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        dispatch!(self, write, touch_presence(org_id, case_id, user_id, viewing_until, typing_until, now))
    }

    pub async fn leave_presence(&self, org_id: &str, case_id: &str, user_id: &str) -> Result<()> {
        dispatch!(self, write, leave_presence(org_id, case_id, user_id))
    }

    /// Who views or types on the case at `now`.
    pub async fn case_presence(&self, org_id: &str, case_id: &str, now: Timestamp) -> Result<Vec<Presence>> {
        dispatch!(self, read, case_presence(org_id, case_id, now))
    }
}
