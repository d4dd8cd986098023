// Webhooks and their outbox of deliveries, compiled once per backend like `queries.rs` (this file
// is `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use std::collections::HashMap;

use casedesk_domain::webhook::{Delivery, DeliveryState, Health, Webhook};

fn decode_webhook(row: &DbRow) -> Result<Webhook> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        url: row.try_get("url")?,
        events: serde_json::from_str(&events).map_err(|e| corrupt("events", e))?,
        description: row.try_get("description")?,
        secret: row.try_get("secret")?,
        active: row.try_get("active")?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
        failing_since: opt_ts(row.try_get("failing_since")?)?,
        disabled_at: opt_ts(row.try_get("disabled_at")?)?,
        disabled_reason: row.try_get("disabled_reason")?,
    })
}

fn decode_delivery(row: &DbRow) -> Result<Delivery> {
    let state: String = row.try_get("state")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        webhook_id: row.try_get("webhook_id")?,
        event_seq: row.try_get("event_seq")?,
        event_type: row.try_get("event_type")?,
        case_id: row.try_get("case_id")?,
        payload: row.try_get("payload")?,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        attempts: row.try_get("attempts")?,
        response_status: row.try_get("response_status")?,
        last_error: row.try_get("last_error")?,
        created_at: ts(row.try_get("created_at")?)?,
        last_attempt_at: opt_ts(row.try_get("last_attempt_at")?)?,
        next_attempt_at: ts(row.try_get("next_attempt_at")?)?,
        delivered_at: opt_ts(row.try_get("delivered_at")?)?,
    })
}

/// Stores a new webhook. The organization's first one also starts its dispatcher's cursor at
/// the head of the change feed: a webhook gets the events that come after it, not the history.
pub async fn insert_webhook(pool: &Pool, w: &Webhook) -> Result<()> {
    let mut tx = pool.begin().await?;
    start_feed_cursor(&mut tx, FeedCursors::Webhooks, &w.org_id).await?;
    sqlx::query(
        "INSERT INTO webhooks (id, org_id, url, events, description, secret, active, created_by, created_at, updated_at, \
         failing_since, disabled_at, disabled_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&w.id)
    .bind(&w.org_id)
    .bind(&w.url)
    .bind(json_text(&w.events)?)
    .bind(&w.description)
    .bind(&w.secret)
    .bind(w.active)
    .bind(&w.created_by)
    .bind(us(w.created_at))
    .bind(us(w.updated_at))
    .bind(opt_us(w.failing_since))
    .bind(opt_us(w.disabled_at))
    .bind(&w.disabled_reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_webhook(pool: &Pool, org_id: &str, id: &str) -> Result<Webhook> {
    decode_webhook(&fetch_in_org(pool, "SELECT * FROM webhooks WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The organization's webhooks, newest first.
pub async fn list_webhooks(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<Webhook>> {
    list_page(pool, "SELECT w.* FROM webhooks w", "w", org_id, |_| {}, page, "webhooks", decode_webhook, |w| {
        (us(w.created_at), w.id.clone())
    })
    .await
}

/// Writes what an admin can change and the failure state.
pub async fn update_webhook(pool: &Pool, w: &Webhook) -> Result<()> {
    let done = sqlx::query(
        "UPDATE webhooks SET url = $1, events = $2, description = $3, active = $4, updated_at = $5, failing_since = $6, \
         disabled_at = $7, disabled_reason = $8 WHERE org_id = $9 AND id = $10",
    )
    .bind(&w.url)
    .bind(json_text(&w.events)?)
    .bind(&w.description)
    .bind(w.active)
    .bind(us(w.updated_at))
    .bind(opt_us(w.failing_since))
    .bind(opt_us(w.disabled_at))
    .bind(&w.disabled_reason)
    .bind(&w.org_id)
    .bind(&w.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes a webhook with its delivery log.
pub async fn delete_webhook(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    delete_in_org(&mut tx, "webhooks", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves every organization's dispatcher forward by up to `limit` events: see
/// [`dispatch_org`]. Returns how many deliveries were made.
pub async fn dispatch_webhook_events(
    pool: &Pool,
    limit: u32,
    make: &crate::store_webhooks::MakeDeliveries<'_>,
) -> Result<usize> {
    let orgs = orgs_behind(pool, FeedCursors::Webhooks).await?;
    let mut made = 0;
    for org_id in orgs {
        made += dispatch_org(pool, &org_id, limit, make).await?;
    }
    Ok(made)
}

/// In one transaction: the events after the organization's cursor, in feed order (only events
/// whose transactions are final, as the change feed serves them), become the deliveries `make`
/// chooses for the active webhooks, and the cursor moves past them. An instance that finds the
/// cursor locked leaves the organization to the one holding it.
async fn dispatch_org(
    pool: &Pool,
    org_id: &str,
    limit: u32,
    make: &crate::store_webhooks::MakeDeliveries<'_>,
) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let Some((events, to)) = events_after_cursor(&mut tx, FeedCursors::Webhooks, org_id, limit).await? else {
        return Ok(0);
    };
    let hooks = sqlx::query("SELECT * FROM webhooks WHERE org_id = $1 AND active = TRUE ORDER BY created_at, id")
        .bind(org_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(decode_webhook)
        .collect::<Result<Vec<_>>>()?;
    let mut cases: HashMap<String, Option<Case>> = HashMap::new();
    let mut made = 0;
    for event in &events {
        if hooks.is_empty() {
            continue;
        }
        if !cases.contains_key(&event.case_id) {
            // Also a case in the trash: its deletion is news to a receiver.
            let case = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.id = $2",
                sql::CASE_COLUMNS
            )))
            .bind(org_id)
            .bind(&event.case_id)
            .fetch_optional(&mut *tx)
            .await?;
            let case = case.as_ref().map(decode_case).transpose()?.map(|(_, c)| c);
            cases.insert(event.case_id.clone(), case);
        }
        let case = cases.get(&event.case_id).and_then(Option::as_ref);
        let comment = match event.data.get("comment_id").and_then(serde_json::Value::as_str) {
            Some(id) if event.kind == timeline::COMMENT_ADDED => sqlx::query("SELECT * FROM comments WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(decode_comment)
                .transpose()?,
            _ => None,
        };
        for d in make(&hooks, event, case, comment.as_ref()) {
            insert_delivery(&mut tx, &d).await?;
            made += 1;
        }
    }
    move_feed_cursor(&mut tx, FeedCursors::Webhooks, org_id, to).await?;
    tx.commit().await?;
    Ok(made)
}

async fn insert_delivery(tx: &mut Tx<'_>, d: &Delivery) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_seq, event_type, case_id, payload, state, attempts, \
         response_status, last_error, created_at, last_attempt_at, next_attempt_at, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&d.id)
    .bind(&d.org_id)
    .bind(&d.webhook_id)
    .bind(d.event_seq)
    .bind(&d.event_type)
    .bind(&d.case_id)
    .bind(&d.payload)
    .bind(d.state.as_str())
    .bind(d.attempts)
    .bind(d.response_status)
    .bind(&d.last_error)
    .bind(us(d.created_at))
    .bind(opt_us(d.last_attempt_at))
    .bind(us(d.next_attempt_at))
    .bind(opt_us(d.delivered_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a delivery made outside the dispatcher (a redelivery).
pub async fn insert_webhook_delivery(pool: &Pool, d: &Delivery) -> Result<()> {
    let mut tx = pool.begin().await?;
    insert_delivery(&mut tx, d).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes up to `limit` due deliveries of active webhooks for `claim`: each one's attempt count
/// goes up and its `next_attempt_at` moves to `lease_until`, so it comes due again if this
/// claim's instance dies mid-attempt. Only the oldest pending delivery of a case to a webhook
/// can be claimed, so a case's events arrive in order. Instances skip each other's locked rows.
pub async fn claim_webhook_deliveries(
    pool: &Pool,
    claim: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let rows = claim_due(pool, "webhook_deliveries", "webhooks", "webhook_id", claim, now, lease_until, limit).await?;
    rows.iter().map(decode_delivery).collect()
}

/// Claims due deliveries of `table` (webhook or channel deliveries) whose endpoint — the row of
/// `endpoints` named by `endpoint_column` — is active, the oldest pending one per case and
/// endpoint only; answers the claimed rows.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn claim_due(
    pool: &Pool,
    table: &str,
    endpoints: &str,
    endpoint_column: &str,
    claim: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<DbRow>> {
    let sql = format!(
        "UPDATE {table} SET claim = $1, next_attempt_at = $2, attempts = attempts + 1, last_attempt_at = $3 \
         WHERE seq IN (SELECT d.seq FROM {table} d WHERE d.state = 'pending' AND d.next_attempt_at <= $3 \
           AND EXISTS (SELECT 1 FROM {endpoints} w WHERE w.id = d.{endpoint_column} AND w.active = TRUE) \
           AND NOT EXISTS (SELECT 1 FROM {table} p WHERE p.{endpoint_column} = d.{endpoint_column} \
             AND p.case_id = d.case_id AND p.state = 'pending' AND p.seq < d.seq) \
           ORDER BY d.next_attempt_at, d.seq LIMIT $4{}) RETURNING *",
        super::super::SKIP_LOCKED
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(claim)
        .bind(us(lease_until))
        .bind(us(now))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?)
}

/// Writes an attempt's outcome to its row of `table` while `claim` still holds it
/// ([`StoreError::Stale`] when its lease ran out and another instance took it).
pub(crate) async fn record_attempt(tx: &mut Tx<'_>, table: &str, d: &Delivery, claim: &str) -> Result<()> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET state = $1, response_status = $2, last_error = $3, next_attempt_at = $4, \
         delivered_at = $5, last_attempt_at = $6, claim = NULL WHERE id = $7 AND claim = $8"
    )))
    .bind(d.state.as_str())
    .bind(d.response_status)
    .bind(&d.last_error)
    .bind(us(d.next_attempt_at))
    .bind(opt_us(d.delivered_at))
    .bind(opt_us(d.last_attempt_at))
    .bind(&d.id)
    .bind(claim)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

/// Saves the outcome of an attempt (the delivery as [`Delivery::record`] left it) while `claim`
/// still holds it ([`StoreError::Stale`] when its lease ran out and another instance took it),
/// and the webhook's failure state with it ([`endpoint_outcome`]). Returns the webhook when this
/// attempt switched it off.
pub async fn finish_webhook_attempt(pool: &Pool, d: &Delivery, claim: &str, now: Timestamp) -> Result<Option<Webhook>> {
    let mut tx = pool.begin().await?;
    record_attempt(&mut tx, "webhook_deliveries", d, claim).await?;
    let delivered = d.state == DeliveryState::Delivered;
    let off = endpoint_outcome(&mut tx, "webhooks", &d.webhook_id, delivered, now, decode_webhook, Webhook::health).await?;
    tx.commit().await?;
    Ok(off)
}

/// The failure state of endpoint `id` in `table` (webhooks, channel connectors) after an attempt:
/// a delivery clears it, a failure may switch the endpoint off ([`Health::record_failure`]).
/// Returns the endpoint when this attempt switched it off.
pub(crate) async fn endpoint_outcome<E>(
    tx: &mut Tx<'_>,
    table: &str,
    id: &str,
    delivered: bool,
    now: Timestamp,
    decode: fn(&DbRow) -> Result<E>,
    health: fn(&mut E) -> Health<'_>,
) -> Result<Option<E>> {
    if delivered {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL"
        )))
        .bind(id)
        .execute(&mut **tx)
        .await?;
        return Ok(None);
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table} WHERE id = $1{}", super::super::FOR_UPDATE)))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut endpoint = decode(&row)?;
    let h = health(&mut endpoint);
    let off = h.record_failure(now);
    let h = health(&mut endpoint);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET failing_since = $1, active = $2, disabled_at = $3, disabled_reason = $4 WHERE id = $5"
    )))
    .bind(opt_us(*h.failing_since))
    .bind(*h.active)
    .bind(opt_us(*h.disabled_at))
    .bind(h.disabled_reason.clone())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(off.then_some(endpoint))
}

pub async fn get_webhook_delivery(pool: &Pool, org_id: &str, webhook_id: &str, id: &str) -> Result<Delivery> {
    let row = sqlx::query("SELECT * FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2 AND id = $3")
        .bind(org_id)
        .bind(webhook_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_delivery(&row)
}

/// A webhook's deliveries, newest first.
pub async fn list_webhook_deliveries(
    pool: &Pool,
    org_id: &str,
    webhook_id: &str,
    page: &PageRequest,
) -> Result<Page<Delivery>> {
    let filter = |q: &mut Sql| {
        let w = q.arg(Arg::Text(webhook_id.to_string()));
        q.push(&format!(" AND d.webhook_id = {w}"));
    };
    list_page(pool, "SELECT d.* FROM webhook_deliveries d", "d", org_id, filter, page, "deliveries", decode_delivery, |d| {
        (us(d.created_at), d.id.clone())
    })
    .await
}
