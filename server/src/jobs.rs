//! A durable job queue in the database. A job is claimed with a lease
//! (`locked_until`): if the process dies mid-job the lease runs out and the
//! job is claimed again, so nothing is lost; handlers are written so that
//! running one twice changes nothing twice. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED`, so several processes never take the same job;
//! SQLite has one writer at a time, which gives the same guarantee.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    clock,
    db::Backend,
    domain::{Holder, JobStatus, PurchaseId, RepositoryId},
    Db, Result,
};

/// How long a claimed job is ours before another worker may take it over.
/// The worker renews it while the job runs (`renew`), so a short lease only
/// means that a killed process's jobs are taken over soon.
pub const LEASE_SECS: i64 = 30;
pub const DEFAULT_MAX_ATTEMPTS: i64 = 10;

/// What became of a job (or the event it processed).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    /// Nothing to do (not ours, or already done): the reason.
    Ignored(String),
}

/// Every kind of work the queue runs, with what it needs. Stored as the
/// `kind` column and the rest of the fields as the JSON `payload` (the
/// shape jobs had before this type, so queued jobs survive an upgrade).
/// The worker matches on it exhaustively: a new kind that is not handled
/// does not compile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A stored Stripe delivery to process.
    StripeEvent {
        webhook_event_id: i64,
    },
    /// A stored GitHub delivery to process.
    GithubEvent {
        webhook_event_id: i64,
    },
    /// The end of a failed renewal's grace period.
    GraceCheck {
        purchase_id: PurchaseId,
        subscription: String,
    },
    SendEmail {
        email_id: i64,
    },
    /// An account that must lose access RepoPass gave it (moved away).
    RemoveAccess(Holder),
    /// A purchase's repositories not granted yet: one added to its product,
    /// or one GitHub's limits made wait.
    Grant {
        purchase_id: PurchaseId,
    },
    /// A repository taken out of a product: the purchase loses it.
    RemoveGrant {
        purchase_id: PurchaseId,
        repository_id: RepositoryId,
    },
    /// A second purchase for an account that had access: cancel and refund.
    RefundDuplicate {
        purchase_id: PurchaseId,
    },
    RecoverStripeEvents,
    ExpireInvitations,
    Reconcile,
    /// Purchases whose period of access ran out lose access.
    EndAccessPeriods,
    /// Customers whose access ends in seven days or one are told.
    WarnAccessEnding,
    /// One attempt at sending an outgoing webhook (`outgoing_delivery`).
    DeliverWebhook {
        delivery_id: i64,
    },
    /// Outgoing webhook retries that came due on the clock of dated
    /// decisions (the sandbox's, moved ahead, in zero-config mode).
    RetryWebhooks,
    /// The creator's daily or weekly summary email (`creator_summary`).
    SendSummary,
    /// Every alert condition checked, and each alert settled (`alert_checks`).
    CheckAlerts,
    /// The day's backup of a SQLite database, verified, old ones pruned (`backups`).
    BackUp,
}

impl Job {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::StripeEvent { .. } => "stripe_event",
            Job::GithubEvent { .. } => "github_event",
            Job::GraceCheck { .. } => "grace_check",
            Job::SendEmail { .. } => "send_email",
            Job::RemoveAccess(_) => "remove_access",
            Job::Grant { .. } => "grant",
            Job::RemoveGrant { .. } => "remove_grant",
            Job::RefundDuplicate { .. } => "refund_duplicate",
            Job::RecoverStripeEvents => "recover_stripe_events",
            Job::ExpireInvitations => "expire_invitations",
            Job::Reconcile => "reconcile",
            Job::EndAccessPeriods => "end_access_periods",
            Job::WarnAccessEnding => "warn_access_ending",
            Job::DeliverWebhook { .. } => "deliver_webhook",
            Job::RetryWebhooks => "retry_webhooks",
            Job::SendSummary => "send_summary",
            Job::CheckAlerts => "check_alerts",
            Job::BackUp => "back_up",
        }
    }

    /// The `payload` column: every field but the kind.
    fn payload(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(fields) = value.as_object_mut() {
            fields.remove("kind");
        }
        value.to_string()
    }

    /// A stored job read back; a kind or payload this version does not know
    /// is an error naming both.
    pub fn read(kind: &str, payload: &str) -> std::result::Result<Job, String> {
        let mut value: Value = serde_json::from_str(payload).map_err(|e| format!("{kind} job payload: {e}"))?;
        match value.as_object_mut() {
            Some(fields) => {
                fields.insert("kind".into(), Value::String(kind.to_owned()));
            }
            None => return Err(format!("{kind} job payload is not an object")),
        }
        serde_json::from_value(value).map_err(|e| format!("{kind} job: {e}"))
    }

    /// The purchase this job works for, if one.
    pub fn purchase_id(&self) -> Option<PurchaseId> {
        match self {
            Job::GraceCheck { purchase_id, .. }
            | Job::Grant { purchase_id }
            | Job::RemoveGrant { purchase_id, .. }
            | Job::RefundDuplicate { purchase_id } => Some(*purchase_id),
            _ => None,
        }
    }

    /// The webhook delivery this job processes, if it processes one.
    pub fn webhook_event_id(&self) -> Option<i64> {
        match self {
            Job::StripeEvent { webhook_event_id } | Job::GithubEvent { webhook_event_id } => Some(*webhook_event_id),
            _ => None,
        }
    }
}

/// A job as claimed from the queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

impl Claimed {
    pub fn job(&self) -> std::result::Result<Job, String> {
        Job::read(&self.kind, &self.payload)
    }
}

/// Adds a job to run at `run_at` (unix seconds). With a `dedupe_key`, adding
/// the same work twice is a no-op. Returns the job id if one was added.
pub async fn enqueue<'e, E>(executor: E, job: &Job, run_at: i64, dedupe_key: Option<&str>) -> Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("{} RETURNING id", insert_sql(1, "DO NOTHING"));
    let row = bind_job(sqlx::query(&sql), job, run_at, dedupe_key, clock::now()).fetch_optional(executor).await?;
    Ok(row.map(|r| sqlx::Row::try_get::<i64, _>(&r, 0)).transpose()?)
}

/// Adds the job of `dedupe_key` to run at `run_at`, or brings the one
/// already waiting under that key forward to then (never later): for work
/// that comes due sooner than first planned (a retry due on a clock moved
/// ahead, a delivery whose turn came).
pub async fn enqueue_or_hurry<'e, E>(executor: E, job: &Job, run_at: i64, dedupe_key: &str) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = insert_sql(
        1,
        "DO UPDATE SET run_at = excluded.run_at, updated_at = excluded.updated_at
         WHERE jobs.status = $7 AND jobs.run_at > excluded.run_at",
    );
    bind_job(sqlx::query(&sql), job, run_at, Some(dedupe_key), clock::now()).execute(executor).await?;
    Ok(())
}

/// Adds several jobs, all to run at `run_at`, in one statement (each with
/// its dedupe key: one already queued is skipped).
pub async fn enqueue_all<'e, E>(executor: E, jobs: &[(Job, Option<String>)], run_at: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if jobs.is_empty() {
        return Ok(());
    }
    let sql = insert_sql(jobs.len(), "DO NOTHING");
    let now = clock::now();
    let mut insert = sqlx::query(&sql);
    for (job, dedupe_key) in jobs {
        insert = bind_job(insert, job, run_at, dedupe_key.as_deref(), now);
    }
    insert.execute(executor).await?;
    Ok(())
}

/// The INSERT of `rows` jobs, seven values a row (see `bind_job`), and
/// what a job whose dedupe key is taken does instead (`DO NOTHING`, …).
fn insert_sql(rows: usize, on_conflict: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            let b = i * 7;
            format!(
                "(${}, ${}, ${}, 0, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 7,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 6
            )
        })
        .collect();
    format!(
        "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at)
         VALUES {} ON CONFLICT (dedupe_key) {on_conflict}",
        values.join(", ")
    )
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// One job's seven values, in `insert_sql`'s order.
fn bind_job<'q>(query: AnyQuery<'q>, job: &Job, run_at: i64, dedupe_key: Option<&'q str>, now: i64) -> AnyQuery<'q> {
    query
        .bind(job.kind())
        .bind(job.payload())
        .bind(DEFAULT_MAX_ATTEMPTS)
        .bind(run_at)
        .bind(dedupe_key)
        .bind(now)
        .bind(JobStatus::Pending)
}

/// Takes the next due job (or one whose lease ran out), if any.
pub async fn claim(db: &Db) -> Result<Option<Claimed>> {
    Ok(claim_batch(db, 1).await?.into_iter().next())
}

/// Takes up to `max` jobs in one statement: those whose lease ran out
/// first, then the due ones, oldest first.
pub async fn claim_batch(db: &Db, max: usize) -> Result<Vec<Claimed>> {
    let _turn = db.write_turn().await;
    let now = clock::now();
    // Two probes, a lease run out first, each the first entries of one
    // range of the claim index (status, run_at, id). Written as one OR,
    // both databases read every due job — and PostgreSQL every job ever
    // run — and sorted them, on every claim: a backlog made each claim slower.
    let expired = "SELECT id FROM jobs WHERE status = $4 AND locked_until < $2 ORDER BY run_at, id LIMIT $5";
    let due = "SELECT id FROM jobs WHERE status = $3 AND run_at <= $2 ORDER BY run_at, id LIMIT $5";
    let ids = match db.backend() {
        // The ids collected once (a subquery under IN may be run again),
        // locked, and skipped by other workers' claims.
        Backend::Postgres => format!(
            "= ANY((ARRAY({expired} FOR UPDATE SKIP LOCKED) || ARRAY({due} FOR UPDATE SKIP LOCKED))[1:CAST($5 AS INTEGER)])"
        ),
        // One writer at a time: nothing to lock.
        Backend::Sqlite => {
            format!("IN (SELECT id FROM (SELECT id FROM ({expired}) UNION ALL SELECT id FROM ({due})) LIMIT $5)")
        }
    };
    let sql = format!(
        "UPDATE jobs SET status = $4, attempts = attempts + 1, locked_until = $1, updated_at = $2
         WHERE id {ids}
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    Ok(sqlx::query_as::<_, Claimed>(&sql)
        .bind(now + LEASE_SECS)
        .bind(now)
        .bind(JobStatus::Pending)
        .bind(JobStatus::Running)
        .bind(max.clamp(1, 100) as i64)
        .fetch_all(db.pool())
        .await?)
}

/// Extends the lease of a job still running under this claim (the claim's
/// `attempts` is its fencing token). False: the lease ran out and another
/// worker has claimed the job since.
pub async fn renew(db: &Db, job: &Claimed) -> Result<bool> {
    let _turn = db.write_turn().await;
    let now = clock::now();
    let renewed = sqlx::query(
        "UPDATE jobs SET locked_until = $2, updated_at = $3 WHERE id = $1 AND status = $5 AND attempts = $4",
    )
    .bind(job.id)
    .bind(now + LEASE_SECS)
    .bind(now)
    .bind(job.attempts)
    .bind(JobStatus::Running)
    .execute(db.pool())
    .await?;
    Ok(renewed.rows_affected() == 1)
}

pub async fn complete(db: &Db, id: i64) -> Result<()> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE jobs SET status = $3, locked_until = NULL, last_error = NULL, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(clock::now())
        .bind(JobStatus::Done)
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
pub async fn fail(db: &Db, job: &Claimed, error: &str, retry_in: Option<Duration>) -> Result<bool> {
    let _turn = db.write_turn().await;
    let now = clock::now();
    let dead = job.attempts >= job.max_attempts;
    let run_at = now + retry_in.unwrap_or_else(|| backoff(job.attempts)).as_secs() as i64;
    sqlx::query(
        "UPDATE jobs SET status = $2, run_at = $3, locked_until = NULL, last_error = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(job.id)
    .bind(if dead { JobStatus::Dead } else { JobStatus::Pending })
    .bind(run_at)
    .bind(error.chars().take(2000).collect::<String>())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(dead)
}

/// Ends a job that cannot succeed by retrying: `dead` at once, with why.
pub async fn bury(db: &Db, job: &Claimed, error: &str) -> Result<bool> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE jobs SET status = $4, locked_until = NULL, last_error = $2, updated_at = $3 WHERE id = $1")
        .bind(job.id)
        .bind(error.chars().take(2000).collect::<String>())
        .bind(clock::now())
        .bind(JobStatus::Dead)
        .execute(db.pool())
        .await?;
    Ok(true)
}

/// Waits `retry_in` without counting an attempt (e.g. GitHub's daily
/// invitation limit: waiting is the plan, not a failure).
pub async fn postpone(db: &Db, job: &Claimed, reason: &str, retry_in: Duration) -> Result<()> {
    let _turn = db.write_turn().await;
    let now = clock::now();
    sqlx::query("UPDATE jobs SET status = $5, attempts = attempts - 1, run_at = $2, locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1")
        .bind(job.id)
        .bind(now + retry_in.as_secs() as i64)
        .bind(reason)
        .bind(now)
        .bind(JobStatus::Pending)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An admin's retry of a dead job: a fresh set of attempts, now.
pub async fn retry_dead(db: &Db, id: i64) -> Result<bool> {
    let _turn = db.write_turn().await;
    let now = clock::now();
    let done = sqlx::query(
        "UPDATE jobs SET status = $3, attempts = 0, run_at = $2, updated_at = $2 WHERE id = $1 AND status = $4",
    )
    .bind(id)
    .bind(now)
    .bind(JobStatus::Pending)
    .bind(JobStatus::Dead)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobInfo {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
}

pub async fn dead(db: &Db) -> Result<Vec<JobInfo>> {
    Ok(sqlx::query_as("SELECT id, kind, payload, status, attempts, run_at, last_error FROM jobs WHERE status = $1 ORDER BY id DESC LIMIT 200")
        .bind(JobStatus::Dead)
        .fetch_all(db.pool())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_keep_the_stored_shape_and_read_back() {
        let grace = Job::GraceCheck { purchase_id: PurchaseId(7), subscription: "sub_1".into() };
        assert_eq!(grace.kind(), "grace_check");
        assert_eq!(grace.payload(), r#"{"purchase_id":7,"subscription":"sub_1"}"#);
        // Queued before jobs were typed: the same kind and payload read back.
        assert_eq!(Job::read("grace_check", r#"{"purchase_id":7,"subscription":"sub_1"}"#).unwrap(), grace);
        assert_eq!(Job::read("reconcile", "{}").unwrap(), Job::Reconcile);
        assert_eq!(Job::Reconcile.payload(), "{}");
        let holder = Holder {
            repository_id: crate::domain::RepositoryId(1),
            github_user_id: crate::domain::GithubUserId(2),
            github_login: "mona".into(),
            invitation_id: None,
            preexisting: false,
            team: None,
        };
        let remove = Job::RemoveAccess(holder);
        assert_eq!(Job::read(remove.kind(), &remove.payload()).unwrap(), remove);
        // Queued before `preexisting` existed.
        assert!(Job::read(
            "remove_access",
            r#"{"repository_id":1,"github_user_id":2,"github_login":"mona","invitation_id":null}"#
        )
        .is_ok());
        for job in [
            Job::StripeEvent { webhook_event_id: 3 },
            Job::SendEmail { email_id: 4 },
            Job::RefundDuplicate { purchase_id: PurchaseId(5) },
        ] {
            assert_eq!(Job::read(job.kind(), &job.payload()).unwrap(), job);
        }
        assert!(Job::read("mine_bitcoin", "{}").unwrap_err().contains("mine_bitcoin"));
        assert!(Job::read("send_email", "{}").unwrap_err().contains("email_id"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..20 {
            let d = super::backoff(attempt).as_secs() as i64;
            assert!(d >= 1 && d <= 2_i64.pow(attempt.min(12) as u32).min(3600), "{attempt}: {d}");
        }
    }
}
