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

/// Returns whether a database error code means "not reachable right now": SQLite's busy and
/// locked, PostgreSQL's connection exceptions (08), shutdowns and start-ups (57P0x), and
/// too many connections (53300).
fn is_transient(code: &str) -> bool {
    matches!(code, "5" | "6" | "53300" | "57P01" | "57P02" | "57P03") || code.starts_with("08")
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Error::Unavailable(error),
            sqlx::Error::Database(ref db) if db.code().is_some_and(|code| is_transient(&code)) => {
                Error::Unavailable(error)
            }
            other => Error::Internal(Box::new(other)),
        }
    }
}
