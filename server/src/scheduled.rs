//! Work that runs on a schedule, as jobs: each is enqueued with a key per
//! time slot, so several processes scheduling the same slot run it once.
//!
//! - recovering Stripe events missed while RepoPass was down (every 15 min;
//!   `lifecycle::recover_stripe_events`)
//! - noticing invitations GitHub let expire (hourly)
//! - reconciling purchases with the repositories' collaborators (hourly)
//! - ending periods of access that ran out (every 15 min; `access_periods`)
//! - warning customers seven days and one day before access ends (hourly;
//!   `access_warnings`)
//! - the creator's summary email, daily or weekly as they chose
//!   (`creator_summary`)
//! - outgoing webhook retries that came due (every minute;
//!   `outgoing_delivery::retry_due`)
//! - the alert checks (every minute; `alert_checks`)
//! - a SQLite database's daily backup (`backups`)

use std::collections::{HashMap, HashSet};

pub use crate::drift::Drift;
use crate::{
    access, clock,
    domain::{Action, DriftKind, GrantStatus, ProductStatus, PurchaseStatus as Status, Reason},
    drift::{self, Finding},
    github::collaborators::Repo,
    grants::{self, Grant, Update},
    jobs::{self, Job},
    products,
    purchase_state::{transition, Cause, Change, Value as Col},
    purchases,
    repositories::Repository,
    AppState, Error, Result,
};

/// GitHub lets an invitation stand for seven days.
pub const INVITATION_TTL: i64 = 7 * 86_400;

/// Enqueues the periodic jobs whose slot has come (cheap; called every minute).
pub async fn schedule(state: &AppState) -> Result<()> {
    let now = clock::now();
    // Jobs about dates access ends on take their slot from the same clock
    // as those dates (the sandbox's in zero-config mode): a clock moved a
    // year ahead is a new slot, run within the minute.
    let dated = crate::dated_clock::now(state).await?;
    let due = [
        (Job::RecoverStripeEvents, 900, now),
        (Job::ExpireInvitations, 3600, now),
        (Job::Reconcile, 3600, now),
        (Job::EndAccessPeriods, 900, dated),
        (Job::WarnAccessEnding, 3600, dated),
        (Job::RetryWebhooks, 60, dated),
        (Job::CheckAlerts, 60, dated),
    ];
    for (job, every, at) in due {
        let key = format!("{}:{}", job.kind(), at / every);
        jobs::enqueue(state.db.pool(), &job, now, Some(&key)).await?;
    }
    if let Some(slot) = crate::backups::slot(state, dated) {
        jobs::enqueue(state.db.pool(), &Job::BackUp, now, Some(&format!("{}:{slot}", Job::BackUp.kind()))).await?;
    }
    let every = crate::preferences::summary_every(&state.db).await?;
    if let Some(slot) = crate::creator_summary::slot(every, dated) {
        let key = format!("{}:{}:{slot}", Job::SendSummary.kind(), every.as_str());
        jobs::enqueue(state.db.pool(), &Job::SendSummary, now, Some(&key)).await?;
    }
    Ok(())
}

/// Invitations older than GitHub's seven days that were never accepted:
/// the purchase says so, and the buyer gets one email with how to resend.
pub async fn expire_invitations(state: &AppState) -> Result<usize> {
    let cutoff = clock::now() - INVITATION_TTL;
    let mut stale: Vec<(crate::domain::PurchaseId, Vec<Grant>)> = Vec::new();
    for g in grants::invited_before(&state.db, cutoff).await? {
        match stale.last_mut() {
            Some((id, gs)) if *id == g.purchase_id => gs.push(g),
            _ => stale.push((g.purchase_id, vec![g])),
        }
    }
    let mut expired = 0;
    for (purchase_id, grants) in stale {
        let p = purchases::get(&state.db, purchase_id).await?;
        if p.status != Status::Invited {
            continue;
        }
        let product = products::get(&state.db, p.product_id).await?;
        let names: Vec<String> = grants
            .iter()
            .filter_map(|g| product.repositories.iter().find(|i| i.repository.id == g.repository_id))
            .map(|i| i.repository.full_name())
            .collect();
        let updates = grants
            .iter()
            .map(|g| Update::new(g, GrantStatus::Invited).set("invitation_url", Col::Text(None)))
            .collect();
        let detail = if product.repositories.len() > 1 {
            format!("GitHub's invitation to {} expired unaccepted after 7 days", names.join(", "))
        } else {
            "GitHub's invitation expired unaccepted after 7 days".to_owned()
        };
        let mut change = Change::record(Status::Invited, Action::InvitationExpired)
            .detail(&detail)
            .reason(Reason::InvitationExpired, "invitation expired: resend it from your account")
            .grants(updates);
        if let [one] = grants.as_slice() {
            change = change.about(one.repository_id);
        }
        let base = state.config.public_url.as_str().trim_end_matches('/');
        let body = format!(
            "Hello @{login},\n\nThe GitHub invitation to {names} that came with your purchase expired before it was accepted.\n\
             Your access is still paid for: open {base}/account and choose \"Resend invitation\" to get a new one.\n\n— RepoPass",
            login = p.github_login,
            names = names.join(", "),
        );
        let change = change.email(crate::emails::Draft {
            to: p.email.clone(),
            subject: format!("Your invitation to {} expired: resend it", product.title),
            body,
            kind: crate::domain::EmailKind::InvitationExpired,
        });
        if transition(&state.db, p.id, change, &Cause::Schedule("expire_invitations".into())).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Compares each repository's granted purchases with its collaborators and
/// invitations on GitHub, and records what differs for the creator.
pub async fn reconcile(state: &AppState) -> Result<usize> {
    let mut found = 0;
    // Each repository of a product not archived, once, with the teams
    // (team access) that give it.
    let products: Vec<_> =
        products::list(&state.db).await?.into_iter().filter(|p| p.status != ProductStatus::Archived).collect();
    let mut teams: HashMap<i64, Vec<crate::domain::GithubTeam>> = HashMap::new();
    for p in &products {
        if let Some(team) = p.team() {
            for i in &p.repositories {
                teams.entry(i.repository.id.get()).or_default().push(team.clone());
            }
        }
    }
    let mut watched: Vec<Repository> = products
        .into_iter()
        .flat_map(|p| p.repositories.into_iter().map(|i| i.repository))
        .filter(|r| !r.github_state.is_unreachable())
        .collect();
    watched.sort_by_key(|r| r.id);
    watched.dedup_by_key(|r| r.id);
    for repo in watched {
        let teams = teams.get(&repo.id.get()).map(Vec::as_slice).unwrap_or_default();
        match reconcile_repository(state, &repo, teams).await {
            Ok(n) => found += n,
            // One repository GitHub will not show us must not stop the rest.
            Err(e) => {
                tracing::warn!(repository = %format!("{}/{}", repo.owner, repo.name), error = %e, "reconciliation skipped")
            }
        }
    }
    Ok(found)
}

async fn reconcile_repository(
    state: &AppState,
    repo: &Repository,
    teams: &[crate::domain::GithubTeam],
) -> Result<usize> {
    // Everyone with access (paginated, team members included), and
    // everyone with a pending invitation: to the repository, or to the
    // organisation for one of its teams.
    let crate::github::collaborators::RepoAccess { with_access, invited, admins: administrators } = state
        .github
        .collaborators_and_invitees(Repo { owner: &repo.owner, name: &repo.name })
        .await
        .map_err(|refusal| Error::Unavailable(refusal.to_string()))?;
    let mut team_invited: HashSet<String> = HashSet::new();
    for team in teams {
        let logins =
            state.github.team_invitees(team).await.map_err(|refusal| Error::Unavailable(refusal.to_string()))?;
        team_invited.extend(logins);
    }
    // On an organisation's repository GitHub lists everyone the organisation
    // gives it (its owners, its other teams, its base permission): of those,
    // only direct collaborators and members of RepoPass's teams are
    // RepoPass's business.
    let ours: Option<HashSet<i64>> = if repo.owner_is_org {
        let unavailable = |refusal: crate::github::collaborators::Refusal| Error::Unavailable(refusal.to_string());
        let mut ours = state
            .github
            .direct_collaborators(Repo { owner: &repo.owner, name: &repo.name })
            .await
            .map_err(unavailable)?;
        for team in teams {
            ours.extend(state.github.team_members(team).await.map_err(unavailable)?);
        }
        Some(ours)
    } else {
        None
    };

    let granted = grants::live_in(&state.db, repo.id).await?;
    let paid_for: HashSet<i64> = granted.iter().map(|g| g.github_user_id.get()).collect();

    let mut findings: Vec<Finding> = Vec::new();
    for g in &granted {
        let has = with_access.contains_key(&g.github_user_id.get());
        let mut pending = invited.contains(&g.github_user_id.get());
        if !pending && !has && !team_invited.is_empty() {
            let login = purchases::get(&state.db, g.purchase_id).await?.github_login.to_ascii_lowercase();
            pending = team_invited.contains(&login);
        }
        if !(has || (g.status == GrantStatus::Invited && pending)) {
            let what = if g.status == GrantStatus::Active {
                "paid, but not a collaborator any more"
            } else {
                "paid, invitation gone"
            };
            let p = purchases::get(&state.db, g.purchase_id).await?;
            findings.push(Finding {
                kind: DriftKind::PaidWithoutAccess,
                github_user_id: g.github_user_id.get(),
                github_login: p.github_login.clone(),
                purchase_id: Some(p.id.get()),
                detail: what.to_owned(),
            });
        }
    }
    // The owner and the creator's own admins are not customers.
    let admins = crate::admins::logins(&state.db).await?;
    for (id, login) in &with_access {
        if !paid_for.contains(id)
            && !login.eq_ignore_ascii_case(&repo.owner)
            && !admins.contains(&login.to_lowercase())
            && !administrators.contains(id)
            && ours.as_ref().is_none_or(|ours| ours.contains(id))
        {
            findings.push(Finding {
                kind: DriftKind::AccessWithoutPurchase,
                github_user_id: *id,
                github_login: login.clone(),
                purchase_id: None,
                detail: "a collaborator with no purchase".to_owned(),
            });
        }
    }

    drift::replace(&state.db, repo.id.get(), &findings).await?;
    Ok(findings.len())
}

pub async fn drift(state: &AppState) -> Result<Vec<Drift>> {
    drift::list(&state.db).await
}

/// The one-click fix for a drift finding: invite the paid customer again,
/// or remove the collaborator nobody paid for. The finding goes once fixed.
pub async fn fix_drift(state: &AppState, id: i64, cause: &Cause) -> Result<String> {
    let drift = drift::find(&state.db, id).await?.ok_or(Error::NotFound)?;
    let done = match (drift.kind, drift.purchase_id) {
        (DriftKind::PaidWithoutAccess, Some(purchase_id)) => {
            let p = access::reinvite(state, crate::domain::PurchaseId(purchase_id), cause).await?;
            format!("@{} invited again", p.github_login)
        }
        (DriftKind::AccessWithoutPurchase, _) => {
            let holder = crate::domain::Holder {
                repository_id: crate::domain::RepositoryId(drift.repository_id),
                github_user_id: crate::domain::GithubUserId(drift.github_user_id),
                github_login: drift.github_login.clone(),
                invitation_id: None,
                preexisting: false,
                team: None,
            };
            access::remove_from_github(state, &holder).await?;
            // And from the team of a team product that gives the repository.
            for product in products::list(&state.db).await? {
                let Some(team) = product.team() else { continue };
                if product.repositories.iter().any(|i| i.repository.id == holder.repository_id) {
                    let member = crate::domain::Holder { team: Some(team), ..holder.clone() };
                    access::remove_from_github(state, &member).await?;
                }
            }
            tracing::info!(login = %drift.github_login, "unpaid collaborator removed");
            format!("@{} removed from the repository", drift.github_login)
        }
        (DriftKind::PaidWithoutAccess, None) => return Err(Error::invalid("id", "this finding has no automatic fix")),
    };
    drift::delete(&state.db, id).await?;
    Ok(done)
}
