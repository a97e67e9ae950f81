//! Exports over the REST API (issue 23): purchases with their access log,
//! the access log and the payments, as JSON Lines and CSV, page by page
//! through the `Link` header until every row has come out once.

use serde_json::{json, Value};

use crate::{
    helpers::TestApp,
    lifecycle::{buy_and_pay, one_time},
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(purchases_and_payments_come_out_page_by_page_as_json_lines_and_csv, bad_export_requests_say_what_to_change);

/// GETs `path` with the key: (status, content type, next link, body).
async fn get(app: &TestApp, key: &str, path: &str) -> (u16, String, Option<String>, String) {
    let response = app.client.get(app.url(path)).bearer_auth(key).send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let content_type = header("content-type").unwrap_or_default();
    let next = header("link").map(|l| {
        assert!(l.ends_with("rel=\"next\""), "{l}");
        l.trim_start_matches('<').split('>').next().unwrap().to_owned()
    });
    (status, content_type, next, response.text().await.unwrap())
}

/// Every page from `first`, following `Link` rel=next: the bodies.
async fn all_pages(app: &TestApp, key: &str, first: &str) -> Vec<String> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let (status, _, link, body) = get(app, key, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        pages.push(body);
        next = link;
        assert!(pages.len() < 20, "the pages end");
    }
    pages
}

async fn purchases_and_payments_come_out_page_by_page_as_json_lines_and_csv(app: TestApp) {
    let price_id = one_time(&app).await;
    let mut ids = Vec::new();
    for login in ["alice", "bob", "carol"] {
        let (id, session) = buy_and_pay(&app, price_id, login).await;
        let status = format!("SELECT status FROM purchases WHERE id = {id}");
        assert_eq!(wait_for(&app, &status, "invited").await, "invited");
        ids.push((id, session));
    }
    app.control("/stripe/refund", json!({"id": ids[1].1})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {}", ids[1].0), "revoked").await,
        "revoked"
    );
    let key = api_key(&app).await;

    // JSON Lines, two a page: three purchases in two pages, each once, with its log.
    let (status, content_type, next, body) = get(&app, &key, "/api/v1/exports/purchases?limit=2").await;
    assert_eq!((status, content_type.as_str()), (200, "application/x-ndjson"), "{body}");
    assert!(next.as_deref().unwrap().contains("after="), "a full page points to the next: {next:?}");
    let pages = all_pages(&app, &key, "/api/v1/exports/purchases?limit=2").await;
    assert_eq!(pages.len(), 2);
    let lines: Vec<Value> = pages.iter().flat_map(|p| p.lines()).map(|l| serde_json::from_str(l).unwrap()).collect();
    let logins: Vec<&str> = lines.iter().map(|l| l["github_login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["alice", "bob", "carol"], "in order, each once");
    let bob = &lines[1];
    assert_eq!((bob["status"].as_str(), bob["status_reason_code"].as_str()), (Some("revoked"), Some("refunded")));
    let actions: Vec<&str> =
        bob["access_log"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.first(), Some(&"checkout_started"), "{actions:?}");
    assert!(
        actions.contains(&"paid") && actions.contains(&"invitation_sent") && actions.last() == Some(&"revoke"),
        "{actions:?}"
    );
    assert!(
        lines[0]["access_log"].as_array().unwrap().iter().all(|e| e["purchase_id"] == lines[0]["id"]),
        "its own log only"
    );
    assert!(bob["paid_at"].as_str().unwrap().ends_with("+00:00"), "times in RFC 3339");

    // The same as CSV: a header, then a row a purchase.
    let pages = all_pages(&app, &key, "/api/v1/exports/purchases?format=csv&limit=2").await;
    let mut rows = Vec::new();
    for page in &pages {
        let mut reader = csv::Reader::from_reader(page.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(&headers[0], "id");
        for record in reader.records() {
            let record = record.unwrap();
            let field = |name: &str| record.get(headers.iter().position(|h| h == name).unwrap()).unwrap().to_owned();
            rows.push((field("github_login"), field("status"), field("amount"), field("email")));
        }
    }
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1], ("bob".into(), "revoked".into(), "4900".into(), "buyer@example.com".into()));

    // Payments: three in, one refund out (negative), each once.
    let pages = all_pages(&app, &key, "/api/v1/exports/payments?limit=1000").await;
    assert_eq!(pages.len(), 1, "a short page is the last");
    let payments: Vec<Value> = pages[0].lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let amounts: Vec<(String, i64)> =
        payments.iter().map(|p| (p["kind"].as_str().unwrap().to_owned(), p["amount"].as_i64().unwrap())).collect();
    assert_eq!(amounts.iter().filter(|(k, a)| k == "payment" && *a == 4900).count(), 3, "{amounts:?}");
    assert!(amounts.contains(&("refund".to_owned(), -4900)), "{amounts:?}");

    // The access log alone, as CSV, in pages of five: every entry once.
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(app.pool()).await.unwrap();
    let pages = all_pages(&app, &key, "/api/v1/exports/access-log?format=csv&limit=5").await;
    let entries: usize = pages.iter().map(|p| csv::Reader::from_reader(p.as_bytes()).records().count()).sum();
    assert_eq!(entries as i64, total);
}

async fn bad_export_requests_say_what_to_change(app: TestApp) {
    let key = api_key(&app).await;
    for (path, field, words) in [
        ("/exports/purchases?format=xml", "format", "csv or jsonl"),
        ("/exports/payments?limit=0", "limit", "1 to 5000"),
        ("/exports/access-log?limit=100000", "limit", "1 to 5000"),
    ] {
        let (status, refused) = api(&app, Some(&key), "GET", path, None).await;
        assert_eq!(status, 422, "{path}: {refused}");
        assert_eq!(refused["error"]["field"], field, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains(words), "{refused}");
    }
    let (status, refused) = api(&app, Some(&key), "GET", "/exports/purchases?after=abc", None).await;
    assert_eq!(status, 400, "{refused}");
    let (status, _) = api(&app, None, "GET", "/exports/purchases", None).await;
    assert_eq!(status, 401);
    // Nothing sold yet: an empty last page, not an error.
    let (status, content_type, next, body) = get(&app, &key, "/api/v1/exports/purchases?format=csv").await;
    assert_eq!((status, content_type.as_str(), next, body.as_str()), (200, "text/csv; charset=utf-8", None, ""));
}
