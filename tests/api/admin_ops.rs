//! Running the business (`/admin`): the dashboard's numbers from real
//! payments, renewals and refunds; the customers table; a customer's page
//! and its actions; events, dead jobs and drift fixes; the live activity
//! stream. All through the admin's server functions over HTTP.

use futures::StreamExt;
use serde_json::{json, Value};

use crate::{
    admin_auth::{browser, call, sign_in},
    checkout::on_sale,
    helpers::TestApp,
    lifecycle::buy_and_pay,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    the_dashboard_counts_payments_renewals_and_refunds,
    customers_are_searched_filtered_sorted_paged_and_exported,
    the_customer_page_revokes_restores_resends_and_refunds,
    events_are_listed_with_payloads_and_drift_is_fixed,
    the_activity_stream_pushes_what_happens
);

async fn admin(app: &TestApp) -> reqwest::Client {
    let admin = browser();
    sign_in(app, &admin, "sandbox-creator", "/admin").await;
    admin
}

async fn dashboard(app: &TestApp, admin: &reqwest::Client) -> Value {
    let (status, body) = call(app, admin, "admin/dashboard", &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A one-time $49 price next to the monthly $9 one.
pub async fn one_time_price(app: &TestApp, repository: i64) -> i64 {
    let key = api_key(app).await;
    let (status, price) = api(
        app,
        Some(&key),
        "POST",
        &format!("/repositories/{repository}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"})),
    )
    .await;
    assert_eq!(status, 201, "{price}");
    price["id"].as_i64().unwrap()
}

async fn the_dashboard_counts_payments_renewals_and_refunds(app: TestApp) {
    let admin = admin(&app).await;
    let empty = dashboard(&app, &admin).await;
    assert_eq!(
        (empty["revenue_30d"].clone(), empty["charts"].clone(), empty["activity"].clone()),
        (json!([]), json!([]), json!([]))
    );

    let (repo, monthly) = on_sale(&app).await;
    let once = one_time_price(&app, repo).await;
    for _ in 0..3 {
        assert_eq!(app.get("/p/enterprise-sdk").await.status(), 200);
    }
    app.state.page_views.flush(&app.state.db).await.unwrap();
    let (alice, _) = buy_and_pay(&app, monthly, "alice").await;
    let (bob, _) = buy_and_pay(&app, once, "bob").await;
    for id in [alice, bob] {
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {id}"), "invited").await;
    }
    let d = dashboard(&app, &admin).await;
    assert_eq!(d["revenue_30d"], json!(["$58.00"]));
    assert_eq!(d["revenue_month"], json!(["$58.00"]));
    assert_eq!(d["mrr"], json!(["$9.00"]));
    assert_eq!(
        (d["active_customers"].clone(), d["new_purchases"].clone(), d["refunds"].clone()),
        (json!(2), json!(2), json!(0))
    );
    let funnel = &d["funnel"][0];
    assert_eq!(
        (funnel["title"].clone(), funnel["views"].clone(), funnel["checkouts"].clone(), funnel["paid"].clone()),
        (json!("Enterprise SDK"), json!(3), json!(2), json!(2))
    );
    assert_eq!(funnel["conversion"], "66.7%");
    assert_eq!(d["charts"].as_array().unwrap().len(), 1, "one currency, one chart");
    let chart = &d["charts"][0];
    assert_eq!(chart["currency"], "usd");
    assert_eq!(chart["days"].as_array().unwrap().len(), 30);
    assert_eq!(chart["days"][29]["amount_text"], "$58.00", "today's bar");
    assert_eq!(chart["total_text"], "$58.00");
    // The page itself is complete from the server (no JavaScript needed).
    let html = admin.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    let stat = html
        .split(r#"data-testid="stat-revenue-30d""#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default();
    assert!(stat.ends_with(">$58.00"), "{stat}");
    assert!(html.contains("<svg") && html.contains("@bob was invited to Enterprise SDK"), "{html}");

    // A renewal adds; a refund (through Stripe, from the customer page) subtracts and is counted.
    let sub: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(alice)
        .fetch_one(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/subscriptions/{sub}/renew"), json!({})).await;
    wait_for(&app, "SELECT CAST(COUNT(*) AS TEXT) FROM payments WHERE kind = 'renewal'", "1").await;
    let (status, body) =
        call(&app, &admin, "admin/purchases/refund", &[("id", &bob.to_string()), ("amount", "")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!("Refunded $49.00 ($49.00 refunded in all)."));
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "revoked").await;
    let d = dashboard(&app, &admin).await;
    assert_eq!(d["revenue_30d"], json!(["$18.00"]), "9 + 49 + 9 renewal - 49 refund");
    assert_eq!((d["active_customers"].clone(), d["refunds"].clone()), (json!(1), json!(1)));
    let words: Vec<String> =
        d["activity"].as_array().unwrap().iter().map(|a| a["words"].as_str().unwrap().to_owned()).collect();
    assert!(words[0].starts_with("@bob lost access to Enterprise SDK: refunded"), "{words:?}");
    assert!(words.iter().any(|w| w == "@alice paid for Enterprise SDK"), "{words:?}");
}

async fn list(app: &TestApp, admin: &reqwest::Client, form: &[(&str, &str)]) -> Value {
    let (status, body) = call(app, admin, "admin/customers/list", form).await;
    assert_eq!(status, 200, "{form:?}: {body}");
    body
}

fn logins(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["github_login"].as_str().unwrap().to_owned()).collect()
}

async fn customers_are_searched_filtered_sorted_paged_and_exported(app: TestApp) {
    let admin = admin(&app).await;
    server::seed::seed(&app.state.db, 120).await.unwrap();
    // Checkouts never paid (pending, expired) are not customers: listed
    // only when their status is asked for.
    let paid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE status NOT IN ('pending', 'expired')")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!((50..120).contains(&paid), "the seed has paid and unpaid purchases: {paid}");
    let all = list(&app, &admin, &[]).await;
    let pages = (paid + 49) / 50;
    assert_eq!(
        (all["total"].clone(), all["pages"].clone(), all["rows"].as_array().unwrap().len()),
        (json!(paid), json!(pages), 50)
    );
    assert!(all["rows"].as_array().unwrap().iter().all(|r| r["status"] != "pending" && r["status"] != "expired"));
    let last = list(&app, &admin, &[("page", &pages.to_string())]).await;
    assert_eq!(last["rows"].as_array().unwrap().len() as i64, paid - (pages - 1) * 50);
    let unfinished = list(&app, &admin, &[("status", "pending")]).await;
    let rows = unfinished["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["status"] == "pending"), "{unfinished}");

    // Search by login prefix and by email, case-insensitively.
    let found = list(&app, &admin, &[("q", "Customer-7")]).await;
    assert!(
        logins(&found).iter().all(|l| l.starts_with("customer-7")) && found["total"].as_i64().unwrap() >= 1,
        "{found}"
    );
    let someone = logins(&all)[0].clone();
    let by_email = list(&app, &admin, &[("q", &format!("{}@EXAMPLE", someone.to_uppercase()))]).await;
    assert_eq!(logins(&by_email), [someone]);

    // Filters combine; sorting is done by the database.
    let repository = all["repositories"][0][0].as_i64().unwrap().to_string();
    let revoked = list(&app, &admin, &[("status", "revoked"), ("repository", &repository), ("sort", "login")]).await;
    let rows = revoked["rows"].as_array().unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["status"] == "revoked" && r["repository"] == "Seed Kit 0"),
        "{revoked}"
    );
    let names = logins(&revoked);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let (status, body) = call(&app, &admin, "admin/customers/list", &[("sort", "favourite")]).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("sort by one of newest"), "{body}");

    // CSV of the current filter.
    let csv = admin
        .get(app.url(&format!("/admin/customers.csv?status=revoked&repository={repository}")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("purchase_id,created_at,github_login,github_user_id,email,repository,status"));
    assert_eq!(lines.count() as i64, revoked["total"].as_i64().unwrap());
    assert_eq!(browser().get(app.url("/admin/customers.csv")).send().await.unwrap().status(), 401);
}

async fn github_access(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let names = |k: &str| repo[k].as_array().unwrap().iter().map(|c| c["login"].as_str().unwrap().to_owned()).collect();
    (names("collaborators"), names("invitations"))
}

async fn the_customer_page_revokes_restores_resends_and_refunds(app: TestApp) {
    let admin = admin(&app).await;
    let (_, monthly) = on_sale(&app).await;
    let (alice, _) = buy_and_pay(&app, monthly, "alice").await;
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {alice}"), "invited").await;
    let id = alice.to_string();

    let (status, customer) = call(&app, &admin, "admin/customers/get", &[("github_user_id", "1002")]).await;
    assert_eq!(status, 200, "{customer}");
    assert_eq!(customer["github_login"], "alice");
    let p = &customer["purchases"][0];
    assert_eq!(
        (p["can_revoke"].clone(), p["can_restore"].clone(), p["can_refund"].clone()),
        (json!(true), json!(false), json!(true))
    );
    let actions: Vec<&str> = p["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    // Newest first (the subscription's own event may land in between, in either order).
    assert_eq!(
        (&actions[..2], actions.last()),
        (&["invitation sent", "paid"][..], Some(&"checkout started")),
        "{actions:?}"
    );
    assert_eq!(call(&app, &admin, "admin/customers/get", &[("github_user_id", "424242")]).await.0, 404);

    // The panel asks why; nothing changes without a reason.
    let (status, body) = call(&app, &admin, "admin/purchases/revoke", &[("id", &id), ("reason", "  ")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("say why access is revoked"), "{body}");
    assert_eq!(github_access(&app).await.1, ["alice"], "refused, and GitHub left as it was");
    let (status, body) =
        call(&app, &admin, "admin/purchases/revoke", &[("id", &id), ("reason", "shared the code publicly")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(github_access(&app).await, (vec![], vec![]), "the invitation is gone on GitHub");
    let (_, customer) = call(&app, &admin, "admin/customers/get", &[("github_user_id", "1002")]).await;
    let top = &customer["purchases"][0]["timeline"][0];
    assert_eq!(
        (top["action"].clone(), top["cause"].clone(), top["detail"].clone()),
        (json!("revoke"), json!("the creator"), json!("shared the code publicly"))
    );

    assert_eq!(call(&app, &admin, "admin/purchases/restore", &[("id", &id)]).await.0, 200);
    assert_eq!(github_access(&app).await.1, ["alice"]);
    let first: i64 = sqlx::query_scalar("SELECT github_invitation_id FROM grants WHERE purchase_id = $1")
        .bind(alice)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(call(&app, &admin, "admin/purchases/resend", &[("id", &id)]).await.0, 200);
    let second: i64 = sqlx::query_scalar("SELECT github_invitation_id FROM grants WHERE purchase_id = $1")
        .bind(alice)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_ne!(first, second, "a new invitation");
    assert_eq!(github_access(&app).await.1, ["alice"], "and only one");

    // Refunds: partial, then more than is left (refused in money, before Stripe would in cents), then bad input.
    let (status, body) = call(&app, &admin, "admin/purchases/refund", &[("id", &id), ("amount", "1.50")]).await;
    assert_eq!((status, body), (200, json!("Refunded $1.50 ($1.50 refunded in all).")));
    let (status, body) = call(&app, &admin, "admin/purchases/refund", &[("id", &id), ("amount", "9")]).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("$9.00 is more than is left to refund of this payment ($7.50)"), "{body}");
    let (status, body) = call(&app, &admin, "admin/purchases/refund", &[("id", &id), ("amount", "lots")]).await;
    assert_eq!(status, 400, "{body}");
    let ledger: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(amount) AS BIGINT) FROM payments").fetch_one(app.pool()).await.unwrap();
    assert_eq!(ledger, 900 - 150);
    let logged: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_log WHERE action = 'refund_requested' AND cause_kind = 'admin'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(logged, 1);
}

async fn events_are_listed_with_payloads_and_drift_is_fixed(app: TestApp) {
    let admin = admin(&app).await;
    let (_, monthly) = on_sale(&app).await;
    let (bob, _) = buy_and_pay(&app, monthly, "bob").await;
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await;
    wait_for(&app, "SELECT status FROM webhook_events WHERE event_type = 'checkout.session.completed'", "processed")
        .await;

    let (status, page) =
        call(&app, &admin, "admin/events/list", &[("provider", "stripe"), ("event_type", "checkout.")]).await;
    assert_eq!(status, 200, "{page}");
    let rows = page["rows"].as_array().unwrap();
    assert!(
        !rows.is_empty()
            && rows
                .iter()
                .all(|r| r["provider"] == "stripe" && r["event_type"].as_str().unwrap().starts_with("checkout.")),
        "{page}"
    );
    let completed = rows.iter().find(|r| r["event_type"] == "checkout.session.completed").unwrap();
    assert_eq!(completed["status"], "processed");
    let (_, detail) = call(&app, &admin, "admin/events/get", &[("id", &completed["id"].to_string())]).await;
    let payload = detail["payload"].as_str().unwrap();
    assert!(
        payload.starts_with("{\n  \"") && payload.contains("\"checkout.session.completed\""),
        "pretty-printed: {payload}"
    );
    assert_eq!(call(&app, &admin, "admin/events/list", &[("status", "exploded")]).await.0, 400);

    // Drift: bob removed by hand, carol added by hand; one click each.
    let invitation = app.control_get("/github/state").await["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()["invitations"][0]["id"]
        .as_i64()
        .unwrap();
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "active").await;
    app.control("/github/repos/sandbox-org/enterprise-sdk/collaborators/bob/remove", json!({})).await;
    app.collaborator_by_hand("carol").await;
    server::scheduled::reconcile(&app.state).await.unwrap();
    let (_, drift) = call(&app, &admin, "admin/drift/list", &[]).await;
    assert_eq!(drift.as_array().unwrap().len(), 2, "{drift}");
    for d in drift.as_array().unwrap() {
        let (status, done) = call(&app, &admin, "admin/drift/fix", &[("id", &d["id"].to_string())]).await;
        assert_eq!(status, 200, "{done}");
    }
    let (collaborators, invitations) = github_access(&app).await;
    assert!(!collaborators.contains(&"carol".to_owned()), "{collaborators:?}");
    assert_eq!(invitations, ["bob"]);
    assert_eq!(call(&app, &admin, "admin/drift/list", &[]).await.1, json!([]));
}

async fn the_activity_stream_pushes_what_happens(app: TestApp) {
    assert_eq!(browser().get(app.url("/admin/activity/stream")).send().await.unwrap().status(), 401);
    let admin = admin(&app).await;
    let (_, monthly) = on_sale(&app).await;
    let response = admin.get(app.url("/admin/activity/stream")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    buy_and_pay(&app, monthly, "carol").await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains("was invited to Enterprise SDK") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("the stream sends the invitation in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains("event: activity") && seen.contains("@carol started a checkout for Enterprise SDK"),
        "{seen}"
    );
}
