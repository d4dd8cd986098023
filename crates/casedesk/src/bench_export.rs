//! `casedesk bench-export`: exports at scale. Seeds N open cases (one statement per 50,000, as
//! `bench-sla` does), starts the server as a separate process on that database, downloads
//! `GET /api/v1/exports/cases.csv` and `.xlsx` over HTTP, and reports each run's time and the
//! server's peak resident memory (`VmHWM` from `/proc/<pid>/status`). Each format gets a fresh
//! server process, so each peak is that format's own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use casedesk_core::{App, AppError, SystemClock};

use crate::bench::{Scratch, Server, mb};

#[derive(Debug, clap::Args)]
pub struct BenchExportArgs {
    /// Open cases to seed.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Exports of each format; the figures are their medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Columns of the export.
    #[arg(
        long,
        default_value = "case_number,subject,status,priority,queue,assignee,requester,tags,created_at,updated_at,sla,time_spent,cf.order"
    )]
    pub columns: String,
    /// Database. Default: a new SQLite file in the temporary directory, deleted afterwards. A
    /// postgres:// URL must name an empty database or schema.
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// The casedesk binary to start as the server. Default: this one.
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,
    /// Keep the last export of each format here (cases.csv, cases.xlsx), e.g. to open them.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// One download: how long until the first byte and until the last, and its size.
struct Run {
    first_byte: Duration,
    total: Duration,
    bytes: u64,
}

pub async fn run(args: BenchExportArgs) -> anyhow::Result<()> {
    let scratch = Scratch::new("export", args.bench_database.as_deref(), args.server_bin.as_deref())?;
    let result = bench(&args, &scratch.url, &scratch.server_bin, &scratch.stem).await;
    scratch.remove();
    result
}

async fn bench(
    args: &BenchExportArgs,
    url: &str,
    server_bin: &std::path::Path,
    stem: &std::path::Path,
) -> anyhow::Result<()> {
    // Seed in-process, then close: the server under test starts on the seeded database.
    let store = crate::server::open_store(url, 4).await?;
    let files =
        crate::server::open_files(&stem.with_extension("files"), casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store.clone(), Arc::new(SystemClock), files);
    let org = app.create_org("Export bench", "Europe/Lisbon").await.map_err(app_err)?;
    let (admin, _) =
        app.admin_create_user(&org.id, "admin@bench.example", Some("Admin"), "admin", None).await.map_err(app_err)?;
    let (_, token) = app.admin_create_token(&admin.id, "bench").await.map_err(app_err)?;
    crate::bench_sla::seed_open_cases(&store, &org.id, &admin.id, args.cases as i64).await?;
    store.close().await;

    println!(
        "\n## Export, {} cases ({})",
        args.cases,
        if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
    );
    println!("command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    println!("columns: {}", args.columns);
    for format in ["csv", "xlsx"] {
        let log = stem.with_extension("log");
        let mut server = Server::spawn(server_bin, url, "cdkbench_unused_bootstrap_token", &log)?;
        let client = reqwest::Client::new();
        server.wait_ready(&client).await?;
        let mut runs = Vec::new();
        for i in 0..args.runs {
            let keep =
                args.output_dir.as_ref().filter(|_| i + 1 == args.runs).map(|d| d.join(format!("cases.{format}")));
            let r = download(&client, &server.base, &token, format, &args.columns, args.cases, keep).await?;
            eprintln!(
                "{format} run {}: {:.1} s ({:.1} s to the first byte), {:.1} MB",
                i + 1,
                r.total.as_secs_f64(),
                r.first_byte.as_secs_f64(),
                r.bytes as f64 / 1e6
            );
            runs.push(r);
        }
        let memory = server.memory();
        server.stop();
        let median = |f: fn(&Run) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "{format:>4}: median of {} runs {:.1} s ({:.0} rows/s), first byte after {:.1} s, {:.1} MB; server peak RSS (VmHWM) {}",
            runs.len(),
            median(|r| r.total.as_secs_f64()),
            args.cases as f64 / median(|r| r.total.as_secs_f64()),
            median(|r| r.first_byte.as_secs_f64()),
            median(|r| r.bytes as f64) / 1e6,
            memory.map_or("unknown".to_string(), |m| format!("{:.1} MB", mb(m.peak_kb))),
        );
    }
    Ok(())
}

/// Downloads one export, checking its status and that it holds `cases` (a CSV's lines; an
/// .xlsx's zip signature); writes it to `keep` if given.
async fn download(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    format: &str,
    columns: &str,
    cases: u64,
    keep: Option<PathBuf>,
) -> anyhow::Result<Run> {
    use std::io::Write;
    let started = Instant::now();
    let mut resp = client
        .get(format!("{base}/api/v1/exports/cases.{format}"))
        .query(&[("columns", columns), ("ordering", "created_at")])
        .bearer_auth(token)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("{format} export answered {}: {}", resp.status(), resp.text().await.unwrap_or_default());
    }
    let mut out = match &keep {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let (mut first_byte, mut bytes, mut lines, mut zip) = (None, 0u64, 0u64, false);
    while let Some(chunk) = resp.chunk().await? {
        if bytes == 0 {
            zip = chunk.starts_with(b"PK");
        }
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(o) = out.as_mut() {
            o.write_all(&chunk)?;
        }
    }
    if let Some(mut o) = out {
        o.flush()?;
    }
    let total = started.elapsed();
    if format == "csv" && lines != cases + 1 {
        bail!("the CSV export has {lines} lines, not a header and {cases} cases");
    }
    if format == "xlsx" && !zip {
        bail!("the .xlsx export is not a zip file");
    }
    Ok(Run { first_byte: first_byte.unwrap_or(total), total, bytes })
}
