//! The records of email: an organization's SMTP settings, its mailboxes (addresses mapped to
//! queues), and each message that came in or goes out, with the validation of what admins send.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{DomainError, Errors};
use crate::text;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587), which must succeed.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test sink.
    None,
}

impl SmtpSecurity {
    pub const fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "starttls" => Ok(SmtpSecurity::Starttls),
            "tls" => Ok(SmtpSecurity::Tls),
            "none" => Ok(SmtpSecurity::None),
            _ => Err("must be one of starttls, tls, none".into()),
        }
    }
}

/// An organization's outgoing mail server and default sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub org_id: String,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub updated_at: Timestamp,
}

impl MailSettings {
    pub fn blank(org_id: &str, now: Timestamp) -> Self {
        Self {
            org_id: org_id.to_string(),
            smtp_host: None,
            smtp_port: None,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            from_address: None,
            from_name: None,
            updated_at: now,
        }
    }

    /// Whether mail can go out: a server and a sender.
    pub fn can_send(&self) -> bool {
        self.smtp_host.is_some() && self.from_address.is_some()
    }

    /// The port to connect to: the one given, else the usual one for the security.
    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.smtp_security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// An admin's change to the mail settings: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MailSettingsInput {
    pub smtp_host: Option<Option<String>>,
    pub smtp_port: Option<Option<i64>>,
    pub smtp_security: Option<String>,
    pub smtp_username: Option<Option<String>>,
    pub smtp_password: Option<Option<String>>,
    pub from_address: Option<Option<String>>,
    pub from_name: Option<Option<String>>,
}

impl MailSettings {
    pub fn apply(mut self, input: MailSettingsInput, now: Timestamp) -> Result<Self, DomainError> {
        let mut errors = Errors::new();
        let line = |v: Option<String>, field: &str, max: usize, errors: &mut Errors| -> Option<String> {
            let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
            errors.take(field, text::bounded(&v, max))
        };
        if let Some(h) = input.smtp_host {
            self.smtp_host = line(h, "smtp_host", 253, &mut errors);
            if let Some(h) = &self.smtp_host
                && h.chars().any(|c| c.is_whitespace() || c == '/' || c == '@')
            {
                errors.add("smtp_host", "must be a host name or an IP address");
            }
        }
        if let Some(p) = input.smtp_port {
            self.smtp_port = match p {
                None => None,
                Some(p) => match u16::try_from(p) {
                    Ok(p) if p > 0 => Some(p),
                    _ => {
                        errors.add("smtp_port", "must be a port number from 1 to 65535");
                        None
                    }
                },
            };
        }
        if let Some(s) = input.smtp_security
            && let Some(s) = errors.take("smtp_security", SmtpSecurity::parse(&s))
        {
            self.smtp_security = s;
        }
        if let Some(u) = input.smtp_username {
            self.smtp_username = line(u, "smtp_username", 320, &mut errors);
        }
        if let Some(p) = input.smtp_password {
            self.smtp_password = p.filter(|p| !p.is_empty());
        }
        if let Some(a) = input.from_address {
            self.from_address = match a.filter(|a| !a.trim().is_empty()) {
                Some(a) => errors.take("from_address", text::email(&a)),
                None => None,
            };
        }
        if let Some(n) = input.from_name {
            self.from_name = line(n, "from_name", 200, &mut errors);
        }
        errors.finish()?;
        self.updated_at = now;
        Ok(self)
    }
}

/// An address mail comes in to, and the queue its cases go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub id: String,
    pub org_id: String,
    pub address: String,
    pub name: Option<String>,
    pub queue_id: Option<String>,
    pub created_at: Timestamp,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            _ => Err(format!("unknown direction {s:?}")),
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailState {
    /// In: stored, not yet made into a case or comment (a crash or a temporary failure).
    Received,
    /// In: made into a case or a comment.
    Processed,
    /// In: written by a machine (auto-reply, bounce, bulk): kept, never a case, never answered.
    Ignored,
    /// In: unreadable or too large: kept with the reason for an admin.
    Quarantined,
    /// Out: waiting to be sent (or for its next attempt).
    Queued,
    /// Out: accepted by the SMTP server.
    Sent,
    /// Out: given up on (refused for good, or failing for a day).
    Failed,
}

impl EmailState {
    pub const fn as_str(self) -> &'static str {
        match self {
            EmailState::Received => "received",
            EmailState::Processed => "processed",
            EmailState::Ignored => "ignored",
            EmailState::Quarantined => "quarantined",
            EmailState::Queued => "queued",
            EmailState::Sent => "sent",
            EmailState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "received" => EmailState::Received,
            "processed" => EmailState::Processed,
            "ignored" => EmailState::Ignored,
            "quarantined" => EmailState::Quarantined,
            "queued" => EmailState::Queued,
            "sent" => EmailState::Sent,
            "failed" => EmailState::Failed,
            _ => return Err(format!("unknown email state {s:?}")),
        })
    }
}

/// A message that came in or goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub id: String,
    pub org_id: String,
    pub direction: Direction,
    /// Without angle brackets.
    pub message_id: String,
    pub case_id: Option<String>,
    pub comment_id: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// Out: the text to send.
    pub body: Option<String>,
    /// Out: the message this one answers.
    pub in_reply_to: Option<String>,
    /// Out: the thread's earlier messages, oldest first.
    pub references: Vec<String>,
    /// Out: case files to attach.
    pub file_ids: Vec<String>,
    /// In: the original bytes in the file store.
    pub raw_sha256: Option<String>,
    pub size: i64,
    pub state: EmailState,
    /// Why it was ignored or quarantined.
    pub reason: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// How long an outgoing message is retried before it is given up on.
pub const GIVE_UP_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// When to try again after the `attempts`-th failed attempt: 30 s, doubling, at most an hour.
pub fn retry_delay(attempts: i64) -> SignedDuration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 7)).unwrap_or(7);
    SignedDuration::from_secs((30_i64 << doublings).min(3600))
}

impl EmailMessage {
    /// A message as it arrived, before anything is known of it but its bytes.
    pub fn received(id: String, org_id: &str, raw_sha256: String, size: i64, now: Timestamp) -> Self {
        EmailMessage {
            id,
            org_id: org_id.to_string(),
            direction: Direction::In,
            message_id: format!("{raw_sha256}@casedesk.invalid"),
            case_id: None,
            comment_id: None,
            from_address: String::new(),
            from_name: None,
            to: vec![],
            cc: vec![],
            subject: String::new(),
            body: None,
            in_reply_to: None,
            references: vec![],
            file_ids: vec![],
            raw_sha256: Some(raw_sha256),
            size,
            state: EmailState::Received,
            reason: None,
            attempts: 0,
            last_error: None,
            next_attempt_at: None,
            created_at: now,
            sent_at: None,
        }
    }

    /// Records a failed attempt: a permanent refusal, or a day of failures, gives up; otherwise
    /// the next attempt is scheduled.
    pub fn record_failure(&mut self, error: &str, permanent: bool, now: Timestamp) {
        self.last_error = Some(error.chars().take(500).collect());
        if permanent || now.duration_since(self.created_at) >= GIVE_UP_AFTER {
            self.state = EmailState::Failed;
            self.next_attempt_at = None;
        } else {
            self.state = EmailState::Queued;
            self.next_attempt_at = Some(now + retry_delay(self.attempts));
        }
    }

    pub fn record_sent(&mut self, now: Timestamp) {
        self.state = EmailState::Sent;
        self.sent_at = Some(now);
        self.next_attempt_at = None;
        self.last_error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-02T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn settings_validate_each_field_by_name() {
        let input = MailSettingsInput {
            smtp_host: Some(Some("smtp example".into())),
            smtp_port: Some(Some(70000)),
            smtp_security: Some("ssl".into()),
            from_address: Some(Some("nope".into())),
            ..Default::default()
        };
        let err = MailSettings::blank("org_1", now()).apply(input, now()).unwrap_err();
        let DomainError::Validation(errs) = err else { panic!("{err:?}") };
        let fields: Vec<_> = errs.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["smtp_host", "smtp_port", "smtp_security", "from_address"]);
    }

    #[test]
    fn settings_apply_and_clear() {
        let input = MailSettingsInput {
            smtp_host: Some(Some(" smtp.example.com ".into())),
            smtp_security: Some("tls".into()),
            from_address: Some(Some("Help@Acme.test".into())),
            smtp_password: Some(Some("s3cret".into())),
            ..Default::default()
        };
        let s = MailSettings::blank("org_1", now()).apply(input, now()).unwrap();
        assert_eq!(s.smtp_host.as_deref(), Some("smtp.example.com"));
        assert_eq!(s.from_address.as_deref(), Some("help@acme.test"));
        assert_eq!(s.port(), 465);
        assert!(s.can_send());
        let cleared = s.apply(MailSettingsInput { smtp_host: Some(None), ..Default::default() }, now()).unwrap();
        assert!(!cleared.can_send());
        assert_eq!(cleared.smtp_password.as_deref(), Some("s3cret"), "left alone unless named");
    }

    #[test]
    fn failures_back_off_then_give_up_after_a_day() {
        assert_eq!(retry_delay(1), SignedDuration::from_secs(30));
        assert_eq!(retry_delay(2), SignedDuration::from_secs(60));
        assert_eq!(retry_delay(20), SignedDuration::from_secs(3600));
        let mut m = EmailMessage {
            direction: Direction::Out,
            state: EmailState::Queued,
            attempts: 1,
            ..EmailMessage::received("eml_1".into(), "org_1", "ab".repeat(32), 0, now())
        };
        m.record_failure("421 try later", false, now());
        assert_eq!(m.state, EmailState::Queued);
        assert_eq!(m.next_attempt_at, Some(now() + SignedDuration::from_secs(30)));
        m.record_failure("421 try later", false, now() + SignedDuration::from_hours(25));
        assert_eq!(m.state, EmailState::Failed);
        let mut p = m.clone();
        p.state = EmailState::Queued;
        p.record_failure("550 no such user", true, now());
        assert_eq!(p.state, EmailState::Failed);
    }
}
