//! The GitHub stand-in: REST API under `/sandbox/github/api`, web pages
//! (OAuth, avatars, invitations, repositories, organisations) under
//! `/sandbox/github`.

pub mod api;
pub mod app;
pub mod apps;
pub mod calls;
pub mod faults;
pub mod model;
mod oauth;
pub mod orgs;
mod orgs_web;
pub mod seed;
pub mod teams_api;
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
        .route("/orgs/{org}/invitation", get(orgs_web::invitation_page).post(orgs_web::accept))
        .route("/{owner}", get(orgs_web::account_page))
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
        // Organisations and teams (teams_api.rs).
        .route("/orgs/{org}/teams", get(teams_api::list_teams).post(teams_api::create_team))
        .route("/orgs/{org}/teams/{team_slug}", get(teams_api::get_team))
        .route("/orgs/{org}/teams/{team_slug}/repos", get(teams_api::list_team_repos))
        .route(
            "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
            get(teams_api::check_team_repo).put(teams_api::put_team_repo).delete(teams_api::delete_team_repo),
        )
        .route("/orgs/{org}/teams/{team_slug}/members", get(teams_api::list_team_members))
        .route("/orgs/{org}/teams/{team_slug}/invitations", get(teams_api::list_team_invitations))
        .route(
            "/orgs/{org}/teams/{team_slug}/memberships/{username}",
            get(teams_api::get_team_membership)
                .put(teams_api::put_team_membership)
                .delete(teams_api::delete_team_membership),
        )
        .route("/orgs/{org}/invitations", get(teams_api::list_org_invitations))
        .route("/orgs/{org}/invitations/{invitation_id}", axum::routing::delete(teams_api::cancel_org_invitation))
        .route("/orgs/{org}/members/{username}", get(teams_api::check_org_member))
        .route_layer(middleware::from_fn_with_state(sb.clone(), faults::inject))
        // Outermost: every call counts, those an armed fault answers too.
        .route_layer(middleware::from_fn_with_state(sb.clone(), calls::count))
}
