//! Views: the predefined ones and saved ones, the cases they show, and their counts.

use casedesk_domain::ids::IdKind;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::view::{self, Predefined, Scope, View, ViewInput};
use casedesk_store::{CaseListItem, Page, PageRequest};

use crate::error::named;
use crate::{Actor, App, AppError, Result};

/// A view a user sees: one every user has, or a saved one.
#[derive(Debug, Clone)]
pub enum AnyView {
    Predefined(&'static Predefined),
    Saved(View),
}

impl AnyView {
    pub fn id(&self) -> &str {
        match self {
            AnyView::Predefined(p) => p.id,
            AnyView::Saved(v) => &v.id,
        }
    }

    pub fn query(&self) -> &str {
        match self {
            AnyView::Predefined(p) => p.query,
            AnyView::Saved(v) => &v.query,
        }
    }

    pub fn ordering(&self) -> Ordering {
        match self {
            AnyView::Predefined(p) => p.ordering,
            AnyView::Saved(v) => v.ordering,
        }
    }
}

impl App {
    /// Checks a view's query in the caller's context (422 on `query` saying where).
    async fn check_query(&self, actor: &Actor, q: &str) -> Result<()> {
        self.query_scope(actor).await?.parse_field(q, "query").map(|_| ())
    }

    /// Shared views are the organization's settings: admins make them.
    fn check_scope(actor: &Actor, v: &View) -> Result<()> {
        if v.scope != Scope::Personal && actor.role != Role::Admin {
            return Err(AppError::Forbidden("share views with a queue or the organization"));
        }
        Ok(())
    }

    async fn check_queue(&self, actor: &Actor, v: &View) -> Result<()> {
        if let Some(q) = &v.queue_id {
            named(self.store.get_queue(&actor.org_id, q).await, "queue_id", "queue", q)?;
        }
        Ok(())
    }

    /// Every view the caller sees: the predefined ones, then saved ones oldest first.
    pub async fn list_views(&self, actor: &Actor) -> Result<Vec<AnyView>> {
        actor.require(Action::ReadCases, "read views")?;
        let queues = self.store.queues_of_user(&actor.org_id, &actor.user_id).await?;
        let admin = actor.role == Role::Admin;
        let mut out: Vec<AnyView> = view::PREDEFINED.iter().map(AnyView::Predefined).collect();
        for v in self.store.list_views(&actor.org_id).await? {
            if v.visible_to(&actor.user_id, &queues, admin) {
                out.push(AnyView::Saved(v));
            }
        }
        Ok(out)
    }

    /// A view the caller sees (404 otherwise, also for another's personal view).
    pub async fn get_view(&self, actor: &Actor, id: &str) -> Result<AnyView> {
        actor.require(Action::ReadCases, "read views")?;
        if let Some(p) = view::predefined(id) {
            return Ok(AnyView::Predefined(p));
        }
        let v = self.store.get_view(&actor.org_id, id).await?;
        let queues = self.store.queues_of_user(&actor.org_id, &actor.user_id).await?;
        if !v.visible_to(&actor.user_id, &queues, actor.role == Role::Admin) {
            return Err(AppError::NotFound);
        }
        Ok(AnyView::Saved(v))
    }

    pub async fn create_view(&self, actor: &Actor, input: ViewInput) -> Result<View> {
        actor.require(Action::ReadCases, "save views")?;
        let base = View::new(IdKind::View.new_id(), &actor.org_id, &actor.user_id, self.clock.now());
        let v = input.apply(base)?;
        self.check_query(actor, &v.query).await?;
        Self::check_scope(actor, &v)?;
        self.check_queue(actor, &v).await?;
        self.store.put_view(&v).await?;
        Ok(v)
    }

    /// A saved view the caller sees and may change.
    async fn editable_view(&self, actor: &Actor, id: &str) -> Result<View> {
        let current = match self.get_view(actor, id).await? {
            AnyView::Saved(v) => v,
            AnyView::Predefined(_) => {
                return Err(AppError::Conflict {
                    code: "predefined_view",
                    message: "a predefined view cannot be changed or deleted; save your own instead".into(),
                });
            }
        };
        if !current.editable_by(&actor.user_id, actor.role == Role::Admin) {
            return Err(AppError::Forbidden("change or delete this view"));
        }
        Ok(current)
    }

    pub async fn update_view(&self, actor: &Actor, id: &str, input: ViewInput) -> Result<View> {
        let current = self.editable_view(actor, id).await?;
        let mut v = input.apply(current)?;
        v.updated_at = self.clock.now();
        self.check_query(actor, &v.query).await?;
        Self::check_scope(actor, &v)?;
        self.check_queue(actor, &v).await?;
        self.store.put_view(&v).await?;
        Ok(v)
    }

    pub async fn delete_view(&self, actor: &Actor, id: &str) -> Result<()> {
        let current = self.editable_view(actor, id).await?;
        Ok(self.store.delete_view(&actor.org_id, &current.id).await?)
    }

    /// The cases a view shows, in its order, a page at a time.
    pub async fn view_cases(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<(AnyView, Page<CaseListItem>)> {
        let v = self.get_view(actor, id).await?;
        let req = ListRequest {
            filter: CaseFilter::default(),
            ordering: v.ordering(),
            limit: page.limit,
            cursor: page.cursor.clone(),
        };
        let (page, _) = self.search_cases(actor, &req, Some(v.query())).await?;
        Ok((v, page))
    }

    /// How many cases each of these views holds. A saved view whose query no longer reads (a
    /// field renamed since) counts as `None` rather than failing the others.
    pub async fn count_views(&self, actor: &Actor, views: &[AnyView]) -> Result<Vec<Option<i64>>> {
        let scope = self.query_scope(actor).await?;
        let mut out = Vec::with_capacity(views.len());
        for v in views {
            let Ok(parsed) = scope.parse(v.query()) else {
                out.push(None);
                continue;
            };
            let mut filter = CaseFilter::default();
            filter.add_query(parsed);
            out.push(Some(self.store.count_cases(&actor.org_id, &filter).await?));
        }
        Ok(out)
    }
}
