//! casedesk-core: the use cases — what a user can do — on top of the domain and the store.
//!
//! [`App`] holds the ports (the store and the clock) and exposes one method per operation
//! (`create_case`, `add_comment`, `create_token` …). Every method takes the calling [`Actor`],
//! checks [`policy::can`](casedesk_domain::policy::can), loads through the store, lets the
//! domain decide, and writes the result in one transaction. The HTTP API and the CLI call these
//! methods and nothing below them.
//!
//! Layout: [`error`] (the layer's [`AppError`]), [`clock`], [`auth`] (passwords and tokens),
//! [`cases`], [`bulk`] (one action on many cases), [`trash`] (deleted cases), [`export`] (cases to .xlsx and CSV), [`files`] (uploads, downloads and the [`blobs`] port), [`directory`] (users, accounts, contacts), [`queues`] (queues and members),
//! [`routing`] (who gets a case), [`sessions`] (web sign-in, sessions and throttling), [`live`] (changes and presence for the web UI's open pages), [`sla`] (calendars, policies, the breach sweep), [`org`]
//! (organization settings), [`time`] (time tracking), [`webhooks`] (subscriptions and the outbox that sends them), [`email`] (mail in and out), [`imap`] (mailboxes polled over IMAP), [`intake`] (cases from voicemail), [`automation`] (rules and the evaluator that runs them), [`macros`] (macros and agents' notifications), [`signing_keys`] and [`visitors`] (the external-visitors API), [`metrics`] (what `/metrics` reports), [`admin`] (bootstrap and the operator's commands), [`idempotency`].

#![forbid(unsafe_code)]

pub mod activities;
pub mod admin;
pub mod ai;
pub mod auth;
pub mod automation;
pub mod blobs;
pub mod bulk;
pub mod cases;
pub mod channels;
pub mod clock;
pub mod conversations;
pub mod csat;
pub mod directory;
pub mod email;
pub mod error;
pub mod export;
pub mod files;
pub mod idempotency;
pub mod imap;
pub mod intake;
pub mod jobs;
pub mod links;
pub mod live;
pub mod macros;
pub mod metrics;
pub mod milestones;
pub mod org;
pub mod portal;
mod queries;
pub mod queues;
pub mod reports;
pub mod requester;
pub mod routing;
pub mod sessions;
pub mod signing_keys;
pub mod sla;
pub mod time;
pub mod trash;
pub mod views;
pub mod visitors;
pub mod webhooks;
pub mod workflow;

use std::sync::Arc;

use casedesk_domain::policy::{self, Action, Role};
pub use casedesk_store as store;
use casedesk_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AppError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org_id: String,
    pub user_id: String,
    pub role: Role,
}

impl Actor {
    /// Fails with 403 unless the actor's role allows `action`.
    pub fn require(&self, action: Action, what: &'static str) -> Result<()> {
        if policy::can(self.role, action) { Ok(()) } else { Err(AppError::Forbidden(what)) }
    }
}

/// The application: its ports, shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub files: files::Files,
    /// Wakes this instance's bulk-job worker when a job is queued here.
    pub jobs_signal: bulk::JobSignal,
    /// What the assistant learned of each organization's cases.
    pub ai: ai::AiState,
    /// Where organizations' chosen AI providers are asked ([`ai::NoAiProvider`] unless given one).
    pub ai_provider: Arc<dyn ai::AiProvider>,
    /// Where webhook deliveries are sent ([`webhooks::NoSender`] unless given one).
    pub http: Arc<dyn webhooks::HttpSender>,
    /// Seals HS256 signing secrets at rest ([`signing_keys`]); none unless configured.
    pub sealing: Option<casedesk_domain::signing_key::SealingKey>,
    /// What this instance's background work did, for `/metrics`.
    pub counters: Arc<metrics::Counters>,
    /// Where outgoing mail is handed to an SMTP server ([`email::NoMailer`] unless given one).
    pub mailer: Arc<dyn email::Mailer>,
    /// Largest inbound message taken in; larger ones are quarantined.
    pub max_inbound_bytes: u64,
    /// Where polled mailboxes are read from ([`imap::NoImap`] unless given one).
    pub imap: Arc<dyn imap::ImapClient>,
    /// This instance's watchers of live pages and its reader of the change feed for them.
    pub live: live::LiveFeed,
    /// Where customers reach this server: the base of the links mail carries (survey pages).
    pub public_url: String,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, files: files::Files) -> Self {
        Self {
            store,
            clock,
            files,
            jobs_signal: bulk::JobSignal::default(),
            ai: ai::AiState::default(),
            ai_provider: Arc::new(ai::NoAiProvider),
            http: Arc::new(webhooks::NoSender),
            sealing: None,
            counters: Arc::default(),
            mailer: Arc::new(email::NoMailer),
            max_inbound_bytes: email::DEFAULT_MAX_INBOUND_BYTES,
            imap: Arc::new(imap::NoImap),
            live: live::LiveFeed::default(),
            public_url: csat::DEFAULT_PUBLIC_URL.to_string(),
        }
    }
}
