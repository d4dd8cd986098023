//! `casedesk bench`: the load benchmark (being written).

/// Options of `casedesk bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Cases to seed before measuring.
    #[arg(long, default_value_t = 100_000)]
    pub cases: u64,
}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the benchmark is not available yet")
}
