//! A purchase's access to each repository of its product, one grant per
//! repository: its invitation, its acceptance, its removal. Grants change
//! only with their purchase, in `purchase_state::transition` (one
//! transaction, one access-log entry); here they are read, and a grant to
//! do is made.

use std::collections::HashMap;

use crate::{
    clock,
    columns::Value,
    domain::{AccessOrigin, GithubUserId, GrantStatus, Holder, PurchaseId, PurchaseStatus, Reason, RepositoryId},
    purchases::Purchase,
    Db, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Grant {
    pub purchase_id: PurchaseId,
    pub repository_id: RepositoryId,
    pub github_user_id: GithubUserId,
    pub status: GrantStatus,
    /// Why a waiting grant waits, for people; the code for decisions.
    pub status_reason: Option<String>,
    pub status_reason_code: Option<Reason>,
    /// Whether RepoPass made this access on GitHub or found it there.
    pub github_access: AccessOrigin,
    pub github_invitation_id: Option<i64>,
    pub invitation_url: Option<String>,
    pub invited_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub removed_at: Option<i64>,
    /// When RepoPass last asked GitHub to invite for this grant, and for
    /// which account.
    pub invite_attempted_at: Option<i64>,
    pub invite_attempted_user: Option<i64>,
}

const COLUMNS: &str = "purchase_id, repository_id, github_user_id, status, status_reason, status_reason_code, github_access, github_invitation_id, invitation_url, invited_at, activated_at, removed_at, invite_attempted_at, invite_attempted_user";

impl Grant {
    /// Whose access this grant is, for the GitHub calls that remove it.
    pub fn holder(&self, login: &str) -> Holder {
        Holder {
            repository_id: self.repository_id,
            github_user_id: self.github_user_id,
            github_login: login.to_owned(),
            invitation_id: self.github_invitation_id,
            preexisting: self.github_access == AccessOrigin::Preexisting,
            team: None,
        }
    }
}

/// A repository a purchase grants, with where its access stands (`None`:
/// not granted yet, e.g. before payment).
#[derive(Debug, Clone)]
pub struct RepoGrant {
    /// `owner/name`.
    pub full_name: String,
    pub grant: Option<Grant>,
}

impl RepoGrant {
    /// The product's repositories, each with the purchase's grant.
    pub fn list(product: &crate::products::Product, grants: &[Grant]) -> Vec<RepoGrant> {
        product
            .repositories
            .iter()
            .map(|i| RepoGrant {
                full_name: i.repository.full_name(),
                grant: grants.iter().find(|g| g.repository_id == i.repository.id).cloned(),
            })
            .collect()
    }

    /// The link to accept this repository's invitation, while it waits.
    pub fn invitation_url(&self) -> Option<&str> {
        self.grant.as_ref().filter(|g| g.status == GrantStatus::Invited).and_then(|g| g.invitation_url.as_deref())
    }

    /// Where this repository's access stands, in words for its buyer and
    /// creator.
    pub fn words(&self) -> String {
        let Some(g) = &self.grant else { return "not granted yet".to_owned() };
        match g.status {
            GrantStatus::Waiting => match &g.status_reason {
                Some(why) => why.clone(),
                None => "invitation on its way".to_owned(),
            },
            GrantStatus::Invited if g.invitation_url.is_some() => "invited: accept the invitation on GitHub".to_owned(),
            GrantStatus::Invited => "invited: the invitation expired, resend it".to_owned(),
            GrantStatus::Active => "access active".to_owned(),
            GrantStatus::Removed => "access removed".to_owned(),
        }
    }
}

/// One grant's change, applied with its purchase's (`Change::grant`): from
/// the status the caller saw to `to`, with the columns that go with it.
#[derive(Debug, Clone)]
pub struct Update {
    pub repository_id: RepositoryId,
    pub from: GrantStatus,
    pub to: GrantStatus,
    pub set: Vec<(&'static str, Value)>,
}

impl Update {
    pub fn new(grant: &Grant, to: GrantStatus) -> Self {
        Update { repository_id: grant.repository_id, from: grant.status, to, set: Vec::new() }
    }

    pub fn set(mut self, column: &'static str, value: Value) -> Self {
        self.set.push((column, value));
        self
    }

    pub fn set_all(mut self, columns: impl IntoIterator<Item = (&'static str, Value)>) -> Self {
        self.set.extend(columns);
        self
    }
}

/// Where a granted purchase stands given its grants (the removed ones
/// aside): `invited` while an invitation waits to be accepted, `active`
/// once nothing is left to accept, `paid` while every grant waits to be
/// sent. `None`: no grant to go by.
pub fn purchase_status(grants: impl IntoIterator<Item = GrantStatus>) -> Option<PurchaseStatus> {
    let live: Vec<GrantStatus> = grants.into_iter().filter(|s| *s != GrantStatus::Removed).collect();
    if live.is_empty() {
        None
    } else if live.contains(&GrantStatus::Invited) {
        Some(PurchaseStatus::Invited)
    } else if live.contains(&GrantStatus::Active) {
        Some(PurchaseStatus::Active)
    } else {
        Some(PurchaseStatus::Paid)
    }
}

/// The purchase's grants, in the order of its product's repositories.
pub async fn of_purchase(db: &Db, purchase_id: PurchaseId) -> Result<Vec<Grant>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM grants WHERE purchase_id = $1 ORDER BY repository_id"))
        .bind(purchase_id)
        .fetch_all(db.pool())
        .await?)
}

/// The grants of several purchases at once (the customer pages).
pub async fn of_purchases(db: &Db, ids: &[PurchaseId]) -> Result<HashMap<PurchaseId, Vec<Grant>>> {
    let mut out: HashMap<PurchaseId, Vec<Grant>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM grants WHERE purchase_id IN ({}) ORDER BY purchase_id, repository_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, Grant>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    for grant in query.fetch_all(db.pool()).await? {
        out.entry(grant.purchase_id).or_default().push(grant);
    }
    Ok(out)
}

/// The purchase's grant on `repository_id`, made (waiting) if it has none.
pub async fn ensure(db: &Db, p: &Purchase, repository_id: RepositoryId) -> Result<Grant> {
    let now = clock::now();
    sqlx::query(
        "INSERT INTO grants (purchase_id, repository_id, github_user_id, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (purchase_id, repository_id) DO NOTHING",
    )
    .bind(p.id)
    .bind(repository_id)
    .bind(p.github_user_id)
    .bind(GrantStatus::Waiting)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM grants WHERE purchase_id = $1 AND repository_id = $2"))
        .bind(p.id)
        .bind(repository_id)
        .fetch_one(db.pool())
        .await?)
}

/// A removed grant made a grant to do again (nothing on GitHub changes
/// until it is sent).
pub async fn reopen(db: &Db, grant: &Grant) -> Result<()> {
    sqlx::query(
        "UPDATE grants SET status = $3, removed_at = NULL, updated_at = $4
         WHERE purchase_id = $1 AND repository_id = $2 AND status = $5",
    )
    .bind(grant.purchase_id)
    .bind(grant.repository_id)
    .bind(GrantStatus::Waiting)
    .bind(clock::now())
    .bind(GrantStatus::Removed)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Another purchase through which `user` holds access to `repository_id`
/// now (two products may share a repository): its access is left alone
/// when this one's ends, and this one's grant rides on it.
pub async fn held_elsewhere(
    db: &Db,
    repository_id: RepositoryId,
    user: GithubUserId,
    except: PurchaseId,
) -> Result<Option<Grant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants g WHERE repository_id = $1 AND github_user_id = $2 AND purchase_id <> $3
           AND status IN ($4, $5)
           AND EXISTS (SELECT 1 FROM purchases p WHERE p.id = g.purchase_id AND p.status IN ($6, $7))
         ORDER BY purchase_id LIMIT 1"
    ))
    .bind(repository_id)
    .bind(user)
    .bind(except)
    .bind(GrantStatus::Invited)
    .bind(GrantStatus::Active)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .fetch_optional(db.pool())
    .await?)
}

/// `user`'s grants not removed, on products that grant through the GitHub
/// team `team_id` (what GitHub's `membership` events are about).
pub async fn of_team_and_user(db: &Db, team_id: i64, user: i64) -> Result<Vec<Grant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants g WHERE github_user_id = $2 AND status <> $3
           AND EXISTS (SELECT 1 FROM purchases p JOIN products pr ON pr.id = p.product_id
                       WHERE p.id = g.purchase_id AND pr.github_team_id = $1)
         ORDER BY purchase_id, repository_id"
    ))
    .bind(team_id)
    .bind(user)
    .bind(GrantStatus::Removed)
    .fetch_all(db.pool())
    .await?)
}

/// `user`'s grant on the repository GitHub numbers `github_repo_id`: the
/// one giving access if any, else the latest.
pub async fn of_github_repository_and_user(db: &Db, github_repo_id: i64, user: i64) -> Result<Option<Grant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants WHERE github_user_id = $2
           AND repository_id = (SELECT id FROM repositories WHERE github_repo_id = $1)
         ORDER BY (status IN ($3, $4)) DESC, purchase_id DESC LIMIT 1"
    ))
    .bind(github_repo_id)
    .bind(user)
    .bind(GrantStatus::Invited)
    .bind(GrantStatus::Active)
    .fetch_optional(db.pool())
    .await?)
}

/// The grants giving access to a repository now, of purchases that do.
pub async fn live_in(db: &Db, repository_id: RepositoryId) -> Result<Vec<Grant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants g WHERE repository_id = $1 AND status IN ($2, $3)
           AND EXISTS (SELECT 1 FROM purchases p WHERE p.id = g.purchase_id AND p.status IN ($4, $5))
         ORDER BY purchase_id"
    ))
    .bind(repository_id)
    .bind(GrantStatus::Invited)
    .bind(GrantStatus::Active)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .fetch_all(db.pool())
    .await?)
}

/// Invitations sent before `cutoff` and still waiting to be accepted.
pub async fn invited_before(db: &Db, cutoff: i64) -> Result<Vec<Grant>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM grants WHERE status = $2 AND invited_at < $1 AND invitation_url IS NOT NULL
         ORDER BY purchase_id, repository_id"
    ))
    .bind(cutoff)
    .bind(GrantStatus::Invited)
    .fetch_all(db.pool())
    .await?)
}

/// How many grants of `repository_id` wait to be sent (queued behind
/// GitHub's limits), for the creator's editor.
pub async fn waiting_in(db: &Db, repository_id: RepositoryId) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM grants g WHERE repository_id = $1 AND status = $2
           AND EXISTS (SELECT 1 FROM purchases p WHERE p.id = g.purchase_id AND p.status IN ($3, $4, $5))",
    )
    .bind(repository_id)
    .bind(GrantStatus::Waiting)
    .bind(PurchaseStatus::Paid)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .fetch_one(db.pool())
    .await?)
}

/// Records that an invitation for `user` is being asked of GitHub now, so a
/// retry after a crash knows what it finds there is its own.
pub async fn record_invite_attempt(db: &Db, grant: &Grant, user: GithubUserId) -> Result<()> {
    sqlx::query(
        "UPDATE grants SET invite_attempted_at = $3, invite_attempted_user = $4 WHERE purchase_id = $1 AND repository_id = $2",
    )
    .bind(grant.purchase_id)
    .bind(grant.repository_id)
    .bind(clock::now())
    .bind(user)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Says why a grant waits (queued behind a limit, or refused), while it
/// still waits.
pub async fn note_reason(db: &Db, grant: &Grant, code: Reason, message: &str) -> Result<()> {
    sqlx::query(
        "UPDATE grants SET status_reason = $3, status_reason_code = $4
         WHERE purchase_id = $1 AND repository_id = $2 AND status = $5",
    )
    .bind(grant.purchase_id)
    .bind(grant.repository_id)
    .bind(message)
    .bind(code)
    .bind(GrantStatus::Waiting)
    .execute(db.pool())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::purchase_status;
    use crate::domain::{GrantStatus::*, PurchaseStatus};

    #[test]
    fn a_purchase_is_active_once_nothing_is_left_to_accept() {
        assert_eq!(purchase_status([]), None);
        assert_eq!(purchase_status([Removed, Removed]), None);
        assert_eq!(purchase_status([Waiting, Waiting]), Some(PurchaseStatus::Paid));
        assert_eq!(purchase_status([Active, Invited]), Some(PurchaseStatus::Invited));
        assert_eq!(purchase_status([Waiting, Invited]), Some(PurchaseStatus::Invited));
        assert_eq!(purchase_status([Active, Active, Removed]), Some(PurchaseStatus::Active));
        // A repository queued behind GitHub's limit does not hide what was accepted.
        assert_eq!(purchase_status([Active, Waiting]), Some(PurchaseStatus::Active));
    }
}
