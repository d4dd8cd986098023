//! Business calendars: when an organization is at work, so SLA clocks count only those seconds.
//!
//! A [`BusinessCalendar`] is an IANA time zone, open periods for each weekday in local wall-clock
//! time (`09:00–12:00` and `13:00–17:00` for a lunch break) and holidays that close whole local
//! dates. Queries take and return UTC instants; the calendar converts each local date's periods to
//! instants on its own, so a period spanning a daylight-saving change holds the real elapsed
//! time (01:00–04:00 is two hours on a spring-forward night and four on a fall-back night).
//!
//! Business time is counted in whole seconds: the sub-second part of an instant is dropped.
//!
//! Layout:
//! - [`Period`], [`Holiday`]: the parts of a calendar.
//! - [`CalendarInput`] and friends: the calendar as an API client writes it, checked by
//!   [`BusinessCalendar::from_input`] and given back by [`BusinessCalendar::to_input`].
//! - [`BusinessCalendar`] with [`is_open`](BusinessCalendar::is_open),
//!   [`add_seconds`](BusinessCalendar::add_seconds) and
//!   [`seconds_between`](BusinessCalendar::seconds_between), which walk the calendar a local date
//!   at a time.
//! - [`holidays_from_ical`]: holidays imported from an iCalendar (`.ics`) file.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

use crate::error::{DomainError, Errors};
use crate::text;

const MINUTES_PER_DAY: u16 = 24 * 60;
/// More periods than this on one day is a mistake, not a schedule.
pub const MAX_PERIODS_PER_DAY: usize = 24;
/// Enough for decades of public holidays; bounds the work a calendar edit can ask for.
pub const MAX_HOLIDAYS: usize = 1000;
/// Longest holiday name, in characters.
pub const MAX_HOLIDAY_NAME: usize = 200;
/// How long [`BusinessCalendar::add_seconds`] looks for open time before giving up (~5 years).
const MAX_IDLE_DAYS: u32 = 5 * 366;
/// Weekday names as the API spells them, Monday first (the index into a calendar's week).
pub const WEEKDAY_NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// An open period within one local day, at minute granularity: `[start, end)` in minutes since
/// local midnight, `start < end <= 24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    start: u16,
    end: u16,
}

impl Period {
    /// A period from `start` to `end` minutes after local midnight; `end` may be 1440 (24:00).
    pub fn new(start_minute: u16, end_minute: u16) -> Result<Self, String> {
        if end_minute > MINUTES_PER_DAY {
            return Err("must end at 24:00 at the latest".into());
        }
        if start_minute >= end_minute {
            return Err("must end after it starts".into());
        }
        Ok(Self { start: start_minute, end: end_minute })
    }

    /// A period from two `HH:MM` texts; `24:00` is accepted as the end only.
    pub fn parse(start: &str, end: &str) -> Result<Self, String> {
        Self::new(parse_hhmm(start, false)?, parse_hhmm(end, true)?)
    }

    /// The whole day, 00:00–24:00.
    pub const fn all_day() -> Self {
        Self { start: 0, end: MINUTES_PER_DAY }
    }

    pub const fn start_minute(self) -> u16 {
        self.start
    }

    pub const fn end_minute(self) -> u16 {
        self.end
    }

    /// The start as `HH:MM`.
    pub fn start_hhmm(self) -> String {
        format_hhmm(self.start)
    }

    /// The end as `HH:MM` (`24:00` for the end of the day).
    pub fn end_hhmm(self) -> String {
        format_hhmm(self.end)
    }
}

/// A local date on which the organization is closed all day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

/// A calendar as an API client sends it; all texts, checked by [`BusinessCalendar::from_input`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarInput {
    /// An IANA time zone name such as `Europe/Berlin`.
    pub time_zone: String,
    /// Open periods by weekday; a weekday not listed is closed.
    pub hours: Vec<DayInput>,
    pub holidays: Vec<HolidayInput>,
}

/// The open periods of one weekday (`monday` … `sunday`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayInput {
    pub day: String,
    pub periods: Vec<PeriodInput>,
}

/// One open period as `HH:MM` texts, e.g. `09:00`–`17:30`; the end may be `24:00`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodInput {
    pub start: String,
    pub end: String,
}

/// A holiday as `YYYY-MM-DD` and a name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayInput {
    pub date: String,
    pub name: String,
}

/// When an organization is at work: a time zone, weekly open periods and holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: TimeZone,
    tz_name: String,
    /// Monday first; each day's periods sorted and disjoint (touching is allowed).
    week: [Vec<Period>; 7],
    holidays: BTreeMap<Date, String>,
    /// Every instant is open: the queries become plain arithmetic.
    always_open: bool,
}

impl BusinessCalendar {
    /// Around the clock in UTC with no holidays: every second counts. The calendar of a policy
    /// that has none.
    pub fn always() -> Self {
        let week = std::array::from_fn(|_| vec![Period::all_day()]);
        Self { tz: TimeZone::UTC, tz_name: "UTC".into(), week, holidays: BTreeMap::new(), always_open: true }
    }

    /// A calendar from typed parts. Periods may come in any order but must not overlap within a
    /// day; at least one period is needed; holiday dates must be distinct. Errors name the fields
    /// as [`from_input`](Self::from_input) does (`hours.monday[1]`, `holidays[0].date`).
    pub fn new(tz: TimeZone, mut week: [Vec<Period>; 7], holidays: Vec<Holiday>) -> Result<Self, DomainError> {
        let mut errors = Errors::new();
        let tz_name = errors.take("time_zone", iana_name(&tz));
        let week = std::array::from_fn(|i| GivenDay {
            periods: std::mem::take(&mut week[i]).into_iter().enumerate().collect(),
            ..GivenDay::closed(i)
        });
        let week = check_week(week, &mut errors);
        let holidays = check_holidays(holidays.into_iter().enumerate().map(|(i, h)| (i, Some(h))), &mut errors);
        errors.finish()?;
        Ok(Self::assemble(tz, tz_name.unwrap_or_default(), week, holidays))
    }

    /// A calendar from what an API client sent, reporting every bad field.
    pub fn from_input(input: CalendarInput) -> Result<Self, DomainError> {
        let mut errors = Errors::new();
        let tz = errors.take("time_zone", parse_time_zone(&input.time_zone));
        let mut week: [GivenDay; 7] = std::array::from_fn(GivenDay::closed);
        let mut seen = [false; 7];
        for day in &input.hours {
            // Errors name the day as the client spelled it (`hours.Monday[1]`).
            let field = format!("hours.{}", day.day);
            let Some(index) = errors.take(&field, parse_weekday(&day.day)) else { continue };
            if std::mem::replace(&mut seen[index], true) {
                errors.add(&field, format!("{} is given twice", WEEKDAY_NAMES[index]));
                continue;
            }
            let periods = parse_periods(&field, &day.periods, &mut errors);
            week[index] = GivenDay { field, periods };
        }
        let week = check_week(week, &mut errors);
        let holidays = input.holidays.into_iter().enumerate().map(|(i, h)| {
            let date = errors.take(&format!("holidays[{i}].date"), parse_date(&h.date));
            (i, date.map(|date| Holiday { date, name: h.name }))
        });
        let holidays = check_holidays(holidays.collect::<Vec<_>>(), &mut errors);
        errors.finish()?;
        match tz {
            Some((tz, name)) => Ok(Self::assemble(tz, name, week, holidays)),
            None => Err(DomainError::field("time_zone", "is required")),
        }
    }

    fn assemble(tz: TimeZone, tz_name: String, week: [Vec<Period>; 7], holidays: BTreeMap<Date, String>) -> Self {
        let always_open = holidays.is_empty() && week.iter().all(|day| day.as_slice() == [Period::all_day()]);
        Self { tz, tz_name, week, holidays, always_open }
    }

    /// The calendar as input texts again, for storing and for answering the API; `from_input`
    /// of the result gives an equal calendar.
    pub fn to_input(&self) -> CalendarInput {
        let hours = (0..7)
            .filter(|&i| !self.week[i].is_empty())
            .map(|i| DayInput {
                day: WEEKDAY_NAMES[i].into(),
                periods: self.week[i]
                    .iter()
                    .map(|p| PeriodInput { start: p.start_hhmm(), end: p.end_hhmm() })
                    .collect(),
            })
            .collect();
        let holidays =
            self.holidays.iter().map(|(d, name)| HolidayInput { date: d.to_string(), name: name.clone() }).collect();
        CalendarInput { time_zone: self.tz_name.clone(), hours, holidays }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The IANA name of the time zone (`UTC` for [`always`](Self::always)).
    pub fn time_zone_name(&self) -> &str {
        &self.tz_name
    }

    /// The open periods of a weekday, sorted.
    pub fn periods(&self, day: Weekday) -> &[Period] {
        &self.week[weekday_index(day)]
    }

    /// The holidays, by date.
    pub fn holidays(&self) -> impl Iterator<Item = Holiday> + '_ {
        self.holidays.iter().map(|(date, name)| Holiday { date: *date, name: name.clone() })
    }

    /// Whether `t` falls in an open period.
    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        let t = floor_second(t);
        let date = self.local_date(t);
        // `t` lies in the span of its local date or, in zones whose clocks fall back across
        // midnight, of the next one.
        let last = date.tomorrow().unwrap_or(date);
        self.intervals(date, Until::Date(last)).take_while(|&(s, _)| s <= t).any(|(_, e)| t < e)
    }

    /// The earliest instant at which `secs` business seconds have elapsed counting from `start`;
    /// it may be the exact end of an open period. `secs <= 0` gives `start`.
    /// `None` when the calendar has no open time for about five years (say, holidays cover them
    /// all), or the result is past the year 9999.
    pub fn add_seconds(&self, start: Timestamp, secs: i64) -> Option<Timestamp> {
        if secs <= 0 {
            return Some(start);
        }
        let from = floor_second(start);
        if self.always_open {
            return Timestamp::from_second(from.checked_add(secs)?).ok();
        }
        let mut left = secs;
        for (s, e) in self.intervals(self.local_date(from), Until::Idle(MAX_IDLE_DAYS)) {
            if e <= from {
                continue;
            }
            let s = s.max(from);
            if left <= e - s {
                return Timestamp::from_second(s + left).ok();
            }
            left -= e - s;
        }
        None
    }

    /// Business seconds in `[a, b)`; 0 when `b <= a`.
    pub fn seconds_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        let (a, b) = (floor_second(a), floor_second(b));
        if b <= a {
            return 0;
        }
        if self.always_open {
            return b - a;
        }
        let last = self.local_date(b);
        let last = last.tomorrow().unwrap_or(last);
        self.intervals(self.local_date(a), Until::Date(last))
            .take_while(|&(s, _)| s < b)
            .map(|(s, e)| (e.min(b) - s.max(a)).max(0))
            .sum()
    }

    fn local_date(&self, second: i64) -> Date {
        let t = Timestamp::from_second(second).unwrap_or(Timestamp::MAX);
        self.tz.to_datetime(t).date()
    }

    /// The open intervals from local date `from` on, in ascending order.
    fn intervals(&self, from: Date, until: Until) -> Intervals<'_> {
        Intervals { cal: self, next: Some(from), until, idle: 0, day: Vec::new(), pos: 0 }
    }

    /// Appends the open intervals of local `date` as Unix-second ranges, ascending and disjoint.
    /// Each is clipped to the span from the date's midnight to the next one, so consecutive
    /// dates never overlap even when a DST change makes two local times the same instant.
    /// `None` only at the ends of representable time.
    fn open_on(&self, date: Date, out: &mut Vec<(i64, i64)>) -> Option<()> {
        let periods = &self.week[weekday_index(date.weekday())];
        if periods.is_empty() || self.holidays.contains_key(&date) {
            return Some(());
        }
        let lo = self.instant(date, 0)?;
        let hi = self.instant(date.tomorrow().ok()?, 0)?;
        for p in periods {
            let s = if p.start == 0 { lo } else { self.instant(date, p.start)?.max(lo) };
            let e = if p.end == MINUTES_PER_DAY { hi } else { self.instant(date, p.end)?.min(hi) };
            // A period inside a DST gap can map to nothing (or even backwards): skip it.
            if s < e {
                out.push((s, e));
            }
        }
        merge_sorted(out);
        Some(())
    }

    /// Local `date` at `minute` after midnight as a Unix second, with the compatible
    /// disambiguation: a time in a gap moves later, a time in a fold takes the earlier instant.
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let dt = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        self.tz.to_ambiguous_timestamp(dt).compatible().ok().map(Timestamp::as_second)
    }
}

/// Where a walk over the calendar stops.
#[derive(Debug, Clone, Copy)]
enum Until {
    /// After this local date.
    Date(Date),
    /// After this many consecutive local dates without open time.
    Idle(u32),
}

/// The open intervals of successive local dates.
struct Intervals<'a> {
    cal: &'a BusinessCalendar,
    next: Option<Date>,
    until: Until,
    idle: u32,
    day: Vec<(i64, i64)>,
    pos: usize,
}

impl Iterator for Intervals<'_> {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        loop {
            if let Some(&interval) = self.day.get(self.pos) {
                self.pos += 1;
                return Some(interval);
            }
            let date = self.next.take()?;
            match self.until {
                Until::Date(last) if date > last => return None,
                Until::Idle(max) if self.idle >= max => return None,
                _ => {}
            }
            self.day.clear();
            self.pos = 0;
            self.cal.open_on(date, &mut self.day)?;
            self.idle = if self.day.is_empty() { self.idle + 1 } else { 0 };
            self.next = date.tomorrow().ok();
        }
    }
}

/// Sorts `intervals` and merges those that overlap or touch.
fn merge_sorted(intervals: &mut Vec<(i64, i64)>) {
    intervals.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
    for &(s, e) in intervals.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *intervals = merged;
}

/// The whole second an instant falls in (rounding down, also before 1970).
fn floor_second(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 { s - 1 } else { s }
}

fn weekday_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

fn iana_name(tz: &TimeZone) -> Result<String, String> {
    tz.iana_name().map(str::to_string).ok_or_else(|| "must be an IANA time zone such as Europe/Berlin".into())
}

fn parse_time_zone(name: &str) -> Result<(TimeZone, String), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("is required".into());
    }
    let tz = TimeZone::get(name)
        .map_err(|_| format!("unknown time zone {name:?}; use an IANA name such as Europe/Berlin"))?;
    let canonical = iana_name(&tz)?;
    Ok((tz, canonical))
}

/// A weekday index (Monday 0) from its English name or three-letter abbreviation.
fn parse_weekday(name: &str) -> Result<usize, String> {
    let name = name.trim().to_ascii_lowercase();
    WEEKDAY_NAMES
        .iter()
        .position(|d| *d == name || (name.len() == 3 && d.starts_with(&name)))
        .ok_or_else(|| format!("unknown weekday {name:?}; expected monday … sunday"))
}

/// Minutes after midnight from `H:MM` or `HH:MM`; `24:00` only when `is_end`.
fn parse_hhmm(s: &str, is_end: bool) -> Result<u16, String> {
    let bad = || format!("{s:?} is not a time of day; use HH:MM such as 09:30");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits = |t: &str, max_len: usize| !t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) if is_end => Ok(MINUTES_PER_DAY),
        (24, 0) => Err("24:00 can only end a period".into()),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

fn format_hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a date; use YYYY-MM-DD");
    // jiff also accepts other ISO 8601 spellings; the API promises exactly one.
    if s.len() != 10 {
        return Err(bad());
    }
    s.parse::<Date>().map_err(|_| bad())
}

/// Parses one weekday's periods, keeping each one's index for error fields.
fn parse_periods(field: &str, periods: &[PeriodInput], errors: &mut Errors) -> Vec<(usize, Period)> {
    let mut parsed = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        let start = errors.take(&format!("{field}[{i}].start"), parse_hhmm(&p.start, false));
        let end = errors.take(&format!("{field}[{i}].end"), parse_hhmm(&p.end, true));
        if let (Some(start), Some(end)) = (start, end)
            && let Some(p) = errors.take(&format!("{field}[{i}]"), Period::new(start, end))
        {
            parsed.push((i, p));
        }
    }
    parsed
}

/// One weekday's periods as given: each with its index, and the error field of the day.
struct GivenDay {
    field: String,
    periods: Vec<(usize, Period)>,
}

impl GivenDay {
    fn closed(index: usize) -> Self {
        Self { field: format!("hours.{}", WEEKDAY_NAMES[index]), periods: Vec::new() }
    }
}

/// Checks each day's periods (count, overlaps) and that some day is open; returns them sorted.
fn check_week(week: [GivenDay; 7], errors: &mut Errors) -> [Vec<Period>; 7] {
    let mut any_open = false;
    let week = week.map(|GivenDay { field, periods: mut day }| {
        if day.len() > MAX_PERIODS_PER_DAY {
            errors.add(&field, format!("at most {MAX_PERIODS_PER_DAY} periods a day"));
        }
        day.sort_by_key(|&(_, p)| p);
        for pair in day.windows(2) {
            let ((_, before), (i, after)) = (pair[0], pair[1]);
            if after.start < before.end {
                let msg = format!("overlaps {}–{}", before.start_hhmm(), before.end_hhmm());
                errors.add(format!("{field}[{i}]"), msg);
            }
        }
        any_open |= !day.is_empty();
        day.into_iter().map(|(_, p)| p).collect()
    });
    if !any_open && errors.is_empty() {
        errors.add("hours", "a calendar needs at least one open period");
    }
    week
}

/// Checks holiday names, count and distinct dates. A `None` holiday had a bad date (already
/// reported) and is only counted.
fn check_holidays(
    holidays: impl IntoIterator<Item = (usize, Option<Holiday>)>,
    errors: &mut Errors,
) -> BTreeMap<Date, String> {
    let mut by_date = BTreeMap::new();
    let mut count = 0;
    for (i, holiday) in holidays {
        count += 1;
        let Some(Holiday { date, name }) = holiday else { continue };
        let Some(name) = errors.take(&format!("holidays[{i}].name"), text::bounded(name.trim(), MAX_HOLIDAY_NAME))
        else {
            continue;
        };
        if by_date.insert(date, name).is_some() {
            errors.add(format!("holidays[{i}].date"), format!("{date} is given twice"));
        }
    }
    if count > MAX_HOLIDAYS {
        errors.add("holidays", format!("at most {MAX_HOLIDAYS} holidays"));
    }
    by_date
}

// ---------------------------------------------------------------------------------------------
// iCalendar import
// ---------------------------------------------------------------------------------------------

/// One all-day event may close at most this many dates: more is a broken file, not a holiday.
const MAX_EVENT_DAYS: i32 = 366;

/// The holidays of an iCalendar (RFC 5545) file: each `VEVENT`'s dates from `DTSTART` up to the
/// exclusive `DTEND` (or `DURATION` in days; one day when neither is given), named by its
/// `SUMMARY`. A date-time start counts as its own date. Recurrence rules are not expanded: a
/// recurring event gives its first occurrence. Sorted by date; a date given twice keeps the
/// first name.
pub fn holidays_from_ical(text: &str) -> Result<Vec<Holiday>, String> {
    let lines = unfold(text);
    if !lines.iter().any(|l| l.trim_end().eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Err("not an iCalendar file: BEGIN:VCALENDAR is missing".into());
    }
    let mut holidays = BTreeMap::new();
    // The components we are inside: properties count only directly inside a VEVENT, not in its
    // VALARM nor in a VTIMEZONE (which has DTSTARTs of its own).
    let mut stack: Vec<String> = Vec::new();
    let mut event = EventProps::default();
    let mut events = 0;
    for line in &lines {
        let Some((name, params, value)) = split_property(line) else { continue };
        match name.as_str() {
            "BEGIN" => {
                let component = value.trim().to_ascii_uppercase();
                if component == "VEVENT" {
                    event = EventProps::default();
                }
                stack.push(component);
            }
            "END" => {
                let ended = stack.pop();
                if ended.as_deref() == Some("VEVENT") {
                    events += 1;
                    for holiday in event_dates(&std::mem::take(&mut event), events)? {
                        holidays.entry(holiday.date).or_insert(holiday.name);
                    }
                }
            }
            _ if stack.last().map(String::as_str) == Some("VEVENT") => event.set(&name, &params, value),
            _ => {}
        }
    }
    Ok(holidays.into_iter().map(|(date, name)| Holiday { date, name }).collect())
}

/// The properties of a VEVENT that matter for holidays, as raw texts.
#[derive(Debug, Default)]
struct EventProps {
    dtstart: Option<String>,
    dtend: Option<String>,
    duration: Option<String>,
    summary: Option<String>,
}

impl EventProps {
    fn set(&mut self, name: &str, _params: &str, value: &str) {
        let slot = match name {
            "DTSTART" => &mut self.dtstart,
            "DTEND" => &mut self.dtend,
            "DURATION" => &mut self.duration,
            "SUMMARY" => &mut self.summary,
            _ => return,
        };
        *slot = Some(value.trim().to_string());
    }
}

/// The holidays one event closes. `n` numbers the event (from 1) for error messages.
fn event_dates(event: &EventProps, n: usize) -> Result<Vec<Holiday>, String> {
    let Some(start) = &event.dtstart else {
        return Err(format!("event {n} has no DTSTART"));
    };
    let (first, all_day) = ical_date(start).ok_or_else(|| format!("event {n}: malformed DTSTART {start:?}"))?;
    let days = match (&event.dtend, &event.duration) {
        // Only an all-day event closes whole dates up to its end; a timed one closes its start date.
        _ if !all_day => 1,
        (Some(end), _) => {
            let (end, _) = ical_date(end).ok_or_else(|| format!("event {n}: malformed DTEND {end:?}"))?;
            let span = first.until(end).map_err(|_| format!("event {n}: malformed DTEND"))?.get_days();
            span.max(1)
        }
        (None, Some(duration)) => {
            ical_duration_days(duration).ok_or_else(|| format!("event {n}: malformed DURATION {duration:?}"))?.max(1)
        }
        (None, None) => 1,
    };
    if days > MAX_EVENT_DAYS {
        return Err(format!("event {n} spans more than {MAX_EVENT_DAYS} days"));
    }
    let name: String =
        unescape_text(event.summary.as_deref().unwrap_or("")).trim().chars().take(MAX_HOLIDAY_NAME).collect();
    let mut out = Vec::new();
    let mut date = first;
    for _ in 0..days {
        out.push(Holiday { date, name: name.clone() });
        date = date.tomorrow().map_err(|_| format!("event {n}: dates out of range"))?;
    }
    Ok(out)
}

/// Joins RFC 5545 folded lines: a line break followed by a space or tab continues the line.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(line.to_string()),
        }
    }
    lines
}

/// `NAME;PARAMS:VALUE` → (upper-case name, params, value). The value starts at the first colon
/// outside a quoted parameter value (`TZID="a:b"`).
fn split_property(line: &str) -> Option<(String, String, &str)> {
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    Some((name.trim().to_ascii_uppercase(), params.to_string(), value))
}

/// The date of a `DATE` (`20261225`) or `DATE-TIME` (`20261225T090000Z`) value, and whether it
/// was a date only (an all-day event).
fn ical_date(value: &str) -> Option<(Date, bool)> {
    let value = value.trim();
    let (date, time) = match value.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(t) = time {
        let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
        if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let year: i16 = date[..4].parse().ok()?;
    let month: i8 = date[4..6].parse().ok()?;
    let day: i8 = date[6..].parse().ok()?;
    Some((Date::new(year, month, day).ok()?, time.is_none()))
}

/// Whole days of a `DURATION` such as `P1D`, `P2W` or `P1DT0H`; `None` for anything else.
fn ical_duration_days(value: &str) -> Option<i32> {
    let rest = value.trim().strip_prefix('+').unwrap_or(value.trim()).strip_prefix('P')?;
    let rest = rest.strip_suffix("T0H").unwrap_or(rest);
    let (number, unit) = rest.split_at(rest.len().checked_sub(1)?);
    let n: i32 = number.parse().ok()?;
    match unit {
        "D" => Some(n),
        "W" => n.checked_mul(7),
        _ => None,
    }
}

/// Undoes TEXT escaping: `\,` `\;` `\\` and `\n`/`\N` (a line break).
fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn p(start: &str, end: &str) -> Period {
        Period::parse(start, end).expect("period")
    }

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    /// Mon–Fri with the given periods in Europe/Berlin.
    fn berlin_weekdays(periods: &[Period], holidays: Vec<Holiday>) -> BusinessCalendar {
        let tz = TimeZone::get("Europe/Berlin").expect("tzdb has Europe/Berlin");
        let mut week: [Vec<Period>; 7] = Default::default();
        for day in week.iter_mut().take(5) {
            *day = periods.to_vec();
        }
        BusinessCalendar::new(tz, week, holidays).expect("valid calendar")
    }

    fn nine_to_five() -> BusinessCalendar {
        berlin_weekdays(&[p("09:00", "17:00")], vec![])
    }

    /// Every night 00:00–06:00 in Europe/Berlin: the DST changes fall inside.
    fn nights() -> BusinessCalendar {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        BusinessCalendar::new(tz, std::array::from_fn(|_| vec![p("00:00", "06:00")]), vec![]).expect("valid")
    }

    fn field_names(err: DomainError) -> Vec<String> {
        match err {
            DomainError::Validation(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn input(tz: &str, hours: &[(&str, &[(&str, &str)])], holidays: &[(&str, &str)]) -> CalendarInput {
        CalendarInput {
            time_zone: tz.into(),
            hours: hours
                .iter()
                .map(|(day, periods)| DayInput {
                    day: (*day).into(),
                    periods: periods
                        .iter()
                        .map(|(s, e)| PeriodInput { start: (*s).into(), end: (*e).into() })
                        .collect(),
                })
                .collect(),
            holidays: holidays.iter().map(|(d, n)| HolidayInput { date: (*d).into(), name: (*n).into() }).collect(),
        }
    }

    #[test]
    fn time_zones_load_from_the_database() {
        assert_eq!(TimeZone::get("Europe/Berlin").expect("tz").iana_name(), Some("Europe/Berlin"));
        assert_eq!(TimeZone::get("America/New_York").expect("tz").iana_name(), Some("America/New_York"));
    }

    #[test]
    fn friday_afternoon_plus_two_hours_is_monday_morning() {
        let cal = nine_to_five();
        // 2026-06-05 is a Friday; Berlin is UTC+2 in summer.
        let due = cal.add_seconds(ts("2026-06-05T14:00:00Z"), 2 * 3600);
        assert_eq!(due, Some(ts("2026-06-08T08:00:00Z")));
    }

    #[test]
    fn an_exact_fit_ends_at_closing_time() {
        let cal = nine_to_five();
        assert_eq!(cal.add_seconds(ts("2026-06-05T14:00:00Z"), 3600), Some(ts("2026-06-05T15:00:00Z")));
        assert!(!cal.is_open(ts("2026-06-05T15:00:00Z")));
        assert!(cal.is_open(ts("2026-06-05T14:59:59Z")));
    }

    #[test]
    fn a_lunch_break_is_skipped() {
        let cal = berlin_weekdays(&[p("09:00", "12:00"), p("13:00", "17:00")], vec![]);
        // Monday 2026-06-08 11:00 local + 2 h → 11:00–12:00, then 13:00–14:00.
        let due = cal.add_seconds(ts("2026-06-08T09:00:00Z"), 2 * 3600);
        assert_eq!(due, Some(ts("2026-06-08T12:00:00Z")));
        assert!(!cal.is_open(ts("2026-06-08T10:30:00Z")));
        assert_eq!(cal.seconds_between(ts("2026-06-08T07:00:00Z"), ts("2026-06-08T15:00:00Z")), 7 * 3600);
    }

    #[test]
    fn a_holiday_closes_the_whole_date() {
        let whit_monday = Holiday { date: date("2026-05-25"), name: "Whit Monday".into() };
        let cal = berlin_weekdays(&[p("09:00", "17:00")], vec![whit_monday]);
        // Friday 2026-05-22 16:00 local + 2 h → 1 h on Friday, Monday closed, Tuesday 10:00.
        assert_eq!(cal.add_seconds(ts("2026-05-22T14:00:00Z"), 2 * 3600), Some(ts("2026-05-26T08:00:00Z")));
        assert!(!cal.is_open(ts("2026-05-25T10:00:00Z")));
    }

    #[test]
    fn always_counts_every_second() {
        let cal = BusinessCalendar::always();
        let t = ts("2026-03-28T23:30:00Z");
        assert!(cal.is_open(t));
        assert_eq!(cal.add_seconds(t, 90_000), Some(ts("2026-03-30T00:30:00Z")));
        assert_eq!(cal.seconds_between(t, ts("2026-03-29T23:30:00Z")), 86_400);
        assert_eq!(cal.time_zone_name(), "UTC");
    }

    #[test]
    fn a_night_period_on_spring_forward_holds_five_real_hours() {
        // 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST. 00:00–06:00 local is 23:00Z–04:00Z.
        let cal = nights();
        let day = |s: &str| cal.seconds_between(ts(s), ts("2026-03-29T12:00:00Z"));
        assert_eq!(day("2026-03-28T12:00:00Z"), 5 * 3600);
        // Three business hours from 00:00 local land at 04:00 CEST, not 03:00.
        assert_eq!(cal.add_seconds(ts("2026-03-28T23:00:00Z"), 3 * 3600), Some(ts("2026-03-29T02:00:00Z")));
    }

    #[test]
    fn a_night_period_on_fall_back_holds_seven_real_hours() {
        // 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET. 00:00–06:00 local is 22:00Z–05:00Z.
        let cal = nights();
        assert_eq!(cal.seconds_between(ts("2026-10-24T12:00:00Z"), ts("2026-10-25T12:00:00Z")), 7 * 3600);
        assert_eq!(cal.add_seconds(ts("2026-10-24T22:00:00Z"), 4 * 3600), Some(ts("2026-10-25T02:00:00Z")));
        // 02:30 local happens twice; both are open.
        assert!(cal.is_open(ts("2026-10-25T00:30:00Z")));
        assert!(cal.is_open(ts("2026-10-25T01:30:00Z")));
    }

    #[test]
    fn periods_across_a_dst_change_count_real_time() {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let cal = BusinessCalendar::new(tz, std::array::from_fn(|_| vec![p("01:00", "04:00")]), vec![]).expect("ok");
        let between = |a: &str, b: &str| cal.seconds_between(ts(a), ts(b));
        assert_eq!(between("2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"), 2 * 3600);
        assert_eq!(between("2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z"), 4 * 3600);
        assert_eq!(between("2026-06-01T12:00:00Z", "2026-06-02T12:00:00Z"), 3 * 3600);
    }

    #[test]
    fn a_start_outside_hours_counts_from_the_next_opening() {
        let cal = nine_to_five();
        // Saturday 2026-06-06 → Monday 09:00 local (07:00Z) + 30 min.
        assert_eq!(cal.add_seconds(ts("2026-06-06T10:00:00Z"), 1800), Some(ts("2026-06-08T07:30:00Z")));
        assert_eq!(cal.add_seconds(ts("2026-06-06T10:00:00Z"), 0), Some(ts("2026-06-06T10:00:00Z")));
        assert_eq!(cal.add_seconds(ts("2026-06-06T10:00:00Z"), -5), Some(ts("2026-06-06T10:00:00Z")));
    }

    #[test]
    fn seconds_between_skips_the_weekend() {
        let cal = nine_to_five();
        // Friday 15:00 local → Monday 11:00 local: 2 h + 2 h.
        assert_eq!(cal.seconds_between(ts("2026-06-05T13:00:00Z"), ts("2026-06-08T09:00:00Z")), 4 * 3600);
        assert_eq!(cal.seconds_between(ts("2026-06-06T00:00:00Z"), ts("2026-06-07T23:00:00Z")), 0);
        assert_eq!(cal.seconds_between(ts("2026-06-08T09:00:00Z"), ts("2026-06-05T13:00:00Z")), 0);
    }

    #[test]
    fn sub_seconds_are_dropped() {
        let cal = nine_to_five();
        let start = ts("2026-06-08T08:00:00.750Z");
        assert_eq!(cal.add_seconds(start, 10), Some(ts("2026-06-08T08:00:10Z")));
        assert_eq!(cal.seconds_between(start, ts("2026-06-08T08:00:10.999Z")), 10);
    }

    #[test]
    fn a_year_of_business_time_is_reachable() {
        let cal = nine_to_five();
        let start = ts("2026-01-05T08:00:00Z");
        let due = cal.add_seconds(start, 525_600 * 60).expect("due");
        assert_eq!(cal.seconds_between(start, due), 525_600 * 60);
    }

    #[test]
    fn no_open_time_for_years_gives_none() {
        // Closed except Mondays, and every Monday for six years is a holiday.
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let mut week: [Vec<Period>; 7] = Default::default();
        week[0] = vec![p("09:00", "17:00")];
        let mut holidays = Vec::new();
        let mut d = date("2026-01-05");
        while d < date("2032-01-01") {
            holidays.push(Holiday { date: d, name: String::new() });
            d = d.checked_add(jiff::Span::new().days(7)).expect("date");
        }
        let cal = BusinessCalendar::new(tz, week, holidays).expect("ok");
        assert_eq!(cal.add_seconds(ts("2026-01-01T00:00:00Z"), 1), None);
        assert_eq!(cal.seconds_between(ts("2026-01-01T00:00:00Z"), ts("2031-12-31T00:00:00Z")), 0);
    }

    #[test]
    fn from_input_reads_and_round_trips() {
        let cal = BusinessCalendar::from_input(input(
            "europe/berlin",
            &[("Monday", &[("13:00", "17:00"), ("9:00", "12:00")]), ("sat", &[("10:00", "24:00")])],
            &[("2026-12-25", " Christmas Day ")],
        ))
        .expect("valid");
        assert_eq!(cal.time_zone_name(), "Europe/Berlin");
        assert_eq!(cal.periods(Weekday::Monday), [p("09:00", "12:00"), p("13:00", "17:00")]);
        assert_eq!(cal.periods(Weekday::Saturday), [p("10:00", "24:00")]);
        assert!(cal.periods(Weekday::Sunday).is_empty());
        let holidays: Vec<_> = cal.holidays().collect();
        assert_eq!(holidays, [Holiday { date: date("2026-12-25"), name: "Christmas Day".into() }]);

        let back = cal.to_input();
        assert_eq!(back.time_zone, "Europe/Berlin");
        assert_eq!(back.hours[0].day, "monday");
        assert_eq!(back.hours[0].periods[0], PeriodInput { start: "09:00".into(), end: "12:00".into() });
        assert_eq!(back.hours[1].periods[0].end, "24:00");
        assert_eq!(back.holidays[0].date, "2026-12-25");
        assert_eq!(BusinessCalendar::from_input(back).expect("valid"), cal);
    }

    #[test]
    fn from_input_names_each_bad_field() {
        let err = BusinessCalendar::from_input(input(
            "Mars/Olympus_Mons",
            &[
                ("funday", &[("09:00", "17:00")]),
                ("monday", &[("09:00", "12:00"), ("11:00", "13:00"), ("9am", "24:00"), ("10:00", "25:00")]),
                ("tuesday", &[("17:00", "09:00"), ("24:00", "24:00")]),
            ],
            &[("2026-12-25", "ok"), ("2026-02-30", "bad"), ("2026-12-25", "twice")],
        ))
        .expect_err("invalid");
        assert_eq!(
            field_names(err),
            [
                "time_zone",
                "hours.funday",
                "hours.monday[2].start",
                "hours.monday[3].end",
                "hours.tuesday[0]",
                "hours.tuesday[1].start",
                "hours.monday[1]",
                "holidays[1].date",
                "holidays[2].date",
            ]
        );
    }

    #[test]
    fn a_calendar_needs_an_open_period() {
        let err = BusinessCalendar::from_input(input("UTC", &[("sunday", &[])], &[])).expect_err("invalid");
        assert_eq!(field_names(err), ["hours"]);
        let err = BusinessCalendar::from_input(input("UTC", &[("monday", &[]), ("Monday", &[])], &[]));
        assert_eq!(field_names(err.expect_err("invalid")), ["hours.Monday"]);
        let overlap = input("UTC", &[("Fri", &[("09:00", "12:00"), ("11:00", "13:00")])], &[]);
        assert_eq!(field_names(BusinessCalendar::from_input(overlap).expect_err("invalid")), ["hours.Fri[1]"]);
    }

    #[test]
    fn hhmm_parsing() {
        assert_eq!(parse_hhmm("00:00", false), Ok(0));
        assert_eq!(parse_hhmm(" 7:05 ", false), Ok(425));
        assert_eq!(parse_hhmm("23:59", false), Ok(1439));
        assert_eq!(parse_hhmm("24:00", true), Ok(1440));
        for bad in ["24:00", "24:01", "12:60", "12", "12:5", "-1:00", "1:2:3", "", "ab:cd", "123:00"] {
            assert!(parse_hhmm(bad, false).is_err(), "{bad}");
        }
        assert!(parse_hhmm("24:30", true).is_err());
        assert_eq!(Period::new(600, 600), Err("must end after it starts".into()));
        assert_eq!(p("09:05", "24:00").end_hhmm(), "24:00");
        assert_eq!(p("09:05", "24:00").start_hhmm(), "09:05");
    }

    #[test]
    fn new_rejects_fixed_offsets_and_overlaps() {
        let fixed = TimeZone::fixed(jiff::tz::offset(2));
        let err = BusinessCalendar::new(fixed, std::array::from_fn(|_| vec![Period::all_day()]), vec![]);
        assert_eq!(field_names(err.expect_err("invalid")), ["time_zone"]);
        let mut week: [Vec<Period>; 7] = Default::default();
        week[2] = vec![p("10:00", "12:00"), p("09:00", "11:00")];
        let err = BusinessCalendar::new(TimeZone::UTC, week, vec![]);
        assert_eq!(field_names(err.expect_err("invalid")), ["hours.wednesday[0]"]);
    }

    #[test]
    fn touching_periods_are_allowed_and_join() {
        let cal = berlin_weekdays(&[p("09:00", "12:00"), p("12:00", "17:00")], vec![]);
        assert!(cal.is_open(ts("2026-06-08T10:00:00Z")));
        assert_eq!(cal.add_seconds(ts("2026-06-08T07:00:00Z"), 8 * 3600), Some(ts("2026-06-08T15:00:00Z")));
    }

    #[test]
    fn calendars_in_other_zones() {
        let tz = TimeZone::get("America/New_York").expect("tz");
        let mut week: [Vec<Period>; 7] = Default::default();
        week[0] = vec![p("09:00", "17:00")];
        let cal = BusinessCalendar::new(tz, week, vec![]).expect("ok");
        // Monday 2026-03-09, the day after the US spring-forward: EDT, UTC−4.
        assert_eq!(cal.add_seconds(ts("2026-03-06T00:00:00Z"), 60), Some(ts("2026-03-09T13:01:00Z")));
    }

    // --- iCalendar -------------------------------------------------------------------------

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Holidays//EN\r\n\
        BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
        END:STANDARD\r\nEND:VTIMEZONE\r\n\
        BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261227\r\n\
        SUMMARY:Christmas\\, Boxing Day\r\n  and more\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:2\r\nDTSTART;TZID=\"Europe/Berlin\":20261003T000000\r\n\
        DTEND;TZID=\"Europe/Berlin\":20261004T000000\r\nSUMMARY;LANGUAGE=de:Tag der Deutschen Einheit\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:not a holiday\r\nEND:VALARM\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTART:20260101T000000Z\r\nSUMMARY:New Year\\;s Day \\\\o/\\nday off\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261231\r\nDURATION:P1D\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    #[test]
    fn ical_events_become_holidays() {
        let holidays = holidays_from_ical(ICS).expect("parses");
        let got: Vec<(String, &str)> = holidays.iter().map(|h| (h.date.to_string(), h.name.as_str())).collect();
        assert_eq!(
            got,
            [
                ("2026-01-01".to_string(), "New Year;s Day \\o/\nday off"),
                ("2026-10-03".to_string(), "Tag der Deutschen Einheit"),
                ("2026-12-25".to_string(), "Christmas, Boxing Day and more"),
                ("2026-12-26".to_string(), "Christmas, Boxing Day and more"),
                ("2026-12-31".to_string(), ""),
            ]
        );
    }

    #[test]
    fn ical_with_plain_line_feeds_and_tab_folds() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026\n\t0501\nSUMMARY:Labour Day\nEND:VEVENT\nEND:VCALENDAR\n";
        let holidays = holidays_from_ical(text).expect("parses");
        assert_eq!(holidays, [Holiday { date: date("2026-05-01"), name: "Labour Day".into() }]);
    }

    #[test]
    fn ical_garbage_is_refused() {
        assert!(holidays_from_ical("").expect_err("empty").contains("VCALENDAR"));
        assert!(holidays_from_ical("hello world\nthis is not a calendar").is_err());
        let bad_date = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-12-25\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(holidays_from_ical(bad_date).expect_err("bad").contains("malformed DTSTART"));
        let no_start = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(holidays_from_ical(no_start).expect_err("bad").contains("no DTSTART"));
        let feb30 = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260230\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(holidays_from_ical(feb30).is_err());
        let huge = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\nDTEND:30000101\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(holidays_from_ical(huge).expect_err("bad").contains("spans"));
        assert_eq!(holidays_from_ical("BEGIN:VCALENDAR\nEND:VCALENDAR"), Ok(vec![]));
    }

    #[test]
    fn ical_small_parts() {
        assert_eq!(ical_duration_days("P3D"), Some(3));
        assert_eq!(ical_duration_days("P1W"), Some(7));
        assert_eq!(ical_duration_days("P1DT0H"), Some(1));
        assert_eq!(ical_duration_days("PT1H"), None);
        assert_eq!(ical_duration_days(""), None);
        assert_eq!(unescape_text(r"a\,b\;c\\d\Ne\"), "a,b;c\\d\ne\\");
        assert_eq!(
            split_property("DTSTART;TZID=\"x:y\":20260101T000000").map(|(n, _, v)| (n, v.to_string())),
            Some(("DTSTART".to_string(), "20260101T000000".to_string()))
        );
    }

    // --- properties --------------------------------------------------------------------------

    const ZONES: [&str; 6] =
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC"];

    /// A day's periods: up to three, from sorted distinct minute marks (multiples of 15 so some
    /// land exactly on DST changes).
    fn day_strategy() -> impl Strategy<Value = Vec<Period>> {
        proptest::collection::btree_set(0u16..=96, 0..=6).prop_map(|marks| {
            let marks: Vec<u16> = marks.into_iter().map(|m| m * 15).collect();
            marks.chunks_exact(2).filter_map(|pair| Period::new(pair[0], pair[1]).ok()).collect()
        })
    }

    fn calendar_strategy() -> impl Strategy<Value = BusinessCalendar> {
        let week = proptest::array::uniform7(day_strategy());
        let holidays = proptest::collection::vec(0i32..(6 * 365), 0..20);
        (0..ZONES.len(), week, holidays).prop_filter_map("needs an open period", |(zone, week, holidays)| {
            let tz = TimeZone::get(ZONES[zone]).ok()?;
            let base = date("2024-01-01");
            let holidays = holidays
                .into_iter()
                .filter_map(|d| base.checked_add(jiff::Span::new().days(d)).ok())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|date| Holiday { date, name: "h".into() })
                .collect();
            BusinessCalendar::new(tz, week, holidays).ok()
        })
    }

    /// Whole-second instants from 2024 to 2029.
    fn instant_strategy() -> impl Strategy<Value = Timestamp> {
        (1_704_067_200i64..1_893_456_000).prop_map(|s| Timestamp::from_second(s).expect("in range"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn adding_then_measuring_gives_the_seconds_back(
            cal in calendar_strategy(), start in instant_strategy(), n in 0i64..(400 * 3600),
        ) {
            let end = cal.add_seconds(start, n).expect("open time exists");
            prop_assert!(end >= start);
            prop_assert_eq!(cal.seconds_between(start, end), n);
        }

        #[test]
        fn adding_is_monotonic(
            cal in calendar_strategy(), start in instant_strategy(), n in 0i64..(200 * 3600), k in 0i64..(50 * 3600),
        ) {
            let a = cal.add_seconds(start, n).expect("due");
            let b = cal.add_seconds(start, n + k).expect("due");
            prop_assert!(a <= b);
        }

        #[test]
        fn measuring_is_additive(
            cal in calendar_strategy(), a in instant_strategy(), d1 in 0i64..(40 * 86_400), d2 in 0i64..(40 * 86_400),
        ) {
            let b = a + jiff::SignedDuration::from_secs(d1);
            let c = b + jiff::SignedDuration::from_secs(d2);
            prop_assert_eq!(cal.seconds_between(a, b) + cal.seconds_between(b, c), cal.seconds_between(a, c));
            prop_assert!(cal.seconds_between(a, c) <= d1 + d2);
        }

        #[test]
        fn a_due_time_ends_open_time(
            cal in calendar_strategy(), start in instant_strategy(), n in 1i64..(200 * 3600),
        ) {
            let end = cal.add_seconds(start, n).expect("due");
            let just_before = end - jiff::SignedDuration::from_secs(1);
            prop_assert!(cal.is_open(just_before), "{} is closed", just_before);
        }

        #[test]
        fn is_open_agrees_with_measuring(cal in calendar_strategy(), t in instant_strategy()) {
            let next = t + jiff::SignedDuration::from_secs(1);
            prop_assert_eq!(cal.is_open(t), cal.seconds_between(t, next) == 1);
        }
    }
}
