//! casedesk: the server binary's library — configuration, start-up, serving and shutdown — so
//! the integration tests run exactly what `casedesk serve` runs.
//!
//! - [`server`]: open the database, migrate, bootstrap, serve until told to stop.
//! - [`cli`]: the command line.
//! - [`export`]: `casedesk export`, cases to an .xlsx or CSV file.
//! - [`bench`]: `casedesk bench`, the load benchmark.
//! - [`bench_reports`]: `casedesk bench-reports`, every report over a year of cases.
//! - [`bench_sla`]: `casedesk bench-sla`, the SLA sweep benchmark.
//! - [`ai_eval`]: `casedesk ai-eval`, the assistant measured on the evaluation set.
//! - [`bench_export`]: `casedesk bench-export`, exports of a million cases over HTTP.
//! - [`telemetry`]: logging setup.
//! - [`webhook_sender`]: the HTTP client webhook deliveries are sent with.
//! - [`mail_sender`]: the SMTP client outgoing mail is sent with.
//! - [`imap_client`]: the IMAP client polled mailboxes are read with.
//! - [`ai_client`]: the HTTP client organizations' chat-completions providers are asked with.
//! - [`ingest`]: `casedesk ingest-email`, one message from an MTA's pipe.

#![forbid(unsafe_code)]

pub mod ai_client;
pub mod ai_eval;
pub mod bench;
pub mod bench_export;
pub mod bench_reports;
pub mod bench_search;
pub mod bench_sla;
pub mod bench_ui;
pub mod cli;
pub mod export;
pub mod imap_client;
pub mod ingest;
pub mod mail_sender;
pub mod server;
pub mod telemetry;
pub mod webhook_sender;
