//! The OpenAPI document's `webhooks` section: what RepoPass POSTs to a
//! creator's endpoints, one entry per event type, with the payload's schema
//! and an example. utoipa has no `webhooks` field (it is OpenAPI 3.1's), so
//! the section is added to the document as JSON; the schemas are utoipa's.
//! A test compares a real delivery with these schemas.

use serde_json::{json, Value};
use server::domain::WebhookEventType;
use utoipa::ToSchema;

/// The body of every delivery. Verify `webhook-signature` (Standard
/// Webhooks, `v1,` HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`)
/// before trusting it; drop an `id` already handled (deliveries are at least once).
#[allow(dead_code)] // a schema: read by utoipa, never built
#[derive(ToSchema)]
pub struct WebhookEvent {
    /// `evt_…`, the same as the `webhook-id` header: the same on every retry and resend.
    pub id: String,
    /// The event type (the webhook's name in this section).
    #[schema(rename = "type")]
    pub event_type: String,
    /// When it happened, RFC 3339.
    pub timestamp: String,
    /// The payload's shape: fields are added within a version, never removed or renamed.
    pub version: u32,
    pub data: WebhookEventData,
}

/// What the event is about: a purchase (with its product and customer), a
/// product, or, for `test`, a message.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookEventData {
    pub purchase: Option<WebhookPurchase>,
    pub product: Option<WebhookProduct>,
    /// The repository an access change is about, when it is about one.
    pub repository: Option<WebhookRepository>,
    /// The access-log entry that recorded the change.
    pub access_log_entry: Option<WebhookLogEntry>,
    /// `test` only.
    pub message: Option<String>,
    /// `alert.opened` and `alert.resolved` only.
    pub alert: Option<WebhookAlert>,
}

/// An alert for the creator: something puts access or money at risk.
/// Sent only to endpoints that tick the alert events.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookAlert {
    pub id: i64,
    /// `dead_job`, `not_invited`, `stripe_silent`, `webhook_signatures`,
    /// `database_unreachable`, `drift`, `github_access_lost`,
    /// `payment_failure_spike`, `cancellation_spike` or `backup_stale`.
    pub kind: String,
    /// The condition's name.
    pub title: String,
    /// What happened (`alert.opened`).
    pub what: Option<String>,
    /// What it affects, a line each: which purchases (`alert.opened`).
    pub affects: Option<Vec<String>>,
    /// The one thing to do (`alert.opened`).
    pub todo: Option<String>,
    /// Occurrences since it opened.
    pub occurrences: i64,
    /// Of those, new since the last notice (`alert.opened`).
    pub new: Option<i64>,
    pub opened_at: Option<String>,
    /// `alert.resolved` only.
    pub resolved_at: Option<String>,
}

/// The purchase as it was when the event happened.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookPurchase {
    pub id: i64,
    /// The id in the buyer's links (the checkout return page).
    pub public_id: String,
    /// `pending`, `paid`, `invited`, `active`, `revoked` or `expired`.
    pub status: String,
    /// Why it is where it is, as a code: `refunded`, `disputed`,
    /// `subscription_ended`, `payment_failed`, `revoked_by_creator`,
    /// `access_period_ended`, `seat_taken_back`, …; null when nothing needs saying.
    pub status_reason_code: Option<String>,
    pub product: WebhookProduct,
    pub customer: WebhookCustomer,
    /// Minor units (cents) of `currency`.
    pub amount: i64,
    pub currency: String,
    /// Paid by a subscription (renewals and cancellations follow).
    pub subscription: bool,
    /// A team purchase: its number of seats.
    pub seats: Option<i64>,
    /// A seat: the id of the team purchase it belongs to.
    pub seat_of: Option<i64>,
    pub created_at: String,
    pub paid_at: Option<String>,
    /// The end of a one-time price's period of access.
    pub access_until: Option<String>,
    pub current_period_end: Option<String>,
    /// A cancelled subscription: when it ends.
    pub cancel_at: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookCustomer {
    pub github_login: String,
    pub github_user_id: i64,
    pub email: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookProduct {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// `draft`, `published`, `unpublished` or `archived`.
    pub status: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookRepository {
    pub id: i64,
    /// `owner/name` on GitHub.
    pub full_name: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct WebhookLogEntry {
    pub id: i64,
    /// What was done: `paid`, `invitation_sent`, `access_active`, `revoke`, `restore`, `refund`, …
    pub action: String,
}

/// When each event is sent, for the document.
fn when(event: WebhookEventType) -> &'static str {
    use WebhookEventType as E;
    match event {
        E::PurchaseCreated => "A buyer started a checkout: a purchase exists, unpaid.",
        E::PurchasePaid => "Stripe confirmed the payment.",
        E::PurchaseInvited => "Access granted: the GitHub invitation is out (`data.repository` names the repository when one).",
        E::PurchaseActive => "The customer has access: every invitation accepted, or access given at once.",
        E::PurchaseRevoked => "Access was taken away; `data.purchase.status_reason_code` says why.",
        E::PurchaseRestored => "The creator gave access back after a revocation.",
        E::PurchaseRefunded => "Money was refunded (in full, or in part: the purchase's access follows its reason code).",
        E::PurchaseDisputed => "The buyer's bank opened a dispute; access is revoked with it.",
        E::SubscriptionRenewed => "A subscription's next period was paid.",
        E::SubscriptionCancelled => "The customer cancelled; access lasts until `data.purchase.cancel_at`. An immediate end is `purchase.revoked` with `subscription_ended`.",
        E::SubscriptionPaymentFailed => "A renewal payment failed; access lasts through the grace period.",
        E::SeatAdded => "A manager of a team purchase gave a seat (`data.purchase` is the seat; `seat_of` the team purchase).",
        E::SeatRemoved => "A manager took a seat back; its access is removed.",
        E::ProductPublished => "A product went on sale.",
        E::ProductUnpublished => "A product was taken off sale (its customers keep their access).",
        E::AlertOpened => "An alert for the creator began, or came back with new occurrences (at most once an hour); `data.alert` says what, what it affects and what to do. Only to endpoints that tick it.",
        E::AlertResolved => "An alert's condition cleared. Only to endpoints that tick it.",
        E::Test => "Sent by \"Send test event\" only, whatever the endpoint subscribed to.",
    }
}

/// An example body of `event`.
fn example(event: WebhookEventType) -> Value {
    use WebhookEventType as E;
    let product = json!({"id": 1, "slug": "pro-toolkit", "title": "Pro Toolkit", "status": "published"});
    let (status, reason, action) = match event {
        E::PurchaseCreated => ("pending", Value::Null, "checkout_started"),
        E::PurchasePaid => ("paid", Value::Null, "paid"),
        E::PurchaseInvited => ("invited", Value::Null, "invitation_sent"),
        E::PurchaseActive => ("active", Value::Null, "access_active"),
        E::PurchaseRevoked | E::PurchaseRefunded => ("revoked", json!("refunded"), "revoke"),
        E::PurchaseDisputed => ("revoked", json!("disputed"), "revoke"),
        E::PurchaseRestored => ("active", Value::Null, "restore"),
        E::SubscriptionRenewed | E::SubscriptionCancelled => ("active", Value::Null, "subscription_updated"),
        E::SubscriptionPaymentFailed => ("active", Value::Null, "payment_failed"),
        E::SeatAdded => ("paid", Value::Null, "seat_given"),
        E::SeatRemoved => ("revoked", json!("seat_taken_back"), "revoke"),
        E::ProductPublished | E::ProductUnpublished | E::Test | E::AlertOpened | E::AlertResolved => {
            ("", Value::Null, "")
        }
    };
    let data = match event {
        E::ProductPublished => json!({"product": product}),
        E::ProductUnpublished => {
            json!({"product": {"id": 1, "slug": "pro-toolkit", "title": "Pro Toolkit", "status": "unpublished"}})
        }
        E::Test => {
            json!({"message": "A test event from RepoPass: your endpoint is reachable and can verify signatures."})
        }
        E::AlertOpened => json!({"alert": {
            "id": 7, "kind": "not_invited", "title": "A paid purchase has no invitation",
            "what": "1 customer has paid but not invited to GitHub after 15 minutes",
            "affects": ["purchase #42 (@octocat, Pro Toolkit): not invited: GitHub answered 502"],
            "todo": "Fix what the reason names, then choose Resend invitation on the customer's page.",
            "occurrences": 1, "new": 1, "opened_at": "2026-12-05T10:16:00+00:00"
        }}),
        E::AlertResolved => json!({"alert": {
            "id": 7, "kind": "not_invited", "title": "A paid purchase has no invitation", "occurrences": 1,
            "opened_at": "2026-12-05T10:16:00+00:00", "resolved_at": "2026-12-05T10:41:00+00:00"
        }}),
        _ => json!({
            "purchase": {
                "id": 42, "public_id": "pur_8GkV2", "status": status, "status_reason_code": reason,
                "product": product,
                "customer": {"github_login": "octocat", "github_user_id": 583231, "email": "octocat@example.com"},
                "amount": 4900, "currency": "usd", "subscription": false, "seats": null, "seat_of": null,
                "created_at": "2026-12-05T10:00:00+00:00", "paid_at": "2026-12-05T10:01:12+00:00",
                "access_until": null, "current_period_end": null, "cancel_at": null
            },
            "repository": if event == E::PurchaseInvited { json!({"id": 3, "full_name": "acme/pro-toolkit"}) } else { Value::Null },
            "access_log_entry": {"id": 1207, "action": action}
        }),
    };
    let mut data = data;
    if let Some(fields) = data.as_object_mut() {
        fields.retain(|_, v| !v.is_null());
    }
    json!({"id": "evt_981", "type": event, "timestamp": "2026-12-05T10:01:13+00:00", "version": server::outgoing_events::PAYLOAD_VERSION, "data": data})
}

/// The `webhooks` section, one POST per event type.
pub fn section() -> Value {
    let mut hooks = serde_json::Map::new();
    for event in WebhookEventType::ALL {
        hooks.insert(
            event.to_string(),
            json!({"post": {
                "tags": ["webhooks"],
                "summary": event.as_str(),
                "description": format!(
                    "{} Headers: `webhook-id`, `webhook-timestamp` (unix seconds), `webhook-signature` (`v1,` signatures, space-separated; two while a rotated secret overlaps). Answer 2xx within 10 s; anything else is retried for about three days (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h), and an endpoint failing for a day is disabled.",
                    when(*event)
                ),
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/WebhookEvent"},
                    "example": example(*event)
                }}},
                "responses": {"2XX": {"description": "Received: nothing is sent again."}}
            }}),
        );
    }
    Value::Object(hooks)
}
