//! A team purchase of N seats (default 50) handed out: the GitHub calls it
//! takes and how long it takes, through a GitHub team (an organisation's
//! repositories) and as collaborators (a personal repository), against
//! the sandbox's GitHub with GitHub's limits (50 invitations a day per
//! repository, 50 organisation invitations a day).
//!
//!     cargo bench --bench team_grant
//!
//! Environment: `BENCH_SEATS` (default 50; above 50 shows the daily
//! limits queueing the rest), `BENCH_DATABASE_URL` (default: a SQLite file
//! in a temporary directory; `postgres://…` for PostgreSQL).
//!
//! Everything is real: the server, its database, async-stripe and
//! octocrab over HTTP to the sandbox. The company buys on the buy form and
//! pays on the sandbox's checkout; its manager signs in through the
//! sandbox's GitHub OAuth and gives the seats one after another at
//! `/api/account/team/give`, as from `/account`. The reference, measured in
//! the same run: the bare GitHub calls a grant cannot do without (one
//! invitation per holder, made directly with octocrab to a third repository).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{ms, percentile};

mod support;

struct Way {
    name: &'static str,
    calls: i64,
    by_route: Value,
    elapsed: Duration,
    gives: Vec<Duration>,
    invited: i64,
    queued: i64,
}

async fn control(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let r = http.post(format!("{base}/sandbox/control{path}")).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

fn location(r: &reqwest::Response) -> String {
    match r.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => panic!("{} answered {} where a redirect was expected", r.url(), r.status()),
    }
}

/// A browser signed in at `/account` as `login`, through the sandbox's GitHub OAuth.
async fn signed_in(base: &str, login: &str) -> reqwest::Client {
    // As a browser on our pages says (a request with a session cookie and
    // no word of where it comes from is refused as a possible forgery).
    let mut from_our_pages = reqwest::header::HeaderMap::new();
    from_our_pages.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
    let who = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(from_our_pages)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = who.get(format!("{base}/account/sign-in/github")).send().await.unwrap();
    let authorize = url::Url::parse(&location(&start)).unwrap();
    let mut form: Vec<(String, String)> =
        authorize.query_pairs().into_owned().filter(|(k, _)| k != "response_type").collect();
    form.push(("login".into(), login.into()));
    let picked = who.post(authorize.as_str()).form(&form).send().await.unwrap();
    let back = who.get(location(&picked)).send().await.unwrap();
    assert_eq!(location(&back), "/account", "signed in as {login}");
    who
}

/// One way of granting: a product on `repository` sold per seat (team
/// access on or not), bought with `seats` seats by `manager`, every seat
/// given to a fresh account.
async fn hand_out(
    bench: &support::Bench,
    http: &reqwest::Client,
    key: &str,
    name: &'static str,
    (owner, repo): (&str, &str),
    team: bool,
    seats: usize,
) -> Way {
    let base = bench.base.as_str();
    let slug = format!("{name}-seats");
    let product: Value = http
        .post(format!("{base}/api/v1/repositories"))
        .bearer_auth(key)
        .json(&json!({"owner": owner, "name": repo, "slug": slug, "title": slug, "published": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = product["id"].as_i64().expect("product created");
    let price: Value = http
        .post(format!("{base}/api/v1/repositories/{id}/prices"))
        .bearer_auth(key)
        .json(&json!({"interval": "month", "unit_amount": 900, "currency": "usd", "seats_min": 1, "seats_max": 999}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if team {
        let r = http
            .patch(format!("{base}/api/v1/products/{id}"))
            .bearer_auth(key)
            .json(&json!({"team_access": true}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "team access: {}", r.text().await.unwrap());
    }
    let manager = format!("{name}-manager");
    control(http, base, "/github/users", json!({"login": manager})).await;
    let r = http
        .post(format!("{base}/api/checkout"))
        .header("accept", "text/html")
        .form(&[
            ("price_id", price["id"].to_string().as_str()),
            ("github_username", &manager),
            ("email", "manager@example.com"),
            ("seats", &seats.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let session = location(&r).rsplit('/').next().unwrap().to_owned();
    control(http, base, &format!("/stripe/checkout/{session}/pay"), json!({})).await;
    let company: (i64, String) = loop {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, public_id, status FROM purchases WHERE stripe_checkout_session_id = $1")
                .bind(&session)
                .fetch_optional(bench.state.db.pool())
                .await
                .unwrap();
        match row {
            Some((id, public, status)) if status == "active" => break (id, public),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let browser = signed_in(base, &manager).await;
    let holders: Vec<String> = (0..seats).map(|i| format!("{name}-dev-{i:03}")).collect();
    for login in &holders {
        control(http, base, "/github/users", json!({"login": login})).await;
    }

    control(http, base, "/github/calls/reset", json!({})).await;
    let started = Instant::now();
    let mut gives = Vec::with_capacity(seats);
    for login in &holders {
        let t = Instant::now();
        let r = browser
            .post(format!("{base}/api/account/team/give"))
            .form(&[("id", company.1.as_str()), ("github_username", login)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "give {login}: {}", r.text().await.unwrap());
        gives.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    let counted = http.get(format!("{base}/sandbox/control/github/calls")).send().await.unwrap();
    let counted: Value = counted.json().await.unwrap();
    let count = |status: &str| {
        let sql = format!("SELECT COUNT(*) FROM purchases WHERE seat_of = $1 AND status IN ({status})");
        let pool = bench.state.db.pool().clone();
        async move { sqlx::query_scalar::<_, i64>(&sql).bind(company.0).fetch_one(&pool).await.unwrap() }
    };
    gives.sort();
    Way {
        name,
        calls: counted["total"].as_i64().unwrap_or(0),
        by_route: counted["by_route"].clone(),
        elapsed,
        gives,
        invited: count("'invited', 'active'").await,
        queued: count("'paid'").await,
    }
}

#[tokio::main]
async fn main() {
    let seats: usize = std::env::var("BENCH_SEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let bench = support::start(&[]).await;
    let base = bench.base.clone();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let key = server::api_keys::create(&bench.state.db, "bench", None).await.unwrap();
    let key = secrecy::ExposeSecret::expose_secret(&key.secret).to_owned();
    eprintln!("{seats} seats on {}…", bench.backend);

    // The reference: one bare invitation per holder, straight to GitHub.
    let token = match &bench.state.config.github.auth {
        Some(server::config::GithubAuth::Token(t)) => secrecy::ExposeSecret::expose_secret(t).to_owned(),
        _ => panic!("zero-config mode uses a token"),
    };
    let octo = octocrab::Octocrab::builder()
        .base_uri(bench.state.config.github.api_url.as_str())
        .unwrap()
        .personal_token(token)
        .build()
        .unwrap();
    let logins: Vec<String> = (0..seats).map(|i| format!("ref-dev-{i:03}")).collect();
    for login in &logins {
        control(&http, &base, "/github/users", json!({"login": login})).await;
    }
    let started = Instant::now();
    let mut bare = Vec::with_capacity(seats);
    for login in &logins {
        let t = Instant::now();
        let route = format!("/repos/sandbox-creator/course-materials/collaborators/{login}");
        // 201, or 422 once GitHub's 50 a day are used: a call made either way.
        let _: Result<Value, _> = octo.put(route, Some(&json!({"permission": "pull"}))).await;
        bare.push(t.elapsed());
    }
    let bare_total = started.elapsed();
    bare.sort();

    let team = hand_out(&bench, &http, &key, "team", ("sandbox-org", "enterprise-sdk"), true, seats).await;
    let personal = hand_out(&bench, &http, &key, "personal", ("sandbox-creator", "pro-kit"), false, seats).await;

    println!("team grant — {seats} seats given one after another by the manager at /account ({})", bench.backend);
    println!(
        "reference: {seats} bare invitation calls to the sandbox's GitHub: {} in all, p50 {} p95 {}",
        ms(bare_total),
        ms(percentile(&bare, 0.50)),
        ms(percentile(&bare, 0.95))
    );
    for way in [&team, &personal] {
        println!(
            "{:>8}: {} GitHub calls ({:.1} a seat); all {seats} given in {} ({:.1}× the reference); a seat p50 {} p95 {} max {}; invited {}, queued behind GitHub's daily limit {}",
            way.name,
            way.calls,
            way.calls as f64 / seats as f64,
            ms(way.elapsed),
            way.elapsed.as_secs_f64() / bare_total.as_secs_f64(),
            ms(percentile(&way.gives, 0.50)),
            ms(percentile(&way.gives, 0.95)),
            ms(*way.gives.last().unwrap()),
            way.invited,
            way.queued,
        );
        println!("          by route: {}", way.by_route);
    }
}
