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
    model::{repo_json, rfc3339, user_json, TOKEN},
    seed::{CREATOR, ORG},
};
use crate::{Error, Sandbox};

pub const APP_ID: u64 = 424_242;
pub const APP_SLUG: &str = "repopass-sandbox";
/// The private half, for tests and for running RepoPass in App mode against the sandbox.
pub const PRIVATE_KEY_PEM: &str = include_str!("sandbox-app-private-key.pem");
const PUBLIC_KEY_PEM: &str = include_str!("sandbox-app-public-key.pem");
const TOKEN_TTL: i64 = 3600;

/// Installations: one per account the App is installed on.
const INSTALLATIONS: [(i64, &str); 2] = [(1, CREATOR), (2, ORG)];

#[derive(Deserialize)]
struct Claims {
    iss: Value,
    iat: i64,
    exp: i64,
}

/// Checks the App JWT in `Authorization: Bearer …`.
fn verify_jwt(headers: &HeaderMap) -> Result<(), Response> {
    let unauthorized = |why: &str| {
        gh_error(StatusCode::UNAUTHORIZED, why, "apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app")
    };
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("A JSON web token could not be decoded"))?;
    let key =
        DecodingKey::from_rsa_pem(PUBLIC_KEY_PEM.as_bytes()).map_err(|_| unauthorized("sandbox key unreadable"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 60;
    // GitHub App JWTs carry `iss` as a number, which the spec check does not
    // recognise; `Claims` requires it and it is checked below.
    validation.set_required_spec_claims(&["exp", "iat"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| unauthorized(&format!("A JSON web token could not be decoded ({e})")))?;
    let iss = match &data.claims.iss {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if iss != Some(APP_ID) {
        return Err(unauthorized("'Issuer' claim ('iss') must be an Integer"));
    }
    if data.claims.exp - data.claims.iat > 600 {
        return Err(unauthorized("'Expiration time' claim ('exp') is too far in the future"));
    }
    Ok(())
}

fn app_json(sb: &Sandbox, owner: &Value) -> Value {
    json!({
        "id": APP_ID, "slug": APP_SLUG, "node_id": "A_sandbox", "client_id": crate::GITHUB_CLIENT_ID,
        "owner": owner, "name": "RepoPass (sandbox)", "description": "The sandbox's GitHub App",
        "external_url": sb.url("/"), "html_url": sb.web_url(&format!("/apps/{APP_SLUG}")),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "permissions": { "administration": "write", "members": "read", "metadata": "read" },
        "events": ["member", "repository"], "installations_count": INSTALLATIONS.len()
    })
}

async fn installation_json(sb: &Sandbox, id: i64, login: &str) -> Result<Value, Error> {
    let account = sb.gh_user(login).await?.ok_or(Error::NotFound)?;
    Ok(json!({
        "id": id, "account": user_json(sb, &account), "app_id": APP_ID, "app_slug": APP_SLUG,
        "target_id": account.id, "target_type": if account.organization { "Organization" } else { "User" },
        "repository_selection": "all",
        "access_tokens_url": sb.api_url(&format!("/app/installations/{id}/access_tokens")),
        "repositories_url": sb.api_url("/installation/repositories"),
        "html_url": sb.web_url(&format!("/settings/installations/{id}")),
        "permissions": { "administration": "write", "members": "read", "metadata": "read" },
        "events": ["member", "repository"], "single_file_name": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "suspended_at": null
    }))
}

pub async fn get_app(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    if let Err(denied) = verify_jwt(&headers) {
        return Ok(denied);
    }
    let owner = sb.gh_user(CREATOR).await?.ok_or(Error::NotFound)?;
    Ok(Json(app_json(&sb, &user_json(&sb, &owner))).into_response())
}

pub async fn list_installations(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    if let Err(denied) = verify_jwt(&headers) {
        return Ok(denied);
    }
    let mut out = Vec::new();
    for (id, login) in INSTALLATIONS {
        out.push(installation_json(&sb, id, login).await?);
    }
    Ok(Json(out).into_response())
}

/// `GET /repos/{o}/{r}/installation` (and the org/user variants).
pub async fn repo_installation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((owner, _repo)): Path<(String, String)>,
) -> Result<Response, Error> {
    installation_for(sb, headers, owner).await
}

pub async fn account_installation(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(owner): Path<String>,
) -> Result<Response, Error> {
    installation_for(sb, headers, owner).await
}

async fn installation_for(sb: Sandbox, headers: HeaderMap, owner: String) -> Result<Response, Error> {
    if let Err(denied) = verify_jwt(&headers) {
        return Ok(denied);
    }
    match INSTALLATIONS.iter().find(|(_, login)| login.eq_ignore_ascii_case(&owner)) {
        Some((id, login)) => Ok(Json(installation_json(&sb, *id, login).await?).into_response()),
        None => Ok(gh_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "apps/apps#get-a-repository-installation-for-the-authenticated-app",
        )),
    }
}

/// `POST /app/installations/{id}/access_tokens`: a token valid for an hour.
pub async fn create_access_token(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    if let Err(denied) = verify_jwt(&headers) {
        return Ok(denied);
    }
    let Some((_, login)) = INSTALLATIONS.iter().find(|(i, _)| *i == id) else {
        return Ok(gh_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "apps/apps#create-an-installation-access-token-for-an-app",
        ));
    };
    let token = format!("ghs_{}", rand::rng().sample_iter(&Alphanumeric).take(36).map(char::from).collect::<String>());
    let expires_at = sb.store().now().await? + TOKEN_TTL;
    sb.store()
        .put(TOKEN, &token, None, &json!({ "login": login, "installation": id, "expires_at": expires_at }))
        .await?;
    let body = json!({
        "token": token, "expires_at": rfc3339(expires_at),
        "permissions": { "administration": "write", "members": "read", "metadata": "read" },
        "repository_selection": "all"
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /installation/repositories` with an installation token.
pub async fn installation_repositories(State(sb): State<Sandbox>, headers: HeaderMap) -> Result<Response, Error> {
    let Some(login) = super::api::caller_login(&sb, &headers).await? else {
        return Ok(gh_error(StatusCode::UNAUTHORIZED, "Bad credentials", "overview/authenticating-to-the-rest-api"));
    };
    let owner = sb.gh_user(&login).await?.ok_or(Error::NotFound)?;
    let mut repositories = Vec::new();
    for repo in sb.gh_repos().await? {
        if repo.owner.eq_ignore_ascii_case(&login) {
            repositories.push(repo_json(&sb, &repo, &owner, true));
        }
    }
    Ok(Json(json!({ "total_count": repositories.len(), "repository_selection": "all", "repositories": repositories }))
        .into_response())
}
