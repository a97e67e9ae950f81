//! Checkout Sessions: opening one for a purchase, and reading one back.

use std::collections::HashMap;

use stripe_checkout::{
    checkout_session::{
        CreateCheckoutSession, CreateCheckoutSessionAutomaticTax, CreateCheckoutSessionCustomerCreation,
        CreateCheckoutSessionCustomerUpdate, CreateCheckoutSessionCustomerUpdateAddress,
        CreateCheckoutSessionCustomerUpdateName, CreateCheckoutSessionLineItems,
        CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionSubscriptionData,
        CreateCheckoutSessionTaxIdCollection, RetrieveCheckoutSession,
    },
    CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus, CheckoutSessionStatus,
};

use super::{Stripe, StripeError};

/// A Checkout Session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub stripe_price_id: &'a str,
    /// How many of the price (seats); 1 for a purchase of one.
    pub quantity: u64,
    /// On the session and on the subscription or payment it creates, so
    /// later events (renewals, refunds) find the purchase by it.
    pub metadata: HashMap<String, String>,
    pub client_reference_id: String,
    pub customer_email: &'a str,
    /// A Customer the buyer already is (a team adding seats): Checkout
    /// fills in their details, and the payment joins their history.
    pub customer: Option<&'a str>,
    pub success_url: String,
    pub cancel_url: String,
    /// A subscription (with its trial days) or a one-time payment.
    pub subscription: Option<u32>,
    /// Stripe Tax calculates tax from the buyer's address (which Checkout
    /// then asks for) and collects business tax IDs.
    pub automatic_tax: bool,
}

/// A Checkout Session as Stripe has it now.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub state: SessionState,
    pub payment: SessionPayment,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub payment_intent: Option<String>,
    /// The first invoice (subscriptions).
    pub invoice: Option<String>,
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    /// RepoPass's random public id of the purchase, from the metadata.
    pub purchase_public_id: Option<String>,
    /// Seats added to a team purchase: what this session pays for instead
    /// of a purchase of its own.
    pub seats_order: Option<SeatsOrder>,
}

/// Seats added to a team purchase of a one-time price, paid through a
/// Checkout Session of their own: carried in its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsOrder {
    /// The team purchase's random public id.
    pub team: String,
    /// How many seats the payment adds.
    pub seats: i64,
}

impl SeatsOrder {
    const TEAM: &'static str = "seats_for";
    const SEATS: &'static str = "seats_added";

    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([(Self::TEAM.to_owned(), self.team.clone()), (Self::SEATS.to_owned(), self.seats.to_string())])
    }

    fn from_metadata(metadata: &HashMap<String, String>) -> Option<Self> {
        let team = metadata.get(Self::TEAM)?.clone();
        let seats = metadata.get(Self::SEATS)?.parse().ok().filter(|n: &i64| *n >= 1)?;
        Some(SeatsOrder { team, seats })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Open,
    Complete,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionPayment {
    Paid,
    /// Nothing to pay now (a trial).
    NoPaymentRequired,
    Unpaid,
}

impl Session {
    /// Paid for (or nothing was due) and complete: the purchase is paid.
    pub fn is_paid(&self) -> bool {
        self.state == SessionState::Complete && self.payment != SessionPayment::Unpaid
    }
}

impl From<CheckoutSession> for Session {
    fn from(s: CheckoutSession) -> Self {
        Session {
            state: match s.status {
                Some(CheckoutSessionStatus::Complete) => SessionState::Complete,
                Some(CheckoutSessionStatus::Expired) => SessionState::Expired,
                _ => SessionState::Open,
            },
            payment: match s.payment_status {
                CheckoutSessionPaymentStatus::Paid => SessionPayment::Paid,
                CheckoutSessionPaymentStatus::NoPaymentRequired => SessionPayment::NoPaymentRequired,
                _ => SessionPayment::Unpaid,
            },
            customer: s.customer.as_ref().map(|c| c.id().as_str().to_owned()),
            subscription: s.subscription.as_ref().map(|x| x.id().as_str().to_owned()),
            payment_intent: s.payment_intent.as_ref().map(|p| p.id().as_str().to_owned()),
            invoice: s.invoice.as_ref().and_then(|i| i.id().as_ref().map(|id| id.as_str().to_owned())),
            amount_total: s.amount_total,
            currency: s.currency.as_ref().map(|c| c.to_string()),
            purchase_public_id: s.metadata.as_ref().and_then(|m| m.get("purchase_public_id")).cloned(),
            seats_order: s.metadata.as_ref().and_then(SeatsOrder::from_metadata),
            id: s.id.as_str().to_owned(),
        }
    }
}

impl Stripe {
    /// Opens a Checkout Session: its id and the URL to send the buyer to.
    pub async fn create_session(&self, new: NewSession<'_>) -> Result<(String, String), StripeError> {
        let line = CreateCheckoutSessionLineItems {
            price: Some(new.stripe_price_id.to_owned()),
            quantity: Some(new.quantity.max(1)),
            ..Default::default()
        };
        let mut create = CreateCheckoutSession::new()
            .line_items(vec![line])
            .client_reference_id(new.client_reference_id)
            .metadata(new.metadata.clone())
            .allow_promotion_codes(true)
            .success_url(new.success_url)
            .cancel_url(new.cancel_url);
        // Stripe takes one or the other.
        create = match new.customer {
            Some(customer) => create.customer(customer),
            None => create.customer_email(new.customer_email),
        };
        if new.automatic_tax {
            create = create
                .automatic_tax(CreateCheckoutSessionAutomaticTax::new(true))
                .tax_id_collection(CreateCheckoutSessionTaxIdCollection::new(true));
            if new.customer.is_some() {
                // Stripe Tax with a Customer of before: Checkout must be
                // allowed to keep the address and name (tax ID) it asks for.
                let mut update = CreateCheckoutSessionCustomerUpdate::new();
                update.address = Some(CreateCheckoutSessionCustomerUpdateAddress::Auto);
                update.name = Some(CreateCheckoutSessionCustomerUpdateName::Auto);
                create = create.customer_update(update);
            } else if new.subscription.is_none() {
                // A tax ID is kept on a Customer: make one for a payment too.
                create = create.customer_creation(CreateCheckoutSessionCustomerCreation::Always);
            }
        }
        match new.subscription {
            Some(trial_days) => {
                let mut data = CreateCheckoutSessionSubscriptionData::new();
                data.metadata = Some(new.metadata);
                if trial_days > 0 {
                    data.trial_period_days = Some(trial_days);
                }
                create = create.mode(CheckoutSessionMode::Subscription).subscription_data(data);
            }
            None => {
                let mut data = CreateCheckoutSessionPaymentIntentData::new();
                data.metadata = Some(new.metadata);
                create = create.mode(CheckoutSessionMode::Payment).payment_intent_data(data);
            }
        }
        let session = create.send(self.client()?).await?;
        let url = session.url.clone().ok_or_else(|| StripeError::Refused {
            status: 502,
            message: "Stripe returned a session without a URL".into(),
        })?;
        Ok((session.id.as_str().to_owned(), url))
    }

    /// The session as it is now; `None` if Stripe has no such session.
    pub async fn session(&self, id: &str) -> Result<Option<Session>, StripeError> {
        match RetrieveCheckoutSession::new(id).send(self.client()?).await.map_err(StripeError::from) {
            Ok(session) => Ok(Some(session.into())),
            Err(StripeError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
