// Automation rules, their runs and cursor, notifications and macros, compiled once per backend
// like `queries.rs` (this file is `include!`d into a child module of each backend's `q`).

use casedesk_domain::automation::Rule;
use casedesk_domain::macros::Macro;
use casedesk_domain::notification::Notification;

fn decode_rule(row: &DbRow) -> Result<Rule> {
    let conditions: String = row.try_get("conditions")?;
    let actions: String = row.try_get("actions")?;
    Ok(Rule {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        trigger: row.try_get("trigger_kind")?,
        after_minutes: row.try_get("after_minutes")?,
        conditions: serde_json::from_str(&conditions).map_err(|e| corrupt("conditions", e))?,
        actions: serde_json::from_str(&actions).map_err(|e| corrupt("actions", e))?,
        active: row.try_get("active")?,
        position: row.try_get("position")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// Stores a new rule. The organization's first one starts its evaluator's cursor at the head
/// of the change feed: rules act on what happens after them, not on the history.
pub async fn insert_rule(pool: &Pool, r: &Rule) -> Result<()> {
    let mut tx = pool.begin().await?;
    start_feed_cursor(&mut tx, FeedCursors::Automation, &r.org_id).await?;
    sqlx::query(
        "INSERT INTO automation_rules (id, org_id, name, description, trigger_kind, after_minutes, conditions, actions, \
         active, position, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&r.id)
    .bind(&r.org_id)
    .bind(&r.name)
    .bind(&r.description)
    .bind(&r.trigger)
    .bind(r.after_minutes)
    .bind(json_text(&r.conditions)?)
    .bind(json_text(&r.actions)?)
    .bind(r.active)
    .bind(r.position)
    .bind(&r.created_by)
    .bind(us(r.created_at))
    .bind(us(r.updated_at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_rule(pool: &Pool, org_id: &str, id: &str) -> Result<Rule> {
    decode_rule(&fetch_in_org(pool, "SELECT * FROM automation_rules WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The organization's rules, newest first.
pub async fn list_rules(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<Rule>> {
    list_page(pool, "SELECT r.* FROM automation_rules r", "r", org_id, |_| {}, page, "rules", decode_rule, |r| {
        (us(r.created_at), r.id.clone())
    })
    .await
}

pub async fn update_rule(pool: &Pool, r: &Rule) -> Result<()> {
    let done = sqlx::query(
        "UPDATE automation_rules SET name = $1, description = $2, trigger_kind = $3, after_minutes = $4, conditions = $5, \
         actions = $6, active = $7, position = $8, updated_at = $9 WHERE org_id = $10 AND id = $11",
    )
    .bind(&r.name)
    .bind(&r.description)
    .bind(&r.trigger)
    .bind(r.after_minutes)
    .bind(json_text(&r.conditions)?)
    .bind(json_text(&r.actions)?)
    .bind(r.active)
    .bind(r.position)
    .bind(us(r.updated_at))
    .bind(&r.org_id)
    .bind(&r.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes a rule with its run log.
pub async fn delete_rule(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "automation_rules", org_id, id).await?;
    sqlx::query("DELETE FROM automation_runs WHERE org_id = $1 AND rule_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    delete_in_org(&mut tx, "automation_rules", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// The organization's active rules, in the order they run: by position, then age.
pub async fn active_rules(pool: &Pool, org_id: &str) -> Result<Vec<Rule>> {
    sqlx::query(
        "SELECT * FROM automation_rules WHERE org_id = $1 AND active = TRUE ORDER BY position, created_at, id",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(decode_rule)
    .collect()
}

/// Whether the organization has an active rule that events trigger (time rules run from the
/// background job instead): without one, a write has no rules to wait for.
pub async fn has_event_rules(pool: &Pool, org_id: &str) -> Result<bool> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM automation_rules \
         WHERE org_id = $1 AND active = TRUE AND trigger_kind NOT LIKE 'time.%' LIMIT 1) r",
    )
    .bind(org_id)
    .fetch_one(pool)
    .await?;
    Ok(found > 0)
}

/// The organizations whose rule evaluators have events to read.
pub async fn automation_orgs_due(pool: &Pool) -> Result<Vec<String>> {
    orgs_behind(pool, FeedCursors::Automation).await
}

/// Up to `limit` events after the organization's rule cursor, in feed order, each with its
/// feed position `(txid, seq)`. Empty when the organization has no rules.
pub async fn automation_events(pool: &Pool, org_id: &str, limit: u32) -> Result<Vec<((i64, i64), Event)>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FEED_COLUMNS} FROM case_events e \
         JOIN automation_cursors c ON c.org_id = e.org_id \
         WHERE e.org_id = $1 AND {}{} ORDER BY e.txid, e.seq LIMIT $2",
        super::super::feed_after("c.txid", "c.seq"),
        super::super::FEED_VISIBLE
    )))
    .bind(org_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok(((r.try_get("txid")?, r.try_get("seq")?), decode_event(r)?))).collect()
}

/// Whether the case has committed events after the rule cursor, readable yet or not (on
/// PostgreSQL an event is read only once every older transaction ended), or a rule run on it
/// claimed since `since` and not finished (another instance's, under way).
pub async fn automation_backlog(pool: &Pool, org_id: &str, case_id: &str, since: Timestamp) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM case_events e JOIN automation_cursors c ON c.org_id = e.org_id \
         WHERE e.org_id = $1 AND e.case_id = $2 AND {} LIMIT 1) x) \
         + (SELECT COUNT(*) FROM (SELECT 1 FROM automation_runs r WHERE r.case_id = $2 AND r.org_id = $1 \
         AND r.finished_at IS NULL AND r.created_at >= $3 LIMIT 1) y)",
        super::super::feed_after("c.txid", "c.seq")
    )))
    .bind(org_id)
    .bind(case_id)
    .bind(us(since))
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// Records that a claimed run's actions are done.
pub async fn finish_rule_run(pool: &Pool, rule_id: &str, run_key: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE automation_runs SET finished_at = $1 WHERE rule_id = $2 AND run_key = $3")
        .bind(us(now))
        .bind(rule_id)
        .bind(run_key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Moves the organization's rule cursor forward to `(txid, seq)`; never back (an instance that
/// read an older batch finishing late leaves a newer position alone).
pub async fn advance_automation_cursor(pool: &Pool, org_id: &str, txid: i64, seq: i64) -> Result<()> {
    sqlx::query("UPDATE automation_cursors SET txid = $1, seq = $2 WHERE org_id = $3 AND (txid, seq) < ($1, $2)")
        .bind(txid)
        .bind(seq)
        .bind(org_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records that `rule_id` runs for `run_key`; `false` when it already did (another instance, or
/// an earlier pass, claimed it first).
pub async fn claim_rule_run(
    pool: &Pool,
    org_id: &str,
    rule_id: &str,
    run_key: &str,
    case_id: &str,
    depth: i64,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO automation_runs (rule_id, run_key, org_id, case_id, depth, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (rule_id, run_key) DO NOTHING",
    )
    .bind(rule_id)
    .bind(run_key)
    .bind(org_id)
    .bind(case_id)
    .bind(depth)
    .bind(us(now))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The chain depth of the rule's latest run (`None`: it never ran).
pub async fn last_rule_depth(pool: &Pool, org_id: &str, rule_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT depth FROM automation_runs WHERE org_id = $1 AND rule_id = $2 ORDER BY created_at DESC, depth DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(rule_id)
    .fetch_optional(pool)
    .await?)
}

/// For a time trigger: up to `limit` cases whose state began at or before `cutoff` (the anchor)
/// and that the rule has not run for in this episode yet, as `(case id, anchor)`, oldest first.
pub async fn time_rule_candidates(
    pool: &Pool,
    org_id: &str,
    rule_id: &str,
    trigger: &str,
    cutoff: Timestamp,
    after: Option<&(Timestamp, String)>,
    limit: u32,
) -> Result<Vec<(String, Timestamp)>> {
    let active = "c.status IN ('new', 'open', 'pending', 'on_hold')";
    let (state, anchor) = match trigger {
        "time.pending" => (
            "c.status = 'pending'".to_string(),
            "COALESCE((SELECT MAX(e.created_at) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'status.changed'), c.created_at)",
        ),
        "time.resolved" => ("c.status = 'resolved' AND c.resolved_at IS NOT NULL".to_string(), "c.resolved_at"),
        "time.unassigned" => (
            format!("c.owner_id IS NULL AND {active}"),
            "COALESCE((SELECT MAX(e.created_at) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'field.changed' \
             AND e.data LIKE '%\"field\":\"owner_id\"%'), c.created_at)",
        ),
        "time.no_agent_reply" => (
            format!("c.is_waiting = TRUE AND {active}"),
            "COALESCE((SELECT MAX(e.created_at) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'comment.added' \
             AND e.data LIKE '%\"author_type\":\"customer\"%'), c.created_at)",
        ),
        _ => return Ok(Vec::new()),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT x.id, x.anchor FROM (SELECT c.id, {anchor} AS anchor FROM cases c \
         WHERE c.org_id = $1 AND c.deleted_at IS NULL AND {state}) x \
         WHERE x.anchor <= $2 AND NOT EXISTS (SELECT 1 FROM automation_runs r WHERE r.rule_id = $3 \
         AND r.run_key = 't:' || x.id || ':' || CAST(x.anchor AS TEXT)) AND (x.anchor, x.id) > ($5, $6) \
         ORDER BY x.anchor, x.id LIMIT $4"
    )))
    .bind(org_id)
    .bind(us(cutoff))
    .bind(rule_id)
    .bind(i64::from(limit))
    .bind(after.map_or(i64::MIN, |a| us(a.0)))
    .bind(after.map_or("", |a| a.1.as_str()))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, ts(r.try_get("anchor")?)?))).collect()
}

/// The organizations with an active time rule.
pub async fn orgs_with_time_rules(pool: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT org_id FROM automation_rules WHERE active = TRUE AND trigger_kind LIKE 'time.%' ORDER BY org_id",
    )
    .fetch_all(pool)
    .await?)
}

/// Appends timeline entries to a case (a rule's run), in one transaction.
pub async fn append_case_events(pool: &Pool, org_id: &str, case_id: &str, actor_id: &str, events: &[NewEvent]) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "cases", org_id, case_id).await?;
    insert_events(&mut tx, org_id, case_id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

/// Up to `limit` open (active) cases of the organization after case id `after`, by id: the
/// bounded scan of a rule's dry run.
pub async fn open_cases_after(pool: &Pool, org_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<Case>> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.deleted_at IS NULL \
         AND c.status IN ('new', 'open', 'pending', 'on_hold') AND c.id > $2 ORDER BY c.id LIMIT $3",
        sql::CASE_COLUMNS
    )))
    .bind(org_id)
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| decode_case(r).map(|(_, c)| c))
    .collect()
}

// ---- notifications --------------------------------------------------------------------------

fn decode_notification(row: &DbRow) -> Result<Notification> {
    Ok(Notification {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        case_id: row.try_get("case_id")?,
        rule_id: row.try_get("rule_id")?,
        message: row.try_get("message")?,
        read_at: opt_ts(row.try_get("read_at")?)?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// Stores notifications, all or none.
pub async fn insert_notifications(pool: &Pool, items: &[Notification]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for n in items {
        sqlx::query(
            "INSERT INTO notifications (id, org_id, user_id, case_id, rule_id, message, read_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&n.id)
        .bind(&n.org_id)
        .bind(&n.user_id)
        .bind(&n.case_id)
        .bind(&n.rule_id)
        .bind(&n.message)
        .bind(opt_us(n.read_at))
        .bind(us(n.created_at))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A user's notifications, newest first; only unread ones with `unread_only`.
pub async fn list_notifications(
    pool: &Pool,
    org_id: &str,
    user_id: &str,
    unread_only: bool,
    page: &PageRequest,
) -> Result<Page<Notification>> {
    let filter = |q: &mut Sql| {
        q.push(" AND n.user_id = ");
        let u = q.arg(Arg::Text(user_id.into()));
        q.push(&u);
        if unread_only {
            q.push(" AND n.read_at IS NULL");
        }
    };
    list_page(pool, "SELECT n.* FROM notifications n", "n", org_id, filter, page, "notifications", decode_notification, |n| {
        (us(n.created_at), n.id.clone())
    })
    .await
}

/// Marks one of the user's notifications read (kept as first read); NotFound if it is not theirs.
pub async fn mark_notification_read(pool: &Pool, org_id: &str, user_id: &str, id: &str, now: Timestamp) -> Result<Notification> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE org_id = $2 AND user_id = $3 AND id = $4",
    )
    .bind(us(now))
    .bind(org_id)
    .bind(user_id)
    .bind(id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    decode_notification(&fetch_in_org(pool, "SELECT * FROM notifications WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

// ---- macros -------------------------------------------------------------------------------

fn decode_macro(row: &DbRow) -> Result<Macro> {
    let actions: String = row.try_get("actions")?;
    Ok(Macro {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        body: row.try_get("body")?,
        internal: row.try_get("internal")?,
        actions: serde_json::from_str(&actions).map_err(|e| corrupt("actions", e))?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_macro(pool: &Pool, m: &Macro) -> Result<()> {
    sqlx::query(
        "INSERT INTO macros (id, org_id, owner_id, name, body, internal, actions, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&m.id)
    .bind(&m.org_id)
    .bind(&m.owner_id)
    .bind(&m.name)
    .bind(&m.body)
    .bind(m.internal)
    .bind(json_text(&m.actions)?)
    .bind(&m.created_by)
    .bind(us(m.created_at))
    .bind(us(m.updated_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_macro(pool: &Pool, org_id: &str, id: &str) -> Result<Macro> {
    decode_macro(&fetch_in_org(pool, "SELECT * FROM macros WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The macros `user_id` sees: the shared ones and their own, newest first.
pub async fn list_macros(pool: &Pool, org_id: &str, user_id: &str, page: &PageRequest) -> Result<Page<Macro>> {
    let filter = |q: &mut Sql| {
        q.push(" AND (m.owner_id IS NULL OR m.owner_id = ");
        let u = q.arg(Arg::Text(user_id.into()));
        q.push(&u).push(")");
    };
    list_page(pool, "SELECT m.* FROM macros m", "m", org_id, filter, page, "macros", decode_macro, |m| {
        (us(m.created_at), m.id.clone())
    })
    .await
}

pub async fn update_macro(pool: &Pool, m: &Macro) -> Result<()> {
    let done = sqlx::query(
        "UPDATE macros SET name = $1, body = $2, internal = $3, actions = $4, updated_at = $5 WHERE org_id = $6 AND id = $7",
    )
    .bind(&m.name)
    .bind(&m.body)
    .bind(m.internal)
    .bind(json_text(&m.actions)?)
    .bind(us(m.updated_at))
    .bind(&m.org_id)
    .bind(&m.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn delete_macro(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "macros", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}
