//! What GitHub's webhook events mean for RepoPass: a buyer accepting an
//! invitation, someone removing a collaborator by hand, a repository renamed,
//! moved or deleted, the App uninstalled.

use serde_json::Value;

use crate::{
    access::{self, Cause, Change},
    clock,
    lifecycle::Outcome,
    purchases::{self, Purchase},
    AppState, Error, Result,
};

async fn purchase_of(state: &AppState, github_repo_id: i64, github_user_id: i64) -> Result<Option<Purchase>> {
    let sql = format!(
        "SELECT {} FROM purchases WHERE github_user_id = $2
           AND repository_id = (SELECT id FROM repositories WHERE github_repo_id = $1)
         ORDER BY (status IN ('invited', 'active')) DESC, id DESC LIMIT 1",
        purchases::COLUMNS
    );
    Ok(sqlx::query_as::<_, Purchase>(&sql)
        .bind(github_repo_id)
        .bind(github_user_id)
        .fetch_optional(state.db.pool())
        .await?)
}

async fn set_repository(state: &AppState, github_repo_id: i64, sets: &str, values: &[&str]) -> Result<u64> {
    let sql = format!("UPDATE repositories SET {sets}, updated_at = ${} WHERE github_repo_id = $1", values.len() + 2);
    let mut q = sqlx::query(&sql).bind(github_repo_id);
    for v in values {
        q = q.bind(*v);
    }
    Ok(q.bind(clock::now()).execute(state.db.pool()).await?.rows_affected())
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
            if p.status != "invited" {
                return Ok(Outcome::Ignored(format!("purchase is {}", p.status)));
            }
            let set = [
                ("activated_at", access::Value::Int(Some(clock::now()))),
                ("invitation_url", access::Value::Text(None)),
            ];
            access::transition(
                &state.db,
                p.id,
                Change {
                    from: "invited",
                    to: "active",
                    action: "access_active",
                    detail: Some("invitation accepted on GitHub"),
                    set: &set,
                },
                &cause,
            )
            .await?;
            Ok(Outcome::Processed)
        }
        "member.removed" => {
            let (Some(repo_id), Some(user_id)) = (repo_id, event["member"]["id"].as_i64()) else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let Some(p) = purchase_of(state, repo_id, user_id).await? else {
                return Ok(Outcome::Ignored("not a buyer of ours".into()));
            };
            if !matches!(p.status.as_str(), "invited" | "active") {
                // Our own revoke, echoed back by GitHub.
                return Ok(Outcome::Ignored(format!("purchase is {}", p.status)));
            }
            // Removed by hand while paid for: drift, for the creator to see.
            let by = event["sender"]["login"].as_str().unwrap_or("someone");
            let detail = format!("removed on GitHub by @{by} while the purchase is paid for");
            access::transition(
                &state.db,
                p.id,
                Change {
                    from: &p.status,
                    to: &p.status,
                    action: "drift_removed_by_hand",
                    detail: Some(&detail),
                    set: &[],
                },
                &cause,
            )
            .await?;
            Ok(Outcome::Processed)
        }
        "repository.renamed" | "repository.transferred" => {
            let (Some(repo_id), Some(owner), Some(name)) =
                (repo_id, event["repository"]["owner"]["login"].as_str(), event["repository"]["name"].as_str())
            else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let state_name = if event_type.ends_with("renamed") { "renamed" } else { "transferred" };
            let changed =
                set_repository(state, repo_id, "owner = $2, name = $3, github_state = $4", &[owner, name, state_name])
                    .await?;
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "repository.archived" | "repository.privatized" | "repository.unarchived" | "repository.publicized" => {
            let Some(repo_id) = repo_id else { return Ok(Outcome::Ignored("incomplete event".into())) };
            // Archived: read-only, no invitations. Public: nothing left to sell.
            let github_state = match event_type {
                "repository.archived" => "archived",
                "repository.publicized" => "public",
                _ => "ok",
            };
            let changed = set_repository(state, repo_id, "github_state = $2", &[github_state]).await?;
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation_repositories.removed" => {
            let ids: Vec<i64> = event["repositories_removed"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r["id"].as_i64()).collect())
                .unwrap_or_default();
            let mut changed = 0;
            for id in ids {
                changed += set_repository(state, id, "github_state = $2", &["access_lost"]).await?;
            }
            if changed > 0 {
                tracing::warn!(repositories = changed, "the GitHub App lost access to repositories on sale");
            }
            Ok(Outcome::Processed)
        }
        "repository.deleted" => {
            let Some(repo_id) = repo_id else { return Ok(Outcome::Ignored("incomplete event".into())) };
            let changed = set_repository(state, repo_id, "github_state = $2", &["deleted"]).await?;
            if changed > 0 {
                tracing::warn!(github_repo_id = repo_id, "a repository on sale was deleted on GitHub");
            }
            Ok(if changed > 0 { Outcome::Processed } else { Outcome::Ignored("not a repository on RepoPass".into()) })
        }
        "installation.deleted" | "installation.suspend" => {
            let Some(account) = event["installation"]["account"]["login"].as_str() else {
                return Ok(Outcome::Ignored("incomplete event".into()));
            };
            let changed = sqlx::query("UPDATE repositories SET github_state = 'access_lost', updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state <> 'deleted'")
                .bind(account)
                .bind(clock::now())
                .execute(state.db.pool())
                .await?
                .rows_affected();
            tracing::warn!(account, repositories = changed, "the GitHub App lost access to an account");
            Ok(Outcome::Processed)
        }
        "installation.unsuspend" | "installation.created" => {
            if let Some(account) = event["installation"]["account"]["login"].as_str() {
                sqlx::query("UPDATE repositories SET github_state = 'ok', updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state = 'access_lost'")
                    .bind(account)
                    .bind(clock::now())
                    .execute(state.db.pool())
                    .await?;
            }
            Ok(Outcome::Processed)
        }
        other => Ok(Outcome::Ignored(format!("{other} is not an event RepoPass acts on"))),
    }
}
