//! [`Store`] methods for the assistant: its provider settings, similar cases, examples to learn
//! from, suggestions on the timeline.

use casedesk_domain::ai::settings::AiSettings;
use casedesk_domain::timeline::NewEvent;

use crate::{AiExample, Result, SimilarKind, Store};
#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};

impl Store {
    /// (id, case number) of cases sharing `words`, best match first.
    pub async fn similar_cases(
        &self,
        org_id: &str,
        words: &[String],
        exclude_id: &str,
        kind: SimilarKind,
        limit: i64,
    ) -> Result<Vec<(String, i64)>> {
        dispatch!(self, read, similar_cases(org_id, words, exclude_id, kind, limit))
    }

    pub async fn last_public_reply(&self, org_id: &str, case_id: &str) -> Result<Option<String>> {
        dispatch!(self, read, last_public_reply(org_id, case_id))
    }

    /// The organization's newest `limit` cases, to learn from.
    pub async fn ai_examples(&self, org_id: &str, limit: i64) -> Result<Vec<AiExample>> {
        dispatch!(self, read, ai_examples(org_id, limit))
    }

    /// Adds timeline entries to a case without changing it.
    pub async fn append_events(&self, org_id: &str, case_id: &str, actor_id: &str, events: &[NewEvent]) -> Result<()> {
        dispatch!(self, write, append_events(org_id, case_id, actor_id, events))
    }

    /// The organization's provider settings (none until saved: the built-in provider).
    pub async fn get_ai_settings(&self, org_id: &str) -> Result<Option<AiSettings>> {
        dispatch!(self, read, get_ai_settings(org_id))
    }

    pub async fn put_ai_settings(&self, settings: &AiSettings) -> Result<()> {
        dispatch!(self, write, put_ai_settings(settings))
    }
}
