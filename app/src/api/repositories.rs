//! The creator's repositories: thin calls into `server::repositories`.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use server::domain::RepositoryId;

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
    Ok(server::repositories::list(&state.db).await?.into_iter().map(ssr::row).collect())
}

#[server(endpoint = "admin/repositories/get")]
pub async fn get_repository(id: i64) -> Result<RepoEdit, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::edit(&state, server::repositories::get(&state.db, RepositoryId(id)).await?).await
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
    ssr::edit(&state, server::listings::save(&state, RepositoryId(id), patch).await?).await
}

#[server(endpoint = "admin/repositories/status")]
pub async fn set_repository_status(id: i64, status: String) -> Result<RepoEdit, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::edit(&state, server::listings::set_status(&state, RepositoryId(id), &status).await?).await
}

/// Takes the cover image off the page.
#[server(endpoint = "admin/repositories/remove-cover")]
pub async fn remove_cover(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::covers::clear(&state.db, RepositoryId(id)).await?)
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

    pub fn row(r: server::repositories::Repository) -> RepoRow {
        RepoRow {
            id: r.id.get(),
            full_name: format!("{}/{}", r.owner, r.name),
            title: r.title,
            slug: r.slug,
            status: r.status.to_string(),
            github_trouble: (r.github_state != server::domain::GithubState::Ok).then(|| r.github_state.to_string()),
        }
    }

    pub async fn edit(
        state: &server::AppState,
        r: server::repositories::Repository,
    ) -> Result<RepoEdit, crate::error::AppError> {
        let prices =
            server::prices::active_for(&state.db, r.id).await?.into_iter().map(crate::api::prices::ssr::row).collect();
        Ok(RepoEdit {
            cover_url: r.cover_image.as_ref().map(|c| format!("/covers/{c}")),
            prices,
            currencies: server::prices::CURRENCIES.iter().map(|(c, _)| (*c).to_owned()).collect(),
            id: r.id.get(),
            full_name: format!("{}/{}", r.owner, r.name),
            owner_is_org: r.owner_is_org,
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            description_html: server::markdown::to_safe_html(&r.description_md),
            description: r.description_md,
            moves: r.status.moves().into_iter().map(|s| s.to_string()).collect(),
            status: r.status.to_string(),
            github_trouble: (r.github_state != server::domain::GithubState::Ok).then(|| r.github_state.to_string()),
        })
    }
}
