//! The one error type of the REST API: `{"error":{"code","message"}}` with
//! the status that goes with it (and `field` when one input was wrong).

use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    NotFound,
    Invalid { field: String, message: String },
    BadRequest(String),
    Unavailable(String),
    Internal,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthorized`, `not_found`, `invalid`, `bad_request`, `unavailable` or `internal`.
    pub code: &'static str,
    /// What was wrong and what to do, in words.
    pub message: String,
    /// The input field at fault, for `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a live API key as `Authorization: Bearer KEY` (create one in the admin panel under API keys)"
                    .to_owned(),
                None,
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such object".to_owned(), None),
            ApiError::Invalid { field, message } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", message, Some(field)),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message, None),
            ApiError::Unavailable(message) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", message, None),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on our side; try again in a moment".to_owned(),
                None,
            ),
        };
        let mut response = (status, Json(ErrorBody { error: ErrorDetail { code, message, field } })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<server::Error> for ApiError {
    fn from(err: server::Error) -> Self {
        match err {
            server::Error::Invalid { field, message } => ApiError::Invalid { field: field.to_owned(), message },
            server::Error::InvalidFields(list) => {
                let field = list.first().map(|(f, _)| f.to_string()).unwrap_or_default();
                let message = list.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ");
                ApiError::Invalid { field, message }
            }
            server::Error::NotFound => ApiError::NotFound,
            server::Error::Unavailable(message) | server::Error::Later { message, .. } => {
                ApiError::Unavailable(message)
            }
            server::Error::Internal(cause) => {
                tracing::error!(%cause, "API request failed");
                ApiError::Internal
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // Well-formed JSON of the wrong shape: say which field.
            JsonRejection::JsonDataError(e) => ApiError::Invalid { field: "body".into(), message: e.body_text() },
            other => ApiError::BadRequest(format!(
                "the body must be JSON with `Content-Type: application/json`: {}",
                other.body_text()
            )),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(format!("bad path: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!("bad query string: {}", rejection.body_text()))
    }
}

/// `axum::Json`, `Path` and `Query`, with their rejections as JSON errors.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
