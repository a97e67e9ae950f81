//! Changes to a purchase's access: each one a conditional status update and
//! an access-log entry in one transaction, with its cause; and the GitHub
//! calls that make the change real.

use octocrab::params::teams::Permission;

use crate::{
    clock,
    github::GithubError,
    prices,
    purchases::{self, Purchase},
    repositories, AppState, Db, Error, Result,
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
    fn kind(&self) -> &'static str {
        match self {
            Cause::Admin(_) => "admin",
            Cause::ApiKey(_) => "api_key",
            Cause::Customer(_) => "customer",
            Cause::StripeEvent(_) => "stripe_event",
            Cause::GithubEvent(_) => "github_event",
            Cause::Schedule(_) => "schedule",
            Cause::CheckoutReturn(_) | Cause::System => "system",
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

/// A column value set alongside a status change (typed: PostgreSQL will not
/// cast text to bigint).
#[derive(Debug, Clone)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// One status change: from → to, what was done, and the columns that go
/// with it (`col = value` pairs).
pub struct Change<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub action: &'a str,
    pub detail: Option<&'a str>,
    pub set: &'a [(&'a str, Value)],
}

/// Applies `change` if the purchase is still in `change.from`; false if
/// something else changed it first.
pub async fn transition(db: &Db, purchase_id: i64, change: Change<'_>, cause: &Cause) -> Result<bool> {
    let Change { from, to, action, detail, set } = change;
    let now = clock::now();
    let mut sql = String::from("UPDATE purchases SET status = $3, updated_at = $4");
    for (i, (col, _)) in set.iter().enumerate() {
        sql.push_str(&format!(", {col} = ${}", i + 5));
    }
    sql.push_str(" WHERE id = $1 AND status = $2");
    let mut tx = db.pool().begin().await?;
    let mut query = sqlx::query(&sql).bind(purchase_id).bind(from).bind(to).bind(now);
    for (_, value) in set {
        query = match value {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.clone()),
        };
    }
    let changed = match query.execute(&mut *tx).await {
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
    log(&mut *tx, purchase_id, Some(from), to, action, detail, cause).await?;
    tx.commit().await?;
    tracing::info!(purchase_id, from, to, action, cause = cause.kind(), "access changed");
    Ok(true)
}

/// Appends one entry to the access log (inside the caller's transaction
/// when it passes one).
pub async fn log<'e, E>(
    executor: E,
    purchase_id: i64,
    from: Option<&str>,
    to: &str,
    action: &str,
    detail: Option<&str>,
    cause: &Cause,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO access_log (purchase_id, from_status, to_status, action, cause_kind, cause_ref, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(purchase_id)
    .bind(from)
    .bind(to)
    .bind(action)
    .bind(cause.kind())
    .bind(cause.reference())
    .bind(detail)
    .bind(clock::now())
    .execute(executor)
    .await?;
    Ok(())
}

fn github_error(err: GithubError) -> Error {
    match err {
        GithubError::Api { status: 404, .. } => Error::invalid("github", "GitHub says the repository or the user no longer exists"),
        // GitHub allows 50 invitations per repository per day.
        GithubError::Api { status: 422, message, .. } if message.contains("maximum number of invitations") => Error::Later {
            message: "queued: GitHub's daily invitation limit for this repository is reached; the invitation goes out when it resets".into(),
            after_secs: 3600,
        },
        GithubError::Api { status: 403 | 429, retry_after, .. } => Error::Later {
            message: "queued: GitHub's rate limit is reached; trying again when it resets".into(),
            after_secs: retry_after.unwrap_or(60).clamp(1, 3600),
        },
        GithubError::NotInstalled(_) | GithubError::NotConfigured => Error::invalid("github", err.to_string()),
        other => {
            tracing::warn!(error = %other, "GitHub call failed");
            Error::Unavailable("GitHub did not answer just now; try again in a minute".into())
        }
    }
}

fn permission(p: &str) -> Permission {
    match p {
        "triage" => Permission::Triage,
        "push" => Permission::Push,
        "maintain" => Permission::Maintain,
        _ => Permission::Pull,
    }
}

/// The buyer's login now: GitHub usernames change, the numeric id does not.
/// A rename is recorded on the purchase.
async fn current_login(state: &AppState, client: &octocrab::Octocrab, holder: &Holder) -> Result<String> {
    match client.users_by_id(octocrab::models::UserId(holder.github_user_id as u64)).profile().await {
        Ok(profile) => {
            if profile.login != holder.github_login {
                tracing::info!(github_user_id = holder.github_user_id, old = %holder.github_login, new = %profile.login, "buyer renamed on GitHub");
                sqlx::query("UPDATE purchases SET github_login = $2 WHERE github_user_id = $1")
                    .bind(holder.github_user_id)
                    .bind(&profile.login)
                    .execute(state.db.pool())
                    .await?;
            }
            Ok(profile.login)
        }
        Err(e) => Err(github_error(e.into())),
    }
}

/// Whose access on which repository: what GitHub calls need of a purchase
/// (also kept in a job's payload when a moved-away account still has to go).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    pub repository_id: i64,
    pub github_user_id: i64,
    pub github_login: String,
    pub invitation_id: Option<i64>,
    /// The account had access before RepoPass was involved: GitHub is left
    /// as it is whatever happens to the purchase. (Absent from jobs queued
    /// before this field existed: those accounts were RepoPass's.)
    #[serde(default)]
    pub preexisting: bool,
}

impl From<&Purchase> for Holder {
    fn from(p: &Purchase) -> Self {
        Holder {
            repository_id: p.repository_id,
            github_user_id: p.github_user_id,
            github_login: p.github_login.clone(),
            invitation_id: p.github_invitation_id,
            preexisting: p.github_access == Origin::Preexisting,
        }
    }
}

/// Where a purchase's access on GitHub came from. RepoPass only ever
/// changes or removes what it made itself: a creator's own collaborator (or
/// someone they invited) who buys keeps exactly the access they had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// RepoPass sent the invitation (or nothing has been granted yet).
    #[default]
    RepoPass,
    /// The account was a collaborator, or had an invitation RepoPass did not
    /// send, when the purchase was granted.
    Preexisting,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::RepoPass => "repopass",
            Origin::Preexisting => "preexisting",
        }
    }
}

impl TryFrom<String> for Origin {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        match s.as_str() {
            "repopass" => Ok(Origin::RepoPass),
            "preexisting" => Ok(Origin::Preexisting),
            other => Err(format!("unknown access origin {other}")),
        }
    }
}

/// Cancels a pending invitation; already gone counts as done.
async fn delete_invitation(
    client: &octocrab::Octocrab,
    repo: &repositories::Repository,
    invitation: i64,
) -> Result<()> {
    let route = format!("/repos/{}/{}/invitations/{invitation}", repo.owner, repo.name);
    let response = client._delete(route, None::<&()>).await.map_err(|e| github_error(e.into()))?;
    let status = response.status().as_u16();
    if !(status < 300 || status == 404) {
        return Err(github_error(GithubError::Api {
            status,
            message: "could not delete the invitation".into(),
            retry_after: None,
        }));
    }
    Ok(())
}

/// Removes the collaborator and any pending invitation on GitHub. Already
/// gone counts as done.
pub async fn remove_from_github(state: &AppState, holder: &Holder) -> Result<()> {
    if holder.preexisting {
        tracing::info!(
            github_user_id = holder.github_user_id,
            "left on GitHub: the account had access before its purchase"
        );
        return Ok(());
    }
    let repo = repositories::get(&state.db, holder.repository_id).await?;
    let client = state.github.for_owner(&repo.owner).await.map_err(github_error)?;
    if let Some(invitation) = holder.invitation_id {
        delete_invitation(&client, &repo, invitation).await?;
    }
    let login = match current_login(state, &client, holder).await {
        Ok(login) => login,
        // The account is gone: nothing left to remove.
        Err(Error::Invalid { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    match client.repos(&repo.owner, &repo.name).remove_collaborator(&login).await {
        Ok(()) => Ok(()),
        Err(e) => match GithubError::from(e) {
            GithubError::Api { status: 404, .. } => Ok(()),
            other => Err(github_error(other)),
        },
    }
}

/// What granting did on GitHub.
#[derive(Debug)]
enum Invite {
    /// RepoPass sent this invitation (id, link to accept it).
    Sent(i64, String),
    /// A collaborator through this purchase's own earlier invitation.
    AlreadyOurs,
    /// A collaborator, or invited by someone else (that invitation's link),
    /// before RepoPass was involved: nothing was changed on GitHub.
    HadAccess { invitation_url: Option<String>, repository: String },
}

/// What GitHub already has for the account on the repository.
enum Found {
    Nothing,
    Collaborator,
    /// A pending invitation (not `ours`): its id, link and when it was made.
    Invitation {
        id: i64,
        url: String,
        created_at: i64,
    },
}

/// Asked before every invitation, because inviting an existing collaborator
/// changes their permission (GitHub answers 204).
async fn access_found(
    client: &octocrab::Octocrab,
    repo: &repositories::Repository,
    login: &str,
    user_id: i64,
    ours: Option<i64>,
) -> Result<Found> {
    let handler = client.repos(&repo.owner, &repo.name);
    if handler.is_collaborator(login).await.map_err(|e| github_error(e.into()))? {
        return Ok(Found::Collaborator);
    }
    let first = handler.invitations().list().per_page(100).send().await.map_err(|e| github_error(e.into()))?;
    let pending = client.all_pages(first).await.map_err(|e| github_error(e.into()))?;
    Ok(pending
        .into_iter()
        .find(|i| i.invitee.as_ref().is_some_and(|u| u.id.0 as i64 == user_id) && Some(i.id.0 as i64) != ours)
        .map_or(Found::Nothing, |i| Found::Invitation {
            id: i.id.0 as i64,
            url: i.html_url.to_string(),
            created_at: i.created_at.timestamp(),
        }))
}

/// Invites the buyer with the price's permission — unless they already
/// have access: then GitHub is left exactly as it is. `ours`: access found
/// on GitHub counts as this purchase's own (a resend after acceptance).
async fn invite_on_github(state: &AppState, p: &Purchase, ours: bool) -> Result<Invite> {
    let repo = repositories::get(&state.db, p.repository_id).await?;
    let price = prices::get(&state.db, p.price_id).await?;
    let client = state.github.for_owner(&repo.owner).await.map_err(github_error)?;
    let login = current_login(state, &client, &Holder::from(p)).await?;
    let own_invitation = if ours { p.github_invitation_id } else { None };
    // An earlier attempt of this purchase for this account (the process may
    // have died after GitHub accepted and before the purchase recorded it):
    // what GitHub shows since then is RepoPass's own, not access they had.
    let attempted = p.invite_attempted_at.filter(|_| p.invite_attempted_user == Some(p.github_user_id));
    match access_found(&client, &repo, &login, p.github_user_id, own_invitation).await? {
        Found::Collaborator if ours || attempted.is_some() => return Ok(Invite::AlreadyOurs),
        Found::Invitation { id, url, created_at } if attempted.is_some_and(|at| created_at >= at - 120) => {
            return Ok(Invite::Sent(id, url))
        }
        Found::Collaborator => return Ok(had_access(p, &repo, None)),
        Found::Invitation { url, .. } => return Ok(had_access(p, &repo, Some(url))),
        Found::Nothing => {}
    }
    sqlx::query("UPDATE purchases SET invite_attempted_at = $2, invite_attempted_user = $3 WHERE id = $1")
        .bind(p.id)
        .bind(clock::now())
        .bind(p.github_user_id)
        .execute(state.db.pool())
        .await?;
    let invitation = client
        .repos(&repo.owner, &repo.name)
        .add_collaborator(&login)
        .permission(permission(&price.permission))
        .send()
        .await;
    // The end point of the grant-latency benchmark (benches/grant_latency.rs).
    tracing::debug!(target: "repopass::grant", purchase_id = p.id, ok = invitation.is_ok(), "GitHub invitation call made");
    let invitation = invitation.map_err(|e| github_error(e.into()))?;
    // 204 (no invitation): a collaborator since the check just above.
    Ok(invitation.map(|i| Invite::Sent(i.id.0 as i64, i.html_url.to_string())).unwrap_or(Invite::AlreadyOurs))
}

fn had_access(p: &Purchase, repo: &repositories::Repository, invitation_url: Option<String>) -> Invite {
    tracing::info!(
        purchase_id = p.id,
        github_user_id = p.github_user_id,
        "the buyer already has access; GitHub left as it is"
    );
    Invite::HadAccess { invitation_url, repository: format!("{}/{}", repo.owner, repo.name) }
}

/// Revokes access now: GitHub first (so a failure changes nothing here),
/// then the record. Revoking a revoked purchase is a no-op.
pub async fn revoke(state: &AppState, purchase_id: i64, reason: &str, cause: &Cause) -> Result<Purchase> {
    let reason = reason.trim();
    if reason.chars().count() > 200 {
        return Err(Error::invalid("reason", "keep the reason to 200 characters"));
    }
    let p = purchases::get(&state.db, purchase_id).await?;
    match p.status.as_str() {
        "revoked" => return Ok(p),
        "pending" | "expired" => {
            return Err(Error::invalid("status", "this purchase was never paid; there is no access to revoke"))
        }
        _ => {}
    }
    if let Err(e) = remove_from_github(state, &Holder::from(&p)).await {
        if let Error::Later { message, .. } = &e {
            // Shown to the creator while the removal waits.
            sqlx::query("UPDATE purchases SET status_reason = $2 WHERE id = $1")
                .bind(p.id)
                .bind(message)
                .execute(state.db.pool())
                .await?;
        }
        return Err(e);
    }
    let reason = if reason.is_empty() { "revoked by the creator" } else { reason };
    let reason = if p.github_access == Origin::Preexisting {
        format!("{reason} (GitHub left as it was: @{} had access before this purchase)", p.github_login)
    } else {
        reason.to_owned()
    };
    let reason = reason.as_str();
    let set = [
        ("status_reason", Value::Text(Some(reason.to_owned()))),
        ("revoked_at", Value::Int(Some(clock::now()))),
        ("github_invitation_id", Value::Int(None)),
        ("invitation_url", Value::Text(None)),
        // A restore starts afresh: what GitHub shows then is not this grant's.
        ("invite_attempted_at", Value::Int(None)),
        ("invite_attempted_user", Value::Int(None)),
    ];
    // Another change may land meanwhile (a webhook turning `invited` into
    // `active`): apply the revoke to whatever granted state it is in now.
    let mut from = p.status.clone();
    for _ in 0..5 {
        if transition(
            &state.db,
            p.id,
            Change { from: &from, to: "revoked", action: "revoke", detail: Some(reason), set: &set },
            cause,
        )
        .await?
        {
            break;
        }
        let now = purchases::get(&state.db, purchase_id).await?;
        if !matches!(now.status.as_str(), "paid" | "invited" | "active") {
            break;
        }
        from = now.status;
    }
    purchases::get(&state.db, purchase_id).await
}

/// A grant as the purchase records it: the status it moves to, the columns
/// that go with it, and what the access log says.
struct Granted {
    to: &'static str,
    set: Vec<(&'static str, Value)>,
    /// Set when the account had access before: the log's detail, for the creator.
    had_access: Option<String>,
}

fn granted(invite: Invite, p: &Purchase) -> Granted {
    let now = clock::now();
    let common = |origin: Origin| {
        vec![
            ("status_reason", Value::Text(None)),
            ("revoked_at", Value::Int(None)),
            ("github_access", Value::Text(Some(origin.as_str().to_owned()))),
        ]
    };
    match invite {
        Invite::Sent(id, url) => {
            let mut set = common(Origin::RepoPass);
            set.extend([
                ("github_invitation_id", Value::Int(Some(id))),
                ("invitation_url", Value::Text(Some(url))),
                ("invited_at", Value::Int(Some(now))),
            ]);
            Granted { to: "invited", set, had_access: None }
        }
        Invite::AlreadyOurs => {
            let mut set = common(p.github_access);
            set.push(("activated_at", Value::Int(Some(now))));
            Granted { to: "active", set, had_access: None }
        }
        Invite::HadAccess { invitation_url, repository } => {
            // Never the other invitation's id: RepoPass must not delete it.
            let mut set = common(Origin::Preexisting);
            set.push(("github_invitation_id", Value::Int(None)));
            let (to, how) = match invitation_url {
                Some(url) => {
                    set.extend([("invitation_url", Value::Text(Some(url))), ("invited_at", Value::Int(Some(now)))]);
                    ("invited", "had an invitation RepoPass did not send")
                }
                None => {
                    set.extend([("invitation_url", Value::Text(None)), ("activated_at", Value::Int(Some(now)))]);
                    ("active", "was already a collaborator")
                }
            };
            let detail = format!(
                "@{} {how} on {repository}: RepoPass changed nothing on GitHub and will never remove this access",
                p.github_login
            );
            Granted { to, set, had_access: Some(detail) }
        }
    }
}

/// Paid → invited on GitHub (or active at once if already a collaborator).
pub async fn grant(state: &AppState, purchase_id: i64, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if p.status != "paid" {
        return Ok(p);
    }
    if let Some(earlier) = crate::duplicate_purchases::earlier_holder(state, &p).await? {
        crate::duplicate_purchases::close(state, &p, earlier, cause).await?;
        return purchases::get(&state.db, purchase_id).await;
    }
    let invite = match invite_on_github(state, &p, false).await {
        Ok(invite) => invite,
        Err(Error::Later { message, after_secs }) => {
            // Shown to the creator and the buyer while it waits.
            sqlx::query("UPDATE purchases SET status_reason = $2 WHERE id = $1 AND status = 'paid'")
                .bind(p.id)
                .bind(&message)
                .execute(state.db.pool())
                .await?;
            return Err(Error::Later { message, after_secs });
        }
        Err(Error::Invalid { field, message }) => {
            // Paid, but GitHub refuses for good (user or repository gone): say so.
            let reason = format!("not invited: {message}");
            sqlx::query("UPDATE purchases SET status_reason = $2 WHERE id = $1 AND status = 'paid'")
                .bind(p.id)
                .bind(&reason)
                .execute(state.db.pool())
                .await?;
            return Err(Error::Invalid { field, message });
        }
        Err(e) => return Err(e),
    };
    let g = granted(invite, &p);
    let action = match (&g.had_access, g.to) {
        (Some(_), _) => "had_access",
        (None, "invited") => "invitation_sent",
        (None, _) => "access_active",
    };
    transition(
        &state.db,
        p.id,
        Change { from: "paid", to: g.to, action, detail: g.had_access.as_deref(), set: &g.set },
        cause,
    )
    .await?;
    purchases::get(&state.db, purchase_id).await
}

/// Gives access back to a revoked purchase: a new invitation (or active at
/// once if GitHub says they are already a collaborator).
pub async fn restore(state: &AppState, purchase_id: i64, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if p.status != "revoked" {
        return Err(Error::invalid(
            "status",
            format!("only a revoked purchase can be restored; this one is {}", p.status),
        ));
    }
    let repo = repositories::get(&state.db, p.repository_id).await?;
    if matches!(repo.github_state.as_str(), "deleted" | "access_lost") {
        return Err(Error::invalid(
            "repository",
            "GitHub no longer lets RepoPass manage this repository; reconnect it first",
        ));
    }
    let g = granted(invite_on_github(state, &p, false).await?, &p);
    transition(
        &state.db,
        p.id,
        Change { from: "revoked", to: g.to, action: "restore", detail: g.had_access.as_deref(), set: &g.set },
        cause,
    )
    .await?;
    purchases::get(&state.db, purchase_id).await
}

/// A fresh invitation for a purchase whose invitation expired or was lost
/// (or whose collaborator GitHub no longer lists).
/// GitHub has no "resend": the pending invitation is cancelled and a new
/// one sent (GitHub emails it again). A paid purchase that was never
/// invited is simply granted.
pub async fn reinvite(state: &AppState, purchase_id: i64, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    match p.status.as_str() {
        "paid" => return grant(state, purchase_id, cause).await,
        // Active but gone from GitHub (the drift report's "paid without access").
        "invited" | "active" => {}
        _ => {
            return Err(Error::invalid(
                "status",
                "this purchase gives no access at the moment, so there is no invitation to resend",
            ))
        }
    }
    if p.github_access == Origin::Preexisting {
        return Err(Error::invalid(
            "status",
            format!("@{} had access before this purchase; RepoPass leaves it to the creator on GitHub", p.github_login),
        ));
    }
    let repo = repositories::get(&state.db, p.repository_id).await?;
    if let Some(invitation) = p.github_invitation_id {
        let client = state.github.for_owner(&repo.owner).await.map_err(github_error)?;
        delete_invitation(&client, &repo, invitation).await?;
    }
    let g = granted(invite_on_github(state, &p, true).await?, &p);
    let action = if g.to == "invited" { "invitation_resent" } else { "access_active" };
    if !transition(
        &state.db,
        p.id,
        Change { from: &p.status, to: g.to, action, detail: g.had_access.as_deref(), set: &g.set },
        cause,
    )
    .await?
    {
        // Accepted meanwhile (the member webhook): nothing to resend after all.
        tracing::info!(purchase_id, "purchase changed during the resend");
    }
    purchases::get(&state.db, purchase_id).await
}

/// Moves a purchase's access to another GitHub account: the new account is
/// invited first (so a GitHub refusal changes nothing), the purchase then
/// points at it, and the old account is removed — by a retried job if
/// GitHub fails at that last step, so it never keeps access for free.
pub async fn move_to(
    state: &AppState,
    purchase_id: i64,
    to: &crate::github_accounts::Account,
    cause: &Cause,
) -> Result<Purchase> {
    let old = purchases::get(&state.db, purchase_id).await?;
    if !matches!(old.status.as_str(), "invited" | "active") {
        return Err(Error::invalid("status", "only a purchase that gives access can be moved to another account"));
    }
    if to.id == old.github_user_id {
        return Err(Error::invalid("github_username", format!("@{} already is the account with access", to.login)));
    }
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM purchases WHERE repository_id = $1 AND github_user_id = $2 AND status IN ('invited', 'active')",
    )
    .bind(old.repository_id)
    .bind(to.id)
    .fetch_optional(state.db.pool())
    .await?;
    if taken.is_some() {
        return Err(Error::invalid(
            "github_username",
            format!("@{} already has access to this repository through another purchase", to.login),
        ));
    }
    let mut target = old.clone();
    target.github_user_id = to.id;
    target.github_login = to.login.clone();
    target.github_invitation_id = None;
    target.github_access = Origin::RepoPass;
    let g = granted(invite_on_github(state, &target, false).await?, &target);
    let (status, mut set) = (g.to, g.set);
    set.push(("github_user_id", Value::Int(Some(to.id))));
    set.push(("github_login", Value::Text(Some(to.login.clone()))));
    set.push(("moved_at", Value::Int(Some(clock::now()))));
    if status == "active" {
        set.push(("github_invitation_id", Value::Int(None)));
        set.push(("invitation_url", Value::Text(None)));
    }
    let mut detail = format!(
        "moved from @{} (GitHub id {}) to @{} (GitHub id {})",
        old.github_login, old.github_user_id, to.login, to.id
    );
    if old.github_access == Origin::Preexisting {
        detail += &format!("; @{} keeps the access they had before the purchase", old.github_login);
    }
    if let Some(had) = &g.had_access {
        detail += &format!("; {had}");
    }
    let moved = transition(
        &state.db,
        old.id,
        Change { from: &old.status, to: status, action: "moved", detail: Some(&detail), set: &set },
        cause,
    )
    .await?;
    if !moved {
        return Err(Error::Unavailable(
            "the purchase changed while it was being moved; look at it again and retry".into(),
        ));
    }
    let holder = Holder::from(&old);
    if let Err(e) = remove_from_github(state, &holder).await {
        tracing::warn!(purchase_id, error = %e, "could not remove the moved-away account yet; queued");
        let payload = serde_json::to_value(&holder).map_err(|e| Error::Internal(e.to_string()))?;
        crate::jobs::enqueue(state.db.pool(), "remove_access", &payload, clock::now(), None).await?;
        state.wake.notify();
    }
    purchases::get(&state.db, purchase_id).await
}
