//! How a creator's tools know an outgoing webhook came from RepoPass
//! (issue 23): Standard Webhooks signatures (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), made
//! by the specification's own `standardwebhooks` crate so that any of its
//! ready-made verifiers accepts them.
//!
//! While a secret is being rotated both secrets sign: the header carries one
//! `v1,` signature per secret, separated by a space, and a receiver holding
//! either one accepts the delivery.

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Standard Webhooks' secret prefix.
const PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks 24 to 64).
const SECRET_BYTES: usize = 32;
/// The fewest key bytes a secret may have.
const MIN_SECRET_BYTES: usize = 24;

/// An endpoint's signing secret, `whsec_` and the key in base64. Shown to
/// the creator once, when made; never in logs or `Debug` output.
#[derive(Clone)]
pub struct SigningSecret(SecretString);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(whsec_…)")
    }
}

/// A secret that is not `whsec_` and base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signing secret is \"whsec_\" followed by base64 (as RepoPass shows it when the endpoint is made)")]
pub struct MalformedSecret;

impl SigningSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut key = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut key);
        SigningSecret(SecretString::from(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(key))))
    }

    /// A secret as stored (or pasted), checked to be one.
    pub fn parse(text: &str) -> Result<Self, MalformedSecret> {
        let key = text.strip_prefix(PREFIX).ok_or(MalformedSecret)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| MalformedSecret)?;
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(MalformedSecret);
        }
        Ok(SigningSecret(SecretString::from(text.to_owned())))
    }

    /// The secret itself: to show once, or to store sealed.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The three headers a delivery carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// The same for every attempt of one delivery: receivers deduplicate by it.
    pub id: String,
    /// Seconds since the epoch, on the real clock (a receiver rejects
    /// timestamps more than five minutes from its own).
    pub timestamp: i64,
    /// One `v1,<signature>` per secret, space-separated.
    pub signature: String,
}

impl SignedHeaders {
    /// As (name, value) pairs, in the specification's header names.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            (standardwebhooks::HEADER_WEBHOOK_ID, self.id.clone()),
            (standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, self.timestamp.to_string()),
            (standardwebhooks::HEADER_WEBHOOK_SIGNATURE, self.signature.clone()),
        ]
    }
}

/// Signs `body` (UTF-8 JSON) for delivery `id` at `timestamp` with each of
/// `secrets` (the current one, and the previous one while a rotation
/// overlaps).
pub fn sign(id: &str, timestamp: i64, body: &str, secrets: &[&SigningSecret]) -> SignedHeaders {
    let signature = secrets
        .iter()
        .filter_map(|secret| {
            // A `SigningSecret` is always well-formed and a `&str` always
            // UTF-8, the two things the crate checks.
            let webhook = standardwebhooks::Webhook::new(secret.expose()).ok()?;
            webhook.sign(id, timestamp, body.as_bytes()).ok()
        })
        .collect::<Vec<_>>()
        .join(" ");
    SignedHeaders { id: id.to_owned(), timestamp, signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(signed: &SignedHeaders) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    #[test]
    fn a_receiver_holding_either_secret_accepts_and_a_changed_body_is_refused() {
        let (old, new) = (SigningSecret::generate(), SigningSecret::generate());
        let body = r#"{"type":"purchase.paid","data":{"purchase_id":"pur_1"}}"#;
        let signed = sign("msg_2Lf3", now(), body, &[&new, &old]);
        assert_eq!(signed.signature.split(' ').count(), 2, "{}", signed.signature);
        assert!(signed.signature.split(' ').all(|s| s.starts_with("v1,")));

        for secret in [&old, &new] {
            let receiver = standardwebhooks::Webhook::new(secret.expose()).unwrap();
            receiver.verify(body.as_bytes(), &headers(&signed)).expect("either secret verifies");
            let changed = body.replace("pur_1", "pur_2");
            assert!(receiver.verify(changed.as_bytes(), &headers(&signed)).is_err(), "a changed body");
        }
        let stranger = standardwebhooks::Webhook::new(SigningSecret::generate().expose()).unwrap();
        assert!(stranger.verify(body.as_bytes(), &headers(&signed)).is_err(), "another secret");

        // The id is part of what is signed: a replay under another id fails.
        let mut replayed = headers(&signed);
        replayed.insert("webhook-id", "msg_other".parse().unwrap());
        let receiver = standardwebhooks::Webhook::new(new.expose()).unwrap();
        assert!(receiver.verify(body.as_bytes(), &replayed).is_err());
    }

    #[test]
    fn secrets_are_well_formed_distinct_and_never_shown_by_debug() {
        let (a, b) = (SigningSecret::generate(), SigningSecret::generate());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(SigningSecret::parse(a.expose()).unwrap().expose(), a.expose());
        assert!(!format!("{a:?}").contains(&a.expose()["whsec_".len()..]));
        assert_eq!(SigningSecret::parse("whsec_not base64!").unwrap_err(), MalformedSecret);
        assert_eq!(SigningSecret::parse("c2hvcnQ=").unwrap_err(), MalformedSecret, "no prefix");
        assert_eq!(SigningSecret::parse("whsec_c2hvcnQ=").unwrap_err(), MalformedSecret, "too short a key");
    }
}
