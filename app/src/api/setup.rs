//! The setup wizard's server functions: where setup stands, and the Stripe
//! key. Only the browser holding the setup link learns more than "setup is
//! not finished".

use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{SetupView, StripeConnected},
};

#[server(endpoint = "setup/status")]
pub async fn setup_status() -> Result<SetupView, AppError> {
    use server::session_user::AdminCheck;
    let state = super::state()?;
    let session = super::session::ssr::session().await?;
    let finished = state.setup.is_none();
    let holder = server::setup::holds_link(&state, &session).await;
    let mut view = SetupView {
        finished,
        holder,
        github: false,
        owner: false,
        stripe: false,
        signed_in_as: None,
        github_web_url: String::new(),
        manifest: String::new(),
        manifest_state: String::new(),
        install_url: None,
        repositories: Vec::new(),
        stripe_webhook_url: String::new(),
        stripe_key_from_env: false,
    };
    if !holder {
        return Ok(view);
    }
    let progress = server::setup::progress(&state.config, &state.db).await?;
    view.github = progress.github;
    view.owner = progress.owner;
    view.stripe = progress.stripe;
    if let AdminCheck::Admin(user, _) = super::session::ssr::admin_check().await? {
        view.signed_in_as = Some(user.login);
    }
    view.github_web_url = state.config.github.web_url.as_str().trim_end_matches('/').to_owned();
    if !progress.github {
        let manifest_state = server::setup::new_state();
        session.insert(server::setup::MANIFEST_STATE_KEY, &manifest_state).await.map_err(|e| {
            tracing::error!(error = %e, "could not keep the manifest state");
            AppError::Internal
        })?;
        view.manifest = server::github_app::manifest(&state.config).to_string();
        view.manifest_state = manifest_state;
    } else {
        view.install_url = server::github_app::install_url(&state.config);
        if let Ok(repos) = state.github.administrable_repositories().await {
            view.repositories = repos.into_iter().map(|r| r.full_name).collect();
        }
    }
    view.stripe_webhook_url = server::stripe_connection::webhook_url(&state);
    view.stripe_key_from_env = state.config.env_has(server::config::Setting::StripeSecretKey);
    Ok(view)
}

/// The wizard's Stripe step: the owner, signed in through the setup link's
/// browser, pastes the key.
#[server(endpoint = "setup/stripe")]
pub async fn setup_connect_stripe(key: String) -> Result<StripeConnected, AppError> {
    let state = ssr::require_holder_signed_in().await?;
    Ok(super::settings::connected(server::stripe_connection::connect(&state, &key).await?))
}

/// The wizard's Stripe step when STRIPE_SECRET_KEY comes from the
/// environment: creates the webhook endpoint with that key.
#[server(endpoint = "setup/stripe-endpoint")]
pub async fn setup_stripe_endpoint() -> Result<String, AppError> {
    let state = ssr::require_holder_signed_in().await?;
    Ok(server::stripe_connection::repair(&state).await?.id)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    /// The wizard's steps after sign-in: this browser holds the setup link
    /// (403 otherwise) and is signed in as an admin (401/403 otherwise).
    pub async fn require_holder_signed_in() -> Result<server::AppState, AppError> {
        let state = crate::api::state()?;
        let session = crate::api::session::ssr::session().await?;
        if !server::setup::holds_link(&state, &session).await {
            return Err(AppError::Forbidden.with_status(http::StatusCode::FORBIDDEN));
        }
        Ok(crate::api::session::ssr::require_admin().await?.0)
    }
}
