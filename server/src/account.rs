//! The customer's side (`/account`): their purchases in words, and what
//! they may do about them — resend an invitation, move access to another
//! GitHub account, open Stripe's billing portal. Every lookup is scoped to
//! the signed-in customer: another customer's purchase is "not found".

use crate::{
    access,
    clock::{self, day},
    domain::{Action, CauseKind, IntBool, ProductId, PurchaseId, PurchaseStatus as Status, Reason},
    github_accounts,
    grants::RepoGrant,
    prices::Interval,
    purchase_state::Cause,
    purchases::{self, Purchase},
    session_user::Customer,
    AppState, Db, Error, Result,
};

/// Resends per purchase per day (GitHub emails each invitation).
pub const RESENDS_PER_DAY: i64 = 3;
/// Days between two moves of one purchase to another account.
pub const MOVE_EVERY_DAYS: i64 = 30;

/// One purchase as its customer sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: PurchaseId,
    pub public_id: String,
    pub status: Status,
    pub status_reason: Option<String>,
    pub status_reason_code: Option<Reason>,
    pub github_login: String,
    pub amount: i64,
    pub currency: String,
    pub kind: Interval,
    /// The price's amount and trial (what the buyer pays once a trial ends).
    pub price_amount: i64,
    pub trial_days: i64,
    pub current_period_end: Option<i64>,
    pub cancel_at: Option<i64>,
    pub grace_until: Option<i64>,
    pub paid_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub moved_at: Option<i64>,
    /// The end of a period of access bought with a one-time price.
    pub access_until: Option<i64>,
    #[sqlx(try_from = "IntBool")]
    pub has_billing: bool,
    /// The address it was paid with: billing opens only for its proven owner.
    pub email: String,
    pub title: String,
    pub slug: String,
    pub product_id: ProductId,
    /// A team purchase: its seats (its managers hand them out).
    pub seats: Option<i64>,
    pub seats_next: Option<i64>,
    /// A seat: whose team purchase gave it.
    pub seat_of: Option<PurchaseId>,
    pub given_by: Option<String>,
    /// Each repository the purchase grants, with where its access stands.
    #[sqlx(skip)]
    pub repositories: Vec<RepoGrant>,
}

impl Row {
    /// The link to accept a pending invitation (the first, if several wait).
    pub fn invitation_url(&self) -> Option<String> {
        self.repositories.iter().find_map(|r| r.invitation_url()).map(str::to_owned)
    }
}

/// The condition matching a customer's purchases, with its two binds: the
/// GitHub id they signed in with and the email a link was sent to (either
/// may be absent; absent matches nothing). A seat is its holder's (its
/// email is the payer's: the payer sees it through the team purchase);
/// a team purchase is also its appointed managers'.
const MINE: &str = "(p.github_user_id = $1 OR (LOWER(p.email) = $2 AND p.seat_of IS NULL)
    OR EXISTS (SELECT 1 FROM purchase_managers m WHERE m.purchase_id = p.id AND m.github_user_id = $1))";

fn binds(who: &Customer) -> (i64, String) {
    // -1 and "" match no purchase: ids are positive, emails are checked on entry.
    (who.github_user_id.unwrap_or(-1), who.email.clone().unwrap_or_default().to_lowercase())
}

/// Every purchase this customer paid for (unfinished checkouts are not
/// purchases), newest first.
pub async fn purchases(db: &Db, who: &Customer) -> Result<Vec<Row>> {
    let (id, email) = binds(who);
    let sql = format!(
        "{SELECT_ROWS} WHERE {MINE} AND p.status IN ({}) ORDER BY p.created_at DESC, p.id DESC",
        crate::purchases::paid_statuses_sql()
    );
    let mut rows = sqlx::query_as::<_, Row>(&sql).bind(id).bind(email).fetch_all(db.pool()).await?;
    for moved in &who.moved_away {
        if !rows.iter().any(|r| &r.public_id == moved) {
            let sql = format!("{SELECT_ROWS} WHERE p.public_id = $1");
            rows.extend(sqlx::query_as::<_, Row>(&sql).bind(moved).fetch_optional(db.pool()).await?);
        }
    }
    // Only the products this customer bought (a handful), not the catalogue.
    let mut products: std::collections::HashMap<ProductId, crate::products::Product> = std::collections::HashMap::new();
    let ids: Vec<PurchaseId> = rows.iter().map(|r| r.id).collect();
    let grants = crate::grants::of_purchases(db, &ids).await?;
    for row in &mut rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = products.entry(row.product_id) {
            slot.insert(crate::products::get(db, row.product_id).await?);
        }
        let held = grants.get(&row.id).map(Vec::as_slice).unwrap_or_default();
        row.repositories = RepoGrant::list(&products[&row.product_id], held);
    }
    Ok(rows)
}

const SELECT_ROWS: &str =
    "SELECT p.id, p.public_id, p.status, p.status_reason, p.status_reason_code, p.github_login, p.amount, p.currency, pr.kind,
        pr.amount AS price_amount, pr.trial_days,
        p.current_period_end, p.cancel_at, p.grace_until, p.paid_at, p.revoked_at, p.moved_at, p.access_until,
        CASE WHEN p.stripe_customer_id IS NULL THEN 0 ELSE 1 END AS has_billing, p.email,
        r.title, r.slug, p.product_id, p.seats, p.seats_next, p.seat_of, c.github_login AS given_by
    FROM purchases p JOIN products r ON r.id = p.product_id JOIN prices pr ON pr.id = p.price_id
    LEFT JOIN purchases c ON c.id = p.seat_of";

/// This customer's purchase with this public id — or `NotFound`, whether
/// it does not exist or belongs to someone else.
pub async fn owned(db: &Db, who: &Customer, public_id: &str) -> Result<Purchase> {
    let (id, email) = binds(who);
    let sql = format!(
        "SELECT p.id FROM purchases p WHERE p.public_id = $3 AND {MINE} AND p.status IN ({})",
        crate::purchases::paid_statuses_sql()
    );
    let mut found: Option<PurchaseId> =
        sqlx::query_scalar(&sql).bind(id).bind(email).bind(public_id).fetch_optional(db.pool()).await?;
    if found.is_none() && who.moved_away.iter().any(|m| m == public_id) {
        found = sqlx::query_scalar("SELECT id FROM purchases WHERE public_id = $1")
            .bind(public_id)
            .fetch_optional(db.pool())
            .await?;
    }
    purchases::get(db, found.ok_or(Error::NotFound)?).await
}

fn cause(who: &Customer) -> Cause {
    Cause::Customer(who.describe())
}

/// "Resend invitation": at most `RESENDS_PER_DAY` a day per purchase.
pub async fn resend_invitation(state: &AppState, who: &Customer, public_id: &str) -> Result<Purchase> {
    let p = owned(&state.db, who, public_id).await?;
    if p.is_company() {
        return Err(Error::invalid(
            "status",
            "a team purchase's invitations are its seats': resend one from the seats list",
        ));
    }
    resend_checked(state, &p, &cause(who)).await
}

/// A resend for a purchase (or seat) the caller may act on: refused when
/// access is already active, and beyond `RESENDS_PER_DAY` a day.
pub(crate) async fn resend_checked(state: &AppState, p: &Purchase, cause: &Cause) -> Result<Purchase> {
    if p.status == Status::Active {
        return Err(Error::invalid("status", "you already have access: the repository is in your GitHub account"));
    }
    let recent = crate::purchase_state::count_actions(
        &state.db,
        p.id,
        CauseKind::Customer,
        &Action::RESENDS,
        clock::now() - 86_400,
    )
    .await?;
    if recent >= RESENDS_PER_DAY {
        return Err(Error::invalid("resend", format!("the invitation was resent {RESENDS_PER_DAY} times today: check your GitHub notifications and email, or try again tomorrow")));
    }
    access::reinvite(state, p.id, cause).await
}

/// "Move access": another GitHub account gets the access this purchase
/// gives; at most once every `MOVE_EVERY_DAYS` days.
pub async fn move_access(state: &AppState, who: &Customer, public_id: &str, github_username: &str) -> Result<Purchase> {
    let p = owned(&state.db, who, public_id).await?;
    if p.is_company() || p.seat_of.is_some() {
        return Err(Error::invalid(
            "github_username",
            "a seat moves through its team's managers: they take it back and give it to the other account",
        ));
    }
    if let Some(moved) = p.moved_at {
        let next = moved + MOVE_EVERY_DAYS * 86_400;
        if clock::now() < next {
            return Err(Error::invalid(
                "github_username",
                format!(
                    "access to this purchase was moved less than {MOVE_EVERY_DAYS} days ago; it can move again on {}",
                    day(next)
                ),
            ));
        }
    }
    let product = crate::products::get(&state.db, p.product_id).await?;
    let account = github_accounts::check(state, product.lookup_owner(), github_username).await?;
    access::move_to(state, p.id, &account, &cause(who)).await
}

/// A Stripe Billing Portal session for this purchase's Stripe customer
/// (update card, cancel, invoices), returning to `/account`.
pub async fn billing_portal(state: &AppState, who: &Customer, public_id: &str) -> Result<String> {
    let p = owned(&state.db, who, public_id).await?;
    // The portal shows the payer's card and invoices: the person the access
    // was given to (their GitHub account) is not necessarily the payer.
    if !who.proved_email(&p.email) {
        return Err(Error::invalid(
            "billing",
            "Billing belongs to whoever paid: sign in with the email address this purchase was paid with (ask for a link below), or with a GitHub account that has that address verified",
        ));
    }
    let Some(customer) = p.stripe_customer_id else {
        return Err(Error::invalid("billing", "Stripe keeps no billing account for this purchase: it was a one-time payment, and its receipt is in your email"));
    };
    let return_url = state.config.public_url.join("account").map_err(|e| Error::Internal(e.to_string()))?;
    Ok(state.stripe.billing_portal(&customer, return_url.as_str()).await?)
}

/// Where a purchase stands, in the customer's words: a headline and, when
/// there is one, the date that matters next. The words are chosen by status
/// and reason code; the reason's message is only quoted.
pub fn describe(row: &Row, now: i64) -> (String, Option<String>) {
    let reason = row.status_reason.clone().unwrap_or_default();
    let code = row.status_reason_code;
    let headline = match row.status {
        Status::Paid => match code {
            Some(c) if c.is_queued() => format!("Paid — invitation {reason}"),
            Some(c) if c.not_invited() => format!("Paid — {reason}"),
            _ => "Paid — sending your invitation".to_owned(),
        },
        Status::Invited if code == Some(Reason::InvitationExpired) => "Invitation expired — resend it".to_owned(),
        Status::Invited => "Invitation sent — accept it on GitHub".to_owned(),
        Status::Active => match (row.grace_until, row.cancel_at) {
            (Some(grace), _) if grace > now => format!("Payment failed — update your card by {}", day(grace)),
            // The date is said once, below ("Ends on …; it will not renew").
            (_, Some(_)) => "Cancelled — access continues until the end of the paid period".to_owned(),
            _ => "Active".to_owned(),
        },
        Status::Revoked if code == Some(Reason::Renewed) => format!("Renewed — {reason}"),
        Status::Revoked if reason.is_empty() => "Revoked".to_owned(),
        Status::Revoked => format!("Revoked: {reason}"),
        Status::Pending | Status::Expired => row.status.to_string(),
    };
    let when = match row.status {
        // Access did not end: it went on through the newer purchase.
        Status::Revoked if code == Some(Reason::Renewed) => None,
        Status::Revoked => row.revoked_at.map(|t| format!("Access ended on {}", day(t))),
        _ if row.kind.is_subscription() => match (row.cancel_at, row.current_period_end) {
            (Some(end), _) => Some(format!("Ends on {}; it will not renew", day(end))),
            (None, Some(end)) => Some(format!("Renews on {}", day(end))),
            _ => None,
        },
        _ => match (row.access_until, row.paid_at) {
            (Some(until), Some(paid)) => {
                Some(format!("Access until {}: a period of access paid on {}", day(until), day(paid)))
            }
            (_, paid) => paid.map(|t| format!("One-time purchase, paid on {}", day(t))),
        },
    };
    (headline, when)
}

/// Within a week of a known end of access: what the customer page says
/// (the same as the warning emails), without the download link.
pub fn ending_soon(row: &Row, now: i64) -> Option<String> {
    let dates = crate::access_warnings::Dates {
        status: row.status,
        grace_until: row.grace_until,
        cancel_at: row.cancel_at,
        access_until: row.access_until,
    };
    let (ends_at, ending) = crate::access_warnings::end_date(dates, now)?;
    crate::access_warnings::due_threshold(ends_at, now)?;
    Some(format!(
        "Your access ends on {}, because {}. GitHub then removes you from the repository and deletes your private forks of it: download the code while you can.",
        day(ends_at),
        ending.why()
    ))
}

/// Within a week of the end of a period of access: another period may be
/// bought now (it starts where this one ends).
pub fn renewal_offer(row: &Row, now: i64) -> bool {
    let dates = crate::access_warnings::Dates {
        status: row.status,
        grace_until: row.grace_until,
        cancel_at: row.cancel_at,
        access_until: row.access_until,
    };
    matches!(
        crate::access_warnings::end_date(dates, now),
        Some((ends_at, crate::access_warnings::Ending::PeriodOfAccess))
            if crate::access_warnings::due_threshold(ends_at, now).is_some()
    )
}

/// What the purchase costs, in words: "$19.00 / month", or during a trial
/// (nothing paid yet) "14-day trial, then $19.00 / month".
pub fn price_words(row: &Row) -> String {
    crate::prices::paid_words(row.amount, &row.currency, row.kind, row.price_amount, row.trial_days)
}

/// Whether a purchase's (or seat's) invitation can be sent again: it waits
/// to be accepted, or GitHub refused it for an account since fixed.
pub fn resend_offered(status: Status, reason: Option<Reason>) -> bool {
    status == Status::Invited || (status == Status::Paid && reason.is_some_and(Reason::not_invited))
}

/// What the customer may do with a purchase: the page shows exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerCan {
    /// Resend the invitation (waiting, expired, or refused for an account
    /// since fixed).
    pub resend: bool,
    /// Move access to another account (now; see `move_after` for later).
    pub move_access: bool,
    /// Open Stripe's billing portal (only whoever proved the paying address).
    pub manage_billing: bool,
    /// Open the repository on GitHub: the invitation was accepted.
    pub open_repository: bool,
}

/// The date a purchase moved less than `MOVE_EVERY_DAYS` ago may move again.
pub fn move_after(row: &Row, now: i64) -> Option<i64> {
    row.moved_at.map(|t| t + MOVE_EVERY_DAYS * 86_400).filter(|t| *t > now)
}

pub fn customer_can(row: &Row, who: &Customer, now: i64) -> CustomerCan {
    // A team purchase holds no access itself (its seats do), and a seat
    // moves through its managers.
    let team = row.seats.is_some();
    let seat = row.seat_of.is_some();
    CustomerCan {
        resend: !team && resend_offered(row.status, row.status_reason_code),
        move_access: !team && !seat && row.status.gives_access() && move_after(row, now).is_none(),
        manage_billing: row.has_billing && who.proved_email(&row.email),
        open_repository: !team && row.status == Status::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, reason: Option<(Reason, &str)>) -> Row {
        Row {
            id: PurchaseId(1),
            public_id: "p".into(),
            status: status.parse().unwrap(),
            status_reason: reason.map(|(_, m)| m.into()),
            status_reason_code: reason.map(|(c, _)| c),
            github_login: "alice".into(),
            amount: 900,
            currency: "usd".into(),
            kind: Interval::Month,
            price_amount: 900,
            trial_days: 0,
            current_period_end: Some(1_799_712_000),
            cancel_at: None,
            grace_until: None,
            paid_at: Some(1_790_000_000),
            revoked_at: None,
            moved_at: None,
            access_until: None,
            has_billing: true,
            email: "alice@example.com".into(),
            title: "SDK".into(),
            slug: "s".into(),
            product_id: ProductId(1),
            seats: None,
            seats_next: None,
            seat_of: None,
            given_by: None,
            repositories: vec![RepoGrant { full_name: "o/n".into(), grant: None }],
        }
    }

    #[test]
    fn a_period_of_access_says_when_it_ends() {
        let mut bought = row("active", None);
        bought.kind = Interval::OneTime;
        bought.current_period_end = None;
        bought.paid_at = Some(1_767_225_600); // 1 Jan 2026
        bought.access_until = Some(1_767_225_600 + 365 * 86_400);
        let (_, when) = describe(&bought, 1_767_225_600);
        assert_eq!(when.as_deref(), Some("Access until 1 Jan 2027: a period of access paid on 1 Jan 2026"));
        bought.access_until = None;
        assert_eq!(describe(&bought, 0).1.as_deref(), Some("One-time purchase, paid on 1 Jan 2026"));
    }

    #[test]
    fn a_trial_says_what_comes_after_it() {
        let mut trial = row("invited", None);
        trial.amount = 0;
        trial.price_amount = 1900;
        trial.trial_days = 14;
        assert_eq!(price_words(&trial), "14-day trial, then $19.00 / month");
        assert_eq!(price_words(&row("active", None)), "$9.00 / month");
    }

    #[test]
    fn statuses_are_described_in_words() {
        let now = 1_795_000_000;
        assert_eq!(
            describe(&row("invited", None), now),
            ("Invitation sent — accept it on GitHub".into(), Some("Renews on 12 Jan 2027".into()))
        );
        assert_eq!(
            describe(
                &row("invited", Some((Reason::InvitationExpired, "invitation expired: resend it from your account"))),
                now
            )
            .0,
            "Invitation expired — resend it"
        );
        assert_eq!(describe(&row("active", None), now).0, "Active");
        let mut ending = row("active", None);
        ending.cancel_at = Some(1_799_712_000);
        assert_eq!(
            describe(&ending, now),
            (
                "Cancelled — access continues until the end of the paid period".into(),
                Some("Ends on 12 Jan 2027; it will not renew".into())
            )
        );
        let mut failing = row("active", None);
        failing.grace_until = Some(1_796_256_000);
        assert_eq!(describe(&failing, now).0, "Payment failed — update your card by 3 Dec 2026");
        let mut refunded = row("revoked", Some((Reason::Refunded, "refunded")));
        refunded.revoked_at = Some(1_795_000_000);
        assert_eq!(describe(&refunded, now).0, "Revoked: refunded");
        assert!(describe(&refunded, now).1.unwrap().starts_with("Access ended on"));
        let mut once = row("active", None);
        once.kind = Interval::OneTime;
        assert_eq!(describe(&once, now).1.unwrap(), format!("One-time purchase, paid on {}", day(1_790_000_000)));
        assert_eq!(
            describe(&row("paid", Some((Reason::QueuedRateLimit, "queued: GitHub's rate limit is reached"))), now).0,
            "Paid — invitation queued: GitHub's rate limit is reached"
        );
    }
}
