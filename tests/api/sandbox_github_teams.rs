//! The GitHub stand-in's organisations and teams, over HTTP as RepoPass
//! calls them: teams and the repositories they have, team memberships
//! (active for organisation members, an organisation invitation for anyone
//! else), the invitation page, GitHub's daily invitation limit, the
//! `membership` and `organization` webhooks and the call counter.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{TestApp, WebhookReceiver},
    scenarios,
};

scenarios!(
    teams_memberships_and_repository_access,
    pending_memberships_follow_their_invitation,
    fifty_organization_invitations_a_day,
    only_owners_manage_teams,
    the_call_counter_counts_by_route,
);

const ORG: &str = "sandbox-org";

/// A call to the GitHub REST stand-in with the sandbox's token:
/// (status, JSON body or null).
async fn gh(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    gh_as(app, sandbox::GITHUB_TOKEN, method, path, body).await
}

async fn gh_as(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(&format!("/sandbox/github/api{path}")))
        .header("accept", "application/vnd.github+json");
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create_team(app: &TestApp, name: &str) -> Value {
    let (status, team) = gh(app, Method::POST, &format!("/orgs/{ORG}/teams"), Some(json!({ "name": name }))).await;
    assert_eq!(status, 201, "{team}");
    team
}

async fn put_membership(app: &TestApp, slug: &str, login: &str) -> (u16, Value) {
    gh(app, Method::PUT, &format!("/orgs/{ORG}/teams/{slug}/memberships/{login}"), Some(json!({ "role": "member" })))
        .await
}

async fn collaborator(app: &TestApp, login: &str) -> u16 {
    gh(app, Method::GET, &format!("/repos/{ORG}/enterprise-sdk/collaborators/{login}"), None).await.0
}

/// The payloads of the recorded deliveries of `event` with `action`, oldest first.
async fn events(app: &TestApp, event: &str, action: &str) -> Vec<Value> {
    let deliveries = app.control_get("/deliveries").await;
    let mut out: Vec<Value> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event_type"] == event)
        .map(|d| serde_json::from_str::<Value>(d["payload"].as_str().unwrap()).unwrap())
        .filter(|p| p["action"] == action)
        .collect();
    out.reverse();
    out
}

/// Sends the sandbox's webhooks to a receiver of the test's own, so that
/// RepoPass does not act on them (and call GitHub) while a test counts.
async fn webhooks_to_a_receiver(app: &TestApp) -> WebhookReceiver {
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    receiver
}

fn sorted(logins: &Value) -> Vec<String> {
    let mut v: Vec<String> = logins.as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

fn org_state(state: &Value) -> &Value {
    state["organizations"].as_array().unwrap().iter().find(|o| o["login"] == ORG).expect("sandbox-org in the state")
}

async fn teams_memberships_and_repository_access(app: TestApp) {
    let receiver = webhooks_to_a_receiver(&app).await;

    // A team: GitHub's slug, the creator as its maintainer.
    let team = create_team(&app, "RepoPass: Enterprise SDK (50 seats)").await;
    let slug = team["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, "repopass-enterprise-sdk-50-seats");
    assert_eq!(team["privacy"], "secret");
    assert_eq!(team["permission"], "pull");
    assert_eq!(team["members_count"], 1);
    assert_eq!(team["repos_count"], 0);
    assert_eq!(team["organization"]["login"], ORG);
    assert_eq!(team["parent"], Value::Null);

    // The same name again: GitHub's 422; the team is adopted by its slug.
    let (status, refused) = gh(
        &app,
        Method::POST,
        &format!("/orgs/{ORG}/teams"),
        Some(json!({ "name": "repopass enterprise sdk 50 seats" })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["message"], "Validation Failed");
    assert_eq!(refused["errors"][0]["resource"], "Team");
    assert_eq!(refused["errors"][0]["message"], "Name must be unique for this org");
    assert_eq!(refused["status"], "422");
    let (status, adopted) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(adopted["id"], team["id"]);
    let (_, teams) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams?per_page=100"), None).await;
    assert_eq!(teams.as_array().unwrap().len(), 1);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/no-such-team"), None).await.0, 404);
    assert_eq!(gh(&app, Method::GET, "/orgs/no-such-org/teams", None).await.0, 404);

    // The team gets the repository with push; only the organisation's repositories.
    let repo_path = format!("/orgs/{ORG}/teams/{slug}/repos/{ORG}/enterprise-sdk");
    assert_eq!(gh(&app, Method::PUT, &repo_path, Some(json!({ "permission": "push" }))).await.0, 204);
    let (status, body) = gh(
        &app,
        Method::PUT,
        &format!("/orgs/{ORG}/teams/{slug}/repos/sandbox-creator/pro-kit"),
        Some(json!({ "permission": "push" })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(gh(&app, Method::PUT, &repo_path, Some(json!({ "permission": "owner" }))).await.0, 422);
    assert_eq!(gh(&app, Method::GET, &repo_path, None).await.0, 204);
    let (_, repos) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}/repos"), None).await;
    assert_eq!(repos.as_array().unwrap().len(), 1);
    assert_eq!(repos[0]["full_name"], "sandbox-org/enterprise-sdk");
    assert_eq!(repos[0]["role_name"], "write");
    assert_eq!(repos[0]["permissions"]["push"], true);
    assert_eq!(repos[0]["permissions"]["maintain"], false);

    // An organisation member joins at once: `membership` `added`.
    let added = app.control(&format!("/github/orgs/{ORG}/members"), json!({ "login": "bob" })).await;
    assert_eq!(added["added"], true);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/bob"), None).await.0, 204);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/alice"), None).await.0, 404);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/sandbox-creator"), None).await.0, 204);
    let (status, bob) = put_membership(&app, &slug, "bob").await;
    assert_eq!(status, 200, "{bob}");
    assert_eq!(bob["state"], "active");
    assert_eq!(bob["role"], "member");
    assert!(bob["url"].as_str().unwrap().ends_with("/memberships/bob"), "{bob}");
    let added = events(&app, "membership", "added").await;
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["scope"], "team");
    assert_eq!(added[0]["member"]["login"], "bob");
    assert_eq!(added[0]["team"]["slug"], slug.as_str());
    assert_eq!(added[0]["organization"]["login"], ORG);
    assert_eq!(added[0]["sender"]["login"], "sandbox-creator");
    assert_eq!(collaborator(&app, "bob").await, 204);

    // Anyone else is invited to the organisation: pending, no access yet.
    assert_eq!(collaborator(&app, "alice").await, 404);
    let (status, alice) = put_membership(&app, &slug, "alice").await;
    assert_eq!(status, 200, "{alice}");
    assert_eq!(alice["state"], "pending");
    // Asking again changes nothing.
    assert_eq!(put_membership(&app, &slug, "alice").await.1["state"], "pending");
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await;
    let invitations = invitations.as_array().unwrap().clone();
    assert_eq!(invitations.len(), 1, "{invitations:?}");
    let invitation = &invitations[0];
    assert_eq!(invitation["login"], "alice");
    assert_eq!(invitation["role"], "direct_member");
    assert_eq!(invitation["team_count"], 1);
    assert_eq!(invitation["inviter"]["login"], "sandbox-creator");
    assert_eq!(invitation["invitation_source"], "member");
    assert_eq!(invitation["failed_at"], Value::Null);
    let (_, team_invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}/invitations"), None).await;
    assert_eq!(team_invitations[0]["id"], invitation["id"]);
    let invited = events(&app, "organization", "member_invited").await;
    assert_eq!(invited.len(), 1);
    assert_eq!(invited[0]["invitation"]["login"], "alice");
    assert_eq!(invited[0]["user"]["login"], "alice");
    assert_eq!(invited[0]["organization"]["login"], ORG);
    let membership_path = format!("/orgs/{ORG}/teams/{slug}/memberships/alice");
    assert_eq!(gh(&app, Method::GET, &membership_path, None).await.1["state"], "pending");
    assert_eq!(collaborator(&app, "alice").await, 404);
    let (_, members) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}/members"), None).await;
    let logins: Vec<Value> = members.as_array().unwrap().iter().map(|m| m["login"].clone()).collect();
    assert_eq!(sorted(&Value::Array(logins)), ["bob", "sandbox-creator"]);

    // Alice accepts on the invitation page.
    let page = app.get(&format!("/sandbox/github/orgs/{ORG}/invitation")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Accept invitation as @alice") && html.contains(r#"data-invitee="alice""#), "{html}");
    let accepted = app
        .client
        .post(app.url(&format!("/sandbox/github/orgs/{ORG}/invitation")))
        .form(&[("invitation_id", invitation["id"].to_string())])
        .send()
        .await
        .unwrap();
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("/sandbox/github/{ORG}")), "{location}");
    let landing = app.client.get(&location).send().await.unwrap();
    assert_eq!(landing.status(), 200);
    assert!(landing.text().await.unwrap().contains(r#"data-login="alice""#));
    let empty = app.get(&format!("/sandbox/github/orgs/{ORG}/invitation")).await.text().await.unwrap();
    assert!(empty.contains("no-invitations"));

    let (_, alice) = gh(&app, Method::GET, &membership_path, None).await;
    assert_eq!(alice["state"], "active");
    assert_eq!(alice["role"], "member");
    assert_eq!(collaborator(&app, "alice").await, 204);
    let (_, collaborators) = gh(&app, Method::GET, &format!("/repos/{ORG}/enterprise-sdk/collaborators"), None).await;
    let listed = collaborators.as_array().unwrap().iter().find(|c| c["login"] == "alice").expect("alice is listed");
    assert_eq!(listed["role_name"], "write");
    assert_eq!(listed["permissions"]["push"], true);
    assert_eq!(listed["permissions"]["admin"], false);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/alice"), None).await.0, 204);
    assert!(gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await.1.as_array().unwrap().is_empty());
    let joined = events(&app, "organization", "member_added").await;
    let alice_joined = joined.iter().find(|p| p["membership"]["user"]["login"] == "alice").expect("member_added");
    assert_eq!(alice_joined["membership"]["state"], "active");
    assert_eq!(alice_joined["membership"]["role"], "member");
    assert!(alice_joined["membership"]["organization_url"].as_str().unwrap().ends_with("/orgs/sandbox-org"));
    let added = events(&app, "membership", "added").await;
    assert!(added.iter().any(|p| p["member"]["login"] == "alice" && p["team"]["slug"] == slug.as_str()), "{added:?}");

    // The webhooks arrive signed, with GitHub's event names.
    let got = receiver
        .wait_for(1, 10, |h, b| h.get("x-github-event").is_some_and(|v| v == "membership") && b.contains("alice"))
        .await;
    assert_eq!(got.len(), 1, "no membership webhook for alice arrived");
    let secret = app.state.config.github.webhook_secret.clone().unwrap();
    let signature = got[0].0["x-hub-signature-256"].to_str().unwrap();
    assert!(server::signatures::verify_github(&secret, got[0].1.as_bytes(), signature));

    // The state shows it all.
    let state = app.control_get("/github/state").await;
    let org = org_state(&state);
    assert!(org["members"].as_array().unwrap().iter().any(|m| m == "alice"), "{org}");
    let team_state = &org["teams"][0];
    assert_eq!(team_state["slug"], slug.as_str());
    assert_eq!(
        team_state["repositories"][0],
        json!({ "full_name": "sandbox-org/enterprise-sdk", "permission": "write" })
    );
    assert_eq!(sorted(&team_state["members"]), ["alice", "bob", "sandbox-creator"]);
    assert_eq!(team_state["pending"], json!([]));

    // Removing her: 204, then 404; her access goes and GitHub says so.
    assert_eq!(gh(&app, Method::DELETE, &membership_path, None).await.0, 204);
    assert_eq!(gh(&app, Method::DELETE, &membership_path, None).await.0, 404);
    assert_eq!(gh(&app, Method::GET, &membership_path, None).await.0, 404);
    assert_eq!(collaborator(&app, "alice").await, 404);
    let removed = events(&app, "membership", "removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["member"]["login"], "alice");
    assert_eq!(removed[0]["scope"], "team");
    // She stays in the organisation, as on GitHub.
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/alice"), None).await.0, 204);

    // Removed by hand on GitHub: the same webhook.
    let by_hand = app.control(&format!("/github/orgs/{ORG}/teams/{slug}/memberships/bob/remove"), json!({})).await;
    assert_eq!(by_hand, json!({ "removed": true, "was": "active" }));
    assert_eq!(collaborator(&app, "bob").await, 404);
    assert_eq!(events(&app, "membership", "removed").await.len(), 2);

    // Taking the repository off the team.
    assert_eq!(gh(&app, Method::DELETE, &repo_path, None).await.0, 204);
    assert_eq!(gh(&app, Method::GET, &repo_path, None).await.0, 404);

    // Organisations are not members; unknown people are not found.
    let (status, body) = put_membership(&app, &slug, "sandbox-org").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(put_membership(&app, &slug, "no-such-person").await.0, 404);
    assert_eq!(put_membership(&app, "no-such-team", "alice").await.0, 404);
}

async fn pending_memberships_follow_their_invitation(app: TestApp) {
    let _receiver = webhooks_to_a_receiver(&app).await;
    let one = create_team(&app, "Team One").await["slug"].as_str().unwrap().to_owned();
    let two = create_team(&app, "Team Two").await["slug"].as_str().unwrap().to_owned();
    app.control("/github/users", json!({ "login": "dora" })).await;

    // Two teams, one organisation invitation.
    assert_eq!(put_membership(&app, &one, "dora").await.1["state"], "pending");
    let (_, maintainer) = gh(
        &app,
        Method::PUT,
        &format!("/orgs/{ORG}/teams/{two}/memberships/dora"),
        Some(json!({ "role": "maintainer" })),
    )
    .await;
    assert_eq!(maintainer, json!({ "url": maintainer["url"], "role": "maintainer", "state": "pending" }));
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await;
    assert_eq!(invitations.as_array().unwrap().len(), 1);
    assert_eq!(invitations[0]["team_count"], 2);
    assert_eq!(events(&app, "organization", "member_invited").await.len(), 1);
    let state = app.control_get("/github/state").await;
    let listed = &org_state(&state)["invitations"][0];
    assert_eq!(listed["login"], "dora");
    assert_eq!(listed["teams"], json!([one, two]));
    assert_eq!(listed["expired"], false);
    assert_eq!(org_state(&state)["teams"][0]["pending"], json!(["dora"]));

    // Leaving one team leaves the invitation with the other.
    assert_eq!(gh(&app, Method::DELETE, &format!("/orgs/{ORG}/teams/{one}/memberships/dora"), None).await.0, 204);
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await;
    assert_eq!(invitations[0]["team_count"], 1);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{one}/memberships/dora"), None).await.0, 404);

    // Cancelling the invitation takes the pending memberships with it.
    let id = invitations[0]["id"].as_i64().unwrap();
    assert_eq!(gh(&app, Method::DELETE, &format!("/orgs/{ORG}/invitations/{id}"), None).await.0, 204);
    assert_eq!(gh(&app, Method::DELETE, &format!("/orgs/{ORG}/invitations/{id}"), None).await.0, 404);
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{two}/memberships/dora"), None).await.0, 404);
    assert!(gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await.1.as_array().unwrap().is_empty());

    // The last team leaving cancels the invitation too.
    put_membership(&app, &one, "dora").await;
    assert_eq!(gh(&app, Method::DELETE, &format!("/orgs/{ORG}/teams/{one}/memberships/dora"), None).await.0, 204);
    assert!(gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await.1.as_array().unwrap().is_empty());

    // Invitations expire after 7 days: not accepted, and a new one replaces them.
    let (_, pending) = put_membership(&app, &two, "dora").await;
    assert_eq!(pending["state"], "pending");
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await;
    let expiring = invitations[0]["id"].as_i64().unwrap();
    app.control("/clock/advance", json!({ "days": 8 })).await;
    let accept = app
        .client
        .post(app.url(&format!("/sandbox/control/github/org_invitations/{expiring}/accept")))
        .send()
        .await
        .unwrap();
    assert_eq!(accept.status(), 400);
    assert!(accept.text().await.unwrap().contains("expired"));
    assert!(gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await.1.as_array().unwrap().is_empty());
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{two}/memberships/dora"), None).await.0, 404);
    assert_eq!(put_membership(&app, &two, "dora").await.1["state"], "pending");
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations"), None).await;
    let fresh = invitations[0]["id"].as_i64().unwrap();
    assert_ne!(fresh, expiring);
    let state = app.control_get("/github/state").await;
    let listed = org_state(&state)["invitations"].as_array().unwrap();
    assert!(listed.iter().any(|i| i["id"] == expiring && i["expired"] == true), "{listed:?}");

    // Accepted through the control API: member of the organisation and the team.
    let (_, maintainer) = gh(
        &app,
        Method::PUT,
        &format!("/orgs/{ORG}/teams/{two}/memberships/dora"),
        Some(json!({ "role": "maintainer" })),
    )
    .await;
    assert_eq!(maintainer["role"], "maintainer");
    let accepted = app.control(&format!("/github/org_invitations/{fresh}/accept"), json!({})).await;
    assert_eq!(accepted["login"], "dora");
    assert_eq!(accepted["teams"], json!([two]));
    let (_, membership) = gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{two}/memberships/dora"), None).await;
    assert_eq!(membership["state"], "active");
    assert_eq!(membership["role"], "maintainer");
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/members/dora"), None).await.0, 204);
    // A second acceptance is refused.
    let again = app
        .client
        .post(app.url(&format!("/sandbox/control/github/org_invitations/{fresh}/accept")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
}

async fn fifty_organization_invitations_a_day(app: TestApp) {
    let _receiver = webhooks_to_a_receiver(&app).await;
    let slug = create_team(&app, "Big Team").await["slug"].as_str().unwrap().to_owned();
    for i in 0..51 {
        app.control("/github/users", json!({ "login": format!("seat-{i}") })).await;
    }
    for i in 0..50 {
        let (status, body) = put_membership(&app, &slug, &format!("seat-{i}")).await;
        assert_eq!((status, body["state"].as_str()), (200, Some("pending")), "seat-{i}: {body}");
    }
    let (status, refused) = put_membership(&app, &slug, "seat-50").await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["message"], "Validation Failed");
    assert_eq!(refused["errors"][0]["message"], "Over invitation rate limit");
    assert_eq!(refused["errors"][0]["resource"], "OrganizationInvitation");
    assert_eq!(refused["status"], "422");
    assert!(refused.to_string().contains("Over invitation rate limit"));
    // Someone already invited costs nothing: still pending, still 200.
    assert_eq!(put_membership(&app, &slug, "seat-7").await.0, 200);
    // Organisation members are not invited, so the limit does not apply.
    app.control(&format!("/github/orgs/{ORG}/members"), json!({ "login": "carol" })).await;
    assert_eq!(put_membership(&app, &slug, "carol").await.1["state"], "active");

    // A day later there is room again.
    app.control("/clock/advance", json!({ "days": 1, "seconds": 1 })).await;
    let (status, body) = put_membership(&app, &slug, "seat-50").await;
    assert_eq!((status, body["state"].as_str()), (200, Some("pending")), "{body}");
    let (_, invitations) = gh(&app, Method::GET, &format!("/orgs/{ORG}/invitations?per_page=100"), None).await;
    assert_eq!(invitations.as_array().unwrap().len(), 51);
}

async fn only_owners_manage_teams(app: TestApp) {
    let _receiver = webhooks_to_a_receiver(&app).await;
    let slug = create_team(&app, "Owners Only").await["slug"].as_str().unwrap().to_owned();
    let alice = oauth_token(&app, "alice").await;
    // Outside the organisation its teams do not exist; without credentials, 401.
    let (status, _) = gh_as(&app, &alice, Method::GET, &format!("/orgs/{ORG}/teams"), None).await;
    assert_eq!(status, 404);
    assert_eq!(gh_as(&app, "", Method::GET, &format!("/orgs/{ORG}/teams"), None).await.0, 401);
    // A member reads teams but changes nothing.
    app.control(&format!("/github/orgs/{ORG}/members"), json!({ "login": "alice" })).await;
    let (status, teams) = gh_as(&app, &alice, Method::GET, &format!("/orgs/{ORG}/teams"), None).await;
    assert_eq!(status, 200);
    assert_eq!(teams[0]["slug"], slug.as_str());
    let (status, body) =
        gh_as(&app, &alice, Method::POST, &format!("/orgs/{ORG}/teams"), Some(json!({ "name": "Mine" }))).await;
    assert_eq!(status, 403, "{body}");
    let path = format!("/orgs/{ORG}/teams/{slug}/memberships/bob");
    assert_eq!(gh_as(&app, &alice, Method::PUT, &path, Some(json!({}))).await.0, 403);

    // An installation on the organisation acts as it.
    let as_app = octocrab::Octocrab::builder()
        .base_uri(app.state.config.github.api_url.as_str())
        .unwrap()
        .app_from_rsa_pem(
            octocrab::models::AppId(sandbox::github::app::APP_ID),
            sandbox::github::app::PRIVATE_KEY_PEM.as_bytes(),
        )
        .unwrap()
        .build()
        .unwrap();
    let installation = as_app.apps().get_org_installation(ORG).await.unwrap();
    let (_, token) = as_app.installation_and_token(installation.id).await.unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token).to_owned();
    let (status, body) = gh_as(&app, &token, Method::PUT, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "pending");
    let invited = events(&app, "organization", "member_invited").await;
    assert_eq!(invited[0]["sender"]["login"], ORG);
}

async fn the_call_counter_counts_by_route(app: TestApp) {
    let _receiver = webhooks_to_a_receiver(&app).await;
    let slug = create_team(&app, "Counted").await["slug"].as_str().unwrap().to_owned();
    let reset = app.control("/github/calls/reset", json!({})).await;
    assert_eq!(reset["total"], 0);
    for login in ["alice", "bob", "carol"] {
        put_membership(&app, &slug, login).await;
    }
    gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}"), None).await;
    gh(&app, Method::GET, "/users/octocat", None).await;
    // An armed fault's answer is a call too.
    app.control("/github/faults", json!({ "fault": "server_error", "count": 1 })).await;
    assert_eq!(gh(&app, Method::GET, &format!("/orgs/{ORG}/teams/{slug}"), None).await.0, 500);

    // (RepoPass's own background work may call GitHub too: only these routes are exact.)
    let calls = app.control_get("/github/calls").await;
    assert_eq!(calls["by_route"]["PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"], 3, "{calls}");
    assert_eq!(calls["by_route"]["GET /orgs/{org}/teams/{team_slug}"], 2, "{calls}");
    assert_eq!(calls["by_route"]["GET /users/{login}"], 1, "{calls}");
    assert_eq!(calls["by_route"].get("POST /orgs/{org}/teams"), None, "{calls}");
    let sum: u64 = calls["by_route"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(calls["total"], sum, "{calls}");
    assert!(sum >= 6, "{calls}");
    // The control API and the web pages are not GitHub API calls.
    app.get(&format!("/sandbox/github/orgs/{ORG}/invitation")).await;
    app.get(&format!("/sandbox/github/{ORG}")).await;
    let after = app.control_get("/github/calls").await;
    assert_eq!(after["by_route"].get("GET /orgs/{org}/invitation"), None, "{after}");
    assert_eq!(after["by_route"]["PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"], 3, "{after}");

    let reset = app.control("/github/calls/reset", json!({})).await;
    assert_eq!(reset, json!({ "total": 0, "by_route": {} }));
    let after = app.control_get("/github/calls").await;
    assert_eq!(after["by_route"].get("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"), None, "{after}");
}

/// An OAuth token for `login`, obtained the way a browser would.
async fn oauth_token(app: &TestApp, login: &str) -> String {
    let redirect = app.url("/cb");
    let form = [
        ("client_id", sandbox::credentials::GITHUB_CLIENT_ID),
        ("redirect_uri", redirect.as_str()),
        ("state", "s"),
        ("scope", "read:user"),
        ("login", login),
    ];
    let response = app.client.post(app.url("/sandbox/github/login/oauth/authorize")).form(&form).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let token: Value = app
        .client
        .post(app.url("/sandbox/github/login/oauth/access_token"))
        .header("accept", "application/json")
        .form(&[
            ("client_id", sandbox::credentials::GITHUB_CLIENT_ID),
            ("client_secret", sandbox::credentials::GITHUB_CLIENT_SECRET),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}
