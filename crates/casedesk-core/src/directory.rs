//! Use cases for the organization's directory: users and their tokens, accounts, contacts and
//! queues.

use casedesk_domain::ids::IdKind;
use casedesk_domain::people::{Account, AccountInput, Availability, Contact, ContactInput, User, phone_key};
use casedesk_domain::policy::{Action, Role};
use casedesk_domain::{Errors, text};
use casedesk_store::{ApiToken, ContactFilter, Page, PageRequest, RefKind, StoreError};
use jiff::Timestamp;

use crate::auth::hash_password;
use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Fields of a user to create or change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub availability: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    /// `Some(None)` removes the limit.
    pub max_open_cases: Option<Option<i64>>,
}

fn check_capacity(v: Option<i64>, errors: &mut Errors) -> Option<i64> {
    if v.is_some_and(|n| !(0..=100_000).contains(&n)) {
        errors.add("max_open_cases", "must be 0 to 100000, or null for no limit");
    }
    v
}

fn check_password(p: &str, errors: &mut Errors) {
    if p.chars().count() < MIN_PASSWORD || p.len() > 1024 {
        errors.add("password", format!("must have {MIN_PASSWORD} to 1024 characters"));
    }
}

/// Turns a duplicate-key failure into a 409 naming what is taken.
fn taken(e: StoreError, what: &'static str) -> AppError {
    match e {
        StoreError::Duplicate(_) => {
            AppError::Conflict { code: "duplicate", message: format!("{what} is already taken") }
        }
        other => other.into(),
    }
}

impl App {
    // ---- users ------------------------------------------------------------------------------

    /// Creates a user in the actor's organization (admins only).
    pub async fn create_user(&self, actor: &Actor, input: UserInput) -> Result<User> {
        actor.require(Action::ManageUsers, "manage users")?;
        self.create_user_in(&actor.org_id, input).await
    }

    /// Creates a user in `org_id` without a permission check (bootstrap and the admin CLI).
    pub async fn create_user_in(&self, org_id: &str, input: UserInput) -> Result<User> {
        let mut errors = Errors::new();
        let email = match &input.email {
            Some(e) => errors.take("email", text::email(e)),
            None => {
                errors.add("email", "is required");
                None
            }
        };
        let name = match &input.name {
            Some(n) => errors.take("name", text::required_line(n, 200)),
            None => email.clone(),
        };
        let role = match &input.role {
            Some(r) => errors.take("role", Role::parse(r)),
            None => Some(Role::Agent),
        };
        let availability = match &input.availability {
            Some(a) => errors.take("availability", Availability::parse(a)),
            None => Some(Availability::Available),
        };
        if let Some(p) = &input.password {
            check_password(p, &mut errors);
        }
        let max_open_cases = check_capacity(input.max_open_cases.flatten(), &mut errors);
        errors.finish()?;
        let (Some(email), Some(name), Some(role), Some(availability)) = (email, name, role, availability) else {
            return Err(AppError::Internal("validated user fields missing".into()));
        };
        let hash = input.password.as_deref().map(hash_password).transpose()?;
        let now = self.clock.now();
        let user = User {
            id: IdKind::User.new_id(),
            org_id: org_id.to_string(),
            email,
            name,
            role,
            availability,
            max_open_cases,
            is_active: input.is_active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_user(&user, hash.as_deref()).await.map_err(|e| taken(e, "that email"))?;
        Ok(user)
    }

    pub async fn get_user(&self, actor: &Actor, id: &str) -> Result<User> {
        actor.require(Action::ReadDirectory, "read users")?;
        Ok(self.store.get_user(&actor.org_id, id).await?)
    }

    pub async fn list_users(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>> {
        actor.require(Action::ReadDirectory, "read users")?;
        Ok(self.store.list_users(&actor.org_id, page).await?)
    }

    /// Admins change any user; an agent changes their own name, availability and password.
    pub async fn update_user(&self, actor: &Actor, id: &str, input: UserInput) -> Result<User> {
        let own = id == actor.user_id;
        let admin_only = input.email.is_some()
            || input.role.is_some()
            || input.is_active.is_some()
            || input.max_open_cases.is_some();
        if !own || admin_only {
            actor.require(Action::ManageUsers, "change other users, roles, emails or activation")?;
        }
        let mut user = self.store.get_user(&actor.org_id, id).await?;
        let before = user.clone();
        let mut errors = Errors::new();
        if let Some(e) = &input.email
            && let Some(e) = errors.take("email", text::email(e))
        {
            user.email = e;
        }
        if let Some(n) = &input.name
            && let Some(n) = errors.take("name", text::required_line(n, 200))
        {
            user.name = n;
        }
        if let Some(r) = &input.role
            && let Some(r) = errors.take("role", Role::parse(r))
        {
            if own && r != Role::Admin && user.role == Role::Admin {
                errors.add("role", "an admin cannot demote themselves; ask another admin");
            }
            user.role = r;
        }
        if let Some(a) = &input.availability
            && let Some(a) = errors.take("availability", Availability::parse(a))
        {
            user.availability = a;
        }
        if let Some(max) = input.max_open_cases {
            user.max_open_cases = check_capacity(max, &mut errors);
        }
        if let Some(active) = input.is_active {
            if own && !active {
                errors.add("is_active", "you cannot deactivate yourself");
            }
            user.is_active = active;
        }
        if let Some(p) = &input.password {
            check_password(p, &mut errors);
        }
        errors.finish()?;
        let hash = input.password.as_deref().map(hash_password).transpose()?;
        user.updated_at = self.clock.now();
        self.store.update_user(&user, hash.as_deref()).await.map_err(|e| taken(e, "that email"))?;
        // Back, reactivated or given more room: waiting cases may go to them now.
        let room = |u: &User| u.max_open_cases.unwrap_or(i64::MAX);
        let eligible_more = (user.availability == Availability::Available
            && before.availability != Availability::Available)
            || (user.is_active && !before.is_active)
            || room(&user) > room(&before);
        if eligible_more && user.is_active && user.availability == Availability::Available {
            self.backfill_for_agent(&actor.org_id, &user.id).await?;
        }
        Ok(user)
    }

    /// Deactivates a user: they can no longer sign in or use their tokens; their history stays.
    pub async fn deactivate_user(&self, actor: &Actor, id: &str) -> Result<User> {
        self.update_user(actor, id, UserInput { is_active: Some(false), ..Default::default() }).await
    }

    // ---- tokens -----------------------------------------------------------------------------

    /// Creates a token for the actor, or (admins) for another user of the organization. Returns
    /// the secret once.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        user_id: Option<&str>,
        expires_at: Option<Timestamp>,
    ) -> Result<(ApiToken, String)> {
        let user_id = user_id.unwrap_or(&actor.user_id);
        if user_id == actor.user_id {
            actor.require(Action::ManageOwnTokens, "create tokens")?;
        } else {
            actor.require(Action::ManageAllTokens, "create tokens for other users")?;
            if !self.store.exists(RefKind::User, &actor.org_id, user_id).await? {
                return Err(AppError::field("user_id", format!("no such user: {user_id}")));
            }
        }
        let mut errors = Errors::new();
        let name = errors.take("name", text::required_line(name, 200));
        if expires_at.is_some_and(|e| e <= self.clock.now()) {
            errors.add("expires_at", "must be in the future");
        }
        errors.finish()?;
        self.issue_token(&actor.org_id, user_id, &name.unwrap_or_default(), None, expires_at).await
    }

    /// Admins see every token of the organization; agents their own.
    pub async fn list_tokens(&self, actor: &Actor, page: &PageRequest) -> Result<Page<ApiToken>> {
        let mine = if actor.require(Action::ManageAllTokens, "").is_ok() { None } else { Some(actor.user_id.as_str()) };
        Ok(self.store.list_tokens(&actor.org_id, mine, page).await?)
    }

    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<ApiToken> {
        let token = self.store.get_token(&actor.org_id, id).await?;
        if token.user_id != actor.user_id {
            // Another user's token: 404 for agents, as if it did not exist.
            actor.require(Action::ManageAllTokens, "").map_err(|_| AppError::NotFound)?;
        }
        self.store.revoke_token(&actor.org_id, id, self.clock.now()).await?;
        Ok(self.store.get_token(&actor.org_id, id).await?)
    }

    // ---- accounts ---------------------------------------------------------------------------

    pub async fn create_account(
        &self,
        actor: &Actor,
        input: AccountInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<Account>> {
        actor.require(Action::WriteDirectory, "create accounts")?;
        let get = async |id: String| self.store.get_account(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        let now = self.clock.now();
        let blank = Account {
            id: IdKind::Account.new_id(),
            org_id: actor.org_id.clone(),
            name: String::new(),
            domain: None,
            tier: None,
            portal_shares_cases: false,
            created_at: now,
            updated_at: now,
        };
        let account = Account::apply(blank, input, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &account.id, 201);
        let written = self.store.insert_account(&account, rec.as_ref()).await.map(|()| account);
        let get = async |id: String| self.store.get_account(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn get_account(&self, actor: &Actor, id: &str) -> Result<Account> {
        actor.require(Action::ReadDirectory, "read accounts")?;
        Ok(self.store.get_account(&actor.org_id, id).await?)
    }

    pub async fn list_accounts(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Account>> {
        actor.require(Action::ReadDirectory, "read accounts")?;
        Ok(self.store.list_accounts(&actor.org_id, page).await?)
    }

    pub async fn update_account(&self, actor: &Actor, id: &str, input: AccountInput) -> Result<Account> {
        actor.require(Action::WriteDirectory, "change accounts")?;
        let current = self.store.get_account(&actor.org_id, id).await?;
        let mut next = Account::apply(current.clone(), input, false)?;
        if next != current {
            next.updated_at = self.clock.now();
            self.store.update_account(&next).await?;
        }
        Ok(next)
    }

    pub async fn delete_account(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::DeleteDirectoryEntry, "delete accounts")?;
        Ok(self.store.delete_account(&actor.org_id, id).await?)
    }

    // ---- contacts ---------------------------------------------------------------------------

    async fn check_account_ref(&self, org_id: &str, account_id: Option<&Option<String>>) -> Result<()> {
        if let Some(Some(a)) = account_id
            && (!IdKind::Account.matches(a) || !self.store.exists(RefKind::Account, org_id, a).await?)
        {
            return Err(AppError::field("account_id", format!("no such account: {a}")));
        }
        Ok(())
    }

    pub async fn create_contact(
        &self,
        actor: &Actor,
        input: ContactInput,
        idem: Option<IdemKey>,
    ) -> Result<Created<Contact>> {
        actor.require(Action::WriteDirectory, "create contacts")?;
        let get = async |id: String| self.store.get_contact(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        self.check_account_ref(&actor.org_id, input.account_id.as_ref()).await?;
        let now = self.clock.now();
        let blank = Contact {
            id: IdKind::Contact.new_id(),
            org_id: actor.org_id.clone(),
            account_id: None,
            name: String::new(),
            email: None,
            phone: None,
            external_id: None,
            created_at: now,
            updated_at: now,
        };
        let contact = Contact::apply(blank, input, true)?;
        let rec = self.idem_record(actor, idem.as_ref(), &contact.id, 201);
        let written = self.store.insert_contact(&contact, rec.as_ref()).await.map(|()| contact);
        let get = async |id: String| self.store.get_contact(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    /// The contact found by email, then by phone, or a new one.
    pub(crate) async fn find_or_create_contact(
        &self,
        actor: &Actor,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<Contact> {
        let page = PageRequest { limit: 1, ..PageRequest::default() };
        let filters = [
            email.clone().map(|e| ContactFilter { email: Some(e), ..Default::default() }),
            phone.clone().map(|p| ContactFilter { phone: Some(p), ..Default::default() }),
        ];
        for filter in filters.into_iter().flatten() {
            if let Some(c) = self.store.list_contacts(&actor.org_id, &filter, &page).await?.items.into_iter().next() {
                return Ok(c);
            }
        }
        let key_text = match (&email, &phone) {
            (Some(e), _) => e.to_lowercase(),
            (None, Some(p)) => phone_key(p).unwrap_or_default(),
            (None, None) => return Err(AppError::field("contact", "give an email or phone")),
        };
        let input = ContactInput {
            name: Some(name.or_else(|| email.clone()).or_else(|| phone.clone()).unwrap_or_default()),
            email: email.map(Some),
            phone: phone.map(Some),
            ..Default::default()
        };
        // Keyed by the address or number: two requests for a new customer at once make one contact.
        let key = IdemKey::derived("contact", &[&key_text], "contact");
        Ok(self.create_contact(actor, input, Some(key)).await?.value)
    }

    pub async fn get_contact(&self, actor: &Actor, id: &str) -> Result<Contact> {
        actor.require(Action::ReadDirectory, "read contacts")?;
        Ok(self.store.get_contact(&actor.org_id, id).await?)
    }

    pub async fn list_contacts(
        &self,
        actor: &Actor,
        filter: &ContactFilter,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        actor.require(Action::ReadDirectory, "read contacts")?;
        Ok(self.store.list_contacts(&actor.org_id, filter, page).await?)
    }

    pub async fn update_contact(&self, actor: &Actor, id: &str, input: ContactInput) -> Result<Contact> {
        actor.require(Action::WriteDirectory, "change contacts")?;
        self.check_account_ref(&actor.org_id, input.account_id.as_ref()).await?;
        let current = self.store.get_contact(&actor.org_id, id).await?;
        let mut next = Contact::apply(current.clone(), input, false)?;
        if next != current {
            next.updated_at = self.clock.now();
            self.store.update_contact(&next).await?;
        }
        Ok(next)
    }

    pub async fn delete_contact(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::DeleteDirectoryEntry, "delete contacts")?;
        Ok(self.store.delete_contact(&actor.org_id, id).await?)
    }
}
