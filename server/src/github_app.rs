//! "GitHub in one click": RepoPass's GitHub App, created from a manifest
//! (GitHub's App manifest flow). The wizard posts the manifest to GitHub's
//! "new App" page; GitHub sends the creator back with a code that RepoPass
//! converts (`POST /app-manifests/{code}/conversions`) into the App's id,
//! private key, OAuth client and webhook secret — all saved sealed. One App
//! replaces the token, the OAuth app and the webhook secret.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{config::Setting, github::GithubError, vault, AppState, Config};

/// The manifest: RepoPass's name and addresses, the least permissions the
/// product needs (repository administration manages collaborators; metadata
/// comes with it) and the events it handles.
pub fn manifest(config: &Config) -> Value {
    let url = |path: &str| config.public_url.join(path).map(|u| u.to_string()).unwrap_or_default();
    let host = config.public_url.host_str().unwrap_or("RepoPass");
    // GitHub App names are at most 34 characters and unique on GitHub.
    let name: String = format!("RepoPass {host}").chars().take(34).collect();
    json!({
        "name": name,
        "url": url(""),
        "description": "Sells access to private repositories: invites buyers as collaborators and removes them when access ends.",
        "hook_attributes": { "url": url("api/webhooks/github"), "active": true },
        "redirect_url": url("setup/github/created"),
        "callback_urls": [url("auth/github/callback")],
        "setup_url": url("setup"),
        "setup_on_update": true,
        "public": false,
        "request_oauth_on_install": false,
        "default_permissions": { "administration": "write", "metadata": "read" },
        "default_events": ["member", "repository"],
    })
}

/// Where the manifest form is posted: the creator's account, or an
/// organisation they name (checked as a GitHub login).
pub fn new_app_url(config: &Config, organisation: Option<&str>, state: &str) -> Result<String, String> {
    let web = config.github.web_url.as_str().trim_end_matches('/');
    match organisation.map(str::trim).filter(|o| !o.is_empty()) {
        None => Ok(format!("{web}/settings/apps/new?state={state}")),
        Some(org) => match crate::domain::GithubLogin::parse(org) {
            Some(org) => Ok(format!("{web}/organizations/{}/settings/apps/new?state={state}", org.as_str())),
            None => Err(format!("'{org}' is not a GitHub organisation name (letters, digits and single hyphens)")),
        },
    }
}

/// What GitHub's conversion returns (the parts RepoPass keeps).
#[derive(Deserialize)]
struct Conversion {
    id: u64,
    slug: String,
    client_id: String,
    client_secret: String,
    webhook_secret: Option<String>,
    pem: String,
    owner: Option<Owner>,
}

#[derive(Deserialize)]
struct Owner {
    login: String,
}

/// The App that was created.
#[derive(Debug, Clone)]
pub struct CreatedApp {
    pub id: u64,
    pub slug: String,
    pub owner: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppSetupError {
    #[error(
        "GitHub did not convert the App (the code is used once and expires after an hour: create the App again): {0}"
    )]
    Conversion(String),
    #[error("{0}")]
    Saving(#[from] vault::VaultError),
}

/// Converts the code GitHub sent back and saves the App's credentials.
pub async fn convert(state: &AppState, code: &str) -> Result<CreatedApp, AppSetupError> {
    let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').take(100).collect();
    let base = state.config.github.api_url.as_str().trim_end_matches('/').to_owned();
    let client = crate::github::builder(&base)
        .and_then(|b| b.build().map_err(GithubError::from))
        .map_err(|e| AppSetupError::Conversion(e.to_string()))?;
    let app: Conversion = client
        .post(format!("/app-manifests/{code}/conversions"), None::<&()>)
        .await
        .map_err(|e| AppSetupError::Conversion(GithubError::from(e).to_string()))?;
    let secret = |s: &str| SecretString::from(s.to_owned());
    let id = secret(&app.id.to_string());
    let (slug, pem, client_id, client_secret) =
        (secret(&app.slug), secret(&app.pem), secret(&app.client_id), secret(&app.client_secret));
    let webhook = app.webhook_secret.as_deref().map(secret);
    let mut values: Vec<(Setting, &SecretString)> = vec![
        (Setting::GithubAppId, &id),
        (Setting::GithubAppSlug, &slug),
        (Setting::GithubAppPrivateKey, &pem),
        (Setting::GithubClientId, &client_id),
        (Setting::GithubClientSecret, &client_secret),
    ];
    if let Some(webhook) = &webhook {
        values.push((Setting::GithubWebhookSecret, webhook));
    }
    let sealed = vault::Vault::open_or_create(&state.config)?;
    vault::save(&state.db, &sealed, &state.config, &values).await?;
    state.control.request(crate::state::Next::Reload);
    tracing::info!(app_id = app.id, slug = %app.slug, "GitHub App created from the manifest");
    Ok(CreatedApp { id: app.id, slug: app.slug, owner: app.owner.map(|o| o.login) })
}

/// The App's page where the creator picks the repositories it may manage.
pub fn install_url(config: &Config) -> Option<String> {
    let slug = config.github.app_slug.as_deref()?;
    let web = config.github.web_url.as_str().trim_end_matches('/');
    Some(format!("{web}/apps/{slug}/installations/new"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let vars = [("PUBLIC_URL", "https://shop.example.com"), ("GITHUB_WEB_URL", "https://github.com")];
        Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap()
    }

    #[test]
    fn the_manifest_points_everything_at_this_deployment() {
        let m = manifest(&config());
        assert_eq!(m["hook_attributes"]["url"], "https://shop.example.com/api/webhooks/github");
        assert_eq!(m["redirect_url"], "https://shop.example.com/setup/github/created");
        assert_eq!(m["callback_urls"][0], "https://shop.example.com/auth/github/callback");
        assert_eq!(m["default_permissions"]["administration"], "write");
        assert!(m["name"].as_str().unwrap().len() <= 34);
    }

    #[test]
    fn the_form_goes_to_the_account_or_a_named_organisation() {
        let c = config();
        assert_eq!(new_app_url(&c, None, "s1").unwrap(), "https://github.com/settings/apps/new?state=s1");
        assert_eq!(
            new_app_url(&c, Some(" acme-inc "), "s1").unwrap(),
            "https://github.com/organizations/acme-inc/settings/apps/new?state=s1"
        );
        assert!(new_app_url(&c, Some("acme inc/x"), "s1").is_err());
    }
}
