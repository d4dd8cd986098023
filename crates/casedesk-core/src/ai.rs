//! AI assistance on a case: summarize, categorize, suggest a reply, evaluate. The built-in
//! provider computes each result from the case, the organization's own cases and macros and the
//! ERP context given, offline. An organization may choose an OpenAI-compatible provider instead
//! ([`settings`]); it is asked through the [`AiProvider`] port with what the built-in provider
//! gathered, and its answer is checked (`casedesk_domain::ai::llm`). On any failure — no answer
//! in time, an error status, an answer that does not fit — the built-in answer is given, saying
//! which provider failed and why. Every result is kept on the case's timeline as a suggestion.

mod provider;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casedesk_domain::ai::classify::{self, Categorization, CategoryRef, Models};
use casedesk_domain::ai::erp::ErpContext;
use casedesk_domain::ai::evaluate::{self, Evaluation, ProblemCandidate};
use casedesk_domain::ai::llm::{self, Ask};
use casedesk_domain::ai::reply::{self, Draft, MacroCandidate, SimilarCase};
use casedesk_domain::ai::settings::{AiSettings, KeyHeader, key_binding};
use casedesk_domain::ai::summarize::{self, Summary};
use casedesk_domain::ai::text::words;
use casedesk_domain::ai::{AiAction, CaseThread, Message};
use casedesk_domain::case::Case;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{AuthorType, NewEvent};
use casedesk_store::{PageRequest, SimilarKind};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

pub use provider::{AiProvider, ChatCall, NoAiProvider};

use crate::{Actor, App, AppError, Result};

/// The timeline entry of a suggestion.
pub const AI_SUGGESTION: &str = "ai.suggestion";
/// The built-in provider's name on suggestions.
pub const BUILTIN: &str = "builtin";
/// An OpenAI-compatible provider's name on suggestions.
pub const OPENAI_COMPATIBLE: &str = "openai_compatible";
/// Most recent cases of an organization learned from.
const TRAINING_CASES: i64 = 2000;
/// How long a learned model is used before it is learned again (sooner on this instance when a
/// case's category changes); meanwhile requests use the older one.
const MODEL_TTL: SignedDuration = SignedDuration::from_mins(5);
/// Similar cases consulted for a reply or an evaluation.
const SIMILAR: i64 = 3;
/// Most comments of a case read.
const THREAD_LIMIT: u32 = 1000;
/// Most macros weighed as grounding for a reply.
const MACROS: u32 = 200;

/// What the caller asks of the assistant.
#[derive(Debug, Clone)]
pub struct AiRequest {
    pub action: AiAction,
    pub erp_context: Option<ErpContext>,
}

/// The organization's provider was asked and its answer not used: who it was, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub provider: String,
    pub model: String,
    pub reason: String,
}

/// A suggestion: what was asked, who answered, and the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub action: AiAction,
    /// Who produced the result: [`BUILTIN`] or [`OPENAI_COMPATIBLE`].
    pub provider: String,
    pub model: String,
    pub result: Value,
    /// Set when the organization's provider failed and the built-in one answered instead.
    pub fallback: Option<Fallback>,
    pub created_at: Timestamp,
}

/// The built-in answer to a request, typed.
enum Answer {
    Summary(Summary),
    Categorization(Categorization),
    Draft(Draft),
    Evaluation(Evaluation),
}

impl Answer {
    fn to_json(&self) -> Value {
        match self {
            Answer::Summary(a) => json!(a),
            Answer::Categorization(a) => json!(a),
            Answer::Draft(a) => json!(a),
            Answer::Evaluation(a) => json!(a),
        }
    }
}

/// The built-in answer, with what it drew on that an external provider is given too.
struct Builtin {
    model: &'static str,
    answer: Answer,
    categories: Vec<CategoryRef>,
    /// Sentences a reply may reuse (macro, similar cases).
    borrowed: Vec<String>,
    agent_name: Option<String>,
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
    /// Gives the app the port its organizations' chosen providers are asked through.
    pub fn with_ai_provider(mut self, provider: Arc<dyn AiProvider>) -> Self {
        self.ai_provider = provider;
        self
    }

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
        let settings = self.store.get_ai_settings(&actor.org_id).await?;
        let builtin = self.builtin_answer(actor, &case, &thread, &req).await?;
        let external = settings.as_ref().and_then(|s| s.external().map(|(url, model)| (s, url, model.to_string())));
        let (provider, model, result, fallback) = match external {
            None => (BUILTIN.to_string(), builtin.model.to_string(), builtin.answer.to_json(), None),
            Some((settings, url, model)) => {
                match self.ask_external(settings, url, &model, &thread, &req, &builtin).await {
                    Ok((answered_by, result)) => (OPENAI_COMPATIBLE.to_string(), answered_by, result, None),
                    Err(reason) => {
                        tracing::warn!(
                            org.id = %actor.org_id, case.id = %case.id, ai.action = req.action.as_str(),
                            ai.model = %model, reason = %reason,
                            "the organization's AI provider gave no usable answer; the built-in provider answered"
                        );
                        let fallback = Fallback { provider: OPENAI_COMPATIBLE.to_string(), model, reason };
                        (BUILTIN.to_string(), builtin.model.to_string(), builtin.answer.to_json(), Some(fallback))
                    }
                }
            }
        };
        let suggestion = Suggestion { action: req.action, provider, model, result, fallback, created_at: now };
        let mut data = json!({
            "action": suggestion.action.as_str(),
            "provider": suggestion.provider,
            "model": suggestion.model,
            "result": suggestion.result,
        });
        if let Some(f) = &suggestion.fallback {
            data["fallback"] = json!({"provider": f.provider, "model": f.model, "reason": f.reason});
        }
        let event = NewEvent { kind: AI_SUGGESTION, data, created_at: now };
        self.store.append_events(&actor.org_id, case_id, &actor.user_id, &[event]).await?;
        Ok(suggestion)
    }

    /// The built-in provider's answer, and what it drew on.
    async fn builtin_answer(
        &self,
        actor: &Actor,
        case: &Case,
        thread: &CaseThread,
        req: &AiRequest,
    ) -> Result<Builtin> {
        let topic = || classify::topic(&thread.subject, &thread.customer_text()).map(|t| t.0);
        let plain =
            |model, answer| Builtin { model, answer, categories: Vec::new(), borrowed: Vec::new(), agent_name: None };
        Ok(match req.action {
            AiAction::Summarize => plain("extractive", Answer::Summary(summarize::summarize(thread))),
            AiAction::Categorize => {
                let (models, categories) = self.models_of(&actor.org_id).await?;
                let c = classify::categorize(&thread.subject, &thread.customer_text(), &models, &categories);
                let model = if c.learned_from > 0 { "logistic-regression" } else { "keyword-rules" };
                Builtin { categories, ..plain(model, Answer::Categorization(c)) }
            }
            AiAction::SuggestReply => {
                let similar = self.similar_resolved(case).await?;
                let macros = self.macro_candidates(actor).await?;
                let borrowed = reply::borrow(thread, &similar, &macros);
                let agent_name = self.store.get_user(&actor.org_id, &actor.user_id).await.ok().map(|u| u.name);
                let draft =
                    reply::suggest_reply(thread, topic(), req.erp_context.as_ref(), &borrowed, agent_name.as_deref());
                Builtin { borrowed: borrowed.sentences, agent_name, ..plain("retrieval", Answer::Draft(draft)) }
            }
            AiAction::Evaluate => {
                let words = search_words(case);
                let problems = self
                    .store
                    .similar_cases(&actor.org_id, &words, &case.id, SimilarKind::OpenProblems, SIMILAR)
                    .await?
                    .into_iter()
                    .map(|(id, case_number)| ProblemCandidate { id, case_number })
                    .collect::<Vec<_>>();
                plain("rules", Answer::Evaluation(evaluate::evaluate(thread, topic(), &problems)))
            }
        })
    }

    /// Asks the organization's provider, within its timeout, and checks the answer against the
    /// action's shape: the model that answered and the result, or why there is none to use.
    async fn ask_external(
        &self,
        settings: &AiSettings,
        url: String,
        model: &str,
        thread: &CaseThread,
        req: &AiRequest,
        builtin: &Builtin,
    ) -> std::result::Result<(String, Value), String> {
        let (facts, sla): (&[String], _) = match &builtin.answer {
            Answer::Draft(d) => (&d.facts, None),
            Answer::Evaluation(e) => (&[], Some(&e.sla_risk)),
            _ => (&[], None),
        };
        let ask = Ask {
            action: req.action,
            case: thread,
            categories: &builtin.categories,
            facts,
            borrowed: &builtin.borrowed,
            agent_name: builtin.agent_name.as_deref(),
            sla,
        };
        let messages = ask.messages();
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(sealed) = &settings.api_key_sealed {
            let key = self
                .sealing
                .as_ref()
                .and_then(|k| k.open(&key_binding(&settings.org_id), sealed))
                .and_then(|k| String::from_utf8(k).ok())
                .ok_or_else(|| {
                    "the API key cannot be opened: is --signing-key-secret the one it was saved under?".to_string()
                })?;
            headers.push(match settings.api_key_header {
                KeyHeader::Authorization => ("authorization", format!("Bearer {key}")),
                KeyHeader::ApiKey => ("api-key", key),
            });
        }
        let timeout = Duration::from_secs(u64::from(settings.timeout_secs));
        let call = ChatCall { url, headers, body: llm::request_body(model, &messages), timeout };
        // The port has its own timeout too; this one holds whatever the port does.
        let body = tokio::time::timeout(timeout, self.ai_provider.chat(&call))
            .await
            .map_err(|_| format!("no answer within {} s", settings.timeout_secs))??;
        let completion = llm::read_completion(&body)?;
        let sent = messages.last().map(|m| m.content.as_str()).unwrap_or_default();
        let result = match &builtin.answer {
            Answer::Summary(_) => json!(llm::read_summary(&completion.content)?),
            Answer::Categorization(_) => json!(llm::read_categorization(&completion.content, &builtin.categories)?),
            Answer::Draft(d) => json!(llm::read_draft(&completion.content, sent, d)?),
            Answer::Evaluation(e) => json!(llm::read_evaluation(&completion.content, e)?),
        };
        Ok((completion.model.unwrap_or_else(|| model.to_string()), result))
    }

    /// The macros the caller may use whose reply is customer-facing, to ground a draft.
    async fn macro_candidates(&self, actor: &Actor) -> Result<Vec<MacroCandidate>> {
        let page = self.store.list_macros(&actor.org_id, &actor.user_id, &PageRequest::first(MACROS)).await?;
        Ok(page
            .items
            .into_iter()
            .filter(|m| !m.internal && !m.body.trim().is_empty())
            .map(|m| MacroCandidate { id: m.id, name: m.name, body: m.body })
            .collect())
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
