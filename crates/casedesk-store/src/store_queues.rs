//! [`Store`] methods for queues and their members.

use casedesk_domain::case::Case;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{IdempotencyRecord, Page, PageRequest, Queue, QueueMember, Result, RouteContext, RoutedWrite, Store};

impl Store {
    pub async fn insert_queue(&self, q: &Queue, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_queue(q, idem))
    }

    pub async fn get_queue(&self, org_id: &str, id: &str) -> Result<Queue> {
        dispatch!(self, read, get_queue(org_id, id))
    }

    pub async fn list_queues(&self, org_id: &str, page: &PageRequest) -> Result<Page<Queue>> {
        dispatch!(self, read, list_queues(org_id, page))
    }

    pub async fn update_queue(&self, q: &Queue) -> Result<()> {
        dispatch!(self, write, update_queue(q))
    }

    /// Deletes a queue with no cases and no queue escalating to it ([`crate::StoreError::InUse`]
    /// otherwise), with its memberships.
    pub async fn delete_queue(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_queue(org_id, id))
    }

    /// A queue's members in rotation order.
    pub async fn list_members(&self, org_id: &str, queue_id: &str) -> Result<Vec<QueueMember>> {
        dispatch!(self, read, list_members(org_id, queue_id))
    }

    pub async fn get_member(&self, org_id: &str, queue_id: &str, user_id: &str) -> Result<QueueMember> {
        dispatch!(self, read, get_member(org_id, queue_id, user_id))
    }

    /// Adds or changes a membership; a member keeps their place in the rotation.
    pub async fn put_member(&self, m: &QueueMember) -> Result<()> {
        dispatch!(self, write, put_member(m))
    }

    pub async fn delete_member(&self, org_id: &str, queue_id: &str, user_id: &str) -> Result<()> {
        dispatch!(self, write, delete_member(org_id, queue_id, user_id))
    }

    /// Queues of `user_id` (not manual) with unassigned active cases waiting.
    pub async fn queues_waiting_for(&self, org_id: &str, user_id: &str) -> Result<Vec<String>> {
        dispatch!(self, write, queues_waiting_for(org_id, user_id))
    }

    /// A queue's unassigned active cases, most urgent then oldest first.
    pub async fn unassigned_cases(&self, org_id: &str, queue_id: &str, limit: i64) -> Result<Vec<String>> {
        dispatch!(self, write, unassigned_cases(org_id, queue_id, limit))
    }

    /// Creates a case routed through `queue_id` in one transaction: the router's snapshot of the
    /// queue is read, `decide` chooses, and the case, its events and the queue's turn are written.
    /// (Always one statement at a time, never batched: the decision needs the snapshot.)
    pub async fn create_case_routed(
        &self,
        org_id: &str,
        queue_id: &str,
        idem: Option<&IdempotencyRecord>,
        decide: impl FnOnce(&RouteContext) -> RoutedWrite + Send,
    ) -> Result<Case> {
        dispatch!(self, write, create_case_routed(org_id, queue_id, idem, decide))
    }

    /// Writes a case routed through `queue_id` if it is still at `expected_version`; nothing if
    /// `decide` returns `None`.
    pub async fn update_case_routed(
        &self,
        org_id: &str,
        queue_id: &str,
        expected_version: i64,
        actor_id: &str,
        decide: impl FnOnce(&RouteContext) -> Option<RoutedWrite> + Send,
    ) -> Result<Option<Case>> {
        dispatch!(self, write, update_case_routed(org_id, queue_id, expected_version, actor_id, decide))
    }

    /// The incidents linked to a problem (seed 001), oldest first.
    pub async fn incidents_of(&self, org_id: &str, problem_id: &str) -> Result<Vec<Case>> {
        dispatch!(self, read, incidents_of(org_id, problem_id))
    }
}
