//! The buy form's work: check the buyer's input, record a pending purchase
//! and open a Stripe Checkout Session for it.

use std::collections::HashMap;

use rand::{distr::Alphanumeric, Rng};

use crate::{
    clock,
    domain::{Action, GithubUserId, PriceId, ProductStatus, PurchaseId, PurchaseStatus as Status},
    github_accounts,
    prices::{self, Price},
    products::{self, Product},
    purchase_state::{self, transition, Cause, Change},
    stripe::NewSession,
    AppState, Error, Result,
};

/// What the buy form sends.
#[derive(Debug, Clone)]
pub struct Request {
    pub price_id: PriceId,
    pub github_username: String,
    pub email: String,
    /// The GitHub account the requester proved at `/account`, if any: only
    /// they are told that it already has access.
    pub proven_github_user_id: Option<GithubUserId>,
    /// A price sold per seat: how many seats (required there, refused
    /// elsewhere), and whether the buyer's own account takes one.
    pub seats: Option<i64>,
    pub take_seat: bool,
}

/// A checkout under way: where to send the buyer.
#[derive(Debug, Clone)]
pub struct Started {
    pub purchase_id: PurchaseId,
    pub checkout_url: String,
}

/// The price, if it can be bought now.
pub async fn price_on_sale(state: &AppState, price_id: PriceId) -> Result<(Price, Product)> {
    let gone = || Error::invalid("price_id", "this price is no longer on sale; reload the page and choose another");
    let price = match prices::get(&state.db, price_id).await {
        Ok(p) => p,
        Err(Error::NotFound) => return Err(gone()),
        Err(e) => return Err(e),
    };
    if !price.active {
        return Err(gone());
    }
    let product = products::get(&state.db, price.product_id).await?;
    if product.status != ProductStatus::Published || !product.reachable() || product.repositories.is_empty() {
        return Err(Error::invalid("price_id", "this product is not on sale right now"));
    }
    Ok((price, product))
}

pub fn check_email(email: &str) -> Result<String> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Error::invalid("email", "enter your email: the receipt and access links go there"));
    }
    match crate::domain::Email::parse(email) {
        Some(email) => Ok(email.into_string()),
        None => Err(Error::invalid("email", format!("'{email}' does not look like an email address; check it"))),
    }
}

/// Refuses a second purchase for an account that already has access (asked
/// only for the account's proven owner: see `duplicate_purchases`).
async fn not_already_granted(
    state: &AppState,
    product: &Product,
    price: crate::domain::PriceId,
    github_user_id: GithubUserId,
    login: &str,
) -> Result<()> {
    let existing = crate::purchases::holding(&state.db, product.id, github_user_id).await?;
    if let Some((id, _)) = existing.first() {
        // Another period of access, bought before this one ends, extends it.
        let earlier = crate::purchases::get(&state.db, *id).await?;
        if crate::renewals::renews(state, &earlier, price).await? {
            return Ok(());
        }
    }
    let web = state.config.github.web_url.as_str().trim_end_matches('/');
    let links: Vec<String> = product.full_names().iter().map(|n| format!("{web}/{n}/invitations")).collect();
    match existing.first().map(|(_, status)| *status) {
        None => Ok(()),
        Some(Status::Invited) => Err(Error::invalid(
            "github_username",
            format!("@{login} already bought access and has an invitation waiting: accept it on GitHub ({}) instead of paying again", links.join(", ")),
        )),
        Some(_) => Err(Error::invalid("github_username", format!("@{login} already has access to {}; there is no need to pay again", product.title))),
    }
}

/// The seats asked for, if the price is sold per seat (then they must lie
/// in its range); a price of one refuses a number of seats.
fn check_seats(price: &Price, seats: Option<i64>) -> Result<Option<i64>> {
    match (price.seats(), seats) {
        (None, None | Some(1)) => Ok(None),
        (None, Some(_)) => {
            Err(Error::invalid("seats", "this price is for one person; choose a per-seat price for a team"))
        }
        (Some(range), None) => {
            Err(Error::invalid("seats", format!("choose how many seats: {} to {}", range.start(), range.end())))
        }
        (Some(range), Some(n)) if !range.contains(&n) => Err(Error::invalid(
            "seats",
            format!("choose {} to {} seats (you asked for {n})", range.start(), range.end()),
        )),
        (Some(_), Some(n)) => Ok(Some(n)),
    }
}

/// A field's refusal is collected; any other error stops at once.
fn keep<T>(refused: &mut Vec<(&'static str, String)>, result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Invalid { field, message }) => {
            refused.push((field, message));
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// Checks everything, then records the purchase and opens the checkout.
/// Refused input creates neither a purchase nor a Stripe session.
pub async fn start(state: &AppState, request: &Request) -> Result<Started> {
    // Every field is checked, so the buyer sees every problem at once.
    let mut refused: Vec<(&'static str, String)> = Vec::new();
    let sale = keep(&mut refused, price_on_sale(state, request.price_id).await)?;
    let email = keep(&mut refused, check_email(&request.email))?;
    let account = match &sale {
        Some((_, product)) => {
            keep(&mut refused, github_accounts::check(state, product.lookup_owner(), &request.github_username).await)?
        }
        None => None,
    };
    let seats = match &sale {
        Some((price, _)) => keep(&mut refused, check_seats(price, request.seats))?,
        None => None,
    };
    let (Some((price, product)), Some(email), Some(account), true) = (sale, email, account, refused.is_empty()) else {
        return Err(match refused.len() {
            1 => {
                let (field, message) = refused.remove(0);
                Error::Invalid { field, message }
            }
            _ => Error::InvalidFields(refused),
        });
    };
    let seats = seats.flatten();
    if request.proven_github_user_id == Some(account.id) && seats.is_none() {
        not_already_granted(state, &product, price.id, account.id, &account.login).await?;
    }

    let now = clock::now();
    let public_id: String = rand::rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    let purchase_id: PurchaseId = sqlx::query_scalar(
        "INSERT INTO purchases (public_id, product_id, price_id, github_user_id, github_login, email, status, amount, currency, created_at, updated_at, seats)
         VALUES ($1, $2, $3, $4, $5, $6, $10, $7, $8, $9, $9, $11) RETURNING id",
    )
    .bind(&public_id)
    .bind(product.id)
    .bind(price.id)
    .bind(account.id)
    .bind(&account.login)
    .bind(&email)
    .bind(price.amount)
    .bind(&price.currency)
    .bind(now)
    .bind(Status::Pending)
    .bind(seats)
    .fetch_one(state.db.pool())
    .await?;
    let detail = match seats {
        Some(n) => format!("{} for a team of {n} seats, managed by @{}", price.interval().words(), account.login),
        None => format!("{} for @{}", price.interval().words(), account.login),
    };
    let cause = Cause::Customer(format!("@{} (GitHub id {})", account.login, account.id));
    let entry = purchase_state::Entry {
        purchase_id,
        repository: None,
        from: None,
        to: Status::Pending,
        action: Action::CheckoutStarted,
        detail: Some(&detail),
        cause: &cause,
    };
    let logged = async {
        let mut tx = state.db.pool().begin().await?;
        entry.write(&mut tx, &[]).await?;
        tx.commit().await?;
        Ok::<_, crate::Error>(())
    }
    .await;
    if let Err(e) = logged {
        tracing::warn!(error = %e, purchase_id = purchase_id.get(), "checkout start not logged");
    }
    if seats.is_some() {
        // The buyer manages the seats; their own account holds one only if they chose so.
        crate::teams::add_manager(&state.db, purchase_id, &account, None).await?;
        if request.take_seat {
            let company = crate::purchases::get(&state.db, purchase_id).await?;
            crate::teams::new_seat(&state.db, &company, &account, Status::Pending, &cause).await?;
        }
    }

    match create_session(state, &product, &price, purchase_id, &public_id, &account, &email, seats).await {
        Ok((session_id, url)) => {
            sqlx::query("UPDATE purchases SET stripe_checkout_session_id = $2, updated_at = $3 WHERE id = $1")
                .bind(purchase_id)
                .bind(&session_id)
                .bind(clock::now())
                .execute(state.db.pool())
                .await?;
            tracing::info!(purchase_id = purchase_id.get(), product_id = %product.id, "checkout started");
            Ok(Started { purchase_id, checkout_url: url })
        }
        Err(e) => {
            // The purchase stays, closed, with the reason: nothing is lost.
            let detail = format!("checkout could not start: {e}");
            let change = Change::new(Status::Pending, Status::Expired, Action::CheckoutFailed).detail(&detail);
            let _ = transition(&state.db, purchase_id, change, &Cause::System).await;
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn create_session(
    state: &AppState,
    product: &Product,
    price: &Price,
    purchase_id: PurchaseId,
    public_id: &str,
    account: &github_accounts::Account,
    email: &str,
    seats: Option<i64>,
) -> Result<(String, String)> {
    let stripe_price = price
        .stripe_price_id
        .clone()
        .ok_or_else(|| Error::Internal(format!("price {} has no Stripe price", price.id)))?;
    // The same metadata on the session, and on the subscription or payment
    // it creates: later events (renewals, refunds) find the purchase by it.
    let mut metadata = HashMap::from([
        ("purchase_id".to_owned(), purchase_id.to_string()),
        ("purchase_public_id".to_owned(), public_id.to_owned()),
        ("product".to_owned(), product.slug.clone()),
        ("repositories".to_owned(), product.full_names().join(" ")),
        ("github_user_id".to_owned(), account.id.to_string()),
        ("github_login".to_owned(), account.login.clone()),
    ]);
    if let Some(n) = seats {
        metadata.insert("seats".to_owned(), n.to_string());
    }
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let session = NewSession {
        stripe_price_id: &stripe_price,
        quantity: seats.unwrap_or(1) as u64,
        metadata,
        client_reference_id: purchase_id.to_string(),
        customer_email: email,
        customer: None,
        success_url: format!("{base}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}"),
        cancel_url: format!("{base}/p/{}?checkout=cancelled", product.slug),
        subscription: price.interval().is_subscription().then_some(price.trial_days.clamp(0, 730) as u32),
        automatic_tax: crate::preferences::is_on(&state.db, crate::preferences::Preference::StripeTax).await?,
    };
    Ok(state.stripe.create_session(session).await?)
}
