//! What each Stripe event means for a purchase. Events can arrive twice and
//! out of order, so where order matters the current object is read back from
//! Stripe and acted on as it is now, not as the event described it.

use serde_json::{json, Value};

use crate::{
    access, clock,
    domain::Provider,
    domain::{Action, PurchaseId, PurchaseStatus as Status, Reason, WebhookEventType},
    extra_seats, fulfilment,
    jobs::{self, Job, Outcome},
    ledger,
    purchase_state::{transition, Cause, Change, Value as Col},
    purchases::{self, Lookup, Purchase},
    stripe::SubscriptionState,
    webhooks::{self, Delivery},
    AppState, Error, Result,
};

const DAY: i64 = 86_400;

/// The purchase an object's metadata names — by its random public id only:
/// on a Stripe account shared with other products, another product's
/// `purchase_id: "7"` must not act on RepoPass's purchase 7.
async fn by_metadata(state: &AppState, object: &Value) -> Result<Option<Purchase>> {
    match object["metadata"]["purchase_public_id"].as_str() {
        Some(public_id) => purchases::find(&state.db, Lookup::PublicId(public_id)).await,
        None => Ok(None),
    }
}

async fn by_subscription(state: &AppState, subscription_id: &str, object: &Value) -> Result<Option<Purchase>> {
    match purchases::find(&state.db, Lookup::Subscription(subscription_id)).await? {
        Some(p) => Ok(Some(p)),
        None => by_metadata(state, object).await,
    }
}

/// An invoice's subscription, in the old (`subscription`) and the new
/// (`parent.subscription_details.subscription`) shapes of the API.
fn invoice_subscription(invoice: &Value) -> Option<&str> {
    invoice["subscription"].as_str().or_else(|| invoice["parent"]["subscription_details"]["subscription"].as_str())
}

/// The Stripe events `handle` acts on. Any other type is stored as
/// ignored when it arrives, without a job, so an endpoint subscribed to
/// every event does not queue work that would delay the ones that matter.
/// A new arm in `handle` needs its type here, or it is never called.
pub const STRIPE_EVENTS: [&str; 13] = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.resumed",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
];

/// Why a Stripe delivery of this type is stored without a job; `None`
/// when `handle` acts on it.
pub fn ignored_on_arrival(event_type: &str) -> Option<String> {
    (!STRIPE_EVENTS.contains(&event_type)).then(|| format!("{event_type} is not an event RepoPass acts on"))
}

pub async fn handle(state: &AppState, event_id: &str, event_type: &str, payload: &str) -> Result<Outcome> {
    let event: Value =
        serde_json::from_str(payload).map_err(|e| Error::Internal(format!("stored event is not JSON: {e}")))?;
    let object = &event["data"]["object"];
    let cause = Cause::StripeEvent(event_id.to_owned());
    if matches!(event_type, "charge.refunded" | "charge.dispute.created") {
        if let Some(team) = added_seats_paid_by(state, object).await? {
            return added_seats_taken_back(state, &team, event_type, object, &cause).await;
        }
    }
    match event_type {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" | "checkout.session.expired" => {
            let Some(session_id) = object["id"].as_str() else { return Ok(Outcome::Ignored("no session id".into())) };
            // The session as it is now (the event may be older than another).
            let session = fulfilment::retrieve_session(state, session_id).await?;
            if session.seats_order.is_some() {
                // Seats added to a team purchase, not a purchase of its own.
                return match extra_seats::paid(state, &session, &cause).await {
                    Ok(_) => Ok(Outcome::Processed),
                    Err(Error::NotFound) => Ok(Outcome::Ignored("not a RepoPass team".into())),
                    Err(e) => Err(e),
                };
            }
            match fulfilment::complete_checkout(state, &session, &cause).await {
                Ok(_) => Ok(Outcome::Processed),
                Err(Error::NotFound) => Ok(Outcome::Ignored("not a RepoPass checkout".into())),
                Err(e) => Err(e),
            }
        }
        "checkout.session.async_payment_failed" => {
            let Some(session_id) = object["id"].as_str() else { return Ok(Outcome::Ignored("no session id".into())) };
            let Some(p) = purchases::find(&state.db, Lookup::CheckoutSession(session_id)).await? else {
                return Ok(Outcome::Ignored("not a RepoPass checkout".into()));
            };
            let change = Change::new(Status::Pending, Status::Expired, Action::PaymentFailed)
                .detail("the delayed payment failed")
                .reason(Reason::CheckoutPaymentFailed, "the payment failed");
            transition(&state.db, p.id, change, &cause).await?;
            Ok(Outcome::Processed)
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.resumed" => {
            let Some(sub_id) = object["id"].as_str() else { return Ok(Outcome::Ignored("no subscription id".into())) };
            let Some(p) = by_subscription(state, sub_id, object).await? else {
                return Ok(Outcome::Ignored("not a RepoPass subscription".into()));
            };
            sync_subscription(state, &p, sub_id, &cause).await
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            let Some(sub_id) = invoice_subscription(object) else {
                return Ok(Outcome::Ignored("not a subscription invoice".into()));
            };
            let Some(p) = by_subscription(state, sub_id, object).await? else {
                return Ok(Outcome::Ignored("not a RepoPass subscription".into()));
            };
            if let (Some(invoice), Some(paid)) = (object["id"].as_str(), object["amount_paid"].as_i64()) {
                // A period renewed; anything else (the first invoice, seats
                // added during a period) is a payment.
                let kind = if object["billing_reason"] == "subscription_cycle" {
                    ledger::Kind::Renewal
                } else {
                    ledger::Kind::Payment
                };
                ledger::received(
                    state.db.pool(),
                    p.id,
                    invoice,
                    kind,
                    paid,
                    object["currency"].as_str().unwrap_or(&p.currency),
                )
                .await?;
            }
            if p.status == Status::Pending {
                // The checkout events do the first grant.
                return Ok(Outcome::Ignored("first invoice of a checkout still pending".into()));
            }
            if p.is_company() && object["billing_reason"] == "subscription_cycle" {
                // Fewer seats chosen for this renewal take effect with it.
                crate::seats::renewed(state, &p, &cause).await?;
            }
            sync_subscription(state, &p, sub_id, &cause).await
        }
        "invoice.payment_failed" => {
            let Some(sub_id) = invoice_subscription(object) else {
                return Ok(Outcome::Ignored("not a subscription invoice".into()));
            };
            let Some(p) = by_subscription(state, sub_id, object).await? else {
                return Ok(Outcome::Ignored("not a RepoPass subscription".into()));
            };
            payment_failed(state, &p, sub_id, &cause).await
        }
        "charge.refunded" => {
            let Some(p) = purchase_for_charge(state, object).await? else {
                return Ok(Outcome::Ignored("not a RepoPass payment".into()));
            };
            if let (Some(charge), Some(total)) = (object["id"].as_str(), object["amount_refunded"].as_i64()) {
                ledger::refunded(&state.db, p.id, charge, total, object["currency"].as_str().unwrap_or(&p.currency))
                    .await?;
            }
            let full = object["refunded"].as_bool() == Some(true)
                || object["amount_refunded"].as_i64() >= object["amount"].as_i64();
            if !full {
                log_only(
                    state,
                    &p,
                    Action::PartialRefund,
                    &format!("partial refund of {} (access kept)", object["amount_refunded"]),
                    &cause,
                )
                .await?;
                return Ok(Outcome::Processed);
            }
            if p.stripe_subscription_id.is_some() {
                // A subscription ends by being cancelled, not by a refund.
                log_only(
                    state,
                    &p,
                    Action::Refund,
                    "a subscription payment was refunded (access follows the subscription)",
                    &cause,
                )
                .await?;
                return Ok(Outcome::Processed);
            }
            revoke(state, &p, Reason::Refunded, "refunded", &cause).await
        }
        "charge.dispute.created" => {
            let Some(p) = purchase_for_charge(state, object).await? else {
                return Ok(Outcome::Ignored("not a RepoPass payment".into()));
            };
            let reason = format!("disputed: {}", object["reason"].as_str().unwrap_or("chargeback"));
            revoke(state, &p, Reason::Disputed, &reason, &cause).await
        }
        other => Ok(Outcome::Ignored(format!("{other} is not an event RepoPass acts on"))),
    }
}

/// The team purchase whose added seats a charge (or a dispute's charge) paid for.
async fn added_seats_paid_by(state: &AppState, object: &Value) -> Result<Option<Purchase>> {
    match object["payment_intent"].as_str() {
        Some(intent) => extra_seats::team_paid_by(&state.db, intent).await,
        None => Ok(None),
    }
}

/// A refund or dispute of seats added to a team purchase: the ledger
/// records it; refunded in full or disputed, those seats go (the team
/// purchase itself stands).
async fn added_seats_taken_back(
    state: &AppState,
    team: &Purchase,
    event_type: &str,
    object: &Value,
    cause: &Cause,
) -> Result<Outcome> {
    let Some(intent) = object["payment_intent"].as_str() else { return Ok(Outcome::Ignored("no payment".into())) };
    let why = if event_type == "charge.refunded" {
        if let (Some(charge), Some(total)) = (object["id"].as_str(), object["amount_refunded"].as_i64()) {
            let currency = object["currency"].as_str().unwrap_or(&team.currency);
            ledger::refunded(&state.db, team.id, charge, total, currency).await?;
        }
        let full = object["refunded"].as_bool() == Some(true)
            || object["amount_refunded"].as_i64() >= object["amount"].as_i64();
        full.then_some(extra_seats::Returned::Refunded)
    } else {
        Some(extra_seats::Returned::Disputed)
    };
    if let Some(why) = why {
        extra_seats::returned(state, intent, why, cause).await?;
    }
    Ok(Outcome::Processed)
}

/// The purchase a charge (or a dispute's charge) paid for.
/// A one-time purchase's charge carries its payment intent (and our
/// metadata); a subscription's charge carries neither, so its invoice is
/// found through Stripe's invoice payments and the purchase through the
/// invoice's subscription.
async fn purchase_for_charge(state: &AppState, object: &Value) -> Result<Option<Purchase>> {
    let intent = object["payment_intent"].as_str();
    if let Some(pi) = intent {
        if let Some(p) = purchases::find(&state.db, Lookup::PaymentIntent(pi)).await? {
            return Ok(Some(p));
        }
    }
    if let Some(p) = by_metadata(state, object).await? {
        return Ok(Some(p));
    }
    let Some(pi) = intent else { return Ok(None) };
    match state.stripe.subscription_paid_by(pi).await? {
        Some(sub) => purchases::find(&state.db, Lookup::Subscription(&sub)).await,
        None => Ok(None),
    }
}

async fn log_only(state: &AppState, p: &Purchase, action: Action, detail: &str, cause: &Cause) -> Result<()> {
    transition(&state.db, p.id, Change::record(p.status, action).detail(detail), cause).await?;
    Ok(())
}

async fn revoke(state: &AppState, p: &Purchase, reason: Reason, message: &str, cause: &Cause) -> Result<Outcome> {
    match p.status {
        Status::Revoked => Ok(Outcome::Ignored("already revoked".into())),
        Status::Pending | Status::Expired => Ok(Outcome::Ignored("never paid".into())),
        Status::Paid | Status::Invited | Status::Active => {
            access::revoke(state, p.id, reason, message, cause).await?;
            Ok(Outcome::Processed)
        }
    }
}

/// Revoked because billing ended it: a renewed subscription gives access back.
fn revoked_for_billing(p: &Purchase) -> bool {
    p.status == Status::Revoked && p.status_reason_code.is_some_and(Reason::ended_by_billing)
}

/// Brings the purchase in line with the subscription as Stripe has it now.
async fn sync_subscription(state: &AppState, p: &Purchase, sub_id: &str, cause: &Cause) -> Result<Outcome> {
    let sub = state.stripe.subscription(sub_id).await?;
    match sub.state {
        SubscriptionState::Live => {
            if let (true, Some(quantity)) = (p.is_company(), sub.quantity) {
                crate::seats::follow_quantity(state, p, quantity, cause).await?;
            }
            let set = [
                ("current_period_end", Col::Int(sub.period_end)),
                ("cancel_at", Col::Int(sub.ends_at)),
                ("grace_until", Col::Int(None)),
            ];
            let detail = match sub.ends_at {
                Some(at) => format!("subscription set to end at {at}"),
                None => "subscription active".to_owned(),
            };
            if revoked_for_billing(p) {
                // Re-subscribed or paid after all: access again.
                let change =
                    Change::new(Status::Revoked, Status::Paid, Action::Resubscribed).detail(&detail).set_all(set);
                transition(&state.db, p.id, change, cause).await?;
                access::grant(state, p.id, cause).await?;
            } else if p.current_period_end == sub.period_end && p.cancel_at == sub.ends_at && p.grace_until.is_none() {
                return Ok(Outcome::Ignored("nothing changed".into()));
            } else if p.status != Status::Revoked && p.status != Status::Expired {
                let mut change = Change::record(p.status, Action::SubscriptionUpdated).detail(&detail).set_all(set);
                // What the creator's tools hear: a period paid for again, a
                // cancellation asked for (an immediate end is a revocation).
                if p.current_period_end.is_some_and(|was| sub.period_end.is_some_and(|now| now > was)) {
                    change = change.event(WebhookEventType::SubscriptionRenewed);
                }
                if p.cancel_at.is_none() && sub.ends_at.is_some() {
                    change = change.event(WebhookEventType::SubscriptionCancelled);
                }
                transition(&state.db, p.id, change, cause).await?;
            }
            Ok(Outcome::Processed)
        }
        SubscriptionState::Ended => revoke(state, p, Reason::SubscriptionEnded, "subscription ended", cause).await,
        // invoice.payment_failed starts the grace period; nothing else now.
        SubscriptionState::PastDue => Ok(Outcome::Ignored("subscription past due: the grace period decides".into())),
        SubscriptionState::Other(status) => Ok(Outcome::Ignored(format!("subscription status {status}"))),
    }
}

/// A renewal failed: access stays for `REPOPASS_GRACE_DAYS`, then goes
/// unless the subscription is paid by then.
async fn payment_failed(state: &AppState, p: &Purchase, sub_id: &str, cause: &Cause) -> Result<Outcome> {
    if !p.status.is_granted() || p.grace_until.is_some() {
        return Ok(Outcome::Ignored("no access to hold, or already in its grace period".into()));
    }
    let grace_until = clock::now() + i64::from(state.config.stripe.grace_days) * DAY;
    let detail = format!("renewal payment failed; access kept until {grace_until} unless paid");
    let change =
        Change::record(p.status, Action::PaymentFailed).detail(&detail).set("grace_until", Col::Int(Some(grace_until)));
    transition(&state.db, p.id, change, cause).await?;
    jobs::enqueue(
        state.db.pool(),
        &Job::GraceCheck { purchase_id: p.id, subscription: sub_id.to_owned() },
        grace_until,
        Some(&format!("grace:{}:{grace_until}", p.id)),
    )
    .await?;
    Ok(Outcome::Processed)
}

/// At the end of a grace period: revoke unless the subscription recovered.
pub async fn grace_check(state: &AppState, purchase_id: PurchaseId, sub_id: &str) -> Result<Outcome> {
    let p = purchases::get(&state.db, purchase_id).await?;
    let Some(until) = p.grace_until else { return Ok(Outcome::Ignored("paid in time".into())) };
    if until > clock::now() {
        return Ok(Outcome::Ignored("grace period not over".into()));
    }
    let cause = Cause::Schedule("grace".into());
    if state.stripe.subscription(sub_id).await?.state == SubscriptionState::Live {
        let change = Change::record(p.status, Action::PaymentRecovered).set("grace_until", Col::Int(None));
        transition(&state.db, p.id, change, &cause).await?;
        return Ok(Outcome::Processed);
    }
    revoke(state, &p, Reason::PaymentFailed, "payment failed: not paid within the grace period", &cause).await
}

/// The Stripe events recovery asks for (`invoice.payment_succeeded` is left
/// out: it always comes with `invoice.paid`, which does the same).
const RECOVERED: [&str; 12] = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "customer.subscription.resumed",
];

/// Stores Stripe events of the last three days that never reached us
/// (RepoPass down, an endpoint misconfigured); the usual path processes them.
pub async fn recover_stripe_events(state: &AppState) -> Result<usize> {
    let since = clock::now() - 3 * 86_400;
    let mut recovered = 0;
    let mut starting_after: Option<String> = None;
    for _page in 0..50 {
        let page = state.stripe.events(&RECOVERED, since, starting_after.as_deref()).await?;
        for event in &page.events {
            let payload = json!({
                "id": event.id, "object": "event", "type": event.event_type, "created": event.created,
                "livemode": event.livemode, "data": { "object": event.object }, "recovered": true,
            });
            let delivery = Delivery {
                provider: Provider::Stripe,
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                payload: payload.to_string(),
            };
            if webhooks::store(&state.db, &delivery, ignored_on_arrival(&delivery.event_type)).await? {
                tracing::warn!(event = %delivery.event_id, kind = %delivery.event_type, "recovered a Stripe event that never arrived");
                recovered += 1;
            }
        }
        match (page.has_more, page.events.last()) {
            (true, Some(last)) => starting_after = Some(last.id.clone()),
            _ => break,
        }
    }
    if recovered > 0 {
        state.wake.notify();
    }
    Ok(recovered)
}
