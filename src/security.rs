//! What every request and response goes through on the browser side:
//!
//! - **Same origin** for state-changing requests (anything but GET, HEAD,
//!   OPTIONS), on top of `SameSite=Lax` cookies: a browser says where a
//!   request comes from (`Sec-Fetch-Site`, else `Origin`); another site's
//!   page is refused with 403 before any handler runs. Requests without
//!   either header are not from a browser page (curl, API clients), so a
//!   cross-site forgery cannot be one of them. Webhooks are exempt: they
//!   come from Stripe's and GitHub's servers and are authenticated by their
//!   signature.
//! - **Body limits**: every body is read up to a limit chosen by path
//!   (`body_limit`) before the handler sees it; more is a 413 with a
//!   message, whether or not the client declared a length. (The cover
//!   upload limits its own stream, to answer on the form.)
//! - **Headers**: a Content-Security-Policy on every response (pages get
//!   theirs, with the per-response nonce of Leptos's hydration script, from
//!   `app::csp`; anything else a strict one), `nosniff`, a referrer policy,
//!   frame denial and, when `PUBLIC_URL` is https, HSTS.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Server functions, forms and the REST API: far more than any of them needs.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

#[derive(Clone)]
pub struct Guard {
    /// `scheme://host[:port]` of `PUBLIC_URL`.
    origin: Arc<str>,
    https: bool,
    forms: Arc<app::csp::FormTargets>,
}

impl Guard {
    pub fn new(public_url: &url::Url, forms: app::csp::FormTargets) -> Self {
        Guard {
            origin: public_url.origin().ascii_serialization().into(),
            https: public_url.scheme() == "https",
            forms: Arc::new(forms),
        }
    }
}

/// Outermost: every response, refusals included, carries the headers.
pub async fn headers(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    with_headers(&guard, &path, response)
}

/// Inside the rate limit (a limited request costs nothing more): origin
/// and body checks.
pub async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes_state {
        return next.run(request).await;
    }
    let path = request.uri().path();
    // GitHub's "new App" page takes the manifest from the creator's own
    // site, cross-site by design; the sandbox's stand-in (sandbox mode only) does too.
    let cross_site_by_design = path.starts_with("/sandbox/github/") && path.ends_with("/settings/apps/new");
    if !path.starts_with("/api/webhooks/") && !cross_site_by_design {
        if let Err(from) = same_origin(&guard.origin, request.headers()) {
            tracing::warn!(path, from = %from, "cross-site request refused");
            let message = format!(
                "Refused: this request came from another site ({from}). Use RepoPass's own pages at {}.",
                guard.origin
            );
            return (StatusCode::FORBIDDEN, message).into_response();
        }
        // Every browser that sends cookies sends one of the two; a request
        // with our session cookie and neither is not from our pages (an old
        // or odd client, or a forgery path we do not know of): refuse it.
        // API clients authenticate with a key, not a cookie.
        if carries_session(request.headers()) && !says_where_from(request.headers()) {
            tracing::warn!(
                path,
                "state-changing request with a session cookie but neither Sec-Fetch-Site nor Origin refused"
            );
            let message = format!("Refused: a signed-in request must come from RepoPass's own pages at {} (the browser did not say where it came from).", guard.origin);
            return (StatusCode::FORBIDDEN, message).into_response();
        }
    }
    match limit_body(request).await {
        Ok(request) => next.run(request).await,
        Err(refused) => refused,
    }
}

fn carries_session(headers: &HeaderMap) -> bool {
    let ours =
        |cookie: &str| cookie.trim().strip_prefix(crate::sessions::COOKIE).is_some_and(|rest| rest.starts_with('='));
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).any(ours)
}

fn says_where_from(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-site") || headers.contains_key(header::ORIGIN)
}

/// Ok when the browser says the request comes from our own pages (or from
/// no page at all); Err names where it came from.
pub fn same_origin(ours: &str, headers: &HeaderMap) -> Result<(), String> {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    // Sent by every current browser, computed by the browser itself.
    match get("sec-fetch-site") {
        Some("same-origin" | "none") => return Ok(()),
        Some(other) => return Err(format!("Sec-Fetch-Site: {other}")),
        None => {}
    }
    let Some(origin) = get(header::ORIGIN.as_str()) else { return Ok(()) };
    if origin == ours {
        return Ok(());
    }
    // Behind a proxy PUBLIC_URL may differ from the address the browser
    // used; the Host header is set by the browser too, so an Origin naming
    // the same host is still our own page.
    let host = get(header::HOST.as_str());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => Ok(()),
        _ => Err(format!("Origin: {origin}")),
    }
}

/// How many bytes a request to `path` may carry; None where the route
/// limits its own body (the cover upload reads its multipart stream up to
/// 2 MB and answers on the form that sent it).
pub fn body_limit(path: &str) -> Option<usize> {
    if path.starts_with("/admin/repositories/") && path.ends_with("/cover") {
        None
    } else if path.starts_with("/api/webhooks/") {
        Some(server::webhooks::MAX_BODY)
    } else {
        Some(DEFAULT_BODY_LIMIT)
    }
}

async fn limit_body(request: Request) -> Result<Request, Response> {
    let Some(limit) = body_limit(request.uri().path()) else { return Ok(request) };
    let too_large = || {
        let message =
            format!("Request body too large: at most {} KB is accepted here. Send less and try again.", limit / 1024);
        (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Read it here, so that an undeclared length over the limit is a 413
    // too, not an error inside whichever handler reads it.
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Err(_) => Err(too_large()),
    }
}

fn with_headers(guard: &Guard, path: &str, mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let is_html =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
        // The sandbox's own pages (development only) use a few inline styles.
        let sandbox = path == "/sandbox" || path.starts_with("/sandbox/");
        let policy = if sandbox && is_html {
            app::csp::SANDBOX_POLICY.to_owned()
        } else if is_html {
            app::csp::page_policy(None, &guard.forms)
        } else {
            app::csp::NOTHING_POLICY.to_owned()
        };
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Sign-in links carry their token in the URL: never pass it on.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if guard.https {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn same_origin_follows_what_the_browser_says() {
        let ours = "https://shop.example";
        assert!(same_origin(ours, &headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(ours, &headers(&[("sec-fetch-site", "none")])).is_ok());
        assert!(same_origin(ours, &headers(&[("sec-fetch-site", "cross-site"), ("origin", "https://shop.example")]))
            .is_err());
        assert!(same_origin(ours, &headers(&[("sec-fetch-site", "same-site")])).is_err());
        assert!(same_origin(ours, &headers(&[("origin", "https://shop.example")])).is_ok());
        assert!(same_origin(ours, &headers(&[("origin", "https://evil.example"), ("host", "shop.example")])).is_err());
        assert!(same_origin(ours, &headers(&[("origin", "null")])).is_err());
        // Behind a proxy: the browser's Host and Origin agree.
        assert!(same_origin(ours, &headers(&[("origin", "http://10.0.0.5:3000"), ("host", "10.0.0.5:3000")])).is_ok());
        // Not a browser page: nothing to forge.
        assert!(same_origin(ours, &headers(&[])).is_ok());
    }

    #[test]
    fn hsts_only_over_https() {
        let plain = with_headers(
            &Guard::new(&"http://127.0.0.1:3000".parse().unwrap(), Default::default()),
            "/",
            Response::new(Body::empty()),
        );
        assert!(!plain.headers().contains_key(header::STRICT_TRANSPORT_SECURITY));
        let https = with_headers(
            &Guard::new(&"https://shop.example".parse().unwrap(), Default::default()),
            "/healthz",
            Response::new(Body::empty()),
        );
        assert!(https.headers()[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().starts_with("max-age="));
        assert_eq!(https.headers()[header::CONTENT_SECURITY_POLICY], app::csp::NOTHING_POLICY);
        assert_eq!(https.headers()[header::X_FRAME_OPTIONS], "DENY");
    }

    #[test]
    fn limits_by_path() {
        assert_eq!(body_limit("/api/checkout"), Some(DEFAULT_BODY_LIMIT));
        assert_eq!(body_limit("/admin/repositories/3/cover"), None);
        assert_eq!(body_limit("/api/webhooks/stripe"), Some(server::webhooks::MAX_BODY));
    }
}
