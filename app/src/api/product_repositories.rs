//! What a product grants: add a repository (every customer is invited to
//! it), take one out (after the creator confirmed how many lose it). Thin
//! calls into `server::product_repositories`.

use leptos::prelude::*;

use crate::error::AppError;

/// Adds a repository the connection administers; says how many customers
/// are being invited to it.
#[server(endpoint = "admin/products/repositories/add")]
pub async fn add_product_repository(id: i64, github_id: i64, permission: String) -> Result<String, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let permission = Some(permission.trim()).filter(|p| !p.is_empty());
    let pick = server::listings::Pick::GithubId(github_id);
    let added = server::product_repositories::add(&state, server::domain::ProductId(id), pick, permission).await?;
    let team = added.product.team().map(|t| t.full_name());
    let name = added
        .product
        .repositories
        .iter()
        .find(|i| i.repository.github_repo_id == github_id)
        .map(|i| i.repository.full_name())
        .unwrap_or_default();
    if let Some(team) = team {
        // One call gave the team the repository: its members have it now.
        return Ok(match added.customers_invited {
            0 => format!("Added {name} to the team {team}."),
            1 => format!("Added {name} to the team {team}: the customer in it has access."),
            n => format!("Added {name} to the team {team}: the {n} customers in it have access."),
        });
    }
    Ok(match added.customers_invited {
        0 => format!("Added {name}."),
        1 => format!("Added {name}: the customer who has access is being invited to it."),
        n => format!(
            "Added {name}: {n} customers who have access are being invited to it (GitHub sends 50 invitations a day per repository; the rest wait their turn)."
        ),
    })
}

/// Turns team access on (`on`: a GitHub team made or adopted for the
/// product, given every repository) or off (back to collaborators).
#[server(endpoint = "admin/products/team-access")]
pub async fn set_team_access(id: i64, on: bool) -> Result<String, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let id = server::domain::ProductId(id);
    if on {
        let product = server::team_access::turn_on(&state, id).await?;
        let team = product.team().map(|t| t.full_name()).unwrap_or_default();
        Ok(format!("Holders now get access as members of the GitHub team {team}."))
    } else {
        server::team_access::turn_off(&state, id).await?;
        Ok("Holders now get access as collaborators of each repository.".to_owned())
    }
}

/// Takes a repository out of a product; `confirm` is the number of
/// customers the creator was told lose it.
#[server(endpoint = "admin/products/repositories/remove")]
pub async fn remove_product_repository(id: i64, repository_id: i64, confirm: usize) -> Result<String, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let repository = server::domain::RepositoryId(repository_id);
    let name = server::repositories::get(&state.db, repository).await?.full_name();
    let n = server::product_repositories::remove(&state, server::domain::ProductId(id), repository, confirm).await?;
    Ok(match n {
        0 => format!("Took {name} out of the product."),
        1 => format!("Took {name} out of the product: one customer loses access to it."),
        n => format!("Took {name} out of the product: {n} customers lose access to it."),
    })
}
