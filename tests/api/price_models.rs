//! Pricing models beyond a fixed amount: pay what you want (Stripe's
//! `custom_unit_amount`, the amount chosen on the hosted checkout page) and
//! one-time prices that give access for a period, which ends on its date.

use serde_json::{json, Value};

use crate::{
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    the_buyer_names_the_amount_at_least_the_minimum,
    a_period_of_access_ends_on_its_date,
    another_period_bought_before_the_end_continues_it,
    impossible_price_models_are_refused_and_change_nothing,
    customers_are_warned_a_week_and_a_day_before_a_period_ends,
    an_end_that_was_undone_is_not_warned_of_and_the_creator_can_turn_warnings_off
);

/// enterprise-sdk on sale with one price made of `price` (JSON for the REST API).
async fn on_sale_with(app: &TestApp, price: Value) -> (i64, Value) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "Enterprise SDK", "published": true});
    let (status, repo) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{repo}");
    let id = repo["id"].as_i64().unwrap();
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    (id, price)
}

/// The buy form without JavaScript: the address of the hosted checkout.
async fn checkout(app: &TestApp, price_id: i64, login: &str) -> String {
    let response = crate::checkout::buy(app, price_id, login, &format!("{login}@example.com")).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn purchase_of(app: &TestApp, login: &str) -> (i64, String, i64) {
    sqlx::query_as("SELECT id, status, amount FROM purchases WHERE github_login = $1")
        .bind(login)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

async fn the_buyer_names_the_amount_at_least_the_minimum(app: TestApp) {
    let (_, price) = on_sale_with(
        &app,
        json!({"interval": "one_time", "unit_amount": 500, "currency": "usd", "pay_what_you_want": true, "suggested_amount": 1500}),
    )
    .await;
    assert_eq!((price["pay_what_you_want"].as_bool(), price["suggested_amount"].as_i64()), (Some(true), Some(1500)));
    let page = app.get("/p/sdk").await.text().await.unwrap();
    assert!(page.contains("Pay what you want: $15.00 suggested, at least $5.00"), "the product page says so");
    assert!(page.contains("you choose the amount at checkout"));

    // Stripe holds a price whose buyer names the amount, not a fixed one.
    let stripe_id = price["stripe_price_id"].as_str().unwrap();
    let (_, in_stripe) = app.stripe_json(&format!("/prices/{stripe_id}"), None).await;
    assert_eq!(in_stripe["unit_amount"], Value::Null, "{in_stripe}");
    assert_eq!(in_stripe["custom_unit_amount"], json!({"minimum": 500, "preset": 1500, "maximum": null}));

    // The hosted page starts at the suggestion and refuses less than the minimum.
    let pay_url = checkout(&app, price["id"].as_i64().unwrap(), "bob").await;
    let page = app.client.get(&pay_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"value="15.00""#) && page.contains("At least $5.00"), "{page}");
    let refused = app.client.post(&pay_url).form(&[("outcome", "succeed"), ("amount", "4.99")]).send().await.unwrap();
    assert_eq!(refused.status(), 200);
    assert!(refused.text().await.unwrap().contains("Enter an amount of at least $5.00."));
    assert_eq!(purchase_of(&app, "bob").await.1, "pending", "nothing was charged");

    // 20: charged, recorded and granted as paid.
    let paid = app.client.post(&pay_url).form(&[("outcome", "succeed"), ("amount", "20")]).send().await.unwrap();
    assert_eq!(paid.status(), 303, "{:?}", paid.text().await);
    let (id, _, _) = purchase_of(&app, "bob").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {id}"), "invited").await, "invited");
    assert_eq!(purchase_of(&app, "bob").await.2, 2000, "the purchase records what the buyer chose");
    let ledger: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(amount) AS BIGINT) FROM payments WHERE purchase_id = $1 AND kind = 'payment'",
    )
    .bind(id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(ledger, 2000, "and so does the ledger the dashboard reads");
}

async fn a_period_of_access_ends_on_its_date(app: TestApp) {
    let (_, price) =
        on_sale_with(&app, json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd", "access_days": 365}))
            .await;
    assert_eq!(price["access_days"].as_i64(), Some(365));
    let page = app.get("/p/sdk").await.text().await.unwrap();
    assert!(page.contains("one payment, 12 months of access: until "), "the product page says until when");

    let (purchase_id, _) = crate::lifecycle::buy_and_pay(&app, price["id"].as_i64().unwrap(), "carol").await;
    let granted = format!("SELECT status FROM purchases WHERE id = {purchase_id}");
    assert_eq!(wait_for(&app, &granted, "invited").await, "invited");
    let (paid_at, until): (i64, i64) = sqlx::query_as("SELECT paid_at, access_until FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(until, paid_at + 365 * 86_400, "the period starts with the payment");

    // A day before the end nothing happens; a day after, the schedule ends it.
    app.control("/clock/advance", json!({"days": 364})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    assert_eq!(server::access_periods::end_due(&app.state).await.unwrap(), 0);
    app.control("/clock/advance", json!({"days": 2})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    assert_eq!(wait_for(&app, &granted, "revoked").await, "revoked", "the scheduled job ended it");
    let (code, reason): (String, String) =
        sqlx::query_as("SELECT status_reason_code, status_reason FROM purchases WHERE id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(code, "access_period_ended");
    assert!(reason.contains("365-day period of access"), "{reason}");
    let (action, cause): (String, String) =
        sqlx::query_as("SELECT action, cause_kind FROM access_log WHERE purchase_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((action.as_str(), cause.as_str()), ("revoke", "schedule"));
    let repo = crate::lifecycle::repo_state(&app.control_get("/github/state").await);
    assert!(
        !repo["invitations"].as_array().unwrap().iter().any(|i| i["login"] == "carol"),
        "the invitation is withdrawn on GitHub"
    );
    assert_eq!(server::access_periods::end_due(&app.state).await.unwrap(), 0, "ended once");
}

/// The renewal offer: another period bought in the last week takes over
/// the access as it is on GitHub and starts where the first one ends — not
/// refunded as a duplicate, nothing lost, nothing to accept again.
async fn another_period_bought_before_the_end_continues_it(app: TestApp) {
    let (_, price) =
        on_sale_with(&app, json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd", "access_days": 365}))
            .await;
    let price_id = price["id"].as_i64().unwrap();
    let (first, _) = crate::lifecycle::buy_and_pay(&app, price_id, "carol").await;
    let status = |id: i64| format!("SELECT status FROM purchases WHERE id = {id}");
    assert_eq!(wait_for(&app, &status(first), "invited").await, "invited");
    let state = app.control_get("/github/state").await;
    let invitation = crate::lifecycle::repo_state(&state)["invitations"][0]["id"].clone();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!(wait_for(&app, &status(first), "active").await, "active");
    let first_until: i64 = sqlx::query_scalar("SELECT access_until FROM purchases WHERE id = $1")
        .bind(first)
        .fetch_one(app.pool())
        .await
        .unwrap();

    // Five days before the end, the warning offers another period; carol buys it.
    app.control("/clock/advance", json!({"days": 360})).await;
    let (second, _) = crate::lifecycle::buy_and_pay(&app, price_id, "carol").await;
    assert_eq!(wait_for(&app, &status(second), "active").await, "active", "active at once: nothing to accept");
    assert_eq!(wait_for(&app, &status(first), "revoked").await, "revoked");
    let (code, reason): (String, String) =
        sqlx::query_as("SELECT status_reason_code, status_reason FROM purchases WHERE id = $1")
            .bind(first)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(code, "renewed");
    assert!(reason.contains("access continues until"), "{reason}");
    let second_until: i64 = sqlx::query_scalar("SELECT access_until FROM purchases WHERE id = $1")
        .bind(second)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(second_until, first_until + 365 * 86_400, "the new period starts where the first ends");
    let refunds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'refund_duplicate'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(refunds, 0, "a renewal is not refunded as a duplicate");
    let repo = crate::lifecycle::repo_state(&app.control_get("/github/state").await);
    assert!(repo["collaborators"].as_array().unwrap().iter().any(|c| c["login"] == "carol"), "{repo}");
    assert!(repo["invitations"].as_array().unwrap().is_empty(), "no new invitation: {repo}");
    let mail: String = sqlx::query_scalar("SELECT subject FROM emails WHERE kind = 'access_extended'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(mail.contains("continues until"), "{mail}");

    // Past the first period's end: nothing ends; past the second's, it does.
    app.control("/clock/advance", json!({"days": 10})).await;
    assert_eq!(server::access_periods::end_due(&app.state).await.unwrap(), 0);
    assert_eq!(wait_for(&app, &status(second), "active").await, "active");
    app.control("/clock/advance", json!({"days": 365})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    assert_eq!(wait_for(&app, &status(second), "revoked").await, "revoked", "the scheduled job ended it");
    let repo = crate::lifecycle::repo_state(&app.control_get("/github/state").await);
    assert!(!repo["collaborators"].as_array().unwrap().iter().any(|c| c["login"] == "carol"), "{repo}");
}

async fn impossible_price_models_are_refused_and_change_nothing(app: TestApp) {
    let key = api_key(&app).await;
    let body = json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "Enterprise SDK"});
    let (_, repo) = api(&app, Some(&key), "POST", "/repositories", Some(body)).await;
    let path = format!("/repositories/{}/prices", repo["id"].as_i64().unwrap());
    let refused = [
        (json!({"interval": "one_time", "unit_amount": 900, "currency": "usd", "access_days": 0}), "access_days"),
        (json!({"interval": "year", "unit_amount": 900, "currency": "usd", "access_days": 365}), "access_days"),
        (
            json!({"interval": "month", "unit_amount": 500, "currency": "usd", "pay_what_you_want": true}),
            "pay_what_you_want",
        ),
        (
            json!({"interval": "one_time", "unit_amount": 500, "currency": "usd", "pay_what_you_want": true, "suggested_amount": 400}),
            "suggested_amount",
        ),
        (
            json!({"interval": "one_time", "unit_amount": 10, "currency": "usd", "pay_what_you_want": true}),
            "unit_amount",
        ),
    ];
    for (price, field) in refused {
        let (status, body) = api(&app, Some(&key), "POST", &path, Some(price.clone())).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some(field)), "{price} → {body}");
        assert!(!body["error"]["message"].as_str().unwrap_or_default().is_empty());
    }
    let prices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM prices").fetch_one(app.pool()).await.unwrap();
    assert_eq!(prices, 0, "nothing was stored");
    let in_stripe = app.control_get("/stripe/state").await;
    assert_eq!(in_stripe["prices"].as_array().map(Vec::len), Some(0), "nor created in Stripe: {in_stripe}");
}

async fn emails_of(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT subject, body_text FROM emails WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

async fn customers_are_warned_a_week_and_a_day_before_a_period_ends(app: TestApp) {
    let (_, price) =
        on_sale_with(&app, json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd", "access_days": 30}))
            .await;
    let (purchase_id, _) = crate::lifecycle::buy_and_pay(&app, price["id"].as_i64().unwrap(), "alice").await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "invited").await,
        "invited"
    );
    // The worker runs the same job when the clock moves: what counts is
    // the emails written, whoever ran it (each is written once).
    let warned = || async {
        server::access_warnings::send_due(&app.state).await.unwrap();
        server::access_warnings::send_due(&app.state).await.unwrap();
        emails_of(&app, "access_ending").await.len()
    };

    app.control("/clock/advance", json!({"days": 22})).await;
    assert_eq!(warned().await, 0, "eight days before: not yet");
    app.control("/clock/advance", json!({"days": 1})).await;
    assert_eq!(warned().await, 1, "seven days before, once");
    let sent = emails_of(&app, "access_ending").await;
    assert_eq!(sent.len(), 1);
    let (subject, body) = &sent[0];
    assert!(subject.starts_with("Your access to Enterprise SDK ends on "), "{subject}");
    for words in [
        "the period of access that came with your purchase runs out",
        "Buy another period on the product page",
        "/p/sdk",
        "deletes your private forks",
        "/sandbox-org/enterprise-sdk/archive/HEAD.zip",
    ] {
        assert!(body.contains(words), "the warning says {words:?}:\n{body}");
    }
    let to: Vec<String> = sqlx::query_scalar("SELECT to_address FROM emails WHERE kind = 'access_ending'")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(to, ["buyer@example.com"], "to the address the purchase was paid with");

    app.control("/clock/advance", json!({"days": 6})).await;
    assert_eq!(warned().await, 2, "one day before, once");
    app.control("/clock/advance", json!({"days": 2})).await;
    assert_eq!(warned().await, 2, "after the end, nothing more to warn of");
}

async fn an_end_that_was_undone_is_not_warned_of_and_the_creator_can_turn_warnings_off(app: TestApp) {
    let (_, price) = on_sale_with(&app, json!({"interval": "month", "unit_amount": 900, "currency": "usd"})).await;
    let (purchase_id, _) = crate::lifecycle::buy_and_pay(&app, price["id"].as_i64().unwrap(), "octocat").await;
    let granted = format!("SELECT status FROM purchases WHERE id = {purchase_id}");
    assert_eq!(wait_for(&app, &granted, "invited").await, "invited");
    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let cancel_at = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT cancel_at FROM purchases WHERE id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap()
    };
    let until = |want_set: bool| async move {
        for _ in 0..100 {
            if cancel_at().await.is_some() == want_set {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("cancel_at never became {}", if want_set { "set" } else { "empty" });
    };

    // Cancelled, then resumed before the last week: nothing to warn of.
    app.control(&format!("/stripe/subscriptions/{subscription}/cancel"), json!({"at_period_end": true})).await;
    until(true).await;
    let ends = cancel_at().await.unwrap();
    let resumed = app
        .client
        .post(app.url(&format!("/sandbox/stripe/v1/subscriptions/{subscription}")))
        .bearer_auth(sandbox::STRIPE_SECRET_KEY)
        .form(&[("cancel_at_period_end", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    until(false).await;
    let days_left = (ends - server::clock::now()) / 86_400;
    let warned = || async {
        server::access_warnings::send_due(&app.state).await.unwrap();
        emails_of(&app, "access_ending").await.len()
    };
    app.control("/clock/advance", json!({"days": days_left - 5})).await;
    assert_eq!(warned().await, 0, "the end was undone");

    // Cancelled again, with the creator's warnings off: none; back on: one.
    use server::preferences::{set, Preference};
    set(&app.state.db, Preference::AccessEndingEmails, false).await.unwrap();
    app.control(&format!("/stripe/subscriptions/{subscription}/cancel"), json!({"at_period_end": true})).await;
    until(true).await;
    assert_eq!(warned().await, 0, "turned off");
    set(&app.state.db, Preference::AccessEndingEmails, true).await.unwrap();
    assert_eq!(warned().await, 1, "on again");
    let sent = emails_of(&app, "access_ending").await;
    assert!(
        sent[0].1.contains("the subscription was cancelled") && sent[0].1.contains("Resume the subscription"),
        "{}",
        sent[0].1
    );
}
