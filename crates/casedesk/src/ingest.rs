//! `casedesk ingest-email`: one RFC 5322 message on standard input, as an MTA's pipe delivers it
//! (Postfix `pipe`, Exim `pipe` transport, procmail …).
//!
//! Exit codes are the ones MTAs understand (sysexits): 0 when the message is taken — made a case
//! or a comment, held for an admin (machine-written or unreadable mail), or recognised as a
//! redelivery; 75 (`EX_TEMPFAIL`) when it could not be taken (database unreachable, a wrong
//! `--org` or `--queue`), so the MTA keeps it in its queue and tries again instead of losing it.

use std::io::Read;

use casedesk_core::App;

/// What `main` turns into exit code 75.
#[derive(Debug)]
pub struct TempFail(pub String);

impl std::fmt::Display for TempFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TempFail {}

/// The exit code MTAs read as "try again later".
pub const EX_TEMPFAIL: u8 = 75;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// The organization the message is for (org_…).
    #[arg(long)]
    pub org: String,
    /// Where a new case goes when none of the recipients is one of the organization's mailboxes.
    #[arg(long)]
    pub queue: Option<String>,
    /// Largest message made into a case, in bytes; larger ones are quarantined.
    #[arg(long, env = "CASEDESK_MAX_INBOUND_EMAIL_BYTES", default_value_t = casedesk_core::email::DEFAULT_MAX_INBOUND_BYTES)]
    pub max_bytes: u64,
}

pub async fn ingest(app: &App, args: &IngestArgs) -> anyhow::Result<()> {
    let mut raw = Vec::new();
    std::io::stdin().read_to_end(&mut raw).map_err(|e| TempFail(format!("reading the message: {e}")))?;
    let app = app.clone().with_max_inbound_bytes(args.max_bytes);
    match app.receive_email(&args.org, &raw, args.queue.as_deref()).await {
        Ok(inbound) => {
            let m = &inbound.email;
            let what = match (&inbound.case, inbound.duplicate) {
                (_, true) => "already received".to_string(),
                (Some(c), false) if m.comment_id.is_some() => format!("added to case #{}", c.case_number),
                (Some(c), false) => format!("opened case #{}", c.case_number),
                (None, false) => format!("held ({}): {}", m.state.as_str(), m.reason.as_deref().unwrap_or("")),
            };
            eprintln!("casedesk: message {} {what}", m.id);
            Ok(())
        }
        Err(casedesk_core::AppError::NotFound) => {
            Err(TempFail(format!("no organization {} (the message stays with the MTA)", args.org)).into())
        }
        Err(e) => Err(TempFail(format!("the message could not be taken in: {}", crate::cli::app_error(e))).into()),
    }
}
