//! Grant latency: from a payment webhook received (RepoPass answered 2xx) to
//! the GitHub invitation call made, for a burst of purchases.
//!
//!     cargo bench --bench grant_latency
//!
//! Environment: `BENCH_RATE` (webhooks a second; default: all at once, the
//! worst case — with a rate they arrive spread out, as purchases do),
//! `BENCH_PURCHASES` (default 1000), `BENCH_WORKERS` (job
//! workers, default 1 as in `repopass serve`), `BENCH_DATABASE_URL` (default:
//! a SQLite file in a temporary directory; `postgres://…` for PostgreSQL).
//!
//! Everything is real: the server, its database, its worker, async-stripe
//! and octocrab talking to the sandbox over HTTP. The purchases are made
//! through `/api/checkout` and paid on the sandbox; the sandbox's own
//! deliveries are switched off, and the bench sends the
//! `checkout.session.completed` events the sandbox recorded, signed, in one
//! burst (32 at a time), as Stripe would after an outage. The end point is a
//! `repopass::grant` trace event RepoPass emits when GitHub answers the
//! invitation call (GitHub's 50-a-day invitation limit makes most answers a
//! 422 in a burst this size; the call is made all the same).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use secrecy::SecretString;
use serde_json::{json, Value};
use support::{ms, percentile};
use tracing_subscriber::{layer::Context, prelude::*, Layer};

mod support;

type Seen = Arc<Mutex<HashMap<i64, Instant>>>;

/// Records when each purchase's GitHub call was made.
struct GrantClock(Seen);

impl<S: tracing::Subscriber> Layer<S> for GrantClock {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "repopass::grant" {
            return;
        }
        struct Id(Option<i64>);
        impl tracing::field::Visit for Id {
            fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
                if field.name() == "purchase_id" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut id = Id(None);
        event.record(&mut id);
        if let Some(id) = id.0 {
            self.0.lock().unwrap().entry(id).or_insert_with(Instant::now);
        }
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_PURCHASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let workers = std::env::var("BENCH_WORKERS").unwrap_or_else(|_| "1".into());
    let seen: Seen = Default::default();
    tracing_subscriber::registry()
        .with(GrantClock(seen.clone()).with_filter(
            tracing_subscriber::filter::Targets::new().with_target("repopass::grant", tracing::Level::DEBUG),
        ))
        .with(tracing_subscriber::fmt::layer().with_filter(tracing_subscriber::filter::LevelFilter::ERROR))
        .init();

    let bench = support::start(&[("REPOPASS_WORKERS", workers.clone())]).await;
    let (base, state, backend) = (bench.base.clone(), bench.state.clone(), bench.backend);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let control = |path: &str, body: Value| {
        let http = http.clone();
        let url = format!("{base}/sandbox/control{path}");
        async move {
            let r = http.post(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
    };

    eprintln!("setting up {n} purchases on {backend} ({workers} worker(s))…");
    let price_id =
        bench.on_sale(&http, json!({"owner": "sandbox-org", "name": "enterprise-sdk", "published": true})).await;
    // Stripe's deliveries go nowhere: the bench delivers the events itself.
    control("/webhook_target", json!({"base": "http://127.0.0.1:9"})).await;

    let sessions: Vec<String> = stream::iter(0..n)
        .map(|i| {
            let (http, base, price_id) = (http.clone(), base.clone(), price_id.clone());
            async move {
                let login = format!("bench-buyer-{i:05}");
                control("/github/users", json!({"login": login})).await;
                let r = http
                    .post(format!("{base}/api/checkout"))
                    .header("accept", "text/html")
                    .form(&[
                        ("price_id", price_id.as_str()),
                        ("github_username", &login),
                        ("email", "bench@example.com"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 303, "{:?}", r.text().await);
                let session = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
                control(&format!("/stripe/checkout/{session}/pay"), json!({})).await;
                session
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(sessions.len(), n);

    // The events Stripe would have delivered.
    let mut events: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/sandbox/stripe/v1/events?type=checkout.session.completed&limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&starting_after={a}"));
        }
        let page: Value = http
            .get(url)
            .bearer_auth(sandbox::credentials::STRIPE_SECRET_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for e in page["data"].as_array().unwrap() {
            events.push(e.to_string());
        }
        after = page["data"].as_array().unwrap().last().and_then(|e| e["id"].as_str()).map(str::to_owned);
        if page["has_more"] != true {
            break;
        }
    }
    assert_eq!(events.len(), n, "one completed event per purchase");

    let rate: Option<f64> = std::env::var("BENCH_RATE").ok().and_then(|v| v.parse().ok()).filter(|r: &f64| *r > 0.0);
    match rate {
        Some(r) => eprintln!("sending {n} payment webhooks, {r} a second…"),
        None => eprintln!("sending {n} payment webhooks in one burst…"),
    }
    let secret = SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET);
    let started = Instant::now();
    let received: Vec<(i64, Instant)> = stream::iter(events.into_iter().enumerate())
        .map(|(i, body)| {
            let (http, base, secret) = (http.clone(), base.clone(), secret.clone());
            async move {
                if let Some(r) = rate {
                    tokio::time::sleep_until((started + Duration::from_secs_f64(i as f64 / r)).into()).await;
                }
                let purchase: i64 = serde_json::from_str::<Value>(&body).unwrap()["data"]["object"]["metadata"]
                    ["purchase_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let sig = sandbox::deliveries::stripe_signature(&secret, server::clock::now(), &body);
                let r = http
                    .post(format!("{base}/api/webhooks/stripe"))
                    .header("stripe-signature", sig)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                (purchase, Instant::now())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let accepted = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(600);
    while seen.lock().unwrap().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_done = started.elapsed();
    let seen = seen.lock().unwrap().clone();
    let mut latencies: Vec<Duration> =
        received.iter().filter_map(|(id, t0)| seen.get(id).map(|t1| t1.saturating_duration_since(*t0))).collect();
    latencies.sort();
    let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE status IN ('invited', 'active')")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE status = 'paid'")
        .fetch_one(state.db.pool())
        .await
        .unwrap();

    println!("grant latency — payment webhook received → GitHub invitation call made");
    let arrival = rate.map(|r| format!("{r} a second")).unwrap_or_else(|| "one burst".into());
    println!("backend: {backend}; workers: {workers}; purchases: {n} ({arrival}); measured: {}", latencies.len());
    println!("webhooks accepted in {} ({:.0}/s)", ms(accepted), n as f64 / accepted.as_secs_f64());
    println!("all GitHub calls made {} after the first webhook", ms(all_done));
    if !latencies.is_empty() {
        println!(
            "p50 {}  p95 {}  p99 {}  max {}",
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.95)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().unwrap())
        );
    }
    println!("invited: {invited}; paid and queued behind GitHub's daily invitation limit: {queued}");
}
