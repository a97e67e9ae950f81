//! The creator's products, as the admin panel and the REST API both change
//! them: one set of rules for adding a product from a repository the GitHub
//! connection administers, saving a page (the Stripe product renamed with
//! its title), and moving it between draft, published, unpublished and
//! archived.

use crate::{
    domain::{ProductId, ProductStatus},
    github::Administered,
    prices,
    products::{self, Details, Product},
    repositories::{self, NewRepository},
    AppState, Error, Result,
};

/// Which repository to add: as the admin panel picks it (GitHub's id) or as
/// the API names it.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    GithubId(i64),
    Name { owner: &'a str, name: &'a str },
}

/// What a page starts with; anything left out is made from the repository.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
}

/// Changes to a page: what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// `published`, `unpublished` or `archived`.
    pub status: Option<String>,
}

/// Every repository the connection administers, and whether it is on RepoPass already.
pub async fn administrable(state: &AppState) -> Result<Vec<(Administered, bool)>> {
    let added: Vec<i64> = repositories::sold(&state.db).await?.iter().map(|r| r.github_repo_id).collect();
    Ok(reachable(state).await?.into_iter().map(|r| (r.clone(), added.contains(&r.github_id))).collect())
}

async fn reachable(state: &AppState) -> Result<Vec<Administered>> {
    state.github.administrable_repositories().await.map_err(|e| Error::invalid("github", e.to_string()))
}

/// Adds a repository the connection administers — only one GitHub says it
/// administers: an id or a name from a browser or a script proves nothing.
/// With a `page`, a taken slug is refused; without, one is suggested.
pub async fn add(state: &AppState, pick: Pick<'_>, page: Option<Page>, publish: bool) -> Result<Product> {
    let gh = administered(state, pick).await?;
    let new = NewRepository {
        github_repo_id: gh.github_id,
        owner: gh.owner.clone(),
        name: gh.name.clone(),
        owner_is_org: gh.owner_is_org,
        description: gh.description.clone(),
    };
    let details = page.map(|p| Details {
        slug: p.slug.map(|s| s.trim().to_owned()).unwrap_or_else(|| products::suggest_slug(&gh.name)),
        title: p.title.unwrap_or_else(|| gh.name.clone()),
        summary: p.summary.or(gh.description.clone()).unwrap_or_default(),
        description_md: p.description.unwrap_or_default(),
    });
    let added = products::add_with(&state.db, &new, details.as_ref()).await?;
    if publish {
        return products::set_status(&state.db, added.id, ProductStatus::Published).await;
    }
    Ok(added)
}

/// The repository `pick` names, if GitHub says the connection administers it.
pub(crate) async fn administered(state: &AppState, pick: Pick<'_>) -> Result<Administered> {
    let found = reachable(state).await?.into_iter().find(|r| match pick {
        Pick::GithubId(id) => r.github_id == id,
        Pick::Name { owner, name } => r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name),
    });
    let Some(gh) = found else {
        return Err(match pick {
            Pick::GithubId(_) => Error::invalid(
                "repository",
                "RepoPass cannot administer that repository: check the GitHub connection in Settings",
            ),
            Pick::Name { owner, name } => Error::invalid(
                "name",
                format!(
                    "RepoPass cannot administer {owner}/{name}: check the name and the GitHub connection in Settings"
                ),
            ),
        });
    };
    Ok(gh)
}

/// Saves a page. A new title renames the Stripe product (what buyers see at
/// checkout); a status, checked before anything is saved, moves it.
pub async fn save(state: &AppState, id: ProductId, patch: Patch) -> Result<Product> {
    let status = patch.status.as_deref().map(products::parse_status).transpose()?;
    let current = products::get(&state.db, id).await?;
    let details = Details {
        slug: patch.slug.map(|s| s.trim().to_owned()).unwrap_or_else(|| current.slug.clone()),
        title: patch.title.unwrap_or_else(|| current.title.clone()),
        summary: patch.summary.unwrap_or_else(|| current.summary.clone()),
        description_md: patch.description.unwrap_or_else(|| current.description_md.clone()),
    };
    let mut saved = products::update(&state.db, id, &details).await?;
    if saved.title != current.title {
        prices::sync_product_name(&state.stripe, &saved).await;
    }
    if let Some(status) = status {
        saved = products::set_status(&state.db, id, status).await?;
    }
    Ok(saved)
}

/// Moves the page to `status` (as typed), if the creator may from where it is.
pub async fn set_status(state: &AppState, id: ProductId, status: &str) -> Result<Product> {
    products::set_status(&state.db, id, products::parse_status(status)?).await
}
