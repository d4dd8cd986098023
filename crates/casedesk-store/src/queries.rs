// The queries of casedesk, compiled once per backend: this file is `include!`d by `sqlite.rs`
// and `postgres.rs`, where `DB` is that backend's sqlx database type and the few statements that
// differ on purpose are defined. (No `//!` here: the including module documents it.)

use casedesk_domain::case::{Case, CaseType, Channel, Priority, Status};
use casedesk_domain::case_sla::CaseSla;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::people::{Account, Availability, Contact, User};
use casedesk_domain::policy::Role;
use casedesk_domain::search::{SearchDoc, people_ids};
use casedesk_domain::timeline::{self, AuthorType, Comment, Event, NewEvent};
use jiff::Timestamp;
use sqlx::Row;

use super::DB;
use crate::cursor::{self, Key};
use crate::model::*;
use crate::sql::{self, Arg, Sql};
use crate::{Result, StoreError};

type Pool = sqlx::Pool<DB>;
type Tx<'a> = sqlx::Transaction<'a, DB>;
type DbRow = <DB as sqlx::Database>::Row;

pub(crate) fn us(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn opt_us(t: Option<Timestamp>) -> Option<i64> {
    t.map(us)
}

fn ts(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(format!("timestamp {v}: {e}")))
}

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(ts).transpose()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn bind_args<'q>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
            Arg::Real(x) => q.bind(x),
        };
    }
    q
}

/// Applies a page request to a list ordered newest first by `(created_at, id)`.
fn page_clause(q: &mut Sql, alias: &str, page: &PageRequest, ordering: &str) -> Result<()> {
    page_clause_by(q, alias, "created_at", page, ordering)
}

/// Applies a page request to a list ordered newest first by `(column, id)`, `column` a time.
fn page_clause_by(q: &mut Sql, alias: &str, column: &str, page: &PageRequest, ordering: &str) -> Result<()> {
    if let Some(c) = &page.cursor {
        let keys = cursor::decode(c, ordering, &[true, false])?;
        let (Key::Int(at), Key::Text(id)) = (&keys[0], &keys[1]) else { return Err(StoreError::InvalidCursor) };
        let a = q.arg(Arg::Int(*at));
        let i = q.arg(Arg::Text(id.clone()));
        q.push(&format!(" AND ({alias}.{column}, {alias}.id) < ({a}, {i})"));
    }
    q.push(&format!(" ORDER BY {alias}.{column} DESC, {alias}.id DESC"));
    let l = q.arg(Arg::Int(i64::from(page.limit) + 1));
    q.push(" LIMIT ").push(&l);
    Ok(())
}

/// Cuts the extra row fetched to detect a next page and makes the cursor from the last kept row.
fn finish_page<T>(mut items: Vec<T>, limit: u32, ordering: &str, key: impl Fn(&T) -> (i64, String)) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|last| {
            let (at, id) = key(last);
            cursor::encode(ordering, &[Key::Int(at), Key::Text(id)])
        })
    } else {
        None
    };
    Page { items, next_cursor }
}

/// One page of an organization's records of one table, newest first: `select` is the statement
/// up to `WHERE` (`SELECT a.* FROM accounts a`); `filter` may add conditions.
#[allow(clippy::too_many_arguments)]
async fn list_page<T>(
    pool: &Pool,
    select: &str,
    alias: &str,
    org_id: &str,
    filter: impl FnOnce(&mut Sql),
    page: &PageRequest,
    list: &str,
    decode: fn(&DbRow) -> Result<T>,
    key: impl Fn(&T) -> (i64, String),
) -> Result<Page<T>> {
    let mut q = Sql::default();
    q.push(select).push(&format!(" WHERE {alias}.org_id = "));
    let p = q.arg(Arg::Text(org_id.into()));
    q.push(&p);
    filter(&mut q);
    page_clause(&mut q, alias, page, list)?;
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(finish_page(items, page.limit, list, key))
}

pub async fn ping(pool: &Pool) -> Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

pub async fn analyze(pool: &Pool) -> Result<()> {
    sqlx::raw_sql(super::ANALYZE).execute(pool).await?;
    Ok(())
}

// ---- organizations ---------------------------------------------------------------------------

pub async fn count_orgs(pool: &Pool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(pool).await?)
}

/// Inserts an organization with its default statuses.
pub async fn insert_org(pool: &Pool, org: &Org) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO organizations (id, name, status, time_zone, created_at, updated_at, auto_close_days, default_sla, \
         working_day_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.status)
    .bind(&org.time_zone)
    .bind(us(org.created_at))
    .bind(us(org.updated_at))
    .bind(org.auto_close_days)
    .bind(org.default_sla)
    .bind(org.working_day_minutes)
    .execute(&mut *tx)
    .await?;
    workflow::insert_default_statuses(&mut tx, &org.id).await?;
    workflow::insert_default_categories(&mut tx, &org.id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update_org(pool: &Pool, org: &Org) -> Result<()> {
    let done = sqlx::query(
        "UPDATE organizations SET name = $1, time_zone = $2, auto_close_days = $3, default_sla = $4, updated_at = $5, \
         working_day_minutes = $7 WHERE id = $6",
    )
    .bind(&org.name)
    .bind(&org.time_zone)
    .bind(org.auto_close_days)
    .bind(org.default_sla)
    .bind(us(org.updated_at))
    .bind(&org.id)
    .bind(org.working_day_minutes)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get_org(pool: &Pool, id: &str) -> Result<Org> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_org(&row)
}

const ORG_COLUMNS: &str =
    "o.id, o.name, o.status, o.time_zone, o.auto_close_days, o.default_sla, o.created_at, o.updated_at, o.working_day_minutes";

fn decode_org(row: &DbRow) -> Result<Org> {
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        time_zone: row.try_get("time_zone")?,
        auto_close_days: row.try_get("auto_close_days")?,
        default_sla: row.try_get("default_sla")?,
        working_day_minutes: row.try_get("working_day_minutes")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

// ---- users and tokens ------------------------------------------------------------------------

const USER_COLUMNS: &str =
    "u.id, u.org_id, u.email, u.name, u.role, u.availability, u.max_open_cases, u.is_active, u.created_at, u.updated_at";

fn decode_user(row: &DbRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(row.try_get("role")?).map_err(|e| corrupt("role", e))?,
        availability: Availability::parse(row.try_get("availability")?).map_err(|e| corrupt("availability", e))?,
        max_open_cases: row.try_get("max_open_cases")?,
        is_active: row.try_get("is_active")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_user(pool: &Pool, u: &User, password_hash: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, role, availability, password_hash, is_active, created_at, updated_at, \
         max_open_cases) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&u.id)
    .bind(&u.org_id)
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.availability.as_str())
    .bind(password_hash)
    .bind(u.is_active)
    .bind(us(u.created_at))
    .bind(us(u.updated_at))
    .bind(u.max_open_cases)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get_user(pool: &Pool, org_id: &str, id: &str) -> Result<User> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_user(&row)
}

pub async fn find_user(pool: &Pool, id: &str) -> Result<User> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_user(&row)
}

pub async fn list_users(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<User>> {
    let select = format!("SELECT {USER_COLUMNS} FROM users u");
    list_page(pool, &select, "u", org_id, |_| {}, page, "users", decode_user, |u| (us(u.created_at), u.id.clone())).await
}

pub async fn update_user(pool: &Pool, u: &User, password_hash: Option<&str>) -> Result<()> {
    let done = sqlx::query(
        "UPDATE users SET email = $1, name = $2, role = $3, availability = $4, is_active = $5, updated_at = $6, \
         password_hash = COALESCE($7, password_hash), max_open_cases = $8 WHERE org_id = $9 AND id = $10",
    )
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.availability.as_str())
    .bind(u.is_active)
    .bind(us(u.updated_at))
    .bind(password_hash)
    .bind(u.max_open_cases)
    .bind(&u.org_id)
    .bind(&u.id)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

const TOKEN_COLUMNS: &str = "t.id, t.org_id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at, t.revoked_at";

fn decode_token(row: &DbRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at: ts(row.try_get("created_at")?)?,
        last_used_at: opt_ts(row.try_get("last_used_at")?)?,
        expires_at: opt_ts(row.try_get("expires_at")?)?,
        revoked_at: opt_ts(row.try_get("revoked_at")?)?,
    })
}

pub async fn insert_token(pool: &Pool, t: &ApiToken, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, prefix, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(&t.org_id)
    .bind(&t.user_id)
    .bind(&t.name)
    .bind(token_hash)
    .bind(&t.prefix)
    .bind(us(t.created_at))
    .bind(opt_us(t.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find_token(pool: &Pool, token_hash: &str) -> Result<Option<(ApiToken, User)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS}, u.email, u.name AS user_name, u.role, u.availability, u.max_open_cases, u.is_active, \
         u.created_at AS user_created_at, u.updated_at AS user_updated_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token = decode_token(&row)?;
    let user = User {
        id: token.user_id.clone(),
        org_id: token.org_id.clone(),
        email: row.try_get("email")?,
        name: row.try_get("user_name")?,
        role: Role::parse(row.try_get("role")?).map_err(|e| corrupt("role", e))?,
        availability: Availability::parse(row.try_get("availability")?).map_err(|e| corrupt("availability", e))?,
        max_open_cases: row.try_get("max_open_cases")?,
        is_active: row.try_get("is_active")?,
        created_at: ts(row.try_get("user_created_at")?)?,
        updated_at: ts(row.try_get("user_updated_at")?)?,
    };
    Ok(Some((token, user)))
}

pub async fn touch_token(pool: &Pool, id: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(us(now)).bind(id).execute(pool).await?;
    Ok(())
}

pub async fn get_token(pool: &Pool, org_id: &str, id: &str) -> Result<ApiToken> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.org_id = $1 AND t.id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_token(&row)
}

pub async fn list_tokens(pool: &Pool, org_id: &str, user_id: Option<&str>, page: &PageRequest) -> Result<Page<ApiToken>> {
    let select = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t");
    let by_user = |q: &mut Sql| {
        if let Some(u) = user_id {
            let p = q.arg(Arg::Text(u.into()));
            q.push(" AND t.user_id = ").push(&p);
        }
    };
    list_page(pool, &select, "t", org_id, by_user, page, "tokens", decode_token, |t| (us(t.created_at), t.id.clone())).await
}

pub async fn revoke_token(pool: &Pool, org_id: &str, id: &str, now: Timestamp) -> Result<()> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND id = $3")
        .bind(us(now))
        .bind(org_id)
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---- accounts and contacts ------------------------------------------------------------------

fn decode_account(row: &DbRow) -> Result<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        domain: row.try_get("domain")?,
        tier: row.try_get("tier")?,
        portal_shares_cases: row.try_get("portal_shares_cases")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_account(pool: &Pool, a: &Account, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO accounts (id, org_id, name, domain, tier, created_at, updated_at, portal_shares_cases) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&a.id)
        .bind(&a.org_id)
        .bind(&a.name)
        .bind(&a.domain)
        .bind(&a.tier)
        .bind(us(a.created_at))
        .bind(us(a.updated_at))
        .bind(a.portal_shares_cases)
        .execute(&mut *tx)
        .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_account(pool: &Pool, org_id: &str, id: &str) -> Result<Account> {
    let row = fetch_in_org(pool, "SELECT a.* FROM accounts a WHERE a.org_id = $1 AND a.id = $2", org_id, id).await?;
    decode_account(&row)
}

pub async fn list_accounts(pool: &Pool, org_id: &str, page: &PageRequest) -> Result<Page<Account>> {
    let key = |a: &Account| (us(a.created_at), a.id.clone());
    list_page(pool, "SELECT a.* FROM accounts a", "a", org_id, |_| {}, page, "accounts", decode_account, key).await
}

pub async fn update_account(pool: &Pool, a: &Account) -> Result<()> {
    let done = sqlx::query("UPDATE accounts SET name = $1, domain = $2, tier = $3, updated_at = $4, portal_shares_cases = $7 WHERE org_id = $5 AND id = $6")
        .bind(&a.name)
        .bind(&a.domain)
        .bind(&a.tier)
        .bind(us(a.updated_at))
        .bind(&a.org_id)
        .bind(&a.id)
        .bind(a.portal_shares_cases)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Fails with NotFound unless `table` has row `id` in the organization. Checked before anything
/// else, so another organization's id is indistinguishable from a missing one.
/// (`table` is a name written in this crate, never input.)
/// The one row `select` finds, binding `org_id` as `$1` and `id` as `$2`
/// ([`StoreError::NotFound`] if none).
async fn fetch_in_org(pool: &Pool, select: &'static str, org_id: &str, id: &str) -> Result<DbRow> {
    sqlx::query(select).bind(org_id).bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound)
}

/// Deletes the organization's record `id` of `table` ([`StoreError::NotFound`] if there is none).
async fn delete_in_org(tx: &mut Tx<'_>, table: &'static str, org_id: &str, id: &str) -> Result<()> {
    let sql = format!("DELETE FROM {table} WHERE org_id = $1 AND id = $2");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).execute(&mut **tx).await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Refuses with [`StoreError::InUse`] (`why` says so, given the count) when `count`, binding
/// `org_id` as `$1` and `id` as `$2`, counts any row that refers to the record.
async fn refuse_if_used(
    tx: &mut Tx<'_>,
    count: &'static str,
    org_id: &str,
    id: &str,
    why: fn(i64) -> String,
) -> Result<()> {
    let n: i64 = sqlx::query_scalar(count).bind(org_id).bind(id).fetch_one(&mut **tx).await?;
    if n > 0 { Err(StoreError::InUse(why(n))) } else { Ok(()) }
}

async fn must_exist(tx: &mut Tx<'_>, table: &'static str, org_id: &str, id: &str) -> Result<()> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE org_id = $1 AND id = $2");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_one(&mut **tx).await?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn delete_account(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "accounts", org_id, id).await?;
    let uses = "SELECT (SELECT COUNT(*) FROM contacts WHERE org_id = $1 AND account_id = $2) \
                + (SELECT COUNT(*) FROM cases WHERE org_id = $1 AND account_id = $2)";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} contact(s) or case(s) belong to the account")).await?;
    delete_in_org(&mut tx, "accounts", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

fn decode_contact(row: &DbRow) -> Result<Contact> {
    Ok(Contact {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        external_id: row.try_get("external_id")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn insert_contact(pool: &Pool, c: &Contact, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO contacts (id, org_id, account_id, name, email, phone, external_id, created_at, updated_at, phone_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.id)
    .bind(&c.org_id)
    .bind(&c.account_id)
    .bind(&c.name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.external_id)
    .bind(us(c.created_at))
    .bind(us(c.updated_at))
    .bind(c.phone.as_deref().and_then(casedesk_domain::people::phone_key))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_contact(pool: &Pool, org_id: &str, id: &str) -> Result<Contact> {
    let row = fetch_in_org(pool, "SELECT ct.* FROM contacts ct WHERE ct.org_id = $1 AND ct.id = $2", org_id, id).await?;
    decode_contact(&row)
}

pub async fn list_contacts(pool: &Pool, org_id: &str, filter: &ContactFilter, page: &PageRequest) -> Result<Page<Contact>> {
    let by_fields = |q: &mut Sql| {
        let phone_key = filter.phone.as_deref().map(|p| casedesk_domain::people::phone_key(p).unwrap_or_default());
        for (col, v) in [
            ("ct.account_id", &filter.account_id),
            ("ct.email", &filter.email),
            ("ct.external_id", &filter.external_id),
            ("ct.phone_key", &phone_key),
        ] {
            if let Some(v) = v {
                let p = q.arg(Arg::Text(v.clone()));
                q.push(&format!(" AND {col} = {p}"));
            }
        }
    };
    let key = |c: &Contact| (us(c.created_at), c.id.clone());
    list_page(pool, "SELECT ct.* FROM contacts ct", "ct", org_id, by_fields, page, "contacts", decode_contact, key).await
}

pub async fn update_contact(pool: &Pool, c: &Contact) -> Result<()> {
    let mut tx = pool.begin().await?;
    let old_name: Option<String> = sqlx::query_scalar("SELECT name FROM contacts WHERE org_id = $1 AND id = $2")
        .bind(&c.org_id)
        .bind(&c.id)
        .fetch_optional(&mut *tx)
        .await?;
    let old_name = old_name.ok_or(StoreError::NotFound)?;
    sqlx::query(
        "UPDATE contacts SET account_id = $1, name = $2, email = $3, phone = $4, external_id = $5, updated_at = $6, \
         phone_key = $7 WHERE org_id = $8 AND id = $9",
    )
    .bind(&c.account_id)
    .bind(&c.name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.external_id)
    .bind(us(c.updated_at))
    .bind(c.phone.as_deref().and_then(casedesk_domain::people::phone_key))
    .bind(&c.org_id)
    .bind(&c.id)
    .execute(&mut *tx)
    .await?;
    if old_name != c.name {
        // The contact's cases are found by its name: the new one from this commit on.
        let cases = sqlx::query(
            "SELECT seq, id FROM cases WHERE org_id = $1 AND (contact_id = $2 OR requester_id = $2) \
             AND deleted_at IS NULL ORDER BY seq",
        )
        .bind(&c.org_id)
        .bind(&c.id)
        .fetch_all(&mut *tx)
        .await?;
        for row in &cases {
            let id: String = row.try_get("id")?;
            reindex(&mut tx, row.try_get("seq")?, &id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete_contact(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "contacts", org_id, id).await?;
    let uses = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND (contact_id = $2 OR requester_id = $2)";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("the contact has {n} case(s)")).await?;
    delete_in_org(&mut tx, "contacts", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// `COUNT(*)` of the records of `kind` with id `$id` in organization `$org`.
fn count_ref(kind: RefKind, org: &str, id: &str) -> String {
    match kind {
        RefKind::User => format!("SELECT COUNT(*) FROM users WHERE org_id = {org} AND id = {id} AND is_active = TRUE"),
        RefKind::Contact => format!("SELECT COUNT(*) FROM contacts WHERE org_id = {org} AND id = {id}"),
        RefKind::Account => format!("SELECT COUNT(*) FROM accounts WHERE org_id = {org} AND id = {id}"),
        RefKind::Queue => format!("SELECT COUNT(*) FROM case_queues WHERE org_id = {org} AND id = {id}"),
        RefKind::Case => format!("SELECT COUNT(*) FROM cases WHERE org_id = {org} AND id = {id} AND deleted_at IS NULL"),
        RefKind::Calendar => format!("SELECT COUNT(*) FROM business_calendars WHERE org_id = {org} AND id = {id}"),
        RefKind::SlaPolicy => format!("SELECT COUNT(*) FROM sla_policies WHERE org_id = {org} AND id = {id}"),
    }
}

pub async fn exists(pool: &Pool, kind: RefKind, org_id: &str, id: &str) -> Result<bool> {
    Ok(exist_all(pool, org_id, &[(kind, id)]).await?.first().copied().unwrap_or(false))
}

pub async fn exist_all(pool: &Pool, org_id: &str, refs: &[(RefKind, &str)]) -> Result<Vec<bool>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    let org = q.arg(Arg::Text(org_id.into()));
    let parts: Vec<String> = refs
        .iter()
        .enumerate()
        .map(|(i, (kind, id))| {
            let id = q.arg(Arg::Text((*id).to_string()));
            format!("({}) AS r{i}", count_ref(*kind, &org, &id))
        })
        .collect();
    q.push("SELECT ").push(&parts.join(", "));
    let row = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_one(pool).await?;
    (0..refs.len()).map(|i| Ok(row.try_get::<i64, _>(i)? > 0)).collect()
}

/// The organization's settings and, for each `(kind, id)`, whether it exists there — in one
/// query: what creating a case needs to know before it is built.
pub async fn org_and_refs(pool: &Pool, org_id: &str, refs: &[(RefKind, &str)]) -> Result<(Org, Vec<bool>)> {
    let mut q = Sql::default();
    let org = q.arg(Arg::Text(org_id.into()));
    let mut parts = vec![ORG_COLUMNS.to_string()];
    for (i, (kind, id)) in refs.iter().enumerate() {
        let id = q.arg(Arg::Text((*id).to_string()));
        parts.push(format!("({}) AS r{i}", count_ref(*kind, &org, &id)));
    }
    q.push("SELECT ").push(&parts.join(", ")).push(&format!(" FROM organizations o WHERE o.id = {org}"));
    let row = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    let found =
        (0..refs.len()).map(|i| Ok(row.try_get::<i64, _>(format!("r{i}").as_str())? > 0)).collect::<Result<_>>()?;
    Ok((decode_org(&row)?, found))
}

// ---- cases -------------------------------------------------------------------------------------

/// Decodes the columns of [`sql::CASE_COLUMNS`]; returns the row's `seq` beside the case.
fn decode_case(row: &DbRow) -> Result<(i64, Case)> {
    let tags: String = row.try_get("tags")?;
    let custom: String = row.try_get("custom_fields")?;
    let skills: String = row.try_get("required_skills")?;
    let sla: Option<String> = row.try_get("sla")?;
    let case = Case {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_number: row.try_get("case_number")?,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        status: Status::parse(row.try_get("status")?).map_err(|e| corrupt("status", e))?,
        priority: Priority::from_rank(row.try_get("priority")?).ok_or_else(|| corrupt("priority", "out of range"))?,
        case_type: CaseType::parse(row.try_get("case_type")?).map_err(|e| corrupt("case_type", e))?,
        channel: Channel::parse(row.try_get("channel")?).map_err(|e| corrupt("channel", e))?,
        queue_id: row.try_get("queue_id")?,
        owner_id: row.try_get("owner_id")?,
        requester_id: row.try_get("requester_id")?,
        contact_id: row.try_get("contact_id")?,
        account_id: row.try_get("account_id")?,
        opportunity_id: row.try_get("opportunity_id")?,
        tags: serde_json::from_str(&tags).map_err(|e| corrupt("tags", e))?,
        custom_fields: serde_json::from_str(&custom).map_err(|e| corrupt("custom_fields", e))?,
        resolution_notes: row.try_get("resolution_notes")?,
        due_at: opt_ts(row.try_get("due_at")?)?,
        is_waiting: row.try_get("is_waiting")?,
        unread_message_count: row.try_get("unread_message_count")?,
        resolved_at: opt_ts(row.try_get("resolved_at")?)?,
        closed_at: opt_ts(row.try_get("closed_at")?)?,
        created_by: row.try_get("created_by")?,
        updated_by: row.try_get("updated_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
        version: row.try_get("version")?,
        required_skills: serde_json::from_str(&skills).map_err(|e| corrupt("required_skills", e))?,
        problem_id: row.try_get("problem_id")?,
        sla: match sla {
            Some(text) => {
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| corrupt("sla", e))?;
                Some(CaseSla::from_json(&v).map_err(|e| corrupt("sla", e))?)
            }
            None => None,
        },
        custom_status_id: row.try_get("custom_status_id")?,
        funnel_stage_id: row.try_get("funnel_stage_id")?,
        merged_into_id: row.try_get("merged_into_id")?,
        category_id: row.try_get("category_id")?,
        report: casedesk_domain::report::marks_of(row.try_get::<Option<String>, _>("report")?.as_deref())
            .map_err(|e| corrupt("report", e))?,
    };
    Ok((row.try_get("seq")?, case))
}

/// A case's SLA clocks as stored: the JSON, and what is derived from it for filters and the
/// breach sweep's index.
struct SlaColumns {
    json: Option<String>,
    breached: bool,
    due_at: Option<i64>,
    check_at: Option<i64>,
    policy_id: Option<String>,
}

impl SlaColumns {
    fn of(c: &Case) -> Result<SlaColumns> {
        Ok(match &c.sla {
            Some(sla) => SlaColumns {
                json: Some(json_text(&sla.to_json())?),
                breached: sla.breached(),
                due_at: opt_us(sla.next_due()),
                check_at: opt_us(sla.check_at()),
                policy_id: sla.policy_id.clone(),
            },
            None => SlaColumns { json: None, breached: false, due_at: None, check_at: None, policy_id: None },
        })
    }
}

/// The stored report figures of a case (see `casedesk_domain::report::facts`).
pub(crate) fn report_text(c: &Case) -> Result<String> {
    json_text(&casedesk_domain::report::facts(c))
}

pub(crate) fn json_text(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt("json", e))
}

async fn next_case_number(tx: &mut Tx<'_>, org_id: &str) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "UPDATE organizations SET next_case_number = next_case_number + 1 WHERE id = $1 RETURNING next_case_number - 1",
    )
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(n)
}

/// The smallest `seq` of a case created at `at`: its creation time in microseconds times 1024.
/// The next free number of that microsecond's 1024 is taken, so `seq` order is `(created_at,
/// seq)` order. Imports are bounded to years 1900–2200, well inside the range this can hold.
pub(crate) fn seq_base(at: Timestamp) -> Result<i64> {
    us(at).checked_mul(1024).ok_or_else(|| corrupt("seq", format!("time {at} is out of range")))
}

/// Inserts the case row, its tags and its search entry; returns its `seq`.
async fn insert_case_row(tx: &mut Tx<'_>, c: &Case, doc: &SearchDoc) -> Result<i64> {
    let mut q = sqlx::query_scalar(super::INSERT_CASE)
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(c.case_number)
        .bind(&c.subject)
        .bind(&c.description)
        .bind(c.status.as_str())
        .bind(c.priority.rank())
        .bind(c.case_type.as_str())
        .bind(c.channel.as_str())
        .bind(&c.queue_id)
        .bind(&c.owner_id)
        .bind(&c.requester_id)
        .bind(&c.contact_id)
        .bind(&c.account_id)
        .bind(&c.opportunity_id)
        .bind(json_text(&c.tags)?)
        .bind(json_text(&c.custom_fields)?)
        .bind(&c.resolution_notes)
        .bind(opt_us(c.due_at))
        .bind(c.is_waiting)
        .bind(opt_us(c.resolved_at))
        .bind(opt_us(c.closed_at))
        .bind(&c.created_by)
        .bind(&c.updated_by)
        .bind(us(c.created_at))
        .bind(us(c.updated_at))
        .bind(c.version);
    if super::SEQ_FOLLOWS_CREATED_AT {
        q = q.bind(seq_base(c.created_at)?);
    }
    if super::INSERT_BINDS_SEARCH {
        q = q.bind(&doc.subject).bind(&doc.description).bind(&doc.comments);
    }
    let sla = SlaColumns::of(c)?;
    q = q
        .bind(json_text(&c.required_skills)?)
        .bind(&c.problem_id)
        .bind(sla.json)
        .bind(sla.breached)
        .bind(sla.due_at)
        .bind(sla.check_at)
        .bind(sla.policy_id)
        .bind(&c.custom_status_id)
        .bind(&c.funnel_stage_id)
        .bind(&c.merged_into_id)
        .bind(&c.category_id);
    if super::INSERT_BINDS_SEARCH {
        q = q.bind(&doc.people);
    }
    q = q.bind(report_text(c)?);
    let seq: i64 = q.fetch_one(&mut **tx).await?;
    insert_tags(tx, &c.org_id, seq, &c.tags).await?;
    if !super::INSERT_BINDS_SEARCH {
        super::write_search(tx, seq, doc, false).await?;
    }
    Ok(seq)
}

/// Rebuilds a case's search entry from its current subject, description, comments and people.
async fn reindex(tx: &mut Tx<'_>, seq: i64, case_id: &str) -> Result<()> {
    let row = sqlx::query("SELECT subject, description, contact_id, requester_id FROM cases WHERE seq = $1")
        .bind(seq)
        .fetch_one(&mut **tx)
        .await?;
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM comments WHERE case_id = $1 ORDER BY created_at, id")
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await?;
    let subject: String = row.try_get("subject")?;
    let description: String = row.try_get("description")?;
    let (contact, requester): (Option<String>, Option<String>) = (row.try_get("contact_id")?, row.try_get("requester_id")?);
    let names = names_of_people(tx, &people_ids(contact.as_deref(), requester.as_deref())).await?;
    let doc = SearchDoc::new(&subject, &description, bodies.iter().map(String::as_str))
        .with_people(names.iter().map(String::as_str));
    super::write_search(tx, seq, &doc, true).await
}

/// The names of the contacts `ids`, in that order (a missing one is left out).
async fn names_of_people(tx: &mut Tx<'_>, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for all: every statement of a write transaction is a round trip made while
    // holding the writer.
    let marks = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT id, name FROM contacts WHERE id IN ({marks})");
    let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(*id);
    }
    let found = q.fetch_all(&mut **tx).await?;
    Ok(ids.iter().filter_map(|id| found.iter().find(|(k, _)| k == id).map(|(_, n)| n.clone())).collect())
}

/// The search document of a case about to be written: its subject, description and people.
async fn new_case_doc(tx: &mut Tx<'_>, case: &Case) -> Result<SearchDoc> {
    let names = names_of_people(tx, &people_ids(case.contact_id.as_deref(), Some(case.requester_id.as_str()))).await?;
    Ok(SearchDoc::new(&case.subject, &case.description, []).with_people(names.iter().map(String::as_str)))
}

/// Whether these events change what a case is found by.
fn changes_search_text(events: &[NewEvent]) -> bool {
    events.iter().any(|e| {
        matches!(
            e.data.get("field").and_then(|f| f.as_str()),
            Some("subject" | "description" | "contact_id" | "requester_id")
        )
    })
}

/// Asks for every search entry to be rebuilt (from the first case on).
pub async fn request_search_rebuild(pool: &Pool) -> Result<()> {
    sqlx::query(
        "INSERT INTO search_rebuild (id, after_seq) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET after_seq = excluded.after_seq",
    )
    .bind(i64::MIN)
    .execute(pool)
    .await?;
    Ok(())
}

/// Rebuilds the search entries of up to `batch` cases after the point `search_rebuild` keeps,
/// in one transaction that also moves the point on (or removes it after the last case). Answers
/// how many cases it went through, or `None` when there is nothing to rebuild.
pub async fn rebuild_search_batch(pool: &Pool, batch: i64) -> Result<Option<u64>> {
    let mut tx = pool.begin().await?;
    let after: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT after_seq FROM search_rebuild WHERE id = 1{}",
        super::FOR_UPDATE
    )))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(after) = after else { return Ok(None) };
    let rows = sqlx::query("SELECT seq, id, deleted_at FROM cases WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
    for row in &rows {
        // A case in the trash stays out of the index until it is restored.
        if row.try_get::<Option<i64>, _>("deleted_at")?.is_none() {
            let id: String = row.try_get("id")?;
            reindex(&mut tx, row.try_get("seq")?, &id).await?;
        }
    }
    match rows.last() {
        Some(last) if rows.len() as i64 == batch => {
            sqlx::query("UPDATE search_rebuild SET after_seq = $1 WHERE id = 1")
                .bind(last.try_get::<i64, _>("seq")?)
                .execute(&mut *tx)
                .await?;
        }
        _ => {
            sqlx::query("DELETE FROM search_rebuild WHERE id = 1").execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(Some(rows.len() as u64))
}

async fn insert_tags(tx: &mut Tx<'_>, org_id: &str, seq: i64, tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let rows = (0..tags.len()).map(|i| format!("($1, ${}, $2)", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO case_tags (org_id, tag, case_seq) VALUES {rows}");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(seq);
    for tag in tags {
        q = q.bind(tag);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_events(tx: &mut Tx<'_>, org_id: &str, case_id: &str, actor_id: &str, events: &[NewEvent]) -> Result<()> {
    // In one statement, rows in the events' order (their `seq` follows it).
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let rows = (0..chunk.len())
            .map(|i| format!("($1, $2, ${}, $3, ${}, ${})", 4 + 3 * i, 5 + 3 * i, 6 + 3 * i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO case_events (org_id, case_id, kind, actor_id, data, created_at) VALUES {rows}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(case_id).bind(actor_id);
        for e in chunk {
            q = q.bind(e.kind).bind(json_text(&e.data)?).bind(us(e.created_at));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Most events in one INSERT (SQLite allows 32,766 bound values; three per event and three shared).
const EVENTS_PER_STATEMENT: usize = 500;

async fn insert_idem(tx: &mut Tx<'_>, r: &IdempotencyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (org_id, user_id, key, request_hash, resource_id, status_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.org_id)
    .bind(&r.user_id)
    .bind(&r.key)
    .bind(&r.request_hash)
    .bind(&r.resource_id)
    .bind(i64::from(r.status_code))
    .bind(us(r.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates a case one statement at a time: number, row, tags, index entry, `created` event,
/// idempotency key, in one transaction. (SQLite batches many creates into one round trip
/// instead: `sqlite::creator`.)
pub async fn create_case(pool: &Pool, case: &Case, extra: &[NewEvent], idem: Option<&IdempotencyRecord>) -> Result<Case> {
    let mut tx = pool.begin().await?;
    let mut case = case.clone();
    let doc = new_case_doc(&mut tx, &case).await?;
    case.case_number = next_case_number(&mut tx, &case.org_id).await?;
    insert_case_row(&mut tx, &case, &doc).await?;
    let mut events = vec![timeline::created(&case, timeline::CASE_CREATED)];
    events.extend_from_slice(extra);
    insert_events(&mut tx, &case.org_id, &case.id, &case.created_by, &events).await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(case)
}

/// Writes every column of a case at `expected_version`; returns its `seq`.
async fn write_case(tx: &mut Tx<'_>, c: &Case, expected_version: i64) -> Result<i64> {
    let sla = SlaColumns::of(c)?;
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE cases SET subject = $1, description = $2, status = $3, priority = $4, case_type = $5, channel = $6, \
         queue_id = $7, owner_id = $8, requester_id = $9, contact_id = $10, account_id = $11, opportunity_id = $12, \
         tags = $13, custom_fields = $14, resolution_notes = $15, due_at = $16, is_waiting = $17, resolved_at = $18, \
         closed_at = $19, updated_by = $20, updated_at = $21, version = $22, required_skills = $26, problem_id = $27, \
         sla = $28, sla_breached = $29, sla_due_at = $30, sla_check_at = $31, sla_policy_id = $32, \
         custom_status_id = $33, funnel_stage_id = $34, merged_into_id = $35, category_id = $36, report = $37, \
         unread_message_count = $38 \
         WHERE org_id = $23 AND id = $24 AND version = $25 AND deleted_at IS NULL RETURNING seq",
    )
    .bind(&c.subject)
    .bind(&c.description)
    .bind(c.status.as_str())
    .bind(c.priority.rank())
    .bind(c.case_type.as_str())
    .bind(c.channel.as_str())
    .bind(&c.queue_id)
    .bind(&c.owner_id)
    .bind(&c.requester_id)
    .bind(&c.contact_id)
    .bind(&c.account_id)
    .bind(&c.opportunity_id)
    .bind(json_text(&c.tags)?)
    .bind(json_text(&c.custom_fields)?)
    .bind(&c.resolution_notes)
    .bind(opt_us(c.due_at))
    .bind(c.is_waiting)
    .bind(opt_us(c.resolved_at))
    .bind(opt_us(c.closed_at))
    .bind(&c.updated_by)
    .bind(us(c.updated_at))
    .bind(c.version)
    .bind(&c.org_id)
    .bind(&c.id)
    .bind(expected_version)
    .bind(json_text(&c.required_skills)?)
    .bind(&c.problem_id)
    .bind(sla.json)
    .bind(sla.breached)
    .bind(sla.due_at)
    .bind(sla.check_at)
    .bind(sla.policy_id)
    .bind(&c.custom_status_id)
    .bind(&c.funnel_stage_id)
    .bind(&c.merged_into_id)
    .bind(&c.category_id)
    .bind(report_text(c)?)
    .bind(c.unread_message_count)
    .fetch_optional(&mut **tx)
    .await?;
    seq.ok_or(StoreError::Stale)
}

pub async fn update_case(pool: &Pool, case: &Case, expected_version: i64, events: &[NewEvent], actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let seq = write_case(&mut tx, case, expected_version).await?;
    if events.iter().any(|e| matches!(e.data.get("field").and_then(|f| f.as_str()), Some("tags"))) {
        sqlx::query("DELETE FROM case_tags WHERE case_seq = $1").bind(seq).execute(&mut *tx).await?;
        insert_tags(&mut tx, &case.org_id, seq, &case.tags).await?;
    }
    if changes_search_text(events) {
        reindex(&mut tx, seq, &case.id).await?;
    }
    insert_events(&mut tx, &case.org_id, &case.id, actor_id, events).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn soft_delete_case(pool: &Pool, case: &Case, now: Timestamp, actor_id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let seq: Option<i64> = sqlx::query_scalar(
        // A deleted case has nothing left for the SLA sweep: without its check time cleared it
        // would stay at the head of the sweep's work list for good.
        "UPDATE cases SET deleted_at = $1, deleted_by = $4, version = version + 1, sla_check_at = NULL \
         WHERE org_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING seq",
    )
    .bind(us(now))
    .bind(&case.org_id)
    .bind(&case.id)
    .bind(actor_id)
    .fetch_optional(&mut *tx)
    .await?;
    let seq = seq.ok_or(StoreError::NotFound)?;
    super::unindex_case(&mut tx, seq).await?;
    let event = NewEvent { kind: timeline::CASE_DELETED, data: serde_json::json!({}), created_at: now };
    insert_events(&mut tx, &case.org_id, &case.id, actor_id, &[event]).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_case(pool: &Pool, org_id: &str, id: &str) -> Result<Case> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {} FROM cases c WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL", sql::CASE_COLUMNS)))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(decode_case(&row)?.1)
}

/// The columns of [`sql::WORKFLOW_COLUMNS`].
fn decode_workflow(row: &DbRow, case: &Case) -> Result<WorkflowSummary> {
    let custom_status = match row.try_get::<Option<String>, _>("cst_id")? {
        Some(id) => Some((id, row.try_get("cst_name")?)),
        None => None,
    };
    let funnel_stage = match (&case.funnel_stage_id, row.try_get::<Option<String>, _>("stg_name")?) {
        (Some(id), Some(name)) => Some((id.clone(), name, row.try_get("stg_position")?)),
        _ => None,
    };
    Ok(WorkflowSummary { custom_status, funnel_stage })
}

/// A case with its account, contact, custom status and funnel stage, in one query.
pub async fn get_case_with_refs(pool: &Pool, org_id: &str, id: &str) -> Result<(Case, Option<Account>, Option<Contact>, WorkflowSummary)> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {}{}, a.id AS a_id, a.name AS a_name, a.domain AS a_domain, a.tier AS a_tier, \
         a.portal_shares_cases AS a_portal_shares_cases, a.created_at AS a_created_at, a.updated_at AS a_updated_at, \
         ct.id AS ct_id, ct.account_id AS ct_account_id, ct.name AS ct_name, ct.email AS ct_email, ct.phone AS ct_phone, \
         ct.external_id AS ct_external_id, ct.created_at AS ct_created_at, ct.updated_at AS ct_updated_at \
         FROM cases c{} WHERE c.org_id = $1 AND c.id = $2 AND c.deleted_at IS NULL",
        sql::CASE_COLUMNS,
        sql::WORKFLOW_COLUMNS,
        sql::JOINS
    )))
    .bind(org_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    let (_, case) = decode_case(&row)?;
    let account = match row.try_get::<Option<String>, _>("a_id")? {
        Some(id) => Some(Account {
            id,
            org_id: case.org_id.clone(),
            name: row.try_get("a_name")?,
            domain: row.try_get("a_domain")?,
            tier: row.try_get("a_tier")?,
            portal_shares_cases: row.try_get("a_portal_shares_cases")?,
            created_at: ts(row.try_get("a_created_at")?)?,
            updated_at: ts(row.try_get("a_updated_at")?)?,
        }),
        None => None,
    };
    let contact = match row.try_get::<Option<String>, _>("ct_id")? {
        Some(id) => Some(Contact {
            id,
            org_id: case.org_id.clone(),
            account_id: row.try_get("ct_account_id")?,
            name: row.try_get("ct_name")?,
            email: row.try_get("ct_email")?,
            phone: row.try_get("ct_phone")?,
            external_id: row.try_get("ct_external_id")?,
            created_at: ts(row.try_get("ct_created_at")?)?,
            updated_at: ts(row.try_get("ct_updated_at")?)?,
        }),
        None => None,
    };
    let workflow = decode_workflow(&row, &case)?;
    Ok((case, account, contact, workflow))
}

/// How many cases of the organization the filter matches.
pub async fn count_cases(pool: &Pool, org_id: &str, filter: &CaseFilter) -> Result<i64> {
    let q = sql::count_cases(org_id, filter, &super::FULL_TEXT);
    let row = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_one(pool).await?;
    Ok(row.try_get(0)?)
}

pub async fn list_cases(pool: &Pool, org_id: &str, req: &ListRequest) -> Result<Page<CaseListItem>> {
    let q = sql::list_cases(org_id, req, &super::FULL_TEXT)?;
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    let mut last_score = None;
    let ordering = req.ordering.effective(&req.filter);
    for row in rows.iter().take(req.limit as usize) {
        let (seq, case) = decode_case(row)?;
        if ordering == Ordering::Relevance {
            last_score = Some((row.try_get::<f64, _>("score")?, us(case.created_at), seq));
        }
        let account = match row.try_get::<Option<String>, _>("acc_id")? {
            Some(id) => Some(AccountSummary { id, name: row.try_get("acc_name")?, tier: row.try_get("acc_tier")? }),
            None => None,
        };
        let contact = match row.try_get::<Option<String>, _>("cnt_id")? {
            Some(id) => Some(ContactSummary { id, name: row.try_get("cnt_name")?, email: row.try_get("cnt_email")? }),
            None => None,
        };
        last = Some((case.priority.rank(), us(case.created_at), us(case.updated_at), seq));
        let workflow = decode_workflow(row, &case)?;
        items.push(CaseListItem { case, account, contact, workflow });
    }
    let next_cursor = match (last, last_score) {
        _ if rows.len() <= req.limit as usize => None,
        (_, Some((score, created_at, seq))) => Some(sql::relevance_cursor(score, created_at, seq)),
        (Some((p, c, u, seq)), None) => Some(sql::case_cursor(ordering, p, c, u, seq)),
        (None, None) => None,
    };
    Ok(Page { items, next_cursor })
}

async fn insert_comment(tx: &mut Tx<'_>, c: &Comment) -> Result<()> {
    sqlx::query(
        "INSERT INTO comments (id, org_id, case_id, author_id, body, internal, created_at, author_type, reply_channel) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&c.org_id)
    .bind(&c.case_id)
    .bind(&c.author_id)
    .bind(&c.body)
    .bind(c.internal)
    .bind(us(c.created_at))
    .bind(c.author_type.as_str())
    .bind(c.reply_channel.map(Channel::as_str))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn add_comment(
    pool: &Pool,
    comment: &Comment,
    case: &Case,
    expected_version: i64,
    extra: &[NewEvent],
    idem: Option<&IdempotencyRecord>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    write_comment(&mut tx, comment, case, expected_version, extra, idem).await?;
    tx.commit().await?;
    Ok(())
}

/// A comment with its case's new state, attachments, search entry, events and idempotency key,
/// in the caller's transaction.
async fn write_comment(
    tx: &mut Tx<'_>,
    comment: &Comment,
    case: &Case,
    expected_version: i64,
    extra: &[NewEvent],
    idem: Option<&IdempotencyRecord>,
) -> Result<()> {
    let seq = write_case(tx, case, expected_version).await?;
    insert_comment(tx, comment).await?;
    files::attach_files(tx, comment).await?;
    reindex(tx, seq, &case.id).await?;
    let actor = comment.author_id.as_deref().unwrap_or(&case.updated_by);
    let mut events = vec![comment.event()];
    events.extend_from_slice(extra);
    insert_events(tx, &case.org_id, &case.id, actor, &events).await?;
    if let Some(r) = idem {
        insert_idem(tx, r).await?;
    }
    Ok(())
}

fn decode_comment(row: &DbRow) -> Result<Comment> {
    Ok(Comment {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        author_id: row.try_get("author_id")?,
        body: row.try_get("body")?,
        internal: row.try_get("internal")?,
        author_type: AuthorType::parse(row.try_get("author_type")?).map_err(|e| corrupt("author_type", e))?,
        created_at: ts(row.try_get("created_at")?)?,
        attachments: Vec::new(),
        reply_channel: row
            .try_get::<Option<String>, _>("reply_channel")?
            .map(|c| Channel::parse(&c).map_err(|e| corrupt("reply_channel", e)))
            .transpose()?,
    })
}

pub async fn get_comment(pool: &Pool, org_id: &str, id: &str) -> Result<Comment> {
    let row = fetch_in_org(
        pool,
        "SELECT m.* FROM comments m JOIN cases c ON c.id = m.case_id WHERE m.org_id = $1 AND m.id = $2 AND c.deleted_at IS NULL",
        org_id,
        id,
    )
    .await?;
    let mut comment = [decode_comment(&row)?];
    files::load_attachments(pool, &mut comment).await?;
    let [comment] = comment;
    Ok(comment)
}

/// Comments oldest first (the order a thread is read in).
/// Every comment of these cases as `(case_id, comment_id, body)`, each case's oldest first.
pub async fn comments_of(pool: &Pool, org_id: &str, case_ids: &[String]) -> Result<Vec<(String, String, String)>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    let org = q.arg(Arg::Text(org_id.to_string()));
    q.push(&format!("SELECT case_id, id, body FROM comments WHERE org_id = {org}"));
    q.and_in("case_id", case_ids.iter().map(|id| Arg::Text(id.clone())));
    q.push(" ORDER BY case_id, created_at, id");
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("case_id")?, r.try_get("id")?, r.try_get("body")?))).collect()
}

pub async fn list_comments(pool: &Pool, org_id: &str, case_id: &str, page: &PageRequest) -> Result<Page<Comment>> {
    let mut q = Sql::default();
    q.push("SELECT m.* FROM comments m WHERE m.org_id = ");
    let o = q.arg(Arg::Text(org_id.into()));
    let c = q.arg(Arg::Text(case_id.into()));
    q.push(&format!("{o} AND m.case_id = {c}"));
    if let Some(cur) = &page.cursor {
        let keys = cursor::decode(cur, "comments", &[true, false])?;
        let (Key::Int(at), Key::Text(id)) = (&keys[0], &keys[1]) else { return Err(StoreError::InvalidCursor) };
        let a = q.arg(Arg::Int(*at));
        let i = q.arg(Arg::Text(id.clone()));
        q.push(&format!(" AND (m.created_at, m.id) > ({a}, {i})"));
    }
    let l = q.arg(Arg::Int(i64::from(page.limit) + 1));
    q.push(&format!(" ORDER BY m.created_at, m.id LIMIT {l}"));
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let mut items = rows.iter().map(decode_comment).collect::<Result<Vec<_>>>()?;
    files::load_attachments(pool, &mut items).await?;
    Ok(finish_page(items, page.limit, "comments", |c| (us(c.created_at), c.id.clone())))
}

/// Timeline events in the order they happened: by time, then by the order they were written.
fn decode_event(row: &DbRow) -> Result<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        seq: row.try_get("seq")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        kind: row.try_get("kind")?,
        actor_id: row.try_get("actor_id")?,
        data: serde_json::from_str(&data).map_err(|e| corrupt("event data", e))?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// The columns of a change-feed read: an event with its transaction id, the feed's order.
const FEED_COLUMNS: &str = "e.seq, e.org_id, e.case_id, e.kind, e.actor_id, e.data, e.created_at, e.txid";

/// The organization's events after `after`, in the order their transactions are final (see
/// each backend's `FEED_VISIBLE`). The returned cursor continues after the last event returned, or stays at
/// `after` when there is nothing new.
pub async fn event_feed(pool: &Pool, org_id: &str, after: Option<&str>, limit: u32) -> Result<FeedPage> {
    let (txid, seq) = match after {
        Some(c) => match cursor::decode(c, "events", &[true, true])?.as_slice() {
            [Key::Int(t), Key::Int(s)] => (*t, *s),
            _ => return Err(StoreError::InvalidCursor),
        },
        None => (-1, 0),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FEED_COLUMNS} FROM case_events e \
         WHERE e.org_id = $1 AND {}{} ORDER BY e.txid, e.seq LIMIT $4",
        super::feed_after("$2", "$3"),
        super::FEED_VISIBLE
    )))
    .bind(org_id)
    .bind(txid)
    .bind(seq)
    .bind(i64::from(limit) + 1)
    .fetch_all(pool)
    .await?;
    let has_more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];
    let items = rows.iter().map(decode_event).collect::<Result<Vec<_>>>()?;
    let cursor = match rows.last() {
        Some(r) => Some(cursor::encode("events", &[Key::Int(r.try_get("txid")?), Key::Int(r.try_get("seq")?)])),
        None => after.map(str::to_string),
    };
    Ok(FeedPage { items, cursor, has_more })
}

/// The readers of the change feed (webhooks, mail, automation rules) each keep a cursor per
/// organization in their own table of `(org_id, txid, seq)` rows; these are the steps they share.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FeedCursors {
    Webhooks,
    Mail,
    Automation,
    Channels,
}

impl FeedCursors {
    const fn table(self) -> &'static str {
        match self {
            FeedCursors::Webhooks => "webhook_cursors",
            FeedCursors::Mail => "mail_cursors",
            FeedCursors::Automation => "automation_cursors",
            FeedCursors::Channels => "channel_cursors",
        }
    }
}

/// Starts the organization's cursor at the head of its feed, unless it has one: an outbox set up
/// now serves the events that come after, not the history.
async fn start_feed_cursor(tx: &mut Tx<'_>, cursors: FeedCursors, org_id: &str) -> Result<()> {
    let head = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT e.txid, e.seq FROM case_events e WHERE e.org_id = $1{} ORDER BY e.txid DESC, e.seq DESC LIMIT 1",
        super::FEED_VISIBLE
    )))
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (txid, seq): (i64, i64) = match head {
        Some(r) => (r.try_get("txid")?, r.try_get("seq")?),
        None => (-1, 0),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} (org_id, txid, seq) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING",
        cursors.table()
    )))
    .bind(org_id)
    .bind(txid)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Organizations with events after their cursor: an idle one costs an index probe, not a locking
/// transaction, on every pass of every instance.
async fn orgs_behind(pool: &Pool, cursors: FeedCursors) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT c.org_id FROM {} c WHERE EXISTS (SELECT 1 FROM case_events e \
         WHERE e.org_id = c.org_id AND {}{}) ORDER BY c.org_id",
        cursors.table(),
        super::feed_after("c.txid", "c.seq"),
        super::FEED_VISIBLE
    )))
    .fetch_all(pool)
    .await?)
}

/// Locks the organization's cursor (an instance that finds it locked leaves the organization to
/// the one holding it: `None`) and reads up to `limit` events after it, in feed order — only events
/// whose transactions are final, as the change feed serves them. Answers the events and where the
/// cursor moves when they are handled ([`move_feed_cursor`], in the same transaction).
async fn events_after_cursor(
    tx: &mut Tx<'_>,
    cursors: FeedCursors,
    org_id: &str,
    limit: u32,
) -> Result<Option<(Vec<Event>, (i64, i64))>> {
    let cursor = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT txid, seq FROM {} WHERE org_id = $1{}",
        cursors.table(),
        super::SKIP_LOCKED
    )))
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(cursor) = cursor else { return Ok(None) };
    let (txid, seq): (i64, i64) = (cursor.try_get("txid")?, cursor.try_get("seq")?);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FEED_COLUMNS} FROM case_events e \
         WHERE e.org_id = $1 AND {}{} ORDER BY e.txid, e.seq LIMIT $4",
        super::feed_after("$2", "$3"),
        super::FEED_VISIBLE
    )))
    .bind(org_id)
    .bind(txid)
    .bind(seq)
    .bind(i64::from(limit))
    .fetch_all(&mut **tx)
    .await?;
    let Some(last) = rows.last() else { return Ok(None) };
    let to: (i64, i64) = (last.try_get("txid")?, last.try_get("seq")?);
    Ok(Some((rows.iter().map(decode_event).collect::<Result<Vec<_>>>()?, to)))
}

async fn move_feed_cursor(tx: &mut Tx<'_>, cursors: FeedCursors, org_id: &str, (txid, seq): (i64, i64)) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {} SET txid = $1, seq = $2 WHERE org_id = $3", cursors.table())))
        .bind(txid)
        .bind(seq)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn list_events(pool: &Pool, org_id: &str, case_id: &str, page: &PageRequest) -> Result<Page<Event>> {
    let mut q = Sql::default();
    q.push("SELECT e.seq, e.org_id, e.case_id, e.kind, e.actor_id, e.data, e.created_at FROM case_events e WHERE e.org_id = ");
    let o = q.arg(Arg::Text(org_id.into()));
    let c = q.arg(Arg::Text(case_id.into()));
    q.push(&format!("{o} AND e.case_id = {c}"));
    if let Some(cur) = &page.cursor {
        let keys = cursor::decode(cur, "timeline", &[true, true])?;
        let (Key::Int(at), Key::Int(seq)) = (&keys[0], &keys[1]) else { return Err(StoreError::InvalidCursor) };
        let a = q.arg(Arg::Int(*at));
        let s = q.arg(Arg::Int(*seq));
        q.push(&format!(" AND (e.created_at, e.seq) > ({a}, {s})"));
    }
    let l = q.arg(Arg::Int(i64::from(page.limit) + 1));
    q.push(&format!(" ORDER BY e.created_at, e.seq LIMIT {l}"));
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    let mut items = rows.iter().map(decode_event).collect::<Result<Vec<_>>>()?;
    let more = items.len() > page.limit as usize;
    items.truncate(page.limit as usize);
    let next_cursor = match items.last() {
        Some(e) if more => Some(cursor::encode("timeline", &[Key::Int(us(e.created_at)), Key::Int(e.seq)])),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

pub async fn import_cases(pool: &Pool, org_id: &str, cases: &[ImportedCase], actor_id: &str, idem: Option<&IdempotencyRecord>) -> Result<Vec<Case>> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(cases.len());
    for imported in cases {
        let mut case = imported.case.clone();
        if case.case_number == 0 {
            case.case_number = next_case_number(&mut tx, org_id).await?;
        } else {
            // A kept number moves the counter past it, so later cases never reuse it.
            sqlx::query("UPDATE organizations SET next_case_number = $1 WHERE id = $2 AND next_case_number <= $3")
                .bind(case.case_number + 1)
                .bind(org_id)
                .bind(case.case_number)
                .execute(&mut *tx)
                .await?;
        }
        let names = names_of_people(&mut tx, &people_ids(case.contact_id.as_deref(), Some(case.requester_id.as_str()))).await?;
        let doc = SearchDoc::new(&case.subject, &case.description, imported.comments.iter().map(|c| c.body.as_str()))
            .with_people(names.iter().map(String::as_str));
        insert_case_row(&mut tx, &case, &doc).await?;
        let mut events = vec![timeline::created(&case, timeline::CASE_IMPORTED)];
        for c in &imported.comments {
            insert_comment(&mut tx, c).await?;
            events.push(c.event());
        }
        insert_events(&mut tx, org_id, &case.id, actor_id, &events).await?;
        out.push(case);
    }
    if let Some(r) = idem {
        let created: Vec<String> = out.iter().map(|c| format!("{}:{}", c.id, c.case_number)).collect();
        insert_idem(&mut tx, &IdempotencyRecord { resource_id: created.join(","), ..r.clone() }).await?;
    }
    tx.commit().await?;
    Ok(out)
}

pub async fn get_idempotency(pool: &Pool, org_id: &str, user_id: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
    let row = sqlx::query("SELECT * FROM idempotency_keys WHERE org_id = $1 AND user_id = $2 AND key = $3")
        .bind(org_id)
        .bind(user_id)
        .bind(key)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let status: i64 = row.try_get("status_code")?;
    Ok(Some(IdempotencyRecord {
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        key: row.try_get("key")?,
        request_hash: row.try_get("request_hash")?,
        resource_id: row.try_get("resource_id")?,
        status_code: u16::try_from(status).map_err(|e| corrupt("status_code", e))?,
        created_at: ts(row.try_get("created_at")?)?,
    }))
}

pub async fn insert_idempotency(pool: &Pool, rec: &IdempotencyRecord) -> Result<()> {
    let mut tx = pool.begin().await?;
    insert_idem(&mut tx, rec).await?;
    tx.commit().await?;
    Ok(())
}
