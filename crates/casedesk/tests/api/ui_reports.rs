//! The Reports page in the web UI: the chart is an SVG drawn by the server with the figures in
//! tables beside it, the controls choose the report, period, granularity and grouping, the
//! downloads are the same report as CSV and `.xlsx`, bad input shows in the page, and a
//! signed-out visitor is sent to sign in.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, spawn_app_at};
use crate::routing::ts;
use crate::ui::Browser;

#[tokio::test]
async fn the_reports_page_draws_an_svg_chart_with_its_numbers_and_downloads() {
    let app = spawn_app_at(ts("2026-05-06T15:00:00Z")).await;
    let support =
        app.post("/api/v1/case-queues", json!({"name": "Support <EU>"})).await.body["id"].as_str().unwrap().to_string();
    for i in 0..3 {
        app.create_case(
            json!({"subject": format!("c{i}"), "queue_id": if i == 0 { json!(support) } else { json!(null) }}),
        )
        .await;
    }
    let mut anon = Browser::new(&app);
    let r = anon.get("/reports").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());

    let mut b = Browser::new(&app);
    assert_eq!(b.sign_in("admin@example.com", ADMIN_PASSWORD).await.status, StatusCode::SEE_OTHER);
    // The navigation leads there; the default is the last 30 days of volume, by day.
    let cases = b.get("/cases").await;
    assert!(cases.html.contains("href=\"/reports\""), "{}", cases.html);
    let page = b.get("/reports").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<svg") && page.html.contains("<rect"), "a bar chart: {}", page.html);
    assert!(page.html.contains("value=\"2026-04-07\"") && page.html.contains("value=\"2026-05-06\""), "{}", page.html);
    assert!(page.html.contains("aria-current=\"page\">Reports"));

    // Grouped by queue: one line per group, named (escaped) in the legend and the totals table.
    let page = b.get("/reports?report=volume&from=2026-05-01&to=2026-05-06&granularity=day&group_by=queue").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html.matches("<polyline").count(), 2, "{}", page.html);
    assert!(page.html.contains("Support &#60;EU&#62;") && page.html.contains("(none)"), "{}", page.html);
    let totals = &page.html[page.html.find("id=\"report-totals\"").unwrap()..];
    let totals = &totals[..totals.find("</table>").unwrap()];
    assert!(totals.contains("<td class=\"num\">2</td>") && totals.contains("<td class=\"num\">1</td>"), "{totals}");
    assert_eq!(page.html.matches("<tr><td>2026-05-0").count(), 12, "six days for each of two groups");

    // The download links carry the same choices.
    let csv_link =
        "/reports/download?report=volume&from=2026-05-01&to=2026-05-06&granularity=day&group_by=queue&format=csv";
    assert!(page.html.contains(&csv_link.replace('&', "&#38;")), "{}", page.html);
    let csv = b.get(csv_link).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.html.lines().any(|l| l.starts_with("total,") && l.contains("Support <EU>,1,0")), "{}", csv.html);
    let xlsx = b.get(&csv_link.replace("format=csv", "format=xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(xlsx.headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");

    // Every report renders; a bad date shows in the page, naming the field.
    for report in ["first-response", "resolution", "sla-compliance", "csat", "backlog", "time-tracking"] {
        let page = b.get(&format!("/reports?report={report}&granularity=week")).await;
        assert_eq!(page.status, StatusCode::OK, "{report}");
        assert!(page.html.contains("<svg"), "{report}");
    }
    let page = b.get("/reports?from=someday").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("id=\"report-error\"") && page.html.contains("from:"), "{}", page.html);
}
