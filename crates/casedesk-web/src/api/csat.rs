//! Customer satisfaction: the organization's survey settings and a case's ratings. Ratings are
//! written only by requesters on the public survey page (`/csat/{token}`, see `ui::csat`).

use axum::Json;
use axum::extract::{Path, State};
use casedesk_domain::csat::Survey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody};

const TAG: &str = "csat";

/// Whether resolved cases send satisfaction surveys, and on which scale.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsatSettingsResponse {
    pub enabled: bool,
    /// `good_bad` (good or bad) or `one_to_five` (1 worst … 5 best).
    pub scale: &'static str,
    /// Days after a resolution during which its survey takes an answer and changes to it.
    pub window_days: i64,
}

impl From<casedesk_domain::csat::Settings> for CsatSettingsResponse {
    fn from(s: casedesk_domain::csat::Settings) -> Self {
        CsatSettingsResponse {
            enabled: s.enabled,
            scale: s.scale.as_str(),
            window_days: casedesk_domain::csat::WINDOW_DAYS,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatSettingsRequest {
    pub enabled: Option<bool>,
    /// `good_bad` or `one_to_five`.
    pub scale: Option<String>,
}

/// One survey of a case and its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResponse {
    pub id: String,
    pub case_id: String,
    pub scale: &'static str,
    /// `good`/`bad`, or `1`–`5`; `null` until answered.
    pub rating: Option<String>,
    /// good 1, bad 0, or 1–5.
    pub score: Option<i64>,
    /// Good, or 4 and 5.
    pub positive: Option<bool>,
    pub comment: Option<String>,
    /// The resolution the survey asks about.
    #[schema(value_type = String, format = DateTime)]
    pub resolved_at: jiff::Timestamp,
    /// Until when an answer can be given or changed.
    #[schema(value_type = String, format = DateTime)]
    pub open_until: jiff::Timestamp,
    pub open: bool,
    /// When it was first answered.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answered_at: Option<jiff::Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

impl SurveyResponse {
    pub fn new(s: Survey, now: jiff::Timestamp) -> Self {
        SurveyResponse {
            open: s.is_open(now),
            rating: s.score.map(|n| s.scale.rating(n)),
            positive: s.score.map(|n| s.scale.positive(n)),
            scale: s.scale.as_str(),
            id: s.id,
            case_id: s.case_id,
            score: s.score,
            comment: s.comment,
            resolved_at: s.resolved_at,
            open_until: s.expires_at,
            answered_at: s.answered_at,
            updated_at: s.updated_at,
        }
    }
}

/// The organization's survey settings.
#[utoipa::path(get, path = "/api/v1/csat/settings", tag = TAG,
    responses((status = 200, body = CsatSettingsResponse), (status = 403, body = Problem)))]
pub async fn get_csat_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<CsatSettingsResponse>, ApiError> {
    Ok(Json(s.app.csat_settings(&actor).await?.into()))
}

/// Turn surveys on or off and choose the scale (admins). Surveys go out by email once the
/// organization can send mail; each takes answers for 7 days after its resolution.
#[utoipa::path(patch, path = "/api/v1/csat/settings", tag = TAG, request_body = CsatSettingsRequest,
    responses((status = 200, body = CsatSettingsResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_csat_settings(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CsatSettingsRequest>,
) -> Result<Json<CsatSettingsResponse>, ApiError> {
    let r = body.value;
    Ok(Json(s.app.update_csat_settings(&actor, r.enabled, r.scale.as_deref()).await?.into()))
}

/// A case's satisfaction surveys and their answers, oldest first (one per resolution).
#[utoipa::path(get, path = "/api/v1/cases/{id}/csat", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = Vec<SurveyResponse>), (status = 404, body = Problem)))]
pub async fn case_csat(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<SurveyResponse>>, ApiError> {
    let now = s.app.clock.now();
    let surveys = s.app.case_surveys(&actor, &id).await?;
    Ok(Json(surveys.into_iter().map(|x| SurveyResponse::new(x, now)).collect()))
}
