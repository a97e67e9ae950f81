//! One connection pool for SQLite (default) or PostgreSQL, chosen by
//! `DATABASE_URL`. Queries go through sqlx's `Any` driver so that the SQL is
//! written once; each backend has its own migration directory because the
//! dialects differ in DDL.

use std::{str::FromStr, sync::Arc, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::{Migrate, Migrator},
    AnyPool, Connection as _, Executor,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database a connection talks to, where only the connection is at
    /// hand (inside a caller's transaction).
    pub fn of(connection: &sqlx::AnyConnection) -> Self {
        if connection.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// Why `repopass backup` made no copy, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this is a PostgreSQL database: use pg_dump (or your host's snapshots), see README \"Backups\"")]
    Postgres,
    #[error("{0} already exists: give a new file name, RepoPass does not overwrite a backup")]
    Exists(String),
    #[error("cannot create {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("the copy failed: {0}")]
    Query(sqlx::Error),
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: see `write_turn`.
    turns: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A connection idle this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

impl Db {
    /// Opens the pool. A SQLite file (and its directory) is created on first
    /// use and switched to WAL; nothing is migrated here.
    pub async fn connect(url: &SecretString) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        if backend == Backend::Sqlite {
            create_sqlite_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url).map_err(DbError::Connect)?;
        // One direct connection first: a pool only reports "timed out", while
        // this surfaces the real cause (refused, unknown host, bad password).
        let probe = tokio::time::timeout(Duration::from_secs(10), sqlx::AnyConnection::connect_with(&options))
            .await
            .map_err(|_| DbError::Connect(sqlx::Error::PoolTimedOut))?
            .map_err(DbError::Connect)?;
        probe.close().await.map_err(DbError::Connect)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings every connection it hands out: a round trip before
            // each statement (13 % of a grant burst's CPU on PostgreSQL,
            // measured). A connection used a moment ago is alive; one idle
            // for a while (a restarted database, a dropped socket) is still
            // checked, and replaced when it fails.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; FULL
                        // sync because a webhook acknowledged is a promise.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        let turns = (backend == Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Db { pool, backend, turns })
    }

    /// SQLite has one writer at a time. The busiest writers (the webhook
    /// intake, the job queue) take turns here, in the order they asked,
    /// instead of in SQLite's busy handler, which sleeps up to 100 ms
    /// between tries; other writers (and other processes) still wait there.
    /// Held for one transaction, never across a call that takes it again.
    /// Nothing on PostgreSQL, where writers run side by side.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.turns {
            Some(turns) => Some(turns.lock().await),
            None => None,
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration (idempotent; safe from several
    /// processes at once, sqlx takes a lock).
    pub async fn migrate(&self) -> Result<(), DbError> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Versions known to this binary but not yet applied to the database.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, DbError> {
        let mut conn = self.pool.acquire().await?;
        conn.ensure_migrations_table().await?;
        let applied = conn.list_applied_migrations().await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .filter(|v| !applied.iter().any(|a| a.version == *v))
            .collect())
    }

    /// A consistent copy of a SQLite database into a new file at `target`,
    /// taken while RepoPass keeps serving (`VACUUM INTO` reads one snapshot;
    /// writers carry on beside it under WAL). PostgreSQL has its own tools.
    pub async fn backup_into(&self, target: &std::path::Path) -> Result<(), BackupError> {
        if self.backend != Backend::Sqlite {
            return Err(BackupError::Postgres);
        }
        if target.exists() {
            return Err(BackupError::Exists(target.display().to_string()));
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| BackupError::Write { path: dir.display().to_string(), source })?;
        }
        let path = target.to_str().ok_or_else(|| BackupError::Exists(format!("{} (not UTF-8)", target.display())))?;
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await.map_err(BackupError::Query)?;
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_dir(url: &str) -> Result<(), DbError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir { path: dir.display().to_string(), source })?;
    }
    Ok(())
}
