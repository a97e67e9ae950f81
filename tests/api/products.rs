//! Products of several repositories: a purchase grants each of them (one
//! grant per repository, each with its own invitation and acceptance); a
//! repository added later reaches every customer, queued behind GitHub's
//! limits; one taken out is taken from them once the creator confirms how
//! many that is.

use serde_json::json;

use crate::{
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    a_purchase_grants_every_repository_of_its_product,
    a_repository_added_or_taken_out_reaches_every_customer,
    both_invitations_accepted_at_once_make_the_purchase_active,
    what_a_product_grants_is_checked,
    a_year_of_three_repositories_is_warned_of_and_ends,
    resend_and_move_act_on_every_repository
);

/// "Starter" on sale: pro-kit and enterprise-sdk (at triage), pay what you want
/// (at least $5, $15 suggested). Returns (product id, price id, key).
async fn starter(app: &TestApp) -> (i64, i64, String) {
    let price = json!({"interval": "one_time", "unit_amount": 500, "currency": "usd", "pay_what_you_want": true, "suggested_amount": 1500});
    starter_with(app, price).await
}

async fn starter_with(app: &TestApp, price: serde_json::Value) -> (i64, i64, String) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "starter", "title": "Starter", "published": true});
    let (status, product) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_i64().unwrap();
    let (status, added) = api(
        app,
        Some(&key),
        "POST",
        &format!("/products/{id}/repositories"),
        Some(json!({"owner": "sandbox-org", "name": "enterprise-sdk", "permission": "triage"})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["customers_invited"], 0);
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    (id, price["id"].as_i64().unwrap(), key)
}

/// Adds `owner/name` to product `id` through the REST API (its own level: none).
async fn add_repository(app: &TestApp, key: &str, id: i64, owner: &str, name: &str) -> (u16, serde_json::Value) {
    api(app, Some(key), "POST", &format!("/products/{id}/repositories"), Some(json!({"owner": owner, "name": name})))
        .await
}

/// `login` buys `price_id`, paying `amount` dollars on the hosted page.
async fn buy(app: &TestApp, price_id: i64, login: &str, amount: &str) -> i64 {
    app.control("/github/users", json!({"login": login})).await;
    let response = crate::checkout::buy(app, price_id, login, &format!("{login}@example.com")).await;
    assert_eq!(response.status(), 303);
    let pay_url = response.headers()["location"].to_str().unwrap().to_owned();
    let paid = app.client.post(&pay_url).form(&[("outcome", "succeed"), ("amount", amount)]).send().await.unwrap();
    assert_eq!(paid.status(), 303, "{:?}", paid.text().await);
    sqlx::query_scalar("SELECT id FROM purchases WHERE github_login = $1")
        .bind(login)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// Each repository of the purchase with its grant's status, from the REST API.
async fn grants(app: &TestApp, key: &str, purchase: i64) -> Vec<(String, String)> {
    let (status, p) = api(app, Some(key), "GET", &format!("/purchases/{purchase}"), None).await;
    assert_eq!(status, 200, "{p}");
    p["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["full_name"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap_or("none").to_owned()))
        .collect()
}

/// `login`'s pending invitations and collaborator permissions, per repository.
async fn on_github(app: &TestApp, login: &str) -> Vec<(String, String)> {
    let state = app.control_get("/github/state").await;
    let mut out = Vec::new();
    for repo in state["repositories"].as_array().unwrap() {
        let name = repo["full_name"].as_str().unwrap().to_owned();
        for c in repo["collaborators"].as_array().unwrap() {
            if c["login"] == login {
                out.push((name.clone(), format!("collaborator ({})", c["permission"].as_str().unwrap())));
            }
        }
        for i in repo["invitations"].as_array().unwrap() {
            if i["login"] == login {
                out.push((name.clone(), format!("invited ({})", i["permission"].as_str().unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// Accepts every invitation `login` has.
async fn accept_all(app: &TestApp, login: &str) {
    let state = app.control_get("/github/state").await;
    for repo in state["repositories"].as_array().unwrap() {
        for i in repo["invitations"].as_array().unwrap() {
            if i["login"] == login {
                app.control(&format!("/github/invitations/{}/accept", i["id"]), json!({})).await;
            }
        }
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn a_purchase_grants_every_repository_of_its_product(app: TestApp) {
    let (_, price_id, key) = starter(&app).await;
    let page = app.get("/p/starter").await.text().await.unwrap();
    assert!(
        page.contains("read and write access to the private GitHub repository sandbox-creator/pro-kit, and read and triage access to the private GitHub repository sandbox-org/enterprise-sdk"),
        "each repository with its level: {page}"
    );

    let bob = buy(&app, price_id, "bob", "20").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await, "invited");
    assert_eq!(
        grants(&app, &key, bob).await,
        pairs(&[("sandbox-creator/pro-kit", "invited"), ("sandbox-org/enterprise-sdk", "invited")])
    );
    // Each at its level: the product's own (triage) on enterprise-sdk; GitHub gives write on a personal repository.
    assert_eq!(
        on_github(&app, "bob").await,
        pairs(&[("sandbox-creator/pro-kit", "invited (write)"), ("sandbox-org/enterprise-sdk", "invited (triage)")])
    );
    let email: String = sqlx::query_scalar(
        "SELECT body_text FROM emails WHERE to_address = 'bob@example.com' AND kind = 'access_granted'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(email.contains("sandbox-creator/pro-kit") && email.contains("sandbox-org/enterprise-sdk"), "{email}");

    // One accepted: still invited (one invitation waits); both: active.
    let state = app.control_get("/github/state").await;
    let first =
        state["repositories"].as_array().unwrap().iter().find(|r| r["full_name"] == "sandbox-creator/pro-kit").unwrap()
            ["invitations"][0]["id"]
            .clone();
    app.control(&format!("/github/invitations/{first}/accept"), json!({})).await;
    wait_for(&app, &format!("SELECT status FROM grants WHERE purchase_id = {bob} AND status = 'active'"), "active")
        .await;
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT status FROM purchases WHERE id = $1")
            .bind(bob)
            .fetch_one(app.pool())
            .await
            .unwrap(),
        "invited"
    );
    accept_all(&app, "bob").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "active").await, "active");

    // The log says which repository each step was about.
    let (_, p) = api(&app, Some(&key), "GET", &format!("/purchases/{bob}"), None).await;
    let accepted: Vec<&str> = p["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["detail"] == "invitation accepted on GitHub")
        .filter_map(|l| l["repository"].as_str())
        .collect();
    assert_eq!(accepted, ["sandbox-creator/pro-kit", "sandbox-org/enterprise-sdk"]);

    // A revoke takes both away, and a restore gives both back.
    let (status, revoked) =
        api(&app, Some(&key), "POST", &format!("/purchases/{bob}/revoke"), Some(json!({"reason": "test"}))).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")), "{revoked}");
    assert_eq!(on_github(&app, "bob").await, vec![]);
    assert_eq!(
        grants(&app, &key, bob).await,
        pairs(&[("sandbox-creator/pro-kit", "removed"), ("sandbox-org/enterprise-sdk", "removed")])
    );
    let (status, restored) = api(&app, Some(&key), "POST", &format!("/purchases/{bob}/restore"), None).await;
    assert_eq!((status, restored["status"].as_str()), (200, Some("invited")), "{restored}");
    assert_eq!(on_github(&app, "bob").await.len(), 2, "invited to both again");
}

/// Bob accepts both invitations and GitHub's two events are handled at
/// the same moment (two workers, or two jobs of one): whichever is written
/// second sees the first, and the purchase ends `active`. Here the first
/// acceptance is held open in its transaction while the second starts, the
/// interleaving that once left the purchase `invited` with both grants active.
async fn both_invitations_accepted_at_once_make_the_purchase_active(app: TestApp) {
    use server::{
        domain::{Action, GrantStatus, PurchaseId, PurchaseStatus},
        grants::{self, Update},
        purchase_state::{transition, transition_in, Cause, Change},
    };
    let (_, price_id, _) = starter(&app).await;
    let bob = buy(&app, price_id, "bob", "20").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await, "invited");
    let purchase = PurchaseId(bob);
    let both = grants::of_purchase(&app.state.db, purchase).await.unwrap();
    assert_eq!(both.len(), 2, "one grant per repository");
    assert!(both.iter().all(|g| g.status == GrantStatus::Invited));
    let accepted = |g: &grants::Grant| {
        Change::of_grants(PurchaseStatus::Invited, Action::AccessActive, vec![Update::new(g, GrantStatus::Active)])
    };

    let mut first = app.pool().begin().await.unwrap();
    let cause = Cause::GithubEvent("first-acceptance".into());
    assert!(transition_in(&mut first, purchase, accepted(&both[0]), &cause).await.unwrap());
    let db = app.state.db.clone();
    let change = accepted(&both[1]);
    let second = tokio::spawn(async move {
        transition(&db, purchase, change, &Cause::GithubEvent("second-acceptance".into())).await.unwrap()
    });
    // Long enough for the second to reach the database and wait there.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    first.commit().await.unwrap();
    assert!(second.await.unwrap(), "the second acceptance is written too");

    let status: String =
        sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1").bind(bob).fetch_one(app.pool()).await.unwrap();
    assert_eq!(status, "active", "both invitations accepted: nothing left to accept");
}

async fn a_repository_added_or_taken_out_reaches_every_customer(app: TestApp) {
    let (id, price_id, key) = starter(&app).await;
    let bob = buy(&app, price_id, "bob", "20").await;
    let carol = buy(&app, price_id, "carol", "5").await;
    for p in [bob, carol] {
        assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {p}"), "invited").await, "invited");
    }
    accept_all(&app, "bob").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "active").await, "active");

    // A third repository: both customers are invited to it.
    let (status, added) = add_repository(&app, &key, id, "sandbox-creator", "course-materials").await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["customers_invited"], 2);
    assert_eq!(added["product"]["repositories"].as_array().unwrap().len(), 3);
    for p in [bob, carol] {
        wait_for(
            &app,
            &format!(
                "SELECT g.status FROM grants g JOIN repositories r ON r.id = g.repository_id WHERE g.purchase_id = {p} AND r.name = 'course-materials'"
            ),
            "invited",
        )
        .await;
    }
    assert!(on_github(&app, "bob")
        .await
        .contains(&("sandbox-creator/course-materials".into(), "invited (write)".into())));
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT status FROM purchases WHERE id = $1")
            .bind(bob)
            .fetch_one(app.pool())
            .await
            .unwrap(),
        "invited",
        "an invitation to accept again"
    );

    // Taking one out: refused until the creator confirms how many lose it.
    let sdk = 5003;
    let (status, refused) = api(&app, Some(&key), "DELETE", &format!("/products/{id}/repositories/{sdk}"), None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 customers would lose access to sandbox-org/enterprise-sdk"),
        "{refused}"
    );
    let (status, removed) =
        api(&app, Some(&key), "DELETE", &format!("/products/{id}/repositories/{sdk}?confirm=2"), None).await;
    assert_eq!((status, removed["customers_removed"].as_i64()), (200, Some(2)), "{removed}");
    for login in ["bob", "carol"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while on_github(&app, login).await.iter().any(|(r, _)| r == "sandbox-org/enterprise-sdk") {
            assert!(std::time::Instant::now() < deadline, "{login} still has enterprise-sdk");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    assert_eq!(
        grants(&app, &key, carol).await,
        pairs(&[("sandbox-creator/pro-kit", "invited"), ("sandbox-creator/course-materials", "invited")]),
        "the product's repositories now"
    );
    let (_, p) = api(&app, Some(&key), "GET", &format!("/purchases/{carol}"), None).await;
    assert!(
        p["access_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "repository_removed" && l["repository"] == "sandbox-org/enterprise-sdk"),
        "{p}"
    );

    // GitHub's limit of 50 invitations a day per repository queues the
    // rest, shown as such: the day's invitations to enterprise-sdk are used up.
    let gh = app.github();
    for n in 0..60 {
        let login = format!("filler-{n}");
        app.control("/github/users", json!({"login": login})).await;
        if gh.repos("sandbox-org", "enterprise-sdk").add_collaborator(&login).send().await.is_err() {
            break;
        }
    }
    let (status, added) = add_repository(&app, &key, id, "sandbox-org", "enterprise-sdk").await;
    assert_eq!((status, added["customers_invited"].as_i64()), (201, Some(2)), "{added}");
    for p in [bob, carol] {
        wait_for(
            &app,
            &format!(
                "SELECT g.status FROM grants g JOIN repositories r ON r.id = g.repository_id
                 WHERE g.purchase_id = {p} AND r.name = 'enterprise-sdk' AND g.status_reason IS NOT NULL"
            ),
            "waiting",
        )
        .await;
        let (_, body) = api(&app, Some(&key), "GET", &format!("/purchases/{p}"), None).await;
        let sdk = body["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
            .cloned();
        let sdk = sdk.unwrap_or_default();
        assert_eq!(sdk["status"], "waiting", "{body}");
        assert!(sdk["status_reason"].as_str().unwrap().contains("daily invitation limit"), "{body}");
        assert_ne!(body["status"], "revoked", "the rest of the product is still theirs: {body}");
    }
}

async fn what_a_product_grants_is_checked(app: TestApp) {
    let (id, _, key) = starter(&app).await;
    let add = |owner: &str, name: &str, permission: Option<&str>| json!({"owner": owner, "name": name, "permission": permission});
    let path = format!("/products/{id}/repositories");
    for (body, field, words) in [
        (
            add("sandbox-creator", "pro-kit", None),
            "repository",
            "sandbox-creator/pro-kit is already part of this product",
        ),
        (add("sandbox-creator", "nope", None), "name", "RepoPass cannot administer sandbox-creator/nope"),
        (add("sandbox-creator", "course-materials", Some("admin")), "permission", "'admin' is not an access level"),
    ] {
        let (status, refused) = api(&app, Some(&key), "POST", &path, Some(body)).await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["error"]["field"], field, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains(words), "{refused}");
    }
    let (_, product) = api(&app, Some(&key), "GET", &format!("/products/{id}"), None).await;
    assert_eq!(product["repositories"].as_array().unwrap().len(), 2, "nothing was added");

    // A product on sale keeps a repository; an unpublished one may be emptied, and is not published empty.
    let (status, _) = api(&app, Some(&key), "DELETE", &format!("{path}/5003?confirm=0"), None).await;
    assert_eq!(status, 200);
    let (status, refused) = api(&app, Some(&key), "DELETE", &format!("{path}/5001?confirm=0"), None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("a product on sale grants at least one repository"));
    let (status, _) =
        api(&app, Some(&key), "PATCH", &format!("/products/{id}"), Some(json!({"status": "unpublished"}))).await;
    assert_eq!(status, 200);
    let (status, _) = api(&app, Some(&key), "DELETE", &format!("{path}/5001?confirm=0"), None).await;
    assert_eq!(status, 200);
    let (status, refused) = api(&app, Some(&key), "GET", &format!("/products/{id}"), None).await;
    assert_eq!((status, refused["repositories"].as_array().map(Vec::len)), (200, Some(0)));
    let (status, refused) =
        api(&app, Some(&key), "PATCH", &format!("/products/{id}"), Some(json!({"status": "published"}))).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"].as_str().unwrap().contains("this product grants no repository yet"),
        "{refused}"
    );
}

/// The journey: two repositories, pay what you want (at least $5,
/// $15 suggested) for 12 months, paid $20; a third repository added; warned
/// a week and a day before the end; at 366 days all three end, and why.
async fn a_year_of_three_repositories_is_warned_of_and_ends(app: TestApp) {
    let price = json!({"interval": "one_time", "unit_amount": 500, "currency": "usd", "pay_what_you_want": true, "suggested_amount": 1500, "access_days": 365});
    let (id, price_id, key) = starter_with(&app, price).await;
    let bob = buy(&app, price_id, "bob", "20").await;
    let status = format!("SELECT status FROM purchases WHERE id = {bob}");
    assert_eq!(wait_for(&app, &status, "invited").await, "invited");
    let amount: i64 =
        sqlx::query_scalar("SELECT amount FROM purchases WHERE id = $1").bind(bob).fetch_one(app.pool()).await.unwrap();
    assert_eq!(amount, 2000);
    let (status_code, _) = add_repository(&app, &key, id, "sandbox-creator", "course-materials").await;
    assert_eq!(status_code, 201);
    let invited = || async { on_github(&app, "bob").await.into_iter().map(|(r, _)| r).collect::<Vec<_>>() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while invited().await.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "bob is not invited to the third: {:?}", invited().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        invited().await,
        ["sandbox-creator/course-materials", "sandbox-creator/pro-kit", "sandbox-org/enterprise-sdk"]
    );

    let warnings = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM emails WHERE kind = 'access_ending' AND to_address = 'bob@example.com'",
        )
        .fetch_one(app.pool())
        .await
        .unwrap()
    };
    app.control("/clock/advance", json!({"days": 358})).await;
    server::access_warnings::send_due(&app.state).await.unwrap();
    assert_eq!(warnings().await, 1, "a week before");
    app.control("/clock/advance", json!({"days": 6})).await;
    server::access_warnings::send_due(&app.state).await.unwrap();
    assert_eq!(warnings().await, 2, "and a day before");
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM emails WHERE kind = 'access_ending' AND to_address = 'bob@example.com' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    for name in ["sandbox-creator/pro-kit", "sandbox-org/enterprise-sdk", "sandbox-creator/course-materials"] {
        assert!(body.contains(&format!("{name}/archive/HEAD.zip")), "a download link for {name}: {body}");
    }

    app.control("/clock/advance", json!({"days": 2})).await;
    server::scheduled::schedule(&app.state).await.unwrap();
    assert_eq!(wait_for(&app, &status, "revoked").await, "revoked");
    let (code, reason): (String, String) =
        sqlx::query_as("SELECT status_reason_code, status_reason FROM purchases WHERE id = $1")
            .bind(bob)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(code, "access_period_ended");
    assert!(reason.contains("365-day period of access"), "{reason}");
    assert_eq!(on_github(&app, "bob").await, vec![], "all three are gone on GitHub");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grants WHERE purchase_id = $1 AND status <> 'removed'")
        .bind(bob)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// The customer's own actions at /account reach every repository of the
/// product: a resend replaces each pending invitation, a move invites the
/// new account to each and removes the old one from each.
async fn resend_and_move_act_on_every_repository(app: TestApp) {
    let (_, price_id, _) = starter(&app).await;
    let bob = buy(&app, price_id, "bob", "15").await;
    assert_eq!(wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {bob}"), "invited").await, "invited");
    let invitations = || async {
        let state = app.control_get("/github/state").await;
        let mut ids = Vec::new();
        for repo in state["repositories"].as_array().unwrap() {
            for i in repo["invitations"].as_array().unwrap() {
                ids.push((
                    repo["full_name"].as_str().unwrap().to_owned(),
                    i["login"].as_str().unwrap().to_owned(),
                    i["id"].as_i64().unwrap(),
                ));
            }
        }
        ids.sort();
        ids
    };
    let before = invitations().await;
    assert_eq!(before.len(), 2, "{before:?}");
    let public_id: String = sqlx::query_scalar("SELECT public_id FROM purchases WHERE id = $1")
        .bind(bob)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let customer = crate::admin_auth::browser();
    crate::account::sign_in_customer(&app, &customer, "bob").await;

    let (status, body) = crate::admin_auth::call(&app, &customer, "account/resend", &[("id", &public_id)]).await;
    assert_eq!(status, 200, "{body}");
    let after = invitations().await;
    assert_eq!(after.len(), 2, "one invitation per repository, not {after:?}");
    for ((repo, login, old), (repo2, login2, new)) in before.iter().zip(&after) {
        assert_eq!((repo, login), (repo2, login2));
        assert_ne!(old, new, "a new invitation to {repo}");
    }

    app.control("/github/users", json!({"login": "dave"})).await;
    let (status, body) =
        crate::admin_auth::call(&app, &customer, "account/move", &[("id", &public_id), ("github_username", "dave")])
            .await;
    assert_eq!(status, 200, "{body}");
    let moved: Vec<(String, String)> = invitations().await.into_iter().map(|(r, l, _)| (r, l)).collect();
    assert_eq!(
        moved,
        pairs(&[("sandbox-creator/pro-kit", "dave"), ("sandbox-org/enterprise-sdk", "dave")]),
        "dave is invited to both, bob to neither"
    );
    let users: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT github_user_id FROM grants WHERE purchase_id = $1")
        .bind(bob)
        .fetch_all(app.pool())
        .await
        .unwrap();
    let dave: i64 = sqlx::query_scalar("SELECT github_user_id FROM purchases WHERE id = $1")
        .bind(bob)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(users, [dave], "every grant follows the purchase to the new account");
}
