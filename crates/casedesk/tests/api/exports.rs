//! Exports of cases to `.xlsx` and CSV: read back cell by cell and field by field, views with
//! their columns and order, paging past one batch, bad input, and tenancy.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The raw answer of an export.
struct Download {
    status: StatusCode,
    content_type: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn download(app: &TestApp, token: &str, format: &str, params: &[(&str, &str)]) -> Download {
    let mut url = reqwest::Url::parse(&format!("{}/api/v1/exports/cases.{format}", app.base)).expect("url");
    for (k, v) in params {
        url.query_pairs_mut().append_pair(k, v);
    }
    let r = app.client.get(url).bearer_auth(token).send().await.expect("request");
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (status, content_type, disposition) = (r.status(), header("content-type"), header("content-disposition"));
    let bytes = r.bytes().await.expect("body").to_vec();
    Download { status, content_type, disposition, bytes }
}

/// A file the CLI wrote, as the API would have sent it.
fn from_file(path: &std::path::Path) -> Download {
    let xlsx = path.extension().is_some_and(|e| e == "xlsx");
    let (content_type, name) = if xlsx {
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "cases.xlsx")
    } else {
        ("text/csv; charset=utf-8", "cases.csv")
    };
    Download {
        status: StatusCode::OK,
        content_type: content_type.into(),
        disposition: format!("attachment; filename=\"{name}\""),
        bytes: std::fs::read(path).expect("the file"),
    }
}

/// Every row of the workbook's one sheet, header first.
fn xlsx_rows(d: &Download) -> Vec<Vec<Data>> {
    assert_eq!(d.status, StatusCode::OK, "{}", String::from_utf8_lossy(&d.bytes));
    assert_eq!(d.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(d.disposition, "attachment; filename=\"cases.xlsx\"");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(d.bytes.clone())).expect("an xlsx file");
    assert_eq!(book.sheet_names(), ["Cases"]);
    let range = book.worksheet_range("Cases").expect("sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// Every record of the CSV, header first.
fn csv_rows(d: &Download) -> Vec<Vec<String>> {
    assert_eq!(d.status, StatusCode::OK, "{}", String::from_utf8_lossy(&d.bytes));
    assert_eq!(d.content_type, "text/csv; charset=utf-8");
    assert_eq!(d.disposition, "attachment; filename=\"cases.csv\"");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(d.bytes.as_slice());
    r.records().map(|rec| rec.expect("a CSV record").iter().map(str::to_string).collect()).collect()
}

/// The XML of the workbook's sheet, to see its frozen pane and filter.
fn sheet_xml(d: &Download) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(d.bytes.clone())).expect("a zip");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").expect("the sheet").read_to_string(&mut xml).expect("xml");
    xml
}

fn text(s: &str) -> Data {
    Data::String(s.to_string())
}

/// Days since 1899-12-30 of an RFC 3339 instant, on the wall clock of `tz`.
fn serial(at: &str, tz: &str) -> f64 {
    let t: jiff::Timestamp = at.parse().expect("time");
    let dt = t.to_zoned(jiff::tz::TimeZone::get(tz).expect("tz")).datetime();
    let days = (dt.date() - jiff::civil::date(1899, 12, 30)).get_days();
    let secs = i64::from(dt.hour()) * 3600 + i64::from(dt.minute()) * 60 + i64::from(dt.second());
    f64::from(days) + secs as f64 / 86_400.0
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

const COLUMNS: &str = "case_number,subject,status,priority,queue,assignee,contact,account,tags,created_at,sla,time_spent,cf.order,cf.amount,cf.rush,cf.ship";
const HEADER: [&str; 16] = [
    "Case number",
    "Subject",
    "Status",
    "Priority",
    "Queue",
    "Assignee",
    "Contact",
    "Account",
    "Tags",
    "Created",
    "SLA",
    "Time spent (minutes)",
    "order",
    "amount",
    "rush",
    "ship",
];

/// Two cases tagged `export` (and one that is not) with everything the columns show.
async fn seed(app: &TestApp) -> (Value, Value) {
    let r = app.patch("/api/v1/organization", json!({"time_zone": "America/New_York"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let acc = app.post("/api/v1/accounts", json!({"name": "Initech"})).await.body;
    let cnt = app.post("/api/v1/contacts", json!({"name": "Ada Lovelace", "account_id": id(&acc)})).await.body;
    let q = app.post("/api/v1/case-queues", json!({"name": "Billing"})).await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.body);
    let first = app
        .create_case(json!({
            "subject": "=HYPERLINK(\"http://evil.example\")", "priority": "high", "tags": ["export", "vip"],
            "queue_id": id(&q.body), "owner_id": app.admin_id, "contact_id": id(&cnt),
            "custom_fields": {"order": 4521, "amount": 12.5, "rush": true, "ship": "2026-03-04"}
        }))
        .await;
    let second = app
        .create_case(json!({"subject": "Printer, \"jammed\"\nagain", "tags": ["export"], "custom_fields": {}}))
        .await;
    app.create_case(json!({"subject": "not exported"})).await;
    let r = app
        .post(
            &format!("/api/v1/cases/{}/time-entries", id(&first)),
            json!({"duration": "1h 30m", "date": "2026-03-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (app.get(&format!("/api/v1/cases/{}", id(&first))).await.body, second)
}

#[tokio::test]
async fn xlsx_export_holds_the_querys_cases_cell_by_cell() {
    let app = spawn_app().await;
    let (first, second) = seed(&app).await;
    let d =
        download(&app, &app.token, "xlsx", &[("q", "tag:export"), ("columns", COLUMNS), ("ordering", "created_at")])
            .await;
    let rows = xlsx_rows(&d);
    assert_eq!(rows.len(), 3, "a header and two cases: {rows:?}");
    assert_eq!(rows[0], HEADER.map(text).to_vec());

    let a = &rows[1];
    assert_eq!(a[0], Data::Float(first["case_number"].as_f64().expect("number")), "numbers are numbers");
    assert_eq!(a[1], text("=HYPERLINK(\"http://evil.example\")"), "text stays text, never a formula");
    assert_eq!(
        a[2..9],
        [
            text("open"),
            text("high"),
            text("Billing"),
            text("Administrator"),
            text("Ada Lovelace"),
            text("Initech"),
            text("export, vip")
        ]
    );
    let Data::DateTime(created) = &a[9] else { panic!("created_at is a date: {:?}", a[9]) };
    let want = serial(first["created_at"].as_str().expect("created_at"), "America/New_York");
    assert!(
        (created.as_f64() - want).abs() < 1.0 / 86_400.0,
        "{} vs {want}: the organization's wall clock",
        created.as_f64()
    );
    assert_eq!(a[10], Data::Empty, "no SLA policy applies");
    assert_eq!(a[11], Data::Float(90.0), "minutes logged");
    assert_eq!(a[12..15], [Data::Float(4521.0), Data::Float(12.5), Data::Bool(true)]);
    let Data::DateTime(ship) = &a[15] else { panic!("a date field is a date: {:?}", a[15]) };
    assert_eq!(ship.as_f64(), 46085.0, "2026-03-04");

    let b = &rows[2];
    assert_eq!(b[0], Data::Float(second["case_number"].as_f64().expect("number")));
    assert_eq!(b[1], text("Printer, \"jammed\"\nagain"));
    assert_eq!(
        (&b[4], &b[5], &b[6], &b[11], &b[12]),
        (&Data::Empty, &Data::Empty, &Data::Empty, &Data::Float(0.0), &Data::Empty)
    );

    let xml = sheet_xml(&d);
    assert!(xml.contains(r#"ySplit="1""#) && xml.contains(r#"state="frozen""#), "the header row is frozen: {xml}");
    assert!(xml.contains(r#"<autoFilter ref="A1:P3"/>"#), "the filter covers the header and every row: {xml}");
}

#[tokio::test]
async fn csv_export_holds_the_same_cases_field_by_field() {
    let app = spawn_app().await;
    let (first, second) = seed(&app).await;
    let d = download(&app, &app.token, "csv", &[("q", "tag:export"), ("columns", COLUMNS), ("ordering", "created_at")])
        .await;
    let rows = csv_rows(&d);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0], HEADER);
    let created: jiff::Timestamp = first["created_at"].as_str().expect("created_at").parse().expect("time");
    let local = created.to_zoned(jiff::tz::TimeZone::get("America/New_York").expect("tz"));
    let n = |c: &Value| c["case_number"].as_i64().expect("number").to_string();
    assert_eq!(
        rows[1],
        [
            n(&first).as_str(),
            "'=HYPERLINK(\"http://evil.example\")",
            "open",
            "high",
            "Billing",
            "Administrator",
            "Ada Lovelace",
            "Initech",
            "export, vip",
            &local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            "",
            "90",
            "4521",
            "12.5",
            "true",
            "2026-03-04",
        ]
    );
    assert_eq!(rows[2][..3], [n(&second).as_str(), "Printer, \"jammed\"\nagain", "new"]);
    assert_eq!(rows[2][11], "0");
}

#[tokio::test]
async fn a_view_exports_its_query_columns_and_order() {
    let app = spawn_app().await;
    let (_, agent_token) = app.agent().await;
    for (subject, priority, order) in [("low one", "low", 1), ("critical one", "critical", 2), ("high one", "high", 3)]
    {
        app.create_case(
            json!({"subject": subject, "priority": priority, "tags": ["vip"], "custom_fields": {"order": order}}),
        )
        .await;
    }
    app.create_case(json!({"subject": "not vip", "owner_id": app.admin_id})).await;
    let v = app
        .post(
            "/api/v1/views",
            json!({"name": "VIP", "query": "tag:vip", "columns": ["subject", "cf.order"], "ordering": "-priority"}),
        )
        .await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.body);
    let view = id(&v.body);
    let rows = csv_rows(&download(&app, &app.token, "csv", &[("view", &view)]).await);
    assert_eq!(rows, [["Subject", "order"], ["critical one", "2"], ["high one", "3"], ["low one", "1"]]);
    // The same view as a workbook, narrowed by a query, in another order.
    let d =
        download(&app, &app.token, "xlsx", &[("view", &view), ("q", "-priority:low"), ("ordering", "priority")]).await;
    assert_eq!(
        xlsx_rows(&d),
        [
            vec![text("Subject"), text("order")],
            vec![text("high one"), Data::Float(3.0)],
            vec![text("critical one"), Data::Float(2.0)],
        ]
    );
    // Columns given replace the view's.
    let rows = csv_rows(&download(&app, &app.token, "csv", &[("view", &view), ("columns", "priority")]).await);
    assert_eq!(rows, [["Priority"], ["critical"], ["high"], ["low"]]);
    // A predefined view: its query (the caller's cases) and the default columns.
    let rows = csv_rows(&download(&app, &app.token, "csv", &[("view", "my-cases")]).await);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], ["Case number", "Subject", "Status", "Priority", "Assignee", "Updated"]);
    assert_eq!(rows[1][1..5], ["not vip", "open", "medium", "Administrator"]);
    // Another user's personal view is not theirs to export.
    let r = download(&app, &agent_token, "csv", &[("view", &view)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn exports_read_every_case_past_one_batch_in_order() {
    let app = spawn_app().await;
    let total = 1203;
    for chunk in (0..total).collect::<Vec<_>>().chunks(600) {
        let cases: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"subject": format!("case {i}"), "created_at": format!("2024-01-01T00:{:02}:{:02}Z", i / 60 % 60, i % 60), "case_number": 5000 + i}))
            .collect();
        let r = app.post("/api/v1/imports/cases", json!({"cases": cases})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let rows =
        csv_rows(&download(&app, &app.token, "csv", &[("columns", "case_number"), ("ordering", "-created_at")]).await);
    let numbers: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().expect("number")).collect();
    let want: Vec<i64> = (0..total).rev().map(|i| 5000 + i).collect();
    assert_eq!(numbers, want, "every case once, newest first");
    let rows =
        xlsx_rows(&download(&app, &app.token, "xlsx", &[("columns", "case_number"), ("ordering", "created_at")]).await);
    let numbers: Vec<i64> = rows[1..]
        .iter()
        .map(|r| match r[0] {
            Data::Float(f) => f as i64,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, want.into_iter().rev().collect::<Vec<_>>(), "every case once, oldest first");
}

/// Query parameters of a request.
type Params<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn bad_input_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    app.create_case(json!({"subject": "a case"})).await;
    let (_, other_token) = app.other_org().await;
    let theirs = app
        .call(
            Method::POST,
            "/api/v1/views",
            Some(&other_token),
            Some(&json!({"name": "Theirs", "scope": "organization"})),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let their_view = id(&theirs.body);
    let cases: Vec<(Params, Vec<&str>)> = vec![
        (vec![("columns", "subject,colour")], vec!["columns[1]"]),
        (vec![("columns", "subject,subject")], vec!["columns[1]"]),
        (vec![("q", "status:nope")], vec!["q"]),
        (vec![("q", "\"unclosed")], vec!["q"]),
        (vec![("view", "vw_nope")], vec!["view"]),
        (vec![("view", "nope")], vec!["view"]),
        (vec![("view", &their_view)], vec!["view"]),
        (vec![("ordering", "name")], vec!["ordering"]),
        (vec![("limit", "5")], vec!["limit"]),
        (vec![("format", "pdf")], vec!["format"]),
        (vec![("view", "vw_nope"), ("q", "status:nope"), ("columns", "x")], vec!["view", "q", "columns[0]"]),
    ];
    for format in ["xlsx", "csv"] {
        for (params, fields) in &cases {
            let r = app
                .call(
                    Method::GET,
                    &format!("/api/v1/exports/cases.{format}?{}", url_pairs(params)),
                    Some(&app.token),
                    None,
                    &[],
                )
                .await;
            r.assert_problem(422, "validation_failed");
            assert_eq!(&r.error_fields(), fields, "{format} {params:?}: {}", r.body);
        }
    }
}

fn url_pairs(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("url");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or("").to_string()
}

#[tokio::test]
async fn an_export_holds_only_the_callers_organization() {
    let app = spawn_app().await;
    app.create_case(json!({"subject": "ours", "tags": ["shared-tag"]})).await;
    let (_, other_token) = app.other_org().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&other_token),
            Some(&json!({"subject": "theirs", "tags": ["shared-tag"]})),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for (token, subject) in [(&app.token, "ours"), (&other_token, "theirs")] {
        let rows = csv_rows(&download(&app, token, "csv", &[("q", "tag:shared-tag"), ("columns", "subject")]).await);
        assert_eq!(rows, [["Subject"], [subject]]);
        let rows = xlsx_rows(&download(&app, token, "xlsx", &[("columns", "subject")]).await);
        assert_eq!(rows, [vec![text("Subject")], vec![text(subject)]]);
    }
    // Agents export too (reading cases is all it takes); no token is a 401.
    let (_, agent_token) = app.agent().await;
    assert_eq!(download(&app, &agent_token, "csv", &[]).await.status, StatusCode::OK);
    let r = app.call(Method::GET, "/api/v1/exports/cases.csv", None, None, &[]).await;
    r.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_cli_exports_as_a_user_to_a_file() {
    use casedesk::export::{ExportArgs, export};
    let app = spawn_app().await;
    let (agent, _) = app.agent().await;
    app.create_case(json!({"subject": "the agent's", "owner_id": agent})).await;
    app.create_case(json!({"subject": "the admin's", "owner_id": app.admin_id})).await;
    let dir = tempfile::tempdir().expect("dir");
    let args = |user: &str, file: &str| ExportArgs {
        user: user.to_string(),
        format: None,
        query: Some("assignee:me".into()),
        view: None,
        columns: Some(vec!["subject".into(), "assignee".into()]),
        ordering: None,
        output: dir.path().join(file),
        quiet: true,
    };
    assert_eq!(export(&app.core, &args(&agent, "mine.csv")).await.expect("export"), 1);
    assert_eq!(
        csv_rows(&from_file(&dir.path().join("mine.csv"))),
        [["Subject", "Assignee"], ["the agent's", "Agent"]],
        "`me` is the user given"
    );
    assert_eq!(export(&app.core, &args(&app.admin_id, "mine.xlsx")).await.expect("export"), 1);
    assert_eq!(
        xlsx_rows(&from_file(&dir.path().join("mine.xlsx"))),
        [vec![text("Subject"), text("Assignee")], vec![text("the admin's"), text("Administrator")]]
    );

    let bad = ExportArgs { columns: Some(vec!["colour".into()]), ..args(&agent, "bad.csv") };
    let e = export(&app.core, &bad).await.expect_err("unknown column").to_string();
    assert!(e.contains("columns[0]"), "{e}");
    assert!(!dir.path().join("bad.csv").exists(), "no file for a failed export");
    let e = export(&app.core, &args("usr_nobody", "x.csv")).await.expect_err("unknown user").to_string();
    assert!(e.contains("usr_nobody"), "{e}");
    let e = export(&app.core, &args(&agent, "x.pdf")).await.expect_err("no format").to_string();
    assert!(e.contains("--format"), "{e}");
}
