//! Periods of access: a one-time price may give access for a number of
//! days ("12 months of updates"). The period starts with the payment; when
//! it ends, access ends like any other revocation, with its own reason.

use crate::{
    access, dated_clock,
    domain::Reason,
    prices,
    purchase_state::Cause,
    purchases::{self, Purchase},
    AppState, Result,
};

const DAY: i64 = 86_400;

/// When a purchase paid at `paid_at` stops giving access: its price's
/// period after the payment, or None when the price gives no end date.
pub async fn end_from(state: &AppState, purchase: &Purchase, paid_at: i64) -> Result<Option<i64>> {
    let price = prices::get(&state.db, purchase.price_id).await?;
    Ok(price.access_days.map(|days| paid_at + days * DAY))
}

/// Revokes every purchase whose period ended (run on a schedule). The
/// number ended; one that GitHub refuses now is tried again next time.
pub async fn end_due(state: &AppState) -> Result<usize> {
    let cause = Cause::Schedule("end_access_periods".into());
    let mut ended = 0;
    for p in purchases::access_ended_by(&state.db, dated_clock::now(state).await?).await? {
        let days = prices::get(&state.db, p.price_id).await?.access_days.unwrap_or_default();
        let message = format!("the {days}-day period of access bought with this purchase ended");
        match access::revoke(state, p.id, Reason::AccessPeriodEnded, &message, &cause).await {
            Ok(_) => ended += 1,
            Err(e) => tracing::warn!(purchase_id = p.id.get(), error = %e, "period of access not ended yet"),
        }
    }
    Ok(ended)
}
