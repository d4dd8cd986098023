//! `/api/v1/cases`: cases, their comments and their timeline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casedesk_core::cases::{CaseDetail, CommentInput};
use casedesk_core::idempotency::Created;
use casedesk_core::store::{AccountSummary, CaseListItem, ContactSummary, WorkflowSummary};
use casedesk_domain::calendar::BusinessCalendar;
use casedesk_domain::case::{Case, CasePatch, CaseType, Channel, DueInput, NewCase, Priority, Status};
use casedesk_domain::case_sla::CaseSla;
use casedesk_domain::links::CaseLink;
use casedesk_domain::list::{CaseFilter, CustomStatusFilter, ListRequest, Ordering, Range};
use casedesk_domain::messaging;
use casedesk_domain::people::{Account, Contact};
use casedesk_domain::timeline::{AuthorType, Comment, Event};
use casedesk_domain::{Errors, text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::directory::{AccountResponse, ContactResponse};
use super::{ListResponse, QueryReader, nullable, parse_bool, parse_instant, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs, etag, if_match};

pub const TAG: &str = "cases";

// ---- request types ----------------------------------------------------------------------------

/// A new case. `subject` is required; everything else has a default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseRequest {
    pub subject: String,
    pub description: Option<String>,
    /// new, open, pending, on_hold, resolved (not closed). Default: new, or open when an owner
    /// is given.
    pub status: Option<String>,
    /// low, medium (alias normal), high, critical (alias urgent), or 1–5. Default: medium.
    #[schema(value_type = Option<String>)]
    pub priority: Option<Value>,
    /// question, incident, problem, task. Default: question.
    #[serde(rename = "type", alias = "case_type")]
    pub case_type: Option<String>,
    /// web, api, email, phone, voicemail, chat, sms, whatsapp, webchat, automation. Default: api.
    pub channel: Option<String>,
    pub queue_id: Option<String>,
    /// The assignee.
    #[serde(alias = "assignee_id")]
    pub owner_id: Option<String>,
    /// A user or contact id. Default: the caller.
    pub requester_id: Option<String>,
    pub contact_id: Option<String>,
    /// Default: the contact's account.
    pub account_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub tags: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    pub resolution_notes: Option<String>,
    /// Tasks only: an RFC 3339 time, or a date meaning 12:00 in the organization's time zone.
    pub due_at: Option<String>,
    /// Skills the assignee needs; the router only gives the case to members who have them all.
    pub required_skills: Option<Vec<String>>,
    /// Incidents only: the problem case this is an occurrence of.
    pub problem_id: Option<String>,
    /// One of the organization's statuses; sets `status` to its category.
    pub custom_status_id: Option<String>,
    /// A funnel stage (`case_funnel_stage_id` accepted).
    #[serde(alias = "case_funnel_stage_id")]
    pub funnel_stage_id: Option<String>,
    /// A case category; `custom_fields` must then follow its profile.
    pub category_id: Option<String>,
}

/// A partial update: only the fields present change; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCaseRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Option<Value>>,
    #[serde(default, rename = "type", alias = "case_type", deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub case_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub queue_id: Option<Option<String>>,
    #[serde(default, alias = "assignee_id", deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub requester_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub account_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub opportunity_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub resolution_notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    pub required_skills: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub problem_id: Option<Option<String>>,
    /// Sets `status` to its category; `null`: the default status of the category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub custom_status_id: Option<Option<String>>,
    #[serde(default, alias = "case_funnel_stage_id", deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub funnel_stage_id: Option<Option<String>>,
    /// Another category keeps the custom fields its profile also has (the rest are dropped, on
    /// the timeline) unless `custom_fields` is given too.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommentRequest {
    pub body: String,
    /// true: an internal note for agents; false (default): a reply the customer sees.
    #[serde(default)]
    pub internal: bool,
    /// agent (default): written by the caller; customer: a message from the customer that the
    /// caller records (a phone call, a letter), which waits for an answer; system: an automatic
    /// message, which never counts as a response.
    pub author_type: Option<String>,
    /// Files already uploaded to this case to attach to the comment.
    #[serde(default)]
    pub file_ids: Vec<String>,
    /// An agent's reply only: send it by this channel (email, chat, sms, whatsapp, webchat)
    /// instead of the case's own. It must be one the customer is reachable on (see
    /// `GET /api/v1/cases/{id}/reply-channels`).
    pub channel: Option<String>,
}

fn parse_priority(errors: &mut Errors, field: &str, v: &Value) -> Option<Priority> {
    errors.take(field, Priority::parse_json(v))
}

fn validated_ref(errors: &mut Errors, field: &str, v: Option<String>) -> Option<String> {
    v.and_then(|s| errors.take(field, text::required_line(&s, 100)))
}

impl CreateCaseRequest {
    /// Parses the enums and shapes; the domain checks the rest.
    pub fn into_domain(self) -> Result<NewCase, ApiError> {
        let mut e = Errors::new();
        let input = NewCase {
            subject: self.subject,
            description: self.description.unwrap_or_default(),
            status: self.status.and_then(|s| e.take("status", Status::parse(&s))),
            priority: self.priority.and_then(|p| parse_priority(&mut e, "priority", &p)),
            case_type: self.case_type.and_then(|t| e.take("type", CaseType::parse(&t))),
            channel: self.channel.and_then(|c| e.take("channel", Channel::parse(&c))),
            queue_id: validated_ref(&mut e, "queue_id", self.queue_id),
            owner_id: validated_ref(&mut e, "owner_id", self.owner_id),
            requester_id: validated_ref(&mut e, "requester_id", self.requester_id),
            contact_id: validated_ref(&mut e, "contact_id", self.contact_id),
            account_id: validated_ref(&mut e, "account_id", self.account_id),
            opportunity_id: self.opportunity_id,
            tags: self.tags.unwrap_or_default(),
            custom_fields: self.custom_fields.unwrap_or_default(),
            resolution_notes: self.resolution_notes,
            due_at: self.due_at.and_then(|d| e.take("due_at", DueInput::parse(&d))),
            required_skills: self.required_skills.unwrap_or_default(),
            problem_id: validated_ref(&mut e, "problem_id", self.problem_id),
            custom_status_id: validated_ref(&mut e, "custom_status_id", self.custom_status_id),
            funnel_stage_id: validated_ref(&mut e, "funnel_stage_id", self.funnel_stage_id),
            category_id: validated_ref(&mut e, "category_id", self.category_id),
        };
        e.finish()?;
        Ok(input)
    }
}

/// For a field that may be changed but not cleared.
fn required<T>(e: &mut Errors, field: &str, v: Option<Option<T>>) -> Option<T> {
    match v {
        Some(None) => {
            e.add(field, "cannot be null");
            None
        }
        Some(Some(v)) => Some(v),
        None => None,
    }
}

/// For a reference that may be set or cleared.
fn clearable_ref(e: &mut Errors, field: &str, v: Option<Option<String>>) -> Option<Option<String>> {
    match v {
        Some(Some(s)) => e.take(field, text::required_line(&s, 100)).map(Some),
        other => other,
    }
}

impl UpdateCaseRequest {
    pub fn into_domain(self) -> Result<CasePatch, ApiError> {
        let mut e = Errors::new();
        let status = required(&mut e, "status", self.status);
        let priority = required(&mut e, "priority", self.priority);
        let case_type = required(&mut e, "type", self.case_type);
        let channel = required(&mut e, "channel", self.channel);
        let requester = required(&mut e, "requester_id", self.requester_id);
        let patch = CasePatch {
            subject: required(&mut e, "subject", self.subject),
            description: required(&mut e, "description", self.description),
            status: status.and_then(|s| e.take("status", Status::parse(&s))),
            priority: priority.and_then(|p| parse_priority(&mut e, "priority", &p)),
            case_type: case_type.and_then(|t| e.take("type", CaseType::parse(&t))),
            channel: channel.and_then(|c| e.take("channel", Channel::parse(&c))),
            queue_id: clearable_ref(&mut e, "queue_id", self.queue_id),
            owner_id: clearable_ref(&mut e, "owner_id", self.owner_id),
            requester_id: requester.and_then(|r| e.take("requester_id", text::required_line(&r, 100))),
            contact_id: clearable_ref(&mut e, "contact_id", self.contact_id),
            account_id: clearable_ref(&mut e, "account_id", self.account_id),
            opportunity_id: self.opportunity_id,
            tags: self.tags.map(Option::unwrap_or_default),
            custom_fields: self.custom_fields.map(Option::unwrap_or_default),
            resolution_notes: self.resolution_notes,
            due_at: match self.due_at {
                Some(Some(d)) => e.take("due_at", DueInput::parse(&d)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            required_skills: self.required_skills.map(Option::unwrap_or_default),
            problem_id: clearable_ref(&mut e, "problem_id", self.problem_id),
            custom_status_id: clearable_ref(&mut e, "custom_status_id", self.custom_status_id),
            funnel_stage_id: clearable_ref(&mut e, "funnel_stage_id", self.funnel_stage_id),
            category_id: clearable_ref(&mut e, "category_id", self.category_id),
        };
        e.finish()?;
        if patch.is_empty() {
            return Err(ApiError::field("body", "name at least one field to change"));
        }
        Ok(patch)
    }
}

// ---- response types ---------------------------------------------------------------------------

/// A case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResponse {
    pub id: String,
    pub organization_id: String,
    /// Sequential and unique within the organization; never reused.
    pub case_number: i64,
    pub subject: String,
    pub description: String,
    pub status: &'static str,
    pub priority: &'static str,
    #[serde(rename = "type")]
    pub case_type: &'static str,
    pub channel: &'static str,
    pub queue_id: Option<String>,
    pub owner_id: Option<String>,
    pub requester_id: String,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    pub resolution_notes: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<jiff::Timestamp>,
    pub is_closed: bool,
    /// The case awaits an answer from the support team.
    pub is_waiting: bool,
    /// The messaging channel the customer writes on: email, chat, sms, whatsapp or webchat
    /// (null for cases from the web form, the API, the phone or automation).
    pub latest_messaging_channel: Option<&'static str>,
    /// How urgent the case's channel is for routing (seed 002): telephony 4 > webchat (and
    /// chat) 3 > whatsapp (and sms) 2 > email 1; other channels 0.
    pub channel_priority: i64,
    /// Customer messages no agent has read yet; reset by an agent's public reply or by
    /// `POST /api/v1/cases/{id}/read`.
    pub unread_message_count: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<jiff::Timestamp>,
    /// When an agent first replied where the customer sees it (what reports count as the first
    /// response).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_response_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
    pub created_by: String,
    pub updated_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    /// Increases with every change; the ETag.
    pub version: i64,
    pub required_skills: Vec<String>,
    /// The problem this incident belongs to.
    pub problem_id: Option<String>,
    /// Whether any SLA target of the case was breached.
    pub sla_breached: bool,
    /// The SLA targets, when a policy applies.
    pub sla: Option<SlaResponse>,
    /// The organization's status the case is in (within `status`); given with a single case and
    /// in lists. Null in create and update answers.
    pub custom_status: Option<NamedRef>,
    /// The case's funnel stage id (seed 002's name for it).
    pub case_funnel_stage_id: Option<String>,
    /// Set on a case merged into another (it is closed).
    pub merged_into_id: Option<String>,
    /// The category whose profile `custom_fields` follows.
    pub category_id: Option<String>,
    /// The stage, with a single case and in lists.
    pub funnel_stage: Option<StageRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageRef {
    pub id: String,
    pub name: String,
    pub position: i64,
}

impl CaseResponse {
    pub(crate) fn with_workflow(mut self, w: WorkflowSummary) -> Self {
        self.custom_status = w.custom_status.map(|(id, name)| NamedRef { id, name });
        self.funnel_stage = w.funnel_stage.map(|(id, name, position)| StageRef { id, name, position });
        self
    }
}

/// A case's SLA: its policy (null: the organization's default targets) and each target.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaResponse {
    pub policy_id: Option<String>,
    pub breached: bool,
    pub targets: Vec<SlaTargetResponse>,
}

/// One SLA target of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaTargetResponse {
    /// first_response, next_response or resolution
    pub target: &'static str,
    /// running, paused, met or breached
    pub state: &'static str,
    /// While running: when the target is due.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<jiff::Timestamp>,
    /// Business minutes left (negative once overdue). Given on a single case; lists leave it
    /// null.
    pub remaining_minutes: Option<i64>,
    pub budget_minutes: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub breached_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub met_at: Option<jiff::Timestamp>,
}

impl SlaResponse {
    fn new(sla: &CaseSla, now_and_calendar: Option<(jiff::Timestamp, &BusinessCalendar)>) -> Self {
        SlaResponse {
            policy_id: sla.policy_id.clone(),
            breached: sla.breached(),
            targets: sla
                .clocks
                .iter()
                .map(|c| SlaTargetResponse {
                    target: c.kind.as_str(),
                    state: c.state().as_str(),
                    due_at: c.due_at,
                    remaining_minutes: now_and_calendar.map(|(now, cal)| c.remaining_secs(now, cal).div_euclid(60)),
                    budget_minutes: c.budget_secs / 60,
                    breached_at: c.breached_at,
                    met_at: c.met_at,
                })
                .collect(),
        }
    }
}

impl From<Case> for CaseResponse {
    fn from(c: Case) -> Self {
        let latest_messaging_channel = messaging::latest_messaging_channel(&c).map(|m| m.as_str());
        let channel_priority = messaging::case_channel_priority(&c);
        CaseResponse {
            is_closed: c.is_closed(),
            id: c.id,
            organization_id: c.org_id,
            case_number: c.case_number,
            subject: c.subject,
            description: c.description,
            status: c.status.as_str(),
            priority: c.priority.as_str(),
            case_type: c.case_type.as_str(),
            channel: c.channel.as_str(),
            queue_id: c.queue_id,
            owner_id: c.owner_id,
            requester_id: c.requester_id,
            contact_id: c.contact_id,
            account_id: c.account_id,
            opportunity_id: c.opportunity_id,
            tags: c.tags,
            custom_fields: c.custom_fields,
            resolution_notes: c.resolution_notes,
            due_at: c.due_at,
            is_waiting: c.is_waiting,
            latest_messaging_channel,
            channel_priority,
            unread_message_count: c.unread_message_count,
            resolved_at: c.resolved_at,
            first_response_at: c.report.first_response_at(),
            closed_at: c.closed_at,
            created_by: c.created_by,
            updated_by: c.updated_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
            required_skills: c.required_skills,
            problem_id: c.problem_id,
            sla_breached: c.sla.as_ref().is_some_and(CaseSla::breached),
            sla: c.sla.as_ref().map(|s| SlaResponse::new(s, None)),
            custom_status: None,
            case_funnel_stage_id: c.funnel_stage_id,
            merged_into_id: c.merged_into_id,
            category_id: c.category_id,
            funnel_stage: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummaryResponse {
    pub id: String,
    pub name: String,
    pub tier: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactSummaryResponse {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// A case in a list, with its account and contact summaries.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseListItemResponse {
    #[serde(flatten)]
    pub case: CaseResponse,
    pub account: Option<AccountSummaryResponse>,
    pub contact: Option<ContactSummaryResponse>,
}

impl From<CaseListItem> for CaseListItemResponse {
    fn from(i: CaseListItem) -> Self {
        CaseListItemResponse {
            case: CaseResponse::from(i.case).with_workflow(i.workflow),
            account: i.account.map(|AccountSummary { id, name, tier }| AccountSummaryResponse { id, name, tier }),
            contact: i.contact.map(|ContactSummary { id, name, email }| ContactSummaryResponse { id, name, email }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityRef {
    /// The opportunity's id in the system that owns it.
    pub id: String,
}

/// A case with its account, contact, opportunity reference and whole comment thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetailResponse {
    #[serde(flatten)]
    pub case: CaseResponse,
    pub account: Option<AccountResponse>,
    pub contact: Option<ContactResponse>,
    pub opportunity: Option<OpportunityRef>,
    pub comments: Vec<CommentResponse>,
    /// A problem's incidents.
    pub incidents: Vec<IncidentRef>,
    /// The requester's latest satisfaction rating (`null` until a survey is answered); all of
    /// them at `/api/v1/cases/{id}/csat`.
    pub csat: Option<super::csat::SurveyResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentRef {
    pub id: String,
    pub case_number: i64,
    pub subject: String,
    pub status: &'static str,
}

impl CaseDetailResponse {
    pub fn new(d: CaseDetail, now: jiff::Timestamp) -> Self {
        let sla = match (&d.case.sla, &d.calendar) {
            (Some(sla), Some(cal)) => Some(SlaResponse::new(sla, Some((now, cal)))),
            (Some(sla), None) => Some(SlaResponse::new(sla, None)),
            _ => None,
        };
        let incidents = d
            .incidents
            .iter()
            .map(|c| IncidentRef {
                id: c.id.clone(),
                case_number: c.case_number,
                subject: c.subject.clone(),
                status: c.status.as_str(),
            })
            .collect();
        let mut case = CaseResponse::from(d.case.clone()).with_workflow(d.workflow);
        case.sla = sla;
        CaseDetailResponse {
            opportunity: d.case.opportunity_id.clone().map(|id| OpportunityRef { id }),
            incidents,
            case,
            account: d.account.map(|a: Account| a.into()),
            contact: d.contact.map(|c: Contact| c.into()),
            comments: d.comments.into_iter().map(Into::into).collect(),
            csat: d
                .surveys
                .into_iter()
                .filter(|s| s.score.is_some())
                .max_by_key(|s| s.answered_at)
                .map(|s| super::csat::SurveyResponse::new(s, now)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: String,
    pub case_id: String,
    pub body: String,
    /// true: an internal note; false: a reply the customer sees.
    pub internal: bool,
    pub author_id: Option<String>,
    /// agent, customer or system
    pub author_type: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    /// Files attached to the comment.
    pub files: Vec<super::files::FileResponse>,
    /// The channel the agent chose to send this reply by; null: the case's own channel.
    pub channel: Option<&'static str>,
}

impl From<Comment> for CommentResponse {
    fn from(c: Comment) -> Self {
        CommentResponse {
            id: c.id,
            case_id: c.case_id,
            body: c.body,
            internal: c.internal,
            author_id: c.author_id,
            author_type: c.author_type.as_str(),
            created_at: c.created_at,
            files: c.attachments.iter().map(super::files::FileResponse::from).collect(),
            channel: c.reply_channel.map(Channel::as_str),
        }
    }
}

/// One timeline entry. Field changes carry `field`, `old` and `new`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEventResponse {
    pub id: String,
    /// case.created, case.imported, field.changed, status.changed, comment.added, case.deleted,
    /// rule.applied …
    pub kind: String,
    /// Who did it.
    pub actor_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub new: Option<Value>,
    #[schema(value_type = Object)]
    pub data: Value,
}

impl From<Event> for TimelineEventResponse {
    fn from(e: Event) -> Self {
        let field = e.data.get("field").and_then(Value::as_str).map(str::to_string);
        let (old, new) = match field {
            Some(_) => (e.data.get("old").cloned(), e.data.get("new").cloned()),
            None => (None, None),
        };
        TimelineEventResponse {
            id: format!("evt_{}", e.seq),
            kind: e.kind,
            actor_id: e.actor_id,
            created_at: e.created_at,
            field,
            old,
            new,
            data: e.data,
        }
    }
}

/// A created resource: 201 with `Location` (and `ETag` when versioned); a replay of an
/// idempotent request also says `Idempotent-Replayed: true`.
pub fn created<T: Serialize>(location: String, version: Option<i64>, replayed: bool, body: T) -> Response {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(&etag(v)).ok()) {
        h.insert(header::ETAG, v);
    }
    if replayed {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

pub fn with_etag<T: Serialize>(version: i64, body: T) -> Response {
    let mut resp = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

// ---- handlers ---------------------------------------------------------------------------------

/// The case after the automation rules its write triggered have run, so the response shows
/// their effect (the critical case already in its queue); the case as written if it is gone, or
/// if no rule could have changed it.
pub(crate) async fn settled(s: &AppState, actor: &casedesk_core::Actor, case: Case) -> Case {
    if !s.app.settle_automation(&actor.org_id, &case.id).await {
        return case;
    }
    s.app.get_case(actor, &case.id).await.unwrap_or(case)
}

/// Create a case.
#[utoipa::path(post, path = "/api/v1/cases", tag = TAG, request_body = CreateCaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = CaseResponse), (status = 422, body = Problem), (status = 401, body = Problem)))]
pub async fn create_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<CreateCaseRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let input = body.value.into_domain()?;
    let Created { value, replayed } = s.app.create_case(&actor, input, idem).await?;
    let value = if replayed { value } else { settled(&s, &actor, value).await };
    Ok(created(format!("/api/v1/cases/{}", value.id), Some(value.version), replayed, CaseResponse::from(value)))
}

const LIST_PARAMS: &[&str] = &[
    "status",
    "priority",
    "type",
    "queue_id",
    "owner_id",
    "unassigned",
    "requester_id",
    "contact_id",
    "account_id",
    "tag",
    "created_after",
    "created_before",
    "updated_after",
    "updated_before",
    "closed_after",
    "closed_before",
    "q",
    "ordering",
    "sla_breached",
    "sla_due_before",
    "problem_id",
    "custom_status_id",
    "funnel_stage_id",
    "category_id",
    "has_overdue_milestone",
];

/// A case list request and its `q` (the search syntax), unparsed: the use case reads it in the
/// caller's context.
fn read_list_query(q: QueryPairs) -> Result<(ListRequest, Option<String>), ApiError> {
    // `cf.<key>=value` filters on custom fields; the rest are the fixed parameters.
    let (cf, rest): (Vec<_>, Vec<_>) = q.0.into_iter().partition(|(k, _)| k.starts_with("cf."));
    let mut r = QueryReader::new(QueryPairs(rest), LIST_PARAMS);
    let mut filter = CaseFilter::default();
    for (name, out) in [("status", 0), ("priority", 1), ("type", 2)] {
        for v in r.all(name) {
            let res = match out {
                0 => Status::parse(&v).map(|s| filter.statuses.push(s)),
                1 => Priority::parse(&v).map(|p| filter.priorities.push(p)),
                _ => CaseType::parse(&v).map(|t| filter.types.push(t)),
            };
            if let Err(m) = res {
                r.error(name, m);
            }
        }
    }
    filter.queue_id = r.one("queue_id");
    filter.owner_id = r.one("owner_id");
    filter.requester_id = r.one("requester_id");
    filter.contact_id = r.one("contact_id");
    filter.account_id = r.one("account_id");
    filter.tag = r.parse("tag", text::tag);
    filter.unassigned = r.parse("unassigned", parse_bool).unwrap_or(false);
    filter.sla_breached = r.parse("sla_breached", parse_bool);
    filter.sla_due_before = r.parse("sla_due_before", parse_instant);
    filter.problem_id = r.one("problem_id");
    filter.funnel_stage_id = r.one("funnel_stage_id");
    filter.category_id = r.one("category_id");
    // The use case puts "now" here; any instant marks the filter as asked for.
    if r.parse("has_overdue_milestone", parse_bool) == Some(true) {
        filter.milestone_overdue_at = Some(jiff::Timestamp::UNIX_EPOCH);
    }
    for (k, v) in cf {
        let key = &k[3..];
        if key.is_empty() || key.len() > 64 {
            r.error(&k, "name a custom field: cf.<key>");
        } else {
            filter.custom_fields.push((key.to_string(), v));
        }
    }
    filter.custom_status = r.one("custom_status_id").map(|id| CustomStatusFilter { id, default_of: None });
    let range = |r: &mut QueryReader, prefix: &str| Range {
        from: r.parse(&format!("{prefix}_after"), parse_instant),
        to: r.parse(&format!("{prefix}_before"), parse_instant),
    };
    filter.created = range(&mut r, "created");
    filter.updated = range(&mut r, "updated");
    filter.closed = range(&mut r, "closed");
    let text = r.one("q");
    let ordering = r.parse("ordering", Ordering::parse).unwrap_or_default();
    let page = r.page();
    r.finish()?;
    Ok((ListRequest { filter, ordering, limit: page.limit, cursor: page.cursor }, text))
}

/// List cases, filtered and ordered, a page at a time.
#[utoipa::path(get, path = "/api/v1/cases", tag = TAG,
    params(
        ("status" = Option<String>, Query, description = "One or more statuses (comma-separated or repeated)"),
        ("priority" = Option<String>, Query), ("type" = Option<String>, Query),
        ("queue_id" = Option<String>, Query), ("owner_id" = Option<String>, Query),
        ("unassigned" = Option<bool>, Query), ("requester_id" = Option<String>, Query),
        ("contact_id" = Option<String>, Query), ("account_id" = Option<String>, Query), ("tag" = Option<String>, Query),
        ("created_after" = Option<String>, Query), ("created_before" = Option<String>, Query),
        ("updated_after" = Option<String>, Query), ("updated_before" = Option<String>, Query),
        ("closed_after" = Option<String>, Query), ("closed_before" = Option<String>, Query),
        ("q" = Option<String>, Query, description = "A query in the search syntax (docs/search.md): text, \"phrases\" and conditions such as status:open priority>=high"),
        ("ordering" = Option<String>, Query, description = "created_at, -created_at (default), updated_at, -updated_at, priority, -priority, relevance (best match of the words in q first)"),
        ("sla_breached" = Option<bool>, Query, description = "Cases with (true) or without (false) a breached SLA target"),
        ("sla_due_before" = Option<String>, Query, description = "Cases with a running SLA target due before this time"),
        ("problem_id" = Option<String>, Query, description = "The incidents of a problem"),
        ("custom_status_id" = Option<String>, Query, description = "Cases in one of the organization's statuses"),
        ("funnel_stage_id" = Option<String>, Query, description = "Cases at one funnel stage"),
        ("category_id" = Option<String>, Query, description = "Cases of one category"),
        ("has_overdue_milestone" = Option<bool>, Query, description = "Cases with a milestone past due and not completed"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<CaseListItemResponse>), (status = 422, body = Problem)))]
pub async fn list_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<CaseListItemResponse>>, ApiError> {
    let (req, text) = read_list_query(q)?;
    let (page, _) = s.app.search_cases(&actor, &req, text.as_deref()).await?;
    Ok(Json(ListResponse::new(page, CaseListItemResponse::from)))
}

/// Get a case with its account, contact, opportunity and comments.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = CaseDetailResponse), (status = 404, body = Problem)))]
pub async fn get_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let detail = s.app.case_detail(&actor, &id).await?;
    Ok(with_etag(detail.case.version, CaseDetailResponse::new(detail, s.app.clock.now())))
}

/// Change a case. Send `If-Match` with the ETag you read to refuse lost updates (412).
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = TAG, request_body = UpdateCaseRequest,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CaseResponse), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn update_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<UpdateCaseRequest>,
) -> Result<Response, ApiError> {
    let expected = if_match(&headers)?;
    let patch = body.value.into_domain()?;
    let case = s.app.update_case(&actor, &id, patch, expected).await?;
    let case = settled(&s, &actor, case).await;
    Ok(with_etag(case.version, CaseResponse::from(case)))
}

/// Delete a case (admins): it moves to the trash, disappears from lists and lookups, and can be
/// restored from `/api/v1/trash/cases` for 30 days, after which it is purged.
#[utoipa::path(delete, path = "/api/v1/cases/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_case(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A case's comments, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/comments", tag = TAG,
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<CommentResponse>), (status = 404, body = Problem)))]
pub async fn list_comments(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<ListResponse<CommentResponse>>, ApiError> {
    let page = simple_page(q)?;
    let comments = s.app.list_comments(&actor, &id, &page).await?;
    Ok(Json(ListResponse::new(comments, CommentResponse::from)))
}

/// Add a reply (`internal: false`) or an internal note (`internal: true`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/comments", tag = TAG, request_body = CreateCommentRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommentResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_comment(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<CreateCommentRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let req = body.value;
    let author_type = match &req.author_type {
        Some(t) => AuthorType::parse(t).map_err(|m| ApiError::field("author_type", m))?,
        None => AuthorType::Agent,
    };
    let reply_channel =
        req.channel.as_deref().map(Channel::parse).transpose().map_err(|m| ApiError::field("channel", m))?;
    let input =
        CommentInput { body: &req.body, internal: req.internal, author_type, file_ids: &req.file_ids, reply_channel };
    let Created { value, replayed } = s.app.add_comment(&actor, &id, input, idem).await?;
    if !replayed {
        s.app.settle_automation(&actor.org_id, &id).await;
    }
    Ok(created(format!("/api/v1/cases/{id}/comments"), None, replayed, CommentResponse::from(value)))
}

/// Everything that happened to a case, in order.
#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = TAG,
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<TimelineEventResponse>), (status = 404, body = Problem)))]
pub async fn timeline(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<ListResponse<TimelineEventResponse>>, ApiError> {
    let page = simple_page(q)?;
    let events = s.app.timeline(&actor, &id, &page).await?;
    Ok(Json(ListResponse::new(events, TimelineEventResponse::from)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// The queue to move the case to. Default: its queue's escalation queue.
    pub queue_id: Option<String>,
    /// Why, for the timeline.
    pub reason: Option<String>,
}

/// Escalate a case: move it to a higher-tier queue, where the router assigns it afresh.
#[utoipa::path(post, path = "/api/v1/cases/{id}/escalate", tag = TAG, request_body = EscalateRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = CaseResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn escalate_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<EscalateRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let case = s.app.escalate_case(&actor, &id, r.queue_id, r.reason).await?;
    let case = settled(&s, &actor, case).await;
    Ok(with_etag(case.version, CaseResponse::from(case)))
}

// ---- links, duplicates, merge -----------------------------------------------------------------

/// A link as the case in the path sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    pub id: String,
    /// related, parent, child, duplicate_of or duplicated_by — as seen from this case.
    #[serde(rename = "type")]
    pub link_type: &'static str,
    /// The other case.
    pub case: IncidentRef,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl LinkResponse {
    fn new(link: &CaseLink, from: &str, other: &Case) -> Self {
        let (_, t) = link.seen_from(from);
        LinkResponse {
            id: link.id.clone(),
            link_type: t.as_str(),
            case: IncidentRef {
                id: other.id.clone(),
                case_number: other.case_number,
                subject: other.subject.clone(),
                status: other.status.as_str(),
            },
            created_by: link.created_by.clone(),
            created_at: link.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinksResponse {
    pub data: Vec<LinkResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// related, parent, child, duplicate_of or duplicated_by — as seen from this case.
    #[serde(rename = "type")]
    pub link_type: String,
    /// The other case.
    pub case_id: String,
}

/// The case's links, in both directions.
#[utoipa::path(get, path = "/api/v1/cases/{id}/links", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = LinksResponse), (status = 404, body = Problem)))]
pub async fn list_links(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<LinksResponse>, ApiError> {
    let links = s.app.list_links(&actor, &id).await?;
    Ok(Json(LinksResponse { data: links.iter().map(|(l, other)| LinkResponse::new(l, &id, other)).collect() }))
}

/// Link the case to another (both timelines record it).
#[utoipa::path(post, path = "/api/v1/cases/{id}/links", tag = TAG, params(("id" = String, Path)), request_body = LinkRequest,
    responses((status = 201, body = LinkResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_link(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<LinkRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let (link, other) = s.app.add_link(&actor, &id, &r.link_type, &r.case_id).await?;
    Ok(created(format!("/api/v1/cases/{id}/links"), None, false, LinkResponse::new(&link, &id, &other)))
}

/// Remove a link.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/links/{link_id}", tag = TAG, params(("id" = String, Path), ("link_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_link(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((id, link_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.app.remove_link(&actor, &id, &link_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseAsDuplicateRequest {
    /// The case this one duplicates.
    pub of: String,
    /// Added to the resolution notes.
    pub note: Option<String>,
    /// Tell the requester in a public reply that the request continues in the other case.
    #[serde(default)]
    pub notify_requester: bool,
}

/// Close the case as a duplicate of another: links them, closes it with a note pointing there.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close-as-duplicate", tag = TAG, params(("id" = String, Path)),
    request_body = CloseAsDuplicateRequest,
    responses((status = 200, body = CaseResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close_as_duplicate(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<CloseAsDuplicateRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let case = s.app.close_as_duplicate(&actor, &id, &r.of, r.note, r.notify_requester).await?;
    Ok(with_etag(case.version, CaseResponse::from(case)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The cases to merge into this one (1 to 50).
    pub source_ids: Vec<String>,
}

/// Merge cases into this one: their comments and links move here with their original times and
/// authors; each is closed as merged, pointing here. All or nothing.
#[utoipa::path(post, path = "/api/v1/cases/{id}/merge", tag = TAG, params(("id" = String, Path)), request_body = MergeRequest,
    responses((status = 200, body = CaseResponse), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn merge_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<MergeRequest>,
) -> Result<Response, ApiError> {
    let case = s.app.merge_cases(&actor, &id, &body.value.source_ids).await?;
    Ok(with_etag(case.version, CaseResponse::from(case)))
}
