//! Backups of a SQLite database on a schedule: once a day (on the clock of
//! dated decisions, so the sandbox's clock moved a day ahead takes the
//! next one) into `REPOPASS_BACKUP_DIR`, each checked by opening the copy
//! and running SQLite's integrity check, keeping the last
//! `REPOPASS_BACKUP_KEEP`. A backup older than two days is an alert
//! (`alert_checks`). PostgreSQL has its own tools (README "Backups"):
//! nothing runs there.

use std::path::{Path, PathBuf};

use sqlx::Connection;

use crate::{dated_clock, db::Backend, domain::BackupStatus, jobs::Outcome, AppState, Db, Error, Result};

const DAY: i64 = 86_400;

/// The day slot a scheduled backup is due in, if backups run here.
pub fn slot(state: &AppState, dated_now: i64) -> Option<i64> {
    (state.db.backend() == Backend::Sqlite && state.config.backups.enabled()).then(|| dated_now.div_euclid(DAY))
}

/// One backup as listed (Settings, `repopass doctor`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Backup {
    pub id: i64,
    pub path: String,
    pub taken_at: i64,
    pub bytes: i64,
    pub status: BackupStatus,
    pub detail: String,
}

/// The `back_up` job: today's backup, unless one was verified today.
pub async fn scheduled(state: &AppState) -> Result<Outcome> {
    let now = dated_clock::now(state).await?;
    if slot(state, now).is_none() {
        return Ok(Outcome::Ignored("backups are off, or the database is PostgreSQL".into()));
    }
    if last_verified(&state.db).await?.is_some_and(|b| b.taken_at.div_euclid(DAY) == now.div_euclid(DAY)) {
        return Ok(Outcome::Ignored("today's backup is taken".into()));
    }
    let backup = take(state).await?;
    match backup.status {
        BackupStatus::Verified => Ok(Outcome::Processed),
        // Recorded, and the alert says so when it is two days old; the job
        // is not retried ten times into a full disk.
        _ => Ok(Outcome::Ignored(format!("backup failed: {}", backup.detail))),
    }
}

/// Takes a backup now, verifies it, prunes the oldest beyond the number
/// kept; the record says how it went (a failure is a record too).
pub async fn take(state: &AppState) -> Result<Backup> {
    if state.db.backend() != Backend::Sqlite {
        return Err(Error::invalid(
            "backup",
            "RepoPass backs up SQLite only: on PostgreSQL use pg_dump or your host's backups (README, Backups)",
        ));
    }
    let now = dated_clock::now(state).await?;
    let dir = &state.config.backups.dir;
    let name = chrono::DateTime::from_timestamp(now, 0)
        .map(|t| t.format("repopass-%Y%m%d-%H%M%S").to_string())
        .unwrap_or_else(|| format!("repopass-{now}"));
    let mut path = dir.join(format!("{name}.db"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{name}-{n}.db"));
    }
    let (status, bytes, detail) = match state.db.backup_into(&path).await {
        Err(e) => (BackupStatus::Failed, 0, e.to_string()),
        Ok(()) => {
            let bytes = std::fs::metadata(&path).map(|m| m.len() as i64).unwrap_or(0);
            match verify(&path).await {
                Ok(purchases) => (BackupStatus::Verified, bytes, format!("integrity ok; {purchases} purchases")),
                Err(why) => {
                    // A copy that does not pass is no backup: not kept to be trusted later.
                    let _ = std::fs::remove_file(&path);
                    (BackupStatus::Failed, bytes, why)
                }
            }
        }
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO backups (path, taken_at, bytes, status, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(path.display().to_string())
    .bind(now)
    .bind(bytes)
    .bind(status)
    .bind(&detail)
    .fetch_one(state.db.pool())
    .await?;
    if status == BackupStatus::Verified {
        tracing::info!(path = %path.display(), bytes, "backup taken and verified");
        prune(&state.db, state.config.backups.keep.max(1) as i64).await?;
    } else {
        tracing::error!(path = %path.display(), %detail, "backup failed");
    }
    Ok(Backup { id, path: path.display().to_string(), taken_at: now, bytes, status, detail })
}

/// Opens the copy on its own (read-only) and asks SQLite whether every
/// page and index is sound; returns how many purchases it holds.
pub async fn verify(path: &Path) -> std::result::Result<i64, String> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await.map_err(|e| format!("the copy does not open: {e}"))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("the integrity check did not run: {e}"))?;
    if verdict != ["ok"] {
        return Err(format!("the integrity check found: {}", verdict.join("; ")));
    }
    let purchases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| format!("the copy has no purchases table: {e}"))?;
    let _ = conn.close().await;
    Ok(purchases)
}

/// Deletes the verified backups beyond the newest `keep` (newest by id:
/// the sandbox's clock may be moved back by a reset, the order of taking not).
async fn prune(db: &Db, keep: i64) -> Result<usize> {
    let old: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, path FROM backups WHERE status = $1 ORDER BY id DESC LIMIT -1 OFFSET $2")
            .bind(BackupStatus::Verified)
            .bind(keep)
            .fetch_all(db.pool())
            .await?;
    for (id, path) in &old {
        match std::fs::remove_file(PathBuf::from(path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(%path, error = %e, "an old backup could not be deleted");
                continue;
            }
        }
        sqlx::query("UPDATE backups SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(BackupStatus::Pruned)
            .execute(db.pool())
            .await?;
    }
    Ok(old.len())
}

pub async fn last_verified(db: &Db) -> Result<Option<Backup>> {
    Ok(sqlx::query_as(
        "SELECT id, path, taken_at, bytes, status, detail FROM backups WHERE status = $1 ORDER BY taken_at DESC, id DESC LIMIT 1",
    )
    .bind(BackupStatus::Verified)
    .fetch_optional(db.pool())
    .await?)
}

/// The latest backups, newest first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<Backup>> {
    Ok(sqlx::query_as("SELECT id, path, taken_at, bytes, status, detail FROM backups ORDER BY id DESC LIMIT $1")
        .bind(limit.clamp(1, 100))
        .fetch_all(db.pool())
        .await?)
}
