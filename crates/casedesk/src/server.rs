//! Start-up and shutdown of `casedesk serve`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use casedesk_core::admin::{Bootstrap, BootstrapOptions};
use casedesk_core::blobs::LocalBlobStore;
use casedesk_core::files::Files;
use casedesk_core::jobs::JobIntervals;
use casedesk_core::{App, Clock};
use casedesk_store::{ConnectOptions, Store};
use casedesk_web::HttpConfig;
use tokio::net::TcpListener;

/// How long an IMAP server has for each step of a poll (connecting, logging in, each command).
const IMAP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything `serve` needs to know.
#[derive(Clone)]
pub struct ServeConfig {
    pub database_url: String,
    pub listen: SocketAddr,
    pub bootstrap: BootstrapOptions,
    pub http: HttpConfig,
    pub max_connections: u32,
    /// Statements slower than this are logged with their SQL.
    pub slow_statement: std::time::Duration,
    /// The clock of every use case and background job (tests set the time).
    pub clock: Arc<dyn Clock>,
    pub jobs: JobIntervals,
    /// Where file contents are stored.
    pub files_dir: PathBuf,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// How long a webhook receiver has to answer a delivery.
    pub webhook_timeout: std::time::Duration,
    /// A second, admin-only address that serves `/metrics` (and nothing else).
    pub metrics_listen: Option<SocketAddr>,
    /// Seals HS256 signing-key secrets at rest; without it only EdDSA keys can be added.
    pub signing_key_secret: Option<String>,
    /// How long an SMTP server has for each step of a conversation.
    pub smtp_timeout: std::time::Duration,
    /// Largest inbound message made into a case; larger ones are quarantined.
    pub max_inbound_email_bytes: u64,
    /// Where customers reach the server (the base of survey links); default the listen address.
    pub public_url: Option<String>,
}

/// The file store in `dir` (created if missing), accepting files up to `max_bytes`.
pub fn open_files(dir: &Path, max_bytes: u64) -> anyhow::Result<Files> {
    let blobs = LocalBlobStore::open(dir).with_context(|| format!("opening the file directory {}", dir.display()))?;
    Ok(Files { blobs: Arc::new(blobs), max_bytes })
}

/// Where files go unless configured: beside an SQLite database (`casedesk.db` →
/// `casedesk-files/`), or `casedesk-files/` in the working directory for PostgreSQL.
pub fn default_files_dir(database_url: &str) -> PathBuf {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return PathBuf::from("casedesk-files");
    }
    let path = database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = Path::new(path.split('?').next().unwrap_or(path));
    let stem = path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.is_empty()).unwrap_or("casedesk");
    path.with_file_name(format!("{stem}-files"))
}

/// Opens the database named by `url` and brings its schema up to date.
pub async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<Store> {
    open_store_with(url, &ConnectOptions { max_connections, ..ConnectOptions::default() }).await
}

/// [`open_store`] with every connection setting.
pub async fn open_store_with(url: &str, opts: &ConnectOptions) -> anyhow::Result<Store> {
    let store = Store::connect(url, opts).await.with_context(|| format!("opening database {}", redact(url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    /// Where the separate metrics listener is, when one was asked for.
    pub metrics_addr: Option<SocketAddr>,
    pub bootstrap: Option<Bootstrap>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Opens the database, bootstraps an empty one, binds, and serves until `shutdown` completes;
/// then stops accepting, lets in-flight requests finish, and closes the database.
pub async fn start(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let opts = ConnectOptions { max_connections: config.max_connections, slow_statement: config.slow_statement };
    let store = open_store_with(&config.database_url, &opts).await?;
    let files = open_files(&config.files_dir, config.max_file_bytes)?;
    let sender = crate::webhook_sender::ReqwestSender::new(config.webhook_timeout).context("the webhook client")?;
    let mut app = App::new(store.clone(), config.clock.clone(), files)
        .with_http_sender(Arc::new(sender))
        .with_ai_provider(Arc::new(crate::ai_client::ReqwestChat::new().context("the AI provider client")?))
        .with_mailer(Arc::new(crate::mail_sender::SmtpMailer::new(config.smtp_timeout)))
        .with_imap_client(Arc::new(crate::imap_client::AsyncImapClient::new(IMAP_TIMEOUT).context("the IMAP client")?))
        .with_max_inbound_bytes(config.max_inbound_email_bytes);
    if let Some(secret) = &config.signing_key_secret {
        let key = casedesk_domain::signing_key::SealingKey::derive(secret)
            .map_err(|m| anyhow::anyhow!("CASEDESK_SIGNING_KEY_SECRET {m}"))?;
        app = app.with_sealing_key(key);
    }
    let bootstrap = app.bootstrap(config.bootstrap.clone()).await.map_err(|e| anyhow::anyhow!("bootstrap: {e:?}"))?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = app.with_public_url(config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")));
    let jobs = tokio::spawn(app.clone().run_jobs(config.jobs));
    let http_metrics = Arc::new(casedesk_web::metrics::HttpMetrics::default());
    // The admin listener: only /metrics, asking for the token too when one is set.
    let (metrics_addr, metrics_task) = match config.metrics_listen {
        Some(at) => {
            let l = TcpListener::bind(at).await.with_context(|| format!("binding the metrics address {at}"))?;
            let addr = l.local_addr()?;
            let state = casedesk_web::metrics::MetricsState::new(
                app.clone(),
                http_metrics.clone(),
                config.http.metrics_token.as_deref(),
            );
            let routes = casedesk_web::metrics::routes(state);
            let task = tokio::spawn(async move {
                if let Err(e) = axum::serve(l.tap_io(no_delay), routes).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
            tracing::info!(listen = %addr, "serving /metrics");
            (Some(addr), Some(task))
        }
        None => (None, None),
    };
    // Open live pages end their streams when shutdown begins, so in-flight requests can finish.
    let live = app.live.clone();
    let shutdown = async move {
        shutdown.await;
        live.close();
    };
    let router = casedesk_web::router_with_metrics(app, &config.http, http_metrics);
    tracing::info!(listen = %addr, backend = ?store.kind(), "casedesk is serving");
    let task = tokio::spawn(async move {
        let listener = listener.tap_io(no_delay);
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving");
        // A job stopped mid-write rolls its transaction back; the next start picks it up again.
        jobs.abort();
        if let Some(t) = metrics_task {
            t.abort();
        }
        served?;
        store.close().await;
        tracing::info!("casedesk stopped");
        Ok(())
    });
    Ok(Running { addr, metrics_addr, bootstrap, task })
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Every answer goes out as soon as it is written. With Nagle's algorithm on, a response written
/// in two parts (headers, then a body) waits for the client's delayed ACK of the first part —
/// up to 200 ms on a keep-alive connection.
fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("casedesk.db"), "casedesk.db");
    }

    #[test]
    fn files_live_beside_an_sqlite_database() {
        use super::default_files_dir;
        use std::path::PathBuf;
        assert_eq!(default_files_dir("casedesk.db"), PathBuf::from("casedesk-files"));
        assert_eq!(default_files_dir("sqlite:///var/lib/cd/data.db?mode=rwc"), PathBuf::from("/var/lib/cd/data-files"));
        assert_eq!(default_files_dir("postgres://u@h/db"), PathBuf::from("casedesk-files"));
    }
}
