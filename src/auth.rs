//! Sign-in with GitHub: `/auth/github` sends you to GitHub with a state
//! remembered in your session; `/auth/github/callback` checks it, learns who
//! you are, cycles the session id and signs you in; `POST /auth/logout`
//! signs you out.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use server::{
    admins,
    session_user::{SessionUser, OAUTH_NEXT_KEY, OAUTH_ROLE_KEY, OAUTH_STATE_KEY, USER_KEY},
    AppState,
};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/github", get(start))
        .route("/auth/github/callback", get(callback))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct Start {
    next: Option<String>,
}

/// Longest `next` kept; anything longer is not a page of ours.
const MAX_NEXT: usize = 512;

/// Only paths on this site: `next` must not send you elsewhere. It is
/// resolved as a browser would resolve it against our address, and kept only
/// if it stays on it. Browsers drop tabs and newlines from URLs (so
/// `/\t/evil.example` becomes `//evil.example`): control characters,
/// whitespace and backslashes are refused outright.
fn safe_next(next: Option<&str>) -> String {
    let fallback = || "/admin".to_owned();
    let Some(next) = next else { return fallback() };
    if next.len() > MAX_NEXT
        || !next.starts_with('/')
        || next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return fallback();
    }
    let base = url::Url::parse("http://repopass.invalid/").expect("a valid base URL");
    match base.join(next) {
        Ok(url) if url.origin() == base.origin() => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        _ => fallback(),
    }
}

pub(crate) fn problem(status: StatusCode, title: &str, message: &str) -> Response {
    problem_back(status, title, message, "/admin")
}

/// A small static page: `title`, `message`, and a link back to `back`.
pub(crate) fn problem_back(status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    // Static text only: nothing user-supplied is echoed into this page.
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · RepoPass</title>\
         <link rel=\"stylesheet\" href=\"/pkg/repopass.css\"></head><body class=\"bg-slate-50\">\
         <main class=\"mx-auto max-w-xl px-4 py-24 text-center\"><h1 class=\"text-2xl font-bold\">{title}</h1>\
         <p class=\"mt-4 text-slate-600\">{message}</p><a class=\"mt-8 inline-block text-indigo-600 underline\" href=\"{back}\">Back</a></main></body></html>"
    );
    (status, Html(page)).into_response()
}

async fn start(State(state): State<AppState>, session: Session, Query(q): Query<Start>) -> Response {
    start_oauth(&state, &session, safe_next(q.next.as_deref()), None).await
}

/// Sends the browser to GitHub; `role` is remembered for the callback
/// (`Some("customer")`: a customer's sign-in, which never touches admins).
pub(crate) async fn start_oauth(state: &AppState, session: &Session, next: String, role: Option<&str>) -> Response {
    let Some(oauth) = &state.oauth else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is not set up",
            "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (from your GitHub OAuth app) and restart RepoPass.",
        );
    };
    let (url, csrf) = oauth.authorize_url(role == Some("customer"));
    server::session_user::keep_briefly_unless_signed_in(session).await;
    let saved = async {
        session.insert(OAUTH_STATE_KEY, csrf).await?;
        session.insert(OAUTH_NEXT_KEY, next).await?;
        match role {
            Some(role) => session.insert(OAUTH_ROLE_KEY, role).await,
            None => session.remove::<String>(OAUTH_ROLE_KEY).await.map(|_| ()),
        }
    };
    if let Err(err) = saved.await {
        tracing::error!(error = %err, "could not save the sign-in state");
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "Your session could not be saved. Please try again.",
        );
    }
    Redirect::to(&url).into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(state): State<AppState>, session: Session, Query(q): Query<Callback>) -> Response {
    let Some(oauth) = &state.oauth else { return Redirect::to("/admin").into_response() };
    let expected: Option<String> = session.remove(OAUTH_STATE_KEY).await.ok().flatten();
    let next: String = session.remove(OAUTH_NEXT_KEY).await.ok().flatten().unwrap_or_else(|| "/admin".into());
    let role: Option<String> = session.remove(OAUTH_ROLE_KEY).await.ok().flatten();
    if q.error.as_deref() == Some("access_denied") {
        return problem(
            StatusCode::FORBIDDEN,
            "Sign-in cancelled",
            "You declined to share your GitHub identity, so RepoPass cannot sign you in.",
        );
    }
    let (Some(code), Some(given)) = (q.code, q.state) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "GitHub sent you back without a sign-in code. Please start again.",
        );
    };
    // The state ties this callback to the browser that started the sign-in.
    if expected.as_deref() != Some(given.as_str()) {
        return problem(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "It was started in another browser or tab, or too long ago. Please start again.",
        );
    }
    let token = match oauth.exchange(&code).await {
        Ok(token) => token,
        Err(err) => {
            tracing::warn!(error = %err, "OAuth code exchange failed");
            return problem(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                "GitHub did not accept the sign-in. Please start again.",
            );
        }
    };
    let me = match state.github.as_user(token.expose_secret()) {
        Ok(client) => client.current().user().await,
        Err(err) => return problem(StatusCode::BAD_GATEWAY, "Sign-in failed", &err.to_string()),
    };
    let me = match me {
        Ok(me) => me,
        Err(err) => {
            tracing::warn!(error = %err, "could not read the signed-in GitHub user");
            return problem(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                "GitHub did not tell us who you are. Please try again.",
            );
        }
    };
    if role.as_deref() == Some("customer") {
        let emails = verified_emails(&state, token.expose_secret()).await;
        return crate::account_auth::signed_in_with_github(
            &session,
            me.id.0 as i64,
            &me.login,
            me.avatar_url.as_str(),
            emails,
        )
        .await;
    }
    let admin = match admins::sign_in(&state.db, &state.config, me.id.0 as i64, &me.login).await {
        Ok(admin) => admin,
        Err(err) => {
            tracing::error!(error = %err, "admin lookup failed");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed", "Please try again in a moment.");
        }
    };
    let user = SessionUser {
        github_user_id: me.id.0 as i64,
        login: me.login.clone(),
        avatar_url: me.avatar_url.to_string(),
        admin_id: admin.map(|a| a.id),
    };
    // A new session id at sign-in: a session fixed before it is worth nothing after.
    let stored = async {
        session.cycle_id().await?;
        server::session_user::keep_signed_in(&session);
        session.insert(USER_KEY, &user).await
    };
    if let Err(err) = stored.await {
        tracing::error!(error = %err, "could not store the signed-in user");
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "Your session could not be saved. Please try again.",
        );
    }
    tracing::info!(login = %user.login, admin = user.admin_id.is_some(), "signed in");
    Redirect::to(&next).into_response()
}

/// The account's verified email addresses (`GET /user/emails`, scope
/// `user:email`); none if GitHub will not say (the sign-in goes on).
async fn verified_emails(state: &AppState, token: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct UserEmail {
        email: String,
        verified: bool,
    }
    let listed: Result<Vec<UserEmail>, String> = match state.github.as_user(token) {
        Ok(client) => client.get("/user/emails", None::<&()>).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match listed {
        Ok(emails) => emails.into_iter().filter(|e| e.verified).map(|e| e.email.to_lowercase()).collect(),
        Err(error) => {
            tracing::warn!(%error, "could not read the customer's verified email addresses");
            Vec::new()
        }
    }
}

async fn logout(session: Session) -> Response {
    if let Err(err) = session.flush().await {
        tracing::warn!(error = %err, "sign-out: could not delete the session");
    }
    Redirect::to("/").into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/admin/settings")), "/admin/settings");
        assert_eq!(safe_next(Some("/admin/customers?q=bob&page=2")), "/admin/customers?q=bob&page=2");
        assert_eq!(safe_next(Some("/account/../admin")), "/admin");
        let long = format!("/admin/{}", "a".repeat(600));
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "admin",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "///evil.example",
            "/\u{0}x",
            &long,
        ] {
            assert_eq!(safe_next(Some(evil)), "/admin", "{evil}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}
