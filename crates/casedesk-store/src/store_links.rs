//! [`Store`] methods for case links and merges.

use casedesk_domain::case::Case;
use casedesk_domain::links::CaseLink;
use casedesk_domain::timeline::NewEvent;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// Adds a link ([`crate::StoreError::Duplicate`] if the same one exists) with an entry on both
    /// cases' timelines.
    pub async fn insert_link(&self, l: &CaseLink, from_event: &NewEvent, to_event: &NewEvent) -> Result<()> {
        dispatch!(self, write, insert_link(l, from_event, to_event))
    }

    /// A case's links in both directions, with the other case of each.
    pub async fn list_links(&self, org_id: &str, case_id: &str) -> Result<Vec<(CaseLink, Case)>> {
        dispatch!(self, read, list_links(org_id, case_id))
    }

    pub async fn get_link(&self, org_id: &str, id: &str) -> Result<CaseLink> {
        dispatch!(self, read, get_link(org_id, id))
    }

    pub async fn delete_link(
        &self,
        l: &CaseLink,
        actor_id: &str,
        from_event: &NewEvent,
        to_event: &NewEvent,
    ) -> Result<()> {
        dispatch!(self, write, delete_link(l, actor_id, from_event, to_event))
    }

    /// Merges `sources` into `target`, each `(new state, expected version, timeline entries)`, in
    /// one transaction ([`crate::StoreError::Stale`] if any changed meanwhile).
    pub async fn merge_cases(
        &self,
        target: &(Case, i64, Vec<NewEvent>),
        sources: &[(Case, i64, Vec<NewEvent>)],
        actor_id: &str,
    ) -> Result<()> {
        dispatch!(self, write, merge_cases(target, sources, actor_id))
    }
}
