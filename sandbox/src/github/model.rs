//! The sandbox's GitHub world (users, organisations, repositories,
//! collaborators, invitations) and its JSON, shaped like GitHub's own
//! (see shared/fixtures/github-webhooks and GitHub's REST reference).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::Sandbox;

pub const USER: &str = "gh_user";
pub const REPO: &str = "gh_repo";
pub const INVITATION: &str = "gh_invitation";
pub const COLLABORATOR: &str = "gh_collaborator";
pub const TOKEN: &str = "gh_token";
pub const OAUTH_CODE: &str = "gh_oauth_code";

/// Invitations lapse after 7 days, as on GitHub.
pub const INVITATION_TTL: i64 = 7 * 86_400;
/// GitHub allows 50 invitations per repository per 24 hours.
pub const INVITATIONS_PER_DAY: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub organization: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    /// For organisations: the logins that administer it.
    #[serde(default)]
    pub admins: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repo {
    pub id: i64,
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub archived: bool,
    pub description: Option<String>,
    pub created_at: i64,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn key(owner: &str, name: &str) -> String {
        format!("{}/{}", owner.to_ascii_lowercase(), name.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    Declined,
    Deleted,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    pub id: i64,
    pub repo_id: i64,
    pub invitee_id: i64,
    pub inviter_id: i64,
    /// As GitHub reports it: read, triage, write, maintain or admin.
    pub permission: String,
    pub state: InvitationState,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collaborator {
    pub repo_id: i64,
    pub user_id: i64,
    pub permission: String,
    pub added_at: i64,
}

impl Collaborator {
    pub fn key(repo_id: i64, user_id: i64) -> String {
        format!("{repo_id}:{user_id}")
    }
}

/// `pull`/`push` (what the API takes) → `read`/`write` (what it reports).
pub fn reported_permission(requested: &str) -> Option<&'static str> {
    match requested {
        "pull" | "read" => Some("read"),
        "triage" => Some("triage"),
        "push" | "write" => Some("write"),
        "maintain" => Some("maintain"),
        "admin" => Some("admin"),
        _ => None,
    }
}

/// Orders the reported permissions: read < triage < write < maintain < admin.
pub fn permission_rank(reported: &str) -> u8 {
    match reported {
        "read" => 1,
        "triage" => 2,
        "write" => 3,
        "maintain" => 4,
        "admin" => 5,
        _ => 0,
    }
}

/// GitHub's `permissions` object for a reported permission level.
pub fn permissions_json(reported: &str) -> Value {
    let at_least = |level: &str| permission_rank(reported) >= permission_rank(level);
    json!({
        "admin": at_least("admin"),
        "maintain": at_least("maintain"),
        "push": at_least("write"),
        "triage": at_least("triage"),
        "pull": true,
    })
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

impl Sandbox {
    pub(crate) fn api_url(&self, path: &str) -> String {
        self.url(&format!("/sandbox/github/api{path}"))
    }

    pub(crate) fn web_url(&self, path: &str) -> String {
        self.url(&format!("/sandbox/github{path}"))
    }
}

/// GitHub's "simple user" (the `Author` of octocrab).
pub fn user_json(sb: &Sandbox, user: &User) -> Value {
    let login = &user.login;
    let api = |p: &str| sb.api_url(&format!("/users/{login}{p}"));
    json!({
        "login": login,
        "id": user.id,
        "node_id": format!("U_sandbox{}", user.id),
        "avatar_url": sb.web_url(&format!("/avatars/{login}.svg")),
        "gravatar_id": "",
        "url": api(""),
        "html_url": sb.web_url(&format!("/{login}")),
        "followers_url": api("/followers"),
        "following_url": api("/following{/other_user}"),
        "gists_url": api("/gists{/gist_id}"),
        "starred_url": api("/starred{/owner}{/repo}"),
        "subscriptions_url": api("/subscriptions"),
        "organizations_url": api("/orgs"),
        "repos_url": api("/repos"),
        "events_url": api("/events{/privacy}"),
        "received_events_url": api("/received_events"),
        "type": if user.organization { "Organization" } else { "User" },
        "user_view_type": "public",
        "site_admin": false
    })
}

/// The public profile of `GET /users/{login}` and `GET /user`.
pub fn profile_json(sb: &Sandbox, user: &User, public_repos: usize) -> Value {
    let mut value = user_json(sb, user);
    let extra = json!({
        "name": user.name,
        "company": null,
        "blog": "",
        "location": null,
        "email": user.email,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.created_at),
    });
    merge(&mut value, extra);
    value
}

/// A full repository, as in `GET /repos/{o}/{r}` and webhook payloads.
pub fn repo_json(sb: &Sandbox, repo: &Repo, owner: &User, admin: bool) -> Value {
    let full = repo.full_name();
    let api = |p: &str| sb.api_url(&format!("/repos/{full}{p}"));
    let html = sb.web_url(&format!("/{full}"));
    json!({
        "id": repo.id,
        "node_id": format!("R_sandbox{}", repo.id),
        "name": repo.name,
        "full_name": full,
        "private": repo.private,
        "owner": user_json(sb, owner),
        "html_url": html,
        "description": repo.description,
        "fork": false,
        "url": api(""),
        "forks_url": api("/forks"),
        "keys_url": api("/keys{/key_id}"),
        "collaborators_url": api("/collaborators{/collaborator}"),
        "teams_url": api("/teams"),
        "hooks_url": api("/hooks"),
        "issue_events_url": api("/issues/events{/number}"),
        "events_url": api("/events"),
        "assignees_url": api("/assignees{/user}"),
        "branches_url": api("/branches{/branch}"),
        "tags_url": api("/tags"),
        "blobs_url": api("/git/blobs{/sha}"),
        "git_tags_url": api("/git/tags{/sha}"),
        "git_refs_url": api("/git/refs{/sha}"),
        "trees_url": api("/git/trees{/sha}"),
        "statuses_url": api("/statuses/{sha}"),
        "languages_url": api("/languages"),
        "stargazers_url": api("/stargazers"),
        "contributors_url": api("/contributors"),
        "subscribers_url": api("/subscribers"),
        "subscription_url": api("/subscription"),
        "commits_url": api("/commits{/sha}"),
        "git_commits_url": api("/git/commits{/sha}"),
        "comments_url": api("/comments{/number}"),
        "issue_comment_url": api("/issues/comments{/number}"),
        "contents_url": api("/contents/{+path}"),
        "compare_url": api("/compare/{base}...{head}"),
        "merges_url": api("/merges"),
        "archive_url": api("/{archive_format}{/ref}"),
        "downloads_url": api("/downloads"),
        "issues_url": api("/issues{/number}"),
        "pulls_url": api("/pulls{/number}"),
        "milestones_url": api("/milestones{/number}"),
        "notifications_url": api("/notifications{?since,all,participating}"),
        "labels_url": api("/labels{/name}"),
        "releases_url": api("/releases{/id}"),
        "deployments_url": api("/deployments"),
        "created_at": rfc3339(repo.created_at),
        "updated_at": rfc3339(repo.created_at),
        "pushed_at": rfc3339(repo.created_at),
        "git_url": format!("git://sandbox.invalid/{full}.git"),
        "ssh_url": format!("git@sandbox.invalid:{full}.git"),
        "clone_url": format!("{html}.git"),
        "svn_url": html,
        "homepage": null,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Rust",
        "has_issues": true,
        "has_projects": true,
        "has_downloads": true,
        "has_wiki": false,
        "has_pages": false,
        "has_discussions": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": repo.archived,
        "disabled": false,
        "open_issues_count": 0,
        "license": null,
        "allow_forking": !repo.private,
        "is_template": false,
        "web_commit_signoff_required": false,
        "topics": [],
        "visibility": if repo.private { "private" } else { "public" },
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": "main",
        "permissions": { "admin": admin, "maintain": admin, "push": admin, "triage": admin, "pull": true }
    })
}

pub fn invitation_json(
    sb: &Sandbox,
    inv: &Invitation,
    repository: &Value,
    invitee: &User,
    inviter: &User,
    now: i64,
) -> Value {
    json!({
        "id": inv.id,
        "node_id": format!("RI_sandbox{}", inv.id),
        "repository": repository,
        "invitee": user_json(sb, invitee),
        "inviter": user_json(sb, inviter),
        "permissions": inv.permission,
        "created_at": rfc3339(inv.created_at),
        "expired": now >= inv.created_at + INVITATION_TTL,
        "url": sb.api_url(&format!("/user/repository_invitations/{}", inv.id)),
        "html_url": sb.web_url(&format!("/{}/invitations", repository["full_name"].as_str().unwrap_or_default())),
    })
}

fn merge(into: &mut Value, extra: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), extra) {
        a.extend(b);
    }
}
