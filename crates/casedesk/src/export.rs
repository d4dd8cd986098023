//! `casedesk export`: a query or a view to an `.xlsx` or CSV file, straight from the database
//! given by `--database-url`, with a progress bar.
//!
//! Like `casedesk admin`, it needs no running server and no token: whoever can open the database
//! is the operator. The export still runs as one user (`--user usr_…`), because a query such as
//! `assignee:me` and a personal view mean something only for a user, and the user's organization
//! and role scope what it can read, exactly as the API would for that user's token.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use casedesk_core::export::ExportRequest;
use casedesk_core::{Actor, App};
use casedesk_domain::list::Ordering;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Xlsx,
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The user the export runs as (usr_…): their organization, role, and `me` in queries.
    #[arg(long)]
    pub user: String,
    /// File format. Default: from the output's extension (.xlsx or .csv).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// A query in the search syntax (docs/search.md); with --view it narrows the view.
    #[arg(long)]
    pub query: Option<String>,
    /// A predefined (my-cases, all-open …) or saved (vw_…) view: its query, columns and order.
    #[arg(long)]
    pub view: Option<String>,
    /// Comma-separated columns (case_number,subject,status,… or cf.<key>); default: the view's.
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// created_at, -created_at, updated_at, -updated_at, priority, -priority or relevance; default: the view's.
    #[arg(long, allow_hyphen_values = true)]
    pub ordering: Option<String>,
    /// The file to write (replaced if it exists).
    #[arg(long, short)]
    pub output: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

fn format_of(args: &ExportArgs) -> anyhow::Result<Format> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    match args.output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("xlsx") => Ok(Format::Xlsx),
        Some("csv") => Ok(Format::Csv),
        _ => bail!("give --format xlsx or --format csv (the output's extension names neither)"),
    }
}

fn bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:40.cyan/blue}] {human_pos}/{human_len} cases {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix("exporting");
    bar
}

/// Writes the export to `args.output`; returns the number of cases written. A failed export
/// leaves no partial file behind.
pub async fn export(app: &App, args: &ExportArgs) -> anyhow::Result<u64> {
    let format = format_of(args)?;
    let user = app.store.find_user(&args.user).await.with_context(|| format!("finding user {}", args.user))?;
    if !user.is_active {
        bail!("user {} is deactivated", user.id);
    }
    let actor = Actor { org_id: user.org_id.clone(), user_id: user.id.clone(), role: user.role };
    let ordering = match &args.ordering {
        Some(o) => Some(Ordering::parse(o).map_err(|e| anyhow::anyhow!("--ordering: {e}"))?),
        None => None,
    };
    let req =
        ExportRequest { query: args.query.clone(), view: args.view.clone(), columns: args.columns.clone(), ordering };
    let plan = app.prepare_export(&actor, req).await.map_err(crate::cli::app_error)?;
    let total = u64::try_from(app.count_export(&plan).await.map_err(crate::cli::app_error)?).unwrap_or(0);
    let bar = bar(total, args.quiet);
    let progress = |n: u64| bar.set_position(n);
    let result = write(app, &plan, format, &args.output, &progress, &bar).await;
    bar.finish_and_clear();
    if result.is_err() {
        let _ = std::fs::remove_file(&args.output);
    }
    result
}

async fn write(
    app: &App,
    plan: &casedesk_core::export::Export,
    format: Format,
    output: &Path,
    progress: &(dyn Fn(u64) + Send + Sync),
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let file = std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    match format {
        Format::Xlsx => {
            let progress = |n: u64| {
                progress(n);
                if n == bar.length().unwrap_or(0) {
                    bar.set_prefix("zipping");
                }
            };
            app.write_xlsx(plan, file, &progress).await.map_err(crate::cli::app_error)
        }
        Format::Csv => {
            let mut out = BufWriter::new(file);
            let send = |b: Vec<u8>| {
                let r = std::io::Write::write_all(&mut out, &b);
                std::future::ready(r)
            };
            let rows = app.write_csv(plan, send, progress).await.map_err(crate::cli::app_error)?;
            std::io::Write::flush(&mut out).with_context(|| format!("writing {}", output.display()))?;
            Ok(rows)
        }
    }
}
