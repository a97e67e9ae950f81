//! `/api/v1/repositories` and their prices: the API from before products
//! had several repositories, kept working. A "repository" here is a product
//! of one repository (the ids are the products'); a product of several
//! answers with a pointer to `/api/v1/products/{id}`.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use server::{
    domain::{PriceId, ProductId, ProductStatus},
    listings, prices, products, AppState,
};
use utoipa::ToSchema;

use super::{
    auth::ApiKey,
    error::{ApiError, ApiJson, ApiPath, ErrorBody},
};

#[derive(Serialize, ToSchema)]
pub struct Repository {
    pub id: i64,
    pub github_repository_id: i64,
    /// `owner/name` on GitHub.
    pub full_name: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Markdown, as the creator wrote it.
    pub description: String,
    /// `draft`, `published`, `unpublished` or `archived`.
    pub status: String,
    /// What GitHub last said: `ok`, `renamed`, `transferred`, `deleted`, ...
    pub github_state: String,
    /// Absolute URL of the product page.
    pub url: String,
    pub cover_url: Option<String>,
    /// Prices on sale.
    pub prices: Vec<Price>,
}

#[derive(Serialize, ToSchema)]
pub struct Price {
    pub id: i64,
    /// The product the price sells.
    pub product_id: i64,
    /// The same as `product_id` (its name before products).
    pub repository_id: i64,
    /// `one_time`, `month` or `year`.
    pub interval: String,
    /// Minor units (cents).
    pub unit_amount: i64,
    pub currency: String,
    pub trial_days: i64,
    /// `pull`, `triage`, `push` or `maintain`.
    pub permission: String,
    pub stripe_price_id: Option<String>,
    pub active: bool,
    /// Set when an amount change replaced this price.
    pub replaced_by: Option<i64>,
    /// The buyer names the amount at checkout; `unit_amount` is the least.
    pub pay_what_you_want: bool,
    /// Where a pay-what-you-want checkout starts (minor units).
    pub suggested_amount: Option<i64>,
    /// Days of access a one-time purchase gives (null: no end).
    pub access_days: Option<i64>,
    /// Sold per seat: the fewest and most seats a buyer may pick (null: one person).
    pub seats_min: Option<i64>,
    pub seats_max: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewRepository {
    /// GitHub owner (user or organisation) of a repository the connection administers.
    pub owner: String,
    pub name: String,
    /// Defaults to one made from the name.
    pub slug: Option<String>,
    /// Defaults to the repository name.
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    pub summary: Option<String>,
    #[serde(default)]
    pub published: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RepositoryPatch {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// `published` (from draft or unpublished), `unpublished` (from
    /// published or archived) or `archived` (from any).
    pub status: Option<String>,
}

impl From<RepositoryPatch> for listings::Patch {
    fn from(body: RepositoryPatch) -> Self {
        listings::Patch {
            slug: body.slug,
            title: body.title,
            summary: body.summary,
            description: body.description,
            status: body.status,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewPrice {
    /// `one_time`, `month` or `year`.
    pub interval: String,
    /// Minor units (cents): 4900 is $49.00.
    pub unit_amount: i64,
    pub currency: String,
    /// Defaults to `pull`. GitHub ignores it on personal repositories.
    #[serde(default = "pull")]
    pub permission: String,
    #[serde(default)]
    pub trial_days: i64,
    /// One-time prices: the buyer names the amount, at least `unit_amount`.
    #[serde(default)]
    pub pay_what_you_want: bool,
    /// With `pay_what_you_want`: where the checkout starts (minor units).
    pub suggested_amount: Option<i64>,
    /// One-time prices: days of access from the payment (1 to 3650; omit for no end).
    pub access_days: Option<i64>,
    /// Sold per seat (a team buys several, its managers hand them out):
    /// the fewest seats (default 1) and the most (default 999). Omit both
    /// for a price of one.
    pub seats_min: Option<i64>,
    pub seats_max: Option<i64>,
}

fn pull() -> String {
    "pull".to_owned()
}

impl NewPrice {
    pub fn into_service(self) -> prices::NewPrice {
        prices::NewPrice {
            interval: self.interval,
            amount: self.unit_amount,
            currency: self.currency,
            trial_days: self.trial_days,
            permission: self.permission,
            pay_what_you_want: self.pay_what_you_want,
            suggested_amount: self.suggested_amount,
            access_days: self.access_days,
            seats_min: self.seats_min,
            seats_max: self.seats_max,
        }
    }
}

pub fn price(p: prices::Price) -> Price {
    Price {
        id: p.id.get(),
        product_id: p.product_id.get(),
        repository_id: p.product_id.get(),
        interval: p.interval().api().to_owned(),
        unit_amount: p.amount,
        currency: p.currency,
        trial_days: p.trial_days,
        permission: p.permission,
        stripe_price_id: p.stripe_price_id,
        active: p.active,
        replaced_by: p.replaced_by,
        pay_what_you_want: p.custom_amount,
        suggested_amount: p.suggested_amount,
        access_days: p.access_days,
        seats_min: p.seats_min,
        seats_max: p.seats_max,
    }
}

async fn repository(state: &AppState, r: products::Product) -> Result<Repository, ApiError> {
    let Ok(included) = r.sole_repository() else {
        return Err(ApiError::Invalid {
            field: "id".into(),
            message: format!(
                "{} grants {} repositories: read and change it at /api/v1/products/{}",
                r.title,
                r.repositories.len(),
                r.id
            ),
        });
    };
    let github = included.repository.clone();
    let prices = prices::active_for(&state.db, r.id).await?.into_iter().map(price).collect();
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Ok(Repository {
        id: r.id.get(),
        github_repository_id: github.github_repo_id,
        full_name: github.full_name(),
        url: format!("{base}/p/{}", r.slug),
        cover_url: r.cover_image.map(|c| format!("{base}/covers/{c}")),
        slug: r.slug,
        title: r.title,
        summary: r.summary,
        description: r.description_md,
        status: r.status.to_string(),
        github_state: github.github_state.to_string(),
        prices,
    })
}

/// Every product of one repository, archived last (products of several are
/// at `/api/v1/products`).
#[utoipa::path(get, path = "/repositories", tag = "repositories",
    responses((status = 200, body = Vec<Repository>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _key: ApiKey) -> Result<ApiJson<Vec<Repository>>, ApiError> {
    let mut out = Vec::new();
    for r in products::list(&state.db).await? {
        if r.repositories.len() == 1 {
            out.push(repository(&state, r).await?);
        }
    }
    Ok(ApiJson(out))
}

/// Puts a repository the GitHub connection administers on RepoPass.
#[utoipa::path(post, path = "/repositories", tag = "repositories", request_body = NewRepository,
    responses((status = 201, body = Repository), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiJson(body): ApiJson<NewRepository>,
) -> Result<(StatusCode, ApiJson<Repository>), ApiError> {
    let pick = listings::Pick::Name { owner: &body.owner, name: &body.name };
    let page =
        listings::Page { slug: body.slug, title: body.title, summary: body.summary, description: body.description };
    let added = listings::add(&state, pick, Some(page), body.published).await?;
    Ok((StatusCode::CREATED, ApiJson(repository(&state, added).await?)))
}

#[utoipa::path(get, path = "/repositories/{id}", tag = "repositories", params(("id" = i64, Path)),
    responses((status = 200, body = Repository), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Repository>, ApiError> {
    let r = products::get(&state.db, ProductId(id)).await?;
    Ok(ApiJson(repository(&state, r).await?))
}

/// Changes any of the page's fields and its status.
#[utoipa::path(patch, path = "/repositories/{id}", tag = "repositories", params(("id" = i64, Path)), request_body = RepositoryPatch,
    responses((status = 200, body = Repository), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RepositoryPatch>,
) -> Result<ApiJson<Repository>, ApiError> {
    // A product of several repositories is refused before anything changes.
    repository(&state, products::get(&state.db, ProductId(id)).await?).await?;
    let r = listings::save(&state, ProductId(id), body.into()).await?;
    Ok(ApiJson(repository(&state, r).await?))
}

/// Archives the repository: off sale, history kept, buyers keep their access.
#[utoipa::path(delete, path = "/repositories/{id}", tag = "repositories", params(("id" = i64, Path)),
    responses((status = 200, body = Repository), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Repository>, ApiError> {
    let r = products::set_status(&state.db, ProductId(id), ProductStatus::Archived).await?;
    Ok(ApiJson(repository(&state, r).await?))
}

/// Adds a price, created in Stripe as a Price of the repository's Product.
#[utoipa::path(post, path = "/repositories/{id}/prices", tag = "prices", params(("id" = i64, Path)), request_body = NewPrice,
    responses((status = 201, body = Price), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_price(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewPrice>,
) -> Result<(StatusCode, ApiJson<Price>), ApiError> {
    let p = prices::add(&state.db, &state.stripe, ProductId(id), &body.into_service()).await?;
    Ok((StatusCode::CREATED, ApiJson(price(p))))
}

/// Changes a price. A new amount, currency or interval creates a new price
/// (returned) and retires this one; its subscribers keep paying it.
#[utoipa::path(patch, path = "/prices/{id}", tag = "prices", params(("id" = i64, Path)), request_body = NewPrice,
    responses((status = 200, body = Price), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_price(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewPrice>,
) -> Result<ApiJson<Price>, ApiError> {
    Ok(ApiJson(price(prices::change(&state.db, &state.stripe, PriceId(id), &body.into_service()).await?)))
}

/// Takes a price off sale (archived in Stripe); existing buyers keep it.
#[utoipa::path(delete, path = "/prices/{id}", tag = "prices", params(("id" = i64, Path)),
    responses((status = 200, body = Price), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_price(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Price>, ApiError> {
    Ok(ApiJson(price(prices::remove(&state.db, &state.stripe, PriceId(id)).await?)))
}
