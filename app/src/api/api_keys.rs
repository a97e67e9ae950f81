use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{ApiKeyRow, NewApiKey},
};

#[server(endpoint = "admin/api-keys/list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let keys = server::api_keys::list(&state.db).await?;
    Ok(keys
        .into_iter()
        .map(|k| ApiKeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked: k.revoked_at.is_some(),
        })
        .collect())
}

/// Creates a key; the answer is the only time the whole key is shown.
#[server(endpoint = "admin/api-keys/create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    let key = server::api_keys::create(&state.db, &name, user.admin_id).await?;
    Ok(NewApiKey { id: key.id, name: key.name, secret: secrecy::ExposeSecret::expose_secret(&key.secret).to_owned() })
}

#[server(endpoint = "admin/api-keys/revoke")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    if server::api_keys::revoke(&state.db, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound.with_status(http::StatusCode::NOT_FOUND))
    }
}
