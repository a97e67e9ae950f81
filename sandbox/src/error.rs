use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// Failures inside the sandbox itself (not the API errors it imitates,
/// which handlers build as responses).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("sandbox internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Internal(format!("database: {err}"))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Internal(cause) => {
                tracing::error!(%cause, "sandbox error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

/// A handler's early exit: either a ready API answer (GitHub's 404, say)
/// or a sandbox failure. Lets handlers use `?` for both.
pub enum Reject {
    Answer(Response),
    Fail(Error),
}

impl From<Error> for Reject {
    fn from(err: Error) -> Self {
        Reject::Fail(err)
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        match self {
            Reject::Answer(response) => response,
            Reject::Fail(err) => err.into_response(),
        }
    }
}
