//! Background jobs: the SLA sweep, auto-closing resolved cases, the file sweep and trash purge,
//! bulk jobs, webhook deliveries, outgoing mail, polled IMAP mailboxes, automation rules, and the backlog pass that hands waiting cases to agents. Every instance runs them; they coordinate only through the database
//! (each write is conditional on the row being unchanged), so running several is safe.

use std::time::Duration;

use casedesk_domain::case::{CasePatch, Status};
use casedesk_domain::policy::Role;

use crate::{Actor, App, AppError, Result};

/// The actor id recorded for changes the system makes on its own (auto-close).
pub const SYSTEM_ACTOR: &str = "system";
/// Cases closed per pass.
const CLOSE_BATCH: i64 = 200;

#[derive(Debug, Clone, Copy)]
pub struct JobIntervals {
    /// How often SLA warnings and breaches are looked for: a breach is flagged at most this long
    /// (plus the sweep's own time) after its deadline.
    pub sla_sweep: Duration,
    /// How often resolved cases past the organization's auto-close delay are closed.
    pub auto_close: Duration,
    /// How often file contents no file uses any more are removed, and cases past their time in
    /// the trash purged.
    pub blob_sweep: Duration,
    /// How often the bulk-job worker looks for jobs queued by other instances or left by a dead
    /// one (jobs queued on this instance start at once).
    pub bulk_poll: Duration,
    /// How often committed events are turned into webhook deliveries and due deliveries sent:
    /// a webhook hears of a change at most this long after its commit (plus the send).
    pub webhooks: Duration,
    /// How often customer-facing replies are turned into outgoing mail and due mail sent.
    pub mail: Duration,
    /// How often event rules catch up with writes made outside a request (bulk jobs, sweeps,
    /// other instances) and time rules look for cases that waited long enough.
    pub automation: Duration,
    /// How often the change feed is read for the web UI's open pages (only organizations
    /// someone on this instance watches): a page hears of a change at most this long after it.
    pub live: Duration,
    /// How often each mailbox with IMAP settings is polled (after a failure, longer: the
    /// backoff); the poller looks for due mailboxes every second, or this often if shorter.
    pub imap_poll: Duration,
}

impl Default for JobIntervals {
    fn default() -> Self {
        Self {
            sla_sweep: Duration::from_secs(1),
            auto_close: Duration::from_secs(60),
            blob_sweep: Duration::from_secs(3600),
            bulk_poll: Duration::from_secs(5),
            webhooks: Duration::from_secs(1),
            mail: Duration::from_secs(1),
            automation: Duration::from_secs(5),
            live: Duration::from_secs(1),
            imap_poll: Duration::from_secs(60),
        }
    }
}

impl App {
    /// Closes resolved cases whose organization's auto-close delay has passed; returns how many.
    /// A case reopened meanwhile is left alone (the write is conditional on its version).
    pub async fn close_resolved(&self) -> Result<usize> {
        let now = self.clock.now();
        let mut closed = 0;
        for (org_id, case_id, version) in self.store.resolved_due(now, CLOSE_BATCH).await? {
            let actor = Actor { org_id, user_id: SYSTEM_ACTOR.into(), role: Role::Admin };
            let patch = CasePatch { status: Some(Status::Closed), ..Default::default() };
            match self.update_case(&actor, &case_id, patch, Some(version)).await {
                Ok(_) => closed += 1,
                Err(AppError::PreconditionFailed | AppError::NotFound | AppError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    /// Runs the background jobs until the task is dropped or aborted.
    pub async fn run_jobs(self, every: JobIntervals) {
        tokio::join!(
            self.periodic_jobs(every),
            self.bulk_worker(every.bulk_poll),
            self.webhook_worker(every.webhooks),
            self.mail_worker(every.mail),
            self.automation_worker(every.automation),
            self.live_worker(every.live),
            self.imap_worker(every.imap_poll)
        );
    }

    /// Polls the mailboxes that have IMAP settings as they come due (see [`crate::imap`]).
    async fn imap_worker(&self, interval: Duration) {
        let mut tick = tokio::time::interval(interval.clamp(Duration::from_millis(10), Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.poll_imap(interval).await {
                tracing::warn!(error = %e, "IMAP polling failed; retrying on the next tick");
            }
        }
    }

    /// Runs event rules the requests did not (see [`crate::automation`]) and time rules.
    async fn automation_worker(&self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.run_all_automation().await {
                tracing::warn!(error = %e, "automation rules failed; retrying on the next tick");
            }
            if let Err(e) = self.run_time_rules().await {
                tracing::warn!(error = %e, "time rules failed; retrying on the next tick");
            }
        }
    }

    async fn periodic_jobs(&self, every: JobIntervals) {
        let mut sweep = tokio::time::interval(every.sla_sweep);
        let mut close = tokio::time::interval(every.auto_close);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        close.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut blobs = tokio::time::interval(every.blob_sweep);
        blobs.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = sweep.tick() => {
                    if let Err(e) = self.sweep_sla().await {
                        tracing::warn!(error = %e, "SLA sweep failed; retrying on the next tick");
                    }
                    if let Err(e) = self.sweep_milestones().await {
                        tracing::warn!(error = %e, "milestone sweep failed; retrying on the next tick");
                    }
                }
                _ = close.tick() => {
                    if let Err(e) = self.close_resolved().await {
                        tracing::warn!(error = %e, "auto-close failed; retrying on the next tick");
                    }
                }
                _ = blobs.tick() => {
                    // Purged cases' files go in the same pass.
                    match self.purge_expired_trash().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "purged cases past their time in the trash"),
                        Err(e) => tracing::warn!(error = %e, "trash purge failed; retrying on the next tick"),
                    }
                    match self.sweep_blobs(crate::files::SWEEP_GRACE).await {
                        Ok(r) if r.removed + r.partials > 0 => {
                            tracing::info!(removed = r.removed, partials = r.partials, "swept unused file contents");
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "file sweep failed; retrying on the next tick"),
                    }
                }
            }
        }
    }
}
