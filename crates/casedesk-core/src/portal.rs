//! The customer portal's use cases: a requester signs in by a one-time link mailed to their
//! address (or arrives from the host application with a visitor token), then sees their cases
//! and opens, answers, closes and rates them.
//!
//! A sign-in link's token lives only in the queued message; the database keeps its SHA-256,
//! redeems it once (one `UPDATE`) and forgets it when it expires. Asking for a link answers the
//! same whether or not the address is known. A portal session is a random secret in its own
//! cookie, stored hashed like an agent's, and stands for a [`Requester`]: the contacts with that
//! address or visitor id, whose [`Scope`] is read on every request, so a contact moved to
//! another account, or an account that stops sharing, takes effect at once.
//!
//! What a requester does goes through the same use cases as the agent's side, acting as their
//! contact the way a mailed reply does: a reply is a customer comment, by the same call as a
//! mailed reply (the case waits on an agent again while it is active, and the SLA's
//! next-response clock starts; a closed case takes none), and a rating is a CSAT answer under
//! the survey's rules. Files sent with a new case or a reply are received before the case or
//! comment exists and stored only once the whole form is accepted; a requester sees the files on
//! customer-facing comments and those their contacts sent, never the agents' own. Each address
//! may ask for [`portal::LINK_REQUESTS`] sign-in links at most.

use casedesk_domain::case::{Case, CasePatch, Channel, NewCase, Status};
use casedesk_domain::csat::{Answer, Survey};
use casedesk_domain::email::{Direction, EmailMessage, EmailState, MailSettings};
use casedesk_domain::ids::IdKind;
use casedesk_domain::jwt;
use casedesk_domain::policy::Role;
use casedesk_domain::portal::{self, Requester, Scope};
use casedesk_domain::profile::Category;
use casedesk_domain::session::{Failures, SessionRules};
use casedesk_domain::text;
use casedesk_domain::timeline::{AuthorType, Comment};
use casedesk_store::{PortalLink, PortalSession, StoreError};
use jiff::SignedDuration;
use serde_json::{Map, Value};

use casedesk_domain::file::{CaseFile, MAX_ATTACHMENTS};

use crate::auth::{random_secret, token_hash};
use crate::blobs::BlobReader;
use crate::cases::CommentInput;
use crate::csat::{SurveyOf, SurveyPage};
use crate::files::Upload;
use crate::visitors::{ACTIVE, VISITOR_COMMENTS};
use crate::{Actor, App, AppError, Result};

/// The path a sign-in link opens, under the public URL.
pub fn link_path(token: &str) -> String {
    format!("/portal/link/{token}")
}

/// Most cases the portal lists (most recently updated first).
pub const PORTAL_CASES: u32 = 200;
/// Length of link tokens and session secrets: 43 alphanumerics, about 256 bits.
const SECRET_LEN: usize = 43;
/// How stale `last_seen_at` may get before a request writes it again.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// A signed-in requester.
#[derive(Debug, Clone)]
pub struct PortalUser {
    pub org_id: String,
    pub org_name: String,
    pub requester: Requester,
    pub scope: Scope,
    /// The hash of the session's secret (to end it).
    pub session_id: String,
}

impl PortalUser {
    /// The requester's first contact, as the actor of what they do: the same standing as a
    /// contact whose mailed reply is taken in.
    fn actor(&self) -> Result<Actor> {
        let contact = self.scope.contact_id().ok_or(AppError::Unauthorized)?;
        Ok(Actor { org_id: self.org_id.clone(), user_id: contact.to_string(), role: Role::Admin })
    }

    /// Who they are, for the page header.
    pub fn label(&self) -> &str {
        match &self.requester {
            Requester::Email(e) => e,
            Requester::Visitor(x) => x,
        }
    }
}

/// One of the requester's cases as the portal shows it.
#[derive(Debug, Clone)]
pub struct PortalCase {
    pub case: Case,
    /// Customer-facing comments only, oldest first.
    pub comments: Vec<Comment>,
    /// The latest satisfaction survey of the case, with whether it takes answers.
    pub survey: Option<SurveyPage>,
    /// The files the requester may see (see [`App::portal_files`]), oldest first.
    pub files: Vec<CaseFile>,
}

/// A file a requester sends with a new case or a reply: its bytes already received (and held
/// to the size limit) by an [`Upload`] from [`App::begin_portal_upload`], with the name and type
/// the browser gave it. Dropped unused, it leaves nothing behind.
pub struct PortalFile {
    pub upload: Upload,
    pub name: String,
    pub declared_type: Option<String>,
}

/// A new case as the portal's form gives it.
#[derive(Debug, Clone, Default)]
pub struct PortalCaseInput {
    pub subject: String,
    pub description: String,
    pub category_id: Option<String>,
    pub custom_fields: Map<String, Value>,
}

/// The text of a sign-in message.
fn link_message(org_name: &str, url: &str) -> String {
    format!(
        "Hello,\n\nsomeone (hopefully you) asked to sign in to the {org_name} support portal.\n\n\
         Open this link to sign in — it works once, for {} minutes:\n\n{url}\n\n\
         If you did not ask for it, ignore this message: nobody can sign in without the link.\n",
        portal::LINK_LIFETIME.as_mins()
    )
}

impl App {
    /// Mails a one-time sign-in link to `email` in every organization that has a contact with
    /// that address and can send mail. Answers the same whether or not there is one (422 only
    /// for something that is not an address), so the form tells nobody who is a customer; and
    /// the same once the address has asked for [`portal::LINK_REQUESTS`] links lately, but then
    /// mails nothing. Requests are counted with the agent sign-in's failures, under a key of
    /// their own.
    pub async fn request_portal_link(&self, email: &str) -> Result<()> {
        let email = text::email(email).map_err(|m| AppError::field("email", m))?;
        let now = self.clock.now();
        self.store.purge_portal_state(now).await?;
        // Counted per address whether or not it is a contact's: the limit tells nobody either.
        let key = portal::link_request_key(&email);
        let (count, oldest) = self.store.sign_in_failures(&key, portal::LINK_REQUESTS.since(now)).await?;
        if !portal::may_mail_link(Failures { count, oldest }, now) {
            tracing::info!("portal sign-in link not sent: too many asked for this address lately");
            return Ok(());
        }
        self.store.record_sign_in_failure(&[key], now).await?;
        let base = self.public_url.trim_end_matches('/');
        for org_id in self.store.orgs_of_contact_email(&email).await? {
            let Some(settings) = self.store.get_mail_settings(&org_id).await?.filter(MailSettings::can_send) else {
                tracing::info!(org.id = %org_id, "portal sign-in link not sent: no outgoing mail server");
                continue;
            };
            let org = self.store.get_org(&org_id).await?;
            let token = random_secret(SECRET_LEN);
            let link = PortalLink {
                token_hash: token_hash(&token),
                org_id: org_id.clone(),
                email: email.clone(),
                created_at: now,
                expires_at: portal::link_expires_at(now),
                used_at: None,
            };
            let from_address = settings.from_address.clone().unwrap_or_default();
            let domain = from_address.rsplit_once('@').map_or("casedesk.invalid", |(_, d)| d).to_string();
            let id = IdKind::Email.new_id();
            let message = EmailMessage {
                direction: Direction::Out,
                message_id: format!("casedesk.portal-{}@{domain}", id.trim_start_matches("eml_")),
                from_address,
                from_name: settings.from_name.clone(),
                to: vec![email.clone()],
                subject: format!("Sign in to {}", org.name),
                body: Some(link_message(&org.name, &format!("{base}{}", link_path(&token)))),
                raw_sha256: None,
                state: EmailState::Queued,
                next_attempt_at: Some(now),
                ..EmailMessage::received(id, &org_id, String::new(), 0, now)
            };
            self.store.insert_portal_link(&link, &message).await?;
            tracing::info!(org.id = %org_id, email.id = %message.id, "portal sign-in link queued");
        }
        Ok(())
    }

    /// Signs in with a mailed link: once, before it expires (401 otherwise). Answers the new
    /// session's secret, for the cookie.
    pub async fn redeem_portal_link(&self, token: &str, rules: &SessionRules) -> Result<String> {
        if token.is_empty() || token.len() > 128 {
            return Err(AppError::Unauthorized);
        }
        let now = self.clock.now();
        let link = self.store.redeem_portal_link(&token_hash(token), now).await?.ok_or(AppError::Unauthorized)?;
        debug_assert!(!portal::link_usable(link.expires_at, link.used_at, now));
        self.start_portal_session(&link.org_id, Requester::Email(link.email), rules).await
    }

    /// Signs in a visitor of the host application with a token signed by one of `org_id`'s
    /// signing keys (the external-visitors API's tokens): 400 for a token that does not verify,
    /// 403 for an organization without an active subscription, 404 for an unknown visitor.
    pub async fn portal_visitor_sign_in(&self, org_id: &str, token: &str, rules: &SessionRules) -> Result<String> {
        let org = self.store.get_org(org_id).await?;
        if org.status != ACTIVE {
            return Err(AppError::Denied {
                code: "subscription_inactive",
                message: "this organization's portal is not available".into(),
            });
        }
        let header = jwt::header(token).map_err(|e| AppError::InvalidToken(e.to_string()))?;
        let key = self.verifying_key(org_id, &header).await?;
        let claims = jwt::verify(token, &key, self.clock.now()).map_err(|e| AppError::InvalidToken(e.to_string()))?;
        if !self.store.visitor_exists(org_id, &claims.external_id).await? {
            return Err(AppError::NotFound);
        }
        self.start_portal_session(org_id, Requester::Visitor(claims.external_id), rules).await
    }

    async fn start_portal_session(&self, org_id: &str, requester: Requester, rules: &SessionRules) -> Result<String> {
        let now = self.clock.now();
        let secret = random_secret(SECRET_LEN);
        let s = PortalSession {
            id_hash: token_hash(&secret),
            org_id: org_id.to_string(),
            requester,
            created_at: now,
            last_seen_at: now,
            expires_at: rules.expires_at(now),
        };
        self.store.insert_portal_session(&s).await?;
        tracing::info!(org.id = %org_id, "portal sign-in");
        Ok(secret)
    }

    /// The requester a portal cookie stands for; unknown, expired or idle sessions, and
    /// requesters with no contact left, are a 401.
    pub async fn portal_session(&self, secret: &str, rules: &SessionRules) -> Result<PortalUser> {
        if secret.is_empty() || secret.len() > 128 {
            return Err(AppError::Unauthorized);
        }
        let id = token_hash(secret);
        let Some(s) = self.store.find_portal_session(&id).await? else { return Err(AppError::Unauthorized) };
        let now = self.clock.now();
        let scope = self.store.portal_scope(&s.org_id, &s.requester).await?;
        if !rules.is_live(s.expires_at, s.last_seen_at, now) || scope.contact_ids.is_empty() {
            self.store.delete_portal_session(&id).await?;
            return Err(AppError::Unauthorized);
        }
        if now.duration_since(s.last_seen_at) > TOUCH_EVERY {
            self.store.touch_portal_session(&id, now).await?;
        }
        let org = self.store.get_org(&s.org_id).await?;
        Ok(PortalUser { org_id: s.org_id, org_name: org.name, requester: s.requester, scope, session_id: id })
    }

    pub async fn portal_sign_out(&self, user: &PortalUser) -> Result<()> {
        Ok(self.store.delete_portal_session(&user.session_id).await?)
    }

    /// The requester's cases (theirs, and their shared accounts'), most recently updated first.
    pub async fn portal_cases(&self, user: &PortalUser) -> Result<Vec<Case>> {
        Ok(self.store.portal_cases(&user.org_id, &user.scope, PORTAL_CASES).await?)
    }

    /// A case the requester may see; any other answers 404 like a missing one.
    async fn portal_visible(&self, user: &PortalUser, case_id: &str) -> Result<Case> {
        let case = match self.store.get_case(&user.org_id, case_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if user.scope.can_see(&case) { Ok(case) } else { Err(AppError::NotFound) }
    }

    /// A case with its customer-facing thread and latest survey.
    pub async fn portal_case(&self, user: &PortalUser, case_id: &str) -> Result<PortalCase> {
        let case = self.portal_visible(user, case_id).await?;
        let comments = self.store.public_comments(&user.org_id, &case.id, VISITOR_COMMENTS).await?;
        let survey = match self.latest_survey(&case).await? {
            Some(s) => Some(self.survey_page_of(s).await?),
            None => None,
        };
        let files = Self::portal_files_of(self.store.list_files(&user.org_id, &case.id).await?, &comments);
        Ok(PortalCase { case, comments, survey, files })
    }

    async fn latest_survey(&self, case: &Case) -> Result<Option<Survey>> {
        Ok(self.store.list_surveys(&case.org_id, &case.id).await?.pop())
    }

    /// The organization's case categories, for the new-case form.
    pub async fn portal_categories(&self, user: &PortalUser) -> Result<Vec<Category>> {
        Ok(self.store.list_categories(&user.org_id).await?)
    }

    /// Starts receiving a file from the requester, before the case it goes with is known.
    pub async fn begin_portal_upload(&self, user: &PortalUser) -> Result<Upload> {
        self.begin_detached_upload(&user.actor()?.user_id).await
    }

    /// Checks the requester's files (count, names, types against their content) before
    /// anything is written, so a refused file leaves no case or comment behind.
    fn check_portal_files(files: &[PortalFile]) -> Result<()> {
        if files.len() > MAX_ATTACHMENTS {
            return Err(AppError::field("file", format!("at most {MAX_ATTACHMENTS} files at once")));
        }
        for f in files {
            f.upload.check(&f.name, f.declared_type.as_deref())?;
        }
        Ok(())
    }

    /// Stores the requester's files on `case` (each on its timeline as any upload).
    async fn store_portal_files(&self, case: &Case, files: Vec<PortalFile>) -> Result<Vec<CaseFile>> {
        let mut stored = Vec::with_capacity(files.len());
        for f in files {
            stored.push(self.finish_upload_to(f.upload, case.clone(), &f.name, f.declared_type.as_deref()).await?);
        }
        Ok(stored)
    }

    /// Opens a case for the requester's contact, from the web channel, with the files sent
    /// with it (checked first: a refused file opens no case).
    pub async fn portal_create_case(
        &self,
        user: &PortalUser,
        input: PortalCaseInput,
        files: Vec<PortalFile>,
    ) -> Result<Case> {
        let actor = user.actor()?;
        if let Some(id) = &input.category_id
            && !self.portal_categories(user).await?.iter().any(|c| &c.id == id)
        {
            return Err(AppError::field("category_id", "no such category"));
        }
        Self::check_portal_files(&files)?;
        let new = NewCase {
            subject: input.subject,
            description: input.description,
            channel: Some(Channel::Web),
            requester_id: Some(actor.user_id.clone()),
            contact_id: Some(actor.user_id.clone()),
            category_id: input.category_id,
            custom_fields: input.custom_fields,
            ..NewCase::default()
        };
        let case = self.create_case(&actor, new, None).await?.value;
        self.store_portal_files(&case, files).await?;
        Ok(case)
    }

    /// A reply from the requester: a customer comment, as if they had answered by email (409
    /// on a closed case, which takes no more comments), with the files sent with it attached.
    /// The comment and the files are checked before any is stored.
    pub async fn portal_reply(
        &self,
        user: &PortalUser,
        case_id: &str,
        body: &str,
        files: Vec<PortalFile>,
    ) -> Result<Comment> {
        let case = self.portal_visible(user, case_id).await?;
        let actor = user.actor()?;
        Comment::new(&actor.org_id, &case, &actor.user_id, body, false, AuthorType::Customer, self.clock.now())?;
        Self::check_portal_files(&files)?;
        let ids: Vec<String> = self.store_portal_files(&case, files).await?.into_iter().map(|f| f.id).collect();
        let input = CommentInput {
            body,
            internal: false,
            author_type: AuthorType::Customer,
            file_ids: &ids,
            reply_channel: None,
        };
        Ok(self.add_comment(&actor, &case.id, input, None).await?.value)
    }

    /// The files of a case the requester may see: those attached to a customer-facing comment
    /// (`public`), and those a contact sent that are on no comment (with a new case from the
    /// portal). An agent's file on no comment, or on an internal note, is the agents' own.
    fn portal_files_of(all: Vec<CaseFile>, public: &[Comment]) -> Vec<CaseFile> {
        let contact = casedesk_domain::ids::IdKind::Contact.prefix();
        all.into_iter()
            .filter(|f| match &f.comment_id {
                Some(c) => public.iter().any(|p| &p.id == c),
                None => f.uploaded_by.starts_with(contact),
            })
            .collect()
    }

    /// A file the requester may see, with its content; any other is a 404 like a missing one.
    pub async fn portal_download(
        &self,
        user: &PortalUser,
        case_id: &str,
        file_id: &str,
    ) -> Result<(CaseFile, BlobReader)> {
        let pc = self.portal_case(user, case_id).await?;
        let f = pc.files.into_iter().find(|f| f.id == file_id).ok_or(AppError::NotFound)?;
        let blob = self
            .files
            .blobs
            .open(&f.sha256)
            .await
            .map_err(|e| AppError::Internal(format!("reading file {}: {e}", f.id)))?;
        Ok((f, blob))
    }

    /// Closes the requester's case (409 if it already is).
    pub async fn portal_close(&self, user: &PortalUser, case_id: &str) -> Result<Case> {
        let case = self.portal_visible(user, case_id).await?;
        let patch = CasePatch { status: Some(Status::Closed), ..CasePatch::default() };
        self.update_case(&user.actor()?, &case.id, patch, None).await
    }

    /// Rates a resolved case: answers its latest survey under the survey's rules (409 when it
    /// is closed, 404 when the case has none).
    pub async fn portal_rate(&self, user: &PortalUser, case_id: &str, answer: Answer) -> Result<SurveyPage> {
        let case = self.portal_visible(user, case_id).await?;
        self.answer_survey_of(SurveyOf::LatestOf(&case), answer).await
    }
}
