//! `/api/v1/products`: what is sold, with every repository it grants and
//! its prices. Products are made from a repository (`POST /repositories`)
//! and their page and prices changed through the same endpoints.

use axum::extract::State;
use serde::Serialize;
use server::{domain::ProductId, prices, products, AppState};
use utoipa::ToSchema;

use super::{
    auth::ApiKey,
    error::{ApiError, ApiJson, ApiPath, ErrorBody},
    repositories::{price, Price},
};

#[derive(Serialize, ToSchema)]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown, as the creator wrote it.
    pub description: String,
    /// `draft`, `published`, `unpublished` or `archived`.
    pub status: String,
    /// Absolute URL of the product page.
    pub url: String,
    pub cover_url: Option<String>,
    /// Every repository a purchase grants.
    pub repositories: Vec<ProductRepository>,
    /// Prices on sale.
    pub prices: Vec<Price>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductRepository {
    pub github_repository_id: i64,
    /// `owner/name` on GitHub.
    pub full_name: String,
    /// `pull`, `triage`, `push` or `maintain`; null: each price's permission.
    pub permission: Option<String>,
    /// What GitHub last said: `ok`, `renamed`, `transferred`, `deleted`, ...
    pub github_state: String,
}

async fn product(state: &AppState, p: products::Product) -> Result<Product, ApiError> {
    let prices = prices::active_for(&state.db, p.id).await?.into_iter().map(price).collect();
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Ok(Product {
        id: p.id.get(),
        url: format!("{base}/p/{}", p.slug),
        cover_url: p.cover_image.map(|c| format!("{base}/covers/{c}")),
        repositories: p
            .repositories
            .into_iter()
            .map(|i| ProductRepository {
                github_repository_id: i.repository.github_repo_id,
                full_name: i.repository.full_name(),
                permission: i.permission,
                github_state: i.repository.github_state.to_string(),
            })
            .collect(),
        slug: p.slug,
        title: p.title,
        summary: p.summary,
        description: p.description_md,
        status: p.status.to_string(),
        prices,
    })
}

/// Every product, archived last.
#[utoipa::path(get, path = "/products", tag = "products",
    responses((status = 200, body = Vec<Product>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _key: ApiKey) -> Result<ApiJson<Vec<Product>>, ApiError> {
    let mut out = Vec::new();
    for p in products::list(&state.db).await? {
        out.push(product(&state, p).await?);
    }
    Ok(ApiJson(out))
}

#[utoipa::path(get, path = "/products/{id}", tag = "products", params(("id" = i64, Path)),
    responses((status = 200, body = Product), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Product>, ApiError> {
    Ok(ApiJson(product(&state, products::get(&state.db, ProductId(id)).await?).await?))
}
