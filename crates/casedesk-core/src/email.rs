//! Email in and out.
//!
//! **In** ([`App::receive_email`]): the raw message is stored and recorded before anything is
//! made of it, so a crash or a refused step loses nothing and the MTA's retry (or the
//! provider's) resumes where it stopped: every later step is idempotent (keyed by the message's
//! record). Machine-written mail is kept but never becomes a case; unreadable or oversized mail
//! is quarantined for an admin. A reply joins its case by our Message-ID in `In-Reply-To` /
//! `References`, else by the `[#number]` subject tag when the sender takes part in that case —
//! never by subject alone. A reply to a closed case opens a follow-up linked to it.
//!
//! **Out**: every customer-facing comment by an agent or by automation is turned into a queued
//! message by the mail dispatcher (in the transaction that moves its cursor through the change
//! feed), addressed to the requester and threaded to the case's mail; the sender claims due
//! messages with a lease and hands them to the [`Mailer`] port, retrying for a day. The
//! timeline shows `email.sent` and `email.failed`.

use std::sync::Arc;
use std::time::Duration;

use casedesk_domain::case::{Case, Channel, NewCase};
use casedesk_domain::email::{Direction, EmailMessage, EmailState, MailSettings, MailSettingsInput, Mailbox};
use casedesk_domain::ids::IdKind;
use casedesk_domain::mail::{self, InboundMail, MailFile};
use casedesk_domain::messaging::{self, ReplyRoute};
use casedesk_domain::people::{Contact, ContactInput};
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::text;
use casedesk_domain::timeline::{AuthorType, Comment, NewEvent};
use casedesk_store::{ContactFilter, MailContext, PageRequest, StoreError};
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cases::CommentInput;
use crate::idempotency::IdemKey;
use crate::webhooks::BoxFuture;
use crate::{Actor, App, AppError, Result};

pub const EMAIL_SENT: &str = "email.sent";
pub const EMAIL_FAILED: &str = "email.failed";

/// Largest inbound message accepted by default; larger ones are quarantined.
pub const DEFAULT_MAX_INBOUND_BYTES: u64 = 25 * 1024 * 1024;
/// How long a claimed outgoing message is its sender's.
const LEASE: SignedDuration = SignedDuration::from_secs(300);
const SEND_BATCH: u32 = 8;
const DISPATCH_BATCH: u32 = 500;
/// Most bytes of case files attached to one outgoing message; files beyond are left out (and
/// say so in the log) rather than making the message undeliverable.
const MAX_ATTACHED_BYTES: i64 = 20 * 1024 * 1024;

/// A message ready for the SMTP server.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub from_address: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<MailFile>,
    /// The organization, named in `X-Casedesk-Loop` so our own mail is never taken in again.
    pub org_id: String,
}

/// Why a message was not accepted by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// A 5xx answer: trying again will not help.
    pub permanent: bool,
    pub message: String,
}

/// The port through which mail leaves: one SMTP conversation per message with the
/// organization's server.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, server: &'a MailSettings, mail: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendFailure>>;
}

/// The mailer of an `App` that was not given one (the CLI's): it sends nothing.
pub struct NoMailer;

impl Mailer for NoMailer {
    fn send<'a>(&'a self, _: &'a MailSettings, _: &'a OutgoingEmail) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Err(SendFailure { permanent: false, message: "this process sends no mail".into() }) })
    }
}

/// What became of an inbound message.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub email: EmailMessage,
    /// The case it opened or joined.
    pub case: Option<Case>,
    /// The same message had been received before; nothing new was made.
    pub duplicate: bool,
}

/// An update sent by email to chosen recipients (seed 003 "Send Update").
#[derive(Debug, Clone, Default)]
pub struct SendUpdate {
    /// `queue` (the case's mailbox, the default) or `me` (the agent's own address).
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Default: the case's reply subject; the `[#number]` tag is added when missing.
    pub subject: Option<String>,
    pub message: String,
    /// Files of the case to attach.
    pub file_ids: Vec<String>,
}

/// Most recipients of one update.
const MAX_RECIPIENTS: usize = 50;

fn addresses(field: &str, given: &[String], errors: &mut casedesk_domain::Errors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, a) in given.iter().enumerate() {
        if let Some(a) = errors.take(&format!("{field}[{i}]"), text::email(a))
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

/// Makes the message a comment sends, given its case and the comment (ids and time decided).
pub type MessageOfComment<'a> = dyn Fn(&Case, &Comment) -> EmailMessage + Send + Sync + 'a;

/// A new mailbox.
#[derive(Debug, Clone, Default)]
pub struct MailboxInput {
    pub address: String,
    pub name: Option<String>,
    pub queue_id: Option<String>,
    /// Poll the mailbox over IMAP with these settings (see [`crate::imap`]).
    pub imap: Option<casedesk_domain::imap::ImapInput>,
}

fn system(org_id: &str) -> Actor {
    Actor { org_id: org_id.to_string(), user_id: crate::jobs::SYSTEM_ACTOR.into(), role: Role::Admin }
}

fn io_error(doing: &str, e: &std::io::Error) -> AppError {
    AppError::Internal(format!("{doing}: {e}"))
}

/// Cuts a text to what a case's description or a comment holds.
fn bounded_body(text: &str) -> String {
    let max = text::MAX_BODY - 100;
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push_str("\n\n[… cut: the full message is kept with the case's mail]");
    cut
}

impl App {
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// Sets the largest inbound message taken in (larger ones are quarantined).
    pub fn with_max_inbound_bytes(mut self, max: u64) -> Self {
        self.max_inbound_bytes = max;
        self
    }

    // --- settings and mailboxes --------------------------------------------------------------

    /// The organization's mail settings (blank until set).
    pub async fn mail_settings(&self, actor: &Actor) -> Result<MailSettings> {
        actor.require(Action::ManageQueues, "read mail settings")?;
        Ok(self
            .store
            .get_mail_settings(&actor.org_id)
            .await?
            .unwrap_or_else(|| MailSettings::blank(&actor.org_id, self.clock.now())))
    }

    pub async fn update_mail_settings(&self, actor: &Actor, input: MailSettingsInput) -> Result<MailSettings> {
        let current = self.mail_settings(actor).await?;
        let next = current.apply(input, self.clock.now())?;
        self.store.put_mail_settings(&next).await?;
        Ok(next)
    }

    pub async fn list_mailboxes(&self, actor: &Actor) -> Result<Vec<Mailbox>> {
        actor.require(Action::ManageQueues, "read mailboxes")?;
        Ok(self.store.list_mailboxes(&actor.org_id).await?)
    }

    /// Adds a mailbox, with its IMAP settings when it is to be polled (both or neither).
    pub async fn create_mailbox(&self, actor: &Actor, input: MailboxInput) -> Result<crate::imap::MailboxWithImap> {
        actor.require(Action::ManageQueues, "manage mailboxes")?;
        let id = IdKind::Mailbox.new_id();
        let mut errors = casedesk_domain::Errors::new();
        let address = errors.take("address", text::email(&input.address));
        let name = match input.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) {
            Some(n) => errors.take("name", text::bounded(&n, 200)),
            None => None,
        };
        if let Some(q) = &input.queue_id
            && let Err(StoreError::NotFound) = self.store.get_queue(&actor.org_id, q).await
        {
            errors.add("queue_id", format!("no such queue: {q}"));
        }
        let imap = match input.imap {
            None => None,
            Some(i) => match self.imap_settings(actor, &id, None, i, "imap.") {
                Ok(i) => Some(i),
                Err(AppError::Validation(fields)) => {
                    for f in fields {
                        errors.add(f.field, f.message);
                    }
                    None
                }
                Err(e) => return Err(e),
            },
        };
        errors.finish()?;
        let Some(address) = address else { return Err(AppError::field("address", "required")) };
        let m = Mailbox {
            id,
            org_id: actor.org_id.clone(),
            address,
            name,
            queue_id: input.queue_id,
            created_at: self.clock.now(),
        };
        let written = match &imap {
            Some(i) => self.store.insert_mailbox_with_imap(&m, i).await,
            None => self.store.insert_mailbox(&m).await,
        };
        match written {
            Ok(()) => Ok(crate::imap::MailboxWithImap { mailbox: m, imap }),
            Err(StoreError::Duplicate(_)) => {
                Err(AppError::field("address", "this organization has a mailbox with this address"))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_mailbox(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "manage mailboxes")?;
        Ok(self.store.delete_mailbox(&actor.org_id, id).await?)
    }

    /// Sends an update about a case by email to the recipients given (seed 003): it is a
    /// customer-facing comment on the timeline and one message, written together, from the
    /// case's mailbox or the agent's own address, threaded to the case's mail.
    pub async fn send_update(
        &self,
        actor: &Actor,
        case_id: &str,
        u: SendUpdate,
        idem: Option<IdemKey>,
    ) -> Result<EmailMessage> {
        actor.require(Action::WriteCases, "send updates")?;
        let case = self.get_case(actor, case_id).await?;
        let mut errors = casedesk_domain::Errors::new();
        let from_me = match u.from.as_deref() {
            None | Some("queue") => false,
            Some("me") => true,
            Some(_) => {
                errors.add("from", "must be queue or me");
                false
            }
        };
        let to = addresses("to", &u.to, &mut errors);
        let cc = addresses("cc", &u.cc, &mut errors);
        if u.to.is_empty() {
            errors.add("to", "name at least one recipient");
        }
        if u.to.len() + u.cc.len() > MAX_RECIPIENTS {
            errors.add("to", format!("at most {MAX_RECIPIENTS} recipients"));
        }
        let tag = mail::subject_tag(case.case_number);
        let subject = match u.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => errors
                .take("subject", text::bounded(s, 250))
                .map(|s| if s.contains(&tag) { s } else { format!("{s} {tag}") }),
            None => Some(mail::reply_subject(&case.subject, case.case_number)),
        };
        if u.message.trim().is_empty() {
            errors.add("message", "required");
        }
        errors.finish()?;
        let settings =
            self.store.get_mail_settings(&actor.org_id).await?.filter(MailSettings::can_send).ok_or_else(|| {
                AppError::Conflict {
                    code: "mail_not_set_up",
                    message: "this organization has no outgoing mail server: see PATCH /api/v1/mail/settings".into(),
                }
            })?;
        let ctx = self.store.case_mail_context(&case).await?;
        let (from_address, from_name) = if from_me {
            let me = self.store.get_user(&actor.org_id, &actor.user_id).await?;
            (me.email, Some(me.name))
        } else {
            queue_sender(&settings, &ctx)
        };
        let envelope = Envelope { from_address, from_name, to, cc, subject: subject.unwrap_or_default() };
        let made = std::sync::Mutex::new(None);
        let now = self.clock.now();
        let make = |case: &Case, comment: &Comment| {
            let file_ids: Vec<String> = comment.attachments.iter().map(|f| f.id.clone()).collect();
            let m = message_for(case, comment, &file_ids, envelope.clone(), &ctx, now);
            if let Ok(mut slot) = made.lock() {
                *slot = Some(m.clone());
            }
            m
        };
        let input = CommentInput {
            body: &u.message,
            internal: false,
            author_type: AuthorType::Agent,
            file_ids: &u.file_ids,
            reply_channel: None,
        };
        let created = self.add_comment_sending(actor, &case.id, input, idem, Some(&make)).await?;
        let made = made.into_inner().ok().flatten();
        match made {
            Some(m) if !created.replayed => Ok(m),
            // A replay: the message written the first time.
            _ => self
                .store
                .list_case_emails(&actor.org_id, &case.id)
                .await?
                .into_iter()
                .find(|m| m.comment_id.as_deref() == Some(created.value.id.as_str()))
                .ok_or(AppError::NotFound),
        }
    }

    // --- the message log ---------------------------------------------------------------------

    /// A case's mail, oldest first.
    pub async fn case_emails(&self, actor: &Actor, case_id: &str) -> Result<Vec<EmailMessage>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_case_emails(&actor.org_id, &case.id).await?)
    }

    /// Inbound mail that became no case: quarantined (unreadable, too large) and ignored
    /// (machine-written), newest first. Admins only.
    pub async fn held_emails(
        &self,
        actor: &Actor,
        states: &[EmailState],
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<EmailMessage>, Option<i64>)> {
        actor.require(Action::ManageQueues, "read held mail")?;
        Ok(self.store.list_inbound_emails(&actor.org_id, states, before_seq, limit).await?)
    }

    /// A message with its original bytes (inbound mail only has them).
    pub async fn email_original(&self, actor: &Actor, id: &str) -> Result<(EmailMessage, crate::blobs::BlobReader)> {
        actor.require(Action::ReadCases, "read mail")?;
        let m = self.store.get_email(&actor.org_id, id).await?;
        // An agent reads the mail of cases; held mail is an admin's.
        if m.case_id.is_none() {
            actor.require(Action::ManageQueues, "read held mail")?;
        }
        let Some(sha) = &m.raw_sha256 else { return Err(AppError::NotFound) };
        let blob = self.files.blobs.open(sha).await.map_err(|e| io_error("reading a kept message", &e))?;
        Ok((m, blob))
    }

    // --- in ----------------------------------------------------------------------------------

    /// Takes in a raw message posted by a caller of the API (a mail provider's forwarder).
    pub async fn receive_email_as(&self, actor: &Actor, raw: &[u8], queue_id: Option<&str>) -> Result<Inbound> {
        actor.require(Action::WriteCases, "post inbound mail")?;
        self.receive_email(&actor.org_id, raw, queue_id).await
    }

    /// Takes in one raw message for `org_id`. `queue_id` is where a new case goes when none of
    /// the message's recipients is a mailbox of the organization.
    pub async fn receive_email(&self, org_id: &str, raw: &[u8], queue_id: Option<&str>) -> Result<Inbound> {
        self.store.get_org(org_id).await?;
        if let Some(q) = queue_id {
            crate::error::named(self.store.get_queue(org_id, q).await, "queue_id", "queue", q)?;
        }
        let sha256 = hex::encode(Sha256::digest(raw));
        let mut writer = self.files.blobs.create().await.map_err(|e| io_error("storing a message", &e))?;
        writer.write(raw).await.map_err(|e| io_error("storing a message", &e))?;
        let pending = writer.publish(sha256.clone()).await.map_err(|e| io_error("storing a message", &e))?;

        let too_large = raw.len() as u64 > self.max_inbound_bytes;
        let parsed = mail::parse(raw);
        let now = self.clock.now();
        let size = i64::try_from(raw.len()).unwrap_or(i64::MAX);
        let mut rec = EmailMessage::received(IdKind::Email.new_id(), org_id, sha256, size, now);
        match &parsed {
            Ok(m) => {
                rec.message_id = m.message_id.clone();
                rec.from_address = m.from.address.clone();
                rec.from_name = m.from.name.clone();
                rec.to = m.to.iter().map(|a| a.address.clone()).collect();
                rec.cc = m.cc.iter().map(|a| a.address.clone()).collect();
                rec.subject = m.subject.clone();
                rec.in_reply_to = m.thread_ids.first().cloned();
            }
            Err(why) => {
                rec.state = EmailState::Quarantined;
                rec.reason = Some(why.to_string());
            }
        }
        if too_large {
            rec.state = EmailState::Quarantined;
            rec.reason = Some(format!("too large: {} bytes, the limit is {}", raw.len(), self.max_inbound_bytes));
        } else if let Ok(m) = &parsed
            && let Some(why) = &m.automated
        {
            rec.state = EmailState::Ignored;
            rec.reason = Some(format!("written by a machine: {why}"));
        }
        let earlier = self.store.record_inbound_email(&rec).await;
        pending.settle().await.map_err(|e| io_error("settling a stored message", &e))?;
        match earlier? {
            Some(earlier) if earlier.state != EmailState::Received => {
                let case = match &earlier.case_id {
                    Some(id) => self.store.get_case(org_id, id).await.ok(),
                    None => None,
                };
                return Ok(Inbound { email: earlier, case, duplicate: true });
            }
            // Received before but not finished (a crash, a temporary failure): finish it now.
            Some(earlier) => rec = earlier,
            None => {}
        }
        let parsed = match parsed {
            Ok(m) if rec.state == EmailState::Received => m,
            _ => {
                tracing::info!(org.id = %org_id, email.id = %rec.id, state = rec.state.as_str(),
                    reason = rec.reason.as_deref().unwrap_or(""), "inbound mail held");
                return Ok(Inbound { email: rec, case: None, duplicate: false });
            }
        };
        let case = self.file_inbound(&mut rec, &parsed, queue_id).await?;
        rec.state = EmailState::Processed;
        self.store.settle_inbound_email(&rec).await?;
        // The rules this message triggered run now, as for a case made through the API.
        self.settle_automation(org_id, &case.id).await;
        let case = self.store.get_case(org_id, &case.id).await.unwrap_or(case);
        Ok(Inbound { email: rec, case: Some(case), duplicate: false })
    }

    /// Makes a received message a case or a comment; every step is keyed by the message's
    /// record, so running it again after a failure makes nothing twice.
    async fn file_inbound(&self, rec: &mut EmailMessage, m: &InboundMail, queue_hint: Option<&str>) -> Result<Case> {
        let org_id = rec.org_id.clone();
        let contact = self.mail_contact(&org_id, m).await?;
        let as_contact = Actor { org_id: org_id.clone(), user_id: contact.id.clone(), role: Role::Admin };
        let thread = self.thread_case(&org_id, m, &contact).await?;
        let (case, follow_up_of) = match thread {
            Some(case) if !case.is_closed() => {
                let file_ids = self.inbound_files(&case, m, &contact.id, rec).await?;
                let body = bounded_body(&mail::trim_reply(&m.text));
                let body = if body.trim().is_empty() { "(no text)".to_string() } else { body };
                let key = IdemKey::new(&format!("mail-comment:{}", rec.id), "mail".into())?;
                let input = CommentInput {
                    body: &body,
                    internal: false,
                    author_type: AuthorType::Customer,
                    file_ids: &file_ids,
                    reply_channel: None,
                };
                let comment = self.add_comment(&as_contact, &case.id, input, Some(key)).await?.value;
                rec.comment_id = Some(comment.id);
                rec.case_id = Some(case.id.clone());
                return Ok(self.store.get_case(&org_id, &case.id).await?);
            }
            Some(closed) => (None, Some(closed)),
            None => (None::<Case>, None),
        };
        debug_assert!(case.is_none());
        let queue_id = self.mailbox_queue(&org_id, m).await?.or(queue_hint.map(str::to_string));
        let subject = if m.subject.trim().is_empty() { "(no subject)".to_string() } else { m.subject.clone() };
        let description = bounded_body(&mail::trim_reply(&m.text));
        let input = NewCase {
            subject,
            description,
            channel: Some(Channel::Email),
            queue_id,
            requester_id: Some(contact.id.clone()),
            contact_id: Some(contact.id.clone()),
            ..Default::default()
        };
        let key = IdemKey::new(&format!("mail-case:{}", rec.id), "mail".into())?;
        let case = self.create_case(&as_contact, input, Some(key)).await?.value;
        rec.case_id = Some(case.id.clone());
        self.inbound_files(&case, m, &contact.id, rec).await?;
        if let Some(earlier) = follow_up_of {
            let linked = self.list_links(&system(&org_id), &case.id).await?.iter().any(|(_, c)| c.id == earlier.id);
            if !linked {
                self.add_link(&system(&org_id), &case.id, "related", &earlier.id).await?;
            }
        }
        Ok(self.store.get_case(&org_id, &case.id).await?)
    }

    /// The contact the sender is: found by address, or made from the From header.
    async fn mail_contact(&self, org_id: &str, m: &InboundMail) -> Result<Contact> {
        let filter = ContactFilter { email: Some(m.from.address.clone()), ..Default::default() };
        let page = PageRequest { limit: 1, ..PageRequest::default() };
        if let Some(c) = self.store.list_contacts(org_id, &filter, &page).await?.items.into_iter().next() {
            return Ok(c);
        }
        let input = ContactInput {
            name: Some(m.from.name.clone().unwrap_or_else(|| m.from.address.clone())),
            email: Some(Some(m.from.address.clone())),
            ..Default::default()
        };
        // Keyed by the address: two messages from a new sender at once make one contact.
        let key = IdemKey::new(&format!("mail-contact:{}", m.from.address), "mail".into())?;
        Ok(self.create_contact(&system(org_id), input, Some(key)).await?.value)
    }

    /// The case a message answers, if any: by our Message-IDs first, then by the subject's
    /// `[#number]` when the sender takes part in that case. A merged case's mail goes to the
    /// case it was merged into; a case in the trash is no thread.
    async fn thread_case(&self, org_id: &str, m: &InboundMail, contact: &Contact) -> Result<Option<Case>> {
        let mut found = None;
        if let Some(id) = self.store.case_of_messages(org_id, &m.thread_ids).await? {
            found = self.live_case(org_id, &id).await?;
        }
        if found.is_none()
            && let Some(n) = mail::tagged_case_number(&m.subject)
            && let Some(id) = self.store.case_id_by_number(org_id, n).await?
            && let Some(case) = self.live_case(org_id, &id).await?
            && self.takes_part(org_id, &case, &m.from.address, contact).await?
        {
            found = Some(case);
        }
        Ok(found)
    }

    async fn live_case(&self, org_id: &str, id: &str) -> Result<Option<Case>> {
        let mut id = id.to_string();
        for _ in 0..5 {
            match self.store.get_case(org_id, &id).await {
                Ok(c) => match &c.merged_into_id {
                    Some(target) => id = target.clone(),
                    None => return Ok(Some(c)),
                },
                Err(StoreError::NotFound) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Whether `address` is the case's requester or contact, or wrote or was written to on its mail.
    async fn takes_part(&self, org_id: &str, case: &Case, address: &str, contact: &Contact) -> Result<bool> {
        if case.contact_id.as_deref() == Some(contact.id.as_str()) || case.requester_id == contact.id {
            return Ok(true);
        }
        Ok(self.store.case_mail_participants(org_id, &case.id).await?.iter().any(|a| a == address))
    }

    /// The queue of the first recipient that is one of the organization's mailboxes.
    async fn mailbox_queue(&self, org_id: &str, m: &InboundMail) -> Result<Option<String>> {
        let boxes = self.store.list_mailboxes(org_id).await?;
        for r in m.recipients() {
            if let Some(b) = boxes.iter().find(|b| b.address == r) {
                return Ok(b.queue_id.clone());
            }
        }
        Ok(None)
    }

    /// Stores the message's files on the case; a file stored by an earlier, interrupted run
    /// (same content and name, on no comment yet) is used again. A file the case refuses (its
    /// content contradicts its type) is left out, and stays in the kept original.
    async fn inbound_files(
        &self,
        case: &Case,
        m: &InboundMail,
        uploader: &str,
        rec: &EmailMessage,
    ) -> Result<Vec<String>> {
        let existing = self.store.list_files(&case.org_id, &case.id).await?;
        let as_uploader = Actor { org_id: case.org_id.clone(), user_id: uploader.to_string(), role: Role::Admin };
        let mut ids = Vec::new();
        for f in &m.files {
            if f.bytes.len() as u64 > self.files.max_bytes {
                tracing::info!(email.id = %rec.id, file = %f.name, "mail attachment over the file size limit left out");
                continue;
            }
            let sha = hex::encode(Sha256::digest(&f.bytes));
            if let Some(done) = existing.iter().find(|e| {
                e.sha256 == sha && e.comment_id.is_none() && e.uploaded_by == uploader && !ids.contains(&e.id)
            }) {
                ids.push(done.id.clone());
                continue;
            }
            let mut up = self.begin_upload(&as_uploader, &case.id).await?;
            up.write(&f.bytes).await?;
            match self.finish_upload(up, &f.name, Some(&f.content_type)).await {
                Ok(file) => ids.push(file.id),
                Err(AppError::Validation(e)) => {
                    tracing::info!(email.id = %rec.id, file = %f.name, error = ?e, "mail attachment refused");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(ids)
    }

    // --- out ---------------------------------------------------------------------------------

    /// Turns new customer-facing comments into queued messages; returns how many.
    pub async fn dispatch_mail(&self) -> Result<usize> {
        let now = self.clock.now();
        let make = move |case: &Case, comment: &Comment, file_ids: &[String], ctx: &MailContext| {
            outgoing_for(case, comment, file_ids, ctx, now)
        };
        let base = self.public_url.trim_end_matches('/').to_string();
        let survey = move |case: &Case, scale, resolved_at, ctx: &MailContext| {
            let (settings, to) = (ctx.settings.as_ref()?, ctx.requester_email.as_ref()?);
            if replies_by_connector(case.channel) {
                return None;
            }
            let (from_address, from_name) = queue_sender(settings, ctx);
            let envelope = Envelope {
                from_address,
                from_name,
                to: vec![to.clone()],
                cc: vec![],
                subject: mail::reply_subject(&format!("How did we do? {}", case.subject), case.case_number),
            };
            Some(crate::csat::survey_message(case, scale, resolved_at, &base, |m| {
                message_of(case, m, envelope, ctx, now)
            }))
        };
        Ok(self.store.dispatch_mail_events(DISPATCH_BATCH, &make, &survey).await?)
    }

    /// Sends due messages until none is left; returns how many attempts were made.
    pub async fn deliver_mail(&self) -> Result<usize> {
        let claim = IdKind::Email.new_id();
        let mut attempts = 0;
        loop {
            let now = self.clock.now();
            let claimed = self.store.claim_emails(&claim, now, now + LEASE, SEND_BATCH).await?;
            if claimed.is_empty() {
                return Ok(attempts);
            }
            attempts += claimed.len();
            for m in claimed {
                match self.send_one(m, &claim).await {
                    Ok(()) | Err(AppError::Conflict { code: "concurrent_update", .. }) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "recording a mail attempt failed; it is retried when its lease runs out")
                    }
                }
            }
        }
    }

    async fn send_one(&self, mut m: EmailMessage, claim: &str) -> Result<()> {
        let settings = self.store.get_mail_settings(&m.org_id).await?;
        let outcome = match settings.filter(MailSettings::can_send) {
            None => Err(SendFailure { permanent: false, message: "no outgoing mail server is set up".into() }),
            Some(s) => {
                let mail = self.outgoing(&m).await?;
                self.mailer.send(&s, &mail).await
            }
        };
        let now = self.clock.now();
        let counter = match &outcome {
            Ok(()) => &self.counters.email_sent,
            Err(f) if f.permanent => &self.counters.email_failed,
            Err(_) => &self.counters.email_retried,
        };
        crate::metrics::Counters::add(counter, 1);
        let event = match outcome {
            Ok(()) => {
                m.record_sent(now);
                Some(mail_event(EMAIL_SENT, &m, now))
            }
            Err(f) => {
                m.record_failure(&f.message, f.permanent, now);
                tracing::info!(email.id = %m.id, attempts = m.attempts, permanent = f.permanent,
                    error = %f.message, "sending mail failed");
                (m.state == EmailState::Failed).then(|| mail_event(EMAIL_FAILED, &m, now))
            }
        };
        Ok(self.store.finish_email_attempt(&m, claim, event.as_ref()).await?)
    }

    /// The message as the mailer sends it, with the case files it names.
    async fn outgoing(&self, m: &EmailMessage) -> Result<OutgoingEmail> {
        let mut attachments = Vec::new();
        let mut total = 0;
        for id in &m.file_ids {
            let Ok(f) = self.store.get_file(&m.org_id, id).await else { continue };
            if total + f.size > MAX_ATTACHED_BYTES {
                tracing::info!(email.id = %m.id, file = %f.name, "attachment left out: the message would be too large");
                continue;
            }
            total += f.size;
            let mut blob = self.files.blobs.open(&f.sha256).await.map_err(|e| io_error("reading an attachment", &e))?;
            let mut bytes = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut blob.reader, &mut bytes)
                .await
                .map_err(|e| io_error("reading an attachment", &e))?;
            attachments.push(MailFile { name: f.name, content_type: f.content_type, bytes, inline: false });
        }
        Ok(OutgoingEmail {
            from_address: m.from_address.clone(),
            from_name: m.from_name.clone(),
            to: m.to.clone(),
            cc: m.cc.clone(),
            subject: m.subject.clone(),
            text: m.body.clone().unwrap_or_default(),
            message_id: m.message_id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            attachments,
            org_id: m.org_id.clone(),
        })
    }

    /// Dispatches and sends mail every `poll` until the task is dropped.
    pub(crate) async fn mail_worker(&self, poll: Duration) {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.dispatch_mail().await {
                tracing::warn!(error = %e, "mail dispatch failed; retrying on the next tick");
            }
            if let Err(e) = self.deliver_mail().await {
                tracing::warn!(error = %e, "sending mail failed; retrying on the next tick");
            }
        }
    }
}

fn mail_event(kind: &'static str, m: &EmailMessage, now: jiff::Timestamp) -> NewEvent {
    NewEvent {
        kind,
        data: json!({
            "email_id": m.id,
            "comment_id": m.comment_id,
            "to": m.to,
            "subject": m.subject,
            "attempts": m.attempts,
            "error": m.last_error,
        }),
        created_at: now,
    }
}

/// Channels whose replies go back through a messaging connector rather than by email.
fn replies_by_connector(channel: Channel) -> bool {
    casedesk_domain::messaging::is_connector_channel(channel)
}

/// Who a message is from and to, and what it is about.
#[derive(Debug, Clone)]
struct Envelope {
    from_address: String,
    from_name: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    subject: String,
}

/// The outgoing message of `comment` on `case`, threaded to the case's mail in `ctx`.
fn message_for(
    case: &Case,
    comment: &Comment,
    file_ids: &[String],
    envelope: Envelope,
    ctx: &MailContext,
    now: jiff::Timestamp,
) -> EmailMessage {
    let body = OwnMessage {
        local_id: comment.id.trim_start_matches("cmt_"),
        comment_id: Some(&comment.id),
        body: &comment.body,
        file_ids,
    };
    message_of(case, body, envelope, ctx, now)
}

/// What a message of ours says: the local part of its `Message-ID`, its comment (if any), the
/// text and attached files.
pub(crate) struct OwnMessage<'a> {
    pub local_id: &'a str,
    pub comment_id: Option<&'a str>,
    pub body: &'a str,
    pub file_ids: &'a [String],
}

/// A message of ours on `case`, threaded to the case's mail in `ctx`.
fn message_of(
    case: &Case,
    m: OwnMessage<'_>,
    envelope: Envelope,
    ctx: &MailContext,
    now: jiff::Timestamp,
) -> EmailMessage {
    let domain = envelope.from_address.rsplit_once('@').map_or("casedesk.invalid", |(_, d)| d).to_string();
    EmailMessage {
        direction: Direction::Out,
        message_id: format!("casedesk.{}@{domain}", m.local_id),
        case_id: Some(case.id.clone()),
        comment_id: m.comment_id.map(str::to_string),
        from_address: envelope.from_address,
        from_name: envelope.from_name,
        to: envelope.to,
        cc: envelope.cc,
        subject: envelope.subject,
        body: Some(m.body.to_string()),
        in_reply_to: ctx.last_inbound.clone().or_else(|| ctx.thread.last().cloned()),
        references: ctx.thread.clone(),
        file_ids: m.file_ids.to_vec(),
        raw_sha256: None,
        state: EmailState::Queued,
        next_attempt_at: Some(now),
        ..EmailMessage::received(IdKind::Email.new_id(), &case.org_id, String::new(), 0, now)
    }
}

/// The case's sending address: its queue's mailbox, else the organization's.
fn queue_sender(settings: &MailSettings, ctx: &MailContext) -> (String, Option<String>) {
    match &ctx.mailbox {
        Some(b) => (b.address.clone(), b.name.clone().or_else(|| settings.from_name.clone())),
        None => (settings.from_address.clone().unwrap_or_default(), settings.from_name.clone()),
    }
}

/// The message a new comment sends, if it sends one: a customer-facing comment by an agent or by
/// automation that goes by email (the case's channel or the agent's choice), on a case whose
/// requester has an address, in an organization that can send.
fn outgoing_for(
    case: &Case,
    comment: &Comment,
    file_ids: &[String],
    ctx: &MailContext,
    now: jiff::Timestamp,
) -> Vec<EmailMessage> {
    let by_email = messaging::reply_route(case.channel, comment.reply_channel) == ReplyRoute::Email;
    if comment.internal || comment.author_type == AuthorType::Customer || !by_email {
        return vec![];
    }
    let (Some(settings), Some(to)) = (&ctx.settings, &ctx.requester_email) else { return vec![] };
    if !settings.can_send() {
        return vec![];
    }
    let (from_address, from_name) = queue_sender(settings, ctx);
    let envelope = Envelope {
        from_address,
        from_name,
        to: vec![to.clone()],
        cc: vec![],
        subject: mail::reply_subject(&case.subject, case.case_number),
    };
    vec![message_for(case, comment, file_ids, envelope, ctx, now)]
}
