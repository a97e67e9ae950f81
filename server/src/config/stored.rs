//! Settings that can also be saved by RepoPass itself (the setup wizard, the
//! settings page), encrypted in the database. Each has an environment
//! variable, and the variable wins: a twelve-factor deployment keeps working
//! as it did, and a value set in the environment cannot be changed from the
//! browser.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};

use super::{bad, services::GithubAuth, Config, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setting {
    StripeSecretKey,
    StripeWebhookSecret,
    /// The id of the webhook endpoint RepoPass created in Stripe (`we_…`).
    StripeWebhookEndpoint,
    GithubAppId,
    /// The App's URL name, for its installation page.
    GithubAppSlug,
    GithubAppPrivateKey,
    GithubClientId,
    GithubClientSecret,
    GithubWebhookSecret,
}

impl Setting {
    pub const ALL: [Setting; 9] = [
        Setting::StripeSecretKey,
        Setting::StripeWebhookSecret,
        Setting::StripeWebhookEndpoint,
        Setting::GithubAppId,
        Setting::GithubAppSlug,
        Setting::GithubAppPrivateKey,
        Setting::GithubClientId,
        Setting::GithubClientSecret,
        Setting::GithubWebhookSecret,
    ];

    /// The environment variable that overrides it (also its name in the database).
    pub fn var(self) -> &'static str {
        match self {
            Setting::StripeSecretKey => "STRIPE_SECRET_KEY",
            Setting::StripeWebhookSecret => "STRIPE_WEBHOOK_SECRET",
            Setting::StripeWebhookEndpoint => "STRIPE_WEBHOOK_ENDPOINT",
            Setting::GithubAppId => "GITHUB_APP_ID",
            Setting::GithubAppSlug => "GITHUB_APP_SLUG",
            Setting::GithubAppPrivateKey => "GITHUB_APP_PRIVATE_KEY",
            Setting::GithubClientId => "GITHUB_CLIENT_ID",
            Setting::GithubClientSecret => "GITHUB_CLIENT_SECRET",
            Setting::GithubWebhookSecret => "GITHUB_WEBHOOK_SECRET",
        }
    }

    pub fn from_var(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.var() == name)
    }
}

/// Values saved in the database, decrypted.
#[derive(Default, Clone)]
pub struct StoredValues(pub HashMap<Setting, SecretString>);

impl std::fmt::Debug for StoredValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(|s| s.var()).collect();
        names.sort_unstable();
        f.debug_struct("StoredValues").field("names", &names).finish()
    }
}

impl StoredValues {
    pub fn get(&self, setting: Setting) -> Option<&SecretString> {
        self.0.get(&setting)
    }
}

impl Config {
    /// Fills in what the environment left unset from the saved values. A
    /// value from the environment is kept and remembered as such. Checked as
    /// the environment's are: a saved value that no longer makes sense is an
    /// error naming it, not a half-configured server.
    pub fn merge_stored(&mut self, stored: &StoredValues) -> Result<(), ConfigError> {
        let take = |setting: Setting| stored.get(setting).cloned();
        if self.stripe.secret_key.is_none() {
            self.stripe.secret_key = take(Setting::StripeSecretKey);
        }
        if self.stripe.webhook_secret.is_none() {
            self.stripe.webhook_secret = take(Setting::StripeWebhookSecret);
        }
        if self.stripe.webhook_endpoint.is_none() {
            self.stripe.webhook_endpoint = take(Setting::StripeWebhookEndpoint).map(|s| s.expose_secret().to_owned());
        }
        // The GitHub connection is one thing: a token or App from the
        // environment is not mixed with a saved App.
        if self.github.auth.is_none() {
            if let (Some(id), Some(key)) = (take(Setting::GithubAppId), take(Setting::GithubAppPrivateKey)) {
                let app_id = id
                    .expose_secret()
                    .parse::<u64>()
                    .map_err(|_| bad("GITHUB_APP_ID", "the saved App id is not a number: run the setup again"))?;
                self.github.auth = Some(GithubAuth::App { app_id, private_key: key });
                self.github.app_slug = take(Setting::GithubAppSlug).map(|s| s.expose_secret().to_owned());
            }
        }
        if self.github.client_id.is_none() {
            if let (Some(id), Some(secret)) = (take(Setting::GithubClientId), take(Setting::GithubClientSecret)) {
                self.github.client_id = Some(id.expose_secret().to_owned());
                self.github.client_secret = Some(secret);
            }
        }
        if self.github.webhook_secret.is_none() {
            self.github.webhook_secret = take(Setting::GithubWebhookSecret);
        }
        Ok(())
    }

    /// Whether the environment (not the database) sets this value.
    pub fn env_has(&self, setting: Setting) -> bool {
        self.env_set.contains(&setting)
    }
}
