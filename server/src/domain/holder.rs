//! Whose access on which repository.

/// Whose access on which repository: what GitHub calls need of a purchase
/// (also kept in a job's payload when a moved-away account still has to go).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    pub repository_id: super::RepositoryId,
    pub github_user_id: super::GithubUserId,
    pub github_login: String,
    pub invitation_id: Option<i64>,
    /// The account had access before RepoPass was involved: GitHub is left
    /// as it is whatever happens to the purchase. (Absent from jobs queued
    /// before this field existed: those accounts were RepoPass's.)
    #[serde(default)]
    pub preexisting: bool,
    /// Access through this team's membership rather than as a collaborator
    /// (one holder for every repository of the team).
    #[serde(default)]
    pub team: Option<GithubTeam>,
}

/// A GitHub team a product grants its repositories through (team access):
/// its organisation, its slug (what the API names it by) and its id (what
/// webhooks carry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GithubTeam {
    pub org: String,
    pub slug: String,
    pub id: i64,
}

impl GithubTeam {
    /// `org/slug`, as GitHub names a team.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.org, self.slug)
    }
}
