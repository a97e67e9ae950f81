//! The admin gate for the plain HTTP routes of the admin panel (the SSE
//! stream, the CSV export, cover uploads), said as HTTP; the rule is
//! `server::session_user::require_admin`, which server functions ask too.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use server::{
    session_user::{self, NotAdmin},
    AppState,
};
use tower_sessions::Session;

/// `Err` with the response to send unless the session is a current admin's.
pub async fn require_admin(state: &AppState, session: &Session) -> Result<i64, Response> {
    match session_user::require_admin(session, &state.db, &state.config).await {
        Ok(Ok((_, admin))) => Ok(admin.id),
        Ok(Err(NotAdmin::Refused)) => Err((StatusCode::FORBIDDEN, "You are not allowed to do that.").into_response()),
        Ok(Err(NotAdmin::SignedOut)) => Err((StatusCode::UNAUTHORIZED, "Please sign in.").into_response()),
        Err(err) => {
            tracing::error!(error = %err, "admin check failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, "RepoPass could not check your session; try again in a moment.")
                .into_response())
        }
    }
}
