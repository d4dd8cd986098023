//! `/api/v1/reports/{report}`: volume, first response, resolution, SLA compliance, CSAT,
//! backlog and time tracking over a range of the organization's days, by day, week or month,
//! optionally grouped; as JSON, CSV or `.xlsx` (`format`). Definitions: `docs/reports.md`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::reports::{NamedReport, ReportRequest};
use casedesk_domain::report::{Row, date_of_day};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::QueryReader;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

const TAG: &str = "reports";
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One row of a report: a period and a group with its figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRowResponse {
    /// The period's first day (`YYYY-MM-DD`); `null` in `totals` (the whole range).
    pub period: Option<String>,
    /// The group's key (queue, agent or category id, priority, channel); `null` without
    /// grouping, `""` for cases without one (no queue, unassigned).
    pub group: Option<String>,
    pub group_name: String,
    /// One figure per column; `null` where there is nothing to measure.
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

/// A report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    pub report: &'static str,
    pub title: &'static str,
    /// The first day of the first period (a Monday for weeks, the 1st for months).
    pub from: String,
    pub to: String,
    pub granularity: &'static str,
    pub group_by: &'static str,
    /// The organization's time zone, in which days are counted.
    pub time_zone: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<ReportRowResponse>,
    /// Per group, over the whole range (medians and percentiles of all its cases).
    pub totals: Vec<ReportRowResponse>,
}

/// A figure as JSON: counts as integers, the rest as numbers.
fn figure(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => json!(x as i64),
        Some(x) => json!(x),
        None => Value::Null,
    }
}

impl ReportResponse {
    pub fn new(r: &NamedReport) -> Self {
        let kind = r.kind();
        let p = r.report.params;
        let row = |x: &Row| ReportRowResponse {
            period: x.period.map(|d| date_of_day(d).to_string()),
            group: (p.group_by != casedesk_domain::report::GroupBy::None).then(|| x.group.clone()),
            group_name: r.group_name(&x.group),
            values: kind.columns().iter().zip(&x.values).map(|(c, v)| (c.to_string(), figure(*v))).collect(),
        };
        ReportResponse {
            report: kind.as_str(),
            title: kind.title(),
            from: date_of_day(p.from).to_string(),
            to: date_of_day(p.to).to_string(),
            granularity: p.granularity.as_str(),
            group_by: p.group_by.as_str(),
            time_zone: r.time_zone.clone(),
            columns: kind.columns().to_vec(),
            rows: r.report.rows.iter().map(row).collect(),
            totals: r.report.totals.iter().map(row).collect(),
        }
    }
}

/// The answer's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "xlsx" => Ok(Format::Xlsx),
        _ => Err("expected json, csv or xlsx".into()),
    }
}

/// Reads `from`, `to`, `granularity`, `group_by` and `format`; anything else is a 422 naming it.
pub(crate) fn report_request(kind: String, q: QueryPairs) -> Result<(ReportRequest, Format), ApiError> {
    let mut r = QueryReader::new(q, &["from", "to", "granularity", "group_by", "format"]);
    for paging in ["limit", "cursor"] {
        if r.one(paging).is_some() {
            r.error(paging, "a report has no pages");
        }
    }
    let req = ReportRequest {
        kind,
        from: r.one("from"),
        to: r.one("to"),
        granularity: r.one("granularity"),
        group_by: r.one("group_by"),
    };
    let format = r.parse("format", parse_format).unwrap_or(Format::Json);
    r.finish()?;
    Ok((req, format))
}

/// The report as the chosen format (a download for CSV and `.xlsx`).
pub(crate) fn respond(r: &NamedReport, format: Format) -> Result<Response, ApiError> {
    let name = |ext: &str| format!("attachment; filename=\"{}.{ext}\"", r.kind().as_str());
    let download = |body: Vec<u8>, content_type: &'static str, ext: &str| -> Response {
        let mut resp = body.into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(v) = HeaderValue::from_str(&name(ext)) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        resp
    };
    Ok(match format {
        Format::Json => axum::Json(ReportResponse::new(r)).into_response(),
        Format::Csv => download(r.csv()?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => download(r.xlsx()?, XLSX, "xlsx"),
    })
}

/// A report: `volume`, `first-response`, `resolution`, `sla-compliance`, `csat`, `backlog` or
/// `time-tracking`, over `from`..`to` (dates in the organization's time zone, inclusive; default
/// the last 30 days), by `granularity` (`day`, `week` from Monday, `month`), grouped by
/// `group_by` (`none`, `queue`, `agent`, `priority`, `channel`, `category`). `format=csv` or
/// `xlsx` downloads it. Durations are hours: calendar and business (the SLA policy's calendar),
/// with mean, median and 90th percentile.
#[utoipa::path(get, path = "/api/v1/reports/{report}", tag = TAG,
    params(("report" = String, Path, description = "volume, first-response, resolution, sla-compliance, csat, backlog, time-tracking"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (default: 29 days before `to`)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (default: today)"),
        ("granularity" = Option<String>, Query, description = "day (default), week or month"),
        ("group_by" = Option<String>, Query, description = "none (default), queue, agent, priority, channel or category"),
        ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = ReportResponse, description = "The report (or its CSV / .xlsx download)"),
        (status = 422, body = Problem)))]
pub async fn get_report(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(kind): Path<String>,
    q: QueryPairs,
) -> Result<Response, ApiError> {
    let (req, format) = report_request(kind, q)?;
    let report = s.app.report(&actor, &req).await?;
    respond(&report, format)
}
