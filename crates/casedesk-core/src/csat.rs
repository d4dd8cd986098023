//! Customer satisfaction surveys: the organization's settings, the survey a resolution sends
//! (made by the mail dispatcher, in the transaction that queues its message), and answers given
//! on the public survey page, which reach it with the link's token alone.
//!
//! Answers are the requester's: no API lets an agent write one. Each is a `csat.received` entry
//! on the case's timeline, written with the answer, which is also what automation rules trigger on.

use casedesk_domain::case::Case;
use casedesk_domain::csat::{self, Answer, Scale, Settings, Survey};
use casedesk_domain::email::EmailMessage;
use casedesk_domain::policy::Action;
use casedesk_domain::report::local_day;
use casedesk_domain::timeline::NewEvent;
use casedesk_store::StoreError;
use jiff::Timestamp;

use crate::email::OwnMessage;
use crate::{Actor, App, AppError, Result};

/// The base of survey links until the server is told its public address (`--public-url`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The path of the survey page of a token, under the public URL.
pub fn survey_path(token: &str) -> String {
    format!("/csat/{token}")
}

/// A survey of `case`, resolved at `resolved_at`, and the message carrying its link (built by
/// `message` from the text). The token exists only in the message; the survey keeps its hash.
pub(crate) fn survey_message(
    case: &Case,
    scale: Scale,
    resolved_at: Timestamp,
    base_url: &str,
    message: impl FnOnce(OwnMessage<'_>) -> EmailMessage,
) -> (Survey, EmailMessage) {
    let token = csat::new_token();
    let now = resolved_at;
    let survey = Survey::new(case, scale, csat::token_hash(&token), resolved_at, now);
    let question = match scale {
        Scale::GoodBad => "Were you satisfied with how we handled it? Good or bad",
        Scale::OneToFive => "How satisfied were you with how we handled it, from 1 to 5",
    };
    let body = format!(
        "Your request #{number} \"{subject}\" has been resolved.\n\n{question} — tell us here:\n\n{base_url}{path}\n\n\
         You can change your answer for {days} days. Thank you!\n",
        number = case.case_number,
        subject = case.subject,
        path = survey_path(&token),
        days = csat::WINDOW_DAYS,
    );
    let local_id = format!("csat-{}", survey.id.trim_start_matches("csat_"));
    let mail = message(OwnMessage { local_id: &local_id, comment_id: None, body: &body, file_ids: &[] });
    (survey, mail)
}

/// Which survey an answer is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SurveyOf<'a> {
    /// The one a link's token opens.
    Token(&'a str),
    /// The latest of a case (the requester's, in the portal).
    LatestOf(&'a Case),
}

/// A survey with the case it asks about, as the survey page shows it.
#[derive(Debug, Clone)]
pub struct SurveyPage {
    pub survey: Survey,
    pub case_number: i64,
    pub case_subject: String,
    pub open: bool,
}

impl App {
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = url.into();
        self
    }

    pub async fn csat_settings(&self, actor: &Actor) -> Result<Settings> {
        actor.require(Action::ReadCases, "read survey settings")?;
        Ok(self
            .store
            .get_csat_settings(&actor.org_id)
            .await?
            .unwrap_or_else(|| Settings { org_id: actor.org_id.clone(), ..Settings::default() }))
    }

    /// Turns surveys on or off and sets the scale (admins). New surveys take the new scale;
    /// those already sent keep theirs.
    pub async fn update_csat_settings(
        &self,
        actor: &Actor,
        enabled: Option<bool>,
        scale: Option<&str>,
    ) -> Result<Settings> {
        actor.require(Action::ManageQueues, "change survey settings")?;
        let mut s = self.csat_settings(actor).await?;
        if let Some(scale) = scale {
            s.scale = Scale::parse(scale).map_err(|m| AppError::field("scale", m))?;
        }
        if let Some(e) = enabled {
            s.enabled = e;
        }
        self.store.put_csat_settings(&s, self.clock.now()).await?;
        Ok(s)
    }

    /// A case's surveys and answers, oldest first.
    pub async fn case_surveys(&self, actor: &Actor, case_id: &str) -> Result<Vec<Survey>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_surveys(&actor.org_id, &case.id).await?)
    }

    /// The survey a link's token opens; 404 for a token that opens none.
    pub async fn survey_page(&self, token: &str) -> Result<SurveyPage> {
        let survey = self.store.find_survey_by_token(&csat::token_hash(token)).await?.ok_or(AppError::NotFound)?;
        self.survey_page_of(survey).await
    }

    /// Records the requester's answer given through a survey link: the rating and comment
    /// replace any earlier answer while the survey is open (409 `csat_closed` after), with a
    /// `csat.received` timeline entry in the same transaction.
    pub async fn answer_survey(&self, token: &str, answer: Answer) -> Result<SurveyPage> {
        self.answer_survey_of(SurveyOf::Token(token), answer).await
    }

    /// A survey with its case, as a page shows it (404 if the case is gone).
    pub(crate) async fn survey_page_of(&self, survey: Survey) -> Result<SurveyPage> {
        let case = match self.store.get_case(&survey.org_id, &survey.case_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let open = survey.is_open(self.clock.now());
        Ok(SurveyPage { survey, case_number: case.case_number, case_subject: case.subject, open })
    }

    /// Records an answer to the survey `of` names (read again after a concurrent answer), by
    /// the rules of [`answer_survey`](Self::answer_survey): the survey link and the customer
    /// portal both answer through here.
    pub(crate) async fn answer_survey_of(&self, of: SurveyOf<'_>, answer: Answer) -> Result<SurveyPage> {
        for _ in 0..3 {
            let mut page = match of {
                SurveyOf::Token(token) => self.survey_page(token).await?,
                SurveyOf::LatestOf(case) => {
                    let survey =
                        self.store.list_surveys(&case.org_id, &case.id).await?.pop().ok_or(AppError::NotFound)?;
                    self.survey_page_of(survey).await?
                }
            };
            let now = self.clock.now();
            let tz = self.org_time_zone(&page.survey.org_id).await?;
            let before = page.survey.updated_at;
            let data = page.survey.answer(answer.clone(), now, local_day(now, &tz))?;
            let event = NewEvent { kind: csat::CSAT_RECEIVED, data, created_at: now };
            match self.store.answer_survey(&page.survey, before, &event).await {
                Ok(()) => {
                    self.settle_automation(&page.survey.org_id, &page.survey.case_id).await;
                    page.open = page.survey.is_open(now);
                    return Ok(page);
                }
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }
}
