//! `/api/v1/orgs/{org_id}/external-visitors/{external_id_jwt}/cases`: a host application reads
//! the cases of one of its visitors (seed 002). The request is authenticated with the host's
//! API token for the organization (`Authorization: Bearer`); the path's JWT, signed with one of
//! the organization's signing keys, names the visitor.
//!
//! Answers: 200; 400 `invalid_visitor_token` (malformed, expired, unknown or revoked kid, bad
//! signature); 401 (no or bad API token); 403 `organization_access_denied` (the token is another
//! organization's) or `subscription_inactive`; 404 (no such visitor, or not their case).

use axum::Json;
use axum::extract::{Path, State};
use casedesk_core::store::{CaseListItem, WorkflowSummary};
use casedesk_core::visitors::VisitorCase;
use casedesk_domain::case::Case;
use casedesk_domain::list::Ordering;
use casedesk_domain::timeline::Comment;
use serde::Serialize;
use utoipa::ToSchema;

use super::cases::{CaseResponse, ContactSummaryResponse, StageRef};
use super::{ListResponse, QueryReader};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, QueryPairs};

/// A visitor's case: what the customer may see of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorCaseResponse {
    pub id: String,
    pub organization_id: String,
    pub case_number: i64,
    pub subject: String,
    pub description: String,
    /// new, open, pending, on_hold, resolved or closed.
    pub status: &'static str,
    /// The organization's name for the status (its custom status, when the case has one).
    pub status_label: String,
    /// low, medium, high or critical.
    pub priority: &'static str,
    /// Where the case came from: email, webchat, phone …
    pub channel: &'static str,
    pub contact_id: Option<String>,
    pub contact: Option<ContactSummaryResponse>,
    pub is_closed: bool,
    /// The case awaits an answer from the support team.
    pub is_waiting: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    pub case_funnel_stage_id: Option<String>,
    pub case_funnel_stage: Option<StageRef>,
}

impl VisitorCaseResponse {
    /// What a customer may see of the case as the agents' API shapes it: one place decides how a
    /// case reads in JSON, this picks from it.
    fn new(c: Case, contact: Option<ContactSummaryResponse>, w: WorkflowSummary) -> Self {
        let r = CaseResponse::from(c).with_workflow(w);
        VisitorCaseResponse {
            status_label: r.custom_status.map(|s| s.name).unwrap_or_else(|| r.status.to_string()),
            id: r.id,
            organization_id: r.organization_id,
            case_number: r.case_number,
            subject: r.subject,
            description: r.description,
            status: r.status,
            priority: r.priority,
            channel: r.channel,
            contact_id: r.contact_id,
            contact,
            is_closed: r.is_closed,
            is_waiting: r.is_waiting,
            resolved_at: r.resolved_at,
            closed_at: r.closed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            case_funnel_stage_id: r.case_funnel_stage_id,
            case_funnel_stage: r.funnel_stage,
        }
    }
}

impl From<CaseListItem> for VisitorCaseResponse {
    fn from(i: CaseListItem) -> Self {
        let contact = i.contact.map(|c| ContactSummaryResponse { id: c.id, name: c.name, email: c.email });
        VisitorCaseResponse::new(i.case, contact, i.workflow)
    }
}

/// A reply on a visitor's case (internal notes are never shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorCommentResponse {
    pub id: String,
    pub body: String,
    /// agent, customer or system.
    pub author_type: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<Comment> for VisitorCommentResponse {
    fn from(c: Comment) -> Self {
        VisitorCommentResponse { id: c.id, body: c.body, author_type: c.author_type.as_str(), created_at: c.created_at }
    }
}

/// A visitor's case with its customer-facing comments, oldest first (up to 200).
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorCaseDetailResponse {
    #[serde(flatten)]
    pub case: VisitorCaseResponse,
    pub comments: Vec<VisitorCommentResponse>,
}

/// The orderings seed 002 names for a visitor's cases.
fn parse_ordering(s: &str) -> Result<Ordering, String> {
    match Ordering::parse(s) {
        Ok(o @ (Ordering::CreatedAsc | Ordering::CreatedDesc | Ordering::UpdatedAsc | Ordering::UpdatedDesc)) => Ok(o),
        _ => Err("must be created_at, -created_at, updated_at or -updated_at".into()),
    }
}

/// The cases of every contact assigned to the visitor the JWT names.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/external-visitors/{external_id_jwt}/cases", tag = "external-visitors",
    params(("org_id" = String, Path), ("external_id_jwt" = String, Path, description = "A JWT signed with one of the organization's signing keys; its external_id (or sub) claim is the visitor"),
        ("ordering" = Option<String>, Query, description = "created_at (default), -created_at, updated_at or -updated_at"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<VisitorCaseResponse>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_visitor_cases(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((org_id, token)): Path<(String, String)>,
    q: QueryPairs,
) -> Result<Json<ListResponse<VisitorCaseResponse>>, ApiError> {
    let mut r = QueryReader::new(q, &["ordering"]);
    let ordering = r.parse("ordering", parse_ordering).unwrap_or(Ordering::CreatedAsc);
    let page = r.page();
    r.finish()?;
    let cases = s.app.visitor_cases(&actor, &org_id, &token, ordering, page.limit, page.cursor).await?;
    Ok(Json(ListResponse::new(cases, VisitorCaseResponse::from)))
}

/// One of the visitor's cases with its customer-facing comments; another's case answers 404.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/external-visitors/{external_id_jwt}/cases/{case_id}", tag = "external-visitors",
    params(("org_id" = String, Path), ("external_id_jwt" = String, Path), ("case_id" = String, Path)),
    responses((status = 200, body = VisitorCaseDetailResponse), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_visitor_case(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((org_id, token, case_id)): Path<(String, String, String)>,
) -> Result<Json<VisitorCaseDetailResponse>, ApiError> {
    let VisitorCase { case, contact, workflow, comments } =
        s.app.visitor_case(&actor, &org_id, &token, &case_id).await?;
    let contact = contact.map(|c| ContactSummaryResponse { id: c.id, name: c.name, email: c.email });
    Ok(Json(VisitorCaseDetailResponse {
        case: VisitorCaseResponse::new(case, contact, workflow),
        comments: comments.into_iter().map(VisitorCommentResponse::from).collect(),
    }))
}
