//! The sandbox's control API under `/sandbox/control`: what a person does
//! in the console (accept an invitation, advance the clock, break GitHub for
//! a while), as JSON for tests.

use axum::{
    extract::{Path, State},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    deliveries,
    github::{faults, model::user_json},
    Error, Sandbox,
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/clock/advance", post(advance_clock))
        .route("/github/users", post(create_user))
        .route("/github/state", get(github_state))
        .route("/github/invitations/{id}/accept", post(accept_invitation))
        .route("/github/repos/{owner}/{repo}/collaborators/{login}/remove", post(remove_by_hand))
        .route("/github/faults", post(arm_fault))
        .route("/deliveries", get(list_deliveries))
        .route("/deliveries/{id}/redeliver", post(redeliver))
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    days: i64,
    #[serde(default)]
    seconds: i64,
}

async fn advance_clock(State(sb): State<Sandbox>, Json(a): Json<Advance>) -> Result<Json<Value>, Error> {
    let by = a.days * 86_400 + a.seconds;
    if by < 0 {
        return Err(Error::BadRequest("the sandbox clock only moves forward".into()));
    }
    let now = sb.store().advance_clock(by).await?;
    Ok(Json(json!({ "now": now })))
}

#[derive(Deserialize)]
struct NewUser {
    login: String,
    name: Option<String>,
}

async fn create_user(State(sb): State<Sandbox>, Json(u): Json<NewUser>) -> Result<Json<Value>, Error> {
    let user = sb.gh_create_user(&u.login, u.name.as_deref()).await?;
    Ok(Json(user_json(&sb, &user)))
}

/// Every repository with its collaborators and pending invitations.
async fn github_state(State(sb): State<Sandbox>) -> Result<Json<Value>, Error> {
    let now = sb.store().now().await?;
    let mut repos = Vec::new();
    for repo in sb.gh_repos().await? {
        let mut collaborators = Vec::new();
        for c in sb.gh_collaborators(&repo).await? {
            if let Some(user) = sb.gh_user_by_id(c.user_id).await? {
                collaborators.push(json!({ "login": user.login, "id": user.id, "permission": c.permission }));
            }
        }
        let mut invitations = Vec::new();
        for inv in sb.gh_pending_invitations(&repo).await? {
            let login = sb.gh_user_by_id(inv.invitee_id).await?.map(|u| u.login);
            invitations.push(json!({
                "id": inv.id, "login": login, "permission": inv.permission,
                "created_at": inv.created_at,
                "expired": now >= inv.created_at + crate::github::model::INVITATION_TTL,
            }));
        }
        repos.push(json!({ "full_name": repo.full_name(), "id": repo.id, "private": repo.private, "collaborators": collaborators, "invitations": invitations }));
    }
    let faults = faults::current(&sb).await?;
    Ok(Json(json!({ "now": now, "repositories": repos, "faults": faults })))
}

async fn accept_invitation(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Json<Value>, Error> {
    let c = sb.gh_accept_invitation(id).await?;
    Ok(Json(json!({ "accepted": id, "repo_id": c.repo_id, "user_id": c.user_id, "permission": c.permission })))
}

async fn remove_by_hand(State(sb): State<Sandbox>, Path((owner, name, login)): Path<(String, String, String)>) -> Result<Json<Value>, Error> {
    let repo = sb.gh_repo(&owner, &name).await?.ok_or(Error::NotFound)?;
    let user = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    let removed = sb.gh_remove_collaborator(&repo, &user).await?;
    Ok(Json(json!({ "removed": removed })))
}

#[derive(Deserialize)]
struct ArmFault {
    fault: faults::Fault,
    count: u32,
}

async fn arm_fault(State(sb): State<Sandbox>, Json(f): Json<ArmFault>) -> Result<Json<Value>, Error> {
    faults::arm(&sb, f.fault, f.count).await?;
    Ok(Json(json!({ "fault": f.fault, "remaining": f.count })))
}

async fn list_deliveries(State(sb): State<Sandbox>) -> Result<Json<Value>, Error> {
    Ok(Json(json!(deliveries::list(&sb, 200).await?)))
}

async fn redeliver(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Json<Value>, Error> {
    deliveries::redeliver(&sb, id).await?;
    Ok(Json(json!({ "redelivering": id })))
}
