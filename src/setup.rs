//! The setup wizard's HTTP side. While setup is not finished (see
//! `server::setup`), RepoPass answers only `/healthz`, its static files,
//! the webhooks (signed) and the wizard page; the wizard's own requests,
//! GitHub's return and the owner's sign-in only for the browser that opened
//! the one-time link. `/setup?token=…` exchanges the token for a mark in
//! that browser's session and leaves the address bar without it.

use axum::{
    extract::{Query, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use server::{setup, AppState};
use tower_sessions::Session;

use crate::problem_page::problem;

/// Paths anyone may reach during setup.
fn open_to_all(path: &str) -> bool {
    path == "/healthz"
        || path == "/setup"
        || path.starts_with("/pkg/")
        || path.starts_with("/assets/")
        || path.starts_with("/api/webhooks/")
        || path == "/favicon.ico"
        || path == "/api/setup/status"
}

/// Paths only the link's holder may reach: the wizard's steps and the
/// owner's sign-in (and the admin settings server functions it reuses).
fn for_the_holder(path: &str) -> bool {
    path.starts_with("/api/setup/")
        || path.starts_with("/setup/")
        || path.starts_with("/auth/github")
        || path == "/auth/logout"
        || path.starts_with("/api/session/")
}

pub fn router() -> Router<AppState> {
    Router::new().route("/setup/github/created", get(github_created))
}

#[derive(Deserialize)]
struct Created {
    code: Option<String>,
    state: Option<String>,
}

/// GitHub's return from the manifest flow: the code becomes the App.
async fn github_created(State(state): State<AppState>, session: Session, Query(q): Query<Created>) -> Response {
    let expected: Option<String> = session.remove(setup::MANIFEST_STATE_KEY).await.ok().flatten();
    let (Some(code), Some(given)) = (q.code, q.state) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "GitHub sent no App",
            "GitHub came back without the App's code. Create the App again from the setup page.",
            "/setup",
        );
    };
    if expected.is_none_or(|e| e != given) {
        return problem(
            StatusCode::BAD_REQUEST,
            "This App creation was not started here",
            "It was started in another browser or tab, or too long ago. Create the App again from the setup page.",
            "/setup",
        );
    }
    match server::github_app::convert(&state, &code).await {
        Ok(_) => Redirect::to("/setup").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "GitHub App conversion failed");
            problem(StatusCode::BAD_GATEWAY, "The GitHub App was not saved", &err.to_string(), "/setup")
        }
    }
}

pub async fn gate(State(state): State<AppState>, session: Session, request: Request, next: Next) -> Response {
    let Some(link) = state.setup.clone() else { return next.run(request).await };
    let path = request.uri().path().to_owned();
    if path == "/setup" {
        if let Some(token) = token_in(request.uri().query()) {
            return match link.redeem(&token) {
                Some(mark) => match session.insert(setup::SESSION_KEY, mark).await {
                    Ok(()) => Redirect::to("/setup").into_response(),
                    Err(err) => {
                        tracing::error!(error = %err, "could not keep the setup mark in the session");
                        problem(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Setup",
                            "Your session could not be saved. Restart RepoPass and open the new link.",
                            "/setup",
                        )
                    }
                },
                None => {
                    tracing::warn!("a setup link was refused (wrong, or used already)");
                    problem(
                        StatusCode::FORBIDDEN,
                        "This setup link does not work",
                        "It was used already, or it is not the one RepoPass printed. Restart RepoPass: it prints a new link to its log.",
                        "/setup",
                    )
                }
            };
        }
    }
    if open_to_all(&path) {
        return next.run(request).await;
    }
    if for_the_holder(&path) && setup::holds_link(&state, &session).await {
        return next.run(request).await;
    }
    let mut answer = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "RepoPass is being set up",
        "Setup is not finished. If you are setting it up, open the setup link RepoPass printed to its log.",
        "/setup",
    );
    answer.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("60"));
    answer
}

fn token_in(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
}
