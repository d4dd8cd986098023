//! Web sign-in: email and password to a session, the session back to an [`Actor`], sign-out,
//! password change, and throttling of failed attempts.
//!
//! A session is a random secret the browser keeps in a cookie; the database keeps its SHA-256,
//! so several instances share sessions and a leaked database signs nobody in. The CSRF token of
//! a session is derived from the secret ([`csrf_token`]) and never stored. Failed attempts are
//! rows in the database, counted per email and per client address by the pure
//! [`Throttle`](casedesk_domain::session::Throttle) rules.

use std::sync::OnceLock;

use casedesk_domain::people::User;
use casedesk_domain::session::{self, Failures, SessionRules, Throttle};
use casedesk_store::UiSession;
use jiff::SignedDuration;
use sha2::{Digest, Sha256};

use crate::auth::{hash_password, random_secret, token_hash, verify_password};
use crate::directory::UserInput;
use crate::{Actor, App, AppError, Result};

/// Session lifetime and sign-in throttling, as configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInPolicy {
    pub session: SessionRules,
    pub throttle: Throttle,
}

/// The answer to a sign-in attempt.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the cookie's secret (shown to this browser only) and who it is.
    Session { secret: String, user: User },
    /// Wrong email or password (the same answer for both).
    Refused,
    /// Too many failures: try again after this long.
    Throttled { retry_after: SignedDuration },
}

/// The signed-in user of a request, with their session's secret hash (to end it).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub user: User,
    pub session_id: String,
}

/// How stale `last_seen_at` may get before a request writes it again: keeps a page view a read,
/// at the price of the idle timeout being this much less exact.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// Length of a session secret: 43 alphanumerics, about 256 bits.
const SECRET_LEN: usize = 43;

/// The CSRF token of the session whose cookie holds `secret`: a hash an attacker cannot compute
/// without the cookie, checked on every state-changing request.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("casedesk-csrf:{secret}").as_bytes()))
}

/// A hash to verify against when the email is unknown, so a wrong email takes as long as a
/// wrong password and does not tell which accounts exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_secret(20)).unwrap_or_default())
}

impl App {
    /// Checks `email` and `password`, throttled per email and per `client` address.
    pub async fn sign_in(&self, email: &str, password: &str, client: &str, policy: &SignInPolicy) -> Result<SignIn> {
        let now = self.clock.now();
        let email = email.trim().to_lowercase();
        let keys = [session::email_key(&email), session::address_key(client)];
        let since = policy.throttle.since(now);
        let mut counted = [Failures::default(); 2];
        for (key, out) in keys.iter().zip(counted.iter_mut()) {
            let (count, oldest) = self.store.sign_in_failures(key, since).await?;
            *out = Failures { count, oldest };
        }
        if let Some(retry_after) = policy.throttle.wait(counted[0], counted[1], now) {
            tracing::info!(client.address = client, "sign-in throttled");
            return Ok(SignIn::Throttled { retry_after });
        }
        let found =
            if email.is_empty() || password.len() > 1024 { None } else { self.store.user_credentials(&email).await? };
        let ok = match &found {
            Some((user, Some(hash))) => user.is_active && verify_password(password, hash),
            _ => {
                verify_password(password, dummy_hash());
                false
            }
        };
        let Some((user, _)) = found.filter(|_| ok) else {
            self.store.record_sign_in_failure(&keys, now).await?;
            return Ok(SignIn::Refused);
        };
        self.store.clear_sign_in_failures(&keys[0]).await?;
        self.store.purge_sign_in_state(now, since).await?;
        let secret = random_secret(SECRET_LEN);
        let s = UiSession {
            id_hash: token_hash(&secret),
            org_id: user.org_id.clone(),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: policy.session.expires_at(now),
        };
        self.store.insert_session(&s).await?;
        tracing::info!(user.id = %user.id, org.id = %user.org_id, "signed in");
        Ok(SignIn::Session { secret, user })
    }

    /// The user a session cookie stands for. Unknown, expired or idle sessions and deactivated
    /// users are all a 401.
    pub async fn session(&self, secret: &str, rules: &SessionRules) -> Result<SignedIn> {
        if secret.is_empty() || secret.len() > 128 {
            return Err(AppError::Unauthorized);
        }
        let id = token_hash(secret);
        let Some((s, user)) = self.store.find_session(&id).await? else {
            return Err(AppError::Unauthorized);
        };
        let now = self.clock.now();
        if !rules.is_live(s.expires_at, s.last_seen_at, now) || !user.is_active {
            self.store.delete_session(&id).await?;
            return Err(AppError::Unauthorized);
        }
        if now.duration_since(s.last_seen_at) > TOUCH_EVERY {
            self.store.touch_session(&id, now).await?;
        }
        let actor = Actor { org_id: user.org_id.clone(), user_id: user.id.clone(), role: user.role };
        Ok(SignedIn { actor, user, session_id: id })
    }

    /// Ends the session whose cookie holds `secret` (nothing if there is none).
    pub async fn sign_out(&self, secret: &str) -> Result<()> {
        Ok(self.store.delete_session(&token_hash(secret)).await?)
    }

    /// Changes the signed-in user's password after checking the current one, and ends their
    /// other sessions (a stolen cookie stops working with the old password).
    pub async fn change_password(&self, who: &SignedIn, current: &str, new: &str) -> Result<()> {
        let hash = self.store.password_hash(&who.actor.org_id, &who.actor.user_id).await?;
        if !hash.is_some_and(|h| verify_password(current, &h)) {
            return Err(AppError::field("current_password", "is not your current password"));
        }
        let input = UserInput { password: Some(new.to_string()), ..UserInput::default() };
        self.update_user(&who.actor, &who.actor.user_id, input).await?;
        let ended = self.store.delete_other_sessions(&who.actor.org_id, &who.actor.user_id, &who.session_id).await?;
        tracing::info!(user.id = %who.actor.user_id, sessions.ended = ended, "password changed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_follow_the_session_and_reveal_nothing_of_it() {
        let a = csrf_token("secret-a");
        assert_eq!(a, csrf_token("secret-a"));
        assert_ne!(a, csrf_token("secret-b"));
        assert!(!a.contains("secret-a"));
        assert_ne!(a, token_hash("secret-a"), "not the stored session id");
    }
}
