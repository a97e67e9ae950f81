//! Changing what a product grants: a repository added is given to every
//! customer who has access now (through the job queue, so GitHub's limit of
//! 50 invitations per repository a day queues the rest, shown as waiting);
//! a repository taken out is taken from them, after the creator has seen
//! how many that is.

use crate::{
    clock,
    domain::{GrantStatus, ProductId, ProductStatus, PurchaseId, PurchaseStatus, RepositoryId},
    jobs::{self, Job},
    listings::{self, Pick},
    products::{self, Product},
    purchases, repositories, AppState, Error, Result,
};

/// The access levels a repository of a product may have.
pub const PERMISSIONS: [&str; 4] = ["pull", "triage", "push", "maintain"];

/// What adding a repository did.
#[derive(Debug, Clone)]
pub struct Added {
    pub product: Product,
    /// Customers with access now, each queued for an invitation to it.
    pub customers_invited: usize,
}

/// The purchases of a product that give access or are about to (paid,
/// invited or active).
async fn customers(state: &AppState, product: ProductId) -> Result<Vec<purchases::Purchase>> {
    let filter = purchases::Filter { product_id: Some(product), unfinished: true, ..Default::default() };
    // A team purchase's access is its seats' (each a purchase of its own).
    Ok(purchases::all(&state.db, &filter)
        .await?
        .into_iter()
        .filter(|p| p.status.is_granted() && !p.is_company())
        .collect())
}

/// Adds a repository the GitHub connection administers to a product, at
/// `permission` (`None`: each price's), and queues an invitation to it for
/// every customer who has access.
pub async fn add(state: &AppState, id: ProductId, pick: Pick<'_>, permission: Option<&str>) -> Result<Added> {
    if let Some(p) = permission.filter(|p| !PERMISSIONS.contains(p)) {
        return Err(Error::invalid(
            "permission",
            format!("'{p}' is not an access level; choose one of {}", PERMISSIONS.join(", ")),
        ));
    }
    let product = products::get(&state.db, id).await?;
    if product.status == ProductStatus::Archived {
        return Err(Error::invalid("product", "this product is archived; restore it before changing what it grants"));
    }
    let gh = listings::administered(state, pick).await?;
    if product.repositories.iter().any(|i| i.repository.github_repo_id == gh.github_id) {
        return Err(Error::invalid("repository", format!("{}/{} is already part of this product", gh.owner, gh.name)));
    }
    if let Some(team) = product.team() {
        if !(gh.owner_is_org && gh.owner.eq_ignore_ascii_case(&team.org)) {
            return Err(Error::invalid(
                "repository",
                format!(
                    "this product grants access through the team {}: only repositories of {} can join it",
                    team.full_name(),
                    team.org
                ),
            ));
        }
    }
    let new = repositories::NewRepository {
        github_repo_id: gh.github_id,
        owner: gh.owner.clone(),
        name: gh.name.clone(),
        owner_is_org: gh.owner_is_org,
        description: gh.description.clone(),
    };
    let mut tx = state.db.pool().begin().await?;
    let repository = repositories::find_or_add(&mut tx, &new).await?;
    repositories::include(&mut tx, id, repository, permission).await?;
    tx.commit().await?;
    let product = products::get(&state.db, id).await?;
    if product.team().is_some() {
        // One call gives the team the repository, for every holder at once.
        let Some(included) = product.repositories.iter().find(|i| i.repository.id == repository) else {
            return Err(Error::Internal("the repository just added is not in the product".into()));
        };
        let reached = crate::team_access::repository_added(state, &product, included).await?;
        tracing::info!(product_id = id.get(), repository = %included.repository.full_name(), customers = reached, "repository added to a team product");
        return Ok(Added { product: products::get(&state.db, id).await?, customers_invited: reached });
    }
    let customers = customers(state, id).await?;
    for p in &customers {
        let job = Job::Grant { purchase_id: p.id };
        jobs::enqueue(state.db.pool(), &job, clock::now(), None).await?;
    }
    if !customers.is_empty() {
        state.wake.notify();
    }
    tracing::info!(product_id = id.get(), repository = %format!("{}/{}", gh.owner, gh.name), customers = customers.len(), "repository added to a product");
    Ok(Added { product: products::get(&state.db, id).await?, customers_invited: customers.len() })
}

/// The purchases of a product that would lose `repository` if it left the
/// product (what the creator confirms).
async fn losing(state: &AppState, id: ProductId, repository: RepositoryId) -> Result<Vec<PurchaseId>> {
    let statuses = crate::purchases::statuses_sql(PurchaseStatus::is_granted);
    Ok(sqlx::query_scalar(&format!(
        "SELECT p.id FROM purchases p JOIN grants g ON g.purchase_id = p.id
         WHERE p.product_id = $1 AND g.repository_id = $2 AND g.status <> $3 AND p.status IN ({statuses})
         ORDER BY p.id"
    ))
    .bind(id)
    .bind(repository)
    .bind(GrantStatus::Removed)
    .fetch_all(state.db.pool())
    .await?)
}

/// How many customers would lose `repository` if it left the product.
pub async fn removal_count(state: &AppState, id: ProductId, repository: RepositoryId) -> Result<usize> {
    Ok(losing(state, id, repository).await?.len())
}

/// Takes a repository out of a product once the creator confirmed how many
/// customers lose it (`confirmed`: the count they were shown; a different
/// count now means something changed, and they are asked again). Each
/// customer loses it through a job. A product on sale keeps at least one
/// repository.
pub async fn remove(state: &AppState, id: ProductId, repository: RepositoryId, confirmed: usize) -> Result<usize> {
    let product = products::get(&state.db, id).await?;
    let Some(included) = product.repositories.iter().find(|i| i.repository.id == repository) else {
        return Err(Error::invalid("repository", "this repository is not part of this product"));
    };
    if product.repositories.len() == 1 && product.status == ProductStatus::Published {
        return Err(Error::invalid(
            "repository",
            "a product on sale grants at least one repository: add another first, or unpublish the product",
        ));
    }
    let losing = losing(state, id, repository).await?;
    if losing.len() != confirmed {
        return Err(Error::invalid(
            "confirm",
            format!(
                "{} customer{} would lose access to {}; confirm that number to take it out",
                losing.len(),
                if losing.len() == 1 { "" } else { "s" },
                included.repository.full_name()
            ),
        ));
    }
    if let Some(team) = product.team() {
        // Out of the team: every holder loses it with one call.
        let r = &included.repository;
        state.github.remove_team_repository(&team, &r.owner, &r.name).await?;
    }
    sqlx::query("DELETE FROM product_repositories WHERE product_id = $1 AND repository_id = $2")
        .bind(id)
        .bind(repository)
        .execute(state.db.pool())
        .await?;
    for purchase_id in &losing {
        let job = Job::RemoveGrant { purchase_id: *purchase_id, repository_id: repository };
        jobs::enqueue(state.db.pool(), &job, clock::now(), None).await?;
    }
    if !losing.is_empty() {
        state.wake.notify();
    }
    tracing::info!(product_id = id.get(), repository = %included.repository.full_name(), customers = losing.len(), "repository taken out of a product");
    Ok(losing.len())
}
