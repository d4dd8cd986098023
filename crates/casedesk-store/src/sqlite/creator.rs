//! Group commit for new cases on SQLite.
//!
//! SQLite has one writer, and sqlx runs each SQLite statement on a worker thread: every round
//! trip costs two thread switches, and every commit writes the index pages it touched to the WAL.
//! Creating cases one transaction at a time therefore spends most of the writer's time switching
//! threads and rewriting the same hot pages (the right edge of every index, the organization's
//! counter row).
//!
//! [`CaseCreator`] is a task that owns the path: requests queue on a channel, and each round
//! takes every queued create (up to [`MAX_BATCH`]) and sends them to SQLite as ONE multi-statement
//! query — `BEGIN IMMEDIATE`, each case's statements, `COMMIT` — whose `INSERT … RETURNING`s
//! return the case numbers in order. Under load a round carries many cases; a lone request goes alone, with no
//! added wait. Every caller gets its answer only after the commit.
//!
//! If a round fails (a duplicate idempotency key, say), it is rolled back whole and its cases are
//! retried one per round, so only the case at fault fails. The work runs in the task, not in the
//! request: a client that disconnects cannot leave a transaction half-sent.

use std::collections::HashMap;
use std::sync::OnceLock;

use casedesk_domain::case::Case;
use casedesk_domain::search::{SearchDoc, fold_joined, people_ids};
use casedesk_domain::timeline::NewEvent;
use tokio::sync::{mpsc, oneshot};

use crate::{IdempotencyRecord, Result, StoreError};

/// Most cases in one round (and one transaction).
pub const MAX_BATCH: usize = 64;
/// Arguments of one case in a round.
const ARGS_PER_CASE: usize = 40;

/// One case's statements. `$N` are numbered for the first case of a round; [`round_sql`] shifts
/// them for the others. The idempotency key is written only when one was given (`$33` not null),
/// so every round of the same size is the same SQL and stays prepared.
const CASE_SQL: &str = "\
UPDATE organizations SET next_case_number = next_case_number + 1 WHERE id = $2;
INSERT INTO cases (seq, id, org_id, case_number, subject, description, status, priority, case_type, channel, queue_id,
    owner_id, requester_id, contact_id, account_id, opportunity_id, tags, custom_fields, resolution_notes, due_at,
    is_waiting, resolved_at, closed_at, created_by, updated_by, created_at, updated_at, version, report)
VALUES ((SELECT COALESCE(MAX(seq) + 1, $38) FROM cases WHERE seq >= $38 AND seq < $38 + 1024),
    $1, $2, (SELECT next_case_number - 1 FROM organizations WHERE id = $2), $4, $5, $6, $7, $8, $9, $10, $11,
    $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $40) RETURNING case_number;
INSERT INTO case_tags (org_id, tag, case_seq) SELECT $2, j.value, c.seq FROM json_each($16) j, cases c WHERE c.id = $1;
INSERT INTO cases_fts (rowid, subject, description, comments, people) SELECT seq, $28, $29, $30, $39 FROM cases WHERE id = $1;
INSERT INTO case_events (org_id, case_id, kind, actor_id, data, created_at)
VALUES ($2, $1, $31, $23, json_set($32, '$.case_number', (SELECT case_number FROM cases WHERE id = $1)), $25);
INSERT INTO idempotency_keys (org_id, user_id, key, request_hash, resource_id, status_code, created_at)
SELECT $2, $33, $34, $35, $1, $36, $37 WHERE $33 IS NOT NULL;
";

/// The SQL of a round of `n` cases, built once per size; `begin` when it opens its own
/// transaction (a round that first read names has one open already).
fn round_sql(n: usize, begin: bool) -> &'static str {
    static ROUNDS: OnceLock<[Vec<String>; 2]> = OnceLock::new();
    let rounds = ROUNDS.get_or_init(|| {
        [
            (1..=MAX_BATCH).map(|n| build_round(n, false)).collect(),
            (1..=MAX_BATCH).map(|n| build_round(n, true)).collect(),
        ]
    });
    &rounds[usize::from(begin)][n.clamp(1, MAX_BATCH) - 1]
}

fn build_round(n: usize, begin: bool) -> String {
    let mut sql = String::from(if begin { "BEGIN IMMEDIATE;\n" } else { "" });
    sql.push_str("INSERT INTO case_round (only) VALUES (1);\n");
    for k in 0..n {
        sql.push_str(&shift_placeholders(CASE_SQL, k * ARGS_PER_CASE));
    }
    let ids: Vec<String> = (0..n).map(|k| format!("${}", 1 + k * ARGS_PER_CASE)).collect();
    sql.push_str(&ROUND_TOTALS_SQL.replace("$IDS", &ids.join(", ")));
    sql.push_str("DELETE FROM case_round;\nCOMMIT;");
    sql
}

/// The round's cases (`$IDS`, their id placeholders) added to the per-view counters and to the
/// created-day report totals, one grouped upsert each: exactly what the insert triggers add per
/// case (migrations 0013, 0033), which leave it to the round while `case_round` holds its row
/// (0034). Six-plus upserts per case were a sixth of the writer's work on a new case.
const ROUND_TOTALS_SQL: &str = "\
INSERT INTO case_counts (org_id, dim, key, status, n)
SELECT c.org_id, d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'owner' THEN COALESCE(c.owner_id, '')
    WHEN 'queue' THEN COALESCE(c.queue_id, '') WHEN 'priority' THEN CAST(c.priority AS TEXT)
    WHEN 'created_by' THEN c.created_by ELSE c.updated_by END, c.status, COUNT(*)
FROM cases c CROSS JOIN (VALUES ('all'), ('owner'), ('queue'), ('priority'), ('created_by'), ('updated_by')) d
WHERE c.id IN ($IDS) AND c.deleted_at IS NULL GROUP BY 1, 2, 3, 4
ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
INSERT INTO case_counts (org_id, dim, key, status, n)
SELECT c.org_id, 'tag', t.tag, c.status, COUNT(*) FROM cases c JOIN case_tags t ON t.case_seq = c.seq
WHERE c.id IN ($IDS) AND c.deleted_at IS NULL GROUP BY 1, 2, 3, 4
ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n;
INSERT INTO report_days (org_id, series, dim, key, day, n, m, secs, bn, bsecs, hist, bhist)
SELECT c.org_id, 'created', d.column1, CASE d.column1 WHEN 'all' THEN '' WHEN 'queue' THEN COALESCE(c.queue_id, '')
    WHEN 'agent' THEN COALESCE(c.owner_id, '') WHEN 'priority' THEN CAST(c.priority AS TEXT)
    WHEN 'channel' THEN c.channel ELSE COALESCE(c.category_id, '') END,
    json_extract(c.report, '$.created_day'), COUNT(*), 0, 0, 0, 0, '{}', '{}'
FROM cases c CROSS JOIN (VALUES ('all'), ('queue'), ('agent'), ('priority'), ('channel'), ('category')) d
WHERE c.id IN ($IDS) AND c.report IS NOT NULL AND c.deleted_at IS NULL
    AND json_extract(c.report, '$.created_day') IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (org_id, series, dim, day, key) DO UPDATE SET n = report_days.n + excluded.n;
";

/// Renumbers every `$N` in `sql` to `$(N + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let start = i + 1;
            let mut end = start;
            while let Some((j, d)) = chars.peek().copied() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            let n: usize = sql[start..end].parse().unwrap_or(0);
            out.push('$');
            out.push_str(&(n + by).to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A case waiting for its round.
struct Job {
    case: Case,
    doc: SearchDoc,
    created: NewEvent,
    idem: Option<IdempotencyRecord>,
    reply: oneshot::Sender<Result<i64>>,
}

/// The handle requests use; the task ends when the last handle is dropped.
pub struct CaseCreator {
    jobs: mpsc::UnboundedSender<Job>,
}

impl CaseCreator {
    pub fn start(writer: sqlx::SqlitePool) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, rx));
        CaseCreator { jobs }
    }

    /// Stores a new case (number, row, tags, search entry, `created` event, idempotency key) and
    /// returns its case number once committed.
    pub async fn create(
        &self,
        case: Case,
        doc: SearchDoc,
        created: NewEvent,
        idem: Option<IdempotencyRecord>,
    ) -> Result<i64> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { case, doc, created, idem, reply }).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn run(pool: sqlx::SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcome = round(&pool, &jobs).await;
        tracing::debug!(round.cases = jobs.len(), duration_us = started.elapsed().as_micros() as u64, "case round");
        match outcome {
            Ok(numbers) => {
                for (job, n) in jobs.into_iter().zip(numbers) {
                    let _ = job.reply.send(Ok(n));
                }
            }
            Err(e) if jobs.len() == 1 => {
                if let Some(job) = jobs.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(_) => {
                // One bad case must not fail the others: retry each in a round of its own.
                for job in jobs {
                    let result = round(&pool, std::slice::from_ref(&job)).await.map(|n| n[0]);
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// Sends one round and returns the case numbers, in order; rolls back on any failure.
///
/// A case about contacts is found by their names, which are read inside the round's
/// transaction (so a rename cannot slip between the read and the write): such a round opens the
/// transaction, reads the names, then sends the rest. Other rounds are one round trip.
async fn round(pool: &sqlx::SqlitePool, jobs: &[Job]) -> Result<Vec<i64>> {
    let mut conn = pool.acquire().await?;
    let wanted: Vec<&str> = jobs
        .iter()
        .flat_map(|j| people_ids(j.case.contact_id.as_deref(), Some(j.case.requester_id.as_str())))
        .collect();
    let names = if wanted.is_empty() {
        HashMap::new()
    } else {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        match names_of(&mut conn, &wanted).await {
            Ok(names) => names,
            Err(e) => {
                rollback(&mut conn).await;
                return Err(e);
            }
        }
    };
    let mut q = sqlx::query_scalar::<_, i64>(round_sql(jobs.len(), wanted.is_empty()));
    for job in jobs {
        let c = &job.case;
        let people = people_ids(c.contact_id.as_deref(), Some(c.requester_id.as_str()));
        let people = fold_joined(people.iter().filter_map(|id| names.get(*id).map(String::as_str)));
        q = q
            .bind(c.id.clone())
            .bind(c.org_id.clone())
            .bind(c.case_number)
            .bind(c.subject.clone())
            .bind(c.description.clone())
            .bind(c.status.as_str())
            .bind(c.priority.rank())
            .bind(c.case_type.as_str())
            .bind(c.channel.as_str())
            .bind(c.queue_id.clone())
            .bind(c.owner_id.clone())
            .bind(c.requester_id.clone())
            .bind(c.contact_id.clone())
            .bind(c.account_id.clone())
            .bind(c.opportunity_id.clone())
            .bind(super::q::json_text(&c.tags)?)
            .bind(super::q::json_text(&c.custom_fields)?)
            .bind(c.resolution_notes.clone())
            .bind(super::q::opt_us(c.due_at))
            .bind(c.is_waiting)
            .bind(super::q::opt_us(c.resolved_at))
            .bind(super::q::opt_us(c.closed_at))
            .bind(c.created_by.clone())
            .bind(c.updated_by.clone())
            .bind(super::q::us(c.created_at))
            .bind(super::q::us(c.updated_at))
            .bind(c.version)
            .bind(job.doc.subject.clone())
            .bind(job.doc.description.clone())
            .bind(job.doc.comments.clone())
            .bind(job.created.kind)
            .bind(super::q::json_text(&job.created.data)?);
        let idem = job.idem.as_ref();
        q = q
            .bind(idem.map(|r| r.user_id.clone()))
            .bind(idem.map(|r| r.key.clone()))
            .bind(idem.map(|r| r.request_hash.clone()))
            .bind(idem.map(|r| i64::from(r.status_code)))
            .bind(idem.map(|r| super::q::us(r.created_at)))
            .bind(super::q::seq_base(c.created_at)?)
            .bind(people)
            .bind(super::q::report_text(c)?);
    }
    match q.fetch_all(&mut *conn).await {
        Ok(numbers) if numbers.len() == jobs.len() => Ok(numbers),
        Ok(numbers) => {
            Err(StoreError::Corrupt(format!("a round of {} cases returned {} numbers", jobs.len(), numbers.len())))
        }
        Err(e) => {
            // The batch stopped at the failing statement, inside its transaction.
            rollback(&mut conn).await;
            Err(e.into())
        }
    }
}

async fn rollback(conn: &mut sqlx::SqliteConnection) {
    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
        tracing::warn!(error = %e, "rollback after a failed round");
    }
}

/// The names of the contacts `ids`, by id.
async fn names_of(conn: &mut sqlx::SqliteConnection, ids: &[&str]) -> Result<HashMap<String, String>> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM contacts WHERE id IN (SELECT value FROM json_each($1))")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_shift_by_whole_numbers() {
        assert_eq!(shift_placeholders("a = $1 AND b = $12, '$x', $", 37), "a = $38 AND b = $49, '$x', $");
        let two = build_round(2, true);
        assert!(two.starts_with("BEGIN IMMEDIATE;") && two.ends_with("COMMIT;"));
        assert!(two.contains("$80") && !two.contains("$81"), "two cases use $1..$80");
        assert!(build_round(2, false).starts_with("INSERT INTO case_round"), "a round inside an open transaction");
        assert!(two.contains("c.id IN ($1, $41)") && two.ends_with("DELETE FROM case_round;\nCOMMIT;"));
    }
}
