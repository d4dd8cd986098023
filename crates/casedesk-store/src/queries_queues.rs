// Queues and their members, compiled once per backend like `queries.rs` (this file is
// `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::queue::{AssignmentMethod, MemberRole, Queue, QueueMember};

const QUEUE_COLUMNS: &str = "q.id, q.org_id, q.name, q.description, q.assignment_method, q.sla_policy_id, q.calendar_id, \
    q.vip_tiers, q.vip_priority, q.escalation_queue_id, q.created_at, q.updated_at, q.time_tracking";

pub(crate) fn decode_queue(row: &DbRow) -> Result<Queue> {
    let tiers: String = row.try_get("vip_tiers")?;
    let vip_priority: Option<i64> = row.try_get("vip_priority")?;
    Ok(Queue {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        assignment_method: AssignmentMethod::parse(row.try_get("assignment_method")?)
            .map_err(|e| corrupt("assignment_method", e))?,
        sla_policy_id: row.try_get("sla_policy_id")?,
        calendar_id: row.try_get("calendar_id")?,
        vip_tiers: serde_json::from_str(&tiers).map_err(|e| corrupt("vip_tiers", e))?,
        vip_priority: vip_priority
            .map(|r| Priority::from_rank(r).ok_or_else(|| corrupt("vip_priority", "out of range")))
            .transpose()?,
        escalation_queue_id: row.try_get("escalation_queue_id")?,
        time_tracking: row.try_get("time_tracking")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_queue(pool: &Pool, q: &Queue, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO case_queues (id, org_id, name, description, assignment_method, sla_policy_id, calendar_id, \
         vip_tiers, vip_priority, escalation_queue_id, created_at, updated_at, time_tracking) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&q.id)
    .bind(&q.org_id)
    .bind(&q.name)
    .bind(&q.description)
    .bind(q.assignment_method.as_str())
    .bind(&q.sla_policy_id)
    .bind(&q.calendar_id)
    .bind(json_text(&q.vip_tiers)?)
    .bind(q.vip_priority.map(Priority::rank))
    .bind(&q.escalation_queue_id)
    .bind(us(q.created_at))
    .bind(us(q.updated_at))
    .bind(q.time_tracking)
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_queue(pool: &Pool, org_id: &str, id: &str) -> Result<Queue> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {QUEUE_COLUMNS} FROM case_queues q WHERE q.org_id = $1 AND q.id = $2"
    )))
    .bind(org_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode_queue(&row)
}

pub async fn list_queues(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<Queue>> {
    let key = |q: &Queue| (us(q.created_at), q.id.clone());
    let select = format!("SELECT {QUEUE_COLUMNS} FROM case_queues q");
    list_page(pool, &select, "q", org_id, |_| {}, page, "queues", decode_queue, key).await
}

pub async fn update_queue(pool: &Pool, q: &Queue) -> Result<()> {
    let done = sqlx::query(
        "UPDATE case_queues SET name = $1, description = $2, assignment_method = $3, sla_policy_id = $4, \
         calendar_id = $5, vip_tiers = $6, vip_priority = $7, escalation_queue_id = $8, updated_at = $9, \
         time_tracking = $12 WHERE org_id = $10 AND id = $11",
    )
    .bind(&q.name)
    .bind(&q.description)
    .bind(q.assignment_method.as_str())
    .bind(&q.sla_policy_id)
    .bind(&q.calendar_id)
    .bind(json_text(&q.vip_tiers)?)
    .bind(q.vip_priority.map(Priority::rank))
    .bind(&q.escalation_queue_id)
    .bind(us(q.updated_at))
    .bind(&q.org_id)
    .bind(&q.id)
    .bind(q.time_tracking)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete_queue(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "case_queues", org_id, id).await?;
    let uses = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND queue_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("the queue has {n} case(s)")).await?;
    let uses = "SELECT COUNT(*) FROM case_queues WHERE org_id = $1 AND escalation_queue_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} queue(s) escalate to this one")).await?;
    sqlx::query("DELETE FROM queue_members WHERE queue_id = $1").bind(id).execute(&mut *tx).await?;
    delete_in_org(&mut tx, "case_queues", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

// ---- members -----------------------------------------------------------------------------------

fn decode_member(row: &DbRow) -> Result<QueueMember> {
    let skills: String = row.try_get("skills")?;
    Ok(QueueMember {
        queue_id: row.try_get("queue_id")?,
        user_id: row.try_get("user_id")?,
        org_id: row.try_get("org_id")?,
        role: MemberRole::parse(row.try_get("role")?).map_err(|e| corrupt("role", e))?,
        skills: serde_json::from_str(&skills).map_err(|e| corrupt("skills", e))?,
        vip: row.try_get("vip")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// A queue's members in rotation order (the order they joined).
pub async fn list_members(pool: &Pool, org_id: &str, queue_id: &str) -> Result<Vec<QueueMember>> {
    let rows = sqlx::query(
        "SELECT m.* FROM queue_members m WHERE m.org_id = $1 AND m.queue_id = $2 ORDER BY m.created_at, m.user_id",
    )
    .bind(org_id)
    .bind(queue_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_member).collect()
}

pub async fn get_member(pool: &Pool, org_id: &str, queue_id: &str, user_id: &str) -> Result<QueueMember> {
    let row = sqlx::query("SELECT m.* FROM queue_members m WHERE m.org_id = $1 AND m.queue_id = $2 AND m.user_id = $3")
        .bind(org_id)
        .bind(queue_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_member(&row)
}

/// Adds a member or changes one; a member keeps their place in the rotation.
pub async fn put_member(pool: &Pool, m: &QueueMember) -> Result<()> {
    sqlx::query(
        "INSERT INTO queue_members (queue_id, user_id, org_id, role, skills, vip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (queue_id, user_id) DO UPDATE SET role = excluded.role, skills = excluded.skills, vip = excluded.vip",
    )
    .bind(&m.queue_id)
    .bind(&m.user_id)
    .bind(&m.org_id)
    .bind(m.role.as_str())
    .bind(json_text(&m.skills)?)
    .bind(m.vip)
    .bind(us(m.created_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_member(pool: &Pool, org_id: &str, queue_id: &str, user_id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM queue_members WHERE org_id = $1 AND queue_id = $2 AND user_id = $3")
        .bind(org_id)
        .bind(queue_id)
        .bind(user_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The non-manual queues `user_id` is a member of that have unassigned active cases waiting.
pub async fn queues_waiting_for(pool: &Pool, org_id: &str, user_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT m.queue_id FROM queue_members m JOIN case_queues q ON q.id = m.queue_id \
         WHERE m.org_id = $1 AND m.user_id = $2 AND q.assignment_method <> 'manual' AND EXISTS ( \
           SELECT 1 FROM cases c WHERE c.queue_id = m.queue_id AND c.owner_id IS NULL AND c.deleted_at IS NULL \
           AND c.status IN ('new', 'open', 'pending', 'on_hold')) \
         ORDER BY m.created_at",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Unassigned active cases of a queue, most urgent then oldest first: the backlog the router
/// works through when someone becomes eligible.
pub async fn unassigned_cases(pool: &Pool, org_id: &str, queue_id: &str, limit: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.id FROM cases c WHERE c.queue_id = $1 AND c.org_id = $2 AND c.owner_id IS NULL \
         AND c.deleted_at IS NULL AND c.status IN ('new', 'open', 'pending', 'on_hold') \
         ORDER BY c.priority DESC, c.created_at, c.seq LIMIT $3",
    )
    .bind(queue_id)
    .bind(org_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

// ---- routing -----------------------------------------------------------------------------------

/// Reads the queue and its members' load inside `tx`, locking them on PostgreSQL (the queue row
/// first, then the members' user rows in id order, so lock order is the same everywhere).
async fn load_route(tx: &mut Tx<'_>, org_id: &str, queue_id: &str) -> Result<RouteContext> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {QUEUE_COLUMNS}, q.rr_last_user_id FROM case_queues q WHERE q.org_id = $1 AND q.id = $2{}",
        super::super::FOR_UPDATE
    )))
    .bind(org_id)
    .bind(queue_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let queue = decode_queue(&row)?;
    let last_turn: Option<String> = row.try_get("rr_last_user_id")?;
    if !super::super::FOR_UPDATE.is_empty() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT u.id FROM users u WHERE u.id IN (SELECT user_id FROM queue_members WHERE queue_id = $1) \
             ORDER BY u.id{}",
            super::super::FOR_UPDATE
        )))
        .bind(queue_id)
        .fetch_all(&mut **tx)
        .await?;
    }
    let rows = sqlx::query(
        "SELECT m.user_id, m.skills, m.vip, u.availability, u.is_active, u.max_open_cases, u.last_assigned_at, \
         (SELECT COUNT(*) FROM cases c WHERE c.owner_id = m.user_id AND c.deleted_at IS NULL \
          AND c.status IN ('new', 'open', 'pending', 'on_hold')) AS open_cases \
         FROM queue_members m JOIN users u ON u.id = m.user_id \
         WHERE m.queue_id = $1 ORDER BY m.created_at, m.user_id",
    )
    .bind(queue_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut members = Vec::with_capacity(rows.len());
    for r in &rows {
        let skills: String = r.try_get("skills")?;
        members.push(casedesk_domain::routing::Member {
            user_id: r.try_get("user_id")?,
            skills: serde_json::from_str(&skills).map_err(|e| corrupt("skills", e))?,
            vip: r.try_get("vip")?,
            availability: Availability::parse(r.try_get("availability")?).map_err(|e| corrupt("availability", e))?,
            active: r.try_get("is_active")?,
            max_open_cases: r.try_get("max_open_cases")?,
            open_cases: r.try_get("open_cases")?,
            last_assigned_at: opt_ts(r.try_get("last_assigned_at")?)?,
        });
    }
    Ok(RouteContext { queue, members, last_turn })
}

/// Records who got the case: their last-assignment time, and the queue's rotation turn.
async fn record_turn(tx: &mut Tx<'_>, queue_id: &str, assigned: Option<&str>, now: Timestamp) -> Result<()> {
    let Some(user_id) = assigned else { return Ok(()) };
    sqlx::query("UPDATE users SET last_assigned_at = $1 WHERE id = $2").bind(us(now)).bind(user_id).execute(&mut **tx).await?;
    sqlx::query("UPDATE case_queues SET rr_last_user_id = $1 WHERE id = $2 AND assignment_method = 'round_robin'")
        .bind(user_id)
        .bind(queue_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Creates a case routed through `queue_id`: reads the queue's members, lets `decide` choose
/// (assignee, priority, SLA clocks, extra events), and writes it all in one transaction.
pub async fn create_case_routed(
    pool: &Pool,
    org_id: &str,
    queue_id: &str,
    idem: Option<&IdempotencyRecord>,
    decide: impl FnOnce(&RouteContext) -> RoutedWrite,
) -> Result<Case> {
    let mut tx = pool.begin().await?;
    let ctx = load_route(&mut tx, org_id, queue_id).await?;
    let w = decide(&ctx);
    let mut case = w.case;
    case.case_number = next_case_number(&mut tx, &case.org_id).await?;
    let doc = new_case_doc(&mut tx, &case).await?;
    insert_case_row(&mut tx, &case, &doc).await?;
    let mut events = vec![timeline::created(&case, timeline::CASE_CREATED)];
    events.extend(w.events);
    insert_events(&mut tx, &case.org_id, &case.id, &case.created_by, &events).await?;
    record_turn(&mut tx, queue_id, w.assigned.as_deref(), case.updated_at).await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(case)
}

/// Writes a changed case routed through `queue_id` (moved there, escalated, or taken from its
/// backlog) if it is still at `expected_version` ([`StoreError::Stale`] otherwise). `decide`
/// returning `None` writes nothing.
pub async fn update_case_routed(
    pool: &Pool,
    org_id: &str,
    queue_id: &str,
    expected_version: i64,
    actor_id: &str,
    decide: impl FnOnce(&RouteContext) -> Option<RoutedWrite>,
) -> Result<Option<Case>> {
    let mut tx = pool.begin().await?;
    let ctx = load_route(&mut tx, org_id, queue_id).await?;
    let Some(w) = decide(&ctx) else { return Ok(None) };
    let seq = write_case(&mut tx, &w.case, expected_version).await?;
    if w.events.iter().any(|e| matches!(e.data.get("field").and_then(|f| f.as_str()), Some("tags"))) {
        sqlx::query("DELETE FROM case_tags WHERE case_seq = $1").bind(seq).execute(&mut *tx).await?;
        insert_tags(&mut tx, &w.case.org_id, seq, &w.case.tags).await?;
    }
    if changes_search_text(&w.events) {
        reindex(&mut tx, seq, &w.case.id).await?;
    }
    insert_events(&mut tx, &w.case.org_id, &w.case.id, actor_id, &w.events).await?;
    record_turn(&mut tx, queue_id, w.assigned.as_deref(), w.case.updated_at).await?;
    tx.commit().await?;
    Ok(Some(w.case))
}

/// The incidents linked to a problem, oldest first.
pub async fn incidents_of(pool: &Pool, org_id: &str, problem_id: &str) -> Result<Vec<Case>> {
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(incidents_sql())).bind(problem_id).bind(org_id).fetch_all(pool).await?;
    rows.iter().map(|r| decode_case(r).map(|(_, c)| c)).collect()
}

/// [`incidents_of`]'s query. The rows are picked through the problem's index in a subquery:
/// asked directly, SQLite prefers walking the organization's creation-time index (it yields the
/// order without a sort) and reads every case of the organization to find a few.
pub(crate) fn incidents_sql() -> String {
    format!(
        "SELECT {} FROM cases c \
         WHERE c.seq IN (SELECT p.seq FROM cases p WHERE p.problem_id = $1 AND p.org_id = $2) \
           AND c.deleted_at IS NULL \
         ORDER BY c.created_at, c.seq LIMIT 1000",
        sql::CASE_COLUMNS
    )
}
