//! `/metrics`: Prometheus's text exposition format, written out by hand.
//!
//! Hand-written rather than the `metrics` + `metrics-exporter-prometheus` crates: casedesk has a
//! handful of fixed series, and the format is a few lines of text; the crates would add a global
//! recorder, an extra HTTP stack option and a dozen dependencies to every build.
//!
//! - HTTP: `casedesk_http_requests_total{method,route,status}` and the latency histogram
//!   `casedesk_http_request_duration_seconds{method,route}`. `route` is the matched route
//!   (`/api/v1/cases/{id}`), never the raw URL, so ids do not make new series; requests no route
//!   matched share `route="unmatched"`.
//! - Background work of this instance: SLA alarms flagged, webhook attempts by outcome.
//! - From the database (shared by every instance, read per scrape with bounded queries): open
//!   cases per queue, breached open cases, bulk jobs and webhook deliveries by state.
//!
//! Access: with `--metrics-token` the main listener serves `/metrics` to `Authorization: Bearer
//! <token>`; with `--metrics-listen` a separate (admin) listener serves it, also asking for the
//! token when one is set. Without either, `/metrics` is not served.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use casedesk_core::App;
use casedesk_core::metrics::CounterValues;
use casedesk_core::store::OperationalCounts;
use sha2::{Digest, Sha256};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound of [`BUCKETS`] (not cumulative; summed on output).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counts and latencies of this instance since it started.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// (method, route, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// (method, route) → latency.
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl HttpMetrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry((method.to_string(), route.to_string())).or_default();
            if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
                h.buckets[i] += 1;
            }
            h.count += 1;
            h.sum += seconds;
        }
    }
}

/// Middleware that records every request under its matched route.
pub async fn track(State(metrics): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let resp = next.run(req).await;
    let route = route.as_deref().unwrap_or("unmatched");
    metrics.record(&method, route, resp.status().as_u16(), started.elapsed().as_secs_f64());
    resp
}

/// What the `/metrics` handler needs.
#[derive(Clone)]
pub struct MetricsState {
    pub app: App,
    pub http: Arc<HttpMetrics>,
    /// SHA-256 of the bearer token a scraper must send; `None`: no token asked.
    token_hash: Option<[u8; 32]>,
}

impl MetricsState {
    pub fn new(app: App, http: Arc<HttpMetrics>, token: Option<&str>) -> Self {
        MetricsState { app, http, token_hash: token.map(|t| Sha256::digest(t.as_bytes()).into()) }
    }

    /// Compares hashes, so the time taken says nothing about how much of the token matched.
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.token_hash else { return true };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        given.is_some_and(|t| <[u8; 32]>::from(Sha256::digest(t.as_bytes())) == *want)
    }
}

/// A router serving only `GET /metrics`.
pub fn routes(state: MetricsState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(s): State<MetricsState>, headers: HeaderMap) -> Response {
    if !s.allows(&headers) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "send the metrics token\n")
            .into_response();
    }
    let db = match s.app.operational_counts().await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database counts could not be read");
            None
        }
    };
    let body = render(&s.http, s.app.counters.values(), db.as_ref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// A label value, escaped as the format asks.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The whole exposition.
pub fn render(http: &HttpMetrics, counters: CounterValues, db: Option<&OperationalCounts>) -> String {
    let mut out = String::new();
    family(&mut out, "casedesk_http_requests_total", "counter", "HTTP requests answered, by matched route and status.");
    if let Ok(r) = http.requests.lock() {
        for ((method, route, status), n) in r.iter() {
            let _ = writeln!(
                out,
                "casedesk_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                esc(method),
                esc(route)
            );
        }
    }
    family(&mut out, "casedesk_http_request_duration_seconds", "histogram", "Time to answer an HTTP request.");
    let latency = http.latency.lock().map(|l| l.clone()).unwrap_or_default();
    for ((method, route), h) in &latency {
        let labels = format!("method=\"{}\",route=\"{}\"", esc(method), esc(route));
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ =
                writeln!(out, "casedesk_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "casedesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "casedesk_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "casedesk_http_request_duration_seconds_count{{{labels}}} {}", h.count);
    }
    family(
        &mut out,
        "casedesk_sla_alarms_total",
        "counter",
        "Cases this instance's SLA sweep flagged with a warning or breach.",
    );
    let _ = writeln!(out, "casedesk_sla_alarms_total {}", counters.sla_alarms);
    family(
        &mut out,
        "casedesk_webhook_attempts_total",
        "counter",
        "Webhook delivery attempts made by this instance, by outcome.",
    );
    for (outcome, n) in [
        ("delivered", counters.webhook_delivered),
        ("retry", counters.webhook_retried),
        ("dead_lettered", counters.webhook_dead_lettered),
    ] {
        let _ = writeln!(out, "casedesk_webhook_attempts_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(
        &mut out,
        "casedesk_email_attempts_total",
        "counter",
        "Outgoing mail sending attempts made by this instance, by outcome.",
    );
    for (outcome, n) in
        [("sent", counters.email_sent), ("retry", counters.email_retried), ("failed", counters.email_failed)]
    {
        let _ = writeln!(out, "casedesk_email_attempts_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(
        &mut out,
        "casedesk_imap_polls_total",
        "counter",
        "Polls of IMAP mailboxes made by this instance, by outcome.",
    );
    for (outcome, n) in [("ok", counters.imap_polled), ("failed", counters.imap_failed)] {
        let _ = writeln!(out, "casedesk_imap_polls_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(&mut out, "casedesk_imap_messages_total", "counter", "Messages this instance took in from IMAP mailboxes.");
    let _ = writeln!(out, "casedesk_imap_messages_total {}", counters.imap_messages);
    family(&mut out, "casedesk_database_up", "gauge", "1 when the database counts below could be read.");
    let _ = writeln!(out, "casedesk_database_up {}", u8::from(db.is_some()));
    let Some(db) = db else { return out };
    family(
        &mut out,
        "casedesk_open_cases",
        "gauge",
        "Active (not resolved or closed) cases per queue; queue=\"\" is no queue.",
    );
    for (org, queue, n) in &db.open_by_queue {
        let _ = writeln!(out, "casedesk_open_cases{{org_id=\"{}\",queue_id=\"{}\"}} {n}", esc(org), esc(queue));
    }
    family(&mut out, "casedesk_sla_breached_cases", "gauge", "Active cases with a breached SLA target.");
    for (org, n) in &db.breached_by_org {
        let _ = writeln!(out, "casedesk_sla_breached_cases{{org_id=\"{}\"}} {n}", esc(org));
    }
    family(&mut out, "casedesk_jobs", "gauge", "Background (bulk) jobs by state: queued, running, failed.");
    for (state, n) in &db.jobs_by_state {
        let _ = writeln!(out, "casedesk_jobs{{state=\"{}\"}} {n}", esc(state));
    }
    family(
        &mut out,
        "casedesk_webhook_deliveries",
        "gauge",
        "Webhook deliveries by state: pending, failed (dead-lettered).",
    );
    for (state, n) in &db.webhook_deliveries {
        let _ = writeln!(out, "casedesk_webhook_deliveries{{state=\"{}\"}} {n}", esc(state));
    }
    family(
        &mut out,
        "casedesk_emails",
        "gauge",
        "Mail by direction and state: outgoing queued and failed, inbound quarantined.",
    );
    for (direction, state, n) in &db.emails {
        let _ = writeln!(out, "casedesk_emails{{direction=\"{}\",state=\"{}\"}} {n}", esc(direction), esc(state));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_cumulative_buckets_and_escaped_labels() {
        let m = HttpMetrics::default();
        m.record("GET", "/api/v1/cases/{id}", 200, 0.003);
        m.record("GET", "/api/v1/cases/{id}", 200, 0.2);
        m.record("GET", "/api/v1/cases/{id}", 404, 0.004);
        m.record("GET", "/odd\"route", 200, 99.0);
        let text = render(&m, CounterValues::default(), None);
        assert!(
            text.contains("casedesk_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"200\"} 2")
        );
        assert!(
            text.contains("casedesk_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\"} 1")
        );
        let labels = "method=\"GET\",route=\"/api/v1/cases/{id}\"";
        assert!(text.contains(&format!("casedesk_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 2")));
        assert!(text.contains(&format!("casedesk_http_request_duration_seconds_bucket{{{labels},le=\"0.25\"}} 3")));
        assert!(text.contains(&format!("casedesk_http_request_duration_seconds_count{{{labels}}} 3")));
        assert!(text.contains("route=\"/odd\\\"route\""));
        assert!(text.contains("le=\"+Inf\"} 1"), "an observation above every bound is counted in +Inf only");
        assert!(text.contains("casedesk_database_up 0"));
    }
}
