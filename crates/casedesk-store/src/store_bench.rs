//! [`Store`] methods for benchmarks only.

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, SearchSeed, Store};

impl Store {
    /// Benchmarks only: inserts `seed.n` realistic cases (text from the vocabulary, agents,
    /// queues, statuses, tags and SLA times spread as in a busy helpdesk) in one transaction.
    pub async fn bench_seed_search(&self, seed: &SearchSeed<'_>) -> Result<()> {
        dispatch!(self, write, bench_seed_search(seed))
    }
}
