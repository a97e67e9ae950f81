//! The time dated decisions are taken at (a period's start and end, the
//! warnings before it): the system clock, moved by the sandbox's clock in
//! zero-config mode, so that moving the sandbox a year ahead is seen here
//! as it is by its Stripe and GitHub.

use crate::{clock, AppState, Result};

pub async fn now(state: &AppState) -> Result<i64> {
    if !state.config.sandbox {
        return Ok(clock::now());
    }
    let offset: Option<String> = sqlx::query_scalar("SELECT value FROM sandbox_state WHERE key = $1")
        .bind("clock_offset")
        .fetch_optional(state.db.pool())
        .await?;
    Ok(clock::now() + offset.and_then(|o| o.parse::<i64>().ok()).unwrap_or(0))
}
