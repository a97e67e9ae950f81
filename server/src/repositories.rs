//! The GitHub repositories RepoPass manages and what GitHub last said of
//! each. What is sold is a product (`products`), which grants one or more
//! of them, each with its access level.

use std::collections::HashMap;

use crate::{
    clock,
    domain::{GithubState, IntBool, ProductId, RepositoryId},
    Db, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Repository {
    pub id: RepositoryId,
    pub github_repo_id: i64,
    pub owner: String,
    pub name: String,
    #[sqlx(try_from = "IntBool")]
    pub owner_is_org: bool,
    pub github_state: GithubState,
}

impl Repository {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// A repository as a product grants it.
#[derive(Debug, Clone)]
pub struct Included {
    pub repository: Repository,
    /// The access level on this repository; `None`: the price's (what every
    /// product made before products had several repositories says).
    pub permission: Option<String>,
}

/// A repository as GitHub describes it, before RepoPass manages it.
#[derive(Debug, Clone)]
pub struct NewRepository {
    pub github_repo_id: i64,
    pub owner: String,
    pub name: String,
    pub owner_is_org: bool,
    pub description: Option<String>,
}

const COLUMNS: &str = "r.id, r.github_repo_id, r.owner, r.name, r.owner_is_org, r.github_state";

/// The repository's row, made on first use; GitHub's id is the key (a
/// repository renamed since is recorded under its new name).
pub(crate) async fn find_or_add(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    repo: &NewRepository,
) -> Result<RepositoryId> {
    let now = clock::now();
    Ok(sqlx::query_scalar(
        "INSERT INTO repositories (github_repo_id, owner, name, owner_is_org, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (github_repo_id) DO UPDATE SET owner = excluded.owner, name = excluded.name, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(repo.github_repo_id)
    .bind(&repo.owner)
    .bind(&repo.name)
    .bind(repo.owner_is_org as i64)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// Adds `repository` to what `product` grants.
pub(crate) async fn include(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    product: ProductId,
    repository: RepositoryId,
    permission: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO product_repositories (product_id, repository_id, permission, added_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(product)
    .bind(repository)
    .bind(permission)
    .bind(clock::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: RepositoryId) -> Result<Repository> {
    Ok(sqlx::query_as::<_, Repository>(&format!("SELECT {COLUMNS} FROM repositories r WHERE r.id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?)
}

/// Every repository some product grants (the ones RepoPass watches).
pub async fn sold(db: &Db) -> Result<Vec<Repository>> {
    Ok(sqlx::query_as::<_, Repository>(&format!(
        "SELECT {COLUMNS} FROM repositories r
         WHERE EXISTS (SELECT 1 FROM product_repositories pr WHERE pr.repository_id = r.id)
         ORDER BY r.owner, r.name, r.id"
    ))
    .fetch_all(db.pool())
    .await?)
}

/// The product that sells the GitHub repository, if one does.
pub async fn sold_in(db: &Db, github_repo_id: i64) -> Result<Option<ProductId>> {
    Ok(sqlx::query_scalar(
        "SELECT pr.product_id FROM product_repositories pr JOIN repositories r ON r.id = pr.repository_id
         WHERE r.github_repo_id = $1 ORDER BY pr.product_id LIMIT 1",
    )
    .bind(github_repo_id)
    .fetch_optional(db.pool())
    .await?)
}

#[derive(sqlx::FromRow)]
struct IncludedRow {
    product_id: ProductId,
    permission: Option<String>,
    #[sqlx(flatten)]
    repository: Repository,
}

const INCLUDED: &str =
    "SELECT pr.product_id, pr.permission, r.id, r.github_repo_id, r.owner, r.name, r.owner_is_org, r.github_state
     FROM product_repositories pr JOIN repositories r ON r.id = pr.repository_id";

/// What the product grants, in the order the repositories were added.
pub async fn of_product(db: &Db, product: ProductId) -> Result<Vec<Included>> {
    let rows =
        sqlx::query_as::<_, IncludedRow>(&format!("{INCLUDED} WHERE pr.product_id = $1 ORDER BY pr.added_at, r.id"))
            .bind(product)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|r| Included { repository: r.repository, permission: r.permission }).collect())
}

/// What every product grants (one query for a whole list).
pub async fn by_product(db: &Db) -> Result<HashMap<ProductId, Vec<Included>>> {
    let rows = sqlx::query_as::<_, IncludedRow>(&format!("{INCLUDED} ORDER BY pr.product_id, pr.added_at, r.id"))
        .fetch_all(db.pool())
        .await?;
    let mut by_product: HashMap<ProductId, Vec<Included>> = HashMap::new();
    for r in rows {
        by_product
            .entry(r.product_id)
            .or_default()
            .push(Included { repository: r.repository, permission: r.permission });
    }
    Ok(by_product)
}

/// Records what GitHub says of a repository RepoPass manages (and, when renamed or
/// moved, where it is now). The number of repositories changed (0: not ours).
pub async fn set_github_state(
    db: &Db,
    github_repo_id: i64,
    github_state: GithubState,
    moved_to: Option<(&str, &str)>,
) -> Result<u64> {
    let done = match moved_to {
        Some((owner, name)) => sqlx::query(
            "UPDATE repositories SET owner = $3, name = $4, github_state = $2, updated_at = $5 WHERE github_repo_id = $1",
        )
        .bind(github_repo_id)
        .bind(github_state)
        .bind(owner)
        .bind(name)
        .bind(clock::now()),
        None => sqlx::query("UPDATE repositories SET github_state = $2, updated_at = $3 WHERE github_repo_id = $1")
            .bind(github_repo_id)
            .bind(github_state)
            .bind(clock::now()),
    };
    Ok(done.execute(db.pool()).await?.rows_affected())
}

/// GitHub's access to every repository of `owner` was lost (`AccessLost`)
/// or came back (`Ok`); a deleted repository stays deleted. The number changed.
pub async fn set_owner_state(db: &Db, owner: &str, to: GithubState) -> Result<u64> {
    let (sql, from) = match to {
        GithubState::Ok => (
            "UPDATE repositories SET github_state = $3, updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state = $4",
            GithubState::AccessLost,
        ),
        _ => (
            "UPDATE repositories SET github_state = $3, updated_at = $2 WHERE LOWER(owner) = LOWER($1) AND github_state <> $4",
            GithubState::Deleted,
        ),
    };
    Ok(sqlx::query(sql).bind(owner).bind(clock::now()).bind(to).bind(from).execute(db.pool()).await?.rows_affected())
}

/// Every repository's `owner/name`, by id (the access log's references).
pub async fn names(db: &Db) -> Result<HashMap<RepositoryId, String>> {
    let rows: Vec<(RepositoryId, String, String)> =
        sqlx::query_as("SELECT id, owner, name FROM repositories").fetch_all(db.pool()).await?;
    Ok(rows.into_iter().map(|(id, owner, name)| (id, format!("{owner}/{name}"))).collect())
}
