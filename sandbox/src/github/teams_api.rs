//! The REST stand-in for organisations and their teams, under
//! `/sandbox/github/api` (docs.github.com/rest/teams, /rest/orgs/members):
//! teams, the repositories they have, team memberships (which invite people
//! who are not members yet to the organisation), organisation invitations
//! and the organisation membership check.
//!
//! Callers: the organisation's owners (and an installation on the
//! organisation, which acts as it) may do everything; other members may
//! read teams; anyone else is told the organisation's teams do not exist (404).

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    api::{bad_credentials, caller, gh_error, not_found, Paging},
    model::*,
    orgs::*,
};
use crate::{Error, Reject, Sandbox};

/// GitHub's 422: `{"message": "Validation Failed", "errors": [refusal], …}`.
fn validation_failed(refusal: &Refusal, docs: &str) -> Response {
    let body = json!({
        "message": "Validation Failed",
        "errors": [refusal],
        "documentation_url": format!("https://docs.github.com/rest/{docs}"),
        "status": "422",
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any member of the organisation (reading teams).
    Member,
    /// An owner (changing teams, memberships, invitations).
    Owner,
}

/// Resolves `{org}` for the caller, or answers as GitHub would: 401 without
/// credentials, 404 for an unknown organisation or a caller outside it, 403
/// for a member who is not an owner.
async fn org_for(
    sb: &Sandbox,
    headers: &HeaderMap,
    login: &str,
    need: Need,
    docs: &str,
) -> Result<(User, User), Reject> {
    let Some(user) = caller(sb, headers).await? else { return Err(Reject::Answer(bad_credentials())) };
    let Some(org) = sb.gh_org(login).await? else { return Err(Reject::Answer(not_found(docs))) };
    // An installation token on the organisation acts as the organisation.
    let role = if user.id == org.id { Some("admin") } else { sb.gh_org_role(&org, &user).await? };
    match role {
        Some("admin") => Ok((org, user)),
        Some(_) if need == Need::Member => Ok((org, user)),
        Some(_) => {
            Err(Reject::Answer(gh_error(StatusCode::FORBIDDEN, "Must have admin rights to Organization.", docs)))
        }
        None => Err(Reject::Answer(not_found(docs))),
    }
}

async fn team_for(sb: &Sandbox, org: &User, slug: &str, docs: &str) -> Result<Team, Reject> {
    match sb.gh_team(org, slug).await? {
        Some(team) => Ok(team),
        None => Err(Reject::Answer(not_found(docs))),
    }
}

async fn full_team(sb: &Sandbox, org: &User, team: &Team) -> Result<Value, Error> {
    let members = sb.gh_team_members(team).await?.len();
    let repos = sb.gh_team_repos(team).await?.len();
    Ok(team_full_json(sb, org, team, members, repos))
}

/// `GET /orgs/{org}/teams`
pub async fn list_teams(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Response, Reject> {
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, "teams/teams#list-teams").await?;
    let teams: Vec<Value> = sb.gh_teams(&org).await?.iter().map(|t| team_json(&sb, &org, t)).collect();
    Ok(Json(paging.page(teams)).into_response())
}

/// `POST /orgs/{org}/teams`: 201 with the full team; 422 when the name's
/// slug is taken ("Name must be unique for this org", as GitHub says it).
pub async fn create_team(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(org): Path<String>,
    body: Option<Json<NewTeam>>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#create-a-team";
    let (org, creator) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let new = body.map(|Json(b)| b).unwrap_or_default();
    match sb.gh_create_team(&org, &creator, new).await? {
        Ok(team) => Ok((StatusCode::CREATED, Json(full_team(&sb, &org, &team).await?)).into_response()),
        Err(refusal) => Ok(validation_failed(&refusal, DOCS)),
    }
}

/// `GET /orgs/{org}/teams/{team_slug}`
pub async fn get_team(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#get-a-team-by-name";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    Ok(Json(full_team(&sb, &org, &team).await?).into_response())
}

/// `GET /orgs/{org}/teams/{team_slug}/repos`: each repository with the
/// team's `permissions` and `role_name`.
pub async fn list_team_repos(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug)): Path<(String, String)>,
    Query(paging): Query<Paging>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#list-team-repositories";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let repos = sb.gh_repos().await?;
    let mut out = Vec::new();
    for link in sb.gh_team_repos(&team).await? {
        if let Some(repo) = repos.iter().find(|r| r.id == link.repo_id) {
            out.push(team_repo_json(&sb, &org, repo, &link.permission));
        }
    }
    Ok(Json(paging.page(out)).into_response())
}

fn team_repo_json(sb: &Sandbox, org: &User, repo: &Repo, permission: &str) -> Value {
    let mut value = repo_json(sb, repo, org, false);
    value["permissions"] = permissions_json(permission);
    value["role_name"] = json!(permission);
    value
}

/// `GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}`: 204 when the
/// team has it (200 with the repository when asked for
/// `application/vnd.github.v3.repository+json`), 404 otherwise.
pub async fn check_team_repo(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, owner, name)): Path<(String, String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#check-team-permissions-for-a-repository";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(repo) = sb.gh_repo(&owner, &name).await? else { return Ok(not_found(DOCS)) };
    let Some(link) = sb.gh_team_repos(&team).await?.into_iter().find(|l| l.repo_id == repo.id) else {
        return Ok(not_found(DOCS));
    };
    let wants_repo = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/vnd.github.v3.repository+json"));
    Ok(if wants_repo {
        Json(team_repo_json(&sb, &org, &repo, &link.permission)).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    })
}

#[derive(Deserialize, Default)]
pub struct TeamRepoBody {
    permission: Option<String>,
}

/// `PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}`: 204. Without a
/// permission the team's own (`pull` unless created with `push`) applies.
pub async fn put_team_repo(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, owner, name)): Path<(String, String, String, String)>,
    body: Option<Json<TeamRepoBody>>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#add-or-update-team-repository-permissions";
    let (org, _) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(repo) = sb.gh_repo(&owner, &name).await? else { return Ok(not_found(DOCS)) };
    if !repo.owner.eq_ignore_ascii_case(&org.login) {
        let refusal = Refusal::new(
            "Team",
            "unprocessable",
            "data",
            format!("{} is not owned by the organization {}", repo.full_name(), org.login),
        );
        return Ok(validation_failed(&refusal, DOCS));
    }
    let requested = body.and_then(|Json(b)| b.permission).unwrap_or_else(|| team.permission.clone());
    let Some(reported) = reported_permission(&requested) else {
        let refusal = Refusal::new(
            "Team",
            "invalid",
            "permission",
            format!("permission '{requested}' is not one of pull, triage, push, maintain, admin"),
        );
        return Ok(validation_failed(&refusal, DOCS));
    };
    sb.gh_set_team_repo(&team, &repo, reported).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}`: 204.
pub async fn delete_team_repo(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, owner, name)): Path<(String, String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/teams#remove-a-repository-from-a-team";
    let (org, _) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(repo) = sb.gh_repo(&owner, &name).await? else { return Ok(not_found(DOCS)) };
    sb.gh_remove_team_repo(&team, &repo).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct MembersQuery {
    role: Option<String>,
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `GET /orgs/{org}/teams/{team_slug}/members`: active members (`role`:
/// all, member or maintainer).
pub async fn list_team_members(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug)): Path<(String, String)>,
    Query(query): Query<MembersQuery>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/members#list-team-members";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let wanted = query.role.unwrap_or_else(|| "all".into());
    let mut out = Vec::new();
    for member in sb.gh_team_members(&team).await? {
        let Some(user) = sb.gh_user_by_id(member.user_id).await? else { continue };
        let role = match sb.gh_org_role(&org, &user).await? {
            Some("admin") => "maintainer",
            _ => member.role.as_str(),
        };
        if wanted == "all" || wanted == role {
            out.push(user_json(&sb, &user));
        }
    }
    Ok(Json(Paging { per_page: query.per_page, page: query.page }.page(out)).into_response())
}

/// `GET /orgs/{org}/teams/{team_slug}/invitations`: the pending
/// organisation invitations that include the team.
pub async fn list_team_invitations(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug)): Path<(String, String)>,
    Query(paging): Query<Paging>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/members#list-pending-team-invitations";
    let (org, _) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let invitations: Vec<OrgInvitation> = sb
        .gh_open_org_invitations(&org)
        .await?
        .into_iter()
        .filter(|i| i.teams.iter().any(|t| t.team_id == team.id))
        .collect();
    Ok(Json(paging.page(invitations_json(&sb, &org, &invitations).await?)).into_response())
}

async fn invitations_json(sb: &Sandbox, org: &User, invitations: &[OrgInvitation]) -> Result<Vec<Value>, Error> {
    let now = sb.store().now().await?;
    let mut out = Vec::new();
    for inv in invitations {
        let (Some(invitee), Some(inviter)) =
            (sb.gh_user_by_id(inv.invitee_id).await?, sb.gh_user_by_id(inv.inviter_id).await?)
        else {
            continue;
        };
        out.push(org_invitation_json(sb, org, inv, &invitee, &inviter, now));
    }
    Ok(out)
}

/// `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`: 200
/// `{"url", "role", "state"}`, 404 when they have no membership.
pub async fn get_team_membership(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, login)): Path<(String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/members#get-team-membership-for-a-user";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(user) = sb.gh_user(&login).await? else { return Ok(not_found(DOCS)) };
    Ok(match sb.gh_team_membership(&org, &team, &user).await? {
        Some((role, state)) => Json(team_membership_json(&sb, &org, &team, &user.login, &role, state)).into_response(),
        None => not_found(DOCS),
    })
}

#[derive(Deserialize, Default)]
pub struct MembershipBody {
    role: Option<String>,
}

/// `PUT /orgs/{org}/teams/{team_slug}/memberships/{username}`: 200
/// `{"url", "role", "state"}` (`active` for an organisation member,
/// `pending` for anyone else, who is invited to the organisation); 422 for
/// an organisation, a bad role, or past the daily invitation limit.
pub async fn put_team_membership(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, login)): Path<(String, String, String)>,
    body: Option<Json<MembershipBody>>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/members#add-or-update-team-membership-for-a-user";
    let (org, actor) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(user) = sb.gh_user(&login).await? else { return Ok(not_found(DOCS)) };
    let role = body.and_then(|Json(b)| b.role);
    Ok(match sb.gh_put_team_membership(&org, &team, &user, role.as_deref(), &actor).await? {
        MembershipOutcome::Membership { role, state } => {
            Json(team_membership_json(&sb, &org, &team, &user.login, &role, state)).into_response()
        }
        MembershipOutcome::Refused(refusal) => validation_failed(&refusal, DOCS),
    })
}

/// `DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}`: 204 when
/// there was a membership (active or pending), 404 otherwise.
pub async fn delete_team_membership(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, slug, login)): Path<(String, String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "teams/members#remove-team-membership-for-a-user";
    let (org, actor) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let team = team_for(&sb, &org, &slug, DOCS).await?;
    let Some(user) = sb.gh_user(&login).await? else { return Ok(not_found(DOCS)) };
    Ok(match sb.gh_delete_team_membership(&org, &team, &user, &actor).await? {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(DOCS),
    })
}

/// `GET /orgs/{org}/invitations`: the pending organisation invitations.
pub async fn list_org_invitations(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Response, Reject> {
    const DOCS: &str = "orgs/members#list-pending-organization-invitations";
    let (org, _) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let invitations = sb.gh_open_org_invitations(&org).await?;
    Ok(Json(paging.page(invitations_json(&sb, &org, &invitations).await?)).into_response())
}

/// `DELETE /orgs/{org}/invitations/{invitation_id}`: 204, or 404 when it is
/// not pending; its pending team memberships go with it.
pub async fn cancel_org_invitation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "orgs/members#cancel-an-organization-invitation";
    let (org, _) = org_for(&sb, &headers, &org, Need::Owner, DOCS).await?;
    let cancelled = match id.parse::<i64>() {
        Ok(id) => sb.gh_cancel_org_invitation(&org, id).await?,
        Err(_) => false,
    };
    Ok(if cancelled { StatusCode::NO_CONTENT.into_response() } else { not_found(DOCS) })
}

/// `GET /orgs/{org}/members/{username}`: 204 for a member (owners
/// included), 404 otherwise.
pub async fn check_org_member(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((org, login)): Path<(String, String)>,
) -> Result<Response, Reject> {
    const DOCS: &str = "orgs/members#check-organization-membership-for-a-user";
    let (org, _) = org_for(&sb, &headers, &org, Need::Member, DOCS).await?;
    let member = match sb.gh_user(&login).await? {
        Some(user) => sb.gh_org_role(&org, &user).await?.is_some(),
        None => false,
    };
    Ok(if member { StatusCode::NO_CONTENT.into_response() } else { not_found(DOCS) })
}
