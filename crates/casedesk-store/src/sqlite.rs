//! The SQLite backend: the shared queries compiled for `sqlx::Sqlite`, plus its own full-text
//! search (an FTS5 table, `cases_fts`, whose rowid is `cases.seq`).

use casedesk_domain::search::SearchDoc;

pub(crate) mod checkpointer;
pub(crate) mod creator;

use crate::Result;
use crate::sql::{Arg, FullText, Ranked, SeqSource, Sql};

pub(crate) type DB = sqlx::Sqlite;
type Tx<'a> = sqlx::Transaction<'a, DB>;

pub(crate) const BACKEND: crate::BackendKind = crate::BackendKind::Sqlite;

pub(crate) const ANALYZE: &str = "ANALYZE; PRAGMA optimize;";

pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (seq, id, org_id, case_number, subject, description, status, \
    priority, case_type, channel, queue_id, owner_id, requester_id, contact_id, account_id, opportunity_id, tags, \
    custom_fields, resolution_notes, due_at, is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, \
    updated_at, version, required_skills, problem_id, sla, sla_breached, sla_due_at, sla_check_at, sla_policy_id, \
    custom_status_id, funnel_stage_id, merged_into_id, category_id, report) \
    VALUES ((SELECT COALESCE(MAX(seq) + 1, $28) FROM cases WHERE seq >= $28 AND seq < $28 + 1024), $1, $2, $3, $4, $5, \
    $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40) RETURNING seq";

/// Rows of `cases` are numbered in creation-time order ([`seq_base`]), so the full-text index,
/// whose rowid is `seq`, can hand out matches newest first and stop after a page.
pub(crate) const SEQ_FOLLOWS_CREATED_AT: bool = true;

/// The FTS5 row is written separately from the case row.
pub(crate) const INSERT_BINDS_SEARCH: bool = false;

/// Writes a case's search document (replacing the old one when `replace`).
pub(crate) async fn write_search(tx: &mut Tx<'_>, seq: i64, doc: &SearchDoc, replace: bool) -> Result<()> {
    if replace {
        unindex_case(tx, seq).await?;
    }
    sqlx::query("INSERT INTO cases_fts (rowid, subject, description, comments, people) VALUES ($1, $2, $3, $4, $5)")
        .bind(seq)
        .bind(&doc.subject)
        .bind(&doc.description)
        .bind(&doc.comments)
        .bind(&doc.people)
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
fn match_expression(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" ")
}

/// The newest 2,000 cases sharing any of the words of `$1` (quoted words joined by OR), each with
/// its rank (lower is better), for finding similar cases at a bounded cost.
pub(crate) const SIMILAR_SOURCE: &str = "SELECT rowid AS seq, bm25(cases_fts) AS rank FROM cases_fts WHERE cases_fts MATCH $1 ORDER BY rowid DESC LIMIT 2000";

/// `$1` of [`SIMILAR_SOURCE`]: any of the words.
pub(crate) fn any_of(words: &[String]) -> String {
    words.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" OR ")
}

pub(crate) fn full_text_condition(q: &mut Sql, terms: &[String]) {
    let p = q.arg(Arg::Text(match_expression(terms)));
    q.push(&format!(" AND c.seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH {p})"));
}

/// FTS5 returns matches in rowid order, and rowid is `seq`, which follows creation time: a
/// search ordered by creation reads the newest matches and stops after a page.
fn fts_in_seq_order(terms: &[String]) -> SeqSource {
    SeqSource {
        from: "FROM cases_fts CROSS JOIN cases c ON c.seq = cases_fts.rowid",
        matches: "cases_fts MATCH ",
        order_column: "cases_fts.rowid",
        argument: match_expression(terms),
    }
}

/// `json_each` yields a scalar itself or each item of a list.
fn custom_field_condition(q: &mut Sql, key: &str, value: &str) -> String {
    let path = q.arg(Arg::Text(format!("$.\"{}\"", key.replace('"', ""))));
    let v = q.arg(Arg::Text(value.to_string()));
    format!("EXISTS (SELECT 1 FROM json_each(c.custom_fields, {path}) j WHERE CAST(j.value AS TEXT) = {v})")
}

/// A quoted FTS5 string is a phrase: its words in this order.
fn phrase_condition(q: &mut Sql, words: &[String]) -> String {
    let p = q.arg(Arg::Text(format!("\"{}\"", words.join(" ").replace('"', ""))));
    format!("c.seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH {p})")
}

/// Each word and each phrase, scored by bm25: a word in the subject weighs most, then in a
/// person's name, then in the text.
fn ranked(q: &mut Sql, terms: &[String], phrases: &[Vec<String>]) -> Ranked {
    let mut parts = vec![match_expression(terms)];
    parts.extend(phrases.iter().map(|words| format!("\"{}\"", words.join(" ").replace('"', ""))));
    let m = q.arg(Arg::Text(parts.join(" ").trim().to_string()));
    Ranked {
        from: "FROM cases_fts CROSS JOIN cases c ON c.seq = cases_fts.rowid",
        condition: format!("cases_fts MATCH {m}"),
        // rowid is seq, which follows creation time: the index hands out the newest first.
        newest_first: "cases_fts.rowid DESC",
        window_score: Some("bm25(cases_fts, 4.0, 1.0, 1.0, 2.0)".into()),
        score: "w.score".into(),
        score_join: "",
        join: "CROSS JOIN",
    }
}

pub(crate) const FULL_TEXT: FullText = FullText {
    condition: full_text_condition,
    in_seq_order: Some(fts_in_seq_order),
    custom_field: custom_field_condition,
    phrase: phrase_condition,
    ranked,
};

/// Benchmarks only: `n` synthetic open cases in one statement (see `bench_seed_open_cases`).
pub(crate) const BENCH_SEED_OPEN_CASES: &str = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1) \
    INSERT INTO cases (seq, id, org_id, case_number, subject, description, status, priority, case_type, channel, \
    requester_id, tags, custom_fields, is_waiting, created_by, updated_by, created_at, updated_at, version, sla, \
    sla_breached, sla_due_at, sla_check_at) \
    SELECT $9 + $3 + i, 'case_bench' || printf('%012d', $3 + i), $2, $3 + i, 'Synthetic open case ' || i, '', 'open', 3, \
    'question', 'api', $4, '[]', '{}', 1, $4, $4, $5 + $3 + i, $5 + $3 + i, 1, $6, 0, $7 + i * $8, $7 + i * $8 FROM n";

/// Benchmarks only: how a seed turns the triggers off (SQLite keeps them: it updates a row
/// in place, so a seed's many updates of one total cost what one does).
pub(crate) const BENCH_TRIGGERS_OFF: Option<&str> = None;

/// Benchmarks only: the tags of the cases numbered `$2 …` below `$3` of organization `$1`, from
/// their `tags` lists.
pub(crate) const BENCH_SEED_TAGS: &str = "INSERT INTO case_tags (org_id, tag, case_seq) SELECT c.org_id, j.value, c.seq FROM cases c, json_each(c.tags) j \
    WHERE c.org_id = $1 AND c.case_number >= $2 AND c.case_number < $3";

/// Appended to a SELECT that must lock the rows it reads until the transaction ends.
/// (SQLite needs none: its one writer connection already serialises every write.)
pub(crate) const FOR_UPDATE: &str = "";
/// Locks the rows a claim picks, passing over those another instance holds.
pub(crate) const SKIP_LOCKED: &str = "";

/// Which events the change feed may serve. SQLite's one writer commits in `seq` order, so every
/// committed event is final in its place.
pub(crate) const FEED_VISIBLE: &str = "";

/// Events after the feed position `(txid, seq)` (SQL expressions). SQLite never writes `txid`
/// (every event keeps 0), so `(0, e.seq) > (txid, seq)` is spelt as a range on `seq` alone that
/// the `(org_id, txid, seq)` index seeks to: a row-value comparison would scan every event of the
/// organization from its first one.
pub(crate) fn feed_after(txid: &str, seq: &str) -> String {
    format!(
        "e.txid = 0 AND e.seq > (CASE WHEN {txid} < 0 THEN -9223372036854775807 WHEN {txid} = 0 THEN {seq} \
         ELSE 9223372036854775807 END)"
    )
}

pub mod q {
    //! The shared queries, compiled for SQLite.
    shared_queries!();
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    /// A new, migrated database to read plans on (the directory lives as long as the store).
    async fn scratch() -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let path = dir.path().join("plan.db");
        let store = crate::Store::connect(path.to_str().unwrap(), &crate::ConnectOptions::default()).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    /// The plan of `query` (an `EXPLAIN QUERY PLAN`, bound) on `store`.
    async fn plan(
        store: &crate::Store,
        query: sqlx::query::Query<'_, super::DB, sqlx::sqlite::SqliteArguments>,
    ) -> Vec<String> {
        let crate::Backend::Sqlite { writer, .. } = &store.backend else { unreachable!("an SQLite store") };
        query.fetch_all(writer).await.unwrap().iter().map(|r| r.get::<String, _>("detail")).collect()
    }

    /// The plan of `sql`, bound with the texts `args`, on a new database.
    async fn plan_of(sql: &str, args: &[&str]) -> Vec<String> {
        let (_dir, store) = scratch().await;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        for a in args {
            query = query.bind(*a);
        }
        plan(&store, query).await
    }

    /// "Events after a cursor" — what every outbox dispatcher, the rule evaluator and the change
    /// feed ask, many times a second — seeks in the `(org_id, txid, seq)` index. Written as a
    /// row-value comparison it scanned the organization's events from the first one: 12 ms a
    /// poll at 50,000 events, growing with the history.
    #[tokio::test]
    async fn events_after_a_cursor_seek_the_feed_index() {
        let (_dir, store) = scratch().await;
        for (txid, seq) in [("$2", "$3"), ("c.txid", "c.seq")] {
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT e.seq FROM case_events e JOIN webhook_cursors c ON c.org_id = e.org_id \
                 WHERE e.org_id = $1 AND {} ORDER BY e.txid, e.seq LIMIT 10",
                super::feed_after(txid, seq)
            );
            let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind("org_1").bind(0_i64).bind(5_i64);
            let plan = plan(&store, query).await;
            assert!(
                plan.iter().any(|p| p.contains("case_events_feed (org_id=? AND txid=? AND seq>?)")),
                "the feed is scanned, not sought ({txid}, {seq}): {plan:?}"
            );
        }
    }

    /// A problem's page lists its incidents. Asked plainly, SQLite walked the organization's
    /// creation-time index for the order and read every case to find them: 20 ms at 40,000 cases,
    /// on every view of a problem.
    #[tokio::test]
    async fn a_problems_incidents_are_found_by_the_problem_index() {
        let plan = plan_of(&super::q::incidents_sql(), &["cas_problem", "org_1"]).await;
        assert!(plan.iter().any(|p| p.contains("USING INDEX cases_problem (problem_id=?)")), "{plan:?}");
        assert!(!plan.iter().any(|p| p.contains("cases_created")), "{plan:?}");
    }

    /// Purging a case unlinks its incidents and the cases merged into it, through their indexes.
    #[tokio::test]
    async fn a_purge_unlinks_by_index() {
        let indexes = [("problem_id", "cases_problem"), ("merged_into_id", "cases_merged_into")];
        for (sql, (column, index)) in super::q::UNLINK_SQL.iter().zip(indexes) {
            let plan = plan_of(sql, &["org_1", "cas_1"]).await;
            assert!(plan.iter().any(|p| p.contains(&format!("USING INDEX {index} ({column}=?)"))), "{plan:?}");
        }
    }
}
