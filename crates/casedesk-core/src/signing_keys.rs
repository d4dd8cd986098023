//! Signing keys of visitor tokens: admins add, list and revoke them; the visitors API selects
//! one by a token's `kid` and opens it for verification.
//!
//! HS256 secrets are sealed with the server's sealing key (`--signing-key-secret`) before they
//! are stored, and shown in clear once, in the answer that created them. A server started
//! without a sealing key refuses new HS256 keys (Ed25519 keys need no secret at rest).

use casedesk_domain::ids::IdKind;
use casedesk_domain::jwt::{self, VerifyingKey};
use casedesk_domain::policy::Action;
use casedesk_domain::signing_key::{self, KeyAlg, NewMaterial, SealingKey, SigningKey, SigningKeyInput};
use casedesk_store::{Page, PageRequest, StoreError};

use crate::{Actor, App, AppError, Result};

/// A key just added, with its HS256 secret in clear (the only time it is shown).
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: SigningKey,
    pub secret: Option<String>,
}

impl App {
    /// Gives the app the key HS256 secrets are sealed with.
    pub fn with_sealing_key(mut self, key: SealingKey) -> Self {
        self.sealing = Some(key);
        self
    }

    /// Adds a signing key (admins). Its kid must be new in the organization (409 otherwise).
    pub async fn create_signing_key(&self, actor: &Actor, input: SigningKeyInput) -> Result<CreatedKey> {
        actor.require(Action::ManageSigningKeys, "manage signing keys")?;
        let new = input.validate()?;
        let id = IdKind::SigningKey.new_id();
        let (alg, key_data, secret) = match new.material {
            NewMaterial::Hs256(given) => {
                let sealing = self.sealing.as_ref().ok_or_else(|| {
                    AppError::field(
                        "alg",
                        "this server has no signing-key secret configured (--signing-key-secret), so it \
                         cannot keep HS256 secrets; add an EdDSA public key instead",
                    )
                })?;
                let secret = given.unwrap_or_else(|| signing_key::new_secret(&mut rand::rng()));
                let sealed = sealing
                    .seal(rand::random(), &signing_key::binding(&actor.org_id, &id), &secret)
                    .map_err(|e| AppError::Internal(format!("sealing a signing key: {e}")))?;
                (KeyAlg::Hs256, sealed, Some(secret))
            }
            NewMaterial::Ed25519(public) => (KeyAlg::EdDsa, signing_key::encode_public(&public), None),
        };
        let key = SigningKey {
            kid: new.kid.unwrap_or_else(|| id.clone()),
            id,
            org_id: actor.org_id.clone(),
            alg,
            key_data,
            description: new.description,
            created_by: actor.user_id.clone(),
            created_at: self.clock.now(),
            revoked_at: None,
        };
        match self.store.insert_signing_key(&key).await {
            Err(StoreError::Duplicate(_)) => {
                return Err(AppError::Conflict {
                    code: "duplicate_kid",
                    message: format!(
                        "the organization already has a key with kid {:?}; kids are never reused",
                        key.kid
                    ),
                });
            }
            other => other?,
        }
        tracing::info!(signing_key.id = %key.id, org.id = %key.org_id, alg = key.alg.as_str(), "signing key added");
        Ok(CreatedKey { key, secret })
    }

    pub async fn list_signing_keys(&self, actor: &Actor, page: &PageRequest) -> Result<Page<SigningKey>> {
        actor.require(Action::ManageSigningKeys, "manage signing keys")?;
        Ok(self.store.list_signing_keys(&actor.org_id, page).await?)
    }

    pub async fn get_signing_key(&self, actor: &Actor, id: &str) -> Result<SigningKey> {
        actor.require(Action::ManageSigningKeys, "manage signing keys")?;
        Ok(self.store.get_signing_key(&actor.org_id, id).await?)
    }

    /// Revokes a key: tokens naming it stop verifying at once. Revoking twice changes nothing.
    pub async fn revoke_signing_key(&self, actor: &Actor, id: &str) -> Result<SigningKey> {
        actor.require(Action::ManageSigningKeys, "manage signing keys")?;
        let key = self.store.revoke_signing_key(&actor.org_id, id, self.clock.now()).await?;
        tracing::info!(signing_key.id = %key.id, org.id = %key.org_id, "signing key revoked");
        Ok(key)
    }

    /// The key a token's header selects in the organization, opened to verify with: a 400 when
    /// there is none or it is revoked.
    pub(crate) async fn verifying_key(&self, org_id: &str, header: &jwt::Header) -> Result<VerifyingKey> {
        let found = self.store.find_signing_key(org_id, &header.kid).await?;
        let key = jwt::select(header, found.as_ref()).map_err(|e| AppError::InvalidToken(e.to_string()))?;
        match key.alg {
            KeyAlg::EdDsa => signing_key::decode_public(&key.key_data)
                .map(VerifyingKey::Ed25519)
                .ok_or_else(|| AppError::Internal(format!("signing key {} holds no Ed25519 public key", key.id))),
            KeyAlg::Hs256 => {
                // A server that lost or changed its sealing key cannot open the secrets sealed
                // under the old one: an operator's mistake to report, not the caller's.
                let secret = self
                    .sealing
                    .as_ref()
                    .and_then(|s| s.open(&signing_key::binding(org_id, &key.id), &key.key_data))
                    .ok_or_else(|| {
                        AppError::Internal(format!(
                            "HS256 signing key {} cannot be opened: is --signing-key-secret the one it was added under?",
                            key.id
                        ))
                    })?;
                Ok(VerifyingKey::Hs256(secret))
            }
        }
    }
}
