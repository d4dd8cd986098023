//! Routing over HTTP: queues hand their cases to members by round robin (a rotation kept in the
//! database, so it survives a restart and is shared by every instance), by least activity, by
//! skills, VIP members first; away, offline and full agents are skipped; cases nobody can take
//! wait and are handed out, most urgent then oldest first, as soon as someone can take them.
//! Manual reassignment, moving a case to another queue and escalation are on the timeline.

use casedesk_core::Actor;
use casedesk_domain::case::NewCase;
use casedesk_domain::policy::Role;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_at};

/// Monday 2026-06-08 09:00 in Berlin.
pub(crate) const MONDAY_0900_BERLIN: &str = "2026-06-08T07:00:00Z";

pub(crate) fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// Creates a queue and returns its id.
pub(crate) async fn queue(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v1/case-queues", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "create queue: {}", r.body);
    r.body["id"].as_str().expect("queue id").to_string()
}

/// Adds `user` to `queue` (or changes the membership).
pub(crate) async fn join(app: &TestApp, queue: &str, user: &str, body: Value) {
    let r = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/case-queues/{queue}/members/{user}"),
            Some(&app.token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "join {queue}: {}", r.body);
}

/// `n` agents; user ids only.
pub(crate) async fn agents(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(app.agent().await.0);
    }
    ids
}

async fn patch_user(app: &TestApp, user: &str, body: Value) {
    let r = app.patch(&format!("/api/v1/users/{user}"), body).await;
    assert_eq!(r.status, StatusCode::OK, "patch user: {}", r.body);
}

pub(crate) async fn patch_case(app: &TestApp, case: &str, body: Value) -> Value {
    let r = app.patch(&format!("/api/v1/cases/{case}"), body).await;
    assert_eq!(r.status, StatusCode::OK, "patch case: {}", r.body);
    r.body
}

pub(crate) async fn get_case(app: &TestApp, case: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(r.status, StatusCode::OK, "get case: {}", r.body);
    r.body
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn owner(v: &Value) -> Option<String> {
    v["owner_id"].as_str().map(str::to_string)
}

/// The timeline entries of one kind.
pub(crate) async fn entries(app: &TestApp, case: &str, kind: &str) -> Vec<Value> {
    app.timeline(case).await.into_iter().filter(|e| e["kind"] == kind).collect()
}

/// The ids of a list of cases, filtered by `query`.
async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/cases?limit=200&{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "list {query}: {}", r.body);
    assert_eq!(r.body["has_more"], false);
    r.body["data"].as_array().expect("data").iter().map(id).collect()
}

/// Three agents join a queue a second apart, so the join order (the rotation order) is certain.
async fn queue_of_three(app: &TestApp, method: &str) -> (String, Vec<String>) {
    let q = queue(app, json!({"name": format!("{method} desk"), "assignment_method": method})).await;
    let people = agents(app, 3).await;
    for p in &people {
        join(app, &q, p, json!({})).await;
        if let Some(clock) = &app.clock {
            clock.advance(SignedDuration::from_secs(1));
        }
    }
    (q, people)
}

#[tokio::test]
async fn round_robin_deals_thirty_cases_ten_each_in_rotation_order() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (q, people) = queue_of_three(&app, "round_robin").await;
    let listed_members = app.get(&format!("/api/v1/case-queues/{q}/members")).await;
    let order: Vec<&str> =
        listed_members.body["data"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(order, people, "members are listed in rotation (join) order");

    let mut owners = Vec::new();
    let mut cases = Vec::new();
    for i in 0..30 {
        let c = app.create_case(json!({"subject": format!("rr {i}"), "queue_id": q})).await;
        assert_eq!(c["status"], "open", "an assigned new case is open");
        owners.push(owner(&c).expect("every case is assigned"));
        cases.push(id(&c));
    }
    let expected: Vec<String> = (0..30).map(|i| people[i % 3].clone()).collect();
    assert_eq!(owners, expected, "a, b, c, a, b, c, …");
    for p in &people {
        assert_eq!(listed(&app, &format!("owner_id={p}")).await.len(), 10, "exactly ten each");
    }

    // Each case says who got it, how and why.
    let assigned = entries(&app, &cases[4], "case.assigned").await;
    assert_eq!(assigned.len(), 1, "{assigned:?}");
    let data = &assigned[0]["data"];
    assert_eq!(data["owner_id"], people[1].as_str());
    assert_eq!(data["method"], "round_robin");
    assert_eq!(data["queue_id"], q.as_str());
    assert_eq!(data["reason"], "next in the rotation");
    assert!(entries(&app, &cases[4], "case.queued").await.is_empty());
}

#[tokio::test]
async fn the_round_robin_turn_lives_in_the_database_and_survives_a_restart() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (q, people) = queue_of_three(&app, "round_robin").await;
    let first = app.create_case(json!({"subject": "one", "queue_id": q})).await;
    let second = app.create_case(json!({"subject": "two", "queue_id": q})).await;
    assert_eq!((owner(&first), owner(&second)), (Some(people[0].clone()), Some(people[1].clone())));

    // A restarted server keeps dealing where the old one stopped (a rotation kept in memory
    // would start again at the first member).
    let app = app.restart().await;
    let third = app.create_case(json!({"subject": "three", "queue_id": q})).await;
    assert_eq!(owner(&third).as_deref(), Some(people[2].as_str()), "the turn survived the restart");

    // Another instance over the same database shares the same rotation.
    let actor = Actor { org_id: app.org_id.clone(), user_id: app.admin_id.clone(), role: Role::Admin };
    let input =
        NewCase { subject: "four, via another instance".into(), queue_id: Some(q.clone()), ..Default::default() };
    let fourth = app.core.create_case(&actor, input, None).await.expect("create through the second App").value;
    assert_eq!(fourth.owner_id.as_deref(), Some(people[0].as_str()));
    let fifth = app.create_case(json!({"subject": "five", "queue_id": q})).await;
    assert_eq!(owner(&fifth).as_deref(), Some(people[1].as_str()), "the server sees the other instance's turn");
}

#[tokio::test]
async fn least_active_takes_fewest_open_cases_then_whoever_waited_longest() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (q, p) = queue_of_three(&app, "least_active").await;
    let clock = app.clock.clone().unwrap();
    let next = async |subject: &str| {
        clock.advance(SignedDuration::from_mins(1));
        app.create_case(json!({"subject": subject, "queue_id": q})).await
    };
    // Nobody has a case and nobody was ever assigned: rotation order breaks the tie.
    let c1 = next("c1").await;
    let c2 = next("c2").await;
    let c3 = next("c3").await;
    assert_eq!([owner(&c1), owner(&c2), owner(&c3)], [Some(p[0].clone()), Some(p[1].clone()), Some(p[2].clone())]);
    let reason = entries(&app, &id(&c1), "case.assigned").await[0]["data"]["reason"].clone();
    assert_eq!(reason, "fewest open cases (0), waited longest of 3");

    // a (assigned first) and c (assigned last) finish their cases: both have none open; a has
    // waited longer since their last assignment, so a gets the next one although c was freed
    // more recently.
    patch_case(&app, &id(&c3), json!({"status": "resolved"})).await;
    patch_case(&app, &id(&c1), json!({"status": "resolved"})).await;
    let c4 = next("c4").await;
    assert_eq!(owner(&c4).as_deref(), Some(p[0].as_str()));
    let c5 = next("c5").await;
    assert_eq!(owner(&c5).as_deref(), Some(p[2].as_str()), "c has none open, a and b one each");
    // Everyone has one open case now; b waited longest.
    let c6 = next("c6").await;
    assert_eq!(owner(&c6).as_deref(), Some(p[1].as_str()));
    let data = &entries(&app, &id(&c6), "case.assigned").await[0]["data"];
    assert_eq!(
        (data["method"].as_str(), data["reason"].as_str()),
        (Some("least_active"), Some("fewest open cases (1), waited longest of 3"))
    );
}

#[tokio::test]
async fn skills_routing_needs_every_required_skill_and_queues_what_nobody_covers() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let clock = app.clock.clone().unwrap();
    let q = queue(&app, json!({"name": "Specialists", "assignment_method": "skills"})).await;
    let p = agents(&app, 3).await;
    join(&app, &q, &p[0], json!({"skills": ["billing"]})).await;
    join(&app, &q, &p[1], json!({"skills": ["Billing", "german"]})).await;
    join(&app, &q, &p[2], json!({"skills": ["german"]})).await;

    let both =
        app.create_case(json!({"subject": "Rechnung", "queue_id": q, "required_skills": ["billing", "german"]})).await;
    assert_eq!(owner(&both).as_deref(), Some(p[1].as_str()), "only b covers billing and german");
    let reason = entries(&app, &id(&both), "case.assigned").await[0]["data"]["reason"].clone();
    assert!(reason.as_str().unwrap().contains("has the skills billing, german"), "{reason}");

    clock.advance(SignedDuration::from_mins(1));
    let billing = app.create_case(json!({"subject": "invoice", "queue_id": q, "required_skills": ["billing"]})).await;
    assert_eq!(owner(&billing).as_deref(), Some(p[0].as_str()), "a and b have billing; a has fewer open cases");

    clock.advance(SignedDuration::from_mins(1));
    let french = app.create_case(json!({"subject": "facture", "queue_id": q, "required_skills": ["french"]})).await;
    assert_eq!(french["owner_id"], Value::Null, "nobody speaks French");
    assert_eq!(french["status"], "new");
    let queued = entries(&app, &id(&french), "case.queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["data"]["reason"], "no eligible member (3 without the required skills)");
    assert_eq!(queued[0]["data"]["queue_id"], q.as_str());
    assert!(entries(&app, &id(&french), "case.assigned").await.is_empty());
    assert_eq!(listed(&app, &format!("queue_id={q}&unassigned=true")).await, [id(&french)]);

    // Without required skills anyone may take it: the least active, c.
    clock.advance(SignedDuration::from_mins(1));
    let any = app.create_case(json!({"subject": "anything", "queue_id": q})).await;
    assert_eq!(owner(&any).as_deref(), Some(p[2].as_str()));

    // c learns French: the waiting case goes to them at once.
    clock.advance(SignedDuration::from_mins(1));
    join(&app, &q, &p[2], json!({"skills": ["german", "french"]})).await;
    let french = get_case(&app, &id(&french)).await;
    assert_eq!(owner(&french).as_deref(), Some(p[2].as_str()));
    assert_eq!(french["status"], "open");
    let members = app.get(&format!("/api/v1/case-queues/{q}/members")).await;
    assert_eq!(members.body["data"][2]["user_id"], p[2].as_str(), "changing skills keeps the place in the rotation");
}

#[tokio::test]
async fn vip_cases_go_to_vip_members_first_and_take_the_vip_priority() {
    let app = spawn_app().await;
    let q =
        queue(&app, json!({"name": "Accounts", "assignment_method": "round_robin", "vip_priority": "critical"})).await;
    let p = agents(&app, 2).await;
    join(&app, &q, &p[0], json!({})).await;
    join(&app, &q, &p[1], json!({"vip": true})).await;
    let vip = app.post("/api/v1/accounts", json!({"name": "Big Corp", "tier": "vip"})).await.body["id"].clone();
    let std = app.post("/api/v1/accounts", json!({"name": "Small Shop", "tier": "standard"})).await.body["id"].clone();
    let contact =
        app.post("/api/v1/contacts", json!({"name": "Vera", "email": "vera@big.example", "account_id": vip})).await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);

    let c = app.create_case(json!({"subject": "VIP", "queue_id": q, "account_id": vip, "priority": "low"})).await;
    assert_eq!(owner(&c).as_deref(), Some(p[1].as_str()), "the VIP member first");
    assert_eq!(c["priority"], "critical");
    let timeline = app.timeline(&id(&c)).await;
    let raised = timeline.iter().find(|e| e["field"] == "priority").expect("the priority change is recorded");
    assert_eq!((raised["old"].as_str(), raised["new"].as_str()), (Some("low"), Some("critical")));
    assert_eq!(raised["data"]["reason"], "VIP account");
    let reason = timeline.iter().find(|e| e["kind"] == "case.assigned").unwrap()["data"]["reason"].clone();
    assert!(reason.as_str().unwrap().starts_with("VIP case to a VIP member"), "{reason}");

    // Not VIP: the ordinary rotation, priority untouched.
    let plain = app.create_case(json!({"subject": "plain", "queue_id": q, "account_id": std, "priority": "low"})).await;
    assert_eq!((owner(&plain).as_deref(), plain["priority"].as_str()), (Some(p[0].as_str()), Some("low")));

    // The account comes from the contact; the VIP member again, although the rotation says b.
    let via_contact =
        app.create_case(json!({"subject": "via contact", "queue_id": q, "contact_id": id(&contact.body)})).await;
    assert_eq!(via_contact["account_id"], vip);
    assert_eq!(
        (owner(&via_contact).as_deref(), via_contact["priority"].as_str()),
        (Some(p[1].as_str()), Some("critical"))
    );

    // The VIP member is away: anyone eligible takes it, still at the VIP priority.
    patch_user(&app, &p[1], json!({"availability": "away"})).await;
    let c = app.create_case(json!({"subject": "VIP 2", "queue_id": q, "account_id": vip})).await;
    assert_eq!((owner(&c).as_deref(), c["priority"].as_str()), (Some(p[0].as_str()), Some("critical")));
}

#[tokio::test]
async fn away_offline_and_full_agents_are_skipped() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (q, p) = queue_of_three(&app, "round_robin").await;
    patch_user(&app, &p[0], json!({"max_open_cases": 1})).await;
    patch_user(&app, &p[1], json!({"availability": "away"})).await;

    let c1 = app.create_case(json!({"subject": "1", "queue_id": q})).await;
    assert_eq!(owner(&c1).as_deref(), Some(p[0].as_str()));
    let c2 = app.create_case(json!({"subject": "2", "queue_id": q})).await;
    assert_eq!(owner(&c2).as_deref(), Some(p[2].as_str()), "b is away");
    let reason = entries(&app, &id(&c2), "case.assigned").await[0]["data"]["reason"].clone();
    assert_eq!(reason, "next in the rotation (1 member(s) skipped as not eligible)");
    let c3 = app.create_case(json!({"subject": "3", "queue_id": q})).await;
    assert_eq!(owner(&c3).as_deref(), Some(p[2].as_str()), "a is full (1 of 1) and b is away");

    patch_user(&app, &p[2], json!({"availability": "offline"})).await;
    let c4 = app.create_case(json!({"subject": "4", "queue_id": q})).await;
    assert_eq!((c4["owner_id"].clone(), c4["status"].as_str()), (Value::Null, Some("new")));
    let queued = entries(&app, &id(&c4), "case.queued").await;
    assert_eq!(queued[0]["data"]["reason"], "no eligible member (1 at capacity, 1 away, 1 offline)");
    assert_eq!(queued[0]["data"]["method"], "round_robin");

    // A deactivated agent is skipped too, even when available.
    patch_user(&app, &p[2], json!({"is_active": false, "availability": "available"})).await;
    let c5 = app.create_case(json!({"subject": "5", "queue_id": q})).await;
    assert_eq!(c5["owner_id"], Value::Null);
    assert_eq!(get_case(&app, &id(&c4)).await["owner_id"], Value::Null);
}

#[tokio::test]
async fn waiting_cases_go_most_urgent_then_oldest_first_when_agents_come_back_or_get_room() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let clock = app.clock.clone().unwrap();
    let (q, p) = queue_of_three(&app, "round_robin").await;
    for a in &p {
        patch_user(&app, a, json!({"availability": "away"})).await;
    }
    let mut waiting = Vec::new();
    for (subject, priority) in [
        ("low", "low"),
        ("critical, older", "critical"),
        ("medium", "medium"),
        ("critical, newer", "critical"),
        ("high", "high"),
    ] {
        clock.advance(SignedDuration::from_mins(1));
        let c = app.create_case(json!({"subject": subject, "priority": priority, "queue_id": q})).await;
        assert_eq!((c["owner_id"].clone(), c["status"].as_str()), (Value::Null, Some("new")));
        assert_eq!(entries(&app, &id(&c), "case.queued").await.len(), 1);
        waiting.push(id(&c));
    }
    let [low, crit_old, medium, crit_new, high] = <[String; 5]>::try_from(waiting).unwrap();
    let owner_of = async |case: &str| owner(&get_case(&app, case).await);

    // a comes back with room for two: the two critical cases, the older one first.
    clock.advance(SignedDuration::from_mins(1));
    patch_user(&app, &p[0], json!({"max_open_cases": 2})).await;
    assert_eq!(owner_of(&crit_old).await, None, "a is still away");
    patch_user(&app, &p[0], json!({"availability": "available"})).await;
    assert_eq!((owner_of(&crit_old).await, owner_of(&crit_new).await), (Some(p[0].clone()), Some(p[0].clone())));
    for other in [&high, &medium, &low] {
        assert_eq!(owner_of(other).await, None);
    }
    let old_at = entries(&app, &crit_old, "case.assigned").await[0]["id"].clone();
    let new_at = entries(&app, &crit_new, "case.assigned").await[0]["id"].clone();
    let seq = |v: &Value| v.as_str().unwrap().trim_start_matches("evt_").parse::<i64>().unwrap();
    assert!(seq(&old_at) < seq(&new_at), "the older critical case was handed out first");
    let handed = get_case(&app, &crit_old).await;
    assert_eq!(handed["status"], "open");
    let opened = entries(&app, &crit_old, "status.changed").await;
    assert_eq!(opened.len(), 1, "handing out a new case records its opening");
    assert_eq!((opened[0]["old"].as_str(), opened[0]["new"].as_str()), (Some("new"), Some("open")));
    let data = &entries(&app, &crit_old, "case.assigned").await[0]["data"];
    assert_eq!((data["owner_id"].as_str(), data["method"].as_str()), (Some(p[0].as_str()), Some("round_robin")));
    assert_eq!(entries(&app, &crit_old, "case.queued").await.len(), 1, "the backlog pass adds no second case.queued");

    // b comes back with room for one: the high one.
    patch_user(&app, &p[1], json!({"availability": "available", "max_open_cases": 1})).await;
    assert_eq!(owner_of(&high).await, Some(p[1].clone()));
    assert_eq!((owner_of(&medium).await, owner_of(&low).await), (None, None));

    // a is given more room: the medium one.
    patch_user(&app, &p[0], json!({"max_open_cases": 3})).await;
    assert_eq!(owner_of(&medium).await, Some(p[0].clone()));
    assert_eq!(owner_of(&low).await, None);

    // b, full, resolves their case: the last waiting one is theirs.
    patch_case(&app, &high, json!({"status": "resolved"})).await;
    assert_eq!(owner_of(&low).await, Some(p[1].clone()));
    assert!(listed(&app, &format!("queue_id={q}&unassigned=true")).await.is_empty());
}

#[tokio::test]
async fn a_full_agent_takes_waiting_cases_when_a_case_is_resolved_closed_or_reassigned() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let clock = app.clock.clone().unwrap();
    let q = queue(&app, json!({"name": "Solo", "assignment_method": "least_active"})).await;
    let (a, _) = app.agent().await;
    patch_user(&app, &a, json!({"max_open_cases": 1})).await;
    join(&app, &q, &a, json!({})).await;
    let mut cases = Vec::new();
    for i in 0..4 {
        clock.advance(SignedDuration::from_mins(1));
        cases.push(app.create_case(json!({"subject": format!("case {i}"), "queue_id": q})).await);
    }
    assert_eq!(owner(&cases[0]).as_deref(), Some(a.as_str()));
    for c in &cases[1..] {
        assert_eq!(c["owner_id"], Value::Null, "a is at capacity");
        let reason = entries(&app, &id(c), "case.queued").await[0]["data"]["reason"].clone();
        assert_eq!(reason, "no eligible member (1 at capacity)");
    }
    // Resolving frees a: the oldest waiting case is theirs.
    patch_case(&app, &id(&cases[0]), json!({"status": "resolved"})).await;
    assert_eq!(owner(&get_case(&app, &id(&cases[1])).await).as_deref(), Some(a.as_str()));
    assert_eq!(get_case(&app, &id(&cases[2])).await["owner_id"], Value::Null);
    // Handing their case to someone else frees them too.
    patch_case(&app, &id(&cases[1]), json!({"owner_id": app.admin_id})).await;
    assert_eq!(owner(&get_case(&app, &id(&cases[2])).await).as_deref(), Some(a.as_str()));
    // And so does closing it.
    patch_case(&app, &id(&cases[2]), json!({"status": "closed"})).await;
    assert_eq!(owner(&get_case(&app, &id(&cases[3])).await).as_deref(), Some(a.as_str()));
    // A new member takes what still waits as they join.
    let late = app.create_case(json!({"subject": "one more", "queue_id": q})).await;
    assert_eq!(late["owner_id"], Value::Null);
    let (b, _) = app.agent().await;
    join(&app, &q, &b, json!({})).await;
    assert_eq!(owner(&get_case(&app, &id(&late)).await).as_deref(), Some(b.as_str()));
}

#[tokio::test]
async fn manual_assignment_and_moving_queues_are_on_the_timeline() {
    let app = spawn_app().await;
    let manual = queue(&app, json!({"name": "Triage", "assignment_method": "manual"})).await;
    let rr = queue(&app, json!({"name": "Tier 1", "assignment_method": "round_robin"})).await;
    let (a, _) = app.agent().await;
    let (b, _) = app.agent().await;
    join(&app, &manual, &a, json!({})).await;
    join(&app, &rr, &b, json!({})).await;

    let c = app.create_case(json!({"subject": "triage me", "queue_id": manual})).await;
    assert_eq!(
        (c["owner_id"].clone(), c["status"].as_str()),
        (Value::Null, Some("new")),
        "a manual queue assigns nobody"
    );
    assert!(entries(&app, &id(&c), "case.queued").await.is_empty(), "nor does it say it is waiting for the router");

    let assigned = patch_case(&app, &id(&c), json!({"owner_id": a})).await;
    assert_eq!((owner(&assigned).as_deref(), assigned["status"].as_str()), (Some(a.as_str()), Some("open")));
    let e = entries(&app, &id(&c), "case.assigned").await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["actor_id"], app.admin_id.as_str());
    let d = &e[0]["data"];
    assert_eq!(d["method"], "manual");
    assert_eq!(d["owner_id"], a.as_str());
    assert_eq!(d["previous_owner_id"], Value::Null);
    assert_eq!(d["queue_id"], manual.as_str());
    assert!(d["reason"].as_str().unwrap().contains(&app.admin_id), "{d}");

    // Reassigned by hand: the previous owner is named.
    patch_case(&app, &id(&c), json!({"owner_id": b})).await;
    let e = entries(&app, &id(&c), "case.assigned").await;
    assert_eq!(
        (e[1]["data"]["owner_id"].as_str(), e[1]["data"]["previous_owner_id"].as_str()),
        (Some(b.as_str()), Some(a.as_str()))
    );
    assert_eq!(e[1]["data"]["method"], "manual");

    // Moved to a routing queue: routed there afresh.
    patch_case(&app, &id(&c), json!({"owner_id": null})).await;
    let moved = patch_case(&app, &id(&c), json!({"queue_id": rr})).await;
    assert_eq!((moved["queue_id"].as_str(), owner(&moved).as_deref()), (Some(rr.as_str()), Some(b.as_str())));
    let e = entries(&app, &id(&c), "case.assigned").await;
    let last = &e.last().unwrap()["data"];
    assert_eq!((last["method"].as_str(), last["queue_id"].as_str()), (Some("round_robin"), Some(rr.as_str())));

    // Moved together with an explicit owner: the given owner stays, assigned by hand.
    let c2 = app.create_case(json!({"subject": "for a", "queue_id": manual})).await;
    let moved = patch_case(&app, &id(&c2), json!({"queue_id": rr, "owner_id": a})).await;
    assert_eq!(owner(&moved).as_deref(), Some(a.as_str()));
    let e = entries(&app, &id(&c2), "case.assigned").await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0]["data"]["method"], "manual");
}

#[tokio::test]
async fn escalation_moves_the_case_to_the_escalation_queue_and_routes_it_there() {
    let app = spawn_app().await;
    let tier2 = queue(&app, json!({"name": "Tier 2", "assignment_method": "round_robin"})).await;
    let tier1 =
        queue(&app, json!({"name": "Tier 1", "assignment_method": "round_robin", "escalation_queue_id": tier2})).await;
    let (a, _) = app.agent().await;
    let (b, _) = app.agent().await;
    join(&app, &tier1, &a, json!({})).await;
    join(&app, &tier2, &b, json!({})).await;

    let c = app.create_case(json!({"subject": "beyond tier 1", "queue_id": tier1})).await;
    assert_eq!(owner(&c).as_deref(), Some(a.as_str()));
    let r = app.post(&format!("/api/v1/cases/{}/escalate", id(&c)), json!({"reason": "needs a database expert"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["queue_id"].as_str(), owner(&r.body).as_deref()), (Some(tier2.as_str()), Some(b.as_str())));
    assert_eq!(r.header("etag").as_deref(), Some(format!("\"{}\"", r.body["version"]).as_str()));

    let timeline = app.timeline(&id(&c)).await;
    let escalated: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "case.escalated").collect();
    assert_eq!(escalated.len(), 1);
    let d = &escalated[0]["data"];
    assert_eq!(d["from_queue_id"], tier1.as_str());
    assert_eq!(d["to_queue_id"], tier2.as_str());
    assert_eq!(d["reason"], "needs a database expert");
    let assigned: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "case.assigned").collect();
    assert_eq!(assigned.len(), 2);
    let d = &assigned[1]["data"];
    assert_eq!((d["owner_id"].as_str(), d["previous_owner_id"].as_str()), (Some(b.as_str()), Some(a.as_str())));
    assert_eq!((d["queue_id"].as_str(), d["method"].as_str()), (Some(tier2.as_str()), Some("round_robin")));

    // Tier 2 has no escalation queue: name one, or 422.
    let r = app.post(&format!("/api/v1/cases/{}/escalate", id(&c)), json!({})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["queue_id"]);
    let r = app.post(&format!("/api/v1/cases/{}/escalate", id(&c)), json!({"queue_id": tier2})).await;
    assert_eq!(r.error_fields(), ["queue_id"], "already there: {}", r.body);

    // Escalated where nobody can take it: it waits there unassigned.
    patch_user(&app, &b, json!({"availability": "away"})).await;
    let c2 = app.create_case(json!({"subject": "also beyond", "queue_id": tier1})).await;
    let r = app.post(&format!("/api/v1/cases/{}/escalate", id(&c2)), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["queue_id"].as_str(), r.body["owner_id"].clone()), (Some(tier2.as_str()), Value::Null));
    let queued = entries(&app, &id(&c2), "case.queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["data"]["queue_id"], tier2.as_str());
    // b comes back and takes it.
    patch_user(&app, &b, json!({"availability": "available"})).await;
    assert_eq!(owner(&get_case(&app, &id(&c2)).await).as_deref(), Some(b.as_str()));
}

#[tokio::test]
async fn cases_created_at_once_are_still_dealt_evenly() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let (q, people) = queue_of_three(&app, "round_robin").await;
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (client, url, token) = (app.client.clone(), format!("{}/api/v1/cases", app.base), app.token.clone());
        let body = json!({"subject": format!("burst {i}"), "queue_id": q});
        requests.spawn(async move {
            let r = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        });
    }
    let mut created = Vec::new();
    while let Some(c) = requests.join_next().await {
        created.push(c.unwrap());
    }
    for p in &people {
        let theirs = created.iter().filter(|c| c["owner_id"] == p.as_str()).count();
        assert_eq!(theirs, 10, "each member gets exactly ten of thirty concurrent cases");
    }
    // Dealt in rotation order: sorted by case number (the order the writes committed), the owners
    // cycle a, b, c.
    created.sort_by_key(|c| c["case_number"].as_i64().unwrap());
    let owners: Vec<String> = created.iter().map(|c| owner(c).unwrap()).collect();
    let expected: Vec<String> = (0..30).map(|i| people[i % 3].clone()).collect();
    assert_eq!(owners, expected);
}

#[tokio::test]
async fn cases_nobody_has_the_skills_for_do_not_hold_up_the_rest_of_the_backlog() {
    let app = spawn_app_at(ts(MONDAY_0900_BERLIN)).await;
    let clock = app.clock.clone().unwrap();
    let q = queue(&app, json!({"name": "Europe", "assignment_method": "skills"})).await;
    let (a, _) = app.agent().await;
    join(&app, &q, &a, json!({"skills": ["english"]})).await;
    patch_user(&app, &a, json!({"availability": "offline"})).await;
    // More urgent cases needing French than one backlog round looks at (50), then one that
    // anybody may take.
    for i in 0..51 {
        let c = app.create_case(json!({"subject": format!("français {i}"), "priority": "high", "queue_id": q, "required_skills": ["french"]})).await;
        assert_eq!(c["owner_id"], Value::Null);
    }
    clock.advance(SignedDuration::from_mins(1));
    let plain = app.create_case(json!({"subject": "anyone", "priority": "low", "queue_id": q})).await;
    let english = app
        .create_case(json!({"subject": "english", "priority": "low", "queue_id": q, "required_skills": ["english"]}))
        .await;
    assert_eq!((plain["owner_id"].clone(), english["owner_id"].clone()), (Value::Null, Value::Null), "a is offline");

    // a comes back: they cannot take the French cases, but they take the two behind them.
    patch_user(&app, &a, json!({"availability": "available"})).await;
    assert_eq!(owner(&get_case(&app, &id(&plain)).await).as_deref(), Some(a.as_str()));
    assert_eq!(owner(&get_case(&app, &id(&english)).await).as_deref(), Some(a.as_str()));
    assert_eq!(listed(&app, &format!("queue_id={q}&unassigned=true")).await.len(), 51, "the French cases still wait");
}
