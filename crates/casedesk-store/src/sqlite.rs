//! The SQLite backend: the shared queries compiled for `sqlx::Sqlite`, plus its own full-text
//! search (an FTS5 table, `cases_fts`, whose rowid is `cases.seq`).

use casedesk_domain::search::SearchDoc;

use crate::Result;
use crate::sql::{Arg, Sql};

pub(crate) type DB = sqlx::Sqlite;
type Tx<'a> = sqlx::Transaction<'a, DB>;

pub(crate) const ANALYZE: &str = "ANALYZE; PRAGMA optimize;";

pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (id, org_id, case_number, subject, description, status, priority, \
    case_type, channel, queue_id, owner_id, requester_id, contact_id, account_id, opportunity_id, tags, custom_fields, \
    resolution_notes, due_at, is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, updated_at, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
    $25, $26, $27) RETURNING seq";

/// The FTS5 row is written separately from the case row.
pub(crate) const INSERT_BINDS_SEARCH: bool = false;

/// Writes a case's search document (replacing the old one when `replace`).
pub(crate) async fn write_search(tx: &mut Tx<'_>, seq: i64, doc: &SearchDoc, replace: bool) -> Result<()> {
    if replace {
        unindex_case(tx, seq).await?;
    }
    sqlx::query("INSERT INTO cases_fts (rowid, subject, description, comments) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(&doc.subject)
        .bind(&doc.description)
        .bind(&doc.comments)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn unindex_case(tx: &mut Tx<'_>, seq: i64) -> Result<()> {
    sqlx::query("DELETE FROM cases_fts WHERE rowid = $1").bind(seq).execute(&mut **tx).await?;
    Ok(())
}

/// Every term quoted, so FTS5 reads them as words (never as `AND`, `NEAR` or column filters);
/// space-separated quoted words are an implicit AND.
pub(crate) fn full_text_condition(q: &mut Sql, terms: &[String]) {
    let query: Vec<String> = terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect();
    let p = q.arg(Arg::Text(query.join(" ")));
    q.push(&format!(" AND c.seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH {p})"));
}

/// The statements of a new case, sent to SQLite as one batch: sqlx runs every SQLite statement
/// on a worker thread, so each round trip costs two thread switches, and on the single writer
/// connection those switches are what limit throughput. `$N` numbers the one argument list
/// across all statements.
const CREATE_CASE_BATCH: &str = "\
    UPDATE organizations SET next_case_number = next_case_number + 1 WHERE id = $2;
    INSERT INTO cases (id, org_id, case_number, subject, description, status, priority, case_type, channel, queue_id,
        owner_id, requester_id, contact_id, account_id, opportunity_id, tags, custom_fields, resolution_notes, due_at,
        is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, updated_at, version)
    VALUES ($1, $2, (SELECT next_case_number - 1 FROM organizations WHERE id = $2), $4, $5, $6, $7, $8, $9, $10, $11,
        $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27);
    INSERT INTO case_tags (org_id, tag, case_seq) SELECT $2, j.value, c.seq FROM json_each($16) j, cases c WHERE c.id = $1;
    INSERT INTO cases_fts (rowid, subject, description, comments) SELECT seq, $28, $29, $30 FROM cases WHERE id = $1;
    INSERT INTO case_events (org_id, case_id, kind, actor_id, data, created_at) VALUES ($2, $1, $31, $23, json_set($32, '$.case_number', (SELECT case_number FROM cases WHERE id = $1)), $25);
    SELECT case_number FROM cases WHERE id = $1;";

/// [`CREATE_CASE_BATCH`] with the idempotency key recorded too.
const CREATE_CASE_BATCH_IDEM: &str = "\
    INSERT INTO idempotency_keys (org_id, user_id, key, request_hash, resource_id, status_code, created_at)
    VALUES ($2, $33, $34, $35, $1, $36, $37);";

pub(crate) async fn insert_new_case(
    tx: &mut Tx<'_>,
    c: &casedesk_domain::case::Case,
    doc: &SearchDoc,
    created: &casedesk_domain::timeline::NewEvent,
    idem: Option<&crate::IdempotencyRecord>,
) -> Result<i64> {
    use q::{json_text, opt_us, us};
    let sql = match idem {
        Some(_) => format!("{CREATE_CASE_BATCH_IDEM}\n{CREATE_CASE_BATCH}"),
        None => CREATE_CASE_BATCH.to_string(),
    };
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
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
        .bind(c.version)
        .bind(&doc.subject)
        .bind(&doc.description)
        .bind(&doc.comments)
        .bind(created.kind)
        .bind(json_text(&created.data)?);
    if let Some(r) = idem {
        query = query
            .bind(&r.user_id)
            .bind(&r.key)
            .bind(&r.request_hash)
            .bind(i64::from(r.status_code))
            .bind(us(r.created_at));
    }
    Ok(query.fetch_one(&mut **tx).await?)
}

pub mod q {
    //! The shared queries, compiled for SQLite.
    include!("queries.rs");
}
