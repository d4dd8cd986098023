//! The PostgreSQL backend: the shared queries compiled for `sqlx::Postgres`, plus its own
//! full-text search (`cases.search`, a tsvector with a GIN index, filled on insert).

use casedesk_domain::search::SearchDoc;

use crate::Result;
use crate::sql::{Arg, FullText, Ranked, Sql};

pub(crate) type DB = sqlx::Postgres;
type Tx<'a> = sqlx::Transaction<'a, DB>;

pub(crate) const BACKEND: crate::BackendKind = crate::BackendKind::Postgres;

pub(crate) const ANALYZE: &str = "ANALYZE";

/// Fills `search` from the folded subject ($28, weight A), people ($42, weight B), description
/// ($29) and comments ($30) in the same statement, so a new case is searchable without a second
/// write.
pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (id, org_id, case_number, subject, description, status, priority, \
    case_type, channel, queue_id, owner_id, requester_id, contact_id, account_id, opportunity_id, tags, custom_fields, \
    resolution_notes, due_at, is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, updated_at, version, search, \
    required_skills, problem_id, sla, sla_breached, sla_due_at, sla_check_at, sla_policy_id, custom_status_id, \
    funnel_stage_id, merged_into_id, category_id, report) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
    $25, $26, $27, setweight(to_tsvector('simple', $28), 'A') || setweight(to_tsvector('simple', $42), 'B') \
    || to_tsvector('simple', $29 || ' ' || $30), \
    $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $43) RETURNING seq";

pub(crate) const INSERT_BINDS_SEARCH: bool = true;

/// `seq` is an identity column here: PostgreSQL orders full-text results by `created_at` itself.
pub(crate) const SEQ_FOLLOWS_CREATED_AT: bool = false;

/// Writes a case's search vector from its folded document.
pub(crate) async fn write_search(tx: &mut Tx<'_>, seq: i64, doc: &SearchDoc, _replace: bool) -> Result<()> {
    sqlx::query(
        "UPDATE cases SET search = setweight(to_tsvector('simple', $1), 'A') || setweight(to_tsvector('simple', $5), 'B') \
         || to_tsvector('simple', $2 || ' ' || $3) WHERE seq = $4",
    )
    .bind(&doc.subject)
    .bind(&doc.description)
    .bind(&doc.comments)
    .bind(seq)
    .bind(&doc.people)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn unindex_case(tx: &mut Tx<'_>, seq: i64) -> Result<()> {
    sqlx::query("UPDATE cases SET search = ''::tsvector WHERE seq = $1").bind(seq).execute(&mut **tx).await?;
    Ok(())
}

/// The organization's newest 2,000 cases sharing any of the words of `$1` (a `|` of folded
/// words), each with its rank (lower is better), for finding similar cases at a bounded cost.
pub(crate) const SIMILAR_SOURCE: &str = "SELECT seq, -ts_rank(search, to_tsquery('simple', $1)) AS rank FROM cases \
    WHERE org_id = $2 AND search @@ to_tsquery('simple', $1) ORDER BY seq DESC LIMIT 2000";

/// `$1` of [`SIMILAR_SOURCE`]: any of the words (folded words are letters and digits, so they
/// cannot be tsquery syntax).
pub(crate) fn any_of(words: &[String]) -> String {
    words.join(" | ")
}

/// The terms are folded words (letters and digits only); plainto_tsquery ANDs them.
pub(crate) fn full_text_condition(q: &mut Sql, terms: &[String]) {
    let p = q.arg(Arg::Text(terms.join(" ")));
    q.push(&format!(" AND c.search @@ plainto_tsquery('simple', {p})"));
}

/// A scalar's text, or a list holding the value as a string.
fn custom_field_condition(q: &mut Sql, key: &str, value: &str) -> String {
    let k = q.arg(Arg::Text(key.to_string()));
    let v = q.arg(Arg::Text(value.to_string()));
    format!("((c.custom_fields::jsonb ->> {k}) = {v} OR (c.custom_fields::jsonb -> {k}) @> to_jsonb({v}::text))")
}

/// The folded words in this order, adjacent.
fn phrase_condition(q: &mut Sql, words: &[String]) -> String {
    let p = q.arg(Arg::Text(words.join(" ")));
    format!("c.search @@ phraseto_tsquery('simple', {p})")
}

/// Every word (a phrase's adjacency is checked by its own condition), scored by `ts_rank` over
/// the weighted vector (subject A, people B, the text D) divided by the log of the document's
/// length.
fn ranked(q: &mut Sql, terms: &[String], phrases: &[Vec<String>]) -> Ranked {
    let words: Vec<&str> = terms.iter().chain(phrases.iter().flatten()).map(String::as_str).collect();
    let p = q.arg(Arg::Text(words.join(" ")));
    Ranked {
        from: "FROM cases c",
        condition: format!("c.search @@ plainto_tsquery('simple', {p})"),
        newest_first: "c.created_at DESC, c.seq DESC",
        // Scored after the window is cut, so only the window's vectors are read.
        window_score: None,
        score: format!("(-ts_rank(s.search, plainto_tsquery('simple', {p}), 1))::float8"),
        score_join: "JOIN cases s ON s.seq = w.seq",
        join: "JOIN",
    }
}

pub(crate) const FULL_TEXT: FullText = FullText {
    ranked,
    condition: full_text_condition,
    in_seq_order: None,
    custom_field: custom_field_condition,
    phrase: phrase_condition,
};

/// Benchmarks only: `n` synthetic open cases in one statement (see `bench_seed_open_cases`).
/// (`$9`, the SQLite row-number base, is unused: `seq` is an identity column here.)
pub(crate) const BENCH_SEED_OPEN_CASES: &str = "INSERT INTO cases (id, org_id, case_number, subject, description, status, \
    priority, case_type, channel, requester_id, tags, custom_fields, is_waiting, created_by, updated_by, created_at, \
    updated_at, version, sla, sla_breached, sla_due_at, sla_check_at) \
    SELECT 'case_bench' || lpad(($3 + i)::text, 12, '0'), $2, $3 + i, 'Synthetic open case ' || i, '', 'open', 3, \
    'question', 'api', $4, '[]', '{}', TRUE, $4, $4, $5 + $3 + i, $5 + $3 + i, 1, $6, FALSE, $7 + i * $8, $7 + i * $8 \
    FROM generate_series(0::bigint, $1::bigint - 1) AS g(i) WHERE $9::bigint IS NOT NULL";

/// Benchmarks only: how a seed turns the triggers off. One transaction updating one total
/// row for each of 100,000 cases leaves 100,000 versions of it to walk; the seed adds its cases
/// to the totals in one statement instead.
pub(crate) const BENCH_TRIGGERS_OFF: Option<&str> = Some("SET LOCAL session_replication_role = replica");

/// Benchmarks only: the tags of the cases numbered `$2 …` below `$3` of organization `$1`, from
/// their `tags` lists.
pub(crate) const BENCH_SEED_TAGS: &str = "INSERT INTO case_tags (org_id, tag, case_seq) SELECT c.org_id, j.tag, c.seq FROM cases c \
    CROSS JOIN LATERAL jsonb_array_elements_text(c.tags::jsonb) AS j(tag) WHERE c.org_id = $1 AND c.case_number >= $2 AND c.case_number < $3";

/// Appended to a SELECT that must lock the rows it reads until the transaction ends.
/// (SQLite needs none: its one writer connection already serialises every write.)
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";
/// Locks the rows a claim picks, passing over those another instance holds.
pub(crate) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// Which events the change feed may serve: those of transactions older than every transaction
/// still running. `seq` values are handed out before commit, so a transaction that commits late
/// holds lower numbers than events already visible; ordering by transaction id and stopping at
/// the oldest running one means no event can ever appear behind a reader's cursor.
pub(crate) const FEED_VISIBLE: &str = " AND e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// Events after the feed position `(txid, seq)` (SQL expressions), in feed order.
pub(crate) fn feed_after(txid: &str, seq: &str) -> String {
    format!("(e.txid, e.seq) > ({txid}, {seq})")
}

pub mod q {
    //! The shared queries, compiled for PostgreSQL.
    shared_queries!();
}
