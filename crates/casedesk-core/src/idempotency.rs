//! `Idempotency-Key`: a retried POST returns what the first one created instead of creating it
//! again. The key is recorded in the same transaction as the record it created, so a crash can
//! never leave one without the other.

use casedesk_store::{IdempotencyRecord, StoreError};
use sha2::{Digest, Sha256};

use crate::{Actor, App, AppError, Result};

/// A client's key and the hash of the request it came with (method, path and body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemKey {
    pub key: String,
    pub request_hash: String,
}

impl IdemKey {
    /// Validates the header value: 1 to 255 visible ASCII characters.
    pub fn new(key: &str, request_hash: String) -> Result<Self> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::field("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
        }
        Ok(Self { key: key.to_string(), request_hash })
    }

    /// A key the server makes itself from texts of any length or alphabet (an address such as
    /// `zoë@example.com`, a transcript line): the label and a hash of the parts, so it is always
    /// a valid key however the parts are spelled.
    pub fn derived(label: &str, parts: &[&str], request_hash: &str) -> Self {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update([0u8]);
        }
        Self { key: format!("{label}:{}", hex::encode(&h.finalize()[..20])), request_hash: request_hash.to_string() }
    }
}

/// The result of a create: the record, and whether it is a replay of an earlier request.
#[derive(Debug, Clone)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

impl App {
    /// The earlier request with this key, if any. The same key with another request is an error:
    /// silently returning the first result would hide a client bug.
    pub(crate) async fn idem_previous(
        &self,
        actor: &Actor,
        key: Option<&IdemKey>,
    ) -> Result<Option<IdempotencyRecord>> {
        let Some(k) = key else { return Ok(None) };
        match self.store.get_idempotency(&actor.org_id, &actor.user_id, &k.key).await? {
            Some(rec) if rec.request_hash != k.request_hash => Err(AppError::IdempotencyMismatch),
            other => Ok(other),
        }
    }

    pub(crate) fn idem_record(
        &self,
        actor: &Actor,
        key: Option<&IdemKey>,
        resource_id: &str,
        status: u16,
    ) -> Option<IdempotencyRecord> {
        key.map(|k| IdempotencyRecord {
            org_id: actor.org_id.clone(),
            user_id: actor.user_id.clone(),
            key: k.key.clone(),
            request_hash: k.request_hash.clone(),
            resource_id: resource_id.to_string(),
            status_code: status,
            created_at: self.clock.now(),
        })
    }

    /// The record an earlier request with this key created (fetched with `get`), if there was one.
    pub(crate) async fn replay<T>(
        &self,
        actor: &Actor,
        key: Option<&IdemKey>,
        get: impl AsyncFnOnce(String) -> Result<T, StoreError>,
    ) -> Result<Option<Created<T>>> {
        match self.idem_previous(actor, key).await? {
            Some(prev) => Ok(Some(Created { value: get(prev.resource_id).await?, replayed: true })),
            None => Ok(None),
        }
    }

    /// Finishes a create from what the write answered. A duplicate-key failure caused by a
    /// concurrent request with the same key, which won the race, becomes a replay of its record.
    pub(crate) async fn settle_create<T>(
        &self,
        actor: &Actor,
        key: Option<&IdemKey>,
        written: Result<T, StoreError>,
        get: impl AsyncFnOnce(String) -> Result<T, StoreError>,
    ) -> Result<Created<T>> {
        match written {
            Ok(value) => Ok(Created { value, replayed: false }),
            Err(StoreError::Duplicate(m)) if key.is_some() => match self.idem_previous(actor, key).await? {
                Some(prev) => Ok(Created { value: get(prev.resource_id).await?, replayed: true }),
                None => Err(StoreError::Duplicate(m).into()),
            },
            Err(e) => Err(e.into()),
        }
    }
}
