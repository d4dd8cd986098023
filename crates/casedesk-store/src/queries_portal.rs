// The customer portal: sign-in links, portal sessions, and the cases a requester sees, compiled
// once per backend like `queries.rs` (this file is `include!`d into a child module of each
// backend's `q`, which sees the parent's helpers).

use casedesk_domain::email::EmailMessage;
use casedesk_domain::portal::{Requester, Scope};

use crate::{PortalLink, PortalSession};

/// The organizations that have a contact with this (lower-case) address.
pub async fn orgs_of_contact_email(pool: &Pool, email: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT DISTINCT org_id FROM contacts WHERE email = $1 ORDER BY org_id LIMIT 20")
        .bind(email)
        .fetch_all(pool)
        .await?)
}

/// The requester's contacts in the organization (oldest first) and their accounts that share
/// cases in the portal.
pub async fn portal_scope(pool: &Pool, org_id: &str, who: &Requester) -> Result<Scope> {
    let (column, value) = match who {
        Requester::Email(e) => ("email", e),
        Requester::Visitor(x) => ("external_id", x),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, c.account_id, a.portal_shares_cases FROM contacts c \
         LEFT JOIN accounts a ON a.id = c.account_id AND a.org_id = c.org_id \
         WHERE c.org_id = $1 AND c.{column} = $2 ORDER BY c.created_at, c.id LIMIT 100"
    )))
    .bind(org_id)
    .bind(value)
    .fetch_all(pool)
    .await?;
    let mut scope = Scope::default();
    for row in &rows {
        scope.contact_ids.push(row.try_get("id")?);
        let account: Option<String> = row.try_get("account_id")?;
        let shares: Option<bool> = row.try_get("portal_shares_cases")?;
        if let Some(a) = account.filter(|a| shares == Some(true) && !scope.shared_account_ids.contains(a)) {
            scope.shared_account_ids.push(a);
        }
    }
    Ok(scope)
}

/// A sign-in link and the message that carries it, written together.
pub async fn insert_portal_link(pool: &Pool, link: &PortalLink, message: &EmailMessage) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO portal_links (token_hash, org_id, email, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(&link.token_hash)
    .bind(&link.org_id)
    .bind(&link.email)
    .bind(us(link.created_at))
    .bind(us(link.expires_at))
    .execute(&mut *tx)
    .await?;
    write_email(&mut tx, message).await?;
    tx.commit().await?;
    Ok(())
}

/// Uses the link once: marks it used and answers it, if it was unused and unexpired at `now`;
/// `None` otherwise. One statement, so two clicks at once sign in one browser.
pub async fn redeem_portal_link(pool: &Pool, token_hash: &str, now: Timestamp) -> Result<Option<PortalLink>> {
    let row = sqlx::query(
        "UPDATE portal_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING token_hash, org_id, email, created_at, expires_at, used_at",
    )
    .bind(us(now))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(PortalLink {
            token_hash: r.try_get("token_hash")?,
            org_id: r.try_get("org_id")?,
            email: r.try_get("email")?,
            created_at: ts(r.try_get("created_at")?)?,
            expires_at: ts(r.try_get("expires_at")?)?,
            used_at: opt_ts(r.try_get("used_at")?)?,
        })
    })
    .transpose()
}

pub async fn insert_portal_session(pool: &Pool, s: &PortalSession) -> Result<()> {
    let (email, external_id) = match &s.requester {
        Requester::Email(e) => (Some(e), None),
        Requester::Visitor(x) => (None, Some(x)),
    };
    sqlx::query(
        "INSERT INTO portal_sessions (id, org_id, email, external_id, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id_hash)
    .bind(&s.org_id)
    .bind(email)
    .bind(external_id)
    .bind(us(s.created_at))
    .bind(us(s.last_seen_at))
    .bind(us(s.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find_portal_session(pool: &Pool, id_hash: &str) -> Result<Option<PortalSession>> {
    let row = sqlx::query("SELECT * FROM portal_sessions WHERE id = $1").bind(id_hash).fetch_optional(pool).await?;
    let Some(row) = row else { return Ok(None) };
    let email: Option<String> = row.try_get("email")?;
    let external_id: Option<String> = row.try_get("external_id")?;
    let requester = match (email, external_id) {
        (Some(e), _) => Requester::Email(e),
        (None, Some(x)) => Requester::Visitor(x),
        (None, None) => return Err(corrupt("portal_sessions", "neither email nor external_id")),
    };
    Ok(Some(PortalSession {
        id_hash: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        requester,
        created_at: ts(row.try_get("created_at")?)?,
        last_seen_at: ts(row.try_get("last_seen_at")?)?,
        expires_at: ts(row.try_get("expires_at")?)?,
    }))
}

pub async fn touch_portal_session(pool: &Pool, id_hash: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE portal_sessions SET last_seen_at = $1 WHERE id = $2").bind(us(now)).bind(id_hash).execute(pool).await?;
    Ok(())
}

pub async fn delete_portal_session(pool: &Pool, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM portal_sessions WHERE id = $1").bind(id_hash).execute(pool).await?;
    Ok(())
}

/// Forgets links and sessions that expired before `before`.
pub async fn purge_portal_state(pool: &Pool, before: Timestamp) -> Result<()> {
    sqlx::query("DELETE FROM portal_links WHERE expires_at < $1").bind(us(before)).execute(pool).await?;
    sqlx::query("DELETE FROM portal_sessions WHERE expires_at < $1").bind(us(before)).execute(pool).await?;
    Ok(())
}

/// The cases the scope sees, most recently updated first, at most `limit`.
pub async fn portal_cases<'a>(pool: &Pool, org_id: &'a str, scope: &'a Scope, limit: u32) -> Result<Vec<Case>> {
    if scope.contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<&str> = vec![org_id];
    let mut list = |ids: &'a [String]| {
        let mut marks = Vec::with_capacity(ids.len());
        for id in ids {
            args.push(id);
            marks.push(format!("${}", args.len()));
        }
        marks.join(", ")
    };
    let contacts = list(&scope.contact_ids);
    let mut cond = format!("c.requester_id IN ({contacts}) OR c.contact_id IN ({contacts})");
    if !scope.shared_account_ids.is_empty() {
        cond.push_str(&format!(" OR c.account_id IN ({})", list(&scope.shared_account_ids)));
    }
    let text = format!(
        "SELECT {} FROM cases c WHERE c.org_id = $1 AND c.deleted_at IS NULL AND ({cond}) \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT {limit}",
        sql::CASE_COLUMNS
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
    for a in args {
        q = q.bind(a);
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter().map(|r| decode_case(r).map(|(_, c)| c)).collect()
}
