//! Who is asking: the signed-in user from the session, for server functions.

use leptos::prelude::*;

use crate::{error::AppError, types::Viewer};

/// The signed-in person, if any (for the header and the sign-in prompts).
#[server(endpoint = "session/viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    let user = ssr::user().await?;
    Ok(user.map(|u| Viewer { login: u.login, avatar_url: u.avatar_url, is_admin: u.admin_id.is_some() }))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use server::session_user::{self, SessionUser};
    use tower_sessions::Session;

    use crate::error::AppError;

    pub async fn user() -> Result<Option<SessionUser>, AppError> {
        let session: Session = leptos_axum::extract().await.map_err(|e| {
            tracing::error!(error = %e, "no session layer");
            AppError::Internal
        })?;
        Ok(session_user::current(&session).await)
    }

    /// The signed-in admin, or the error a non-admin gets (401 or 403).
    pub async fn require_admin() -> Result<(server::AppState, SessionUser), AppError> {
        let user = user().await?.ok_or_else(|| refuse(AppError::Unauthorized))?;
        let admin_id = user.admin_id.ok_or_else(|| refuse(AppError::Forbidden))?;
        let state = super::super::state()?;
        // Re-checked against the database: a removed admin loses access at once.
        server::admins::by_id(&state.db, admin_id).await?.ok_or_else(|| refuse(AppError::Forbidden))?;
        Ok((state, user))
    }

    /// Sets the HTTP status that goes with a refusal.
    fn refuse(err: AppError) -> AppError {
        let status = match err {
            AppError::Unauthorized => http::StatusCode::UNAUTHORIZED,
            _ => http::StatusCode::FORBIDDEN,
        };
        err.with_status(status)
    }
}
