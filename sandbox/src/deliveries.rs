//! Webhook deliveries from the sandbox to RepoPass, signed as the real
//! services sign them. Stripe retries failures with backoff (up to 8 tries
//! here); GitHub makes one attempt and leaves redelivery to a person, as the
//! real ones do. Every attempt is logged in `sandbox_deliveries`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use server::clock;
use sha2::Sha256;

use crate::{Error, Sandbox};

const STRIPE_MAX_ATTEMPTS: i64 = 8;
const GITHUB_MAX_ATTEMPTS: i64 = 1;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub target_url: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    /// The endpoint whose secret signs it (none: the built-in one).
    pub endpoint_id: Option<String>,
}

/// To the built-in target, and to each App installed on the repository
/// (with its installation in the payload, as GitHub sends it to Apps).
pub async fn enqueue_github(sb: &Sandbox, event: &str, payload: &Value) -> Result<(), Error> {
    let guid = random_guid();
    enqueue(sb, "github", &guid, event, &sb.webhook_url("github").await?, None, &payload.to_string()).await?;
    let repo = match (payload["repository"]["owner"]["login"].as_str(), payload["repository"]["name"].as_str()) {
        (Some(owner), Some(name)) => sb.gh_repo(owner, name).await?,
        _ => None,
    };
    for (endpoint, url, installation) in crate::github::apps::webhook_targets(sb, repo.as_ref()).await? {
        let mut for_app = payload.clone();
        for_app["installation"] = serde_json::json!({ "id": installation });
        enqueue(sb, "github", &random_guid(), event, &url, Some(&endpoint), &for_app.to_string()).await?;
    }
    Ok(())
}

/// One delivery per webhook endpoint that enabled this event type.
pub async fn enqueue_stripe(sb: &Sandbox, event_id: &str, event_type: &str, payload: &Value) -> Result<(), Error> {
    let payload = payload.to_string();
    for (endpoint, url) in crate::stripe::endpoints::subscribers(sb, event_type).await? {
        enqueue(sb, "stripe", event_id, event_type, &url, Some(&endpoint), &payload).await?;
    }
    Ok(())
}

async fn enqueue(
    sb: &Sandbox,
    provider: &str,
    event_id: &str,
    event_type: &str,
    target: &str,
    endpoint: Option<&str>,
    payload: &str,
) -> Result<(), Error> {
    let now = clock::now();
    sqlx::query(
        "INSERT INTO sandbox_deliveries (provider, event_id, event_type, target_url, payload, next_attempt_at, created_at, endpoint_id)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(provider)
    .bind(event_id)
    .bind(event_type)
    .bind(target)
    .bind(payload)
    .bind(now)
    .bind(endpoint)
    .execute(sb.store().db().pool())
    .await?;
    Ok(())
}

pub async fn list(sb: &Sandbox, limit: i64) -> Result<Vec<Delivery>, Error> {
    Ok(sqlx::query_as::<_, Delivery>("SELECT * FROM sandbox_deliveries ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(sb.store().db().pool())
        .await?)
}

/// Sends it again now (the console's "redeliver").
pub async fn redeliver(sb: &Sandbox, id: i64) -> Result<(), Error> {
    let done = sqlx::query("UPDATE sandbox_deliveries SET status = 'pending', next_attempt_at = $2 WHERE id = $1")
        .bind(id)
        .bind(clock::now())
        .execute(sb.store().db().pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub fn spawn_worker(sb: Sandbox) {
    tokio::spawn(async move {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("an HTTP client");
        loop {
            if let Err(err) = deliver_due(&sb, &http).await {
                tracing::warn!(error = %err, "sandbox webhook delivery");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

/// Delivers what is due; returns how many were attempted.
pub async fn deliver_due(sb: &Sandbox, http: &reqwest::Client) -> Result<usize, Error> {
    let due: Vec<Delivery> = sqlx::query_as(
        "SELECT * FROM sandbox_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT 20",
    )
    .bind(clock::now())
    .fetch_all(sb.store().db().pool())
    .await?;
    for delivery in &due {
        attempt(sb, http, delivery).await?;
    }
    Ok(due.len())
}

async fn attempt(sb: &Sandbox, http: &reqwest::Client, d: &Delivery) -> Result<(), Error> {
    let now = clock::now();
    let mut request = http.post(&d.target_url).header("content-type", "application/json");
    request = match d.provider.as_str() {
        "stripe" => {
            let endpoint = d.endpoint_id.as_deref().unwrap_or(crate::stripe::endpoints::BUILT_IN);
            let Some(secret) = crate::stripe::endpoints::secret(sb, endpoint).await? else {
                // Deleted since: Stripe stops sending to an endpoint that is gone.
                return finish(sb, d, "failed", d.attempts, None, Some("the webhook endpoint was deleted"), now).await;
            };
            request
                .header("user-agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
                .header("stripe-signature", stripe_signature(&SecretString::from(secret), now, &d.payload))
        }
        _ => {
            let request = request
                .header("user-agent", "GitHub-Hookshot/sandbox")
                .header("x-github-event", &d.event_type)
                .header("x-github-delivery", &d.event_id);
            let secret = match d.endpoint_id.as_deref() {
                None => Some(sb.github_webhook_secret().clone()),
                Some(app) => crate::github::apps::webhook_secret(sb, app).await?.map(SecretString::from),
            };
            // GitHub signs only when the hook has a secret.
            match secret {
                Some(secret) => request.header("x-hub-signature-256", github_signature(&secret, &d.payload)),
                None => request,
            }
        }
    };
    let result = request.body(d.payload.clone()).send().await;
    let attempts = d.attempts + 1;
    let (status_code, error) = match result {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16() as i64), None),
        Ok(response) => {
            (Some(response.status().as_u16() as i64), Some(format!("RepoPass answered {}", response.status())))
        }
        Err(err) => (None, Some(format!("could not reach RepoPass: {err}"))),
    };
    let max = if d.provider == "stripe" { STRIPE_MAX_ATTEMPTS } else { GITHUB_MAX_ATTEMPTS };
    let (status, next) = match &error {
        None => ("delivered", now),
        Some(_) if attempts >= max => ("failed", now),
        // Backoff: 2, 4, 8 … seconds (Stripe's real schedule stretches over days).
        Some(_) => ("pending", now + (1_i64 << attempts.min(12))),
    };
    finish(sb, d, status, attempts, status_code, error.as_deref(), next).await
}

async fn finish(
    sb: &Sandbox,
    d: &Delivery,
    status: &str,
    attempts: i64,
    status_code: Option<i64>,
    error: Option<&str>,
    next: i64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE sandbox_deliveries SET status = $2, attempts = $3, last_status = $4, last_error = $5, next_attempt_at = $6,
         delivered_at = CASE WHEN $2 = 'delivered' THEN $7 ELSE delivered_at END WHERE id = $1",
    )
    .bind(d.id)
    .bind(status)
    .bind(attempts)
    .bind(status_code)
    .bind(error)
    .bind(next)
    .bind(clock::now())
    .execute(sb.store().db().pool())
    .await?;
    Ok(())
}

/// `Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of "{t}.{payload}".
pub fn stripe_signature(secret: &SecretString, timestamp: i64, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// `X-Hub-Signature-256: sha256=…`: HMAC-SHA256 of the body.
pub fn github_signature(secret: &SecretString, payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key");
    mac.update(payload.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn random_guid() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{}-{}-{}-{}-{}",
        hex::encode(&b[0..4]),
        hex::encode(&b[4..6]),
        hex::encode(&b[6..8]),
        hex::encode(&b[8..10]),
        hex::encode(&b[10..16])
    )
}
