//! Builds the whole server: database, state, router, listener.
//! Tests call `Application::build` with port 0 and a fresh database.

use std::{net::SocketAddr, sync::Arc};

use app::{shell, App};
use axum::{http::HeaderName, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_config::LeptosOptions;
use server::{state::Next, AppState, Config, Db};
use tokio::net::TcpListener;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database {url}: {source}")]
    Database { url: String, source: server::db::DbError },
    #[error("session store: {0}")]
    Sessions(String),
    #[error("{0}")]
    State(String),
    #[error("sandbox: {0}")]
    Sandbox(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    workers: Vec<tokio::task::JoinHandle<()>>,
    sessions: crate::sessions::Store,
}

/// How one run of the server ended.
pub enum Ended {
    /// Stopped for good (SIGTERM, Ctrl-C, the test's future).
    Stopped,
    /// Settings were saved: build again on the same listener (no connection
    /// is refused in between) and the same database and session pools.
    Reload(Foundation),
}

/// What outlives a reload: the listener, the database, the session store.
pub struct Foundation {
    listener: TcpListener,
    db: Db,
    sessions: crate::sessions::Store,
}

impl Foundation {
    /// Connects and migrates the database and opens the session store.
    pub async fn connect(listener: TcpListener, config: &Config) -> Result<Self, StartupError> {
        let db_err = |url: String| move |source| StartupError::Database { url, source };
        let db = Db::connect(&config.database.url).await.map_err(db_err(config.database_url_for_logs()))?;
        db.migrate().await.map_err(db_err(config.database_url_for_logs()))?;
        let sessions = crate::sessions::store(config, &db).await.map_err(|e| StartupError::Sessions(e.to_string()))?;
        sessions.spawn_janitor(std::time::Duration::from_secs(3600));
        Ok(Foundation { listener, db, sessions })
    }
}

/// How long running jobs get to finish when the server stops or reloads; a
/// job cut off is taken over by a worker when its lease runs out.
const JOB_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    /// Connects and migrates the database, then binds the listener.
    pub async fn build(config: Config, leptos: LeptosOptions) -> Result<Self, StartupError> {
        let addr = config.site_addr;
        let listener = TcpListener::bind(addr).await.map_err(|source| StartupError::Listen { addr, source })?;
        let foundation = Foundation::connect(listener, &config).await?;
        Self::on(foundation, config, leptos, None).await
    }

    /// Builds the server on a bound listener: the database (migrated), the
    /// settings saved in it (merged under the environment's), and — while
    /// setup is not finished — the gate that only `setup`'s holder passes.
    /// `link` is the setup link of this process, kept across reloads.
    pub async fn on(
        foundation: Foundation,
        mut config: Config,
        leptos: LeptosOptions,
        link: Option<Arc<server::setup::SetupLink>>,
    ) -> Result<Self, StartupError> {
        let Foundation { listener, db, sessions } = foundation;
        if !config.sandbox {
            server::vault::complete(&mut config, &db, true).await.map_err(|e| StartupError::State(e.to_string()))?;
        }
        if let Err(err) = server::admins::log_unlisted(&db, &config).await {
            tracing::warn!(error = %err, "could not compare the admins with REPOPASS_ADMINS");
        }
        // Port 0 (tests) means "any free port": the public URL follows the one we got.
        if config.public_url.port() == Some(0) {
            let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
            let _ = config.public_url.set_port(Some(port));
        }
        sandbox::configure(&mut config);
        let sandbox = if config.sandbox { Some(start_sandbox(&config, &db).await?) } else { None };
        let progress = server::setup::progress(&config, &db).await.map_err(|e| StartupError::State(e.to_string()))?;
        let session_layer = crate::sessions::layer(sessions.clone(), &config);
        let setup = progress.next().is_some().then(|| match link {
            Some(link) => link,
            None => {
                let (link, token) = server::setup::SetupLink::new();
                // The only place the token appears: whoever reads this log runs setup.
                tracing::warn!(
                    "setup is not finished: open {} in your browser to connect GitHub and Stripe (this link works once; restart RepoPass for a new one)",
                    server::setup::link_url(&config, &token)
                );
                Arc::new(link)
            }
        });
        let state = AppState::new(config, db, setup).map_err(|e| StartupError::State(e.to_string()))?;
        state.page_views.spawn_flusher(state.db.clone(), std::time::Duration::from_secs(10), state.control.clone());
        state.pages.spawn_watch(state.db.clone(), state.config.database.url.clone(), state.control.clone());
        // Workers run in every serving process (several may share one PostgreSQL);
        // not before setup is finished: there is nothing to work with.
        let workers = if state.setup.is_none() {
            (0..state.config.workers)
                .map(|_| tokio::spawn(server::worker::run(state.clone(), state.wake.clone())))
                .collect()
        } else {
            Vec::new()
        };
        let router = router(state.clone(), leptos, sandbox).layer(session_layer);
        Ok(Application { listener, router, state, workers, sessions })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM (then lets requests and running jobs
    /// finish) or until saved settings ask for a reload.
    pub async fn run_until_stopped(self) -> std::io::Result<Ended> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes or a reload is asked for. Tests
    /// pass a future that never completes, so that their process keeps the
    /// default signal handling (a SIGTERM from a timeout must end a stuck
    /// test run).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Ended> {
        let control = self.state.control.clone();
        let stop = {
            let control = control.clone();
            async move {
                tokio::select! {
                    () = shutdown => control.request(Next::Stop),
                    _ = control.ended() => {}
                }
            }
        };
        let served = crate::serve::serve(&self.listener, self.router, stop).await;
        // Whatever ended serving, the workers stop taking jobs now.
        if control.next() == Next::Run {
            control.request(Next::Stop);
        }
        let waiting = futures::future::join_all(self.workers);
        if tokio::time::timeout(JOB_DRAIN, waiting).await.is_err() {
            tracing::warn!(
                "jobs still running {} s after the stop were left to the next worker (their leases run out)",
                JOB_DRAIN.as_secs()
            );
        }
        if let Err(e) = self.state.page_views.flush(&self.state.db).await {
            tracing::warn!(error = %e, "page views counted since the last flush were not written");
        }
        served?;
        if control.next() == Next::Reload {
            let db = self.state.db.clone();
            return Ok(Ended::Reload(Foundation { listener: self.listener, db, sessions: self.sessions }));
        }
        self.state.db.close().await;
        Ok(Ended::Stopped)
    }
}

/// The sandbox serves under our own address; its secrets are the ones our
/// webhook endpoints check.
async fn start_sandbox(config: &Config, db: &Db) -> Result<sandbox::Sandbox, StartupError> {
    let secret = |s: &Option<secrecy::SecretString>| s.clone().unwrap_or_else(|| secrecy::SecretString::from(""));
    let sb = sandbox::Sandbox::new(
        db.clone(),
        config.public_url.clone(),
        secret(&config.stripe.webhook_secret),
        secret(&config.github.webhook_secret),
    );
    sb.start().await.map_err(|e| StartupError::Sandbox(e.to_string()))?;
    Ok(sb)
}

pub fn router(state: AppState, leptos: LeptosOptions, sandbox: Option<sandbox::Sandbox>) -> Router {
    let routes = generate_route_list(App);
    let origin = |u: &url::Url| u.origin().ascii_serialization();
    let forms = app::csp::FormTargets::new(
        state.config.stripe.api_base.as_ref().map(origin).as_deref(),
        &origin(&state.config.github.web_url),
    );
    let pages = crate::page_cache::PageCache::new(state.clone());
    let assets =
        crate::static_files::Assets::new(std::path::Path::new(leptos.site_root.as_ref()), &leptos.site_pkg_dir);
    assets.precompress_in_background();
    // What every page render knows: the same for the routes and the 404.
    let context = {
        let state = state.clone();
        let root = app::AssetRoot(assets.root());
        let forms = forms.clone();
        move || {
            provide_context(state.clone());
            provide_context(root.clone());
            provide_context(forms.clone());
        }
    };
    let document = {
        let leptos = leptos.clone();
        move || shell(leptos.clone())
    };
    // Any other address is the app's 404 page (`NotFound` sets the status),
    // rendered like every page. Not leptos_axum's `file_and_error_handler`:
    // it looked for a file on disk under the site root first, on every
    // unknown address, and rendered without this context (no versioned
    // stylesheet, no sandbox ribbon, the default form policy).
    // Kept in memory like the storefront (`page_cache`).
    let not_found = axum::handler::Handler::layer(
        leptos_axum::render_app_async_with_context(context.clone(), document.clone()),
        tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(pages.clone(), crate::page_cache::serve_not_found))
            .layer(axum::middleware::from_fn(crate::render_guard::bounded)),
    );
    let site = Router::new()
        .leptos_routes_with_context(&leptos, routes, context, document)
        // Every page render is bounded (a stalled Leptos render is retried once).
        .route_layer(axum::middleware::from_fn(crate::render_guard::bounded))
        // The storefront and product pages, kept once rendered (outside the
        // guard: a page served from memory has nothing to bound).
        .route_layer(axum::middleware::from_fn_with_state(pages.clone(), crate::page_cache::serve))
        .merge(assets.router())
        .route("/favicon.ico", axum::routing::get(favicon))
        .fallback(not_found)
        .with_state(leptos);

    let limits = crate::rate_limit::Limits::new(
        state.config.limits.rate_limit_per_minute,
        state.config.limits.trusted_proxies.clone(),
    );
    limits.spawn_janitor(state.control.clone());
    let guard = crate::security::Guard::new(&state.config.public_url, forms);
    let mut router = Router::new()
        .merge(crate::ops::router().with_state(state.clone()))
        .merge(crate::sign_in::router().with_state(state.clone()))
        .merge(crate::setup::router().with_state(state.clone()))
        .merge(crate::account_auth::router().with_state(state.clone()))
        .merge(crate::activity_stream::router().with_state(state.clone()))
        .merge(crate::customers_csv::router().with_state(state.clone()))
        .merge(crate::covers::router(&state).with_state(state.clone()))
        .merge(crate::webhooks::router().with_state(state.clone()))
        .nest("/api/v1", crate::api_v1::router().with_state(state.clone()))
        .merge(site);
    // Only in sandbox mode: with real credentials these paths do not exist.
    if let Some(sb) = sandbox {
        router = router.nest("/sandbox", sb.router());
    }
    router
        .layer(axum::middleware::from_fn_with_state(pages, crate::page_cache::after_changes))
        .layer(axum::middleware::from_fn_with_state(state, crate::setup::gate))
        .layer(axum::middleware::from_fn_with_state(guard.clone(), crate::security::check))
        .layer(axum::middleware::from_fn_with_state(limits, crate::rate_limit::limit))
        .layer(axum::middleware::from_fn_with_state(guard, crate::security::headers))
        .layer(crate::ops::metrics_layer())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: query strings can carry tokens.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Over-long addresses end with 414 (see `serve`).
        .layer(axum::middleware::from_fn(crate::serve::uri_limit))
}

/// The site's only file outside `/pkg`, built in: browsers ask for it on
/// every site without reading the page.
async fn favicon() -> impl axum::response::IntoResponse {
    const ICON: &[u8] = include_bytes!("../public/favicon.ico");
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/x-icon"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
