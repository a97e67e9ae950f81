//! GitHub through octocrab: the creator's connection (a fine-grained token,
//! or a GitHub App whose installation is found per repository owner), and
//! per-user clients for sign-in.

pub mod collaborators;
pub mod teams;
pub mod users;

use std::{collections::HashMap, sync::Arc, time::Duration};

use octocrab::{models::AppId, Octocrab};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::config::{Config, GithubAuth};

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub is not configured")]
    NotConfigured,
    #[error("the GitHub App is not installed on {0}; install it from the App's settings page")]
    NotInstalled(String),
    #[error("GitHub answered {status}: {message}")]
    Api {
        status: u16,
        /// GitHub's message, with the details of a validation error.
        message: String,
        /// Seconds to wait, from `Retry-After` or `x-ratelimit-reset`.
        retry_after: Option<u64>,
    },
    #[error("could not reach GitHub: {0}")]
    Transport(String),
}

impl From<octocrab::Error> for GithubError {
    fn from(err: octocrab::Error) -> Self {
        match err {
            octocrab::Error::GitHub { source, .. } => {
                let details: Vec<String> = source
                    .errors
                    .iter()
                    .flatten()
                    .filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                    .collect();
                let message = if details.is_empty() {
                    source.message.clone()
                } else {
                    format!("{}: {}", source.message, details.join("; "))
                };
                let now = crate::clock::now().max(0) as u64;
                let retry_after = source
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("retry-after"))
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .or_else(|| source.rate_limit_reset.map(|reset| reset.saturating_sub(now)));
                GithubError::Api { status: source.status_code.as_u16(), message, retry_after }
            }
            other => GithubError::Transport(other.to_string()),
        }
    }
}

/// The creator's connection to GitHub, built once at start-up.
#[derive(Clone)]
pub struct Github {
    inner: Arc<Inner>,
}

struct Inner {
    base: String,
    mode: Mode,
}

enum Mode {
    Token(Octocrab),
    /// The App client, and one installation client per account (octocrab
    /// caches and refreshes each installation's token inside its client).
    App {
        app: Octocrab,
        installations: Mutex<HashMap<String, Octocrab>>,
    },
    Off,
}

impl std::fmt::Debug for Github {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Github").field("base", &self.inner.base).field("mode", &self.mode_name()).finish()
    }
}

pub(crate) fn builder(
    base: &str,
) -> Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
    GithubError,
> {
    Ok(Octocrab::builder()
        .base_uri(base)
        .map_err(|e| GithubError::Transport(e.to_string()))?
        .set_connect_timeout(Some(Duration::from_secs(5)))
        .set_read_timeout(Some(Duration::from_secs(15)))
        .set_write_timeout(Some(Duration::from_secs(15))))
}

impl Github {
    pub fn from_config(config: &Config) -> Result<Self, GithubError> {
        let base = config.github.api_url.as_str().trim_end_matches('/').to_owned();
        let mode = match &config.github.auth {
            None => Mode::Off,
            Some(GithubAuth::Token(token)) => {
                Mode::Token(builder(&base)?.personal_token(token.expose_secret().to_owned()).build()?)
            }
            Some(GithubAuth::App { app_id, private_key }) => {
                let app = builder(&base)?
                    .app_from_rsa_pem(AppId(*app_id), private_key.expose_secret().as_bytes())?
                    .build()?;
                Mode::App { app, installations: Mutex::new(HashMap::new()) }
            }
        };
        Ok(Github { inner: Arc::new(Inner { base, mode }) })
    }

    pub fn mode_name(&self) -> &'static str {
        match self.inner.mode {
            Mode::Token(_) => "token",
            Mode::App { .. } => "app",
            Mode::Off => "off",
        }
    }

    /// A client acting for the creator on `owner`'s repositories.
    pub async fn for_owner(&self, owner: &str) -> Result<Octocrab, GithubError> {
        match &self.inner.mode {
            Mode::Off => Err(GithubError::NotConfigured),
            Mode::Token(client) => Ok(client.clone()),
            Mode::App { app, installations } => {
                let key = owner.to_ascii_lowercase();
                let mut cache = installations.lock().await;
                if let Some(client) = cache.get(&key) {
                    return Ok(client.clone());
                }
                // Installations are per account (user or organisation): list them
                // once and keep a client for each.
                for installation in app.apps().installations().send().await?.items {
                    let client = app.installation(installation.id)?;
                    cache.insert(installation.account.login.to_ascii_lowercase(), client);
                }
                let client = cache.get(&key).cloned().ok_or_else(|| GithubError::NotInstalled(owner.to_owned()))?;
                Ok(client)
            }
        }
    }

    /// Repositories the connection can administer, private ones first.
    pub async fn administrable_repositories(&self) -> Result<Vec<Administered>, GithubError> {
        let repos = match &self.inner.mode {
            Mode::Off => return Err(GithubError::NotConfigured),
            Mode::Token(client) => {
                let page = client
                    .current()
                    .list_repos_for_authenticated_user()
                    .affiliation("owner,organization_member")
                    .per_page(100)
                    .send()
                    .await?;
                client.all_pages(page).await?
            }
            Mode::App { app, .. } => {
                let mut all = Vec::new();
                let installations = app.apps().installations().send().await?;
                for installation in installations.items {
                    let client = app.installation(installation.id)?;
                    let repos = client.apps().installation_repositories().per_page(100).send().await?;
                    all.extend(repos.repositories);
                }
                all
            }
        };
        let mut repos: Vec<Administered> = repos
            .into_iter()
            .filter(|r| r.permissions.as_ref().is_none_or(|p| p.admin))
            .map(|r| {
                let (owner, owner_is_org) =
                    r.owner.as_ref().map(|o| (o.login.clone(), o.r#type == "Organization")).unwrap_or_default();
                Administered {
                    github_id: r.id.0 as i64,
                    full_name: r.full_name.clone().unwrap_or_else(|| format!("{owner}/{}", r.name)),
                    owner,
                    owner_is_org,
                    name: r.name,
                    private: r.private.unwrap_or(false),
                    description: r.description,
                }
            })
            .collect();
        repos.sort_by_key(|r| (!r.private, r.full_name.to_ascii_lowercase()));
        Ok(repos)
    }
}

/// Whether RepoPass can manage a repository's collaborators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Manages,
    /// The App has no installation that covers the repository.
    NotInstalled,
    /// Reachable, without the right to manage collaborators.
    Lacks(String),
}

#[derive(serde::Deserialize)]
struct RepoInstallation {
    #[serde(default)]
    permissions: HashMap<String, String>,
}

impl Github {
    /// With an App: the installation covering `owner/name`, and its
    /// administration permission. With a token: admin rights on it.
    pub async fn access_to(&self, owner: &str, name: &str) -> Result<Access, GithubError> {
        let path = format!("/repos/{owner}/{name}");
        match &self.inner.mode {
            Mode::Off => Err(GithubError::NotConfigured),
            Mode::App { app, .. } => {
                match app.get::<RepoInstallation, _, _>(format!("{path}/installation"), None::<&()>).await {
                    Ok(i) if i.permissions.get("administration").map(String::as_str) == Some("write") => {
                        Ok(Access::Manages)
                    }
                    Ok(_) => Ok(Access::Lacks("the App's installation lacks Administration: write".into())),
                    Err(e) => match GithubError::from(e) {
                        GithubError::Api { status: 404, .. } => Ok(Access::NotInstalled),
                        other => Err(other),
                    },
                }
            }
            Mode::Token(client) => match client.get::<octocrab::models::Repository, _, _>(&path, None::<&()>).await {
                Ok(r) if r.permissions.as_ref().is_some_and(|p| p.admin) => Ok(Access::Manages),
                Ok(_) => Ok(Access::Lacks("the token has no admin rights on it".into())),
                Err(e) => match GithubError::from(e) {
                    GithubError::Api { status: 404, .. } => Ok(Access::Lacks("the token cannot see it".into())),
                    other => Err(other),
                },
            },
        }
    }
}

/// A repository the connection administers (it may sell access to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administered {
    pub github_id: i64,
    pub owner: String,
    pub owner_is_org: bool,
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    pub private: bool,
    pub description: Option<String>,
}
