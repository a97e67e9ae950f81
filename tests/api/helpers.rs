use std::{collections::HashMap, future::Future, time::Duration};

use repopass::startup::Application;
use server::{AppState, Config};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running RepoPass and everything a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    /// `None` for a second app on another's database (`spawn_app_beside`).
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request failed")
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        self.state.db.pool()
    }

    /// POST JSON to the sandbox's control API; panics unless 2xx.
    pub async fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self.client.post(self.url(&format!("/sandbox/control{path}"))).json(&body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "control {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn control_get(&self, path: &str) -> serde_json::Value {
        self.get(&format!("/sandbox/control{path}")).await.json().await.unwrap()
    }

    /// Someone adds `login` to sandbox-org/enterprise-sdk by hand on GitHub,
    /// not through RepoPass, and they accept: a collaborator nobody paid for.
    pub async fn collaborator_by_hand(&self, login: &str) {
        let invitation = self
            .github()
            .repos("sandbox-org", "enterprise-sdk")
            .add_collaborator(login)
            .send()
            .await
            .unwrap()
            .expect("an invitation");
        self.control(&format!("/github/invitations/{}/accept", invitation.id.0), serde_json::json!({})).await;
    }

    /// An octocrab client configured as RepoPass configures its own.
    pub fn github(&self) -> octocrab::Octocrab {
        let config = &self.state.config;
        let token = match &config.github.auth {
            Some(server::config::GithubAuth::Token(t)) => secrecy::ExposeSecret::expose_secret(t).to_owned(),
            _ => panic!("sandbox mode uses a token"),
        };
        octocrab::Octocrab::builder()
            .base_uri(config.github.api_url.as_str())
            .unwrap()
            .personal_token(token)
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .build()
            .unwrap()
    }
}

/// Starts the app on a fresh database; `None` when the backend is not
/// available here (PostgreSQL without TEST_DATABASE_URL).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// Like `spawn_app`, with extra configuration variables.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    let database = TestDatabase::create(backend).await?;
    let mut app = start(&database.url, database.dir.path(), extra, None).await;
    app._database = Some(database);
    Some(app)
}

/// Like `spawn_app`, serving the browser's files from `site_root`.
pub async fn spawn_app_with_site(backend: Backend, site_root: &std::path::Path) -> Option<TestApp> {
    let database = TestDatabase::create(backend).await?;
    let mut app = start(&database.url, database.dir.path(), &[], Some(site_root)).await;
    app._database = Some(database);
    Some(app)
}

/// A second RepoPass on `app`'s database, with its own configuration: what
/// a restart with changed settings sees.
pub async fn spawn_app_beside(app: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    let database = app._database.as_ref().expect("the first app owns its database");
    start(&database.url, database.dir.path(), extra, None).await
}

async fn start(
    database_url: &str,
    data_dir: &std::path::Path,
    extra: &[(&str, &str)],
    site_root: Option<&std::path::Path>,
) -> TestApp {
    let mut vars = HashMap::from([
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("LEPTOS_SITE_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("REPOPASS_DATA_DIR".to_owned(), data_dir.display().to_string()),
        // Every test comes from 127.0.0.1; the limits' own test sets theirs.
        ("REPOPASS_RATE_LIMIT".to_owned(), "100000".to_owned()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration is valid");
    let mut leptos =
        repopass::leptos_settings::from_file(&manifest_dir().join("Cargo-leptos.toml")).expect("Cargo-leptos.toml");
    if let Some(root) = site_root {
        leptos.site_root = root.display().to_string().into();
    }
    let app = Application::build(config, leptos).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(http_timeout()).build().unwrap();
    TestApp { address, state, client, _database: None }
}

/// `repopass serve` on `db` as a separate process: any free port on
/// loopback (its "listening" log line says which), JSON logs at `rust_log`
/// on piped stdout and stderr, nothing from the environment or a `.env`.
pub fn serve_command(db: &TestDatabase, rust_log: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_repopass"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("REPOPASS_DATA_DIR", db.dir.path())
        .env("REPOPASS_LEPTOS_CONFIG", manifest_dir().join("Cargo-leptos.toml"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", rust_log)
        .current_dir(db.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// A `repopass serve` process: started from `command` (see
/// `serve_command`), its address read from its "listening" line, its output
/// kept (`log`) and drained so that a full pipe never stalls it. Killed
/// when dropped.
pub struct Served {
    pub child: std::process::Child,
    pub base: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Served {
    pub fn start(command: &mut std::process::Command) -> Self {
        use std::io::{BufRead, BufReader, Read};
        let mut child = command.spawn().expect("start repopass");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let port = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("repopass stopped before listening: {err}\n{}", log.lock().unwrap());
            }
            log.lock().unwrap().push_str(&line);
            if let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) {
                if entry["message"] == "RepoPass is listening" {
                    break entry["port"].as_u64().unwrap();
                }
            }
        };
        for mut pipe in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())] {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&mut pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    log.lock().unwrap().push_str(&line);
                    line.clear();
                }
            });
        }
        Served { child, base: format!("http://127.0.0.1:{port}"), log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-off `repopass` command (`migrate`, `backup`, `doctor`…) on
/// `database_url`, with nothing from the environment but `vars`.
pub fn repopass_command(database_url: &str, args: &[&str], vars: &[(&str, &str)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_repopass"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "off");
    for (k, v) in vars {
        command.env(k, v);
    }
    command
}

pub fn manifest_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A database that exists for one test: a SQLite file in a temporary
/// directory, or a PostgreSQL database dropped when the test ends.
pub struct TestDatabase {
    pub url: String,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>, // (admin URL, database name)
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Some(TestDatabase { url, dir, postgres: None })
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
                let name = format!("repopass_test_{}", uuid_like());
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL is set but PostgreSQL is not reachable");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(TestDatabase { url: url.to_string(), dir, postgres: Some((admin_url, name)) })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            })
        })
        .join();
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// How long one scenario may run before it counts as stuck. The slowest
/// take a few seconds alone and under a minute on a loaded machine;
/// `TEST_SCENARIO_LIMIT_SECS` changes it.
pub fn scenario_limit() -> Duration {
    let secs = std::env::var("TEST_SCENARIO_LIMIT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    Duration::from_secs(secs)
}

/// Every HTTP client of the tests gives up after this: longer than a
/// scenario's limit, so a request that hangs is reported by the scenario's
/// guard (with what the server was doing) before the client gives up.
pub fn http_timeout() -> Duration {
    scenario_limit() + Duration::from_secs(30)
}

/// A scenario that overran its limit: its name and what was still pending.
#[derive(Debug)]
pub struct Stuck {
    pub name: String,
    pub limit: Duration,
    pub report: String,
}

impl std::fmt::Display for Stuck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} did not finish within {:?}: something it waits for never comes.\n{}",
            self.name, self.limit, self.report
        )
    }
}

/// Runs `scenario` under `limit`. On overrun, reports before anything is
/// dropped: the spans still open, the database pool and the live tasks.
pub async fn bounded(
    name: &str,
    limit: Duration,
    spans: &crate::watch::OpenSpans,
    pool: Option<sqlx::AnyPool>,
    scenario: impl Future<Output = ()>,
) -> Result<(), Stuck> {
    tokio::pin!(scenario);
    tokio::select! {
        () = &mut scenario => Ok(()),
        () = tokio::time::sleep(limit) => {
            let mut report = format!("Open spans (requests, jobs, outgoing calls), oldest first:\n{}", spans.report());
            if let Some(pool) = pool {
                report += &format!("Database pool: {} connections open, {} idle, {} in use.\n", pool.size(), pool.num_idle(), pool.size() as usize - pool.num_idle());
            }
            report += &format!("Tokio tasks alive on this test's runtime: {}.\n", tokio::runtime::Handle::current().metrics().num_alive_tasks());
            report += &task_dump().await;
            Err(Stuck { name: name.to_owned(), limit, report })
        }
    }
}

/// A test's guards: its own span recorder (as the thread's subscriber) and a
/// watchdog for a thread that stops yielding.
struct Guards {
    spans: crate::watch::OpenSpans,
    _subscriber: tracing::subscriber::DefaultGuard,
    _watchdog: crate::watch::Watchdog,
}

impl Guards {
    fn new(name: &str, limit: Duration) -> Self {
        let spans = crate::watch::OpenSpans::default();
        let _subscriber = tracing::subscriber::set_default(spans.subscriber());
        let _watchdog = crate::watch::Watchdog::arm(name.to_owned(), limit + Duration::from_secs(60), spans.clone());
        Guards { spans, _subscriber, _watchdog }
    }
}

/// Where each task of this runtime waits, when the tests are built with
/// `--cfg tokio_unstable` (`./dev test` does; the dev-dependency turns on
/// tokio's `taskdump`, Linux only); a note otherwise.
#[cfg(tokio_unstable)]
async fn task_dump() -> String {
    let handle = tokio::runtime::Handle::current();
    match tokio::time::timeout(Duration::from_secs(10), handle.dump()).await {
        Ok(dump) => dump
            .tasks()
            .iter()
            .enumerate()
            .map(|(i, task)| format!("Task {i}:\n{}\n", compact_trace(&task.trace().to_string())))
            .collect(),
        Err(_) => "The task dump did not finish within 10 s.\n".into(),
    }
}

/// A task's trace, readable: one frame a line without generic arguments,
/// paths relative to the crate, and only the frames worth reading (ours,
/// the frameworks', the awaited leaf).
#[cfg(tokio_unstable)]
fn compact_trace(trace: &str) -> String {
    let ours = ["/work/", "./", "repopass::", "server::", "sandbox::", "app::"];
    let frameworks = ["leptos", "reactive_graph", "tachys", "sqlx", "reqwest", "octocrab", "stripe"];
    let lines: Vec<&str> = trace.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let rest = &line[line.find(|c: char| c.is_alphanumeric() || c == '<' || c == '{').unwrap_or(0)..];
        let (what, path) = rest.split_once(" at ").unwrap_or((rest, ""));
        let leaf = i + 1 == lines.len();
        if !(leaf
            || ours.iter().any(|w| path.contains(w) || what.starts_with(w))
            || frameworks.iter().any(|w| path.contains(w)))
        {
            continue;
        }
        // Generic arguments make frames unreadable; the name and place say enough.
        let mut name = String::new();
        let mut depth = 0;
        for c in what.chars() {
            match c {
                '<' => depth += 1,
                '>' if depth > 0 => depth -= 1,
                _ if depth == 0 => name.push(c),
                _ => {}
            }
        }
        let path = path
            .rsplit_once("/src/index.crates.io-")
            .map(|(_, p)| p.split_once('/').map_or(p, |(_, p)| p))
            .unwrap_or(path);
        out += &format!("  {name} {path}\n");
    }
    out
}

#[cfg(not(tokio_unstable))]
async fn task_dump() -> String {
    "(Build with RUSTFLAGS=\"--cfg tokio_unstable\" for where each task waits.)\n".into()
}

/// One scenario against one backend: starts the app, runs the scenario
/// under its limit and a watchdog, and fails with its name and what was
/// pending if it does not finish.
pub async fn run_scenario<F, Fut>(name: &str, backend: Backend, vars: &[(&str, &str)], scenario: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let limit = scenario_limit();
    let guards = Guards::new(name, limit);
    let started = std::time::Instant::now();
    let app = match tokio::time::timeout(limit, spawn_app_with(backend, vars)).await {
        Ok(Some(app)) => app,
        Ok(None) => return eprintln!("skipped: set TEST_DATABASE_URL to run the PostgreSQL variant"),
        Err(_) => panic!("{name}: the app did not start within {limit:?}\n{}", guards.spans.report()),
    };
    let pool = app.pool().clone();
    if let Err(stuck) =
        bounded(name, limit.saturating_sub(started.elapsed()), &guards.spans, Some(pool), scenario(app)).await
    {
        panic!("{stuck}");
    }
}

/// A test that is not a scenario (it starts its own app or process), under
/// the same limit and watchdog.
pub async fn guarded(name: &str, test: impl Future<Output = ()>) {
    guarded_for(name, scenario_limit(), test).await
}

/// `guarded` with a limit of its own, for a test that does much more than a
/// scenario (hundreds of purchases through a real process).
pub async fn guarded_for(name: &str, limit: Duration, test: impl Future<Output = ()>) {
    let guards = Guards::new(name, limit);
    if let Err(stuck) = bounded(name, limit, &guards.spans, None, test).await {
        panic!("{stuck}");
    }
}

/// Runs each named scenario `async fn name(app: TestApp)` against SQLite and,
/// when TEST_DATABASE_URL is set, PostgreSQL, each under `run_scenario`'s
/// limit.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        $crate::scenarios!(with [] $($name),*);
    };
    // `with [("VAR", "value"), ...]`: extra configuration for every scenario.
    (with $vars:tt $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::helpers::run_scenario(concat!(module_path!(), "::", stringify!($name)), $crate::helpers::Backend::Sqlite, &$vars, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::helpers::run_scenario(concat!(module_path!(), "::", stringify!($name)), $crate::helpers::Backend::Postgres, &$vars, super::$name).await;
                }
            )*
        }
    };
}

/// A stand-in for RepoPass's webhook endpoints: records what arrives and
/// answers 500 to the first `fail_first` requests.
pub struct WebhookReceiver {
    pub base: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
}

impl WebhookReceiver {
    pub async fn start(fail_first: usize) -> Self {
        use axum::{extract::State, http::StatusCode, routing::post, Router};
        type Log = std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>;
        let received: Log = Default::default();
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handler = move |State(log): State<Log>, headers: axum::http::HeaderMap, body: String| {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                log.lock().unwrap().push((headers, body));
                if n < fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        };
        let app = Router::new().route("/api/webhooks/{provider}", post(handler)).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        WebhookReceiver { base, received }
    }

    /// Waits (up to `secs`) until `n` requests matching `pred` arrived.
    pub async fn wait_for(
        &self,
        n: usize,
        secs: u64,
        pred: impl Fn(&axum::http::HeaderMap, &str) -> bool,
    ) -> Vec<(axum::http::HeaderMap, String)> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got: Vec<_> = self.received.lock().unwrap().iter().filter(|(h, b)| pred(h, b)).cloned().collect();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl TestApp {
    /// Sends the sandbox's webhooks to `receiver` instead of RepoPass.
    pub async fn redirect_webhooks(&self, receiver: &WebhookReceiver) {
        self.control("/webhook_target", serde_json::json!({ "base": receiver.base })).await;
    }

    /// A call to the sandbox's Stripe API as raw JSON (`GET` without a
    /// form), for fields RepoPass's own types leave out.
    pub async fn stripe_json(&self, path: &str, form: Option<&[(&str, &str)]>) -> (u16, serde_json::Value) {
        let url = self.url(&format!("/sandbox/stripe/v1{path}"));
        let request = match form {
            Some(form) => self.client.post(url).form(form),
            None => self.client.get(url),
        };
        let response = request.bearer_auth(sandbox::STRIPE_SECRET_KEY).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or_default())
    }

    /// An async-stripe client configured as RepoPass configures its own.
    pub fn stripe(&self) -> stripe::Client {
        let config = &self.state.config;
        let key = secrecy::ExposeSecret::expose_secret(config.stripe.secret_key.as_ref().unwrap()).to_owned();
        stripe::ClientBuilder::new(key).url(config.stripe.api_base.as_ref().unwrap().as_str()).build().unwrap()
    }
}
