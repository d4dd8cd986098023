//! [`Store`] methods for benchmarks only.

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{ReportSeed, Result, SearchSeed, Store};

impl Store {
    /// Benchmarks only: inserts `seed.n` realistic cases (text from the vocabulary, agents,
    /// queues, statuses, tags and SLA times spread as in a busy helpdesk) in one transaction.
    pub async fn bench_seed_search(&self, seed: &SearchSeed<'_>) -> Result<()> {
        dispatch!(self, write, bench_seed_search(seed))
    }

    /// Benchmarks only: inserts `seed.n` cases worked over a year, with time entries and
    /// answered surveys; the triggers keep the per-day report totals.
    pub async fn bench_seed_reports(&self, seed: &ReportSeed<'_>) -> Result<()> {
        dispatch!(self, write, bench_seed_reports(seed))
    }

    /// Benchmarks only: what the database does some time after a bulk load on its own — on
    /// PostgreSQL, autovacuum's pass over the seeded tables, which sets the visibility map that
    /// index-only scans (counts) rely on; on SQLite, nothing beyond [`Store::analyze`].
    pub async fn bench_settle(&self) -> Result<()> {
        self.analyze().await?;
        match &self.backend {
            Backend::Sqlite { .. } => Ok(()),
            Backend::Postgres { pool } => {
                // One statement each: VACUUM cannot run inside a transaction block.
                for table in ["cases", "case_tags", "case_counts", "case_events"] {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}"))).execute(pool).await?;
                }
                Ok(())
            }
        }
    }
}
