//! The creator's summary by email, daily or weekly (Settings →
//! Notifications): revenue, new customers, cancellations, invitations
//! waiting or expired — since the last summary. Sent by the `send_summary`
//! job, which the schedule enqueues once per day (or per week, on Mondays)
//! of the clock of dated decisions, so moving the sandbox's clock a day
//! ahead sends one.

use crate::{
    clock, dated_clock,
    domain::{EmailKind, PurchaseStatus, Reason},
    jobs::Outcome,
    preferences::{self, SummaryEvery},
    AppState, Db, Result,
};

const DAY: i64 = 86_400;

/// The period `at` (dated unix seconds) falls in: a day, or a week from
/// Monday (1 January 1970 was a Thursday).
pub fn slot(every: SummaryEvery, at: i64) -> Option<i64> {
    let day = at.div_euclid(DAY);
    match every {
        SummaryEvery::Never => None,
        SummaryEvery::Day => Some(day),
        SummaryEvery::Week => Some((day + 3).div_euclid(7)),
    }
}

/// What a summary tells, between two moments (real unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub since: i64,
    pub until: i64,
    /// Money in (payments and renewals), per currency, minor units.
    pub revenue: Vec<(String, i64)>,
    /// Refunded, per currency (positive).
    pub refunded: Vec<(String, i64)>,
    pub new_customers: i64,
    /// Subscriptions that ended.
    pub cancellations: i64,
    /// Subscriptions set to end at their period's end, as of now.
    pub ending: i64,
    /// Invitations out and not accepted yet, as of now.
    pub invitations_pending: i64,
    /// Of those, the ones GitHub let expire (the customer can resend).
    pub invitations_expired: i64,
}

pub async fn gather(db: &Db, since: i64, until: i64) -> Result<Summary> {
    let pool = db.pool();
    let money = |kinds: &'static str| {
        format!(
            "SELECT currency, CAST(SUM(amount) AS BIGINT) FROM payments WHERE kind IN ({kinds}) AND created_at >= $1 AND created_at < $2 GROUP BY currency ORDER BY currency"
        )
    };
    let revenue: Vec<(String, i64)> =
        sqlx::query_as(&money("'payment', 'renewal'")).bind(since).bind(until).fetch_all(pool).await?;
    let refunded: Vec<(String, i64)> =
        sqlx::query_as(&money("'refund'")).bind(since).bind(until).fetch_all(pool).await?;
    let new_customers: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT github_user_id) FROM purchases WHERE paid_at >= $1 AND paid_at < $2 AND seat_of IS NULL",
    )
    .bind(since)
    .bind(until)
    .fetch_one(pool)
    .await?;
    let cancellations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM purchases WHERE status = $3 AND status_reason_code = $4 AND revoked_at >= $1 AND revoked_at < $2",
    )
    .bind(since)
    .bind(until)
    .bind(PurchaseStatus::Revoked)
    .bind(Reason::SubscriptionEnded)
    .fetch_one(pool)
    .await?;
    let ending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE cancel_at IS NOT NULL AND status IN ($1, $2)")
            .bind(PurchaseStatus::Invited)
            .bind(PurchaseStatus::Active)
            .fetch_one(pool)
            .await?;
    let (invitations_pending, invitations_expired): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN status_reason_code = $2 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM purchases WHERE status = $1",
    )
    .bind(PurchaseStatus::Invited)
    .bind(Reason::InvitationExpired)
    .fetch_one(pool)
    .await?;
    Ok(Summary {
        since,
        until,
        revenue,
        refunded: refunded.into_iter().map(|(c, a)| (c, -a)).collect(),
        new_customers,
        cancellations,
        ending,
        invitations_pending,
        invitations_expired,
    })
}

fn amounts(list: &[(String, i64)]) -> String {
    if list.is_empty() {
        return money::format_amount(0, "usd");
    }
    list.iter().map(|(currency, amount)| money::format_amount(*amount, currency)).collect::<Vec<_>>().join(" + ")
}

/// The email: a subject that says the one number that matters, then each line.
pub fn words(s: &Summary, every: SummaryEvery) -> (String, String) {
    let period = if every == SummaryEvery::Week { "week" } else { "day" };
    let plural = |n: i64, one: &str, many: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {many}") };
    let subject = format!(
        "Your RepoPass {period}: {} from {}",
        amounts(&s.revenue),
        plural(s.new_customers, "new customer", "new customers")
    );
    let mut body = format!("Since {} (UTC):\n\n", clock::day(s.since));
    body.push_str(&format!("Revenue: {}\n", amounts(&s.revenue)));
    if !s.refunded.is_empty() {
        body.push_str(&format!("Refunded: {}\n", amounts(&s.refunded)));
    }
    body.push_str(&format!("New customers: {}\n", s.new_customers));
    body.push_str(&format!("Cancellations: {} ended; {} set to end\n", s.cancellations, s.ending));
    body.push_str(&format!("Invitations not accepted yet: {}", s.invitations_pending));
    if s.invitations_expired > 0 {
        body.push_str(&format!(
            " ({} expired: the customer can send a new one from their account page)",
            s.invitations_expired
        ));
    }
    body.push_str("\n\nChange how often you get this under Settings → Notifications.\n");
    (subject, body)
}

const SENT_AT: &str = "summary_sent_at";

/// The `send_summary` job: the summary since the last one, unless this
/// period's went out already (or summaries are off, or no email is set).
pub async fn send(state: &AppState) -> Result<Outcome> {
    let every = preferences::summary_every(&state.db).await?;
    let dated = dated_clock::now(state).await?;
    let Some(now_slot) = slot(every, dated) else { return Ok(Outcome::Ignored("summaries are off".into())) };
    let Some(to) = preferences::creator_email(&state.db).await? else {
        return Ok(Outcome::Ignored("no creator email to send the summary to".into()));
    };
    // When the last went out (or summaries were chosen), on both clocks:
    // the dated one decides the period, the real one what is counted.
    let last = preferences::text(&state.db, SENT_AT).await?;
    let (last_dated, last_real) = last
        .as_deref()
        .and_then(|v| v.split_once(' '))
        .and_then(|(d, r)| Some((d.parse::<i64>().ok()?, r.parse::<i64>().ok()?)))
        .unwrap_or((dated - period(every), clock::now() - period(every)));
    if slot(every, last_dated) == Some(now_slot) {
        return Ok(Outcome::Ignored("this period's summary went out already".into()));
    }
    // Up to the end of this second: what happened in it is counted now,
    // and the next summary starts after it.
    let until = clock::now() + 1;
    let summary = gather(&state.db, last_real, until).await?;
    let (subject, body) = words(&summary, every);
    let mut tx = state.db.pool().begin().await?;
    let draft = crate::emails::Draft { to, subject, body, kind: EmailKind::Summary };
    crate::emails::enqueue_in(&mut tx, &draft, None).await?;
    preferences::set_text_in(&mut tx, SENT_AT, &format!("{dated} {until}")).await?;
    tx.commit().await?;
    Ok(Outcome::Processed)
}

/// Chosen (or changed): the first summary covers from now, at the next period.
pub async fn chosen(state: &AppState, every: SummaryEvery) -> Result<()> {
    preferences::set_summary_every(&state.db, every).await?;
    let dated = dated_clock::now(state).await?;
    let mut conn = state.db.pool().acquire().await?;
    preferences::set_text_in(&mut conn, SENT_AT, &format!("{dated} {}", clock::now())).await
}

fn period(every: SummaryEvery) -> i64 {
    if every == SummaryEvery::Week {
        7 * DAY
    } else {
        DAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_weeks_from_monday() {
        let monday = 1_764_547_200; // 1 Dec 2025, 00:00 UTC, a Monday
        assert_eq!(slot(SummaryEvery::Week, monday), slot(SummaryEvery::Week, monday + 6 * DAY + DAY - 1));
        assert_ne!(slot(SummaryEvery::Week, monday - 1), slot(SummaryEvery::Week, monday));
        assert_ne!(slot(SummaryEvery::Day, monday), slot(SummaryEvery::Day, monday + DAY));
        assert_eq!(slot(SummaryEvery::Never, monday), None);
    }

    #[test]
    fn the_summary_reads_as_a_creator_would_say_it() {
        let s = Summary {
            since: 1_764_547_200,
            until: 1_764_633_600,
            revenue: vec![("usd".into(), 9800)],
            refunded: vec![],
            new_customers: 2,
            cancellations: 1,
            ending: 0,
            invitations_pending: 3,
            invitations_expired: 1,
        };
        let (subject, body) = words(&s, SummaryEvery::Day);
        assert_eq!(subject, "Your RepoPass day: $98.00 from 2 new customers");
        assert!(body.starts_with("Since 1 Dec 2025 (UTC):"), "{body}");
        assert!(body.contains("Revenue: $98.00\n") && body.contains("New customers: 2\n"), "{body}");
        assert!(body.contains("Cancellations: 1 ended; 0 set to end"), "{body}");
        assert!(body.contains("Invitations not accepted yet: 3 (1 expired"), "{body}");
    }
}
