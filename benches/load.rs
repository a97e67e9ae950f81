//! Load: the product page and the webhook endpoint under 64 concurrent
//! connections, each next to a baseline measured in the same run (a
//! plain-text endpoint of the same server; single-row inserts straight into
//! the same database); then both loads at once, with purchases being paid
//! and their payment webhooks delivered twice, checked afterwards for 5xx,
//! lost webhooks and double grants. Memory (RSS) idle and under load; the
//! release wasm bundle's size when it has been built.
//!
//!     cargo bench --bench load
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> cargo bench --bench load
//!
//! `BENCH_SECONDS` (default 10) per measurement, `BENCH_CONNECTIONS`
//! (default 64). Client, server and sandbox share this process and its
//! cores: the figures are what one machine does playing all three parts.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use secrecy::SecretString;
use serde_json::{json, Value};
use support::{ms, percentile};

mod support;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// What one closed-loop load run saw.
struct Run {
    latencies: Vec<Duration>,
    errors: u64,
    server_errors: u64,
    elapsed: Duration,
}

impl Run {
    fn row(&self, what: &str) -> String {
        let n = self.latencies.len();
        format!(
            "| {what} | {n} | {:.0}/s | {} | {} | {} | {} |",
            n as f64 / self.elapsed.as_secs_f64(),
            ms(percentile(&self.latencies, 0.5)),
            ms(percentile(&self.latencies, 0.99)),
            self.errors,
            self.server_errors
        )
    }
}

/// `connections` loops, each sending `make(i)` one after another for `seconds`.
async fn closed_loop<F, Fut>(connections: usize, seconds: f64, make: F) -> Run
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<reqwest::Response, reqwest::Error>> + Send,
{
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (make, counter) = (make.clone(), counter.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors, mut server_errors) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < end {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    match make(i).await {
                        Ok(r) => {
                            let status = r.status();
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                            if status.is_server_error() {
                                server_errors += 1;
                            } else if !status.is_success() {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                }
                (lat, errors, server_errors)
            })
        })
        .collect();
    let mut run = Run { latencies: Vec::new(), errors: 0, server_errors: 0, elapsed: Duration::ZERO };
    for t in tasks {
        let (lat, e, se) = t.await.unwrap();
        run.latencies.extend(lat);
        run.errors += e;
        run.server_errors += se;
    }
    run.elapsed = started.elapsed();
    run.latencies.sort();
    run
}

fn signed_event(i: u64, secret: &SecretString) -> (String, String) {
    // An event RepoPass stores with its job, and whose job then finds
    // nothing to do (an invoice of no subscription): the accept path in
    // full (verify, store with its job, answer), and the worker's too.
    let body = json!({"id": format!("evt_load_{i}"), "object": "event", "type": "invoice.payment_failed", "api_version": "2025-09-30.clover", "created": server::clock::now(),
        "data": {"object": {"id": format!("in_load_{i}"), "object": "invoice", "parent": null}}, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}})
    .to_string();
    (sandbox::deliveries::stripe_signature(secret, server::clock::now(), &body), body)
}

#[tokio::main]
async fn main() {
    let seconds: f64 = std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let connections: usize = std::env::var("BENCH_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let bench = support::start(&[]).await;
    let (base, state, backend) = (bench.base.clone(), bench.state.clone(), bench.backend);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();

    let price_id = bench
        .on_sale(&http, json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "enterprise-sdk", "title": "Enterprise SDK", "description": "The **whole** SDK, with docs.", "published": true}))
        .await;
    let page = http.get(format!("{base}/p/enterprise-sdk")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_mb();

    println!("\n{backend}; {connections} connections; {seconds} s per row; client, server and sandbox in one process on this machine\n");
    println!("| what | requests | throughput | p50 | p99 | 4xx/errors | 5xx |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");

    // Pages, next to the plain-text endpoint.
    let (h, b) = (http.clone(), base.clone());
    let plain = closed_loop(connections, seconds, move |_| h.get(format!("{b}/healthz")).send()).await;
    println!("{}", plain.row("plain text (`GET /healthz`)"));
    let (h, b) = (http.clone(), base.clone());
    let peak = Arc::new(std::sync::Mutex::new(0f64));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = rss_mb();
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(now);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let pages = closed_loop(connections, seconds, move |_| h.get(format!("{b}/p/enterprise-sdk")).send()).await;
    sampler.abort();
    let rss_pages = *peak.lock().unwrap();
    println!("{}", pages.row("product page (`GET /p/enterprise-sdk`)"));

    // Webhooks, next to raw single-row inserts into the same database.
    let pool = state.db.pool().clone();
    let (raw_lat, raw_elapsed) = support::raw_inserts(&pool, connections, seconds).await;
    println!(
        "| raw single-row INSERT, same database | {} | {:.0}/s | {} | {} | 0 | 0 |",
        raw_lat.len(),
        raw_lat.len() as f64 / raw_elapsed.as_secs_f64(),
        ms(percentile(&raw_lat, 0.5)),
        ms(percentile(&raw_lat, 0.99))
    );
    let secret = SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET);
    let (h, b, s) = (http.clone(), base.clone(), secret.clone());
    let hooks = closed_loop(connections, seconds, move |i| {
        let (sig, body) = signed_event(i, &s);
        h.post(format!("{b}/api/webhooks/stripe")).header("stripe-signature", sig).body(body).send()
    })
    .await;
    println!("{}", hooks.row("webhook accept (`POST /api/webhooks/stripe`)"));

    // Both at once, with real purchases paid meanwhile and each payment
    // webhook delivered twice, concurrently.
    let buyers = 40; // under GitHub's 50 invitations a day per repository
    let (h, b) = (http.clone(), base.clone());
    let page_load =
        tokio::spawn(closed_loop(connections / 2, seconds, move |_| h.get(format!("{b}/p/enterprise-sdk")).send()));
    let (h, b, s) = (http.clone(), base.clone(), secret.clone());
    let offset = 10_000_000;
    let hook_load = tokio::spawn(closed_loop(connections / 2, seconds, move |i| {
        let (sig, body) = signed_event(offset + i, &s);
        h.post(format!("{b}/api/webhooks/stripe")).header("stripe-signature", sig).body(body).send()
    }));
    let control = |path: String, body: Value| {
        let (http, base) = (http.clone(), base.clone());
        async move { http.post(format!("{base}/sandbox/control{path}")).json(&body).send().await.unwrap() }
    };
    let sessions: Vec<String> = stream::iter(0..buyers)
        .map(|i| {
            let (http, base, price_id, control) = (http.clone(), base.clone(), price_id.clone(), control);
            async move {
                let login = format!("load-buyer-{i:03}");
                control("/github/users".into(), json!({"login": login})).await;
                let r = http
                    .post(format!("{base}/api/checkout"))
                    .header("accept", "text/html")
                    .form(&[
                        ("price_id", price_id.as_str()),
                        ("github_username", &login),
                        ("email", "load@example.com"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 303, "{:?}", r.text().await);
                let session = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
                // Paying makes the sandbox deliver checkout.session.completed.
                control(format!("/stripe/checkout/{session}/pay"), json!({})).await;
                session
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    // The same payment events again, twice each, at the same time (the
    // sandbox has delivered each once already).
    let deliveries: Value =
        http.get(format!("{base}/sandbox/control/deliveries")).send().await.unwrap().json().await.unwrap();
    let paid: Vec<String> = deliveries
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["event_type"] == "checkout.session.completed")
        .filter_map(|d| d["payload"].as_str().map(str::to_owned))
        .collect();
    let redelivered: Vec<u16> = stream::iter(paid.iter().flat_map(|p| [p.clone(), p.clone()]))
        .map(|body| {
            let (http, base, secret) = (http.clone(), base.clone(), secret.clone());
            async move {
                let sig = sandbox::deliveries::stripe_signature(&secret, server::clock::now(), &body);
                http.post(format!("{base}/api/webhooks/stripe"))
                    .header("stripe-signature", sig)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let page_run = page_load.await.unwrap();
    let hook_run = hook_load.await.unwrap();
    println!("{}", page_run.row("mixed: product page"));
    println!("{}", hook_run.row("mixed: webhook accept"));

    // Afterwards, once the worker has caught up with every job the loads
    // queued: everything stored once, nobody invited twice.
    let loads_ended = Instant::now();
    let deadline = loads_ended + Duration::from_secs(900);
    let mut open: i64 = 0;
    while Instant::now() < deadline {
        open = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running') AND kind IN ('stripe_event', 'github_event')").fetch_one(&pool).await.unwrap_or(-1);
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status <> 'received'")
        .fetch_one(&pool)
        .await
        .unwrap();
    println!(
        "\nthe worker caught up {:.1} s after the loads ended ({open} webhook jobs still open; {processed} deliveries processed in all)",
        loads_ended.elapsed().as_secs_f64()
    );
    let stored_all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE event_id LIKE 'evt_load_%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let accepted = (hooks.latencies.len() as u64 - hooks.errors - hooks.server_errors)
        + (hook_run.latencies.len() as u64 - hook_run.errors - hook_run.server_errors);
    let github: Value =
        http.get(format!("{base}/sandbox/control/github/state")).send().await.unwrap().json().await.unwrap();
    let mut per_login: HashMap<String, usize> = HashMap::new();
    for r in github["repositories"].as_array().into_iter().flatten() {
        for i in
            r["invitations"].as_array().into_iter().flatten().chain(r["collaborators"].as_array().into_iter().flatten())
        {
            if let Some(l) = i["login"].as_str().filter(|l| l.starts_with("load-buyer-")) {
                *per_login.entry(l.to_owned()).or_default() += 1;
            }
        }
    }
    let invited_twice = per_login.values().filter(|n| **n > 1).count();
    let sent: Vec<(i64, i64)> = sqlx::query_as("SELECT purchase_id, COUNT(*) FROM access_log WHERE action = 'invitation_sent' GROUP BY purchase_id HAVING COUNT(*) > 1").fetch_all(&pool).await.unwrap();
    let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE status IN ('invited', 'active')")
        .fetch_one(&pool)
        .await
        .unwrap();

    println!();
    println!(
        "page p99 / plain-text p99: {:.1}×; throughput ratio {:.2}",
        pages.latencies[pages.latencies.len() * 99 / 100].as_secs_f64()
            / plain.latencies[plain.latencies.len() * 99 / 100].as_secs_f64(),
        pages.latencies.len() as f64 / plain.latencies.len() as f64
    );
    println!(
        "webhook accept rate / raw insert rate: {:.2}",
        (hooks.latencies.len() as f64 / hooks.elapsed.as_secs_f64())
            / (raw_lat.len() as f64 / raw_elapsed.as_secs_f64())
    );
    println!("memory (RSS of the whole process): idle {rss_idle:.0} MB; peak under the page load {rss_pages:.0} MB; now {:.0} MB", rss_mb());
    println!(
        "after the mixed run: 5xx {}; webhooks answered 2xx {accepted}, stored {stored_all} (lost {}); payment events sent twice more {} ({} not 2xx); purchases {} paid → {invited} invited; GitHub accounts invited twice: {invited_twice}; purchases with two invitations logged: {}",
        plain.server_errors + pages.server_errors + hooks.server_errors + page_run.server_errors + hook_run.server_errors,
        accepted as i64 - stored_all,
        redelivered.len(),
        redelivered.iter().filter(|s| !(200..300).contains(*s)).count(),
        sessions.len(),
        sent.len()
    );
    let wasm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site/pkg/repopass.wasm");
    match std::fs::read(&wasm) {
        Ok(bytes) => {
            use std::io::Write;
            let mut gz = std::process::Command::new("gzip")
                .arg("-9")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            gz.stdin.take().unwrap().write_all(&bytes).unwrap();
            let out = gz.wait_with_output().unwrap();
            println!(
                "wasm bundle ({}): {} KB raw, {} KB gzip -9",
                wasm.display(),
                bytes.len() / 1024,
                out.stdout.len() / 1024
            );
        }
        Err(_) => println!("wasm bundle: not built here (run `cargo leptos build --release` first)"),
    }
}
