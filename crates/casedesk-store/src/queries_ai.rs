// What the assistant reads and writes, compiled once per backend like `queries.rs` (this file
// is `include!`d into a child module of each backend's `q`).

use casedesk_domain::ai::settings::{AiSettings, KeyHeader, ProviderKind};

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

/// An organization's provider settings, if it ever saved any.
pub async fn get_ai_settings(pool: &Pool, org_id: &str) -> Result<Option<AiSettings>> {
    let row = sqlx::query("SELECT * FROM ai_settings WHERE org_id = $1").bind(org_id).fetch_optional(pool).await?;
    let Some(r) = row else { return Ok(None) };
    let provider: String = r.try_get("provider")?;
    let header: String = r.try_get("api_key_header")?;
    let timeout: i64 = r.try_get("timeout_secs")?;
    Ok(Some(AiSettings {
        org_id: r.try_get("org_id")?,
        provider: ProviderKind::parse(&provider).map_err(|e| corrupt("provider", e))?,
        base_url: r.try_get("base_url")?,
        model: r.try_get("model")?,
        api_key_sealed: r.try_get("api_key_sealed")?,
        api_key_header: KeyHeader::parse(&header).map_err(|e| corrupt("api_key_header", e))?,
        api_version: r.try_get("api_version")?,
        timeout_secs: u32::try_from(timeout).map_err(|e| corrupt("timeout_secs", e))?,
        updated_at: ts(r.try_get("updated_at")?)?,
    }))
}

/// Saves an organization's provider settings, replacing what it had.
pub async fn put_ai_settings(pool: &Pool, s: &AiSettings) -> Result<()> {
    sqlx::query(
        "INSERT INTO ai_settings (org_id, provider, base_url, model, api_key_sealed, api_key_header, api_version, \
         timeout_secs, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (org_id) DO UPDATE SET provider = excluded.provider, base_url = excluded.base_url, \
         model = excluded.model, api_key_sealed = excluded.api_key_sealed, api_key_header = excluded.api_key_header, \
         api_version = excluded.api_version, timeout_secs = excluded.timeout_secs, updated_at = excluded.updated_at",
    )
    .bind(&s.org_id)
    .bind(s.provider.as_str())
    .bind(&s.base_url)
    .bind(&s.model)
    .bind(&s.api_key_sealed)
    .bind(s.api_key_header.as_str())
    .bind(&s.api_version)
    .bind(i64::from(s.timeout_secs))
    .bind(us(s.updated_at))
    .execute(pool)
    .await?;
    Ok(())
}
