//! Reports (volume, first response, resolution, SLA compliance, CSAT, backlog, time tracking)
//! over a range of the organization's days, and what a case records for them as it changes.
//!
//! The figures come from per-day totals the database keeps as cases change (see
//! `casedesk_domain::report` and migration 0022), so a report reads a few thousand rows whatever
//! the number of cases.

use std::collections::{BTreeMap, HashMap};

use casedesk_domain::case::{Case, Priority};
use casedesk_domain::export::Cell;
use casedesk_domain::policy::Action;
use casedesk_domain::report::{self, GroupBy, Kind, Params, Report, date_of_day, day_of_date, local_day};
use casedesk_domain::timeline::{AuthorType, Comment};
use jiff::civil::Date;
use rust_xlsxwriter::{Format, Workbook};

use crate::{Actor, App, AppError, Result};

/// A report request as given: dates in the organization's time zone (inclusive), defaults
/// filled in by [`App::report`].
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub granularity: Option<String>,
    pub group_by: Option<String>,
}

/// A report with what its groups are called.
#[derive(Debug, Clone)]
pub struct NamedReport {
    pub report: Report,
    pub time_zone: String,
    /// Group key → display name (a queue's or agent's name, a priority's label).
    pub names: HashMap<String, String>,
}

impl NamedReport {
    pub fn kind(&self) -> Kind {
        self.report.params.kind
    }

    /// The name a group is shown with: its record's name, or its id when gone, or "(none)".
    pub fn group_name(&self, key: &str) -> String {
        if self.report.params.group_by == GroupBy::None {
            return "All".into();
        }
        match self.names.get(key) {
            Some(n) => n.clone(),
            None if key.is_empty() => "(none)".into(),
            None => key.to_string(),
        }
    }

    /// The header and cells of each row (period, group, group name, figures), then the totals
    /// (period "total").
    pub fn table(&self) -> (Vec<String>, Vec<Vec<Cell>>) {
        let mut header = vec!["period".to_string(), "group".to_string(), "group_name".to_string()];
        header.extend(self.kind().columns().iter().map(|c| c.to_string()));
        let rows = self
            .report
            .rows
            .iter()
            .chain(&self.report.totals)
            .map(|r| {
                let mut cells = vec![
                    match r.period {
                        Some(p) => Cell::Date(date_of_day(p)),
                        None => Cell::Text("total".into()),
                    },
                    Cell::Text(r.group.clone()),
                    Cell::Text(self.group_name(&r.group)),
                ];
                cells.extend(r.values.iter().map(|v| v.map_or(Cell::Empty, Cell::Number)));
                cells
            })
            .collect();
        (header, rows)
    }

    /// The report as CSV: a header row, a record per period and group, then the totals.
    pub fn csv(&self) -> Result<Vec<u8>> {
        let (header, rows) = self.table();
        let records = std::iter::once(header).chain(rows.iter().map(|r| r.iter().map(Cell::csv).collect()));
        crate::export::csv_records(records)
    }

    /// The report as an `.xlsx` workbook: one sheet, bold frozen header, typed cells.
    pub fn xlsx(&self) -> Result<Vec<u8>> {
        let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing the spreadsheet: {e}"));
        let (header, rows) = self.table();
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let sheet = book.add_worksheet();
        sheet.set_name(self.kind().as_str()).map_err(err)?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold).map_err(err)?;
            sheet.set_column_width(c as u16, 16).map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Empty => {}
                    Cell::Number(n) => {
                        sheet.write_number(r, c, *n).map_err(err)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64).map_err(err)?;
                    }
                    Cell::Date(d) => {
                        let excel =
                            rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                                .map_err(err)?;
                        sheet.write_datetime_with_format(r, c, &excel, &date).map_err(err)?;
                    }
                    other => {
                        sheet.write_string(r, c, other.csv()).map_err(err)?;
                    }
                }
            }
        }
        book.save_to_buffer().map_err(err)
    }
}

fn parse_date(field: &str, s: &str) -> Result<Date> {
    s.trim().parse::<Date>().map_err(|_| AppError::field(field, "expected a date, YYYY-MM-DD"))
}

impl App {
    /// Validates a request against the organization's calendar: `to` defaults to today, `from`
    /// to 29 days before `to`; the range is at most [`report::MAX_DAYS`] days.
    pub fn report_params(&self, req: &ReportRequest, tz: &jiff::tz::TimeZone) -> Result<Params> {
        let mut errors = Vec::new();
        let kind = Kind::parse(&req.kind).map_err(|m| errors.push(("report", m))).ok();
        let granularity = report::Granularity::parse(req.granularity.as_deref().unwrap_or("day"))
            .map_err(|m| errors.push(("granularity", m)))
            .ok();
        let group_by =
            GroupBy::parse(req.group_by.as_deref().unwrap_or("none")).map_err(|m| errors.push(("group_by", m))).ok();
        let today = local_day(self.clock.now(), tz);
        let to = match req.to.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => parse_date("to", s)
                .map(day_of_date)
                .map_err(|_| errors.push(("to", "expected a date, YYYY-MM-DD".into())))
                .ok(),
            None => Some(today),
        };
        let from = match req.from.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => parse_date("from", s)
                .map(day_of_date)
                .map_err(|_| errors.push(("from", "expected a date, YYYY-MM-DD".into())))
                .ok(),
            None => to.map(|t| t - 29),
        };
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push(("from", "must not be after to".into()));
            } else if t - f + 1 > report::MAX_DAYS {
                errors.push(("from", format!("a report covers at most {} days", report::MAX_DAYS)));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(
                errors.into_iter().map(|(f, m)| casedesk_domain::error::FieldError::new(f, m)).collect(),
            ));
        }
        match (kind, granularity, group_by, from, to) {
            (Some(kind), Some(granularity), Some(group_by), Some(from), Some(to)) => {
                Ok(Params { kind, from, to, granularity, group_by })
            }
            _ => Err(AppError::field("report", "invalid request")),
        }
    }

    /// A report of the actor's organization.
    pub async fn report(&self, actor: &Actor, req: &ReportRequest) -> Result<NamedReport> {
        actor.require(Action::ReadCases, "read reports")?;
        let org = self.store.get_org(&actor.org_id).await?;
        let tz = crate::cases::org_zone(&org)?;
        let params = self.report_params(req, &tz)?;
        let dim = params.group_by.dim();
        // Periods start on a Monday or the 1st: read from the first period's start, so the first
        // period is whole.
        let from = params.granularity.period_start(params.from);
        let params = Params { from, ..params };
        let days = self.store.report_days(&actor.org_id, params.kind.series(), dim, params.from, params.to).await?;
        let before = match params.kind {
            Kind::Backlog => self.store.report_totals_before(&actor.org_id, dim, params.from).await?,
            _ => BTreeMap::new(),
        };
        let report = report::build(params, &days, &before);
        let names = self.group_names(&actor.org_id, params.group_by, &report).await?;
        Ok(NamedReport { report, time_zone: org.time_zone, names })
    }

    async fn group_names(&self, org_id: &str, group_by: GroupBy, r: &Report) -> Result<HashMap<String, String>> {
        let mut keys: Vec<String> = r.totals.iter().map(|t| t.group.clone()).filter(|k| !k.is_empty()).collect();
        keys.dedup();
        Ok(match group_by {
            GroupBy::None => HashMap::new(),
            GroupBy::Priority => keys
                .into_iter()
                .filter_map(|k| {
                    let p = k.parse::<i64>().ok().and_then(Priority::from_rank)?;
                    Some((k, p.as_str().to_string()))
                })
                .collect(),
            GroupBy::Channel => keys.into_iter().map(|k| (k.clone(), k)).collect(),
            GroupBy::Queue | GroupBy::Agent | GroupBy::Category => {
                self.store.names_of(org_id, &keys).await?.into_iter().collect()
            }
        })
    }

    /// Records a resolution's business duration on `next` (resolved by this write), in the
    /// calendar of the SLA policy the case follows; a case without one has none.
    pub(crate) async fn mark_resolution(&self, current: &Case, next: &mut Case) -> Result<()> {
        let Some(at) = next.resolved_at else { return Ok(()) };
        if next.resolved_at == current.resolved_at || next.report.resolution_bsecs.is_some() {
            return Ok(());
        }
        if let Some(plan) = self.plan_for_case(current).await? {
            next.report.resolution_bsecs = Some(plan.calendar.seconds_between(next.created_at, at).max(0));
        }
        Ok(())
    }

    /// Records the case's first response when `comment` is an agent's first customer-facing
    /// reply (what also meets the first-response target).
    pub(crate) async fn mark_first_response(&self, case: &Case, next: &mut Case, comment: &Comment) -> Result<()> {
        if comment.internal || comment.author_type != AuthorType::Agent || case.report.first_response_at.is_some() {
            return Ok(());
        }
        let tz = self.org_time_zone(&case.org_id).await?;
        let at = comment.created_at;
        let bsecs = match self.plan_for_case(case).await? {
            Some(plan) => Some(plan.calendar.seconds_between(case.created_at, at)),
            None => None,
        };
        next.report.respond(at, &tz, bsecs);
        Ok(())
    }
}
