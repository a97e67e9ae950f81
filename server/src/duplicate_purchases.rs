//! A second purchase for an account that already has access. The buy form
//! refuses it only to a buyer who proved the account (signed in at
//! `/account`): telling anyone else would reveal who bought what. Anyone
//! else may pay; then this purchase touches nothing on GitHub (the access is
//! the earlier purchase's), is closed, and is refunded in full — a
//! subscription cancelled at once — by a job.

use crate::{
    clock,
    domain::{Action, PurchaseId, PurchaseStatus as Status, Reason},
    jobs::{self, Job, Outcome},
    purchase_state::{transition, Cause, Change, Value},
    purchases::{self, Purchase},
    refunds, AppState, Error, Result,
};

/// The earlier purchase through which this account already holds (or is
/// being given) access to the same product. The earliest wins, so two
/// purchases paid at once do not both count as the duplicate.
pub async fn earlier_holder(state: &AppState, p: &Purchase) -> Result<Option<PurchaseId>> {
    let holding = purchases::holding(&state.db, p.product_id, p.github_user_id).await?;
    Ok(holding.into_iter().map(|(id, _)| id).find(|id| *id < p.id))
}

/// Closes `p` as a duplicate of `earlier` and books its refund.
pub async fn close(state: &AppState, p: &Purchase, earlier: PurchaseId, cause: &Cause) -> Result<()> {
    // Booked first, so a crash between the two cannot lose the refund: the
    // job waits while the purchase is still `paid` (the grant's retry closes
    // it), and does nothing if it went another way.
    let job = Job::RefundDuplicate { purchase_id: p.id };
    jobs::enqueue(state.db.pool(), &job, clock::now() + 2, Some(&format!("{}:{}", job.kind(), p.id))).await?;
    let reason =
        format!("@{} already had access through an earlier purchase; this payment is refunded in full", p.github_login);
    let detail = format!("{reason} (purchase {earlier} holds the access; nothing changed on GitHub)");
    let change = Change::new(Status::Paid, Status::Revoked, Action::Duplicate)
        .detail(&detail)
        .reason(Reason::DuplicatePurchase, reason)
        // It has no grant: nothing on GitHub is this purchase's to remove.
        .set("revoked_at", Value::Int(Some(clock::now())));
    transition(&state.db, p.id, change, cause).await?;
    tracing::info!(purchase_id = p.id.get(), earlier = earlier.get(), "duplicate purchase closed; refund booked");
    state.wake.notify();
    Ok(())
}

/// The job: cancels the subscription (if any) and refunds what was paid.
pub async fn refund(state: &AppState, purchase_id: PurchaseId) -> Result<Outcome> {
    let closed: Option<i64> =
        sqlx::query_scalar("SELECT id FROM access_log WHERE purchase_id = $1 AND action = $2 LIMIT 1")
            .bind(purchase_id)
            .bind(Action::Duplicate)
            .fetch_optional(state.db.pool())
            .await?;
    let p = purchases::get(&state.db, purchase_id).await?;
    if closed.is_none() {
        if p.status == Status::Paid {
            return Err(Error::Later { message: "the duplicate purchase is not closed yet".into(), after_secs: 5 });
        }
        return Ok(Outcome::Ignored("not closed as a duplicate".into()));
    }
    if let Some(sub) = &p.stripe_subscription_id {
        // Already cancelled (a retry of this job) counts as done.
        state.stripe.cancel_subscription(sub).await?;
    }
    Ok(match refunds::refund_everything_left(state, purchase_id, &Cause::System).await? {
        Ok(_) => Outcome::Processed,
        // Nothing was charged (a trial), or it was refunded already: done.
        Err(nothing) => Outcome::Ignored(nothing.message().to_owned()),
    })
}
