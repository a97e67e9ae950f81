//! Operations endpoints: liveness, readiness, Prometheus metrics.

use std::sync::OnceLock;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use axum_prometheus::{metrics_exporter_prometheus::PrometheusHandle, PrometheusMetricLayer};
use serde_json::json;
use server::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The request metrics layer (counts and latency histograms per route).
pub fn metrics_layer() -> PrometheusMetricLayer<'static> {
    handle();
    PrometheusMetricLayer::new()
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
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "database": "ok", "migrations": "unknown"})))
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db.pool();
    metrics::gauge!("repopass_db_pool_connections").set(pool.size() as f64);
    metrics::gauge!("repopass_db_pool_idle_connections").set(pool.num_idle() as f64);
    metrics::gauge!("repopass_db_pool_max_connections").set(pool.options().get_max_connections() as f64);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render())
}
