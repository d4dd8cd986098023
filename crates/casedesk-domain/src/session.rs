//! Web sign-in: how long a session lives and when sign-in attempts are throttled.
//!
//! A session ends at a fixed time after sign-in (`lifetime`) or after `idle` without a request,
//! whichever comes first. Failed sign-ins are counted per email and per client address over a
//! sliding `window`; past either limit further attempts are refused until the oldest counted
//! failure leaves the window. Pure rules: the store keeps the timestamps, the caller passes now.

use jiff::{SignedDuration, Timestamp};

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    /// From sign-in to the forced end.
    pub lifetime: SignedDuration,
    /// Without a request for this long, the session ends.
    pub idle: SignedDuration,
}

impl Default for SessionRules {
    fn default() -> Self {
        Self { lifetime: SignedDuration::from_hours(12), idle: SignedDuration::from_hours(2) }
    }
}

impl SessionRules {
    /// When a session started at `now` ends at the latest.
    pub fn expires_at(&self, now: Timestamp) -> Timestamp {
        now.saturating_add(self.lifetime).unwrap_or(now)
    }

    /// Whether a session that expires at `expires_at` and was last used at `last_seen_at` is
    /// still valid at `now`.
    pub fn is_live(&self, expires_at: Timestamp, last_seen_at: Timestamp, now: Timestamp) -> bool {
        now < expires_at && now.duration_since(last_seen_at) < self.idle
    }
}

/// Limits on failed sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures counted per email address within `window`.
    pub per_email: i64,
    /// Failures counted per client address within `window` (higher: an office shares one).
    pub per_address: i64,
    pub window: SignedDuration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self { per_email: 5, per_address: 20, window: SignedDuration::from_mins(15) }
    }
}

/// What the store counted for one key: failures within the window and the oldest of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<Timestamp>,
}

/// The keys failures are counted under.
pub fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

impl Throttle {
    /// Where the window counted from `now` starts.
    pub fn since(&self, now: Timestamp) -> Timestamp {
        now.saturating_sub(self.window).unwrap_or(now)
    }

    /// `None` if a sign-in may be tried now; otherwise how long until it may (at least a second).
    pub fn wait(&self, by_email: Failures, by_address: Failures, now: Timestamp) -> Option<SignedDuration> {
        let over = |f: Failures, limit: i64| (f.count >= limit).then_some(f.oldest).flatten();
        [over(by_email, self.per_email), over(by_address, self.per_address)]
            .into_iter()
            .flatten()
            .map(|oldest| {
                let free_at = oldest.saturating_add(self.window).unwrap_or(oldest);
                free_at.duration_since(now).max(SignedDuration::from_secs(1))
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("timestamp")
    }

    #[test]
    fn sessions_end_at_their_lifetime_or_when_idle() {
        let rules = SessionRules { lifetime: SignedDuration::from_hours(12), idle: SignedDuration::from_hours(2) };
        let start = t(0);
        let expires = rules.expires_at(start);
        assert_eq!(expires, t(12 * 3600));
        assert!(rules.is_live(expires, start, t(60)));
        assert!(!rules.is_live(expires, start, t(2 * 3600)), "idle for the whole idle timeout");
        assert!(rules.is_live(expires, t(11 * 3600), t(11 * 3600 + 60)), "kept alive by use");
        assert!(!rules.is_live(expires, t(12 * 3600 - 1), t(12 * 3600)), "never past the lifetime");
    }

    #[test]
    fn throttle_counts_per_email_and_per_address() {
        let th = Throttle { per_email: 3, per_address: 5, window: SignedDuration::from_mins(10) };
        let none = Failures::default();
        let email = |count| Failures { count, oldest: Some(t(0)) };
        assert_eq!(th.wait(email(2), none, t(60)), None);
        assert_eq!(th.wait(email(3), none, t(60)), Some(SignedDuration::from_secs(540)));
        assert_eq!(th.wait(none, email(4), t(60)), None);
        assert_eq!(th.wait(none, email(5), t(60)), Some(SignedDuration::from_secs(540)));
        // The later of the two frees the attempt.
        let newer = Failures { count: 5, oldest: Some(t(120)) };
        assert_eq!(th.wait(email(3), newer, t(180)), Some(SignedDuration::from_secs(540)));
        // Never "try again in 0 seconds".
        assert_eq!(th.wait(email(3), none, t(600)), Some(SignedDuration::from_secs(1)));
        assert_eq!(th.since(t(600)), t(0));
    }

    #[test]
    fn keys_fold_the_email() {
        assert_eq!(email_key(" Ana@Example.com "), "email:ana@example.com");
        assert_eq!(address_key("127.0.0.1"), "addr:127.0.0.1");
    }
}
