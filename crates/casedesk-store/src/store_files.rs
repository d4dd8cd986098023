//! [`Store`] methods for files on cases.

use casedesk_domain::file::CaseFile;
use casedesk_domain::timeline::NewEvent;

#[allow(unused_imports)] // The backends named by `dispatch!`.
use crate::{Backend, postgres, sqlite};
use crate::{Result, Store};

impl Store {
    /// Records a file whose bytes are stored, with its timeline entry.
    pub async fn insert_file(&self, f: &CaseFile, event: &NewEvent) -> Result<()> {
        dispatch!(self, write, insert_file(f, event))
    }

    /// A case's files, oldest first.
    pub async fn list_files(&self, org_id: &str, case_id: &str) -> Result<Vec<CaseFile>> {
        dispatch!(self, read, list_files(org_id, case_id))
    }

    /// A file of a case that is not deleted.
    pub async fn get_file(&self, org_id: &str, id: &str) -> Result<CaseFile> {
        dispatch!(self, read, get_file(org_id, id))
    }

    /// Removes a file's record with its timeline entry (the bytes go with the next blob sweep
    /// if no other file has them).
    pub async fn delete_file(&self, f: &CaseFile, actor_id: &str, event: &NewEvent) -> Result<()> {
        dispatch!(self, write, delete_file(f, actor_id, event))
    }

    /// Whether any file, in any organization, has this content. Asked on the writer so that a
    /// file recorded a moment ago is seen.
    pub async fn blob_in_use(&self, sha256: &str) -> Result<bool> {
        dispatch!(self, write, blob_in_use(sha256))
    }
}
