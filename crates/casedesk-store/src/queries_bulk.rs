// Background bulk jobs, compiled once per backend like `queries.rs` (this file is `include!`d
// into a child module of each backend's `q`).

use casedesk_domain::bulk::{BulkAction, BulkJob, JobState};

fn decode_job(row: &DbRow) -> Result<BulkJob> {
    let action: String = row.try_get("action")?;
    let action: serde_json::Value = serde_json::from_str(&action).map_err(|e| corrupt("action", e))?;
    let failures: String = row.try_get("failures")?;
    let state: String = row.try_get("state")?;
    Ok(BulkJob {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        created_by: row.try_get("created_by")?,
        action: BulkAction::from_json(&action).map_err(|e| corrupt("action", e))?,
        query: row.try_get("query")?,
        state: JobState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        total: row.try_get("total")?,
        processed: row.try_get("processed")?,
        changed: row.try_get("changed")?,
        unchanged: row.try_get("unchanged")?,
        failed: row.try_get("failed")?,
        failures: serde_json::from_str(&failures).map_err(|e| corrupt("failures", e))?,
        cursor: row.try_get("cursor")?,
        error: row.try_get("error")?,
        cancel_requested: row.try_get("cancel_requested")?,
        created_at: ts(row.try_get("created_at")?)?,
        started_at: opt_ts(row.try_get("started_at")?)?,
        finished_at: opt_ts(row.try_get("finished_at")?)?,
    })
}

pub async fn insert_bulk_job(pool: &Pool, job: &BulkJob) -> Result<()> {
    sqlx::query(
        "INSERT INTO bulk_jobs (id, org_id, created_by, action, query, state, total, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&job.id)
    .bind(&job.org_id)
    .bind(&job.created_by)
    .bind(json_text(&job.action.to_json())?)
    .bind(&job.query)
    .bind(job.state.as_str())
    .bind(job.total)
    .bind(us(job.created_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_bulk_job(pool: &Pool, org_id: &str, id: &str) -> Result<BulkJob> {
    decode_job(&fetch_in_org(pool, "SELECT * FROM bulk_jobs WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// Takes the oldest job that is waiting, or whose worker's lease ran out (the instance died), for
/// `claim` until `lease_until`. Instances skip each other's locked rows, so each job has one
/// worker at a time.
pub async fn claim_bulk_job(pool: &Pool, claim: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<BulkJob>> {
    let sql = format!(
        "UPDATE bulk_jobs SET state = 'running', claim = $1, lease_until = $2, started_at = COALESCE(started_at, $3) \
         WHERE id = (SELECT id FROM bulk_jobs WHERE state = 'queued' OR (state = 'running' AND lease_until < $3) \
         ORDER BY created_at LIMIT 1{}) RETURNING *",
        super::super::SKIP_LOCKED
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(claim)
        .bind(us(lease_until))
        .bind(us(now))
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode_job).transpose()
}

/// Writes a job's progress (and state) while `claim` still holds it, extending the lease.
/// Returns whether a cancel was asked for; [`StoreError::Stale`] when another worker has taken the
/// job over.
pub async fn save_bulk_job(pool: &Pool, job: &BulkJob, claim: &str, lease_until: Timestamp) -> Result<bool> {
    let cancel: Option<bool> = sqlx::query_scalar(
        "UPDATE bulk_jobs SET state = $1, processed = $2, changed = $3, unchanged = $4, failed = $5, failures = $6, \
         cursor = $7, error = $8, finished_at = $9, lease_until = $10 \
         WHERE id = $11 AND claim = $12 RETURNING cancel_requested",
    )
    .bind(job.state.as_str())
    .bind(job.processed)
    .bind(job.changed)
    .bind(job.unchanged)
    .bind(job.failed)
    .bind(json_text(&job.failures)?)
    .bind(&job.cursor)
    .bind(&job.error)
    .bind(opt_us(job.finished_at))
    .bind(us(lease_until))
    .bind(&job.id)
    .bind(claim)
    .fetch_optional(pool)
    .await?;
    cancel.ok_or(StoreError::Stale)
}

/// Asks a job to stop: a waiting one is cancelled at once, a running one at its next step.
pub async fn cancel_bulk_job(pool: &Pool, org_id: &str, id: &str, now: Timestamp) -> Result<()> {
    let done = sqlx::query(
        "UPDATE bulk_jobs SET cancel_requested = TRUE, \
         state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, \
         finished_at = CASE WHEN state = 'queued' THEN $3 ELSE finished_at END \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(us(now))
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
