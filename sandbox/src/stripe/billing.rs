//! What happens at Stripe between API calls: a buyer pays on the hosted
//! page, a subscription renews (or its payment fails), someone refunds or
//! disputes. Each step changes the stored objects and emits the events
//! Stripe would send, in Stripe's order.

use serde_json::{json, Value};

use super::{new_id, objects, public};
use crate::{Error, Sandbox};

/// What the buyer chose on the hosted checkout page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayOutcome {
    /// The card succeeds.
    Succeed,
    /// A delayed method (bank debit): the session completes unpaid, and
    /// settles later through the console.
    Async,
}

/// Adds one billing interval, calendar-aware (Jan 31 + 1 month = Feb 28/29).
pub fn add_interval(ts: i64, interval: &str) -> i64 {
    use time::{Date, OffsetDateTime};
    let Ok(t) = OffsetDateTime::from_unix_timestamp(ts) else { return ts + 30 * 86_400 };
    let months = match interval {
        "year" => 12,
        "month" => 1,
        "week" => return ts + 7 * 86_400,
        "day" => return ts + 86_400,
        _ => 1,
    };
    let total = t.year() * 12 + (t.month() as i32 - 1) + months;
    let (year, month) =
        (total.div_euclid(12), time::Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(time::Month::January));
    let day = t.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => t.replace_date(date).unix_timestamp(),
        Err(_) => ts + 30 * 86_400,
    }
}

/// `proration_behavior` of a subscription update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proration {
    /// Stripe's default: proration items wait for the next invoice.
    CreateProrations,
    /// Prorations are invoiced, and the invoice paid, at once.
    AlwaysInvoice,
    /// No prorations: the next renewal bills the new quantity.
    None,
}

impl Proration {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "create_prorations" => Some(Self::CreateProrations),
            "always_invoice" => Some(Self::AlwaysInvoice),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// A validated `POST /v1/subscriptions/{id}`.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionUpdate {
    /// The item's new quantity (0 allowed, as on Stripe).
    pub quantity: Option<i64>,
    pub proration: Proration,
    pub cancel_at_period_end: Option<bool>,
}

/// `amount` × `remaining` / `length`, rounded half away from zero to the
/// minor unit: one proration line's amount.
pub fn prorate(amount: i64, remaining: i64, length: i64) -> i64 {
    let (num, den) = (i128::from(amount.abs()) * i128::from(remaining), i128::from(length.max(1)));
    let rounded = ((2 * num + den) / (2 * den)) as i64;
    if amount < 0 {
        -rounded
    } else {
        rounded
    }
}

/// "03 Mar 2026", as Stripe dates proration lines ("… after 03 Mar 2026").
fn stripe_date(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!("{:02} {} {}", t.day(), &t.month().to_string()[..3], t.year()),
        Err(_) => ts.to_string(),
    }
}

impl Sandbox {
    async fn now(&self) -> Result<i64, Error> {
        self.store().now().await
    }

    async fn stripe_must(&self, object: &str, id: &str) -> Result<Value, Error> {
        self.stripe_get(object, id).await?.ok_or(Error::NotFound)
    }

    /// The customer with this email, or a new one (Checkout's behaviour in
    /// subscription mode).
    async fn customer_for(&self, email: Option<&str>) -> Result<Value, Error> {
        if let Some(email) = email {
            let existing =
                self.stripe_list("customer", None).await?.into_iter().find(|c| c["email"].as_str() == Some(email));
            if let Some(found) = existing {
                return Ok(found);
            }
        }
        let customer = objects::customer(&new_id("cus"), email, None, json!({}), self.now().await?);
        self.stripe_put("customer", &customer, None).await?;
        self.stripe_event("customer.created", &customer, None).await?;
        Ok(customer)
    }

    /// A succeeded payment: PaymentIntent + Charge.
    async fn take_payment(&self, amount: i64, currency: &str, customer: Option<&str>) -> Result<Value, Error> {
        let now = self.now().await?;
        let pi = new_id("pi");
        let ch = new_id("ch");
        let charge = objects::charge(
            &ch,
            amount,
            currency,
            customer.unwrap_or_default(),
            &pi,
            now,
            &self.url(&format!("/sandbox/stripe/receipts/{ch}")),
        );
        let mut charge = charge;
        if customer.is_none() {
            charge["customer"] = Value::Null;
        }
        self.stripe_put("charge", &charge, customer).await?;
        self.stripe_put("payment_intent", &json!({ "id": pi, "object": "payment_intent", "amount": amount, "currency": currency, "status": "succeeded", "latest_charge": ch }), None).await?;
        self.stripe_event("charge.succeeded", &charge, None).await?;
        Ok(charge)
    }

    /// The buyer pays on the hosted page. Returns the completed session.
    pub async fn stripe_pay_session(&self, session_id: &str, outcome: PayOutcome) -> Result<Value, Error> {
        let mut session = self.stripe_must("checkout_session", session_id).await?;
        if session["status"] != "open" {
            return Err(Error::BadRequest("this Checkout Session is no longer open".into()));
        }
        let now = self.now().await?;
        let email = session["customer_email"].as_str().map(str::to_owned);
        let price = session["_line_items"][0]["price"].clone();
        let quantity = session["_line_items"][0]["quantity"].as_i64().unwrap_or(1);
        let amount = session["amount_total"].as_i64().unwrap_or(0);
        let currency = session["currency"].as_str().unwrap_or("usd").to_owned();
        // The country Stripe Tax was given, and a business's tax ID.
        let address = match session["_tax_country"].as_str() {
            Some(country) => {
                json!({ "city": null, "country": country, "line1": null, "line2": null, "postal_code": null, "state": null })
            }
            None => Value::Null,
        };
        let tax_ids = match session["_tax_id"].as_str() {
            Some(id) => json!([{ "type": "eu_vat", "value": id }]),
            None => json!([]),
        };
        session["customer_details"] = json!({ "address": address, "email": email, "name": null, "phone": null, "tax_exempt": "none", "tax_ids": tax_ids });
        session["status"] = json!("complete");

        if session["mode"] == "subscription" {
            let customer = match session["customer"].as_str() {
                Some(id) => self.stripe_must("customer", id).await?,
                None => self.customer_for(email.as_deref()).await?,
            };
            let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
            let interval = price["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
            let trial_days = session["_subscription_data"]["trial_period_days"].as_i64().filter(|d| *d > 0);
            let trial_end = trial_days.map(|d| now + d * 86_400);
            let period_end = trial_end.unwrap_or_else(|| add_interval(now, &interval));
            let sub_id = new_id("sub");
            let metadata = session["_subscription_data"]["metadata"].clone();
            let mut sub = objects::subscription(
                &sub_id,
                &customer_id,
                &price,
                quantity,
                now,
                period_end,
                trial_end,
                if metadata.is_object() { metadata } else { json!({}) },
            );
            let first_amount = if trial_end.is_some() { 0 } else { amount };
            let inv_id = new_id("in");
            let product = self.product_name(&price).await?;
            // A trial's line bills nothing; otherwise the seats at the unit price.
            let line = objects::Line {
                subscription: &sub_id,
                price: &price,
                quantity,
                amount: if trial_end.is_some() { 0 } else { objects::unit_amount(&price) * quantity },
                period: (now, period_end),
                description: if trial_end.is_some() {
                    format!("Trial period for {product}")
                } else {
                    objects::line_description(&product, &price, quantity)
                },
                proration: false,
                credited: None,
            };
            let line_id = new_id("il");
            let mut invoice = objects::invoice(
                &inv_id,
                &customer_id,
                &sub_id,
                &price["currency"],
                vec![objects::invoice_line(&line_id, &inv_id, &line)],
                first_amount,
                "subscription_create",
                (now, period_end),
                true,
                if first_amount > 0 { 1 } else { 0 },
                now,
                &self.url(&format!("/sandbox/stripe/invoices/{inv_id}")),
            );
            sub["_billed_by"] = json!({ "invoice": inv_id, "invoice_line_items": [line_id] });
            if first_amount > 0 {
                let charge = self.take_payment(first_amount, &currency, Some(&customer_id)).await?;
                invoice["_charge"] = charge["id"].clone();
            }
            super::tax::remember_on_subscription(&session, &mut sub);
            if first_amount > 0 {
                super::tax::mark_invoice(
                    &mut invoice,
                    &sub,
                    session["total_details"]["amount_tax"].as_i64().unwrap_or(0),
                );
            }
            sub["latest_invoice"] = json!(inv_id);
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_put("invoice", &invoice, Some(&sub_id)).await?;
            self.stripe_event("customer.subscription.created", &sub, None).await?;
            self.stripe_event("invoice.paid", &invoice, None).await?;
            session["customer"] = json!(customer_id);
            session["subscription"] = json!(sub_id);
            session["invoice"] = json!(inv_id);
            // A trial defers the first payment.
            session["payment_status"] = json!(if first_amount > 0 { "paid" } else { "no_payment_required" });
        } else {
            let customer = session["customer"].as_str().map(str::to_owned);
            match outcome {
                PayOutcome::Succeed => {
                    let charge = self.take_payment(amount, &currency, customer.as_deref()).await?;
                    session["payment_intent"] = charge["payment_intent"].clone();
                    session["payment_status"] = json!("paid");
                }
                PayOutcome::Async => {
                    let pi = new_id("pi");
                    self.stripe_put("payment_intent", &json!({ "id": pi, "object": "payment_intent", "amount": amount, "currency": currency, "status": "processing", "latest_charge": null }), None).await?;
                    session["payment_intent"] = json!(pi);
                    session["payment_status"] = json!("unpaid");
                }
            }
        }
        self.stripe_put("checkout_session", &session, None).await?;
        self.stripe_event("checkout.session.completed", &session, None).await?;
        Ok(session)
    }

    /// A delayed payment settles (or fails) after the session completed.
    pub async fn stripe_settle_async(&self, session_id: &str, succeed: bool) -> Result<Value, Error> {
        let mut session = self.stripe_must("checkout_session", session_id).await?;
        if session["status"] != "complete" || session["payment_status"] != "unpaid" {
            return Err(Error::BadRequest("only a completed, unpaid session has a payment to settle".into()));
        }
        let pi_id = session["payment_intent"].as_str().unwrap_or_default().to_owned();
        let mut pi = self.stripe_must("payment_intent", &pi_id).await?;
        if succeed {
            let now = self.now().await?;
            let amount = session["amount_total"].as_i64().unwrap_or(0);
            let currency = session["currency"].as_str().unwrap_or("usd").to_owned();
            let ch = new_id("ch");
            let mut charge = objects::charge(
                &ch,
                amount,
                &currency,
                "",
                &pi_id,
                now,
                &self.url(&format!("/sandbox/stripe/receipts/{ch}")),
            );
            charge["customer"] = session["customer"].clone();
            self.stripe_put("charge", &charge, session["customer"].as_str()).await?;
            pi["status"] = json!("succeeded");
            pi["latest_charge"] = json!(ch);
            session["payment_status"] = json!("paid");
            self.stripe_put("payment_intent", &pi, None).await?;
            self.stripe_put("checkout_session", &session, None).await?;
            self.stripe_event("charge.succeeded", &charge, None).await?;
            self.stripe_event("checkout.session.async_payment_succeeded", &session, None).await?;
        } else {
            pi["status"] = json!("requires_payment_method");
            self.stripe_put("payment_intent", &pi, None).await?;
            self.stripe_event("checkout.session.async_payment_failed", &session, None).await?;
        }
        Ok(session)
    }

    /// Ends an open session (API `expire`, or its 24 hours ran out).
    pub async fn stripe_expire_session(&self, session: &mut Value) -> Result<(), Error> {
        session["status"] = json!("expired");
        session["url"] = Value::Null;
        self.stripe_put("checkout_session", session, None).await?;
        self.stripe_event("checkout.session.expired", session, None).await?;
        Ok(())
    }

    fn period(sub: &Value) -> (i64, i64) {
        let item = &sub["items"]["data"][0];
        (item["current_period_start"].as_i64().unwrap_or(0), item["current_period_end"].as_i64().unwrap_or(0))
    }

    /// The next N renewals of this subscription fail (card declined).
    pub async fn stripe_fail_next_payment(&self, sub_id: &str) -> Result<Value, Error> {
        let mut sub = self.stripe_must("subscription", sub_id).await?;
        sub["_fail_next"] = json!(sub["_fail_next"].as_i64().unwrap_or(0) + 1);
        self.stripe_put("subscription", &sub, sub["customer"].as_str()).await?;
        Ok(sub)
    }

    /// Bills the next period now: pays (or fails) the invoice, or ends a
    /// subscription set to cancel at period end. A past-due subscription
    /// retries its open invoice instead. The invoice bills the item's
    /// current quantity, with any prorations pending since the last one
    /// (quantity changes made with `create_prorations`), less the
    /// customer's credit balance.
    pub async fn stripe_renew(&self, sub_id: &str) -> Result<Value, Error> {
        let mut sub = self.stripe_must("subscription", sub_id).await?;
        let customer_id = sub["customer"].as_str().unwrap_or_default().to_owned();
        if matches!(sub["status"].as_str(), Some("canceled" | "incomplete_expired")) {
            return Err(Error::BadRequest(format!("subscription {sub_id} has ended")));
        }
        let now = self.now().await?;
        let previous =
            json!({ "status": sub["status"], "items": sub["items"], "latest_invoice": sub["latest_invoice"] });
        let (_, end) = Self::period(&sub);
        if sub["cancel_at_period_end"] == json!(true) {
            // Simplified: prorations still pending are dropped (Stripe leaves
            // them as pending invoice items on the customer).
            sub["status"] = json!("canceled");
            sub["ended_at"] = json!(end);
            sub["cancellation_details"]["reason"] = json!("cancellation_requested");
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("customer.subscription.deleted", &sub, None).await?;
            return Ok(sub);
        }
        let fail = sub["_fail_next"].as_i64().unwrap_or(0) > 0;
        if fail {
            sub["_fail_next"] = json!(sub["_fail_next"].as_i64().unwrap_or(1) - 1);
        }
        // Retry the open invoice of a past-due subscription, or bill a new period.
        let open = match sub["latest_invoice"].as_str() {
            Some(id) => self.stripe_get("invoice", id).await?.filter(|i| i["status"] == "open"),
            None => None,
        };
        let mut invoice = match open {
            Some(inv) => inv,
            None => self.cycle_invoice(&mut sub, end, now).await?,
        };
        let inv_id = invoice["id"].as_str().unwrap_or_default().to_owned();
        invoice["attempt_count"] = json!(invoice["attempt_count"].as_i64().unwrap_or(0) + 1);
        invoice["attempted"] = json!(true);
        sub["latest_invoice"] = json!(inv_id);
        if fail {
            sub["status"] = json!("past_due");
            invoice["next_payment_attempt"] = json!(now + 3 * 86_400);
            self.stripe_put("invoice", &invoice, Some(sub_id)).await?;
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("invoice.payment_failed", &invoice, None).await?;
        } else {
            self.pay_invoice(&mut invoice, &customer_id, now).await?;
            sub["status"] = json!("active");
            self.stripe_put("invoice", &invoice, Some(sub_id)).await?;
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("invoice.paid", &invoice, None).await?;
        }
        self.stripe_event("customer.subscription.updated", &sub, Some(previous)).await?;
        Ok(sub)
    }

    /// The invoice of the period starting at `end` (finalised, not yet
    /// paid): the pending prorations, then the item's quantity at the unit
    /// price, taxed as the subscription was, less the customer's credit.
    /// Moves the item to that period.
    async fn cycle_invoice(&self, sub: &mut Value, end: i64, now: i64) -> Result<Value, Error> {
        let sub_id = sub["id"].as_str().unwrap_or_default().to_owned();
        let customer_id = sub["customer"].as_str().unwrap_or_default().to_owned();
        let price = sub["items"]["data"][0]["price"].clone();
        let quantity = sub["items"]["data"][0]["quantity"].as_i64().unwrap_or(1);
        let interval = price["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
        let new_end = add_interval(end, &interval);
        let item = &mut sub["items"]["data"][0];
        item["current_period_start"] = json!(end);
        item["current_period_end"] = json!(new_end);
        let inv_id = new_id("in");
        let mut lines: Vec<Value> = sub["_pending_lines"].as_array().cloned().unwrap_or_default();
        for line in &mut lines {
            line["invoice"] = json!(inv_id);
        }
        let product = self.product_name(&price).await?;
        let line_id = new_id("il");
        lines.push(objects::invoice_line(
            &line_id,
            &inv_id,
            &objects::Line {
                subscription: &sub_id,
                price: &price,
                quantity,
                amount: objects::unit_amount(&price) * quantity,
                period: (end, new_end),
                description: objects::line_description(&product, &price, quantity),
                proration: false,
                credited: None,
            },
        ));
        let base: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
        let (tax, amount) = super::tax::renewal(sub, base);
        let mut invoice = objects::invoice(
            &inv_id,
            &customer_id,
            &sub_id,
            &price["currency"],
            lines,
            amount,
            "subscription_cycle",
            (end, new_end),
            false,
            0,
            now,
            &self.url(&format!("/sandbox/stripe/invoices/{inv_id}")),
        );
        super::tax::mark_invoice(&mut invoice, sub, tax);
        self.apply_balance(&mut invoice, &customer_id).await?;
        if let Some(map) = sub.as_object_mut() {
            map.remove("_pending_lines");
        }
        sub["_billed_by"] = json!({ "invoice": inv_id, "invoice_line_items": [line_id] });
        Ok(invoice)
    }

    /// Applies the customer's balance to a finalised invoice, as Stripe
    /// does: a credit (negative balance) lowers what is due; a negative
    /// total (a credit proration) becomes credit for the next invoice.
    async fn apply_balance(&self, invoice: &mut Value, customer_id: &str) -> Result<(), Error> {
        let Some(mut customer) = self.stripe_get("customer", customer_id).await? else { return Ok(()) };
        let starting = customer["balance"].as_i64().unwrap_or(0);
        let combined = invoice["total"].as_i64().unwrap_or(0) + starting;
        let (due, ending) = if combined < 0 { (0, combined) } else { (combined, 0) };
        invoice["starting_balance"] = json!(starting);
        invoice["ending_balance"] = json!(ending);
        invoice["amount_due"] = json!(due);
        invoice["amount_remaining"] = json!(due);
        if ending != starting {
            customer["balance"] = json!(ending);
            self.stripe_put("customer", &customer, None).await?;
            self.stripe_event("customer.updated", &customer, Some(json!({ "balance": starting }))).await?;
        }
        Ok(())
    }

    /// Charges what a finalised invoice has due (nothing for a zero or
    /// credited invoice, which is paid as it is) and marks it paid.
    async fn pay_invoice(&self, invoice: &mut Value, customer_id: &str, now: i64) -> Result<(), Error> {
        let due = invoice["amount_remaining"].as_i64().unwrap_or(0);
        if due > 0 {
            let currency = invoice["currency"].as_str().unwrap_or("usd").to_owned();
            let charge = self.take_payment(due, &currency, Some(customer_id)).await?;
            invoice["_charge"] = charge["id"].clone();
        }
        invoice["status"] = json!("paid");
        invoice["paid"] = json!(true);
        invoice["auto_advance"] = json!(false);
        invoice["amount_paid"] = json!(due);
        invoice["amount_remaining"] = json!(0);
        invoice["next_payment_attempt"] = Value::Null;
        invoice["status_transitions"]["paid_at"] = json!(now);
        Ok(())
    }

    /// The product's name, as Stripe writes it on invoice lines.
    async fn product_name(&self, price: &Value) -> Result<String, Error> {
        let product = match price["product"].as_str() {
            Some(id) => self.stripe_get("product", id).await?,
            None => None,
        };
        Ok(product
            .and_then(|p| p["name"].as_str().map(str::to_owned))
            .or_else(|| price["nickname"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "Subscription".to_owned()))
    }

    /// `POST /v1/subscriptions/{id}` once validated: a new quantity for its
    /// item, prorated per `proration`, and/or `cancel_at_period_end`.
    /// One `customer.subscription.updated` (with what changed in
    /// `previous_attributes`) when anything did; with `always_invoice`
    /// the proration invoice is paid first (`invoice.paid`).
    pub async fn stripe_update_subscription(&self, sub_id: &str, update: SubscriptionUpdate) -> Result<Value, Error> {
        let mut sub = self.stripe_must("subscription", sub_id).await?;
        let customer_id = sub["customer"].as_str().unwrap_or_default().to_owned();
        let now = self.now().await?;
        let mut previous = serde_json::Map::new();
        match update.cancel_at_period_end {
            Some(true) if sub["cancel_at_period_end"] != json!(true) => Self::set_cancel(&mut sub, now, &mut previous),
            Some(false) if sub["cancel_at_period_end"] == json!(true) => Self::unset_cancel(&mut sub, &mut previous),
            _ => {}
        }
        let mut invoice = None;
        let old = sub["items"]["data"][0]["quantity"].as_i64().unwrap_or(1);
        if let Some(new) = update.quantity.filter(|q| *q != old) {
            previous.insert("items".into(), sub["items"].clone());
            let lines = self.proration_lines(&sub, old, new, now).await?;
            sub["items"]["data"][0]["quantity"] = json!(new);
            match update.proration {
                Proration::None => {}
                Proration::CreateProrations => {
                    let mut pending = sub["_pending_lines"].as_array().cloned().unwrap_or_default();
                    pending.extend(lines);
                    sub["_pending_lines"] = json!(pending);
                }
                Proration::AlwaysInvoice => {
                    // The invoice takes these and any prorations still pending.
                    let mut all = sub["_pending_lines"].as_array().cloned().unwrap_or_default();
                    all.extend(lines);
                    if let Some(map) = sub.as_object_mut() {
                        map.remove("_pending_lines");
                    }
                    if !all.is_empty() {
                        previous.insert("latest_invoice".into(), sub["latest_invoice"].clone());
                        let inv = self.update_invoice(&sub, all, now).await?;
                        sub["latest_invoice"] = inv["id"].clone();
                        // What a later credit for this period credits: the charge just made.
                        let debits: Vec<Value> = inv["lines"]["data"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|l| l["amount"].as_i64().is_some_and(|a| a > 0))
                            .map(|l| l["id"].clone())
                            .collect();
                        if !debits.is_empty() {
                            sub["_billed_by"] = json!({ "invoice": inv["id"], "invoice_line_items": debits });
                        }
                        invoice = Some(inv);
                    }
                }
            }
        }
        if previous.is_empty() {
            return Ok(sub);
        }
        if let Some(inv) = &invoice {
            self.stripe_put("invoice", inv, Some(sub_id)).await?;
        }
        self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
        if let Some(inv) = &invoice {
            self.stripe_event("invoice.paid", inv, None).await?;
        }
        self.stripe_event("customer.subscription.updated", &sub, Some(Value::Object(previous))).await?;
        Ok(sub)
    }

    /// The proration lines of a quantity change now, as Stripe makes them
    /// (to the second, each rounded to the minor unit): a credit for the
    /// unused time on the old quantity, a charge for the remaining time on
    /// the new one. None during a trial (nothing was charged) or once the
    /// period is over.
    async fn proration_lines(&self, sub: &Value, old: i64, new: i64, now: i64) -> Result<Vec<Value>, Error> {
        let (start, end) = Self::period(sub);
        // A period billed ahead (the console's "renew now") starts later than now.
        let now = now.max(start);
        if sub["status"] == "trialing" || end <= now || end <= start {
            return Ok(vec![]);
        }
        let sub_id = sub["id"].as_str().unwrap_or_default();
        let price = &sub["items"]["data"][0]["price"];
        let unit = objects::unit_amount(price);
        let product = self.product_name(price).await?;
        let after = stripe_date(now);
        let mut lines = Vec::new();
        for (quantity, credit) in [(old, true), (new, false)] {
            if quantity <= 0 {
                continue;
            }
            let amount = prorate(unit * quantity, end - now, end - start);
            let line = objects::Line {
                subscription: sub_id,
                price,
                quantity,
                amount: if credit { -amount } else { amount },
                period: (now, end),
                description: if credit {
                    format!("Unused time on {quantity} × {product} after {after}")
                } else {
                    format!("Remaining time on {quantity} × {product} after {after}")
                },
                proration: true,
                credited: if credit { Some(sub["_billed_by"].clone()).filter(|b| b.is_object()) } else { None },
            };
            lines.push(objects::invoice_line(&new_id("il"), "", &line));
        }
        Ok(lines)
    }

    /// `always_invoice`: the proration lines invoiced now (billing reason
    /// `subscription_update`), finalised and paid at once; a negative total
    /// becomes the customer's credit.
    async fn update_invoice(&self, sub: &Value, mut lines: Vec<Value>, now: i64) -> Result<Value, Error> {
        let sub_id = sub["id"].as_str().unwrap_or_default();
        let customer_id = sub["customer"].as_str().unwrap_or_default();
        let inv_id = new_id("in");
        for line in &mut lines {
            line["invoice"] = json!(inv_id);
        }
        let base: i64 = lines.iter().filter_map(|l| l["amount"].as_i64()).sum();
        let (tax, amount) = super::tax::renewal(sub, base);
        let mut invoice = objects::invoice(
            &inv_id,
            customer_id,
            sub_id,
            &sub["currency"],
            lines,
            amount,
            "subscription_update",
            (now, now),
            false,
            1,
            now,
            &self.url(&format!("/sandbox/stripe/invoices/{inv_id}")),
        );
        super::tax::mark_invoice(&mut invoice, sub, tax);
        self.apply_balance(&mut invoice, customer_id).await?;
        self.pay_invoice(&mut invoice, customer_id, now).await?;
        Ok(invoice)
    }

    fn set_cancel(sub: &mut Value, now: i64, previous: &mut serde_json::Map<String, Value>) {
        for key in ["cancel_at_period_end", "cancel_at", "canceled_at"] {
            previous.insert(key.into(), sub[key].clone());
        }
        sub["cancel_at_period_end"] = json!(true);
        sub["cancel_at"] = json!(Self::period(sub).1);
        sub["canceled_at"] = json!(now);
        sub["cancellation_details"]["reason"] = json!("cancellation_requested");
    }

    fn unset_cancel(sub: &mut Value, previous: &mut serde_json::Map<String, Value>) {
        for key in ["cancel_at_period_end", "cancel_at", "canceled_at"] {
            previous.insert(key.into(), sub[key].clone());
        }
        sub["cancel_at_period_end"] = json!(false);
        sub["cancel_at"] = Value::Null;
        sub["canceled_at"] = Value::Null;
        sub["cancellation_details"]["reason"] = Value::Null;
    }

    /// Cancel now (API `DELETE`, console) or at the end of the period
    /// (API `cancel_at_period_end`, billing portal).
    pub async fn stripe_cancel(&self, sub_id: &str, at_period_end: bool) -> Result<Value, Error> {
        let mut sub = self.stripe_must("subscription", sub_id).await?;
        if sub["status"] == "canceled" {
            return Err(Error::BadRequest(format!("subscription {sub_id} is already canceled")));
        }
        let now = self.now().await?;
        let customer_id = sub["customer"].as_str().unwrap_or_default().to_owned();
        if at_period_end {
            let mut previous = serde_json::Map::new();
            Self::set_cancel(&mut sub, now, &mut previous);
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("customer.subscription.updated", &sub, Some(Value::Object(previous))).await?;
        } else {
            sub["status"] = json!("canceled");
            sub["canceled_at"] = json!(now);
            sub["ended_at"] = json!(now);
            sub["cancellation_details"]["reason"] = json!("cancellation_requested");
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("customer.subscription.deleted", &sub, None).await?;
        }
        Ok(sub)
    }

    /// Undoes a cancellation at period end.
    pub async fn stripe_resume(&self, sub_id: &str) -> Result<Value, Error> {
        let mut sub = self.stripe_must("subscription", sub_id).await?;
        if sub["status"] == "canceled" || sub["cancel_at_period_end"] != json!(true) {
            return Err(Error::BadRequest(format!("subscription {sub_id} is not set to cancel")));
        }
        let mut previous = serde_json::Map::new();
        Self::unset_cancel(&mut sub, &mut previous);
        self.stripe_put("subscription", &sub, sub["customer"].as_str()).await?;
        self.stripe_event("customer.subscription.updated", &sub, Some(Value::Object(previous))).await?;
        Ok(sub)
    }

    /// The charge behind a charge, PaymentIntent, invoice, subscription or
    /// checkout session id: what the console's refund button points at.
    pub async fn stripe_charge_of(&self, id: &str) -> Result<Value, Error> {
        let charge_id = match id.split('_').next() {
            Some("ch") => id.to_owned(),
            Some("pi") => self.stripe_must("payment_intent", id).await?["latest_charge"]
                .as_str()
                .map(str::to_owned)
                .ok_or(Error::NotFound)?,
            Some("in") => {
                self.stripe_must("invoice", id).await?["_charge"].as_str().map(str::to_owned).ok_or(Error::NotFound)?
            }
            Some("sub") => {
                let sub = self.stripe_must("subscription", id).await?;
                let inv = sub["latest_invoice"].as_str().ok_or(Error::NotFound)?.to_owned();
                return Box::pin(self.stripe_charge_of(&inv)).await;
            }
            Some("cs") => {
                let s = self.stripe_must("checkout_session", id).await?;
                let next = s["payment_intent"].as_str().or(s["invoice"].as_str()).ok_or(Error::NotFound)?.to_owned();
                return Box::pin(self.stripe_charge_of(&next)).await;
            }
            _ => return Err(Error::NotFound),
        };
        self.stripe_must("charge", &charge_id).await
    }

    /// Refunds `amount` (default: what is left) of a charge. `Err(message)`
    /// is Stripe's refusal, for the caller to answer with.
    pub async fn stripe_refund(
        &self,
        mut charge: Value,
        amount: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Result<Value, String>, Error> {
        let total = charge["amount"].as_i64().unwrap_or(0);
        let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
        let left = total - refunded;
        let amount = amount.unwrap_or(left);
        if left <= 0 {
            return Ok(Err(format!("Charge {} has already been refunded.", charge["id"].as_str().unwrap_or_default())));
        }
        if amount <= 0 || amount > left {
            return Ok(Err(format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).")));
        }
        let now = self.now().await?;
        let refund = objects::refund(&new_id("re"), &charge, amount, reason, now);
        charge["amount_refunded"] = json!(refunded + amount);
        charge["refunded"] = json!(refunded + amount == total);
        if let Some(list) = charge["refunds"]["data"].as_array_mut() {
            list.insert(0, refund.clone());
        }
        self.stripe_put("refund", &refund, charge["id"].as_str()).await?;
        self.stripe_put("charge", &charge, charge["customer"].as_str()).await?;
        self.stripe_event("refund.created", &refund, None).await?;
        self.stripe_event("charge.refunded", &charge, Some(json!({ "amount_refunded": refunded, "refunded": false })))
            .await?;
        Ok(Ok(refund))
    }

    /// The buyer's bank disputes a charge.
    pub async fn stripe_dispute(&self, mut charge: Value) -> Result<Value, Error> {
        if charge["disputed"] == json!(true) {
            return Err(Error::BadRequest("that charge is already disputed".into()));
        }
        let dispute = objects::dispute(&new_id("dp"), &charge, "fraudulent", self.now().await?);
        charge["disputed"] = json!(true);
        self.stripe_put("dispute", &dispute, charge["id"].as_str()).await?;
        self.stripe_put("charge", &charge, charge["customer"].as_str()).await?;
        self.stripe_event("charge.dispute.created", &dispute, None).await?;
        Ok(dispute)
    }

    /// Time passed (the clock was advanced): renew what is due, end what
    /// was set to end, expire abandoned checkouts.
    pub async fn stripe_tick(&self) -> Result<(), Error> {
        let now = self.now().await?;
        for sub in self.stripe_list("subscription", None).await? {
            let id = sub["id"].as_str().unwrap_or_default().to_owned();
            // Bounded: a long jump renews at most two years of periods.
            for _ in 0..24 {
                let current = self.stripe_must("subscription", &id).await?;
                let due = Self::period(&current).1 <= now
                    && !matches!(current["status"].as_str(), Some("canceled" | "past_due"));
                if !due {
                    break;
                }
                self.stripe_renew(&id).await?;
            }
        }
        for mut session in self.stripe_list("checkout_session", None).await? {
            if session["status"] == "open" && session["expires_at"].as_i64().is_some_and(|t| t <= now) {
                self.stripe_expire_session(&mut session).await?;
            }
        }
        Ok(())
    }
}

pub fn public_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().map(public).collect()
}

#[cfg(test)]
mod tests {
    use super::{add_interval, prorate, stripe_date};

    #[test]
    fn intervals_follow_the_calendar() {
        // 2026-01-31T12:00:00Z + 1 month = 2026-02-28T12:00:00Z
        assert_eq!(add_interval(1_769_860_800, "month"), 1_772_280_000);
        // + 1 year
        assert_eq!(add_interval(1_769_860_800, "year"), 1_801_396_800);
    }

    #[test]
    fn prorations_round_to_the_minor_unit() {
        assert_eq!(prorate(2700, 20, 30), 1800);
        assert_eq!(prorate(1, 1, 2), 1, "halves away from zero");
        assert_eq!(prorate(-1, 1, 2), -1);
        assert_eq!(prorate(900, 1, 3), 300);
        assert_eq!(prorate(1000, 2, 3), 667);
    }

    #[test]
    fn proration_lines_are_dated_like_stripes() {
        assert_eq!(stripe_date(1_769_860_800), "31 Jan 2026");
        assert_eq!(stripe_date(1_772_280_000), "28 Feb 2026");
    }
}
