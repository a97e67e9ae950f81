use std::collections::HashMap;

use repopass::startup::Application;
use server::{AppState, Config};

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running RepoPass and everything a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    _database: TestDatabase,
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

    /// An octocrab client configured as RepoPass configures its own.
    pub fn github(&self) -> octocrab::Octocrab {
        let config = &self.state.config;
        let token = match &config.github_auth {
            Some(server::config::GithubAuth::Token(t)) => secrecy::ExposeSecret::expose_secret(t).to_owned(),
            _ => panic!("sandbox mode uses a token"),
        };
        octocrab::Octocrab::builder()
            .base_uri(config.github_api_url.as_str())
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
    let mut vars = HashMap::from([
        ("DATABASE_URL".to_owned(), database.url.clone()),
        ("LEPTOS_SITE_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("REPOPASS_DATA_DIR".to_owned(), database.dir.path().display().to_string()),
        // Every test comes from 127.0.0.1; the limits' own test sets theirs.
        ("REPOPASS_RATE_LIMIT".to_owned(), "100000".to_owned()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| vars.get(k).cloned()).expect("test configuration is valid");
    let leptos = repopass::leptos_settings::from_file(&manifest_dir().join("Cargo-leptos.toml")).expect("Cargo-leptos.toml");
    let app = Application::build(config, leptos).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Some(TestApp { address, state, client, _database: database })
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
                sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.expect("create test database");
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
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await;
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

/// Runs each named scenario `async fn name(app: TestApp)` against SQLite and,
/// when TEST_DATABASE_URL is set, PostgreSQL.
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
                    let app = $crate::helpers::spawn_app_with($crate::helpers::Backend::Sqlite, &$vars).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Postgres, &$vars).await else {
                        eprintln!("skipped: set TEST_DATABASE_URL to run the PostgreSQL variant");
                        return;
                    };
                    super::$name(app).await;
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
                if n < fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }
        };
        let app = Router::new().route("/api/webhooks/{provider}", post(handler)).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        WebhookReceiver { base, received }
    }

    /// Waits (up to `secs`) until `n` requests matching `pred` arrived.
    pub async fn wait_for(&self, n: usize, secs: u64, pred: impl Fn(&axum::http::HeaderMap, &str) -> bool) -> Vec<(axum::http::HeaderMap, String)> {
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

    /// An async-stripe client configured as RepoPass configures its own.
    pub fn stripe(&self) -> stripe::Client {
        let config = &self.state.config;
        let key = secrecy::ExposeSecret::expose_secret(config.stripe_secret_key.as_ref().unwrap()).to_owned();
        stripe::ClientBuilder::new(key).url(config.stripe_api_base.as_ref().unwrap().as_str()).build().unwrap()
    }
}
