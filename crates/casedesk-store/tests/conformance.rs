//! The store conformance suite: one set of scenarios, run on SQLite and on PostgreSQL.
//!
//! `Store` has two backends built from mostly shared SQL; this suite is what keeps them behaving
//! identically (DESIGN.md §1, "Two backends, one behaviour"). Every public `Store` method is
//! exercised by at least one scenario that asserts what it does, not merely that it succeeds.
//!
//! Layout:
//! - the harness ([`TestDb`]): a fresh database per test — an SQLite file in a temporary
//!   directory, or a fresh schema (`t_<hex>`) in the PostgreSQL database named by
//!   `CASEDESK_TEST_DATABASE_URL`, selected through the connection's `search_path` and dropped
//!   when the test ends (also after a panic). Without that variable the PostgreSQL tests skip
//!   locally and fail when `CI=true`, so CI can never skip them.
//!   `TestDb` derefs to `Store`, so scenarios take `&Store`; the one that must look behind the
//!   API (a password hash, which no `Store` method returns) takes `&TestDb`.
//! - the `conformance!` macro, which stamps out a `sqlite::<scenario>` and a
//!   `postgres::<scenario>` `#[tokio::test]` for every scenario, as tokio-rs/toasty's driver
//!   suite does.
//! - fixtures built with the domain's own constructors (`Case::create`, `Case::apply`,
//!   `case::import`, `Comment::new`, `Comment::historical`, `timeline::changes`,
//!   `timeline::case_after_comment`), at fixed timestamps (`t(n)` = a fixed instant + n seconds)
//!   so every ordering is deterministic.
//! - the scenarios, grouped like the `Store` API: housekeeping and organizations, users and
//!   tokens, accounts, contacts and queues, existence checks, cases, case lists (every filter,
//!   every ordering with keyset pages, summaries, cursors), comments and the timeline, imports,
//!   idempotency records, and concurrent writers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashSet};
use std::ops::Deref;
use std::path::PathBuf;

use casedesk_domain::calendar::{BusinessCalendar, CalendarInput, DayInput, HolidayInput, PeriodInput};
use casedesk_domain::case::{Case, CasePatch, CaseType, Ctx, ImportTimes, NewCase, Priority, Status};
use casedesk_domain::case_sla::{CaseSla, Setup};
use casedesk_domain::ids::IdKind;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering, Range};
use casedesk_domain::people::{Account, Availability, Contact, User};
use casedesk_domain::policy::Role;
use casedesk_domain::queue::AssignmentMethod;
use casedesk_domain::queue::{MemberRole, QueueMember};
use casedesk_domain::report;
use casedesk_domain::routing::{self, Request};
use casedesk_domain::signing_key::{KeyAlg, SigningKey};
use casedesk_domain::sla::{Policy, PolicyInput, RuleInput};
use casedesk_domain::time::{Source, StopReason, TimeEntry, TimeType, Timer, estimate_event};
use casedesk_domain::timeline::{self, AuthorType, Comment, Event, NewEvent};
use casedesk_store::{
    ApiToken, BackendKind, CalendarRecord, CaseTime, ConnectOptions, ContactFilter, EntryFilter, IdempotencyRecord,
    ImportedCase, Org, Page, PageRequest, PolicyRecord, Queue, RefKind, RoutedWrite, Store, StoreError, TimeTotal,
    TimerChange, TotalsGroup,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;

// ---- harness -----------------------------------------------------------------------------------

/// Direct access to the database under test, for what the `Store` API deliberately hides.
enum Raw {
    Sqlite { path: PathBuf, _dir: tempfile::TempDir },
    Postgres { admin: sqlx::PgPool, schema: String, store_url: String, _drop: DropSchema },
}

/// Drops a test's PostgreSQL schema when the test ends, also when its scenario panicked (then
/// [`TestDb::finish`] never runs).
struct DropSchema {
    url: String,
    schema: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs on the test's runtime, which cannot block on a future: use a thread with its own.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await.ok()?;
                // After a panic, the store's connections may still hold locks in this schema (a
                // dropped transaction rolls back only once the runtime, blocked here, runs again):
                // end exactly those backends, then drop the schema without waiting long.
                let _ = sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT l.pid FROM pg_locks l \
                     JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()) lockers",
                )
                .bind(&schema)
                .execute(&pool)
                .await;
                let sql = format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                pool.close().await;
                Some(())
            })
        });
        let _ = cleanup.join();
    }
}

/// A migrated, empty database for one test. Derefs to its [`Store`].
struct TestDb {
    store: Store,
    raw: Raw,
}

impl Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("casedesk.db");
        let store = Store::connect(path.to_str().expect("utf-8 temp path"), &ConnectOptions::default())
            .await
            .expect("open the SQLite store");
        store.migrate().await.expect("migrate SQLite");
        assert_eq!(store.kind(), BackendKind::Sqlite);
        TestDb { store, raw: Raw::Sqlite { path, _dir: dir } }
    }

    /// A fresh schema in the PostgreSQL test database, or `None` (a local skip) when
    /// `CASEDESK_TEST_DATABASE_URL` is unset.
    async fn postgres() -> Option<TestDb> {
        let url = match std::env::var("CASEDESK_TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "CASEDESK_TEST_DATABASE_URL is not set, but CI=true: the PostgreSQL conformance tests must run in CI \
                         (set it to e.g. postgres://postgres@127.0.0.1:5432/test)"
                    );
                }
                eprintln!("note: CASEDESK_TEST_DATABASE_URL is not set; skipping the PostgreSQL run of this scenario");
                return None;
            }
        };
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to CASEDESK_TEST_DATABASE_URL: {e}"));
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .expect("create the test schema");
        let drop = DropSchema { url: url.clone(), schema: schema.clone() };
        let sep = if url.contains('?') { '&' } else { '?' };
        let store_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
        let store = Store::connect(&store_url, &ConnectOptions { max_connections: 4, ..Default::default() })
            .await
            .expect("open the PostgreSQL store");
        store.migrate().await.expect("migrate PostgreSQL");
        assert_eq!(store.kind(), BackendKind::Postgres);
        Some(TestDb { store, raw: Raw::Postgres { admin, schema, store_url, _drop: drop } })
    }

    /// Another casedesk instance on the same database: a second PostgreSQL pool; on SQLite, the
    /// same store (one process owns an SQLite file).
    async fn another_instance(&self) -> Store {
        match &self.raw {
            Raw::Postgres { store_url, .. } => {
                Store::connect(store_url, &ConnectOptions { max_connections: 4, ..Default::default() })
                    .await
                    .expect("a second instance")
            }
            Raw::Sqlite { .. } => self.store.clone(),
        }
    }

    /// The stored password hash of a user (no `Store` method returns it).
    async fn password_hash(&self, user_id: &str) -> Option<String> {
        match &self.raw {
            Raw::Sqlite { path, .. } => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await
                    .expect("open SQLite");
                let hash = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&pool)
                    .await
                    .expect("read password_hash");
                pool.close().await;
                hash
            }
            Raw::Postgres { admin, schema, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT password_hash FROM {schema}.users WHERE id = $1"
            )))
            .bind(user_id)
            .fetch_one(admin)
            .await
            .expect("read password_hash"),
        }
    }

    /// Closes the store, checking that a closed store refuses work; dropping `self` then drops
    /// the PostgreSQL schema.
    async fn finish(self) {
        self.store.close().await;
        assert!(self.store.ping().await.is_err(), "a closed store answers no queries");
        if let Raw::Postgres { admin, .. } = &self.raw {
            admin.close().await;
        }
    }
}

/// Stamps out one SQLite and one PostgreSQL test per scenario.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance! {
    scenario_housekeeping,
    scenario_orgs,
    scenario_users,
    scenario_tokens,
    scenario_accounts,
    scenario_contacts,
    scenario_queues,
    scenario_exists,
    scenario_case_numbers_and_lookup,
    scenario_update_case_versions,
    scenario_tags_follow_updates,
    scenario_soft_delete,
    scenario_list_filters,
    scenario_full_text,
    scenario_orderings_and_keyset_pages,
    scenario_list_summaries,
    scenario_invalid_cursors,
    scenario_comments,
    scenario_events,
    scenario_import,
    scenario_import_is_all_or_nothing,
    scenario_idempotency,
    scenario_concurrent_writers,
    scenario_imported_comments_are_searchable,
    scenario_delete_refuses_other_orgs_records_as_not_found,
    scenario_search_finds_words_inside_addresses,
    scenario_search_ignores_diacritics,
    scenario_search_pages_in_creation_order,
    scenario_search_orders_by_relevance,
    scenario_relevance_follows_every_write,
    scenario_search_finds_cases_by_their_people,
    scenario_round_robin_is_exact_across_instances,
    scenario_routing_snapshot,
    scenario_calendars_and_policies,
    scenario_sla_columns_and_sweep_list,
    scenario_custom_statuses_and_funnel_stages,
    scenario_time_types_entries_and_totals,
    scenario_timers_and_estimates,
    scenario_files_and_attachments,
    scenario_event_feed,
    scenario_views_and_counts,
    scenario_trash_restore_and_purge,
    scenario_bulk_jobs_claims_and_leases,
    scenario_export_names_and_time,
    scenario_webhooks_and_their_outbox,
    scenario_ui_sessions_and_sign_in_failures,
    scenario_signing_keys,
    scenario_external_visitors_and_operational_counts,
    scenario_mail_settings_mailboxes_log_and_outbox,
    scenario_automation_rules_runs_and_cursor,
    scenario_time_rule_candidates_and_dry_run_scan,
    scenario_notifications_and_macros,
    scenario_ai_settings,
    scenario_feed_head_and_case_presence,
    scenario_report_days_follow_case_writes,
    scenario_a_burst_of_creates_keeps_totals_exact,
    scenario_csat_settings_surveys_and_answers,
    scenario_portal_links_sessions_and_scope,
    scenario_conversations_connectors_and_their_outbox,
    scenario_imap_mailboxes_claims_and_cursor,
}

// ---- fixtures ----------------------------------------------------------------------------------

/// A fixed instant plus `secs` seconds: every time in the suite is one of these.
fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).expect("valid timestamp")
}

/// Asserts that `$e` (a `Result`) failed with a `StoreError` matching `$p`.
macro_rules! assert_err {
    ($e:expr, $p:pat) => {
        match $e {
            Err($p) => {}
            Err(other) => panic!("expected {}, got error {other:?}", stringify!($p)),
            Ok(v) => panic!("expected {}, got Ok({v:?})", stringify!($p)),
        }
    };
}

/// An organization and its first user (an admin).
struct Tenant {
    org: String,
    admin: User,
}

fn org(name: &str, at: Timestamp) -> Org {
    Org {
        id: IdKind::Org.new_id(),
        name: name.into(),
        status: "active".into(),
        time_zone: "UTC".into(),
        auto_close_days: 4,
        default_sla: false,
        working_day_minutes: 480,
        created_at: at,
        updated_at: at,
    }
}

fn user(org_id: &str, email: &str, role: Role, at: Timestamp) -> User {
    User {
        id: IdKind::User.new_id(),
        org_id: org_id.into(),
        email: email.into(),
        name: email.split('@').next().unwrap_or(email).into(),
        role,
        availability: Availability::Available,
        max_open_cases: None,
        is_active: true,
        created_at: at,
        updated_at: at,
    }
}

/// Inserts an organization named `name` with an admin `admin@<name>.example` created at `t(0)`.
async fn tenant(store: &Store, name: &str) -> Tenant {
    let o = org(name, t(0));
    store.insert_org(&o).await.unwrap();
    let admin = user(&o.id, &format!("admin@{}.example", name.to_lowercase()), Role::Admin, t(0));
    store.insert_user(&admin, Some("$argon2id$admin")).await.unwrap();
    Tenant { org: o.id, admin }
}

fn account(org_id: &str, name: &str, tier: Option<&str>, at: Timestamp) -> Account {
    Account {
        id: IdKind::Account.new_id(),
        org_id: org_id.into(),
        name: name.into(),
        domain: Some(format!("{}.example", name.to_lowercase())),
        tier: tier.map(Into::into),
        portal_shares_cases: false,
        created_at: at,
        updated_at: at,
    }
}

fn contact(org_id: &str, name: &str, account_id: Option<&str>, at: Timestamp) -> Contact {
    Contact {
        id: IdKind::Contact.new_id(),
        org_id: org_id.into(),
        account_id: account_id.map(Into::into),
        name: name.into(),
        email: Some(format!("{}@customer.example", name.to_lowercase())),
        phone: None,
        external_id: None,
        created_at: at,
        updated_at: at,
    }
}

fn queue(org_id: &str, name: &str, at: Timestamp) -> Queue {
    Queue {
        name: name.into(),
        description: format!("the {name} queue"),
        ..Queue::blank(IdKind::Queue.new_id(), org_id.into(), at)
    }
}

fn subject(s: &str) -> NewCase {
    NewCase { subject: s.into(), ..Default::default() }
}

/// A new case built by the domain (`case_number` still 0).
fn new_case(org_id: &str, actor: &str, now: Timestamp, input: NewCase) -> Case {
    let tz = TimeZone::UTC;
    Case::create(input, &Ctx { org_id, actor_id: actor, now, tz: &tz }).expect("a valid new case")
}

/// Builds a case with the domain and stores it; returns it with its number.
async fn create(store: &Store, org_id: &str, actor: &str, now: Timestamp, input: NewCase) -> Case {
    let case = store.create_case(&new_case(org_id, actor, now, input), &[], None).await.unwrap();
    assert!(case.case_number > 0);
    case
}

/// Applies `patch` with the domain and stores the result with its timeline events.
async fn change(store: &Store, case: &Case, actor: &str, now: Timestamp, patch: CasePatch) -> Case {
    let tz = TimeZone::UTC;
    let (next, changes) =
        case.apply(patch, &Ctx { org_id: &case.org_id, actor_id: actor, now, tz: &tz }).expect("a valid patch");
    assert!(!changes.is_empty(), "the patch changes something");
    store.update_case(&next, case.version, &timeline::changes(&changes, now), actor).await.unwrap();
    next
}

/// Adds a comment with the domain's rules; returns the comment and the case it changed.
async fn comment(
    store: &Store,
    case: &Case,
    author: &str,
    body: &str,
    internal: bool,
    now: Timestamp,
) -> (Comment, Case) {
    let c = Comment::new(&case.org_id, case, author, body, internal, AuthorType::Agent, now).expect("a valid comment");
    let next = timeline::case_after_comment(case, &c, author);
    store.add_comment(&c, &next, case.version, &[], None).await.unwrap();
    (c, next)
}

/// Walks a simple list from its first page to its last, checking that every page but the last
/// is full and that no item appears twice.
async fn walk<T: std::fmt::Debug>(
    limit: u32,
    id: impl Fn(&T) -> String,
    mut fetch: impl AsyncFnMut(PageRequest) -> Result<Page<T>, StoreError>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = fetch(PageRequest { limit, cursor: cursor.take() }).await.unwrap();
        assert!(page.items.len() <= limit as usize, "a page holds at most `limit` items");
        if page.next_cursor.is_some() {
            assert_eq!(page.items.len(), limit as usize, "a page with a next cursor is full");
        }
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => {
                let ids: Vec<String> = out.iter().map(&id).collect();
                assert_unique(&ids);
                return out;
            }
        }
    }
    panic!("pagination did not end");
}

fn assert_unique(ids: &[String]) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "no item appears twice: {ids:?}");
}

fn list(filter: CaseFilter) -> ListRequest {
    ListRequest { filter, ordering: Ordering::CreatedDesc, limit: 200, cursor: None }
}

/// The ids of one page of cases (all of them with the default limit of 200).
async fn case_ids(store: &Store, org_id: &str, filter: CaseFilter) -> Vec<String> {
    let page = store.list_cases(org_id, &list(filter)).await.unwrap();
    assert!(page.next_cursor.is_none());
    page.items.into_iter().map(|i| i.case.id).collect()
}

/// Every case matching `filter` in `ordering`, fetched `limit` at a time.
async fn walk_cases(store: &Store, org_id: &str, filter: &CaseFilter, ordering: Ordering, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let req = ListRequest { filter: filter.clone(), ordering, limit, cursor: cursor.take() };
        let page = store.list_cases(org_id, &req).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        if page.next_cursor.is_some() {
            assert_eq!(page.items.len(), limit as usize, "a page with a next cursor is full");
        }
        out.extend(page.items.into_iter().map(|i| i.case.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => {
                assert_unique(&out);
                return out;
            }
        }
    }
    panic!("pagination did not end");
}

fn ids_of(cases: &[&Case]) -> BTreeSet<String> {
    cases.iter().map(|c| c.id.clone()).collect()
}

fn set(ids: Vec<String>) -> BTreeSet<String> {
    let n = ids.len();
    let s: BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(s.len(), n, "no case listed twice");
    s
}

// ---- scenarios: housekeeping and organizations -------------------------------------------------

/// ping, analyze, kind, and a second migrate that changes nothing.
async fn scenario_housekeeping(store: &Store) {
    store.ping().await.unwrap();
    let a = tenant(store, "Acme").await;
    let case = create(store, &a.org, &a.admin.id, t(1), subject("still here after a second migrate")).await;
    store.analyze().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap(), case);
    assert_eq!(store.count_orgs().await.unwrap(), 1);
    assert!(matches!(store.kind(), BackendKind::Sqlite | BackendKind::Postgres));
}

async fn scenario_orgs(store: &Store) {
    assert_eq!(store.count_orgs().await.unwrap(), 0, "a fresh database has no organization");
    let a = org("Acme", t(1));
    let b =
        Org { status: "suspended".into(), time_zone: "Europe/Lisbon".into(), updated_at: t(5), ..org("Globex", t(2)) };
    store.insert_org(&a).await.unwrap();
    assert_eq!(store.count_orgs().await.unwrap(), 1);
    store.insert_org(&b).await.unwrap();
    assert_eq!(store.count_orgs().await.unwrap(), 2);
    assert_eq!(store.get_org(&a.id).await.unwrap(), a);
    assert_eq!(store.get_org(&b.id).await.unwrap(), b);
    assert_err!(store.get_org("org_missing").await, StoreError::NotFound);
    assert_err!(store.insert_org(&a).await, StoreError::Duplicate(_));
    assert_eq!(store.count_orgs().await.unwrap(), 2);
}

// ---- scenarios: users and tokens ---------------------------------------------------------------

async fn scenario_users(db: &TestDb) {
    let store: &Store = db;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;

    // Five more users in Acme; three share a creation time, so the id breaks the tie.
    let mut users = vec![a.admin.clone()];
    for (i, at) in [t(10), t(20), t(20), t(20), t(30)].into_iter().enumerate() {
        let u = user(&a.org, &format!("agent{i}@acme.example"), Role::Agent, at);
        store.insert_user(&u, None).await.unwrap();
        users.push(u);
    }
    for u in &users {
        assert_eq!(&store.get_user(&a.org, &u.id).await.unwrap(), u);
        assert_eq!(&store.find_user(&u.id).await.unwrap(), u, "find_user looks in any organization");
    }
    assert_eq!(store.find_user(&b.admin.id).await.unwrap(), b.admin);
    assert_err!(store.get_user(&b.org, &users[1].id).await, StoreError::NotFound);
    assert_err!(store.get_user(&a.org, "usr_missing").await, StoreError::NotFound);
    assert_err!(store.find_user("usr_missing").await, StoreError::NotFound);

    // Newest first by (created_at, id), over pages of two, with no overlap.
    let mut expected = users.clone();
    expected.sort_by(|x, y| (y.created_at, &y.id).cmp(&(x.created_at, &x.id)));
    let listed = walk(2, |u: &User| u.id.clone(), async |p| store.list_users(&a.org, &p).await).await;
    assert_eq!(listed, expected);
    let first = store.list_users(&a.org, &PageRequest::first(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.next_cursor.is_some());
    let all = store.list_users(&a.org, &PageRequest::first(6)).await.unwrap();
    assert_eq!(all.items.len(), 6);
    assert!(all.next_cursor.is_none(), "an exactly full last page has no next cursor");
    let globex = store.list_users(&b.org, &PageRequest::first(50)).await.unwrap();
    assert_eq!(globex.items, vec![b.admin.clone()], "another organization's users are not listed");

    // Update: every field, and the password hash only when one is given.
    assert_eq!(db.password_hash(&a.admin.id).await.as_deref(), Some("$argon2id$admin"));
    let mut admin = a.admin.clone();
    admin.name = "Ana Admin".into();
    admin.email = "ana@acme.example".into();
    admin.availability = Availability::Away;
    admin.updated_at = t(40);
    store.update_user(&admin, None).await.unwrap();
    assert_eq!(store.get_user(&a.org, &admin.id).await.unwrap(), admin);
    assert_eq!(db.password_hash(&admin.id).await.as_deref(), Some("$argon2id$admin"), "None keeps the hash (COALESCE)");
    store.update_user(&admin, Some("$argon2id$new")).await.unwrap();
    assert_eq!(db.password_hash(&admin.id).await.as_deref(), Some("$argon2id$new"));
    assert_eq!(db.password_hash(&users[1].id).await, None, "a user inserted without a password has no hash");

    let mut agent = users[1].clone();
    agent.role = Role::Admin;
    agent.availability = Availability::Offline;
    agent.is_active = false;
    agent.updated_at = t(41);
    store.update_user(&agent, Some("$argon2id$agent")).await.unwrap();
    assert_eq!(store.get_user(&a.org, &agent.id).await.unwrap(), agent);
    assert_eq!(db.password_hash(&agent.id).await.as_deref(), Some("$argon2id$agent"));

    let ghost = user(&a.org, "ghost@acme.example", Role::Agent, t(1));
    assert_err!(store.update_user(&ghost, None).await, StoreError::NotFound);
    let mut foreign = b.admin.clone();
    foreign.org_id = a.org.clone();
    foreign.name = "hijacked".into();
    assert_err!(store.update_user(&foreign, None).await, StoreError::NotFound);
    assert_eq!(store.get_user(&b.org, &b.admin.id).await.unwrap(), b.admin, "another org's user is untouched");

    // An email is taken once.
    let dup = user(&a.org, "agent0@acme.example", Role::Agent, t(50));
    assert_err!(store.insert_user(&dup, None).await, StoreError::Duplicate(_));
    assert_err!(store.get_user(&a.org, &dup.id).await, StoreError::NotFound);
    let mut clash = users[2].clone();
    clash.email = admin.email.clone();
    assert_err!(store.update_user(&clash, None).await, StoreError::Duplicate(_));
}

fn token(org_id: &str, user_id: &str, name: &str, at: Timestamp) -> ApiToken {
    ApiToken {
        id: IdKind::Token.new_id(),
        org_id: org_id.into(),
        user_id: user_id.into(),
        name: name.into(),
        prefix: format!("cd_{name}"),
        created_at: at,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    }
}

async fn scenario_tokens(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(1));
    store.insert_user(&agent, None).await.unwrap();

    let mut admin_tokens = Vec::new();
    for i in 0..3 {
        let mut tok = token(&a.org, &a.admin.id, &format!("admin{i}"), t(10 + i));
        if i == 0 {
            tok.expires_at = Some(t(100_000));
        }
        store.insert_token(&tok, &format!("hash-admin-{i}")).await.unwrap();
        admin_tokens.push(tok);
    }
    let agent_token = token(&a.org, &agent.id, "agent", t(12));
    store.insert_token(&agent_token, "hash-agent").await.unwrap();
    let globex_token = token(&b.org, &b.admin.id, "globex", t(13));
    store.insert_token(&globex_token, "hash-globex").await.unwrap();

    // find_token: the token and its user, by hash.
    let (found, found_user) = store.find_token("hash-admin-0").await.unwrap().expect("a known hash");
    assert_eq!(found, admin_tokens[0]);
    assert_eq!(found_user, a.admin);
    let (found, found_user) = store.find_token("hash-agent").await.unwrap().expect("a known hash");
    assert_eq!((found, found_user), (agent_token.clone(), agent.clone()));
    assert!(store.find_token("hash-unknown").await.unwrap().is_none());
    let dup = token(&a.org, &a.admin.id, "dup", t(14));
    assert_err!(store.insert_token(&dup, "hash-agent").await, StoreError::Duplicate(_));

    // get_token, scoped by organization.
    assert_eq!(store.get_token(&a.org, &admin_tokens[1].id).await.unwrap(), admin_tokens[1]);
    assert_err!(store.get_token(&b.org, &admin_tokens[1].id).await, StoreError::NotFound);
    assert_err!(store.get_token(&a.org, "tok_missing").await, StoreError::NotFound);

    // touch_token records the last use.
    store.touch_token(&agent_token.id, t(20)).await.unwrap();
    assert_eq!(store.get_token(&a.org, &agent_token.id).await.unwrap().last_used_at, Some(t(20)));
    store.touch_token(&agent_token.id, t(21)).await.unwrap();
    let touched = store.get_token(&a.org, &agent_token.id).await.unwrap();
    assert_eq!(touched, ApiToken { last_used_at: Some(t(21)), ..agent_token.clone() });
    assert_eq!(store.find_token("hash-agent").await.unwrap().expect("found").0.last_used_at, Some(t(21)));

    // list_tokens: newest first, optionally one user's, never another org's.
    let all = walk(2, |t: &ApiToken| t.id.clone(), async |p| store.list_tokens(&a.org, None, &p).await).await;
    let all_ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    let mut expected = [&admin_tokens[0], &admin_tokens[1], &admin_tokens[2], &agent_token];
    expected.sort_by(|x, y| (y.created_at, &y.id).cmp(&(x.created_at, &x.id)));
    assert_eq!(all_ids, expected.iter().map(|t| t.id.as_str()).collect::<Vec<_>>());
    let admins =
        walk(2, |t: &ApiToken| t.id.clone(), async |p| store.list_tokens(&a.org, Some(&a.admin.id), &p).await).await;
    assert_eq!(admins, vec![admin_tokens[2].clone(), admin_tokens[1].clone(), admin_tokens[0].clone()]);
    let agents = store.list_tokens(&a.org, Some(&agent.id), &PageRequest::first(10)).await.unwrap();
    assert_eq!(agents.items.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec![agent_token.id.clone()]);
    let none = store.list_tokens(&a.org, Some(&b.admin.id), &PageRequest::first(10)).await.unwrap();
    assert!(none.items.is_empty(), "another org's user has no tokens here");
    let globex = store.list_tokens(&b.org, None, &PageRequest::first(10)).await.unwrap();
    assert_eq!(globex.items, vec![globex_token.clone()]);

    // revoke_token: stamps the first revocation time; again is a no-op; unknown is NotFound.
    store.revoke_token(&a.org, &admin_tokens[1].id, t(30)).await.unwrap();
    assert_eq!(store.get_token(&a.org, &admin_tokens[1].id).await.unwrap().revoked_at, Some(t(30)));
    store.revoke_token(&a.org, &admin_tokens[1].id, t(40)).await.unwrap();
    assert_eq!(
        store.get_token(&a.org, &admin_tokens[1].id).await.unwrap().revoked_at,
        Some(t(30)),
        "revoking is idempotent"
    );
    assert_eq!(store.find_token("hash-admin-1").await.unwrap().expect("still found").0.revoked_at, Some(t(30)));
    assert_eq!(
        store.get_token(&a.org, &admin_tokens[0].id).await.unwrap().revoked_at,
        None,
        "other tokens are untouched"
    );
    assert_err!(store.revoke_token(&a.org, "tok_missing", t(30)).await, StoreError::NotFound);
    assert_err!(store.revoke_token(&b.org, &admin_tokens[0].id, t(30)).await, StoreError::NotFound);
    assert_eq!(store.get_token(&a.org, &admin_tokens[0].id).await.unwrap().revoked_at, None);
}

// ---- scenarios: accounts, contacts, queues -----------------------------------------------------

async fn scenario_accounts(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let mut accounts = Vec::new();
    for (i, name) in ["Initech", "Umbrella", "Hooli", "Stark"].into_iter().enumerate() {
        let acc = account(&a.org, name, (i % 2 == 0).then_some("gold"), t(i as i64 + 1));
        store.insert_account(&acc, None).await.unwrap();
        accounts.push(acc);
    }
    let other = account(&b.org, "Wayne", None, t(1));
    store.insert_account(&other, None).await.unwrap();
    assert_err!(store.insert_account(&accounts[0], None).await, StoreError::Duplicate(_));

    for acc in &accounts {
        assert_eq!(&store.get_account(&a.org, &acc.id).await.unwrap(), acc);
    }
    assert_err!(store.get_account(&a.org, &other.id).await, StoreError::NotFound);
    assert_err!(store.get_account(&a.org, "acc_missing").await, StoreError::NotFound);

    let listed = walk(3, |x: &Account| x.id.clone(), async |p| store.list_accounts(&a.org, &p).await).await;
    let mut expected = accounts.clone();
    expected.reverse();
    assert_eq!(listed, expected, "newest first, only this organization's");

    let updated = Account {
        name: "Initech Corp".into(),
        domain: None,
        tier: Some("vip".into()),
        updated_at: t(50),
        ..accounts[0].clone()
    };
    store.update_account(&updated).await.unwrap();
    assert_eq!(store.get_account(&a.org, &updated.id).await.unwrap(), updated);
    let foreign = Account { org_id: a.org.clone(), name: "hijacked".into(), ..other.clone() };
    assert_err!(store.update_account(&foreign).await, StoreError::NotFound);
    assert_eq!(store.get_account(&b.org, &other.id).await.unwrap(), other);

    // In use by a contact.
    let k = contact(&a.org, "Kim", Some(&accounts[1].id), t(10));
    store.insert_contact(&k, None).await.unwrap();
    assert_err!(store.delete_account(&a.org, &accounts[1].id).await, StoreError::InUse(_));
    // In use by a case (and by no contact).
    let case = create(
        store,
        &a.org,
        &a.admin.id,
        t(11),
        NewCase { account_id: Some(accounts[2].id.clone()), ..subject("account case") },
    )
    .await;
    assert_err!(store.delete_account(&a.org, &accounts[2].id).await, StoreError::InUse(_));
    assert_eq!(
        store.get_account(&a.org, &accounts[2].id).await.unwrap(),
        accounts[2],
        "a refused delete keeps the account"
    );

    // Once nothing refers to it, it can go.
    let k2 = Contact { account_id: None, updated_at: t(12), ..k.clone() };
    store.update_contact(&k2).await.unwrap();
    store.delete_account(&a.org, &accounts[1].id).await.unwrap();
    assert_err!(store.get_account(&a.org, &accounts[1].id).await, StoreError::NotFound);
    change(store, &case, &a.admin.id, t(13), CasePatch { account_id: Some(None), ..Default::default() }).await;
    store.delete_account(&a.org, &accounts[2].id).await.unwrap();
    assert_err!(store.get_account(&a.org, &accounts[2].id).await, StoreError::NotFound);

    store.delete_account(&a.org, &accounts[3].id).await.unwrap();
    assert_err!(store.delete_account(&a.org, &accounts[3].id).await, StoreError::NotFound);
    assert_err!(store.delete_account(&a.org, "acc_missing").await, StoreError::NotFound);
    assert_err!(store.delete_account(&a.org, &other.id).await, StoreError::NotFound);
    assert_eq!(store.get_account(&b.org, &other.id).await.unwrap(), other, "another org's account is not deleted");
    let left = store.list_accounts(&a.org, &PageRequest::first(10)).await.unwrap();
    assert_eq!(left.items, vec![updated]);
}

async fn scenario_contacts(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let acc = account(&a.org, "Initech", None, t(1));
    let acc2 = account(&a.org, "Hooli", None, t(1));
    store.insert_account(&acc, None).await.unwrap();
    store.insert_account(&acc2, None).await.unwrap();

    let kim = Contact {
        external_id: Some("ext-1".into()),
        phone: Some("+351 900 000 001".into()),
        ..contact(&a.org, "Kim", Some(&acc.id), t(2))
    };
    let lee = contact(&a.org, "Lee", Some(&acc.id), t(3));
    let max = Contact { external_id: Some("ext-2".into()), ..contact(&a.org, "Max", Some(&acc2.id), t(4)) };
    let ned = Contact { email: None, ..contact(&a.org, "Ned", None, t(5)) };
    let zed = Contact { external_id: Some("ext-1".into()), ..contact(&b.org, "Kim", None, t(6)) };
    for c in [&kim, &lee, &max, &ned, &zed] {
        store.insert_contact(c, None).await.unwrap();
    }
    assert_err!(store.insert_contact(&kim, None).await, StoreError::Duplicate(_));
    assert_eq!(store.get_contact(&a.org, &kim.id).await.unwrap(), kim);
    assert_eq!(store.get_contact(&a.org, &ned.id).await.unwrap(), ned);
    assert_err!(store.get_contact(&a.org, &zed.id).await, StoreError::NotFound);
    assert_err!(store.get_contact(&b.org, &kim.id).await, StoreError::NotFound);

    let all =
        walk(2, |c: &Contact| c.id.clone(), async |p| store.list_contacts(&a.org, &ContactFilter::default(), &p).await)
            .await;
    assert_eq!(all, vec![ned.clone(), max.clone(), lee.clone(), kim.clone()]);

    let by_account = ContactFilter { account_id: Some(acc.id.clone()), ..Default::default() };
    let listed =
        walk(1, |c: &Contact| c.id.clone(), async |p| store.list_contacts(&a.org, &by_account, &p).await).await;
    assert_eq!(listed, vec![lee.clone(), kim.clone()]);
    let by_email = ContactFilter { email: Some("max@customer.example".into()), ..Default::default() };
    assert_eq!(store.list_contacts(&a.org, &by_email, &PageRequest::first(10)).await.unwrap().items, vec![max.clone()]);
    let by_external = ContactFilter { external_id: Some("ext-1".into()), ..Default::default() };
    assert_eq!(
        store.list_contacts(&a.org, &by_external, &PageRequest::first(10)).await.unwrap().items,
        vec![kim.clone()]
    );
    assert_eq!(
        store.list_contacts(&b.org, &by_external, &PageRequest::first(10)).await.unwrap().items,
        vec![zed.clone()]
    );
    let both = ContactFilter {
        account_id: Some(acc.id.clone()),
        email: Some("lee@customer.example".into()),
        external_id: None,
        phone: None,
    };
    assert_eq!(store.list_contacts(&a.org, &both, &PageRequest::first(10)).await.unwrap().items, vec![lee.clone()]);
    let mismatch =
        ContactFilter { account_id: Some(acc2.id.clone()), external_id: Some("ext-1".into()), ..Default::default() };
    assert!(store.list_contacts(&a.org, &mismatch, &PageRequest::first(10)).await.unwrap().items.is_empty());

    let moved = Contact {
        account_id: Some(acc2.id.clone()),
        name: "Lee Park".into(),
        email: None,
        phone: Some("123".into()),
        external_id: Some("ext-9".into()),
        updated_at: t(20),
        ..lee.clone()
    };
    store.update_contact(&moved).await.unwrap();
    assert_eq!(store.get_contact(&a.org, &lee.id).await.unwrap(), moved);
    // By phone, however the number is written: its key is kept with every write.
    let by_phone = |p: &str| ContactFilter { phone: Some(p.into()), ..Default::default() };
    let ned_phone = Contact { phone: Some("+1 (415) 555-0100".into()), updated_at: t(21), ..ned.clone() };
    store.update_contact(&ned_phone).await.unwrap();
    for written in ["415.555.0100", "0014155550100", "+14155550100"] {
        let found = store.list_contacts(&a.org, &by_phone(written), &PageRequest::first(10)).await.unwrap().items;
        assert_eq!(found, vec![ned_phone.clone()], "{written}");
    }
    assert!(
        store.list_contacts(&b.org, &by_phone("4155550100"), &PageRequest::first(10)).await.unwrap().items.is_empty()
    );
    assert!(store.list_contacts(&a.org, &by_phone("12"), &PageRequest::first(10)).await.unwrap().items.is_empty());
    let lee_phone = store.list_contacts(&a.org, &by_phone("1-2-3"), &PageRequest::first(10)).await.unwrap().items;
    assert!(lee_phone.is_empty(), "three digits identify no one");
    assert_eq!(
        store.list_contacts(&a.org, &by_account, &PageRequest::first(10)).await.unwrap().items,
        vec![kim.clone()]
    );
    let foreign = Contact { org_id: a.org.clone(), name: "hijacked".into(), ..zed.clone() };
    assert_err!(store.update_contact(&foreign).await, StoreError::NotFound);
    assert_eq!(store.get_contact(&b.org, &zed.id).await.unwrap(), zed);

    // Refused while a case refers to the contact, as its contact or as its requester.
    let case = create(
        store,
        &a.org,
        &a.admin.id,
        t(30),
        NewCase { contact_id: Some(kim.id.clone()), ..subject("kim's case") },
    )
    .await;
    assert_err!(store.delete_contact(&a.org, &kim.id).await, StoreError::InUse(_));
    create(store, &a.org, &a.admin.id, t(31), NewCase { requester_id: Some(max.id.clone()), ..subject("max asked") })
        .await;
    assert_err!(store.delete_contact(&a.org, &max.id).await, StoreError::InUse(_));
    assert_eq!(store.get_contact(&a.org, &kim.id).await.unwrap(), kim, "a refused delete keeps the contact");
    change(store, &case, &a.admin.id, t(32), CasePatch { contact_id: Some(None), ..Default::default() }).await;
    store.delete_contact(&a.org, &kim.id).await.unwrap();
    assert_err!(store.get_contact(&a.org, &kim.id).await, StoreError::NotFound);
    assert_err!(store.delete_contact(&a.org, &kim.id).await, StoreError::NotFound);
    assert_err!(store.delete_contact(&a.org, &zed.id).await, StoreError::NotFound);
    assert_eq!(store.get_contact(&b.org, &zed.id).await.unwrap(), zed, "another org's contact is not deleted");
}

async fn scenario_queues(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let mut queues = Vec::new();
    for (i, name) in ["tier1", "tier2", "billing"].into_iter().enumerate() {
        let q = queue(&a.org, name, t(i as i64 + 1));
        store.insert_queue(&q, None).await.unwrap();
        queues.push(q);
    }
    let other = queue(&b.org, "tier1", t(1));
    store.insert_queue(&other, None).await.unwrap();
    assert_err!(store.insert_queue(&queues[0], None).await, StoreError::Duplicate(_));
    assert_eq!(store.get_queue(&a.org, &queues[1].id).await.unwrap(), queues[1]);
    assert_err!(store.get_queue(&a.org, &other.id).await, StoreError::NotFound);
    assert_err!(store.get_queue(&a.org, "q_missing").await, StoreError::NotFound);

    let listed = walk(2, |q: &Queue| q.id.clone(), async |p| store.list_queues(&a.org, &p).await).await;
    assert_eq!(listed, vec![queues[2].clone(), queues[1].clone(), queues[0].clone()]);

    let renamed = Queue {
        name: "Tier 1".into(),
        description: "first line".into(),
        assignment_method: AssignmentMethod::RoundRobin,
        vip_tiers: vec!["gold".into()],
        vip_priority: Some(Priority::High),
        updated_at: t(9),
        ..queues[0].clone()
    };
    store.update_queue(&renamed).await.unwrap();
    assert_eq!(store.get_queue(&a.org, &renamed.id).await.unwrap(), renamed);
    let foreign = Queue { org_id: a.org.clone(), ..other.clone() };
    assert_err!(store.update_queue(&foreign).await, StoreError::NotFound);

    let case = create(
        store,
        &a.org,
        &a.admin.id,
        t(10),
        NewCase { queue_id: Some(queues[0].id.clone()), ..subject("queued") },
    )
    .await;
    assert_err!(store.delete_queue(&a.org, &queues[0].id).await, StoreError::InUse(_));
    assert_eq!(store.get_queue(&a.org, &queues[0].id).await.unwrap(), renamed);
    change(
        store,
        &case,
        &a.admin.id,
        t(11),
        CasePatch { queue_id: Some(Some(queues[1].id.clone())), ..Default::default() },
    )
    .await;
    store.delete_queue(&a.org, &queues[0].id).await.unwrap();
    assert_err!(store.get_queue(&a.org, &queues[0].id).await, StoreError::NotFound);
    assert_err!(store.delete_queue(&a.org, &queues[1].id).await, StoreError::InUse(_));
    assert_err!(store.delete_queue(&a.org, &queues[0].id).await, StoreError::NotFound);
    assert_err!(store.delete_queue(&a.org, &other.id).await, StoreError::NotFound);
    assert_eq!(store.get_queue(&b.org, &other.id).await.unwrap(), other);
}

async fn scenario_exists(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let acc = account(&a.org, "Initech", None, t(1));
    store.insert_account(&acc, None).await.unwrap();
    let k = contact(&a.org, "Kim", None, t(1));
    store.insert_contact(&k, None).await.unwrap();
    let q = queue(&a.org, "tier1", t(1));
    store.insert_queue(&q, None).await.unwrap();
    let case = create(store, &a.org, &a.admin.id, t(2), subject("exists")).await;

    for (kind, id) in [
        (RefKind::User, &a.admin.id),
        (RefKind::Account, &acc.id),
        (RefKind::Contact, &k.id),
        (RefKind::Queue, &q.id),
        (RefKind::Case, &case.id),
    ] {
        assert!(store.exists(kind, &a.org, id).await.unwrap(), "{kind:?} {id} exists in its org");
        assert!(!store.exists(kind, &b.org, id).await.unwrap(), "{kind:?} {id} does not exist for another org");
        assert!(!store.exists(kind, &a.org, "x_missing").await.unwrap(), "{kind:?}: a missing id");
    }
    // Kinds are not interchangeable.
    assert!(!store.exists(RefKind::Contact, &a.org, &acc.id).await.unwrap());
    assert!(!store.exists(RefKind::User, &a.org, &k.id).await.unwrap());
    // A deactivated user cannot be referred to; a deleted case is gone.
    let gone = User { is_active: false, updated_at: t(3), ..user(&a.org, "gone@acme.example", Role::Agent, t(1)) };
    store.insert_user(&gone, None).await.unwrap();
    assert!(!store.exists(RefKind::User, &a.org, &gone.id).await.unwrap(), "an inactive user does not count");
    store.soft_delete_case(&case, t(4), &a.admin.id).await.unwrap();
    assert!(!store.exists(RefKind::Case, &a.org, &case.id).await.unwrap(), "a deleted case does not count");
}

// ---- scenarios: cases --------------------------------------------------------------------------

async fn scenario_case_numbers_and_lookup(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let mut acme = Vec::new();
    let mut globex = Vec::new();
    for i in 0..3 {
        acme.push(create(store, &a.org, &a.admin.id, t(2 * i), subject(&format!("acme {i}"))).await);
        globex.push(create(store, &b.org, &b.admin.id, t(2 * i + 1), subject(&format!("globex {i}"))).await);
    }
    assert_eq!(acme.iter().map(|c| c.case_number).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(globex.iter().map(|c| c.case_number).collect::<Vec<_>>(), vec![1, 2, 3], "each org counts on its own");

    for c in acme.iter().chain(&globex) {
        let stored = store.get_case(&c.org_id, &c.id).await.unwrap();
        assert_eq!(&stored, c, "the stored case is the case created");
        assert_eq!(&store.get_case_for_update(&c.org_id, &c.id).await.unwrap(), c);
    }
    assert_err!(store.get_case(&b.org, &acme[0].id).await, StoreError::NotFound);
    assert_err!(store.get_case_for_update(&b.org, &acme[0].id).await, StoreError::NotFound);
    assert_err!(store.get_case(&a.org, "case_missing").await, StoreError::NotFound);

    // Every field survives the round trip.
    let q = queue(&a.org, "tier1", t(10));
    store.insert_queue(&q, None).await.unwrap();
    let acc = account(&a.org, "Initech", Some("gold"), t(10));
    store.insert_account(&acc, None).await.unwrap();
    let k = contact(&a.org, "Kim", Some(&acc.id), t(10));
    store.insert_contact(&k, None).await.unwrap();
    let mut custom = serde_json::Map::new();
    custom.insert("order".into(), json!({"id": 4521, "items": ["a", "b"]}));
    custom.insert("vip".into(), json!(true));
    let full = create(
        store,
        &a.org,
        &a.admin.id,
        t(11),
        NewCase {
            subject: "Order #4521 arrived damaged".into(),
            description: "The box was crushed; ünïcödé ✓".into(),
            status: Some(Status::Pending),
            priority: Some(Priority::Critical),
            case_type: Some(CaseType::Task),
            channel: Some(casedesk_domain::case::Channel::Email),
            queue_id: Some(q.id.clone()),
            owner_id: Some(a.admin.id.clone()),
            requester_id: Some(k.id.clone()),
            contact_id: Some(k.id.clone()),
            account_id: Some(acc.id.clone()),
            opportunity_id: Some("opp-77".into()),
            tags: vec!["Shipping".into(), "damage".into()],
            custom_fields: custom,
            resolution_notes: Some("none yet".into()),
            due_at: Some(casedesk_domain::case::DueInput::At(t(86_400))),
            required_skills: vec!["Billing".into()],
            problem_id: None,
            custom_status_id: None,
            funnel_stage_id: None,
            category_id: None,
        },
    )
    .await;
    assert_eq!(full.case_number, 4);
    assert_eq!(full.tags, vec!["shipping".to_string(), "damage".to_string()]);
    assert_eq!(store.get_case(&a.org, &full.id).await.unwrap(), full);
}

async fn scenario_update_case_versions(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let case = create(store, &a.org, &a.admin.id, t(1), subject("printer on fire")).await;
    assert_eq!(case.version, 1);

    let v2 = change(
        store,
        &case,
        &a.admin.id,
        t(2),
        CasePatch {
            priority: Some(Priority::Critical),
            owner_id: Some(Some(a.admin.id.clone())),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v2.version, 2);
    assert_eq!(v2.status, Status::Open, "assigning a new case opens it");
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap(), v2);

    // A writer still holding version 1 loses.
    let tz = TimeZone::UTC;
    let (stale, changes) = case
        .apply(
            CasePatch { subject: Some("someone else's edit".into()), ..Default::default() },
            &Ctx { org_id: &a.org, actor_id: &a.admin.id, now: t(3), tz: &tz },
        )
        .unwrap();
    assert_err!(
        store.update_case(&stale, case.version, &timeline::changes(&changes, t(3)), &a.admin.id).await,
        StoreError::Stale
    );
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap(), v2, "a stale write changes nothing");
    let events = store.list_events(&a.org, &case.id, &PageRequest::first(50)).await.unwrap().items;
    assert!(events.iter().all(|e| e.data.get("field") != Some(&json!("subject"))), "a stale write records no event");

    // Version 2 wins, and resolving then closing stamps the times.
    let v3 = change(
        store,
        &v2,
        &a.admin.id,
        t(4),
        CasePatch {
            status: Some(Status::Resolved),
            resolution_notes: Some(Some("rebooted".into())),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap(), v3);
    assert_eq!(v3.resolved_at, Some(t(4)));
    let v4 =
        change(store, &v3, &a.admin.id, t(5), CasePatch { status: Some(Status::Closed), ..Default::default() }).await;
    let stored = store.get_case_for_update(&a.org, &case.id).await.unwrap();
    assert_eq!(stored, v4);
    assert_eq!((stored.version, stored.closed_at, stored.updated_at), (4, Some(t(5)), t(5)));

    // The version must match exactly: a future version is as wrong as a past one.
    let mut ahead = v4.clone();
    ahead.version = 6;
    assert_err!(store.update_case(&ahead, 5, &[], &a.admin.id).await, StoreError::Stale);
    // Another org cannot write the case, whatever version it claims.
    let mut foreign = v4.clone();
    foreign.org_id = b.org.clone();
    foreign.version = 5;
    assert!(store.update_case(&foreign, 4, &[], &b.admin.id).await.is_err());
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap(), v4);
}

async fn scenario_tags_follow_updates(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let c1 = create(
        store,
        &a.org,
        &a.admin.id,
        t(1),
        NewCase { tags: vec!["billing".into(), "VIP".into()], ..subject("one") },
    )
    .await;
    let c2 = create(store, &a.org, &a.admin.id, t(2), NewCase { tags: vec!["billing".into()], ..subject("two") }).await;
    create(store, &b.org, &b.admin.id, t(3), NewCase { tags: vec!["vip".into()], ..subject("globex") }).await;
    let tag = |t: &str| CaseFilter { tag: Some(t.into()), ..Default::default() };

    assert_eq!(
        case_ids(store, &a.org, tag("vip")).await,
        vec![c1.id.clone()],
        "tags are stored lower-cased; other orgs are not listed"
    );
    assert_eq!(case_ids(store, &a.org, tag("billing")).await, vec![c2.id.clone(), c1.id.clone()]);
    assert!(case_ids(store, &a.org, tag("refund")).await.is_empty());

    let c1 = change(
        store,
        &c1,
        &a.admin.id,
        t(4),
        CasePatch { tags: Some(vec!["refund".into(), "vip".into()]), ..Default::default() },
    )
    .await;
    assert_eq!(store.get_case(&a.org, &c1.id).await.unwrap().tags, vec!["refund".to_string(), "vip".to_string()]);
    assert_eq!(case_ids(store, &a.org, tag("billing")).await, vec![c2.id.clone()], "a removed tag no longer matches");
    assert_eq!(case_ids(store, &a.org, tag("refund")).await, vec![c1.id.clone()], "an added tag matches");
    assert_eq!(case_ids(store, &a.org, tag("vip")).await, vec![c1.id.clone()], "a kept tag still matches");

    // A change of other fields leaves the tags alone.
    let c1 =
        change(store, &c1, &a.admin.id, t(5), CasePatch { priority: Some(Priority::Low), ..Default::default() }).await;
    assert_eq!(case_ids(store, &a.org, tag("refund")).await, vec![c1.id.clone()]);
    change(store, &c1, &a.admin.id, t(6), CasePatch { tags: Some(vec![]), ..Default::default() }).await;
    assert!(case_ids(store, &a.org, tag("refund")).await.is_empty());
    assert!(case_ids(store, &a.org, tag("vip")).await.is_empty());
}

async fn scenario_soft_delete(store: &Store) {
    let a = tenant(store, "Acme").await;
    let keep =
        create(store, &a.org, &a.admin.id, t(1), NewCase { tags: vec!["x".into()], ..subject("keep the zebra") }).await;
    let gone =
        create(store, &a.org, &a.admin.id, t(2), NewCase { tags: vec!["x".into()], ..subject("delete the zebra") })
            .await;
    let (note, gone) = comment(store, &gone, &a.admin.id, "a giraffe note", true, t(3)).await;

    store.soft_delete_case(&gone, t(4), &a.admin.id).await.unwrap();
    assert_err!(store.get_case(&a.org, &gone.id).await, StoreError::NotFound);
    assert_err!(store.get_case_for_update(&a.org, &gone.id).await, StoreError::NotFound);
    assert_eq!(case_ids(store, &a.org, CaseFilter::default()).await, vec![keep.id.clone()]);
    assert_eq!(
        case_ids(store, &a.org, CaseFilter { tag: Some("x".into()), ..Default::default() }).await,
        vec![keep.id.clone()]
    );
    assert_eq!(
        case_ids(store, &a.org, CaseFilter { terms: vec!["zebra".into()], ..Default::default() }).await,
        vec![keep.id.clone()]
    );
    assert!(
        case_ids(store, &a.org, CaseFilter { terms: vec!["giraffe".into()], ..Default::default() }).await.is_empty()
    );
    assert_err!(store.get_comment(&a.org, &note.id).await, StoreError::NotFound);
    assert_err!(store.soft_delete_case(&gone, t(5), &a.admin.id).await, StoreError::NotFound);
    assert_err!(store.update_case(&gone, gone.version, &[], &a.admin.id).await, StoreError::Stale);
    // The case number stays used.
    let next = create(store, &a.org, &a.admin.id, t(6), subject("after")).await;
    assert_eq!(next.case_number, 3);
    assert_eq!(store.get_case(&a.org, &keep.id).await.unwrap(), keep);
}

// ---- scenarios: case lists ---------------------------------------------------------------------

/// Everything a list filter can refer to, and seven cases that differ in every field.
struct ListWorld {
    a: Tenant,
    agent: User,
    q1: Queue,
    q2: Queue,
    acc1: Account,
    acc2: Account,
    k1: Contact,
    k2: Contact,
    cases: Vec<Case>,
}

async fn list_world(store: &Store) -> ListWorld {
    let a = tenant(store, "Acme").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let q1 = queue(&a.org, "tier1", t(0));
    let q2 = queue(&a.org, "tier2", t(0));
    store.insert_queue(&q1, None).await.unwrap();
    store.insert_queue(&q2, None).await.unwrap();
    let acc1 = account(&a.org, "Initech", Some("gold"), t(0));
    let acc2 = account(&a.org, "Hooli", None, t(0));
    store.insert_account(&acc1, None).await.unwrap();
    store.insert_account(&acc2, None).await.unwrap();
    let k1 = contact(&a.org, "Kim", Some(&acc1.id), t(0));
    let k2 = Contact { email: None, ..contact(&a.org, "Lee", Some(&acc2.id), t(0)) };
    store.insert_contact(&k1, None).await.unwrap();
    store.insert_contact(&k2, None).await.unwrap();
    let admin = a.admin.id.clone();

    let inputs = vec![
        NewCase {
            description: "paper stuck in tray".into(),
            priority: Some(Priority::Low),
            case_type: Some(CaseType::Incident),
            queue_id: Some(q1.id.clone()),
            requester_id: Some(k1.id.clone()),
            contact_id: Some(k1.id.clone()),
            account_id: Some(acc1.id.clone()),
            tags: vec!["hardware".into()],
            ..subject("Printer jammed on floor three")
        },
        NewCase {
            description: "customer wants the money back".into(),
            priority: Some(Priority::High),
            queue_id: Some(q2.id.clone()),
            owner_id: Some(agent.id.clone()),
            requester_id: Some(k2.id.clone()),
            contact_id: Some(k2.id.clone()),
            account_id: Some(acc2.id.clone()),
            tags: vec!["billing".into(), "vip".into()],
            ..subject("Refund for order 4521")
        },
        NewCase {
            description: "laptop disconnects".into(),
            priority: Some(Priority::Critical),
            case_type: Some(CaseType::Problem),
            queue_id: Some(q1.id.clone()),
            owner_id: Some(admin.clone()),
            tags: vec!["network".into()],
            ..subject("VPN drops every hour")
        },
        NewCase {
            description: "locked out again".into(),
            case_type: Some(CaseType::Task),
            requester_id: Some(k1.id.clone()),
            contact_id: Some(k1.id.clone()),
            account_id: Some(acc1.id.clone()),
            ..subject("Password reset")
        },
        NewCase {
            description: "needs a pdf invoice".into(),
            priority: Some(Priority::Low),
            queue_id: Some(q2.id.clone()),
            owner_id: Some(agent.id.clone()),
            tags: vec!["billing".into()],
            ..subject("Invoice copy")
        },
        NewCase {
            description: "flickers then goes dark".into(),
            case_type: Some(CaseType::Incident),
            queue_id: Some(q1.id.clone()),
            owner_id: Some(agent.id.clone()),
            tags: vec!["hardware".into()],
            ..subject("Broken monitor")
        },
        NewCase {
            description: "please add a dark theme".into(),
            status: Some(Status::Pending),
            priority: Some(Priority::Low),
            case_type: Some(CaseType::Task),
            requester_id: Some(k2.id.clone()),
            contact_id: Some(k2.id.clone()),
            account_id: Some(acc2.id.clone()),
            ..subject("Feature request")
        },
    ];
    let mut cases = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        cases.push(create(store, &a.org, &admin, t(10 + i as i64), input).await);
    }
    // Later activity: c4 resolved at 50, c5 closed at 60, c1 commented at 70, c0 reprioritised at 80.
    cases[4] =
        change(store, &cases[4], &agent.id, t(50), CasePatch { status: Some(Status::Resolved), ..Default::default() })
            .await;
    cases[5] =
        change(store, &cases[5], &agent.id, t(60), CasePatch { status: Some(Status::Closed), ..Default::default() })
            .await;
    cases[1] = comment(store, &cases[1], &agent.id, "the parcel arrived crushed", false, t(70)).await.1;
    cases[0] =
        change(store, &cases[0], &admin, t(80), CasePatch { priority: Some(Priority::Medium), ..Default::default() })
            .await;

    // The same words and references in another organization must never show up.
    let b = tenant(store, "Globex").await;
    create(
        store,
        &b.org,
        &b.admin.id,
        t(12),
        NewCase { tags: vec!["vip".into(), "hardware".into()], ..subject("Printer refund VPN") },
    )
    .await;

    ListWorld { a, agent, q1, q2, acc1, acc2, k1, k2, cases }
}

async fn scenario_list_filters(store: &Store) {
    let w = list_world(store).await;
    let c = &w.cases;
    let org = &w.a.org;
    let check = async |filter: CaseFilter, expected: &[usize], what: &str| {
        let got = set(case_ids(store, org, filter).await);
        let want = ids_of(&expected.iter().map(|&i| &c[i]).collect::<Vec<_>>());
        assert_eq!(got, want, "filter: {what}");
    };

    check(CaseFilter::default(), &[0, 1, 2, 3, 4, 5, 6], "none").await;
    check(CaseFilter { statuses: vec![Status::Open], ..Default::default() }, &[1, 2], "status open").await;
    check(CaseFilter { statuses: vec![Status::New], ..Default::default() }, &[0, 3], "status new").await;
    check(
        CaseFilter { statuses: vec![Status::Resolved, Status::Closed], ..Default::default() },
        &[4, 5],
        "status resolved|closed",
    )
    .await;
    check(
        CaseFilter { statuses: vec![Status::Pending, Status::OnHold], ..Default::default() },
        &[6],
        "status pending|on_hold",
    )
    .await;
    check(CaseFilter { priorities: vec![Priority::Low], ..Default::default() }, &[4, 6], "priority low").await;
    check(
        CaseFilter { priorities: vec![Priority::Medium], ..Default::default() },
        &[0, 3, 5],
        "priority medium (c0 changed)",
    )
    .await;
    check(
        CaseFilter { priorities: vec![Priority::High, Priority::Critical], ..Default::default() },
        &[1, 2],
        "priority high|critical",
    )
    .await;
    check(CaseFilter { types: vec![CaseType::Task], ..Default::default() }, &[3, 6], "type task").await;
    check(
        CaseFilter { types: vec![CaseType::Incident, CaseType::Problem], ..Default::default() },
        &[0, 2, 5],
        "type incident|problem",
    )
    .await;
    check(CaseFilter { queue_id: Some(w.q1.id.clone()), ..Default::default() }, &[0, 2, 5], "queue 1").await;
    check(CaseFilter { queue_id: Some(w.q2.id.clone()), ..Default::default() }, &[1, 4], "queue 2").await;
    check(CaseFilter { owner_id: Some(w.agent.id.clone()), ..Default::default() }, &[1, 4, 5], "owner agent").await;
    check(CaseFilter { owner_id: Some(w.a.admin.id.clone()), ..Default::default() }, &[2], "owner admin").await;
    check(CaseFilter { unassigned: true, ..Default::default() }, &[0, 3, 6], "unassigned").await;
    check(CaseFilter { requester_id: Some(w.k1.id.clone()), ..Default::default() }, &[0, 3], "requester k1").await;
    check(
        CaseFilter { requester_id: Some(w.a.admin.id.clone()), ..Default::default() },
        &[2, 4, 5],
        "requester admin (default)",
    )
    .await;
    check(CaseFilter { contact_id: Some(w.k2.id.clone()), ..Default::default() }, &[1, 6], "contact k2").await;
    check(CaseFilter { account_id: Some(w.acc1.id.clone()), ..Default::default() }, &[0, 3], "account 1").await;
    check(CaseFilter { account_id: Some(w.acc2.id.clone()), ..Default::default() }, &[1, 6], "account 2").await;
    check(CaseFilter { tag: Some("hardware".into()), ..Default::default() }, &[0, 5], "tag hardware").await;
    check(CaseFilter { tag: Some("vip".into()), ..Default::default() }, &[1], "tag vip").await;

    // Ranges are half-open: [from, to).
    let range = |from: Option<i64>, to: Option<i64>| Range { from: from.map(t), to: to.map(t) };
    check(CaseFilter { created: range(Some(12), Some(15)), ..Default::default() }, &[2, 3, 4], "created [12, 15)")
        .await;
    check(CaseFilter { created: range(Some(15), None), ..Default::default() }, &[5, 6], "created from 15").await;
    check(CaseFilter { created: range(None, Some(11)), ..Default::default() }, &[0], "created before 11").await;
    check(CaseFilter { updated: range(Some(50), Some(80)), ..Default::default() }, &[1, 4, 5], "updated [50, 80)")
        .await;
    check(CaseFilter { updated: range(Some(80), None), ..Default::default() }, &[0], "updated from 80").await;
    check(CaseFilter { updated: range(None, Some(50)), ..Default::default() }, &[2, 3, 6], "updated before 50").await;
    check(CaseFilter { closed: range(Some(55), Some(65)), ..Default::default() }, &[5], "closed [55, 65)").await;
    check(CaseFilter { closed: range(None, Some(60)), ..Default::default() }, &[], "closed before 60").await;
    check(CaseFilter { closed: range(Some(0), None), ..Default::default() }, &[5], "closed at all").await;

    // Filters combine with AND.
    check(
        CaseFilter { queue_id: Some(w.q1.id.clone()), statuses: vec![Status::New, Status::Open], ..Default::default() },
        &[0, 2],
        "queue 1 and active",
    )
    .await;
    check(
        CaseFilter {
            owner_id: Some(w.agent.id.clone()),
            priorities: vec![Priority::Low, Priority::High],
            tag: Some("billing".into()),
            ..Default::default()
        },
        &[1, 4],
        "owner, priority and tag",
    )
    .await;
    check(
        CaseFilter {
            account_id: Some(w.acc1.id.clone()),
            types: vec![CaseType::Task],
            created: range(Some(13), None),
            ..Default::default()
        },
        &[3],
        "account, type and created",
    )
    .await;
    check(
        CaseFilter { unassigned: true, owner_id: Some(w.agent.id.clone()), ..Default::default() },
        &[],
        "unassigned and an owner",
    )
    .await;

    // The same filters page through with keyset cursors.
    let filter = CaseFilter {
        statuses: vec![Status::New, Status::Open, Status::Pending, Status::Resolved],
        priorities: vec![Priority::Low, Priority::Medium, Priority::High, Priority::Critical],
        ..Default::default()
    };
    let paged = walk_cases(store, org, &filter, Ordering::CreatedAsc, 2).await;
    assert_eq!(paged, [0, 1, 2, 3, 4, 6].iter().map(|&i| c[i].id.clone()).collect::<Vec<_>>());
}

async fn scenario_full_text(store: &Store) {
    let w = list_world(store).await;
    let c = &w.cases;
    let org = &w.a.org;
    let search = async |terms: &[&str]| {
        set(case_ids(
            store,
            org,
            CaseFilter { terms: terms.iter().map(|s| s.to_string()).collect(), ..Default::default() },
        )
        .await)
    };
    let of = |idx: &[usize]| ids_of(&idx.iter().map(|&i| &c[i]).collect::<Vec<_>>());

    assert_eq!(search(&["printer"]).await, of(&[0]), "a subject word");
    assert_eq!(search(&["paper"]).await, of(&[0]), "a description word");
    assert_eq!(search(&["crushed"]).await, of(&[1]), "a comment word");
    assert_eq!(search(&["4521"]).await, of(&[1]), "a number");
    assert_eq!(search(&["dark"]).await, of(&[5, 6]), "in several cases' descriptions");
    assert_eq!(search(&["refund", "crushed"]).await, of(&[1]), "all terms, across subject and comments");
    assert_eq!(search(&["printer", "crushed"]).await, of(&[]), "every term must occur");
    assert_eq!(search(&["nonexistent"]).await, of(&[]));
    assert_eq!(search(&["or"]).await, of(&[]), "query-syntax words are plain words");
    assert_eq!(search(&["near"]).await, of(&[]));

    // Terms combine with the other filters.
    let dark_open = CaseFilter { terms: vec!["dark".into()], statuses: vec![Status::Pending], ..Default::default() };
    assert_eq!(set(case_ids(store, org, dark_open).await), of(&[6]));

    // An edited subject or description is re-indexed; a new comment is indexed.
    let c0 = change(
        store,
        &c[0],
        &w.a.admin.id,
        t(90),
        CasePatch { subject: Some("Scanner jammed".into()), ..Default::default() },
    )
    .await;
    assert_eq!(search(&["printer"]).await, of(&[]), "the old subject no longer matches");
    assert_eq!(search(&["scanner"]).await, of(&[0]));
    assert_eq!(search(&["paper"]).await, of(&[0]), "the description still matches");
    let c3 = change(
        store,
        &c[3],
        &w.a.admin.id,
        t(91),
        CasePatch { description: Some("two factor token lost".into()), ..Default::default() },
    )
    .await;
    assert_eq!(search(&["locked"]).await, of(&[]));
    assert_eq!(search(&["token"]).await, of(&[3]));
    comment(store, &c0, &w.agent.id, "replaced the roller", false, t(92)).await;
    comment(store, &c3, &w.agent.id, "token reissued", true, t(93)).await;
    assert_eq!(search(&["roller"]).await, of(&[0]), "a comment on a case with no comments before");
    assert_eq!(search(&["scanner", "roller", "paper"]).await, of(&[0]));
    assert_eq!(search(&["crushed"]).await, of(&[1]), "earlier comments stay indexed");
    let c1 = change(
        store,
        &c[1],
        &w.a.admin.id,
        t(94),
        CasePatch { subject: Some("Money back".into()), ..Default::default() },
    )
    .await;
    assert_eq!(search(&["refund"]).await, of(&[]));
    assert_eq!(search(&["money", "crushed"]).await, of(&[1]), "re-indexing a subject keeps the comments");
    assert_eq!(store.get_case(org, &c1.id).await.unwrap(), c1);
    assert_eq!(search(&["reissued", "lost"]).await, of(&[3]), "internal notes are searchable by agents");
}

async fn scenario_orderings_and_keyset_pages(store: &Store) {
    let a = tenant(store, "Acme").await;
    let admin = a.admin.id.clone();
    // Creation times with a three-way tie (c2, c3, c4) that straddles page boundaries in both
    // directions, and priorities with ties.
    let created = [1, 2, 3, 3, 3, 5, 6];
    let priorities = [
        Priority::Medium,
        Priority::High,
        Priority::Low,
        Priority::High,
        Priority::Critical,
        Priority::Medium,
        Priority::High,
    ];
    let mut cases = Vec::new();
    for i in 0..7 {
        let input = NewCase { priority: Some(priorities[i]), ..subject(&format!("case {i}")) };
        cases.push(create(store, &a.org, &admin, t(created[i]), input).await);
    }
    // Activity that reorders by updated_at; c3 and c4 keep their tied times.
    cases[0] = change(
        store,
        &cases[0],
        &admin,
        t(30),
        CasePatch { subject: Some("case 0 edited".into()), ..Default::default() },
    )
    .await;
    cases[2] = change(
        store,
        &cases[2],
        &admin,
        t(20),
        CasePatch { subject: Some("case 2 edited".into()), ..Default::default() },
    )
    .await;
    cases[5] = comment(store, &cases[5], &admin, "activity", false, t(25)).await.1;

    // Insertion order is the final tie-breaker (the row's sequence), so sort on the index.
    let idx: Vec<usize> = (0..7).collect();
    let sorted = |key: &dyn Fn(usize) -> (i64, i64, usize), desc: bool| {
        let mut v = idx.clone();
        v.sort_by_key(|&i| key(i));
        if desc {
            v.reverse();
        }
        v.into_iter().map(|i| cases[i].id.clone()).collect::<Vec<_>>()
    };
    let by_created = |i: usize| (cases[i].created_at.as_second(), 0i64, i);
    let by_updated = |i: usize| (cases[i].updated_at.as_second(), 0i64, i);
    let by_priority = |i: usize| (cases[i].priority.rank(), cases[i].created_at.as_second(), i);

    let expectations = [
        (Ordering::CreatedAsc, sorted(&by_created, false)),
        (Ordering::CreatedDesc, sorted(&by_created, true)),
        (Ordering::UpdatedAsc, sorted(&by_updated, false)),
        (Ordering::UpdatedDesc, sorted(&by_updated, true)),
        (Ordering::PriorityAsc, sorted(&by_priority, false)),
        (Ordering::PriorityDesc, sorted(&by_priority, true)),
    ];
    // Sanity check of the expectations themselves, in case numbers.
    let numbers = |ids: &[String]| {
        ids.iter().map(|id| cases.iter().find(|c| &c.id == id).unwrap().case_number).collect::<Vec<_>>()
    };
    assert_eq!(numbers(&expectations[0].1), vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(numbers(&expectations[2].1), vec![2, 4, 5, 7, 3, 6, 1]);
    assert_eq!(numbers(&expectations[4].1), vec![3, 1, 6, 2, 4, 7, 5]);

    for (ordering, expected) in &expectations {
        for limit in [2, 3, 7, 50] {
            let got = walk_cases(store, &a.org, &CaseFilter::default(), *ordering, limit).await;
            assert_eq!(&got, expected, "ordering {} with pages of {limit}", ordering.as_str());
        }
        let first = store
            .list_cases(
                &a.org,
                &ListRequest { filter: CaseFilter::default(), ordering: *ordering, limit: 7, cursor: None },
            )
            .await
            .unwrap();
        assert!(first.next_cursor.is_none(), "{}: an exactly full page has no next cursor", ordering.as_str());
    }

    // A filtered walk with a full-text term: the cursor's placeholders follow the filter's.
    let filter = CaseFilter {
        terms: vec!["case".into()],
        priorities: vec![Priority::High, Priority::Medium],
        ..Default::default()
    };
    let got = walk_cases(store, &a.org, &filter, Ordering::PriorityDesc, 2).await;
    assert_eq!(numbers(&got), vec![7, 4, 2, 6, 1]);
}

async fn scenario_list_summaries(store: &Store) {
    let a = tenant(store, "Acme").await;
    let acc = account(&a.org, "Initech", Some("gold"), t(1));
    store.insert_account(&acc, None).await.unwrap();
    let k = contact(&a.org, "Kim", Some(&acc.id), t(1));
    store.insert_contact(&k, None).await.unwrap();
    let both = create(
        store,
        &a.org,
        &a.admin.id,
        t(2),
        NewCase { account_id: Some(acc.id.clone()), contact_id: Some(k.id.clone()), ..subject("both") },
    )
    .await;
    let only_account =
        create(store, &a.org, &a.admin.id, t(3), NewCase { account_id: Some(acc.id.clone()), ..subject("account") })
            .await;
    let bare = Contact { email: None, ..contact(&a.org, "Anon", None, t(1)) };
    store.insert_contact(&bare, None).await.unwrap();
    let only_contact =
        create(store, &a.org, &a.admin.id, t(4), NewCase { contact_id: Some(bare.id.clone()), ..subject("contact") })
            .await;
    let neither = create(store, &a.org, &a.admin.id, t(5), subject("neither")).await;

    let items = store
        .list_cases(
            &a.org,
            &ListRequest { filter: CaseFilter::default(), ordering: Ordering::CreatedAsc, limit: 10, cursor: None },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        items.iter().map(|i| &i.case).collect::<Vec<_>>(),
        vec![&both, &only_account, &only_contact, &neither],
        "list items carry the full case"
    );
    let acc_summary =
        casedesk_store::AccountSummary { id: acc.id.clone(), name: "Initech".into(), tier: Some("gold".into()) };
    let kim_summary = casedesk_store::ContactSummary {
        id: k.id.clone(),
        name: "Kim".into(),
        email: Some("kim@customer.example".into()),
    };
    assert_eq!(items[0].account, Some(acc_summary.clone()));
    assert_eq!(items[0].contact, Some(kim_summary));
    assert_eq!(items[1].account, Some(acc_summary));
    assert_eq!(items[1].contact, None);
    assert_eq!(items[2].account, None);
    assert_eq!(
        items[2].contact,
        Some(casedesk_store::ContactSummary { id: bare.id.clone(), name: "Anon".into(), email: None })
    );
    assert_eq!((items[3].account.clone(), items[3].contact.clone()), (None, None));

    // get_case_with_refs: the same case with its full account and contact, in one read.
    let (case, account, contact, _) = store.get_case_with_refs(&a.org, &both.id).await.unwrap();
    assert_eq!((case, account, contact), (both.clone(), Some(acc.clone()), Some(k.clone())));
    let (case, account, contact, _) = store.get_case_with_refs(&a.org, &neither.id).await.unwrap();
    assert_eq!((case, account, contact), (neither.clone(), None, None));
    let b = tenant(store, "Globex").await;
    assert!(matches!(store.get_case_with_refs(&b.org, &both.id).await, Err(StoreError::NotFound)));

    // Summaries are read live, not copied into the case.
    store
        .update_account(&Account { name: "Initech Corp".into(), tier: None, updated_at: t(9), ..acc.clone() })
        .await
        .unwrap();
    let items = store
        .list_cases(&a.org, &list(CaseFilter { account_id: Some(acc.id.clone()), ..Default::default() }))
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 2);
    for i in &items {
        assert_eq!(
            i.account,
            Some(casedesk_store::AccountSummary { id: acc.id.clone(), name: "Initech Corp".into(), tier: None })
        );
    }
}

async fn scenario_invalid_cursors(store: &Store) {
    let a = tenant(store, "Acme").await;
    let mut last = None;
    for i in 0..3 {
        last = Some(create(store, &a.org, &a.admin.id, t(i), subject(&format!("case {i}"))).await);
    }
    let case = last.unwrap();
    comment(store, &case, &a.admin.id, "one", false, t(10)).await;
    let case = store.get_case(&a.org, &case.id).await.unwrap();
    comment(store, &case, &a.admin.id, "two", false, t(11)).await;
    store.insert_user(&user(&a.org, "second@acme.example", Role::Agent, t(1)), None).await.unwrap();

    let req = |ordering: Ordering, cursor: Option<String>| ListRequest {
        filter: CaseFilter::default(),
        ordering,
        limit: 1,
        cursor,
    };
    let case_cursor =
        store.list_cases(&a.org, &req(Ordering::CreatedDesc, None)).await.unwrap().next_cursor.expect("a next page");
    let user_cursor = store.list_users(&a.org, &PageRequest::first(1)).await.unwrap().next_cursor.expect("a next page");
    let comment_cursor =
        store.list_comments(&a.org, &case.id, &PageRequest::first(1)).await.unwrap().next_cursor.expect("a next page");
    let event_cursor =
        store.list_events(&a.org, &case.id, &PageRequest::first(1)).await.unwrap().next_cursor.expect("a next page");

    for bad in ["", "not a cursor!", "eyJvIjoiLWNyZWF0ZWRfYXQiLCJrIjpbMV19", "e30"] {
        assert_err!(
            store.list_cases(&a.org, &req(Ordering::CreatedDesc, Some(bad.into()))).await,
            StoreError::InvalidCursor
        );
        assert_err!(
            store.list_users(&a.org, &PageRequest { limit: 1, cursor: Some(bad.into()) }).await,
            StoreError::InvalidCursor
        );
        assert_err!(
            store.list_comments(&a.org, &case.id, &PageRequest { limit: 1, cursor: Some(bad.into()) }).await,
            StoreError::InvalidCursor
        );
        assert_err!(
            store.list_events(&a.org, &case.id, &PageRequest { limit: 1, cursor: Some(bad.into()) }).await,
            StoreError::InvalidCursor
        );
    }
    // A cursor only continues the list and ordering that issued it.
    assert!(store.list_cases(&a.org, &req(Ordering::CreatedDesc, Some(case_cursor.clone()))).await.is_ok());
    for other in [Ordering::CreatedAsc, Ordering::UpdatedDesc, Ordering::PriorityDesc] {
        assert_err!(store.list_cases(&a.org, &req(other, Some(case_cursor.clone()))).await, StoreError::InvalidCursor);
    }
    assert_err!(
        store.list_cases(&a.org, &req(Ordering::CreatedDesc, Some(user_cursor.clone()))).await,
        StoreError::InvalidCursor
    );
    let with = |c: &String| PageRequest { limit: 1, cursor: Some(c.clone()) };
    assert_err!(store.list_users(&a.org, &with(&case_cursor)).await, StoreError::InvalidCursor);
    assert_err!(store.list_accounts(&a.org, &with(&user_cursor)).await, StoreError::InvalidCursor);
    assert_err!(
        store.list_contacts(&a.org, &ContactFilter::default(), &with(&user_cursor)).await,
        StoreError::InvalidCursor
    );
    assert_err!(store.list_queues(&a.org, &with(&user_cursor)).await, StoreError::InvalidCursor);
    assert_err!(store.list_tokens(&a.org, None, &with(&user_cursor)).await, StoreError::InvalidCursor);
    assert_err!(store.list_comments(&a.org, &case.id, &with(&event_cursor)).await, StoreError::InvalidCursor);
    assert_err!(store.list_events(&a.org, &case.id, &with(&comment_cursor)).await, StoreError::InvalidCursor);
}

// ---- scenarios: comments and the timeline -------------------------------------------------------

async fn scenario_comments(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let case = create(store, &a.org, &a.admin.id, t(1), subject("Where is my parcel")).await;
    let other = create(store, &a.org, &a.admin.id, t(2), subject("unrelated")).await;
    assert!(case.is_waiting);

    // An internal note is activity but does not answer the requester.
    let (note, case) = comment(store, &case, &agent.id, "checked the courier portal", true, t(10)).await;
    let stored = store.get_case(&a.org, &case.id).await.unwrap();
    assert_eq!(stored, case);
    assert_eq!(
        (stored.version, stored.updated_at, stored.is_waiting, stored.updated_by.as_str()),
        (2, t(10), true, agent.id.as_str())
    );
    // A public reply answers.
    let (reply, case) = comment(store, &case, &agent.id, "your parcel left the depot", false, t(11)).await;
    assert!(!store.get_case(&a.org, &case.id).await.unwrap().is_waiting);
    // Several comments in one second come back in id order.
    let (third, case) = comment(store, &case, &a.admin.id, "courier confirms delivery tomorrow", false, t(12)).await;
    let (fourth, case) = comment(store, &case, &agent.id, "customer thanked us", true, t(12)).await;
    comment(store, &other, &agent.id, "a comment elsewhere", false, t(13)).await;

    assert_eq!(store.get_comment(&a.org, &note.id).await.unwrap(), note);
    assert_eq!(store.get_comment(&a.org, &reply.id).await.unwrap(), reply);
    assert_err!(store.get_comment(&b.org, &note.id).await, StoreError::NotFound);
    assert_err!(store.get_comment(&a.org, "cmt_missing").await, StoreError::NotFound);

    // Oldest first, page by page, only this case's.
    let mut expected = vec![note.clone(), reply.clone(), third.clone(), fourth.clone()];
    expected.sort_by(|x, y| (x.created_at, &x.id).cmp(&(y.created_at, &y.id)));
    for limit in [1, 2, 3, 10] {
        let listed =
            walk(limit, |c: &Comment| c.id.clone(), async |p| store.list_comments(&a.org, &case.id, &p).await).await;
        assert_eq!(listed, expected, "pages of {limit}");
    }
    assert!(store.list_comments(&b.org, &case.id, &PageRequest::first(10)).await.unwrap().items.is_empty());

    // The text is searchable at once.
    let search =
        async |w: &str| case_ids(store, &a.org, CaseFilter { terms: vec![w.into()], ..Default::default() }).await;
    assert_eq!(search("depot").await, vec![case.id.clone()]);
    assert_eq!(search("courier").await, vec![case.id.clone()]);
    assert_eq!(search("elsewhere").await, vec![other.id.clone()]);

    // The version check applies: a comment against a stale case is refused and not stored.
    let stale_base = store.get_case(&a.org, &other.id).await.unwrap();
    let late = Comment::new(&a.org, &other, &agent.id, "lost in a race with zanzibar", false, AuthorType::Agent, t(20))
        .unwrap();
    let next = timeline::case_after_comment(&other, &late, &agent.id);
    assert_err!(store.add_comment(&late, &next, other.version, &[], None).await, StoreError::Stale);
    assert_err!(store.get_comment(&a.org, &late.id).await, StoreError::NotFound);
    assert_eq!(store.get_case(&a.org, &other.id).await.unwrap(), stale_base);
    assert!(search("zanzibar").await.is_empty());
    // With the current version it goes through; the list reflects the new activity time.
    let current = store.get_case_for_update(&a.org, &other.id).await.unwrap();
    let (late, other) = comment(store, &current, &agent.id, "lost in a race with zanzibar", false, t(21)).await;
    assert_eq!(store.get_comment(&a.org, &late.id).await.unwrap(), late);
    assert_eq!(search("zanzibar").await, vec![other.id.clone()]);
    let newest = store
        .list_cases(
            &a.org,
            &ListRequest { filter: CaseFilter::default(), ordering: Ordering::UpdatedDesc, limit: 1, cursor: None },
        )
        .await
        .unwrap();
    assert_eq!(newest.items[0].case, other);
}

async fn scenario_events(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let case =
        create(store, &a.org, &a.admin.id, t(1), NewCase { tags: vec!["one".into()], ..subject("timeline") }).await;
    let case = change(
        store,
        &case,
        &agent.id,
        t(2),
        CasePatch { priority: Some(Priority::High), status: Some(Status::Pending), ..Default::default() },
    )
    .await;
    let (note, case) = comment(store, &case, &agent.id, "a note", true, t(3)).await;
    let case =
        change(store, &case, &a.admin.id, t(4), CasePatch { tags: Some(vec!["two".into()]), ..Default::default() })
            .await;
    // Another case's events are not mixed in.
    let other = create(store, &a.org, &a.admin.id, t(2), subject("other")).await;
    change(store, &other, &a.admin.id, t(3), CasePatch { priority: Some(Priority::Low), ..Default::default() }).await;

    let events = store.list_events(&a.org, &case.id, &PageRequest::first(50)).await.unwrap();
    assert!(events.next_cursor.is_none());
    let events = events.items;
    let summary: Vec<(&str, Option<&str>, Timestamp)> =
        events.iter().map(|e| (e.kind.as_str(), e.actor_id.as_deref(), e.created_at)).collect();
    assert_eq!(
        summary,
        vec![
            (timeline::CASE_CREATED, Some(a.admin.id.as_str()), t(1)),
            (timeline::STATUS_CHANGED, Some(agent.id.as_str()), t(2)),
            (timeline::FIELD_CHANGED, Some(agent.id.as_str()), t(2)),
            (timeline::COMMENT_ADDED, Some(agent.id.as_str()), t(3)),
            (timeline::FIELD_CHANGED, Some(a.admin.id.as_str()), t(4)),
        ]
    );
    assert!(events.iter().all(|e| e.org_id == a.org && e.case_id == case.id));
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "seq increases");
    assert_eq!(events[0].data["case_number"], json!(1));
    assert_eq!(events[0].data["subject"], json!("timeline"));
    assert_eq!(events[0].data["status"], json!("new"));
    assert_eq!(events[1].data, json!({"field": "status", "old": "new", "new": "pending"}));
    assert_eq!(events[2].data, json!({"field": "priority", "old": "medium", "new": "high"}));
    assert_eq!(
        events[3].data,
        json!({"comment_id": note.id, "internal": true, "author_id": agent.id, "author_type": "agent"})
    );
    assert_eq!(events[4].data, json!({"field": "tags", "old": ["one"], "new": ["two"]}));

    for limit in [1, 2, 4] {
        let walked =
            walk(limit, |e: &Event| e.seq.to_string(), async |p| store.list_events(&a.org, &case.id, &p).await).await;
        assert_eq!(walked, events, "pages of {limit}");
    }
    assert!(
        store.list_events(&b.org, &case.id, &PageRequest::first(50)).await.unwrap().items.is_empty(),
        "another org sees no events"
    );
    let other_events = store.list_events(&a.org, &other.id, &PageRequest::first(50)).await.unwrap().items;
    assert_eq!(
        other_events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec![timeline::CASE_CREATED, timeline::FIELD_CHANGED]
    );

    // Deleting records who did it and when.
    store.soft_delete_case(&case, t(9), &agent.id).await.unwrap();
    let after = store.list_events(&a.org, &case.id, &PageRequest::first(50)).await.unwrap().items;
    let last = after.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.actor_id.as_deref(), last.created_at),
        (timeline::CASE_DELETED, Some(agent.id.as_str()), t(9))
    );
}

// ---- scenarios: imports and idempotency --------------------------------------------------------

/// A closed historical case from long ago, built by the domain's import rules, with two
/// comments; it keeps number `number` (0: assign one).
fn historical(org_id: &str, actor: &str, number: i64, words: &str, base: i64) -> ImportedCase {
    let tz = TimeZone::UTC;
    let times = ImportTimes {
        created_at: t(base),
        updated_at: Some(t(base + 30)),
        resolved_at: Some(t(base + 25)),
        closed_at: Some(t(base + 30)),
    };
    let input = NewCase {
        status: Some(Status::Closed),
        description: format!("imported {words}"),
        tags: vec!["legacy".into()],
        ..subject(&format!("Legacy {words}"))
    };
    let mut case = casedesk_domain::case::import(input, times, &Ctx { org_id, actor_id: actor, now: t(0), tz: &tz })
        .expect("a valid import");
    case.case_number = number;
    let first = Comment::historical(
        org_id,
        &case.id,
        actor,
        &format!("first reply about {words} kumquat"),
        false,
        t(base + 10),
    )
    .unwrap();
    let second = Comment::historical(org_id, &case.id, actor, "second reply", true, t(base + 20)).unwrap();
    ImportedCase { case, comments: vec![first, second] }
}

async fn scenario_import(store: &Store) {
    let a = tenant(store, "Acme").await;
    let admin = a.admin.id.clone();
    let live = create(store, &a.org, &admin, t(1), subject("live case")).await;
    assert_eq!(live.case_number, 1);

    let batch = vec![
        historical(&a.org, &admin, 10, "alpha", -100_000),
        historical(&a.org, &admin, 0, "beta", -90_000),
        historical(&a.org, &admin, 5, "gamma", -80_000),
    ];
    let imported = store.import_cases(&a.org, &batch, &admin, None).await.unwrap();
    assert_eq!(imported.len(), 3);
    assert_eq!(
        imported.iter().map(|c| c.case_number).collect::<Vec<_>>(),
        vec![10, 11, 5],
        "kept numbers stay; a kept number moves the counter past it"
    );
    for (got, want) in imported.iter().zip(&batch) {
        assert_eq!(got, &Case { case_number: got.case_number, ..want.case.clone() });
        let stored = store.get_case(&a.org, &want.case.id).await.unwrap();
        assert_eq!(&stored, got, "stored as imported");
        assert_eq!(stored.created_at, want.case.created_at, "the original creation time is kept");
        assert_eq!(stored.closed_at, want.case.closed_at, "the original closing time is kept");
        assert_eq!(
            (stored.closed_at, stored.resolved_at, stored.updated_at),
            (
                Some(want.case.created_at + jiff::SignedDuration::from_secs(30)),
                Some(want.case.created_at + jiff::SignedDuration::from_secs(25)),
                want.case.created_at + jiff::SignedDuration::from_secs(30)
            )
        );
        assert_eq!(stored.status, Status::Closed);
        let comments = store.list_comments(&a.org, &want.case.id, &PageRequest::first(10)).await.unwrap().items;
        assert_eq!(comments, want.comments);
        let events = store.list_events(&a.org, &want.case.id, &PageRequest::first(10)).await.unwrap().items;
        assert_eq!(
            events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            vec![timeline::CASE_IMPORTED, timeline::COMMENT_ADDED, timeline::COMMENT_ADDED]
        );
        assert_eq!(events[0].created_at, want.case.created_at);
        assert_eq!(events[0].data["case_number"], json!(got.case_number));
        assert_eq!(events[1].data["comment_id"], json!(want.comments[0].id));
    }

    // The counter continues after the highest number.
    let next = create(store, &a.org, &admin, t(2), subject("after the import")).await;
    assert_eq!(next.case_number, 12);
    // A kept number below the counter does not move it back.
    let low =
        store.import_cases(&a.org, &[historical(&a.org, &admin, 3, "delta", -70_000)], &admin, None).await.unwrap();
    assert_eq!(low[0].case_number, 3);
    assert_eq!(create(store, &a.org, &admin, t(3), subject("later")).await.case_number, 13);

    // Imported cases list by their original times and are searchable by subject and description.
    let oldest = store
        .list_cases(
            &a.org,
            &ListRequest { filter: CaseFilter::default(), ordering: Ordering::CreatedAsc, limit: 1, cursor: None },
        )
        .await
        .unwrap();
    assert_eq!(oldest.items[0].case.id, batch[0].case.id);
    let closed = CaseFilter { closed: Range { from: Some(t(-95_000)), to: Some(t(0)) }, ..Default::default() };
    assert_eq!(set(case_ids(store, &a.org, closed).await), ids_of(&[&batch[1].case, &batch[2].case, &low[0]]));
    let terms = |w: &str| CaseFilter { terms: vec![w.into()], ..Default::default() };
    assert_eq!(case_ids(store, &a.org, terms("beta")).await, vec![batch[1].case.id.clone()]);
    assert_eq!(set(case_ids(store, &a.org, terms("legacy")).await).len(), 4);
    let tagged = CaseFilter { tag: Some("legacy".into()), ..Default::default() };
    assert_eq!(set(case_ids(store, &a.org, tagged).await).len(), 4, "imported tags are listable");
    // An empty batch is a no-op.
    let empty = store.import_cases(&a.org, &[], &admin, None).await.unwrap();
    assert!(empty.is_empty());
}

/// Imported comments are searchable, as the comments of live cases are (a regression test: the
/// PostgreSQL index once missed them because it was built before the comments were inserted).
async fn scenario_imported_comments_are_searchable(store: &Store) {
    let a = tenant(store, "Acme").await;
    let batch = vec![historical(&a.org, &a.admin.id, 0, "alpha", -1000)];
    store.import_cases(&a.org, &batch, &a.admin.id, None).await.unwrap();
    let found = case_ids(store, &a.org, CaseFilter { terms: vec!["kumquat".into()], ..Default::default() }).await;
    assert_eq!(found, vec![batch[0].case.id.clone()]);
}

async fn scenario_import_is_all_or_nothing(store: &Store) {
    let a = tenant(store, "Acme").await;
    let admin = a.admin.id.clone();
    let live = create(store, &a.org, &admin, t(1), subject("live")).await;
    // The second case reuses number 1: the whole batch is refused.
    let batch = vec![
        historical(&a.org, &admin, 7, "first", -5000),
        historical(&a.org, &admin, live.case_number, "second", -4000),
    ];
    assert_err!(store.import_cases(&a.org, &batch, &admin, None).await, StoreError::Duplicate(_));
    for imported in &batch {
        assert_err!(store.get_case(&a.org, &imported.case.id).await, StoreError::NotFound);
        assert_err!(store.get_comment(&a.org, &imported.comments[0].id).await, StoreError::NotFound);
        assert!(store.list_events(&a.org, &imported.case.id, &PageRequest::first(10)).await.unwrap().items.is_empty());
    }
    assert_eq!(case_ids(store, &a.org, CaseFilter::default()).await, vec![live.id.clone()]);
    assert_eq!(create(store, &a.org, &admin, t(2), subject("next")).await.case_number, 2, "the counter did not move");
}

fn idem(org_id: &str, user_id: &str, key: &str, resource_id: &str, at: Timestamp) -> IdempotencyRecord {
    IdempotencyRecord {
        org_id: org_id.into(),
        user_id: user_id.into(),
        key: key.into(),
        request_hash: format!("sha256:{key}:{resource_id}"),
        resource_id: resource_id.into(),
        status_code: 201,
        created_at: at,
    }
}

async fn scenario_idempotency(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let admin = a.admin.id.clone();

    let rec = idem(&a.org, &admin, "key-1", "acc_123", t(1));
    store.insert_idempotency(&rec).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &admin, "key-1").await.unwrap(), Some(rec.clone()));
    assert_eq!(store.get_idempotency(&a.org, &admin, "key-2").await.unwrap(), None);
    assert_eq!(store.get_idempotency(&a.org, &agent.id, "key-1").await.unwrap(), None, "keys are per user");
    assert_eq!(store.get_idempotency(&b.org, &admin, "key-1").await.unwrap(), None, "keys are per organization");
    let again = IdempotencyRecord { request_hash: "other".into(), status_code: 200, ..rec.clone() };
    assert_err!(store.insert_idempotency(&again).await, StoreError::Duplicate(_));
    assert_eq!(
        store.get_idempotency(&a.org, &admin, "key-1").await.unwrap(),
        Some(rec.clone()),
        "the first record stays"
    );
    let theirs = IdempotencyRecord { status_code: 200, ..idem(&a.org, &agent.id, "key-1", "acc_456", t(2)) };
    store.insert_idempotency(&theirs).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &agent.id, "key-1").await.unwrap(), Some(theirs));

    // create_case records the key in its transaction; reusing the key refuses the whole write.
    let first = new_case(&a.org, &admin, t(3), subject("created once"));
    let first_rec = idem(&a.org, &admin, "create-1", &first.id, t(3));
    let created = store.create_case(&first, &[], Some(&first_rec)).await.unwrap();
    assert_eq!(created.case_number, 1);
    assert_eq!(store.get_idempotency(&a.org, &admin, "create-1").await.unwrap(), Some(first_rec.clone()));
    let second = new_case(&a.org, &admin, t(4), subject("created twice"));
    let second_rec = idem(&a.org, &admin, "create-1", &second.id, t(4));
    assert_err!(store.create_case(&second, &[], Some(&second_rec)).await, StoreError::Duplicate(_));
    assert_err!(store.get_case(&a.org, &second.id).await, StoreError::NotFound);
    assert_eq!(store.get_idempotency(&a.org, &admin, "create-1").await.unwrap(), Some(first_rec));
    assert_eq!(
        create(store, &a.org, &admin, t(5), subject("next")).await.case_number,
        2,
        "the refused create used no number"
    );

    // add_comment too.
    let c = Comment::new(&a.org, &created, &admin, "once", false, AuthorType::Agent, t(6)).unwrap();
    let next = timeline::case_after_comment(&created, &c, &admin);
    let crec = idem(&a.org, &admin, "comment-1", &c.id, t(6));
    store.add_comment(&c, &next, created.version, &[], Some(&crec)).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &admin, "comment-1").await.unwrap(), Some(crec.clone()));
    let c2 = Comment::new(&a.org, &next, &admin, "twice", false, AuthorType::Agent, t(7)).unwrap();
    let next2 = timeline::case_after_comment(&next, &c2, &admin);
    assert_err!(
        store.add_comment(&c2, &next2, next.version, &[], Some(&idem(&a.org, &admin, "comment-1", &c2.id, t(7)))).await,
        StoreError::Duplicate(_)
    );
    assert_err!(store.get_comment(&a.org, &c2.id).await, StoreError::NotFound);
    assert_eq!(store.get_case(&a.org, &created.id).await.unwrap(), next, "the refused comment did not touch the case");

    // insert_account, insert_contact and insert_queue too.
    let acc = account(&a.org, "Initech", None, t(9));
    let acc_rec = idem(&a.org, &admin, "account-1", &acc.id, t(9));
    store.insert_account(&acc, Some(&acc_rec)).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &admin, "account-1").await.unwrap(), Some(acc_rec.clone()));
    let acc2 = account(&a.org, "Hooli", None, t(9));
    assert_err!(store.insert_account(&acc2, Some(&acc_rec)).await, StoreError::Duplicate(_));
    assert_err!(store.get_account(&a.org, &acc2.id).await, StoreError::NotFound);
    let k = contact(&a.org, "Kim", None, t(9));
    let k_rec = idem(&a.org, &admin, "contact-1", &k.id, t(9));
    store.insert_contact(&k, Some(&k_rec)).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &admin, "contact-1").await.unwrap(), Some(k_rec.clone()));
    let k2 = contact(&a.org, "Lee", None, t(9));
    assert_err!(store.insert_contact(&k2, Some(&k_rec)).await, StoreError::Duplicate(_));
    assert_err!(store.get_contact(&a.org, &k2.id).await, StoreError::NotFound);
    let q = queue(&a.org, "tier1", t(9));
    let q_rec = idem(&a.org, &admin, "queue-1", &q.id, t(9));
    store.insert_queue(&q, Some(&q_rec)).await.unwrap();
    assert_eq!(store.get_idempotency(&a.org, &admin, "queue-1").await.unwrap(), Some(q_rec.clone()));
    let q2 = queue(&a.org, "tier2", t(9));
    assert_err!(store.insert_queue(&q2, Some(&q_rec)).await, StoreError::Duplicate(_));
    assert_err!(store.get_queue(&a.org, &q2.id).await, StoreError::NotFound);

    // And import_cases.
    let batch = vec![historical(&a.org, &admin, 0, "imported", -1000)];
    let irec = idem(&a.org, &admin, "import-1", "import", t(8));
    let imported = store.import_cases(&a.org, &batch, &admin, Some(&irec)).await.unwrap();
    let stored =
        IdempotencyRecord { resource_id: format!("{}:{}", imported[0].id, imported[0].case_number), ..irec.clone() };
    assert_eq!(
        store.get_idempotency(&a.org, &admin, "import-1").await.unwrap(),
        Some(stored),
        "the record names the created cases as id:number"
    );
    let batch2 = vec![historical(&a.org, &admin, 0, "imported again", -900)];
    assert_err!(store.import_cases(&a.org, &batch2, &admin, Some(&irec)).await, StoreError::Duplicate(_));
    assert_err!(store.get_case(&a.org, &batch2[0].case.id).await, StoreError::NotFound);
}

/// Another organization's id answers NotFound, exactly like a missing one (DESIGN.md §1,
/// "Tenancy"), also when deleting.
/// (A regression test: deleting another organization's account or contact that was in use once
/// answered `InUse`, revealing that the id exists.)
async fn scenario_delete_refuses_other_orgs_records_as_not_found(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let acc = account(&a.org, "Initech", None, t(1));
    store.insert_account(&acc, None).await.unwrap();
    let k = contact(&a.org, "Kim", Some(&acc.id), t(1));
    store.insert_contact(&k, None).await.unwrap();
    create(store, &a.org, &a.admin.id, t(2), NewCase { contact_id: Some(k.id.clone()), ..subject("kim's") }).await;
    assert_err!(store.delete_contact(&b.org, &k.id).await, StoreError::NotFound);
    assert_err!(store.delete_account(&b.org, &acc.id).await, StoreError::NotFound);
}

/// Words inside e-mail addresses, host names and version numbers are found, as
/// `list::search_terms` splits a query into them.
/// (A regression test: PostgreSQL's parser once kept such strings as single lexemes.)
async fn scenario_search_finds_words_inside_addresses(store: &Store) {
    let a = tenant(store, "Acme").await;
    let case = create(
        store,
        &a.org,
        &a.admin.id,
        t(1),
        NewCase {
            description: "Write to ana.silva@example.com or see https://status.example.com/incidents; firmware 2.4.1"
                .into(),
            ..subject("Outage notice")
        },
    )
    .await;
    for query in ["silva", "ana.silva@example.com", "status.example.com", "incidents", "firmware 2.4.1"] {
        let terms = casedesk_domain::list::search_terms(query);
        let found = case_ids(store, &a.org, CaseFilter { terms, ..Default::default() }).await;
        assert_eq!(found, vec![case.id.clone()], "query {query:?}");
    }
}

/// Searching ignores diacritics (`cafe` finds `Café`) on both backends: documents and queries
/// are folded by `casedesk_domain::search`.
async fn scenario_search_ignores_diacritics(store: &Store) {
    let a = tenant(store, "Acme").await;
    let case = create(store, &a.org, &a.admin.id, t(1), subject("Café order for Zoë")).await;
    for query in ["café", "Zoë", "cafe", "zoe"] {
        let terms = casedesk_domain::list::search_terms(query);
        let found = case_ids(store, &a.org, CaseFilter { terms, ..Default::default() }).await;
        assert_eq!(found, vec![case.id.clone()], "query {query:?}");
    }
}

/// Several writers at once: case numbers never repeat, and of several updates (or comments)
/// from the same version exactly one wins.
async fn scenario_concurrent_writers(store: &Store) {
    let a = tenant(store, "Acme").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (store, case) = (store.clone(), new_case(&a.org, &a.admin.id, t(i), subject(&format!("racer {i}"))));
        tasks.spawn(async move { store.create_case(&case, &[], None).await });
    }
    let mut cases: Vec<Case> = tasks.join_all().await.into_iter().map(|r| r.unwrap()).collect();
    cases.sort_by_key(|c| c.case_number);
    assert_eq!(cases.iter().map(|c| c.case_number).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());

    // A burst in which two creates share an idempotency key: only that one fails (SQLite sends
    // concurrent creates as one round; a failed round is retried case by case).
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let case = new_case(&a.org, &a.admin.id, t(50 + i), subject(&format!("burst {i}")));
        let key = if i == 3 || i == 7 { "same-key".to_string() } else { format!("key-{i}") };
        let rec = idem(&a.org, &a.admin.id, &key, &case.id, t(50 + i));
        let store = store.clone();
        tasks.spawn(async move { store.create_case(&case, &[], Some(&rec)).await });
    }
    let results = tasks.join_all().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 11, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(StoreError::Duplicate(_)))));
    let mut numbers: Vec<i64> = results.iter().filter_map(|r| r.as_ref().ok()).map(|c| c.case_number).collect();
    numbers.sort();
    assert_eq!(numbers, (9..=19).collect::<Vec<_>>(), "no number is used by the failed create");
    for c in results.iter().filter_map(|r| r.as_ref().ok()) {
        assert_eq!(&store.get_case(&a.org, &c.id).await.unwrap(), c);
    }

    let base = cases[0].clone();
    let tz = TimeZone::UTC;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let ctx = Ctx { org_id: &a.org, actor_id: &a.admin.id, now: t(100 + i), tz: &tz };
        let patch = CasePatch { subject: Some(format!("edit {i}")), ..Default::default() };
        let (next, changes) = base.apply(patch, &ctx).unwrap();
        let events = timeline::changes(&changes, t(100 + i));
        let (store, actor, version) = (store.clone(), a.admin.id.clone(), base.version);
        tasks.spawn(async move { store.update_case(&next, version, &events, &actor).await.map(|()| next) });
    }
    let results = tasks.join_all().await;
    let winners: Vec<&Case> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one update from version 1 wins: {results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(StoreError::Stale))));
    let stored = store.get_case(&a.org, &base.id).await.unwrap();
    assert_eq!(&stored, winners[0]);
    let events = store.list_events(&a.org, &base.id, &PageRequest::first(50)).await.unwrap().items;
    assert_eq!(events.iter().filter(|e| e.kind == timeline::FIELD_CHANGED).count(), 1, "only the winner's event");

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let c = Comment::new(&a.org, &stored, &a.admin.id, &format!("reply {i}"), false, AuthorType::Agent, t(200 + i))
            .unwrap();
        let next = timeline::case_after_comment(&stored, &c, &a.admin.id);
        let (store, version) = (store.clone(), stored.version);
        tasks.spawn(async move { store.add_comment(&c, &next, version, &[], None).await.map(|()| c) });
    }
    let results = tasks.join_all().await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "exactly one comment from the same version wins: {results:?}"
    );
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(StoreError::Stale))));
    let comments = store.list_comments(&a.org, &base.id, &PageRequest::first(50)).await.unwrap().items;
    assert_eq!(comments.len(), 1);
}

/// A search ordered by creation time pages exactly like the unfiltered list, also across cases
/// created in the same instant and historical cases imported after newer ones (SQLite reads such
/// searches from the full-text index in rowid order).
async fn scenario_search_pages_in_creation_order(store: &Store) {
    let a = tenant(store, "Acme").await;
    let mut matching = Vec::new();
    for (i, at) in [100, 101, 101, 101, 102, 105].into_iter().enumerate() {
        matching.push(create(store, &a.org, &a.admin.id, t(at), subject(&format!("needle {i}"))).await.id);
    }
    create(store, &a.org, &a.admin.id, t(103), subject("haystack")).await;
    let old = store
        .import_cases(
            &a.org,
            &[historical(&a.org, &a.admin.id, 0, "needle", -500), historical(&a.org, &a.admin.id, 0, "needle", 101)],
            &a.admin.id,
            None,
        )
        .await
        .unwrap();
    matching.extend(old.into_iter().map(|c| c.id));
    let needle = CaseFilter { terms: vec!["needle".into()], ..Default::default() };
    for ordering in [Ordering::CreatedDesc, Ordering::CreatedAsc] {
        let all = walk_cases(store, &a.org, &CaseFilter::default(), ordering, 100).await;
        let expected: Vec<String> = all.into_iter().filter(|id| matching.contains(id)).collect();
        assert_eq!(expected.len(), 8);
        for limit in [1, 2, 3, 50] {
            assert_eq!(walk_cases(store, &a.org, &needle, ordering, limit).await, expected, "{ordering:?} by {limit}");
        }
        // Combined with another filter.
        let open = CaseFilter { statuses: vec![Status::New], ..needle.clone() };
        let live: Vec<String> = expected.iter().filter(|id| matching[..6].contains(id)).cloned().collect();
        assert_eq!(walk_cases(store, &a.org, &open, ordering, 2).await, live, "{ordering:?} new only");
    }
    let b = tenant(store, "Globex").await;
    assert!(walk_cases(store, &b.org, &needle, Ordering::CreatedDesc, 2).await.is_empty());
}

/// `ordering=relevance`: cases with the words in their subject come before those with them only
/// in the text, pages walk every match exactly once, and without words it is newest first.
async fn scenario_search_orders_by_relevance(store: &Store) {
    let a = tenant(store, "Acme").await;
    let filler = "the customer wrote to us about several unrelated things in a rather long message ".repeat(4);
    let in_text =
        |i: i64| NewCase { description: format!("{filler} and a refund at the end {i}"), ..subject("Question") };
    let mut text_hits = Vec::new();
    for i in 0..3 {
        text_hits.push(create(store, &a.org, &a.admin.id, t(10 + i), in_text(i)).await.id);
    }
    let mut subject_hits = Vec::new();
    for i in 0..2 {
        let case = NewCase { description: filler.clone(), ..subject(&format!("Refund request {i}")) };
        subject_hits.push(create(store, &a.org, &a.admin.id, t(i), case).await.id);
    }
    create(store, &a.org, &a.admin.id, t(20), subject("Nothing to see")).await;
    let refund = CaseFilter { terms: vec!["refund".into()], ..Default::default() };
    let ranked = walk_cases(store, &a.org, &refund, Ordering::Relevance, 50).await;
    assert_eq!(ranked.len(), 5, "{ranked:?}");
    let top: BTreeSet<&String> = ranked[..2].iter().collect();
    assert_eq!(top, subject_hits.iter().collect(), "subject matches first: {ranked:?}");
    // Equal scores: newest first.
    assert_eq!(ranked[2..], [text_hits[2].clone(), text_hits[1].clone(), text_hits[0].clone()]);
    for limit in [1, 2, 3] {
        assert_eq!(walk_cases(store, &a.org, &refund, Ordering::Relevance, limit).await, ranked, "by {limit}");
    }
    // With a phrase, and with another condition.
    let phrase = CaseFilter { phrases: vec![vec!["refund".into(), "request".into()]], ..Default::default() };
    let by_phrase = walk_cases(store, &a.org, &phrase, Ordering::Relevance, 1).await;
    assert_eq!(by_phrase.iter().collect::<BTreeSet<_>>(), subject_hits.iter().collect());
    let none = CaseFilter { statuses: vec![Status::Closed], ..refund.clone() };
    assert!(walk_cases(store, &a.org, &none, Ordering::Relevance, 2).await.is_empty());
    // No words: newest first, and its cursors work.
    let all = walk_cases(store, &a.org, &CaseFilter::default(), Ordering::CreatedDesc, 50).await;
    assert_eq!(walk_cases(store, &a.org, &CaseFilter::default(), Ordering::Relevance, 2).await, all);
    let b = tenant(store, "Globex").await;
    assert!(walk_cases(store, &b.org, &refund, Ordering::Relevance, 2).await.is_empty());
}

/// Ranking by relevance sees every write the moment it commits: a comment's words, a soft
/// delete, a restore and a purge, in this organization only.
async fn scenario_relevance_follows_every_write(store: &Store) {
    let a = tenant(store, "Acme").await;
    let first = create(store, &a.org, &a.admin.id, t(1), subject("Printer jam")).await;
    let second = create(store, &a.org, &a.admin.id, t(2), subject("Scanner")).await;
    let ranked = async |org: &str, word: &str| {
        let f = CaseFilter { terms: vec![word.into()], ..Default::default() };
        walk_cases(store, org, &f, Ordering::Relevance, 10).await
    };
    assert_eq!(ranked(&a.org, "printer").await, vec![first.id.clone()]);
    comment(store, &second, &a.admin.id, "the printer jams again", false, t(3)).await;
    // In the subject ranks above in a comment.
    assert_eq!(ranked(&a.org, "printer").await, vec![first.id.clone(), second.id.clone()]);
    assert_eq!(ranked(&a.org, "jams").await, vec![second.id.clone()]);
    store.soft_delete_case(&first, t(4), &a.admin.id).await.unwrap();
    assert_eq!(ranked(&a.org, "printer").await, vec![second.id.clone()]);
    let trashed = store.get_trashed_case(&a.org, &first.id).await.unwrap();
    let mut back = trashed.case.clone();
    back.version += 1;
    back.updated_at = t(5);
    let restored = NewEvent { kind: timeline::CASE_RESTORED, data: json!({}), created_at: t(5) };
    store.restore_case(&back, trashed.case.version, &[restored], &a.admin.id).await.unwrap();
    assert_eq!(ranked(&a.org, "printer").await, vec![first.id.clone(), second.id.clone()]);
    store.soft_delete_case(&back, t(6), &a.admin.id).await.unwrap();
    store.purge_case(&a.org, &first.id, t(7), &a.admin.id).await.unwrap();
    assert_eq!(ranked(&a.org, "printer").await, vec![second.id.clone()]);
    let b = tenant(store, "Globex").await;
    assert!(ranked(&b.org, "printer").await.is_empty());
}

/// A case is found by the names of its contact and of its requester when that is a contact,
/// across fields ("zoe refund"), and by the new name after a rename or a change of contact. A
/// full rebuild of the index (what a migration asks for) finds the same, trash left out.
async fn scenario_search_finds_cases_by_their_people(store: &Store) {
    let a = tenant(store, "Acme").await;
    let zoe = contact(&a.org, "Zoë Kowalski", None, t(1));
    let marta = contact(&a.org, "Marta Nilsson", None, t(1));
    for c in [&zoe, &marta] {
        store.insert_contact(c, None).await.unwrap();
    }
    let about_zoe = NewCase { contact_id: Some(zoe.id.clone()), ..subject("Refund for order") };
    let about_zoe = create(store, &a.org, &a.admin.id, t(2), about_zoe).await;
    let from_marta = NewCase { requester_id: Some(marta.id.clone()), ..subject("Login trouble") };
    let from_marta = create(store, &a.org, &a.admin.id, t(3), from_marta).await;
    let other = create(store, &a.org, &a.admin.id, t(4), subject("Kowalski bridge photos")).await;
    let find = async |q: &str| {
        let terms = casedesk_domain::list::search_terms(q);
        let mut ids = case_ids(store, &a.org, CaseFilter { terms, ..Default::default() }).await;
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(find("zoe refund").await, vec![about_zoe.id.clone()]);
    assert_eq!(find("nilsson").await, vec![from_marta.id.clone()]);
    assert_eq!(find("kowalski").await, sorted(vec![&about_zoe.id, &other.id]));
    // Relevance: a word in the subject outranks the same word in a name.
    let kowalski = CaseFilter { terms: vec!["kowalski".into()], ..Default::default() };
    assert_eq!(
        walk_cases(store, &a.org, &kowalski, Ordering::Relevance, 1).await,
        [other.id.clone(), about_zoe.id.clone()]
    );

    let renamed = Contact { name: "Zoë Nowak".into(), updated_at: t(5), ..zoe.clone() };
    store.update_contact(&renamed).await.unwrap();
    assert_eq!(find("kowalski").await, vec![other.id.clone()]);
    assert_eq!(find("nowak").await, vec![about_zoe.id.clone()]);

    let other = change(
        store,
        &other,
        &a.admin.id,
        t(6),
        CasePatch { contact_id: Some(Some(marta.id.clone())), ..Default::default() },
    )
    .await;
    assert_eq!(find("nilsson").await, sorted(vec![&from_marta.id, &other.id]));
    let imported = historical(&a.org, &a.admin.id, 0, "archive", -100);
    let imported = ImportedCase { case: Case { contact_id: Some(marta.id.clone()), ..imported.case }, ..imported };
    let imported = store.import_cases(&a.org, &[imported], &a.admin.id, None).await.unwrap().remove(0);
    let (_, _) = comment(store, &from_marta, &a.admin.id, "the zanzibar token expired", false, t(7)).await;
    store.soft_delete_case(&about_zoe, t(8), &a.admin.id).await.unwrap();

    let before = (find("nilsson").await, find("zanzibar").await, find("nowak").await, find("archive").await);
    assert_eq!(before.0, sorted(vec![&from_marta.id, &other.id, &imported.id]));
    assert_eq!(before.1, vec![from_marta.id.clone()]);
    assert!(before.2.is_empty(), "a case in the trash is not found");
    for batch in [1, 2, 500] {
        store.reindex_search(batch).await.unwrap();
        let after = (find("nilsson").await, find("zanzibar").await, find("nowak").await, find("archive").await);
        assert_eq!(after, before, "rebuilt in batches of {batch}");
    }
}

// ---- routing and SLA ---------------------------------------------------------------------------

fn member(q: &Queue, user_id: &str, at: Timestamp) -> QueueMember {
    QueueMember {
        queue_id: q.id.clone(),
        user_id: user_id.into(),
        org_id: q.org_id.clone(),
        role: MemberRole::Member,
        skills: vec![],
        vip: false,
        created_at: at,
    }
}

/// Routes `case` with the domain router, as the use case does, and reports who got it.
fn route_with(case: Case, ctx: &casedesk_store::RouteContext) -> RoutedWrite {
    let req = Request {
        method: ctx.queue.assignment_method,
        members: &ctx.members,
        last_turn: ctx.last_turn.as_deref(),
        required_skills: &case.required_skills,
        vip_case: false,
    };
    let assigned = routing::route(&req).ok().map(|a| a.user_id);
    let mut case = case;
    case.owner_id.clone_from(&assigned);
    RoutedWrite { case, events: vec![], assigned }
}

async fn scenario_round_robin_is_exact_across_instances(db: &TestDb) {
    let store: &Store = db;
    let a = tenant(store, "Acme").await;
    let q = Queue { assignment_method: AssignmentMethod::RoundRobin, ..queue(&a.org, "Tier 1", t(1)) };
    store.insert_queue(&q, None).await.unwrap();
    let mut agents = Vec::new();
    for i in 0..3 {
        let u = user(&a.org, &format!("agent{i}@acme.example"), Role::Agent, t(2));
        store.insert_user(&u, None).await.unwrap();
        store.put_member(&member(&q, &u.id, t(10 + i))).await.unwrap();
        agents.push(u.id);
    }
    // Three instances, ten concurrent creates each, all routed through the same queue.
    let instances = [store.clone(), db.another_instance().await, db.another_instance().await];
    let mut tasks = tokio::task::JoinSet::new();
    for (k, inst) in instances.iter().enumerate() {
        for i in 0..10 {
            let (inst, org, admin, q) = (inst.clone(), a.org.clone(), a.admin.id.clone(), q.id.clone());
            let case = new_case(
                &org,
                &admin,
                t(100 + i),
                NewCase { queue_id: Some(q.clone()), ..subject(&format!("{k}-{i}")) },
            );
            tasks.spawn(async move { inst.create_case_routed(&org, &q, None, |ctx| route_with(case, ctx)).await });
        }
    }
    let mut cases: Vec<Case> = tasks.join_all().await.into_iter().map(|r| r.unwrap()).collect();
    cases.sort_by_key(|c| c.case_number);
    let owners: Vec<&str> = cases.iter().map(|c| c.owner_id.as_deref().unwrap_or("-")).collect();
    // Each turn went to exactly one case, in rotation order: a, b, c, a, b, c …
    let expected: Vec<&str> = (0..30).map(|i| agents[i % 3].as_str()).collect();
    assert_eq!(owners, expected, "turns in case-number order");
    for inst in &instances[1..] {
        if db.kind() == BackendKind::Postgres {
            inst.close().await;
        }
    }
}

async fn scenario_routing_snapshot(store: &Store) {
    let a = tenant(store, "Acme").await;
    let q = Queue { assignment_method: AssignmentMethod::LeastActive, ..queue(&a.org, "Tier 1", t(1)) };
    store.insert_queue(&q, None).await.unwrap();
    let busy = User {
        availability: Availability::Away,
        max_open_cases: Some(2),
        ..user(&a.org, "busy@acme.example", Role::Agent, t(2))
    };
    let free = user(&a.org, "free@acme.example", Role::Agent, t(2));
    store.insert_user(&busy, None).await.unwrap();
    store.insert_user(&free, None).await.unwrap();
    store
        .put_member(&QueueMember { skills: vec!["billing".into()], vip: true, ..member(&q, &busy.id, t(3)) })
        .await
        .unwrap();
    store.put_member(&member(&q, &free.id, t(4))).await.unwrap();
    // A member keeps their place when changed.
    store.put_member(&QueueMember { role: MemberRole::Manager, ..member(&q, &free.id, t(9)) }).await.unwrap();
    let members = store.list_members(&a.org, &q.id).await.unwrap();
    assert_eq!(
        members.iter().map(|m| (m.user_id.as_str(), m.role)).collect::<Vec<_>>(),
        [(busy.id.as_str(), MemberRole::Member), (free.id.as_str(), MemberRole::Manager)]
    );
    // Open cases count per agent: two active, one resolved.
    for (i, status) in [Status::Open, Status::Pending, Status::Resolved].into_iter().enumerate() {
        let input = NewCase { owner_id: Some(busy.id.clone()), status: Some(status), ..subject(&format!("c{i}")) };
        create(store, &a.org, &a.admin.id, t(20 + i as i64), input).await;
    }
    let case = new_case(&a.org, &a.admin.id, t(30), NewCase { queue_id: Some(q.id.clone()), ..subject("routed") });
    let mut seen = None;
    let created = store
        .create_case_routed(&a.org, &q.id, None, |ctx| {
            seen = Some(ctx.members.clone());
            route_with(case, ctx)
        })
        .await
        .unwrap();
    let seen = seen.expect("decide ran");
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].user_id.as_str(), seen[0].open_cases, seen[0].max_open_cases), (busy.id.as_str(), 2, Some(2)));
    assert_eq!(
        (seen[0].availability, seen[0].vip, seen[0].skills.clone()),
        (Availability::Away, true, vec!["billing".to_string()])
    );
    assert_eq!((seen[1].user_id.as_str(), seen[1].open_cases, seen[1].last_assigned_at), (free.id.as_str(), 0, None));
    assert_eq!(created.owner_id.as_deref(), Some(free.id.as_str()));
    // The assignment is stamped on the agent for the next tie-break.
    let mut again = None;
    let case = new_case(&a.org, &a.admin.id, t(31), NewCase { queue_id: Some(q.id.clone()), ..subject("again") });
    store
        .create_case_routed(&a.org, &q.id, None, |ctx| {
            again = Some(ctx.members.clone());
            route_with(case, ctx)
        })
        .await
        .unwrap();
    let again = again.expect("decide ran");
    assert_eq!((again[1].open_cases, again[1].last_assigned_at.is_some()), (1, true));

    // The backlog: unassigned active cases of the queue, most urgent then oldest first.
    for (i, p) in [Priority::Low, Priority::Critical, Priority::Low].into_iter().enumerate() {
        let input = NewCase { queue_id: Some(q.id.clone()), priority: Some(p), ..subject(&format!("wait{i}")) };
        create(store, &a.org, &a.admin.id, t(40 + i as i64), input).await;
    }
    let backlog = store.unassigned_cases(&a.org, &q.id, 10).await.unwrap();
    let subjects: Vec<String> = {
        let mut out = Vec::new();
        for id in &backlog {
            out.push(store.get_case(&a.org, id).await.unwrap().subject);
        }
        out
    };
    assert_eq!(subjects, ["wait1", "wait0", "wait2"]);
    assert_eq!(store.queues_waiting_for(&a.org, &free.id).await.unwrap(), vec![q.id.clone()]);
    // update_case_routed writes nothing when decide declines.
    let waiting = store.get_case(&a.org, &backlog[0]).await.unwrap();
    let none = store.update_case_routed(&a.org, &q.id, waiting.version, &a.admin.id, |_| None).await.unwrap();
    assert!(none.is_none());
    assert_eq!(store.get_case(&a.org, &waiting.id).await.unwrap(), waiting);
    // A stale version is refused.
    let stale = store
        .update_case_routed(&a.org, &q.id, waiting.version + 7, &a.admin.id, |ctx| {
            let mut next = waiting.clone();
            next.version += 1;
            Some(route_with(next, ctx))
        })
        .await;
    assert_err!(stale, StoreError::Stale);
    // A queue with members is deleted with them once it holds no cases.
    let empty = queue(&a.org, "Empty", t(50));
    store.insert_queue(&empty, None).await.unwrap();
    store.put_member(&member(&empty, &free.id, t(51))).await.unwrap();
    store.delete_member(&a.org, &empty.id, &free.id).await.unwrap();
    assert_err!(store.delete_member(&a.org, &empty.id, &free.id).await, StoreError::NotFound);
    store.put_member(&member(&empty, &free.id, t(52))).await.unwrap();
    store.delete_queue(&a.org, &empty.id).await.unwrap();
    assert!(store.list_members(&a.org, &empty.id).await.unwrap().is_empty());
}

fn berlin_hours() -> BusinessCalendar {
    BusinessCalendar::from_input(CalendarInput {
        time_zone: "Europe/Berlin".into(),
        hours: vec![DayInput {
            day: "monday".into(),
            periods: vec![
                PeriodInput { start: "09:00".into(), end: "12:00".into() },
                PeriodInput { start: "13:00".into(), end: "17:00".into() },
            ],
        }],
        holidays: vec![HolidayInput { date: "2026-12-28".into(), name: "Closed".into() }],
    })
    .expect("a valid calendar")
}

fn high_policy() -> Policy {
    Policy::validate(PolicyInput {
        rules: vec![RuleInput {
            priority: "high".into(),
            first_response_minutes: Some(60),
            next_response_minutes: None,
            resolution_minutes: Some(480),
        }],
        pause_statuses: Some(vec!["on_hold".into()]),
        warn_percent: Some(75),
    })
    .expect("a valid policy")
}

async fn scenario_calendars_and_policies(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let cal = CalendarRecord {
        id: IdKind::Calendar.new_id(),
        org_id: a.org.clone(),
        name: "Berlin".into(),
        calendar: berlin_hours(),
        created_at: t(1),
        updated_at: t(1),
    };
    store.insert_calendar(&cal, None).await.unwrap();
    assert_eq!(store.get_calendar(&a.org, &cal.id).await.unwrap(), cal);
    assert_err!(store.get_calendar(&b.org, &cal.id).await, StoreError::NotFound);
    let policy = PolicyRecord {
        id: IdKind::SlaPolicy.new_id(),
        org_id: a.org.clone(),
        name: "Standard".into(),
        description: "business hours".into(),
        calendar_id: Some(cal.id.clone()),
        policy: high_policy(),
        created_at: t(2),
        updated_at: t(2),
    };
    store.insert_policy(&policy, None).await.unwrap();
    assert_eq!(store.get_policy(&a.org, &policy.id).await.unwrap(), policy);
    assert_eq!(store.list_policies(&a.org, &PageRequest::first(10)).await.unwrap().items, vec![policy.clone()]);
    assert!(store.list_policies(&b.org, &PageRequest::first(10)).await.unwrap().items.is_empty());
    // A calendar in use cannot go; an edit is stored whole.
    assert_err!(store.delete_calendar(&a.org, &cal.id).await, StoreError::InUse(_));
    let renamed = CalendarRecord {
        name: "Berlin office".into(),
        calendar: BusinessCalendar::always(),
        updated_at: t(3),
        ..cal.clone()
    };
    store.update_calendar(&renamed).await.unwrap();
    assert_eq!(store.get_calendar(&a.org, &cal.id).await.unwrap(), renamed);
    let edited =
        PolicyRecord { calendar_id: None, policy: Policy::seed_defaults(), updated_at: t(4), ..policy.clone() };
    store.update_policy(&edited).await.unwrap();
    assert_eq!(store.get_policy(&a.org, &policy.id).await.unwrap(), edited);
    // A queue using the policy lets go of it when the policy is deleted.
    let q = Queue { sla_policy_id: Some(policy.id.clone()), ..queue(&a.org, "Tier 1", t(5)) };
    store.insert_queue(&q, None).await.unwrap();
    assert_err!(store.delete_policy(&b.org, &policy.id).await, StoreError::NotFound);
    store.delete_policy(&a.org, &policy.id).await.unwrap();
    assert_eq!(store.get_queue(&a.org, &q.id).await.unwrap().sla_policy_id, None);
    store.delete_calendar(&a.org, &cal.id).await.unwrap();
    assert_err!(store.get_calendar(&a.org, &cal.id).await, StoreError::NotFound);
}

async fn scenario_sla_columns_and_sweep_list(store: &Store) {
    let a = tenant(store, "Acme").await;
    let cal = BusinessCalendar::always();
    let p = high_policy();
    let setup = Setup { policy_id: Some("sla_x"), policy: &p, calendar: &cal };
    let mut timed = Vec::new();
    for i in 0..3 {
        let mut case = new_case(
            &a.org,
            &a.admin.id,
            t(i * 600),
            NewCase { priority: Some(Priority::High), ..subject(&format!("timed {i}")) },
        );
        let (sla, events) = CaseSla::start(setup, case.priority, case.status, case.created_at, false, case.created_at);
        case.sla = Some(sla);
        timed.push(store.create_case(&case, &events, None).await.unwrap());
    }
    create(store, &a.org, &a.admin.id, t(5), subject("untimed")).await;
    // The clocks survive the round trip.
    assert_eq!(store.get_case(&a.org, &timed[0].id).await.unwrap(), timed[0]);
    // Warnings fall due at 75% of the first response (45 min): the sweep list holds exactly the
    // cases whose time has come, earliest first.
    let due = |n: i64| async move {
        store.sla_due(t(n), 100).await.unwrap().into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    assert!(due(45 * 60 - 1).await.is_empty());
    assert_eq!(due(45 * 60).await, vec![timed[0].id.clone()]);
    assert_eq!(due(55 * 60).await, vec![timed[0].id.clone(), timed[1].id.clone()]);
    // Sweeping the first case past its deadline records the breach; filters see it.
    let mut swept = timed[0].clone();
    let events = swept.sla.as_mut().map(|s| s.sweep(t(61 * 60))).unwrap_or_default();
    assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), ["sla.breached"]);
    swept.version += 1;
    store.update_case(&swept, timed[0].version, &events, &a.admin.id).await.unwrap();
    let breached = ListRequest {
        filter: CaseFilter { sla_breached: Some(true), ..Default::default() },
        ordering: Ordering::CreatedAsc,
        limit: 10,
        cursor: None,
    };
    let ids = |p: Page<casedesk_store::CaseListItem>| p.items.into_iter().map(|i| i.case.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_cases(&a.org, &breached).await.unwrap()), vec![timed[0].id.clone()]);
    let not =
        ListRequest { filter: CaseFilter { sla_breached: Some(false), ..Default::default() }, ..breached.clone() };
    assert_eq!(store.list_cases(&a.org, &not).await.unwrap().items.len(), 3);
    // sla_due_before: the next running target, not yet breached.
    let before = |n: i64| ListRequest {
        filter: CaseFilter { sla_due_before: Some(t(n)), ..Default::default() },
        ..breached.clone()
    };
    assert_eq!(ids(store.list_cases(&a.org, &before(70 * 60 + 1)).await.unwrap()), vec![timed[1].id.clone()]);
    assert!(store.list_cases(&a.org, &before(60 * 60)).await.unwrap().items.is_empty());
    // The breached first case stays on the sweep list only for its resolution warning (6 h).
    assert_eq!(due(61 * 60).await, vec![timed[1].id.clone()]);
    assert!(!due(6 * 3600 - 1).await.contains(&timed[0].id));
    assert!(due(6 * 3600).await.contains(&timed[0].id));
    // A resolved case falls due for closing after its organization's delay (4 days).
    let resolved = change(
        store,
        &timed[2],
        &a.admin.id,
        t(3600),
        CasePatch { status: Some(Status::Resolved), ..Default::default() },
    )
    .await;
    let day = 86_400;
    assert!(store.resolved_due(t(3600 + 4 * day - 1), 10).await.unwrap().is_empty());
    assert_eq!(
        store.resolved_due(t(3600 + 4 * day), 10).await.unwrap(),
        vec![(a.org.clone(), resolved.id.clone(), resolved.version)]
    );
}

async fn scenario_custom_statuses_and_funnel_stages(store: &Store) {
    use casedesk_domain::list::CustomStatusFilter;
    use casedesk_domain::workflow::{CustomStatus, FunnelStage};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    // Every organization starts with one default status per category.
    let defaults = store.list_statuses(&a.org).await.unwrap();
    let cats: Vec<(Status, bool)> = defaults.iter().map(|s| (s.category, s.is_default)).collect();
    assert_eq!(cats, Status::ALL.iter().map(|c| (*c, true)).collect::<Vec<_>>());
    assert_eq!(defaults[1].name, "Open");
    assert!(defaults.iter().all(|s| s.org_id == a.org));
    assert_eq!(store.list_statuses(&b.org).await.unwrap().len(), 6);
    let open_default = defaults[1].id.clone();

    let vendor = CustomStatus {
        name: "Waiting on vendor".into(),
        category: Status::OnHold,
        pauses_sla: Some(false),
        ..CustomStatus::blank(IdKind::CustomStatus.new_id(), a.org.clone(), t(1))
    };
    store.put_status(&vendor, None).await.unwrap();
    assert_eq!(store.get_status(&a.org, &vendor.id).await.unwrap(), vendor);
    assert_err!(store.get_status(&b.org, &vendor.id).await, StoreError::NotFound);
    // A new default takes over its category.
    let progress = CustomStatus {
        name: "In progress".into(),
        category: Status::Open,
        is_default: true,
        ..CustomStatus::blank(IdKind::CustomStatus.new_id(), a.org.clone(), t(2))
    };
    store.put_status(&progress, None).await.unwrap();
    assert!(!store.get_status(&a.org, &open_default).await.unwrap().is_default);
    assert_err!(store.delete_status(&a.org, &progress.id).await, StoreError::InUse(_));

    let stage = FunnelStage {
        name: "Diagnosis".into(),
        position: 2,
        ..FunnelStage::blank(IdKind::FunnelStage.new_id(), a.org.clone(), t(3))
    };
    let intake = FunnelStage {
        name: "Intake".into(),
        position: 1,
        ..FunnelStage::blank(IdKind::FunnelStage.new_id(), a.org.clone(), t(3))
    };
    store.put_stage(&stage, None).await.unwrap();
    store.put_stage(&intake, None).await.unwrap();

    let waiting = create(
        store,
        &a.org,
        &a.admin.id,
        t(10),
        NewCase {
            status: Some(Status::OnHold),
            custom_status_id: Some(vendor.id.clone()),
            funnel_stage_id: Some(stage.id.clone()),
            ..subject("vendor")
        },
    )
    .await;
    let open =
        create(store, &a.org, &a.admin.id, t(11), NewCase { status: Some(Status::Open), ..subject("open") }).await;
    let req = |custom_status: Option<CustomStatusFilter>, stage: Option<String>| ListRequest {
        filter: CaseFilter { custom_status, funnel_stage_id: stage, ..Default::default() },
        ordering: Ordering::CreatedAsc,
        limit: 10,
        cursor: None,
    };
    let page = store.list_cases(&a.org, &req(None, None)).await.unwrap();
    let summaries: Vec<_> = page.items.iter().map(|i| i.workflow.clone()).collect();
    assert_eq!(summaries[0].custom_status, Some((vendor.id.clone(), "Waiting on vendor".into())));
    assert_eq!(summaries[0].funnel_stage, Some((stage.id.clone(), "Diagnosis".into(), 2)));
    // No custom status named: the category's current default.
    assert_eq!(summaries[1].custom_status, Some((progress.id.clone(), "In progress".into())));
    assert_eq!(summaries[1].funnel_stage, None);
    let (_, _, _, w) = store.get_case_with_refs(&a.org, &waiting.id).await.unwrap();
    assert_eq!(w, summaries[0]);
    // Filters: a named status, a default (which also stands for cases naming none), a stage.
    let ids = |p: Page<casedesk_store::CaseListItem>| p.items.into_iter().map(|i| i.case.id).collect::<Vec<_>>();
    let by_vendor = req(Some(CustomStatusFilter { id: vendor.id.clone(), default_of: None }), None);
    assert_eq!(ids(store.list_cases(&a.org, &by_vendor).await.unwrap()), vec![waiting.id.clone()]);
    let by_default = req(Some(CustomStatusFilter { id: progress.id.clone(), default_of: Some(Status::Open) }), None);
    assert_eq!(ids(store.list_cases(&a.org, &by_default).await.unwrap()), vec![open.id.clone()]);
    assert_eq!(
        ids(store.list_cases(&a.org, &req(None, Some(stage.id.clone()))).await.unwrap()),
        vec![waiting.id.clone()]
    );
    // Stages in order with their active cases; in-use ones cannot go.
    let stages = store.list_stages(&a.org).await.unwrap();
    assert_eq!(
        stages.iter().map(|(f, n)| (f.name.as_str(), *n)).collect::<Vec<_>>(),
        [("Intake", 0), ("Diagnosis", 1)]
    );
    assert_err!(store.delete_stage(&a.org, &stage.id).await, StoreError::InUse(_));
    assert_err!(store.delete_status(&a.org, &vendor.id).await, StoreError::InUse(_));
    store.delete_stage(&a.org, &intake.id).await.unwrap();
    assert_err!(store.delete_stage(&b.org, &stage.id).await, StoreError::NotFound);
    assert!(store.list_stages(&b.org).await.unwrap().is_empty());
}

// ---- time tracking -----------------------------------------------------------------------------

fn entry(
    case: &Case,
    user: &str,
    day: &str,
    minutes: i64,
    billable: bool,
    tt: Option<&str>,
    at: Timestamp,
) -> TimeEntry {
    TimeEntry {
        id: IdKind::TimeEntry.new_id(),
        org_id: case.org_id.clone(),
        case_id: case.id.clone(),
        user_id: user.into(),
        work_date: day.parse().unwrap(),
        duration_secs: minutes * 60,
        time_type_id: tt.map(Into::into),
        billable,
        note: format!("{minutes} minutes"),
        source: Source::Manual,
        created_by: user.into(),
        created_at: at,
        updated_at: at,
    }
}

async fn scenario_time_types_entries_and_totals(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    // The organization's working day and the queue's switch round-trip.
    let o = Org { working_day_minutes: 450, updated_at: t(1), ..store.get_org(&a.org).await.unwrap() };
    store.update_org(&o).await.unwrap();
    assert_eq!(store.get_org(&a.org).await.unwrap().working_day_minutes, 450);
    let q = Queue { time_tracking: false, ..queue(&a.org, "No clocks", t(1)) };
    store.insert_queue(&q, None).await.unwrap();
    assert!(!store.get_queue(&a.org, &q.id).await.unwrap().time_tracking);
    store.update_queue(&Queue { time_tracking: true, ..q.clone() }).await.unwrap();
    assert!(store.get_queue(&a.org, &q.id).await.unwrap().time_tracking);

    let travel = TimeType {
        name: "Travel".into(),
        billable: false,
        ..TimeType::blank(IdKind::TimeType.new_id(), a.org.clone(), t(1))
    };
    let call = TimeType { name: "Call".into(), ..TimeType::blank(IdKind::TimeType.new_id(), a.org.clone(), t(2)) };
    store.insert_time_type(&travel, None).await.unwrap();
    store.insert_time_type(&call, None).await.unwrap();
    let clash = TimeType { name: "TRAVEL".into(), ..TimeType::blank(IdKind::TimeType.new_id(), a.org.clone(), t(3)) };
    assert_err!(store.insert_time_type(&clash, None).await, StoreError::Duplicate(_));
    let theirs = TimeType { name: "Travel".into(), ..TimeType::blank(IdKind::TimeType.new_id(), b.org.clone(), t(3)) };
    store.insert_time_type(&theirs, None).await.unwrap();
    assert_eq!(store.get_time_type(&a.org, &travel.id).await.unwrap(), travel);
    assert_err!(store.get_time_type(&a.org, &theirs.id).await, StoreError::NotFound);
    let listed = walk(1, |t: &TimeType| t.id.clone(), async |p| store.list_time_types(&a.org, &p).await).await;
    assert_eq!(listed, vec![call.clone(), travel.clone()]);
    let renamed = TimeType { name: "Phone call".into(), active: false, updated_at: t(4), ..call.clone() };
    store.update_time_type(&renamed).await.unwrap();
    assert_eq!(store.get_time_type(&a.org, &call.id).await.unwrap(), renamed);
    assert_err!(
        store.update_time_type(&TimeType { org_id: a.org.clone(), ..theirs.clone() }).await,
        StoreError::NotFound
    );

    let acc = account(&a.org, "Initech", None, t(1));
    store.insert_account(&acc, None).await.unwrap();
    let billed =
        create(store, &a.org, &a.admin.id, t(5), NewCase { account_id: Some(acc.id.clone()), ..subject("billed") })
            .await;
    let internal = create(store, &a.org, &a.admin.id, t(6), subject("internal")).await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let entries = [
        entry(&billed, &a.admin.id, "2026-02-27", 120, false, Some(&travel.id), t(10)),
        entry(&billed, &a.admin.id, "2026-02-28", 60, true, None, t(11)),
        entry(&internal, &agent.id, "2026-02-27", 30, true, None, t(12)),
        entry(&internal, &agent.id, "2026-03-01", 15, true, None, t(13)),
    ];
    let idem = IdempotencyRecord {
        org_id: a.org.clone(),
        user_id: a.admin.id.clone(),
        key: "te-1".into(),
        request_hash: "h".into(),
        resource_id: entries[0].id.clone(),
        status_code: 201,
        created_at: t(10),
    };
    for (i, e) in entries.iter().enumerate() {
        let rec = (i == 0).then_some(&idem);
        store.insert_time_entry(e, &[e.created_event(e.created_at)], &e.user_id, rec).await.unwrap();
    }
    assert_eq!(store.get_idempotency(&a.org, &a.admin.id, "te-1").await.unwrap(), Some(idem));
    assert_eq!(store.get_time_entry(&a.org, &entries[0].id).await.unwrap(), entries[0]);
    assert_eq!(store.get_time_entry_for_update(&a.org, &entries[2].id).await.unwrap(), entries[2]);
    assert_err!(store.get_time_entry(&b.org, &entries[0].id).await, StoreError::NotFound);
    let events = store.list_events(&a.org, &billed.id, &PageRequest::first(50)).await.unwrap();
    assert_eq!(events.items.iter().filter(|e| e.kind == "time_entry.created").count(), 2);
    assert_err!(store.delete_time_type(&a.org, &travel.id).await, StoreError::InUse(_));
    assert_err!(store.delete_time_type(&a.org, &theirs.id).await, StoreError::NotFound);

    // Timesheets: latest work first (date, then id), filtered, keyset paged.
    let ids = |p: &[TimeEntry]| p.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    let all = walk(
        3,
        |e: &TimeEntry| e.id.clone(),
        async |p| store.list_time_entries(&a.org, &EntryFilter::default(), &p).await,
    )
    .await;
    assert_eq!(ids(&all), ids(&[entries[3].clone(), entries[1].clone(), entries[2].clone(), entries[0].clone()]));
    let org = a.org.as_str();
    let f =
        |f: EntryFilter| async move { store.list_time_entries(org, &f, &PageRequest::first(50)).await.unwrap().items };
    assert_eq!(
        ids(&f(EntryFilter { user_id: Some(agent.id.clone()), ..Default::default() }).await),
        ids(&[entries[3].clone(), entries[2].clone()])
    );
    assert_eq!(
        ids(&f(EntryFilter { account_id: Some(acc.id.clone()), billable: Some(true), ..Default::default() }).await),
        ids(&[entries[1].clone()])
    );
    let from = "2026-02-28".parse().ok();
    let to = "2026-02-28".parse().ok();
    assert_eq!(ids(&f(EntryFilter { from, to, ..Default::default() }).await), ids(&[entries[1].clone()]));
    assert_eq!(
        ids(&f(EntryFilter { time_type_id: Some(travel.id.clone()), ..Default::default() }).await),
        ids(&[entries[0].clone()])
    );
    assert_eq!(
        ids(&f(EntryFilter { case_id: Some(internal.id.clone()), billable: Some(false), ..Default::default() }).await),
        Vec::<String>::new()
    );
    assert!(
        store
            .list_time_entries(&b.org, &EntryFilter::default(), &PageRequest::first(50))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_err!(
        store
            .list_time_entries(&a.org, &EntryFilter::default(), &PageRequest { limit: 2, cursor: Some("bogus".into()) })
            .await,
        StoreError::InvalidCursor
    );

    let totals = |g| async move { store.time_totals(org, g, &EntryFilter::default()).await.unwrap() };
    let tot = |k: Option<&str>, m: i64, bm: i64, n: i64| TimeTotal {
        key: k.map(Into::into),
        seconds: m * 60,
        billable_seconds: bm * 60,
        entries: n,
    };
    assert_eq!(totals(TotalsGroup::User).await, [tot(Some(&a.admin.id), 180, 60, 2), tot(Some(&agent.id), 45, 45, 2)]);
    assert_eq!(totals(TotalsGroup::Account).await, [tot(Some(&acc.id), 180, 60, 2), tot(None, 45, 45, 2)]);
    assert_eq!(totals(TotalsGroup::TimeType).await, [tot(Some(&travel.id), 120, 0, 1), tot(None, 105, 105, 3)]);
    assert_eq!(
        totals(TotalsGroup::Case).await,
        [tot(Some(&billed.id), 180, 60, 2), tot(Some(&internal.id), 45, 45, 2)]
    );
    assert_eq!(totals(TotalsGroup::Date).await[0], tot(Some("2026-02-27"), 150, 30, 2));
    assert!(store.time_totals(&b.org, TotalsGroup::User, &EntryFilter::default()).await.unwrap().is_empty());

    // Changes and deletes, each on the timeline.
    let changed = TimeEntry {
        duration_secs: 90 * 60,
        note: "longer".into(),
        time_type_id: None,
        updated_at: t(20),
        ..entries[0].clone()
    };
    store.update_time_entry(&changed, &[changed.updated_event(&entries[0], t(20))], &a.admin.id).await.unwrap();
    assert_eq!(store.get_time_entry(&a.org, &changed.id).await.unwrap(), changed);
    assert_err!(
        store.update_time_entry(&TimeEntry { org_id: b.org.clone(), ..changed.clone() }, &[], &b.admin.id).await,
        StoreError::NotFound
    );
    store.delete_time_type(&a.org, &travel.id).await.unwrap();
    assert_err!(store.get_time_type(&a.org, &travel.id).await, StoreError::NotFound);
    store.delete_time_entry(&entries[1], &[entries[1].deleted_event(t(21))], &a.admin.id).await.unwrap();
    assert_err!(store.delete_time_entry(&entries[1], &[], &a.admin.id).await, StoreError::NotFound);
    assert_err!(store.get_time_entry(&a.org, &entries[1].id).await, StoreError::NotFound);
    let kinds: Vec<String> = store
        .list_events(&a.org, &billed.id, &PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.ends_with(&["time_entry.updated".to_string(), "time_entry.deleted".to_string()]), "{kinds:?}");
    assert_eq!(
        store.case_time(&a.org, &billed.id).await.unwrap(),
        CaseTime { spent_seconds: 5400, billable_seconds: 0, entries: 1, estimate_minutes: None }
    );
}

async fn scenario_timers_and_estimates(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let first = create(store, &a.org, &a.admin.id, t(1), subject("first")).await;
    let second = create(store, &a.org, &a.admin.id, t(2), subject("second")).await;
    let me = &a.admin.id;

    // A new timer (version 1) is inserted with its event.
    let timer = Timer::new(IdKind::Timer.new_id(), &a.org, me, &first.id, t(10)).started(t(10));
    let change = TimerChange {
        org_id: a.org.clone(),
        put: Some(timer.clone()),
        events: vec![(first.id.clone(), vec![timer.started_event(false, t(10))])],
        ..Default::default()
    };
    store.write_timers(&change, me).await.unwrap();
    assert_eq!(store.list_timers(&a.org, me).await.unwrap(), std::slice::from_ref(&timer));
    assert!(store.list_timers(&b.org, me).await.unwrap().is_empty());

    // A second running timer of one agent breaks the rule, and nothing of that change stays.
    let rogue = Timer::new(IdKind::Timer.new_id(), &a.org, me, &second.id, t(11)).started(t(11));
    let bad = TimerChange {
        org_id: a.org.clone(),
        put: Some(rogue.clone()),
        events: vec![(second.id.clone(), vec![rogue.started_event(false, t(11))])],
        ..Default::default()
    };
    assert_err!(store.write_timers(&bad, me).await, StoreError::Duplicate(_));
    assert_eq!(store.list_timers(&a.org, me).await.unwrap(), std::slice::from_ref(&timer));
    assert!(
        store
            .list_events(&a.org, &second.id, &PageRequest::first(50))
            .await
            .unwrap()
            .items
            .iter()
            .all(|e| e.kind != "timer.started")
    );

    // Pausing writes at the version read; a stale copy is refused.
    let paused = timer.paused(t(70));
    store
        .write_timers(&TimerChange { org_id: a.org.clone(), put: Some(paused.clone()), ..Default::default() }, me)
        .await
        .unwrap();
    assert_eq!(store.list_timers(&a.org, me).await.unwrap(), std::slice::from_ref(&paused));
    assert_eq!(paused.elapsed_secs(t(500)), 60);
    assert_err!(
        store
            .write_timers(
                &TimerChange { org_id: a.org.clone(), put: Some(timer.paused(t(80))), ..Default::default() },
                me
            )
            .await,
        StoreError::Stale
    );

    // Now the second may run; stopping the first turns it into an entry, all in one write.
    let running = Timer::new(IdKind::Timer.new_id(), &a.org, me, &second.id, t(100)).started(t(100));
    store
        .write_timers(&TimerChange { org_id: a.org.clone(), put: Some(running.clone()), ..Default::default() }, me)
        .await
        .unwrap();
    let listed = store.list_timers(&a.org, me).await.unwrap();
    assert_eq!(listed, [running.clone(), paused.clone()], "running first");
    let e = TimeEntry {
        source: Source::Timer,
        duration_secs: 60,
        ..entry(&first, me, "2026-03-02", 1, true, None, t(120))
    };
    let stop = TimerChange {
        org_id: a.org.clone(),
        stop: vec![paused.clone()],
        entries: vec![e.clone()],
        events: vec![(
            first.id.clone(),
            vec![paused.stopped_event(&StopReason::Stopped, Some(&e.id), t(120)), e.created_event(t(120))],
        )],
        ..Default::default()
    };
    store.write_timers(&stop, me).await.unwrap();
    assert_eq!(store.list_timers(&a.org, me).await.unwrap(), std::slice::from_ref(&running));
    assert_eq!(store.get_time_entry(&a.org, &e.id).await.unwrap(), e);
    assert_err!(store.write_timers(&stop, me).await, StoreError::Stale);
    let kinds: Vec<String> = store
        .list_events(&a.org, &first.id, &PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.ends_with(&["timer.started".into(), "timer.stopped".into(), "time_entry.created".into()]),
        "{kinds:?}"
    );

    // Estimates: set, change, remove; each on the timeline; another organization sees none.
    store
        .set_time_estimate(&a.org, &first.id, Some(180), &[estimate_event(None, Some(180), t(130))], me, t(130))
        .await
        .unwrap();
    store
        .set_time_estimate(&a.org, &first.id, Some(240), &[estimate_event(Some(180), Some(240), t(131))], me, t(131))
        .await
        .unwrap();
    assert_eq!(
        store.case_time(&a.org, &first.id).await.unwrap(),
        CaseTime { spent_seconds: 60, billable_seconds: 60, entries: 1, estimate_minutes: Some(240) }
    );
    assert_eq!(
        store.case_time(&b.org, &first.id).await.unwrap(),
        CaseTime { spent_seconds: 0, billable_seconds: 0, entries: 0, estimate_minutes: None }
    );
    store
        .set_time_estimate(&a.org, &first.id, None, &[estimate_event(Some(240), None, t(132))], me, t(132))
        .await
        .unwrap();
    assert_eq!(store.case_time(&a.org, &first.id).await.unwrap().estimate_minutes, None);
    let n = store
        .list_events(&a.org, &first.id, &PageRequest::first(50))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|e| e.kind == "time_estimate.changed")
        .count();
    assert_eq!(n, 3);
}

// ---- files -------------------------------------------------------------------------------------

fn case_file(case: &Case, by: &str, name: &str, sha: char, at: Timestamp) -> casedesk_domain::file::CaseFile {
    casedesk_domain::file::CaseFile {
        id: IdKind::File.new_id(),
        org_id: case.org_id.clone(),
        case_id: case.id.clone(),
        comment_id: None,
        name: name.into(),
        content_type: "text/plain".into(),
        size: 42,
        sha256: sha.to_string().repeat(64),
        uploaded_by: by.into(),
        created_at: at,
    }
}

fn file_event(at: Timestamp) -> NewEvent {
    NewEvent { kind: "file.added", data: serde_json::json!({}), created_at: at }
}

fn file_deleted(at: Timestamp) -> NewEvent {
    NewEvent { kind: "file.deleted", data: serde_json::json!({}), created_at: at }
}

async fn scenario_files_and_attachments(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let case = create(store, &a.org, &a.admin.id, t(1), subject("Logs attached")).await;
    let other = create(store, &a.org, &a.admin.id, t(2), subject("Another")).await;
    let first = case_file(&case, &a.admin.id, "first.log", 'a', t(10));
    let second = case_file(&case, &a.admin.id, "second.log", 'a', t(11));
    let elsewhere = case_file(&other, &a.admin.id, "x.log", 'b', t(12));
    for f in [&first, &second, &elsewhere] {
        store.insert_file(f, &file_event(f.created_at)).await.unwrap();
    }
    assert_eq!(store.list_files(&a.org, &case.id).await.unwrap(), vec![first.clone(), second.clone()]);
    assert!(store.list_files(&b.org, &case.id).await.unwrap().is_empty());
    assert_eq!(store.get_file(&a.org, &first.id).await.unwrap(), first);
    assert_err!(store.get_file(&b.org, &first.id).await, StoreError::NotFound);
    assert!(store.blob_in_use(&"a".repeat(64)).await.unwrap());
    assert!(!store.blob_in_use(&"c".repeat(64)).await.unwrap());
    let kinds = |events: Vec<Event>| events.into_iter().map(|e| e.kind).collect::<Vec<_>>();
    let events = store.list_events(&a.org, &case.id, &PageRequest::first(50)).await.unwrap().items;
    assert_eq!(kinds(events).iter().filter(|k| *k == "file.added").count(), 2);

    // A comment takes files of its case; it lists them, and they name it.
    let mut c = Comment::new(&a.org, &case, &a.admin.id, "see attached", false, AuthorType::Agent, t(20)).unwrap();
    c.attachments = vec![first.clone()];
    let next = timeline::case_after_comment(&case, &c, &a.admin.id);
    store.add_comment(&c, &next, case.version, &[], None).await.unwrap();
    let stored = store.get_comment(&a.org, &c.id).await.unwrap();
    assert_eq!(stored.attachments.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), vec![first.id.as_str()]);
    assert_eq!(store.get_file(&a.org, &first.id).await.unwrap().comment_id.as_deref(), Some(c.id.as_str()));
    let listed = store.list_comments(&a.org, &case.id, &PageRequest::first(10)).await.unwrap().items;
    assert_eq!(listed[0].attachments.len(), 1);

    // A file attached already, or of another case, makes the whole comment fail.
    for taken in [first.clone(), elsewhere.clone()] {
        let mut again = Comment::new(&a.org, &next, &a.admin.id, "again", false, AuthorType::Agent, t(21)).unwrap();
        again.attachments = vec![second.clone(), taken];
        let after = timeline::case_after_comment(&next, &again, &a.admin.id);
        assert_err!(store.add_comment(&again, &after, next.version, &[], None).await, StoreError::Stale);
        assert_err!(store.get_comment(&a.org, &again.id).await, StoreError::NotFound);
        assert_eq!(store.get_file(&a.org, &second.id).await.unwrap().comment_id, None, "rolled back");
    }

    // Deleting: gone from the case and the comment; the content is still used by `second`.
    store.delete_file(&first, &a.admin.id, &file_deleted(t(30))).await.unwrap();
    assert_err!(store.get_file(&a.org, &first.id).await, StoreError::NotFound);
    assert!(store.get_comment(&a.org, &c.id).await.unwrap().attachments.is_empty());
    assert_err!(store.delete_file(&first, &a.admin.id, &file_deleted(t(31))).await, StoreError::NotFound);
    assert!(store.blob_in_use(&"a".repeat(64)).await.unwrap());
    store.delete_file(&second, &a.admin.id, &file_deleted(t(32))).await.unwrap();
    assert!(!store.blob_in_use(&"a".repeat(64)).await.unwrap());
    // Another organization's delete finds nothing.
    let mut theirs = elsewhere.clone();
    theirs.org_id = b.org.clone();
    assert_err!(store.delete_file(&theirs, &b.admin.id, &file_deleted(t(33))).await, StoreError::NotFound);
    assert_eq!(store.list_files(&a.org, &other.id).await.unwrap(), vec![elsewhere]);
}

// ---- change feed -------------------------------------------------------------------------------

/// Reads the feed from `after` until it has given `want` events (on PostgreSQL the feed waits
/// for every older transaction of the cluster, and other tests run beside this one); returns the
/// events' seqs and the cursor to continue from.
async fn read_feed(
    store: &Store,
    org: &str,
    after: Option<String>,
    limit: u32,
    want: usize,
) -> (Vec<i64>, Option<String>) {
    let mut cursor = after;
    let mut seqs = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = store.event_feed(org, cursor.as_deref(), limit).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        seqs.extend(page.items.iter().map(|e| e.seq));
        assert!(page.cursor.is_some() || seqs.is_empty());
        cursor = page.cursor;
        if page.has_more {
            continue;
        }
        if seqs.len() >= want || std::time::Instant::now() > deadline {
            return (seqs, cursor);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The events after `after`, once the feed has given `want` of them (or 20 s passed).
async fn feed_events(store: &Store, org: &str, after: Option<String>, want: usize) -> Vec<Event> {
    let mut cursor = after;
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while out.len() < want && std::time::Instant::now() < deadline {
        let page = store.event_feed(org, cursor.as_deref(), 10).await.unwrap();
        if page.items.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        out.extend(page.items);
        cursor = page.cursor;
    }
    out
}

async fn scenario_event_feed(db: &TestDb) {
    let store: &Store = db;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let (empty, none) = read_feed(store, &a.org, None, 10, 0).await;
    assert!(empty.is_empty() && none.is_none(), "a new organization's feed is empty");
    let one = create(store, &a.org, &a.admin.id, t(1), subject("first")).await;
    let two = create(store, &a.org, &a.admin.id, t(2), subject("second")).await;
    create(store, &b.org, &b.admin.id, t(3), subject("theirs")).await;
    let (_, one) = comment(store, &one, &a.admin.id, "a note", true, t(4)).await;
    change(store, &two, &a.admin.id, t(5), CasePatch { priority: Some(Priority::High), ..Default::default() }).await;

    // Every event of the organization, once each, whatever the page size.
    let mut expected = Vec::new();
    for id in [&one.id, &two.id] {
        let events = store.list_events(&a.org, id, &PageRequest::first(100)).await.unwrap().items;
        expected.extend(events.iter().map(|e| e.seq));
    }
    expected.sort_unstable();
    for limit in [1, 2, 3, 100] {
        let (seqs, _) = read_feed(store, &a.org, None, limit, expected.len()).await;
        assert_eq!(seqs, expected, "pages of {limit}");
    }
    // Polling at the end returns nothing and keeps the cursor; new events come next.
    let (_, cursor) = read_feed(store, &a.org, None, 100, expected.len()).await;
    let page = store.event_feed(&a.org, cursor.as_deref(), 10).await.unwrap();
    assert!(page.items.is_empty() && !page.has_more);
    assert_eq!(page.cursor, cursor);
    let (_, one) = comment(store, &one, &a.admin.id, "later", false, t(6)).await;
    let (new, cursor) = read_feed(store, &a.org, cursor, 10, 1).await;
    assert_eq!(new.len(), 1, "only the new comment");
    assert_err!(store.event_feed(&a.org, Some("bogus"), 10).await, StoreError::InvalidCursor);

    // A transaction that took its seq early and commits late is not skipped: the feed holds
    // back what came after it until it is final.
    if let Raw::Postgres { store_url, .. } = &db.raw {
        let late = sqlx::PgPool::connect(store_url).await.unwrap();
        let mut tx = late.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO case_events (org_id, case_id, kind, actor_id, data, created_at) \
             VALUES ($1, $2, 'test.late', $3, '{}', 0)",
        )
        .bind(&a.org)
        .bind(&one.id)
        .bind(&a.admin.id)
        .execute(&mut *tx)
        .await
        .unwrap();
        comment(store, &one, &a.admin.id, "committed first", false, t(7)).await;
        let page = store.event_feed(&a.org, cursor.as_deref(), 10).await.unwrap();
        assert!(page.items.is_empty(), "nothing is served while an older transaction runs: {:?}", page.items);
        assert_eq!(page.cursor, cursor);
        tx.commit().await.unwrap();
        let events = feed_events(store, &a.org, cursor.clone(), 2).await;
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, vec!["test.late", "comment.added"], "both, in transaction order");
        assert!(events[0].seq < events[1].seq, "the late one took the lower seq");
        late.close().await;
    }
}

// ---- views and counts --------------------------------------------------------------------------

async fn scenario_views_and_counts(store: &Store) {
    use casedesk_domain::query::{Clause, Test, Who};
    use casedesk_domain::view::{Scope, View};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let v = View {
        id: IdKind::View.new_id(),
        org_id: a.org.clone(),
        name: "VIP".into(),
        query: "tag:vip".into(),
        columns: vec!["subject".into(), "cf.order_id".into()],
        ordering: Ordering::PriorityDesc,
        scope: Scope::Organization,
        queue_id: None,
        created_by: a.admin.id.clone(),
        created_at: t(1),
        updated_at: t(1),
    };
    store.put_view(&v).await.unwrap();
    assert_eq!(store.get_view(&a.org, &v.id).await.unwrap(), v);
    assert_err!(store.get_view(&b.org, &v.id).await, StoreError::NotFound);
    let renamed = View { name: "VIP backlog".into(), scope: Scope::Personal, updated_at: t(2), ..v.clone() };
    store.put_view(&renamed).await.unwrap();
    assert_eq!(store.list_views(&a.org).await.unwrap(), vec![renamed.clone()]);
    assert!(store.list_views(&b.org).await.unwrap().is_empty());
    assert_err!(store.delete_view(&b.org, &v.id).await, StoreError::NotFound);
    store.delete_view(&a.org, &v.id).await.unwrap();
    assert_err!(store.delete_view(&a.org, &v.id).await, StoreError::NotFound);

    // Counting: the same cases a list finds, whatever the filter.
    for i in 0..5 {
        let tags = if i % 2 == 0 { vec!["vip".to_string()] } else { vec![] };
        create(store, &a.org, &a.admin.id, t(10 + i), NewCase { tags, ..subject(&format!("case {i}")) }).await;
    }
    create(store, &b.org, &b.admin.id, t(20), NewCase { tags: vec!["vip".into()], ..subject("theirs") }).await;
    let vip = Clause { negated: false, test: Test::Tag(vec!["vip".into()]) };
    let nobody = Clause { negated: true, test: Test::Assignee(Who::Nobody) };
    let status_new = Clause { negated: false, test: Test::Status(vec![casedesk_domain::case::Status::New]) };
    let unowned = Clause { negated: false, test: Test::Assignee(Who::Nobody) };
    let by_email = Clause { negated: false, test: Test::CreatedBy(a.admin.email.to_uppercase()) };
    let medium = Clause { negated: false, test: Test::Priority(vec![casedesk_domain::case::Priority::Medium]) };
    for filter in [
        CaseFilter::default(),
        CaseFilter { clauses: vec![vip.clone()], ..Default::default() },
        CaseFilter { clauses: vec![Clause { negated: true, ..vip }], ..Default::default() },
        CaseFilter { clauses: vec![nobody], ..Default::default() },
        CaseFilter { terms: vec!["case".into()], ..Default::default() },
        // From the maintained totals: statuses and one of owner, queue, priority, creator, editor.
        CaseFilter { clauses: vec![status_new.clone()], ..Default::default() },
        CaseFilter { clauses: vec![Clause { negated: true, ..status_new.clone() }], ..Default::default() },
        CaseFilter { clauses: vec![status_new, unowned], ..Default::default() },
        CaseFilter { clauses: vec![by_email], ..Default::default() },
        CaseFilter { clauses: vec![medium], ..Default::default() },
    ] {
        let n = store.count_cases(&a.org, &filter).await.unwrap();
        let listed = case_ids(store, &a.org, filter.clone()).await;
        assert_eq!(n, listed.len() as i64, "{filter:?}");
    }
    assert_eq!(store.count_cases(&a.org, &CaseFilter::default()).await.unwrap(), 5);
    assert_eq!(store.queues_of_user(&a.org, &a.admin.id).await.unwrap(), Vec::<String>::new());
}

// ---- scenarios: trash and bulk jobs -------------------------------------------------------------

async fn scenario_trash_restore_and_purge(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let problem = create(
        store,
        &a.org,
        &a.admin.id,
        t(1),
        NewCase { case_type: Some(CaseType::Problem), ..subject("the walrus problem") },
    )
    .await;
    let incident = create(
        store,
        &a.org,
        &a.admin.id,
        t(2),
        NewCase {
            case_type: Some(CaseType::Incident),
            problem_id: Some(problem.id.clone()),
            ..subject("walrus incident")
        },
    )
    .await;
    let (_, problem) = comment(store, &problem, &a.admin.id, "a narwhal note", false, t(3)).await;

    store.soft_delete_case(&problem, t(10), &a.admin.id).await.unwrap();
    let trash = store.list_trash(&a.org, &PageRequest::first(10)).await.unwrap();
    assert_eq!(trash.items.len(), 1);
    assert_eq!((trash.items[0].deleted_at, trash.items[0].deleted_by.as_deref()), (t(10), Some(a.admin.id.as_str())));
    assert_eq!(trash.items[0].case.id, problem.id);
    assert!(store.list_trash(&b.org, &PageRequest::first(10)).await.unwrap().items.is_empty());
    assert_err!(store.get_trashed_case(&b.org, &problem.id).await, StoreError::NotFound);
    assert_err!(store.get_trashed_case(&a.org, &incident.id).await, StoreError::NotFound);
    assert_err!(store.purge_case(&a.org, &incident.id, t(11), &a.admin.id).await, StoreError::NotFound);
    assert_err!(store.purge_case(&b.org, &problem.id, t(11), &a.admin.id).await, StoreError::NotFound);

    // Restored: back in lists and in the full-text index, at its next version.
    let trashed = store.get_trashed_case(&a.org, &problem.id).await.unwrap();
    let mut back = trashed.case.clone();
    back.version += 1;
    back.updated_at = t(12);
    let restored = NewEvent { kind: timeline::CASE_RESTORED, data: json!({}), created_at: t(12) };
    assert_err!(
        store.restore_case(&back, trashed.case.version + 5, std::slice::from_ref(&restored), &a.admin.id).await,
        StoreError::Stale
    );
    store.restore_case(&back, trashed.case.version, std::slice::from_ref(&restored), &a.admin.id).await.unwrap();
    assert_eq!(store.get_case(&a.org, &problem.id).await.unwrap(), back);
    let narwhal = CaseFilter { terms: vec!["narwhal".into()], ..Default::default() };
    assert_eq!(case_ids(store, &a.org, narwhal.clone()).await, vec![problem.id.clone()]);
    assert_err!(store.restore_case(&back, back.version, &[restored], &a.admin.id).await, StoreError::Stale);

    // Purged: gone with everything of its own; the incident no longer names it.
    store.soft_delete_case(&back, t(20), &a.admin.id).await.unwrap();
    assert_eq!(store.trash_expired(t(20), 10).await.unwrap(), vec![]);
    assert_eq!(store.trash_expired(t(21), 10).await.unwrap(), vec![(a.org.clone(), problem.id.clone())]);
    store.purge_case(&a.org, &problem.id, t(30), &a.admin.id).await.unwrap();
    assert_err!(store.get_trashed_case(&a.org, &problem.id).await, StoreError::NotFound);
    assert_err!(store.purge_case(&a.org, &problem.id, t(31), &a.admin.id).await, StoreError::NotFound);
    assert!(store.list_comments(&a.org, &problem.id, &PageRequest::first(10)).await.unwrap().items.is_empty());
    let events = store.list_events(&a.org, &problem.id, &PageRequest::first(10)).await.unwrap().items;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, [timeline::CASE_PURGED], "only the purge is left of its timeline");
    let incident_now = store.get_case(&a.org, &incident.id).await.unwrap();
    assert_eq!(incident_now.problem_id, None);
    assert_eq!(incident_now.version, incident.version + 1, "a case that named it changes version");
    assert!(case_ids(store, &a.org, narwhal).await.is_empty());
    assert_eq!(store.trash_expired(t(100), 10).await.unwrap(), vec![]);
}

async fn scenario_bulk_jobs_claims_and_leases(store: &Store) {
    use casedesk_domain::bulk::{BulkAction, BulkJob, JobState, Outcome};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let first = BulkJob::new(&a.org, &a.admin.id, BulkAction::Close, "tag:old".into(), 4, t(1));
    let second = BulkJob::new(&a.org, &a.admin.id, BulkAction::Delete, "tag:spam".into(), 2, t(2));
    store.insert_bulk_job(&first).await.unwrap();
    store.insert_bulk_job(&second).await.unwrap();
    assert_eq!(store.get_bulk_job(&a.org, &first.id).await.unwrap(), first);
    assert_err!(store.get_bulk_job(&b.org, &first.id).await, StoreError::NotFound);
    assert_err!(store.cancel_bulk_job(&b.org, &second.id, t(3)).await, StoreError::NotFound);

    // A queued job cancelled never runs.
    store.cancel_bulk_job(&a.org, &second.id, t(3)).await.unwrap();
    let cancelled = store.get_bulk_job(&a.org, &second.id).await.unwrap();
    assert_eq!(
        (cancelled.state, cancelled.finished_at, cancelled.cancel_requested),
        (JobState::Cancelled, Some(t(3)), true)
    );

    // One claim at a time; the oldest first.
    let mut mine = store.claim_bulk_job("w1", t(5), t(65)).await.unwrap().expect("a job to claim");
    assert_eq!((mine.id.as_str(), mine.state, mine.started_at), (first.id.as_str(), JobState::Running, Some(t(5))));
    assert!(store.claim_bulk_job("w2", t(6), t(66)).await.unwrap().is_none(), "nothing else is waiting");
    mine.record("case_1", Ok(Outcome::Changed));
    mine.record("case_2", Err(("case_closed".into(), "closed".into())));
    mine.cursor = Some("next".into());
    assert!(!store.save_bulk_job(&mine, "w1", t(70)).await.unwrap(), "no cancel asked");
    assert!(store.claim_bulk_job("w2", t(69), t(129)).await.unwrap().is_none(), "the lease still holds");

    // The lease runs out: another worker takes the job over where it stood; the first is shut out.
    let taken = store.claim_bulk_job("w2", t(71), t(131)).await.unwrap().expect("taken over");
    assert_eq!((taken.processed, taken.failed, taken.cursor.as_deref()), (2, 1, Some("next")));
    assert_eq!(taken.failures, mine.failures);
    assert_eq!(taken.started_at, Some(t(5)), "started when first claimed");
    assert_err!(store.save_bulk_job(&mine, "w1", t(140)).await, StoreError::Stale);
    store.cancel_bulk_job(&a.org, &first.id, t(72)).await.unwrap();
    assert_eq!(
        store.get_bulk_job(&a.org, &first.id).await.unwrap().state,
        JobState::Running,
        "a running job stops itself"
    );
    assert!(store.save_bulk_job(&taken, "w2", t(140)).await.unwrap(), "the worker learns of the cancel");
    let mut end = taken.clone();
    end.state = JobState::Cancelled;
    end.finished_at = Some(t(73));
    store.save_bulk_job(&end, "w2", t(73)).await.unwrap();
    assert!(store.claim_bulk_job("w3", t(1000), t(1060)).await.unwrap().is_none(), "a finished job is never claimed");
    let last = store.get_bulk_job(&a.org, &first.id).await.unwrap();
    assert_eq!((last.state, last.finished_at, last.cancel_requested), (JobState::Cancelled, Some(t(73)), true));
}

async fn scenario_export_names_and_time(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let q = queue(&a.org, "Billing", t(1));
    store.insert_queue(&q, None).await.unwrap();
    let ada = contact(&a.org, "Ada", None, t(1));
    store.insert_contact(&ada, None).await.unwrap();
    let theirs = contact(&b.org, "Not yours", None, t(1));
    store.insert_contact(&theirs, None).await.unwrap();
    let ids = vec![
        a.admin.id.clone(),
        ada.id.clone(),
        q.id.clone(),
        theirs.id.clone(),
        b.admin.id.clone(),
        "case_x".to_string(),
        "ccat_missing".to_string(),
    ];
    let mut names = store.names_of(&a.org, &ids).await.unwrap();
    names.sort();
    let mut want = vec![
        (a.admin.id.clone(), a.admin.name.clone()),
        (ada.id.clone(), "Ada".into()),
        (q.id.clone(), "Billing".into()),
    ];
    want.sort();
    assert_eq!(names, want, "only the organization's users, contacts and queues");
    assert!(store.names_of(&a.org, &[]).await.unwrap().is_empty());

    let logged = create(store, &a.org, &a.admin.id, t(5), subject("logged")).await;
    let idle = create(store, &a.org, &a.admin.id, t(6), subject("idle")).await;
    let other = create(store, &b.org, &b.admin.id, t(7), subject("theirs")).await;
    for e in [
        entry(&logged, &a.admin.id, "2026-02-27", 90, true, None, t(10)),
        entry(&logged, &a.admin.id, "2026-02-28", 30, false, None, t(11)),
        entry(&other, &b.admin.id, "2026-02-28", 45, true, None, t(12)),
    ] {
        store.insert_time_entry(&e, &[], &e.user_id, None).await.unwrap();
    }
    let ids = vec![logged.id.clone(), idle.id.clone(), other.id.clone()];
    let spent = store.time_spent_of(&a.org, &ids).await.unwrap();
    assert_eq!(spent, vec![(logged.id.clone(), 120 * 60)], "sums the organization's entries per case");
    assert!(store.time_spent_of(&a.org, &[]).await.unwrap().is_empty());
}

// ---- scenarios: webhooks -------------------------------------------------------------------------

fn webhook(a: &Tenant, events: &[&str], at: Timestamp) -> casedesk_domain::webhook::Webhook {
    use casedesk_domain::webhook::Webhook;
    let w = Webhook::new(IdKind::Webhook.new_id(), &a.org, &a.admin.id, "whsec_conformance".into(), at);
    Webhook { url: "https://hooks.example.com/in".into(), events: events.iter().map(|e| e.to_string()).collect(), ..w }
}

/// Dispatches until `want` deliveries were made in all (on PostgreSQL the dispatcher waits for
/// every older transaction of the cluster, and other tests run beside this one).
async fn dispatch_until(
    store: &Store,
    now: Timestamp,
    want: usize,
    seen: &std::sync::Mutex<Vec<(String, bool)>>,
) -> usize {
    use casedesk_domain::webhook::{self, Delivery, Webhook};
    let make = |hooks: &[Webhook], e: &Event, case: Option<&Case>, comment: Option<&Comment>| {
        let mut out = Vec::new();
        for h in hooks {
            // The case, and a comment.added event's comment, come along.
            let with_comment = comment.is_some_and(|c| Some(c.id.as_str()) == e.data["comment_id"].as_str());
            let given = case.is_some_and(|c| c.id == e.case_id) && (e.kind == timeline::COMMENT_ADDED) == with_comment;
            seen.lock().unwrap().push((h.id.clone(), given));
            if h.subscribes(&e.kind) {
                out.push(Delivery::new(
                    IdKind::WebhookDelivery.new_id(),
                    h,
                    e,
                    webhook::payload(e, case, comment),
                    now,
                ));
            }
        }
        out
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut made = 0;
    loop {
        made += store.dispatch_webhook_events(100, &make).await.unwrap();
        if made >= want || std::time::Instant::now() > deadline {
            return made;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn scenario_webhooks_and_their_outbox(store: &Store) {
    use casedesk_domain::webhook::{DeliveryState, Webhook};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    // History: once the feed shows it, a new webhook starts after it.
    create(store, &a.org, &a.admin.id, t(1), subject("before any webhook")).await;
    read_feed(store, &a.org, None, 100, 1).await;

    let all = webhook(&a, &["*"], t(2));
    let comments = webhook(&a, &["comment.added"], t(3));
    let off = Webhook { active: false, ..webhook(&a, &["*"], t(4)) };
    for w in [&all, &comments, &off] {
        store.insert_webhook(w).await.unwrap();
    }
    assert_eq!(store.get_webhook(&a.org, &all.id).await.unwrap(), all);
    assert_err!(store.get_webhook(&b.org, &all.id).await, StoreError::NotFound);
    let first = store.list_webhooks(&a.org, &PageRequest::first(2)).await.unwrap();
    assert_eq!(first.items.iter().map(|w| &w.id).collect::<Vec<_>>(), [&off.id, &comments.id], "newest first");
    let rest = store.list_webhooks(&a.org, &PageRequest { limit: 2, cursor: first.next_cursor }).await.unwrap();
    assert_eq!((rest.items.len(), rest.items[0].id.as_str(), rest.next_cursor), (1, all.id.as_str(), None));
    assert!(store.list_webhooks(&b.org, &PageRequest::first(10)).await.unwrap().items.is_empty());

    // New events become deliveries once, for the active webhooks that subscribe to them.
    let seen = std::sync::Mutex::new(Vec::new());
    let one = create(store, &a.org, &a.admin.id, t(10), subject("one")).await;
    let (_, one) = comment(store, &one, &a.admin.id, "a note", true, t(11)).await;
    create(store, &b.org, &b.admin.id, t(12), subject("theirs")).await;
    assert_eq!(dispatch_until(store, t(13), 3, &seen).await, 3, "created → all; comment → all and comments");
    assert_eq!(dispatch_until(store, t(14), 0, &seen).await, 0, "nothing twice");
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.iter().all(|(id, case_given)| *id != off.id && *case_given),
        "active webhooks, with the case: {seen:?}"
    );
    assert_eq!(seen.len(), 4, "two events for two active webhooks, the history not at all: {seen:?}");

    let log = store.list_webhook_deliveries(&a.org, &all.id, &PageRequest::first(10)).await.unwrap().items;
    assert_eq!(log.iter().map(|d| d.event_type.as_str()).collect::<Vec<_>>(), ["comment.added", "case.created"]);
    assert!(log.iter().all(|d| d.case_id == one.id && d.state == DeliveryState::Pending && d.attempts == 0));
    let (created_d, comment_d) = (log[1].clone(), log[0].clone());
    assert!(created_d.event_seq < comment_d.event_seq);
    assert_eq!(store.get_webhook_delivery(&a.org, &all.id, &created_d.id).await.unwrap(), created_d);
    assert_err!(store.get_webhook_delivery(&b.org, &all.id, &created_d.id).await, StoreError::NotFound);
    assert!(store.list_webhook_deliveries(&b.org, &all.id, &PageRequest::first(10)).await.unwrap().items.is_empty());
    let to_comments = store.list_webhook_deliveries(&a.org, &comments.id, &PageRequest::first(10)).await.unwrap().items;
    assert_eq!(to_comments.len(), 1);

    // Claims: the oldest pending delivery per case and webhook, leased; nothing twice.
    let mut claimed = store.claim_webhook_deliveries("w1", t(20), t(80), 10).await.unwrap();
    claimed.sort_by_key(|d| d.webhook_id == comments.id);
    assert_eq!(
        claimed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [created_d.id.as_str(), to_comments[0].id.as_str()]
    );
    assert!(claimed.iter().all(|d| d.attempts == 1 && d.next_attempt_at == t(80) && d.last_attempt_at == Some(t(20))));
    assert!(store.claim_webhook_deliveries("w2", t(21), t(81), 10).await.unwrap().is_empty(), "leased or behind");

    // A failure: retried later, the webhook failing since then; another claim may not record it.
    let mut d = claimed[0].clone();
    d.record(Ok(500), t(22), 0.0);
    assert_err!(store.finish_webhook_attempt(&d, "w2", t(22)).await, StoreError::Stale);
    assert!(store.finish_webhook_attempt(&d, "w1", t(22)).await.unwrap().is_none());
    assert_eq!(store.get_webhook(&a.org, &all.id).await.unwrap().failing_since, Some(t(22)));
    assert!(store.claim_webhook_deliveries("w2", t(51), t(111), 10).await.unwrap().is_empty(), "not due before t(52)");

    // A lease that runs out: another instance takes the delivery; the first cannot record it.
    let taken = store.claim_webhook_deliveries("w2", t(81), t(141), 10).await.unwrap();
    let ids: BTreeSet<&str> = taken.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from([created_d.id.as_str(), to_comments[0].id.as_str()]));
    let again = taken.iter().find(|d| d.id == to_comments[0].id).unwrap();
    assert_eq!(again.attempts, 2);
    let mut late = claimed[1].clone();
    late.record(Ok(200), t(82), 0.0);
    assert_err!(store.finish_webhook_attempt(&late, "w1", t(82)).await, StoreError::Stale);

    // A success clears the failures and lets the case's next delivery go.
    let mut ok = taken.iter().find(|d| d.id == created_d.id).unwrap().clone();
    ok.record(Ok(204), t(83), 0.0);
    assert!(store.finish_webhook_attempt(&ok, "w2", t(83)).await.unwrap().is_none());
    assert_eq!(store.get_webhook_delivery(&a.org, &all.id, &ok.id).await.unwrap(), ok);
    assert_eq!(store.get_webhook(&a.org, &all.id).await.unwrap().failing_since, None);
    let next = store.claim_webhook_deliveries("w3", t(84), t(144), 10).await.unwrap();
    assert_eq!(next.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [comment_d.id.as_str()]);

    // Failing for a day switches the webhook off, once; its deliveries then wait.
    let mut fail = next[0].clone();
    fail.record(Err("refused".into()), t(85), 0.0);
    assert!(store.finish_webhook_attempt(&fail, "w3", t(85)).await.unwrap().is_none());
    let later = t(85) + jiff::SignedDuration::from_hours(25);
    let mut dead =
        store.claim_webhook_deliveries("w4", later, later + jiff::SignedDuration::from_secs(60), 10).await.unwrap();
    dead.retain(|d| d.id == comment_d.id);
    dead[0].record(Err("refused".into()), later, 0.0);
    assert_eq!(dead[0].state, DeliveryState::Failed);
    let switched = store.finish_webhook_attempt(&dead[0], "w4", later).await.unwrap().expect("switched off");
    assert!(!switched.active && switched.disabled_at == Some(later));
    assert_eq!(store.get_webhook(&a.org, &all.id).await.unwrap(), switched);
    let redelivery = ok.again(IdKind::WebhookDelivery.new_id(), later).unwrap();
    store.insert_webhook_delivery(&redelivery).await.unwrap();
    let far = later + jiff::SignedDuration::from_hours(1);
    let claimable = store.claim_webhook_deliveries("w5", far, far, 10).await.unwrap();
    assert!(
        claimable.iter().all(|d| d.webhook_id != all.id),
        "a switched-off webhook's deliveries wait: {claimable:?}"
    );

    // Admin changes; a delete takes the delivery log along.
    let on = Webhook { active: true, disabled_at: None, disabled_reason: None, failing_since: None, ..switched };
    store.update_webhook(&on).await.unwrap();
    assert_eq!(store.get_webhook(&a.org, &all.id).await.unwrap(), on);
    assert_err!(store.update_webhook(&Webhook { org_id: b.org.clone(), ..on.clone() }).await, StoreError::NotFound);
    assert_err!(store.delete_webhook(&b.org, &all.id).await, StoreError::NotFound);
    store.delete_webhook(&a.org, &all.id).await.unwrap();
    assert_err!(store.get_webhook(&a.org, &all.id).await, StoreError::NotFound);
    assert_err!(store.get_webhook_delivery(&a.org, &all.id, &redelivery.id).await, StoreError::NotFound);
    assert_eq!(store.get_webhook(&a.org, &comments.id).await.unwrap().id, comments.id, "the others stay");
}

// ---- scenarios: web sessions ---------------------------------------------------------------------

/// Web sessions are found by their hash with their user; ending the others keeps one; failed
/// sign-ins are counted per key since a time; purging forgets old ones.
async fn scenario_ui_sessions_and_sign_in_failures(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let (user, hash) = store.user_credentials("admin@acme.example").await.unwrap().expect("by email");
    assert_eq!((user, hash.as_deref()), (a.admin.clone(), Some("$argon2id$admin")));
    assert!(store.user_credentials("nobody@acme.example").await.unwrap().is_none());
    assert_eq!(store.password_hash(&a.org, &a.admin.id).await.unwrap().as_deref(), Some("$argon2id$admin"));
    assert_err!(store.password_hash(&b.org, &a.admin.id).await, StoreError::NotFound);

    let session = |id: &str, tenant: &Tenant, at: i64| casedesk_store::UiSession {
        id_hash: id.into(),
        org_id: tenant.org.clone(),
        user_id: tenant.admin.id.clone(),
        created_at: t(at),
        last_seen_at: t(at),
        expires_at: t(at + 1000),
    };
    for (id, tenant, at) in [("s1", &a, 0), ("s2", &a, 10), ("s3", &b, 20)] {
        store.insert_session(&session(id, tenant, at)).await.unwrap();
    }
    assert_err!(store.insert_session(&session("s1", &a, 30)).await, StoreError::Duplicate(_));
    let (found, u) = store.find_session("s2").await.unwrap().expect("s2");
    assert_eq!((found, u), (session("s2", &a, 10), a.admin.clone()));
    assert!(store.find_session("nope").await.unwrap().is_none());
    store.touch_session("s2", t(50)).await.unwrap();
    assert_eq!(store.find_session("s2").await.unwrap().unwrap().0.last_seen_at, t(50));

    assert_eq!(store.delete_other_sessions(&a.org, &a.admin.id, "s2").await.unwrap(), 1);
    assert!(store.find_session("s1").await.unwrap().is_none());
    assert!(store.find_session("s3").await.unwrap().is_some(), "another user's session stays");
    store.delete_session("s2").await.unwrap();
    assert!(store.find_session("s2").await.unwrap().is_none());

    let keys = ["email:a@x.example".to_string(), "addr:10.0.0.1".to_string()];
    store.record_sign_in_failure(&keys, t(100)).await.unwrap();
    store.record_sign_in_failure(&keys[..1], t(200)).await.unwrap();
    assert_eq!(store.sign_in_failures(&keys[0], t(0)).await.unwrap(), (2, Some(t(100))));
    assert_eq!(store.sign_in_failures(&keys[0], t(150)).await.unwrap(), (1, Some(t(200))));
    assert_eq!(store.sign_in_failures(&keys[1], t(0)).await.unwrap(), (1, Some(t(100))));
    assert_eq!(store.sign_in_failures("addr:other", t(0)).await.unwrap(), (0, None));
    store.clear_sign_in_failures(&keys[0]).await.unwrap();
    assert_eq!(store.sign_in_failures(&keys[0], t(0)).await.unwrap().0, 0);

    // Purging forgets expired sessions and old failures only.
    store.purge_sign_in_state(t(1021), t(101)).await.unwrap();
    assert!(store.find_session("s3").await.unwrap().is_none(), "s3 expired at t(1020)");
    assert_eq!(store.sign_in_failures(&keys[1], t(0)).await.unwrap().0, 0);
}

// ---- signing keys, external visitors, operational counts ---------------------------------------

fn signing_key(org_id: &str, kid: &str, alg: KeyAlg, at: Timestamp) -> SigningKey {
    SigningKey {
        id: IdKind::SigningKey.new_id(),
        org_id: org_id.into(),
        kid: kid.into(),
        alg,
        key_data: format!("data-of-{kid}"),
        description: format!("the {kid} key"),
        created_by: "usr_admin".into(),
        created_at: at,
        revoked_at: None,
    }
}

async fn scenario_signing_keys(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let k1 = signing_key(&a.org, "k1", KeyAlg::Hs256, t(1));
    let k2 = signing_key(&a.org, "k2", KeyAlg::EdDsa, t(2));
    store.insert_signing_key(&k1).await.unwrap();
    store.insert_signing_key(&k2).await.unwrap();
    // A kid is unique in its organization only.
    assert_err!(
        store.insert_signing_key(&signing_key(&a.org, "k1", KeyAlg::EdDsa, t(3))).await,
        StoreError::Duplicate(_)
    );
    let other = signing_key(&b.org, "k1", KeyAlg::Hs256, t(3));
    store.insert_signing_key(&other).await.unwrap();

    assert_eq!(store.get_signing_key(&a.org, &k1.id).await.unwrap(), k1);
    assert_err!(store.get_signing_key(&b.org, &k1.id).await, StoreError::NotFound);
    assert_eq!(store.find_signing_key(&a.org, "k2").await.unwrap(), Some(k2.clone()));
    assert_eq!(store.find_signing_key(&b.org, "k1").await.unwrap(), Some(other.clone()));
    assert_eq!(store.find_signing_key(&b.org, "k2").await.unwrap(), None);

    let first = store.list_signing_keys(&a.org, &PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items, vec![k2.clone()], "newest first");
    let rest =
        store.list_signing_keys(&a.org, &PageRequest { limit: 1, cursor: first.next_cursor.clone() }).await.unwrap();
    assert_eq!(rest.items, vec![k1.clone()]);
    assert_eq!(rest.next_cursor, None);

    let revoked = store.revoke_signing_key(&a.org, &k1.id, t(10)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(10)));
    let again = store.revoke_signing_key(&a.org, &k1.id, t(20)).await.unwrap();
    assert_eq!(again.revoked_at, Some(t(10)), "the first revocation's time stays");
    assert_eq!(store.find_signing_key(&a.org, "k1").await.unwrap().and_then(|k| k.revoked_at), Some(t(10)));
    assert_err!(store.revoke_signing_key(&b.org, &k2.id, t(11)).await, StoreError::NotFound);
    assert_eq!(store.get_signing_key(&b.org, &other.id).await.unwrap().revoked_at, None);
}

async fn scenario_external_visitors_and_operational_counts(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let with_ext = |org: &str, name: &str, ext: &str, at| Contact {
        external_id: Some(ext.into()),
        ..contact(org, name, None, at)
    };
    // Two contacts are the same visitor v-1; v-2 is another; Globex has its own v-1.
    let ana = with_ext(&a.org, "Ana", "v-1", t(1));
    let ann = with_ext(&a.org, "Ann", "v-1", t(2));
    let bo = with_ext(&a.org, "Bo", "v-2", t(3));
    let zed = with_ext(&b.org, "Zed", "v-1", t(4));
    for c in [&ana, &ann, &bo, &zed] {
        store.insert_contact(c, None).await.unwrap();
    }
    assert!(store.visitor_exists(&a.org, "v-1").await.unwrap());
    assert!(!store.visitor_exists(&a.org, "v-3").await.unwrap());
    assert!(store.visitor_exists(&b.org, "v-1").await.unwrap());
    assert!(!store.visitor_exists(&b.org, "v-2").await.unwrap());

    let for_contact = |c: &Contact, s: &str| NewCase { contact_id: Some(c.id.clone()), ..subject(s) };
    let c1 = create(store, &a.org, &a.admin.id, t(10), for_contact(&ana, "first")).await;
    let c2 = create(store, &a.org, &a.admin.id, t(11), for_contact(&ann, "second")).await;
    let c3 = create(store, &a.org, &a.admin.id, t(12), for_contact(&ana, "third")).await;
    create(store, &a.org, &a.admin.id, t(13), for_contact(&bo, "bo's")).await;
    create(store, &b.org, &b.admin.id, t(14), for_contact(&zed, "zed's")).await;
    create(store, &a.org, &a.admin.id, t(15), subject("nobody's")).await;
    // c1 is updated last.
    let c1 = change(
        store,
        &c1,
        &a.admin.id,
        t(30),
        CasePatch { subject: Some("first, again".into()), ..Default::default() },
    )
    .await;

    let visitor = CaseFilter { contact_external_id: Some("v-1".into()), ..Default::default() };
    let ids = |p: &Page<casedesk_store::CaseListItem>| p.items.iter().map(|i| i.case.id.clone()).collect::<Vec<_>>();
    let req = |ordering, cursor| ListRequest { filter: visitor.clone(), ordering, limit: 2, cursor };
    let page = store.list_cases(&a.org, &req(Ordering::CreatedAsc, None)).await.unwrap();
    assert_eq!(ids(&page), [c1.id.clone(), c2.id.clone()]);
    let next = store.list_cases(&a.org, &req(Ordering::CreatedAsc, page.next_cursor.clone())).await.unwrap();
    assert_eq!(ids(&next), [c3.id.as_str()]);
    assert_eq!(next.next_cursor, None);
    let by_update = store.list_cases(&a.org, &req(Ordering::UpdatedDesc, None)).await.unwrap();
    assert_eq!(by_update.items[0].case.id, c1.id, "the last updated first");
    assert_eq!(by_update.items[0].contact.as_ref().map(|c| c.id.clone()), Some(ana.id.clone()));
    let globex = store.list_cases(&b.org, &req(Ordering::CreatedAsc, None)).await.unwrap();
    assert_eq!(globex.items.len(), 1, "only the organization's own visitor");

    let (public, c2) = comment(store, &c2, &a.admin.id, "we are on it", false, t(40)).await;
    let (_, c2) = comment(store, &c2, &a.admin.id, "internal: customer is grumpy", true, t(41)).await;
    let (later, _) = comment(store, &c2, &a.admin.id, "fixed", false, t(42)).await;
    let shown = store.public_comments(&a.org, &c2.id, 10).await.unwrap();
    assert_eq!(shown.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), [public.id.clone(), later.id.clone()]);
    assert_eq!(store.public_comments(&a.org, &c2.id, 1).await.unwrap().len(), 1);
    assert!(store.public_comments(&b.org, &c2.id, 10).await.unwrap().is_empty());

    store.set_org_status(&a.org, "suspended", t(50)).await.unwrap();
    let org = store.get_org(&a.org).await.unwrap();
    assert_eq!((org.status.as_str(), org.updated_at), ("suspended", t(50)));
    assert_err!(store.set_org_status("org_missing", "active", t(50)).await, StoreError::NotFound);

    let counts = store.operational_counts().await.unwrap();
    assert!(counts.open_by_queue.contains(&(a.org.clone(), String::new(), 5)), "{counts:?}");
    assert!(counts.open_by_queue.contains(&(b.org.clone(), String::new(), 1)), "{counts:?}");
    assert!(counts.breached_by_org.is_empty());
    assert_eq!(
        counts.jobs_by_state,
        [("queued".to_string(), 0), ("running".to_string(), 0), ("failed".to_string(), 0)]
    );
    assert_eq!(counts.webhook_deliveries, [("pending".to_string(), 0), ("failed".to_string(), 0)]);
}

fn email(
    org_id: &str,
    direction: casedesk_domain::email::Direction,
    message_id: &str,
    at: Timestamp,
) -> casedesk_domain::email::EmailMessage {
    use casedesk_domain::email::{EmailMessage, EmailState};
    EmailMessage {
        id: IdKind::Email.new_id(),
        org_id: org_id.into(),
        direction,
        message_id: message_id.into(),
        case_id: None,
        comment_id: None,
        from_address: "ana@customer.example".into(),
        from_name: Some("Ana".into()),
        to: vec!["help@acme.example".into()],
        cc: vec!["carl@customer.example".into()],
        subject: "Printer".into(),
        body: None,
        in_reply_to: None,
        references: vec![],
        file_ids: vec![],
        raw_sha256: Some("ab".repeat(32)),
        size: 10,
        state: EmailState::Received,
        reason: None,
        attempts: 0,
        last_error: None,
        next_attempt_at: None,
        created_at: at,
        sent_at: None,
    }
}

async fn scenario_mail_settings_mailboxes_log_and_outbox(store: &Store) {
    use casedesk_domain::email::{Direction, EmailState, MailSettings, Mailbox, SmtpSecurity};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;

    // Settings: none until saved; saved, changed, read back; per organization.
    assert_eq!(store.get_mail_settings(&a.org).await.unwrap(), None);
    let mut settings = MailSettings::blank(&a.org, t(1));
    settings.smtp_host = Some("smtp.acme.example".into());
    settings.smtp_port = Some(2525);
    settings.smtp_security = SmtpSecurity::None;
    settings.from_address = Some("noreply@acme.example".into());
    settings.smtp_password = Some("pw".into());
    // A reply written before mail was set up is history: the dispatcher starts after it.
    let early = create(store, &a.org, &a.admin.id, t(2), subject("before mail")).await;
    comment(store, &early, &a.admin.id, "an old answer", false, t(2)).await;
    read_feed(store, &a.org, None, 100, 2).await;
    store.put_mail_settings(&settings).await.unwrap();
    settings.from_name = Some("ACME".into());
    store.put_mail_settings(&settings).await.unwrap();
    assert_eq!(store.get_mail_settings(&a.org).await.unwrap(), Some(settings.clone()));
    assert_eq!(store.get_mail_settings(&b.org).await.unwrap(), None);

    // Mailboxes: one address once per organization.
    let q = queue(&a.org, "Support", t(3));
    store.insert_queue(&q, None).await.unwrap();
    let help = Mailbox {
        id: IdKind::Mailbox.new_id(),
        org_id: a.org.clone(),
        address: "help@acme.example".into(),
        name: Some("Help".into()),
        queue_id: Some(q.id.clone()),
        created_at: t(3),
    };
    store.insert_mailbox(&help).await.unwrap();
    assert_err!(
        store.insert_mailbox(&Mailbox { id: IdKind::Mailbox.new_id(), ..help.clone() }).await,
        StoreError::Duplicate(_)
    );
    let theirs = Mailbox { id: IdKind::Mailbox.new_id(), org_id: b.org.clone(), queue_id: None, ..help.clone() };
    store.insert_mailbox(&theirs).await.unwrap();
    assert_eq!(store.list_mailboxes(&a.org).await.unwrap(), vec![help.clone()]);
    assert_err!(store.delete_mailbox(&a.org, &theirs.id).await, StoreError::NotFound);
    store.delete_mailbox(&b.org, &theirs.id).await.unwrap();
    assert!(store.list_mailboxes(&b.org).await.unwrap().is_empty());

    // Inbound: recorded once per Message-ID and organization; settled with its case.
    let case =
        create(store, &a.org, &a.admin.id, t(4), NewCase { queue_id: Some(q.id.clone()), ..subject("Printer") }).await;
    let mut first = email(&a.org, Direction::In, "m1@customer.example", t(4));
    assert_eq!(store.record_inbound_email(&first).await.unwrap(), None);
    let again = email(&a.org, Direction::In, "m1@customer.example", t(5));
    assert_eq!(store.record_inbound_email(&again).await.unwrap(), Some(first.clone()), "a redelivery");
    assert_eq!(
        store.record_inbound_email(&email(&b.org, Direction::In, "m1@customer.example", t(5))).await.unwrap(),
        None
    );
    assert_eq!(store.case_of_messages(&a.org, &["m1@customer.example".into()]).await.unwrap(), None, "no case yet");
    first.state = EmailState::Processed;
    first.case_id = Some(case.id.clone());
    store.settle_inbound_email(&first).await.unwrap();
    assert_eq!(store.get_email(&a.org, &first.id).await.unwrap(), first);
    assert_err!(store.get_email(&b.org, &first.id).await, StoreError::NotFound);
    let ids = vec!["unknown@x".to_string(), "m1@customer.example".to_string()];
    assert_eq!(store.case_of_messages(&a.org, &ids).await.unwrap(), Some(case.id.clone()));
    assert_eq!(store.case_of_messages(&b.org, &ids).await.unwrap(), None);
    assert_eq!(
        store.case_mail_participants(&a.org, &case.id).await.unwrap(),
        ["ana@customer.example", "help@acme.example", "carl@customer.example"]
    );
    assert_eq!(store.case_id_by_number(&a.org, case.case_number).await.unwrap(), Some(case.id.clone()));
    assert_eq!(store.case_id_by_number(&b.org, case.case_number).await.unwrap(), None);
    assert!(store.blob_in_use(&"ab".repeat(32)).await.unwrap(), "a kept original is in use");

    // Held mail, newest first, paged by seq.
    for (i, state) in [EmailState::Quarantined, EmailState::Ignored, EmailState::Quarantined].into_iter().enumerate() {
        let mut m = email(&a.org, Direction::In, &format!("held{i}@x"), t(6));
        m.state = state;
        m.reason = Some("why".into());
        store.record_inbound_email(&m).await.unwrap();
    }
    let (page, next) = store.list_inbound_emails(&a.org, &[EmailState::Quarantined], None, 1).await.unwrap();
    assert_eq!(page.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>(), ["held2@x"]);
    let (page, next) = store.list_inbound_emails(&a.org, &[EmailState::Quarantined], next, 1).await.unwrap();
    assert_eq!((page[0].message_id.as_str(), next), ("held0@x", None));
    let both =
        store.list_inbound_emails(&a.org, &[EmailState::Quarantined, EmailState::Ignored], None, 10).await.unwrap();
    assert_eq!(both.0.len(), 3);
    assert!(store.list_inbound_emails(&b.org, &[EmailState::Quarantined], None, 10).await.unwrap().0.is_empty());

    // Outbox: each new comment is offered once with its case and mail context.
    let (reply, _) = comment(store, &case, &a.admin.id, "try this", false, t(7)).await;
    let seen = std::sync::Mutex::new(Vec::new());
    let make = |c: &Case, cm: &Comment, files: &[String], ctx: &casedesk_store::MailContext| {
        seen.lock().unwrap().push((c.id.clone(), cm.id.clone(), files.to_vec(), ctx.clone()));
        let mut m = email(&c.org_id, Direction::Out, &format!("out-{}@acme.example", cm.id), t(8));
        m.case_id = Some(c.id.clone());
        m.comment_id = Some(cm.id.clone());
        m.raw_sha256 = None;
        m.state = EmailState::Queued;
        m.next_attempt_at = Some(t(8));
        vec![m]
    };
    let no_survey = |_: &Case, _, _, _: &casedesk_store::MailContext| None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut made = 0;
    while made < 1 && std::time::Instant::now() < deadline {
        made += store.dispatch_mail_events(100, &make, &no_survey).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(made, 1, "the reply after the cursor, not the history");
    assert_eq!(store.dispatch_mail_events(100, &make, &no_survey).await.unwrap(), 0, "nothing twice");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 1);
    let (case_id, comment_id, files, ctx) = &seen[0];
    assert_eq!((case_id, comment_id, files.len()), (&case.id, &reply.id, 0));
    assert_eq!(ctx.settings.as_ref().and_then(|s| s.from_name.as_deref()), Some("ACME"));
    assert_eq!(ctx.mailbox.as_ref().map(|m| m.id.as_str()), Some(help.id.as_str()));
    assert_eq!(ctx.last_inbound.as_deref(), Some("m1@customer.example"));
    assert_eq!(ctx.thread, ["m1@customer.example"]);

    // Claims: leased, nothing twice; the outcome is saved only by its claim, with its event.
    assert!(store.claim_emails("c1", t(7), t(100), 10).await.unwrap().is_empty(), "not due yet");
    let claimed = store.claim_emails("c1", t(8), t(100), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].attempts, claimed[0].next_attempt_at), (1, Some(t(100))));
    assert!(store.claim_emails("c2", t(9), t(101), 10).await.unwrap().is_empty(), "leased");
    let mut sent = claimed[0].clone();
    sent.record_sent(t(9));
    let event = NewEvent { kind: "email.sent", data: serde_json::json!({"email_id": sent.id}), created_at: t(9) };
    assert_err!(store.finish_email_attempt(&sent, "c2", Some(&event)).await, StoreError::Stale);
    store.finish_email_attempt(&sent, "c1", Some(&event)).await.unwrap();
    let log = store.list_case_emails(&a.org, &case.id).await.unwrap();
    assert_eq!(
        log.iter().map(|m| (m.direction, m.state)).collect::<Vec<_>>(),
        [(Direction::In, EmailState::Processed), (Direction::Out, EmailState::Sent)]
    );
    assert_eq!(log[1].sent_at, Some(t(9)));
    assert!(store.list_case_emails(&b.org, &case.id).await.unwrap().is_empty());
    assert!(store.claim_emails("c3", t(200), t(300), 10).await.unwrap().is_empty(), "sent is done");
}

// ---- automation ---------------------------------------------------------------------------------

fn automation_rule(
    a: &Tenant,
    name: &str,
    trigger: &str,
    position: i64,
    at: Timestamp,
) -> casedesk_domain::automation::Rule {
    use casedesk_domain::automation::{Action, Condition, Conditions, Operator, Rule};
    let r = Rule::new(IdKind::AutomationRule.new_id(), &a.org, &a.admin.id, at);
    Rule {
        name: name.into(),
        trigger: trigger.into(),
        after_minutes: trigger.starts_with("time.").then_some(60),
        position,
        conditions: Conditions {
            all: vec![Condition { field: "priority".into(), operator: Operator::Is, value: serde_json::json!("high") }],
            any: Vec::new(),
        },
        actions: vec![Action::AddTag { tag: "auto".into() }, Action::SetPriority { priority: Priority::Critical }],
        ..r
    }
}

/// The events after the rule cursor, once there are `want` (PostgreSQL shows an event once
/// every older transaction is over, and other tests' transactions run meanwhile).
async fn automation_events_until(store: &Store, org: &str, want: usize) -> Vec<((i64, i64), Event)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = store.automation_events(org, 100).await.unwrap();
        if events.len() >= want || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn scenario_automation_rules_runs_and_cursor(store: &Store) {
    use casedesk_store::RuleRun;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let before = create(store, &a.org, &a.admin.id, t(1), subject("before any rule")).await;
    read_feed(store, &a.org, None, 100, 1).await;
    assert!(store.automation_events(&a.org, 10).await.unwrap().is_empty(), "no rules, no cursor");

    let first = automation_rule(&a, "First", "case.created", 5, t(2));
    let second = automation_rule(&a, "Second", "case.created", 1, t(3));
    let timed = automation_rule(&a, "Timed", "time.pending", 0, t(4));
    assert!(!store.has_event_rules(&a.org).await.unwrap(), "no rules yet");
    store.insert_rule(&timed).await.unwrap();
    assert!(!store.has_event_rules(&a.org).await.unwrap(), "a time rule is not an event rule");
    for r in [&first, &second] {
        store.insert_rule(r).await.unwrap();
    }
    assert!(store.has_event_rules(&a.org).await.unwrap());
    assert!(!store.has_event_rules(&b.org).await.unwrap(), "another organization's rules do not count");
    assert_eq!(store.get_rule(&a.org, &first.id).await.unwrap(), first, "conditions and actions round-trip");
    assert_err!(store.get_rule(&b.org, &first.id).await, StoreError::NotFound);
    let page = store.list_rules(&a.org, &PageRequest::first(2)).await.unwrap();
    assert_eq!(page.items.iter().map(|r| &r.id).collect::<Vec<_>>(), [&timed.id, &second.id], "newest first");
    let rest = store.list_rules(&a.org, &PageRequest { limit: 2, cursor: page.next_cursor }).await.unwrap();
    assert_eq!(rest.items.iter().map(|r| &r.id).collect::<Vec<_>>(), [&first.id]);
    let order: Vec<String> = store.active_rules(&a.org).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(order, ["Timed", "Second", "First"], "by position");
    let off = casedesk_domain::automation::Rule {
        active: false,
        name: "First, off".into(),
        updated_at: t(5),
        ..first.clone()
    };
    store.update_rule(&off).await.unwrap();
    assert_eq!(store.get_rule(&a.org, &first.id).await.unwrap(), off);
    assert!(store.has_event_rules(&a.org).await.unwrap(), "Second is still on");
    assert_eq!(store.active_rules(&a.org).await.unwrap().len(), 2);
    assert_err!(
        store.update_rule(&casedesk_domain::automation::Rule { org_id: b.org.clone(), ..off.clone() }).await,
        StoreError::NotFound
    );
    assert_eq!(store.orgs_with_time_rules().await.unwrap(), std::slice::from_ref(&a.org));

    // The cursor starts at the feed's head: the earlier case is history.
    let one = create(store, &a.org, &a.admin.id, t(10), subject("one")).await;
    let one =
        change(store, &one, &a.admin.id, t(11), CasePatch { priority: Some(Priority::High), ..Default::default() })
            .await;
    create(store, &b.org, &b.admin.id, t(12), subject("theirs")).await;
    let events = automation_events_until(store, &a.org, 2).await;
    assert_eq!(events.iter().map(|(_, e)| e.kind.as_str()).collect::<Vec<_>>(), ["case.created", "field.changed"]);
    assert!(events.iter().all(|(_, e)| e.case_id == one.id && e.case_id != before.id));
    let due = store.automation_orgs_due().await.unwrap();
    assert!(due.contains(&a.org) && !due.contains(&b.org), "{due:?}");
    assert!(store.automation_backlog(&a.org, &one.id, t(0)).await.unwrap());
    assert!(!store.automation_backlog(&a.org, &before.id, t(0)).await.unwrap(), "before the cursor");
    let (last, _) = events[1];
    store.advance_automation_cursor(&a.org, last).await.unwrap();
    assert!(!store.automation_backlog(&a.org, &one.id, t(0)).await.unwrap());
    assert!(store.automation_events(&a.org, 10).await.unwrap().is_empty());
    store.advance_automation_cursor(&a.org, events[0].0).await.unwrap();
    assert!(store.automation_events(&a.org, 10).await.unwrap().is_empty(), "the cursor never moves back");
    assert!(!store.automation_orgs_due().await.unwrap().contains(&a.org));

    // A run is claimed once per rule and key; the last depth caps chains.
    let run = RuleRun { org_id: &a.org, rule_id: &second.id, run_key: "e:1", case_id: &one.id, depth: 0, at: t(20) };
    assert!(store.claim_rule_run(&run).await.unwrap());
    assert!(!store.claim_rule_run(&run).await.unwrap(), "never twice for one event");
    assert!(store.automation_backlog(&a.org, &one.id, t(20)).await.unwrap(), "a run under way");
    assert!(!store.automation_backlog(&a.org, &one.id, t(21)).await.unwrap(), "one claimed long ago is not waited for");
    assert!(!store.automation_backlog(&b.org, &one.id, t(0)).await.unwrap());
    // Claimed from many connections at once: exactly one wins.
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (store, org, rule, case) = (store.clone(), a.org.clone(), second.id.clone(), one.id.clone());
        racers.spawn(async move {
            let raced =
                RuleRun { org_id: &org, rule_id: &rule, run_key: "e:raced", case_id: &case, depth: 0, at: t(20) };
            store.claim_rule_run(&raced).await.unwrap()
        });
    }
    let mut wins = 0;
    while let Some(won) = racers.join_next().await {
        wins += usize::from(won.unwrap());
    }
    assert_eq!(wins, 1);
    let raced = RuleRun { run_key: "e:raced", ..run.clone() };
    store.finish_rule_run(&raced, t(20)).await.unwrap();
    store.finish_rule_run(&run, t(20)).await.unwrap();
    assert!(!store.automation_backlog(&a.org, &one.id, t(0)).await.unwrap(), "finished");
    assert!(store.claim_rule_run(&RuleRun { rule_id: &timed.id, ..run.clone() }).await.unwrap(), "another rule may");
    assert!(store.claim_rule_run(&RuleRun { run_key: "e:2", depth: 2, at: t(21), ..run.clone() }).await.unwrap());
    assert_eq!(store.last_rule_depth(&a.org, &second.id).await.unwrap(), Some(2));
    assert_eq!(store.last_rule_depth(&a.org, &first.id).await.unwrap(), None);
    assert_eq!(store.last_rule_depth(&b.org, &second.id).await.unwrap(), None);

    // A rule's run on the timeline.
    let entry = NewEvent { kind: "rule.applied", data: serde_json::json!({"rule_id": second.id}), created_at: t(22) };
    store.append_case_events(&a.org, &one.id, &second.id, std::slice::from_ref(&entry)).await.unwrap();
    let timeline = store.list_events(&a.org, &one.id, &PageRequest::first(10)).await.unwrap().items;
    let applied = timeline.iter().find(|e| e.kind == "rule.applied").expect("the entry");
    assert_eq!(
        (applied.actor_id.as_deref(), applied.data["rule_id"].as_str()),
        (Some(second.id.as_str()), Some(second.id.as_str()))
    );
    assert_err!(store.append_case_events(&b.org, &one.id, &second.id, &[entry]).await, StoreError::NotFound);

    // Deleting a rule takes its runs along; another organization's is not found.
    assert_err!(store.delete_rule(&b.org, &second.id).await, StoreError::NotFound);
    store.delete_rule(&a.org, &second.id).await.unwrap();
    assert_err!(store.get_rule(&a.org, &second.id).await, StoreError::NotFound);
    assert_eq!(store.last_rule_depth(&a.org, &second.id).await.unwrap(), None);
}

async fn scenario_time_rule_candidates_and_dry_run_scan(store: &Store) {
    use casedesk_store::RuleRun;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let rule = automation_rule(&a, "Nudge", "time.pending", 0, t(0));
    store.insert_rule(&rule).await.unwrap();
    let early = create(store, &a.org, &a.admin.id, t(10), subject("early")).await;
    let early =
        change(store, &early, &a.admin.id, t(100), CasePatch { status: Some(Status::Pending), ..Default::default() })
            .await;
    let late = create(store, &a.org, &a.admin.id, t(20), subject("late")).await;
    let late =
        change(store, &late, &a.admin.id, t(200), CasePatch { status: Some(Status::Pending), ..Default::default() })
            .await;
    let open = create(store, &a.org, &a.admin.id, t(30), subject("open")).await;
    let theirs = create(store, &b.org, &b.admin.id, t(30), subject("theirs")).await;
    change(store, &theirs, &b.admin.id, t(40), CasePatch { status: Some(Status::Pending), ..Default::default() }).await;

    let found = |v: Vec<(String, Timestamp)>| {
        v.into_iter().map(|(id, at)| (id, at.as_second() - t(0).as_second())).collect::<Vec<_>>()
    };
    let all = store.time_rule_candidates(&a.org, &rule.id, "time.pending", t(500), None, 10).await.unwrap();
    assert_eq!(
        found(all.clone()),
        [(early.id.clone(), 100), (late.id.clone(), 200)],
        "pending since their status change"
    );
    let cut = store.time_rule_candidates(&a.org, &rule.id, "time.pending", t(150), None, 10).await.unwrap();
    assert_eq!(found(cut), [(early.id.clone(), 100)]);
    let after = store
        .time_rule_candidates(&a.org, &rule.id, "time.pending", t(500), Some(&(all[0].1, all[0].0.clone())), 10)
        .await
        .unwrap();
    assert_eq!(found(after), [(late.id.clone(), 200)], "keyset pages");
    let key = format!("t:{}:{}", early.id, t(100).as_microsecond());
    let run = RuleRun { org_id: &a.org, rule_id: &rule.id, run_key: &key, case_id: &early.id, depth: 0, at: t(300) };
    assert!(store.claim_rule_run(&run).await.unwrap());
    let left = store.time_rule_candidates(&a.org, &rule.id, "time.pending", t(500), None, 10).await.unwrap();
    assert_eq!(found(left), [(late.id.clone(), 200)], "once per episode");
    let unassigned = store.time_rule_candidates(&a.org, &rule.id, "time.unassigned", t(500), None, 10).await.unwrap();
    assert_eq!(found(unassigned).len(), 3, "no owner, all active");
    let waiting = store.time_rule_candidates(&a.org, &rule.id, "time.no_agent_reply", t(25), None, 10).await.unwrap();
    assert_eq!(found(waiting), [(early.id.clone(), 10), (late.id.clone(), 20)], "waiting since they were created");
    assert!(store.time_rule_candidates(&a.org, &rule.id, "time.resolved", t(500), None, 10).await.unwrap().is_empty());

    // The dry run's scan: active cases by id, in pages, never another organization's.
    let first = store.open_cases_after(&a.org, None, 2).await.unwrap();
    let mut ids: Vec<String> = vec![early.id.clone(), late.id.clone(), open.id.clone()];
    ids.sort();
    assert_eq!(first.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids[..2]);
    let rest = store.open_cases_after(&a.org, Some(&first[1].id), 2).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids[2..]);
}

async fn scenario_notifications_and_macros(store: &Store) {
    use casedesk_domain::automation::Action;
    use casedesk_domain::macros::Macro;
    use casedesk_domain::notification::Notification;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let agent = user(&a.org, "agent@acme.example", Role::Agent, t(0));
    store.insert_user(&agent, None).await.unwrap();
    let note = |user: &str, n: i64| Notification {
        id: IdKind::Notification.new_id(),
        org_id: a.org.clone(),
        user_id: user.into(),
        case_id: None,
        rule_id: None,
        message: format!("alert {n}"),
        read_at: None,
        created_at: t(n),
    };
    let (n1, n2, theirs) = (note(&agent.id, 1), note(&agent.id, 2), note(&a.admin.id, 3));
    store.insert_notifications(&[n1.clone(), n2.clone(), theirs.clone()]).await.unwrap();
    let mine = store.list_notifications(&a.org, &agent.id, false, &PageRequest::first(10)).await.unwrap();
    assert_eq!(mine.items, [n2.clone(), n1.clone()], "newest first, only theirs");
    let read = store.mark_notification_read(&a.org, &agent.id, &n1.id, t(5)).await.unwrap();
    assert_eq!(read.read_at, Some(t(5)));
    let again = store.mark_notification_read(&a.org, &agent.id, &n1.id, t(9)).await.unwrap();
    assert_eq!(again.read_at, Some(t(5)), "first read kept");
    let unread = store.list_notifications(&a.org, &agent.id, true, &PageRequest::first(10)).await.unwrap();
    assert_eq!(unread.items, std::slice::from_ref(&n2));
    assert_err!(store.mark_notification_read(&a.org, &agent.id, &theirs.id, t(5)).await, StoreError::NotFound);
    assert_err!(store.mark_notification_read(&b.org, &agent.id, &n2.id, t(5)).await, StoreError::NotFound);

    let shared = Macro {
        name: "Solved".into(),
        body: "Hi {{requester.name}}".into(),
        actions: vec![Action::SetStatus { status: Status::Resolved }],
        ..Macro::new(IdKind::Macro.new_id(), &a.org, &a.admin.id, None, t(10))
    };
    let personal = Macro {
        name: "Mine".into(),
        body: "x".into(),
        internal: true,
        ..Macro::new(IdKind::Macro.new_id(), &a.org, &agent.id, Some(agent.id.clone()), t(11))
    };
    store.insert_macro(&shared).await.unwrap();
    store.insert_macro(&personal).await.unwrap();
    assert_eq!(store.get_macro(&a.org, &shared.id).await.unwrap(), shared);
    assert_err!(store.get_macro(&b.org, &shared.id).await, StoreError::NotFound);
    let for_agent = store.list_macros(&a.org, &agent.id, &PageRequest::first(10)).await.unwrap();
    assert_eq!(for_agent.items, [personal.clone(), shared.clone()]);
    let for_admin = store.list_macros(&a.org, &a.admin.id, &PageRequest::first(10)).await.unwrap();
    assert_eq!(for_admin.items, std::slice::from_ref(&shared), "another agent's personal macro is not listed");
    let renamed = Macro { name: "Solved!".into(), updated_at: t(12), ..shared.clone() };
    store.update_macro(&renamed).await.unwrap();
    assert_eq!(store.get_macro(&a.org, &shared.id).await.unwrap(), renamed);
    assert_err!(store.update_macro(&Macro { org_id: b.org.clone(), ..renamed.clone() }).await, StoreError::NotFound);
    assert_err!(store.delete_macro(&b.org, &shared.id).await, StoreError::NotFound);
    store.delete_macro(&a.org, &shared.id).await.unwrap();
    assert_err!(store.get_macro(&a.org, &shared.id).await, StoreError::NotFound);
}

async fn scenario_ai_settings(store: &Store) {
    use casedesk_domain::ai::settings::{AiSettings, KeyHeader, ProviderKind};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    assert_eq!(store.get_ai_settings(&a.org).await.unwrap(), None, "none until saved");
    let mut s = AiSettings::builtin(&a.org, t(1));
    s.provider = ProviderKind::OpenAiCompatible;
    s.base_url = Some("https://acme.openai.azure.com/openai/deployments/gpt4o".into());
    s.model = Some("gpt-4o".into());
    s.api_key_sealed = Some("v1.sealed-bytes".into());
    s.api_key_header = KeyHeader::ApiKey;
    s.api_version = Some("2024-10-21".into());
    s.timeout_secs = 7;
    store.put_ai_settings(&s).await.unwrap();
    assert_eq!(store.get_ai_settings(&a.org).await.unwrap(), Some(s.clone()));
    // Saving again replaces the row, key and all.
    let back = AiSettings::builtin(&a.org, t(2));
    store.put_ai_settings(&back).await.unwrap();
    assert_eq!(store.get_ai_settings(&a.org).await.unwrap(), Some(back));
    assert_eq!(store.get_ai_settings(&b.org).await.unwrap(), None, "per organization");
}

async fn scenario_feed_head_and_case_presence(db: &TestDb) {
    let store: &Store = db;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;

    // The head is where a reader of only what comes next starts.
    assert_eq!(store.feed_head(&a.org).await.unwrap(), None, "no events yet");
    let one = create(store, &a.org, &a.admin.id, t(1), subject("first")).await;
    create(store, &b.org, &b.admin.id, t(2), subject("theirs")).await;
    // On PostgreSQL the feed serves a transaction once every older one is final: wait for it.
    let (served, last) = read_feed(store, &a.org, None, 10, 1).await;
    assert_eq!(served.len(), 1, "the new case");
    let head = store.feed_head(&a.org).await.unwrap().expect("a head once there are events");
    assert_eq!(Some(&head), last.as_ref(), "the head is the cursor after the last event served");
    let page = store.event_feed(&a.org, Some(&head), 10).await.unwrap();
    assert!(page.items.is_empty(), "nothing after the head: {:?}", page.items);
    comment(store, &one, &a.admin.id, "next", false, t(3)).await;
    let next = feed_events(store, &a.org, Some(head), 1).await;
    assert_eq!(next.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["comment.added"]);
    let (all, _) = read_feed(store, &a.org, None, 10, 2).await;
    assert_eq!(all.len(), 2, "the head does not move what the feed serves from the start");

    // Presence: viewing and typing until their times; a touch never shortens them.
    let ana = user(&a.org, "ana@acme.example", Role::Agent, t(0));
    store.insert_user(&ana, None).await.unwrap();
    store.touch_presence(&a.org, &one.id, &a.admin.id, t(40), None, t(10)).await.unwrap();
    store.touch_presence(&a.org, &one.id, &ana.id, t(40), Some(t(16)), t(10)).await.unwrap();
    store.touch_presence(&a.org, &one.id, &ana.id, t(30), None, t(11)).await.unwrap();
    let mut seen = store.case_presence(&a.org, &one.id, t(12)).await.unwrap();
    seen.sort_by(|x, y| x.user_id.cmp(&y.user_id));
    let mut want = vec![
        casedesk_store::Presence {
            user_id: a.admin.id.clone(),
            viewing_until: t(40),
            typing_until: Timestamp::UNIX_EPOCH,
        },
        casedesk_store::Presence { user_id: ana.id.clone(), viewing_until: t(40), typing_until: t(16) },
    ];
    want.sort_by(|x, y| x.user_id.cmp(&y.user_id));
    assert_eq!(seen, want);
    // Another organization, and another case, see none of it.
    assert!(store.case_presence(&b.org, &one.id, t(12)).await.unwrap().is_empty());
    let two = create(store, &a.org, &a.admin.id, t(13), subject("second")).await;
    assert!(store.case_presence(&a.org, &two.id, t(12)).await.unwrap().is_empty());
    // Leaving ends it at once; running out ends it too, and the next touch clears the row.
    store.leave_presence(&a.org, &one.id, &ana.id).await.unwrap();
    let seen = store.case_presence(&a.org, &one.id, t(12)).await.unwrap();
    assert_eq!(seen.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), [a.admin.id.as_str()]);
    assert!(store.case_presence(&a.org, &one.id, t(41)).await.unwrap().is_empty(), "ran out");
    store.touch_presence(&a.org, &one.id, &ana.id, t(100), None, t(50)).await.unwrap();
    let seen = store.case_presence(&a.org, &one.id, Timestamp::UNIX_EPOCH).await.unwrap();
    assert_eq!(seen.iter().map(|p| p.user_id.as_str()).collect::<Vec<_>>(), [ana.id.as_str()], "expired rows removed");
}

// ---- reports and CSAT --------------------------------------------------------------------------

/// One series' row of grouping `dim` and `key` on `day`, if any.
async fn report_row(store: &Store, org: &str, series: &str, dim: &str, key: &str, day: i32) -> Option<report::DayRow> {
    store.report_days(org, &[series], dim, day, day).await.unwrap().into_iter().find(|r| r.key == key)
}

/// Creates sent together (on SQLite one round of the group committer, which adds the round's
/// counters and created-day totals in one grouped statement each) leave every maintained count
/// and report total equal to counting the cases themselves.
async fn scenario_a_burst_of_creates_keeps_totals_exact(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24i64 {
        let owner = (i % 3 == 0).then(|| a.admin.id.clone());
        let priority = (i % 4 == 0).then_some(Priority::High);
        let tags = match i % 5 {
            0 => vec!["vip".to_string()],
            1 => vec!["vip".to_string(), "billing".to_string()],
            _ => Vec::new(),
        };
        let input = NewCase { owner_id: owner, priority, tags, ..subject(&format!("burst {i}")) };
        let case = new_case(&a.org, &a.admin.id, t(i), input);
        let store = store.clone();
        tasks.spawn(async move { store.create_case(&case, &[], None).await });
    }
    let theirs = new_case(&b.org, &b.admin.id, t(5), subject("theirs"));
    tasks.spawn({
        let store = store.clone();
        async move { store.create_case(&theirs, &[], None).await }
    });
    let created: Vec<Case> = tasks.join_all().await.into_iter().map(|r| r.unwrap()).collect();
    let ours: Vec<&Case> = created.iter().filter(|c| c.org_id == a.org).collect();
    assert_eq!(ours.len(), 24);
    // Counted from the maintained totals (one dimension, any statuses), against listing the cases.
    use casedesk_domain::query::{Clause, Test, Who};
    let when = |tests: Vec<Test>| CaseFilter {
        clauses: tests.into_iter().map(|test| Clause { negated: false, test }).collect(),
        ..Default::default()
    };
    let filters = [
        CaseFilter::default(),
        when(vec![Test::Status(vec![Status::New])]),
        when(vec![Test::Assignee(Who::User(a.admin.id.clone()))]),
        when(vec![Test::Assignee(Who::Nobody), Test::Status(vec![Status::New])]),
        when(vec![Test::Priority(vec![Priority::High])]),
        when(vec![Test::Tag(vec!["vip".into()])]),
        when(vec![Test::Tag(vec!["billing".into()]), Test::Status(vec![Status::New])]),
    ];
    for f in &filters {
        assert!(casedesk_domain::count::totals_query(f).is_some(), "{f:?} is counted from the totals");
        let listed = walk_cases(store, &a.org, f, Ordering::CreatedDesc, 50).await.len() as i64;
        assert!(listed > 0, "{f:?}");
        assert_eq!(store.count_cases(&a.org, f).await.unwrap(), listed, "{f:?}");
    }
    let day = report::local_day(t(0), &TimeZone::UTC);
    let n = |pred: &dyn Fn(&Case) -> bool| ours.iter().filter(|c| pred(c)).count() as i64;
    let created_n = async |dim: &str, key: &str| report_row(store, &a.org, "created", dim, key, day).await.map(|r| r.n);
    assert_eq!(created_n("all", "").await, Some(24));
    assert_eq!(created_n("agent", &a.admin.id).await, Some(n(&|c| c.owner_id.is_some())));
    assert_eq!(created_n("agent", "").await, Some(n(&|c| c.owner_id.is_none())));
    let high = Priority::High.rank().to_string();
    assert_eq!(created_n("priority", &high).await, Some(n(&|c| c.priority == Priority::High)));
    assert_eq!(created_n("channel", "api").await, Some(24));
    assert_eq!(report_row(store, &b.org, "created", "all", "", day).await.map(|r| r.n), Some(1));
}

async fn scenario_report_days_follow_case_writes(store: &Store) {
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let day = report::local_day(t(0), &TimeZone::UTC);
    let one =
        create(store, &a.org, &a.admin.id, t(0), NewCase { owner_id: Some(a.admin.id.clone()), ..subject("one") })
            .await;
    let two =
        create(store, &a.org, &a.admin.id, t(60), NewCase { priority: Some(Priority::High), ..subject("two") }).await;
    create(store, &b.org, &b.admin.id, t(60), subject("theirs")).await;

    // Creation counts in every grouping, under the case's own key.
    assert_eq!(report_row(store, &a.org, "created", "all", "", day).await.map(|r| r.n), Some(2));
    assert_eq!(report_row(store, &a.org, "created", "agent", &a.admin.id, day).await.map(|r| r.n), Some(1));
    assert_eq!(report_row(store, &a.org, "created", "agent", "", day).await.map(|r| r.n), Some(1));
    assert_eq!(report_row(store, &a.org, "created", "priority", "3", day).await.map(|r| r.n), Some(1));
    assert_eq!(report_row(store, &a.org, "created", "channel", "api", day).await.map(|r| r.n), Some(2));

    // A resolution an hour later (the same day) with its business time: durations, buckets, sums.
    let tz = TimeZone::UTC;
    let ctx = Ctx { org_id: &a.org, actor_id: &a.admin.id, now: t(3600), tz: &tz };
    let (mut resolved, changes) =
        one.apply(CasePatch { status: Some(Status::Resolved), ..Default::default() }, &ctx).unwrap();
    resolved.report.resolution_bsecs = Some(1800);
    store.update_case(&resolved, one.version, &timeline::changes(&changes, t(3600)), &a.admin.id).await.unwrap();
    let r = report_row(store, &a.org, "resolved", "all", "", day).await.unwrap();
    assert_eq!((r.n, r.secs, r.bn, r.bsecs), (1, 3600, 1, 1800));
    assert_eq!(r.hist.quantile_bucket(0.5), Some(report::bucket(3600)));
    assert_eq!(r.bhist.quantile_bucket(0.5), Some(report::bucket(1800)));

    // A new owner moves the case's contributions between agents, and nothing else.
    let moved = change(
        store,
        &resolved,
        &a.admin.id,
        t(3700),
        CasePatch { owner_id: Some(Some(b.admin.id.clone())), ..Default::default() },
    )
    .await;
    assert_eq!(report_row(store, &a.org, "resolved", "agent", &a.admin.id, day).await.map(|r| r.n), Some(0));
    assert_eq!(
        report_row(store, &a.org, "resolved", "agent", &b.admin.id, day).await.map(|r| (r.n, r.secs)),
        Some((1, 3600))
    );
    assert_eq!(report_row(store, &a.org, "created", "all", "", day).await.map(|r| r.n), Some(2));

    // A reopen takes the resolution back; a deleted case leaves every series.
    change(store, &moved, &a.admin.id, t(3800), CasePatch { status: Some(Status::Open), ..Default::default() }).await;
    let r = report_row(store, &a.org, "resolved", "all", "", day).await.unwrap();
    assert_eq!((r.n, r.secs, r.bn, r.bsecs, r.hist.quantile_bucket(0.5)), (0, 0, 0, 0, None));
    store.soft_delete_case(&two, t(3900), &a.admin.id).await.unwrap();
    assert_eq!(report_row(store, &a.org, "created", "all", "", day).await.map(|r| r.n), Some(1));
    assert_eq!(report_row(store, &a.org, "created", "priority", "3", day).await.map(|r| r.n), Some(0));

    // Totals before a day, per key; the other organization's are its own.
    let before = store.report_totals_before(&a.org, "all", day + 1).await.unwrap();
    assert_eq!(before.get(""), Some(&(1, 0)));
    assert!(store.report_totals_before(&a.org, "all", day).await.unwrap().is_empty());
    assert_eq!(store.report_totals_before(&b.org, "all", day + 1).await.unwrap().get(""), Some(&(1, 0)));

    // Time logged per work date and key; time on a deleted case does not count.
    let live = store.get_case(&a.org, &one.id).await.unwrap();
    for e in [
        entry(&live, &a.admin.id, "2026-02-27", 90, true, None, t(10)),
        entry(&live, &a.admin.id, "2026-02-27", 30, false, None, t(11)),
        entry(&live, &a.admin.id, "2026-02-28", 15, false, None, t(12)),
        entry(&two, &a.admin.id, "2026-02-28", 45, true, None, t(13)),
    ] {
        store.insert_time_entry(&e, &[], &e.user_id, None).await.unwrap();
    }
    let (d27, d28) =
        (report::day_of_date("2026-02-27".parse().unwrap()), report::day_of_date("2026-02-28".parse().unwrap()));
    let mut rows = store.report_days(&a.org, &["time"], "agent", d27, d28).await.unwrap();
    rows.sort_by_key(|r| r.day);
    let got: Vec<_> = rows.iter().map(|r| (r.day, r.key.as_str(), r.n, r.secs, r.m)).collect();
    assert_eq!(got, [(d27, a.admin.id.as_str(), 2, 7200, 5400), (d28, a.admin.id.as_str(), 1, 900, 0)]);
    assert!(store.report_days(&b.org, &["time"], "queue", d27, d28).await.unwrap().is_empty());
    // Entries follow their case: a new priority moves them, a deletion takes them out.
    let live =
        change(store, &live, &a.admin.id, t(3950), CasePatch { priority: Some(Priority::Low), ..Default::default() })
            .await;
    assert_eq!(report_row(store, &a.org, "time", "priority", "1", d27).await.map(|r| (r.n, r.secs)), Some((2, 7200)));
    assert_eq!(report_row(store, &a.org, "time", "priority", "2", d27).await.map(|r| r.n), Some(0));
    store.soft_delete_case(&live, t(3960), &a.admin.id).await.unwrap();
    assert_eq!(report_row(store, &a.org, "time", "all", "", d27).await.map(|r| (r.n, r.secs, r.m)), Some((0, 0, 0)));
    assert_eq!(report_row(store, &a.org, "time", "agent", &a.admin.id, d28).await.map(|r| r.n), Some(0));
}

async fn scenario_csat_settings_surveys_and_answers(store: &Store) {
    use casedesk_domain::csat::{self, Scale, Settings, Survey};
    use casedesk_domain::email::{MailSettings, SmtpSecurity};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;

    // Settings: none until saved, then as saved, per organization.
    assert_eq!(store.get_csat_settings(&a.org).await.unwrap(), None);
    let on = Settings { org_id: a.org.clone(), enabled: true, scale: Scale::OneToFive };
    store.put_csat_settings(&Settings { enabled: false, ..on.clone() }, t(1)).await.unwrap();
    store.put_csat_settings(&on, t(2)).await.unwrap();
    assert_eq!(store.get_csat_settings(&a.org).await.unwrap(), Some(on));
    assert_eq!(store.get_csat_settings(&b.org).await.unwrap(), None);

    // A resolution in an organization that can send makes one survey, with its message, in the
    // dispatcher's transaction; the survey keeps only the token's hash.
    let mut settings = MailSettings::blank(&a.org, t(3));
    settings.smtp_host = Some("smtp.acme.example".into());
    settings.smtp_security = SmtpSecurity::None;
    settings.from_address = Some("noreply@acme.example".into());
    store.put_mail_settings(&settings).await.unwrap();
    let case = create(store, &a.org, &a.admin.id, t(4), subject("rate me")).await;
    let resolved =
        change(store, &case, &a.admin.id, t(5), CasePatch { status: Some(Status::Resolved), ..Default::default() })
            .await;
    let asked = std::sync::Mutex::new(Vec::new());
    let make_survey = |c: &Case, scale: Scale, at: Timestamp, _: &casedesk_store::MailContext| {
        asked.lock().unwrap().push((c.id.clone(), scale, at));
        let s = Survey::new(c, scale, csat::token_hash("secret-token"), at, at);
        let mut m =
            email(&c.org_id, casedesk_domain::email::Direction::Out, &format!("csat-{}@acme.example", s.id), at);
        m.case_id = Some(c.id.clone());
        m.raw_sha256 = None;
        m.state = casedesk_domain::email::EmailState::Queued;
        m.next_attempt_at = Some(at);
        Some((s, m))
    };
    let no_mail = |_: &Case, _: &Comment, _: &[String], _: &casedesk_store::MailContext| Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut made = 0;
    while made < 1 && std::time::Instant::now() < deadline {
        made += store.dispatch_mail_events(100, &no_mail, &make_survey).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(made, 1);
    assert_eq!(asked.into_inner().unwrap(), [(case.id.clone(), Scale::OneToFive, t(5))]);
    let survey = store.find_survey_by_token(&csat::token_hash("secret-token")).await.unwrap().expect("the survey");
    assert_eq!((survey.case_id.as_str(), survey.score, survey.expires_at), (case.id.as_str(), None, t(5 + 7 * 86400)));
    assert_eq!(store.find_survey_by_token(&csat::token_hash("other")).await.unwrap(), None);
    assert_eq!(store.list_surveys(&a.org, &case.id).await.unwrap(), std::slice::from_ref(&survey));
    assert!(store.list_surveys(&b.org, &case.id).await.unwrap().is_empty());
    assert_eq!(store.list_case_emails(&a.org, &case.id).await.unwrap().len(), 1);

    // An answer, with its timeline entry; a stale one is refused; a change moves the report.
    let day = report::local_day(t(10), &TimeZone::UTC);
    let mut answered = survey.clone();
    let data = answered.answer(csat::Answer { rating: "2".into(), comment: Some("slow".into()) }, t(10), day).unwrap();
    let event = NewEvent { kind: csat::CSAT_RECEIVED, data, created_at: t(10) };
    store.answer_survey(&answered, survey.updated_at, &event).await.unwrap();
    assert_err!(store.answer_survey(&answered, survey.updated_at, &event).await, StoreError::Stale);
    let r = report_row(store, &a.org, "csat", "all", "", day).await.unwrap();
    assert_eq!((r.n, r.m, r.secs), (1, 0, 2));
    let before = answered.updated_at;
    let data = answered.answer(csat::Answer { rating: "5".into(), comment: None }, t(20), day).unwrap();
    store
        .answer_survey(&answered, before, &NewEvent { kind: csat::CSAT_RECEIVED, data, created_at: t(20) })
        .await
        .unwrap();
    let r = report_row(store, &a.org, "csat", "all", "", day).await.unwrap();
    assert_eq!((r.n, r.m, r.secs, r.hist.quantile_bucket(0.5)), (1, 1, 5, Some(5)));
    let stored = store.list_surveys(&a.org, &case.id).await.unwrap();
    assert_eq!((stored[0].score, stored[0].answered_at, stored[0].comment.clone()), (Some(5), Some(t(10)), None));
    let events = store.list_events(&a.org, &resolved.id, &PageRequest::first(50)).await.unwrap().items;
    assert_eq!(events.iter().filter(|e| e.kind == csat::CSAT_RECEIVED).count(), 2);
}

async fn scenario_portal_links_sessions_and_scope(store: &Store) {
    use casedesk_domain::email::{Direction, EmailMessage, EmailState};
    use casedesk_domain::portal::{Requester, Scope};
    use casedesk_store::{PortalLink, PortalSession};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let mut shared = account(&a.org, "Initech", None, t(1));
    shared.portal_shares_cases = true;
    store.insert_account(&shared, None).await.unwrap();
    assert!(store.get_account(&a.org, &shared.id).await.unwrap().portal_shares_cases, "the flag is stored");
    let ana = contact(&a.org, "Ana", Some(&shared.id), t(2));
    let pete = contact(&a.org, "Pete", Some(&shared.id), t(3));
    let vera = Contact { external_id: Some("visitor-7".into()), email: None, ..contact(&a.org, "Vera", None, t(4)) };
    let ana_elsewhere = contact(&b.org, "Ana", None, t(5));
    for c in [&ana, &pete, &vera, &ana_elsewhere] {
        store.insert_contact(c, None).await.unwrap();
    }
    let mut orgs = store.orgs_of_contact_email("ana@customer.example").await.unwrap();
    orgs.sort();
    let mut both = vec![a.org.clone(), b.org.clone()];
    both.sort();
    assert_eq!(orgs, both);
    assert!(store.orgs_of_contact_email("nobody@customer.example").await.unwrap().is_empty());

    // Scope: the address's contacts, and their accounts that share.
    let by_mail = Requester::Email("ana@customer.example".into());
    let scope = store.portal_scope(&a.org, &by_mail).await.unwrap();
    assert_eq!(scope, Scope { contact_ids: vec![ana.id.clone()], shared_account_ids: vec![shared.id.clone()] });
    let visitor = store.portal_scope(&a.org, &Requester::Visitor("visitor-7".into())).await.unwrap();
    assert_eq!(visitor, Scope { contact_ids: vec![vera.id.clone()], shared_account_ids: vec![] });

    // Cases: own, the shared account's, never another's or another organization's.
    let mine = NewCase { requester_id: Some(ana.id.clone()), contact_id: Some(ana.id.clone()), ..subject("mine") };
    let mine = create(store, &a.org, &a.admin.id, t(6), mine).await;
    let colleague = NewCase {
        requester_id: Some(pete.id.clone()),
        contact_id: Some(pete.id.clone()),
        account_id: Some(shared.id.clone()),
        ..subject("colleague's")
    };
    let colleague = create(store, &a.org, &a.admin.id, t(7), colleague).await;
    let vera_case = NewCase { contact_id: Some(vera.id.clone()), ..subject("vera's") };
    let vera_case = create(store, &a.org, &a.admin.id, t(8), vera_case).await;
    let ids = |cases: Vec<Case>| cases.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(store.portal_cases(&a.org, &scope, 50).await.unwrap()), [colleague.id.clone(), mine.id.clone()]);
    assert_eq!(ids(store.portal_cases(&a.org, &visitor, 50).await.unwrap()), vec![vera_case.id.clone()]);
    assert!(store.portal_cases(&b.org, &scope, 50).await.unwrap().is_empty(), "scoped to the organization");
    assert!(store.portal_cases(&a.org, &Scope::default(), 50).await.unwrap().is_empty());

    // A link is written with its message, redeemed once, and not after it expires.
    let link = |hash: &str, expires: Timestamp| PortalLink {
        token_hash: hash.into(),
        org_id: a.org.clone(),
        email: "ana@customer.example".into(),
        created_at: t(10),
        expires_at: expires,
        used_at: None,
    };
    let message = |n: &str| EmailMessage {
        direction: Direction::Out,
        message_id: format!("casedesk.portal-{n}@acme.example"),
        to: vec!["ana@customer.example".into()],
        state: EmailState::Queued,
        next_attempt_at: Some(t(10)),
        raw_sha256: None,
        ..EmailMessage::received(IdKind::Email.new_id(), &a.org, String::new(), 0, t(10))
    };
    store.insert_portal_link(&link("h1", t(100)), &message("1")).await.unwrap();
    store.insert_portal_link(&link("h2", t(100)), &message("2")).await.unwrap();
    let claimed = store.claim_emails("c", t(11), t(20), 10).await.unwrap();
    assert_eq!(claimed.len(), 2, "the messages are queued for the sender");
    let used = store.redeem_portal_link("h1", t(50)).await.unwrap().expect("redeemed");
    assert_eq!((used.org_id.as_str(), used.used_at), (a.org.as_str(), Some(t(50))));
    assert_eq!(store.redeem_portal_link("h1", t(51)).await.unwrap(), None, "once");
    assert_eq!(store.redeem_portal_link("h2", t(100)).await.unwrap(), None, "expired");
    assert_eq!(store.redeem_portal_link("nope", t(50)).await.unwrap(), None);

    // Sessions: stored, found, touched, deleted, purged when expired.
    let session = |id: &str, who: Requester, expires: Timestamp| PortalSession {
        id_hash: id.into(),
        org_id: a.org.clone(),
        requester: who,
        created_at: t(50),
        last_seen_at: t(50),
        expires_at: expires,
    };
    store.insert_portal_session(&session("s1", by_mail.clone(), t(1000))).await.unwrap();
    store.insert_portal_session(&session("s2", Requester::Visitor("visitor-7".into()), t(60))).await.unwrap();
    store.touch_portal_session("s1", t(70)).await.unwrap();
    let found = store.find_portal_session("s1").await.unwrap().expect("found");
    assert_eq!((found.requester, found.last_seen_at), (by_mail, t(70)));
    store.purge_portal_state(t(200)).await.unwrap();
    assert_eq!(store.find_portal_session("s2").await.unwrap(), None, "expired sessions are purged");
    assert!(store.find_portal_session("s1").await.unwrap().is_some());
    store.delete_portal_session("s1").await.unwrap();
    assert_eq!(store.find_portal_session("s1").await.unwrap(), None);
}

// ---- scenarios: messaging channels ----------------------------------------------------------------

/// Dispatches replies until `want` deliveries were made in all (on PostgreSQL the dispatcher
/// waits for every older transaction of the cluster).
async fn dispatch_replies_until(store: &Store, want: usize, seen: &std::sync::Mutex<Vec<Option<String>>>) -> usize {
    use casedesk_domain::messaging::{ChannelConnector, ChannelDelivery, ChannelReply, reply_payload};
    let make = |connectors: &[ChannelConnector], r: &ChannelReply<'_>| {
        assert_eq!((r.event.case_id.as_str(), r.comment.case_id.as_str()), (r.case.id.as_str(), r.case.id.as_str()));
        assert_eq!(r.contact.map(|k| k.id.as_str()), r.case.contact_id.as_deref(), "the case's contact");
        seen.lock().unwrap().push(r.conversation.map(str::to_string));
        connectors
            .iter()
            .filter(|k| k.channel == r.channel)
            .map(|k| {
                let payload = reply_payload(r);
                ChannelDelivery::new(IdKind::ChannelDelivery.new_id(), k, r.event.seq, r.comment, payload)
            })
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut made = 0;
    loop {
        made += store.dispatch_channel_events(100, &make).await.unwrap();
        if made >= want || std::time::Instant::now() > deadline {
            return made;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn scenario_conversations_connectors_and_their_outbox(store: &Store) {
    use casedesk_domain::case::Channel;
    use casedesk_domain::messaging::{CHANNEL_SENT, ChannelConnector, ChannelDelivery};
    use casedesk_domain::webhook::DeliveryState;
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let chat = NewCase { channel: Some(Channel::Chat), ..subject("chat case") };
    let case = create(store, &a.org, &a.admin.id, t(1), chat.clone()).await;
    let follow_up = create(store, &a.org, &a.admin.id, t(2), chat).await;

    // Conversations: one case per organization, channel and id; a link can move to a follow-up.
    assert_eq!(store.get_conversation_case(&a.org, Channel::Chat, "c-1").await.unwrap(), None);
    store.link_conversation(&a.org, Channel::Chat, "c-1", &case.id, t(3)).await.unwrap();
    assert_eq!(store.get_conversation_case(&a.org, Channel::Chat, "c-1").await.unwrap(), Some(case.id.clone()));
    assert_eq!(store.get_conversation_case(&a.org, Channel::Sms, "c-1").await.unwrap(), None, "per channel");
    assert_eq!(store.get_conversation_case(&b.org, Channel::Chat, "c-1").await.unwrap(), None, "per organization");
    store.link_conversation(&a.org, Channel::Chat, "c-2", &follow_up.id, t(4)).await.unwrap();
    store.link_conversation(&a.org, Channel::Chat, "c-2", &case.id, t(5)).await.unwrap();
    assert_eq!(store.get_conversation_case(&a.org, Channel::Chat, "c-2").await.unwrap(), Some(case.id.clone()));

    // The unread count is written and read with the case.
    let (_, after) = comment(store, &case, &a.admin.id, "agent reply", false, t(6)).await;
    let mut unread = after.clone();
    unread.unread_message_count = 2;
    unread.version += 1;
    store.update_case(&unread, after.version, &[], &a.admin.id).await.unwrap();
    assert_eq!(store.get_case(&a.org, &case.id).await.unwrap().unread_message_count, 2);

    // Connectors: one per channel, scoped to the organization. Once the feed shows the history
    // (two cases and a reply), a new connector starts after it.
    read_feed(store, &a.org, None, 100, 3).await;
    let connector = ChannelConnector {
        url: "https://chat.example/out".into(),
        ..ChannelConnector::new(
            IdKind::ChannelConnector.new_id(),
            &a.org,
            Channel::Chat,
            &a.admin.id,
            "whsec_c".into(),
            t(7),
        )
    };
    store.insert_channel_connector(&connector).await.unwrap();
    let again = ChannelConnector { id: IdKind::ChannelConnector.new_id(), ..connector.clone() };
    assert_err!(store.insert_channel_connector(&again).await, StoreError::Duplicate(_));
    assert_eq!(store.get_channel_connector(&a.org, &connector.id).await.unwrap(), connector);
    assert_err!(store.get_channel_connector(&b.org, &connector.id).await, StoreError::NotFound);
    assert_eq!(store.list_channel_connectors(&a.org).await.unwrap(), vec![connector.clone()]);
    assert!(store.list_channel_connectors(&b.org).await.unwrap().is_empty());
    let moved = ChannelConnector { url: "https://chat2.example/out".into(), updated_at: t(8), ..connector.clone() };
    store.update_channel_connector(&moved).await.unwrap();
    assert_eq!(store.get_channel_connector(&a.org, &connector.id).await.unwrap(), moved);
    assert_err!(
        store.update_channel_connector(&ChannelConnector { org_id: b.org.clone(), ..moved.clone() }).await,
        StoreError::NotFound
    );

    // Only agents' public comments after the connector came become deliveries, with the
    // conversation feeding their case.
    let seen = std::sync::Mutex::new(Vec::new());
    let current = store.get_case(&a.org, &case.id).await.unwrap();
    let (note, current) = comment(store, &current, &a.admin.id, "internal", true, t(10)).await;
    let (reply, _) = comment(store, &current, &a.admin.id, "Refunded", false, t(11)).await;
    assert_ne!(note.id, reply.id);
    assert_eq!(dispatch_replies_until(store, 1, &seen).await, 1);
    assert_eq!(dispatch_replies_until(store, 0, &seen).await, 0, "nothing twice");
    assert_eq!(seen.into_inner().unwrap(), vec![Some("c-2".to_string())], "the latest conversation of the case");
    let log = store.list_channel_deliveries(&a.org, &case.id).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].comment_id.as_str(), log[0].delivery.webhook_id.as_str()),
        (reply.id.as_str(), connector.id.as_str())
    );
    assert!(store.list_channel_deliveries(&b.org, &case.id).await.unwrap().is_empty());

    // Claimed with a lease, once; the outcome and its timeline event are written together.
    let claimed = store.claim_channel_deliveries("claim-1", t(20), t(140), 10).await.unwrap();
    assert_eq!((claimed.len(), claimed[0].delivery.attempts), (1, 1));
    assert!(store.claim_channel_deliveries("claim-2", t(21), t(141), 10).await.unwrap().is_empty(), "leased");
    let mut done = claimed[0].clone();
    done.delivery.record(Ok(204), t(22), 0.0);
    assert_err!(store.finish_channel_attempt(&done, "claim-2", None, t(22)).await, StoreError::Stale);
    let event = NewEvent { kind: CHANNEL_SENT, data: serde_json::json!({"comment_id": reply.id}), created_at: t(22) };
    assert_eq!(store.finish_channel_attempt(&done, "claim-1", Some(&event), t(22)).await.unwrap(), None);
    let log = store.list_channel_deliveries(&a.org, &case.id).await.unwrap();
    assert_eq!((log[0].delivery.state, log[0].delivery.delivered_at), (DeliveryState::Delivered, Some(t(22))));
    let events = store.list_events(&a.org, &case.id, &PageRequest::first(100)).await.unwrap().items;
    assert!(events.iter().any(|e| e.kind == CHANNEL_SENT && e.data["comment_id"] == reply.id.as_str()), "{events:?}");
    assert!(store.claim_channel_deliveries("claim-3", t(200), t(320), 10).await.unwrap().is_empty(), "sent once");

    // The connector's own log, newest first; a redelivery is a delivery of its own.
    let again = ChannelDelivery {
        comment_id: done.comment_id.clone(),
        delivery: done.delivery.again(IdKind::ChannelDelivery.new_id(), t(300)).unwrap(),
    };
    store.add_channel_delivery(&again).await.unwrap();
    let log = store.list_connector_deliveries(&a.org, &connector.id, &PageRequest::first(10)).await.unwrap().items;
    let ids: Vec<&str> = log.iter().map(|d| d.delivery.id.as_str()).collect();
    assert_eq!(ids, vec![again.delivery.id.as_str(), done.delivery.id.as_str()]);
    assert!(
        store.list_connector_deliveries(&b.org, &connector.id, &PageRequest::first(10)).await.unwrap().items.is_empty()
    );
    assert_eq!(store.get_channel_delivery(&a.org, &connector.id, &again.delivery.id).await.unwrap(), again);
    assert_err!(store.get_channel_delivery(&b.org, &connector.id, &again.delivery.id).await, StoreError::NotFound);

    // Failures mark the connector failing; a day of them switches it off, once.
    let day = 24 * 3600;
    let fail = async |claim: &str, at: i64| {
        let claimed = store.claim_channel_deliveries(claim, t(at), t(at + 120), 10).await.unwrap();
        let mut d = claimed.into_iter().next().expect("a due delivery");
        d.delivery.record(Ok(500), t(at), 0.0);
        store.finish_channel_attempt(&d, claim, None, t(at)).await.unwrap()
    };
    assert_eq!(fail("claim-4", 400).await, None);
    let failing = store.get_channel_connector(&a.org, &connector.id).await.unwrap();
    assert_eq!((failing.active, failing.failing_since), (true, Some(t(400))));
    let off = fail("claim-5", 400 + day + 1).await.expect("switched off");
    assert!(!off.active && off.disabled_at == Some(t(400 + day + 1)) && off.disabled_reason.is_some());
    assert_eq!(store.get_channel_connector(&a.org, &connector.id).await.unwrap(), off);

    // Deleting the connector takes its deliveries.
    assert_err!(store.delete_channel_connector(&b.org, &connector.id).await, StoreError::NotFound);
    store.delete_channel_connector(&a.org, &connector.id).await.unwrap();
    assert!(store.list_channel_deliveries(&a.org, &case.id).await.unwrap().is_empty());
    assert!(store.list_channel_connectors(&a.org).await.unwrap().is_empty());

    // The channels a case's conversations are on, and a reply's chosen channel, kept with it.
    store.link_conversation(&a.org, Channel::Whatsapp, "w-1", &case.id, t(500)).await.unwrap();
    assert_eq!(store.conversation_channels(&a.org, &case.id).await.unwrap(), vec![Channel::Chat, Channel::Whatsapp]);
    assert!(store.conversation_channels(&b.org, &case.id).await.unwrap().is_empty());
    let current = store.get_case(&a.org, &follow_up.id).await.unwrap();
    let mut by_sms = Comment::new(&a.org, &current, &a.admin.id, "by text", false, AuthorType::Agent, t(501)).unwrap();
    by_sms.reply_channel = Some(Channel::Sms);
    let next = timeline::case_after_comment(&current, &by_sms, &a.admin.id);
    store.add_comment(&by_sms, &next, current.version, &[], None).await.unwrap();
    assert_eq!(store.get_comment(&a.org, &by_sms.id).await.unwrap().reply_channel, Some(Channel::Sms));
}

async fn scenario_imap_mailboxes_claims_and_cursor(store: &Store) {
    use casedesk_domain::email::Mailbox;
    use casedesk_domain::imap::{Cursor, ImapMailbox, ImapSecurity};
    let a = tenant(store, "Acme").await;
    let b = tenant(store, "Globex").await;
    let q = queue(&a.org, "Support", t(1));
    store.insert_queue(&q, None).await.unwrap();
    let mailbox = |org: &str, address: &str, queue_id: Option<String>| Mailbox {
        id: IdKind::Mailbox.new_id(),
        org_id: org.to_string(),
        address: address.into(),
        name: None,
        queue_id,
        created_at: t(1),
    };
    let settings = |m: &Mailbox, due: i64| ImapMailbox {
        mailbox_id: m.id.clone(),
        org_id: m.org_id.clone(),
        host: "imap.acme.example".into(),
        port: 993,
        security: ImapSecurity::Tls,
        username: "help@acme.example".into(),
        password_sealed: Some("v1.sealed".into()),
        folder: "INBOX".into(),
        enabled: true,
        cursor: None,
        last_poll_at: None,
        last_error: None,
        failures: 0,
        next_poll_at: t(due),
        updated_at: t(1),
    };

    // A mailbox made with its settings in one write; a duplicate address writes neither.
    let help = mailbox(&a.org, "help@acme.example", Some(q.id.clone()));
    let help_imap = settings(&help, 10);
    store.insert_mailbox_with_imap(&help, &help_imap).await.unwrap();
    let dup = mailbox(&a.org, "help@acme.example", None);
    assert_err!(store.insert_mailbox_with_imap(&dup, &settings(&dup, 10)).await, StoreError::Duplicate(_));
    assert_eq!(store.get_mailbox_imap(&a.org, &dup.id).await.unwrap(), None);
    assert_eq!(store.get_mailbox_imap(&a.org, &help.id).await.unwrap(), Some(help_imap.clone()));
    assert_eq!(store.get_mailbox_imap(&b.org, &help.id).await.unwrap(), None, "another organization's");
    assert_eq!(store.list_mailbox_imap(&a.org).await.unwrap(), vec![help_imap.clone()]);
    assert!(store.list_mailbox_imap(&b.org).await.unwrap().is_empty());
    // Settings go only on a mailbox of the organization.
    let sales = mailbox(&b.org, "sales@globex.example", None);
    store.insert_mailbox(&sales).await.unwrap();
    assert_err!(
        store.put_mailbox_imap(&ImapMailbox { org_id: a.org.clone(), ..settings(&sales, 5) }).await,
        StoreError::NotFound
    );
    let mut sales_imap = settings(&sales, 5);
    sales_imap.enabled = false;
    store.put_mailbox_imap(&sales_imap).await.unwrap();

    // Claims: nothing before it is due, a switched-off one never; a held one is passed over.
    assert!(store.claim_imap_poll("c1", t(9), t(400)).await.unwrap().is_none());
    let (claimed, queue_id) = store.claim_imap_poll("c1", t(10), t(400)).await.unwrap().expect("due");
    assert_eq!((claimed.mailbox_id.as_str(), queue_id.as_deref()), (help.id.as_str(), Some(q.id.as_str())));
    assert!(store.claim_imap_poll("c2", t(20), t(420)).await.unwrap().is_none(), "held by c1");

    // The cursor moves only under the claim, which it renews.
    let cursor = Cursor { uid_validity: 77, last_uid: 5 };
    store.advance_imap_cursor(&help.id, "c1", cursor, t(500)).await.unwrap();
    assert_err!(store.advance_imap_cursor(&help.id, "c2", cursor, t(500)).await, StoreError::Stale);
    assert!(store.claim_imap_poll("c2", t(450), t(800)).await.unwrap().is_none(), "the renewed lease holds");
    let mut done = claimed.clone();
    done.polled(t(30), jiff::SignedDuration::from_secs(60), Some("NO [AUTHENTICATIONFAILED]"), false);
    assert_err!(store.finish_imap_poll(&done, "c2").await, StoreError::Stale);
    store.finish_imap_poll(&done, "c1").await.unwrap();
    let saved = store.get_mailbox_imap(&a.org, &help.id).await.unwrap().unwrap();
    assert_eq!(saved.cursor, Some(cursor));
    assert_eq!((saved.failures, saved.last_error.as_deref()), (1, Some("NO [AUTHENTICATIONFAILED]")));
    assert_eq!((saved.last_poll_at, saved.next_poll_at), (Some(t(30)), t(90)));
    assert!(store.claim_imap_poll("c3", t(89), t(900)).await.unwrap().is_none(), "backing off");

    // A lease that ran out (its poller died) is taken over; the old claim then writes nothing.
    let (_, _) = store.claim_imap_poll("c3", t(90), t(100)).await.unwrap().expect("due again");
    let (_, _) = store.claim_imap_poll("c4", t(101), t(500)).await.unwrap().expect("lease expired");
    assert_err!(store.advance_imap_cursor(&help.id, "c3", cursor, t(600)).await, StoreError::Stale);

    // New settings end any claim; deleting the mailbox takes its settings with it.
    store.put_mailbox_imap(&saved).await.unwrap();
    assert_err!(store.advance_imap_cursor(&help.id, "c4", cursor, t(600)).await, StoreError::Stale);
    assert_err!(store.delete_mailbox_imap(&a.org, &sales.id).await, StoreError::NotFound);
    store.delete_mailbox_imap(&b.org, &sales.id).await.unwrap();
    assert_eq!(store.get_mailbox_imap(&b.org, &sales.id).await.unwrap(), None);
    store.delete_mailbox(&a.org, &help.id).await.unwrap();
    assert!(store.list_mailbox_imap(&a.org).await.unwrap().is_empty());
    assert!(store.claim_imap_poll("c5", t(10_000), t(10_400)).await.unwrap().is_none());
}
