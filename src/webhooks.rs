//! `POST /api/webhooks/stripe` and `POST /api/webhooks/github`: verify,
//! store with a job (one transaction, shared with the deliveries arriving
//! at the same moment: `server::intake`), then answer. Anything unverified gets
//! a 400 and changes nothing; a delivery seen before gets a 200 and is not
//! processed again.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::json;
use server::{
    domain::Provider,
    webhooks::{self, Delivery, Refused, MAX_BODY},
    AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/webhooks/stripe", post(stripe)).route("/api/webhooks/github", post(github))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn refuse(state: &AppState, provider: Provider, why: Refused) -> Response {
    tracing::warn!(%provider, reason = %why, "webhook refused");
    if why.is_signature_failure() {
        // Counted for the alert; a count that cannot be written changes
        // nothing about the answer.
        if let Err(e) = webhooks::record_refusal(&state.db, provider, &why).await {
            tracing::warn!(error = %e, "a refused delivery was not counted");
        }
    }
    let status = if why == Refused::NotConfigured { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::BAD_REQUEST };
    (status, Json(json!({ "error": why.to_string() }))).into_response()
}

async fn read(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        tracing::warn!("webhook refused: body over {MAX_BODY} bytes");
        (StatusCode::BAD_REQUEST, Json(json!({ "error": format!("body larger than {MAX_BODY} bytes") })))
            .into_response()
    })
}

/// `ignored`: the event handlers do not act on this type (why).
async fn accept(state: &AppState, delivery: Delivery, ignored: Option<String>) -> Response {
    let (provider, event, kind) = (delivery.provider, delivery.event_id.clone(), delivery.event_type.clone());
    match state.intake.store(delivery, ignored).await {
        Ok(true) => {
            state.wake.notify();
            tracing::info!(%provider, %event, %kind, "webhook stored");
            (StatusCode::OK, Json(json!({ "received": true }))).into_response()
        }
        Ok(false) => (StatusCode::OK, Json(json!({ "received": true, "duplicate": true }))).into_response(),
        Err(e) => {
            // Not stored: a 5xx makes the sender retry later.
            tracing::error!(error = %e, %provider, "webhook not stored");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "not stored; retry" }))).into_response()
        }
    }
}

async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let body = match read(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match webhooks::verify_stripe(
        state.config.stripe.webhook_secret.as_ref(),
        &body,
        header(&headers, "stripe-signature"),
    ) {
        Ok(delivery) => {
            let ignored = server::lifecycle::ignored_on_arrival(&delivery.event_type);
            accept(&state, delivery, ignored).await
        }
        Err(why) => refuse(&state, Provider::Stripe, why).await,
    }
}

async fn github(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let body = match read(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let verified = webhooks::verify_github(
        state.config.github.webhook_secret.as_ref(),
        &body,
        header(&headers, "x-hub-signature-256"),
        header(&headers, "x-github-delivery"),
        header(&headers, "x-github-event"),
    );
    match verified {
        // Every GitHub event gets a job: the App sends only what it subscribed to.
        Ok(delivery) => accept(&state, delivery, None).await,
        Err(why) => refuse(&state, Provider::Github, why).await,
    }
}
