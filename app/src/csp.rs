//! Content-Security-Policy texts. Pages allow scripts from our own origin
//! plus the one inline module script Leptos writes to start hydration,
//! which carries this response's nonce; `wasm-unsafe-eval` lets that
//! script compile the wasm bundle (and allows nothing else). No inline
//! styles: Tailwind's stylesheet is a file.

/// The policy of a server-rendered page; `nonce` is Leptos's for this
/// response (None for HTML that has no inline script at all).
pub fn page_policy(nonce: Option<&str>, forms: &FormTargets) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    // Images: covers are ours; avatars and images in a creator's description
    // may be anywhere on https. Forms: ours, and the redirects they lead to
    // (Stripe Checkout and Billing Portal, GitHub's invitation and sign-in).
    format!(
        "default-src 'self'; {script}; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; frame-ancestors 'none'; \
         form-action 'self' {}",
        forms.0
    )
}

/// The origins forms may lead to besides ours: Stripe's Checkout and
/// Billing Portal and GitHub's web pages — the configured ones, so that a
/// deployment pointed at another Stripe or GitHub (the sandbox run as a
/// separate service, say) keeps working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTargets(pub String);

impl Default for FormTargets {
    fn default() -> Self {
        FormTargets("https://checkout.stripe.com https://billing.stripe.com https://github.com".into())
    }
}

impl FormTargets {
    /// Origins (`scheme://host[:port]`): `stripe_pages` where Stripe's
    /// hosted pages are when not at Stripe (STRIPE_API_BASE's), and
    /// `github_web` (GITHUB_WEB_URL's).
    pub fn new(stripe_pages: Option<&str>, github_web: &str) -> Self {
        let stripe = stripe_pages.unwrap_or("https://checkout.stripe.com https://billing.stripe.com");
        let mut all: Vec<String> = Vec::new();
        for o in stripe.split(' ').chain(std::iter::once(github_web)) {
            if o != "null" && !all.iter().any(|a| a == o) {
                all.push(o.to_owned());
            }
        }
        FormTargets(all.join(" "))
    }
}

/// For anything that is not a page (JSON, images, CSV): nothing may run.
pub const NOTHING_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The sandbox's pages (zero-config and tests only) use inline styles. Their
/// forms lead back to whichever RepoPass uses them (the OAuth page, hosted
/// checkout, the App manifest and installation pages redirect there, as
/// GitHub's and Stripe's do), which may be another address.
pub const SANDBOX_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self' http: https:";
