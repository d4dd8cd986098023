// Case links and merges, compiled once per backend like `queries.rs` (this file is `include!`d
// into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::links::{CaseLink, LinkKind};

fn decode_link(row: &DbRow) -> Result<CaseLink> {
    Ok(CaseLink {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        from_case_id: row.try_get("from_case_id")?,
        to_case_id: row.try_get("to_case_id")?,
        kind: LinkKind::parse(row.try_get("kind")?).map_err(|e| corrupt("kind", e))?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// Adds a link with its timeline entry on each of its two cases.
pub async fn insert_link(pool: &Pool, l: &CaseLink, from_event: &NewEvent, to_event: &NewEvent) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO case_links (id, org_id, from_case_id, to_case_id, kind, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&l.id)
    .bind(&l.org_id)
    .bind(&l.from_case_id)
    .bind(&l.to_case_id)
    .bind(l.kind.as_str())
    .bind(&l.created_by)
    .bind(us(l.created_at))
    .execute(&mut *tx)
    .await?;
    insert_events(&mut tx, &l.org_id, &l.from_case_id, &l.created_by, std::slice::from_ref(from_event)).await?;
    insert_events(&mut tx, &l.org_id, &l.to_case_id, &l.created_by, std::slice::from_ref(to_event)).await?;
    tx.commit().await?;
    Ok(())
}

/// A case's links in both directions, oldest first, each with the other case.
pub async fn list_links(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<(CaseLink, Case)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT l.id AS link_id, l.org_id AS link_org, l.from_case_id, l.to_case_id, l.kind, \
         l.created_by AS link_by, l.created_at AS link_at, {} FROM case_links l \
         JOIN cases c ON c.id = CASE WHEN l.from_case_id = $2 THEN l.to_case_id ELSE l.from_case_id END \
         WHERE l.org_id = $1 AND (l.from_case_id = $2 OR l.to_case_id = $2) AND c.deleted_at IS NULL \
         ORDER BY l.created_at, l.id",
        sql::CASE_COLUMNS
    )))
    .bind(org_id)
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let link = CaseLink {
            id: r.try_get("link_id")?,
            org_id: r.try_get("link_org")?,
            from_case_id: r.try_get("from_case_id")?,
            to_case_id: r.try_get("to_case_id")?,
            kind: LinkKind::parse(r.try_get("kind")?).map_err(|e| corrupt("kind", e))?,
            created_by: r.try_get("link_by")?,
            created_at: ts(r.try_get("link_at")?)?,
        };
        out.push((link, decode_case(r)?.1));
    }
    Ok(out)
}

pub async fn get_link(pool: &Pool, org_id: &str, id: &str) -> Result<CaseLink> {
    let row = fetch_in_org(pool, "SELECT l.* FROM case_links l WHERE l.org_id = $1 AND l.id = $2", org_id, id).await?;
    decode_link(&row)
}

/// Removes a link with its timeline entry on each of its two cases.
pub async fn delete_link(pool: &Pool, l: &CaseLink, actor_id: &str, from_event: &NewEvent, to_event: &NewEvent) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "case_links", &l.org_id, &l.id).await?;
    insert_events(&mut tx, &l.org_id, &l.from_case_id, actor_id, std::slice::from_ref(from_event)).await?;
    insert_events(&mut tx, &l.org_id, &l.to_case_id, actor_id, std::slice::from_ref(to_event)).await?;
    tx.commit().await?;
    Ok(())
}

/// Merges `sources` into `target` in one transaction: each case is written at its expected
/// version with its timeline entries; the sources' comments, files, time entries and activities move to
/// the target (keeping their times and authors) and their links are re-pointed at it (links that would join the target to
/// itself, or repeat one it has, are dropped).
pub async fn merge_cases(
    pool: &Pool,
    target: &(Case, i64, Vec<NewEvent>),
    sources: &[(Case, i64, Vec<NewEvent>)],
    actor_id: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let (t, t_version, t_events) = target;
    let t_seq = write_case(&mut tx, t, *t_version).await?;
    for (s, version, events) in sources {
        write_case(&mut tx, s, *version).await?;
        sqlx::query("UPDATE comments SET case_id = $1 WHERE case_id = $2").bind(&t.id).bind(&s.id).execute(&mut *tx).await?;
        sqlx::query("UPDATE case_files SET case_id = $1 WHERE case_id = $2").bind(&t.id).bind(&s.id).execute(&mut *tx).await?;
        // Time logged on the source counts on the target; its activities go along too.
        sqlx::query("UPDATE time_entries SET case_id = $1 WHERE case_id = $2").bind(&t.id).bind(&s.id).execute(&mut *tx).await?;
        sqlx::query("UPDATE case_activities SET case_id = $1 WHERE case_id = $2")
            .bind(&t.id)
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
        // Drop the source's links the target already has, then re-point the rest.
        sqlx::query(
            "DELETE FROM case_links WHERE from_case_id = $1 AND EXISTS (SELECT 1 FROM case_links x \
             WHERE x.from_case_id = $2 AND x.to_case_id = case_links.to_case_id AND x.kind = case_links.kind)",
        )
        .bind(&s.id)
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE case_links SET from_case_id = $1 WHERE from_case_id = $2").bind(&t.id).bind(&s.id).execute(&mut *tx).await?;
        sqlx::query(
            "DELETE FROM case_links WHERE to_case_id = $1 AND EXISTS (SELECT 1 FROM case_links x \
             WHERE x.to_case_id = $2 AND x.from_case_id = case_links.from_case_id AND x.kind = case_links.kind)",
        )
        .bind(&s.id)
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE case_links SET to_case_id = $1 WHERE to_case_id = $2").bind(&t.id).bind(&s.id).execute(&mut *tx).await?;
        insert_events(&mut tx, &s.org_id, &s.id, actor_id, events).await?;
        let s_seq: i64 = sqlx::query_scalar("SELECT seq FROM cases WHERE id = $1").bind(&s.id).fetch_one(&mut *tx).await?;
        reindex(&mut tx, s_seq, &s.id).await?;
    }
    sqlx::query("DELETE FROM case_links WHERE from_case_id = to_case_id").execute(&mut *tx).await?;
    reindex(&mut tx, t_seq, &t.id).await?;
    insert_events(&mut tx, &t.org_id, &t.id, actor_id, t_events).await?;
    tx.commit().await?;
    Ok(())
}
