//! The search syntax (`q=` on `/api/v1/cases` and `/api/v1/search/cases`): every operator is
//! checked against the same condition worked out a second way, from the full case list (and,
//! where one exists, against the list's own filter parameter).

use std::collections::BTreeSet;

use casedesk_core::Clock;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn ts(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// The ids a query finds, through every page of `/api/v1/cases?q=`.
async fn found(app: &TestApp, q: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/cases", app.base)).expect("url");
        url.query_pairs_mut().append_pair("q", q).append_pair("limit", "7");
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let path = format!("{}?{}", url.path(), url.query().unwrap_or(""));
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        out.extend(r.body["data"].as_array().expect("data").iter().map(id));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// The ids of the list endpoint with plain filter parameters.
async fn listed(app: &TestApp, params: &str) -> BTreeSet<String> {
    let r = app.get(&format!("/api/v1/cases?limit=200&{params}")).await;
    assert_eq!(r.status, StatusCode::OK, "{params}: {}", r.body);
    r.body["data"].as_array().expect("data").iter().map(id).collect()
}

struct World {
    all: Vec<Value>,
    agent: String,
    agent_token: String,
    tier1: String,
    acme: String,
    complaint: String,
    ana_contact: String,
    with_file: String,
    with_overdue_milestone: String,
}

async fn build(app: &TestApp) -> World {
    let clock = app.clock.clone().expect("manual clock");
    let tick = |mins: i64| clock.advance(SignedDuration::from_mins(mins));
    let (agent, agent_token) = app.agent().await;
    let agent_email =
        app.get(&format!("/api/v1/users/{agent}")).await.body["email"].as_str().expect("email").to_string();
    assert!(!agent_email.is_empty());
    let tier1 =
        id(&app.post("/api/v1/case-queues", json!({"name": "Tier 1", "assignment_method": "manual"})).await.body);
    let billing =
        id(&app.post("/api/v1/case-queues", json!({"name": "Billing", "assignment_method": "manual"})).await.body);
    let acme = id(&app.post("/api/v1/accounts", json!({"name": "Acme", "domain": "acme.example"})).await.body);
    let globex = id(&app.post("/api/v1/accounts", json!({"name": "Globex"})).await.body);
    let ana_contact = id(&app
        .post("/api/v1/contacts", json!({"name": "Ana", "email": "ana@acme.example", "account_id": acme}))
        .await
        .body);
    let bob = id(&app
        .post("/api/v1/contacts", json!({"name": "Bob", "email": "bob@globex.example", "account_id": globex}))
        .await
        .body);
    let complaint = id(&app
        .post("/api/v1/case-categories", json!({"name": "Complaint", "fields": [{"key": "order_id", "kind": "text"}]}))
        .await
        .body);
    let policy = app
        .post(
            "/api/v1/sla-policies",
            json!({"name": "Fast", "rules": [{"priority": "critical", "first_response_minutes": 30, "resolution_minutes": 600}]}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    app.patch(&format!("/api/v1/case-queues/{billing}"), json!({"sla_policy_id": id(&policy.body)})).await;

    let specs = [
        json!({"subject": "Printer shows a paper jam", "description": "The office printer on floor 2", "priority": "high",
               "type": "incident", "queue_id": tier1, "contact_id": ana_contact, "tags": ["vip", "printer"]}),
        json!({"subject": "Invoice is wrong", "description": "Order 4521 billed twice", "priority": "critical",
               "queue_id": billing, "contact_id": bob, "tags": ["billing"], "category_id": complaint,
               "custom_fields": {"order_id": "4521"}}),
        json!({"subject": "Jam in the paper tray", "description": "paper everywhere", "priority": "low", "type": "problem",
               "tags": ["spam"]}),
        json!({"subject": "Password reset", "description": "cannot log in", "priority": "medium", "owner_id": agent,
               "contact_id": ana_contact}),
        json!({"subject": "Café order", "description": "Order 9999 arrived cold", "priority": "critical", "queue_id": billing,
               "category_id": complaint, "custom_fields": {"order_id": "9999"}, "tags": ["vip"]}),
        json!({"subject": "Question about plans", "description": "which plan fits", "type": "question"}),
    ];
    let mut ids = Vec::new();
    for spec in specs {
        ids.push(id(&app.create_case(spec).await));
        tick(60 * 24);
    }
    // One case created by the agent.
    let r = app
        .call(Method::POST, "/api/v1/cases", Some(&agent_token), Some(&json!({"subject": "Agent's own case"})), &[])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    ids.push(id(&r.body));
    tick(60);
    // Changes: assign, close, update by the agent.
    app.patch(&format!("/api/v1/cases/{}", ids[0]), json!({"owner_id": app.admin_id, "status": "open"})).await;
    tick(60);
    app.patch(&format!("/api/v1/cases/{}", ids[2]), json!({"status": "closed"})).await;
    tick(60);
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/cases/{}", ids[5]),
            Some(&agent_token),
            Some(&json!({"status": "pending"})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A file on one case, an overdue milestone on another.
    let f = crate::files::upload(app, &ids[3], "log.txt", Some("text/plain"), b"log").await;
    assert_eq!(f.status, StatusCode::CREATED);
    let m = app
        .post(&format!("/api/v1/cases/{}/milestones", ids[0]), json!({"name": "Call back", "after_start_minutes": 30}))
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.body);
    // Time passes: the critical billing cases' 30-minute response targets breach.
    tick(120);
    app.core.sweep_sla().await.expect("sla sweep");
    app.core.sweep_milestones().await.expect("milestone sweep");
    // A new critical billing case whose targets are running.
    let fresh = json!({"subject": "Card declined", "priority": "critical", "queue_id": billing});
    ids.push(id(&app.create_case(fresh).await));
    let all = app.get("/api/v1/cases?limit=200").await.body["data"].as_array().expect("data").clone();
    assert_eq!(all.len(), ids.len());
    World {
        all,
        agent,
        agent_token,
        tier1,
        acme,
        complaint,
        ana_contact,
        with_file: ids[3].clone(),
        with_overdue_milestone: ids[0].clone(),
    }
}

impl World {
    fn matching(&self, f: impl Fn(&Value) -> bool) -> BTreeSet<String> {
        self.all.iter().filter(|c| f(c)).map(id).collect()
    }
}

fn has_tag(c: &Value, t: &str) -> bool {
    c["tags"].as_array().is_some_and(|a| a.iter().any(|x| x == t))
}

#[tokio::test]
async fn every_operator_finds_what_the_same_condition_finds_another_way() {
    let start: Timestamp = "2026-03-02T09:00:00Z".parse().expect("time");
    let app = spawn_app_at(start).await;
    let w = build(&app).await;
    let me = app.admin_id.clone();
    let now = app.clock.as_ref().expect("clock").now();
    let rank = |c: &Value| match c["priority"].as_str() {
        Some("low") => 1,
        Some("medium") => 2,
        Some("high") => 3,
        _ => 4,
    };

    let by_agent = format!("updated_by:{}", w.agent);
    let checks: Vec<(&str, BTreeSet<String>)> = vec![
        ("status:open,pending", w.matching(|c| c["status"] == "open" || c["status"] == "pending")),
        ("status:closed", w.matching(|c| c["status"] == "closed")),
        ("priority>=high", w.matching(|c| rank(c) >= 3)),
        ("priority>medium", w.matching(|c| rank(c) > 2)),
        ("priority<high", w.matching(|c| rank(c) < 3)),
        ("priority<=low", w.matching(|c| rank(c) <= 1)),
        ("priority:critical,low", w.matching(|c| c["priority"] == "critical" || c["priority"] == "low")),
        ("type:incident", w.matching(|c| c["type"] == "incident")),
        ("assignee:me", w.matching(|c| c["owner_id"] == me.as_str())),
        ("assignee:none", w.matching(|c| c["owner_id"].is_null())),
        ("-assignee:none", w.matching(|c| !c["owner_id"].is_null())),
        ("queue:\"Tier 1\"", w.matching(|c| c["queue_id"] == w.tier1.as_str())),
        ("queue:\"tier 1\",billing", w.matching(|c| !c["queue_id"].is_null())),
        ("-queue:billing", w.matching(|c| c["queue_id"] == w.tier1.as_str() || c["queue_id"].is_null())),
        ("requester:ana@acme.example", w.matching(|c| c["contact_id"] == w.ana_contact.as_str())),
        ("account:acme", w.matching(|c| c["account_id"] == w.acme.as_str())),
        ("account:acme.example", w.matching(|c| c["account_id"] == w.acme.as_str())),
        ("tag:vip", w.matching(|c| has_tag(c, "vip"))),
        ("tag:vip,billing", w.matching(|c| has_tag(c, "vip") || has_tag(c, "billing"))),
        ("-tag:spam", w.matching(|c| !has_tag(c, "spam"))),
        ("category:complaint", w.matching(|c| c["category_id"] == w.complaint.as_str())),
        ("cf.order_id:4521", w.matching(|c| c["custom_fields"]["order_id"] == "4521")),
        (
            "created>2026-03-04",
            w.matching(|c| ts(&c["created_at"]) >= Some("2026-03-05T00:00:00Z".parse().expect("t"))),
        ),
        (
            "created<=2026-03-03",
            w.matching(|c| ts(&c["created_at"]) < Some("2026-03-04T00:00:00Z".parse().expect("t"))),
        ),
        (
            "created:2026-03-03",
            w.matching(|c| {
                ts(&c["created_at"]).is_some_and(|t| {
                    t >= "2026-03-03T00:00:00Z".parse().expect("t") && t < "2026-03-04T00:00:00Z".parse().expect("t")
                })
            }),
        ),
        ("created<2d", w.matching(|c| ts(&c["created_at"]).is_some_and(|t| t >= now - SignedDuration::from_hours(48)))),
        ("updated>1d", w.matching(|c| ts(&c["updated_at"]).is_some_and(|t| t < now - SignedDuration::from_hours(24)))),
        ("closed:2026-03", w.matching(|c| !c["closed_at"].is_null())),
        ("sla:breached", w.matching(|c| c["sla_breached"] == true)),
        (
            "sla:due<30d",
            w.matching(|c| c["sla"]["targets"].as_array().is_some_and(|t| t.iter().any(|t| t["state"] == "running"))),
        ),
        ("milestone:overdue", [w.with_overdue_milestone.clone()].into()),
        ("has:attachment", [w.with_file.clone()].into()),
        ("created_by:me", w.matching(|c| c["created_by"] == me.as_str())),
        ("created_by:me -assignee:me", w.matching(|c| c["created_by"] == me.as_str() && c["owner_id"] != me.as_str())),
        ("updated_by:me", w.matching(|c| c["updated_by"] == me.as_str())),
        (by_agent.as_str(), w.matching(|c| c["updated_by"] == w.agent.as_str())),
        (
            "paper",
            w.matching(|c| {
                let t = format!("{} {}", c["subject"], c["description"]).to_lowercase();
                t.contains("paper")
            }),
        ),
        (
            "\"paper jam\"",
            w.matching(|c| c["subject"].as_str().is_some_and(|s| s.to_lowercase().contains("paper jam"))),
        ),
        (
            "jam paper",
            w.matching(|c| {
                let t = format!("{} {}", c["subject"], c["description"]).to_lowercase();
                t.contains("paper") && t.contains("jam")
            }),
        ),
        ("cafe", w.matching(|c| c["subject"] == "Café order")),
        (
            "order status:open,new priority>=high",
            w.matching(|c| {
                let t = format!("{} {}", c["subject"], c["description"]).to_lowercase();
                t.contains("order") && (c["status"] == "open" || c["status"] == "new") && rank(c) >= 3
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (q, expected) in &checks {
        let got = found(&app, q).await;
        if &got != expected {
            failures.push(format!("{q}: found {got:?}, expected {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every check finds something and leaves something out, so none passes by accident.
    for (q, expected) in &checks {
        assert!(!expected.is_empty() && expected.len() < w.all.len(), "{q} must split the cases: {expected:?}");
    }

    // The same filters through the list's own parameters.
    assert_eq!(found(&app, "sla:breached").await, listed(&app, "sla_breached=true").await);
    assert_eq!(found(&app, "milestone:overdue").await, listed(&app, "has_overdue_milestone=true").await);
    assert_eq!(found(&app, "assignee:none").await, listed(&app, "unassigned=true").await);
    assert_eq!(found(&app, "tag:vip").await, listed(&app, "tag=vip").await);
    assert_eq!(found(&app, "cf.order_id:9999").await, listed(&app, "cf.order_id=9999").await);
    assert_eq!(
        found(&app, &format!("assignee:{}", w.agent)).await,
        listed(&app, &format!("owner_id={}", w.agent)).await
    );
    assert_eq!(found(&app, "status:closed").await, listed(&app, "status=closed").await);
    // `me` is whoever asks.
    let r = app.call(Method::GET, "/api/v1/cases?q=assignee:me", Some(&w.agent_token), None, &[]).await;
    let mine: BTreeSet<String> = r.body["data"].as_array().expect("data").iter().map(id).collect();
    assert_eq!(mine, w.matching(|c| c["owner_id"] == w.agent.as_str()));
    // q combines with the other parameters.
    assert_eq!(
        listed(&app, "q=tag:vip&priority=critical").await,
        w.matching(|c| has_tag(c, "vip") && c["priority"] == "critical")
    );
}

#[tokio::test]
async fn the_search_endpoint_shows_where_the_text_matched() {
    let app = spawn_app().await;
    app.create_case(
        json!({"subject": "Printer shows a paper JAM", "description": "Third floor printer, paper tray 2"}),
    )
    .await;
    app.create_case(json!({"subject": "Unrelated", "description": "nothing to see"})).await;
    let r = app.get("/api/v1/search/cases?q=jam%20tray").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let hits = r.body["data"].as_array().expect("data");
    assert_eq!(hits.len(), 1);
    let hl = hits[0]["highlights"].as_array().expect("highlights");
    assert_eq!(hl[0]["field"], "subject");
    let fragment: Vec<char> = hl[0]["fragment"].as_str().expect("fragment").chars().collect();
    let marked: Vec<String> = hl[0]["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| {
            let (s, e) = (m[0].as_u64().expect("s") as usize, m[1].as_u64().expect("e") as usize);
            fragment[s..e].iter().collect()
        })
        .collect();
    assert_eq!(marked, ["JAM"]);
    assert_eq!(hl[1]["field"], "description");
    assert!(hl[1]["fragment"].as_str().expect("fragment").contains("tray"));
    // Conditions only: no highlights.
    let r = app.get("/api/v1/search/cases?q=status:new").await;
    assert_eq!(r.body["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.body["data"][0]["highlights"], json!([]));

    // Text found only in a comment: the first comment holding it says where.
    let c = app.create_case(json!({"subject": "Scanner", "description": "it is slow"})).await;
    let c = c["id"].as_str().expect("id");
    app.post(&format!("/api/v1/cases/{c}/comments"), json!({"body": "nothing yet"})).await;
    let note =
        app.post(&format!("/api/v1/cases/{c}/comments"), json!({"body": "The Zebra firmware is outdated"})).await;
    let r = app.get("/api/v1/search/cases?q=zebra").await;
    let hits = r.body["data"].as_array().expect("data");
    assert_eq!(hits.len(), 1, "{}", r.body);
    let hl = &hits[0]["highlights"];
    assert_eq!(hl.as_array().map(Vec::len), Some(1), "{hl}");
    assert_eq!(hl[0]["field"], "comment");
    assert_eq!(hl[0]["comment_id"], note.body["id"]);
    assert_eq!(hl[0]["fragment"], "The Zebra firmware is outdated");
    assert_eq!(hl[0]["matches"], json!([[4, 9]]));
    assert!(hits[0]["highlights"][0].get("comment_id").is_some());
    let r = app.get("/api/v1/search/cases?q=jam").await;
    assert!(r.body["data"][0]["highlights"][0].get("comment_id").is_none(), "only comment matches name a comment");
}

#[tokio::test]
async fn a_query_that_cannot_be_read_is_a_422_saying_where() {
    let app = spawn_app().await;
    for (q, at) in
        [("printer foo:bar", 9), ("status:opn", 8), ("priority>=hgh", 11), ("queue:\"Tier 1", 7), ("-printer", 1)]
    {
        for path in ["/api/v1/cases", "/api/v1/search/cases"] {
            let mut url = reqwest::Url::parse(&format!("{}{path}", app.base)).expect("url");
            url.query_pairs_mut().append_pair("q", q);
            let r = app.get(&format!("{}?{}", url.path(), url.query().unwrap_or(""))).await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(r.error_fields(), vec!["q"], "{q}");
            let message = r.body["errors"][0]["message"].as_str().expect("message");
            assert!(message.starts_with(&format!("at character {at}:")), "{q}: {message}");
        }
    }
    assert_eq!(app.get("/api/v1/search/cases?query=x").await.error_fields(), vec!["query"]);
}

#[tokio::test]
async fn search_puts_the_best_match_first_and_finds_cases_by_their_contacts_name() {
    let app = spawn_app().await;
    let zoe = app.post("/api/v1/contacts", json!({"name": "Zoë Kowalski", "email": "zoe@customer.example"})).await;
    assert_eq!(zoe.status, StatusCode::CREATED, "{}", zoe.body);
    let zoe = id(&zoe.body);
    let by_contact = id(&app.create_case(json!({"subject": "Billing question", "contact_id": zoe})).await);
    let in_subject = id(&app.create_case(json!({"subject": "Kowalski invoice is wrong"})).await);
    let text = "The customer wrote a long message about many things, mentioning Kowalski once in passing";
    let in_text = id(&app.create_case(json!({"subject": "Other", "description": text})).await);
    app.create_case(json!({"subject": "Unrelated"})).await;

    let ids = |r: &Value| r["data"].as_array().expect("data").iter().map(id).collect::<Vec<_>>();
    // Best match first by default: the subject, then the contact's name, then the text.
    let r = app.get("/api/v1/search/cases?q=kowalski").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body), [in_subject.clone(), by_contact.clone(), in_text.clone()]);
    assert_eq!(r.body["data"][1]["highlights"][0]["field"], "contact");
    assert_eq!(r.body["data"][1]["highlights"][0]["fragment"], "Zoë Kowalski");
    let newest = app.get("/api/v1/search/cases?q=kowalski&ordering=-created_at").await;
    assert_eq!(ids(&newest.body), [in_text.clone(), in_subject.clone(), by_contact.clone()]);
    // Page by page, the same order.
    let mut walked = Vec::new();
    let mut next = "/api/v1/search/cases?q=kowalski&ordering=relevance&limit=1".to_string();
    loop {
        let r = app.get(&next).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        walked.extend(ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) if r.body["has_more"] == true => {
                next = format!("/api/v1/search/cases?q=kowalski&ordering=relevance&limit=1&cursor={c}");
            }
            _ => break,
        }
    }
    assert_eq!(walked, [in_subject.clone(), by_contact.clone(), in_text.clone()]);
    // Names and text together; a rename is searchable at once.
    assert_eq!(ids(&app.get("/api/v1/search/cases?q=zoe%20billing").await.body), std::slice::from_ref(&by_contact));
    let renamed = app.patch(&format!("/api/v1/contacts/{zoe}"), json!({"name": "Zoë Nowak"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(ids(&app.get("/api/v1/search/cases?q=nowak").await.body), std::slice::from_ref(&by_contact));
    assert_eq!(ids(&app.get("/api/v1/search/cases?q=kowalski").await.body), [in_subject, in_text]);
    // Relevance without words is newest first; an unknown ordering names the field.
    let r = app.get("/api/v1/search/cases?q=status:new&ordering=relevance").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.get("/api/v1/search/cases?q=x&ordering=best").await.assert_problem(422, "validation_failed");
}
