//! RepoPass as buyers reach it, in its own process (the release binary,
//! zero-config), and `wrk` in another: what the pages and webhooks benches
//! share.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
};

use serde_json::Value;

pub struct Server {
    child: Child,
    pub base: String,
    /// Where the server's database is (`BENCH_DATABASE_URL`, or a SQLite file in `dir`).
    pub database: String,
    pub backend: &'static str,
    /// The data directory: removed when dropped.
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `repopass serve` as buyers reach it: release build, warnings only logged.
pub fn start() -> Server {
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
    Server { child, base: format!("http://127.0.0.1:{port}"), database, backend, dir }
}

pub struct Row {
    pub what: String,
    pub requests: u64,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
    /// Non-2xx answers (wrk's "Non-2xx or 3xx responses").
    pub non_2xx: u64,
    /// Non-2xx and socket errors, as wrk says them ("0": none).
    pub errors: String,
    /// What wrk printed.
    pub output: String,
}

/// A wrk script: every request from another address of 10.0.0.0/8, in
/// `X-Forwarded-For`. From one address the rate limit (at most 100 000 a
/// minute) would answer most requests 429 once pages are fast enough.
/// One wrk run of `script` (Lua) with `args` after `--`; latencies in
/// milliseconds.
pub fn wrk(what: &str, url: &str, script: &str, args: &[String]) -> Row {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let file = tempfile::Builder::new().suffix(".lua").tempfile().expect("a temporary file");
    std::fs::write(file.path(), script).expect("write the wrk script");
    let out = Command::new("wrk")
        .args([
            format!("-t{}", env("BENCH_THREADS", 2)),
            format!("-c{}", env("BENCH_CONNECTIONS", 64)),
            format!("-d{}s", env("BENCH_SECONDS", 8)),
            "--latency".to_owned(),
            "-s".to_owned(),
            file.path().display().to_string(),
            url.to_owned(),
            "--".to_owned(),
        ])
        .args(args)
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
    let non_2xx = field("Non-2xx or 3xx responses:").and_then(|e| e.parse().ok()).unwrap_or(0);
    let mut errors = Vec::new();
    if non_2xx > 0 {
        errors.push(format!("{non_2xx} non-2xx"));
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
        non_2xx,
        errors: if errors.is_empty() { "0".to_owned() } else { errors.join("; ") },
        output: text,
    }
}

/// wrk's "1.23ms", "456.00us", "1.02s".
pub fn millis(v: &str) -> f64 {
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

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_durations_are_read_in_milliseconds() {
        assert_eq!(super::millis("1.50ms"), 1.5);
        assert_eq!(super::millis("250.00us"), 0.25);
        assert_eq!(super::millis("1.02s"), 1020.0);
    }
}
