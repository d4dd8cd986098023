//! Which provider answers an organization's assistant requests: the built-in one (the default),
//! or an OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM,
//! llama.cpp's server) with its base URL, model, API key and timeout.
//!
//! The API key is kept sealed (see [`crate::signing_key::SealingKey`]), bound to the
//! organization; these rules only decide what a change keeps, clears or sets.

use jiff::Timestamp;

use crate::error::{DomainError, Errors};
use crate::text;

/// How long a provider has to answer unless the organization says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u32 = 20;
/// The longest a provider may be given: a request for a draft should not hang for minutes.
pub const MAX_TIMEOUT_SECS: u32 = 120;
const MAX_BASE_URL: usize = 2000;
const MAX_MODEL: usize = 200;
const MAX_API_KEY: usize = 4096;
const MAX_API_VERSION: usize = 40;

/// Who answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// casedesk's own, offline provider.
    Builtin,
    /// A chat-completions endpoint that speaks OpenAI's API.
    OpenAiCompatible,
}

impl ProviderKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Builtin => "builtin",
            ProviderKind::OpenAiCompatible => "openai_compatible",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "builtin" => Ok(ProviderKind::Builtin),
            "openai_compatible" => Ok(ProviderKind::OpenAiCompatible),
            other => Err(format!("unknown provider {other:?}; expected builtin or openai_compatible")),
        }
    }
}

/// The header the API key goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeader {
    /// `Authorization: Bearer <key>` (OpenAI, vLLM, llama.cpp, most others).
    Authorization,
    /// `api-key: <key>` (Azure OpenAI).
    ApiKey,
}

impl KeyHeader {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyHeader::Authorization => "authorization",
            KeyHeader::ApiKey => "api-key",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "authorization" => Ok(KeyHeader::Authorization),
            "api-key" => Ok(KeyHeader::ApiKey),
            _ => Err(format!("unknown header {s:?}; expected authorization or api-key")),
        }
    }
}

/// An organization's provider settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiSettings {
    pub org_id: String,
    pub provider: ProviderKind,
    /// The API's base, such as `https://api.openai.com/v1`; requests go to
    /// `<base_url>/chat/completions`.
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The API key, sealed under the server's key and bound to the organization
    /// ([`key_binding`]); never shown.
    pub api_key_sealed: Option<String>,
    pub api_key_header: KeyHeader,
    /// Azure OpenAI's `api-version` query parameter.
    pub api_version: Option<String>,
    pub timeout_secs: u32,
    pub updated_at: Timestamp,
}

impl AiSettings {
    /// The settings of an organization that chose nothing: the built-in provider.
    pub fn builtin(org_id: &str, now: Timestamp) -> Self {
        AiSettings {
            org_id: org_id.to_string(),
            provider: ProviderKind::Builtin,
            base_url: None,
            model: None,
            api_key_sealed: None,
            api_key_header: KeyHeader::Authorization,
            api_version: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            updated_at: now,
        }
    }

    /// The endpoint and model to ask, when an external provider is chosen.
    pub fn external(&self) -> Option<(String, &str)> {
        if self.provider != ProviderKind::OpenAiCompatible {
            return None;
        }
        let base = self.base_url.as_deref()?;
        let model = self.model.as_deref()?;
        let mut url = format!("{}/chat/completions", base.trim_end_matches('/'));
        if let Some(v) = &self.api_version {
            url.push_str("?api-version=");
            url.push_str(v);
        }
        Some((url, model))
    }
}

/// What a sealed API key is bound to.
pub fn key_binding(org_id: &str) -> String {
    format!("{org_id}/ai-provider-key")
}

/// An admin's settings: the whole of them (a `PUT`). `api_key` left out keeps the stored key as
/// long as the base URL stays the same; `null` or `""` removes it.
#[derive(Debug, Clone, Default)]
pub struct AiSettingsInput {
    pub provider: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Option<String>>,
    pub api_key_header: Option<String>,
    pub api_version: Option<String>,
    pub timeout_secs: Option<i64>,
}

/// A key an admin gave, to be sealed before it is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey(pub String);

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewKey(…)")
    }
}

impl AiSettingsInput {
    /// The next settings after `current`, with the new key to seal if one was given; every bad
    /// field is named. The returned settings keep `current`'s sealed key only when no key was
    /// given and the base URL is unchanged (a key is never sent to a host it was not given for).
    pub fn apply(self, current: &AiSettings, now: Timestamp) -> Result<(AiSettings, Option<NewKey>), DomainError> {
        let mut errors = Errors::new();
        let key_named = self.api_key.is_some();
        let provider = match self.provider {
            Some(p) => errors.take("provider", ProviderKind::parse(&p)),
            None => {
                errors.add("provider", "is required: builtin or openai_compatible");
                None
            }
        };
        let external = provider == Some(ProviderKind::OpenAiCompatible);
        let base_url = match self.base_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(u) => errors.take("base_url", base_url(u)),
            None => {
                if external {
                    errors.add(
                        "base_url",
                        "is required for an openai_compatible provider, e.g. https://api.openai.com/v1 or \
                         http://localhost:11434/v1",
                    );
                }
                None
            }
        };
        let model = match self.model.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(m) => errors.take("model", model(m)),
            None => {
                if external {
                    errors.add("model", "is required for an openai_compatible provider, e.g. gpt-4o-mini");
                }
                None
            }
        };
        let new_key = match self.api_key {
            Some(Some(k)) if !k.trim().is_empty() => errors.take("api_key", api_key(k.trim())).map(NewKey),
            _ => None,
        };
        let api_key_header = match self.api_key_header {
            Some(h) => errors.take("api_key_header", KeyHeader::parse(&h)),
            None => Some(KeyHeader::Authorization),
        };
        let api_version = match self.api_version.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(v) => errors.take("api_version", api_version(v)),
            None => None,
        };
        let timeout_secs = match self.timeout_secs {
            None => Some(DEFAULT_TIMEOUT_SECS),
            Some(t) => errors.take(
                "timeout_secs",
                u32::try_from(t)
                    .ok()
                    .filter(|t| (1..=MAX_TIMEOUT_SECS).contains(t))
                    .ok_or_else(|| format!("must be from 1 to {MAX_TIMEOUT_SECS} seconds")),
            ),
        };
        errors.finish()?;
        let (Some(provider), Some(api_key_header), Some(timeout_secs)) = (provider, api_key_header, timeout_secs)
        else {
            return Err(DomainError::field("provider", "is required"));
        };
        let keep = !key_named && base_url.is_some() && base_url == current.base_url;
        let next = AiSettings {
            org_id: current.org_id.clone(),
            provider,
            base_url,
            model,
            api_key_sealed: if keep { current.api_key_sealed.clone() } else { None },
            api_key_header,
            api_version,
            timeout_secs,
            updated_at: now,
        };
        Ok((next, new_key))
    }
}

/// A base URL: http(s), a host, no credentials, query or fragment; without a trailing slash.
fn base_url(s: &str) -> Result<String, String> {
    let url = text::http_url(s, MAX_BASE_URL, "give the key as api_key")?;
    if url.query().is_some() {
        return Err("must not have a query; give Azure's api-version as api_version".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn model(s: &str) -> Result<String, String> {
    if s.chars().count() > MAX_MODEL {
        return Err(format!("must be at most {MAX_MODEL} characters"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must be a model name without spaces, e.g. gpt-4o-mini or llama3.1:8b".into());
    }
    Ok(s.to_string())
}

/// A key goes into a header: printable ASCII without spaces.
fn api_key(s: &str) -> Result<String, String> {
    if s.len() > MAX_API_KEY {
        return Err(format!("must be at most {MAX_API_KEY} characters"));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(s.to_string())
}

fn api_version(s: &str) -> Result<String, String> {
    if s.len() > MAX_API_VERSION || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        return Err(format!("must be up to {MAX_API_VERSION} letters, digits, '-', '.' or '_', e.g. 2024-10-21"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().expect("time")
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn openai(key: Option<Option<&str>>, url: &str) -> AiSettingsInput {
        AiSettingsInput {
            provider: Some("openai_compatible".into()),
            base_url: Some(url.into()),
            model: Some("gpt-4o-mini".into()),
            api_key: key.map(|k| k.map(str::to_string)),
            ..Default::default()
        }
    }

    #[test]
    fn bad_settings_name_every_field() {
        let input = AiSettingsInput {
            provider: Some("openai_compatible".into()),
            base_url: Some("ftp://models.example".into()),
            model: Some("gpt 4".into()),
            api_key: Some(Some("sk with spaces".into())),
            api_key_header: Some("x-key".into()),
            api_version: Some("2024/10".into()),
            timeout_secs: Some(0),
        };
        let e = input.apply(&AiSettings::builtin("org_1", now()), now()).expect_err("bad");
        assert_eq!(fields(e), ["base_url", "model", "api_key", "api_key_header", "api_version", "timeout_secs"]);
        let missing = AiSettingsInput { provider: Some("openai_compatible".into()), ..Default::default() };
        assert_eq!(
            fields(missing.apply(&AiSettings::builtin("org_1", now()), now()).expect_err("bad")),
            ["base_url", "model"]
        );
        assert_eq!(
            fields(AiSettingsInput::default().apply(&AiSettings::builtin("o", now()), now()).expect_err("x")),
            ["provider"]
        );
        for bad in ["https://u:p@api.example/v1", "https://api.example/v1?x=1", "https://api.example/#a", "api.example"]
        {
            assert!(base_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_key_is_kept_only_for_the_same_base_url() {
        let blank = AiSettings::builtin("org_1", now());
        let (first, key) =
            openai(Some(Some(" sk-test-1 ")), "https://api.openai.com/v1/").apply(&blank, now()).expect("ok");
        assert_eq!(key, Some(NewKey("sk-test-1".into())));
        assert_eq!(first.base_url.as_deref(), Some("https://api.openai.com/v1"));
        let stored = AiSettings { api_key_sealed: Some("v1.sealed".into()), ..first };
        let (same, key) = openai(None, "https://api.openai.com/v1").apply(&stored, now()).expect("ok");
        assert_eq!((same.api_key_sealed.as_deref(), key), (Some("v1.sealed"), None), "kept");
        let (moved, _) = openai(None, "https://elsewhere.example/v1").apply(&stored, now()).expect("ok");
        assert_eq!(moved.api_key_sealed, None, "a key never follows the URL to another host");
        let (cleared, key) = openai(Some(None), "https://api.openai.com/v1").apply(&stored, now()).expect("ok");
        assert_eq!((cleared.api_key_sealed, key), (None, None));
        assert_eq!(format!("{:?}", NewKey("sk-secret".into())), "NewKey(…)", "a key is never printed");
    }

    #[test]
    fn the_endpoint_follows_the_settings() {
        let mut s = AiSettings::builtin("org_1", now());
        assert_eq!(s.external(), None);
        s.provider = ProviderKind::OpenAiCompatible;
        s.base_url = Some("https://acme.openai.azure.com/openai/deployments/gpt4o".into());
        s.model = Some("gpt-4o".into());
        s.api_version = Some("2024-10-21".into());
        assert_eq!(
            s.external(),
            Some((
                "https://acme.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21".into(),
                "gpt-4o"
            ))
        );
    }
}
