//! [`Store`] methods for signing keys, external visitors, and the counts `/metrics` reads.

use casedesk_domain::signing_key::SigningKey;
use casedesk_domain::timeline::Comment;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{OperationalCounts, Page, PageRequest, Result, Store};

impl Store {
    /// Stores a new signing key; a kid already used in the organization is a duplicate.
    pub async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        dispatch!(self, write, insert_signing_key(k))
    }

    pub async fn get_signing_key(&self, org_id: &str, id: &str) -> Result<SigningKey> {
        dispatch!(self, read, get_signing_key(org_id, id))
    }

    /// The organization's key with this kid, revoked or not.
    pub async fn find_signing_key(&self, org_id: &str, kid: &str) -> Result<Option<SigningKey>> {
        dispatch!(self, read, find_signing_key(org_id, kid))
    }

    /// The organization's signing keys, newest first.
    pub async fn list_signing_keys(&self, org_id: &str, page: &PageRequest) -> Result<Page<SigningKey>> {
        dispatch!(self, read, list_signing_keys(org_id, page))
    }

    /// Revokes a key (a second revocation keeps the first one's time); returns the key.
    pub async fn revoke_signing_key(&self, org_id: &str, id: &str, now: Timestamp) -> Result<SigningKey> {
        dispatch!(self, write, revoke_signing_key(org_id, id, now))
    }

    /// Whether any contact of the organization has this external id.
    pub async fn visitor_exists(&self, org_id: &str, external_id: &str) -> Result<bool> {
        dispatch!(self, read, visitor_exists(org_id, external_id))
    }

    /// A case's customer-facing comments, oldest first, at most `limit` (internal notes never).
    pub async fn public_comments(&self, org_id: &str, case_id: &str, limit: u32) -> Result<Vec<Comment>> {
        dispatch!(self, read, public_comments(org_id, case_id, limit))
    }

    /// Sets an organization's subscription status (`active` or `suspended`).
    pub async fn set_org_status(&self, org_id: &str, status: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, set_org_status(org_id, status, now))
    }

    /// Open cases per queue, breached SLAs, jobs and webhook deliveries by state, for `/metrics`.
    pub async fn operational_counts(&self) -> Result<OperationalCounts> {
        dispatch!(self, read, operational_counts())
    }
}
