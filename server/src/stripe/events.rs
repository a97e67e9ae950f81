//! Stripe's events: the signature on a delivery, and the list RepoPass
//! reads to recover deliveries it missed.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;
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

/// How far a signature's timestamp may be from now (Stripe's libraries' default).
pub const TOLERANCE_SECS: i64 = 300;

/// Checks `Stripe-Signature` as Stripe documents it: `t=<unix seconds>` and
/// one or more `v1=<hex>` (several while a secret is rolled), each an
/// HMAC-SHA256 of `"{t}.{payload}"`; one matching candidate is enough,
/// compared in constant time; other schemes (`v0`) are ignored; the
/// timestamp must be within five minutes of now.
///
/// Not async-stripe's `Webhook::construct_event`: that check comes fused to
/// a full typed parse of the event (most of the accept path's time for a
/// Checkout Session), which logs an ERROR of its own for every event shape
/// its generated types do not know and a warning for every event of another
/// API version than the SDK's — while RepoPass stores the raw JSON and
/// reads it itself. The tests check this against async-stripe's verifier.
pub fn verify_signature(secret: &SecretString, payload: &str, header: &str) -> Result<(), SignatureRefused> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for pair in header.split(',') {
        match pair.split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| SignatureRefused::Missing)?),
            Some(("v1", signature)) => candidates.push(signature),
            Some(_) => {}
            None => return Err(SignatureRefused::Missing),
        }
    }
    let Some(timestamp) = timestamp.filter(|_| !candidates.is_empty()) else {
        return Err(SignatureRefused::Missing);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| SignatureRefused::BadSignature)?;
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload.as_bytes());
    let signed = candidates
        .iter()
        .any(|candidate| hex::decode(candidate).is_ok_and(|expected| mac.clone().verify_slice(&expected).is_ok()));
    if !signed {
        return Err(SignatureRefused::BadSignature);
    }
    if (crate::clock::now() - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureRefused::StaleTimestamp);
    }
    Ok(())
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
