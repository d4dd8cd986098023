// Web sessions and sign-in failures, compiled once per backend like `queries.rs` (this file is
// `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use crate::UiSession;

/// A user with their password hash, by email (emails are stored lower-case and unique).
pub async fn user_credentials(pool: &Pool, email: &str) -> Result<Option<(User, Option<String>)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1")))
        .bind(email)
        .fetch_optional(pool)
        .await?;
    row.map(|r| Ok((decode_user(&r)?, r.try_get("password_hash")?))).transpose()
}

/// The stored password hash of a user of the organization.
pub async fn password_hash(pool: &Pool, org_id: &str, user_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT password_hash FROM users WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("password_hash")?)
}

pub async fn insert_session(pool: &Pool, s: &UiSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO ui_sessions (id, org_id, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.id_hash)
    .bind(&s.org_id)
    .bind(&s.user_id)
    .bind(us(s.created_at))
    .bind(us(s.last_seen_at))
    .bind(us(s.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

/// The session stored under `id_hash` with its user.
pub async fn find_session(pool: &Pool, id_hash: &str) -> Result<Option<(UiSession, User)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.id AS session_id, s.created_at AS session_created_at, s.last_seen_at, s.expires_at, {USER_COLUMNS} \
         FROM ui_sessions s JOIN users u ON u.id = s.user_id AND u.org_id = s.org_id WHERE s.id = $1"
    )))
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user = decode_user(&row)?;
    let session = UiSession {
        id_hash: row.try_get("session_id")?,
        org_id: user.org_id.clone(),
        user_id: user.id.clone(),
        created_at: ts(row.try_get("session_created_at")?)?,
        last_seen_at: ts(row.try_get("last_seen_at")?)?,
        expires_at: ts(row.try_get("expires_at")?)?,
    };
    Ok(Some((session, user)))
}

pub async fn touch_session(pool: &Pool, id_hash: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE ui_sessions SET last_seen_at = $1 WHERE id = $2").bind(us(now)).bind(id_hash).execute(pool).await?;
    Ok(())
}

pub async fn delete_session(pool: &Pool, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM ui_sessions WHERE id = $1").bind(id_hash).execute(pool).await?;
    Ok(())
}

/// Ends every session of a user but `keep` (after a password change).
pub async fn delete_other_sessions(pool: &Pool, org_id: &str, user_id: &str, keep: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM ui_sessions WHERE org_id = $1 AND user_id = $2 AND id <> $3")
        .bind(org_id)
        .bind(user_id)
        .bind(keep)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Forgets sessions that expired before `before` and failures older than `failed_before`.
pub async fn purge_sign_in_state(pool: &Pool, before: Timestamp, failed_before: Timestamp) -> Result<()> {
    sqlx::query("DELETE FROM ui_sessions WHERE expires_at < $1").bind(us(before)).execute(pool).await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE failed_at < $1").bind(us(failed_before)).execute(pool).await?;
    Ok(())
}

/// Records one failed sign-in under each key.
pub async fn record_sign_in_failure(pool: &Pool, keys: &[String], at: Timestamp) -> Result<()> {
    let mut tx = pool.begin().await?;
    for key in keys {
        sqlx::query("INSERT INTO sign_in_failures (key, failed_at) VALUES ($1, $2)").bind(key).bind(us(at)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How many failures `key` has since `since`, and the oldest of them.
pub async fn sign_in_failures(pool: &Pool, key: &str, since: Timestamp) -> Result<(i64, Option<Timestamp>)> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MIN(failed_at) AS oldest FROM sign_in_failures WHERE key = $1 AND failed_at >= $2")
        .bind(key)
        .bind(us(since))
        .fetch_one(pool)
        .await?;
    Ok((row.try_get("n")?, opt_ts(row.try_get("oldest")?)?))
}

pub async fn clear_sign_in_failures(pool: &Pool, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE key = $1").bind(key).execute(pool).await?;
    Ok(())
}
