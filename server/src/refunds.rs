//! The creator refunds a purchase through Stripe, in full or in part. A
//! one-time purchase is refunded on its payment; a subscription on its
//! latest paid invoice. What it does to access follows from Stripe's
//! `charge.refunded` event like any other refund (a full refund of a
//! one-time purchase revokes); the ledger and the access log record it at
//! once.

use stripe_billing::{invoice::RetrieveInvoice, subscription::RetrieveSubscription};
use stripe_core::{
    charge::RetrieveCharge,
    refund::{CreateRefund, CreateRefundReason},
};

use crate::{
    access::Cause,
    domain::{Action, PurchaseId},
    ledger,
    payments::PaymentsError,
    purchases, AppState, Error, Result,
};

/// What was refunded: this refund's amount, and the charge's total so far.
#[derive(Debug, Clone)]
pub struct Refunded {
    pub amount: i64,
    pub total_refunded: i64,
    pub currency: String,
}

fn stripe(e: stripe::StripeError) -> Error {
    PaymentsError::from(e).into()
}

/// The payment intent of the money a purchase was last paid with.
pub(crate) async fn payment_to_refund(
    state: &AppState,
    purchase_id: PurchaseId,
    subscription: Option<&str>,
) -> Result<String> {
    let client = state.payments.client()?;
    if let Some(sub) = subscription {
        let sub = RetrieveSubscription::new(sub).send(client).await.map_err(stripe)?;
        let invoice = sub
            .latest_invoice
            .and_then(|i| i.id().clone())
            .ok_or_else(|| Error::invalid("amount", "this subscription has no invoice yet: nothing was paid"))?;
        let invoice =
            RetrieveInvoice::new(invoice).expand(vec!["payments".to_owned()]).send(client).await.map_err(stripe)?;
        let paid =
            invoice.payments.map(|p| p.data).unwrap_or_default().into_iter().find_map(|p| p.payment.payment_intent);
        return paid.map(|pi| pi.id().as_str().to_owned()).ok_or_else(|| {
            Error::invalid(
                "amount",
                "the latest invoice was not paid (a trial, or a failed payment): there is nothing to refund",
            )
        });
    }
    let intent: Option<String> = sqlx::query_scalar("SELECT stripe_payment_intent_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(state.db.pool())
        .await?;
    intent.ok_or_else(|| {
        Error::invalid("amount", "Stripe recorded no payment for this purchase: there is nothing to refund")
    })
}

/// Refunds `amount` (minor units; all that is left when `None`).
pub async fn refund(state: &AppState, purchase_id: PurchaseId, amount: Option<i64>, cause: &Cause) -> Result<Refunded> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if !p.status.was_paid() {
        return Err(Error::invalid("amount", "this purchase was never paid: there is nothing to refund"));
    }
    if amount.is_some_and(|a| a <= 0) {
        return Err(Error::invalid(
            "amount",
            "enter an amount above zero, or leave it empty to refund everything left",
        ));
    }
    let intent = payment_to_refund(state, p.id, p.stripe_subscription_id.as_deref()).await?;
    let client = state.payments.client()?;
    let mut request = CreateRefund::new().payment_intent(intent).reason(CreateRefundReason::RequestedByCustomer);
    if let Some(a) = amount {
        request = request.amount(a);
    }
    let refund = request.send(client).await.map_err(|e| match PaymentsError::from(e) {
        // Stripe's message names the problem ("greater than unrefunded amount", "already been refunded").
        PaymentsError::Refused { status: 400, message } => {
            Error::invalid("amount", format!("Stripe refused the refund: {message}"))
        }
        other => other.into(),
    })?;
    let currency = refund.currency.to_string();
    let total_refunded = match refund.charge.as_ref() {
        Some(charge) => {
            let charge = RetrieveCharge::new(charge.id().clone()).send(client).await.map_err(stripe)?;
            ledger::refunded(&state.db, p.id, charge.id.as_str(), charge.amount_refunded, &currency).await?;
            charge.amount_refunded
        }
        None => refund.amount,
    };
    let detail = format!(
        "{} {} refunded through Stripe ({} {} in all)",
        refund.amount,
        currency.to_uppercase(),
        total_refunded,
        currency.to_uppercase()
    );
    crate::purchase_state::log(
        state.db.pool(),
        p.id,
        Some(p.status),
        p.status,
        Action::RefundRequested,
        Some(&detail),
        cause,
    )
    .await?;
    tracing::info!(purchase_id = purchase_id.get(), amount = refund.amount, "refund made");
    Ok(Refunded { amount: refund.amount, total_refunded, currency })
}
