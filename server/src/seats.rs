//! Team purchases, as their managers run them from `/account`: give a
//! seat to a GitHub account, take one back, resend a holder's invitation,
//! appoint another manager, change the number of seats (more now, charged
//! pro rata; fewer from the next renewal, asking whom to drop rather than
//! dropping anyone). Each seat is its holder's own purchase (see `teams`),
//! so its access is exactly a purchase of one's; a team's start, end and
//! restore are `access`'s.

use crate::{
    access, clock,
    domain::{Action, GithubUserId, PurchaseId, PurchaseStatus as Status, Reason},
    github_accounts, products,
    purchase_state::{transition, Cause, Change, Value},
    purchases::{self, Purchase},
    session_user::Customer,
    stripe::Proration,
    teams::{self, holders, new_seat, team, Team},
    AppState, Db, Error, Result,
};

/// The company purchase with this public id that `who` manages — or
/// `NotFound`, whether it does not exist, is not a team purchase, or is
/// someone else's (a holder is not a manager).
pub async fn managed(db: &Db, who: &Customer, public_id: &str) -> Result<Purchase> {
    let Some(user) = who.github_user_id else {
        // Seats are handed out to GitHub accounts by a GitHub account.
        return Err(Error::NotFound);
    };
    let found: Option<PurchaseId> = sqlx::query_scalar(&format!(
        "SELECT p.id FROM purchases p WHERE p.public_id = $1 AND p.seats IS NOT NULL AND p.status IN ({})
           AND EXISTS (SELECT 1 FROM purchase_managers m WHERE m.purchase_id = p.id AND m.github_user_id = $2)",
        purchases::paid_statuses_sql()
    ))
    .bind(public_id)
    .bind(user)
    .fetch_optional(db.pool())
    .await?;
    purchases::get(db, found.ok_or(Error::NotFound)?).await
}

fn manager_cause(who: &Customer) -> Cause {
    Cause::Customer(format!("{} as a manager", who.describe()))
}

/// A team purchase gives access while it is in force.
fn in_force(company: &Purchase) -> Result<()> {
    match company.status {
        Status::Active => Ok(()),
        Status::Revoked => Err(Error::invalid(
            "status",
            "this team purchase has ended, so its seats give no access; renew it to hand out seats again",
        )),
        _ => Err(Error::invalid("status", "this team purchase is not paid yet; seats can be handed out once it is")),
    }
}

/// "Give a seat": `username` (checked as on the buy form; organisations
/// refused) gets a seat and is invited to every repository of the product.
pub async fn give(state: &AppState, who: &Customer, public_id: &str, username: &str) -> Result<Purchase> {
    let company = managed(&state.db, who, public_id).await?;
    in_force(&company)?;
    let team = team(&state.db, company.id).await?;
    let account = github_accounts::check(state, team.product.lookup_owner(), username).await?;
    if team.holders.iter().any(|s| s.purchase.github_user_id == account.id) {
        return Err(Error::invalid("github_username", format!("@{} already holds a seat", account.login)));
    }
    if team.free() == 0 {
        return Err(Error::invalid(
            "github_username",
            format!("all {} seats are in use: add a seat, or take one back first", team.seats),
        ));
    }
    let elsewhere = purchases::holding(&state.db, company.product_id, account.id).await?;
    if elsewhere.iter().any(|(id, status)| status.gives_access() && *id != company.id) {
        return Err(Error::invalid(
            "github_username",
            format!(
                "@{} already has access to {} through another purchase; they need no seat",
                account.login, team.product.title
            ),
        ));
    }
    let cause = manager_cause(who);
    let id = new_seat(&state.db, &company, &account, Status::Paid, &cause).await?;
    tracing::info!(purchase_id = company.id.get(), seat = id.get(), "seat given");
    match access::grant(state, id, &cause).await {
        Ok(seat) => Ok(seat),
        // Queued behind GitHub's limits: the seat is given, its invitation follows.
        Err(e @ (Error::Later { .. } | Error::Unavailable(_))) => {
            access::retry_later(state, id, &e).await?;
            purchases::get(&state.db, id).await
        }
        Err(e) => Err(e),
    }
}

/// The live seat `seat_public_id` of a team `who` manages.
async fn seat_of_team(db: &Db, company: &Purchase, seat_public_id: &str) -> Result<Purchase> {
    let seat = purchases::find(db, purchases::Lookup::PublicId(seat_public_id)).await?.ok_or(Error::NotFound)?;
    if seat.seat_of != Some(company.id) {
        return Err(Error::NotFound);
    }
    Ok(seat)
}

/// "Take back": the holder's access is removed at once and the seat is free.
pub async fn take_back(state: &AppState, who: &Customer, public_id: &str, seat_public_id: &str) -> Result<Purchase> {
    let company = managed(&state.db, who, public_id).await?;
    let seat = seat_of_team(&state.db, &company, seat_public_id).await?;
    if !seat.status.is_granted() {
        return Err(Error::invalid("seat", format!("@{} no longer holds this seat", seat.github_login)));
    }
    let cause = manager_cause(who);
    let message = format!("the seat was taken back by a manager of @{}'s team purchase", company.github_login);
    let seat = access::revoke(state, seat.id, Reason::SeatTakenBack, &message, &cause).await?;
    let detail = format!("seat of @{} taken back", seat.github_login);
    let change = Change::record(company.status, Action::SeatTakenBack).detail(&detail);
    transition(&state.db, company.id, change, &cause).await?;
    Ok(seat)
}

/// "Resend invitation" for a holder: at most `account::RESENDS_PER_DAY` a
/// day per seat, whoever asks.
pub async fn resend(state: &AppState, who: &Customer, public_id: &str, seat_public_id: &str) -> Result<Purchase> {
    let company = managed(&state.db, who, public_id).await?;
    let seat = seat_of_team(&state.db, &company, seat_public_id).await?;
    crate::account::resend_checked(state, &seat, &manager_cause(who)).await
}

/// "Appoint a manager": another GitHub account may hand out seats too.
pub async fn appoint(state: &AppState, who: &Customer, public_id: &str, username: &str) -> Result<Team> {
    let company = managed(&state.db, who, public_id).await?;
    let product = products::get(&state.db, company.product_id).await?;
    let account = github_accounts::check(state, product.lookup_owner(), username).await?;
    if !teams::add_manager(&state.db, company.id, &account, who.github_user_id.map(GithubUserId)).await? {
        return Err(Error::invalid("github_username", format!("@{} already manages these seats", account.login)));
    }
    let detail = format!("@{} (GitHub id {}) appointed a manager", account.login, account.id);
    let change = Change::record(company.status, Action::ManagerAppointed).detail(&detail);
    transition(&state.db, company.id, change, &manager_cause(who)).await?;
    team(&state.db, company.id).await
}

/// What changing the number of seats did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatsChanged {
    /// More seats, in force now (charged pro rata by Stripe now).
    Now { seats: i64 },
    /// Fewer seats, from the next renewal (`on`); `over`: how many holders
    /// the managers will have to remove then, if nobody leaves before.
    FromRenewal { seats: i64, on: Option<i64>, over: i64 },
    /// More seats of a one-time price: paid once, through Stripe Checkout
    /// at `url`; they are added when Stripe says the payment is made.
    PayFirst { url: String },
}

/// "Change seats": more take effect now and are charged pro rata for the
/// rest of the period (Stripe invoices them at once); fewer take effect at
/// the next renewal, and nobody loses their seat for it silently.
pub async fn change(state: &AppState, who: &Customer, public_id: &str, wanted: i64) -> Result<SeatsChanged> {
    let company = managed(&state.db, who, public_id).await?;
    in_force(&company)?;
    let price = crate::prices::get(&state.db, company.price_id).await?;
    let range = price.seats().unwrap_or(1..=crate::prices::MAX_SEATS);
    if !range.contains(&wanted) {
        return Err(Error::invalid("seats", format!("choose {} to {} seats", range.start(), range.end())));
    }
    let seats = company.seats.unwrap_or(1);
    let current = company.seats_next.unwrap_or(seats);
    if wanted == current {
        return Err(Error::invalid("seats", format!("the team already has {wanted} seats from now on")));
    }
    let Some(sub) = company.stripe_subscription_id.clone() else {
        // Nothing renews: added seats are a payment of their own.
        let url = crate::extra_seats::order(state, &company, wanted).await?;
        return Ok(SeatsChanged::PayFirst { url });
    };
    let item = state
        .stripe
        .subscription(&sub)
        .await?
        .item
        .ok_or_else(|| Error::Internal(format!("subscription {sub} has no item")))?;
    let cause = manager_cause(who);
    if wanted > seats {
        state.stripe.change_quantity(&sub, &item, wanted as u64, Proration::InvoiceNow).await?;
        let detail = format!("{seats} → {wanted} seats, charged pro rata for the rest of the period");
        let change = Change::record(company.status, Action::SeatsChanged)
            .detail(&detail)
            .set("seats", Value::Int(Some(wanted)))
            .set("seats_next", Value::Int(None));
        transition(&state.db, company.id, change, &cause).await?;
        return Ok(SeatsChanged::Now { seats: wanted });
    }
    state.stripe.change_quantity(&sub, &item, wanted as u64, Proration::FromNextPeriod).await?;
    let on = company.current_period_end;
    let detail = match on {
        Some(at) => format!("{seats} → {wanted} seats from the renewal on {}", clock::day(at)),
        None => format!("{seats} → {wanted} seats from the next renewal"),
    };
    // Back to the seats held now: nothing changes at the renewal.
    let next = (wanted != seats).then_some(wanted);
    let change =
        Change::record(company.status, Action::SeatsChanged).detail(&detail).set("seats_next", Value::Int(next));
    transition(&state.db, company.id, change, &cause).await?;
    let held = holders(&state.db, company.id).await?.len() as i64;
    Ok(SeatsChanged::FromRenewal { seats: wanted, on, over: (held - wanted).max(0) })
}

/// A renewal was paid: fewer seats chosen for it take effect now. If more
/// people hold seats than there are, the managers are asked (by email and
/// on their page) whom to remove; nobody is removed for them.
pub async fn renewed(state: &AppState, company: &Purchase, cause: &Cause) -> Result<()> {
    let Some(next) = company.seats_next else { return Ok(()) };
    let seats = company.seats.unwrap_or(next);
    let detail = format!("{seats} → {next} seats, as chosen for this renewal");
    let change = Change::record(company.status, Action::SeatsChanged)
        .detail(&detail)
        .set("seats", Value::Int(Some(next)))
        .set("seats_next", Value::Int(None));
    if !transition(&state.db, company.id, change, cause).await? {
        return Ok(());
    }
    let held = holders(&state.db, company.id).await?;
    let over = held.len() as i64 - next;
    if over > 0 {
        let why = format!("renewed with {next} seats");
        ask_whom_to_remove(state, company, next, &held, &why, cause).await?;
    }
    Ok(())
}

/// More people hold seats than there are (`why`: "renewed with 2 seats"):
/// the managers are asked, by email and on their page, whom to take a seat
/// back from.
pub(crate) async fn ask_whom_to_remove(
    state: &AppState,
    company: &Purchase,
    seats: i64,
    held: &[Purchase],
    why: &str,
    cause: &Cause,
) -> Result<()> {
    let product = products::get(&state.db, company.product_id).await?;
    let over = held.len() as i64 - seats;
    let names: Vec<String> = held.iter().map(|p| format!("@{}", p.github_login)).collect();
    let detail = format!(
        "{} people hold {seats} seats: a manager is asked to take back {over} ({}); nobody is removed until then",
        held.len(),
        names.join(", ")
    );
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let body = format!(
        "Hello @{login},\n\nYour team's purchase of {title} {why}, and {count} people hold a seat: {names}.\n\n\
         Choose whom to take a seat back from (or add seats again) at {base}/account. \
         Until you do, everyone keeps their access.\n\n— RepoPass",
        login = company.github_login,
        title = product.title,
        count = held.len(),
        names = names.join(", "),
    );
    let draft = crate::emails::Draft {
        to: company.email.clone(),
        subject: format!("Choose who keeps a seat of {}", product.title),
        body,
        kind: crate::domain::EmailKind::SeatsOver,
    };
    let change = Change::record(company.status, Action::SeatsOver).detail(&detail).email(draft);
    transition(&state.db, company.id, change, cause).await?;
    Ok(())
}

/// Keeps the seats in step with the subscription's quantity as Stripe has
/// it (a change made in Stripe's dashboard or portal, or ours coming back
/// as an event): more seats apply now, fewer from the next renewal.
pub async fn follow_quantity(state: &AppState, company: &Purchase, quantity: u64, cause: &Cause) -> Result<()> {
    let quantity = quantity as i64;
    let seats = company.seats.unwrap_or(1);
    let (set, detail) = if quantity > seats {
        (
            vec![("seats", Value::Int(Some(quantity))), ("seats_next", Value::Int(None))],
            format!("{seats} → {quantity} seats, as in Stripe"),
        )
    } else if quantity < seats && company.seats_next != Some(quantity) {
        (
            vec![("seats_next", Value::Int(Some(quantity)))],
            format!("{seats} → {quantity} seats from the next renewal, as in Stripe"),
        )
    } else if quantity == seats && company.seats_next.is_some() {
        (vec![("seats_next", Value::Int(None))], format!("back to {seats} seats, as in Stripe"))
    } else {
        return Ok(());
    };
    let change = Change::record(company.status, Action::SeatsChanged).detail(&detail).set_all(set);
    transition(&state.db, company.id, change, cause).await?;
    Ok(())
}
