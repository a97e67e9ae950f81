//! The creator's numbers at a glance. Money is summed per currency (never
//! converted): a creator selling in two currencies sees two amounts.

use std::collections::BTreeMap;

use crate::{
    clock,
    domain::{ProductStatus, PurchaseStatus},
    prices::Interval,
    purchases::statuses_sql,
    Db, Result,
};

fn access_statuses() -> String {
    statuses_sql(PurchaseStatus::gives_access)
}

const DAY: i64 = 86_400;

#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Per currency, minor units, net of refunds: since the 1st of this month (UTC).
    pub revenue_this_month: BTreeMap<String, i64>,
    /// Per currency, minor units, net of refunds: the last 30 days.
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
    /// Charges refunded (in full or in part) in the last 30 days.
    pub refunds_30d: i64,
    /// Seats of team purchases in force, and how many are held.
    pub seats_sold: i64,
    pub seats_in_use: i64,
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

/// The queries are independent, so they run at once, each on its own
/// pooled connection: the page waits for the slowest, not for the sum.
pub async fn summary(db: &Db) -> Result<Summary> {
    let now = clock::now();
    // Net of refunds, renewals included: summed from the payments ledger.
    let paid = "SELECT currency, CAST(SUM(amount) AS BIGINT) FROM payments WHERE created_at >= $1 GROUP BY currency ORDER BY currency";
    let mrr = async {
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            // A team pays for the seats it has now (one seat's price each),
            // not for those it started with.
            "SELECT p.currency, CAST(SUM((CASE WHEN p.seats IS NOT NULL THEN pr.amount * p.seats ELSE p.amount END)
                    / (CASE WHEN pr.kind = $1 THEN 12 ELSE 1 END)) AS BIGINT)
             FROM purchases p JOIN prices pr ON pr.id = p.price_id
             WHERE p.status IN ({}) AND pr.kind IN ($2, $1)
             GROUP BY p.currency ORDER BY p.currency",
            access_statuses()
        ))
        .bind(Interval::Year)
        .bind(Interval::Month)
        .fetch_all(db.pool())
        .await?;
        Ok::<_, crate::Error>(rows.into_iter().collect())
    };
    let count = |sql: String, bound: Option<i64>| async move {
        let query = sqlx::query_scalar::<_, i64>(&sql);
        let query = match bound {
            Some(bound) => query.bind(bound),
            None => query,
        };
        Ok::<_, crate::Error>(query.fetch_one(db.pool()).await?)
    };
    let since = Some(now - 30 * DAY);
    let (revenue_this_month, revenue_30d, mrr, active_customers, new_purchases_30d, churned_30d, refunds_30d, seats_sold, seats_in_use) = tokio::try_join!(
        money(db, paid, month_start(now)),
        money(db, paid, now - 30 * DAY),
        mrr,
        // DISTINCT in a subquery: PostgreSQL hashes it, where COUNT(DISTINCT …) sorts.
        count(format!("SELECT COUNT(*) FROM (SELECT DISTINCT github_user_id FROM purchases WHERE status IN ({})) granted", access_statuses()), None),
        // A seat handed out is not a purchase (its team purchase is).
        count("SELECT COUNT(*) FROM purchases WHERE paid_at >= $1 AND seat_of IS NULL".to_owned(), since),
        count(format!("SELECT COUNT(*) FROM purchases WHERE status = '{}' AND stripe_subscription_id IS NOT NULL AND revoked_at >= $1", PurchaseStatus::Revoked), since),
        count(format!("SELECT COUNT(*) FROM payments WHERE kind = '{}' AND created_at >= $1", crate::ledger::Kind::Refund.as_str()), since),
        count(format!("SELECT CAST(COALESCE(SUM(seats), 0) AS BIGINT) FROM purchases WHERE seats IS NOT NULL AND status IN ({})", access_statuses()), None),
        count(format!("SELECT COUNT(*) FROM purchases WHERE seat_of IS NOT NULL AND status IN ({})", statuses_sql(PurchaseStatus::is_granted)), None),
    )?;
    Ok(Summary {
        revenue_this_month,
        revenue_30d,
        mrr,
        active_customers,
        new_purchases_30d,
        churned_30d,
        refunds_30d,
        seats_sold,
        seats_in_use,
    })
}

/// The summary, the funnel over `days` and the latest `activity` entries,
/// read at once (they are independent).
pub async fn at_a_glance(
    db: &Db,
    days: i64,
    activity: i64,
) -> Result<(Summary, Vec<Funnel>, Vec<crate::activity::Activity>)> {
    tokio::try_join!(summary(db), funnel(db, days), crate::activity::latest(db, activity))
}

/// One product's conversion over a window: product page views →
/// checkouts started → paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funnel {
    pub product_id: i64,
    pub title: String,
    pub views: i64,
    pub checkouts: i64,
    pub paid: i64,
}

/// The funnel of every product not archived, over the last `days` days.
pub async fn funnel(db: &Db, days: i64) -> Result<Vec<Funnel>> {
    let since = clock::now() - days * DAY;
    let repos: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, title FROM products WHERE status <> $1 ORDER BY title, id")
            .bind(ProductStatus::Archived)
            .fetch_all(db.pool())
            .await?;
    let per_repo = |sql: &'static str, bound: i64| async move {
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql).bind(bound).fetch_all(db.pool()).await?;
        Ok::<BTreeMap<i64, i64>, crate::Error>(rows.into_iter().collect())
    };
    let (views, checkouts, paid) = tokio::try_join!(
        per_repo(
            "SELECT product_id, CAST(SUM(views) AS BIGINT) FROM page_views WHERE day >= $1 GROUP BY product_id",
            since.div_euclid(DAY)
        ),
        per_repo("SELECT product_id, COUNT(*) FROM purchases WHERE created_at >= $1 GROUP BY product_id", since),
        // `+product_id`: group without the product index, so the paid_at one is used.
        per_repo("SELECT +product_id, COUNT(*) FROM purchases WHERE paid_at >= $1 GROUP BY +product_id", since),
    )?;
    Ok(repos
        .into_iter()
        .map(|(id, title)| Funnel {
            product_id: id,
            title,
            views: views.get(&id).copied().unwrap_or(0),
            checkouts: checkouts.get(&id).copied().unwrap_or(0),
            paid: paid.get(&id).copied().unwrap_or(0),
        })
        .collect())
}

/// Net revenue per UTC day for the last `days` days (oldest first, every
/// day present), in `currency`.
pub async fn revenue_by_day(db: &Db, currency: &str, days: i64) -> Result<Vec<(i64, i64)>> {
    let today = clock::now().div_euclid(DAY);
    let first = today - days + 1;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT created_at / 86400 AS day, CAST(SUM(amount) AS BIGINT) FROM payments WHERE created_at >= $1 AND currency = $2 GROUP BY created_at / 86400",
    )
    .bind(first * DAY)
    .bind(currency)
    .fetch_all(db.pool())
    .await?;
    let by_day: BTreeMap<i64, i64> = rows.into_iter().collect();
    Ok((first..=today).map(|d| (d * DAY, by_day.get(&d).copied().unwrap_or(0))).collect())
}

/// Every currency money came in with over the last 30 days, the largest
/// first: one chart each (amounts in different currencies do not add up).
pub fn chart_currencies(summary: &Summary) -> Vec<String> {
    let mut currencies: Vec<(&String, &i64)> = summary.revenue_30d.iter().filter(|(_, amount)| **amount != 0).collect();
    currencies.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    currencies.into_iter().map(|(c, _)| c.clone()).collect()
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
