//! Warnings before access ends. When RepoPass knows the date a purchase's
//! access will end — a subscription cancelled at the end of its period, a
//! period of access running out, a failed renewal inside its grace period —
//! the customer is emailed seven days and one day before: what ends, when,
//! why, what keeps it, and that GitHub deletes their private forks, with a
//! link to download the repository while they still can.
//!
//! Each (purchase, end date, threshold) is warned once: the row in
//! `access_warnings` and the email are written in one transaction. An end
//! that was undone (the subscription resumed, the card paid) has no date
//! any more and so no warning; an end that moved is warned afresh.

use crate::{
    domain::EmailKind,
    emails::{self, Draft},
    preferences::{self, Preference},
    products,
    purchases::{self, Purchase},
    AppState, Result,
};

const DAY: i64 = 86_400;
/// Days before the end at which the customer is warned, earliest first.
pub const THRESHOLDS: [i64; 2] = [7, 1];

/// Why access ends on its date, as the customer is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The subscription was cancelled and ends with the paid period.
    Cancelled,
    /// A one-time price's period of access runs out.
    PeriodOfAccess,
    /// A renewal failed; access ends when the grace period does, unless paid.
    PaymentFailed,
}

impl Ending {
    pub fn why(self) -> &'static str {
        match self {
            Ending::Cancelled => "the subscription was cancelled and ends with the period already paid",
            Ending::PeriodOfAccess => "the period of access that came with your purchase runs out",
            Ending::PaymentFailed => "the last renewal payment failed",
        }
    }

    fn keep_it(self, account: &str, product: &str) -> String {
        match self {
            Ending::Cancelled => format!("Resume the subscription before then in your account: {account}"),
            // Bought before the end, it starts where this one ends (`renewals`).
            Ending::PeriodOfAccess => format!(
                "Buy another period on the product page before then; it starts when this one ends, so nothing is lost: {product}"
            ),
            Ending::PaymentFailed => format!("Update your card in your account before then: {account}"),
        }
    }
}

/// The date a purchase's access ends and why, if RepoPass knows one.
pub fn end_of(p: &Purchase, now: i64) -> Option<(i64, Ending)> {
    end_date(
        Dates { status: p.status, grace_until: p.grace_until, cancel_at: p.cancel_at, access_until: p.access_until },
        now,
    )
}

/// The columns an end date is read from.
#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub status: crate::domain::PurchaseStatus,
    pub grace_until: Option<i64>,
    pub cancel_at: Option<i64>,
    pub access_until: Option<i64>,
}

/// The earliest known end of access and why (None: none known, or no access).
pub fn end_date(d: Dates, now: i64) -> Option<(i64, Ending)> {
    if !d.status.is_granted() {
        return None;
    }
    [
        d.grace_until.filter(|g| *g > now).map(|g| (g, Ending::PaymentFailed)),
        d.cancel_at.map(|c| (c, Ending::Cancelled)),
        d.access_until.map(|a| (a, Ending::PeriodOfAccess)),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|(at, _)| *at)
}

/// The threshold (7 or 1 days) whose window `now` is in, for an end at
/// `ends_at`: from that many days before until the next threshold (or the end).
pub fn due_threshold(ends_at: i64, now: i64) -> Option<i64> {
    if now >= ends_at {
        return None;
    }
    THRESHOLDS.iter().copied().rev().find(|days| now >= ends_at - days * DAY)
}

/// Sends the warnings that are due (run on a schedule). The number sent.
pub async fn send_due(state: &AppState) -> Result<usize> {
    if !preferences::is_on(&state.db, Preference::AccessEndingEmails).await? {
        return Ok(0);
    }
    let now = crate::dated_clock::now(state).await?;
    let mut sent = 0;
    for p in purchases::ending(&state.db).await? {
        let Some((ends_at, ending)) = end_of(&p, now) else { continue };
        let Some(days) = due_threshold(ends_at, now) else { continue };
        let draft = warning(state, &p, ends_at, ending).await?;
        let mut tx = state.db.pool().begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO access_warnings (purchase_id, ends_at, days_before, sent_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(p.id)
        .bind(ends_at)
        .bind(days)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            emails::enqueue_in(&mut tx, &draft, Some(p.id)).await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    if sent > 0 {
        state.wake.notify();
    }
    Ok(sent)
}

async fn warning(state: &AppState, p: &Purchase, ends_at: i64, ending: Ending) -> Result<Draft> {
    let product = products::get(&state.db, p.product_id).await?;
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let web = state.config.github.web_url.as_str().trim_end_matches('/');
    let names = product.full_names();
    let what = match names.as_slice() {
        [one] => format!("the private GitHub repository {one}"),
        many => format!("the private GitHub repositories {}", many.join(", ")),
    };
    let downloads: String = names.iter().map(|n| format!("{web}/{n}/archive/HEAD.zip\n")).collect();
    let date = crate::clock::day(ends_at);
    let body = format!(
        "Hello @{login},\n\n\
         Your access to {title} ({what}) ends on {date}, because {why}.\n\n\
         To keep it: {keep}\n\n\
         When access ends, GitHub removes you from the repository and deletes your private forks of it. \
         To keep a copy of the code, download it while you still can:\n{downloads}\n\
         Your purchases are at {base}/account.\n\n— RepoPass",
        login = p.github_login,
        title = product.title,
        why = ending.why(),
        keep = ending.keep_it(&format!("{base}/account"), &format!("{base}/p/{}", product.slug)),
    );
    Ok(Draft {
        to: p.email.clone(),
        subject: format!("Your access to {} ends on {date}", product.title),
        body,
        kind: EmailKind::AccessEnding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_has_its_window() {
        let end = 100 * DAY;
        assert_eq!(due_threshold(end, end - 8 * DAY), None, "too early");
        assert_eq!(due_threshold(end, end - 7 * DAY), Some(7));
        assert_eq!(due_threshold(end, end - 2 * DAY), Some(7));
        assert_eq!(due_threshold(end, end - DAY), Some(1));
        assert_eq!(due_threshold(end, end - 1), Some(1));
        assert_eq!(due_threshold(end, end), None, "over");
    }
}
