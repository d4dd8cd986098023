// Signing keys, external visitors and the operational counts of /metrics, compiled once per
// backend like `queries.rs` (this file is `include!`d into a child module of each backend's
// `q`, which sees the parent's helpers).

use casedesk_domain::signing_key::{KeyAlg, SigningKey};

fn decode_signing_key(row: &DbRow) -> Result<SigningKey> {
    let alg: String = row.try_get("alg")?;
    Ok(SigningKey {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        kid: row.try_get("kid")?,
        alg: KeyAlg::parse(&alg).map_err(|e| corrupt("alg", e))?,
        key_data: row.try_get("key_data")?,
        description: row.try_get("description")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        revoked_at: opt_ts(row.try_get("revoked_at")?)?,
    })
}

/// Stores a new key; a kid the organization already used is [`StoreError::Duplicate`].
pub async fn insert_signing_key(pool: &Pool, k: &SigningKey) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (id, org_id, kid, alg, key_data, description, created_by, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&k.id)
    .bind(&k.org_id)
    .bind(&k.kid)
    .bind(k.alg.as_str())
    .bind(&k.key_data)
    .bind(&k.description)
    .bind(&k.created_by)
    .bind(us(k.created_at))
    .bind(opt_us(k.revoked_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_signing_key(pool: &Pool, org_id: &str, id: &str) -> Result<SigningKey> {
    decode_signing_key(&fetch_in_org(pool, "SELECT * FROM signing_keys WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The organization's key with this kid, revoked or not.
pub async fn find_signing_key(pool: &Pool, org_id: &str, kid: &str) -> Result<Option<SigningKey>> {
    let row = sqlx::query("SELECT * FROM signing_keys WHERE org_id = $1 AND kid = $2")
        .bind(org_id)
        .bind(kid)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode_signing_key).transpose()
}

/// The organization's keys, newest first.
pub async fn list_signing_keys(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<SigningKey>> {
    list_page(pool, "SELECT k.* FROM signing_keys k", "k", org_id, |_| {}, page, "signing_keys", decode_signing_key, |k| {
        (us(k.created_at), k.id.clone())
    })
    .await
}

/// Revokes a key (keeping the first revocation's time); returns it as it now stands.
pub async fn revoke_signing_key(pool: &Pool, org_id: &str, id: &str, now: Timestamp) -> Result<SigningKey> {
    let row = sqlx::query(
        "UPDATE signing_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND id = $3 RETURNING *",
    )
    .bind(us(now))
    .bind(org_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode_signing_key(&row)
}

/// Whether the organization has a contact with this external id (a visitor exists).
pub async fn visitor_exists(pool: &Pool, org_id: &str, external_id: &str) -> Result<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM contacts WHERE org_id = $1 AND external_id = $2 LIMIT 1")
            .bind(org_id)
            .bind(external_id)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// A case's customer-facing comments (never internal notes), oldest first, at most `limit`.
pub async fn public_comments(pool: &Pool, org_id: &str, case_id: &str, limit: u32) -> Result<Vec<Comment>> {
    let rows = sqlx::query(
        "SELECT m.* FROM comments m WHERE m.org_id = $1 AND m.case_id = $2 AND m.internal = FALSE \
         ORDER BY m.created_at, m.id LIMIT $3",
    )
    .bind(org_id)
    .bind(case_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_comment).collect()
}

/// The figures /metrics reads from the database. Each is a bounded read: the maintained totals
/// of `case_counts`, or a partial index that holds only the rows counted.
pub async fn operational_counts(pool: &Pool) -> Result<OperationalCounts> {
    let active = "('new', 'open', 'pending', 'on_hold')";
    // Organization by organization (CROSS JOIN fixes that order on SQLite, which has no
    // statistics to choose it), each reading only its queue rows by the primary key's
    // (org_id, dim) prefix, never the tag or people totals beside them.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT cc.org_id AS org_id, cc.key AS key, CAST(SUM(cc.n) AS BIGINT) AS n FROM organizations o \
         CROSS JOIN case_counts cc WHERE cc.org_id = o.id AND cc.dim = 'queue' AND cc.status IN {active} \
         GROUP BY cc.org_id, cc.key HAVING SUM(cc.n) <> 0 ORDER BY cc.org_id, cc.key"
    )))
    .fetch_all(pool)
    .await?;
    let open_by_queue = rows
        .iter()
        .map(|r| Ok((r.try_get("org_id")?, r.try_get("key")?, r.try_get("n")?)))
        .collect::<Result<Vec<(String, String, i64)>>>()?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT org_id, COUNT(*) AS n FROM cases WHERE sla_breached AND deleted_at IS NULL AND status IN {active} \
         GROUP BY org_id ORDER BY org_id"
    )))
    .fetch_all(pool)
    .await?;
    let breached_by_org =
        rows.iter().map(|r| Ok((r.try_get("org_id")?, r.try_get("n")?))).collect::<Result<Vec<(String, i64)>>>()?;
    let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await };
    let jobs_by_state = vec![
        ("queued".to_string(), count("SELECT COUNT(*) FROM bulk_jobs WHERE state IN ('queued', 'running') AND state = 'queued'").await?),
        ("running".to_string(), count("SELECT COUNT(*) FROM bulk_jobs WHERE state IN ('queued', 'running') AND state = 'running'").await?),
        ("failed".to_string(), count("SELECT COUNT(*) FROM bulk_jobs WHERE state = 'failed'").await?),
    ];
    let pending = count("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'").await?;
    let failed = count("SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'failed'").await?;
    let emails = vec![
        ("out".into(), "queued".into(), count("SELECT COUNT(*) FROM email_messages WHERE state = 'queued'").await?),
        ("out".into(), "failed".into(), count("SELECT COUNT(*) FROM email_messages WHERE state = 'failed'").await?),
        ("in".into(), "quarantined".into(), count("SELECT COUNT(*) FROM email_messages WHERE state = 'quarantined'").await?),
    ];
    Ok(OperationalCounts {
        emails,
        open_by_queue,
        breached_by_org,
        jobs_by_state,
        webhook_deliveries: vec![("pending".into(), pending), ("failed".into(), failed)],
    })
}

/// Sets an organization's subscription status (`active` or `suspended`): the operator's switch.
pub async fn set_org_status(pool: &Pool, org_id: &str, status: &str, now: Timestamp) -> Result<()> {
    let done = sqlx::query("UPDATE organizations SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(us(now))
        .bind(org_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
