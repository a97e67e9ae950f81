//! Webhooks in: verified, stored raw with a job to process them, in one
//! transaction, before the sender hears 2xx. A delivery seen before is
//! acknowledged and not processed again.

use secrecy::SecretString;
use serde_json::Value;

use crate::{
    clock,
    domain::{EventStatus, Provider},
    jobs::{self, Job},
    signatures,
    stripe::SignatureRefused,
    Db, Result,
};

/// The most either provider sends (Stripe and GitHub stay far below).
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No signature header, or not in the provider's format.
    MissingSignature,
    BadSignature,
    /// Signed more than five minutes away from now (a replay, or a bad clock).
    StaleTimestamp,
    /// Signed correctly but not an event we can read.
    Unreadable(String),
    NotConfigured,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::MissingSignature => write!(f, "missing or malformed signature header"),
            Refused::BadSignature => write!(f, "signature does not match"),
            Refused::StaleTimestamp => write!(f, "signature timestamp outside the five-minute tolerance"),
            Refused::Unreadable(why) => write!(f, "not a readable event: {why}"),
            Refused::NotConfigured => write!(f, "no webhook secret configured"),
        }
    }
}

impl Refused {
    /// Refused for its signature, as a rotated secret makes a provider's
    /// deliveries fail (counted for the alert; a request with no signature
    /// at all is not the provider's and is not counted).
    pub fn is_signature_failure(&self) -> bool {
        matches!(self, Refused::BadSignature | Refused::StaleTimestamp)
    }
}

/// Counts a delivery refused for its signature, one row per provider and
/// hour (bounded however much is posted), for `alert_checks`.
pub async fn record_refusal(db: &Db, provider: Provider, why: &Refused) -> Result<()> {
    let now = clock::now();
    sqlx::query(
        "INSERT INTO webhook_refusals (provider, hour, refused, last_at, last_reason, seen_event_id)
         VALUES ($1, $2, 1, $3, $4, (SELECT COALESCE(MAX(id), 0) FROM webhook_events))
         ON CONFLICT (provider, hour) DO UPDATE SET refused = webhook_refusals.refused + 1,
         last_at = excluded.last_at, last_reason = excluded.last_reason, seen_event_id = excluded.seen_event_id",
    )
    .bind(provider)
    .bind(now.div_euclid(3600))
    .bind(now)
    .bind(why.to_string())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A verified delivery, ready to store.
#[derive(Debug)]
pub struct Delivery {
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
}

/// Checks `Stripe-Signature` (HMAC-SHA256 over `timestamp.payload`, five
/// minutes' tolerance: `stripe::verify_signature`).
pub fn verify_stripe(secret: Option<&SecretString>, payload: &[u8], header: Option<&str>) -> Result<Delivery, Refused> {
    let secret = secret.ok_or(Refused::NotConfigured)?;
    let header = header.ok_or(Refused::MissingSignature)?;
    let text = std::str::from_utf8(payload).map_err(|_| Refused::Unreadable("not UTF-8".into()))?;
    crate::stripe::verify_signature(secret, text, header).map_err(|refused| match refused {
        SignatureRefused::StaleTimestamp => Refused::StaleTimestamp,
        SignatureRefused::BadSignature => Refused::BadSignature,
        SignatureRefused::Missing => Refused::MissingSignature,
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let (Some(id), Some(kind)) = (value["id"].as_str(), value["type"].as_str()) else {
        return Err(Refused::Unreadable("no id or type".into()));
    };
    Ok(Delivery {
        provider: Provider::Stripe,
        event_id: id.to_owned(),
        event_type: kind.to_owned(),
        payload: text.to_owned(),
    })
}

/// Checks `X-Hub-Signature-256`; the delivery id and event name come from
/// `X-GitHub-Delivery` and `X-GitHub-Event`.
pub fn verify_github(
    secret: Option<&SecretString>,
    payload: &[u8],
    signature: Option<&str>,
    delivery: Option<&str>,
    event: Option<&str>,
) -> Result<Delivery, Refused> {
    let secret = secret.ok_or(Refused::NotConfigured)?;
    let signature = signature.ok_or(Refused::MissingSignature)?;
    if !signatures::verify_github(secret, payload, signature) {
        return Err(Refused::BadSignature);
    }
    let text = std::str::from_utf8(payload).map_err(|_| Refused::Unreadable("not UTF-8".into()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let (Some(delivery), Some(event)) = (delivery, event) else {
        return Err(Refused::Unreadable("missing X-GitHub-Delivery or X-GitHub-Event".into()));
    };
    let action = value["action"].as_str().map(|a| format!(".{a}")).unwrap_or_default();
    Ok(Delivery {
        provider: Provider::Github,
        event_id: delivery.to_owned(),
        event_type: format!("{event}{action}"),
        payload: text.to_owned(),
    })
}

/// Stores the delivery and its job in one transaction. False: seen before.
/// `ignored`: the event handlers do not act on this type (why); it is stored
/// as ignored, without a job, so it delays nothing that matters.
pub async fn store(db: &Db, delivery: &Delivery, ignored: Option<String>) -> Result<bool> {
    let stored = store_all(db, &[(delivery, ignored.as_deref())]).await?;
    Ok(stored.first().copied().unwrap_or(false))
}

/// Most deliveries written by one `store_all` (two statements of at most
/// nine values a row: far under either database's limit on bind values).
pub const MOST_AT_ONCE: usize = 128;

/// Stores deliveries and their jobs in one transaction of two statements,
/// whatever their number (up to `MOST_AT_ONCE`); for each, in order, whether
/// it was new (false: seen before, in an earlier call or earlier in this one).
pub async fn store_all(db: &Db, deliveries: &[(&Delivery, Option<&str>)]) -> Result<Vec<bool>> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    debug_assert!(deliveries.len() <= MOST_AT_ONCE);
    let now = clock::now();
    let rows: Vec<String> = (0..deliveries.len())
        .map(|i| {
            let b = i * 9;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            )
        })
        .collect();
    // No conflict target: either unique index (event id, or body) makes it a
    // duplicate, and a duplicate inside the same statement is skipped too.
    let sql = format!(
        "INSERT INTO webhook_events (provider, event_id, event_type, payload, status, error, attempts, received_at, processed_at, payload_sha256)
         VALUES {} ON CONFLICT DO NOTHING RETURNING id, provider, event_id",
        rows.join(", ")
    );
    let mut insert = sqlx::query_as::<_, (i64, Provider, String)>(&sql);
    for (delivery, ignored) in deliveries {
        // GitHub's signature covers the body alone, so a body seen before is a
        // replay whatever its delivery id says. (Stripe signs a timestamp too,
        // and its retries keep the event id.)
        let body_hash = (delivery.provider == Provider::Github).then(|| crate::api_keys::hash_key(&delivery.payload));
        insert = insert
            .bind(delivery.provider)
            .bind(delivery.event_id.as_str())
            .bind(delivery.event_type.as_str())
            .bind(delivery.payload.as_str())
            .bind(if ignored.is_some() { EventStatus::Ignored } else { EventStatus::Received })
            .bind(*ignored)
            .bind(now)
            .bind(ignored.map(|_| now))
            .bind(body_hash);
    }
    let _turn = db.write_turn().await;
    let mut tx = db.pool().begin().await?;
    let inserted = insert.fetch_all(&mut *tx).await?;
    // The rows come back in no promised order: each id goes to the first
    // delivery of its provider and event id (a later one was a duplicate).
    let mut ids: Vec<Option<i64>> = vec![None; deliveries.len()];
    for (id, provider, event_id) in inserted {
        if let Some(i) = (0..deliveries.len())
            .find(|&i| ids[i].is_none() && deliveries[i].0.provider == provider && deliveries[i].0.event_id == event_id)
        {
            ids[i] = Some(id);
        }
    }
    let to_run: Vec<(Job, Option<String>)> = deliveries
        .iter()
        .zip(&ids)
        .filter_map(|((delivery, ignored), id)| {
            let id = (*id)?;
            ignored.is_none().then(|| {
                let job = match delivery.provider {
                    Provider::Stripe => Job::StripeEvent { webhook_event_id: id },
                    Provider::Github => Job::GithubEvent { webhook_event_id: id },
                };
                (job, Some(format!("webhook:{id}")))
            })
        })
        .collect();
    jobs::enqueue_all(&mut *tx, &to_run, now).await?;
    tx.commit().await?;
    Ok(ids.iter().map(Option::is_some).collect())
}

/// The stored delivery a job points at.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
}

pub async fn get(db: &Db, id: i64) -> Result<Stored> {
    Ok(sqlx::query_as("SELECT id, provider, event_id, event_type, payload FROM webhook_events WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?)
}

/// Records how processing went: `processed`, `ignored` (nothing to do),
/// `failed` (will be retried) or `dead`.
pub async fn mark(db: &Db, id: i64, status: EventStatus, error: Option<&str>) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query(
        "UPDATE webhook_events SET status = $2, error = $3, attempts = attempts + 1, processed_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A delivery as the events page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    pub status: EventStatus,
    pub error: Option<String>,
    pub attempts: i64,
    pub received_at: i64,
    pub processed_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub provider: Option<Provider>,
    pub status: Option<EventStatus>,
    /// Prefix of the event type (`invoice.` or `invoice.paid`).
    pub event_type: Option<String>,
}

/// Deliveries, newest first, `per_page` from page `page` (from 1); with the total.
pub async fn list(db: &Db, filter: &EventFilter, page: i64, per_page: i64) -> Result<(Vec<Listed>, i64)> {
    let page = page.max(1);
    let per_page = per_page.clamp(1, 100);
    // Absent filters bind '' and match everything.
    let where_sql = "WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR event_type LIKE $3)";
    let kind = filter
        .event_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("{}%", t.replace(['%', '_'], "")))
        .unwrap_or_default();
    let binds = (
        filter.provider.map(Provider::as_str).unwrap_or_default(),
        filter.status.map(EventStatus::as_str).unwrap_or_default(),
        kind,
    );
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM webhook_events {where_sql}"))
        .bind(binds.0)
        .bind(binds.1)
        .bind(&binds.2)
        .fetch_one(db.pool())
        .await?;
    let items = sqlx::query_as(&format!(
        "SELECT id, provider, event_id, event_type, status, error, attempts, received_at, processed_at FROM webhook_events {where_sql}
         ORDER BY id DESC LIMIT {per_page} OFFSET {}",
        (page - 1) * per_page
    ))
    .bind(binds.0)
    .bind(binds.1)
    .bind(&binds.2)
    .fetch_all(db.pool())
    .await?;
    Ok((items, total))
}

/// One delivery with its payload pretty-printed (as received if it is not JSON).
pub async fn detail(db: &Db, id: i64) -> Result<(Listed, String)> {
    let listed: Option<Listed> = sqlx::query_as("SELECT id, provider, event_id, event_type, status, error, attempts, received_at, processed_at FROM webhook_events WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let listed = listed.ok_or(crate::Error::NotFound)?;
    let raw = get(db, id).await?.payload;
    let pretty = serde_json::from_str::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(raw);
    Ok((listed, pretty))
}

/// A filter's provider and status as typed (empty: all), refused with the
/// choices if unknown.
pub fn parse_filter(provider: Option<&str>, status: Option<&str>) -> Result<(Option<Provider>, Option<EventStatus>)> {
    let given = |raw: Option<&str>| raw.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let provider = match given(provider) {
        None => None,
        Some(p) => Some(p.parse().map_err(|_| crate::Error::invalid("provider", "choose stripe or github"))?),
    };
    let status = match given(status) {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| {
            let all: Vec<&str> = EventStatus::ALL.iter().map(|s| s.as_str()).collect();
            crate::Error::invalid("status", format!("choose one of {}", all.join(", ")))
        })?),
    };
    Ok((provider, status))
}
