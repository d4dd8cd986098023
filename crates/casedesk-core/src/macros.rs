//! Macros (saved replies and actions an agent applies to a case by hand) and the in-app
//! notifications rules send to agents.
//!
//! A shared macro (no owner) is the organization's: admins create and change it, every agent
//! applies it. A personal one belongs to the agent who made it, and only they see it; another
//! agent asking for it gets 404, as for another organization's.

use casedesk_domain::ids::IdKind;
use casedesk_domain::macros::{Macro, MacroInput};
use casedesk_domain::notification::Notification;
use casedesk_domain::policy::Action;
use casedesk_domain::template::{self, Escape};
use casedesk_domain::timeline::{AuthorType, Comment};
use casedesk_store::{Page, PageRequest};

use crate::automation::RunOf;
use crate::cases::CommentInput;
use crate::{Actor, App, AppError, Result};

/// What applying a macro did: the reply it added, if it has one.
#[derive(Debug, Clone)]
pub struct AppliedMacro {
    pub comment: Option<Comment>,
}

impl App {
    /// Creates a macro: shared (admins only) or the caller's own.
    pub async fn create_macro(&self, actor: &Actor, shared: bool, input: MacroInput) -> Result<Macro> {
        actor.require(Action::WriteCases, "create macros")?;
        if shared {
            actor.require(Action::ManageAutomation, "create shared macros")?;
        }
        let now = self.clock.now();
        let owner = (!shared).then(|| actor.user_id.clone());
        let m = input.apply(Macro::new(IdKind::Macro.new_id(), &actor.org_id, &actor.user_id, owner, now), now)?;
        self.check_action_refs(&actor.org_id, &m.actions).await?;
        self.store.insert_macro(&m).await?;
        Ok(m)
    }

    /// A macro the caller sees (shared, or their own); 404 otherwise.
    pub async fn get_macro(&self, actor: &Actor, id: &str) -> Result<Macro> {
        actor.require(Action::ReadCases, "read macros")?;
        let m = self.store.get_macro(&actor.org_id, id).await?;
        if !m.visible_to(&actor.user_id) {
            return Err(AppError::NotFound);
        }
        Ok(m)
    }

    pub async fn list_macros(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Macro>> {
        actor.require(Action::ReadCases, "read macros")?;
        Ok(self.store.list_macros(&actor.org_id, &actor.user_id, page).await?)
    }

    /// The caller's own macro, or a shared one when they may manage those.
    async fn writable_macro(&self, actor: &Actor, id: &str) -> Result<Macro> {
        let m = self.get_macro(actor, id).await?;
        if m.owner_id.is_none() {
            actor.require(Action::ManageAutomation, "change shared macros")?;
        }
        Ok(m)
    }

    pub async fn update_macro(&self, actor: &Actor, id: &str, input: MacroInput) -> Result<Macro> {
        let current = self.writable_macro(actor, id).await?;
        let m = input.apply(current, self.clock.now())?;
        self.check_action_refs(&actor.org_id, &m.actions).await?;
        self.store.update_macro(&m).await?;
        Ok(m)
    }

    pub async fn delete_macro(&self, actor: &Actor, id: &str) -> Result<()> {
        self.writable_macro(actor, id).await?;
        Ok(self.store.delete_macro(&actor.org_id, id).await?)
    }

    /// Applies a macro to a case as the calling agent: its reply (placeholders filled) first,
    /// then its actions in order. A failing action stops the rest with its error.
    pub async fn apply_macro(&self, actor: &Actor, case_id: &str, macro_id: &str) -> Result<AppliedMacro> {
        actor.require(Action::WriteCases, "apply macros")?;
        let m = self.get_macro(actor, macro_id).await?;
        let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
        let agent = self.store.get_user(&actor.org_id, &actor.user_id).await.ok().map(|u| u.name);
        let ctx = self.case_context(&case, self.clock.now()).await?;
        let mut comment = None;
        if !m.body.trim().is_empty() {
            let body = template::render(&m.body, &ctx.values(&case, agent.as_deref()), Escape::None);
            let input = CommentInput {
                body: &body,
                internal: m.internal,
                author_type: AuthorType::Agent,
                file_ids: &[],
                reply_channel: None,
            };
            comment = Some(self.add_comment(actor, case_id, input, None).await?.value);
        }
        let run = RunOf { rule: None, trigger: None, author: AuthorType::Agent, agent: agent.as_deref() };
        for action in &m.actions {
            self.apply_action(actor, action, case_id, &ctx, &run).await?;
        }
        Ok(AppliedMacro { comment })
    }

    /// The caller's notifications, newest first; only unread ones with `unread_only`.
    pub async fn list_notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Notification>> {
        actor.require(Action::ReadCases, "read notifications")?;
        Ok(self.store.list_notifications(&actor.org_id, &actor.user_id, unread_only, page).await?)
    }

    /// Marks one of the caller's notifications read; another user's is 404.
    pub async fn read_notification(&self, actor: &Actor, id: &str) -> Result<Notification> {
        actor.require(Action::ReadCases, "read notifications")?;
        Ok(self.store.mark_notification_read(&actor.org_id, &actor.user_id, id, self.clock.now()).await?)
    }
}
