//! The trash: a deleted case stays restorable for [`TRASH_RETENTION`], then is purged; an admin
//! may restore it or purge it sooner.

use casedesk_domain::case::Case;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{self, NewEvent};
use casedesk_store::{Page, PageRequest, StoreError, TrashedCase};
use jiff::SignedDuration;

use crate::jobs::SYSTEM_ACTOR;
use crate::{Actor, App, AppError, Result};

/// How long a deleted case can be restored before it is purged for good.
pub const TRASH_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);
/// Cases purged per pass of the background job.
const PURGE_BATCH: i64 = 200;

impl App {
    /// The organization's deleted cases, most recently deleted first (admins only).
    pub async fn list_trash(&self, actor: &Actor, page: &PageRequest) -> Result<Page<TrashedCase>> {
        actor.require(Action::DeleteCase, "see deleted cases")?;
        Ok(self.store.list_trash(&actor.org_id, page).await?)
    }

    /// Takes a case out of the trash, as it was, with a `case.restored` entry in its timeline.
    pub async fn restore_case(&self, actor: &Actor, id: &str) -> Result<Case> {
        actor.require(Action::DeleteCase, "restore deleted cases")?;
        let trashed = self.store.get_trashed_case(&actor.org_id, id).await?;
        let now = self.clock.now();
        let mut case = trashed.case.clone();
        case.version += 1;
        case.updated_at = now;
        case.updated_by = actor.user_id.clone();
        let event = NewEvent {
            kind: timeline::CASE_RESTORED,
            data: serde_json::json!({ "deleted_at": trashed.deleted_at, "deleted_by": trashed.deleted_by }),
            created_at: now,
        };
        match self.store.restore_case(&case, trashed.case.version, &[event], &actor.user_id).await {
            Ok(()) => Ok(case),
            // Restored or purged by someone else meanwhile.
            Err(StoreError::Stale) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a deleted case for good (admins only; the case must be in the trash).
    pub async fn purge_case(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::DeleteCase, "purge deleted cases")?;
        Ok(self.store.purge_case(&actor.org_id, id, self.clock.now(), &actor.user_id).await?)
    }

    /// Purges cases that have been in the trash longer than [`TRASH_RETENTION`]; returns how
    /// many.
    pub async fn purge_expired_trash(&self) -> Result<usize> {
        let before = self.clock.now() - TRASH_RETENTION;
        let mut purged = 0;
        loop {
            let due = self.store.trash_expired(before, PURGE_BATCH).await?;
            let n = due.len();
            for (org_id, id) in due {
                match self.store.purge_case(&org_id, &id, self.clock.now(), SYSTEM_ACTOR).await {
                    Ok(()) => purged += 1,
                    // Restored or purged meanwhile.
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if n < PURGE_BATCH as usize {
                return Ok(purged);
            }
        }
    }
}
