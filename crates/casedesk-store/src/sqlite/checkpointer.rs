//! Moves the write-ahead log into the database file off the writer's path.
//!
//! In WAL mode the connection whose commit pushes the log past `wal_autocheckpoint` pages copies
//! the log back into the database (and syncs it) before its commit returns. With one writer
//! connection that is every write queued behind it waiting for the copy. Here a connection of its
//! own runs a PASSIVE checkpoint every [`PERIOD`]: PASSIVE never waits for readers or the writer
//! and copies what it can, so the log stays short and the writer's own automatic checkpoint (its
//! threshold raised to [`WRITER_AUTOCHECKPOINT`] pages) only runs if this one falls behind.
//! (A RESTART or TRUNCATE checkpoint would hold the writer until every reader moves on.)

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::oneshot;

/// How often the log is checkpointed.
pub(crate) const PERIOD: Duration = Duration::from_millis(50);

/// The writer's `wal_autocheckpoint`, in pages: a fallback four times SQLite's default.
pub(crate) const WRITER_AUTOCHECKPOINT: &str = "4000";

/// The checkpointing task's handle: dropping the last one (every `Store` clone gone) or
/// [`Checkpointer::close`] stops it.
pub(crate) struct Checkpointer {
    pool: SqlitePool,
    _stop: oneshot::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing on `pool` (one connection).
    pub(crate) fn start(pool: SqlitePool) -> Checkpointer {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task_pool = pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                if task_pool.is_closed() {
                    break;
                }
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&task_pool).await {
                    if task_pool.is_closed() {
                        break;
                    }
                    tracing::debug!(error = %e, "WAL checkpoint failed; the writer's own checkpoint covers it");
                }
            }
            task_pool.close().await;
        });
        Checkpointer { pool, _stop: stop }
    }

    /// Stops checkpointing and closes its connection.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}
