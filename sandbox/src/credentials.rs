//! The stand-in credentials of sandbox mode. They open nothing real: the
//! sandbox accepts them and nothing else does.

use secrecy::SecretString;
use server::config::{Config, GithubAuth};

pub const STRIPE_SECRET_KEY: &str = "sk_test_repopass_sandbox";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_repopass_sandbox";
pub const GITHUB_TOKEN: &str = "ghp_repopass_sandbox_creator";
pub const GITHUB_CLIENT_ID: &str = "Iv1.repopass-sandbox";
pub const GITHUB_CLIENT_SECRET: &str = "repopass-sandbox-client-secret";
pub const GITHUB_WEBHOOK_SECRET: &str = "repopass-sandbox-github-webhook";

/// Points every client at the sandbox under `config.public_url` and fills
/// in its stand-in credentials. Called once the listening port is known;
/// does nothing outside sandbox mode.
pub fn configure(config: &mut Config) {
    if !config.sandbox {
        return;
    }
    let base = |path: &str| config.public_url.join(path).expect("a path joins onto an http URL");
    // async-stripe appends "v1/…" to its base: keep the trailing slash.
    config.stripe.api_base = Some(base("sandbox/stripe/"));
    config.github.api_url = base("sandbox/github/api");
    config.github.web_url = base("sandbox/github");
    config.stripe.secret_key = Some(SecretString::from(STRIPE_SECRET_KEY));
    config.github.auth = Some(GithubAuth::Token(SecretString::from(GITHUB_TOKEN)));
    config.stripe.webhook_secret.get_or_insert_with(|| SecretString::from(STRIPE_WEBHOOK_SECRET));
    config.stripe.webhook_endpoint.get_or_insert_with(|| crate::stripe::endpoints::BUILT_IN.to_owned());
    config.github.webhook_secret.get_or_insert_with(|| SecretString::from(GITHUB_WEBHOOK_SECRET));
    if config.github.client_id.is_none() {
        config.github.client_id = Some(GITHUB_CLIENT_ID.to_owned());
        config.github.client_secret = Some(SecretString::from(GITHUB_CLIENT_SECRET));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Config {
        let map: std::collections::HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned()).unwrap()
    }

    #[test]
    fn sandbox_mode_points_every_client_at_the_sandbox() {
        let mut cfg = load(&[("PUBLIC_URL", "http://127.0.0.1:4000")]);
        configure(&mut cfg);
        assert_eq!(cfg.stripe.api_base.unwrap().as_str(), "http://127.0.0.1:4000/sandbox/stripe/");
        assert_eq!(cfg.github.api_url.as_str(), "http://127.0.0.1:4000/sandbox/github/api");
        assert_eq!(cfg.github.web_url.as_str(), "http://127.0.0.1:4000/sandbox/github");
        assert_eq!(cfg.github.client_id.as_deref(), Some(GITHUB_CLIENT_ID));
        assert!(matches!(cfg.github.auth, Some(GithubAuth::Token(_))));

        let mut real =
            load(&[("STRIPE_SECRET_KEY", "sk_live_1"), ("GITHUB_TOKEN", "ghp_real"), ("REPOPASS_ADMINS", "alice")]);
        configure(&mut real);
        assert!(real.stripe.api_base.is_none());
        assert_eq!(real.github.api_url.as_str(), "https://api.github.com/");
    }
}
