//! What RepoPass tells the creator's tools (outgoing webhooks): each event is
//! written in the transaction of the change it reports, with one delivery
//! per endpoint that wants it and the job that sends it — the outbox
//! pattern, as for emails: a change is never committed without its events,
//! nor an event without its change. Nothing is written when no endpoint
//! listens, so a RepoPass without endpoints pays one small read per change.
//!
//! The payload is made when the event happens (the purchase as it was
//! then), so every retry and every resend sends the same bytes.

use serde_json::{json, Value};
use sqlx::AnyConnection;

use crate::{
    clock,
    domain::{
        Action, DeliveryStatus, EmailKind, EndpointStatus, ProductId, PurchaseId, PurchaseStatus, Reason,
        WebhookEventType,
    },
    jobs::{self, Job},
    Result,
};

/// The payload's shape: a consumer that reads `version` 1 keeps working
/// while RepoPass adds fields; a change that removes or renames one is 2.
pub const PAYLOAD_VERSION: u32 = 1;

/// The events one access-log entry reports, in the order they happened
/// (a refund, then the revocation it caused).
pub fn of_entry(
    from: Option<PurchaseStatus>,
    to: PurchaseStatus,
    action: Action,
    reason: Option<Reason>,
) -> Vec<WebhookEventType> {
    use WebhookEventType as E;
    let moved = from != Some(to);
    let mut events = Vec::new();
    match action {
        Action::CheckoutStarted => events.push(E::PurchaseCreated),
        Action::Paid if moved => events.push(E::PurchasePaid),
        Action::Refund | Action::PartialRefund => events.push(E::PurchaseRefunded),
        Action::PaymentFailed if to != PurchaseStatus::Expired => events.push(E::SubscriptionPaymentFailed),
        Action::Restore => events.push(E::PurchaseRestored),
        Action::SeatGiven if from.is_none() => events.push(E::SeatAdded),
        _ => {}
    }
    if moved && to == PurchaseStatus::Revoked {
        match reason {
            Some(Reason::Refunded) => events.push(E::PurchaseRefunded),
            Some(Reason::Disputed) => events.push(E::PurchaseDisputed),
            Some(Reason::SeatTakenBack) => events.push(E::SeatRemoved),
            _ => {}
        }
        events.push(E::PurchaseRevoked);
    }
    if moved && to == PurchaseStatus::Invited {
        events.push(E::PurchaseInvited);
    }
    if moved && to == PurchaseStatus::Active {
        events.push(E::PurchaseActive);
    }
    events
}

/// An endpoint that listens, as the fan-out reads it.
#[derive(sqlx::FromRow)]
struct Listener {
    id: i64,
    event_types: String,
}

/// Whether `event_types` (an endpoint's space-separated words) takes `event`.
pub fn wants(event_types: &str, event: WebhookEventType) -> bool {
    event_types.split_whitespace().any(|word| word == event.as_str())
}

/// Records `events` of a purchase, each with the purchase as it is now in
/// this transaction, for every endpoint that wants it.
pub async fn record_purchase(
    conn: &mut AnyConnection,
    purchase_id: PurchaseId,
    events: &[WebhookEventType],
    entry: Option<(i64, Action, Option<crate::domain::RepositoryId>)>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let listeners = listeners(conn).await?;
    let notices = notices(conn, events).await?;
    if notices.is_none() && !events.iter().any(|e| listeners.iter().any(|l| wants(&l.event_types, *e))) {
        return Ok(());
    }
    let mut data = purchase_data(conn, purchase_id).await?;
    if let Some((log_id, action, repository)) = entry {
        data["access_log_entry"] = json!({"id": log_id, "action": action});
        if let Some(repository) = repository {
            data["repository"] = repository_data(conn, repository).await?;
        }
    }
    for event in events {
        record_for(conn, &listeners, *event, Some(purchase_id), &data).await?;
    }
    if let Some((to, kinds)) = notices {
        for (event, kind) in kinds {
            let line = crate::outgoing_chat::sentence(&json!({"type": event, "data": data}));
            let customer = &data["purchase"]["customer"];
            let body = format!(
                "{line}\n\nCustomer: {} (GitHub @{}).\nProduct: {}.\n\nRepoPass sends these as they happen; turn them off under Settings → Notifications.\n",
                customer["email"].as_str().unwrap_or_default(),
                customer["github_login"].as_str().unwrap_or_default(),
                data["purchase"]["product"]["title"].as_str().unwrap_or_default(),
            );
            let draft = crate::emails::Draft { to: to.clone(), subject: line, body, kind };
            crate::emails::enqueue_on(conn, &draft, Some(purchase_id)).await?;
        }
    }
    Ok(())
}

/// The creator's own emails these events call for (a sale, a
/// cancellation), with where they go — none without a creator email.
async fn notices(
    conn: &mut AnyConnection,
    events: &[WebhookEventType],
) -> Result<Option<(String, Vec<(WebhookEventType, EmailKind)>)>> {
    use crate::preferences::{self, Preference};
    let wanted: Vec<(WebhookEventType, EmailKind, Preference)> = events
        .iter()
        .filter_map(|e| match e {
            WebhookEventType::PurchasePaid => Some((*e, EmailKind::Sale, Preference::SaleEmails)),
            WebhookEventType::SubscriptionCancelled => {
                Some((*e, EmailKind::Cancellation, Preference::CancellationEmails))
            }
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let Some(to) = preferences::creator_email_in(conn).await? else { return Ok(None) };
    let mut kinds = Vec::new();
    for (event, kind, preference) in wanted {
        if preferences::is_on_in(conn, preference).await? {
            kinds.push((event, kind));
        }
    }
    Ok((!kinds.is_empty()).then_some((to, kinds)))
}

/// Records a product's event (published, unpublished).
pub async fn record_product(conn: &mut AnyConnection, product_id: ProductId, event: WebhookEventType) -> Result<()> {
    let listeners = listeners(conn).await?;
    if !listeners.iter().any(|l| wants(&l.event_types, event)) {
        return Ok(());
    }
    let data = json!({"product": product_data(conn, product_id).await?});
    record_for(conn, &listeners, event, None, &data).await
}

/// Records an alert's event (opened, resolved) for the endpoints that
/// ticked it (`alerts`).
pub async fn record_alert(conn: &mut AnyConnection, event: WebhookEventType, data: &Value) -> Result<()> {
    let listeners = listeners(conn).await?;
    record_for(conn, &listeners, event, None, data).await
}

/// A test event for one endpoint, whatever it subscribed to: returns the
/// delivery.
pub async fn record_test(conn: &mut AnyConnection, endpoint_id: i64) -> Result<i64> {
    let data = json!({"message": "A test event from RepoPass: your endpoint is reachable and can verify signatures."});
    let event_id = insert_event(conn, WebhookEventType::Test, None, &data).await?;
    insert_delivery(conn, endpoint_id, event_id, None).await
}

async fn listeners(conn: &mut AnyConnection) -> Result<Vec<Listener>> {
    Ok(sqlx::query_as("SELECT id, event_types FROM outgoing_endpoints WHERE status = $1")
        .bind(EndpointStatus::Enabled)
        .fetch_all(&mut *conn)
        .await?)
}

async fn record_for(
    conn: &mut AnyConnection,
    listeners: &[Listener],
    event: WebhookEventType,
    purchase_id: Option<PurchaseId>,
    data: &Value,
) -> Result<()> {
    let wanting: Vec<i64> = listeners.iter().filter(|l| wants(&l.event_types, event)).map(|l| l.id).collect();
    if wanting.is_empty() {
        return Ok(());
    }
    let event_id = insert_event(conn, event, purchase_id, data).await?;
    for endpoint_id in wanting {
        insert_delivery(conn, endpoint_id, event_id, purchase_id).await?;
    }
    Ok(())
}

async fn insert_event(
    conn: &mut AnyConnection,
    event: WebhookEventType,
    purchase_id: Option<PurchaseId>,
    data: &Value,
) -> Result<i64> {
    let now = clock::now();
    let timestamp = clock::rfc3339(now).unwrap_or_default();
    // The id is not known before the insert: the envelope names it from the
    // row (`payload_for`), so the stored payload holds the rest.
    let payload = json!({"type": event, "timestamp": timestamp, "version": PAYLOAD_VERSION, "data": data});
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outgoing_events (event_type, purchase_id, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(event)
    .bind(purchase_id)
    .bind(payload.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// One more delivery of a stored event (a resend).
pub async fn redeliver(
    conn: &mut AnyConnection,
    endpoint_id: i64,
    event_id: i64,
    purchase_id: Option<i64>,
) -> Result<i64> {
    insert_delivery(conn, endpoint_id, event_id, purchase_id.map(PurchaseId)).await
}

/// A delivery and the job that makes its first attempt now.
async fn insert_delivery(
    conn: &mut AnyConnection,
    endpoint_id: i64,
    event_id: i64,
    purchase_id: Option<PurchaseId>,
) -> Result<i64> {
    let now = clock::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outgoing_deliveries (endpoint_id, event_id, purchase_id, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, NULL, $5, $5) RETURNING id",
    )
    .bind(endpoint_id)
    .bind(event_id)
    .bind(purchase_id)
    .bind(DeliveryStatus::Pending)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    jobs::enqueue(&mut *conn, &Job::DeliverWebhook { delivery_id: id }, now, Some(&delivery_key(id, 0))).await?;
    Ok(id)
}

/// The job key of a delivery's attempt number `attempts + 1`: one job per
/// attempt, whoever asks for it (the first send, the retry, the sweep).
pub fn delivery_key(delivery_id: i64, attempts: i64) -> String {
    format!("webhook_delivery:{delivery_id}:{attempts}")
}

/// The body sent for a stored event: its id first (`evt_…`, the same as the
/// `webhook-id` header), then the stored envelope.
pub fn body(event_id: i64, payload: &str) -> Result<String> {
    let mut envelope: serde_json::Map<String, Value> = serde_json::from_str(payload)
        .map_err(|e| crate::Error::Internal(format!("webhook event {event_id}: stored payload: {e}")))?;
    let mut with_id = serde_json::Map::new();
    with_id.insert("id".into(), Value::String(message_id(event_id)));
    with_id.append(&mut envelope);
    Ok(Value::Object(with_id).to_string())
}

/// The `webhook-id` of an event: the same on every attempt and resend, so
/// a receiver can drop what it already handled.
pub fn message_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}

#[derive(sqlx::FromRow)]
struct PurchaseRow {
    id: PurchaseId,
    public_id: String,
    status: PurchaseStatus,
    status_reason_code: Option<Reason>,
    github_login: String,
    github_user_id: i64,
    email: String,
    amount: i64,
    currency: String,
    stripe_subscription_id: Option<String>,
    seats: Option<i64>,
    seat_of: Option<i64>,
    paid_at: Option<i64>,
    access_until: Option<i64>,
    current_period_end: Option<i64>,
    cancel_at: Option<i64>,
    created_at: i64,
    product_id: ProductId,
}

/// The purchase as a creator's tool reads it (documented in the OpenAPI
/// document's `webhooks`): no Stripe or GitHub secrets, times as RFC 3339.
async fn purchase_data(conn: &mut AnyConnection, id: PurchaseId) -> Result<Value> {
    let p: PurchaseRow = sqlx::query_as(
        "SELECT id, public_id, status, status_reason_code, github_login, github_user_id, email, amount, currency,
                stripe_subscription_id, seats, seat_of, paid_at, access_until, current_period_end, cancel_at, created_at, product_id
         FROM purchases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let product = product_data(conn, p.product_id).await?;
    Ok(json!({
        "purchase": {
            "id": p.id,
            "public_id": p.public_id,
            "status": p.status,
            "status_reason_code": p.status_reason_code,
            "product": product,
            "customer": {"github_login": p.github_login, "github_user_id": p.github_user_id, "email": p.email},
            "amount": p.amount,
            "currency": p.currency,
            "subscription": p.stripe_subscription_id.is_some(),
            "seats": p.seats,
            "seat_of": p.seat_of,
            "created_at": time(Some(p.created_at)),
            "paid_at": time(p.paid_at),
            "access_until": time(p.access_until),
            "current_period_end": time(p.current_period_end),
            "cancel_at": time(p.cancel_at),
        }
    }))
}

async fn product_data(conn: &mut AnyConnection, id: ProductId) -> Result<Value> {
    let (slug, title, status): (String, String, String) =
        sqlx::query_as("SELECT slug, title, status FROM products WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
    Ok(json!({"id": id, "slug": slug, "title": title, "status": status}))
}

async fn repository_data(conn: &mut AnyConnection, id: crate::domain::RepositoryId) -> Result<Value> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT owner, name FROM repositories WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some((owner, name)) => json!({"id": id, "full_name": format!("{owner}/{name}")}),
        None => json!({"id": id}),
    })
}

fn time(unix: Option<i64>) -> Value {
    unix.and_then(clock::rfc3339).map(Value::String).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PurchaseStatus::*;
    use WebhookEventType as E;

    #[test]
    fn each_change_reports_what_a_creator_would_call_it() {
        assert_eq!(of_entry(None, Pending, Action::CheckoutStarted, None), [E::PurchaseCreated]);
        assert_eq!(of_entry(Some(Pending), Paid, Action::Paid, None), [E::PurchasePaid]);
        assert_eq!(of_entry(Some(Paid), Invited, Action::InvitationSent, None), [E::PurchaseInvited]);
        assert_eq!(of_entry(Some(Invited), Active, Action::AccessActive, None), [E::PurchaseActive]);
        assert_eq!(
            of_entry(Some(Active), Revoked, Action::Revoke, Some(Reason::Refunded)),
            [E::PurchaseRefunded, E::PurchaseRevoked],
            "the refund, then what it did"
        );
        assert_eq!(
            of_entry(Some(Invited), Revoked, Action::Revoke, Some(Reason::Disputed)),
            [E::PurchaseDisputed, E::PurchaseRevoked]
        );
        assert_eq!(
            of_entry(Some(Active), Revoked, Action::Revoke, Some(Reason::SubscriptionEnded)),
            [E::PurchaseRevoked]
        );
        assert_eq!(of_entry(Some(Revoked), Active, Action::Restore, None), [E::PurchaseRestored, E::PurchaseActive]);
        assert_eq!(of_entry(Some(Active), Active, Action::PartialRefund, None), [E::PurchaseRefunded]);
        assert_eq!(of_entry(Some(Active), Active, Action::PaymentFailed, None), [E::SubscriptionPaymentFailed]);
        assert!(of_entry(Some(Pending), Expired, Action::PaymentFailed, None).is_empty(), "a checkout, not a renewal");
        assert!(of_entry(Some(Invited), Invited, Action::InvitationResent, None).is_empty());
        assert!(of_entry(Some(Revoked), Revoked, Action::Revoke, Some(Reason::Refunded)).is_empty(), "said once");
    }

    #[test]
    fn an_endpoint_takes_the_words_it_listed() {
        assert!(wants("purchase.paid purchase.revoked", E::PurchaseRevoked));
        assert!(!wants("purchase.paid", E::PurchaseRevoked));
        assert!(!wants("purchase.paidx", E::PurchasePaid), "whole words only");
        assert!(!wants("", E::PurchasePaid));
    }
}
