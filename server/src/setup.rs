//! The first start of a real deployment. Until GitHub and Stripe are
//! connected and an owner has signed in, RepoPass serves only `/healthz` and
//! the setup wizard, and only to the holder of a one-time link it printed to
//! its log. The link is exchanged for a mark in that browser's session at the
//! first visit (and then works no more); a restart prints a new one.

use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{AppState, Config, Db, Result};

/// The parts of setup, in the order the wizard takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A GitHub App (created from a manifest), or GITHUB_TOKEN + an OAuth app.
    Github,
    /// Someone signed in as the owner (or REPOPASS_ADMINS names who may).
    Owner,
    /// A Stripe key, and the webhook endpoint created with it.
    Stripe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub github: bool,
    pub owner: bool,
    pub stripe: bool,
}

impl Progress {
    /// The first step not done yet; none when setup is finished.
    pub fn next(&self) -> Option<Step> {
        if !self.github {
            Some(Step::Github)
        } else if !self.owner {
            Some(Step::Owner)
        } else if !self.stripe {
            Some(Step::Stripe)
        } else {
            None
        }
    }
}

/// What is done, from the configuration (environment and saved values)
/// and the database. The sandbox needs no setup.
pub async fn progress(config: &Config, db: &Db) -> Result<Progress> {
    if config.sandbox {
        return Ok(Progress { github: true, owner: true, stripe: true });
    }
    let owner: Option<i64> =
        sqlx::query_scalar("SELECT id FROM admins WHERE role = 'owner' LIMIT 1").fetch_optional(db.pool()).await?;
    Ok(Progress {
        github: config.github.auth.is_some(),
        owner: owner.is_some() || !config.admins.is_empty(),
        stripe: config.stripe.secret_key.is_some() && config.stripe.webhook_secret.is_some(),
    })
}

/// The one-time setup link of this process.
#[derive(Debug)]
pub struct SetupLink {
    /// SHA-256 of the token: the token itself is printed once and not kept.
    token_hash: [u8; 32],
    used: AtomicBool,
}

/// The session key that marks the browser that opened the link.
pub const SESSION_KEY: &str = "setup_link";

/// The session key of the App manifest form's `state`, which GitHub hands
/// back with the code (it ties the return to this browser).
pub const MANIFEST_STATE_KEY: &str = "setup_manifest_state";

/// A fresh random value for a form's `state`.
pub fn new_state() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

impl SetupLink {
    /// A new random link; the token is returned once, for the log.
    pub fn new() -> (SetupLink, SecretString) {
        let bytes: [u8; 32] = rand::random();
        let token = hex::encode(bytes);
        let link = SetupLink { token_hash: Sha256::digest(token.as_bytes()).into(), used: AtomicBool::new(false) };
        (link, SecretString::from(token))
    }

    /// What the holder's session keeps: not the token, a value derived from
    /// it that names this link (a link from an earlier start does not count).
    pub fn mark(&self) -> String {
        hex::encode(&self.token_hash[..16])
    }

    /// Exchanges the token for the session mark, once.
    pub fn redeem(&self, token: &str) -> Option<String> {
        let hash: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        let matches = constant_time_eq(&hash, &self.token_hash);
        if matches && !self.used.swap(true, Ordering::SeqCst) {
            Some(self.mark())
        } else {
            None
        }
    }

    pub fn holds(&self, session_mark: Option<&str>) -> bool {
        session_mark.is_some_and(|m| constant_time_eq(m.as_bytes(), self.mark().as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The address to open, for the log line.
pub fn link_url(config: &Config, token: &SecretString) -> String {
    let base = config.public_url.as_str().trim_end_matches('/');
    format!("{base}/setup?token={}", token.expose_secret())
}

/// Whether this browser's session holds this start's setup link (false
/// once setup is finished: there is no link any more).
pub async fn holds_link(state: &AppState, session: &tower_sessions::Session) -> bool {
    let mark: Option<String> = session.get(SESSION_KEY).await.ok().flatten();
    state.setup.as_ref().is_some_and(|link| link.holds(mark.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_works_once_and_only_with_its_token() {
        let (link, token) = SetupLink::new();
        assert_eq!(link.redeem("not-the-token"), None);
        let mark = link.redeem(token.expose_secret()).expect("the token opens setup");
        assert!(link.holds(Some(&mark)));
        assert_eq!(link.redeem(token.expose_secret()), None, "a second use is refused");
        assert!(!link.holds(None));
        assert!(!link.holds(Some("0000")));
        let (other, _) = SetupLink::new();
        assert!(!other.holds(Some(&mark)), "a mark from another start does not count");
    }

    #[test]
    fn steps_come_in_order() {
        let p = Progress { github: false, owner: false, stripe: true };
        assert_eq!(p.next(), Some(Step::Github));
        assert_eq!(Progress { github: true, owner: true, stripe: false }.next(), Some(Step::Stripe));
        assert_eq!(Progress { github: true, owner: true, stripe: true }.next(), None);
    }
}
