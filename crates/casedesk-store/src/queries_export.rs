// What an export shows beside a page of cases, compiled once per backend like `queries.rs`
// (this file is `include!`d into a child module of each backend's `q`). Each query takes one
// page's ids, so an export of any size reads them in bounded pieces.

/// The names of the users, contacts, queues and categories among `ids`, as `(id, name)`; ids of
/// another organization or of any other kind are left out.
pub async fn names_of(pool: &Pool, org_id: &str, ids: &[String]) -> Result<Vec<(String, String)>> {
    let tables = [("usr_", "users"), ("cnt_", "contacts"), ("q_", "case_queues"), ("ccat_", "case_categories")];
    let mut q = Sql::default();
    let org = q.arg(Arg::Text(org_id.to_string()));
    let mut parts = Vec::new();
    for (prefix, table) in tables {
        let placeholders: Vec<String> =
            ids.iter().filter(|id| id.starts_with(prefix)).map(|id| q.arg(Arg::Text(id.clone()))).collect();
        if !placeholders.is_empty() {
            parts.push(format!(
                "SELECT id, name FROM {table} WHERE org_id = {org} AND id IN ({})",
                placeholders.join(", ")
            ));
        }
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    q.push(&parts.join(" UNION ALL "));
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("name")?))).collect()
}

/// Seconds of time logged on each of these cases that has any, as `(case_id, seconds)`.
pub async fn time_spent_of(pool: &Pool, org_id: &str, case_ids: &[String]) -> Result<Vec<(String, i64)>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    let org = q.arg(Arg::Text(org_id.to_string()));
    q.push(&format!(
        "SELECT case_id, CAST(SUM(duration_secs) AS BIGINT) AS secs FROM time_entries WHERE org_id = {org}"
    ));
    q.and_in("case_id", case_ids.iter().map(|id| Arg::Text(id.clone())));
    q.push(" GROUP BY case_id");
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    rows.iter().map(|r| Ok((r.try_get("case_id")?, r.try_get("secs")?))).collect()
}
