//! The store's error type.

use warrant_policy::ParseError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (an audience or id already taken).
    #[error("already exists: {0}")]
    Conflict(&'static str),
    /// The database could not be reached or refused the statement.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value no longer parses into its domain type.
    #[error("a stored value is not valid")]
    Corrupt(#[from] ParseError),
    /// A stored JSON column is not valid.
    #[error("a stored JSON value is not valid")]
    CorruptJson(#[from] serde_json::Error),
    /// A change could not be announced to the other instances (their cached
    /// copies would go stale); the database may hold it already.
    #[error("the change could not be announced to the other instances")]
    Propagation(#[source] Box<crate::denylist::DenylistError>),
    /// The SQLite data directory could not be created.
    #[error("cannot create the data directory")]
    DataDir(#[source] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}
