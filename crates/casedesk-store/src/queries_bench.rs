// Benchmarks only, compiled once per backend like `queries.rs`: seeding many realistic cases
// with one statement per chunk (see `bench_sql`).

/// Fills one of `bench_sql::TEMP_TABLES` with `(k, value)` rows.
async fn bench_fill(tx: &mut Tx<'_>, table: &str, column: &str, values: &[String]) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"))).execute(&mut **tx).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TEMPORARY TABLE {table} (k BIGINT PRIMARY KEY, {column} TEXT NOT NULL)"
    )))
        .execute(&mut **tx)
        .await?;
    for (chunk_no, chunk) in values.chunks(400).enumerate() {
        let mut q = Sql::default();
        q.push(&format!("INSERT INTO {table} (k, {column}) VALUES "));
        for (i, v) in chunk.iter().enumerate() {
            let k = q.arg(Arg::Int((chunk_no * 400 + i) as i64));
            let v = q.arg(Arg::Text(v.clone()));
            q.push(&format!("{}({k}, {v})", if i == 0 { "" } else { ", " }));
        }
        bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Benchmarks only: inserts `seed.n` cases in one transaction, with their tags and full-text
/// entries, and moves the organization's case-number counter past them.
pub async fn bench_seed_search(pool: &Pool, seed: &crate::SearchSeed<'_>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let [vocab, agents, queues] = crate::bench_sql::TEMP_TABLES;
    if let Some(off) = super::super::BENCH_TRIGGERS_OFF {
        sqlx::query(off).execute(&mut *tx).await?;
    }
    bench_fill(&mut tx, vocab, "w", seed.vocabulary).await?;
    bench_fill(&mut tx, agents, "id", seed.agents).await?;
    bench_fill(&mut tx, queues, "id", seed.queues).await?;
    sqlx::query(sqlx::AssertSqlSafe(crate::bench_sql::seed_cases(super::super::BACKEND)))
        .bind(seed.org_id)
        .bind(seed.first_number)
        .bind(seed.n)
        .bind(seed.start_us)
        .bind(seed.step_us)
        .bind(seed.now_us)
        .bind(seed.vocabulary.len() as i64)
        .bind(seed.agents.len() as i64)
        .bind(seed.queues.len() as i64)
        .execute(&mut *tx)
        .await?;
    let last = seed.first_number + seed.n;
    sqlx::query(super::super::BENCH_SEED_TAGS)
        .bind(seed.org_id)
        .bind(seed.first_number)
        .bind(last)
        .execute(&mut *tx)
        .await?;
    if !super::super::INSERT_BINDS_SEARCH {
        sqlx::query(
            "INSERT INTO cases_fts (rowid, subject, description, comments) SELECT seq, subject, description, '' \
             FROM cases WHERE org_id = $1 AND case_number >= $2 AND case_number < $3",
        )
        .bind(seed.org_id)
        .bind(seed.first_number)
        .bind(last)
        .execute(&mut *tx)
        .await?;
    }
    if super::super::BENCH_TRIGGERS_OFF.is_some() {
        let count = format!("{}{}", crate::bench_sql::SEEDED, crate::bench_sql::COUNT_SEEDED);
        sqlx::query(sqlx::AssertSqlSafe(count))
            .bind(seed.org_id)
            .bind(seed.first_number)
            .bind(last)
            .execute(&mut *tx)
            .await?;
    }
    for table in crate::bench_sql::TEMP_TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE organizations SET next_case_number = $1 WHERE id = $2")
        .bind(last)
        .bind(seed.org_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Benchmarks only: inserts `seed.n` cases worked over a year (see `bench_sql::seed_report_cases`),
/// with time entries and answered surveys, in one transaction; the triggers keep the per-day
/// report totals as for any write.
pub async fn bench_seed_reports(pool: &Pool, seed: &crate::ReportSeed<'_>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let tables = ["bench_agents", "bench_queues", "bench_categories"];
    bench_fill(&mut tx, tables[0], "id", seed.agents).await?;
    bench_fill(&mut tx, tables[1], "id", seed.queues).await?;
    bench_fill(&mut tx, tables[2], "id", seed.categories).await?;
    sqlx::query(sqlx::AssertSqlSafe(crate::bench_sql::seed_report_cases(super::super::BACKEND)))
        .bind(seed.org_id)
        .bind(seed.first_number)
        .bind(seed.n)
        .bind(seed.start_us)
        .bind(seed.step_us)
        .bind(seed.agents.len() as i64)
        .bind(seed.queues.len() as i64)
        .bind(seed.categories.len() as i64)
        .execute(&mut *tx)
        .await?;
    let last = seed.first_number + seed.n;
    for sql in [crate::bench_sql::seed_report_time, crate::bench_sql::seed_report_csat] {
        sqlx::query(sqlx::AssertSqlSafe(sql(super::super::BACKEND)))
            .bind(seed.org_id)
            .bind(seed.first_number)
            .bind(last)
            .execute(&mut *tx)
            .await?;
    }
    for table in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE organizations SET next_case_number = $1 WHERE id = $2")
        .bind(last)
        .bind(seed.org_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
