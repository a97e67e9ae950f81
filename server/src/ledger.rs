//! Money in and out, as Stripe reported it: a checkout's payment, each paid
//! renewal, refunds (negative). The dashboard's revenue is summed from here,
//! so renewals count and refunds subtract. Each row is keyed by Stripe's id
//! of what happened: a webhook delivered twice is counted once.

use crate::{clock, Db, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Payment,
    Renewal,
    Refund,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Payment => "payment",
            Kind::Renewal => "renewal",
            Kind::Refund => "refund",
        }
    }
}

/// Records money received for a purchase (nothing for a zero amount, such
/// as a trial's first invoice). A second call with the same `stripe_ref`
/// changes nothing. `db`: the pool, or a transaction it belongs to.
pub async fn received<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    purchase_id: crate::domain::PurchaseId,
    stripe_ref: &str,
    kind: Kind,
    amount: i64,
    currency: &str,
) -> Result<()> {
    if amount <= 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO payments (purchase_id, stripe_ref, kind, amount, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (stripe_ref) DO NOTHING",
    )
    .bind(purchase_id)
    .bind(stripe_ref)
    .bind(kind.as_str())
    .bind(amount)
    .bind(currency.to_lowercase())
    .bind(clock::now())
    .execute(db)
    .await?;
    Ok(())
}

/// Everything refunded of a purchase so far, per currency (minor units).
pub async fn refunded_total(db: &Db, purchase_id: crate::domain::PurchaseId) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, CAST(-SUM(amount) AS BIGINT) FROM payments WHERE purchase_id = $1 AND kind = $2 GROUP BY currency ORDER BY currency",
    )
    .bind(purchase_id)
    .bind(Kind::Refund.as_str())
    .fetch_all(db.pool())
    .await?;
    Ok(rows)
}

/// Records how much of a charge has been refunded in all (Stripe reports
/// the running total): one row per charge, updated as refunds add up. The
/// total only grows: Stripe's events can arrive out of order, and an older
/// one's smaller total must not undo a newer one.
pub async fn refunded(
    db: &Db,
    purchase_id: crate::domain::PurchaseId,
    charge_id: &str,
    total_refunded: i64,
    currency: &str,
) -> Result<()> {
    if total_refunded <= 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO payments (purchase_id, stripe_ref, kind, amount, currency, created_at) VALUES ($1, $2, $6, $3, $4, $5)
         ON CONFLICT (stripe_ref) DO UPDATE SET amount = CASE WHEN excluded.amount < payments.amount THEN excluded.amount ELSE payments.amount END",
    )
    .bind(purchase_id)
    .bind(format!("refunds:{charge_id}"))
    .bind(-total_refunded)
    .bind(currency.to_lowercase())
    .bind(clock::now())
    .bind(Kind::Refund.as_str())
    .execute(db.pool())
    .await?;
    Ok(())
}
