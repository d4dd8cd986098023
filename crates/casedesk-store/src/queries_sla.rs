// Business calendars and SLA policies, compiled once per backend like `queries.rs` (this file is
// `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::calendar::{BusinessCalendar, CalendarInput, DayInput, HolidayInput, PeriodInput};
use casedesk_domain::sla::{Policy, PolicyInput, RuleInput};
use serde_json::{Map, Value, json};

// ---- calendars ---------------------------------------------------------------------------------

/// `{"monday": [["09:00", "12:00"], …], …}` and `[{"date": …, "name": …}]`.
fn calendar_json(cal: &BusinessCalendar) -> (String, String) {
    let input = cal.to_input();
    let mut hours = Map::new();
    for day in &input.hours {
        let periods: Vec<Value> = day.periods.iter().map(|p| json!([p.start, p.end])).collect();
        hours.insert(day.day.clone(), Value::Array(periods));
    }
    let holidays: Vec<Value> = input.holidays.iter().map(|h| json!({ "date": h.date, "name": h.name })).collect();
    (Value::Object(hours).to_string(), Value::Array(holidays).to_string())
}

fn decode_calendar(row: &DbRow) -> Result<CalendarRecord> {
    let hours: String = row.try_get("hours")?;
    let holidays: String = row.try_get("holidays")?;
    let hours: Map<String, Value> = serde_json::from_str(&hours).map_err(|e| corrupt("hours", e))?;
    let holidays: Vec<Value> = serde_json::from_str(&holidays).map_err(|e| corrupt("holidays", e))?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let input = CalendarInput {
        time_zone: row.try_get("time_zone")?,
        hours: hours
            .iter()
            .map(|(day, periods)| DayInput {
                day: day.clone(),
                periods: periods
                    .as_array()
                    .map(|ps| ps.iter().map(|p| PeriodInput { start: text(&p[0]), end: text(&p[1]) }).collect())
                    .unwrap_or_default(),
            })
            .collect(),
        holidays: holidays.iter().map(|h| HolidayInput { date: text(&h["date"]), name: text(&h["name"]) }).collect(),
    };
    Ok(CalendarRecord {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        calendar: BusinessCalendar::from_input(input).map_err(|e| corrupt("calendar", format!("{e:?}")))?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_calendar(pool: &Pool, c: &CalendarRecord, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let (hours, holidays) = calendar_json(&c.calendar);
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO business_calendars (id, org_id, name, time_zone, hours, holidays, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.org_id)
    .bind(&c.name)
    .bind(c.calendar.time_zone_name())
    .bind(hours)
    .bind(holidays)
    .bind(us(c.created_at))
    .bind(us(c.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_calendar(pool: &Pool, org_id: &str, id: &str) -> Result<CalendarRecord> {
    let row = fetch_in_org(pool, "SELECT b.* FROM business_calendars b WHERE b.org_id = $1 AND b.id = $2", org_id, id).await?;
    decode_calendar(&row)
}

pub async fn list_calendars(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<CalendarRecord>> {
    let key = |c: &CalendarRecord| (us(c.created_at), c.id.clone());
    list_page(pool, "SELECT b.* FROM business_calendars b", "b", org_id, |_| {}, page, "calendars", decode_calendar, key)
        .await
}

pub async fn update_calendar(pool: &Pool, c: &CalendarRecord) -> Result<()> {
    let (hours, holidays) = calendar_json(&c.calendar);
    let done = sqlx::query(
        "UPDATE business_calendars SET name = $1, time_zone = $2, hours = $3, holidays = $4, updated_at = $5 \
         WHERE org_id = $6 AND id = $7",
    )
    .bind(&c.name)
    .bind(c.calendar.time_zone_name())
    .bind(hours)
    .bind(holidays)
    .bind(us(c.updated_at))
    .bind(&c.org_id)
    .bind(&c.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a calendar no policy or queue uses ([`StoreError::InUse`] otherwise).
pub async fn delete_calendar(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "business_calendars", org_id, id).await?;
    let uses = "SELECT (SELECT COUNT(*) FROM sla_policies WHERE org_id = $1 AND calendar_id = $2) \
                + (SELECT COUNT(*) FROM case_queues WHERE org_id = $1 AND calendar_id = $2)";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} policy(ies) or queue(s) use the calendar")).await?;
    delete_in_org(&mut tx, "business_calendars", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

// ---- policies ----------------------------------------------------------------------------------

fn policy_json(p: &Policy) -> (String, String) {
    let rules: Vec<Value> = p
        .rules
        .iter()
        .map(|r| {
            json!({
                "priority": r.priority.as_str(),
                "first_response_minutes": r.first_response_minutes,
                "next_response_minutes": r.next_response_minutes,
                "resolution_minutes": r.resolution_minutes,
            })
        })
        .collect();
    let pauses: Vec<&str> = p.pause_statuses.iter().map(|s| s.as_str()).collect();
    (Value::Array(rules).to_string(), json!(pauses).to_string())
}

fn decode_policy(row: &DbRow) -> Result<PolicyRecord> {
    let rules: String = row.try_get("rules")?;
    let pauses: String = row.try_get("pause_statuses")?;
    let rules: Vec<Value> = serde_json::from_str(&rules).map_err(|e| corrupt("rules", e))?;
    let pauses: Vec<String> = serde_json::from_str(&pauses).map_err(|e| corrupt("pause_statuses", e))?;
    let input = PolicyInput {
        rules: rules
            .iter()
            .map(|r| RuleInput {
                priority: r["priority"].as_str().unwrap_or_default().to_string(),
                first_response_minutes: r["first_response_minutes"].as_i64(),
                next_response_minutes: r["next_response_minutes"].as_i64(),
                resolution_minutes: r["resolution_minutes"].as_i64(),
            })
            .collect(),
        pause_statuses: Some(pauses),
        warn_percent: Some(row.try_get("warn_percent")?),
    };
    Ok(PolicyRecord {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        calendar_id: row.try_get("calendar_id")?,
        policy: Policy::validate(input).map_err(|e| corrupt("policy", format!("{e:?}")))?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_policy(pool: &Pool, p: &PolicyRecord, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let (rules, pauses) = policy_json(&p.policy);
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO sla_policies (id, org_id, name, description, calendar_id, rules, pause_statuses, warn_percent, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&p.id)
    .bind(&p.org_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.calendar_id)
    .bind(rules)
    .bind(pauses)
    .bind(i64::from(p.policy.warn_percent))
    .bind(us(p.created_at))
    .bind(us(p.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_policy(pool: &Pool, org_id: &str, id: &str) -> Result<PolicyRecord> {
    let row = fetch_in_org(pool, "SELECT p.* FROM sla_policies p WHERE p.org_id = $1 AND p.id = $2", org_id, id).await?;
    decode_policy(&row)
}

pub async fn list_policies(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<PolicyRecord>> {
    let key = |p: &PolicyRecord| (us(p.created_at), p.id.clone());
    list_page(pool, "SELECT p.* FROM sla_policies p", "p", org_id, |_| {}, page, "policies", decode_policy, key).await
}

pub async fn update_policy(pool: &Pool, p: &PolicyRecord) -> Result<()> {
    let (rules, pauses) = policy_json(&p.policy);
    let done = sqlx::query(
        "UPDATE sla_policies SET name = $1, description = $2, calendar_id = $3, rules = $4, pause_statuses = $5, \
         warn_percent = $6, updated_at = $7 WHERE org_id = $8 AND id = $9",
    )
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.calendar_id)
    .bind(rules)
    .bind(pauses)
    .bind(i64::from(p.policy.warn_percent))
    .bind(us(p.updated_at))
    .bind(&p.org_id)
    .bind(&p.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a policy; queues that used it are left without one. (The use case stops the clocks
/// of the cases that followed it.)
pub async fn delete_policy(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE case_queues SET sla_policy_id = NULL WHERE org_id = $1 AND sla_policy_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    delete_in_org(&mut tx, "sla_policies", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Active cases whose clocks follow `policy_id`, a page at a time (after `after_seq`).
pub async fn cases_with_policy(pool: &Pool, org_id: &str, policy_id: &str, after_seq: i64, limit: i64) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT c.seq, c.id FROM cases c WHERE c.sla_policy_id = $1 AND c.org_id = $2 AND c.seq > $3 \
         AND c.deleted_at IS NULL AND c.status IN ('new', 'open', 'pending', 'on_hold') ORDER BY c.seq LIMIT $4",
    )
    .bind(policy_id)
    .bind(org_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("seq")?, r.try_get("id")?))).collect()
}

/// Cases whose SLA sweep time has come, earliest first: the breach sweep's work list. Indexed by
/// `sla_check_at`, so its cost follows the number of alarms due, not the number of open cases.
pub async fn sla_due(pool: &Pool, now: Timestamp, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT c.org_id, c.id FROM cases c WHERE c.sla_check_at IS NOT NULL AND c.sla_check_at <= $1 \
         ORDER BY c.sla_check_at LIMIT $2",
    )
    .bind(us(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("org_id")?, r.try_get("id")?))).collect()
}

/// Resolved cases whose organization's auto-close delay has passed at `now`, oldest first, as
/// `(org_id, case_id, version)`.
pub async fn resolved_due(pool: &Pool, now: Timestamp, limit: i64) -> Result<Vec<(String, String, i64)>> {
    const DAY_US: i64 = 86_400_000_000;
    // The first bound (no organization closes sooner than a day) lets the partial index on
    // resolved_at narrow the scan; the join applies each organization's own delay.
    let rows = sqlx::query(
        "SELECT c.org_id, c.id, c.version FROM cases c JOIN organizations o ON o.id = c.org_id \
         WHERE c.status = 'resolved' AND c.deleted_at IS NULL AND c.resolved_at <= $1 \
         AND c.resolved_at <= $2 - o.auto_close_days * $3 ORDER BY c.resolved_at LIMIT $4",
    )
    .bind(us(now) - DAY_US)
    .bind(us(now))
    .bind(DAY_US)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("org_id")?, r.try_get("id")?, r.try_get("version")?))).collect()
}

/// Benchmarks only: inserts `n` synthetic open cases of `org_id`, numbered after `first_number`,
/// each carrying the clocks `sla_json` and the sweep time `check_from + i * check_step` (µs).
#[allow(clippy::too_many_arguments)]
pub async fn bench_seed_open_cases(
    pool: &Pool,
    org_id: &str,
    user_id: &str,
    first_number: i64,
    n: i64,
    created_at: Timestamp,
    sla_json: &str,
    check_from: i64,
    check_step: i64,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(super::super::BENCH_SEED_OPEN_CASES)
        .bind(n)
        .bind(org_id)
        .bind(first_number)
        .bind(user_id)
        .bind(us(created_at))
        .bind(sla_json)
        .bind(check_from)
        .bind(check_step)
        .bind(seq_base(created_at)?)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE organizations SET next_case_number = $1 WHERE id = $2")
        .bind(first_number + n)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
