//! From a paid Checkout Session to access on GitHub. Called when the buyer
//! returns to the success page (asking Stripe for the session, as Stripe
//! recommends, in case the webhook is late) and by the webhook worker: both
//! paths run this same code, and each step is a conditional status change,
//! so running it twice does nothing twice.

use crate::{
    access, clock,
    domain::{Action, PurchaseStatus as Status, Reason},
    ledger,
    purchase_state::{transition, Cause, Change, Value},
    purchases::{self, Lookup, Purchase},
    stripe::{Charge, Session, SessionPayment, SessionState, SubscriptionState},
    AppState, Error, Result,
};

/// The purchase a Checkout Session belongs to.
async fn purchase_for(state: &AppState, session: &Session) -> Result<Purchase> {
    if let Some(p) = purchases::find(&state.db, Lookup::CheckoutSession(&session.id)).await? {
        return Ok(p);
    }
    // The process may have died before it recorded the session's id: the
    // metadata names the purchase by its random public id (never by the
    // sequential id, which another product on the same account could carry).
    let public_id = session.purchase_public_id.as_deref().ok_or(Error::NotFound)?;
    purchases::find(&state.db, Lookup::PublicId(public_id)).await?.ok_or(Error::NotFound)
}

/// Asks Stripe for the session (the buyer's return may beat the webhook).
pub async fn retrieve_session(state: &AppState, session_id: &str) -> Result<Session> {
    if !session_id.starts_with("cs_") || session_id.len() > 200 {
        return Err(Error::NotFound);
    }
    state.stripe.session(session_id).await?.ok_or(Error::NotFound)
}

/// Applies what the session says: paid → record the payment and invite;
/// expired → close the purchase; still unpaid → nothing yet.
pub async fn complete_checkout(state: &AppState, session: &Session, cause: &Cause) -> Result<Purchase> {
    let mut purchase = purchase_for(state, session).await?;
    if purchase.status == Status::Pending {
        if session.is_paid() {
            let set = [
                ("stripe_customer_id", Value::Text(session.customer.clone())),
                ("stripe_subscription_id", Value::Text(session.subscription.clone())),
                ("stripe_payment_intent_id", Value::Text(session.payment_intent.clone())),
                ("amount", Value::Int(Some(session.amount_total.unwrap_or(purchase.amount)))),
                ("paid_at", Value::Int(Some(clock::now()))),
                // A period of access starts with the payment.
                (
                    "access_until",
                    Value::Int(
                        crate::access_periods::end_from(state, &purchase, crate::dated_clock::now(state).await?)
                            .await?,
                    ),
                ),
            ];
            let detail = match session.payment {
                SessionPayment::NoPaymentRequired => "trial started: nothing charged yet",
                _ => "payment confirmed",
            };
            let change = Change::new(Status::Pending, Status::Paid, Action::Paid).detail(detail).set_all(set);
            transition(&state.db, purchase.id, change, cause).await?;
            // As it is now (this, or a concurrent return from Stripe, paid it).
            purchase = purchases::get(&state.db, purchase.id).await?;
            // Keyed as its invoice.paid event will be (subscriptions), so it counts once.
            let reference = session.invoice.clone().or_else(|| session.payment_intent.clone());
            let currency = session.currency.clone().unwrap_or_else(|| purchase.currency.clone());
            ledger::received(
                state.db.pool(),
                purchase.id,
                &reference.unwrap_or_else(|| session.id.clone()),
                ledger::Kind::Payment,
                session.amount_total.unwrap_or(0),
                &currency,
            )
            .await?;
        } else if session.state == SessionState::Expired {
            let change = Change::new(Status::Pending, Status::Expired, Action::CheckoutExpired)
                .detail("the buyer did not complete the checkout");
            transition(&state.db, purchase.id, change, cause).await?;
            return purchases::get(&state.db, purchase.id).await;
        }
    }
    if purchase.status == Status::Paid {
        // Boxed: a large future (several Stripe calls), kept off the caller's stack.
        if let Some((reason, message)) = Box::pin(taken_back(state, &purchase)).await? {
            return access::revoke(state, purchase.id, reason, message, cause).await;
        }
        return access::grant_read(state, purchase, cause).await;
    }
    Ok(purchase)
}

/// Events arrive in any order: a refund or a dispute can be processed
/// before the checkout it belongs to, when the purchase could not yet be
/// matched to it. So before the first grant the payments are read back
/// from Stripe: a subscription already ended, a dispute on any of its
/// charges, or a full refund (one-time) means no access; refunds are put
/// in the ledger either way.
async fn taken_back(state: &AppState, p: &Purchase) -> Result<Option<(Reason, &'static str)>> {
    let (charges, ended): (Vec<Charge>, bool) = match &p.stripe_subscription_id {
        Some(sub) => {
            let ended = state.stripe.subscription(sub).await?.state == SubscriptionState::Ended;
            // Renewals may already have been charged: every charge of the
            // customer that was disputed or refunded, if it paid this subscription.
            let mut charges = Vec::new();
            if let Some(customer) = &p.stripe_customer_id {
                let all = state.stripe.charges_of_customer(customer).await?;
                for charge in all.into_iter().filter(|c| c.paid && (c.disputed || c.amount_refunded > 0)) {
                    let Some(pi) = &charge.payment_intent else { continue };
                    if state.stripe.subscription_paid_by(pi).await?.as_deref() == Some(sub.as_str()) {
                        charges.push(charge);
                    }
                }
            }
            (charges, ended)
        }
        None => {
            // Nothing was charged, so nothing can have been taken back.
            let Some(intent) = &p.stripe_payment_intent_id else { return Ok(None) };
            let all = state.stripe.charges_of_payment(intent).await?;
            (all.into_iter().filter(|c| c.paid).take(1).collect(), false)
        }
    };
    for charge in charges.iter().filter(|c| c.amount_refunded > 0) {
        ledger::refunded(&state.db, p.id, &charge.id, charge.amount_refunded, &charge.currency).await?;
    }
    Ok(if ended {
        Some((Reason::SubscriptionEnded, "subscription ended"))
    } else if charges.iter().any(|c| c.disputed) {
        Some((Reason::Disputed, "disputed"))
    } else if p.stripe_subscription_id.is_none() && charges.iter().any(Charge::fully_refunded) {
        Some((Reason::Refunded, "refunded"))
    } else {
        None
    })
}

/// Where a checkout stands for the buyer back from Stripe (the success page).
#[derive(Debug, Clone)]
pub struct Progress {
    pub purchase: Purchase,
    pub product: crate::products::Product,
    /// Each repository of the product, with where its access stands.
    pub repositories: Vec<crate::grants::RepoGrant>,
    pub price: crate::prices::Price,
    /// Why it stopped, when it did.
    pub problem: Option<String>,
    /// Checkout is complete but the money is still on its way (a bank
    /// debit): days, not seconds, and an email follows.
    pub payment_on_its_way: bool,
}

impl Progress {
    pub fn paid(&self) -> bool {
        self.purchase.status.is_granted()
    }
    pub fn invited(&self) -> bool {
        self.purchase.status.gives_access()
    }
    pub fn active(&self) -> bool {
        self.purchase.status == Status::Active
    }
    /// The first step in words: a trial starts without a payment.
    pub fn paid_words(&self) -> &'static str {
        if self.payment_on_its_way {
            "Bank payment started — it can take a few business days to arrive"
        } else if crate::prices::in_trial(self.purchase.amount, self.price.trial_days) {
            "Trial started — nothing is charged until it ends"
        } else {
            "Payment confirmed"
        }
    }

    /// Nothing changes from here without the buyer doing something. (An
    /// invitation is followed until it is accepted: the buyer accepts it in
    /// another tab, and this page turns to "Access active" by itself.)
    pub fn settled(&self) -> bool {
        self.problem.is_some()
            || self.payment_on_its_way
            || matches!(self.purchase.status, Status::Active | Status::Revoked | Status::Expired)
    }
    pub fn heading(&self) -> &'static str {
        match self.purchase.status {
            Status::Expired => "This checkout was not completed",
            Status::Revoked => "This purchase no longer gives access",
            Status::Pending if self.payment_on_its_way => "Thank you! Your payment is on its way",
            Status::Pending => "Confirming your payment…",
            Status::Paid | Status::Invited | Status::Active => "Thank you!",
        }
    }
}

/// The purchase opened with `session_id`, brought up to date: while it
/// waits for its payment or invitation, Stripe is asked (as it recommends,
/// in case the webhook is late) and what it says is applied.
pub async fn progress(state: &AppState, session_id: &str) -> Result<Progress> {
    let cause = Cause::CheckoutReturn(session_id.to_owned());
    let mut purchase = purchases::find(&state.db, Lookup::CheckoutSession(session_id)).await?.ok_or(Error::NotFound)?;
    let mut problem = None;
    let mut payment_on_its_way = false;
    if matches!(purchase.status, Status::Pending | Status::Paid) {
        let fulfilled = match retrieve_session(state, session_id).await {
            Ok(session) => {
                payment_on_its_way =
                    session.state == SessionState::Complete && session.payment == SessionPayment::Unpaid;
                complete_checkout(state, &session, &cause).await
            }
            Err(e) => Err(e),
        };
        match fulfilled {
            Ok(p) => purchase = p,
            Err(Error::Invalid { message, .. } | Error::Unavailable(message)) => problem = Some(message),
            Err(e) => {
                tracing::warn!(error = %e, purchase_id = purchase.id.get(), "fulfilment on return failed; the webhook will retry");
                purchase = purchases::get(&state.db, purchase.id).await?;
            }
        }
    }
    let product = crate::products::get(&state.db, purchase.product_id).await?;
    let price = crate::prices::get(&state.db, purchase.price_id).await?;
    if matches!(purchase.status, Status::Revoked | Status::Expired) {
        problem = purchase.status_reason.clone().or(problem);
    }
    // Only while it still waits for the money.
    let payment_on_its_way = payment_on_its_way && purchase.status == Status::Pending;
    let held = crate::grants::of_purchase(&state.db, purchase.id).await?;
    let repositories = crate::grants::RepoGrant::list(&product, &held);
    Ok(Progress { purchase, product, repositories, price, problem, payment_on_its_way })
}
