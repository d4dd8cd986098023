//! `/api/v1/organization`: the caller's organization and its settings.

use axum::Json;
use axum::extract::State;
use casedesk_core::org::OrgInput;
use casedesk_core::store::Org;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgResponse {
    pub id: String,
    pub name: String,
    /// IANA time zone: due dates given as dates are 12:00 here.
    pub time_zone: String,
    /// Resolved cases close automatically after this many days.
    pub auto_close_days: i64,
    /// Cases without a queue policy get seed 004's response targets (urgent 1 h, high 4 h,
    /// medium 24 h, low 48 h).
    pub default_sla: bool,
    /// Minutes in a working day: a time entry of `1d` is this long (default 480, 8 hours).
    pub working_day_minutes: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

impl From<Org> for OrgResponse {
    fn from(o: Org) -> Self {
        OrgResponse {
            id: o.id,
            name: o.name,
            time_zone: o.time_zone,
            auto_close_days: o.auto_close_days,
            default_sla: o.default_sla,
            working_day_minutes: o.working_day_minutes,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgRequest {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    /// 1 to 365.
    pub auto_close_days: Option<i64>,
    pub default_sla: Option<bool>,
    /// 1 to 1440.
    pub working_day_minutes: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/organization", tag = "organization",
    responses((status = 200, body = OrgResponse), (status = 401, body = Problem)))]
pub async fn get_organization(State(s): State<AppState>, Auth(actor): Auth) -> Result<Json<OrgResponse>, ApiError> {
    Ok(Json(s.app.get_organization(&actor).await?.into()))
}

/// Change the organization's settings (admins).
#[utoipa::path(patch, path = "/api/v1/organization", tag = "organization", request_body = OrgRequest,
    responses((status = 200, body = OrgResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_organization(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<OrgRequest>,
) -> Result<Json<OrgResponse>, ApiError> {
    let r = body.value;
    let input = OrgInput {
        name: r.name,
        time_zone: r.time_zone,
        auto_close_days: r.auto_close_days,
        default_sla: r.default_sla,
        working_day_minutes: r.working_day_minutes,
    };
    Ok(Json(s.app.update_organization(&actor, input).await?.into()))
}
