//! GitHub Apps in the sandbox: the built-in one (RepoPass configured with
//! `GITHUB_APP_ID=424242`), and those created with GitHub's App manifest
//! flow — the "new App" page a manifest is posted to, the code GitHub sends
//! back and its conversion (`POST /app-manifests/{code}/conversions`), and
//! the installation page where the owner picks repositories. Every App here
//! shares the sandbox's published key pair (its private key is in this
//! repository): it opens the sandbox and nothing else.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use maud::html;
use rand::{distr::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    api::gh_error,
    model::{rfc3339, user_json, Repo, User, USER},
    seed::{CREATOR, ORG},
};
use crate::{pages, Error, Sandbox};

pub const APP: &str = "gh_app";
pub const INSTALLATION: &str = "gh_installation";
const MANIFEST_CODE: &str = "gh_manifest_code";
/// Manifest codes expire after an hour, as GitHub's do.
const CODE_TTL: i64 = 3600;

pub const BUILT_IN_APP_ID: u64 = 424_242;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub owner: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub callback_urls: Vec<String>,
    pub redirect_url: Option<String>,
    pub setup_url: Option<String>,
    pub permissions: Value,
    #[serde(default)]
    pub events: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installation {
    pub id: i64,
    pub app_id: u64,
    pub account: String,
    /// "all", or "selected" with `repositories` (names under the account).
    pub selection: String,
    #[serde(default)]
    pub repositories: Vec<String>,
    /// Suspended by the account's owner (sandbox clock): no token is
    /// minted for it until it is unsuspended, as on GitHub.
    #[serde(default)]
    pub suspended_at: Option<i64>,
}

impl Installation {
    pub fn covers(&self, repo: &Repo) -> bool {
        repo.owner.eq_ignore_ascii_case(&self.account)
            && (self.selection == "all" || self.repositories.iter().any(|r| r.eq_ignore_ascii_case(&repo.name)))
    }
}

impl Sandbox {
    pub async fn gh_app(&self, id: u64) -> Result<Option<App>, Error> {
        self.store().get(APP, &id.to_string()).await
    }

    pub async fn gh_apps(&self) -> Result<Vec<App>, Error> {
        self.store().list(APP, None).await
    }

    pub async fn gh_app_by_client(&self, client_id: &str) -> Result<Option<App>, Error> {
        Ok(self.gh_apps().await?.into_iter().find(|a| a.client_id == client_id))
    }

    pub async fn gh_installations(&self, app_id: u64) -> Result<Vec<Installation>, Error> {
        self.store().list(INSTALLATION, Some(&app_id.to_string())).await
    }

    pub async fn gh_installation(&self, id: i64) -> Result<Option<Installation>, Error> {
        self.store().get(INSTALLATION, &id.to_string()).await
    }

    /// The account's owner suspends the App's installation on it (or lifts
    /// the suspension), as in GitHub's settings: the installation is kept,
    /// no token is minted for it meanwhile, and the App hears an
    /// `installation` webhook with action `suspend` or `unsuspend`.
    pub async fn gh_suspend_installation(&self, account: &str, suspend: bool) -> Result<Installation, Error> {
        let app = self.gh_app(BUILT_IN_APP_ID).await?.ok_or(Error::NotFound)?;
        let mut installation = self
            .gh_installations(app.id)
            .await?
            .into_iter()
            .find(|i| i.account.eq_ignore_ascii_case(account))
            .ok_or(Error::NotFound)?;
        if installation.suspended_at.is_some() == suspend {
            return Ok(installation);
        }
        installation.suspended_at = if suspend { Some(self.store().now().await?) } else { None };
        self.store().put(INSTALLATION, &installation.id.to_string(), Some(&app.id.to_string()), &installation).await?;
        let owner = self.gh_user(&installation.account).await?.ok_or(Error::NotFound)?;
        let payload = json!({
            "action": if suspend { "suspend" } else { "unsuspend" },
            "installation": super::app::installation_json(self, &app, &installation).await?,
            "sender": user_json(self, &owner),
        });
        crate::deliveries::enqueue_github(self, "installation", &payload).await?;
        Ok(installation)
    }
}

/// The built-in App and its two installations (every repository of the
/// creator and of their organisation).
pub async fn seed(sb: &Sandbox) -> Result<(), Error> {
    let app = App {
        id: BUILT_IN_APP_ID,
        slug: "repopass-sandbox".into(),
        name: "RepoPass (sandbox)".into(),
        owner: CREATOR.into(),
        description: Some("The sandbox's GitHub App".into()),
        url: Some(sb.url("/")),
        client_id: crate::GITHUB_CLIENT_ID.into(),
        client_secret: crate::GITHUB_CLIENT_SECRET.into(),
        webhook_url: None,
        webhook_secret: None,
        callback_urls: vec![sb.url("/auth/github/callback")],
        redirect_url: None,
        setup_url: None,
        permissions: json!({ "administration": "write", "members": "read", "metadata": "read" }),
        events: vec!["member".into(), "repository".into()],
        created_at: 1_767_225_600,
    };
    sb.store().insert_new(APP, &app.id.to_string(), None, &app).await?;
    for (id, account) in [(1, CREATOR), (2, ORG)] {
        let installation = Installation {
            id,
            app_id: BUILT_IN_APP_ID,
            account: account.into(),
            selection: "all".into(),
            repositories: vec![],
            suspended_at: None,
        };
        sb.store().insert_new(INSTALLATION, &id.to_string(), Some(&BUILT_IN_APP_ID.to_string()), &installation).await?;
    }
    Ok(())
}

pub fn app_json(sb: &Sandbox, app: &App, owner: &User) -> Value {
    json!({
        "id": app.id, "slug": app.slug, "node_id": format!("A_sandbox{}", app.id), "client_id": app.client_id,
        "owner": user_json(sb, owner), "name": app.name, "description": app.description,
        "external_url": app.url, "html_url": sb.web_url(&format!("/apps/{}", app.slug)),
        "created_at": rfc3339(app.created_at), "updated_at": rfc3339(app.created_at),
        "permissions": app.permissions, "events": app.events,
    })
}

#[derive(Deserialize)]
pub struct StateQuery {
    state: Option<String>,
}

#[derive(Deserialize)]
pub struct ManifestForm {
    manifest: Option<String>,
}

/// The manifest fields GitHub reads.
#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    url: Option<String>,
    description: Option<String>,
    hook_attributes: Option<HookAttributes>,
    redirect_url: Option<String>,
    #[serde(default)]
    callback_urls: Vec<String>,
    setup_url: Option<String>,
    #[serde(default)]
    default_permissions: Value,
    #[serde(default)]
    default_events: Vec<String>,
}

#[derive(Deserialize)]
struct HookAttributes {
    url: Option<String>,
}

fn refused(title: &str, message: &str) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, pages::error_page(title, message)).into_response()
}

/// `POST /settings/apps/new?state=…` with a `manifest`: the App for a person.
pub async fn new_app_page(
    State(sb): State<Sandbox>,
    Query(q): Query<StateQuery>,
    Form(f): Form<ManifestForm>,
) -> Result<Response, Error> {
    let people: Vec<User> =
        sb.store().list::<User>(USER, None).await?.into_iter().filter(|u| !u.organization).collect();
    confirm_page(&sb, q.state, f.manifest, people.into_iter().map(|u| u.login).collect()).await
}

/// `POST /organizations/{org}/settings/apps/new?state=…`: the App for an organisation.
pub async fn new_org_app_page(
    State(sb): State<Sandbox>,
    Path(org): Path<String>,
    Query(q): Query<StateQuery>,
    Form(f): Form<ManifestForm>,
) -> Result<Response, Error> {
    match sb.gh_user(&org).await? {
        Some(u) if u.organization => confirm_page(&sb, q.state, f.manifest, vec![u.login]).await,
        _ => Ok((
            StatusCode::NOT_FOUND,
            pages::error_page("Not found", "There is no such organisation in the sandbox's GitHub."),
        )
            .into_response()),
    }
}

async fn confirm_page(
    sb: &Sandbox,
    state: Option<String>,
    manifest: Option<String>,
    owners: Vec<String>,
) -> Result<Response, Error> {
    let Some(raw) = manifest else {
        return Ok(refused("No manifest", "Post the App manifest in a form field named manifest."));
    };
    let m: Manifest = match serde_json::from_str(&raw) {
        Ok(m) => m,
        Err(e) => return Ok(refused("Invalid manifest", &format!("The manifest is not valid JSON: {e}"))),
    };
    if m.url.as_deref().is_none_or(str::is_empty) {
        return Ok(refused("Invalid manifest", "The manifest needs a url (the App's homepage)."));
    }
    let permissions: Vec<String> = m
        .default_permissions
        .as_object()
        .map(|p| p.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("?"))).collect())
        .unwrap_or_default();
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" { "Create GitHub App" }
            form method="post" action=(sb.web_url("/settings/apps/new/confirm")) class="mt-4 grid gap-4" {
                input type="hidden" name="manifest" value=(raw);
                input type="hidden" name="state" value=(state.unwrap_or_default());
                label class="grid gap-1 text-sm" {
                    span class="font-medium" { "GitHub App name" }
                    input class=(pages::INPUT) name="name" value=(m.name.clone().unwrap_or_default()) required;
                }
                label class="grid gap-1 text-sm" {
                    span class="font-medium" { "Owner" }
                    select class=(pages::INPUT) name="owner" {
                        @for o in &owners { option value=(o) selected[o == CREATOR] { (o) } }
                    }
                }
                dl class="grid gap-2 text-sm text-slate-700" {
                    div { dt class="font-medium" { "Homepage" } dd { (m.url.clone().unwrap_or_default()) } }
                    @if let Some(hook) = m.hook_attributes.as_ref().and_then(|h| h.url.clone()) {
                        div { dt class="font-medium" { "Webhook URL" } dd data-testid="manifest-webhook" { (hook) } }
                    }
                    div { dt class="font-medium" { "Permissions" } dd data-testid="manifest-permissions" { (permissions.join(", ")) } }
                    div { dt class="font-medium" { "Events" } dd { (m.default_events.join(", ")) } }
                }
                button class=(pages::BUTTON) { "Create GitHub App" }
            }
        }
    };
    Ok(pages::page("Create GitHub App", body).into_response())
}

#[derive(Deserialize)]
pub struct Confirm {
    manifest: String,
    state: Option<String>,
    name: String,
    owner: String,
}

fn random(n: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(n).map(char::from).collect()
}

/// "Create GitHub App": the App exists; GitHub sends the browser to the
/// manifest's `redirect_url` with a one-hour code.
pub async fn confirm(State(sb): State<Sandbox>, Form(f): Form<Confirm>) -> Result<Response, Error> {
    let Ok(m) = serde_json::from_str::<Manifest>(&f.manifest) else {
        return Ok(refused("Invalid manifest", "The manifest is not valid JSON."));
    };
    let Some(redirect) = m.redirect_url.clone().filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    else {
        return Ok(refused("Invalid manifest", "The manifest needs a redirect_url to send the code to."));
    };
    let name = f.name.trim().to_owned();
    let slug: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if name.is_empty() || name.chars().count() > 34 || slug.is_empty() {
        return Ok(refused("Invalid name", "A GitHub App name has 1 to 34 characters."));
    }
    if sb.gh_apps().await?.iter().any(|a| a.slug == slug) {
        return Ok(refused("Name is already in use", "GitHub App names are unique: go back and choose another name."));
    }
    let Some(owner) = sb.gh_user(&f.owner).await? else {
        return Ok(refused("Unknown owner", "There is no such account in the sandbox's GitHub."));
    };
    let id = sb.store().next_id("gh_app", 500_001).await? as u64;
    let app = App {
        id,
        slug,
        name,
        owner: owner.login,
        description: m.description,
        url: m.url,
        client_id: format!("Iv23li{}", random(14)),
        client_secret: hex::encode(rand::random::<[u8; 20]>()),
        webhook_url: m.hook_attributes.and_then(|h| h.url),
        webhook_secret: Some(random(32)),
        callback_urls: m.callback_urls,
        redirect_url: Some(redirect.clone()),
        setup_url: m.setup_url,
        permissions: m.default_permissions,
        events: m.default_events,
        created_at: sb.store().now().await?,
    };
    sb.store().put(APP, &id.to_string(), None, &app).await?;
    let code = random(20);
    let expires_at = sb.store().now().await? + CODE_TTL;
    sb.store().put(MANIFEST_CODE, &code, None, &json!({ "app_id": id, "expires_at": expires_at })).await?;
    let mut target = url::Url::parse(&redirect).map_err(|e| Error::BadRequest(e.to_string()))?;
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = f.state.filter(|s| !s.is_empty()) {
        target.query_pairs_mut().append_pair("state", &state);
    }
    Ok(Redirect::to(target.as_str()).into_response())
}

/// `POST /app-manifests/{code}/conversions`: the App's credentials, once.
pub async fn conversion(State(sb): State<Sandbox>, Path(code): Path<String>) -> Result<Response, Error> {
    let not_found = || gh_error(StatusCode::NOT_FOUND, "Not Found", "apps/apps#create-a-github-app-from-a-manifest");
    let Some(grant) = sb.store().get::<Value>(MANIFEST_CODE, &code).await? else { return Ok(not_found()) };
    sb.store().delete(MANIFEST_CODE, &code).await?;
    if grant["expires_at"].as_i64().unwrap_or(0) < sb.store().now().await? {
        return Ok(not_found());
    }
    let Some(app) = sb.gh_app(grant["app_id"].as_u64().unwrap_or(0)).await? else { return Ok(not_found()) };
    let owner = sb.gh_user(&app.owner).await?.ok_or(Error::NotFound)?;
    let mut body = app_json(&sb, &app, &owner);
    body["client_secret"] = json!(app.client_secret);
    body["webhook_secret"] = json!(app.webhook_secret);
    body["pem"] = json!(super::app::PRIVATE_KEY_PEM);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /apps/{slug}/installations/new`: where to install, and on which repositories.
pub async fn install_page(State(sb): State<Sandbox>, Path(slug): Path<String>) -> Result<Response, Error> {
    let Some(app) = sb.gh_apps().await?.into_iter().find(|a| a.slug == slug) else {
        return Ok((
            StatusCode::NOT_FOUND,
            pages::error_page("Not found", "There is no such GitHub App in the sandbox."),
        )
            .into_response());
    };
    let repos = sb.gh_repos().await?;
    let accounts: Vec<String> = {
        let mut owners: Vec<String> = repos.iter().map(|r| r.owner.clone()).collect();
        owners.sort();
        owners.dedup();
        owners
    };
    let body = html! {
        div class="rounded-xl border border-slate-200 bg-white p-8 shadow-sm" {
            p class="text-sm text-slate-500" { "GitHub (sandbox)" }
            h1 class="mt-1 text-xl font-semibold" { "Install " (app.name) }
            form method="post" class="mt-4 grid gap-4" {
                label class="grid gap-1 text-sm" {
                    span class="font-medium" { "Install on" }
                    select class=(pages::INPUT) name="account" {
                        @for a in &accounts { option value=(a) selected[a == CREATOR] { (a) } }
                    }
                }
                fieldset class="grid gap-1 text-sm" {
                    legend class="font-medium" { "Repository access" }
                    label { input type="radio" name="selection" value="all"; " All repositories" }
                    label { input type="radio" name="selection" value="selected" checked; " Only select repositories" }
                }
                fieldset class="grid gap-1 text-sm" data-testid="install-repositories" {
                    legend class="font-medium" { "Repositories" }
                    @for r in &repos {
                        label { input type="checkbox" name="repositories" value=(r.full_name()); " " (r.full_name()) }
                    }
                }
                button class=(pages::BUTTON) { "Install" }
            }
        }
    };
    Ok(pages::page("Install GitHub App", body).into_response())
}

/// "Install": creates (or changes) the App's installation on the account,
/// then GitHub sends the browser to the App's setup URL.
pub async fn install(State(sb): State<Sandbox>, Path(slug): Path<String>, body: String) -> Result<Response, Error> {
    let Some(app) = sb.gh_apps().await?.into_iter().find(|a| a.slug == slug) else { return Err(Error::NotFound) };
    let mut account = String::new();
    let mut selection = "selected".to_owned();
    let mut chosen = Vec::new();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "account" => account = v.into_owned(),
            "selection" => selection = if v == "all" { "all".into() } else { "selected".into() },
            "repositories" => chosen.push(v.into_owned()),
            _ => {}
        }
    }
    if sb.gh_user(&account).await?.is_none() {
        return Ok(refused("Unknown account", "Choose an account to install the App on."));
    }
    let repositories: Vec<String> = chosen
        .iter()
        .filter_map(|full| full.split_once('/'))
        .filter(|(owner, _)| owner.eq_ignore_ascii_case(&account))
        .map(|(_, name)| name.to_owned())
        .collect();
    if selection == "selected" && repositories.is_empty() {
        return Ok(refused("No repositories", &format!("Pick at least one repository of {account}, or all of them.")));
    }
    let existing = sb.gh_installations(app.id).await?.into_iter().find(|i| i.account.eq_ignore_ascii_case(&account));
    let id = match &existing {
        Some(i) => i.id,
        None => sb.store().next_id("gh_installation", 100).await?,
    };
    let suspended_at = existing.as_ref().and_then(|i| i.suspended_at);
    let installation = Installation { id, app_id: app.id, account, selection, repositories, suspended_at };
    sb.store().put(INSTALLATION, &id.to_string(), Some(&app.id.to_string()), &installation).await?;
    let action = if existing.is_some() { "update" } else { "install" };
    match app.setup_url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
        Some(mut target) => {
            target
                .query_pairs_mut()
                .append_pair("installation_id", &id.to_string())
                .append_pair("setup_action", action);
            Ok(Redirect::to(target.as_str()).into_response())
        }
        None => Ok(pages::page("Installed", html! { p data-testid="installed" { (app.name) " is installed." } })
            .into_response()),
    }
}

/// Where a GitHub event about `repo` goes besides the built-in target:
/// each App installed on it with a webhook (endpoint id, URL, installation).
pub async fn webhook_targets(sb: &Sandbox, repo: Option<&Repo>) -> Result<Vec<(String, String, i64)>, Error> {
    let Some(repo) = repo else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for app in sb.gh_apps().await? {
        let Some(url) = app.webhook_url.clone() else { continue };
        for i in sb.gh_installations(app.id).await? {
            if i.covers(repo) {
                out.push((format!("app:{}", app.id), url.clone(), i.id));
            }
        }
    }
    Ok(out)
}

/// The webhook secret of an App's deliveries (`app:{id}`).
pub async fn webhook_secret(sb: &Sandbox, endpoint: &str) -> Result<Option<String>, Error> {
    let Some(id) = endpoint.strip_prefix("app:").and_then(|id| id.parse().ok()) else { return Ok(None) };
    Ok(sb.gh_app(id).await?.and_then(|a| a.webhook_secret))
}
