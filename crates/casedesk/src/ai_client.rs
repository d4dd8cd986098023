//! The [`AiProvider`] organizations' chat-completions providers are asked through: reqwest with
//! rustls (the Mozilla roots, no OpenSSL), without redirects (a key is never carried to another
//! address), the key's header marked sensitive, a timeout per request, and a cap on the answer's
//! size.

use std::time::Duration;

use casedesk_core::ai::{AiProvider, ChatCall};
use casedesk_core::webhooks::BoxFuture;
use reqwest::header::{HeaderName, HeaderValue};

/// The largest answer read: a chat completion is a few kilobytes.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How long connecting may take, whatever the organization's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ReqwestChat {
    client: reqwest::Client,
}

impl ReqwestChat {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }

    async fn send(&self, call: &ChatCall) -> Result<String, String> {
        let mut req = self.client.post(&call.url).timeout(call.timeout).body(call.body.clone());
        for (name, value) in &call.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name} is not a header name"))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| format!("the {name} header is not valid"))?;
            value.set_sensitive(ChatCall::is_secret_header(name.as_str()));
            req = req.header(name, value);
        }
        // Without the URL in messages, as for webhooks: it is the organization's business.
        let mut resp = req.send().await.map_err(|e| describe(e, call.timeout))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the provider answered {}", status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(e, call.timeout))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "the answer is not UTF-8 text".to_string())
    }
}

fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else if e.is_connect() {
        "could not connect to the provider".to_string()
    } else {
        format!("the request failed: {}", e.without_url())
    }
}

impl AiProvider for ReqwestChat {
    fn chat<'a>(&'a self, call: &'a ChatCall) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.send(call))
    }
}
