//! `casedesk bench-reports`: every report over a year of cases. Seeds N cases spread over the
//! year before now (answered, resolved, grouped over 20 agents, 8 queues, 6 categories, 4
//! priorities and 5 channels, with time entries on a fifth and answered surveys on an eighth),
//! through the same triggers that keep the per-day totals for cases worked through the API, then
//! times `App::report` — what `GET /api/v1/reports/{report}` runs — for every report and grouping
//! over the whole year.

use std::sync::Arc;
use std::time::{Duration, Instant};

use casedesk_core::reports::ReportRequest;
use casedesk_core::{Actor, App, AppError, SystemClock};
use casedesk_domain::policy::Role;
use casedesk_domain::profile::CategoryInput;
use casedesk_domain::queue::QueueInput;
use casedesk_domain::report::{Kind, date_of_day, local_day};
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, clap::Args)]
pub struct BenchReportsArgs {
    /// Cases to seed, spread over the year before now.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Database. Default: a new SQLite file in the temporary directory, deleted afterwards. A
    /// postgres:// URL must name an empty database or schema.
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// Runs of each report to time.
    #[arg(long, default_value_t = 5)]
    pub runs: u64,
}

/// Cases a seeding statement inserts on SQLite.
const SEED_CHUNK: i64 = 50_000;
/// … and on PostgreSQL, where the triggers update each day's total rows once per case: every
/// update of a row in the same transaction leaves a version that the next update walks past, so
/// a statement costs the square of its size (50,000 cases took minutes, 1,000 about 20 s).
const SEED_CHUNK_POSTGRES: i64 = 50;
const GROUPINGS: [&str; 6] = ["none", "queue", "agent", "priority", "channel", "category"];

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(args: BenchReportsArgs) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("casedesk-bench-reports-{}.db", std::process::id()));
    let url = match &args.bench_database {
        Some(u) => u.clone(),
        None => temp.to_string_lossy().into_owned(),
    };
    let result = bench(&args, &url).await;
    if args.bench_database.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.to_string_lossy()));
        }
    }
    result
}

async fn bench(args: &BenchReportsArgs, url: &str) -> anyhow::Result<()> {
    let store = crate::server::open_store(url, 8).await?;
    let files_dir = std::env::temp_dir().join(format!("casedesk-bench-reports-{}-files", std::process::id()));
    let files = crate::server::open_files(&files_dir, casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store.clone(), Arc::new(SystemClock), files);
    let org = app.create_org("Reports bench", "UTC").await.map_err(app_err)?;
    let (admin, _) =
        app.admin_create_user(&org.id, "admin@bench.example", Some("Admin"), "admin", None).await.map_err(app_err)?;
    let actor = Actor { org_id: org.id.clone(), user_id: admin.id.clone(), role: Role::Admin };
    let mut agents = Vec::new();
    for i in 0..20 {
        let email = format!("agent{i}@bench.example");
        let name = format!("Agent {i}");
        agents.push(app.admin_create_user(&org.id, &email, Some(&name), "agent", None).await.map_err(app_err)?.0.id);
    }
    let mut queues = Vec::new();
    for i in 0..8 {
        let input = QueueInput { name: Some(format!("Queue {i}")), ..Default::default() };
        queues.push(app.create_queue(&actor, input, None).await.map_err(app_err)?.value.id);
    }
    let mut categories = Vec::new();
    for i in 0..6 {
        let input = CategoryInput { name: Some(format!("Category {i}")), ..Default::default() };
        categories.push(app.create_category(&actor, input, None).await.map_err(app_err)?.value.id);
    }

    // Seed: the year before now, evenly.
    let n = args.cases as i64;
    let now = Timestamp::now();
    let start = now - SignedDuration::from_hours(24 * 365);
    let step_us = (365 * 86_400 * 1_000_000_i64) / n.max(1);
    let chunk = match store.kind() {
        casedesk_store::BackendKind::Sqlite => SEED_CHUNK,
        casedesk_store::BackendKind::Postgres => SEED_CHUNK_POSTGRES,
    };
    let began = Instant::now();
    let mut done = 0;
    while done < n {
        let k = chunk.min(n - done);
        let seed = casedesk_store::ReportSeed {
            org_id: &org.id,
            first_number: 1 + done,
            n: k,
            start_us: start.as_microsecond() + done * step_us,
            step_us,
            agents: &agents,
            queues: &queues,
            categories: &categories,
        };
        store.bench_seed_reports(&seed).await?;
        done += k;
        eprint!("\rseeded {done} of {n} cases");
    }
    let seeded = began.elapsed();
    eprintln!();
    store.bench_settle().await?;
    println!(
        "seeded {n} cases (with time entries and surveys) in {:.1} s: {:.0} µs a case, triggers included",
        seeded.as_secs_f64(),
        seeded.as_secs_f64() * 1e6 / n as f64
    );

    let tz = jiff::tz::TimeZone::UTC;
    let to = local_day(now, &tz);
    let (from, to) = (date_of_day(to - 364).to_string(), date_of_day(to).to_string());
    println!("\nreport over {from} … {to}, {} runs each: median / max ms", args.runs);
    println!("{:<16} {:<10} {:<6} {:>9} {:>9} {:>7}", "report", "group_by", "by", "median", "max", "rows");
    let mut worst = Duration::ZERO;
    for kind in Kind::ALL {
        for (group_by, granularity) in
            GROUPINGS.iter().map(|g| (*g, "day")).chain([("none", "week"), ("none", "month")])
        {
            let req = ReportRequest {
                kind: kind.as_str().into(),
                from: Some(from.clone()),
                to: Some(to.clone()),
                granularity: Some(granularity.into()),
                group_by: Some(group_by.into()),
            };
            let mut times = Vec::new();
            let mut rows = 0;
            for _ in 0..args.runs {
                let t = Instant::now();
                let r = app.report(&actor, &req).await.map_err(app_err)?;
                times.push(t.elapsed());
                rows = r.report.rows.len();
            }
            times.sort();
            let (median, max) = (times[times.len() / 2], times[times.len() - 1]);
            worst = worst.max(median);
            println!(
                "{:<16} {:<10} {:<6} {:>9.1} {:>9.1} {:>7}",
                kind.as_str(),
                group_by,
                granularity,
                ms(median),
                ms(max),
                rows
            );
        }
    }
    println!("\nslowest median: {:.1} ms", ms(worst));
    let _ = std::fs::remove_dir_all(&files_dir);
    Ok(())
}
