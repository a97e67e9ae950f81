//! `/api/v1/webhook-endpoints`: where RepoPass sends the creator's tools
//! what happens (signed by the Standard Webhooks rules), and each
//! endpoint's delivery log. The events themselves are described in the
//! document's `webhooks` section.

use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use server::{outgoing_delivery, outgoing_endpoints, AppState};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::ApiKey,
    error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody},
};

#[derive(Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    /// The event types sent to it (see the `webhooks` section).
    pub event_types: Vec<String>,
    /// `standard` (signed JSON events), `slack` or `discord` (a sentence per event).
    pub format: String,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Why it is disabled: turned off, or a day of failures.
    pub disabled_reason: Option<String>,
    /// Unix seconds of the first failure since the last success.
    pub failing_since: Option<i64>,
    /// While a rotation overlaps: until when (unix seconds) the previous
    /// secret signs too.
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
}

impl From<outgoing_endpoints::Endpoint> for WebhookEndpoint {
    fn from(e: outgoing_endpoints::Endpoint) -> Self {
        WebhookEndpoint {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types.iter().map(|t| t.to_string()).collect(),
            format: e.format.to_string(),
            status: e.status.to_string(),
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_secret_until,
            created_at: e.created_at,
        }
    }
}

/// An endpoint with its signing secret: only in the answer that made the
/// secret (creation, rotation). Keep it: it is not shown again.
#[derive(Serialize, ToSchema)]
pub struct WithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

impl From<outgoing_endpoints::Revealed> for WithSecret {
    fn from(r: outgoing_endpoints::Revealed) -> Self {
        WithSecret { secret: r.secret.expose().to_owned(), endpoint: r.endpoint.into() }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookEndpoint {
    /// Where to POST: `https://` (any address in the sandbox).
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event types to send; absent or empty: every one (for a chat:
    /// `purchase.paid` and `subscription.cancelled`).
    #[serde(default)]
    pub event_types: Vec<String>,
    /// `standard` (the default), `slack` or `discord`: a Slack or Discord
    /// incoming-webhook URL gets each event as a sentence.
    #[serde(default)]
    pub format: String,
}

impl NewWebhookEndpoint {
    fn into_service(self) -> outgoing_endpoints::NewEndpoint {
        outgoing_endpoints::NewEndpoint {
            url: self.url,
            description: self.description,
            event_types: self.event_types,
            format: self.format,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// false: stop sending; true: send again (its failures so far forgotten).
    pub enabled: Option<bool>,
}

/// Every endpoint.
#[utoipa::path(get, path = "/webhook-endpoints", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookEndpoint>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _key: ApiKey) -> Result<ApiJson<Vec<WebhookEndpoint>>, ApiError> {
    Ok(ApiJson(outgoing_endpoints::list(&state.db).await?.into_iter().map(Into::into).collect()))
}

/// Adds an endpoint. The answer holds its signing secret, this once.
#[utoipa::path(post, path = "/webhook-endpoints", tag = "webhooks", request_body = NewWebhookEndpoint,
    responses((status = 201, body = WithSecret), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiJson(body): ApiJson<NewWebhookEndpoint>,
) -> Result<(StatusCode, ApiJson<WithSecret>), ApiError> {
    let made = outgoing_endpoints::create(&state.db, &state.config, &body.into_service()).await?;
    Ok((StatusCode::CREATED, ApiJson(made.into())))
}

#[utoipa::path(get, path = "/webhook-endpoints/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<WebhookEndpoint>, ApiError> {
    Ok(ApiJson(outgoing_endpoints::get(&state.db, id).await?.into()))
}

/// Changes what is given; the rest stays.
#[utoipa::path(patch, path = "/webhook-endpoints/{id}", tag = "webhooks", params(("id" = i64, Path)), request_body = WebhookEndpointChange,
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<WebhookEndpointChange>,
) -> Result<ApiJson<WebhookEndpoint>, ApiError> {
    let now = outgoing_endpoints::get(&state.db, id).await?;
    let mut endpoint = now.clone();
    if body.url.is_some() || body.description.is_some() || body.event_types.is_some() {
        let change = outgoing_endpoints::NewEndpoint {
            url: body.url.unwrap_or(now.url),
            description: body.description.unwrap_or(now.description),
            event_types: body.event_types.unwrap_or_else(|| now.event_types.iter().map(|t| t.to_string()).collect()),
            format: now.format.to_string(),
        };
        endpoint = outgoing_endpoints::update(&state.db, &state.config, id, &change).await?;
    }
    if let Some(enabled) = body.enabled {
        endpoint = outgoing_endpoints::set_enabled(&state.db, id, enabled).await?;
    }
    Ok(ApiJson(endpoint.into()))
}

/// Removes the endpoint and its delivery log.
#[utoipa::path(delete, path = "/webhook-endpoints/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    outgoing_endpoints::delete(&state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, in the answer this once. The previous one keeps
/// signing beside it for 24 hours: deliveries carry both signatures.
#[utoipa::path(post, path = "/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WithSecret), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<WithSecret>, ApiError> {
    Ok(ApiJson(outgoing_endpoints::rotate_secret(&state.db, &state.config, id).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct Queued {
    /// The delivery made: follow it in the endpoint's deliveries.
    pub delivery_id: i64,
}

/// Sends a `test` event to this endpoint.
#[utoipa::path(post, path = "/webhook-endpoints/{id}/test", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let delivery_id = outgoing_delivery::send_test(&state, id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { delivery_id })))
}

#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    /// The `webhook-id` header and the body's `id`: the same on every
    /// attempt and resend.
    pub message_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Unix seconds of the next attempt, while pending after a failure.
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// The JSON body as sent.
    pub request_body: String,
    pub attempts: Vec<Attempt>,
}

#[derive(Serialize, ToSchema)]
pub struct Attempt {
    pub attempted_at: i64,
    /// The endpoint's HTTP status; null: no answer (see `error`).
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// The first KB of the answer.
    pub response_body: String,
    pub duration_ms: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// A delivery id: the deliveries before it (the next page).
    pub before: Option<i64>,
    /// At most 100; 25 when absent.
    pub limit: Option<i64>,
}

/// The endpoint's deliveries, newest first, with each attempt.
#[utoipa::path(get, path = "/webhook-endpoints/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path), Page),
    responses((status = 200, body = Vec<Delivery>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<Vec<Delivery>>, ApiError> {
    outgoing_endpoints::get(&state.db, id).await?;
    let log = outgoing_delivery::log(&state.db, id, page.before, page.limit.unwrap_or(25)).await?;
    Ok(ApiJson(
        log.into_iter()
            .map(|d| Delivery {
                id: d.id,
                message_id: d.message_id,
                event_type: d.event_type.to_string(),
                status: d.status.to_string(),
                next_attempt_at: d.next_attempt_at,
                last_error: d.last_error,
                created_at: d.created_at,
                request_body: d.request_body,
                attempts: d
                    .attempts
                    .into_iter()
                    .map(|a| Attempt {
                        attempted_at: a.attempted_at,
                        status_code: a.status_code,
                        error: a.error,
                        response_body: a.response_body,
                        duration_ms: a.duration_ms,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// Sends the delivery's event again (same `webhook-id`), as a new delivery.
#[utoipa::path(post, path = "/webhook-endpoints/{id}/deliveries/{delivery_id}/resend", tag = "webhooks",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 202, body = Queued), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath((id, delivery_id)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let delivery_id = outgoing_delivery::resend(&state, id, delivery_id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { delivery_id })))
}
