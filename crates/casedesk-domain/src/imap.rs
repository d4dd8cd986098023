//! A mailbox's IMAP settings, and the rules of polling it: which messages a poll fetches, where
//! it remembers it got to, and how long it waits after a failure.
//!
//! A mailbox that carries IMAP settings is polled: the server's folder is read for messages
//! casedesk has not taken in yet, each is taken in as mail posted to casedesk would be, marked
//! `\Seen`, and the mailbox's cursor (the folder's `UIDVALIDITY` and the last UID taken in)
//! moves past it. The cursor, not the flag, is what stops a message being taken twice: a flag
//! that could not be set, or one another mail program cleared, changes nothing.
//!
//! The password is kept sealed (see [`crate::signing_key::SealingKey`]), bound to the mailbox;
//! these rules only decide what a change keeps, clears or sets.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{DomainError, Errors};
use crate::text;

/// Most messages taken in by one poll of a mailbox; the rest wait for the next poll, which then
/// comes at once. Keeps one poll (and its lease) short.
pub const FETCH_BATCH: usize = 50;
/// The longest wait after failures.
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_secs(3600);
/// Longest error text kept on a mailbox.
const MAX_ERROR: usize = 500;
const MAX_FOLDER: usize = 200;
const MAX_PASSWORD: usize = 1024;

/// How the connection to the IMAP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993): the default.
    Tls,
    /// A plain connection upgraded with STARTTLS (port 143), which must succeed.
    Starttls,
    /// No encryption: only for a server on the same host or a test server.
    None,
}

impl ImapSecurity {
    pub const fn as_str(self) -> &'static str {
        match self {
            ImapSecurity::Tls => "tls",
            ImapSecurity::Starttls => "starttls",
            ImapSecurity::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "tls" => Ok(ImapSecurity::Tls),
            "starttls" => Ok(ImapSecurity::Starttls),
            "none" => Ok(ImapSecurity::None),
            _ => Err("must be one of tls, starttls, none".into()),
        }
    }

    /// The usual port for the security.
    pub const fn default_port(self) -> u16 {
        match self {
            ImapSecurity::Tls => 993,
            ImapSecurity::Starttls | ImapSecurity::None => 143,
        }
    }
}

/// Where polling a folder got to: the folder's `UIDVALIDITY` and the highest UID taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// A mailbox's IMAP settings and its polling state, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapMailbox {
    pub mailbox_id: String,
    pub org_id: String,
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    /// The password, sealed under the server's key and bound to the mailbox
    /// ([`password_binding`]). Never shown.
    pub password_sealed: Option<String>,
    pub folder: String,
    /// Whether the mailbox is polled.
    pub enabled: bool,
    /// Where polling got to; `None` before the first message (or after the settings moved to
    /// another server, account or folder).
    pub cursor: Option<Cursor>,
    pub last_poll_at: Option<Timestamp>,
    /// The last poll's failure; `None` once a poll succeeds.
    pub last_error: Option<String>,
    /// Failed polls in a row (they set the backoff).
    pub failures: u32,
    /// When the mailbox is next due.
    pub next_poll_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a sealed IMAP password is bound to: a sealed value copied to another mailbox does not open.
pub fn password_binding(org_id: &str, mailbox_id: &str) -> String {
    format!("{org_id}/{mailbox_id}/imap-password")
}

/// A password an admin gave, to be sealed before it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(pub String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

/// An admin's IMAP settings for a mailbox, whole (a `PUT`). `password` left out keeps the stored
/// one while host and username stay the same; `null` or `""` removes it.
#[derive(Clone, Default)]
pub struct ImapInput {
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<Option<String>>,
    pub folder: Option<String>,
    pub enabled: Option<bool>,
}

impl std::fmt::Debug for ImapInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapInput")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|p| p.as_ref().map(|_| "…")))
            .field("folder", &self.folder)
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl ImapInput {
    /// The settings after this input, given the mailbox's current ones (if any), with the new
    /// password to seal if one was given; every bad field is named, under `prefix` (`imap.` when
    /// the settings came inside a mailbox). The polling state is kept unless the server, account
    /// or folder changed: then the cursor and errors start afresh. A stored password never
    /// follows a change of host or username.
    pub fn apply(
        self,
        mailbox_id: &str,
        org_id: &str,
        current: Option<&ImapMailbox>,
        now: Timestamp,
        prefix: &str,
    ) -> Result<(ImapMailbox, Option<NewPassword>), DomainError> {
        let mut errors = Errors::new();
        let f = |name: &str| format!("{prefix}{name}");
        let host = match self.host.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => {
                errors.add(f("host"), "required");
                None
            }
            Some(h) if h.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@')) => {
                errors.add(f("host"), "must be a host name or an IP address");
                None
            }
            Some(h) => errors.take(&f("host"), text::bounded(h, 253)),
        };
        let security = match self.security.as_deref() {
            None => Some(ImapSecurity::Tls),
            Some(s) => errors.take(&f("security"), ImapSecurity::parse(s)),
        };
        let port = match self.port {
            None => security.map(ImapSecurity::default_port),
            Some(p) => match u16::try_from(p) {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    errors.add(f("port"), "must be a port number from 1 to 65535");
                    None
                }
            },
        };
        let username = match self.username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => {
                errors.add(f("username"), "required");
                None
            }
            Some(u) if u.chars().any(char::is_control) => {
                errors.add(f("username"), "must not contain control characters");
                None
            }
            Some(u) => errors.take(&f("username"), text::bounded(u, 320)),
        };
        let folder = match self.folder.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
            None => Some("INBOX".to_string()),
            Some(x) if x.chars().any(char::is_control) => {
                errors.add(f("folder"), "must not contain control characters");
                None
            }
            Some(x) => errors.take(&f("folder"), text::bounded(x, MAX_FOLDER)),
        };
        let new_password = match &self.password {
            Some(Some(p)) if !p.is_empty() => {
                if p.chars().count() > MAX_PASSWORD {
                    errors.add(f("password"), format!("must be at most {MAX_PASSWORD} characters"));
                    None
                } else if p.chars().any(|c| matches!(c, '\r' | '\n' | '\0')) {
                    errors.add(f("password"), "must not contain line breaks");
                    None
                } else {
                    Some(NewPassword(p.clone()))
                }
            }
            _ => None,
        };
        errors.finish()?;
        let (Some(host), Some(port), Some(security), Some(username), Some(folder)) =
            (host, port, security, username, folder)
        else {
            return Err(DomainError::field(f("host"), "required"));
        };
        let same_account = current.is_some_and(|c| c.host == host && c.username == username);
        let same_folder = same_account && current.is_some_and(|c| c.port == port && c.folder == folder);
        let keep_password = self.password.is_none() && same_account;
        let password_sealed = if keep_password { current.and_then(|c| c.password_sealed.clone()) } else { None };
        let enabled = self.enabled.unwrap_or(true);
        if enabled && new_password.is_none() && password_sealed.is_none() {
            return Err(DomainError::field(f("password"), "required to poll the mailbox"));
        }
        let (cursor, last_poll_at, last_error, failures) = match current {
            Some(c) if same_folder => (c.cursor, c.last_poll_at, c.last_error.clone(), c.failures),
            _ => (None, None, None, 0),
        };
        let next = ImapMailbox {
            mailbox_id: mailbox_id.to_string(),
            org_id: org_id.to_string(),
            host,
            port,
            security,
            username,
            password_sealed,
            folder,
            enabled,
            cursor,
            last_poll_at,
            last_error,
            failures,
            // A change is tried at once: an admin fixing a password wants to see it work.
            next_poll_at: now,
            updated_at: now,
        };
        Ok((next, new_password))
    }
}

/// What a poll asks the server for, once the folder is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// `UID SEARCH UNSEEN`: the first poll of a folder (or of a folder whose UIDs were
    /// renumbered) takes the messages nobody has read, not the folder's whole history.
    Unseen,
    /// `UID SEARCH UID <n>:*`: every message after the cursor, read by someone or not.
    After(u32),
}

impl Search {
    /// The search for a folder whose `UIDVALIDITY` is `uid_validity`, given the cursor.
    pub fn for_folder(cursor: Option<Cursor>, uid_validity: u32) -> Search {
        match cursor {
            Some(c) if c.uid_validity == uid_validity => Search::After(c.last_uid.saturating_add(1)),
            _ => Search::Unseen,
        }
    }

    /// The IMAP search criteria.
    pub fn criteria(self) -> String {
        match self {
            Search::Unseen => "UNSEEN".to_string(),
            Search::After(n) => format!("UID {n}:*"),
        }
    }
}

/// The UIDs to fetch, in order, from what a search answered: only those after the cursor (a
/// `UID n:*` search also answers the last message when none is newer), at most [`FETCH_BATCH`].
/// The second value says whether more were left for the next poll.
pub fn to_fetch(cursor: Option<Cursor>, uid_validity: u32, found: &[u32]) -> (Vec<u32>, bool) {
    let after = match cursor {
        Some(c) if c.uid_validity == uid_validity => c.last_uid,
        _ => 0,
    };
    let mut uids: Vec<u32> = found.iter().copied().filter(|&u| u > after).collect();
    uids.sort_unstable();
    uids.dedup();
    let more = uids.len() > FETCH_BATCH;
    uids.truncate(FETCH_BATCH);
    (uids, more)
}

/// The cursor after taking in `uid` from a folder with `uid_validity`.
pub fn advance(cursor: Option<Cursor>, uid_validity: u32, uid: u32) -> Cursor {
    match cursor {
        Some(c) if c.uid_validity == uid_validity => Cursor { uid_validity, last_uid: c.last_uid.max(uid) },
        _ => Cursor { uid_validity, last_uid: uid },
    }
}

/// The cursor after a poll that took in everything its search found (none left for the next
/// poll): past `UIDNEXT - 1` as the folder was selected, so the messages a first poll passed
/// over as read stay passed over, and from then on every new message is after the cursor
/// whatever its flags. `None` when there is nothing to record (no `UIDNEXT`, or no change).
pub fn settle(cursor: Option<Cursor>, uid_validity: u32, uid_next: Option<u32>) -> Option<Cursor> {
    let last = uid_next?.checked_sub(1)?;
    let next = advance(cursor, uid_validity, last);
    (Some(next) != cursor).then_some(next)
}

/// How long to wait after `failures` failed polls in a row: the interval, doubled per failure
/// after the first, at most [`MAX_BACKOFF`] (never less than the interval).
pub fn backoff(interval: SignedDuration, failures: u32) -> SignedDuration {
    let doublings = failures.saturating_sub(1).min(20);
    let wait = interval.checked_mul(1_i32 << doublings).unwrap_or(MAX_BACKOFF);
    wait.min(MAX_BACKOFF).max(interval)
}

/// An error as a mailbox shows it: one line, bounded.
pub fn error_text(message: &str) -> String {
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_ERROR {
        return line;
    }
    let mut cut: String = line.chars().take(MAX_ERROR - 1).collect();
    cut.push('…');
    cut
}

impl ImapMailbox {
    /// The state after a poll that ended at `now`: the error (if any) is kept and the next poll
    /// backs off, or the failures are forgotten and the next poll comes after `interval` (at
    /// once when messages were left over).
    pub fn polled(&mut self, now: Timestamp, interval: SignedDuration, error: Option<&str>, more: bool) {
        self.last_poll_at = Some(now);
        match error {
            Some(e) => {
                self.failures = self.failures.saturating_add(1);
                self.last_error = Some(error_text(e));
                self.next_poll_at = now.saturating_add(backoff(interval, self.failures)).unwrap_or(now);
            }
            None => {
                self.failures = 0;
                self.last_error = None;
                let wait = if more { SignedDuration::ZERO } else { interval };
                self.next_poll_at = now.saturating_add(wait).unwrap_or(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-02T09:00:00Z".parse().unwrap()
    }

    fn input() -> ImapInput {
        ImapInput {
            host: Some("imap.example.com".into()),
            username: Some("help@example.com".into()),
            password: Some(Some("s3cret".into())),
            ..Default::default()
        }
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_tls_993_and_inbox() {
        let (s, pw) = input().apply("mbx_1", "org_1", None, now(), "").unwrap();
        assert_eq!((s.security, s.port, s.folder.as_str(), s.enabled), (ImapSecurity::Tls, 993, "INBOX", true));
        assert_eq!(pw, Some(NewPassword("s3cret".into())));
        assert_eq!((s.cursor, s.next_poll_at), (None, now()));
        let starttls = ImapInput { security: Some("starttls".into()), ..input() };
        assert_eq!(starttls.apply("mbx_1", "org_1", None, now(), "").unwrap().0.port, 143);
    }

    #[test]
    fn every_bad_field_is_named_with_the_prefix() {
        let bad = ImapInput {
            host: Some("imap example.com".into()),
            port: Some(70000),
            security: Some("ssl".into()),
            username: Some("  ".into()),
            password: Some(Some("a\r\nb".into())),
            folder: Some("In\u{7}box".into()),
            enabled: None,
        };
        let got = fields(bad.apply("mbx_1", "org_1", None, now(), "imap.").unwrap_err());
        for f in ["imap.host", "imap.port", "imap.security", "imap.username", "imap.password", "imap.folder"] {
            assert!(got.contains(&f.to_string()), "{f} in {got:?}");
        }
    }

    #[test]
    fn polling_needs_a_password_but_a_switched_off_mailbox_does_not() {
        let none = ImapInput { password: None, ..input() };
        assert_eq!(fields(none.clone().apply("m", "o", None, now(), "").unwrap_err()), vec!["password"]);
        let off = ImapInput { enabled: Some(false), ..none };
        assert!(!off.apply("m", "o", None, now(), "").unwrap().0.enabled);
    }

    #[test]
    fn the_password_stays_with_its_host_and_username_only() {
        let (mut stored, _) = input().apply("m", "o", None, now(), "").unwrap();
        stored.password_sealed = Some("v1.sealed".into());
        stored.cursor = Some(Cursor { uid_validity: 7, last_uid: 40 });
        let kept = ImapInput { password: None, enabled: Some(false), ..input() };
        let (next, pw) = kept.apply("m", "o", Some(&stored), now(), "").unwrap();
        assert_eq!((next.password_sealed.as_deref(), pw), (Some("v1.sealed"), None));
        assert_eq!(next.cursor, stored.cursor, "same folder: the cursor stays");

        let moved = ImapInput { host: Some("imap.other.example".into()), password: None, ..input() };
        assert_eq!(fields(moved.apply("m", "o", Some(&stored), now(), "").unwrap_err()), vec!["password"]);

        let cleared = ImapInput { password: Some(None), enabled: Some(false), ..input() };
        assert_eq!(cleared.apply("m", "o", Some(&stored), now(), "").unwrap().0.password_sealed, None);

        let other_folder = ImapInput { folder: Some("Support".into()), password: None, ..input() };
        let (next, _) = other_folder.apply("m", "o", Some(&stored), now(), "").unwrap();
        assert_eq!((next.cursor, next.password_sealed.as_deref()), (None, Some("v1.sealed")));
    }

    #[test]
    fn the_first_poll_takes_unread_mail_and_later_ones_everything_after_the_cursor() {
        assert_eq!(Search::for_folder(None, 5), Search::Unseen);
        let c = Some(Cursor { uid_validity: 5, last_uid: 12 });
        assert_eq!(Search::for_folder(c, 5), Search::After(13));
        assert_eq!(Search::for_folder(c, 5).criteria(), "UID 13:*");
        assert_eq!(Search::for_folder(c, 6), Search::Unseen, "renumbered folder");
        assert_eq!(Search::Unseen.criteria(), "UNSEEN");
    }

    #[test]
    fn only_uids_after_the_cursor_are_fetched_in_order() {
        let c = Some(Cursor { uid_validity: 5, last_uid: 12 });
        // `UID 13:*` answers the last message (12) when nothing is newer.
        assert_eq!(to_fetch(c, 5, &[12]), (vec![], false));
        assert_eq!(to_fetch(c, 5, &[15, 13, 12, 15]), (vec![13, 15], false));
        assert_eq!(to_fetch(c, 9, &[3, 1]), (vec![1, 3], false), "another UIDVALIDITY starts over");
        let many: Vec<u32> = (1..=120).collect();
        let (first, more) = to_fetch(None, 1, &many);
        assert_eq!((first.len(), first[0], first[FETCH_BATCH - 1], more), (FETCH_BATCH, 1, 50, true));
    }

    #[test]
    fn the_cursor_only_moves_forward_within_one_uidvalidity() {
        let c = Some(Cursor { uid_validity: 5, last_uid: 12 });
        assert_eq!(advance(c, 5, 14), Cursor { uid_validity: 5, last_uid: 14 });
        assert_eq!(advance(c, 5, 3), Cursor { uid_validity: 5, last_uid: 12 });
        assert_eq!(advance(c, 8, 3), Cursor { uid_validity: 8, last_uid: 3 });
        assert_eq!(advance(None, 8, 2), Cursor { uid_validity: 8, last_uid: 2 });
    }

    #[test]
    fn a_finished_poll_moves_the_cursor_to_the_folder_s_uidnext() {
        // A first poll of a folder with only read mail still starts the cursor.
        assert_eq!(settle(None, 5, Some(9)), Some(Cursor { uid_validity: 5, last_uid: 8 }));
        assert_eq!(settle(Some(Cursor { uid_validity: 5, last_uid: 8 }), 5, Some(9)), None, "no change");
        assert_eq!(settle(Some(Cursor { uid_validity: 5, last_uid: 8 }), 5, Some(4)), None, "never back");
        assert_eq!(
            settle(Some(Cursor { uid_validity: 4, last_uid: 8 }), 5, Some(3)),
            Some(Cursor { uid_validity: 5, last_uid: 2 })
        );
        assert_eq!(settle(None, 5, None), None);
        assert_eq!(settle(None, 5, Some(1)), Some(Cursor { uid_validity: 5, last_uid: 0 }), "an empty folder");
        assert_eq!(settle(None, 5, Some(0)), None);
    }

    #[test]
    fn failures_back_off_doubling_up_to_an_hour() {
        let m = SignedDuration::from_secs(60);
        assert_eq!(backoff(m, 1), m);
        assert_eq!(backoff(m, 2), SignedDuration::from_secs(120));
        assert_eq!(backoff(m, 4), SignedDuration::from_secs(480));
        assert_eq!(backoff(m, 30), MAX_BACKOFF);
        assert_eq!(backoff(SignedDuration::from_secs(7200), 3), SignedDuration::from_secs(7200));
    }

    #[test]
    fn a_poll_records_its_outcome() {
        let (mut s, _) = input().apply("m", "o", None, now(), "").unwrap();
        let m = SignedDuration::from_secs(60);
        s.polled(now(), m, Some("NO [AUTHENTICATIONFAILED]\r\n  bad"), false);
        s.polled(now(), m, Some("again"), false);
        assert_eq!((s.failures, s.last_error.as_deref()), (2, Some("again")));
        assert_eq!(s.next_poll_at, now().saturating_add(SignedDuration::from_secs(120)).unwrap());
        s.polled(now(), m, None, true);
        assert_eq!((s.failures, s.last_error.as_deref(), s.next_poll_at), (0, None, now()));
        s.polled(now(), m, None, false);
        assert_eq!(s.next_poll_at, now().saturating_add(m).unwrap());
        assert_eq!(error_text(&"x".repeat(900)).chars().count(), 500);
        assert_eq!(error_text("NO\r\n bad  password"), "NO bad password");
    }
}
