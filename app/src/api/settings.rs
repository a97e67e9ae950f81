use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{CheckLevel, CheckLine, ConnectionStatus},
};

/// What is connected, what is missing and how to fix it (admins only).
#[server(endpoint = "admin/settings/status")]
pub async fn settings_status() -> Result<ConnectionStatus, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::settings::status(&state).await.into())
}

/// `repopass doctor`'s checks, run now (they take up to ten seconds when
/// something does not answer, so only on request).
#[server(endpoint = "admin/settings/checks")]
pub async fn run_checks() -> Result<Vec<CheckLine>, AppError> {
    use server::doctor::Verdict;
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::doctor::examine(&state)
        .await
        .into_iter()
        .map(|f| {
            let (level, what, fix) = match f.verdict {
                Verdict::Ok(what) => (CheckLevel::Ok, what, None),
                Verdict::Warning { what, fix } => (CheckLevel::Warning, what, Some(fix)),
                Verdict::Problem { what, fix } => (CheckLevel::Problem, what, Some(fix)),
            };
            CheckLine { area: f.area.name().to_owned(), level, what, fix }
        })
        .collect())
}

#[cfg(feature = "ssr")]
impl From<server::settings::Status> for ConnectionStatus {
    fn from(s: server::settings::Status) -> Self {
        ConnectionStatus {
            sandbox: s.sandbox,
            github_mode: s.github_mode,
            github_problem: s.github_problem,
            repositories: s.repositories,
            stripe_mode: s.stripe_mode,
            stripe_webhook_url: s.stripe_webhook_url,
            stripe_webhook_secret_set: s.stripe_webhook_secret_set,
            github_webhook_url: s.github_webhook_url,
            github_webhook_secret_set: s.github_webhook_secret_set,
            sign_in_configured: s.sign_in_configured,
            email: s.email,
        }
    }
}
