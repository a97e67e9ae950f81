//! Who is signed in, as kept in the session (tower-sessions, stored in the
//! database). Shared by the HTTP sign-in routes and the server functions.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub const USER_KEY: &str = "user";
pub const OAUTH_STATE_KEY: &str = "oauth_state";
pub const OAUTH_NEXT_KEY: &str = "oauth_next";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionUser {
    pub github_user_id: i64,
    pub login: String,
    pub avatar_url: String,
    /// Set when this person may use `/admin`.
    pub admin_id: Option<i64>,
}

/// The signed-in user, if any. A session that cannot be read counts as
/// signed out (and is logged), never as an error page.
pub async fn current(session: &Session) -> Option<SessionUser> {
    match session.get::<SessionUser>(USER_KEY).await {
        Ok(user) => user,
        Err(err) => {
            tracing::warn!(error = %err, "unreadable session");
            None
        }
    }
}
