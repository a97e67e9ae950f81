//! The creator's own notices (issue 23): an email for each sale and each
//! cancellation (each can be turned off), a Slack-format endpoint that gets
//! them as sentences, and the daily summary on the sandbox clock.

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
    a_sale_and_a_cancellation_reach_the_creator_by_email_and_in_slack,
    the_daily_summary_counts_the_day_once_on_the_sandbox_clock
);

async fn emails(app: &TestApp, kind: &str) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT to_address, subject, body_text FROM emails WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

/// The bin's requests, oldest first, waiting for `n`.
async fn bin_holds(app: &TestApp, name: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let listed: Value = app.get(&format!("/sandbox/requests/{name}.json")).await.json().await.unwrap();
        let mut requests = listed["requests"].as_array().unwrap().clone();
        if requests.len() >= n {
            requests.reverse();
            return requests;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bin {name} did not receive {n} requests");
}

fn text_of(request: &Value) -> String {
    let body: Value = serde_json::from_str(request["request"]["body"].as_str().unwrap()).unwrap();
    body["text"].as_str().unwrap_or_else(|| panic!("not a Slack message: {body}")).to_owned()
}

async fn a_sale_and_a_cancellation_reach_the_creator_by_email_and_in_slack(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, "creator@example.com").await.unwrap();
    let key = api_key(&app).await;
    let (status, made) = api(
        &app,
        Some(&key),
        "POST",
        "/webhook-endpoints",
        Some(json!({"url": app.url("/sandbox/requests/slack"), "format": "slack"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["endpoint"]["event_types"], json!(["purchase.paid", "subscription.cancelled"]), "a chat's default");
    assert_eq!(made["endpoint"]["format"], "slack");

    let (_, price_id) = on_sale(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "octocat").await;
    let status_of = format!("SELECT status FROM purchases WHERE id = {purchase_id}");
    assert_eq!(wait_for(&app, &status_of, "invited").await, "invited");
    let sale = "New sale: @octocat bought Enterprise SDK for $9.00.";
    assert_eq!(wait_for(&app, "SELECT subject FROM emails WHERE kind = 'sale'", sale).await, sale);
    let (to, _, body) = emails(&app, "sale").await.remove(0);
    assert_eq!(to, "creator@example.com");
    assert!(body.contains("Customer: buyer@example.com (GitHub @octocat)."), "{body}");
    let requests = bin_holds(&app, "slack", 1).await;
    assert_eq!(text_of(&requests[0]), sale, "the channel hears the sale, not the product going on sale");

    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/subscriptions/{subscription}/cancel"), json!({"at_period_end": true})).await;
    let cancelled = wait_for(&app, "SELECT kind FROM emails WHERE kind = 'cancellation'", "cancellation").await;
    assert_eq!(cancelled, "cancellation");
    let (_, subject, _) = emails(&app, "cancellation").await.remove(0);
    assert!(subject.starts_with("@octocat cancelled Enterprise SDK; access ends on 20"), "{subject}");
    let requests = bin_holds(&app, "slack", 2).await;
    assert_eq!(text_of(&requests[1]), subject);

    // Sale emails off: the next sale is not emailed (the channel still hears it).
    server::preferences::set(&app.state.db, server::preferences::Preference::SaleEmails, false).await.unwrap();
    let (second, _) = buy_and_pay(&app, price_id, "bob").await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {second}"), "invited").await,
        "invited"
    );
    let requests = bin_holds(&app, "slack", 3).await;
    assert_eq!(text_of(&requests[2]), "New sale: @bob bought Enterprise SDK for $9.00.");
    assert_eq!(emails(&app, "sale").await.len(), 1, "no email for the second sale");
}

async fn the_daily_summary_counts_the_day_once_on_the_sandbox_clock(app: TestApp) {
    use server::preferences::SummaryEvery;
    server::preferences::set_creator_email(&app.state.db, "creator@example.com").await.unwrap();
    server::creator_summary::chosen(&app.state, SummaryEvery::Day).await.unwrap();
    // Chosen today: the first summary is tomorrow's.
    server::scheduled::schedule(&app.state).await.unwrap();
    let price_id = one_time(&app).await;
    let (purchase_id, _) = buy_and_pay(&app, price_id, "alice").await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "invited").await,
        "invited"
    );
    assert!(emails(&app, "summary").await.is_empty(), "nothing until the day is over");

    app.control("/clock/advance", json!({"days": 1})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    let subject = "Your RepoPass day: $49.00 from 1 new customer";
    let got = wait_for(&app, "SELECT subject FROM emails WHERE kind = 'summary'", subject).await;
    assert_eq!(got, subject, "{:?}", emails(&app, "summary").await);
    let (to, _, body) = emails(&app, "summary").await.remove(0);
    assert_eq!(to, "creator@example.com");
    assert!(body.contains("Revenue: $49.00\n"), "{body}");
    assert!(body.contains("New customers: 1\n"), "{body}");
    assert!(body.contains("Invitations not accepted yet: 1"), "{body}");

    // The same day again: nothing more. The next day: the next summary, of that day alone.
    server::scheduled::schedule(&app.state).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(emails(&app, "summary").await.len(), 1, "one summary a day");
    app.control("/clock/advance", json!({"days": 1})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    let next = "Your RepoPass day: $0.00 from 0 new customers";
    assert_eq!(
        wait_for(&app, "SELECT subject FROM emails WHERE kind = 'summary' ORDER BY id DESC LIMIT 1", next).await,
        next
    );
}
