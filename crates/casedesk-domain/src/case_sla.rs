//! The SLA of one case: its policy's clocks, and how what happens to the case moves them.
//!
//! Every function takes the instant and the policy's [`Setup`] as arguments and returns the
//! timeline entries it caused, so the use case writes the clocks, the case and the entries in
//! one transaction. The rules are written down in `docs/sla.md`.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::calendar::BusinessCalendar;
use crate::case::{Priority, Status};
use crate::sla::{Alarm, Clock, Policy, TargetKind};
use crate::timeline::NewEvent;

pub const SLA_APPLIED: &str = "sla.applied";
pub const SLA_REMOVED: &str = "sla.removed";
pub const SLA_PAUSED: &str = "sla.paused";
pub const SLA_RESUMED: &str = "sla.resumed";
pub const SLA_MET: &str = "sla.met";
pub const SLA_WARNING: &str = "sla.warning";
pub const SLA_BREACHED: &str = "sla.breached";

/// The policy a case's clocks follow, with the calendar they count in.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// `None`: the organization's default targets (no policy record).
    pub policy_id: Option<&'a str>,
    pub policy: &'a Policy,
    pub calendar: &'a BusinessCalendar,
}

/// A case's SLA: the policy it follows and one clock per target that has started.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSla {
    pub policy_id: Option<String>,
    pub clocks: Vec<Clock>,
}

fn event(kind: &'static str, data: Value, at: Timestamp) -> NewEvent {
    NewEvent { kind, data, created_at: at }
}

fn clock_event(kind: &'static str, c: &Clock, at: Timestamp) -> NewEvent {
    event(kind, json!({ "target": c.kind.as_str(), "due_at": c.due_at.map(|t| t.to_string()) }), at)
}

fn alarm_event(alarm: Alarm, c: &Clock, at: Timestamp) -> NewEvent {
    let kind = match alarm {
        Alarm::Warning => SLA_WARNING,
        Alarm::Breached => SLA_BREACHED,
    };
    let due = c.breached_at.or(c.due_at);
    event(kind, json!({ "target": c.kind.as_str(), "due_at": due.map(|t| t.to_string()) }), at)
}

impl CaseSla {
    /// Applies `setup` to a case that was created at `created_at` (or moved under a new
    /// policy at `at`): first response and resolution start counting from `start`; a case whose
    /// status pauses the clocks starts paused. A first response already given is not timed.
    pub fn start(
        setup: Setup<'_>,
        priority: Priority,
        status: Status,
        start: Timestamp,
        responded: bool,
        at: Timestamp,
    ) -> (CaseSla, Vec<NewEvent>) {
        let mut clocks = Vec::new();
        for kind in [TargetKind::FirstResponse, TargetKind::Resolution] {
            if kind == TargetKind::FirstResponse && responded {
                continue;
            }
            if let Some(c) = setup.policy.start_clock(priority, kind, start, setup.calendar) {
                clocks.push(c);
            }
        }
        let mut sla = CaseSla { policy_id: setup.policy_id.map(str::to_string), clocks };
        let targets: Vec<Value> = sla
            .clocks
            .iter()
            .map(|c| json!({ "target": c.kind.as_str(), "due_at": c.due_at.map(|t| t.to_string()) }))
            .collect();
        let mut events = vec![event(SLA_APPLIED, json!({ "policy_id": setup.policy_id, "targets": targets }), at)];
        if setup.policy.pauses(status) || !status.is_active() {
            events.extend(sla.pause_all(at, setup));
        }
        (sla, events)
    }

    /// Whether any target was breached.
    pub fn breached(&self) -> bool {
        self.clocks.iter().any(|c| c.breached_at.is_some())
    }

    /// The earliest due time of a running clock not yet breached (the `sla_due_before` filter).
    pub fn next_due(&self) -> Option<Timestamp> {
        self.clocks.iter().filter(|c| c.is_running() && c.breached_at.is_none()).filter_map(|c| c.due_at).min()
    }

    /// The earliest instant the sweep has something to do: a due time or a warning time.
    pub fn check_at(&self) -> Option<Timestamp> {
        self.clocks
            .iter()
            .filter(|c| c.is_running())
            .flat_map(|c| [c.due_at.filter(|_| c.breached_at.is_none()), c.warn_at])
            .flatten()
            .min()
    }

    pub fn clock(&self, kind: TargetKind) -> Option<&Clock> {
        self.clocks.iter().find(|c| c.kind == kind)
    }

    fn pause_all(&mut self, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = Vec::new();
        for c in self.clocks.iter_mut().filter(|c| c.is_running()) {
            if let Some(alarm) = c.pause(at, setup.calendar) {
                events.push(alarm_event(alarm, c, at));
            }
            events.push(clock_event(SLA_PAUSED, c, at));
        }
        events
    }

    fn resume_all(&mut self, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = Vec::new();
        for c in self.clocks.iter_mut().filter(|c| !c.is_running() && c.met_at.is_none()) {
            c.resume(at, setup.calendar, setup.policy.warn_percent);
            events.push(clock_event(SLA_RESUMED, c, at));
        }
        events
    }

    fn meet(&mut self, kind: TargetKind, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = Vec::new();
        if let Some(c) = self.clocks.iter_mut().find(|c| c.kind == kind && c.met_at.is_none()) {
            if let Some(alarm) = c.meet(at, setup.calendar) {
                events.push(alarm_event(alarm, c, at));
            }
            let late = c.breached_at.is_some();
            events.push(event(SLA_MET, json!({ "target": kind.as_str(), "late": late }), at));
        }
        events
    }

    /// The case's status changed at `at`: resolving meets resolution (and stops the response
    /// clocks); reopening runs resolution again with the time already used; entering a pausing
    /// status pauses every running clock and leaving it resumes them.
    pub fn on_status(&mut self, from: Status, to: Status, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = Vec::new();
        let was_done = !from.is_active();
        let done = !to.is_active();
        if done && !was_done {
            events.extend(self.meet(TargetKind::Resolution, at, setup));
            events.extend(self.pause_all(at, setup));
            return events;
        }
        if was_done && !done {
            if let Some(c) = self.clocks.iter_mut().find(|c| c.kind == TargetKind::Resolution) {
                c.reopen(at, setup.calendar, setup.policy.warn_percent);
                events.push(clock_event(SLA_RESUMED, c, at));
            }
            if setup.policy.pauses(to) {
                events.extend(self.pause_all(at, setup));
            } else {
                events.extend(self.resume_all(at, setup));
            }
            return events;
        }
        match (setup.policy.pauses(from), setup.policy.pauses(to)) {
            (false, true) => events.extend(self.pause_all(at, setup)),
            (true, false) => events.extend(self.resume_all(at, setup)),
            _ => {}
        }
        events
    }

    /// Pauses (`true`) or resumes every clock regardless of category: a custom status that
    /// pauses the clocks although its category does not, or the other way round.
    pub fn hold(&mut self, paused: bool, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        if paused { self.pause_all(at, setup) } else { self.resume_all(at, setup) }
    }

    /// The priority changed: each clock gets the new priority's budget, counted from its original
    /// start with the time already used. A target the new priority does not have stops being
    /// timed.
    pub fn on_priority(&mut self, priority: Priority, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = Vec::new();
        let warn = setup.policy.warn_percent;
        self.clocks.retain_mut(|c| match setup.policy.budget(priority, c.kind) {
            Some(budget) => {
                c.set_budget(budget, setup.calendar, warn);
                true
            }
            None => {
                events.push(event(SLA_REMOVED, json!({ "target": c.kind.as_str() }), at));
                false
            }
        });
        events
    }

    /// An agent replied where the customer sees it: first and next response are met.
    pub fn on_agent_reply(&mut self, at: Timestamp, setup: Setup<'_>) -> Vec<NewEvent> {
        let mut events = self.meet(TargetKind::FirstResponse, at, setup);
        events.extend(self.meet(TargetKind::NextResponse, at, setup));
        events
    }

    /// The customer wrote and waits for an answer: a next-response clock starts unless the
    /// first response is still owed or a next-response clock is already counting.
    pub fn on_customer_message(
        &mut self,
        priority: Priority,
        status: Status,
        at: Timestamp,
        setup: Setup<'_>,
    ) -> Vec<NewEvent> {
        let first_owed = self.clock(TargetKind::FirstResponse).is_some_and(|c| c.met_at.is_none());
        if first_owed {
            return Vec::new();
        }
        let Some(budget) = setup.policy.budget(priority, TargetKind::NextResponse) else { return Vec::new() };
        if let Some(i) = self.clocks.iter().position(|c| c.kind == TargetKind::NextResponse) {
            if self.clocks[i].met_at.is_none() {
                return Vec::new();
            }
            self.clocks.remove(i);
        }
        let mut c = Clock::start(TargetKind::NextResponse, budget, at, setup.calendar, setup.policy.warn_percent);
        let mut events = vec![clock_event(SLA_APPLIED, &c, at)];
        if setup.policy.pauses(status) {
            c.pause(at, setup.calendar);
            events.push(clock_event(SLA_PAUSED, &c, at));
        }
        self.clocks.push(c);
        events
    }

    /// The calendar or policy changed: due and warning times are recomputed.
    pub fn refresh(&mut self, setup: Setup<'_>) {
        for c in &mut self.clocks {
            c.refresh(setup.calendar, setup.policy.warn_percent);
        }
    }

    /// The sweep at `now`: every warning and breach that is due, as timeline entries.
    pub fn sweep(&mut self, now: Timestamp) -> Vec<NewEvent> {
        let mut events = Vec::new();
        for c in &mut self.clocks {
            while let Some(alarm) = c.check(now) {
                events.push(alarm_event(alarm, c, now));
            }
        }
        events
    }
}

// ---- stored form ------------------------------------------------------------------------------

fn us(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(t.as_microsecond()))
}

fn from_us(v: &Value, field: &str) -> Result<Option<Timestamp>, String> {
    match v {
        Value::Null => Ok(None),
        v => {
            let n = v.as_i64().ok_or_else(|| format!("{field} is not an integer"))?;
            Timestamp::from_microsecond(n).map(Some).map_err(|e| format!("{field}: {e}"))
        }
    }
}

impl CaseSla {
    /// The stored JSON form (times as integer microseconds, exact and compact).
    pub fn to_json(&self) -> Value {
        let clocks: Vec<Value> = self
            .clocks
            .iter()
            .map(|c| {
                json!({
                    "kind": c.kind.as_str(),
                    "budget_secs": c.budget_secs,
                    "used_secs": c.used_secs,
                    "running_since": us(c.running_since),
                    "met_at": us(c.met_at),
                    "breached_at": us(c.breached_at),
                    "warned_at": us(c.warned_at),
                    "due_at": us(c.due_at),
                    "warn_at": us(c.warn_at),
                })
            })
            .collect();
        json!({ "policy_id": self.policy_id, "clocks": clocks })
    }

    pub fn from_json(v: &Value) -> Result<CaseSla, String> {
        let policy_id = v.get("policy_id").and_then(Value::as_str).map(str::to_string);
        let mut clocks = Vec::new();
        for c in v.get("clocks").and_then(Value::as_array).ok_or("clocks missing")? {
            let int = |f: &str| c.get(f).and_then(Value::as_i64).ok_or_else(|| format!("{f} missing"));
            let time = |f: &str| from_us(c.get(f).unwrap_or(&Value::Null), f);
            clocks.push(Clock {
                kind: TargetKind::parse(c.get("kind").and_then(Value::as_str).unwrap_or_default())?,
                budget_secs: int("budget_secs")?,
                used_secs: int("used_secs")?,
                running_since: time("running_since")?,
                met_at: time("met_at")?,
                breached_at: time("breached_at")?,
                warned_at: time("warned_at")?,
                due_at: time("due_at")?,
                warn_at: time("warn_at")?,
            });
        }
        Ok(CaseSla { policy_id, clocks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::{ClockState, PolicyInput, RuleInput};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn policy() -> Policy {
        Policy::validate(PolicyInput {
            rules: vec![
                RuleInput {
                    priority: "high".into(),
                    first_response_minutes: Some(60),
                    next_response_minutes: Some(30),
                    resolution_minutes: Some(240),
                },
                RuleInput {
                    priority: "low".into(),
                    first_response_minutes: Some(480),
                    next_response_minutes: None,
                    resolution_minutes: Some(2880),
                },
            ],
            pause_statuses: None,
            warn_percent: None,
        })
        .expect("policy")
    }

    fn kinds(events: &[NewEvent]) -> Vec<&str> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn starts_first_response_and_resolution_and_sweeps_warning_then_breach() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: Some("sla_1"), policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, events) = CaseSla::start(setup, Priority::High, Status::New, t0, false, t0);
        assert_eq!(kinds(&events), ["sla.applied"]);
        assert_eq!(sla.clocks.len(), 2);
        assert_eq!(sla.next_due(), Some(ts("2026-03-02T10:00:00Z")));
        assert_eq!(sla.check_at(), Some(ts("2026-03-02T09:48:00Z")));
        assert!(sla.sweep(ts("2026-03-02T09:47:59Z")).is_empty());
        assert_eq!(kinds(&sla.sweep(ts("2026-03-02T09:48:00Z"))), ["sla.warning"]);
        assert_eq!(kinds(&sla.sweep(ts("2026-03-02T10:00:01Z"))), ["sla.breached"]);
        assert!(sla.breached());
        // The response comes late: met, marked late; resolution still runs.
        let events = sla.on_agent_reply(ts("2026-03-02T10:30:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.met"]);
        assert_eq!(events[0].data["late"], true);
        assert_eq!(sla.next_due(), Some(ts("2026-03-02T13:00:00Z")));
    }

    #[test]
    fn pending_pauses_and_shifts_resolution() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: Some("sla_1"), policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, _) = CaseSla::start(setup, Priority::High, Status::Open, t0, true, t0);
        assert_eq!(sla.clocks.len(), 1, "a first response already given is not timed");
        let events = sla.on_status(Status::Open, Status::Pending, ts("2026-03-02T10:00:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.paused"]);
        assert_eq!(sla.check_at(), None);
        assert_eq!(sla.clock(TargetKind::Resolution).map(Clock::state), Some(ClockState::Paused));
        sla.on_status(Status::Pending, Status::Open, ts("2026-03-02T12:00:00Z"), setup);
        // 1 h used of 4 h, resumed at 12:00 → due 15:00.
        assert_eq!(sla.next_due(), Some(ts("2026-03-02T15:00:00Z")));
    }

    #[test]
    fn resolve_meets_and_reopen_keeps_time_used() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: None, policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, _) = CaseSla::start(setup, Priority::High, Status::Open, t0, true, t0);
        let events = sla.on_status(Status::Open, Status::Resolved, ts("2026-03-02T11:00:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.met"]);
        assert_eq!(sla.clock(TargetKind::Resolution).map(Clock::state), Some(ClockState::Met));
        let events = sla.on_status(Status::Resolved, Status::Open, ts("2026-03-03T09:00:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.resumed"]);
        // 2 h used; 2 h left from the reopening.
        assert_eq!(sla.next_due(), Some(ts("2026-03-03T11:00:00Z")));
    }

    #[test]
    fn priority_change_recomputes_from_the_original_start() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: None, policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, _) = CaseSla::start(setup, Priority::Low, Status::Open, t0, false, t0);
        assert_eq!(sla.next_due(), Some(ts("2026-03-02T17:00:00Z")));
        sla.on_priority(Priority::High, ts("2026-03-02T09:30:00Z"), setup);
        assert_eq!(sla.next_due(), Some(ts("2026-03-02T10:00:00Z")));
        // A priority without rules drops the clocks.
        let events = sla.on_priority(Priority::Critical, ts("2026-03-02T09:40:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.removed", "sla.removed"]);
        assert!(sla.clocks.is_empty());
    }

    #[test]
    fn customer_messages_start_next_response_once_first_is_met() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: None, policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, _) = CaseSla::start(setup, Priority::High, Status::Open, t0, false, t0);
        assert!(sla.on_customer_message(Priority::High, Status::Open, ts("2026-03-02T09:10:00Z"), setup).is_empty());
        sla.on_agent_reply(ts("2026-03-02T09:20:00Z"), setup);
        let events = sla.on_customer_message(Priority::High, Status::Open, ts("2026-03-02T09:30:00Z"), setup);
        assert_eq!(kinds(&events), ["sla.applied"]);
        assert_eq!(sla.clock(TargetKind::NextResponse).and_then(|c| c.due_at), Some(ts("2026-03-02T10:00:00Z")));
        // A second message while waiting does not restart it.
        assert!(sla.on_customer_message(Priority::High, Status::Open, ts("2026-03-02T09:40:00Z"), setup).is_empty());
        sla.on_agent_reply(ts("2026-03-02T09:45:00Z"), setup);
        assert_eq!(sla.clock(TargetKind::NextResponse).map(Clock::state), Some(ClockState::Met));
        // The next message starts a fresh one.
        sla.on_customer_message(Priority::High, Status::Open, ts("2026-03-02T11:00:00Z"), setup);
        assert_eq!(sla.clock(TargetKind::NextResponse).map(Clock::state), Some(ClockState::Running));
    }

    #[test]
    fn the_stored_form_round_trips() {
        let p = policy();
        let cal = BusinessCalendar::always();
        let setup = Setup { policy_id: Some("sla_1"), policy: &p, calendar: &cal };
        let t0 = ts("2026-03-02T09:00:00Z");
        let (mut sla, _) = CaseSla::start(setup, Priority::High, Status::Open, t0, false, t0);
        sla.sweep(ts("2026-03-02T09:50:00Z"));
        sla.on_status(Status::Open, Status::Pending, ts("2026-03-02T09:55:00Z"), setup);
        assert_eq!(CaseSla::from_json(&sla.to_json()), Ok(sla));
        assert!(CaseSla::from_json(&json!({"clocks": [{"kind": "nope"}]})).is_err());
    }
}
