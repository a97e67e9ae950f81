//! Team access over HTTP: a product whose repositories all belong to one
//! organisation grants them through a GitHub team. A holder is a team
//! member (invited to the organisation by GitHub when they are not in it
//! yet, active once they accept), taking a seat back ends the membership
//! (also when the managers choose whom to drop after lowering the seats),
//! a repository added to the product reaches every holder with one call to
//! GitHub, and the team's end removes every holder. Personal repositories
//! keep collaborator access; team access is refused where it cannot work.

use serde_json::{json, Value};

use crate::{
    admin_auth::call,
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
    seats::{buy_team, customer, give, holders, seat_id, subscription_of, team_of},
    webhooks::wait_for,
};

scenarios!(
    an_organisation_product_hands_out_seats_through_a_team,
    team_access_is_refused_where_it_cannot_work,
    fifty_seats_cost_fewer_github_calls_through_a_team,
    reconciliation_of_a_team_minds_only_what_repopass_gives
);

/// "Enterprise Seats" on sale: sandbox-org/enterprise-sdk, $9.00 a month
/// per seat (1 to `max`), read and write access, granted through a team.
/// Returns (product id, price id, API key).
async fn team_product(app: &TestApp, max: i64) -> (i64, i64, String) {
    let key = api_key(app).await;
    let body = json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "enterprise-seats", "title": "Enterprise Seats", "published": true});
    let (status, product) = api(app, Some(&key), "POST", "/repositories", Some(body)).await;
    assert_eq!(status, 201, "{product}");
    let id = product["id"].as_i64().unwrap();
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 1, "seats_max": max, "permission": "push"});
    let (status, price) = api(app, Some(&key), "POST", &format!("/repositories/{id}/prices"), Some(price)).await;
    assert_eq!(status, 201, "{price}");
    let (status, product) =
        api(app, Some(&key), "PATCH", &format!("/products/{id}"), Some(json!({"team_access": true}))).await;
    assert_eq!(status, 200, "{product}");
    assert_eq!(product["github_team"], "sandbox-org/repopass-enterprise-seats", "{product}");
    (id, price["id"].as_i64().unwrap(), key)
}

/// The team as the sandbox's GitHub has it.
async fn team_on_github(app: &TestApp) -> Value {
    let state = app.control_get("/github/state").await;
    let org = state["organizations"].as_array().unwrap().iter().find(|o| o["login"] == "sandbox-org").cloned().unwrap();
    org["teams"].as_array().unwrap().iter().find(|t| t["slug"] == "repopass-enterprise-seats").cloned().unwrap()
}

/// Logins, without the creator (GitHub makes a team's creator its maintainer).
fn logins(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .filter(|l| l != "sandbox-creator")
        .collect();
    out.sort();
    out
}

/// What one seat's purchase says: its status and its grants' statuses.
async fn seat_state(app: &TestApp, login: &str, company: i64) -> (String, Vec<String>) {
    let (id, status): (i64, String) =
        sqlx::query_as("SELECT id, status FROM purchases WHERE seat_of = $1 AND github_login = $2 ORDER BY id DESC")
            .bind(company)
            .bind(login)
            .fetch_one(app.pool())
            .await
            .unwrap();
    let grants: Vec<String> =
        sqlx::query_scalar("SELECT status FROM grants WHERE purchase_id = $1 ORDER BY repository_id")
            .bind(id)
            .fetch_all(app.pool())
            .await
            .unwrap();
    (status, grants)
}

/// GitHub calls since the last reset, by route.
async fn calls(app: &TestApp) -> Value {
    app.control_get("/github/calls").await["by_route"].clone()
}

fn count(calls: &Value, route: &str) -> i64 {
    calls[route].as_i64().unwrap_or(0)
}

const MEMBERSHIP: &str = "PUT /orgs/{org}/teams/{team_slug}/memberships/{username}";
const TEAM_REPO: &str = "PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}";
const COLLABORATOR: &str = "PUT /repos/{owner}/{repo}/collaborators/{login}";

async fn an_organisation_product_hands_out_seats_through_a_team(app: TestApp) {
    let (id, price, key) = team_product(&app, 10).await;
    let team = team_on_github(&app).await;
    let repos: Vec<(String, String)> = team["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["full_name"].as_str().unwrap().to_owned(), r["permission"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(repos, [("sandbox-org/enterprise-sdk".to_owned(), "write".to_owned())], "{team}");
    // Alice already works in the organisation; Bob and the buyer do not.
    app.control("/github/users", json!({"login": "alice-dev"})).await;
    app.control("/github/orgs/sandbox-org/members", json!({"login": "alice-dev"})).await;

    let (company, public) = buy_team(&app, price, "acme-admin", "3", false).await;
    let manager = customer(&app, "acme-admin").await;
    for login in ["alice-dev", "bob-dev", "acme-admin"] {
        let (status, body) = give(&app, &manager, &public, login).await;
        assert_eq!(status, 200, "{login}: {body}");
    }
    let team = team_on_github(&app).await;
    assert_eq!(logins(&team["members"]), ["alice-dev"], "{team}");
    assert_eq!(logins(&team["pending"]), ["acme-admin", "bob-dev"], "{team}");
    // Nobody is a collaborator of the repository itself.
    let state = app.control_get("/github/state").await;
    let sdk = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "sandbox-org/enterprise-sdk")
        .cloned()
        .unwrap();
    assert!(sdk["invitations"].as_array().unwrap().is_empty(), "{sdk}");
    assert_eq!(seat_state(&app, "alice-dev", company).await, ("active".into(), vec!["active".into()]));
    assert_eq!(seat_state(&app, "bob-dev", company).await, ("invited".into(), vec!["invited".into()]));
    let link: String = sqlx::query_scalar("SELECT g.invitation_url FROM grants g JOIN purchases p ON p.id = g.purchase_id WHERE p.github_login = 'bob-dev'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(link.ends_with("/orgs/sandbox-org/invitation"), "{link}");
    // The manager's page says where each holder's access stands.
    let t = team_of(&app, &manager, &public).await;
    assert_eq!(holders(&t), ["acme-admin", "alice-dev", "bob-dev"]);

    // Bob accepts GitHub's invitation to the organisation: a member of the team, his seat active.
    let invitation = app.control_get("/github/state").await["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["login"] == "sandbox-org")
        .unwrap()["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["login"] == "bob-dev")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.control(&format!("/github/org_invitations/{invitation}/accept"), json!({})).await;
    let bob_status = wait_for(&app, "SELECT status FROM purchases WHERE github_login = 'bob-dev'", "active").await;
    assert_eq!(bob_status, "active");
    assert_eq!(logins(&team_on_github(&app).await["members"]), ["alice-dev", "bob-dev"]);
    // On GitHub the repository is his through the team.
    let octo = app.github();
    assert!(octo.repos("sandbox-org", "enterprise-sdk").is_collaborator("bob-dev").await.unwrap());

    // Bob leaves: taken off the team at once, his seat free again.
    let bob_seat = seat_id(&team_of(&app, &manager, &public).await, "bob-dev");
    let (status, body) = call(&app, &manager, "account/team/take-back", &[("id", &public), ("seat", &bob_seat)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(logins(&team_on_github(&app).await["members"]), ["alice-dev"]);
    assert!(!octo.repos("sandbox-org", "enterprise-sdk").is_collaborator("bob-dev").await.unwrap());

    // A fourth seat, charged pro rata now; Carol, not in the organisation, is invited to it.
    let sub = subscription_of(&app, company).await;
    // (Five days on: GitHub's organisation invitations expire after seven.)
    app.control("/clock/advance", json!({"days": 5})).await;
    let (status, said) = call(&app, &manager, "account/team/seats", &[("id", &public), ("seats", "4")]).await;
    assert_eq!(status, 200, "{said}");
    let (_, stripe_sub) = app.stripe_json(&format!("/subscriptions/{sub}"), None).await;
    assert_eq!(stripe_sub["items"]["data"][0]["quantity"], 4, "{stripe_sub}");
    let prorated_sql = format!("FROM payments WHERE purchase_id = {company} AND kind = 'payment' AND amount < 2700");
    let recorded = format!("SELECT CASE WHEN COUNT(*) = 1 THEN 'yes' ELSE 'no' END {prorated_sql}");
    assert_eq!(wait_for(&app, &recorded, "yes").await, "yes", "a prorated payment is recorded");
    let prorated: i64 =
        sqlx::query_scalar(&format!("SELECT amount {prorated_sql}")).fetch_one(app.pool()).await.unwrap();
    assert!((600..900).contains(&prorated), "about five sixths of one seat's month: {prorated}");
    app.control("/github/users", json!({"login": "carol-dev"})).await;
    let (status, body) = give(&app, &manager, &public, "carol-dev").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(logins(&team_on_github(&app).await["pending"]), ["acme-admin", "carol-dev"]);

    // Two seats from the renewal, three holders then: the managers are asked,
    // nobody leaves the team until they choose; Carol's invitation is withdrawn.
    let (status, said) = call(&app, &manager, "account/team/seats", &[("id", &public), ("seats", "2")]).await;
    assert_eq!(status, 200, "{said}");
    app.control(&format!("/stripe/subscriptions/{sub}/renew"), json!({})).await;
    wait_for(&app, &format!("SELECT CAST(seats AS TEXT) FROM purchases WHERE id = {company}"), "2").await;
    let asked = wait_for(
        &app,
        &format!("SELECT kind FROM emails WHERE kind = 'seats_over' AND purchase_id = {company}"),
        "seats_over",
    )
    .await;
    assert_eq!(asked, "seats_over", "the managers are asked whom to take back");
    let team = team_on_github(&app).await;
    assert_eq!(logins(&team["members"]), ["alice-dev"], "nobody removed silently: {team}");
    assert_eq!(logins(&team["pending"]), ["acme-admin", "carol-dev"], "{team}");
    let carol = seat_id(&team_of(&app, &manager, &public).await, "carol-dev");
    let (status, body) = call(&app, &manager, "account/team/take-back", &[("id", &public), ("seat", &carol)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(logins(&team_on_github(&app).await["pending"]), ["acme-admin"], "Carol's invitation withdrawn");
    assert_eq!(team_of(&app, &manager, &public).await["over"], 0);

    // A second repository of the organisation: one call to GitHub gives it to every holder.
    app.control("/github/repos", json!({"owner": "sandbox-org", "name": "enterprise-docs"})).await;
    app.control("/github/calls/reset", json!({})).await;
    let (status, added) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/products/{id}/repositories"),
        Some(json!({"owner": "sandbox-org", "name": "enterprise-docs"})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["customers_invited"], 2, "alice (member) and the buyer (pending): {added}");
    let made = calls(&app).await;
    assert_eq!(count(&made, TEAM_REPO), 1, "{made}");
    assert_eq!(count(&made, MEMBERSHIP) + count(&made, COLLABORATOR), 0, "no call per holder: {made}");
    assert!(octo.repos("sandbox-org", "enterprise-docs").is_collaborator("alice-dev").await.unwrap());
    assert_eq!(seat_state(&app, "alice-dev", company).await, ("active".into(), vec!["active".into(), "active".into()]));
    assert_eq!(
        seat_state(&app, "acme-admin", company).await,
        ("invited".into(), vec!["invited".into(), "invited".into()])
    );
    let log: Vec<String> = sqlx::query_scalar(
        "SELECT l.detail FROM access_log l JOIN purchases p ON p.id = l.purchase_id WHERE p.github_login = 'alice-dev' AND l.detail LIKE '%enterprise-docs%'",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(log, ["sandbox-org/enterprise-docs added to the team sandbox-org/repopass-enterprise-seats"]);

    // Cancelled: every holder leaves the team, the pending invitation is withdrawn.
    app.control(&format!("/stripe/subscriptions/{sub}/cancel"), json!({})).await;
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {company}"), "revoked").await,
        "revoked"
    );
    let team = team_on_github(&app).await;
    assert!(logins(&team["members"]).is_empty(), "{team}");
    assert!(logins(&team["pending"]).is_empty(), "{team}");
    assert!(!octo.repos("sandbox-org", "enterprise-docs").is_collaborator("alice-dev").await.unwrap());
}

async fn team_access_is_refused_where_it_cannot_work(app: TestApp) {
    let key = api_key(&app).await;
    let patch = |id: i64| format!("/products/{id}");
    // A personal repository: collaborators only.
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "kit", "title": "Kit"});
    let (_, kit) = api(&app, Some(&key), "POST", "/repositories", Some(body)).await;
    let kit = kit["id"].as_i64().unwrap();
    let (status, body) = api(&app, Some(&key), "PATCH", &patch(kit), Some(json!({"team_access": true}))).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("team_access")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("one GitHub organisation"), "{body}");

    // An organisation's repository without a price yet: the team's level is not known.
    let body = json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "SDK"});
    let (_, sdk) = api(&app, Some(&key), "POST", "/repositories", Some(body)).await;
    let sdk = sdk["id"].as_i64().unwrap();
    let (status, body) = api(&app, Some(&key), "PATCH", &patch(sdk), Some(json!({"team_access": true}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("add a price first"), "{body}");
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd", "permission": "pull"});
    let (status, _) = api(&app, Some(&key), "POST", &format!("/repositories/{sdk}/prices"), Some(price)).await;
    assert_eq!(status, 201);
    let (status, body) = api(&app, Some(&key), "PATCH", &patch(sdk), Some(json!({"team_access": true}))).await;
    assert_eq!(status, 200, "{body}");
    // Nothing changed by the refusals: no team made for the personal product.
    let (_, kit_now) = api(&app, Some(&key), "GET", &patch(kit), None).await;
    assert!(kit_now["github_team"].is_null(), "{kit_now}");

    // A price of another level would be sold and not given: refused.
    let price = json!({"interval": "year", "unit_amount": 9000, "currency": "usd", "permission": "push"});
    let (status, body) = api(&app, Some(&key), "POST", &format!("/repositories/{sdk}/prices"), Some(price)).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("permission")), "{body}");
    // A personal repository cannot join the team.
    let (status, body) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/products/{sdk}/repositories"),
        Some(json!({"owner": "sandbox-creator", "name": "course-materials"})),
    )
    .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("repository")), "{body}");
    let (_, sdk_now) = api(&app, Some(&key), "GET", &patch(sdk), None).await;
    assert_eq!(sdk_now["repositories"].as_array().unwrap().len(), 1, "{sdk_now}");
}

/// A 50-seat team purchase granted: the GitHub calls it takes through a
/// team (one membership per holder) and through collaborators (a check, the
/// pending invitations and an invitation per holder and repository).
async fn fifty_seats_cost_fewer_github_calls_through_a_team(app: TestApp) {
    let (_, price, _) = team_product(&app, 60).await;
    let (company, public) = buy_team(&app, price, "acme-admin", "50", false).await;
    let manager = customer(&app, "acme-admin").await;
    app.control("/github/calls/reset", json!({})).await;
    for n in 0..50 {
        let (status, body) = give(&app, &manager, &public, &format!("dev-{n}")).await;
        assert_eq!(status, 200, "{n}: {body}");
    }
    let through_team = calls(&app).await;
    assert_eq!(count(&through_team, MEMBERSHIP), 50, "{through_team}");
    assert_eq!(count(&through_team, COLLABORATOR), 0, "{through_team}");
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE seat_of = $1 AND status = 'invited'")
        .bind(company)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(pending, 50, "GitHub's 50 organisation invitations a day are enough");
    let team_total = app.control_get("/github/calls").await["total"].as_i64().unwrap();

    // The same on a personal repository.
    let key = api_key(&app).await;
    let body = json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "kit-seats", "title": "Kit Seats", "published": true});
    let (_, kit) = api(&app, Some(&key), "POST", "/repositories", Some(body)).await;
    let kit = kit["id"].as_i64().unwrap();
    let price = json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 1, "seats_max": 60});
    let (_, price) = api(&app, Some(&key), "POST", &format!("/repositories/{kit}/prices"), Some(price)).await;
    let (_, public) = buy_team(&app, price["id"].as_i64().unwrap(), "globex-admin", "50", false).await;
    let manager = customer(&app, "globex-admin").await;
    app.control("/github/calls/reset", json!({})).await;
    // Other people: RepoPass remembers the accounts it has looked up.
    for n in 0..50 {
        let (status, body) = give(&app, &manager, &public, &format!("ops-{n}")).await;
        assert_eq!(status, 200, "{n}: {body}");
    }
    let as_collaborators = calls(&app).await;
    assert_eq!(count(&as_collaborators, COLLABORATOR), 50, "{as_collaborators}");
    let personal_total = app.control_get("/github/calls").await["total"].as_i64().unwrap();
    eprintln!("50 seats: {team_total} GitHub calls through a team ({through_team}), {personal_total} as collaborators ({as_collaborators})");
    assert!(team_total < personal_total, "{team_total} through a team, {personal_total} as collaborators");
}

/// Reconciliation on an organisation's repository: GitHub lists everyone
/// the organisation gives it (another team's members here); only direct
/// collaborators and members of RepoPass's team are RepoPass's business.
/// Someone an owner put in RepoPass's team by hand, without paying, is
/// found, and the one-click fix takes them out of the team.
async fn reconciliation_of_a_team_minds_only_what_repopass_gives(app: TestApp) {
    let (_, price, _) = team_product(&app, 5).await;
    for login in ["alice-dev", "olivia-staff", "mallory"] {
        app.control("/github/users", json!({"login": login})).await;
        app.control("/github/orgs/sandbox-org/members", json!({"login": login})).await;
    }
    let (_, public) = buy_team(&app, price, "acme-admin", "1", false).await;
    let manager = customer(&app, "acme-admin").await;
    let (status, body) = give(&app, &manager, &public, "alice-dev").await;
    assert_eq!(status, 200, "{body}");
    // The organisation's own staff team has the repository too.
    let octo = app.github();
    let staff: Value = octo
        .post("/orgs/sandbox-org/teams", Some(&json!({"name": "staff"})))
        .await
        .expect("a team of the organisation");
    let staff = staff["slug"].as_str().unwrap().to_owned();
    let put = |route: String, body: Value| {
        let octo = octo.clone();
        async move {
            let r = octo._put(route, Some(&body)).await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    put(format!("/orgs/sandbox-org/teams/{staff}/repos/sandbox-org/enterprise-sdk"), json!({"permission": "push"}))
        .await;
    put(format!("/orgs/sandbox-org/teams/{staff}/memberships/olivia-staff"), json!({})).await;
    assert!(octo.repos("sandbox-org", "enterprise-sdk").is_collaborator("olivia-staff").await.unwrap());
    assert_eq!(
        server::scheduled::reconcile(&app.state).await.unwrap(),
        0,
        "the staff team is the organisation's business: {:?}",
        server::scheduled::drift(&app.state).await.unwrap()
    );

    // An owner adds mallory to RepoPass's team by hand: access nobody paid for.
    put("/orgs/sandbox-org/teams/repopass-enterprise-seats/memberships/mallory".into(), json!({})).await;
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 1);
    let drift = server::scheduled::drift(&app.state).await.unwrap();
    assert_eq!(
        drift.iter().map(|d| (d.kind.to_string(), d.github_login.clone())).collect::<Vec<_>>(),
        [("access_without_purchase".to_owned(), "mallory".to_owned())]
    );
    let fixed =
        server::scheduled::fix_drift(&app.state, drift[0].id, &server::purchase_state::Cause::System).await.unwrap();
    assert!(fixed.contains("@mallory removed"), "{fixed}");
    assert_eq!(logins(&team_on_github(&app).await["members"]), ["alice-dev"]);
    assert!(!octo.repos("sandbox-org", "enterprise-sdk").is_collaborator("mallory").await.unwrap());
    assert!(octo.repos("sandbox-org", "enterprise-sdk").is_collaborator("olivia-staff").await.unwrap());
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 0);
}
