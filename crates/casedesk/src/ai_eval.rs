//! `casedesk ai-eval`: measures the built-in assistant on the evaluation set (eval/ai): how often
//! categorizing finds the right category and priority on cases it did not learn from, how many of
//! each thread's key facts a summary keeps, and how long each action takes on a case with 100
//! comments.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use casedesk_core::ai::AiRequest;
use casedesk_core::cases::CommentInput;
use casedesk_core::{Actor, App, AppError, SystemClock};
use casedesk_domain::ai::classify::{self, CategoryRef, Models};
use casedesk_domain::ai::summarize::summarize;
use casedesk_domain::ai::{AiAction, CaseThread, Message};
use casedesk_domain::case::{NewCase, Priority, Status};
use casedesk_domain::policy::Role;
use casedesk_domain::profile::CategoryInput;
use casedesk_domain::timeline::AuthorType;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

#[derive(Debug, clap::Args)]
pub struct AiEvalArgs {
    /// The evaluation set: one case per line.
    #[arg(long, default_value = "eval/ai/cases.jsonl")]
    pub data: PathBuf,
    /// Share of each category held out for testing, in percent.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(10..=90))]
    pub test_percent: u32,
    /// Timed runs of each action on the 100-comment case.
    #[arg(long, default_value_t = 20)]
    pub runs: u32,
}

#[derive(Debug, Deserialize)]
struct EvalComment {
    author: String,
    internal: bool,
    body: String,
}

#[derive(Debug, Deserialize)]
struct EvalCase {
    id: String,
    category: String,
    priority: String,
    subject: String,
    description: String,
    comments: Vec<EvalComment>,
    key_facts: Vec<String>,
}

impl EvalCase {
    fn thread(&self) -> anyhow::Result<CaseThread> {
        let start: Timestamp = "2026-11-02T09:00:00Z".parse()?;
        Ok(CaseThread {
            case_number: 1,
            subject: self.subject.clone(),
            description: self.description.clone(),
            requester_name: None,
            status: Status::Open,
            priority: Priority::Medium,
            messages: self
                .comments
                .iter()
                .enumerate()
                .map(|(i, c)| Message {
                    from_customer: c.author == "customer",
                    internal: c.internal,
                    author: Some(c.author.clone()),
                    body: c.body.clone(),
                    at: start + SignedDuration::from_hours(i as i64),
                })
                .collect(),
            sla_due_at: None,
            sla_breached: false,
            now: start + SignedDuration::from_hours(self.comments.len() as i64),
        })
    }

    fn priority(&self) -> anyhow::Result<Priority> {
        Priority::parse(&self.priority).map_err(anyhow::Error::msg)
    }
}

/// The name a category of the set would have in an organization ("shipping_damage" → "Shipping
/// damage"), for the keyword rules to match against.
fn display_name(category: &str) -> String {
    let mut s = category.replace('_', " ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

/// Stratified split: within each category, in id order, `percent` of the cases are held out.
fn split(cases: &[EvalCase], percent: u32) -> (Vec<&EvalCase>, Vec<&EvalCase>) {
    split_with(cases, |i| (i as u32 * percent) / 100 != ((i as u32 + 1) * percent) / 100)
}

/// Fold `k` of ten: within each category, every tenth case from the `k`-th on is held out.
fn fold(cases: &[EvalCase], k: usize) -> (Vec<&EvalCase>, Vec<&EvalCase>) {
    split_with(cases, |i| i % 10 == k)
}

fn split_with(cases: &[EvalCase], held_out: impl Fn(usize) -> bool) -> (Vec<&EvalCase>, Vec<&EvalCase>) {
    let mut by_category: BTreeMap<&str, Vec<&EvalCase>> = BTreeMap::new();
    for c in cases {
        by_category.entry(&c.category).or_default().push(c);
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (_, mut group) in by_category {
        group.sort_by(|a, b| a.id.cmp(&b.id));
        for (i, c) in group.into_iter().enumerate() {
            if held_out(i) { test.push(c) } else { train.push(c) }
        }
    }
    (train, test)
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1} % ({n}/{of})", 100.0 * n as f64 / of.max(1) as f64)
}

pub async fn run(args: AiEvalArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let cases: Vec<EvalCase> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {}", i + 1)))
        .collect::<anyhow::Result<_>>()?;
    let (train, test) = split(&cases, args.test_percent);
    let mut labels: Vec<&str> = cases.iter().map(|c| c.category.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let categories: Vec<CategoryRef> =
        labels.iter().map(|l| CategoryRef { id: l.to_string(), name: display_name(l) }).collect();
    println!(
        "{}: {} cases in {} categories; learning from {}, testing on {}",
        args.data.display(),
        cases.len(),
        labels.len(),
        train.len(),
        test.len()
    );

    // Categorize: what the organization's own cases teach, and the rules a new one starts with.
    let models = learn(&train)?;
    let none = Models::default();
    let (mut learned, mut rules, mut priority_ok, mut priority_rules_ok) = (0, 0, 0, 0);
    let mut per_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    for c in &test {
        let body = c.thread()?.customer_text();
        let got = classify::categorize(&c.subject, &body, &models, &categories);
        let guess = got.category.as_ref().map(|g| g.value.id.clone()).unwrap_or_default();
        let entry = per_category.entry(&c.category).or_default();
        entry.1 += 1;
        if guess == c.category {
            learned += 1;
            entry.0 += 1;
        } else {
            *confusions.entry((c.category.clone(), guess)).or_default() += 1;
        }
        let by_rules = classify::categorize(&c.subject, &body, &none, &categories);
        if by_rules.category.as_ref().is_some_and(|g| g.value.id == c.category) {
            rules += 1;
        }
        if got.priority.value == c.priority {
            priority_ok += 1;
        }
        if by_rules.priority.value == c.priority {
            priority_rules_ok += 1;
        }
    }
    println!();
    println!("categorize, learned from the organization's cases: {}", pct(learned, test.len()));
    println!("categorize, keyword rules of a new organization:  {}", pct(rules, test.len()));
    println!("priority, learned and urgency rules:               {}", pct(priority_ok, test.len()));
    println!("priority, urgency rules alone:                     {}", pct(priority_rules_ok, test.len()));
    println!();
    println!("{:<18} {:>8}", "category", "correct");
    for (cat, (ok, n)) in &per_category {
        println!("{cat:<18} {:>8}", format!("{ok}/{n}"));
    }
    let mut worst: Vec<_> = confusions.into_iter().collect();
    worst.sort_by_key(|w| std::cmp::Reverse(w.1));
    if !worst.is_empty() {
        let list: Vec<String> = worst.iter().take(5).map(|((want, got), n)| format!("{want} → {got} ({n})")).collect();
        println!("most frequent mistakes: {}", list.join(", "));
    }

    // Ten-fold cross-validation: every case tested once, by a model that did not learn from it.
    let mut folds = Vec::new();
    for k in 0..10 {
        let (train, test) = fold(&cases, k);
        let models = learn(&train)?;
        let mut ok = 0;
        for c in &test {
            let got = classify::categorize(&c.subject, &c.thread()?.customer_text(), &models, &categories);
            if got.category.is_some_and(|g| g.value.id == c.category) {
                ok += 1;
            }
        }
        folds.push(ok as f64 / test.len().max(1) as f64);
    }
    let mean = folds.iter().sum::<f64>() / folds.len() as f64;
    let (lo, hi) = folds.iter().fold((f64::MAX, f64::MIN), |(l, h), f| (l.min(*f), h.max(*f)));
    println!(
        "categorize, ten-fold cross-validation (every case held out once): {:.1} % (folds from {:.1} % to {:.1} %)   (target ≥ 85 %)",
        100.0 * mean,
        100.0 * lo,
        100.0 * hi
    );

    // Summaries: the share of each thread's key facts the summary keeps.
    let mut coverage = 0.0;
    let mut words = 0usize;
    for c in &cases {
        let s = summarize(&c.thread()?);
        let lower = s.text.to_lowercase();
        let kept = c.key_facts.iter().filter(|f| lower.contains(&f.to_lowercase())).count();
        coverage += kept as f64 / c.key_facts.len().max(1) as f64;
        words += s.text.split_whitespace().count();
    }
    println!();
    println!(
        "summary key-fact coverage: {:.1} % on average over {} cases ({} words per summary on average)",
        100.0 * coverage / cases.len() as f64,
        cases.len(),
        words / cases.len().max(1)
    );

    // Learning is done at most every few minutes per organization, from its newest 2,000 cases.
    let many: Vec<&EvalCase> = cases.iter().cycle().take(2000).collect();
    let t = Instant::now();
    learn(&many)?;
    println!("learning from 2,000 cases: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);

    time_actions(&cases, &train, args.runs).await
}

/// What the training cases teach, learned from what their customers wrote.
fn learn(train: &[&EvalCase]) -> anyhow::Result<Models> {
    let mut examples = Vec::with_capacity(train.len());
    for c in train {
        examples.push((c, c.thread()?.customer_text(), c.priority()?));
    }
    Ok(Models::train(
        examples.iter().map(|(c, body, p)| (c.subject.as_str(), body.as_str(), Some(c.category.as_str()), *p)),
    ))
}

/// Times each action through the use case, on a SQLite database holding the training cases and
/// a case with 100 comments.
async fn time_actions(cases: &[EvalCase], train: &[&EvalCase], runs: u32) -> anyhow::Result<()> {
    let app_err = |e: AppError| anyhow::anyhow!("{e:?}");
    let dir = tempfile_dir()?;
    let url = dir.join("ai-eval.db").to_string_lossy().into_owned();
    let store = crate::server::open_store(&url, 4).await?;
    let files = crate::server::open_files(&dir.join("files"), casedesk_domain::file::DEFAULT_MAX_FILE_BYTES)?;
    let app = App::new(store, Arc::new(SystemClock), files);
    let org = app.create_org("AI eval", "UTC").await.map_err(app_err)?;
    let (admin, _) = app
        .admin_create_user(&org.id, "admin@eval.example", Some("Sam Agent"), "admin", None)
        .await
        .map_err(app_err)?;
    let actor = Actor { org_id: org.id.clone(), user_id: admin.id.clone(), role: Role::Admin };
    let mut category_ids = BTreeMap::new();
    for c in train {
        if !category_ids.contains_key(&c.category) {
            let input = CategoryInput { name: Some(display_name(&c.category)), ..Default::default() };
            let cat = app.create_category(&actor, input, None).await.map_err(app_err)?.value;
            category_ids.insert(c.category.clone(), cat.id);
        }
        let input = NewCase {
            subject: c.subject.clone(),
            description: c.description.clone(),
            priority: Some(c.priority()?),
            category_id: category_ids.get(&c.category).cloned(),
            ..Default::default()
        };
        app.create_case(&actor, input, None).await.map_err(app_err)?;
    }
    let long = cases.iter().max_by_key(|c| c.comments.len()).context("an evaluation case")?;
    let input = NewCase { subject: long.subject.clone(), description: long.description.clone(), ..Default::default() };
    let case = app.create_case(&actor, input, None).await.map_err(app_err)?.value;
    let bodies: Vec<&EvalComment> = cases.iter().flat_map(|c| &c.comments).collect();
    for (i, c) in bodies.iter().cycle().take(100).enumerate() {
        let author_type = if c.author == "customer" { AuthorType::Customer } else { AuthorType::Agent };
        let input = CommentInput {
            body: &c.body,
            internal: c.internal && i % 2 == 0,
            author_type,
            file_ids: &[],
            reply_channel: None,
        };
        app.add_comment(&actor, &case.id, input, None).await.map_err(app_err)?;
    }
    println!();
    println!("time per action on a case with 100 comments ({runs} runs after one warm-up; target ≤ 50 ms):");
    for action in [AiAction::Summarize, AiAction::Categorize, AiAction::SuggestReply, AiAction::Evaluate] {
        let req = || AiRequest { action, erp_context: None };
        let cold = Instant::now();
        app.ai_assist(&actor, &case.id, req()).await.map_err(app_err)?;
        let cold = cold.elapsed();
        let mut times: Vec<Duration> = Vec::with_capacity(runs as usize);
        for _ in 0..runs {
            let t = Instant::now();
            app.ai_assist(&actor, &case.id, req()).await.map_err(app_err)?;
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  {:<14} median {:>6.2} ms, max {:>6.2} ms (first, learning included: {:.2} ms)",
            action.as_str(),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
            ms(cold)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("casedesk-ai-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
