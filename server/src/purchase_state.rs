//! A purchase's state: every change is a conditional update (it applies
//! only if the purchase is still where the caller saw it), allowed by
//! `PurchaseStatus::can_move_to`, and written with its access-log entry in
//! one transaction, with its cause. Nothing here calls Stripe or GitHub.

use crate::{
    clock,
    domain::{Action, CauseKind, PurchaseId, PurchaseStatus, Reason, RepositoryId, WebhookEventType},
    grants::{self, Update},
    Db, Error, Result,
};

/// Who or what caused a change (the access log's `cause_kind`/`cause_ref`).
#[derive(Debug, Clone)]
pub enum Cause {
    Admin(i64),
    ApiKey(i64),
    /// The customer themselves, from `/account` (who they signed in as).
    Customer(String),
    StripeEvent(String),
    GithubEvent(String),
    Schedule(String),
    /// The buyer came back from Stripe Checkout and we asked Stripe.
    CheckoutReturn(String),
    System,
}

impl Cause {
    pub fn kind(&self) -> CauseKind {
        match self {
            Cause::Admin(_) => CauseKind::Admin,
            Cause::ApiKey(_) => CauseKind::ApiKey,
            Cause::Customer(_) => CauseKind::Customer,
            Cause::StripeEvent(_) => CauseKind::StripeEvent,
            Cause::GithubEvent(_) => CauseKind::GithubEvent,
            Cause::Schedule(_) => CauseKind::Schedule,
            Cause::CheckoutReturn(_) | Cause::System => CauseKind::System,
        }
    }
    fn reference(&self) -> Option<String> {
        match self {
            Cause::Admin(id) | Cause::ApiKey(id) => Some(id.to_string()),
            Cause::Customer(who) => Some(who.clone()),
            Cause::StripeEvent(s) | Cause::GithubEvent(s) | Cause::Schedule(s) => Some(s.clone()),
            Cause::CheckoutReturn(session) => Some(format!("checkout return {session}")),
            Cause::System => None,
        }
    }
}

pub use crate::columns::Value;

/// One status change: from → to, what was done, why the purchase is there
/// now, the columns that go with it, and its grants' changes.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    from: PurchaseStatus,
    /// `None`: where the grants put it (`grants::purchase_status`).
    to: Option<PurchaseStatus>,
    action: Action,
    detail: Option<&'a str>,
    set: Vec<(&'static str, Value)>,
    /// The purchase's grants that change with it, each only if still
    /// where the caller saw it.
    grants: Vec<Update>,
    /// The repository the log entry is about, when it is about one.
    repository: Option<RepositoryId>,
    /// Sent only if the change lands (the outbox, in its transaction).
    email: Option<crate::emails::Draft>,
    /// Outgoing webhook events the change makes beyond those its move and
    /// action imply (`outgoing_events::of_entry`).
    events: Vec<WebhookEventType>,
}

impl<'a> Change<'a> {
    pub fn new(from: PurchaseStatus, to: PurchaseStatus, action: Action) -> Self {
        Change {
            from,
            to: Some(to),
            action,
            detail: None,
            set: Vec::new(),
            grants: Vec::new(),
            repository: None,
            email: None,
            events: Vec::new(),
        }
    }

    /// A change of grants: the purchase goes where they put it (`invited`
    /// while an invitation waits, `active` once nothing is left to accept).
    pub fn of_grants(from: PurchaseStatus, action: Action, grants: Vec<Update>) -> Self {
        let repository = match grants.as_slice() {
            [one] => Some(one.repository_id),
            _ => None,
        };
        Change {
            from,
            to: None,
            action,
            detail: None,
            set: Vec::new(),
            grants,
            repository,
            email: None,
            events: Vec::new(),
        }
    }

    /// Grants that change along with the purchase (all removed on a revoke).
    pub fn grants(mut self, grants: Vec<Update>) -> Self {
        self.grants.extend(grants);
        self
    }

    /// The repository the log entry is about.
    pub fn about(mut self, repository: RepositoryId) -> Self {
        self.repository = Some(repository);
        self
    }

    /// Records something without moving: the purchase stays in `status`.
    pub fn record(status: PurchaseStatus, action: Action) -> Self {
        Change::new(status, status, action)
    }

    /// What the access log says, for people.
    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn set(mut self, column: &'static str, value: Value) -> Self {
        self.set.push((column, value));
        self
    }

    pub fn set_all(mut self, columns: impl IntoIterator<Item = (&'static str, Value)>) -> Self {
        self.set.extend(columns);
        self
    }

    /// Why the purchase is where it now is: the code decisions read, and
    /// the message people see.
    pub fn reason(self, code: Reason, message: impl Into<String>) -> Self {
        self.set("status_reason", Value::Text(Some(message.into())))
            .set("status_reason_code", Value::Reason(Some(code)))
    }

    /// An email that goes out if, and only if, this change lands.
    pub fn email(mut self, draft: crate::emails::Draft) -> Self {
        self.email = Some(draft);
        self
    }

    /// An outgoing webhook event this change makes besides those its move
    /// implies (a subscription cancelled, renewed).
    pub fn event(mut self, event: WebhookEventType) -> Self {
        self.events.push(event);
        self
    }

    /// The purchase is where it should be: no reason to give.
    pub fn clear_reason(self) -> Self {
        self.set("status_reason", Value::Text(None)).set("status_reason_code", Value::Reason(None))
    }
}

/// Applies `change` if the purchase is still in `change.from`; false if
/// something else changed it first. A move the table does not allow is an
/// error, and nothing is written.
pub async fn transition(db: &Db, purchase_id: PurchaseId, change: Change<'_>, cause: &Cause) -> Result<bool> {
    let mut tx = db.pool().begin().await?;
    let changed = transition_in(&mut tx, purchase_id, change, cause).await?;
    if changed {
        tx.commit().await?;
    }
    Ok(changed)
}

/// `transition` inside the caller's transaction (changes of two purchases
/// that stand or fall together); the caller commits only if it is true.
pub async fn transition_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    purchase_id: PurchaseId,
    change: Change<'_>,
    cause: &Cause,
) -> Result<bool> {
    let Change { from, to, action, detail, mut set, grants, repository, email, events } = change;
    if let Some(to) = to {
        from.check_move(to).map_err(|e| Error::Internal(e.to_string()))?;
    }
    let now = clock::now();
    if to.is_none() || !grants.is_empty() {
        lock_purchase(tx, purchase_id).await?;
    }
    for update in grants {
        if !update_grant(tx, purchase_id, update, now).await? {
            return Ok(false);
        }
    }
    let to = match to {
        Some(to) => to,
        None => {
            let statuses: Vec<crate::domain::GrantStatus> =
                sqlx::query_scalar("SELECT status FROM grants WHERE purchase_id = $1")
                    .bind(purchase_id)
                    .fetch_all(&mut **tx)
                    .await?;
            // Where the grants put it, when the purchase may go there.
            let to = grants::purchase_status(statuses).filter(|to| from.can_move_to(*to)).unwrap_or(from);
            if to != from {
                let mut also = vec![("status_reason", Value::Text(None)), ("status_reason_code", Value::Reason(None))];
                match to {
                    PurchaseStatus::Active => also.push(("activated_at", Value::Int(Some(now)))),
                    PurchaseStatus::Invited if from == PurchaseStatus::Paid => {
                        also.push(("invited_at", Value::Int(Some(now))))
                    }
                    _ => {}
                }
                // What the caller sets itself stands.
                also.retain(|(column, _)| !set.iter().any(|(c, _)| c == column));
                set.extend(also);
            }
            to
        }
    };
    let mut sql = String::from("UPDATE purchases SET status = $3, updated_at = $4");
    for (i, (col, _)) in set.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 5));
    }
    sql.push_str(" WHERE id = $1 AND status = $2");
    let mut query = sqlx::query(&sql).bind(purchase_id).bind(from).bind(to).bind(now);
    for (_, value) in set {
        query = bind(query, value);
    }
    let changed = match query.execute(&mut **tx).await {
        Ok(r) => r.rows_affected() == 1,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(Error::invalid(
                "github_user",
                "this GitHub account already has access to the repository through another purchase",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !changed {
        return Ok(false);
    }
    let entry = Entry { purchase_id, repository, from: Some(from), to, action, detail, cause };
    entry.write(tx, &events).await?;
    if let Some(draft) = &email {
        crate::emails::enqueue_in(tx, draft, Some(purchase_id)).await?;
    }
    tracing::info!(purchase_id = purchase_id.get(), %from, %to, %action, cause = %cause.kind(), "access changed");
    Ok(true)
}

/// Holds the purchase row until the transaction ends, before its grants
/// are touched. Two events of one purchase handled at once (two
/// invitations accepted) would otherwise each read the other's grant as it
/// was and leave the purchase `invited` with every grant active. Taking the
/// purchase first, always, also keeps the lock order one way (purchase, then
/// grants), so two changes cannot wait on each other. SQLite needs nothing:
/// its writers already go one at a time.
async fn lock_purchase(tx: &mut sqlx::Transaction<'_, sqlx::Any>, purchase_id: PurchaseId) -> Result<()> {
    if crate::db::Backend::of(tx) == crate::db::Backend::Postgres {
        sqlx::query("SELECT id FROM purchases WHERE id = $1 FOR UPDATE").bind(purchase_id).execute(&mut **tx).await?;
    }
    Ok(())
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    value: Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match value {
        Value::Int(v) => query.bind(v),
        Value::Text(v) => query.bind(v),
        Value::Reason(v) => query.bind(v),
    }
}

/// One grant's change, if it is still where the caller saw it.
async fn update_grant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    purchase_id: PurchaseId,
    update: Update,
    now: i64,
) -> Result<bool> {
    let Update { repository_id, from, to, set } = update;
    let mut sql = String::from("UPDATE grants SET status = $4, updated_at = $5");
    for (i, (col, _)) in set.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 6));
    }
    sql.push_str(" WHERE purchase_id = $1 AND repository_id = $2 AND status = $3");
    let mut query = sqlx::query(&sql).bind(purchase_id).bind(repository_id).bind(from).bind(to).bind(now);
    for (_, value) in set {
        query = bind(query, value);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected() == 1)
}

/// One entry of the access log: what happened to a purchase, and why.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub purchase_id: PurchaseId,
    /// The repository it is about, if one.
    pub repository: Option<RepositoryId>,
    /// None: the purchase was made by this entry.
    pub from: Option<PurchaseStatus>,
    pub to: PurchaseStatus,
    pub action: Action,
    /// What the access log says, for people.
    pub detail: Option<&'a str>,
    pub cause: &'a Cause,
}

impl Entry<'_> {
    /// Appends the entry, and the outgoing webhook events it makes (those
    /// its move implies, and `extra`), inside the caller's transaction: the
    /// log and what creators' tools hear of it never disagree.
    pub async fn write(&self, conn: &mut sqlx::AnyConnection, extra: &[WebhookEventType]) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            // The login as it is now, kept with the entry: a later move does not rewrite who it happened to.
            "INSERT INTO access_log (purchase_id, from_status, to_status, action, cause_kind, cause_ref, detail, created_at, github_login, repository_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT github_login FROM purchases WHERE id = $1), $9) RETURNING id",
        )
        .bind(self.purchase_id)
        .bind(self.from)
        .bind(self.to)
        .bind(self.action)
        .bind(self.cause.kind())
        .bind(self.cause.reference())
        .bind(self.detail)
        .bind(clock::now())
        .bind(self.repository)
        .fetch_one(&mut *conn)
        .await?;
        let revoked = self.to == PurchaseStatus::Revoked && self.from != Some(PurchaseStatus::Revoked);
        let reason: Option<Reason> = if revoked {
            sqlx::query_scalar("SELECT status_reason_code FROM purchases WHERE id = $1")
                .bind(self.purchase_id)
                .fetch_one(&mut *conn)
                .await?
        } else {
            None
        };
        let mut events = crate::outgoing_events::of_entry(self.from, self.to, self.action, reason);
        events.extend(extra.iter().filter(|e| !events.contains(e)).copied().collect::<Vec<_>>());
        crate::outgoing_events::record_purchase(
            conn,
            self.purchase_id,
            &events,
            Some((id, self.action, self.repository)),
        )
        .await?;
        Ok(id)
    }
}

/// How many times `kind` of cause did one of `actions` to a purchase since `since`.
pub async fn count_actions(
    db: &Db,
    purchase_id: PurchaseId,
    kind: CauseKind,
    actions: &[Action],
    since: i64,
) -> Result<i64> {
    if actions.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM access_log WHERE purchase_id = $1 AND created_at > $2 AND cause_kind = $3 AND action IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar(&sql).bind(purchase_id).bind(since).bind(kind);
    for action in actions {
        query = query.bind(*action);
    }
    Ok(query.fetch_one(db.pool()).await?)
}

/// Says why a purchase waits where it is (a queued invitation or removal,
/// a refusal), without moving it — only while it is still `status`.
pub async fn note_reason(
    db: &Db,
    purchase_id: PurchaseId,
    status: PurchaseStatus,
    code: Reason,
    message: &str,
) -> Result<()> {
    sqlx::query("UPDATE purchases SET status_reason = $3, status_reason_code = $4 WHERE id = $1 AND status = $2")
        .bind(purchase_id)
        .bind(status)
        .bind(message)
        .bind(code)
        .execute(db.pool())
        .await?;
    Ok(())
}
