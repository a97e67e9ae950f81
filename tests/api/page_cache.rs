//! Published pages served from memory: each view still gets its own CSP
//! nonce and counts, and every change that shows on a page — made through
//! this instance, by the worker (straight in the database), or by another
//! instance on the same database — is on the next view.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    checkout::views_of,
    helpers::{spawn_app_beside, TestApp},
    rest_api::{api, api_key},
    scenarios,
};

scenarios!(
    a_kept_page_gets_a_fresh_nonce_and_counts_each_view,
    a_kept_page_follows_every_change_made_here,
    a_change_made_elsewhere_reaches_a_kept_page,
    every_unknown_address_gets_one_404_page_kept_in_memory
);

/// "Toolkit" on sale at $9 a month. Returns (product id, key).
async fn toolkit(app: &TestApp) -> (i64, String) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "toolkit", "title": "Toolkit", "published": true});
    let (status, product) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_i64().unwrap();
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd"});
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    (id, key)
}

/// An anonymous visitor's view: status, the policy's nonce, the page.
async fn view(app: &TestApp, path: &str) -> (u16, String, String) {
    view_kept(app, path).await.0
}

/// `view`, and whether the page came from memory (its `Age` header).
async fn view_kept(app: &TestApp, path: &str) -> ((u16, String, String), bool) {
    let response = reqwest::get(app.url(path)).await.unwrap();
    let kept = response.headers().contains_key("age");
    let status = response.status().as_u16();
    let policy = response.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
    let nonce = policy
        .as_deref()
        .and_then(|p| p.split("'nonce-").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_default()
        .to_owned();
    ((status, nonce, response.text().await.unwrap()), kept)
}

/// Views `path` until `seen` holds (at most `within`).
async fn eventually(app: &TestApp, path: &str, within: Duration, seen: impl Fn(u16, &str) -> bool) -> (u16, String) {
    let start = Instant::now();
    loop {
        let (status, _, body) = view(app, path).await;
        if seen(status, &body) {
            return (status, body);
        }
        assert!(start.elapsed() < within, "{path} did not change within {within:?}: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_kept_page_gets_a_fresh_nonce_and_counts_each_view(app: TestApp) {
    let (id, _) = toolkit(&app).await;
    let mut nonces = Vec::new();
    let mut kept = 0;
    for _ in 0..5 {
        let ((status, nonce, body), from_memory) = view_kept(&app, "/p/toolkit").await;
        kept += usize::from(from_memory);
        assert_eq!(status, 200);
        assert!(nonce.len() >= 16, "a page's policy names a nonce");
        // The hydration scripts carry this response's nonce, and no other.
        assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the scripts carry the policy's nonce");
        for earlier in &nonces {
            assert!(!body.contains(earlier), "an earlier view's nonce is in a later page");
        }
        assert!(body.contains("Toolkit") && body.contains("$9.00 / month"));
        nonces.push(nonce);
    }
    assert!(
        kept >= 3,
        "rendered once (or twice, the first read of the version aside), then served from memory: {kept} of 5"
    );
    // The storefront too.
    let (_, first, _) = view(&app, "/").await;
    let (status, second, body) = view(&app, "/").await;
    assert_eq!(status, 200);
    assert_ne!(first, second);
    assert!(body.contains("Toolkit") && body.contains(&format!("nonce=\"{second}\"")));

    assert_eq!(views_of(&app, id).await, 5, "every view of the product page counts, rendered or kept");

    // A visitor with a session gets a page rendered for them, with the same content.
    let response =
        app.client.get(app.url("/p/toolkit")).header("cookie", "repopass_session=none").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("age"), "rendered for this visitor");
    assert!(response.text().await.unwrap().contains("$9.00 / month"));
}

async fn a_kept_page_follows_every_change_made_here(app: TestApp) {
    let (id, key) = toolkit(&app).await;
    assert!(view(&app, "/p/toolkit").await.2.contains("Toolkit"));

    // Each change is on the very next view.
    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/repositories/{id}"), Some(json!({"title": "Toolkit Pro"}))).await;
    assert_eq!(status, 200);
    let (_, _, page) = view(&app, "/p/toolkit").await;
    assert!(page.contains("Toolkit Pro"), "the new title");
    assert!(view(&app, "/").await.2.contains("Toolkit Pro"), "the storefront's too");

    let yearly = json!({"interval": "year", "unit_amount": 9000, "currency": "usd"});
    let (status, price) = api(&app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(yearly)).await;
    assert_eq!(status, 201, "{price}");
    let (status, _, page) = view(&app, "/p/toolkit").await;
    assert!(page.contains("$90.00 / year"), "the new price ({status}):\n{page}");

    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/repositories/{id}"), Some(json!({"status": "unpublished"}))).await;
    assert_eq!(status, 200);
    assert_eq!(view(&app, "/p/toolkit").await.0, 404, "unpublished: gone at once");
    assert!(!view(&app, "/").await.2.contains("Toolkit Pro"), "and from the storefront");
    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/repositories/{id}"), Some(json!({"status": "published"}))).await;
    assert_eq!(status, 200);
    assert_eq!(view(&app, "/p/toolkit").await.0, 200);

    // The worker's changes are made in the database, as here: GitHub no
    // longer lets the repository be sold.
    sqlx::query("UPDATE repositories SET github_state = 'access_lost' WHERE name = 'pro-kit'")
        .execute(app.pool())
        .await
        .unwrap();
    eventually(&app, "/p/toolkit", Duration::from_secs(3), |status, _| status == 404).await;

    // The sandbox's clock moves the dates a page shows.
    sqlx::query("UPDATE repositories SET github_state = 'ok' WHERE name = 'pro-kit'")
        .execute(app.pool())
        .await
        .unwrap();
    let access = json!({"interval": "one_time", "unit_amount": 5000, "currency": "usd", "access_days": 365});
    let (status, _) = api(&app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(access)).await;
    assert_eq!(status, 201);
    let (_, before) =
        eventually(&app, "/p/toolkit", Duration::from_secs(3), |s, b| s == 200 && b.contains("if you buy today")).await;
    app.control("/clock/advance", json!({"days": 400})).await;
    let (_, _, after) = view(&app, "/p/toolkit").await;
    let until =
        |page: &str| page.split("if you buy today").next().map(|s| s.chars().rev().take(40).collect::<String>());
    assert_ne!(until(&before), until(&after), "the date access would end moved with the clock");
}

async fn a_change_made_elsewhere_reaches_a_kept_page(app: TestApp) {
    let (id, key) = toolkit(&app).await;
    let other = spawn_app_beside(&app, &[]).await;
    // Kept by the other instance (once it hears the database).
    let start = Instant::now();
    loop {
        let ((_, _, page), kept) = view_kept(&other, "/p/toolkit").await;
        assert!(page.contains("$9.00 / month"));
        if kept {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(3), "the other instance never served the page from memory");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/repositories/{id}"), Some(json!({"title": "Renamed Elsewhere"})))
            .await;
    assert_eq!(status, 200);
    eventually(&other, "/p/toolkit", Duration::from_secs(3), |_, page| page.contains("Renamed Elsewhere")).await;
    eventually(&other, "/", Duration::from_secs(3), |_, page| page.contains("Renamed Elsewhere")).await;
}

/// Scanners ask for many addresses that do not exist: after the first, the
/// 404 page comes from memory, still a 404 with its own nonce; a visitor
/// with a cookie still gets theirs rendered.
async fn every_unknown_address_gets_one_404_page_kept_in_memory(app: TestApp) {
    // Nothing is kept until the instance hears the database's changes
    // (PostgreSQL's LISTEN connects in the background at start).
    let start = Instant::now();
    while app.state.pages.current().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "the page version is never watched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut nonces = Vec::new();
    let mut kept = 0;
    for path in ["/wp-admin/setup.php", "/.env", "/old-link", "/p/../x", "/admin.php?x=1"] {
        let ((status, nonce, page), from_memory) = view_kept(&app, path).await;
        kept += usize::from(from_memory);
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found") && page.contains("Back to the store"), "{path}: {page}");
        assert!(nonce.len() >= 16, "{path}: the policy names a nonce");
        assert_eq!(page.matches(&format!("nonce=\"{nonce}\"")).count(), page.matches("<script").count(), "{path}");
        assert!(!nonces.contains(&nonce), "{path}: each view gets its own nonce");
        nonces.push(nonce);
    }
    assert_eq!(kept, 4, "rendered once, then served from memory");

    let signed_in = app.client.get(app.url("/.env")).header("cookie", "repopass_session=none").send().await.unwrap();
    assert_eq!(signed_in.status(), 404);
    assert!(!signed_in.headers().contains_key("age"), "a visitor with a cookie gets the page rendered");
    // A product page of no product is its own 404, never the kept one.
    let ((status, _, _), kept) = view_kept(&app, "/p/no-such-product").await;
    assert_eq!((status, kept), (404, false));
}
