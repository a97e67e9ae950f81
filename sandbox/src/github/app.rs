//! The sandbox's GitHub App, for RepoPass configured with `GITHUB_APP_ID` +
//! `GITHUB_APP_PRIVATE_KEY` instead of a token. Requests are authenticated
//! as GitHub does: an RS256 JWT from the App (`iss` = App id, at most 10
//! minutes long) for `/app/…`, and installation tokens minted from it for
//! everything else.
//!
//! The App's key pair is deliberately public (it is in this repository):
//! it opens the sandbox and nothing else.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::{distr::Alphanumeric, Rng};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    api::gh_error,
    apps::{App, Installation},
    model::{repo_json, rfc3339, user_json, TOKEN},
};
use crate::{Error, Sandbox};

pub const APP_ID: u64 = super::apps::BUILT_IN_APP_ID;
pub const APP_SLUG: &str = "repopass-sandbox";
/// The private half, for tests and for running RepoPass in App mode against
/// the sandbox. Apps created from a manifest get it too.
pub const PRIVATE_KEY_PEM: &str = include_str!("sandbox-app-private-key.pem");
const PUBLIC_KEY_PEM: &str = include_str!("sandbox-app-public-key.pem");
const TOKEN_TTL: i64 = 3600;

#[derive(Deserialize)]
struct Claims {
    iss: Value,
    iat: i64,
    exp: i64,
}

fn unauthorized(why: &str) -> Response {
    gh_error(
        StatusCode::UNAUTHORIZED,
        why,
        "apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app",
    )
}

/// Checks the App JWT in `Authorization: Bearer …`; the App it names.
async fn verify_jwt(sb: &Sandbox, headers: &HeaderMap) -> Result<Result<App, Response>, Error> {
    let Some(token) =
        headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Ok(Err(unauthorized("A JSON web token could not be decoded")));
    };
    let Ok(key) = DecodingKey::from_rsa_pem(PUBLIC_KEY_PEM.as_bytes()) else {
        return Ok(Err(unauthorized("sandbox key unreadable")));
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 60;
    // GitHub App JWTs carry `iss` as a number, which the spec check does not
    // recognise; `Claims` requires it and it is checked below.
    validation.set_required_spec_claims(&["exp", "iat"]);
    let data = match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
        Ok(data) => data,
        Err(e) => return Ok(Err(unauthorized(&format!("A JSON web token could not be decoded ({e})")))),
    };
    let iss = match &data.claims.iss {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(iss) = iss else { return Ok(Err(unauthorized("'Issuer' claim ('iss') must be an Integer"))) };
    if data.claims.exp - data.claims.iat > 600 {
        return Ok(Err(unauthorized("'Expiration time' claim ('exp') is too far in the future")));
    }
    match sb.gh_app(iss).await? {
        Some(app) => Ok(Ok(app)),
        None => Ok(Err(unauthorized("Integration not found"))),
    }
}

macro_rules! app_or_denied {
    ($sb:expr, $headers:expr) => {
        match verify_jwt(&$sb, &$headers).await? {
            Ok(app) => app,
            Err(denied) => return Ok(denied),
        }
    };
}

pub(crate) async fn installation_json(sb: &Sandbox, app: &App, i: &Installation) -> Result<Value, Error> {
    let account = sb.gh_user(&i.account).await?.ok_or(Error::NotFound)?;
    let suspended_at = i.suspended_at.map(rfc3339);
    let suspended_by = match i.suspended_at {
        Some(_) => user_json(sb, &account),
        None => Value::Null,
    };
    Ok(json!({
        "id": i.id, "account": user_json(sb, &account), "app_id": app.id, "app_slug": app.slug,
        "target_id": account.id, "target_type": if account.organization { "Organization" } else { "User" },
        "repository_selection": i.selection,
        "access_tokens_url": sb.api_url(&format!("/app/installations/{}/access_tokens", i.id)),
        "repositories_url": sb.api_url("/installation/repositories"),
        "html_url": sb.web_url(&format!("/settings/installations/{}", i.id)),
        "permissions": app.permissions, "events": app.events, "single_file_name": null,
        "has_multiple_single_files": false, "single_file_paths": [],
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "suspended_at": suspended_at, "suspended_by": suspended_by
    }))
}

pub async fn get_app(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let app = app_or_denied!(sb, headers);
    let owner = sb.gh_user(&app.owner).await?.ok_or(Error::NotFound)?;
    Ok(Json(super::apps::app_json(&sb, &app, &owner)).into_response())
}

pub async fn list_installations(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let app = app_or_denied!(sb, headers);
    let mut out = Vec::new();
    for i in sb.gh_installations(app.id).await? {
        out.push(installation_json(&sb, &app, &i).await?);
    }
    Ok(Json(out).into_response())
}

fn no_installation() -> Response {
    gh_error(StatusCode::NOT_FOUND, "Not Found", "apps/apps#get-a-repository-installation-for-the-authenticated-app")
}

/// `GET /repos/{o}/{r}/installation`: the installation that covers the
/// repository (an installation on its owner that left it out does not).
pub async fn repo_installation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, repo)): Path<(String, String)>,
) -> Result<Response, Error> {
    let app = app_or_denied!(sb, headers);
    let Some(repo) = sb.gh_repo(&owner, &repo).await? else { return Ok(no_installation()) };
    match sb.gh_installations(app.id).await?.into_iter().find(|i| i.covers(&repo)) {
        Some(i) => Ok(Json(installation_json(&sb, &app, &i).await?).into_response()),
        None => Ok(no_installation()),
    }
}

pub async fn account_installation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(owner): Path<String>,
) -> Result<Response, Error> {
    let app = app_or_denied!(sb, headers);
    match sb.gh_installations(app.id).await?.into_iter().find(|i| i.account.eq_ignore_ascii_case(&owner)) {
        Some(i) => Ok(Json(installation_json(&sb, &app, &i).await?).into_response()),
        None => Ok(no_installation()),
    }
}

/// `POST /app/installations/{id}/access_tokens`: a token valid for an hour.
pub async fn create_access_token(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let app = app_or_denied!(sb, headers);
    let Some(i) = sb.gh_installation(id).await?.filter(|i| i.app_id == app.id) else {
        return Ok(gh_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "apps/apps#create-an-installation-access-token-for-an-app",
        ));
    };
    if i.suspended_at.is_some() {
        // GitHub's answer for a suspended installation.
        return Ok(gh_error(
            StatusCode::FORBIDDEN,
            "This installation has been suspended",
            "apps/apps#create-an-installation-access-token-for-an-app",
        ));
    }
    let token = format!("ghs_{}", rand::rng().sample_iter(&Alphanumeric).take(36).map(char::from).collect::<String>());
    let expires_at = sb.store().now().await? + TOKEN_TTL;
    sb.store()
        .put(TOKEN, &token, None, &json!({ "login": i.account, "installation": id, "expires_at": expires_at }))
        .await?;
    let body = json!({
        "token": token, "expires_at": rfc3339(expires_at),
        "permissions": app.permissions, "repository_selection": i.selection
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /installation/repositories` with an installation token: the
/// repositories the installation covers.
pub async fn installation_repositories(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let Some(login) = super::api::caller_login(&sb, &headers).await? else {
        return Ok(gh_error(StatusCode::UNAUTHORIZED, "Bad credentials", "overview/authenticating-to-the-rest-api"));
    };
    let installation = match super::api::caller_installation(&sb, &headers).await? {
        Some(id) => sb.gh_installation(id).await?,
        None => None,
    };
    let owner = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    let mut repositories = Vec::new();
    for repo in sb.gh_repos().await? {
        let covered = match &installation {
            Some(i) => i.covers(&repo),
            None => repo.owner.eq_ignore_ascii_case(&login),
        };
        if covered {
            repositories.push(repo_json(&sb, &repo, &owner, true));
        }
    }
    let selection = installation.map_or("all".to_owned(), |i| i.selection);
    Ok(Json(
        json!({ "total_count": repositories.len(), "repository_selection": selection, "repositories": repositories }),
    )
    .into_response())
}
