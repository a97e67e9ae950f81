//! Every GitHub call about a product's team (team access, for products
//! whose repositories all belong to one organisation): the team itself,
//! its repositories, and who is a member. One membership gives a holder
//! every repository of the team, and one call adds a repository for all
//! of them. Answers are RepoPass's own types; refusals are `Refusal`s.

use octocrab::models::memberships::State;
use octocrab::models::teams::RequestedTeam;

use super::collaborators::{permission, Refusal};
use super::{Github, GithubError};
use crate::domain::GithubTeam as Team;

/// Where a holder's team membership stands on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// A member: every repository of the team is theirs.
    Active,
    /// Invited to the organisation, the membership waits for them to
    /// accept (removing the membership withdraws the invitation's team).
    Pending,
}

fn refused(not_found: Refusal) -> impl Fn(octocrab::Error) -> Refusal {
    move |e| Refusal::from_error(e.into(), not_found.clone())
}

/// Already gone counts as done when removing.
fn gone_is_done(result: Result<(), octocrab::Error>) -> Result<(), Refusal> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => match GithubError::from(e) {
            GithubError::Api { status: 404, .. } => Ok(()),
            other => Err(Refusal::from_error(other, Refusal::RepositoryGone)),
        },
    }
}

impl Github {
    /// The team named `name` in `org`: created (closed, so members see each
    /// other) or, when a team of that name exists, adopted as it is.
    pub async fn create_or_adopt_team(&self, org: &str, name: &str, description: &str) -> Result<Team, Refusal> {
        let client = self.client(org).await?;
        let created = client
            .teams(org)
            .create(name)
            .description(description)
            .privacy(octocrab::params::teams::Privacy::Closed)
            .send()
            .await;
        let team = match created {
            Ok(team) => team,
            Err(e) => match GithubError::from(e) {
                // "Name must be unique for this org": adopt the existing team.
                GithubError::Api { status: 422, .. } => {
                    let teams = client
                        .teams(org)
                        .list()
                        .per_page(100)
                        .send()
                        .await
                        .map_err(refused(Refusal::RepositoryGone))?;
                    let all: Vec<RequestedTeam> =
                        client.all_pages(teams).await.map_err(refused(Refusal::RepositoryGone))?;
                    let found = all.into_iter().find(|t| t.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
                        Refusal::from_error(
                            GithubError::Api {
                                status: 422,
                                message: format!("GitHub refused a team called {name} and lists none"),
                                retry_after: None,
                            },
                            Refusal::RepositoryGone,
                        )
                    })?;
                    let id = match found.id {
                        Some(id) => id.0 as i64,
                        None => {
                            let team = client.teams(org).get(&found.slug).await;
                            team.map_err(refused(Refusal::RepositoryGone))?.id.0 as i64
                        }
                    };
                    return Ok(Team { org: org.to_owned(), slug: found.slug, id });
                }
                other => return Err(Refusal::from_error(other, Refusal::RepositoryGone)),
            },
        };
        Ok(Team { org: org.to_owned(), slug: team.slug, id: team.id.0 as i64 })
    }

    /// Gives the team `owner/name` at `level` (pull, triage, push, maintain):
    /// every member has it at once.
    pub async fn add_team_repository(&self, team: &Team, owner: &str, name: &str, level: &str) -> Result<(), Refusal> {
        let client = self.client(&team.org).await?;
        client
            .teams(&team.org)
            .repos(&team.slug)
            .add_or_update(owner, name, permission(level))
            .await
            .map_err(refused(Refusal::RepositoryGone))
    }

    /// Takes `owner/name` from the team (and so from every member).
    pub async fn remove_team_repository(&self, team: &Team, owner: &str, name: &str) -> Result<(), Refusal> {
        let client = self.client(&team.org).await?;
        let route = format!("/orgs/{}/teams/{}/repos/{owner}/{name}", team.org, team.slug);
        let response = client._delete(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
        gone_is_done(octocrab::map_github_error(response).await.map(drop))
    }

    /// The account's membership of the team, if any.
    pub async fn membership_of(&self, team: &Team, login: &str) -> Result<Option<Membership>, Refusal> {
        let client = self.client(&team.org).await?;
        match client.teams(&team.org).memberships(&team.slug).get(login).await {
            Ok(m) if m.state == State::Active => Ok(Some(Membership::Active)),
            Ok(_) => Ok(Some(Membership::Pending)),
            Err(e) => match GithubError::from(e) {
                GithubError::Api { status: 404, .. } => Ok(None),
                other => Err(Refusal::from_error(other, Refusal::RepositoryGone)),
            },
        }
    }

    /// Makes the account a member of the team: at once when they belong to
    /// the organisation, else GitHub invites them to it (pending until they
    /// accept; GitHub's daily limit of organisation invitations applies).
    pub async fn add_member(&self, team: &Team, login: &str) -> Result<Membership, Refusal> {
        let client = self.client(&team.org).await?;
        let m = client
            .teams(&team.org)
            .memberships(&team.slug)
            .add_or_update(login, None)
            .await
            .map_err(refused(Refusal::UserGone))?;
        Ok(match m.state {
            State::Active => Membership::Active,
            _ => Membership::Pending,
        })
    }

    /// Ends the account's membership of the team (a pending one too);
    /// not a member counts as done. The organisation invitation of a
    /// pending membership is cancelled, so it cannot be accepted later.
    pub async fn remove_member(&self, team: &Team, login: &str, invitation: Option<i64>) -> Result<(), Refusal> {
        let client = self.client(&team.org).await?;
        if let Some(id) = invitation {
            let route = format!("/orgs/{}/invitations/{id}", team.org);
            let response = client._delete(route, None::<&()>).await.map_err(refused(Refusal::RepositoryGone))?;
            gone_is_done(octocrab::map_github_error(response).await.map(drop))?;
        }
        gone_is_done(client.teams(&team.org).memberships(&team.slug).remove(login).await)
    }

    /// The ids of the team's members (active memberships).
    pub async fn team_members(&self, team: &Team) -> Result<std::collections::HashSet<i64>, Refusal> {
        let client = self.client(&team.org).await?;
        let first = client
            .teams(&team.org)
            .members(&team.slug)
            .per_page(100)
            .send()
            .await
            .map_err(refused(Refusal::RepositoryGone))?;
        let members = client.all_pages(first).await.map_err(refused(Refusal::RepositoryGone))?;
        Ok(members.into_iter().map(|m| m.id.0 as i64).collect())
    }

    /// The logins (lowercase) of those whose team membership waits for an
    /// organisation invitation (GitHub lists invitations by login). Members
    /// themselves show in the repositories' collaborators.
    pub async fn team_invitees(&self, team: &Team) -> Result<std::collections::HashSet<String>, Refusal> {
        let client = self.client(&team.org).await?;
        let first = client
            .teams(&team.org)
            .invitations(&team.slug)
            .per_page(100)
            .send()
            .await
            .map_err(refused(Refusal::RepositoryGone))?;
        let pending = client.all_pages(first).await.map_err(refused(Refusal::RepositoryGone))?;
        Ok(pending.into_iter().filter_map(|i| i.login.map(|l| l.to_ascii_lowercase())).collect())
    }
}
