//! What every request handler and server function shares: built once at
//! start-up, cheap to clone.

use std::sync::Arc;

use crate::{github::Github, oauth::GithubOAuth, Config, Db};

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub github: Github,
    /// None when no GitHub OAuth app is configured (sign-in unavailable).
    pub oauth: Option<GithubOAuth>,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Result<Self, crate::github::GithubError> {
        let github = Github::from_config(&config)?;
        let oauth = GithubOAuth::from_config(&config);
        Ok(AppState { config: Arc::new(config), db, github, oauth })
    }
}
