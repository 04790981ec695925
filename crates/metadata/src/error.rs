//! The metadata store's error type.

/// Why a metadata operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The thing exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// The backend cannot be reached or is overloaded; the request may be retried.
    #[error("metadata store unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or corrupt data.
    #[error("metadata store failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of a metadata store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(error)
            }
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|code| code == "5" || code == "6") =>
            {
                // SQLITE_BUSY / SQLITE_LOCKED: another writer held the file past the busy timeout.
                Error::Unavailable(error)
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}
