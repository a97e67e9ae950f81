//! Creator sign-in through the sandbox's GitHub OAuth, with the cookies a
//! browser keeps.

use serde_json::Value;

use crate::{
    helpers::{spawn_app_beside, spawn_app_with, Backend, TestApp},
    scenarios,
};

scenarios!(
    first_sign_in_becomes_the_owner,
    others_are_not_admins,
    a_forged_state_is_refused,
    sign_out_ends_the_session,
    after_sign_in_next_never_leaves_the_site,
    sign_in_attempts_leave_short_lived_sessions_that_are_deleted
);

/// A browser: follows nothing by itself, keeps cookies, and says (as every
/// current browser does) that its requests come from the site's own pages.
pub fn browser() -> reqwest::Client {
    browser_pair().0
}

/// Two clients sharing one cookie jar: a browser (as `browser`), and one
/// that sends the same cookies but says nothing about where a request
/// comes from — what a forged or odd request looks like.
pub fn browser_pair() -> (reqwest::Client, reqwest::Client) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let build = |headers: reqwest::header::HeaderMap| {
        reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(crate::helpers::http_timeout())
            .build()
            .unwrap()
    };
    let mut from_our_pages = reqwest::header::HeaderMap::new();
    from_our_pages.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
    (build(from_our_pages), build(reqwest::header::HeaderMap::new()))
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("repopass_session="))
}

/// Signs in as `login` through the sandbox's OAuth page; returns the
/// response of the callback.
pub async fn sign_in(app: &TestApp, browser: &reqwest::Client, login: &str, next: &str) -> reqwest::Response {
    let start = browser.get(app.url(&format!("/auth/github?next={next}"))).send().await.unwrap();
    assert_eq!(start.status(), 303, "{:?}", start.text().await);
    let authorize = url::Url::parse(&location(&start)).unwrap();
    assert!(authorize.path().ends_with("/sandbox/github/login/oauth/authorize"));
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    form.push(("login".into(), login.into()));
    let picked = browser.post(authorize.as_str()).form(&form).send().await.unwrap();
    assert!(picked.status().is_redirection());
    browser.get(location(&picked)).send().await.unwrap()
}

/// Calls a server function as `who` (form-encoded, as ActionForm sends it).
pub async fn call(app: &TestApp, who: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = who.post(app.url(&format!("/api/{endpoint}"))).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn viewer(app: &TestApp, browser: &reqwest::Client) -> Value {
    browser.post(app.url("/api/session/viewer")).send().await.unwrap().json().await.unwrap()
}

async fn first_sign_in_becomes_the_owner(app: TestApp) {
    let browser = browser();
    let before = browser.get(app.url("/auth/github?next=/admin/settings")).send().await.unwrap();
    let first_cookie = session_cookie(&before).expect("the sign-in state lives in a session cookie");
    assert!(first_cookie.contains("HttpOnly") && first_cookie.contains("SameSite=Lax"), "{first_cookie}");
    assert!(!first_cookie.contains("Secure"), "plain http must not set Secure");

    let callback = sign_in(&app, &browser, "sandbox-creator", "/admin/settings").await;
    assert_eq!(callback.status(), 303);
    assert_eq!(location(&callback), "/admin/settings");
    let cycled = session_cookie(&callback).expect("a new session id at sign-in");
    assert_ne!(cycled.split(';').next(), first_cookie.split(';').next(), "the session id was not cycled");

    let me = viewer(&app, &browser).await;
    assert_eq!(me["login"], "sandbox-creator");
    assert_eq!(me["is_admin"], true);
    let (login, role): (String, String) =
        sqlx::query_as("SELECT github_login, role FROM admins").fetch_one(app.pool()).await.unwrap();
    assert_eq!((login.as_str(), role.as_str()), ("sandbox-creator", "owner"));

    let settings = browser.get(app.url("/admin/settings")).send().await.unwrap().text().await.unwrap();
    assert!(
        settings.contains("sandbox-creator/pro-kit") && settings.contains("sandbox-org/enterprise-sdk"),
        "reachable repositories missing"
    );
    assert!(settings.contains("/api/webhooks/stripe"));

    let status = browser.post(app.url("/api/admin/settings/status")).send().await.unwrap();
    assert_eq!(status.status(), 200);
}

async fn others_are_not_admins(app: TestApp) {
    sign_in(&app, &browser(), "sandbox-creator", "/admin").await;
    let alice = browser();
    let callback = sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(callback.status(), 303);
    assert_eq!(viewer(&app, &alice).await["is_admin"], false);
    let page = alice.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("This account is not an admin"), "{page}");
    assert_eq!(alice.post(app.url("/api/admin/settings/status")).send().await.unwrap().status(), 403);
    assert_eq!(browser().post(app.url("/api/admin/settings/status")).send().await.unwrap().status(), 401);
    let anonymous = browser().get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(anonymous.contains("Sign in with GitHub"));
}

async fn a_forged_state_is_refused(app: TestApp) {
    let browser = browser();
    browser.get(app.url("/auth/github")).send().await.unwrap();
    let forged = browser.get(app.url("/auth/github/callback?code=abc&state=not-the-one")).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("This sign-in link has expired"));
    assert!(viewer(&app, &browser).await.is_null());
}

/// `next` as an attacker would write it into a link: after signing in, the
/// browser must still be on RepoPass.
async fn after_sign_in_next_never_leaves_the_site(app: TestApp) {
    for (next, lands) in [
        ("/%09/evil.example", "/admin"),
        ("/%0A/evil.example", "/admin"),
        ("%2F%2Fevil.example", "/admin"),
        ("/admin/settings", "/admin/settings"),
    ] {
        let callback = sign_in(&app, &browser(), "sandbox-creator", next).await;
        assert_eq!(callback.status(), 303, "{next}");
        assert_eq!(location(&callback), lands, "{next}");
    }
}

/// Latest session expiry, in unix seconds, and how many sessions there are.
async fn sessions(app: &TestApp) -> (i64, i64) {
    let latest = match app.state.db.backend() {
        // The SQLite store keeps expiry as text (a time); PostgreSQL as timestamptz.
        server::db::Backend::Sqlite => {
            "SELECT COALESCE(MAX(CAST(strftime('%s', expiry_date) AS BIGINT)), 0) FROM sessions"
        }
        server::db::Backend::Postgres => {
            "SELECT COALESCE(CAST(EXTRACT(EPOCH FROM MAX(expiry_date)) AS BIGINT), 0) FROM sessions"
        }
    };
    let latest: i64 = sqlx::query_scalar(latest).fetch_one(app.pool()).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.pool()).await.unwrap();
    (latest, count)
}

/// Anyone can start a sign-in without a cookie, and each start stores a
/// session: those last 15 minutes, not a week, and expired ones are deleted.
async fn sign_in_attempts_leave_short_lived_sessions_that_are_deleted(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(browser().get(app.url("/auth/github")).send().await.unwrap().status(), 303);
    }
    let (latest, count) = sessions(&app).await;
    assert_eq!(count, 5);
    assert!(
        latest <= server::clock::now() + 15 * 60 + 5,
        "a sign-in attempt's session lasts {} s",
        latest - server::clock::now()
    );

    let signed_in = browser();
    sign_in(&app, &signed_in, "sandbox-creator", "/admin").await;
    let (latest, _) = sessions(&app).await;
    assert!(latest > server::clock::now() + 6 * 86_400, "a signed-in session lasts a week");

    let past = match app.state.db.backend() {
        server::db::Backend::Sqlite => "UPDATE sessions SET expiry_date = '2000-01-01 00:00:00'",
        server::db::Backend::Postgres => "UPDATE sessions SET expiry_date = to_timestamp(0)",
    };
    sqlx::query(past).execute(app.pool()).await.unwrap();
    let store = repopass::sessions::store(&app.state.config, &app.state.db).await.unwrap();
    store.delete_expired().await.unwrap();
    assert_eq!(sessions(&app).await.1, 0, "expired sessions are deleted");
}

async fn sign_out_ends_the_session(app: TestApp) {
    let browser = browser();
    sign_in(&app, &browser, "sandbox-creator", "/admin").await;
    assert_eq!(viewer(&app, &browser).await["login"], "sandbox-creator");
    let out = browser.post(app.url("/auth/logout")).send().await.unwrap();
    assert!(out.status().is_redirection());
    assert!(viewer(&app, &browser).await.is_null());
}

async fn listed_admins_only(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("REPOPASS_ADMINS", "alice,bob")]).await else { return };
    let creator = browser();
    sign_in(&app, &creator, "sandbox-creator", "/admin").await;
    assert_eq!(viewer(&app, &creator).await["is_admin"], false, "an unlisted first sign-in must not become the owner");
    let alice = browser();
    sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(viewer(&app, &alice).await["is_admin"], true);
    let bob = browser();
    sign_in(&app, &bob, "bob", "/admin").await;
    assert_eq!(viewer(&app, &bob).await["is_admin"], true);
    let roles: Vec<(String, String)> =
        sqlx::query_as("SELECT github_login, role FROM admins ORDER BY id").fetch_all(app.pool()).await.unwrap();
    assert_eq!(roles, [("alice".to_owned(), "owner".to_owned()), ("bob".to_owned(), "admin".to_owned())]);
}

#[tokio::test]
async fn listed_admins_only_sqlite() {
    crate::helpers::guarded(
        concat!(module_path!(), "::listed_admins_only_sqlite"),
        listed_admins_only(Backend::Sqlite),
    )
    .await;
}

#[tokio::test]
async fn listed_admins_only_postgres() {
    crate::helpers::guarded(
        concat!(module_path!(), "::listed_admins_only_postgres"),
        listed_admins_only(Backend::Postgres),
    )
    .await;
}

/// A listed login is pinned to the GitHub account that first signed in with
/// it: whoever takes the login after a rename is not an admin. Taking a login
/// off the list ends that admin's session at its next request.
async fn admins_are_pinned_and_rechecked(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("REPOPASS_ADMINS", "alice,bob")]).await else { return };
    let alice = browser();
    sign_in(&app, &alice, "alice", "/admin").await;
    assert_eq!(viewer(&app, &alice).await["is_admin"], true);
    let (pinned_id,): (i64,) = sqlx::query_as("SELECT github_user_id FROM admins WHERE github_login = 'alice'")
        .fetch_one(app.pool())
        .await
        .unwrap();

    // alice gives up her login; someone else registers it.
    app.control("/github/users/alice/rename", serde_json::json!({"login": "alice-moved"})).await;
    let impostor_id = app.control("/github/users", serde_json::json!({"login": "alice"})).await["id"].as_i64().unwrap();
    assert_ne!(impostor_id, pinned_id);
    let impostor = browser();
    assert_eq!(sign_in(&app, &impostor, "alice", "/admin").await.status(), 303);
    assert_eq!(viewer(&app, &impostor).await["is_admin"], false, "the new holder of a pinned login became an admin");
    assert_eq!(impostor.post(app.url("/api/admin/settings/status")).send().await.unwrap().status(), 403);
    let admins: Vec<(i64, String)> =
        sqlx::query_as("SELECT github_user_id, github_login FROM admins").fetch_all(app.pool()).await.unwrap();
    assert_eq!(admins, [(pinned_id, "alice".to_owned())], "the pin must not move");

    // alice's own session goes on while her login is listed...
    assert_eq!(alice.post(app.url("/api/admin/settings/status")).send().await.unwrap().status(), 200);
    // ...and ends once a restart drops her from the list.
    let restarted = spawn_app_beside(&app, &[("REPOPASS_ADMINS", "bob")]).await;
    let sessions_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.pool()).await.unwrap();
    let refused = alice.post(restarted.url("/api/admin/settings/status")).send().await.unwrap();
    assert_eq!(refused.status(), 401, "a removed admin must be signed out");
    assert!(viewer(&restarted, &alice).await.is_null());
    let sessions_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.pool()).await.unwrap();
    assert_eq!(sessions_after, sessions_before - 1, "the removed admin's session is deleted");
    let page = alice.get(restarted.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign in with GitHub"), "the admin panel still open to a removed admin");
}

#[tokio::test]
async fn admins_are_pinned_and_rechecked_sqlite() {
    crate::helpers::guarded(
        concat!(module_path!(), "::admins_are_pinned_and_rechecked_sqlite"),
        admins_are_pinned_and_rechecked(Backend::Sqlite),
    )
    .await;
}

#[tokio::test]
async fn admins_are_pinned_and_rechecked_postgres() {
    crate::helpers::guarded(
        concat!(module_path!(), "::admins_are_pinned_and_rechecked_postgres"),
        admins_are_pinned_and_rechecked(Backend::Postgres),
    )
    .await;
}
