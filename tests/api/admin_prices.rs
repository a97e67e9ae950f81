//! Prices through the admin panel's server functions, checked in the
//! sandbox's Stripe with the real async-stripe client.

use serde_json::Value;
use stripe_product::{price::RetrievePrice, product::RetrieveProduct};

use crate::{
    admin_auth::{browser, call, sign_in},
    helpers::TestApp,
    scenarios,
};

scenarios!(
    prices_are_created_in_stripe_and_shown_on_the_storefront,
    a_new_amount_is_a_new_stripe_price,
    bad_prices_are_refused_and_create_nothing
);

/// Signs in the creator and adds sandbox-creator/pro-kit; returns its id.
pub async fn creator_with_repository(app: &TestApp, name: &str) -> (reqwest::Client, String) {
    let admin = browser();
    sign_in(app, &admin, "sandbox-creator", "/admin").await;
    let (_, reachable) = call(app, &admin, "admin/repositories/reachable", &[]).await;
    let github_id = reachable.as_array().unwrap().iter().find(|r| r["full_name"] == name).unwrap()["github_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let (status, _) = call(app, &admin, "admin/repositories/add", &[("github_id", &github_id)]).await;
    assert!(status < 400, "add answered {status}");
    let id: i64 = sqlx::query_scalar("SELECT x.product_id FROM product_repositories x JOIN repositories r ON r.id = x.repository_id WHERE r.github_repo_id = $1")
        .bind(github_id.parse::<i64>().unwrap())
        .fetch_one(app.pool())
        .await
        .unwrap();
    (admin, id.to_string())
}

async fn add(
    app: &TestApp,
    admin: &reqwest::Client,
    repo: &str,
    interval: &str,
    amount: &str,
    trial: &str,
) -> (u16, Value) {
    call(
        app,
        admin,
        "admin/prices/add",
        &[
            ("repository_id", repo),
            ("price[interval]", interval),
            ("price[amount]", amount),
            ("price[currency]", "usd"),
            ("price[trial_days]", trial),
            ("price[permission]", "pull"),
        ],
    )
    .await
}

async fn prices_are_created_in_stripe_and_shown_on_the_storefront(app: TestApp) {
    let (admin, repo) = creator_with_repository(&app, "sandbox-creator/pro-kit").await;
    let (status, monthly) = add(&app, &admin, &repo, "month", "9", "14").await;
    assert_eq!(status, 200, "{monthly}");
    assert_eq!(
        (monthly["amount"].as_i64(), monthly["interval"].as_str(), monthly["trial_days"].as_i64()),
        (Some(900), Some("month"), Some(14))
    );
    let (status, lifetime) = add(&app, &admin, &repo, "one_time", "49.50", "").await;
    assert_eq!(status, 200, "{lifetime}");

    // Both exist in Stripe, under one Product for the repository.
    let stripe = app.stripe();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, stripe_price_id FROM prices ORDER BY id").fetch_all(app.pool()).await.unwrap();
    let product: String =
        sqlx::query_scalar("SELECT stripe_product_id FROM products").fetch_one(app.pool()).await.unwrap();
    assert_eq!(RetrieveProduct::new(product.as_str()).send(&stripe).await.unwrap().name, "pro-kit");
    let month = RetrievePrice::new(rows[0].1.as_str()).send(&stripe).await.unwrap();
    assert_eq!(
        (month.unit_amount, month.recurring.map(|r| r.interval)),
        (Some(900), Some(stripe_product::RecurringInterval::Month))
    );
    let once = RetrievePrice::new(rows[1].1.as_str()).send(&stripe).await.unwrap();
    assert_eq!((once.unit_amount, once.recurring.is_none()), (Some(4950), true));
    for price in [&month.product, &once.product] {
        assert_eq!(price.id().as_str(), product, "every price belongs to the repository's product");
    }

    // Renaming the page renames the product buyers see at checkout.
    let (status, _) = call(
        &app,
        &admin,
        "admin/repositories/save",
        &[("id", &repo), ("slug", "pro-kit"), ("title", "Pro Kit"), ("summary", ""), ("description", "")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(RetrieveProduct::new(product.as_str()).send(&stripe).await.unwrap().name, "Pro Kit");

    // The editor lists them, and after publishing buyers see the cheapest.
    let (_, page) = call(&app, &admin, "admin/repositories/get", &[("id", &repo)]).await;
    assert_eq!(page["prices"].as_array().unwrap().len(), 2);
    assert_eq!(page["owner_is_org"], false, "pro-kit is personal: the editor warns about permissions");
    call(&app, &admin, "admin/repositories/status", &[("id", &repo), ("status", "published")]).await;
    let store = app.get("/").await.text().await.unwrap();
    assert!(store.contains("$9.00"), "the storefront shows the cheapest price");

    // Taking a price off sale archives it in Stripe.
    let id = monthly["id"].as_i64().unwrap().to_string();
    let (status, _) = call(&app, &admin, "admin/prices/remove", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert!(!RetrievePrice::new(rows[0].1.as_str()).send(&stripe).await.unwrap().active);
    assert!(app.get("/").await.text().await.unwrap().contains("$49.50"), "the storefront moves to the remaining price");
}

async fn a_new_amount_is_a_new_stripe_price(app: TestApp) {
    let (admin, repo) = creator_with_repository(&app, "sandbox-org/enterprise-sdk").await;
    let (_, yearly) = add(&app, &admin, &repo, "year", "190", "0").await;
    let old_id = yearly["id"].as_i64().unwrap();
    let old_stripe: String = sqlx::query_scalar("SELECT stripe_price_id FROM prices WHERE id = $1")
        .bind(old_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    // A buyer already pays the old price.
    sqlx::query(
        "INSERT INTO purchases (public_id, product_id, price_id, github_user_id, github_login, email, status, amount, currency, created_at, updated_at)
         VALUES ('p1', $1, $2, 583231, 'octocat', 'o@example.com', 'active', 19000, 'usd', 1, 1)",
    )
    .bind(repo.parse::<i64>().unwrap())
    .bind(old_id)
    .execute(app.pool())
    .await
    .unwrap();

    let form = [
        ("id", old_id.to_string()),
        ("price[interval]", "year".into()),
        ("price[amount]", "240".into()),
        ("price[currency]", "usd".into()),
        ("price[trial_days]", "0".into()),
        ("price[permission]", "push".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, changed) = call(&app, &admin, "admin/prices/change", &form).await;
    assert_eq!(status, 200, "{changed}");
    let new_id = changed["id"].as_i64().unwrap();
    assert_ne!(new_id, old_id, "Stripe prices are immutable: a new price");
    assert_eq!((changed["amount"].as_i64(), changed["permission"].as_str()), (Some(24_000), Some("push")));

    let stripe = app.stripe();
    let new_stripe: String = sqlx::query_scalar("SELECT stripe_price_id FROM prices WHERE id = $1")
        .bind(new_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(RetrievePrice::new(new_stripe.as_str()).send(&stripe).await.unwrap().unit_amount, Some(24_000));
    assert!(
        !RetrievePrice::new(old_stripe.as_str()).send(&stripe).await.unwrap().active,
        "the old Stripe price is archived"
    );
    let (active, replaced_by): (i64, Option<i64>) =
        sqlx::query_as("SELECT active, replaced_by FROM prices WHERE id = $1")
            .bind(old_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((active, replaced_by), (0, Some(new_id)));
    let kept: i64 = sqlx::query_scalar("SELECT price_id FROM purchases WHERE public_id = 'p1'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(kept, old_id, "the existing subscriber keeps their price");

    // Trial and permission are RepoPass's own: changed in place.
    let form = [
        ("id", new_id.to_string()),
        ("price[interval]", "year".into()),
        ("price[amount]", "240.00".into()),
        ("price[currency]", "usd".into()),
        ("price[trial_days]", "30".into()),
        ("price[permission]", "pull".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, same) = call(&app, &admin, "admin/prices/change", &form).await;
    assert_eq!((same["id"].as_i64(), same["trial_days"].as_i64()), (Some(new_id), Some(30)));

    // A retired price cannot be changed again.
    let form = [
        ("id", old_id.to_string()),
        ("price[interval]", "year".into()),
        ("price[amount]", "10".into()),
        ("price[currency]", "usd".into()),
        ("price[trial_days]", "0".into()),
        ("price[permission]", "pull".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, refused) = call(&app, &admin, "admin/prices/change", &form).await;
    assert_eq!(status, 400, "{refused}");
}

async fn bad_prices_are_refused_and_create_nothing(app: TestApp) {
    let (admin, repo) = creator_with_repository(&app, "sandbox-creator/pro-kit").await;
    let cases: [(&str, &str, &str, &str, &str); 6] = [
        ("week", "9", "usd", "0", "choose one_time, month or year"),
        ("month", "0.10", "usd", "0", "smallest charge"),
        ("month", "nine", "usd", "0", "not an amount"),
        ("month", "9", "xyz", "0", "not offered"),
        ("one_time", "9", "usd", "7", "trials apply to monthly and yearly"),
        ("month", "9", "usd", "-1", "trial"),
    ];
    for (interval, amount, currency, trial, expected) in cases {
        let (status, body) = call(
            &app,
            &admin,
            "admin/prices/add",
            &[
                ("repository_id", &repo),
                ("price[interval]", interval),
                ("price[amount]", amount),
                ("price[currency]", currency),
                ("price[trial_days]", trial),
                ("price[permission]", "pull"),
            ],
        )
        .await;
        assert_eq!(status, 400, "{interval} {amount} {currency} {trial}: {body}");
        let message = body.to_string();
        assert!(message.contains(expected), "{message} should mention '{expected}'");
    }
    let (status, body) = call(
        &app,
        &admin,
        "admin/prices/add",
        &[
            ("repository_id", &repo),
            ("price[interval]", "month"),
            ("price[amount]", "9"),
            ("price[currency]", "usd"),
            ("price[trial_days]", "0"),
            ("price[permission]", "admin"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM prices").fetch_one(app.pool()).await.unwrap();
    let product: Option<String> =
        sqlx::query_scalar("SELECT stripe_product_id FROM products").fetch_one(app.pool()).await.unwrap();
    assert_eq!((count, product), (0, None), "refused input reaches neither the database nor Stripe");
}
