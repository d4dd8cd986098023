//! [`Store`] methods for the web UI's sign-in: credentials, sessions and failed attempts.

use casedesk_domain::people::User;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

/// A signed-in browser. The cookie holds a secret; `id_hash` is its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct UiSession {
    pub id_hash: String,
    pub org_id: String,
    pub user_id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Store {
    /// The user with this (lower-case) email, with their password hash, in any organization.
    pub async fn user_credentials(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        dispatch!(self, read, user_credentials(email))
    }

    /// A user's password hash (`None` if they have no password); 404 if no such user.
    pub async fn password_hash(&self, org_id: &str, user_id: &str) -> Result<Option<String>> {
        dispatch!(self, read, password_hash(org_id, user_id))
    }

    pub async fn insert_session(&self, s: &UiSession) -> Result<()> {
        dispatch!(self, write, insert_session(s))
    }

    pub async fn find_session(&self, id_hash: &str) -> Result<Option<(UiSession, User)>> {
        dispatch!(self, read, find_session(id_hash))
    }

    pub async fn touch_session(&self, id_hash: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, touch_session(id_hash, now))
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        dispatch!(self, write, delete_session(id_hash))
    }

    /// Ends the user's other sessions; returns how many.
    pub async fn delete_other_sessions(&self, org_id: &str, user_id: &str, keep: &str) -> Result<u64> {
        dispatch!(self, write, delete_other_sessions(org_id, user_id, keep))
    }

    pub async fn purge_sign_in_state(&self, before: Timestamp, failed_before: Timestamp) -> Result<()> {
        dispatch!(self, write, purge_sign_in_state(before, failed_before))
    }

    pub async fn record_sign_in_failure(&self, keys: &[String], at: Timestamp) -> Result<()> {
        dispatch!(self, write, record_sign_in_failure(keys, at))
    }

    /// Failures under `key` since `since`: how many, and the oldest.
    pub async fn sign_in_failures(&self, key: &str, since: Timestamp) -> Result<(i64, Option<Timestamp>)> {
        dispatch!(self, read, sign_in_failures(key, since))
    }

    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        dispatch!(self, write, clear_sign_in_failures(key))
    }
}
