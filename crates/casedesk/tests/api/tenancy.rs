//! Tenancy: every record belongs to an organization; a token sees only its own; another
//! organization's id answers 404 exactly like a missing one.
//!
//! Organization A (the app's default) gets a queue, an account, a contact, a user, a case about
//! them, a comment and a token. Organization B's admin then calls every route that takes an id
//! with A's ids ([`id_routes`], checked against the OpenAPI table so no route is forgotten),
//! lists everything, and refers to A's records in bodies. Afterwards A's records are fetched
//! with A's token and must be exactly as before.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::directory::all_pages;
use crate::helpers::{Resp, TestApp, spawn_app};

/// The kinds of record a route's `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Case,
    User,
    Token,
    Account,
    Contact,
    Queue,
    Calendar,
    Policy,
    Status,
    Stage,
    Category,
    Activity,
    Milestone,
    TimeType,
    TimeEntry,
    View,
    BulkJob,
    Webhook,
    SigningKey,
    Mailbox,
    Email,
    Rule,
    Macro,
    Notification,
    Connector,
    /// A case in the trash.
    Trashed,
}

/// Every route that takes an id, with a valid body where it needs one. Writes come after reads
/// and deletes last, so a route that wrongly succeeded cannot hide what the others do.
fn id_routes() -> Vec<(Method, &'static str, Kind, Option<Value>)> {
    use Kind::*;
    vec![
        (Method::GET, "/api/v1/cases/{id}", Case, None),
        (Method::GET, "/api/v1/cases/{id}/comments", Case, None),
        (Method::GET, "/api/v1/cases/{id}/timeline", Case, None),
        (Method::GET, "/api/v1/users/{id}", User, None),
        (Method::GET, "/api/v1/accounts/{id}", Account, None),
        (Method::GET, "/api/v1/contacts/{id}", Contact, None),
        (Method::GET, "/api/v1/case-queues/{id}", Queue, None),
        (Method::GET, "/api/v1/case-queues/{id}/members", Queue, None),
        (Method::GET, "/api/v1/business-calendars/{id}", Calendar, None),
        (Method::GET, "/api/v1/sla-policies/{id}", Policy, None),
        (Method::GET, "/api/v1/case-statuses/{id}", Status, None),
        (Method::GET, "/api/v1/funnel-stages/{id}", Stage, None),
        (Method::GET, "/api/v1/case-categories/{id}", Category, None),
        (Method::PATCH, "/api/v1/case-categories/{id}", Category, Some(json!({"name": "Renamed by B"}))),
        (Method::PATCH, "/api/v1/case-statuses/{id}", Status, Some(json!({"name": "Renamed by B"}))),
        (Method::PATCH, "/api/v1/funnel-stages/{id}", Stage, Some(json!({"name": "Renamed by B"}))),
        (Method::POST, "/api/v1/cases/{id}/escalate", Case, Some(json!({"reason": "B escalates"}))),
        (Method::GET, "/api/v1/cases/{id}/links", Case, None),
        (Method::GET, "/api/v1/cases/{id}/activities", Case, None),
        (Method::GET, "/api/v1/cases/{id}/milestones", Case, None),
        (Method::POST, "/api/v1/cases/{id}/milestones", Case, Some(json!({"name": "B", "after_start_minutes": 5}))),
        (Method::PATCH, "/api/v1/milestones/{id}", Milestone, Some(json!({"completed": true}))),
        (Method::GET, "/api/v1/case-queues/{id}/milestone-templates", Queue, None),
        (Method::PUT, "/api/v1/case-queues/{id}/milestone-templates", Queue, Some(json!({"milestones": []}))),
        (Method::POST, "/api/v1/cases/{id}/activities", Case, Some(json!({"kind": "call", "subject": "B calls"}))),
        (Method::PATCH, "/api/v1/activities/{id}", Activity, Some(json!({"subject": "Renamed by B"}))),
        (
            Method::POST,
            "/api/v1/cases/{id}/links",
            Case,
            Some(json!({"type": "related", "case_id": "case_0000000000007000800000000000beef"})),
        ),
        (
            Method::POST,
            "/api/v1/cases/{id}/close-as-duplicate",
            Case,
            Some(json!({"of": "case_0000000000007000800000000000beef"})),
        ),
        (
            Method::POST,
            "/api/v1/cases/{id}/merge",
            Case,
            Some(json!({"source_ids": ["case_0000000000007000800000000000beef"]})),
        ),
        (Method::PUT, "/api/v1/case-queues/{id}/members/{user_id}", Queue, Some(json!({"skills": ["b"]}))),
        (
            Method::POST,
            "/api/v1/business-calendars/{id}/holidays/import",
            Calendar,
            Some(json!("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nEND:VEVENT\nEND:VCALENDAR")),
        ),
        (Method::PATCH, "/api/v1/business-calendars/{id}", Calendar, Some(json!({"name": "Renamed by B"}))),
        (Method::PATCH, "/api/v1/sla-policies/{id}", Policy, Some(json!({"name": "Renamed by B"}))),
        (Method::POST, "/api/v1/cases/{id}/comments", Case, Some(json!({"body": "B was here", "internal": false}))),
        (Method::PATCH, "/api/v1/cases/{id}", Case, Some(json!({"subject": "Taken over by B", "priority": "low"}))),
        (Method::PATCH, "/api/v1/users/{id}", User, Some(json!({"name": "Renamed by B", "availability": "offline"}))),
        (Method::PATCH, "/api/v1/accounts/{id}", Account, Some(json!({"name": "Renamed by B", "tier": null}))),
        (
            Method::PATCH,
            "/api/v1/contacts/{id}",
            Contact,
            Some(json!({"name": "Renamed by B", "email": "b@b.example"})),
        ),
        (
            Method::PATCH,
            "/api/v1/case-queues/{id}",
            Queue,
            Some(json!({"name": "Renamed by B", "assignment_method": "manual"})),
        ),
        (Method::DELETE, "/api/v1/cases/{id}", Case, None),
        (Method::DELETE, "/api/v1/users/{id}", User, None),
        (Method::DELETE, "/api/v1/tokens/{id}", Token, None),
        (Method::DELETE, "/api/v1/accounts/{id}", Account, None),
        (Method::DELETE, "/api/v1/contacts/{id}", Contact, None),
        (Method::DELETE, "/api/v1/case-queues/{id}/members/{user_id}", Queue, None),
        (Method::DELETE, "/api/v1/cases/{id}/links/{link_id}", Case, None),
        (Method::DELETE, "/api/v1/case-queues/{id}", Queue, None),
        (Method::DELETE, "/api/v1/sla-policies/{id}", Policy, None),
        (Method::DELETE, "/api/v1/business-calendars/{id}", Calendar, None),
        (Method::GET, "/api/v1/time-types/{id}", TimeType, None),
        (Method::GET, "/api/v1/time-entries/{id}", TimeEntry, None),
        (Method::GET, "/api/v1/cases/{id}/time-entries", Case, None),
        (Method::POST, "/api/v1/cases/{id}/time-entries", Case, Some(json!({"duration": "1h"}))),
        (Method::POST, "/api/v1/cases/{id}/timer/start", Case, None),
        (Method::POST, "/api/v1/cases/{id}/timer/pause", Case, None),
        (Method::POST, "/api/v1/cases/{id}/timer/stop", Case, None),
        (Method::PUT, "/api/v1/cases/{id}/time-estimate", Case, Some(json!({"time_estimate_minutes": 60}))),
        (Method::PATCH, "/api/v1/time-types/{id}", TimeType, Some(json!({"name": "Renamed by B"}))),
        (Method::PATCH, "/api/v1/time-entries/{id}", TimeEntry, Some(json!({"duration": "5h"}))),
        (Method::DELETE, "/api/v1/time-entries/{id}", TimeEntry, None),
        (Method::DELETE, "/api/v1/time-types/{id}", TimeType, None),
        (Method::DELETE, "/api/v1/case-statuses/{id}", Status, None),
        (Method::DELETE, "/api/v1/funnel-stages/{id}", Stage, None),
        (Method::DELETE, "/api/v1/case-categories/{id}", Category, None),
        (Method::DELETE, "/api/v1/activities/{id}", Activity, None),
        (Method::DELETE, "/api/v1/milestones/{id}", Milestone, None),
        (Method::GET, "/api/v1/views/{id}", View, None),
        (Method::GET, "/api/v1/views/{id}/cases", View, None),
        (Method::PATCH, "/api/v1/views/{id}", View, Some(json!({"name": "Renamed by B"}))),
        (Method::GET, "/api/v1/cases/{id}/files", Case, None),
        (Method::POST, "/api/v1/cases/{id}/files", Case, Some(json!({"file": "not multipart"}))),
        (Method::GET, "/api/v1/cases/{id}/files/{file_id}", Case, None),
        (Method::GET, "/api/v1/cases/{id}/files/{file_id}/content", Case, None),
        (Method::DELETE, "/api/v1/cases/{id}/files/{file_id}", Case, None),
        (Method::DELETE, "/api/v1/views/{id}", View, None),
        (Method::POST, "/api/v1/cases/{id}/ai", Case, Some(json!({"action": "summarize"}))),
        (Method::GET, "/api/v1/bulk-jobs/{id}", BulkJob, None),
        (Method::POST, "/api/v1/bulk-jobs/{id}/cancel", BulkJob, None),
        (Method::POST, "/api/v1/trash/cases/{id}/restore", Trashed, None),
        (Method::DELETE, "/api/v1/trash/cases/{id}", Trashed, None),
        (Method::GET, "/api/v1/webhooks/{id}", Webhook, None),
        (Method::GET, "/api/v1/signing-keys/{id}", SigningKey, None),
        (Method::GET, "/api/v1/webhooks/{id}/deliveries", Webhook, None),
        (Method::GET, "/api/v1/automation-rules/{id}", Rule, None),
        (Method::GET, "/api/v1/macros/{id}", Macro, None),
        (Method::POST, "/api/v1/automation-rules/{id}/dry-run", Rule, None),
        (Method::PATCH, "/api/v1/automation-rules/{id}", Rule, Some(json!({"active": false}))),
        (Method::PATCH, "/api/v1/macros/{id}", Macro, Some(json!({"name": "B's now"}))),
        (
            Method::POST,
            "/api/v1/cases/{id}/apply-macro",
            Case,
            Some(json!({"macro_id": "mac_0000000000007000800000000000dead"})),
        ),
        (Method::POST, "/api/v1/notifications/{id}/read", Notification, None),
        (Method::POST, "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", Webhook, None),
        (Method::PATCH, "/api/v1/webhooks/{id}", Webhook, Some(json!({"url": "https://b.example/steal"}))),
        (Method::DELETE, "/api/v1/webhooks/{id}", Webhook, None),
        (Method::DELETE, "/api/v1/signing-keys/{id}", SigningKey, None),
        (Method::GET, "/api/v1/mailboxes/{id}", Mailbox, None),
        (
            Method::PUT,
            "/api/v1/mailboxes/{id}/imap",
            Mailbox,
            Some(json!({"host": "imap.b.example", "username": "b@b.example", "password": "b's"})),
        ),
        (Method::DELETE, "/api/v1/mailboxes/{id}/imap", Mailbox, None),
        (Method::DELETE, "/api/v1/mailboxes/{id}", Mailbox, None),
        (Method::GET, "/api/v1/cases/{id}/emails", Case, None),
        (Method::GET, "/api/v1/cases/{id}/csat", Case, None),
        (
            Method::POST,
            "/api/v1/cases/{id}/send-update",
            Case,
            Some(json!({"to": ["b@b.example"], "message": "B writes"})),
        ),
        (Method::GET, "/api/v1/emails/{id}/original", Email, None),
        (Method::GET, "/api/v1/channel-connectors/{id}", Connector, None),
        (Method::GET, "/api/v1/channel-connectors/{id}/deliveries", Connector, None),
        (Method::POST, "/api/v1/channel-connectors/{id}/deliveries/{delivery_id}/redeliver", Connector, None),
        (Method::GET, "/api/v1/cases/{id}/channel-deliveries", Case, None),
        (Method::GET, "/api/v1/cases/{id}/reply-channels", Case, None),
        (Method::POST, "/api/v1/cases/{id}/read", Case, None),
        (Method::PATCH, "/api/v1/channel-connectors/{id}", Connector, Some(json!({"url": "https://b.example/steal"}))),
        (Method::DELETE, "/api/v1/channel-connectors/{id}", Connector, None),
        (Method::DELETE, "/api/v1/automation-rules/{id}", Rule, None),
        (Method::DELETE, "/api/v1/macros/{id}", Macro, None),
    ]
}

/// Well-formed ids of each kind that exist nowhere.
fn missing_id(kind: Kind) -> &'static str {
    match kind {
        Kind::Case => "case_0000000000007000800000000000dead",
        Kind::User => "usr_0000000000007000800000000000dead",
        Kind::Token => "tok_0000000000007000800000000000dead",
        Kind::Account => "acc_0000000000007000800000000000dead",
        Kind::Contact => "cnt_0000000000007000800000000000dead",
        Kind::Queue => "q_0000000000007000800000000000dead",
        Kind::Calendar => "cal_0000000000007000800000000000dead",
        Kind::Policy => "sla_0000000000007000800000000000dead",
        Kind::Status => "cst_0000000000007000800000000000dead",
        Kind::Stage => "stg_0000000000007000800000000000dead",
        Kind::Category => "ccat_0000000000007000800000000000dead",
        Kind::Activity => "act_0000000000007000800000000000dead",
        Kind::Milestone => "ms_0000000000007000800000000000dead",
        Kind::TimeType => "tt_0000000000007000800000000000dead",
        Kind::TimeEntry => "te_0000000000007000800000000000dead",
        Kind::View => "vw_0000000000007000800000000000dead",
        Kind::BulkJob => "bulk_0000000000007000800000000000dead",
        Kind::Webhook => "wh_0000000000007000800000000000dead",
        Kind::SigningKey => "sk_0000000000007000800000000000dead",
        Kind::Mailbox => "mbx_0000000000007000800000000000dead",
        Kind::Email => "eml_0000000000007000800000000000dead",
        Kind::Rule => "rule_0000000000007000800000000000dead",
        Kind::Macro => "mac_0000000000007000800000000000dead",
        Kind::Notification => "ntf_0000000000007000800000000000dead",
        Kind::Connector => "chc_0000000000007000800000000000dead",
        Kind::Trashed => "case_0000000000007000800000000000dead",
    }
}

/// Organization A's records.
struct OrgA {
    case_id: String,
    comment_id: String,
    user_id: String,
    token_id: String,
    token_secret: String,
    account_id: String,
    contact_id: String,
    contact_email: String,
    queue_id: String,
    calendar_id: String,
    policy_id: String,
    status_id: String,
    stage_id: String,
    category_id: String,
    activity_id: String,
    milestone_id: String,
    time_type_id: String,
    time_entry_id: String,
    file_id: String,
    view_id: String,
    bulk_job_id: String,
    trashed_id: String,
    webhook_id: String,
    delivery_id: String,
    signing_key_id: String,
    mailbox_id: String,
    email_id: String,
    rule_id: String,
    macro_id: String,
    notification_id: String,
    connector_id: String,
}

impl OrgA {
    fn id(&self, kind: Kind) -> &str {
        match kind {
            Kind::Case => &self.case_id,
            Kind::User => &self.user_id,
            Kind::Token => &self.token_id,
            Kind::Account => &self.account_id,
            Kind::Contact => &self.contact_id,
            Kind::Queue => &self.queue_id,
            Kind::Calendar => &self.calendar_id,
            Kind::Policy => &self.policy_id,
            Kind::Status => &self.status_id,
            Kind::Stage => &self.stage_id,
            Kind::Category => &self.category_id,
            Kind::Activity => &self.activity_id,
            Kind::Milestone => &self.milestone_id,
            Kind::TimeType => &self.time_type_id,
            Kind::TimeEntry => &self.time_entry_id,
            Kind::View => &self.view_id,
            Kind::BulkJob => &self.bulk_job_id,
            Kind::Webhook => &self.webhook_id,
            Kind::SigningKey => &self.signing_key_id,
            Kind::Mailbox => &self.mailbox_id,
            Kind::Email => &self.email_id,
            Kind::Rule => &self.rule_id,
            Kind::Macro => &self.macro_id,
            Kind::Notification => &self.notification_id,
            Kind::Connector => &self.connector_id,
            Kind::Trashed => &self.trashed_id,
        }
    }
}

#[track_caller]
fn created(r: &Resp, what: &str) -> String {
    assert_eq!(r.status.as_u16(), 201, "create {what}: {}", r.body);
    r.body["id"].as_str().unwrap_or_else(|| panic!("{what} has an id: {}", r.body)).to_string()
}

async fn seed_org_a(app: &TestApp) -> OrgA {
    let queue_id = created(
        &app.post("/api/v1/case-queues", json!({"name": "A queue", "assignment_method": "manual"})).await,
        "queue",
    );
    let account_id = created(
        &app.post("/api/v1/accounts", json!({"name": "A Corp", "domain": "a.example", "tier": "vip"})).await,
        "account",
    );
    let contact_email = "ana@a.example".to_string();
    let contact_id = created(
        &app.post(
            "/api/v1/contacts",
            json!({"name": "Ana A", "email": contact_email, "account_id": account_id, "external_id": "a-ext-1"}),
        )
        .await,
        "contact",
    );
    let user_id = created(
        &app.post("/api/v1/users", json!({"email": "agent@a.example", "name": "A Agent", "role": "agent"})).await,
        "user",
    );
    let case = app
        .create_case(json!({
            "subject": "A's printer is on fire",
            "description": "Only A may see this",
            "contact_id": contact_id,
            "account_id": account_id,
            "queue_id": queue_id,
            "owner_id": user_id,
            "tags": ["a-only"],
        }))
        .await;
    let case_id = case["id"].as_str().expect("case id").to_string();
    assert_eq!(case["organization_id"], app.org_id.as_str(), "A's case belongs to A");
    let comment_id = created(
        &app.post(&format!("/api/v1/cases/{case_id}/comments"), json!({"body": "A's comment"})).await,
        "comment",
    );
    let t = app.post("/api/v1/tokens", json!({"name": "A agent token", "user_id": user_id})).await;
    let token_id = created(&t, "token");
    let token_secret = t.body["secret"].as_str().expect("secret").to_string();
    let calendar = json!({"name": "A hours", "time_zone": "Europe/Berlin", "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}});
    let calendar_id = created(&app.post("/api/v1/business-calendars", calendar).await, "calendar");
    let policy = json!({"name": "A SLA", "calendar_id": calendar_id,
        "rules": [{"priority": "high", "first_response_minutes": 60, "resolution_minutes": 480}]});
    let policy_id = created(&app.post("/api/v1/sla-policies", policy).await, "policy");
    // A's user is a member of A's queue, so B's attempts on the membership hit a real one.
    let m = app
        .call(
            Method::PUT,
            &format!("/api/v1/case-queues/{queue_id}/members/{user_id}"),
            Some(&app.token),
            Some(&json!({"skills": ["a"]})),
            &[],
        )
        .await;
    assert_eq!(m.status.as_u16(), 200, "A adds a member: {}", m.body);
    let status_id = created(
        &app.post("/api/v1/case-statuses", json!({"name": "A waiting", "category": "pending"})).await,
        "status",
    );
    let stage_id = created(&app.post("/api/v1/funnel-stages", json!({"name": "A intake"})).await, "stage");
    let category_id = created(&app.post("/api/v1/case-categories", json!({"name": "A kind"})).await, "category");
    let activity_id = created(
        &app.post(&format!("/api/v1/cases/{case_id}/activities"), json!({"kind": "task", "subject": "A's task"})).await,
        "activity",
    );
    let time_type_id = created(&app.post("/api/v1/time-types", json!({"name": "A travel"})).await, "time type");
    let entry = json!({"duration": "2h", "time_type_id": time_type_id, "note": "A's work"});
    let time_entry_id = created(&app.post(&format!("/api/v1/cases/{case_id}/time-entries"), entry).await, "time entry");
    let est = app
        .call(
            Method::PUT,
            &format!("/api/v1/cases/{case_id}/time-estimate"),
            Some(&app.token),
            Some(&json!({"time_estimate_minutes": "3h"})),
            &[],
        )
        .await;
    assert_eq!(est.status.as_u16(), 200, "A sets an estimate: {}", est.body);
    let milestone_id = created(
        &app.post(
            &format!("/api/v1/cases/{case_id}/milestones"),
            json!({"name": "A's step", "after_start_minutes": 600}),
        )
        .await,
        "milestone",
    );
    let file = crate::files::upload(app, &case_id, "a-only.png", None, &crate::files::png(400, 1)).await;
    let file_id = created(&file, "file");
    let view = json!({"name": "A's shared view", "query": "tag:a-only", "scope": "organization"});
    let view_id = created(&app.post("/api/v1/views", view).await, "view");
    let trashed = app.create_case(json!({"subject": "A's deleted case"})).await;
    let trashed_id = trashed["id"].as_str().expect("id").to_string();
    assert_eq!(app.delete(&format!("/api/v1/cases/{trashed_id}")).await.status.as_u16(), 204, "A deletes a case");
    // A job that matches nothing, so it is finished (and A's records settled) before the test looks.
    let job = app.post("/api/v1/cases/bulk", json!({"action": "close", "query": "tag:nothing-has-this"})).await;
    assert_eq!(job.status.as_u16(), 202, "A starts a bulk job: {}", job.body);
    let bulk_job_id = job.body["id"].as_str().expect("job id").to_string();
    crate::bulk::wait_for_job(app, &app.token, &bulk_job_id).await;
    let (webhook_id, delivery_id) = crate::webhooks::unreachable_webhook_with_a_delivery(app).await;
    let signing_key_id =
        created(&app.post("/api/v1/signing-keys", json!({"alg": "HS256", "kid": "a-key"})).await, "signing key");
    let mailbox_id = created(&app.post("/api/v1/mailboxes", json!({"address": "help@a.example"})).await, "mailbox");
    let email = app
        .client
        .post(format!("{}/api/v1/inbound/email", app.base))
        .bearer_auth(&app.token)
        .body("From: Ana <ana@a.example>\r\nTo: help@a.example\r\nSubject: A's mail\r\nMessage-ID: <a-1@a.example>\r\n\r\nHello A.\r\n")
        .send()
        .await
        .expect("inbound mail");
    assert_eq!(email.status().as_u16(), 201, "A takes in a message");
    let email: Value = email.json().await.expect("json");
    let email_id = email["id"].as_str().expect("email id").to_string();
    let rule = json!({"name": "A's rule", "trigger": "case.created", "actions": [{"type": "add_tag", "tag": "a"}]});
    let rule_id = created(&app.post("/api/v1/automation-rules", rule).await, "rule");
    let macro_id = created(&app.post("/api/v1/macros", json!({"name": "A's macro", "body": "Hi"})).await, "macro");
    let connector = json!({"channel": "chat", "url": "http://127.0.0.1:9/a-chat"});
    let connector_id = created(&app.post("/api/v1/channel-connectors", connector).await, "connector");
    let notification = casedesk_domain::notification::Notification {
        id: casedesk_domain::ids::IdKind::Notification.new_id(),
        org_id: app.org_id.clone(),
        user_id: app.admin_id.clone(),
        case_id: Some(case_id.clone()),
        rule_id: None,
        message: "for A".into(),
        read_at: None,
        created_at: jiff::Timestamp::now(),
    };
    app.core.store.insert_notifications(std::slice::from_ref(&notification)).await.expect("notification");
    OrgA {
        mailbox_id,
        email_id,
        signing_key_id,
        rule_id,
        macro_id,
        notification_id: notification.id,
        connector_id,
        webhook_id,
        delivery_id,
        bulk_job_id,
        trashed_id,
        view_id,
        file_id,
        milestone_id,
        activity_id,
        category_id,
        status_id,
        stage_id,
        case_id,
        comment_id,
        user_id,
        token_id,
        token_secret,
        account_id,
        contact_id,
        contact_email,
        queue_id,
        calendar_id,
        policy_id,
        time_type_id,
        time_entry_id,
    }
}

/// What A's token shows of A's records, to compare before and after B's attempts.
async fn snapshot(app: &TestApp, a: &OrgA) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/cases/{}", a.case_id),
        format!("/api/v1/cases/{}/comments", a.case_id),
        format!("/api/v1/cases/{}/timeline", a.case_id),
        format!("/api/v1/users/{}", a.user_id),
        format!("/api/v1/accounts/{}", a.account_id),
        format!("/api/v1/contacts/{}", a.contact_id),
        format!("/api/v1/case-queues/{}", a.queue_id),
        format!("/api/v1/case-queues/{}/members", a.queue_id),
        format!("/api/v1/business-calendars/{}", a.calendar_id),
        format!("/api/v1/sla-policies/{}", a.policy_id),
        format!("/api/v1/case-statuses/{}", a.status_id),
        format!("/api/v1/funnel-stages/{}", a.stage_id),
        format!("/api/v1/case-categories/{}", a.category_id),
        format!("/api/v1/cases/{}/milestones", a.case_id),
        format!("/api/v1/time-types/{}", a.time_type_id),
        format!("/api/v1/time-entries/{}", a.time_entry_id),
        format!("/api/v1/cases/{}/time-entries", a.case_id),
        format!("/api/v1/cases/{}/files", a.case_id),
        format!("/api/v1/views/{}", a.view_id),
        format!("/api/v1/cases/{}/files/{}/content", a.case_id, a.file_id),
        format!("/api/v1/bulk-jobs/{}", a.bulk_job_id),
        "/api/v1/trash/cases".to_string(),
        format!("/api/v1/webhooks/{}", a.webhook_id),
        format!("/api/v1/signing-keys/{}", a.signing_key_id),
        format!("/api/v1/cases/{}/emails", a.case_id),
        "/api/v1/mailboxes".to_string(),
        format!("/api/v1/automation-rules/{}", a.rule_id),
        format!("/api/v1/macros/{}", a.macro_id),
        "/api/v1/notifications".to_string(),
        format!("/api/v1/channel-connectors/{}", a.connector_id),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status.as_u16(), 200, "A reads its own {path}: {}", r.body);
        out.push((path, r.body));
    }
    let tokens = all_pages(app, &app.token, "/api/v1/tokens", 200).await;
    let token = tokens.into_iter().find(|t| t["id"] == a.token_id.as_str()).expect("A's token is listed");
    out.push(("token".into(), token));
    out
}

/// A's records are exactly as they were, and A's token still works.
async fn assert_unchanged(app: &TestApp, a: &OrgA, before: &[(String, Value)]) {
    let after = snapshot(app, a).await;
    for ((path, b), (_, n)) in before.iter().zip(&after) {
        assert_eq!(b, n, "A's {path} changed");
    }
    let comments = &after[1].1["data"];
    assert_eq!(comments.as_array().map(Vec::len), Some(1), "A's case has only A's comment: {comments}");
    assert_eq!(comments[0]["id"], a.comment_id.as_str());
    let r = app.call(Method::GET, "/api/v1/cases", Some(&a.token_secret), None, &[]).await;
    assert_eq!(r.status.as_u16(), 200, "A's agent token still works: {}", r.body);
}

#[tokio::test]
async fn every_id_route_answers_404_for_another_organizations_id_exactly_like_a_missing_one() {
    let app = spawn_app().await;
    let a = seed_org_a(&app).await;
    let before = snapshot(&app, &a).await;
    let (b_org, b_token) = app.other_org().await;
    assert_ne!(b_org, app.org_id, "B is another organization");

    // The table covers every route of the API that takes an id.
    let covered: BTreeSet<(String, String)> =
        id_routes().iter().map(|(m, p, _, _)| (m.as_str().to_string(), p.to_string())).collect();
    let all_id_routes: BTreeSet<(String, String)> = crate::openapi::ROUTES
        .iter()
        .filter(|(_, p)| p.contains("{id}"))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(covered, all_id_routes, "the tenancy table must cover exactly the routes that take an id");

    let mut failures = Vec::new();
    for (method, template, kind, body) in id_routes() {
        let theirs = template
            .replace("{id}", a.id(kind))
            .replace("{user_id}", &a.user_id)
            .replace("{file_id}", &a.file_id)
            .replace("{delivery_id}", &a.delivery_id);
        let missing = template
            .replace("{id}", missing_id(kind))
            .replace("{user_id}", &a.user_id)
            .replace("{file_id}", &a.file_id)
            .replace("{delivery_id}", &a.delivery_id);
        let r = app.call(method.clone(), &theirs, Some(&b_token), body.as_ref(), &[]).await;
        let m = app.call(method.clone(), &missing, Some(&b_token), body.as_ref(), &[]).await;
        assert_eq!(m.status.as_u16(), 404, "{method} {missing} (no such record): {}", m.body);
        if r.status.as_u16() != 404 || r.body["code"] != "not_found" {
            failures.push(format!("{method} {template} with A's id: {} {}", r.status, r.body));
        } else if r.body != m.body {
            // The whole problem body: code, detail, title, status and type.
            failures.push(format!("{method} {template}: A's id answers {} but a missing id {}", r.body, m.body));
        } else if r.header("content-type") != m.header("content-type") {
            failures.push(format!("{method} {template}: content types differ"));
        }
    }

    // Whatever went wrong above, A's records must not have changed.
    assert_unchanged(&app, &a, &before).await;
    assert!(
        failures.is_empty(),
        "routes that treat another organization's id unlike a missing one:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn another_organizations_lists_hold_none_of_its_records() {
    let app = spawn_app().await;
    let a = seed_org_a(&app).await;
    let before = snapshot(&app, &a).await;
    let (b_org, b_token) = app.other_org().await;
    let b = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let b_token = b_token.clone();
        async move { app.call(method, &path, Some(&b_token), body.as_ref(), &[]).await }
    };

    // B's own records, so B's lists are not trivially empty.
    let b_queue =
        created(&b(Method::POST, "/api/v1/case-queues".into(), Some(json!({"name": "B queue"}))).await, "B queue");
    let b_account =
        created(&b(Method::POST, "/api/v1/accounts".into(), Some(json!({"name": "B Corp"}))).await, "B account");
    // The same email and external id as A's contact: B's filters must still find only B's.
    let b_contact = created(
        &b(
            Method::POST,
            "/api/v1/contacts".into(),
            Some(json!({"name": "Bo B", "email": a.contact_email, "account_id": b_account, "external_id": "a-ext-1"})),
        )
        .await,
        "B contact",
    );
    let r = b(
        Method::POST,
        "/api/v1/cases".into(),
        Some(json!({"subject": "B's case", "contact_id": b_contact, "queue_id": b_queue})),
    )
    .await;
    let b_case = created(&r, "B case");
    assert_eq!(r.body["organization_id"], b_org.as_str(), "B's case belongs to B");
    let b_webhook = created(
        &b(Method::POST, "/api/v1/webhooks".into(), Some(json!({"url": "http://127.0.0.1:9/b-hook"}))).await,
        "B webhook",
    );
    // The same kid as A's key: kids are unique per organization.
    let b_key = created(
        &b(Method::POST, "/api/v1/signing-keys".into(), Some(json!({"alg": "HS256", "kid": "a-key"}))).await,
        "B signing key",
    );

    for (path, own) in [
        ("/api/v1/cases", Some(&b_case)),
        ("/api/v1/users", None),
        ("/api/v1/tokens", None),
        ("/api/v1/accounts", Some(&b_account)),
        ("/api/v1/contacts", Some(&b_contact)),
        ("/api/v1/case-queues", Some(&b_queue)),
        ("/api/v1/webhooks", Some(&b_webhook)),
        ("/api/v1/signing-keys", Some(&b_key)),
    ] {
        let a_ids: BTreeSet<String> = all_pages(&app, &app.token, path, 200)
            .await
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect();
        let b_ids: BTreeSet<String> = all_pages(&app, &b_token, path, 200)
            .await
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect();
        assert!(!a_ids.is_empty(), "A's {path} is not empty");
        assert!(!b_ids.is_empty(), "B's {path} is not empty (B's own admin, token or record)");
        let leaked: Vec<_> = a_ids.intersection(&b_ids).collect();
        assert!(leaked.is_empty(), "B's {path} shows A's records {leaked:?}");
        if let Some(own) = own {
            assert!(b_ids.contains(own), "B's {path} shows B's own {own}");
        }
    }
    let a_all = [&a.case_id, &a.user_id, &a.token_id, &a.account_id, &a.contact_id, &a.queue_id];

    // Filters by A's ids find nothing of B's and nothing of A's.
    for path in [
        format!("/api/v1/cases?contact_id={}", a.contact_id),
        format!("/api/v1/cases?account_id={}", a.account_id),
        format!("/api/v1/cases?queue_id={}", a.queue_id),
        format!("/api/v1/cases?owner_id={}", a.user_id),
        "/api/v1/cases?tag=a-only".to_string(),
        "/api/v1/cases?q=printer".to_string(),
        format!("/api/v1/contacts?account_id={}", a.account_id),
    ] {
        let r = b(Method::GET, path.clone(), None).await;
        assert_eq!(r.status.as_u16(), 200, "B {path}: {}", r.body);
        assert_eq!(r.body["data"], json!([]), "B {path} finds nothing");
    }
    // By email and external id B finds exactly its own contact, not A's with the same values.
    for path in [
        format!("/api/v1/contacts?email={}", a.contact_email.replace('@', "%40")),
        "/api/v1/contacts?external_id=a-ext-1".to_string(),
    ] {
        let r = b(Method::GET, path.clone(), None).await;
        assert_eq!(r.status.as_u16(), 200, "B {path}: {}", r.body);
        let ids: Vec<&str> = r.body["data"].as_array().expect("data").iter().filter_map(|c| c["id"].as_str()).collect();
        assert_eq!(ids, [b_contact.as_str()], "B {path}");
    }
    // B's case detail and lists never embed A's records.
    let detail = b(Method::GET, format!("/api/v1/cases/{b_case}"), None).await;
    assert_eq!(detail.status.as_u16(), 200, "{}", detail.body);
    let text = detail.body.to_string();
    for id in a_all {
        assert!(!text.contains(id.as_str()), "B's case detail mentions A's {id}: {text}");
    }
    // B's export holds B's case only, and names none of A's records.
    let columns = "subject,queue,assignee,requester,contact,account,tags";
    for q in ["", "printer", "tag:a-only"] {
        let path = format!("/api/v1/exports/cases.csv?columns={columns}&q={q}");
        let r = app.client.get(format!("{}{path}", app.base)).bearer_auth(&b_token).send().await.expect("export");
        assert_eq!(r.status().as_u16(), 200, "B {path}");
        let text = r.text().await.expect("csv");
        let lines: Vec<&str> = text.lines().collect();
        let want = if q.is_empty() { 2 } else { 1 };
        assert_eq!(lines.len(), want, "B {path}: {text}");
        for id in a_all {
            assert!(!text.contains(id.as_str()), "B's export mentions A's {id}: {text}");
        }
    }

    // B's reports count B's case only, grouped under B's records.
    for group_by in ["none", "queue", "agent", "category"] {
        for kind in ["volume", "backlog", "time-tracking"] {
            let path = format!("/api/v1/reports/{kind}?group_by={group_by}");
            let r = b(Method::GET, path.clone(), None).await;
            assert_eq!(r.status.as_u16(), 200, "B {path}: {}", r.body);
            let text = r.body.to_string();
            for id in a_all {
                assert!(!text.contains(id.as_str()), "B's {path} mentions A's {id}: {text}");
            }
            if kind == "volume" {
                let created: i64 =
                    r.body["totals"].as_array().unwrap().iter().map(|t| t["values"]["created"].as_i64().unwrap()).sum();
                assert_eq!(created, 1, "B {path}: {text}");
            }
        }
    }

    assert_unchanged(&app, &a, &before).await;
}

#[tokio::test]
async fn references_to_another_organizations_records_are_invalid_fields() {
    let app = spawn_app().await;
    let a = seed_org_a(&app).await;
    let before = snapshot(&app, &a).await;
    let (_, b_token) = app.other_org().await;
    let b_post = |path: &'static str, body: Value| {
        let app = &app;
        let b_token = b_token.clone();
        async move { app.call(Method::POST, path, Some(&b_token), Some(&body), &[]).await }
    };

    let refs = [
        ("contact_id", a.contact_id.as_str()),
        ("account_id", a.account_id.as_str()),
        ("queue_id", a.queue_id.as_str()),
        ("owner_id", a.user_id.as_str()),
        ("requester_id", a.contact_id.as_str()),
        ("requester_id", a.user_id.as_str()),
    ];
    // One at a time, each is named…
    for (field, id) in refs {
        let r = b_post("/api/v1/cases", json!({"subject": "B's case", field: id})).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "B creating a case with A's {field}: {}", r.body);
    }
    // …and all at once, all are.
    let r = b_post(
        "/api/v1/cases",
        json!({"subject": "B's case", "contact_id": a.contact_id, "account_id": a.account_id, "queue_id": a.queue_id, "owner_id": a.user_id}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    let fields: BTreeSet<String> = r.error_fields().into_iter().collect();
    assert_eq!(fields, ["account_id", "contact_id", "owner_id", "queue_id"].map(String::from).into(), "{}", r.body);

    // Changing B's own case to point at A's records is refused the same way.
    let b_case = created(&b_post("/api/v1/cases", json!({"subject": "B's own case"})).await, "B case");
    for (field, id) in refs {
        let r = app
            .call(Method::PATCH, &format!("/api/v1/cases/{b_case}"), Some(&b_token), Some(&json!({field: id})), &[])
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "B moving its case to A's {field}: {}", r.body);
    }

    // A contact in A's account, a token for A's user, an import about A's contact.
    let r = b_post("/api/v1/contacts", json!({"name": "Bo", "account_id": a.account_id})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["account_id"], "{}", r.body);
    let r = b_post("/api/v1/tokens", json!({"name": "steal", "user_id": a.user_id})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["user_id"], "{}", r.body);
    let r = b_post(
        "/api/v1/imports/cases",
        json!({"cases": [{"subject": "old", "created_at": "2024-01-01T00:00:00Z", "contact_id": a.contact_id}]}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["cases[0].contact_id"], "{}", r.body);

    // Nothing of B's ended up pointing at A's records.
    let b_cases = all_pages(&app, &b_token, "/api/v1/cases", 200).await;
    assert_eq!(b_cases.len(), 1, "only B's own case exists in B");
    assert_unchanged(&app, &a, &before).await;
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_organization() {
    let app = spawn_app().await;
    let body = json!({"name": "Same Person", "email": "same@example.com"});
    let key = [("idempotency-key", "shared-key-1")];
    let ra = app.call(Method::POST, "/api/v1/contacts", Some(&app.token), Some(&body), &key).await;
    let a_id = created(&ra, "A contact");
    let (_, b_token) = app.other_org().await;
    let rb = app.call(Method::POST, "/api/v1/contacts", Some(&b_token), Some(&body), &key).await;
    let b_id = created(&rb, "B contact");
    assert_ne!(a_id, b_id, "B's request with A's key creates B's own contact");
    assert_eq!(rb.header("idempotent-replayed"), None, "B's first request is not a replay of A's");
    let r = app.call(Method::GET, &format!("/api/v1/contacts/{b_id}"), Some(&b_token), None, &[]).await;
    assert_eq!(r.status.as_u16(), 200, "B reads its contact: {}", r.body);
    app.get(&format!("/api/v1/contacts/{b_id}")).await.assert_problem(404, "not_found");
}
