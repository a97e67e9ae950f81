//! What every bench starts with: RepoPass on its database (a SQLite file in
//! a temporary directory, or `BENCH_DATABASE_URL`), beside the sandbox, in
//! this process; an API key; a repository on sale.
#![allow(dead_code)] // each bench uses its own part

pub mod separate;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use repopass::startup::Application;
use serde_json::{json, Value};
use server::{AppState, Config};

pub struct Bench {
    pub base: String,
    pub state: AppState,
    pub backend: &'static str,
    /// The data directory (and the SQLite file): removed when dropped.
    pub dir: tempfile::TempDir,
}

/// Starts RepoPass with `extra` settings on top of the bench's own.
pub async fn start(extra: &[(&'static str, String)]) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let database = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let backend = if database.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".into()),
        ("REPOPASS_DATA_DIR", dir.path().display().to_string()),
        // The most allowed: the bench is one address sending a lot.
        ("REPOPASS_RATE_LIMIT", "100000".into()),
        ("LOG_FORMAT", "text".into()),
    ]);
    vars.extend(extra.iter().cloned());
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("configuration");
    let leptos = repopass::leptos_settings::from_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo-leptos.toml"),
    )
    .unwrap();
    let app = Application::build(config, leptos).await.expect("the app starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    Bench { base, state, backend, dir }
}

impl Bench {
    /// Publishes `repository` (the REST API's fields) with a $49 one-time
    /// price; returns the price's id.
    pub async fn on_sale(&self, http: &reqwest::Client, repository: Value) -> String {
        let key = server::api_keys::create(&self.state.db, "bench", None).await.unwrap();
        let key = secrecy::ExposeSecret::expose_secret(&key.secret).to_owned();
        let repo: Value = http
            .post(format!("{}/api/v1/repositories", self.base))
            .bearer_auth(&key)
            .json(&repository)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let price: Value = http
            .post(format!("{}/api/v1/repositories/{}/prices", self.base, repo["id"]))
            .bearer_auth(&key)
            .json(&json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        price["id"].to_string()
    }
}

/// The `p` quantile of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The reference for a durable write: single-row INSERTs into a new table of
/// `pool`'s database from `connections` tasks for `seconds`; the sorted
/// latencies and the time taken.
pub async fn raw_inserts(pool: &sqlx::AnyPool, connections: usize, seconds: f64) -> (Vec<Duration>, Duration) {
    sqlx::query("CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)").execute(pool).await.unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (pool, counter) = (pool.clone(), counter.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < end {
                    let i = counter.fetch_add(1, Ordering::Relaxed) as i64;
                    let t = Instant::now();
                    sqlx::query("INSERT INTO bench_raw (id, payload) VALUES ($1, $2)")
                        .bind(i)
                        .bind("{\"id\":\"evt\"}")
                        .execute(&pool)
                        .await
                        .unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    latencies.sort();
    (latencies, started.elapsed())
}
