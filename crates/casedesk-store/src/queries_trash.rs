// The trash: deleted cases, restored or purged, compiled once per backend like `queries.rs`
// (this file is `include!`d into a child module of each backend's `q`).

/// The tables holding a case's own records, by the column naming it; a purge empties them.
/// Files go before comments (a file may name its comment).
const CASE_RECORDS: &[(&str, &str)] = &[
    ("case_files", "case_id"),
    ("comments", "case_id"),
    ("case_links", "from_case_id"),
    ("case_links", "to_case_id"),
    ("case_activities", "case_id"),
    ("case_milestones", "case_id"),
    ("time_entries", "case_id"),
    ("time_timers", "case_id"),
    ("case_time_estimates", "case_id"),
    ("case_events", "case_id"),
];

fn decode_trashed(row: &DbRow) -> Result<TrashedCase> {
    let (_, case) = decode_case(row)?;
    Ok(TrashedCase { case, deleted_at: ts(row.try_get("deleted_at")?)?, deleted_by: row.try_get("deleted_by")? })
}

/// The organization's trash, most recently deleted first.
pub async fn list_trash(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<TrashedCase>> {
    const LIST: &str = "trash";
    let mut q = Sql::default();
    q.push(&format!("SELECT {}, c.deleted_at, c.deleted_by FROM cases c WHERE c.org_id = ", sql::CASE_COLUMNS));
    let p = q.arg(Arg::Text(org_id.into()));
    q.push(&p).push(" AND c.deleted_at IS NOT NULL");
    page_clause_by(&mut q, "c", "deleted_at", page, LIST)?;
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let items = rows.iter().map(decode_trashed).collect::<Result<Vec<_>>>()?;
    Ok(finish_page(items, page.limit, LIST, |t| (us(t.deleted_at), t.case.id.clone())))
}

pub async fn get_trashed_case(pool: &Pool, org_id: &str, id: &str) -> Result<TrashedCase> {
    let sql = format!(
        "SELECT {}, c.deleted_at, c.deleted_by FROM cases c WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NOT NULL",
        sql::CASE_COLUMNS
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(pool).await?;
    decode_trashed(&row.ok_or(StoreError::NotFound)?)
}

/// Takes a case out of the trash and writes it as `case` (its next version, SLA check time
/// included), re-indexing its text, in one transaction.
pub async fn restore_case(pool: &Pool, case: &Case, expected_version: i64, events: &[NewEvent], actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE cases SET deleted_at = NULL, deleted_by = NULL \
         WHERE org_id = $1 AND id = $2 AND version = $3 AND deleted_at IS NOT NULL",
    )
    .bind(&case.org_id)
    .bind(&case.id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Stale);
    }
    let seq = write_case(&mut tx, case, expected_version).await?;
    reindex(&mut tx, seq, &case.id).await?;
    insert_events(&mut tx, &case.org_id, &case.id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a case in the trash and everything that is its own (comments, files, links, time,
/// timeline) for good. The organization's change feed keeps one `case.purged` entry, so a
/// system that copied the case learns to drop it. Other cases that named it as their problem or
/// merge target stop naming it. File contents are left to the file sweep, which removes those no
/// file uses any more.
pub async fn purge_case(pool: &Pool, org_id: &str, id: &str, now: Timestamp, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "SELECT seq, case_number FROM cases WHERE org_id = $1 AND id = $2 AND deleted_at IS NOT NULL{}",
        super::super::FOR_UPDATE
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(&mut *tx).await?;
    let row = row.ok_or(StoreError::NotFound)?;
    let seq: i64 = row.try_get("seq")?;
    let case_number: i64 = row.try_get("case_number")?;
    sqlx::query("DELETE FROM case_tags WHERE case_seq = $1").bind(seq).execute(&mut *tx).await?;
    for (table, column) in CASE_RECORDS {
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *tx).await?;
    }
    // The conversation feeding it and its replies to a channel (indexed by organization first).
    for table in ["conversations", "channel_deliveries"] {
        let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND case_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).execute(&mut *tx).await?;
    }
    for sql in UNLINK_SQL {
        sqlx::query(sql).bind(org_id).bind(id).execute(&mut *tx).await?;
    }
    super::super::unindex_case(&mut tx, seq).await?;
    sqlx::query("DELETE FROM cases WHERE seq = $1").bind(seq).execute(&mut *tx).await?;
    let event = NewEvent {
        kind: timeline::CASE_PURGED,
        data: serde_json::json!({ "case_number": case_number }),
        created_at: now,
    };
    insert_events(&mut tx, org_id, id, actor_id, &[event]).await?;
    tx.commit().await?;
    Ok(())
}

/// Cases of any organization that went into the trash before `before`, oldest first.
pub async fn trash_expired(pool: &Pool, before: Timestamp, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT org_id, id FROM cases WHERE deleted_at IS NOT NULL AND deleted_at < $1 ORDER BY deleted_at, id LIMIT $2",
    )
    .bind(us(before))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("org_id")?, r.try_get("id")?))).collect()
}

/// What a purge does to the cases that pointed at the purged one (incidents of a problem, cases
/// merged into it); both columns are indexed, so neither reads the organization's other cases.
pub(crate) const UNLINK_SQL: [&str; 2] = [
    "UPDATE cases SET problem_id = NULL, version = version + 1 WHERE org_id = $1 AND problem_id = $2",
    "UPDATE cases SET merged_into_id = NULL, version = version + 1 WHERE org_id = $1 AND merged_into_id = $2",
];
