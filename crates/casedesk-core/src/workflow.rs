//! Use cases of custom statuses and funnel stages, and how a case's request names them.

use casedesk_domain::case::{Case, CasePatch, NewCase};
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::Action;
use casedesk_domain::profile::{Category, CategoryInput};
use casedesk_domain::workflow::{self, CustomStatus, FunnelStage, StageInput, StatusInput};
use casedesk_store::RefKind;

use crate::error::named;
use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

impl App {
    // ---- statuses ----------------------------------------------------------------------------

    pub async fn list_statuses(&self, actor: &Actor) -> Result<Vec<CustomStatus>> {
        actor.require(Action::ReadCases, "read statuses")?;
        Ok(self.store.list_statuses(&actor.org_id).await?)
    }

    pub async fn get_status(&self, actor: &Actor, id: &str) -> Result<CustomStatus> {
        actor.require(Action::ReadCases, "read statuses")?;
        Ok(self.store.get_status(&actor.org_id, id).await?)
    }

    pub async fn create_status(
        &self,
        actor: &Actor,
        input: StatusInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<CustomStatus>> {
        actor.require(Action::ManageQueues, "create statuses")?;
        let get = async |id: String| self.store.get_status(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let s = CustomStatus::blank(IdKind::CustomStatus.new_id(), actor.org_id.clone(), self.clock.now())
            .apply(input, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &s.id, 201);
        let written = self.store.put_status(&s, rec.as_ref()).await.map(|()| s);
        let get = async |id: String| self.store.get_status(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn update_status(&self, actor: &Actor, id: &str, input: StatusInput) -> Result<CustomStatus> {
        actor.require(Action::ManageQueues, "change statuses")?;
        let current = self.store.get_status(&actor.org_id, id).await?;
        let mut next = current.clone().apply(input, false)?;
        if next != current {
            next.updated_at = self.clock.now();
            self.store.put_status(&next, None).await?;
        }
        Ok(next)
    }

    pub async fn delete_status(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete statuses")?;
        Ok(self.store.delete_status(&actor.org_id, id).await?)
    }

    // ---- funnel stages -----------------------------------------------------------------------

    pub async fn list_stages(&self, actor: &Actor) -> Result<Vec<(FunnelStage, i64)>> {
        actor.require(Action::ReadCases, "read funnel stages")?;
        Ok(self.store.list_stages(&actor.org_id).await?)
    }

    pub async fn get_stage(&self, actor: &Actor, id: &str) -> Result<FunnelStage> {
        actor.require(Action::ReadCases, "read funnel stages")?;
        Ok(self.store.get_stage(&actor.org_id, id).await?)
    }

    async fn check_stage_queue(&self, stage: &FunnelStage) -> Result<()> {
        let refs = [("queue_id", stage.queue_id.as_deref(), IdKind::Queue, RefKind::Queue)];
        self.check_typed_refs(&stage.org_id, &refs).await
    }

    pub async fn create_stage(
        &self,
        actor: &Actor,
        input: StageInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<FunnelStage>> {
        actor.require(Action::ManageQueues, "create funnel stages")?;
        let get = async |id: String| self.store.get_stage(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let f = FunnelStage::blank(IdKind::FunnelStage.new_id(), actor.org_id.clone(), self.clock.now())
            .apply(input, true)?;
        self.check_stage_queue(&f).await?;
        let rec = self.idem_record(actor, idem.as_ref(), &f.id, 201);
        let written = self.store.put_stage(&f, rec.as_ref()).await.map(|()| f);
        let get = async |id: String| self.store.get_stage(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn update_stage(&self, actor: &Actor, id: &str, input: StageInput) -> Result<FunnelStage> {
        actor.require(Action::ManageQueues, "change funnel stages")?;
        let current = self.store.get_stage(&actor.org_id, id).await?;
        let mut next = current.clone().apply(input, false)?;
        if next != current {
            self.check_stage_queue(&next).await?;
            next.updated_at = self.clock.now();
            self.store.put_stage(&next, None).await?;
        }
        Ok(next)
    }

    pub async fn delete_stage(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete funnel stages")?;
        Ok(self.store.delete_stage(&actor.org_id, id).await?)
    }

    // ---- what a case request names -----------------------------------------------------------

    /// The status or stage a request names (a 422 on its field if the organization has none).
    pub(crate) async fn named_status(&self, org_id: &str, id: &str) -> Result<CustomStatus> {
        named(self.store.get_status(org_id, id).await, "custom_status_id", "status", id)
    }

    pub(crate) async fn named_stage(&self, org_id: &str, id: &str) -> Result<FunnelStage> {
        named(self.store.get_stage(org_id, id).await, "funnel_stage_id", "funnel stage", id)
    }

    /// Sets a new case's category from its custom status (or checks they agree), and checks its
    /// funnel stage fits its queue.
    pub(crate) async fn resolve_workflow(&self, org_id: &str, input: &mut NewCase) -> Result<()> {
        if let Some(id) = input.custom_status_id.clone() {
            let s = self.named_status(org_id, &id).await?;
            let (status, custom) = workflow::status_of(input.status, Some(&s))?;
            input.status = status;
            input.custom_status_id = custom;
        }
        if let Some(id) = &input.funnel_stage_id
            && !self.named_stage(org_id, id).await?.fits(input.queue_id.as_deref())
        {
            return Err(AppError::field("funnel_stage_id", "the stage belongs to another queue"));
        }
        Ok(())
    }

    /// The same for a patch: a named custom status sets the category; a category alone means its
    /// default (the domain resets the custom status when the category changes).
    pub(crate) async fn resolve_patch_workflow(&self, org_id: &str, patch: &mut CasePatch) -> Result<()> {
        if let Some(Some(id)) = patch.custom_status_id.clone() {
            let s = self.named_status(org_id, &id).await?;
            let (status, custom) = workflow::status_of(patch.status, Some(&s))?;
            patch.status = status;
            patch.custom_status_id = Some(custom);
        }
        Ok(())
    }
}

impl App {
    // ---- categories --------------------------------------------------------------------------

    pub async fn list_categories(&self, actor: &Actor) -> Result<Vec<Category>> {
        actor.require(Action::ReadCases, "read categories")?;
        Ok(self.store.list_categories(&actor.org_id).await?)
    }

    pub async fn get_category(&self, actor: &Actor, id: &str) -> Result<Category> {
        actor.require(Action::ReadCases, "read categories")?;
        Ok(self.store.get_category(&actor.org_id, id).await?)
    }

    pub async fn create_category(
        &self,
        actor: &Actor,
        input: CategoryInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<Category>> {
        actor.require(Action::ManageQueues, "create categories")?;
        let get = async |id: String| self.store.get_category(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let now = self.clock.now();
        let blank = Category {
            id: IdKind::Category.new_id(),
            org_id: actor.org_id.clone(),
            name: String::new(),
            fields: Vec::new(),
            position: 100,
            created_at: now,
            updated_at: now,
        };
        let k = blank.apply(input, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &k.id, 201);
        let written = self.store.put_category(&k, rec.as_ref()).await.map(|()| k);
        let get = async |id: String| self.store.get_category(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    /// Changes a category. New rules apply to each case's next write; stored values stay.
    pub async fn update_category(&self, actor: &Actor, id: &str, input: CategoryInput) -> Result<Category> {
        actor.require(Action::ManageQueues, "change categories")?;
        let current = self.store.get_category(&actor.org_id, id).await?;
        let mut next = current.clone().apply(input, false)?;
        if next != current {
            next.updated_at = self.clock.now();
            self.store.put_category(&next, None).await?;
        }
        Ok(next)
    }

    pub async fn delete_category(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageQueues, "delete categories")?;
        Ok(self.store.delete_category(&actor.org_id, id).await?)
    }

    /// A category a case request names (a 422 on `category_id` if it is not there).
    pub(crate) async fn named_category(&self, org_id: &str, id: &str) -> Result<Category> {
        named(self.store.get_category(org_id, id).await, "category_id", "category", id)
    }

    /// Checks a case's custom fields against its category's profile. A case that moved to another
    /// category without new values keeps those the new profile also has; the dropped keys are
    /// returned for the timeline.
    pub(crate) async fn fit_profile(
        &self,
        current: Option<&Case>,
        next: &mut Case,
        fields_given: bool,
    ) -> Result<Vec<String>> {
        let Some(category_id) = next.category_id.clone() else { return Ok(Vec::new()) };
        let category = self.named_category(&next.org_id, &category_id).await?;
        let moved = current.is_some_and(|c| c.category_id != next.category_id);
        let mut dropped = Vec::new();
        if moved && !fields_given {
            let (kept, gone) = category.keep(&next.custom_fields);
            next.custom_fields = kept;
            dropped = gone;
        }
        category.check(&next.custom_fields)?;
        Ok(dropped)
    }
}
