//! The admin check for the plain HTTP routes of the admin panel (the SSE
//! stream, the CSV export); server functions have theirs in `app`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use server::{
    session_user::{self, AdminCheck},
    AppState,
};
use tower_sessions::Session;

/// `Err` with the response to send unless the session is a current admin's.
pub async fn require_admin(state: &AppState, session: &Session) -> Result<i64, Response> {
    match session_user::admin(session, &state.db, &state.config).await {
        Ok(AdminCheck::Admin(_, admin)) => Ok(admin.id),
        Ok(AdminCheck::NotAdmin(_)) => Err((StatusCode::FORBIDDEN, "You are not allowed to do that.").into_response()),
        Ok(AdminCheck::SignedOut) => Err((StatusCode::UNAUTHORIZED, "Please sign in.").into_response()),
        Err(err) => {
            tracing::error!(error = %err, "admin check failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, "RepoPass could not check your session; try again in a moment.")
                .into_response())
        }
    }
}
