// Saved views, compiled once per backend like `queries.rs` (this file is `include!`d into a
// child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::list::Ordering;
use casedesk_domain::view::{Scope, View};

fn decode_view(row: &DbRow) -> Result<View> {
    let columns: String = row.try_get("columns")?;
    Ok(View {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        query: row.try_get("query")?,
        columns: serde_json::from_str(&columns).map_err(|e| corrupt("columns", e))?,
        ordering: Ordering::parse(row.try_get("ordering")?).map_err(|e| corrupt("ordering", e))?,
        scope: Scope::parse(row.try_get("scope")?).map_err(|e| corrupt("scope", e))?,
        queue_id: row.try_get("queue_id")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// Inserts a view or replaces the stored one with the same id.
pub async fn put_view(pool: &Pool, v: &View) -> Result<()> {
    sqlx::query(
        "INSERT INTO case_views (id, org_id, name, query, columns, ordering, scope, queue_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query, columns = excluded.columns, \
         ordering = excluded.ordering, scope = excluded.scope, queue_id = excluded.queue_id, updated_at = excluded.updated_at",
    )
    .bind(&v.id)
    .bind(&v.org_id)
    .bind(&v.name)
    .bind(&v.query)
    .bind(serde_json::to_string(&v.columns).map_err(|e| corrupt("columns", e))?)
    .bind(v.ordering.as_str())
    .bind(v.scope.as_str())
    .bind(&v.queue_id)
    .bind(&v.created_by)
    .bind(us(v.created_at))
    .bind(us(v.updated_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_view(pool: &Pool, org_id: &str, id: &str) -> Result<View> {
    let row = fetch_in_org(pool, "SELECT * FROM case_views WHERE org_id = $1 AND id = $2", org_id, id).await?;
    decode_view(&row)
}

/// The organization's saved views, oldest first (the caller keeps the ones a user sees).
pub async fn list_views(pool: &Pool, org_id: &str) -> Result<Vec<View>> {
    let rows = sqlx::query("SELECT * FROM case_views WHERE org_id = $1 ORDER BY created_at, id")
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_view).collect()
}

pub async fn delete_view(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM case_views WHERE org_id = $1 AND id = $2").bind(org_id).bind(id).execute(pool).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The queues a user is a member of (queue views are for their members).
pub async fn queues_of_user(pool: &Pool, org_id: &str, user_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT queue_id FROM queue_members WHERE org_id = $1 AND user_id = $2 ORDER BY queue_id")
        .bind(org_id)
        .bind(user_id)
        .fetch_all(pool)
        .await?)
}
