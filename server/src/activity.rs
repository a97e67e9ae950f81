//! The creator's live activity: the access log read as a feed (newest
//! first, or everything after an id — what the SSE stream polls, so it
//! sees changes made by any process, the worker's included).

use crate::{
    domain::{Action, CauseKind, PurchaseStatus},
    Db, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Activity {
    pub id: i64,
    pub created_at: i64,
    pub purchase_id: i64,
    pub action: Action,
    pub to_status: PurchaseStatus,
    pub detail: Option<String>,
    pub cause_kind: CauseKind,
    pub github_login: String,
    pub github_user_id: i64,
    pub repository: String,
    /// The GitHub repository (`owner/name`) the entry is about, when it is about one.
    pub github_repository: Option<String>,
}

const SELECT: &str = "SELECT l.id, l.created_at, l.purchase_id, l.action, l.to_status, l.detail, l.cause_kind, COALESCE(l.github_login, p.github_login) AS github_login, p.github_user_id, r.title AS repository,
    CASE WHEN g.id IS NULL THEN NULL ELSE g.owner || '/' || g.name END AS github_repository
    FROM access_log l JOIN purchases p ON p.id = l.purchase_id JOIN products r ON r.id = p.product_id
    LEFT JOIN repositories g ON g.id = l.repository_id";

/// The newest `limit` entries, newest first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Activity>> {
    Ok(sqlx::query_as(&format!("{SELECT} ORDER BY l.id DESC LIMIT {}", limit.clamp(1, 200)))
        .fetch_all(db.pool())
        .await?)
}

/// Entries after `after_id`, oldest first (at most `limit`).
pub async fn after(db: &Db, after_id: i64, limit: i64) -> Result<Vec<Activity>> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE l.id > $1 ORDER BY l.id LIMIT {}", limit.clamp(1, 200)))
        .bind(after_id)
        .fetch_all(db.pool())
        .await?)
}

/// The id of the newest entry (0 when the log is empty).
pub async fn last_id(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM access_log").fetch_one(db.pool()).await?.unwrap_or(0))
}

/// An entry in words, for the feed.
pub fn words(a: &Activity) -> String {
    let who = format!("@{}", a.github_login);
    let what = match a.action {
        Action::CheckoutStarted => format!("{who} started a checkout for {}", a.repository),
        Action::Paid => format!("{who} paid for {}", a.repository),
        Action::InvitationSent => format!("{who} was invited to {}", a.repository),
        Action::InvitationResent => format!("{who} got a new invitation to {}", a.repository),
        Action::AccessActive => format!("{who} has access to {}", a.repository),
        Action::HadAccess => format!("{who} bought {} and already had access: nothing changed on GitHub", a.repository),
        Action::PaymentFailed => format!("A payment by {who} for {} failed", a.repository),
        Action::PaymentRecovered => format!("{who} paid the overdue invoice for {}", a.repository),
        Action::Revoke => format!("{who} lost access to {}", a.repository),
        Action::Restore => format!("{who} got access to {} back", a.repository),
        Action::Refund | Action::PartialRefund => format!("{who} was refunded for {}", a.repository),
        Action::RefundRequested => format!("A refund for {who} ({}) was requested", a.repository),
        Action::Moved => format!("Access to {} moved to {who}", a.repository),
        Action::CheckoutExpired => format!("{who}'s checkout for {} expired", a.repository),
        Action::SubscriptionUpdated => format!("{who}'s subscription to {} changed", a.repository),
        Action::Resubscribed => format!("{who} subscribed to {} again", a.repository),
        Action::InvitationExpired => format!("{who}'s invitation to {} expired", a.repository),
        Action::DriftRemovedByHand => format!("{who} was removed from {} on GitHub by hand", a.repository),
        Action::RepositoryRemoved => format!("{who} lost a repository taken out of {}", a.repository),
        Action::Renewed => format!("{who} bought another period of {}", a.repository),
        other => format!("{} for {who} ({})", other.as_str().replace('_', " "), a.repository),
    };
    let what = match &a.github_repository {
        Some(name) => format!("{what} ({name})"),
        None => what,
    };
    match &a.detail {
        Some(d) if a.action == Action::Revoke => format!("{what}: {d}"),
        _ => what,
    }
}
