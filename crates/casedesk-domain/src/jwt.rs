//! Visitor tokens: compact JWS tokens (RFC 7515/7519) a host application signs with one of its
//! organization's signing keys to say "this request is for the visitor with external id X".
//!
//! Verification is written out here instead of taken from a JWT crate: only two algorithms are
//! accepted, each tied to the key's own type, and the checks are few enough to read in one place
//! (HMAC-SHA256 on the `hmac`/`sha2` the tree already has; Ed25519 on `ed25519-dalek`).
//!
//! The rules, in the order they are applied:
//! 1. three base64url parts, at most [`MAX_TOKEN`] bytes; the header names `alg` and `kid`, and
//!    no `crit` extension;
//! 2. `alg` is `HS256` or `EdDSA` (`Ed25519`) — never `none` — and must be the algorithm of the
//!    key `kid` selects: an HS256 token is never checked against an Ed25519 key or the reverse;
//! 3. the signature verifies (HMAC compared in constant time; Ed25519 strictly);
//! 4. only then are the claims read: `exp` is required, must be in the future and at most
//!    [`MAX_LIFETIME`] ahead; `nbf` and `iat`, when present, must not be in the future; each
//!    with [`LEEWAY`] for clock skew between the host and casedesk;
//! 5. the visitor is the `external_id` claim, or `sub` when there is none.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sha2::Sha256;

use crate::signing_key::{KeyAlg, SigningKey};

/// Longest token accepted.
pub const MAX_TOKEN: usize = 8 * 1024;
/// How far ahead `exp` may be: a visitor token is short-lived by design, so a leaked one is
/// useful for a day at most.
pub const MAX_LIFETIME: SignedDuration = SignedDuration::from_hours(24);
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY: SignedDuration = SignedDuration::from_secs(60);
const MAX_EXTERNAL_ID: usize = 255;

/// Why a token was refused. Every variant is a 400 for the API, with this text as its detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's alg {0:?} is not accepted; use HS256 or EdDSA")]
    UnsupportedAlg(String),
    #[error("no signing key of the organization has the token's kid")]
    UnknownKey,
    #[error("the token's signing key was revoked")]
    RevokedKey,
    #[error("the token's alg {token} does not match its key's alg {key}")]
    AlgMismatch { token: &'static str, key: &'static str },
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has no exp claim; it is required")]
    MissingExp,
    #[error("the token has expired")]
    Expired,
    #[error("the token's exp is more than 24 hours ahead")]
    TooLong,
    #[error("the token is not valid yet (nbf or iat is in the future)")]
    NotYetValid,
    #[error("the token names no visitor: give external_id or sub as a non-empty string")]
    NoSubject,
}

/// What a token's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: KeyAlg,
    pub kid: String,
}

/// The key a token is checked against, opened from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    Hs256(Vec<u8>),
    Ed25519([u8; 32]),
}

impl VerifyingKey {
    fn alg(&self) -> KeyAlg {
        match self {
            VerifyingKey::Hs256(_) => KeyAlg::Hs256,
            VerifyingKey::Ed25519(_) => KeyAlg::EdDsa,
        }
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The visitor's id in the host application.
    pub external_id: String,
    pub expires_at: Timestamp,
}

fn parts(token: &str) -> Result<[&str; 3], JwtError> {
    if token.len() > MAX_TOKEN {
        return Err(JwtError::Malformed("longer than 8 KiB"));
    }
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(JwtError::Malformed("expected three dot-separated parts")),
    }
}

fn decode_json(part: &str, what: &'static str) -> Result<serde_json::Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed(what)),
    }
}

/// Reads the header: which key (`kid`) and algorithm the token claims. Nothing is trusted yet.
pub fn header(token: &str) -> Result<Header, JwtError> {
    let [h, _, _] = parts(token)?;
    let header = decode_json(h, "the header is not base64url JSON")?;
    if header.contains_key("crit") {
        return Err(JwtError::Malformed("the header has crit extensions, which are not supported"));
    }
    let alg = header.get("alg").and_then(Value::as_str).ok_or(JwtError::Malformed("the header has no alg"))?;
    let alg = KeyAlg::parse(alg).map_err(|_| JwtError::UnsupportedAlg(alg.chars().take(20).collect()))?;
    let kid = match header.get("kid").and_then(Value::as_str) {
        Some(k) if !k.is_empty() && k.len() <= 128 => k.to_string(),
        _ => return Err(JwtError::Malformed("the header has no kid")),
    };
    Ok(Header { alg, kid })
}

/// The key a token's header selects, from what the organization's keys gave for its `kid`:
/// refused when there is none (or another kid's, which a lookup must never give) or it is
/// revoked — a revoked key stops its tokens at once.
pub fn select<'k>(header: &Header, found: Option<&'k SigningKey>) -> Result<&'k SigningKey, JwtError> {
    match found {
        Some(k) if k.kid != header.kid => Err(JwtError::UnknownKey),
        Some(k) if k.revoked_at.is_some() => Err(JwtError::RevokedKey),
        Some(k) => Ok(k),
        None => Err(JwtError::UnknownKey),
    }
}

/// Verifies `token` against `key` (the one its header's `kid` selected) at `now`.
pub fn verify(token: &str, key: &VerifyingKey, now: Timestamp) -> Result<Claims, JwtError> {
    let head = header(token)?;
    if head.alg != key.alg() {
        return Err(JwtError::AlgMismatch { token: head.alg.as_str(), key: key.alg().as_str() });
    }
    let [h, p, s] = parts(token)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed("the signature is not base64url"))?;
    let signed = &token[..h.len() + 1 + p.len()];
    match key {
        VerifyingKey::Hs256(secret) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| JwtError::BadSignature)?;
            mac.update(signed.as_bytes());
            mac.verify_slice(&signature).map_err(|_| JwtError::BadSignature)?;
        }
        VerifyingKey::Ed25519(public) => {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| JwtError::BadSignature)?;
            let sig = <[u8; 64]>::try_from(signature.as_slice()).map_err(|_| JwtError::BadSignature)?;
            vk.verify_strict(signed.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
                .map_err(|_| JwtError::BadSignature)?;
        }
    }
    let claims = decode_json(p, "the payload is not base64url JSON")?;
    let time = |name: &str| -> Result<Option<Timestamp>, JwtError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|s| s.is_finite())
                .and_then(|s| Timestamp::from_second(s.floor() as i64).ok())
                .map(Some)
                .ok_or(JwtError::Malformed("exp, nbf and iat must be NumericDate (seconds since 1970)")),
        }
    };
    let exp = time("exp")?.ok_or(JwtError::MissingExp)?;
    // Differences, not sums: a far-off `exp` cannot overflow them.
    if now.duration_since(exp) >= LEEWAY {
        return Err(JwtError::Expired);
    }
    if exp.duration_since(now) > MAX_LIFETIME + LEEWAY {
        return Err(JwtError::TooLong);
    }
    for name in ["nbf", "iat"] {
        if time(name)?.is_some_and(|t| t.duration_since(now) > LEEWAY) {
            return Err(JwtError::NotYetValid);
        }
    }
    let subject = ["external_id", "sub"].iter().find_map(|c| claims.get(*c));
    let external_id = match subject.and_then(Value::as_str).map(str::trim) {
        Some(s) if !s.is_empty() && s.len() <= MAX_EXTERNAL_ID => s.to_string(),
        _ => return Err(JwtError::NoSubject),
    };
    Ok(Claims { external_id, expires_at: exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    /// RFC 8037 A.1's private key.
    const RFC_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
        let signed = format!("{}.{}", b64(header), b64(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    fn ed_key() -> ed25519_dalek::SigningKey {
        let d: [u8; 32] = URL_SAFE_NO_PAD.decode(RFC_D).unwrap().try_into().unwrap();
        ed25519_dalek::SigningKey::from_bytes(&d)
    }

    fn eddsa(header: &Value, claims: &Value) -> String {
        use ed25519_dalek::Signer;
        let signed = format!("{}.{}", b64(header), b64(claims));
        let sig = ed_key().sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn claims(exp_in: i64) -> Value {
        json!({"sub": "visitor-1", "exp": now().as_second() + exp_in, "iat": now().as_second()})
    }

    fn hs_key() -> VerifyingKey {
        VerifyingKey::Hs256(SECRET.to_vec())
    }

    fn ed_public() -> VerifyingKey {
        VerifyingKey::Ed25519(ed_key().verifying_key().to_bytes())
    }

    #[test]
    fn good_tokens_verify_with_both_algorithms() {
        let t = hs256(&json!({"alg": "HS256", "kid": "k1", "typ": "JWT"}), &claims(600), SECRET);
        assert_eq!(header(&t), Ok(Header { alg: KeyAlg::Hs256, kid: "k1".into() }));
        let c = verify(&t, &hs_key(), now()).expect("verifies");
        assert_eq!(c.external_id, "visitor-1");
        let t = eddsa(&json!({"alg": "EdDSA", "kid": "ed"}), &claims(600));
        assert_eq!(verify(&t, &ed_public(), now()).map(|c| c.external_id), Ok("visitor-1".into()));
        let t = eddsa(&json!({"alg": "Ed25519", "kid": "ed"}), &claims(600));
        assert!(verify(&t, &ed_public(), now()).is_ok(), "the fully-specified name is an alias");
    }

    #[test]
    fn external_id_claim_wins_over_sub() {
        let c = json!({"sub": "s", "external_id": "ext-9", "exp": now().as_second() + 60});
        let t = hs256(&json!({"alg": "HS256", "kid": "k1"}), &c, SECRET);
        assert_eq!(verify(&t, &hs_key(), now()).map(|c| c.external_id), Ok("ext-9".into()));
        let none = json!({"exp": now().as_second() + 60, "sub": ""});
        let t = hs256(&json!({"alg": "HS256", "kid": "k1"}), &none, SECRET);
        assert_eq!(verify(&t, &hs_key(), now()), Err(JwtError::NoSubject));
    }

    #[test]
    fn alg_none_is_refused() {
        let t = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k1"})), b64(&claims(60)));
        assert_eq!(header(&t), Err(JwtError::UnsupportedAlg("none".into())));
        assert_eq!(verify(&t, &hs_key(), now()), Err(JwtError::UnsupportedAlg("none".into())));
        let t = format!("{}.{}.", b64(&json!({"alg": "HS512", "kid": "k1"})), b64(&claims(60)));
        assert!(matches!(verify(&t, &hs_key(), now()), Err(JwtError::UnsupportedAlg(_))));
    }

    #[test]
    fn alg_confusion_is_refused() {
        // An HS256 token "signed" with the Ed25519 public key as its secret must not verify
        // against the Ed25519 key, and an EdDSA token never against an HMAC secret.
        let public = ed_key().verifying_key().to_bytes();
        let forged = hs256(&json!({"alg": "HS256", "kid": "ed"}), &claims(60), &public);
        assert_eq!(verify(&forged, &ed_public(), now()), Err(JwtError::AlgMismatch { token: "HS256", key: "EdDSA" }));
        let t = eddsa(&json!({"alg": "EdDSA", "kid": "k1"}), &claims(60));
        assert_eq!(verify(&t, &hs_key(), now()), Err(JwtError::AlgMismatch { token: "EdDSA", key: "HS256" }));
    }

    #[test]
    fn wrong_key_and_tampering_break_the_signature() {
        let t = hs256(&json!({"alg": "HS256", "kid": "k1"}), &claims(60), SECRET);
        let other = VerifyingKey::Hs256(b"another secret, 32 bytes long!!!".to_vec());
        assert_eq!(verify(&t, &other, now()), Err(JwtError::BadSignature));
        // Another visitor in the payload, the signature kept.
        let [h, _, s] = parts(&t).unwrap();
        let evil = json!({"sub": "visitor-2", "exp": now().as_second() + 60});
        let tampered = format!("{h}.{}.{s}", b64(&evil));
        assert_eq!(verify(&tampered, &hs_key(), now()), Err(JwtError::BadSignature));
        let e = eddsa(&json!({"alg": "EdDSA", "kid": "ed"}), &claims(60));
        let [h, _, s] = parts(&e).unwrap();
        assert_eq!(verify(&format!("{h}.{}.{s}", b64(&evil)), &ed_public(), now()), Err(JwtError::BadSignature));
        assert_eq!(verify(&format!("{h}.{}.AAAA", b64(&evil)), &ed_public(), now()), Err(JwtError::BadSignature));
    }

    #[test]
    fn exp_is_required_and_bounded() {
        let h = json!({"alg": "HS256", "kid": "k1"});
        let no_exp = hs256(&h, &json!({"sub": "v"}), SECRET);
        assert_eq!(verify(&no_exp, &hs_key(), now()), Err(JwtError::MissingExp));
        let expired = hs256(&h, &claims(-61), SECRET);
        assert_eq!(verify(&expired, &hs_key(), now()), Err(JwtError::Expired));
        let within_leeway = hs256(&h, &claims(-30), SECRET);
        assert!(verify(&within_leeway, &hs_key(), now()).is_ok());
        let too_long = hs256(&h, &claims(25 * 3600), SECRET);
        assert_eq!(verify(&too_long, &hs_key(), now()), Err(JwtError::TooLong));
        let a_day = hs256(&h, &claims(24 * 3600), SECRET);
        assert!(verify(&a_day, &hs_key(), now()).is_ok());
        let text_exp = hs256(&h, &json!({"sub": "v", "exp": "tomorrow"}), SECRET);
        assert!(matches!(verify(&text_exp, &hs_key(), now()), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused() {
        let h = json!({"alg": "HS256", "kid": "k1"});
        let later = now().as_second() + 300;
        let nbf = hs256(&h, &json!({"sub": "v", "exp": later + 60, "nbf": later}), SECRET);
        assert_eq!(verify(&nbf, &hs_key(), now()), Err(JwtError::NotYetValid));
        assert!(verify(&nbf, &hs_key(), Timestamp::from_second(later).unwrap()).is_ok(), "valid from nbf on");
        let iat = hs256(&h, &json!({"sub": "v", "exp": later + 60, "iat": later}), SECRET);
        assert_eq!(verify(&iat, &hs_key(), now()), Err(JwtError::NotYetValid));
        let skewed = hs256(&h, &json!({"sub": "v", "exp": later, "nbf": now().as_second() + 30}), SECRET);
        assert!(verify(&skewed, &hs_key(), now()).is_ok(), "within the leeway");
    }

    fn stored(kid: &str, revoked: bool) -> SigningKey {
        SigningKey {
            id: "sk_1".into(),
            org_id: "org_1".into(),
            kid: kid.into(),
            alg: KeyAlg::Hs256,
            key_data: "v1.x".into(),
            description: String::new(),
            created_by: "usr_1".into(),
            created_at: now(),
            revoked_at: revoked.then(now),
        }
    }

    #[test]
    fn the_kid_selects_an_active_key_only() {
        let t = hs256(&json!({"alg": "HS256", "kid": "k1"}), &claims(60), SECRET);
        let head = header(&t).unwrap();
        let k1 = stored("k1", false);
        assert_eq!(select(&head, Some(&k1)), Ok(&k1));
        assert_eq!(select(&head, None), Err(JwtError::UnknownKey), "no key has the kid");
        assert_eq!(select(&head, Some(&stored("k2", false))), Err(JwtError::UnknownKey), "another kid's key");
        assert_eq!(select(&head, Some(&stored("k1", true))), Err(JwtError::RevokedKey));
    }

    #[test]
    fn malformed_tokens_say_why() {
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!.e30.", &"a".repeat(MAX_TOKEN + 1)] {
            assert!(matches!(header(bad), Err(JwtError::Malformed(_))), "{bad:?}");
        }
        let no_kid = hs256(&json!({"alg": "HS256"}), &claims(60), SECRET);
        assert!(matches!(header(&no_kid), Err(JwtError::Malformed(_))));
        let crit = hs256(&json!({"alg": "HS256", "kid": "k1", "crit": ["exp"]}), &claims(60), SECRET);
        assert!(matches!(header(&crit), Err(JwtError::Malformed(_))));
        let array_payload = hs256(&json!({"alg": "HS256", "kid": "k1"}), &json!([1]), SECRET);
        assert!(matches!(verify(&array_payload, &hs_key(), now()), Err(JwtError::Malformed(_))));
    }
}
