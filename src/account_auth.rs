//! Customer sign-in for `/account` with a one-time link emailed to a
//! purchase address (the GitHub sign-in is `sign_in`'s). The link opens a
//! page with a button: mail scanners that fetch links do not use it up.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Form, Router,
};
use serde::Deserialize;
use server::{
    session_user::{self, Customer},
    sign_in_links, AppState,
};
use tower_sessions::Session;

use crate::problem_page::problem;

pub fn router() -> Router<AppState> {
    Router::new().route("/account/sign-in/email", get(confirm_page).post(use_link))
}

async fn store(session: &Session, customer: Customer) -> Response {
    if let Err(err) = session_user::sign_in_customer(session, &customer).await {
        tracing::error!(error = %err, "could not store the signed-in customer");
        return failed(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "Your session could not be saved. Please try again.",
        );
    }
    tracing::info!(github = customer.github_user_id.is_some(), email = customer.email.is_some(), "customer signed in");
    Redirect::to("/account").into_response()
}

fn failed(status: StatusCode, title: &str, message: &str) -> Response {
    problem(status, title, message, "/account")
}

#[derive(Deserialize)]
struct Token {
    token: Option<String>,
}

fn expired() -> Response {
    failed(
        StatusCode::BAD_REQUEST,
        "This sign-in link no longer works",
        "Sign-in links work once and for 15 minutes. Ask for a new one on your account page.",
    )
}

async fn confirm_page(Query(q): Query<Token>) -> Response {
    // Checked before it is echoed into the page: letters and digits only.
    let Some(token) = q.token.filter(|t| sign_in_links::well_formed(t)) else { return expired() };
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>Sign in · RepoPass</title>\
         <link rel=\"stylesheet\" href=\"/pkg/repopass.css\"></head><body class=\"bg-slate-50\">\
         <main class=\"mx-auto max-w-md px-4 py-24 text-center\"><h1 class=\"text-2xl font-bold\">Sign in to your purchases</h1>\
         <p class=\"mt-4 text-slate-600\">Continue to see the purchases made with your email address.</p>\
         <form method=\"post\" action=\"/account/sign-in/email\" class=\"mt-8\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button class=\"rounded-md bg-indigo-600 px-5 py-2.5 font-semibold text-white\">Continue</button></form></main></body></html>"
    );
    Html(page).into_response()
}

async fn use_link(State(state): State<AppState>, session: Session, Form(form): Form<Token>) -> Response {
    let Some(token) = form.token else { return expired() };
    match sign_in_links::redeem(&state, &token).await {
        Ok(email) => {
            let mut customer = session_user::customer(&session).await.unwrap_or_default();
            customer.email = Some(email);
            store(&session, customer).await
        }
        Err(server::Error::NotFound) => expired(),
        Err(err) => {
            tracing::error!(error = %err, "sign-in link lookup failed");
            failed(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed", "Please try again in a moment.")
        }
    }
}
