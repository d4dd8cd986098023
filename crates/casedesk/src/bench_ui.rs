//! `casedesk bench-ui`: the agent UI's pages at scale. Seeds N realistic cases (as `bench-search`
//! does) and one case with a long timeline (replies, internal notes and field changes), starts
//! the server as a separate process on that database, signs in as the admin over HTTP like a
//! browser, and times whole pages: the case page, and the first page (50 cases) of case lists.
//! Each time is from the request to the last byte over loopback, so it bounds the server's own
//! render time from above.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use casedesk_core::cases::CommentInput;
use casedesk_core::{App, AppError, SystemClock};
use casedesk_domain::case::{CasePatch, NewCase, Priority, Status};
use casedesk_domain::timeline::AuthorType;

use crate::bench::{Scratch, Server, mb};

#[derive(Debug, clap::Args)]
pub struct BenchUiArgs {
    /// Cases to seed.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cases: u64,
    /// Timeline entries of the case whose page is timed (replies, notes and changes).
    #[arg(long, default_value_t = 200)]
    pub entries: u32,
    /// Requests of each page; the figures are percentiles over them.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Database. Default: a new SQLite file in the temporary directory, deleted afterwards. A
    /// postgres:// URL must name an empty database or schema.
    #[arg(long, value_name = "URL")]
    pub bench_database: Option<String>,
    /// The casedesk binary to start as the server. Default: this one.
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,
}

const PASSWORD: &str = "bench-ui-password-1";

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

pub async fn run(args: BenchUiArgs) -> anyhow::Result<()> {
    let scratch = Scratch::new("ui", args.bench_database.as_deref(), args.server_bin.as_deref())?;
    let result = bench(&args, &scratch.url, &scratch.server_bin, &scratch.stem).await;
    scratch.remove();
    result
}

async fn bench(
    args: &BenchUiArgs,
    url: &str,
    server_bin: &std::path::Path,
    stem: &std::path::Path,
) -> anyhow::Result<()> {
    // Seed in-process, then close: the server under test starts on the seeded database.
    let store = crate::server::open_store(url, 8).await?;
    let files =
        crate::server::open_files(&stem.with_extension("files"), casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store.clone(), Arc::new(SystemClock), files);
    let seeded = crate::bench_search::seed(&app, &store, args.cases, Some(PASSWORD.to_string())).await?;
    let case_id = long_case(&app, &seeded.admin, args.entries).await?;
    store.close().await;

    println!(
        "\n## UI pages, {} cases ({})",
        args.cases,
        if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
    );
    println!("command: {}", std::env::args().collect::<Vec<_>>().join(" "));
    let log = stem.with_extension("log");
    let mut server = Server::spawn(server_bin, url, "cdkbench_unused_bootstrap_token", &log)?;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    server.wait_ready(&client).await?;
    let cookie = sign_in(&client, &server.base).await?;

    let pages = [
        (format!("case page, {} timeline entries", args.entries), format!("/cases/{case_id}"), "Timeline entry 1 of"),
        ("list: All open (view)".to_string(), "/cases?view=all-open".to_string(), "<table"),
        ("list: All (view)".to_string(), "/cases?view=all".to_string(), "<table"),
        (
            "list: status:open priority>=high".to_string(),
            "/cases?q=status%3Aopen+priority%3E%3Dhigh".to_string(),
            "<table",
        ),
        ("list: a word".to_string(), "/cases?q=printer".to_string(), "<table"),
    ];
    println!("\n| page | path | p50 ms | p90 ms | p99 ms | KB |\n|---|---|---:|---:|---:|---:|");
    for (name, path, marker) in &pages {
        // One request first, not timed: the first read of a page warms the caches.
        let (_, body) = get(&client, &server.base, path, &cookie).await?;
        if !body.contains(marker) {
            bail!("{path} does not show {marker:?}");
        }
        let mut times = Vec::with_capacity(args.runs as usize);
        for _ in 0..args.runs {
            let (t, _) = get(&client, &server.base, path, &cookie).await?;
            times.push(t);
        }
        times.sort();
        let p =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1].as_secs_f64() * 1e3;
        println!(
            "| {name} | `{path}` | {:.2} | {:.2} | {:.2} | {:.0} |",
            p(0.5),
            p(0.9),
            p(0.99),
            body.len() as f64 / 1e3
        );
    }
    if let Some(m) = server.memory() {
        println!("\nserver peak RSS (VmHWM): {:.1} MB", mb(m.peak_kb));
    }
    server.stop();
    Ok(())
}

/// A case with `entries` timeline entries: replies and internal notes (numbered, so the page can
/// be checked), and every fifth entry a priority or status change.
async fn long_case(app: &App, admin: &casedesk_core::Actor, entries: u32) -> anyhow::Result<String> {
    let input = NewCase {
        subject: "Printer on floor 3 prints blank pages after the driver update".into(),
        description: "Since Tuesday every job comes out blank. Order ord4521.".into(),
        ..Default::default()
    };
    let case = app.create_case(admin, input, None).await.map_err(app_err)?.value;
    let priorities = [Priority::High, Priority::Medium];
    let statuses = [Status::Pending, Status::Open];
    for i in 1..=entries {
        if i % 5 == 0 {
            let patch = if i % 10 == 0 {
                CasePatch { priority: Some(priorities[(i / 10) as usize % 2]), ..Default::default() }
            } else {
                CasePatch { status: Some(statuses[(i / 5) as usize % 2]), ..Default::default() }
            };
            app.update_case(admin, &case.id, patch, None).await.map_err(app_err)?;
        } else {
            let body = format!(
                "Timeline entry {i} of the case: we checked the spooler, reinstalled the driver and asked the \
                 customer to print a test page again; the result and the next step are written here."
            );
            let input = CommentInput {
                body: &body,
                internal: i % 3 == 0,
                author_type: AuthorType::Agent,
                file_ids: &[],
                reply_channel: None,
            };
            app.add_comment(admin, &case.id, input, None).await.map_err(app_err)?;
        }
    }
    Ok(case.id)
}

/// Signs in through the sign-in form as a browser does; returns the `Cookie` header to send.
async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let mut cookies: HashMap<String, String> = HashMap::new();
    let keep = |resp: &reqwest::Response, cookies: &mut HashMap<String, String>| {
        for c in resp.headers().get_all("set-cookie") {
            if let Ok(c) = c.to_str()
                && let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('='))
            {
                cookies.insert(k.to_string(), v.to_string());
            }
        }
    };
    let form = client.get(format!("{base}/login")).send().await?;
    keep(&form, &mut cookies);
    let html = form.text().await?;
    let marker = "name=\"_csrf\" value=\"";
    let at = html.find(marker).context("the sign-in form has no _csrf field")? + marker.len();
    let csrf = html[at..].split('"').next().unwrap_or_default().to_string();
    let cookie_header = |cookies: &HashMap<String, String>| {
        cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    };
    let resp = client
        .post(format!("{base}/login"))
        .header("cookie", cookie_header(&cookies))
        .form(&[("_csrf", csrf.as_str()), ("email", "admin@bench.example"), ("password", PASSWORD), ("next", "/cases")])
        .send()
        .await?;
    if resp.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("signing in answered {}", resp.status());
    }
    keep(&resp, &mut cookies);
    Ok(cookie_header(&cookies))
}

/// One page: the time to its last byte, and its body.
async fn get(client: &reqwest::Client, base: &str, path: &str, cookie: &str) -> anyhow::Result<(Duration, String)> {
    let started = Instant::now();
    let resp = client.get(format!("{base}{path}")).header("cookie", cookie).send().await?;
    let status = resp.status();
    let body = resp.text().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!("{path} answered {status}");
    }
    Ok((took, body))
}
