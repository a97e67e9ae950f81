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
}
