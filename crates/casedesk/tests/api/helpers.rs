//! `spawn_app`: a fresh database and a running server per test.
//!
//! Backend: SQLite in a temporary directory by default. With `CASEDESK_TEST_BACKEND=postgres`
//! the server runs on the PostgreSQL at `CASEDESK_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a fresh schema per test. When `CI=true` an
//! unreachable PostgreSQL fails the test instead of skipping anything.

use std::sync::Arc;

use casedesk::server::{Running, ServeConfig, start};
use casedesk_core::admin::BootstrapOptions;
use casedesk_core::jobs::JobIntervals;
use casedesk_core::{App, Clock, ManualClock, SystemClock};
use casedesk_domain::file::DEFAULT_MAX_FILE_BYTES;
use casedesk_web::HttpConfig;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

pub const ADMIN_TOKEN: &str = "cdk_test_admin_token_0123456789";
pub const ADMIN_PASSWORD: &str = "test-password-123";
/// The sealing secret of HS256 signing keys in every test server.
pub const SIGNING_KEY_SECRET: &str = "test-signing-key-secret-0123456789abcdef";

#[allow(dead_code)] // Not every test module uses every field.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub org_id: String,
    pub admin_id: String,
    pub database_url: String,
    /// Direct access for setting up other organizations (operator commands); shares the
    /// server's clock.
    pub core: App,
    /// Set when the server runs on a manual clock ([`spawn_app_at`]).
    pub clock: Option<Arc<ManualClock>>,
    _dir: Option<tempfile::TempDir>,
    /// Where the server keeps file contents.
    pub files: Arc<tempfile::TempDir>,
    max_file: u64,
    _stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    http: HttpConfig,
}

/// A response: status, headers and JSON body (Null when empty or not JSON).
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.body);
        assert_eq!(self.body["code"], code, "code; body: {}", self.body);
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"));
    }

    /// The fields named by a 422.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }
}

async fn database_url() -> (String, Option<tempfile::TempDir>) {
    if std::env::var("CASEDESK_TEST_BACKEND").as_deref() == Ok("postgres") {
        let base = std::env::var("CASEDESK_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("api_{}", uuid_hex());
        let pool =
            sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| panic!("PostgreSQL at {base} is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        return (format!("{base}{sep}options=-c%20search_path%3D{schema}"), None);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("casedesk.db");
    (path.to_string_lossy().into_owned(), Some(dir))
}

fn uuid_hex() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16).map(|_| format!("{:x}", rng.random_range(0..16u8))).collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(HttpConfig::default()).await
}

pub async fn spawn_app_with(http: HttpConfig) -> TestApp {
    spawn(http, None, DEFAULT_MAX_FILE_BYTES).await
}

/// A server that accepts files up to `max_file_bytes`.
#[allow(dead_code)]
pub async fn spawn_app_with_file_limit(max_file_bytes: u64) -> TestApp {
    spawn(HttpConfig::default(), None, max_file_bytes).await
}

/// A server whose clock stands at `start` and moves only when the test moves it.
#[allow(dead_code)]
pub async fn spawn_app_at(start: jiff::Timestamp) -> TestApp {
    spawn(HttpConfig::default(), Some(Arc::new(ManualClock::new(start))), DEFAULT_MAX_FILE_BYTES).await
}

/// A server on a manual clock standing at `start`, with these HTTP settings.
#[allow(dead_code)]
pub async fn spawn_app_at_with(start: jiff::Timestamp, http: HttpConfig) -> TestApp {
    spawn(http, Some(Arc::new(ManualClock::new(start))), DEFAULT_MAX_FILE_BYTES).await
}

async fn spawn(http: HttpConfig, manual: Option<Arc<ManualClock>>, max_file: u64) -> TestApp {
    let clock: Arc<dyn Clock> = match &manual {
        Some(m) => m.clone(),
        None => Arc::new(SystemClock),
    };
    let (database_url, dir) = database_url().await;
    let files = Arc::new(tempfile::tempdir().expect("files dir"));
    let (running, stop) = serve(&database_url, &http, &clock, files.path(), max_file).await;
    let b = running.bootstrap.expect("a fresh database is bootstrapped");
    let store = casedesk::server::open_store(&database_url, 2).await.expect("second store");
    let core_files = casedesk::server::open_files(files.path(), max_file).expect("files");
    TestApp {
        base: format!("http://{}", running.addr),
        client: reqwest::Client::new(),
        token: ADMIN_TOKEN.into(),
        org_id: b.org.id,
        admin_id: b.admin.id,
        database_url,
        core: App::new(store, clock, core_files),
        clock: manual,
        _dir: dir,
        files,
        max_file,
        _stop: stop,
        server: running.task,
        http,
    }
}

/// Starts a server (and its background jobs) over `database_url`; it runs until the sender is
/// used or dropped.
async fn serve(
    database_url: &str,
    http: &HttpConfig,
    clock: &Arc<dyn Clock>,
    files_dir: &std::path::Path,
    max_file: u64,
) -> (Running, oneshot::Sender<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServeConfig {
        database_url: database_url.to_string(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        bootstrap: BootstrapOptions {
            token: Some(ADMIN_TOKEN.into()),
            password: Some(ADMIN_PASSWORD.into()),
            email: Some("admin@example.com".into()),
            org_name: Some("Acme Support".into()),
        },
        http: http.clone(),
        max_connections: 4,
        slow_statement: std::time::Duration::from_secs(1),
        clock: clock.clone(),
        // Webhooks and mail every 100 ms, automation and IMAP polls every 200 ms, so delivery and rule tests
        // wait little.
        jobs: JobIntervals {
            webhooks: std::time::Duration::from_millis(100),
            mail: std::time::Duration::from_millis(100),
            automation: std::time::Duration::from_millis(200),
            live: std::time::Duration::from_millis(200),
            imap_poll: std::time::Duration::from_millis(200),
            ..JobIntervals::default()
        },
        files_dir: files_dir.to_path_buf(),
        max_file_bytes: max_file,
        webhook_timeout: std::time::Duration::from_secs(5),
        metrics_listen: None,
        signing_key_secret: Some(SIGNING_KEY_SECRET.into()),
        smtp_timeout: std::time::Duration::from_secs(5),
        max_inbound_email_bytes: casedesk_core::email::DEFAULT_MAX_INBOUND_BYTES,
        public_url: None,
    };
    let running = start(config, async {
        let _ = stopped.await;
    })
    .await
    .expect("server starts");
    (running, stop)
}

/// A second server over the same database, as another instance behind a load balancer; it
/// stops when dropped.
#[allow(dead_code)]
pub struct Instance {
    pub base: String,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    /// Starts another instance over this server's database and file store (same clock).
    #[allow(dead_code)]
    pub async fn another_instance(&self) -> Instance {
        let clock: Arc<dyn Clock> = match &self.clock {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let (running, stop) = serve(&self.database_url, &self.http, &clock, self.files.path(), self.max_file).await;
        assert!(running.bootstrap.is_none(), "the database is already set up");
        Instance { base: format!("http://{}", running.addr), _stop: stop }
    }

    /// Shuts the server down (requests finished, background jobs stopped, database closed) and
    /// starts a new one over the same database and clock, as an operator's restart would: only
    /// what is in the database survives. `core` is a new `App` over a new connection pool too.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            token, org_id, admin_id, database_url, clock, _dir, files, max_file, _stop, server, http, ..
        } = self;
        let _ = _stop.send(());
        server.await.expect("server task").expect("server stops cleanly");
        let shared: Arc<dyn Clock> = match &clock {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let (running, stop) = serve(&database_url, &http, &shared, files.path(), max_file).await;
        assert!(running.bootstrap.is_none(), "a restart does not bootstrap again");
        let store = casedesk::server::open_store(&database_url, 2).await.expect("second store");
        let core_files = casedesk::server::open_files(files.path(), max_file).expect("files");
        TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            token,
            org_id,
            admin_id,
            database_url,
            core: App::new(store, shared, core_files),
            clock,
            _dir,
            files,
            max_file,
            _stop: stop,
            server: running.task,
            http,
        }
    }

    /// A case's whole timeline, oldest first.
    pub async fn timeline(&self, case_id: &str) -> Vec<Value> {
        let r = self.get(&format!("/api/v1/cases/{case_id}/timeline?limit=200")).await;
        assert_eq!(r.status, StatusCode::OK, "timeline of {case_id}: {}", r.body);
        assert_eq!(r.body["has_more"], false, "the timeline of {case_id} fits one page");
        r.body["data"].as_array().expect("data").clone()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, Some(&self.token), None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(&self.token), Some(&body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(&self.token), Some(&body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, Some(&self.token), None, &[]).await
    }

    /// Creates a case and returns its JSON.
    pub async fn create_case(&self, body: Value) -> Value {
        let r = self.post("/api/v1/cases", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "create case: {}", r.body);
        r.body
    }

    /// A second organization with its own admin; returns that admin's token.
    pub async fn other_org(&self) -> (String, String) {
        let org = self.core.create_org("Other Inc", "UTC").await.expect("org");
        let (user, _) = self
            .core
            .admin_create_user(&org.id, &format!("admin-{}@other.example", uuid_hex()), None, "admin", None)
            .await
            .expect("user");
        let (_, token) = self.core.admin_create_token(&user.id, "test").await.expect("token");
        (org.id, token)
    }

    /// An agent of this organization; returns (user id, token).
    pub async fn agent(&self) -> (String, String) {
        let r = self.post("/api/v1/users", serde_json::json!({"email": format!("agent-{}@example.com", uuid_hex()), "name": "Agent", "role": "agent"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        let t = self.post("/api/v1/tokens", serde_json::json!({"name": "agent", "user_id": id})).await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        (id, t.body["secret"].as_str().unwrap().to_string())
    }
}
