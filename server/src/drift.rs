//! The drift report's rows: what reconciliation found different between
//! RepoPass's purchases and a repository's collaborators on GitHub.

use crate::{clock, db::Db, domain::DriftKind, Result};

/// A drift finding, for the creator.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Drift {
    pub id: i64,
    pub repository_id: i64,
    pub kind: DriftKind,
    pub github_user_id: i64,
    pub github_login: String,
    pub purchase_id: Option<i64>,
    pub detail: String,
    pub detected_at: i64,
}

/// One finding before it is stored.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: DriftKind,
    pub github_user_id: i64,
    pub github_login: String,
    pub purchase_id: Option<i64>,
    pub detail: String,
}

const COLUMNS: &str = "id, repository_id, kind, github_user_id, github_login, purchase_id, detail, detected_at";

/// Replaces a repository's findings with the latest reconciliation's, at once.
pub async fn replace(db: &Db, repository_id: i64, findings: &[Finding]) -> Result<()> {
    let now = clock::now();
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM drift WHERE repository_id = $1").bind(repository_id).execute(&mut *tx).await?;
    for f in findings {
        sqlx::query("INSERT INTO drift (repository_id, kind, github_user_id, github_login, purchase_id, detail, detected_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(repository_id)
            .bind(f.kind)
            .bind(f.github_user_id)
            .bind(&f.github_login)
            .bind(f.purchase_id)
            .bind(&f.detail)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<Drift>> {
    let sql = format!("SELECT {COLUMNS} FROM drift ORDER BY repository_id, kind, github_login");
    Ok(sqlx::query_as(&sql).fetch_all(db.pool()).await?)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Drift>> {
    let sql = format!("SELECT {COLUMNS} FROM drift WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db.pool()).await?)
}

pub async fn delete(db: &Db, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM drift WHERE id = $1").bind(id).execute(db.pool()).await?;
    Ok(())
}
