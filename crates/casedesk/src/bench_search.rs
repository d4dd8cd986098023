//! `casedesk bench-search`: search and view counts at scale. Seeds N realistic cases straight
//! into the database (one statement per chunk, full-text index included), then measures through
//! the core use cases — `App::search_cases` for a mix of queries, first page in the default
//! order, and `App::count_views` for all of one agent's views.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use casedesk_core::views::AnyView;
use casedesk_core::{Actor, App, AppError, SystemClock};
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::policy::Role;
use casedesk_domain::queue::QueueInput;
use casedesk_domain::view::ViewInput;
use casedesk_store::SearchSeed;

use crate::bench_sla::ms;
use jiff::{SignedDuration, Timestamp};

#[derive(Debug, clap::Args)]
pub struct BenchSearchArgs {
    /// Cases to seed.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Database. Default: a new SQLite file in the temporary directory, deleted afterwards. A
    /// postgres:// URL must name an empty database or schema.
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// Runs of each kind of query.
    #[arg(long, default_value_t = 100)]
    pub repeats: usize,
    /// Runs of counting all of one agent's views (the median is reported).
    #[arg(long, default_value_t = 21)]
    pub count_repeats: usize,
    /// Also time a rebuild of every case's search entry (what a migration that changes the
    /// index's contents makes the first start do).
    #[arg(long)]
    pub reindex: bool,
}

const SEED_CHUNK: i64 = 100_000;
const AGENTS: usize = 50;
const QUEUES: &[&str] = &[
    "Tier 1",
    "Tier 2",
    "Billing",
    "Returns",
    "Shipping",
    "Accounts",
    "Hardware",
    "Software",
    "Network",
    "Escalations",
];

/// Common helpdesk words first: the seed draws words with a skew towards the start, so these
/// are frequent and the invented words after them are rare.
const WORDS: &str = "the a to and is not with my on for in error cannot please help issue order account \
    login password email printer invoice payment refund update problem working screen access new customer \
    request urgent server network connection slow delivery shipping package missing broken replacement \
    phone laptop setup install software license renewal billing charge card declined subscription cancel \
    upgrade report data export import file upload download sync calendar meeting vpn wifi router firewall \
    backup restore database timeout crash freeze bug feature question thanks hello again still since today \
    yesterday week month after before when after all some every user admin manager team office remote home \
    mobile app android iphone browser chrome firefox windows mac linux driver paper jam toner ink scanner \
    monitor keyboard mouse headset camera microphone audio video call ticket case status priority tracking \
    number address change name contract quote discount price tax receipt statement balance overdue reminder \
    warranty return damaged wrong item size color stock available backorder dispatch courier customs duty \
    certificate expired ssl domain dns mailbox quota spam phishing virus malware security breach alert \
    permission denied role group share folder drive storage sync conflict version history restore deleted \
    integration api webhook token key limit rate quota error500 gateway outage maintenance downtime incident";

fn vocabulary() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in WORDS.split_whitespace() {
        if !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    // Invented words for the long tail, from syllables, each distinct.
    const SYL: [&str; 16] =
        ["ka", "lo", "mi", "ren", "tu", "vos", "pel", "dar", "sin", "qua", "bex", "nor", "fi", "zan", "ho", "gru"];
    let mut i = 0usize;
    while out.len() < 2_000 {
        let w = format!("{}{}{}", SYL[i % 16], SYL[(i / 16) % 16], SYL[(i / 256) % 16]);
        if !out.contains(&w) {
            out.push(w);
        }
        i += 1;
    }
    out
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

pub async fn run(args: BenchSearchArgs) -> anyhow::Result<()> {
    let temp = std::env::temp_dir().join(format!("casedesk-bench-search-{}.db", std::process::id()));
    let url = match &args.bench_database {
        Some(u) => u.clone(),
        None => temp.to_string_lossy().into_owned(),
    };
    let store = crate::server::open_store(&url, 8).await?;
    let files_dir = std::env::temp_dir().join(format!("casedesk-bench-search-{}-files", std::process::id()));
    let files = crate::server::open_files(&files_dir, casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store.clone(), Arc::new(SystemClock), files);
    let result = bench(&app, &store, &args).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&files_dir);
    if args.bench_database.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    }
    result
}

/// An organization seeded with realistic cases by [`seed`].
pub(crate) struct Seeded {
    pub org_id: String,
    pub admin: Actor,
    pub agents: Vec<String>,
    pub vocabulary: Vec<String>,
    /// The seed's "now": cases were created over the two years before it.
    pub now: Timestamp,
}

/// Makes an organization (UTC) with an admin (`admin@bench.example`, with `admin_password` if
/// given), 50 agents and 10 queues, and seeds `cases` realistic cases into it straight through
/// the store, then lets the database settle (statistics, vacuum).
pub(crate) async fn seed(
    app: &App,
    store: &casedesk_store::Store,
    cases: u64,
    admin_password: Option<String>,
) -> anyhow::Result<Seeded> {
    let org = app.create_org("Search bench", "UTC").await.map_err(app_err)?;
    let (admin, _) = app
        .admin_create_user(&org.id, "admin@bench.example", Some("Admin"), "admin", admin_password)
        .await
        .map_err(app_err)?;
    let admin_actor = Actor { org_id: org.id.clone(), user_id: admin.id.clone(), role: Role::Admin };
    let mut agents = Vec::new();
    for i in 0..AGENTS {
        let email = format!("agent{i}@bench.example");
        let (u, _) = app.admin_create_user(&org.id, &email, None, "agent", None).await.map_err(app_err)?;
        agents.push(u.id);
    }
    let mut queues = Vec::new();
    for name in QUEUES {
        let input = QueueInput { name: Some(name.to_string()), ..Default::default() };
        queues.push(app.create_queue(&admin_actor, input, None).await.map_err(app_err)?.value.id);
    }
    let vocabulary = vocabulary();
    for w in &vocabulary {
        anyhow::ensure!(casedesk_domain::search::fold(w) == *w, "vocabulary word {w:?} is not folded");
    }

    // Seed: created over the last two years, oldest first.
    let now = Timestamp::now();
    let n = cases as i64;
    let start = now - SignedDuration::from_hours(2 * 365 * 24);
    let step_us = ((now.as_microsecond() - start.as_microsecond()) / n).max(1);
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let chunk = SEED_CHUNK.min(n - done);
        let seed = SearchSeed {
            org_id: &org.id,
            first_number: done + 1,
            n: chunk,
            start_us: start.as_microsecond(),
            step_us,
            now_us: now.as_microsecond(),
            vocabulary: &vocabulary,
            agents: &agents,
            queues: &queues,
        };
        store.bench_seed_search(&seed).await?;
        done += chunk;
        eprint!("\rseeded {done} / {n} cases");
    }
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    let t = Instant::now();
    store.bench_settle().await?;
    eprintln!("analyzed (and vacuumed) in {:.1} s", t.elapsed().as_secs_f64());
    Ok(Seeded { org_id: org.id, admin: admin_actor, agents, vocabulary, now })
}

async fn bench(app: &App, store: &casedesk_store::Store, args: &BenchSearchArgs) -> anyhow::Result<()> {
    let Seeded { org_id, agents, vocabulary, now, .. } = seed(app, store, args.cases, None).await?;
    let n = args.cases as i64;
    if args.reindex {
        let t = Instant::now();
        store.reindex_search(500).await?;
        println!("\nrebuilt the search index of {n} cases in {:.1} s", t.elapsed().as_secs_f64());
    }

    // The agent whose searches and views are measured.
    let me = Actor { org_id: org_id.clone(), user_id: agents[0].clone(), role: Role::Agent };
    for (name, query) in [
        ("VIP open", "tag:vip status:open,pending"),
        ("Tier 1 active", "queue:\"Tier 1\" status:new,open,pending,on_hold"),
        ("Urgent active", "priority>=high status:new,open,pending,on_hold"),
        ("Billing unassigned", "queue:Billing assignee:none status:new,open,pending,on_hold"),
    ] {
        let input = ViewInput { name: Some(name.into()), query: Some(query.into()), ..Default::default() };
        app.create_view(&me, input).await.map_err(app_err)?;
    }

    // A phrase that occurs: the first two words of a case's subject.
    let sample = search(app, &me, "status:open", Ordering::default()).await?;
    let phrase = sample.0.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let year_ago = (now - SignedDuration::from_hours(365 * 24)).strftime("%Y-%m-%d").to_string();
    let w = |i: usize| vocabulary[i].clone();
    let kinds: Vec<(&str, Vec<String>)> = vec![
        ("word, common", (0..5).map(|i| w(10 + i)).collect()),
        ("word, medium", (0..5).map(|i| w(150 + i)).collect()),
        ("word, rare", (0..5).map(|i| w(1_900 + i)).collect()),
        ("order number", (0..5).map(|i| format!("ord{}", 1 + (i as i64 * 7_919) % n)).collect()),
        ("two words", (0..5).map(|i| format!("{} {}", w(10 + i), w(60 + i))).collect()),
        ("phrase", vec![format!("\"{phrase}\"")]),
        ("status:open,pending", vec!["status:open,pending".into()]),
        ("assignee:me", vec!["assignee:me".into()]),
        ("assignee:none", vec!["assignee:none".into()]),
        ("queue:\"Tier 1\"", vec!["queue:\"Tier 1\"".into(), "queue:Billing".into()]),
        ("tag:vip", vec!["tag:vip".into()]),
        ("priority>=high", vec!["priority>=high".into()]),
        ("created>date", vec![format!("created>{year_ago}")]),
        ("updated<7d", vec!["updated<7d".into()]),
        ("sla:breached", vec!["sla:breached".into()]),
        ("assignee:me active", vec!["assignee:me status:new,open,pending,on_hold".into()]),
        ("word + status", (0..5).map(|i| format!("{} status:open,pending", w(10 + i))).collect()),
        ("word + assignee:me", (0..5).map(|i| format!("{} assignee:me", w(30 + i))).collect()),
        ("rare word + tag", (0..5).map(|i| format!("{} tag:vip", w(1_500 + i))).collect()),
        ("queue + none + priority", vec!["queue:\"Tier 1\" assignee:none priority>=high".into()]),
        ("word + updated<7d", (0..5).map(|i| format!("{} updated<7d", w(20 + i))).collect()),
        ("tag + status + sla", vec!["tag:vip status:open,pending sla:breached".into()]),
    ];
    // The same words again, best match first: every match is scored, so these grow with the
    // number of matches.
    let relevance: Vec<(&str, Vec<String>)> = vec![
        ("word, common", (0..5).map(|i| w(10 + i)).collect()),
        ("word, medium", (0..5).map(|i| w(150 + i)).collect()),
        ("word, rare", (0..5).map(|i| w(1_900 + i)).collect()),
        ("two words", (0..5).map(|i| format!("{} {}", w(10 + i), w(60 + i))).collect()),
        ("rare word + tag", (0..5).map(|i| format!("{} tag:vip", w(1_500 + i))).collect()),
    ];
    let kinds: Vec<(String, Vec<String>, Ordering)> = kinds
        .into_iter()
        .map(|(k, q)| (k.to_string(), q, Ordering::default()))
        .chain(relevance.into_iter().map(|(k, q)| (format!("{k}, by relevance"), q, Ordering::Relevance)))
        .collect();
    println!("\n## Search and view counts, {n} cases ({:?})", store.kind());
    println!("command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    println!("\n| query | example | p50 ms | p99 ms | first page |");
    println!("|---|---|---:|---:|---:|");
    let (mut all, mut by_relevance) = (Vec::new(), Vec::new());
    for (kind, queries, ordering) in &kinds {
        let mut times = Vec::with_capacity(args.repeats);
        let mut rows = 0;
        for r in 0..args.repeats {
            let q = &queries[r % queries.len()];
            let t = Instant::now();
            let (_, n) = search(app, &me, q, *ordering).await?;
            times.push(t.elapsed());
            rows = rows.max(n);
        }
        times.sort();
        if *ordering == Ordering::Relevance {
            by_relevance.extend(times.iter().copied());
        } else {
            all.extend(times.iter().copied());
        }
        println!("| {kind} | `{}` | {:.2} | {:.2} | {rows} |", queries[0], ms(&times, 0.5), ms(&times, 0.99));
    }
    all.sort();
    println!("| **all kinds, newest first** | | {:.2} | {:.2} | |", ms(&all, 0.5), ms(&all, 0.99));
    by_relevance.sort();
    println!("| **all kinds, by relevance** | | {:.2} | {:.2} | |", ms(&by_relevance, 0.5), ms(&by_relevance, 0.99));

    // All of the agent's view counts, as the view list shows them.
    let views = app.list_views(&me).await.map_err(app_err)?;
    let mut totals = Vec::new();
    let mut each: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    let mut counts = Vec::new();
    for _ in 0..args.count_repeats {
        let t = Instant::now();
        counts = app.count_views(&me, &views).await.map_err(app_err)?;
        totals.push(t.elapsed());
        for (i, v) in views.iter().enumerate() {
            let t = Instant::now();
            app.count_views(&me, std::slice::from_ref(v)).await.map_err(app_err)?;
            each.entry(i).or_default().push(t.elapsed());
        }
    }
    totals.sort();
    println!("\n| view | query | count | median ms |");
    println!("|---|---|---:|---:|");
    for (i, v) in views.iter().enumerate() {
        let times = each.get_mut(&i).map(|t| {
            t.sort();
            ms(t, 0.5)
        });
        let name = match v {
            AnyView::Predefined(p) => p.name.to_string(),
            AnyView::Saved(s) => s.name.clone(),
        };
        let count = counts.get(i).copied().flatten().map_or("-".into(), |c| c.to_string());
        println!("| {name} | `{}` | {count} | {:.2} |", v.query(), times.unwrap_or(0.0));
    }
    println!(
        "\nall {} view counts of one agent: median {:.2} ms, max {:.2} ms ({} runs)",
        views.len(),
        ms(&totals, 0.5),
        totals.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        totals.len()
    );
    Ok(())
}

/// The first page of a search: the first case's subject, and the page size.
async fn search(app: &App, actor: &Actor, q: &str, ordering: Ordering) -> anyhow::Result<(String, usize)> {
    let req = ListRequest { filter: CaseFilter::default(), ordering, limit: 50, cursor: None };
    let (page, _) = app.search_cases(actor, &req, Some(q)).await.map_err(app_err)?;
    let first = page.items.first().map(|c| c.case.subject.clone()).unwrap_or_default();
    Ok((first, page.items.len()))
}
