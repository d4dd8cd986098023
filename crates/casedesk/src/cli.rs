//! The command line: `serve`, `migrate`, `admin …`, `export` and the benchmarks.

use std::net::SocketAddr;

use anyhow::Context;
use casedesk_core::admin::BootstrapOptions;
use casedesk_core::{App, SystemClock};
use casedesk_web::HttpConfig;
use clap::{Parser, Subcommand};

use crate::server::{self, ServeConfig};
use crate::telemetry::{self, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "casedesk", version, about = "A self-hosted helpdesk and case-management server")]
pub struct Cli {
    /// Database: an SQLite file (created if missing) or postgres://user@host/db.
    #[arg(long, global = true, env = "CASEDESK_DATABASE_URL", default_value = "casedesk.db")]
    pub database_url: String,
    /// Log lines as human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "CASEDESK_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Directory for file contents. Default: beside an SQLite database (`casedesk.db` →
    /// `casedesk-files/`), `casedesk-files/` in the working directory for PostgreSQL.
    #[arg(long, global = true, env = "CASEDESK_FILES_DIR")]
    pub files_dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first; bootstraps an empty one).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CASEDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Database connections (SQLite: readers; PostgreSQL: all).
        #[arg(long, env = "CASEDESK_DB_MAX_CONNECTIONS", default_value_t = 8)]
        max_connections: u32,
        /// Log every database statement that runs longer than this many milliseconds (at warn
        /// level, with its SQL but never its values).
        #[arg(long, env = "CASEDESK_SLOW_STATEMENT_MS", default_value_t = 1000)]
        slow_statement_ms: u64,
        /// Largest JSON request body, in bytes.
        #[arg(long, env = "CASEDESK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
        max_body_bytes: usize,
        /// Largest uploaded file, in bytes (default 25 MB); larger ones get 413.
        #[arg(long, env = "CASEDESK_MAX_FILE_BYTES", default_value_t = casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)]
        max_file_bytes: u64,
        /// Seconds a webhook receiver has to answer a delivery before the attempt counts as failed.
        #[arg(long, env = "CASEDESK_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
        webhook_timeout_secs: u64,
        /// Mark the web UI's session cookie Secure: set it when users reach casedesk over HTTPS
        /// (directly or through a proxy that terminates TLS).
        #[arg(long, env = "CASEDESK_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Serve /metrics on the main address to `Authorization: Bearer <token>` (and ask for it
        /// on --metrics-listen too).
        #[arg(long, env = "CASEDESK_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// A separate address (keep it private) that serves only /metrics.
        #[arg(long, env = "CASEDESK_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// At least 32 characters (e.g. `openssl rand -hex 32`): seals the HS256 signing keys of
        /// visitor tokens, AI provider keys and IMAP mailbox passwords in the database. Keep it
        /// outside the database and its backups; without it only EdDSA (public) keys can be
        /// added, and no key or password kept.
        #[arg(long, env = "CASEDESK_SIGNING_KEY_SECRET", hide_env_values = true)]
        signing_key_secret: Option<String>,
        /// Seconds an SMTP server has for each step of sending a message.
        #[arg(long, env = "CASEDESK_SMTP_TIMEOUT_SECS", default_value_t = 30)]
        smtp_timeout_secs: u64,
        /// Largest inbound message made into a case, in bytes (default 25 MB); larger ones are
        /// quarantined for an admin.
        #[arg(long, env = "CASEDESK_MAX_INBOUND_EMAIL_BYTES", default_value_t = casedesk_core::email::DEFAULT_MAX_INBOUND_BYTES)]
        max_inbound_email_bytes: u64,
        /// The address customers reach this server at (e.g. `https://help.example.com`): the
        /// base of the links in satisfaction survey emails. Default: the listen address.
        #[arg(long, env = "CASEDESK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Seconds between polls of each mailbox that has IMAP settings (longer after failures).
        #[arg(long, env = "CASEDESK_IMAP_POLL_SECONDS", default_value_t = 60,
            value_parser = clap::value_parser!(u64).range(1..=86_400))]
        imap_poll_seconds: u64,
    },
    /// Take in one email message from standard input (for an MTA's pipe, e.g. Postfix). Exits 0
    /// when the message is taken (made a case or comment, or held for an admin), 75 (EX_TEMPFAIL)
    /// when it could not be, so the MTA keeps it and tries again.
    IngestEmail(crate::ingest::IngestArgs),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Operator commands that work directly on the database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Export a query or a view to an .xlsx or CSV file, straight from the database.
    Export(crate::export::ExportArgs),
    /// Load benchmark: seed cases, then measure the API over HTTP.
    Bench(crate::bench::BenchArgs),
    /// SLA sweep benchmark: seeds open cases with running clocks, times the sweep's query and
    /// how soon after a deadline a breach is flagged.
    BenchSla(crate::bench_sla::BenchSlaArgs),
    /// Benchmark: every report over a year of cases (default 1M).
    BenchReports(crate::bench_reports::BenchReportsArgs),
    /// Measure the built-in AI assistant on the evaluation set (eval/ai).
    AiEval(crate::ai_eval::AiEvalArgs),
    /// Export benchmark: seeds open cases, exports them as CSV and .xlsx through the server,
    /// reports time and the server's peak memory.
    BenchExport(crate::bench_export::BenchExportArgs),
    /// Search benchmark: seeds realistic cases, times searches and one agent's view counts.
    BenchSearch(crate::bench_search::BenchSearchArgs),
    /// UI benchmark: seeds realistic cases and a case with a long timeline, times the case
    /// page and case lists through the server, signed in as a browser is.
    BenchUi(crate::bench_ui::BenchUiArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organization; prints its id.
    CreateOrg {
        #[arg(long)]
        name: String,
        /// IANA time zone of the organization.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// Create a user; prints its id and password.
    CreateUser {
        /// Organization id (org_…).
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// admin or agent.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Default: a random password, printed once.
        #[arg(long, env = "CASEDESK_USER_PASSWORD")]
        password: Option<String>,
    },
    /// Set an organization's subscription status: active, or suspended (its external-visitors
    /// API answers 403).
    SetOrgStatus {
        /// Organization id (org_…).
        #[arg(long)]
        org: String,
        /// active or suspended.
        #[arg(long)]
        status: String,
    },
    /// Create an API token for a user; prints the secret once.
    CreateToken {
        /// User id (usr_…).
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn bootstrap_options() -> BootstrapOptions {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    BootstrapOptions {
        token: var("CASEDESK_BOOTSTRAP_TOKEN"),
        password: var("CASEDESK_BOOTSTRAP_PASSWORD"),
        email: var("CASEDESK_BOOTSTRAP_EMAIL"),
        org_name: var("CASEDESK_BOOTSTRAP_ORG"),
    }
}

pub(crate) fn app_error(e: casedesk_core::AppError) -> anyhow::Error {
    match e {
        casedesk_core::AppError::Validation(fields) => {
            let parts: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
            anyhow::anyhow!("invalid input: {}", parts.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

fn files_dir(given: &Option<std::path::PathBuf>, database_url: &str) -> std::path::PathBuf {
    given.clone().unwrap_or_else(|| server::default_files_dir(database_url))
}

/// The application over the database directly, for the operator's commands.
async fn operator_app(
    database_url: &str,
    dir: &Option<std::path::PathBuf>,
) -> anyhow::Result<(casedesk_store::Store, App)> {
    let store = server::open_store(database_url, 2).await?;
    let files = server::open_files(&files_dir(dir, database_url), casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    Ok((store.clone(), App::new(store, std::sync::Arc::new(SystemClock), files)))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve {
            listen,
            max_connections,
            slow_statement_ms,
            max_body_bytes,
            max_file_bytes,
            webhook_timeout_secs,
            secure_cookies,
            metrics_token,
            metrics_listen,
            signing_key_secret,
            smtp_timeout_secs,
            max_inbound_email_bytes,
            public_url,
            imap_poll_seconds,
        } => {
            let opts = bootstrap_options();
            let (token_given, password_given) = (opts.token.is_some(), opts.password.is_some());
            let config = ServeConfig {
                files_dir: files_dir(&cli.files_dir, &cli.database_url),
                database_url: cli.database_url,
                listen,
                bootstrap: opts,
                http: HttpConfig {
                    max_body_bytes,
                    ui: casedesk_web::ui::UiConfig { secure_cookies, ..Default::default() },
                    metrics_token: metrics_token.filter(|t| !t.is_empty()),
                    ..HttpConfig::default()
                },
                max_connections,
                slow_statement: std::time::Duration::from_millis(slow_statement_ms),
                clock: std::sync::Arc::new(casedesk_core::SystemClock),
                jobs: casedesk_core::jobs::JobIntervals {
                    imap_poll: std::time::Duration::from_secs(imap_poll_seconds),
                    ..Default::default()
                },
                max_file_bytes,
                webhook_timeout: std::time::Duration::from_secs(webhook_timeout_secs),
                metrics_listen,
                signing_key_secret: signing_key_secret.filter(|s| !s.is_empty()),
                smtp_timeout: std::time::Duration::from_secs(smtp_timeout_secs),
                max_inbound_email_bytes,
                public_url: public_url.filter(|u| !u.is_empty()),
            };
            let running = server::start(config, server::shutdown_signal()).await?;
            if let Some(b) = &running.bootstrap {
                // Printed on purpose, once, to standard output — never logged.
                println!(
                    "casedesk: first start — created organization {:?} ({}) and admin {} ({})",
                    b.org.name, b.org.id, b.admin.email, b.admin.id
                );
                if token_given {
                    println!("  API token: the one in CASEDESK_BOOTSTRAP_TOKEN");
                } else {
                    println!("  API token: {}", b.token);
                }
                if password_given {
                    println!("  password:  the one in CASEDESK_BOOTSTRAP_PASSWORD");
                } else {
                    println!("  password:  {}", b.password);
                }
                println!("These are shown once; store them now.");
            }
            println!("casedesk: listening on http://{}", running.addr);
            if let Some(m) = running.metrics_addr {
                println!("casedesk: metrics on http://{m}/metrics");
            }
            running.task.await.context("server task")??;
            Ok(())
        }
        Command::Migrate => {
            let store = server::open_store(&cli.database_url, 2).await?;
            store.close().await;
            println!("casedesk: database is up to date");
            Ok(())
        }
        Command::Admin(cmd) => {
            let (store, app) = operator_app(&cli.database_url, &cli.files_dir).await?;
            let result = admin(&app, cmd).await;
            store.close().await;
            result
        }
        Command::IngestEmail(args) => {
            let (store, app) = operator_app(&cli.database_url, &cli.files_dir)
                .await
                .map_err(|e| crate::ingest::TempFail(format!("{e:#}")))?;
            let outcome = crate::ingest::ingest(&app, &args).await;
            store.close().await;
            outcome
        }
        Command::Export(args) => {
            let (store, app) = operator_app(&cli.database_url, &cli.files_dir).await?;
            let started = std::time::Instant::now();
            let result = crate::export::export(&app, &args).await;
            store.close().await;
            let rows = result?;
            eprintln!(
                "casedesk: wrote {rows} cases to {} in {:.1} s",
                args.output.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::BenchSla(args) => crate::bench_sla::run(args).await,
        Command::BenchReports(args) => crate::bench_reports::run(args).await,
        Command::AiEval(args) => crate::ai_eval::run(args).await,
        Command::BenchExport(args) => crate::bench_export::run(args).await,
        Command::BenchSearch(args) => crate::bench_search::run(args).await,
        Command::BenchUi(args) => crate::bench_ui::run(args).await,
    }
}

async fn admin(app: &App, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::CreateOrg { name, time_zone } => {
            let org = app.create_org(&name, &time_zone).await.map_err(app_error)?;
            println!("{}", org.id);
        }
        AdminCommand::CreateUser { org, email, name, role, password } => {
            let given = password.is_some();
            let (user, password) =
                app.admin_create_user(&org, &email, name.as_deref(), &role, password).await.map_err(app_error)?;
            println!("{}", user.id);
            if !given {
                println!("password: {password}");
            }
        }
        AdminCommand::SetOrgStatus { org, status } => {
            app.set_org_status(&org, &status).await.map_err(app_error)?;
            println!("{org}: {}", status.trim().to_ascii_lowercase());
        }
        AdminCommand::CreateToken { user, name } => {
            let (_, secret) = app.admin_create_token(&user, &name).await.map_err(app_error)?;
            println!("{secret}");
        }
    }
    Ok(())
}
