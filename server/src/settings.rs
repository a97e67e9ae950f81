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
    pub stripe_key_from_env: bool,
    pub stripe_endpoint: Option<EndpointSummary>,
}

/// RepoPass's Stripe webhook endpoint as Stripe has it now.
#[derive(Debug, Clone)]
pub struct EndpointSummary {
    pub id: Option<String>,
    pub url: Option<String>,
    pub events: Vec<String>,
    pub problem: Option<String>,
}

async fn endpoint_summary(state: &AppState) -> Option<EndpointSummary> {
    use crate::stripe_connection::{endpoint_health, EndpointHealth};
    // No key, nothing to look at.
    state.config.stripe.secret_key.as_ref()?;
    let health = tokio::time::timeout(std::time::Duration::from_secs(10), endpoint_health(state)).await;
    let summary = |e: &crate::stripe::connect::Endpoint, problem: Option<String>| EndpointSummary {
        id: Some(e.id.clone()),
        url: Some(e.url.clone()),
        events: e.enabled_events.clone(),
        problem,
    };
    let none = |problem: String| EndpointSummary { id: None, url: None, events: Vec::new(), problem: Some(problem) };
    Some(match health {
        Err(_) => none("Stripe did not answer within 10 s".into()),
        Ok(Err(e)) => none(format!("could not read it: {e}")),
        Ok(Ok(EndpointHealth::Fine(e))) => summary(&e, None),
        Ok(Ok(EndpointHealth::Wrong { endpoint, problems })) => summary(&endpoint, Some(problems.join("; "))),
        Ok(Ok(EndpointHealth::Deleted { id })) => EndpointSummary {
            id: Some(id),
            url: None,
            events: Vec::new(),
            problem: Some("it was deleted in Stripe: payments do not reach RepoPass".into()),
        },
        Ok(Ok(EndpointHealth::NoneFound)) => none("no endpoint of this account sends to RepoPass".into()),
    })
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
        stripe_key_from_env: config.env_has(crate::config::Setting::StripeSecretKey),
        stripe_endpoint: endpoint_summary(state).await,
    }
}
