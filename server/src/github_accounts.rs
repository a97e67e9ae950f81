//! Who will get access: a buyer's GitHub username, checked against GitHub.

use crate::{config::is_github_login, github::GithubError, AppState, Error, Result};

/// A GitHub user account that can be invited.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub avatar_url: String,
}

/// Looks `login` up on GitHub (through the connection of the repository's
/// owner): refuses malformed names, unknown users and organisations.
pub async fn check(state: &AppState, repo_owner: &str, login: &str) -> Result<Account> {
    let login = login.trim().trim_start_matches('@');
    if login.is_empty() {
        return Err(Error::invalid("github_username", "enter the GitHub username that should get access"));
    }
    if !is_github_login(login) {
        return Err(Error::invalid("github_username", format!("'{login}' is not a GitHub username: letters, digits and single hyphens, up to 39 characters")));
    }
    let client = state.github.for_owner(repo_owner).await.map_err(unavailable)?;
    let profile = match client.users(login).profile().await {
        Ok(p) => p,
        Err(e) => {
            return Err(match GithubError::from(e) {
                GithubError::Api { status: 404, .. } => Error::invalid("github_username", format!("There is no GitHub user called '{login}'. Check the spelling.")),
                other => unavailable(other),
            })
        }
    };
    if profile.r#type != "User" {
        return Err(Error::invalid(
            "github_username",
            format!("'{}' is a GitHub {}, not a person: enter the personal username that should be invited", profile.login, profile.r#type.to_lowercase()),
        ));
    }
    Ok(Account { id: profile.id.0 as i64, login: profile.login, name: profile.name, avatar_url: profile.avatar_url.to_string() })
}

fn unavailable(err: GithubError) -> Error {
    tracing::warn!(error = %err, "GitHub user lookup failed");
    Error::Unavailable("GitHub did not answer just now; try again in a minute".into())
}
