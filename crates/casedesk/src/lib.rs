//! casedesk: the server binary's library — configuration, start-up, serving and shutdown — so
//! the integration tests run exactly what `casedesk serve` runs.
//!
//! - [`server`]: open the database, migrate, bootstrap, serve until told to stop.
//! - [`cli`]: the command line.
//! - [`bench`]: `casedesk bench`, the load benchmark.
//! - [`bench_sla`]: `casedesk bench-sla`, the SLA sweep benchmark.
//! - [`telemetry`]: logging setup.

#![forbid(unsafe_code)]

pub mod bench;
pub mod bench_search;
pub mod bench_sla;
pub mod cli;
pub mod server;
pub mod telemetry;
