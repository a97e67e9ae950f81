//! Every GitHub call about who can read a repository: the buyer's login
//! now, collaborators, invitations. Each answer is RepoPass's own type; a
//! refusal says what it means (`Refusal`) instead of an HTTP status the
//! caller has to interpret. Nothing here writes to the database.

use octocrab::{params::teams::Permission, Octocrab};

use super::{Github, GithubError};
use crate::domain::{GithubUserId, Reason};

/// What `access_of` reads of a pending repository invitation.
#[derive(serde::Deserialize)]
struct PendingInvitation {
    id: i64,
    invitee: Option<AccountId>,
    html_url: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(serde::Deserialize)]
struct AccountId {
    id: i64,
}

/// Why GitHub did not do it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The buyer's account no longer exists.
    #[error("GitHub says the repository or the user no longer exists")]
    UserGone,
    /// The repository no longer exists (or the connection cannot see it).
    #[error("GitHub says the repository or the user no longer exists")]
    RepositoryGone,
    /// No GitHub connection, or the App is not installed on the owner.
    #[error("{0}")]
    NotConnected(String),
    /// Expected, and temporary: one of GitHub's limits. `why` is the reason
    /// code a waiting purchase shows.
    #[error("{}", later_message(*why))]
    Later { why: Reason, after_secs: u64 },
    /// GitHub did not answer as it should (down, 5xx, a network error).
    #[error("GitHub did not answer just now; try again in a minute")]
    Unavailable,
}

fn later_message(why: Reason) -> &'static str {
    match why {
        Reason::QueuedInviteLimit => {
            "queued: GitHub's daily invitation limit for this repository is reached; the invitation goes out when it resets"
        }
        Reason::QueuedOrgInviteLimit => {
            "queued: GitHub's daily limit of invitations to the organisation is reached; the invitation goes out when it resets"
        }
        _ => "queued: GitHub's rate limit is reached; trying again when it resets",
    }
}

impl Refusal {
    /// What a 404 from this call means.
    pub(super) fn from_error(err: GithubError, not_found: Refusal) -> Refusal {
        match err {
            GithubError::Api { status: 404, .. } => not_found,
            // GitHub allows 50 invitations per repository per day.
            GithubError::Api { status: 422, message, .. } if message.contains("maximum number of invitations") => {
                Refusal::Later { why: Reason::QueuedInviteLimit, after_secs: 3600 }
            }
            // And 50 invitations to an organisation a day (500 on paid plans).
            GithubError::Api { status: 422, message, .. } if message.contains("Over invitation rate limit") => {
                Refusal::Later { why: Reason::QueuedOrgInviteLimit, after_secs: 3600 }
            }
            GithubError::Api { status: 403 | 429, retry_after, .. } => {
                Refusal::Later { why: Reason::QueuedRateLimit, after_secs: retry_after.unwrap_or(60).clamp(1, 3600) }
            }
            GithubError::NotInstalled(_) | GithubError::NotConfigured => Refusal::NotConnected(err.to_string()),
            other => {
                tracing::warn!(error = %other, "GitHub call failed");
                Refusal::Unavailable
            }
        }
    }

    /// The reason code a purchase shows while it waits or after a refusal.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Refusal::UserGone => Some(Reason::GithubUserGone),
            Refusal::RepositoryGone => Some(Reason::RepositoryGone),
            Refusal::NotConnected(_) => Some(Reason::GithubNotConnected),
            Refusal::Later { why, .. } => Some(*why),
            Refusal::Unavailable => None,
        }
    }
}

fn refused(not_found: Refusal) -> impl Fn(octocrab::Error) -> Refusal {
    move |e| Refusal::from_error(e.into(), not_found.clone())
}

/// A repository on GitHub, by owner and name.
#[derive(Debug, Clone, Copy)]
pub struct Repo<'a> {
    pub owner: &'a str,
    pub name: &'a str,
}

/// What GitHub grants a collaborator (`admin` is never sold).
pub(super) fn permission(p: &str) -> Permission {
    match p {
        "triage" => Permission::Triage,
        "push" => Permission::Push,
        "maintain" => Permission::Maintain,
        _ => Permission::Pull,
    }
}

impl Github {
    pub(super) async fn client(&self, owner: &str) -> Result<Octocrab, Refusal> {
        self.for_owner(owner).await.map_err(|e| Refusal::from_error(e, Refusal::RepositoryGone))
    }

    /// The account's login now: GitHub usernames change, the numeric id does not.
    pub async fn login_of(&self, owner: &str, user: GithubUserId) -> Result<String, Refusal> {
        let client = self.client(owner).await?;
        let profile = client
            .users_by_id(octocrab::models::UserId(user.get() as u64))
            .profile()
            .await
            .map_err(refused(Refusal::UserGone))?;
        Ok(profile.login)
    }

    /// Cancels a pending invitation; already gone counts as done.
    pub async fn delete_invitation(&self, repo: Repo<'_>, invitation: i64) -> Result<(), Refusal> {
        let client = self.client(repo.owner).await?;
        let route = format!("/repos/{}/{}/invitations/{invitation}", repo.owner, repo.name);
        let response = client._delete(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
        let status = response.status().as_u16();
        if status < 300 || status == 404 {
            return Ok(());
        }
        Err(Refusal::from_error(
            GithubError::Api { status, message: "could not delete the invitation".into(), retry_after: None },
            Refusal::RepositoryGone,
        ))
    }

    /// Removes a collaborator; not a collaborator (any more) counts as done.
    pub async fn remove_collaborator(&self, repo: Repo<'_>, login: &str) -> Result<(), Refusal> {
        let client = self.client(repo.owner).await?;
        match client.repos(repo.owner, repo.name).remove_collaborator(login).await {
            Ok(()) => Ok(()),
            Err(e) => match GithubError::from(e) {
                GithubError::Api { status: 404, .. } => Ok(()),
                other => Err(Refusal::from_error(other, Refusal::RepositoryGone)),
            },
        }
    }

    /// What GitHub already has for the account on the repository: asked
    /// before every invitation, because inviting an existing collaborator
    /// changes their permission (GitHub answers 204). An invitation with the
    /// id `ours` is not counted (it is the purchase's own).
    pub async fn access_of(
        &self,
        repo: Repo<'_>,
        login: &str,
        user: GithubUserId,
        ours: Option<i64>,
    ) -> Result<Found, Refusal> {
        let client = self.client(repo.owner).await?;
        let handler = client.repos(repo.owner, repo.name);
        if handler.is_collaborator(login).await.map_err(refused(Refusal::RepositoryGone))? {
            return Ok(Found::Collaborator);
        }
        // Only the fields read here: GitHub sends the whole repository with
        // each invitation, and octocrab's full model of it took a tenth of
        // a burst of grants' CPU to parse (50 invitations pending, each grant).
        let route = format!("/repos/{}/{}/invitations?per_page=100", repo.owner, repo.name);
        let first: octocrab::Page<PendingInvitation> =
            client.get(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
        let pending = client.all_pages(first).await.map_err(refused(Refusal::RepositoryGone))?;
        Ok(pending
            .into_iter()
            .find(|i| i.invitee.as_ref().is_some_and(|u| u.id == user.get()) && Some(i.id) != ours)
            .map_or(Found::Nothing, |i| Found::Invitation {
                id: i.id,
                url: i.html_url,
                created_at: i.created_at.timestamp(),
            }))
    }

    /// Invites `login` with `permission`. `None`: GitHub made them a
    /// collaborator without an invitation (they already were one).
    pub async fn invite(&self, repo: Repo<'_>, login: &str, permission_name: &str) -> Result<Option<Sent>, Refusal> {
        let client = self.client(repo.owner).await?;
        let invitation = client
            .repos(repo.owner, repo.name)
            .add_collaborator(login)
            .permission(permission(permission_name))
            .send()
            .await;
        let invitation = invitation.map_err(refused(Refusal::RepositoryGone))?;
        Ok(invitation.map(|i| Sent { id: i.id.0 as i64, url: i.html_url.to_string() }))
    }

    /// The ids and logins of a repository's direct collaborators: those
    /// given it themselves, not through an organisation (its owners, its
    /// teams, its base permission), which GitHub's default list includes.
    pub async fn direct_collaborators(&self, repo: Repo<'_>) -> Result<std::collections::HashSet<i64>, Refusal> {
        let client = self.client(repo.owner).await?;
        let route = format!("/repos/{}/{}/collaborators?affiliation=direct&per_page=100", repo.owner, repo.name);
        let first: octocrab::Page<serde_json::Value> =
            client.get(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
        let all = client.all_pages(first).await.map_err(refused(Refusal::RepositoryGone))?;
        Ok(all.iter().filter_map(|c| c["id"].as_i64()).collect())
    }

    /// Everyone with access and everyone with a pending invitation.
    pub async fn collaborators_and_invitees(&self, repo: Repo<'_>) -> Result<RepoAccess, Refusal> {
        let client = self.client(repo.owner).await?;
        let first = client
            .repos(repo.owner, repo.name)
            .list_collaborators()
            .per_page(100)
            .send()
            .await
            .map_err(refused(Refusal::RepositoryGone))?;
        let collaborators = client.all_pages(first).await.map_err(refused(Refusal::RepositoryGone))?;
        let admins = collaborators.iter().filter(|c| c.permissions.admin).map(|c| c.author.id.0 as i64).collect();
        let with_access = collaborators.into_iter().map(|c| (c.author.id.0 as i64, c.author.login)).collect();
        let route = format!("/repos/{}/{}/invitations?per_page=100", repo.owner, repo.name);
        let invitations: Vec<serde_json::Value> =
            client.get(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
        let invited = invitations.iter().filter_map(|i| i["invitee"]["id"].as_i64()).collect();
        Ok(RepoAccess { with_access, invited, admins })
    }
}

/// Who can reach a repository, as GitHub lists it.
#[derive(Debug, Clone, Default)]
pub struct RepoAccess {
    /// Everyone with access, however they have it (GitHub id → login).
    pub with_access: std::collections::HashMap<i64, String>,
    /// Everyone with a pending invitation to the repository.
    pub invited: std::collections::HashSet<i64>,
    /// Those of them who administer it (its owner, an organisation's
    /// owners): RepoPass never gives that level, so never took it.
    pub admins: std::collections::HashSet<i64>,
}

/// What GitHub already has for an account on a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Nothing,
    Collaborator,
    /// A pending invitation (not the purchase's own): its id, link and when it was made.
    Invitation {
        id: i64,
        url: String,
        created_at: i64,
    },
}

/// An invitation GitHub sent: its id and the link to accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: i64,
    pub url: String,
}
