//! Who may do what, as one table: every admin server function (taken from
//! the registry Leptos keeps, so a new one is covered without editing this
//! file) and every /api/v1 route (taken from the OpenAPI document, which is
//! generated with the routes) is tried by people who must be refused.

use secrecy::ExposeSecret;
use serde_json::json;

use crate::{
    admin_auth::{browser, sign_in},
    helpers::TestApp,
    rest_api::{api_key, documented_operations, purchase},
    scenarios,
};

scenarios!(admin_endpoints_refuse_everyone_else);

/// Arguments for any admin server function: extra fields are ignored, a
/// missing one would make the call fail before the permission check, and
/// this test then fails, asking for the new field to be added here.
pub const ANY_ARGS: &[(&str, &str)] = &[
    ("id", "1"),
    ("repository_id", "1"),
    ("github_id", "5001"),
    ("github_user_id", "1002"),
    ("status", "archived"),
    ("slug", "hacked"),
    ("title", "hacked"),
    ("summary", "hacked"),
    ("description", "hacked"),
    ("markdown", "hacked"),
    ("name", "hacked"),
    ("interval", "month"),
    ("amount", "1000"),
    ("currency", "usd"),
    ("trial_days", "0"),
    ("permission", "admin"),
    ("price[interval]", "month"),
    ("price[amount]", "1000"),
    ("price[currency]", "usd"),
    ("price[trial_days]", "0"),
    ("price[permission]", "admin"),
    ("reason", "hacked"),
    ("key", "sk_test_hacked"),
    ("confirm", "0"),
    ("on", "true"),
    ("email", "hacked@example.com"),
    ("url", "https://example.com/hacked"),
    ("enabled", "false"),
    ("endpoint_id", "1"),
    ("delivery_id", "1"),
    ("format", "slack"),
    ("kinds[]", "dead_job"),
];

/// Everything an unauthorised call could have changed.
pub async fn snapshot(app: &TestApp) -> String {
    let repositories: Vec<(i64, String, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, slug, title, status, cover_image FROM products ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let prices: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("SELECT id, amount, active, permission FROM prices ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let purchases: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, status_reason FROM purchases ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let keys: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, revoked_at FROM api_keys ORDER BY id").fetch_all(app.pool()).await.unwrap();
    let log: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(app.pool()).await.unwrap();
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins").fetch_one(app.pool()).await.unwrap();
    let endpoints: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, url, status FROM outgoing_endpoints ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    let recipients: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, email, kinds FROM alert_recipients ORDER BY id")
            .fetch_all(app.pool())
            .await
            .unwrap();
    format!("{repositories:?}\n{prices:?}\n{purchases:?}\n{keys:?}\nlog={log} admins={admins}\n{endpoints:?}\n{recipients:?}")
}

async fn admin_endpoints_refuse_everyone_else(app: TestApp) {
    // Something to attack: a repository with a price and an active purchase.
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let key = api_key(&app).await;
    let (_, purchase_id) = purchase(&app, &key, "active", "bob", 1002).await;
    let revoked = server::api_keys::create(&app.state.db, "old", None).await.unwrap();
    server::api_keys::revoke(&app.state.db, revoked.id).await.unwrap();
    let revoked = revoked.secret.expose_secret().to_owned();

    let customer = browser();
    sign_in(&app, &customer, "alice", "/").await;
    let anonymous = browser();
    let before = snapshot(&app).await;

    // Server functions.
    let mut admin_fns: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .filter(|p| p.starts_with("/api/admin/"))
        .collect();
    admin_fns.sort();
    for known in [
        "/api/admin/api-keys/create",
        "/api/admin/prices/add",
        "/api/admin/repositories/save",
        "/api/admin/settings/status",
    ] {
        assert!(admin_fns.iter().any(|p| p == known), "{known} missing from the registry: {admin_fns:?}");
    }
    for path in &admin_fns {
        let cells = [
            ("anonymous", anonymous.post(app.url(path)), 401),
            ("customer", customer.post(app.url(path)), 403),
            ("revoked API key", anonymous.post(app.url(path)).bearer_auth(&revoked), 401),
            ("live API key", anonymous.post(app.url(path)).bearer_auth(&key), 401),
        ];
        for (who, request, expected) in cells {
            let response = request.form(ANY_ARGS).send().await.unwrap();
            assert_eq!(
                response.status().as_u16(),
                expected,
                "{who} calling {path}: {}",
                response.text().await.unwrap()
            );
        }
    }
    // The cover upload is a plain form post, outside the server functions.
    for (who, client, expected) in [("anonymous", &anonymous, 401), ("customer", &customer, 403)] {
        let form = reqwest::multipart::Form::new().part(
            "cover",
            reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()).file_name("x.png"),
        );
        let response = client.post(app.url("/admin/repositories/1/cover")).multipart(form).send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{who} uploading a cover");
    }

    // REST API routes.
    let operations = documented_operations(&app).await;
    assert_eq!(operations.len(), 31, "{operations:?}");
    for (method, path) in &operations {
        let path = path
            .replace("{id}", &purchase_id.to_string())
            .replace("{github_repository_id}", "5001")
            .replace("{delivery_id}", "1");
        let path = format!("/api/v1{path}");
        let body = json!({"title": "hacked", "status": "archived", "interval": "month", "unit_amount": 100, "currency": "usd", "owner": "sandbox-creator", "name": "course-materials", "reason": "hacked"});
        let cells = [
            ("anonymous", anonymous.request(method.parse().unwrap(), app.url(&path))),
            ("customer session", customer.request(method.parse().unwrap(), app.url(&path))),
            ("admin session without a key", admin.request(method.parse().unwrap(), app.url(&path))),
            ("revoked API key", anonymous.request(method.parse().unwrap(), app.url(&path)).bearer_auth(&revoked)),
            (
                "mistyped API key",
                anonymous.request(method.parse().unwrap(), app.url(&path)).bearer_auth(format!("{key}x")),
            ),
            (
                "key in the wrong scheme",
                anonymous
                    .request(method.parse().unwrap(), app.url(&path))
                    .header("authorization", format!("Basic {key}")),
            ),
        ];
        for (who, request) in cells {
            let response = request.json(&body).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 401, "{who} calling {method} {path}");
            let error: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "unauthorized", "{who} calling {method} {path}");
        }
    }

    assert_eq!(snapshot(&app).await, before, "a refused call changed something");
    // Nor took a backup (which changes no data, so is not in the snapshot:
    // "Back up now" has no argument for garbage to spoil).
    let backups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM backups").fetch_one(app.pool()).await.unwrap();
    assert_eq!(backups, 0, "a refused call took a backup");

    // The same calls succeed for the people allowed: the table is not
    // passing because everything is broken.
    let (status, _) = crate::admin_auth::call(&app, &admin, "admin/repositories/list", &[]).await;
    assert_eq!(status, 200);
    let (status, _) = crate::rest_api::api(&app, Some(&key), "GET", &format!("/purchases/{purchase_id}"), None).await;
    assert_eq!(status, 200);
}
