//! [`Store`] methods for customer satisfaction surveys.

use casedesk_domain::csat::{Settings, Survey};
use casedesk_domain::timeline::NewEvent;
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    pub async fn get_csat_settings(&self, org_id: &str) -> Result<Option<Settings>> {
        dispatch!(self, read, get_csat_settings(org_id))
    }

    pub async fn put_csat_settings(&self, s: &Settings, now: Timestamp) -> Result<()> {
        dispatch!(self, write, put_csat_settings(s, now))
    }

    /// The survey whose link token hashes to `token_hash`, in whichever organization.
    pub async fn find_survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>> {
        dispatch!(self, write, find_survey_by_token(token_hash))
    }

    /// A case's surveys, oldest first.
    pub async fn list_surveys(&self, org_id: &str, case_id: &str) -> Result<Vec<Survey>> {
        dispatch!(self, read, list_surveys(org_id, case_id))
    }

    /// Saves an answer (with its timeline entry) to the survey as it was at `expected_updated_at`.
    pub async fn answer_survey(&self, s: &Survey, expected_updated_at: Timestamp, event: &NewEvent) -> Result<()> {
        dispatch!(self, write, answer_survey(s, expected_updated_at, event))
    }
}
