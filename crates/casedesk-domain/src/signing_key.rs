//! An organization's API signing keys: the keys a host application signs its visitor tokens
//! with (see [`crate::jwt`]). Each key has a `kid` the token names; several can be active at
//! once, so a new key is added before the old one is revoked and tokens never stop verifying
//! during a rotation.
//!
//! Two kinds:
//! - **HS256**: a shared secret. HMAC needs the secret itself to verify, so it cannot be stored
//!   hashed; it is stored *sealed* (ChaCha20-Poly1305) under a key the server is configured with,
//!   bound to the key's id and organization. A copy of the database alone does not reveal it.
//! - **EdDSA** (Ed25519): the host keeps the private key; casedesk stores only the public key,
//!   given as PEM (SubjectPublicKeyInfo) or as a JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`).
//!
//! Pure functions only: the sealing nonce and generated secrets come in as arguments.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{DomainError, Errors};
use crate::text;

/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash (256 bits).
pub const MIN_SECRET: usize = 32;
const MAX_SECRET: usize = 512;
const MAX_KID: usize = 128;
/// Shortest server key that seals HS256 secrets.
pub const MIN_SEALING_KEY: usize = 32;
/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier
/// with OID 1.3.101.112, BIT STRING of 33 bytes (a zero bit count, then the 32-byte key).
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const SEALED_PREFIX: &str = "v1.";

/// How a key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// HMAC with SHA-256 over a shared secret.
    Hs256,
    /// Ed25519 signatures (JOSE `EdDSA`, also spelt `Ed25519`).
    EdDsa,
}

impl KeyAlg {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Hs256 => "HS256",
            KeyAlg::EdDsa => "EdDSA",
        }
    }

    /// The key's algorithm as a client or a token header names it.
    pub fn parse(s: &str) -> Result<KeyAlg, String> {
        match s.trim() {
            "HS256" => Ok(KeyAlg::Hs256),
            "EdDSA" | "Ed25519" => Ok(KeyAlg::EdDsa),
            other => Err(format!("unsupported algorithm {other:?}; expected HS256 or EdDSA")),
        }
    }
}

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    pub id: String,
    pub org_id: String,
    /// What a token's header names (`kid`); unique in the organization.
    pub kid: String,
    pub alg: KeyAlg,
    /// HS256: the sealed secret (see [`seal`]); EdDSA: the public key, base64url.
    pub key_data: String,
    pub description: String,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Once set, tokens naming this key no longer verify.
    pub revoked_at: Option<Timestamp>,
}

impl SigningKey {
    /// The Ed25519 public key as a JWK, for a list to show (HS256 keys show nothing).
    pub fn public_jwk(&self) -> Option<Value> {
        (self.alg == KeyAlg::EdDsa)
            .then(|| json!({"kty": "OKP", "crv": "Ed25519", "x": self.key_data, "kid": self.kid, "alg": "EdDSA"}))
    }
}

/// What an admin sends to add a key.
#[derive(Debug, Clone, Default)]
pub struct SigningKeyInput {
    pub kid: Option<String>,
    pub alg: Option<String>,
    /// HS256 only: a secret of their own (else one is generated).
    pub secret: Option<String>,
    /// EdDSA only: a PEM string or a JWK object.
    pub public_key: Option<Value>,
    pub description: Option<String>,
}

/// A validated new key, before its secret (if any) is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewKey {
    pub kid: Option<String>,
    pub description: String,
    pub material: NewMaterial,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NewMaterial {
    /// HS256 with this secret, or `None` for one to be generated.
    Hs256(Option<String>),
    /// Ed25519 with this public key.
    Ed25519([u8; 32]),
}

impl SigningKeyInput {
    /// Checks every field and says which are wrong.
    pub fn validate(self) -> Result<NewKey, DomainError> {
        let mut errors = Errors::new();
        let kid = match self.kid {
            Some(k) => errors.take("kid", check_kid(&k)).map(Some),
            None => Some(None),
        };
        let description = match self.description {
            Some(d) => errors.take("description", text::bounded(d.trim(), 500)),
            None => Some(String::new()),
        };
        let alg = match self.alg {
            Some(a) => errors.take("alg", KeyAlg::parse(&a)),
            None => {
                errors.add("alg", "is required: HS256 or EdDSA");
                None
            }
        };
        let material = match alg {
            Some(KeyAlg::Hs256) => {
                if self.public_key.is_some() {
                    errors.add("public_key", "an HS256 key has a secret, not a public key");
                }
                match self.secret {
                    Some(s) => errors.take("secret", check_secret(&s)).map(|s| NewMaterial::Hs256(Some(s))),
                    None => Some(NewMaterial::Hs256(None)),
                }
            }
            Some(KeyAlg::EdDsa) => {
                if self.secret.is_some() {
                    errors.add("secret", "an EdDSA key is a public key; the private key never leaves the host");
                }
                match self.public_key {
                    Some(pk) => errors.take("public_key", parse_ed25519_public(&pk)).map(NewMaterial::Ed25519),
                    None => {
                        errors.add("public_key", "is required for EdDSA: a PEM public key or a JWK");
                        None
                    }
                }
            }
            None => None,
        };
        errors.finish()?;
        match (kid, description, material) {
            (Some(kid), Some(description), Some(material)) => Ok(NewKey { kid, description, material }),
            _ => Err(DomainError::field("body", "invalid key")),
        }
    }
}

fn check_kid(kid: &str) -> Result<String, String> {
    let kid = kid.trim();
    if kid.is_empty() || kid.len() > MAX_KID || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("must be 1 to {MAX_KID} visible ASCII characters"));
    }
    Ok(kid.to_string())
}

fn check_secret(s: &str) -> Result<String, String> {
    if s.len() < MIN_SECRET || s.len() > MAX_SECRET || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("must be {MIN_SECRET} to {MAX_SECRET} visible ASCII characters (256 bits at least)"));
    }
    Ok(s.to_string())
}

/// An Ed25519 public key from a PEM string (`-----BEGIN PUBLIC KEY-----`), a JWK object, or a
/// JWK in a string.
pub fn parse_ed25519_public(v: &Value) -> Result<[u8; 32], String> {
    let key = match v {
        Value::String(s) if s.trim_start().starts_with('{') => {
            let jwk: Value = serde_json::from_str(s).map_err(|_| "is not a JWK: invalid JSON".to_string())?;
            from_jwk(&jwk)?
        }
        Value::String(s) => from_pem(s)?,
        Value::Object(_) => from_jwk(v)?,
        _ => return Err("must be a PEM public key (string) or a JWK (object)".into()),
    };
    let vk =
        ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| "is not a valid Ed25519 public key".to_string())?;
    if vk.is_weak() {
        return Err("is a weak Ed25519 key (small order); use a real key pair".into());
    }
    Ok(key)
}

fn from_jwk(jwk: &Value) -> Result<[u8; 32], String> {
    if jwk.get("kty").and_then(Value::as_str) != Some("OKP")
        || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519")
    {
        return Err("a JWK must have kty OKP and crv Ed25519".into());
    }
    if jwk.get("d").is_some() {
        return Err("is a private key (the JWK has d); send only the public key".into());
    }
    let x = jwk.get("x").and_then(Value::as_str).ok_or("a JWK needs x, the public key in base64url")?;
    let bytes = URL_SAFE_NO_PAD.decode(x).map_err(|_| "x is not base64url".to_string())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "x must be 32 bytes".to_string())
}

fn from_pem(pem: &str) -> Result<[u8; 32], String> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")
        .and_then(|rest| rest.trim_end().strip_suffix("-----END PUBLIC KEY-----"))
        .ok_or("must be a PEM public key (-----BEGIN PUBLIC KEY-----) or a JWK")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(b64).map_err(|_| "the PEM body is not base64".to_string())?;
    match der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
        Some(key) => <[u8; 32]>::try_from(key).map_err(|_| "is not an Ed25519 public key".to_string()),
        None => Err("is not an Ed25519 public key (only Ed25519 is supported)".into()),
    }
}

/// The key that seals HS256 secrets, derived from the operator's configured value.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    /// From the configured value (at least [`MIN_SEALING_KEY`] characters, e.g. 32 random bytes
    /// in hex), through SHA-256 so any such string makes a full-size key.
    pub fn derive(configured: &str) -> Result<SealingKey, String> {
        if configured.len() < MIN_SEALING_KEY {
            return Err(format!("must be at least {MIN_SEALING_KEY} characters (e.g. openssl rand -hex 32)"));
        }
        let mut h = Sha256::new();
        h.update(b"casedesk signing-key sealing v1\0");
        h.update(configured.as_bytes());
        Ok(SealingKey(h.finalize().into()))
    }

    /// `secret` encrypted and authenticated, bound to `binding` (the key's organization and id,
    /// so a sealed value moved to another row does not open): `v1.` + base64url(nonce ‖ box).
    pub fn seal(&self, nonce: [u8; 12], binding: &str, secret: &str) -> Result<String, String> {
        let cipher = ChaCha20Poly1305::new_from_slice(&self.0).map_err(|e| e.to_string())?;
        let sealed = cipher
            .encrypt(&nonce.into(), Payload { msg: secret.as_bytes(), aad: binding.as_bytes() })
            .map_err(|e| e.to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The secret [`seal`](Self::seal) sealed, or `None` when it was sealed under another key or
    /// binding, or altered.
    pub fn open(&self, binding: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, boxed) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = ChaCha20Poly1305::new_from_slice(&self.0).ok()?;
        cipher.decrypt(&nonce.into(), Payload { msg: boxed, aad: binding.as_bytes() }).ok()
    }
}

/// What a sealed secret is bound to.
pub fn binding(org_id: &str, key_id: &str) -> String {
    format!("{org_id}/{key_id}")
}

/// A new HS256 secret: `cdks_` and 48 random alphanumerics (≈ 285 bits), from `rng`.
pub fn new_secret(rng: &mut impl rand::Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let body: String = (0..48).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("cdks_{body}")
}

/// The public key's stored form.
pub fn encode_public(key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

/// The public key from its stored form.
pub fn decode_public(stored: &str) -> Option<[u8; 32]> {
    URL_SAFE_NO_PAD.decode(stored).ok().and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 A.2's public key.
    const RFC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn input(alg: &str) -> SigningKeyInput {
        SigningKeyInput { alg: Some(alg.into()), ..Default::default() }
    }

    #[test]
    fn public_keys_parse_from_jwk_and_pem() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": RFC_X});
        let key = parse_ed25519_public(&jwk).expect("jwk");
        assert_eq!(encode_public(&key), RFC_X);
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&key);
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(&der));
        assert_eq!(parse_ed25519_public(&Value::String(pem)), Ok(key));
        assert_eq!(parse_ed25519_public(&Value::String(jwk.to_string())), Ok(key));
        assert!(parse_ed25519_public(&json!({"kty": "OKP", "crv": "X25519", "x": RFC_X})).is_err());
        assert!(parse_ed25519_public(&json!({"kty": "OKP", "crv": "Ed25519", "x": RFC_X, "d": "x"})).is_err());
        assert!(parse_ed25519_public(&json!("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")).is_err());
        assert!(parse_ed25519_public(&json!(5)).is_err());
        // The identity point is a weak key.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert!(parse_ed25519_public(&json!({"kty": "OKP", "crv": "Ed25519", "x": encode_public(&weak)})).is_err());
    }

    #[test]
    fn input_rules_name_the_field() {
        let fields = |i: SigningKeyInput| match i.validate() {
            Err(DomainError::Validation(f)) => f.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(fields(SigningKeyInput::default()), ["alg"]);
        assert_eq!(fields(input("none")), ["alg"]);
        assert_eq!(fields(input("RS256")), ["alg"]);
        assert_eq!(fields(SigningKeyInput { secret: Some("short".into()), ..input("HS256") }), ["secret"]);
        assert_eq!(fields(input("EdDSA")), ["public_key"]);
        assert_eq!(fields(SigningKeyInput { kid: Some(" ".into()), ..input("HS256") }), ["kid"]);
        assert_eq!(
            fields(SigningKeyInput { public_key: Some(json!({"kty": "OKP"})), ..input("HS256") }),
            ["public_key"]
        );
        let ok = SigningKeyInput { kid: Some("k1".into()), ..input("HS256") }.validate().expect("valid");
        assert_eq!(ok.material, NewMaterial::Hs256(None));
        let ed = SigningKeyInput {
            public_key: Some(json!({"kty": "OKP", "crv": "Ed25519", "x": RFC_X})),
            ..input("Ed25519")
        }
        .validate()
        .expect("valid");
        assert!(matches!(ed.material, NewMaterial::Ed25519(_)));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_binding() {
        let key = SealingKey::derive("0123456789abcdef0123456789abcdef").expect("key");
        let sealed = key.seal([7; 12], "org_a/sk_1", "the secret").expect("seal");
        assert!(!sealed.contains("the secret"));
        assert_eq!(key.open("org_a/sk_1", &sealed).as_deref(), Some(&b"the secret"[..]));
        assert_eq!(key.open("org_b/sk_1", &sealed), None, "another binding");
        let other = SealingKey::derive("another key, also long enough......").expect("key");
        assert_eq!(other.open("org_a/sk_1", &sealed), None, "another server key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(key.open("org_a/sk_1", &tampered), None);
        assert!(SealingKey::derive("short").is_err());
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let mut rng = rand::rng();
        let (a, b) = (new_secret(&mut rng), new_secret(&mut rng));
        assert_ne!(a, b);
        assert!(a.len() >= MIN_SECRET);
        assert!(check_secret(&a).is_ok());
    }
}
