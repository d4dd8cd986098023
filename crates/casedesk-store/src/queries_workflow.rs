// Custom statuses and funnel stages, compiled once per backend like `queries.rs` (this file is
// `include!`d into a child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::workflow::{CustomStatus, FunnelStage};

/// One default status per category for a new organization (the migration gave existing ones
/// the same).
const DEFAULT_STATUSES: &str = "INSERT INTO case_statuses (id, org_id, name, category, pauses_sla, position, \
    is_default, created_at, updated_at) \
    SELECT 'cst_' || substr(o.id, 5) || '_' || c.category, o.id, c.name, c.category, CAST(NULL AS BOOLEAN), \
    c.position, TRUE, o.created_at, o.created_at FROM organizations o CROSS JOIN ( \
    SELECT 'new' AS category, 'New' AS name, 1 AS position UNION ALL SELECT 'open', 'Open', 2 \
    UNION ALL SELECT 'pending', 'Pending', 3 UNION ALL SELECT 'on_hold', 'On hold', 4 \
    UNION ALL SELECT 'resolved', 'Resolved', 5 UNION ALL SELECT 'closed', 'Closed', 6) c WHERE o.id = $1";

pub(crate) async fn insert_default_statuses(tx: &mut Tx<'_>, org_id: &str) -> Result<()> {
    sqlx::query(DEFAULT_STATUSES).bind(org_id).execute(&mut **tx).await?;
    Ok(())
}

fn decode_status(row: &DbRow) -> Result<CustomStatus> {
    Ok(CustomStatus {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        category: Status::parse(row.try_get("category")?).map_err(|e| corrupt("category", e))?,
        pauses_sla: row.try_get("pauses_sla")?,
        position: row.try_get("position")?,
        is_default: row.try_get("is_default")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// All of an organization's statuses, by category then position.
pub async fn list_statuses(pool: &Pool, org_id: &str) -> Result<Vec<CustomStatus>> {
    let rows = sqlx::query("SELECT s.* FROM case_statuses s WHERE s.org_id = $1 ORDER BY s.position, s.created_at, s.id")
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    let mut out = rows.iter().map(decode_status).collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|s| (s.category, s.position));
    Ok(out)
}

pub async fn get_status(pool: &Pool, org_id: &str, id: &str) -> Result<CustomStatus> {
    let row = fetch_in_org(pool, "SELECT s.* FROM case_statuses s WHERE s.org_id = $1 AND s.id = $2", org_id, id).await?;
    decode_status(&row)
}

/// Writes a status (insert or update); one marked default takes over its category's default.
pub async fn put_status(pool: &Pool, s: &CustomStatus, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    if s.is_default {
        sqlx::query("UPDATE case_statuses SET is_default = FALSE WHERE org_id = $1 AND category = $2 AND id <> $3")
            .bind(&s.org_id)
            .bind(s.category.as_str())
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO case_statuses (id, org_id, name, category, pauses_sla, position, is_default, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
         pauses_sla = excluded.pauses_sla, position = excluded.position, is_default = excluded.is_default, \
         updated_at = excluded.updated_at",
    )
    .bind(&s.id)
    .bind(&s.org_id)
    .bind(&s.name)
    .bind(s.category.as_str())
    .bind(s.pauses_sla)
    .bind(s.position)
    .bind(s.is_default)
    .bind(us(s.created_at))
    .bind(us(s.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a status no case is in and that is not its category's default.
pub async fn delete_status(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query("SELECT is_default FROM case_statuses WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    if row.try_get::<bool, _>("is_default")? {
        return Err(StoreError::InUse("a category's default status cannot be deleted".into()));
    }
    let uses = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND custom_status_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} case(s) are in this status")).await?;
    delete_in_org(&mut tx, "case_statuses", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

fn decode_stage(row: &DbRow) -> Result<FunnelStage> {
    Ok(FunnelStage {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        queue_id: row.try_get("queue_id")?,
        name: row.try_get("name")?,
        position: row.try_get("position")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

/// The organization's stages in order, each with its number of active cases.
pub async fn list_stages(pool: &Pool, org_id: &str) -> Result<Vec<(FunnelStage, i64)>> {
    let rows = sqlx::query(
        "SELECT f.*, (SELECT COUNT(*) FROM cases c WHERE c.org_id = f.org_id AND c.funnel_stage_id = f.id \
         AND c.deleted_at IS NULL AND c.status IN ('new', 'open', 'pending', 'on_hold')) AS active_cases \
         FROM funnel_stages f WHERE f.org_id = $1 ORDER BY f.position, f.created_at, f.id",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok((decode_stage(r)?, r.try_get("active_cases")?))).collect()
}

pub async fn get_stage(pool: &Pool, org_id: &str, id: &str) -> Result<FunnelStage> {
    let row = fetch_in_org(pool, "SELECT f.* FROM funnel_stages f WHERE f.org_id = $1 AND f.id = $2", org_id, id).await?;
    decode_stage(&row)
}

pub async fn put_stage(pool: &Pool, f: &FunnelStage, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO funnel_stages (id, org_id, queue_id, name, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET queue_id = excluded.queue_id, \
         name = excluded.name, position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(&f.id)
    .bind(&f.org_id)
    .bind(&f.queue_id)
    .bind(&f.name)
    .bind(f.position)
    .bind(us(f.created_at))
    .bind(us(f.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a stage no case is at.
pub async fn delete_stage(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "funnel_stages", org_id, id).await?;
    let uses = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND funnel_stage_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} case(s) are at this stage")).await?;
    delete_in_org(&mut tx, "funnel_stages", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}

// ---- categories --------------------------------------------------------------------------------

/// One category per seed 004 ticket type for a new organization (the migration gave existing
/// ones the same).
const DEFAULT_CATEGORIES: &str = "INSERT INTO case_categories (id, org_id, name, fields, position, created_at, \
    updated_at) SELECT 'ccat_' || substr(o.id, 5) || '_' || c.slug, o.id, c.name, '[]', c.position, o.created_at, \
    o.created_at FROM organizations o CROSS JOIN (SELECT 'bug' AS slug, 'Bug' AS name, 1 AS position \
    UNION ALL SELECT 'feature', 'Feature Request', 2 UNION ALL SELECT 'question', 'Question', 3 \
    UNION ALL SELECT 'complaint', 'Complaint', 4 UNION ALL SELECT 'other', 'Other', 5) c WHERE o.id = $1";

pub(crate) async fn insert_default_categories(tx: &mut Tx<'_>, org_id: &str) -> Result<()> {
    sqlx::query(DEFAULT_CATEGORIES).bind(org_id).execute(&mut **tx).await?;
    Ok(())
}

fn fields_json(fields: &[casedesk_domain::profile::FieldDef]) -> Result<String> {
    let v: Vec<serde_json::Value> = fields
        .iter()
        .map(|f| {
            serde_json::json!({"key": f.key, "label": f.label, "kind": f.kind.as_str(), "required": f.required,
                "options": f.options})
        })
        .collect();
    json_text(&v)
}

fn decode_category(row: &DbRow) -> Result<casedesk_domain::profile::Category> {
    use casedesk_domain::profile::{FieldDef, FieldKind};
    let text: String = row.try_get("fields")?;
    let raw: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| corrupt("fields", e))?;
    let mut fields = Vec::with_capacity(raw.len());
    for f in raw {
        let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        fields.push(FieldDef {
            key: s("key"),
            label: s("label"),
            kind: FieldKind::parse(&s("kind")).map_err(|e| corrupt("fields", e))?,
            required: f.get("required").and_then(|v| v.as_bool()).unwrap_or(false),
            options: f
                .get("options")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|o| o.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        });
    }
    Ok(casedesk_domain::profile::Category {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        fields,
        position: row.try_get("position")?,
        created_at: ts(row.try_get("created_at")?)?,
        updated_at: ts(row.try_get("updated_at")?)?,
    })
}

pub async fn list_categories(pool: &Pool, org_id: &str) -> Result<Vec<casedesk_domain::profile::Category>> {
    let rows = sqlx::query("SELECT k.* FROM case_categories k WHERE k.org_id = $1 ORDER BY k.position, k.created_at, k.id")
        .bind(org_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_category).collect()
}

pub async fn get_category(pool: &Pool, org_id: &str, id: &str) -> Result<casedesk_domain::profile::Category> {
    let row = fetch_in_org(pool, "SELECT k.* FROM case_categories k WHERE k.org_id = $1 AND k.id = $2", org_id, id).await?;
    decode_category(&row)
}

pub async fn put_category(pool: &Pool, k: &casedesk_domain::profile::Category, idem: Option<&IdempotencyRecord>) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO case_categories (id, org_id, name, fields, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
         fields = excluded.fields, position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(&k.id)
    .bind(&k.org_id)
    .bind(&k.name)
    .bind(fields_json(&k.fields)?)
    .bind(k.position)
    .bind(us(k.created_at))
    .bind(us(k.updated_at))
    .execute(&mut *tx)
    .await?;
    if let Some(r) = idem {
        insert_idem(&mut tx, r).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a category no case has.
pub async fn delete_category(pool: &Pool, org_id: &str, id: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    must_exist(&mut tx, "case_categories", org_id, id).await?;
    let uses = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND category_id = $2";
    refuse_if_used(&mut tx, uses, org_id, id, |n| format!("{n} case(s) have this category")).await?;
    delete_in_org(&mut tx, "case_categories", org_id, id).await?;
    tx.commit().await?;
    Ok(())
}
