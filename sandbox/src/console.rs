//! `/sandbox`: the console. The sandbox's state at a glance, and buttons for
//! what would otherwise happen outside RepoPass (a buyer accepting an
//! invitation, time passing, GitHub failing). Plain forms: works without
//! JavaScript; each action redirects back here.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use maud::{html, Markup};
use serde::Deserialize;

use crate::{
    deliveries,
    github::{
        faults,
        model::{rfc3339, INVITATION_TTL},
    },
    pages::{self, money, BUTTON, INPUT},
    Error, Sandbox,
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/", get(console))
        .route("/console/clock", post(advance_clock))
        .route("/console/github/invitations/{id}/accept", post(accept))
        .route("/console/github/repos/{owner}/{repo}/collaborators/{login}/remove", post(remove))
        .route("/console/github/faults", post(arm_fault))
        .route("/console/deliveries/{id}/redeliver", post(redeliver))
        .route("/console/stripe/subscriptions/{id}/{action}", post(subscription_action))
        .route("/console/stripe/charges/{id}/{action}", post(charge_action))
        .route("/console/stripe/checkout/{id}/{action}", post(checkout_action))
}

const SMALL_BUTTON: &str = "rounded border border-slate-300 bg-white px-2 py-1 text-xs font-medium hover:bg-slate-50";

async fn console(State(sb): State<Sandbox>) -> Result<Markup, Error> {
    let now = sb.store().now().await?;
    let armed = faults::current(&sb).await?;
    let recent = deliveries::list(&sb, 50).await?;
    let mut repos: Vec<Markup> = Vec::new();
    for repo in sb.gh_repos().await? {
        let mut collaborators = Vec::new();
        for c in sb.gh_collaborators(&repo).await? {
            if let Some(u) = sb.gh_user_by_id(c.user_id).await? {
                collaborators.push((u.login, c.permission));
            }
        }
        let mut invitations = Vec::new();
        for inv in sb.gh_pending_invitations(&repo).await? {
            if let Some(u) = sb.gh_user_by_id(inv.invitee_id).await? {
                invitations.push((inv.id, u.login, inv.permission.clone(), now >= inv.created_at + INVITATION_TTL));
            }
        }
        let (owner, name) = (repo.owner.clone(), repo.name.clone());
        repos.push(html! {
            li class="py-4" data-repo=(repo.full_name()) {
                div class="font-medium" { (repo.full_name()) @if repo.private { span class="ml-2 rounded bg-slate-200 px-1.5 text-xs" { "private" } } }
                div class="mt-2 grid gap-2 sm:grid-cols-2" {
                    div {
                        div class="text-xs uppercase tracking-wide text-slate-500" { "Collaborators" }
                        @if collaborators.is_empty() { p class="text-sm text-slate-500" { "none" } }
                        @for (login, permission) in &collaborators {
                            form method="post" action=(format!("/sandbox/console/github/repos/{owner}/{name}/collaborators/{login}/remove")) class="flex items-center justify-between gap-2 text-sm" {
                                span data-collaborator=(login) { (login) " (" (permission) ")" }
                                button class=(SMALL_BUTTON) { "Remove by hand" }
                            }
                        }
                    }
                    div {
                        div class="text-xs uppercase tracking-wide text-slate-500" { "Pending invitations" }
                        @if invitations.is_empty() { p class="text-sm text-slate-500" { "none" } }
                        @for (id, login, permission, expired) in &invitations {
                            form method="post" action=(format!("/sandbox/console/github/invitations/{id}/accept")) class="flex items-center justify-between gap-2 text-sm" {
                                span data-invitation=(login) { (login) " (" (permission) ")" @if *expired { span class="ml-1 text-red-600" { "expired" } } }
                                @if !*expired { button class=(SMALL_BUTTON) { "Accept as " (login) } }
                            }
                        }
                    }
                }
            }
        });
    }
    let body = html! {
        h1 class="text-3xl font-bold" { "Sandbox console" }
        p class="mt-1 text-slate-600" { "Stand-ins for Stripe and GitHub. RepoPass talks to them over HTTP exactly as it talks to the real services." }
        section class="mt-8 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Clock" }
            p class="text-sm text-slate-600" { "Sandbox time: " span data-testid="sandbox-now" { (rfc3339(now)) } }
            form method="post" action="/sandbox/console/clock" class="mt-3 flex items-center gap-2" {
                label for="days" class="text-sm" { "Advance by" }
                input id="days" name="days" type="number" min="1" max="3650" value="1" class="w-24 rounded-md border border-slate-300 px-2 py-1 text-sm";
                span class="text-sm" { "days" }
                button class=(BUTTON) { "Advance" }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Stripe API keys" }
            p class="text-sm text-slate-600" { "Paste one in a RepoPass set up against this sandbox (README \"Going to production\"). Restricted keys: " code class="break-all" { "POST /sandbox/control/stripe/restricted_keys" } "." }
            p class="mt-2 text-sm" { "Secret key (test mode): " code class="break-all rounded bg-slate-100 px-1" data-testid="stripe-secret-key" { (crate::STRIPE_SECRET_KEY) } }
            @for key in crate::stripe::keys::list(&sb).await? {
                p class="text-sm" { "Restricted key " (key["name"].as_str().unwrap_or("")) ": " code class="break-all rounded bg-slate-100 px-1" { (key["id"].as_str().unwrap_or("")) } }
            }
        }
        (stripe_section(&sb).await?)
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "GitHub repositories" }
            ul class="divide-y divide-slate-100" { @for r in &repos { (r) } }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Make GitHub fail" }
            p class="text-sm text-slate-600" {
                @match &armed {
                    Some(a) => { "Armed: the next " (a.remaining) " calls answer " (format!("{:?}", a.fault)) "." }
                    None => { "Nothing armed: GitHub answers normally." }
                }
            }
            form method="post" action="/sandbox/console/github/faults" class="mt-3 flex flex-wrap items-center gap-2" {
                label for="count" class="text-sm" { "The next" }
                input id="count" name="count" type="number" min="0" max="100" value="3" class="w-20 rounded-md border border-slate-300 px-2 py-1 text-sm";
                label for="fault" class="text-sm" { "calls" }
                select id="fault" name="fault" class=(INPUT) style="width:auto" {
                    option value="server_error" { "answer 500" }
                    option value="rate_limit" { "hit the rate limit (403)" }
                    option value="timeout" { "time out" }
                }
                button class=(BUTTON) { "Arm" }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Webhook deliveries to RepoPass" }
            @if recent.is_empty() { p class="text-sm text-slate-500" { "None yet." } }
            @else {
                div class="overflow-x-auto" {
                    table class="mt-3 w-full text-left text-sm" {
                        thead { tr class="text-xs uppercase text-slate-500" { th { "#" } th { "From" } th { "Event" } th { "Status" } th { "Tries" } th { "Last answer" } th {} } }
                        tbody {
                            @for d in &recent {
                                tr class="border-t border-slate-100" data-delivery=(d.event_type) {
                                    td { (d.id) } td { (d.provider) } td { (d.event_type) }
                                    td class=(if d.status == "delivered" { "text-green-700" } else if d.status == "failed" { "text-red-700" } else { "text-amber-700" }) { (d.status) }
                                    td { (d.attempts) }
                                    td class="text-xs text-slate-500" { (d.last_error.clone().unwrap_or_else(|| d.last_status.map(|s| s.to_string()).unwrap_or_default())) }
                                    td { form method="post" action=(format!("/sandbox/console/deliveries/{}/redeliver", d.id)) { button class=(SMALL_BUTTON) { "Redeliver" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(pages::page("Sandbox console", body))
}

fn back() -> Response {
    Redirect::to("/sandbox").into_response()
}

#[derive(Deserialize)]
struct Days {
    days: i64,
}

async fn advance_clock(State(sb): State<Sandbox>, Form(f): Form<Days>) -> Result<Response, Error> {
    if !(1..=3650).contains(&f.days) {
        return Err(Error::BadRequest("advance by 1 to 3650 days".into()));
    }
    sb.advance_clock(f.days * 86_400).await?;
    Ok(back())
}

async fn accept(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Response, Error> {
    sb.gh_accept_invitation(id).await?;
    Ok(back())
}

async fn remove(
    State(sb): State<Sandbox>,
    Path((owner, name, login)): Path<(String, String, String)>,
) -> Result<Response, Error> {
    let repo = sb.gh_repo(&owner, &name).await?.ok_or(Error::NotFound)?;
    let user = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    sb.gh_remove_collaborator(&repo, &user).await?;
    Ok(back())
}

#[derive(Deserialize)]
struct ArmFault {
    fault: faults::Fault,
    count: u32,
}

async fn arm_fault(State(sb): State<Sandbox>, Form(f): Form<ArmFault>) -> Result<Response, Error> {
    faults::arm(&sb, f.fault, f.count.min(100)).await?;
    Ok(back())
}

async fn redeliver(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Response, Error> {
    deliveries::redeliver(&sb, id).await?;
    Ok(back())
}

async fn stripe_section(sb: &Sandbox) -> Result<Markup, Error> {
    let customers = sb.stripe_list("customer", None).await?;
    let email_of = |id: &str| {
        customers.iter().find(|c| c["id"] == id).and_then(|c| c["email"].as_str()).unwrap_or("guest").to_owned()
    };
    let subscriptions = sb.stripe_list("subscription", None).await?;
    let charges = sb.stripe_list("charge", None).await?;
    let waiting: Vec<_> = sb
        .stripe_list("checkout_session", None)
        .await?
        .into_iter()
        .filter(|s| s["status"] == "complete" && s["payment_status"] == "unpaid")
        .collect();
    let invoices = sb.stripe_list("invoice", None).await?;
    Ok(html! {
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Stripe customers" }
            @if customers.is_empty() { p class="text-sm text-slate-500" { "None yet." } }
            ul class="text-sm" {
                @for c in &customers {
                    @let id = c["id"].as_str().unwrap_or_default();
                    li class="border-t border-slate-100 py-2" data-customer=(id) {
                        span class="font-mono text-xs" { (id) } " · " (c["email"].as_str().unwrap_or("no email"))
                        " · " (subscriptions.iter().filter(|s| s["customer"] == id).count()) " subscription(s)"
                    }
                }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Stripe subscriptions" }
            @if subscriptions.is_empty() { p class="text-sm text-slate-500" { "None yet." } }
            @for sub in &subscriptions {
                @let id = sub["id"].as_str().unwrap_or_default();
                @let end = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap_or(0);
                div class="flex flex-wrap items-center justify-between gap-2 border-t border-slate-100 py-3 text-sm" data-subscription=(id) {
                    div {
                        span class="font-mono text-xs" { (id) } " · " (email_of(sub["customer"].as_str().unwrap_or_default())) " · "
                        span data-testid="subscription-status" { (sub["status"].as_str().unwrap_or_default()) }
                        @if sub["cancel_at_period_end"] == serde_json::json!(true) { " (cancels at period end)" }
                        " · period ends " (&rfc3339(end)[..10])
                        @if sub["_fail_next"].as_i64().unwrap_or(0) > 0 { span class="ml-1 text-red-600" { "next payment will fail" } }
                    }
                    @if sub["status"] != "canceled" {
                        div class="flex gap-1" {
                            @for (action, label) in [("renew", "Renew now"), ("fail_next_payment", "Fail next payment"), ("cancel", "Cancel now")] {
                                form method="post" action=(format!("/sandbox/console/stripe/subscriptions/{id}/{action}")) { button class=(SMALL_BUTTON) { (label) } }
                            }
                        }
                    }
                }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Stripe invoices" }
            @if invoices.is_empty() { p class="text-sm text-slate-500" { "None yet." } }
            div class="overflow-x-auto" {
                table class="w-full text-left text-sm" {
                    @for inv in invoices.iter().rev() {
                        tr class="border-t border-slate-100" data-invoice=(inv["id"].as_str().unwrap_or_default()) {
                            td class="py-2" { (inv["number"].as_str().unwrap_or_default()) }
                            td { (email_of(inv["customer"].as_str().unwrap_or_default())) }
                            td { (money(inv["total"].as_i64().unwrap_or(0), inv["currency"].as_str().unwrap_or("usd"))) }
                            td class=(if inv["status"] == "paid" { "text-green-700" } else { "text-amber-700" }) { (inv["status"].as_str().unwrap_or_default()) }
                            td class="text-slate-500" { "period to " (&rfc3339(inv["period_end"].as_i64().unwrap_or(0))[..10]) }
                        }
                    }
                }
            }
        }
        section class="mt-6 rounded-xl bg-white p-6 shadow-sm" {
            h2 class="text-lg font-semibold" { "Stripe payments" }
            @if charges.is_empty() && waiting.is_empty() { p class="text-sm text-slate-500" { "None yet." } }
            @for s in &waiting {
                @let id = s["id"].as_str().unwrap_or_default();
                div class="flex items-center justify-between border-t border-slate-100 py-3 text-sm" data-pending-payment=(id) {
                    span { "Bank debit pending · " (money(s["amount_total"].as_i64().unwrap_or(0), s["currency"].as_str().unwrap_or("usd"))) " · " (s["customer_email"].as_str().unwrap_or_default()) }
                    div class="flex gap-1" {
                        form method="post" action=(format!("/sandbox/console/stripe/checkout/{id}/settle")) { button class=(SMALL_BUTTON) { "Payment succeeds" } }
                        form method="post" action=(format!("/sandbox/console/stripe/checkout/{id}/fail")) { button class=(SMALL_BUTTON) { "Payment fails" } }
                    }
                }
            }
            @for ch in charges.iter().rev() {
                @let id = ch["id"].as_str().unwrap_or_default();
                div class="flex flex-wrap items-center justify-between gap-2 border-t border-slate-100 py-3 text-sm" data-charge=(id) {
                    div {
                        (money(ch["amount"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd")))
                        " · " (email_of(ch["customer"].as_str().unwrap_or_default()))
                        @if ch["amount_refunded"].as_i64().unwrap_or(0) > 0 { " · refunded " (money(ch["amount_refunded"].as_i64().unwrap_or(0), ch["currency"].as_str().unwrap_or("usd"))) }
                        @if ch["disputed"] == serde_json::json!(true) { span class="ml-1 text-red-600" { "disputed" } }
                    }
                    div class="flex gap-1" {
                        @if ch["refunded"] != serde_json::json!(true) {
                            form method="post" action=(format!("/sandbox/console/stripe/charges/{id}/refund")) { button class=(SMALL_BUTTON) { "Refund in full" } }
                        }
                        @if ch["disputed"] != serde_json::json!(true) {
                            form method="post" action=(format!("/sandbox/console/stripe/charges/{id}/dispute")) { button class=(SMALL_BUTTON) { "Open a dispute" } }
                        }
                    }
                }
            }
        }
    })
}

async fn subscription_action(
    State(sb): State<Sandbox>,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, Error> {
    match action.as_str() {
        "renew" => sb.stripe_renew(&id).await?,
        "fail_next_payment" => sb.stripe_fail_next_payment(&id).await?,
        "cancel" => sb.stripe_cancel(&id, false).await?,
        other => return Err(Error::BadRequest(format!("unknown action {other}"))),
    };
    Ok(back())
}

async fn charge_action(
    State(sb): State<Sandbox>,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, Error> {
    let charge = sb.stripe_charge_of(&id).await?;
    match action.as_str() {
        "refund" => {
            if let Err(message) = sb.stripe_refund(charge, None, Some("requested_by_customer")).await? {
                return Err(Error::BadRequest(message));
            }
        }
        "dispute" => {
            sb.stripe_dispute(charge).await?;
        }
        other => return Err(Error::BadRequest(format!("unknown action {other}"))),
    }
    Ok(back())
}

async fn checkout_action(
    State(sb): State<Sandbox>,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, Error> {
    sb.stripe_settle_async(&id, action == "settle").await?;
    Ok(back())
}
