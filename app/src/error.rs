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
    /// Several fields were wrong: (field, message) for each.
    #[error("{}", .0.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join(" "))]
    Fields(Vec<(String, String)>),
    #[error("Not found.")]
    NotFound,
    #[error("Please sign in.")]
    Unauthorized,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// GitHub or Stripe did not answer; the message says which.
    #[error("{0}")]
    Unavailable(String),
    /// The request did not reach the server function (network, decoding).
    #[error("Could not reach RepoPass: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server: the request's fields could not be read. The
            // caller's mistake (400), said in words, never a 500.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => bad_request(&detail),
            // On the server this is the request body (not UTF-8, say); in the
            // browser it is an answer it could not read.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) => bad_request(&detail),
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// The request's fields could not be read: the caller's mistake (400),
/// said in words, never a 500.
fn bad_request(detail: &str) -> AppError {
    let error = AppError::Invalid { field: "request".into(), message: unreadable_request(detail) };
    #[cfg(feature = "ssr")]
    let error = error.with_status(http::StatusCode::BAD_REQUEST);
    error
}

/// What a person sees when a request's fields could not be read: which
/// field and why, in serde's own words (they name the field and the type
/// expected, nothing internal), and what to do.
fn unreadable_request(detail: &str) -> String {
    let detail: String = detail.chars().filter(|c| !c.is_control()).take(200).collect();
    let detail = detail.trim();
    if detail.is_empty() {
        "This request is missing its fields. Fill in the form and send it again.".to_owned()
    } else {
        format!("This request could not be read ({detail}). Fill in the form and send it again.")
    }
}

#[cfg(feature = "ssr")]
impl From<server::Error> for AppError {
    fn from(err: server::Error) -> Self {
        let (status, app_error) = match err {
            server::Error::Invalid { field, message } => {
                (http::StatusCode::BAD_REQUEST, AppError::Invalid { field: field.to_owned(), message })
            }
            server::Error::InvalidFields(list) => (
                http::StatusCode::BAD_REQUEST,
                AppError::Fields(list.into_iter().map(|(f, m)| (f.to_owned(), m)).collect()),
            ),
            server::Error::NotFound => (http::StatusCode::NOT_FOUND, AppError::NotFound),
            server::Error::Unavailable(message) => {
                (http::StatusCode::SERVICE_UNAVAILABLE, AppError::Unavailable(message))
            }
            // A limit (ours, or GitHub's behind this call): the rate-limit
            // answer, with when to try again.
            server::Error::Later { message, after_secs } => {
                if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                    response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(after_secs.max(1)));
                }
                (http::StatusCode::TOO_MANY_REQUESTS, AppError::Unavailable(message))
            }
            server::Error::Internal(cause) => {
                tracing::error!(%cause, "server function failed");
                (http::StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal)
            }
        };
        app_error.with_status(status)
    }
}

/// A Stripe key that could not be connected: what to do, in Stripe's terms.
#[cfg(feature = "ssr")]
impl From<server::stripe_connection::ConnectError> for AppError {
    fn from(err: server::stripe_connection::ConnectError) -> Self {
        use server::stripe_connection::ConnectError;
        match err {
            ConnectError::Unreachable(_) => {
                AppError::Unavailable(err.to_string()).with_status(http::StatusCode::SERVICE_UNAVAILABLE)
            }
            ConnectError::Saving(server::vault::VaultError::Db(cause)) => {
                tracing::error!(%cause, "saving the Stripe settings failed");
                AppError::Internal.with_status(http::StatusCode::INTERNAL_SERVER_ERROR)
            }
            other => AppError::Invalid { field: "key".into(), message: other.to_string() }
                .with_status(http::StatusCode::BAD_REQUEST),
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Sets the HTTP status of the server function's response to match —
    /// except for a plain HTML form post to a server function (no
    /// JavaScript): that one is sent back to the form with the error in the
    /// URL (Leptos's redirect), which a browser follows and a 4xx would stop.
    pub fn with_status(self, status: http::StatusCode) -> Self {
        let plain_form_post = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
            parts.uri.path().starts_with("/api/")
                && parts
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        });
        if plain_form_post {
            return self;
        }
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
        self
    }
}
