//! The SQLite backend: the shared queries compiled for `sqlx::Sqlite`, plus its own full-text
//! search (an FTS5 table, `cases_fts`, whose rowid is `cases.seq`).

use casedesk_domain::case::Case;

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

pub(crate) async fn index_new_case(tx: &mut Tx<'_>, seq: i64, case: &Case, comments_text: &str) -> Result<()> {
    sqlx::query("INSERT INTO cases_fts (rowid, subject, description, comments) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(&case.subject)
        .bind(&case.description)
        .bind(comments_text)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rebuilds a case's search document from its current text and comments.
pub(crate) async fn reindex_case(tx: &mut Tx<'_>, seq: i64, case_id: &str) -> Result<()> {
    unindex_case(tx, seq).await?;
    sqlx::query(
        "INSERT INTO cases_fts (rowid, subject, description, comments) \
         SELECT seq, subject, description, COALESCE((SELECT group_concat(body, ' ') FROM comments WHERE case_id = $2), '') \
         FROM cases WHERE seq = $1",
    )
    .bind(seq)
    .bind(case_id)
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

pub mod q {
    //! The shared queries, compiled for SQLite.
    include!("queries.rs");
}
