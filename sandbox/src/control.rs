//! The sandbox's control API under `/sandbox/control`: what a person does
//! in the console (accept an invitation, advance the clock, break GitHub for
//! a while), as JSON for tests.

use axum::{
    extract::{Path, State},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    deliveries,
    github::{faults, model::user_json},
    Error, Sandbox,
};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/clock/advance", post(advance_clock))
        .route("/github/users", post(create_user))
        .route("/github/repos", post(create_repo))
        .route("/github/users/{login}/rename", post(rename_user))
        .route("/github/state", get(github_state))
        .route("/github/invitations/{id}/accept", post(accept_invitation))
        .route("/github/repos/{owner}/{repo}/collaborators/{login}/remove", post(remove_by_hand))
        .route("/github/faults", post(arm_fault))
        .route("/github/org_invitations/{id}/accept", post(accept_org_invitation))
        .route("/github/orgs/{org}/members", post(add_org_member))
        .route("/github/orgs/{org}/teams/{team_slug}/memberships/{login}/remove", post(remove_from_team_by_hand))
        .route("/github/installations/{account}/{action}", post(installation_action))
        .route("/github/calls", get(github_calls))
        .route("/github/calls/reset", post(reset_github_calls))
        .route("/stripe/state", get(stripe_state))
        .route("/stripe/checkout/{id}/pay", post(pay_checkout))
        .route("/stripe/checkout/{id}/settle", post(settle_checkout))
        .route("/stripe/subscriptions/{id}/renew", post(renew))
        .route("/stripe/subscriptions/{id}/fail_next_payment", post(fail_next))
        .route("/stripe/subscriptions/{id}/cancel", post(cancel))
        .route("/stripe/refund", post(refund))
        .route("/stripe/dispute", post(dispute))
        .route("/stripe/restricted_keys", post(create_restricted_key))
        .route("/webhook_target", post(set_webhook_target))
        .route("/deliveries", get(list_deliveries))
        .route("/deliveries/{id}/redeliver", post(redeliver))
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    days: i64,
    #[serde(default)]
    seconds: i64,
}

async fn advance_clock(State(sb): State<Sandbox>, Json(a): Json<Advance>) -> Result<Json<Value>, Error> {
    let by = a.days * 86_400 + a.seconds;
    if by < 0 {
        return Err(Error::BadRequest("the sandbox clock only moves forward".into()));
    }
    let now = sb.advance_clock(by).await?;
    Ok(Json(json!({ "now": now })))
}

#[derive(Deserialize)]
struct NewUser {
    login: String,
    name: Option<String>,
}

async fn create_user(State(sb): State<Sandbox>, Json(u): Json<NewUser>) -> Result<Json<Value>, Error> {
    let user = sb.gh_create_user(&u.login, u.name.as_deref()).await?;
    Ok(Json(user_json(&sb, &user)))
}

#[derive(Deserialize)]
struct NewRepo {
    owner: String,
    name: String,
}

/// A private repository, as its owner would make one on GitHub.
async fn create_repo(State(sb): State<Sandbox>, Json(r): Json<NewRepo>) -> Result<Json<Value>, Error> {
    let repo = sb.gh_create_repo(&r.owner, &r.name).await?;
    Ok(Json(json!({ "id": repo.id, "full_name": repo.full_name(), "private": repo.private })))
}

#[derive(Deserialize)]
struct Rename {
    login: String,
}

async fn rename_user(
    State(sb): State<Sandbox>,
    Path(login): Path<String>,
    Json(r): Json<Rename>,
) -> Result<Json<Value>, Error> {
    let user = sb.gh_rename_user(&login, &r.login).await?;
    Ok(Json(user_json(&sb, &user)))
}

/// Every repository with its collaborators and pending invitations, and
/// every organisation with its members, teams and pending invitations.
async fn github_state(State(sb): State<Sandbox>) -> Result<Json<Value>, Error> {
    let now = sb.store().now().await?;
    let mut repos = Vec::new();
    for repo in sb.gh_repos().await? {
        let mut collaborators = Vec::new();
        for c in sb.gh_collaborators(&repo).await? {
            if let Some(user) = sb.gh_user_by_id(c.user_id).await? {
                collaborators.push(json!({ "login": user.login, "id": user.id, "permission": c.permission }));
            }
        }
        let mut invitations = Vec::new();
        for inv in sb.gh_pending_invitations(&repo).await? {
            let login = sb.gh_user_by_id(inv.invitee_id).await?.map(|u| u.login);
            invitations.push(json!({
                "id": inv.id, "login": login, "permission": inv.permission,
                "created_at": inv.created_at,
                "expired": now >= inv.created_at + crate::github::model::INVITATION_TTL,
            }));
        }
        repos.push(json!({ "full_name": repo.full_name(), "id": repo.id, "private": repo.private, "collaborators": collaborators, "invitations": invitations }));
    }
    let faults = faults::current(&sb).await?;
    let organizations = sb.gh_organizations_state().await?;
    Ok(Json(json!({ "now": now, "repositories": repos, "faults": faults, "organizations": organizations })))
}

async fn accept_invitation(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Json<Value>, Error> {
    let c = sb.gh_accept_invitation(id).await?;
    Ok(Json(json!({ "accepted": id, "repo_id": c.repo_id, "user_id": c.user_id, "permission": c.permission })))
}

async fn remove_by_hand(
    State(sb): State<Sandbox>,
    Path((owner, name, login)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let repo = sb.gh_repo(&owner, &name).await?.ok_or(Error::NotFound)?;
    let user = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    let removed = sb.gh_remove_collaborator(&repo, &user).await?;
    Ok(Json(json!({ "removed": removed })))
}

/// The account's owner suspends the App's installation, or lifts the
/// suspension (`suspend`, `unsuspend`): the App hears of it by webhook.
async fn installation_action(
    State(sb): State<Sandbox>,
    Path((account, action)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    let suspend = match action.as_str() {
        "suspend" => true,
        "unsuspend" => false,
        other => return Err(Error::BadRequest(format!("'{other}' is not an action: use suspend or unsuspend"))),
    };
    let i = sb.gh_suspend_installation(&account, suspend).await?;
    Ok(Json(json!({ "id": i.id, "account": i.account, "suspended": i.suspended_at.is_some() })))
}

/// The invitee accepts an organisation invitation (as on its page): they
/// join the organisation and the invitation's teams.
async fn accept_org_invitation(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Json<Value>, Error> {
    let inv = sb.gh_accept_org_invitation(id).await?;
    let login = sb.gh_user_by_id(inv.invitee_id).await?.map(|u| u.login);
    let mut teams = Vec::new();
    for invited in &inv.teams {
        if let Some(team) = sb.gh_team_by_id(invited.team_id).await? {
            teams.push(team.slug);
        }
    }
    Ok(Json(json!({ "accepted": id, "org": inv.org, "user_id": inv.invitee_id, "login": login, "teams": teams })))
}

#[derive(Deserialize)]
struct OrgMember {
    login: String,
}

/// Makes an existing person a member of the organisation directly (an
/// owner adding them on GitHub); GitHub sends `organization` `member_added`.
async fn add_org_member(
    State(sb): State<Sandbox>,
    Path(org): Path<String>,
    Json(m): Json<OrgMember>,
) -> Result<Json<Value>, Error> {
    let org = sb.gh_org(&org).await?.ok_or(Error::NotFound)?;
    let user = sb.gh_user(&m.login).await?.ok_or(Error::NotFound)?;
    let added = sb.gh_add_org_member(&org, &user).await?;
    let role = sb.gh_org_role(&org, &user).await?;
    Ok(Json(json!({ "org": org.login, "login": user.login, "added": added, "role": role })))
}

/// An owner removes someone from a team by hand on GitHub: an active
/// membership ends with `membership` `removed`; a pending one leaves the
/// invitation.
async fn remove_from_team_by_hand(
    State(sb): State<Sandbox>,
    Path((org, slug, login)): Path<(String, String, String)>,
) -> Result<Json<Value>, Error> {
    let org = sb.gh_org(&org).await?.ok_or(Error::NotFound)?;
    let team = sb.gh_team(&org, &slug).await?.ok_or(Error::NotFound)?;
    let user = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    // The person at the keyboard: the organisation's first owner.
    let actor = match org.admins.first() {
        Some(admin) => sb.gh_user(admin).await?.unwrap_or_else(|| org.clone()),
        None => org.clone(),
    };
    let was = sb.gh_delete_team_membership(&org, &team, &user, &actor).await?;
    Ok(Json(json!({ "removed": was.is_some(), "was": was })))
}

/// The calls made to the GitHub REST stand-in since the start or the last
/// reset, by "METHOD /route/template".
async fn github_calls(State(sb): State<Sandbox>) -> Json<Value> {
    let by_route = sb.github_calls();
    let total: u64 = by_route.values().sum();
    Json(json!({ "total": total, "by_route": by_route }))
}

async fn reset_github_calls(State(sb): State<Sandbox>) -> Json<Value> {
    sb.reset_github_calls();
    Json(json!({ "total": 0, "by_route": {} }))
}

#[derive(Deserialize)]
struct ArmFault {
    fault: faults::Fault,
    count: u32,
}

async fn arm_fault(State(sb): State<Sandbox>, Json(f): Json<ArmFault>) -> Result<Json<Value>, Error> {
    faults::arm(&sb, f.fault, f.count).await?;
    Ok(Json(json!({ "fault": f.fault, "remaining": f.count })))
}

async fn list_deliveries(State(sb): State<Sandbox>) -> Result<Json<Value>, Error> {
    Ok(Json(json!(deliveries::list(&sb, 200).await?)))
}

async fn redeliver(State(sb): State<Sandbox>, Path(id): Path<i64>) -> Result<Json<Value>, Error> {
    deliveries::redeliver(&sb, id).await?;
    Ok(Json(json!({ "redelivering": id })))
}

/// Products, prices, customers, subscriptions, invoices and charges, as
/// Stripe's dashboard lists them.
async fn stripe_state(State(sb): State<Sandbox>) -> Result<Json<Value>, Error> {
    let all = |v: Vec<Value>| Value::Array(v.into_iter().map(crate::stripe::public).collect());
    Ok(Json(json!({
        "products": all(sb.stripe_list("product", None).await?),
        "prices": all(sb.stripe_list("price", None).await?),
        "customers": all(sb.stripe_list("customer", None).await?),
        "subscriptions": all(sb.stripe_list("subscription", None).await?),
        "invoices": all(sb.stripe_list("invoice", None).await?),
        "charges": all(sb.stripe_list("charge", None).await?),
        "checkout_sessions": all(sb.stripe_list("checkout_session", None).await?),
        "billing_portal_sessions": all(sb.stripe_list("billing_portal_session", None).await?),
    })))
}

#[derive(Deserialize)]
struct Pay {
    #[serde(default = "succeed")]
    outcome: String,
}

fn succeed() -> String {
    "succeed".into()
}

/// What the buyer does on the hosted checkout page, without a browser.
async fn pay_checkout(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Json(p): Json<Pay>,
) -> Result<Json<Value>, Error> {
    let outcome = match p.outcome.as_str() {
        "succeed" => crate::stripe::billing::PayOutcome::Succeed,
        "async" => crate::stripe::billing::PayOutcome::Async,
        other => return Err(Error::BadRequest(format!("outcome '{other}' is not succeed or async"))),
    };
    let session = sb.stripe_pay_session(&id, outcome).await?;
    Ok(Json(crate::stripe::public(session)))
}

#[derive(Deserialize)]
struct Settle {
    succeed: bool,
}

async fn settle_checkout(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Json(s): Json<Settle>,
) -> Result<Json<Value>, Error> {
    Ok(Json(crate::stripe::public(sb.stripe_settle_async(&id, s.succeed).await?)))
}

async fn renew(State(sb): State<Sandbox>, Path(id): Path<String>) -> Result<Json<Value>, Error> {
    Ok(Json(crate::stripe::public(sb.stripe_renew(&id).await?)))
}

async fn fail_next(State(sb): State<Sandbox>, Path(id): Path<String>) -> Result<Json<Value>, Error> {
    Ok(Json(crate::stripe::public(sb.stripe_fail_next_payment(&id).await?)))
}

#[derive(Deserialize)]
struct Cancel {
    #[serde(default)]
    at_period_end: bool,
}

async fn cancel(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Json(c): Json<Cancel>,
) -> Result<Json<Value>, Error> {
    Ok(Json(crate::stripe::public(sb.stripe_cancel(&id, c.at_period_end).await?)))
}

#[derive(Deserialize)]
struct Target {
    /// A charge, PaymentIntent, invoice, subscription or checkout session id.
    id: String,
    amount: Option<i64>,
}

async fn refund(State(sb): State<Sandbox>, Json(t): Json<Target>) -> Result<Json<Value>, Error> {
    let charge = sb.stripe_charge_of(&t.id).await?;
    match sb.stripe_refund(charge, t.amount, Some("requested_by_customer")).await? {
        Ok(refund) => Ok(Json(refund)),
        Err(message) => Err(Error::BadRequest(message)),
    }
}

async fn dispute(State(sb): State<Sandbox>, Json(t): Json<Target>) -> Result<Json<Value>, Error> {
    let charge = sb.stripe_charge_of(&t.id).await?;
    Ok(Json(sb.stripe_dispute(charge).await?))
}

#[derive(Deserialize)]
struct NewRestrictedKey {
    #[serde(default)]
    name: String,
    permissions: Vec<String>,
}

/// Makes a restricted key (`rk_test_…`) holding exactly these permissions.
async fn create_restricted_key(
    State(sb): State<Sandbox>,
    Json(k): Json<NewRestrictedKey>,
) -> Result<Json<Value>, Error> {
    Ok(Json(crate::stripe::keys::create(&sb, &k.name, &k.permissions).await?))
}

#[derive(Deserialize)]
struct WebhookTarget {
    /// Base URL; webhooks go to `{base}/api/webhooks/{stripe|github}`.
    /// Null returns them to RepoPass itself.
    base: Option<String>,
}

async fn set_webhook_target(State(sb): State<Sandbox>, Json(t): Json<WebhookTarget>) -> Result<Json<Value>, Error> {
    match &t.base {
        Some(base) if !(base.starts_with("http://") || base.starts_with("https://")) => {
            return Err(Error::BadRequest("base must be an http(s) URL".into()))
        }
        Some(base) => sb.store().set_setting("webhook_base", base).await?,
        None => {
            sqlx::query("DELETE FROM sandbox_state WHERE key = 'webhook_base'").execute(sb.store().db().pool()).await?;
        }
    }
    Ok(Json(json!({ "stripe": sb.webhook_url("stripe").await?, "github": sb.webhook_url("github").await? })))
}
