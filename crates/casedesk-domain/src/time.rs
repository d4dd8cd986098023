//! Time tracking: durations as people write them (`90m`, `1.5h`, `1d`), time types, time
//! entries, per-agent timers, and the timeline events they leave on a case.
//!
//! Entries keep their duration in seconds (a timer measures seconds); the API also shows whole
//! minutes. A timer is a row, never process memory: `running_since` (set while running) plus the
//! time `accumulated` in earlier runs, so it survives reloads, logouts and restarts.

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::json;

use crate::error::{DomainError, Errors};
use crate::text;
use crate::timeline::NewEvent;

/// The working day an organization starts with: 8 hours.
pub const DEFAULT_WORKING_DAY_MINUTES: i64 = 480;
/// The longest single entry: 31 days around the clock.
pub const MAX_ENTRY_MINUTES: i64 = 31 * 24 * 60;
/// The largest estimate of one case: 10,000 hours.
pub const MAX_ESTIMATE_MINUTES: i64 = 600_000;
/// Longest note on an entry.
pub const MAX_NOTE: usize = 2000;

/// 409 code: the case's queue has time tracking switched off.
pub const TIME_TRACKING_DISABLED: &str = "time_tracking_disabled";
/// 409 code: the caller has no timer on this case (pause, stop).
pub const NO_TIMER: &str = "no_timer";

pub const TIMER_STARTED: &str = "timer.started";
pub const TIMER_PAUSED: &str = "timer.paused";
pub const TIMER_STOPPED: &str = "timer.stopped";
pub const ENTRY_CREATED: &str = "time_entry.created";
pub const ENTRY_UPDATED: &str = "time_entry.updated";
pub const ENTRY_DELETED: &str = "time_entry.deleted";
pub const ESTIMATE_CHANGED: &str = "time_estimate.changed";

/// Checks an organization's working day length (minutes): 1 minute to 24 hours.
pub fn validate_working_day(minutes: i64) -> Result<i64, String> {
    if (1..=1440).contains(&minutes) { Ok(minutes) } else { Err("must be 1 to 1440 minutes".into()) }
}

/// Parses a duration into whole minutes (rounded to the nearest minute).
///
/// Accepts a plain number of minutes (`90`), a number with a unit — `m`/`min`/`minutes`,
/// `h`/`hr`/`hours`, `d`/`day`/`days` — (`90m`, `1.5h`, `1d`), or several such parts
/// (`1h 30m`). Days count `working_day_minutes` each. Refuses zero, negative and over-long
/// durations.
pub fn parse_duration(input: &str, working_day_minutes: i64) -> Result<i64, String> {
    const HELP: &str = "expected minutes (90), or a number with a unit: 90m, 1.5h, 1d";
    let s = input.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(format!("is empty; {HELP}"));
    }
    let mut total = 0.0_f64;
    let mut rest = s.as_str();
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("{input:?} is not a duration; {HELP}"));
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| format!("{input:?} is not a duration; {HELP}"))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "" | "m" | "min" | "mins" | "minute" | "minutes" => 1.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 60.0,
            "d" | "day" | "days" => working_day_minutes as f64,
            other => return Err(format!("unknown unit {other:?}; {HELP}")),
        };
        rest = rest[unit_len..].trim_start();
        total += number * factor;
    }
    let minutes = total.round();
    if minutes < 1.0 {
        return Err("must be at least one minute".into());
    }
    if minutes > MAX_ENTRY_MINUTES as f64 {
        return Err(format!("must be at most {MAX_ENTRY_MINUTES} minutes (31 days)"));
    }
    Ok(minutes as i64)
}

/// Whole minutes of a number of seconds, rounded half up.
pub const fn minutes_of(secs: i64) -> i64 {
    (secs + 30).div_euclid(60)
}

// ---- time types ----------------------------------------------------------------------------

/// A kind of work an organization tracks (investigation, travel, call …).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeType {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// Entries of this type are billable unless they say otherwise.
    pub billable: bool,
    /// Inactive types stay on old entries but take no new ones.
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct TimeTypeInput {
    pub name: Option<String>,
    pub billable: Option<bool>,
    pub active: Option<bool>,
}

impl TimeType {
    pub fn blank(id: String, org_id: String, now: Timestamp) -> TimeType {
        TimeType { id, org_id, name: String::new(), billable: true, active: true, created_at: now, updated_at: now }
    }

    pub fn apply(mut self, input: TimeTypeInput, creating: bool) -> Result<TimeType, DomainError> {
        let mut errors = Errors::new();
        match input.name {
            Some(n) => {
                if let Some(n) = errors.take("name", text::required_line(&n, 100)) {
                    self.name = n;
                }
            }
            None if creating => errors.add("name", "is required"),
            None => {}
        }
        if let Some(b) = input.billable {
            self.billable = b;
        }
        if let Some(a) = input.active {
            self.active = a;
        }
        errors.finish()?;
        Ok(self)
    }
}

// ---- entries -------------------------------------------------------------------------------

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Manual,
    Timer,
}

impl Source {
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Timer => "timer",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "manual" => Ok(Source::Manual),
            "timer" => Ok(Source::Timer),
            _ => Err(format!("unknown source {s:?}")),
        }
    }
}

/// Time an agent spent on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeEntry {
    pub id: String,
    pub org_id: String,
    pub case_id: String,
    /// Whose time it is.
    pub user_id: String,
    /// The day the work was done (in the organization's time zone).
    pub work_date: Date,
    pub duration_secs: i64,
    pub time_type_id: Option<String>,
    pub billable: bool,
    pub note: String,
    pub source: Source,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Entry fields as given, already parsed where the parsing needs no context; `None` leaves a
/// field alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct EntryInput {
    /// As written by the client (`"90m"`, `"1.5h"`, `"1d"`, `"45"`).
    pub duration: Option<String>,
    pub work_date: Option<String>,
    pub time_type_id: Option<Option<String>>,
    pub billable: Option<bool>,
    pub note: Option<String>,
}

/// What an entry needs from its surroundings to validate.
pub struct EntryCtx<'a> {
    pub working_day_minutes: i64,
    /// Today in the organization's time zone: work cannot be dated later.
    pub today: Date,
    /// The time type named by the input, if it named one (`None` in it: no such type).
    pub time_type: Option<Option<&'a TimeType>>,
}

impl TimeEntry {
    /// Applies `input`, validating every field. A new entry needs a duration; a new entry with
    /// a time type and no `billable` takes the type's default.
    pub fn apply(mut self, input: EntryInput, ctx: &EntryCtx<'_>, creating: bool) -> Result<TimeEntry, DomainError> {
        let mut errors = Errors::new();
        match input.duration {
            Some(d) => {
                if let Some(m) = errors.take("duration", parse_duration(&d, ctx.working_day_minutes)) {
                    self.duration_secs = m * 60;
                }
            }
            None if creating => errors.add("duration", "is required"),
            None => {}
        }
        if let Some(d) = input.work_date {
            match d.trim().parse::<Date>() {
                Ok(date) if date > ctx.today => errors.add("date", "cannot be in the future"),
                Ok(date) => self.work_date = date,
                Err(_) => errors.add("date", "must be a date (2026-03-01)"),
            }
        }
        if let Some(t) = input.time_type_id {
            match (&t, ctx.time_type) {
                (None, _) => self.time_type_id = None,
                (Some(_), Some(Some(tt))) if !tt.active => errors.add("time_type_id", "this time type is inactive"),
                (Some(_), Some(Some(tt))) => {
                    if creating && input.billable.is_none() {
                        self.billable = tt.billable;
                    }
                    self.time_type_id = Some(tt.id.clone());
                }
                (Some(id), _) => errors.add("time_type_id", format!("no such time type: {id}")),
            }
        }
        if let Some(b) = input.billable {
            self.billable = b;
        }
        if let Some(n) = input.note
            && let Some(n) = errors.take("note", text::bounded(&n, MAX_NOTE))
        {
            self.note = n;
        }
        errors.finish()?;
        Ok(self)
    }

    fn event_data(&self) -> serde_json::Value {
        json!({
            "time_entry_id": self.id,
            "user_id": self.user_id,
            "duration_seconds": self.duration_secs,
            "duration_minutes": minutes_of(self.duration_secs),
            "date": self.work_date.to_string(),
            "time_type_id": self.time_type_id,
            "billable": self.billable,
            "source": self.source.as_str(),
        })
    }

    pub fn created_event(&self, at: Timestamp) -> NewEvent {
        NewEvent { kind: ENTRY_CREATED, data: self.event_data(), created_at: at }
    }

    /// Records the new values and the old duration.
    pub fn updated_event(&self, old: &TimeEntry, at: Timestamp) -> NewEvent {
        let mut data = self.event_data();
        data["old_duration_seconds"] = json!(old.duration_secs);
        NewEvent { kind: ENTRY_UPDATED, data, created_at: at }
    }

    pub fn deleted_event(&self, at: Timestamp) -> NewEvent {
        NewEvent { kind: ENTRY_DELETED, data: self.event_data(), created_at: at }
    }
}

/// Whether `actor_id` (an admin when `is_admin`) may change or delete `entry`: their own
/// entries, or any as an admin.
pub fn may_edit(entry: &TimeEntry, actor_id: &str, is_admin: bool) -> bool {
    is_admin || entry.user_id == actor_id
}

// ---- timers --------------------------------------------------------------------------------

/// An agent's timer on a case: running (since `running_since`) or paused.
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub case_id: String,
    pub running_since: Option<Timestamp>,
    /// Microseconds of earlier runs.
    pub accumulated_us: i64,
    /// Increases with every change; writes are made at the version read.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a timer stopped, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The agent stopped it.
    Stopped,
    /// The agent started a timer on another case.
    OtherTimerStarted { case_id: String },
}

impl Timer {
    pub fn new(id: String, org_id: &str, user_id: &str, case_id: &str, now: Timestamp) -> Timer {
        Timer {
            id,
            org_id: org_id.into(),
            user_id: user_id.into(),
            case_id: case_id.into(),
            running_since: None,
            accumulated_us: 0,
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// Microseconds counted so far, including the current run.
    pub fn elapsed_us(&self, now: Timestamp) -> i64 {
        let current = self.running_since.map_or(0, |s| (now.as_microsecond() - s.as_microsecond()).max(0));
        self.accumulated_us + current
    }

    /// Whole seconds counted so far.
    pub fn elapsed_secs(&self, now: Timestamp) -> i64 {
        self.elapsed_us(now) / 1_000_000
    }

    /// The timer running from `now` (unchanged if it already runs).
    pub fn started(&self, now: Timestamp) -> Timer {
        if self.is_running() {
            return self.clone();
        }
        Timer { running_since: Some(now), version: self.version + 1, updated_at: now, ..self.clone() }
    }

    /// The timer paused at `now`, keeping what it counted (unchanged if already paused).
    pub fn paused(&self, now: Timestamp) -> Timer {
        if !self.is_running() {
            return self.clone();
        }
        Timer {
            accumulated_us: self.elapsed_us(now),
            running_since: None,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    pub fn started_event(&self, resumed: bool, at: Timestamp) -> NewEvent {
        NewEvent {
            kind: TIMER_STARTED,
            data: json!({ "user_id": self.user_id, "resumed": resumed, "elapsed_seconds": self.elapsed_secs(at) }),
            created_at: at,
        }
    }

    pub fn paused_event(&self, at: Timestamp) -> NewEvent {
        NewEvent {
            kind: TIMER_PAUSED,
            data: json!({ "user_id": self.user_id, "elapsed_seconds": self.elapsed_secs(at) }),
            created_at: at,
        }
    }

    pub fn stopped_event(&self, reason: &StopReason, entry_id: Option<&str>, at: Timestamp) -> NewEvent {
        let (why, other) = match reason {
            StopReason::Stopped => ("stopped", None),
            StopReason::OtherTimerStarted { case_id } => ("another_timer_started", Some(case_id.as_str())),
        };
        NewEvent {
            kind: TIMER_STOPPED,
            data: json!({
                "user_id": self.user_id,
                "elapsed_seconds": self.elapsed_secs(at),
                "reason": why,
                "started_on_case_id": other,
                "time_entry_id": entry_id,
            }),
            created_at: at,
        }
    }
}

/// The timeline event of a changed estimate.
pub fn estimate_event(old: Option<i64>, new: Option<i64>, at: Timestamp) -> NewEvent {
    NewEvent {
        kind: ESTIMATE_CHANGED,
        data: json!({ "field": "time_estimate_minutes", "old": old, "new": new }),
        created_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY_8H: i64 = 480;
    const DAY_7_5H: i64 = 450;

    #[test]
    fn durations_in_each_unit() {
        let table = [
            ("90m", 90),
            ("90", 90),
            (" 45 ", 45),
            ("1.5h", 90),
            ("2h", 120),
            ("1h 30m", 90),
            ("1h30m", 90),
            ("1d", DAY_8H),
            ("0.5d", 240),
            ("2 days", 960),
            ("3 hours", 180),
            ("10 min", 10),
            ("1.25H", 75),
        ];
        for (input, minutes) in table {
            assert_eq!(parse_duration(input, DAY_8H), Ok(minutes), "{input}");
        }
    }

    #[test]
    fn days_follow_the_organizations_working_day() {
        assert_eq!(parse_duration("1d", DAY_7_5H), Ok(450));
        assert_eq!(parse_duration("2d", DAY_7_5H), Ok(900));
        assert_eq!(parse_duration("1d 1h", DAY_7_5H), Ok(510));
        assert_eq!(parse_duration("0.5d", DAY_7_5H), Ok(225));
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in ["", "  ", "abc", "h", "1x", "1.2.3h", "-5m", "0", "0m", "0.4m", "1h foo", "32d 0h 100000m", "1e3"] {
            assert!(parse_duration(bad, DAY_8H).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_duration("45000m", DAY_8H).is_err(), "over 31 days");
        assert_eq!(parse_duration("44640m", DAY_8H), Ok(44640));
    }

    #[test]
    fn minutes_round_half_up() {
        assert_eq!((minutes_of(0), minutes_of(29), minutes_of(30), minutes_of(90), minutes_of(5400)), (0, 0, 1, 2, 90));
    }

    #[test]
    fn working_day_and_estimate_bounds() {
        assert!(validate_working_day(0).is_err() && validate_working_day(1441).is_err());
        assert_eq!(validate_working_day(450), Ok(450));
    }

    fn entry() -> TimeEntry {
        TimeEntry {
            id: "te_1".into(),
            org_id: "org_1".into(),
            case_id: "case_1".into(),
            user_id: "usr_1".into(),
            work_date: jiff::civil::date(2026, 3, 2),
            duration_secs: 0,
            time_type_id: None,
            billable: true,
            note: String::new(),
            source: Source::Manual,
            created_by: "usr_1".into(),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn entries_validate_every_field_and_take_the_types_billable_default() {
        let travel = TimeType {
            name: "Travel".into(),
            billable: false,
            ..TimeType::blank("tt_1".into(), "org_1".into(), Timestamp::UNIX_EPOCH)
        };
        let ctx = EntryCtx {
            working_day_minutes: DAY_7_5H,
            today: jiff::civil::date(2026, 3, 5),
            time_type: Some(Some(&travel)),
        };
        let input = EntryInput {
            duration: Some("1d".into()),
            work_date: Some("2026-03-04".into()),
            time_type_id: Some(Some("tt_1".into())),
            note: Some("drove to site".into()),
            ..Default::default()
        };
        let e = entry().apply(input, &ctx, true).expect("valid");
        assert_eq!((e.duration_secs, e.billable, e.time_type_id.as_deref()), (450 * 60, false, Some("tt_1")));
        assert_eq!(e.work_date, jiff::civil::date(2026, 3, 4));

        let missing = EntryCtx { time_type: Some(None), ..ctx };
        let bad = EntryInput {
            duration: Some("soon".into()),
            work_date: Some("2026-03-06".into()),
            time_type_id: Some(Some("tt_x".into())),
            note: Some("x".repeat(MAX_NOTE + 1)),
            ..Default::default()
        };
        let DomainError::Validation(f) = entry().apply(bad, &missing, true).expect_err("bad") else { panic!() };
        let fields: Vec<&str> = f.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["duration", "date", "time_type_id", "note"]);
        let none = EntryCtx { time_type: None, ..missing };
        assert!(entry().apply(EntryInput::default(), &none, true).is_err(), "a new entry needs a duration");
        assert!(entry().apply(EntryInput::default(), &none, false).is_ok(), "a change may leave it alone");
    }

    #[test]
    fn only_the_owner_or_an_admin_edits_an_entry() {
        let e = entry();
        assert!(may_edit(&e, "usr_1", false));
        assert!(!may_edit(&e, "usr_2", false));
        assert!(may_edit(&e, "usr_2", true));
    }

    #[test]
    fn timers_accumulate_over_runs() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let at = |s: i64| Timestamp::from_second(1_000 + s).unwrap();
        let t = Timer::new("tmr_1".into(), "org_1", "usr_1", "case_1", t0).started(t0);
        assert!(t.is_running());
        assert_eq!(t.elapsed_secs(at(600)), 600);
        let p = t.paused(at(600));
        assert!(!p.is_running());
        assert_eq!(p.elapsed_secs(at(5000)), 600, "a paused timer does not count");
        assert_eq!(p.paused(at(700)), p, "pausing twice changes nothing");
        let r = p.started(at(1000));
        assert_eq!(r.started(at(1100)), r, "starting a running timer changes nothing");
        assert_eq!(r.elapsed_secs(at(1300)), 900);
        assert_eq!(r.version, 3);
    }

    proptest! {
        #[test]
        fn whole_minutes_parse_to_themselves(m in 1i64..=MAX_ENTRY_MINUTES) {
            prop_assert_eq!(parse_duration(&m.to_string(), DAY_8H), Ok(m));
            prop_assert_eq!(parse_duration(&format!("{m}m"), DAY_8H), Ok(m));
        }

        #[test]
        fn parsing_never_panics(s in ".{0,40}") {
            if let Ok(m) = parse_duration(&s, DAY_7_5H) {
                prop_assert!((1..=MAX_ENTRY_MINUTES).contains(&m));
            }
        }
    }
}
