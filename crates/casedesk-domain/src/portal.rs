//! The customer portal's rules: who a signed-in requester is, which cases they may see, and how
//! long a sign-in link lasts and how many links one address may ask for.
//!
//! A requester is either an email address (signed in by a link mailed to it) or a visitor id of
//! the host application (signed in with a visitor token); both stand for the organization's
//! contacts with that address or id. They see the cases those contacts requested or are the
//! contact of, and every case of an account that shares its cases in the portal.

use jiff::{SignedDuration, Timestamp};

use crate::case::Case;
use crate::session::{Failures, Throttle};

/// How long a mailed sign-in link can be used (once).
pub const LINK_LIFETIME: SignedDuration = SignedDuration::from_mins(15);

/// Who a portal session stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// The contacts with this (lower-case) email address.
    Email(String),
    /// The contacts with this external id (a visitor of the host application).
    Visitor(String),
}

/// What a signed-in requester may see: their contacts, and the accounts that share cases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The requester's contacts, oldest first (a new case is the first one's).
    pub contact_ids: Vec<String>,
    /// Accounts of those contacts whose cases all of the account's contacts see.
    pub shared_account_ids: Vec<String>,
}

impl Scope {
    /// Whether the requester may see `case`: theirs as requester or contact, or their shared
    /// account's. Anything else is answered like a missing case.
    pub fn can_see(&self, case: &Case) -> bool {
        let mine = |id: &str| self.contact_ids.iter().any(|c| c == id);
        mine(&case.requester_id)
            || case.contact_id.as_deref().is_some_and(mine)
            || case.account_id.as_ref().is_some_and(|a| self.shared_account_ids.contains(a))
    }

    /// The contact a new case is opened for.
    pub fn contact_id(&self) -> Option<&str> {
        self.contact_ids.first().map(String::as_str)
    }
}

/// When a link made at `now` stops working.
pub fn link_expires_at(now: Timestamp) -> Timestamp {
    now.saturating_add(LINK_LIFETIME).unwrap_or(now)
}

/// Whether a link that expires at `expires_at` and was used at `used_at` still signs in.
pub fn link_usable(expires_at: Timestamp, used_at: Option<Timestamp>, now: Timestamp) -> bool {
    used_at.is_none() && now < expires_at
}

/// How many sign-in links one address may ask for: 3 within 15 minutes. Requests past it answer
/// the same page and mail nothing, so nobody can flood an inbox through the form.
pub const LINK_REQUESTS: Throttle = Throttle { per_email: 3, per_address: i64::MAX, window: LINK_LIFETIME };

/// The key link requests of `email` are counted under (beside failed sign-ins, apart from them).
pub fn link_request_key(email: &str) -> String {
    format!("portal-link:{}", email.trim().to_lowercase())
}

/// Whether one more link may be mailed to an address that had `asked` within the window.
pub fn may_mail_link(asked: Failures, now: Timestamp) -> bool {
    LINK_REQUESTS.wait(asked, Failures::default(), now).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Ctx, NewCase};

    fn case(requester: &str, contact: Option<&str>, account: Option<&str>) -> Case {
        let tz = jiff::tz::TimeZone::UTC;
        let ctx = Ctx { org_id: "org_1", actor_id: "usr_1", now: Timestamp::UNIX_EPOCH, tz: &tz };
        let input = NewCase {
            subject: "Printer".into(),
            requester_id: Some(requester.into()),
            contact_id: contact.map(Into::into),
            account_id: account.map(Into::into),
            ..Default::default()
        };
        Case::create(input, &ctx).expect("a valid case")
    }

    #[test]
    fn a_requester_sees_their_own_cases_and_shared_accounts_only() {
        let scope = Scope { contact_ids: vec!["cnt_me".into()], shared_account_ids: vec!["acc_shared".into()] };
        let table = [
            (case("cnt_me", None, None), true),
            (case("usr_agent", Some("cnt_me"), None), true),
            (case("cnt_colleague", Some("cnt_colleague"), Some("acc_shared")), true),
            (case("cnt_colleague", Some("cnt_colleague"), Some("acc_private")), false),
            (case("cnt_other", Some("cnt_other"), None), false),
        ];
        for (c, expected) in table {
            assert_eq!(scope.can_see(&c), expected, "{:?} {:?} {:?}", c.requester_id, c.contact_id, c.account_id);
        }
        assert!(!Scope::default().can_see(&case("cnt_me", None, None)), "no contacts, no cases");
        assert_eq!(scope.contact_id(), Some("cnt_me"));
    }

    #[test]
    fn a_link_works_once_until_it_expires() {
        let t0 = Timestamp::UNIX_EPOCH;
        let exp = link_expires_at(t0);
        assert_eq!(exp.duration_since(t0), LINK_LIFETIME);
        assert!(link_usable(exp, None, t0));
        assert!(link_usable(exp, None, exp - SignedDuration::from_secs(1)));
        assert!(!link_usable(exp, None, exp), "expired at its end");
        assert!(!link_usable(exp, Some(t0), t0), "used once");
    }

    #[test]
    fn an_address_gets_three_links_per_fifteen_minutes() {
        let t = |mins: i64| Timestamp::UNIX_EPOCH.saturating_add(SignedDuration::from_mins(mins)).unwrap();
        let asked = |count| Failures { count, oldest: Some(t(0)) };
        assert!(may_mail_link(Failures::default(), t(0)));
        assert!(may_mail_link(asked(2), t(1)));
        assert!(!may_mail_link(asked(3), t(1)));
        assert!(!may_mail_link(asked(3), t(14)));
        assert_eq!(LINK_REQUESTS.since(t(20)), t(5), "requests older than the window do not count");
        assert_eq!(link_request_key(" Ana@Example.com"), "portal-link:ana@example.com");
    }
}
