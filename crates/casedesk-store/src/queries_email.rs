// Email in and out: settings, mailboxes, the message log and the outbox of outgoing mail,
// compiled once per backend like `queries.rs` (this file is `include!`d into a child module of
// each backend's `q`, which sees the parent's helpers).

use casedesk_domain::email::{Direction, EmailMessage, EmailState, MailSettings, Mailbox, SmtpSecurity};

fn decode_settings(row: &DbRow) -> Result<MailSettings> {
    let security: String = row.try_get("smtp_security")?;
    let port: Option<i64> = row.try_get("smtp_port")?;
    Ok(MailSettings {
        org_id: row.try_get("org_id")?,
        smtp_host: row.try_get("smtp_host")?,
        smtp_port: port.and_then(|p| u16::try_from(p).ok()),
        smtp_security: SmtpSecurity::parse(&security).map_err(|e| corrupt("smtp_security", e))?,
        smtp_username: row.try_get("smtp_username")?,
        smtp_password: row.try_get("smtp_password")?,
        from_address: row.try_get("from_address")?,
        from_name: row.try_get("from_name")?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

fn decode_mailbox(row: &DbRow) -> Result<Mailbox> {
    Ok(Mailbox {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        address: row.try_get("address")?,
        name: row.try_get("name")?,
        queue_id: row.try_get("queue_id")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

fn decode_email(row: &DbRow) -> Result<EmailMessage> {
    let list = |col: &str| -> Result<Vec<String>> {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| corrupt(col, e))
    };
    let direction: String = row.try_get("direction")?;
    let state: String = row.try_get("state")?;
    Ok(EmailMessage {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        direction: Direction::parse(&direction).map_err(|e| corrupt("direction", e))?,
        message_id: row.try_get("message_id")?,
        case_id: row.try_get("case_id")?,
        comment_id: row.try_get("comment_id")?,
        from_address: row.try_get("from_address")?,
        from_name: row.try_get("from_name")?,
        to: list("to_addresses")?,
        cc: list("cc_addresses")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        in_reply_to: row.try_get("in_reply_to")?,
        references: list("refs")?,
        file_ids: list("file_ids")?,
        raw_sha256: row.try_get("raw_sha256")?,
        size: row.try_get("size")?,
        state: EmailState::parse(&state).map_err(|e| corrupt("state", e))?,
        reason: row.try_get("reason")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        next_attempt_at: opt_ts(row.try_get("next_attempt_at")?)?,
        created_at: ts(row.try_get("created_at")?)?,
        sent_at: opt_ts(row.try_get("sent_at")?)?,
    })
}

pub async fn get_mail_settings(pool: &Pool, org_id: &str) -> Result<Option<MailSettings>> {
    let row = sqlx::query("SELECT * FROM mail_settings WHERE org_id = $1").bind(org_id).fetch_optional(pool).await?;
    row.as_ref().map(decode_settings).transpose()
}

/// Saves an organization's mail settings. The first save also starts the mail dispatcher at the
/// head of the change feed: replies written before mail was set up are not sent now.
pub async fn put_mail_settings(pool: &Pool, s: &MailSettings) -> Result<()> {
    let mut tx = pool.begin().await?;
    start_feed_cursor(&mut tx, FeedCursors::Mail, &s.org_id).await?;
    sqlx::query(
        "INSERT INTO mail_settings (org_id, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, \
         from_address, from_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (org_id) DO UPDATE SET smtp_host = excluded.smtp_host, smtp_port = excluded.smtp_port, \
         smtp_security = excluded.smtp_security, smtp_username = excluded.smtp_username, \
         smtp_password = excluded.smtp_password, from_address = excluded.from_address, \
         from_name = excluded.from_name, updated_at = excluded.updated_at",
    )
    .bind(&s.org_id)
    .bind(&s.smtp_host)
    .bind(s.smtp_port.map(i64::from))
    .bind(s.smtp_security.as_str())
    .bind(&s.smtp_username)
    .bind(&s.smtp_password)
    .bind(&s.from_address)
    .bind(&s.from_name)
    .bind(us(s.updated_at))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organization's mailboxes, oldest first (few: one per queue or so).
pub async fn list_mailboxes(pool: &Pool, org_id: &str) -> Result<Vec<Mailbox>> {
    let rows = sqlx::query("SELECT * FROM mailboxes WHERE org_id = $1 ORDER BY created_at, id")
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_mailbox).collect()
}

/// Removes a mailbox, with its IMAP settings if it was polled.
pub async fn delete_mailbox(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM mailbox_imap WHERE org_id = $1 AND mailbox_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query("DELETE FROM mailboxes WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn write_email(tx: &mut Tx<'_>, m: &EmailMessage) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_messages (id, org_id, direction, message_id, case_id, comment_id, from_address, from_name, \
         to_addresses, cc_addresses, subject, body, in_reply_to, refs, file_ids, raw_sha256, size, state, reason, \
         attempts, last_error, next_attempt_at, created_at, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
    )
    .bind(&m.id)
    .bind(&m.org_id)
    .bind(m.direction.as_str())
    .bind(&m.message_id)
    .bind(&m.case_id)
    .bind(&m.comment_id)
    .bind(&m.from_address)
    .bind(&m.from_name)
    .bind(json_text(&m.to)?)
    .bind(json_text(&m.cc)?)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.in_reply_to)
    .bind(json_text(&m.references)?)
    .bind(json_text(&m.file_ids)?)
    .bind(&m.raw_sha256)
    .bind(m.size)
    .bind(m.state.as_str())
    .bind(&m.reason)
    .bind(m.attempts)
    .bind(&m.last_error)
    .bind(opt_us(m.next_attempt_at))
    .bind(us(m.created_at))
    .bind(opt_us(m.sent_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a message as it arrived. When the organization already has an inbound message with
/// this Message-ID (a redelivery), nothing is written and that one is returned.
pub async fn record_inbound_email(pool: &Pool, m: &EmailMessage) -> Result<Option<EmailMessage>> {
    let mut tx = pool.begin().await?;
    let earlier = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM email_messages WHERE org_id = $1 AND message_id = $2 AND direction = 'in' ORDER BY seq LIMIT 1{}",
        super::super::FOR_UPDATE
    )))
    .bind(&m.org_id)
    .bind(&m.message_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = earlier {
        return Ok(Some(decode_email(&row)?));
    }
    write_email(&mut tx, m).await?;
    tx.commit().await?;
    Ok(None)
}

/// Saves what became of an inbound message (its state, case, comment and reason).
pub async fn settle_inbound_email(pool: &Pool, m: &EmailMessage) -> Result<()> {
    let done = sqlx::query(
        "UPDATE email_messages SET state = $1, case_id = $2, comment_id = $3, reason = $4 WHERE org_id = $5 AND id = $6",
    )
    .bind(m.state.as_str())
    .bind(&m.case_id)
    .bind(&m.comment_id)
    .bind(&m.reason)
    .bind(&m.org_id)
    .bind(&m.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn get_email(pool: &Pool, org_id: &str, id: &str) -> Result<EmailMessage> {
    decode_email(&fetch_in_org(pool, "SELECT * FROM email_messages WHERE org_id = $1 AND id = $2", org_id, id).await?)
}

/// The case of the first of `message_ids` (in the order given) that is a message of one of the
/// organization's cases, in either direction.
pub async fn case_of_messages(pool: &Pool, org_id: &str, message_ids: &[String]) -> Result<Option<String>> {
    for id in message_ids.iter().take(50) {
        let case: Option<Option<String>> = sqlx::query_scalar(
            "SELECT case_id FROM email_messages WHERE org_id = $1 AND message_id = $2 AND case_id IS NOT NULL \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?;
        if let Some(Some(case)) = case {
            return Ok(Some(case));
        }
    }
    Ok(None)
}

/// A case's messages, oldest first.
pub async fn list_case_emails(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<EmailMessage>> {
    let rows = sqlx::query("SELECT * FROM email_messages WHERE org_id = $1 AND case_id = $2 ORDER BY seq LIMIT 500")
        .bind(org_id)
        .bind(case_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_email).collect()
}

/// The organization's inbound messages in `states`, newest first, keyset-paged by `seq`.
pub async fn list_inbound_emails(
    pool: &Pool,
    org_id: &str,
    states: &[EmailState],
    before_seq: Option<i64>,
    limit: u32,
) -> Result<(Vec<EmailMessage>, Option<i64>)> {
    let mut q = Sql::default();
    q.push("SELECT * FROM email_messages WHERE org_id = ");
    let p = q.arg(Arg::Text(org_id.into()));
    q.push(&p).push(" AND direction = 'in' AND state IN (");
    for (i, s) in states.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        let p = q.arg(Arg::Text(s.as_str().into()));
        q.push(&p);
    }
    q.push(")");
    if let Some(before) = before_seq {
        let p = q.arg(Arg::Int(before));
        q.push(" AND seq < ").push(&p);
    }
    let p = q.arg(Arg::Int(i64::from(limit) + 1));
    q.push(" ORDER BY seq DESC LIMIT ").push(&p);
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut last_seq = None;
    for row in rows.iter().take(limit as usize) {
        out.push(decode_email(row)?);
        last_seq = Some(row.try_get::<i64, _>("seq")?);
    }
    let more = rows.len() > limit as usize;
    Ok((out, if more { last_seq } else { None }))
}

/// Every address that wrote to or was written to on a case's mail.
pub async fn case_mail_participants(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT from_address, to_addresses, cc_addresses FROM email_messages WHERE org_id = $1 AND case_id = $2 LIMIT 500",
    )
    .bind(org_id)
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    let mut all: Vec<String> = Vec::new();
    for row in &rows {
        let mut push = |a: String| {
            if !all.contains(&a) {
                all.push(a);
            }
        };
        push(row.try_get("from_address")?);
        for col in ["to_addresses", "cc_addresses"] {
            let text: String = row.try_get(col)?;
            for a in serde_json::from_str::<Vec<String>>(&text).map_err(|e| corrupt(col, e))? {
                push(a);
            }
        }
    }
    Ok(all)
}

/// Moves every organization's mail dispatcher forward by up to `limit` events: `make` turns an
/// event (with its case and comment) into the messages to send, written in the transaction that
/// moves the cursor. Returns how many messages were queued.
pub async fn dispatch_mail_events(
    pool: &Pool,
    limit: u32,
    make: &crate::store_email::MakeEmails<'_>,
    survey: &crate::store_email::MakeSurvey<'_>,
) -> Result<usize> {
    let orgs = orgs_behind(pool, FeedCursors::Mail).await?;
    let mut made = 0;
    for org_id in orgs {
        made += dispatch_mail_org(pool, &org_id, limit, make, survey).await?;
    }
    Ok(made)
}

/// Whether a timeline event is a resolution: a status change from an active status to
/// resolved or closed.
fn is_resolution(event: &Event) -> bool {
    let status = |k: &str| event.data.get(k).and_then(serde_json::Value::as_str).and_then(|s| Status::parse(s).ok());
    event.kind == timeline::STATUS_CHANGED
        && status("old").is_some_and(|s| s.is_active())
        && status("new").is_some_and(|s| !s.is_active())
}

/// The live case `case_id`, in the caller's transaction.
async fn live_case_in(tx: &mut Tx<'_>, org_id: &str, case_id: &str) -> Result<Option<casedesk_domain::case::Case>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL",
        sql::CASE_COLUMNS
    )))
    .bind(org_id)
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(decode_case).transpose()?.map(|(_, c)| c))
}

/// A resolution in an organization that surveys its customers: the survey and its message,
/// when `make` makes one (the requester has an address).
async fn dispatch_survey(
    tx: &mut Tx<'_>,
    org_id: &str,
    event: &Event,
    settings: &MailSettings,
    scale: casedesk_domain::csat::Scale,
    make: &crate::store_email::MakeSurvey<'_>,
) -> Result<usize> {
    let Some(case) = live_case_in(tx, org_id, &event.case_id).await? else { return Ok(0) };
    let context = mail_context(tx, &case, Some(settings.clone())).await?;
    let Some((survey, message)) = make(&case, scale, event.created_at, &context) else { return Ok(0) };
    super::csat::insert_survey(tx, &survey).await?;
    write_email(tx, &message).await?;
    Ok(1)
}

async fn dispatch_mail_org(
    pool: &Pool,
    org_id: &str,
    limit: u32,
    make: &crate::store_email::MakeEmails<'_>,
    survey: &crate::store_email::MakeSurvey<'_>,
) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let Some((events, to)) = events_after_cursor(&mut tx, FeedCursors::Mail, org_id, limit).await? else {
        return Ok(0);
    };
    // Read once per batch; while the organization cannot send, comments pass by without a look
    // at their cases (the cursor still moves: replies of that time are not sent later).
    let settings = org_mail_settings(&mut tx, org_id).await?;
    let sending = settings.as_ref().is_some_and(MailSettings::can_send);
    let surveys = match super::csat::get_csat_settings_in(&mut tx, org_id).await? {
        Some(s) if s.enabled && sending => Some(s.scale),
        _ => None,
    };
    let mut made = 0;
    for event in &events {
        if let (Some(scale), Some(settings)) = (surveys, settings.as_ref())
            && is_resolution(event)
        {
            made += dispatch_survey(&mut tx, org_id, event, settings, scale, survey).await?;
            continue;
        }
        if !sending || event.kind != timeline::COMMENT_ADDED {
            continue;
        }
        let Some(comment_id) = event.data.get("comment_id").and_then(serde_json::Value::as_str) else { continue };
        // A comment sent as an update to chosen recipients has its message already.
        let sent: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM email_messages WHERE org_id = $1 AND comment_id = $2 LIMIT 1")
                .bind(org_id)
                .bind(comment_id)
                .fetch_optional(&mut *tx)
                .await?;
        if sent.is_some() {
            continue;
        }
        let Some(comment) = sqlx::query("SELECT * FROM comments WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(comment_id)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(decode_comment)
            .transpose()?
        else {
            continue;
        };
        let case = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL",
            sql::CASE_COLUMNS
        )))
        .bind(org_id)
        .bind(&event.case_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((_, case)) = case.as_ref().map(decode_case).transpose()? else { continue };
        let context = mail_context(&mut tx, &case, settings.clone()).await?;
        let file_ids: Vec<String> = event
            .data
            .get("file_ids")
            .and_then(serde_json::Value::as_array)
            .map(|ids| ids.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        for m in make(&case, &comment, &file_ids, &context) {
            write_email(&mut tx, &m).await?;
            made += 1;
        }
    }
    move_feed_cursor(&mut tx, FeedCursors::Mail, org_id, to).await?;
    tx.commit().await?;
    Ok(made)
}

/// The organization's mail settings, in the caller's transaction.
async fn org_mail_settings(tx: &mut Tx<'_>, org_id: &str) -> Result<Option<MailSettings>> {
    sqlx::query("SELECT * FROM mail_settings WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(decode_settings)
        .transpose()
}

/// What a reply on `case` needs to be addressed and threaded, given the organization's `settings`.
async fn mail_context(
    tx: &mut Tx<'_>,
    case: &casedesk_domain::case::Case,
    settings: Option<MailSettings>,
) -> Result<crate::store_email::MailContext> {
    let mailbox = match &case.queue_id {
        Some(q) => sqlx::query("SELECT * FROM mailboxes WHERE org_id = $1 AND queue_id = $2 ORDER BY created_at, id LIMIT 1")
            .bind(&case.org_id)
            .bind(q)
            .fetch_optional(&mut **tx)
            .await?
            .as_ref()
            .map(decode_mailbox)
            .transpose()?,
        None => None,
    };
    // The requester's address: a contact's, or (for a case an agent opened) the user's.
    let requester_email: Option<String> = sqlx::query_scalar(
        "SELECT email FROM contacts WHERE org_id = $1 AND id = $2 \
         UNION ALL SELECT email FROM users WHERE org_id = $1 AND id = $2",
    )
    .bind(&case.org_id)
    .bind(&case.requester_id)
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    let thread: Vec<String> = sqlx::query_scalar(
        "SELECT message_id FROM email_messages WHERE org_id = $1 AND case_id = $2 AND state IN ('processed', 'queued', 'sent') \
         ORDER BY seq DESC LIMIT 20",
    )
    .bind(&case.org_id)
    .bind(&case.id)
    .fetch_all(&mut **tx)
    .await?;
    let last_inbound: Option<String> = sqlx::query_scalar(
        "SELECT message_id FROM email_messages WHERE org_id = $1 AND case_id = $2 AND direction = 'in' \
         AND state = 'processed' ORDER BY seq DESC LIMIT 1",
    )
    .bind(&case.org_id)
    .bind(&case.id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(crate::store_email::MailContext {
        settings,
        mailbox,
        requester_email,
        thread: thread.into_iter().rev().collect(),
        last_inbound,
    })
}

/// Takes up to `limit` due outgoing messages for `claim` until `lease_until`. Instances skip each
/// other's locked rows; a claim whose instance dies comes due again when its lease runs out.
pub async fn claim_emails(
    pool: &Pool,
    claim: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<EmailMessage>> {
    let sql = format!(
        "UPDATE email_messages SET claim = $1, next_attempt_at = $2, attempts = attempts + 1 \
         WHERE seq IN (SELECT m.seq FROM email_messages m WHERE m.state = 'queued' AND m.next_attempt_at <= $3 \
           ORDER BY m.next_attempt_at, m.seq LIMIT $4{}) RETURNING *",
        super::super::SKIP_LOCKED
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(claim)
        .bind(us(lease_until))
        .bind(us(now))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_email).collect()
}

/// Saves an attempt's outcome while `claim` still holds the message, with a timeline entry on
/// its case ([`StoreError::Stale`] when the lease ran out and another instance took it).
pub async fn finish_email_attempt(pool: &Pool, m: &EmailMessage, claim: &str, event: Option<&NewEvent>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE email_messages SET state = $1, last_error = $2, next_attempt_at = $3, sent_at = $4, claim = NULL \
         WHERE id = $5 AND claim = $6",
    )
    .bind(m.state.as_str())
    .bind(&m.last_error)
    .bind(opt_us(m.next_attempt_at))
    .bind(opt_us(m.sent_at))
    .bind(&m.id)
    .bind(claim)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Stale);
    }
    if let (Some(event), Some(case_id)) = (event, &m.case_id) {
        insert_events(&mut tx, &m.org_id, case_id, "system", std::slice::from_ref(event)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The id of the organization's case with this number (in the trash or not).
pub async fn case_id_by_number(pool: &Pool, org_id: &str, case_number: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM cases WHERE org_id = $1 AND case_number = $2")
        .bind(org_id)
        .bind(case_number)
        .fetch_optional(pool)
        .await?)
}

/// A comment that is also a message to chosen recipients ("send update"), and that message,
/// queued in the same transaction: the mail dispatcher, seeing the comment already has its
/// message, sends it nothing more.
pub async fn add_comment_with_email(
    pool: &Pool,
    comment: &Comment,
    case: &casedesk_domain::case::Case,
    expected_version: i64,
    extra: &[NewEvent],
    idem: Option<&IdempotencyRecord>,
    email: &EmailMessage,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    write_comment(&mut tx, comment, case, expected_version, extra, idem).await?;
    write_email(&mut tx, email).await?;
    tx.commit().await?;
    Ok(())
}

/// What a message of the case's mail needs that the store knows: the mail context of
/// [`dispatch_mail_events`], read outside it.
pub async fn case_mail_context(pool: &Pool, case: &casedesk_domain::case::Case) -> Result<crate::store_email::MailContext> {
    let mut tx = pool.begin().await?;
    let settings = org_mail_settings(&mut tx, &case.org_id).await?;
    let ctx = mail_context(&mut tx, case, settings).await?;
    tx.commit().await?;
    Ok(ctx)
}
