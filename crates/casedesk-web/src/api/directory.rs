//! `/api/v1/users`, `/api/v1/tokens`, `/api/v1/accounts`, `/api/v1/contacts` and
//! `/api/v1/case-queues`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use casedesk_core::directory::UserInput;
use casedesk_core::idempotency::Created;
use casedesk_core::store::{ApiToken, ContactFilter};
use casedesk_domain::people::{Account, AccountInput, Contact, ContactInput, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::created;
use super::{ListResponse, QueryReader, nullable, parse_instant, simple_page};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, QueryPairs};

type Ts = jiff::Timestamp;

// ---- users ------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    pub name: String,
    /// admin or agent
    pub role: &'static str,
    /// available, away or offline
    pub availability: &'static str,
    /// Most active cases the router gives this agent at once; null = no limit.
    pub max_open_cases: Option<i64>,
    pub is_active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        UserResponse {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str(),
            availability: u.availability.as_str(),
            max_open_cases: u.max_open_cases,
            is_active: u.is_active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: Option<String>,
    /// admin or agent (default)
    pub role: Option<String>,
    pub availability: Option<String>,
    /// For signing in to the web UI; at least 10 characters. Without one the user works through
    /// API tokens only.
    pub password: Option<String>,
    /// Capacity: most active cases the router gives this agent at once (default: no limit).
    pub max_open_cases: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub availability: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    /// Capacity; null removes the limit.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub max_open_cases: Option<Option<i64>>,
}

/// Create a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let user = s
        .app
        .create_user(
            &actor,
            UserInput {
                email: Some(r.email),
                name: r.name,
                role: r.role,
                availability: r.availability,
                password: r.password,
                is_active: None,
                max_open_cases: Some(r.max_open_cases),
            },
        )
        .await?;
    Ok(created(format!("/api/v1/users/{}", user.id), None, false, UserResponse::from(user)))
}

/// List the organization's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<UserResponse>)))]
pub async fn list_users(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<UserResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_users(&actor, &page).await?, UserResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserResponse), (status = 404, body = Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(s.app.get_user(&actor, &id).await?.into()))
}

/// Change a user. Agents may change their own name, availability and password.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserResponse), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let r = body.value;
    let user = s
        .app
        .update_user(
            &actor,
            &id,
            UserInput {
                email: r.email,
                name: r.name,
                role: r.role,
                availability: r.availability,
                password: r.password,
                is_active: r.is_active,
                max_open_cases: r.max_open_cases,
            },
        )
        .await?;
    Ok(Json(user.into()))
}

/// Deactivate a user (admins): they can no longer sign in or use tokens; history stays.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_user(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(s.app.deactivate_user(&actor, &id).await?.into()))
}

// ---- tokens -----------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: String,
    pub name: String,
    pub user_id: String,
    /// The first characters of the secret.
    pub prefix: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Ts>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Ts>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Ts>,
}

impl From<ApiToken> for TokenResponse {
    fn from(t: ApiToken) -> Self {
        TokenResponse {
            id: t.id,
            name: t.name,
            user_id: t.user_id,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A new token: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreatedResponse {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The secret. Store it now: it is kept only as a hash and cannot be shown again.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Admins may create a token for another user; default: the caller.
    pub user_id: Option<String>,
    /// RFC 3339; default: never expires.
    pub expires_at: Option<String>,
}

/// Create an API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = TokenCreatedResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let expires_at =
        r.expires_at.as_deref().map(parse_instant).transpose().map_err(|m| ApiError::field("expires_at", m))?;
    let (token, secret) = s.app.create_token(&actor, &r.name, r.user_id.as_deref(), expires_at).await?;
    Ok(created(
        format!("/api/v1/tokens/{}", token.id),
        None,
        false,
        TokenCreatedResponse { token: token.into(), secret },
    ))
}

/// List tokens: an admin's shows the organization's, an agent's their own.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<TokenResponse>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<TokenResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_tokens(&actor, &page).await?, TokenResponse::from)))
}

/// Revoke a token. It stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = TokenResponse), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(s.app.revoke_token(&actor, &id).await?.into()))
}

// ---- accounts ---------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
    /// e.g. vip, gold, standard
    pub tier: Option<String>,
    /// Whether the account's contacts see each other's cases in the customer portal.
    pub portal_shares_cases: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        AccountResponse {
            id: a.id,
            name: a.name,
            domain: a.domain,
            tier: a.tier,
            portal_shares_cases: a.portal_shares_cases,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    /// Let the account's contacts see each other's cases in the customer portal (default false).
    pub portal_shares_cases: Option<bool>,
}

impl From<AccountRequest> for AccountInput {
    fn from(r: AccountRequest) -> Self {
        AccountInput { name: r.name, domain: r.domain, tier: r.tier, portal_shares_cases: r.portal_shares_cases }
    }
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = AccountRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = AccountResponse), (status = 422, body = Problem)))]
pub async fn create_account(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<AccountRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_account(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/accounts/{}", value.id), None, replayed, AccountResponse::from(value)))
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<AccountResponse>)))]
pub async fn list_accounts(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<AccountResponse>>, ApiError> {
    let page = simple_page(q)?;
    Ok(Json(ListResponse::new(s.app.list_accounts(&actor, &page).await?, AccountResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountResponse), (status = 404, body = Problem)))]
pub async fn get_account(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    Ok(Json(s.app.get_account(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), request_body = AccountRequest,
    responses((status = 200, body = AccountResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_account(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<AccountRequest>,
) -> Result<Json<AccountResponse>, ApiError> {
    Ok(Json(s.app.update_account(&actor, &id, body.value.into()).await?.into()))
}

/// Delete an account (admins); refused (409) while contacts or cases refer to it.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_account(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_account(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- contacts ---------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactResponse {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub account_id: Option<String>,
    /// The contact's id in the host application.
    pub external_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
}

impl From<Contact> for ContactResponse {
    fn from(c: Contact) -> Self {
        ContactResponse {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            account_id: c.account_id,
            external_id: c.external_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub account_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

impl From<ContactRequest> for ContactInput {
    fn from(r: ContactRequest) -> Self {
        ContactInput {
            name: r.name,
            email: r.email,
            phone: r.phone,
            account_id: r.account_id,
            external_id: r.external_id,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ContactResponse), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    key: IdempotencyKey,
    body: JsonBody<ContactRequest>,
) -> Result<Response, ApiError> {
    let idem = key.with(&body.request_hash)?;
    let Created { value, replayed } = s.app.create_contact(&actor, body.value.into(), idem).await?;
    Ok(created(format!("/api/v1/contacts/{}", value.id), None, replayed, ContactResponse::from(value)))
}

/// List contacts, optionally by account, email, external id or phone number (matched however
/// it is written: its last ten digits).
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    params(("account_id" = Option<String>, Query), ("email" = Option<String>, Query), ("external_id" = Option<String>, Query),
        ("phone" = Option<String>, Query),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = ListResponse<ContactResponse>)))]
pub async fn list_contacts(
    State(s): State<AppState>,
    Auth(actor): Auth,
    q: QueryPairs,
) -> Result<Json<ListResponse<ContactResponse>>, ApiError> {
    let mut r = QueryReader::new(q, &["account_id", "email", "external_id", "phone"]);
    let filter = ContactFilter {
        account_id: r.one("account_id"),
        email: r.one("email").map(|e| e.to_lowercase()),
        external_id: r.one("external_id"),
        phone: r.one("phone"),
    };
    let page = r.page();
    r.finish()?;
    Ok(Json(ListResponse::new(s.app.list_contacts(&actor, &filter, &page).await?, ContactResponse::from)))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = ContactResponse), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<ContactResponse>, ApiError> {
    Ok(Json(s.app.get_contact(&actor, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)), request_body = ContactRequest,
    responses((status = 200, body = ContactResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_contact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    body: JsonBody<ContactRequest>,
) -> Result<Json<ContactResponse>, ApiError> {
    Ok(Json(s.app.update_contact(&actor, &id, body.value.into()).await?.into()))
}

/// Delete a contact (admins); refused (409) while cases refer to it.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_contact(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.app.delete_contact(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
