//! Subscriptions, charges, invoices, refunds and the billing portal.

use stripe_billing::{
    billing_portal_session::CreateBillingPortalSession,
    invoice::RetrieveInvoice,
    invoice_payment::{ListInvoicePayment, ListInvoicePaymentPayment, ListInvoicePaymentPaymentType},
    subscription::{
        CancelSubscription, RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems,
        UpdateSubscriptionProrationBehavior,
    },
    SubscriptionStatus,
};
use stripe_core::{
    charge::{ListCharge, RetrieveCharge},
    refund::{CreateRefund, CreateRefundReason},
};

use super::{Stripe, StripeError};

/// A subscription as Stripe has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub state: SubscriptionState,
    /// The end of the current period (the latest of its items').
    pub period_end: Option<i64>,
    /// When it will end, if it was cancelled (at the period's end or a date).
    pub ends_at: Option<i64>,
    /// Its latest invoice.
    pub latest_invoice: Option<String>,
    /// Its (first) item, and how many of the price it bills: the seats of
    /// a company purchase.
    pub item: Option<String>,
    pub quantity: Option<u64>,
}

/// When a change of quantity is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proration {
    /// Charged now for the rest of the period (an invoice paid at once).
    InvoiceNow,
    /// Nothing now: the next renewal bills the new quantity.
    FromNextPeriod,
}

/// What a subscription's status means for access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// Active or trialing: it gives access.
    Live,
    /// Cancelled, or never paid: it will not give access again.
    Ended,
    /// A renewal failed; the grace period decides.
    PastDue,
    /// Anything else (incomplete, paused): Stripe's word.
    Other(String),
}

/// A charge, with what happened to it since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub paid: bool,
    pub disputed: bool,
    pub refunded: bool,
    pub amount: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub payment_intent: Option<String>,
}

impl Charge {
    /// Refunded in full.
    pub fn fully_refunded(&self) -> bool {
        self.refunded || self.amount_refunded >= self.amount
    }
}

impl From<stripe_core::Charge> for Charge {
    fn from(c: stripe_core::Charge) -> Self {
        Charge {
            id: c.id.as_str().to_owned(),
            paid: c.paid,
            disputed: c.disputed,
            refunded: c.refunded,
            amount: c.amount,
            amount_refunded: c.amount_refunded,
            currency: c.currency.to_string(),
            payment_intent: c.payment_intent.as_ref().map(|pi| pi.id().to_string()),
        }
    }
}

/// A refund made: its amount, currency, and the charge it was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub amount: i64,
    pub currency: String,
    pub charge: Option<String>,
}

impl Stripe {
    pub async fn subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        let sub = RetrieveSubscription::new(id).send(self.client()?).await?;
        let period_end = sub.items.data.iter().map(|i| i.current_period_end).max();
        Ok(Subscription {
            state: match sub.status {
                SubscriptionStatus::Active | SubscriptionStatus::Trialing => SubscriptionState::Live,
                SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired => SubscriptionState::Ended,
                SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid => SubscriptionState::PastDue,
                other => SubscriptionState::Other(format!("{other:?}")),
            },
            period_end,
            ends_at: if sub.cancel_at_period_end { period_end } else { sub.cancel_at },
            latest_invoice: sub.latest_invoice.as_ref().and_then(|i| i.id().as_ref().map(|id| id.to_string())),
            item: sub.items.data.first().map(|i| i.id.as_str().to_owned()),
            quantity: sub.items.data.first().and_then(|i| i.quantity),
        })
    }

    /// Changes how many of the price a subscription bills (its one item).
    pub async fn change_quantity(
        &self,
        subscription: &str,
        item: &str,
        quantity: u64,
        proration: Proration,
    ) -> Result<Subscription, StripeError> {
        let mut line = UpdateSubscriptionItems::new();
        line.id = Some(item.to_owned());
        line.quantity = Some(quantity);
        let behavior = match proration {
            Proration::InvoiceNow => UpdateSubscriptionProrationBehavior::AlwaysInvoice,
            Proration::FromNextPeriod => UpdateSubscriptionProrationBehavior::None,
        };
        UpdateSubscription::new(subscription)
            .items(vec![line])
            .proration_behavior(behavior)
            .send(self.client()?)
            .await?;
        self.subscription(subscription).await
    }

    /// Cancels a subscription now; already cancelled (gone) counts as done.
    pub async fn cancel_subscription(&self, id: &str) -> Result<(), StripeError> {
        match CancelSubscription::new(id).send(self.client()?).await.map_err(StripeError::from) {
            Ok(_) | Err(StripeError::Refused { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The subscription whose invoice the payment intent `pi` paid, if any
    /// (a subscription's charge names neither; its invoice payment does).
    pub async fn subscription_paid_by(&self, pi: &str) -> Result<Option<String>, StripeError> {
        let client = self.client()?;
        let mut payment = ListInvoicePaymentPayment::new(ListInvoicePaymentPaymentType::PaymentIntent);
        payment.payment_intent = Some(pi.to_owned());
        let found = ListInvoicePayment::new().payment(payment).send(client).await?;
        let Some(invoice) =
            found.data.into_iter().next().and_then(|p| p.invoice.id().as_ref().map(|id| id.to_string()))
        else {
            return Ok(None);
        };
        let invoice = RetrieveInvoice::new(invoice).send(client).await?;
        Ok(invoice.parent.and_then(|p| p.subscription_details).map(|d| d.subscription.id().to_string()))
    }

    /// The payment intent that paid an invoice, if one did (a trial's or a
    /// failed invoice has none).
    pub async fn invoice_paid_with(&self, invoice: &str) -> Result<Option<String>, StripeError> {
        let invoice = RetrieveInvoice::new(invoice).expand(vec!["payments".to_owned()]).send(self.client()?).await?;
        let paid =
            invoice.payments.map(|p| p.data).unwrap_or_default().into_iter().find_map(|p| p.payment.payment_intent);
        Ok(paid.map(|pi| pi.id().as_str().to_owned()))
    }

    /// A customer's charges (the latest hundred).
    pub async fn charges_of_customer(&self, customer: &str) -> Result<Vec<Charge>, StripeError> {
        let all = ListCharge::new().customer(customer).limit(100).send(self.client()?).await?;
        Ok(all.data.into_iter().map(Charge::from).collect())
    }

    /// The charges of one payment intent.
    pub async fn charges_of_payment(&self, payment_intent: &str) -> Result<Vec<Charge>, StripeError> {
        let all = ListCharge::new().payment_intent(payment_intent).send(self.client()?).await?;
        Ok(all.data.into_iter().map(Charge::from).collect())
    }

    pub async fn charge(&self, id: &str) -> Result<Charge, StripeError> {
        Ok(RetrieveCharge::new(id).send(self.client()?).await?.into())
    }

    /// Refunds `amount` (minor units; all that is left when `None`) of a
    /// payment, as requested by the customer.
    pub async fn refund(&self, payment_intent: &str, amount: Option<i64>) -> Result<Refund, StripeError> {
        let mut request =
            CreateRefund::new().payment_intent(payment_intent).reason(CreateRefundReason::RequestedByCustomer);
        if let Some(a) = amount {
            request = request.amount(a);
        }
        let refund = request.send(self.client()?).await?;
        Ok(Refund {
            amount: refund.amount,
            currency: refund.currency.to_string(),
            charge: refund.charge.as_ref().map(|c| c.id().to_string()),
        })
    }

    /// A billing portal session for a customer (update card, cancel,
    /// invoices): the URL to send them to.
    pub async fn billing_portal(&self, customer: &str, return_url: &str) -> Result<String, StripeError> {
        let session =
            CreateBillingPortalSession::new().customer(customer).return_url(return_url).send(self.client()?).await?;
        Ok(session.url)
    }
}
