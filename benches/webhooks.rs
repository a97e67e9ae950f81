//! Webhooks accepted under load from another process: `wrk` posting signed
//! Stripe events to the release binary (`repopass serve`, zero-config: the
//! sandbox and a SQLite file, or `BENCH_DATABASE_URL`) while its worker
//! processes them, beside two references measured in the same run: the same
//! binary's `/healthz` (the whole middleware stack, no work) and single-row
//! INSERTs into the same database, as many at once as wrk has connections,
//! through a pool like the server's (the price of one durable write).
//!
//!     apt-get install wrk         # once
//!     cargo bench --bench webhooks
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<empty db> cargo bench --bench webhooks
//!
//! Environment: `BENCH_SECONDS` (8 per row), `BENCH_CONNECTIONS` (64),
//! `BENCH_THREADS` (wrk's, 2), `BENCH_BINARY` (another build of `repopass`
//! to measure instead of this one), `BENCH_EVENTS` (distinct signed events
//! prepared for wrk; 25 000 per second of load). wrk and the server share
//! the machine's cores, as they did when the goals were set (issue 22).
//!
//! Each event is an `invoice.payment_failed` of no subscription: accepted in
//! full (signature checked, stored with its job, 200) and then processed by
//! the worker, which finds nothing to do. Afterwards the bench checks that
//! every 2xx was stored and that no answer was a 5xx.

use std::{io::Write, time::Duration};

use secrecy::SecretString;
use serde_json::json;
use support::{
    percentile,
    separate::{start, wrk, Row},
};

mod support;

/// Requests to `/healthz`, as they come.
const PLAIN: &str = "";

/// Posts the prepared events (one per line: signature, tab, body), each
/// once: wrk thread `id` of `parts` takes every `parts`-th line. `repeated`
/// counts how often a thread ran out and started again (duplicates).
const EVENTS: &str = r#"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local parts = tonumber(args[2])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  prepared = {}
  local k = 0
  for line in io.lines(args[1]) do
    if k % parts == id then
      local tab = line:find("\t", 1, true)
      wrk.headers["Stripe-Signature"] = line:sub(1, tab - 1)
      prepared[#prepared + 1] = wrk.format(nil, nil, nil, line:sub(tab + 1))
    end
    k = k + 1
  end
  at = 0
  repeated = 0
end

function request()
  at = at + 1
  if at > #prepared then
    at = 1
    repeated = repeated + 1
  end
  return prepared[at]
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("repeated")
  end
  io.write(string.format("repeated: %d\n", total))
end
"#;

fn env(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `count` distinct signed events, one per line, for the `EVENTS` script.
fn prepare_events(count: u64, path: &std::path::Path) {
    let secret = SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET);
    let now = server::clock::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("the events file"));
    for i in 0..count {
        let body = json!({"id": format!("evt_load_{i}"), "object": "event", "type": "invoice.payment_failed", "api_version": "2025-09-30.clover", "created": now,
            "data": {"object": {"id": format!("in_load_{i}"), "object": "invoice", "parent": null}}, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}})
        .to_string();
        let signature = sandbox::deliveries::stripe_signature(&secret, now, &body);
        writeln!(out, "{signature}\t{body}").expect("write an event");
    }
    out.flush().expect("write the events");
}

/// Single-row INSERTs from `connections` tasks for `seconds`, through a pool
/// opened as the server opens its own.
async fn raw_inserts(db: &server::Db, connections: u64, seconds: u64) -> Row {
    let (latencies, elapsed) = support::raw_inserts(db.pool(), connections as usize, seconds as f64).await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Row {
        what: "raw single-row INSERT, same database (this process)".into(),
        requests: latencies.len() as u64,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: ms(percentile(&latencies, 0.5)),
        p99: ms(percentile(&latencies, 0.99)),
        non_2xx: 0,
        errors: "0".into(),
        output: String::new(),
    }
}

async fn count(db: &server::Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::main]
async fn main() {
    let (seconds, connections, threads) =
        (env("BENCH_SECONDS", 8), env("BENCH_CONNECTIONS", 64), env("BENCH_THREADS", 2));
    let server = start();
    let base = server.base.clone();
    let db = server::Db::connect(&SecretString::from(server.database.clone())).await.unwrap();
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert!(r.status().is_success(), "/healthz: {}", r.status());

    println!("\n{}, wrk in its own process; release binary in zero-config mode, its worker running\n", server.backend);
    println!("| what | requests | throughput | p50 | p99 | errors |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let line = |r: &Row| {
        println!(
            "| {} | {} | {:.0}/s | {:.2} ms | {:.2} ms | {} |",
            r.what, r.requests, r.per_second, r.p50, r.p99, r.errors
        )
    };
    let health = wrk("`/healthz` (middleware only)", &format!("{base}/healthz"), PLAIN, &[]);
    line(&health);
    let raw = raw_inserts(&db, connections, seconds).await;
    line(&raw);

    let events = server.dir.path().join("events.tsv");
    prepare_events(env("BENCH_EVENTS", 25_000 * seconds), &events);
    let hooks = wrk(
        "webhook accept (`POST /api/webhooks/stripe`)",
        &format!("{base}/api/webhooks/stripe"),
        EVENTS,
        &[events.display().to_string(), threads.to_string()],
    );
    line(&hooks);
    let done_meanwhile = count(&db, "SELECT COUNT(*) FROM jobs WHERE kind = 'stripe_event' AND status = 'done'").await;
    println!(
        "\nAccept rate / raw insert rate: {:.2}; accept p99 / raw insert p99: {:.2}; accept p99 / `/healthz` p99: {:.1}×",
        hooks.per_second / raw.per_second,
        hooks.p99 / raw.p99,
        hooks.p99 / health.p99
    );

    // Every 2xx is a stored delivery; nothing answered 5xx; no event was sent twice.
    let repeated: u64 = hooks
        .output
        .lines()
        .find_map(|l| l.strip_prefix("repeated: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the script's count of repeated rounds");
    assert_eq!(repeated, 0, "wrk ran out of prepared events: raise BENCH_EVENTS");
    assert_eq!(hooks.non_2xx, 0, "some webhooks were not accepted:\n{}", hooks.output);
    let stored = count(&db, "SELECT COUNT(*) FROM webhook_events WHERE event_id LIKE 'evt_load_%'").await as u64;
    // wrk stops with requests in flight: those may be stored, unanswered.
    assert!(
        (hooks.requests..=hooks.requests + connections).contains(&stored),
        "{} answered 2xx but {stored} stored",
        hooks.requests
    );
    println!(
        "Answered 2xx: {}; stored: {stored}; processed by the worker during the load: {done_meanwhile}",
        hooks.requests
    );
    drop(server);
}
