//! A rule's (or a macro's) actions on a case, and what a case is related to (its requester,
//! account, owner, queue, business hours) for conditions and templates.

use casedesk_domain::ai::AiAction;
use casedesk_domain::automation::{
    Action as RuleAction, Apply, Facts, FieldChange, Occurrence, Recipients, Rule, categorize_patch,
};
use casedesk_domain::case::{Case, CasePatch, NewCase, Priority};
use casedesk_domain::ids::IdKind;
use casedesk_domain::notification::Notification;
use casedesk_domain::template::{self, Escape, Values};
use casedesk_domain::timeline::{AuthorType, Event};
use casedesk_domain::webhook::{self, Delivery};
use casedesk_store::StoreError;
use jiff::Timestamp;
use serde_json::json;

use super::RULE_APPLIED;
use crate::ai::AiRequest;
use crate::cases::CommentInput;
use crate::{Actor, App, AppError, Result};

/// Tries at applying a tag change to a case that keeps changing under it.
const RETAG_ATTEMPTS: usize = 10;

/// What a case is related to, for conditions and templates.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaseContext {
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub account_name: Option<String>,
    pub account_tier: Option<String>,
    pub owner_name: Option<String>,
    pub queue_name: Option<String>,
    pub inside_business_hours: bool,
}

impl CaseContext {
    pub(super) fn facts<'a>(&self, case: &'a Case, changes: &'a [FieldChange], o: Option<&Occurrence>) -> Facts<'a> {
        Facts {
            case,
            requester_name: self.requester_name.clone(),
            requester_email: self.requester_email.clone(),
            account_tier: self.account_tier.clone(),
            inside_business_hours: self.inside_business_hours,
            changes,
            comment: o.and_then(Occurrence::comment),
            csat: o.and_then(Occurrence::csat),
        }
    }

    /// The template values for `case`; `agent` names who acts (the owner for a rule).
    pub(crate) fn values(&self, case: &Case, agent: Option<&str>) -> Values {
        let mut v = Values::new();
        v.insert("case.number", case.case_number.to_string());
        v.insert("case.subject", case.subject.clone());
        v.insert("case.status", case.status.as_str().to_string());
        v.insert("case.priority", case.priority.as_str().to_string());
        v.insert("case.channel", case.channel.as_str().to_string());
        let mut put = |k, s: &Option<String>| {
            if let Some(s) = s {
                v.insert(k, s.clone());
            }
        };
        put("requester.name", &self.requester_name);
        put("requester.email", &self.requester_email);
        put("account.name", &self.account_name);
        put("queue.name", &self.queue_name);
        put("agent.name", &agent.map(str::to_string).or_else(|| self.owner_name.clone()));
        v
    }
}

/// A missing related record is an empty value, not an error: a rule still runs on a case whose
/// requester was deleted.
pub(super) fn found<T>(r: std::result::Result<T, StoreError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl App {
    /// What conditions and templates know of a case besides its own fields.
    pub(crate) async fn case_context(&self, case: &Case, now: Timestamp) -> Result<CaseContext> {
        let org = &case.org_id;
        let mut ctx = CaseContext::default();
        if IdKind::User.matches(&case.requester_id) {
            if let Some(u) = found(self.store.get_user(org, &case.requester_id).await)? {
                ctx.requester_name = Some(u.name);
                ctx.requester_email = Some(u.email);
            }
        } else if let Some(c) = found(self.store.get_contact(org, &case.requester_id).await)? {
            ctx.requester_name = Some(c.name);
            ctx.requester_email = c.email;
        }
        if let Some(id) = &case.account_id
            && let Some(a) = found(self.store.get_account(org, id).await)?
        {
            ctx.account_name = Some(a.name);
            ctx.account_tier = a.tier;
        }
        if let Some(id) = &case.owner_id
            && let Some(u) = found(self.store.get_user(org, id).await)?
        {
            ctx.owner_name = Some(u.name);
        }
        if let Some(id) = &case.queue_id
            && let Some(q) = found(self.store.get_queue(org, id).await)?
        {
            ctx.queue_name = Some(q.name);
        }
        // The calendar of the case's SLA policy; a case without one is always "inside".
        ctx.inside_business_hours = match self.plan_for_case(case).await? {
            Some(plan) => plan.calendar.is_open(now),
            None => true,
        };
        Ok(ctx)
    }

    /// One action on a case, by `actor` (the rule, or the agent applying a macro): what it did,
    /// in words for the timeline.
    pub(crate) async fn apply_action(
        &self,
        actor: &Actor,
        action: &RuleAction,
        case_id: &str,
        ctx: &CaseContext,
        run: &RunOf<'_>,
    ) -> Result<String> {
        match action {
            RuleAction::Categorize { apply, min_confidence } => {
                self.categorize_case(actor, case_id, *apply, *min_confidence).await
            }
            other => self.apply_case_action(actor, other, case_id, ctx, run).await.map(|()| other.describe()),
        }
    }

    /// Asks the assistant (the organization's provider, or the built-in one) to categorize the
    /// case, and applies what it is sure enough of (`categorize_patch`). The suggestion is kept on
    /// the timeline like any other.
    async fn categorize_case(&self, actor: &Actor, case_id: &str, apply: Apply, min: f64) -> Result<String> {
        let s = self.ai_assist(actor, case_id, AiRequest { action: AiAction::Categorize, erp_context: None }).await?;
        let r = &s.result;
        let category = match (r["category"]["value"]["id"].as_str(), r["category"]["value"]["name"].as_str()) {
            (Some(id), Some(name)) => Some(((id, name), r["category"]["confidence"].as_f64().unwrap_or(0.0))),
            _ => None,
        };
        let priority = r["priority"]["value"]
            .as_str()
            .and_then(|p| Priority::parse(p).ok())
            .map(|p| (p, r["priority"]["confidence"].as_f64().unwrap_or(0.0)));
        let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
        let (patch, said) = categorize_patch(apply, min, &case, category, priority);
        if !patch.is_empty() {
            self.update_case(actor, case_id, patch, None).await?;
        }
        Ok(format!("categorized the case ({} {}): {}", s.provider, s.model, said.join(", ")))
    }

    async fn apply_case_action(
        &self,
        actor: &Actor,
        action: &RuleAction,
        case_id: &str,
        ctx: &CaseContext,
        run: &RunOf<'_>,
    ) -> Result<()> {
        let patch = |p: CasePatch| async move { self.update_case(actor, case_id, p, None).await.map(|_| ()) };
        let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
        let render = |src: &str| template::render(src, &ctx.values(&case, run.agent_name()), Escape::None);
        match action {
            RuleAction::AssignToQueue { queue_id } => {
                patch(CasePatch { queue_id: Some(Some(queue_id.clone())), ..Default::default() }).await
            }
            RuleAction::AssignToUser { user_id } => {
                patch(CasePatch { owner_id: Some(Some(user_id.clone())), ..Default::default() }).await
            }
            RuleAction::SetPriority { priority } => {
                patch(CasePatch { priority: Some(*priority), ..Default::default() }).await
            }
            RuleAction::SetStatus { status } => patch(CasePatch { status: Some(*status), ..Default::default() }).await,
            RuleAction::AddTag { tag } => self.retag(actor, case_id, tag, true).await,
            RuleAction::RemoveTag { tag } => self.retag(actor, case_id, tag, false).await,
            RuleAction::AddInternalNote { body } => {
                self.comment_as(actor, case_id, &render(body), true, run.author).await
            }
            // Customer-facing comments: the case's channel delivers them to the requester.
            RuleAction::SendEmail { subject, body } => {
                let body = render(body);
                let subject = render(subject);
                let text = if subject.trim().is_empty() { body } else { format!("{subject}\n\n{body}") };
                self.comment_as(actor, case_id, &text, false, run.author).await
            }
            RuleAction::ChannelNotify { body } => {
                self.comment_as(actor, case_id, &render(body), false, run.author).await
            }
            RuleAction::SendNotification { to, queue_id, user_ids, message } => {
                let users = match to {
                    Recipients::Owner => case.owner_id.iter().cloned().collect(),
                    Recipients::Users => user_ids.clone(),
                    Recipients::Queue => match queue_id.as_ref().or(case.queue_id.as_ref()) {
                        Some(q) => {
                            self.store.list_members(&actor.org_id, q).await?.into_iter().map(|m| m.user_id).collect()
                        }
                        None => Vec::new(),
                    },
                };
                let now = self.clock.now();
                let message = render(message);
                let items: Vec<Notification> = users
                    .into_iter()
                    .map(|user_id| Notification {
                        id: IdKind::Notification.new_id(),
                        org_id: actor.org_id.clone(),
                        user_id,
                        case_id: Some(case.id.clone()),
                        rule_id: run.rule.map(|r| r.id.clone()),
                        message: message.clone(),
                        read_at: None,
                        created_at: now,
                    })
                    .collect();
                Ok(self.store.insert_notifications(&items).await?)
            }
            RuleAction::Webhook { webhook_id } => {
                let hook = self.store.get_webhook(&actor.org_id, webhook_id).await?;
                if !hook.active {
                    return Err(AppError::Conflict {
                        code: "webhook_inactive",
                        message: "the webhook is switched off".into(),
                    });
                }
                let now = self.clock.now();
                let event = Event {
                    seq: run.trigger.map_or(0, |e| e.seq),
                    org_id: actor.org_id.clone(),
                    case_id: case.id.clone(),
                    kind: RULE_APPLIED.to_string(),
                    actor_id: Some(actor.user_id.clone()),
                    data: json!({ "rule_id": run.rule.map(|r| r.id.as_str()), "trigger": run.trigger.map(|e| e.kind.as_str()) }),
                    created_at: now,
                };
                let mut body: serde_json::Value =
                    serde_json::from_str(&webhook::payload(&event, Some(&case), None)).unwrap_or_default();
                // Its own id: the triggering event may reach the same receiver as well, and a
                // receiver deduplicating by id must not drop this one.
                let id = IdKind::WebhookDelivery.new_id();
                body["id"] = json!(format!("evt_{id}"));
                let d = Delivery::new(id, &hook, &event, body.to_string(), now);
                Ok(self.store.insert_webhook_delivery(&d).await?)
            }
            // Answered by `apply_action`.
            RuleAction::Categorize { .. } => Ok(()),
            RuleAction::CreateCase { subject, description, queue_id, priority } => {
                let input = NewCase {
                    subject: render(subject),
                    description: render(description),
                    queue_id: queue_id.clone(),
                    priority: *priority,
                    channel: Some(case.channel),
                    requester_id: Some(case.requester_id.clone()),
                    contact_id: case.contact_id.clone(),
                    account_id: case.account_id.clone(),
                    ..Default::default()
                };
                let created = self.create_case(actor, input, None).await?.value;
                self.add_link(actor, &created.id, "parent", &case.id).await?;
                Ok(())
            }
        }
    }

    /// Adds or removes one tag. A patch names the whole tag list, so it is written only on the
    /// version it was computed from, and computed again if the case changed meanwhile: rules
    /// running side by side (a request and the worker) must not drop each other's tags.
    async fn retag(&self, actor: &Actor, case_id: &str, tag: &str, add: bool) -> Result<()> {
        for _ in 0..RETAG_ATTEMPTS {
            let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
            let has = case.tags.iter().any(|t| t == tag);
            if has == add {
                return Ok(());
            }
            let tags = if add {
                case.tags.iter().cloned().chain([tag.to_string()]).collect()
            } else {
                case.tags.iter().filter(|t| *t != tag).cloned().collect()
            };
            let patch = CasePatch { tags: Some(tags), ..Default::default() };
            match self.update_case(actor, case_id, patch, Some(case.version)).await {
                Err(AppError::PreconditionFailed) => continue,
                other => return other.map(|_| ()),
            }
        }
        Err(AppError::Conflict { code: "concurrent_update", message: "the case kept changing; tag not applied".into() })
    }

    async fn comment_as(
        &self,
        actor: &Actor,
        case_id: &str,
        body: &str,
        internal: bool,
        author: AuthorType,
    ) -> Result<()> {
        let input = CommentInput { body, internal, author_type: author, file_ids: &[], reply_channel: None };
        self.add_comment(actor, case_id, input, None).await.map(|_| ())
    }
}

/// Who runs an action: a rule (with the event that fired it) or an agent's macro.
pub(crate) struct RunOf<'a> {
    pub rule: Option<&'a Rule>,
    pub trigger: Option<&'a Event>,
    /// The author type of the comments it writes.
    pub author: AuthorType,
    /// `{{agent.name}}`: the agent applying a macro; for a rule (`None`), the case owner.
    pub agent: Option<&'a str>,
}

impl RunOf<'_> {
    fn agent_name(&self) -> Option<&str> {
        self.agent
    }
}
