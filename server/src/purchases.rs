//! Purchases as the creator looks them up: filtered, paginated, with their
//! access log. State changes live in `access`.

use crate::{Db, Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Purchase {
    pub id: i64,
    pub public_id: String,
    pub repository_id: i64,
    pub price_id: i64,
    pub customer_id: Option<i64>,
    pub github_user_id: i64,
    pub github_login: String,
    pub email: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub github_invitation_id: Option<i64>,
    pub invitation_url: Option<String>,
    pub current_period_end: Option<i64>,
    pub cancel_at: Option<i64>,
    pub grace_until: Option<i64>,
    pub paid_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub moved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const COLUMNS: &str = "id, public_id, repository_id, price_id, customer_id, github_user_id, github_login, email, status, status_reason, amount, currency, stripe_customer_id, stripe_subscription_id, github_invitation_id, invitation_url, current_period_end, cancel_at, grace_until, paid_at, activated_at, revoked_at, moved_at, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogEntry {
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    pub cause_kind: String,
    pub cause_ref: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

pub const STATUSES: [&str; 6] = ["pending", "paid", "invited", "active", "revoked", "expired"];

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub repository_id: Option<i64>,
    /// Matches the GitHub login or the email (prefix, case-insensitive).
    pub q: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

pub const MAX_PER_PAGE: i64 = 100;

pub async fn get(db: &Db, id: i64) -> Result<Purchase> {
    Ok(sqlx::query_as::<_, Purchase>(&format!("SELECT {COLUMNS} FROM purchases WHERE id = $1")).bind(id).fetch_one(db.pool()).await?)
}

/// The purchase a Stripe Checkout Session was opened for.
pub async fn by_checkout_session(db: &Db, session_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM purchases WHERE stripe_checkout_session_id = $1").bind(session_id).fetch_optional(db.pool()).await?)
}

/// Newest first. `page` counts from 1.
pub async fn list(db: &Db, filter: &Filter, page: i64, per_page: i64) -> Result<Page<Purchase>> {
    if let Some(s) = &filter.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Error::invalid("status", format!("choose one of {}", STATUSES.join(", "))));
        }
    }
    if page < 1 {
        return Err(Error::invalid("page", "pages count from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Error::invalid("per_page", format!("give 1 to {MAX_PER_PAGE} per page")));
    }
    // Placeholders are numbered as the filters present need them.
    let mut clauses = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if filter.status.is_some() {
        clauses.push(format!("status = {}", next()));
    }
    if filter.repository_id.is_some() {
        clauses.push(format!("repository_id = {}", next()));
    }
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(|q| format!("{}%", q.to_lowercase().replace(['%', '_'], "")));
    if q.is_some() {
        let (a, b) = (next(), next());
        clauses.push(format!("(LOWER(github_login) LIKE {a} OR LOWER(email) LIKE {b})"));
    }
    let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };

    macro_rules! bind_filters {
        ($query:expr) => {{
            let mut query = $query;
            if let Some(s) = &filter.status {
                query = query.bind(s.clone());
            }
            if let Some(r) = filter.repository_id {
                query = query.bind(r);
            }
            if let Some(q) = &q {
                query = query.bind(q.clone()).bind(q.clone());
            }
            query
        }};
    }

    let count_sql = format!("SELECT COUNT(*) FROM purchases {where_sql}");
    let total: i64 = bind_filters!(sqlx::query_scalar::<_, i64>(&count_sql)).fetch_one(db.pool()).await?;
    let list_sql = format!("SELECT {COLUMNS} FROM purchases {where_sql} ORDER BY created_at DESC, id DESC LIMIT {per_page} OFFSET {}", (page - 1) * per_page);
    let items = bind_filters!(sqlx::query_as::<_, Purchase>(&list_sql)).fetch_all(db.pool()).await?;
    Ok(Page { items, total, page, per_page })
}

/// The purchase's history, oldest first.
pub async fn log(db: &Db, purchase_id: i64) -> Result<Vec<LogEntry>> {
    Ok(sqlx::query_as::<_, LogEntry>(
        "SELECT id, from_status, to_status, action, cause_kind, cause_ref, detail, created_at FROM access_log WHERE purchase_id = $1 ORDER BY id",
    )
    .bind(purchase_id)
    .fetch_all(db.pool())
    .await?)
}

/// A customer as the creator lists them: who, and how much they bought.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerSummary {
    pub github_user_id: i64,
    pub github_login: String,
    pub email: String,
    pub purchases: i64,
    pub active: i64,
    pub first_purchase_at: i64,
}

/// Everyone who has paid (pending checkouts are not customers yet), by
/// GitHub account, most recent first.
pub async fn customers(db: &Db, q: Option<&str>, page: i64, per_page: i64) -> Result<Page<CustomerSummary>> {
    if page < 1 || !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Error::invalid("per_page", format!("pages count from 1, with 1 to {MAX_PER_PAGE} per page")));
    }
    let pattern = q.map(str::trim).filter(|q| !q.is_empty()).map(|q| format!("{}%", q.to_lowercase().replace(['%', '_'], "")));
    let where_sql = if pattern.is_some() {
        "WHERE status <> 'pending' AND status <> 'expired' AND (LOWER(github_login) LIKE $1 OR LOWER(email) LIKE $1)"
    } else {
        "WHERE status <> 'pending' AND status <> 'expired'"
    };
    let total_sql = format!("SELECT COUNT(DISTINCT github_user_id) FROM purchases {where_sql}");
    let list_sql = format!(
        "SELECT github_user_id, MAX(github_login) AS github_login, MAX(email) AS email, COUNT(*) AS purchases,
                SUM(CASE WHEN status IN ('invited', 'active') THEN 1 ELSE 0 END) AS active, MIN(created_at) AS first_purchase_at
         FROM purchases {where_sql}
         GROUP BY github_user_id ORDER BY MAX(created_at) DESC, github_user_id LIMIT {per_page} OFFSET {}",
        (page - 1) * per_page
    );
    let mut total = sqlx::query_scalar::<_, i64>(&total_sql);
    let mut items = sqlx::query_as::<_, CustomerSummary>(&list_sql);
    if let Some(p) = &pattern {
        total = total.bind(p.clone());
        items = items.bind(p.clone());
    }
    Ok(Page { total: total.fetch_one(db.pool()).await?, items: items.fetch_all(db.pool()).await?, page, per_page })
}
