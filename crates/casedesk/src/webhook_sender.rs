//! The [`HttpSender`] that webhook deliveries leave through: reqwest with rustls (the Mozilla
//! roots, no OpenSSL), without redirects (a receiver answers where it was asked to), with a
//! timeout per request.

use std::time::Duration;

use casedesk_core::webhooks::{BoxFuture, HttpSender};

pub struct ReqwestSender {
    client: reqwest::Client,
    timeout: Duration,
}

impl ReqwestSender {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, timeout })
    }
}

impl HttpSender for ReqwestSender {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: &'a [(&'static str, String)],
        body: &'a str,
    ) -> BoxFuture<'a, Result<u16, String>> {
        Box::pin(async move {
            let mut req = self.client.post(url).body(body.to_string());
            for (name, value) in headers {
                req = req.header(*name, value);
            }
            match req.send().await {
                Ok(resp) => Ok(resp.status().as_u16()),
                // Without the URL: a receiver's URL may carry a token of theirs.
                Err(e) if e.is_timeout() => Err(format!("no answer within {} s", self.timeout.as_secs())),
                Err(e) if e.is_connect() => Err("could not connect to the endpoint".to_string()),
                Err(e) => Err(format!("the request failed: {}", e.without_url())),
            }
        })
    }
}
