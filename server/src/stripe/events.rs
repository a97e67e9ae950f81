//! Stripe's events: the signature on a delivery, and the list RepoPass
//! reads to recover deliveries it missed.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use stripe_core::event::ListEvent;

use super::{Stripe, StripeError};

/// Why a delivery's `Stripe-Signature` was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureRefused {
    /// No header, or not in Stripe's format.
    Missing,
    BadSignature,
    /// Signed more than five minutes away from now.
    StaleTimestamp,
}

/// Checks `Stripe-Signature` with async-stripe's verifier (HMAC-SHA256 over
/// `timestamp.payload`, five minutes' tolerance).
pub fn verify_signature(secret: &SecretString, payload: &str, header: &str) -> Result<(), SignatureRefused> {
    match stripe_webhook::Webhook::construct_event(payload, header, secret.expose_secret()) {
        Ok(_) => Ok(()),
        // The signature was good; async-stripe could not type the object (a
        // newer event shape). Fine: the raw JSON is what RepoPass reads.
        Err(stripe_webhook::WebhookError::BadParse(_)) => Ok(()),
        Err(stripe_webhook::WebhookError::BadTimestamp(_)) => Err(SignatureRefused::StaleTimestamp),
        Err(stripe_webhook::WebhookError::BadSignature) => Err(SignatureRefused::BadSignature),
        Err(_) => Err(SignatureRefused::Missing),
    }
}

/// An event as listed by Stripe, its object as JSON.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub livemode: bool,
    pub object: Value,
}

/// One page of events, oldest last, and whether more follow.
#[derive(Debug, Clone)]
pub struct EventsPage {
    pub events: Vec<Event>,
    pub has_more: bool,
}

impl Stripe {
    /// Events of `types` created since `since`, a hundred at a time, after
    /// the event `starting_after`.
    pub async fn events(
        &self,
        types: &[&str],
        since: i64,
        starting_after: Option<&str>,
    ) -> Result<EventsPage, StripeError> {
        let mut list = ListEvent::new()
            .types(types.iter().map(|t| t.to_string()).collect::<Vec<_>>())
            .limit(100)
            .created(stripe_types::RangeQueryTs::gte(since));
        if let Some(after) = starting_after {
            list = list.starting_after(after.to_owned());
        }
        let page = list.send(self.client()?).await?;
        let events = page
            .data
            .iter()
            .map(|event| Event {
                id: event.id.as_str().to_owned(),
                event_type: event.type_.as_str().to_owned(),
                created: event.created,
                livemode: event.livemode,
                object: serde_json::from_str(&miniserde::json::to_string(&event.data.object)).unwrap_or(Value::Null),
            })
            .collect();
        Ok(EventsPage { events, has_more: page.has_more })
    }
}
