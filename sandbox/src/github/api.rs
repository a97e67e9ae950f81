//! The GitHub REST stand-in, under `/sandbox/github/api`.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{model::*, world::InviteOutcome};
use crate::{Error, Reject, Sandbox};

/// GitHub's error body: `{"message": …, "documentation_url": …, "status": …}`.
pub fn gh_error(status: StatusCode, message: &str, docs: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": format!("https://docs.github.com/rest/{docs}"),
        "status": status.as_u16().to_string(),
    });
    (status, Json(body)).into_response()
}

pub(crate) fn not_found(docs: &str) -> Response {
    gh_error(StatusCode::NOT_FOUND, "Not Found", docs)
}

/// The login behind the `Authorization` header (`Bearer` or `token`): the
/// creator's token, a user's OAuth token, or an unexpired installation
/// token (which acts with the installation account's rights).
pub async fn caller_login(sb: &Sandbox, headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(value) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("token ")).unwrap_or_default().trim();
    if token == crate::GITHUB_TOKEN {
        return Ok(Some(super::seed::CREATOR.to_owned()));
    }
    let Some(stored) = sb.store().get::<Value>(TOKEN, token).await? else { return Ok(None) };
    if let Some(expires_at) = stored["expires_at"].as_i64() {
        if sb.store().now().await? >= expires_at {
            return Ok(None);
        }
    }
    Ok(stored["login"].as_str().map(str::to_owned))
}

/// The installation behind an installation token, if that is what it is.
pub async fn caller_installation(sb: &Sandbox, headers: &HeaderMap) -> Result<Option<i64>, Error> {
    let Some(value) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("token ")).unwrap_or_default().trim();
    Ok(sb.store().get::<Value>(TOKEN, token).await?.and_then(|t| t["installation"].as_i64()))
}

pub(crate) async fn caller(sb: &Sandbox, headers: &HeaderMap) -> Result<Option<User>, Error> {
    match caller_login(sb, headers).await? {
        Some(login) => sb.gh_user(&login).await,
        None => Ok(None),
    }
}

pub(crate) fn bad_credentials() -> Response {
    gh_error(StatusCode::UNAUTHORIZED, "Bad credentials", "overview/authenticating-to-the-rest-api")
}

pub async fn get_user(State(sb): State<Sandbox>, Path(login): Path<String>) -> Result<Response, Error> {
    let Some(user) = sb.gh_user(&login).await? else { return Ok(not_found("users/users#get-a-user")) };
    profile_response(&sb, &user).await
}

/// `GET /user/{account_id}`: a user by numeric id (how RepoPass follows renames).
pub async fn get_user_by_id(State(sb): State<Sandbox>, Path(id): Path<String>) -> Result<Response, Error> {
    let user = match id.parse::<i64>() {
        Ok(id) => sb.gh_user_by_id(id).await?,
        Err(_) => None,
    };
    let Some(user) = user else { return Ok(not_found("users/users#get-a-user-using-their-id")) };
    profile_response(&sb, &user).await
}

pub async fn get_authenticated_user(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let Some(user) = caller(&sb, &headers).await? else { return Ok(bad_credentials()) };
    profile_response(&sb, &user).await
}

/// `GET /user/emails`: the caller's addresses (GitHub needs the `user:email`
/// scope). Every sandbox person has one verified, primary address: their
/// public email if set, else `{login}@example.com`.
pub async fn list_own_emails(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let Some(user) = caller(&sb, &headers).await? else { return Ok(bad_credentials()) };
    let email = user.email.clone().unwrap_or_else(|| format!("{}@example.com", user.login.to_ascii_lowercase()));
    Ok(Json(serde_json::json!([{ "email": email, "primary": true, "verified": true, "visibility": "private" }]))
        .into_response())
}

/// A profile with its count of public repositories.
async fn profile_response(sb: &Sandbox, user: &User) -> Result<Response, Error> {
    let public_repos =
        sb.gh_repos().await?.iter().filter(|r| r.owner.eq_ignore_ascii_case(&user.login) && !r.private).count();
    Ok(Json(profile_json(sb, user, public_repos)).into_response())
}

#[derive(Deserialize)]
pub struct Paging {
    pub(crate) per_page: Option<usize>,
    pub(crate) page: Option<usize>,
}

impl Paging {
    /// One page of `items`, as GitHub pages lists (30 a page by default, at most 100).
    pub(crate) fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let per_page = self.per_page.unwrap_or(30).clamp(1, 100);
        let page = self.page.unwrap_or(1).max(1);
        items.into_iter().skip((page - 1) * per_page).take(per_page).collect()
    }
}

/// `GET /user/repos`: what the caller owns or administers, by full name.
pub async fn list_own_repos(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(paging): Query<Paging>,
) -> Result<Response, Error> {
    let Some(user) = caller(&sb, &headers).await? else { return Ok(bad_credentials()) };
    let mut visible = Vec::new();
    for repo in sb.gh_repos().await? {
        if sb.gh_is_admin(&user.login, &repo).await? {
            let owner = sb.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
            visible.push((repo.full_name().to_ascii_lowercase(), repo_json(&sb, &repo, &owner, true)));
        }
    }
    visible.sort_by(|a, b| a.0.cmp(&b.0));
    let items: Vec<Value> = paging.page(visible).into_iter().map(|(_, v)| v).collect();
    Ok(Json(items).into_response())
}

/// Resolves `{owner}/{repo}` for a caller who must administer it. GitHub
/// answers 404 (not 403) for private repositories you cannot see.
async fn admin_repo(
    sb: &Sandbox,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
    docs: &str,
) -> Result<(Repo, User), Reject> {
    let Some(user) = caller(sb, headers).await? else { return Err(Reject::Answer(bad_credentials())) };
    let Some(repo) = sb.gh_repo(owner, name).await? else { return Err(Reject::Answer(not_found(docs))) };
    if !sb.gh_is_admin(&user.login, &repo).await? {
        return Err(Reject::Answer(if repo.private {
            not_found(docs)
        } else {
            gh_error(StatusCode::FORBIDDEN, "Must have admin rights to Repository.", docs)
        }));
    }
    Ok((repo, user))
}

pub async fn get_repo(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Reject> {
    let (repo, _) = admin_repo(&sb, &headers, &owner, &name, "repos/repos#get-a-repository").await?;
    let owner = sb.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
    Ok(Json(repo_json(&sb, &repo, &owner, true)).into_response())
}

#[derive(Deserialize, Default)]
pub struct AddCollaborator {
    permission: Option<String>,
}

pub async fn add_collaborator(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name, login)): Path<(String, String, String)>,
    body: Option<Json<AddCollaborator>>,
) -> Result<Response, Reject> {
    const DOCS: &str = "collaborators/collaborators#add-a-repository-collaborator";
    let (repo, inviter) = admin_repo(&sb, &headers, &owner, &name, DOCS).await?;
    if repo.archived {
        return Ok(gh_error(StatusCode::FORBIDDEN, "Repository was archived so is read-only.", DOCS));
    }
    let Some(invitee) = sb.gh_user(&login).await? else { return Ok(not_found(DOCS)) };
    let requested = body.and_then(|Json(b)| b.permission);
    Ok(match sb.gh_invite(&repo, &invitee, &inviter, requested.as_deref()).await? {
        InviteOutcome::AlreadyCollaborator => StatusCode::NO_CONTENT.into_response(),
        InviteOutcome::Refused(message) => {
            let body = json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "Repository", "code": "custom", "message": message }],
                "documentation_url": format!("https://docs.github.com/rest/{DOCS}"),
                "status": "422",
            });
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
        InviteOutcome::Invited(inv) => {
            let now = sb.store().now().await?;
            let owner = sb.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
            (
                StatusCode::CREATED,
                Json(invitation_json(&sb, &inv, &repo_json(&sb, &repo, &owner, false), &invitee, &inviter, now)),
            )
                .into_response()
        }
    })
}

pub async fn check_collaborator(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name, login)): Path<(String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "collaborators/collaborators#check-if-a-user-is-a-repository-collaborator";
    let (repo, _) = admin_repo(&sb, &headers, &owner, &name, DOCS).await?;
    // A direct collaborator, or a member of a team that has the repository.
    let is = match sb.gh_user(&login).await? {
        Some(user) => {
            user.login.eq_ignore_ascii_case(&repo.owner)
                || sb.gh_collaborators(&repo).await?.iter().any(|c| c.user_id == user.id)
                || sb.gh_team_permission(&repo, &user).await?.is_some()
        }
        None => false,
    };
    Ok(if is { StatusCode::NO_CONTENT.into_response() } else { not_found(DOCS) })
}

pub async fn remove_collaborator(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name, login)): Path<(String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "collaborators/collaborators#remove-a-repository-collaborator";
    let (repo, _) = admin_repo(&sb, &headers, &owner, &name, DOCS).await?;
    let Some(user) = sb.gh_user(&login).await? else { return Ok(not_found(DOCS)) };
    sb.gh_remove_collaborator(&repo, &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct Affiliation {
    affiliation: Option<String>,
}

/// `GET /repos/{o}/{r}/collaborators`: with each one's permissions. GitHub's
/// default `affiliation=all`: direct collaborators, the members of the
/// teams that have the repository (with the highest permission they have)
/// and an organisation's owners (admin on every repository); `direct`:
/// only those given the repository themselves; `outside`: those of them
/// who are not members of the organisation.
pub async fn list_collaborators(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    Query(filter): Query<Affiliation>,
) -> Result<Response, Reject> {
    let (repo, _) =
        admin_repo(&sb, &headers, &owner, &name, "collaborators/collaborators#list-repository-collaborators").await?;
    let owner_user = sb.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
    let affiliation = filter.affiliation.unwrap_or_else(|| "all".into());
    if !matches!(affiliation.as_str(), "all" | "direct" | "outside") {
        let docs = "collaborators/collaborators#list-repository-collaborators";
        return Ok(gh_error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed", docs));
    }
    let mut out = Vec::new();
    if !owner_user.organization {
        out.push(collaborator_json(&sb, &owner_user, "admin"));
    }
    let mut listed: Vec<(User, String)> = Vec::new();
    for c in sb.gh_collaborators(&repo).await? {
        if let Some(user) = sb.gh_user_by_id(c.user_id).await? {
            let member = owner_user.organization && sb.gh_org_role(&owner_user, &user).await?.is_some();
            if affiliation != "outside" || !member {
                listed.push((user, c.permission));
            }
        }
    }
    if affiliation != "all" {
        out.extend(listed.iter().map(|(user, permission)| collaborator_json(&sb, user, permission)));
        return Ok(Json(out).into_response());
    }
    if owner_user.organization {
        for (user, role) in sb.gh_org_members(&owner_user).await? {
            if role != "admin" {
                continue;
            }
            match listed.iter_mut().find(|(u, _)| u.id == user.id) {
                Some((_, held)) => *held = "admin".into(),
                None => listed.push((user, "admin".into())),
            }
        }
    }
    for (user_id, permission) in sb.gh_team_collaborators(&repo).await? {
        match listed.iter_mut().find(|(u, _)| u.id == user_id) {
            Some((_, held)) => {
                if permission_rank(&permission) > permission_rank(held) {
                    *held = permission;
                }
            }
            None => {
                if let Some(user) = sb.gh_user_by_id(user_id).await? {
                    listed.push((user, permission));
                }
            }
        }
    }
    out.extend(listed.iter().map(|(user, permission)| collaborator_json(&sb, user, permission)));
    Ok(Json(out).into_response())
}

fn collaborator_json(sb: &Sandbox, user: &User, permission: &str) -> Value {
    let mut v = user_json(sb, user);
    v["permissions"] = permissions_json(permission);
    v["role_name"] = json!(permission);
    v
}

pub async fn list_invitations(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Reject> {
    let (repo, _) =
        admin_repo(&sb, &headers, &owner, &name, "collaborators/invitations#list-repository-invitations").await?;
    let owner_user = sb.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
    let now = sb.store().now().await?;
    let pending = sb.gh_pending_invitations(&repo).await?;
    // Every account named, read in one go (a repository may have hundreds
    // of invitations pending: one lookup each made every list slower).
    let users = sb.gh_users_by_id(pending.iter().flat_map(|i| [i.invitee_id, i.inviter_id])).await?;
    let repository = repo_json(&sb, &repo, &owner_user, false);
    let mut out = Vec::new();
    for inv in pending {
        let (Some(invitee), Some(inviter)) = (users.get(&inv.invitee_id), users.get(&inv.inviter_id)) else {
            continue;
        };
        out.push(invitation_json(&sb, &inv, &repository, invitee, inviter, now));
    }
    Ok(Json(out).into_response())
}

pub async fn delete_invitation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, name, id)): Path<(String, String, i64)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "collaborators/invitations#delete-a-repository-invitation";
    let (repo, _) = admin_repo(&sb, &headers, &owner, &name, DOCS).await?;
    Ok(if sb.gh_delete_invitation(&repo, id).await? { StatusCode::NO_CONTENT.into_response() } else { not_found(DOCS) })
}
