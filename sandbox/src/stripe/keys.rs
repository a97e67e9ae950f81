//! API keys, as Stripe checks them: the account's secret key opens
//! everything; a restricted key (`rk_test_…`, made in the console or with
//! the control API) opens only what its permissions name, and is refused
//! with Stripe's own 403 message otherwise — checked before the request is
//! read, so a probe on an object that does not exist still tells
//! "permitted" (404) from "not permitted" (403), as on Stripe.

use axum::{
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};
use serde_json::{json, Value};

use super::{kind, new_id, stripe_error};
use crate::{Error, Sandbox};

pub const ACCOUNT_ID: &str = "acct_1RepoPassSandbox";

/// Every permission a restricted key can hold here, in Stripe's slugs
/// (`rak_plan_*` is Prices: Stripe kept the old name).
pub const PERMISSIONS: [&str; 22] = [
    "rak_product_read",
    "rak_product_write",
    "rak_plan_read",
    "rak_plan_write",
    "rak_customer_read",
    "rak_customer_write",
    "rak_checkout_session_read",
    "rak_checkout_session_write",
    "rak_subscription_read",
    "rak_subscription_write",
    "rak_invoice_read",
    "rak_invoice_write",
    "rak_charge_read",
    "rak_charge_write",
    "rak_refund_read",
    "rak_refund_write",
    "rak_customer_portal_read",
    "rak_customer_portal_write",
    "rak_event_read",
    "rak_event_write",
    "rak_webhook_read",
    "rak_webhook_write",
];

/// The permission a request needs: the resource of its path, read for
/// GET, write otherwise. `None`: any valid key may (the account itself).
pub fn required(method: &Method, path: &str) -> Option<String> {
    let path = path.split_once("/v1/").map_or(path, |(_, rest)| rest).trim_start_matches('/');
    let resource = match path.split('/').next().unwrap_or_default() {
        "products" => "product",
        "prices" => "plan",
        "customers" => "customer",
        "checkout" => "checkout_session",
        "subscriptions" => "subscription",
        "invoices" | "invoice_payments" => "invoice",
        "charges" => "charge",
        "refunds" => "refund",
        "billing_portal" => "customer_portal",
        "events" => "event",
        "webhook_endpoints" => "webhook",
        _ => return None,
    };
    let access = if method == Method::GET { "read" } else { "write" };
    Some(format!("rak_{resource}_{access}"))
}

/// Write implies read, as in Stripe's dashboard.
fn grants(held: &[String], needed: &str) -> bool {
    let write = needed.strip_suffix("_read").map(|base| format!("{base}_write"));
    held.iter().any(|p| p == needed || Some(p) == write.as_ref())
}

/// Makes a restricted key with these permissions (names checked).
pub async fn create(sb: &Sandbox, name: &str, permissions: &[String]) -> Result<Value, Error> {
    if let Some(unknown) = permissions.iter().find(|p| !PERMISSIONS.contains(&p.as_str())) {
        return Err(Error::BadRequest(format!("'{unknown}' is not a permission; known: {}", PERMISSIONS.join(", "))));
    }
    let key = new_id("rk_test").replace("rk_test_", "rk_test_51");
    let object = json!({
        "id": key, "object": "restricted_key", "name": name, "permissions": permissions,
        "created": sb.store().now().await?,
    });
    sb.store().put(&kind("restricted_key"), &key, None, &object).await?;
    Ok(object)
}

pub async fn list(sb: &Sandbox) -> Result<Vec<Value>, Error> {
    sb.store().list(&kind("restricted_key"), None).await
}

/// How a key shows in Stripe's messages: its prefix and last four.
fn redacted(key: &str) -> String {
    let prefix: String = key.chars().take(8).collect();
    let last: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}{}{last}", "*".repeat(key.chars().count().saturating_sub(12).min(32)))
}

/// Only the sandbox's secret key, or one of its restricted keys with the
/// permission the request needs, opens its API.
pub async fn authenticate(State(sb): State<Sandbox>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(key) = key else {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.",
            None,
            None,
        );
    };
    if key == crate::STRIPE_SECRET_KEY {
        return next.run(request).await;
    }
    let restricted: Option<Value> = match key.starts_with("rk_") {
        true => sb.store().get(&kind("restricted_key"), &key).await.ok().flatten(),
        false => None,
    };
    let Some(restricted) = restricted else {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            &format!("Invalid API Key provided: {}", redacted(&key)),
            None,
            Some("api_key_invalid"),
        );
    };
    let held: Vec<String> = restricted["permissions"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    match required(request.method(), request.uri().path()) {
        Some(needed) if !grants(&held, &needed) => stripe_error(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            &format!(
                "The provided key '{}' does not have the required permissions for this endpoint on account '{ACCOUNT_ID}'. Having the '{needed}' permission would allow this request to continue.",
                redacted(&key)
            ),
            None,
            None,
        ),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_needs_its_resource_permission() {
        assert_eq!(required(&Method::POST, "/v1/products/prod_1").as_deref(), Some("rak_product_write"));
        assert_eq!(required(&Method::GET, "/prices/price_1").as_deref(), Some("rak_plan_read"));
        assert_eq!(required(&Method::POST, "/v1/checkout/sessions").as_deref(), Some("rak_checkout_session_write"));
        assert_eq!(required(&Method::DELETE, "/v1/webhook_endpoints/we_1").as_deref(), Some("rak_webhook_write"));
        assert_eq!(required(&Method::GET, "/v1/account"), None);
        let held = vec!["rak_product_write".to_owned()];
        assert!(grants(&held, "rak_product_read") && grants(&held, "rak_product_write"));
        assert!(!grants(&held, "rak_plan_read"));
        let shown = redacted("rk_test_51abcdefghijklmnopWXYZ");
        assert!(shown.starts_with("rk_test_*") && shown.ends_with("*WXYZ") && !shown.contains("abc"), "{shown}");
    }
}
