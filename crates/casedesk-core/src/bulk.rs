//! Bulk actions: one action on many cases, each changed in its own transaction with its own
//! timeline entries and events, exactly as if it had been changed alone.
//!
//! A list of ids (at most [`MAX_BULK_IDS`]) is worked through while the caller waits; a query
//! becomes a [`BulkJob`] that a background worker runs in batches, saving its place and progress
//! after each, so another instance takes over where a dead one stopped.

use std::sync::Arc;
use std::time::Duration;

use casedesk_domain::bulk::{BulkAction, BulkJob, BulkRequest, BulkTarget, JobState, Outcome};
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering, Range};
use casedesk_domain::policy::Action;
use casedesk_store::StoreError;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use crate::error::named;
use crate::{Actor, App, AppError, Result};

pub use casedesk_domain::bulk::MAX_BULK_IDS;

/// Cases a background job reads and changes between two saves of its progress.
const JOB_BATCH: u32 = 100;
/// How long a claimed job stays its worker's without a word from it; each saved batch renews it.
const JOB_LEASE: SignedDuration = SignedDuration::from_secs(120);

/// What became of one case of a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub case_id: String,
    pub outcome: Outcome,
    /// Why not: the code and message the API would have answered for this case alone.
    pub error: Option<(String, String)>,
}

/// The answer to a bulk request: the results of a list of ids, or the job a query became.
#[derive(Debug, Clone)]
pub enum BulkStarted {
    Done(Vec<CaseResult>),
    Job(Box<BulkJob>),
}

/// Wakes the background worker when a job is queued, so it starts at once rather than at the
/// next poll.
#[derive(Debug, Clone, Default)]
pub struct JobSignal(Arc<Notify>);

impl JobSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

/// The code and message of a failure, as a client would see them for the case alone.
fn failure(e: &AppError) -> (String, String) {
    let message = match e {
        AppError::Validation(fields) => {
            fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        AppError::Conflict { message, .. } => message.clone(),
        AppError::Forbidden(what) => format!("your role does not allow you to {what}"),
        AppError::NotFound => "no such case".into(),
        AppError::Internal(cause) => {
            tracing::error!(error = %cause, "bulk action failed on a case");
            "something went wrong on our side; it has been logged".into()
        }
        other => other.to_string(),
    };
    (e.code().to_string(), message)
}

fn permission(action: &BulkAction) -> (Action, &'static str) {
    match action {
        BulkAction::Delete => (Action::DeleteCase, "delete cases"),
        _ => (Action::WriteCases, "update cases"),
    }
}

impl App {
    /// Runs a bulk request: a list of ids now, a query as a background job. Refused as a whole
    /// (403, 422) only for what is wrong with the request itself — the role, a parameter naming
    /// nothing, a query that does not read; what is wrong with one case is that case's result.
    pub async fn bulk_cases(&self, actor: &Actor, req: BulkRequest) -> Result<BulkStarted> {
        let (action, what) = permission(&req.action);
        actor.require(action, what)?;
        self.check_bulk_refs(actor, &req.action).await?;
        match req.target {
            BulkTarget::Ids(ids) => {
                let mut results = Vec::with_capacity(ids.len());
                for id in ids {
                    results.push(self.bulk_one(actor, &req.action, &id).await);
                }
                Ok(BulkStarted::Done(results))
            }
            BulkTarget::Query(q) => {
                let filter = self.bulk_filter(actor, &q, self.clock.now()).await?;
                let total = self.store.count_cases(&actor.org_id, &filter).await?;
                let job = BulkJob::new(&actor.org_id, &actor.user_id, req.action, q, total, self.clock.now());
                self.store.insert_bulk_job(&job).await?;
                self.jobs_signal.wake();
                Ok(BulkStarted::Job(Box::new(job)))
            }
        }
    }

    pub async fn get_bulk_job(&self, actor: &Actor, id: &str) -> Result<BulkJob> {
        actor.require(Action::ReadCases, "read cases")?;
        Ok(self.store.get_bulk_job(&actor.org_id, id).await?)
    }

    /// Stops a job: one still waiting at once, a running one after the batch it is on.
    pub async fn cancel_bulk_job(&self, actor: &Actor, id: &str) -> Result<BulkJob> {
        let job = self.store.get_bulk_job(&actor.org_id, id).await?;
        let (action, what) = permission(&job.action);
        actor.require(action, what)?;
        if !job.state.is_finished() {
            self.store.cancel_bulk_job(&actor.org_id, id, self.clock.now()).await?;
        }
        Ok(self.store.get_bulk_job(&actor.org_id, id).await?)
    }

    /// The records an action names must exist (else 422 on the parameter), so that a typo fails
    /// the request once instead of every case.
    async fn check_bulk_refs(&self, actor: &Actor, action: &BulkAction) -> Result<()> {
        let org = &actor.org_id;
        match action {
            BulkAction::Assign { owner_id: Some(id) } => {
                named(self.store.get_user(org, id).await, "owner_id", "user", id)?;
            }
            BulkAction::MoveToQueue { queue_id } => {
                named(self.store.get_queue(org, queue_id).await, "queue_id", "queue", queue_id)?;
            }
            BulkAction::MergeInto { target_id } => {
                let target = named(self.store.get_case(org, target_id).await, "target_id", "case", target_id)?;
                if target.is_closed() {
                    return Err(AppError::field("target_id", "is closed; merge into an open case"));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The filter of a job's query: the cases it matches that existed when the job was created.
    async fn bulk_filter(&self, actor: &Actor, q: &str, created_before: Timestamp) -> Result<CaseFilter> {
        let parsed = self.query_scope(actor).await?.parse_field(q, "query")?;
        let mut filter = CaseFilter::default();
        filter.add_query(parsed);
        // Cases created after the job started are not what the caller was looking at.
        filter.created = Range { from: None, to: Some(created_before + SignedDuration::from_micros(1)) };
        Ok(filter)
    }

    /// Applies the action to one case, in its own transaction, and says what became of it.
    async fn bulk_one(&self, actor: &Actor, action: &BulkAction, id: &str) -> CaseResult {
        let result = self.try_bulk_one(actor, action, id).await;
        match result {
            Ok(outcome) => CaseResult { case_id: id.into(), outcome, error: None },
            Err(e) => CaseResult { case_id: id.into(), outcome: Outcome::Failed, error: Some(failure(&e)) },
        }
    }

    async fn try_bulk_one(&self, actor: &Actor, action: &BulkAction, id: &str) -> Result<Outcome> {
        let case = self.store.get_case(&actor.org_id, id).await?;
        match action {
            BulkAction::Delete => {
                self.delete_case(actor, id).await?;
                Ok(Outcome::Changed)
            }
            BulkAction::MergeInto { target_id } if target_id == id => Err(AppError::Conflict {
                code: "merge_into_itself",
                message: "this is the case the others are merged into".into(),
            }),
            BulkAction::MergeInto { target_id } => {
                self.merge_cases(actor, target_id, &[id.to_string()]).await?;
                Ok(Outcome::Changed)
            }
            _ => {
                let Some(patch) = action.patch_for(&case) else { return Ok(Outcome::Unchanged) };
                let next = self.update_case(actor, id, patch, None).await?;
                Ok(if next.version == case.version { Outcome::Unchanged } else { Outcome::Changed })
            }
        }
    }

    /// Runs waiting jobs (and ones whose worker died) until there are none; returns how many ran.
    pub async fn run_bulk_jobs(&self) -> Result<usize> {
        let claim = casedesk_domain::ids::IdKind::BulkJob.new_id();
        let mut ran = 0;
        loop {
            let now = self.clock.now();
            let Some(job) = self.store.claim_bulk_job(&claim, now, now + JOB_LEASE).await? else { return Ok(ran) };
            ran += 1;
            let id = job.id.clone();
            match self.run_bulk_job(job, &claim).await {
                Ok(()) | Err(AppError::Conflict { code: "concurrent_update", .. }) => {}
                Err(e) => tracing::warn!(job = %id, error = %e, "bulk job stopped; it resumes when its lease runs out"),
            }
        }
    }

    async fn run_bulk_job(&self, mut job: BulkJob, claim: &str) -> Result<()> {
        let actor = match self.store.get_user(&job.org_id, &job.created_by).await {
            Ok(u) if u.is_active => Actor { org_id: job.org_id.clone(), user_id: u.id, role: u.role },
            Ok(_) | Err(StoreError::NotFound) => {
                return self.end_bulk_job(job, claim, Some("the user who started the job is no longer active")).await;
            }
            Err(e) => return Err(e.into()),
        };
        let (action, what) = permission(&job.action);
        if actor.require(action, what).is_err() {
            return self.end_bulk_job(job, claim, Some("the user who started the job may no longer do this")).await;
        }
        loop {
            if job.cancel_requested {
                job.state = JobState::Cancelled;
                return self.end_bulk_job(job, claim, None).await;
            }
            let filter = match self.bulk_filter(&actor, &job.query, job.created_at).await {
                Ok(f) => f,
                Err(AppError::Validation(_)) => {
                    return self.end_bulk_job(job, claim, Some("the query no longer reads")).await;
                }
                Err(e) => return Err(e),
            };
            let req =
                ListRequest { filter, ordering: Ordering::CreatedAsc, limit: JOB_BATCH, cursor: job.cursor.clone() };
            let page = self.store.list_cases(&job.org_id, &req).await?;
            for item in &page.items {
                let r = self.bulk_one(&actor, &job.action, &item.case.id).await;
                job.record(&r.case_id, r.error.map_or(Ok(r.outcome), Err));
            }
            if page.next_cursor.is_none() {
                job.state = JobState::Done;
                return self.end_bulk_job(job, claim, None).await;
            }
            job.cursor = page.next_cursor;
            let now = self.clock.now();
            job.cancel_requested = self.store.save_bulk_job(&job, claim, now + JOB_LEASE).await?;
        }
    }

    /// Saves a job's last state: done or cancelled as set, failed with `error`.
    async fn end_bulk_job(&self, mut job: BulkJob, claim: &str, error: Option<&str>) -> Result<()> {
        if let Some(e) = error {
            job.state = JobState::Failed;
            job.error = Some(e.into());
        }
        let now = self.clock.now();
        job.finished_at = Some(now);
        self.store.save_bulk_job(&job, claim, now).await?;
        Ok(())
    }

    /// Runs bulk jobs as they are queued (and every `poll`, to take over a dead worker's) until
    /// the task is dropped.
    pub(crate) async fn bulk_worker(&self, poll: Duration) {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.jobs_signal.woken() => {}
            }
            if let Err(e) = self.run_bulk_jobs().await {
                tracing::warn!(error = %e, "bulk jobs failed; retrying on the next tick");
            }
        }
    }
}
