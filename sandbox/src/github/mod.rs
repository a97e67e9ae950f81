//! The GitHub stand-in: REST API under `/sandbox/github/api`, web pages
//! (OAuth, avatars, invitations, repositories) under `/sandbox/github`.

pub mod api;
pub mod app;
pub mod apps;
pub mod faults;
pub mod model;
mod oauth;
pub mod seed;
mod web;
pub mod world;

use axum::{
    middleware,
    routing::{get, post, put},
    Router,
};

use crate::Sandbox;

pub fn router(sb: &Sandbox) -> Router<Sandbox> {
    Router::new()
        .nest("/api", api_router(sb))
        .route("/login/oauth/authorize", get(oauth::authorize_page).post(oauth::authorize_submit))
        .route("/login/oauth/access_token", post(oauth::access_token))
        .route("/avatars/{file}", get(oauth::avatar))
        // The App manifest flow and the installation page.
        .route("/settings/apps/new", post(apps::new_app_page))
        .route("/settings/apps/new/confirm", post(apps::confirm))
        .route("/organizations/{org}/settings/apps/new", post(apps::new_org_app_page))
        .route("/apps/{slug}/installations/new", get(apps::install_page).post(apps::install))
        // GitHub's web pages: where invitation links lead.
        .route("/{owner}/{repo}/invitations", get(web::invitations_page).post(web::accept))
        .route("/{owner}/{repo}", get(web::repository_page))
}

fn api_router(sb: &Sandbox) -> Router<Sandbox> {
    Router::new()
        .route("/users/{login}", get(api::get_user))
        .route("/user/{account_id}", get(api::get_user_by_id))
        .route("/app", get(app::get_app))
        .route("/app-manifests/{code}/conversions", post(apps::conversion))
        .route("/app/installations", get(app::list_installations))
        .route("/app/installations/{id}/access_tokens", post(app::create_access_token))
        .route("/repos/{owner}/{repo}/installation", get(app::repo_installation))
        .route("/orgs/{owner}/installation", get(app::account_installation))
        .route("/users/{owner}/installation", get(app::account_installation))
        .route("/installation/repositories", get(app::installation_repositories))
        .route("/user", get(api::get_authenticated_user))
        .route("/user/emails", get(api::list_own_emails))
        .route("/user/repos", get(api::list_own_repos))
        .route("/repos/{owner}/{repo}", get(api::get_repo))
        .route("/repos/{owner}/{repo}/collaborators", get(api::list_collaborators))
        .route(
            "/repos/{owner}/{repo}/collaborators/{login}",
            put(api::add_collaborator).get(api::check_collaborator).delete(api::remove_collaborator),
        )
        .route("/repos/{owner}/{repo}/invitations", get(api::list_invitations))
        .route("/repos/{owner}/{repo}/invitations/{id}", axum::routing::delete(api::delete_invitation))
        .route_layer(middleware::from_fn_with_state(sb.clone(), faults::inject))
}
