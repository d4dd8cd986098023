//! `/api/v1/signing-keys`: the keys a host application signs visitor tokens with (admins). See
//! docs/API.md "External visitors" for the token rules and rotation.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use casedesk_domain::signing_key::{SigningKey, SigningKeyInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, JsonBody, QueryPairs};

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyResponse {
    pub id: String,
    /// What a token's header names to select this key.
    pub kid: String,
    /// HS256 or EdDSA.
    pub alg: &'static str,
    pub description: String,
    /// EdDSA keys: the public key as a JWK. Null for HS256 (the secret is never shown again).
    #[schema(value_type = Option<Object>)]
    pub public_key: Option<Value>,
    /// False once revoked.
    pub active: bool,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}

impl From<SigningKey> for SigningKeyResponse {
    fn from(k: SigningKey) -> Self {
        SigningKeyResponse {
            public_key: k.public_jwk(),
            active: k.revoked_at.is_none(),
            id: k.id,
            kid: k.kid,
            alg: k.alg.as_str(),
            description: k.description,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key; for HS256 with its secret, shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSigningKeyResponse {
    #[serde(flatten)]
    pub key: SigningKeyResponse,
    /// HS256: the shared secret (its UTF-8 bytes are the HMAC key). Store it now: it is never
    /// shown again. Absent for EdDSA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSigningKeyRequest {
    /// HS256 or EdDSA (Ed25519 is accepted as an alias).
    pub alg: Option<String>,
    /// 1 to 128 visible ASCII characters, unique in the organization; default: the key's id.
    pub kid: Option<String>,
    /// HS256 only: 32 to 512 visible ASCII characters; generated (`cdks_…`) when omitted.
    pub secret: Option<String>,
    /// EdDSA only: a PEM public key (`-----BEGIN PUBLIC KEY-----`) or a JWK
    /// (`{"kty":"OKP","crv":"Ed25519","x":"…"}`).
    #[schema(value_type = Option<Object>)]
    pub public_key: Option<Value>,
    pub description: Option<String>,
}

/// The organization's signing keys, newest first, revoked ones included (admins).
#[utoipa::path(get, path = "/api/v1/signing-keys", tag = "signing-keys",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<SigningKeyResponse>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_signing_keys(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<SigningKeyResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_signing_keys(&actor, &page).await?, SigningKeyResponse::from)))
}

/// Add a signing key (admins). Several can be active at once: add the new key, move the host to
/// it, then revoke the old one. A kid already used (even by a revoked key) answers 409.
#[utoipa::path(post, path = "/api/v1/signing-keys", tag = "signing-keys", request_body = CreateSigningKeyRequest,
    responses((status = 201, body = CreatedSigningKeyResponse), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_signing_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateSigningKeyRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let input = SigningKeyInput {
        kid: r.kid,
        alg: r.alg,
        secret: r.secret,
        public_key: r.public_key,
        description: r.description,
    };
    let made = s.app.create_signing_key(&actor, input).await?;
    let location = format!("/api/v1/signing-keys/{}", made.key.id);
    Ok(created(location, None, false, CreatedSigningKeyResponse { key: made.key.into(), secret: made.secret }))
}

#[utoipa::path(get, path = "/api/v1/signing-keys/{id}", tag = "signing-keys", params(("id" = String, Path)),
    responses((status = 200, body = SigningKeyResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_signing_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<SigningKeyResponse>, ApiError> {
    Ok(Json(s.app.get_signing_key(&actor, &id).await?.into()))
}

/// Revoke a signing key: tokens naming its kid stop verifying at once. The key stays listed
/// (revoked), so its kid is never reused.
#[utoipa::path(delete, path = "/api/v1/signing-keys/{id}", tag = "signing-keys", params(("id" = String, Path)),
    responses((status = 200, body = SigningKeyResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_signing_key(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<SigningKeyResponse>, ApiError> {
    Ok(Json(s.app.revoke_signing_key(&actor, &id).await?.into()))
}
