//! The operator's use cases: first-start bootstrap and the `casedesk admin …` commands. They run
//! with the operator's authority (whoever can run the binary against the database), so they
//! take no [`Actor`](crate::Actor).

use casedesk_domain::ids::IdKind;
use casedesk_domain::people::User;
use casedesk_domain::policy::Role;
use casedesk_domain::text;
use casedesk_store::{ApiToken, Org};
use jiff::tz::TimeZone;

use crate::auth::{MIN_TOKEN_LEN, random_secret};
use crate::directory::{MIN_PASSWORD, UserInput};
use crate::org::DEFAULT_AUTO_CLOSE_DAYS;
use crate::{App, AppError, Result};

/// What a first start created, to print once.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub org: Org,
    pub admin: User,
    pub token: String,
    pub password: String,
}

/// Values an unattended install may fix in advance.
#[derive(Debug, Clone, Default)]
pub struct BootstrapOptions {
    pub token: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub org_name: Option<String>,
}

impl App {
    /// On an empty database, creates an organization, an admin user with a password and an API
    /// token. Returns `None` when an organization already exists (nothing is changed).
    pub async fn bootstrap(&self, opts: BootstrapOptions) -> Result<Option<Bootstrap>> {
        if self.store.count_orgs().await? > 0 {
            return Ok(None);
        }
        if let Some(t) = &opts.token
            && (t.len() < MIN_TOKEN_LEN || t.len() > 256 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(AppError::field(
                "CASEDESK_BOOTSTRAP_TOKEN",
                format!("must be {MIN_TOKEN_LEN} to 256 visible ASCII characters"),
            ));
        }
        let org = self.create_org(opts.org_name.as_deref().unwrap_or("casedesk"), "UTC").await?;
        let password = opts.password.unwrap_or_else(|| random_secret(20));
        let admin = self
            .create_user_in(
                &org.id,
                UserInput {
                    email: Some(opts.email.unwrap_or_else(|| "admin@localhost".into())),
                    name: Some("Administrator".into()),
                    role: Some(Role::Admin.as_str().into()),
                    password: Some(password.clone()),
                    ..Default::default()
                },
            )
            .await?;
        let (_, token) = self.issue_token(&org.id, &admin.id, "bootstrap", opts.token, None).await?;
        Ok(Some(Bootstrap { org, admin, token, password }))
    }

    pub async fn create_org(&self, name: &str, time_zone: &str) -> Result<Org> {
        let name = text::required_line(name, 200).map_err(|m| AppError::field("name", m))?;
        TimeZone::get(time_zone).map_err(|e| AppError::field("time_zone", format!("unknown time zone: {e}")))?;
        let now = self.clock.now();
        let org = Org {
            id: IdKind::Org.new_id(),
            name,
            status: "active".into(),
            time_zone: time_zone.to_string(),
            auto_close_days: DEFAULT_AUTO_CLOSE_DAYS,
            default_sla: false,
            working_day_minutes: casedesk_domain::time::DEFAULT_WORKING_DAY_MINUTES,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_org(&org).await?;
        Ok(org)
    }

    /// `casedesk admin create-user`: returns the user and the password (generated if not given).
    pub async fn admin_create_user(
        &self,
        org_id: &str,
        email: &str,
        name: Option<&str>,
        role: &str,
        password: Option<String>,
    ) -> Result<(User, String)> {
        self.store
            .get_org(org_id)
            .await
            .map_err(|_| AppError::field("org", format!("no such organization: {org_id}")))?;
        let password = password.unwrap_or_else(|| random_secret(20));
        if password.chars().count() < MIN_PASSWORD {
            return Err(AppError::field("password", format!("must have at least {MIN_PASSWORD} characters")));
        }
        let user = self
            .create_user_in(
                org_id,
                UserInput {
                    email: Some(email.into()),
                    name: name.map(Into::into),
                    role: Some(role.into()),
                    password: Some(password.clone()),
                    ..Default::default()
                },
            )
            .await?;
        Ok((user, password))
    }

    /// `casedesk admin set-org-status`: `active`, or `suspended` (no active subscription: the
    /// external-visitors API answers 403).
    pub async fn set_org_status(&self, org_id: &str, status: &str) -> Result<()> {
        let status = status.trim().to_ascii_lowercase();
        if status != "active" && status != "suspended" {
            return Err(AppError::field("status", "must be active or suspended"));
        }
        match self.store.set_org_status(org_id, &status, self.clock.now()).await {
            Err(casedesk_store::StoreError::NotFound) => {
                Err(AppError::field("org", format!("no such organization: {org_id}")))
            }
            other => Ok(other?),
        }
    }

    /// `casedesk admin create-token`: a token for any existing user.
    pub async fn admin_create_token(&self, user_id: &str, name: &str) -> Result<(ApiToken, String)> {
        let user = self
            .store
            .find_user(user_id)
            .await
            .map_err(|_| AppError::field("user", format!("no such user: {user_id}")))?;
        self.issue_token(&user.org_id, &user.id, name, None, None).await
    }
}
