//! [`Store`] methods for email: settings, mailboxes, the message log and the outbox.

use casedesk_domain::case::Case;
use casedesk_domain::email::{EmailMessage, EmailState, MailSettings, Mailbox};
use casedesk_domain::timeline::{Comment, NewEvent};
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

/// What a reply on a case needs to be addressed and threaded, read in the dispatcher's
/// transaction.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub settings: Option<MailSettings>,
    /// The mailbox of the case's queue, if it has one.
    pub mailbox: Option<Mailbox>,
    pub requester_email: Option<String>,
    /// The Message-IDs of the case's mail so far, oldest first (at most the last 20).
    pub thread: Vec<String>,
    /// The Message-ID of the customer's latest message.
    pub last_inbound: Option<String>,
}

/// Chooses the messages one new comment sends, given its case, the ids of its attached files
/// and the mail context.
pub type MakeEmails<'a> = dyn Fn(&Case, &Comment, &[String], &MailContext) -> Vec<EmailMessage> + Send + Sync + 'a;

/// Makes the survey of a case resolved at the given time, on the organization's scale, and the
/// message that sends its link; `None` when there is no one to ask.
pub type MakeSurvey<'a> = dyn Fn(
        &Case,
        casedesk_domain::csat::Scale,
        Timestamp,
        &MailContext,
    ) -> Option<(casedesk_domain::csat::Survey, EmailMessage)>
    + Send
    + Sync
    + 'a;

impl Store {
    pub async fn get_mail_settings(&self, org_id: &str) -> Result<Option<MailSettings>> {
        dispatch!(self, read, get_mail_settings(org_id))
    }

    /// Saves the settings; the first save starts the mail dispatcher at the feed's head.
    pub async fn put_mail_settings(&self, s: &MailSettings) -> Result<()> {
        dispatch!(self, write, put_mail_settings(s))
    }

    pub async fn insert_mailbox(&self, m: &Mailbox) -> Result<()> {
        dispatch!(self, write, insert_mailbox_with_imap(m, None))
    }

    pub async fn list_mailboxes(&self, org_id: &str) -> Result<Vec<Mailbox>> {
        dispatch!(self, read, list_mailboxes(org_id))
    }

    /// Removes a mailbox, and its IMAP settings with it.
    pub async fn delete_mailbox(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_mailbox(org_id, id))
    }

    /// Records an inbound message; a redelivery of one already recorded writes nothing and
    /// answers the earlier record.
    pub async fn record_inbound_email(&self, m: &EmailMessage) -> Result<Option<EmailMessage>> {
        dispatch!(self, write, record_inbound_email(m))
    }

    pub async fn settle_inbound_email(&self, m: &EmailMessage) -> Result<()> {
        dispatch!(self, write, settle_inbound_email(m))
    }

    pub async fn get_email(&self, org_id: &str, id: &str) -> Result<EmailMessage> {
        dispatch!(self, read, get_email(org_id, id))
    }

    /// The case of the first of `message_ids` that belongs to one (asked on the writer, so a
    /// message recorded a moment ago counts).
    pub async fn case_of_messages(&self, org_id: &str, message_ids: &[String]) -> Result<Option<String>> {
        dispatch!(self, write, case_of_messages(org_id, message_ids))
    }

    pub async fn list_case_emails(&self, org_id: &str, case_id: &str) -> Result<Vec<EmailMessage>> {
        dispatch!(self, read, list_case_emails(org_id, case_id))
    }

    /// Inbound messages in `states`, newest first, after the `before_seq` of an earlier page;
    /// answers the page and the `before_seq` of the next one.
    pub async fn list_inbound_emails(
        &self,
        org_id: &str,
        states: &[EmailState],
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<EmailMessage>, Option<i64>)> {
        dispatch!(self, read, list_inbound_emails(org_id, states, before_seq, limit))
    }

    pub async fn case_mail_participants(&self, org_id: &str, case_id: &str) -> Result<Vec<String>> {
        dispatch!(self, write, case_mail_participants(org_id, case_id))
    }

    /// Turns the comments after each organization's mail cursor into queued messages, moving
    /// the cursor in the same transaction. Returns how many were queued.
    pub async fn dispatch_mail_events(
        &self,
        limit: u32,
        make: &MakeEmails<'_>,
        survey: &MakeSurvey<'_>,
    ) -> Result<usize> {
        dispatch!(self, write, dispatch_mail_events(limit, make, survey))
    }

    pub async fn claim_emails(
        &self,
        claim: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<EmailMessage>> {
        dispatch!(self, write, claim_emails(claim, now, lease_until, limit))
    }

    pub async fn finish_email_attempt(&self, m: &EmailMessage, claim: &str, event: Option<&NewEvent>) -> Result<()> {
        dispatch!(self, write, finish_email_attempt(m, claim, event))
    }

    pub async fn case_id_by_number(&self, org_id: &str, case_number: i64) -> Result<Option<String>> {
        dispatch!(self, read, case_id_by_number(org_id, case_number))
    }

    /// A comment and the message that sends it to chosen recipients, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_comment_with_email(
        &self,
        comment: &Comment,
        case: &Case,
        expected_version: i64,
        events: &[NewEvent],
        idem: Option<&crate::IdempotencyRecord>,
        email: &EmailMessage,
    ) -> Result<()> {
        dispatch!(self, write, add_comment_with_email(comment, case, expected_version, events, idem, email))
    }

    /// The sender, recipient and thread of a case's mail as they stand.
    pub async fn case_mail_context(&self, case: &Case) -> Result<MailContext> {
        dispatch!(self, write, case_mail_context(case))
    }
}
