//! The creator's numbers at a glance. Money is summed per currency (never
//! converted): a creator selling in two currencies sees two amounts.

use std::collections::BTreeMap;

use crate::{clock, Db, Result};

const DAY: i64 = 86_400;

#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Per currency, minor units: paid since the 1st of this month (UTC).
    pub revenue_this_month: BTreeMap<String, i64>,
    /// Per currency, minor units: paid in the last 30 days.
    pub revenue_30d: BTreeMap<String, i64>,
    /// Per currency, minor units: monthly value of live subscriptions
    /// (a yearly price counts a twelfth).
    pub mrr: BTreeMap<String, i64>,
    /// GitHub accounts with access now (invited or active).
    pub active_customers: i64,
    /// Purchases paid in the last 30 days.
    pub new_purchases_30d: i64,
    /// Subscriptions that ended in the last 30 days.
    pub churned_30d: i64,
    /// Purchases revoked because of a refund or dispute in the last 30 days.
    pub refunds_30d: i64,
}

/// Unix seconds of the first instant of the current UTC month.
fn month_start(now: i64) -> i64 {
    use chrono::{Datelike, TimeZone, Utc};
    let today = Utc.timestamp_opt(now, 0).single().unwrap_or_default().date_naive();
    today.with_day(1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc().timestamp()).unwrap_or(now)
}

async fn money(db: &Db, sql: &str, since: i64) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).bind(since).fetch_all(db.pool()).await?;
    Ok(rows.into_iter().collect())
}

pub async fn summary(db: &Db) -> Result<Summary> {
    let now = clock::now();
    let paid = "SELECT currency, CAST(SUM(amount) AS BIGINT) FROM purchases WHERE paid_at >= $1 GROUP BY currency ORDER BY currency";
    let mrr_rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT p.currency, CAST(SUM(CASE WHEN pr.kind = 'yearly' THEN p.amount / 12 ELSE p.amount END) AS BIGINT)
         FROM purchases p JOIN prices pr ON pr.id = p.price_id
         WHERE p.status IN ('invited', 'active') AND pr.kind IN ('monthly', 'yearly')
         GROUP BY p.currency ORDER BY p.currency",
    )
    .fetch_all(db.pool())
    .await?;
    let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).bind(now - 30 * DAY).fetch_one(db.pool()).await };
    Ok(Summary {
        revenue_this_month: money(db, paid, month_start(now)).await?,
        revenue_30d: money(db, paid, now - 30 * DAY).await?,
        mrr: mrr_rows.into_iter().collect(),
        active_customers: sqlx::query_scalar("SELECT COUNT(DISTINCT github_user_id) FROM purchases WHERE status IN ('invited', 'active')").fetch_one(db.pool()).await?,
        new_purchases_30d: count("SELECT COUNT(*) FROM purchases WHERE paid_at >= $1").await?,
        churned_30d: count("SELECT COUNT(*) FROM purchases WHERE status = 'revoked' AND stripe_subscription_id IS NOT NULL AND revoked_at >= $1").await?,
        refunds_30d: count(
            "SELECT COUNT(*) FROM purchases WHERE status = 'revoked' AND revoked_at >= $1 AND (status_reason LIKE 'refund%' OR status_reason LIKE 'dispute%')",
        )
        .await?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn month_start() {
        // 2026-11-22T03:56:43Z → 2026-11-01T00:00:00Z
        assert_eq!(super::month_start(1_795_319_803), 1_793_491_200);
        // the first second of a month is its own start; leap day 2024-02-29 → 2024-02-01
        assert_eq!(super::month_start(1_793_491_200), 1_793_491_200);
        assert_eq!(super::month_start(1_709_164_800), 1_706_745_600);
    }
}
