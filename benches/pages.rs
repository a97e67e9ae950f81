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

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `repopass serve` as buyers reach it: release build, warnings only logged.
fn start() -> (Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let database = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Another build of the binary to compare (e.g. another allocator).
    let binary = std::env::var("BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_repopass").to_owned());
    let mut child = Command::new(&binary)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database)
        .env("REPOPASS_DATA_DIR", dir.path())
        .env("REPOPASS_LEPTOS_CONFIG", manifest.join("Cargo-leptos.toml"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        // wrk says each request comes from another visitor (see `VISITORS`),
        // as a reverse proxy in front of RepoPass would: the limiter runs on
        // every request without refusing any, as for a crowd of buyers.
        .env("REPOPASS_TRUSTED_PROXIES", "127.0.0.1")
        .env("REPOPASS_RATE_LIMIT", "100000")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,repopass=info")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the release binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let port = loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("repopass stopped before listening: {err}");
        }
        if let Ok(entry) = serde_json::from_str::<Value>(&line) {
            if entry["message"] == "RepoPass is listening" {
                break entry["port"].as_u64().unwrap();
            }
        }
    };
    // Keep draining its output so a full pipe never stalls it.
    for mut pipe in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())] {
        std::thread::spawn(move || std::io::copy(&mut pipe, &mut std::io::sink()));
    }
    let backend = if database.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    (Server { child, base: format!("http://127.0.0.1:{port}"), _dir: dir }, backend.to_owned())
}

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

struct Row {
    what: String,
    requests: u64,
    per_second: f64,
    p50: f64,
    p99: f64,
    errors: String,
}

/// A wrk script: every request from another address of 10.0.0.0/8, in
/// `X-Forwarded-For`. From one address the rate limit (at most 100 000 a
/// minute) would answer most requests 429 once pages are fast enough.
const VISITORS: &str = r#"
request = function()
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format()
end
"#;

/// One wrk run; latencies in milliseconds.
fn wrk(what: &str, url: &str) -> Row {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let script = tempfile::Builder::new().suffix(".lua").tempfile().expect("a temporary file");
    std::fs::write(script.path(), VISITORS).expect("write the wrk script");
    let out = Command::new("wrk")
        .args([
            format!("-t{}", env("BENCH_THREADS", 2)),
            format!("-c{}", env("BENCH_CONNECTIONS", 64)),
            format!("-d{}s", env("BENCH_SECONDS", 8)),
            "--latency".to_owned(),
            "-s".to_owned(),
            script.path().display().to_string(),
            url.to_owned(),
        ])
        .output()
        .expect("wrk: install it (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let field = |prefix: &str| -> Option<String> {
        text.lines().map(str::trim).find(|l| l.starts_with(prefix)).map(|l| l[prefix.len()..].trim().to_owned())
    };
    let latency = |p: &str| field(p).map(|v| millis(&v)).unwrap_or(f64::NAN);
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let mut errors = Vec::new();
    if let Some(e) = field("Non-2xx or 3xx responses:") {
        errors.push(format!("{e} non-2xx"));
    }
    if let Some(e) = field("Socket errors:") {
        errors.push(e);
    }
    Row {
        what: what.to_owned(),
        requests,
        per_second: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        p50: latency("50%"),
        p99: latency("99%"),
        errors: if errors.is_empty() { "0".to_owned() } else { errors.join("; ") },
    }
}

/// wrk's "1.23ms", "456.00us", "1.02s".
fn millis(v: &str) -> f64 {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, f64::NAN)
    };
    number.parse::<f64>().map_or(f64::NAN, |n| n * factor)
}

#[tokio::main]
async fn main() {
    let (server, backend) = start();
    let base = server.base.clone();
    let database = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", server._dir.path().join("bench.db").display()));
    let product = product_on_sale(&base, &database).await;
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
        let health = wrk("`/healthz` (middleware only)", &format!("{base}/healthz"));
        let rows = [
            wrk("the 404 page (shell only)", &format!("{base}/no-such-page")),
            wrk("the storefront `/`", &format!("{base}/")),
            wrk(&format!("a product page with two prices (`{product}`)"), &format!("{base}{product}")),
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

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_durations_are_read_in_milliseconds() {
        assert_eq!(super::millis("1.50ms"), 1.5);
        assert_eq!(super::millis("250.00us"), 0.25);
        assert_eq!(super::millis("1.02s"), 1020.0);
    }
}
