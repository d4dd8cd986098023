//! The external-visitors API (seed 002): a host application, authenticated with its own API
//! token for the organization, reads the cases of one of its visitors, whom it names with a
//! token signed by one of the organization's signing keys.
//!
//! A visitor is every contact of the organization whose `external_id` is the token's visitor
//! id; their cases are the cases of those contacts. The checks run in the order of the
//! answers' precedence: the caller's access to the organization and its subscription (403),
//! then the visitor token (400), then whether the visitor exists (404).

use casedesk_domain::case::Case;
use casedesk_domain::jwt;
use casedesk_domain::list::{CaseFilter, ListRequest, Ordering};
use casedesk_domain::people::Contact;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::Comment;
use casedesk_store::{CaseListItem, Page, WorkflowSummary};

use crate::{Actor, App, AppError, Result};

/// Customer-facing comments shown with a visitor's case.
pub const VISITOR_COMMENTS: u32 = 200;
/// The subscription status that lets an organization's visitors read their cases.
pub const ACTIVE: &str = "active";

/// One of a visitor's cases, with its contact and customer-facing comments.
#[derive(Debug, Clone)]
pub struct VisitorCase {
    pub case: Case,
    pub contact: Option<Contact>,
    pub workflow: WorkflowSummary,
    /// Oldest first; never internal notes.
    pub comments: Vec<Comment>,
}

impl App {
    /// The visitor id `token` carries, once the caller may read `org_id`'s visitors and the
    /// token verifies; 404 when no contact has that id.
    async fn visitor(&self, actor: &Actor, org_id: &str, token: &str) -> Result<String> {
        if actor.org_id != org_id {
            return Err(AppError::Denied {
                code: "organization_access_denied",
                message: "your token does not give access to this organization".into(),
            });
        }
        actor.require(Action::ReadCases, "read cases")?;
        let org = self.store.get_org(org_id).await?;
        if org.status != ACTIVE {
            return Err(AppError::Denied {
                code: "subscription_inactive",
                message: format!("the organization has no active subscription (status {})", org.status),
            });
        }
        let header = jwt::header(token).map_err(|e| AppError::InvalidToken(e.to_string()))?;
        let key = self.verifying_key(org_id, &header).await?;
        let claims = jwt::verify(token, &key, self.clock.now()).map_err(|e| AppError::InvalidToken(e.to_string()))?;
        if !self.store.visitor_exists(org_id, &claims.external_id).await? {
            return Err(AppError::NotFound);
        }
        Ok(claims.external_id)
    }

    /// The cases of every contact assigned to the visitor, in `ordering` (creation or update
    /// time, either way), a page at a time.
    pub async fn visitor_cases(
        &self,
        actor: &Actor,
        org_id: &str,
        token: &str,
        ordering: Ordering,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<CaseListItem>> {
        let external_id = self.visitor(actor, org_id, token).await?;
        let filter = CaseFilter { contact_external_id: Some(external_id), ..Default::default() };
        Ok(self.store.list_cases(org_id, &ListRequest { filter, ordering, limit, cursor }).await?)
    }

    /// One of the visitor's cases; another contact's case answers 404 like a missing one.
    pub async fn visitor_case(&self, actor: &Actor, org_id: &str, token: &str, case_id: &str) -> Result<VisitorCase> {
        let external_id = self.visitor(actor, org_id, token).await?;
        let (case, _, contact, workflow) = self.store.get_case_with_refs(org_id, case_id).await?;
        if contact.as_ref().and_then(|c| c.external_id.as_deref()) != Some(external_id.as_str()) {
            return Err(AppError::NotFound);
        }
        let comments = self.store.public_comments(org_id, &case.id, VISITOR_COMMENTS).await?;
        Ok(VisitorCase { case, contact, workflow, comments })
    }
}
