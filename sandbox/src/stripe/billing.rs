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
                now,
                period_end,
                trial_end,
                if metadata.is_object() { metadata } else { json!({}) },
            );
            let first_amount = if trial_end.is_some() { 0 } else { amount };
            let inv_id = new_id("in");
            let mut invoice = objects::invoice(
                &inv_id,
                &customer_id,
                &sub_id,
                &price,
                first_amount,
                (now, period_end),
                true,
                if first_amount > 0 { 1 } else { 0 },
                now,
                &self.url(&format!("/sandbox/stripe/invoices/{inv_id}")),
            );
            invoice["billing_reason"] = json!("subscription_create");
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
            self.stripe_put("charge", &charge, None).await?;
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
    /// retries its open invoice instead.
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
            sub["status"] = json!("canceled");
            sub["ended_at"] = json!(end);
            sub["cancellation_details"]["reason"] = json!("cancellation_requested");
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("customer.subscription.deleted", &sub, None).await?;
            return Ok(sub);
        }
        let price = sub["items"]["data"][0]["price"].clone();
        let interval = price["recurring"]["interval"].as_str().unwrap_or("month").to_owned();
        let (tax, amount) = super::tax::renewal(&sub, price["unit_amount"].as_i64().unwrap_or(0));
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
            None => {
                let new_end = add_interval(end, &interval);
                let item = &mut sub["items"]["data"][0];
                item["current_period_start"] = json!(end);
                item["current_period_end"] = json!(new_end);
                let inv_id = new_id("in");
                let mut invoice = objects::invoice(
                    &inv_id,
                    &customer_id,
                    sub_id,
                    &price,
                    amount,
                    (end, new_end),
                    false,
                    0,
                    now,
                    &self.url(&format!("/sandbox/stripe/invoices/{inv_id}")),
                );
                super::tax::mark_invoice(&mut invoice, &sub, tax);
                invoice
            }
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
            let charge =
                self.take_payment(amount, price["currency"].as_str().unwrap_or("usd"), Some(&customer_id)).await?;
            invoice["_charge"] = charge["id"].clone();
            invoice["status"] = json!("paid");
            invoice["paid"] = json!(true);
            invoice["amount_paid"] = json!(amount);
            invoice["amount_remaining"] = json!(0);
            invoice["next_payment_attempt"] = Value::Null;
            invoice["status_transitions"]["paid_at"] = json!(now);
            sub["status"] = json!("active");
            self.stripe_put("invoice", &invoice, Some(sub_id)).await?;
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("invoice.paid", &invoice, None).await?;
        }
        self.stripe_event("customer.subscription.updated", &sub, Some(previous)).await?;
        Ok(sub)
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
            let previous = json!({ "cancel_at_period_end": sub["cancel_at_period_end"], "cancel_at": sub["cancel_at"], "canceled_at": sub["canceled_at"] });
            sub["cancel_at_period_end"] = json!(true);
            sub["cancel_at"] = json!(Self::period(&sub).1);
            sub["canceled_at"] = json!(now);
            sub["cancellation_details"]["reason"] = json!("cancellation_requested");
            self.stripe_put("subscription", &sub, Some(&customer_id)).await?;
            self.stripe_event("customer.subscription.updated", &sub, Some(previous)).await?;
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
        let previous =
            json!({ "cancel_at_period_end": true, "cancel_at": sub["cancel_at"], "canceled_at": sub["canceled_at"] });
        sub["cancel_at_period_end"] = json!(false);
        sub["cancel_at"] = Value::Null;
        sub["canceled_at"] = Value::Null;
        sub["cancellation_details"]["reason"] = Value::Null;
        self.stripe_put("subscription", &sub, sub["customer"].as_str()).await?;
        self.stripe_event("customer.subscription.updated", &sub, Some(previous)).await?;
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
    use super::add_interval;

    #[test]
    fn intervals_follow_the_calendar() {
        // 2026-01-31T12:00:00Z + 1 month = 2026-02-28T12:00:00Z
        assert_eq!(add_interval(1_769_860_800, "month"), 1_772_280_000);
        // + 1 year
        assert_eq!(add_interval(1_769_860_800, "year"), 1_801_396_800);
    }
}
