// Messaging channels: the conversations linked to cases, the connectors replies leave through
// and their outbox of deliveries. Compiled once per backend like `queries.rs` (`include!`d into a
// child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::messaging::{ChannelConnector, ChannelDelivery, ChannelReply, ReplyRoute, reply_route};
use casedesk_domain::webhook::{Delivery, DeliveryState};

/// The case the organization's conversation `external_id` on `channel` feeds, if any.
pub async fn get_conversation_case(pool: &Pool, org_id: &str, channel: Channel, external_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT case_id FROM conversations WHERE org_id = $1 AND channel = $2 AND external_id = $3")
        .bind(org_id)
        .bind(channel.as_str())
        .bind(external_id)
        .fetch_optional(pool)
        .await?)
}

/// Links the conversation to `case_id`: a new link, or the conversation moving to a follow-up.
pub async fn link_conversation(
    pool: &Pool,
    org_id: &str,
    channel: Channel,
    external_id: &str,
    case_id: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversations (org_id, channel, external_id, case_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (org_id, channel, external_id) \
         DO UPDATE SET case_id = excluded.case_id, updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(channel.as_str())
    .bind(external_id)
    .bind(case_id)
    .bind(us(now))
    .execute(pool)
    .await?;
    Ok(())
}

/// The external id of the conversation on `channel` feeding a case (the latest, if several).
async fn conversation_of_case(tx: &mut Tx<'_>, org_id: &str, case_id: &str, channel: Channel) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT external_id FROM conversations WHERE org_id = $1 AND case_id = $2 AND channel = $3 \
         ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(case_id)
    .bind(channel.as_str())
    .fetch_optional(&mut **tx)
    .await?)
}

/// The channels of the conversations feeding a case.
pub async fn conversation_channels(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<Channel>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT channel FROM conversations WHERE org_id = $1 AND case_id = $2 ORDER BY channel")
            .bind(org_id)
            .bind(case_id)
            .fetch_all(pool)
            .await?;
    names.iter().map(|c| Channel::parse(c).map_err(|e| corrupt("channel", e))).collect()
}

fn decode_connector(row: &DbRow) -> Result<ChannelConnector> {
    Ok(ChannelConnector {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        channel: Channel::parse(row.try_get("channel")?).map_err(|e| corrupt("channel", e))?,
        url: row.try_get("url")?,
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

/// Stores a connector (one per organization and channel: [`StoreError::Duplicate`] for a
/// second). The organization's first one starts the reply dispatcher at the head of its feed.
pub async fn insert_channel_connector(pool: &Pool, c: &ChannelConnector) -> Result<()> {
    let mut tx = pool.begin().await?;
    start_feed_cursor(&mut tx, FeedCursors::Channels, &c.org_id).await?;
    sqlx::query(
        "INSERT INTO channel_connectors (id, org_id, channel, url, secret, active, created_by, created_at, updated_at, \
         failing_since, disabled_at, disabled_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&c.id)
    .bind(&c.org_id)
    .bind(c.channel.as_str())
    .bind(&c.url)
    .bind(&c.secret)
    .bind(c.active)
    .bind(&c.created_by)
    .bind(us(c.created_at))
    .bind(us(c.updated_at))
    .bind(opt_us(c.failing_since))
    .bind(opt_us(c.disabled_at))
    .bind(&c.disabled_reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_channel_connector(pool: &Pool, org_id: &str, id: &str) -> Result<ChannelConnector> {
    decode_connector(&fetch_in_org(pool, "SELECT * FROM channel_connectors WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The organization's connectors (at most one per channel), by channel.
pub async fn list_channel_connectors(pool: &Pool, org_id: &str) -> Result<Vec<ChannelConnector>> {
    sqlx::query("SELECT * FROM channel_connectors WHERE org_id = $1 ORDER BY channel")
        .bind(org_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(decode_connector)
        .collect()
}

pub async fn update_channel_connector(pool: &Pool, c: &ChannelConnector) -> Result<()> {
    let done = sqlx::query(
        "UPDATE channel_connectors SET url = $1, active = $2, updated_at = $3, failing_since = $4, disabled_at = $5, \
         disabled_reason = $6 WHERE org_id = $7 AND id = $8",
    )
    .bind(&c.url)
    .bind(c.active)
    .bind(us(c.updated_at))
    .bind(opt_us(c.failing_since))
    .bind(opt_us(c.disabled_at))
    .bind(&c.disabled_reason)
    .bind(&c.org_id)
    .bind(&c.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes a connector and its deliveries.
pub async fn delete_channel_connector(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM channel_deliveries WHERE org_id = $1 AND connector_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    delete_in_org(&mut tx, "channel_connectors", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

fn decode_channel_delivery(row: &DbRow) -> Result<ChannelDelivery> {
    let state: String = row.try_get("state")?;
    Ok(ChannelDelivery {
        comment_id: row.try_get("comment_id")?,
        delivery: Delivery {
            id: row.try_get("id")?,
            org_id: row.try_get("org_id")?,
            webhook_id: row.try_get("connector_id")?,
            event_seq: row.try_get("event_seq")?,
            event_type: casedesk_domain::messaging::REPLY_EVENT.to_string(),
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
        },
    })
}

/// Moves every organization's reply dispatcher forward by up to `limit` events: in one
/// transaction per organization, each agent's public comment on a case of a connector channel
/// becomes the deliveries `make` chooses, and the cursor moves past the events. Returns how many
/// deliveries were made.
pub async fn dispatch_channel_events(
    pool: &Pool,
    limit: u32,
    make: &crate::store_channels::MakeChannelDeliveries<'_>,
) -> Result<usize> {
    let mut made = 0;
    for org_id in orgs_behind(pool, FeedCursors::Channels).await? {
        let mut tx = pool.begin().await?;
        let Some((events, to)) = events_after_cursor(&mut tx, FeedCursors::Channels, &org_id, limit).await? else {
            continue;
        };
        let connectors =
            sqlx::query("SELECT * FROM channel_connectors WHERE org_id = $1 AND active = TRUE ORDER BY channel")
                .bind(&org_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(decode_connector)
                .collect::<Result<Vec<_>>>()?;
        for event in events.iter().filter(|e| e.kind == timeline::COMMENT_ADDED && !connectors.is_empty()) {
            let Some(comment_id) = event.data.get("comment_id").and_then(serde_json::Value::as_str) else { continue };
            let comment = sqlx::query("SELECT * FROM comments WHERE org_id = $1 AND id = $2")
                .bind(&org_id)
                .bind(comment_id)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(decode_comment)
                .transpose()?;
            let Some(comment) = comment.filter(|c| c.author_type == AuthorType::Agent && !c.internal) else { continue };
            let case = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL",
                sql::CASE_COLUMNS
            )))
            .bind(&org_id)
            .bind(&event.case_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((_, case)) = case.as_ref().map(decode_case).transpose()? else { continue };
            let ReplyRoute::Connector(channel) = reply_route(case.channel, comment.reply_channel) else { continue };
            let conversation = conversation_of_case(&mut tx, &org_id, &case.id, channel).await?;
            let contact = match &case.contact_id {
                Some(id) => sqlx::query("SELECT * FROM contacts WHERE org_id = $1 AND id = $2")
                    .bind(&org_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(decode_contact)
                    .transpose()?,
                None => None,
            };
            let reply = ChannelReply { event, case: &case, comment: &comment, channel, conversation: conversation.as_deref(), contact: contact.as_ref() };
            for d in make(&connectors, &reply) {
                insert_channel_delivery(&mut tx, &d).await?;
                made += 1;
            }
        }
        move_feed_cursor(&mut tx, FeedCursors::Channels, &org_id, to).await?;
        tx.commit().await?;
    }
    Ok(made)
}

async fn insert_channel_delivery(tx: &mut Tx<'_>, c: &ChannelDelivery) -> Result<()> {
    let d = &c.delivery;
    sqlx::query(
        "INSERT INTO channel_deliveries (id, org_id, connector_id, event_seq, case_id, comment_id, payload, state, \
         attempts, response_status, last_error, created_at, last_attempt_at, next_attempt_at, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&d.id)
    .bind(&d.org_id)
    .bind(&d.webhook_id)
    .bind(d.event_seq)
    .bind(&d.case_id)
    .bind(&c.comment_id)
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

/// Takes up to `limit` due deliveries of active connectors for `claim` until `lease_until`, as
/// webhook deliveries are taken: only the oldest pending one of a case to a connector, so a
/// conversation's replies arrive in order.
pub async fn claim_channel_deliveries(
    pool: &Pool,
    claim: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<ChannelDelivery>> {
    let rows =
        claim_due(pool, "channel_deliveries", "channel_connectors", "connector_id", claim, now, lease_until, limit).await?;
    rows.iter().map(decode_channel_delivery).collect()
}

/// Saves an attempt's outcome while `claim` holds the delivery ([`StoreError::Stale`] when its
/// lease ran out and another instance took it), with the case's timeline event, if any, and the
/// connector's failure state ([`endpoint_outcome`]) in the same transaction. Returns the
/// connector when this attempt switched it off.
pub async fn finish_channel_attempt(
    pool: &Pool,
    c: &ChannelDelivery,
    claim: &str,
    event: Option<&NewEvent>,
    now: Timestamp,
) -> Result<Option<ChannelConnector>> {
    let d = &c.delivery;
    let mut tx = pool.begin().await?;
    record_attempt(&mut tx, "channel_deliveries", d, claim).await?;
    if let Some(event) = event {
        insert_events(&mut tx, &d.org_id, &d.case_id, "system", std::slice::from_ref(event)).await?;
    }
    let delivered = d.state == DeliveryState::Delivered;
    let off = endpoint_outcome(&mut tx, "channel_connectors", &d.webhook_id, delivered, now, decode_connector, ChannelConnector::health)
        .await?;
    tx.commit().await?;
    Ok(off)
}

/// A case's replies to connectors, oldest first.
pub async fn list_channel_deliveries(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<ChannelDelivery>> {
    sqlx::query("SELECT * FROM channel_deliveries WHERE org_id = $1 AND case_id = $2 ORDER BY created_at, seq")
        .bind(org_id)
        .bind(case_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(decode_channel_delivery)
        .collect()
}

/// Stores one delivery on its own (an admin's redelivery).
pub async fn add_channel_delivery(pool: &Pool, c: &ChannelDelivery) -> Result<()> {
    let mut tx = pool.begin().await?;
    insert_channel_delivery(&mut tx, c).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_channel_delivery(pool: &Pool, org_id: &str, connector_id: &str, id: &str) -> Result<ChannelDelivery> {
    let row = sqlx::query("SELECT * FROM channel_deliveries WHERE org_id = $1 AND connector_id = $2 AND id = $3")
        .bind(org_id)
        .bind(connector_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_channel_delivery(&row)
}

/// A connector's deliveries, newest first.
pub async fn list_connector_deliveries(
    pool: &Pool,
    org_id: &str,
    connector_id: &str,
    page: &PageRequest,
) -> Result<Page<ChannelDelivery>> {
    let filter = |q: &mut Sql| {
        let k = q.arg(Arg::Text(connector_id.to_string()));
        q.push(&format!(" AND d.connector_id = {k}"));
    };
    let key = |c: &ChannelDelivery| (us(c.delivery.created_at), c.delivery.id.clone());
    list_page(pool, "SELECT d.* FROM channel_deliveries d", "d", org_id, filter, page, "deliveries", decode_channel_delivery, key)
        .await
}
