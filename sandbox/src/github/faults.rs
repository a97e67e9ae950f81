//! Armed failures for the GitHub stand-in: the next N API calls answer 500,
//! a 403 rate limit, or hang past the client's timeout. This is how tests
//! and people check RepoPass's retries.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::api::gh_error;
use crate::{Error, Sandbox};

const KEY: &str = "faults:github";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    ServerError,
    RateLimit,
    Timeout,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Armed {
    pub fault: Fault,
    pub remaining: u32,
}

pub async fn arm(sb: &Sandbox, fault: Fault, count: u32) -> Result<(), Error> {
    let armed = Armed { fault, remaining: count };
    sb.store().set_setting(KEY, &serde_json::to_string(&armed).map_err(|e| Error::Internal(e.to_string()))?).await
}

pub async fn current(sb: &Sandbox) -> Result<Option<Armed>, Error> {
    Ok(sb.store().setting(KEY).await?.and_then(|v| serde_json::from_str::<Armed>(&v).ok()).filter(|a| a.remaining > 0))
}

/// Takes one armed fault, if any.
async fn take(sb: &Sandbox) -> Result<Option<Fault>, Error> {
    let Some(mut armed) = current(sb).await? else { return Ok(None) };
    armed.remaining -= 1;
    arm(sb, armed.fault, armed.remaining).await?;
    Ok(Some(armed.fault))
}

pub async fn inject(State(sb): State<Sandbox>, request: Request, next: Next) -> Response {
    match take(&sb).await {
        Ok(None) => next.run(request).await,
        Ok(Some(Fault::ServerError)) => {
            gh_error(StatusCode::INTERNAL_SERVER_ERROR, "Server Error", "overview/resources-in-the-rest-api")
        }
        Ok(Some(Fault::RateLimit)) => {
            let reset = server::clock::now() + 1;
            let mut response = gh_error(
                StatusCode::FORBIDDEN,
                "API rate limit exceeded for user ID 1. [sandbox]",
                "overview/rate-limits-for-the-rest-api",
            );
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", 5000.into());
            headers.insert("x-ratelimit-remaining", 0.into());
            headers.insert("x-ratelimit-used", 5000.into());
            headers.insert("x-ratelimit-reset", reset.into());
            headers.insert("retry-after", 1.into());
            response
        }
        Ok(Some(Fault::Timeout)) => {
            // Longer than any sane client timeout; the client gives up first.
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Err(err) => err.into_response(),
    }
}
