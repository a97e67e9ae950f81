//! The GitHub stand-in, driven through the real clients: octocrab for the
//! REST API and oauth2 for sign-in, exactly as RepoPass configures them.

use octocrab::{models::repos::InvitationPermission, params::teams::Permission, Error as GhError};
use serde_json::json;

use crate::{
    helpers::{spawn_app_with, Backend, TestApp, WebhookReceiver},
    scenarios,
};

scenarios!(
    users_are_full_profiles,
    repositories_the_token_administers,
    collaborator_lifecycle,
    invitations_expire_and_can_be_withdrawn,
    fifty_invitations_a_day,
    armed_faults,
    oauth_sign_in,
    zero_config_shows_the_banner,
    member_webhooks_are_signed,
    github_app_installations,
    repository_and_collaborator_listings,
);

fn status(err: &GhError) -> u16 {
    match err {
        GhError::GitHub { source, .. } => source.status_code.as_u16(),
        other => panic!("expected a GitHub error, got {other}"),
    }
}

async fn users_are_full_profiles(app: TestApp) {
    let gh = app.github();
    let octocat = gh.users("octocat").profile().await.unwrap();
    assert_eq!(octocat.login, "octocat");
    assert_eq!(octocat.id.0, 583231);
    assert_eq!(octocat.r#type, "User");
    assert_eq!(octocat.name.as_deref(), Some("The Octocat"));
    assert!(octocat.avatar_url.as_str().ends_with("/sandbox/github/avatars/octocat.svg"));
    // Logins are case-insensitive, as on GitHub.
    assert_eq!(gh.users("OctoCat").profile().await.unwrap().id.0, 583231);

    let org = gh.users("sandbox-org").profile().await.unwrap();
    assert_eq!(org.r#type, "Organization");

    let missing = gh.users("no-such-person").profile().await.unwrap_err();
    assert_eq!(status(&missing), 404);

    let avatar = app.get("/sandbox/github/avatars/octocat.svg").await;
    assert_eq!(avatar.headers()["content-type"], "image/svg+xml");
}

async fn repositories_the_token_administers(app: TestApp) {
    let gh = app.github();
    let page = gh.current().list_repos_for_authenticated_user().per_page(100).send().await.unwrap();
    let names: Vec<String> = page.items.iter().map(|r| r.full_name.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "sandbox-creator/course-materials",
            "sandbox-creator/pro-kit",
            "sandbox-creator/public-demo",
            "sandbox-org/enterprise-sdk"
        ]
    );
    let sdk = page.items.iter().find(|r| r.name == "enterprise-sdk").unwrap();
    assert_eq!(sdk.private, Some(true));
    assert_eq!(sdk.owner.as_ref().unwrap().r#type, "Organization");
    assert!(sdk.permissions.as_ref().unwrap().admin);

    let me = gh.current().user().await.unwrap();
    assert_eq!(me.login, "sandbox-creator");

    // Someone else's token sees nothing of the creator's private repositories.
    let anonymous = octocrab::Octocrab::builder()
        .base_uri(app.state.config.github.api_url.as_str())
        .unwrap()
        .personal_token("ghp_wrong".to_owned())
        .build()
        .unwrap();
    assert_eq!(status(&anonymous.current().user().await.unwrap_err()), 401);
    let err = anonymous.repos("sandbox-creator", "pro-kit").add_collaborator("alice").send().await.unwrap_err();
    assert_eq!(status(&err), 401);
}

async fn collaborator_lifecycle(app: TestApp) {
    let gh = app.github();
    let repo = gh.repos("sandbox-creator", "pro-kit");

    // Personal repository: the permission asked for is ignored (write), as on GitHub.
    let invitation = repo
        .add_collaborator("alice")
        .permission(Permission::Maintain)
        .send()
        .await
        .unwrap()
        .expect("201 with an invitation");
    assert_eq!(invitation.permissions, InvitationPermission::Write);
    assert_eq!(invitation.invitee.as_ref().unwrap().login, "alice");
    assert_eq!(invitation.repository.full_name.as_deref(), Some("sandbox-creator/pro-kit"));
    // Asking again while it is pending returns the same invitation.
    let again = repo.add_collaborator("alice").send().await.unwrap().unwrap();
    assert_eq!(again.id, invitation.id);
    let pending = repo.invitations().list().send().await.unwrap();
    assert_eq!(pending.items.len(), 1);
    assert!(!repo.is_collaborator("alice").await.unwrap());

    // Organisation repository: the permission is honoured.
    let org_inv = gh
        .repos("sandbox-org", "enterprise-sdk")
        .add_collaborator("alice")
        .permission(Permission::Triage)
        .send()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org_inv.permissions, InvitationPermission::Triage);

    // Alice accepts: she is a collaborator, the invitation is gone, and
    // GitHub sends `member` `added`.
    app.control(&format!("/github/invitations/{}/accept", invitation.id.0), json!({})).await;
    assert!(repo.is_collaborator("alice").await.unwrap());
    assert!(repo.invitations().list().send().await.unwrap().items.is_empty());
    // Inviting a collaborator again: 204, no new invitation.
    assert!(repo.add_collaborator("alice").send().await.unwrap().is_none());

    // Unknown people and organisations cannot be invited.
    assert_eq!(status(&repo.add_collaborator("no-such-person").send().await.unwrap_err()), 404);
    assert_eq!(status(&repo.add_collaborator("sandbox-org").send().await.unwrap_err()), 422);

    repo.remove_collaborator("alice").await.unwrap();
    assert!(!repo.is_collaborator("alice").await.unwrap());

    let deliveries = app.control_get("/deliveries").await;
    let member_events: Vec<_> = deliveries.as_array().unwrap().iter().filter(|d| d["event_type"] == "member").collect();
    assert_eq!(member_events.len(), 2, "{deliveries}");
    let added = member_events.iter().find(|d| d["payload"].as_str().unwrap().contains("\"added\"")).unwrap();
    let payload: serde_json::Value = serde_json::from_str(added["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["member"]["login"], "alice");
    assert_eq!(payload["member"]["id"], 1002);
    assert_eq!(payload["repository"]["full_name"], "sandbox-creator/pro-kit");
    assert_eq!(payload["changes"]["permission"]["to"], "write");
    assert!(added["target_url"].as_str().unwrap().ends_with("/api/webhooks/github"));
}

async fn invitations_expire_and_can_be_withdrawn(app: TestApp) {
    let gh = app.github();
    let repo = gh.repos("sandbox-creator", "course-materials");
    let invitation = repo.add_collaborator("bob").send().await.unwrap().unwrap();
    assert_eq!(invitation.expired, Some(false));

    app.control("/clock/advance", json!({ "days": 8 })).await;
    let listed = repo.invitations().list().send().await.unwrap();
    assert_eq!(listed.items[0].expired, Some(true));
    let accept = app
        .client
        .post(app.url(&format!("/sandbox/control/github/invitations/{}/accept", invitation.id.0)))
        .send()
        .await
        .unwrap();
    assert_eq!(accept.status(), 400);
    assert!(accept.text().await.unwrap().contains("expired"));

    // An expired invitation is replaced by a fresh one when asked again.
    let fresh = repo.add_collaborator("bob").send().await.unwrap().unwrap();
    assert_ne!(fresh.id, invitation.id);
    repo.invitations().delete(invitation.id).await.unwrap();
    repo.invitations().delete(fresh.id).await.unwrap();
    assert!(repo.invitations().list().send().await.unwrap().items.is_empty());
    assert_eq!(status(&repo.invitations().delete(fresh.id).await.unwrap_err()), 404);
}

async fn fifty_invitations_a_day(app: TestApp) {
    let gh = app.github();
    let repo = gh.repos("sandbox-creator", "pro-kit");
    for i in 0..51 {
        app.control("/github/users", json!({ "login": format!("buyer-{i}") })).await;
    }
    for i in 0..50 {
        repo.add_collaborator(format!("buyer-{i}")).send().await.unwrap().unwrap();
    }
    let refused = repo.add_collaborator("buyer-50").send().await.unwrap_err();
    assert_eq!(status(&refused), 422);
    // A day later there is room again.
    app.control("/clock/advance", json!({ "days": 1, "seconds": 1 })).await;
    repo.add_collaborator("buyer-50").send().await.unwrap().unwrap();
}

async fn armed_faults(app: TestApp) {
    let gh = app.github();
    app.control("/github/faults", json!({ "fault": "server_error", "count": 2 })).await;
    assert_eq!(status(&gh.users("octocat").profile().await.unwrap_err()), 500);
    assert_eq!(status(&gh.users("octocat").profile().await.unwrap_err()), 500);
    gh.users("octocat").profile().await.unwrap();

    app.control("/github/faults", json!({ "fault": "rate_limit", "count": 1 })).await;
    match gh.users("octocat").profile().await.unwrap_err() {
        GhError::GitHub { source, .. } => {
            assert_eq!(source.status_code.as_u16(), 403);
            assert!(source.rate_limit_reset.is_some(), "x-ratelimit-reset missing");
        }
        other => panic!("{other}"),
    }
    gh.users("octocat").profile().await.unwrap();

    app.control("/github/faults", json!({ "fault": "timeout", "count": 1 })).await;
    let impatient = octocrab::Octocrab::builder()
        .base_uri(app.state.config.github.api_url.as_str())
        .unwrap()
        .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .build()
        .unwrap();
    assert!(impatient.users("octocat").profile().await.is_err(), "the call should time out");
}

async fn oauth_sign_in(app: TestApp) {
    use oauth2::{
        basic::BasicClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, Scope,
        TokenResponse, TokenUrl,
    };

    let config = &app.state.config;
    let web = config.github.web_url.as_str().trim_end_matches('/');
    let client = BasicClient::new(ClientId::new(config.github.client_id.clone().unwrap()))
        .set_client_secret(ClientSecret::new(
            secrecy::ExposeSecret::expose_secret(config.github.client_secret.as_ref().unwrap()).to_owned(),
        ))
        .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{web}/login/oauth/access_token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(app.url("/account/auth/callback")).unwrap());
    let (authorize_url, csrf) =
        client.authorize_url(CsrfToken::new_random).add_scope(Scope::new("read:user".into())).url();

    let page = app.client.get(authorize_url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in as alice") && html.contains("Sandbox — no real money"), "{html}");

    // Pick "carol" on the page (the form posts the same query back).
    let query: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    let field = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let form = [
        ("client_id", field("client_id")),
        ("redirect_uri", field("redirect_uri")),
        ("state", field("state")),
        ("scope", field("scope")),
        ("login", "carol".into()),
    ];
    let redirect = app.client.post(authorize_url.as_str()).form(&form).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&app.url("/account/auth/callback")));
    let back: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(back["state"], *csrf.secret());

    let http =
        oauth2::reqwest::ClientBuilder::new().redirect(oauth2::reqwest::redirect::Policy::none()).build().unwrap();
    let token = client.exchange_code(AuthorizationCode::new(back["code"].clone())).request_async(&http).await.unwrap();
    let scopes: Vec<String> =
        token.scopes().unwrap().iter().flat_map(|s| s.split(',').map(str::to_owned).collect::<Vec<_>>()).collect();
    assert_eq!(scopes, ["read:user"]);

    let as_carol = octocrab::Octocrab::builder()
        .base_uri(config.github.api_url.as_str())
        .unwrap()
        .user_access_token(token.access_token().secret().to_owned())
        .build()
        .unwrap();
    assert_eq!(as_carol.current().user().await.unwrap().login, "carol");

    // A code works once; GitHub then answers 200 with an error body.
    let reused =
        client.exchange_code(AuthorizationCode::new(back["code"].clone())).request_async(&http).await.unwrap_err();
    match reused {
        oauth2::RequestTokenError::Parse(_, body) => {
            assert!(String::from_utf8_lossy(&body).contains("bad_verification_code"))
        }
        other => panic!("expected GitHub's 200-with-error, got {other:?}"),
    }

    // A new login typed on the page becomes a sandbox account.
    let form = [
        ("client_id", field("client_id")),
        ("redirect_uri", field("redirect_uri")),
        ("state", field("state")),
        ("scope", field("scope")),
        ("login", "brand-new-buyer".into()),
    ];
    assert!(app.client.post(authorize_url.as_str()).form(&form).send().await.unwrap().status().is_redirection());
    assert_eq!(app.github().users("brand-new-buyer").profile().await.unwrap().login, "brand-new-buyer");
}

async fn zero_config_shows_the_banner(app: TestApp) {
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("Sandbox — no real money or GitHub access"), "banner missing");
}

/// With real credentials nothing of the sandbox exists.
async fn real_credentials_mount_no_sandbox(backend: Backend) {
    let real = [
        ("STRIPE_SECRET_KEY", "sk_test_real_looking"),
        ("GITHUB_TOKEN", "ghp_real_looking"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_real_looking"),
        ("REPOPASS_ADMINS", "sandbox-creator"),
    ];
    let Some(app) = spawn_app_with(backend, &real).await else { return };
    assert!(!app.state.config.sandbox);
    for path in [
        "/sandbox",
        "/sandbox/github/api/users/octocat",
        "/sandbox/control/github/state",
        "/sandbox/github/login/oauth/authorize",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path} is reachable with real credentials");
    }
    let response =
        app.client.post(app.url("/sandbox/control/clock/advance")).json(&json!({"days": 1})).send().await.unwrap();
    assert!(response.status() == 404 || response.status() == 405, "{}", response.status());
    let home = app.get("/").await.text().await.unwrap();
    assert!(!home.contains("Sandbox — no real money"), "banner shown with real credentials");
    // Without REPOPASS_METRICS_TOKEN, metrics are not served to anyone.
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 404);
    assert!(metrics.text().await.unwrap().contains("REPOPASS_METRICS_TOKEN"));
}

#[tokio::test]
async fn real_credentials_mount_no_sandbox_sqlite() {
    crate::helpers::guarded(
        concat!(module_path!(), "::real_credentials_mount_no_sandbox_sqlite"),
        real_credentials_mount_no_sandbox(Backend::Sqlite),
    )
    .await;
}

#[tokio::test]
async fn real_credentials_mount_no_sandbox_postgres() {
    crate::helpers::guarded(
        concat!(module_path!(), "::real_credentials_mount_no_sandbox_postgres"),
        real_credentials_mount_no_sandbox(Backend::Postgres),
    )
    .await;
}

async fn member_webhooks_are_signed(app: TestApp) {
    let receiver = WebhookReceiver::start(0).await;
    app.redirect_webhooks(&receiver).await;
    let gh = app.github();
    let repo = gh.repos("sandbox-org", "enterprise-sdk");
    let invitation = repo.add_collaborator("mona").permission(Permission::Push).send().await.unwrap().unwrap();
    app.control(&format!("/github/invitations/{}/accept", invitation.id.0), json!({})).await;
    let got = receiver.wait_for(1, 10, |h, _| h.get("x-github-event").is_some_and(|v| v == "member")).await;
    assert_eq!(got.len(), 1, "no member webhook arrived");
    let (headers, body) = &got[0];
    let secret = app.state.config.github.webhook_secret.clone().unwrap();
    let signature = headers["x-hub-signature-256"].to_str().unwrap();
    assert!(server::signatures::verify_github(&secret, body.as_bytes(), signature), "signature does not verify");
    assert!(!server::signatures::verify_github(&secret, body.replace("mona", "eve").as_bytes(), signature));
    assert_eq!(headers["x-github-delivery"].to_str().unwrap().len(), 36);
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["action"], "added");
    assert_eq!(payload["member"]["login"], "mona");
    assert_eq!(payload["changes"]["permission"]["to"], "write");
    assert_eq!(payload["repository"]["owner"]["type"], "Organization");
}

async fn github_app_installations(app: TestApp) {
    use octocrab::models::AppId;
    let base = app.state.config.github.api_url.as_str();
    let as_app = octocrab::Octocrab::builder()
        .base_uri(base)
        .unwrap()
        .app_from_rsa_pem(AppId(sandbox::github::app::APP_ID), sandbox::github::app::PRIVATE_KEY_PEM.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let installation = as_app.apps().get_repository_installation("sandbox-org", "enterprise-sdk").await.unwrap();
    assert_eq!(installation.account.login, "sandbox-org");

    let client = as_app.installation(installation.id).unwrap();
    let repos = client.apps().installation_repositories().send().await.unwrap();
    assert_eq!(repos.total_count, 1);
    assert_eq!(repos.repositories[0].full_name.as_deref(), Some("sandbox-org/enterprise-sdk"));
    let invitation = client
        .repos("sandbox-org", "enterprise-sdk")
        .add_collaborator("bob")
        .permission(Permission::Maintain)
        .send()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invitation.permissions, InvitationPermission::Maintain);
    // The installation cannot touch another account's repositories.
    assert_eq!(
        status(&client.repos("sandbox-creator", "pro-kit").add_collaborator("bob").send().await.unwrap_err()),
        404
    );

    // Installation tokens last an hour; octocrab fetches a new one on the 401.
    app.control("/clock/advance", json!({ "seconds": 7200 })).await;
    assert!(client.repos("sandbox-org", "enterprise-sdk").is_collaborator("sandbox-creator").await.is_ok());
    assert_eq!(client.apps().installation_repositories().send().await.unwrap().total_count, 1);

    // A JWT that claims another App is refused.
    let impostor = octocrab::Octocrab::builder()
        .base_uri(base)
        .unwrap()
        .app_from_rsa_pem(AppId(1), sandbox::github::app::PRIVATE_KEY_PEM.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        status(&impostor.apps().get_repository_installation("sandbox-org", "enterprise-sdk").await.unwrap_err()),
        401
    );
}

async fn repository_and_collaborator_listings(app: TestApp) {
    let gh = app.github();
    let repo = gh.repos("sandbox-org", "enterprise-sdk").get().await.unwrap();
    assert_eq!(repo.private, Some(true));
    assert_eq!(repo.owner.unwrap().login, "sandbox-org");
    // Someone else's private repository does not exist, as far as you can tell.
    let as_alice = {
        let token = octocrab_token_for(&app, "alice").await;
        octocrab::Octocrab::builder()
            .base_uri(app.state.config.github.api_url.as_str())
            .unwrap()
            .personal_token(token)
            .build()
            .unwrap()
    };
    assert_eq!(status(&as_alice.repos("sandbox-org", "enterprise-sdk").get().await.unwrap_err()), 404);

    let invitation = gh
        .repos("sandbox-org", "enterprise-sdk")
        .add_collaborator("carol")
        .permission(Permission::Maintain)
        .send()
        .await
        .unwrap()
        .unwrap();
    app.control(&format!("/github/invitations/{}/accept", invitation.id.0), json!({})).await;
    let collaborators = gh.repos("sandbox-org", "enterprise-sdk").list_collaborators().send().await.unwrap();
    let carol = collaborators.items.iter().find(|c| c.author.login == "carol").expect("carol is listed");
    assert!(carol.permissions.maintain && !carol.permissions.admin);

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
    let installations = as_app.apps().installations().send().await.unwrap();
    assert_eq!(installations.items.len(), 2);
    assert_eq!(as_app.current().app().await.unwrap().id.0, sandbox::github::app::APP_ID);
}

/// An OAuth token for `login`, obtained the way a browser would.
async fn octocrab_token_for(app: &TestApp, login: &str) -> String {
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
    let token: serde_json::Value = app
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
