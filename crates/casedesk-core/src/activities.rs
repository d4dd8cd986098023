//! Activities logged on a case and tasks: who did or is to do what, and an agent's open tasks.

use casedesk_domain::activity::{Activity, ActivityInput, ActivityKind};
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::NewEvent;
use casedesk_store::RefKind;
use jiff::Timestamp;
use serde_json::json;

use crate::{Actor, App, AppError, Result};

pub const ACTIVITY_LOGGED: &str = "activity.logged";
pub const ACTIVITY_UPDATED: &str = "activity.updated";
pub const ACTIVITY_DELETED: &str = "activity.deleted";
pub const TASK_CREATED: &str = "task.created";
pub const TASK_COMPLETED: &str = "task.completed";
/// Most open tasks in one answer.
pub const MAX_TASKS: i64 = 500;

fn event(kind: &'static str, a: &Activity, at: Timestamp) -> NewEvent {
    NewEvent {
        kind,
        data: json!({
            "activity_id": a.id,
            "kind": a.kind.as_str(),
            "subject": a.subject,
            "assignee_id": a.assignee_id,
            "due_at": a.due_at.map(|t| t.to_string()),
        }),
        created_at: at,
    }
}

impl App {
    async fn check_assignee(&self, org_id: &str, input: &ActivityInput) -> Result<()> {
        let assignee = input.assignee_id.as_ref().and_then(|a| a.as_deref());
        self.check_typed_refs(org_id, &[("assignee_id", assignee, IdKind::User, RefKind::User)]).await
    }

    pub async fn list_activities(&self, actor: &Actor, case_id: &str) -> Result<Vec<Activity>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_activities(&actor.org_id, &case.id).await?)
    }

    /// Logs a call, meeting, email or other activity, or creates a task, on a case.
    pub async fn add_activity(&self, actor: &Actor, case_id: &str, input: ActivityInput) -> Result<Activity> {
        actor.require(Action::WriteCases, "log activities")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        self.check_assignee(&actor.org_id, &input).await?;
        let now = self.clock.now();
        let blank = Activity {
            id: IdKind::Activity.new_id(),
            org_id: actor.org_id.clone(),
            case_id: case.id.clone(),
            kind: ActivityKind::Other,
            subject: String::new(),
            note: String::new(),
            with_whom: None,
            outcome: None,
            occurred_at: None,
            duration_minutes: None,
            assignee_id: None,
            due_at: None,
            completed_at: None,
            completed_by: None,
            created_by: actor.user_id.clone(),
            created_at: now,
            updated_at: now,
        };
        let a = blank.apply(input, true, &actor.user_id, now)?;
        let kind = if a.kind == ActivityKind::Task { TASK_CREATED } else { ACTIVITY_LOGGED };
        self.store.put_activity(&a, &event(kind, &a, now), &actor.user_id).await?;
        Ok(a)
    }

    /// Changes an activity, or completes or reopens a task.
    pub async fn update_activity(&self, actor: &Actor, id: &str, input: ActivityInput) -> Result<Activity> {
        actor.require(Action::WriteCases, "change activities")?;
        let current = self.store.get_activity(&actor.org_id, id).await?;
        self.check_assignee(&actor.org_id, &input).await?;
        let now = self.clock.now();
        let next = current.clone().apply(input, false, &actor.user_id, now)?;
        let completed = next.completed_at.is_some() && current.completed_at.is_none();
        let kind = if completed { TASK_COMPLETED } else { ACTIVITY_UPDATED };
        self.store.put_activity(&next, &event(kind, &next, now), &actor.user_id).await?;
        Ok(next)
    }

    pub async fn delete_activity(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::WriteCases, "delete activities")?;
        let a = self.store.get_activity(&actor.org_id, id).await?;
        Ok(self.store.delete_activity(&a, &event(ACTIVITY_DELETED, &a, self.clock.now()), &actor.user_id).await?)
    }

    /// Open tasks across cases: `assignee` `me` is the caller.
    pub async fn open_tasks(
        &self,
        actor: &Actor,
        assignee: Option<&str>,
        due_before: Option<Timestamp>,
        limit: i64,
    ) -> Result<Vec<Activity>> {
        actor.require(Action::ReadCases, "read tasks")?;
        let assignee = match assignee {
            Some("me") => Some(actor.user_id.as_str()),
            other => other,
        };
        if !(1..=MAX_TASKS).contains(&limit) {
            return Err(AppError::field("limit", format!("must be 1 to {MAX_TASKS}")));
        }
        Ok(self.store.open_tasks(&actor.org_id, assignee, due_before, limit).await?)
    }
}
