//! The Reports page: a report chosen with its period, granularity and grouping, drawn as a
//! server-rendered SVG chart (no script, no chart service) with its numbers beside it, and
//! links to download it as CSV or `.xlsx`. The report is the API's (`App::report`); this module
//! only lays it out.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::reports::{NamedReport, ReportRequest};
use casedesk_domain::report::{GroupBy, Kind, date_of_day};
use serde::Deserialize;

use super::display::Chrome;
use super::error::{UiError, html};
use super::session::Viewer;
use crate::AppState;
use crate::api::reports::{Format, respond};

/// Colours of the chart's series (the first for a report without grouping).
const PALETTE: [&str; 8] = ["#1d4ed8", "#b45309", "#047857", "#b42318", "#6d28d9", "#0e7490", "#a16207", "#4d5868"];
/// Groups drawn at most; the table lists all.
const MAX_SERIES: usize = 8;
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    report: Option<String>,
    from: Option<String>,
    to: Option<String>,
    granularity: Option<String>,
    group_by: Option<String>,
    format: Option<String>,
}

impl ReportQuery {
    fn request(&self) -> ReportRequest {
        ReportRequest {
            kind: self.report.clone().unwrap_or_else(|| Kind::Volume.as_str().into()),
            from: self.from.clone(),
            to: self.to.clone(),
            granularity: self.granularity.clone(),
            group_by: self.group_by.clone(),
        }
    }
}

/// The figure a report's chart shows, and how it reads.
fn headline(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Volume => ("created", "cases created"),
        Kind::FirstResponse | Kind::Resolution => ("calendar_median_hours", "median hours (calendar)"),
        Kind::SlaCompliance => ("met_share", "share of targets met"),
        Kind::Csat => ("positive_share", "share of positive answers"),
        Kind::Backlog => ("open", "open cases at the end of the period"),
        Kind::TimeTracking => ("hours", "hours logged"),
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices(all: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    all.iter().map(|(value, label)| Choice { value, label, selected: *value == current }).collect()
}

pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub title: String,
}

pub struct Line {
    pub color: &'static str,
    pub points: String,
    pub name: String,
}

pub struct Tick {
    pub pos: String,
    pub label: String,
}

/// An SVG chart: bars (one series) or lines (one per group), with axis ticks.
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub bottom_y: f64,
    pub right: f64,
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub caption: String,
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() < 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2}")
    }
}

fn chart(r: &NamedReport) -> Chart {
    let kind = r.kind();
    let (column, caption) = headline(kind);
    let col = kind.columns().iter().position(|c| *c == column).unwrap_or(0);
    let periods: Vec<i32> = {
        let mut p: Vec<i32> = r.report.rows.iter().filter_map(|x| x.period).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    // The groups with the largest totals of the figure, drawn as lines.
    let mut groups: Vec<(String, f64)> = r
        .report
        .totals
        .iter()
        .map(|t| (t.group.clone(), t.values.get(col).copied().flatten().unwrap_or(0.0)))
        .collect();
    groups.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    groups.truncate(MAX_SERIES);
    let cells: std::collections::HashMap<(&str, i32), f64> = r
        .report
        .rows
        .iter()
        .filter_map(|x| Some(((x.group.as_str(), x.period?), x.values.get(col).copied().flatten()?)))
        .collect();
    let value = |group: &str, period: i32| cells.get(&(group, period)).copied();
    let max = groups
        .iter()
        .flat_map(|(g, _)| periods.iter().filter_map(|p| value(g, *p)))
        .fold(0.0f64, f64::max)
        .max(if matches!(kind, Kind::SlaCompliance | Kind::Csat) { 1.0 } else { 1e-9 });
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let n = periods.len().max(1) as f64;
    let slot = plot_w / n;
    let y_of = |v: f64| TOP + plot_h - v / max * plot_h;
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let mut bars = Vec::new();
    let mut lines = Vec::new();
    if r.report.params.group_by == GroupBy::None {
        for (i, p) in periods.iter().enumerate() {
            let v = value("", *p).unwrap_or(0.0);
            let w = (slot * 0.7).max(1.0);
            bars.push(Bar {
                x: fmt(x_mid(i) - w / 2.0),
                y: fmt(y_of(v)),
                w: fmt(w),
                h: fmt(TOP + plot_h - y_of(v)),
                title: format!("{}: {}", date_of_day(*p), fmt(v)),
            });
        }
    } else {
        for (k, (g, _)) in groups.iter().enumerate() {
            let points = periods
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{},{}", fmt(x_mid(i)), fmt(y_of(value(g, *p).unwrap_or(0.0)))))
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(Line { color: PALETTE[k % PALETTE.len()], points, name: r.group_name(g) });
        }
    }
    let y_ticks = (0..=4)
        .map(|i| {
            let v = max * f64::from(i) / 4.0;
            Tick { pos: fmt(y_of(v)), label: fmt(v) }
        })
        .collect();
    // At most seven labels, short enough not to overlap.
    let every = periods.len().div_ceil(7).max(1);
    let label =
        if r.report.params.granularity == casedesk_domain::report::Granularity::Month { "%b %Y" } else { "%b %d" };
    let x_ticks = periods
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, p)| Tick { pos: fmt(x_mid(i)), label: date_of_day(*p).strftime(label).to_string() })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        bottom_y: TOP + plot_h,
        right: WIDTH - 8.0,
        bars,
        lines,
        y_ticks,
        x_ticks,
        caption: caption.to_string(),
    }
}

pub struct TableRow {
    pub period: String,
    pub group: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    kinds: Vec<Choice>,
    granularities: Vec<Choice>,
    groupings: Vec<Choice>,
    from: String,
    to: String,
    error: Option<String>,
    title: String,
    time_zone: String,
    chart: Option<Chart>,
    columns: Vec<&'static str>,
    totals: Vec<TableRow>,
    rows: Vec<TableRow>,
    csv_link: String,
    xlsx_link: String,
}

fn cells(values: &[Option<f64>]) -> Vec<String> {
    values.iter().map(|v| v.map_or_else(|| "–".to_string(), fmt)).collect()
}

fn link(q: &ReportQuery, format: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("report", &q.report),
        ("from", &q.from),
        ("to", &q.to),
        ("granularity", &q.granularity),
        ("group_by", &q.group_by),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.append_pair("format", format);
    format!("/reports/download?{}", s.finish())
}

const KINDS: [(&str, &str); 7] = [
    ("volume", "Volume"),
    ("first-response", "First response time"),
    ("resolution", "Resolution time"),
    ("sla-compliance", "SLA compliance"),
    ("csat", "Customer satisfaction"),
    ("backlog", "Backlog"),
    ("time-tracking", "Time tracking"),
];
const GRANULARITIES: [(&str, &str); 3] = [("day", "Day"), ("week", "Week"), ("month", "Month")];
const GROUPINGS: [(&str, &str); 6] = [
    ("none", "No grouping"),
    ("queue", "Queue"),
    ("agent", "Agent"),
    ("priority", "Priority"),
    ("channel", "Channel"),
    ("category", "Category"),
];

/// `GET /reports`: the form, and the report it asks for.
pub async fn page(
    State(s): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> Result<Response, UiError> {
    let actor = &viewer.who.actor;
    let req = q.request();
    let kind = req.kind.clone();
    let mut page = ReportsPage {
        chrome: Chrome::of(&viewer, "reports"),
        kinds: choices(&KINDS, &kind),
        granularities: choices(&GRANULARITIES, q.granularity.as_deref().unwrap_or("day")),
        groupings: choices(&GROUPINGS, q.group_by.as_deref().unwrap_or("none")),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        error: None,
        title: "Reports".into(),
        time_zone: String::new(),
        chart: None,
        columns: Vec::new(),
        totals: Vec::new(),
        rows: Vec::new(),
        csv_link: link(&q, "csv"),
        xlsx_link: link(&q, "xlsx"),
    };
    match s.app.report(actor, &req).await {
        Ok(r) => {
            let p = r.report.params;
            page.title = r.kind().title().into();
            page.time_zone = r.time_zone.clone();
            page.from = date_of_day(p.from).to_string();
            page.to = date_of_day(p.to).to_string();
            page.columns = r.kind().columns().to_vec();
            page.totals = r
                .report
                .totals
                .iter()
                .map(|t| TableRow { period: "total".into(), group: r.group_name(&t.group), cells: cells(&t.values) })
                .collect();
            page.rows = r
                .report
                .rows
                .iter()
                .map(|x| TableRow {
                    period: x.period.map(|d| date_of_day(d).to_string()).unwrap_or_default(),
                    group: r.group_name(&x.group),
                    cells: cells(&x.values),
                })
                .collect();
            page.chart = Some(chart(&r));
        }
        Err(casedesk_core::AppError::Validation(fields)) => {
            page.error =
                Some(fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(html(StatusCode::OK, &page))
}

/// `GET /reports/download?…&format=csv|xlsx`: the report as a file.
pub async fn download(
    State(s): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> Result<Response, UiError> {
    let format = match q.format.as_deref() {
        Some("xlsx") => Format::Xlsx,
        _ => Format::Csv,
    };
    let report = s.app.report(&viewer.who.actor, &q.request()).await?;
    respond(&report, format).map_err(|_| UiError::NotFound)
}
