//! The admin check for the plain HTTP routes of the admin panel (the SSE
//! stream, the CSV export); server functions have theirs in `app`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use server::{admins, session_user, AppState};
use tower_sessions::Session;

/// `Err` with the response to send unless the session is a current admin's.
pub async fn require_admin(state: &AppState, session: &Session) -> Result<i64, Response> {
    let Some(user) = session_user::current(session).await else { return Err((StatusCode::UNAUTHORIZED, "Please sign in.").into_response()) };
    let admin = match user.admin_id {
        // Re-checked against the database: a removed admin loses access at once.
        Some(id) => admins::by_id(&state.db, id).await.ok().flatten(),
        None => None,
    };
    admin.map(|a| a.id).ok_or_else(|| (StatusCode::FORBIDDEN, "You are not allowed to do that.").into_response())
}
