//! What GitHub's webhook events mean for RepoPass: a buyer accepting an
//! invitation, someone removing a collaborator by hand, a repository renamed,
//! moved or deleted, the App uninstalled.

use serde_json::Value;

use crate::{
    clock,
    domain::{Action, GithubState, PurchaseStatus as Status},
    jobs::Outcome,
    purchase_state::{transition, Cause, Change, Value as Col},
    purchases::{self, Purchase},
    AppState, Error, Result,
};

async fn purchase_of(state: &AppState, github_repo_id: i64, github_user_id: i64) -> Result<Option<Purchase>> {
    let sql = format!(
        "SELECT {} FROM purchases WHERE github_user_id = $2
           AND repository_id = (SELECT id FROM repositories WHERE github_repo_id = $1)
         ORDER BY (status IN ({})) DESC, id DESC LIMIT 1",
        purchases::COLUMNS,
        purchases::statuses_sql(Status::gives_access),
    );
    Ok(sqlx::query_as::<_, Purchase>(&sql)
        .bind(github_repo_id)
        .bind(github_user_id)
        .fetch_optional(state.db.pool())
        .await?)
}

/// Records what GitHub says of a repository on sale (and, when renamed or
/// moved, where it is now). The number of repositories changed (0: not ours).
async fn set_repository(
    state: &AppState,
    github_repo_id: i64,
    github_state: GithubState,
    moved_to: Option<(&str, &str)>,
) -> Result<u64> {
    let done = match moved_to {
        Some((owner, name)) => sqlx::query(
            "UPDATE repositories SET owner = $3, name = $4, github_state = $2, updated_at = $5 WHERE github_repo_id = $1",
        )
        .bind(github_repo_id)
        .bind(github_state)
        .bind(owner)
        .bind(name)
        .bind(clock::now()),
        None => {
            sqlx::query("UPDATE repositories SET github_state = $2, updated_at = $3 WHERE github_repo_id = $1")
                .bind(github_repo_id)
                .bind(github_state)
                .bind(clock::now())
        }
    };
    Ok(done.execute(state.db.pool()).await?.rows_affected())
}

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
            let Some(p) = purchase_of(state, repo_id, user_id).await? else {
                return Ok(Outcome::Ignored("not a buyer of ours".into()));
            };
            if p.status != Status::Invited {
                return Ok(Outcome::Ignored(format!("purchase is {}", p.status)));
            }
            let change = Change::new(Status::Invited, Status::Active, Action::AccessActive)
                .detail("invitation accepted on GitHub")
                .set("activated_at", Col::Int(Some(clock::now())))
                .set("invitation_url", Col::Text(None));
            transition(&state.db, p.id, change, &cause).await?;
            Ok(Outcome::Processed)
        }
        "member.removed" => {
            let (Some(repo_id), Some(user_id)) = (repo_id, event["member"]["id"].as_i64()) else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let Some(p) = purchase_of(state, repo_id, user_id).await? else {
                return Ok(Outcome::Ignored("not a buyer of ours".into()));
            };
            if !p.status.gives_access() {
                // Our own revoke, echoed back by GitHub.
                return Ok(Outcome::Ignored(format!("purchase is {}", p.status)));
            }
            // Removed by hand while paid for: drift, for the creator to see.
            let by = event["sender"]["login"].as_str().unwrap_or("someone");
            let detail = format!("removed on GitHub by @{by} while the purchase is paid for");
            transition(&state.db, p.id, Change::record(p.status, Action::DriftRemovedByHand).detail(&detail), &cause)
                .await?;
            Ok(Outcome::Processed)
        }
        "repository.renamed" | "repository.transferred" => {
            let (Some(repo_id), Some(owner), Some(name)) =
                (repo_id, event["repository"]["owner"]["login"].as_str(), event["repository"]["name"].as_str())
            else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let github_state =
                if event_type == "repository.renamed" { GithubState::Renamed } else { GithubState::Transferred };
            let changed = set_repository(state, repo_id, github_state, Some((owner, name))).await?;
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
            let changed = set_repository(state, repo_id, github_state, None).await?;
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation_repositories.removed" => {
            let ids: Vec<i64> = event["repositories_removed"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
                .unwrap_or_default();
            let mut changed = 0;
            for id in ids {
                changed += set_repository(state, id, GithubState::AccessLost, None).await?;
            }
            if changed > 0 {
                tracing::warn!(repositories = changed, "the GitHub App lost access to repositories on sale");
            }
            Ok(Outcome::Processed)
        }
        "repository.deleted" => {
            let Some(repo_id) = repo_id else { return Ok(Outcome::Ignored("incomplete event".into())) };
            let changed = set_repository(state, repo_id, GithubState::Deleted, None).await?;
            if changed > 0 {
                tracing::warn!(github_repo_id = repo_id, "a repository on sale was deleted on GitHub");
            }
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation.deleted" | "installation.suspend" => {
            let Some(account) = event["installation"]["account"]["login"].as_str() else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let changed = sqlx::query("UPDATE repositories SET github_state = $3, updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state <> $4")
                .bind(account)
                .bind(clock::now())
                .bind(GithubState::AccessLost)
                .bind(GithubState::Deleted)
                .execute(state.db.pool())
                .await?
                .rows_affected();
            tracing::warn!(account, repositories = changed, "the GitHub App lost access to an account");
            Ok(Outcome::Processed)
        }
        "installation.unsuspend" | "installation.created" => {
            if let Some(account) = event["installation"]["account"]["login"].as_str() {
                sqlx::query("UPDATE repositories SET github_state = $3, updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state = $4")
                    .bind(account)
                    .bind(clock::now())
                    .bind(GithubState::Ok)
                    .bind(GithubState::AccessLost)
                    .execute(state.db.pool())
                    .await?;
            }
            Ok(Outcome::Processed)
        }
        other => Ok(Outcome::Ignored(format!("{other} is not an event RepoPass acts on"))),
    }
}
