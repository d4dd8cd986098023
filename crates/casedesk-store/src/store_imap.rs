//! [`Store`] methods for IMAP polling: each polled mailbox's settings, and the claim, cursor and
//! outcome of its polls.

use casedesk_domain::email::Mailbox;
use casedesk_domain::imap::{Cursor, ImapMailbox};
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// A new mailbox with its IMAP settings, in one transaction.
    pub async fn insert_mailbox_with_imap(&self, m: &Mailbox, imap: &ImapMailbox) -> Result<()> {
        dispatch!(self, write, insert_mailbox_with_imap(m, Some(imap)))
    }

    /// Sets a mailbox's IMAP settings and polling state whole; a poll in progress loses its claim.
    pub async fn put_mailbox_imap(&self, imap: &ImapMailbox) -> Result<()> {
        dispatch!(self, write, put_mailbox_imap(imap))
    }

    /// Stops polling a mailbox (it stays a mailbox).
    pub async fn delete_mailbox_imap(&self, org_id: &str, mailbox_id: &str) -> Result<()> {
        dispatch!(self, write, delete_mailbox_imap(org_id, mailbox_id))
    }

    pub async fn get_mailbox_imap(&self, org_id: &str, mailbox_id: &str) -> Result<Option<ImapMailbox>> {
        dispatch!(self, read, get_mailbox_imap(org_id, mailbox_id))
    }

    pub async fn list_mailbox_imap(&self, org_id: &str) -> Result<Vec<ImapMailbox>> {
        dispatch!(self, read, list_mailbox_imap(org_id))
    }

    /// Claims the next mailbox due for a poll until `lease_until`, with its mailbox's queue; `None`
    /// when none is due or every due one is held by another poller.
    pub async fn claim_imap_poll(
        &self,
        claim: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<(ImapMailbox, Option<String>)>> {
        dispatch!(self, write, claim_imap_poll(claim, now, lease_until))
    }

    /// Moves the cursor of a mailbox this claim holds, renewing the lease.
    pub async fn advance_imap_cursor(
        &self,
        mailbox_id: &str,
        claim: &str,
        cursor: Cursor,
        lease_until: Timestamp,
    ) -> Result<()> {
        dispatch!(self, write, advance_imap_cursor(mailbox_id, claim, cursor, lease_until))
    }

    /// Records a poll's outcome and gives its claim up.
    pub async fn finish_imap_poll(&self, imap: &ImapMailbox, claim: &str) -> Result<()> {
        dispatch!(self, write, finish_imap_poll(imap, claim))
    }
}
