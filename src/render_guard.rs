//! A bound on server rendering. Pages render in Leptos's `Async` mode: the
//! response waits until every `<Suspense>` has resolved. Under CPU pressure
//! that sometimes never happens — the signal that a resource finished is
//! lost inside Leptos's Suspense machinery, and the request stays open for
//! ever with no task of ours running and no database connection in use
//! (found by issue 24's stress runs; see README, "Tests"). A render that
//! takes longer than `RENDER_LIMIT` is abandoned and rendered once more; a
//! second stall answers 503 with `Retry-After`, so no request waits without
//! end. The stall can also come after the headers: Leptos sends the page
//! and then streams the data for hydration, which waits on the same
//! notifications; a body that sends nothing for `RENDER_LIMIT` is cut off
//! (the connection ends with an error the browser shows, instead of a tab
//! loading for ever).

use std::time::Duration;

use axum::{
    body::Body,
    extract::Request,
    http::{header::RETRY_AFTER, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Far above a normal render (tens of milliseconds; a few seconds on a
/// machine under heavy load).
pub const RENDER_LIMIT: Duration = Duration::from_secs(10);

pub async fn bounded(request: Request, next: Next) -> Response {
    bounded_by(RENDER_LIMIT, request, next).await
}

pub(crate) async fn bounded_by(limit: Duration, request: Request, next: Next) -> Response {
    // Pages are GETs (HEAD too): nothing in the body to replay.
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let (parts, _) = request.into_parts();
    for attempt in 1..=2 {
        let request = Request::from_parts(parts.clone(), Body::empty());
        match tokio::time::timeout(limit, next.clone().run(request)).await {
            Ok(response) => return response.map(|body| Body::new(tower_http::timeout::TimeoutBody::new(limit, body))),
            Err(_) => {
                metrics::counter!("repopass_page_render_stalls_total").increment(1);
                tracing::warn!(path = %parts.uri.path(), attempt, limit_secs = limit.as_secs_f64(), "page rendering stalled; abandoned");
            }
        }
    }
    let message = "This page took too long to prepare. Please reload it in a moment.";
    (StatusCode::SERVICE_UNAVAILABLE, [(RETRY_AFTER, "1")], message).into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use axum::{routing::get, Router};
    use tower::ServiceExt;

    use super::*;

    /// A page whose first `stalls` renders never finish.
    fn page(stalls: usize) -> (Router, Arc<AtomicUsize>) {
        let renders = Arc::new(AtomicUsize::new(0));
        let counter = renders.clone();
        let router = Router::new()
            .route(
                "/p/x",
                get(move || {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < stalls {
                            std::future::pending::<()>().await;
                        }
                        "the page"
                    }
                }),
            )
            .route_layer(axum::middleware::from_fn(|r: Request, n: Next| bounded_by(Duration::from_millis(50), r, n)));
        (router, renders)
    }

    async fn get_page(router: Router) -> (StatusCode, Option<String>, String) {
        let response = router.oneshot(Request::get("/p/x").body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let retry = response.headers().get(RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, retry, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_stalled_render_is_rendered_again() {
        let (router, renders) = page(1);
        assert_eq!(get_page(router).await, (StatusCode::OK, None, "the page".to_owned()));
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_render_that_stalls_twice_answers_503_with_retry_after() {
        let (router, renders) = page(2);
        let (status, retry, body) = get_page(router).await;
        assert_eq!((status, retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("1")));
        assert!(body.contains("reload"), "{body}");
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_body_that_stalls_after_the_headers_is_cut_off() {
        use futures::StreamExt;
        let router = Router::new()
            .route(
                "/p/x",
                get(|| async {
                    let chunks = futures::stream::once(async { Ok::<_, std::io::Error>("<html>the page") })
                        .chain(futures::stream::pending());
                    Body::from_stream(chunks)
                }),
            )
            .route_layer(axum::middleware::from_fn(|r: Request, n: Next| bounded_by(Duration::from_millis(50), r, n)));
        let response = router.oneshot(Request::get("/p/x").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let read =
            tokio::time::timeout(Duration::from_secs(5), axum::body::to_bytes(response.into_body(), 1 << 16)).await;
        assert!(matches!(read, Ok(Err(_))), "the stalled body must end with an error, not hang: {read:?}");
    }

    #[tokio::test]
    async fn a_normal_render_runs_once() {
        let (router, renders) = page(0);
        assert_eq!(get_page(router).await.0, StatusCode::OK);
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }
}
