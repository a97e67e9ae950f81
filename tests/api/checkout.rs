//! The buyer's journey over HTTP: product page, username check, the buy
//! form's POST /api/checkout, the sandbox's hosted checkout, and the success
//! page fulfilling the purchase by asking Stripe (no webhook needed).

use serde_json::{json, Value};
use stripe_checkout::checkout_session::RetrieveCheckoutSession;

use crate::{
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
};

scenarios!(
    a_buyer_pays_and_is_invited_once,
    bad_input_is_refused_and_creates_nothing,
    a_second_purchase_is_refused_only_to_the_proven_account_and_otherwise_refunded,
    product_pages_are_complete_and_counted,
    a_trial_gives_access_before_any_payment
);

/// enterprise-sdk (an organisation's repository) on sale at $9/month, read access.
pub async fn on_sale(app: &TestApp) -> (i64, i64) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "enterprise-sdk", "title": "Enterprise SDK", "description": "The **whole** SDK", "published": true});
    let (status, repo) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{repo}");
    let id = repo["id"].as_i64().unwrap();
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd", "permission": "pull"});
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    (id, price["id"].as_i64().unwrap())
}

/// The buy form as a browser without JavaScript sends it.
pub async fn buy(app: &TestApp, price_id: i64, username: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/checkout"))
        .header("accept", "text/html")
        .form(&[("price_id", price_id.to_string().as_str()), ("github_username", username), ("email", email)])
        .send()
        .await
        .unwrap()
}

/// The buy form as the hydrated page sends it (JSON errors).
pub async fn buy_js(app: &TestApp, price_id: &str, username: &str, email: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/checkout"))
        .form(&[("price_id", price_id), ("github_username", username), ("email", email)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn progress(app: &TestApp, session_id: &str) -> Value {
    let response =
        app.client.post(app.url("/api/buy/progress")).form(&[("session_id", session_id)]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn session_id_of(checkout_url: &str) -> String {
    checkout_url.rsplit('/').next().unwrap().to_owned()
}

async fn a_buyer_pays_and_is_invited_once(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let response = buy(&app, price_id, "bob", "bob@example.com").await;
    assert_eq!(response.status(), 303, "a plain form post is sent on with 303");
    let checkout_url = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(checkout_url.contains("/sandbox/stripe/pay/cs_"), "{checkout_url}");
    let session_id = session_id_of(&checkout_url);

    // The purchase waits, tied to the session...
    let (purchase_id, status, login, user_id): (i64, String, String, i64) = sqlx::query_as(
        "SELECT id, status, github_login, github_user_id FROM purchases WHERE stripe_checkout_session_id = $1",
    )
    .bind(&session_id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), login.as_str()), ("pending", "bob"));
    // ...and the session says everything Stripe needs.
    let session = RetrieveCheckoutSession::new(session_id.as_str()).send(&app.stripe()).await.unwrap();
    assert_eq!(session.mode, stripe_checkout::CheckoutSessionMode::Subscription);
    assert_eq!(session.client_reference_id.as_deref(), Some(purchase_id.to_string().as_str()));
    assert_eq!(session.customer_email.as_deref(), Some("bob@example.com"));
    assert_eq!(session.allow_promotion_codes, Some(true));
    let metadata = session.metadata.clone().unwrap();
    assert_eq!(metadata["purchase_id"], purchase_id.to_string());
    assert_eq!(metadata["github_user_id"], user_id.to_string());
    assert_eq!(metadata["product"], "enterprise-sdk");
    assert_eq!(metadata["repositories"], "sandbox-org/enterprise-sdk");
    assert!(session.success_url.as_deref().unwrap().ends_with("/checkout/success?session_id={CHECKOUT_SESSION_ID}"));
    assert!(session.cancel_url.as_deref().unwrap().ends_with("/p/enterprise-sdk?checkout=cancelled"));

    // Before paying, the success page waits.
    assert_eq!(progress(&app, &session_id).await["status"], "pending");
    app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;

    // No webhook handler is needed: the success page asks Stripe and fulfils.
    let done = progress(&app, &session_id).await;
    assert_eq!(done["status"], "invited", "{done}");
    assert!(done["invitation_url"].as_str().unwrap().ends_with("/sandbox-org/enterprise-sdk/invitations"));
    let again = progress(&app, &session_id).await;
    assert_eq!(again["status"], "invited");

    let github = app.control_get("/github/state").await;
    let repo = github["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let invitations: Vec<&Value> =
        repo["invitations"].as_array().unwrap().iter().filter(|i| i["login"] == "bob").collect();
    assert_eq!(invitations.len(), 1, "one invitation, however often the page asks");
    assert_eq!(invitations[0]["permission"], "read", "the price's permission");

    // (The webhooks the sandbox sends meanwhile may add subscription details.)
    let log: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM access_log WHERE purchase_id = $1 AND action <> 'subscription_updated' ORDER BY id",
    )
    .bind(purchase_id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(log, vec!["checkout_started", "paid", "invitation_sent"], "each step once, in order");
    let (paid_at, subscription): (Option<i64>, Option<String>) =
        sqlx::query_as("SELECT paid_at, stripe_subscription_id FROM purchases WHERE id = $1")
            .bind(purchase_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert!(paid_at.is_some() && subscription.unwrap().starts_with("sub_"));

    // The success page itself renders the state at once (server-side).
    let page = app.get(&format!("/checkout/success?session_id={session_id}")).await.text().await.unwrap();
    assert!(
        page.contains("data-status=\"invited\"") && page.contains("Accept the invitation on GitHub"),
        "success page without the invitation"
    );
}

async fn purchases_and_sessions(app: &TestApp) -> (i64, usize) {
    let purchases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases").fetch_one(app.pool()).await.unwrap();
    let sessions = app.control_get("/stripe/state").await["checkout_sessions"].as_array().unwrap().len();
    (purchases, sessions)
}

async fn bad_input_is_refused_and_creates_nothing(app: TestApp) {
    let (repo_id, price_id) = on_sale(&app).await;
    let price = price_id.to_string();
    let before = purchases_and_sessions(&app).await;
    let cases: [(&str, &str, &str, &str, &str); 6] = [
        (
            &price,
            "no-such-user-here",
            "x@example.com",
            "github_username",
            "There is no GitHub user called 'no-such-user-here'",
        ),
        (&price, "sandbox-org", "x@example.com", "github_username", "is a GitHub organization, not a person"),
        (&price, "bad name!", "x@example.com", "github_username", "is not a GitHub username"),
        (&price, "bob", "not-an-email", "email", "does not look like an email address"),
        (&price, "bob", "", "email", "enter your email"),
        ("999999", "bob", "x@example.com", "price_id", "no longer on sale"),
    ];
    for (price_id, username, email, field, message) in cases {
        let (status, body) = buy_js(&app, price_id, username, email).await;
        assert_eq!(status, 400, "{username} {email}: {body}");
        let text = body.to_string();
        assert!(
            text.contains(field) && text.contains(message),
            "{username} / {email}: {text} should name {field}: {message}"
        );
    }
    // Several wrong fields at once: a message for each.
    let (status, both) = buy_js(&app, &price, "sandbox-org", "nope").await;
    assert_eq!(status, 400);
    let text = both.to_string();
    assert!(text.contains("not a person") && text.contains("does not look like an email"), "{text}");

    // A price taken off sale, and a repository archived, cannot be bought.
    let key = api_key(&app).await;
    api(&app, Some(&key), "DELETE", &format!("/prices/{price_id}"), None).await;
    let (status, body) = buy_js(&app, &price, "bob", "bob@example.com").await;
    assert_eq!(status, 400, "{body}");
    let (_, second) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/repositories/{repo_id}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"})),
    )
    .await;
    api(&app, Some(&key), "DELETE", &format!("/repositories/{repo_id}"), None).await;
    let (status, body) = buy_js(&app, &second["id"].to_string(), "bob", "bob@example.com").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("not on sale"), "{body}");

    assert_eq!(purchases_and_sessions(&app).await, before, "refused input created a purchase or a Stripe session");

    // Without JavaScript, a refusal goes back to the page with the reason in the URL.
    let response = app
        .client
        .post(app.url("/api/checkout"))
        .header("accept", "text/html")
        .header("referer", app.url("/p/enterprise-sdk"))
        .form(&[("price_id", "999999"), ("github_username", "bob"), ("email", "b@example.com")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert!(response.headers()["location"].to_str().unwrap().contains("/p/enterprise-sdk"));
}

/// "@carol already has access" tells whoever reads it that carol bought:
/// only carol, signed in at /account, is told before paying. Anyone else
/// pays, and the second purchase then changes nothing on GitHub and is
/// cancelled and refunded in full.
async fn a_second_purchase_is_refused_only_to_the_proven_account_and_otherwise_refunded(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let location =
        buy(&app, price_id, "carol", "carol@example.com").await.headers()["location"].to_str().unwrap().to_owned();
    let session_id = session_id_of(&location);
    app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;
    assert_eq!(progress(&app, &session_id).await["status"], "invited");
    let carol_on_github = || async {
        let state = app.control_get("/github/state").await;
        let repo = state["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
            .unwrap()
            .clone();
        let count = |list: &str| repo[list].as_array().unwrap().iter().filter(|e| e["login"] == "carol").count();
        (count("invitations"), count("collaborators"))
    };
    let github_before = carol_on_github().await;
    assert_eq!(github_before, (1, 0));

    // carol herself, signed in with GitHub: told before paying.
    let carol = crate::admin_auth::browser();
    crate::account::sign_in_customer(&app, &carol, "carol").await;
    let before = purchases_and_sessions(&app).await;
    let refused = carol
        .post(app.url("/api/checkout"))
        .form(&[
            ("price_id", price_id.to_string().as_str()),
            ("github_username", "Carol"),
            ("email", "carol@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("@carol already bought access"), "{body}");
    assert_eq!(purchases_and_sessions(&app).await, before);

    // Anyone else gets what a new buyer gets: a checkout, nothing revealed.
    let (status, url) = buy_js(&app, &price_id.to_string(), "carol", "someone@example.com").await;
    assert_eq!(status, 200, "{url}");
    assert!(!url.to_string().contains("already"), "{url}");
    let second_session = session_id_of(url.as_str().unwrap());
    app.control(&format!("/stripe/checkout/{second_session}/pay"), json!({})).await;
    let second = progress(&app, &second_session).await;
    assert_eq!(second["status"], "revoked", "{second}");
    assert!(
        second.to_string().contains("already had access through an earlier purchase; this payment is refunded in full"),
        "{second}"
    );

    // GitHub untouched: the first purchase's one invitation, nothing more.
    assert_eq!(carol_on_github().await, github_before);
    assert_eq!(progress(&app, &session_id).await["status"], "invited", "the first purchase lost its access");

    // Cancelled and refunded in full by the job.
    let sub_of_second: String =
        sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE stripe_checkout_session_id = $1")
            .bind(&second_session)
            .fetch_one(app.pool())
            .await
            .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stripe = app.control_get("/stripe/state").await;
        let cancelled = stripe["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == sub_of_second.as_str() && s["status"] == "canceled");
        let refunded = stripe["charges"].as_array().unwrap().iter().filter(|c| c["refunded"] == true).count();
        if cancelled && refunded == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the duplicate was not cancelled and refunded: {stripe}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        progress(&app, &session_id).await["status"],
        "invited",
        "refunding the duplicate touched the first purchase"
    );
}

async fn product_pages_are_complete_and_counted(app: TestApp) {
    let (repo_id, _) = on_sale(&app).await;
    let page = app.get("/p/enterprise-sdk").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches(r#"name="description""#).count(), 1, "one description");
    for expected in [
        "<title>Enterprise SDK · RepoPass</title>",
        "<strong>whole</strong>",
        "$9.00 / month",
        "read access to the private GitHub repository",
        "sandbox-org/enterprise-sdk",
        r#"rel="canonical""#,
        r#"href="http://127.0.0.1:"#,
        r#"property="og:title" content="Enterprise SDK""#,
        r#"name="price_id""#,
        r#"action="/api/checkout""#,
    ] {
        let head = html.split("</head>").next().unwrap_or_default();
        assert!(html.contains(expected), "the product page lacks {expected}; its head: {head}");
    }
    assert_eq!(app.get("/p/no-such-thing").await.status(), 404);
    let key = api_key(&app).await;
    api(&app, Some(&key), "PATCH", &format!("/repositories/{repo_id}"), Some(json!({"status": "unpublished"}))).await;
    assert_eq!(app.get("/p/enterprise-sdk").await.status(), 404, "an unpublished page is not found");
    api(&app, Some(&key), "PATCH", &format!("/repositories/{repo_id}"), Some(json!({"status": "published"}))).await;
    app.get("/p/enterprise-sdk").await;

    assert_eq!(views_of(&app, repo_id).await, 2, "two views of the published page; 404s do not count");
}

async fn a_trial_gives_access_before_any_payment(app: TestApp) {
    let (repo_id, _) = on_sale(&app).await;
    let key = api_key(&app).await;
    let (_, trial) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/repositories/{repo_id}/prices"),
        Some(json!({"interval": "year", "unit_amount": 9900, "currency": "usd", "trial_days": 14})),
    )
    .await;
    let location = buy(&app, trial["id"].as_i64().unwrap(), "mona", "mona@example.com").await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let session_id = session_id_of(&location);
    let paid = app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;
    assert_eq!(paid["payment_status"], "no_payment_required", "Stripe charges nothing during a trial: {paid}");

    let shown = progress(&app, &session_id).await;
    assert_eq!(shown["status"], "invited");
    assert_eq!(shown["paid_words"], "Trial started — nothing is charged until it ends", "not \"Payment confirmed\"");
    let (amount, detail): (i64, Option<String>) = sqlx::query_as(
        "SELECT p.amount, l.detail FROM purchases p JOIN access_log l ON l.purchase_id = p.id AND l.action = 'paid' WHERE p.stripe_checkout_session_id = $1",
    )
    .bind(&session_id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(amount, 0, "nothing was paid yet, so no revenue is counted");
    assert!(detail.unwrap().contains("trial"));
}

/// Username lookups spend the creator's GitHub quota: answers are reused
/// for a minute, and lookups share one budget so that invitations and
/// removals always have quota left.
mod lookups {
    use super::*;

    scenarios!(with [("REPOPASS_GITHUB_LOOKUPS_PER_HOUR", "3")] username_lookups_are_cached_and_budgeted);

    async fn check(app: &TestApp, price_id: i64, login: &str) -> (u16, Value) {
        let response = app
            .client
            .post(app.url("/api/buy/check-username"))
            .form(&[("price_id", price_id.to_string().as_str()), ("github_username", login)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn username_lookups_are_cached_and_budgeted(app: TestApp) {
        let (_, price_id) = on_sale(&app).await;
        assert_eq!(check(&app, price_id, "bob").await.0, 200);
        assert_eq!(check(&app, price_id, "alice").await.0, 200);
        let (status, unknown) = check(&app, price_id, "nobody-by-this-name").await;
        assert_eq!(status, 400, "{unknown}");

        // The budget of 3 is spent: a new name waits, with a readable reason.
        let (status, body) = check(&app, price_id, "carol").await;
        assert_eq!(status, 429, "{body}");
        assert!(body.to_string().contains("try again in"), "{body}");

        // Names asked in the last minute are answered without GitHub (it
        // fails every call now), the unknown one with the same refusal.
        app.control("/github/faults", json!({ "fault": "server_error", "count": 50 })).await;
        let (status, bob) = check(&app, price_id, "Bob").await;
        assert_eq!((status, bob["login"].as_str()), (200, Some("bob")), "{bob}");
        assert_eq!(check(&app, price_id, "nobody-by-this-name").await, (400, unknown));
        // The buy form itself uses the same answers.
        let (status, url) = buy_js(&app, &price_id.to_string(), "bob", "bob@example.com").await;
        assert_eq!(status, 200, "{url}");
    }
}

/// Views of product `id`'s page: counted in memory, written in batches (this flushes them).
pub(crate) async fn views_of(app: &TestApp, id: i64) -> i64 {
    app.state.page_views.flush(&app.state.db).await.unwrap();
    sqlx::query_scalar("SELECT CAST(SUM(views) AS BIGINT) FROM page_views WHERE product_id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}
