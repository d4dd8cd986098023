// IMAP polling of mailboxes: each polled mailbox's settings, cursor and lease, compiled once per
// backend like `queries.rs` (this file is `include!`d into a child module of each backend's `q`,
// which sees the parent's helpers).

use casedesk_domain::email::Mailbox;
use casedesk_domain::imap::{Cursor, ImapMailbox, ImapSecurity};

fn decode_imap(row: &DbRow) -> Result<ImapMailbox> {
    let security: String = row.try_get("security")?;
    let port: i64 = row.try_get("port")?;
    let validity: Option<i64> = row.try_get("uid_validity")?;
    let last_uid: Option<i64> = row.try_get("last_uid")?;
    let failures: i64 = row.try_get("failures")?;
    let uid = |v: i64, col: &str| u32::try_from(v).map_err(|e| corrupt(col, e));
    let cursor = match (validity, last_uid) {
        (Some(v), Some(l)) => Some(Cursor { uid_validity: uid(v, "uid_validity")?, last_uid: uid(l, "last_uid")? }),
        _ => None,
    };
    Ok(ImapMailbox {
        mailbox_id: row.try_get("mailbox_id")?,
        org_id: row.try_get("org_id")?,
        host: row.try_get("host")?,
        port: u16::try_from(port).map_err(|e| corrupt("port", e))?,
        security: ImapSecurity::parse(&security).map_err(|e| corrupt("security", e))?,
        username: row.try_get("username")?,
        password_sealed: row.try_get("password_sealed")?,
        folder: row.try_get("folder")?,
        enabled: row.try_get("enabled")?,
        cursor,
        last_poll_at: opt_ts(row.try_get("last_poll_at")?)?,
        last_error: row.try_get("last_error")?,
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        next_poll_at: ts(row.try_get("next_poll_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// Writes a mailbox's IMAP row whole (settings and state), giving up any poll's claim on it: a
/// poll of the old settings then stops at its next write.
async fn write_imap(tx: &mut Tx<'_>, i: &ImapMailbox) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_imap (mailbox_id, org_id, host, port, security, username, password_sealed, folder, \
         enabled, uid_validity, last_uid, last_poll_at, last_error, failures, next_poll_at, claim, lease_until, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, NULL, $16) \
         ON CONFLICT (mailbox_id) DO UPDATE SET host = excluded.host, port = excluded.port, \
         security = excluded.security, username = excluded.username, password_sealed = excluded.password_sealed, \
         folder = excluded.folder, enabled = excluded.enabled, uid_validity = excluded.uid_validity, \
         last_uid = excluded.last_uid, last_poll_at = excluded.last_poll_at, last_error = excluded.last_error, \
         failures = excluded.failures, next_poll_at = excluded.next_poll_at, claim = NULL, lease_until = NULL, \
         updated_at = excluded.updated_at",
    )
    .bind(&i.mailbox_id)
    .bind(&i.org_id)
    .bind(&i.host)
    .bind(i64::from(i.port))
    .bind(i.security.as_str())
    .bind(&i.username)
    .bind(&i.password_sealed)
    .bind(&i.folder)
    .bind(i.enabled)
    .bind(i.cursor.map(|c| i64::from(c.uid_validity)))
    .bind(i.cursor.map(|c| i64::from(c.last_uid)))
    .bind(opt_us(i.last_poll_at))
    .bind(&i.last_error)
    .bind(i64::from(i.failures))
    .bind(us(i.next_poll_at))
    .bind(us(i.updated_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A new mailbox and, when it is polled, its IMAP settings, in one transaction.
pub async fn insert_mailbox_with_imap(pool: &Pool, m: &Mailbox, imap: Option<&ImapMailbox>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO mailboxes (id, org_id, address, name, queue_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.id)
    .bind(&m.org_id)
    .bind(&m.address)
    .bind(&m.name)
    .bind(&m.queue_id)
    .bind(us(m.created_at))
    .execute(&mut *tx)
    .await?;
    if let Some(i) = imap {
        write_imap(&mut tx, i).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets a mailbox's IMAP settings ([`StoreError::NotFound`] when the organization has no such
/// mailbox).
pub async fn put_mailbox_imap(pool: &Pool, i: &ImapMailbox) -> Result<()> {
    let mut tx = pool.begin().await?;
    let exists = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM mailboxes WHERE org_id = $1 AND id = $2{}",
        super::super::FOR_UPDATE
    )))
    .bind(&i.org_id)
    .bind(&i.mailbox_id)
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    write_imap(&mut tx, i).await?;
    tx.commit().await?;
    Ok(())
}

/// Stops polling a mailbox and forgets its settings ([`StoreError::NotFound`] when the
/// organization has no such mailbox; a mailbox that was not polled is fine).
pub async fn delete_mailbox_imap(pool: &Pool, org_id: &str, mailbox_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let exists = sqlx::query("SELECT id FROM mailboxes WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(mailbox_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM mailbox_imap WHERE org_id = $1 AND mailbox_id = $2")
        .bind(org_id)
        .bind(mailbox_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_mailbox_imap(pool: &Pool, org_id: &str, mailbox_id: &str) -> Result<Option<ImapMailbox>> {
    let row = sqlx::query("SELECT * FROM mailbox_imap WHERE org_id = $1 AND mailbox_id = $2")
        .bind(org_id)
        .bind(mailbox_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(decode_imap).transpose()
}

/// The IMAP settings of the organization's polled mailboxes.
pub async fn list_mailbox_imap(pool: &Pool, org_id: &str) -> Result<Vec<ImapMailbox>> {
    let rows = sqlx::query("SELECT * FROM mailbox_imap WHERE org_id = $1 ORDER BY mailbox_id")
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_imap).collect()
}

/// Claims the most overdue enabled mailbox that no live lease holds, until `lease_until`;
/// answers it with its mailbox's queue. Instances sharing a PostgreSQL database pass over a row
/// another is claiming (`SKIP LOCKED`); SQLite's single writer makes the statement atomic.
pub async fn claim_imap_poll(
    pool: &Pool,
    claim: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<(ImapMailbox, Option<String>)>> {
    let sql = format!(
        "UPDATE mailbox_imap SET claim = $1, lease_until = $2 \
         WHERE mailbox_id IN (SELECT i.mailbox_id FROM mailbox_imap i WHERE i.enabled = $3 AND i.next_poll_at <= $4 \
           AND (i.lease_until IS NULL OR i.lease_until <= $4) ORDER BY i.next_poll_at, i.mailbox_id LIMIT 1{}) \
         RETURNING *",
        super::super::SKIP_LOCKED
    );
    let mut tx = pool.begin().await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(claim)
        .bind(us(lease_until))
        .bind(true)
        .bind(us(now))
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let imap = decode_imap(&row)?;
    let queue: Option<(Option<String>,)> = sqlx::query_as("SELECT queue_id FROM mailboxes WHERE id = $1")
        .bind(&imap.mailbox_id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some((imap, queue.and_then(|q| q.0))))
}

/// Moves a claimed mailbox's cursor past a message taken in and renews the lease
/// ([`StoreError::Stale`] when the claim was lost: the lease ran out, or the settings changed).
pub async fn advance_imap_cursor(
    pool: &Pool,
    mailbox_id: &str,
    claim: &str,
    cursor: Cursor,
    lease_until: Timestamp,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE mailbox_imap SET uid_validity = $1, last_uid = $2, lease_until = $3 WHERE mailbox_id = $4 AND claim = $5",
    )
    .bind(i64::from(cursor.uid_validity))
    .bind(i64::from(cursor.last_uid))
    .bind(us(lease_until))
    .bind(mailbox_id)
    .bind(claim)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

/// Saves how a claimed poll ended (its time, error, failures and next due time) and gives the
/// claim up ([`StoreError::Stale`] when it was lost meanwhile).
pub async fn finish_imap_poll(pool: &Pool, i: &ImapMailbox, claim: &str) -> Result<()> {
    let done = sqlx::query(
        "UPDATE mailbox_imap SET last_poll_at = $1, last_error = $2, failures = $3, next_poll_at = $4, \
         claim = NULL, lease_until = NULL WHERE mailbox_id = $5 AND claim = $6",
    )
    .bind(opt_us(i.last_poll_at))
    .bind(&i.last_error)
    .bind(i64::from(i.failures))
    .bind(us(i.next_poll_at))
    .bind(&i.mailbox_id)
    .bind(claim)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::Stale) } else { Ok(()) }
}
