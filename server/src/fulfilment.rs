//! From a paid Checkout Session to access on GitHub. Called when the buyer
//! returns to the success page (asking Stripe for the session, as Stripe
//! recommends, in case the webhook is late) and by the webhook worker: both
//! paths run this same code, and each step is a conditional status change,
//! so running it twice does nothing twice.

use stripe_checkout::{
    checkout_session::RetrieveCheckoutSession, CheckoutSession, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
};

use crate::{
    access::{self, Cause, Change, Value},
    clock, ledger,
    payments::PaymentsError,
    purchases::{self, Purchase},
    AppState, Error, Result,
};

/// The purchase a Checkout Session belongs to.
async fn purchase_for(state: &AppState, session: &CheckoutSession) -> Result<Purchase> {
    if let Some(id) = purchases::by_checkout_session(&state.db, session.id.as_str()).await? {
        return purchases::get(&state.db, id).await;
    }
    // The process may have died before it recorded the session's id: the
    // metadata names the purchase by its random public id (never by the
    // sequential id, which another product on the same account could carry).
    let public_id = session.metadata.as_ref().and_then(|m| m.get("purchase_public_id")).ok_or(Error::NotFound)?;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM purchases WHERE public_id = $1")
        .bind(public_id)
        .fetch_optional(state.db.pool())
        .await?;
    purchases::get(&state.db, id.ok_or(Error::NotFound)?).await
}

/// Asks Stripe for the session (the buyer's return may beat the webhook).
pub async fn retrieve_session(state: &AppState, session_id: &str) -> Result<CheckoutSession> {
    if !session_id.starts_with("cs_") || session_id.len() > 200 {
        return Err(Error::NotFound);
    }
    let client = state.payments.client()?;
    match RetrieveCheckoutSession::new(session_id).send(client).await {
        Ok(session) => Ok(session),
        Err(e) => match PaymentsError::from(e) {
            PaymentsError::Refused { status: 404, .. } => Err(Error::NotFound),
            other => Err(other.into()),
        },
    }
}

/// Applies what the session says: paid → record the payment and invite;
/// expired → close the purchase; still unpaid → nothing yet.
pub async fn complete_checkout(state: &AppState, session: &CheckoutSession, cause: &Cause) -> Result<Purchase> {
    let purchase = purchase_for(state, session).await?;
    let paid = matches!(
        session.payment_status,
        CheckoutSessionPaymentStatus::Paid | CheckoutSessionPaymentStatus::NoPaymentRequired
    ) && session.status == Some(CheckoutSessionStatus::Complete);
    if purchase.status == "pending" {
        if paid {
            let customer = session.customer.as_ref().map(|c| c.id().as_str().to_owned());
            let subscription = session.subscription.as_ref().map(|s| s.id().as_str().to_owned());
            let payment_intent = session.payment_intent.as_ref().map(|p| p.id().as_str().to_owned());
            let set = [
                ("stripe_customer_id", Value::Text(customer)),
                ("stripe_subscription_id", Value::Text(subscription)),
                ("stripe_payment_intent_id", Value::Text(payment_intent)),
                ("amount", Value::Int(Some(session.amount_total.unwrap_or(purchase.amount)))),
                ("paid_at", Value::Int(Some(clock::now()))),
            ];
            let detail = match session.payment_status {
                CheckoutSessionPaymentStatus::NoPaymentRequired => "trial started: nothing charged yet",
                _ => "payment confirmed",
            };
            access::transition(
                &state.db,
                purchase.id,
                Change { from: "pending", to: "paid", action: "paid", detail: Some(detail), set: &set },
                cause,
            )
            .await?;
            // Keyed as its invoice.paid event will be (subscriptions), so it counts once.
            let reference = session
                .invoice
                .as_ref()
                .and_then(|i| i.id().as_ref().map(|id| id.as_str().to_owned()))
                .or_else(|| session.payment_intent.as_ref().map(|p| p.id().as_str().to_owned()));
            let currency =
                session.currency.as_ref().map(|c| c.to_string()).unwrap_or_else(|| purchase.currency.clone());
            ledger::received(
                &state.db,
                purchase.id,
                &reference.unwrap_or_else(|| session.id.to_string()),
                ledger::Kind::Payment,
                session.amount_total.unwrap_or(0),
                &currency,
            )
            .await?;
        } else if session.status == Some(CheckoutSessionStatus::Expired) {
            access::transition(
                &state.db,
                purchase.id,
                Change {
                    from: "pending",
                    to: "expired",
                    action: "checkout_expired",
                    detail: Some("the buyer did not complete the checkout"),
                    set: &[],
                },
                cause,
            )
            .await?;
            return purchases::get(&state.db, purchase.id).await;
        }
    }
    let purchase = purchases::get(&state.db, purchase.id).await?;
    if purchase.status == "paid" {
        // Boxed: a large future (several Stripe calls), kept off the caller's stack.
        if let Some(reason) = Box::pin(taken_back(state, &purchase)).await? {
            return access::revoke(state, purchase.id, reason, cause).await;
        }
        return access::grant(state, purchase.id, cause).await;
    }
    Ok(purchase)
}

/// Events arrive in any order: a refund or a dispute can be processed
/// before the checkout it belongs to, when the purchase could not yet be
/// matched to it. So before the first grant the payments are read back
/// from Stripe: a subscription already ended, a dispute on any of its
/// charges, or a full refund (one-time) means no access; refunds are put
/// in the ledger either way.
async fn taken_back(state: &AppState, p: &Purchase) -> Result<Option<&'static str>> {
    let client = state.payments.client()?;
    let (charges, ended) = match &p.stripe_subscription_id {
        Some(sub) => {
            use stripe_billing::{subscription::RetrieveSubscription, SubscriptionStatus};
            let status =
                RetrieveSubscription::new(sub.as_str()).send(client).await.map_err(PaymentsError::from)?.status;
            let ended = matches!(status, SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired);
            // Renewals may already have been charged: every charge of the
            // customer that was disputed or refunded, if it paid this subscription.
            let mut charges = Vec::new();
            if let Some(customer) = &p.stripe_customer_id {
                let all = stripe_core::charge::ListCharge::new()
                    .customer(customer.as_str())
                    .limit(100)
                    .send(client)
                    .await
                    .map_err(PaymentsError::from)?;
                for charge in all.data.into_iter().filter(|c| c.paid && (c.disputed || c.amount_refunded > 0)) {
                    let Some(pi) = charge.payment_intent.as_ref().map(|pi| pi.id().to_string()) else { continue };
                    if crate::lifecycle::subscription_paid_by(state, &pi).await?.as_deref() == Some(sub.as_str()) {
                        charges.push(charge);
                    }
                }
            }
            (charges, ended)
        }
        None => {
            let intent = match crate::refunds::payment_to_refund(state, p.id, None).await {
                Ok(pi) => pi,
                // Nothing was charged, so nothing can have been taken back.
                Err(Error::Invalid { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let all = stripe_core::charge::ListCharge::new()
                .payment_intent(intent)
                .send(client)
                .await
                .map_err(PaymentsError::from)?;
            (all.data.into_iter().filter(|c| c.paid).take(1).collect(), false)
        }
    };
    for charge in charges.iter().filter(|c| c.amount_refunded > 0) {
        ledger::refunded(&state.db, p.id, charge.id.as_str(), charge.amount_refunded, &charge.currency.to_string())
            .await?;
    }
    Ok(if ended {
        Some("subscription ended")
    } else if charges.iter().any(|c| c.disputed) {
        Some("disputed")
    } else if p.stripe_subscription_id.is_none() && charges.iter().any(|c| c.refunded || c.amount_refunded >= c.amount)
    {
        Some("refunded")
    } else {
        None
    })
}
