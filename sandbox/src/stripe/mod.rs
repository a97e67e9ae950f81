//! The Stripe stand-in: the REST API under `/sandbox/stripe/v1`, a hosted
//! checkout page and a billing portal page. Objects are stored as the JSON
//! Stripe returns (shapes from shared/fixtures/stripe/fixtures3.json and
//! Stripe's API reference); every change emits an event, kept for
//! `GET /v1/events` and delivered, signed, to RepoPass.

mod api;
pub mod billing;
pub mod endpoints;
pub mod form;
pub mod keys;
pub mod objects;
mod pages;
mod tax;

use axum::{
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use rand::{distr::Alphanumeric, Rng};
use serde_json::{json, Value};

use crate::{Error, Sandbox};

/// The API version the sandbox speaks (the one async-stripe rc.10 pins).
pub const API_VERSION: &str = "2026-09-30.endive";

pub fn router(sb: &Sandbox) -> Router<Sandbox> {
    let v1 = Router::new()
        .route("/products", post(api::create_product))
        .route("/products/{id}", get(api::retrieve_product).post(api::update_product))
        .route("/prices", post(api::create_price))
        .route("/prices/{id}", get(api::retrieve_price).post(api::update_price))
        .route("/customers", post(api::create_customer))
        .route("/customers/{id}", get(api::retrieve_customer))
        .route("/checkout/sessions", post(api::create_checkout_session))
        .route("/checkout/sessions/{id}", get(api::retrieve_checkout_session))
        .route("/checkout/sessions/{id}/line_items", get(api::list_line_items))
        .route("/checkout/sessions/{id}/expire", post(api::expire_checkout_session))
        .route(
            "/subscriptions/{id}",
            get(api::retrieve_subscription).post(api::update_subscription).delete(api::cancel_subscription),
        )
        .route("/invoices/{id}", get(api::retrieve_invoice))
        .route("/invoice_payments", get(api::list_invoice_payments))
        .route("/charges", get(api::list_charges))
        .route("/charges/{id}", get(api::retrieve_charge))
        .route("/refunds", post(api::create_refund))
        .route("/billing_portal/sessions", post(api::create_portal_session))
        .route("/events", get(api::list_events))
        .route("/events/{id}", get(api::retrieve_event))
        .route("/account", get(endpoints::retrieve_account))
        .route("/tax/settings", get(tax::retrieve_settings).post(tax::update_settings))
        .route("/webhook_endpoints", get(endpoints::list).post(endpoints::create))
        .route("/webhook_endpoints/{id}", get(endpoints::retrieve).post(endpoints::update).delete(endpoints::delete))
        .fallback(api::unknown_endpoint)
        .route_layer(middleware::from_fn_with_state(sb.clone(), keys::authenticate));
    Router::new()
        .nest("/v1", v1)
        .route("/pay/{id}", get(pages::checkout_page).post(pages::checkout_submit))
        .route("/portal/{id}", get(pages::portal_page))
        .route("/portal/{id}/subscriptions/{sub}", post(pages::portal_action))
}

/// Stripe's error body: `{"error": {"type", "message", "param", "code"}}`.
pub fn stripe_error(
    status: StatusCode,
    kind: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    if let Some(code) = code {
        error["code"] = json!(code);
        error["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")));
    }
    (status, Json(json!({ "error": error }))).into_response()
}

pub fn invalid(message: &str, param: &str) -> Response {
    stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", message, Some(param), Some("parameter_invalid"))
}

pub fn missing(param: &str) -> Response {
    stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        &format!("Missing required param: {param}."),
        Some(param),
        Some("parameter_missing"),
    )
}

pub fn no_such(object: &str, id: &str, param: &str) -> Response {
    stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        &format!("No such {object}: '{id}'"),
        Some(param),
        Some("resource_missing"),
    )
}

pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    format!("{prefix}_{tail}")
}

/// Kinds in `sandbox_objects`: "stripe:<object>".
pub fn kind(object: &str) -> String {
    format!("stripe:{object}")
}

/// Internal bookkeeping rides along in `_`-prefixed keys; Stripe never
/// shows them, so neither do we.
pub fn public(mut value: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.retain(|k, _| !k.starts_with('_'));
    }
    value
}

impl Sandbox {
    pub async fn stripe_get(&self, object: &str, id: &str) -> Result<Option<Value>, Error> {
        self.store().get(&kind(object), id).await
    }

    pub async fn stripe_put(&self, object: &str, value: &Value, parent: Option<&str>) -> Result<(), Error> {
        let id = value["id"].as_str().ok_or_else(|| Error::Internal(format!("{object} without id")))?;
        self.store().put(&kind(object), id, parent, value).await
    }

    pub async fn stripe_list(&self, object: &str, parent: Option<&str>) -> Result<Vec<Value>, Error> {
        self.store().list(&kind(object), parent).await
    }

    /// Records an event about `object` (its state now) and queues its
    /// delivery to RepoPass.
    pub async fn stripe_event(
        &self,
        event_type: &str,
        object: &Value,
        previous: Option<Value>,
    ) -> Result<String, Error> {
        let seq = self.store().next_id("stripe_event", 1).await?;
        let id = format!("evt_{seq:08}{}", &new_id("x")[2..18]);
        let mut data = json!({ "object": public(object.clone()) });
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": self.store().now().await?,
            "data": data,
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": event_type,
        });
        // The parent orders events newest-first for `GET /v1/events`.
        self.store().put(&kind("event"), &id, Some(&format!("{seq:012}")), &event).await?;
        crate::deliveries::enqueue_stripe(self, &id, event_type, &event).await?;
        Ok(id)
    }
}
