//! AI assistance on a case: summarize, categorize, suggest a reply, evaluate. The built-in
//! provider computes each result from the case, the organization's own cases and the ERP context
//! given, offline; every result is kept on the case's timeline as a suggestion.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use casedesk_domain::ai::classify::{self, CategoryRef, Models};
use casedesk_domain::ai::erp::ErpContext;
use casedesk_domain::ai::evaluate::{self, ProblemCandidate};
use casedesk_domain::ai::reply::{self, SimilarCase};
use casedesk_domain::ai::summarize;
use casedesk_domain::ai::text::words;
use casedesk_domain::ai::{AiAction, CaseThread, Message};
use casedesk_domain::case::Case;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{AuthorType, NewEvent};
use casedesk_store::{PageRequest, SimilarKind};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::{Actor, App, AppError, Result};

/// The timeline entry of a suggestion.
pub const AI_SUGGESTION: &str = "ai.suggestion";
/// The built-in provider's name on suggestions.
pub const BUILTIN: &str = "builtin";
/// Most recent cases of an organization learned from.
const TRAINING_CASES: i64 = 2000;
/// How long a learned model is used before it is learned again (sooner on this instance when a
/// case's category changes); meanwhile requests use the older one.
const MODEL_TTL: SignedDuration = SignedDuration::from_mins(5);
/// Similar cases consulted for a reply or an evaluation.
const SIMILAR: i64 = 3;
/// Most comments of a case read.
const THREAD_LIMIT: u32 = 1000;

/// What the caller asks of the assistant.
#[derive(Debug, Clone)]
pub struct AiRequest {
    pub action: AiAction,
    pub erp_context: Option<ErpContext>,
}

/// A suggestion: what was asked, who answered, and the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub action: AiAction,
    pub provider: String,
    pub model: String,
    pub result: Value,
    pub created_at: Timestamp,
}

/// What an organization's cases taught, and when.
#[derive(Debug, Clone)]
struct Learned {
    at: Timestamp,
    models: Arc<Models>,
    /// A category changed since: learn again.
    stale: bool,
    /// Learning again is under way.
    refreshing: bool,
}

/// Models learned per organization. A request is served by what was learned last while a newer
/// model is learned in the background, so only an organization's very first request waits for
/// learning.
#[derive(Debug, Default, Clone)]
pub struct AiState {
    models: Arc<Mutex<HashMap<String, Learned>>>,
}

impl AiState {
    /// Marks what an organization's cases taught as out of date.
    pub fn forget(&self, org_id: &str) {
        if let Ok(mut m) = self.models.lock()
            && let Some(l) = m.get_mut(org_id)
        {
            l.stale = true;
        }
    }

    fn put(&self, org_id: &str, at: Timestamp, models: Arc<Models>) {
        if let Ok(mut m) = self.models.lock() {
            m.insert(org_id.to_string(), Learned { at, models, stale: false, refreshing: false });
        }
    }
}

impl App {
    /// Runs an assistant action on a case and keeps the result on its timeline.
    pub async fn ai_assist(&self, actor: &Actor, case_id: &str, req: AiRequest) -> Result<Suggestion> {
        actor.require(Action::WriteCases, "use the assistant on cases")?;
        let (case, _, contact, _) = self.store.get_case_with_refs(&actor.org_id, case_id).await?;
        let comments = self.store.list_comments(&actor.org_id, case_id, &PageRequest::first(THREAD_LIMIT)).await?.items;
        let now = self.clock.now();
        let thread = CaseThread {
            case_number: case.case_number,
            subject: case.subject.clone(),
            description: case.description.clone(),
            requester_name: contact.map(|c| c.name),
            status: case.status,
            priority: case.priority,
            messages: comments
                .into_iter()
                .map(|c| Message {
                    from_customer: c.author_type == AuthorType::Customer,
                    internal: c.internal,
                    author: c.author_id,
                    body: c.body,
                    at: c.created_at,
                })
                .collect(),
            sla_due_at: case.sla.as_ref().and_then(|s| s.next_due()),
            sla_breached: case.sla.as_ref().is_some_and(|s| s.breached()),
            now,
        };
        let (model, result) = match req.action {
            AiAction::Summarize => ("extractive", json!(summarize::summarize(&thread))),
            AiAction::Categorize => {
                let (models, categories) = self.models_of(&actor.org_id).await?;
                let c = classify::categorize(&thread.subject, &thread.customer_text(), &models, &categories);
                (if c.learned_from > 0 { "logistic-regression" } else { "keyword-rules" }, json!(c))
            }
            AiAction::SuggestReply => {
                let similar = self.similar_resolved(&case).await?;
                let topic = classify::topic(&thread.subject, &thread.customer_text()).map(|t| t.0);
                let agent = self.store.get_user(&actor.org_id, &actor.user_id).await.ok().map(|u| u.name);
                let draft = reply::suggest_reply(&thread, topic, req.erp_context.as_ref(), &similar, agent.as_deref());
                ("retrieval", json!(draft))
            }
            AiAction::Evaluate => {
                let words = search_words(&case);
                let problems = self
                    .store
                    .similar_cases(&actor.org_id, &words, &case.id, SimilarKind::OpenProblems, SIMILAR)
                    .await?
                    .into_iter()
                    .map(|(id, case_number)| ProblemCandidate { id, case_number })
                    .collect::<Vec<_>>();
                let topic = classify::topic(&thread.subject, &thread.customer_text()).map(|t| t.0);
                ("rules", json!(evaluate::evaluate(&thread, topic, &problems)))
            }
        };
        let suggestion =
            Suggestion { action: req.action, provider: BUILTIN.into(), model: model.into(), result, created_at: now };
        let event = NewEvent {
            kind: AI_SUGGESTION,
            data: json!({
                "action": suggestion.action.as_str(),
                "provider": suggestion.provider,
                "model": suggestion.model,
                "result": suggestion.result,
            }),
            created_at: now,
        };
        self.store.append_events(&actor.org_id, case_id, &actor.user_id, &[event]).await?;
        Ok(suggestion)
    }

    /// What the organization's cases teach (learned again in the background when older than
    /// [`MODEL_TTL`] or after a category changed), and its categories.
    async fn models_of(&self, org_id: &str) -> Result<(Arc<Models>, Vec<CategoryRef>)> {
        let categories: Vec<CategoryRef> = self
            .store
            .list_categories(org_id)
            .await?
            .into_iter()
            .map(|c| CategoryRef { id: c.id, name: c.name })
            .collect();
        let now = self.clock.now();
        let (known, refresh) = {
            let mut m = self.ai.models.lock().map_err(|_| AppError::Internal("AI model cache poisoned".into()))?;
            match m.get_mut(org_id) {
                Some(l) => {
                    let old = l.stale || now.duration_since(l.at) >= MODEL_TTL;
                    let refresh = old && !l.refreshing;
                    if refresh {
                        l.refreshing = true;
                    }
                    (Some(l.models.clone()), refresh)
                }
                None => (None, false),
            }
        };
        if refresh {
            let app = self.clone();
            let org = org_id.to_string();
            tokio::spawn(async move {
                match app.learn(&org).await {
                    Ok(models) => app.ai.put(&org, app.clock.now(), models),
                    Err(e) => {
                        tracing::warn!(error = %e, "learning from the organization's cases failed");
                        app.ai.forget(&org);
                        if let Ok(mut m) = app.ai.models.lock()
                            && let Some(l) = m.get_mut(&org)
                        {
                            l.refreshing = false;
                        }
                    }
                }
            });
        }
        let models = match known {
            Some(models) => models,
            None => {
                let models = self.learn(org_id).await?;
                self.ai.put(org_id, now, models.clone());
                models
            }
        };
        Ok((models, categories))
    }

    /// Learns from the organization's newest cases, off the request threads.
    async fn learn(&self, org_id: &str) -> Result<Arc<Models>> {
        let examples = self.store.ai_examples(org_id, TRAINING_CASES).await?;
        let models = tokio::task::spawn_blocking(move || {
            Models::train(
                examples
                    .iter()
                    .map(|e| (e.subject.as_str(), e.description.as_str(), e.category_id.as_deref(), e.priority)),
            )
        })
        .await
        .map_err(|e| AppError::Internal(format!("learning stopped: {e}")))?;
        Ok(Arc::new(models))
    }

    /// The resolved cases most like `case`, with the last reply their customer saw.
    async fn similar_resolved(&self, case: &Case) -> Result<Vec<SimilarCase>> {
        let words = search_words(case);
        let found = self.store.similar_cases(&case.org_id, &words, &case.id, SimilarKind::Resolved, SIMILAR).await?;
        let mut out = Vec::with_capacity(found.len());
        for (id, case_number) in found {
            let last_public_reply = self.store.last_public_reply(&case.org_id, &id).await?;
            out.push(SimilarCase { case_number, last_public_reply });
        }
        Ok(out)
    }
}

/// The words that best say what a case is about, to find others like it: the subject's and the
/// description's meaningful words without numbers (an order number is this case's alone),
/// longest first.
fn search_words(case: &Case) -> Vec<String> {
    let mut ws: Vec<String> = words(&case.subject)
        .into_iter()
        .chain(words(&case.description))
        .filter(|w| w.len() >= 4 && !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    ws.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    ws.dedup();
    ws.truncate(8);
    ws
}
