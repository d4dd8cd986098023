//! The [`AiProvider`] port: how an organization's chat-completions provider is asked. The
//! binary's implementation POSTs over HTTPS (`casedesk::ai_client`); an `App` without one asks
//! nothing and every request falls back to the built-in provider.

use std::time::Duration;

use crate::webhooks::BoxFuture;

/// One chat-completions request, ready to send.
pub struct ChatCall {
    /// `<base_url>/chat/completions`, with Azure's `api-version` when set.
    pub url: String,
    /// `content-type`, and the API key in `authorization` or `api-key` when there is one.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body ([`casedesk_domain::ai::llm::request_body`]).
    pub body: String,
    /// How long the provider has to answer, body and all.
    pub timeout: Duration,
}

impl ChatCall {
    /// Whether header `name` carries the key (an implementation marks it sensitive).
    pub fn is_secret_header(name: &str) -> bool {
        name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("api-key")
    }
}

impl std::fmt::Debug for ChatCall {
    // Never the headers: they hold the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCall").field("url", &self.url).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Sends chat-completions requests: answers the body of a 2xx response, or why there was none
/// (no connection, a timeout, another status), in words that hold neither the key nor the body.
pub trait AiProvider: Send + Sync {
    fn chat<'a>(&'a self, call: &'a ChatCall) -> BoxFuture<'a, Result<String, String>>;
}

/// The provider port of an `App` that was not given one (the CLI's): it asks nothing.
pub struct NoAiProvider;

impl AiProvider for NoAiProvider {
    fn chat<'a>(&'a self, _: &'a ChatCall) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async { Err("this process asks no external provider".to_string()) })
    }
}
