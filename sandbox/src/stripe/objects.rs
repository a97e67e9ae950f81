//! Stripe objects as JSON, complete enough for async-stripe's strict
//! parsing (every non-optional field present) and shaped like Stripe's
//! published examples.

use serde_json::{json, Value};

pub fn list(data: Vec<Value>, url: &str, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

pub fn product(id: &str, name: &str, description: Option<&str>, metadata: Value, now: i64) -> Value {
    json!({
        "id": id, "object": "product", "active": true, "attributes": [], "created": now, "updated": now,
        "default_price": null, "description": description, "images": [], "livemode": false,
        "marketing_features": [], "metadata": metadata, "name": name, "package_dimensions": null,
        "shippable": null, "statement_descriptor": null, "tax_code": null, "type": "service",
        "unit_label": null, "url": null
    })
}

#[allow(clippy::too_many_arguments)]
/// `interval`: None for one-time prices, Some("month"|"year"|…) for recurring.
pub fn price(
    id: &str,
    product: &str,
    currency: &str,
    unit_amount: i64,
    interval: Option<&str>,
    metadata: Value,
    nickname: Option<&str>,
    now: i64,
) -> Value {
    json!({
        "id": id, "object": "price", "active": true, "billing_scheme": "per_unit", "created": now,
        "currency": currency, "custom_unit_amount": null, "livemode": false, "lookup_key": null,
        "metadata": metadata, "nickname": nickname, "product": product,
        "recurring": interval.map(|i| json!({ "interval": i, "interval_count": 1, "meter": null, "usage_type": "licensed" })),
        "tax_behavior": "unspecified", "tiers_mode": null, "transform_quantity": null,
        "type": if interval.is_some() { "recurring" } else { "one_time" },
        "unit_amount": unit_amount, "unit_amount_decimal": unit_amount.to_string()
    })
}

/// The legacy `plan` Stripe still puts on subscription items.
pub fn plan(price: &Value) -> Value {
    json!({
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"], "billing_scheme": "per_unit", "created": price["created"],
        "currency": price["currency"], "interval": price["recurring"]["interval"], "interval_count": 1,
        "livemode": false, "metadata": {}, "meter": null, "nickname": price["nickname"], "product": price["product"],
        "tiers_mode": null, "transform_usage": null, "trial_period_days": null, "usage_type": "licensed"
    })
}

pub fn customer(id: &str, email: Option<&str>, name: Option<&str>, metadata: Value, now: i64) -> Value {
    json!({
        "id": id, "object": "customer", "address": null, "balance": 0, "created": now, "currency": null,
        "default_source": null, "delinquent": false, "description": null, "discount": null, "email": email,
        "invoice_prefix": id[4..].chars().take(8).collect::<String>().to_uppercase(),
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
        "livemode": false, "metadata": metadata, "name": name, "next_invoice_sequence": 1, "phone": null,
        "preferred_locales": [], "shipping": null, "tax_exempt": "none", "test_clock": null
    })
}

/// What one unit costs until the buyer says otherwise: the unit amount, or
/// for a pay-what-you-want price its preset (else its minimum).
pub fn unit_amount(price: &Value) -> i64 {
    let custom = &price["custom_unit_amount"];
    price["unit_amount"]
        .as_i64()
        .or_else(|| custom["preset"].as_i64())
        .or_else(|| custom["minimum"].as_i64())
        .unwrap_or(0)
}

/// A Checkout Session's line item: `quantity` of `price`, and, when the
/// buyer may change the quantity on the page, its `adjustable_quantity`
/// (`{enabled, minimum, maximum}`; null when not adjustable).
pub fn line_item(id: &str, price: &Value, quantity: i64, adjustable_quantity: Value) -> Value {
    let amount = unit_amount(price) * quantity;
    json!({
        "id": id, "object": "item", "adjustable_quantity": adjustable_quantity, "amount_discount": 0,
        "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount, "currency": price["currency"],
        "description": null, "price": crate::stripe::public(price.clone()), "quantity": quantity
    })
}

/// The subscription item's id for a subscription id (one item each here).
pub fn item_id(subscription: &str) -> String {
    format!("si_{}", subscription.get(4..).unwrap_or_default())
}

/// A subscription with one item: `quantity` of `price` (the seats).
#[allow(clippy::too_many_arguments)]
pub fn subscription(
    id: &str,
    customer: &str,
    price: &Value,
    quantity: i64,
    start: i64,
    period_end: i64,
    trial_end: Option<i64>,
    metadata: Value,
) -> Value {
    json!({
        "id": id, "object": "subscription", "application": null, "application_fee_percent": null, "automatic_tax": { "enabled": false, "liability": null },
        "billing_cycle_anchor_config": null, "customer_account": null, "default_tax_rates": [], "managed_payments": null,
        "on_behalf_of": null, "payment_settings": { "payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off" },
        "pending_invoice_item_interval": null, "pending_setup_intent": null, "transfer_data": null,
        "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
        "billing_cycle_anchor": trial_end.unwrap_or(start), "billing_mode": { "type": "classic" }, "billing_schedules": [],
        "billing_thresholds": null, "cancel_at": null, "cancel_at_period_end": false, "canceled_at": null,
        "cancellation_details": { "comment": null, "feedback": null, "reason": null },
        "collection_method": "charge_automatically", "created": start, "currency": price["currency"], "customer": customer,
        "days_until_due": null, "default_payment_method": null, "default_source": null, "description": null,
        "discounts": [], "ended_at": null, "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
        "items": list(vec![json!({
            "id": item_id(id), "object": "subscription_item", "billing_thresholds": null, "created": start,
            "current_period_start": start, "current_period_end": period_end, "discounts": [], "metadata": {},
            "plan": plan(price), "price": crate::stripe::public(price.clone()), "quantity": quantity, "subscription": id,
            "tax_rates": []
        })], &format!("/v1/subscription_items?subscription={id}"), false),
        "latest_invoice": null, "livemode": false, "metadata": metadata, "next_pending_invoice_item_invoice": null,
        "pause_collection": null, "pending_update": null, "schedule": null, "start_date": start,
        "status": if trial_end.is_some() { "trialing" } else { "active" }, "test_clock": null,
        "trial_end": trial_end, "trial_start": trial_end.map(|_| start)
    })
}

/// What an invoice line bills: its subscription item, price, quantity and
/// period, and whether it is a proration (for a credit, the line that
/// billed what it credits: `{invoice, invoice_line_items}`).
pub struct Line<'a> {
    pub subscription: &'a str,
    pub price: &'a Value,
    pub quantity: i64,
    pub amount: i64,
    pub period: (i64, i64),
    pub description: String,
    pub proration: bool,
    pub credited: Option<Value>,
}

/// An invoice line item (API 2025-03-31.basil and later: what generated it
/// is in `parent`). A subscription's own line has
/// `parent.subscription_item_details`; a proration is backed by an invoice
/// item (`ii_…`) named there too, with `proration: true`.
pub fn invoice_line(id: &str, invoice: &str, line: &Line) -> Value {
    let invoice_item = line.proration.then(|| format!("ii_{}", id.get(3..).unwrap_or_default()));
    json!({
        "id": id, "object": "line_item", "amount": line.amount, "currency": line.price["currency"],
        "description": line.description, "discount_amounts": [], "discountable": !line.proration, "discounts": [],
        "invoice": invoice, "livemode": false, "metadata": {},
        "parent": {
            "type": "subscription_item_details", "invoice_item_details": null,
            "subscription_item_details": {
                "invoice_item": invoice_item, "proration": line.proration,
                "proration_details": { "credited_items": line.credited },
                "subscription": line.subscription, "subscription_item": item_id(line.subscription)
            }
        },
        "period": { "start": line.period.0, "end": line.period.1 }, "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details", "price_details": { "price": line.price["id"], "product": line.price["product"] },
            "unit_amount_decimal": line.price["unit_amount_decimal"]
        },
        "quantity": line.quantity, "quantity_decimal": line.quantity.to_string(),
        "subscription": line.subscription, "subtotal": line.amount, "taxes": []
    })
}

/// "3 × Pro Kit (at $9.00 / month)", as Stripe describes a subscription's line.
pub fn line_description(product: &str, price: &Value, quantity: i64) -> String {
    let currency = price["currency"].as_str().unwrap_or("usd");
    let unit = ::money::format_amount(price["unit_amount"].as_i64().unwrap_or(0), currency);
    let interval = price["recurring"]["interval"].as_str().unwrap_or("month");
    format!("{quantity} × {product} (at {unit} / {interval})")
}

/// A finalised subscription invoice: its `lines` (built with
/// `invoice_line`) and `amount`, the total charged (tax included).
#[allow(clippy::too_many_arguments)]
pub fn invoice(
    id: &str,
    customer: &str,
    subscription: &str,
    currency: &Value,
    lines: Vec<Value>,
    amount: i64,
    billing_reason: &str,
    period: (i64, i64),
    paid: bool,
    attempt_count: i64,
    now: i64,
    hosted_url: &str,
) -> Value {
    let subtotal: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
    json!({
        "id": id, "object": "invoice", "account_country": "US", "account_name": "RepoPass sandbox", "account_tax_ids": null,
        "application": null, "automatically_finalizes_at": null, "custom_fields": null, "customer_account": null,
        "customer_address": null, "customer_email": null, "customer_name": null, "customer_phone": null,
        "customer_shipping": null, "customer_tax_exempt": "none", "customer_tax_ids": [], "default_payment_method": null,
        "default_source": null, "due_date": null, "effective_at": now, "ending_balance": 0, "footer": null,
        "from_invoice": null, "last_finalization_error": null, "latest_revision": null,
        "next_payment_attempt": null, "on_behalf_of": null, "receipt_number": null,
        "rendering": { "amount_tax_display": null, "pdf": { "page_size": "auto" }, "template": null, "template_version": null },
        "shipping_cost": null, "shipping_details": null, "statement_descriptor": null, "subtotal_excluding_tax": subtotal,
        "test_clock": null, "total_discount_amounts": [], "total_excluding_tax": subtotal, "total_pretax_credit_amounts": [],
        "total_taxes": [], "webhooks_delivered_at": now,
        "amount_due": amount.max(0), "amount_overpaid": 0, "amount_paid": if paid { amount.max(0) } else { 0 },
        "amount_remaining": if paid { 0 } else { amount.max(0) }, "amount_shipping": 0, "attempt_count": attempt_count,
        "attempted": attempt_count > 0, "auto_advance": !paid, "automatic_tax": { "enabled": false, "liability": null },
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically", "created": now, "currency": currency, "customer": customer,
        "default_tax_rates": [], "description": null, "discounts": [], "hosted_invoice_url": hosted_url,
        "invoice_pdf": format!("{hosted_url}/pdf"), "issuer": { "type": "self" }, "livemode": false, "metadata": {},
        "lines": list(lines, &format!("/v1/invoices/{id}/lines"), false),
        "number": format!("SBX-{}", &id[3..11].to_uppercase()), "paid": paid,
        "parent": { "type": "subscription_details", "subscription_details": { "metadata": {}, "subscription": subscription } },
        "payment_settings": { "default_mandate": null, "payment_method_options": null, "payment_method_types": null },
        "period_end": period.1, "period_start": period.0, "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0, "starting_balance": 0, "status": if paid { "paid" } else { "open" },
        "status_transitions": { "finalized_at": now, "marked_uncollectible_at": null, "paid_at": if paid { Some(now) } else { None }, "voided_at": null },
        "subscription": subscription, "subtotal": subtotal, "total": amount
    })
}

pub fn charge(
    id: &str,
    amount: i64,
    currency: &str,
    customer: &str,
    payment_intent: &str,
    now: i64,
    receipt_url: &str,
) -> Value {
    json!({
        "id": id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "application": null, "application_fee": null, "calculated_statement_descriptor": "REPOPASS SANDBOX",
        "failure_balance_transaction": null, "fraud_details": {}, "on_behalf_of": null, "payment_method_details": null,
        "receipt_email": null, "receipt_number": null, "review": null, "shipping": null, "source_transfer": null,
        "statement_descriptor": null, "statement_descriptor_suffix": null, "transfer_data": null, "transfer_group": null,
        "application_fee_amount": null, "balance_transaction": null,
        "billing_details": { "address": null, "email": null, "name": null, "phone": null },
        "captured": true, "created": now, "currency": currency, "customer": customer, "description": null,
        "disputed": false, "failure_code": null, "failure_message": null, "livemode": false, "metadata": {},
        "outcome": { "network_status": "approved_by_network", "reason": null, "risk_level": "normal", "seller_message": "Payment complete.", "type": "authorized" },
        "paid": true, "payment_intent": payment_intent, "payment_method": format!("pm_{}", &id[3..]),
        "receipt_url": receipt_url, "refunded": false,
        "refunds": list(vec![], &format!("/v1/charges/{id}/refunds"), false),
        "source": null, "status": "succeeded"
    })
}

pub fn refund(id: &str, charge: &Value, amount: i64, reason: Option<&str>, now: i64) -> Value {
    json!({
        "id": id, "object": "refund", "amount": amount, "balance_transaction": null, "charge": charge["id"],
        "customer": charge["customer"], "customer_account": null,
        "destination_details": { "card": { "reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund" }, "type": "card" },
        "payment_method": charge["payment_method"], "source_transfer_reversal": null, "transfer_reversal": null,
        "created": now, "currency": charge["currency"], "metadata": {}, "payment_intent": charge["payment_intent"],
        "reason": reason, "receipt_number": null, "status": "succeeded"
    })
}

pub fn dispute(id: &str, charge: &Value, reason: &str, now: i64) -> Value {
    json!({
        "id": id, "object": "dispute", "amount": charge["amount"], "balance_transactions": [], "charge": charge["id"],
        "created": now, "currency": charge["currency"], "enhanced_eligibility_types": [],
        "evidence": { "enhanced_evidence": {} },
        "evidence_details": { "due_by": now + 7 * 86_400, "enhanced_eligibility": {}, "has_evidence": false, "past_due": false, "submission_count": 0 },
        "is_charge_refundable": false, "livemode": false, "metadata": {}, "payment_intent": charge["payment_intent"],
        "payment_method_details": { "card": { "brand": "visa", "case_type": "chargeback", "network": "visa", "network_reason_code": "10.4" }, "type": "card" },
        "reason": reason, "status": "needs_response"
    })
}
