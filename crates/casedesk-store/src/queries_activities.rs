// Activities and tasks on cases, compiled once per backend like `queries.rs` (this file is
// `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::activity::{Activity, ActivityKind};

fn decode_activity(row: &DbRow) -> Result<Activity> {
    Ok(Activity {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        kind: ActivityKind::parse(row.try_get("kind")?).map_err(|e| corrupt("kind", e))?,
        subject: row.try_get("subject")?,
        note: row.try_get("note")?,
        with_whom: row.try_get("with_whom")?,
        outcome: row.try_get("outcome")?,
        occurred_at: opt_ts(row.try_get("occurred_at")?)?,
        duration_minutes: row.try_get("duration_minutes")?,
        assignee_id: row.try_get("assignee_id")?,
        due_at: opt_ts(row.try_get("due_at")?)?,
        completed_at: opt_ts(row.try_get("completed_at")?)?,
        completed_by: row.try_get("completed_by")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// Inserts or updates an activity with its timeline entry on the case.
pub async fn put_activity(pool: &Pool, a: &Activity, event: &NewEvent, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO case_activities (id, org_id, case_id, kind, subject, note, with_whom, outcome, occurred_at, \
         duration_minutes, assignee_id, due_at, completed_at, completed_by, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, note = excluded.note, \
         with_whom = excluded.with_whom, outcome = excluded.outcome, occurred_at = excluded.occurred_at, \
         duration_minutes = excluded.duration_minutes, assignee_id = excluded.assignee_id, due_at = excluded.due_at, \
         completed_at = excluded.completed_at, completed_by = excluded.completed_by, updated_at = excluded.updated_at",
    )
    .bind(&a.id)
    .bind(&a.org_id)
    .bind(&a.case_id)
    .bind(a.kind.as_str())
    .bind(&a.subject)
    .bind(&a.note)
    .bind(&a.with_whom)
    .bind(&a.outcome)
    .bind(opt_us(a.occurred_at))
    .bind(a.duration_minutes)
    .bind(&a.assignee_id)
    .bind(opt_us(a.due_at))
    .bind(opt_us(a.completed_at))
    .bind(&a.completed_by)
    .bind(&a.created_by)
    .bind(us(a.created_at))
    .bind(us(a.updated_at))
    .execute(&mut *tx)
    .await?;
    insert_events(&mut tx, &a.org_id, &a.case_id, actor_id, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_activity(pool: &Pool, org_id: &str, id: &str) -> Result<Activity> {
    let row = fetch_in_org(
        pool,
        "SELECT a.* FROM case_activities a JOIN cases c ON c.id = a.case_id \
         WHERE a.org_id = $1 AND a.id = $2 AND c.deleted_at IS NULL",
        org_id,
        id,
    )
    .await?;
    decode_activity(&row)
}

/// A case's activities and tasks, oldest first.
pub async fn list_activities(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<Activity>> {
    let rows = sqlx::query(
        "SELECT a.* FROM case_activities a WHERE a.org_id = $1 AND a.case_id = $2 ORDER BY a.created_at, a.id LIMIT 1000",
    )
    .bind(org_id)
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_activity).collect()
}

pub async fn delete_activity(pool: &Pool, a: &Activity, event: &NewEvent, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "case_activities", &a.org_id, &a.id).await?;
    insert_events(&mut tx, &a.org_id, &a.case_id, actor_id, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}

/// Open tasks, soonest due first (undated last), optionally of one assignee and due before an
/// instant; at most `limit`.
pub async fn open_tasks(
    pool: &Pool,
    org_id: &str,
    assignee_id: Option<&str>,
    due_before: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<Activity>> {
    let mut q = Sql::default();
    let o = q.arg(Arg::Text(org_id.into()));
    q.push(&format!(
        "SELECT a.* FROM case_activities a JOIN cases c ON c.id = a.case_id WHERE a.org_id = {o} \
         AND a.kind = 'task' AND a.completed_at IS NULL AND c.deleted_at IS NULL"
    ));
    if let Some(user) = assignee_id {
        let p = q.arg(Arg::Text(user.into()));
        q.push(&format!(" AND a.assignee_id = {p}"));
    }
    if let Some(before) = due_before {
        let p = q.arg(Arg::Int(us(before)));
        q.push(&format!(" AND a.due_at < {p}"));
    }
    let l = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY a.due_at IS NULL, a.due_at, a.id LIMIT {l}"));
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    rows.iter().map(decode_activity).collect()
}
