//! `casedesk bench-sla`: the SLA breach sweep at scale. Seeds N open cases with running clocks,
//! then measures the sweep's query (its cost must follow the alarms due, not the open cases) and
//! how long after a deadline the background job flags the breach.

use std::sync::Arc;
use std::time::{Duration, Instant};

use casedesk_core::jobs::JobIntervals;
use casedesk_core::sla::PolicyFields;
use casedesk_core::{Actor, App, AppError, SystemClock};
use casedesk_domain::calendar::BusinessCalendar;
use casedesk_domain::case::{NewCase, Priority, Status};
use casedesk_domain::case_sla::{CaseSla, Setup};
use casedesk_domain::policy::Role;
use casedesk_domain::queue::{MemberInput, QueueInput};
use casedesk_domain::sla::{Policy, PolicyInput, RuleInput};
use casedesk_store::PageRequest;
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, clap::Args)]
pub struct BenchSlaArgs {
    /// Open cases with running SLA clocks to seed.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Database. Default: a new SQLite file in the temporary directory, deleted afterwards. A
    /// postgres:// URL must name an empty database or schema.
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// Runs of the sweep's query to time.
    #[arg(long, default_value_t = 300)]
    pub queries: u64,
    /// Cases whose first response is due one minute after creation, to time their breach.
    #[arg(long, default_value_t = 10)]
    pub samples: u64,
}

const SEED_CHUNK: i64 = 50_000;

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

pub async fn run(args: BenchSlaArgs) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("casedesk-bench-sla-{}.db", std::process::id()));
    let url = match &args.bench_database {
        Some(u) => u.clone(),
        None => temp.to_string_lossy().into_owned(),
    };
    let store = crate::server::open_store(&url, 8).await?;
    let files_dir = std::env::temp_dir().join(format!("casedesk-bench-sla-{}-files", std::process::id()));
    let files = crate::server::open_files(&files_dir, casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store.clone(), Arc::new(SystemClock), files);
    let org = app.create_org("SLA bench", "UTC").await.map_err(app_err)?;
    let (admin, _) =
        app.admin_create_user(&org.id, "admin@bench.example", Some("Admin"), "admin", None).await.map_err(app_err)?;
    let actor = Actor { org_id: org.id.clone(), user_id: admin.id.clone(), role: Role::Admin };

    let n = args.cases as i64;
    seed_open_cases(&store, &org.id, &admin.id, n).await?;

    // The sweep's query with nothing due: what every instance pays every second.
    let mut idle = time_queries(&store, args.queries).await?;
    idle.sort();

    // Breaches: cases due one minute after creation, swept by the background job.
    let policy = app
        .create_policy(
            &actor,
            PolicyFields {
                name: Some("one minute".into()),
                policy: Some(PolicyInput {
                    rules: vec![rule("high", 1)],
                    pause_statuses: None,
                    warn_percent: Some(99),
                }),
                ..Default::default()
            },
            None,
        )
        .await
        .map_err(app_err)?
        .value;
    let queue = app
        .create_queue(
            &actor,
            QueueInput {
                name: Some("Timed".into()),
                assignment_method: Some("round_robin".into()),
                sla_policy_id: Some(Some(policy.id.clone())),
                ..Default::default()
            },
            None,
        )
        .await
        .map_err(app_err)?
        .value;
    app.put_member(&actor, &queue.id, &admin.id, MemberInput::default()).await.map_err(app_err)?;
    let jobs = tokio::spawn(app.clone().run_jobs(JobIntervals::default()));
    let mut ids = Vec::new();
    for i in 0..args.samples {
        let input = NewCase {
            subject: format!("timed {i}"),
            priority: Some(Priority::High),
            queue_id: Some(queue.id.clone()),
            ..Default::default()
        };
        ids.push(app.create_case(&actor, input, None).await.map_err(app_err)?.value.id);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!("waiting for {} deadlines one minute away …", ids.len());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut delays = Vec::new();
    while delays.len() < ids.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        delays.clear();
        for id in &ids {
            if let Some(d) = breach_delay(&store, &org.id, id).await? {
                delays.push(d);
            }
        }
    }
    jobs.abort();
    delays.sort();
    println!("\n## SLA sweep, {} open cases with running clocks ({:?})", n, store.kind());
    println!("command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    println!(
        "sweep query, nothing due ({} runs): p50 {:.3} ms, p99 {:.3} ms",
        idle.len(),
        ms(&idle, 0.5),
        ms(&idle, 0.99)
    );
    if delays.len() < ids.len() {
        println!("breaches flagged: {} of {} within 2 minutes", delays.len(), ids.len());
    }
    if !delays.is_empty() {
        println!(
            "breach flagged after its deadline ({} cases): median {:.2} s, max {:.2} s",
            delays.len(),
            secs(&delays, 0.5),
            delays.last().map_or(0.0, Duration::as_secs_f64)
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&files_dir);
    if args.bench_database.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    Ok(())
}

/// Seeds `n` open cases whose SLA clocks run, their next alarm spread over the coming day, a
/// chunk per statement; then updates the planner's statistics.
pub(crate) async fn seed_open_cases(
    store: &casedesk_store::Store,
    org: &str,
    user: &str,
    n: i64,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let day_policy = one_rule(24 * 60)?;
    let cal = BusinessCalendar::always();
    let setup = Setup { policy_id: None, policy: &day_policy, calendar: &cal };
    let created = now - SignedDuration::from_hours(1);
    let (sla, _) = CaseSla::start(setup, Priority::High, Status::Open, created, false, created);
    let sla_json = sla.to_json().to_string();
    let from = (now + SignedDuration::from_hours(1)).as_microsecond();
    let step = (86_400_000_000 / n.max(1)).max(1);
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let chunk = SEED_CHUNK.min(n - done);
        store.bench_seed_open_cases(org, user, done + 1, chunk, created, &sla_json, from + done * step, step).await?;
        done += chunk;
        eprint!("\rseeded {done} / {n} open cases");
    }
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    store.analyze().await?;
    Ok(())
}

fn rule(priority: &str, minutes: i64) -> RuleInput {
    RuleInput {
        priority: priority.into(),
        first_response_minutes: Some(minutes),
        next_response_minutes: None,
        resolution_minutes: None,
    }
}

fn one_rule(minutes: i64) -> anyhow::Result<Policy> {
    Policy::validate(PolicyInput { rules: vec![rule("high", minutes)], pause_statuses: None, warn_percent: Some(99) })
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

async fn time_queries(store: &casedesk_store::Store, runs: u64) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let t = Instant::now();
        let due = store.sla_due(Timestamp::now(), 200).await?;
        out.push(t.elapsed());
        anyhow::ensure!(due.is_empty(), "no seeded case should be due yet");
    }
    Ok(out)
}

/// How long after its due time the case's breach was recorded, once it is.
async fn breach_delay(store: &casedesk_store::Store, org: &str, id: &str) -> anyhow::Result<Option<Duration>> {
    let events = store.list_events(org, id, &PageRequest::first(50)).await?;
    for e in events.items.iter().filter(|e| e.kind == "sla.breached") {
        let due: Option<Timestamp> = e.data.get("due_at").and_then(|v| v.as_str()).and_then(|s| s.parse().ok());
        if let Some(due) = due {
            let late = e.created_at.duration_since(due);
            return Ok(Some(Duration::from_secs_f64(late.as_secs_f64().max(0.0))));
        }
    }
    Ok(None)
}

/// The `q` quantile of sorted durations, in milliseconds.
pub(crate) fn ms(sorted: &[Duration], q: f64) -> f64 {
    pick(sorted, q).as_secs_f64() * 1000.0
}

fn secs(sorted: &[Duration], q: f64) -> f64 {
    pick(sorted, q).as_secs_f64()
}

fn pick(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
