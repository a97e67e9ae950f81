//! `/sandbox/requests`: a request bin for RepoPass's outgoing webhooks, so
//! the whole flow works in zero-config mode. Point an endpoint at
//! `/sandbox/requests/{bin}` (any name); each POST is kept with its headers
//! and body and answered with the bin's status (200, or one set to try
//! failures). Given the endpoint's secret, the bin checks each request's
//! `webhook-signature` with the Standard Webhooks library — not with
//! RepoPass's own signing code.
//!
//! - `POST /sandbox/requests/{bin}`: receive (what RepoPass calls);
//! - `GET /sandbox/requests?bin=…`: the page; `GET /sandbox/requests/{bin}.json`: the same as JSON;
//! - `POST /sandbox/requests/{bin}/secret`, `/respond`: the bin's secret, its answer.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use maud::html;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{github::model::rfc3339, pages, Error, Sandbox};

const KIND: &str = "request_bin";
/// The most a bin keeps of one body.
const MAX_BODY: usize = 256 * 1024;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/requests", get(page))
        .route("/requests/{bin}", post(receive).get(bin_json))
        .route("/requests/{bin}/secret", post(set_secret))
        .route("/requests/{bin}/respond", post(set_status))
}

/// One request as the bin keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Received {
    pub id: i64,
    pub bin: String,
    pub method: String,
    /// Every header, lowercased names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status the bin answered with.
    pub answered: u16,
    /// Unix seconds (this machine's clock, not the sandbox's).
    pub received_at: i64,
}

/// A bin name: letters, digits, `-` and `_`, as a path segment.
fn checked(bin: &str) -> Result<String, Error> {
    let bin = bin.strip_suffix(".json").unwrap_or(bin);
    if bin.is_empty() || bin.len() > 64 || !bin.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::BadRequest(format!("'{bin}' is not a bin name: use letters, digits, '-' and '_'")));
    }
    Ok(bin.to_owned())
}

async fn receive(
    State(sb): State<Sandbox>,
    Path(bin): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let bin = checked(&bin)?;
    let answered = match sb.store().setting(&format!("bin:{bin}:status")).await? {
        Some(status) => status.parse::<u16>().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK),
        None => StatusCode::OK,
    };
    let id = sb.store().next_id("request_bin", 1).await?;
    let received = Received {
        id,
        bin: bin.clone(),
        method: "POST".into(),
        headers: headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body[..body.len().min(MAX_BODY)]).into_owned(),
        answered: answered.as_u16(),
        received_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default(),
    };
    sb.store().put(KIND, &format!("{id:012}"), Some(&bin), &received).await?;
    let reply = if answered.is_success() { "received" } else { "failing on purpose (set on /sandbox/requests)" };
    Ok((answered, Json(json!({ "bin": bin, "id": id, "message": reply }))).into_response())
}

/// What the bin's check of one request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// One of its `v1,` signatures is the secret's.
    Verified,
    Mismatch,
    /// A header is missing: not a Standard Webhooks delivery.
    Unsigned,
    /// The bin has no secret to check with.
    NoSecret,
}

fn header<'a>(r: &'a Received, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Signs the request again with the secret and looks for that signature
/// among those sent (the timestamp as sent: a request kept for a day still
/// shows whether it was signed right).
fn check(r: &Received, secret: Option<&str>) -> Signature {
    let Some(secret) = secret else { return Signature::NoSecret };
    let (Some(id), Some(timestamp), Some(signatures)) =
        (header(r, "webhook-id"), header(r, "webhook-timestamp"), header(r, "webhook-signature"))
    else {
        return Signature::Unsigned;
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else { return Signature::Mismatch };
    let Ok(webhook) = standardwebhooks::Webhook::new(secret) else { return Signature::Mismatch };
    let Ok(expected) = webhook.sign(id, timestamp, r.body.as_bytes()) else { return Signature::Mismatch };
    if signatures.split_whitespace().any(|s| s == expected) {
        Signature::Verified
    } else {
        Signature::Mismatch
    }
}

async fn requests(sb: &Sandbox, bin: &str) -> Result<Vec<Received>, Error> {
    let mut all: Vec<Received> = sb.store().list(KIND, Some(bin)).await?;
    all.reverse();
    all.truncate(100);
    Ok(all)
}

/// `GET /sandbox/requests/{bin}.json`: newest first, each with its check.
async fn bin_json(State(sb): State<Sandbox>, Path(bin): Path<String>) -> Result<Response, Error> {
    let bin = checked(&bin)?;
    let secret = sb.store().setting(&format!("bin:{bin}:secret")).await?;
    let list: Vec<_> = requests(&sb, &bin)
        .await?
        .into_iter()
        .map(|r| json!({ "signature": check(&r, secret.as_deref()), "request": r }))
        .collect();
    Ok(Json(json!({ "bin": bin, "requests": list })).into_response())
}

#[derive(Deserialize)]
struct Which {
    bin: Option<String>,
}

async fn page(State(sb): State<Sandbox>, Query(which): Query<Which>) -> Result<Response, Error> {
    let bin = checked(which.bin.as_deref().filter(|b| !b.trim().is_empty()).unwrap_or("default"))?;
    let secret = sb.store().setting(&format!("bin:{bin}:secret")).await?;
    let status = sb.store().setting(&format!("bin:{bin}:status")).await?.unwrap_or_else(|| "200".into());
    let list = requests(&sb, &bin).await?;
    let address = sb.url(&format!("/sandbox/requests/{bin}"));
    let body = html! {
        h1 class="text-2xl font-semibold" { "Request bin " code { (bin) } }
        p class="mt-2 text-sm text-slate-600" {
            "Point a webhook endpoint at " code data-testid="bin-url" { (address) }
            ". Each request RepoPass sends arrives here, newest first."
        }
        form method="get" class="mt-4 flex gap-2" {
            input name="bin" value=(bin) aria-label="Bin name" class=(pages::INPUT);
            button class=(pages::BUTTON) { "Open bin" }
        }
        div class="mt-4 grid gap-4 sm:grid-cols-2" {
            form method="post" action={"/sandbox/requests/" (bin) "/secret"} class="rounded-xl bg-white p-4 shadow-sm" {
                label class="text-sm font-medium" for="bin-secret" { "Signing secret" }
                p class="text-xs text-slate-500" {
                    @if secret.is_some() { "Set: signatures are checked with it." } @else { "Paste the endpoint's whsec_… secret to check signatures." }
                }
                input id="bin-secret" name="secret" type="password" autocomplete="off" placeholder="whsec_…" class=(pages::INPUT);
                button class={(pages::BUTTON) " mt-2"} { "Check with this secret" }
            }
            form method="post" action={"/sandbox/requests/" (bin) "/respond"} class="rounded-xl bg-white p-4 shadow-sm" {
                label class="text-sm font-medium" for="bin-status" { "Answer with HTTP status" }
                p class="text-xs text-slate-500" { "200 accepts; 500 lets you watch RepoPass retry." }
                input id="bin-status" name="status" value=(status) inputmode="numeric" class=(pages::INPUT);
                button class={(pages::BUTTON) " mt-2"} { "Answer with it" }
            }
        }
        @if list.is_empty() { p class="mt-6 text-slate-500" { "Nothing received yet." } }
        @for r in &list {
            @let verdict = check(r, secret.as_deref());
            article class="mt-6 rounded-xl bg-white p-6 shadow-sm" data-testid="bin-request" {
                div class="flex flex-wrap items-center gap-2 text-sm text-slate-500" {
                    span { (r.method) " · " (rfc3339(r.received_at)) " · answered " (r.answered) }
                    @match verdict {
                        Signature::Verified => span class="rounded bg-emerald-100 px-2 py-0.5 font-medium text-emerald-800" data-testid="signature" { "Signature verified" },
                        Signature::Mismatch => span class="rounded bg-red-100 px-2 py-0.5 font-medium text-red-800" data-testid="signature" { "Signature does not match the secret" },
                        Signature::Unsigned => span class="rounded bg-amber-100 px-2 py-0.5 font-medium text-amber-900" data-testid="signature" { "Not signed" },
                        Signature::NoSecret => span class="rounded bg-slate-100 px-2 py-0.5 font-medium text-slate-700" data-testid="signature" { "No secret set to check with" },
                    }
                }
                dl class="mt-3 grid grid-cols-[auto_1fr] gap-x-3 text-xs" {
                    @for (name, value) in &r.headers {
                        @if name.starts_with("webhook-") || name == "content-type" || name == "user-agent" {
                            dt class="font-mono text-slate-500" { (name) }
                            dd class="break-all font-mono" { (value) }
                        }
                    }
                }
                pre class="mt-3 overflow-x-auto rounded bg-slate-50 p-3 text-xs" { (pretty(&r.body)) }
            }
        }
    };
    Ok(pages::page("Request bin", body).into_response())
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned())
}

#[derive(Deserialize)]
struct SecretForm {
    secret: String,
}

async fn set_secret(
    State(sb): State<Sandbox>,
    Path(bin): Path<String>,
    Form(form): Form<SecretForm>,
) -> Result<Response, Error> {
    let bin = checked(&bin)?;
    let secret = form.secret.trim();
    if standardwebhooks::Webhook::new(secret).is_err() || !secret.starts_with("whsec_") {
        return Err(Error::BadRequest("a signing secret is whsec_ followed by base64, as RepoPass showed it".into()));
    }
    sb.store().set_setting(&format!("bin:{bin}:secret"), secret).await?;
    Ok(Redirect::to(&format!("/sandbox/requests?bin={bin}")).into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn set_status(
    State(sb): State<Sandbox>,
    Path(bin): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, Error> {
    let bin = checked(&bin)?;
    let status = form.status.trim().parse::<u16>().ok().filter(|s| (200..600).contains(s)).ok_or_else(|| {
        Error::BadRequest(format!("'{}' is not an HTTP status: give a number from 200 to 599", form.status.trim()))
    })?;
    sb.store().set_setting(&format!("bin:{bin}:status"), &status.to_string()).await?;
    Ok(Redirect::to(&format!("/sandbox/requests?bin={bin}")).into_response())
}
