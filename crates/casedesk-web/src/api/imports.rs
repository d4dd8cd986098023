//! `/api/v1/imports/cases`: historical cases with their original times, for moving from another
//! helpdesk.

use axum::extract::State;
use axum::response::Response;
use casedesk_core::cases::{ImportCaseInput, ImportCommentInput, ImportedRef};
use casedesk_core::idempotency::Created;
use casedesk_domain::case::ImportTimes;
use casedesk_domain::{Errors, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::cases::{CreateCaseRequest, created};
use super::parse_instant;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCasesRequest {
    /// 1 to 1000 cases, imported all together or not at all.
    pub cases: Vec<ImportCase>,
}

/// A historical case: the fields of a new case (closed allowed), its original times and
/// comments, and optionally its original number.
///
/// The fields of [`CreateCaseRequest`] are repeated rather than flattened in: serde cannot deny
/// unknown fields through `flatten`, and a misspelt field must be a 422, not silently dropped.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCase {
    pub subject: String,
    pub description: Option<String>,
    pub status: Option<String>,
    #[schema(value_type = Option<String>)]
    pub priority: Option<Value>,
    #[serde(rename = "type", alias = "case_type")]
    pub case_type: Option<String>,
    pub channel: Option<String>,
    pub queue_id: Option<String>,
    #[serde(alias = "assignee_id")]
    pub owner_id: Option<String>,
    pub requester_id: Option<String>,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub tags: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    pub resolution_notes: Option<String>,
    pub due_at: Option<String>,
    /// Keep the number the case had; default: the next number.
    pub case_number: Option<i64>,
    /// RFC 3339, required.
    pub created_at: String,
    pub updated_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    /// A user id; default: the importer.
    pub created_by: Option<String>,
    #[serde(default)]
    pub comments: Vec<ImportComment>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
    pub author_id: Option<String>,
    /// RFC 3339, required.
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedCaseResponse {
    pub id: String,
    pub case_number: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    pub imported: usize,
    pub data: Vec<ImportedCaseResponse>,
}

fn time(e: &mut Errors, field: String, v: &str) -> Option<jiff::Timestamp> {
    e.take(&field, parse_instant(v))
}

fn convert(i: usize, c: ImportCase, e: &mut Errors) -> Option<ImportCaseInput> {
    let p = format!("cases[{i}]");
    let created_at = time(e, format!("{p}.created_at"), &c.created_at);
    let updated_at = c.updated_at.as_deref().and_then(|v| time(e, format!("{p}.updated_at"), v));
    let resolved_at = c.resolved_at.as_deref().and_then(|v| time(e, format!("{p}.resolved_at"), v));
    let closed_at = c.closed_at.as_deref().and_then(|v| time(e, format!("{p}.closed_at"), v));
    let mut comments = Vec::with_capacity(c.comments.len());
    for (j, m) in c.comments.into_iter().enumerate() {
        if let Some(at) = time(e, format!("{p}.comments[{j}].created_at"), &m.created_at) {
            comments.push(ImportCommentInput {
                body: m.body,
                internal: m.internal,
                author_id: m.author_id,
                created_at: at,
            });
        }
    }
    // The same field parsing as an ordinary create, with errors filed under this case.
    let as_new = CreateCaseRequest {
        subject: c.subject,
        description: c.description,
        status: c.status,
        priority: c.priority,
        case_type: c.case_type,
        channel: c.channel,
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
        required_skills: None,
        problem_id: None,
        custom_status_id: None,
        funnel_stage_id: None,
        category_id: None,
    };
    let case = match as_new.into_domain() {
        Ok(case) => case,
        Err(ApiError::App(casedesk_core::AppError::Validation(fields))) => {
            for FieldError { field, message } in fields {
                e.add(format!("{p}.{field}"), message);
            }
            return None;
        }
        Err(_) => return None,
    };
    Some(ImportCaseInput {
        case,
        case_number: c.case_number,
        times: ImportTimes { created_at: created_at?, updated_at, resolved_at, closed_at },
        created_by: c.created_by,
        comments,
    })
}

/// Import historical cases (admins) with their original times and comments. Ordinary creation
/// never accepts timestamps; this endpoint is for moving from another helpdesk.
#[utoipa::path(post, path = "/api/v1/imports/cases", tag = "imports", request_body = ImportCasesRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ImportResponse), (status = 403, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn import_cases(
    State(s): State<AppState>,
    crate::extract::Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<ImportCasesRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let mut errors = Errors::new();
    let inputs: Vec<ImportCaseInput> =
        body.value.cases.into_iter().enumerate().filter_map(|(i, c)| convert(i, c, &mut errors)).collect();
    errors.finish()?;
    let Created { value, replayed } = s.app.import_cases(&actor, inputs, idem).await?;
    let data: Vec<ImportedCaseResponse> =
        value.into_iter().map(|ImportedRef { id, case_number }| ImportedCaseResponse { id, case_number }).collect();
    Ok(created("/api/v1/cases".into(), None, replayed, ImportResponse { imported: data.len(), data }))
}
