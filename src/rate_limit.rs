//! Per-IP rate limits on public endpoints that cost something (a Stripe
//! session, a GitHub lookup): `REPOPASS_RATE_LIMIT` requests a minute per
//! endpoint and address (default 100). Past it: 429 with `Retry-After` and a
//! message the buy form shows as it is. governor's GCRA refills smoothly, so
//! a burst uses the minute's budget and then one request frees up at a time.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// One limiter per limited endpoint.
#[derive(Clone)]
pub struct Limits {
    per_path: Arc<Vec<(&'static str, DefaultKeyedRateLimiter<IpAddr>)>>,
}

/// The endpoints limited here (issue 9 extends the list).
const LIMITED: [&str; 3] = ["/api/checkout", "/api/buy/check-username", "/api/account/email-link"];

impl Limits {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        Limits { per_path: Arc::new(LIMITED.iter().map(|p| (*p, RateLimiter::keyed(quota))).collect()) }
    }
}

pub async fn limit(State(limits): State<Limits>, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, request: Request, next: Next) -> Response {
    let Some((_, limiter)) = limits.per_path.iter().find(|(path, _)| *path == request.uri().path()) else {
        return next.run(request).await;
    };
    match limiter.check_key(&peer.ip()) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now()).as_secs().max(1);
            too_many(wait)
        }
    }
}

fn too_many(wait: u64) -> Response {
    let message = format!("Too many attempts from your network: wait {wait} seconds and try again.");
    // The server functions' error shape, so the form shows the message.
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
    pub fn spawn_janitor(&self) {
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                for (_, limiter) in limits.per_path.iter() {
                    limiter.retain_recent();
                }
            }
        });
    }
}
