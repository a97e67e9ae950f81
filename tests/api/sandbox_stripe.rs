//! The Stripe stand-in, driven through async-stripe as RepoPass drives it;
//! webhooks checked with async-stripe's own verification
//! (`stripe_webhook::Webhook::construct_event`), which RepoPass's check
//! (`server::stripe::verify_signature`) must agree with.

use std::collections::HashMap;

use serde_json::{json, Value};
use stripe::StripeError;
use stripe_billing::{
    billing_portal_session::CreateBillingPortalSession,
    subscription::{
        CancelSubscription, RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems,
        UpdateSubscriptionProrationBehavior,
    },
    SubscriptionStatus,
};
use stripe_checkout::{
    checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsAdjustableQuantity,
        CreateCheckoutSessionSubscriptionData, ExpireCheckoutSession, ListLineItemsCheckoutSession,
        RetrieveCheckoutSession,
    },
    CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus, CheckoutSessionUiMode,
};
use stripe_core::{event::ListEvent, refund::CreateRefund};
use stripe_product::{
    price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, UpdatePrice},
    product::{CreateProduct, UpdateProduct},
};
use stripe_types::Currency;
use stripe_webhook::{EventObject, Webhook};

use crate::{
    helpers::{TestApp, WebhookReceiver},
    scenarios,
};

scenarios!(
    products_and_prices,
    one_time_purchase_is_paid_refunded_and_signed,
    subscription_trial_renewal_failure_and_cancel,
    declined_and_delayed_payments,
    sessions_expire,
    billing_portal_cancels_at_period_end,
    events_can_be_listed_and_paged,
    the_api_key_is_checked,
    failed_webhooks_are_retried,
    every_other_endpoint_parses,
    each_webhook_endpoint_gets_its_events_signed_with_its_secret,
    restricted_keys_open_only_what_they_name,
    seats_are_bought_through_the_hosted_page,
    the_buyer_adjusts_the_quantity_on_the_hosted_page,
    seat_changes_are_prorated_or_not,
    pending_prorations_and_credits_reach_the_next_renewal,
);

fn stripe_status(err: &StripeError) -> (u16, Option<String>) {
    match err {
        StripeError::Stripe(api, status) => (*status, api.message.clone()),
        other => panic!("expected a Stripe API error, got {other:?}"),
    }
}

async fn product_with_price(
    app: &TestApp,
    amount: i64,
    interval: Option<CreatePriceRecurringInterval>,
) -> (String, String) {
    let client = app.stripe();
    let product = CreateProduct::new("acme/pro-kit").description("Access to acme/pro-kit").send(&client).await.unwrap();
    let mut create =
        CreatePrice::new(Currency::USD).product(product.id.as_str()).unit_amount(amount).nickname("Pro Kit");
    if let Some(interval) = interval {
        create = create.recurring(CreatePriceRecurring::new(interval));
    }
    let price = create.send(&client).await.unwrap();
    (product.id.to_string(), price.id.to_string())
}

async fn checkout(
    app: &TestApp,
    price: &str,
    mode: CheckoutSessionMode,
    trial: Option<u32>,
) -> stripe_checkout::CheckoutSession {
    let line =
        CreateCheckoutSessionLineItems { price: Some(price.to_owned()), quantity: Some(1), ..Default::default() };
    let mut create = CreateCheckoutSession::new()
        .mode(mode)
        .line_items(vec![line])
        .client_reference_id("purchase-42")
        .metadata(HashMap::from([
            ("purchase_id".to_string(), "42".to_string()),
            ("github_user_id".to_string(), "1002".to_string()),
        ]))
        .customer_email("alice@example.com")
        .allow_promotion_codes(true)
        .success_url(app.url("/checkout/success?session_id={CHECKOUT_SESSION_ID}"))
        .cancel_url(app.url("/p/pro-kit?cancelled=1"));
    if let Some(days) = trial {
        let mut data = CreateCheckoutSessionSubscriptionData::new();
        data.trial_period_days = Some(days);
        create = create.subscription_data(data);
    }
    create.send(&app.stripe()).await.unwrap()
}

/// The buyer on the hosted page: returns where Stripe sends them next.
async fn pay(app: &TestApp, session: &stripe_checkout::CheckoutSession, outcome: &str) -> reqwest::Response {
    let url = session.url.clone().expect("an open session has a URL");
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    app.client.post(&url).form(&[("outcome", outcome)]).send().await.unwrap()
}

fn verify(app: &TestApp, headers: &axum::http::HeaderMap, body: &str) -> stripe_webhook::Event {
    let secret =
        secrecy::ExposeSecret::expose_secret(app.state.config.stripe.webhook_secret.as_ref().unwrap()).to_owned();
    let signature = headers["stripe-signature"].to_str().unwrap();
    Webhook::construct_event(body, signature, &secret)
        .unwrap_or_else(|e| panic!("webhook did not verify ({e:?}): {body}"))
}

/// RepoPass checks `Stripe-Signature` itself (async-stripe's check parses
/// the whole event too); it must accept and refuse exactly what
/// async-stripe's verifier accepts and refuses.
#[test]
fn stripe_signatures_are_checked_as_async_stripe_checks_them() {
    use server::stripe::SignatureRefused;
    use stripe_webhook::WebhookError;
    let secret = "whsec_agree";
    let payload = json!({"id": "evt_1", "object": "event", "type": "customer.created", "api_version": "2025-09-30.clover", "created": 1, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}, "data": {"object": {"id": "cus_1", "object": "customer"}}}).to_string();
    let now = server::clock::now();
    let sign = |key: &str, at: i64, body: &str| {
        let full = sandbox::deliveries::stripe_signature(&secrecy::SecretString::from(key.to_owned()), at, body);
        full.split_once(",v1=").unwrap().1.to_owned()
    };
    let good = sign(secret, now, &payload);
    let headers = [
        format!("t={now},v1={good}"),
        format!("v1={good},t={now}"),
        format!("t={now},v1={},v1={good}", sign("whsec_old", now, &payload)),
        format!("t={now},v0={good}"),
        format!("t={now},v1={}", sign("whsec_other", now, &payload)),
        format!("t={now},v1={}", sign(secret, now, &payload.replace("cus_1", "cus_2"))),
        format!("t={},v1={}", now - 299, sign(secret, now - 299, &payload)),
        format!("t={},v1={}", now - 301, sign(secret, now - 301, &payload)),
        format!("t={},v1={}", now + 400, sign(secret, now + 400, &payload)),
        format!("t={now},v1=zz{good}"),
        format!("t=soon,v1={good}"),
        format!("t={now}"),
        format!("t={now}, v1={good}"),
        "nonsense".to_owned(),
        String::new(),
    ];
    for header in headers {
        let ours = server::stripe::verify_signature(&secrecy::SecretString::from(secret), &payload, &header);
        let theirs = Webhook::construct_event(&payload, &header, secret);
        let theirs_accepted = matches!(theirs, Ok(_) | Err(WebhookError::BadParse(_)));
        assert_eq!(ours.is_ok(), theirs_accepted, "{header}: ours {ours:?}, async-stripe's {theirs:?}");
        match theirs {
            Err(WebhookError::BadTimestamp(_)) => assert_eq!(ours, Err(SignatureRefused::StaleTimestamp), "{header}"),
            Err(WebhookError::BadSignature)
                if header.starts_with("t=") && header.contains(",v1=") && !header.contains(' ') =>
            {
                assert_eq!(ours, Err(SignatureRefused::BadSignature), "{header}")
            }
            _ => {}
        }
    }
}

fn of_type<'a>(t: &'a str) -> impl Fn(&axum::http::HeaderMap, &str) -> bool + 'a {
    move |_, body| serde_json::from_str::<serde_json::Value>(body).map(|v| v["type"] == t).unwrap_or(false)
}

async fn products_and_prices(app: TestApp) {
    let client = app.stripe();
    let (product, monthly) = product_with_price(&app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let price = UpdatePrice::new(monthly.as_str()).active(false).send(&client).await.unwrap();
    assert!(!price.active);
    assert_eq!(price.unit_amount, Some(900));
    assert_eq!(price.recurring.unwrap().interval, stripe_product::RecurringInterval::Month);
    let archived = UpdateProduct::new(product.as_str()).active(false).send(&client).await.unwrap();
    assert!(!archived.active);

    let err = CreatePrice::new(Currency::USD).product("prod_missing").unit_amount(100).send(&client).await.unwrap_err();
    let (status, message) = stripe_status(&err);
    assert_eq!(status, 404);
    assert!(message.unwrap().contains("No such product: 'prod_missing'"));

    // An inactive price cannot be sold.
    let line = CreateCheckoutSessionLineItems { price: Some(monthly.clone()), quantity: Some(1), ..Default::default() };
    let err = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .line_items(vec![line])
        .success_url(app.url("/"))
        .send(&client)
        .await
        .unwrap_err();
    assert!(stripe_status(&err).1.unwrap().contains("inactive"));
}

async fn one_time_purchase_is_paid_refunded_and_signed(app: TestApp) {
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let (_, price) = product_with_price(&app, 14900, None).await;
    let session = checkout(&app, &price, CheckoutSessionMode::Payment, None).await;
    assert_eq!(session.status, Some(CheckoutSessionStatus::Open));
    assert_eq!(session.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    assert_eq!(session.amount_total, Some(14900));
    // As Stripe says it in the API version async-stripe pins (2026-09-30):
    // `hosted_page`; the older `hosted` made the SDK log a warning per read.
    assert_eq!(session.ui_mode, Some(CheckoutSessionUiMode::HostedPage));

    // A recurring price in payment mode is refused, as on Stripe.
    let (_, monthly) = product_with_price(&app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let line = CreateCheckoutSessionLineItems { price: Some(monthly), quantity: Some(1), ..Default::default() };
    let err = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![line])
        .success_url(app.url("/"))
        .send(&app.stripe())
        .await
        .unwrap_err();
    assert_eq!(stripe_status(&err).0, 400);

    let done = pay(&app, &session, "succeed").await;
    assert!(done.status().is_redirection());
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        app.url(&format!("/checkout/success?session_id={}", session.id))
    );

    let paid = RetrieveCheckoutSession::new(session.id.as_str())
        .expand(vec!["line_items".to_string()])
        .send(&app.stripe())
        .await
        .unwrap();
    assert_eq!(paid.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(paid.payment_status, CheckoutSessionPaymentStatus::Paid);
    assert_eq!(paid.client_reference_id.as_deref(), Some("purchase-42"));
    assert_eq!(paid.metadata.as_ref().unwrap()["purchase_id"], "42");
    let items = paid.line_items.expect("expanded line items");
    assert_eq!(items.data[0].price.as_ref().unwrap().id.as_str(), price);
    let pi = paid.payment_intent.expect("a payment intent").id().to_string();

    // The webhook arrives signed as Stripe signs it.
    let got = receiver.wait_for(1, 10, of_type("checkout.session.completed")).await;
    assert_eq!(got.len(), 1, "checkout.session.completed was not delivered");
    let event = verify(&app, &got[0].0, &got[0].1);
    match event.data.object {
        EventObject::CheckoutSessionCompleted(s) => {
            assert_eq!(s.id, session.id);
            assert_eq!(s.payment_status, CheckoutSessionPaymentStatus::Paid);
        }
        other => panic!("unexpected object {other:?}"),
    }
    // A tampered body does not verify.
    let secret =
        secrecy::ExposeSecret::expose_secret(app.state.config.stripe.webhook_secret.as_ref().unwrap()).to_owned();
    let tampered = got[0].1.replace("purchase-42", "purchase-43");
    assert!(Webhook::construct_event(&tampered, got[0].0["stripe-signature"].to_str().unwrap(), &secret).is_err());

    // Partial, then the rest, then nothing left.
    let partial = CreateRefund::new().payment_intent(pi.clone()).amount(4900).send(&app.stripe()).await.unwrap();
    assert_eq!(partial.amount, 4900);
    let rest = CreateRefund::new().payment_intent(pi.clone()).send(&app.stripe()).await.unwrap();
    assert_eq!(rest.amount, 10000);
    let err = CreateRefund::new().payment_intent(pi).send(&app.stripe()).await.unwrap_err();
    assert!(stripe_status(&err).1.unwrap().contains("already been refunded"));
    let refunds = receiver.wait_for(2, 10, of_type("charge.refunded")).await;
    let last = verify(&app, &refunds[1].0, &refunds[1].1);
    match last.data.object {
        EventObject::ChargeRefunded(charge) => {
            assert!(charge.refunded);
            assert_eq!(charge.amount_refunded, 14900);
        }
        other => panic!("unexpected object {other:?}"),
    }

    // A dispute on the same charge.
    app.control("/stripe/dispute", json!({ "id": session.id.as_str() })).await;
    let disputes = receiver.wait_for(1, 10, of_type("charge.dispute.created")).await;
    assert!(matches!(verify(&app, &disputes[0].0, &disputes[0].1).data.object, EventObject::ChargeDisputeCreated(_)));
}

async fn subscription_trial_renewal_failure_and_cancel(app: TestApp) {
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let (_, price) = product_with_price(&app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let session = checkout(&app, &price, CheckoutSessionMode::Subscription, Some(14)).await;
    assert!(pay(&app, &session, "succeed").await.status().is_redirection());

    let paid = RetrieveCheckoutSession::new(session.id.as_str()).send(&app.stripe()).await.unwrap();
    // The trial defers the first payment.
    assert_eq!(paid.payment_status, CheckoutSessionPaymentStatus::NoPaymentRequired);
    let sub_id = paid.subscription.expect("a subscription").id().to_string();
    let customer = paid.customer.expect("a customer").id().to_string();
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Trialing);
    let trial_end = sub.trial_end.unwrap();
    assert_eq!(trial_end - sub.start_date, 14 * 86_400);

    // Two weeks later the trial ends and the first real period is billed.
    app.control("/clock/advance", json!({ "days": 15 })).await;
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert!(sub.items.data[0].current_period_start >= trial_end);
    let paid_invoices = receiver.wait_for(2, 10, of_type("invoice.paid")).await;
    assert_eq!(paid_invoices.len(), 2);
    match verify(&app, &paid_invoices[1].0, &paid_invoices[1].1).data.object {
        EventObject::InvoicePaid(inv) => assert_eq!(inv.amount_paid, 900),
        other => panic!("{other:?}"),
    }

    // The next payment fails: past due, then paid on retry.
    app.control(&format!("/stripe/subscriptions/{sub_id}/fail_next_payment"), json!({})).await;
    app.control(&format!("/stripe/subscriptions/{sub_id}/renew"), json!({})).await;
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(sub.status, SubscriptionStatus::PastDue);
    let failed = receiver.wait_for(1, 10, of_type("invoice.payment_failed")).await;
    assert!(matches!(verify(&app, &failed[0].0, &failed[0].1).data.object, EventObject::InvoicePaymentFailed(_)));
    app.control(&format!("/stripe/subscriptions/{sub_id}/renew"), json!({})).await;
    assert_eq!(
        RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap().status,
        SubscriptionStatus::Active
    );

    // Cancel at period end, change of mind, then cancel now.
    let set = UpdateSubscription::new(sub_id.as_str()).cancel_at_period_end(true).send(&app.stripe()).await.unwrap();
    assert!(set.cancel_at_period_end);
    assert_eq!(set.cancel_at, Some(set.items.data[0].current_period_end));
    let resumed =
        UpdateSubscription::new(sub_id.as_str()).cancel_at_period_end(false).send(&app.stripe()).await.unwrap();
    assert!(!resumed.cancel_at_period_end);
    let canceled = CancelSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
    let deleted = receiver.wait_for(1, 10, of_type("customer.subscription.deleted")).await;
    match verify(&app, &deleted[0].0, &deleted[0].1).data.object {
        EventObject::CustomerSubscriptionDeleted(s) => assert_eq!(s.customer.id().as_str(), customer),
        other => panic!("{other:?}"),
    }
}

async fn declined_and_delayed_payments(app: TestApp) {
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let (_, price) = product_with_price(&app, 2500, None).await;
    let session = checkout(&app, &price, CheckoutSessionMode::Payment, None).await;

    let declined = pay(&app, &session, "decline").await;
    assert_eq!(declined.status(), 200);
    assert!(declined.text().await.unwrap().contains("Your card was declined"));
    let still = RetrieveCheckoutSession::new(session.id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(still.status, Some(CheckoutSessionStatus::Open));

    assert!(pay(&app, &session, "async").await.status().is_redirection());
    let pending = RetrieveCheckoutSession::new(session.id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(pending.status, Some(CheckoutSessionStatus::Complete));
    assert_eq!(pending.payment_status, CheckoutSessionPaymentStatus::Unpaid);
    app.control(&format!("/stripe/checkout/{}/settle", session.id), json!({ "succeed": true })).await;
    let settled = receiver.wait_for(1, 10, of_type("checkout.session.async_payment_succeeded")).await;
    match verify(&app, &settled[0].0, &settled[0].1).data.object {
        EventObject::CheckoutSessionAsyncPaymentSucceeded(s) => {
            assert_eq!(s.payment_status, CheckoutSessionPaymentStatus::Paid)
        }
        other => panic!("{other:?}"),
    }
}

async fn sessions_expire(app: TestApp) {
    let (_, price) = product_with_price(&app, 2500, None).await;
    let session = checkout(&app, &price, CheckoutSessionMode::Payment, None).await;
    let expired = ExpireCheckoutSession::new(session.id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(expired.status, Some(CheckoutSessionStatus::Expired));
    assert!(expired.url.is_none());
    assert_eq!(
        stripe_status(&ExpireCheckoutSession::new(session.id.as_str()).send(&app.stripe()).await.unwrap_err()).0,
        400
    );
    let page = app.client.get(session.url.unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("This checkout has expired"));

    // Abandoned sessions expire after 24 hours on their own.
    let abandoned = checkout(&app, &price, CheckoutSessionMode::Payment, None).await;
    app.control("/clock/advance", json!({ "days": 1, "seconds": 1 })).await;
    let later = RetrieveCheckoutSession::new(abandoned.id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(later.status, Some(CheckoutSessionStatus::Expired));
}

async fn billing_portal_cancels_at_period_end(app: TestApp) {
    let (_, price) = product_with_price(&app, 1900, Some(CreatePriceRecurringInterval::Year)).await;
    let session = checkout(&app, &price, CheckoutSessionMode::Subscription, None).await;
    let paid = app.control(&format!("/stripe/checkout/{}/pay", session.id), json!({})).await;
    assert_eq!(paid["payment_status"], "paid");
    let customer = paid["customer"].as_str().unwrap().to_owned();
    let sub_id = paid["subscription"].as_str().unwrap().to_owned();

    let portal = CreateBillingPortalSession::new()
        .customer(customer.as_str())
        .return_url(app.url("/account"))
        .send(&app.stripe())
        .await
        .unwrap();
    let page = app.client.get(&portal.url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Cancel subscription") && page.contains("Return to RepoPass"), "{page}");

    let action = format!("{}/subscriptions/{sub_id}", portal.url);
    assert!(app.client.post(&action).form(&[("action", "cancel")]).send().await.unwrap().status().is_redirection());
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    assert!(sub.cancel_at_period_end);
    assert_eq!(sub.status, SubscriptionStatus::Active);
    let page = app.client.get(&portal.url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Cancels on"));

    // At the end of the year it ends.
    app.control("/clock/advance", json!({ "days": 366 })).await;
    assert_eq!(
        RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap().status,
        SubscriptionStatus::Canceled
    );

    // A portal session cannot touch another customer's subscription.
    let other = CreateBillingPortalSession::new()
        .customer(
            stripe_core::customer::CreateCustomer::new()
                .email("x@example.com")
                .send(&app.stripe())
                .await
                .unwrap()
                .id
                .as_str(),
        )
        .send(&app.stripe())
        .await
        .unwrap();
    let response = app
        .client
        .post(format!("{}/subscriptions/{sub_id}", other.url))
        .form(&[("action", "resume")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn events_can_be_listed_and_paged(app: TestApp) {
    let (_, price) = product_with_price(&app, 500, None).await;
    for _ in 0..3 {
        let s = checkout(&app, &price, CheckoutSessionMode::Payment, None).await;
        app.control(&format!("/stripe/checkout/{}/pay", s.id), json!({})).await;
    }
    let client = app.stripe();
    let first = ListEvent::new().type_("checkout.session.completed").limit(2).send(&client).await.unwrap();
    assert_eq!(first.data.len(), 2);
    assert!(first.has_more);
    let next = ListEvent::new()
        .type_("checkout.session.completed")
        .limit(2)
        .starting_after(first.data[1].id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(next.data.len(), 1);
    assert!(!next.has_more);
    // Newest first.
    assert!(first.data[0].created >= first.data[1].created && first.data[1].id.as_str() > next.data[0].id.as_str());
    let all = ListEvent::new()
        .types(vec!["charge.succeeded".to_string(), "product.created".to_string()])
        .limit(100)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(all.data.len(), 4);
}

async fn the_api_key_is_checked(app: TestApp) {
    let base = app.state.config.stripe.api_base.as_ref().unwrap().to_string();
    let wrong = stripe::ClientBuilder::new("sk_test_not_the_sandbox").url(base.as_str()).build().unwrap();
    let err = CreateProduct::new("x").send(&wrong).await.unwrap_err();
    let (status, message) = stripe_status(&err);
    assert_eq!(status, 401);
    assert!(message.unwrap().starts_with("Invalid API Key provided: sk_test_"));
    assert!(!format!("{err:?}").contains("not_the_sandbox"), "the key must not be echoed in full");
}

async fn failed_webhooks_are_retried(app: TestApp) {
    let receiver = WebhookReceiver::start(1).await; // the first delivery gets a 500
    app.redirect_webhooks(&receiver).await;
    CreateProduct::new("retry me").send(&app.stripe()).await.unwrap();
    let got = receiver.wait_for(2, 15, of_type("product.created")).await;
    assert_eq!(got.len(), 2, "a failed delivery was not retried");
    // The sandbox records the outcome just after the receiver answers.
    let mut product = serde_json::Value::Null;
    for _ in 0..50 {
        let deliveries = app.control_get("/deliveries").await;
        product = deliveries.as_array().unwrap().iter().find(|d| d["event_type"] == "product.created").unwrap().clone();
        if product["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(product["status"], "delivered");
    assert_eq!(product["attempts"], 2);
}

/// The retrieve and list calls not covered above, through their typed requests.
async fn every_other_endpoint_parses(app: TestApp) {
    use stripe_billing::invoice::RetrieveInvoice;
    use stripe_checkout::checkout_session::ListLineItemsCheckoutSession;
    use stripe_core::{
        charge::RetrieveCharge,
        customer::{CreateCustomer, RetrieveCustomer, RetrieveCustomerReturned},
        event::RetrieveEvent,
    };
    use stripe_product::{price::RetrievePrice, product::RetrieveProduct};

    let client = app.stripe();
    let (product, price) = product_with_price(&app, 1200, Some(CreatePriceRecurringInterval::Month)).await;
    assert_eq!(RetrieveProduct::new(product.as_str()).send(&client).await.unwrap().name, "acme/pro-kit");
    assert_eq!(RetrievePrice::new(price.as_str()).send(&client).await.unwrap().unit_amount, Some(1200));

    let customer = CreateCustomer::new().email("dana@example.com").name("Dana").send(&client).await.unwrap();
    match RetrieveCustomer::new(customer.id.as_str()).send(&client).await.unwrap() {
        RetrieveCustomerReturned::Customer(c) => assert_eq!(c.email.as_deref(), Some("dana@example.com")),
        other => panic!("{other:?}"),
    }
    let missing = RetrieveCustomer::new("cus_nope").send(&client).await.unwrap_err();
    assert_eq!(stripe_status(&missing).0, 404);

    let session = checkout(&app, &price, CheckoutSessionMode::Subscription, None).await;
    let items = ListLineItemsCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    assert_eq!(items.data[0].amount_total, 1200);
    let paid = app.control(&format!("/stripe/checkout/{}/pay", session.id), json!({})).await;
    let invoice = RetrieveInvoice::new(paid["invoice"].as_str().unwrap()).send(&client).await.unwrap();
    assert_eq!(invoice.amount_paid, 1200);
    assert_eq!(invoice.status, Some(stripe_billing::InvoiceStatus::Paid));
    let refund = app.control("/stripe/refund", json!({ "id": paid["invoice"], "amount": 200 })).await;
    let charge = RetrieveCharge::new(refund["charge"].as_str().unwrap()).send(&client).await.unwrap();
    assert_eq!(charge.amount_refunded, 200);
    assert!(!charge.refunded);

    let latest = ListEvent::new().limit(1).send(&client).await.unwrap();
    let event = RetrieveEvent::new(latest.data[0].id.as_str()).send(&client).await.unwrap();
    assert_eq!(event.id, latest.data[0].id);
}

/// The sandbox's Stripe API with a key, as raw HTTP (form bodies, as Stripe takes them).
async fn stripe_call(
    app: &TestApp,
    key: &str,
    method: reqwest::Method,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let url = app.url(&format!("/sandbox/stripe/v1{path}"));
    let response = app.client.request(method, url).bearer_auth(key).form(form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn each_webhook_endpoint_gets_its_events_signed_with_its_secret(app: TestApp) {
    use reqwest::Method;
    let key = sandbox::STRIPE_SECRET_KEY;
    let receiver = WebhookReceiver::start(0).await;
    let url = format!("{}/api/webhooks/stripe", receiver.base);
    let (code, products) = stripe_call(
        &app,
        key,
        Method::POST,
        "/webhook_endpoints",
        &[("url", &url), ("enabled_events[]", "product.created")],
    )
    .await;
    assert_eq!(code, 200, "{products}");
    let secret = products["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, prices) = stripe_call(
        &app,
        key,
        Method::POST,
        "/webhook_endpoints",
        &[("url", &url), ("enabled_events[]", "price.created")],
    )
    .await;
    // Shown once: not in a retrieve or a list.
    let (_, again) =
        stripe_call(&app, key, Method::GET, &format!("/webhook_endpoints/{}", products["id"].as_str().unwrap()), &[])
            .await;
    assert!(again.get("secret").is_none() && again["enabled_events"] == json!(["product.created"]), "{again}");
    let (_, list) = stripe_call(&app, key, Method::GET, "/webhook_endpoints", &[]).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3, "the built-in endpoint and the two new ones: {list}");
    // Refusals in Stripe's words.
    let (code, bad) = stripe_call(
        &app,
        key,
        Method::POST,
        "/webhook_endpoints",
        &[("url", &url), ("enabled_events[]", "no.such_event")],
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(bad["error"]["param"], "enabled_events[0]");
    let (code, bad) = stripe_call(&app, key, Method::POST, "/webhook_endpoints", &[("enabled_events[]", "*")]).await;
    assert_eq!((code, bad["error"]["code"].clone()), (400, json!("parameter_missing")));

    CreateProduct::new("signed for one").send(&app.stripe()).await.unwrap();
    let got = receiver.wait_for(1, 15, of_type("product.created")).await;
    assert_eq!(got.len(), 1, "only the endpoint that asked for product.created");
    let (headers, body) = &got[0];
    let signature = headers["stripe-signature"].to_str().unwrap();
    assert!(Webhook::construct_event(body, signature, &secret).is_ok(), "signed with the endpoint's own secret");
    assert!(Webhook::construct_event(body, signature, "whsec_repopass_sandbox").is_err());
    assert!(receiver.wait_for(1, 1, of_type("price.created")).await.is_empty());

    // Deleted: nothing more arrives there.
    let (code, deleted) = stripe_call(
        &app,
        key,
        Method::DELETE,
        &format!("/webhook_endpoints/{}", products["id"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_eq!((code, deleted["deleted"].clone()), (200, json!(true)));
    CreateProduct::new("nobody listens").send(&app.stripe()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(receiver.wait_for(2, 1, of_type("product.created")).await.len(), 1);
    let (code, _) =
        stripe_call(&app, key, Method::GET, &format!("/webhook_endpoints/{}", prices["id"].as_str().unwrap()), &[])
            .await;
    assert_eq!(code, 200);
}

async fn restricted_keys_open_only_what_they_name(app: TestApp) {
    use reqwest::Method;
    let key =
        app.control("/stripe/restricted_keys", json!({ "name": "reader", "permissions": ["rak_product_read"] })).await;
    let key = key["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("rk_test_"));
    // Permission first, then the object: a read of a missing product is a 404.
    let (code, _) = stripe_call(&app, &key, Method::GET, "/products/prod_missing", &[]).await;
    assert_eq!(code, 404);
    let (code, refused) = stripe_call(&app, &key, Method::POST, "/products", &[("name", "x")]).await;
    assert_eq!(code, 403);
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Having the 'rak_product_write' permission would allow this request to continue"),
        "{message}"
    );
    assert!(!message.contains(&key[12..]), "the key is shown redacted: {message}");
    let (code, account) = stripe_call(&app, &key, Method::GET, "/account", &[]).await;
    assert_eq!((code, account["object"].clone()), (200, json!("account")));
    let (code, _) = stripe_call(&app, "rk_test_unknown", Method::GET, "/account", &[]).await;
    assert_eq!(code, 401);
    let err = app
        .client
        .post(app.url("/sandbox/control/stripe/restricted_keys"))
        .json(&json!({ "permissions": ["rak_everything"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(err.status(), 400);
}

/// A session selling `quantity` of `price`, its quantity adjustable when
/// `adjustable` is given.
async fn checkout_seats(
    app: &TestApp,
    price: &str,
    mode: CheckoutSessionMode,
    quantity: u64,
    adjustable: Option<CreateCheckoutSessionLineItemsAdjustableQuantity>,
) -> Result<stripe_checkout::CheckoutSession, StripeError> {
    let line = CreateCheckoutSessionLineItems {
        price: Some(price.to_owned()),
        quantity: Some(quantity),
        adjustable_quantity: adjustable,
        ..Default::default()
    };
    CreateCheckoutSession::new()
        .mode(mode)
        .line_items(vec![line])
        .customer_email("team@example.com")
        .success_url(app.url("/checkout/success?session_id={CHECKOUT_SESSION_ID}"))
        .send(&app.stripe())
        .await
}

/// `amount` × `remaining` / `length` to the nearest minor unit (halves
/// away from zero): Stripe's proration of one line, computed here on its own.
fn prorated(amount: i64, remaining: i64, length: i64) -> i64 {
    (2 * amount * remaining + length) / (2 * length)
}

fn proration_of(line: &stripe_billing::InvoiceLineItem) -> bool {
    line.parent.as_ref().and_then(|p| p.subscription_item_details.as_ref()).is_some_and(|d| d.proration)
}

fn latest_invoice(sub: &stripe_billing::Subscription) -> String {
    sub.latest_invoice.as_ref().and_then(|i| i.id().as_ref().map(|id| id.to_string())).expect("a latest invoice")
}

fn event_json(got: &[(axum::http::HeaderMap, String)], i: usize) -> Value {
    serde_json::from_str(&got[i].1).unwrap()
}

async fn seats_are_bought_through_the_hosted_page(app: TestApp) {
    use stripe_billing::invoice::RetrieveInvoice;
    use stripe_core::charge::ListCharge;
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let client = app.stripe();
    let (_, price) = product_with_price(&app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let session = checkout_seats(&app, &price, CheckoutSessionMode::Subscription, 3, None).await.unwrap();
    assert_eq!((session.amount_subtotal, session.amount_total), (Some(2700), Some(2700)));
    let items = ListLineItemsCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    assert_eq!((items.data[0].quantity, items.data[0].amount_total), (Some(3), 2700));
    assert!(items.data[0].adjustable_quantity.is_none());
    let page = app.client.get(session.url.clone().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("3 × ") && page.contains("27.00 USD") && !page.contains("quantity_0"),
        "three seats, not adjustable: {page}"
    );
    assert!(pay(&app, &session, "succeed").await.status().is_redirection());

    let paid = RetrieveCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    assert_eq!(paid.payment_status, CheckoutSessionPaymentStatus::Paid);
    let sub = RetrieveSubscription::new(paid.subscription.unwrap().id().as_str()).send(&client).await.unwrap();
    assert_eq!(sub.items.data[0].quantity, Some(3));
    let invoice =
        RetrieveInvoice::new(paid.invoice.unwrap().id().as_ref().unwrap().as_str()).send(&client).await.unwrap();
    assert_eq!((invoice.amount_paid, invoice.total), (2700, 2700));
    assert_eq!(invoice.billing_reason, Some(stripe_billing::InvoiceBillingReason::SubscriptionCreate));
    let line = &invoice.lines.data[0];
    assert_eq!((line.quantity, line.amount), (Some(3), 2700));
    assert_eq!(line.description.as_deref(), Some("3 × acme/pro-kit (at $9.00 / month)"));
    assert!(!proration_of(line));
    let got = receiver.wait_for(1, 10, of_type("invoice.paid")).await;
    match verify(&app, &got[0].0, &got[0].1).data.object {
        EventObject::InvoicePaid(inv) => assert_eq!(inv.amount_paid, 2700),
        other => panic!("{other:?}"),
    }

    // One-time: two licences are charged twice the unit amount.
    let (_, once) = product_with_price(&app, 14900, None).await;
    let session = checkout_seats(&app, &once, CheckoutSessionMode::Payment, 2, None).await.unwrap();
    assert_eq!(session.amount_total, Some(29800));
    assert!(pay(&app, &session, "succeed").await.status().is_redirection());
    let paid = RetrieveCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    let pi = paid.payment_intent.unwrap().id().to_string();
    let charges = ListCharge::new().payment_intent(pi).send(&client).await.unwrap();
    assert_eq!(charges.data[0].amount, 29800);

    // Quantities below 1 are refused, as Stripe refuses them.
    let (status, message) =
        stripe_status(&checkout_seats(&app, &price, CheckoutSessionMode::Subscription, 0, None).await.unwrap_err());
    assert_eq!(status, 400);
    assert_eq!(message.as_deref(), Some("This value must be greater than or equal to 1."));
}

async fn the_buyer_adjusts_the_quantity_on_the_hosted_page(app: TestApp) {
    use stripe_billing::invoice::RetrieveInvoice;
    let client = app.stripe();
    let (_, price) = product_with_price(&app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let range = |min: Option<i64>, max: Option<i64>| {
        let mut a = CreateCheckoutSessionLineItemsAdjustableQuantity::new(true);
        a.minimum = min;
        a.maximum = max;
        Some(a)
    };

    // Refusals at creation, in Stripe's terms.
    for (quantity, adjustable, param) in [
        (3, range(Some(5), Some(2)), "line_items[0][adjustable_quantity][minimum]"),
        (3, range(None, Some(1_000_000)), "line_items[0][adjustable_quantity][maximum]"),
        (3, range(Some(-1), None), "line_items[0][adjustable_quantity][minimum]"),
        // Above the default maximum of 99.
        (120, range(None, None), "line_items[0][quantity]"),
        (1, range(Some(2), Some(10)), "line_items[0][quantity]"),
    ] {
        let err =
            checkout_seats(&app, &price, CheckoutSessionMode::Subscription, quantity, adjustable).await.unwrap_err();
        match err {
            StripeError::Stripe(api, 400) => assert_eq!(api.param.as_deref(), Some(param), "{:?}", api.message),
            other => panic!("{other:?}"),
        }
    }
    let (code, missing) = stripe_call(
        &app,
        sandbox::STRIPE_SECRET_KEY,
        reqwest::Method::POST,
        "/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("success_url", "https://example.com/ok"),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "2"),
            ("line_items[0][adjustable_quantity][maximum]", "5"),
        ],
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(missing["error"]["param"], "line_items[0][adjustable_quantity][enabled]", "{missing}");

    let session =
        checkout_seats(&app, &price, CheckoutSessionMode::Subscription, 3, range(Some(2), Some(10))).await.unwrap();
    assert_eq!(session.amount_total, Some(2700));
    let items = ListLineItemsCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    let adjustable = items.data[0].adjustable_quantity.as_ref().expect("adjustable");
    assert_eq!((adjustable.enabled, adjustable.minimum, adjustable.maximum), (true, Some(2), Some(10)));

    let url = session.url.clone().unwrap();
    let page = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="quantity_0""#) && page.contains(r#"value="3""#), "{page}");
    assert!(page.contains("Between 2 and 10"), "{page}");

    // Out of range or not a number: the page says so and charges nothing.
    for typed in ["11", "1", "two"] {
        let refused =
            app.client.post(&url).form(&[("outcome", "succeed"), ("quantity_0", typed)]).send().await.unwrap();
        assert_eq!(refused.status(), 200);
        let text = refused.text().await.unwrap();
        assert!(
            text.contains("Choose a quantity between 2 and 10.") || text.contains("whole number"),
            "{typed}: {text}"
        );
    }
    let still = RetrieveCheckoutSession::new(session.id.as_str()).send(&client).await.unwrap();
    assert_eq!((still.status, still.amount_total), (Some(CheckoutSessionStatus::Open), Some(2700)));
    assert!(ListEvent::new().type_("charge.succeeded").send(&client).await.unwrap().data.is_empty());

    let done = app.client.post(&url).form(&[("outcome", "succeed"), ("quantity_0", "5")]).send().await.unwrap();
    assert!(done.status().is_redirection());
    let paid = RetrieveCheckoutSession::new(session.id.as_str())
        .expand(vec!["line_items".to_string()])
        .send(&client)
        .await
        .unwrap();
    assert_eq!((paid.amount_subtotal, paid.amount_total), (Some(4500), Some(4500)));
    let line = &paid.line_items.as_ref().unwrap().data[0];
    assert_eq!((line.quantity, line.amount_subtotal, line.amount_total), (Some(5), 4500, 4500));
    let sub = RetrieveSubscription::new(paid.subscription.unwrap().id().as_str()).send(&client).await.unwrap();
    assert_eq!(sub.items.data[0].quantity, Some(5));
    let invoice =
        RetrieveInvoice::new(paid.invoice.unwrap().id().as_ref().unwrap().as_str()).send(&client).await.unwrap();
    assert_eq!((invoice.amount_paid, invoice.lines.data[0].quantity), (4500, Some(5)));

    // The only line item cannot go down to 0, whatever the minimum says.
    let session = checkout_seats(&app, &price, CheckoutSessionMode::Subscription, 1, range(None, None)).await.unwrap();
    let url = session.url.clone().unwrap();
    let page = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Between 1 and 99"), "{page}");
    let refused = app.client.post(&url).form(&[("outcome", "succeed"), ("quantity_0", "0")]).send().await.unwrap();
    assert!(refused.text().await.unwrap().contains("Choose a quantity between 1 and 99."));
}

/// Three seats bought (monthly, $9 each), paid; returns the subscription's
/// and its item's ids.
async fn three_seats(app: &TestApp) -> (String, String) {
    let (_, price) = product_with_price(app, 900, Some(CreatePriceRecurringInterval::Month)).await;
    let session = checkout_seats(app, &price, CheckoutSessionMode::Subscription, 3, None).await.unwrap();
    let paid = app.control(&format!("/stripe/checkout/{}/pay", session.id), json!({})).await;
    let sub_id = paid["subscription"].as_str().unwrap().to_owned();
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&app.stripe()).await.unwrap();
    (sub_id, sub.items.data[0].id.to_string())
}

async fn change_seats(
    app: &TestApp,
    sub: &str,
    item: &str,
    quantity: u64,
    behavior: Option<UpdateSubscriptionProrationBehavior>,
) -> stripe_billing::Subscription {
    let mut line = UpdateSubscriptionItems::new();
    line.id = Some(item.to_owned());
    line.quantity = Some(quantity);
    let mut update = UpdateSubscription::new(sub).items(vec![line]);
    if let Some(behavior) = behavior {
        update = update.proration_behavior(behavior);
    }
    update.send(&app.stripe()).await.unwrap()
}

async fn seat_changes_are_prorated_or_not(app: TestApp) {
    use stripe_billing::invoice::RetrieveInvoice;
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let client = app.stripe();
    let (sub_id, item) = three_seats(&app).await;
    let first = RetrieveSubscription::new(sub_id.as_str()).send(&client).await.unwrap();
    let first_invoice = latest_invoice(&first);
    let (start, end) = (first.items.data[0].current_period_start, first.items.data[0].current_period_end);

    // Refusals, in Stripe's shape.
    let key = sandbox::STRIPE_SECRET_KEY;
    let path = format!("/subscriptions/{sub_id}");
    for (form, code, param) in [
        (vec![("items[0][id]", "si_unknown"), ("items[0][quantity]", "4")], 404, "items[0][id]"),
        (vec![("items[0][id]", item.as_str()), ("items[0][quantity]", "-1")], 400, "items[0][quantity]"),
        (vec![("items[0][id]", item.as_str()), ("items[0][quantity]", "x")], 400, "items[0][quantity]"),
        (vec![("items[0][id]", item.as_str()), ("proration_behavior", "later")], 400, "proration_behavior"),
    ] {
        let (status, body) = stripe_call(&app, key, reqwest::Method::POST, &path, &form).await;
        assert_eq!((status, body["error"]["param"].as_str()), (code, Some(param)), "{body}");
    }
    let (_, body) = stripe_call(&app, key, reqwest::Method::POST, &path, &[("items[0][id]", "si_unknown")]).await;
    assert_eq!(body["error"]["message"], "No such subscription_item: 'si_unknown'");

    // Ten days in, a fourth seat, invoiced and paid at once.
    app.control("/clock/advance", json!({ "days": 10 })).await;
    let sub = change_seats(&app, &sub_id, &item, 4, Some(UpdateSubscriptionProrationBehavior::AlwaysInvoice)).await;
    assert_eq!(sub.items.data[0].quantity, Some(4));
    let invoice_id = latest_invoice(&sub);
    assert_ne!(invoice_id, first_invoice);
    let invoice = RetrieveInvoice::new(invoice_id.as_str()).send(&client).await.unwrap();
    assert_eq!(invoice.billing_reason, Some(stripe_billing::InvoiceBillingReason::SubscriptionUpdate));
    assert_eq!(invoice.status, Some(stripe_billing::InvoiceStatus::Paid));
    let lines = &invoice.lines.data;
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(proration_of));
    let at = lines[0].period.start;
    assert!(at >= start + 10 * 86_400 && lines[0].period.end == end);
    let (remaining, length) = (end - at, end - start);
    let (credit, charge) = (-prorated(2700, remaining, length), prorated(3600, remaining, length));
    assert_eq!((lines[0].quantity, lines[0].amount), (Some(3), credit));
    assert_eq!((lines[1].quantity, lines[1].amount), (Some(4), charge));
    assert!(lines[0].description.as_deref().unwrap().starts_with("Unused time on 3 × acme/pro-kit after "));
    assert!(lines[1].description.as_deref().unwrap().starts_with("Remaining time on 4 × acme/pro-kit after "));
    let expected = charge + credit;
    assert!(0 < expected && expected < 900, "{expected}");
    assert_eq!((invoice.total, invoice.amount_paid), (expected, expected));
    // The customer was charged that.
    let charge = stripe_billing::invoice_payment::ListInvoicePayment::new()
        .invoice(invoice_id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(charge.data[0].amount_paid, Some(expected));

    let paid = receiver.wait_for(2, 10, of_type("invoice.paid")).await;
    assert_eq!(paid.len(), 2);
    match verify(&app, &paid[1].0, &paid[1].1).data.object {
        EventObject::InvoicePaid(inv) => {
            assert_eq!(inv.id.as_ref().map(|i| i.as_str()), Some(invoice_id.as_str()));
            assert_eq!(inv.billing_reason, Some(stripe_billing::InvoiceBillingReason::SubscriptionUpdate));
            assert_eq!(inv.amount_paid, expected);
        }
        other => panic!("{other:?}"),
    }
    let updated = receiver.wait_for(1, 10, of_type("customer.subscription.updated")).await;
    let event = event_json(&updated, 0);
    assert_eq!(event["data"]["previous_attributes"]["items"]["data"][0]["quantity"], 3, "{event}");
    assert_eq!(event["data"]["previous_attributes"]["latest_invoice"], first_invoice.as_str());
    assert_eq!(event["data"]["object"]["items"]["data"][0]["quantity"], 4);
    assert!(matches!(
        verify(&app, &updated[0].0, &updated[0].1).data.object,
        EventObject::CustomerSubscriptionUpdated(_)
    ));

    // Down to two seats from the next period, with cancellation set in the same request.
    let mut line = UpdateSubscriptionItems::new();
    line.id = Some(item.clone());
    line.quantity = Some(2);
    let sub = UpdateSubscription::new(sub_id.as_str())
        .items(vec![line])
        .proration_behavior(UpdateSubscriptionProrationBehavior::None)
        .cancel_at_period_end(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(sub.items.data[0].quantity, Some(2));
    assert!(sub.cancel_at_period_end);
    assert_eq!(latest_invoice(&sub).as_str(), invoice_id, "nothing invoiced now");
    let updated = receiver.wait_for(2, 10, of_type("customer.subscription.updated")).await;
    let event = event_json(&updated, 1);
    assert_eq!(event["data"]["previous_attributes"]["items"]["data"][0]["quantity"], 4, "{event}");
    assert_eq!(event["data"]["previous_attributes"]["cancel_at_period_end"], false);
    assert!(event["data"]["previous_attributes"].get("latest_invoice").is_none());
    let resumed = UpdateSubscription::new(sub_id.as_str()).cancel_at_period_end(false).send(&client).await.unwrap();
    assert!(!resumed.cancel_at_period_end);

    // The same quantity again changes nothing.
    change_seats(&app, &sub_id, &item, 2, None).await;
    assert_eq!(receiver.wait_for(4, 1, of_type("customer.subscription.updated")).await.len(), 3);

    // The renewal bills two seats.
    let renewed = app.control(&format!("/stripe/subscriptions/{sub_id}/renew"), json!({})).await;
    let invoice = RetrieveInvoice::new(renewed["latest_invoice"].as_str().unwrap()).send(&client).await.unwrap();
    assert_eq!(invoice.billing_reason, Some(stripe_billing::InvoiceBillingReason::SubscriptionCycle));
    assert_eq!(invoice.amount_paid, 1800);
    assert_eq!(invoice.lines.data.len(), 1);
    assert_eq!((invoice.lines.data[0].quantity, invoice.lines.data[0].amount), (Some(2), 1800));
}

async fn pending_prorations_and_credits_reach_the_next_renewal(app: TestApp) {
    use stripe_billing::invoice::RetrieveInvoice;
    use stripe_core::customer::{RetrieveCustomer, RetrieveCustomerReturned};
    let client = app.stripe();
    let (sub_id, item) = three_seats(&app).await;
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&client).await.unwrap();
    let before = latest_invoice(&sub);
    let (start, end) = (sub.items.data[0].current_period_start, sub.items.data[0].current_period_end);

    // A fifth seat with Stripe's default (create_prorations): nothing invoiced yet.
    app.control("/clock/advance", json!({ "days": 12 })).await;
    let sub = change_seats(&app, &sub_id, &item, 5, None).await;
    assert_eq!(latest_invoice(&sub).as_str(), before);

    // At the end of the period the prorations ride on the renewal.
    app.control("/clock/advance", json!({ "days": 20 })).await;
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&client).await.unwrap();
    assert_eq!(sub.items.data[0].current_period_start, end);
    let invoice = RetrieveInvoice::new(latest_invoice(&sub).as_str()).send(&client).await.unwrap();
    let lines = &invoice.lines.data;
    assert_eq!(lines.len(), 3, "{lines:?}");
    let (remaining, length) = (end - lines[0].period.start, end - start);
    let proration = prorated(4500, remaining, length) - prorated(2700, remaining, length);
    assert!(proration_of(&lines[0]) && proration_of(&lines[1]) && !proration_of(&lines[2]));
    assert_eq!((lines[2].quantity, lines[2].amount), (Some(5), 4500));
    assert_eq!(invoice.amount_paid, 4500 + proration);

    // Down to one seat, invoiced at once: a credit for the unused time,
    // kept as the customer's balance, which pays the next renewal first.
    app.control("/clock/advance", json!({ "days": 3 })).await;
    let sub = change_seats(&app, &sub_id, &item, 1, Some(UpdateSubscriptionProrationBehavior::AlwaysInvoice)).await;
    let (start, end) = (sub.items.data[0].current_period_start, sub.items.data[0].current_period_end);
    let credit_note = RetrieveInvoice::new(latest_invoice(&sub).as_str()).send(&client).await.unwrap();
    // The credit names the renewal line that billed the five seats.
    let credited = credit_note.lines.data[0]
        .parent
        .as_ref()
        .and_then(|p| p.subscription_item_details.as_ref())
        .and_then(|d| d.proration_details.as_ref())
        .and_then(|d| d.credited_items.as_ref())
        .expect("credited items");
    assert_eq!(Some(credited.invoice.as_str()), invoice.id.as_ref().map(|i| i.as_str()));
    assert_eq!(credited.invoice_line_items, vec![lines[2].id.to_string()]);
    let at = credit_note.lines.data[0].period.start;
    let credit = prorated(900, end - at, end - start) - prorated(4500, end - at, end - start);
    assert!(credit < 0);
    assert_eq!((credit_note.total, credit_note.amount_due, credit_note.amount_paid), (credit, 0, 0));
    assert_eq!(credit_note.ending_balance, Some(credit));
    let customer = match RetrieveCustomer::new(sub.customer.id().as_str()).send(&client).await.unwrap() {
        RetrieveCustomerReturned::Customer(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(customer.balance, Some(credit));

    app.control("/clock/advance", json!({ "days": 30 })).await;
    let sub = RetrieveSubscription::new(sub_id.as_str()).send(&client).await.unwrap();
    let renewal = RetrieveInvoice::new(latest_invoice(&sub).as_str()).send(&client).await.unwrap();
    assert_eq!((renewal.total, renewal.starting_balance), (900, credit));
    assert_eq!(renewal.amount_paid, (900 + credit).max(0));
    assert_eq!(renewal.ending_balance, Some((900 + credit).min(0)));
}
