//! The pages a buyer sees, under load from another process: `wrk` against
//! the release binary (`repopass serve`, zero-config: the sandbox and a
//! SQLite file, or `BENCH_DATABASE_URL`), each page beside the same
//! binary's `/healthz` — the whole middleware stack and no work — measured
//! in the same run.
//!
//!     apt-get install wrk         # once
//!     cargo bench --bench pages
//!
//! Environment: `BENCH_SECONDS` (8 per row), `BENCH_CONNECTIONS` (64),
//! `BENCH_THREADS` (wrk's, 2), `BENCH_DATABASE_URL`, `BENCH_ROUNDS` (how
//! many times the table is measured, 1), `BENCH_BINARY` (another build of
//! `repopass` to measure instead of this one). wrk and the server share the
//! machine's cores, as they did when the goals were set (issue 22).

use std::time::Duration;

use serde_json::{json, Value};
use support::separate::{start, wrk, Row};

mod support;

/// A product with two prices, published through the REST API.
async fn product_on_sale(base: &str, database: &str) -> String {
    let db = server::Db::connect(&secrecy::SecretString::from(database.to_owned())).await.unwrap();
    let key = server::api_keys::create(&db, "bench", None).await.unwrap();
    let key = secrecy::ExposeSecret::expose_secret(&key.secret).to_owned();
    let http = reqwest::Client::new();
    let product: Value = http
        .post(format!("{base}/api/v1/repositories"))
        .bearer_auth(&key)
        .json(&json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "enterprise-sdk", "title": "Enterprise SDK",
                      "description": "The **whole** SDK, with docs.\n\n- guides\n- examples", "published": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = product["id"].as_i64().expect("product created");
    for price in [
        json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"}),
        json!({"interval": "month", "unit_amount": 900, "currency": "usd"}),
    ] {
        let r = http
            .post(format!("{base}/api/v1/repositories/{id}/prices"))
            .bearer_auth(&key)
            .json(&price)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "price: {}", r.text().await.unwrap());
    }
    "/p/enterprise-sdk".to_owned()
}

const VISITORS: &str = r#"
request = function()
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format()
end
"#;

#[tokio::main]
async fn main() {
    let server = start();
    let (base, backend) = (server.base.clone(), server.backend);
    let product = product_on_sale(&base, &server.database).await;
    // Warm: the first render of each page, the first connections.
    for path in ["/healthz", "/", product.as_str(), "/no-such-page"] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rounds = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    println!("\n{backend}, wrk in its own process; release binary in zero-config mode\n");
    println!("| what | requests | throughput | p50 | p99 | vs `/healthz`: throughput | vs `/healthz`: p99 | errors |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for _ in 0..rounds {
        let health = wrk("`/healthz` (middleware only)", &format!("{base}/healthz"), VISITORS, &[]);
        let rows = [
            wrk("the 404 page (shell only)", &format!("{base}/no-such-page"), VISITORS, &[]),
            wrk("the storefront `/`", &format!("{base}/"), VISITORS, &[]),
            wrk(&format!("a product page with two prices (`{product}`)"), &format!("{base}{product}"), VISITORS, &[]),
        ];
        let line = |r: &Row, ratio: bool| {
            let (t, p) = if ratio {
                (format!("{:.2}", r.per_second / health.per_second), format!("{:.1}×", r.p99 / health.p99))
            } else {
                ("1".to_owned(), "1×".to_owned())
            };
            println!(
                "| {} | {} | {:.0}/s | {:.2} ms | {:.2} ms | {t} | {p} | {} |",
                r.what, r.requests, r.per_second, r.p50, r.p99, r.errors
            );
        };
        line(&health, false);
        for r in &rows {
            line(r, true);
        }
    }
    // Every figure above is pages, not the limiter's 429s.
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    let refused: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("axum_http_requests_total{") && l.contains("status=\"429\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(refused, 0.0, "the rate limit refused {refused} requests: the figures are not the pages'");
    println!("\n(no request was refused by the rate limit)");
    drop(server);
}
