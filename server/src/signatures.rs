//! Webhook signature checks. GitHub signs the raw body with HMAC-SHA256
//! (`X-Hub-Signature-256: sha256=<hex>`); Stripe's scheme is checked in
//! `stripe::verify_signature`.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// True when `header` is a valid `sha256=…` signature of `body` under `secret`.
/// The comparison is constant-time (`Mac::verify_slice`).
pub fn verify_github(secret: &SecretString, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else { return false };
    let Ok(expected) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signature() {
        // The example from GitHub's documentation on validating deliveries.
        let secret = SecretString::from("It's a Secret to Everybody");
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify_github(&secret, b"Hello, World!", header));
        assert!(!verify_github(&secret, b"Hello, World?", header));
        assert!(!verify_github(&SecretString::from("other"), b"Hello, World!", header));
        assert!(!verify_github(&secret, b"Hello, World!", "sha1=757107ea"));
        assert!(!verify_github(&secret, b"Hello, World!", "sha256=zz"));
    }
}
