//! Purchases as the creator looks them up: filtered, paginated, with their
//! access log. State changes live in `access`.

use crate::{
    domain::{Action, CauseKind, GithubUserId, PriceId, ProductId, PurchaseId, PurchaseStatus, Reason},
    Db, Error, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Purchase {
    pub id: PurchaseId,
    pub public_id: String,
    pub product_id: ProductId,
    pub price_id: PriceId,
    pub customer_id: Option<i64>,
    pub github_user_id: GithubUserId,
    pub github_login: String,
    pub email: String,
    pub status: PurchaseStatus,
    /// Why it is where it is, for people; `status_reason_code` for decisions.
    pub status_reason: Option<String>,
    pub status_reason_code: Option<Reason>,
    pub amount: i64,
    pub currency: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    /// The payment of a one-time purchase.
    pub stripe_payment_intent_id: Option<String>,
    pub current_period_end: Option<i64>,
    pub cancel_at: Option<i64>,
    pub grace_until: Option<i64>,
    pub paid_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub moved_at: Option<i64>,
    /// When a period of access bought with a one-time price ends.
    pub access_until: Option<i64>,
    /// A company purchase: the seats paid for now (`None`: one person's
    /// purchase), and how many from the next renewal when fewer were chosen.
    pub seats: Option<i64>,
    pub seats_next: Option<i64>,
    /// A seat: the company purchase it belongs to (it lasts while that does).
    pub seat_of: Option<PurchaseId>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Purchase {
    /// A company purchase, whose seats (not itself) hold the access.
    pub fn is_company(&self) -> bool {
        self.seats.is_some()
    }
}

pub(crate) const COLUMNS: &str = "id, public_id, product_id, price_id, customer_id, github_user_id, github_login, email, status, status_reason, status_reason_code, amount, currency, stripe_customer_id, stripe_subscription_id, stripe_payment_intent_id, current_period_end, cancel_at, grace_until, paid_at, activated_at, revoked_at, moved_at, access_until, seats, seats_next, seat_of, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogEntry {
    pub id: i64,
    pub from_status: Option<PurchaseStatus>,
    pub to_status: PurchaseStatus,
    pub action: Action,
    pub cause_kind: CauseKind,
    pub cause_ref: Option<String>,
    pub detail: Option<String>,
    /// The repository the entry is about, when it is about one.
    pub repository_id: Option<crate::domain::RepositoryId>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<PurchaseStatus>,
    pub product_id: Option<ProductId>,
    /// Matches the GitHub login or the email (prefix, case-insensitive).
    pub q: Option<String>,
    /// One of `SORTS` (default: newest first).
    pub sort: Option<String>,
    /// Also list checkouts that were never paid (cancelled, declined,
    /// abandoned). Without it only purchases that were paid are listed,
    /// unless `status` asks for an unpaid one.
    pub unfinished: bool,
}

/// Orders the customers table can sort by: (name, SQL).
pub const SORTS: [(&str, &str); 6] = [
    ("newest", "created_at DESC, id DESC"),
    ("oldest", "created_at ASC, id ASC"),
    ("login", "github_login ASC, id DESC"),
    ("amount", "amount DESC, id DESC"),
    ("status", "status ASC, created_at DESC, id DESC"),
    ("paid", "paid_at DESC, id DESC"),
];

/// A status filter as typed (empty: all), refused with the choices if unknown.
pub fn parse_status(raw: Option<&str>) -> Result<Option<PurchaseStatus>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            let all: Vec<&str> = PurchaseStatus::ALL.iter().map(|s| s.as_str()).collect();
            Error::invalid("status", format!("choose one of {}", all.join(", ")))
        }),
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

pub const MAX_PER_PAGE: i64 = 100;

pub async fn get(db: &Db, id: PurchaseId) -> Result<Purchase> {
    Ok(sqlx::query_as::<_, Purchase>(&format!("SELECT {COLUMNS} FROM purchases WHERE id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?)
}

/// What the creator may do with a purchase: the customer page offers
/// exactly these, and the actions refuse anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatorCan {
    pub revoke: bool,
    pub restore: bool,
    pub resend: bool,
    pub refund: bool,
}

impl CreatorCan {
    pub fn of(p: &Purchase) -> CreatorCan {
        use PurchaseStatus::*;
        CreatorCan {
            revoke: p.status.is_granted(),
            restore: p.status == Revoked,
            // A team purchase's invitations are its seats'; a seat paid nothing.
            resend: !p.is_company() && matches!(p.status, Paid | Invited),
            refund: p.status.was_paid() && p.seat_of.is_none(),
        }
    }
}

/// The purchases through which `user` holds, or is being given, access to
/// a product (paid, invited or active), oldest first.
pub async fn holding(db: &Db, product_id: ProductId, user: GithubUserId) -> Result<Vec<(PurchaseId, PurchaseStatus)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, status FROM purchases WHERE product_id = $1 AND github_user_id = $2 AND status IN ({}) ORDER BY id",
        statuses_sql(PurchaseStatus::is_granted)
    ))
    .bind(product_id)
    .bind(user)
    .fetch_all(db.pool())
    .await?)
}

/// Purchases that give access (or are paid) and have a date it may end on.
pub async fn ending(db: &Db) -> Result<Vec<Purchase>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM purchases WHERE status IN ($1, $2, $3)
         AND (access_until IS NOT NULL OR cancel_at IS NOT NULL OR grace_until IS NOT NULL) ORDER BY id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(PurchaseStatus::Paid)
        .bind(PurchaseStatus::Invited)
        .bind(PurchaseStatus::Active)
        .fetch_all(db.pool())
        .await?)
}

/// Purchases that still give access although their period of access ended
/// at or before `now`.
pub async fn access_ended_by(db: &Db, now: i64) -> Result<Vec<Purchase>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM purchases WHERE access_until <= $1 AND status IN ($2, $3, $4) ORDER BY access_until, id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(now)
        .bind(PurchaseStatus::Paid)
        .bind(PurchaseStatus::Invited)
        .bind(PurchaseStatus::Active)
        .fetch_all(db.pool())
        .await?)
}

/// Records a GitHub rename on every purchase of the account.
pub async fn record_login(db: &Db, user: GithubUserId, login: &str) -> Result<()> {
    sqlx::query("UPDATE purchases SET github_login = $2 WHERE github_user_id = $1")
        .bind(user)
        .bind(login)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// How a purchase is found from what Stripe sends.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// The Checkout Session it was opened with.
    CheckoutSession(&'a str),
    /// Its random public id (in Stripe metadata as `purchase_public_id`).
    PublicId(&'a str),
    Subscription(&'a str),
    PaymentIntent(&'a str),
}

/// The purchase `lookup` names (the newest, if several share a Stripe id).
pub async fn find(db: &Db, lookup: Lookup<'_>) -> Result<Option<Purchase>> {
    let (column, value) = match lookup {
        Lookup::CheckoutSession(v) => ("stripe_checkout_session_id", v),
        Lookup::PublicId(v) => ("public_id", v),
        Lookup::Subscription(v) => ("stripe_subscription_id", v),
        Lookup::PaymentIntent(v) => ("stripe_payment_intent_id", v),
    };
    let sql = format!("SELECT {COLUMNS} FROM purchases WHERE {column} = $1 ORDER BY id DESC LIMIT 1");
    Ok(sqlx::query_as::<_, Purchase>(&sql).bind(value).fetch_optional(db.pool()).await?)
}

/// Newest first unless `filter.sort` says otherwise. `page` counts from 1.
pub async fn list(db: &Db, filter: &Filter, page: i64, per_page: i64) -> Result<Page<Purchase>> {
    if page < 1 {
        return Err(Error::invalid("page", "pages count from 1"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Error::invalid("per_page", format!("give 1 to {MAX_PER_PAGE} per page")));
    }
    let (total, items) = select(db, filter, Some((per_page, (page - 1) * per_page))).await?;
    Ok(Page { items, total, page, per_page })
}

/// Every purchase the filter matches, in its order (the CSV export).
pub async fn all(db: &Db, filter: &Filter) -> Result<Vec<Purchase>> {
    Ok(select(db, filter, None).await?.1)
}

/// The filtered, sorted purchases (a `(limit, offset)` page of them) and
/// how many match in all (counted only for a page).
async fn select(db: &Db, filter: &Filter, window: Option<(i64, i64)>) -> Result<(i64, Vec<Purchase>)> {
    let order = match filter.sort.as_deref().filter(|s| !s.is_empty()) {
        None => SORTS[0].1,
        Some(s) => SORTS.iter().find(|(name, _)| *name == s).map(|(_, sql)| *sql).ok_or_else(|| {
            Error::invalid(
                "sort",
                format!("sort by one of {}", SORTS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")),
            )
        })?,
    };
    // Absent filters bind a value that matches everything.
    let q = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("{}%", q.to_lowercase().replace(['%', '_'], "")));
    let paid_only = if filter.unfinished || filter.status.is_some() {
        String::new()
    } else {
        format!("AND status IN ({})", paid_statuses_sql())
    };
    let where_sql = format!(
        "WHERE ($1 = '' OR status = $1) AND ($2 = 0 OR product_id = $2)
                     AND ($3 = '' OR LOWER(github_login) LIKE $3 OR LOWER(email) LIKE $3) {paid_only}"
    );
    let status = filter.status.map(PurchaseStatus::as_str).unwrap_or_default();
    let binds = (status, filter.product_id.map(ProductId::get).unwrap_or(0), q.unwrap_or_default());
    let count = async {
        match window {
            // The count and the page are independent: read at once.
            Some(_) => sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM purchases {where_sql}"))
                .bind(binds.0)
                .bind(binds.1)
                .bind(&binds.2)
                .fetch_one(db.pool())
                .await
                .map_err(Error::from),
            None => Ok(0),
        }
    };
    let limit = window.map(|(limit, offset)| format!("LIMIT {limit} OFFSET {offset}")).unwrap_or_default();
    let sql = format!("SELECT {COLUMNS} FROM purchases {where_sql} ORDER BY {order} {limit}");
    let items = async {
        sqlx::query_as::<_, Purchase>(&sql)
            .bind(binds.0)
            .bind(binds.1)
            .bind(&binds.2)
            .fetch_all(db.pool())
            .await
            .map_err(Error::from)
    };
    let (total, items) = tokio::try_join!(count, items)?;
    Ok((total, items))
}

/// The purchase's history, oldest first.
pub async fn log(db: &Db, purchase_id: PurchaseId) -> Result<Vec<LogEntry>> {
    Ok(sqlx::query_as::<_, LogEntry>(
        "SELECT id, from_status, to_status, action, cause_kind, cause_ref, detail, repository_id, created_at FROM access_log WHERE purchase_id = $1 ORDER BY id",
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
    let pattern =
        q.map(str::trim).filter(|q| !q.is_empty()).map(|q| format!("{}%", q.to_lowercase().replace(['%', '_'], "")));
    // Unfinished checkouts (never paid) are not customers.
    let paid = paid_statuses_sql();
    let where_sql = if pattern.is_some() {
        format!("WHERE status IN ({paid}) AND (LOWER(github_login) LIKE $1 OR LOWER(email) LIKE $1)")
    } else {
        format!("WHERE status IN ({paid})")
    };
    let total_sql = format!("SELECT COUNT(DISTINCT github_user_id) FROM purchases {where_sql}");
    let list_sql = format!(
        "SELECT github_user_id, MAX(github_login) AS github_login, MAX(email) AS email, COUNT(*) AS purchases,
                SUM(CASE WHEN status IN ({access}) THEN 1 ELSE 0 END) AS active, MIN(created_at) AS first_purchase_at
         FROM purchases {where_sql}
         GROUP BY github_user_id ORDER BY MAX(created_at) DESC, github_user_id LIMIT {per_page} OFFSET {}",
        (page - 1) * per_page,
        access = statuses_sql(PurchaseStatus::gives_access),
    );
    let mut total = sqlx::query_scalar::<_, i64>(&total_sql);
    let mut items = sqlx::query_as::<_, CustomerSummary>(&list_sql);
    if let Some(p) = &pattern {
        total = total.bind(p.clone());
        items = items.bind(p.clone());
    }
    Ok(Page { total: total.fetch_one(db.pool()).await?, items: items.fetch_all(db.pool()).await?, page, per_page })
}

/// The purchases a filter matches, as CSV (times in RFC 3339 UTC, amounts
/// in minor units as Stripe counts them).
pub async fn export_csv(db: &Db, filter: &Filter) -> Result<Vec<u8>> {
    let items = all(db, filter).await?;
    // Each product's repositories, "owner/name" separated by spaces.
    let repos: std::collections::HashMap<ProductId, String> = crate::repositories::by_product(db)
        .await?
        .into_iter()
        .map(|(id, included)| (id, included.iter().map(|i| i.repository.full_name()).collect::<Vec<_>>().join(" ")))
        .collect();
    let time = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    // Text a buyer (or an API key) can choose: neutralised for spreadsheets.
    let text = |s: String| spreadsheet_safe(&s);
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "purchase_id",
        "created_at",
        "github_login",
        "github_user_id",
        "email",
        "repository",
        "status",
        "status_reason",
        "amount_minor_units",
        "currency",
        "paid_at",
        "revoked_at",
    ];
    let csv_error = |e: csv::Error| Error::Internal(format!("CSV: {e}"));
    out.write_record(header).map_err(csv_error)?;
    for p in items {
        out.write_record([
            p.public_id,
            time(Some(p.created_at)),
            text(p.github_login),
            p.github_user_id.to_string(),
            text(p.email),
            text(repos.get(&p.product_id).cloned().unwrap_or_default()),
            p.status.to_string(),
            text(p.status_reason.unwrap_or_default()),
            p.amount.to_string(),
            p.currency,
            time(p.paid_at),
            time(p.revoked_at),
        ])
        .map_err(csv_error)?;
    }
    out.into_inner().map_err(|e| Error::Internal(format!("CSV: {e}")))
}

/// The statuses that match `which`, as an SQL list of literals (written
/// from the enum, so no status word is spelled in a query).
pub(crate) fn statuses_sql(which: fn(PurchaseStatus) -> bool) -> String {
    PurchaseStatus::ALL.iter().filter(|s| which(**s)).map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// Purchases that were paid at some point, as an SQL list.
pub(crate) fn paid_statuses_sql() -> String {
    statuses_sql(PurchaseStatus::was_paid)
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return is read as a formula by Excel, LibreOffice and
/// Google Sheets, so it gets a leading `'` (OWASP's advice for CSV exports).
pub fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// A customer (one GitHub account) as the creator's customer page shows
/// them: every purchase, each with its whole access log.
pub async fn of_customer(db: &Db, github_user_id: GithubUserId) -> Result<Vec<(Purchase, Vec<LogEntry>)>> {
    let items: Vec<Purchase> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM purchases WHERE github_user_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(github_user_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(items.len());
    for p in items {
        let history = log(db, p.id).await?;
        out.push((p, history));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_neutralised_and_plain_text_kept() {
        for formula in ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://evil.example\")"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        for plain in ["alice@example.com", "octocat", "", "sandbox-org/enterprise-sdk", "refunded"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }
}
