//! The webhook entry points fed arbitrary bytes and headers (proptest, in
//! place of a `cargo fuzz` target: it runs in the ordinary test suite, on
//! stable Rust). Properties: no input makes them panic; nothing is accepted
//! without a valid signature; a valid signature over anything that is not
//! an event is refused as unreadable, not accepted; changing any byte of a
//! signed delivery makes it refused.

use hmac::{Hmac, Mac};
use proptest::prelude::*;
use secrecy::SecretString;
use server::webhooks::{verify_github, verify_stripe, Refused};
use sha2::Sha256;

const SECRET: &str = "whsec_fuzz";

fn hmac_hex(payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// `Stripe-Signature` as Stripe computes it: HMAC of `t.payload`.
fn stripe_header(t: i64, payload: &[u8]) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(payload);
    format!("t={t},v1={}", hmac_hex(&signed))
}

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

/// Headers shaped like the real ones more often than pure noise would be.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "t=[0-9]{0,12},v1=[0-9a-f]{0,70}",
        "t=[0-9]{10},v1=[0-9a-f]{64}(,v0=[0-9a-f]{64})?",
        "sha256=[0-9a-f]{0,70}",
        "[a-z0-9=,]{0,40}",
    ]
}

/// Bodies: noise, JSON-ish text, and events with odd fields.
fn body_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        any::<String>().prop_map(String::into_bytes),
        ("[a-z_.]{0,30}", "[a-zA-Z0-9_]{0,20}", any::<i64>()).prop_map(|(kind, id, n)| {
            format!(
                r#"{{"id":"{id}","object":"event","type":"{kind}","created":{n},"data":{{"object":{{"id":{n}}}}}}}"#
            )
            .into_bytes()
        }),
        Just(b"{}".to_vec()),
        Just(b"[]".to_vec()),
        Just(b"null".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn stripe_accepts_nothing_unsigned(body in body_like(), header in header_like()) {
        let verdict = verify_stripe(Some(&secret()), &body, Some(&header));
        prop_assert!(verdict.is_err(), "accepted {:?} with {header}", String::from_utf8_lossy(&body));
    }

    #[test]
    fn github_accepts_nothing_unsigned(body in body_like(), header in header_like(), delivery in any::<Option<String>>(), event in any::<Option<String>>()) {
        let verdict = verify_github(Some(&secret()), &body, Some(&header), delivery.as_deref(), event.as_deref());
        prop_assert!(verdict.is_err());
    }

    /// Signed correctly: accepted exactly when it is an event we can read.
    #[test]
    fn stripe_signed_bodies_are_read_or_refused_as_unreadable(body in body_like()) {
        let header = stripe_header(now(), &body);
        match verify_stripe(Some(&secret()), &body, Some(&header)) {
            Ok(delivery) => {
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
                prop_assert_eq!(value["id"].as_str(), Some(delivery.event_id.as_str()));
                prop_assert_eq!(value["type"].as_str(), Some(delivery.event_type.as_str()));
                prop_assert_eq!(delivery.payload.as_bytes(), &body[..], "stored as received");
            }
            Err(why) => prop_assert!(matches!(why, Refused::Unreadable(_)), "{why}"),
        }
    }

    #[test]
    fn github_signed_bodies_are_read_or_refused_as_unreadable(body in body_like(), delivery in "[a-f0-9-]{1,36}", event in "[a-z_]{1,20}") {
        let header = format!("sha256={}", hmac_hex(&body));
        match verify_github(Some(&secret()), &body, Some(&header), Some(&delivery), Some(&event)) {
            Ok(d) => {
                prop_assert_eq!(d.payload.as_bytes(), &body[..]);
                prop_assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
            }
            Err(why) => prop_assert!(matches!(why, Refused::Unreadable(_)), "{why}"),
        }
    }

    /// One byte changed anywhere in a signed delivery: refused.
    #[test]
    fn any_tampering_is_refused(id in "evt_[a-zA-Z0-9]{1,24}", at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let body = format!(r#"{{"id":"{id}","object":"event","type":"charge.refunded","data":{{"object":{{"id":"ch_1","amount":900}}}}}}"#).into_bytes();
        let header = stripe_header(now(), &body);
        prop_assert!(verify_stripe(Some(&secret()), &body, Some(&header)).is_ok());
        let mut tampered = body.clone();
        let i = at.index(tampered.len());
        tampered[i] ^= flip;
        prop_assert!(verify_stripe(Some(&secret()), &tampered, Some(&header)).is_err());
        let github = format!("sha256={}", hmac_hex(&body));
        prop_assert!(verify_github(Some(&secret()), &tampered, Some(&github), Some("d"), Some("member")).is_err());
        let mut bad_header = header.clone().into_bytes();
        let j = at.index(bad_header.len());
        bad_header[j] ^= flip;
        // A changed timestamp or signature digit is refused. (Upper-casing a
        // hex digit is the same signature: not a change.)
        if let Ok(bad_header) = String::from_utf8(bad_header).ok().filter(|h| !h.eq_ignore_ascii_case(&header)).ok_or(()) {
            prop_assert!(verify_stripe(Some(&secret()), &body, Some(&bad_header)).is_err());
        }
    }

    /// Replays: a good signature from more than five minutes ago is refused.
    #[test]
    fn stale_signatures_are_refused(age in 301i64..10_000_000) {
        let body = br#"{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{}}}"#;
        let header = stripe_header(now() - age, body);
        prop_assert_eq!(verify_stripe(Some(&secret()), body, Some(&header)).unwrap_err(), Refused::StaleTimestamp);
    }
}
