//! Stripe through async-stripe: one client, built once at start-up and
//! pointed at `STRIPE_API_BASE` (the sandbox in zero-config mode and tests).

use secrecy::ExposeSecret;
use stripe::StripeError;

use crate::Config;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("Stripe is not configured: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither, for the sandbox)")]
    NotConfigured,
    /// Stripe refused the request; `message` is Stripe's own explanation.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("could not reach Stripe: {0}")]
    Transport(String),
}

impl From<StripeError> for PaymentsError {
    fn from(err: StripeError) -> Self {
        match err {
            StripeError::Stripe(api, status) => PaymentsError::Refused {
                status,
                message: api.message.clone().unwrap_or_else(|| format!("{:?}", api.type_)),
            },
            other => PaymentsError::Transport(other.to_string()),
        }
    }
}

impl From<PaymentsError> for crate::Error {
    fn from(err: PaymentsError) -> Self {
        match err {
            // Stripe's 4xx messages say what to change (e.g. an amount below
            // the currency's minimum); the creator can act on them.
            PaymentsError::Refused { status, message } if (400..500).contains(&status) && status != 401 => {
                crate::Error::invalid("stripe", format!("Stripe refused this: {message}"))
            }
            PaymentsError::Transport(cause) => {
                tracing::warn!(%cause, "Stripe unreachable");
                crate::Error::Unavailable("Stripe could not be reached just now; try again in a minute".into())
            }
            other => crate::Error::Internal(other.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct Payments {
    client: Option<stripe::Client>,
}

// The client holds the secret key: keep it out of Debug output entirely.
impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").field("configured", &self.client.is_some()).finish()
    }
}

impl Payments {
    pub fn from_config(config: &Config) -> Result<Self, PaymentsError> {
        let Some(key) = config.stripe_secret_key.as_ref() else {
            return Ok(Payments { client: None });
        };
        // A stuck connection must end in an error the worker retries, not a
        // request that waits forever.
        let mut builder = stripe::ClientBuilder::new(key.expose_secret()).timeout(std::time::Duration::from_secs(30));
        if let Some(base) = &config.stripe_api_base {
            // async-stripe appends `v1/...` to the base as given: keep its trailing slash.
            builder = builder.url(base.as_str());
        }
        let client = builder.build().map_err(|e| PaymentsError::Transport(e.to_string()))?;
        Ok(Payments { client: Some(client) })
    }

    pub fn client(&self) -> Result<&stripe::Client, PaymentsError> {
        self.client.as_ref().ok_or(PaymentsError::NotConfigured)
    }
}
