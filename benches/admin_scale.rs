//! The admin pages at scale: with `BENCH_PURCHASES` purchases (default
//! 100 000) and ten access-log entries each, how long the dashboard and the
//! customers table take to render, server side, as a signed-in creator's
//! browser asks for them.
//!
//!     cargo bench --bench admin_scale
//!
//! `BENCH_DATABASE_URL`: default a SQLite file in a temporary directory;
//! `postgres://…` (an empty database) for PostgreSQL. Each page is fetched
//! `BENCH_ROUNDS` times (default 30) one after another, after two warm-up
//! fetches; the figures are full responses (HTML of the server-rendered
//! page, or the server function's JSON), measured by the client.

use std::time::Instant;

use support::{ms, percentile};

mod support;

#[tokio::main]
async fn main() {
    let purchases: i64 = std::env::var("BENCH_PURCHASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let bench = support::start(&[]).await;
    let (base, state, backend) = (&bench.base, &bench.state, bench.backend);

    eprintln!("seeding {purchases} purchases on {backend}…");
    let started = Instant::now();
    let seeded = server::seed::seed(&state.db, purchases).await.expect("seeding");
    eprintln!(
        "seeded {} purchases and {} access-log entries in {:.1} s",
        seeded.purchases,
        seeded.log_entries,
        started.elapsed().as_secs_f64()
    );

    // Sign in as the creator through the sandbox's OAuth page.
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = browser.get(format!("{base}/auth/github?next=/admin")).send().await.unwrap();
    let authorize = url::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    form.push(("login".into(), "sandbox-creator".into()));
    let picked = browser.post(authorize.as_str()).form(&form).send().await.unwrap();
    browser.get(picked.headers()["location"].to_str().unwrap()).send().await.unwrap();

    let pages: [(&str, &str, &str); 5] = [
        ("GET", "/admin", "dashboard page"),
        ("GET", "/admin/customers", "customers table page"),
        ("GET", "/admin/customers?q=customer-4&status=active&sort=login", "customers, searched + filtered + sorted"),
        ("POST", "/api/admin/dashboard", "dashboard server function"),
        ("POST", "/api/admin/customers/list", "customers server function"),
    ];
    println!(
        "\n{backend}, {} purchases, {} access-log entries, {rounds} sequential requests each:\n",
        seeded.purchases, seeded.log_entries
    );
    println!("| page | p50 | p95 | max |");
    println!("| --- | --- | --- | --- |");
    for (method, path, label) in pages {
        let mut times = Vec::with_capacity(rounds);
        for i in 0..rounds + 2 {
            let request = if method == "GET" {
                browser.get(format!("{base}{path}"))
            } else {
                browser.post(format!("{base}{path}"))
            };
            let t = Instant::now();
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            let took = t.elapsed();
            assert!(status.is_success(), "{path}: {status} {body}");
            assert!(body.contains("customer-"), "{path} shows the seeded customers");
            if i >= 2 {
                times.push(took);
            }
        }
        times.sort();
        println!(
            "| {label} (`{method} {path}`) | {} | {} | {} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(*times.last().unwrap())
        );
    }
}
