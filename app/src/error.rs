//! The one error type of the server-function boundary: what the browser may
//! see. Internal causes are logged on the server and never sent.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A field was wrong; the message says how to fix it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Not found.")]
    NotFound,
    #[error("Please sign in.")]
    Unauthorized,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The request did not reach the server function (network, decoding).
    #[error("Could not reach RepoPass: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<server::Error> for AppError {
    fn from(err: server::Error) -> Self {
        let (status, app_error) = match err {
            server::Error::Invalid { field, message } => (http::StatusCode::BAD_REQUEST, AppError::Invalid { field: field.to_owned(), message }),
            server::Error::NotFound => (http::StatusCode::NOT_FOUND, AppError::NotFound),
            server::Error::Internal(cause) => {
                tracing::error!(%cause, "server function failed");
                (http::StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal)
            }
        };
        app_error.with_status(status)
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Sets the HTTP status of the server function's response to match.
    pub fn with_status(self, status: http::StatusCode) -> Self {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        self
    }
}
