use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::types::{CheckLevel, EndpointView};
use crate::{
    error::AppError,
    types::{CheckLine, ConnectionStatus, StripeConnected, TaxSetting},
};

/// Connects the Stripe account of a pasted key: checks it, creates the
/// webhook endpoint, saves both; the server then starts again with them.
#[server(endpoint = "admin/settings/stripe/connect")]
pub async fn connect_stripe(key: String) -> Result<StripeConnected, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(connected(server::stripe_connection::connect(&state, &key).await?))
}

/// Creates RepoPass's webhook endpoint in Stripe again (deleted or changed there).
#[server(endpoint = "admin/settings/stripe/repair")]
pub async fn repair_stripe_webhook() -> Result<String, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let endpoint = server::stripe_connection::repair(&state).await?;
    Ok(endpoint.id)
}

#[cfg(feature = "ssr")]
pub(crate) fn connected(c: server::stripe_connection::Connected) -> StripeConnected {
    let account = match c.account.name {
        Some(name) => format!("{name} ({})", c.account.id),
        None => c.account.id,
    };
    StripeConnected { account, live: c.live, endpoint_id: c.endpoint.id }
}

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
    Ok(server::doctor::examine(&state, None)
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
            stripe_key_from_env: s.stripe_key_from_env,
            stripe_endpoint: s.stripe_endpoint.map(|e| EndpointView {
                id: e.id,
                url: e.url,
                events: e.events,
                problem: e.problem,
            }),
        }
    }
}

/// Whether customers are warned (by email) seven days and one day before
/// their access ends.
#[server(endpoint = "admin/settings/customer-emails")]
pub async fn customer_emails() -> Result<bool, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::preferences::is_on(&state.db, server::preferences::Preference::AccessEndingEmails).await?)
}

/// The checkbox as a form sends it: present ("on") when ticked, absent when not.
#[server(endpoint = "admin/settings/customer-emails/save")]
pub async fn save_customer_emails(access_ending: Option<String>) -> Result<bool, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let on = access_ending.is_some();
    server::preferences::set(&state.db, server::preferences::Preference::AccessEndingEmails, on).await?;
    Ok(on)
}

#[cfg(feature = "ssr")]
mod ssr {
    pub fn tax(t: server::tax::TaxStatus) -> crate::types::TaxSetting {
        crate::types::TaxSetting { on: t.on, behavior: t.behavior.map(str::to_owned) }
    }
}

/// Stripe Tax at checkout: on or off, and Stripe's default tax behavior in
/// words when on.
#[server(endpoint = "admin/settings/tax")]
pub async fn stripe_tax() -> Result<TaxSetting, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(ssr::tax(server::tax::status(&state).await?))
}

/// The checkbox as a form sends it: present when ticked. Turning it on is
/// refused, with what to do, until Stripe can calculate tax.
#[server(endpoint = "admin/settings/tax/save")]
pub async fn save_stripe_tax(stripe_tax: Option<String>) -> Result<TaxSetting, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(ssr::tax(server::tax::set(&state, stripe_tax.is_some()).await?))
}
