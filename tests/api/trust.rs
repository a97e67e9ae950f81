//! RepoPass never changes or removes access on GitHub that it did not give.
//! A creator's own maintainer (or someone they invited by hand) who buys —
//! with a free trial it costs nothing — keeps exactly what they had through
//! every way a purchase ends: revoke, refund, cancellation, moving access.

use octocrab::params::teams::Permission;
use serde_json::{json, Value};

use crate::{
    account::{public_id, sign_in_customer},
    admin_auth::{browser, call},
    admin_ops::one_time_price,
    checkout::on_sale,
    helpers::TestApp,
    lifecycle::buy_and_pay,
    rest_api::{api, api_key},
    scenarios,
    webhooks::wait_for,
};

scenarios!(
    a_creators_maintainer_who_buys_keeps_exactly_their_access,
    an_invitation_the_creator_sent_is_never_deleted,
    csv_exports_cannot_carry_formulas
);

/// Everyone on sandbox-org/enterprise-sdk: collaborators and pending invitations, with their permission.
async fn on_github(app: &TestApp) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let state = app.control_get("/github/state").await;
    let repo = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .unwrap()
        .clone();
    let pairs = |list: &Value| {
        let mut v: Vec<(String, String)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["login"].as_str().unwrap().to_owned(), c["permission"].as_str().unwrap().to_owned()))
            .collect();
        v.sort();
        v
    };
    (pairs(&repo["collaborators"]), pairs(&repo["invitations"]))
}

/// The creator invites `login` by hand on GitHub (not through RepoPass).
async fn invite_by_hand(app: &TestApp, login: &str, permission: Permission) -> i64 {
    let invitation = app
        .github()
        .repos("sandbox-org", "enterprise-sdk")
        .add_collaborator(login)
        .permission(permission)
        .send()
        .await
        .unwrap();
    invitation.expect("a new invitation").id.0 as i64
}

async fn status(app: &TestApp, purchase: i64, want: &str) -> String {
    wait_for(app, &format!("SELECT status FROM purchases WHERE id = {purchase}"), want).await
}

async fn a_creators_maintainer_who_buys_keeps_exactly_their_access(app: TestApp) {
    let (_, price) = on_sale(&app).await; // read access, $9 a month
    let invitation = invite_by_hand(&app, "carol", Permission::Maintain).await;
    app.control(&format!("/github/invitations/{invitation}/accept"), json!({})).await;
    let carol_maintains = (vec![("carol".to_owned(), "maintain".to_owned())], vec![]);
    assert_eq!(on_github(&app).await, carol_maintains);

    // Buying changes nothing on GitHub; the purchase says why.
    let (purchase, _) = buy_and_pay(&app, price, "carol").await;
    assert_eq!(status(&app, purchase, "active").await, "active");
    assert_eq!(on_github(&app).await, carol_maintains, "her permission was lowered to the price's");
    let (access, detail): (String, String) = sqlx::query_as("SELECT g.github_access, l.detail FROM grants g JOIN access_log l ON l.purchase_id = g.purchase_id WHERE g.purchase_id = $1 AND l.action = 'had_access'")
        .bind(purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(access, "preexisting");
    assert!(detail.contains("@carol was already a collaborator") && detail.contains("will never remove"), "{detail}");

    // The creator revokes: the purchase ends, her access does not.
    let key = api_key(&app).await;
    let (code, body) =
        api(&app, Some(&key), "POST", &format!("/purchases/{purchase}/revoke"), Some(json!({"reason": "testing"})))
            .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "revoked");
    assert_eq!(on_github(&app).await, carol_maintains, "revoking removed the creator's maintainer");
    let (code, body) = api(&app, Some(&key), "POST", &format!("/purchases/{purchase}/restore"), None).await;
    assert_eq!((code, body["status"].clone()), (200, json!("active")), "{body}");
    assert_eq!(on_github(&app).await, carol_maintains, "restoring changed her permission");

    // She moves the purchase to another account: bob is invited, carol stays.
    let customer = browser();
    sign_in_customer(&app, &customer, "carol").await;
    let (code, body) =
        call(&app, &customer, "account/move", &[("id", &public_id(&app, purchase).await), ("github_username", "bob")])
            .await;
    assert_eq!(code, 200, "{body}");
    let (collaborators, invitations) = on_github(&app).await;
    assert_eq!(collaborators, carol_maintains.0, "moving access away removed carol");
    assert_eq!(invitations, [("bob".to_owned(), "read".to_owned())]);

    // The subscription ends: bob (RepoPass's invitation) goes, carol stays.
    let sub: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/subscriptions/{sub}/cancel"), json!({"at_period_end": false})).await;
    assert_eq!(status(&app, purchase, "revoked").await, "revoked");
    assert_eq!(on_github(&app).await, carol_maintains);
}

async fn an_invitation_the_creator_sent_is_never_deleted(app: TestApp) {
    let (repository, _) = on_sale(&app).await;
    let price = one_time_price(&app, repository).await;
    invite_by_hand(&app, "alice", Permission::Push).await;
    let alice_invited = (vec![], vec![("alice".to_owned(), "write".to_owned())]);
    assert_eq!(on_github(&app).await, alice_invited);

    let (purchase, _) = buy_and_pay(&app, price, "alice").await;
    assert_eq!(status(&app, purchase, "invited").await, "invited");
    assert_eq!(on_github(&app).await, alice_invited, "the creator's invitation was replaced");
    let invitation_id: Option<i64> =
        sqlx::query_scalar("SELECT github_invitation_id FROM grants WHERE purchase_id = $1")
            .bind(purchase)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(invitation_id, None, "the creator's invitation is not RepoPass's to delete");

    // A full refund revokes the purchase and leaves the invitation.
    let admin = browser();
    crate::admin_auth::sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let (code, body) =
        call(&app, &admin, "admin/purchases/refund", &[("id", &purchase.to_string()), ("amount", "")]).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&app, purchase, "revoked").await, "revoked");
    assert_eq!(on_github(&app).await, alice_invited, "refunding deleted the creator's invitation");
}

/// A buyer picks their own email; a creator opens the export in a spreadsheet.
async fn csv_exports_cannot_carry_formulas(app: TestApp) {
    let (_, price) = on_sale(&app).await;
    crate::account::buy(&app, price, "alice", "=1+2@example.com").await;
    let admin = browser();
    crate::admin_auth::sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let csv = admin.get(app.url("/admin/customers.csv")).send().await.unwrap().text().await.unwrap();
    let row = csv.lines().find(|l| l.contains("example.com")).unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains(",'=1+2@example.com,"), "{row}");
}
