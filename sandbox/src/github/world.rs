//! Operations on the sandbox's GitHub world, shared by the REST stand-in,
//! the OAuth pages and the control API.

use serde_json::json;

use super::model::*;
use crate::{deliveries, Error, Sandbox};

/// What a collaborator request came to, in GitHub's terms.
pub enum InviteOutcome {
    /// 201: a new (or the still pending) invitation.
    Invited(Invitation),
    /// 204: already a collaborator (permission updated).
    AlreadyCollaborator,
    /// 422 with GitHub's message.
    Refused(String),
}

impl Sandbox {
    pub async fn gh_user(&self, login: &str) -> Result<Option<User>, Error> {
        self.store().get(USER, &login.to_ascii_lowercase()).await
    }

    pub async fn gh_user_by_id(&self, id: i64) -> Result<Option<User>, Error> {
        if let Some(login) = self.login_hint(id) {
            if let Some(user) = self.gh_user(&login).await?.filter(|u| u.id == id) {
                return Ok(Some(user));
            }
        }
        let users = self.store().list::<User>(USER, None).await?;
        self.remember_logins(users.iter().map(|u| (u.id, u.login.to_ascii_lowercase())));
        Ok(users.into_iter().find(|u| u.id == id))
    }

    /// Several accounts by id: one query for those whose login is known,
    /// one lookup each for the rest.
    pub async fn gh_users_by_id(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<std::collections::HashMap<i64, User>, Error> {
        let ids: std::collections::BTreeSet<i64> = ids.into_iter().collect();
        let logins: Vec<String> = ids.iter().filter_map(|id| self.login_hint(*id)).collect();
        let mut found: std::collections::HashMap<i64, User> = self
            .store()
            .get_many::<User>(USER, &logins)
            .await?
            .into_iter()
            .filter(|u| ids.contains(&u.id))
            .map(|u| (u.id, u))
            .collect();
        let missing: Vec<i64> = ids.into_iter().filter(|id| !found.contains_key(id)).collect();
        for id in missing {
            if let Some(user) = self.gh_user_by_id(id).await? {
                found.insert(id, user);
            }
        }
        Ok(found)
    }

    /// Renames an account, as a GitHub user may: same id, new login.
    pub async fn gh_rename_user(&self, login: &str, new_login: &str) -> Result<User, Error> {
        if !is_github_login(new_login) {
            return Err(Error::BadRequest(format!("'{new_login}' is not a valid GitHub login")));
        }
        if self.gh_user(new_login).await?.is_some() {
            return Err(Error::BadRequest(format!("'{new_login}' is taken")));
        }
        let mut user = self.gh_user(login).await?.ok_or(Error::NotFound)?;
        self.store().delete(USER, &login.to_ascii_lowercase()).await?;
        user.login = new_login.to_owned();
        self.store().insert_new(USER, &new_login.to_ascii_lowercase(), None, &user).await?;
        Ok(user)
    }

    /// Creates a personal account (the OAuth page and tests add people).
    pub async fn gh_create_user(&self, login: &str, name: Option<&str>) -> Result<User, Error> {
        if !is_github_login(login) {
            return Err(Error::BadRequest(format!("'{login}' is not a valid GitHub login")));
        }
        if let Some(existing) = self.gh_user(login).await? {
            return Ok(existing);
        }
        let user = User {
            id: self.store().next_id("gh_user", 9_000_001).await?,
            login: login.to_owned(),
            organization: false,
            name: name.map(str::to_owned),
            email: None,
            admins: vec![],
            created_at: self.store().now().await?,
        };
        self.store().insert_new(USER, &login.to_ascii_lowercase(), None, &user).await?;
        // A concurrent creation may have won: return what is stored.
        self.gh_user(login).await?.ok_or(Error::NotFound)
    }

    /// A new private repository of `owner` (as a creator makes one on
    /// GitHub); an existing one is returned as it is.
    pub async fn gh_create_repo(&self, owner: &str, name: &str) -> Result<Repo, Error> {
        if self.gh_user(owner).await?.is_none() {
            return Err(Error::BadRequest(format!("there is no GitHub account called {owner}")));
        }
        if name.is_empty()
            || name.len() > 100
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(Error::BadRequest(format!("'{name}' is not a valid repository name")));
        }
        if let Some(existing) = self.gh_repo(owner, name).await? {
            return Ok(existing);
        }
        let repo = Repo {
            id: self.store().next_id("gh_repo", 6_000_001).await?,
            owner: owner.to_owned(),
            name: name.to_owned(),
            private: true,
            archived: false,
            description: None,
            created_at: self.store().now().await?,
        };
        self.store().insert_new(REPO, &Repo::key(owner, name), Some(owner), &repo).await?;
        self.gh_repo(owner, name).await?.ok_or(Error::NotFound)
    }

    pub async fn gh_repo(&self, owner: &str, name: &str) -> Result<Option<Repo>, Error> {
        self.store().get(REPO, &Repo::key(owner, name)).await
    }

    pub async fn gh_repos(&self) -> Result<Vec<Repo>, Error> {
        self.store().list(REPO, None).await
    }

    /// Whether `login` administers the repository (owner, or admin of the owning organisation).
    pub async fn gh_is_admin(&self, login: &str, repo: &Repo) -> Result<bool, Error> {
        if repo.owner.eq_ignore_ascii_case(login) {
            return Ok(true);
        }
        let owner = self.gh_user(&repo.owner).await?;
        Ok(owner.is_some_and(|o| o.organization && o.admins.iter().any(|a| a.eq_ignore_ascii_case(login))))
    }

    pub async fn gh_collaborators(&self, repo: &Repo) -> Result<Vec<Collaborator>, Error> {
        self.store().list(COLLABORATOR, Some(&repo.id.to_string())).await
    }

    pub async fn gh_invitations(&self, repo: &Repo) -> Result<Vec<Invitation>, Error> {
        self.store().list(INVITATION, Some(&repo.id.to_string())).await
    }

    pub async fn gh_pending_invitations(&self, repo: &Repo) -> Result<Vec<Invitation>, Error> {
        Ok(self.gh_invitations(repo).await?.into_iter().filter(|i| i.state == InvitationState::Pending).collect())
    }

    /// `PUT /repos/{o}/{r}/collaborators/{u}` as GitHub does it.
    pub async fn gh_invite(
        &self,
        repo: &Repo,
        invitee: &User,
        inviter: &User,
        requested: Option<&str>,
    ) -> Result<InviteOutcome, Error> {
        let _one_at_a_time = self.invitation_lock().await;
        if invitee.organization {
            return Ok(InviteOutcome::Refused(format!("{} is an organization, not a user", invitee.login)));
        }
        if repo.owner.eq_ignore_ascii_case(&invitee.login) {
            return Ok(InviteOutcome::Refused("Repository owner cannot be a collaborator".into()));
        }
        let owner = self.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
        // GitHub honours `permission` on organisation repositories only;
        // personal repositories have one collaborator level (write).
        let permission = match (owner.organization, requested) {
            (false, _) => "write",
            (true, None) => "write",
            (true, Some(p)) => match reported_permission(p) {
                Some(p) => p,
                None => {
                    return Ok(InviteOutcome::Refused(format!(
                        "permission '{p}' is not one of pull, triage, push, maintain, admin"
                    )))
                }
            },
        };
        let key = Collaborator::key(repo.id, invitee.id);
        if let Some(mut existing) = self.store().get::<Collaborator>(COLLABORATOR, &key).await? {
            existing.permission = permission.to_owned();
            self.store().put(COLLABORATOR, &key, Some(&repo.id.to_string()), &existing).await?;
            return Ok(InviteOutcome::AlreadyCollaborator);
        }
        let now = self.store().now().await?;
        let invitations = self.gh_invitations(repo).await?;
        if let Some(pending) = invitations.iter().find(|i| {
            i.state == InvitationState::Pending && i.invitee_id == invitee.id && now < i.created_at + INVITATION_TTL
        }) {
            return Ok(InviteOutcome::Invited(pending.clone()));
        }
        let last_day = invitations.iter().filter(|i| i.created_at > now - 86_400).count();
        if last_day >= INVITATIONS_PER_DAY {
            return Ok(InviteOutcome::Refused(format!(
                "You have exceeded the maximum number of invitations ({INVITATIONS_PER_DAY}) for this repository in a 24 hour period."
            )));
        }
        let invitation = Invitation {
            id: self.store().next_id("gh_invitation", 70_000_001).await?,
            repo_id: repo.id,
            invitee_id: invitee.id,
            inviter_id: inviter.id,
            permission: permission.to_owned(),
            state: InvitationState::Pending,
            created_at: now,
        };
        self.store().put(INVITATION, &invitation.id.to_string(), Some(&repo.id.to_string()), &invitation).await?;
        Ok(InviteOutcome::Invited(invitation))
    }

    pub async fn gh_invitation(&self, id: i64) -> Result<Option<Invitation>, Error> {
        self.store().get(INVITATION, &id.to_string()).await
    }

    async fn set_invitation_state(&self, mut inv: Invitation, state: InvitationState) -> Result<(), Error> {
        inv.state = state;
        self.store().put(INVITATION, &inv.id.to_string(), Some(&inv.repo_id.to_string()), &inv).await
    }

    pub async fn gh_delete_invitation(&self, repo: &Repo, id: i64) -> Result<bool, Error> {
        match self.gh_invitation(id).await? {
            Some(inv) if inv.repo_id == repo.id && inv.state == InvitationState::Pending => {
                self.set_invitation_state(inv, InvitationState::Deleted).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The invitee accepts (the console's button, or a test): they become a
    /// collaborator and GitHub sends `member` `added`.
    pub async fn gh_accept_invitation(&self, id: i64) -> Result<Collaborator, Error> {
        let inv = self.gh_invitation(id).await?.ok_or(Error::NotFound)?;
        if inv.state != InvitationState::Pending {
            return Err(Error::BadRequest(format!("invitation {id} is not pending")));
        }
        let now = self.store().now().await?;
        if now >= inv.created_at + INVITATION_TTL {
            return Err(Error::BadRequest(format!("invitation {id} has expired; ask for a new one")));
        }
        let repo = self.gh_repos().await?.into_iter().find(|r| r.id == inv.repo_id).ok_or(Error::NotFound)?;
        let collaborator = Collaborator {
            repo_id: repo.id,
            user_id: inv.invitee_id,
            permission: inv.permission.clone(),
            added_at: now,
        };
        self.store()
            .put(COLLABORATOR, &Collaborator::key(repo.id, inv.invitee_id), Some(&repo.id.to_string()), &collaborator)
            .await?;
        self.set_invitation_state(inv.clone(), InvitationState::Accepted).await?;
        self.gh_member_event(&repo, inv.invitee_id, "added", Some(&inv.permission)).await?;
        Ok(collaborator)
    }

    /// Removes a collaborator (API `DELETE`, or "removed by hand" in the console).
    pub async fn gh_remove_collaborator(&self, repo: &Repo, user: &User) -> Result<bool, Error> {
        let removed = self.store().delete(COLLABORATOR, &Collaborator::key(repo.id, user.id)).await?;
        if removed {
            self.gh_member_event(repo, user.id, "removed", None).await?;
        }
        Ok(removed)
    }

    /// Queues a signed `member` webhook, shaped like GitHub's.
    async fn gh_member_event(
        &self,
        repo: &Repo,
        user_id: i64,
        action: &str,
        permission: Option<&str>,
    ) -> Result<(), Error> {
        let member = self.gh_user_by_id(user_id).await?.ok_or(Error::NotFound)?;
        let owner = self.gh_user(&repo.owner).await?.ok_or(Error::NotFound)?;
        let sender = owner.clone();
        let mut payload = json!({
            "action": action,
            "member": user_json(self, &member),
            "repository": repo_json(self, repo, &owner, false),
            "sender": user_json(self, &sender),
        });
        if let Some(permission) = permission {
            payload["changes"] = json!({ "permission": { "to": permission } });
        }
        deliveries::enqueue_github(self, "member", &payload).await
    }
}

/// GitHub's rule for logins: 1–39 characters, letters, digits and single
/// hyphens, not at either end (the sandbox plays GitHub, so it has its own).
fn is_github_login(login: &str) -> bool {
    (1..=39).contains(&login.len())
        && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--")
}

#[cfg(test)]
mod login_tests {
    #[test]
    fn github_logins() {
        for ok in ["a", "octocat", "my-org-1", &"a".repeat(39)] {
            assert!(super::is_github_login(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "a b", "a_b", &"a".repeat(40)] {
            assert!(!super::is_github_login(bad), "{bad}");
        }
    }
}
