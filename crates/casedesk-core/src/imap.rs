//! IMAP polling: mailboxes whose mail waits on an IMAP server rather than being piped or posted
//! to casedesk.
//!
//! An admin gives a mailbox IMAP settings ([`App::set_mailbox_imap`]); the password is sealed
//! under the server's key (`--signing-key-secret`) before it is stored and opened only to log
//! in. Every instance runs the poller ([`App::poll_imap`]): it claims one due mailbox at a time
//! with a lease in the database, so instances sharing a database never poll one mailbox at
//! once; logs in through the [`ImapClient`] port (async-imap in the binary); selects the folder;
//! and takes each new message in through [`App::receive_email`], exactly as mail posted to
//! casedesk is (stored first, quarantined when unreadable, recognised by its `Message-ID` when
//! seen before). After each message the mailbox's cursor (`UIDVALIDITY`, last UID) moves past
//! it in the database, and the message is marked `\Seen`; a poll that found nothing more moves
//! the cursor to the folder's `UIDNEXT`, so later polls take every new message, read or not. A failed poll is recorded on the
//! mailbox and the next one backs off (`casedesk_domain::imap::backoff`).

use std::sync::Arc;
use std::time::Duration;

use casedesk_domain::email::Mailbox;
use casedesk_domain::ids::IdKind;
use casedesk_domain::imap::{self, ImapInput, ImapMailbox, ImapSecurity, NewPassword, Search};
use casedesk_domain::policy::Action;
use casedesk_store::StoreError;
use jiff::SignedDuration;

use crate::webhooks::BoxFuture;
use crate::{Actor, App, AppError, Result};

/// How long a claimed mailbox is its poller's; renewed with every message taken in.
const LEASE: SignedDuration = SignedDuration::from_secs(300);
/// Most polls one pass of the poller makes.
const POLLS_PER_PASS: usize = 100;

/// Where and as whom to log in; the password in the clear, only for the connection.
pub struct ImapLogin {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    pub password: String,
    pub folder: String,
}

impl std::fmt::Debug for ImapLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapLogin")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

/// The port to IMAP servers: opens a session that is logged in with the folder selected.
pub trait ImapClient: Send + Sync {
    fn open<'a>(&'a self, login: &'a ImapLogin) -> BoxFuture<'a, Result<Box<dyn ImapSession>, String>>;
}

/// A logged-in session with one folder selected.
pub trait ImapSession: Send {
    /// The selected folder's `UIDVALIDITY`.
    fn uid_validity(&self) -> u32;
    /// The selected folder's `UIDNEXT`, when the server said.
    fn uid_next(&self) -> Option<u32>;
    /// `UID SEARCH <criteria>`: the UIDs found.
    fn search<'a>(&'a mut self, criteria: &'a str) -> BoxFuture<'a, Result<Vec<u32>, String>>;
    /// The raw message with this UID, without setting `\Seen`; `None` when it is gone.
    fn fetch(&mut self, uid: u32) -> BoxFuture<'_, Result<Option<Vec<u8>>, String>>;
    /// Sets `\Seen` on the message.
    fn mark_seen(&mut self, uid: u32) -> BoxFuture<'_, Result<(), String>>;
    /// Logs out (errors are of no interest by then).
    fn logout(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// The IMAP client of an `App` that was not given one (the CLI's): it connects nowhere.
pub struct NoImap;

impl ImapClient for NoImap {
    fn open<'a>(&'a self, _: &'a ImapLogin) -> BoxFuture<'a, Result<Box<dyn ImapSession>, String>> {
        Box::pin(async { Err("this process polls no IMAP server".to_string()) })
    }
}

/// A mailbox with its IMAP settings, if it is polled.
#[derive(Debug, Clone)]
pub struct MailboxWithImap {
    pub mailbox: Mailbox,
    pub imap: Option<ImapMailbox>,
}

impl App {
    pub fn with_imap_client(mut self, client: Arc<dyn ImapClient>) -> Self {
        self.imap = client;
        self
    }

    /// The organization's mailboxes with their IMAP settings and polling state.
    pub async fn mailboxes_with_imap(&self, actor: &Actor) -> Result<Vec<MailboxWithImap>> {
        let boxes = self.list_mailboxes(actor).await?;
        let mut imap = self.store.list_mailbox_imap(&actor.org_id).await?;
        Ok(boxes
            .into_iter()
            .map(|mailbox| {
                let i = imap.iter().position(|i| i.mailbox_id == mailbox.id).map(|at| imap.swap_remove(at));
                MailboxWithImap { mailbox, imap: i }
            })
            .collect())
    }

    /// One mailbox with its IMAP settings.
    pub async fn mailbox_with_imap(&self, actor: &Actor, id: &str) -> Result<MailboxWithImap> {
        let mailbox = self.list_mailboxes(actor).await?.into_iter().find(|m| m.id == id).ok_or(AppError::NotFound)?;
        let imap = self.store.get_mailbox_imap(&actor.org_id, id).await?;
        Ok(MailboxWithImap { mailbox, imap })
    }

    /// The IMAP settings `input` makes for a mailbox, with a new password sealed (422 on
    /// `<prefix>password` when this server has no key to seal it with).
    pub(crate) fn imap_settings(
        &self,
        actor: &Actor,
        mailbox_id: &str,
        current: Option<&ImapMailbox>,
        input: ImapInput,
        prefix: &str,
    ) -> Result<ImapMailbox> {
        let (mut next, password) = input.apply(mailbox_id, &actor.org_id, current, self.clock.now(), prefix)?;
        if let Some(NewPassword(password)) = password {
            let sealing = self.sealing.as_ref().ok_or_else(|| {
                AppError::field(
                    &format!("{prefix}password"),
                    "this server has no signing-key secret configured (--signing-key-secret or \
                     CASEDESK_SIGNING_KEY_SECRET), so it cannot keep a mailbox password; start it with one",
                )
            })?;
            let sealed = sealing
                .seal(rand::random(), &imap::password_binding(&actor.org_id, mailbox_id), &password)
                .map_err(|e| AppError::Internal(format!("sealing a mailbox password: {e}")))?;
            next.password_sealed = Some(sealed);
        }
        Ok(next)
    }

    /// Sets (replaces) a mailbox's IMAP settings; it is polled at once when enabled.
    pub async fn set_mailbox_imap(&self, actor: &Actor, id: &str, input: ImapInput) -> Result<MailboxWithImap> {
        actor.require(Action::ManageQueues, "manage mailboxes")?;
        let current = self.mailbox_with_imap(actor, id).await?;
        let next = self.imap_settings(actor, id, current.imap.as_ref(), input, "")?;
        self.store.put_mailbox_imap(&next).await?;
        tracing::info!(org.id = %actor.org_id, mailbox.id = %id, imap.host = %next.host,
            imap.enabled = next.enabled, "mailbox IMAP settings saved");
        Ok(MailboxWithImap { mailbox: current.mailbox, imap: Some(next) })
    }

    /// Stops polling a mailbox and forgets its IMAP settings and password.
    pub async fn clear_mailbox_imap(&self, actor: &Actor, id: &str) -> Result<MailboxWithImap> {
        actor.require(Action::ManageQueues, "manage mailboxes")?;
        self.store.delete_mailbox_imap(&actor.org_id, id).await?;
        tracing::info!(org.id = %actor.org_id, mailbox.id = %id, "mailbox IMAP settings removed");
        self.mailbox_with_imap(actor, id).await
    }

    /// Polls every mailbox that is due and that no other poller holds, one after another;
    /// returns how many polls were made. A poll's failure is recorded on its mailbox, not
    /// returned: only a failing database stops the pass.
    pub async fn poll_imap(&self, interval: Duration) -> Result<usize> {
        let interval = SignedDuration::try_from(interval).unwrap_or(SignedDuration::from_secs(60));
        let mut polls = 0;
        while polls < POLLS_PER_PASS {
            let claim = IdKind::Email.new_id();
            let now = self.clock.now();
            let lease = now.saturating_add(LEASE).unwrap_or(now);
            let Some((imap, queue)) = self.store.claim_imap_poll(&claim, now, lease).await? else { break };
            polls += 1;
            self.poll_mailbox(imap, queue, &claim, interval).await?;
        }
        Ok(polls)
    }

    /// One poll of a claimed mailbox, and its outcome saved.
    async fn poll_mailbox(
        &self,
        mut imap: ImapMailbox,
        queue: Option<String>,
        claim: &str,
        interval: SignedDuration,
    ) -> Result<()> {
        let outcome = match self.imap_login(&imap) {
            Err(e) => Err(e),
            Ok(login) => match self.imap.open(&login).await {
                Err(e) => Err(Stop::Failed(e)),
                Ok(mut session) => {
                    let taken = self.take_in(session.as_mut(), &imap, queue.as_deref(), claim).await;
                    // A connection that failed (or stopped answering) is dropped, not logged out.
                    if !matches!(taken, Err(Stop::Session(_))) {
                        session.logout().await;
                    }
                    taken
                }
            },
        };
        let error = match &outcome {
            Ok(_) => None,
            Err(Stop::Lost) => return Ok(()),
            Err(Stop::Store(e)) => return Err(AppError::Internal(format!("polling a mailbox: {e}"))),
            Err(Stop::Failed(e) | Stop::Session(e)) => Some(e.as_str()),
        };
        let counter = if error.is_some() { &self.counters.imap_failed } else { &self.counters.imap_polled };
        crate::metrics::Counters::add(counter, 1);
        if let Some(e) = error {
            tracing::warn!(org.id = %imap.org_id, mailbox.id = %imap.mailbox_id, imap.host = %imap.host,
                error = %e, failures = imap.failures + 1, "polling a mailbox failed; backing off");
        }
        imap.polled(self.clock.now(), interval, error, matches!(outcome, Ok(true)));
        match self.store.finish_imap_poll(&imap, claim).await {
            Ok(()) | Err(StoreError::Stale) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn imap_login(&self, imap: &ImapMailbox) -> Result<ImapLogin, Stop> {
        let sealed = imap.password_sealed.as_deref().ok_or_else(|| Stop::Failed("no password is set".into()))?;
        let password = self
            .sealing
            .as_ref()
            .and_then(|k| k.open(&imap::password_binding(&imap.org_id, &imap.mailbox_id), sealed))
            .and_then(|p| String::from_utf8(p).ok())
            .ok_or_else(|| {
                Stop::Failed(
                    "the password cannot be opened: is --signing-key-secret the one it was saved under?".into(),
                )
            })?;
        Ok(ImapLogin {
            host: imap.host.clone(),
            port: imap.port,
            security: imap.security,
            username: imap.username.clone(),
            password,
            folder: imap.folder.clone(),
        })
    }

    /// Takes in the folder's new messages, moving the cursor after each; answers whether more
    /// were left for the next poll.
    async fn take_in(
        &self,
        session: &mut dyn ImapSession,
        imap: &ImapMailbox,
        queue: Option<&str>,
        claim: &str,
    ) -> Result<bool, Stop> {
        let validity = session.uid_validity();
        let search = Search::for_folder(imap.cursor, validity);
        let found = session.search(&search.criteria()).await.map_err(Stop::Session)?;
        let (uids, more) = imap::to_fetch(imap.cursor, validity, &found);
        let mut cursor = imap.cursor;
        for uid in uids {
            let Some(raw) = session.fetch(uid).await.map_err(Stop::Session)? else {
                // Expunged between the search and the fetch: nothing to take in.
                continue;
            };
            let inbound = self
                .receive_email(&imap.org_id, &raw, queue)
                .await
                .map_err(|e| Stop::Failed(format!("taking in the message with UID {uid}: {}", describe(&e))))?;
            let next = imap::advance(cursor, validity, uid);
            self.move_cursor(&imap.mailbox_id, claim, next).await?;
            cursor = Some(next);
            crate::metrics::Counters::add(&self.counters.imap_messages, 1);
            tracing::info!(org.id = %imap.org_id, mailbox.id = %imap.mailbox_id, imap.uid = uid,
                email.id = %inbound.email.id, duplicate = inbound.duplicate, "took in a message from IMAP");
            // The cursor already keeps the message from being taken twice; the flag is for
            // the people who read the mailbox too.
            if let Err(e) = session.mark_seen(uid).await {
                tracing::warn!(mailbox.id = %imap.mailbox_id, imap.uid = uid, error = %e, "could not mark a message seen");
            }
        }
        if !more && let Some(settled) = imap::settle(cursor, validity, session.uid_next()) {
            self.move_cursor(&imap.mailbox_id, claim, settled).await?;
        }
        Ok(more)
    }

    /// Saves the cursor while the claim holds, renewing the lease.
    async fn move_cursor(&self, mailbox_id: &str, claim: &str, cursor: imap::Cursor) -> Result<(), Stop> {
        let now = self.clock.now();
        match self.store.advance_imap_cursor(mailbox_id, claim, cursor, now.saturating_add(LEASE).unwrap_or(now)).await
        {
            Ok(()) => Ok(()),
            Err(StoreError::Stale) => Err(Stop::Lost),
            Err(e) => Err(Stop::Store(e)),
        }
    }
}

/// Why a poll stopped early.
enum Stop {
    /// Connecting, logging in or taking a message in failed: recorded on the mailbox.
    Failed(String),
    /// A command of an open session failed: recorded on the mailbox, the connection dropped.
    Session(String),
    /// Another poller holds the mailbox now (the lease ran out or the settings changed).
    Lost,
    /// The database failed.
    Store(StoreError),
}

/// An error as a mailbox shows it: field errors spelled out.
fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => {
            fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
