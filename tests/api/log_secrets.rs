//! No secret or token in any log line: the `repopass` binary runs a whole
//! journey (creator sign-in, an API key, a repository on sale, a purchase
//! paid and granted through webhooks, a customer's email sign-in link, a
//! refund) with our crates logging at debug level, and every line it wrote
//! is searched for every secret that passed through it.

use std::{
    io::{BufRead, BufReader, Read},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::helpers::{serve_command, Backend, TestDatabase};

#[tokio::test]
async fn no_secret_in_the_logs_sqlite() {
    crate::helpers::guarded(concat!(module_path!(), "::no_secret_in_the_logs_sqlite"), journey(Backend::Sqlite)).await;
}

#[tokio::test]
async fn no_secret_in_the_logs_postgres() {
    crate::helpers::guarded(concat!(module_path!(), "::no_secret_in_the_logs_postgres"), journey(Backend::Postgres))
        .await;
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Session ids the server handed out, as they appear in Set-Cookie.
fn cookies(r: &reqwest::Response, into: &mut Vec<String>) {
    for c in r.headers().get_all("set-cookie") {
        if let Some(value) =
            c.to_str().unwrap().split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned())
        {
            if value.len() >= 16 {
                into.push(value);
            }
        }
    }
}

async fn journey(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else { return };
    let mut child = serve_command(&db, "info,repopass=debug,server=debug,app=debug,sandbox=debug").spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Lines up to "listening" (debug lines may come first), kept for the scan.
    let mut first = String::new();
    let started: Value = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the server stopped: {first}");
        first.push_str(&line);
        let log: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if log["message"] == "RepoPass is listening" {
            break log;
        }
    };
    let base = format!("http://127.0.0.1:{}", started["port"]);
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let mut secrets: Vec<String> = [
        sandbox::credentials::STRIPE_SECRET_KEY,
        sandbox::credentials::STRIPE_WEBHOOK_SECRET,
        sandbox::credentials::GITHUB_TOKEN,
        sandbox::credentials::GITHUB_CLIENT_SECRET,
        sandbox::credentials::GITHUB_WEBHOOK_SECRET,
    ]
    .map(str::to_owned)
    .to_vec();
    let browser = crate::admin_auth::browser;
    let url = |p: &str| format!("{base}{p}");

    // The creator signs in through the sandbox's OAuth page.
    let admin = browser();
    let start = admin.get(url("/auth/github?next=/admin")).send().await.unwrap();
    cookies(&start, &mut secrets);
    let authorize = url::Url::parse(&location(&start)).unwrap();
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    secrets.extend(form.iter().filter(|(k, _)| k == "state").map(|(_, v)| v.clone()));
    form.push(("login".into(), "sandbox-creator".into()));
    let picked = admin.post(authorize.as_str()).form(&form).send().await.unwrap();
    let callback = url::Url::parse(&location(&picked)).unwrap();
    secrets.extend(callback.query_pairs().filter(|(k, _)| k == "code").map(|(_, v)| v.into_owned()));
    let signed_in = admin.get(callback.as_str()).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    cookies(&signed_in, &mut secrets);

    // An API key, shown once, used for the REST API.
    let created: Value = admin
        .post(url("/api/admin/api-keys/create"))
        .form(&[("name", "logs")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["secret"].as_str().expect("the new key").to_owned();
    secrets.push(key.clone());
    let post = |path: String, body: Value| {
        let request = admin.post(url(&path)).bearer_auth(&key).json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let repo = post(
        "/api/v1/repositories".into(),
        json!({"owner": "sandbox-org", "name": "enterprise-sdk", "slug": "sdk", "title": "SDK", "published": true}),
    )
    .await;
    let price = post(
        format!("/api/v1/repositories/{}/prices", repo["id"]),
        json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"}),
    )
    .await;

    // A buyer pays; the webhooks grant.
    let buyer = browser();
    let checkout = buyer
        .post(url("/api/checkout"))
        .header("accept", "text/html")
        .form(&[
            ("price_id", price["id"].to_string().as_str()),
            ("github_username", "bob"),
            ("email", "bob@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(checkout.status(), 303);
    let session = location(&checkout).rsplit('/').next().unwrap().to_owned();
    buyer.post(url(&format!("/sandbox/control/stripe/checkout/{session}/pay"))).json(&json!({})).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let progress: Value = buyer
            .post(url("/api/buy/progress"))
            .form(&[("session_id", session.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if progress["status"] == "invited" {
            break;
        }
        assert!(Instant::now() < deadline, "not granted: {progress}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The customer signs in with an email link.
    buyer.post(url("/api/account/email-link")).form(&[("email", "bob@example.com")]).send().await.unwrap();
    let token = loop {
        let html = buyer.get(url("/sandbox/mailbox?to=bob@example.com")).send().await.unwrap().text().await.unwrap();
        if let Some(start) = html.find("/account/sign-in/email?token=") {
            break html[start..]
                .chars()
                .skip("/account/sign-in/email?token=".len())
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>();
        }
        assert!(Instant::now() < deadline, "no sign-in link in the mailbox");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    secrets.push(token.clone());
    buyer.get(url(&format!("/account/sign-in/email?token={token}"))).send().await.unwrap();
    let used = buyer.post(url("/account/sign-in/email")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(used.status(), 303);
    cookies(&used, &mut secrets);

    // The creator refunds it.
    let refunded =
        admin.post(url("/api/admin/purchases/refund")).form(&[("id", "1"), ("amount", "")]).send().await.unwrap();
    assert_eq!(refunded.status(), 200, "{}", refunded.text().await.unwrap());
    tokio::time::sleep(Duration::from_secs(2)).await;

    let _ = child.kill();
    let _ = child.wait();
    let logs = format!("{first}{}{}", out.join().unwrap(), err.join().unwrap());
    for expected in ["RepoPass is listening", "webhook stored", "email recorded"] {
        assert!(logs.contains(expected), "the run did not log {expected:?}: the scan would prove nothing");
    }
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() >= 11, "{secrets:?}");
    for secret in &secrets {
        if let Some(line) = logs.lines().find(|l| l.contains(secret.as_str())) {
            panic!("a secret ({}…) is in the log:\n{line}", &secret[..4.min(secret.len())]);
        }
    }
}
