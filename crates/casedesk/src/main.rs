//! The `casedesk` command. See `casedesk --help`.

#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = casedesk::cli::Cli::parse();
    match casedesk::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("casedesk: {e:#}");
            if e.downcast_ref::<casedesk::ingest::TempFail>().is_some() {
                std::process::ExitCode::from(casedesk::ingest::EX_TEMPFAIL)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
