//! Case lists as spreadsheet rows (seed 003: "export the current list to .xlsx"): which columns
//! an export has, their headers and widths, and the typed cell each column makes of a case.
//!
//! The cells are typed so that a spreadsheet can sort and sum them: numbers stay numbers, times
//! are calendar times in the organization's time zone, booleans stay booleans. Writing them into
//! a file format is the use case's; what a cell holds is decided here, once, for every format.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::case::Case;
use crate::error::{DomainError, Errors};
use crate::sla::ClockState;
use crate::view::{self, DEFAULT_COLUMNS};

/// One column of an export: a view column (see [`view::COLUMNS`]) or a custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    CaseNumber,
    Subject,
    Status,
    CustomStatus,
    Priority,
    Type,
    Queue,
    Assignee,
    Requester,
    Contact,
    Account,
    Tags,
    Category,
    FunnelStage,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
    DueAt,
    Sla,
    TimeSpent,
    /// `cf.<key>`: a custom field.
    Custom(String),
}

impl Column {
    /// A column checked by the view rules (so a view's columns always export).
    pub fn parse(s: &str) -> Result<Column, String> {
        let s = view::column(s)?;
        Ok(match s.as_str() {
            "case_number" => Column::CaseNumber,
            "subject" => Column::Subject,
            "status" => Column::Status,
            "custom_status" => Column::CustomStatus,
            "priority" => Column::Priority,
            "type" => Column::Type,
            "queue" => Column::Queue,
            "assignee" => Column::Assignee,
            "requester" => Column::Requester,
            "contact" => Column::Contact,
            "account" => Column::Account,
            "tags" => Column::Tags,
            "category" => Column::Category,
            "funnel_stage" => Column::FunnelStage,
            "created_at" => Column::CreatedAt,
            "updated_at" => Column::UpdatedAt,
            "closed_at" => Column::ClosedAt,
            "due_at" => Column::DueAt,
            "sla" => Column::Sla,
            "time_spent" => Column::TimeSpent,
            other => Column::Custom(other.strip_prefix("cf.").unwrap_or(other).to_string()),
        })
    }

    /// The header cell.
    pub fn header(&self) -> String {
        let s = match self {
            Column::CaseNumber => "Case number",
            Column::Subject => "Subject",
            Column::Status => "Status",
            Column::CustomStatus => "Custom status",
            Column::Priority => "Priority",
            Column::Type => "Type",
            Column::Queue => "Queue",
            Column::Assignee => "Assignee",
            Column::Requester => "Requester",
            Column::Contact => "Contact",
            Column::Account => "Account",
            Column::Tags => "Tags",
            Column::Category => "Category",
            Column::FunnelStage => "Funnel stage",
            Column::CreatedAt => "Created",
            Column::UpdatedAt => "Updated",
            Column::ClosedAt => "Closed",
            Column::DueAt => "Due",
            Column::Sla => "SLA",
            Column::TimeSpent => "Time spent (minutes)",
            Column::Custom(key) => return key.clone(),
        };
        s.to_string()
    }

    /// A width in characters that fits the usual content (and the header's filter button).
    pub fn width(&self) -> f64 {
        match self {
            Column::CaseNumber | Column::Priority | Column::Type | Column::Sla => 13.0,
            Column::Status | Column::TimeSpent => 15.0,
            Column::CreatedAt | Column::UpdatedAt | Column::ClosedAt | Column::DueAt => 18.0,
            Column::Subject => 50.0,
            Column::Tags => 30.0,
            _ => 22.0,
        }
    }
}

/// The export's columns: the given ones (each checked, `columns[i]` naming a mistake), or the
/// default columns of a view when none are given.
pub fn columns(given: Option<&[String]>) -> Result<Vec<Column>, DomainError> {
    let names: Vec<String> = match given {
        Some(cols) if !cols.is_empty() => {
            let mut errors = Errors::new();
            let out = view::check_columns(cols, &mut errors);
            errors.finish()?;
            out
        }
        _ => DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
    };
    names.iter().map(|c| Column::parse(c).map_err(|e| DomainError::field("columns", e))).collect()
}

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Number(f64),
    Bool(bool),
    /// A day without a time (a custom field's date).
    Date(Date),
    /// A wall-clock time in the organization's time zone, with its UTC offset then.
    DateTime(DateTime, i32),
}

/// The day Excel counts dates from (its serial 0, taking its 1900 leap-year bug into account
/// for every date after February 1900).
const EXCEL_EPOCH: Date = jiff::civil::date(1899, 12, 30);

impl Cell {
    /// The number a spreadsheet stores for a date or time: days since 1899-12-30, the time of
    /// day as the fraction.
    pub fn serial(&self) -> Option<f64> {
        let (date, secs) = match self {
            Cell::Date(d) => (*d, 0),
            Cell::DateTime(dt, _) => {
                let t = dt.time();
                (dt.date(), i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second()))
            }
            _ => return None,
        };
        let days = (date - EXCEL_EPOCH).get_days();
        Some(f64::from(days) + secs as f64 / 86_400.0)
    }

    /// The cell as CSV text: times as RFC 3339 with the organization's offset, dates as
    /// `YYYY-MM-DD`, booleans as `true`/`false`. Text that a spreadsheet would run as a
    /// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
    /// so a case's subject can never execute in the reader's spreadsheet.
    pub fn csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => {
                if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    format!("'{s}")
                } else {
                    s.clone()
                }
            }
            Cell::Int(n) => n.to_string(),
            Cell::Number(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::DateTime(dt, offset) => {
                let sign = if *offset < 0 { '-' } else { '+' };
                let o = offset.unsigned_abs();
                format!("{}{sign}{:02}:{:02}", dt.strftime("%Y-%m-%dT%H:%M:%S"), o / 3600, o % 3600 / 60)
            }
        }
    }
}

/// What one row shows: the case and the names of what it refers to, resolved by the caller
/// (a missing name shows the id instead).
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub case: &'a Case,
    pub queue: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub requester: Option<&'a str>,
    pub contact: Option<&'a str>,
    pub account: Option<&'a str>,
    pub category: Option<&'a str>,
    pub custom_status: Option<&'a str>,
    pub funnel_stage: Option<&'a str>,
    /// Time logged on the case, in seconds.
    pub time_spent_secs: i64,
}

fn text(s: Option<&str>, id: Option<&str>) -> Cell {
    match s.or(id) {
        Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
        _ => Cell::Empty,
    }
}

fn time(t: Option<Timestamp>, tz: &TimeZone) -> Cell {
    match t {
        Some(t) => {
            let z = t.to_zoned(tz.clone());
            Cell::DateTime(z.datetime(), z.offset().seconds())
        }
        None => Cell::Empty,
    }
}

/// The state of a case's SLA in one word: `breached` if any target was; else `running` while a
/// clock counts, `paused` while they wait, `met` once all are met; empty without an SLA.
pub fn sla_state(case: &Case) -> Option<&'static str> {
    let sla = case.sla.as_ref()?;
    let states: Vec<ClockState> = sla.clocks.iter().map(|c| c.state()).collect();
    let any = |s: ClockState| states.contains(&s);
    Some(if any(ClockState::Breached) {
        ClockState::Breached.as_str()
    } else if any(ClockState::Running) {
        ClockState::Running.as_str()
    } else if any(ClockState::Paused) {
        ClockState::Paused.as_str()
    } else {
        ClockState::Met.as_str()
    })
}

/// A custom field's value as a cell: numbers, booleans, and text that is a date (`2026-03-01`)
/// or an RFC 3339 time keep their type; a list is its items joined by `, `.
fn custom(v: Option<&Value>, tz: &TimeZone) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::Bool(b)) => Cell::Bool(*b),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => n.as_f64().map_or(Cell::Empty, Cell::Number),
        },
        Some(Value::String(s)) => {
            if s.len() == 10
                && let Ok(d) = s.parse::<Date>()
            {
                return Cell::Date(d);
            }
            match s.parse::<Timestamp>() {
                Ok(t) if s.contains('T') => time(Some(t), tz),
                _ => Cell::Text(s.clone()),
            }
        }
        Some(Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Cell::Text(parts.join(", "))
        }
        Some(other) => Cell::Text(other.to_string()),
    }
}

impl Column {
    /// The cell this column shows for a row; times in `tz`.
    pub fn cell(&self, row: &Row<'_>, tz: &TimeZone) -> Cell {
        let c = row.case;
        match self {
            Column::CaseNumber => Cell::Int(c.case_number),
            Column::Subject => Cell::Text(c.subject.clone()),
            Column::Status => Cell::Text(c.status.as_str().to_string()),
            Column::CustomStatus => text(row.custom_status, c.custom_status_id.as_deref()),
            Column::Priority => Cell::Text(c.priority.as_str().to_string()),
            Column::Type => Cell::Text(c.case_type.as_str().to_string()),
            Column::Queue => text(row.queue, c.queue_id.as_deref()),
            Column::Assignee => text(row.assignee, c.owner_id.as_deref()),
            Column::Requester => text(row.requester, Some(&c.requester_id)),
            Column::Contact => text(row.contact, c.contact_id.as_deref()),
            Column::Account => text(row.account, c.account_id.as_deref()),
            Column::Tags => text(Some(&c.tags.join(", ")), None),
            Column::Category => text(row.category, c.category_id.as_deref()),
            Column::FunnelStage => text(row.funnel_stage, c.funnel_stage_id.as_deref()),
            Column::CreatedAt => time(Some(c.created_at), tz),
            Column::UpdatedAt => time(Some(c.updated_at), tz),
            Column::ClosedAt => time(c.closed_at, tz),
            Column::DueAt => time(c.due_at, tz),
            Column::Sla => text(sla_state(c), None),
            Column::TimeSpent => Cell::Int((row.time_spent_secs + 30).div_euclid(60)),
            Column::Custom(key) => custom(c.custom_fields.get(key), tz),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case() -> Case {
        let t: Timestamp = "2026-03-01T10:15:30Z".parse().expect("time");
        Case {
            id: "case_1".into(),
            org_id: "org_1".into(),
            case_number: 42,
            subject: "=HYPERLINK(\"x\")".into(),
            description: String::new(),
            status: crate::case::Status::Open,
            priority: crate::case::Priority::High,
            case_type: crate::case::CaseType::Incident,
            channel: crate::case::Channel::Api,
            queue_id: Some("q_1".into()),
            owner_id: None,
            requester_id: "cnt_1".into(),
            contact_id: Some("cnt_1".into()),
            account_id: None,
            opportunity_id: None,
            tags: vec!["vip".into(), "billing".into()],
            custom_fields: json!({"order": 4521, "amount": 12.5, "rush": true, "ship": "2026-03-04",
                "seen": "2026-03-02T08:00:00Z", "colours": ["red", "blue"], "note": "plain"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
            resolution_notes: None,
            due_at: None,
            is_waiting: true,
            unread_message_count: 0,
            resolved_at: None,
            closed_at: None,
            created_by: "usr_1".into(),
            updated_by: "usr_1".into(),
            created_at: t,
            updated_at: t,
            version: 1,
            required_skills: Vec::new(),
            problem_id: None,
            sla: None,
            custom_status_id: None,
            funnel_stage_id: None,
            merged_into_id: None,
            category_id: None,
            report: Default::default(),
        }
    }

    fn row(c: &Case) -> Row<'_> {
        Row {
            case: c,
            queue: Some("Billing"),
            assignee: None,
            requester: Some("Ada"),
            contact: Some("Ada"),
            account: None,
            category: None,
            custom_status: None,
            funnel_stage: None,
            time_spent_secs: 5430,
        }
    }

    #[test]
    fn columns_default_and_name_each_mistake() {
        let d = columns(None).expect("default");
        assert_eq!(d.len(), DEFAULT_COLUMNS.len());
        assert_eq!(d[0], Column::CaseNumber);
        let given = vec!["subject".into(), "cf.order".into(), "time_spent".into()];
        assert_eq!(
            columns(Some(&given)).expect("valid"),
            [Column::Subject, Column::Custom("order".into()), Column::TimeSpent]
        );
        let bad = vec!["subject".into(), "colour".into()];
        match columns(Some(&bad)) {
            Err(DomainError::Validation(f)) => assert_eq!(f[0].field, "columns[1]"),
            other => panic!("{other:?}"),
        }
        for c in view::COLUMNS {
            let col = Column::parse(c).expect("every view column exports");
            assert!(!matches!(col, Column::Custom(_)), "{c}");
            assert!(!col.header().is_empty() && col.width() > 0.0);
        }
    }

    #[test]
    fn cells_keep_their_types() {
        let c = case();
        let r = row(&c);
        let tz = TimeZone::get("Europe/Lisbon").expect("tz");
        let cell = |col: &str| Column::parse(col).expect("column").cell(&r, &tz);
        assert_eq!(cell("case_number"), Cell::Int(42));
        assert_eq!(cell("status"), Cell::Text("open".into()));
        assert_eq!(cell("queue"), Cell::Text("Billing".into()));
        assert_eq!(cell("assignee"), Cell::Empty);
        assert_eq!(cell("account"), Cell::Empty);
        assert_eq!(cell("tags"), Cell::Text("vip, billing".into()));
        assert_eq!(cell("sla"), Cell::Empty);
        assert_eq!(cell("time_spent"), Cell::Int(91), "90.5 minutes round to 91");
        assert_eq!(cell("cf.order"), Cell::Int(4521));
        assert_eq!(cell("cf.amount"), Cell::Number(12.5));
        assert_eq!(cell("cf.rush"), Cell::Bool(true));
        assert_eq!(cell("cf.ship"), Cell::Date(jiff::civil::date(2026, 3, 4)));
        assert_eq!(cell("cf.colours"), Cell::Text("red, blue".into()));
        assert_eq!(cell("cf.note"), Cell::Text("plain".into()));
        assert_eq!(cell("cf.missing"), Cell::Empty);
        // Lisbon is UTC+0 in March before the change to summer time.
        let created = cell("created_at");
        assert_eq!(created, Cell::DateTime(jiff::civil::date(2026, 3, 1).at(10, 15, 30, 0), 0));
        assert_eq!(created.csv(), "2026-03-01T10:15:30+00:00");
        let tokyo = TimeZone::get("Asia/Tokyo").expect("tz");
        let seen = Column::parse("cf.seen").expect("column").cell(&r, &tokyo);
        assert_eq!(seen.csv(), "2026-03-02T17:00:00+09:00");
        let ny = TimeZone::get("America/New_York").expect("tz");
        assert_eq!(Column::CreatedAt.cell(&r, &ny).csv(), "2026-03-01T05:15:30-05:00");
    }

    #[test]
    fn serials_count_days_from_the_spreadsheet_epoch() {
        assert_eq!(Cell::Date(jiff::civil::date(1900, 3, 1)).serial(), Some(61.0));
        assert_eq!(Cell::Date(jiff::civil::date(2026, 3, 1)).serial(), Some(46082.0));
        let noon = Cell::DateTime(jiff::civil::date(2026, 3, 1).at(12, 0, 0, 0), 3600);
        assert_eq!(noon.serial(), Some(46082.5));
        assert_eq!(Cell::Int(3).serial(), None);
    }

    #[test]
    fn csv_text_never_runs_as_a_formula() {
        assert_eq!(Cell::Text("=1+1".into()).csv(), "'=1+1");
        assert_eq!(Cell::Text("-5 degrees".into()).csv(), "'-5 degrees");
        assert_eq!(Cell::Text("@cmd".into()).csv(), "'@cmd");
        assert_eq!(Cell::Text("Printer jam".into()).csv(), "Printer jam");
        assert_eq!(Cell::Int(-5).csv(), "-5", "numbers are numbers");
        assert_eq!(Cell::Bool(false).csv(), "false");
        assert_eq!(Cell::Empty.csv(), "");
    }

    #[test]
    fn sla_state_names_the_worst_clock() {
        let mut c = case();
        assert_eq!(sla_state(&c), None);
        let cal = crate::calendar::BusinessCalendar::always();
        let policy = crate::sla::Policy::validate(crate::sla::PolicyInput {
            rules: vec![crate::sla::RuleInput {
                priority: "high".into(),
                first_response_minutes: Some(60),
                next_response_minutes: None,
                resolution_minutes: None,
            }],
            pause_statuses: None,
            warn_percent: None,
        })
        .expect("policy");
        let setup = crate::case_sla::Setup { policy_id: None, policy: &policy, calendar: &cal };
        let at = c.created_at;
        let (mut sla, _) = crate::case_sla::CaseSla::start(
            setup,
            crate::case::Priority::High,
            crate::case::Status::Open,
            at,
            false,
            at,
        );
        c.sla = Some(sla.clone());
        assert_eq!(sla_state(&c), Some("running"));
        sla.sweep(at + jiff::SignedDuration::from_hours(2));
        c.sla = Some(sla);
        assert_eq!(sla_state(&c), Some("breached"));
    }
}
