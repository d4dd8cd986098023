//! Benchmarks only: the statement that seeds many realistic cases at once for `casedesk
//! bench-search`. Every value is a deterministic hash of the case's index, so both backends get
//! the same cases; the text is drawn from a vocabulary with a skew (a few words are common, most
//! are rare), so words have realistic selectivity.

use crate::BackendKind;

/// What `bench_seed_search` writes: cases `first_number …` of `org_id`, their tags and their
/// full-text entries.
pub struct SearchSeed<'a> {
    pub org_id: &'a str,
    pub first_number: i64,
    pub n: i64,
    /// Creation time of the first case, and the step between cases, in µs.
    pub start_us: i64,
    pub step_us: i64,
    pub now_us: i64,
    pub vocabulary: &'a [String],
    pub agents: &'a [String],
    pub queues: &'a [String],
}

/// Large prime: `(g * p + s) % M` spreads consecutive indexes over `[0, M)`.
const M: i64 = 1_000_003;

/// A pseudo-random number in `[0, M)` for case index `g`, one stream per `salt`.
fn hash(salt: i64) -> String {
    const PRIMES: [i64; 8] = [7919, 104_729, 1_299_709, 15_485_863, 32_452_843, 49_979_687, 67_867_967, 86_028_121];
    let p = PRIMES[(salt as usize) % PRIMES.len()] + 2 * salt;
    format!("((r.g * {p} + {}) % {M})", salt * 7_777 + 11)
}

/// Temporary tables the statement reads: `bench_vocab(k, w)`, `bench_agents(k, id)`,
/// `bench_queues(k, id)`, keyed from 0.
pub(crate) const TEMP_TABLES: [&str; 3] = ["bench_vocab", "bench_agents", "bench_queues"];

/// `INSERT INTO cases …` for the cases numbered `$2 + 0 … $2 + $3 - 1` of organization `$1`,
/// created from `$4` every `$5` µs, with SLA times around `$6` (now); `$7`, `$8`, `$9` are the
/// sizes of the vocabulary, the agents and the queues.
pub(crate) fn seed_cases(kind: BackendKind) -> String {
    let sqlite = kind == BackendKind::Sqlite;
    // A word drawn with a cubic skew towards the start of the vocabulary.
    let word = |salt: i64| {
        let h = hash(salt);
        let k = format!("({h} * {h} / {M} * {h} / {M} * $7 / {M})");
        if sqlite { format!("(SELECT w FROM bench_vocab WHERE k = {k})") } else { format!("bv.words[({k})::int + 1]") }
    };
    let pick = |table: &str, k: String| {
        if sqlite {
            format!("(SELECT id FROM {table} WHERE k = {k})")
        } else {
            format!("{table}_a.ids[({k})::int + 1]")
        }
    };
    let words = |salts: std::ops::Range<i64>| salts.map(word).collect::<Vec<_>>().join(" || ' ' || ");
    let subject = words(20..25);
    let description = format!("{} || ' order ord' || (r.g + 1)", words(30..44));
    let (status, prio, owner, queue, by, upd, tag, sla, jitter) =
        (hash(1), hash(2), hash(3), hash(4), hash(5), hash(6), hash(7), hash(8), hash(9));
    let active = format!("({status} % 100 < 20)");
    let created = format!("($4 + r.g * $5 + {jitter} % $5)");
    let least = if sqlite { "min" } else { "LEAST" };
    let rows = if sqlite {
        "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $3) SELECT $2 - 1 + i AS g FROM n) r"
            .to_string()
    } else {
        "(SELECT $2::bigint - 1 + i AS g FROM generate_series(0::bigint, $3::bigint - 1) AS n(i)) r \
         CROSS JOIN (SELECT array_agg(w ORDER BY k) AS words FROM bench_vocab) bv \
         CROSS JOIN (SELECT array_agg(id ORDER BY k) AS ids FROM bench_agents) bench_agents_a \
         CROSS JOIN (SELECT array_agg(id ORDER BY k) AS ids FROM bench_queues) bench_queues_a \
         WHERE $6::bigint IS NOT NULL AND $7::bigint > 0 AND $8::bigint > 0 AND $9::bigint > 0"
            .to_string()
    };
    let (id, seq_col, seq_val, search_col, search_val) = if sqlite {
        (
            "'case_bs' || printf('%09d', r.g + 1)".to_string(),
            "seq, ",
            "s.created_at * 1024, ".to_string(),
            "",
            String::new(),
        )
    } else {
        (
            "'case_bs' || lpad((r.g + 1)::text, 9, '0')".to_string(),
            "",
            String::new(),
            ", search",
            ", setweight(to_tsvector('simple', s.subject), 'A') || to_tsvector('simple', s.description)".to_string(),
        )
    };
    let closed_at = "CASE WHEN s.status IN ('resolved', 'closed') THEN s.updated_at END";
    format!(
        "INSERT INTO cases ({seq_col}id, org_id, case_number, subject, description, status, priority, case_type, channel, \
         queue_id, owner_id, requester_id, tags, custom_fields, is_waiting, resolved_at, closed_at, created_by, updated_by, \
         created_at, updated_at, version, sla_breached, sla_due_at{search_col}) \
         SELECT {seq_val}s.id, $1, s.g + 1, s.subject, s.description, s.status, s.priority, 'question', 'email', s.queue_id, \
         s.owner_id, s.created_by, s.tags, '{{}}', s.status = 'pending', {closed_at}, \
         CASE WHEN s.status = 'closed' THEN s.updated_at END, s.created_by, s.updated_by, s.created_at, s.updated_at, 1, \
         s.sla_breached, s.sla_due_at{search_val} FROM (SELECT r.g, {id} AS id, {subject} AS subject, \
         {description} AS description, \
         CASE WHEN {status} % 100 < 3 THEN 'new' WHEN {status} % 100 < 13 THEN 'open' \
              WHEN {status} % 100 < 18 THEN 'pending' WHEN {status} % 100 < 20 THEN 'on_hold' \
              WHEN {status} % 100 < 30 THEN 'resolved' ELSE 'closed' END AS status, \
         CASE WHEN {prio} % 100 < 20 THEN 1 WHEN {prio} % 100 < 70 THEN 2 WHEN {prio} % 100 < 92 THEN 3 ELSE 4 END \
              AS priority, \
         {queue_pick} AS queue_id, \
         CASE WHEN {owner} % 100 < 10 OR ({status} % 100 < 3 AND {owner} % 100 < 80) THEN NULL \
              ELSE {owner_pick} END AS owner_id, \
         {by_pick} AS created_by, {upd_pick} AS updated_by, \
         CASE WHEN {tag} % 100 < 5 THEN '[\"vip\"]' WHEN {tag} % 100 < 15 THEN '[\"billing\"]' \
              WHEN {tag} % 100 < 23 THEN '[\"bug\"]' WHEN {tag} % 100 < 26 THEN '[\"billing\",\"vip\"]' ELSE '[]' END AS tags, \
         {created} AS created_at, \
         {least}($6, {created} + {upd} % 1000 * 2592000000) AS updated_at, \
         ({active} AND {sla} % 100 < 8) OR (NOT {active} AND {sla} % 100 < 10) AS sla_breached, \
         CASE WHEN {active} AND {sla} % 100 < 60 THEN $6 + ({sla} % 1000 - 250) * 345600000 END AS sla_due_at \
         FROM {rows}) s",
        queue_pick = pick("bench_queues", format!("({queue} % 100) * ({queue} % 100) * $9 / 10000")),
        owner_pick = pick("bench_agents", format!("({owner} / 100) % $8")),
        by_pick = pick("bench_agents", format!("{by} % $8")),
        upd_pick = pick("bench_agents", format!("{upd} % $8")),
    )
}

/// Adds the cases numbered `$2 …` below `$3` of organization `$1` (and their tags) to the
/// maintained totals, for a seed written with the triggers off.
pub(crate) const COUNT_SEEDED: &str = "INSERT INTO case_counts (org_id, dim, key, status, n) \
    SELECT org_id, dim, key, status, SUM(n) FROM ( \
    SELECT org_id, 'all' AS dim, '' AS key, status, 1 AS n FROM seeded \
    UNION ALL SELECT org_id, 'owner', COALESCE(owner_id, ''), status, 1 FROM seeded \
    UNION ALL SELECT org_id, 'queue', COALESCE(queue_id, ''), status, 1 FROM seeded \
    UNION ALL SELECT org_id, 'priority', CAST(priority AS TEXT), status, 1 FROM seeded \
    UNION ALL SELECT org_id, 'created_by', created_by, status, 1 FROM seeded \
    UNION ALL SELECT org_id, 'updated_by', updated_by, status, 1 FROM seeded \
    UNION ALL SELECT s.org_id, 'tag', t.tag, s.status, 1 FROM seeded s JOIN case_tags t ON t.case_seq = s.seq \
    ) x WHERE true GROUP BY org_id, dim, key, status \
    ON CONFLICT (org_id, dim, key, status) DO UPDATE SET n = case_counts.n + excluded.n";

/// The seeded cases, for [`COUNT_SEEDED`].
pub(crate) const SEEDED: &str = "WITH seeded AS (SELECT seq, org_id, status, owner_id, queue_id, priority, created_by, \
    updated_by FROM cases WHERE org_id = $1 AND case_number >= $2 AND case_number < $3 AND deleted_at IS NULL) ";

/// What `bench_seed_reports` writes: cases `first_number …` of `org_id`, worked over a year, and
/// time entries and answered surveys for some of them.
pub struct ReportSeed<'a> {
    pub org_id: &'a str,
    pub first_number: i64,
    pub n: i64,
    pub start_us: i64,
    pub step_us: i64,
    pub agents: &'a [String],
    pub queues: &'a [String],
    pub categories: &'a [String],
}

/// The bucket of `secs` (an SQL expression) as `casedesk_domain::report::bucket` computes it.
fn bucket_sql(secs: &str) -> String {
    let bounds = casedesk_domain::report::lower_bounds();
    let arms: String =
        bounds.iter().enumerate().skip(1).map(|(i, lo)| format!(" WHEN {secs} < {lo} THEN {}", i - 1)).collect();
    format!("(CASE{arms} ELSE {} END)", bounds.len() - 1)
}

/// `INSERT INTO cases …` for the cases numbered `$2 + 0 … $2 + $3 - 1` of organization `$1`,
/// created from `$4` every `$5` µs in an organization on UTC, each with its report figures (so
/// the triggers add them to the per-day totals as they would for cases worked through the API):
/// 85 % answered (mostly within hours), 90 % resolved (mostly within days), business time a
/// third of the calendar time. `$6`, `$7`, `$8`: the sizes of the agents, queues and categories
/// tables.
pub(crate) fn seed_report_cases(kind: BackendKind) -> String {
    let sqlite = kind == BackendKind::Sqlite;
    let (prio, chan, queue, owner, cat, fr, res, done, nr) =
        (hash(1), hash(2), hash(3), hash(4), hash(5), hash(6), hash(7), hash(8), hash(9));
    let pick = |table: &str, k: String| {
        if sqlite {
            format!("(SELECT id FROM {table} WHERE k = {k})")
        } else {
            format!("{table}_a.ids[({k})::int + 1]")
        }
    };
    let rows = if sqlite {
        "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $3) SELECT $2 - 1 + i AS g FROM n) r"
            .to_string()
    } else {
        "(SELECT $2::bigint - 1 + i AS g FROM generate_series(0::bigint, $3::bigint - 1) AS n(i)) r \
         CROSS JOIN (SELECT array_agg(id ORDER BY k) AS ids FROM bench_agents) bench_agents_a \
         CROSS JOIN (SELECT array_agg(id ORDER BY k) AS ids FROM bench_queues) bench_queues_a \
         CROSS JOIN (SELECT array_agg(id ORDER BY k) AS ids FROM bench_categories) bench_categories_a \
         WHERE $6::bigint > 0 AND $7::bigint > 0 AND $8::bigint > 0"
            .to_string()
    };
    let day = |us: &str| format!("({us}) / 86400000000");
    let obj = if sqlite { "json_object" } else { "jsonb_build_object" };
    let fr_at = "(s.created_at + s.fr_secs * 1000000)";
    let res_at = "(s.created_at + s.res_secs * 1000000)";
    let report = format!(
        "{obj}('created_day', {cd}, \
         'first_response_at', CASE WHEN s.answered THEN {fr_at} END, \
         'first_response_day', CASE WHEN s.answered THEN {fd} END, \
         'first_response_bsecs', CASE WHEN s.answered THEN s.fr_secs / 3 END, \
         'fr_secs', CASE WHEN s.answered THEN s.fr_secs END, \
         'fr_b', CASE WHEN s.answered THEN {frb} END, \
         'fr_bb', CASE WHEN s.answered THEN {frbb} END, \
         'resolved_day', CASE WHEN s.resolved THEN {rd} END, \
         'resolution_bsecs', CASE WHEN s.resolved THEN s.res_secs / 3 END, \
         'res_secs', CASE WHEN s.resolved THEN s.res_secs END, \
         'res_b', CASE WHEN s.resolved THEN {resb} END, \
         'res_bb', CASE WHEN s.resolved THEN {resbb} END, \
         'sla_fr', CASE WHEN s.resolved THEN CASE WHEN s.fr_secs < 14400 THEN 1 ELSE 0 END END, \
         'sla_nr', CASE WHEN s.resolved AND s.nr % 10 < 4 THEN CASE WHEN s.nr % 10 < 3 THEN 1 ELSE 0 END END, \
         'sla_res', CASE WHEN s.resolved THEN CASE WHEN s.res_secs < 259200 THEN 1 ELSE 0 END END)",
        cd = day("s.created_at"),
        fd = day(fr_at),
        rd = day(res_at),
        frb = bucket_sql("s.fr_secs"),
        frbb = bucket_sql("(s.fr_secs / 3)"),
        resb = bucket_sql("s.res_secs"),
        resbb = bucket_sql("(s.res_secs / 3)"),
    );
    let report = if sqlite { report } else { format!("jsonb_strip_nulls({report})::text") };
    let (id, seq_col, seq_val) = if sqlite {
        ("'case_br' || printf('%09d', r.g + 1)", "seq, ", "s.created_at * 1024, ")
    } else {
        ("'case_br' || lpad((r.g + 1)::text, 9, '0')", "", "")
    };
    format!(
        "INSERT INTO cases ({seq_col}id, org_id, case_number, subject, description, status, priority, case_type, channel, \
         queue_id, owner_id, requester_id, tags, custom_fields, is_waiting, resolved_at, created_by, updated_by, \
         created_at, updated_at, version, category_id, report) \
         SELECT {seq_val}s.id, $1, s.g + 1, 'Report bench case', '', CASE WHEN s.resolved THEN 'resolved' ELSE 'open' END, \
         s.priority, 'question', s.channel, s.queue_id, s.owner_id, s.owner, '[]', '{{}}', NOT s.resolved, \
         CASE WHEN s.resolved THEN {res_at} END, s.owner, s.owner, s.created_at, s.created_at, 1, s.category_id, {report} \
         FROM (SELECT r.g, {id} AS id, \
         CASE WHEN {prio} % 100 < 20 THEN 1 WHEN {prio} % 100 < 70 THEN 2 WHEN {prio} % 100 < 92 THEN 3 ELSE 4 END AS priority, \
         CASE {chan} % 5 WHEN 0 THEN 'email' WHEN 1 THEN 'phone' WHEN 2 THEN 'web' WHEN 3 THEN 'chat' ELSE 'api' END AS channel, \
         {queue_pick} AS queue_id, \
         CASE WHEN {owner} % 100 < 10 THEN NULL ELSE {owner_pick} END AS owner_id, \
         {owner_pick} AS owner, \
         CASE WHEN {cat} % 100 < 30 THEN NULL ELSE {cat_pick} END AS category_id, \
         ($4 + r.g * $5) AS created_at, \
         {fr} % 100 < 85 AS answered, \
         60 + ({fr} * {fr} / {M}) % 172800 AS fr_secs, \
         {done} % 100 < 90 AS resolved, \
         61 + ({fr} * {fr} / {M}) % 172800 + ({res} * {res} / {M} * {res} / {M}) % 2592000 AS res_secs, \
         {nr} AS nr \
         FROM {rows}) s",
        queue_pick = pick("bench_queues", format!("({queue} % 100) * ({queue} % 100) * $7 / 10000")),
        owner_pick = pick("bench_agents", format!("({owner} / 100) % $6")),
        cat_pick = pick("bench_categories", format!("({cat} / 100) % $8")),
    )
}

/// Time entries on every fifth of the cases numbered `$2 …` below `$3` of organization `$1`: by
/// the case's owner (or creator), on its creation day, 5 minutes to 4 hours, 60 % billable.
pub(crate) fn seed_report_time(kind: BackendKind) -> String {
    let (date, billable) = if kind == BackendKind::Sqlite {
        ("date(c.created_at / 1000000, 'unixepoch')", "(c.case_number % 10 < 6)")
    } else {
        ("to_char(to_timestamp(c.created_at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "(c.case_number % 10 < 6)")
    };
    format!(
        "INSERT INTO time_entries (id, org_id, case_id, user_id, work_date, duration_secs, time_type_id, billable, note, \
         source, created_by, created_at, updated_at) \
         SELECT 'te_br' || c.case_number, c.org_id, c.id, COALESCE(c.owner_id, c.created_by), {date}, \
         300 + (c.case_number * 7919) % 14100, NULL, {billable}, '', 'manual', c.created_by, c.created_at, c.created_at \
         FROM cases c WHERE c.org_id = $1 AND c.case_number >= $2 AND c.case_number < $3 AND c.case_number % 5 = 0"
    )
}

/// Answered 1–5 surveys on every eighth resolved case numbered `$2 …` below `$3` of
/// organization `$1`, answered on the day of the resolution (the triggers count them).
pub(crate) fn seed_report_csat(kind: BackendKind) -> String {
    let day = if kind == BackendKind::Sqlite {
        "CAST(json_extract(c.report, '$.resolved_day') AS INTEGER)"
    } else {
        "((c.report::jsonb)->>'resolved_day')::int"
    };
    format!(
        "INSERT INTO csat_surveys (id, org_id, case_id, requester_id, token_hash, scale, score, comment, resolved_at, \
         expires_at, answered_at, answered_day, created_at, updated_at, queue_id, owner_id, priority, channel, category_id) \
         SELECT 'csat_br' || c.case_number, c.org_id, c.id, c.requester_id, 'bench' || c.case_number, 'one_to_five', \
         1 + (c.case_number * 104729) % 5, NULL, c.resolved_at, c.resolved_at + 604800000000, c.resolved_at, {day}, \
         c.resolved_at, c.resolved_at, c.queue_id, c.owner_id, c.priority, c.channel, c.category_id \
         FROM cases c WHERE c.org_id = $1 AND c.case_number >= $2 AND c.case_number < $3 AND c.case_number % 8 = 0 \
         AND c.resolved_at IS NOT NULL"
    )
}
