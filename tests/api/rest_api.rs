//! The REST API under /api/v1 with a bearer key, end to end: repositories,
//! prices (in the sandbox's Stripe), purchases with revoke/restore (in the
//! sandbox's GitHub), customers, the dashboard, errors and the OpenAPI document.

use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::{helpers::TestApp, scenarios};

scenarios!(
    repositories_and_prices_over_the_api,
    purchases_revoke_and_restore_over_the_api,
    errors_are_json_with_the_right_status,
    openapi_lists_exactly_the_routes,
    products_list_the_repositories_they_grant
);

pub async fn api_key(app: &TestApp) -> String {
    server::api_keys::create(&app.state.db, "tests", None).await.unwrap().secret.expose_secret().to_owned()
}

pub async fn api(app: &TestApp, key: Option<&str>, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.request(method.parse().unwrap(), app.url(&format!("/api/v1{path}")));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn repositories_and_prices_over_the_api(app: TestApp) {
    let key = api_key(&app).await;
    let key = Some(key.as_str());
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "pro", "title": "Pro Kit", "description": "Everything **you** need", "published": true});
    let (status, repo) = api(&app, key, "POST", "/repositories", Some(body.clone())).await;
    assert_eq!(status, 201, "{repo}");
    assert_eq!(
        (repo["slug"].as_str(), repo["status"].as_str(), repo["full_name"].as_str()),
        (Some("pro"), Some("published"), Some("sandbox-creator/pro-kit"))
    );
    assert!(repo["url"].as_str().unwrap().ends_with("/p/pro"));
    let id = repo["id"].as_i64().unwrap();

    let (status, again) = api(&app, key, "POST", "/repositories", Some(body)).await;
    assert_eq!((status, again["error"]["code"].as_str()), (422, Some("invalid")), "{again}");
    let (status, foreign) =
        api(&app, key, "POST", "/repositories", Some(json!({"owner": "octocat", "name": "Hello-World"}))).await;
    assert_eq!(status, 422);
    assert!(foreign["error"]["message"].as_str().unwrap().contains("cannot administer"), "{foreign}");

    let (status, list) = api(&app, key, "GET", "/repositories", None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));

    let (status, patched) = api(
        &app,
        key,
        "PATCH",
        &format!("/repositories/{id}"),
        Some(json!({"title": "The Pro Kit", "summary": "For pros"})),
    )
    .await;
    assert_eq!((status, patched["title"].as_str(), patched["slug"].as_str()), (200, Some("The Pro Kit"), Some("pro")));
    let (status, bad) =
        api(&app, key, "PATCH", &format!("/repositories/{id}"), Some(json!({"slug": "Not A Slug", "title": "Lost"})))
            .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("slug")));
    let (_, unchanged) = api(&app, key, "GET", &format!("/repositories/{id}"), None).await;
    assert_eq!(unchanged["title"], "The Pro Kit", "a refused change changes nothing");

    // The body from the issue, verbatim.
    let price =
        json!({"interval": "month", "unit_amount": 4900, "currency": "usd", "permission": "pull", "trial_days": 0});
    let (status, monthly) = api(&app, key, "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{monthly}");
    assert!(monthly["stripe_price_id"].as_str().unwrap().starts_with("price_"));
    let (status, once) = api(
        &app,
        key,
        "POST",
        &format!("/repositories/{id}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 19900, "currency": "eur"})),
    )
    .await;
    assert_eq!((status, once["permission"].as_str()), (201, Some("pull")), "{once}");
    let (_, repo) = api(&app, key, "GET", &format!("/repositories/{id}"), None).await;
    assert_eq!(repo["prices"].as_array().unwrap().len(), 2);
    assert!(app.get("/").await.text().await.unwrap().contains("The Pro Kit"));

    let (status, changed) = api(
        &app,
        key,
        "PATCH",
        &format!("/prices/{}", monthly["id"]),
        Some(json!({"interval": "month", "unit_amount": 5900, "currency": "usd"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_ne!(changed["id"], monthly["id"]);
    let (status, removed) = api(&app, key, "DELETE", &format!("/prices/{}", once["id"]), None).await;
    assert_eq!((status, removed["active"].as_bool()), (200, Some(false)));
    let (_, repo) = api(&app, key, "GET", &format!("/repositories/{id}"), None).await;
    let amounts: Vec<i64> =
        repo["prices"].as_array().unwrap().iter().map(|p| p["unit_amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, vec![5900]);

    let (status, archived) = api(&app, key, "DELETE", &format!("/repositories/{id}"), None).await;
    assert_eq!((status, archived["status"].as_str()), (200, Some("archived")));
    assert!(
        !app.get("/").await.text().await.unwrap().contains("The Pro Kit"),
        "archived repositories leave the storefront"
    );

    let used: Option<i64> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys").fetch_one(app.pool()).await.unwrap();
    assert!(used.is_some(), "the key's last use is recorded");
}

/// A repository with a price, and a purchase of it by `login` in `status`
/// (`_id` is ignored: the sandbox's GitHub says who `login` is).
pub async fn purchase(app: &TestApp, key: &str, status: &str, login: &str, _id: i64) -> (i64, i64) {
    let github_user_id = app.github().users(login).profile().await.unwrap().id.0 as i64;
    let repo_id =
        match sqlx::query_scalar::<_, i64>("SELECT id FROM products").fetch_optional(app.pool()).await.unwrap() {
            Some(id) => id,
            None => {
                let (_, repo) = api(
                    app,
                    Some(key),
                    "POST",
                    "/repositories",
                    Some(json!({"owner": "sandbox-org", "name": "enterprise-sdk", "published": true})),
                )
                .await;
                let id = repo["id"].as_i64().unwrap();
                api(
                    app,
                    Some(key),
                    "POST",
                    &format!("/repositories/{id}/prices"),
                    Some(json!({"interval": "month", "unit_amount": 900, "currency": "usd", "permission": "push"})),
                )
                .await;
                id
            }
        };
    let price_id: i64 = sqlx::query_scalar("SELECT id FROM prices WHERE product_id = $1")
        .bind(repo_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let now = server::clock::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO purchases (public_id, product_id, price_id, github_user_id, github_login, email, status, amount, currency, stripe_subscription_id, paid_at, revoked_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 900, 'usd', 'sub_test', $8, $9, $10, $10) RETURNING id",
    )
    .bind(format!("pub-{login}-{status}"))
    .bind(repo_id)
    .bind(price_id)
    .bind(github_user_id)
    .bind(login)
    .bind(format!("{login}@example.com"))
    .bind(status)
    .bind((status != "pending").then_some(now))
    .bind((status == "revoked").then_some(now))
    .bind(now)
    .fetch_one(app.pool())
    .await
    .unwrap();
    if status != "pending" {
        // What the payment webhook would have recorded.
        sqlx::query("INSERT INTO payments (purchase_id, stripe_ref, kind, amount, currency, created_at) VALUES ($1, $2, 'payment', 900, 'usd', $3)")
            .bind(id)
            .bind(format!("pi_test_{id}"))
            .bind(now)
            .execute(app.pool())
            .await
            .unwrap();
    }
    (repo_id, id)
}

async fn collaborators(app: &TestApp) -> Vec<String> {
    app.github()
        .repos("sandbox-org", "enterprise-sdk")
        .list_collaborators()
        .send()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.author.login)
        .collect()
}

async fn purchases_revoke_and_restore_over_the_api(app: TestApp) {
    let key = api_key(&app).await;
    let (_, id) = purchase(&app, &key, "revoked", "alice", 1001).await;
    purchase(&app, &key, "active", "bob", 1002).await;
    purchase(&app, &key, "pending", "carol", 1003).await;
    let key = Some(key.as_str());

    // Restore: the sandbox's GitHub gets an invitation with the price's permission.
    let (status, restored) = api(&app, key, "POST", &format!("/purchases/{id}/restore"), None).await;
    assert_eq!((status, restored["status"].as_str()), (200, Some("invited")), "{restored}");
    assert!(restored["invitation_url"].as_str().unwrap().contains("/invitations"), "{restored}");
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let invitation = repo["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["login"] == "alice")
        .expect("alice is invited")
        .clone();
    assert!(
        ["push", "write"].contains(&invitation["permission"].as_str().unwrap()),
        "the price's permission: {invitation}"
    );
    app.control(&format!("/github/invitations/{}/accept", invitation["id"]), json!({})).await;
    assert!(collaborators(&app).await.contains(&"alice".to_owned()));

    let (status, twice) = api(&app, key, "POST", &format!("/purchases/{id}/restore"), None).await;
    assert_eq!(status, 422, "restoring a purchase with access is refused: {twice}");

    // Revoke: alice is removed from the repository on GitHub.
    let (status, revoked) =
        api(&app, key, "POST", &format!("/purchases/{id}/revoke"), Some(json!({"reason": "chargeback"}))).await;
    assert_eq!(
        (status, revoked["status"].as_str(), revoked["status_reason"].as_str()),
        (200, Some("revoked"), Some("chargeback")),
        "{revoked}"
    );
    assert!(!collaborators(&app).await.contains(&"alice".to_owned()), "the collaborator is gone");

    let (status, detail) = api(&app, key, "GET", &format!("/purchases/{id}"), None).await;
    assert_eq!(status, 200);
    let log: Vec<(String, String)> = detail["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["action"].as_str().unwrap().to_owned(), l["cause_kind"].as_str().unwrap().to_owned()))
        .collect();
    // Accepting the invitation also sends GitHub's member webhook, which may
    // record `access_active` in between; the key's own actions are these two.
    let by_key: Vec<(String, String)> = log.iter().filter(|(_, cause)| cause != "github_event").cloned().collect();
    assert_eq!(by_key, vec![("restore".into(), "api_key".into()), ("revoke".into(), "api_key".into())]);
    assert!(log.iter().all(|(action, cause)| cause != "github_event" || action == "access_active"), "{log:?}");

    let (_, active) = api(&app, key, "GET", "/purchases?status=active", None).await;
    assert_eq!(active["total"], 1);
    assert_eq!(active["data"][0]["github_login"], "bob");
    let (_, found) = api(&app, key, "GET", "/purchases?q=ALI", None).await;
    assert_eq!((found["total"].as_i64(), found["data"][0]["github_login"].as_str()), (Some(1), Some("alice")));
    let (_, paged) = api(&app, key, "GET", "/purchases?per_page=2&page=2", None).await;
    assert_eq!((paged["total"].as_i64(), paged["data"].as_array().map(Vec::len)), (Some(3), Some(1)));

    let (_, customers) = api(&app, key, "GET", "/customers", None).await;
    let logins: Vec<&str> =
        customers["data"].as_array().unwrap().iter().map(|c| c["github_login"].as_str().unwrap()).collect();
    assert_eq!(customers["total"], 2, "pending checkouts are not customers: {logins:?}");
    let (status, dashboard) = api(&app, key, "GET", "/dashboard", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (dashboard["active_customers"].as_i64(), dashboard["mrr"]["usd"].as_i64()),
        (Some(1), Some(900)),
        "{dashboard}"
    );
    assert_eq!(dashboard["revenue_30d"]["usd"], 1800, "alice and bob paid");
}

async fn errors_are_json_with_the_right_status(app: TestApp) {
    let (status, none) = api(&app, None, "GET", "/repositories", None).await;
    assert_eq!((status, none["error"]["code"].as_str()), (401, Some("unauthorized")));
    assert!(none["error"]["message"].as_str().unwrap().contains("Bearer"));
    let (status, _) = api(&app, Some("rp_live_not-a-key"), "GET", "/repositories", None).await;
    assert_eq!(status, 401);

    let raw_key = api_key(&app).await;
    let key = Some(raw_key.as_str());
    let (status, missing) = api(&app, key, "GET", "/repositories/9999", None).await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, nowhere) = api(&app, key, "GET", "/nothing-here", None).await;
    assert_eq!((status, nowhere["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, word) = api(&app, key, "GET", "/repositories/pro-kit", None).await;
    assert_eq!((status, word["error"]["code"].as_str()), (400, Some("bad_request")));

    let raw = app
        .client
        .post(app.url("/api/v1/repositories"))
        .bearer_auth(&raw_key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, missing_field) =
        api(&app, key, "POST", "/repositories", Some(json!({"owner": "sandbox-creator"}))).await;
    assert_eq!(status, 422, "{missing_field}");
    assert!(
        missing_field["error"]["message"].as_str().unwrap().contains("name"),
        "the message names the missing field: {missing_field}"
    );
    let (status, bad_filter) = api(&app, key, "GET", "/purchases?status=bogus", None).await;
    assert_eq!((status, bad_filter["error"]["field"].as_str()), (422, Some("status")));
    let (status, _) = api(&app, key, "GET", "/purchases?per_page=1000", None).await;
    assert_eq!(status, 422);
}

/// The document's operations, as (METHOD, path) pairs.
pub async fn documented_operations(app: &TestApp) -> Vec<(String, String)> {
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in
            item.as_object().unwrap().keys().filter(|m| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops.sort();
    ops
}

async fn openapi_lists_exactly_the_routes(app: TestApp) {
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1: {}", doc["openapi"]);
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let mut expected: Vec<(String, String)> = [
        ("GET", "/products"),
        ("GET", "/products/{id}"),
        ("PATCH", "/products/{id}"),
        ("POST", "/products/{id}/repositories"),
        ("DELETE", "/products/{id}/repositories/{github_repository_id}"),
        ("GET", "/repositories"),
        ("POST", "/repositories"),
        ("GET", "/repositories/{id}"),
        ("PATCH", "/repositories/{id}"),
        ("DELETE", "/repositories/{id}"),
        ("POST", "/repositories/{id}/prices"),
        ("PATCH", "/prices/{id}"),
        ("DELETE", "/prices/{id}"),
        ("GET", "/purchases"),
        ("GET", "/purchases/{id}"),
        ("POST", "/purchases/{id}/revoke"),
        ("POST", "/purchases/{id}/restore"),
        ("GET", "/customers"),
        ("GET", "/dashboard"),
        ("GET", "/webhook-endpoints"),
        ("POST", "/webhook-endpoints"),
        ("GET", "/webhook-endpoints/{id}"),
        ("PATCH", "/webhook-endpoints/{id}"),
        ("DELETE", "/webhook-endpoints/{id}"),
        ("POST", "/webhook-endpoints/{id}/rotate-secret"),
        ("POST", "/webhook-endpoints/{id}/test"),
        ("GET", "/webhook-endpoints/{id}/deliveries"),
        ("POST", "/webhook-endpoints/{id}/deliveries/{delivery_id}/resend"),
        ("GET", "/exports/purchases"),
        ("GET", "/exports/access-log"),
        ("GET", "/exports/payments"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    expected.sort();
    assert_eq!(documented_operations(&app).await, expected);

    // Every documented operation is served (a 401 asks for a key; a missing
    // route would be 404 and a missing method 405), and nothing else is.
    for (method, path) in &expected {
        let path = path.replace("{id}", "1").replace("{github_repository_id}", "5001").replace("{delivery_id}", "2");
        let (status, body) = api(&app, None, method, &path, None).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
    }
    for (method, path) in
        [("PUT", "/repositories/1"), ("GET", "/prices/1"), ("DELETE", "/purchases/1"), ("GET", "/webhooks")]
    {
        let (status, _) = api(&app, None, method, path, None).await;
        assert!(
            status == 404 || status == 405,
            "{method} {path} answered {status}: not in the document, so it must not exist"
        );
    }
}

async fn products_list_the_repositories_they_grant(app: TestApp) {
    let key = api_key(&app).await;
    let key = Some(key.as_str());
    let body =
        json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "SDK", "published": true});
    let (status, repo) = api(&app, key, "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{repo}");
    let id = repo["id"].as_i64().unwrap();
    let (status, price) = api(
        &app,
        key,
        "POST",
        &format!("/repositories/{id}/prices"),
        Some(json!({"interval": "month", "unit_amount": 900, "currency": "usd"})),
    )
    .await;
    assert_eq!(status, 201, "{price}");
    assert_eq!((price["product_id"].as_i64(), price["repository_id"].as_i64()), (Some(id), Some(id)));

    let (status, products) = api(&app, key, "GET", "/products", None).await;
    assert_eq!(status, 200, "{products}");
    assert_eq!(products.as_array().map(Vec::len), Some(1), "{products}");
    let (status, product) = api(&app, key, "GET", &format!("/products/{id}"), None).await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product, products[0]);
    assert_eq!(product["slug"], "sdk");
    assert_eq!(
        product["repositories"],
        json!([{"full_name": "sandbox-org/enterprise-sdk", "github_repository_id": repo["github_repository_id"], "permission": null, "github_state": "ok"}])
    );
    assert_eq!(product["prices"][0]["unit_amount"], 900);
    let (status, missing) = api(&app, key, "GET", "/products/999999", None).await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")));
}
