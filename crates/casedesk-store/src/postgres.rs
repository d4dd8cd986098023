//! The PostgreSQL backend: the shared queries compiled for `sqlx::Postgres`, plus its own
//! full-text search (`cases.search`, a tsvector with a GIN index, filled on insert).

use casedesk_domain::case::Case;

use crate::Result;
use crate::sql::{Arg, Sql};

pub(crate) type DB = sqlx::Postgres;
type Tx<'a> = sqlx::Transaction<'a, DB>;

pub(crate) const ANALYZE: &str = "ANALYZE";

/// Fills `search` from subject ($4) and description ($5) in the same statement, so a new case is
/// searchable without a second write.
pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (id, org_id, case_number, subject, description, status, priority, \
    case_type, channel, queue_id, owner_id, requester_id, contact_id, account_id, opportunity_id, tags, custom_fields, \
    resolution_notes, due_at, is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, updated_at, version, search) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
    $25, $26, $27, to_tsvector('simple', $4 || ' ' || $5)) RETURNING seq";

pub(crate) async fn index_new_case(tx: &mut Tx<'_>, seq: i64, case: &Case, comments_text: &str) -> Result<()> {
    if !comments_text.is_empty() {
        reindex_case(tx, seq, &case.id).await?;
    }
    Ok(())
}

/// Rebuilds a case's search vector from its current text and comments.
pub(crate) async fn reindex_case(tx: &mut Tx<'_>, seq: i64, case_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE cases SET search = to_tsvector('simple', subject || ' ' || description || ' ' || \
         COALESCE((SELECT string_agg(body, ' ') FROM comments WHERE case_id = $2), '')) WHERE seq = $1",
    )
    .bind(seq)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn unindex_case(tx: &mut Tx<'_>, seq: i64) -> Result<()> {
    sqlx::query("UPDATE cases SET search = ''::tsvector WHERE seq = $1").bind(seq).execute(&mut **tx).await?;
    Ok(())
}

/// plainto_tsquery ANDs the words and ignores operators, so no input is query syntax.
pub(crate) fn full_text_condition(q: &mut Sql, terms: &[String]) {
    let p = q.arg(Arg::Text(terms.join(" ")));
    q.push(&format!(" AND c.search @@ plainto_tsquery('simple', {p})"));
}

pub mod q {
    //! The shared queries, compiled for PostgreSQL.
    include!("queries.rs");
}
