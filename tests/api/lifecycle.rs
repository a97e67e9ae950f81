//! The access lifecycle driven by the sandbox's webhooks alone (nobody opens
//! the success page): paid → invited → active, and every way access ends.

use serde_json::{json, Value};

use crate::{
    checkout::on_sale,
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    github_failures_are_retried_and_rate_limits_waited_out,
    a_buyer_who_left_github_is_not_retried_forever,
    repository_and_installation_events_mark_the_repository,
    the_webhook_grants_and_acceptance_activates,
    a_full_refund_revokes_a_one_time_purchase_a_partial_one_does_not,
    a_refund_of_a_subscription_payment_made_in_stripe_is_recorded,
    refund_events_arriving_out_of_order_keep_the_latest_total,
    a_dispute_revokes,
    a_cancelled_subscription_ends_access_at_its_end
);

mod grace {
    crate::scenarios!(with [("REPOPASS_GRACE_DAYS", "0")] an_unpaid_renewal_revokes_after_the_grace_period);
    use super::an_unpaid_renewal_revokes_after_the_grace_period;
}

/// Buys `price_id` for `login` and pays on the sandbox; returns (purchase id, session id).
pub async fn buy_and_pay(app: &TestApp, price_id: i64, login: &str) -> (i64, String) {
    buy_then(app, price_id, login, json!(null)).await
}

/// Like `buy_and_pay`, arming a GitHub fault between the checkout and the payment.
pub async fn buy_then(app: &TestApp, price_id: i64, login: &str, fault: Value) -> (i64, String) {
    let response = app
        .client
        .post(app.url("/api/checkout"))
        .header("accept", "text/html")
        .form(&[
            ("price_id", price_id.to_string().as_str()),
            ("github_username", login),
            ("email", "buyer@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let session_id = response.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let purchase_id: i64 = sqlx::query_scalar("SELECT id FROM purchases WHERE stripe_checkout_session_id = $1")
        .bind(&session_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    if !fault.is_null() {
        app.control("/github/faults", fault).await;
    }
    app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;
    (purchase_id, session_id)
}

async fn status(app: &TestApp, purchase_id: i64, want: &str) -> String {
    wait_for(app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), want).await
}

/// enterprise-sdk as the sandbox's GitHub state lists it.
pub fn repo_state(github: &Value) -> Value {
    github["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone()
}

async fn has_access(app: &TestApp, login: &str) -> (bool, bool) {
    let repo = repo_state(&app.control_get("/github/state").await);
    let collaborator = repo["collaborators"].as_array().unwrap().iter().any(|c| c["login"] == login);
    let invited = repo["invitations"].as_array().unwrap().iter().any(|i| i["login"] == login);
    (collaborator, invited)
}

async fn actions(app: &TestApp, purchase_id: i64) -> Vec<(String, String)> {
    sqlx::query_as("SELECT action, cause_kind FROM access_log WHERE purchase_id = $1 ORDER BY id")
        .bind(purchase_id)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

async fn the_webhook_grants_and_acceptance_activates(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "bob").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited", "checkout.session.completed invites");
    assert_eq!(has_access(&app, "bob").await, (false, true));

    let invitation = repo_state(&app.control_get("/github/state").await)["invitations"][0]["id"].as_i64().unwrap();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!(status(&app, purchase_id, "active").await, "active", "GitHub's member.added activates");
    let log = actions(&app, purchase_id).await;
    assert!(log.contains(&("paid".into(), "stripe_event".into())), "{log:?}");
    assert!(log.contains(&("invitation_sent".into(), "stripe_event".into())), "{log:?}");
    assert!(log.contains(&("access_active".into(), "github_event".into())), "{log:?}");

    // Every delivery was stored once and processed or knowingly ignored
    // (the worker may still be on the last one: waited for, not assumed).
    let unfinished = wait_for(
        &app,
        "SELECT CAST(COUNT(*) AS TEXT) FROM webhook_events WHERE status NOT IN ('processed', 'ignored')",
        "0",
    )
    .await;
    assert_eq!(unfinished, "0");

    // Removed by hand on GitHub while paid for: recorded as drift.
    app.control("/github/repos/sandbox-org/enterprise-sdk/collaborators/bob/remove", json!({})).await;
    let drift = wait_for(
        &app,
        &format!(
            "SELECT action FROM access_log WHERE purchase_id = {purchase_id} AND action = 'drift_removed_by_hand'"
        ),
        "drift_removed_by_hand",
    )
    .await;
    assert_eq!(drift, "drift_removed_by_hand");
}

pub async fn one_time(app: &TestApp) -> i64 {
    let (repo_id, _) = on_sale(app).await;
    let key = api_key(app).await;
    let (_, price) = api(
        app,
        Some(&key),
        "POST",
        &format!("/repositories/{repo_id}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"})),
    )
    .await;
    price["id"].as_i64().unwrap()
}

async fn a_full_refund_revokes_a_one_time_purchase_a_partial_one_does_not(app: TestApp) {
    let price_id = one_time(&app).await;
    let (purchase_id, session_id) = buy_and_pay(&app, price_id, "carol").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");

    app.control("/stripe/refund", json!({"id": session_id, "amount": 1000})).await;
    let partial = wait_for(
        &app,
        &format!("SELECT action FROM access_log WHERE purchase_id = {purchase_id} AND action = 'partial_refund'"),
        "partial_refund",
    )
    .await;
    assert_eq!(partial, "partial_refund");
    assert_eq!(status(&app, purchase_id, "invited").await, "invited", "a partial refund keeps access");

    app.control("/stripe/refund", json!({"id": session_id})).await;
    assert_eq!(status(&app, purchase_id, "revoked").await, "revoked");
    let reason: String = sqlx::query_scalar("SELECT status_reason FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(reason, "refunded");
    assert_eq!(has_access(&app, "carol").await, (false, false), "the pending invitation is withdrawn");
}

/// Stripe does not promise to deliver events in the order they happened: a
/// partial refund's `charge.refunded` arriving after the full one's must not
/// shrink what the ledger (and the creator's pages) say was refunded.
async fn refund_events_arriving_out_of_order_keep_the_latest_total(app: TestApp) {
    let price_id = one_time(&app).await;
    app.control("/github/users", json!({"login": "erin"})).await;
    let (purchase_id, session_id) = buy_and_pay(&app, price_id, "erin").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");

    // Hold the refunds' events back, then deliver them newest first.
    let receiver = crate::helpers::WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    app.control("/stripe/refund", json!({"id": session_id, "amount": 1000})).await;
    app.control("/stripe/refund", json!({"id": session_id})).await;
    let refunds = receiver.wait_for(2, 10, |_, body| body.contains("\"charge.refunded\"")).await;
    assert_eq!(refunds.len(), 2, "both refunds were sent");
    app.control("/webhook_target", json!({})).await;
    for (_, body) in refunds.iter().rev() {
        let signature = sandbox::deliveries::stripe_signature(
            &secrecy::SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET),
            server::clock::now(),
            body,
        );
        let response = app
            .client
            .post(app.url("/api/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(status(&app, purchase_id, "revoked").await, "revoked");
    let late = wait_for(
        &app,
        &format!("SELECT action FROM access_log WHERE purchase_id = {purchase_id} AND action = 'partial_refund'"),
        "partial_refund",
    )
    .await;
    assert_eq!(late, "partial_refund", "the late partial refund was processed");
    let net: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payments WHERE purchase_id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(net, 0, "all $49.00 stays refunded after the stale event");
}

/// Refunded in Stripe's dashboard (not through RepoPass): the charge of a
/// subscription's invoice names neither the purchase nor the invoice; it is
/// traced through Stripe's invoice payments.
async fn a_refund_of_a_subscription_payment_made_in_stripe_is_recorded(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    app.control("/github/users", json!({"login": "dave"})).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "dave").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");
    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let net = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payments WHERE purchase_id = $1",
        )
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap()
    };
    assert_eq!(net().await, 900);

    app.control("/stripe/refund", json!({"id": subscription, "amount": 300})).await;
    let partial = wait_for(
        &app,
        &format!("SELECT action FROM access_log WHERE purchase_id = {purchase_id} AND action = 'partial_refund'"),
        "partial_refund",
    )
    .await;
    assert_eq!(partial, "partial_refund");
    assert_eq!(net().await, 600, "the dashboard's revenue counts the refund");

    app.control("/stripe/refund", json!({"id": subscription})).await;
    let full = wait_for(
        &app,
        &format!("SELECT action FROM access_log WHERE purchase_id = {purchase_id} AND action = 'refund'"),
        "refund",
    )
    .await;
    assert_eq!(full, "refund");
    assert_eq!(net().await, 0);
    assert_eq!(
        status(&app, purchase_id, "invited").await,
        "invited",
        "access follows the subscription, which Stripe did not cancel"
    );
}

async fn a_dispute_revokes(app: TestApp) {
    let price_id = one_time(&app).await;
    let (purchase_id, session_id) = buy_and_pay(&app, price_id, "mona").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");
    let invitation = repo_state(&app.control_get("/github/state").await)["invitations"][0]["id"].as_i64().unwrap();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!(status(&app, purchase_id, "active").await, "active");

    // Mona renames her GitHub account: RepoPass follows the numeric id.
    app.control("/github/users/mona/rename", json!({"login": "mona-lisa"})).await;
    app.control("/stripe/dispute", json!({"id": session_id})).await;
    assert_eq!(status(&app, purchase_id, "revoked").await, "revoked");
    assert_eq!(has_access(&app, "mona-lisa").await, (false, false), "the renamed collaborator is removed");
    let login: String = sqlx::query_scalar("SELECT github_login FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(login, "mona-lisa", "the purchase shows the new name");
}

async fn a_cancelled_subscription_ends_access_at_its_end(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "octocat").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");
    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();

    // Cancelled at the period's end: access stays, with its end date.
    app.control(&format!("/stripe/subscriptions/{subscription}/cancel"), json!({"at_period_end": true})).await;
    let mut cancel_at = None;
    for _ in 0..100 {
        cancel_at = sqlx::query_scalar::<_, Option<i64>>("SELECT cancel_at FROM purchases WHERE id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
        if cancel_at.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(cancel_at.is_some(), "the end date is known");
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");

    // The period ends (the sandbox's clock moves): customer.subscription.deleted revokes.
    app.control("/clock/advance", json!({"days": 32})).await;
    assert_eq!(status(&app, purchase_id, "revoked").await, "revoked");
    let reason: String = sqlx::query_scalar("SELECT status_reason FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(reason, "subscription ended");
}

pub async fn an_unpaid_renewal_revokes_after_the_grace_period(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "alice").await;
    assert_eq!(status(&app, purchase_id, "invited").await, "invited");
    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();

    app.control(&format!("/stripe/subscriptions/{subscription}/fail_next_payment"), json!({})).await;
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    // With no grace days, the check runs at once and finds it unpaid.
    assert_eq!(status(&app, purchase_id, "revoked").await, "revoked");
    let reason: String = sqlx::query_scalar("SELECT status_reason FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(reason.starts_with("payment failed"), "{reason}");
    let log = actions(&app, purchase_id).await;
    assert!(log.contains(&("payment_failed".into(), "stripe_event".into())), "{log:?}");
    assert!(log.contains(&("revoke".into(), "schedule".into())), "{log:?}");
}

async fn github_failures_are_retried_and_rate_limits_waited_out(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    // GitHub answers 500 twice: retried with backoff, invited once.
    let (bob, _) = buy_then(&app, price_id, "bob", json!({"fault": "server_error", "count": 2})).await;
    assert_eq!(wait_long(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await, "invited");
    let invitations = actions(&app, bob).await.iter().filter(|(a, _)| a == "invitation_sent").count();
    assert_eq!(invitations, 1);

    // Rate limited three times: the purchase says it is queued, then goes through.
    let (carol, _) = buy_then(&app, price_id, "carol", json!({"fault": "rate_limit", "count": 3})).await;
    let queued = wait_long(
        &app,
        &format!("SELECT status_reason FROM purchases WHERE id = {carol} AND status_reason LIKE 'queued%'"),
        "queued: GitHub's rate limit is reached; trying again when it resets",
    )
    .await;
    assert!(queued.starts_with("queued"), "{queued}");
    assert_eq!(
        wait_long(&app, &format!("SELECT status FROM purchases WHERE id = {carol}"), "invited").await,
        "invited"
    );
    let reason: Option<String> = sqlx::query_scalar("SELECT status_reason FROM purchases WHERE id = $1")
        .bind(carol)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(reason, None, "the queued note goes once invited");
}

/// `wait_for` with room for backoff (30 s).
async fn wait_long(app: &TestApp, sql: &str, want: &str) -> String {
    for _ in 0..2 {
        let got = wait_for(app, sql, want).await;
        if got == want {
            return got;
        }
    }
    wait_for(app, sql, want).await
}

async fn send_github(app: &TestApp, event: &str, delivery: &str, body: Value) {
    let body = body.to_string();
    let sig = sandbox::deliveries::github_signature(
        &secrecy::SecretString::from(sandbox::credentials::GITHUB_WEBHOOK_SECRET),
        &body,
    );
    let response = app
        .client
        .post(app.url("/api/webhooks/github"))
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn repository_and_installation_events_mark_the_repository(app: TestApp) {
    let (repo_id, _) = on_sale(&app).await;
    // The GitHub repository the product grants.
    let (repo_id, github_id): (i64, i64) = sqlx::query_as(
        "SELECT r.id, r.github_repo_id FROM repositories r JOIN product_repositories x ON x.repository_id = r.id
         WHERE x.product_id = $1",
    )
    .bind(repo_id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    let state = |app: &TestApp| {
        let sql = format!("SELECT github_state FROM repositories WHERE id = {repo_id}");
        let pool = app.pool().clone();
        async move { sqlx::query_scalar::<_, String>(&sql).fetch_one(&pool).await.unwrap() }
    };
    let repository = |owner: &str, name: &str| json!({"id": github_id, "name": name, "full_name": format!("{owner}/{name}"), "owner": {"login": owner, "id": 1}});

    send_github(&app, "repository", "r-1", json!({"action": "renamed", "repository": repository("sandbox-org", "sdk"), "changes": {"repository": {"name": {"from": "enterprise-sdk"}}}})).await;
    assert_eq!(wait_for(&app, &format!("SELECT name FROM repositories WHERE id = {repo_id}"), "sdk").await, "sdk");
    assert_eq!(state(&app).await, "renamed");

    send_github(&app, "repository", "r-2", json!({"action": "transferred", "repository": repository("acme", "sdk")}))
        .await;
    assert_eq!(wait_for(&app, &format!("SELECT owner FROM repositories WHERE id = {repo_id}"), "acme").await, "acme");

    send_github(
        &app,
        "installation",
        "i-1",
        json!({"action": "deleted", "installation": {"id": 7, "account": {"login": "acme"}}}),
    )
    .await;
    assert_eq!(
        wait_for(&app, &format!("SELECT github_state FROM repositories WHERE id = {repo_id}"), "access_lost").await,
        "access_lost"
    );
    assert_eq!(app.get("/p/enterprise-sdk").await.status(), 404, "not sold while RepoPass cannot grant access");

    send_github(&app, "repository", "r-3", json!({"action": "deleted", "repository": repository("acme", "sdk")})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT github_state FROM repositories WHERE id = {repo_id}"), "deleted").await,
        "deleted"
    );
}

async fn a_buyer_who_left_github_is_not_retried_forever(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    // The buyer's account is gone by the time the payment arrives: the
    // purchase points at a GitHub id that no longer resolves.
    let (gone, session) = {
        let r = app
            .client
            .post(app.url("/api/checkout"))
            .header("accept", "text/html")
            .form(&[
                ("price_id", price_id.to_string().as_str()),
                ("github_username", "alice"),
                ("email", "a@example.com"),
            ])
            .send()
            .await
            .unwrap();
        let session = r.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let id: i64 = sqlx::query_scalar("SELECT id FROM purchases WHERE stripe_checkout_session_id = $1")
            .bind(&session)
            .fetch_one(app.pool())
            .await
            .unwrap();
        (id, session)
    };
    sqlx::query("UPDATE purchases SET github_user_id = 999999999 WHERE id = $1")
        .bind(gone)
        .execute(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/checkout/{session}/pay"), json!({})).await;

    let reason = wait_long(
        &app,
        &format!("SELECT status_reason FROM purchases WHERE id = {gone} AND status_reason LIKE 'not invited%'"),
        "not invited: GitHub says the repository or the user no longer exists",
    )
    .await;
    assert_eq!(reason, "not invited: GitHub says the repository or the user no longer exists");
    let status: String = sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1")
        .bind(gone)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, "paid", "paid, and the creator can see why there is no access");
    let dead = wait_for(
        &app,
        "SELECT status FROM jobs WHERE status = 'dead' AND last_error LIKE '%no longer exists%' LIMIT 1",
        "dead",
    )
    .await;
    assert_eq!(dead, "dead", "stopped at once, visible, retryable by an admin");
}
