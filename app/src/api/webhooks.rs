//! Outgoing webhooks in the admin panel (`/admin/settings/webhooks`): thin
//! calls into `server::outgoing_endpoints` and `server::outgoing_delivery`.

use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{RevealedSecret, WebhooksOverview},
};

#[cfg(feature = "ssr")]
mod ssr {
    use crate::types::{
        AttemptView, BodyFormat, DeliveryState, DeliveryView, EventTypeOption, RevealedSecret, WebhookEndpointView,
    };
    use server::domain::{DeliveryStatus, EndpointStatus, WebhookEventType};

    pub fn event_label(event: WebhookEventType) -> &'static str {
        use WebhookEventType as E;
        match event {
            E::PurchaseCreated => "a checkout started",
            E::PurchasePaid => "a payment confirmed",
            E::PurchaseInvited => "access granted (invitation sent)",
            E::PurchaseActive => "access in use (invitation accepted)",
            E::PurchaseRevoked => "access revoked, with the reason",
            E::PurchaseRestored => "access restored",
            E::PurchaseRefunded => "a refund",
            E::PurchaseDisputed => "a dispute",
            E::SubscriptionRenewed => "a subscription renewed",
            E::SubscriptionCancelled => "a subscription cancelled",
            E::SubscriptionPaymentFailed => "a renewal payment failed",
            E::SeatAdded => "a team seat given",
            E::SeatRemoved => "a team seat taken back",
            E::ProductPublished => "a product put on sale",
            E::ProductUnpublished => "a product taken off sale",
            E::AlertOpened => "an alert for you (access or money at risk)",
            E::AlertResolved => "an alert resolved",
            E::Test => "the test button",
        }
    }

    pub fn options() -> Vec<EventTypeOption> {
        server::outgoing_endpoints::subscribable()
            .map(|e| EventTypeOption { value: e.to_string(), label: event_label(e).to_owned() })
            .collect()
    }

    pub fn endpoint(
        e: server::outgoing_endpoints::Endpoint,
        log: Vec<server::outgoing_delivery::Delivery>,
    ) -> WebhookEndpointView {
        WebhookEndpointView {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types.iter().map(|t| t.to_string()).collect(),
            format: match e.format {
                server::domain::EndpointFormat::Standard => BodyFormat::Standard,
                server::domain::EndpointFormat::Slack => BodyFormat::Slack,
                server::domain::EndpointFormat::Discord => BodyFormat::Discord,
            },
            enabled: e.status == EndpointStatus::Enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_secret_until,
            deliveries: log
                .into_iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    message_id: d.message_id,
                    event_type: d.event_type.to_string(),
                    state: match d.status {
                        DeliveryStatus::Pending => DeliveryState::Pending,
                        DeliveryStatus::Delivered => DeliveryState::Delivered,
                        DeliveryStatus::Failed => DeliveryState::Failed,
                    },
                    created_at: d.created_at,
                    next_attempt_at: d.next_attempt_at,
                    last_error: d.last_error,
                    request_body: d.request_body,
                    attempts: d
                        .attempts
                        .into_iter()
                        .map(|a| AttemptView {
                            attempted_at: a.attempted_at,
                            status_code: a.status_code,
                            error: a.error,
                            response_body: a.response_body,
                            duration_ms: a.duration_ms,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The request bin a sandbox endpoint points at (its name), if it does.
    pub fn request_bin(state: &server::AppState, url: &str) -> Option<String> {
        if !state.config.sandbox {
            return None;
        }
        let base = state.config.public_url.as_str().trim_end_matches('/');
        let rest = url.strip_prefix(base)?.strip_prefix("/sandbox/requests/")?;
        (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
    }

    pub fn revealed(state: &server::AppState, r: server::outgoing_endpoints::Revealed) -> RevealedSecret {
        RevealedSecret {
            endpoint_id: r.endpoint.id,
            request_bin: request_bin(state, &r.endpoint.url),
            url: r.endpoint.url,
            secret: r.secret.expose().to_owned(),
        }
    }
}

/// Every endpoint with its latest deliveries, and what the form offers.
#[server(endpoint = "admin/webhooks/page")]
pub async fn webhooks_page() -> Result<WebhooksOverview, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let mut endpoints = Vec::new();
    for e in server::outgoing_endpoints::list(&state.db).await? {
        let log = server::outgoing_delivery::log(&state.db, e.id, None, 20).await?;
        endpoints.push(ssr::endpoint(e, log));
    }
    Ok(WebhooksOverview {
        sandbox: state.config.sandbox,
        request_bin_url: state
            .config
            .sandbox
            .then(|| format!("{}/sandbox/requests/default", state.config.public_url.as_str().trim_end_matches('/'))),
        creator_email_set: server::preferences::creator_email(&state.db).await?.is_some(),
        event_types: ssr::options(),
        endpoints,
    })
}

/// Adds an endpoint; the answer holds its secret, this once. The boxes
/// ticked arrive as `event_types[]`; none ticked: every event.
#[server(endpoint = "admin/webhooks/add")]
pub async fn add_webhook_endpoint(
    url: String,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    format: Option<String>,
) -> Result<RevealedSecret, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = server::outgoing_endpoints::NewEndpoint {
        url,
        description: description.unwrap_or_default(),
        event_types: event_types.unwrap_or_default(),
        format: format.unwrap_or_default(),
    };
    let made = server::outgoing_endpoints::create(&state.db, &state.config, &new).await?;
    Ok(ssr::revealed(&state, made))
}

#[server(endpoint = "admin/webhooks/rotate")]
pub async fn rotate_webhook_secret(id: i64) -> Result<RevealedSecret, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let made = server::outgoing_endpoints::rotate_secret(&state.db, &state.config, id).await?;
    Ok(ssr::revealed(&state, made))
}

#[server(endpoint = "admin/webhooks/test")]
pub async fn send_webhook_test(id: i64) -> Result<i64, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::outgoing_delivery::send_test(&state, id).await?)
}

#[server(endpoint = "admin/webhooks/enable")]
pub async fn set_webhook_endpoint_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    server::outgoing_endpoints::set_enabled(&state.db, id, enabled).await?;
    Ok(())
}

#[server(endpoint = "admin/webhooks/delete")]
pub async fn delete_webhook_endpoint(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    server::outgoing_endpoints::delete(&state.db, id).await?;
    Ok(())
}

#[server(endpoint = "admin/webhooks/resend")]
pub async fn resend_webhook_delivery(endpoint_id: i64, delivery_id: i64) -> Result<i64, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(server::outgoing_delivery::resend(&state, endpoint_id, delivery_id).await?)
}
