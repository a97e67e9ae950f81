//! Every call RepoPass makes to Stripe, through async-stripe: one client,
//! built once at start-up and pointed at `STRIPE_API_BASE` (the sandbox in
//! zero-config mode and tests). Each answer is RepoPass's own type; no
//! module outside this one names an async-stripe type.

mod billing;
mod catalog;
mod checkout;
pub mod connect;
mod events;
mod tax;

pub use billing::{Charge, Proration, Refund, Subscription, SubscriptionState};
pub use catalog::{CustomAmount, NewPrice};
pub use checkout::{NewSession, SeatsOrder, Session, SessionPayment, SessionState};
pub use events::{verify_signature, Event, EventsPage, SignatureRefused};
pub use tax::{TaxBehavior, TaxReadiness};

use secrecy::ExposeSecret;

use crate::Config;

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("Stripe is not configured: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither, for the sandbox)")]
    NotConfigured,
    /// Stripe refused the request; `message` is Stripe's own explanation.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("could not reach Stripe: {0}")]
    Transport(String),
}

impl From<::stripe::StripeError> for StripeError {
    fn from(err: ::stripe::StripeError) -> Self {
        match err {
            ::stripe::StripeError::Stripe(api, status) => StripeError::Refused {
                status,
                message: api.message.clone().unwrap_or_else(|| format!("{:?}", api.type_)),
            },
            other => StripeError::Transport(other.to_string()),
        }
    }
}

impl From<StripeError> for crate::Error {
    fn from(err: StripeError) -> Self {
        match err {
            // Stripe's 4xx messages say what to change (e.g. an amount below
            // the currency's minimum); the creator can act on them.
            StripeError::Refused { status, message } if (400..500).contains(&status) && status != 401 => {
                crate::Error::invalid("stripe", format!("Stripe refused this: {message}"))
            }
            StripeError::Transport(cause) => {
                tracing::warn!(%cause, "Stripe unreachable");
                crate::Error::Unavailable("Stripe could not be reached just now; try again in a minute".into())
            }
            other => crate::Error::Internal(other.to_string()),
        }
    }
}

/// Stripe, as RepoPass uses it. Cheap to clone.
#[derive(Clone)]
pub struct Stripe {
    client: Option<::stripe::Client>,
}

// The client holds the secret key: keep it out of Debug output entirely.
impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("configured", &self.client.is_some()).finish()
    }
}

impl Stripe {
    pub fn from_config(config: &Config) -> Result<Self, StripeError> {
        match config.stripe.secret_key.as_ref() {
            Some(key) => Self::with_key(key, config.stripe.api_base.as_ref()),
            None => Ok(Stripe { client: None }),
        }
    }

    /// A client for `key` (a key being pasted, before it is saved).
    pub fn with_key(key: &secrecy::SecretString, api_base: Option<&url::Url>) -> Result<Self, StripeError> {
        // A stuck connection must end in an error the worker retries, not a
        // request that waits forever.
        let mut builder = ::stripe::ClientBuilder::new(key.expose_secret()).timeout(std::time::Duration::from_secs(30));
        if let Some(base) = api_base {
            // async-stripe appends `v1/...` to the base as given: keep its trailing slash.
            builder = builder.url(base.as_str());
        }
        let client = builder.build().map_err(|e| StripeError::Transport(e.to_string()))?;
        Ok(Stripe { client: Some(client) })
    }

    fn client(&self) -> Result<&::stripe::Client, StripeError> {
        self.client.as_ref().ok_or(StripeError::NotConfigured)
    }
}
