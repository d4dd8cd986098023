//! Bulk actions: one change asked of many cases, applied to each on its own.
//!
//! A request names an action and its cases — a list of ids, or everything a query matches. This
//! module checks the request and says, per case, which patch the action amounts to; applying it
//! (one transaction, one timeline entry and one set of events per case) is the use case's job.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{Case, CasePatch, Priority, Status, normalize_tags};
use crate::error::{DomainError, Errors};
use crate::ids::IdKind;

/// Most ids one request may name; larger sets go by query, as a background job.
pub const MAX_BULK_IDS: usize = 1000;
/// Most failed cases a background job keeps the reasons of; it counts the rest.
pub const MAX_JOB_FAILURES: usize = 1000;
/// Longest query a bulk request may carry.
pub const MAX_QUERY_LEN: usize = 2000;

/// What to do to each case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Give the cases to an agent, or (with `None`) take them from whoever has them.
    Assign {
        owner_id: Option<String>,
    },
    MoveToQueue {
        queue_id: String,
    },
    SetStatus {
        status: Status,
    },
    Close,
    SetPriority {
        priority: Priority,
    },
    AddTags {
        tags: Vec<String>,
    },
    RemoveTags {
        tags: Vec<String>,
    },
    /// Merge each case into `target_id` (which is left out if the query matches it too).
    MergeInto {
        target_id: String,
    },
    /// Move the cases to the trash.
    Delete,
}

/// Which cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkTarget {
    /// These cases, in this order, each once.
    Ids(Vec<String>),
    /// Every case the query (docs/search.md) matches when the job starts.
    Query(String),
}

/// A checked bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRequest {
    pub action: BulkAction,
    pub target: BulkTarget,
}

/// A bulk request as a client sends it: the action's name, its parameters, and the cases.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `Some(None)`: unassign.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The actions' names, as the API spells them.
pub const ACTIONS: &[&str] = &[
    "assign",
    "move_to_queue",
    "set_status",
    "close",
    "set_priority",
    "add_tags",
    "remove_tags",
    "merge_into",
    "delete",
];

/// The parameters each action takes (the others must be absent).
fn params_of(action: &str) -> &'static [&'static str] {
    match action {
        "assign" => &["owner_id"],
        "move_to_queue" => &["queue_id"],
        "set_status" => &["status"],
        "set_priority" => &["priority"],
        "add_tags" | "remove_tags" => &["tags"],
        "merge_into" => &["target_id"],
        _ => &[],
    }
}

impl BulkInput {
    /// Checks the request, naming every field that is wrong.
    pub fn check(self) -> Result<BulkRequest, DomainError> {
        let mut errors = Errors::new();
        let target = self.check_target(&mut errors);
        let action = self.check_action(&mut errors);
        errors.finish()?;
        match (action, target) {
            (Some(action), Some(target)) => Ok(BulkRequest { action, target }),
            _ => Err(DomainError::field("action", "is incomplete")),
        }
    }

    fn check_target(&self, errors: &mut Errors) -> Option<BulkTarget> {
        match (&self.ids, &self.query) {
            (Some(_), Some(_)) => {
                errors.add("query", "give either ids or query, not both");
                None
            }
            (None, None) => {
                errors.add("ids", "name the cases: a list of ids, or a query");
                None
            }
            (Some(ids), None) => {
                if ids.is_empty() {
                    errors.add("ids", "name at least one case");
                } else if ids.len() > MAX_BULK_IDS {
                    errors.add("ids", format!("at most {MAX_BULK_IDS} ids; use a query for more"));
                }
                let mut unique: Vec<String> = Vec::with_capacity(ids.len());
                for (i, id) in ids.iter().enumerate().take(MAX_BULK_IDS) {
                    if !IdKind::Case.matches(id) {
                        errors.add(format!("ids[{i}]"), "must be a case id (case_…)");
                    } else if !unique.contains(id) {
                        unique.push(id.clone());
                    }
                }
                Some(BulkTarget::Ids(unique))
            }
            (None, Some(q)) => {
                let q = q.trim();
                if q.is_empty() {
                    errors.add("query", "must not be empty; to act on every case, say so, e.g. status:new,open,pending,on_hold,resolved,closed");
                } else if q.len() > MAX_QUERY_LEN {
                    errors.add("query", format!("at most {MAX_QUERY_LEN} characters"));
                }
                Some(BulkTarget::Query(q.to_string()))
            }
        }
    }

    fn check_action(&self, errors: &mut Errors) -> Option<BulkAction> {
        let name = self.action.trim();
        if !ACTIONS.contains(&name) {
            errors.add("action", format!("unknown action {name:?}; expected one of {}", ACTIONS.join(", ")));
            return None;
        }
        let given = [
            ("owner_id", self.owner_id.is_some()),
            ("queue_id", self.queue_id.is_some()),
            ("status", self.status.is_some()),
            ("priority", self.priority.is_some()),
            ("tags", self.tags.is_some()),
            ("target_id", self.target_id.is_some()),
        ];
        let wanted = params_of(name);
        for (field, present) in given {
            if present && !wanted.contains(&field) {
                errors.add(field, format!("is not a parameter of {name}"));
            }
        }
        let missing = |errors: &mut Errors, field: &str| errors.add(field, format!("is required by {name}"));
        let id_of = |errors: &mut Errors, field: &str, kind: IdKind, v: &str| {
            if kind.matches(v) {
                Some(v.to_string())
            } else {
                errors.add(field, format!("must be an id starting with {}", kind.prefix()));
                None
            }
        };
        match name {
            "assign" => match &self.owner_id {
                None => {
                    missing(errors, "owner_id");
                    None
                }
                Some(None) => Some(BulkAction::Assign { owner_id: None }),
                Some(Some(id)) => {
                    id_of(errors, "owner_id", IdKind::User, id).map(|id| BulkAction::Assign { owner_id: Some(id) })
                }
            },
            "move_to_queue" => match &self.queue_id {
                None => {
                    missing(errors, "queue_id");
                    None
                }
                Some(id) => {
                    id_of(errors, "queue_id", IdKind::Queue, id).map(|queue_id| BulkAction::MoveToQueue { queue_id })
                }
            },
            "set_status" => match &self.status {
                None => {
                    missing(errors, "status");
                    None
                }
                Some(s) => errors.take("status", Status::parse(s)).map(|status| BulkAction::SetStatus { status }),
            },
            "set_priority" => match &self.priority {
                None => {
                    missing(errors, "priority");
                    None
                }
                Some(p) => {
                    errors.take("priority", Priority::parse(p)).map(|priority| BulkAction::SetPriority { priority })
                }
            },
            "add_tags" | "remove_tags" => match &self.tags {
                None => {
                    missing(errors, "tags");
                    None
                }
                Some(t) if t.is_empty() => {
                    errors.add("tags", "name at least one tag");
                    None
                }
                Some(t) => {
                    let tags = normalize_tags(t, errors);
                    Some(if name == "add_tags" {
                        BulkAction::AddTags { tags }
                    } else {
                        BulkAction::RemoveTags { tags }
                    })
                }
            },
            "merge_into" => match &self.target_id {
                None => {
                    missing(errors, "target_id");
                    None
                }
                Some(id) => {
                    id_of(errors, "target_id", IdKind::Case, id).map(|target_id| BulkAction::MergeInto { target_id })
                }
            },
            "close" => Some(BulkAction::Close),
            _ => Some(BulkAction::Delete),
        }
    }
}

impl BulkAction {
    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::Assign { .. } => "assign",
            BulkAction::MoveToQueue { .. } => "move_to_queue",
            BulkAction::SetStatus { .. } => "set_status",
            BulkAction::Close => "close",
            BulkAction::SetPriority { .. } => "set_priority",
            BulkAction::AddTags { .. } => "add_tags",
            BulkAction::RemoveTags { .. } => "remove_tags",
            BulkAction::MergeInto { .. } => "merge_into",
            BulkAction::Delete => "delete",
        }
    }

    /// The action as the API spells it (`{"action": "assign", "owner_id": …}`), for a job's
    /// record; [`BulkAction::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        let mut input = BulkInput { action: self.name().into(), ..Default::default() };
        match self {
            BulkAction::Assign { owner_id } => input.owner_id = Some(owner_id.clone()),
            BulkAction::MoveToQueue { queue_id } => input.queue_id = Some(queue_id.clone()),
            BulkAction::SetStatus { status } => input.status = Some(status.as_str().into()),
            BulkAction::SetPriority { priority } => input.priority = Some(priority.as_str().into()),
            BulkAction::AddTags { tags } | BulkAction::RemoveTags { tags } => input.tags = Some(tags.clone()),
            BulkAction::MergeInto { target_id } => input.target_id = Some(target_id.clone()),
            BulkAction::Close | BulkAction::Delete => {}
        }
        let mut v = serde_json::to_value(&input).unwrap_or(Value::Null);
        // `owner_id: null` (unassign) is meaningful; serde skipped it as absent.
        if let (BulkAction::Assign { owner_id: None }, Value::Object(m)) = (self, &mut v) {
            m.insert("owner_id".into(), Value::Null);
        }
        v
    }

    /// Reads an action written by [`BulkAction::to_json`].
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let input: BulkInput = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        let mut errors = Errors::new();
        match input.check_action(&mut errors) {
            Some(action) if errors.is_empty() => Ok(action),
            _ => Err(format!("unreadable bulk action: {v}")),
        }
    }

    /// The change this action makes to `case`; `None` when it is not a field change (merge,
    /// delete) or the case already is as asked (so a closed case asked to close is left alone,
    /// not refused).
    pub fn patch_for(&self, case: &Case) -> Option<CasePatch> {
        let patch = match self {
            BulkAction::Assign { owner_id } if *owner_id != case.owner_id => {
                CasePatch { owner_id: Some(owner_id.clone()), ..Default::default() }
            }
            BulkAction::MoveToQueue { queue_id } if case.queue_id.as_ref() != Some(queue_id) => {
                CasePatch { queue_id: Some(Some(queue_id.clone())), ..Default::default() }
            }
            BulkAction::SetStatus { status } if *status != case.status => {
                CasePatch { status: Some(*status), ..Default::default() }
            }
            BulkAction::Close if !case.is_closed() => CasePatch { status: Some(Status::Closed), ..Default::default() },
            BulkAction::SetPriority { priority } if *priority != case.priority => {
                CasePatch { priority: Some(*priority), ..Default::default() }
            }
            BulkAction::AddTags { tags: add } if add.iter().any(|t| !case.tags.contains(t)) => {
                let mut next = case.tags.clone();
                next.extend(add.iter().filter(|t| !case.tags.contains(t)).cloned());
                CasePatch { tags: Some(next), ..Default::default() }
            }
            BulkAction::RemoveTags { tags: remove } if case.tags.iter().any(|t| remove.contains(t)) => {
                let next = case.tags.iter().filter(|t| !remove.contains(t)).cloned().collect();
                CasePatch { tags: Some(next), ..Default::default() }
            }
            _ => return None,
        };
        Some(patch)
    }
}

/// What became of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action changed the case.
    Changed,
    /// The case already was as asked; nothing was written.
    Unchanged,
    /// The action was refused for this case; the reason says why.
    Failed,
}

/// The state of a background bulk job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Stopped by a failure that was not about one case (the query no longer reads, the user who
    /// started it is gone).
    Failed,
    Cancelled,
}

impl JobState {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed | JobState::Cancelled)
    }
}

/// Why the action was refused for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFailure {
    pub case_id: String,
    /// The code the API would answer for this case alone (`case_closed`, `not_found` …).
    pub code: String,
    pub message: String,
}

/// A bulk action on everything a query matched, run in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkJob {
    pub id: String,
    pub org_id: String,
    /// Whose rights the job acts with.
    pub created_by: String,
    pub action: BulkAction,
    pub query: String,
    pub state: JobState,
    /// How many cases the query matched when the job was created.
    pub total: i64,
    pub processed: i64,
    pub changed: i64,
    pub unchanged: i64,
    pub failed: i64,
    /// The first [`MAX_JOB_FAILURES`] failures.
    pub failures: Vec<CaseFailure>,
    /// Where in the query's results the job has got to.
    pub cursor: Option<String>,
    /// Why the job as a whole failed.
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

impl BulkJob {
    pub fn new(org_id: &str, created_by: &str, action: BulkAction, query: String, total: i64, now: Timestamp) -> Self {
        BulkJob {
            id: IdKind::BulkJob.new_id(),
            org_id: org_id.into(),
            created_by: created_by.into(),
            action,
            query,
            state: JobState::Queued,
            total,
            processed: 0,
            changed: 0,
            unchanged: 0,
            failed: 0,
            failures: Vec::new(),
            cursor: None,
            error: None,
            cancel_requested: false,
            created_at: now,
            started_at: None,
            finished_at: None,
        }
    }

    /// Counts what became of one case, keeping the reason of a failure while there is room.
    pub fn record(&mut self, case_id: &str, outcome: Result<Outcome, (String, String)>) {
        self.processed += 1;
        match outcome {
            Ok(Outcome::Changed) => self.changed += 1,
            Ok(Outcome::Unchanged) => self.unchanged += 1,
            Ok(Outcome::Failed) | Err(_) => self.failed += 1,
        }
        if let Err((code, message)) = outcome
            && self.failures.len() < MAX_JOB_FAILURES
        {
            self.failures.push(CaseFailure { case_id: case_id.into(), code, message });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str) -> BulkInput {
        BulkInput { action: action.into(), ids: Some(vec!["case_1".into()]), ..Default::default() }
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_action_reads_and_round_trips_through_json() {
        let cases = [
            BulkInput { owner_id: Some(Some("usr_1".into())), ..input("assign") },
            BulkInput { owner_id: Some(None), ..input("assign") },
            BulkInput { queue_id: Some("q_1".into()), ..input("move_to_queue") },
            BulkInput { status: Some("waiting".into()), ..input("set_status") },
            input("close"),
            BulkInput { priority: Some("urgent".into()), ..input("set_priority") },
            BulkInput { tags: Some(vec!["VIP".into(), "vip".into()]), ..input("add_tags") },
            BulkInput { tags: Some(vec!["spam".into()]), ..input("remove_tags") },
            BulkInput { target_id: Some("case_9".into()), ..input("merge_into") },
            input("delete"),
        ];
        let mut names: Vec<&str> = cases.iter().map(|i| i.action.as_str()).collect();
        names.dedup();
        assert_eq!(names, ACTIONS);
        for i in cases.clone() {
            let name = i.action.clone();
            let req = i.check().unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(req.action.name(), name);
            assert_eq!(BulkAction::from_json(&req.action.to_json()), Ok(req.action.clone()), "{name}");
        }
    }

    #[test]
    fn parameters_are_normalised() {
        let req = BulkInput { tags: Some(vec!["VIP".into(), "vip".into(), "Gold".into()]), ..input("add_tags") };
        assert_eq!(req.check().map(|r| r.action), Ok(BulkAction::AddTags { tags: vec!["vip".into(), "gold".into()] }));
        let req = BulkInput { status: Some("waiting".into()), ..input("set_status") };
        assert_eq!(req.check().map(|r| r.action), Ok(BulkAction::SetStatus { status: Status::Pending }));
    }

    #[test]
    fn bad_requests_name_each_field() {
        let e = BulkInput { action: "explode".into(), ..Default::default() }.check().unwrap_err();
        assert_eq!(fields(e), ["ids", "action"]);
        let e = input("assign").check().unwrap_err();
        assert_eq!(fields(e), ["owner_id"]);
        let e = BulkInput { owner_id: Some(Some("cnt_1".into())), queue_id: Some("q_1".into()), ..input("assign") }
            .check()
            .unwrap_err();
        assert_eq!(fields(e), ["queue_id", "owner_id"]);
        let e = BulkInput { status: Some("gone".into()), ..input("set_status") }.check().unwrap_err();
        assert_eq!(fields(e), ["status"]);
        let e = BulkInput { ids: Some(vec!["case_1".into(), "usr_2".into()]), ..input("close") }.check().unwrap_err();
        assert_eq!(fields(e), ["ids[1]"]);
        let e = BulkInput { query: Some("x".into()), ..input("close") }.check().unwrap_err();
        assert_eq!(fields(e), ["query"]);
        let e = BulkInput { ids: None, query: Some("  ".into()), ..input("close") }.check().unwrap_err();
        assert_eq!(fields(e), ["query"]);
        let e = BulkInput { ids: Some(vec![]), ..input("close") }.check().unwrap_err();
        assert_eq!(fields(e), ["ids"]);
        let e = BulkInput { tags: Some(vec![]), ..input("add_tags") }.check().unwrap_err();
        assert_eq!(fields(e), ["tags"]);
    }

    #[test]
    fn ids_are_capped_and_deduplicated() {
        let many: Vec<String> = (0..=MAX_BULK_IDS).map(|i| format!("case_{i}")).collect();
        let e = BulkInput { ids: Some(many), ..input("close") }.check().unwrap_err();
        assert_eq!(fields(e), ["ids"]);
        let req = BulkInput { ids: Some(vec!["case_1".into(), "case_2".into(), "case_1".into()]), ..input("close") }
            .check()
            .unwrap();
        assert_eq!(req.target, BulkTarget::Ids(vec!["case_1".into(), "case_2".into()]));
    }

    fn case_with(tags: &[&str], status: Status) -> Case {
        let ctx = crate::case::Ctx {
            org_id: "org_1",
            actor_id: "usr_1",
            now: Timestamp::UNIX_EPOCH,
            tz: &jiff::tz::TimeZone::UTC,
        };
        let input = crate::case::NewCase {
            subject: "s".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        let mut case = Case::create(input, &ctx).expect("case");
        case.status = status;
        case
    }

    #[test]
    fn patches_change_only_what_needs_changing() {
        let case = case_with(&["a", "b"], Status::Open);
        let add = BulkAction::AddTags { tags: vec!["b".into(), "c".into()] };
        assert_eq!(add.patch_for(&case).and_then(|p| p.tags), Some(vec!["a".into(), "b".into(), "c".into()]));
        assert!(BulkAction::AddTags { tags: vec!["a".into()] }.patch_for(&case).is_none());
        let remove = BulkAction::RemoveTags { tags: vec!["a".into(), "z".into()] };
        assert_eq!(remove.patch_for(&case).and_then(|p| p.tags), Some(vec!["b".into()]));
        assert!(BulkAction::RemoveTags { tags: vec!["z".into()] }.patch_for(&case).is_none());
        assert!(BulkAction::Delete.patch_for(&case).is_none());
        assert_eq!(BulkAction::Close.patch_for(&case).and_then(|p| p.status), Some(Status::Closed));
        assert!(BulkAction::SetStatus { status: Status::Open }.patch_for(&case).is_none());
        assert!(BulkAction::SetPriority { priority: case.priority }.patch_for(&case).is_none());
        assert!(BulkAction::Assign { owner_id: None }.patch_for(&case).is_none());
        let assign = BulkAction::Assign { owner_id: Some("usr_2".into()) }.patch_for(&case);
        assert_eq!(assign.and_then(|p| p.owner_id), Some(Some("usr_2".into())));
        let closed = case_with(&[], Status::Closed);
        assert!(BulkAction::Close.patch_for(&closed).is_none(), "closing a closed case is no change");
        assert!(BulkAction::SetStatus { status: Status::Open }.patch_for(&closed).is_some(), "refused later, not here");
    }

    #[test]
    fn a_job_counts_every_case_and_keeps_the_first_failures() {
        let mut job = BulkJob::new("org_1", "usr_1", BulkAction::Close, "tag:x".into(), 3, Timestamp::UNIX_EPOCH);
        job.record("case_1", Ok(Outcome::Changed));
        job.record("case_2", Ok(Outcome::Unchanged));
        for i in 0..=MAX_JOB_FAILURES {
            job.record(&format!("case_f{i}"), Err(("case_closed".into(), "closed".into())));
        }
        assert_eq!((job.processed, job.changed, job.unchanged), (MAX_JOB_FAILURES as i64 + 3, 1, 1));
        assert_eq!(job.failed, MAX_JOB_FAILURES as i64 + 1);
        assert_eq!(job.failures.len(), MAX_JOB_FAILURES);
        assert_eq!(job.failures[0].case_id, "case_f0");
    }

    #[test]
    fn job_states_read_back() {
        for s in [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert!(JobState::Done.is_finished() && !JobState::Running.is_finished());
    }
}
