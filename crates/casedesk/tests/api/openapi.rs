//! The OpenAPI document at `/api/v1/openapi.json` describes exactly the API the server serves.
//!
//! A hard-coded table of every (method, path template) of `api_routes` is checked three ways:
//! each entry is in the document, each operation of the document is in the table (so neither
//! can drift without this test noticing), and each entry is really routed by the server (called
//! without a token it answers 401, never 404 or 405).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

/// Every operation the API serves, as `api_routes` in casedesk-web declares it.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("PATCH", "/api/v1/cases/{id}"),
    ("DELETE", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/bulk"),
    ("POST", "/api/v1/cases/{id}/ai"),
    ("GET", "/api/v1/ai/settings"),
    ("PUT", "/api/v1/ai/settings"),
    ("GET", "/api/v1/bulk-jobs/{id}"),
    ("POST", "/api/v1/bulk-jobs/{id}/cancel"),
    ("GET", "/api/v1/trash/cases"),
    ("POST", "/api/v1/trash/cases/{id}/restore"),
    ("DELETE", "/api/v1/trash/cases/{id}"),
    ("GET", "/api/v1/cases/{id}/comments"),
    ("POST", "/api/v1/cases/{id}/comments"),
    ("GET", "/api/v1/cases/{id}/timeline"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/accounts"),
    ("POST", "/api/v1/accounts"),
    ("GET", "/api/v1/accounts/{id}"),
    ("PATCH", "/api/v1/accounts/{id}"),
    ("DELETE", "/api/v1/accounts/{id}"),
    ("GET", "/api/v1/contacts"),
    ("POST", "/api/v1/contacts"),
    ("GET", "/api/v1/contacts/{id}"),
    ("PATCH", "/api/v1/contacts/{id}"),
    ("DELETE", "/api/v1/contacts/{id}"),
    ("GET", "/api/v1/case-queues"),
    ("POST", "/api/v1/case-queues"),
    ("GET", "/api/v1/case-queues/{id}"),
    ("PATCH", "/api/v1/case-queues/{id}"),
    ("DELETE", "/api/v1/case-queues/{id}"),
    ("GET", "/api/v1/case-queues/{id}/members"),
    ("PUT", "/api/v1/case-queues/{id}/members/{user_id}"),
    ("DELETE", "/api/v1/case-queues/{id}/members/{user_id}"),
    ("POST", "/api/v1/cases/{id}/escalate"),
    ("GET", "/api/v1/cases/{id}/links"),
    ("POST", "/api/v1/cases/{id}/links"),
    ("DELETE", "/api/v1/cases/{id}/links/{link_id}"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/search/cases"),
    ("GET", "/api/v1/views"),
    ("POST", "/api/v1/views"),
    ("GET", "/api/v1/views/{id}"),
    ("PATCH", "/api/v1/views/{id}"),
    ("DELETE", "/api/v1/views/{id}"),
    ("GET", "/api/v1/views/{id}/cases"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{id}"),
    ("PATCH", "/api/v1/webhooks/{id}"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("GET", "/api/v1/webhooks/{id}/deliveries"),
    ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver"),
    ("GET", "/api/v1/signing-keys"),
    ("POST", "/api/v1/signing-keys"),
    ("GET", "/api/v1/signing-keys/{id}"),
    ("DELETE", "/api/v1/signing-keys/{id}"),
    ("GET", "/api/v1/orgs/{org_id}/external-visitors/{external_id_jwt}/cases"),
    ("GET", "/api/v1/orgs/{org_id}/external-visitors/{external_id_jwt}/cases/{case_id}"),
    ("GET", "/api/v1/mail/settings"),
    ("PATCH", "/api/v1/mail/settings"),
    ("GET", "/api/v1/mailboxes"),
    ("POST", "/api/v1/mailboxes"),
    ("GET", "/api/v1/mailboxes/{id}"),
    ("DELETE", "/api/v1/mailboxes/{id}"),
    ("PUT", "/api/v1/mailboxes/{id}/imap"),
    ("DELETE", "/api/v1/mailboxes/{id}/imap"),
    ("POST", "/api/v1/inbound/email"),
    ("GET", "/api/v1/inbound/held"),
    ("GET", "/api/v1/cases/{id}/emails"),
    ("POST", "/api/v1/cases/{id}/send-update"),
    ("POST", "/api/v1/intake/voicemail"),
    ("POST", "/api/v1/intake/conversations"),
    ("GET", "/api/v1/channel-connectors"),
    ("POST", "/api/v1/channel-connectors"),
    ("GET", "/api/v1/channel-connectors/{id}"),
    ("PATCH", "/api/v1/channel-connectors/{id}"),
    ("DELETE", "/api/v1/channel-connectors/{id}"),
    ("GET", "/api/v1/channel-connectors/{id}/deliveries"),
    ("GET", "/api/v1/cases/{id}/reply-channels"),
    ("POST", "/api/v1/channel-connectors/{id}/deliveries/{delivery_id}/redeliver"),
    ("GET", "/api/v1/cases/{id}/channel-deliveries"),
    ("POST", "/api/v1/cases/{id}/read"),
    ("GET", "/api/v1/emails/{id}/original"),
    ("GET", "/api/v1/reports/{report}"),
    ("GET", "/api/v1/csat/settings"),
    ("PATCH", "/api/v1/csat/settings"),
    ("GET", "/api/v1/cases/{id}/csat"),
    ("GET", "/api/v1/automation-rules"),
    ("POST", "/api/v1/automation-rules"),
    ("GET", "/api/v1/automation-rules/{id}"),
    ("PATCH", "/api/v1/automation-rules/{id}"),
    ("DELETE", "/api/v1/automation-rules/{id}"),
    ("POST", "/api/v1/automation-rules/{id}/dry-run"),
    ("GET", "/api/v1/macros"),
    ("POST", "/api/v1/macros"),
    ("GET", "/api/v1/macros/{id}"),
    ("PATCH", "/api/v1/macros/{id}"),
    ("DELETE", "/api/v1/macros/{id}"),
    ("POST", "/api/v1/cases/{id}/apply-macro"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/{id}/read"),
    ("GET", "/api/v1/cases/{id}/files"),
    ("POST", "/api/v1/cases/{id}/files"),
    ("GET", "/api/v1/cases/{id}/files/{file_id}"),
    ("DELETE", "/api/v1/cases/{id}/files/{file_id}"),
    ("GET", "/api/v1/cases/{id}/files/{file_id}/content"),
    ("POST", "/api/v1/cases/{id}/close-as-duplicate"),
    ("POST", "/api/v1/cases/{id}/merge"),
    ("GET", "/api/v1/cases/{id}/activities"),
    ("POST", "/api/v1/cases/{id}/activities"),
    ("PATCH", "/api/v1/activities/{id}"),
    ("DELETE", "/api/v1/activities/{id}"),
    ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/cases/{id}/milestones"),
    ("POST", "/api/v1/cases/{id}/milestones"),
    ("PATCH", "/api/v1/milestones/{id}"),
    ("DELETE", "/api/v1/milestones/{id}"),
    ("GET", "/api/v1/case-queues/{id}/milestone-templates"),
    ("PUT", "/api/v1/case-queues/{id}/milestone-templates"),
    ("GET", "/api/v1/business-calendars"),
    ("POST", "/api/v1/business-calendars"),
    ("GET", "/api/v1/business-calendars/{id}"),
    ("PATCH", "/api/v1/business-calendars/{id}"),
    ("DELETE", "/api/v1/business-calendars/{id}"),
    ("POST", "/api/v1/business-calendars/{id}/holidays/import"),
    ("GET", "/api/v1/sla-policies"),
    ("POST", "/api/v1/sla-policies"),
    ("GET", "/api/v1/sla-policies/{id}"),
    ("PATCH", "/api/v1/sla-policies/{id}"),
    ("DELETE", "/api/v1/sla-policies/{id}"),
    ("GET", "/api/v1/organization"),
    ("PATCH", "/api/v1/organization"),
    ("GET", "/api/v1/case-statuses"),
    ("POST", "/api/v1/case-statuses"),
    ("GET", "/api/v1/case-statuses/{id}"),
    ("PATCH", "/api/v1/case-statuses/{id}"),
    ("DELETE", "/api/v1/case-statuses/{id}"),
    ("GET", "/api/v1/funnel-stages"),
    ("POST", "/api/v1/funnel-stages"),
    ("GET", "/api/v1/funnel-stages/{id}"),
    ("PATCH", "/api/v1/funnel-stages/{id}"),
    ("DELETE", "/api/v1/funnel-stages/{id}"),
    ("GET", "/api/v1/case-categories"),
    ("POST", "/api/v1/case-categories"),
    ("GET", "/api/v1/case-categories/{id}"),
    ("PATCH", "/api/v1/case-categories/{id}"),
    ("DELETE", "/api/v1/case-categories/{id}"),
    ("POST", "/api/v1/imports/cases"),
    ("GET", "/api/v1/time-types"),
    ("POST", "/api/v1/time-types"),
    ("GET", "/api/v1/time-types/{id}"),
    ("PATCH", "/api/v1/time-types/{id}"),
    ("DELETE", "/api/v1/time-types/{id}"),
    ("GET", "/api/v1/timers"),
    ("POST", "/api/v1/cases/{id}/timer/start"),
    ("POST", "/api/v1/cases/{id}/timer/pause"),
    ("POST", "/api/v1/cases/{id}/timer/stop"),
    ("GET", "/api/v1/cases/{id}/time-entries"),
    ("POST", "/api/v1/cases/{id}/time-entries"),
    ("PUT", "/api/v1/cases/{id}/time-estimate"),
    ("GET", "/api/v1/time-entries"),
    ("GET", "/api/v1/time-entries/totals"),
    ("GET", "/api/v1/time-entries/{id}"),
    ("PATCH", "/api/v1/time-entries/{id}"),
    ("DELETE", "/api/v1/time-entries/{id}"),
    ("GET", "/api/v1/exports/cases.xlsx"),
    ("GET", "/api/v1/exports/cases.csv"),
];

/// The keys of an OpenAPI path item that name operations.
const OPERATION_KEYS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn table() -> BTreeSet<(String, String)> {
    let set: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(set.len(), ROUTES.len(), "the table lists an operation twice");
    set
}

/// Every (METHOD, path) operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().unwrap_or_else(|| panic!("path item of {path} is an object"));
        for key in item.keys().filter(|k| OPERATION_KEYS.contains(&k.as_str())) {
            out.insert((key.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

async fn fetch_document(app: &crate::helpers::TestApp) -> Value {
    let r = app.call(Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
    assert_eq!(r.status.as_u16(), 200, "openapi.json without a token: {}", r.body);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
    assert!(r.body.is_object(), "the document is a JSON object");
    r.body
}

#[tokio::test]
async fn openapi_document_is_served_without_a_token_as_openapi_3_1() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3.1"), "openapi version {version}");
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()), "info.title: {}", doc["info"]);
}

#[tokio::test]
async fn every_served_operation_is_documented_and_nothing_else() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let table = table();
    let documented = documented(&doc);
    let missing: Vec<_> = table.difference(&documented).collect();
    assert!(missing.is_empty(), "operations served but not in the OpenAPI document: {missing:?}");
    let extra: Vec<_> = documented.difference(&table).collect();
    assert!(extra.is_empty(), "operations in the OpenAPI document but not in this test's table: {extra:?}");
}

#[tokio::test]
async fn every_operation_in_the_table_is_routed_and_requires_a_token() {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for (method, template) in ROUTES {
        let path = template.replace("{id}", "x_not_an_id");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let body = serde_json::json!({});
        let body = (method == Method::POST || method == Method::PATCH).then_some(&body);
        let r = app.call(method.clone(), &path, None, body, &[]).await;
        if r.status.as_u16() != 401 || r.body["code"] != "unauthorized" {
            failures.push(format!("{method} {path}: {} {}", r.status, r.body));
        } else if r.header("www-authenticate").as_deref() != Some("Bearer") {
            failures.push(format!("{method} {path}: 401 without 'WWW-Authenticate: Bearer'"));
        }
    }
    assert!(failures.is_empty(), "operations that do not answer 401 without a token:\n{}", failures.join("\n"));
}

/// The check above would catch an unrouted operation: the server tells them apart.
#[tokio::test]
async fn unrouted_paths_and_methods_answer_404_and_405_even_without_a_token() {
    let app = spawn_app().await;
    app.call(Method::GET, "/api/v1/no-such-thing", None, None, &[]).await.assert_problem(404, "not_found");
    app.call(Method::PUT, "/api/v1/cases", None, None, &[]).await.assert_problem(405, "method_not_allowed");
    app.call(Method::POST, "/api/v1/cases/x/timeline", None, None, &[]).await.assert_problem(405, "method_not_allowed");
    app.call(Method::PATCH, "/api/v1/tokens/x", None, None, &[]).await.assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn document_declares_bearer_security_and_the_core_schemas() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "bearer scheme: {scheme}");
    assert_eq!(
        scheme["scheme"].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some("bearer"),
        "bearer scheme: {scheme}"
    );
    let security = doc["security"].as_array().expect("top-level security requirements");
    assert!(security.iter().any(|s| s.get("bearer").is_some()), "bearer is required globally: {security:?}");

    let schemas = doc["components"]["schemas"].as_object().expect("components.schemas");
    for name in ["CaseResponse", "Problem"] {
        assert!(schemas.contains_key(name), "schema {name} is missing; have {:?}", schemas.keys().collect::<Vec<_>>());
    }
    let case_props = schemas["CaseResponse"]["properties"].as_object().expect("CaseResponse.properties");
    for field in ["id", "case_number", "subject", "status", "priority", "type", "version"] {
        assert!(case_props.contains_key(field), "CaseResponse lacks {field}");
    }
    let problem_props = schemas["Problem"]["properties"].as_object().expect("Problem.properties");
    for field in ["type", "title", "status", "code", "detail"] {
        assert!(problem_props.contains_key(field), "Problem lacks {field}");
    }
}
