//! The worker: takes jobs from the queue and runs them, inside `repopass
//! serve` and alone as `repopass worker`. A job that fails is retried with
//! backoff; one that keeps failing ends `dead`, visible with its last error.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use crate::{
    github_events, jobs,
    lifecycle::{self, Outcome},
    webhooks, AppState, Error, Result,
};

/// Wakes the worker when this process enqueued something, so a webhook is
/// processed at once instead of at the next poll.
#[derive(Clone, Default, Debug)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

const IDLE_POLL: Duration = Duration::from_millis(500);

/// The longest one job may run. Every call inside has its own timeout; this
/// bounds the sum.
pub const JOB_LIMIT: Duration = Duration::from_secs(90);

/// How often a running job's lease is renewed: three times a lease, so one
/// slow renewal does not lose it.
const HEARTBEAT: Duration = Duration::from_secs(jobs::LEASE_SECS as u64 / 3);

/// Runs jobs until the process ends, and schedules the periodic ones.
pub async fn run(state: AppState, wake: Wake) {
    tracing::debug!("worker started");
    // The first periodic slot a minute after start: a process (or a test)
    // starting up is not also reconciling every repository in its first second.
    let mut next_schedule = crate::clock::now() + 60;
    loop {
        if crate::clock::now() >= next_schedule {
            if let Err(e) = crate::scheduled::schedule(&state).await {
                tracing::warn!(error = %e, "periodic jobs not scheduled");
            }
            next_schedule = crate::clock::now() + 60;
        }
        match run_once(&state).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "the job queue is not reachable"),
        }
        tokio::select! {
            _ = wake.0.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Runs one due job, if there is one. True when a job ran.
pub async fn run_once(state: &AppState) -> Result<bool> {
    let Some(job) = jobs::claim(&state.db).await? else { return Ok(false) };
    let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
    let work = tokio::time::timeout(JOB_LIMIT, tracing::Instrument::instrument(dispatch(state, &job), span));
    let outcome = tokio::select! {
        outcome = work => match outcome {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Unavailable(format!("the job did not finish within {} s; it will be tried again", JOB_LIMIT.as_secs()))),
        },
        () = keep_lease(state, &job) => {
            // Another worker owns it now; stopping here is like a crash at
            // this point, which every job is written to survive.
            tracing::warn!(job = job.id, kind = %job.kind, "lease lost while running; the job was left to the worker that took it over");
            return Ok(true);
        }
    };
    match outcome {
        Ok(outcome) => {
            jobs::complete(&state.db, job.id).await?;
            tracing::info!(job = job.id, kind = %job.kind, ?outcome, "job done");
        }
        Err(Error::Later { message, after_secs }) => {
            tracing::info!(job = job.id, %message, after_secs, "job postponed");
            jobs::postpone(&state.db, &job, &message, Duration::from_secs(after_secs)).await?;
        }
        Err(e) => {
            // A refusal that retrying cannot change (GitHub: no such user or
            // repository) stops at once, visible with its reason; anything
            // else is retried with backoff until its attempts run out.
            let permanent = matches!(e, Error::Invalid { .. } | Error::InvalidFields(_));
            let dead = if permanent {
                jobs::bury(&state.db, &job, &e.to_string()).await?
            } else {
                jobs::fail(&state.db, &job, &e.to_string(), None).await?
            };
            if let Some(id) = webhook_event_id(&job) {
                webhooks::mark(&state.db, id, if dead { "dead" } else { "failed" }, Some(&e.to_string())).await?;
            }
            if dead {
                tracing::error!(job = job.id, kind = %job.kind, error = %e, "job dead after its last attempt");
            } else {
                tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed; will retry");
            }
        }
    }
    Ok(true)
}

/// Renews the job's lease every `HEARTBEAT` while it runs; returns only if
/// the lease was lost (another worker claimed the job meanwhile).
async fn keep_lease(state: &AppState, job: &jobs::Job) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is now: the claim just set the lease
    loop {
        tick.tick().await;
        match jobs::renew(&state.db, job).await {
            Ok(true) => {}
            Ok(false) => return,
            // The database may be back before the lease runs out.
            Err(e) => tracing::warn!(job = job.id, error = %e, "could not renew the job's lease"),
        }
    }
}

fn counted(n: usize, what: &str) -> Outcome {
    if n == 0 {
        Outcome::Ignored(format!("no {what}"))
    } else {
        Outcome::Processed
    }
}

fn webhook_event_id(job: &jobs::Job) -> Option<i64> {
    job.payload()["webhook_event_id"].as_i64()
}

async fn dispatch(state: &AppState, job: &jobs::Job) -> Result<Outcome> {
    let payload = job.payload();
    match job.kind.as_str() {
        "stripe_event" | "github_event" => {
            let id = webhook_event_id(job).ok_or_else(|| Error::Internal("job without webhook_event_id".into()))?;
            let stored = webhooks::get(&state.db, id).await?;
            let outcome = if stored.provider == "stripe" {
                lifecycle::handle(state, &stored.event_id, &stored.event_type, &stored.payload).await
            } else {
                github_events::handle(state, &stored.event_id, &stored.event_type, &stored.payload).await
            };
            match &outcome {
                Ok(Outcome::Processed) => webhooks::mark(&state.db, id, "processed", None).await?,
                Ok(Outcome::Ignored(why)) => webhooks::mark(&state.db, id, "ignored", Some(why)).await?,
                Err(_) => {}
            }
            outcome
        }
        "grace_check" => {
            let id = payload["purchase_id"]
                .as_i64()
                .ok_or_else(|| Error::Internal("grace_check without purchase_id".into()))?;
            let sub = payload["subscription"].as_str().unwrap_or_default().to_owned();
            lifecycle::grace_check(state, id, &sub).await
        }
        "send_email" => {
            let id =
                payload["email_id"].as_i64().ok_or_else(|| Error::Internal("send_email without email_id".into()))?;
            crate::emails::send(state, id).await.map(|()| Outcome::Processed)
        }
        "remove_access" => {
            let holder: crate::access::Holder = serde_json::from_value(payload.clone())
                .map_err(|e| Error::Internal(format!("remove_access payload: {e}")))?;
            crate::access::remove_from_github(state, &holder).await.map(|()| Outcome::Processed)
        }
        crate::duplicate_purchases::JOB => {
            let id = payload["purchase_id"]
                .as_i64()
                .ok_or_else(|| Error::Internal("refund_duplicate without purchase_id".into()))?;
            crate::duplicate_purchases::refund(state, id).await
        }
        "recover_stripe_events" => {
            crate::scheduled::recover_stripe_events(state).await.map(|n| counted(n, "events recovered"))
        }
        "expire_invitations" => {
            crate::scheduled::expire_invitations(state).await.map(|n| counted(n, "invitations expired"))
        }
        "reconcile" => crate::scheduled::reconcile(state).await.map(|n| counted(n, "drift findings")),
        other => Err(Error::Internal(format!("unknown job kind {other}"))),
    }
}
