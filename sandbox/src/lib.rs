#![recursion_limit = "512"]
// the large json! literals of GitHub and Stripe objects
// Handlers answer API errors as ready responses: `Result<_, Response>` is the idiom.
#![allow(clippy::result_large_err)]
//! RepoPass's sandbox: HTTP stand-ins for the parts of Stripe's and GitHub's
//! APIs that RepoPass calls. The real clients (async-stripe, octocrab,
//! oauth2) reach it through their ordinary base-URL settings, so the sandbox
//! exercises the production code path. Mounted under `/sandbox` only in
//! sandbox mode; its state lives in its own tables.

mod console;
pub mod control;
pub mod credentials;
pub mod deliveries;
mod error;
pub mod github;
mod mailbox;
mod pages;
pub mod request_bin;
pub mod store;
pub mod stripe;

use std::sync::Arc;

use axum::Router;
use secrecy::SecretString;
use server::Db;
use url::Url;

pub use error::{Error, Reject};
pub use store::Store;

/// Everything the sandbox's handlers share.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    public_url: Url,
    stripe_webhook_secret: SecretString,
    github_webhook_secret: SecretString,
    /// One invitation decision at a time: GitHub's daily limit is a count
    /// followed by an insert, which must not interleave.
    invitations: tokio::sync::Mutex<()>,
    /// Logins by user id, so that a lookup by id (every invitation listed
    /// names two users) is one keyed read, not a scan of every account.
    /// A hint only: checked against the account it finds, refreshed on a miss
    /// (another process sharing the database may have renamed someone).
    logins_by_id: std::sync::RwLock<std::collections::HashMap<i64, String>>,
    /// Calls to the GitHub stand-in's REST API by "METHOD /route/{template}"
    /// (see `github::calls`). In memory: per process, reset by the control API.
    github_calls: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Sandbox {
    pub(crate) async fn invitation_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.invitations.lock().await
    }

    /// `public_url` is RepoPass's own address (the sandbox lives under it).
    pub fn new(
        db: Db,
        public_url: Url,
        stripe_webhook_secret: SecretString,
        github_webhook_secret: SecretString,
    ) -> Self {
        Sandbox {
            inner: Arc::new(Inner {
                store: Store::new(db),
                public_url,
                stripe_webhook_secret,
                github_webhook_secret,
                invitations: tokio::sync::Mutex::new(()),
                logins_by_id: Default::default(),
                github_calls: Default::default(),
            }),
        }
    }

    pub(crate) fn login_hint(&self, id: i64) -> Option<String> {
        self.inner.logins_by_id.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
    }

    pub(crate) fn remember_logins(&self, users: impl IntoIterator<Item = (i64, String)>) {
        self.inner.logins_by_id.write().unwrap_or_else(|e| e.into_inner()).extend(users);
    }

    /// Counts one call to the GitHub REST stand-in.
    pub(crate) fn count_github_call(&self, route: String) {
        *self.inner.github_calls.lock().unwrap_or_else(|e| e.into_inner()).entry(route).or_insert(0) += 1;
    }

    /// The GitHub REST calls counted since the start or the last reset.
    pub fn github_calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.inner.github_calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset_github_calls(&self) {
        self.inner.github_calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// An absolute URL under RepoPass's public address.
    pub fn url(&self, path: &str) -> String {
        let base = self.inner.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    /// Where webhooks go: RepoPass's own endpoints, unless the control API
    /// pointed them elsewhere (to watch them arrive in a test, say).
    pub async fn webhook_url(&self, provider: &str) -> Result<String, Error> {
        let base = match self.store().setting("webhook_base").await? {
            Some(base) => base,
            None => self.inner.public_url.to_string(),
        };
        Ok(format!("{}/api/webhooks/{provider}", base.trim_end_matches('/')))
    }

    /// Moves the sandbox clock forward and lets Stripe catch up (renewals,
    /// period ends, expired checkouts).
    pub async fn advance_clock(&self, seconds: i64) -> Result<i64, Error> {
        let now = self.store().advance_clock(seconds).await?;
        self.stripe_tick().await?;
        Ok(now)
    }

    pub(crate) fn stripe_webhook_secret(&self) -> &SecretString {
        &self.inner.stripe_webhook_secret
    }

    pub(crate) fn github_webhook_secret(&self) -> &SecretString {
        &self.inner.github_webhook_secret
    }

    /// Seeds the default users and repositories (idempotent) and starts the
    /// webhook delivery loop.
    pub async fn start(&self) -> Result<(), Error> {
        github::seed::seed(self).await?;
        github::apps::seed(self).await?;
        stripe::endpoints::ensure_built_in(self).await?;
        deliveries::spawn_worker(self.clone());
        Ok(())
    }

    /// The routes, to be nested under `/sandbox`.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(console::router())
            .merge(mailbox::router())
            .merge(request_bin::router())
            .nest("/github", github::router(self))
            .nest("/stripe", stripe::router(self))
            .nest("/control", control::router())
            .with_state(self.clone())
    }
}

/// The stand-in credentials the sandbox accepts.
pub use credentials::{configure, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_TOKEN, STRIPE_SECRET_KEY};
