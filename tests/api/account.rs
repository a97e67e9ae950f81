//! The customer's account (`/account`) over HTTP: sign-in with GitHub (the
//! sandbox's OAuth page) or a one-time email link (read from the sandbox's
//! mailbox), purchases in words, resend, move, the billing portal — and
//! isolation: every customer server function refuses another's purchase.

use serde_json::{json, Value};

use crate::{
    admin_auth::{browser, call},
    checkout::on_sale,
    helpers::TestApp,
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    github_sign_in_shows_the_purchase_in_words_and_is_not_an_admin_sign_in,
    an_invitation_can_be_resent_three_times_a_day,
    access_moves_to_another_account_once_a_month,
    an_email_link_signs_in_once_within_fifteen_minutes,
    the_billing_portal_cancels_and_the_account_says_when_access_ends,
    only_the_payer_opens_the_billing_portal,
    customers_see_and_act_on_only_their_own_purchases
);

/// Buys `price_id` for `login` with `email` and pays; waits for the invitation.
pub async fn buy(app: &TestApp, price_id: i64, login: &str, email: &str) -> i64 {
    let response = app
        .client
        .post(app.url("/api/checkout"))
        .header("accept", "text/html")
        .form(&[("price_id", price_id.to_string().as_str()), ("github_username", login), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let session_id = response.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM purchases WHERE stripe_checkout_session_id = $1")
        .bind(&session_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    wait_for(app, &format!("SELECT status FROM purchases WHERE id = {id}"), "invited").await;
    id
}

pub async fn public_id(app: &TestApp, purchase_id: i64) -> String {
    sqlx::query_scalar("SELECT public_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Signs `customer` in at /account through the sandbox's OAuth page.
pub async fn sign_in_customer(app: &TestApp, customer: &reqwest::Client, login: &str) {
    let start = customer.get(app.url("/account/sign-in/github")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = url::Url::parse(&location(&start)).unwrap();
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    form.push(("login".into(), login.into()));
    let picked = customer.post(authorize.as_str()).form(&form).send().await.unwrap();
    let back = customer.get(location(&picked)).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(location(&back), "/account");
}

async fn overview(app: &TestApp, customer: &reqwest::Client) -> Value {
    let (status, body) = call(app, customer, "account/overview", &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The repository's collaborators and pending invitations on the sandbox's GitHub.
async fn github_access(app: &TestApp) -> (Vec<String>, Vec<(i64, String)>) {
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let collaborators =
        repo["collaborators"].as_array().unwrap().iter().map(|c| c["login"].as_str().unwrap().to_owned()).collect();
    let invitations = repo["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["login"].as_str().unwrap().to_owned()))
        .collect();
    (collaborators, invitations)
}

async fn github_sign_in_shows_the_purchase_in_words_and_is_not_an_admin_sign_in(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    buy(&app, price, "alice", "alice@example.com").await;
    let alice = browser();
    assert_eq!(overview(&app, &alice).await, Value::Null, "signed out: nothing to show");
    sign_in_customer(&app, &alice, "alice").await;

    let account = overview(&app, &alice).await;
    assert_eq!(account["signed_in_as"], json!(["@alice"]));
    let p = &account["purchases"][0];
    assert_eq!(account["purchases"].as_array().unwrap().len(), 1, "{account}");
    assert_eq!(p["title"], "Enterprise SDK");
    assert_eq!(p["price_text"], "$9.00 / month");
    assert_eq!(p["headline"], "Invitation sent — accept it on GitHub");
    assert!(p["when"].as_str().unwrap().starts_with("Renews on "), "{p}");
    assert!(
        p["invitation_url"].as_str().unwrap().contains("/sandbox/github/sandbox-org/enterprise-sdk/invitations"),
        "{p}"
    );
    assert_eq!(
        (p["can_resend"].clone(), p["can_move"].clone(), p["can_manage_billing"].clone()),
        (json!(true), json!(true), json!(true))
    );

    // The page itself, server-rendered.
    let html = alice.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Invitation sent — accept it on GitHub") && html.contains("Resend invitation"), "{html}");

    // A customer's sign-in is not the creator's: on a fresh install the
    // first GitHub sign-in becomes the owner, but not through /account.
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins").fetch_one(app.pool()).await.unwrap();
    assert_eq!(admins, 0);
    assert_eq!(call(&app, &alice, "admin/settings/status", &[]).await.0, 401);

    // Accepting on GitHub: the account says so.
    let (_, invitations) = github_access(&app).await;
    app.control(&format!("/github/invitations/{}/accept", invitations[0].0), json!({})).await;
    wait_for(&app, "SELECT status FROM purchases", "active").await;
    let p = &overview(&app, &alice).await["purchases"][0];
    assert_eq!(
        (p["headline"].clone(), p["invitation_url"].clone(), p["can_resend"].clone()),
        (json!("Active"), Value::Null, json!(false))
    );
}

async fn an_invitation_can_be_resent_three_times_a_day(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    let purchase = buy(&app, price, "alice", "alice@example.com").await;
    let id = public_id(&app, purchase).await;
    let alice = browser();
    sign_in_customer(&app, &alice, "alice").await;
    let (_, before) = github_access(&app).await;
    assert_eq!(before.len(), 1);

    for n in 1..=3 {
        let (status, body) = call(&app, &alice, "account/resend", &[("id", &id)]).await;
        assert_eq!(status, 200, "resend {n}: {body}");
        let (_, now) = github_access(&app).await;
        assert_eq!(now.len(), 1, "one pending invitation, not {now:?}");
        assert_ne!(now[0].0, before[0].0, "a new invitation replaced the old one");
        assert_eq!(now[0].1, "alice");
    }
    let (status, body) = call(&app, &alice, "account/resend", &[("id", &id)]).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("resent 3 times today"), "{body}");
    let log: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, cause_kind, cause_ref FROM access_log WHERE purchase_id = $1 AND action = 'invitation_resent'",
    )
    .bind(purchase)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!((log[0].1.as_str(), log[0].2.as_str()), ("customer", "@alice (GitHub id 1002)"));
    // The purchase points at the newest invitation.
    let stored: i64 = sqlx::query_scalar("SELECT github_invitation_id FROM grants WHERE purchase_id = $1")
        .bind(purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(stored, github_access(&app).await.1[0].0);
}

async fn access_moves_to_another_account_once_a_month(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    let purchase = buy(&app, price, "alice", "alice@example.com").await;
    let (_, invitations) = github_access(&app).await;
    app.control(&format!("/github/invitations/{}/accept", invitations[0].0), json!({})).await;
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase}"), "active").await;
    let id = public_id(&app, purchase).await;
    let alice = browser();
    sign_in_customer(&app, &alice, "alice").await;

    // Refusals change nothing.
    for (name, want) in [
        ("no such user!", "is not a GitHub username"),
        ("ghost-user-404", "There is no GitHub user called"),
        ("sandbox-org", "not a person"),
        ("alice", "already is the account"),
    ] {
        let (status, body) = call(&app, &alice, "account/move", &[("id", &id), ("github_username", name)]).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body.to_string().contains(want), "{name}: {body}");
    }
    assert_eq!(github_access(&app).await, (vec!["alice".to_owned()], vec![]));

    let (status, body) = call(&app, &alice, "account/move", &[("id", &id), ("github_username", "bob")]).await;
    assert_eq!(status, 200, "{body}");
    let (collaborators, invitations) = github_access(&app).await;
    assert!(!collaborators.contains(&"alice".to_owned()), "alice removed: {collaborators:?}");
    assert_eq!(invitations.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(), ["bob"]);
    let (login, status, detail): (String, String, String) = sqlx::query_as(
        "SELECT p.github_login, p.status, l.detail FROM purchases p JOIN access_log l ON l.purchase_id = p.id WHERE p.id = $1 AND l.action = 'moved'",
    )
    .bind(purchase)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!((login.as_str(), status.as_str()), ("bob", "invited"));
    assert_eq!(detail, "moved from @alice (GitHub id 1002) to @bob (GitHub id 1003)");

    // This session still shows it (until sign-out), and once a month only.
    let p = &overview(&app, &alice).await["purchases"][0];
    assert_eq!((p["can_move"].clone(), p["github_login"].clone()), (json!(false), json!("bob")));
    assert!(p["move_after"].is_string(), "{p}");
    let (status, body) = call(&app, &alice, "account/move", &[("id", &id), ("github_username", "carol")]).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("moved less than 30 days ago"), "{body}");
    // Alice's GitHub account no longer holds it: a new sign-in does not see it; Bob's does.
    let alice_again = browser();
    sign_in_customer(&app, &alice_again, "alice").await;
    assert_eq!(overview(&app, &alice_again).await["purchases"], json!([]));
    assert_eq!(call(&app, &alice_again, "account/move", &[("id", &id), ("github_username", "carol")]).await.0, 404);
    let bob = browser();
    sign_in_customer(&app, &bob, "bob").await;
    assert_eq!(overview(&app, &bob).await["purchases"][0]["id"], json!(id));
}

/// The newest sign-in link the sandbox's mailbox shows for `to`.
async fn link_in_mailbox(app: &TestApp, to: &str) -> Option<String> {
    let html = app.get(&format!("/sandbox/mailbox?to={to}")).await.text().await.unwrap();
    let start = html.find("/account/sign-in/email?token=")?;
    let token: String = html[start..]
        .chars()
        .skip("/account/sign-in/email?token=".len())
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    Some(token)
}

async fn request_link(app: &TestApp, email: &str) -> (u16, Value) {
    call(app, &browser(), "account/email-link", &[("email", email)]).await
}

async fn an_email_link_signs_in_once_within_fifteen_minutes(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    buy(&app, price, "alice", "Alice.Buyer@example.com").await;

    // Same answer for an address that bought nothing; nothing is sent to it.
    assert_eq!(request_link(&app, "stranger@example.com").await.0, 200);
    assert_eq!(request_link(&app, "not an email").await.0, 400);
    assert_eq!(request_link(&app, "alice.buyer@example.com").await.0, 200);
    wait_for(&app, "SELECT status FROM emails WHERE kind = 'sign_in_link'", "logged").await;
    let sent: Vec<String> = sqlx::query_scalar("SELECT to_address FROM emails WHERE kind = 'sign_in_link'")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(sent, ["alice.buyer@example.com"]);
    let token = link_in_mailbox(&app, "alice.buyer@example.com").await.expect("the link is in the mailbox");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM sign_in_links").fetch_all(app.pool()).await.unwrap();
    assert!(!stored.contains(&token) && stored.len() == 1, "only a hash is stored");

    // Opening the link shows a button; it does not sign in by itself.
    let customer = browser();
    let page = customer.get(app.url(&format!("/account/sign-in/email?token={token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(overview(&app, &customer).await, Value::Null);
    let used =
        customer.post(app.url("/account/sign-in/email")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!((used.status().as_u16(), location(&used)), (303, "/account".to_owned()));
    let account = overview(&app, &customer).await;
    assert_eq!(account["signed_in_as"], json!(["alice.buyer@example.com"]));
    assert_eq!(account["purchases"][0]["github_login"], "alice");
    assert_eq!(account["can_add_github"], json!(true));
    // An email-signed-in customer is no admin either.
    assert_eq!(call(&app, &customer, "admin/settings/status", &[]).await.0, 401);

    // Once only.
    let again =
        browser().post(app.url("/account/sign-in/email")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("no longer works"));

    // Expired after 15 minutes (the link is aged in the database).
    assert_eq!(request_link(&app, "alice.buyer@example.com").await.0, 200);
    let fresh = loop {
        if let Some(t) = link_in_mailbox(&app, "alice.buyer@example.com").await.filter(|t| *t != token) {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    sqlx::query("UPDATE sign_in_links SET expires_at = $1 WHERE used_at IS NULL")
        .bind(server::clock::now() - 1)
        .execute(app.pool())
        .await
        .unwrap();
    let late =
        browser().post(app.url("/account/sign-in/email")).form(&[("token", fresh.as_str())]).send().await.unwrap();
    assert_eq!(late.status(), 400);
    // Forged and malformed tokens: the same refusal.
    for forged in ["A".repeat(43), "../../etc".to_owned(), String::new()] {
        let r =
            browser().post(app.url("/account/sign-in/email")).form(&[("token", forged.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 400, "{forged}");
    }

    // Three requests per address per 15 minutes.
    assert_eq!(request_link(&app, "alice.buyer@example.com").await.0, 200);
    let (status, body) = request_link(&app, "alice.buyer@example.com").await;
    assert_eq!(status, 429, "a limit is a 429, never a 5xx: {body}");
    assert!(body.to_string().contains("sign-in links were asked for this address 3 times"), "{body}");

    // An address that bought nothing gets exactly the same answers, so the
    // limit does not tell who is a customer.
    let links_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_links").fetch_one(app.pool()).await.unwrap();
    for _ in 0..3 {
        assert_eq!(request_link(&app, "Never.Bought@example.com").await.0, 200);
    }
    let (stranger_status, stranger_body) = request_link(&app, "never.bought@example.com").await;
    assert_eq!(
        (stranger_status, stranger_body),
        (status, body),
        "a non-buyer's fourth request must look like a buyer's"
    );
    let links_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_links").fetch_one(app.pool()).await.unwrap();
    assert_eq!(links_after, links_before, "no link for an address without purchases");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT email_hash FROM sign_in_requests").fetch_all(app.pool()).await.unwrap();
    assert!(stored.iter().all(|h| h.len() == 64 && !h.contains('@')), "addresses are kept as hashes: {stored:?}");
}

async fn the_billing_portal_cancels_and_the_account_says_when_access_ends(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    let purchase = buy(&app, price, "alice", "alice@example.com").await;
    let id = public_id(&app, purchase).await;
    let alice = browser();
    sign_in_customer(&app, &alice, "alice").await;

    let (status, url) = call(&app, &alice, "account/billing", &[("id", &id)]).await;
    assert_eq!(status, 200, "{url}");
    let url = url.as_str().unwrap().to_owned();
    assert!(url.contains("/sandbox/stripe/portal/bps_"), "{url}");
    let portal = alice.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(portal.contains(&format!("{}/account", app.address)), "the portal returns to /account: {portal}");

    let sub: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let cancelled =
        alice.post(format!("{url}/subscriptions/{sub}")).form(&[("action", "cancel")]).send().await.unwrap();
    assert!(cancelled.status().is_redirection());
    wait_for(
        &app,
        &format!("SELECT CASE WHEN cancel_at IS NULL THEN 'no' ELSE 'yes' END FROM purchases WHERE id = {purchase}"),
        "yes",
    )
    .await;
    let p = &overview(&app, &alice).await["purchases"][0];
    // Still invited (not yet accepted), and it says when access will end.
    assert_eq!(p["headline"], "Invitation sent — accept it on GitHub");
    let when = p["when"].as_str().unwrap();
    assert!(when.starts_with("Ends on ") && when.ends_with("; it will not renew"), "{p}");

    // A plain form (no JavaScript) is sent straight to the portal.
    let plain = alice
        .post(app.url("/api/account/billing"))
        .header("accept", "text/html")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 303);
    assert!(location(&plain).contains("/sandbox/stripe/portal/"));
}

/// A parent pays for their child's GitHub account: the child sees the
/// purchase at /account, but the card and invoices are the parent's.
async fn only_the_payer_opens_the_billing_portal(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    let purchase = buy(&app, price, "alice", "parent@example.com").await;
    let id = public_id(&app, purchase).await;
    let portals =
        || async { app.control_get("/stripe/state").await["billing_portal_sessions"].as_array().unwrap().len() };

    // alice (the recipient, whose GitHub address is alice@example.com) sees it but cannot open billing.
    let child = browser();
    sign_in_customer(&app, &child, "alice").await;
    let seen = &overview(&app, &child).await["purchases"][0];
    assert_eq!((seen["id"].as_str(), seen["can_manage_billing"].as_bool()), (Some(id.as_str()), Some(false)), "{seen}");
    let (status, body) = call(&app, &child, "account/billing", &[("id", &id)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Billing belongs to whoever paid"), "{body}");
    assert_eq!(portals().await, 0, "a portal session was opened for the recipient");

    // The payer, signed in by a link sent to the paying address, can.
    assert_eq!(request_link(&app, "parent@example.com").await.0, 200);
    let token = loop {
        if let Some(t) = link_in_mailbox(&app, "parent@example.com").await {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let parent = browser();
    let used = parent.post(app.url("/account/sign-in/email")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(used.status(), 303);
    assert_eq!(overview(&app, &parent).await["purchases"][0]["can_manage_billing"], true);
    let (status, url) = call(&app, &parent, "account/billing", &[("id", &id)]).await;
    assert_eq!(status, 200, "{url}");
    assert!(url.as_str().unwrap().contains("/sandbox/stripe/portal/bps_"), "{url}");
    assert_eq!(portals().await, 1);
}

/// The customer server functions and the arguments each needs (besides
/// `id`). Every `/api/account/` function in Leptos's registry must be here,
/// so a new one cannot be added without this test covering it.
const ACCOUNT_FNS: &[(&str, &[(&str, &str)])] = &[
    ("/api/account/overview", &[]),
    ("/api/account/email-link", &[("email", "bob@example.com")]),
    ("/api/account/resend", &[]),
    ("/api/account/move", &[("github_username", "carol")]),
    ("/api/account/billing", &[]),
    // A team's seats: Bob's purchase is no team of Alice's ("not found" too).
    ("/api/account/team/give", &[("github_username", "carol")]),
    ("/api/account/team/take-back", &[("seat", "x")]),
    ("/api/account/team/resend", &[("seat", "x")]),
    ("/api/account/team/seats", &[("seats", "2")]),
    ("/api/account/team/appoint", &[("github_username", "carol")]),
    ("/api/account/team/seats-paid", &[("session", "cs_test_bobs")]),
];

async fn snapshot(app: &TestApp) -> String {
    type Row = (i64, String, String, Option<i64>, Option<String>);
    let purchases: Vec<Row> = sqlx::query_as(
        "SELECT p.id, p.status, p.github_login, g.github_invitation_id, p.status_reason FROM purchases p LEFT JOIN grants g ON g.purchase_id = p.id ORDER BY p.id",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    let log: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(app.pool()).await.unwrap();
    let portals = app.control_get("/stripe/state").await.get("billing_portal_sessions").cloned();
    format!("{purchases:?}\nlog={log}\n{:?}\n{portals:?}", github_access(app).await)
}

async fn customers_see_and_act_on_only_their_own_purchases(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    let alices = buy(&app, price, "alice", "alice@example.com").await;
    let bobs = buy(&app, price, "bob", "bob@example.com").await;
    let (alices, bobs) = (public_id(&app, alices).await, public_id(&app, bobs).await);
    let alice = browser();
    sign_in_customer(&app, &alice, "alice").await;

    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_owned())
        .filter(|p| p.starts_with("/api/account/"))
        .collect();
    registered.sort();
    let mut covered: Vec<String> = ACCOUNT_FNS.iter().map(|(p, _)| (*p).to_owned()).collect();
    covered.sort();
    assert_eq!(registered, covered, "every customer server function is covered here");

    let before = snapshot(&app).await;
    for (path, extra) in ACCOUNT_FNS {
        let mut form: Vec<(&str, &str)> = extra.to_vec();
        form.push(("id", &bobs));
        let (status, body) = {
            let r = alice.post(app.url(path)).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        };
        match *path {
            // Alice's own overview: Bob's purchase is not in it.
            "/api/account/overview" => {
                assert_eq!(status, 200);
                assert!(!body.contains(&bobs) && body.contains(&alices), "{body}");
            }
            // Asks for a link to Bob's address: nothing about Bob is revealed.
            "/api/account/email-link" => assert_eq!((status, body.as_str()), (200, "null")),
            _ => assert_eq!(status, 404, "{path} with Bob's purchase: {body}"),
        }
        // Signed out: refused before anything is looked up.
        if !["/api/account/overview", "/api/account/email-link"].contains(path) {
            let r = browser().post(app.url(path)).form(&form).send().await.unwrap();
            assert_eq!(r.status(), 401, "{path} signed out");
        }
    }
    // Bob's purchase was not touched (the link request sent an email, which is not a change to it).
    assert_eq!(snapshot(&app).await, before);
    // Alice can act on her own.
    assert_eq!(call(&app, &alice, "account/resend", &[("id", &alices)]).await.0, 200);
}
