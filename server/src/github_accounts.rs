//! Who will get access: a buyer's GitHub username, checked against GitHub.
//!
//! Every lookup spends the creator's GitHub quota (5 000 requests an hour
//! for a token), which invitations and removals need too. So answers are
//! kept for a minute (the buy form asks again as the buyer types and
//! submits), and lookups share one budget for the whole process
//! (`REPOPASS_GITHUB_LOOKUPS_PER_HOUR`): past it the form says to wait,
//! and the quota stays for granting and revoking access.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{clock::Clock, DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::{domain::GithubLogin, github::GithubError, AppState, Error, Result};

/// How long an answer from GitHub is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(60);
/// Answers kept at most (then expired ones are dropped, or all).
const CACHE_MAX: usize = 10_000;

/// A definitive answer about a login: the account, or why it cannot be invited.
type Answer = std::result::Result<Account, String>;

/// The cache and the budget (one per process, in `AppState`).
pub struct Lookups {
    cache: Mutex<HashMap<String, (Instant, Answer)>>,
    budget: DefaultDirectRateLimiter,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups").finish_non_exhaustive()
    }
}

impl Lookups {
    pub fn new(per_hour: u32) -> Self {
        let quota = Quota::per_hour(NonZeroU32::new(per_hour).unwrap_or(NonZeroU32::MIN));
        Lookups { cache: Mutex::new(HashMap::new()), budget: RateLimiter::direct(quota) }
    }

    fn cached(&self, key: &str) -> Option<Answer> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(key).filter(|(at, _)| at.elapsed() < CACHE_FOR).map(|(_, answer)| answer.clone())
    }

    fn keep(&self, key: String, answer: Answer) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), answer));
    }

    /// Takes one lookup from the budget, or says when to try again.
    fn spend(&self) -> Result<()> {
        self.budget.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now()).as_secs().max(1);
            tracing::warn!(wait, "GitHub username lookups over their budget (REPOPASS_GITHUB_LOOKUPS_PER_HOUR)");
            Error::Later {
                message: format!("Many people are checking GitHub usernames right now: try again in {wait} seconds."),
                after_secs: wait,
            }
        })
    }
}

/// A GitHub user account that can be invited.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: crate::domain::GithubUserId,
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
    if GithubLogin::parse(login).is_none() {
        return Err(Error::invalid(
            "github_username",
            format!("'{login}' is not a GitHub username: letters, digits and single hyphens, up to 39 characters"),
        ));
    }
    let key = login.to_ascii_lowercase();
    let answer = match state.lookups.cached(&key) {
        Some(answer) => answer,
        None => {
            state.lookups.spend()?;
            let answer = look_up(state, repo_owner, login).await?;
            state.lookups.keep(key, answer.clone());
            answer
        }
    };
    answer.map_err(|message| Error::invalid("github_username", message))
}

/// Asks GitHub. `Err` only when GitHub did not answer (nothing to keep).
async fn look_up(state: &AppState, repo_owner: &str, login: &str) -> Result<Answer> {
    let Some(user) = state.github.user_by_login(repo_owner, login).await.map_err(unavailable)? else {
        return Ok(Err(format!("There is no GitHub user called '{login}'. Check the spelling.")));
    };
    if !user.is_person() {
        return Ok(Err(format!(
            "'{}' is a GitHub {}, not a person: enter the personal username that should be invited",
            user.login,
            user.kind.to_lowercase()
        )));
    }
    Ok(Ok(Account {
        id: crate::domain::GithubUserId(user.id),
        login: user.login,
        name: user.name,
        avatar_url: user.avatar_url,
    }))
}

fn unavailable(err: GithubError) -> Error {
    tracing::warn!(error = %err, "GitHub user lookup failed");
    Error::Unavailable("GitHub did not answer just now; try again in a minute".into())
}
