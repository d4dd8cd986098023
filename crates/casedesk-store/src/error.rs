//! [`StoreError`]: the one error type of the storage layer, mapped once from sqlx's.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record in the caller's organization.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (an email already taken, a reused key).
    #[error("already exists: {0}")]
    Duplicate(String),
    /// The record is referred to by others and cannot be deleted.
    #[error("in use: {0}")]
    InUse(String),
    /// The record changed since it was read (optimistic concurrency).
    #[error("the record changed since it was read")]
    Stale,
    /// A list cursor that this server did not issue, or that belongs to another ordering.
    #[error("invalid cursor")]
    InvalidCursor,
    /// A stored value that does not decode (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(db.message().to_string()),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::InUse(db.message().to_string()),
            sqlx::Error::Database(db) if lost_a_race(db.code().as_deref()) => StoreError::Stale,
            _ => StoreError::Database(e),
        }
    }
}

/// PostgreSQL's deadlock (40P01) and serialization failure (40001): the transaction lost a race
/// with another and was rolled back whole, so it can be tried again like a stale write. (Writes
/// of several cases in one transaction can deadlock on the maintained view counts.)
fn lost_a_race(code: Option<&str>) -> bool {
    matches!(code, Some("40P01" | "40001"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn deadlocks_and_serialization_failures_are_retried_like_stale_writes() {
        assert!(super::lost_a_race(Some("40P01")));
        assert!(super::lost_a_race(Some("40001")));
        assert!(!super::lost_a_race(Some("23505")));
        assert!(!super::lost_a_race(None));
    }
}
