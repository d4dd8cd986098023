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
use casedesk_domain::automation::{self, Action as RuleAction, Occurrence, Rule, RuleInput};
use casedesk_domain::case::Case;
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::timeline::{AuthorType, Event, NewEvent};
use casedesk_store::{Page, PageRequest, RuleRun};
use jiff::Timestamp;
use serde_json::json;

use crate::{Actor, App, AppError, Result};

mod actions;

use actions::found;
pub(crate) use actions::{CaseContext, RunOf};

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
    ///
    /// Returns whether rules may have changed the case (`false` when the organization has no
    /// active event rule: then nothing runs here, and the worker moves the rule cursor past the
    /// events later, in batches — a create costs no second write).
    pub async fn settle_automation(&self, org_id: &str, case_id: &str) -> bool {
        match self.store.has_event_rules(org_id).await {
            Ok(false) => return false,
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(error = %e, org.id = %org_id, "automation after a write failed; the worker retries");
                return true;
            }
        }
        for _ in 0..SETTLE_WAITS {
            if let Err(e) = self.run_automation(org_id).await {
                tracing::warn!(error = %e, org.id = %org_id, "automation after a write failed; the worker retries");
                return true;
            }
            let since = self.clock.now() - IN_FLIGHT;
            match self.store.automation_backlog(org_id, case_id, since).await {
                Ok(false) => return true,
                Ok(true) => tokio::time::sleep(SETTLE_PAUSE).await,
                Err(e) => {
                    tracing::warn!(error = %e, org.id = %org_id, "automation after a write failed; the worker retries");
                    return true;
                }
            }
        }
        true
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
                Ok(what) => done.push(what),
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
}
