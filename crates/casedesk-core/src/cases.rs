//! Case use cases: create, read, change, delete, list, comment, timeline, import.

use casedesk_domain::case::{self, Case, CasePatch, Ctx, DueInput, ImportTimes, NewCase};
use casedesk_domain::ids::IdKind;
use casedesk_domain::list::ListRequest;
use casedesk_domain::people::{Account, Contact};
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::{self, Comment, Event};
use casedesk_domain::{Errors, error::FieldError};
use casedesk_store::{CaseListItem, ImportedCase, Page, PageRequest, RefKind, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::idempotency::{Created, IdemKey};
use crate::{Actor, App, AppError, Result};

/// A case with what its detail page shows: account, contact and the whole comment thread.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: Case,
    pub account: Option<Account>,
    pub contact: Option<Contact>,
    pub comments: Vec<Comment>,
}

/// A historical case to import, as given.
#[derive(Debug, Clone)]
pub struct ImportCaseInput {
    pub case: NewCase,
    pub case_number: Option<i64>,
    pub times: ImportTimes,
    pub created_by: Option<String>,
    pub comments: Vec<ImportCommentInput>,
}

#[derive(Debug, Clone)]
pub struct ImportCommentInput {
    pub body: String,
    pub internal: bool,
    pub author_id: Option<String>,
    pub created_at: Timestamp,
}

/// Most cases in one import request.
pub const MAX_IMPORT: usize = 1000;
/// Most comments of one case read for the detail view; longer threads page through
/// `/comments`.
pub const DETAIL_COMMENTS: u32 = 1000;
const UPDATE_ATTEMPTS: usize = 5;

/// The references a case carries, each checked to exist in the caller's organization.
struct Refs<'a> {
    queue_id: Option<&'a str>,
    owner_id: Option<&'a str>,
    requester_id: Option<&'a str>,
    contact_id: Option<&'a str>,
    account_id: Option<&'a str>,
}

impl App {
    async fn org_time_zone(&self, org_id: &str) -> Result<TimeZone> {
        let org = self.store.get_org(org_id).await?;
        TimeZone::get(&org.time_zone)
            .map_err(|e| AppError::Internal(format!("organization time zone {}: {e}", org.time_zone)))
    }

    /// The time zone a due date needs: the organization's when a bare date is given (noon there),
    /// otherwise UTC, saving a read on the common path.
    async fn tz_for(&self, org_id: &str, due: Option<DueInput>) -> Result<TimeZone> {
        match due {
            Some(DueInput::Date(_)) => self.org_time_zone(org_id).await,
            _ => Ok(TimeZone::UTC),
        }
    }

    /// Checks that every referenced record exists in the actor's organization (in one query);
    /// names each field that does not.
    async fn check_refs(&self, org_id: &str, refs: Refs<'_>) -> Result<()> {
        let mut errors = Vec::new();
        let checks = [
            ("queue_id", refs.queue_id, Some(IdKind::Queue)),
            ("owner_id", refs.owner_id, Some(IdKind::User)),
            ("requester_id", refs.requester_id, None),
            ("contact_id", refs.contact_id, Some(IdKind::Contact)),
            ("account_id", refs.account_id, Some(IdKind::Account)),
        ];
        let mut lookups: Vec<(&str, RefKind, &str)> = Vec::new();
        for (field, id, kind) in checks {
            let Some(id) = id else { continue };
            // A requester is a user (an agent asking) or a contact (a customer).
            let kind = kind.or_else(|| [IdKind::User, IdKind::Contact].into_iter().find(|k| k.matches(id)));
            match kind.filter(|k| k.matches(id)) {
                Some(k) => lookups.push((field, ref_kind(k), id)),
                None => {
                    let what = match kind {
                        Some(k) => format!("an id starting with {}", k.prefix()),
                        None => "a user (usr_…) or contact (cnt_…) id".to_string(),
                    };
                    errors.push(FieldError::new(field, format!("must be {what}")));
                }
            }
        }
        let wanted: Vec<(RefKind, &str)> = lookups.iter().map(|(_, k, id)| (*k, *id)).collect();
        let found = self.store.exist_all(org_id, &wanted).await?;
        for ((field, _, id), ok) in lookups.iter().zip(found) {
            if !ok {
                errors.push(FieldError::new(*field, format!("no such record: {id}")));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
    }

    pub async fn create_case(&self, actor: &Actor, mut input: NewCase, idem: Option<IdemKey>) -> Result<Created<Case>> {
        actor.require(Action::WriteCases, "create cases")?;
        let get = async |id: String| self.store.get_case(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        self.check_refs(
            &actor.org_id,
            Refs {
                queue_id: input.queue_id.as_deref(),
                owner_id: input.owner_id.as_deref(),
                requester_id: input.requester_id.as_deref(),
                contact_id: input.contact_id.as_deref(),
                account_id: input.account_id.as_deref(),
            },
        )
        .await?;
        // A case about a contact belongs to the contact's account unless told otherwise.
        if input.account_id.is_none()
            && let Some(contact_id) = &input.contact_id
        {
            input.account_id = self.store.get_contact(&actor.org_id, contact_id).await?.account_id;
        }
        let tz = self.tz_for(&actor.org_id, input.due_at).await?;
        let ctx = Ctx { org_id: &actor.org_id, actor_id: &actor.user_id, now: self.clock.now(), tz: &tz };
        let case = Case::create(input, &ctx)?;
        let rec = self.idem_record(actor, idem.as_ref(), &case.id, 201);
        let written = self.store.create_case(&case, rec.as_ref()).await;
        let get = async |id: String| self.store.get_case(&actor.org_id, &id).await;
        self.settle_create(actor, idem.as_ref(), written, get).await
    }

    pub async fn get_case(&self, actor: &Actor, id: &str) -> Result<Case> {
        actor.require(Action::ReadCases, "read cases")?;
        Ok(self.store.get_case(&actor.org_id, id).await?)
    }

    pub async fn case_detail(&self, actor: &Actor, id: &str) -> Result<CaseDetail> {
        actor.require(Action::ReadCases, "read cases")?;
        let (case, account, contact) = self.store.get_case_with_refs(&actor.org_id, id).await?;
        let comments =
            self.store.list_comments(&actor.org_id, &case.id, &PageRequest::first(DETAIL_COMMENTS)).await?.items;
        Ok(CaseDetail { case, account, contact, comments })
    }

    /// Applies `patch`. With `if_match`, the case must still be at that version (else 412);
    /// without, a concurrent change is re-read and the patch applied on top of it.
    pub async fn update_case(&self, actor: &Actor, id: &str, patch: CasePatch, if_match: Option<i64>) -> Result<Case> {
        actor.require(Action::WriteCases, "update cases")?;
        self.check_refs(
            &actor.org_id,
            Refs {
                queue_id: patch.queue_id.as_ref().and_then(|v| v.as_deref()),
                owner_id: patch.owner_id.as_ref().and_then(|v| v.as_deref()),
                requester_id: patch.requester_id.as_deref(),
                contact_id: patch.contact_id.as_ref().and_then(|v| v.as_deref()),
                account_id: patch.account_id.as_ref().and_then(|v| v.as_deref()),
            },
        )
        .await?;
        let tz = self.tz_for(&actor.org_id, patch.due_at.flatten()).await?;
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.store.get_case_for_update(&actor.org_id, id).await?;
            if if_match.is_some_and(|v| v != current.version) {
                return Err(AppError::PreconditionFailed);
            }
            let now = self.clock.now();
            let ctx = Ctx { org_id: &actor.org_id, actor_id: &actor.user_id, now, tz: &tz };
            let (next, changes) = current.apply(patch.clone(), &ctx)?;
            if changes.is_empty() {
                return Ok(current);
            }
            let events = timeline::changes(&changes, now);
            match self.store.update_case(&next, current.version, &events, &actor.user_id).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Stale) if if_match.is_some() => {
                    return Err(AppError::PreconditionFailed);
                }
                Err(StoreError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }

    pub async fn delete_case(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::DeleteCase, "delete cases")?;
        let case = self.store.get_case(&actor.org_id, id).await?;
        self.store.soft_delete_case(&case, self.clock.now(), &actor.user_id).await?;
        Ok(())
    }

    pub async fn list_cases(&self, actor: &Actor, req: &ListRequest) -> Result<Page<CaseListItem>> {
        actor.require(Action::ReadCases, "read cases")?;
        Ok(self.store.list_cases(&actor.org_id, req).await?)
    }

    pub async fn add_comment(
        &self,
        actor: &Actor,
        case_id: &str,
        body: &str,
        internal: bool,
        idem: Option<IdemKey>,
    ) -> Result<Created<Comment>> {
        actor.require(Action::WriteCases, "comment on cases")?;
        let get = async |id: String| self.store.get_comment(&actor.org_id, &id).await;
        if let Some(replayed) = self.replay(actor, idem.as_ref(), get).await? {
            return Ok(replayed);
        }
        for _ in 0..UPDATE_ATTEMPTS {
            let case = self.store.get_case_for_update(&actor.org_id, case_id).await?;
            let comment = Comment::new(&actor.org_id, &case, &actor.user_id, body, internal, self.clock.now())?;
            let next = timeline::case_after_comment(&case, &comment, &actor.user_id);
            let rec = self.idem_record(actor, idem.as_ref(), &comment.id, 201);
            match self.store.add_comment(&comment, &next, case.version, rec.as_ref()).await {
                Ok(()) => {
                    return Ok(Created { value: comment, replayed: false });
                }
                Err(StoreError::Stale) => continue,
                Err(e @ StoreError::Duplicate(_)) => {
                    let get = async |id: String| self.store.get_comment(&actor.org_id, &id).await;
                    return self.settle_create(actor, idem.as_ref(), Err(e), get).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale.into())
    }

    pub async fn list_comments(&self, actor: &Actor, case_id: &str, page: &PageRequest) -> Result<Page<Comment>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_comments(&actor.org_id, &case.id, page).await?)
    }

    pub async fn timeline(&self, actor: &Actor, case_id: &str, page: &PageRequest) -> Result<Page<Event>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_events(&actor.org_id, &case.id, page).await?)
    }

    /// Imports historical cases: all of them or, if any is invalid, none (422 naming
    /// `cases[i].field`).
    pub async fn import_cases(
        &self,
        actor: &Actor,
        inputs: Vec<ImportCaseInput>,
        idem: Option<IdemKey>,
    ) -> Result<Created<Vec<ImportedRef>>> {
        actor.require(Action::ImportCases, "import cases")?;
        if inputs.is_empty() || inputs.len() > MAX_IMPORT {
            return Err(AppError::field("cases", format!("must hold 1 to {MAX_IMPORT} cases")));
        }
        if let Some(prev) = self.idem_previous(actor, idem.as_ref()).await? {
            return Ok(Created { value: parse_import_record(&prev.resource_id)?, replayed: true });
        }
        let tz = self.org_time_zone(&actor.org_id).await?;
        let now = self.clock.now();
        let mut out = Vec::with_capacity(inputs.len());
        let mut errors = Errors::new();
        let mut numbers = std::collections::HashSet::new();
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = format!("cases[{i}]");
            let refs = Refs {
                queue_id: input.case.queue_id.as_deref(),
                owner_id: input.case.owner_id.as_deref(),
                requester_id: input.case.requester_id.as_deref(),
                contact_id: input.case.contact_id.as_deref(),
                account_id: input.case.account_id.as_deref(),
            };
            if let Err(e) = self.check_refs(&actor.org_id, refs).await {
                push_prefixed(&mut errors, &prefix, e)?;
                continue;
            }
            let created_by = input.created_by.clone().unwrap_or_else(|| actor.user_id.clone());
            let ctx = Ctx { org_id: &actor.org_id, actor_id: &created_by, now, tz: &tz };
            let mut case = match case::import(input.case, input.times, &ctx) {
                Ok(c) => c,
                Err(e) => {
                    push_prefixed(&mut errors, &prefix, e.into())?;
                    continue;
                }
            };
            if let Some(n) = input.case_number {
                if n < 1 || !numbers.insert(n) {
                    errors.add(format!("{prefix}.case_number"), "must be a positive number, unique in the import");
                }
                case.case_number = n;
            }
            let mut comments = Vec::with_capacity(input.comments.len());
            for (j, c) in input.comments.into_iter().enumerate() {
                let author = c.author_id.unwrap_or_else(|| created_by.clone());
                match Comment::historical(&actor.org_id, &case.id, &author, &c.body, c.internal, c.created_at) {
                    Ok(comment) => comments.push(comment),
                    Err(e) => push_prefixed(&mut errors, &format!("{prefix}.comments[{j}]"), e.into())?,
                }
            }
            out.push(ImportedCase { case, comments });
        }
        errors.finish()?;
        // The store fills the record's resource_id with the numbered cases it created.
        let rec = self.idem_record(actor, idem.as_ref(), "", 201);
        match self.store.import_cases(&actor.org_id, &out, &actor.user_id, rec.as_ref()).await {
            Ok(cases) => Ok(Created {
                value: cases.into_iter().map(|c| ImportedRef { id: c.id, case_number: c.case_number }).collect(),
                replayed: false,
            }),
            Err(StoreError::Duplicate(_)) => Err(AppError::Conflict {
                code: "case_number_taken",
                message: "a kept case_number is already used in this organization, or the import was already done"
                    .into(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

fn ref_kind(k: IdKind) -> RefKind {
    match k {
        IdKind::Queue => RefKind::Queue,
        IdKind::Contact => RefKind::Contact,
        IdKind::Account => RefKind::Account,
        IdKind::Case => RefKind::Case,
        _ => RefKind::User,
    }
}

/// What an import created, case by case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRef {
    pub id: String,
    pub case_number: i64,
}

/// Reads the `id:number,…` list an import's idempotency record keeps.
fn parse_import_record(s: &str) -> Result<Vec<ImportedRef>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (id, n) = p.split_once(':').ok_or_else(|| AppError::Internal(format!("bad import record {p:?}")))?;
            let case_number = n.parse().map_err(|_| AppError::Internal(format!("bad import record {p:?}")))?;
            Ok(ImportedRef { id: id.to_string(), case_number })
        })
        .collect()
}

/// Files a nested validation error under `prefix` (`cases[3].subject`); other errors abort.
fn push_prefixed(errors: &mut Errors, prefix: &str, e: AppError) -> Result<()> {
    match e {
        AppError::Validation(fields) => {
            for f in fields {
                errors.add(format!("{prefix}.{}", f.field), f.message);
            }
            Ok(())
        }
        other => Err(other),
    }
}
