//! The scheduled jobs: recovering Stripe events that never arrived,
//! noticing expired invitations (and emailing the buyer), reconciling
//! purchases with the repository's collaborators.

use serde_json::json;

use crate::{
    checkout::on_sale,
    helpers::{TestApp, WebhookReceiver},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    missed_stripe_events_are_recovered,
    expired_invitations_are_noticed_and_the_buyer_emailed,
    reconciliation_reports_drift
);

async fn buy_and_pay(app: &TestApp, price_id: i64, login: &str) -> i64 {
    crate::lifecycle::buy_and_pay(app, price_id, login).await.0
}

async fn missed_stripe_events_are_recovered(app: TestApp) {
    // RepoPass's endpoint is unreachable from Stripe's side: every delivery fails.
    let elsewhere = WebhookReceiver::start(usize::MAX).await;
    app.redirect_webhooks(&elsewhere).await;
    let (_, price_id) = on_sale(&app).await;
    let purchase_id = buy_and_pay(&app, price_id, "bob").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status: String = sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, "pending", "no webhook arrived");

    let recovered = server::lifecycle::recover_stripe_events(&app.state).await.unwrap();
    assert!(recovered >= 1, "the checkout's events are recovered from Stripe's list");
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "invited").await,
        "invited"
    );
    assert_eq!(server::lifecycle::recover_stripe_events(&app.state).await.unwrap(), 0, "nothing is recovered twice");
}

async fn expired_invitations_are_noticed_and_the_buyer_emailed(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let purchase_id = buy_and_pay(&app, price_id, "carol").await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "invited").await,
        "invited"
    );
    assert_eq!(server::scheduled::expire_invitations(&app.state).await.unwrap(), 0, "a fresh invitation is fine");

    let eight_days_ago = server::clock::now() - 8 * 86_400;
    sqlx::query("UPDATE grants SET invited_at = $2 WHERE purchase_id = $1")
        .bind(purchase_id)
        .bind(eight_days_ago)
        .execute(app.pool())
        .await
        .unwrap();
    assert_eq!(server::scheduled::expire_invitations(&app.state).await.unwrap(), 1);
    assert_eq!(server::scheduled::expire_invitations(&app.state).await.unwrap(), 0, "noticed once");
    let (reason, url): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT p.status_reason, g.invitation_url FROM purchases p JOIN grants g ON g.purchase_id = p.id WHERE p.id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert!(reason.unwrap().contains("invitation expired"));
    assert_eq!(url, None, "no dead link is shown");

    // The email goes through the outbox; without SMTP it is logged.
    let status = wait_for(&app, "SELECT status FROM emails WHERE kind = 'invitation_expired'", "logged").await;
    assert_eq!(status, "logged");
    let (to, body): (String, String) =
        sqlx::query_as("SELECT to_address, body_text FROM emails WHERE kind = 'invitation_expired'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(to, "buyer@example.com");
    assert!(body.contains("/account") && body.contains("Resend invitation"), "{body}");
}

async fn reconciliation_reports_drift(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let bob = buy_and_pay(&app, price_id, "bob").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await, "invited");
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let invitation = repo["invitations"][0]["id"].as_i64().unwrap();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 0, "all in order");

    // Someone removes bob by hand, and adds carol who never paid.
    app.control("/github/repos/sandbox-org/enterprise-sdk/collaborators/bob/remove", json!({})).await;
    app.collaborator_by_hand("carol").await;

    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 2);
    let mut drift: Vec<(String, String)> = server::scheduled::drift(&app.state)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.kind.to_string(), d.github_login))
        .collect();
    drift.sort();
    assert_eq!(
        drift,
        vec![("access_without_purchase".into(), "carol".into()), ("paid_without_access".into(), "bob".into())]
    );
    // A second run replaces the report instead of adding to it.
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 2);
    assert_eq!(server::scheduled::drift(&app.state).await.unwrap().len(), 2);
}
