//! Products: what is sold — a page (slug, title, description, cover), its
//! prices, and the GitHub repositories a purchase grants. Added from a
//! repository the GitHub connection administers, described by the creator,
//! published when ready.

use crate::{
    clock,
    domain::{GithubTeam, ProductId, ProductStatus, WebhookEventType},
    repositories::{self, Included, NewRepository},
    Db, Error, Result,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Product {
    pub id: ProductId,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description_md: String,
    pub cover_image: Option<String>,
    pub status: ProductStatus,
    pub stripe_product_id: Option<String>,
    /// The GitHub team its access goes through (`None`: collaborators).
    #[sqlx(flatten)]
    pub team: TeamColumns,
    /// What a purchase grants, in the order the creator added them.
    #[sqlx(skip)]
    pub repositories: Vec<Included>,
}

/// The product's GitHub team, as stored (all three set, or none).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TeamColumns {
    github_team_org: Option<String>,
    github_team_slug: Option<String>,
    github_team_id: Option<i64>,
}

impl Product {
    /// The GitHub team its holders are members of, when it grants through one.
    pub fn team(&self) -> Option<GithubTeam> {
        let t = &self.team;
        Some(GithubTeam { org: t.github_team_org.clone()?, slug: t.github_team_slug.clone()?, id: t.github_team_id? })
    }

    /// "owner/name" of each repository, for lists and logs.
    pub fn full_names(&self) -> Vec<String> {
        self.repositories.iter().map(|i| i.repository.full_name()).collect()
    }

    /// The repository a purchase of this product is granted on. A product
    /// has exactly one until grants are kept per repository (issue 20,
    /// part 2): the editor cannot add a second yet.
    pub fn sole_repository(&self) -> Result<&Included> {
        match self.repositories.as_slice() {
            [only] => Ok(only),
            [] => Err(Error::invalid("product", format!("{} grants no repository; add one first", self.title))),
            _ => Err(Error::Internal(format!("product {} grants several repositories", self.id))),
        }
    }

    /// The owner of its (first) repository: GitHub accounts are looked up
    /// through that installation (any installation sees users).
    pub fn lookup_owner(&self) -> &str {
        self.repositories.first().map(|i| i.repository.owner.as_str()).unwrap_or_default()
    }

    /// Whether every repository is one GitHub lets RepoPass manage.
    pub fn reachable(&self) -> bool {
        self.repositories.iter().all(|i| !i.repository.github_state.is_unreachable())
    }
}

const COLUMNS: &str = "id, slug, title, summary, description_md, cover_image, status, stripe_product_id, github_team_org, github_team_slug, github_team_id";

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

/// Adds a draft product for a GitHub repository (once per repository).
pub async fn add(db: &Db, repo: &NewRepository) -> Result<Product> {
    add_with(db, repo, None).await
}

/// Adds a product of one repository; with `details` they are used as given
/// (a taken slug is refused), without them the slug is suggested from the
/// repository's name and numbered if taken. A repository already sold in a
/// product is refused here: that is for the product's editor.
pub async fn add_with(db: &Db, repo: &NewRepository, details: Option<&Details>) -> Result<Product> {
    if let Some(d) = details {
        check_details(d)?;
    }
    if repositories::sold_in(db, repo.github_repo_id).await?.is_some() {
        return Err(Error::invalid("repository", format!("{}/{} is already on RepoPass", repo.owner, repo.name)));
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
    // A clash on a suggested slug gets a numbered suffix.
    let attempts = if details.is_some() { 1 } else { 20 };
    for attempt in 0..attempts {
        let candidate = if attempt == 0 { slug.clone() } else { format!("{slug}-{}", attempt + 1) };
        let mut tx = db.pool().begin().await?;
        let repository = repositories::find_or_add(&mut tx, repo).await?;
        let inserted = sqlx::query_scalar::<_, ProductId>(
            "INSERT INTO products (slug, title, summary, description_md, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&candidate)
        .bind(&title)
        .bind(&summary)
        .bind(&description)
        .bind(ProductStatus::Draft)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        match inserted {
            Ok(id) => {
                repositories::include(&mut tx, id, repository, None).await?;
                tx.commit().await?;
                return get(db, id).await;
            }
            Err(e) if slug_taken(&e) && details.is_some() => {
                return Err(Error::invalid(
                    "slug",
                    format!("'{candidate}' is taken by another product; choose another"),
                ))
            }
            Err(e) if slug_taken(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::invalid("slug", "could not find a free slug; choose one by hand"))
}

pub async fn get(db: &Db, id: ProductId) -> Result<Product> {
    let mut product = sqlx::query_as::<_, Product>(&format!("SELECT {COLUMNS} FROM products WHERE id = $1"))
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    product.repositories = repositories::of_product(db, id).await?;
    Ok(product)
}

/// Every product, archived ones last, each with its repositories.
pub async fn list(db: &Db) -> Result<Vec<Product>> {
    let mut products =
        sqlx::query_as::<_, Product>(&format!("SELECT {COLUMNS} FROM products ORDER BY status = $1, title, id"))
            .bind(ProductStatus::Archived)
            .fetch_all(db.pool())
            .await?;
    let mut included = repositories::by_product(db).await?;
    for p in &mut products {
        p.repositories = included.remove(&p.id).unwrap_or_default();
    }
    Ok(products)
}

pub async fn update(db: &Db, id: ProductId, details: &Details) -> Result<Product> {
    check_details(details)?;
    let done = sqlx::query(
        "UPDATE products SET slug = $2, title = $3, summary = $4, description_md = $5, updated_at = $6 WHERE id = $1",
    )
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
            Err(Error::invalid("slug", format!("'{}' is taken by another product; choose another", details.slug)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves the page to `to`, if the creator may from where it is (see
/// `ProductStatus::can_move_to`); asking for the status it already has
/// changes nothing.
pub async fn set_status(db: &Db, id: ProductId, to: ProductStatus) -> Result<Product> {
    let current = get(db, id).await?;
    if current.status == to {
        return Ok(current);
    }
    if to == ProductStatus::Published && current.repositories.is_empty() {
        return Err(Error::invalid(
            "status",
            "this product grants no repository yet: add one before putting it on sale",
        ));
    }
    if !current.status.can_move_to(to) {
        let moves: Vec<&str> = current.status.moves().into_iter().map(ProductStatus::as_str).collect();
        return Err(Error::invalid(
            "status",
            format!("this product is {}; from there it can become {}", current.status, moves.join(" or ")),
        ));
    }
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query("UPDATE products SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4")
        .bind(id)
        .bind(to)
        .bind(clock::now())
        .bind(current.status)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::invalid("status", "the product was changed meanwhile; reload and try again"));
    }
    // On sale or off sale, as the creator's tools hear it.
    let event = match (current.status == ProductStatus::Published, to == ProductStatus::Published) {
        (false, true) => Some(WebhookEventType::ProductPublished),
        (true, false) => Some(WebhookEventType::ProductUnpublished),
        _ => None,
    };
    if let Some(event) = event {
        crate::outgoing_events::record_product(&mut tx, id, event).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// A status as the creator asks for it, refused with the choices if unknown
/// (a draft is never asked for: every page starts as one).
pub fn parse_status(raw: &str) -> Result<ProductStatus> {
    match raw.trim().parse::<ProductStatus>() {
        Ok(ProductStatus::Draft) | Err(_) => Err(Error::invalid("status", "choose published, unpublished or archived")),
        Ok(status) => Ok(status),
    }
}

/// Records the GitHub team a product grants through (`None`: collaborators again).
pub async fn set_team(db: &Db, id: ProductId, team: Option<&GithubTeam>) -> Result<()> {
    sqlx::query(
        "UPDATE products SET github_team_org = $2, github_team_slug = $3, github_team_id = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(team.map(|t| t.org.as_str()))
    .bind(team.map(|t| t.slug.as_str()))
    .bind(team.map(|t| t.id))
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok(())
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
