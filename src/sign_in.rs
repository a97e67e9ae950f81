//! Signing in with GitHub, for the creator's panel and for a customer's
//! `/account` alike: `/auth/github` (admin) and `/account/sign-in/github`
//! (customer) send you to GitHub with a state and whom it is for
//! (`SignInFor`) remembered in your session; `/auth/github/callback`
//! checks the state, learns who you are, cycles the session id and signs
//! you in as that; `POST /auth/logout` signs you out.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use server::{
    admins,
    session_user::{self, OAuthUnderWay, SessionUser, SignInFor, OAUTH_KEY},
    AppState,
};
use tower_sessions::Session;

use crate::problem_page::problem;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/github", get(admin_start))
        .route("/account/sign-in/github", get(customer_start))
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

async fn admin_start(State(state): State<AppState>, session: Session, Query(q): Query<Start>) -> Response {
    start(&state, &session, SignInFor::Admin { next: safe_next(q.next.as_deref()) }).await
}

async fn customer_start(State(state): State<AppState>, session: Session) -> Response {
    start(&state, &session, SignInFor::Customer).await
}

/// Sends the browser to GitHub, remembering the state and whom it is for.
async fn start(state: &AppState, session: &Session, sign_in_for: SignInFor) -> Response {
    let back = sign_in_for.back();
    let Some(oauth) = &state.oauth else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is not set up",
            "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (from your GitHub OAuth app) and restart RepoPass.",
            back,
        );
    };
    // A customer is also asked for their email addresses (proof of paying).
    let (url, csrf) = oauth.authorize_url(sign_in_for == SignInFor::Customer);
    session_user::keep_briefly_unless_signed_in(session).await;
    if let Err(err) = session.insert(OAUTH_KEY, OAuthUnderWay { state: csrf, sign_in_for }).await {
        tracing::error!(error = %err, "could not save the sign-in state");
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "Your session could not be saved. Please try again.",
            back,
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
    let under_way: Option<OAuthUnderWay> = session.remove(OAUTH_KEY).await.ok().flatten();
    let back = under_way.as_ref().map_or("/admin", |u| u.sign_in_for.back());
    if q.error.as_deref() == Some("access_denied") {
        return problem(
            StatusCode::FORBIDDEN,
            "Sign-in cancelled",
            "You declined to share your GitHub identity, so RepoPass cannot sign you in.",
            back,
        );
    }
    let (Some(code), Some(given)) = (q.code, q.state) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            "GitHub sent you back without a sign-in code. Please start again.",
            back,
        );
    };
    // The state ties this callback to the browser that started the sign-in.
    let Some(OAuthUnderWay { sign_in_for, .. }) = under_way.filter(|u| u.state == given) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "This sign-in link has expired",
            "It was started in another browser or tab, or too long ago. Please start again.",
            back,
        );
    };
    let failed = |status, message: &str| problem(status, "Sign-in failed", message, back);
    let token = match oauth.exchange(&code).await {
        Ok(token) => token,
        Err(err) => {
            tracing::warn!(error = %err, "OAuth code exchange failed");
            return failed(StatusCode::BAD_GATEWAY, "GitHub did not accept the sign-in. Please start again.");
        }
    };
    let me = match state.github.signed_in_user(token.expose_secret()).await {
        Ok(me) => me,
        Err(err) => {
            tracing::warn!(error = %err, "could not read the signed-in GitHub user");
            return failed(StatusCode::BAD_GATEWAY, "GitHub did not tell us who you are. Please try again.");
        }
    };
    let next = match sign_in_for {
        SignInFor::Customer => {
            // Whoever this session already proved to be, plus this GitHub account.
            let mut customer = session_user::customer(&session).await.unwrap_or_default();
            customer.github_user_id = Some(me.id);
            customer.github_login = Some(me.login.clone());
            customer.avatar_url = Some(me.avatar_url.clone());
            customer.verified_emails = match state.github.verified_emails(token.expose_secret()).await {
                Ok(emails) => emails,
                Err(error) => {
                    // The sign-in goes on; billing then asks for an email link.
                    tracing::warn!(%error, "could not read the customer's verified email addresses");
                    Vec::new()
                }
            };
            if let Err(err) = session_user::sign_in_customer(&session, &customer).await {
                tracing::error!(error = %err, "could not store the signed-in customer");
                return failed(StatusCode::INTERNAL_SERVER_ERROR, "Your session could not be saved. Please try again.");
            }
            tracing::info!(github = true, email = customer.email.is_some(), "customer signed in");
            "/account".to_owned()
        }
        SignInFor::Admin { next } => {
            // Outside the sandbox, only the holder of the setup link may
            // become the owner by signing in first.
            let may_own = state.config.sandbox || server::setup::holds_link(&state, &session).await;
            let admin = match admins::sign_in(&state.db, &state.config, me.id, &me.login, may_own).await {
                Ok(admin) => admin,
                Err(err) => {
                    tracing::error!(error = %err, "admin lookup failed");
                    return failed(StatusCode::INTERNAL_SERVER_ERROR, "Please try again in a moment.");
                }
            };
            let user = SessionUser {
                github_user_id: me.id,
                login: me.login.clone(),
                avatar_url: me.avatar_url.clone(),
                admin_id: admin.map(|a| a.id),
            };
            if let Err(err) = session_user::sign_in_user(&session, &user).await {
                tracing::error!(error = %err, "could not store the signed-in user");
                return failed(StatusCode::INTERNAL_SERVER_ERROR, "Your session could not be saved. Please try again.");
            }
            tracing::info!(login = %user.login, admin = user.admin_id.is_some(), "signed in");
            next
        }
    };
    Redirect::to(&next).into_response()
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
