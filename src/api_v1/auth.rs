//! `Authorization: Bearer KEY`: a live API key, or 401.

use axum::{extract::FromRequestParts, http::request::Parts};
use secrecy::SecretString;
use server::AppState;

use super::error::ApiError;

/// The id of the API key that made the request.
pub struct ApiKey(pub i64);

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let (scheme, key) = header.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
            return Err(ApiError::Unauthorized);
        }
        let key = SecretString::from(key.trim().to_owned());
        match server::api_keys::authenticate(&state.db, &key).await? {
            Some(id) => Ok(ApiKey(id)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
