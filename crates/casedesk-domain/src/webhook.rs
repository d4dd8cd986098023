//! Webhooks: subscriptions to an organization's case events, the deliveries made for them, the
//! body and signature a receiver gets, and when a failed delivery is tried again, given up
//! (dead-lettered), or its endpoint switched off.
//!
//! Everything here is a pure function of its inputs: time and randomness (the retry jitter)
//! are arguments. Sending, storing and the workers live in the core and the store.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::case::Case;
use crate::error::{DomainError, Errors};
use crate::text;
use crate::timeline::{Comment, Event};

/// The event types a webhook can subscribe to: every kind of case event the timeline records.
pub const EVENT_TYPES: &[&str] = &[
    "case.created",
    "case.imported",
    "field.changed",
    "status.changed",
    "comment.added",
    "case.assigned",
    "case.queued",
    "case.escalated",
    "case.merged",
    "case.merged_into",
    "case.deleted",
    "case.restored",
    "case.purged",
    "custom_fields.dropped",
    "sla.applied",
    "sla.removed",
    "sla.paused",
    "sla.resumed",
    "sla.warning",
    "sla.breached",
    "sla.met",
    "link.added",
    "link.removed",
    "file.added",
    "file.deleted",
    "milestone.added",
    "milestone.completed",
    "milestone.overdue",
    "milestone.removed",
    "activity.logged",
    "activity.updated",
    "activity.deleted",
    "task.created",
    "task.completed",
    "time_entry.created",
    "time_entry.updated",
    "time_entry.deleted",
    "time_estimate.changed",
    "timer.started",
    "timer.paused",
    "timer.stopped",
    "ai.suggestion",
    "rule.applied",
];

/// Subscribes to every event type, including ones added later.
pub const ALL_EVENTS: &str = "*";

/// How long a delivery is retried before it is dead-lettered.
pub const RETRY_WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// An endpoint whose every delivery attempt failed for this long is switched off.
pub const DISABLE_AFTER: SignedDuration = SignedDuration::from_hours(24);
/// The wait after the first failed attempt; it doubles with each further failure …
pub const FIRST_RETRY: SignedDuration = SignedDuration::from_secs(30);
/// … up to this.
pub const MAX_RETRY: SignedDuration = SignedDuration::from_hours(1);
/// A wait is lengthened by up to this fraction at random, so that deliveries that failed
/// together (an endpoint that was down) do not all come back at the same instant.
pub const JITTER: f64 = 0.2;

const MAX_URL: usize = 2000;
const MIN_SECRET: usize = 16;
const MAX_SECRET: usize = 200;

/// A subscription of an endpoint to some (or all) of an organization's case events.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    pub org_id: String,
    /// An `http` or `https` URL the deliveries are POSTed to.
    pub url: String,
    /// The event types sent; `["*"]` for all.
    pub events: Vec<String>,
    pub description: String,
    /// Signs every delivery. Shown once, when the webhook is created.
    pub secret: String,
    pub active: bool,
    /// The admin who created it, told when it is switched off.
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Since when every attempt failed; `None` after a success.
    pub failing_since: Option<Timestamp>,
    /// When and why casedesk switched it off (cleared when an admin switches it back on).
    pub disabled_at: Option<Timestamp>,
    pub disabled_reason: Option<String>,
}

impl Webhook {
    /// A new, active webhook subscribed to every event, to be filled by a [`WebhookInput`].
    pub fn new(id: String, org_id: &str, created_by: &str, secret: String, now: Timestamp) -> Webhook {
        Webhook {
            id,
            org_id: org_id.to_string(),
            url: String::new(),
            events: vec![ALL_EVENTS.to_string()],
            description: String::new(),
            secret,
            active: true,
            created_by: created_by.to_string(),
            created_at: now,
            updated_at: now,
            failing_since: None,
            disabled_at: None,
            disabled_reason: None,
        }
    }

    /// Whether an event of type `kind` is sent to this webhook.
    pub fn subscribes(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == ALL_EVENTS || e == kind)
    }

    /// The webhook after an attempt failed at `now` (see [`Health::record_failure`]).
    pub fn record_failure(&mut self, now: Timestamp) -> bool {
        self.health().record_failure(now)
    }

    pub fn health(&mut self) -> Health<'_> {
        Health {
            active: &mut self.active,
            failing_since: &mut self.failing_since,
            disabled_at: &mut self.disabled_at,
            disabled_reason: &mut self.disabled_reason,
        }
    }
}

/// The on/off switch and failure record of an endpoint casedesk POSTs to (a webhook, a channel
/// connector): since when every attempt failed, and when and why casedesk switched it off.
pub struct Health<'a> {
    pub active: &'a mut bool,
    pub failing_since: &'a mut Option<Timestamp>,
    pub disabled_at: &'a mut Option<Timestamp>,
    pub disabled_reason: &'a mut Option<String>,
}

impl Health<'_> {
    /// An attempt failed at `now`: the endpoint is switched off once every attempt has been
    /// failing for [`DISABLE_AFTER`]. Returns whether this failure switched it off.
    pub fn record_failure(self, now: Timestamp) -> bool {
        let since = *self.failing_since.get_or_insert(now);
        if *self.active && now.duration_since(since) >= DISABLE_AFTER {
            *self.active = false;
            *self.disabled_at = Some(now);
            *self.disabled_reason = Some(format!(
                "every delivery attempt failed for {} hours (since {since}); fix the endpoint and set active to true",
                DISABLE_AFTER.as_hours()
            ));
            return true;
        }
        false
    }

    /// An admin switches it on or off; switching it back on forgets its failures.
    pub fn switch(self, active: bool) {
        if active && !*self.active {
            *self.failing_since = None;
            *self.disabled_at = None;
            *self.disabled_reason = None;
        }
        *self.active = active;
    }
}

/// A new secret: `whsec_` and 32 random bytes in hex.
pub fn new_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", hex::encode(bytes))
}

/// A webhook as a request gives it; `None` keeps the current value on an update.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

impl WebhookInput {
    /// Applies the input to `base` (a new webhook's defaults, or the stored one) at `now`.
    /// Switching a webhook back on forgets its failures.
    pub fn apply(self, mut base: Webhook, now: Timestamp) -> Result<Webhook, DomainError> {
        let mut errors = Errors::new();
        match self.url {
            Some(u) => {
                if let Some(u) = errors.take("url", parse_url(&u)) {
                    base.url = u;
                }
            }
            None if base.url.is_empty() => errors.add("url", "a webhook needs a url"),
            None => {}
        }
        if let Some(events) = self.events {
            base.events = check_events(&events, &mut errors);
        }
        if let Some(d) = self.description
            && let Some(d) = errors.take("description", text::bounded(d.trim(), 500))
        {
            base.description = d;
        }
        if let Some(active) = self.active {
            base.health().switch(active);
        }
        errors.finish()?;
        base.updated_at = now;
        Ok(base)
    }
}

/// An absolute `http` or `https` URL with a host, without credentials or a fragment.
pub fn parse_url(s: &str) -> Result<String, String> {
    text::http_url(s, MAX_URL, "verify deliveries by their signature instead").map(|u| u.to_string())
}

/// A secret a client chose: printable ASCII without spaces, 16 to 200 characters.
pub fn check_secret(s: &str) -> Result<String, String> {
    if !(MIN_SECRET..=MAX_SECRET).contains(&s.len()) {
        return Err(format!("must be {MIN_SECRET} to {MAX_SECRET} characters"));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(s.to_string())
}

/// The event types as given, each checked (`events[i]` names a mistake): at least one, none
/// twice, and `*` alone.
fn check_events(events: &[String], errors: &mut Errors) -> Vec<String> {
    if events.is_empty() {
        errors.add("events", "name at least one event type, or \"*\" for all");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let e = e.trim();
        if e != ALL_EVENTS && !EVENT_TYPES.contains(&e) {
            errors.add(
                format!("events[{i}]"),
                format!("unknown event type {e:?}; expected \"*\" or one of {}", EVENT_TYPES.join(", ")),
            );
        } else if out.iter().any(|o| o == e) {
            errors.add(format!("events[{i}]"), "named twice");
        } else {
            out.push(e.to_string());
        }
    }
    if out.len() > 1 && out.iter().any(|e| e == ALL_EVENTS) {
        errors.add("events", "\"*\" already means every event type; give it alone");
    }
    out
}

/// The id a receiver sees for an event: the same on every attempt and every redelivery, so it
/// can drop duplicates.
pub fn event_id(seq: i64) -> String {
    format!("evt_{seq}")
}

/// The JSON body of a delivery of `event`, with the case as it stood when the delivery was
/// made (`null` once the case is gone) and, for `comment.added`, the comment.
pub fn payload(event: &Event, case: Option<&Case>, comment: Option<&Comment>) -> String {
    let mut body = json!({
        "id": event_id(event.seq),
        "type": event.kind,
        "occurred_at": event.created_at,
        "organization_id": event.org_id,
        "case_id": event.case_id,
        "actor_id": event.actor_id,
        "case": case.map(snapshot),
        "changes": event.data,
    });
    if let Some(c) = comment {
        body["comment"] = json!({
            "id": c.id,
            "body": c.body,
            "internal": c.internal,
            "author_id": c.author_id,
            "author_type": c.author_type.as_str(),
            "created_at": c.created_at,
        });
    }
    body.to_string()
}

/// The case fields a receiver gets in every delivery.
fn snapshot(c: &Case) -> Value {
    json!({
        "id": c.id,
        "case_number": c.case_number,
        "subject": c.subject,
        "status": c.status.as_str(),
        "priority": c.priority.as_str(),
        "type": c.case_type.as_str(),
        "channel": c.channel.as_str(),
        "queue_id": c.queue_id,
        "owner_id": c.owner_id,
        "requester_id": c.requester_id,
        "contact_id": c.contact_id,
        "account_id": c.account_id,
        "tags": c.tags,
        "custom_fields": c.custom_fields,
        "due_at": c.due_at,
        "resolved_at": c.resolved_at,
        "closed_at": c.closed_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "version": c.version,
    })
}

/// The `Casedesk-Signature` header of `body` sent at unix time `t`:
/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return format!("t={t},v1="),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt for [`RETRY_WINDOW`] failed: given up (dead-lettered).
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One event to send to one webhook, with its attempts so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub org_id: String,
    pub webhook_id: String,
    /// The event's position in the organization's feed; its id is [`event_id`] of it.
    pub event_seq: i64,
    pub event_type: String,
    pub case_id: String,
    /// The body sent, the same on every attempt.
    pub payload: String,
    pub state: DeliveryState,
    /// Attempts started, including one under way.
    pub attempts: i64,
    /// The HTTP status of the last answer (none when the endpoint could not be reached).
    pub response_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    /// When a pending delivery is next tried (while an attempt is under way: when its lease
    /// runs out).
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

impl Delivery {
    /// A first delivery of an event, due at once.
    pub fn new(id: String, webhook: &Webhook, event: &Event, payload: String, now: Timestamp) -> Delivery {
        Self::fresh(
            id,
            webhook.org_id.clone(),
            webhook.id.clone(),
            event.seq,
            event.kind.clone(),
            event.case_id.clone(),
            payload,
            now,
        )
    }

    /// The same event again, as a new delivery due at once (an admin's redeliver).
    pub fn again(&self, id: String, now: Timestamp) -> Result<Delivery, DomainError> {
        if self.state == DeliveryState::Pending {
            return Err(DomainError::Conflict {
                code: "delivery_pending",
                message: "this delivery is still being tried; redeliver it once it succeeded or failed".into(),
            });
        }
        let d = self.clone();
        Ok(Self::fresh(id, d.org_id, d.webhook_id, d.event_seq, d.event_type, d.case_id, d.payload, now))
    }

    /// A delivery of `payload` to endpoint `webhook_id` (a webhook, or a channel connector),
    /// due at once.
    #[allow(clippy::too_many_arguments)]
    pub fn fresh(
        id: String,
        org_id: String,
        webhook_id: String,
        event_seq: i64,
        event_type: String,
        case_id: String,
        payload: String,
        now: Timestamp,
    ) -> Delivery {
        Delivery {
            id,
            org_id,
            webhook_id,
            event_seq,
            event_type,
            case_id,
            payload,
            state: DeliveryState::Pending,
            attempts: 0,
            response_status: None,
            last_error: None,
            created_at: now,
            last_attempt_at: None,
            next_attempt_at: now,
            delivered_at: None,
        }
    }

    /// Records the outcome of the attempt made at `now`: delivered, retried later (after a
    /// backoff lengthened by `jitter` ∈ [0, 1) of [`JITTER`]), or given up once the delivery has
    /// been failing for [`RETRY_WINDOW`].
    pub fn record(&mut self, outcome: Result<u16, String>, now: Timestamp, jitter: f64) {
        self.last_attempt_at = Some(now);
        match outcome {
            Ok(status) if (200..300).contains(&status) => {
                self.response_status = Some(i64::from(status));
                self.last_error = None;
                self.state = DeliveryState::Delivered;
                self.delivered_at = Some(now);
                return;
            }
            Ok(status) => {
                self.response_status = Some(i64::from(status));
                self.last_error = Some(format!("the endpoint answered {status}"));
            }
            Err(e) => {
                self.response_status = None;
                self.last_error = Some(e);
            }
        }
        match retry_at(self.attempts, self.created_at, now, jitter) {
            Some(at) => self.next_attempt_at = at,
            None => self.state = DeliveryState::Failed,
        }
    }
}

/// When to try again after `attempts` failed attempts of a delivery made at `first`, the last
/// at `now`: 30 s, 1 min, 2 min … doubling up to an hour, each lengthened by up to 20 % at
/// random; `None` once the delivery has been failing for [`RETRY_WINDOW`] (dead-letter).
pub fn retry_at(attempts: i64, first: Timestamp, now: Timestamp, jitter: f64) -> Option<Timestamp> {
    if now.duration_since(first) >= RETRY_WINDOW {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let base = FIRST_RETRY.as_secs_f64() * f64::from(2u32.pow(doublings));
    let wait = base.min(MAX_RETRY.as_secs_f64()) * (1.0 + JITTER * jitter.clamp(0.0, 1.0));
    Some(now + SignedDuration::from_secs_f64(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn blank() -> Webhook {
        Webhook::new("wh_1".into(), "org_1", "usr_1", "whsec_x".into(), t(0))
    }

    fn event(kind: &str) -> Event {
        Event {
            seq: 42,
            org_id: "org_1".into(),
            case_id: "case_1".into(),
            kind: kind.into(),
            actor_id: Some("usr_1".into()),
            data: json!({"field": "priority", "old": "low", "new": "high"}),
            created_at: t(5),
        }
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert_eq!(parse_url(" https://hooks.example.com/in?x=1 ").unwrap(), "https://hooks.example.com/in?x=1");
        assert_eq!(parse_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080/");
        for bad in [
            "",
            "hooks.example.com/in",
            "ftp://example.com/",
            "http://",
            "https://u:p@example.com/",
            "https://example.com/#x",
            "javascript:alert(1)",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_url(&format!("https://example.com/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn input_names_each_bad_field() {
        let input = WebhookInput {
            url: Some("nope".into()),
            events: Some(vec!["case.created".into(), "case.exploded".into(), "case.created".into()]),
            ..Default::default()
        };
        assert_eq!(fields(input.apply(blank(), t(1)).unwrap_err()), ["url", "events[1]", "events[2]"]);
        let none = WebhookInput { url: Some("https://x.example/".into()), events: Some(vec![]), ..Default::default() };
        assert_eq!(fields(none.apply(blank(), t(1)).unwrap_err()), ["events"]);
        let mixed = WebhookInput {
            url: Some("https://x.example/".into()),
            events: Some(vec!["*".into(), "case.created".into()]),
            ..Default::default()
        };
        assert_eq!(fields(mixed.apply(blank(), t(1)).unwrap_err()), ["events"]);
        assert_eq!(fields(WebhookInput::default().apply(blank(), t(1)).unwrap_err()), ["url"]);
    }

    #[test]
    fn input_fills_and_keeps_fields() {
        let created = WebhookInput {
            url: Some("https://x.example/hook".into()),
            description: Some(" CRM sync ".into()),
            ..Default::default()
        }
        .apply(blank(), t(1))
        .unwrap();
        assert_eq!((created.url.as_str(), created.description.as_str()), ("https://x.example/hook", "CRM sync"));
        assert!(created.subscribes("comment.added") && created.subscribes("anything.new"), "all by default");
        let narrowed = WebhookInput { events: Some(vec!["comment.added".into()]), ..Default::default() }
            .apply(created, t(2))
            .unwrap();
        assert!(narrowed.subscribes("comment.added") && !narrowed.subscribes("case.created"));
        assert_eq!((narrowed.url.as_str(), narrowed.updated_at), ("https://x.example/hook", t(2)));
    }

    #[test]
    fn secrets_are_long_printable_and_random() {
        let a = new_secret();
        assert!(a.starts_with("whsec_") && a.len() == 6 + 64);
        assert_ne!(a, new_secret());
        assert!(check_secret(&a).is_ok());
        assert!(check_secret("short").is_err());
        assert!(check_secret("sixteen chars ok").is_err(), "spaces");
        assert!(check_secret(&"x".repeat(201)).is_err());
    }

    #[test]
    fn signature_is_hmac_sha256_of_time_and_body() {
        let sig = signature("key", 1700000000, "{\"a\":1}");
        // Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(b"key",
        // b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())'
        assert_eq!(sig, "t=1700000000,v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
        assert_ne!(sig, signature("other", 1700000000, "{\"a\":1}"), "depends on the secret");
        assert_ne!(sig, signature("key", 1700000001, "{\"a\":1}"), "depends on the time");
        assert_ne!(sig, signature("key", 1700000000, "{\"a\":2}"), "depends on the body");
    }

    #[test]
    fn payload_carries_the_stable_id_type_time_case_and_changes() {
        let body: Value = serde_json::from_str(&payload(&event("field.changed"), None, None)).unwrap();
        assert_eq!(body["id"], "evt_42");
        assert_eq!(body["type"], "field.changed");
        assert_eq!(body["occurred_at"], t(5).to_string());
        assert_eq!(body["case_id"], "case_1");
        assert_eq!(body["case"], Value::Null);
        assert_eq!(body["changes"]["new"], "high");
        assert!(body.get("comment").is_none());
        let note = Comment {
            id: "cmt_1".into(),
            org_id: "org_1".into(),
            case_id: "case_1".into(),
            author_id: Some("usr_1".into()),
            body: "Still burning".into(),
            internal: true,
            author_type: crate::timeline::AuthorType::Agent,
            created_at: t(5),
            attachments: Vec::new(),
            reply_channel: None,
        };
        let body: Value = serde_json::from_str(&payload(&event("comment.added"), None, Some(&note))).unwrap();
        assert_eq!(
            (body["comment"]["body"].as_str(), body["comment"]["internal"].as_bool()),
            (Some("Still burning"), Some(true))
        );
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_for_a_day() {
        let wait = |attempts, jitter| retry_at(attempts, t(0), t(10), jitter).map(|at| at.duration_since(t(10)));
        assert_eq!(wait(1, 0.0), Some(SignedDuration::from_secs(30)));
        assert_eq!(wait(2, 0.0), Some(SignedDuration::from_secs(60)));
        assert_eq!(wait(3, 0.0), Some(SignedDuration::from_secs(120)));
        assert_eq!(wait(12, 0.0), Some(MAX_RETRY), "capped at an hour");
        assert_eq!(wait(1, 0.5), Some(SignedDuration::from_secs(33)), "jitter lengthens the wait");
        assert!(wait(1, 0.999).unwrap() <= SignedDuration::from_secs(36));
        assert!(retry_at(30, t(0), t(0) + RETRY_WINDOW - SignedDuration::from_secs(1), 0.0).is_some());
        assert_eq!(retry_at(30, t(0), t(0) + RETRY_WINDOW, 0.0), None, "dead after a day");
    }

    #[test]
    fn a_delivery_succeeds_retries_or_dies() {
        let hook = blank();
        let mut d = Delivery::new("whd_1".into(), &hook, &event("case.created"), "{}".into(), t(0));
        d.attempts = 1;
        d.record(Ok(503), t(1), 0.0);
        assert_eq!((d.state, d.response_status, d.next_attempt_at), (DeliveryState::Pending, Some(503), t(31)));
        d.attempts = 2;
        d.record(Err("connection refused".into()), t(40), 0.0);
        assert_eq!(
            (d.state, d.response_status, d.last_error.as_deref()),
            (DeliveryState::Pending, None, Some("connection refused"))
        );
        assert!(d.again("whd_2".into(), t(41)).is_err(), "a pending delivery is not redelivered");
        d.attempts = 3;
        d.record(Ok(204), t(100), 0.0);
        assert_eq!((d.state, d.delivered_at, d.last_error.clone()), (DeliveryState::Delivered, Some(t(100)), None));
        let again = d.again("whd_2".into(), t(200)).unwrap();
        assert_eq!(
            (again.state, again.attempts, again.event_seq, again.next_attempt_at),
            (DeliveryState::Pending, 0, 42, t(200))
        );

        let mut dead = Delivery::new("whd_3".into(), &hook, &event("case.created"), "{}".into(), t(0));
        dead.attempts = 20;
        dead.record(Ok(500), t(0) + RETRY_WINDOW, 0.0);
        assert_eq!(dead.state, DeliveryState::Failed);
    }

    #[test]
    fn an_endpoint_failing_for_a_day_is_switched_off_and_back_on() {
        let mut hook = Webhook { url: "https://x.example/".into(), ..blank() };
        assert!(!hook.record_failure(t(0)));
        assert!(!hook.record_failure(t(0) + DISABLE_AFTER - SignedDuration::from_secs(1)));
        assert!(hook.active);
        assert!(hook.record_failure(t(0) + DISABLE_AFTER), "off after a day of failures");
        assert!(!hook.active && hook.disabled_at.is_some() && hook.disabled_reason.is_some());
        assert!(!hook.record_failure(t(0) + DISABLE_AFTER * 2), "switched off once");
        let on = WebhookInput { active: Some(true), ..Default::default() }.apply(hook, t(1)).unwrap();
        assert!(on.active && on.failing_since.is_none() && on.disabled_at.is_none());
    }
}
