//! Exports for the creator's tools (a spreadsheet, a CRM, their own
//! scripts): purchases (each with its access log), the access log alone,
//! and the payments ledger, as CSV or JSON Lines. A page is the rows after
//! a cursor (the last id seen), in id order, one indexed read — so a year
//! of data comes out page by page without a request that times out, and a
//! row added meanwhile is not skipped or seen twice.

use serde::Serialize;
use serde_json::Value;

use crate::{
    domain::{Action, CauseKind, PurchaseStatus, Reason},
    Db, Error, Result,
};

/// The most rows one page holds.
pub const MAX_LIMIT: i64 = 5000;
pub const DEFAULT_LIMIT: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// The `format` parameter; absent: JSON Lines.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim) {
            None | Some("") | Some("jsonl") | Some("ndjson") => Ok(Format::JsonLines),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(Error::invalid("format", format!("'{other}' is not a format: use csv or jsonl"))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/x-ndjson",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Purchases,
    AccessLog,
    Payments,
}

/// One page of an export.
#[derive(Debug)]
pub struct Page {
    pub body: String,
    pub rows: usize,
    /// The cursor of the next page; None: this was the last.
    pub next: Option<i64>,
}

/// The page size asked for, checked.
pub fn limit(raw: Option<i64>) -> Result<i64> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(Error::invalid("limit", format!("{n} rows is not a page size: ask for 1 to {MAX_LIMIT}"))),
    }
}

fn time(unix: Option<i64>) -> Option<String> {
    unix.and_then(crate::clock::rfc3339)
}

#[derive(sqlx::FromRow)]
struct PurchaseRow {
    id: i64,
    public_id: String,
    status: PurchaseStatus,
    status_reason_code: Option<Reason>,
    product_id: i64,
    product_slug: String,
    github_login: String,
    github_user_id: i64,
    email: String,
    amount: i64,
    currency: String,
    stripe_subscription_id: Option<String>,
    seats: Option<i64>,
    seat_of: Option<i64>,
    created_at: i64,
    paid_at: Option<i64>,
    activated_at: Option<i64>,
    revoked_at: Option<i64>,
    access_until: Option<i64>,
    current_period_end: Option<i64>,
    cancel_at: Option<i64>,
}

/// A purchase as exported: flat, so a CSV row and a JSON line say the same.
#[derive(Serialize)]
struct PurchaseOut {
    id: i64,
    public_id: String,
    status: PurchaseStatus,
    status_reason_code: Option<Reason>,
    product_id: i64,
    product_slug: String,
    github_login: String,
    github_user_id: i64,
    email: String,
    amount: i64,
    currency: String,
    subscription: bool,
    seats: Option<i64>,
    seat_of: Option<i64>,
    created_at: Option<String>,
    paid_at: Option<String>,
    activated_at: Option<String>,
    revoked_at: Option<String>,
    access_until: Option<String>,
    current_period_end: Option<String>,
    cancel_at: Option<String>,
}

impl From<PurchaseRow> for PurchaseOut {
    fn from(p: PurchaseRow) -> Self {
        PurchaseOut {
            id: p.id,
            public_id: p.public_id,
            status: p.status,
            status_reason_code: p.status_reason_code,
            product_id: p.product_id,
            product_slug: p.product_slug,
            github_login: p.github_login,
            github_user_id: p.github_user_id,
            email: p.email,
            amount: p.amount,
            currency: p.currency,
            subscription: p.stripe_subscription_id.is_some(),
            seats: p.seats,
            seat_of: p.seat_of,
            created_at: time(Some(p.created_at)),
            paid_at: time(p.paid_at),
            activated_at: time(p.activated_at),
            revoked_at: time(p.revoked_at),
            access_until: time(p.access_until),
            current_period_end: time(p.current_period_end),
            cancel_at: time(p.cancel_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: i64,
    purchase_id: i64,
    created_at: i64,
    from_status: Option<PurchaseStatus>,
    to_status: PurchaseStatus,
    action: Action,
    cause_kind: CauseKind,
    detail: Option<String>,
    github_login: Option<String>,
    repository_id: Option<i64>,
}

#[derive(Serialize)]
struct LogOut {
    id: i64,
    purchase_id: i64,
    at: Option<String>,
    from_status: Option<PurchaseStatus>,
    to_status: PurchaseStatus,
    action: Action,
    cause: CauseKind,
    detail: Option<String>,
    github_login: Option<String>,
    repository_id: Option<i64>,
}

impl From<LogRow> for LogOut {
    fn from(l: LogRow) -> Self {
        LogOut {
            id: l.id,
            purchase_id: l.purchase_id,
            at: time(Some(l.created_at)),
            from_status: l.from_status,
            to_status: l.to_status,
            action: l.action,
            cause: l.cause_kind,
            detail: l.detail,
            github_login: l.github_login,
            repository_id: l.repository_id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    purchase_id: i64,
    kind: String,
    amount: i64,
    currency: String,
    stripe_ref: String,
    created_at: i64,
}

#[derive(Serialize)]
struct PaymentOut {
    id: i64,
    purchase_id: i64,
    /// `payment`, `renewal` or `refund` (negative).
    kind: String,
    amount: i64,
    currency: String,
    /// Stripe's id of what happened (a payment intent, an invoice, `refunds:` a charge).
    stripe_ref: String,
    at: Option<String>,
}

const LOG_COLUMNS: &str =
    "id, purchase_id, created_at, from_status, to_status, action, cause_kind, detail, github_login, repository_id";

/// The rows of `dataset` after `after`, at most `limit`, as `format`.
pub async fn page(db: &Db, dataset: Dataset, format: Format, after: i64, limit: i64) -> Result<Page> {
    let pool = db.pool();
    let (lines, last): (Vec<Value>, Option<i64>) = match dataset {
        Dataset::Purchases => {
            let rows: Vec<PurchaseRow> = sqlx::query_as(
                "SELECT p.id, p.public_id, p.status, p.status_reason_code, p.product_id, pr.slug AS product_slug,
                        p.github_login, p.github_user_id, p.email, p.amount, p.currency, p.stripe_subscription_id,
                        p.seats, p.seat_of, p.created_at, p.paid_at, p.activated_at, p.revoked_at, p.access_until,
                        p.current_period_end, p.cancel_at
                 FROM purchases p JOIN products pr ON pr.id = p.product_id
                 WHERE p.id > $1 ORDER BY p.id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let last = rows.last().map(|r| r.id);
            // Each purchase with its access log (JSON only: a CSV row is flat;
            // the access log has an export of its own).
            let logs: Vec<LogRow> = match (format, rows.first(), last) {
                (Format::JsonLines, Some(first), Some(last)) => {
                    sqlx::query_as(&format!(
                    "SELECT {LOG_COLUMNS} FROM access_log WHERE purchase_id BETWEEN $1 AND $2 ORDER BY purchase_id, id"
                ))
                    .bind(first.id)
                    .bind(last)
                    .fetch_all(pool)
                    .await?
                }
                _ => Vec::new(),
            };
            let outs: Vec<PurchaseOut> = rows.into_iter().map(PurchaseOut::from).collect();
            if format == Format::Csv {
                return finish(csv(&outs)?, outs.len(), last, limit);
            }
            let mut logs = logs.into_iter().peekable();
            let mut lines = Vec::with_capacity(outs.len());
            for out in &outs {
                let mut line = to_value(out)?;
                // Both in purchase order: this purchase's entries are next.
                let mine: Vec<LogOut> = std::iter::from_fn(|| logs.next_if(|l| l.purchase_id <= out.id))
                    .filter(|l| l.purchase_id == out.id)
                    .map(LogOut::from)
                    .collect();
                line["access_log"] = to_value(&mine)?;
                lines.push(line);
            }
            (lines, last)
        }
        Dataset::AccessLog => {
            let rows: Vec<LogRow> =
                sqlx::query_as(&format!("SELECT {LOG_COLUMNS} FROM access_log WHERE id > $1 ORDER BY id LIMIT $2"))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
            let last = rows.last().map(|r| r.id);
            let outs: Vec<LogOut> = rows.into_iter().map(LogOut::from).collect();
            if format == Format::Csv {
                return finish(csv(&outs)?, outs.len(), last, limit);
            }
            (outs.iter().map(to_value).collect::<Result<_>>()?, last)
        }
        Dataset::Payments => {
            let rows: Vec<PaymentRow> = sqlx::query_as(
                "SELECT id, purchase_id, kind, amount, currency, stripe_ref, created_at FROM payments WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let last = rows.last().map(|r| r.id);
            let outs: Vec<PaymentOut> = rows
                .into_iter()
                .map(|r| PaymentOut {
                    id: r.id,
                    purchase_id: r.purchase_id,
                    kind: r.kind,
                    amount: r.amount,
                    currency: r.currency,
                    stripe_ref: r.stripe_ref,
                    at: time(Some(r.created_at)),
                })
                .collect();
            if format == Format::Csv {
                return finish(csv(&outs)?, outs.len(), last, limit);
            }
            (outs.iter().map(to_value).collect::<Result<_>>()?, last)
        }
    };
    let body = lines.iter().map(|l| format!("{l}\n")).collect();
    finish(body, lines.len(), last, limit)
}

/// A full page may have more after it; a short one is the end.
fn finish(body: String, rows: usize, last: Option<i64>, limit: i64) -> Result<Page> {
    Ok(Page { body, rows, next: last.filter(|_| rows as i64 == limit) })
}

fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("export: {e}")))
}

/// Rows as CSV, a header of the field names first (in their order).
fn csv<T: Serialize>(rows: &[T]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|e| Error::Internal(format!("export: {e}")))?;
    }
    let bytes = writer.into_inner().map_err(|e| Error::Internal(format!("export: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("export: {e}")))
}
