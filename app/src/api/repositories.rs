//! The creator's products (each made from a repository): thin calls into
//! `server::listings` and `server::products`.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use server::domain::ProductId;

use crate::{
    error::AppError,
    types::{ReachableRepo, RepoEdit, RepoRow},
};

#[server(endpoint = "admin/repositories/reachable")]
pub async fn reachable_repositories() -> Result<Vec<ReachableRepo>, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::listings::administrable(&state)
        .await?
        .into_iter()
        .map(|(r, already_added)| ReachableRepo {
            github_id: r.github_id,
            full_name: r.full_name,
            private: r.private,
            already_added,
        })
        .collect())
}

/// Adds a repository the connection administers, then opens its page.
#[server(endpoint = "admin/repositories/add")]
pub async fn add_repository(github_id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let pick = server::listings::Pick::GithubId(github_id);
    let added = server::listings::add(&state, pick, None, false).await?;
    leptos_axum::redirect(&format!("/admin/repositories/{}", added.id));
    Ok(())
}

#[server(endpoint = "admin/repositories/list")]
pub async fn list_repositories() -> Result<Vec<RepoRow>, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::products::list(&state.db).await?.into_iter().map(ssr::row).collect())
}

#[server(endpoint = "admin/repositories/get")]
pub async fn get_repository(id: i64) -> Result<RepoEdit, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::edit(&state, server::products::get(&state.db, ProductId(id)).await?).await
}

#[server(endpoint = "admin/repositories/save")]
pub async fn save_repository(
    id: i64,
    slug: String,
    title: String,
    summary: String,
    description: String,
) -> Result<RepoEdit, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let patch = server::listings::Patch {
        slug: Some(slug),
        title: Some(title),
        summary: Some(summary),
        description: Some(description),
        status: None,
    };
    ssr::edit(&state, server::listings::save(&state, ProductId(id), patch).await?).await
}

#[server(endpoint = "admin/repositories/status")]
pub async fn set_repository_status(id: i64, status: String) -> Result<RepoEdit, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::edit(&state, server::listings::set_status(&state, ProductId(id), &status).await?).await
}

/// Takes the cover image off the page.
#[server(endpoint = "admin/repositories/remove-cover")]
pub async fn remove_cover(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::covers::clear(&state.db, ProductId(id)).await?)
}

/// The description as buyers will see it (sanitised HTML).
#[server(endpoint = "admin/repositories/preview")]
pub async fn preview_markdown(markdown: String) -> Result<String, AppError> {
    super::session::ssr::require_admin().await?;
    Ok(server::markdown::to_safe_html(&markdown))
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::types::{RepoEdit, RepoRow};

    /// What GitHub last said of the product's repositories, when it is not
    /// simply fine: "renamed", or "owner/name: deleted" when several.
    fn github_trouble(r: &server::products::Product) -> Option<String> {
        let troubled: Vec<String> = r
            .repositories
            .iter()
            .filter(|i| i.repository.github_state != server::domain::GithubState::Ok)
            .map(|i| match r.repositories.len() {
                1 => i.repository.github_state.to_string(),
                _ => format!("{}: {}", i.repository.full_name(), i.repository.github_state),
            })
            .collect();
        (!troubled.is_empty()).then(|| troubled.join("; "))
    }

    pub fn row(r: server::products::Product) -> RepoRow {
        RepoRow {
            id: r.id.get(),
            full_name: r.full_names().join(", "),
            github_trouble: github_trouble(&r),
            title: r.title,
            slug: r.slug,
            status: r.status.to_string(),
        }
    }

    pub async fn edit(
        state: &server::AppState,
        r: server::products::Product,
    ) -> Result<RepoEdit, crate::error::AppError> {
        let prices =
            server::prices::active_for(&state.db, r.id).await?.into_iter().map(crate::api::prices::ssr::row).collect();
        let mut repositories = Vec::new();
        for i in &r.repositories {
            repositories.push(crate::types::ProductRepo {
                repository_id: i.repository.id.get(),
                github_id: i.repository.github_repo_id,
                full_name: i.repository.full_name(),
                level: i.permission.clone().unwrap_or_else(|| "the price's".to_owned()),
                customers: server::product_repositories::removal_count(state, r.id, i.repository.id).await?,
                waiting: server::grants::waiting_in(&state.db, i.repository.id).await?,
            });
        }
        Ok(RepoEdit {
            repositories,
            team: r.team().map(|t| t.full_name()),
            team_org: server::team_access::organisation(&r).map(str::to_owned),
            cover_url: r.cover_image.as_ref().map(|c| format!("/covers/{c}")),
            prices,
            currencies: server::prices::CURRENCIES.iter().map(|(c, _)| (*c).to_owned()).collect(),
            id: r.id.get(),
            full_name: r.full_names().join(", "),
            owner_is_org: r.repositories.iter().all(|i| i.repository.owner_is_org),
            github_trouble: github_trouble(&r),
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            description_html: server::markdown::to_safe_html(&r.description_md),
            description: r.description_md,
            moves: r.status.moves().into_iter().map(|s| s.to_string()).collect(),
            status: r.status.to_string(),
        })
    }
}
