//! The search syntax of the API (`q=`) and the search box: free text and phrases combined with
//! field conditions, e.g. `printer "paper jam" status:open,pending priority>=high -tag:spam
//! updated<7d`. See docs/search.md for the whole language.
//!
//! [`parse`] turns a query into a [`Query`]: text terms (folded like the search index) and
//! [`Clause`]s whose values are already checked and made concrete — `me` is the caller's id,
//! `7d` and `2026-03` are instants in the organization's time zone. Names (of a queue, an
//! account, a category, a person) stay names; the store matches them case-insensitively, or as
//! ids. A mistake is a [`QueryError`] pointing at the character where it is.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan, Zoned};

use crate::case::{CaseType, Priority, Status};
use crate::list::Range;
use crate::search;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most values one field condition may list.
pub const MAX_VALUES: usize = 50;

/// What a query means relative to: who asks, when, and in which time zone dates are days.
#[derive(Debug, Clone, Copy)]
pub struct QueryContext<'a> {
    pub me: &'a str,
    pub now: Timestamp,
    pub tz: &'a TimeZone,
}

/// A parsed query: all of its parts must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Free-text words, folded; each must occur.
    pub words: Vec<String>,
    /// Quoted phrases, as folded words; each must occur in this order.
    pub phrases: Vec<Vec<String>>,
    pub clauses: Vec<Clause>,
}

/// One field condition, possibly negated (`-tag:spam`).
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub negated: bool,
    pub test: Test,
}

/// Someone a condition names: a user id or email, or nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A user id or an email address (the caller's id for `me`).
    User(String),
    Nobody,
}

/// What a field condition tests. Lists mean "any of".
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Status(Vec<Status>),
    Priority(Vec<Priority>),
    Type(Vec<CaseType>),
    Assignee(Who),
    /// Queue names or ids.
    Queue(Vec<String>),
    /// A contact's or requesting user's email or id.
    Requester(String),
    /// An account's name, domain or id.
    Account(String),
    Tag(Vec<String>),
    /// Category names or ids.
    Category(Vec<String>),
    Created(Range),
    Updated(Range),
    Closed(Range),
    SlaBreached,
    /// Breached, or a running target already past due at this instant (now) — the sweep may not
    /// have flagged it yet.
    SlaOverdue(Timestamp),
    /// A running SLA target due before this instant.
    SlaDueBefore(Timestamp),
    /// A milestone not completed and due before this instant (now).
    MilestoneOverdue(Timestamp),
    /// The custom field (key, value) equals the value or, as a list, holds it.
    CustomField(String, String),
    HasAttachment,
    CreatedBy(String),
    UpdatedBy(String),
}

/// A query that cannot be read: where (0-based character position) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at character {}: {}", self.position + 1, self.message)
    }
}

/// The fields a condition can name.
pub const FIELDS: &[&str] = &[
    "status",
    "priority",
    "type",
    "assignee",
    "queue",
    "requester",
    "account",
    "tag",
    "category",
    "created",
    "updated",
    "closed",
    "sla",
    "milestone",
    "has",
    "created_by",
    "updated_by",
    "cf.<key>",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Is,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Is => ":",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// A value as written, with where it starts.
struct Value {
    text: String,
    at: usize,
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    ctx: &'a QueryContext<'a>,
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError { position, message: message.into() })
}

/// Parses a query. Whitespace separates its parts, all of which must hold.
pub fn parse(q: &str, ctx: &QueryContext<'_>) -> Result<Query, QueryError> {
    let chars: Vec<char> = q.chars().collect();
    if chars.len() > MAX_QUERY_CHARS {
        return err(MAX_QUERY_CHARS, format!("a query has at most {MAX_QUERY_CHARS} characters"));
    }
    let mut p = Parser { chars, pos: 0, ctx };
    let mut query = Query::default();
    loop {
        p.skip_space();
        if p.pos >= p.chars.len() {
            break;
        }
        p.part(&mut query)?;
    }
    if query.words.len() + query.phrases.iter().map(Vec::len).sum::<usize>() > search::MAX_QUERY_WORDS {
        return err(0, format!("a query has at most {} words of text", search::MAX_QUERY_WORDS));
    }
    Ok(query)
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn at_end_of_part(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    /// A field name followed by an operator at the current position, if there is one.
    fn field_ahead(&self) -> Option<(String, Op, usize)> {
        let mut i = self.pos;
        while self.chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            i += 1;
        }
        let name: String = self.chars[self.pos..i].iter().collect();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let (op, len) = match (self.chars.get(i), self.chars.get(i + 1)) {
            (Some(':'), _) => (Op::Is, 1),
            (Some('>'), Some('=')) => (Op::Ge, 2),
            (Some('<'), Some('=')) => (Op::Le, 2),
            (Some('>'), _) => (Op::Gt, 1),
            (Some('<'), _) => (Op::Lt, 1),
            _ => return None,
        };
        Some((name, op, i + len))
    }

    fn part(&mut self, query: &mut Query) -> Result<(), QueryError> {
        let start = self.pos;
        let negated = self.peek() == Some('-');
        if negated {
            self.pos += 1;
        }
        if let Some((name, op, after)) = self.field_ahead() {
            let field_at = self.pos;
            self.pos = after;
            let test = self.condition(&name, op, field_at)?;
            query.clauses.push(Clause { negated, test });
            return self.end_of_part();
        }
        if negated {
            // `-word` means to leave something out, which only conditions can; a lone `-` or
            // `--` is punctuation.
            if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '"') {
                return err(start, "only a field condition can be left out with '-' (e.g. -tag:spam)");
            }
            self.pos = start;
        }
        if self.peek() == Some('"') {
            let phrase = self.quoted()?;
            let words: Vec<String> =
                search::fold(&phrase).split(' ').filter(|w| !w.is_empty()).map(String::from).collect();
            match words.len() {
                0 => {}
                1 => query.words.extend(words),
                _ => query.phrases.push(words),
            }
            return self.end_of_part();
        }
        let word: String = self.take_while(|c| !c.is_whitespace());
        query.words.extend(search::fold(&word).split(' ').filter(|w| !w.is_empty()).map(String::from));
        Ok(())
    }

    fn end_of_part(&self) -> Result<(), QueryError> {
        if self.at_end_of_part() { Ok(()) } else { err(self.pos, "expected a space before the next part") }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A double-quoted string (no escapes: a quote ends it).
    fn quoted(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let s = self.take_while(|c| c != '"');
        if self.peek() != Some('"') {
            return err(open, "this quote is never closed");
        }
        self.pos += 1;
        Ok(s)
    }

    /// One value: quoted, or up to whitespace or a comma.
    fn value(&mut self) -> Result<Value, QueryError> {
        let at = self.pos;
        let text =
            if self.peek() == Some('"') { self.quoted()? } else { self.take_while(|c| !c.is_whitespace() && c != ',') };
        if text.trim().is_empty() {
            return err(at, "expected a value");
        }
        Ok(Value { text: text.trim().to_string(), at })
    }

    /// Comma-separated values.
    fn values(&mut self) -> Result<Vec<Value>, QueryError> {
        let mut out = vec![self.value()?];
        while self.peek() == Some(',') {
            self.pos += 1;
            out.push(self.value()?);
            if out.len() > MAX_VALUES {
                return err(self.pos, format!("at most {MAX_VALUES} values"));
            }
        }
        Ok(out)
    }

    fn one_value(&mut self, field: &str) -> Result<Value, QueryError> {
        let v = self.value()?;
        if self.peek() == Some(',') {
            return err(self.pos, format!("{field} takes one value"));
        }
        Ok(v)
    }

    fn only_is(op: Op, field: &str, at: usize) -> Result<(), QueryError> {
        if op == Op::Is { Ok(()) } else { err(at, format!("{field} takes ':' not '{}'", op.as_str())) }
    }

    fn condition(&mut self, name: &str, op: Op, at: usize) -> Result<Test, QueryError> {
        let op_at = at + name.chars().count();
        if let Some(key) = name.strip_prefix("cf.") {
            Self::only_is(op, name, op_at)?;
            if key.is_empty() {
                return err(at, "name the custom field: cf.<key>:value");
            }
            return Ok(Test::CustomField(key.to_string(), self.one_value(name)?.text));
        }
        match name {
            "status" => {
                Self::only_is(op, name, op_at)?;
                let v = self.values()?;
                Ok(Test::Status(each(&v, Status::parse)?))
            }
            "priority" => {
                if op == Op::Is {
                    let v = self.values()?;
                    return Ok(Test::Priority(each(&v, Priority::parse)?));
                }
                let v = self.one_value(name)?;
                let p = Priority::parse(&v.text).map_err(|m| QueryError { position: v.at, message: m })?;
                let keep = |q: &Priority| match op {
                    Op::Gt => q.rank() > p.rank(),
                    Op::Ge => q.rank() >= p.rank(),
                    Op::Lt => q.rank() < p.rank(),
                    Op::Le | Op::Is => q.rank() <= p.rank(),
                };
                Ok(Test::Priority(Priority::ALL.iter().copied().filter(keep).collect()))
            }
            "type" => {
                Self::only_is(op, name, op_at)?;
                let v = self.values()?;
                Ok(Test::Type(each(&v, CaseType::parse)?))
            }
            "assignee" | "owner" => {
                Self::only_is(op, name, op_at)?;
                let v = self.one_value(name)?;
                Ok(Test::Assignee(match v.text.to_ascii_lowercase().as_str() {
                    "none" | "nobody" | "unassigned" => Who::Nobody,
                    _ => Who::User(self.person(&v.text)),
                }))
            }
            "created_by" | "updated_by" => {
                Self::only_is(op, name, op_at)?;
                let v = self.one_value(name)?;
                let who = self.person(&v.text);
                Ok(if name == "created_by" { Test::CreatedBy(who) } else { Test::UpdatedBy(who) })
            }
            "queue" => {
                Self::only_is(op, name, op_at)?;
                Ok(Test::Queue(self.values()?.into_iter().map(|v| v.text).collect()))
            }
            "category" => {
                Self::only_is(op, name, op_at)?;
                Ok(Test::Category(self.values()?.into_iter().map(|v| v.text).collect()))
            }
            "requester" => {
                Self::only_is(op, name, op_at)?;
                let v = self.one_value(name)?;
                Ok(Test::Requester(self.person(&v.text)))
            }
            "account" => {
                Self::only_is(op, name, op_at)?;
                Ok(Test::Account(self.one_value(name)?.text))
            }
            "tag" => {
                Self::only_is(op, name, op_at)?;
                let v = self.values()?;
                Ok(Test::Tag(each(&v, crate::text::tag)?))
            }
            "created" | "updated" | "closed" => {
                let v = self.one_value(name)?;
                let range = self.time_range(op, &v)?;
                Ok(match name {
                    "created" => Test::Created(range),
                    "updated" => Test::Updated(range),
                    _ => Test::Closed(range),
                })
            }
            "sla" => {
                Self::only_is(op, name, op_at)?;
                let v_at = self.pos;
                if self.chars[self.pos..].starts_with(&['d', 'u', 'e', '<']) {
                    self.pos += 4;
                    let v = self.one_value("sla:due<")?;
                    let Some(span) = relative(&v.text) else {
                        return err(v.at, "expected a time from now: 30m, 2h, 1d, 2w");
                    };
                    return Ok(Test::SlaDueBefore(self.after(span)));
                }
                let v = self.one_value(name)?;
                match v.text.to_ascii_lowercase().as_str() {
                    "breached" => Ok(Test::SlaBreached),
                    "overdue" => Ok(Test::SlaOverdue(self.ctx.now)),
                    _ => err(v_at, "expected sla:breached, sla:overdue or sla:due<2h"),
                }
            }
            "milestone" => {
                Self::only_is(op, name, op_at)?;
                let v = self.one_value(name)?;
                match v.text.to_ascii_lowercase().as_str() {
                    "overdue" => Ok(Test::MilestoneOverdue(self.ctx.now)),
                    _ => err(v.at, "expected milestone:overdue"),
                }
            }
            "has" => {
                Self::only_is(op, name, op_at)?;
                let v = self.one_value(name)?;
                match v.text.to_ascii_lowercase().as_str() {
                    "attachment" | "attachments" | "file" | "files" => Ok(Test::HasAttachment),
                    _ => err(v.at, "expected has:attachment"),
                }
            }
            _ => err(at, format!("unknown field {name:?}; expected one of {}", FIELDS.join(", "))),
        }
    }

    /// `me` is the caller; anything else is an id or an email, as given.
    fn person(&self, v: &str) -> String {
        if v.eq_ignore_ascii_case("me") { self.ctx.me.to_string() } else { v.to_string() }
    }

    fn after(&self, span: Span) -> Timestamp {
        self.ctx.now.to_zoned(self.ctx.tz.clone()).checked_add(span).map_or(self.ctx.now, |z| z.timestamp())
    }

    fn ago(&self, span: Span) -> Timestamp {
        self.ctx.now.to_zoned(self.ctx.tz.clone()).checked_sub(span).map_or(self.ctx.now, |z| z.timestamp())
    }

    /// The instants a time condition allows. A relative value is an age: `updated<7d` is
    /// "updated less than 7 days ago", `created>1w` "created more than a week ago". A date,
    /// month or year is a period in the organization's time zone: `closed:2026-03` is March,
    /// `created>2026-01-01` after that day, `created>=2026-01-01` from that day on.
    fn time_range(&self, op: Op, v: &Value) -> Result<Range, QueryError> {
        if let Some(span) = relative(&v.text) {
            let t = self.ago(span);
            return Ok(match op {
                Op::Is | Op::Lt | Op::Le => Range { from: Some(t), to: None },
                Op::Gt | Op::Ge => Range { from: None, to: Some(t) },
            });
        }
        let Some((start, end)) = period(&v.text, self.ctx.tz) else {
            return err(
                v.at,
                "expected a date (2026-03-01), a month (2026-03), a year (2026), a time (2026-03-01T12:00:00Z) or an age (30m, 2h, 7d, 2w)",
            );
        };
        Ok(match op {
            Op::Is => Range { from: Some(start), to: Some(end) },
            Op::Gt => Range { from: Some(end), to: None },
            Op::Ge => Range { from: Some(start), to: None },
            Op::Lt => Range { from: None, to: Some(start) },
            Op::Le => Range { from: None, to: Some(end) },
        })
    }
}

/// Parses every value, pointing at the first that fails.
fn each<T>(values: &[Value], f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, QueryError> {
    values.iter().map(|v| f(&v.text).map_err(|m| QueryError { position: v.at, message: m })).collect()
}

/// `30m`, `2h`, `7d`, `2w`: a span of time.
fn relative(s: &str) -> Option<Span> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok().filter(|n| (0..=100_000).contains(n))?;
    Some(match unit {
        'm' => n.minutes(),
        'h' => n.hours(),
        'd' => n.days(),
        'w' => n.weeks(),
        _ => return None,
    })
}

/// The half-open period `[start, end)` a date, month, year or instant names.
fn period(s: &str, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some((t, t.checked_add(1.microsecond()).ok()?));
    }
    let day = |d: jiff::civil::Date| -> Option<Zoned> { d.to_zoned(tz.clone()).ok() };
    let (start, end) = if let Ok(d) = s.parse::<jiff::civil::Date>() {
        (day(d)?, day(d.checked_add(1.day()).ok()?)?)
    } else if let Some((y, m)) = s.split_once('-') {
        let (y, m): (i16, i8) = (y.parse().ok()?, m.parse().ok()?);
        let first = jiff::civil::Date::new(y, m, 1).ok()?;
        (day(first)?, day(first.checked_add(1.month()).ok()?)?)
    } else {
        let y: i16 = s.parse().ok().filter(|y| (1000..=9999).contains(y))?;
        let first = jiff::civil::Date::new(y, 1, 1).ok()?;
        (day(first)?, day(first.checked_add(1.year()).ok()?)?)
    };
    Some((start.timestamp(), end.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> QueryContext<'static> {
        static TZ: std::sync::LazyLock<TimeZone> =
            std::sync::LazyLock::new(|| TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC));
        QueryContext { me: "usr_me", now: "2026-03-15T12:00:00Z".parse().unwrap_or_default(), tz: &TZ }
    }

    fn q(s: &str) -> Query {
        parse(s, &ctx()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn clause(s: &str) -> Clause {
        let parsed = q(s);
        assert_eq!(parsed.clauses.len(), 1, "{s:?}");
        parsed.clauses[0].clone()
    }

    fn test(s: &str) -> Test {
        clause(s).test
    }

    fn error(s: &str) -> QueryError {
        parse(s, &ctx()).expect_err(s)
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn text_is_words_and_quoted_phrases() {
        let parsed = q(r#"Printer "Paper  JAM" café order#4521"#);
        assert_eq!(parsed.words, ["printer", "cafe", "order", "4521"]);
        assert_eq!(parsed.phrases, [vec!["paper".to_string(), "jam".to_string()]]);
        assert!(parsed.clauses.is_empty());
        assert_eq!(q(r#""one""#).words, ["one"], "a one-word phrase is a word");
        assert_eq!(q("   "), Query::default());
    }

    #[test]
    fn status_type_and_priority() {
        assert_eq!(test("status:open,pending"), Test::Status(vec![Status::Open, Status::Pending]));
        assert_eq!(test("status:waiting"), Test::Status(vec![Status::Pending]));
        assert_eq!(test("type:incident"), Test::Type(vec![CaseType::Incident]));
        assert_eq!(test("priority:high,low"), Test::Priority(vec![Priority::High, Priority::Low]));
        assert_eq!(test("priority>=high"), Test::Priority(vec![Priority::High, Priority::Critical]));
        assert_eq!(test("priority>medium"), Test::Priority(vec![Priority::High, Priority::Critical]));
        assert_eq!(test("priority<high"), Test::Priority(vec![Priority::Low, Priority::Medium]));
        assert_eq!(test("priority<=low"), Test::Priority(vec![Priority::Low]));
    }

    #[test]
    fn people_and_names() {
        assert_eq!(test("assignee:me"), Test::Assignee(Who::User("usr_me".into())));
        assert_eq!(test("assignee:none"), Test::Assignee(Who::Nobody));
        assert_eq!(test("assignee:ana@example.com"), Test::Assignee(Who::User("ana@example.com".into())));
        assert_eq!(test("created_by:me"), Test::CreatedBy("usr_me".into()));
        assert_eq!(test("updated_by:ME"), Test::UpdatedBy("usr_me".into()));
        assert_eq!(test(r#"queue:"Tier 1",billing"#), Test::Queue(vec!["Tier 1".into(), "billing".into()]));
        assert_eq!(test("requester:ana@example.com"), Test::Requester("ana@example.com".into()));
        assert_eq!(test("account:acme"), Test::Account("acme".into()));
        assert_eq!(test("category:complaint"), Test::Category(vec!["complaint".into()]));
        assert_eq!(test("tag:VIP,gold:1"), Test::Tag(vec!["vip".into(), "gold:1".into()]));
        assert_eq!(test("cf.order_id:4521"), Test::CustomField("order_id".into(), "4521".into()));
        assert_eq!(test(r#"cf.model:"LX 200""#), Test::CustomField("model".into(), "LX 200".into()));
    }

    #[test]
    fn negation_flags_a_clause() {
        let c = clause("-tag:spam");
        assert!(c.negated);
        assert_eq!(c.test, Test::Tag(vec!["spam".into()]));
        assert!(!clause("tag:spam").negated);
    }

    #[test]
    fn times_are_ages_or_periods_in_the_organization_zone() {
        let now = ctx().now;
        let week_ago = ts("2026-03-08T12:00:00Z");
        assert_eq!(test("updated<7d"), Test::Updated(Range { from: Some(week_ago), to: None }));
        assert_eq!(test("updated:7d"), Test::Updated(Range { from: Some(week_ago), to: None }));
        assert_eq!(test("created>1w"), Test::Created(Range { from: None, to: Some(week_ago) }));
        assert_eq!(test("created>2h"), Test::Created(Range { from: None, to: Some(ts("2026-03-15T10:00:00Z")) }));
        // Berlin is UTC+1 in March before the switch, UTC+2 after (29 March 2026).
        let march = Range { from: Some(ts("2026-02-28T23:00:00Z")), to: Some(ts("2026-03-31T22:00:00Z")) };
        assert_eq!(test("closed:2026-03"), Test::Closed(march));
        assert_eq!(
            test("created>2026-01-01"),
            Test::Created(Range { from: Some(ts("2026-01-01T23:00:00Z")), to: None })
        );
        assert_eq!(
            test("created>=2026-01-01"),
            Test::Created(Range { from: Some(ts("2025-12-31T23:00:00Z")), to: None })
        );
        assert_eq!(
            test("created<2026-01-01"),
            Test::Created(Range { from: None, to: Some(ts("2025-12-31T23:00:00Z")) })
        );
        assert_eq!(
            test("created<=2026-01-01"),
            Test::Created(Range { from: None, to: Some(ts("2026-01-01T23:00:00Z")) })
        );
        assert_eq!(
            test("created:2025"),
            Test::Created(Range { from: Some(ts("2024-12-31T23:00:00Z")), to: Some(ts("2025-12-31T23:00:00Z")) })
        );
        assert_eq!(
            test("updated>2026-03-01T08:00:00Z"),
            Test::Updated(Range { from: Some(ts("2026-03-01T08:00:00.000001Z")), to: None })
        );
        assert_eq!(test("sla:due<2h"), Test::SlaDueBefore(ts("2026-03-15T14:00:00Z")));
        assert_eq!(test("sla:breached"), Test::SlaBreached);
        assert_eq!(test("sla:overdue"), Test::SlaOverdue(now));
        assert_eq!(test("milestone:overdue"), Test::MilestoneOverdue(now));
        assert_eq!(test("has:attachment"), Test::HasAttachment);
    }

    #[test]
    fn parts_combine() {
        let parsed = q(r#"printer status:open -tag:spam "paper jam" priority>=high"#);
        assert_eq!(parsed.words, ["printer"]);
        assert_eq!(parsed.phrases.len(), 1);
        assert_eq!(parsed.clauses.len(), 3);
    }

    #[test]
    fn mistakes_point_at_their_place() {
        let e = error("printer foo:bar");
        assert_eq!(e.position, 8);
        assert!(e.message.contains("unknown field \"foo\""), "{}", e.message);
        assert_eq!(error("status:opn").position, 7);
        assert_eq!(error("status:open,nope").position, 12);
        assert_eq!(error("priority>=hgh").position, 10);
        assert_eq!(error("status>open").position, 6);
        assert_eq!(error(r#"queue:"Tier 1"#).position, 6, "an unclosed quote points at the quote");
        assert_eq!(error(r#"say "hi"#).position, 4);
        assert_eq!(error("status:").position, 7);
        assert_eq!(error("created>soon").position, 8);
        assert_eq!(error("created>2026-13").position, 8);
        assert_eq!(error("sla:late").position, 4);
        assert_eq!(error("-printer").position, 0);
        assert_eq!(q("a -- b -").words, ["a", "b"], "dashes alone are punctuation");
        assert_eq!(error("assignee:a,b").position, 10);
        assert_eq!(error("tag:\"two words\"").position, 4);
        assert_eq!(error(r#"status:"open"x"#).position, 13);
        assert_eq!(error("cf.:x").position, 0);
        assert!(error(&"a ".repeat(600)).message.contains("at most"));
        assert!(error(&"word ".repeat(20)).message.contains("words"));
        assert_eq!(error("x foo:bar").to_string(), format!("at character 3: {}", error("x foo:bar").message));
    }

    #[test]
    fn plain_text_with_symbols_is_text() {
        assert_eq!(q("2>1 ok").words, ["2", "1", "ok"]);
        assert!(
            error("see http://example.com").message.contains("unknown field \"http\""),
            "quote text that looks like a field"
        );
        assert_eq!(q(r#""http://example.com""#).phrases, [vec!["http".to_string(), "example".into(), "com".into()]]);
    }

    /// A clause rendered back to the syntax.
    fn render(c: &Clause) -> String {
        let join = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
        let body = match &c.test {
            Test::Status(v) => format!("status:{}", v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")),
            Test::Tag(v) => format!("tag:{}", v.join(",")),
            Test::Queue(v) => format!("queue:{}", join(v)),
            Test::Account(a) => format!("account:\"{a}\""),
            Test::CustomField(k, v) => format!("cf.{k}:\"{v}\""),
            other => unreachable!("not generated: {other:?}"),
        };
        if c.negated { format!("-{body}") } else { body }
    }

    fn arb_clause() -> impl Strategy<Value = Clause> {
        let name = "[A-Za-z0-9][A-Za-z0-9 _.-]{0,12}[A-Za-z0-9]";
        let test = prop_oneof![
            proptest::sample::subsequence(Status::ALL.to_vec(), 1..4).prop_map(Test::Status),
            proptest::collection::vec("[a-z0-9][a-z0-9_.:-]{0,10}", 1..4).prop_map(Test::Tag),
            proptest::collection::vec(name, 1..3).prop_map(Test::Queue),
            name.prop_map(Test::Account),
            ("[a-z][a-z0-9_]{0,8}", name).prop_map(|(k, v)| Test::CustomField(k, v)),
        ];
        (any::<bool>(), test).prop_map(|(negated, test)| Clause { negated, test })
    }

    proptest! {
        #[test]
        fn any_input_parses_or_points_inside_it(s in ".{0,120}") {
            match parse(&s, &ctx()) {
                Ok(parsed) => {
                    for w in parsed.words.iter().chain(parsed.phrases.iter().flatten()) {
                        prop_assert!(!w.is_empty() && w.chars().all(char::is_alphanumeric));
                    }
                }
                Err(e) => prop_assert!(e.position <= s.chars().count(), "{e:?} for {s:?}"),
            }
        }

        #[test]
        fn rendered_clauses_parse_back(clauses in proptest::collection::vec(arb_clause(), 0..6), words in proptest::collection::vec("[a-z0-9]{1,8}", 0..4)) {
            let mut parts: Vec<String> = clauses.iter().map(render).collect();
            parts.extend(words.iter().cloned());
            let parsed = parse(&parts.join(" "), &ctx()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.clauses, clauses);
            prop_assert_eq!(parsed.words, words);
        }
    }
}
