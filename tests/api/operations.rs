use crate::{helpers::TestApp, scenarios};

scenarios!(health_and_readiness, readiness_reports_pending_migrations, metrics_count_requests_per_route, request_ids);

mod protected {
    crate::scenarios!(with [("REPOPASS_METRICS_TOKEN", "metrics-token-0123456789")] metrics_need_the_token_and_do_not_grow_with_invented_paths);
    use super::metrics_need_the_token_and_do_not_grow_with_invented_paths;
}

/// Paths that match no route share one label (a scraper's memory, and
/// ours, must not grow with what strangers type); only the token holder reads them.
async fn metrics_need_the_token_and_do_not_grow_with_invented_paths(app: TestApp) {
    let scrape = |token: Option<&'static str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some("metrics-token-wrong")).await.unwrap().status(), 401);
    let before = scrape(Some("metrics-token-0123456789")).await.unwrap().text().await.unwrap();

    let marker = format!("invented{}", std::process::id());
    for i in 0..40 {
        let path = format!("/pkg/{marker}-{i}-{}", "x".repeat(2000));
        assert_eq!(app.get(&path).await.status(), 404);
        assert!(app.get(&format!("/{marker}/{i}")).await.status().is_client_error());
    }
    let after = scrape(Some("metrics-token-0123456789")).await.unwrap();
    assert_eq!(after.status(), 200);
    let after = after.text().await.unwrap();
    assert!(!after.contains(&marker), "an invented path became a label");
    assert!(
        after.contains(&format!("endpoint=\"{}\"", repopass::ops::UNMATCHED)),
        "no shared label for unmatched paths"
    );
    // Other tests in this process add their own routes' series meanwhile; ours add at most one label.
    assert!(after.len() < before.len() + 40_000, "metrics grew from {} to {} bytes", before.len(), after.len());
}

async fn health_and_readiness(app: TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["migrations"], "current");
}

async fn readiness_reports_pending_migrations(app: TestApp) {
    // As if this binary were newer than the database: forget the first migration.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 1").execute(app.pool()).await.unwrap();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["migrations"], "pending");
    assert_eq!(body["pending"], serde_json::json!([1]));
}

async fn metrics_count_requests_per_route(app: TestApp) {
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    let healthz_count = text
        .lines()
        .find(|l| {
            l.starts_with("axum_http_requests_total")
                && l.contains("endpoint=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for /healthz in:\n{text}"));
    // Tests share one process-wide registry, so at least our three requests.
    let count: f64 = healthz_count.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{healthz_count}");
    assert!(text.contains("axum_http_requests_duration_seconds_bucket"), "latency histogram missing");
    assert!(text.contains("repopass_db_pool_connections "), "pool gauge missing");
    assert!(text.contains("repopass_db_pool_max_connections "), "pool gauge missing");
}

async fn request_ids(app: TestApp) {
    let generated = app.get("/healthz").await;
    let id = generated.headers().get("x-request-id").expect("a request id is generated").to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "uuid expected, got {id}");

    let given = app.client.get(app.url("/healthz")).header("x-request-id", "trace-me-123").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
}
