//! `/sandbox/mailbox`: everyone's inbox in zero-config mode. Without
//! `SMTP_URL`, RepoPass's outbox records each email instead of sending it;
//! this page shows those records, newest first, with their links clickable,
//! so a sign-in link or an expired-invitation notice can be followed.

use axum::{
    extract::{Query, State},
    response::IntoResponse,
    response::Response,
    routing::get,
    Router,
};
use maud::{html, Markup};
use serde::Deserialize;

use crate::{github::model::rfc3339, pages, Error, Sandbox};

pub fn router() -> Router<Sandbox> {
    Router::new().route("/mailbox", get(mailbox))
}

#[derive(Deserialize)]
struct Filter {
    to: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Email {
    to_address: String,
    subject: String,
    body_text: String,
    created_at: i64,
}

/// Plain text with its URLs as links (everything else escaped by maud).
fn linked(text: &str) -> Markup {
    html! {
        @for (i, line) in text.lines().enumerate() {
            @if i > 0 { br; }
            @for (j, word) in line.split(' ').enumerate() {
                @if j > 0 { " " }
                @if word.starts_with("http://") || word.starts_with("https://") {
                    a href=(word) class="text-indigo-700 underline" data-testid="mail-link" { (word) }
                } @else { (word) }
            }
        }
    }
}

async fn mailbox(State(sb): State<Sandbox>, Query(f): Query<Filter>) -> Result<Response, Error> {
    let to = f.to.filter(|t| !t.trim().is_empty()).map(|t| t.trim().to_lowercase());
    let emails: Vec<Email> = sqlx::query_as(
        "SELECT to_address, subject, body_text, created_at FROM emails WHERE status = 'logged' AND ($1 = '' OR LOWER(to_address) = $1) ORDER BY id DESC LIMIT 50",
    )
    .bind(to.clone().unwrap_or_default())
    .fetch_all(sb.store().db().pool())
    .await?;
    let body = html! {
        h1 class="text-2xl font-semibold" { "Mailbox" }
        p class="text-sm text-slate-600" { "Emails RepoPass would have sent (no SMTP_URL is set), newest first." }
        form method="get" class="mt-4 flex gap-2" {
            input name="to" value=(to.clone().unwrap_or_default()) placeholder="to address" class=(pages::INPUT);
            button class=(pages::BUTTON) { "Filter" }
        }
        @if emails.is_empty() { p class="mt-6 text-slate-500" { "No emails yet." } }
        @for e in &emails {
            article class="mt-6 rounded-xl bg-white p-6 shadow-sm" data-testid="mail" {
                div class="text-sm text-slate-500" { "To " (e.to_address) " · " (rfc3339(e.created_at)) }
                h2 class="mt-1 font-semibold" { (e.subject) }
                p class="mt-3 text-sm leading-6" { (linked(&e.body_text)) }
            }
        }
    };
    Ok(pages::page("Mailbox", body).into_response())
}
