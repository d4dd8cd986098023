//! SLA policies and the clocks that track their targets.
//!
//! A [`Policy`] gives each priority up to three targets in business minutes (first response,
//! next response, resolution), the statuses that pause the clocks, and when to warn. A case has
//! one [`Clock`] per running or finished target; the clock counts business seconds with a
//! [`BusinessCalendar`] and keeps its derived deadlines (`due_at`, `warn_at`) up to date, so the
//! store can index them and the background sweep ([`Clock::check`]) only has to compare instants.
//!
//! Deadlines are instants: a target is met on time when it is met at or before `due_at`, and
//! breached at `due_at` once that instant has passed.
//!
//! Layout:
//! - [`TargetKind`], [`Rule`], [`Policy`] and their input types: what the organization promises.
//! - [`Clock`], [`ClockState`], [`Alarm`]: one target's progress on one case.

use jiff::Timestamp;

use crate::calendar::BusinessCalendar;
use crate::case::{Priority, Status};
use crate::error::{DomainError, Errors};

/// Longest target: a year, in minutes.
pub const MAX_TARGET_MINUTES: i64 = 525_600;
/// When a clock warns, in percent of its budget, unless the policy says otherwise.
pub const DEFAULT_WARN_PERCENT: u8 = 80;
/// The statuses that pause clocks unless the policy says otherwise: the case waits for someone
/// other than the agent.
pub const DEFAULT_PAUSE_STATUSES: [Status; 2] = [Status::Pending, Status::OnHold];

/// What an SLA target measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// Until the first customer-facing reply from an agent.
    FirstResponse,
    /// From a customer message that waits for an answer until the next agent reply.
    NextResponse,
    /// Until the case is resolved.
    Resolution,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [TargetKind::FirstResponse, TargetKind::NextResponse, TargetKind::Resolution];

    /// The canonical spelling, as stored and as the API answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetKind::FirstResponse => "first_response",
            TargetKind::NextResponse => "next_response",
            TargetKind::Resolution => "resolution",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        TargetKind::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| format!("unknown SLA target {s:?}; expected first_response, next_response or resolution"))
    }
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The targets for one priority, in business minutes; `None` means no target of that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub priority: Priority,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

impl Rule {
    pub fn minutes(&self, kind: TargetKind) -> Option<i64> {
        match kind {
            TargetKind::FirstResponse => self.first_response_minutes,
            TargetKind::NextResponse => self.next_response_minutes,
            TargetKind::Resolution => self.resolution_minutes,
        }
    }
}

/// A validated SLA policy. Its business calendar is kept beside it (a policy without one counts
/// around the clock: [`BusinessCalendar::always`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// At most one per priority; a priority without a rule has no targets.
    pub rules: Vec<Rule>,
    /// Statuses in which every running clock of a case pauses.
    pub pause_statuses: Vec<Status>,
    /// A clock warns when this share of its budget is used, 1 to 99.
    pub warn_percent: u8,
}

/// A rule as an API client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleInput {
    pub priority: String,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

/// A policy as an API client sends it; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInput {
    pub rules: Vec<RuleInput>,
    pub pause_statuses: Option<Vec<String>>,
    pub warn_percent: Option<i64>,
}

impl Policy {
    /// Checks a policy, reporting every bad field (`rules[2].priority`, `pause_statuses[0]`).
    pub fn validate(input: PolicyInput) -> Result<Policy, DomainError> {
        let mut errors = Errors::new();
        if input.rules.is_empty() {
            errors.add("rules", "a policy needs at least one rule");
        }
        let rules = validate_rules(&input.rules, &mut errors);
        let pause_statuses = match &input.pause_statuses {
            Some(names) => validate_pause_statuses(names, &mut errors),
            None => DEFAULT_PAUSE_STATUSES.to_vec(),
        };
        let warn_percent = match input.warn_percent {
            None => Some(DEFAULT_WARN_PERCENT),
            Some(p) => errors.take("warn_percent", parse_warn_percent(p)),
        };
        errors.finish()?;
        Ok(Policy { rules, pause_statuses, warn_percent: warn_percent.unwrap_or(DEFAULT_WARN_PERCENT) })
    }

    /// The response targets an organization without a policy can turn on (seed 004): first
    /// response within 1 hour for critical, 4 for high, 24 for medium and 48 for low; no
    /// resolution target; counted around the clock.
    pub fn seed_defaults() -> Policy {
        let rule = |priority, minutes| Rule {
            priority,
            first_response_minutes: Some(minutes),
            next_response_minutes: None,
            resolution_minutes: None,
        };
        Policy {
            rules: vec![
                rule(Priority::Critical, 60),
                rule(Priority::High, 240),
                rule(Priority::Medium, 1440),
                rule(Priority::Low, 2880),
            ],
            pause_statuses: DEFAULT_PAUSE_STATUSES.to_vec(),
            warn_percent: DEFAULT_WARN_PERCENT,
        }
    }

    pub fn rule(&self, priority: Priority) -> Option<&Rule> {
        self.rules.iter().find(|r| r.priority == priority)
    }

    /// The business seconds a target of `kind` allows a case of `priority`, if it has one.
    pub fn budget(&self, priority: Priority, kind: TargetKind) -> Option<i64> {
        self.rule(priority)?.minutes(kind).map(|m| m * 60)
    }

    /// Whether a case in `status` has its clocks paused.
    pub fn pauses(&self, status: Status) -> bool {
        self.pause_statuses.contains(&status)
    }

    /// A clock for `kind` running from `at`, if the policy has that target for `priority`.
    pub fn start_clock(
        &self,
        priority: Priority,
        kind: TargetKind,
        at: Timestamp,
        cal: &BusinessCalendar,
    ) -> Option<Clock> {
        Some(Clock::start(kind, self.budget(priority, kind)?, at, cal, self.warn_percent))
    }
}

fn parse_warn_percent(p: i64) -> Result<u8, String> {
    u8::try_from(p).ok().filter(|p| (1..=99).contains(p)).ok_or_else(|| format!("must be 1 to 99 (got {p})"))
}

fn validate_rules(inputs: &[RuleInput], errors: &mut Errors) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let field = format!("rules[{i}]");
        let priority = errors.take(&format!("{field}.priority"), Priority::parse(&input.priority));
        if let Some(p) = priority
            && rules.iter().any(|r| r.priority == p)
        {
            errors.add(format!("{field}.priority"), format!("there is already a rule for {p}"));
        }
        let mut minutes = |name: &str, value: Option<i64>| match value {
            Some(m) if !(1..=MAX_TARGET_MINUTES).contains(&m) => {
                errors.add(format!("{field}.{name}"), format!("must be 1 to {MAX_TARGET_MINUTES} minutes (a year)"));
                None
            }
            other => other,
        };
        let first = minutes("first_response_minutes", input.first_response_minutes);
        let next = minutes("next_response_minutes", input.next_response_minutes);
        let resolution = minutes("resolution_minutes", input.resolution_minutes);
        let given = [input.first_response_minutes, input.next_response_minutes, input.resolution_minutes];
        if given.iter().all(Option::is_none) {
            errors.add(&field, "a rule needs at least one target");
        }
        if let Some(priority) = priority {
            rules.push(Rule {
                priority,
                first_response_minutes: first,
                next_response_minutes: next,
                resolution_minutes: resolution,
            });
        }
    }
    rules
}

fn validate_pause_statuses(names: &[String], errors: &mut Errors) -> Vec<Status> {
    let mut statuses = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let field = format!("pause_statuses[{i}]");
        let Some(status) = errors.take(&field, Status::parse(name)) else { continue };
        if !status.is_active() {
            errors.add(&field, "a resolved or closed case has no running clocks; use new, open, pending or on_hold");
        } else if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    statuses
}

/// What a clock shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockState {
    /// Counting business time toward its due time.
    Running,
    /// Stopped for now (the case waits for someone else); resumes later.
    Paused,
    /// Met on time.
    Met,
    /// The due time passed before the target was met (whether it is still running, paused or
    /// met late).
    Breached,
}

impl ClockState {
    pub const fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        }
    }
}

/// What the sweep (or closing a segment) found: the case's timeline records it and rules may
/// act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alarm {
    /// `warn_percent` of the budget is used.
    Warning,
    /// The due time has passed.
    Breached,
}

impl Alarm {
    pub const fn as_str(self) -> &'static str {
        match self {
            Alarm::Warning => "warning",
            Alarm::Breached => "breached",
        }
    }
}

/// One SLA target's clock on one case. Business time is counted with a [`BusinessCalendar`].
///
/// The stored fields are the clock's whole state; `due_at` and `warn_at` are derived (see
/// [`refresh`](Self::refresh)) and kept so the store can index them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub kind: TargetKind,
    /// Business seconds the target allows.
    pub budget_secs: i64,
    /// Business seconds used in earlier, closed running segments.
    pub used_secs: i64,
    /// When the current running segment began; `None` while paused or met.
    pub running_since: Option<Timestamp>,
    pub met_at: Option<Timestamp>,
    /// The due time that passed, once the target is breached.
    pub breached_at: Option<Timestamp>,
    pub warned_at: Option<Timestamp>,
    /// While running: when the budget runs out.
    pub due_at: Option<Timestamp>,
    /// While running, not yet warned and not breached: when `warn_percent` of the budget is used
    /// (possibly already past; the sweep then warns at once).
    pub warn_at: Option<Timestamp>,
}

impl Clock {
    /// A clock running from `at`.
    pub fn start(kind: TargetKind, budget_secs: i64, at: Timestamp, cal: &BusinessCalendar, warn_percent: u8) -> Clock {
        let mut clock = Clock {
            kind,
            budget_secs,
            used_secs: 0,
            running_since: Some(at),
            met_at: None,
            breached_at: None,
            warned_at: None,
            due_at: None,
            warn_at: None,
        };
        clock.refresh(cal, warn_percent);
        clock
    }

    pub fn is_running(&self) -> bool {
        self.running_since.is_some() && self.met_at.is_none()
    }

    pub fn state(&self) -> ClockState {
        if self.breached_at.is_some() {
            ClockState::Breached
        } else if self.met_at.is_some() {
            ClockState::Met
        } else if self.is_running() {
            ClockState::Running
        } else {
            ClockState::Paused
        }
    }

    /// Stops counting at `at` until [`resume`](Self::resume). No-op unless running. If the
    /// segment ran past the due time before the sweep noticed, the breach is recorded at the due
    /// time and returned.
    pub fn pause(&mut self, at: Timestamp, cal: &BusinessCalendar) -> Option<Alarm> {
        self.close_segment(at, cal)
    }

    /// Counts again from `at`. No-op while running or once met.
    pub fn resume(&mut self, at: Timestamp, cal: &BusinessCalendar, warn_percent: u8) {
        if self.is_running() || self.met_at.is_some() {
            return;
        }
        self.running_since = Some(at);
        self.refresh(cal, warn_percent);
    }

    /// Stops the clock for good: the target is met at `at`. Met after the due time, it is
    /// breached at the due time (returned, unless the sweep recorded it already). No-op if met.
    pub fn meet(&mut self, at: Timestamp, cal: &BusinessCalendar) -> Option<Alarm> {
        if self.met_at.is_some() {
            return None;
        }
        let mut alarm = self.close_segment(at, cal);
        // Paused with more than the budget used (the budget was cut meanwhile): when it was
        // breached is unknown, so the breach is dated when it shows.
        if self.breached_at.is_none() && self.used_secs > self.budget_secs {
            self.breached_at = Some(at);
            alarm = Some(Alarm::Breached);
        }
        self.met_at = Some(at);
        alarm
    }

    /// Runs a met clock again from `at` (a resolved case was reopened), keeping the business
    /// time already used and any breach. No-op unless met.
    pub fn reopen(&mut self, at: Timestamp, cal: &BusinessCalendar, warn_percent: u8) {
        if self.met_at.take().is_none() {
            return;
        }
        self.running_since = Some(at);
        self.refresh(cal, warn_percent);
    }

    /// A new budget (the priority or the policy changed). The due time is recomputed as if the
    /// clock had had this budget from its original start, with the time already used; a due time
    /// already past is breached by the next sweep.
    pub fn set_budget(&mut self, budget_secs: i64, cal: &BusinessCalendar, warn_percent: u8) {
        self.budget_secs = budget_secs;
        self.refresh(cal, warn_percent);
    }

    /// Recomputes `due_at` and `warn_at` from the stored state: after any change and after the
    /// calendar or the warn percentage changed. Not running → both `None`.
    pub fn refresh(&mut self, cal: &BusinessCalendar, warn_percent: u8) {
        let since = match self.running_since {
            Some(since) if self.met_at.is_none() => since,
            _ => {
                self.due_at = None;
                self.warn_at = None;
                return;
            }
        };
        self.due_at = cal.add_seconds(since, self.budget_secs - self.used_secs);
        self.warn_at = if self.warned_at.is_none() && self.breached_at.is_none() {
            let warn_secs = self.budget_secs * i64::from(warn_percent) / 100;
            cal.add_seconds(since, warn_secs - self.used_secs)
        } else {
            None
        };
    }

    /// Business seconds left at `now`; negative once overdue. A stopped clock keeps its value.
    pub fn remaining_secs(&self, now: Timestamp, cal: &BusinessCalendar) -> i64 {
        let running = match self.running_since {
            Some(since) if self.met_at.is_none() => cal.seconds_between(since, now),
            _ => 0,
        };
        self.budget_secs - self.used_secs - running
    }

    /// One step of the background sweep at `now`: breaches a running clock whose due time has
    /// passed, or else warns one that reached its warning time. One alarm per call; a breach
    /// makes the warning moot, so a late sweep reports only the breach.
    pub fn check(&mut self, now: Timestamp) -> Option<Alarm> {
        if !self.is_running() {
            return None;
        }
        if self.breached_at.is_none()
            && let Some(due) = self.due_at.filter(|due| *due < now)
        {
            self.breached_at = Some(due);
            self.warn_at = None;
            return Some(Alarm::Breached);
        }
        if self.warned_at.is_none() && self.breached_at.is_none() && self.warn_at.is_some_and(|warn| warn <= now) {
            self.warned_at = Some(now);
            self.warn_at = None;
            return Some(Alarm::Warning);
        }
        None
    }

    /// Ends the running segment at `at`, adding its business time; records a breach if the
    /// segment went past the due time.
    fn close_segment(&mut self, at: Timestamp, cal: &BusinessCalendar) -> Option<Alarm> {
        let since = self.running_since.take().filter(|_| self.met_at.is_none())?;
        let mut alarm = None;
        if self.breached_at.is_none()
            && let Some(due) = cal.add_seconds(since, self.budget_secs - self.used_secs)
            && at > due
        {
            self.breached_at = Some(due);
            alarm = Some(Alarm::Breached);
        }
        self.used_secs += cal.seconds_between(since, at);
        self.due_at = None;
        self.warn_at = None;
        alarm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Period;
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    const HOUR: i64 = 3600;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    /// Mon–Fri 09:00–17:00 in Europe/Berlin (UTC+2 in June 2026; 2026-06-08 is a Monday).
    fn office(periods: &[(&str, &str)]) -> BusinessCalendar {
        let tz = TimeZone::get("Europe/Berlin").expect("tz");
        let day: Vec<Period> = periods.iter().map(|(s, e)| Period::parse(s, e).expect("period")).collect();
        let mut week: [Vec<Period>; 7] = Default::default();
        for d in week.iter_mut().take(5) {
            *d = day.clone();
        }
        BusinessCalendar::new(tz, week, vec![]).expect("calendar")
    }

    fn nine_to_five() -> BusinessCalendar {
        office(&[("09:00", "17:00")])
    }

    fn field_names(err: DomainError) -> Vec<String> {
        match err {
            DomainError::Validation(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn rule(priority: &str, first: Option<i64>, next: Option<i64>, resolution: Option<i64>) -> RuleInput {
        RuleInput {
            priority: priority.into(),
            first_response_minutes: first,
            next_response_minutes: next,
            resolution_minutes: resolution,
        }
    }

    #[test]
    fn a_clock_starts_with_due_and_warning_times() {
        let cal = nine_to_five();
        // Monday 09:00 local; 4 h → 13:00 local; 80 % = 3 h 12 min → 12:12 local.
        let clock = Clock::start(TargetKind::FirstResponse, 4 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T11:00:00Z")));
        assert_eq!(clock.warn_at, Some(ts("2026-06-08T10:12:00Z")));
        assert_eq!(clock.state(), ClockState::Running);
        assert_eq!(clock.remaining_secs(ts("2026-06-08T08:00:00Z"), &cal), 3 * HOUR);
    }

    #[test]
    fn pause_and_resume_shift_the_due_time_by_the_paused_business_time() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::Resolution, 4 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.pause(ts("2026-06-08T08:00:00Z"), &cal), None); // 10:00 local, 1 h used
        assert_eq!(
            (clock.state(), clock.used_secs, clock.due_at, clock.warn_at),
            (ClockState::Paused, HOUR, None, None)
        );
        assert_eq!(clock.remaining_secs(ts("2026-06-08T12:00:00Z"), &cal), 3 * HOUR);
        clock.pause(ts("2026-06-08T09:00:00Z"), &cal); // no-op while paused
        assert_eq!(clock.used_secs, HOUR);
        clock.resume(ts("2026-06-08T09:30:00Z"), &cal, 80); // 11:30 local: paused 1.5 h
        assert_eq!(clock.due_at, Some(ts("2026-06-08T12:30:00Z"))); // 13:00 + 1.5 h
        clock.resume(ts("2026-06-08T10:00:00Z"), &cal, 80); // no-op while running
        assert_eq!(clock.running_since, Some(ts("2026-06-08T09:30:00Z")));
    }

    #[test]
    fn a_pause_over_the_weekend_shifts_nothing() {
        let cal = nine_to_five();
        // Friday 2026-06-05 15:00 local; 4 h → Monday 11:00 local.
        let mut clock = Clock::start(TargetKind::FirstResponse, 4 * HOUR, ts("2026-06-05T13:00:00Z"), &cal, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T09:00:00Z")));
        clock.pause(ts("2026-06-05T15:30:00Z"), &cal); // Friday 17:30 local, closed
        assert_eq!(clock.used_secs, 2 * HOUR);
        clock.resume(ts("2026-06-08T06:00:00Z"), &cal, 80); // Monday 08:00 local, before opening
        assert_eq!(clock.due_at, Some(ts("2026-06-08T09:00:00Z")));
    }

    #[test]
    fn a_priority_change_recomputes_from_the_original_start() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::FirstResponse, 8 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        clock.pause(ts("2026-06-08T08:00:00Z"), &cal); // 1 h used
        clock.resume(ts("2026-06-08T10:00:00Z"), &cal, 80); // 12:00 local
        clock.set_budget(2 * HOUR, &cal, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T11:00:00Z"))); // 12:00 + the 1 h left
        assert_eq!(clock.warn_at, Some(ts("2026-06-08T10:36:00Z"))); // 96 min in all: 36 left

        // Cut below the time used: due at once, breached by the next sweep.
        clock.set_budget(HOUR / 2, &cal, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T10:00:00Z")));
        assert_eq!(clock.check(ts("2026-06-08T10:00:01Z")), Some(Alarm::Breached));
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T10:00:00Z")));
    }

    #[test]
    fn reopening_keeps_the_time_used() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::Resolution, 8 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.meet(ts("2026-06-08T13:00:00Z"), &cal), None); // 15:00 local, 6 h used
        assert_eq!((clock.state(), clock.used_secs, clock.due_at), (ClockState::Met, 6 * HOUR, None));
        assert_eq!(clock.meet(ts("2026-06-08T14:00:00Z"), &cal), None);
        assert_eq!(clock.met_at, Some(ts("2026-06-08T13:00:00Z")));
        clock.resume(ts("2026-06-09T07:00:00Z"), &cal, 80); // a met clock does not resume
        assert_eq!(clock.state(), ClockState::Met);

        clock.reopen(ts("2026-06-09T07:00:00Z"), &cal, 80); // Tuesday 09:00 local
        assert_eq!((clock.state(), clock.met_at, clock.used_secs), (ClockState::Running, None, 6 * HOUR));
        assert_eq!(clock.due_at, Some(ts("2026-06-09T09:00:00Z"))); // the 2 h left
        assert_eq!(clock.warned_at, None);
        assert_eq!(clock.warn_at, Some(ts("2026-06-09T07:24:00Z"))); // 6.4 h of 8
    }

    #[test]
    fn meeting_late_breaches_at_the_due_time() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::FirstResponse, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.meet(ts("2026-06-08T08:30:00Z"), &cal), Some(Alarm::Breached));
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T08:00:00Z")));
        assert_eq!(clock.met_at, Some(ts("2026-06-08T08:30:00Z")));
        assert_eq!(clock.state(), ClockState::Breached);
        assert_eq!(clock.remaining_secs(ts("2026-06-09T00:00:00Z"), &cal), -HOUR / 2);

        // Exactly at the due time is on time.
        let mut on_time = Clock::start(TargetKind::FirstResponse, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(on_time.meet(ts("2026-06-08T08:00:00Z"), &cal), None);
        assert_eq!(on_time.state(), ClockState::Met);
    }

    #[test]
    fn a_reopened_breach_stays_breached() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::Resolution, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        clock.meet(ts("2026-06-08T09:00:00Z"), &cal);
        clock.reopen(ts("2026-06-09T07:00:00Z"), &cal, 80);
        assert_eq!(clock.state(), ClockState::Breached);
        assert!(clock.is_running());
        assert_eq!(clock.check(ts("2026-06-09T08:00:00Z")), None);
    }

    #[test]
    fn the_sweep_warns_then_breaches() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::FirstResponse, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.check(ts("2026-06-08T07:47:59Z")), None);
        assert_eq!(clock.check(ts("2026-06-08T07:48:00Z")), Some(Alarm::Warning));
        assert_eq!((clock.warned_at, clock.warn_at), (Some(ts("2026-06-08T07:48:00Z")), None));
        assert_eq!(clock.check(ts("2026-06-08T07:50:00Z")), None);
        assert_eq!(clock.check(ts("2026-06-08T08:00:00Z")), None); // the due instant is still on time
        assert_eq!(clock.check(ts("2026-06-08T08:00:01Z")), Some(Alarm::Breached));
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T08:00:00Z")));
        assert_eq!(clock.state(), ClockState::Breached);
        assert_eq!(clock.check(ts("2026-06-08T09:00:00Z")), None);
        // Still running: the agent can still answer, late.
        assert_eq!(clock.meet(ts("2026-06-08T09:00:00Z"), &cal), None);
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T08:00:00Z")));
    }

    #[test]
    fn a_late_sweep_only_breaches() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::FirstResponse, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.check(ts("2026-06-08T12:00:00Z")), Some(Alarm::Breached));
        assert_eq!(clock.check(ts("2026-06-08T12:00:00Z")), None);
        assert_eq!(clock.warned_at, None);
    }

    #[test]
    fn pausing_past_the_due_time_records_the_breach() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::NextResponse, HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.pause(ts("2026-06-08T09:00:00Z"), &cal), Some(Alarm::Breached));
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T08:00:00Z")));
        assert_eq!(clock.state(), ClockState::Breached);
        assert_eq!(clock.check(ts("2026-06-08T10:00:00Z")), None);
    }

    #[test]
    fn meeting_a_paused_clock_over_a_cut_budget_breaches_then() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::Resolution, 4 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        clock.pause(ts("2026-06-08T09:00:00Z"), &cal); // 2 h used
        clock.set_budget(HOUR, &cal, 80);
        assert_eq!(clock.due_at, None);
        assert_eq!(clock.meet(ts("2026-06-08T10:00:00Z"), &cal), Some(Alarm::Breached));
        assert_eq!(clock.breached_at, Some(ts("2026-06-08T10:00:00Z")));
    }

    #[test]
    fn a_calendar_edit_moves_the_due_time() {
        let cal = nine_to_five();
        let mut clock = Clock::start(TargetKind::FirstResponse, 4 * HOUR, ts("2026-06-08T07:00:00Z"), &cal, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T11:00:00Z")));
        let with_lunch = office(&[("09:00", "12:00"), ("13:00", "17:00")]);
        clock.refresh(&with_lunch, 80);
        assert_eq!(clock.due_at, Some(ts("2026-06-08T12:00:00Z"))); // 14:00 local
        clock.refresh(&with_lunch, 50);
        assert_eq!(clock.warn_at, Some(ts("2026-06-08T09:00:00Z"))); // 2 h → 11:00 local
    }

    #[test]
    fn round_the_clock_policies_count_every_second() {
        let cal = BusinessCalendar::always();
        let policy = Policy::seed_defaults();
        let clock = policy
            .start_clock(Priority::Critical, TargetKind::FirstResponse, ts("2026-06-06T23:30:00Z"), &cal)
            .expect("critical has a first response target");
        assert_eq!(clock.due_at, Some(ts("2026-06-07T00:30:00Z")));
        assert_eq!(clock.warn_at, Some(ts("2026-06-07T00:18:00Z")));
        assert!(policy.start_clock(Priority::Low, TargetKind::Resolution, ts("2026-06-06T00:00:00Z"), &cal).is_none());
    }

    #[test]
    fn seed_defaults_are_the_response_times_of_seed_004() {
        let policy = Policy::seed_defaults();
        let first = |p| policy.budget(p, TargetKind::FirstResponse);
        assert_eq!(first(Priority::Critical), Some(3600));
        assert_eq!(first(Priority::High), Some(4 * 3600));
        assert_eq!(first(Priority::Medium), Some(24 * 3600));
        assert_eq!(first(Priority::Low), Some(48 * 3600));
        for p in Priority::ALL {
            assert_eq!(policy.budget(*p, TargetKind::Resolution), None);
            assert_eq!(policy.budget(*p, TargetKind::NextResponse), None);
        }
        assert!(policy.pauses(Status::Pending) && policy.pauses(Status::OnHold));
        assert!(!policy.pauses(Status::Open) && !policy.pauses(Status::New));
        assert_eq!(policy.warn_percent, 80);
    }

    #[test]
    fn a_valid_policy_takes_defaults() {
        let policy = Policy::validate(PolicyInput {
            rules: vec![rule("urgent", Some(30), None, Some(240)), rule("low", None, Some(480), None)],
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(policy.budget(Priority::Critical, TargetKind::FirstResponse), Some(1800));
        assert_eq!(policy.budget(Priority::Critical, TargetKind::Resolution), Some(4 * 3600));
        assert_eq!(policy.budget(Priority::Low, TargetKind::NextResponse), Some(8 * 3600));
        assert_eq!(policy.budget(Priority::Medium, TargetKind::FirstResponse), None);
        assert_eq!(policy.pause_statuses, DEFAULT_PAUSE_STATUSES);
        assert_eq!(policy.warn_percent, DEFAULT_WARN_PERCENT);

        let custom = Policy::validate(PolicyInput {
            rules: vec![rule("high", Some(60), None, None)],
            pause_statuses: Some(vec!["waiting".into(), "pending".into(), "new".into()]),
            warn_percent: Some(50),
        })
        .expect("valid");
        assert_eq!(custom.pause_statuses, [Status::Pending, Status::New]);
        assert_eq!(custom.warn_percent, 50);
        let none = PolicyInput { pause_statuses: Some(vec![]), ..custom_input() };
        assert!(Policy::validate(none).expect("valid").pause_statuses.is_empty());
    }

    fn custom_input() -> PolicyInput {
        PolicyInput { rules: vec![rule("high", Some(60), None, None)], ..Default::default() }
    }

    #[test]
    fn policy_errors_name_their_fields() {
        let err = Policy::validate(PolicyInput {
            rules: vec![
                rule("high", Some(0), Some(60), Some(MAX_TARGET_MINUTES + 1)),
                rule("sometimes", Some(10), None, None),
                rule("High", Some(10), None, None),
                rule("low", None, None, None),
            ],
            pause_statuses: Some(vec!["pending".into(), "resolved".into(), "asleep".into(), "closed".into()]),
            warn_percent: Some(100),
        })
        .expect_err("invalid");
        assert_eq!(
            field_names(err),
            [
                "rules[0].first_response_minutes",
                "rules[0].resolution_minutes",
                "rules[1].priority",
                "rules[2].priority",
                "rules[3]",
                "pause_statuses[1]",
                "pause_statuses[2]",
                "pause_statuses[3]",
                "warn_percent",
            ]
        );
        assert_eq!(field_names(Policy::validate(PolicyInput::default()).expect_err("invalid")), ["rules"]);
        for bad in [0, -5, 300] {
            let input = PolicyInput { warn_percent: Some(bad), ..custom_input() };
            assert_eq!(field_names(Policy::validate(input).expect_err("invalid")), ["warn_percent"]);
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in TargetKind::ALL {
            assert_eq!(TargetKind::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(TargetKind::parse("First-Response"), Ok(TargetKind::FirstResponse));
        assert!(TargetKind::parse("lunch").is_err());
        assert_eq!(ClockState::Paused.as_str(), "paused");
        assert_eq!(Alarm::Breached.as_str(), "breached");
    }

    // --- properties --------------------------------------------------------------------------

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Pause,
        Resume,
        Sweep,
    }

    fn op_strategy() -> impl Strategy<Value = (i64, Op)> {
        (1i64..(3 * 86_400), prop_oneof![Just(Op::Pause), Just(Op::Resume), Just(Op::Sweep)])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the pauses, a clock's used time is the business time of its running
        /// segments, its due time leaves exactly the rest of the budget, and it raises each
        /// alarm at most once, never a warning after a breach.
        #[test]
        fn clocks_account_for_every_running_second(
            start in 1_767_225_600i64..1_830_297_600, // 2026 to 2027
            budget in 1i64..(60 * HOUR),
            ops in proptest::collection::vec(op_strategy(), 0..30),
            lunch in any::<bool>(),
        ) {
            let cal = if lunch { office(&[("09:00", "12:00"), ("13:00", "17:00")]) } else { nine_to_five() };
            let mut now = Timestamp::from_second(start).expect("ts");
            let mut clock = Clock::start(TargetKind::Resolution, budget, now, &cal, 80);
            let (mut used, mut since, mut alarms) = (0, Some(now), Vec::new());
            for (gap, op) in ops {
                now += jiff::SignedDuration::from_secs(gap);
                match op {
                    Op::Pause => {
                        alarms.extend(clock.pause(now, &cal));
                        if let Some(s) = since.take() {
                            used += cal.seconds_between(s, now);
                        }
                    }
                    Op::Resume => {
                        clock.resume(now, &cal, 80);
                        since = since.or(Some(now));
                    }
                    Op::Sweep => alarms.extend(clock.check(now)),
                }
                prop_assert_eq!(clock.used_secs, used);
                let running = since.map_or(0, |s| cal.seconds_between(s, now));
                prop_assert_eq!(clock.remaining_secs(now, &cal), budget - used - running);
                if let (Some(s), Some(due)) = (since, clock.due_at) {
                    prop_assert_eq!(cal.seconds_between(s, due), (budget - used).max(0));
                }
            }
            let warnings = alarms.iter().filter(|a| **a == Alarm::Warning).count();
            let breaches = alarms.iter().filter(|a| **a == Alarm::Breached).count();
            prop_assert!(warnings <= 1 && breaches <= 1);
            prop_assert_eq!(breaches == 1, clock.breached_at.is_some());
            if breaches == 1 && warnings == 1 {
                prop_assert!(alarms[0] == Alarm::Warning);
            }
        }
    }
}
