//! [`Store`] methods for the customer portal: sign-in links, portal sessions and the cases a
//! requester sees.

use casedesk_domain::case::Case;
use casedesk_domain::email::EmailMessage;
use casedesk_domain::portal::{Requester, Scope};
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

/// A mailed sign-in link; the message holds the token, the row its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalLink {
    pub token_hash: String,
    pub org_id: String,
    /// The lower-case address it was sent to.
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A signed-in requester's browser. The cookie holds a secret; `id_hash` is its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalSession {
    pub id_hash: String,
    pub org_id: String,
    pub requester: Requester,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Store {
    pub async fn orgs_of_contact_email(&self, email: &str) -> Result<Vec<String>> {
        dispatch!(self, read, orgs_of_contact_email(email))
    }

    pub async fn portal_scope(&self, org_id: &str, who: &Requester) -> Result<Scope> {
        dispatch!(self, read, portal_scope(org_id, who))
    }

    pub async fn insert_portal_link(&self, link: &PortalLink, message: &EmailMessage) -> Result<()> {
        dispatch!(self, write, insert_portal_link(link, message))
    }

    pub async fn redeem_portal_link(&self, token_hash: &str, now: Timestamp) -> Result<Option<PortalLink>> {
        dispatch!(self, write, redeem_portal_link(token_hash, now))
    }

    pub async fn insert_portal_session(&self, s: &PortalSession) -> Result<()> {
        dispatch!(self, write, insert_portal_session(s))
    }

    pub async fn find_portal_session(&self, id_hash: &str) -> Result<Option<PortalSession>> {
        dispatch!(self, read, find_portal_session(id_hash))
    }

    pub async fn touch_portal_session(&self, id_hash: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, touch_portal_session(id_hash, now))
    }

    pub async fn delete_portal_session(&self, id_hash: &str) -> Result<()> {
        dispatch!(self, write, delete_portal_session(id_hash))
    }

    pub async fn purge_portal_state(&self, before: Timestamp) -> Result<()> {
        dispatch!(self, write, purge_portal_state(before))
    }

    pub async fn portal_cases(&self, org_id: &str, scope: &Scope, limit: u32) -> Result<Vec<Case>> {
        dispatch!(self, read, portal_cases(org_id, scope, limit))
    }
}
