//! The use cases that change who has access — grant, revoke, restore,
//! resend, move — and what each asks GitHub, for every repository of the
//! purchase's product (one grant each). The state changes themselves are
//! `purchase_state`'s; the GitHub calls are `github`'s.

use crate::{
    clock,
    domain::{
        AccessOrigin as Origin, Action, GithubUserId, GrantStatus, Holder, PurchaseId, PurchaseStatus as Status, Reason,
    },
    github::collaborators::{Found, Refusal, Repo},
    grants::{self, Grant, Update},
    jobs::{self, Job},
    prices,
    products::{self, Product},
    purchase_state::{note_reason, transition, Cause, Change, Value},
    purchases::{self, Purchase},
    repositories::{self, Included, Repository},
    teams, AppState, Error, Result,
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
pub(crate) async fn current_login(
    state: &AppState,
    owner: &str,
    user: GithubUserId,
    known: &str,
) -> std::result::Result<String, Failure> {
    let login = state.github.login_of(owner, user).await?;
    if login != known {
        tracing::info!(github_user_id = %user, old = %known, new = %login, "buyer renamed on GitHub");
        purchases::record_login(&state.db, user, &login).await?;
    }
    Ok(login)
}

/// A step that asks GitHub: GitHub's refusal (typed), or anything else.
#[derive(Debug)]
pub(crate) enum Failure {
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

/// The holders of a purchase's access, one per repository it was granted
/// (what to remove when it ends, or when it moves away).
pub async fn holders_of(state: &AppState, p: &Purchase) -> Result<Vec<Holder>> {
    let product = products::get(&state.db, p.product_id).await?;
    let held = grants::of_purchase(&state.db, p.id).await?;
    let live: Vec<&Grant> = held.iter().filter(|g| g.status != GrantStatus::Removed).collect();
    Ok(to_remove(&product, p, &live))
}

/// What removing these grants takes on GitHub: each repository's
/// collaborator, or — on a team product — the one team membership.
fn to_remove(product: &Product, p: &Purchase, grants: &[&Grant]) -> Vec<Holder> {
    match product.team() {
        Some(team) => {
            grants.first().map(|g| Holder { team: Some(team), ..g.holder(&p.github_login) }).into_iter().collect()
        }
        None => grants.iter().map(|g| g.holder(&p.github_login)).collect(),
    }
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
    if let Some(team) = &holder.team {
        let login = match current_login(state, &team.org, holder.github_user_id, &holder.github_login).await {
            Ok(login) => login,
            Err(Failure::Refused(Refusal::UserGone)) => return Ok(()),
            Err(e) => return Err(e),
        };
        return Ok(state.github.remove_member(team, &login, holder.invitation_id).await?);
    }
    let r = repositories::get(&state.db, holder.repository_id).await?;
    if let Some(invitation) = holder.invitation_id {
        state.github.delete_invitation(repo(&r), invitation).await?;
    }
    let login = match current_login(state, &r.owner, holder.github_user_id, &holder.github_login).await {
        Ok(login) => login,
        // The account is gone: nothing left to remove.
        Err(Failure::Refused(Refusal::UserGone)) => return Ok(()),
        Err(e) => return Err(e),
    };
    Ok(state.github.remove_collaborator(repo(&r), &login).await?)
}

/// Removes a purchase's access (a repository's collaborator, or the team
/// membership) — unless another purchase of the same account still pays
/// for it (two products sharing a repository, or the team).
async fn remove_held(state: &AppState, p: &Purchase, holder: &Holder) -> std::result::Result<(), Failure> {
    let elsewhere = match &holder.team {
        Some(team) => crate::team_access::held_elsewhere(state, team, holder.github_user_id, p.id).await?,
        None => grants::held_elsewhere(&state.db, holder.repository_id, holder.github_user_id, p.id).await?.is_some(),
    };
    if elsewhere {
        tracing::info!(purchase_id = p.id.get(), "left on GitHub: another purchase gives the same access");
        return Ok(());
    }
    remove(state, holder).await
}

/// What granting did on GitHub.
#[derive(Debug, Clone)]
pub(crate) enum Invite {
    /// RepoPass sent this invitation (id when GitHub gave one, link to accept it).
    Sent(Option<i64>, String),
    /// A collaborator through this purchase's own earlier invitation.
    AlreadyOurs,
    /// A collaborator, or invited by someone else (that invitation's link),
    /// before RepoPass was involved: nothing was changed on GitHub.
    HadAccess { invitation_url: Option<String> },
    /// Another purchase of the same account gives this repository already:
    /// this grant shares its access (and its invitation link, if pending).
    Shared { status: GrantStatus, invitation_url: Option<String> },
}

/// Invites the buyer to one repository of the product, at that
/// repository's level in the product (else the price's) — unless they
/// already have access: then GitHub is left exactly as it is. `ours`: access
/// found on GitHub counts as this grant's own (a resend after acceptance).
async fn invite_on_github(
    state: &AppState,
    p: &Purchase,
    grant: &Grant,
    included: &Included,
    price_permission: &str,
    ours: bool,
) -> std::result::Result<Invite, Failure> {
    let r = &included.repository;
    if let Some(other) = grants::held_elsewhere(&state.db, r.id, p.github_user_id, p.id).await? {
        return Ok(Invite::Shared { status: other.status, invitation_url: other.invitation_url });
    }
    let permission = included.permission.as_deref().unwrap_or(price_permission);
    let login = current_login(state, &r.owner, p.github_user_id, &p.github_login).await?;
    let own_invitation = if ours { grant.github_invitation_id } else { None };
    // An earlier attempt of this grant for this account (the process may
    // have died after GitHub accepted and before the grant recorded it):
    // what GitHub shows since then is RepoPass's own, not access they had.
    let attempted = grant.invite_attempted_at.filter(|_| grant.invite_attempted_user == Some(p.github_user_id.get()));
    match state.github.access_of(repo(r), &login, p.github_user_id, own_invitation).await? {
        Found::Collaborator if ours || attempted.is_some() => return Ok(Invite::AlreadyOurs),
        Found::Invitation { id, url, created_at } if attempted.is_some_and(|at| created_at >= at - 120) => {
            return Ok(Invite::Sent(Some(id), url))
        }
        Found::Collaborator => return Ok(had_access(p, None)),
        Found::Invitation { url, .. } => return Ok(had_access(p, Some(url))),
        Found::Nothing => {}
    }
    grants::record_invite_attempt(&state.db, grant, p.github_user_id).await?;
    let sent = state.github.invite(repo(r), &login, permission).await;
    // The end point of the grant-latency benchmark (benches/grant_latency.rs).
    tracing::debug!(target: "repopass::grant", purchase_id = p.id.get(), ok = sent.is_ok(), "GitHub invitation call made");
    let sent = sent?;
    // None (no invitation): a collaborator since the check just above.
    Ok(sent.map(|s| Invite::Sent(Some(s.id), s.url)).unwrap_or(Invite::AlreadyOurs))
}

pub(crate) fn had_access(p: &Purchase, invitation_url: Option<String>) -> Invite {
    tracing::info!(
        purchase_id = p.id.get(),
        github_user_id = %p.github_user_id,
        "the buyer already has access; GitHub left as it is"
    );
    Invite::HadAccess { invitation_url }
}

/// One repository granted: the grant's change, and what people read of it.
struct Granted {
    update: Update,
    repository: String,
    /// Set when the account had access before: the log's detail, for the creator.
    had_access: Option<String>,
    /// The invitation the buyer is to accept, when there is one.
    invitation_url: Option<String>,
}

fn granted(invite: Invite, p: &Purchase, grant: &Grant, repository: &Repository) -> Granted {
    let now = clock::now();
    let origin = |o: Origin| Value::Text(Some(o.as_str().to_owned()));
    let base = |to: GrantStatus| {
        Update::new(grant, to).set_all([
            ("removed_at", Value::Int(None)),
            ("status_reason", Value::Text(None)),
            ("status_reason_code", Value::Reason(None)),
        ])
    };
    let repository_name = repository.full_name();
    let (update, had_access, invitation_url) = match invite {
        Invite::Sent(id, url) => (
            base(GrantStatus::Invited).set_all([
                ("github_access", origin(Origin::RepoPass)),
                ("github_invitation_id", Value::Int(id)),
                ("invitation_url", Value::Text(Some(url.clone()))),
                ("invited_at", Value::Int(Some(now))),
            ]),
            None,
            Some(url),
        ),
        Invite::AlreadyOurs => (
            base(GrantStatus::Active)
                .set_all([("invitation_url", Value::Text(None)), ("activated_at", Value::Int(Some(now)))]),
            None,
            None,
        ),
        Invite::Shared { status, invitation_url } => (
            // Never the other purchase's invitation id: its own removal handles it.
            base(status).set_all([
                ("github_access", origin(Origin::RepoPass)),
                ("github_invitation_id", Value::Int(None)),
                ("invitation_url", Value::Text(invitation_url.clone())),
                ("invited_at", Value::Int(Some(now))),
                ("activated_at", Value::Int(Some(now).filter(|_| status == GrantStatus::Active))),
            ]),
            None,
            invitation_url,
        ),
        Invite::HadAccess { invitation_url } => {
            // Never the other invitation's id: RepoPass must not delete it.
            let update = base(GrantStatus::Active)
                .set_all([("github_access", origin(Origin::Preexisting)), ("github_invitation_id", Value::Int(None))]);
            let (update, how) = match invitation_url.clone() {
                Some(url) => (
                    Update { to: GrantStatus::Invited, ..update }
                        .set_all([("invitation_url", Value::Text(Some(url))), ("invited_at", Value::Int(Some(now)))]),
                    "had an invitation RepoPass did not send",
                ),
                None => (
                    update.set_all([("invitation_url", Value::Text(None)), ("activated_at", Value::Int(Some(now)))]),
                    "was already a collaborator",
                ),
            };
            let detail = format!(
                "@{} {how} on {repository_name}: RepoPass changed nothing on GitHub and will never remove this access",
                p.github_login
            );
            (update, Some(detail), invitation_url)
        }
    };
    Granted { update, repository: repository_name, had_access, invitation_url }
}

/// What asking GitHub for every repository still to grant gave: the
/// grants made, and the first refusal (the rest wait for a retry).
struct Pass {
    granted: Vec<Granted>,
    refused: Option<Failure>,
    /// Repositories left waiting, with why.
    waiting: Vec<(String, String)>,
}

/// Invites the buyer to each repository of the product the purchase does
/// not give yet (`ours`: access found on GitHub is this purchase's own).
/// A refusal on one repository does not stop the others.
async fn invite_all(state: &AppState, p: &Purchase, ours: bool) -> Result<(Product, Pass)> {
    let product = products::get(&state.db, p.product_id).await?;
    let price = prices::get(&state.db, p.price_id).await?;
    let mut pass = Pass { granted: Vec::new(), refused: None, waiting: Vec::new() };
    let team = product.team();
    let mut todo: Vec<(Grant, &Included)> = Vec::new();
    for included in &product.repositories {
        let mut grant = grants::ensure(&state.db, p, included.repository.id).await?;
        if grant.status == GrantStatus::Removed {
            // To be given again (a restore, or the repository back in the product).
            grants::reopen(&state.db, &grant).await?;
            grant.status = GrantStatus::Waiting;
        }
        let resend = ours && grant.status.gives_access();
        if grant.status.gives_access() && !resend {
            continue;
        }
        if resend && grant.github_access == Origin::Preexisting {
            continue;
        }
        if resend && team.is_none() {
            if let Some(invitation) = grant.github_invitation_id {
                state.github.delete_invitation(repo(&included.repository), invitation).await?;
            }
        }
        todo.push((grant, included));
    }
    if let (Some(team), Some((first, _))) = (&team, todo.first()) {
        // One membership gives every repository of the team.
        let invite = crate::team_access::invite(state, p, team, first, ours).await;
        for (grant, included) in &todo {
            pass.note(state, p, grant, included, invite.as_ref().map(Invite::clone).map_err(Failure::again)).await?;
        }
        return Ok((product, pass));
    }
    for (grant, included) in &todo {
        let invite = invite_on_github(state, p, grant, included, &price.permission, ours).await;
        pass.note(state, p, grant, included, invite).await?;
    }
    Ok((product, pass))
}

impl Failure {
    /// The same failure, for the next repository it stopped.
    fn again(&self) -> Failure {
        match self {
            Failure::Refused(r) => Failure::Refused(r.clone()),
            Failure::Other(e) => Failure::Other(Error::Unavailable(e.to_string())),
        }
    }
}

impl Pass {
    /// Records what asking GitHub gave for one repository.
    async fn note(
        &mut self,
        state: &AppState,
        p: &Purchase,
        grant: &Grant,
        included: &Included,
        invite: std::result::Result<Invite, Failure>,
    ) -> Result<()> {
        match invite {
            Ok(invite) => self.granted.push(granted(invite, p, grant, &included.repository)),
            Err(Failure::Refused(refusal)) => {
                if let Some(code) = refusal.reason() {
                    let message = match &refusal {
                        Refusal::Later { .. } => refusal.to_string(),
                        _ => format!("not invited: {refusal}"),
                    };
                    grants::note_reason(&state.db, grant, code, &message).await?;
                    self.waiting.push((included.repository.full_name(), message));
                }
                self.refused.get_or_insert(Failure::Refused(refusal));
            }
            Err(other) => {
                self.refused.get_or_insert(other);
            }
        }
        Ok(())
    }

    fn updates(&self) -> Vec<Update> {
        self.granted.iter().map(|g| g.update.clone()).collect()
    }

    /// What the access log says of the pass: who had access already, and
    /// which repositories were granted when there are several.
    fn detail(&self, several: bool) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if several {
            let names: Vec<&str> = self.granted.iter().map(|g| g.repository.as_str()).collect();
            if !names.is_empty() {
                parts.push(names.join(", "));
            }
            parts.extend(self.waiting.iter().map(|(name, why)| format!("{name} waits: {why}")));
        }
        parts.extend(self.granted.iter().filter_map(|g| g.had_access.clone()));
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn action(&self) -> Action {
        if self.granted.iter().all(|g| g.had_access.is_some()) {
            Action::HadAccess
        } else if self.granted.iter().any(|g| g.update.to == GrantStatus::Invited) {
            Action::InvitationSent
        } else {
            Action::AccessActive
        }
    }
}

/// Queues a grant pass for a purchase, now.
pub(crate) async fn queue_grant(state: &AppState, id: PurchaseId) -> Result<()> {
    jobs::enqueue(state.db.pool(), &Job::Grant { purchase_id: id }, clock::now(), None).await?;
    state.wake.notify();
    Ok(())
}

/// Queues another pass for the repositories a pass left waiting.
async fn grant_later(state: &AppState, p: &Purchase, failure: &Failure) -> Result<()> {
    let after = match failure {
        Failure::Refused(Refusal::Later { after_secs, .. }) => *after_secs as i64,
        // The user or the repository gone: the creator's resend or reconnect retries.
        Failure::Refused(_) => return Ok(()),
        Failure::Other(_) => 60,
    };
    let job = Job::Grant { purchase_id: p.id };
    let at = clock::now() + after;
    // One retry per purchase and moment (a key is kept for good once used).
    jobs::enqueue(state.db.pool(), &job, at, Some(&format!("{}:{}:{at}", job.kind(), p.id))).await?;
    Ok(())
}

/// Revokes access now: GitHub first, for every repository (so a failure
/// changes nothing here), then the record. Revoking a revoked purchase is
/// a no-op. `message` is what people read (the creator's own words when
/// they give some).
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
    if p.is_company() {
        // Every holder first: the team purchase closes once none keeps access.
        team_end(state, &p, message, cause).await?;
    }
    let held = grants::of_purchase(&state.db, p.id).await?;
    let product = products::get(&state.db, p.product_id).await?;
    // What GitHub may show: access given, or an invitation asked for before a crash.
    let shown: Vec<&Grant> = held
        .iter()
        .filter(|g| g.status.gives_access() || (g.status == GrantStatus::Waiting && g.invite_attempted_at.is_some()))
        .collect();
    for holder in to_remove(&product, &p, &shown) {
        if let Err(failure) = remove_held(state, &p, &holder).await {
            if let Failure::Refused(refusal @ Refusal::Later { why, .. }) = &failure {
                // Shown to the creator while the removal waits.
                note_reason(&state.db, p.id, p.status, *why, &refusal.to_string()).await?;
            }
            return Err(failure.into());
        }
    }
    let message = if message.is_empty() { "revoked by the creator" } else { message };
    let kept: Vec<String> = {
        held.iter()
            .filter(|g| g.status.gives_access() && g.github_access == Origin::Preexisting)
            .filter_map(|g| product.repositories.iter().find(|i| i.repository.id == g.repository_id))
            .map(|i| i.repository.full_name())
            .collect()
    };
    let message = if kept.is_empty() {
        message.to_owned()
    } else {
        format!(
            "{message} (GitHub left as it was: @{} had access to {} before this purchase)",
            p.github_login,
            kept.join(", ")
        )
    };
    // Another change may land meanwhile (a webhook turning `invited` into
    // `active`): apply the revoke to whatever granted state it is in now.
    let mut from = p.status;
    for _ in 0..5 {
        let removed: Vec<Update> = grants::of_purchase(&state.db, p.id)
            .await?
            .iter()
            .filter(|g| g.status != GrantStatus::Removed)
            .map(|g| {
                Update::new(g, GrantStatus::Removed).set_all([
                    ("removed_at", Value::Int(Some(clock::now()))),
                    ("github_invitation_id", Value::Int(None)),
                    ("invitation_url", Value::Text(None)),
                    // A restore starts afresh: what GitHub shows then is not this grant's.
                    ("invite_attempted_at", Value::Int(None)),
                    ("invite_attempted_user", Value::Int(None)),
                ])
            })
            .collect();
        let change = Change::new(from, Status::Revoked, Action::Revoke)
            .detail(&message)
            .reason(reason, message.as_str())
            .set("revoked_at", Value::Int(Some(clock::now())))
            .grants(removed);
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

/// Paid → invited on GitHub to every repository of the product (or active
/// at once where already a collaborator); for a purchase that gives access,
/// the repositories it does not give yet (one added to the product, one
/// queued behind GitHub's limits).
pub async fn grant(state: &AppState, purchase_id: PurchaseId, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    grant_read(state, p, cause).await
}

/// `grant` of a purchase the caller has just read.
pub(crate) async fn grant_read(state: &AppState, p: Purchase, cause: &Cause) -> Result<Purchase> {
    if !p.status.is_granted() {
        return Ok(p);
    }
    if p.is_company() {
        // Its seats hold the access.
        return Box::pin(team_activate(state, p, cause)).await;
    }
    if p.status == Status::Paid && p.seat_of.is_none() {
        if let Some(earlier) = crate::duplicate_purchases::earlier_holder(state, &p).await? {
            let earlier = purchases::get(&state.db, earlier).await?;
            // Another period of access extends the one held; anything else is a duplicate.
            if crate::renewals::renews(state, &earlier, p.price_id).await? {
                crate::renewals::renew(state, &p, &earlier, cause).await?;
            } else {
                crate::duplicate_purchases::close(state, &p, earlier.id, cause).await?;
            }
            return purchases::get(&state.db, p.id).await;
        }
    }
    let (product, pass) = invite_all(state, &p, false).await?;
    if pass.granted.is_empty() {
        return match pass.refused {
            None => Ok(p),
            Some(failure) => {
                if let (Status::Paid, Failure::Refused(refusal)) = (p.status, &failure) {
                    // Shown to the creator and the buyer while it waits, or why
                    // it cannot happen (the user or the repository gone).
                    if let (Some(code), Some((_, message))) = (refusal.reason(), pass.waiting.first()) {
                        note_reason(&state.db, p.id, Status::Paid, code, message).await?;
                    }
                }
                Err(failure.into())
            }
        };
    }
    let several = product.repositories.len() > 1;
    let detail = pass.detail(several);
    let mut change = Change::of_grants(p.status, pass.action(), pass.updates());
    if let Some(detail) = &detail {
        change = change.detail(detail);
    }
    if p.status == Status::Paid {
        change = change.email(access_email(state, &p, &product, &pass));
    }
    if transition(&state.db, p.id, change, cause).await? {
        state.wake.notify();
    } else {
        // Moved meanwhile (revoked, or accepted): the next pass sees it.
        tracing::info!(purchase_id = p.id.get(), "purchase changed during the grant");
    }
    if let Some(failure) = &pass.refused {
        grant_later(state, &p, failure).await?;
    }
    purchases::get(&state.db, p.id).await
}

/// The buyer's "your access is on its way" email: each repository with its
/// link to accept, and the way to their account.
fn access_email(state: &AppState, p: &Purchase, product: &Product, pass: &Pass) -> crate::emails::Draft {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let web = state.config.github.web_url.as_str().trim_end_matches('/');
    let login = &p.github_login;
    let pending = pass.granted.iter().any(|g| g.invitation_url.is_some());
    let seat = p.seat_of.is_some();
    let subject = match (seat, pending) {
        // A seat's email goes to whoever paid for the team (the holder gets GitHub's).
        (true, true) => format!("@{login}'s seat of {}: invitation sent", product.title),
        (true, false) => format!("@{login}'s seat of {}: access active", product.title),
        (false, true) => format!("Your access to {} is on its way", product.title),
        (false, false) => format!("Your access to {} is active", product.title),
    };
    let mut how = Vec::new();
    for g in &pass.granted {
        let full_name = &g.repository;
        how.push(match &g.invitation_url {
            Some(url) => format!(
                "GitHub has invited @{login} to the private repository {full_name}.\n\n\
                 Accept the invitation here (it is valid for 7 days, and it is also in your GitHub notifications):\n{url}\n\n\
                 Once accepted, the repository is at {web}/{full_name}"
            ),
            None => format!("@{login} has access to the private repository {full_name}: {web}/{full_name}"),
        });
    }
    for (full_name, _) in &pass.waiting {
        how.push(format!(
            "The invitation to {full_name} is queued behind GitHub's limits; it follows by itself, and your account page shows when."
        ));
    }
    let body = if seat {
        format!(
            "Hello,\n\n@{login} now holds a seat of {title}. {how}\n\n\
             The team's seats (who holds them, resending an invitation, adding or taking back seats) are at {base}/account.\n\n— RepoPass",
            title = product.title,
            how = how.join("\n\n"),
        )
    } else {
        format!(
            "Hello @{login},\n\nThank you for buying {title}. {how}\n\n\
             Your purchase, a new invitation if this one expires, and your billing are at {base}/account \
             (sign in with GitHub as @{login}, or with this email address).\n\n— RepoPass",
            title = product.title,
            how = how.join("\n\n"),
        )
    };
    crate::emails::Draft { to: p.email.clone(), subject, body, kind: crate::domain::EmailKind::AccessGranted }
}

/// Gives access back to a revoked purchase: new invitations (or active at
/// once where GitHub says they are already a collaborator). A repository
/// GitHub makes wait is granted by a queued retry.
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
    if p.is_company() {
        return Box::pin(team_restore(state, &p, cause)).await;
    }
    if let Some(company) = p.seat_of {
        if purchases::get(&state.db, company).await?.status != Status::Active {
            return Err(Error::invalid(
                "status",
                "this seat's team purchase has ended; restore the team purchase to give its seats back",
            ));
        }
    }
    let (product, pass) = invite_all(state, &p, false).await?;
    if pass.granted.is_empty() {
        return Err(pass
            .refused
            .map(Error::from)
            .unwrap_or_else(|| Error::invalid("repository", "this product grants no repository")));
    }
    let detail = pass.detail(product.repositories.len() > 1);
    let mut change = Change::of_grants(Status::Revoked, Action::Restore, pass.updates())
        .clear_reason()
        .set("revoked_at", Value::Int(None));
    if let Some(detail) = &detail {
        change = change.detail(detail);
    }
    transition(&state.db, p.id, change, cause).await?;
    if let Some(failure) = &pass.refused {
        grant_later(state, &p, failure).await?;
    }
    purchases::get(&state.db, purchase_id).await
}

/// Fresh invitations for a purchase whose invitations expired or were lost
/// (or whose collaborator GitHub no longer lists), on every repository.
/// GitHub has no "resend": the pending invitation is cancelled and a new
/// one sent (GitHub emails it again). A paid purchase that was never
/// invited is simply granted. Access the account had before its purchase
/// is left to the creator.
pub async fn reinvite(state: &AppState, purchase_id: PurchaseId, cause: &Cause) -> Result<Purchase> {
    let p = purchases::get(&state.db, purchase_id).await?;
    if p.is_company() {
        return Err(Error::invalid("status", "a team purchase's invitations are its seats': resend a holder's"));
    }
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
    let live: Vec<Grant> =
        grants::of_purchase(&state.db, p.id).await?.into_iter().filter(|g| g.status != GrantStatus::Removed).collect();
    if !live.is_empty() && live.iter().all(|g| g.github_access == Origin::Preexisting) {
        return Err(Error::invalid(
            "status",
            format!("@{} had access before this purchase; RepoPass leaves it to the creator on GitHub", p.github_login),
        ));
    }
    let (product, pass) = invite_all(state, &p, true).await?;
    if pass.granted.is_empty() {
        return match pass.refused {
            Some(failure) => Err(failure.into()),
            None => purchases::get(&state.db, purchase_id).await,
        };
    }
    let resent = pass.granted.iter().any(|g| g.update.to == GrantStatus::Invited);
    let action = if resent { Action::InvitationResent } else { Action::AccessActive };
    let detail = pass.detail(product.repositories.len() > 1);
    let mut change = Change::of_grants(p.status, action, pass.updates());
    if let Some(detail) = &detail {
        change = change.detail(detail);
    }
    if !transition(&state.db, p.id, change, cause).await? {
        // Accepted meanwhile (the member webhook): nothing to resend after all.
        tracing::info!(purchase_id = purchase_id.get(), "purchase changed during the resend");
    }
    if let Some(failure) = pass.refused {
        return Err(failure.into());
    }
    purchases::get(&state.db, purchase_id).await
}

/// Moves a purchase's access to another GitHub account: the new account is
/// invited first to every repository (so a GitHub refusal changes nothing),
/// the purchase then points at it, and the old account is removed — by a
/// retried job if GitHub fails at that last step, so it never keeps access
/// for free.
pub async fn move_to(
    state: &AppState,
    purchase_id: PurchaseId,
    to: &crate::github_accounts::Account,
    cause: &Cause,
) -> Result<Purchase> {
    let old = purchases::get(&state.db, purchase_id).await?;
    if old.is_company() {
        return Err(Error::invalid(
            "status",
            "a team purchase's access is its seats': take a seat back and give it to the other account",
        ));
    }
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
    let old_holders = holders_of(state, &old).await?;
    let old_grants = grants::of_purchase(&state.db, old.id).await?;
    let mut target = old.clone();
    target.github_user_id = to.id;
    target.github_login = to.login.clone();
    let product = products::get(&state.db, old.product_id).await?;
    let price = prices::get(&state.db, old.price_id).await?;
    let mut updates = Vec::new();
    let mut had = Vec::new();
    // The new account's grant starts afresh: nothing on GitHub is its own yet.
    let fresh = |current: &Grant| Grant {
        github_user_id: to.id,
        github_invitation_id: None,
        github_access: Origin::RepoPass,
        invite_attempted_at: None,
        invite_attempted_user: None,
        ..current.clone()
    };
    // On a team product, one membership for every repository.
    let team_invite = match (product.team(), old_grants.iter().find(|g| g.status != GrantStatus::Removed)) {
        (Some(team), Some(first)) => {
            Some(crate::team_access::invite(state, &target, &team, &fresh(first), false).await?)
        }
        _ => None,
    };
    for included in &product.repositories {
        let Some(current) = old_grants.iter().find(|g| g.repository_id == included.repository.id) else { continue };
        if current.status == GrantStatus::Removed {
            continue;
        }
        let invite = match &team_invite {
            Some(invite) => invite.clone(),
            None => invite_on_github(state, &target, &fresh(current), included, &price.permission, false).await?,
        };
        let g = granted(invite, &target, current, &included.repository);
        if let Some(h) = &g.had_access {
            had.push(h.clone());
        }
        let mut update = g.update.set("github_user_id", Value::Int(Some(to.id.get())));
        if update.to == GrantStatus::Active {
            update = update.set("github_invitation_id", Value::Int(None));
        }
        updates.push(update);
    }
    let mut detail = format!(
        "moved from @{} (GitHub id {}) to @{} (GitHub id {})",
        old.github_login, old.github_user_id, to.login, to.id
    );
    if old_holders.iter().any(|h| h.preexisting) {
        detail += &format!("; @{} keeps the access they had before the purchase", old.github_login);
    }
    for h in &had {
        detail += &format!("; {h}");
    }
    let change = Change::of_grants(old.status, Action::Moved, updates)
        .detail(&detail)
        .clear_reason()
        .set("github_user_id", Value::Int(Some(to.id.get())))
        .set("github_login", Value::Text(Some(to.login.clone())))
        .set("moved_at", Value::Int(Some(clock::now())));
    if !transition(&state.db, old.id, change, cause).await? {
        return Err(Error::Unavailable(
            "the purchase changed while it was being moved; look at it again and retry".into(),
        ));
    }
    for holder in old_holders {
        if let Err(e) = remove_held(state, &old, &holder).await.map_err(Error::from) {
            tracing::warn!(purchase_id = purchase_id.get(), error = %e, "could not remove the moved-away account yet; queued");
            jobs::enqueue(state.db.pool(), &Job::RemoveAccess(holder), clock::now(), None).await?;
            state.wake.notify();
        }
    }
    purchases::get(&state.db, purchase_id).await
}

/// A repository taken out of the purchase's product: the purchase loses it
/// (on GitHub first; access another purchase pays for, or that the account
/// had before, stays). The job of each purchase that had it.
pub async fn remove_repository(
    state: &AppState,
    purchase_id: PurchaseId,
    repository_id: crate::domain::RepositoryId,
) -> Result<jobs::Outcome> {
    let p = purchases::get(&state.db, purchase_id).await?;
    let Some(g) = grants::of_purchase(&state.db, p.id).await?.into_iter().find(|g| g.repository_id == repository_id)
    else {
        return Ok(jobs::Outcome::Ignored("the purchase never had this repository".into()));
    };
    if g.status == GrantStatus::Removed {
        return Ok(jobs::Outcome::Ignored("already removed".into()));
    }
    // A team product's repository left the team once, for every holder.
    if g.status.gives_access() && products::get(&state.db, p.product_id).await?.team().is_none() {
        remove_held(state, &p, &g.holder(&p.github_login)).await?;
    }
    let r = repositories::get(&state.db, repository_id).await?;
    let detail = format!("{} was taken out of the product", r.full_name());
    let update = Update::new(&g, GrantStatus::Removed).set_all([
        ("removed_at", Value::Int(Some(clock::now()))),
        ("github_invitation_id", Value::Int(None)),
        ("invitation_url", Value::Text(None)),
        ("invite_attempted_at", Value::Int(None)),
        ("invite_attempted_user", Value::Int(None)),
    ]);
    let change = Change::of_grants(p.status, Action::RepositoryRemoved, vec![update]).detail(&detail);
    if !transition(&state.db, p.id, change, &Cause::System).await? {
        return Err(Error::Later { message: "the purchase changed meanwhile".into(), after_secs: 5 });
    }
    Ok(jobs::Outcome::Processed)
}

// A team purchase holds no access itself: its seats (each a purchase of
// one, see `teams`) start, end and come back with it.

/// A paid company purchase: its seats are there to hand out (`active`),
/// and its seats follow (see `seats_follow`). Running it again grants what
/// is not granted yet.
async fn team_activate(state: &AppState, company: Purchase, cause: &Cause) -> Result<Purchase> {
    if company.status == Status::Paid {
        let detail = format!("{} seats to hand out", company.seats.unwrap_or(1));
        let change = Change::new(Status::Paid, Status::Active, Action::SeatsReady).detail(&detail).clear_reason();
        transition(&state.db, company.id, change, cause).await?;
    }
    seats_follow(state, &company, cause).await
}

/// A revoked company purchase comes back (the creator's restore): it is in
/// force again, and its seats follow.
async fn team_restore(state: &AppState, company: &Purchase, cause: &Cause) -> Result<Purchase> {
    if company.status == Status::Revoked {
        let change = Change::new(Status::Revoked, Status::Active, Action::Restore)
            .clear_reason()
            .set("revoked_at", Value::Int(None));
        transition(&state.db, company.id, change, cause).await?;
    }
    seats_follow(state, company, cause).await
}

/// The seats of a company purchase in force: the ones chosen at checkout
/// are paid now, the ones that ended with it (not those a manager took
/// back) are given again up to its seats, and every live seat is granted
/// what it does not have yet.
async fn seats_follow(state: &AppState, company: &Purchase, cause: &Cause) -> Result<Purchase> {
    let pending: Vec<PurchaseId> = sqlx::query_scalar("SELECT id FROM purchases WHERE seat_of = $1 AND status = $2")
        .bind(company.id)
        .bind(Status::Pending)
        .fetch_all(state.db.pool())
        .await?;
    for id in pending {
        let change = Change::new(Status::Pending, Status::Paid, Action::Paid)
            .detail("the team purchase was paid")
            .set("paid_at", Value::Int(Some(clock::now())));
        transition(&state.db, id, change, cause).await?;
    }
    let ended: Vec<PurchaseId> = sqlx::query_scalar(
        "SELECT id FROM purchases WHERE seat_of = $1 AND status = $2 AND status_reason_code = $3 ORDER BY id",
    )
    .bind(company.id)
    .bind(Status::Revoked)
    .bind(Reason::TeamEnded)
    .fetch_all(state.db.pool())
    .await?;
    let room = company.seats.unwrap_or(0) - teams::holders(&state.db, company.id).await?.len() as i64;
    for id in ended.into_iter().take(room.max(0) as usize) {
        if let Err(e) = Box::pin(restore(state, id, cause)).await {
            tracing::warn!(purchase_id = id.get(), error = %e, "a seat was not given back");
            retry_later(state, id, &e).await?;
        }
    }
    for seat in teams::holders(&state.db, company.id).await? {
        let id = seat.id;
        if let Err(e) = grant_read(state, seat, cause).await {
            // One holder's refusal (their account gone) does not hold back the others.
            tracing::warn!(purchase_id = id.get(), error = %e, "a seat was not granted yet");
            retry_later(state, id, &e).await?;
        }
    }
    purchases::get(&state.db, company.id).await
}

/// A seat GitHub made wait (its limits, an outage) is granted by a job of
/// its own, so one holder's wait never holds back the team's others.
pub(crate) async fn retry_later(state: &AppState, seat: PurchaseId, error: &Error) -> Result<()> {
    let after = match error {
        Error::Later { after_secs, .. } => *after_secs as i64,
        Error::Unavailable(_) => 60,
        // Refused for good (the account gone): the seat shows why; a resend retries.
        _ => return Ok(()),
    };
    let at = clock::now() + after;
    let job = crate::jobs::Job::Grant { purchase_id: seat };
    crate::jobs::enqueue(state.db.pool(), &job, at, Some(&format!("grant:{}:{at}", seat.get()))).await?;
    state.wake.notify();
    Ok(())
}

/// The company purchase ended (for `message`): every seat ends with
/// it, on GitHub first. A failure stops here, so the company purchase is
/// only closed once no holder keeps access (the caller's retry continues).
async fn team_end(state: &AppState, company: &Purchase, message: &str, cause: &Cause) -> Result<()> {
    let message = format!("the team purchase of @{} ended: {message}", company.github_login);
    for seat in teams::holders(&state.db, company.id).await? {
        Box::pin(revoke(state, seat.id, Reason::TeamEnded, &message, cause)).await?;
    }
    // Seats chosen at a checkout that never completed close with it.
    sqlx::query("UPDATE purchases SET status = $2, updated_at = $3 WHERE seat_of = $1 AND status = $4")
        .bind(company.id)
        .bind(Status::Expired)
        .bind(clock::now())
        .bind(Status::Pending)
        .execute(state.db.pool())
        .await?;
    Ok(())
}
