//! Changing whom a case is for. Agents name the customer by email address, as they know them: a
//! known address picks its contact and a new one becomes a contact. The case's contact follows
//! the requester, and so does its account when the new contact belongs to one (a contact without
//! an account leaves the case's account as it was: it may be set by hand).

use casedesk_domain::case::{Case, CasePatch};
use casedesk_domain::{Errors, text};

use crate::{Actor, App, AppError, Result};

/// The customer a case is to be for: an address, and a name for a contact it makes.
#[derive(Debug, Clone, Default)]
pub struct RequesterInput {
    pub email: String,
    pub name: Option<String>,
}

impl App {
    /// Makes the contact with `input.email` (found, or new) the case's requester and contact.
    /// `if_match` is the case version the caller saw.
    pub async fn change_requester(
        &self,
        actor: &Actor,
        case_id: &str,
        input: RequesterInput,
        if_match: Option<i64>,
    ) -> Result<Case> {
        let mut errors = Errors::new();
        let email = errors.take("email", text::email(&input.email));
        let name = input.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        errors.finish()?;
        let email = email.unwrap_or_default();
        // Read first: a case the caller cannot see, a closed one or a stale page make no contact.
        let current = self.get_case(actor, case_id).await?;
        current.ensure_open()?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(AppError::PreconditionFailed);
        }
        let contact = self.find_or_create_contact(actor, name, Some(email), None).await?;
        let patch = CasePatch {
            requester_id: (current.requester_id != contact.id).then(|| contact.id.clone()),
            contact_id: (current.contact_id.as_deref() != Some(&contact.id)).then(|| Some(contact.id.clone())),
            account_id: contact.account_id.clone().filter(|a| current.account_id.as_ref() != Some(a)).map(Some),
            ..CasePatch::default()
        };
        if patch.is_empty() {
            return Ok(current);
        }
        self.update_case(actor, &current.id, patch, if_match).await
    }
}
