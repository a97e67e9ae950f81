//! What buyers see on `/`: published products and their cheapest price.

use crate::{
    domain::{GithubState, ProductStatus},
    Db, Result,
};

/// A published product as the storefront lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listing {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub cover_image: Option<String>,
    /// Cheapest active price, in minor units (None: no price yet).
    pub from_amount: Option<i64>,
    pub currency: Option<String>,
    pub from_kind: Option<String>,
}

/// Sold when published, granting at least one repository, and none of its
/// repositories gone from GitHub's reach.
const ON_SALE: &str = "r.status = $1
    AND EXISTS (SELECT 1 FROM product_repositories x WHERE x.product_id = r.id)
    AND NOT EXISTS (SELECT 1 FROM product_repositories x JOIN repositories g ON g.id = x.repository_id
                    WHERE x.product_id = r.id AND g.github_state IN ($2, $3))";

pub async fn published(db: &Db) -> Result<Vec<Listing>> {
    // The cheapest price per product; its currency is taken from the same
    // row by the correlated sub-select (prices of one product may differ).
    let rows = sqlx::query_as::<_, Listing>(&format!(
        "SELECT r.slug, r.title, r.summary, r.cover_image,
                (SELECT MIN(p.amount) FROM prices p WHERE p.product_id = r.id AND p.active = 1) AS from_amount,
                (SELECT p.currency FROM prices p WHERE p.product_id = r.id AND p.active = 1
                  ORDER BY p.amount, p.id LIMIT 1) AS currency,
                (SELECT p.kind FROM prices p WHERE p.product_id = r.id AND p.active = 1
                  ORDER BY p.amount, p.id LIMIT 1) AS from_kind
         FROM products r
         WHERE {ON_SALE}
         ORDER BY r.title, r.id"
    ))
    .bind(ProductStatus::Published)
    .bind(GithubState::Deleted)
    .bind(GithubState::AccessLost)
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

/// A published product's page, with its prices on sale.
#[derive(Debug, Clone)]
pub struct ProductPage {
    pub product: crate::products::Product,
    pub prices: Vec<crate::prices::Price>,
}

/// The page for `slug`, if it is published and GitHub still lets us sell it.
pub async fn product(db: &Db, slug: &str) -> Result<Option<ProductPage>> {
    let Some(id) = product_id(db, slug).await? else { return Ok(None) };
    let product = crate::products::get(db, id).await?;
    let prices = crate::prices::active_for(db, id).await?;
    Ok(Some(ProductPage { product, prices }))
}

/// The product `slug`'s page is for, if it is on sale.
pub async fn product_id(db: &Db, slug: &str) -> Result<Option<crate::domain::ProductId>> {
    let id = sqlx::query_scalar(&format!("SELECT r.id FROM products r WHERE r.slug = $4 AND {ON_SALE}"))
        .bind(ProductStatus::Published)
        .bind(GithubState::Deleted)
        .bind(GithubState::AccessLost)
        .bind(slug)
        .fetch_optional(db.pool())
        .await?;
    Ok(id)
}
