//! API keys from the admin panel: shown once, listed without the key,
//! revoked for good; only for admins.

use secrecy::SecretString;
use serde_json::{json, Value};

use crate::{
    admin_auth::{browser, sign_in},
    helpers::TestApp,
    scenarios,
};

scenarios!(api_keys_from_the_admin_panel);

async fn call(app: &TestApp, who: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    crate::admin_auth::call(app, who, &format!("admin/api-keys/{endpoint}"), form).await
}

async fn api_keys_from_the_admin_panel(app: TestApp) {
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;

    let (status, created) = call(&app, &admin, "create", &[("name", "zapier")]).await;
    assert_eq!(status, 200, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rp_") && secret.len() == 43);
    let id = created["id"].as_i64().unwrap();

    let (_, listed) = call(&app, &admin, "list", &[]).await;
    assert_eq!(listed[0]["name"], "zapier");
    assert!(secret.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(!listed.to_string().contains(&secret), "the list must never carry the key");
    let live = server::api_keys::authenticate(&app.state.db, &SecretString::from(secret.clone())).await.unwrap();
    assert_eq!(live, Some(id));

    let (status, err) = call(&app, &admin, "create", &[("name", "   ")]).await;
    assert_eq!(status, 400, "an empty name was accepted");
    assert!(err.to_string().contains("name"), "{err}");

    // Not for anyone else.
    let alice = browser();
    sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(call(&app, &alice, "list", &[]).await.0, 403);
    assert_eq!(call(&app, &alice, "revoke", &[("id", &id.to_string())]).await.0, 403);
    assert_eq!(call(&app, &browser(), "create", &[("name", "x")]).await.0, 401);
    assert_eq!(
        server::api_keys::authenticate(&app.state.db, &SecretString::from(secret.clone())).await.unwrap(),
        Some(id),
        "a refused revoke changed nothing"
    );

    let (status, _) = call(&app, &admin, "revoke", &[("id", &id.to_string())]).await;
    assert_eq!(status, 200);
    assert_eq!(server::api_keys::authenticate(&app.state.db, &SecretString::from(secret)).await.unwrap(), None);
    let (_, listed) = call(&app, &admin, "list", &[]).await;
    assert_eq!(listed[0]["revoked"], json!(true));
    assert_eq!(
        call(&app, &admin, "revoke", &[("id", &id.to_string())]).await.0,
        404,
        "a revoked key cannot be revoked twice"
    );
}
