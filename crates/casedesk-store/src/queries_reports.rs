// Reports: reads of the per-day totals the triggers of migrations 0022–0024 keep.
// Compiled once per backend like `queries.rs` (`include!`d into a child module of each backend's
// `q`, which sees the parent's helpers).

use casedesk_domain::report::{DayRow, Histogram};

fn decode_day_row(row: &DbRow) -> Result<DayRow> {
    let hist: String = row.try_get("hist")?;
    let bhist: String = row.try_get("bhist")?;
    Ok(DayRow {
        series: row.try_get("series")?,
        day: i32::try_from(row.try_get::<i64, _>("day")?).map_err(|e| corrupt("day", e))?,
        key: row.try_get("key")?,
        n: row.try_get("n")?,
        m: row.try_get("m")?,
        secs: row.try_get("secs")?,
        bn: row.try_get("bn")?,
        bsecs: row.try_get("bsecs")?,
        hist: Histogram::parse(&hist).map_err(|e| corrupt("hist", e))?,
        bhist: Histogram::parse(&bhist).map_err(|e| corrupt("bhist", e))?,
    })
}

/// The per-day totals of up to three `series` for grouping `dim`, days `from..=to`. Reads one
/// primary-key range per series.
pub async fn report_days(pool: &Pool, org_id: &str, series: &[&str], dim: &str, from: i32, to: i32) -> Result<Vec<DayRow>> {
    let Some(first) = series.first() else { return Ok(Vec::new()) };
    let pick = |i: usize| series.get(i).unwrap_or(first).to_string();
    let rows = sqlx::query(
        "SELECT series, CAST(day AS BIGINT) AS day, key, n, m, secs, bn, bsecs, CAST(hist AS TEXT) AS hist, \
         CAST(bhist AS TEXT) AS bhist FROM report_days \
         WHERE org_id = $1 AND series IN ($2, $3, $4) AND dim = $5 AND day >= $6 AND day <= $7",
    )
    .bind(org_id)
    .bind(pick(0))
    .bind(pick(1))
    .bind(pick(2))
    .bind(dim)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    rows.iter().map(decode_day_row).collect()
}

/// Per key of grouping `dim`: the cases created and resolved before day `before` (the backlog's
/// starting point).
pub async fn report_totals_before(
    pool: &Pool,
    org_id: &str,
    dim: &str,
    before: i32,
) -> Result<std::collections::BTreeMap<String, (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT key, series, CAST(SUM(n) AS BIGINT) AS n FROM report_days \
         WHERE org_id = $1 AND series IN ('created', 'resolved') AND dim = $2 AND day < $3 GROUP BY key, series",
    )
    .bind(org_id)
    .bind(dim)
    .bind(before)
    .fetch_all(pool)
    .await?;
    let mut out = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for row in &rows {
        let key: String = row.try_get("key")?;
        let series: String = row.try_get("series")?;
        let n: i64 = row.try_get("n")?;
        let slot = out.entry(key).or_default();
        if series == "created" {
            slot.0 += n;
        } else {
            slot.1 += n;
        }
    }
    Ok(out)
}
