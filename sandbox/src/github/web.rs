//! GitHub's web pages a buyer visits, sandboxed: a repository's invitation
//! page (`/{owner}/{repo}/invitations`, where GitHub's invitation links go)
//! with an Accept button, and the repository page you land on afterwards.
//! Real GitHub asks the invitee to be signed in; the sandbox has no GitHub
//! sessions, so each pending invitation has its own button.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::html;
use serde::Deserialize;

use crate::{pages, Error, Sandbox};

pub async fn invitations_page(
    State(sb): State<Sandbox>,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Error> {
    let Some(repo) = sb.gh_repo(&owner, &name).await? else {
        return Ok((
            axum::http::StatusCode::NOT_FOUND,
            pages::error_page("Not found", "There is no such repository in the sandbox's GitHub."),
        )
            .into_response());
    };
    let mut pending = Vec::new();
    for invitation in sb.gh_pending_invitations(&repo).await? {
        if let Some(user) = sb.gh_user_by_id(invitation.invitee_id).await? {
            pending.push((invitation, user.login));
        }
    }
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" { "Invitations to " (repo.full_name()) }
            @if pending.is_empty() {
                p class="mt-4 text-slate-700" data-testid="no-invitations" { "No pending invitations: they were accepted, cancelled or have expired." }
            }
            ul class="mt-4 grid gap-3" {
                @for (invitation, login) in &pending {
                    li class="flex items-center justify-between gap-4 rounded-md border border-slate-200 p-3" data-invitee=(login) {
                        span { "@" (login) " is invited with " (invitation.permission) " access" }
                        form method="post" {
                            input type="hidden" name="invitation_id" value=(invitation.id);
                            button class=(pages::BUTTON) { "Accept invitation as @" (login) }
                        }
                    }
                }
            }
        }
    };
    Ok(pages::page("Invitations", body).into_response())
}

#[derive(Deserialize)]
pub struct Accept {
    invitation_id: i64,
}

pub async fn accept(
    State(sb): State<Sandbox>,
    Path((owner, name)): Path<(String, String)>,
    Form(form): Form<Accept>,
) -> Result<Response, Error> {
    let repo = sb.gh_repo(&owner, &name).await?.ok_or(Error::NotFound)?;
    let invitation = sb.gh_invitation(form.invitation_id).await?.ok_or(Error::NotFound)?;
    if invitation.repo_id != repo.id {
        return Err(Error::BadRequest("that invitation is for another repository".into()));
    }
    sb.gh_accept_invitation(form.invitation_id).await?;
    Ok(Redirect::to(&sb.url(&format!("/sandbox/github/{owner}/{name}"))).into_response())
}

pub async fn repository_page(
    State(sb): State<Sandbox>,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, Error> {
    let Some(repo) = sb.gh_repo(&owner, &name).await? else {
        return Ok((
            axum::http::StatusCode::NOT_FOUND,
            pages::error_page("Not found", "There is no such repository in the sandbox's GitHub."),
        )
            .into_response());
    };
    let mut collaborators = Vec::new();
    for c in sb.gh_collaborators(&repo).await? {
        if let Some(user) = sb.gh_user_by_id(c.user_id).await? {
            collaborators.push((user.login, c.permission));
        }
    }
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" data-testid="repository" { (repo.full_name()) }
            p class="mt-1 text-sm text-slate-600" { @if repo.private { "Private repository" } @else { "Public repository" } }
            h2 class="mt-6 font-semibold" { "Collaborators" }
            ul class="mt-2 grid gap-1 text-sm" data-testid="collaborators" {
                @for (login, permission) in &collaborators {
                    li data-login=(login) { "@" (login) " · " (permission) }
                }
            }
        }
    };
    Ok(pages::page(&repo.full_name(), body).into_response())
}
