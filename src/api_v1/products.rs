//! `/api/v1/products`: what is sold, with every repository it grants and
//! its prices. Products are made from a repository (`POST /repositories`)
//! and their page and prices changed through the same endpoints.

use axum::extract::State;
use serde::Serialize;
use server::{domain::ProductId, prices, product_repositories, products, AppState};
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
    /// `org/slug` of the GitHub team holders are members of (team access);
    /// null: each holder is a collaborator of each repository.
    pub github_team: Option<String>,
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
        github_team: p.team().map(|t| t.full_name()),
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

#[derive(serde::Deserialize, ToSchema)]
pub struct NewProductRepository {
    /// The repository's owner on GitHub; the GitHub connection must administer it.
    pub owner: String,
    pub name: String,
    /// `pull`, `triage`, `push` or `maintain`; absent: each price's permission.
    pub permission: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RepositoryAdded {
    pub product: Product,
    /// Customers with access now: each gets an invitation to the new
    /// repository, queued behind GitHub's limit of 50 a day per repository.
    pub customers_invited: usize,
}

/// Adds a repository to what the product grants; every customer who has
/// access is invited to it.
#[utoipa::path(post, path = "/products/{id}/repositories", tag = "products", params(("id" = i64, Path)), request_body = NewProductRepository,
    responses((status = 201, body = RepositoryAdded), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_repository(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewProductRepository>,
) -> Result<(axum::http::StatusCode, ApiJson<RepositoryAdded>), ApiError> {
    let pick = server::listings::Pick::Name { owner: &body.owner, name: &body.name };
    let added = product_repositories::add(&state, ProductId(id), pick, body.permission.as_deref()).await?;
    let product = product(&state, added.product).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        ApiJson(RepositoryAdded { product, customers_invited: added.customers_invited }),
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct Confirm {
    /// How many customers lose the repository (what a first call without
    /// it, or with another number, answers in its 422).
    pub confirm: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct RepositoryRemoved {
    pub product: Product,
    /// Customers who lose access to it (removed by the job queue).
    pub customers_removed: usize,
}

/// Takes a repository out of the product: every customer loses access to
/// it. Refused (422, with the number) unless `confirm` is the number of
/// customers that is.
#[utoipa::path(delete, path = "/products/{id}/repositories/{github_repository_id}", tag = "products",
    params(("id" = i64, Path), ("github_repository_id" = i64, Path), Confirm),
    responses((status = 200, body = RepositoryRemoved), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_repository(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath((id, github_repository_id)): ApiPath<(i64, i64)>,
    super::error::ApiQuery(q): super::error::ApiQuery<Confirm>,
) -> Result<ApiJson<RepositoryRemoved>, ApiError> {
    let current = products::get(&state.db, ProductId(id)).await?;
    let Some(included) = current.repositories.iter().find(|i| i.repository.github_repo_id == github_repository_id)
    else {
        return Err(server::Error::NotFound.into());
    };
    // Without a number, the refusal says what it is.
    let confirmed = q.confirm.unwrap_or(usize::MAX);
    let removed = product_repositories::remove(&state, ProductId(id), included.repository.id, confirmed).await?;
    let product = product(&state, products::get(&state.db, ProductId(id)).await?).await?;
    Ok(ApiJson(RepositoryRemoved { product, customers_removed: removed }))
}

/// Changes any of the page's fields and its status (`published` from draft
/// or unpublished, `unpublished` from published or archived, `archived`
/// from any).
#[derive(serde::Deserialize, ToSchema)]
pub struct ProductPatch {
    #[serde(flatten)]
    pub page: super::repositories::RepositoryPatch,
    /// `true`: grant through a GitHub team (every repository in one
    /// organisation, a price on sale, no customer with access yet);
    /// `false`: back to collaborators (no customer with access).
    pub team_access: Option<bool>,
}

#[utoipa::path(patch, path = "/products/{id}", tag = "products", params(("id" = i64, Path)), request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ProductPatch>,
) -> Result<ApiJson<Product>, ApiError> {
    let mut saved = server::listings::save(&state, ProductId(id), body.page.into()).await?;
    saved = match body.team_access {
        Some(true) if saved.team().is_none() => server::team_access::turn_on(&state, ProductId(id)).await?,
        Some(false) => server::team_access::turn_off(&state, ProductId(id)).await?,
        _ => saved,
    };
    Ok(ApiJson(product(&state, saved).await?))
}
