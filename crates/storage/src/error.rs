//! The time-series store's error type.

/// Why a time-series operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend cannot be reached or is overloaded; the request may be retried.
    #[error("time-series store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Concurrent writers kept changing a bin while it was being summarised.
    #[error("summary bin kept changing under concurrent writes")]
    Contention,
    /// Anything else: a bug or corrupt data.
    #[error("time-series store failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of a time-series operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(Box::new(error))
            }
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|code| code == "5" || code == "6") =>
            {
                Error::Unavailable(Box::new(error))
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}
