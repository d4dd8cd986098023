//! `casedesk bench`: the load benchmark.
//!
//! The benchmark measures the real path: it starts the server as a **separate process**
//! (`<server-bin> --database-url <url> serve --listen 127.0.0.1:<free port>`, by default this very
//! binary) and talks to it only over HTTP/1.1 keep-alive connections, like any client would. The
//! server's memory is read from `/proc/<pid>/status` (`VmHWM`, the peak resident set, and `VmRSS`).
//!
//! 1. **Seed** through the API: `N/50` accounts and `N/5` contacts (`POST /api/v1/accounts`,
//!    `/api/v1/contacts`), then the `N` cases through `POST /api/v1/imports/cases` in batches of
//!    1000 with several batches in flight. Each case reads like a support ticket (subject and
//!    description from a vocabulary of order, refund, shipping, login… words, a product name and
//!    a unique order number such as `#100023`), with a status, priority, type, channel, 0–3 tags,
//!    0–3 comments, most with a contact and the contact's account, created over the last two
//!    years in increasing order.
//! 2. **Measure**, each phase over `--connections` concurrent clients (`--read-connections` for the
//!    read phases), recording every request's latency (count, throughput, p50, p90, p99, max;
//!    non-2xx answers are counted as errors) and the CPU time the server and the load generator
//!    used (from `/proc/<pid>/stat`; with 8 connections on 2 cores, latencies include queueing):
//!    - create: `POST /api/v1/cases` for `--create-seconds` (target ≥ 5,000 cases/s);
//!    - list with a filter: `GET /api/v1/cases?status=open&limit=50` and
//!      `?priority=high&ordering=-updated_at&limit=50` (target p99 ≤ 10 ms at 1M cases);
//!    - full-text search: `GET /api/v1/cases?q=…` mixing a rare word (an order number), a common
//!      word and two common words (target p99 ≤ 50 ms at 1M cases);
//!    - get one: `GET /api/v1/cases/{id}` for random seeded cases.
//!
//!    Each read phase is preceded by a short unrecorded warm-up.
//! 3. **Report**: a plain-text table with every figure, its target and whether it is met, and the
//!    server's peak memory (target ≤ 200 MB); `--json <path>` also writes the results as JSON.
//!    Before measuring, a few sanity checks (the search finds a case by its order number, filters
//!    return what they filter on) add warnings to the report if they fail.
//!
//! ```text
//! cargo build --release -p casedesk
//! ./target/release/casedesk bench                                  # 100k cases, SQLite
//! ./target/release/casedesk bench --cases 1000000                   # 1M cases
//! ./target/release/casedesk bench --bench-database 'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dbench'
//! ```
//!
//! By default the database is a new SQLite file in the temporary directory, deleted afterwards
//! (`--keep` keeps it, with the server's log). A PostgreSQL URL is used as given: it must name an
//! **empty** database or schema (the server bootstraps an organization with the benchmark's
//! token, which only happens on an empty database); the benchmark never drops anything there.
//! Create the schema first (`create schema bench`) and drop it afterwards. The server's own
//! memory excludes PostgreSQL's, and PostgreSQL plans depend on table statistics: with
//! autovacuum off, nothing analyzes the freshly seeded tables (run `VACUUM ANALYZE` during the
//! pause after seeding, `--settle-seconds`, for steady-state figures).
//!
//! The server inherits this process's environment, so its settings apply
//! (`CASEDESK_DB_MAX_CONNECTIONS=4 casedesk bench …`); `CASEDESK_BOOTSTRAP_TOKEN`, `RUST_LOG`
//! (`warn`) and the database URL and listen address are set by the benchmark. The server's log
//! (standard error) is kept in the temporary directory when it holds warnings or the run fails.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// Cases per import request (the server's maximum).
const IMPORT_BATCH: u64 = 1000;
/// Import requests in flight at once while seeding.
const IMPORT_IN_FLIGHT: usize = 3;
/// Seeded cases whose ids are kept for get-one and order-number searches (a sample at 1M).
const KEPT_IDS: u64 = 200_000;
/// The first order number; case `i` mentions order `#(ORDER_BASE + i)`.
const ORDER_BASE: u64 = 100_000;

const TARGET_CREATE_PER_S: f64 = 5000.0;
const TARGET_LIST_P99_MS: f64 = 10.0;
const TARGET_SEARCH_P99_MS: f64 = 50.0;
const TARGET_MEMORY_MB: f64 = 200.0;

/// Options of `casedesk bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Cases to seed before measuring (with N/5 contacts and N/50 accounts).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Database of the benchmarked server. Default: a new SQLite file in the temporary
    /// directory, deleted afterwards. A postgres:// URL is used as given and must name an empty
    /// database or schema (e.g. postgres://u@host/db?options=-c%20search_path%3Dbench).
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// Concurrent HTTP connections of every measured phase.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub connections: u64,
    /// Concurrent connections of the read phases (list, search, get one). Default: --connections.
    /// With 1, the read latencies hold no queueing behind other requests.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub read_connections: Option<u64>,
    /// Duration of the create-throughput phase, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub create_seconds: u64,
    /// Requests per read phase (each list variant, search, get one).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub queries: u64,
    /// The casedesk binary to start as the server. Default: this one.
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,
    /// Keep the SQLite file and the server's log instead of deleting them.
    #[arg(long)]
    pub keep: bool,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Seconds to wait between seeding and measuring.
    #[arg(long, default_value_t = 3)]
    pub settle_seconds: u64,
    /// Seed of the generated data and of the request mix.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let command = command_line();
    let stem = format!("casedesk-bench-{}-{}", std::process::id(), random_alnum(&mut rand::rng(), 6).to_lowercase());
    let mut files = TempFiles::new(&stem, args.bench_database.is_none(), args.keep);
    let url = args.bench_database.clone().unwrap_or_else(|| files.db.display().to_string());
    let backend =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") { "postgres" } else { "sqlite" };
    let server_bin = match &args.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("finding this binary (pass --server-bin)")?,
    };
    let token = format!("cdkbench_{}", random_alnum(&mut rand::rng(), 40));

    eprintln!(
        "casedesk bench: {} cases, {backend} ({}), {} connections",
        args.cases,
        display_url(&url),
        args.connections
    );
    let mut server = Server::spawn(&server_bin, &url, &token, &files.log)?;
    let outcome = tokio::select! {
        r = bench(&args, &mut server, &token) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let exit = server.stop();
    let log_problems = count_log_problems(&files.log);
    let keep_log = args.keep || outcome.is_err() || log_problems > 0;
    if outcome.is_err() {
        print_log_tail(&files.log);
    }
    files.remove(keep_log);

    let mut results = outcome?;
    results.backend = backend;
    results.database = display_url(&url);
    results.command = command;
    results.server_exit = exit.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into());
    results.server_log_problems = log_problems;
    if keep_log {
        results.server_log = Some(files.log.display().to_string());
    }
    if args.keep && backend == "sqlite" {
        // The database is the one given, or the temporary file that --keep kept.
        results.kept_database = Some(display_url(&url));
    }
    let summary = results.summary(&args);
    println!("{summary}");
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results.to_json(&args))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(())
}

/// Everything between starting the server and stopping it.
async fn bench(args: &BenchArgs, server: &mut Server, token: &str) -> anyhow::Result<Results> {
    let workers = usize::try_from(args.connections).unwrap_or(8);
    let readers = args.read_connections.map_or(workers, |r| usize::try_from(r).unwrap_or(workers));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers.max(readers) + IMPORT_IN_FLIGHT)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(300))
        .build()
        .context("building the HTTP client")?;
    let http = Http { client, base: Arc::from(server.base.as_str()), auth: Arc::from(format!("Bearer {token}")) };
    server.wait_ready(&http.client).await?;
    check_token(&http).await?;
    let mut results = Results { cases_seeded: args.cases, ..Results::default() };
    results.memory_samples.push(("started", server.memory()));

    // ---- seeding ----------------------------------------------------------------------------
    let probe = CpuProbe::new(server.pid);
    let seeded = seed(args, &http, workers, &mut results).await?;
    results.memory_samples.push(("after seeding", server.memory()));
    if args.settle_seconds > 0 {
        eprintln!("settling for {} s", args.settle_seconds);
        tokio::time::sleep(Duration::from_secs(args.settle_seconds)).await;
    }
    results.warnings.extend(sanity_checks(&http, &seeded).await);
    for w in &results.warnings {
        eprintln!("warning: {w}");
    }

    // ---- create ------------------------------------------------------------------------------
    let gen_ = Arc::clone(&seeded.gen_);
    let first_order = ORDER_BASE + args.cases;
    let before = probe.sample();
    let mut create = run_phase(
        &http,
        workers,
        Stop::Until(Instant::now() + Duration::from_secs(args.create_seconds)),
        args.seed ^ 0xc0ffee,
        &Progress::new("create", None),
        move |i, rng| Req::post("/api/v1/cases", gen_.new_case(first_order + i, rng).to_string(), 0),
    )
    .await;
    create.cpu = probe.since(before);
    results.cases_created = create.samples.len() as u64;
    results.phases.push(Phase::new("create", "POST /api/v1/cases", &create, Target::Rate(TARGET_CREATE_PER_S)));
    results.memory_samples.push(("after create", server.memory()));

    // ---- list with a filter ------------------------------------------------------------------
    let lists = [
        ("list status=open", "/api/v1/cases?status=open&limit=50"),
        ("list priority=high -updated", "/api/v1/cases?priority=high&ordering=-updated_at&limit=50"),
    ];
    for (name, path) in lists {
        let out = read_phase(&http, readers, args, &probe, name, move |_, _| Req::get(path.to_string(), 0)).await;
        results.phases.push(Phase::new(name, &format!("GET {path}"), &out, Target::P99(TARGET_LIST_P99_MS)));
    }

    // ---- full-text search --------------------------------------------------------------------
    let kept = Arc::clone(&seeded.kept);
    let search = read_phase(&http, readers, args, &probe, "search", move |i, rng| {
        let kind = (i % 3) as usize;
        let q = match kind {
            0 => (ORDER_BASE + kept[rng.random_range(0..kept.len())].1).to_string(),
            1 => pick(rng, SEARCH_WORDS).to_string(),
            _ => pick(rng, SEARCH_PAIRS).replace(' ', "+"),
        };
        Req::get(format!("/api/v1/cases?q={q}"), kind)
    })
    .await;
    results.phases.push(Phase::new(
        "search (mixed)",
        "GET /api/v1/cases?q=…",
        &search,
        Target::P99(TARGET_SEARCH_P99_MS),
    ));
    for (kind, name, what) in [
        (0, "  search: order number", "q=<order number>, one match"),
        (1, "  search: common word", "q=<word>, e.g. refund"),
        (2, "  search: two words", "q=<word>+<word>, e.g. password reset"),
    ] {
        let part = search.only(kind);
        results.phases.push(Phase::new(name, what, &part, Target::P99(TARGET_SEARCH_P99_MS)));
    }

    // ---- get one -----------------------------------------------------------------------------
    let kept = Arc::clone(&seeded.kept);
    let get = read_phase(&http, readers, args, &probe, "get one", move |_, rng| {
        Req::get(format!("/api/v1/cases/{}", kept[rng.random_range(0..kept.len())].0), 0)
    })
    .await;
    results.phases.push(Phase::new("get one", "GET /api/v1/cases/{id}", &get, Target::None));
    results.memory_samples.push(("at the end", server.memory()));
    results.memory_end = server.memory();
    Ok(results)
}

// ---- scratch files of a benchmark that starts its own server ----------------------------------

/// What a benchmark that seeds a database and starts the server on it keeps in the temporary
/// directory: the SQLite file (unless a database was given), the server's log and both
/// processes' file directories. [`Scratch::remove`] deletes them.
pub(crate) struct Scratch {
    /// Path prefix of every scratch file (`<stem>.db`, `<stem>.log`, `<stem>.files`).
    pub(crate) stem: PathBuf,
    /// The database to seed and serve: the given URL, or the scratch SQLite file.
    pub(crate) url: String,
    /// The casedesk binary to start as the server.
    pub(crate) server_bin: PathBuf,
    own_database: bool,
}

impl Scratch {
    pub(crate) fn new(name: &str, database: Option<&str>, server_bin: Option<&Path>) -> anyhow::Result<Scratch> {
        let stem = std::env::temp_dir().join(format!("casedesk-bench-{name}-{}", std::process::id()));
        let url = database.map_or_else(|| stem.with_extension("db").display().to_string(), str::to_string);
        let server_bin = match server_bin {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe().context("finding this binary (pass --server-bin)")?,
        };
        Ok(Scratch { stem, url, server_bin, own_database: database.is_none() })
    }

    pub(crate) fn remove(&self) {
        if self.own_database {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.stem.with_extension("db").display()));
            }
            let _ = std::fs::remove_dir_all(crate::server::default_files_dir(&self.url));
        }
        let _ = std::fs::remove_file(self.stem.with_extension("log"));
        let _ = std::fs::remove_dir_all(self.stem.with_extension("files"));
    }
}

// ---- the server process ---------------------------------------------------------------------

/// The server under test, a child process; stopped (SIGTERM, then SIGKILL) when dropped.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) pid: u32,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn spawn(bin: &Path, url: &str, token: &str, log: &Path) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port")?
            .port();
        // Standard output is not kept: on first start the server prints the admin's password there.
        let err = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(bin)
            .args(["--database-url", url, "serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CASEDESK_BOOTSTRAP_TOKEN", token)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .env_remove("CASEDESK_DATABASE_URL")
            .env_remove("CASEDESK_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting the server {}", bin.display()))?;
        let pid = child.id();
        Ok(Server { child: Some(child), pid, base: format!("http://127.0.0.1:{port}") })
    }

    /// Waits until `GET /readyz` answers 200 (migrations run before the server listens).
    pub(crate) async fn wait_ready(&mut self, client: &reqwest::Client) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the server exited ({status}) before it was ready");
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await
                && r.status().is_success()
            {
                eprintln!("server ready in {:.1} s (pid {}, {})", started.elapsed().as_secs_f64(), self.pid, self.base);
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("the server was not ready after 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let kb = |key: &str| {
            status.lines().find_map(|l| l.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        };
        Some(Memory { peak_kb: kb("VmHWM:")?, current_kb: kb("VmRSS:")? })
    }

    /// SIGTERM (a graceful shutdown), then SIGKILL after 15 s. Idempotent.
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        eprintln!("warning: the server did not stop within 15 s of SIGTERM; killing it");
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// CPU seconds (user + system, all threads) of the server and of this process.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    server: f64,
    bench: f64,
}

/// Reads CPU times from `/proc/<pid>/stat`.
struct CpuProbe {
    server_pid: u32,
    ticks_per_second: f64,
}

impl CpuProbe {
    fn new(server_pid: u32) -> CpuProbe {
        let ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0);
        CpuProbe { server_pid, ticks_per_second: ticks }
    }

    fn seconds(&self, pid: &str) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.get(stat.rfind(')')? + 1..)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of `rest`.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / self.ticks_per_second)
    }

    fn sample(&self) -> Option<Cpu> {
        Some(Cpu { server: self.seconds(&self.server_pid.to_string())?, bench: self.seconds("self")? })
    }

    fn since(&self, before: Option<Cpu>) -> Option<Cpu> {
        let (b, now) = (before?, self.sample()?);
        Some(Cpu { server: now.server - b.server, bench: now.bench - b.bench })
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    pub(crate) peak_kb: u64,
    pub(crate) current_kb: u64,
}

pub(crate) fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The SQLite file (with its -wal and -shm) and the server's log, removed unless kept.
struct TempFiles {
    db: PathBuf,
    log: PathBuf,
    sqlite: bool,
    keep_db: bool,
    removed: bool,
}

impl TempFiles {
    fn new(stem: &str, sqlite: bool, keep_db: bool) -> Self {
        let dir = std::env::temp_dir();
        TempFiles {
            db: dir.join(format!("{stem}.db")),
            log: dir.join(format!("{stem}.log")),
            sqlite,
            keep_db,
            removed: false,
        }
    }

    fn remove(&mut self, keep_log: bool) {
        if self.removed {
            return;
        }
        self.removed = true;
        if !keep_log {
            let _ = std::fs::remove_file(&self.log);
        }
        if self.sqlite && !self.keep_db {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
            }
            let _ = std::fs::remove_dir_all(crate::server::default_files_dir(&self.db.to_string_lossy()));
        }
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        self.remove(true);
    }
}

fn count_log_problems(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|s| s.lines().filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panicked")).count())
        .unwrap_or(0)
}

fn print_log_tail(log: &Path) {
    if let Ok(s) = std::fs::read_to_string(log) {
        let lines: Vec<&str> = s.lines().collect();
        if !lines.is_empty() {
            eprintln!("last lines of the server's log ({}):", log.display());
            for l in &lines[lines.len().saturating_sub(20)..] {
                eprintln!("  {l}");
            }
        }
    }
}

/// A database URL for display: PostgreSQL passwords hidden.
fn display_url(url: &str) -> String {
    crate::server::redact(url)
}

/// This process's command line, quoted for a POSIX shell where needed.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | ','));
            if plain { a } else { format!("'{}'", a.replace('\'', r"'\''")) }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn check_token(http: &Http) -> anyhow::Result<()> {
    let resp = http
        .client
        .get(format!("{}/api/v1/cases?limit=1", http.base))
        .header("authorization", &*http.auth)
        .send()
        .await?;
    match resp.status().as_u16() {
        200 => {}
        401 => bail!(
            "the server refused the benchmark's token: the database already has an organization, so the server did \
             not bootstrap one with it; give --bench-database an empty database or schema"
        ),
        s => bail!("GET /api/v1/cases answered {s}: {}", resp.text().await.unwrap_or_default()),
    }
    let body: Value = resp.json().await?;
    if body["data"].as_array().is_some_and(|d| !d.is_empty()) {
        bail!("the database already holds cases; give --bench-database an empty database or schema");
    }
    Ok(())
}

// ---- HTTP -----------------------------------------------------------------------------------

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: Arc<str>,
    auth: Arc<str>,
}

/// One request of a phase; `kind` sorts its latency into a sub-phase.
struct Req {
    path: String,
    body: Option<String>,
    kind: usize,
}

impl Req {
    fn get(path: String, kind: usize) -> Req {
        Req { path, body: None, kind }
    }

    fn post(path: &str, body: String, kind: usize) -> Req {
        Req { path: path.to_string(), body: Some(body), kind }
    }
}

impl Http {
    /// Sends `req` and reads the whole answer; `Err` describes a failure or a non-2xx status.
    async fn send(&self, req: Req, parse: bool) -> Result<Option<Value>, String> {
        let url = format!("{}{}", self.base, req.path);
        let builder = match req.body {
            Some(body) => self.client.post(url).header("content-type", "application/json").body(body),
            None => self.client.get(url),
        };
        let resp = builder.header("authorization", &*self.auth).send().await.map_err(|e| format!("{e:#}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("reading the answer: {e:#}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(format!("{status}: {}", text.chars().take(400).collect::<String>()));
        }
        if parse {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("answer is not JSON: {e}"))
        } else {
            Ok(None)
        }
    }

    async fn get_json(&self, path: String) -> Result<Value, String> {
        self.send(Req::get(path, 0), true).await.map(|v| v.unwrap_or(Value::Null))
    }
}

// ---- measured phases ------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Stop {
    Count(u64),
    Until(Instant),
}

/// What a phase recorded.
#[derive(Default)]
struct PhaseRun {
    /// (kind, latency) of every successful request.
    samples: Vec<(usize, Duration)>,
    errors: u64,
    error_examples: Vec<String>,
    wall: Duration,
    /// CPU time used during the phase.
    cpu: Option<Cpu>,
}

impl PhaseRun {
    /// The requests of one kind, with the phase's wall time.
    fn only(&self, kind: usize) -> PhaseRun {
        PhaseRun {
            samples: self.samples.iter().filter(|(k, _)| *k == kind).copied().collect(),
            errors: 0,
            error_examples: Vec::new(),
            wall: self.wall,
            cpu: None,
        }
    }
}

/// Runs `make`'s requests over `workers` concurrent connections until `stop`.
async fn run_phase<F>(http: &Http, workers: usize, stop: Stop, seed: u64, progress: &Progress, make: F) -> PhaseRun
where
    F: Fn(u64, &mut StdRng) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut set = JoinSet::new();
    for w in 0..workers {
        let (http, make, next, progress) = (http.clone(), Arc::clone(&make), Arc::clone(&next), progress.clone());
        set.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(w as u64));
            let mut run = PhaseRun::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match stop {
                    Stop::Count(n) if i >= n => break,
                    Stop::Until(t) if Instant::now() >= t => break,
                    _ => {}
                }
                let req = make(i, &mut rng);
                let kind = req.kind;
                let t0 = Instant::now();
                let outcome = http.send(req, false).await;
                let dt = t0.elapsed();
                match outcome {
                    Ok(_) => run.samples.push((kind, dt)),
                    Err(e) => {
                        run.errors += 1;
                        if run.error_examples.len() < 3 {
                            run.error_examples.push(e);
                        }
                    }
                }
                progress.inc(1);
            }
            run
        });
    }
    let mut all = PhaseRun::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(run) => {
                all.samples.extend(run.samples);
                all.errors += run.errors;
                all.error_examples.extend(run.error_examples);
            }
            Err(e) => {
                all.errors += 1;
                all.error_examples.push(format!("worker failed: {e}"));
            }
        }
    }
    all.wall = started.elapsed();
    all.error_examples.truncate(3);
    progress.finish();
    all
}

/// A read phase: a short unrecorded warm-up, then `--queries` recorded requests.
async fn read_phase<F>(http: &Http, workers: usize, args: &BenchArgs, probe: &CpuProbe, name: &str, make: F) -> PhaseRun
where
    F: Fn(u64, &mut StdRng) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let warm = Arc::clone(&make);
    let warm_up = (args.queries / 10).clamp(1, 100);
    run_phase(http, workers, Stop::Count(warm_up), args.seed ^ 0x5eed, &Progress::hidden(), move |i, rng| warm(i, rng))
        .await;
    let before = probe.sample();
    let mut run = run_phase(
        http,
        workers,
        Stop::Count(args.queries),
        args.seed,
        &Progress::new(name, Some(args.queries)),
        move |i, rng| make(i, rng),
    )
    .await;
    run.cpu = probe.since(before);
    run
}

// ---- seeding --------------------------------------------------------------------------------

/// What seeding leaves for the measured phases.
struct Seeded {
    gen_: Arc<Generator>,
    /// (id, case index) of seeded cases: all of them, or an even sample of `KEPT_IDS`.
    kept: Arc<Vec<(String, u64)>>,
}

async fn seed(args: &BenchArgs, http: &Http, workers: usize, results: &mut Results) -> anyhow::Result<Seeded> {
    let n = args.cases;
    let now = jiff::Timestamp::now().as_second();
    let n_accounts = (n / 50).max(1);
    let n_contacts = (n / 5).max(1);
    let seed = args.seed;

    let started = Instant::now();
    let progress = Progress::new("accounts", Some(n_accounts));
    let accounts = post_many(
        http,
        "/api/v1/accounts",
        n_accounts,
        workers,
        &progress,
        move |i| (account_body(seed, i).to_string(), 1),
        |_, v| id_of(&v),
    )
    .await
    .context("creating accounts")?;
    results.seeding.push(SeedStep::new("accounts", n_accounts, started.elapsed(), None));

    let started = Instant::now();
    let accounts = Arc::new(accounts);
    let acc = Arc::clone(&accounts);
    let progress = Progress::new("contacts", Some(n_contacts));
    let contacts = post_many(
        http,
        "/api/v1/contacts",
        n_contacts,
        workers,
        &progress,
        move |i| (contact_body(seed, i, &acc).to_string(), 1),
        |_, v| Ok((id_of(&v)?, v["account_id"].as_str().map(str::to_string))),
    )
    .await
    .context("creating contacts")?;
    results.seeding.push(SeedStep::new("contacts", n_contacts, started.elapsed(), None));

    let gen_ = Arc::new(Generator { seed, n, now, start: now - 730 * 86_400, contacts });
    let started = Instant::now();
    let batches = n.div_ceil(IMPORT_BATCH);
    let g = Arc::clone(&gen_);
    let comments = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&comments);
    let progress = Progress::new("cases", Some(n));
    let stride = n.div_ceil(KEPT_IDS).max(1);
    let answers = post_many(
        http,
        "/api/v1/imports/cases",
        batches,
        IMPORT_IN_FLIGHT.min(workers),
        &progress,
        move |b| {
            let (body, n_comments) = g.import_batch(b);
            counted.fetch_add(n_comments, Ordering::Relaxed);
            (body.to_string(), (n - b * IMPORT_BATCH).min(IMPORT_BATCH))
        },
        // Keeps the ids of every `stride`-th case, with its index (which names its order number).
        move |b, answer| {
            let data = answer["data"].as_array().context("an import answer without data")?;
            let first = b * IMPORT_BATCH;
            let expected = (n - first).min(IMPORT_BATCH);
            if data.len() as u64 != expected {
                bail!("import batch {b} created {} cases, not {expected}", data.len());
            }
            let mut kept = Vec::new();
            for (j, case) in data.iter().enumerate() {
                let index = first + j as u64;
                if index.is_multiple_of(stride) {
                    kept.push((id_of(case)?, index));
                }
            }
            Ok(kept)
        },
    )
    .await
    .context("importing cases")?;
    let elapsed = started.elapsed();
    let kept: Vec<(String, u64)> = answers.into_iter().flatten().collect();
    let comments = comments.load(Ordering::Relaxed);
    results.comments_seeded = comments;
    results.seeding.push(SeedStep::new("cases", n, elapsed, Some(comments)));
    for s in &results.seeding {
        eprintln!("{}", s.line());
    }
    Ok(Seeded { gen_, kept: Arc::new(kept) })
}

fn id_of(v: &Value) -> anyhow::Result<String> {
    v["id"].as_str().map(str::to_string).with_context(|| format!("an answer without an id: {v}"))
}

/// POSTs `count` bodies made by `make` (body, progress units) over `workers` connections; returns
/// what `extract` takes from each JSON answer, in request order. Fails on the first non-2xx answer.
async fn post_many<M, X, T>(
    http: &Http,
    path: &'static str,
    count: u64,
    workers: usize,
    progress: &Progress,
    make: M,
    extract: X,
) -> anyhow::Result<Vec<T>>
where
    M: Fn(u64) -> (String, u64) + Send + Sync + 'static,
    X: Fn(u64, Value) -> anyhow::Result<T> + Send + Sync + 'static,
    T: Send + 'static,
{
    let make = Arc::new(make);
    let extract = Arc::new(extract);
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut set = JoinSet::new();
    for _ in 0..workers {
        let (http, make, extract, next, failed, progress) = (
            http.clone(),
            Arc::clone(&make),
            Arc::clone(&extract),
            Arc::clone(&next),
            Arc::clone(&failed),
            progress.clone(),
        );
        set.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || failed.load(Ordering::Relaxed) {
                    return Ok(out);
                }
                let (body, units) = make(i);
                match http
                    .send(Req::post(path, body, 0), true)
                    .await
                    .and_then(|v| extract(i, v.unwrap_or(Value::Null)).map_err(|e| format!("unexpected answer: {e:#}")))
                {
                    Ok(t) => out.push((i, t)),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(format!("POST {path} (request {i}): {e}"));
                    }
                }
                progress.inc(units);
            }
        });
    }
    let mut all = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut first_error = None;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok(part)) => all.extend(part),
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(e) => first_error = first_error.or(Some(format!("worker failed: {e}"))),
        }
    }
    progress.finish();
    if let Some(e) = first_error {
        bail!(e);
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

/// Checks, once, that the server answers what the benchmark asks for correctly; problems are
/// warnings in the results, not failures.
async fn sanity_checks(http: &Http, seeded: &Seeded) -> Vec<String> {
    let mut warnings = Vec::new();
    let Some((id, index)) = seeded.kept.get(seeded.kept.len() / 2).cloned() else {
        return warnings;
    };
    let order = ORDER_BASE + index;
    match http.get_json(format!("/api/v1/cases/{id}")).await {
        Ok(case) => {
            let text =
                format!("{} {}", case["subject"].as_str().unwrap_or(""), case["description"].as_str().unwrap_or(""));
            if !text.contains(&format!("#{order}")) {
                warnings
                    .push(format!("case {id} does not mention order #{order}: the import answered ids out of order?"));
            }
        }
        Err(e) => warnings.push(format!("GET /api/v1/cases/{id}: {e}")),
    }
    match http.get_json(format!("/api/v1/cases?q={order}")).await {
        Ok(v) => {
            let ids: Vec<&str> =
                v["data"].as_array().map(|d| d.iter().filter_map(|c| c["id"].as_str()).collect()).unwrap_or_default();
            if !ids.contains(&id.as_str()) {
                warnings.push(format!("search q={order} did not find case {id} (found {} cases)", ids.len()));
            }
        }
        Err(e) => warnings.push(format!("search q={order}: {e}")),
    }
    for (param, field, value) in [("status=open", "status", "open"), ("priority=high", "priority", "high")] {
        match http.get_json(format!("/api/v1/cases?{param}&limit=50")).await {
            Ok(v) => {
                let data = v["data"].as_array().cloned().unwrap_or_default();
                if data.is_empty() {
                    warnings.push(format!("list {param} found no cases"));
                } else if data.iter().any(|c| c[field] != value) {
                    warnings.push(format!("list {param} answered a case whose {field} is not {value}"));
                }
            }
            Err(e) => warnings.push(format!("list {param}: {e}")),
        }
    }
    match http.get_json("/api/v1/cases?q=refund&limit=50".to_string()).await {
        Ok(v) if v["data"].as_array().is_none_or(Vec::is_empty) => {
            warnings.push("search q=refund found no cases".to_string());
        }
        Ok(_) => {}
        Err(e) => warnings.push(format!("search q=refund: {e}")),
    }
    warnings
}

// ---- generated data -------------------------------------------------------------------------

const PRODUCTS: &[&str] = &[
    "Aurora X2 headset",
    "Nimbus router",
    "Pulse smartwatch",
    "Atlas backpack",
    "Zephyr blender",
    "Orion 4K monitor",
    "Vega keyboard",
    "Helix e-bike",
    "Quasar speaker",
    "Terra coffee grinder",
    "Lumen desk lamp",
    "Cobalt phone case",
];

const PROBLEMS: &[&str] = &[
    "Refund request",
    "Damaged package",
    "Missing item",
    "Late delivery",
    "Wrong size delivered",
    "Invoice question",
    "Login problem",
    "Password reset not working",
    "Billing error",
    "Shipping delay",
    "Warranty claim",
    "Broken screen",
    "Account locked",
    "Payment declined",
    "Need a return label",
    "Cancel my subscription",
    "Discount code not working",
    "Tracking number invalid",
    "Charged twice",
    "Defective battery",
];

const OPENERS: &[&str] = &["Hello,", "Hi team,", "Good morning,", "Dear support,", "Hey,", "Hi there,"];

const BODIES: &[&str] = &[
    "I ordered the {product} (order {order}) and the package arrived damaged. The box was crushed and the item does not turn on.",
    "My refund for order {order} has not arrived yet, although your email said it was processed ten days ago.",
    "I cannot log in to my account since the last update; the password reset email never arrives, not even in spam.",
    "The invoice for order {order} shows the wrong billing address and the VAT number is missing.",
    "Shipping was supposed to take 3 days but the tracking page for order {order} still says the label was created.",
    "The {product} stopped working after two weeks and I would like a replacement under warranty.",
    "I was charged twice for order {order}; please refund the duplicate payment.",
    "The discount code from your newsletter is rejected at checkout for the {product}.",
    "Please cancel my subscription and confirm by email. I no longer use the {product}.",
    "The wrong color of the {product} was delivered with order {order}; I need an exchange.",
    "One item is missing from order {order}: the {product} was not in the parcel.",
    "My account was locked after I changed my password and I cannot reach the login page.",
];

const CLOSERS: &[&str] = &[
    "Thanks.",
    "Please help.",
    "Regards, a loyal customer",
    "Looking forward to your answer.",
    "This is urgent.",
    "Cheers",
];

const REPLIES: &[&str] = &[
    "Thanks for reaching out. I have forwarded this to our warehouse team and will update you tomorrow.",
    "Could you send a photo of the damaged item and of the shipping label?",
    "The refund has been issued and should appear on your statement within 5 business days.",
    "I reset your account; please try to log in again and choose a new password.",
    "A replacement {product} is on its way, tracking number {tracking}.",
    "We corrected the invoice; the new copy is attached to this message.",
    "Customer is a repeat buyer, approve a goodwill credit.",
    "Still not working, sorry. I tried twice.",
    "Photo attached, the corner of the box is crushed.",
    "That fixed it, thank you!",
    "Any update on this? It has been a week.",
    "Escalated to billing: duplicate charge confirmed by the payment provider.",
];

const TAGS: &[&str] =
    &["billing", "shipping", "returns", "account", "warranty", "vip", "bug", "feedback", "refund", "escalated"];

/// Single words of the vocabulary that many cases contain.
const SEARCH_WORDS: &[&str] =
    &["refund", "damaged", "invoice", "shipping", "password", "login", "warranty", "replacement", "nimbus", "helix"];
const SEARCH_PAIRS: &[&str] =
    &["password reset", "refund payment", "damaged package", "invoice billing", "replacement warranty", "missing item"];

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloe", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Liam", "Maya", "Noor",
];
const LAST_NAMES: &[&str] =
    &["Silva", "Moreau", "Schmidt", "Okafor", "Tanaka", "Novak", "Rossi", "Larsen", "Kowalski", "Haddad", "Byrne"];
const COMPANY_WORDS: &[&str] =
    &["Blue", "Harbor", "Summit", "Cedar", "Nova", "Atlas", "Pioneer", "Granite", "Silver", "Maple", "Vertex", "Delta"];
const COMPANY_KINDS: &[&str] = &["Logistics", "Retail", "Labs", "Foods", "Media", "Health", "Energy", "Studio"];

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn random_alnum(rng: &mut impl Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Picks an index by weight.
fn weighted(rng: &mut StdRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

const TYPES: [&str; 3] = ["question", "incident", "problem"];
const CHANNELS: [&str; 4] = ["email", "web", "phone", "chat"];

fn priority(rng: &mut StdRng) -> &'static str {
    ["low", "medium", "high", "critical"][weighted(rng, &[25, 50, 20, 5])]
}

fn account_body(seed: u64, i: u64) -> Value {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xacc0_0000 ^ i);
    let name = format!(
        "{} {} {} {i}",
        pick(&mut rng, COMPANY_WORDS),
        pick(&mut rng, COMPANY_WORDS),
        pick(&mut rng, COMPANY_KINDS)
    );
    let tier = ["standard", "standard", "standard", "gold", "vip"][rng.random_range(0..5)];
    json!({ "name": name, "domain": format!("company{i}.example"), "tier": tier })
}

fn contact_body(seed: u64, i: u64, accounts: &[String]) -> Value {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xc0_0000_0000 ^ i);
    let (first, last) = (pick(&mut rng, FIRST_NAMES), pick(&mut rng, LAST_NAMES));
    let mut body = json!({
        "name": format!("{first} {last}"),
        "email": format!("{}.{}.{i}@example.com", first.to_lowercase(), last.to_lowercase()),
        "phone": format!("+1 555 {:07}", i % 10_000_000),
        "external_id": format!("ext-{i}"),
    });
    // 90% of contacts belong to an account.
    if rng.random_range(0..10) != 0 && !accounts.is_empty() {
        body["account_id"] = json!(accounts[rng.random_range(0..accounts.len())]);
    }
    body
}

/// Makes the seeded and created cases.
struct Generator {
    seed: u64,
    n: u64,
    now: i64,
    /// Unix seconds of the first seeded case (two years ago).
    start: i64,
    /// (contact id, its account id).
    contacts: Vec<(String, Option<String>)>,
}

fn ts(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_else(|_| "2024-01-01T00:00:00Z".into())
}

impl Generator {
    /// A subject and description mentioning order `#order`.
    fn ticket(&self, rng: &mut StdRng, order: u64) -> (String, String, &'static str) {
        let product = pick(rng, PRODUCTS);
        let order_ref = format!("#{order}");
        let subject = match rng.random_range(0..4) {
            0 => format!("{} for order {order_ref}", pick(rng, PROBLEMS)),
            1 => format!("{product}: {}", pick(rng, PROBLEMS).to_lowercase()),
            2 => format!("{} ({order_ref})", pick(rng, PROBLEMS)),
            _ => pick(rng, PROBLEMS).to_string(),
        };
        let mut description = format!("{}\n\n", pick(rng, OPENERS));
        for _ in 0..rng.random_range(1..=2) {
            let body = pick(rng, BODIES).replace("{product}", product).replace("{order}", &order_ref);
            description.push_str(&body);
            description.push(' ');
        }
        if !description.contains(&order_ref) {
            let _ = write!(description, "My order number is {order_ref}. ");
        }
        let _ = write!(description, "\n\n{}", pick(rng, CLOSERS));
        (subject, description, product)
    }

    fn tags(rng: &mut StdRng) -> Vec<&'static str> {
        let mut tags: Vec<&str> = Vec::new();
        for _ in 0..rng.random_range(0..=3) {
            let t = pick(rng, TAGS);
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        tags
    }

    /// Most cases have a contact and the contact's account.
    fn people(&self, rng: &mut StdRng, case: &mut Value) {
        if self.contacts.is_empty() || rng.random_range(0..10) == 0 {
            return;
        }
        let (contact, account) = &self.contacts[rng.random_range(0..self.contacts.len())];
        case["contact_id"] = json!(contact);
        if let Some(a) = account {
            case["account_id"] = json!(a);
        }
    }

    /// Import batch `b` (cases `b*1000 ..`) and its number of comments.
    fn import_batch(&self, b: u64) -> (Value, u64) {
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_mul(31).wrapping_add(b));
        let first = b * IMPORT_BATCH;
        let last = (first + IMPORT_BATCH).min(self.n);
        let mut comments = 0;
        let cases: Vec<Value> = (first..last)
            .map(|i| {
                let (case, c) = self.import_case(&mut rng, i);
                comments += c;
                case
            })
            .collect();
        (json!({ "cases": cases }), comments)
    }

    fn import_case(&self, rng: &mut StdRng, i: u64) -> (Value, u64) {
        let span = self.now - 3600 - self.start;
        let created = self.start + (i128::from(span) * i128::from(i) / i128::from(self.n.max(1))) as i64;
        let age_days = (self.now - created) / 86_400;
        // Recent cases are mostly active; older ones mostly resolved or closed.
        const STATUSES: [&str; 6] = ["new", "open", "pending", "on_hold", "resolved", "closed"];
        let status = if age_days < 14 {
            STATUSES[weighted(rng, &[20, 40, 15, 5, 15, 5])]
        } else {
            STATUSES[weighted(rng, &[2, 6, 4, 3, 25, 60])]
        };
        let updated = (created + rng.random_range(600..5 * 86_400)).min(self.now);
        let (subject, description, product) = self.ticket(rng, ORDER_BASE + i);
        let mut case = json!({
            "subject": subject,
            "description": description,
            "status": status,
            "priority": priority(rng),
            "type": TYPES[weighted(rng, &[50, 35, 15])],
            "channel": CHANNELS[weighted(rng, &[50, 25, 10, 15])],
            "tags": Self::tags(rng),
            "created_at": ts(created),
            "updated_at": ts(updated),
        });
        self.people(rng, &mut case);
        let n_comments = rng.random_range(0..=3u64);
        let comments: Vec<Value> = (0..n_comments)
            .map(|k| {
                let at = created + (updated - created) * (k as i64 + 1) / (n_comments as i64 + 1);
                let text = pick(rng, REPLIES)
                    .replace("{product}", product)
                    .replace("{tracking}", &format!("1Z{}", random_alnum(rng, 10).to_uppercase()));
                json!({ "body": text, "internal": rng.random_range(0..5) == 0, "created_at": ts(at) })
            })
            .collect();
        if !comments.is_empty() {
            case["comments"] = json!(comments);
        }
        (case, n_comments)
    }

    /// A body for `POST /api/v1/cases`.
    fn new_case(&self, order: u64, rng: &mut StdRng) -> Value {
        let (subject, description, _) = self.ticket(rng, order);
        let mut case = json!({
            "subject": subject,
            "description": description,
            "priority": priority(rng),
            "tags": Self::tags(rng),
        });
        self.people(rng, &mut case);
        case
    }
}

// ---- progress -------------------------------------------------------------------------------

/// A progress bar on a terminal; otherwise a line every 10%.
#[derive(Clone)]
struct Progress {
    bar: ProgressBar,
    plain: Option<Arc<PlainProgress>>,
}

struct PlainProgress {
    label: String,
    total: u64,
    done: AtomicU64,
    printed_decile: AtomicU64,
}

impl Progress {
    fn new(label: &str, total: Option<u64>) -> Progress {
        if !std::io::stderr().is_terminal() {
            let plain = total.map(|total| {
                Arc::new(PlainProgress {
                    label: label.to_string(),
                    total: total.max(1),
                    done: AtomicU64::new(0),
                    printed_decile: AtomicU64::new(0),
                })
            });
            return Progress { bar: ProgressBar::hidden(), plain };
        }
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:>12} [{bar:40.cyan/blue}] {human_pos}/{human_len} {per_sec:>12} eta {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{prefix:>12} {spinner} {human_pos} requests {per_sec}")
                {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(200));
                bar
            }
        };
        bar.set_prefix(label.to_string());
        Progress { bar, plain: None }
    }

    fn hidden() -> Progress {
        Progress { bar: ProgressBar::hidden(), plain: None }
    }

    fn inc(&self, n: u64) {
        self.bar.inc(n);
        if let Some(p) = &self.plain {
            let done = p.done.fetch_add(n, Ordering::Relaxed) + n;
            let decile = (done * 10 / p.total).min(10);
            if p.printed_decile.fetch_max(decile, Ordering::Relaxed) < decile {
                eprintln!("{:>12}: {:>3}% ({done}/{})", p.label, decile * 10, p.total);
            }
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

// ---- results --------------------------------------------------------------------------------

struct SeedStep {
    what: &'static str,
    count: u64,
    elapsed: Duration,
    comments: Option<u64>,
}

impl SeedStep {
    fn new(what: &'static str, count: u64, elapsed: Duration, comments: Option<u64>) -> SeedStep {
        SeedStep { what, count, elapsed, comments }
    }

    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn line(&self) -> String {
        let comments = self.comments.map(|c| format!(" (with {c} comments)")).unwrap_or_default();
        format!(
            "seeded {} {}{comments} in {:.1} s: {:.0} {}/s",
            self.count,
            self.what,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.what
        )
    }
}

#[derive(Clone, Copy)]
enum Target {
    /// Requests per second, at least.
    Rate(f64),
    /// p99 in milliseconds, at most.
    P99(f64),
    None,
}

struct Phase {
    name: String,
    what: String,
    requests: usize,
    errors: u64,
    error_examples: Vec<String>,
    wall: Duration,
    /// Sorted latencies, milliseconds.
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
    target: Target,
    cpu: Option<Cpu>,
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

impl Phase {
    fn new(name: &str, what: &str, run: &PhaseRun, target: Target) -> Phase {
        let mut lat: Vec<Duration> = run.samples.iter().map(|(_, d)| *d).collect();
        lat.sort_unstable();
        let mean = if lat.is_empty() {
            f64::NAN
        } else {
            lat.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / lat.len() as f64
        };
        Phase {
            name: name.to_string(),
            what: what.to_string(),
            requests: lat.len(),
            errors: run.errors,
            error_examples: run.error_examples.clone(),
            wall: run.wall,
            p50: percentile(&lat, 0.50),
            p90: percentile(&lat, 0.90),
            p99: percentile(&lat, 0.99),
            max: percentile(&lat, 1.0),
            mean,
            target,
            cpu: run.cpu,
        }
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// CPU use of the server and of the load generator during the phase, in % of one core.
    fn cpu_percent(&self) -> Option<(f64, f64)> {
        let wall = self.wall.as_secs_f64().max(1e-9);
        self.cpu.map(|c| (c.server * 100.0 / wall, c.bench * 100.0 / wall))
    }

    /// `Some(met)` when the phase has a target; errors fail it.
    fn met(&self) -> Option<bool> {
        let ok = self.errors == 0 && self.requests > 0;
        match self.target {
            Target::Rate(min) => Some(ok && self.rate() >= min),
            Target::P99(max) => Some(ok && self.p99 <= max),
            Target::None => None,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::Rate(min) => format!(">= {min:.0}/s"),
            Target::P99(max) => format!("p99 <= {max:.0} ms"),
            Target::None => "-".to_string(),
        }
    }
}

#[derive(Default)]
struct Results {
    backend: &'static str,
    database: String,
    command: String,
    cases_seeded: u64,
    comments_seeded: u64,
    cases_created: u64,
    seeding: Vec<SeedStep>,
    phases: Vec<Phase>,
    memory_samples: Vec<(&'static str, Option<Memory>)>,
    memory_end: Option<Memory>,
    warnings: Vec<String>,
    server_exit: String,
    server_log_problems: usize,
    server_log: Option<String>,
    kept_database: Option<String>,
}

fn yes_no(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

impl Results {
    fn memory_met(&self) -> Option<bool> {
        self.memory_end.map(|m| mb(m.peak_kb) <= TARGET_MEMORY_MB)
    }

    fn summary(&self, args: &BenchArgs) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "\n== casedesk bench results ==");
        let _ = writeln!(s, "command:     {}", self.command);
        let _ = writeln!(s, "backend:     {} ({})", self.backend, self.database);
        let _ = writeln!(s, "version:     casedesk {}", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(
            s,
            "data:        {} cases seeded (+{} created by the create phase), {} comments, {} contacts, {} accounts",
            self.cases_seeded,
            self.cases_created,
            self.comments_seeded,
            (self.cases_seeded / 5).max(1),
            (self.cases_seeded / 50).max(1)
        );
        let _ = writeln!(
            s,
            "connections: {} (HTTP/1.1 keep-alive; read phases {}), {} requests per read phase",
            args.connections,
            args.read_connections.unwrap_or(args.connections),
            args.queries
        );
        for step in &self.seeding {
            let _ = writeln!(s, "seeding:     {}", step.line());
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<30} {:>8} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8}  {:<15} {:<4} {:>8} {:>8}",
            "phase",
            "requests",
            "errors",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "target",
            "met",
            "srv cpu",
            "gen cpu"
        );
        for p in &self.phases {
            let cpu = p.cpu_percent();
            let _ = writeln!(
                s,
                "{:<30} {:>8} {:>6} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {:<15} {:<4} {:>8} {:>8}",
                p.name,
                p.requests,
                p.errors,
                p.rate(),
                p.p50,
                p.p90,
                p.p99,
                p.max,
                p.target_text(),
                yes_no(p.met()),
                cpu.map(|c| format!("{:.0}%", c.0)).unwrap_or_default(),
                cpu.map(|c| format!("{:.0}%", c.1)).unwrap_or_default(),
            );
        }
        let _ = writeln!(
            s,
            "(srv cpu / gen cpu: CPU used by the server / by this load generator during the phase, in % of one \
             core; this machine has {} cores)",
            std::thread::available_parallelism().map_or(0, usize::from)
        );
        let _ = writeln!(s);
        match self.memory_end {
            Some(m) => {
                let _ = writeln!(
                    s,
                    "{:<30} {:>8.1} MB peak (VmHWM), {:.1} MB now (VmRSS)  target <= {TARGET_MEMORY_MB:.0} MB  met: {}",
                    "server memory",
                    mb(m.peak_kb),
                    mb(m.current_kb),
                    yes_no(self.memory_met())
                );
            }
            None => {
                let _ = writeln!(s, "server memory: could not read /proc/<pid>/status");
            }
        }
        let samples: Vec<String> = self
            .memory_samples
            .iter()
            .filter_map(|(when, m)| m.map(|m| format!("{when} {:.0} MB", mb(m.current_kb))))
            .collect();
        let _ = writeln!(s, "{:<30} {}", "server RSS over time", samples.join(", "));
        if self.cases_seeded < 1_000_000 {
            let _ = writeln!(
                s,
                "\nnote: the list and search targets are stated for 1M cases; this run has {} (--cases 1000000).",
                self.cases_seeded
            );
        }
        for p in self.phases.iter().filter(|p| p.errors > 0) {
            let _ = writeln!(s, "ERRORS in {}: {} failed requests, e.g.:", p.name, p.errors);
            for e in &p.error_examples {
                let _ = writeln!(s, "  {e}");
            }
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        let _ = writeln!(s, "server exit: {}", self.server_exit);
        if self.server_log_problems > 0 {
            let _ = writeln!(s, "server log: {} warning/error lines", self.server_log_problems);
        }
        if let Some(log) = &self.server_log {
            let _ = writeln!(s, "server log kept: {log}");
        }
        if let Some(db) = &self.kept_database {
            let _ = writeln!(s, "database kept: {db}");
        }
        s
    }

    fn to_json(&self, args: &BenchArgs) -> Value {
        let num = |x: f64| if x.is_finite() { json!((x * 1000.0).round() / 1000.0) } else { Value::Null };
        let phases: Vec<Value> = self
            .phases
            .iter()
            .map(|p| {
                json!({
                    "name": p.name.trim(),
                    "request": p.what,
                    "requests": p.requests,
                    "errors": p.errors,
                    "error_examples": p.error_examples,
                    "seconds": num(p.wall.as_secs_f64()),
                    "per_second": num(p.rate()),
                    "mean_ms": num(p.mean),
                    "p50_ms": num(p.p50),
                    "p90_ms": num(p.p90),
                    "p99_ms": num(p.p99),
                    "max_ms": num(p.max),
                    "target": p.target_text(),
                    "met": p.met(),
                    "server_cpu_percent": p.cpu_percent().map(|c| num(c.0)),
                    "bench_cpu_percent": p.cpu_percent().map(|c| num(c.1)),
                })
            })
            .collect();
        let seeding: Vec<Value> = self
            .seeding
            .iter()
            .map(|s| {
                json!({
                    "what": s.what, "count": s.count, "comments": s.comments,
                    "seconds": num(s.elapsed.as_secs_f64()), "per_second": num(s.rate()),
                })
            })
            .collect();
        let memory_samples: Vec<Value> = self
            .memory_samples
            .iter()
            .filter_map(|(when, m)| m.map(|m| json!({ "when": when, "rss_mb": num(mb(m.current_kb)) })))
            .collect();
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "finished_at": jiff::Timestamp::now().to_string(),
            "command": self.command,
            "backend": self.backend,
            "database": self.database,
            "cases_seeded": self.cases_seeded,
            "comments_seeded": self.comments_seeded,
            "cases_created": self.cases_created,
            "connections": args.connections,
            "read_connections": args.read_connections.unwrap_or(args.connections),
            "queries_per_phase": args.queries,
            "create_seconds": args.create_seconds,
            "seeding": seeding,
            "phases": phases,
            "server_memory": {
                "peak_mb": self.memory_end.map(|m| num(mb(m.peak_kb))),
                "current_mb": self.memory_end.map(|m| num(mb(m.current_kb))),
                "target_mb": TARGET_MEMORY_MB,
                "met": self.memory_met(),
                "samples": memory_samples,
            },
            "warnings": self.warnings,
            "server_exit": self.server_exit,
            "server_log_problems": self.server_log_problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&lat, 0.5), 50.0);
        assert_eq!(percentile(&lat, 0.99), 99.0);
        assert_eq!(percentile(&lat, 1.0), 100.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn generated_cases_mention_their_order_and_are_in_time_order() {
        let g = Generator {
            seed: 7,
            n: 3000,
            now: 1_800_000_000,
            start: 1_800_000_000 - 730 * 86_400,
            contacts: vec![("cnt_1".into(), Some("acc_1".into())), ("cnt_2".into(), None)],
        };
        let (batch, _) = g.import_batch(1);
        let cases = batch["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 1000);
        let mut last = String::new();
        for (j, c) in cases.iter().enumerate() {
            let text = format!("{} {}", c["subject"], c["description"]);
            assert!(text.contains(&format!("#{}", ORDER_BASE + 1000 + j as u64)), "{text}");
            let created = c["created_at"].as_str().expect("created_at").to_string();
            assert!(created >= last, "{created} < {last}");
            last = created;
            assert!(c["updated_at"].as_str().expect("updated_at") >= c["created_at"].as_str().expect("created_at"));
        }
    }

    #[test]
    fn command_lines_are_quoted_for_the_shell() {
        assert!(!command_line().is_empty());
    }
}
