//! Going to production with the real binary. A RepoPass pointed at another
//! RepoPass's sandbox as if it were GitHub and Stripe (base URLs only, as a
//! deployment is pointed at the real ones) waits for its one-time setup
//! link; the holder creates the GitHub App from its manifest, installs it on
//! a repository, signs in as the owner and pastes a Stripe key. Then
//! `repopass doctor` names each fault it knows of, `rotate-key` re-seals
//! the saved settings, and SIGTERM stops the server cleanly.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use crate::helpers::{guarded, repopass_command, serve_command, spawn_app, Backend, Served, TestApp, TestDatabase};

#[tokio::test]
async fn going_to_production_sqlite() {
    guarded(concat!(module_path!(), "::sqlite"), going_to_production(Backend::Sqlite)).await;
}

#[tokio::test]
async fn going_to_production_postgres() {
    guarded(concat!(module_path!(), "::postgres"), going_to_production(Backend::Postgres)).await;
}

/// A browser: keeps cookies, follows no redirects, says where a request
/// comes from as browsers do (`site`: same-origin, same-site…).
fn browser(site: &'static str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert("sec-fetch-site", HeaderValue::from_static(site));
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The base URLs that make the sandbox of `services` this deployment's GitHub and Stripe.
fn services_vars(services: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_API_BASE", services.url("/sandbox/stripe/")),
        ("GITHUB_API_URL", services.url("/sandbox/github/api")),
        ("GITHUB_WEB_URL", services.url("/sandbox/github")),
    ]
}

/// `repopass doctor` on the production deployment; its report. Awaited
/// (not blocking): the services it checks answer from this test's runtime.
async fn doctor(db: &TestDatabase, p: &Served, services: &TestApp, extra: &[(&str, &str)]) -> String {
    let data_dir = db.dir.path().display().to_string();
    let mut vars: Vec<(&str, String)> = services_vars(services);
    vars.push(("PUBLIC_URL", p.base.clone()));
    vars.push(("REPOPASS_DATA_DIR", data_dir));
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut command = repopass_command(&db.url, &["doctor"], &vars);
    command.current_dir(db.dir.path());
    let out = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// The report's line for `area` (and the fix under it).
fn line(report: &str, area: &str) -> String {
    let lines: Vec<&str> = report.lines().collect();
    // `{verdict:<8} {area:<15} {what}`
    let at = lines
        .iter()
        .position(|l| l.get(9..24).map(str::trim) == Some(area))
        .unwrap_or_else(|| panic!("no line for {area} in:\n{report}"));
    let fix = lines.get(at + 1).filter(|l| l.trim_start().starts_with('→')).copied().unwrap_or("");
    format!("{}\n{fix}", lines[at])
}

async fn status(p: &Served, who: &reqwest::Client) -> Value {
    who.post(p.url("/api/setup/status")).send().await.unwrap().json().await.unwrap()
}

/// Waits until the setup status satisfies `done` (the server restarts
/// itself after each step that saves settings).
async fn until(p: &Served, who: &reqwest::Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        if let Ok(r) = who.post(p.url("/api/setup/status")).send().await {
            if let Ok(v) = r.json::<Value>().await {
                if done(&v) {
                    return v;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen; log:\n{}", p.log_text());
}

async fn going_to_production(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        return eprintln!("skipped: set TEST_DATABASE_URL to run the PostgreSQL variant");
    };
    // Another RepoPass in zero-config mode serves the "real" GitHub and Stripe.
    let services = spawn_app(Backend::Sqlite).await.unwrap();
    let mut command = serve_command(&db, "warn,repopass=info,server=info");
    for (k, v) in services_vars(&services) {
        command.env(k, v);
    }
    let p = Served::start(&mut command);
    let log = p.log_text();
    let link = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .find_map(|m| m.split_whitespace().find(|w| w.contains("/setup?token=")).map(str::to_owned))
        .unwrap_or_else(|| panic!("no setup link in the log:\n{log}"));
    assert!(link.starts_with(&p.url("/setup?token=")), "{link}");

    // Before the link: only /healthz, and a page that says what to do.
    let stranger = browser("none");
    let home = stranger.get(p.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 503);
    assert!(home.text().await.unwrap().contains("being set up"));
    assert_eq!(stranger.get(p.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(stranger.get(p.url("/admin/settings")).send().await.unwrap().status(), 503);
    assert_eq!(stranger.get(p.url("/auth/github?next=/admin")).send().await.unwrap().status(), 503);
    assert_eq!(status(&p, &stranger).await["holder"], false);
    assert_eq!(stranger.get(p.url("/setup?token=0000")).send().await.unwrap().status(), 403);
    let page = stranger.get(p.url("/setup")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("setup-locked") && !page.contains("create-app"), "{page}");

    // The link, once: it becomes a mark in this browser's session.
    let holder = browser("same-origin");
    let opened = holder.get(&link).send().await.unwrap();
    assert_eq!((opened.status().as_u16(), location(&opened)), (303, "/setup".to_owned()));
    assert_eq!(browser("none").get(&link).send().await.unwrap().status(), 403, "a second use of the link");
    let s = status(&p, &holder).await;
    assert_eq!(
        (s["holder"].clone(), s["github"].clone(), s["owner"].clone()),
        (json!(true), json!(false), json!(false))
    );
    let manifest: Value = serde_json::from_str(s["manifest"].as_str().unwrap()).unwrap();
    assert_eq!(manifest["hook_attributes"]["url"], p.url("/api/webhooks/github"));
    assert_eq!(manifest["default_permissions"], json!({ "administration": "write", "metadata": "read" }));

    // GitHub in one click: the manifest goes to GitHub's "new App" page
    // (cross-site, from RepoPass's page), GitHub comes back with a code.
    let github = browser("same-site");
    let new_app = github
        .post(format!(
            "{}/settings/apps/new?state={}",
            s["github_web_url"].as_str().unwrap(),
            s["manifest_state"].as_str().unwrap()
        ))
        .form(&[("manifest", s["manifest"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(new_app.status(), 200);
    assert!(new_app.text().await.unwrap().contains(&p.url("/api/webhooks/github")));
    // Or for an organisation the creator names (one that exists).
    let for_org = |org: &str| {
        github
            .post(format!("{}/organizations/{org}/settings/apps/new?state=x", s["github_web_url"].as_str().unwrap()))
            .form(&[("manifest", s["manifest"].as_str().unwrap())])
            .send()
    };
    let org_page = for_org("sandbox-org").await.unwrap();
    assert_eq!(org_page.status(), 200);
    let org_page = org_page.text().await.unwrap();
    assert!(
        org_page.contains(r#"value="sandbox-org""#) && !org_page.contains(r#"value="sandbox-creator""#),
        "the organisation owns it"
    );
    assert_eq!(for_org("no-such-org").await.unwrap().status(), 404);
    let created = browser("same-origin")
        .post(services.url("/sandbox/github/settings/apps/new/confirm"))
        .form(&[
            ("manifest", s["manifest"].as_str().unwrap()),
            ("state", s["manifest_state"].as_str().unwrap()),
            ("name", "RepoPass Shop Test"),
            ("owner", "sandbox-creator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303, "{}", created.text().await.unwrap());
    let back = location(&created);
    assert!(back.starts_with(&p.url("/setup/github/created?code=")), "{back}");
    let converted = holder.get(&back).send().await.unwrap();
    assert_eq!((converted.status().as_u16(), location(&converted)), (303, "/setup".to_owned()));
    let s = until(&p, &holder, "the App's credentials in use", |s| s["github"] == true).await;
    let install = s["install_url"].as_str().unwrap().to_owned();
    assert_eq!(install, services.url("/sandbox/github/apps/repopass-shop-test/installations/new"));
    assert_eq!(s["repositories"], json!([]), "installed nowhere yet");

    // Install it on one repository; GitHub sends the creator back to setup.
    // The installation page posts to itself.
    let on_github = browser("same-origin");
    let installed = on_github
        .post(&install)
        .form(&[("account", "sandbox-creator"), ("selection", "selected"), ("repositories", "sandbox-creator/pro-kit")])
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 303);
    assert!(location(&installed).starts_with(&p.url("/setup?installation_id=")), "{}", location(&installed));
    assert_eq!(status(&p, &holder).await["repositories"], json!(["sandbox-creator/pro-kit"]));

    // Sign in as the owner, through the App (GitHub Apps do user sign-in).
    let start = holder.get(p.url("/auth/github?next=/setup")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = url::Url::parse(&location(&start)).unwrap();
    assert!(authorize.as_str().starts_with(&services.url("/sandbox/github/login/oauth/authorize")));
    assert!(authorize.query_pairs().any(|(k, v)| k == "client_id" && v.starts_with("Iv23li")), "the App's client");
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    form.push(("login".into(), "sandbox-creator".into()));
    let picked = browser("same-origin").post(authorize.as_str()).form(&form).send().await.unwrap();
    assert_eq!(picked.status(), 303);
    let callback = holder.get(location(&picked)).send().await.unwrap();
    assert_eq!((callback.status().as_u16(), location(&callback)), (303, "/setup".to_owned()));
    let s = status(&p, &holder).await;
    assert_eq!((s["owner"].clone(), s["signed_in_as"].clone()), (json!(true), json!("sandbox-creator")));

    // Stripe in one paste: wrong keys are named as such.
    let paste = |key: &str| {
        let (holder, url, key) = (holder.clone(), p.url("/api/setup/stripe"), key.to_owned());
        async move {
            let r = holder.post(url).form(&[("key", key.as_str())]).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (code, body) = paste("pk_test_123456789012").await;
    assert_eq!(code, 400);
    assert!(body.to_string().contains("publishable key"), "{body}");
    let mut most: Vec<&str> = server::stripe::connect::NEEDED.iter().map(|n| n.slug).collect();
    most.retain(|p| *p != "rak_plan_write");
    let restricted =
        services.control("/stripe/restricted_keys", json!({ "name": "no prices", "permissions": most })).await;
    let (code, body) = paste(restricted["id"].as_str().unwrap()).await;
    assert_eq!(code, 400);
    assert!(body.to_string().contains("Prices: Write"), "{body}");
    let (code, body) = paste(sandbox::STRIPE_SECRET_KEY).await;
    assert_eq!(code, 200, "{body}");
    assert!(body["account"].as_str().unwrap().contains("acct_"), "{body}");

    // Setup is finished: the gate is down, and Stripe has the endpoint.
    let mut open = false;
    for _ in 0..200 {
        if stranger.get(p.url("/")).send().await.is_ok_and(|r| r.status() == 200) {
            open = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(open, "the storefront did not open after setup:\n{}", p.log_text());
    let stripe_api = |path: &str| {
        services.client.get(services.url(&format!("/sandbox/stripe/v1{path}"))).bearer_auth(sandbox::STRIPE_SECRET_KEY)
    };
    let endpoints: Value = stripe_api("/webhook_endpoints").send().await.unwrap().json().await.unwrap();
    let ours: Vec<&Value> =
        endpoints["data"].as_array().unwrap().iter().filter(|e| e["url"] == p.url("/api/webhooks/stripe")).collect();
    assert_eq!(ours.len(), 1, "{endpoints}");
    assert_eq!(ours[0]["enabled_events"].as_array().unwrap().len(), server::lifecycle::STRIPE_EVENTS.len());
    assert!(ours[0].get("secret").is_none(), "the secret is shown at creation only");
    let endpoint_id = ours[0]["id"].as_str().unwrap().to_owned();

    // Saved sealed: no secret in the clear, the key file private.
    let database = server::Db::connect(&secrecy::SecretString::from(db.url.clone())).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sealed FROM stored_settings").fetch_all(database.pool()).await.unwrap();
    database.close().await;
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "GITHUB_APP_ID",
        "GITHUB_APP_PRIVATE_KEY",
        "GITHUB_CLIENT_SECRET",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
    ] {
        assert!(names.contains(&name), "{name} not saved: {names:?}");
    }
    let clear = [sandbox::STRIPE_SECRET_KEY, "PRIVATE KEY", "whsec_"];
    assert!(rows
        .iter()
        .all(|(_, sealed)| clear.iter().all(|c| !sealed.contains(c) && !sealed.contains(&hex::encode(c)))));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.dir.path().join("secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The doctor: all well, then each fault it names.
    let report = doctor(&db, &p, &services, &[]).await;
    for area in ["stripe", "stripe webhook", "github", "database"] {
        assert!(line(&report, area).starts_with("ok"), "{area}:\n{report}");
    }
    let admin_key = {
        let out = repopass_command(&db.url, &["api-key", "create", "--name", "setup-test"], &[]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let listed = reqwest::Client::new()
        .post(p.url("/api/v1/repositories"))
        .bearer_auth(&admin_key)
        .json(&json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "pro-kit", "title": "Pro Kit", "description": "The kit", "published": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 201, "{}", listed.text().await.unwrap());
    assert!(line(&doctor(&db, &p, &services, &[]).await, "github").starts_with("ok"));
    // The creator takes pro-kit out of the App's installation on GitHub.
    let changed = on_github
        .post(&install)
        .form(&[
            ("account", "sandbox-creator"),
            ("selection", "selected"),
            ("repositories", "sandbox-creator/course-materials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 303);
    let github_line = line(&doctor(&db, &p, &services, &[]).await, "github");
    assert!(
        github_line.starts_with("PROBLEM") && github_line.contains("pro-kit: the GitHub App is not installed on it"),
        "{github_line}"
    );
    assert!(github_line.contains(&install), "the fix links the installation page: {github_line}");

    // Someone deletes the webhook endpoint in Stripe: named, and repaired.
    let deleted = services
        .client
        .delete(services.url(&format!("/sandbox/stripe/v1/webhook_endpoints/{endpoint_id}")))
        .bearer_auth(sandbox::STRIPE_SECRET_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let webhook_line = line(&doctor(&db, &p, &services, &[]).await, "stripe webhook");
    assert!(webhook_line.starts_with("PROBLEM") && webhook_line.contains("gone from Stripe"), "{webhook_line}");
    assert!(webhook_line.contains("Repair the webhook endpoint"), "{webhook_line}");
    let repaired = holder.post(p.url("/api/admin/settings/stripe/repair")).send().await.unwrap();
    assert_eq!(repaired.status(), 200, "{}", repaired.text().await.unwrap());
    assert!(line(&doctor(&db, &p, &services, &[]).await, "stripe webhook").starts_with("ok"));

    // A restricted key without a permission RepoPass needs (the environment wins).
    let stripe_line =
        line(&doctor(&db, &p, &services, &[("STRIPE_SECRET_KEY", restricted["id"].as_str().unwrap())]).await, "stripe");
    assert!(stripe_line.starts_with("PROBLEM") && stripe_line.contains("lacks Prices: Write"), "{stripe_line}");
    assert!(stripe_line.contains("apikeys/create?name=RepoPass"), "{stripe_line}");

    // Rotating the key: the saved settings still open, with the new key only.
    let old_key = std::fs::read_to_string(db.dir.path().join("secret.key")).unwrap();
    let data_dir = db.dir.path().display().to_string();
    let rotated = repopass_command(&db.url, &["rotate-key"], &[("REPOPASS_DATA_DIR", &data_dir)]).output().unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("re-sealed"));
    assert_ne!(std::fs::read_to_string(db.dir.path().join("secret.key")).unwrap(), old_key);
    assert!(line(&doctor(&db, &p, &services, &[]).await, "stripe webhook").starts_with("ok"));
    let wrong = "ab".repeat(32);
    let configuration = line(&doctor(&db, &p, &services, &[("REPOPASS_SECRET_KEY", &wrong)]).await, "configuration");
    assert!(configuration.starts_with("PROBLEM") && configuration.contains("sealed with key"), "{configuration}");

    // SIGTERM: the server stops accepting, finishes, and exits cleanly.
    let mut p = p;
    let pid = p.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..400 {
        if let Some(code) = p.child.try_wait().unwrap() {
            exited = Some(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let code = exited.unwrap_or_else(|| panic!("still running 40 s after SIGTERM:\n{}", p.log_text()));
    assert!(code.success(), "exit {code:?}:\n{}", p.log_text());
    assert!(p.log_text().contains("shutting down"));
}
