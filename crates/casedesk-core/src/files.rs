//! Files on cases: upload (streamed, size-limited, hashed, type-checked), list, download, delete,
//! and the sweep that removes contents no file uses any more.

use std::sync::Arc;
use std::time::Duration;

use casedesk_domain::case::{CASE_CLOSED, Case};
use casedesk_domain::file::{self, CaseFile, SNIFF_BYTES};
use casedesk_domain::ids::IdKind;
use casedesk_domain::policy::Action;
use casedesk_domain::timeline::NewEvent;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::blobs::{BlobReader, BlobStore, BlobWriter};
use crate::{Actor, App, AppError, Result};

pub const FILE_ADDED: &str = "file.added";
pub const FILE_DELETED: &str = "file.deleted";

/// How long a content must have gone unused, and a partial upload untouched, before the sweep
/// removes it.
pub const SWEEP_GRACE: Duration = Duration::from_secs(3600);

/// Where files go and how large they may be.
#[derive(Clone)]
pub struct Files {
    pub blobs: Arc<dyn BlobStore>,
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
}

/// An upload in progress: the bytes go to the blob store as they arrive, hashed and counted.
/// Dropping it (a refused or cut-off upload) leaves nothing behind.
pub struct Upload {
    /// The case it goes to; `None` for a file sent with a case not opened yet (the portal's
    /// new-case form), named when the upload is finished.
    case: Option<Case>,
    uploaded_by: String,
    writer: Box<dyn BlobWriter>,
    hasher: Sha256,
    size: u64,
    max_bytes: u64,
    head: Vec<u8>,
}

impl Upload {
    /// Adds the next bytes; past the size limit the upload is refused (413).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            return Err(AppError::TooLarge { limit: self.max_bytes });
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.writer.write(chunk).await.map_err(|e| io_error("writing a file", &e))
    }
}

impl Upload {
    /// The file's clean name and its content type, checked against the content so far (a field
    /// error on `file`): lets a caller refuse a bad file before it writes anything else.
    pub fn check(&self, name: &str, declared_type: Option<&str>) -> Result<(String, String)> {
        let name = file::clean_name(name).map_err(|m| AppError::field("file", m))?;
        let content_type = file::content_type(declared_type, &self.head).map_err(|m| AppError::field("file", m))?;
        Ok((name, content_type))
    }
}

fn io_error(doing: &str, e: &std::io::Error) -> AppError {
    AppError::Internal(format!("{doing}: {e}"))
}

fn file_event(kind: &'static str, f: &CaseFile, now: jiff::Timestamp) -> NewEvent {
    NewEvent {
        kind,
        data: json!({ "file_id": f.id, "name": f.name, "content_type": f.content_type, "size": f.size }),
        created_at: now,
    }
}

/// What a sweep of the blob store did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Contents no file used any more, removed.
    pub removed: u64,
    /// Partial uploads left by a crash, removed.
    pub partials: u64,
}

impl App {
    /// Starts an upload to a case: checks the caller may and the case takes files before any
    /// byte is stored.
    pub async fn begin_upload(&self, actor: &Actor, case_id: &str) -> Result<Upload> {
        actor.require(Action::WriteCases, "add files to cases")?;
        let case = self.store.get_case(&actor.org_id, case_id).await?;
        if case.is_closed() {
            return Err(AppError::Conflict {
                code: CASE_CLOSED,
                message: format!("case #{} is closed: a closed case takes no more files", case.case_number),
            });
        }
        let writer = self.files.blobs.create().await.map_err(|e| io_error("starting a file", &e))?;
        Ok(Upload {
            case: Some(case),
            uploaded_by: actor.user_id.clone(),
            writer,
            hasher: Sha256::new(),
            size: 0,
            max_bytes: self.files.max_bytes,
            head: Vec::new(),
        })
    }

    /// Starts an upload for a case that does not exist yet, by `uploaded_by`: its bytes are
    /// stored and checked as they arrive, and [`App::finish_upload_to`] names the case.
    pub(crate) async fn begin_detached_upload(&self, uploaded_by: &str) -> Result<Upload> {
        let writer = self.files.blobs.create().await.map_err(|e| io_error("starting a file", &e))?;
        Ok(Upload {
            case: None,
            uploaded_by: uploaded_by.to_string(),
            writer,
            hasher: Sha256::new(),
            size: 0,
            max_bytes: self.files.max_bytes,
            head: Vec::new(),
        })
    }

    /// Completes an upload: checks its name and declared type against the content, publishes the
    /// content and records the file on the case's timeline. Field errors name `file`.
    pub async fn finish_upload(&self, upload: Upload, name: &str, declared_type: Option<&str>) -> Result<CaseFile> {
        let case = upload.case.clone().ok_or_else(|| AppError::Internal("an upload finished without a case".into()))?;
        self.finish_upload_to(upload, case, name, declared_type).await
    }

    /// Completes an upload to `case` (see [`App::finish_upload`]).
    pub(crate) async fn finish_upload_to(
        &self,
        upload: Upload,
        case: Case,
        name: &str,
        declared_type: Option<&str>,
    ) -> Result<CaseFile> {
        let (name, content_type) = upload.check(name, declared_type)?;
        let Upload { uploaded_by, writer, hasher, size, .. } = upload;
        let sha256 = hex::encode(hasher.finalize());
        let pending = writer.publish(sha256.clone()).await.map_err(|e| io_error("storing a file", &e))?;
        let now = self.clock.now();
        let f = CaseFile {
            id: IdKind::File.new_id(),
            org_id: case.org_id.clone(),
            case_id: case.id.clone(),
            comment_id: None,
            name,
            content_type,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            sha256,
            uploaded_by,
            created_at: now,
        };
        match self.store.insert_file(&f, &file_event(FILE_ADDED, &f, now)).await {
            Ok(()) => {
                pending.settle().await.map_err(|e| io_error("settling a stored file", &e))?;
                Ok(f)
            }
            Err(e) => {
                if let Err(io) = pending.abandon().await {
                    tracing::warn!(error = %io, "could not drop the private copy of a refused file");
                }
                Err(e.into())
            }
        }
    }

    pub async fn list_files(&self, actor: &Actor, case_id: &str) -> Result<Vec<CaseFile>> {
        let case = self.get_case(actor, case_id).await?;
        Ok(self.store.list_files(&actor.org_id, &case.id).await?)
    }

    /// A file of the case, with its content.
    pub async fn download_file(&self, actor: &Actor, case_id: &str, file_id: &str) -> Result<(CaseFile, BlobReader)> {
        let f = self.case_file(actor, case_id, file_id).await?;
        let blob =
            self.files.blobs.open(&f.sha256).await.map_err(|e| io_error(&format!("reading file {}", f.id), &e))?;
        Ok((f, blob))
    }

    pub async fn case_file(&self, actor: &Actor, case_id: &str, file_id: &str) -> Result<CaseFile> {
        let f = self.store.get_file(&actor.org_id, file_id).await?;
        if f.case_id != case_id {
            return Err(AppError::NotFound);
        }
        Ok(f)
    }

    /// Deletes a file (on the timeline). A comment it was attached to no longer lists it.
    pub async fn delete_file(&self, actor: &Actor, case_id: &str, file_id: &str) -> Result<()> {
        actor.require(Action::WriteCases, "delete files")?;
        let f = self.case_file(actor, case_id, file_id).await?;
        let event = file_event(FILE_DELETED, &f, self.clock.now());
        Ok(self.store.delete_file(&f, &actor.user_id, &event).await?)
    }

    /// Files of `case_id` named by a new comment: each must exist on that case and not be
    /// attached to another comment yet (422 on `file_ids[i]`).
    pub(crate) async fn attachable(&self, org_id: &str, case_id: &str, ids: &[String]) -> Result<Vec<CaseFile>> {
        if ids.len() > file::MAX_ATTACHMENTS {
            return Err(AppError::field("file_ids", format!("at most {} files per comment", file::MAX_ATTACHMENTS)));
        }
        let mut errors = casedesk_domain::Errors::new();
        let mut files = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let field = format!("file_ids[{i}]");
            match self.store.get_file(org_id, id).await {
                Ok(f) if f.case_id != case_id => {
                    errors.add(field.clone(), format!("file {id} belongs to another case"))
                }
                Ok(f) if f.comment_id.is_some() => {
                    errors.add(field.clone(), format!("file {id} is attached to a comment already"))
                }
                Ok(f) if files.iter().any(|g: &CaseFile| g.id == f.id) => errors.add(field.clone(), "named twice"),
                Ok(f) => files.push(f),
                Err(casedesk_store::StoreError::NotFound) => errors.add(field.clone(), format!("no such file: {id}")),
                Err(e) => return Err(e.into()),
            }
        }
        errors.finish()?;
        Ok(files)
    }

    /// Removes contents that no file has used for at least `grace`, and partial uploads older
    /// than that. Safe to run on several instances at once and beside uploads of the same content.
    pub async fn sweep_blobs(&self, grace: Duration) -> Result<SweepReport> {
        let blobs = &self.files.blobs;
        let partials = blobs.tidy(grace).await.map_err(|e| io_error("tidying the file store", &e))?;
        let mut removed = 0;
        for sha in blobs.published_before(grace).await.map_err(|e| io_error("listing stored files", &e))? {
            if self.store.blob_in_use(&sha).await? {
                continue;
            }
            // Out of reach first, then the decisive check: an upload of the same content that
            // commits after this check puts its own copy back when it settles.
            let Some(retired) = blobs.retire(&sha).await.map_err(|e| io_error("retiring a stored file", &e))? else {
                continue;
            };
            let in_use = match self.store.blob_in_use(&sha).await {
                Ok(used) => used,
                Err(e) => {
                    retired.restore().await.map_err(|e| io_error("restoring a stored file", &e))?;
                    return Err(e.into());
                }
            };
            if in_use {
                retired.restore().await.map_err(|e| io_error("restoring a stored file", &e))?;
            } else {
                retired.purge().await.map_err(|e| io_error("removing a stored file", &e))?;
                removed += 1;
            }
        }
        Ok(SweepReport { removed, partials })
    }
}
