//! The customer portal under `/portal`: requesters sign in by a one-time link mailed to them
//! (or arrive from the host application with a visitor token) and follow their cases.
//!
//! The portal has a session cookie of its own (`casedesk_portal`, path `/portal`, HttpOnly,
//! SameSite=Lax), apart from agents' sessions: an agent's cookie opens nothing here and a
//! requester's opens nothing of the agent UI. Every form carries the session's CSRF token, and
//! the sign-in form, before any session, a double-submit token of its own, as the agent UI does.
//! A mailed link opens a page with a button rather than signing in on `GET`, so a mail scanner
//! that fetches links does not use up the requester's. Pages are plain HTML forms and links;
//! the new-case and reply forms are `multipart/form-data` and carry files ([`WithFiles`]).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{DefaultBodyLimit, Extension, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use casedesk_core::AppError;
use casedesk_core::auth::random_secret;
use casedesk_core::portal::{PortalCaseInput, PortalFile, PortalUser};
use casedesk_core::sessions::csrf_token;
use casedesk_domain::csat::Answer;
use casedesk_domain::profile::{Category, FieldDef, FieldKind};
use casedesk_domain::timeline::AuthorType;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::UiConfig;
use super::display::{Chrome, FieldErrors, label};
use super::error::{UiError, html};
use super::session::{FormData, config, cookie, same, set_cookie};
use crate::AppState;

pub const PORTAL_COOKIE: &str = "casedesk_portal";
/// The sign-in form's own CSRF token (double-submit: cookie and hidden field must match).
pub const PORTAL_FORM_COOKIE: &str = "casedesk_portal_form";
const PATH: &str = "/portal";

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/sign-in", post(request_link))
        .route("/portal/link/{token}", get(link_page).post(redeem))
        .route("/portal/visitor", get(visitor))
        .route("/portal/sign-out", post(sign_out))
        // Forms that carry files: the upload holds each file to the size limit as it arrives.
        .route("/portal/cases", post(create).layer(DefaultBodyLimit::disable()))
        .route("/portal/cases/new", get(new_page))
        .route("/portal/cases/{id}", get(case_page))
        .route("/portal/cases/{id}/reply", post(reply).layer(DefaultBodyLimit::disable()))
        .route("/portal/cases/{id}/files/{file_id}", get(download))
        .route("/portal/cases/{id}/close", post(close))
        .route("/portal/cases/{id}/rate", post(rate))
}

// ---- the signed-in requester -------------------------------------------------------------------

/// The signed-in requester of a portal page, with the session's CSRF token. Without a valid
/// portal session the request goes to the portal's sign-in page.
pub struct Requester {
    pub user: PortalUser,
    pub csrf: String,
}

fn to_sign_in() -> Response {
    Redirect::to(PATH).into_response()
}

async fn requester(parts: &Parts, state: &AppState) -> Result<Option<Requester>, UiError> {
    let Some(secret) = cookie(&parts.headers, PORTAL_COOKIE) else { return Ok(None) };
    match state.app.portal_session(&secret, &config(parts).sign_in.session).await {
        Ok(user) => Ok(Some(Requester { user, csrf: csrf_token(&secret) })),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<AppState> for Requester {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match requester(parts, state).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(to_sign_in()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A form from a signed-in requester, its CSRF token checked.
pub struct Submitted {
    pub who: Requester,
    pub form: FormData,
}

impl FromRequest<AppState> for Submitted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let who = Requester::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes =
            Bytes::from_request(req, state).await.map_err(|e| UiError::BadRequest(e.body_text()).into_response())?;
        let form = FormData::parse(&bytes);
        if !same(form.get("_csrf").unwrap_or_default(), &who.csrf) {
            tracing::info!(org.id = %who.user.org_id, "portal form refused: CSRF token missing or wrong");
            return Err(UiError::Csrf.into_response());
        }
        Ok(Submitted { who, form })
    }
}

/// Most bytes of text fields a form with files may carry (the files aside).
const FORM_TEXT_BYTES: usize = 1024 * 1024;
/// How much of a refused file is still read (and thrown away) so the browser sees the page
/// that says why, rather than a reset connection.
const DRAIN_BYTES: u64 = 8 * 1024 * 1024;

/// A form that may carry files (`multipart/form-data`; a plain form is taken too), from a
/// signed-in requester, its CSRF token checked before any file is received. Each file goes to
/// the blob store as it arrives, held to the size limit; a file over it is refused on the page
/// (`refused`), and the files received are dropped unused if the form is refused.
pub struct WithFiles {
    pub who: Requester,
    pub form: FormData,
    pub files: Vec<PortalFile>,
    pub refused: Option<AppError>,
}

fn check_csrf(who: &Requester, form: &FormData) -> Result<(), UiError> {
    if same(form.get("_csrf").unwrap_or_default(), &who.csrf) {
        return Ok(());
    }
    tracing::info!(org.id = %who.user.org_id, "portal form refused: CSRF token missing or wrong");
    Err(UiError::Csrf)
}

fn unreadable() -> Response {
    UiError::BadRequest("The form could not be read; please try again.".into()).into_response()
}

/// Reads a text part, up to what is left of [`FORM_TEXT_BYTES`].
async fn text_part(field: &mut Field<'_>, left: &mut usize) -> Result<String, Response> {
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
        *left = left
            .checked_sub(chunk.len())
            .ok_or_else(|| UiError::BadRequest("The form is too long.".into()).into_response())?;
        value.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

impl FromRequest<AppState> for WithFiles {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let (mut parts, body) = req.into_parts();
        let who = Requester::from_request_parts(&mut parts, state).await?;
        if !is_multipart {
            let bytes = axum::body::to_bytes(body, FORM_TEXT_BYTES)
                .await
                .map_err(|_| UiError::BadRequest("The form is too long.".into()).into_response())?;
            let form = FormData::parse(&bytes);
            check_csrf(&who, &form).map_err(IntoResponse::into_response)?;
            return Ok(WithFiles { who, form, files: Vec::new(), refused: None });
        }
        let max = state.app.files.max_bytes;
        let declared_length =
            parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared_length.is_some_and(|n| n > max.saturating_add(DRAIN_BYTES)) {
            // Too large to read through: refused unread (no CSRF check needed, nothing is stored).
            let form = FormData(Vec::new());
            return Ok(WithFiles { who, form, files: Vec::new(), refused: Some(AppError::TooLarge { limit: max }) });
        }
        let req = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(req, state).await.map_err(|_| unreadable())?;
        let mut form = FormData(Vec::new());
        let mut files = Vec::new();
        let mut refused = None;
        let mut text_left = FORM_TEXT_BYTES;
        let mut drain_left = DRAIN_BYTES;
        while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or_default().to_string();
            let Some(file_name) = field.file_name().map(str::to_string) else {
                let value = text_part(&mut field, &mut text_left).await?;
                form.0.push((name, value));
                continue;
            };
            // The token comes first in the form: without it, no byte of a file is stored.
            check_csrf(&who, &form).map_err(IntoResponse::into_response)?;
            let mut upload = if refused.is_none() {
                Some(state.app.begin_portal_upload(&who.user).await.map_err(|e| UiError::from(e).into_response())?)
            } else {
                None
            };
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                match upload.as_mut() {
                    Some(u) => {
                        if let Err(e) = u.write(&chunk).await {
                            upload = None;
                            refused = Some(e);
                        }
                    }
                    None => {
                        drain_left = drain_left.saturating_sub(chunk.len() as u64);
                        if drain_left == 0 {
                            break;
                        }
                    }
                }
            }
            if drain_left == 0 {
                break;
            }
            // A file input left empty sends a part with no name and no bytes.
            if name == "file"
                && !file_name.is_empty()
                && refused.is_none()
                && let Some(upload) = upload
            {
                files.push(PortalFile {
                    upload,
                    name: file_name,
                    declared_type: field.content_type().map(str::to_string),
                });
            }
        }
        check_csrf(&who, &form).map_err(IntoResponse::into_response)?;
        if refused.is_some() {
            files.clear();
        }
        Ok(WithFiles { who, form, files, refused })
    }
}

/// The message a form shows for a refused file.
fn file_refusal(e: &AppError) -> Option<casedesk_domain::FieldError> {
    match e {
        AppError::TooLarge { limit } => Some(casedesk_domain::FieldError {
            field: "file".into(),
            message: format!(
                "is too large: a file may be at most {}",
                super::panels::size(i64::try_from(*limit).unwrap_or(i64::MAX))
            ),
        }),
        _ => None,
    }
}

/// What every signed-in page shows in its header.
pub struct PortalHead {
    pub org_name: String,
    pub who: String,
    pub csrf: String,
}

impl PortalHead {
    fn of(r: &Requester) -> Self {
        PortalHead { org_name: r.user.org_name.clone(), who: r.user.label().to_string(), csrf: r.csrf.clone() }
    }
}

fn chrome() -> Chrome {
    Chrome { section: "portal", ..Chrome::anonymous() }
}

fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn with_cookies(mut resp: Response, cookies: &[String]) -> Result<Response, UiError> {
    for c in cookies {
        let v = HeaderValue::from_str(c).map_err(|e| UiError::internal(e.to_string()))?;
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

// ---- sign-in -----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    form_token: String,
    email: String,
    sent: bool,
    error: Option<String>,
}

/// The sign-in form with a fresh form token (set as its cookie too).
fn sign_in_form(status: StatusCode, config: &UiConfig, email: String, sent: bool, error: Option<String>) -> Response {
    let token = random_secret(32);
    let page = SignInPage { chrome: chrome(), form_token: token.clone(), email, sent, error };
    let resp = html(status, &page);
    let c = set_cookie(PORTAL_FORM_COOKIE, &token, PATH, 3600, config);
    with_cookies(resp, &[c]).unwrap_or_else(IntoResponse::into_response)
}

#[derive(Template)]
#[template(path = "portal_cases.html")]
struct CasesPage {
    chrome: Chrome,
    head: PortalHead,
    rows: Vec<CaseRow>,
}

pub struct CaseRow {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub status_label: String,
    pub updated: String,
}

/// `GET /portal`: the requester's cases, or the sign-in form.
pub async fn home(State(s): State<AppState>, req: Request) -> Result<Response, UiError> {
    let (parts, _) = req.into_parts();
    let Some(r) = requester(&parts, &s).await? else {
        return Ok(sign_in_form(StatusCode::OK, &config(&parts), String::new(), false, None));
    };
    let rows = s
        .app
        .portal_cases(&r.user)
        .await?
        .into_iter()
        .map(|c| CaseRow {
            id: c.id,
            number: c.case_number,
            subject: c.subject,
            status: c.status.as_str().to_string(),
            status_label: label(c.status.as_str()),
            updated: when(c.updated_at),
        })
        .collect();
    Ok(html(StatusCode::OK, &CasesPage { chrome: chrome(), head: PortalHead::of(&r), rows }))
}

/// `POST /portal/sign-in`: mails a sign-in link, and answers the same whether or not the
/// address is a requester's.
pub async fn request_link(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, UiError> {
    let form = FormData::parse(&body);
    let email = form.get("email").unwrap_or_default().to_string();
    let expected = cookie(&headers, PORTAL_FORM_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(form.get("_csrf").unwrap_or_default(), &expected) {
        let msg = "This form expired (or cookies are off). Please try again.".to_string();
        return Ok(sign_in_form(StatusCode::FORBIDDEN, &config, email, false, Some(msg)));
    }
    match s.app.request_portal_link(&email).await {
        Ok(()) => Ok(sign_in_form(StatusCode::OK, &config, email, true, None)),
        Err(AppError::Validation(f)) => {
            let msg = f.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            Ok(sign_in_form(StatusCode::UNPROCESSABLE_ENTITY, &config, email, false, Some(msg)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "portal_link.html")]
struct LinkPage {
    chrome: Chrome,
    token: String,
    refused: bool,
}

/// `GET /portal/link/{token}`: a button that signs in (a fetch of the link uses nothing up).
pub async fn link_page(Path(token): Path<String>) -> Response {
    html(StatusCode::OK, &LinkPage { chrome: chrome(), token, refused: false })
}

/// Sets the portal session cookie and goes to the requester's cases.
fn signed_in(config: &UiConfig, secret: &str) -> Result<Response, UiError> {
    let max_age = config.sign_in.session.lifetime.as_secs();
    let cookies =
        [set_cookie(PORTAL_COOKIE, secret, PATH, max_age, config), set_cookie(PORTAL_FORM_COOKIE, "", PATH, 0, config)];
    with_cookies(Redirect::to(PATH).into_response(), &cookies)
}

/// `POST /portal/link/{token}`: uses the link (once, before it expires). The token in the path
/// is the credential, so the form needs no other.
pub async fn redeem(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    match s.app.redeem_portal_link(&token, &config.sign_in.session).await {
        Ok(secret) => signed_in(&config, &secret),
        Err(AppError::Unauthorized) => {
            Ok(html(StatusCode::UNAUTHORIZED, &LinkPage { chrome: chrome(), token: String::new(), refused: true }))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VisitorQuery {
    org: Option<String>,
    token: Option<String>,
}

/// `GET /portal/visitor?org=…&token=…`: signs in a visitor of the host application with a
/// token signed by one of the organization's signing keys.
pub async fn visitor(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    Query(q): Query<VisitorQuery>,
) -> Result<Response, UiError> {
    let (Some(org), Some(token)) = (q.org.filter(|o| !o.is_empty()), q.token.filter(|t| !t.is_empty())) else {
        return Err(UiError::BadRequest("The link names no organization (org) or no visitor token (token).".into()));
    };
    match s.app.portal_visitor_sign_in(&org, &token, &config.sign_in.session).await {
        Ok(secret) => signed_in(&config, &secret),
        Err(AppError::InvalidToken(_)) => {
            Err(UiError::BadRequest("This sign-in link is not valid any more. Go back and try again.".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /portal/sign-out`.
pub async fn sign_out(
    State(s): State<AppState>,
    Extension(config): Extension<UiConfig>,
    p: Submitted,
) -> Result<Response, UiError> {
    s.app.portal_sign_out(&p.who.user).await?;
    let gone = set_cookie(PORTAL_COOKIE, "", PATH, 0, &config);
    with_cookies(Redirect::to(PATH).into_response(), &[gone])
}

// ---- a new case --------------------------------------------------------------------------------

/// A custom field as the form shows it.
pub struct FormField {
    pub key: String,
    pub label: String,
    /// The `<input type>`, or `textarea`, `select`, `checkbox`.
    pub input: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    pub value: String,
}

/// The kinds of field a requester fills in; a `user` or multi-select field is the agents' to set.
fn customer_input(kind: FieldKind) -> Option<&'static str> {
    Some(match kind {
        FieldKind::Text => "text",
        FieldKind::LongText => "textarea",
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Url => "url",
        FieldKind::Select => "select",
        FieldKind::Checkbox => "checkbox",
        FieldKind::User | FieldKind::MultiSelect => return None,
    })
}

fn form_fields(category: Option<&Category>, form: &FormData) -> Vec<FormField> {
    let Some(c) = category else { return Vec::new() };
    c.fields
        .iter()
        .filter_map(|f: &FieldDef| {
            Some(FormField {
                input: customer_input(f.kind)?,
                key: f.key.clone(),
                label: f.label.clone(),
                required: f.required,
                options: f.options.clone(),
                value: form.get(&format!("cf.{}", f.key)).unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// The custom fields the form filled in, as their kinds hold them (a bad value is left for the
/// case's profile check to name).
fn custom_values(category: Option<&Category>, form: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(c) = category else { return out };
    for f in c.fields.iter().filter(|f| customer_input(f.kind).is_some()) {
        let Some(v) = form.non_empty(&format!("cf.{}", f.key)) else { continue };
        let value = match f.kind {
            FieldKind::Number => {
                v.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::String(v), Value::Number)
            }
            FieldKind::Checkbox => Value::Bool(true),
            _ => Value::String(v),
        };
        out.insert(f.key.clone(), value);
    }
    out
}

pub struct CategoryChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "portal_new_case.html")]
struct NewCasePage {
    chrome: Chrome,
    head: PortalHead,
    categories: Vec<CategoryChoice>,
    category_id: String,
    fields: Vec<FormField>,
    subject: String,
    description: String,
    errors: FieldErrors,
    /// The largest file accepted, as it reads.
    max_file: String,
}

fn max_file(s: &AppState) -> String {
    super::panels::size(i64::try_from(s.app.files.max_bytes).unwrap_or(i64::MAX))
}

#[derive(Deserialize)]
pub struct NewQuery {
    category: Option<String>,
}

async fn new_case_form(
    s: &AppState,
    r: &Requester,
    category_id: Option<String>,
    form: &FormData,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<Response, UiError> {
    let categories = s.app.portal_categories(&r.user).await?;
    let chosen = categories.iter().find(|c| Some(&c.id) == category_id.as_ref());
    let page = NewCasePage {
        chrome: chrome(),
        head: PortalHead::of(r),
        fields: form_fields(chosen, form),
        category_id: chosen.map(|c| c.id.clone()).unwrap_or_default(),
        categories: categories
            .iter()
            .map(|c| CategoryChoice {
                id: c.id.clone(),
                name: c.name.clone(),
                selected: Some(&c.id) == category_id.as_ref(),
            })
            .collect(),
        subject: form.get("subject").unwrap_or_default().to_string(),
        description: form.get("description").unwrap_or_default().to_string(),
        errors,
        max_file: max_file(s),
    };
    Ok(html(status, &page))
}

/// `GET /portal/cases/new[?category=…]`: the form, with the chosen category's fields.
pub async fn new_page(State(s): State<AppState>, r: Requester, Query(q): Query<NewQuery>) -> Result<Response, UiError> {
    let category = q.category.filter(|c| !c.is_empty());
    new_case_form(&s, &r, category, &FormData(Vec::new()), StatusCode::OK, FieldErrors::default()).await
}

/// `POST /portal/cases`: opens the case, with the files sent with it, and shows it.
pub async fn create(State(s): State<AppState>, p: WithFiles) -> Result<Response, UiError> {
    if let Some(e) = p.refused {
        let Some(f) = file_refusal(&e) else { return Err(e.into()) };
        let category_id = p.form.non_empty("category_id");
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        return new_case_form(&s, &p.who, category_id, &p.form, status, FieldErrors(vec![f])).await;
    }
    let category_id = p.form.non_empty("category_id");
    let categories = s.app.portal_categories(&p.who.user).await?;
    let chosen = categories.iter().find(|c| Some(&c.id) == category_id.as_ref());
    let input = PortalCaseInput {
        subject: p.form.get("subject").unwrap_or_default().to_string(),
        description: p.form.get("description").unwrap_or_default().to_string(),
        category_id: category_id.clone(),
        custom_fields: custom_values(chosen, &p.form),
    };
    match s.app.portal_create_case(&p.who.user, input, p.files).await {
        Ok(case) => Ok(Redirect::to(&format!("/portal/cases/{}", case.id)).into_response()),
        Err(AppError::Validation(f)) => {
            let errors = FieldErrors(f);
            new_case_form(&s, &p.who, category_id, &p.form, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- a case ------------------------------------------------------------------------------------

pub struct ThreadEntry {
    pub mine: bool,
    pub who: &'static str,
    pub when: String,
    pub body: String,
}

pub struct RatingChoice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "portal_case.html")]
struct CasePage {
    chrome: Chrome,
    head: PortalHead,
    id: String,
    number: i64,
    subject: String,
    description: String,
    status: String,
    status_label: String,
    opened: String,
    closed: bool,
    thread: Vec<ThreadEntry>,
    /// The rating form: shown while the case's latest survey takes answers.
    rating: Option<Vec<RatingChoice>>,
    rating_comment: String,
    rated: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    files: Vec<FileEntry>,
    max_file: String,
}

pub struct FileEntry {
    pub id: String,
    pub name: String,
    pub size: String,
    pub when: String,
}

async fn case_view(
    s: &AppState,
    r: &Requester,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, UiError> {
    let pc = s.app.portal_case(&r.user, id).await?;
    let c = &pc.case;
    let thread = pc
        .comments
        .iter()
        .map(|m| {
            let mine = m.author_type == AuthorType::Customer;
            ThreadEntry {
                mine,
                who: if mine { "You" } else { "Support" },
                when: when(m.created_at),
                body: m.body.clone(),
            }
        })
        .collect();
    let score = pc.survey.as_ref().and_then(|p| p.survey.score.map(|v| p.survey.scale.rating(v)));
    let rated = pc.survey.as_ref().and_then(|p| {
        let v = score.as_deref()?;
        p.survey.scale.choices().into_iter().find(|(value, _)| value == v).map(|(_, l)| l)
    });
    let rating = pc.survey.as_ref().filter(|p| p.open).map(|p| {
        p.survey
            .scale
            .choices()
            .into_iter()
            .map(|(value, label)| RatingChoice { checked: score.as_deref() == Some(value.as_str()), value, label })
            .collect()
    });
    let page = CasePage {
        chrome: chrome(),
        head: PortalHead::of(r),
        id: c.id.clone(),
        number: c.case_number,
        subject: c.subject.clone(),
        description: c.description.clone(),
        status: c.status.as_str().to_string(),
        status_label: label(c.status.as_str()),
        opened: when(c.created_at),
        closed: c.is_closed(),
        thread,
        rating,
        rating_comment: pc.survey.as_ref().and_then(|p| p.survey.comment.clone()).unwrap_or_default(),
        rated,
        notice,
        error,
        files: pc
            .files
            .iter()
            .map(|f| FileEntry {
                id: f.id.clone(),
                name: f.name.clone(),
                size: super::panels::size(f.size),
                when: when(f.created_at),
            })
            .collect(),
        max_file: max_file(s),
    };
    Ok(html(status, &page))
}

/// `GET /portal/cases/{id}`: the case, its customer-facing thread, reply, close and rate.
pub async fn case_page(State(s): State<AppState>, r: Requester, Path(id): Path<String>) -> Result<Response, UiError> {
    case_view(&s, &r, &id, StatusCode::OK, None, None).await
}

/// The case page again after a form: a refused input or a conflict is shown on it.
async fn after(
    s: &AppState,
    r: &Requester,
    id: &str,
    done: Result<&'static str, AppError>,
) -> Result<Response, UiError> {
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/portal/cases/{id}")).into_response()),
        Err(AppError::Validation(f)) => {
            let msg = f.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            case_view(s, r, id, StatusCode::UNPROCESSABLE_ENTITY, None, Some(msg)).await
        }
        Err(AppError::Conflict { message, .. }) => case_view(s, r, id, StatusCode::CONFLICT, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /portal/cases/{id}/reply`: a reply, with the files sent with it attached.
pub async fn reply(State(s): State<AppState>, Path(id): Path<String>, p: WithFiles) -> Result<Response, UiError> {
    if let Some(e) = p.refused {
        let Some(f) = file_refusal(&e) else { return Err(e.into()) };
        let msg = format!("{}: {}", f.field, f.message);
        return case_view(&s, &p.who, &id, StatusCode::PAYLOAD_TOO_LARGE, None, Some(msg)).await;
    }
    let body = p.form.get("body").unwrap_or_default().to_string();
    let done = s.app.portal_reply(&p.who.user, &id, &body, p.files).await.map(|_| "replied");
    after(&s, &p.who, &id, done).await
}

/// `GET /portal/cases/{id}/files/{file_id}`: a file of the case the requester may see, as a
/// download; any other is the "Not found" page.
pub async fn download(
    State(s): State<AppState>,
    r: Requester,
    Path((id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let (f, blob) = s.app.portal_download(&r.user, &id, &file_id).await?;
    Ok(crate::api::files::file_response(&f, blob, &headers))
}

/// `POST /portal/cases/{id}/close`.
pub async fn close(State(s): State<AppState>, Path(id): Path<String>, p: Submitted) -> Result<Response, UiError> {
    let done = s.app.portal_close(&p.who.user, &id).await.map(|_| "closed");
    after(&s, &p.who, &id, done).await
}

/// `POST /portal/cases/{id}/rate`.
pub async fn rate(State(s): State<AppState>, Path(id): Path<String>, p: Submitted) -> Result<Response, UiError> {
    let answer =
        Answer { rating: p.form.get("rating").unwrap_or_default().to_string(), comment: p.form.non_empty("comment") };
    match s.app.portal_rate(&p.who.user, &id, answer).await {
        Ok(_) => {
            case_view(&s, &p.who, &id, StatusCode::OK, Some("Thank you — your rating is saved.".into()), None).await
        }
        Err(e) => after(&s, &p.who, &id, Err(e)).await,
    }
}
