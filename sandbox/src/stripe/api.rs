//! `/sandbox/stripe/v1/…`: the endpoints RepoPass calls, with Stripe's
//! validation messages for the mistakes a caller can make.

use axum::{
    extract::{Path, RawQuery, State},
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Map, Value};

use super::{
    billing::{public_list, Proration, SubscriptionUpdate},
    form, invalid, missing, new_id, no_such, objects, public, stripe_error,
};
use crate::{Error, Sandbox};

type ApiResult = Result<Response, Error>;

fn ok(value: Value) -> ApiResult {
    Ok(Json(public(value)).into_response())
}

/// `GET /v1/<objects>/{id}`: the object, or Stripe's "No such …".
async fn retrieve(sb: &Sandbox, object: &str, id: &str, label: &str) -> ApiResult {
    match sb.stripe_get(object, id).await? {
        Some(found) => ok(found),
        None => Ok(no_such(label, id, "id")),
    }
}

fn metadata(f: &Value) -> Value {
    match form::get(f, "metadata") {
        Some(Value::Object(map)) => {
            Value::Object(map.iter().filter(|(_, v)| v.is_string()).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        _ => json!({}),
    }
}

fn int(f: &Value, path: &str) -> Result<Option<i64>, Response> {
    match form::string(f, path) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(&format!("Invalid integer: {raw}"), &path.replace('.', "]["))),
    }
}

fn boolean(f: &Value, path: &str) -> Result<Option<bool>, Response> {
    match form::string(f, path).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(invalid(&format!("Invalid boolean: {other}"), path)),
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return Ok(response),
        }
    };
}

pub async fn unknown_endpoint(uri: Uri) -> Response {
    stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        &format!(
            "Unrecognized request URL ({}). The RepoPass sandbox serves only the Stripe endpoints RepoPass uses.",
            uri.path()
        ),
        None,
        None,
    )
}

pub async fn create_product(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let Some(name) = form::string(&f, "name") else { return Ok(missing("name")) };
    let mut product = objects::product(
        &new_id("prod"),
        &name,
        form::string(&f, "description").as_deref(),
        metadata(&f),
        sb.store().now().await?,
    );
    if let Some(active) = tri!(boolean(&f, "active")) {
        product["active"] = json!(active);
    }
    sb.stripe_put("product", &product, None).await?;
    sb.stripe_event("product.created", &product, None).await?;
    ok(product)
}

pub async fn retrieve_product(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "product", &id, "product").await
}

pub async fn update_product(State(sb): State<Sandbox>, Path(id): Path<String>, body: String) -> ApiResult {
    let Some(mut product) = sb.stripe_get("product", &id).await? else { return Ok(no_such("product", &id, "id")) };
    let f = form::parse(&body);
    if let Some(active) = tri!(boolean(&f, "active")) {
        product["active"] = json!(active);
    }
    for field in ["name", "description"] {
        if let Some(v) = form::string(&f, field) {
            product[field] = json!(v);
        }
    }
    if form::get(&f, "metadata").is_some() {
        merge_metadata(&mut product, &f);
    }
    product["updated"] = json!(sb.store().now().await?);
    sb.stripe_put("product", &product, None).await?;
    sb.stripe_event("product.updated", &product, None).await?;
    ok(product)
}

fn merge_metadata(object: &mut Value, f: &Value) {
    let incoming = metadata(f);
    let target = object["metadata"].as_object_mut().cloned().unwrap_or_default();
    let mut merged: Map<String, Value> = target;
    if let Value::Object(map) = incoming {
        for (k, v) in map {
            // An empty value removes the key, as on Stripe.
            if v.as_str() == Some("") {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
    }
    object["metadata"] = Value::Object(merged);
}

pub async fn create_price(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let Some(currency) = form::string(&f, "currency") else { return Ok(missing("currency")) };
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
        return Ok(invalid(
            &format!("Invalid currency: {currency}. Stripe currencies are three-letter ISO codes in lowercase."),
            "currency",
        ));
    }
    let Some(product_id) = form::string(&f, "product") else { return Ok(missing("product")) };
    if sb.stripe_get("product", &product_id).await?.is_none() {
        return Ok(no_such("product", &product_id, "product"));
    }
    let interval = form::string(&f, "recurring.interval");
    // Pay what you want: the buyer names the amount at checkout.
    let custom = match tri!(boolean(&f, "custom_unit_amount.enabled")) {
        Some(true) => {
            if form::get(&f, "unit_amount").is_some() {
                return Ok(invalid(
                    "You may only specify one of these parameters: custom_unit_amount, unit_amount.",
                    "unit_amount",
                ));
            }
            if interval.is_some() {
                return Ok(invalid(
                    "custom_unit_amount is only supported for one-time prices (without recurring).",
                    "custom_unit_amount",
                ));
            }
            let minimum = tri!(int(&f, "custom_unit_amount.minimum"));
            let maximum = tri!(int(&f, "custom_unit_amount.maximum"));
            let preset = tri!(int(&f, "custom_unit_amount.preset"));
            if minimum.is_some_and(|m| m < 0) || maximum.is_some_and(|m| m < 1) {
                return Ok(invalid("Invalid custom_unit_amount: amounts must be positive", "custom_unit_amount"));
            }
            if let (Some(min), Some(max)) = (minimum, maximum) {
                if max < min {
                    return Ok(invalid(
                        "custom_unit_amount[maximum] must be greater than or equal to custom_unit_amount[minimum]",
                        "custom_unit_amount[maximum]",
                    ));
                }
            }
            if let Some(p) = preset {
                if minimum.is_some_and(|m| p < m) || maximum.is_some_and(|m| p > m) {
                    return Ok(invalid(
                        "custom_unit_amount[preset] must be between custom_unit_amount[minimum] and custom_unit_amount[maximum]",
                        "custom_unit_amount[preset]",
                    ));
                }
            }
            Some(json!({ "maximum": maximum, "minimum": minimum, "preset": preset }))
        }
        _ => None,
    };
    let unit_amount = match (&custom, tri!(int(&f, "unit_amount"))) {
        (Some(_), _) => 0,
        (None, None) => return Ok(missing("unit_amount")),
        (None, Some(a)) if a < 0 => {
            return Ok(invalid("Invalid unit_amount: must be greater than or equal to 0", "unit_amount"))
        }
        (None, Some(a)) => a,
    };
    if let Some(i) = interval.as_deref() {
        if !matches!(i, "day" | "week" | "month" | "year") {
            return Ok(invalid(
                &format!("Invalid recurring[interval]: must be one of day, month, week, or year (got {i})"),
                "recurring[interval]",
            ));
        }
    }
    let mut price = objects::price(
        &new_id("price"),
        &product_id,
        &currency,
        unit_amount,
        interval.as_deref(),
        metadata(&f),
        form::string(&f, "nickname").as_deref(),
        sb.store().now().await?,
    );
    if let Some(custom) = custom {
        // As Stripe shows such a price: no unit amount, the buyer's range.
        price["custom_unit_amount"] = custom;
        price["unit_amount"] = Value::Null;
        price["unit_amount_decimal"] = Value::Null;
    }
    sb.stripe_put("price", &price, Some(&product_id)).await?;
    sb.stripe_event("price.created", &price, None).await?;
    ok(price)
}

pub async fn retrieve_price(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "price", &id, "price").await
}

/// Prices are immutable but for `active`, `nickname` and `metadata`.
pub async fn update_price(State(sb): State<Sandbox>, Path(id): Path<String>, body: String) -> ApiResult {
    let Some(mut price) = sb.stripe_get("price", &id).await? else { return Ok(no_such("price", &id, "id")) };
    let f = form::parse(&body);
    for immutable in ["unit_amount", "currency", "recurring", "product"] {
        if form::get(&f, immutable).is_some() {
            return Ok(invalid(&format!("Received unknown parameter: {immutable}. Prices cannot be changed once created; create a new price instead."), immutable));
        }
    }
    if let Some(active) = tri!(boolean(&f, "active")) {
        price["active"] = json!(active);
    }
    if let Some(nickname) = form::string(&f, "nickname") {
        price["nickname"] = json!(nickname);
    }
    if form::get(&f, "metadata").is_some() {
        merge_metadata(&mut price, &f);
    }
    let product = price["product"].as_str().map(str::to_owned);
    sb.stripe_put("price", &price, product.as_deref()).await?;
    sb.stripe_event("price.updated", &price, None).await?;
    ok(price)
}

pub async fn create_customer(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let customer = objects::customer(
        &new_id("cus"),
        form::string(&f, "email").as_deref(),
        form::string(&f, "name").as_deref(),
        metadata(&f),
        sb.store().now().await?,
    );
    sb.stripe_put("customer", &customer, None).await?;
    sb.stripe_event("customer.created", &customer, None).await?;
    ok(customer)
}

pub async fn retrieve_customer(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "customer", &id, "customer").await
}

pub async fn create_checkout_session(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let Some(mode) = form::string(&f, "mode") else { return Ok(missing("mode")) };
    if !matches!(mode.as_str(), "payment" | "subscription") {
        return Ok(invalid(
            &format!("Invalid mode: {mode}. The RepoPass sandbox supports payment and subscription."),
            "mode",
        ));
    }
    let Some(success_url) = form::string(&f, "success_url") else { return Ok(missing("success_url")) };
    if !success_url.starts_with("http://") && !success_url.starts_with("https://") {
        return Ok(invalid("Not a valid URL", "success_url"));
    }
    let Some(Value::Array(items)) = form::get(&f, "line_items") else { return Ok(missing("line_items")) };
    if items.is_empty() {
        return Ok(missing("line_items"));
    }
    let now = sb.store().now().await?;
    let session_id = format!("cs_test_{}", &new_id("x")[2..]);
    let mut line_items = Vec::new();
    let mut total = 0;
    let mut currency: Option<String> = None;
    for (i, item) in items.iter().enumerate() {
        let Some(price_id) = form::string(item, "price") else {
            return Ok(missing(&format!("line_items[{i}][price]")));
        };
        let Some(price) = sb.stripe_get("price", &price_id).await? else {
            return Ok(no_such("price", &price_id, &format!("line_items[{i}][price]")));
        };
        if price["active"] != json!(true) {
            return Ok(invalid(
                &format!("The price specified ({price_id}) is inactive. This field only accepts active prices."),
                &format!("line_items[{i}][price]"),
            ));
        }
        let quantity = tri!(int(item, "quantity")).unwrap_or(1);
        if quantity < 1 {
            return Ok(invalid(
                "This value must be greater than or equal to 1.",
                &format!("line_items[{i}][quantity]"),
            ));
        }
        let adjustable = tri!(adjustable_quantity(item, i, quantity));
        let recurring = price["type"] == "recurring";
        if recurring && mode == "payment" {
            return Ok(invalid("You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.", "line_items"));
        }
        let price_currency = price["currency"].as_str().unwrap_or_default().to_owned();
        if currency.as_ref().is_some_and(|c| *c != price_currency) {
            return Ok(invalid("All prices on a Checkout Session must use the same currency.", "line_items"));
        }
        currency = Some(price_currency);
        if !price["custom_unit_amount"].is_null() && quantity != 1 {
            return Ok(invalid(
                "Prices with custom_unit_amount can only be used with a quantity of 1.",
                &format!("line_items[{i}][quantity]"),
            ));
        }
        if !price["custom_unit_amount"].is_null() && !adjustable.is_null() {
            return Ok(invalid(
                "Prices with custom_unit_amount can only be used with a quantity of 1, so their quantity cannot be adjustable.",
                &format!("line_items[{i}][adjustable_quantity]"),
            ));
        }
        total += objects::unit_amount(&price) * quantity;
        line_items.push(objects::line_item(&format!("li_{}", &new_id("x")[2..]), &price, quantity, adjustable));
    }
    if mode == "subscription" && !line_items.iter().any(|li| li["price"]["type"] == "recurring") {
        return Ok(invalid(
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            "line_items",
        ));
    }
    let automatic_tax = tri!(boolean(&f, "automatic_tax.enabled")).unwrap_or(false);
    if automatic_tax {
        let prices: Vec<Value> = line_items.iter().map(|li| li["price"].clone()).collect();
        if let Some(refused) = super::tax::refusal(&sb, &prices).await? {
            return Ok(refused);
        }
    }
    let tax_id_collection = tri!(boolean(&f, "tax_id_collection.enabled")).unwrap_or(false);
    let customer_creation = match form::string(&f, "customer_creation").as_deref() {
        None => None,
        Some(c @ ("always" | "if_required")) if mode == "payment" => Some(c.to_owned()),
        Some("always" | "if_required") => {
            return Ok(invalid("`customer_creation` can only be used in `payment` mode.", "customer_creation"))
        }
        Some(other) => {
            return Ok(invalid(
                &format!("Invalid customer_creation: must be one of always or if_required (got {other})"),
                "customer_creation",
            ))
        }
    };
    let customer = form::string(&f, "customer");
    if let Some(id) = &customer {
        if sb.stripe_get("customer", id).await?.is_none() {
            return Ok(no_such("customer", id, "customer"));
        }
    }
    let trial_days = tri!(int(&f, "subscription_data.trial_period_days"));
    if trial_days.is_some() && mode != "subscription" {
        return Ok(invalid("subscription_data can only be used in `subscription` mode.", "subscription_data"));
    }
    if trial_days.is_some_and(|d| !(1..=730).contains(&d)) {
        return Ok(invalid("The trial period must be between 1 and 730 days.", "subscription_data[trial_period_days]"));
    }
    let sub_metadata = match form::get(&f, "subscription_data.metadata") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({}),
    };
    let due_today = if trial_days.is_some() { 0 } else { total };
    let session = json!({
        "id": session_id, "object": "checkout.session", "adaptive_pricing": { "enabled": false }, "after_expiration": null,
        "client_secret": null, "collected_information": null, "currency_conversion": null, "customer_account": null,
        "discounts": [], "integration_identifier": null, "invoice_creation": null, "managed_payments": null,
        "origin_context": null, "payment_method_configuration_details": null, "payment_method_options": {},
        "permissions": null, "saved_payment_method_options": null, "wallet_options": null,
        "allow_promotion_codes": tri!(boolean(&f, "allow_promotion_codes")),
        // What is due today: nothing during a trial, as Stripe reports it.
        "amount_subtotal": due_today, "amount_total": due_today,
        // With Stripe Tax the total is known once the buyer gives an address.
        "automatic_tax": if automatic_tax {
            json!({ "enabled": true, "liability": { "type": "self" }, "provider": "stripe", "status": "requires_location_inputs" })
        } else {
            json!({ "enabled": false, "liability": null, "provider": null, "status": null })
        },
        "billing_address_collection": null, "cancel_url": form::string(&f, "cancel_url"),
        "client_reference_id": form::string(&f, "client_reference_id"), "consent": null, "consent_collection": null,
        "created": now, "currency": currency, "custom_fields": [], "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
        "customer": customer,
        "customer_creation": match (mode.as_str(), customer_creation) {
            ("payment", Some(c)) => json!(c),
            ("payment", None) => json!("if_required"),
            _ => Value::Null,
        },
        "customer_details": null, "customer_email": form::string(&f, "customer_email"),
        "expires_at": now + 24 * 3600, "invoice": null, "livemode": false, "locale": null,
        "metadata": metadata(&f), "mode": mode, "payment_intent": null, "payment_link": null,
        "payment_method_collection": "always", "payment_method_types": ["card"], "payment_status": "unpaid",
        "phone_number_collection": { "enabled": false }, "recovered_from": null, "setup_intent": null,
        "shipping_address_collection": null, "shipping_cost": null, "shipping_details": null, "shipping_options": [],
        "status": "open", "submit_type": null, "subscription": null, "success_url": success_url,
        "tax_id_collection": { "enabled": tax_id_collection, "required": "never" },
        "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
        // `hosted_page` since API version 2026-09-30 (the one async-stripe pins); `hosted` before.
        "ui_mode": "hosted_page", "url": sb.url(&format!("/sandbox/stripe/pay/{session_id}")),
        "_line_items": line_items,
        "_subscription_data": { "trial_period_days": trial_days, "metadata": sub_metadata },
    });
    sb.stripe_put("checkout_session", &session, None).await?;
    ok(session)
}

/// The most a buyer may choose for an adjustable line item.
const MAX_ADJUSTABLE: i64 = 999_999;

/// `line_items[i][adjustable_quantity]`: null when absent or not enabled,
/// else `{enabled, minimum, maximum}` with Stripe's defaults (0 and 99)
/// filled in, the quantity within them.
fn adjustable_quantity(item: &Value, i: usize, quantity: i64) -> Result<Value, Response> {
    if form::get(item, "adjustable_quantity").is_none() {
        return Ok(Value::Null);
    }
    let param = |field: &str| format!("line_items[{i}][adjustable_quantity][{field}]");
    let Some(enabled) = boolean(item, "adjustable_quantity.enabled").map_err(|_| {
        invalid(
            &format!("Invalid boolean: {}", form::string(item, "adjustable_quantity.enabled").unwrap_or_default()),
            &param("enabled"),
        )
    })?
    else {
        return Err(missing(&param("enabled")));
    };
    let number = |field: &str| match form::string(item, &format!("adjustable_quantity.{field}")) {
        None => Ok(None),
        Some(raw) => {
            raw.parse::<i64>().map(Some).map_err(|_| invalid(&format!("Invalid integer: {raw}"), &param(field)))
        }
    };
    let minimum = number("minimum")?;
    let maximum = number("maximum")?;
    if !enabled {
        return Ok(Value::Null);
    }
    if minimum.is_some_and(|m| m < 0) {
        return Err(invalid("This value must be greater than or equal to 0.", &param("minimum")));
    }
    if maximum.is_some_and(|m| m < 1) {
        return Err(invalid("This value must be greater than or equal to 1.", &param("maximum")));
    }
    if maximum.is_some_and(|m| m > MAX_ADJUSTABLE) {
        return Err(invalid(&format!("This value must be less than or equal to {MAX_ADJUSTABLE}."), &param("maximum")));
    }
    let (minimum, maximum) = (minimum.unwrap_or(0), maximum.unwrap_or(99));
    if minimum > maximum {
        return Err(invalid(
            &format!("`adjustable_quantity[minimum]` ({minimum}) must be less than or equal to `adjustable_quantity[maximum]` ({maximum})."),
            &param("minimum"),
        ));
    }
    if quantity > maximum {
        return Err(invalid(
            &format!("`line_items[{i}][quantity]` ({quantity}) must be less than or equal to `adjustable_quantity[maximum]` ({maximum}). Set `adjustable_quantity[maximum]` to at least the quantity."),
            &format!("line_items[{i}][quantity]"),
        ));
    }
    if quantity < minimum {
        return Err(invalid(
            &format!("`line_items[{i}][quantity]` ({quantity}) must be greater than or equal to `adjustable_quantity[minimum]` ({minimum})."),
            &format!("line_items[{i}][quantity]"),
        ));
    }
    Ok(json!({ "enabled": true, "maximum": maximum, "minimum": minimum }))
}

fn expands(query: &Option<String>, what: &str) -> bool {
    let f = form::parse(query.as_deref().unwrap_or_default());
    matches!(form::get(&f, "expand"), Some(Value::Array(list)) if list.iter().any(|v| v.as_str() == Some(what)))
}

fn with_line_items(session: &Value) -> Value {
    let id = session["id"].as_str().unwrap_or_default();
    let items = session["_line_items"].as_array().cloned().unwrap_or_default();
    let mut out = public(session.clone());
    out["line_items"] = objects::list(items, &format!("/v1/checkout/sessions/{id}/line_items"), false);
    out
}

pub async fn retrieve_checkout_session(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let Some(session) = sb.stripe_get("checkout_session", &id).await? else {
        return Ok(no_such("checkout.session", &id, "session"));
    };
    if expands(&query, "line_items") {
        return Ok(Json(with_line_items(&session)).into_response());
    }
    ok(session)
}

pub async fn list_line_items(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    let Some(session) = sb.stripe_get("checkout_session", &id).await? else {
        return Ok(no_such("checkout.session", &id, "session"));
    };
    Ok(Json(with_line_items(&session)["line_items"].clone()).into_response())
}

pub async fn expire_checkout_session(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    let Some(mut session) = sb.stripe_get("checkout_session", &id).await? else {
        return Ok(no_such("checkout.session", &id, "session"));
    };
    if session["status"] != "open" {
        return Ok(invalid("Only Checkout Sessions with a status in [\"open\"] can be expired.", "session"));
    }
    sb.stripe_expire_session(&mut session).await?;
    ok(session)
}

pub async fn retrieve_subscription(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "subscription", &id, "subscription").await
}

/// `POST /v1/subscriptions/{id}`: `cancel_at_period_end`, and the quantity
/// of its item (`items[0][id]` + `items[0][quantity]`) with
/// `proration_behavior` (`create_prorations`, Stripe's default;
/// `always_invoice`; `none`).
pub async fn update_subscription(State(sb): State<Sandbox>, Path(id): Path<String>, body: String) -> ApiResult {
    let Some(sub) = sb.stripe_get("subscription", &id).await? else { return Ok(no_such("subscription", &id, "id")) };
    let f = form::parse(&body);
    if sub["status"] == "canceled" {
        return Ok(invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
            "subscription",
        ));
    }
    let cancel_at_period_end = tri!(boolean(&f, "cancel_at_period_end"));
    let proration = match form::string(&f, "proration_behavior") {
        None => Proration::CreateProrations,
        Some(value) => match Proration::parse(&value) {
            Some(p) => p,
            None => {
                return Ok(invalid(
                    &format!("Invalid proration_behavior: must be one of create_prorations, none, or always_invoice (got {value})"),
                    "proration_behavior",
                ))
            }
        },
    };
    let quantity = tri!(item_quantity(&f, &sub));
    let update = SubscriptionUpdate { quantity, proration, cancel_at_period_end };
    ok(sb.stripe_update_subscription(&id, update).await?)
}

/// The new quantity in `items[]`, checked as Stripe checks it: each entry
/// names an item of this subscription; 0 is a valid quantity. Adding,
/// deleting or re-pricing items is beyond the sandbox (RepoPass sells one
/// price per subscription) and refused rather than ignored.
fn item_quantity(f: &Value, sub: &Value) -> Result<Option<i64>, Response> {
    let items = match form::get(f, "items") {
        None => return Ok(None),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(invalid("Invalid array", "items")),
    };
    let own = sub["items"]["data"][0]["id"].as_str().unwrap_or_default();
    let own_price = sub["items"]["data"][0]["price"]["id"].as_str().unwrap_or_default();
    let mut quantity = None;
    for (i, item) in items.iter().enumerate() {
        let Some(item_id) = form::string(item, "id") else {
            if form::get(item, "price").is_some() || form::get(item, "price_data").is_some() {
                return Err(invalid(
                    "The RepoPass sandbox does not add items to a subscription: pass the id of its item in items[][id] to change that item.",
                    &format!("items[{i}][price]"),
                ));
            }
            return Err(missing(&format!("items[{i}][price]")));
        };
        if item_id != own {
            return Err(no_such("subscription_item", &item_id, &format!("items[{i}][id]")));
        }
        if form::get(item, "deleted").and_then(Value::as_str) == Some("true") {
            return Err(invalid(
                "The RepoPass sandbox does not delete a subscription's only item; cancel the subscription instead.",
                &format!("items[{i}][deleted]"),
            ));
        }
        if form::string(item, "price").is_some_and(|p| p != own_price) || form::get(item, "price_data").is_some() {
            return Err(invalid(
                "The RepoPass sandbox does not change a subscription item's price; only its quantity.",
                &format!("items[{i}][price]"),
            ));
        }
        let param = format!("items[{i}][quantity]");
        match form::string(item, "quantity") {
            None => {}
            Some(raw) => match raw.parse::<i64>() {
                Ok(q) if q >= 0 => quantity = Some(q),
                Ok(_) => return Err(invalid("Invalid non-negative integer", &param)),
                Err(_) => return Err(invalid(&format!("Invalid integer: {raw}"), &param)),
            },
        }
    }
    Ok(quantity)
}

/// `DELETE /v1/subscriptions/{id}`: cancels at once.
pub async fn cancel_subscription(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    let Some(sub) = sb.stripe_get("subscription", &id).await? else { return Ok(no_such("subscription", &id, "id")) };
    if sub["status"] == "canceled" {
        return Ok(stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such subscription: '{id}'"),
            Some("id"),
            Some("resource_missing"),
        ));
    }
    ok(sb.stripe_cancel(&id, false).await?)
}

/// `GET /v1/invoices/{id}`; with `expand[]=payments`, the invoice's payments
/// (an includable field in Stripe's API: absent unless asked for).
pub async fn retrieve_invoice(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let Some(mut invoice) = sb.stripe_get("invoice", &id).await? else { return Ok(no_such("invoice", &id, "id")) };
    let q = form::parse(query.as_deref().unwrap_or_default());
    let expand: Vec<String> = match form::get(&q, "expand") {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::Object(map)) => map.values().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => vec![],
    };
    if expand.iter().any(|e| e == "payments") {
        let data: Vec<Value> = invoice_payment(&sb, &invoice).await?.into_iter().collect();
        invoice["payments"] = json!({ "object": "list", "data": data, "has_more": false, "url": format!("/v1/invoice_payments?invoice={id}") });
    }
    ok(invoice)
}

/// The invoice_payment object of a paid invoice (one payment per invoice
/// here, as Stripe makes for an invoice paid in one go).
async fn invoice_payment(sb: &Sandbox, invoice: &Value) -> Result<Option<Value>, Error> {
    let Some(charge) = invoice["_charge"].as_str() else { return Ok(None) };
    let Some(charge) = sb.stripe_get("charge", charge).await? else { return Ok(None) };
    Ok(Some(json!({
        "id": format!("inpay_{}", charge["id"].as_str().unwrap_or_default().get(3..).unwrap_or_default()), "object": "invoice_payment",
        "amount_paid": charge["amount"], "amount_requested": charge["amount"], "created": charge["created"],
        "currency": charge["currency"], "invoice": invoice["id"], "is_default": true, "livemode": false,
        "payment": { "type": "payment_intent", "payment_intent": charge["payment_intent"], "charge": null, "payment_record": null },
        "status": "paid", "status_transitions": { "canceled_at": null, "paid_at": charge["created"] },
    })))
}

/// `GET /v1/invoice_payments`, filtered by `invoice` or by
/// `payment[type]=payment_intent&payment[payment_intent]=…` — how a
/// charge (which no longer names its invoice) is traced to its invoice.
pub async fn list_invoice_payments(State(sb): State<Sandbox>, RawQuery(query): RawQuery) -> ApiResult {
    let q = form::parse(query.as_deref().unwrap_or_default());
    let invoice_id = form::string(&q, "invoice");
    let intent = form::string(&q, "payment.payment_intent");
    if intent.is_some() && form::string(&q, "payment.type").as_deref() != Some("payment_intent") {
        return Ok(invalid("Missing required param: payment[type].", "payment[type]"));
    }
    let mut data = Vec::new();
    for invoice in sb.stripe_list("invoice", None).await? {
        if invoice_id.as_ref().is_some_and(|id| invoice["id"] != id.as_str()) {
            continue;
        }
        if let Some(payment) = invoice_payment(&sb, &invoice).await? {
            if intent.as_ref().is_none_or(|pi| payment["payment"]["payment_intent"] == pi.as_str()) {
                data.push(payment);
            }
        }
    }
    ok(json!({ "object": "list", "data": data, "has_more": false, "url": "/v1/invoice_payments" }))
}

/// `GET /v1/charges`, optionally `?payment_intent=…` or `?customer=…`
/// (newest first, `limit` of them: 10 unless asked, as Stripe pages).
pub async fn list_charges(State(sb): State<Sandbox>, RawQuery(query): RawQuery) -> ApiResult {
    let q = form::parse(query.as_deref().unwrap_or_default());
    let limit = tri!(int(&q, "limit")).unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Ok(invalid("Invalid limit: must be between 1 and 100", "limit"));
    }
    let intent = form::string(&q, "payment_intent");
    let customer = form::string(&q, "customer");
    // Read by key, as Stripe does: a payment intent's charge (one here: a
    // failed attempt makes none), or a customer's charges (stored under
    // the customer). Scanning every charge made each grant slower than the last.
    let candidates = match (&intent, &customer) {
        (Some(pi), _) => match sb.stripe_get("payment_intent", pi).await? {
            Some(pi) => match pi["latest_charge"].as_str() {
                Some(charge) => sb.stripe_get("charge", charge).await?.into_iter().collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        },
        (None, Some(customer)) => sb.stripe_list("charge", Some(customer)).await?,
        (None, None) => sb.stripe_list("charge", None).await?,
    };
    let mut data: Vec<Value> = candidates
        .into_iter()
        .filter(|c| {
            intent.as_ref().is_none_or(|pi| c["payment_intent"] == pi.as_str())
                && customer.as_ref().is_none_or(|cus| c["customer"] == cus.as_str())
        })
        .collect();
    data.reverse();
    let has_more = data.len() > limit as usize;
    let data: Vec<Value> = data.into_iter().take(limit as usize).map(crate::stripe::public).collect();
    ok(json!({ "object": "list", "data": data, "has_more": has_more, "url": "/v1/charges" }))
}

pub async fn retrieve_charge(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "charge", &id, "charge").await
}

pub async fn create_refund(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let charge = match (form::string(&f, "charge"), form::string(&f, "payment_intent")) {
        (Some(ch), _) => match sb.stripe_get("charge", &ch).await? {
            Some(c) => c,
            None => return Ok(no_such("charge", &ch, "charge")),
        },
        (None, Some(pi)) => match sb.stripe_charge_of(&pi).await {
            Ok(c) => c,
            Err(Error::NotFound) => return Ok(no_such("payment_intent", &pi, "payment_intent")),
            Err(e) => return Err(e),
        },
        (None, None) => {
            return Ok(invalid(
                "One of the following params should be provided for this request: payment_intent or charge.",
                "charge",
            ))
        }
    };
    let amount = tri!(int(&f, "amount"));
    let reason = form::string(&f, "reason");
    if let Some(r) = reason.as_deref() {
        if !matches!(r, "duplicate" | "fraudulent" | "requested_by_customer") {
            return Ok(invalid(
                &format!("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {r})"),
                "reason",
            ));
        }
    }
    match sb.stripe_refund(charge, amount, reason.as_deref()).await? {
        Ok(refund) => ok(refund),
        Err(message) => Ok(stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &message,
            Some("amount"),
            Some("charge_already_refunded"),
        )),
    }
}

pub async fn create_portal_session(State(sb): State<Sandbox>, body: String) -> ApiResult {
    let f = form::parse(&body);
    let Some(customer) = form::string(&f, "customer") else { return Ok(missing("customer")) };
    if sb.stripe_get("customer", &customer).await?.is_none() {
        return Ok(no_such("customer", &customer, "customer"));
    }
    let id = format!("bps_{}", &new_id("x")[2..]);
    let session = json!({
        "id": id, "object": "billing_portal.session", "configuration": "bpc_repopass_sandbox", "customer_account": null,
        "created": sb.store().now().await?, "customer": customer, "flow": null, "livemode": false, "locale": null,
        "on_behalf_of": null, "return_url": form::string(&f, "return_url"),
        "url": sb.url(&format!("/sandbox/stripe/portal/{id}")),
    });
    sb.stripe_put("billing_portal_session", &session, Some(&customer)).await?;
    ok(session)
}

/// `GET /v1/events`: newest first, filtered by `type`/`types[]`, paged with
/// `limit` and `starting_after`, as RepoPass's recovery job reads it.
pub async fn list_events(State(sb): State<Sandbox>, RawQuery(query): RawQuery) -> ApiResult {
    let q = form::parse(query.as_deref().unwrap_or_default());
    let limit = tri!(int(&q, "limit")).unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Ok(invalid("Invalid limit: must be between 1 and 100", "limit"));
    }
    let mut types: Vec<String> = match form::get(&q, "types") {
        Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    };
    if let Some(t) = form::string(&q, "type") {
        types.push(t);
    }
    let created_gte = tri!(int(&q, "created.gte"));
    let mut events = sb.stripe_list("event", None).await?;
    events.sort_by(|a, b| b["id"].as_str().cmp(&a["id"].as_str()));
    let matching: Vec<Value> = events
        .into_iter()
        .filter(|e| types.is_empty() || types.iter().any(|t| matches_type(t, e["type"].as_str().unwrap_or_default())))
        .filter(|e| created_gte.is_none_or(|gte| e["created"].as_i64().unwrap_or(0) >= gte))
        .collect();
    let start = match form::string(&q, "starting_after") {
        Some(after) => match matching.iter().position(|e| e["id"].as_str() == Some(after.as_str())) {
            Some(i) => i + 1,
            None => return Ok(no_such("event", &after, "starting_after")),
        },
        None => 0,
    };
    let page: Vec<Value> = matching.iter().skip(start).take(limit as usize).cloned().collect();
    let has_more = matching.len() > start + page.len();
    Ok(Json(objects::list(public_list(page), "/v1/events", has_more)).into_response())
}

/// `customer.subscription.*` style wildcards, as Stripe allows in `type`.
fn matches_type(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

pub async fn retrieve_event(State(sb): State<Sandbox>, Path(id): Path<String>) -> ApiResult {
    retrieve(&sb, "event", &id, "event").await
}
