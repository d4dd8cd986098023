//! The public satisfaction survey page, `/csat/{token}`: no sign-in — the unguessable token in
//! the emailed link is the requester's credential (which is also why the form needs no CSRF
//! token: a third party cannot know it). It shows the case's number and subject, the scale's
//! choices and a comment box; an answer can be changed until the survey closes.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::AppError;
use casedesk_core::csat::SurveyPage;
use casedesk_domain::csat::Answer;

use super::display::Chrome;
use super::error::{UiError, html};
use super::session::FormData;
use crate::AppState;

pub struct RatingChoice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "csat.html")]
struct CsatPage {
    chrome: Chrome,
    token: String,
    case_number: i64,
    case_subject: String,
    open: bool,
    options: Vec<RatingChoice>,
    comment: String,
    thanks: bool,
    error: Option<String>,
}

fn render(
    token: &str,
    p: &SurveyPage,
    status: StatusCode,
    thanks: bool,
    error: Option<String>,
    given: Option<&str>,
) -> Response {
    let current = given.map(str::to_string).or_else(|| p.survey.score.map(|s| p.survey.scale.rating(s)));
    let options = p
        .survey
        .scale
        .choices()
        .into_iter()
        .map(|(value, label)| RatingChoice { checked: current.as_deref() == Some(value.as_str()), value, label })
        .collect();
    let page = CsatPage {
        chrome: Chrome::anonymous(),
        token: token.to_string(),
        case_number: p.case_number,
        case_subject: p.case_subject.clone(),
        open: p.open,
        options,
        comment: p.survey.comment.clone().unwrap_or_default(),
        thanks,
        error,
    };
    html(status, &page)
}

/// `GET /csat/{token}`: the survey, with the answer given so far.
pub async fn page(State(s): State<AppState>, Path(token): Path<String>) -> Result<Response, UiError> {
    let p = s.app.survey_page(&token).await?;
    Ok(render(&token, &p, StatusCode::OK, false, None, None))
}

/// `POST /csat/{token}`: records (or changes) the answer.
pub async fn answer(State(s): State<AppState>, Path(token): Path<String>, body: Bytes) -> Result<Response, UiError> {
    let form = FormData::parse(&body);
    let answer =
        Answer { rating: form.get("rating").unwrap_or_default().to_string(), comment: form.non_empty("comment") };
    match s.app.answer_survey(&token, answer.clone()).await {
        Ok(p) => Ok(render(&token, &p, StatusCode::OK, true, None, None)),
        Err(AppError::Validation(fields)) => {
            let p = s.app.survey_page(&token).await?;
            let message = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            Ok(render(&token, &p, StatusCode::UNPROCESSABLE_ENTITY, false, Some(message), Some(answer.rating.as_str())))
        }
        Err(AppError::Conflict { message, .. }) => {
            let p = s.app.survey_page(&token).await?;
            Ok(render(&token, &p, StatusCode::CONFLICT, false, Some(message), None))
        }
        Err(e) => Err(e.into()),
    }
}
