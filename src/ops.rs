//! Operations endpoints: liveness, readiness, Prometheus metrics.

use std::sync::OnceLock;

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use axum_prometheus::{
    metrics_exporter_prometheus::PrometheusHandle, EndpointLabel, PrometheusMetricLayer, PrometheusMetricLayerBuilder,
};
use secrecy::ExposeSecret;
use serde_json::json;
use server::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The request metrics layer (counts and latency histograms per route).
/// Labelled by route, never by the raw path: requests for paths that match
/// no route share one label, so inventing paths cannot grow the registry.
pub fn metrics_layer() -> PrometheusMetricLayer<'static> {
    handle();
    PrometheusMetricLayerBuilder::new()
        .with_endpoint_label_type(EndpointLabel::MatchedPathWithFallbackFn(unmatched))
        .build()
}

pub const UNMATCHED: &str = "(unmatched)";

fn unmatched(_path: &str) -> String {
    UNMATCHED.to_owned()
}

/// The process-wide recorder: installed once, however many apps a test
/// process starts.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusMetricLayer::pair().1)
}

/// 200 when the database answers and every migration this binary knows is
/// applied; 503 with the reason otherwise.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness: database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "database": "unreachable"})));
    }
    match state.db.pending_migrations().await {
        Ok(pending) if pending.is_empty() => {
            (StatusCode::OK, Json(json!({"status": "ready", "database": "ok", "migrations": "current"})))
        }
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "ok", "migrations": "pending", "pending": pending})),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness: cannot read migrations");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "ok", "migrations": "unknown"})),
            )
        }
    }
}

/// Prometheus text, for the holder of `REPOPASS_METRICS_TOKEN` (as a bearer
/// token); open only in sandbox mode without a token.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.config.metrics_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            // Compared as digests: the time taken says nothing about the token.
            if server::api_keys::hash_key(given) != server::api_keys::hash_key(token.expose_secret().trim()) {
                let message = "metrics need Authorization: Bearer <REPOPASS_METRICS_TOKEN>";
                return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], message).into_response();
            }
        }
        None if state.config.sandbox => {}
        None => {
            return (
                StatusCode::NOT_FOUND,
                "metrics are off: set REPOPASS_METRICS_TOKEN and scrape with Authorization: Bearer <token>",
            )
                .into_response()
        }
    }
    let pool = state.db.pool();
    metrics::gauge!("repopass_db_pool_connections").set(pool.size() as f64);
    metrics::gauge!("repopass_db_pool_idle_connections").set(pool.num_idle() as f64);
    metrics::gauge!("repopass_db_pool_max_connections").set(pool.options().get_max_connections() as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}
