//! The error type of the domain services. Each variant says what the caller
//! can do about it; the boundaries (server functions, HTTP handlers) map it
//! to a status and a message, logging internal causes instead of showing them.

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input was wrong: which field, and what to do.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Several fields were wrong: a message for each.
    #[error("{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<(&'static str, String)>),
    #[error("not found")]
    NotFound,
    /// Another service (GitHub, Stripe) failed for now: the message says so;
    /// trying again later may work.
    #[error("{0}")]
    Unavailable(String),
    /// Not now, and that is expected (GitHub's daily invitation limit, a
    /// rate limit): try again after `after_secs`.
    #[error("{message}")]
    Later { message: String, after_secs: u64 },
    /// Anything the user cannot fix (database down, bug): logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { field, message: message.into() }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Error::NotFound,
            other => Error::Internal(format!("database: {other}")),
        }
    }
}

impl From<DbError> for Error {
    fn from(err: DbError) -> Self {
        Error::Internal(err.to_string())
    }
}
