//! Stripe Tax, as far as RepoPass uses it: the account's Tax settings
//! (`GET`/`POST /v1/tax/settings`, shape from fixtures3.json) and the tax a
//! Checkout Session with `automatic_tax` adds once the buyer gives their
//! country. Rates are a small table of standard VAT rates, enough to show
//! totals that move with the address; Stripe knows every jurisdiction.

use axum::{extract::State, response::Response, Json};
use serde_json::{json, Value};

use super::{form, invalid};
use crate::{Error, Sandbox};

const ID: &str = "default";

/// Standard rates in basis points; a country not listed has no tax here.
const RATES: &[(&str, i64)] = &[
    ("AT", 2000),
    ("BE", 2100),
    ("DE", 1900),
    ("DK", 2500),
    ("ES", 2100),
    ("FI", 2550),
    ("FR", 2000),
    ("GB", 2000),
    ("IE", 2300),
    ("IT", 2200),
    ("NL", 2100),
    ("PL", 2300),
    ("SE", 2500),
];

/// Countries the hosted page offers, with their names.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("US", "United States"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("NL", "Netherlands"),
    ("SE", "Sweden"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("CA", "Canada"),
    ("JP", "Japan"),
];

fn rate(country: &str) -> i64 {
    RATES.iter().find(|(c, _)| *c == country).map(|(_, r)| *r).unwrap_or(0)
}

/// A sandbox account is set up for tax, adding it to its prices; a test can
/// change the default with `POST /v1/tax/settings` as on Stripe.
fn initial() -> Value {
    json!({
        "id": ID, "object": "tax.settings",
        "defaults": { "tax_behavior": "exclusive", "tax_code": "txcd_10000000", "provider": "stripe" },
        "head_office": { "address": { "city": null, "country": "US", "line1": null, "line2": null, "postal_code": null, "state": "CA" } },
        "livemode": false, "status": "active", "status_details": { "active": {} }
    })
}

pub async fn settings_of(sb: &Sandbox) -> Result<Value, Error> {
    Ok(sb.stripe_get("tax_settings", ID).await?.unwrap_or_else(initial))
}

fn public(mut settings: Value) -> Value {
    if let Some(map) = settings.as_object_mut() {
        map.remove("id");
    }
    settings
}

pub async fn retrieve_settings(State(sb): State<Sandbox>) -> Result<Response, Error> {
    Ok(axum::response::IntoResponse::into_response(Json(public(settings_of(&sb).await?))))
}

pub async fn update_settings(State(sb): State<Sandbox>, body: String) -> Result<Response, Error> {
    let f = form::parse(&body);
    let mut settings = settings_of(&sb).await?;
    if let Some(behavior) = form::string(&f, "defaults.tax_behavior") {
        if !matches!(behavior.as_str(), "inclusive" | "exclusive" | "inferred_by_currency") {
            return Ok(invalid(
                &format!("Invalid defaults[tax_behavior]: must be one of inclusive, exclusive, or inferred_by_currency (got {behavior})"),
                "defaults[tax_behavior]",
            ));
        }
        settings["defaults"]["tax_behavior"] = json!(behavior);
    }
    if let Some(country) = form::string(&f, "head_office.address.country") {
        settings["head_office"] = json!({ "address": { "city": null, "country": country.to_uppercase(), "line1": null, "line2": null, "postal_code": null, "state": null } });
        settings["status"] = json!("active");
        settings["status_details"] = json!({ "active": {} });
    }
    sb.stripe_put("tax_settings", &settings, None).await?;
    Ok(axum::response::IntoResponse::into_response(Json(public(settings))))
}

/// Whether a session with `automatic_tax` can be priced: Stripe refuses
/// one when Tax is not active or a price has no tax behavior to go by.
pub async fn refusal(sb: &Sandbox, prices: &[Value]) -> Result<Option<Response>, Error> {
    let settings = settings_of(sb).await?;
    if settings["status"] != "active" {
        return Ok(Some(invalid(
            "Stripe Tax has not been activated on your account. Please visit https://dashboard.stripe.com/settings/tax/activate to get started.",
            "automatic_tax[enabled]",
        )));
    }
    let has_default = settings["defaults"]["tax_behavior"].is_string();
    if !has_default && prices.iter().any(|p| p["tax_behavior"] == "unspecified") {
        return Ok(Some(invalid(
            "You must specify `tax_behavior` on the price, or set a default tax behavior in your Tax settings, to use automatic tax.",
            "automatic_tax[enabled]",
        )));
    }
    Ok(None)
}

/// Prices the session's tax for a buyer in `country` (ISO code), from its
/// subtotals: each line's tax and total, the session's totals, the
/// address, and `automatic_tax.status`. Priced again from the subtotals
/// when the buyer changes the amount or the country.
pub async fn apply(sb: &Sandbox, session: &mut Value, country: &str) -> Result<(), Error> {
    let settings = settings_of(sb).await?;
    let default = settings["defaults"]["tax_behavior"].as_str().unwrap_or("exclusive").to_owned();
    let rate = rate(country);
    let (mut total, mut tax_total) = (0, 0);
    let mut used = default.clone();
    if let Some(items) = session["_line_items"].as_array_mut() {
        for item in items {
            let subtotal = item["amount_subtotal"].as_i64().unwrap_or(0);
            let behavior = match item["price"]["tax_behavior"].as_str() {
                Some("inclusive") => "inclusive",
                Some("exclusive") => "exclusive",
                _ => default.as_str(),
            };
            let (tax, line_total) = taxed(subtotal, rate, behavior);
            used = behavior.to_owned();
            item["amount_tax"] = json!(tax);
            item["amount_total"] = json!(line_total);
            total += line_total;
            tax_total += tax;
        }
    }
    session["amount_total"] = json!(total);
    session["total_details"]["amount_tax"] = json!(tax_total);
    session["automatic_tax"]["status"] = json!("complete");
    session["_tax_country"] = json!(country);
    session["_tax_rate"] = json!(rate);
    session["_tax_behavior"] = json!(used);
    Ok(())
}

/// The tax on `base` at `rate` (basis points): (tax, what is charged).
fn taxed(base: i64, rate: i64, behavior: &str) -> (i64, i64) {
    if behavior == "inclusive" {
        (base - (base * 10_000 + (10_000 + rate) / 2) / (10_000 + rate), base)
    } else {
        let tax = (base * rate + 5_000) / 10_000;
        (tax, base + tax)
    }
}

/// What a subscription started from a taxed session keeps for its
/// renewals: the buyer's rate and how the price counts it.
pub fn remember_on_subscription(session: &Value, subscription: &mut Value) {
    if session["automatic_tax"]["enabled"] != json!(true) {
        return;
    }
    subscription["automatic_tax"] =
        json!({ "enabled": true, "liability": { "type": "self" }, "disabled_reason": null });
    subscription["_tax_rate"] = session["_tax_rate"].clone();
    subscription["_tax_behavior"] = session["_tax_behavior"].clone();
}

/// A renewal of `subscription` for `base`: (tax, what is charged).
pub fn renewal(subscription: &Value, base: i64) -> (i64, i64) {
    match subscription["_tax_rate"].as_i64() {
        Some(rate) => taxed(base, rate, subscription["_tax_behavior"].as_str().unwrap_or("exclusive")),
        None => (0, base),
    }
}

/// Marks an invoice of a taxed subscription: its total includes `tax`.
pub fn mark_invoice(invoice: &mut Value, subscription: &Value, tax: i64) {
    if subscription["_tax_rate"].is_null() {
        return;
    }
    let total = invoice["total"].as_i64().unwrap_or(0);
    let behavior = subscription["_tax_behavior"].as_str().unwrap_or("exclusive").to_owned();
    let excluding = total - tax;
    invoice["automatic_tax"] = json!({ "enabled": true, "liability": { "type": "self" }, "disabled_reason": null, "provider": "stripe", "status": "complete" });
    invoice["total_excluding_tax"] = json!(excluding);
    invoice["subtotal_excluding_tax"] = json!(excluding);
    if behavior != "inclusive" {
        invoice["subtotal"] = json!(excluding);
    }
    invoice["total_taxes"] = json!([{
        "amount": tax, "tax_behavior": behavior, "taxability_reason": if tax > 0 { "standard_rated" } else { "not_collecting" },
        "taxable_amount": excluding, "type": "tax_rate_details", "tax_rate_details": { "tax_rate": "txr_sandbox" }
    }]);
}
