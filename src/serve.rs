//! Accepting connections, with the limits `axum::serve` does not set: a
//! client gets 10 s to send its request head (a slow-loris client holding
//! connections open with a byte at a time is dropped), a head of at most
//! 32 KB and 64 header lines (hyper answers 431 past that), a URI of at
//! most 8 KB (414), and 30 s for a request body. Responses are not timed
//! here: pages have their render guard, outgoing calls their own limits,
//! and the activity stream (SSE) is meant to stay open.
//!
//! HTTP/1.1 only: TLS and HTTP/2 end at the reverse proxy in front.

use std::{convert::Infallible, future::Future, pin::pin, time::Duration};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
    Router,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// hyper's read buffer, which the whole request head must fit in (its minimum is 8 KB).
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 64;
pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight may take to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes, then lets
/// requests in flight finish (up to `DRAIN`).
pub async fn serve(listener: &TcpListener, router: Router, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors and the like: wait instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            // A body that stops arriving fails its read after BODY_TIMEOUT.
            let request = request.map(|body| Body::new(TimeoutBody::new(BODY_TIMEOUT, body)));
            async move { Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|e| match e {})) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running {} s after the stop signal were cut off", DRAIN.as_secs());
    }
    Ok(())
}

/// 414 for a URI longer than `MAX_URI_BYTES`, before any routing.
pub async fn uri_limit(request: Request, next: Next) -> Response {
    let length = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if length > MAX_URI_BYTES {
        return (
            StatusCode::URI_TOO_LONG,
            format!("This address is {length} bytes long; RepoPass reads at most {MAX_URI_BYTES}."),
        )
            .into_response();
    }
    next.run(request).await
}
