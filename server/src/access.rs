//! The use cases that change who has access — grant, revoke, restore,
//! resend, move — and what each asks GitHub. The state changes themselves
//! are `purchase_state`'s; the GitHub calls are `github`'s.

use crate::{
    clock,
    domain::{AccessOrigin as Origin, Action, Holder, PurchaseId, PurchaseStatus as Status, Reason},
    github::collaborators::{Found, Refusal, Repo},
    prices,
    products::{self, Product},
    purchase_state::{note_reason, transition, Cause, Change, Value},
    purchases::{self, Purchase},
    repositories::{self, Included, Repository},
    AppState, Error, Result,
};

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Later { after_secs, .. } => Error::Later { message: refusal.to_string(), after_secs },
            Refusal::Unavailable => Error::Unavailable(refusal.to_string()),
            // Retrying cannot change these: the job stops, visible with why.
            Refusal::UserGone | Refusal::RepositoryGone | Refusal::NotConnected(_) => {
                Error::invalid("github", refusal.to_string())
            }
        }
    }
}

/// The buyer's login now (GitHub usernames change, the numeric id does
/// not); a rename is recorded on their purchases.
async fn current_login(state: &AppState, owner: &str, holder: &Holder) -> std::result::Result<String, Failure> {
    let login = state.github.login_of(owner, holder.github_user_id).await?;
    if login != holder.github_login {
        tracing::info!(github_user_id = %holder.github_user_id, old = %holder.github_login, new = %login, "buyer renamed on GitHub");
        purchases::record_login(&state.db, holder.github_user_id, &login).await?;
    }
    Ok(login)
}

/// A step that asks GitHub: GitHub's refusal (typed), or anything else.
#[derive(Debug)]
enum Failure {
    Refused(Refusal),
    Other(Error),
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Other(e)
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(r) => r.into(),
            Failure::Other(e) => e,
        }
    }
}

fn repo(r: &Repository) -> Repo<'_> {
    Repo { owner: &r.owner, name: &r.name }
}

/// The purchase's product and the repository it grants.
async fn granted_on(state: &AppState, p: &Purchase) -> Result<(Product, Included)> {
    let product = products::get(&state.db, p.product_id).await?;
    let included = product.sole_repository()?.clone();
    Ok((product, included))
}

/// Whose access to remove when the purchase ends.
pub async fn holder_of(state: &AppState, p: &Purchase) -> Result<Holder> {
    let (_, included) = granted_on(state, p).await?;
    Ok(Holder::of(p, included.repository.id))
}

/// Removes the collaborator and any pending invitation on GitHub. Already
/// gone counts as done.
pub async fn remove_from_github(state: &AppState, holder: &Holder) -> Result<()> {
    Ok(remove(state, holder).await?)
}

async fn remove(state: &AppState, holder: &Holder) -> std::result::Result<(), Failure> {
    if holder.preexisting {
        tracing::info!(
            github_user_id = %holder.github_user_id,
            "left on GitHub: the account had access before its purchase"
        );
        return Ok(());
    }
    let r = repositories::get(&state.db, holder.repository_id).await?;
    if let Some(invitation) = holder.invitation_id {
        state.github.delete_invitation(repo(&r), invitation).await?;
    }
    let login = match current_login(state, &r.owner, holder).await {
        Ok(login) => login,
        // The account is gone: nothing left to remove.
        Err(Failure::Refused(Refusal::UserGone)) => return Ok(()),
        Err(e) => return Err(e),
    };
    Ok(state.github.remove_collaborator(repo(&r), &login).await?)
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

/// Invites the buyer with the price's permission — unless they already
/// have access: then GitHub is left exactly as it is. `ours`: access found
/// on GitHub counts as this purchase's own (a resend after acceptance).
async fn invite_on_github(state: &AppState, p: &Purchase, ours: bool) -> std::result::Result<Invite, Failure> {
    let (_, included) = granted_on(state, p).await?;
    let r = &included.repository;
    let price = prices::get(&state.db, p.price_id).await?;
    // The repository's own level in the product, else the price's.
    let permission = included.permission.as_deref().unwrap_or(&price.permission);
    let login = current_login(state, &r.owner, &Holder::of(p, r.id)).await?;
    let own_invitation = if ours { p.github_invitation_id } else { None };
    // An earlier attempt of this purchase for this account (the process may
    // have died after GitHub accepted and before the purchase recorded it):
    // what GitHub shows since then is RepoPass's own, not access they had.
    let attempted = p.invite_attempted_at.filter(|_| p.invite_attempted_user == Some(p.github_user_id.get()));
    match state.github.access_of(repo(r), &login, p.github_user_id, own_invitation).await? {
        Found::Collaborator if ours || attempted.is_some() => return Ok(Invite::AlreadyOurs),
        Found::Invitation { id, url, created_at } if attempted.is_some_and(|at| created_at >= at - 120) => {
            return Ok(Invite::Sent(id, url))
        }
        Found::Collaborator => return Ok(had_access(p, r, None)),
        Found::Invitation { url, .. } => return Ok(had_access(p, r, Some(url))),
        Found::Nothing => {}
    }
    purchases::record_invite_attempt(&state.db, p.id, p.github_user_id).await?;
    let sent = state.github.invite(repo(r), &login, permission).await;
    // The end point of the grant-latency benchmark (benches/grant_latency.rs).
    tracing::debug!(target: "repopass::grant", purchase_id = p.id.get(), ok = sent.is_ok(), "GitHub invitation call made");
    let sent = sent?;
    // None (no invitation): a collaborator since the check just above.
    Ok(sent.map(|s| Invite::Sent(s.id, s.url)).unwrap_or(Invite::AlreadyOurs))
}

fn had_access(p: &Purchase, r: &Repository, invitation_url: Option<String>) -> Invite {
    tracing::info!(
        purchase_id = p.id.get(),
        github_user_id = %p.github_user_id,
        "the buyer already has access; GitHub left as it is"
    );
    Invite::HadAccess { invitation_url, repository: r.full_name() }
}

/// Revokes access now: GitHub first (so a failure changes nothing here),
/// then the record. Revoking a revoked purchase is a no-op. `message` is
/// what people read (the creator's own words when they give some).
pub async fn revoke(
    state: &AppState,
    purchase_id: PurchaseId,
    reason: Reason,
    message: &str,
    cause: &Cause,
) -> Result<Purchase> {
    let message = message.trim();
    if message.chars().count() > 200 {
        return Err(Error::invalid("reason", "keep the reason to 200 characters"));
    }
    let p = purchases::get(&state.db, purchase_id).await?;
    match p.status {
        Status::Revoked => return Ok(p),
        Status::Pending | Status::Expired => {
            return Err(Error::invalid("status", "this purchase was never paid; there is no access to revoke"))
        }
        Status::Paid | Status::Invited | Status::Active => {}
    }
    if let Err(failure) = remove(state, &holder_of(state, &p).await?).await {
        if let Failure::Refused(refusal @ Refusal::Later { why, .. }) = &failure {
            // Shown to the creator while the removal waits.
            note_reason(&state.db, p.id, p.status, *why, &refusal.to_string()).await?;
        }
        return Err(failure.into());
    }
    let message = if message.is_empty() { "revoked by the creator" } else { message };
    let message = if p.github_access == Origin::Preexisting {
        format!("{message} (GitHub left as it was: @{} had access before this purchase)", p.github_login)
    } else {
        message.to_owned()
    };
    let columns = [
        ("revoked_at", Value::Int(Some(clock::now()))),
        ("github_invitation_id", Value::Int(None)),
        ("invitation_url", Value::Text(None)),
        // A restore starts afresh: what GitHub shows then is not this grant's.
        ("invite_attempted_at", Value::Int(None)),
        ("invite_attempted_user", Value::Int(None)),
    ];
    // Another change may land meanwhile (a webhook turning `invited` into
    // `active`): apply the revoke to whatever granted state it is in now.
    let mut from = p.status;
    for _ in 0..5 {
        let change = Change::new(from, Status::Revoked, Action::Revoke)
            .detail(&message)
            .reason(reason, message.as_str())
            .set_all(columns.clone());
        if transition(&state.db, p.id, change, cause).await? {
            break;
        }
        let now = purchases::get(&state.db, purchase_id).await?;
        if !now.status.is_granted() {
            break;
        }
        from = now.status;
    }
    purchases::get(&state.db, purchase_id).await
}

/// A grant as the purchase records it: the status it moves to, the columns
/// that go with it, and what the access log says.
struct Granted {
    to: Status,
    set: Vec<(&'static str, Value)>,
    /// Set when the account had access before: the log's detail, for the creator.
    had_access: Option<String>,
    /// The invitation the buyer is to accept, when there is one.
    invitation_url: Option<String>,
}

impl Granted {
    fn change(&self, from: Status, action: Action) -> Change<'_> {
        let change = Change::new(from, self.to, action).clear_reason().set_all(self.set.clone());
        match &self.had_access {
            Some(detail) => change.detail(detail),
            None => change,
        }
    }
}

fn granted(invite: Invite, p: &Purchase) -> Granted {
    let now = clock::now();
    let common = |origin: Origin| {
        vec![("revoked_at", Value::Int(None)), ("github_access", Value::Text(Some(origin.as_str().to_owned())))]
    };
    match invite {
        Invite::Sent(id, url) => {
            let mut set = common(Origin::RepoPass);
            set.extend([
                ("github_invitation_id", Value::Int(Some(id))),
                ("invitation_url", Value::Text(Some(url.clone()))),
                ("invited_at", Value::Int(Some(now))),
            ]);
            Granted { to: Status::Invited, set, had_access: None, invitation_url: Some(url) }
        }
        Invite::AlreadyOurs => {
            let mut set = common(p.github_access);
            set.push(("activated_at", Value::Int(Some(now))));
            Granted { to: Status::Active, set, had_access: None, invitation_url: None }
        }
        Invite::HadAccess { invitation_url, repository } => {
            // Never the other invitation's id: RepoPass must not delete it.
            let mut set = common(Origin::Preexisting);
            set.push(("github_invitation_id", Value::Int(None)));
            let (to, how) = match invitation_url.clone() {
                Some(url) => {
                    set.extend([("invitation_url", Value::Text(Some(url))), ("invited_at", Value::Int(Some(now)))]);
                    (Status::Invited, "had an invitation RepoPass did not send")
                }
                None => {
                    set.extend([("invitation_url", Value::Text(None)), ("activated_at", Value::Int(Some(now)))]);
                    (Status::Active, "was already a collaborator")
                }
            };
            let detail = format!(
                "@{} {how} on {repository}: RepoPass changed nothing on GitHub and will never remove this access",
                p.github_login
            );
            Granted { to, set, had_access: Some(detail), invitation_url }
        }
    }
}

/// Paid → invited on GitHub (or active at once if already a collaborator).
pub async fn grant(state: &AppState, purchase_id: PurchaseId, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    grant_read(state, p, cause).await
}

/// `grant` of a purchase the caller has just read.
pub(crate) async fn grant_read(state: &AppState, p: Purchase, cause: &Cause) -> Result<Purchase> {
    if p.status != Status::Paid {
        return Ok(p);
    }
    if let Some(earlier) = crate::duplicate_purchases::earlier_holder(state, &p).await? {
        crate::duplicate_purchases::close(state, &p, earlier, cause).await?;
        return purchases::get(&state.db, p.id).await;
    }
    let invite = match invite_on_github(state, &p, false).await {
        Ok(invite) => invite,
        Err(Failure::Refused(refusal)) => {
            // Shown to the creator and the buyer while it waits, or why it
            // cannot happen (the user or the repository gone).
            if let Some(code) = refusal.reason() {
                let message = match &refusal {
                    Refusal::Later { .. } => refusal.to_string(),
                    _ => format!("not invited: {refusal}"),
                };
                note_reason(&state.db, p.id, Status::Paid, code, &message).await?;
            }
            return Err(refusal.into());
        }
        Err(Failure::Other(e)) => return Err(e),
    };
    let g = granted(invite, &p);
    let action = match (&g.had_access, g.to) {
        (Some(_), _) => Action::HadAccess,
        (None, Status::Invited) => Action::InvitationSent,
        (None, _) => Action::AccessActive,
    };
    let (product, included) = granted_on(state, &p).await?;
    let email = access_email(state, &p, &product, &included.repository, &g);
    if transition(&state.db, p.id, g.change(Status::Paid, action).email(email), cause).await? {
        state.wake.notify();
    }
    purchases::get(&state.db, p.id).await
}

/// The buyer's "your access is on its way" email: what the product page
/// promises, with the link to accept and the way to their account.
fn access_email(
    state: &AppState,
    p: &Purchase,
    product: &Product,
    repo: &Repository,
    g: &Granted,
) -> crate::emails::Draft {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let web = state.config.github.web_url.as_str().trim_end_matches('/');
    let (login, full_name) = (&p.github_login, repo.full_name());
    let (subject, how) = match &g.invitation_url {
        Some(url) => (
            format!("Your access to {} is on its way", product.title),
            format!(
                "GitHub has invited @{login} to the private repository {full_name}.\n\n\
                 Accept the invitation here (it is valid for 7 days, and it is also in your GitHub notifications):\n{url}\n\n\
                 Once accepted, the repository is at {web}/{full_name}"
            ),
        ),
        None => (
            format!("Your access to {} is active", product.title),
            format!("@{login} has access to the private repository {full_name}: {web}/{full_name}"),
        ),
    };
    let body = format!(
        "Hello @{login},\n\nThank you for buying {title}. {how}\n\n\
         Your purchase, a new invitation if this one expires, and your billing are at {base}/account \
         (sign in with GitHub as @{login}, or with this email address).\n\n— RepoPass",
        title = product.title,
    );
    crate::emails::Draft { to: p.email.clone(), subject, body, kind: crate::domain::EmailKind::AccessGranted }
}

/// Gives access back to a revoked purchase: a new invitation (or active at
/// once if GitHub says they are already a collaborator).
pub async fn restore(state: &AppState, purchase_id: PurchaseId, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if p.status != Status::Revoked {
        return Err(Error::invalid(
            "status",
            format!("only a revoked purchase can be restored; this one is {}", p.status),
        ));
    }
    if !products::get(&state.db, p.product_id).await?.reachable() {
        return Err(Error::invalid(
            "repository",
            "GitHub no longer lets RepoPass manage this repository; reconnect it first",
        ));
    }
    let g = granted(invite_on_github(state, &p, false).await?, &p);
    transition(&state.db, p.id, g.change(Status::Revoked, Action::Restore), cause).await?;
    purchases::get(&state.db, purchase_id).await
}

/// A fresh invitation for a purchase whose invitation expired or was lost
/// (or whose collaborator GitHub no longer lists).
/// GitHub has no "resend": the pending invitation is cancelled and a new
/// one sent (GitHub emails it again). A paid purchase that was never
/// invited is simply granted.
pub async fn reinvite(state: &AppState, purchase_id: PurchaseId, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    match p.status {
        Status::Paid => return grant_read(state, p, cause).await,
        // Active but gone from GitHub (the drift report's "paid without access").
        Status::Invited | Status::Active => {}
        Status::Pending | Status::Revoked | Status::Expired => {
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
    if let Some(invitation) = p.github_invitation_id {
        let (_, included) = granted_on(state, &p).await?;
        state.github.delete_invitation(repo(&included.repository), invitation).await?;
    }
    let g = granted(invite_on_github(state, &p, true).await?, &p);
    let action = if g.to == Status::Invited { Action::InvitationResent } else { Action::AccessActive };
    if !transition(&state.db, p.id, g.change(p.status, action), cause).await? {
        // Accepted meanwhile (the member webhook): nothing to resend after all.
        tracing::info!(purchase_id = purchase_id.get(), "purchase changed during the resend");
    }
    purchases::get(&state.db, purchase_id).await
}

/// Moves a purchase's access to another GitHub account: the new account is
/// invited first (so a GitHub refusal changes nothing), the purchase then
/// points at it, and the old account is removed — by a retried job if
/// GitHub fails at that last step, so it never keeps access for free.
pub async fn move_to(
    state: &AppState,
    purchase_id: PurchaseId,
    to: &crate::github_accounts::Account,
    cause: &Cause,
) -> Result<Purchase> {
    let old = purchases::get(&state.db, purchase_id).await?;
    if !old.status.gives_access() {
        return Err(Error::invalid("status", "only a purchase that gives access can be moved to another account"));
    }
    if to.id == old.github_user_id {
        return Err(Error::invalid("github_username", format!("@{} already is the account with access", to.login)));
    }
    let taken = purchases::holding(&state.db, old.product_id, to.id).await?;
    if taken.iter().any(|(_, status)| status.gives_access()) {
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
    let mut change = Change::new(old.status, g.to, Action::Moved)
        .detail(&detail)
        .clear_reason()
        .set_all(g.set.clone())
        .set("github_user_id", Value::Int(Some(to.id.get())))
        .set("github_login", Value::Text(Some(to.login.clone())))
        .set("moved_at", Value::Int(Some(clock::now())));
    if g.to == Status::Active {
        change = change.set("github_invitation_id", Value::Int(None)).set("invitation_url", Value::Text(None));
    }
    if !transition(&state.db, old.id, change, cause).await? {
        return Err(Error::Unavailable(
            "the purchase changed while it was being moved; look at it again and retry".into(),
        ));
    }
    let holder = holder_of(state, &old).await?;
    if let Err(e) = remove_from_github(state, &holder).await {
        tracing::warn!(purchase_id = purchase_id.get(), error = %e, "could not remove the moved-away account yet; queued");
        crate::jobs::enqueue(state.db.pool(), &crate::jobs::Job::RemoveAccess(holder), clock::now(), None).await?;
        state.wake.notify();
    }
    purchases::get(&state.db, purchase_id).await
}
