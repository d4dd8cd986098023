//! Automation rules: the admins' operations on them, and the evaluator that runs them.
//!
//! **Event triggers** read the organization's change feed after a per-organization cursor (the
//! events every write already commits with its change, as the webhook dispatcher does). The
//! events of one write on one case form an [`Occurrence`]; each active rule whose trigger it
//! fires and whose conditions the case meets runs once for it. "Once" is a row in
//! `automation_runs` keyed by the rule and the occurrence's first event, inserted before the
//! actions run: several instances (or a request racing the background worker) never run a rule
//! twice for one event — at the price that a process dying mid-actions leaves the rest undone.
//!
//! When it runs: right after the request that made the change commits, in the same request
//! ([`App::settle_automation`], called by the case, comment and macro endpoints), so a rule's
//! effect is already visible when the client reads the case; and by the background worker every
//! tick, which catches what other writes (bulk jobs, the SLA sweep, other instances) made.
//!
//! **Time triggers** ([`App::run_time_rules`]) look for cases that have been in a state (pending,
//! unassigned, waiting for an agent's reply, resolved) for the rule's delay; each fires once per
//! case and episode, keyed by when the state began.
//!
//! Actions run as the rule (its id is the actor of every change, comment and timeline entry it
//! makes) through the same use cases people use: routing to a queue, updating fields, adding
//! comments. The loop guard ([`automation::may_run`]) keeps a rule off its own changes and cuts
//! chains of rules at [`automation::MAX_DEPTH`]. Every run writes a `rule.applied` entry on the
//! case's timeline naming the rule and what it did.

use std::collections::HashMap;

use casedesk_domain::FieldError;
use casedesk_domain::automation::{self, Action as RuleAction, Facts, Occurrence, Recipients, Rule, RuleInput};
use casedesk_domain::case::{Case, CasePatch, NewCase};
use casedesk_domain::ids::IdKind;
use casedesk_domain::notification::Notification;
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::template::{self, Escape, Values};
use casedesk_domain::timeline::{AuthorType, Event, NewEvent};
use casedesk_domain::webhook::{self, Delivery};
use casedesk_store::{Page, PageRequest, RuleRun, StoreError};
use jiff::Timestamp;
use serde_json::json;

use crate::cases::CommentInput;
use crate::{Actor, App, AppError, Result};

/// Feed events read per pass.
const FEED_BATCH: u32 = 200;
/// Passes per call: each reads what the previous one's actions wrote; the loop guard ends
/// chains well before this.
const MAX_PASSES: usize = 20;
/// Candidate cases per time rule and page.
const TIME_BATCH: u32 = 200;
/// Pages of candidates per time rule and call.
const TIME_PAGES: usize = 25;
/// Cases a dry run examines per call at most; the answer's cursor continues the scan.
const DRY_RUN_SCAN: u32 = 1000;
const DRY_RUN_PAGE: u32 = 200;

/// How often, and how long each time, a request waits for its case's events to become readable
/// by the rules (PostgreSQL; see [`App::settle_automation`]).
const SETTLE_WAITS: usize = 50;
const SETTLE_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);
/// A run claimed longer ago than this and not finished is taken for dead (its process stopped
/// mid-actions) and not waited for.
const IN_FLIGHT: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// The timeline entry of a rule's run.
pub const RULE_APPLIED: &str = "rule.applied";

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
    fn facts<'a>(&self, case: &'a Case, changes: &'a [automation::FieldChange], o: Option<&Occurrence>) -> Facts<'a> {
        Facts {
            case,
            requester_name: self.requester_name.clone(),
            requester_email: self.requester_email.clone(),
            account_tier: self.account_tier.clone(),
            inside_business_hours: self.inside_business_hours,
            changes,
            comment: o.and_then(Occurrence::comment),
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
fn found<T>(r: std::result::Result<T, StoreError>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What a dry run found: matching open cases and where to continue the scan.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub matches: Vec<Case>,
    /// Continues the scan after the last case examined; `None` when every open case was.
    pub next_cursor: Option<String>,
    pub examined: usize,
}

impl App {
    // ---- the admins' operations -------------------------------------------------------------

    pub async fn create_rule(&self, actor: &Actor, input: RuleInput) -> Result<Rule> {
        actor.require(Action::ManageAutomation, "manage automation rules")?;
        let now = self.clock.now();
        let base = Rule::new(IdKind::AutomationRule.new_id(), &actor.org_id, &actor.user_id, now);
        let rule = input.apply(base, now)?;
        self.check_action_refs(&actor.org_id, &rule.actions).await?;
        self.store.insert_rule(&rule).await?;
        tracing::info!(rule.id = %rule.id, org.id = %rule.org_id, trigger = %rule.trigger, "automation rule created");
        Ok(rule)
    }

    pub async fn get_rule(&self, actor: &Actor, id: &str) -> Result<Rule> {
        actor.require(Action::ManageAutomation, "manage automation rules")?;
        Ok(self.store.get_rule(&actor.org_id, id).await?)
    }

    pub async fn list_rules(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Rule>> {
        actor.require(Action::ManageAutomation, "manage automation rules")?;
        Ok(self.store.list_rules(&actor.org_id, page).await?)
    }

    pub async fn update_rule(&self, actor: &Actor, id: &str, input: RuleInput) -> Result<Rule> {
        let current = self.get_rule(actor, id).await?;
        let rule = input.apply(current, self.clock.now())?;
        self.check_action_refs(&actor.org_id, &rule.actions).await?;
        self.store.update_rule(&rule).await?;
        Ok(rule)
    }

    pub async fn delete_rule(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageAutomation, "manage automation rules")?;
        Ok(self.store.delete_rule(&actor.org_id, id).await?)
    }

    /// Every id the actions name must exist in the organization: `actions[i].<field>` otherwise.
    pub(crate) async fn check_action_refs(&self, org_id: &str, actions: &[RuleAction]) -> Result<()> {
        let mut errors = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            for (field, kind, id) in a.references() {
                let exists = kind.matches(id)
                    && match kind {
                        IdKind::Queue => found(self.store.get_queue(org_id, id).await)?.is_some(),
                        IdKind::User => found(self.store.get_user(org_id, id).await)?.is_some(),
                        IdKind::Webhook => found(self.store.get_webhook(org_id, id).await)?.is_some(),
                        _ => true,
                    };
                if !exists {
                    errors.push(FieldError::new(format!("actions[{i}].{field}"), format!("no such {field}: {id}")));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
    }

    /// Which open cases the rule's conditions match now, scanning at most [`DRY_RUN_SCAN`] cases
    /// (by id, after `cursor`) and returning at most `limit` matches. Conditions about the
    /// firing write (`changed…`, `comment.…`) cannot hold without one and match nothing.
    pub async fn dry_run_rule(&self, actor: &Actor, id: &str, cursor: Option<&str>, limit: u32) -> Result<DryRun> {
        let rule = self.get_rule(actor, id).await?;
        let mut after = cursor.map(str::to_string);
        let (mut matches, mut examined) = (Vec::new(), 0usize);
        let now = self.clock.now();
        loop {
            let page = self.store.open_cases_after(&actor.org_id, after.as_deref(), DRY_RUN_PAGE).await?;
            let full = page.len() == DRY_RUN_PAGE as usize;
            for case in page {
                examined += 1;
                after = Some(case.id.clone());
                let ctx = self.case_context(&case, now).await?;
                if rule.conditions.matches(&ctx.facts(&case, &[], None)) {
                    matches.push(case);
                }
                if matches.len() >= limit as usize || examined >= DRY_RUN_SCAN as usize {
                    return Ok(DryRun { matches, next_cursor: after, examined });
                }
            }
            if !full {
                return Ok(DryRun { matches, next_cursor: None, examined });
            }
        }
    }

    // ---- the evaluator ----------------------------------------------------------------------

    /// Runs the organization's event rules for what happened since they last looked; called
    /// right after a request's write to `case_id`. A failure is logged, not returned: the write
    /// the client asked for committed, and the background worker runs the rules it missed.
    ///
    /// On PostgreSQL a committed event is read only once every older transaction has ended (the
    /// change feed's rule, which keeps the cursor from passing an event that commits late); and
    /// another instance (or the worker) may have claimed a rule's run on the case first. While
    /// the case has events the rules have not seen, or runs under way, this waits a little (at
    /// most [`SETTLE_WAITS`] rounds of [`SETTLE_PAUSE`]); past that the worker finishes the job
    /// and the client sees it on its next read.
    pub async fn settle_automation(&self, org_id: &str, case_id: &str) {
        for _ in 0..SETTLE_WAITS {
            if let Err(e) = self.run_automation(org_id).await {
                tracing::warn!(error = %e, org.id = %org_id, "automation after a write failed; the worker retries");
                return;
            }
            let since = self.clock.now() - IN_FLIGHT;
            match self.store.automation_backlog(org_id, case_id, since).await {
                Ok(false) => return,
                Ok(true) => tokio::time::sleep(SETTLE_PAUSE).await,
                Err(e) => {
                    tracing::warn!(error = %e, org.id = %org_id, "automation after a write failed; the worker retries");
                    return;
                }
            }
        }
    }

    /// Runs the event rules of every organization with new events (the background worker).
    pub async fn run_all_automation(&self) -> Result<usize> {
        let mut runs = 0;
        for org_id in self.store.automation_orgs_due().await? {
            runs += self.run_automation(&org_id).await?;
        }
        Ok(runs)
    }

    /// Reads the organization's events after its rule cursor and runs the rules they trigger,
    /// until nothing new is left (the rules' own changes included); returns how many runs.
    pub async fn run_automation(&self, org_id: &str) -> Result<usize> {
        let mut runs = 0;
        for _ in 0..MAX_PASSES {
            let batch = self.store.automation_events(org_id, FEED_BATCH).await?;
            let Some(&(last_position, _)) = batch.last() else { break };
            let full = batch.len() == FEED_BATCH as usize;
            let positions: HashMap<i64, (i64, i64)> = batch.iter().map(|(p, e)| (e.seq, *p)).collect();
            let events: Vec<Event> = batch.into_iter().map(|(_, e)| e).collect();
            let mut occurrences = automation::occurrences(events.clone(), !full);
            if occurrences.is_empty() {
                // One write larger than a batch: take what there is of it.
                occurrences = automation::occurrences(events, true);
            }
            let rules = self.store.active_rules(org_id).await?;
            for o in &occurrences {
                runs += self.run_event_rules(org_id, &rules, o).await?;
            }
            let end = occurrences
                .last()
                .and_then(|o| o.events.last())
                .and_then(|e| positions.get(&e.seq).copied())
                .unwrap_or(last_position);
            self.store.advance_automation_cursor(org_id, end).await?;
        }
        Ok(runs)
    }

    /// The rules one occurrence triggers, each run once if its conditions hold.
    async fn run_event_rules(&self, org_id: &str, rules: &[Rule], o: &Occurrence) -> Result<usize> {
        let at = o.at().unwrap_or_else(|| self.clock.now());
        let fired: Vec<&Rule> =
            rules.iter().filter(|r| !r.is_time_rule() && r.created_at <= at && o.fires(&r.trigger)).collect();
        if fired.is_empty() {
            return Ok(0);
        }
        let depth = match o.actor_id.as_deref() {
            Some(a) if automation::is_rule_actor(a) => self.store.last_rule_depth(org_id, a).await?.unwrap_or(0) + 1,
            _ => 0,
        };
        let changes = o.changes();
        let run_key = format!("e:{}", o.first_seq);
        let mut runs = 0;
        for rule in fired {
            if !automation::may_run(&rule.id, o.actor_id.as_deref(), depth) {
                tracing::debug!(rule.id = %rule.id, case.id = %o.case_id, depth, "rule not run: its own change or too deep a chain");
                continue;
            }
            // Read again for each rule: an earlier one may have changed the case.
            let Some(case) = found(self.store.get_case_for_update(org_id, &o.case_id).await)? else { return Ok(runs) };
            let ctx = self.case_context(&case, self.clock.now()).await?;
            if !rule.conditions.matches(&ctx.facts(&case, &changes, Some(o))) {
                continue;
            }
            let run = RuleRun {
                org_id,
                rule_id: &rule.id,
                run_key: &run_key,
                case_id: &case.id,
                depth,
                at: self.clock.now(),
            };
            if !self.store.claim_rule_run(&run).await? {
                continue;
            }
            let trigger = o.events.first();
            self.apply_rule(rule, &case, &ctx, depth, trigger).await?;
            self.store.finish_rule_run(&run, self.clock.now()).await?;
            runs += 1;
        }
        Ok(runs)
    }

    /// Runs every active time rule for the cases that have been in its state long enough;
    /// returns how many runs.
    pub async fn run_time_rules(&self) -> Result<usize> {
        let mut runs = 0;
        for org_id in self.store.orgs_with_time_rules().await? {
            for rule in self.store.active_rules(&org_id).await?.iter().filter(|r| r.is_time_rule()) {
                runs += self.run_time_rule(rule).await?;
            }
        }
        Ok(runs)
    }

    async fn run_time_rule(&self, rule: &Rule) -> Result<usize> {
        let now = self.clock.now();
        let cutoff = now - rule.after();
        let mut after: Option<(Timestamp, String)> = None;
        let mut runs = 0;
        for _ in 0..TIME_PAGES {
            let page = self
                .store
                .time_rule_candidates(&rule.org_id, &rule.id, &rule.trigger, cutoff, after.as_ref(), TIME_BATCH)
                .await?;
            let full = page.len() == TIME_BATCH as usize;
            for (case_id, anchor) in page {
                after = Some((anchor, case_id.clone()));
                let Some(case) = found(self.store.get_case_for_update(&rule.org_id, &case_id).await)? else { continue };
                let ctx = self.case_context(&case, now).await?;
                if !rule.conditions.matches(&ctx.facts(&case, &[], None)) {
                    continue;
                }
                let key = format!("t:{}:{}", case.id, anchor.as_microsecond());
                let run = RuleRun {
                    org_id: &rule.org_id,
                    rule_id: &rule.id,
                    run_key: &key,
                    case_id: &case.id,
                    depth: 0,
                    at: now,
                };
                if !self.store.claim_rule_run(&run).await? {
                    continue;
                }
                self.apply_rule(rule, &case, &ctx, 0, None).await?;
                self.store.finish_rule_run(&run, now).await?;
                runs += 1;
            }
            if !full {
                break;
            }
        }
        Ok(runs)
    }

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

    /// Runs a rule's actions on a case, as the rule, and records the run on the case's timeline.
    /// An action that fails (a closed case refuses a comment) is logged and named in the entry;
    /// the others still run.
    async fn apply_rule(
        &self,
        rule: &Rule,
        case: &Case,
        ctx: &CaseContext,
        depth: i64,
        trigger: Option<&Event>,
    ) -> Result<()> {
        let actor = Actor { org_id: rule.org_id.clone(), user_id: rule.id.clone(), role: Role::Admin };
        let (mut done, mut failed) = (Vec::new(), Vec::new());
        for action in &rule.actions {
            let run = RunOf { rule: Some(rule), trigger, author: AuthorType::System, agent: None };
            match self.apply_action(&actor, action, &case.id, ctx, &run).await {
                Ok(()) => done.push(action.describe()),
                Err(e @ AppError::Internal(_)) => return Err(e),
                Err(e) => {
                    tracing::info!(rule.id = %rule.id, case.id = %case.id, error = %e, "an action of an automation rule failed");
                    failed.push(json!({ "action": action.describe(), "error": e.to_string() }));
                }
            }
        }
        let summary = if done.is_empty() { "did nothing".to_string() } else { done.join(", ") };
        let entry = NewEvent {
            kind: RULE_APPLIED,
            data: json!({
                "rule_id": rule.id,
                "rule_name": rule.name,
                "trigger": rule.trigger,
                "depth": depth,
                "summary": format!("Rule {} {}", rule.name, summary),
                "actions": done,
                "failed": failed,
            }),
            created_at: self.clock.now(),
        };
        self.store.append_case_events(&rule.org_id, &case.id, &rule.id, &[entry]).await?;
        Ok(())
    }

    /// One action on a case, by `actor` (the rule, or the agent applying a macro).
    pub(crate) async fn apply_action(
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
            RuleAction::AddTag { tag } => {
                if case.tags.contains(tag) {
                    return Ok(());
                }
                let mut tags = case.tags.clone();
                tags.push(tag.clone());
                patch(CasePatch { tags: Some(tags), ..Default::default() }).await
            }
            RuleAction::RemoveTag { tag } => {
                if !case.tags.contains(tag) {
                    return Ok(());
                }
                let tags = case.tags.iter().filter(|t| *t != tag).cloned().collect();
                patch(CasePatch { tags: Some(tags), ..Default::default() }).await
            }
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

    async fn comment_as(
        &self,
        actor: &Actor,
        case_id: &str,
        body: &str,
        internal: bool,
        author: AuthorType,
    ) -> Result<()> {
        let input = CommentInput { body, internal, author_type: author, file_ids: &[] };
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
