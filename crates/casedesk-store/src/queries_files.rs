// Files on cases, compiled once per backend like `queries.rs` (this file is `include!`d into a
// child module of each backend's `q`, which sees the parent's helpers).

use casedesk_domain::file::CaseFile;

fn decode_file(row: &DbRow) -> Result<CaseFile> {
    Ok(CaseFile {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        case_id: row.try_get("case_id")?,
        comment_id: row.try_get("comment_id")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

/// Records a stored file with its timeline entry.
pub async fn insert_file(pool: &Pool, f: &CaseFile, event: &NewEvent) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO case_files (id, org_id, case_id, comment_id, name, content_type, size, sha256, uploaded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&f.id)
    .bind(&f.org_id)
    .bind(&f.case_id)
    .bind(&f.comment_id)
    .bind(&f.name)
    .bind(&f.content_type)
    .bind(f.size)
    .bind(&f.sha256)
    .bind(&f.uploaded_by)
    .bind(us(f.created_at))
    .execute(&mut *tx)
    .await?;
    insert_events(&mut tx, &f.org_id, &f.case_id, &f.uploaded_by, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}

/// A case's files, oldest first.
pub async fn list_files(pool: &Pool, org_id: &str, case_id: &str) -> Result<Vec<CaseFile>> {
    let rows = sqlx::query("SELECT * FROM case_files WHERE org_id = $1 AND case_id = $2 ORDER BY created_at, id")
        .bind(org_id)
        .bind(case_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode_file).collect()
}

/// A file of a case that is not deleted.
pub async fn get_file(pool: &Pool, org_id: &str, id: &str) -> Result<CaseFile> {
    let row = fetch_in_org(
        pool,
        "SELECT f.* FROM case_files f JOIN cases c ON c.id = f.case_id \
         WHERE f.org_id = $1 AND f.id = $2 AND c.deleted_at IS NULL",
        org_id,
        id,
    )
    .await?;
    decode_file(&row)
}

/// Removes a file's record with its timeline entry. The bytes stay until the blob sweep finds
/// no file using them.
pub async fn delete_file(pool: &Pool, f: &CaseFile, actor_id: &str, event: &NewEvent) -> Result<()> {
    let mut tx = pool.begin().await?;
    delete_in_org(&mut tx, "case_files", &f.org_id, &f.id).await?;
    insert_events(&mut tx, &f.org_id, &f.case_id, actor_id, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    Ok(())
}

/// Attaches a new comment's files to it: each must still be a file of the comment's case that no
/// comment has yet ([`StoreError::Stale`] otherwise, so the caller checks again).
pub(super) async fn attach_files(tx: &mut Tx<'_>, c: &Comment) -> Result<()> {
    for f in &c.attachments {
        let done = sqlx::query(
            "UPDATE case_files SET comment_id = $1 WHERE org_id = $2 AND case_id = $3 AND id = $4 AND comment_id IS NULL",
        )
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.case_id)
        .bind(&f.id)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
    }
    Ok(())
}

/// Fills in the attachments of `comments` with one query.
pub(super) async fn load_attachments(pool: &Pool, comments: &mut [Comment]) -> Result<()> {
    if comments.is_empty() {
        return Ok(());
    }
    let mut q = Sql::default();
    q.push("SELECT * FROM case_files WHERE comment_id IN (");
    for (i, c) in comments.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        let p = q.arg(Arg::Text(c.id.clone()));
        q.push(&p);
    }
    q.push(") ORDER BY created_at, id");
    let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args).fetch_all(pool).await?;
    for row in &rows {
        let f = decode_file(row)?;
        if let Some(c) = comments.iter_mut().find(|c| Some(&c.id) == f.comment_id.as_ref()) {
            c.attachments.push(f);
        }
    }
    Ok(())
}

/// Whether any file, in any organization, has this content.
pub async fn blob_in_use(pool: &Pool, sha256: &str) -> Result<bool> {
    // Files and the kept originals of inbound mail.
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM case_files WHERE sha256 = $1 \
         UNION ALL SELECT 1 FROM email_messages WHERE raw_sha256 = $1 LIMIT 1) used",
    )
        .bind(sha256)
        .fetch_one(pool)
        .await?
        > 0)
}
