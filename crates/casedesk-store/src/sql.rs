//! Building SQL text shared by both backends: numbered `$N` placeholders with their arguments,
//! and the dynamic case-list query.

use casedesk_domain::count::{self, Dimension, TotalsQuery};
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering, Range};
use casedesk_domain::query::{Test, Who};

use crate::StoreError;
use crate::cursor::{self, Key};

/// A bind argument of a dynamically built query.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    Real(f64),
}

/// SQL text with its arguments, numbered in the order they are added.
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Adds an argument and returns its placeholder.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// `AND <column> IN ($a, $b …)` for a non-empty list.
    pub fn and_in(&mut self, column: &str, values: impl IntoIterator<Item = Arg>) {
        let placeholders: Vec<String> = values.into_iter().map(|v| self.arg(v)).collect();
        if !placeholders.is_empty() {
            self.text.push_str(&format!(" AND {column} IN ({})", placeholders.join(", ")));
        }
    }
}

/// The columns of a case, in the order `decode_case` reads them.
pub const CASE_COLUMNS: &str = "c.seq, c.id, c.org_id, c.case_number, c.subject, c.description, c.status, \
    c.priority, c.case_type, c.channel, c.queue_id, c.owner_id, c.requester_id, c.contact_id, c.account_id, \
    c.opportunity_id, c.tags, c.custom_fields, c.resolution_notes, c.due_at, c.is_waiting, c.resolved_at, \
    c.closed_at, c.created_by, c.updated_by, c.created_at, c.updated_at, c.version, c.required_skills, c.problem_id, \
    c.sla, c.custom_status_id, c.funnel_stage_id, c.merged_into_id, \
    c.category_id, c.report, c.unread_message_count";

/// The sort columns of an ordering, and whether each cursor key is an integer.
fn sort_columns(o: Ordering) -> &'static [&'static str] {
    match o {
        Ordering::CreatedAsc | Ordering::CreatedDesc => &["c.created_at", "c.seq"],
        Ordering::UpdatedAsc | Ordering::UpdatedDesc => &["c.updated_at", "c.seq"],
        Ordering::PriorityAsc | Ordering::PriorityDesc => &["c.priority", "c.created_at", "c.seq"],
        Ordering::Relevance => &["r.score", "r.seq"],
    }
}

/// The cursor that continues after a row with these sort values.
pub fn case_cursor(o: Ordering, priority: i64, created_at: i64, updated_at: i64, seq: i64) -> String {
    let keys = match o {
        Ordering::CreatedAsc | Ordering::CreatedDesc => vec![Key::Int(created_at), Key::Int(seq)],
        Ordering::UpdatedAsc | Ordering::UpdatedDesc => vec![Key::Int(updated_at), Key::Int(seq)],
        Ordering::PriorityAsc | Ordering::PriorityDesc => {
            vec![Key::Int(priority), Key::Int(created_at), Key::Int(seq)]
        }
        Ordering::Relevance => unreachable!("a relevance cursor is made by relevance_cursor"),
    };
    cursor::encode(o.as_str(), &keys)
}

/// The cursor that continues after a row of this score (the exact float, kept as its bits).
pub fn relevance_cursor(score: f64, created_at: i64, seq: i64) -> String {
    let keys = [Key::Int(score.to_bits() as i64), Key::Int(created_at), Key::Int(seq)];
    cursor::encode(Ordering::Relevance.as_str(), &keys)
}

/// How a backend searches text in a case list.
pub struct FullText {
    /// Adds the condition "the case matches these terms" to a query over `cases c`.
    pub condition: fn(&mut Sql, &[String]),
    /// A source that yields matching cases in `seq` order (which is creation order); the query
    /// then reads matches newest first and stops after a page instead of collecting and sorting
    /// all of them.
    pub in_seq_order: Option<fn(&[String]) -> SeqSource>,
    /// "Custom field `key` equals `value`, or is a list holding it" (JSON differs per backend).
    pub custom_field: fn(&mut Sql, &str, &str) -> String,
    /// "The case holds these words in this order."
    pub phrase: fn(&mut Sql, &[String]) -> String,
    /// Matching cases with a score, lower is better: the source of a relevance-ordered list.
    pub ranked: fn(&mut Sql, &[String], &[Vec<String>]) -> Ranked,
}

/// Most matches a relevance-ordered list ranks: the newest this many cases that match the
/// filter. Ranking scores every match it considers, so without a bound a common word would cost
/// a score per case of the organization.
pub const RELEVANCE_WINDOW: i64 = 2_000;

/// How a backend scores the cases matching some words (lower is better).
pub struct Ranked {
    /// `FROM …` joined to `cases c`, matching rows by the condition.
    pub from: &'static str,
    /// The match condition (every word and phrase).
    pub condition: String,
    /// The window's order, newest match first.
    pub newest_first: &'static str,
    /// The score as the matching query computes it, when it must be computed there (SQLite's
    /// `bm25` only exists inside the `MATCH` query).
    pub window_score: Option<String>,
    /// The score of a window row `w`, a double.
    pub score: String,
    /// What the score needs joined to the window rows `w`.
    pub score_join: &'static str,
    /// How the page's rows `r` are joined to `cases c`.
    pub join: &'static str,
}

/// A full-text table joined to `cases c` that yields rows in `seq` order.
pub struct SeqSource {
    /// `FROM <index> CROSS JOIN cases c ON c.seq = <index>.rowid` (CROSS JOIN keeps the index as
    /// the outer loop).
    pub from: &'static str,
    /// The condition before the match argument, e.g. `cases_fts MATCH `.
    pub matches: &'static str,
    /// The column that orders the rows, e.g. `cases_fts.rowid`.
    pub order_column: &'static str,
    pub argument: String,
}

pub const JOINS: &str = " LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN contacts ct ON ct.id = c.contact_id \
    LEFT JOIN case_statuses cs ON cs.id = c.custom_status_id \
    LEFT JOIN case_statuses csd ON c.custom_status_id IS NULL AND csd.org_id = c.org_id AND csd.category = c.status \
    AND csd.is_default LEFT JOIN funnel_stages fs ON fs.id = c.funnel_stage_id";

/// The custom status (named, or the category's default) and funnel stage of a case, from
/// [`JOINS`].
pub const WORKFLOW_COLUMNS: &str = ", COALESCE(cs.id, csd.id) AS cst_id, COALESCE(cs.name, csd.name) AS cst_name, \
    fs.name AS stg_name, fs.position AS stg_position";

/// `v IN (…)` for a list, or false for an empty one.
fn in_list(q: &mut Sql, column: &str, values: impl IntoIterator<Item = Arg>) -> String {
    let placeholders: Vec<String> = values.into_iter().map(|v| q.arg(v)).collect();
    if placeholders.is_empty() { "1 = 0".into() } else { format!("{column} IN ({})", placeholders.join(", ")) }
}

/// Ids of `table`'s rows in the organization that have this id or whose `columns` equal `v`
/// ignoring case.
fn named(q: &mut Sql, org_id: &str, table: &str, columns: &[&str], values: &[String]) -> String {
    let o = q.arg(Arg::Text(org_id.to_string()));
    let ids = in_list(q, "id", values.iter().map(|v| Arg::Text(v.clone())));
    let mut alternatives = vec![ids];
    for col in columns {
        alternatives.push(in_list(q, &format!("lower({col})"), values.iter().map(|v| Arg::Text(v.to_lowercase()))));
    }
    format!("SELECT id FROM {table} WHERE org_id = {o} AND ({})", alternatives.join(" OR "))
}

/// The SQL condition of one query-language test over `cases c`.
fn clause_condition(q: &mut Sql, org_id: &str, test: &Test, full_text: &FullText) -> String {
    // At most one user has this id or email (ids hold no '@'), so an equality with one value: the
    // planner then reads an index on (org_id, col, created_at) in order instead of sorting every
    // case of the person.
    let user = |q: &mut Sql, col: &str, who: &str| {
        format!("{col} = ({} LIMIT 1)", named(q, org_id, "users", &["email"], std::slice::from_ref(&who.to_string())))
    };
    let range = |q: &mut Sql, col: &str, r: &Range| {
        let mut parts = vec!["1 = 1".to_string()];
        if let Some(from) = r.from {
            parts.push(format!("{col} >= {}", q.arg(Arg::Int(from.as_microsecond()))));
        }
        if let Some(to) = r.to {
            parts.push(format!("{col} < {}", q.arg(Arg::Int(to.as_microsecond()))));
        }
        parts.join(" AND ")
    };
    match test {
        Test::Status(v) => in_list(q, "c.status", v.iter().map(|s| Arg::Text(s.as_str().into()))),
        Test::Priority(v) => in_list(q, "c.priority", v.iter().map(|p| Arg::Int(p.rank()))),
        Test::Type(v) => in_list(q, "c.case_type", v.iter().map(|t| Arg::Text(t.as_str().into()))),
        Test::Assignee(Who::Nobody) => "c.owner_id IS NULL".into(),
        Test::Assignee(Who::User(who)) => user(q, "c.owner_id", who),
        Test::CreatedBy(who) => user(q, "c.created_by", who),
        Test::UpdatedBy(who) => user(q, "c.updated_by", who),
        Test::Queue(names) => format!("c.queue_id IN ({})", named(q, org_id, "case_queues", &["name"], names)),
        Test::Category(names) => {
            format!("c.category_id IN ({})", named(q, org_id, "case_categories", &["name"], names))
        }
        Test::Account(a) => {
            format!("c.account_id IN ({})", named(q, org_id, "accounts", &["name", "domain"], std::slice::from_ref(a)))
        }
        Test::Requester(who) => {
            let contacts = named(q, org_id, "contacts", &["email"], std::slice::from_ref(who));
            let users = named(q, org_id, "users", &["email"], std::slice::from_ref(who));
            format!("c.contact_id IN ({contacts}) OR c.requester_id IN ({users})")
        }
        Test::Tag(tags) => {
            let o = q.arg(Arg::Text(org_id.to_string()));
            let list = in_list(q, "t.tag", tags.iter().map(|t| Arg::Text(t.clone())));
            // Probed per case (primary key (org_id, tag, case_seq)): a list in the default order
            // then stops after a page instead of collecting and sorting every tagged case.
            format!("EXISTS (SELECT 1 FROM case_tags t WHERE t.org_id = {o} AND {list} AND t.case_seq = c.seq)")
        }
        Test::Created(r) => range(q, "c.created_at", r),
        Test::Updated(r) => range(q, "c.updated_at", r),
        Test::Closed(r) => format!("c.closed_at IS NOT NULL AND {}", range(q, "c.closed_at", r)),
        Test::SlaBreached => "c.sla_breached".into(),
        Test::SlaOverdue(now) => {
            let p = q.arg(Arg::Int(now.as_microsecond()));
            format!("c.sla_breached OR (c.sla_due_at IS NOT NULL AND c.sla_due_at < {p})")
        }
        Test::SlaDueBefore(t) => {
            let p = q.arg(Arg::Int(t.as_microsecond()));
            format!("c.sla_due_at IS NOT NULL AND c.sla_due_at < {p}")
        }
        Test::MilestoneOverdue(now) => {
            let p = q.arg(Arg::Int(now.as_microsecond()));
            format!(
                "EXISTS (SELECT 1 FROM case_milestones m WHERE m.case_id = c.id AND m.completed_at IS NULL AND m.due_at < {p})"
            )
        }
        Test::CustomField(k, v) => (full_text.custom_field)(q, k, v),
        Test::HasAttachment => "EXISTS (SELECT 1 FROM case_files f WHERE f.case_id = c.id)".into(),
    }
}

/// Adds the filter's conditions (over `cases c`) to `q`. `with_terms: false` leaves the
/// free-text words to a full-text source the query reads from instead.
fn push_filter(q: &mut Sql, org_id: &str, f: &CaseFilter, full_text: &FullText, with_terms: bool) {
    q.and_in("c.status", f.statuses.iter().map(|s| Arg::Text(s.as_str().into())));
    q.and_in("c.priority", f.priorities.iter().map(|p| Arg::Int(p.rank())));
    q.and_in("c.case_type", f.types.iter().map(|t| Arg::Text(t.as_str().into())));
    let eq = |q: &mut Sql, col: &str, v: &Option<String>| {
        if let Some(v) = v {
            let p = q.arg(Arg::Text(v.clone()));
            q.push(&format!(" AND {col} = {p}"));
        }
    };
    eq(q, "c.queue_id", &f.queue_id);
    eq(q, "c.owner_id", &f.owner_id);
    eq(q, "c.requester_id", &f.requester_id);
    eq(q, "c.contact_id", &f.contact_id);
    if let Some(x) = &f.contact_external_id {
        let (o, x) = (q.arg(Arg::Text(org_id.to_string())), q.arg(Arg::Text(x.clone())));
        q.push(&format!(" AND c.contact_id IN (SELECT id FROM contacts WHERE org_id = {o} AND external_id = {x})"));
    }
    eq(q, "c.account_id", &f.account_id);
    eq(q, "c.problem_id", &f.problem_id);
    eq(q, "c.funnel_stage_id", &f.funnel_stage_id);
    eq(q, "c.category_id", &f.category_id);
    if let Some(now) = f.milestone_overdue_at {
        let p = q.arg(Arg::Int(now.as_microsecond()));
        q.push(&format!(
            " AND EXISTS (SELECT 1 FROM case_milestones m WHERE m.case_id = c.id AND m.completed_at IS NULL \
             AND m.due_at < {p})"
        ));
    }
    for (key, value) in &f.custom_fields {
        let cond = (full_text.custom_field)(q, key, value);
        q.push(" AND ").push(&cond);
    }
    for words in &f.phrases {
        let cond = (full_text.phrase)(q, words);
        q.push(" AND ").push(&cond);
    }
    for clause in &f.clauses {
        let cond = clause_condition(q, org_id, &clause.test, full_text);
        // `IS NOT TRUE` so a negated condition keeps the cases where it is NULL (no assignee …).
        let negation = if clause.negated { " IS NOT TRUE" } else { "" };
        q.push(&format!(" AND ({cond}){negation}"));
    }
    if let Some(cst) = &f.custom_status {
        // A category's default status is stored as "no custom status" in that category.
        let p = q.arg(Arg::Text(cst.id.clone()));
        match cst.default_of {
            Some(category) => {
                let c = q.arg(Arg::Text(category.as_str().into()));
                q.push(&format!(" AND (c.custom_status_id = {p} OR (c.custom_status_id IS NULL AND c.status = {c}))"));
            }
            None => {
                q.push(&format!(" AND c.custom_status_id = {p}"));
            }
        }
    }
    if f.unassigned {
        q.push(" AND c.owner_id IS NULL");
    }
    // Written as the partial index's own condition, so SQLite can use it.
    match f.sla_breached {
        Some(true) => q.push(" AND c.sla_breached"),
        Some(false) => q.push(" AND NOT c.sla_breached"),
        None => q,
    };
    if let Some(before) = f.sla_due_before {
        let p = q.arg(Arg::Int(before.as_microsecond()));
        q.push(&format!(" AND c.sla_due_at IS NOT NULL AND c.sla_due_at < {p}"));
    }
    if let Some(tag) = &f.tag {
        let o = q.arg(Arg::Text(org_id.to_string()));
        let t = q.arg(Arg::Text(tag.clone()));
        q.push(&format!(" AND c.seq IN (SELECT case_seq FROM case_tags WHERE org_id = {o} AND tag = {t})"));
    }
    for (col, range) in [("c.created_at", &f.created), ("c.updated_at", &f.updated), ("c.closed_at", &f.closed)] {
        if let Some(from) = range.from {
            let p = q.arg(Arg::Int(from.as_microsecond()));
            q.push(&format!(" AND {col} >= {p}"));
        }
        if let Some(to) = range.to {
            let p = q.arg(Arg::Int(to.as_microsecond()));
            q.push(&format!(" AND {col} < {p}"));
        }
    }
    if !f.terms.is_empty() && with_terms {
        (full_text.condition)(q, &f.terms);
    }
}

/// Counts the cases of the organization that the filter matches: from the maintained totals of
/// `case_counts` when the filter allows (see `casedesk_domain::count`), else by counting rows.
pub fn count_cases(org_id: &str, f: &CaseFilter, full_text: &FullText) -> Sql {
    if let Some(t) = count::totals_query(f) {
        return count_from_totals(org_id, &t);
    }
    let mut q = Sql::default();
    if let Some((breached, due)) = count::split_overdue(f) {
        q.push("SELECT (");
        push_count(&mut q, org_id, &breached, full_text);
        q.push(") + (");
        push_count(&mut q, org_id, &due, full_text);
        q.push(")");
    } else {
        push_count(&mut q, org_id, f, full_text);
    }
    q
}

/// Adds `SELECT COUNT(*)` of the rows the filter matches to `q`.
fn push_count(q: &mut Sql, org_id: &str, f: &CaseFilter, full_text: &FullText) {
    let p = q.arg(Arg::Text(org_id.to_string()));
    q.push(&format!("SELECT COUNT(*) FROM cases c WHERE c.org_id = {p} AND c.deleted_at IS NULL"));
    push_filter(q, org_id, f, full_text, true);
}

/// The sum of the maintained totals that `t` names.
fn count_from_totals(org_id: &str, t: &TotalsQuery) -> Sql {
    let mut q = Sql::default();
    let o = q.arg(Arg::Text(org_id.to_string()));
    let d = q.arg(Arg::Text(t.dimension.key().to_string()));
    let statuses = in_list(&mut q, "status", t.statuses.iter().map(|s| Arg::Text(s.as_str().into())));
    let users =
        |q: &mut Sql, who: &str| format!("key IN ({})", named(q, org_id, "users", &["email"], &[who.to_string()]));
    let keys = match &t.dimension {
        Dimension::All | Dimension::Owner(Who::Nobody) => format!("key = {}", q.arg(Arg::Text(String::new()))),
        Dimension::Owner(Who::User(who)) | Dimension::CreatedBy(who) | Dimension::UpdatedBy(who) => users(&mut q, who),
        Dimension::Queue(names) => format!("key IN ({})", named(&mut q, org_id, "case_queues", &["name"], names)),
        Dimension::Priority(p) => in_list(&mut q, "key", p.iter().map(|p| Arg::Text(p.rank().to_string()))),
        Dimension::Tag(tag) => format!("key = {}", q.arg(Arg::Text(tag.clone()))),
    };
    q.push(&format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM case_counts WHERE org_id = {o} AND dim = {d} AND {statuses} AND {keys}"
    ));
    q
}

/// Builds the case-list query. Fetches `limit + 1` rows so the caller knows whether there is a
/// next page.
pub fn list_cases(org_id: &str, req: &ListRequest, full_text: &FullText) -> Result<Sql, StoreError> {
    let f = &req.filter;
    let ordering = req.ordering.effective(f);
    if ordering == Ordering::Relevance {
        return list_by_relevance(org_id, req, full_text);
    }
    let mut q = Sql::default();
    let by_created = matches!(ordering, Ordering::CreatedAsc | Ordering::CreatedDesc);
    let seq_source = match full_text.in_seq_order {
        Some(source) if by_created && !f.terms.is_empty() => Some(source(&f.terms)),
        _ => None,
    };
    q.push("SELECT ").push(CASE_COLUMNS).push(WORKFLOW_COLUMNS).push(LIST_COLUMNS);
    match &seq_source {
        Some(src) => {
            let m = q.arg(Arg::Text(src.argument.clone()));
            q.push(src.from).push(JOINS).push(" WHERE ").push(src.matches).push(&m).push(" AND c.org_id = ");
        }
        // A visitor has a handful of cases: reach them through their contacts (`cases_contact`)
        // and sort those, rather than walk the organization's whole ordering index testing each
        // case (which SQLite's planner prefers without statistics). `|| ''` keeps org_id out of
        // the index choice while it still scopes the rows.
        None if f.contact_external_id.is_some() => {
            q.push("FROM cases c").push(JOINS).push(" WHERE c.org_id || '' = ");
        }
        None => {
            q.push("FROM cases c").push(JOINS).push(" WHERE c.org_id = ");
        }
    }
    let p = q.arg(Arg::Text(org_id.to_string()));
    q.push(&p).push(" AND c.deleted_at IS NULL");
    push_filter(&mut q, org_id, f, full_text, seq_source.is_none());
    let seq_order = seq_source.as_ref().map(|src| [src.order_column]);
    let cols: &[&str] = match &seq_order {
        Some(col) => col,
        None => sort_columns(ordering),
    };
    let desc = ordering.descending();
    if let Some(c) = &req.cursor {
        let mut keys = cursor::decode(c, ordering.as_str(), &vec![true; sort_columns(ordering).len()])?;
        if seq_source.is_some() {
            // seq alone orders like (created_at, seq).
            keys.drain(..keys.len() - 1);
        }
        let placeholders: Vec<String> = keys
            .into_iter()
            .map(|k| match k {
                Key::Int(i) => q.arg(Arg::Int(i)),
                Key::Text(s) => q.arg(Arg::Text(s)),
            })
            .collect();
        q.push(&format!(" AND ({}) {} ({})", cols.join(", "), if desc { "<" } else { ">" }, placeholders.join(", ")));
    }
    let dir = if desc { " DESC" } else { " ASC" };
    let order: Vec<String> = cols.iter().map(|c| format!("{c}{dir}")).collect();
    q.push(" ORDER BY ").push(&order.join(", "));
    let l = q.arg(Arg::Int(i64::from(req.limit) + 1));
    q.push(" LIMIT ").push(&l);
    Ok(q)
}

/// The columns every case list reads: the case, its workflow state, account and contact.
const LIST_COLUMNS: &str = ", a.id AS acc_id, a.name AS acc_name, a.tier AS acc_tier, ct.id AS cnt_id, ct.name AS cnt_name, ct.email AS cnt_email ";

/// The case-list query ordered best match first, among the newest
/// [`RELEVANCE_WINDOW`] matches of the filter: those are read in creation order (SQLite: from the
/// full-text index in rowid order, stopping after the window), scored, and only the page's rows
/// are joined to their account, contact and workflow. The cursor is the last row's score (its
/// exact bits), creation time and `seq`.
fn list_by_relevance(org_id: &str, req: &ListRequest, full_text: &FullText) -> Result<Sql, StoreError> {
    let f = &req.filter;
    let mut q = Sql::default();
    let ranked = (full_text.ranked)(&mut q, &f.terms, &f.phrases);
    q.push("SELECT ").push(CASE_COLUMNS).push(WORKFLOW_COLUMNS).push(LIST_COLUMNS).push(", r.score AS score FROM (");
    // The window: the newest matches, with the score when the index gives it there.
    q.push(&format!(
        "SELECT w.seq, w.created_at, {} AS score FROM (SELECT c.seq AS seq, c.created_at AS created_at",
        ranked.score
    ));
    if let Some(score) = &ranked.window_score {
        q.push(&format!(", {score} AS score"));
    }
    let p = q.arg(Arg::Text(org_id.to_string()));
    q.push(&format!(" {} WHERE {} AND c.org_id = {p} AND c.deleted_at IS NULL", ranked.from, ranked.condition));
    push_filter(&mut q, org_id, f, full_text, false);
    let window = q.arg(Arg::Int(RELEVANCE_WINDOW));
    q.push(&format!(" ORDER BY {} LIMIT {window}) w {}", ranked.newest_first, ranked.score_join));
    if let Some(c) = &req.cursor {
        let keys = cursor::decode(c, Ordering::Relevance.as_str(), &[true, true, true])?;
        let [Key::Int(bits), Key::Int(created_at), Key::Int(seq)] = keys.as_slice() else {
            return Err(StoreError::InvalidCursor);
        };
        let score = f64::from_bits(*bits as u64);
        if !score.is_finite() {
            return Err(StoreError::InvalidCursor);
        }
        // (score ascending, then newest first) as one row comparison.
        let (s, c, n) = (q.arg(Arg::Real(score)), q.arg(Arg::Int(-created_at)), q.arg(Arg::Int(-seq)));
        q.push(&format!(" WHERE ({}, -w.created_at, -w.seq) > ({s}, {c}, {n})", ranked.score));
    }
    let l = q.arg(Arg::Int(i64::from(req.limit) + 1));
    q.push(&format!(
        " ORDER BY score, w.created_at DESC, w.seq DESC LIMIT {l}) r {} cases c ON c.seq = r.seq",
        ranked.join
    ));
    q.push(JOINS).push(" ORDER BY r.score, r.created_at DESC, r.seq DESC");
    Ok(q)
}
