//! The hosted pages a buyer sees at "Stripe": Checkout and the billing
//! portal. Plain forms, no JavaScript needed.

use std::collections::HashMap;

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::billing::PayOutcome;
use crate::{
    github::model::rfc3339,
    pages::{self, money, BUTTON},
    Error, Sandbox,
};

pub async fn checkout_page(State(sb): State<Sandbox>, Path(id): Path<String>) -> Result<Response, Error> {
    let Some(session) = sb.stripe_get("checkout_session", &id).await? else {
        return Ok(pages::error_page("Checkout not found", "This checkout link is not valid.").into_response());
    };
    if session["status"] == "complete" {
        return Ok(Redirect::to(&success_url(&session)).into_response());
    }
    if session["status"] != "open" {
        return Ok(
            pages::error_page("This checkout has expired", "Go back to the store and start again.").into_response()
        );
    }
    Ok(render_checkout(&session, None).into_response())
}

/// Where a session's pay-what-you-want line is, if it has one (its price
/// has a `custom_unit_amount`: minimum, maximum, preset).
fn custom_index(session: &Value) -> Option<usize> {
    session["_line_items"].as_array()?.iter().position(|item| !item["price"]["custom_unit_amount"].is_null())
}

fn render_checkout(session: &Value, error: Option<&str>) -> maud::Markup {
    let currency = session["currency"].as_str().unwrap_or("usd");
    let custom = custom_index(session).map(|i| &session["_line_items"][i]);
    let subscription = session["mode"] == "subscription";
    let trial = session["_subscription_data"]["trial_period_days"].as_i64();
    let taxed = session["automatic_tax"]["enabled"] == serde_json::json!(true);
    let tax_priced = session["automatic_tax"]["status"] == "complete";
    let chosen_country = session["_tax_country"].as_str().unwrap_or("");
    let lines = session["_line_items"].as_array().map_or(0, Vec::len);
    let body = html! {
        div class="grid gap-8 md:grid-cols-2" {
            div {
                p class="text-sm text-slate-500" { "RepoPass sandbox · test mode" }
                @for item in session["_line_items"].as_array().into_iter().flatten() {
                    @let price = &item["price"];
                    @let quantity = item["quantity"].as_i64().unwrap_or(1);
                    div class="mt-4" {
                        div class="text-lg font-medium" {
                            @if quantity != 1 || !item["adjustable_quantity"].is_null() { span data-testid="checkout-quantity" { (quantity) " × " } }
                            (price["nickname"].as_str().unwrap_or("Repository access"))
                        }
                        div class="text-3xl font-bold" data-testid="checkout-amount" {
                            (money(item["amount_subtotal"].as_i64().unwrap_or(0), currency))
                            @if let Some(interval) = price["recurring"]["interval"].as_str() { span class="text-base font-normal text-slate-500" { " per " (interval) } }
                        }
                    }
                }
                @if let Some(days) = trial { p class="mt-2 text-sm text-green-700" { (days) " days free, then billed each period" } }
                @if taxed {
                    @if tax_priced {
                        p class="mt-2 text-sm" data-testid="checkout-tax" { "Tax (" (chosen_country) "): " (money(session["total_details"]["amount_tax"].as_i64().unwrap_or(0), currency)) }
                        p class="mt-1 font-semibold" data-testid="checkout-total" { "Total due today: " (money(session["amount_total"].as_i64().unwrap_or(0), currency)) }
                    } @else {
                        p class="mt-2 text-sm text-slate-500" data-testid="checkout-tax" { "Tax is calculated from your address." }
                    }
                }
            }
            div class="rounded-xl bg-white p-6 shadow-sm" {
                h1 class="text-xl font-semibold" { "Pay with card" }
                p class="mt-1 text-sm text-slate-600" { "Email: " (session["customer_email"].as_str().unwrap_or("—")) }
                @if let Some(error) = error { p class="mt-3 rounded bg-red-50 p-2 text-sm text-red-700" role="alert" { (error) } }
                form method="post" class="mt-4 space-y-2" {
                    @for (i, item) in session["_line_items"].as_array().into_iter().flatten().enumerate() {
                        @if let Some((low, high)) = quantity_bounds(session, i) {
                            // Stripe's adjustable quantity: the buyer picks how many, within the bounds.
                            @let field = format!("quantity_{i}");
                            label for=(field) class="block text-sm font-medium" {
                                "Quantity" @if lines > 1 { " of " (item["price"]["nickname"].as_str().unwrap_or("this item")) }
                            }
                            input id=(field) name=(field) type="number" inputmode="numeric" required min=(low) max=(high) step="1"
                                class="w-full rounded-md border border-slate-300 px-3 py-2"
                                value=(item["quantity"].as_i64().unwrap_or(1));
                            p class="text-xs text-slate-500" data-testid="checkout-quantity-range" { "Between " (low) " and " (high) }
                        }
                    }
                    @if let Some(item) = custom {
                        // Stripe's "customer chooses price": the amount, at least the minimum.
                        @let range = &item["price"]["custom_unit_amount"];
                        label for="amount" class="block text-sm font-medium" { "Amount (" (currency.to_uppercase()) ")" }
                        input id="amount" name="amount" inputmode="decimal" required
                            class="w-full rounded-md border border-slate-300 px-3 py-2"
                            value=(::money::amount_input(item["amount_subtotal"].as_i64().unwrap_or(0), currency));
                        @if let Some(min) = range["minimum"].as_i64() {
                            p class="text-xs text-slate-500" data-testid="checkout-minimum" { "At least " (::money::format_amount(min, currency)) }
                        }
                    }
                    @if taxed {
                        // Stripe Tax needs the buyer's location: the country is enough here.
                        label for="country" class="block text-sm font-medium" { "Country or region" }
                        select id="country" name="country" required class="w-full rounded-md border border-slate-300 px-3 py-2" {
                            option value="" { "Choose…" }
                            @for (code, name) in super::tax::COUNTRIES {
                                option value=(code) selected[*code == chosen_country] { (name) }
                            }
                        }
                    }
                    @if session["tax_id_collection"]["enabled"] == serde_json::json!(true) {
                        label for="tax_id" class="block text-sm font-medium" { "Tax ID (optional, for businesses)" }
                        input id="tax_id" name="tax_id" class="w-full rounded-md border border-slate-300 px-3 py-2";
                    }
                    button class=(format!("{BUTTON} w-full")) name="outcome" value="succeed" { "Pay — card succeeds (4242 4242 4242 4242)" }
                    button class="w-full rounded-md border border-slate-300 px-4 py-2 text-sm hover:bg-slate-50" name="outcome" value="decline" { "Try a card that is declined" }
                    @if !subscription {
                        button class="w-full rounded-md border border-slate-300 px-4 py-2 text-sm hover:bg-slate-50" name="outcome" value="async" { "Pay by bank debit (settles later)" }
                    }
                }
                @if let Some(cancel) = session["cancel_url"].as_str() {
                    a href=(cancel) class="mt-4 block text-center text-sm text-slate-500 underline" { "Cancel and go back" }
                }
            }
        }
    };
    pages::page("Checkout", body)
}

fn success_url(session: &Value) -> String {
    session["success_url"]
        .as_str()
        .unwrap_or("/")
        .replace("{CHECKOUT_SESSION_ID}", session["id"].as_str().unwrap_or_default())
}

/// What the buyer sent from the checkout page: `outcome`, and as the
/// session asks, `amount` (pay what you want), `country` and `tax_id`
/// (Stripe Tax), `quantity_<i>` (adjustable quantity of line item i).
pub struct PayForm(HashMap<String, String>);

impl PayForm {
    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

/// The quantities a buyer may choose for line item `i`, if its quantity is
/// adjustable: its `adjustable_quantity` range, never down to 0 for the
/// only line item (Checkout does not let the buyer remove the last item).
fn quantity_bounds(session: &Value, i: usize) -> Option<(i64, i64)> {
    let adjustable = &session["_line_items"][i]["adjustable_quantity"];
    if adjustable["enabled"] != Value::Bool(true) {
        return None;
    }
    let lines = session["_line_items"].as_array().map_or(0, Vec::len);
    let minimum = adjustable["minimum"].as_i64().unwrap_or(0);
    let low = if lines <= 1 { minimum.max(1) } else { minimum };
    Some((low, adjustable["maximum"].as_i64().unwrap_or(99)))
}

/// The buyer's quantities for the adjustable line items, each within its
/// bounds; a line set to 0 leaves the order. The amounts follow: each
/// line's is its unit amount × quantity, the session's their sum (nothing
/// due today during a trial). Ok(false): nothing to change. Err: what the
/// page says; the session is then left as it was.
fn choose_quantities(session: &mut Value, form: &PayForm) -> Result<bool, String> {
    let count = session["_line_items"].as_array().map_or(0, Vec::len);
    let mut changed = false;
    for i in 0..count {
        let Some((low, high)) = quantity_bounds(session, i) else { continue };
        let Some(typed) = form.get(&format!("quantity_{i}")).map(str::trim) else { continue };
        let quantity: i64 = typed.parse().map_err(|_| "Enter the quantity as a whole number.".to_owned())?;
        if quantity < low || quantity > high {
            return Err(format!("Choose a quantity between {low} and {high}."));
        }
        let item = &mut session["_line_items"][i];
        let amount = super::objects::unit_amount(&item["price"]) * quantity;
        item["quantity"] = quantity.into();
        item["amount_subtotal"] = amount.into();
        item["amount_tax"] = 0.into();
        item["amount_total"] = amount.into();
        changed = true;
    }
    if !changed {
        return Ok(false);
    }
    if let Some(items) = session["_line_items"].as_array_mut() {
        items.retain(|item| item["quantity"].as_i64() != Some(0));
    }
    let items = session["_line_items"].as_array().cloned().unwrap_or_default();
    if session["mode"] == "subscription" && !items.iter().any(|li| li["price"]["type"] == "recurring") {
        return Err("Keep at least one subscription in your order.".into());
    }
    let trial = session["_subscription_data"]["trial_period_days"].as_i64().is_some();
    let sum = |field: &str| -> i64 { items.iter().filter_map(|li| li[field].as_i64()).sum() };
    let (subtotal, total) = if trial { (0, 0) } else { (sum("amount_subtotal"), sum("amount_total")) };
    session["amount_subtotal"] = subtotal.into();
    session["amount_total"] = total.into();
    Ok(true)
}

/// The buyer's amount for the session's pay-what-you-want line, checked
/// against the price's range as Stripe's page does; the session's totals
/// follow it. Ok(false): the session has no such line, nothing changed.
/// Err: what the page says.
fn choose_amount(session: &mut Value, typed: Option<&str>) -> Result<bool, String> {
    let currency = session["currency"].as_str().unwrap_or("usd").to_owned();
    let Some(index) = custom_index(session) else { return Ok(false) };
    let typed = typed.map(str::trim).filter(|t| !t.is_empty()).ok_or("Enter an amount.")?;
    let amount = ::money::parse_amount(typed, &currency).map_err(|e| format!("Enter a valid amount: {e}."))?;
    let range = session["_line_items"][index]["price"]["custom_unit_amount"].clone();
    if let Some(min) = range["minimum"].as_i64().filter(|min| amount < *min) {
        return Err(format!("Enter an amount of at least {}.", ::money::format_amount(min, &currency)));
    }
    if let Some(max) = range["maximum"].as_i64().filter(|max| amount > *max) {
        return Err(format!("Enter an amount of at most {}.", ::money::format_amount(max, &currency)));
    }
    let item = &mut session["_line_items"][index];
    let before = item["amount_total"].as_i64().unwrap_or(0);
    item["amount_subtotal"] = amount.into();
    item["amount_total"] = amount.into();
    for total in ["amount_subtotal", "amount_total"] {
        let now = session[total].as_i64().unwrap_or(0) - before + amount;
        session[total] = now.into();
    }
    Ok(true)
}

pub async fn checkout_submit(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let f = PayForm(fields.into_iter().collect());
    let Some(session) = sb.stripe_get("checkout_session", &id).await? else {
        return Ok(pages::error_page("Checkout not found", "This checkout link is not valid.").into_response());
    };
    if session["status"] != "open" {
        return checkout_page(State(sb), Path(id)).await;
    }
    let mut session = session;
    let mut chosen = session.clone();
    match choose_quantities(&mut chosen, &f) {
        Err(message) => return Ok(render_checkout(&session, Some(&message)).into_response()),
        Ok(true) => {
            session = chosen;
            sb.stripe_put("checkout_session", &session, None).await?;
        }
        Ok(false) => {}
    }
    match choose_amount(&mut session, f.get("amount")) {
        Err(message) => return Ok(render_checkout(&session, Some(&message)).into_response()),
        Ok(true) => sb.stripe_put("checkout_session", &session, None).await?,
        Ok(false) => {}
    }
    if session["automatic_tax"]["enabled"] == serde_json::json!(true) {
        let country = f.get("country").map(str::trim).unwrap_or_default().to_uppercase();
        if !super::tax::COUNTRIES.iter().any(|(code, _)| *code == country) {
            return Ok(
                render_checkout(&session, Some("Choose your country or region: tax depends on it.")).into_response()
            );
        }
        super::tax::apply(&sb, &mut session, &country).await?;
        if let Some(id) = f.get("tax_id").map(str::trim).filter(|t| !t.is_empty()) {
            session["_tax_id"] = serde_json::json!(id);
        }
        sb.stripe_put("checkout_session", &session, None).await?;
    }
    let outcome = match f.get("outcome").unwrap_or_default() {
        "succeed" => PayOutcome::Succeed,
        "async" if session["mode"] == "payment" => PayOutcome::Async,
        // Stripe keeps the session open after a decline: the buyer can try again.
        _ => return Ok(render_checkout(&session, Some("Your card was declined. Try another card.")).into_response()),
    };
    let completed = sb.stripe_pay_session(&id, outcome).await?;
    Ok(Redirect::to(&success_url(&completed)).into_response())
}

/// The billing portal: the customer's subscriptions and invoices.
pub async fn portal_page(State(sb): State<Sandbox>, Path(id): Path<String>) -> Result<Response, Error> {
    let Some(portal) = sb.stripe_get("billing_portal_session", &id).await? else {
        return Ok(pages::error_page("Session not found", "This billing portal link is not valid.").into_response());
    };
    let customer = portal["customer"].as_str().unwrap_or_default().to_owned();
    let subscriptions = sb.stripe_list("subscription", Some(&customer)).await?;
    let mut invoices = Vec::new();
    for sub in &subscriptions {
        invoices.extend(sb.stripe_list("invoice", sub["id"].as_str()).await?);
    }
    invoices.sort_by_key(|i| std::cmp::Reverse(i["created"].as_i64().unwrap_or(0)));
    let body = html! {
        h1 class="text-2xl font-semibold" { "Billing" }
        p class="text-sm text-slate-600" { "Manage your subscriptions and see your invoices." }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Subscriptions" }
            @if subscriptions.is_empty() { p class="text-sm text-slate-500" { "No subscriptions." } }
            @for sub in &subscriptions {
                @let sub_id = sub["id"].as_str().unwrap_or_default();
                @let item = &sub["items"]["data"][0];
                @let end = item["current_period_end"].as_i64().unwrap_or(0);
                div class="flex items-center justify-between border-t border-slate-100 py-3" data-subscription=(sub_id) {
                    div {
                        div class="font-medium" {
                            @if let Some(seats) = item["quantity"].as_i64().filter(|q| *q != 1) { (seats) " × " }
                            (item["price"]["nickname"].as_str().unwrap_or("Subscription")) " — " (money(item["price"]["unit_amount"].as_i64().unwrap_or(0), item["price"]["currency"].as_str().unwrap_or("usd"))) "/" (item["price"]["recurring"]["interval"].as_str().unwrap_or("month")) }
                        div class="text-sm text-slate-600" data-testid="portal-status" {
                            @if sub["status"] == "canceled" { "Canceled" }
                            @else if sub["cancel_at_period_end"] == serde_json::json!(true) { "Cancels on " (&rfc3339(end)[..10]) }
                            @else { (sub["status"].as_str().unwrap_or_default()) " · renews on " (&rfc3339(end)[..10]) }
                        }
                    }
                    @if sub["status"] != "canceled" {
                        form method="post" action=(format!("/sandbox/stripe/portal/{id}/subscriptions/{sub_id}")) {
                            @if sub["cancel_at_period_end"] == serde_json::json!(true) {
                                button class=(BUTTON) name="action" value="resume" { "Don't cancel" }
                            } @else {
                                button class=(BUTTON) name="action" value="cancel" { "Cancel subscription" }
                            }
                        }
                    }
                }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Invoices" }
            @if invoices.is_empty() { p class="text-sm text-slate-500" { "No invoices yet." } }
            div class="overflow-x-auto" {
                table class="w-full text-left text-sm" {
                    @for inv in &invoices {
                        tr class="border-t border-slate-100" {
                            td class="py-2" { (&rfc3339(inv["created"].as_i64().unwrap_or(0))[..10]) }
                            td { (money(inv["total"].as_i64().unwrap_or(0), inv["currency"].as_str().unwrap_or("usd"))) }
                            td { (inv["status"].as_str().unwrap_or_default()) }
                            td class="text-slate-500" { (inv["number"].as_str().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if let Some(back) = portal["return_url"].as_str() {
            a href=(back) class="mt-6 inline-block text-sm text-indigo-700 underline" { "← Return to RepoPass" }
        }
    };
    Ok(pages::page("Billing", body).into_response())
}

#[derive(Deserialize)]
pub struct PortalAction {
    action: String,
}

pub async fn portal_action(
    State(sb): State<Sandbox>,
    Path((id, sub_id)): Path<(String, String)>,
    Form(f): Form<PortalAction>,
) -> Result<Response, Error> {
    let Some(portal) = sb.stripe_get("billing_portal_session", &id).await? else { return Err(Error::NotFound) };
    let sub = sb.stripe_get("subscription", &sub_id).await?.ok_or(Error::NotFound)?;
    // A portal session acts only on its own customer's subscriptions.
    if sub["customer"] != portal["customer"] {
        return Err(Error::NotFound);
    }
    match f.action.as_str() {
        // The portal cancels at the end of the paid period, as Stripe's default does.
        "cancel" => sb.stripe_cancel(&sub_id, true).await?,
        "resume" => sb.stripe_resume(&sub_id).await?,
        other => return Err(Error::BadRequest(format!("unknown action {other}"))),
    };
    Ok(Redirect::to(&format!("/sandbox/stripe/portal/{id}")).into_response())
}
