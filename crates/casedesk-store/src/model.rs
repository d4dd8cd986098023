//! Records that only the store and the use cases share (the domain's own types are used as they
//! are), and the page types of every list.

pub use casedesk_domain::queue::{Queue, QueueMember};

use casedesk_domain::case::Case;
use casedesk_domain::timeline::Comment;
use casedesk_domain::timeline::Event;
use jiff::Timestamp;

/// An organization: the tenant every other record belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    /// IANA time zone, for due dates given as dates and for business calendars.
    pub time_zone: String,
    /// Resolved cases close automatically after this many days (seed 001).
    pub auto_close_days: i64,
    /// Cases not covered by a queue's policy follow seed 004's default response targets.
    pub default_sla: bool,
    /// Minutes in a working day: a duration of `1d` is this long.
    pub working_day_minutes: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An API token's metadata. The secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Kinds of record a case can refer to, for existence checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    User,
    Contact,
    Account,
    Queue,
    Case,
    Calendar,
    SlaPolicy,
}

/// A page request for the simple lists (newest first by creation).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit, cursor: None }
    }
}

/// One page of a list; `next_cursor` is set when there is more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A stretch of an organization's change feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    /// Events in feed order: by transaction, then by position within it.
    pub items: Vec<Event>,
    /// Where to continue: after the last event returned, or where the reader already was when
    /// nothing new is final yet. `None` only for an empty feed read from its start.
    pub cursor: Option<String>,
    /// More events are final now beyond this page.
    pub has_more: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub account_id: Option<String>,
    /// A phone number, matched by [`casedesk_domain::people::phone_key`].
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountSummary {
    pub id: String,
    pub name: String,
    pub tier: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactSummary {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// A case in a list, with the summaries of its account and contact (fetched in the same query).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseListItem {
    pub case: Case,
    pub account: Option<AccountSummary>,
    pub contact: Option<ContactSummary>,
    pub workflow: WorkflowSummary,
}

/// A case's custom status (the named one, or its category's default) and funnel stage, read
/// with the case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkflowSummary {
    /// `(id, name)`.
    pub custom_status: Option<(String, String)>,
    /// `(id, name, position)`.
    pub funnel_stage: Option<(String, String, i64)>,
}

/// A historical case to import: the case with its original times (and, if kept, its number)
/// and its comments.
#[derive(Debug, Clone)]
pub struct ImportedCase {
    /// `case_number == 0` means "assign the next number".
    pub case: Case,
    pub comments: Vec<Comment>,
}

/// A remembered `Idempotency-Key`: what the first request was and what it created.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub org_id: String,
    pub user_id: String,
    pub key: String,
    /// SHA-256 of method, path and body of the first request.
    pub request_hash: String,
    pub resource_id: String,
    pub status_code: u16,
    pub created_at: Timestamp,
}

/// What the router sees of a queue, read inside the transaction that writes the routed case
/// (on PostgreSQL with the queue row and its members' user rows locked, so concurrent routings
/// take turns and capacity is never overshot).
#[derive(Debug, Clone)]
pub struct RouteContext {
    pub queue: Queue,
    /// Members in rotation order, with their load.
    pub members: Vec<casedesk_domain::routing::Member>,
    /// Who had the last round-robin turn.
    pub last_turn: Option<String>,
}

/// The outcome of routing, to be written with the case.
#[derive(Debug, Clone)]
pub struct RoutedWrite {
    pub case: Case,
    /// Events beyond the case's own `created` event (assignment, SLA).
    pub events: Vec<casedesk_domain::timeline::NewEvent>,
    /// The member who was given the case: their last-assignment time is stamped and, for a
    /// round-robin queue, they take the turn.
    pub assigned: Option<String>,
}

/// A named business calendar of an organization.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarRecord {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub calendar: casedesk_domain::calendar::BusinessCalendar,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A named SLA policy of an organization, and the calendar it counts in (none = around the
/// clock).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub calendar_id: Option<String>,
    pub policy: casedesk_domain::sla::Policy,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A case in the trash: restorable until it is purged.
#[derive(Debug, Clone)]
pub struct TrashedCase {
    pub case: Case,
    pub deleted_at: Timestamp,
    pub deleted_by: Option<String>,
}

/// Which similar cases to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarKind {
    /// Resolved or closed (not merged) cases, whose replies ground a draft.
    Resolved,
    /// Open problems a case could be linked to.
    OpenProblems,
}

/// A case as an example to learn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiExample {
    pub subject: String,
    pub description: String,
    pub category_id: Option<String>,
    pub priority: casedesk_domain::case::Priority,
}

/// What `/metrics` reads from the database (see `Store::operational_counts`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OperationalCounts {
    /// Active (not resolved or closed) cases per `(org_id, queue_id)`; queue `""` is "no queue".
    pub open_by_queue: Vec<(String, String, i64)>,
    /// Active cases with a breached SLA target, per organization.
    pub breached_by_org: Vec<(String, i64)>,
    /// Bulk jobs queued, running and failed.
    pub jobs_by_state: Vec<(String, i64)>,
    /// Webhook deliveries pending (waiting for an attempt) and failed (dead-lettered).
    pub webhook_deliveries: Vec<(String, i64)>,
    /// Mail by `(direction, state)`: outgoing queued and failed, inbound quarantined.
    pub emails: Vec<(String, String, i64)>,
}
