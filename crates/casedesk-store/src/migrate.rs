//! Schema migrations: numbered SQL files embedded in the binary, applied in order, each in its
//! own transaction, recorded in `casedesk_migrations`.

use jiff::Timestamp;

use crate::Result;

/// (version, SQL) for each backend, in order. Never edit a released file: add a new one.
const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_routing_sla.sql")),
    (3, include_str!("../migrations/sqlite/0003_statuses_stages.sql")),
    (4, include_str!("../migrations/sqlite/0004_time_tracking.sql")),
    (5, include_str!("../migrations/sqlite/0005_links_merge.sql")),
    (6, include_str!("../migrations/sqlite/0006_categories.sql")),
    (7, include_str!("../migrations/sqlite/0007_activities.sql")),
    (8, include_str!("../migrations/sqlite/0008_milestones.sql")),
    (9, include_str!("../migrations/sqlite/0009_files.sql")),
    (10, include_str!("../migrations/sqlite/0010_event_feed.sql")),
    (11, include_str!("../migrations/sqlite/0011_views.sql")),
    (12, include_str!("../migrations/sqlite/0012_bulk_trash.sql")),
    (13, include_str!("../migrations/sqlite/0013_case_counts.sql")),
    (14, include_str!("../migrations/sqlite/0014_ui_sessions.sql")),
    (15, include_str!("../migrations/sqlite/0015_webhooks.sql")),
    (16, include_str!("../migrations/sqlite/0016_search_people.sql")),
    (17, include_str!("../migrations/sqlite/0017_automation.sql")),
    (18, include_str!("../migrations/sqlite/0018_signing_keys.sql")),
    (19, include_str!("../migrations/sqlite/0019_email.sql")),
    (20, include_str!("../migrations/sqlite/0020_contact_phone_key.sql")),
    (21, include_str!("../migrations/sqlite/0021_ai_settings.sql")),
    (22, include_str!("../migrations/sqlite/0022_reports.sql")),
    (23, include_str!("../migrations/sqlite/0023_csat.sql")),
    (24, include_str!("../migrations/sqlite/0024_report_time.sql")),
    (25, include_str!("../migrations/sqlite/0025_case_presence.sql")),
    (26, include_str!("../migrations/sqlite/0026_portal.sql")),
    (28, include_str!("../migrations/sqlite/0028_conversations.sql")),
    (29, include_str!("../migrations/sqlite/0029_mailbox_imap.sql")),
    (30, include_str!("../migrations/sqlite/0030_connector_health.sql")),
    (31, include_str!("../migrations/sqlite/0031_reply_channel.sql")),
    (32, include_str!("../migrations/sqlite/0032_merged_into_index.sql")),
    (33, include_str!("../migrations/sqlite/0033_cheaper_report_triggers.sql")),
    (34, include_str!("../migrations/sqlite/0034_round_totals.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_routing_sla.sql")),
    (3, include_str!("../migrations/postgres/0003_statuses_stages.sql")),
    (4, include_str!("../migrations/postgres/0004_time_tracking.sql")),
    (5, include_str!("../migrations/postgres/0005_links_merge.sql")),
    (6, include_str!("../migrations/postgres/0006_categories.sql")),
    (7, include_str!("../migrations/postgres/0007_activities.sql")),
    (8, include_str!("../migrations/postgres/0008_milestones.sql")),
    (9, include_str!("../migrations/postgres/0009_files.sql")),
    (10, include_str!("../migrations/postgres/0010_event_feed.sql")),
    (11, include_str!("../migrations/postgres/0011_views.sql")),
    (12, include_str!("../migrations/postgres/0012_bulk_trash.sql")),
    (13, include_str!("../migrations/postgres/0013_case_counts.sql")),
    (14, include_str!("../migrations/postgres/0014_ui_sessions.sql")),
    (15, include_str!("../migrations/postgres/0015_webhooks.sql")),
    (16, include_str!("../migrations/postgres/0016_search_people.sql")),
    (17, include_str!("../migrations/postgres/0017_automation.sql")),
    (18, include_str!("../migrations/postgres/0018_signing_keys.sql")),
    (19, include_str!("../migrations/postgres/0019_email.sql")),
    (20, include_str!("../migrations/postgres/0020_contact_phone_key.sql")),
    (21, include_str!("../migrations/postgres/0021_ai_settings.sql")),
    (22, include_str!("../migrations/postgres/0022_reports.sql")),
    (23, include_str!("../migrations/postgres/0023_csat.sql")),
    (24, include_str!("../migrations/postgres/0024_report_time.sql")),
    (25, include_str!("../migrations/postgres/0025_case_presence.sql")),
    (26, include_str!("../migrations/postgres/0026_portal.sql")),
    (28, include_str!("../migrations/postgres/0028_conversations.sql")),
    (29, include_str!("../migrations/postgres/0029_mailbox_imap.sql")),
    (30, include_str!("../migrations/postgres/0030_connector_health.sql")),
    (31, include_str!("../migrations/postgres/0031_reply_channel.sql")),
    (32, include_str!("../migrations/postgres/0032_merged_into_index.sql")),
];

const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS casedesk_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

/// Applies one migration in transaction `$tx`, unless `casedesk_migrations` records it. (A macro
/// because the transaction's type differs per backend while the statements do not.)
macro_rules! apply_once {
    ($tx:expr, $version:expr, $sql:expr) => {{
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM casedesk_migrations WHERE version = $1")
            .bind($version)
            .fetch_optional(&mut *$tx)
            .await?;
        if done.is_none() {
            sqlx::raw_sql($sql).execute(&mut *$tx).await?;
            sqlx::query("INSERT INTO casedesk_migrations (version, applied_at) VALUES ($1, $2)")
                .bind($version)
                .bind(Timestamp::now().as_microsecond())
                .execute(&mut *$tx)
                .await?;
            tracing::info!(migration.version = $version, "applied migration");
        }
    }};
}

pub async fn sqlite(pool: &sqlx::SqlitePool) -> Result<()> {
    sqlx::query(CREATE_TABLE).execute(pool).await?;
    for (version, sql) in SQLITE {
        let mut tx = pool.begin().await?;
        apply_once!(tx, *version, *sql);
        tx.commit().await?;
    }
    Ok(())
}

pub async fn postgres(pool: &sqlx::PgPool) -> Result<()> {
    // Several instances may start together: the advisory lock makes them take turns, and the
    // second finds the work done.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7243501)").execute(&mut *tx).await?;
    sqlx::query(CREATE_TABLE).execute(&mut *tx).await?;
    for (version, sql) in POSTGRES {
        apply_once!(tx, *version, *sql);
    }
    tx.commit().await?;
    Ok(())
}
