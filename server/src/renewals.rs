//! Buying another period of access before the current one ends: the new
//! purchase takes the access over as it is on GitHub (nothing is invited
//! or removed there), and its period starts where the old one ends. The old
//! purchase closes with the reason `renewed`. A second purchase of anything
//! else is a duplicate (`duplicate_purchases`).

use crate::{
    clock, dated_clock,
    domain::{Action, GrantStatus, PurchaseStatus as Status, Reason},
    grants::{self, Update},
    prices,
    purchase_state::{transition_in, Cause, Change, Value},
    purchases::Purchase,
    AppState, Error, Result,
};

const DAY: i64 = 86_400;

/// Whether paying `price` while `earlier` holds the access renews it: both
/// are periods of access.
pub async fn renews(state: &AppState, earlier: &Purchase, price: crate::domain::PriceId) -> Result<bool> {
    Ok(earlier.access_until.is_some() && prices::get(&state.db, price).await?.access_days.is_some())
}

/// `p` (paid, not granted yet) takes over the access of `earlier`, its
/// period extended from `earlier`'s end. Both change in one transaction.
pub async fn renew(state: &AppState, p: &Purchase, earlier: &Purchase, cause: &Cause) -> Result<()> {
    let days = prices::get(&state.db, p.price_id).await?.access_days.unwrap_or_default();
    let now = dated_clock::now(state).await?;
    // From the old end (not from today): the buyer paid for what follows it.
    let until = earlier.access_until.unwrap_or(now).max(now) + days * DAY;
    let held = grants::of_purchase(&state.db, earlier.id).await?;
    let mut taken = Vec::new();
    let mut given = Vec::new();
    for g in held.iter().filter(|g| g.status != GrantStatus::Removed) {
        let fresh = grants::ensure(&state.db, p, g.repository_id).await?;
        taken.push(Update::new(g, GrantStatus::Removed).set("removed_at", Value::Int(Some(clock::now()))));
        given.push(Update::new(&fresh, g.status).set_all([
            ("github_access", Value::Text(Some(g.github_access.as_str().to_owned()))),
            ("github_invitation_id", Value::Int(g.github_invitation_id)),
            ("invitation_url", Value::Text(g.invitation_url.clone())),
            ("invited_at", Value::Int(g.invited_at)),
            ("activated_at", Value::Int(g.activated_at)),
            ("invite_attempted_at", Value::Int(g.invite_attempted_at)),
            ("invite_attempted_user", Value::Int(g.invite_attempted_user)),
        ]));
    }
    let date = clock::day(until);
    let closed = format!("another period was bought: access continues until {date}");
    let old_detail = format!("{closed} (purchase {}); nothing changed on GitHub", p.id);
    let old = Change::new(earlier.status, Status::Revoked, Action::Renewed)
        .detail(&old_detail)
        .reason(Reason::Renewed, closed.as_str())
        .set("revoked_at", Value::Int(Some(clock::now())))
        .grants(taken);
    let new_detail =
        format!("another period of access after purchase {}: until {date}; nothing changed on GitHub", earlier.id);
    let product = crate::products::get(&state.db, p.product_id).await?;
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let email = crate::emails::Draft {
        to: p.email.clone(),
        subject: format!("Your access to {} continues until {date}", product.title),
        body: format!(
            "Hello @{login},\n\nThank you for buying another period of {title}. Your access continues without a break \
             until {date}: there is nothing to accept on GitHub.\n\nYour purchases are at {base}/account.\n\n— RepoPass",
            login = p.github_login,
            title = product.title,
        ),
        kind: crate::domain::EmailKind::AccessExtended,
    };
    let new = Change::of_grants(Status::Paid, Action::Renewed, given)
        .detail(&new_detail)
        .set("access_until", Value::Int(Some(until)))
        .email(email);
    let mut tx = state.db.pool().begin().await?;
    // The old one first: one account holds one granted purchase of a product.
    if !transition_in(&mut tx, earlier.id, old, cause).await? || !transition_in(&mut tx, p.id, new, cause).await? {
        return Err(Error::Later { message: "a purchase changed during the renewal".into(), after_secs: 5 });
    }
    tx.commit().await?;
    tracing::info!(purchase_id = p.id.get(), earlier = earlier.id.get(), until, "period of access renewed");
    state.wake.notify();
    Ok(())
}
