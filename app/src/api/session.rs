//! Who is asking: the signed-in user from the session, for server functions.

use leptos::prelude::*;

use crate::{error::AppError, types::Viewer};

/// The signed-in person, if any (for the header and the sign-in prompts).
#[server(endpoint = "session/viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    use server::session_user::AdminCheck;
    let (user, is_admin) = match ssr::admin_check().await? {
        AdminCheck::SignedOut => return Ok(None),
        AdminCheck::NotAdmin(user) => (user, false),
        AdminCheck::Admin(user, _) => (user, true),
    };
    Ok(Some(Viewer { login: user.login, avatar_url: user.avatar_url, is_admin }))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use server::session_user::{self, AdminCheck, NotAdmin, SessionUser};
    use tower_sessions::Session;

    use crate::error::AppError;

    pub(crate) async fn session() -> Result<Session, AppError> {
        leptos_axum::extract().await.map_err(|e| {
            tracing::error!(error = %e, "no session layer");
            AppError::Internal
        })
    }

    /// The session's admin standing, re-checked on every request (a removed
    /// admin's session ends at once).
    pub async fn admin_check() -> Result<AdminCheck, AppError> {
        let state = super::super::state()?;
        Ok(session_user::admin(&session().await?, &state.db, &state.config).await?)
    }

    /// The signed-in admin, or the error a non-admin gets (401 or 403):
    /// `server::session_user::require_admin`, said as a server-function error.
    pub async fn require_admin() -> Result<(server::AppState, SessionUser), AppError> {
        let state = super::super::state()?;
        match session_user::require_admin(&session().await?, &state.db, &state.config).await? {
            Ok((user, _)) => Ok((state, user)),
            Err(NotAdmin::Refused) => Err(AppError::Forbidden.with_status(http::StatusCode::FORBIDDEN)),
            Err(NotAdmin::SignedOut) => Err(AppError::Unauthorized.with_status(http::StatusCode::UNAUTHORIZED)),
        }
    }
}
