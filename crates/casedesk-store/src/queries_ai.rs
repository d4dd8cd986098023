// What the assistant reads and writes, compiled once per backend like `queries.rs` (this file
// is `include!`d into a child module of each backend's `q`).

/// Cases whose words overlap `words`, best first: resolved ones (to ground a reply) or open
/// problems (to link to).
pub async fn similar_cases(
    pool: &Pool,
    org_id: &str,
    words: &[String],
    exclude_id: &str,
    kind: SimilarKind,
    limit: i64,
) -> Result<Vec<(String, i64)>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let which = match kind {
        SimilarKind::Resolved => "c.status IN ('resolved', 'closed') AND c.merged_into_id IS NULL",
        SimilarKind::OpenProblems => "c.case_type = 'problem' AND c.status NOT IN ('resolved', 'closed')",
    };
    let sql = format!(
        "SELECT c.id, c.case_number FROM ({}) m JOIN cases c ON c.seq = m.seq \
         WHERE c.org_id = $2 AND c.id <> $3 AND c.deleted_at IS NULL AND {which} ORDER BY m.rank, c.seq DESC LIMIT $4",
        super::super::SIMILAR_SOURCE
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(super::super::any_of(words))
        .bind(org_id)
        .bind(exclude_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("case_number")?))).collect()
}

/// The last reply an agent wrote to the customer on a case, if any.
pub async fn last_public_reply(pool: &Pool, org_id: &str, case_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT body FROM comments WHERE org_id = $1 AND case_id = $2 AND internal = FALSE AND author_type = 'agent' \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(case_id)
    .fetch_optional(pool)
    .await?)
}

/// The organization's newest cases as examples to learn categories and priorities from.
pub async fn ai_examples(pool: &Pool, org_id: &str, limit: i64) -> Result<Vec<AiExample>> {
    let rows = sqlx::query(
        "SELECT subject, description, category_id, priority FROM cases WHERE org_id = $1 AND deleted_at IS NULL \
         ORDER BY seq DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AiExample {
                subject: r.try_get("subject")?,
                description: r.try_get("description")?,
                category_id: r.try_get("category_id")?,
                priority: Priority::from_rank(r.try_get("priority")?).ok_or_else(|| corrupt("priority", "out of range"))?,
            })
        })
        .collect()
}

/// Adds entries to a case's timeline without changing the case (which must exist in the
/// organization).
pub async fn append_events(pool: &Pool, org_id: &str, case_id: &str, actor_id: &str, events: &[NewEvent]) -> Result<()> {
    let mut tx = pool.begin().await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(org_id)
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    insert_events(&mut tx, org_id, case_id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}
