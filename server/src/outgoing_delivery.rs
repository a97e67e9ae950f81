//! Sending outgoing webhooks: one job per attempt, signed by the Standard
//! Webhooks rules (`outgoing_signature`), through the address guard
//! (`outgoing_address`: public addresses only outside the sandbox, 10 s,
//! no redirects). A delivery that is not answered with a 2xx is tried again
//! on `RETRIES` — about three days — and an endpoint that has failed for
//! `FAILURE_WINDOW` is disabled and its creator told by email.
//!
//! Deliveries of one purchase to one endpoint go out in the order their
//! events happened: a later one waits while an earlier one is pending (a
//! `purchase.revoked` never overtakes the `purchase.paid` being retried).
//!
//! Times that decide (a retry's due time, the failure window) are on the
//! clock of dated decisions (`dated_clock`): the sandbox's clock, moved
//! ahead, moves them too.

use std::{sync::OnceLock, time::Instant};

use crate::{
    clock, dated_clock,
    domain::{DeliveryStatus, EmailKind, EndpointFormat, EndpointStatus, WebhookEventType},
    jobs::{self, Job, Outcome},
    outgoing_address::{self, Reach},
    outgoing_endpoints, outgoing_events, outgoing_signature, preferences, AppState, Db, Error, Result,
};

/// Seconds from one failed attempt to the next: 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h, then a day twice — ten attempts over about three days.
pub const RETRIES: [i64; 9] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000, 86_400, 86_400];

/// An endpoint failing this long without a success is disabled.
pub const FAILURE_WINDOW: i64 = 86_400;

/// How much of an answer the delivery log keeps.
const EXCERPT_BYTES: usize = 1024;

#[derive(sqlx::FromRow)]
struct Pending {
    endpoint_id: i64,
    event_id: i64,
    purchase_id: Option<i64>,
    status: DeliveryStatus,
    attempts: i64,
    next_attempt_at: Option<i64>,
    payload: String,
    url: String,
    endpoint_status: EndpointStatus,
    format: EndpointFormat,
}

/// What one request got back.
#[derive(Debug)]
struct Answer {
    status: Option<u16>,
    error: Option<String>,
    excerpt: String,
    duration_ms: i64,
}

impl Answer {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The answer in a few words, for the delivery and the disabling email.
    fn summary(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("answered HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// The `deliver_webhook` job: one attempt at one delivery.
pub async fn attempt(state: &AppState, delivery_id: i64) -> Result<Outcome> {
    let d: Option<Pending> = sqlx::query_as(
        "SELECT d.endpoint_id, d.event_id, d.purchase_id, d.status, d.attempts, d.next_attempt_at, e.payload, p.url,
                p.status AS endpoint_status, p.format
         FROM outgoing_deliveries d JOIN outgoing_events e ON e.id = d.event_id JOIN outgoing_endpoints p ON p.id = d.endpoint_id
         WHERE d.id = $1",
    )
    .bind(delivery_id)
    .fetch_optional(state.db.pool())
    .await?;
    // Its endpoint was deleted since: nothing left to send.
    let Some(d) = d else { return Ok(Outcome::Ignored("the delivery's endpoint was deleted".into())) };
    if d.status != DeliveryStatus::Pending {
        return Ok(Outcome::Ignored(format!("delivery already {}", d.status)));
    }
    if d.endpoint_status == EndpointStatus::Disabled {
        finish(&state.db, delivery_id, &d, DeliveryStatus::Failed, Some("the endpoint is disabled")).await?;
        return Ok(Outcome::Ignored("the endpoint is disabled".into()));
    }
    let now = dated_clock::now(state).await?;
    if let Some(due) = d.next_attempt_at.filter(|due| *due > now) {
        return Err(Error::Later { message: "the next attempt is not due yet".into(), after_secs: (due - now) as u64 });
    }
    if let Some(purchase_id) = d.purchase_id {
        let earlier: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, next_attempt_at FROM outgoing_deliveries
             WHERE endpoint_id = $1 AND purchase_id = $2 AND status = $3 AND id < $4 ORDER BY id LIMIT 1",
        )
        .bind(d.endpoint_id)
        .bind(purchase_id)
        .bind(DeliveryStatus::Pending)
        .bind(delivery_id)
        .fetch_optional(state.db.pool())
        .await?;
        if let Some((earlier, due)) = earlier {
            // Woken when the earlier one ends (`wake_next`); this wait only
            // bounds how long a lost wake-up could hold it.
            let wait = due.map_or(5, |due| due - now).clamp(5, 3600) as u64;
            return Err(Error::Later {
                message: format!("waits for delivery {earlier} of the same purchase to go first"),
                after_secs: wait,
            });
        }
    }
    // The attempt is this job's: another job for the same attempt (the
    // sweep's, a resend's wake-up) finds the count moved on and stops.
    let claimed = sqlx::query(
        "UPDATE outgoing_deliveries SET attempts = attempts + 1, updated_at = $3 WHERE id = $1 AND attempts = $2 AND status = $4",
    )
    .bind(delivery_id)
    .bind(d.attempts)
    .bind(clock::now())
    .bind(DeliveryStatus::Pending)
    .execute(state.db.pool())
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(Outcome::Ignored("another worker made this attempt".into()));
    }
    let attempt_no = d.attempts + 1;
    let secrets = outgoing_endpoints::signing_secrets(&state.db, &state.config, d.endpoint_id).await?;
    let body = outgoing_events::body(d.event_id, &d.payload)?;
    // A chat channel gets the event as a sentence (signed all the same).
    let body = match d.format {
        EndpointFormat::Standard => body,
        chat => crate::outgoing_chat::body(chat, &serde_json::from_str(&body).unwrap_or_default()),
    };
    // Receivers check the timestamp against their own clock (Standard
    // Webhooks allows five minutes): the real time, never the sandbox's.
    let headers = outgoing_signature::sign(
        &outgoing_events::message_id(d.event_id),
        clock::now(),
        &body,
        &secrets.iter().collect::<Vec<_>>(),
    );
    let answer = send(outgoing_endpoints::reach(&state.config), &d.url, headers, body).await;
    sqlx::query(
        "INSERT INTO outgoing_attempts (delivery_id, attempted_at, status_code, error, response_body, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(delivery_id)
    .bind(now)
    .bind(answer.status.map(i64::from))
    .bind(&answer.error)
    .bind(&answer.excerpt)
    .bind(answer.duration_ms)
    .execute(state.db.pool())
    .await?;
    if answer.succeeded() {
        sqlx::query("UPDATE outgoing_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
            .bind(d.endpoint_id)
            .execute(state.db.pool())
            .await?;
        finish(&state.db, delivery_id, &d, DeliveryStatus::Delivered, None).await?;
        tracing::info!(delivery = delivery_id, attempt = attempt_no, "webhook delivered");
        return Ok(Outcome::Processed);
    }
    failed(state, delivery_id, &d, attempt_no, &answer, now).await?;
    Ok(Outcome::Processed)
}

/// A failed attempt: the next one scheduled, or the delivery failed for
/// good, or — a day of failures — the endpoint disabled.
async fn failed(
    state: &AppState,
    delivery_id: i64,
    d: &Pending,
    attempt_no: i64,
    answer: &Answer,
    now: i64,
) -> Result<()> {
    let summary = answer.summary();
    tracing::warn!(delivery = delivery_id, attempt = attempt_no, answer = %summary, "webhook not delivered");
    // The first failure since the last success starts the window; later ones keep it.
    let since: i64 = sqlx::query_scalar(
        "UPDATE outgoing_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since",
    )
    .bind(d.endpoint_id)
    .bind(now)
    .fetch_one(state.db.pool())
    .await?;
    if now - since >= FAILURE_WINDOW {
        return disable(state, d, &summary, now).await;
    }
    let Some(wait) = usize::try_from(attempt_no - 1).ok().and_then(|i| RETRIES.get(i)).copied() else {
        let why = format!("no 2xx answer in {attempt_no} attempts; the last {summary}");
        return finish(&state.db, delivery_id, d, DeliveryStatus::Failed, Some(&why)).await;
    };
    let mut tx = state.db.pool().begin().await?;
    sqlx::query("UPDATE outgoing_deliveries SET next_attempt_at = $2, last_status = $3, last_error = $4, updated_at = $5 WHERE id = $1")
        .bind(delivery_id)
        .bind(now + wait)
        .bind(answer.status.map(i64::from))
        .bind(&summary)
        .bind(clock::now())
        .execute(&mut *tx)
        .await?;
    let key = outgoing_events::delivery_key(delivery_id, attempt_no);
    jobs::enqueue_or_hurry(&mut *tx, &Job::DeliverWebhook { delivery_id }, clock::now() + wait, &key).await?;
    tx.commit().await?;
    Ok(())
}

/// A day of failures: the endpoint stops being sent to, its pending
/// deliveries fail, and the creator hears of it once.
async fn disable(state: &AppState, d: &Pending, summary: &str, now: i64) -> Result<()> {
    let reason = format!("failed for a day: the last attempt {summary}");
    let mut tx = state.db.pool().begin().await?;
    let disabled = sqlx::query(
        "UPDATE outgoing_endpoints SET status = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1 AND status = $5",
    )
    .bind(d.endpoint_id)
    .bind(EndpointStatus::Disabled)
    .bind(&reason)
    .bind(clock::now())
    .bind(EndpointStatus::Enabled)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    sqlx::query("UPDATE outgoing_deliveries SET status = $2, last_error = $3, next_attempt_at = NULL, updated_at = $4 WHERE endpoint_id = $1 AND status = $5")
        .bind(d.endpoint_id)
        .bind(DeliveryStatus::Failed)
        .bind("the endpoint was disabled after a day of failures")
        .bind(clock::now())
        .bind(DeliveryStatus::Pending)
        .execute(&mut *tx)
        .await?;
    if disabled {
        if let Some(to) = preferences::creator_email(&state.db).await? {
            let draft = crate::emails::Draft {
                to,
                subject: "RepoPass stopped sending to one of your webhook endpoints".into(),
                body: format!(
                    "Your webhook endpoint {url} has not accepted a delivery since {since}: {reason}.\n\n\
                     RepoPass disabled it and will not send to it again until you turn it back on.\n\
                     Fix the endpoint, then open {settings}, turn it on and resend the deliveries you need.\n",
                    url = d.url,
                    since = clock::day(now - FAILURE_WINDOW),
                    settings =
                        state.config.public_url.join("/admin/settings").map(|u| u.to_string()).unwrap_or_default(),
                ),
                kind: EmailKind::EndpointDisabled,
            };
            crate::emails::enqueue_in(&mut tx, &draft, None).await?;
        } else {
            tracing::warn!(endpoint = d.endpoint_id, "webhook endpoint disabled; no creator email is set to tell");
        }
    }
    tx.commit().await?;
    tracing::warn!(endpoint = d.endpoint_id, %reason, "webhook endpoint disabled");
    Ok(())
}

/// Ends a delivery (delivered, or failed with why), and lets the next one
/// of its purchase go.
async fn finish(db: &Db, delivery_id: i64, d: &Pending, status: DeliveryStatus, why: Option<&str>) -> Result<()> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE outgoing_deliveries SET status = $2, last_error = $3, next_attempt_at = NULL, updated_at = $4 WHERE id = $1 AND status = $5",
    )
    .bind(delivery_id)
    .bind(status)
    .bind(why)
    .bind(clock::now())
    .bind(DeliveryStatus::Pending)
    .execute(&mut *tx)
    .await?;
    if let Some(purchase_id) = d.purchase_id {
        let next: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, attempts FROM outgoing_deliveries WHERE endpoint_id = $1 AND purchase_id = $2 AND status = $3 ORDER BY id LIMIT 1",
        )
        .bind(d.endpoint_id)
        .bind(purchase_id)
        .bind(DeliveryStatus::Pending)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((next, attempts)) = next {
            let key = outgoing_events::delivery_key(next, attempts);
            jobs::enqueue_or_hurry(&mut *tx, &Job::DeliverWebhook { delivery_id: next }, clock::now(), &key).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The client of each reach, built once (its connection pool is reused).
fn client(reach: Reach) -> std::result::Result<&'static reqwest::Client, String> {
    static PUBLIC: OnceLock<reqwest::Client> = OnceLock::new();
    static ANYWHERE: OnceLock<reqwest::Client> = OnceLock::new();
    let cell = match reach {
        Reach::PublicOnly => &PUBLIC,
        Reach::Anywhere => &ANYWHERE,
    };
    if let Some(client) = cell.get() {
        return Ok(client);
    }
    let built = outgoing_address::client(reach).map_err(|e| format!("the HTTP client: {e}"))?;
    Ok(cell.get_or_init(|| built))
}

/// One POST: what came back, or why nothing did. Never an error: every
/// outcome is the delivery log's to show.
async fn send(reach: Reach, url: &str, headers: outgoing_signature::SignedHeaders, body: String) -> Answer {
    let started = Instant::now();
    let answered = async {
        let url = url::Url::parse(url).map_err(|e| format!("the endpoint's address: {e}"))?;
        if reach == Reach::PublicOnly {
            outgoing_address::check_url(&url).map_err(|refused| refused.to_string())?;
        }
        let mut request = client(reach)?.post(url).header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        let mut response = request.body(body).send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                // The status is the answer; a body cut short is only less to show.
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        Ok::<_, String>((status, String::from_utf8_lossy(&excerpt).into_owned()))
    }
    .await;
    let duration_ms = started.elapsed().as_millis() as i64;
    match answered {
        Ok((status, excerpt)) => Answer { status: Some(status), error: None, excerpt, duration_ms },
        Err(error) => Answer { status: None, error: Some(error), excerpt: String::new(), duration_ms },
    }
}

/// Why a request got no answer, in words (the guard's refusal is named).
fn describe(e: reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<outgoing_address::NameRefused>() {
            return refused.to_string();
        }
        source = err.source();
    }
    if e.is_timeout() {
        format!("no answer within {} s", outgoing_address::TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        format!("the request failed: {e}")
    }
}

/// The `retry_webhooks` job: every delivery whose next attempt came due
/// on the dated clock is run now (its job brought forward, or made again
/// if it was lost).
pub async fn retry_due(state: &AppState) -> Result<usize> {
    let now = dated_clock::now(state).await?;
    let due: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, attempts FROM outgoing_deliveries WHERE status = $1 AND next_attempt_at <= $2 ORDER BY id LIMIT 1000",
    )
    .bind(DeliveryStatus::Pending)
    .bind(now)
    .fetch_all(state.db.pool())
    .await?;
    for (delivery_id, attempts) in &due {
        let key = outgoing_events::delivery_key(*delivery_id, *attempts);
        jobs::enqueue_or_hurry(state.db.pool(), &Job::DeliverWebhook { delivery_id: *delivery_id }, clock::now(), &key)
            .await?;
    }
    if !due.is_empty() {
        state.wake.notify();
    }
    Ok(due.len())
}

/// "Send test event": a `test` event to this endpoint alone.
pub async fn send_test(state: &AppState, endpoint_id: i64) -> Result<i64> {
    let endpoint = outgoing_endpoints::get(&state.db, endpoint_id).await?;
    if endpoint.status == EndpointStatus::Disabled {
        return Err(Error::invalid("endpoint", "the endpoint is disabled: turn it on first"));
    }
    let mut tx = state.db.pool().begin().await?;
    let id = outgoing_events::record_test(&mut tx, endpoint_id).await?;
    tx.commit().await?;
    state.wake.notify();
    Ok(id)
}

/// "Resend": the delivery's event again, as a new delivery with the same
/// `webhook-id` (a receiver that handled it already can tell).
pub async fn resend(state: &AppState, endpoint_id: i64, delivery_id: i64) -> Result<i64> {
    let endpoint = outgoing_endpoints::get(&state.db, endpoint_id).await?;
    if endpoint.status == EndpointStatus::Disabled {
        return Err(Error::invalid("endpoint", "the endpoint is disabled: turn it on first"));
    }
    let (event_id, purchase_id): (i64, Option<i64>) =
        sqlx::query_as("SELECT event_id, purchase_id FROM outgoing_deliveries WHERE id = $1 AND endpoint_id = $2")
            .bind(delivery_id)
            .bind(endpoint_id)
            .fetch_one(state.db.pool())
            .await?;
    let mut tx = state.db.pool().begin().await?;
    let id = outgoing_events::redeliver(&mut tx, endpoint_id, event_id, purchase_id).await?;
    tx.commit().await?;
    state.wake.notify();
    Ok(id)
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_body: String,
    pub duration_ms: i64,
}

/// One delivery in the log: the event, what became of it, its attempts.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub message_id: String,
    pub event_type: WebhookEventType,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// The body as sent.
    pub request_body: String,
    pub attempts: Vec<Attempt>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    event_id: i64,
    event_type: WebhookEventType,
    status: DeliveryStatus,
    next_attempt_at: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    payload: String,
}

/// An endpoint's most recent deliveries, newest first, before `before`
/// (a delivery id: the next page) when given.
pub async fn log(db: &Db, endpoint_id: i64, before: Option<i64>, limit: i64) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT d.id, d.event_id, e.event_type, d.status, d.next_attempt_at, d.last_error, d.created_at, e.payload
         FROM outgoing_deliveries d JOIN outgoing_events e ON e.id = d.event_id
         WHERE d.endpoint_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3",
    )
    .bind(endpoint_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 100))
    .fetch_all(db.pool())
    .await?;
    let (Some(last), Some(first)) = (rows.last().map(|r| r.id), rows.first().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let attempts: Vec<Attempt> = sqlx::query_as(
        "SELECT a.delivery_id, a.attempted_at, a.status_code, a.error, a.response_body, a.duration_ms
         FROM outgoing_attempts a JOIN outgoing_deliveries d ON d.id = a.delivery_id
         WHERE d.endpoint_id = $1 AND a.delivery_id BETWEEN $2 AND $3 ORDER BY a.id",
    )
    .bind(endpoint_id)
    .bind(last)
    .bind(first)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Delivery {
                id: r.id,
                event_id: r.event_id,
                message_id: outgoing_events::message_id(r.event_id),
                event_type: r.event_type,
                status: r.status,
                next_attempt_at: r.next_attempt_at,
                last_error: r.last_error,
                created_at: r.created_at,
                request_body: outgoing_events::body(r.event_id, &r.payload)?,
                attempts: attempts.iter().filter(|a| a.delivery_id == r.id).cloned().collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outgoing_signature::{sign, SigningSecret};

    /// The guard on the delivery path itself: with production's reach, no
    /// request leaves for this machine or a private network, whether the
    /// address is written out, hidden in IPv6, or behind a name — and the
    /// delivery log gets the reason. The sandbox's reach gets through.
    #[tokio::test]
    async fn production_deliveries_never_reach_this_machine_or_a_private_network() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let secret = SigningSecret::generate();
        let cases = [
            (format!("http://127.0.0.1:{port}/hook"), "loopback"),
            (format!("http://localhost:{port}/hook"), "localhost resolves to"),
            (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "127.0.0.1"),
            ("http://10.1.2.3/hook".to_owned(), "private network"),
            ("http://192.168.0.10/hook".to_owned(), "private network"),
            ("http://169.254.169.254/latest/meta-data".to_owned(), "link-local"),
            ("http://[fd00::1]/hook".to_owned(), "private network"),
        ];
        for (url, why) in cases {
            let headers = sign("evt_1", clock::now(), "{}", &[&secret]);
            let answer = send(Reach::PublicOnly, &url, headers, "{}".into()).await;
            assert_eq!(answer.status, None, "{url}");
            let error = answer.error.unwrap_or_default();
            assert!(error.contains(why), "{url}: {error}");
        }
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
        assert!(nothing.is_err(), "no connection reached this machine");

        // The sandbox (and tests) may deliver here: the request bin lives here.
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            socket.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").await.unwrap();
        });
        let headers = sign("evt_1", clock::now(), "{}", &[&secret]);
        let answer = send(Reach::Anywhere, &format!("http://127.0.0.1:{port}/hook"), headers, "{}".into()).await;
        assert_eq!(answer.status, Some(204), "{answer:?}");
        assert!(answer.succeeded());
        server.await.unwrap();
    }

    /// A redirect is the endpoint's answer, not a place to go: it is not
    /// followed (it could point anywhere), and it is not a success.
    #[tokio::test]
    async fn a_redirect_is_not_followed_and_counts_as_a_failure() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let elsewhere_port = elsewhere.local_addr().unwrap().port();
        let endpoint = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = endpoint.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = endpoint.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{elsewhere_port}/\r\ncontent-length: 5\r\n\r\nmoved"
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        let secret = SigningSecret::generate();
        let headers = sign("evt_1", clock::now(), "{}", &[&secret]);
        let answer = send(Reach::Anywhere, &format!("http://127.0.0.1:{port}/hook"), headers, "{}".into()).await;
        server.await.unwrap();
        assert_eq!((answer.status, answer.excerpt.as_str()), (Some(307), "moved"));
        assert!(!answer.succeeded(), "retried like any other failure");
        let followed = tokio::time::timeout(std::time::Duration::from_millis(200), elsewhere.accept()).await;
        assert!(followed.is_err(), "the redirect's target was never called");
    }
}
