//! Credentials: argon2 password hashes and API tokens (random secrets stored as SHA-256).
//!
//! Tokens are 32 random bytes, so a fast hash is enough to make a stolen database useless for
//! logging in, and lets every request find its token by an indexed lookup. Passwords are
//! low-entropy and get argon2.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash};
use casedesk_store::ApiToken;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::{Actor, App, AppError, Result};

/// Prefix that makes a leaked casedesk token recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "cdk_";
/// Shortest secret accepted as a bootstrap token.
pub const MIN_TOKEN_LEN: usize = 16;

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A new random secret of `len` alphanumeric characters.
pub fn random_secret(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

pub fn new_token_secret() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret(43))
}

pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What a list shows of a secret: enough to tell tokens apart, too little to use.
pub fn token_display_prefix(secret: &str) -> String {
    secret.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

/// How stale `last_used_at` may get before a request refreshes it; keeps authentication a
/// pure read on the hot path.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

impl App {
    /// The actor a bearer token stands for. Unknown, revoked or expired tokens and deactivated
    /// users all answer the same 401.
    pub async fn authenticate(&self, secret: &str) -> Result<Actor> {
        if secret.is_empty() || secret.len() > 256 {
            return Err(AppError::Unauthorized);
        }
        let Some((token, user)) = self.store.find_token(&token_hash(secret)).await? else {
            return Err(AppError::Unauthorized);
        };
        let now = self.clock.now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) || !user.is_active {
            return Err(AppError::Unauthorized);
        }
        if token.last_used_at.is_none_or(|t| now.duration_since(t) > TOUCH_EVERY) {
            let store = self.store.clone();
            let id = token.id.clone();
            // Bookkeeping only: a failure here must not fail the request.
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&id, now).await {
                    tracing::warn!(token.id = %id, error = %e, "could not record token use");
                }
            });
        }
        Ok(Actor { org_id: user.org_id, user_id: user.id, role: user.role })
    }

    /// Stores a token for `user_id` with the given secret (or a new one); returns its metadata
    /// and the secret, which is shown once and never again.
    pub(crate) async fn issue_token(
        &self,
        org_id: &str,
        user_id: &str,
        name: &str,
        secret: Option<String>,
        expires_at: Option<Timestamp>,
    ) -> Result<(ApiToken, String)> {
        let secret = secret.unwrap_or_else(new_token_secret);
        let token = ApiToken {
            id: casedesk_domain::ids::IdKind::Token.new_id(),
            org_id: org_id.to_string(),
            user_id: user_id.to_string(),
            name: name.to_string(),
            prefix: token_display_prefix(&secret),
            created_at: self.clock.now(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        self.store.insert_token(&token, &token_hash(&secret)).await?;
        Ok((token, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn token_secrets_are_random_and_hashed() {
        let a = new_token_secret();
        let b = new_token_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_display_prefix(&a).len(), 10);
    }
}
