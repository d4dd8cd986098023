// Customer satisfaction: settings and surveys. Compiled once per backend like `queries.rs`
// (`include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::csat::{Scale, Settings, Survey};

pub async fn get_csat_settings(pool: &Pool, org_id: &str) -> Result<Option<Settings>> {
    let row = sqlx::query("SELECT org_id, enabled, scale FROM csat_settings WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode_csat_settings).transpose()
}

/// The settings, in the caller's transaction.
pub(crate) async fn get_csat_settings_in(tx: &mut Tx<'_>, org_id: &str) -> Result<Option<Settings>> {
    let row = sqlx::query("SELECT org_id, enabled, scale FROM csat_settings WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(decode_csat_settings).transpose()
}

fn decode_csat_settings(row: &DbRow) -> Result<Settings> {
    Ok(Settings {
        org_id: row.try_get("org_id")?,
        enabled: row.try_get("enabled")?,
        scale: Scale::parse(row.try_get("scale")?).map_err(|e| corrupt("scale", e))?,
    })
}

pub async fn put_csat_settings(pool: &Pool, s: &Settings, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO csat_settings (org_id, enabled, scale, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET enabled = excluded.enabled, scale = excluded.scale, updated_at = excluded.updated_at",
    )
    .bind(&s.org_id)
    .bind(s.enabled)
    .bind(s.scale.as_str())
    .bind(us(now))
    .execute(pool)
    .await?;
    Ok(())
}

fn decode_survey(row: &DbRow) -> Result<Survey> {
    let day: Option<i64> = row.try_get("answered_day")?;
    Ok(Survey {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        requester_id: row.try_get("requester_id")?,
        token_hash: row.try_get("token_hash")?,
        scale: Scale::parse(row.try_get("scale")?).map_err(|e| corrupt("scale", e))?,
        score: row.try_get("score")?,
        comment: row.try_get("comment")?,
        resolved_at: ts(row.try_get("resolved_at")?)?,
        expires_at: ts(row.try_get("expires_at")?)?,
        answered_at: opt_ts(row.try_get("answered_at")?)?,
        answered_day: day.map(i32::try_from).transpose().map_err(|e| corrupt("answered_day", e))?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
        queue_id: row.try_get("queue_id")?,
        owner_id: row.try_get("owner_id")?,
        priority: row.try_get("priority")?,
        channel: row.try_get("channel")?,
        category_id: row.try_get("category_id")?,
    })
}

const SURVEY_COLUMNS: &str = "id, org_id, case_id, requester_id, token_hash, scale, score, comment, resolved_at, \
    expires_at, answered_at, CAST(answered_day AS BIGINT) AS answered_day, created_at, updated_at, queue_id, owner_id, \
    priority, channel, category_id";

pub(crate) async fn insert_survey(tx: &mut Tx<'_>, s: &Survey) -> Result<()> {
    sqlx::query(
        "INSERT INTO csat_surveys (id, org_id, case_id, requester_id, token_hash, scale, score, comment, resolved_at, \
         expires_at, answered_at, answered_day, created_at, updated_at, queue_id, owner_id, priority, channel, category_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&s.id)
    .bind(&s.org_id)
    .bind(&s.case_id)
    .bind(&s.requester_id)
    .bind(&s.token_hash)
    .bind(s.scale.as_str())
    .bind(s.score)
    .bind(&s.comment)
    .bind(us(s.resolved_at))
    .bind(us(s.expires_at))
    .bind(opt_us(s.answered_at))
    .bind(s.answered_day)
    .bind(us(s.created_at))
    .bind(us(s.updated_at))
    .bind(&s.queue_id)
    .bind(&s.owner_id)
    .bind(s.priority)
    .bind(&s.channel)
    .bind(&s.category_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The survey a link's token hash names (any organization: the link is the credential).
pub async fn find_survey_by_token(pool: &Pool, token_hash: &str) -> Result<Option<Survey>> {
    let sql = format!("SELECT {SURVEY_COLUMNS} FROM csat_surveys WHERE token_hash = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash).fetch_optional(pool).await?;
    row.as_ref().map(decode_survey).transpose()
}

/// A case's surveys, oldest first.
pub async fn list_surveys(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<Survey>> {
    let sql = format!("SELECT {SURVEY_COLUMNS} FROM csat_surveys WHERE org_id = $1 AND case_id = $2 ORDER BY created_at, id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).fetch_all(pool).await?;
    rows.iter().map(decode_survey).collect()
}

/// Saves an answer made to the survey as it was at `expected_updated_at`, with its timeline
/// entry on the case, in one transaction. `Stale` if the survey changed meanwhile.
pub async fn answer_survey(
    pool: &Pool,
    s: &Survey,
    expected_updated_at: Timestamp,
    event: &NewEvent,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE csat_surveys SET score = $1, comment = $2, answered_at = $3, answered_day = $4, updated_at = $5 \
         WHERE id = $6 AND updated_at = $7",
    )
    .bind(s.score)
    .bind(&s.comment)
    .bind(opt_us(s.answered_at))
    .bind(s.answered_day)
    .bind(us(s.updated_at))
    .bind(&s.id)
    .bind(us(expected_updated_at))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Stale);
    }
    insert_events(&mut tx, &s.org_id, &s.case_id, &s.requester_id, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}
