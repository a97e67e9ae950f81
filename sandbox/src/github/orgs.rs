//! Organisations on the sandbox's GitHub: their members, their teams (the
//! repositories a team reaches and its members) and organisation
//! invitations, as GitHub's REST reference describes them
//! (docs.github.com/rest/teams, /rest/orgs/members, /rest/orgs/invitations),
//! with the webhooks GitHub sends about them (`membership`, `organization`).
//!
//! An organisation's owners are the logins in its `User.admins` (role
//! admin); its other members are `gh_org_member` objects. A team membership
//! is active (a `gh_team_member`) or pending: the team is on the person's
//! pending, unexpired organisation invitation, and accepting that invitation
//! makes each of its team memberships active. An active member of a team
//! that has a repository has access to it (the team's permission).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::model::*;
use crate::{deliveries, Error, Sandbox};

pub const ORG_MEMBER: &str = "gh_org_member";
pub const TEAM: &str = "gh_team";
pub const TEAM_REPO: &str = "gh_team_repo";
pub const TEAM_MEMBER: &str = "gh_team_member";
pub const ORG_INVITATION: &str = "gh_org_invitation";

/// GitHub's limit for organisations on the free plan: 50 organisation
/// invitations per 24 hours.
pub const ORG_INVITATIONS_PER_DAY: usize = 50;
/// Organisation invitations lapse after 7 days, as repository invitations do.
pub const ORG_INVITATION_TTL: i64 = INVITATION_TTL;
/// What GitHub says when the daily limit is reached.
pub const OVER_INVITATION_RATE_LIMIT: &str = "Over invitation rate limit";

/// A member of an organisation who is not one of its owners.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgMember {
    pub org: String,
    pub user_id: i64,
    pub role: String,
    pub joined_at: i64,
}

impl OrgMember {
    pub fn key(org: &str, user_id: i64) -> String {
        format!("{}:{user_id}", org.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    /// `closed` or `secret`.
    pub privacy: String,
    /// GitHub's (deprecated) team permission, `pull` or `push`: what a
    /// repository is added with when the request names none.
    pub permission: String,
    pub notification_setting: String,
    pub created_at: i64,
}

impl Team {
    /// Keyed by organisation and slug: the slug is unique in its organisation.
    pub fn key(org: &str, slug: &str) -> String {
        format!("{}/{}", org.to_ascii_lowercase(), slug.to_ascii_lowercase())
    }
}

/// A repository a team has, with the permission its members get.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeamRepo {
    pub team_id: i64,
    pub repo_id: i64,
    /// As GitHub reports it: read, triage, write, maintain or admin.
    pub permission: String,
    pub added_at: i64,
}

impl TeamRepo {
    pub fn key(team_id: i64, repo_id: i64) -> String {
        format!("{team_id}:{repo_id}")
    }
}

/// An active team membership.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeamMember {
    pub team_id: i64,
    pub user_id: i64,
    /// `member` or `maintainer`.
    pub role: String,
    pub added_at: i64,
}

impl TeamMember {
    pub fn key(team_id: i64, user_id: i64) -> String {
        format!("{team_id}:{user_id}")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitedTeam {
    pub team_id: i64,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgInvitation {
    pub id: i64,
    pub org: String,
    pub invitee_id: i64,
    pub inviter_id: i64,
    /// GitHub's invitation role: `direct_member` here.
    pub role: String,
    /// The teams the invitee joins on accepting (their pending memberships).
    pub teams: Vec<InvitedTeam>,
    pub state: InvitationState,
    pub created_at: i64,
}

impl OrgInvitation {
    pub fn expired(&self, now: i64) -> bool {
        now >= self.created_at + ORG_INVITATION_TTL
    }

    /// Pending and not expired: it can still be accepted.
    pub fn open(&self, now: i64) -> bool {
        self.state == InvitationState::Pending && !self.expired(now)
    }
}

/// One entry of a 422's `errors`: `{"message": "Validation Failed", "errors": [this]}`.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub resource: &'static str,
    pub code: &'static str,
    pub field: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(resource: &'static str, code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        Refusal { resource, code, field, message: message.into() }
    }
}

/// What `PUT /orgs/{org}/teams/{team_slug}/memberships/{username}` came to.
pub enum MembershipOutcome {
    /// 200 `{"url", "role", "state"}`; `state` is `active` or `pending`.
    Membership { role: String, state: &'static str },
    /// 422.
    Refused(Refusal),
}

/// What `POST /orgs/{org}/teams` takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTeam {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub maintainers: Vec<String>,
    #[serde(default)]
    pub repo_names: Vec<String>,
    pub privacy: Option<String>,
    pub notification_setting: Option<String>,
    pub permission: Option<String>,
}

/// GitHub's slug of a team name (Rails' `parameterize`): letters
/// transliterated to ASCII and lowercased; every run of characters other
/// than `a-z`, `0-9` and `_` becomes one `-`; no `-` at either end.
/// "My TEam Näme" → `my-team-name`, "ops_team" → `ops_team`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let ascii = transliterate(c);
        for c in ascii.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// The ASCII of a lowercase letter (`?`, a separator, when there is none).
fn transliterate(c: char) -> String {
    if c.is_ascii() {
        return c.to_string();
    }
    let s = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => "?",
    };
    s.to_owned()
}

impl Sandbox {
    /// An organisation account (not a person).
    pub async fn gh_org(&self, login: &str) -> Result<Option<User>, Error> {
        Ok(self.gh_user(login).await?.filter(|u| u.organization))
    }

    /// `admin` for an owner, `member` for another member, `None` for
    /// everyone else.
    pub async fn gh_org_role(&self, org: &User, user: &User) -> Result<Option<&'static str>, Error> {
        if org.admins.iter().any(|a| a.eq_ignore_ascii_case(&user.login)) {
            return Ok(Some("admin"));
        }
        Ok(self.store().get::<OrgMember>(ORG_MEMBER, &OrgMember::key(&org.login, user.id)).await?.map(|_| "member"))
    }

    /// Owners first, then the other members in the order they joined.
    pub async fn gh_org_members(&self, org: &User) -> Result<Vec<(User, &'static str)>, Error> {
        let mut members: Vec<(User, &'static str)> = Vec::new();
        for login in &org.admins {
            if let Some(user) = self.gh_user(login).await? {
                members.push((user, "admin"));
            }
        }
        for m in self.store().list::<OrgMember>(ORG_MEMBER, Some(&org.login.to_ascii_lowercase())).await? {
            if members.iter().any(|(u, _)| u.id == m.user_id) {
                continue;
            }
            if let Some(user) = self.gh_user_by_id(m.user_id).await? {
                members.push((user, "member"));
            }
        }
        Ok(members)
    }

    /// Makes `user` a member of `org` (as accepting an invitation does, or
    /// an owner adding them by hand); GitHub sends `organization`
    /// `member_added`. False when they already were one.
    pub async fn gh_add_org_member(&self, org: &User, user: &User) -> Result<bool, Error> {
        if user.organization {
            return Err(Error::BadRequest(format!("{} is an organization, not a user", user.login)));
        }
        if self.gh_org_role(org, user).await?.is_some() {
            return Ok(false);
        }
        let member = OrgMember {
            org: org.login.clone(),
            user_id: user.id,
            role: "member".into(),
            joined_at: self.store().now().await?,
        };
        let org_key = org.login.to_ascii_lowercase();
        if !self.store().insert_new(ORG_MEMBER, &OrgMember::key(&org.login, user.id), Some(&org_key), &member).await? {
            return Ok(false);
        }
        let membership = json!({
            "url": self.api_url(&format!("/orgs/{}/memberships/{}", org.login, user.login)),
            "state": "active",
            "role": "member",
            "organization_url": self.api_url(&format!("/orgs/{}", org.login)),
            "user": user_json(self, user),
        });
        self.gh_organization_event(org, "member_added", json!({ "membership": membership }), user).await?;
        Ok(true)
    }

    pub async fn gh_teams(&self, org: &User) -> Result<Vec<Team>, Error> {
        self.store().list(TEAM, Some(&org.login.to_ascii_lowercase())).await
    }

    pub async fn gh_team(&self, org: &User, slug: &str) -> Result<Option<Team>, Error> {
        self.store().get(TEAM, &Team::key(&org.login, slug)).await
    }

    pub async fn gh_team_by_id(&self, id: i64) -> Result<Option<Team>, Error> {
        Ok(self.store().list::<Team>(TEAM, None).await?.into_iter().find(|t| t.id == id))
    }

    /// `POST /orgs/{org}/teams`. The creator becomes a maintainer of the team,
    /// as on GitHub (unless it is an installation acting as the organisation).
    pub async fn gh_create_team(
        &self,
        org: &User,
        creator: &User,
        new: NewTeam,
    ) -> Result<Result<Team, Refusal>, Error> {
        let Some(name) = new.name.filter(|n| !n.trim().is_empty()) else {
            return Ok(Err(Refusal::new("Team", "missing_field", "name", "name wasn't supplied")));
        };
        let slug = slugify(&name);
        if slug.is_empty() {
            return Ok(Err(Refusal::new("Team", "invalid", "name", "Name must contain a letter or a digit")));
        }
        let privacy = new.privacy.unwrap_or_else(|| "secret".into());
        if !matches!(privacy.as_str(), "secret" | "closed") {
            return Ok(Err(Refusal::new("Team", "invalid", "privacy", "privacy must be one of secret, closed")));
        }
        let permission = new.permission.unwrap_or_else(|| "pull".into());
        if !matches!(permission.as_str(), "pull" | "push") {
            return Ok(Err(Refusal::new("Team", "invalid", "permission", "permission must be one of pull, push")));
        }
        let notification_setting = new.notification_setting.unwrap_or_else(|| "notifications_enabled".into());
        if !matches!(notification_setting.as_str(), "notifications_enabled" | "notifications_disabled") {
            return Ok(Err(Refusal::new(
                "Team",
                "invalid",
                "notification_setting",
                "notification_setting must be one of notifications_enabled, notifications_disabled",
            )));
        }
        let mut repos = Vec::new();
        for full_name in &new.repo_names {
            let repo = match full_name.split_once('/') {
                Some((owner, name)) if owner.eq_ignore_ascii_case(&org.login) => self.gh_repo(owner, name).await?,
                _ => None,
            };
            match repo {
                Some(repo) => repos.push(repo),
                None => {
                    return Ok(Err(Refusal::new(
                        "Team",
                        "unprocessable",
                        "repo_names",
                        format!("Could not resolve to a repository of {}: {full_name}", org.login),
                    )))
                }
            }
        }
        let now = self.store().now().await?;
        let team = Team {
            id: self.store().next_id("gh_team", 4_000_001).await?,
            org: org.login.clone(),
            name,
            slug,
            description: new.description,
            privacy,
            permission,
            notification_setting,
            created_at: now,
        };
        let org_key = org.login.to_ascii_lowercase();
        if !self.store().insert_new(TEAM, &Team::key(&org.login, &team.slug), Some(&org_key), &team).await? {
            // GitHub's answer, word for word.
            return Ok(Err(Refusal::new("Team", "unprocessable", "data", "Name must be unique for this org")));
        }
        let reported = reported_permission(&team.permission).unwrap_or("read");
        for repo in &repos {
            self.gh_set_team_repo(&team, repo, reported).await?;
        }
        let mut maintainers = Vec::new();
        if !creator.organization {
            maintainers.push(creator.clone());
        }
        for login in &new.maintainers {
            if let Some(user) = self.gh_user(login).await? {
                if self.gh_org_role(org, &user).await?.is_some() && !maintainers.iter().any(|m| m.id == user.id) {
                    maintainers.push(user);
                }
            }
        }
        for user in maintainers {
            let member = TeamMember { team_id: team.id, user_id: user.id, role: "maintainer".into(), added_at: now };
            self.store()
                .put(TEAM_MEMBER, &TeamMember::key(team.id, user.id), Some(&team.id.to_string()), &member)
                .await?;
        }
        Ok(Ok(team))
    }

    pub async fn gh_team_repos(&self, team: &Team) -> Result<Vec<TeamRepo>, Error> {
        self.store().list(TEAM_REPO, Some(&team.id.to_string())).await
    }

    /// Gives the team the repository at `reported` (read … admin), or changes its permission.
    pub async fn gh_set_team_repo(&self, team: &Team, repo: &Repo, reported: &str) -> Result<(), Error> {
        let key = TeamRepo::key(team.id, repo.id);
        let added_at = match self.store().get::<TeamRepo>(TEAM_REPO, &key).await? {
            Some(existing) => existing.added_at,
            None => self.store().now().await?,
        };
        let link = TeamRepo { team_id: team.id, repo_id: repo.id, permission: reported.to_owned(), added_at };
        self.store().put(TEAM_REPO, &key, Some(&team.id.to_string()), &link).await
    }

    pub async fn gh_remove_team_repo(&self, team: &Team, repo: &Repo) -> Result<bool, Error> {
        self.store().delete(TEAM_REPO, &TeamRepo::key(team.id, repo.id)).await
    }

    /// The active members of a team.
    pub async fn gh_team_members(&self, team: &Team) -> Result<Vec<TeamMember>, Error> {
        self.store().list(TEAM_MEMBER, Some(&team.id.to_string())).await
    }

    /// Who has the repository through a team, with the highest permission
    /// any of their teams gives (an organisation owner: admin).
    pub async fn gh_team_collaborators(&self, repo: &Repo) -> Result<Vec<(i64, String)>, Error> {
        let links: Vec<TeamRepo> = self
            .store()
            .list::<TeamRepo>(TEAM_REPO, None)
            .await?
            .into_iter()
            .filter(|t| t.repo_id == repo.id)
            .collect();
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<(i64, String)> = Vec::new();
        for link in links {
            for member in self.store().list::<TeamMember>(TEAM_MEMBER, Some(&link.team_id.to_string())).await? {
                match out.iter_mut().find(|(id, _)| *id == member.user_id) {
                    Some((_, held)) if permission_rank(&link.permission) > permission_rank(held) => {
                        held.clone_from(&link.permission)
                    }
                    Some(_) => {}
                    None => out.push((member.user_id, link.permission.clone())),
                }
            }
        }
        if let Some(owner) = self.gh_org(&repo.owner).await? {
            for login in &owner.admins {
                if let Some(admin) = self.gh_user(login).await? {
                    if let Some((_, held)) = out.iter_mut().find(|(id, _)| *id == admin.id) {
                        *held = "admin".into();
                    }
                }
            }
        }
        Ok(out)
    }

    /// The permission `user` has on `repo` through teams, if any.
    pub async fn gh_team_permission(&self, repo: &Repo, user: &User) -> Result<Option<String>, Error> {
        Ok(self.gh_team_collaborators(repo).await?.into_iter().find(|(id, _)| *id == user.id).map(|(_, p)| p))
    }

    pub async fn gh_org_invitations(&self, org: &User) -> Result<Vec<OrgInvitation>, Error> {
        self.store().list(ORG_INVITATION, Some(&org.login.to_ascii_lowercase())).await
    }

    /// The invitations that can still be accepted (GitHub lists expired
    /// ones apart, as failed invitations).
    pub async fn gh_open_org_invitations(&self, org: &User) -> Result<Vec<OrgInvitation>, Error> {
        let now = self.store().now().await?;
        Ok(self.gh_org_invitations(org).await?.into_iter().filter(|i| i.open(now)).collect())
    }

    pub async fn gh_org_invitation(&self, id: i64) -> Result<Option<OrgInvitation>, Error> {
        self.store().get(ORG_INVITATION, &id.to_string()).await
    }

    async fn save_org_invitation(&self, inv: &OrgInvitation) -> Result<(), Error> {
        self.store().put(ORG_INVITATION, &inv.id.to_string(), Some(&inv.org.to_ascii_lowercase()), inv).await
    }

    /// `user`'s membership of `team`: (role, `active` | `pending`). GitHub
    /// reports an organisation owner's team role as `maintainer`.
    pub async fn gh_team_membership(
        &self,
        org: &User,
        team: &Team,
        user: &User,
    ) -> Result<Option<(String, &'static str)>, Error> {
        if let Some(member) = self.store().get::<TeamMember>(TEAM_MEMBER, &TeamMember::key(team.id, user.id)).await? {
            let role = match self.gh_org_role(org, user).await? {
                Some("admin") => "maintainer".to_owned(),
                _ => member.role,
            };
            return Ok(Some((role, "active")));
        }
        let pending = self
            .gh_open_org_invitations(org)
            .await?
            .into_iter()
            .find(|i| i.invitee_id == user.id)
            .and_then(|i| i.teams.into_iter().find(|t| t.team_id == team.id));
        Ok(pending.map(|t| (t.role, "pending")))
    }

    /// `PUT /orgs/{org}/teams/{team_slug}/memberships/{username}` as GitHub
    /// does it: an organisation member joins at once (`membership`
    /// `added`); anyone else gets an organisation invitation that includes
    /// the team (`organization` `member_invited`), within the daily limit.
    pub async fn gh_put_team_membership(
        &self,
        org: &User,
        team: &Team,
        user: &User,
        role: Option<&str>,
        actor: &User,
    ) -> Result<MembershipOutcome, Error> {
        if user.organization {
            return Ok(MembershipOutcome::Refused(Refusal::new(
                "TeamMember",
                "unprocessable",
                "data",
                format!("{} is an organization, not a user", user.login),
            )));
        }
        if let Some(role) = role {
            if !matches!(role, "member" | "maintainer") {
                return Ok(MembershipOutcome::Refused(Refusal::new(
                    "TeamMember",
                    "invalid",
                    "role",
                    "role must be one of member, maintainer",
                )));
            }
        }
        let _one_at_a_time = self.invitation_lock().await;
        let now = self.store().now().await?;
        let key = TeamMember::key(team.id, user.id);
        let org_role = self.gh_org_role(org, user).await?;
        let reported = |role: &str| if org_role == Some("admin") { "maintainer".to_owned() } else { role.to_owned() };
        if let Some(mut member) = self.store().get::<TeamMember>(TEAM_MEMBER, &key).await? {
            if let Some(role) = role.filter(|r| *r != member.role) {
                member.role = role.to_owned();
                self.store().put(TEAM_MEMBER, &key, Some(&team.id.to_string()), &member).await?;
            }
            return Ok(MembershipOutcome::Membership { role: reported(&member.role), state: "active" });
        }
        if org_role.is_some() {
            let role = role.unwrap_or("member");
            let member = TeamMember { team_id: team.id, user_id: user.id, role: role.to_owned(), added_at: now };
            self.store().put(TEAM_MEMBER, &key, Some(&team.id.to_string()), &member).await?;
            self.gh_membership_event(org, team, user, "added", actor).await?;
            return Ok(MembershipOutcome::Membership { role: reported(role), state: "active" });
        }
        let invitations = self.gh_org_invitations(org).await?;
        if let Some(mut pending) = invitations.iter().find(|i| i.invitee_id == user.id && i.open(now)).cloned() {
            // Already invited: this team joins the invitation (or its role changes).
            let role = match pending.teams.iter_mut().find(|t| t.team_id == team.id) {
                Some(invited) => {
                    if let Some(role) = role {
                        invited.role = role.to_owned();
                    }
                    invited.role.clone()
                }
                None => {
                    let role = role.unwrap_or("member").to_owned();
                    pending.teams.push(InvitedTeam { team_id: team.id, role: role.clone() });
                    role
                }
            };
            self.save_org_invitation(&pending).await?;
            return Ok(MembershipOutcome::Membership { role, state: "pending" });
        }
        let role = role.unwrap_or("member");
        let last_day = invitations.iter().filter(|i| i.created_at > now - 86_400).count();
        if last_day >= ORG_INVITATIONS_PER_DAY {
            return Ok(MembershipOutcome::Refused(Refusal::new(
                "OrganizationInvitation",
                "unprocessable",
                "data",
                OVER_INVITATION_RATE_LIMIT,
            )));
        }
        let invitation = OrgInvitation {
            id: self.store().next_id("gh_org_invitation", 90_000_001).await?,
            org: org.login.clone(),
            invitee_id: user.id,
            inviter_id: actor.id,
            role: "direct_member".into(),
            teams: vec![InvitedTeam { team_id: team.id, role: role.to_owned() }],
            state: InvitationState::Pending,
            created_at: now,
        };
        self.save_org_invitation(&invitation).await?;
        let extra = json!({
            "invitation": org_invitation_json(self, org, &invitation, user, actor, now),
            "user": user_json(self, user),
        });
        self.gh_organization_event(org, "member_invited", extra, actor).await?;
        Ok(MembershipOutcome::Membership { role: role.to_owned(), state: "pending" })
    }

    /// `DELETE …/memberships/{username}` (or a person removing someone by
    /// hand): an active membership ends (`membership` `removed`); a pending
    /// one leaves the invitation, which is cancelled when no team is left.
    /// What the membership was, `None` when there was none.
    pub async fn gh_delete_team_membership(
        &self,
        org: &User,
        team: &Team,
        user: &User,
        actor: &User,
    ) -> Result<Option<&'static str>, Error> {
        let _one_at_a_time = self.invitation_lock().await;
        if self.store().delete(TEAM_MEMBER, &TeamMember::key(team.id, user.id)).await? {
            self.gh_membership_event(org, team, user, "removed", actor).await?;
            return Ok(Some("active"));
        }
        let now = self.store().now().await?;
        let pending = self
            .gh_org_invitations(org)
            .await?
            .into_iter()
            .find(|i| i.invitee_id == user.id && i.open(now) && i.teams.iter().any(|t| t.team_id == team.id));
        let Some(mut invitation) = pending else { return Ok(None) };
        invitation.teams.retain(|t| t.team_id != team.id);
        if invitation.teams.is_empty() {
            invitation.state = InvitationState::Deleted;
        }
        self.save_org_invitation(&invitation).await?;
        Ok(Some("pending"))
    }

    /// `DELETE /orgs/{org}/invitations/{id}`: its pending team memberships go with it.
    pub async fn gh_cancel_org_invitation(&self, org: &User, id: i64) -> Result<bool, Error> {
        let _one_at_a_time = self.invitation_lock().await;
        let now = self.store().now().await?;
        match self.gh_org_invitation(id).await? {
            Some(mut inv) if inv.org.eq_ignore_ascii_case(&org.login) && inv.open(now) => {
                inv.state = InvitationState::Deleted;
                self.save_org_invitation(&inv).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The invitee accepts (the invitation page, or the control API): they
    /// join the organisation (`organization` `member_added`) and each team
    /// of the invitation (`membership` `added` for each).
    pub async fn gh_accept_org_invitation(&self, id: i64) -> Result<OrgInvitation, Error> {
        let _one_at_a_time = self.invitation_lock().await;
        let mut inv = self.gh_org_invitation(id).await?.ok_or(Error::NotFound)?;
        if inv.state != InvitationState::Pending {
            return Err(Error::BadRequest(format!("organization invitation {id} is not pending")));
        }
        let now = self.store().now().await?;
        if inv.expired(now) {
            return Err(Error::BadRequest(format!("organization invitation {id} has expired; ask for a new one")));
        }
        let org = self.gh_org(&inv.org).await?.ok_or(Error::NotFound)?;
        let user = self.gh_user_by_id(inv.invitee_id).await?.ok_or(Error::NotFound)?;
        inv.state = InvitationState::Accepted;
        self.save_org_invitation(&inv).await?;
        self.gh_add_org_member(&org, &user).await?;
        for invited in &inv.teams {
            let Some(team) = self.gh_team_by_id(invited.team_id).await? else { continue };
            let member = TeamMember { team_id: team.id, user_id: user.id, role: invited.role.clone(), added_at: now };
            let key = TeamMember::key(team.id, user.id);
            if self.store().insert_new(TEAM_MEMBER, &key, Some(&team.id.to_string()), &member).await? {
                self.gh_membership_event(&org, &team, &user, "added", &user).await?;
            }
        }
        Ok(inv)
    }

    /// Queues a `membership` webhook (scope `team`), shaped like GitHub's.
    async fn gh_membership_event(
        &self,
        org: &User,
        team: &Team,
        member: &User,
        action: &str,
        sender: &User,
    ) -> Result<(), Error> {
        let payload = json!({
            "action": action,
            "scope": "team",
            "member": user_json(self, member),
            "sender": user_json(self, sender),
            "team": team_json(self, org, team),
            "organization": org_json(self, org),
        });
        deliveries::enqueue_github(self, "membership", &payload).await
    }

    /// Queues an `organization` webhook: `action`, `organization`, `sender`
    /// and what `extra` adds (`invitation` and `user`, or `membership`).
    async fn gh_organization_event(&self, org: &User, action: &str, extra: Value, sender: &User) -> Result<(), Error> {
        let mut payload = json!({ "action": action });
        if let (Some(p), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            p.extend(extra);
        }
        payload["organization"] = org_json(self, org);
        payload["sender"] = user_json(self, sender);
        deliveries::enqueue_github(self, "organization", &payload).await
    }

    /// The `organizations` of the control API's GitHub state.
    pub async fn gh_organizations_state(&self) -> Result<Value, Error> {
        let now = self.store().now().await?;
        let mut out = Vec::new();
        let repos = self.gh_repos().await?;
        for org in self.store().list::<User>(USER, None).await?.into_iter().filter(|u| u.organization) {
            let members: Vec<String> = self.gh_org_members(&org).await?.into_iter().map(|(u, _)| u.login).collect();
            let invitations: Vec<OrgInvitation> = self
                .gh_org_invitations(&org)
                .await?
                .into_iter()
                .filter(|i| i.state == InvitationState::Pending)
                .collect();
            let teams = self.gh_teams(&org).await?;
            let mut team_states = Vec::new();
            for team in &teams {
                let mut repositories = Vec::new();
                for link in self.gh_team_repos(team).await? {
                    if let Some(repo) = repos.iter().find(|r| r.id == link.repo_id) {
                        repositories.push(json!({ "full_name": repo.full_name(), "permission": link.permission }));
                    }
                }
                let mut active = Vec::new();
                for m in self.gh_team_members(team).await? {
                    if let Some(user) = self.gh_user_by_id(m.user_id).await? {
                        active.push(user.login);
                    }
                }
                let mut pending = Vec::new();
                for inv in invitations.iter().filter(|i| i.open(now) && i.teams.iter().any(|t| t.team_id == team.id)) {
                    if let Some(user) = self.gh_user_by_id(inv.invitee_id).await? {
                        pending.push(user.login);
                    }
                }
                team_states.push(json!({
                    "slug": team.slug, "id": team.id, "name": team.name,
                    "repositories": repositories, "members": active, "pending": pending,
                }));
            }
            let mut invitation_states = Vec::new();
            for inv in &invitations {
                let login = self.gh_user_by_id(inv.invitee_id).await?.map(|u| u.login);
                let slugs: Vec<&str> = inv
                    .teams
                    .iter()
                    .filter_map(|t| teams.iter().find(|team| team.id == t.team_id).map(|team| team.slug.as_str()))
                    .collect();
                invitation_states.push(json!({
                    "id": inv.id, "login": login, "teams": slugs,
                    "created_at": inv.created_at, "expired": inv.expired(now),
                }));
            }
            out.push(json!({
                "login": org.login, "members": members, "teams": team_states, "invitations": invitation_states,
            }));
        }
        Ok(Value::Array(out))
    }
}

/// GitHub's `organization-simple` (webhook payloads, a team's organisation).
pub fn org_json(sb: &Sandbox, org: &User) -> Value {
    let login = &org.login;
    let api = |p: &str| sb.api_url(&format!("/orgs/{login}{p}"));
    json!({
        "login": login,
        "id": org.id,
        "node_id": format!("O_sandbox{}", org.id),
        "url": api(""),
        "repos_url": api("/repos"),
        "events_url": api("/events"),
        "hooks_url": api("/hooks"),
        "issues_url": api("/issues"),
        "members_url": api("/members{/member}"),
        "public_members_url": api("/public_members{/member}"),
        "avatar_url": sb.web_url(&format!("/avatars/{login}.svg")),
        "description": null,
    })
}

/// GitHub's `organization-full`, as in a full team.
fn org_full_json(sb: &Sandbox, org: &User) -> Value {
    let mut value = org_json(sb, org);
    let extra = json!({
        "name": org.name,
        "company": null,
        "blog": "",
        "location": null,
        "email": org.email,
        "twitter_username": null,
        "is_verified": false,
        "has_organization_projects": true,
        "has_repository_projects": true,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": sb.web_url(&format!("/{}", org.login)),
        "created_at": rfc3339(org.created_at),
        "updated_at": rfc3339(org.created_at),
        "archived_at": null,
        "type": "Organization",
    });
    if let (Some(a), Value::Object(b)) = (value.as_object_mut(), extra) {
        a.extend(b);
    }
    value
}

fn team_api_url(sb: &Sandbox, org: &User, team: &Team) -> String {
    sb.api_url(&format!("/organizations/{}/team/{}", org.id, team.id))
}

/// GitHub's team object (`GET /orgs/{org}/teams`, webhook payloads).
pub fn team_json(sb: &Sandbox, org: &User, team: &Team) -> Value {
    let url = team_api_url(sb, org, team);
    json!({
        "id": team.id,
        "node_id": format!("T_sandbox{}", team.id),
        "url": url,
        "html_url": sb.web_url(&format!("/orgs/{}/teams/{}", org.login, team.slug)),
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": team.privacy,
        "notification_setting": team.notification_setting,
        "permission": team.permission,
        "members_url": format!("{url}/members{{/member}}"),
        "repositories_url": format!("{url}/repos"),
        "parent": null,
    })
}

/// GitHub's `team-full` (`GET /orgs/{org}/teams/{team_slug}`, `POST /orgs/{org}/teams`).
pub fn team_full_json(sb: &Sandbox, org: &User, team: &Team, members_count: usize, repos_count: usize) -> Value {
    let mut value = team_json(sb, org, team);
    value["members_count"] = json!(members_count);
    value["repos_count"] = json!(repos_count);
    value["created_at"] = json!(rfc3339(team.created_at));
    value["updated_at"] = json!(rfc3339(team.created_at));
    value["organization"] = org_full_json(sb, org);
    value
}

/// GitHub's `organization-invitation`.
pub fn org_invitation_json(
    sb: &Sandbox,
    org: &User,
    inv: &OrgInvitation,
    invitee: &User,
    inviter: &User,
    now: i64,
) -> Value {
    let expired = inv.expired(now);
    json!({
        "id": inv.id,
        "node_id": format!("OI_sandbox{}", inv.id),
        "login": invitee.login,
        "email": null,
        "role": inv.role,
        "created_at": rfc3339(inv.created_at),
        "failed_at": if expired { json!(rfc3339(inv.created_at + ORG_INVITATION_TTL)) } else { Value::Null },
        "failed_reason": if expired { json!("Invitation expired") } else { Value::Null },
        "inviter": user_json(sb, inviter),
        "team_count": inv.teams.len(),
        "invitation_teams_url": sb.api_url(&format!("/organizations/{}/invitations/{}/teams", org.id, inv.id)),
        "invitation_source": "member",
    })
}

/// The answer of the team membership endpoints.
pub fn team_membership_json(sb: &Sandbox, org: &User, team: &Team, login: &str, role: &str, state: &str) -> Value {
    json!({
        "url": format!("{}/memberships/{login}", team_api_url(sb, org, team)),
        "role": role,
        "state": state,
    })
}

#[cfg(test)]
mod slug_tests {
    use super::slugify;

    #[test]
    fn github_slugs() {
        for (name, slug) in [
            ("Justice League", "justice-league"),
            ("justice-league", "justice-league"),
            ("My TEam Näme", "my-team-name"),
            ("  RepoPass: pro-kit (50 seats)! ", "repopass-pro-kit-50-seats"),
            ("a -- b", "a-b"),
            ("a/b@c", "a-b-c"),
            ("ops_team", "ops_team"),
            ("Straße", "strasse"),
            ("Ærø", "aero"),
            ("日本 team", "team"),
            ("Team 42", "team-42"),
            ("---", ""),
            ("", ""),
        ] {
            assert_eq!(slugify(name), slug, "{name:?}");
        }
    }

    #[test]
    fn names_that_differ_only_in_case_and_punctuation_share_a_slug() {
        assert_eq!(slugify("Pro Kit"), slugify("pro-kit"));
        assert_eq!(slugify("PRO  KIT!"), slugify("pro kit"));
    }
}
