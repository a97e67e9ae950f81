//! "Stripe in one paste": the creator pastes a secret or restricted key;
//! RepoPass says which account it opens and in which mode, names any
//! permission a restricted key lacks, creates its own webhook endpoint
//! (exactly the events it acts on) and saves the key, the endpoint and its
//! signing secret sealed in the database. The server then starts again with
//! them (see `state::Next::Reload`).

use secrecy::{ExposeSecret, SecretString};

use crate::{
    config::Setting,
    lifecycle::STRIPE_EVENTS,
    stripe::{
        connect::{restricted_key_link, Account, Endpoint, Permission},
        Stripe, StripeError,
    },
    vault::{self, Vault},
    AppState,
};

/// Why a key was not connected, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("that is a publishable key (pk_…), which only browsers use: paste the secret key (sk_…) or a restricted key (rk_…) from Developers → API keys")]
    Publishable,
    #[error("that does not look like a Stripe key: paste the secret key (sk_…) or a restricted key (rk_…) from Developers → API keys")]
    NotAKey,
    #[error("Stripe does not recognise this key (revoked, or copied incompletely): copy it again from Developers → API keys")]
    Unknown,
    #[error("this restricted key lacks {}: create a key with them at {link} and paste it here", names(.missing))]
    Missing { missing: Vec<Permission>, link: String },
    #[error("Stripe refused to create the webhook endpoint: {0}")]
    Endpoint(String),
    #[error("could not reach Stripe: {0}; try again in a minute")]
    Unreachable(String),
    #[error("{0}")]
    Saving(#[from] vault::VaultError),
    #[error("the sandbox's Stripe needs no key; connect a real account from a deployment with PUBLIC_URL set")]
    Sandbox,
}

fn names(missing: &[Permission]) -> String {
    missing.iter().map(|p| format!("{} ({})", p.label, p.used_for)).collect::<Vec<_>>().join(", ")
}

impl From<StripeError> for ConnectError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Refused { status: 401, .. } => ConnectError::Unknown,
            StripeError::Transport(why) => ConnectError::Unreachable(why),
            other => ConnectError::Unreachable(other.to_string()),
        }
    }
}

/// What was connected.
#[derive(Debug, Clone)]
pub struct Connected {
    pub account: Account,
    pub live: bool,
    pub endpoint: Endpoint,
}

/// Where Stripe must send events.
pub fn webhook_url(state: &AppState) -> String {
    state.config.public_url.join("api/webhooks/stripe").map(|u| u.to_string()).unwrap_or_default()
}

/// Checks `key`, creates the webhook endpoint with it and saves all three.
pub async fn connect(state: &AppState, key: &str) -> Result<Connected, ConnectError> {
    if state.config.sandbox {
        return Err(ConnectError::Sandbox);
    }
    let key = key.trim();
    if key.starts_with("pk_") {
        return Err(ConnectError::Publishable);
    }
    let shape_ok = (key.starts_with("sk_") || key.starts_with("rk_"))
        && key.len() > 10
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !shape_ok {
        return Err(ConnectError::NotAKey);
    }
    refuse_set_in_environment(
        state,
        &[Setting::StripeSecretKey, Setting::StripeWebhookSecret, Setting::StripeWebhookEndpoint],
    )?;
    let key = SecretString::from(key.to_owned());
    let live = key.expose_secret().contains("_live_");
    let stripe = Stripe::with_key(&key, state.config.stripe.api_base.as_ref())?;
    let account = stripe.account().await?;
    if key.expose_secret().starts_with("rk_") {
        let missing = stripe.missing_permissions().await?;
        if !missing.is_empty() {
            let link = restricted_key_link(&crate::stripe::connect::NEEDED, live);
            return Err(ConnectError::Missing { missing, link });
        }
    }
    let (endpoint, secret) = replace_endpoint(state, &stripe).await?;
    save(
        state,
        &[
            (Setting::StripeSecretKey, &key),
            (Setting::StripeWebhookSecret, &secret),
            (Setting::StripeWebhookEndpoint, &SecretString::from(endpoint.id.clone())),
        ],
    )
    .await?;
    tracing::info!(account = %account.id, live, endpoint = %endpoint.id, "Stripe connected");
    Ok(Connected { account, live, endpoint })
}

/// Creates the webhook endpoint again with the saved key (someone deleted
/// or changed it in Stripe) and saves its new secret.
pub async fn repair(state: &AppState) -> Result<Endpoint, ConnectError> {
    if state.config.sandbox {
        return Err(ConnectError::Sandbox);
    }
    refuse_set_in_environment(state, &[Setting::StripeWebhookSecret, Setting::StripeWebhookEndpoint])?;
    let (endpoint, secret) = replace_endpoint(state, &state.stripe).await?;
    save(
        state,
        &[
            (Setting::StripeWebhookSecret, &secret),
            (Setting::StripeWebhookEndpoint, &SecretString::from(endpoint.id.clone())),
        ],
    )
    .await?;
    tracing::info!(endpoint = %endpoint.id, "Stripe webhook endpoint created again");
    Ok(endpoint)
}

/// A value the environment sets cannot be replaced from here (it would be
/// saved and never used).
fn refuse_set_in_environment(state: &AppState, settings: &[Setting]) -> Result<(), ConnectError> {
    match settings.iter().find(|s| state.config.env_has(**s)) {
        Some(setting) => Err(vault::VaultError::SetInEnvironment(setting.var()).into()),
        None => Ok(()),
    }
}

/// Creates RepoPass's endpoint (exactly the events it acts on) with
/// `stripe`, and deletes the one it made before: that one would keep
/// sending events signed with a secret no longer kept. The new endpoint and
/// its signing secret.
async fn replace_endpoint(state: &AppState, stripe: &Stripe) -> Result<(Endpoint, SecretString), ConnectError> {
    let url = webhook_url(state);
    let created = stripe.create_webhook_endpoint(&url, &STRIPE_EVENTS).await.map_err(|e| match e {
        StripeError::Refused { message, .. } => ConnectError::Endpoint(message),
        other => other.into(),
    })?;
    if let Some(old) = state.config.stripe.webhook_endpoint.as_deref().filter(|old| *old != created.id) {
        if let Err(e) = stripe.delete_webhook_endpoint(old).await {
            tracing::warn!(endpoint = old, error = %e, "could not delete RepoPass's previous webhook endpoint; delete it in Stripe");
        }
    }
    let endpoint = Endpoint {
        id: created.id,
        url,
        enabled_events: STRIPE_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        enabled: true,
    };
    Ok((endpoint, created.secret))
}

async fn save(state: &AppState, values: &[(Setting, &SecretString)]) -> Result<(), ConnectError> {
    let vault = Vault::open_or_create(&state.config)?;
    vault::save(&state.db, &vault, &state.config, values).await?;
    state.control.request(crate::state::Next::Reload);
    Ok(())
}

/// How the endpoint RepoPass relies on looks in Stripe now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointHealth {
    Fine(Endpoint),
    /// RepoPass made one, and it is gone.
    Deleted {
        id: String,
    },
    /// It exists but sends elsewhere, or not every event, or is disabled.
    Wrong {
        endpoint: Endpoint,
        problems: Vec<String>,
    },
    /// No endpoint of this account sends to RepoPass.
    NoneFound,
}

/// Looks the endpoint up: by the id RepoPass saved, or among the
/// account's endpoints by URL (a deployment that set STRIPE_WEBHOOK_SECRET by hand).
pub async fn endpoint_health(state: &AppState) -> Result<EndpointHealth, StripeError> {
    let url = webhook_url(state);
    let found = match &state.config.stripe.webhook_endpoint {
        Some(id) => match state.stripe.webhook_endpoint(id).await? {
            Some(e) => e,
            None => return Ok(EndpointHealth::Deleted { id: id.clone() }),
        },
        None => match state.stripe.webhook_endpoints().await?.into_iter().find(|e| e.url == url) {
            Some(e) => e,
            None => return Ok(EndpointHealth::NoneFound),
        },
    };
    let mut problems = Vec::new();
    if found.url != url {
        problems.push(format!("it sends to {}, not {url}", found.url));
    }
    if !found.enabled {
        problems.push("it is disabled".to_owned());
    }
    let all = found.enabled_events.iter().any(|e| e == "*");
    let missing: Vec<&str> =
        STRIPE_EVENTS.iter().copied().filter(|e| !all && !found.enabled_events.iter().any(|x| x == e)).collect();
    if !missing.is_empty() {
        problems.push(format!("it does not send {}", missing.join(", ")));
    }
    Ok(if problems.is_empty() {
        EndpointHealth::Fine(found)
    } else {
        EndpointHealth::Wrong { endpoint: found, problems }
    })
}
