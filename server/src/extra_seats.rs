//! Seats added to a team purchase of a one-time price. A subscription's
//! quantity changes in place (`seats::change`); a one-time purchase has
//! nothing to change, so the added seats are a payment of their own: a
//! Checkout Session for that many of the price, applied once when Stripe
//! says it is paid (webhook or the manager's return, whichever is first),
//! and taken off again if that payment is refunded in full or disputed —
//! without removing anyone: the managers are asked whom to drop.

use crate::{
    clock,
    domain::{Action, Interval, PriceId, PurchaseId},
    ledger,
    prices::{self, Price},
    purchase_state::{self, Cause},
    purchases::{self, Lookup, Purchase},
    stripe::{NewSession, SeatsOrder, Session},
    AppState, Db, Error, Result,
};

/// The price added seats are sold at: the team's own while it is on sale,
/// else the one that replaced it (a new amount), if that is still a
/// one-time price sold per seat.
async fn price_on_sale(db: &Db, bought: PriceId) -> Result<Price> {
    let mut price = prices::get(db, bought).await?;
    for _ in 0..20 {
        if price.active {
            break;
        }
        let Some(next) = price.replaced_by else { break };
        price = prices::get(db, PriceId(next)).await?;
    }
    let sold_per_seat = price.interval() == Interval::OneTime && price.seats_min.is_some();
    if !price.active || !sold_per_seat || price.stripe_price_id.is_none() {
        return Err(Error::invalid(
            "seats",
            "the price this team bought is no longer sold, so seats cannot be added here; ask the creator",
        ));
    }
    Ok(price)
}

/// Opens a Checkout Session for `wanted - seats` more seats of `company`
/// (a team purchase of a one-time price): the URL to send the manager to.
pub async fn order(state: &AppState, company: &Purchase, wanted: i64) -> Result<String> {
    let seats = company.seats.unwrap_or(1);
    if wanted < seats {
        return Err(Error::invalid(
            "seats",
            format!(
                "a one-time purchase keeps the {seats} seats it paid for (nothing is refunded): take seats back to free them"
            ),
        ));
    }
    let price = price_on_sale(&state.db, company.price_id).await?;
    let stripe_price = price.stripe_price_id.clone().unwrap_or_default();
    let order = SeatsOrder { team: company.public_id.clone(), seats: wanted - seats };
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let session = NewSession {
        stripe_price_id: &stripe_price,
        quantity: order.seats as u64,
        metadata: order.metadata(),
        client_reference_id: company.public_id.clone(),
        customer_email: &company.email,
        customer: company.stripe_customer_id.as_deref(),
        success_url: format!("{base}/account?seats_paid={{CHECKOUT_SESSION_ID}}"),
        cancel_url: format!("{base}/account"),
        subscription: None,
        automatic_tax: crate::preferences::is_on(&state.db, crate::preferences::Preference::StripeTax).await?,
    };
    let (_, url) = state.stripe.create_session(session).await?;
    tracing::info!(purchase_id = company.id.get(), seats = order.seats, "checkout opened for added seats");
    Ok(url)
}

/// The team purchase a seats order names.
async fn team_of(db: &Db, order: &SeatsOrder) -> Result<Purchase> {
    let company = purchases::find(db, Lookup::PublicId(&order.team)).await?.ok_or(Error::NotFound)?;
    if company.seats.is_none() {
        return Err(Error::NotFound);
    }
    Ok(company)
}

/// What a seats order's session came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The team has `seats` now (this call or an earlier one added them).
    Added { seats: i64 },
    /// Not paid (yet): nothing changed.
    NotPaid,
}

/// Applies a paid seats order once, however often Stripe reports it: the
/// seats, the ledger's payment and the access-log entry in one
/// transaction. A payment already refunded or disputed (its events can
/// come first) takes the seats off again at once.
pub async fn paid(state: &AppState, session: &Session, cause: &Cause) -> Result<(Purchase, Applied)> {
    let order = session.seats_order.as_ref().ok_or(Error::NotFound)?;
    let company = team_of(&state.db, order).await?;
    if !session.is_paid() {
        return Ok((company, Applied::NotPaid));
    }
    let amount = session.amount_total.unwrap_or(0);
    let currency = session.currency.clone().unwrap_or_else(|| company.currency.clone());
    let mut tx = state.db.pool().begin().await?;
    let stored = sqlx::query(
        "INSERT INTO extra_seats (purchase_id, stripe_checkout_session_id, stripe_payment_intent_id, seats, amount, currency, paid_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stripe_checkout_session_id) DO NOTHING",
    )
    .bind(company.id)
    .bind(&session.id)
    .bind(&session.payment_intent)
    .bind(order.seats)
    .bind(amount)
    .bind(&currency)
    .bind(clock::now())
    .execute(&mut *tx)
    .await?;
    if stored.rows_affected() == 1 {
        let now: i64 = sqlx::query_scalar(
            "UPDATE purchases SET seats = seats + $2, updated_at = $3 WHERE id = $1 RETURNING seats",
        )
        .bind(company.id)
        .bind(order.seats)
        .bind(clock::now())
        .fetch_one(&mut *tx)
        .await?;
        let reference = session.payment_intent.clone().unwrap_or_else(|| session.id.clone());
        ledger::received(&mut *tx, company.id, &reference, ledger::Kind::Payment, amount, &currency).await?;
        let detail = format!(
            "{} → {now} seats: {} added, paid once ({})",
            now - order.seats,
            order.seats,
            money::format_amount(amount, &currency)
        );
        let entry = purchase_state::Entry {
            purchase_id: company.id,
            repository: None,
            from: Some(company.status),
            to: company.status,
            action: Action::SeatsChanged,
            detail: Some(&detail),
            cause,
        };
        entry.write(&mut tx, &[]).await?;
        tx.commit().await?;
        tracing::info!(purchase_id = company.id.get(), seats = now, "added seats paid");
        if let Some(intent) = &session.payment_intent {
            // Refunded or disputed before we heard of the payment.
            for charge in state.stripe.charges_of_payment(intent).await?.into_iter().filter(|c| c.paid) {
                if charge.amount_refunded > 0 {
                    ledger::refunded(&state.db, company.id, &charge.id, charge.amount_refunded, &charge.currency)
                        .await?;
                }
                if charge.disputed || charge.fully_refunded() {
                    let why = if charge.disputed { Returned::Disputed } else { Returned::Refunded };
                    returned(state, intent, why, cause).await?;
                }
            }
        }
    } else {
        drop(tx);
    }
    let company = purchases::get(&state.db, company.id).await?;
    let seats = company.seats.unwrap_or(1);
    Ok((company, Applied::Added { seats }))
}

/// The manager back from Stripe Checkout: Stripe is asked for the session
/// (the webhook may be late, as Stripe warns) and what it says applied.
/// `NotFound` unless `who` manages the team it is for.
pub async fn paid_on_return(
    state: &AppState,
    who: &crate::session_user::Customer,
    session_id: &str,
) -> Result<Applied> {
    let session = crate::fulfilment::retrieve_session(state, session_id).await?;
    let order = session.seats_order.as_ref().ok_or(Error::NotFound)?;
    // Only the team's managers learn anything about it.
    crate::seats::managed(&state.db, who, &order.team).await?;
    let cause = Cause::CheckoutReturn(session_id.to_owned());
    Ok(paid(state, &session, &cause).await?.1)
}

/// Why added seats were taken off again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Refunded,
    Disputed,
}

/// The team purchase whose added seats `payment_intent` paid for.
pub async fn team_paid_by(db: &Db, payment_intent: &str) -> Result<Option<Purchase>> {
    let id: Option<PurchaseId> =
        sqlx::query_scalar("SELECT purchase_id FROM extra_seats WHERE stripe_payment_intent_id = $1")
            .bind(payment_intent)
            .fetch_optional(db.pool())
            .await?;
    match id {
        Some(id) => Ok(Some(purchases::get(db, id).await?)),
        None => Ok(None),
    }
}

/// The payment for added seats was refunded in full or disputed: those
/// seats go, once. If more people then hold seats than there are, the
/// managers are asked whom to take back; nobody is removed for them.
pub async fn returned(state: &AppState, payment_intent: &str, why: Returned, cause: &Cause) -> Result<()> {
    let row: Option<(i64, PurchaseId, i64)> = sqlx::query_as(
        "SELECT id, purchase_id, seats FROM extra_seats WHERE stripe_payment_intent_id = $1 AND returned_at IS NULL",
    )
    .bind(payment_intent)
    .fetch_optional(state.db.pool())
    .await?;
    let Some((id, company_id, added)) = row else { return Ok(()) };
    let company = purchases::get(&state.db, company_id).await?;
    let mut tx = state.db.pool().begin().await?;
    let taken = sqlx::query("UPDATE extra_seats SET returned_at = $2 WHERE id = $1 AND returned_at IS NULL")
        .bind(id)
        .bind(clock::now())
        .execute(&mut *tx)
        .await?;
    if taken.rows_affected() == 0 {
        return Ok(());
    }
    let now: i64 = sqlx::query_scalar(
        "UPDATE purchases SET seats = CASE WHEN seats - $2 < 1 THEN 1 ELSE seats - $2 END, updated_at = $3 WHERE id = $1 RETURNING seats",
    )
    .bind(company.id)
    .bind(added)
    .bind(clock::now())
    .fetch_one(&mut *tx)
    .await?;
    let what = match why {
        Returned::Refunded => "refunded",
        Returned::Disputed => "disputed",
    };
    let detail = format!("{} → {now} seats: the payment for {added} added seats was {what}", now + added);
    let entry = purchase_state::Entry {
        purchase_id: company.id,
        repository: None,
        from: Some(company.status),
        to: company.status,
        action: Action::SeatsChanged,
        detail: Some(&detail),
        cause,
    };
    entry.write(&mut tx, &[]).await?;
    tx.commit().await?;
    let held = crate::teams::holders(&state.db, company.id).await?;
    if held.len() as i64 > now {
        let company = purchases::get(&state.db, company.id).await?;
        let why = format!("lost {added} seats (their payment was {what}) and now has {now}");
        crate::seats::ask_whom_to_remove(state, &company, now, &held, &why, cause).await?;
    }
    Ok(())
}
