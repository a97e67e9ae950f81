//! The creator refunds a purchase through Stripe, in full or in part. A
//! one-time purchase is refunded on its payment; a subscription on its
//! latest paid invoice. What it does to access follows from Stripe's
//! `charge.refunded` event like any other refund (a full refund of a
//! one-time purchase revokes); the ledger and the access log record it at
//! once.

use crate::{
    domain::{Action, Money},
    ledger,
    purchase_state::Cause,
    purchases::{self, Purchase},
    stripe::StripeError,
    AppState, Error, Result,
};

/// What was refunded: this refund's amount, and the charge's total so far.
#[derive(Debug, Clone)]
pub struct Refunded {
    /// This refund.
    pub amount: Money,
    /// Everything refunded of the payment so far, this refund included.
    pub in_all: Money,
}

/// Why a purchase has nothing to refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NothingToRefund {
    NeverPaid,
    /// A subscription without an invoice yet.
    NoInvoice,
    /// Its latest invoice was not paid (a trial, or a failed payment).
    InvoiceUnpaid,
    /// Stripe recorded no payment (nothing was charged).
    NoPayment,
    /// Every cent of the payment came back already.
    AllRefunded,
}

impl NothingToRefund {
    pub fn message(self) -> &'static str {
        match self {
            NothingToRefund::NeverPaid => "this purchase was never paid: there is nothing to refund",
            NothingToRefund::NoInvoice => "this subscription has no invoice yet: nothing was paid",
            NothingToRefund::InvoiceUnpaid => {
                "the latest invoice was not paid (a trial, or a failed payment): there is nothing to refund"
            }
            NothingToRefund::NoPayment => "Stripe recorded no payment for this purchase: there is nothing to refund",
            NothingToRefund::AllRefunded => "this payment was refunded in full already",
        }
    }
}

/// The payment intent of the money a purchase was last paid with: a
/// subscription's latest paid invoice, or a one-time purchase's payment.
async fn payment_to_refund(state: &AppState, p: &Purchase) -> Result<std::result::Result<String, NothingToRefund>> {
    if !p.status.was_paid() {
        return Ok(Err(NothingToRefund::NeverPaid));
    }
    if let Some(sub) = &p.stripe_subscription_id {
        let Some(invoice) = state.stripe.subscription(sub).await?.latest_invoice else {
            return Ok(Err(NothingToRefund::NoInvoice));
        };
        return Ok(state.stripe.invoice_paid_with(&invoice).await?.ok_or(NothingToRefund::InvoiceUnpaid));
    }
    Ok(p.stripe_payment_intent_id.clone().ok_or(NothingToRefund::NoPayment))
}

/// Refunds all that is left of the purchase's last payment (a duplicate
/// purchase's job; a retry after it was refunded changes nothing).
pub async fn refund_everything_left(
    state: &AppState,
    purchase_id: crate::domain::PurchaseId,
    cause: &Cause,
) -> Result<std::result::Result<Refunded, NothingToRefund>> {
    let p = purchases::get(&state.db, purchase_id).await?;
    let intent = match payment_to_refund(state, &p).await? {
        Ok(intent) => intent,
        Err(nothing) => return Ok(Err(nothing)),
    };
    let charges = state.stripe.charges_of_payment(&intent).await?;
    if charges.iter().filter(|c| c.paid).all(|c| c.fully_refunded()) {
        return Ok(Err(NothingToRefund::AllRefunded));
    }
    refund(state, purchase_id, None, cause).await.map(Ok)
}

/// Refunds `amount` (minor units; all that is left when `None`).
pub async fn refund(
    state: &AppState,
    purchase_id: crate::domain::PurchaseId,
    amount: Option<i64>,
    cause: &Cause,
) -> Result<Refunded> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if amount.is_some_and(|a| a <= 0) {
        return Err(Error::invalid(
            "amount",
            "enter an amount above zero, or leave it empty to refund everything left",
        ));
    }
    let intent = payment_to_refund(state, &p).await?.map_err(|nothing| Error::invalid("amount", nothing.message()))?;
    if let Some(asked) = amount {
        // Said in money, before Stripe refuses it in minor units.
        let charges = state.stripe.charges_of_payment(&intent).await?;
        let left: i64 = charges.iter().filter(|c| c.paid).map(|c| c.amount - c.amount_refunded).sum();
        let currency = charges.first().map_or(p.currency.as_str(), |c| c.currency.as_str());
        if asked > left {
            return Err(Error::invalid(
                "amount",
                format!(
                    "{} is more than is left to refund of this payment ({}); enter at most that, or leave the amount empty to refund it all",
                    Money::new(asked, currency),
                    Money::new(left, currency)
                ),
            ));
        }
    }
    let refund = state.stripe.refund(&intent, amount).await.map_err(|e| match e {
        // Stripe's message names the problem ("greater than unrefunded amount", "already been refunded").
        StripeError::Refused { status: 400, message } => {
            Error::invalid("amount", format!("Stripe refused the refund: {message}"))
        }
        other => other.into(),
    })?;
    let currency = refund.currency.clone();
    let total_refunded = match &refund.charge {
        Some(charge) => {
            let charge = state.stripe.charge(charge).await?;
            ledger::refunded(&state.db, p.id, &charge.id, charge.amount_refunded, &currency).await?;
            charge.amount_refunded
        }
        None => refund.amount,
    };
    let detail = format!(
        "{} refunded through Stripe ({} in all)",
        Money::new(refund.amount, &currency),
        Money::new(total_refunded, &currency)
    );
    let entry = crate::purchase_state::Entry {
        purchase_id: p.id,
        repository: None,
        from: Some(p.status),
        to: p.status,
        action: Action::RefundRequested,
        detail: Some(&detail),
        cause,
    };
    let mut tx = state.db.pool().begin().await?;
    entry.write(&mut tx, &[]).await?;
    tx.commit().await?;
    tracing::info!(purchase_id = purchase_id.get(), amount = refund.amount, "refund made");
    Ok(Refunded { amount: Money::new(refund.amount, &currency), in_all: Money::new(total_refunded, &currency) })
}
