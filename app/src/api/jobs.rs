//! Jobs that gave up, and the admin's retry (the events page of issue 8
//! shows them; the server functions exist from the start).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A job that used all its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadJob {
    pub id: i64,
    pub kind: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

#[server(endpoint = "admin/jobs/dead")]
pub async fn dead_jobs() -> Result<Vec<DeadJob>, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::jobs::dead(&state.db)
        .await?
        .into_iter()
        .map(|j| DeadJob { id: j.id, kind: j.kind, attempts: j.attempts, last_error: j.last_error })
        .collect())
}

/// Gives a dead job a fresh set of attempts, now.
#[server(endpoint = "admin/jobs/retry")]
pub async fn retry_job(id: i64) -> Result<bool, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let retried = server::jobs::retry_dead(&state.db, id).await?;
    if retried {
        state.wake.notify();
    }
    Ok(retried)
}
