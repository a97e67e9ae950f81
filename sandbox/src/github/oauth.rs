//! GitHub's OAuth web flow, sandboxed: an authorize page where you pick (or
//! type) who you are, and the token endpoint that the oauth2 crate calls.

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form, Json,
};
use base64::Engine;
use maud::html;
use rand::{distr::Alphanumeric, Rng};
use serde::Deserialize;
use serde_json::{json, Value};

use super::model::*;
use crate::{pages, Error, Sandbox};

const CODE_TTL: i64 = 600;

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
}

/// Checks the parameters as GitHub would; the error page says what is
/// wrong. The built-in OAuth app calls back to this RepoPass; an App made
/// from a manifest to one of its callback URLs (or a path below one).
async fn check_client(
    sb: &Sandbox,
    client_id: Option<&str>,
    redirect_uri: Option<&str>,
) -> Result<Result<String, Response>, Error> {
    let unknown = || {
        pages::error_page(
            "Unknown application",
            "The client_id is neither the sandbox's OAuth app nor a GitHub App created in the sandbox.",
        )
        .into_response()
    };
    let mismatch = || {
        pages::error_page(
            "Redirect URI mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        )
        .into_response()
    };
    let Some(client_id) = client_id else { return Ok(Err(unknown())) };
    let allowed: Vec<String> = if client_id == crate::GITHUB_CLIENT_ID {
        vec![sb.url("/")]
    } else {
        match sb.gh_app_by_client(client_id).await? {
            Some(app) => app.callback_urls,
            None => return Ok(Err(unknown())),
        }
    };
    Ok(match redirect_uri {
        Some(uri) if allowed.iter().any(|a| uri.starts_with(a.as_str())) => Ok(uri.to_owned()),
        _ => Err(mismatch()),
    })
}

/// Whether the client id and secret belong together (the built-in OAuth
/// app, or an App made from a manifest).
async fn client_credentials_ok(sb: &Sandbox, id: Option<&str>, secret: Option<&str>) -> Result<bool, Error> {
    let (Some(id), Some(secret)) = (id, secret) else { return Ok(false) };
    if id == crate::GITHUB_CLIENT_ID {
        return Ok(secret == crate::GITHUB_CLIENT_SECRET);
    }
    Ok(sb.gh_app_by_client(id).await?.is_some_and(|app| app.client_secret == secret))
}

pub async fn authorize_page(State(sb): State<Sandbox>, Query(q): Query<AuthorizeQuery>) -> Result<Response, Error> {
    let redirect_uri = match check_client(&sb, q.client_id.as_deref(), q.redirect_uri.as_deref()).await? {
        Ok(uri) => uri,
        Err(page) => return Ok(page),
    };
    let client_id = q.client_id.clone().unwrap_or_default();
    let people: Vec<User> =
        sb.store().list::<User>(USER, None).await?.into_iter().filter(|u| !u.organization).collect();
    let hidden = html! {
        input type="hidden" name="client_id" value=(client_id);
        input type="hidden" name="redirect_uri" value=(redirect_uri);
        input type="hidden" name="state" value=(q.state.clone().unwrap_or_default());
        input type="hidden" name="scope" value=(q.scope.clone().unwrap_or_default());
    };
    let body = html! {
        div class="rounded-xl bg-white p-8 shadow-sm" {
            h1 class="text-2xl font-semibold" { "Sign in to GitHub" }
            p class="mt-1 text-slate-600" { "to continue to RepoPass. Pick the account to sign in as (sandbox accounts need no password)." }
            ul class="mt-6 divide-y divide-slate-100" {
                @for user in &people {
                    li class="flex items-center justify-between py-3" {
                        div class="flex items-center gap-3" {
                            img class="h-8 w-8 rounded-full" src=(sb.web_url(&format!("/avatars/{}.svg", user.login))) alt="";
                            div {
                                div class="font-medium" { (user.login) }
                                @if let Some(name) = &user.name { div class="text-sm text-slate-500" { (name) } }
                            }
                        }
                        form method="post" {
                            (hidden)
                            input type="hidden" name="login" value=(user.login);
                            button type="submit" class=(pages::BUTTON) data-login=(user.login) { "Sign in as " (user.login) }
                        }
                    }
                }
            }
            form method="post" class="mt-6 flex gap-2 border-t border-slate-100 pt-6" {
                (hidden)
                label class="sr-only" for="login" { "Another GitHub login" }
                input id="login" name="login" class=(pages::INPUT) placeholder="or type any login, e.g. new-buyer" required pattern="[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}";
                button type="submit" class=(pages::BUTTON) { "Continue" }
            }
        }
    };
    Ok(pages::page("Sign in to GitHub", body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeForm {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    login: String,
}

pub async fn authorize_submit(State(sb): State<Sandbox>, Form(f): Form<AuthorizeForm>) -> Result<Response, Error> {
    let redirect_uri = match check_client(&sb, f.client_id.as_deref(), f.redirect_uri.as_deref()).await? {
        Ok(uri) => uri,
        Err(page) => return Ok(page),
    };
    let login = f.login.trim();
    let user = match sb.gh_user(login).await? {
        Some(user) if user.organization => {
            return Ok(pages::error_page("That is an organisation", "Organisations cannot sign in; pick a person.")
                .into_response())
        }
        Some(user) => user,
        None => match sb.gh_create_user(login, None).await {
            Ok(user) => user,
            Err(Error::BadRequest(message)) => {
                return Ok(pages::error_page("Not a GitHub login", &message).into_response())
            }
            Err(other) => return Err(other),
        },
    };
    let code: String = rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
    let now = sb.store().now().await?;
    let grant = json!({ "login": user.login, "client_id": f.client_id, "redirect_uri": redirect_uri, "scope": f.scope.unwrap_or_default(), "created_at": now });
    sb.store().put(OAUTH_CODE, &code, None, &grant).await?;
    let mut target = url::Url::parse(&redirect_uri).map_err(|e| Error::BadRequest(e.to_string()))?;
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = f.state.filter(|s| !s.is_empty()) {
        target.query_pairs_mut().append_pair("state", &state);
    }
    Ok(Redirect::to(target.as_str()).into_response())
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
}

/// `POST /login/oauth/access_token`. Like GitHub, errors come back with
/// status 200 and an `error` field; JSON only when asked for.
pub async fn access_token(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Result<Response, Error> {
    let wants_json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    let (client_id, client_secret) = match basic_auth(&headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (f.client_id, f.client_secret),
    };
    if !client_credentials_ok(&sb, client_id.as_deref(), client_secret.as_deref()).await? {
        return Ok(token_error(
            wants_json,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ));
    }
    let code = f.code.unwrap_or_default();
    let Some(grant) = sb.store().get::<Value>(OAUTH_CODE, &code).await? else {
        return Ok(token_error(wants_json, "bad_verification_code", "The code passed is incorrect or expired."));
    };
    // Single use, whatever happens next.
    sb.store().delete(OAUTH_CODE, &code).await?;
    // A code is for the application it was issued to.
    if grant["client_id"].as_str().is_some_and(|issued| Some(issued) != client_id.as_deref()) {
        return Ok(token_error(wants_json, "bad_verification_code", "The code passed is incorrect or expired."));
    }
    let now = sb.store().now().await?;
    if grant["created_at"].as_i64().unwrap_or(0) + CODE_TTL < now {
        return Ok(token_error(wants_json, "bad_verification_code", "The code passed is incorrect or expired."));
    }
    if let Some(uri) = f.redirect_uri {
        if grant["redirect_uri"].as_str() != Some(uri.as_str()) {
            return Ok(token_error(
                wants_json,
                "redirect_uri_mismatch",
                "The redirect_uri MUST match the registered callback URL for this application.",
            ));
        }
    }
    let token = format!("gho_{}", rand::rng().sample_iter(&Alphanumeric).take(36).map(char::from).collect::<String>());
    let scope = grant["scope"].as_str().unwrap_or_default().replace(' ', ",");
    sb.store().put(TOKEN, &token, None, &json!({ "login": grant["login"], "scope": scope })).await?;
    let body = json!({ "access_token": token, "token_type": "bearer", "scope": scope });
    Ok(respond(wants_json, body))
}

fn token_error(wants_json: bool, error: &str, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": description,
        "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
    });
    respond(wants_json, body)
}

fn respond(wants_json: bool, body: Value) -> Response {
    if wants_json {
        return Json(body).into_response();
    }
    let mut form = form_urlencoded::Serializer::new(String::new());
    if let Some(map) = body.as_object() {
        for (k, v) in map {
            form.append_pair(k, v.as_str().unwrap_or_default());
        }
    }
    ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")], form.finish()).into_response()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

/// A generated avatar: initials on a colour derived from the login.
pub async fn avatar(Path(file): Path<String>) -> Response {
    let login = file.strip_suffix(".svg").unwrap_or(&file);
    let hue = login.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360;
    let initials: String =
        login.chars().filter(|c| c.is_ascii_alphanumeric()).take(2).collect::<String>().to_uppercase();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="32" fill="hsl({hue},55%,45%)"/><text x="32" y="41" font-family="sans-serif" font-size="24" font-weight="600" fill="#fff" text-anchor="middle">{initials}</text></svg>"##
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg)
        .into_response()
}
