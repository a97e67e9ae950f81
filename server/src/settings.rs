//! The settings page's facts: what is connected and what to do where it is not.

use crate::{AppState, Config};

/// Which Stripe RepoPass talks to: decided here for the settings page and
/// `repopass doctor` alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    Sandbox,
    Test,
    Live,
}

impl StripeMode {
    pub fn of(config: &Config) -> Self {
        if config.sandbox {
            StripeMode::Sandbox
        } else if config
            .stripe
            .secret_key
            .as_ref()
            .is_some_and(|k| secrecy::ExposeSecret::expose_secret(k).contains("_live_"))
        {
            StripeMode::Live
        } else {
            StripeMode::Test
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StripeMode::Sandbox => "sandbox",
            StripeMode::Test => "test",
            StripeMode::Live => "live",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Status {
    pub sandbox: bool,
    /// "token", "app" or "off".
    pub github_mode: String,
    /// What went wrong reaching GitHub, in words, with the fix.
    pub github_problem: Option<String>,
    /// Repositories the credentials administer, private first.
    pub repositories: Vec<String>,
    /// "sandbox", "test" or "live".
    pub stripe_mode: String,
    pub stripe_webhook_url: String,
    pub stripe_webhook_secret_set: bool,
    pub github_webhook_url: String,
    pub github_webhook_secret_set: bool,
    pub sign_in_configured: bool,
    /// "smtp" or "outbox".
    pub email: String,
}

pub async fn status(state: &AppState) -> Status {
    let config = &state.config;
    let (repositories, github_problem) = match state.github.administrable_repositories().await {
        Ok(repos) => (repos.into_iter().map(|r| r.full_name).collect(), None),
        Err(err) => (Vec::new(), Some(format!("{err}. Check GITHUB_TOKEN (or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY) and its repository administration permission."))),
    };
    let url = |path: &str| config.public_url.join(path).map(|u| u.to_string()).unwrap_or_default();
    Status {
        sandbox: config.sandbox,
        github_mode: state.github.mode_name().to_owned(),
        github_problem,
        repositories,
        stripe_mode: StripeMode::of(config).as_str().to_owned(),
        stripe_webhook_url: url("api/webhooks/stripe"),
        stripe_webhook_secret_set: config.stripe.webhook_secret.is_some(),
        github_webhook_url: url("api/webhooks/github"),
        github_webhook_secret_set: config.github.webhook_secret.is_some(),
        sign_in_configured: state.oauth.is_some(),
        email: if config.email.smtp_url.is_some() { "smtp" } else { "outbox" }.to_owned(),
    }
}
