//! Repositories on sale: added from the ones the GitHub connection
//! administers, described by the creator, published when ready.

use crate::{
    clock,
    domain::{GithubState, IntBool, RepositoryId, RepositoryStatus},
    Db, Error, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Repository {
    pub id: RepositoryId,
    pub github_repo_id: i64,
    pub owner: String,
    pub name: String,
    #[sqlx(try_from = "IntBool")]
    pub owner_is_org: bool,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description_md: String,
    pub cover_image: Option<String>,
    pub status: RepositoryStatus,
    pub github_state: GithubState,
    pub stripe_product_id: Option<String>,
}

const COLUMNS: &str = "id, github_repo_id, owner, name, owner_is_org, slug, title, summary, description_md, cover_image, status, github_state, stripe_product_id";

/// What a new listing starts from: the GitHub repository.
#[derive(Debug, Clone)]
pub struct NewRepository {
    pub github_repo_id: i64,
    pub owner: String,
    pub name: String,
    pub owner_is_org: bool,
    pub description: Option<String>,
}

/// The creator's edits.
#[derive(Debug, Clone)]
pub struct Details {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description_md: String,
}

/// A URL-safe slug suggested from a repository name: `My_Repo.rs` → `my-repo-rs`.
pub fn suggest_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(60).collect()
}

pub fn check_slug(slug: &str) -> Result<()> {
    let ok = (2..=60).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("slug", "use 2 to 60 lowercase letters, digits and single hyphens, e.g. pro-kit"))
    }
}

fn check_details(d: &Details) -> Result<()> {
    check_slug(&d.slug)?;
    if d.title.trim().is_empty() || d.title.chars().count() > 120 {
        return Err(Error::invalid("title", "give the page a title of 1 to 120 characters"));
    }
    if d.summary.chars().count() > 280 {
        return Err(Error::invalid("summary", "keep the summary to 280 characters; the description holds the rest"));
    }
    if d.description_md.len() > 100_000 {
        return Err(Error::invalid("description", "the description is too long (100 000 characters at most)"));
    }
    Ok(())
}

fn slug_taken(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation() && e.message().contains("slug"))
        || matches!(err, sqlx::Error::Database(e) if e.is_unique_violation() && e.constraint().is_some_and(|c| c.contains("slug")))
}

/// Adds a draft listing for a GitHub repository (once per repository).
pub async fn add(db: &Db, repo: &NewRepository) -> Result<Repository> {
    add_with(db, repo, None).await
}

/// Adds a listing; with `details` they are used as given (a taken slug is
/// refused), without them the slug is suggested and numbered if taken.
pub async fn add_with(db: &Db, repo: &NewRepository, details: Option<&Details>) -> Result<Repository> {
    if let Some(d) = details {
        check_details(d)?;
    }
    let now = clock::now();
    let mut slug = details.map(|d| d.slug.clone()).unwrap_or_else(|| suggest_slug(&repo.name));
    if slug.len() < 2 {
        slug = format!("repo-{}", repo.github_repo_id);
    }
    let title = details.map(|d| d.title.trim().to_owned()).unwrap_or_else(|| repo.name.clone());
    let summary = details
        .map(|d| d.summary.trim().to_owned())
        .unwrap_or_else(|| repo.description.clone().unwrap_or_default().chars().take(280).collect());
    let description = details.map(|d| d.description_md.clone()).unwrap_or_default();
    // A second listing of the same GitHub repository is refused; a clash
    // on a suggested slug gets a numbered suffix.
    let attempts = if details.is_some() { 1 } else { 20 };
    for attempt in 0..attempts {
        let candidate = if attempt == 0 { slug.clone() } else { format!("{slug}-{}", attempt + 1) };
        let inserted = sqlx::query_scalar::<_, RepositoryId>(
            "INSERT INTO repositories (github_repo_id, owner, name, owner_is_org, slug, title, summary, description_md, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9) RETURNING id",
        )
        .bind(repo.github_repo_id)
        .bind(&repo.owner)
        .bind(&repo.name)
        .bind(repo.owner_is_org as i64)
        .bind(&candidate)
        .bind(&title)
        .bind(&summary)
        .bind(&description)
        .bind(now)
        .bind(RepositoryStatus::Draft)
        .fetch_one(db.pool())
        .await;
        match inserted {
            Ok(id) => return get(db, id).await,
            Err(e) if slug_taken(&e) && details.is_some() => {
                return Err(Error::invalid(
                    "slug",
                    format!("'{candidate}' is taken by another repository; choose another"),
                ))
            }
            Err(e) if slug_taken(&e) => continue,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::invalid(
                    "repository",
                    format!("{}/{} is already on RepoPass", repo.owner, repo.name),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::invalid("slug", "could not find a free slug; choose one by hand"))
}

pub async fn get(db: &Db, id: RepositoryId) -> Result<Repository> {
    Ok(sqlx::query_as::<_, Repository>(&format!("SELECT {COLUMNS} FROM repositories WHERE id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?)
}

pub async fn list(db: &Db) -> Result<Vec<Repository>> {
    Ok(sqlx::query_as::<_, Repository>(&format!("SELECT {COLUMNS} FROM repositories ORDER BY status = $1, title, id"))
        .bind(RepositoryStatus::Archived)
        .fetch_all(db.pool())
        .await?)
}

pub async fn update(db: &Db, id: RepositoryId, details: &Details) -> Result<Repository> {
    check_details(details)?;
    let done = sqlx::query("UPDATE repositories SET slug = $2, title = $3, summary = $4, description_md = $5, updated_at = $6 WHERE id = $1")
        .bind(id)
        .bind(&details.slug)
        .bind(details.title.trim())
        .bind(details.summary.trim())
        .bind(&details.description_md)
        .bind(clock::now())
        .execute(db.pool())
        .await;
    match done {
        Ok(r) if r.rows_affected() == 0 => Err(Error::NotFound),
        Ok(_) => get(db, id).await,
        Err(e) if slug_taken(&e) => {
            Err(Error::invalid("slug", format!("'{}' is taken by another repository; choose another", details.slug)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves the page to `to`, if the creator may from where it is (see
/// `RepositoryStatus::can_move_to`); asking for the status it already has
/// changes nothing.
pub async fn set_status(db: &Db, id: RepositoryId, to: RepositoryStatus) -> Result<Repository> {
    let current = get(db, id).await?;
    if current.status == to {
        return Ok(current);
    }
    if !current.status.can_move_to(to) {
        let moves: Vec<&str> = current.status.moves().into_iter().map(RepositoryStatus::as_str).collect();
        return Err(Error::invalid(
            "status",
            format!("this repository is {}; from there it can become {}", current.status, moves.join(" or ")),
        ));
    }
    let done = sqlx::query("UPDATE repositories SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4")
        .bind(id)
        .bind(to)
        .bind(clock::now())
        .bind(current.status)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::invalid("status", "the repository was changed meanwhile; reload and try again"));
    }
    get(db, id).await
}

/// A status as the creator asks for it, refused with the choices if unknown
/// (a draft is never asked for: every page starts as one).
pub fn parse_status(raw: &str) -> Result<RepositoryStatus> {
    match raw.trim().parse::<RepositoryStatus>() {
        Ok(RepositoryStatus::Draft) | Err(_) => {
            Err(Error::invalid("status", "choose published, unpublished or archived"))
        }
        Ok(status) => Ok(status),
    }
}

/// Records what GitHub says of a repository on sale (and, when renamed or
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(suggest_slug("My_Repo.rs"), "my-repo-rs");
        assert_eq!(suggest_slug("--pro--kit--"), "pro-kit");
        assert!(check_slug("pro-kit").is_ok());
        for bad in ["a", "Pro-Kit", "pro--kit", "-pro", "pro kit", "prö"] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
