//! casedesk-store: every SQL statement of casedesk, for SQLite and PostgreSQL.
//!
//! [`Store`] is one type with two backends. The queries are written once, in `queries.rs`, and
//! compiled twice — into [`sqlite`] and [`postgres`] — each time against that backend's concrete
//! sqlx types; the few statements that differ on purpose (full-text search, the insert that
//! fills PostgreSQL's tsvector) live in each backend's own module. The conformance suite in
//! `tests/conformance.rs` runs every scenario on both, which is what keeps them from drifting.
//!
//! SQLite runs with WAL, one writer connection and a pool of readers: writes queue on the
//! writer instead of retrying on `SQLITE_BUSY`, and reads never wait for them.
//!
//! Times are stored as integer microseconds since the Unix epoch (UTC) on both backends, so
//! comparisons, cursors and indexes behave identically.

#![forbid(unsafe_code)]

/// The shared queries (`queries.rs` and one module per `queries_*.rs`), for a backend module
/// that defines `DB`, `Tx` and the backend constants they name: written once here so both
/// backends compile the same list.
macro_rules! shared_queries {
    () => {
        include!("queries.rs");

        mod queues {
            use super::*;
            include!("queries_queues.rs");
        }
        pub use queues::*;

        mod sla {
            use super::*;
            include!("queries_sla.rs");
        }
        pub use sla::*;

        mod workflow {
            use super::*;
            include!("queries_workflow.rs");
        }
        pub use workflow::*;

        mod links {
            use super::*;
            include!("queries_links.rs");
        }
        pub use links::*;

        mod activities {
            use super::*;
            include!("queries_activities.rs");
        }
        pub use activities::*;

        mod milestones {
            use super::*;
            include!("queries_milestones.rs");
        }
        pub use milestones::*;

        mod time {
            use super::*;
            include!("queries_time.rs");
        }
        pub use time::*;

        mod files {
            use super::*;
            include!("queries_files.rs");
        }
        pub use files::*;

        mod views {
            use super::*;
            include!("queries_views.rs");
        }
        pub use views::*;

        mod trash {
            use super::*;
            include!("queries_trash.rs");
        }
        pub use trash::*;

        mod bulk {
            use super::*;
            include!("queries_bulk.rs");
        }
        pub use bulk::*;

        mod ai {
            use super::*;
            include!("queries_ai.rs");
        }
        pub use ai::*;

        mod export {
            use super::*;
            include!("queries_export.rs");
        }
        pub use export::*;

        mod webhooks {
            use super::*;
            include!("queries_webhooks.rs");
        }
        pub use webhooks::*;

        mod bench {
            use super::*;
            include!("queries_bench.rs");
        }
        pub use bench::*;

        mod sessions {
            use super::*;
            include!("queries_sessions.rs");
        }
        pub use sessions::*;

        mod presence {
            use super::*;
            include!("queries_presence.rs");
        }
        pub use presence::*;

        mod visitors {
            use super::*;
            include!("queries_visitors.rs");
        }
        pub use visitors::*;
        mod email {
            use super::*;
            include!("queries_email.rs");
        }
        pub use email::*;
        mod imap {
            use super::*;
            include!("queries_imap.rs");
        }
        pub use imap::*;
        mod automation {
            use super::*;
            include!("queries_automation.rs");
        }
        pub use automation::*;
        mod reports {
            use super::*;
            include!("queries_reports.rs");
        }
        pub use reports::*;
        mod csat {
            use super::*;
            include!("queries_csat.rs");
        }
        pub use csat::*;
        mod portal {
            use super::*;
            include!("queries_portal.rs");
        }
        pub use portal::*;
        mod channels {
            use super::*;
            include!("queries_channels.rs");
        }
        pub use channels::*;
    };
}

mod bench_sql;
mod cursor;
mod error;
mod migrate;
pub mod model;
pub mod postgres;
mod sql;
pub mod sqlite;

use std::str::FromStr;
use std::time::Duration;

use casedesk_domain::case::Case;
use casedesk_domain::list::ListRequest;
use casedesk_domain::people::{Account, Contact, User};
use casedesk_domain::timeline::{Comment, Event, NewEvent};
use jiff::Timestamp;
use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use bench_sql::{ReportSeed, SearchSeed};
pub use error::StoreError;
pub use model::*;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Backend {
    Sqlite {
        writer: sqlx::SqlitePool,
        reader: sqlx::SqlitePool,
        /// One connection that checkpoints the write-ahead log (see `sqlite::checkpointer`).
        checkpointer: std::sync::Arc<sqlite::checkpointer::Checkpointer>,
        creator: std::sync::Arc<sqlite::creator::CaseCreator>,
    },
    Postgres {
        pool: sqlx::PgPool,
    },
}

/// The database, behind one API for both backends. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

/// Calls the same-named function of the right backend module with the pool for a read or a
/// write. On SQLite, writes go to the single writer connection.
macro_rules! dispatch {
    ($self:ident, read, $f:ident($($arg:expr),*)) => {
        match &$self.backend {
            Backend::Sqlite { reader, .. } => sqlite::q::$f(reader, $($arg),*).await,
            Backend::Postgres { pool } => postgres::q::$f(pool, $($arg),*).await,
        }
    };
    ($self:ident, write, $f:ident($($arg:expr),*)) => {
        match &$self.backend {
            Backend::Sqlite { writer, .. } => sqlite::q::$f(writer, $($arg),*).await,
            Backend::Postgres { pool } => postgres::q::$f(pool, $($arg),*).await,
        }
    };
}

// Further `impl Store` blocks, after `dispatch!` so they can use it.
mod store_activities;
mod store_ai;
mod store_automation;
mod store_bench;
mod store_bulk;
pub(crate) mod store_channels;
mod store_csat;
pub(crate) mod store_email;
mod store_export;
mod store_files;
mod store_imap;
mod store_links;
mod store_milestones;
mod store_portal;
mod store_presence;
mod store_queues;
mod store_reports;
mod store_sessions;
mod store_sla;
mod store_time;
mod store_trash;
mod store_views;
mod store_visitors;
pub(crate) mod store_webhooks;
mod store_workflow;

pub use store_automation::RuleRun;
pub use store_channels::MakeChannelDeliveries;
pub use store_email::{MailContext, MakeEmails};
pub use store_portal::{PortalLink, PortalSession};
pub use store_presence::Presence;
pub use store_sessions::UiSession;
pub use store_time::{CaseTime, EntryFilter, TimeTotal, TimerChange, TotalsGroup};
pub use store_webhooks::MakeDeliveries;

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Reader connections on SQLite; all connections on PostgreSQL.
    pub max_connections: u32,
    /// A statement that runs longer is logged at warn level with its SQL (never its arguments).
    pub slow_statement: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 16, slow_statement: Duration::from_secs(1) }
    }
}

impl Store {
    /// Opens the database at `url`: `postgres://…` / `postgresql://…` for PostgreSQL, anything
    /// else (`sqlite://casedesk.db`, `casedesk.db`) for an SQLite file, created if missing.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url)?
                .application_name("casedesk")
                .log_slow_statements(log::LevelFilter::Warn, opts.slow_statement);
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .connect_with(connect)
                .await?;
            return Ok(Store { backend: Backend::Postgres { pool } });
        }
        let url = if url.starts_with("sqlite:") { url.to_string() } else { format!("sqlite://{url}") };
        let connect = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-8000")
            .pragma("temp_store", "memory")
            .log_slow_statements(log::LevelFilter::Warn, opts.slow_statement);
        // One writer: SQLite serialises writes anyway, and queueing in the pool is cheaper and
        // fairer than connections spinning on SQLITE_BUSY.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(connect.clone().pragma("wal_autocheckpoint", sqlite::checkpointer::WRITER_AUTOCHECKPOINT))
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.clamp(1, 64))
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(connect.clone().read_only(true))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(connect)
            .await?;
        let checkpointer = std::sync::Arc::new(sqlite::checkpointer::Checkpointer::start(checkpointer));
        let creator = std::sync::Arc::new(sqlite::creator::CaseCreator::start(writer.clone()));
        Ok(Store { backend: Backend::Sqlite { writer, reader, checkpointer, creator } })
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres { .. } => BackendKind::Postgres,
        }
    }

    /// Brings the schema up to date, then finishes any search-index rebuild a migration asked
    /// for. Safe to run from several instances at once.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => migrate::sqlite(writer).await?,
            Backend::Postgres { pool } => migrate::postgres(pool).await?,
        }
        self.rebuild_search_index(500).await
    }

    /// Rebuilds every case's search entry, `batch` cases per transaction (what a migration that
    /// changes the index's contents asks for).
    pub async fn reindex_search(&self, batch: i64) -> Result<()> {
        dispatch!(self, write, request_search_rebuild())?;
        self.rebuild_search_index(batch).await
    }

    /// Rebuilds the search entries of every case, a batch per transaction, from where the last
    /// run stopped, while `search_rebuild` says a rebuild is due. Instances running it together
    /// take turns batch by batch.
    async fn rebuild_search_index(&self, batch: i64) -> Result<()> {
        let started = std::time::Instant::now();
        let mut done = 0u64;
        while let Some(n) = dispatch!(self, write, rebuild_search_batch(batch))? {
            done += n;
            if n > 0 && done.is_multiple_of(50_000) {
                tracing::info!(cases = done, "rebuilding the search index");
            }
        }
        if done > 0 {
            tracing::info!(cases = done, seconds = started.elapsed().as_secs(), "search index rebuilt");
        }
        Ok(())
    }

    /// Answers whether the database is reachable (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, read, ping())
    }

    /// Refreshes the query planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<()> {
        dispatch!(self, write, analyze())
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writer, reader, checkpointer, .. } => {
                checkpointer.close().await;
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }

    // ---- organizations -------------------------------------------------------------------

    pub async fn count_orgs(&self) -> Result<i64> {
        dispatch!(self, read, count_orgs())
    }

    pub async fn insert_org(&self, org: &Org) -> Result<()> {
        dispatch!(self, write, insert_org(org))
    }

    /// Writes an organization's settings (name, time zone, auto-close, default SLA).
    pub async fn update_org(&self, org: &Org) -> Result<()> {
        dispatch!(self, write, update_org(org))
    }

    pub async fn get_org(&self, id: &str) -> Result<Org> {
        dispatch!(self, read, get_org(id))
    }

    // ---- users and tokens ----------------------------------------------------------------

    pub async fn insert_user(&self, user: &User, password_hash: Option<&str>) -> Result<()> {
        dispatch!(self, write, insert_user(user, password_hash))
    }

    pub async fn get_user(&self, org_id: &str, id: &str) -> Result<User> {
        dispatch!(self, read, get_user(org_id, id))
    }

    /// A user by id in any organization (for the admin CLI).
    pub async fn find_user(&self, id: &str) -> Result<User> {
        dispatch!(self, read, find_user(id))
    }

    pub async fn list_users(&self, org_id: &str, page: &PageRequest) -> Result<Page<User>> {
        dispatch!(self, read, list_users(org_id, page))
    }

    pub async fn update_user(&self, user: &User, password_hash: Option<&str>) -> Result<()> {
        dispatch!(self, write, update_user(user, password_hash))
    }

    pub async fn insert_token(&self, token: &ApiToken, token_hash: &str) -> Result<()> {
        dispatch!(self, write, insert_token(token, token_hash))
    }

    /// The token with this hash and its user, whatever their state (the caller checks expiry,
    /// revocation and whether the user is active).
    pub async fn find_token(&self, token_hash: &str) -> Result<Option<(ApiToken, User)>> {
        dispatch!(self, read, find_token(token_hash))
    }

    pub async fn touch_token(&self, id: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, touch_token(id, now))
    }

    pub async fn get_token(&self, org_id: &str, id: &str) -> Result<ApiToken> {
        dispatch!(self, read, get_token(org_id, id))
    }

    pub async fn list_tokens(&self, org_id: &str, user_id: Option<&str>, page: &PageRequest) -> Result<Page<ApiToken>> {
        dispatch!(self, read, list_tokens(org_id, user_id, page))
    }

    pub async fn revoke_token(&self, org_id: &str, id: &str, now: Timestamp) -> Result<()> {
        dispatch!(self, write, revoke_token(org_id, id, now))
    }

    // ---- accounts, contacts, queues ---------------------------------------------------------

    pub async fn insert_account(&self, a: &Account, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_account(a, idem))
    }

    pub async fn get_account(&self, org_id: &str, id: &str) -> Result<Account> {
        dispatch!(self, read, get_account(org_id, id))
    }

    pub async fn list_accounts(&self, org_id: &str, page: &PageRequest) -> Result<Page<Account>> {
        dispatch!(self, read, list_accounts(org_id, page))
    }

    pub async fn update_account(&self, a: &Account) -> Result<()> {
        dispatch!(self, write, update_account(a))
    }

    /// Deletes an account that no contact or case refers to ([`StoreError::InUse`] otherwise).
    pub async fn delete_account(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_account(org_id, id))
    }

    pub async fn insert_contact(&self, c: &Contact, idem: Option<&IdempotencyRecord>) -> Result<()> {
        dispatch!(self, write, insert_contact(c, idem))
    }

    pub async fn get_contact(&self, org_id: &str, id: &str) -> Result<Contact> {
        dispatch!(self, read, get_contact(org_id, id))
    }

    pub async fn list_contacts(
        &self,
        org_id: &str,
        filter: &ContactFilter,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        dispatch!(self, read, list_contacts(org_id, filter, page))
    }

    pub async fn update_contact(&self, c: &Contact) -> Result<()> {
        dispatch!(self, write, update_contact(c))
    }

    /// Deletes a contact that no case refers to ([`StoreError::InUse`] otherwise).
    pub async fn delete_contact(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_contact(org_id, id))
    }

    pub async fn exists(&self, kind: RefKind, org_id: &str, id: &str) -> Result<bool> {
        dispatch!(self, read, exists(kind, org_id, id))
    }

    /// The organization's settings and, for each `(kind, id)`, whether it exists there — in one
    /// query.
    pub async fn org_and_refs(&self, org_id: &str, refs: &[(RefKind, &str)]) -> Result<(Org, Vec<bool>)> {
        dispatch!(self, read, org_and_refs(org_id, refs))
    }

    /// For each `(kind, id)`, whether it exists in the organization — in one query.
    pub async fn exist_all(&self, org_id: &str, refs: &[(RefKind, &str)]) -> Result<Vec<bool>> {
        dispatch!(self, read, exist_all(org_id, refs))
    }

    // ---- cases ---------------------------------------------------------------------------

    /// Stores a new case: assigns its case number, writes its tags, index entry and `created`
    /// event, and records the idempotency key, all in one transaction. Returns the case with
    /// its number.
    /// `events` are written after the `created` one (SLA entries).
    pub async fn create_case(
        &self,
        case: &Case,
        events: &[NewEvent],
        idem: Option<&IdempotencyRecord>,
    ) -> Result<Case> {
        match &self.backend {
            // The batching creator writes the columns of the common case; one with SLA clocks,
            // skills, a problem link, a custom status or a funnel stage takes the general path.
            Backend::Sqlite { creator, .. }
                if case.sla.is_none()
                    && case.problem_id.is_none()
                    && case.required_skills.is_empty()
                    && case.custom_status_id.is_none()
                    && case.funnel_stage_id.is_none()
                    && case.category_id.is_none()
                    && events.is_empty() =>
            {
                let doc = casedesk_domain::search::SearchDoc::new(&case.subject, &case.description, []);
                let created = casedesk_domain::timeline::created(case, casedesk_domain::timeline::CASE_CREATED);
                let case_number = creator.create(case.clone(), doc, created, idem.cloned()).await?;
                Ok(Case { case_number, ..case.clone() })
            }
            Backend::Sqlite { writer, .. } => sqlite::q::create_case(writer, case, events, idem).await,
            Backend::Postgres { pool } => postgres::q::create_case(pool, case, events, idem).await,
        }
    }

    /// Writes a changed case if it is still at `expected_version` ([`StoreError::Stale`]
    /// otherwise), with its timeline events.
    pub async fn update_case(
        &self,
        case: &Case,
        expected_version: i64,
        events: &[NewEvent],
        actor_id: &str,
    ) -> Result<()> {
        dispatch!(self, write, update_case(case, expected_version, events, actor_id))
    }

    /// Hides a case from every list and lookup (it stays in the database for restore).
    pub async fn soft_delete_case(&self, case: &Case, now: Timestamp, actor_id: &str) -> Result<()> {
        dispatch!(self, write, soft_delete_case(case, now, actor_id))
    }

    pub async fn get_case(&self, org_id: &str, id: &str) -> Result<Case> {
        dispatch!(self, read, get_case(org_id, id))
    }

    /// A case with its account, contact, custom status and funnel stage (one query).
    pub async fn get_case_with_refs(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<(Case, Option<Account>, Option<Contact>, WorkflowSummary)> {
        dispatch!(self, read, get_case_with_refs(org_id, id))
    }

    /// The case as seen by the writer: use before an update, so a read replica's lag can never
    /// turn into a spurious conflict.
    pub async fn get_case_for_update(&self, org_id: &str, id: &str) -> Result<Case> {
        dispatch!(self, write, get_case(org_id, id))
    }

    pub async fn list_cases(&self, org_id: &str, req: &ListRequest) -> Result<Page<CaseListItem>> {
        dispatch!(self, read, list_cases(org_id, req))
    }

    /// Adds a comment and writes the case it changed (activity time, waiting flag) in one
    /// transaction, re-indexing the case's text.
    pub async fn add_comment(
        &self,
        comment: &Comment,
        case: &Case,
        expected_version: i64,
        events: &[NewEvent],
        idem: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        dispatch!(self, write, add_comment(comment, case, expected_version, events, idem))
    }

    pub async fn get_comment(&self, org_id: &str, id: &str) -> Result<Comment> {
        dispatch!(self, read, get_comment(org_id, id))
    }

    /// Every comment of these cases as `(case_id, comment_id, body)`, each case's oldest first.
    pub async fn comments_of(&self, org_id: &str, case_ids: &[String]) -> Result<Vec<(String, String, String)>> {
        dispatch!(self, read, comments_of(org_id, case_ids))
    }

    pub async fn list_comments(&self, org_id: &str, case_id: &str, page: &PageRequest) -> Result<Page<Comment>> {
        dispatch!(self, read, list_comments(org_id, case_id, page))
    }

    /// The organization's change feed after `after` (see [`FeedPage`]).
    pub async fn event_feed(&self, org_id: &str, after: Option<&str>, limit: u32) -> Result<FeedPage> {
        dispatch!(self, read, event_feed(org_id, after, limit))
    }

    pub async fn list_events(&self, org_id: &str, case_id: &str, page: &PageRequest) -> Result<Page<Event>> {
        dispatch!(self, read, list_events(org_id, case_id, page))
    }

    /// Imports historical cases with their comments and original times, in one transaction:
    /// all of them or none. The idempotency record, if any, is stored with `resource_id` set to
    /// the created cases as `id:case_number` pairs joined by commas.
    pub async fn import_cases(
        &self,
        org_id: &str,
        cases: &[ImportedCase],
        actor_id: &str,
        idem: Option<&IdempotencyRecord>,
    ) -> Result<Vec<Case>> {
        dispatch!(self, write, import_cases(org_id, cases, actor_id, idem))
    }

    pub async fn get_idempotency(&self, org_id: &str, user_id: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        dispatch!(self, read, get_idempotency(org_id, user_id, key))
    }

    pub async fn insert_idempotency(&self, rec: &IdempotencyRecord) -> Result<()> {
        dispatch!(self, write, insert_idempotency(rec))
    }
}
