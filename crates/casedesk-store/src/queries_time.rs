// Time tracking: time types, time entries, timers and estimates, compiled once per backend like
// `queries.rs` (this file is `include!`d into a child module of each backend's `q`, which sees
// the parent's helpers). Every write that a case's timeline records writes its events in the
// same transaction.

use casedesk_domain::time::{Source, TimeEntry, TimeType, Timer};
use jiff::civil::Date;

use crate::store_time::{CaseTime, EntryFilter, TimeTotal, TimerChange, TotalsGroup};

// ---- time types --------------------------------------------------------------------------------

fn decode_time_type(row: &DbRow) -> Result<TimeType> {
    Ok(TimeType {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        billable: row.try_get("billable")?,
        active: row.try_get("active")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_time_type(pool: &Pool, t: &TimeType, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO time_types (id, org_id, name, billable, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&t.id)
    .bind(&t.org_id)
    .bind(&t.name)
    .bind(t.billable)
    .bind(t.active)
    .bind(us(t.created_at))
    .bind(us(t.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_time_type(pool: &Pool, org_id: &str, id: &str) -> Result<TimeType> {
    let row = fetch_in_org(pool, "SELECT t.* FROM time_types t WHERE t.org_id = $1 AND t.id = $2", org_id, id).await?;
    decode_time_type(&row)
}

pub async fn list_time_types(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<TimeType>> {
    let key = |t: &TimeType| (us(t.created_at), t.id.clone());
    list_page(pool, "SELECT t.* FROM time_types t", "t", org_id, |_| {}, page, "time_types", decode_time_type, key).await
}

pub async fn update_time_type(pool: &Pool, t: &TimeType) -> Result<()> {
    let done = sqlx::query(
        "UPDATE time_types SET name = $1, billable = $2, active = $3, updated_at = $4 WHERE org_id = $5 AND id = $6",
    )
    .bind(&t.name)
    .bind(t.billable)
    .bind(t.active)
    .bind(us(t.updated_at))
    .bind(&t.org_id)
    .bind(&t.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a time type no entry uses ([`StoreError::InUse`] otherwise: deactivate it instead).
pub async fn delete_time_type(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "time_types", org_id, id).await?;
    let uses = "SELECT COUNT(*) FROM time_entries WHERE org_id = $1 AND time_type_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} time entr(ies) use this type; deactivate it instead")).await?;
    delete_in_org(&mut tx, "time_types", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

// ---- entries -----------------------------------------------------------------------------------

fn decode_entry(row: &DbRow) -> Result<TimeEntry> {
    let date: String = row.try_get("work_date")?;
    let source: String = row.try_get("source")?;
    Ok(TimeEntry {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        user_id: row.try_get("user_id")?,
        work_date: date.parse::<Date>().map_err(|e| corrupt("work_date", e))?,
        duration_secs: row.try_get("duration_secs")?,
        time_type_id: row.try_get("time_type_id")?,
        billable: row.try_get("billable")?,
        note: row.try_get("note")?,
        source: Source::parse(&source).map_err(|e| corrupt("source", e))?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

async fn insert_entry_row(tx: &mut Tx<'_>, e: &TimeEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO time_entries (id, org_id, case_id, user_id, work_date, duration_secs, time_type_id, billable, note, \
         source, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&e.id)
    .bind(&e.org_id)
    .bind(&e.case_id)
    .bind(&e.user_id)
    .bind(e.work_date.to_string())
    .bind(e.duration_secs)
    .bind(&e.time_type_id)
    .bind(e.billable)
    .bind(&e.note)
    .bind(e.source.as_str())
    .bind(&e.created_by)
    .bind(us(e.created_at))
    .bind(us(e.updated_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a new entry with its timeline events (on the entry's case) and the idempotency key.
pub async fn insert_time_entry(
    pool: &Pool,
    e: &TimeEntry,
    events: &[NewEvent],
    actor_id: &str,
    idem: Option<&IdempotencyRecord>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    insert_entry_row(&mut tx, e).await?;
    insert_events(&mut tx, &e.org_id, &e.case_id, actor_id, events).await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_time_entry(pool: &Pool, org_id: &str, id: &str) -> Result<TimeEntry> {
    let row = fetch_in_org(pool, "SELECT te.* FROM time_entries te WHERE te.org_id = $1 AND te.id = $2", org_id, id).await?;
    decode_entry(&row)
}

/// Writes a changed entry with its timeline events.
pub async fn update_time_entry(pool: &Pool, e: &TimeEntry, events: &[NewEvent], actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE time_entries SET work_date = $1, duration_secs = $2, time_type_id = $3, billable = $4, note = $5, \
         updated_at = $6 WHERE org_id = $7 AND id = $8",
    )
    .bind(e.work_date.to_string())
    .bind(e.duration_secs)
    .bind(&e.time_type_id)
    .bind(e.billable)
    .bind(&e.note)
    .bind(us(e.updated_at))
    .bind(&e.org_id)
    .bind(&e.id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    insert_events(&mut tx, &e.org_id, &e.case_id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an entry, writing its timeline events.
pub async fn delete_time_entry(pool: &Pool, e: &TimeEntry, events: &[NewEvent], actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "time_entries", &e.org_id, &e.id).await?;
    insert_events(&mut tx, &e.org_id, &e.case_id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

/// The conditions of an entry filter, on `time_entries te`.
fn entry_conditions(q: &mut Sql, org_id: &str, f: &EntryFilter) {
    let p = q.arg(Arg::Text(org_id.into()));
    // A deleted case's time leaves timesheets and totals with it.
    q.push(&format!(
        " WHERE te.org_id = {p} AND NOT EXISTS (SELECT 1 FROM cases dc WHERE dc.id = te.case_id AND dc.deleted_at IS NOT NULL)"
    ));
    for (col, v) in [("te.user_id", &f.user_id), ("te.case_id", &f.case_id), ("te.time_type_id", &f.time_type_id)] {
        if let Some(v) = v {
            let p = q.arg(Arg::Text(v.clone()));
            q.push(&format!(" AND {col} = {p}"));
        }
    }
    if let Some(a) = &f.account_id {
        let o = q.arg(Arg::Text(org_id.into()));
        let p = q.arg(Arg::Text(a.clone()));
        q.push(&format!(" AND te.case_id IN (SELECT id FROM cases WHERE org_id = {o} AND account_id = {p})"));
    }
    if let Some(from) = f.from {
        let p = q.arg(Arg::Text(from.to_string()));
        q.push(&format!(" AND te.work_date >= {p}"));
    }
    if let Some(to) = f.to {
        let p = q.arg(Arg::Text(to.to_string()));
        q.push(&format!(" AND te.work_date <= {p}"));
    }
    match f.billable {
        Some(true) => q.push(" AND te.billable"),
        Some(false) => q.push(" AND NOT te.billable"),
        None => q,
    };
}

const ENTRY_ORDERING: &str = "-date";

/// Entries matching `f`, latest work first (by date, then newest id), a keyset page at a time.
pub async fn list_time_entries(pool: &Pool, org_id: &str, f: &EntryFilter, page: &PageRequest) -> Result<Page<TimeEntry>> {
    let mut q = Sql::default();
    q.push("SELECT te.* FROM time_entries te");
    entry_conditions(&mut q, org_id, f);
    if let Some(c) = &page.cursor {
        let keys = cursor::decode(c, ENTRY_ORDERING, &[false, false])?;
        let (Key::Text(date), Key::Text(id)) = (&keys[0], &keys[1]) else { return Err(StoreError::InvalidCursor) };
        let d = q.arg(Arg::Text(date.clone()));
        let i = q.arg(Arg::Text(id.clone()));
        q.push(&format!(" AND (te.work_date, te.id) < ({d}, {i})"));
    }
    q.push(" ORDER BY te.work_date DESC, te.id DESC LIMIT ");
    let l = q.arg(Arg::Int(i64::from(page.limit) + 1));
    q.push(&l);
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let mut items = rows.iter().map(decode_entry).collect::<Result<Vec<_>>>()?;
    let more = items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    let next_cursor = if more {
        items.last().map(|e| cursor::encode(ENTRY_ORDERING, &[Key::Text(e.work_date.to_string()), Key::Text(e.id.clone())]))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Time matching `f`, summed per user, account, time type, case or date; largest first.
pub async fn time_totals(pool: &Pool, org_id: &str, group: TotalsGroup, f: &EntryFilter) -> Result<Vec<TimeTotal>> {
    let key = match group {
        TotalsGroup::User => "te.user_id",
        TotalsGroup::Account => "c.account_id",
        TotalsGroup::TimeType => "te.time_type_id",
        TotalsGroup::Case => "te.case_id",
        TotalsGroup::Date => "te.work_date",
    };
    let mut q = Sql::default();
    q.push(&format!(
        "SELECT {key} AS k, CAST(SUM(te.duration_secs) AS BIGINT) AS secs, \
         CAST(SUM(CASE WHEN te.billable THEN te.duration_secs ELSE 0 END) AS BIGINT) AS billable_secs, \
         COUNT(*) AS entries FROM time_entries te"
    ));
    if group == TotalsGroup::Account {
        q.push(" LEFT JOIN cases c ON c.id = te.case_id");
    }
    entry_conditions(&mut q, org_id, f);
    q.push(&format!(" GROUP BY {key} ORDER BY secs DESC, COALESCE({key}, '') LIMIT 1000"));
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(TimeTotal {
                key: r.try_get("k")?,
                seconds: r.try_get("secs")?,
                billable_seconds: r.try_get("billable_secs")?,
                entries: r.try_get("entries")?,
            })
        })
        .collect()
}

/// A case's time spent (all and billable) and its estimate.
pub async fn case_time(pool: &Pool, org_id: &str, case_id: &str) -> Result<CaseTime> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(te.duration_secs), 0) AS BIGINT) AS secs, \
         CAST(COALESCE(SUM(CASE WHEN te.billable THEN te.duration_secs ELSE 0 END), 0) AS BIGINT) AS billable_secs, \
         COUNT(*) AS entries, \
         (SELECT e.minutes FROM case_time_estimates e WHERE e.org_id = $1 AND e.case_id = $2) AS estimate \
         FROM time_entries te WHERE te.org_id = $1 AND te.case_id = $2",
    )
    .bind(org_id)
    .bind(case_id)
    .fetch_one(pool)
    .await?;
    Ok(CaseTime {
        spent_seconds: row.try_get("secs")?,
        billable_seconds: row.try_get("billable_secs")?,
        entries: row.try_get("entries")?,
        estimate_minutes: row.try_get("estimate")?,
    })
}

/// Sets (or with `None` removes) a case's estimate, with its timeline events.
pub async fn set_time_estimate(
    pool: &Pool,
    org_id: &str,
    case_id: &str,
    minutes: Option<i64>,
    events: &[NewEvent],
    actor_id: &str,
    now: Timestamp,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    match minutes {
        Some(m) => {
            sqlx::query(
                "INSERT INTO case_time_estimates (case_id, org_id, minutes, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (case_id) DO UPDATE SET minutes = excluded.minutes, updated_by = excluded.updated_by, \
                 updated_at = excluded.updated_at",
            )
            .bind(case_id)
            .bind(org_id)
            .bind(m)
            .bind(actor_id)
            .bind(us(now))
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM case_time_estimates WHERE org_id = $1 AND case_id = $2")
                .bind(org_id)
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    insert_events(&mut tx, org_id, case_id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

// ---- timers ------------------------------------------------------------------------------------

fn decode_timer(row: &DbRow) -> Result<Timer> {
    Ok(Timer {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        case_id: row.try_get("case_id")?,
        running_since: opt_ts(row.try_get("running_since")?)?,
        accumulated_us: row.try_get("accumulated_us")?,
        version: row.try_get("version")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// A user's timers, running first, then the most recently changed.
pub async fn list_timers(pool: &Pool, org_id: &str, user_id: &str) -> Result<Vec<Timer>> {
    let rows = sqlx::query(
        "SELECT t.* FROM time_timers t WHERE t.org_id = $1 AND t.user_id = $2 \
         ORDER BY CASE WHEN t.running_since IS NULL THEN 1 ELSE 0 END, t.updated_at DESC, t.id",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_timer).collect()
}

/// Applies a timer change in one transaction: removes the stopped timers (at the version read),
/// writes the changed one (a version of 1 is a new timer), stores the entries and writes each
/// event on its case. A timer that changed meanwhile fails the whole change with
/// [`StoreError::Stale`]; a second running timer of one agent breaks the unique index
/// ([`StoreError::Duplicate`]).
pub async fn write_timers(pool: &Pool, change: &TimerChange, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    for t in &change.stop {
        let done = sqlx::query("DELETE FROM time_timers WHERE org_id = $1 AND id = $2 AND version = $3")
            .bind(&t.org_id)
            .bind(&t.id)
            .bind(t.version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
    }
    if let Some(t) = &change.put {
        if t.version == 1 {
            sqlx::query(
                "INSERT INTO time_timers (id, org_id, user_id, case_id, running_since, accumulated_us, version, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&t.id)
            .bind(&t.org_id)
            .bind(&t.user_id)
            .bind(&t.case_id)
            .bind(opt_us(t.running_since))
            .bind(t.accumulated_us)
            .bind(t.version)
            .bind(us(t.created_at))
            .bind(us(t.updated_at))
            .execute(&mut *tx)
            .await?;
        } else {
            let done = sqlx::query(
                "UPDATE time_timers SET running_since = $1, accumulated_us = $2, version = $3, updated_at = $4 \
                 WHERE org_id = $5 AND id = $6 AND version = $7",
            )
            .bind(opt_us(t.running_since))
            .bind(t.accumulated_us)
            .bind(t.version)
            .bind(us(t.updated_at))
            .bind(&t.org_id)
            .bind(&t.id)
            .bind(t.version - 1)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
        }
    }
    for e in &change.entries {
        insert_entry_row(&mut tx, e).await?;
    }
    for (case_id, events) in &change.events {
        insert_events(&mut tx, &change.org_id, case_id, actor_id, events).await?;
    }
    tx.commit().await?;
    Ok(())
}
