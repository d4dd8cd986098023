//! `/api/v1/automation-rules`: rules that act on cases when something happens or after a time
//! (admins), and their dry run. See docs/automation.md.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_domain::automation::{Rule, RuleInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cases::{CaseResponse, created};
use super::{ListResponse, QueryReader, nullable, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    pub id: String,
    pub name: String,
    pub description: String,
    /// An event (case.created, case.updated, status.changed, priority.changed, assignee.changed,
    /// comment.added, sla.warning, sla.breached, milestone.overdue) or a time trigger
    /// (time.no_agent_reply, time.pending, time.unassigned, time.resolved).
    pub trigger: String,
    /// For a time trigger: minutes in the state before the rule fires.
    pub after_minutes: Option<i64>,
    /// `{"all": [condition…], "any": [condition…]}`; a condition is `{"field", "operator", "value"}`.
    #[schema(value_type = Object)]
    pub conditions: Value,
    /// The actions, in order: `{"type": "assign_to_queue", "queue_id": …}` …
    #[schema(value_type = Vec<Object>)]
    pub actions: Value,
    pub active: bool,
    /// Rules of one trigger run in ascending position.
    pub position: i64,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

impl From<Rule> for RuleResponse {
    fn from(r: Rule) -> Self {
        RuleResponse {
            id: r.id,
            name: r.name,
            description: r.description,
            trigger: r.trigger,
            after_minutes: r.after_minutes,
            conditions: serde_json::to_value(&r.conditions).unwrap_or_default(),
            actions: serde_json::to_value(&r.actions).unwrap_or_default(),
            active: r.active,
            position: r.position,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A rule; on create, name, trigger and actions are required. On update every field is
/// optional and `after_minutes: null` clears the delay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub trigger: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub after_minutes: Option<Option<i64>>,
    #[schema(value_type = Option<Object>)]
    pub conditions: Option<Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub actions: Option<Value>,
    /// Default true.
    pub active: Option<bool>,
    /// Default 0.
    pub position: Option<i64>,
}

impl From<RuleRequest> for RuleInput {
    fn from(r: RuleRequest) -> Self {
        RuleInput {
            name: r.name,
            description: r.description,
            trigger: r.trigger,
            after_minutes: r.after_minutes,
            conditions: r.conditions,
            actions: r.actions,
            active: r.active,
            position: r.position,
        }
    }
}

/// The open cases a rule's conditions match now.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunResponse {
    pub data: Vec<CaseResponse>,
    /// Continues the scan after the last case examined; null once every open case was.
    pub next_cursor: Option<String>,
    pub has_more: bool,
    /// Open cases examined by this call.
    pub examined: usize,
}

/// The organization's automation rules, newest first (admins).
#[utoipa::path(get, path = "/api/v1/automation-rules", tag = "automation",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<RuleResponse>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_rules(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<RuleResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_rules(&actor, &page).await?, RuleResponse::from)))
}

/// Create an automation rule (admins). A 422 names each bad field: `conditions.all[2].operator`,
/// `actions[0].queue_id`.
#[utoipa::path(post, path = "/api/v1/automation-rules", tag = "automation", request_body = RuleRequest,
    responses((status = 201, body = RuleResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<RuleRequest>,
) -> Result<Response, ApiError> {
    let r = s.app.create_rule(&actor, body.value.into()).await?;
    Ok(created(format!("/api/v1/automation-rules/{}", r.id), None, false, RuleResponse::from(r)))
}

#[utoipa::path(get, path = "/api/v1/automation-rules/{id}", tag = "automation", params(("id" = String, Path)),
    responses((status = 200, body = RuleResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<RuleResponse>, ApiError> {
    Ok(Json(s.app.get_rule(&actor, &id).await?.into()))
}

/// Change a rule, or switch it on or off (`active`).
#[utoipa::path(patch, path = "/api/v1/automation-rules/{id}", tag = "automation", params(("id" = String, Path)),
    request_body = RuleRequest,
    responses((status = 200, body = RuleResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<RuleRequest>,
) -> Result<Json<RuleResponse>, ApiError> {
    Ok(Json(s.app.update_rule(&actor, &id, body.value.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/automation-rules/{id}", tag = "automation", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_rule(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which open cases the rule's conditions match now, without running it. Examines at most 1000
/// open cases per call (by id); pass `next_cursor` as `cursor` to go on. Conditions about the
/// firing change (`changed`, `comment.*`) match nothing here.
#[utoipa::path(post, path = "/api/v1/automation-rules/{id}/dry-run", tag = "automation",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = DryRunResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn dry_run(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Json<DryRunResponse>, ApiError> {
    let mut r = QueryReader::new(q, &[]);
    let page = r.page();
    r.finish()?;
    let run = s.app.dry_run_rule(&actor, &id, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(DryRunResponse {
        has_more: run.next_cursor.is_some(),
        next_cursor: run.next_cursor,
        examined: run.examined,
        data: run.matches.into_iter().map(CaseResponse::from).collect(),
    }))
}
