//! Reports over HTTP, checked against a brute-force count: a few dozen cases are worked on the
//! manual clock over two weeks across a month's end (replies, customer messages, resolutions, a
//! reopen, a move between queues, a deletion, time logged), in an organization on New York
//! time with a business calendar; then every report, for every grouping and granularity, must
//! give exactly the figures computed here from the cases as the API shows them. Also: the CSV
//! and `.xlsx` downloads carry the same rows, and bad parameters are 422s naming them.

use std::collections::BTreeMap;

use casedesk_core::Clock;
use casedesk_domain::calendar::{BusinessCalendar, CalendarInput, DayInput, PeriodInput};
use casedesk_domain::case::Priority;
use casedesk_domain::report::{Granularity, bucket, bucket_value, local_day, rank};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_at};
use crate::routing::{id, queue, ts};

const TZ: &str = "America/New_York";

fn office() -> BusinessCalendar {
    let period = vec![PeriodInput { start: "09:00".into(), end: "17:00".into() }];
    let hours = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .into_iter()
        .map(|d| DayInput { day: d.into(), periods: period.clone() })
        .collect();
    BusinessCalendar::from_input(CalendarInput { time_zone: TZ.into(), hours, holidays: vec![] }).expect("calendar")
}

/// A small deterministic sequence, so the scenario is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// What the brute force needs of a case, read back from the API.
#[derive(Debug, Clone)]
struct Fact {
    keys: BTreeMap<&'static str, String>,
    created_day: i32,
    fr: Option<(i32, i64, Option<i64>)>,
    resolved: Option<(i32, i64, Option<i64>)>,
    /// (first response, next response, resolution): Some(met) where the case has the target.
    sla: [Option<bool>; 3],
}

struct Entry {
    day: i32,
    secs: i64,
    billable: bool,
    user: String,
    case: String,
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().map(|s| s.parse().expect("time"))
}

async fn facts(app: &TestApp) -> (Vec<Fact>, BTreeMap<String, BTreeMap<&'static str, String>>) {
    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let cal = office();
    let always = BusinessCalendar::always();
    let list = app.get("/api/v1/cases?limit=200").await;
    assert_eq!(list.body["has_more"], false);
    let mut out = Vec::new();
    let mut by_id = BTreeMap::new();
    for item in list.body["data"].as_array().unwrap() {
        let c = app.get(&format!("/api/v1/cases/{}", id(item))).await.body;
        let created = time(&c["created_at"]).unwrap();
        let opt = |f: &str| c[f].as_str().unwrap_or("").to_string();
        let keys = BTreeMap::from([
            ("none", String::new()),
            ("queue", opt("queue_id")),
            ("agent", opt("owner_id")),
            ("priority", Priority::parse(c["priority"].as_str().unwrap()).unwrap().rank().to_string()),
            ("channel", opt("channel")),
            ("category", opt("category_id")),
        ]);
        let calendar = match &c["sla"] {
            Value::Null => None,
            s if s["policy_id"].is_null() => Some(&always),
            _ => Some(&cal),
        };
        let span = |at: Timestamp| {
            (local_day(at, &tz), at.as_second() - created.as_second(), calendar.map(|k| k.seconds_between(created, at)))
        };
        let done = matches!(c["status"].as_str(), Some("resolved" | "closed"));
        let target = |kind: &str| {
            c["sla"]["targets"]
                .as_array()
                .and_then(|ts| ts.iter().find(|t| t["target"] == kind))
                .map(|t| t["breached_at"].is_null())
        };
        by_id.insert(id(&c), keys.clone());
        out.push(Fact {
            keys,
            created_day: local_day(created, &tz),
            fr: time(&c["first_response_at"]).map(span),
            resolved: if done { time(&c["resolved_at"]).map(span) } else { None },
            sla: [target("first_response"), target("next_response"), target("resolution")],
        });
    }
    (out, by_id)
}

/// Mean, median and p90 (nearest rank, reported at the value's bucket) in hours.
fn stats(mut secs: Vec<i64>) -> [Option<f64>; 3] {
    if secs.is_empty() {
        return [None, None, None];
    }
    secs.sort_unstable();
    let n = secs.len();
    let q = |p: f64| Some(bucket_value(bucket(secs[rank(p, n) - 1])) / 3600.0);
    [Some(secs.iter().sum::<i64>() as f64 / n as f64 / 3600.0), q(0.5), q(0.9)]
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The figures of one cell: the cases (and time entries) whose day for each series is in `days`.
fn expected(
    kind: &str,
    facts: &[&Fact],
    entries: &[&Entry],
    days: &dyn Fn(i32) -> bool,
    upto: i32,
) -> Vec<Option<f64>> {
    let n = |k: usize| Some(k as f64);
    match kind {
        "volume" => vec![
            n(facts.iter().filter(|f| days(f.created_day)).count()),
            n(facts.iter().filter(|f| f.resolved.is_some_and(|r| days(r.0))).count()),
        ],
        "backlog" => {
            let created = facts.iter().filter(|f| days(f.created_day)).count();
            let resolved = facts.iter().filter(|f| f.resolved.is_some_and(|r| days(r.0))).count();
            let open = facts.iter().filter(|f| f.created_day <= upto).count() as i64
                - facts.iter().filter(|f| f.resolved.is_some_and(|r| r.0 <= upto)).count() as i64;
            vec![n(created), n(resolved), Some(open as f64)]
        }
        "first-response" | "resolution" => {
            let spans: Vec<_> = facts
                .iter()
                .filter_map(|f| if kind == "resolution" { f.resolved } else { f.fr })
                .filter(|s| days(s.0))
                .collect();
            let business: Vec<i64> = spans.iter().filter_map(|s| s.2).collect();
            let mut v = vec![n(spans.len())];
            v.extend(stats(spans.iter().map(|s| s.1).collect()));
            v.push(n(business.len()));
            v.extend(stats(business));
            v
        }
        "sla-compliance" => {
            let done: Vec<_> = facts.iter().filter(|f| f.resolved.is_some_and(|r| days(r.0))).collect();
            let mut v = Vec::new();
            let (mut all, mut met) = (0, 0);
            for k in 0..3 {
                let t = done.iter().filter(|f| f.sla[k].is_some()).count();
                let m = done.iter().filter(|f| f.sla[k] == Some(true)).count();
                v.extend([n(t), n(m), share(m, t)]);
                all += t;
                met += m;
            }
            v.extend([n(all), n(met), share(met, all)]);
            v
        }
        "time-tracking" => {
            let es: Vec<_> = entries.iter().filter(|e| days(e.day)).collect();
            let all: i64 = es.iter().map(|e| e.secs).sum();
            let billable: i64 = es.iter().filter(|e| e.billable).map(|e| e.secs).sum();
            vec![n(es.len()), Some(all as f64 / 3600.0), Some(billable as f64 / 3600.0)]
        }
        other => panic!("no brute force for {other}"),
    }
}

fn close(a: &Value, b: Option<f64>) -> bool {
    match (a.as_f64(), b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * y.abs().max(1.0),
        _ => false,
    }
}

#[tokio::test]
async fn every_report_matches_a_brute_force_count_of_the_same_cases() {
    let app = spawn_app_at(ts("2026-03-23T13:00:00Z")).await;
    let clock = app.clock.clone().unwrap();
    let r = app.patch("/api/v1/organization", json!({"time_zone": TZ})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    let hours = json!({"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day});
    let cal =
        id(&app.post("/api/v1/business-calendars", json!({"name": "NY", "time_zone": TZ, "hours": hours})).await.body);
    let rules: Vec<Value> = ["low", "medium", "high", "urgent"]
        .iter()
        .map(|p| json!({"priority": p, "first_response_minutes": 120, "next_response_minutes": 240, "resolution_minutes": 900}))
        .collect();
    let pol = app.post("/api/v1/sla-policies", json!({"name": "Std", "calendar_id": cal, "rules": rules})).await;
    assert_eq!(pol.status, StatusCode::CREATED, "{}", pol.body);
    let pol = id(&pol.body);
    let qa = queue(&app, json!({"name": "Alpha", "assignment_method": "manual", "sla_policy_id": pol})).await;
    let qb = queue(&app, json!({"name": "Beta", "assignment_method": "manual", "sla_policy_id": pol})).await;
    let (a1, _) = app.agent().await;
    let (a2, _) = app.agent().await;
    let cat = app.post("/api/v1/case-categories", json!({"name": "Billing"})).await;
    assert_eq!(cat.status, StatusCode::CREATED, "{}", cat.body);
    let cat = id(&cat.body);

    let tz = jiff::tz::TimeZone::get(TZ).unwrap();
    let mut rng = Lcg(7);
    let mut entries = Vec::new();
    let mut ids = Vec::new();
    let mut queues = Vec::new();
    let advance = |minutes: u64| clock.advance(SignedDuration::from_mins(minutes as i64));
    for i in 0..30 {
        advance(60 + rng.next(600));
        let queue_id = [json!(qa), json!(qb), Value::Null][rng.next(3) as usize].clone();
        let owner = [json!(a1), json!(a2), Value::Null][rng.next(3) as usize].clone();
        let priority = ["low", "medium", "high", "urgent"][rng.next(4) as usize];
        let channel = ["email", "phone", "web", "api"][rng.next(4) as usize];
        let category = if rng.next(2) == 0 { json!(cat) } else { Value::Null };
        let body = json!({
            "subject": format!("Case {i}"),
            "queue_id": queue_id,
            "owner_id": owner,
            "priority": priority,
            "channel": channel,
            "category_id": category,
        });
        let c = app.create_case(body).await;
        let cid = id(&c);
        ids.push(cid.clone());
        queues.push(queue_id);
        let comments = format!("/api/v1/cases/{cid}/comments");
        if rng.next(3) > 0 {
            advance(5 + rng.next(900));
            let r = app.post(&comments, json!({"body": "On it"})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            if rng.next(2) == 0 {
                advance(30 + rng.next(300));
                let r = app.post(&comments, json!({"body": "Still broken", "author_type": "customer"})).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                advance(10 + rng.next(600));
                app.post(&comments, json!({"body": "Try this"})).await;
            }
        }
        if rng.next(4) == 0 {
            let r = app.post(&comments, json!({"body": "Internal", "internal": true})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        if rng.next(3) > 0 {
            advance(20 + rng.next(2000));
            let r = app.patch(&format!("/api/v1/cases/{cid}"), json!({"status": "resolved"})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        if rng.next(3) == 0 {
            let secs = 60 * (5 + rng.next(120)) as i64;
            let billable = rng.next(2) == 0;
            let date = local_day(clock.now(), &tz);
            let body = json!({"duration": secs / 60, "date": casedesk_domain::report::date_of_day(date).to_string(), "billable": billable});
            let r = app.post(&format!("/api/v1/cases/{cid}/time-entries"), body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            entries.push(Entry { day: date, secs, billable, user: app.admin_id.clone(), case: cid.clone() });
        }
    }
    // A reopen and a later resolution; a move to the other queue with a new owner; a resolved
    // case closed; a deleted case (out of every report). The moved case followed the policy
    // from the start: business time is counted in the calendar the case followed then.
    let (reopened, closed, deleted) = (&ids[1], &ids[4], &ids[5]);
    let moved = &ids[(6..ids.len()).find(|&i| queues[i] == json!(qa)).expect("a case in Alpha")];
    for (case, body) in [
        (reopened, json!({"status": "open"})),
        (moved, json!({"queue_id": qb, "owner_id": a2, "priority": "urgent"})),
        (reopened, json!({"status": "resolved"})),
        (closed, json!({"status": "resolved"})),
        (closed, json!({"status": "closed"})),
    ] {
        advance(90);
        let r = app.patch(&format!("/api/v1/cases/{case}"), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(app.delete(&format!("/api/v1/cases/{deleted}")).await.status, StatusCode::NO_CONTENT);

    let (facts, keys_of) = facts(&app).await;
    assert!(facts.iter().any(|f| f.fr.is_some_and(|s| s.2.is_some())), "some business first responses");
    assert!(facts.iter().any(|f| f.sla.contains(&Some(false))), "some targets missed");
    let from = "2026-03-23";
    let to = casedesk_domain::report::date_of_day(local_day(clock.now(), &tz)).to_string();
    let from_day = casedesk_domain::report::day_of_date(from.parse().unwrap());
    let to_day = local_day(clock.now(), &tz);
    for kind in ["volume", "first-response", "resolution", "sla-compliance", "backlog", "time-tracking"] {
        for group_by in ["none", "queue", "agent", "priority", "channel", "category"] {
            for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
                let path = format!(
                    "/api/v1/reports/{kind}?from={from}&to={to}&granularity={}&group_by={group_by}",
                    g.as_str()
                );
                let r = app.get(&path).await;
                assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
                let columns: Vec<String> =
                    r.body["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
                let start = g.period_start(from_day);
                let group_of = |f: &Fact| f.keys[group_by].clone();
                let entry_group = |e: &Entry| match group_by {
                    "agent" => e.user.clone(),
                    "none" => String::new(),
                    g => keys_of.get(&e.case).map(|k| k[g].clone()).unwrap_or_default(),
                };
                let check = |row: &Value, days: &dyn Fn(i32) -> bool, upto: i32| {
                    let group = row["group"].as_str().unwrap_or("").to_string();
                    let fs: Vec<&Fact> = facts.iter().filter(|f| group_of(f) == group).collect();
                    let es: Vec<&Entry> =
                        entries.iter().filter(|e| keys_of.contains_key(&e.case) && entry_group(e) == group).collect();
                    let want = expected(kind, &fs, &es, days, upto);
                    for (c, w) in columns.iter().zip(&want) {
                        assert!(close(&row["values"][c], *w), "{path}: {row} {c}: want {w:?}");
                    }
                };
                let mut seen = 0;
                for row in r.body["rows"].as_array().unwrap() {
                    let p = casedesk_domain::report::day_of_date(row["period"].as_str().unwrap().parse().unwrap());
                    let end = (g.next(p) - 1).min(to_day);
                    check(row, &|d| d >= p.max(start) && d <= end, end);
                    seen += 1;
                }
                for row in r.body["totals"].as_array().unwrap() {
                    check(row, &|d| d >= start && d <= to_day, to_day);
                }
                // Every group with data has its rows.
                let groups: std::collections::BTreeSet<String> =
                    facts.iter().filter(|f| f.created_day >= start && f.created_day <= to_day).map(group_of).collect();
                if kind == "volume" {
                    let listed: std::collections::BTreeSet<String> = r.body["totals"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t["group"].as_str().unwrap_or("").to_string())
                        .collect();
                    assert!(groups.is_subset(&listed), "{path}: groups {groups:?} listed {listed:?}");
                }
                assert!(seen > 0, "{path}");
            }
        }
    }
}

#[tokio::test]
async fn reports_download_as_csv_and_xlsx_and_refuse_bad_parameters_by_name() {
    let app = spawn_app_at(ts("2026-05-04T15:00:00Z")).await;
    for _ in 0..3 {
        app.create_case(json!({"subject": "x"})).await;
    }
    let r = app.get("/api/v1/reports/volume?from=2026-05-01&to=2026-05-04").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["totals"][0]["values"]["created"], 3);
    assert_eq!(r.body["rows"][3]["values"]["created"], 3);
    assert_eq!(r.body["rows"][3]["period"], "2026-05-04");

    let csv = app
        .client
        .get(format!("{}/api/v1/reports/volume?from=2026-05-01&to=2026-05-04&format=csv", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("volume.csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "period,group,group_name,created,resolved");
    assert_eq!(lines[4], "2026-05-04,,All,3,0");
    assert_eq!(lines[5], "total,,All,3,0");

    let xlsx = app
        .client
        .get(format!("{}/api/v1/reports/backlog?from=2026-05-01&to=2026-05-04&format=xlsx", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let sheet = book.worksheet_range("backlog").expect("the sheet");
    let rows: Vec<_> = sheet.rows().collect();
    assert_eq!(
        rows[0].iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        ["period", "group", "group_name", "created", "resolved", "open"]
    );
    assert_eq!(rows[4][5].to_string(), "3");

    for (query, field) in [
        ("granularity=hour", "granularity"),
        ("group_by=color", "group_by"),
        ("from=yesterday", "from"),
        ("from=2026-05-05&to=2026-05-01", "from"),
        ("from=2020-01-01&to=2026-05-01", "from"),
        ("format=pdf", "format"),
        ("limit=5", "limit"),
        ("colour=red", "colour"),
    ] {
        let r = app.get(&format!("/api/v1/reports/volume?{query}")).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), [field], "{query}: {}", r.body);
    }
    let r = app.get("/api/v1/reports/revenue").await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), ["report"]);
}
