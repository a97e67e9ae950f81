//! Prices of a product, each mirrored in Stripe: one Stripe Product per
//! product, one Stripe Price per price. Stripe prices are immutable, so a
//! new amount means a new Price; the old one is archived and stays attached
//! to the subscriptions that already use it.

use std::collections::HashMap;

use crate::{
    clock,
    domain::{IntBool, PriceId, ProductId, ProductStatus},
    products::{self, Product},
    stripe::{self, Stripe},
    Db, Error, Result,
};

pub use crate::domain::Interval;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Price {
    pub id: PriceId,
    pub product_id: ProductId,
    pub kind: Interval,
    pub amount: i64,
    pub currency: String,
    pub trial_days: i64,
    pub permission: String,
    pub stripe_price_id: Option<String>,
    #[sqlx(try_from = "IntBool")]
    pub active: bool,
    pub replaced_by: Option<i64>,
    /// Pay what you want: the buyer names the amount, at least `amount`.
    #[sqlx(try_from = "IntBool")]
    pub custom_amount: bool,
    /// Where a pay-what-you-want checkout starts.
    pub suggested_amount: Option<i64>,
    /// A one-time price's period of access in days (None: no end date).
    pub access_days: Option<i64>,
    /// Sold per seat: the fewest and most seats a buyer may pick (`None`:
    /// one purchase, one person).
    pub seats_min: Option<i64>,
    pub seats_max: Option<i64>,
}

impl Price {
    pub fn interval(&self) -> Interval {
        self.kind
    }

    /// The seats a buyer may pick, when sold per seat.
    pub fn seats(&self) -> Option<std::ops::RangeInclusive<i64>> {
        Some(self.seats_min?..=self.seats_max.unwrap_or(MAX_SEATS))
    }
}

/// The most seats one purchase may hold.
pub const MAX_SEATS: i64 = 999;

const COLUMNS: &str = "id, product_id, kind, amount, currency, trial_days, permission, stripe_price_id, active, replaced_by, custom_amount, suggested_amount, access_days, seats_min, seats_max";

/// A purchase of a price with a trial that has paid nothing yet is in its
/// trial (the one place this rule lives).
pub fn in_trial(paid: i64, trial_days: i64) -> bool {
    paid == 0 && trial_days > 0
}

/// What a purchase costs, in words: "$19.00 / month"; during a trial
/// (nothing paid yet) "14-day trial, then $19.00 / month".
pub fn paid_words(paid: i64, currency: &str, interval: Interval, price_amount: i64, trial_days: i64) -> String {
    if in_trial(paid, trial_days) {
        return format!("{trial_days}-day trial, then {}", money::format_price(price_amount, currency, interval.db()));
    }
    money::format_price(paid, currency, interval.db())
}

/// A price as the creator asks for it (unvalidated).
#[derive(Debug, Clone, Default)]
pub struct NewPrice {
    pub interval: String,
    /// The price; with `pay_what_you_want`, the least a buyer may pay.
    pub amount: i64,
    pub currency: String,
    pub trial_days: i64,
    pub permission: String,
    pub pay_what_you_want: bool,
    /// Where a pay-what-you-want checkout starts (at least `amount`).
    pub suggested_amount: Option<i64>,
    /// A one-time price's period of access, in days.
    pub access_days: Option<i64>,
    /// Sold per seat, between these (the most defaults to `MAX_SEATS`).
    pub seats_min: Option<i64>,
    pub seats_max: Option<i64>,
}

/// Currencies offered in the admin panel: Stripe supports more, but each of
/// these has a known minimum charge, so a too-small amount is refused here
/// with a clear message rather than at the buyer's checkout.
pub const CURRENCIES: [(&str, i64); 14] = [
    ("usd", 50),
    ("eur", 50),
    ("gbp", 30),
    ("cad", 50),
    ("aud", 50),
    ("chf", 50),
    ("nzd", 50),
    ("sgd", 50),
    ("sek", 300),
    ("nok", 300),
    ("dkk", 250),
    ("pln", 200),
    ("jpy", 50),
    ("inr", 50),
];

/// What GitHub grants a collaborator; `admin` is never sold.
pub const PERMISSIONS: [&str; 4] = ["pull", "triage", "push", "maintain"];

/// Stripe's limit on `unit_amount` (eight digits).
const MAX_AMOUNT: i64 = 99_999_999;
/// Stripe's longest trial.
const MAX_TRIAL_DAYS: i64 = 730;
/// The longest period of access a price can give (ten years); longer is
/// what a price without a period already gives.
const MAX_ACCESS_DAYS: i64 = 3650;

struct Valid {
    interval: Interval,
    amount: i64,
    currency: String,
    trial_days: i64,
    permission: String,
    pay_what_you_want: bool,
    suggested_amount: Option<i64>,
    access_days: Option<i64>,
    seats_min: Option<i64>,
    seats_max: Option<i64>,
}

fn validate(p: &NewPrice) -> Result<Valid> {
    let interval = Interval::parse(p.interval.trim())?;
    let currency = p.currency.trim().to_ascii_lowercase();
    let Some(&(_, minimum)) = CURRENCIES.iter().find(|(c, _)| *c == currency) else {
        let known: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
        return Err(Error::invalid(
            "currency",
            format!("'{}' is not offered; use one of {}", p.currency.trim(), known.join(", ")),
        ));
    };
    if p.amount < minimum {
        return Err(Error::invalid(
            "unit_amount",
            format!(
                "Stripe's smallest charge in {} is {minimum} (in minor units, e.g. cents); raise the amount",
                currency.to_uppercase()
            ),
        ));
    }
    if p.amount > MAX_AMOUNT {
        return Err(Error::invalid(
            "unit_amount",
            format!("the amount is too large: Stripe accepts at most {MAX_AMOUNT} minor units"),
        ));
    }
    if !(0..=MAX_TRIAL_DAYS).contains(&p.trial_days) {
        return Err(Error::invalid("trial_days", format!("give 0 to {MAX_TRIAL_DAYS} trial days")));
    }
    if p.trial_days > 0 && !interval.is_subscription() {
        return Err(Error::invalid(
            "trial_days",
            "trials apply to monthly and yearly prices only; set 0 for a one-time price",
        ));
    }
    let permission = p.permission.trim().to_ascii_lowercase();
    if !PERMISSIONS.contains(&permission.as_str()) {
        return Err(Error::invalid("permission", "choose pull, triage, push or maintain"));
    }
    if p.pay_what_you_want && interval.is_subscription() {
        return Err(Error::invalid(
            "pay_what_you_want",
            "pay what you want works for one-time prices only (Stripe lets buyers choose the amount there); choose one-time",
        ));
    }
    let suggested_amount = if p.pay_what_you_want { p.suggested_amount } else { None };
    if let Some(suggested) = suggested_amount {
        if suggested < p.amount || suggested > MAX_AMOUNT {
            return Err(Error::invalid(
                "suggested_amount",
                "the suggested amount must be at least the minimum (and at most Stripe's limit)",
            ));
        }
    }
    if let Some(days) = p.access_days {
        if interval.is_subscription() {
            return Err(Error::invalid(
                "access_days",
                "a period of access is for one-time prices; a subscription's access lasts while it is paid",
            ));
        }
        if !(1..=MAX_ACCESS_DAYS).contains(&days) {
            return Err(Error::invalid(
                "access_days",
                format!("give a period of 1 to {MAX_ACCESS_DAYS} days, or none for access that does not end"),
            ));
        }
    }
    let (seats_min, seats_max) = match (p.seats_min, p.seats_max) {
        (None, None) => (None, None),
        (min, max) => {
            let min = min.unwrap_or(1);
            let max = max.unwrap_or(MAX_SEATS);
            if !(1..=MAX_SEATS).contains(&min) || !(min..=MAX_SEATS).contains(&max) {
                return Err(Error::invalid(
                    "seats",
                    format!("give the fewest and most seats a buyer may pick: 1 to {MAX_SEATS}, the fewest not above the most"),
                ));
            }
            if p.pay_what_you_want {
                return Err(Error::invalid(
                    "seats",
                    "a price sold per seat has a fixed amount per seat; turn off pay what you want",
                ));
            }
            (Some(min), Some(max))
        }
    };
    Ok(Valid {
        interval,
        amount: p.amount,
        currency,
        trial_days: p.trial_days,
        permission,
        pay_what_you_want: p.pay_what_you_want,
        suggested_amount,
        access_days: p.access_days,
        seats_min,
        seats_max,
    })
}

pub async fn get(db: &Db, id: PriceId) -> Result<Price> {
    Ok(sqlx::query_as::<_, Price>(&format!("SELECT {COLUMNS} FROM prices WHERE id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?)
}

/// The product's prices on sale, cheapest first.
pub async fn active_for(db: &Db, product_id: ProductId) -> Result<Vec<Price>> {
    Ok(sqlx::query_as::<_, Price>(&format!(
        "SELECT {COLUMNS} FROM prices WHERE product_id = $1 AND active = 1 ORDER BY kind = $2 DESC, amount, id"
    ))
    .bind(product_id)
    .bind(Interval::OneTime)
    .fetch_all(db.pool())
    .await?)
}

/// The product's Stripe Product, created on first use.
async fn ensure_product(db: &Db, stripe: &Stripe, product: &Product) -> Result<String> {
    if let Some(id) = &product.stripe_product_id {
        return Ok(id.clone());
    }
    let names = product.full_names().join(", ");
    let metadata = HashMap::from([
        ("repopass_product_id".to_owned(), product.id.to_string()),
        ("github_repositories".to_owned(), names.clone()),
    ]);
    let description = match product.repositories.len() {
        1 => format!("Access to the GitHub repository {names}"),
        _ => format!("Access to the GitHub repositories {names}"),
    };
    let id = stripe.create_product(&product.title, &description, metadata).await?;
    // Two creators adding a first price at once: the first product stored
    // wins and the other is archived in Stripe, so the product keeps one.
    let stored = sqlx::query("UPDATE products SET stripe_product_id = $2 WHERE id = $1 AND stripe_product_id IS NULL")
        .bind(product.id)
        .bind(&id)
        .execute(db.pool())
        .await?;
    if stored.rows_affected() == 1 {
        return Ok(id);
    }
    let _ = stripe.archive_product(&id).await;
    products::get(db, product.id).await?.stripe_product_id.ok_or_else(|| Error::Internal("product id vanished".into()))
}

/// Keeps the Stripe Product's name (what buyers see at checkout) in step
/// with the page title. Best effort: the page is saved either way.
pub async fn sync_product_name(stripe: &Stripe, product: &Product) {
    let Some(stripe_product) = &product.stripe_product_id else { return };
    match stripe.rename_product(stripe_product, &product.title).await {
        Ok(()) | Err(stripe::StripeError::NotConfigured) => {}
        Err(e) => tracing::warn!(error = %e, product_id = %product.id, "Stripe product not renamed"),
    }
}

async fn create_stripe_price(stripe: &Stripe, stripe_product: &str, product: &Product, v: &Valid) -> Result<String> {
    Ok(stripe
        .create_price(stripe::NewPrice {
            product: stripe_product,
            interval: v.interval,
            amount: v.amount,
            custom: v
                .pay_what_you_want
                .then_some(stripe::CustomAmount { minimum: v.amount, preset: v.suggested_amount }),
            currency: &v.currency,
            nickname: format!("{} ({})", product.title, v.interval.api()),
            metadata: HashMap::from([("repopass_product_id".to_owned(), product.id.to_string())]),
        })
        .await?)
}

async fn archive_stripe_price(stripe: &Stripe, stripe_price_id: &str) -> Result<()> {
    Ok(stripe.archive_price(stripe_price_id).await?)
}

async fn insert(db: &Db, product_id: ProductId, v: &Valid, stripe_price_id: &str) -> Result<PriceId> {
    let now = clock::now();
    Ok(sqlx::query_scalar::<_, PriceId>(
        "INSERT INTO prices (product_id, kind, amount, currency, trial_days, permission, stripe_price_id, active, created_at, updated_at, custom_amount, suggested_amount, access_days, seats_min, seats_max)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(product_id)
    .bind(v.interval)
    .bind(v.amount)
    .bind(&v.currency)
    .bind(v.trial_days)
    .bind(&v.permission)
    .bind(stripe_price_id)
    .bind(now)
    .bind(v.pay_what_you_want as i64)
    .bind(v.suggested_amount)
    .bind(v.access_days)
    .bind(v.seats_min)
    .bind(v.seats_max)
    .fetch_one(db.pool())
    .await?)
}

/// A product with team access gives each repository one level through its
/// team: a price of another level (for a repository without its own) is
/// refused rather than sold and not given.
async fn check_team_level(db: &Db, product: &Product, permission: &str, except: Option<PriceId>) -> Result<()> {
    let Some(team) = product.team() else { return Ok(()) };
    if product.repositories.iter().all(|i| i.permission.is_some()) {
        return Ok(());
    }
    let others = active_for(db, product.id).await?;
    match others.iter().find(|p| Some(p.id) != except) {
        Some(other) if other.permission != permission => Err(Error::invalid(
            "permission",
            format!(
                "access goes through the GitHub team {}, which gives one level: choose {level}, \
                 or give each repository its own level in the product",
                team.full_name(),
                level = other.permission
            ),
        )),
        _ => Ok(()),
    }
}

/// Adds a price: validated here, created in Stripe, then stored.
pub async fn add(db: &Db, stripe: &Stripe, product_id: ProductId, new: &NewPrice) -> Result<Price> {
    let v = validate(new)?;
    let product = products::get(db, product_id).await?;
    if product.status == ProductStatus::Archived {
        return Err(Error::invalid("product", "this product is archived; unarchive it before adding prices"));
    }
    check_team_level(db, &product, &v.permission, None).await?;
    let stripe_product = ensure_product(db, stripe, &product).await?;
    let stripe_id = create_stripe_price(stripe, &stripe_product, &product, &v).await?;
    match insert(db, product_id, &v, &stripe_id).await {
        Ok(id) => {
            tracing::info!(price_id = %id, product_id = %product_id, stripe_price = %stripe_id, "price added");
            get(db, id).await
        }
        Err(e) => {
            // Nothing on sale that RepoPass does not know about.
            let _ = archive_stripe_price(stripe, &stripe_id).await;
            Err(e)
        }
    }
}

/// Changes a price. A new amount, currency or interval makes a new Stripe
/// Price (the old one is archived and kept by its subscribers); trial days
/// and permission are RepoPass's own and change in place.
pub async fn change(db: &Db, stripe: &Stripe, id: PriceId, new: &NewPrice) -> Result<Price> {
    let v = validate(new)?;
    let old = get(db, id).await?;
    if !old.active {
        return Err(Error::invalid("price", "this price is no longer on sale; add a new one instead"));
    }
    check_team_level(db, &products::get(db, old.product_id).await?, &v.permission, Some(id)).await?;
    let same_in_stripe = old.amount == v.amount
        && old.currency == v.currency
        && old.kind == v.interval
        && old.custom_amount == v.pay_what_you_want
        && old.suggested_amount == v.suggested_amount;
    if same_in_stripe {
        // A new period applies to purchases made from now on.
        sqlx::query(
            "UPDATE prices SET trial_days = $2, permission = $3, access_days = $5, seats_min = $6, seats_max = $7, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(v.trial_days)
        .bind(&v.permission)
        .bind(clock::now())
        .bind(v.access_days)
        .bind(v.seats_min)
        .bind(v.seats_max)
        .execute(db.pool())
        .await?;
        return get(db, id).await;
    }
    let product = products::get(db, old.product_id).await?;
    let stripe_product = ensure_product(db, stripe, &product).await?;
    let stripe_id = create_stripe_price(stripe, &stripe_product, &product, &v).await?;
    let mut tx = db.pool().begin().await?;
    let now = clock::now();
    let new_id = sqlx::query_scalar::<_, PriceId>(
        "INSERT INTO prices (product_id, kind, amount, currency, trial_days, permission, stripe_price_id, active, created_at, updated_at, custom_amount, suggested_amount, access_days, seats_min, seats_max)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(old.product_id)
    .bind(v.interval)
    .bind(v.amount)
    .bind(&v.currency)
    .bind(v.trial_days)
    .bind(&v.permission)
    .bind(&stripe_id)
    .bind(now)
    .bind(v.pay_what_you_want as i64)
    .bind(v.suggested_amount)
    .bind(v.access_days)
    .bind(v.seats_min)
    .bind(v.seats_max)
    .fetch_one(&mut *tx)
    .await?;
    let replaced =
        sqlx::query("UPDATE prices SET active = 0, replaced_by = $2, updated_at = $3 WHERE id = $1 AND active = 1")
            .bind(id)
            .bind(new_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    if replaced.rows_affected() == 0 {
        // Changed or removed meanwhile: undo ours.
        drop(tx);
        let _ = archive_stripe_price(stripe, &stripe_id).await;
        return Err(Error::invalid("price", "this price was changed meanwhile; reload and try again"));
    }
    tx.commit().await?;
    if let Some(old_stripe) = &old.stripe_price_id {
        // Archiving only stops new checkouts; subscriptions on it go on.
        if let Err(e) = archive_stripe_price(stripe, old_stripe).await {
            tracing::warn!(error = %e, stripe_price = %old_stripe, "old price not archived in Stripe");
        }
    }
    tracing::info!(old_price_id = %id, new_price_id = %new_id, "price amount changed");
    get(db, new_id).await
}

/// Takes a price off sale (archived in Stripe; existing buyers keep it).
pub async fn remove(db: &Db, stripe: &Stripe, id: PriceId) -> Result<Price> {
    let price = get(db, id).await?;
    if !price.active {
        return Ok(price);
    }
    if let Some(stripe_id) = &price.stripe_price_id {
        archive_stripe_price(stripe, stripe_id).await?;
    }
    sqlx::query("UPDATE prices SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(clock::now())
        .execute(db.pool())
        .await?;
    tracing::info!(price_id = %id, "price removed from sale");
    get(db, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(interval: &str, amount: i64, currency: &str, trial: i64, permission: &str) -> NewPrice {
        NewPrice {
            interval: interval.into(),
            amount,
            currency: currency.into(),
            trial_days: trial,
            permission: permission.into(),
            ..NewPrice::default()
        }
    }

    fn field(p: NewPrice) -> &'static str {
        match validate(&p) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {:?}", other.map(|v| v.amount)),
        }
    }

    #[test]
    fn refuses_what_stripe_or_github_would() {
        assert!(validate(&price("month", 900, "USD", 14, "pull")).is_ok());
        assert_eq!(field(price("week", 900, "usd", 0, "pull")), "interval");
        assert_eq!(field(price("month", 49, "usd", 0, "pull")), "unit_amount");
        assert_eq!(field(price("month", 100_000_000, "usd", 0, "pull")), "unit_amount");
        assert_eq!(field(price("month", 900, "xyz", 0, "pull")), "currency");
        assert_eq!(field(price("one_time", 900, "usd", 7, "pull")), "trial_days");
        assert_eq!(field(price("year", 900, "usd", 731, "pull")), "trial_days");
        assert_eq!(field(price("year", 900, "usd", 0, "admin")), "permission");
    }

    #[test]
    fn pay_what_you_want_and_periods_of_access() {
        let pwyw = |interval: &str, min: i64, suggested: Option<i64>| NewPrice {
            pay_what_you_want: true,
            suggested_amount: suggested,
            ..price(interval, min, "usd", 0, "pull")
        };
        let v = validate(&pwyw("one_time", 500, Some(1500))).unwrap();
        assert!(v.pay_what_you_want && v.suggested_amount == Some(1500));
        // The minimum is still Stripe's smallest charge at least.
        assert_eq!(field(pwyw("one_time", 20, None)), "unit_amount");
        assert_eq!(field(pwyw("one_time", 500, Some(400))), "suggested_amount");
        assert_eq!(field(pwyw("month", 500, None)), "pay_what_you_want");
        let period =
            |interval: &str, days: i64| NewPrice { access_days: Some(days), ..price(interval, 900, "usd", 0, "pull") };
        assert_eq!(validate(&period("one_time", 365)).unwrap().access_days, Some(365));
        assert_eq!(field(period("one_time", 0)), "access_days");
        assert_eq!(field(period("one_time", 3651)), "access_days");
        assert_eq!(field(period("year", 365)), "access_days");
    }

    #[test]
    fn seats_lie_between_one_and_the_most() {
        let seats = |min: Option<i64>, max: Option<i64>| NewPrice {
            seats_min: min,
            seats_max: max,
            ..price("month", 900, "usd", 0, "pull")
        };
        let v = validate(&seats(Some(2), Some(50))).unwrap();
        assert_eq!((v.seats_min, v.seats_max), (Some(2), Some(50)));
        // Only the most given: from one seat.
        assert_eq!(validate(&seats(None, Some(10))).unwrap().seats_min, Some(1));
        assert_eq!(validate(&seats(None, None)).unwrap().seats_min, None);
        assert_eq!(field(seats(Some(0), None)), "seats");
        assert_eq!(field(seats(Some(5), Some(4))), "seats");
        assert_eq!(field(seats(Some(1), Some(MAX_SEATS + 1))), "seats");
        let pwyw = NewPrice { pay_what_you_want: true, seats_min: Some(1), ..price("one_time", 900, "usd", 0, "pull") };
        assert_eq!(field(pwyw), "seats");
    }
}
