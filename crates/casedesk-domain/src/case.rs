//! The case: its fields, its enums, and how it is created and changed.
//!
//! Every write to a case goes through [`Case::create`] or [`Case::apply`], which enforce the
//! lifecycle rules (a closed case is final; closing stamps `closed_at`; assigning a new case opens
//! it) and report each field that changed, so the timeline is complete by construction.

use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Map, Value, json};

use crate::error::{DomainError, Errors};
use crate::text;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling, as stored and as the API answers.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            /// The canonical spellings joined for an error message.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        // Stored and sent in their canonical spelling (automation rules keep them as JSON).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| serde::de::Error::custom(format!("expected one of {}", Self::expected())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The status category of a case (seed 001's six categories).
    Status {
        /// Received; nobody has acted on it and it has no assignee.
        New = "new",
        /// Assigned and in progress: the agent is to act.
        Open = "open",
        /// Waiting for the requester.
        Pending = "pending",
        /// Waiting for someone other than the requester.
        OnHold = "on_hold",
        /// Solved; can be reopened until it closes.
        Resolved = "resolved",
        /// Final: cannot be updated or reopened.
        Closed = "closed",
    }
}

impl Status {
    /// Parses a status, accepting the other seeds' names as aliases (`in_progress` → open,
    /// `waiting` → pending, `on-hold` → on_hold).
    pub fn parse(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Ok(match norm.as_str() {
            "new" => Status::New,
            "open" | "in_progress" => Status::Open,
            "pending" | "waiting" => Status::Pending,
            "on_hold" | "onhold" | "hold" => Status::OnHold,
            "resolved" | "solved" => Status::Resolved,
            "closed" => Status::Closed,
            _ => {
                return Err(format!("unknown status {s:?}; expected one of {}", Status::expected()));
            }
        })
    }

    /// Resolved and closed cases are done; the others are active work.
    pub fn is_active(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }
}

string_enum! {
    /// How urgent a case is. Ordered: `Low < Medium < High < Critical`.
    Priority {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

impl Priority {
    /// Parses a priority name, with `normal` (= medium) and `urgent` (= critical) as aliases.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "low" => Priority::Low,
            "medium" | "normal" => Priority::Medium,
            "high" => Priority::High,
            "critical" | "urgent" => Priority::Critical,
            _ => {
                return Err(format!("unknown priority {s:?}; expected one of {}", Priority::expected()));
            }
        })
    }

    /// Parses a JSON priority: a name, or seed 002's number (1 none and 2 low → low, 3 normal,
    /// 4 high, 5 critical).
    pub fn parse_json(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Self::parse(s),
            Value::Number(n) => match n.as_i64() {
                Some(1 | 2) => Ok(Priority::Low),
                Some(3) => Ok(Priority::Medium),
                Some(4) => Ok(Priority::High),
                Some(5) => Ok(Priority::Critical),
                _ => Err("a numeric priority is 1 to 5".into()),
            },
            _ => Err(format!("must be one of {} (or 1 to 5)", Priority::expected())),
        }
    }

    /// The rank stored for ordering: 1 (low) to 4 (critical).
    pub const fn rank(self) -> i64 {
        match self {
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
            Priority::Critical => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Some(match rank {
            1 => Priority::Low,
            2 => Priority::Medium,
            3 => Priority::High,
            4 => Priority::Critical,
            _ => return None,
        })
    }
}

string_enum! {
    /// What kind of request a case is (seed 001).
    CaseType {
        /// The requester asks something rather than reporting a fault.
        Question = "question",
        /// One occurrence of a larger problem.
        Incident = "incident",
        /// A fault affecting many requesters; incidents link to it.
        Problem = "problem",
        /// A piece of work with a due date.
        Task = "task",
    }
}

impl CaseType {
    pub fn parse(s: &str) -> Result<Self, String> {
        CaseType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown type {s:?}; expected one of {}", CaseType::expected()))
    }
}

string_enum! {
    /// Where a case came from.
    Channel {
        Web = "web",
        Api = "api",
        Email = "email",
        Phone = "phone",
        Voicemail = "voicemail",
        Chat = "chat",
        Sms = "sms",
        Whatsapp = "whatsapp",
        Webchat = "webchat",
        Automation = "automation",
    }
}

impl Channel {
    pub fn parse(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = match norm.as_str() {
            "telephony" | "call" => "phone",
            "form" | "portal" => "web",
            other => other,
        };
        Channel::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == norm)
            .ok_or_else(|| format!("unknown channel {s:?}; expected one of {}", Channel::expected()))
    }
}

/// A due date as given: a calendar date (meaning 12:00 in the organization's time zone, seed
/// 001) or an exact instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueInput {
    Date(jiff::civil::Date),
    At(Timestamp),
}

impl DueInput {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Ok(DueInput::At(ts));
        }
        if let Ok(date) = s.parse::<jiff::civil::Date>() {
            return Ok(DueInput::Date(date));
        }
        Err("must be a date (2026-03-01) or an RFC 3339 time (2026-03-01T12:00:00Z)".into())
    }

    /// The instant this due date means in time zone `tz`.
    pub fn resolve(self, tz: &TimeZone) -> Result<Timestamp, String> {
        match self {
            DueInput::At(ts) => Ok(ts),
            DueInput::Date(d) => d
                .at(12, 0, 0, 0)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|e| format!("cannot place that date in the organization's time zone: {e}")),
        }
    }
}

/// Largest custom_fields object, serialized, in bytes.
pub const MAX_CUSTOM_FIELDS_BYTES: usize = 64 * 1024;
/// Most tags on one case.
pub const MAX_TAGS: usize = 50;

/// A case as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub org_id: String,
    pub case_number: i64,
    pub subject: String,
    pub description: String,
    pub status: Status,
    pub priority: Priority,
    pub case_type: CaseType,
    pub channel: Channel,
    pub queue_id: Option<String>,
    pub owner_id: Option<String>,
    /// A user (`usr_…`) or a contact (`cnt_…`): whoever asked.
    pub requester_id: String,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
    /// A free reference to a sales opportunity in another system.
    pub opportunity_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
    pub resolution_notes: Option<String>,
    pub due_at: Option<Timestamp>,
    /// The case awaits an answer from the support team: set when it is created and when the
    /// customer writes, cleared by an agent's public reply and when the case is resolved.
    pub is_waiting: bool,
    /// Customer messages no agent has read yet: counted up by each customer message, reset
    /// by an agent's public reply or by an agent marking the case read.
    pub unread_message_count: i64,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every write; the ETag of the case.
    pub version: i64,
    /// Skills an agent needs to be given this case (lower-case).
    pub required_skills: Vec<String>,
    /// The problem this incident is an occurrence of (seed 001).
    pub problem_id: Option<String>,
    /// The SLA clocks, when a policy applies.
    pub sla: Option<crate::case_sla::CaseSla>,
    /// The organization's status within the category `status`; `None`: the category's default.
    pub custom_status_id: Option<String>,
    /// Where the case stands in the organization's funnel (seed 002).
    pub funnel_stage_id: Option<String>,
    /// The case this one was merged into (it is closed).
    pub merged_into_id: Option<String>,
    /// The category whose profile the custom fields follow.
    pub category_id: Option<String>,
    /// What the case records for reports (its days, first response, business durations).
    pub report: crate::report::Marks,
}

impl Case {
    pub fn is_closed(&self) -> bool {
        self.status == Status::Closed
    }
}

/// The validated fields of a new case. References (owner, contact …) are checked to exist in
/// the organization by the use case, which can see the store.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub subject: String,
    pub description: String,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub case_type: Option<CaseType>,
    pub channel: Option<Channel>,
    pub queue_id: Option<String>,
    pub owner_id: Option<String>,
    pub requester_id: Option<String>,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: Map<String, Value>,
    pub resolution_notes: Option<String>,
    pub due_at: Option<DueInput>,
    pub required_skills: Vec<String>,
    pub problem_id: Option<String>,
    /// A non-default custom status; the use case has already set `status` to its category.
    pub custom_status_id: Option<String>,
    pub funnel_stage_id: Option<String>,
    pub category_id: Option<String>,
}

/// The context a case is created or changed in.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub org_id: &'a str,
    pub actor_id: &'a str,
    pub now: Timestamp,
    pub tz: &'a TimeZone,
}

/// A field that changed, for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: &'static str,
    pub old: Value,
    pub new: Value,
}

/// A partial update. `None` leaves a field alone; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct CasePatch {
    pub subject: Option<String>,
    pub description: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub case_type: Option<CaseType>,
    pub channel: Option<Channel>,
    pub queue_id: Option<Option<String>>,
    pub owner_id: Option<Option<String>>,
    pub requester_id: Option<String>,
    pub contact_id: Option<Option<String>>,
    pub account_id: Option<Option<String>>,
    pub opportunity_id: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<Map<String, Value>>,
    pub resolution_notes: Option<Option<String>>,
    pub due_at: Option<Option<DueInput>>,
    pub required_skills: Option<Vec<String>>,
    pub problem_id: Option<Option<String>>,
    /// `Some(None)`: the default status of the (possibly new) category.
    pub custom_status_id: Option<Option<String>>,
    pub funnel_stage_id: Option<Option<String>>,
    pub category_id: Option<Option<String>>,
}

impl CasePatch {
    pub fn is_empty(&self) -> bool {
        self.subject.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.case_type.is_none()
            && self.channel.is_none()
            && self.queue_id.is_none()
            && self.owner_id.is_none()
            && self.requester_id.is_none()
            && self.contact_id.is_none()
            && self.account_id.is_none()
            && self.opportunity_id.is_none()
            && self.tags.is_none()
            && self.custom_fields.is_none()
            && self.resolution_notes.is_none()
            && self.due_at.is_none()
            && self.required_skills.is_none()
            && self.problem_id.is_none()
            && self.custom_status_id.is_none()
            && self.funnel_stage_id.is_none()
            && self.category_id.is_none()
    }
}

/// Code of the conflict raised when a closed case is written to.
pub const CASE_CLOSED: &str = "case_closed";

/// Validates and normalises a tag list: lower-cased, de-duplicated, order kept.
pub fn normalize_tags(tags: &[String], errors: &mut Errors) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.add("tags", format!("at most {MAX_TAGS} tags"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        if let Some(t) = errors.take(&format!("tags[{i}]"), text::tag(t))
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

/// Checks a custom_fields object's size. Validation against field definitions comes with
/// case categories.
pub fn check_custom_fields(fields: &Map<String, Value>, errors: &mut Errors) {
    let size = serde_json::to_vec(fields).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_CUSTOM_FIELDS_BYTES {
        errors.add("custom_fields", format!("must be at most {MAX_CUSTOM_FIELDS_BYTES} bytes of JSON"));
    }
    for key in fields.keys() {
        if key.is_empty() || key.len() > 64 {
            errors.add(format!("custom_fields.{key}"), "a custom field key has 1 to 64 characters");
        }
    }
}

fn opt_text(field: &str, value: Option<String>, max: usize, errors: &mut Errors) -> Option<String> {
    let value = value?;
    errors.take(field, text::bounded(&value, max))
}

impl Case {
    /// Builds a new case from validated input. `case_number` is assigned by the store.
    pub fn create(input: NewCase, ctx: &Ctx<'_>) -> Result<Case, DomainError> {
        let mut errors = Errors::new();
        let subject = errors.take("subject", text::required_line(&input.subject, text::MAX_LINE));
        let description = errors.take("description", text::bounded(&input.description, text::MAX_BODY));
        let tags = normalize_tags(&input.tags, &mut errors);
        check_custom_fields(&input.custom_fields, &mut errors);
        let resolution_notes = opt_text("resolution_notes", input.resolution_notes, text::MAX_BODY, &mut errors);
        let opportunity_id = opt_text("opportunity_id", input.opportunity_id, 200, &mut errors);
        let case_type = input.case_type.unwrap_or(CaseType::Question);
        let due_at = match input.due_at {
            Some(_) if case_type != CaseType::Task => {
                errors.add("due_at", "only a case of type task has a due date");
                None
            }
            Some(due) => errors.take("due_at", due.resolve(ctx.tz)),
            None => None,
        };
        let required_skills = crate::queue::normalize_skills("required_skills", &input.required_skills, &mut errors);
        if input.problem_id.is_some() && case_type != CaseType::Incident {
            errors.add("problem_id", "only an incident is linked to a problem");
        }
        if input.status == Some(Status::Closed) {
            errors.add(
                "status",
                "a case cannot be created closed; import historical cases through /api/v1/imports/cases",
            );
        }
        errors.finish()?;

        // Seed 001: a new case has no assignee; one that is created assigned is already open.
        let status = input.status.unwrap_or(if input.owner_id.is_some() { Status::Open } else { Status::New });
        let now = ctx.now;
        Ok(Case {
            id: crate::ids::IdKind::Case.new_id(),
            org_id: ctx.org_id.to_string(),
            case_number: 0,
            subject: subject.unwrap_or_default(),
            description: description.unwrap_or_default(),
            status,
            priority: input.priority.unwrap_or(Priority::Medium),
            case_type,
            channel: input.channel.unwrap_or(Channel::Api),
            queue_id: input.queue_id,
            owner_id: input.owner_id,
            requester_id: input.requester_id.unwrap_or_else(|| ctx.actor_id.to_string()),
            contact_id: input.contact_id,
            account_id: input.account_id,
            opportunity_id,
            tags,
            custom_fields: input.custom_fields,
            resolution_notes,
            due_at,
            is_waiting: status.is_active(),
            unread_message_count: 0,
            resolved_at: (status == Status::Resolved).then_some(now),
            closed_at: None,
            created_by: ctx.actor_id.to_string(),
            updated_by: ctx.actor_id.to_string(),
            created_at: now,
            updated_at: now,
            version: 1,
            required_skills,
            problem_id: input.problem_id,
            sla: None,
            custom_status_id: input.custom_status_id,
            funnel_stage_id: input.funnel_stage_id,
            merged_into_id: None,
            category_id: input.category_id,
            report: crate::report::Marks {
                resolved_day: (status == Status::Resolved).then(|| crate::report::local_day(now, ctx.tz)),
                ..crate::report::Marks::created(now, ctx.tz)
            },
        })
    }

    /// A closed case is final: the conflict any write to it meets.
    pub fn ensure_open(&self) -> Result<(), DomainError> {
        if self.is_closed() {
            return Err(DomainError::Conflict {
                code: CASE_CLOSED,
                message: format!("case #{} is closed: a closed case cannot be updated or reopened", self.case_number),
            });
        }
        Ok(())
    }

    /// Applies `patch`, returning the new case and the fields that changed (empty when the patch
    /// changes nothing, in which case the case is returned untouched).
    pub fn apply(&self, patch: CasePatch, ctx: &Ctx<'_>) -> Result<(Case, Vec<Change>), DomainError> {
        self.ensure_open()?;
        let mut errors = Errors::new();
        let mut next = self.clone();
        let mut changes = Vec::new();

        if let Some(s) = patch.subject
            && let Some(s) = errors.take("subject", text::required_line(&s, text::MAX_LINE))
        {
            next.subject = s;
        }
        if let Some(d) = patch.description
            && let Some(d) = errors.take("description", text::bounded(&d, text::MAX_BODY))
        {
            next.description = d;
        }
        if let Some(tags) = patch.tags {
            next.tags = normalize_tags(&tags, &mut errors);
        }
        if let Some(cf) = patch.custom_fields {
            check_custom_fields(&cf, &mut errors);
            next.custom_fields = cf;
        }
        if let Some(notes) = patch.resolution_notes {
            next.resolution_notes = match notes {
                Some(n) => errors.take("resolution_notes", text::bounded(&n, text::MAX_BODY)),
                None => None,
            };
        }
        if let Some(opp) = patch.opportunity_id {
            next.opportunity_id = match opp {
                Some(o) => errors.take("opportunity_id", text::bounded(&o, 200)),
                None => None,
            };
        }
        if let Some(p) = patch.priority {
            next.priority = p;
        }
        if let Some(t) = patch.case_type {
            next.case_type = t;
        }
        if let Some(c) = patch.channel {
            next.channel = c;
        }
        if let Some(q) = patch.queue_id {
            next.queue_id = q;
        }
        if let Some(o) = patch.owner_id {
            next.owner_id = o;
        }
        if let Some(r) = patch.requester_id {
            next.requester_id = r;
        }
        if let Some(c) = patch.contact_id {
            next.contact_id = c;
        }
        if let Some(a) = patch.account_id {
            next.account_id = a;
        }
        match patch.due_at {
            Some(Some(due)) => {
                if next.case_type != CaseType::Task {
                    errors.add("due_at", "only a case of type task has a due date");
                } else {
                    next.due_at = errors.take("due_at", due.resolve(ctx.tz));
                }
            }
            Some(None) => next.due_at = None,
            None => {}
        }
        // A case that stops being a task loses its due date rather than keeping a stale one.
        if next.case_type != CaseType::Task {
            next.due_at = None;
        }
        if let Some(skills) = patch.required_skills {
            next.required_skills = crate::queue::normalize_skills("required_skills", &skills, &mut errors);
        }
        if let Some(p) = patch.problem_id {
            if p.as_deref() == Some(self.id.as_str()) {
                errors.add("problem_id", "a case cannot be its own problem");
            }
            next.problem_id = p;
        }
        // Only incidents link to a problem; an incident that changes type lets go of it.
        if next.problem_id.is_some() && next.case_type != CaseType::Incident {
            if next.case_type == self.case_type || self.problem_id.is_none() {
                errors.add("problem_id", "only an incident is linked to a problem");
            } else {
                next.problem_id = None;
            }
        }
        errors.finish()?;

        match patch.status {
            Some(status) => next.status = status,
            // Seed 001: assigning a new case makes it open.
            None if self.status == Status::New && self.owner_id.is_none() && next.owner_id.is_some() => {
                next.status = Status::Open
            }
            None => {}
        }
        // A new category without a named custom status takes the category's default.
        match patch.custom_status_id {
            Some(c) => next.custom_status_id = c,
            None if next.status != self.status => next.custom_status_id = None,
            None => {}
        }
        if let Some(stage) = patch.funnel_stage_id {
            next.funnel_stage_id = stage;
        }
        if let Some(category) = patch.category_id {
            next.category_id = category;
        }
        if next.status != self.status {
            match next.status {
                Status::Resolved => {
                    next.resolved_at = Some(ctx.now);
                    next.is_waiting = false;
                }
                Status::Closed => {
                    next.closed_at = Some(ctx.now);
                    next.resolved_at = next.resolved_at.or(Some(ctx.now));
                    next.is_waiting = false;
                }
                _ if !self.status.is_active() => {
                    // Reopened: the requester is waiting again.
                    next.resolved_at = None;
                    next.is_waiting = true;
                }
                _ => {}
            }
            // Reports count a resolution on the day it happened; a reopen takes it back.
            next.report.resolved_day = match next.resolved_at {
                Some(at) if next.resolved_at != self.resolved_at || self.report.resolved_day.is_none() => {
                    next.report.resolution_bsecs = None;
                    Some(crate::report::local_day(at, ctx.tz))
                }
                Some(_) => self.report.resolved_day,
                None => {
                    next.report.resolution_bsecs = None;
                    None
                }
            };
        }

        diff(self, &next, &mut changes);
        if changes.is_empty() {
            return Ok((self.clone(), changes));
        }
        next.updated_by = ctx.actor_id.to_string();
        next.updated_at = ctx.now;
        next.version = self.version + 1;
        Ok((next, changes))
    }
}

fn opt_json<T: ToString>(v: &Option<T>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// The user-visible fields that differ between two versions of a case.
fn diff(old: &Case, new: &Case, changes: &mut Vec<Change>) {
    let mut push = |field: &'static str, o: Value, n: Value| {
        if o != n {
            changes.push(Change { field, old: o, new: n });
        }
    };
    push("subject", json!(old.subject), json!(new.subject));
    push("description", json!(old.description), json!(new.description));
    push("status", json!(old.status.as_str()), json!(new.status.as_str()));
    push("priority", json!(old.priority.as_str()), json!(new.priority.as_str()));
    push("type", json!(old.case_type.as_str()), json!(new.case_type.as_str()));
    push("channel", json!(old.channel.as_str()), json!(new.channel.as_str()));
    push("queue_id", opt_json(&old.queue_id), opt_json(&new.queue_id));
    push("owner_id", opt_json(&old.owner_id), opt_json(&new.owner_id));
    push("requester_id", json!(old.requester_id), json!(new.requester_id));
    push("contact_id", opt_json(&old.contact_id), opt_json(&new.contact_id));
    push("account_id", opt_json(&old.account_id), opt_json(&new.account_id));
    push("opportunity_id", opt_json(&old.opportunity_id), opt_json(&new.opportunity_id));
    push("tags", json!(old.tags), json!(new.tags));
    push("custom_fields", Value::Object(old.custom_fields.clone()), Value::Object(new.custom_fields.clone()));
    push("resolution_notes", opt_json(&old.resolution_notes), opt_json(&new.resolution_notes));
    push("due_at", opt_json(&old.due_at), opt_json(&new.due_at));
    push("required_skills", json!(old.required_skills), json!(new.required_skills));
    push("problem_id", opt_json(&old.problem_id), opt_json(&new.problem_id));
    push("custom_status_id", opt_json(&old.custom_status_id), opt_json(&new.custom_status_id));
    push("funnel_stage_id", opt_json(&old.funnel_stage_id), opt_json(&new.funnel_stage_id));
    push("category_id", opt_json(&old.category_id), opt_json(&new.category_id));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(now: Timestamp) -> (TimeZone, Timestamp) {
        (TimeZone::get("Europe/Lisbon").expect("tz"), now)
    }

    fn new_case(input: NewCase) -> Result<Case, DomainError> {
        let (tz, now) = ctx(Timestamp::from_second(1_700_000_000).expect("ts"));
        Case::create(input, &Ctx { org_id: "org_1", actor_id: "usr_1", now, tz: &tz })
    }

    fn patch(case: &Case, p: CasePatch) -> Result<(Case, Vec<Change>), DomainError> {
        let tz = TimeZone::UTC;
        Case::apply(
            case,
            p,
            &Ctx {
                org_id: "org_1",
                actor_id: "usr_2",
                now: case.updated_at + jiff::SignedDuration::from_secs(60),
                tz: &tz,
            },
        )
    }

    fn basic() -> Case {
        new_case(NewCase { subject: "Order #4521 arrived damaged".into(), ..Default::default() }).expect("valid")
    }

    #[test]
    fn aliases_parse_to_canonical_values() {
        assert_eq!(Priority::parse("normal"), Ok(Priority::Medium));
        assert_eq!(Priority::parse("URGENT"), Ok(Priority::Critical));
        assert_eq!(Priority::parse_json(&json!(4)), Ok(Priority::High));
        assert!(Priority::parse_json(&json!(9)).is_err());
        assert!(Priority::parse_json(&json!(true)).is_err());
        assert_eq!(Status::parse("on-hold"), Ok(Status::OnHold));
        assert_eq!(Status::parse("In Progress"), Ok(Status::Open));
        assert!(Status::parse("done").is_err());
        assert_eq!(Channel::parse("telephony"), Ok(Channel::Phone));
        assert_eq!(CaseType::parse("Incident"), Ok(CaseType::Incident));
    }

    #[test]
    fn a_new_case_has_sensible_defaults() {
        let c = basic();
        assert_eq!(c.status, Status::New);
        assert_eq!(c.priority, Priority::Medium);
        assert_eq!(c.case_type, CaseType::Question);
        assert_eq!(c.requester_id, "usr_1", "the requester defaults to the submitter");
        assert!(c.is_waiting);
        assert_eq!(c.version, 1);
    }

    #[test]
    fn a_case_created_with_an_owner_is_open() {
        let c = new_case(NewCase { subject: "x".into(), owner_id: Some("usr_9".into()), ..Default::default() })
            .expect("valid");
        assert_eq!(c.status, Status::Open);
    }

    #[test]
    fn create_reports_every_bad_field() {
        let err = new_case(NewCase {
            subject: " ".into(),
            tags: vec!["ok".into(), "not ok".into()],
            due_at: Some(DueInput::parse("2026-03-01").expect("date")),
            status: Some(Status::Closed),
            ..Default::default()
        })
        .expect_err("invalid");
        let DomainError::Validation(fields) = err else { panic!("not a validation error") };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["subject", "tags[1]", "due_at", "status"]);
    }

    #[test]
    fn a_task_due_date_means_noon_in_the_org_time_zone() {
        let c = new_case(NewCase {
            subject: "call back".into(),
            case_type: Some(CaseType::Task),
            due_at: Some(DueInput::parse("2026-07-01").expect("date")),
            ..Default::default()
        })
        .expect("valid");
        // Lisbon is UTC+1 in July.
        assert_eq!(c.due_at, Some("2026-07-01T11:00:00Z".parse().expect("ts")));
    }

    #[test]
    fn changes_list_each_changed_field_and_bump_the_version() {
        let c = basic();
        let (next, changes) = patch(
            &c,
            CasePatch { priority: Some(Priority::High), subject: Some(c.subject.clone()), ..Default::default() },
        )
        .expect("ok");
        assert_eq!(changes, vec![Change { field: "priority", old: json!("medium"), new: json!("high") }]);
        assert_eq!(next.version, 2);
        assert_eq!(next.updated_by, "usr_2");
    }

    #[test]
    fn a_patch_that_changes_nothing_is_a_no_op() {
        let c = basic();
        let (next, changes) =
            patch(&c, CasePatch { priority: Some(Priority::Medium), ..Default::default() }).expect("ok");
        assert!(changes.is_empty());
        assert_eq!(next, c);
    }

    #[test]
    fn assigning_a_new_case_opens_it() {
        let c = basic();
        let (next, changes) =
            patch(&c, CasePatch { owner_id: Some(Some("usr_5".into())), ..Default::default() }).expect("ok");
        assert_eq!(next.status, Status::Open);
        assert!(changes.iter().any(|ch| ch.field == "status"));
    }

    #[test]
    fn lifecycle_resolve_reopen_close_then_final() {
        let c = basic();
        let (resolved, _) = patch(
            &c,
            CasePatch {
                status: Some(Status::Resolved),
                resolution_notes: Some(Some("shipped".into())),
                ..Default::default()
            },
        )
        .expect("resolve");
        assert!(resolved.resolved_at.is_some());
        assert!(!resolved.is_waiting);
        let (reopened, _) = patch(&resolved, CasePatch { status: Some(Status::Open), ..Default::default() })
            .expect("a resolved case can be reopened");
        assert!(reopened.resolved_at.is_none());
        assert!(reopened.is_waiting);
        let (closed, _) =
            patch(&reopened, CasePatch { status: Some(Status::Closed), ..Default::default() }).expect("close");
        assert!(closed.closed_at.is_some());
        assert!(closed.is_closed());
        for p in [
            CasePatch { status: Some(Status::Open), ..Default::default() },
            CasePatch { subject: Some("again".into()), ..Default::default() },
        ] {
            let err = patch(&closed, p).expect_err("closed is final");
            assert!(matches!(err, DomainError::Conflict { code: CASE_CLOSED, .. }));
        }
    }

    #[test]
    fn leaving_the_task_type_drops_the_due_date() {
        let c = new_case(NewCase {
            subject: "t".into(),
            case_type: Some(CaseType::Task),
            due_at: Some(DueInput::parse("2026-07-01T10:00:00Z").expect("ts")),
            ..Default::default()
        })
        .expect("valid");
        let (next, changes) =
            patch(&c, CasePatch { case_type: Some(CaseType::Question), ..Default::default() }).expect("ok");
        assert_eq!(next.due_at, None);
        assert!(changes.iter().any(|ch| ch.field == "due_at"));
    }
}

/// The original times of a case brought over from another helpdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportTimes {
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

/// Builds a historical case: any status (closed included), with its original times, which must
/// be in order. Only imports may set times; ordinary creation always uses the clock.
pub fn import(mut input: NewCase, times: ImportTimes, ctx: &Ctx<'_>) -> Result<Case, DomainError> {
    let status = input.status.take().unwrap_or(Status::New);
    let mut case = Case::create(input, ctx)?;
    let mut errors = Errors::new();
    let updated_at = times.updated_at.unwrap_or(times.created_at);
    // History is in the past, and after 1900: a time outside is a mistake in the source data.
    let earliest: Timestamp = "1900-01-01T00:00:00Z".parse().unwrap_or(Timestamp::MIN);
    let latest = ctx.now + jiff::SignedDuration::from_hours(24);
    for (field, t) in [
        ("created_at", Some(times.created_at)),
        ("updated_at", times.updated_at),
        ("resolved_at", times.resolved_at),
        ("closed_at", times.closed_at),
    ] {
        if t.is_some_and(|t| t < earliest || t > latest) {
            errors.add(field, "must be between 1900 and now");
        }
    }
    if updated_at < times.created_at {
        errors.add("updated_at", "must not be before created_at");
    }
    for (field, t) in [("resolved_at", times.resolved_at), ("closed_at", times.closed_at)] {
        if t.is_some_and(|t| t < times.created_at) {
            errors.add(field, "must not be before created_at");
        }
    }
    if times.closed_at.is_some() && status != Status::Closed {
        errors.add("closed_at", "only a closed case has closed_at");
    }
    errors.finish()?;
    case.status = status;
    case.created_at = times.created_at;
    case.updated_at = updated_at;
    case.closed_at = match status {
        Status::Closed => Some(times.closed_at.unwrap_or(updated_at)),
        _ => None,
    };
    case.resolved_at = match status {
        Status::Resolved | Status::Closed => Some(times.resolved_at.or(case.closed_at).unwrap_or(updated_at)),
        _ => None,
    };
    case.is_waiting = status.is_active();
    case.report = crate::report::Marks {
        resolved_day: case.resolved_at.map(|at| crate::report::local_day(at, ctx.tz)),
        ..crate::report::Marks::created(case.created_at, ctx.tz)
    };
    Ok(case)
}

#[cfg(test)]
mod import_tests {
    use super::*;

    #[test]
    fn imports_keep_history_and_may_be_closed() {
        let tz = TimeZone::UTC;
        let ctx = Ctx { org_id: "org_1", actor_id: "usr_1", now: "2026-11-01T00:00:00Z".parse().expect("ts"), tz: &tz };
        let times = ImportTimes {
            created_at: "2024-01-01T10:00:00Z".parse().expect("ts"),
            updated_at: Some("2024-01-03T10:00:00Z".parse().expect("ts")),
            resolved_at: None,
            closed_at: None,
        };
        let input = NewCase { subject: "old".into(), status: Some(Status::Closed), ..Default::default() };
        let c = import(input, times, &ctx).expect("valid");
        assert_eq!(c.status, Status::Closed);
        assert_eq!(c.created_at, times.created_at);
        assert_eq!(c.closed_at, times.updated_at);
        assert_eq!(c.resolved_at, times.updated_at);
        assert!(!c.is_waiting);

        let backwards = ImportTimes { updated_at: Some("2023-01-01T00:00:00Z".parse().expect("ts")), ..times };
        assert!(import(NewCase { subject: "old".into(), ..Default::default() }, backwards, &ctx).is_err());
        let future = ImportTimes { created_at: "2027-01-01T00:00:00Z".parse().expect("ts"), updated_at: None, ..times };
        assert!(import(NewCase { subject: "x".into(), ..Default::default() }, future, &ctx).is_err());
        let ancient = ImportTimes { created_at: "1850-01-01T00:00:00Z".parse().expect("ts"), ..times };
        assert!(import(NewCase { subject: "x".into(), ..Default::default() }, ancient, &ctx).is_err());
        let open_with_closed_at = ImportTimes { closed_at: times.updated_at, ..times };
        assert!(import(NewCase { subject: "x".into(), ..Default::default() }, open_with_closed_at, &ctx).is_err());
    }
}
