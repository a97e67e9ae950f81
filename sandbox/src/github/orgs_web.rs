//! GitHub's organisation pages, sandboxed: the invitation page
//! (`/orgs/{org}/invitation`, where GitHub's organisation invitation emails
//! lead) with an Accept button for each pending invitation, and the
//! organisation's page (`/{org}`) you land on afterwards, with its members
//! and teams. As with repository invitations, the sandbox has no GitHub
//! sessions: each invitation has its own button.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::html;
use serde::Deserialize;

use crate::{pages, Error, Sandbox};

fn no_such_account() -> Response {
    (StatusCode::NOT_FOUND, pages::error_page("Not found", "There is no such organization in the sandbox's GitHub."))
        .into_response()
}

pub async fn invitation_page(State(sb): State<Sandbox>, Path(org): Path<String>) -> Result<Response, Error> {
    let Some(org) = sb.gh_org(&org).await? else { return Ok(no_such_account()) };
    let teams = sb.gh_teams(&org).await?;
    let mut pending = Vec::new();
    for invitation in sb.gh_open_org_invitations(&org).await? {
        if let Some(user) = sb.gh_user_by_id(invitation.invitee_id).await? {
            let names: Vec<String> = invitation
                .teams
                .iter()
                .filter_map(|t| teams.iter().find(|team| team.id == t.team_id).map(|team| team.name.clone()))
                .collect();
            pending.push((invitation.id, user.login, names));
        }
    }
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" { "Invitations to join " (org.login) }
            @if pending.is_empty() {
                p class="mt-4 text-slate-700" data-testid="no-invitations" { "No pending invitations: they were accepted, cancelled or have expired." }
            }
            ul class="mt-4 grid gap-3" {
                @for (id, login, names) in &pending {
                    li class="flex items-center justify-between gap-4 rounded-md border border-slate-200 p-3" data-testid="org-invitation" data-invitee=(login) {
                        span {
                            "@" (login) " is invited to join " (org.login)
                            @if !names.is_empty() { " and the team" @if names.len() > 1 { "s" } " " (names.join(", ")) }
                        }
                        form method="post" {
                            input type="hidden" name="invitation_id" value=(id);
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

/// The invitee accepts: they join the organisation and its invited teams,
/// and land on the organisation's page.
pub async fn accept(
    State(sb): State<Sandbox>,
    Path(org): Path<String>,
    Form(form): Form<Accept>,
) -> Result<Response, Error> {
    let org = sb.gh_org(&org).await?.ok_or(Error::NotFound)?;
    let invitation = sb.gh_org_invitation(form.invitation_id).await?.ok_or(Error::NotFound)?;
    if !invitation.org.eq_ignore_ascii_case(&org.login) {
        return Err(Error::BadRequest("that invitation is for another organization".into()));
    }
    sb.gh_accept_org_invitation(form.invitation_id).await?;
    Ok(Redirect::to(&sb.url(&format!("/sandbox/github/{}", org.login))).into_response())
}

/// `/{login}`: an organisation's members and teams; a person's name.
pub async fn account_page(State(sb): State<Sandbox>, Path(login): Path<String>) -> Result<Response, Error> {
    let Some(account) = sb.gh_user(&login).await? else {
        return Ok((
            StatusCode::NOT_FOUND,
            pages::error_page("Not found", "There is no such account in the sandbox's GitHub."),
        )
            .into_response());
    };
    if !account.organization {
        let body = html! {
            div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
                p class="text-sm text-slate-500" { "GitHub (sandbox)" }
                h1 class="mt-1 text-xl font-semibold" data-testid="account" { (account.login) }
                @if let Some(name) = &account.name { p class="mt-1 text-sm text-slate-600" { (name) } }
            }
        };
        return Ok(pages::page(&account.login, body).into_response());
    }
    let members = sb.gh_org_members(&account).await?;
    let repos = sb.gh_repos().await?;
    let mut teams = Vec::new();
    for team in sb.gh_teams(&account).await? {
        let mut logins = Vec::new();
        for m in sb.gh_team_members(&team).await? {
            if let Some(user) = sb.gh_user_by_id(m.user_id).await? {
                logins.push(user.login);
            }
        }
        let mut reach = Vec::new();
        for link in sb.gh_team_repos(&team).await? {
            if let Some(repo) = repos.iter().find(|r| r.id == link.repo_id) {
                reach.push(format!("{} ({})", repo.full_name(), link.permission));
            }
        }
        teams.push((team, logins, reach));
    }
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" data-testid="organization" { (account.login) }
            h2 class="mt-6 font-semibold" { "Members" }
            ul class="mt-2 grid gap-1 text-sm" data-testid="members" {
                @for (user, role) in &members {
                    li data-login=(user.login) { "@" (user.login) " · " (role) }
                }
            }
            h2 class="mt-6 font-semibold" { "Teams" }
            @if teams.is_empty() { p class="mt-2 text-sm text-slate-500" { "none" } }
            ul class="mt-2 grid gap-3 text-sm" data-testid="teams" {
                @for (team, logins, reach) in &teams {
                    li data-team=(team.slug) {
                        div class="font-medium" { (team.name) }
                        div class="text-slate-600" { "Members: " @if logins.is_empty() { "none" } @else { (logins.join(", ")) } }
                        div class="text-slate-600" { "Repositories: " @if reach.is_empty() { "none" } @else { (reach.join(", ")) } }
                    }
                }
            }
        }
    };
    Ok(pages::page(&account.login, body).into_response())
}
