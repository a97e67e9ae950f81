//! What GitHub's webhook events mean for RepoPass: a buyer accepting an
//! invitation, someone removing a collaborator by hand, a repository renamed,
//! moved or deleted, the App uninstalled.

use serde_json::Value;

use crate::{
    clock,
    domain::{Action, GithubState, GrantStatus},
    grants::{self, Update},
    jobs::Outcome,
    purchase_state::{transition, Cause, Change, Value as Col},
    purchases, repositories, AppState, Error, Result,
};

pub async fn handle(state: &AppState, delivery_id: &str, event_type: &str, payload: &str) -> Result<Outcome> {
    let event: Value =
        serde_json::from_str(payload).map_err(|e| Error::Internal(format!("stored event is not JSON: {e}")))?;
    let cause = Cause::GithubEvent(delivery_id.to_owned());
    let repo_id = event["repository"]["id"].as_i64();
    match event_type {
        "ping" => Ok(Outcome::Processed),
        "member.added" => {
            let (Some(repo_id), Some(user_id)) = (repo_id, event["member"]["id"].as_i64()) else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let Some(grant) = grants::of_github_repository_and_user(&state.db, repo_id, user_id).await? else {
                return Ok(Outcome::Ignored("not a buyer of ours".into()));
            };
            let p = purchases::get(&state.db, grant.purchase_id).await?;
            if grant.status != GrantStatus::Invited || !p.status.gives_access() {
                return Ok(Outcome::Ignored(format!("access to this repository is {}", grant.status)));
            }
            let update = Update::new(&grant, GrantStatus::Active)
                .set("activated_at", Col::Int(Some(clock::now())))
                .set("invitation_url", Col::Text(None));
            let change =
                Change::of_grants(p.status, Action::AccessActive, vec![update]).detail("invitation accepted on GitHub");
            transition(&state.db, p.id, change, &cause).await?;
            Ok(Outcome::Processed)
        }
        "member.removed" => {
            let (Some(repo_id), Some(user_id)) = (repo_id, event["member"]["id"].as_i64()) else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let Some(grant) = grants::of_github_repository_and_user(&state.db, repo_id, user_id).await? else {
                return Ok(Outcome::Ignored("not a buyer of ours".into()));
            };
            let p = purchases::get(&state.db, grant.purchase_id).await?;
            if !grant.status.gives_access() || !p.status.gives_access() {
                // Our own revoke, echoed back by GitHub.
                return Ok(Outcome::Ignored(format!("access to this repository is {}", grant.status)));
            }
            // Removed by hand while paid for: drift, for the creator to see.
            let by = event["sender"]["login"].as_str().unwrap_or("someone");
            let detail = format!("removed on GitHub by @{by} while the purchase is paid for");
            let change =
                Change::record(p.status, Action::DriftRemovedByHand).about(grant.repository_id).detail(&detail);
            transition(&state.db, p.id, change, &cause).await?;
            Ok(Outcome::Processed)
        }
        // Team access: an organisation invitation accepted, or a member
        // taken off the team on GitHub.
        "membership.added" | "membership.removed" => {
            let (Some(team_id), Some(user_id)) = (event["team"]["id"].as_i64(), event["member"]["id"].as_i64()) else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let by = event["sender"]["login"].as_str().unwrap_or("someone");
            let added = event_type == "membership.added";
            crate::team_access::membership_event(state, team_id, user_id, added, by, &cause).await
        }
        "repository.renamed" | "repository.transferred" => {
            let (Some(repo_id), Some(owner), Some(name)) =
                (repo_id, event["repository"]["owner"]["login"].as_str(), event["repository"]["name"].as_str())
            else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let github_state =
                if event_type == "repository.renamed" { GithubState::Renamed } else { GithubState::Transferred };
            let changed = repositories::set_github_state(&state.db, repo_id, github_state, Some((owner, name))).await?;
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "repository.archived" | "repository.privatized" | "repository.unarchived" | "repository.publicized" => {
            let Some(repo_id) = repo_id else { return Ok(Outcome::Ignored("incomplete event".into())) };
            // Archived: read-only, no invitations. Public: nothing left to sell.
            let github_state = match event_type {
                "repository.archived" => GithubState::Archived,
                "repository.publicized" => GithubState::Public,
                _ => GithubState::Ok,
            };
            let changed = repositories::set_github_state(&state.db, repo_id, github_state, None).await?;
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation_repositories.removed" => {
            let ids: Vec<i64> = event["repositories_removed"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
                .unwrap_or_default();
            let mut changed = 0;
            for id in ids {
                changed += repositories::set_github_state(&state.db, id, GithubState::AccessLost, None).await?;
            }
            if changed > 0 {
                tracing::warn!(repositories = changed, "the GitHub App lost access to repositories on sale");
            }
            Ok(Outcome::Processed)
        }
        "repository.deleted" => {
            let Some(repo_id) = repo_id else { return Ok(Outcome::Ignored("incomplete event".into())) };
            let changed = repositories::set_github_state(&state.db, repo_id, GithubState::Deleted, None).await?;
            if changed > 0 {
                tracing::warn!(github_repo_id = repo_id, "a repository on sale was deleted on GitHub");
            }
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation.deleted" | "installation.suspend" => {
            let Some(account) = event["installation"]["account"]["login"].as_str() else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let changed = repositories::set_owner_state(&state.db, account, GithubState::AccessLost).await?;
            tracing::warn!(account, repositories = changed, "the GitHub App lost access to an account");
            Ok(Outcome::Processed)
        }
        "installation.unsuspend" | "installation.created" => {
            if let Some(account) = event["installation"]["account"]["login"].as_str() {
                repositories::set_owner_state(&state.db, account, GithubState::Ok).await?;
            }
            Ok(Outcome::Processed)
        }
        other => Ok(Outcome::Ignored(format!("{other} is not an event RepoPass acts on"))),
    }
}
