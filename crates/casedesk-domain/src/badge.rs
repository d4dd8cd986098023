//! What a case list shows of a case's SLA at a glance: "due in 35 min", "breached 2 h ago".
//!
//! A pure reading of the case's clocks at `now`: the earliest breach wins, otherwise the
//! earliest due time of a running clock; met or paused clocks show nothing.

use jiff::{SignedDuration, Timestamp};

use crate::case_sla::CaseSla;

/// The SLA state a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlaBadge {
    /// A target was missed, `ago` before now.
    Breached { ago: SignedDuration },
    /// A running target falls due in `left` (a due time already passed but not yet swept is
    /// shown as breached).
    Due { left: SignedDuration },
}

impl SlaBadge {
    pub fn of(sla: &CaseSla, now: Timestamp) -> Option<SlaBadge> {
        let passed = sla.next_due().filter(|d| *d <= now);
        let breached = sla.clocks.iter().filter_map(|c| c.breached_at).chain(passed).min();
        if let Some(at) = breached {
            return Some(SlaBadge::Breached { ago: now.duration_since(at) });
        }
        sla.next_due().map(|due| SlaBadge::Due { left: due.duration_since(now) })
    }

    /// The badge's words.
    pub fn text(&self) -> String {
        match self {
            SlaBadge::Breached { ago } => format!("breached {} ago", short_duration(*ago)),
            SlaBadge::Due { left } => format!("due in {}", short_duration(*left)),
        }
    }

    /// `true` when within the last hour before the due time: the list shows it as a warning.
    pub fn is_soon(&self) -> bool {
        matches!(self, SlaBadge::Due { left } if *left <= SignedDuration::from_hours(1))
    }

    pub fn is_breached(&self) -> bool {
        matches!(self, SlaBadge::Breached { .. })
    }
}

/// A duration as people say it in a list: "45 s", "35 min", "2 h", "3 d" (rounded down).
pub fn short_duration(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// "just now", "5 min ago", "3 d ago": how long before `now` something happened.
pub fn ago(at: Timestamp, now: Timestamp) -> String {
    let d = now.duration_since(at);
    if d < SignedDuration::from_secs(60) { "just now".into() } else { format!("{} ago", short_duration(d)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::{Clock, TargetKind};

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("timestamp")
    }

    fn clock(kind: TargetKind, due: Option<i64>, breached: Option<i64>, met: Option<i64>) -> Clock {
        Clock {
            kind,
            budget_secs: 3600,
            used_secs: 0,
            running_since: Some(t(0)),
            met_at: met.map(t),
            breached_at: breached.map(t),
            warned_at: None,
            due_at: due.map(t),
            warn_at: None,
        }
    }

    fn sla(clocks: Vec<Clock>) -> CaseSla {
        CaseSla { policy_id: None, clocks }
    }

    #[test]
    fn running_clock_shows_time_left() {
        let s = sla(vec![clock(TargetKind::Resolution, Some(3 * 3600), None, None)]);
        let b = SlaBadge::of(&s, t(3 * 3600 - 35 * 60)).expect("badge");
        assert_eq!(b.text(), "due in 35 min");
        assert!(b.is_soon());
        assert!(!SlaBadge::of(&s, t(0)).expect("badge").is_soon());
    }

    #[test]
    fn breach_wins_and_says_how_long_ago() {
        let s = sla(vec![
            clock(TargetKind::FirstResponse, None, Some(0), None),
            clock(TargetKind::Resolution, Some(9000), None, None),
        ]);
        let b = SlaBadge::of(&s, t(2 * 3600 + 120)).expect("badge");
        assert_eq!(b.text(), "breached 2 h ago");
        assert!(b.is_breached());
    }

    #[test]
    fn a_due_time_passed_before_the_sweep_is_breached() {
        let s = sla(vec![clock(TargetKind::Resolution, Some(100), None, None)]);
        assert_eq!(SlaBadge::of(&s, t(160)).map(|b| b.text()).as_deref(), Some("breached 1 min ago"));
    }

    #[test]
    fn met_or_paused_clocks_show_nothing() {
        let mut paused = clock(TargetKind::Resolution, None, None, None);
        paused.running_since = None;
        assert_eq!(SlaBadge::of(&sla(vec![paused]), t(10)), None);
        assert_eq!(SlaBadge::of(&sla(vec![clock(TargetKind::Resolution, Some(50), None, Some(20))]), t(100)), None);
    }

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(short_duration(SignedDuration::from_secs(45)), "45 s");
        assert_eq!(short_duration(SignedDuration::from_secs(3 * 86_400 + 5)), "3 d");
        assert_eq!(short_duration(SignedDuration::from_secs(-5)), "0 s");
        assert_eq!(ago(t(0), t(30)), "just now");
        assert_eq!(ago(t(0), t(600)), "10 min ago");
    }
}
