//! Outgoing webhooks (issue 23), end to end: an endpoint added over the REST
//! API and pointed at the sandbox's request bin, a purchase's life arriving
//! there signed and in order — each request verified with the Standard
//! Webhooks library (`standardwebhooks`), not with RepoPass's signing code —
//! and an endpoint answering 500 retried on the schedule, on the sandbox
//! clock, then disabled with an email to the creator.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    checkout::on_sale,
    helpers::TestApp,
    lifecycle::{buy_and_pay, one_time},
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    a_purchase_its_grant_refund_and_revocation_arrive_signed_and_in_order,
    a_subscriptions_life_and_a_dispute_arrive_as_their_events,
    an_endpoint_answering_500_is_retried_on_the_schedule_then_disabled_with_an_email,
    endpoints_refuse_bad_input_and_never_show_the_secret_again
);

/// The bin's requests, oldest first.
async fn bin(app: &TestApp, name: &str) -> Vec<Value> {
    let listed: Value = app.get(&format!("/sandbox/requests/{name}.json")).await.json().await.unwrap();
    let mut requests: Vec<Value> = listed["requests"].as_array().unwrap().clone();
    requests.reverse();
    requests
}

/// Waits until the bin holds `n` requests (the worker sends within a second or two).
async fn bin_holds(app: &TestApp, name: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let requests = bin(app, name).await;
        if requests.len() >= n {
            return requests;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bin {name} did not receive {n} requests: {:#?}", bin(app, name).await);
}

fn header<'a>(request: &'a Value, name: &str) -> &'a str {
    request["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
        .unwrap_or_else(|| panic!("no {name} header in {request}"))
}

/// Verifies a received request as a creator's receiver would: the library's
/// own verifier, with the headers as they arrived.
fn verify(secret: &str, request: &Value) -> Value {
    let mut headers = http::HeaderMap::new();
    for h in request["request"]["headers"].as_array().unwrap() {
        headers.insert(
            http::HeaderName::from_bytes(h[0].as_str().unwrap().as_bytes()).unwrap(),
            http::HeaderValue::from_str(h[1].as_str().unwrap()).unwrap(),
        );
    }
    let body = request["request"]["body"].as_str().unwrap();
    standardwebhooks::Webhook::new(secret).unwrap().verify(body.as_bytes(), &headers).unwrap_or_else(|e| {
        panic!("the signature does not verify ({e:?}): {request}");
    });
    serde_json::from_str(body).unwrap()
}

async fn a_purchase_its_grant_refund_and_revocation_arrive_signed_and_in_order(app: TestApp) {
    let key = api_key(&app).await;
    let url = app.url("/sandbox/requests/shop");
    let (status, made) =
        api(&app, Some(&key), "POST", "/webhook-endpoints", Some(json!({"url": url, "description": "licences"}))).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let endpoint_id = made["endpoint"]["id"].as_i64().unwrap();
    assert_eq!(made["endpoint"]["event_types"].as_array().unwrap().len(), 15, "none chosen: every event");

    // The bin checks signatures too, once given the secret (as the page's form does).
    let given = app
        .client
        .post(app.url("/sandbox/requests/shop/secret"))
        .form(&[("secret", secret.as_str())])
        .send()
        .await
        .unwrap();
    assert!(given.status().is_redirection(), "{}", given.status());

    let price_id = one_time(&app).await;
    let (purchase_id, session_id) = buy_and_pay(&app, price_id, "carol").await;
    let status_of = format!("SELECT status FROM purchases WHERE id = {purchase_id}");
    assert_eq!(wait_for(&app, &status_of, "invited").await, "invited");
    app.control("/stripe/refund", json!({"id": session_id})).await;
    assert_eq!(wait_for(&app, &status_of, "revoked").await, "revoked");

    // product.published (on_sale), then the purchase's life.
    let requests = bin_holds(&app, "shop", 6).await;
    let events: Vec<Value> = requests.iter().map(|r| verify(&secret, r)).collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "product.published",
            "purchase.created",
            "purchase.paid",
            "purchase.invited",
            "purchase.refunded",
            "purchase.revoked"
        ],
        "in the order they happened"
    );
    let statuses: Vec<&str> = events[1..].iter().map(|e| e["data"]["purchase"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["pending", "paid", "invited", "revoked", "revoked"], "each as the purchase was then");
    for (event, request) in events.iter().zip(&requests) {
        assert_eq!(event["id"], header(request, "webhook-id"), "the body's id is the webhook-id");
        assert_eq!(event["version"], 1);
        assert_eq!(request["signature"], "verified", "the bin's own check: {request}");
    }
    let revoked = &events[5]["data"];
    assert_eq!(revoked["purchase"]["id"], purchase_id);
    assert_eq!(revoked["purchase"]["status_reason_code"], "refunded", "the reason, as a code");
    assert_eq!(revoked["purchase"]["customer"]["github_login"], "carol");
    assert_eq!(revoked["purchase"]["product"]["slug"], "enterprise-sdk");
    assert_eq!(
        events[3]["data"]["repository"]["full_name"], "sandbox-org/enterprise-sdk",
        "the invitation's repository"
    );
    let ids: std::collections::HashSet<&str> = requests.iter().map(|r| header(r, "webhook-id")).collect();
    assert_eq!(ids.len(), 6, "one id per event");

    // What arrived is what the OpenAPI document describes.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for event in &types {
        assert!(doc["webhooks"][event]["post"]["requestBody"].is_object(), "{event} is documented");
    }
    let schemas = &doc["components"]["schemas"];
    let documented =
        |schema: &str| -> Vec<String> { schemas[schema]["properties"].as_object().unwrap().keys().cloned().collect() };
    for (part, schema) in
        [(&revoked["purchase"], "WebhookPurchase"), (&events[0], "WebhookEvent"), (revoked, "WebhookEventData")]
    {
        for field in part.as_object().unwrap().keys() {
            assert!(
                documented(schema).contains(field),
                "{field} of {schema} is not documented: {:?}",
                documented(schema)
            );
        }
    }

    // The delivery log says the same: each delivered at the first attempt, with the answer.
    let (status, log) =
        api(&app, Some(&key), "GET", &format!("/webhook-endpoints/{endpoint_id}/deliveries"), None).await;
    assert_eq!(status, 200, "{log}");
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 6);
    for d in log {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
        assert_eq!(d["attempts"][0]["status_code"], 200);
        assert!(d["attempts"][0]["response_body"].as_str().unwrap().contains("received"), "{d}");
    }

    // Resent: the same event and webhook-id again, signed anew.
    let first = log.last().unwrap()["id"].as_i64().unwrap();
    let (status, resent) =
        api(&app, Some(&key), "POST", &format!("/webhook-endpoints/{endpoint_id}/deliveries/{first}/resend"), None)
            .await;
    assert_eq!(status, 202, "{resent}");
    let requests = bin_holds(&app, "shop", 7).await;
    let again = verify(&secret, &requests[6]);
    assert_eq!((again["id"].clone(), again["type"].clone()), (events[0]["id"].clone(), events[0]["type"].clone()));
}

async fn an_endpoint_answering_500_is_retried_on_the_schedule_then_disabled_with_an_email(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, "creator@example.com").await.unwrap();
    let answered =
        app.client.post(app.url("/sandbox/requests/down/respond")).form(&[("status", "500")]).send().await.unwrap();
    assert!(answered.status().is_success() || answered.status().is_redirection(), "{}", answered.status());
    let key = api_key(&app).await;
    let (status, made) =
        api(&app, Some(&key), "POST", "/webhook-endpoints", Some(json!({"url": app.url("/sandbox/requests/down")})))
            .await;
    assert_eq!(status, 201, "{made}");
    let endpoint_id = made["endpoint"]["id"].as_i64().unwrap();
    let (status, queued) = api(&app, Some(&key), "POST", &format!("/webhook-endpoints/{endpoint_id}/test"), None).await;
    assert_eq!(status, 202, "{queued}");
    let delivery = queued["delivery_id"].as_i64().unwrap();

    let attempts = format!("SELECT CAST(COUNT(*) AS TEXT) FROM outgoing_attempts WHERE delivery_id = {delivery}");
    let endpoint_status = format!("SELECT status FROM outgoing_endpoints WHERE id = {endpoint_id}");
    assert_eq!(wait_for(&app, &attempts, "1").await, "1", "the first attempt at once");
    // Each retry comes due on the sandbox clock, on the schedule (at least a
    // minute apart here: the schedule runs each minute's slot once).
    let mut waited = 0;
    for (i, wait) in server::outgoing_delivery::RETRIES.iter().enumerate() {
        let n = i + 1; // attempts so far
                       // The attempt is written before the next one is planned: read once both are.
        let mut due_after = 0;
        for _ in 0..100 {
            let (next_at, last_at): (i64, i64) = sqlx::query_as(
                "SELECT d.next_attempt_at, (SELECT MAX(attempted_at) FROM outgoing_attempts WHERE delivery_id = d.id) FROM outgoing_deliveries d WHERE d.id = $1",
            )
            .bind(delivery)
            .fetch_one(app.pool())
            .await
            .unwrap();
            due_after = next_at - last_at;
            if due_after > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(due_after, *wait, "attempt {} is due {wait} s after attempt {n}", n + 1);
        if waited + wait.max(&60) >= server::outgoing_delivery::FAILURE_WINDOW {
            break;
        }
        let step = (*wait).max(60);
        app.control("/clock/advance", json!({"seconds": step})).await;
        waited += step;
        server::scheduled::schedule(&app.state).await.unwrap();
        let want = (n + 1).to_string();
        assert_eq!(wait_for(&app, &attempts, &want).await, want, "attempt {} made once due", n + 1);
        assert_eq!(wait_for(&app, &endpoint_status, "enabled").await, "enabled", "less than a day of failures");
    }
    let made_before: i64 = bin(&app, "down").await.len() as i64;
    // The attempt that falls a day after the first failure disables it.
    let (next_at,): (i64,) = sqlx::query_as("SELECT next_attempt_at FROM outgoing_deliveries WHERE id = $1")
        .bind(delivery)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let now = server::dated_clock::now(&app.state).await.unwrap();
    let step = (next_at - now).max(60);
    app.control("/clock/advance", json!({"seconds": step})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    assert_eq!(wait_for(&app, &endpoint_status, "disabled").await, "disabled", "a day of failures disables it");
    assert_eq!(bin(&app, "down").await.len() as i64, made_before + 1, "the last attempt was made, then no more");
    let (status, log) =
        api(&app, Some(&key), "GET", &format!("/webhook-endpoints/{endpoint_id}/deliveries"), None).await;
    assert_eq!(status, 200);
    assert_eq!(log[0]["status"], "failed", "{log}");
    assert!(log[0]["attempts"].as_array().unwrap().iter().all(|a| a["status_code"] == 500), "{log}");
    let (status, endpoint) = api(&app, Some(&key), "GET", &format!("/webhook-endpoints/{endpoint_id}"), None).await;
    assert_eq!(status, 200);
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("HTTP 500"), "{endpoint}");

    // The creator's email, once, in the sandbox mailbox.
    let sent = "SELECT status FROM emails WHERE kind = 'endpoint_disabled'";
    assert_eq!(wait_for(&app, sent, "logged").await, "logged");
    let subject = "SELECT subject FROM emails WHERE kind = 'endpoint_disabled' AND to_address = 'creator@example.com'";
    assert_eq!(
        wait_for(&app, subject, "RepoPass stopped sending to one of your webhook endpoints").await,
        "RepoPass stopped sending to one of your webhook endpoints"
    );
    let mailbox = app.get("/sandbox/mailbox?to=creator@example.com").await.text().await.unwrap();
    assert!(mailbox.contains("stopped sending to one of your webhook endpoints"), "{mailbox}");
    assert!(mailbox.contains("/sandbox/requests/down"), "the email names the endpoint");

    // Disabled: nothing more is sent, even a day later; a test is refused with what to do.
    app.control("/clock/advance", json!({"days": 1})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(bin(&app, "down").await.len() as i64, made_before + 1);
    let (status, refused) =
        api(&app, Some(&key), "POST", &format!("/webhook-endpoints/{endpoint_id}/test"), None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("turn it on"), "{refused}");
    let emails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE kind = 'endpoint_disabled'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(emails, 1, "told once");
}

async fn endpoints_refuse_bad_input_and_never_show_the_secret_again(app: TestApp) {
    let key = api_key(&app).await;
    for (body, field, words) in [
        (json!({"url": "ftp://example.com/x"}), "url", "http"),
        (json!({"url": "not an address"}), "url", "not an address"),
        (json!({"url": "https://user:pw@example.com/x"}), "url", "passwords"),
        (json!({"url": "https://example.com/x", "event_types": ["purchase.payd"]}), "event_types", "purchase.paid"),
    ] {
        let (status, refused) = api(&app, Some(&key), "POST", "/webhook-endpoints", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert_eq!(refused["error"]["field"], field, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains(words), "{refused}");
    }
    let (status, refused) = api(&app, Some(&key), "POST", "/webhook-endpoints", Some(json!({"address": "x"}))).await;
    assert_eq!(status, 422, "an unknown field is named: {refused}");
    let none: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outgoing_endpoints").fetch_one(app.pool()).await.unwrap();
    assert_eq!(none, 0, "nothing kept from refused input");

    let (status, made) = api(
        &app,
        Some(&key),
        "POST",
        "/webhook-endpoints",
        Some(json!({"url": "https://example.com/hook", "event_types": ["purchase.paid", "purchase.revoked"]})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = made["endpoint"]["id"].as_i64().unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    let (_, listed) = api(&app, Some(&key), "GET", "/webhook-endpoints", None).await;
    let (_, one) = api(&app, Some(&key), "GET", &format!("/webhook-endpoints/{id}"), None).await;
    for shown in [&listed, &one] {
        assert!(!shown.to_string().contains(&secret), "the secret is shown once: {shown}");
    }
    assert_eq!(one["event_types"], json!(["purchase.paid", "purchase.revoked"]));
    let stored: String = sqlx::query_scalar("SELECT secret FROM outgoing_endpoints WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&secret[6..]), "sealed at rest");

    // Rotated: a new secret, the old one signing beside it for a day.
    let (status, rotated) =
        api(&app, Some(&key), "POST", &format!("/webhook-endpoints/{id}/rotate-secret"), None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["secret"], secret);
    assert!(rotated["endpoint"]["previous_secret_until"].as_i64().unwrap() > server::clock::now() + 86_000);
    let secrets = server::outgoing_endpoints::signing_secrets(&app.state.db, &app.state.config, id).await.unwrap();
    let exposed: Vec<&str> = secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(exposed, [rotated["secret"].as_str().unwrap(), secret.as_str()]);

    let (status, changed) =
        api(&app, Some(&key), "PATCH", &format!("/webhook-endpoints/{id}"), Some(json!({"enabled": false}))).await;
    assert_eq!((status, changed["status"].as_str()), (200, Some("disabled")), "{changed}");
    let (status, _) = api(&app, Some(&key), "DELETE", &format!("/webhook-endpoints/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = api(&app, Some(&key), "GET", &format!("/webhook-endpoints/{id}"), None).await;
    assert_eq!(status, 404);
}

/// Whether `want` appears in `got` in this order (other events between).
fn in_order(got: &[String], want: &[&str]) -> bool {
    let mut rest = got.iter();
    want.iter().all(|w| rest.any(|g| g == w))
}

/// The events a creator's tools get over a subscription's life: access
/// active, a renewal, a failed renewal payment, revoked by the creator and
/// restored, the product off sale; and a dispute of a one-time purchase.
async fn a_subscriptions_life_and_a_dispute_arrive_as_their_events(app: TestApp) {
    let key = api_key(&app).await;
    let (status, made) =
        api(&app, Some(&key), "POST", "/webhook-endpoints", Some(json!({"url": app.url("/sandbox/requests/life")})))
            .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    let types = |requests: &[Value]| -> Vec<String> {
        requests.iter().map(|r| verify(&secret, r)["type"].as_str().unwrap().to_owned()).collect()
    };
    let arrived = |want: &'static str| {
        let app = &app;
        let types = &types;
        async move {
            for _ in 0..200 {
                let got = types(&bin(app, "life").await);
                if got.iter().any(|t| t == want) {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("no {want} arrived: {:?}", types(&bin(app, "life").await));
        }
    };

    let (product_id, price_id) = on_sale(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "alice").await;
    let status_of = format!("SELECT status FROM purchases WHERE id = {purchase_id}");
    assert_eq!(wait_for(&app, &status_of, "invited").await, "invited");
    let invitation =
        crate::lifecycle::repo_state(&app.control_get("/github/state").await)["invitations"][0]["id"].as_i64().unwrap();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    arrived("purchase.active").await;
    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    arrived("subscription.renewed").await;
    app.control(&format!("/stripe/subscriptions/{subscription}/fail_next_payment"), json!({})).await;
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    arrived("subscription.payment_failed").await;
    let (status, revoked) =
        api(&app, Some(&key), "POST", &format!("/purchases/{purchase_id}/revoke"), Some(json!({"reason": "abuse"})))
            .await;
    assert_eq!(status, 200, "{revoked}");
    arrived("purchase.revoked").await;
    let (status, restored) = api(&app, Some(&key), "POST", &format!("/purchases/{purchase_id}/restore"), None).await;
    assert_eq!(status, 200, "{restored}");
    arrived("purchase.restored").await;
    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/products/{product_id}"), Some(json!({"status": "unpublished"})))
            .await;
    assert_eq!(status, 200);
    let got = arrived("product.unpublished").await;
    assert!(
        in_order(
            &got,
            &[
                "product.published",
                "purchase.created",
                "purchase.paid",
                "purchase.invited",
                "purchase.active",
                "subscription.renewed",
                "subscription.payment_failed",
                "purchase.revoked",
                "purchase.restored",
                "product.unpublished"
            ]
        ),
        "{got:?}"
    );
    let events: Vec<Value> = bin(&app, "life").await.iter().map(|r| verify(&secret, r)).collect();
    let revoked = events.iter().find(|e| e["type"] == "purchase.revoked").unwrap();
    assert_eq!(revoked["data"]["purchase"]["status_reason_code"], "revoked_by_creator");

    // A one-time purchase disputed: the dispute, then the revocation it made.
    let (_, price) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/repositories/{product_id}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"})),
    )
    .await;
    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/products/{product_id}"), Some(json!({"status": "published"}))).await;
    assert_eq!(status, 200);
    let (bought, session) = buy_and_pay(&app, price["id"].as_i64().unwrap(), "bob").await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bought}"), "invited").await,
        "invited"
    );
    app.control("/stripe/dispute", json!({"id": session})).await;
    arrived("purchase.disputed").await;
    // Two deliveries of one change: the revocation follows the dispute.
    let mut got = Vec::new();
    for _ in 0..200 {
        got = types(&bin(&app, "life").await);
        if in_order(&got, &["purchase.disputed", "purchase.revoked"]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(in_order(&got, &["purchase.disputed", "purchase.revoked"]), "{got:?}");
    let events: Vec<Value> = bin(&app, "life").await.iter().map(|r| verify(&secret, r)).collect();
    let disputed: Vec<&Value> =
        events.iter().filter(|e| e["data"]["purchase"]["id"] == bought && e["type"] == "purchase.revoked").collect();
    assert_eq!(disputed.len(), 1);
    assert_eq!(disputed[0]["data"]["purchase"]["status_reason_code"], "disputed");
}
