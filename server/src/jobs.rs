//! A durable job queue in the database. A job is claimed with a lease
//! (`locked_until`): if the process dies mid-job the lease runs out and the
//! job is claimed again, so nothing is lost; handlers are written so that
//! running one twice changes nothing twice. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED`, so several processes never take the same job;
//! SQLite has one writer at a time, which gives the same guarantee.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use crate::{clock, db::Backend, Db, Result};

/// How long a claimed job is ours before another worker may take it over.
/// The worker renews it while the job runs (`renew`), so a short lease only
/// means that a killed process's jobs are taken over soon.
pub const LEASE_SECS: i64 = 30;
pub const DEFAULT_MAX_ATTEMPTS: i64 = 10;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

impl Job {
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// Adds a job to run at `run_at` (unix seconds). With a `dedupe_key`, adding
/// the same work twice is a no-op. Returns the job id if one was added.
pub async fn enqueue<'e, E>(
    executor: E,
    kind: &str,
    payload: &Value,
    run_at: i64,
    dedupe_key: Option<&str>,
) -> Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = clock::now();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at)
         VALUES ($1, $2, 'pending', 0, $3, $4, $5, $6, $6)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(run_at)
    .bind(dedupe_key)
    .bind(now)
    .fetch_optional(executor)
    .await?;
    Ok(id)
}

/// Takes the next due job (or one whose lease ran out), if any.
pub async fn claim(db: &Db) -> Result<Option<Job>> {
    let now = clock::now();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
         WHERE id = (SELECT id FROM jobs
                     WHERE (status = 'pending' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
                     ORDER BY run_at, id LIMIT 1 {lock})
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    Ok(sqlx::query_as::<_, Job>(&sql).bind(now + LEASE_SECS).bind(now).fetch_optional(db.pool()).await?)
}

/// Extends the lease of a job still running under this claim (the claim's
/// `attempts` is its fencing token). False: the lease ran out and another
/// worker has claimed the job since.
pub async fn renew(db: &Db, job: &Job) -> Result<bool> {
    let now = clock::now();
    let renewed = sqlx::query(
        "UPDATE jobs SET locked_until = $2, updated_at = $3 WHERE id = $1 AND status = 'running' AND attempts = $4",
    )
    .bind(job.id)
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(job.attempts)
    .execute(db.pool())
    .await?;
    Ok(renewed.rows_affected() == 1)
}

pub async fn complete(db: &Db, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'done', locked_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Exponential backoff with full jitter: up to 2^attempt seconds, capped at
/// an hour, never under a second.
pub fn backoff(attempt: i64) -> Duration {
    let cap = 2_i64.saturating_pow(attempt.clamp(0, 12) as u32).min(3600);
    Duration::from_secs(rand::rng().random_range(1..=cap.max(1)) as u64)
}

/// A failed attempt: retried later (`retry_in`, or the backoff), or `dead`
/// with its last error once it has used its attempts.
pub async fn fail(db: &Db, job: &Job, error: &str, retry_in: Option<Duration>) -> Result<bool> {
    let now = clock::now();
    let dead = job.attempts >= job.max_attempts;
    let run_at = now + retry_in.unwrap_or_else(|| backoff(job.attempts)).as_secs() as i64;
    sqlx::query(
        "UPDATE jobs SET status = $2, run_at = $3, locked_until = NULL, last_error = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(job.id)
    .bind(if dead { "dead" } else { "pending" })
    .bind(run_at)
    .bind(error.chars().take(2000).collect::<String>())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(dead)
}

/// Ends a job that cannot succeed by retrying: `dead` at once, with why.
pub async fn bury(db: &Db, job: &Job, error: &str) -> Result<bool> {
    sqlx::query("UPDATE jobs SET status = 'dead', locked_until = NULL, last_error = $2, updated_at = $3 WHERE id = $1")
        .bind(job.id)
        .bind(error.chars().take(2000).collect::<String>())
        .bind(clock::now())
        .execute(db.pool())
        .await?;
    Ok(true)
}

/// Waits `retry_in` without counting an attempt (e.g. GitHub's daily
/// invitation limit: waiting is the plan, not a failure).
pub async fn postpone(db: &Db, job: &Job, reason: &str, retry_in: Duration) -> Result<()> {
    let now = clock::now();
    sqlx::query("UPDATE jobs SET status = 'pending', attempts = attempts - 1, run_at = $2, locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1")
        .bind(job.id)
        .bind(now + retry_in.as_secs() as i64)
        .bind(reason)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An admin's retry of a dead job: a fresh set of attempts, now.
pub async fn retry_dead(db: &Db, id: i64) -> Result<bool> {
    let now = clock::now();
    let done = sqlx::query("UPDATE jobs SET status = 'pending', attempts = 0, run_at = $2, updated_at = $2 WHERE id = $1 AND status = 'dead'")
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobInfo {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
}

pub async fn dead(db: &Db) -> Result<Vec<JobInfo>> {
    Ok(sqlx::query_as("SELECT id, kind, payload, status, attempts, run_at, last_error FROM jobs WHERE status = 'dead' ORDER BY id DESC LIMIT 200")
        .fetch_all(db.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..20 {
            let d = super::backoff(attempt).as_secs() as i64;
            assert!(d >= 1 && d <= 2_i64.pow(attempt.min(12) as u32).min(3600), "{attempt}: {d}");
        }
    }
}
