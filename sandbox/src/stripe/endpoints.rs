//! `GET /v1/account` and `/v1/webhook_endpoints`: what a Stripe key
//! belongs to, and where Stripe sends events. Each endpoint has its own
//! signing secret, returned once at creation, and receives exactly the
//! event types it enabled. The built-in endpoint (RepoPass under the
//! sandbox's own address, signed with the fixed sandbox secret) is one of
//! them: delete it and zero-config RepoPass hears nothing, as on Stripe.

use axum::{
    extract::{Path, RawQuery, State},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{form, invalid, keys::ACCOUNT_ID, missing, new_id, no_such, objects, public, stripe_error};
use crate::{Error, Sandbox};

type ApiResult = Result<Response, Error>;

/// The endpoint zero-config RepoPass listens on.
pub const BUILT_IN: &str = "we_1RepoPassSandbox";
/// Stripe's limit per account and mode.
const MAX_ENDPOINTS: usize = 16;

/// Event types an endpoint may enable: what the sandbox emits, and the
/// neighbours a caller may reasonably ask for (Stripe knows hundreds).
const KNOWN_EVENTS: &[&str] = &[
    "charge.dispute.closed",
    "charge.dispute.created",
    "charge.failed",
    "charge.refunded",
    "charge.succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.completed",
    "checkout.session.expired",
    "customer.created",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
    "customer.updated",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_action_required",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.upcoming",
    "payment_intent.payment_failed",
    "payment_intent.succeeded",
    "price.created",
    "price.deleted",
    "price.updated",
    "product.created",
    "product.deleted",
    "product.updated",
    "refund.created",
    "refund.updated",
];

pub async fn retrieve_account(State(sb): State<Sandbox>) -> ApiResult {
    Ok(Json(json!({
        "id": ACCOUNT_ID, "object": "account", "type": "standard", "country": "US", "default_currency": "usd",
        "email": "creator@example.com", "charges_enabled": true, "payouts_enabled": true, "details_submitted": true,
        "business_profile": { "name": "RepoPass Sandbox", "url": sb.url("/") },
        "settings": { "dashboard": { "display_name": "RepoPass Sandbox", "timezone": "Etc/UTC" } },
        "created": 1_767_225_600, "metadata": {}
    }))
    .into_response())
}

fn kind() -> String {
    super::kind("webhook_endpoint")
}

/// The enabled events of a form, each checked.
fn enabled_events(f: &Value) -> Result<Option<Vec<String>>, Response> {
    let list: Vec<String> = match form::get(f, "enabled_events") {
        None => return Ok(None),
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(_) => return Err(invalid("Invalid array", "enabled_events")),
    };
    if list.is_empty() {
        return Err(missing("enabled_events"));
    }
    for (i, event) in list.iter().enumerate() {
        if event != "*" && !KNOWN_EVENTS.contains(&event.as_str()) {
            return Err(invalid(
                &format!("Invalid enabled_events[{i}]: must be one of {}, or *", KNOWN_EVENTS.join(", ")),
                &format!("enabled_events[{i}]"),
            ));
        }
    }
    Ok(Some(list))
}

fn url(f: &Value) -> Result<Option<String>, Response> {
    match form::string(f, "url") {
        None => Ok(None),
        Some(raw) => match url::Url::parse(&raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(Some(raw)),
            _ => Err(invalid(&format!("Invalid URL: {raw}. URLs must begin with http:// or https://."), "url")),
        },
    }
}

/// The built-in endpoint, made at start if missing (a deleted one comes
/// back at the next start: zero-config RepoPass must work out of the box).
pub async fn ensure_built_in(sb: &Sandbox) -> Result<(), Error> {
    let endpoint = json!({
        "id": BUILT_IN, "object": "webhook_endpoint", "api_version": null, "application": null,
        "created": sb.store().now().await?, "description": "RepoPass (built in)",
        // Every event, as the sandbox always delivered: RepoPass stores the
        // ones it does not act on as ignored, which the events page shows.
        "enabled_events": ["*"], "livemode": false, "metadata": {},
        "status": "enabled", "url": sb.url("/api/webhooks/stripe"), "_built_in": true,
    });
    sb.store().insert_new(&kind(), BUILT_IN, None, &endpoint).await?;
    Ok(())
}

pub async fn create(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let url = match url(&f) {
        Ok(Some(url)) => url,
        Ok(None) => return Ok(missing("url")),
        Err(refused) => return Ok(refused),
    };
    let events = match enabled_events(&f) {
        Ok(Some(events)) => events,
        Ok(None) => return Ok(missing("enabled_events")),
        Err(refused) => return Ok(refused),
    };
    if sb.store().list::<Value>(&kind(), None).await?.len() >= MAX_ENDPOINTS {
        return Ok(stripe_error(
            http::StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints."),
            None,
            None,
        ));
    }
    let secret = new_id("whsec");
    let metadata = match form::get(&f, "metadata") {
        Some(Value::Object(map)) => Value::Object(map.clone()),
        _ => json!({}),
    };
    let endpoint = json!({
        "id": new_id("we"), "object": "webhook_endpoint", "api_version": form::string(&f, "api_version"),
        "application": null, "created": sb.store().now().await?, "description": form::string(&f, "description"),
        "enabled_events": events, "livemode": false, "metadata": metadata, "status": "enabled", "url": url,
        "_secret": secret,
    });
    sb.stripe_put("webhook_endpoint", &endpoint, None).await?;
    // The secret is in the answer to the creation only.
    let mut shown = public(endpoint);
    shown["secret"] = json!(secret);
    Ok(Json(shown).into_response())
}

pub async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    match sb.stripe_get("webhook_endpoint", &id).await? {
        Some(found) => Ok(Json(public(found)).into_response()),
        None => Ok(no_such("webhook_endpoint", &id, "id")),
    }
}

pub async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, body: String) -> ApiResult {
    let Some(mut endpoint) = sb.stripe_get("webhook_endpoint", &id).await? else {
        return Ok(no_such("webhook_endpoint", &id, "id"));
    };
    let f = form::parse(&body);
    match url(&f) {
        Ok(Some(url)) => endpoint["url"] = json!(url),
        Ok(None) => {}
        Err(refused) => return Ok(refused),
    }
    match enabled_events(&f) {
        Ok(Some(events)) => endpoint["enabled_events"] = json!(events),
        Ok(None) => {}
        Err(refused) => return Ok(refused),
    }
    match form::string(&f, "disabled").as_deref() {
        Some("true") => endpoint["status"] = json!("disabled"),
        Some("false") => endpoint["status"] = json!("enabled"),
        Some(other) => return Ok(invalid(&format!("Invalid boolean: {other}"), "disabled")),
        None => {}
    }
    if let Some(description) = form::string(&f, "description") {
        endpoint["description"] = json!(description);
    }
    sb.stripe_put("webhook_endpoint", &endpoint, None).await?;
    Ok(Json(public(endpoint)).into_response())
}

pub async fn delete(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    if !sb.store().delete(&kind(), &id).await? {
        return Ok(no_such("webhook_endpoint", &id, "id"));
    }
    Ok(Json(json!({ "id": id, "object": "webhook_endpoint", "deleted": true })).into_response())
}

/// `GET /v1/webhook_endpoints`: newest first, `limit` (1–100) and `starting_after`.
pub async fn list(State(sb): State<Sandbox>, RawQuery(query): RawQuery) -> ApiResult {
    let q = form::parse(query.as_deref().unwrap_or_default());
    let limit = match form::string(&q, "limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        Some(_) => return Ok(invalid("Invalid limit: must be between 1 and 100", "limit")),
    };
    let mut all: Vec<Value> = sb.store().list(&kind(), None).await?;
    all.reverse();
    let start = match form::string(&q, "starting_after") {
        Some(after) => match all.iter().position(|e| e["id"].as_str() == Some(after.as_str())) {
            Some(i) => i + 1,
            None => return Ok(no_such("webhook_endpoint", &after, "starting_after")),
        },
        None => 0,
    };
    let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().map(public).collect();
    let has_more = all.len() > start + page.len();
    Ok(Json(objects::list(page, "/v1/webhook_endpoints", has_more)).into_response())
}

/// Where an event goes: each enabled endpoint that asked for its type.
pub async fn subscribers(sb: &Sandbox, event_type: &str) -> Result<Vec<(String, String)>, Error> {
    let endpoints: Vec<Value> = sb.store().list(&kind(), None).await?;
    let mut out = Vec::new();
    for e in endpoints {
        let wants = e["enabled_events"]
            .as_array()
            .is_some_and(|list| list.iter().any(|t| t.as_str() == Some("*") || t.as_str() == Some(event_type)));
        if e["status"] != "enabled" || !wants {
            continue;
        }
        let id = e["id"].as_str().unwrap_or_default().to_owned();
        // The built-in endpoint follows the control API's webhook target.
        let url = if id == BUILT_IN {
            sb.webhook_url("stripe").await?
        } else {
            e["url"].as_str().unwrap_or_default().to_owned()
        };
        out.push((id, url));
    }
    Ok(out)
}

/// The secret an endpoint's deliveries are signed with; `None` once it is gone.
pub async fn secret(sb: &Sandbox, id: &str) -> Result<Option<String>, Error> {
    if id == BUILT_IN {
        return Ok(Some(secrecy::ExposeSecret::expose_secret(sb.stripe_webhook_secret()).to_owned()));
    }
    let found: Option<Value> = sb.store().get(&kind(), id).await?;
    Ok(found.and_then(|e| e["_secret"].as_str().map(str::to_owned)))
}
