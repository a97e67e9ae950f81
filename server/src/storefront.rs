//! What buyers see on `/`: published repositories and their cheapest price.

use crate::{
    domain::{GithubState, RepositoryStatus},
    Db, Result,
};

/// A published repository as the storefront lists it.
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

pub async fn published(db: &Db) -> Result<Vec<Listing>> {
    // The cheapest price per repository; its currency is taken from the same
    // row by the correlated sub-select (prices of one repository may differ).
    let rows = sqlx::query_as::<_, Listing>(
        "SELECT r.slug, r.title, r.summary, r.cover_image,
                (SELECT MIN(p.amount) FROM prices p WHERE p.repository_id = r.id AND p.active = 1) AS from_amount,
                (SELECT p.currency FROM prices p WHERE p.repository_id = r.id AND p.active = 1
                  ORDER BY p.amount, p.id LIMIT 1) AS currency,
                (SELECT p.kind FROM prices p WHERE p.repository_id = r.id AND p.active = 1
                  ORDER BY p.amount, p.id LIMIT 1) AS from_kind
         FROM repositories r
         WHERE r.status = $1 AND r.github_state NOT IN ($2, $3)
         ORDER BY r.title, r.id",
    )
    .bind(RepositoryStatus::Published)
    .bind(GithubState::Deleted)
    .bind(GithubState::AccessLost)
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

/// A published repository's page, with its prices on sale.
#[derive(Debug, Clone)]
pub struct ProductPage {
    pub repository: crate::repositories::Repository,
    pub prices: Vec<crate::prices::Price>,
}

/// The page for `slug`, if it is published and GitHub still lets us sell it.
pub async fn product(db: &Db, slug: &str) -> Result<Option<ProductPage>> {
    let id: Option<crate::domain::RepositoryId> = sqlx::query_scalar(
        "SELECT id FROM repositories WHERE slug = $1 AND status = $2 AND github_state NOT IN ($3, $4)",
    )
    .bind(slug)
    .bind(RepositoryStatus::Published)
    .bind(GithubState::Deleted)
    .bind(GithubState::AccessLost)
    .fetch_optional(db.pool())
    .await?;
    let Some(id) = id else { return Ok(None) };
    let repository = crate::repositories::get(db, id).await?;
    let prices = crate::prices::active_for(db, id).await?;
    Ok(Some(ProductPage { repository, prices }))
}
