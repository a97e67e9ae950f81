//! Stripe Tax at checkout: off by default; once the creator turns it on,
//! Checkout asks for the buyer's country and adds (or, for prices that
//! include it, carves out) the tax, and the purchase records what was paid.
//! Checked in the sandbox's Stripe with the real async-stripe client.

use serde_json::json;
use stripe_checkout::checkout_session::RetrieveCheckoutSession;

use crate::{
    admin_auth::{browser, call, sign_in},
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
};

scenarios!(tax_is_off_until_turned_on_then_follows_the_buyers_country);

/// A one-time price of 9.00 on enterprise-sdk; its id.
async fn on_sale(app: &TestApp) -> i64 {
    let key = api_key(app).await;
    let body =
        json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "SDK", "published": true});
    let (status, repo) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{repo}");
    let path = format!("/repositories/{}/prices", repo["id"]);
    let (status, price) = api(
        app,
        Some(&key),
        "POST",
        &path,
        Some(json!({"interval": "one_time", "unit_amount": 900, "currency": "usd"})),
    )
    .await;
    assert_eq!(status, 201, "{price}");
    price["id"].as_i64().unwrap()
}

/// Starts a checkout for `login`: the session id and the hosted page.
async fn checkout(app: &TestApp, price: i64, login: &str) -> (String, String) {
    let response = crate::checkout::buy(app, price, login, &format!("{login}@example.com")).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let url = response.headers()["location"].to_str().unwrap().to_owned();
    (url.rsplit('/').next().unwrap().to_owned(), url)
}

/// What @`login`'s purchase records as paid, once it is.
async fn paid_amount(app: &TestApp, login: &str) -> i64 {
    let sql = "SELECT status, amount FROM purchases WHERE github_login = $1";
    for _ in 0..100 {
        let found: (String, i64) = sqlx::query_as(sql).bind(login).fetch_one(app.pool()).await.unwrap();
        if found.0 != "pending" {
            return found.1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the purchase of @{login} was never paid");
}

async fn tax_is_off_until_turned_on_then_follows_the_buyers_country(app: TestApp) {
    let price = on_sale(&app).await;
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let (status, setting) = call(&app, &admin, "admin/settings/tax", &[]).await;
    assert_eq!((status, &setting), (200, &json!({"on": false, "behavior": null})), "off by default");

    // Off: Checkout calculates no tax and asks for no address.
    let (session, url) = checkout(&app, price, "bob").await;
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    assert!(!s.automatic_tax.enabled);
    let page = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Country or region"));

    // On: Stripe's Tax settings are active with a default behavior (added on top).
    let (status, setting) = call(&app, &admin, "admin/settings/tax/save", &[("stripe_tax", "on")]).await;
    assert_eq!(status, 200, "{setting}");
    assert_eq!(setting, json!({"on": true, "behavior": "tax is added to your prices at checkout"}));

    let (session, url) = checkout(&app, price, "carol").await;
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    assert!(s.automatic_tax.enabled);
    assert!(s.tax_id_collection.as_ref().is_some_and(|t| t.enabled), "business tax IDs are collected");
    let page = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Country or region") && page.contains("Tax is calculated from your address"), "{page}");
    // No country, no total: the page asks again and nothing is charged.
    let refused = app.client.post(&url).form(&[("outcome", "succeed")]).send().await.unwrap();
    assert_eq!(refused.status(), 200);
    assert!(refused.text().await.unwrap().contains("Choose your country or region"));
    let paid = app
        .client
        .post(&url)
        .form(&[("outcome", "succeed"), ("country", "DE"), ("tax_id", "DE123456789")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!((s.amount_subtotal, s.amount_total), (Some(900), Some(1071)), "19% German VAT on top");
    assert_eq!(s.total_details.as_ref().map(|t| t.amount_tax), Some(171));
    let (_, raw) = app.stripe_json(&format!("/checkout/sessions/{session}"), None).await;
    let details = &raw["customer_details"];
    assert_eq!(details["address"]["country"], "DE");
    assert_eq!(details["tax_ids"][0]["value"], "DE123456789");
    assert_eq!(paid_amount(&app, "carol").await, 1071, "the purchase records what was paid");

    // Prices that include tax: the total stays, the tax is carved out of it.
    let (updated, _) = app.stripe_json("/tax/settings", Some(&[("defaults[tax_behavior]", "inclusive")])).await;
    assert_eq!(updated, 200);
    let (_, setting) = call(&app, &admin, "admin/settings/tax", &[]).await;
    assert_eq!(setting["behavior"], "your prices include tax");
    let (session, url) = checkout(&app, price, "alice").await;
    let paid = app.client.post(&url).form(&[("outcome", "succeed"), ("country", "FR")]).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(
        (s.amount_total, s.total_details.as_ref().map(|t| t.amount_tax)),
        (Some(900), Some(150)),
        "20% inside 9.00"
    );
    assert_eq!(paid_amount(&app, "alice").await, 900);

    // A subscription keeps the buyer's rate for its renewals.
    let key = api_key(&app).await;
    let product: i64 = sqlx::query_scalar("SELECT product_id FROM prices WHERE id = $1")
        .bind(price)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let (status, monthly) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/repositories/{product}/prices"),
        Some(json!({"interval": "month", "unit_amount": 900, "currency": "usd"})),
    )
    .await;
    assert_eq!(status, 201, "{monthly}");
    let (back, _) = app.stripe_json("/tax/settings", Some(&[("defaults[tax_behavior]", "exclusive")])).await;
    assert_eq!(back, 200);
    app.control("/github/users", json!({"login": "vat-monthly"})).await;
    let (session, url) = checkout(&app, monthly["id"].as_i64().unwrap(), "vat-monthly").await;
    let paid = app.client.post(&url).form(&[("outcome", "succeed"), ("country", "NL")]).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(paid_amount(&app, "vat-monthly").await, 1089, "21% Dutch VAT on the first month");
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    let subscription = s.subscription.as_ref().map(|x| x.id().as_str().to_owned()).unwrap();
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    let renewal =
        crate::webhooks::wait_for(&app, "SELECT CAST(amount AS TEXT) FROM payments WHERE kind = 'renewal'", "1089")
            .await;
    assert_eq!(renewal, "1089", "the renewal is taxed at the same rate");

    // Off again: the next checkout has no tax.
    let (_, setting) = call(&app, &admin, "admin/settings/tax/save", &[]).await;
    assert_eq!(setting["on"], false);
    let (session, _) = checkout(&app, price, "octocat").await;
    let s = RetrieveCheckoutSession::new(session.as_str()).send(&app.stripe()).await.unwrap();
    assert!(!s.automatic_tax.enabled);
}
