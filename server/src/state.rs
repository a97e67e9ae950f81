//! What every request handler and server function shares: built once at
//! start-up, cheap to clone.

use std::sync::Arc;

use crate::{github::Github, oauth::GithubOAuth, page_views::PageViews, stripe::Stripe, Config, Db};

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub github: Github,
    /// None when no GitHub OAuth app is configured (sign-in unavailable).
    pub oauth: Option<GithubOAuth>,
    pub stripe: Stripe,
    pub page_views: PageViews,
    /// Nudges this process's worker when a job was enqueued.
    pub wake: crate::worker::Wake,
    /// GitHub username answers and their budget.
    pub lookups: Arc<crate::github_accounts::Lookups>,
}

/// Why the shared state could not be built (bad credentials' shape).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("GitHub: {0}")]
    Github(#[from] crate::github::GithubError),
    #[error("Stripe: {0}")]
    Stripe(#[from] crate::stripe::StripeError),
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Result<Self, StateError> {
        let github = Github::from_config(&config)?;
        let oauth = GithubOAuth::from_config(&config);
        let stripe = Stripe::from_config(&config)?;
        let lookups = Arc::new(crate::github_accounts::Lookups::new(config.limits.github_lookups_per_hour));
        Ok(AppState {
            config: Arc::new(config),
            db,
            github,
            oauth,
            stripe,
            page_views: PageViews::default(),
            wake: Default::default(),
            lookups,
        })
    }
}
