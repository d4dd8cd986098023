// Milestones and queue milestone templates, compiled once per backend like `queries.rs` (this
// file is `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::milestone::{Milestone, MilestoneTemplate, Target};

fn decode_milestone(row: &DbRow) -> Result<Milestone> {
    let kind: String = row.try_get("target_kind")?;
    Ok(Milestone {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        name: row.try_get("name")?,
        position: row.try_get("position")?,
        target: Target::from_parts(&kind, row.try_get("target_minutes")?, opt_ts(row.try_get("target_at")?)?)
            .map_err(|e| corrupt("target", e))?,
        due_at: opt_ts(row.try_get("due_at")?)?,
        completed_at: opt_ts(row.try_get("completed_at")?)?,
        completed_by: row.try_get("completed_by")?,
        overdue_at: opt_ts(row.try_get("overdue_at")?)?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// A case's milestones in order.
pub async fn list_milestones(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<Milestone>> {
    let rows = sqlx::query(
        "SELECT m.* FROM case_milestones m WHERE m.org_id = $1 AND m.case_id = $2 ORDER BY m.position, m.created_at, m.id",
    )
    .bind(org_id)
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_milestone).collect()
}

pub async fn get_milestone(pool: &Pool, org_id: &str, id: &str) -> Result<Milestone> {
    let row = fetch_in_org(pool, "SELECT m.* FROM case_milestones m WHERE m.org_id = $1 AND m.id = $2", org_id, id).await?;
    decode_milestone(&row)
}

/// Writes a case's milestones (inserted or updated: a completion moves the due times of those
/// after it) with timeline entries, in one transaction.
pub async fn put_milestones(pool: &Pool, milestones: &[Milestone], events: &[NewEvent], actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    for m in milestones {
        sqlx::query(
            "INSERT INTO case_milestones (id, org_id, case_id, name, position, target_kind, target_minutes, target_at, \
             due_at, completed_at, completed_by, overdue_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, position = excluded.position, target_kind = excluded.target_kind, \
             target_minutes = excluded.target_minutes, target_at = excluded.target_at, due_at = excluded.due_at, \
             completed_at = excluded.completed_at, completed_by = excluded.completed_by, \
             overdue_at = excluded.overdue_at, updated_at = excluded.updated_at",
        )
        .bind(&m.id)
        .bind(&m.org_id)
        .bind(&m.case_id)
        .bind(&m.name)
        .bind(m.position)
        .bind(m.target.kind())
        .bind(m.target.minutes())
        .bind(opt_us(m.target.at()))
        .bind(opt_us(m.due_at))
        .bind(opt_us(m.completed_at))
        .bind(&m.completed_by)
        .bind(opt_us(m.overdue_at))
        .bind(us(m.created_at))
        .bind(us(m.updated_at))
        .execute(&mut *tx)
        .await?;
    }
    if let Some(first) = milestones.first() {
        insert_events(&mut tx, &first.org_id, &first.case_id, actor_id, events).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete_milestone(pool: &Pool, m: &Milestone, event: &NewEvent, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "case_milestones", &m.org_id, &m.id).await?;
    insert_events(&mut tx, &m.org_id, &m.case_id, actor_id, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}

/// Milestones due before `now`, not completed and not yet flagged: the overdue sweep's work list.
pub async fn milestones_due(pool: &Pool, now: Timestamp, limit: i64) -> Result<Vec<Milestone>> {
    let rows = sqlx::query(
        "SELECT m.* FROM case_milestones m JOIN cases c ON c.id = m.case_id \
         WHERE m.due_at < $1 AND m.completed_at IS NULL AND m.overdue_at IS NULL AND c.deleted_at IS NULL \
         ORDER BY m.due_at LIMIT $2",
    )
    .bind(us(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_milestone).collect()
}

/// Flags a milestone overdue with its timeline entry, unless another instance did already;
/// whether this call did.
pub async fn mark_overdue(pool: &Pool, m: &Milestone, now: Timestamp, event: &NewEvent) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE case_milestones SET overdue_at = $1 WHERE id = $2 AND overdue_at IS NULL AND completed_at IS NULL",
    )
    .bind(us(now))
    .bind(&m.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let by: Option<String> = sqlx::query_scalar("SELECT updated_by FROM cases WHERE id = $1").bind(&m.case_id).fetch_optional(&mut *tx).await?;
    insert_events(&mut tx, &m.org_id, &m.case_id, by.as_deref().unwrap_or("system"), std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(true)
}

fn decode_template(row: &DbRow) -> Result<MilestoneTemplate> {
    let kind: String = row.try_get("target_kind")?;
    Ok(MilestoneTemplate {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        queue_id: row.try_get("queue_id")?,
        name: row.try_get("name")?,
        position: row.try_get("position")?,
        target: Target::from_parts(&kind, row.try_get("target_minutes")?, None).map_err(|e| corrupt("target", e))?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

pub async fn list_templates(pool: &Pool, org_id: &str, queue_id: &str) -> Result<Vec<MilestoneTemplate>> {
    let rows = sqlx::query(
        "SELECT t.* FROM queue_milestone_templates t WHERE t.org_id = $1 AND t.queue_id = $2 ORDER BY t.position, t.id",
    )
    .bind(org_id)
    .bind(queue_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_template).collect()
}

/// Replaces a queue's templates.
pub async fn replace_templates(pool: &Pool, org_id: &str, queue_id: &str, templates: &[MilestoneTemplate]) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM queue_milestone_templates WHERE org_id = $1 AND queue_id = $2")
        .bind(org_id)
        .bind(queue_id)
        .execute(&mut *tx)
        .await?;
    for t in templates {
        sqlx::query(
            "INSERT INTO queue_milestone_templates (id, org_id, queue_id, name, position, target_kind, target_minutes, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.org_id)
        .bind(&t.queue_id)
        .bind(&t.name)
        .bind(t.position)
        .bind(t.target.kind())
        .bind(t.target.minutes())
        .bind(us(t.created_at))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
