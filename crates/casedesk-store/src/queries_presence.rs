// Live pages: the head of an organization's change feed, and who is viewing or typing on a case.
// Compiled once per backend like `queries.rs` (this file is `include!`d into a child module of
// each backend's `q`, which sees the parent's helpers).

use crate::Presence;

/// The cursor of the organization's last event the feed serves now (`None` while it has none):
/// where a reader that wants only what comes next starts.
pub async fn feed_head(pool: &Pool, org_id: &str) -> Result<Option<String>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT e.txid, e.seq FROM case_events e WHERE e.org_id = $1{} ORDER BY e.txid DESC, e.seq DESC LIMIT 1",
        super::super::FEED_VISIBLE
    )))
    .bind(org_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok(cursor::encode("events", &[Key::Int(r.try_get("txid")?), Key::Int(r.try_get("seq")?)])))
        .transpose()
}

/// Records that the user views (and, with a typing time, types on) the case until these times,
/// never shortening a time already recorded; drops the case's rows that have run out.
pub async fn touch_presence(
    pool: &Pool,
    org_id: &str,
    case_id: &str,
    user_id: &str,
    viewing_until: Timestamp,
    typing_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "DELETE FROM case_presence WHERE org_id = $1 AND case_id = $2 AND viewing_until < $3 AND typing_until < $3",
    )
    .bind(org_id)
    .bind(case_id)
    .bind(us(now))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO case_presence (org_id, case_id, user_id, viewing_until, typing_until) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, case_id, user_id) DO UPDATE SET \
         viewing_until = CASE WHEN excluded.viewing_until > case_presence.viewing_until \
             THEN excluded.viewing_until ELSE case_presence.viewing_until END, \
         typing_until = CASE WHEN excluded.typing_until > case_presence.typing_until \
             THEN excluded.typing_until ELSE case_presence.typing_until END",
    )
    .bind(org_id)
    .bind(case_id)
    .bind(user_id)
    .bind(us(viewing_until))
    .bind(typing_until.map_or(0, us))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user left the case (closed its page): they no longer view or type on it.
pub async fn leave_presence(pool: &Pool, org_id: &str, case_id: &str, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM case_presence WHERE org_id = $1 AND case_id = $2 AND user_id = $3")
        .bind(org_id)
        .bind(case_id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Who views or types on the case at `now`, by user id.
pub async fn case_presence(pool: &Pool, org_id: &str, case_id: &str, now: Timestamp) -> Result<Vec<Presence>> {
    let rows = sqlx::query(
        "SELECT user_id, viewing_until, typing_until FROM case_presence \
         WHERE org_id = $1 AND case_id = $2 AND (viewing_until >= $3 OR typing_until >= $3) ORDER BY user_id",
    )
    .bind(org_id)
    .bind(case_id)
    .bind(us(now))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Presence {
                user_id: r.try_get("user_id")?,
                viewing_until: ts(r.try_get("viewing_until")?)?,
                typing_until: ts(r.try_get("typing_until")?)?,
            })
        })
        .collect()
}
