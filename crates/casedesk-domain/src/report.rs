//! Reports: what a case contributes to them, and how per-day totals become a report.
//!
//! A case carries [`Marks`], fixed when what they measure happens: the organization's day it was
//! created, when and on which day an agent first answered it, on which day it was resolved, and
//! both durations in business seconds of its SLA calendar. [`facts`] derives from a case the
//! figures the store keeps per day (durations in calendar seconds, their histogram buckets, the
//! SLA targets met); the store adds them up per organization, series, grouping, key and day as
//! cases change. [`build`] turns those per-day rows into a report: periods of a day, week or
//! month, one row per period and group, and a total per group for the whole range.
//!
//! Medians and 90th percentiles come from histograms with fixed buckets ([`bucket`]), so they
//! can be merged across days: the bucket of the nearest-rank value is exact, and the figure
//! reported is that bucket's geometric middle ([`bucket_value`]), within 9.1 % of the true value.
//! The definitions are written down in `docs/reports.md`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::case::Case;
use crate::sla::TargetKind;

/// Histogram buckets of a duration: `[0, 60 s)`, then from one minute up in quarter octaves
/// (each 19 % wider than the last); the last one is open (from about 600 days).
pub const BUCKETS: usize = 80;

/// The lower bound, in whole seconds, of each bucket.
pub fn lower_bounds() -> &'static [i64; BUCKETS] {
    static BOUNDS: OnceLock<[i64; BUCKETS]> = OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut b = [0i64; BUCKETS];
        for (i, slot) in b.iter_mut().enumerate().skip(1) {
            // Whole seconds, so every platform agrees on each boundary.
            *slot = (60.0 * 2f64.powf((i as f64 - 1.0) / 4.0)).round() as i64;
        }
        b
    })
}

/// The bucket of a duration in seconds (negative durations count as 0).
pub fn bucket(secs: i64) -> usize {
    let bounds = lower_bounds();
    bounds.partition_point(|&lo| lo <= secs.max(0)).saturating_sub(1)
}

/// The figure reported for a bucket, in seconds: its geometric middle (30 s for the first).
pub fn bucket_value(b: usize) -> f64 {
    let bounds = lower_bounds();
    let b = b.min(BUCKETS - 1);
    if b == 0 {
        return 30.0;
    }
    let lo = bounds[b] as f64;
    let hi = if b + 1 < BUCKETS { bounds[b + 1] as f64 } else { lo * 2f64.powf(0.25) };
    (lo * hi).sqrt()
}

/// Counts per bucket (a sparse map: bucket → count).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram(pub BTreeMap<usize, i64>);

impl Histogram {
    pub fn add(&mut self, bucket: usize, n: i64) {
        *self.0.entry(bucket).or_default() += n;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (b, n) in &other.0 {
            self.add(*b, *n);
        }
    }

    /// The stored form: a JSON object of bucket → count (as the triggers keep it).
    pub fn parse(text: &str) -> Result<Histogram, String> {
        let map: BTreeMap<String, i64> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut h = Histogram::default();
        for (k, n) in map {
            let b: usize = k.parse().map_err(|_| format!("bucket {k:?} is not a number"))?;
            h.add(b, n);
        }
        Ok(h)
    }

    fn total(&self) -> i64 {
        self.0.values().filter(|n| **n > 0).sum()
    }

    /// The nearest-rank `p` quantile (0 < p ≤ 1): the bucket of the ⌈p·n⌉-th smallest value.
    pub fn quantile_bucket(&self, p: f64) -> Option<usize> {
        let n = self.total();
        if n == 0 {
            return None;
        }
        let rank = rank(p, n as usize) as i64;
        let mut seen = 0;
        for (b, c) in &self.0 {
            seen += (*c).max(0);
            if seen >= rank {
                return Some(*b);
            }
        }
        self.0.keys().next_back().copied()
    }
}

/// The 1-based nearest rank of quantile `p` among `n` values: ⌈p·n⌉, at least 1.
pub fn rank(p: f64, n: usize) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n.max(1))
}

// ---- days -------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(z: i32) -> (i64, i64, i64) {
    let z = i64::from(z) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day number of a civil date.
pub fn day_of_date(d: jiff::civil::Date) -> i32 {
    days_from_civil(i64::from(d.year()), i64::from(d.month()), i64::from(d.day()))
}

/// The civil date of a day number.
pub fn date_of_day(day: i32) -> jiff::civil::Date {
    let (y, m, d) = civil_from_days(day);
    jiff::civil::Date::new(y as i16, m as i8, d as i8).unwrap_or(jiff::civil::Date::ZERO)
}

/// The organization's day (in its time zone) of an instant.
pub fn local_day(t: Timestamp, tz: &TimeZone) -> i32 {
    day_of_date(t.to_zoned(tz.clone()).date())
}

// ---- what a case contributes --------------------------------------------------------------------

/// What a case records for reports when it happens (stored with the case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    /// The organization's day the case was created.
    pub created_day: i32,
    /// When an agent first replied where the customer sees it (microseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_day: Option<i32>,
    /// Business seconds from creation to the first response, in the SLA policy's calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_bsecs: Option<i64>,
    /// The organization's day the case was resolved (or closed); cleared by a reopen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_day: Option<i32>,
    /// Business seconds from creation to resolution, in the SLA policy's calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_bsecs: Option<i64>,
}

impl Marks {
    /// The marks of a case created at `at`.
    pub fn created(at: Timestamp, tz: &TimeZone) -> Marks {
        Marks { created_day: local_day(at, tz), ..Marks::default() }
    }

    pub fn first_response_at(&self) -> Option<Timestamp> {
        self.first_response_at.and_then(|us| Timestamp::from_microsecond(us).ok())
    }

    /// Records the first response at `at` (unless one was recorded), `bsecs` in business time.
    pub fn respond(&mut self, at: Timestamp, tz: &TimeZone, bsecs: Option<i64>) -> bool {
        if self.first_response_at.is_some() {
            return false;
        }
        self.first_response_at = Some(at.as_microsecond());
        self.first_response_day = Some(local_day(at, tz));
        self.first_response_bsecs = bsecs.map(|s| s.max(0));
        true
    }
}

/// The stored JSON of a case's report figures: its [`Marks`] and what derives from them and
/// the case (calendar durations, their buckets, the SLA targets met), which the database's
/// triggers add to the per-day totals. Keys: `created_day`, `first_response_*`, `resolved_day`,
/// `resolution_bsecs`, and the derived `fr_secs`, `fr_b`, `fr_bb`, `res_secs`, `res_b`, `res_bb`,
/// `sla_fr`, `sla_nr`, `sla_res` (1 met, 0 missed, absent: no target).
pub fn facts(case: &Case) -> Value {
    let m = &case.report;
    let mut v = serde_json::to_value(m).unwrap_or_else(|_| json!({}));
    let Some(obj) = v.as_object_mut() else { return v };
    let secs = |from: Timestamp, to: Timestamp| (to.as_second() - from.as_second()).max(0);
    if let Some(at) = m.first_response_at() {
        let s = secs(case.created_at, at);
        obj.insert("fr_secs".into(), json!(s));
        obj.insert("fr_b".into(), json!(bucket(s)));
        if let Some(b) = m.first_response_bsecs {
            obj.insert("fr_bb".into(), json!(bucket(b)));
        }
    }
    if let (Some(_), Some(at)) = (m.resolved_day, case.resolved_at) {
        let s = secs(case.created_at, at);
        obj.insert("res_secs".into(), json!(s));
        obj.insert("res_b".into(), json!(bucket(s)));
        if let Some(b) = m.resolution_bsecs {
            obj.insert("res_bb".into(), json!(bucket(b)));
        }
        if let Some(sla) = &case.sla {
            for (kind, key) in [
                (TargetKind::FirstResponse, "sla_fr"),
                (TargetKind::NextResponse, "sla_nr"),
                (TargetKind::Resolution, "sla_res"),
            ] {
                if let Some(c) = sla.clock(kind) {
                    obj.insert(key.into(), json!(i64::from(c.breached_at.is_none())));
                }
            }
        }
    }
    v
}

/// Reads the marks back from the stored JSON (`None` for a case written before reports).
pub fn marks_of(stored: Option<&str>) -> Result<Marks, String> {
    match stored {
        None => Ok(Marks::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
    }
}

// ---- reports ----------------------------------------------------------------------------------

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Volume,
    FirstResponse,
    Resolution,
    SlaCompliance,
    Csat,
    Backlog,
    TimeTracking,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Volume,
        Kind::FirstResponse,
        Kind::Resolution,
        Kind::SlaCompliance,
        Kind::Csat,
        Kind::Backlog,
        Kind::TimeTracking,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Volume => "volume",
            Kind::FirstResponse => "first-response",
            Kind::Resolution => "resolution",
            Kind::SlaCompliance => "sla-compliance",
            Kind::Csat => "csat",
            Kind::Backlog => "backlog",
            Kind::TimeTracking => "time-tracking",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, String> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            format!(
                "unknown report {s:?}; expected one of {}",
                Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub const fn title(self) -> &'static str {
        match self {
            Kind::Volume => "Volume",
            Kind::FirstResponse => "First response time",
            Kind::Resolution => "Resolution time",
            Kind::SlaCompliance => "SLA compliance",
            Kind::Csat => "Customer satisfaction",
            Kind::Backlog => "Backlog",
            Kind::TimeTracking => "Time tracking",
        }
    }

    /// The per-day series the report reads.
    pub fn series(self) -> &'static [&'static str] {
        match self {
            Kind::Volume | Kind::Backlog => &["created", "resolved"],
            Kind::FirstResponse => &["first_response"],
            Kind::Resolution => &["resolved"],
            Kind::SlaCompliance => &["sla_first_response", "sla_next_response", "sla_resolution"],
            Kind::Csat => &["csat"],
            Kind::TimeTracking => &["time"],
        }
    }

    /// The figures of each row, in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Volume => &["created", "resolved"],
            Kind::FirstResponse | Kind::Resolution => &[
                "count",
                "calendar_mean_hours",
                "calendar_median_hours",
                "calendar_p90_hours",
                "business_count",
                "business_mean_hours",
                "business_median_hours",
                "business_p90_hours",
            ],
            Kind::SlaCompliance => &[
                "first_response_targets",
                "first_response_met",
                "first_response_met_share",
                "next_response_targets",
                "next_response_met",
                "next_response_met_share",
                "resolution_targets",
                "resolution_met",
                "resolution_met_share",
                "targets",
                "met",
                "met_share",
            ],
            Kind::Csat => &["responses", "positive", "negative", "positive_share", "mean_score"],
            Kind::Backlog => &["created", "resolved", "open"],
            Kind::TimeTracking => &["entries", "hours", "billable_hours"],
        }
    }
}

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    None,
    Queue,
    Agent,
    Priority,
    Channel,
    Category,
}

impl GroupBy {
    pub const ALL: [GroupBy; 6] =
        [GroupBy::None, GroupBy::Queue, GroupBy::Agent, GroupBy::Priority, GroupBy::Channel, GroupBy::Category];

    /// The name in requests and answers (`none` for no grouping).
    pub const fn as_str(self) -> &'static str {
        match self {
            GroupBy::None => "none",
            GroupBy::Queue => "queue",
            GroupBy::Agent => "agent",
            GroupBy::Priority => "priority",
            GroupBy::Channel => "channel",
            GroupBy::Category => "category",
        }
    }

    /// The dimension's name in the per-day totals.
    pub const fn dim(self) -> &'static str {
        match self {
            GroupBy::None => "all",
            g => g.as_str(),
        }
    }

    pub fn parse(s: &str) -> Result<GroupBy, String> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "" | "all" => "none",
            "owner" | "assignee" => "agent",
            other => other,
        };
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s).ok_or_else(|| {
            format!("unknown grouping {s:?}; expected none, queue, agent, priority, channel or category")
        })
    }
}

/// The length of a report's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Result<Granularity, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Ok(Granularity::Day),
            "week" | "weekly" => Ok(Granularity::Week),
            "month" | "monthly" => Ok(Granularity::Month),
            other => Err(format!("unknown granularity {other:?}; expected day, week or month")),
        }
    }

    /// The first day of the period `day` falls in (weeks start on Monday).
    pub fn period_start(self, day: i32) -> i32 {
        match self {
            Granularity::Day => day,
            // Day 0 (1970-01-01) was a Thursday.
            Granularity::Week => day - (day + 3).rem_euclid(7),
            Granularity::Month => {
                let (y, m, _) = civil_from_days(day);
                days_from_civil(y, m, 1)
            }
        }
    }

    /// The first day of the period after the one starting at `start`.
    pub fn next(self, start: i32) -> i32 {
        match self {
            Granularity::Day => start + 1,
            Granularity::Week => start + 7,
            Granularity::Month => {
                let (y, m, _) = civil_from_days(start);
                if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) }
            }
        }
    }
}

/// The longest range a report covers.
pub const MAX_DAYS: i32 = 3 * 366;

/// A validated report request: a range of the organization's days, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub kind: Kind,
    pub from: i32,
    pub to: i32,
    pub granularity: Granularity,
    pub group_by: GroupBy,
}

/// One day's totals of a series for one key, as the store keeps them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayRow {
    pub series: String,
    pub day: i32,
    pub key: String,
    /// Cases (or answers, or targets).
    pub n: i64,
    /// Targets met; positive answers; billable seconds.
    pub m: i64,
    /// Calendar seconds; the sum of scores.
    pub secs: i64,
    /// Cases with a business duration, and its sum.
    pub bn: i64,
    pub bsecs: i64,
    pub hist: Histogram,
    pub bhist: Histogram,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    n: i64,
    m: i64,
    secs: i64,
    bn: i64,
    bsecs: i64,
    hist: Histogram,
    bhist: Histogram,
}

impl Acc {
    fn add(&mut self, r: &DayRow) {
        self.n += r.n;
        self.m += r.m;
        self.secs += r.secs;
        self.bn += r.bn;
        self.bsecs += r.bsecs;
        self.hist.merge(&r.hist);
        self.bhist.merge(&r.bhist);
    }
}

/// One row of a report: a period (its first day; `None` for the whole range) and a group key
/// (`""` for none, or the group's missing value), with one figure per column (`None`: no data).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub period: Option<i32>,
    pub group: String,
    pub values: Vec<Option<f64>>,
}

/// A report: rows per period and group, then the totals of each group over the whole range.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub params: Params,
    pub rows: Vec<Row>,
    pub totals: Vec<Row>,
}

const HOUR: f64 = 3600.0;

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn durations(n: i64, sum: i64, hist: &Histogram) -> [Option<f64>; 3] {
    if n <= 0 {
        return [None, None, None];
    }
    [
        Some(sum as f64 / n as f64 / HOUR),
        hist.quantile_bucket(0.5).map(|b| bucket_value(b) / HOUR),
        hist.quantile_bucket(0.9).map(|b| bucket_value(b) / HOUR),
    ]
}

/// The figures of one cell from the series' accumulated totals (`before`: for the backlog, the
/// created and resolved counts before the cell's period ended).
fn figures(kind: Kind, acc: &BTreeMap<&str, Acc>, open: Option<i64>) -> Vec<Option<f64>> {
    let empty = Acc::default();
    let get = |s: &str| acc.get(s).unwrap_or(&empty);
    let count = |n: i64| Some(n as f64);
    match kind {
        Kind::Volume => vec![count(get("created").n), count(get("resolved").n)],
        Kind::Backlog => vec![count(get("created").n), count(get("resolved").n), open.map(|o| o as f64)],
        Kind::FirstResponse | Kind::Resolution => {
            let a = get(if kind == Kind::FirstResponse { "first_response" } else { "resolved" });
            let mut v = vec![count(a.n)];
            v.extend(durations(a.n, a.secs, &a.hist));
            v.push(count(a.bn));
            v.extend(durations(a.bn, a.bsecs, &a.bhist));
            v
        }
        Kind::SlaCompliance => {
            let mut v = Vec::new();
            let (mut n, mut m) = (0, 0);
            for s in ["sla_first_response", "sla_next_response", "sla_resolution"] {
                let a = get(s);
                v.extend([count(a.n), count(a.m), share(a.m, a.n)]);
                n += a.n;
                m += a.m;
            }
            v.extend([count(n), count(m), share(m, n)]);
            v
        }
        Kind::Csat => {
            let a = get("csat");
            vec![count(a.n), count(a.m), count(a.n - a.m), share(a.m, a.n), share(a.secs, a.n)]
        }
        Kind::TimeTracking => {
            let a = get("time");
            vec![count(a.n), Some(a.secs as f64 / HOUR), Some(a.m as f64 / HOUR)]
        }
    }
}

/// Builds a report from the per-day rows of its series within the range, and (for the backlog)
/// the created and resolved counts per key before the range (`before`: key → (created,
/// resolved)). Every group present in the data gets a row for every period, zero-filled; with
/// no grouping there is always the one group `""`.
pub fn build(params: Params, days: &[DayRow], before: &BTreeMap<String, (i64, i64)>) -> Report {
    let g = params.granularity;
    let mut periods = Vec::new();
    let mut p = g.period_start(params.from);
    while p <= params.to {
        periods.push(p);
        p = g.next(p);
    }
    let mut keys: Vec<String> = days.iter().map(|r| r.key.clone()).chain(before.keys().cloned()).collect();
    if params.group_by == GroupBy::None {
        keys.push(String::new());
    }
    keys.sort();
    keys.dedup();
    // (key, period) → series → totals.
    let mut cells: BTreeMap<(&str, i32), BTreeMap<&str, Acc>> = BTreeMap::new();
    let mut whole: BTreeMap<&str, BTreeMap<&str, Acc>> = BTreeMap::new();
    for r in days.iter().filter(|r| r.day >= params.from && r.day <= params.to) {
        let period = g.period_start(r.day);
        cells.entry((r.key.as_str(), period)).or_default().entry(r.series.as_str()).or_default().add(r);
        whole.entry(r.key.as_str()).or_default().entry(r.series.as_str()).or_default().add(r);
    }
    let backlog = params.kind == Kind::Backlog;
    let mut rows = Vec::new();
    let mut totals = Vec::new();
    let none = BTreeMap::new();
    for key in &keys {
        let (mut created, mut resolved) = before.get(key).copied().unwrap_or((0, 0));
        for &period in &periods {
            let acc = cells.get(&(key.as_str(), period)).unwrap_or(&none);
            created += acc.get("created").map_or(0, |a| a.n);
            resolved += acc.get("resolved").map_or(0, |a| a.n);
            let open = backlog.then_some(created - resolved);
            rows.push(Row { period: Some(period), group: key.clone(), values: figures(params.kind, acc, open) });
        }
        let acc = whole.get(key.as_str()).unwrap_or(&none);
        let open = backlog.then_some(created - resolved);
        totals.push(Row { period: None, group: key.clone(), values: figures(params.kind, acc, open) });
    }
    Report { params, rows, totals }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_durations_in_order() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(59), 0);
        assert_eq!(bucket(60), 1);
        assert_eq!(bucket(70), 1);
        assert_eq!(bucket(71), 2);
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(i64::MAX), BUCKETS - 1);
        let mut last = 0;
        for s in (0..10_000_000).step_by(997) {
            let b = bucket(s);
            assert!(b >= last);
            last = b;
            // The reported figure is within 9.1 % of any value of its bucket (past the first).
            if b > 0 && b < BUCKETS - 1 {
                let v = bucket_value(b);
                assert!((v - s as f64).abs() / (s as f64) < 0.091, "{s} → {v}");
            }
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut h = Histogram::default();
        for s in [100, 200, 300, 4000] {
            h.add(bucket(s), 1);
        }
        // Median of four: the 2nd smallest.
        assert_eq!(h.quantile_bucket(0.5), Some(bucket(200)));
        assert_eq!(h.quantile_bucket(0.9), Some(bucket(4000)));
        assert_eq!(Histogram::default().quantile_bucket(0.5), None);
        assert_eq!(rank(0.5, 5), 3);
        assert_eq!(rank(0.9, 10), 9);
        assert_eq!(rank(0.9, 1), 1);
    }

    #[test]
    fn days_round_trip_and_periods_start_on_monday_and_the_first() {
        for day in -1000..40_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        let day = days_from_civil(2026, 3, 18); // a Wednesday
        assert_eq!(Granularity::Week.period_start(day), days_from_civil(2026, 3, 16));
        assert_eq!(Granularity::Month.period_start(day), days_from_civil(2026, 3, 1));
        assert_eq!(Granularity::Month.next(days_from_civil(2026, 12, 1)), days_from_civil(2027, 1, 1));
        assert_eq!(date_of_day(day).to_string(), "2026-03-18");
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let t: Timestamp = "2026-03-18T23:30:00Z".parse().expect("ts");
        let berlin = TimeZone::get("Europe/Berlin").expect("tz");
        assert_eq!(local_day(t, &TimeZone::UTC), days_from_civil(2026, 3, 18));
        assert_eq!(local_day(t, &berlin), days_from_civil(2026, 3, 19));
    }

    #[test]
    fn names_parse_with_aliases() {
        assert_eq!(Kind::parse("sla_compliance"), Ok(Kind::SlaCompliance));
        assert!(Kind::parse("nope").is_err());
        assert_eq!(GroupBy::parse("assignee"), Ok(GroupBy::Agent));
        assert_eq!(Granularity::parse("Weekly"), Ok(Granularity::Week));
    }

    #[test]
    fn build_fills_periods_and_keeps_a_running_backlog() {
        let from = days_from_civil(2026, 1, 1);
        let params =
            Params { kind: Kind::Backlog, from, to: from + 2, granularity: Granularity::Day, group_by: GroupBy::None };
        let row = |series: &str, day: i32, n: i64| DayRow { series: series.into(), day, n, ..DayRow::default() };
        let days = [row("created", from, 3), row("resolved", from + 2, 2)];
        let before = BTreeMap::from([(String::new(), (10, 4))]);
        let r = build(params, &days, &before);
        let open: Vec<_> = r.rows.iter().map(|r| r.values[2]).collect();
        assert_eq!(open, vec![Some(9.0), Some(9.0), Some(7.0)]);
        assert_eq!(r.totals[0].values, vec![Some(3.0), Some(2.0), Some(7.0)]);
    }

    #[test]
    fn durations_report_mean_median_and_p90_in_hours() {
        let from = days_from_civil(2026, 1, 1);
        let params =
            Params { kind: Kind::Resolution, from, to: from, granularity: Granularity::Day, group_by: GroupBy::Queue };
        let mut hist = Histogram::default();
        for s in [3600, 7200, 36_000] {
            hist.add(bucket(s), 1);
        }
        let days = [DayRow {
            series: "resolved".into(),
            day: from,
            key: "q_1".into(),
            n: 3,
            secs: 46_800,
            hist,
            ..DayRow::default()
        }];
        let r = build(params, &days, &BTreeMap::new());
        assert_eq!(r.rows.len(), 1);
        let v = &r.rows[0].values;
        assert_eq!(v[0], Some(3.0));
        assert_eq!(v[1], Some(46_800.0 / 3.0 / 3600.0));
        assert_eq!(v[2], Some(bucket_value(bucket(7200)) / 3600.0));
        assert_eq!(v[3], Some(bucket_value(bucket(36_000)) / 3600.0));
        assert_eq!(v[4], Some(0.0));
        assert_eq!(v[5], None);
    }
}
