//! [`Store`] methods for automation rules (and their runs and feed cursor), notifications and
//! macros.

use casedesk_domain::automation::Rule;
use casedesk_domain::case::Case;
use casedesk_domain::macros::Macro;
use casedesk_domain::notification::Notification;
use casedesk_domain::timeline::{Event, NewEvent};
use jiff::Timestamp;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Page, PageRequest, Result, Store};

/// A run of a rule about to happen, claimed by its dedupe key.
#[derive(Debug, Clone)]
pub struct RuleRun<'a> {
    pub org_id: &'a str,
    pub rule_id: &'a str,
    /// `e:<first event seq>` for an event trigger, `t:<case id>:<episode start µs>` for a time one.
    pub run_key: &'a str,
    pub case_id: &'a str,
    pub depth: i64,
    pub at: Timestamp,
}

impl Store {
    /// Stores a new rule; the organization's first one starts its evaluator at the feed's head.
    pub async fn insert_rule(&self, r: &Rule) -> Result<()> {
        dispatch!(self, write, insert_rule(r))
    }

    pub async fn get_rule(&self, org_id: &str, id: &str) -> Result<Rule> {
        dispatch!(self, read, get_rule(org_id, id))
    }

    pub async fn list_rules(&self, org_id: &str, page: &PageRequest) -> Result<Page<Rule>> {
        dispatch!(self, read, list_rules(org_id, page))
    }

    pub async fn update_rule(&self, r: &Rule) -> Result<()> {
        dispatch!(self, write, update_rule(r))
    }

    /// Deletes a rule and its run log.
    pub async fn delete_rule(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_rule(org_id, id))
    }

    /// The active rules in the order they run (position, then age). Read from the writer so a
    /// rule switched off a moment ago is not run.
    pub async fn active_rules(&self, org_id: &str) -> Result<Vec<Rule>> {
        dispatch!(self, write, active_rules(org_id))
    }

    /// Whether the organization has an active event rule (read from a reader: asked on every
    /// write, it must not queue behind the writer).
    pub async fn has_event_rules(&self, org_id: &str) -> Result<bool> {
        dispatch!(self, read, has_event_rules(org_id))
    }

    /// The organizations with events their rules have not seen yet.
    pub async fn automation_orgs_due(&self) -> Result<Vec<String>> {
        dispatch!(self, write, automation_orgs_due())
    }

    /// Up to `limit` events after the organization's rule cursor, in feed order, with their
    /// feed positions `(txid, seq)`.
    pub async fn automation_events(&self, org_id: &str, limit: u32) -> Result<Vec<((i64, i64), Event)>> {
        dispatch!(self, write, automation_events(org_id, limit))
    }

    /// Whether the case has events after the rule cursor, readable yet or not, or a rule run
    /// claimed since `since` still under way.
    pub async fn automation_backlog(&self, org_id: &str, case_id: &str, since: Timestamp) -> Result<bool> {
        dispatch!(self, write, automation_backlog(org_id, case_id, since))
    }

    /// Records that a claimed run's actions are done.
    pub async fn finish_rule_run(&self, run: &RuleRun<'_>, now: Timestamp) -> Result<()> {
        dispatch!(self, write, finish_rule_run(run.rule_id, run.run_key, now))
    }

    /// Moves the rule cursor forward (never back) to the feed position `(txid, seq)`.
    pub async fn advance_automation_cursor(&self, org_id: &str, position: (i64, i64)) -> Result<()> {
        dispatch!(self, write, advance_automation_cursor(org_id, position.0, position.1))
    }

    /// Claims a run by its dedupe key: `false` when the rule already ran (or runs) for it.
    pub async fn claim_rule_run(&self, run: &RuleRun<'_>) -> Result<bool> {
        dispatch!(self, write, claim_rule_run(run.org_id, run.rule_id, run.run_key, run.case_id, run.depth, run.at))
    }

    /// The chain depth of the rule's latest run, if it ever ran.
    pub async fn last_rule_depth(&self, org_id: &str, rule_id: &str) -> Result<Option<i64>> {
        dispatch!(self, write, last_rule_depth(org_id, rule_id))
    }

    /// For a time rule: cases in the trigger's state since at or before `cutoff` that it has not
    /// run for in this episode, as `(case id, episode start)`, oldest first, after `after`.
    pub async fn time_rule_candidates(
        &self,
        org_id: &str,
        rule_id: &str,
        trigger: &str,
        cutoff: Timestamp,
        after: Option<&(Timestamp, String)>,
        limit: u32,
    ) -> Result<Vec<(String, Timestamp)>> {
        dispatch!(self, write, time_rule_candidates(org_id, rule_id, trigger, cutoff, after, limit))
    }

    /// The organizations with an active time rule.
    pub async fn orgs_with_time_rules(&self) -> Result<Vec<String>> {
        dispatch!(self, write, orgs_with_time_rules())
    }

    /// Appends timeline entries to a case, by `actor_id`.
    pub async fn append_case_events(
        &self,
        org_id: &str,
        case_id: &str,
        actor_id: &str,
        events: &[NewEvent],
    ) -> Result<()> {
        dispatch!(self, write, append_case_events(org_id, case_id, actor_id, events))
    }

    /// Up to `limit` active cases after case id `after`, by id (a dry run's bounded scan).
    pub async fn open_cases_after(&self, org_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<Case>> {
        dispatch!(self, read, open_cases_after(org_id, after, limit))
    }

    pub async fn insert_notifications(&self, items: &[Notification]) -> Result<()> {
        dispatch!(self, write, insert_notifications(items))
    }

    /// A user's notifications, newest first.
    pub async fn list_notifications(
        &self,
        org_id: &str,
        user_id: &str,
        unread_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Notification>> {
        dispatch!(self, read, list_notifications(org_id, user_id, unread_only, page))
    }

    /// Marks the user's notification read.
    pub async fn mark_notification_read(
        &self,
        org_id: &str,
        user_id: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<Notification> {
        dispatch!(self, write, mark_notification_read(org_id, user_id, id, now))
    }

    pub async fn insert_macro(&self, m: &Macro) -> Result<()> {
        dispatch!(self, write, insert_macro(m))
    }

    pub async fn get_macro(&self, org_id: &str, id: &str) -> Result<Macro> {
        dispatch!(self, read, get_macro(org_id, id))
    }

    /// The shared macros and `user_id`'s own, newest first.
    pub async fn list_macros(&self, org_id: &str, user_id: &str, page: &PageRequest) -> Result<Page<Macro>> {
        dispatch!(self, read, list_macros(org_id, user_id, page))
    }

    pub async fn update_macro(&self, m: &Macro) -> Result<()> {
        dispatch!(self, write, update_macro(m))
    }

    pub async fn delete_macro(&self, org_id: &str, id: &str) -> Result<()> {
        dispatch!(self, write, delete_macro(org_id, id))
    }
}
