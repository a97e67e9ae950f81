//! Per-client rate limits on every public endpoint: `REPOPASS_RATE_LIMIT`
//! requests a minute per endpoint and client (default 100); a client is its
//! address as the trusted proxies report it (`client_ip`), an IPv6 client
//! its /64. Past it: 429
//! with `Retry-After` and a message forms show as it is. governor's GCRA
//! refills smoothly, so a burst uses the minute's budget and then one
//! request frees up at a time.
//!
//! An endpoint is a server function (its own budget each: they are a fixed
//! set, registered at start) or a group of pages by their first path
//! segment from a fixed list, so the number of budgets per address cannot
//! be grown by inventing paths. Not limited: static files (`/pkg`,
//! `/covers`, `/favicon.ico`: cheap, and a page needs several), the
//! liveness probe `/healthz` (it does no work, and a probe answered 429
//! would get a healthy process restarted), the sandbox (development only),
//! and the webhooks — Stripe delivers bursts
//! from a few addresses and would read a 429 as a failed delivery, and a
//! forged webhook costs one HMAC before it is refused.

use std::{collections::HashSet, net::IpAddr, num::NonZeroU32, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

#[derive(Clone)]
pub struct Limits {
    limiter: Arc<DefaultKeyedRateLimiter<(&'static str, IpAddr)>>,
    server_fns: Arc<HashSet<&'static str>>,
    /// `REPOPASS_TRUSTED_PROXIES` (see `client_ip`).
    trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

/// Page groups with a budget each; any other path counts against "other".
const PAGE_GROUPS: [&str; 9] =
    ["/p", "/admin", "/account", "/auth", "/checkout", "/api/v1", "/readyz", "/metrics", "/"];

impl Limits {
    pub fn new(per_minute: u32, trusted_proxies: Vec<ipnet::IpNet>) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        let server_fns = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
        Limits {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            server_fns: Arc::new(server_fns),
            trusted_proxies: Arc::new(trusted_proxies),
        }
    }

    /// Which budget a request to `path` counts against, if any.
    fn budget(&self, path: &str) -> Option<&'static str> {
        if path.starts_with("/pkg/")
            || path.starts_with("/assets/")
            || path.starts_with("/covers/")
            || path == "/favicon.ico"
            || path == "/healthz"
            || path.starts_with("/sandbox/")
            || path.starts_with("/api/webhooks/")
        {
            return None;
        }
        if let Some(name) = self.server_fns.get(path) {
            return Some(name);
        }
        let first = match path[1.min(path.len())..].find('/') {
            Some(end) => &path[..end + 1],
            None => path,
        };
        let group = if first == "/api" {
            path.strip_prefix("/api/v1").map(|_| "/api/v1")
        } else {
            PAGE_GROUPS.iter().copied().find(|g| *g == first)
        };
        Some(group.unwrap_or("other"))
    }
}

pub async fn limit(
    State(limits): State<Limits>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let Some(budget) = limits.budget(request.uri().path()) else {
        return next.run(request).await;
    };
    let client = crate::client_ip::client_ip(peer.ip(), request.headers(), &limits.trusted_proxies);
    match limits.limiter.check_key(&(budget, crate::client_ip::rate_key(client))) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now()).as_secs().max(1);
            too_many(wait)
        }
    }
}

fn too_many(wait: u64) -> Response {
    let message = format!("Too many requests from your network: wait {wait} seconds and try again.");
    // The server functions' error shape, so a form shows the message.
    let body = serde_json::json!({ "Unavailable": message }).to_string();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl Limits {
    /// Forgets addresses that have not been seen lately, once a minute, so
    /// the limiter's memory does not grow with every visitor ever.
    /// Forgets quiet addresses every minute, until the server stops or reloads.
    pub fn spawn_janitor(&self, control: server::state::Control) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = control.ended() => return,
                }
                limits.limiter.retain_recent();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_a_fixed_set() {
        let limits = Limits::new(100, Vec::new());
        assert_eq!(limits.budget("/pkg/repopass.wasm"), None);
        assert_eq!(limits.budget("/assets/0123456789abcdef/pkg/repopass.wasm"), None);
        assert_eq!(limits.budget("/api/webhooks/stripe"), None);
        assert_eq!(limits.budget("/healthz"), None);
        assert_eq!(limits.budget("/readyz"), Some("/readyz"));
        assert_eq!(limits.budget("/sandbox/stripe/checkout/cs_1"), None);
        assert_eq!(limits.budget("/p/sdk"), Some("/p"));
        assert_eq!(limits.budget("/p/another"), Some("/p"));
        assert_eq!(limits.budget("/"), Some("/"));
        assert_eq!(limits.budget("/admin/customers/7"), Some("/admin"));
        assert_eq!(limits.budget("/api/v1/repositories"), Some("/api/v1"));
        assert_eq!(limits.budget("/made-up-1"), Some("other"));
        assert_eq!(limits.budget("/api/made-up"), Some("other"));
    }
}
