//! The web-facing protections as a browser or an attacker meets them:
//! headers on every response, cross-site requests refused before they
//! change anything, bodies over the limit refused, per-IP rate limits.

use serde_json::json;

use crate::{
    admin_auth::{browser, sign_in},
    authorization::snapshot,
    checkout::{buy_js, on_sale},
    helpers::TestApp,
    scenarios,
};

scenarios!(
    pages_carry_a_nonce_policy_and_the_security_headers,
    cross_site_requests_change_nothing,
    bodies_over_the_limit_are_refused
);

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn pages_carry_a_nonce_policy_and_the_security_headers(app: TestApp) {
    on_sale(&app).await;
    let mut nonces = Vec::new();
    for path in ["/p/enterprise-sdk", "/", "/no-such-page", "/p/enterprise-sdk"] {
        let response = app.get(path).await;
        let policy = header(&response, "content-security-policy");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&response, "referrer-policy"), "same-origin", "{path}");
        assert_eq!(header(&response, "strict-transport-security"), "", "no HSTS over plain http ({path})");
        let html = response.text().await.unwrap();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"));
        assert!(!policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"), "{path}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"), "{path}: {policy}");
        // Every inline script the page has is allowed by this nonce; nothing else would run.
        let scripts = html.matches("<script").count();
        assert!(scripts >= 1, "{path}: the hydration script is missing");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{path}: a script without the nonce");
        nonces.push(nonce.to_owned());
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a new nonce for every response");

    // Not pages: nothing may run at all.
    for path in ["/healthz", "/api/v1/openapi.json"] {
        let response = app.get(path).await;
        assert_eq!(header(&response, "content-security-policy"), app::csp::NOTHING_POLICY, "{path}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
    }
}

async fn cross_site_requests_change_nothing(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    // The same cookies, with and without the browser's word on where a request comes from.
    let (admin, forger) = crate::admin_auth::browser_pair();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let keys =
        || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_keys").fetch_one(app.pool()).await.unwrap() };
    let before = snapshot(&app).await;
    let keys_before = keys().await;

    // The signed-in creator's browser, sent by another site's page.
    let forged = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (name, value) in forged {
        let admin = &forger;
        let response = admin
            .post(app.url("/api/admin/api-keys/create"))
            .header(name, value)
            .form(&[("name", "stolen")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{name}: {value}");
        let body = response.text().await.unwrap();
        assert!(body.contains("another site"), "the refusal says why: {body}");
        let response = admin
            .post(app.url("/api/checkout"))
            .header(name, value)
            .form(&[
                ("price_id", price_id.to_string().as_str()),
                ("github_username", "mallory"),
                ("email", "m@example.com"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "checkout from {name}: {value}");
        let form = reqwest::multipart::Form::new()
            .part("cover", reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n".to_vec()).file_name("x.png"));
        let response = admin
            .post(app.url("/admin/repositories/1/cover"))
            .header(name, value)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "cover upload from {name}: {value}");
        let response = admin.post(app.url("/auth/logout")).header(name, value).send().await.unwrap();
        assert_eq!(response.status(), 403, "sign-out from {name}: {value}");
    }
    // With the session cookie and neither header, nothing vouches for the request.
    let response =
        forger.post(app.url("/api/admin/api-keys/create")).form(&[("name", "unvouched")]).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("must come from RepoPass's own pages"));
    let response = forger.post(app.url("/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), 403, "sign-out without Sec-Fetch-Site or Origin");
    assert_eq!(snapshot(&app).await, before, "a cross-site request changed something");
    assert_eq!(keys().await, keys_before, "no key was created");

    // From our own pages (or from no page: curl) the same requests work.
    let own = admin
        .post(app.url("/api/admin/api-keys/create"))
        .header("origin", &app.address)
        .form(&[("name", "mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200, "{}", own.text().await.unwrap());
    let own = admin
        .post(app.url("/api/admin/api-keys/create"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", "https://ignored.example")
        .form(&[("name", "mine too")])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200, "Sec-Fetch-Site is what the browser computed");
    assert_eq!(keys().await, keys_before + 2);
    let (status, body) = buy_js(&app, &price_id.to_string(), "bob", "b@example.com").await;
    assert_eq!(status, 200, "{body}");

    // Webhooks come from servers, with a signature: an Origin does not matter,
    // the signature does.
    let response = app
        .client
        .post(app.url("/api/webhooks/stripe"))
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "refused for its signature, not its origin");
}

async fn bodies_over_the_limit_are_refused(app: TestApp) {
    let (_, price_id) = on_sale(&app).await;
    let purchases = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM purchases").fetch_one(app.pool()).await.unwrap()
    };
    let big = "x".repeat(repopass_limit() + 1);
    let form = [
        ("price_id", price_id.to_string()),
        ("github_username", "bob".into()),
        ("email", "b@example.com".into()),
        ("pad", big.clone()),
    ];

    let declared = app.client.post(app.url("/api/checkout")).form(&form).send().await.unwrap();
    assert_eq!(declared.status(), 413);
    assert!(declared.text().await.unwrap().contains("too large: at most 256 KB"));

    // No length declared (chunked): read up to the limit, then refused the same way.
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let chunks = futures::stream::iter(
        encoded.into_bytes().chunks(16 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let chunked = app
        .client
        .post(app.url("/api/checkout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);
    let response = app
        .client
        .post(app.url("/api/v1/repositories"))
        .bearer_auth("whatever")
        .json(&json!({ "pad": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "the REST API too");
    assert_eq!(purchases().await, 0, "nothing was created");

    // Under the limit, the same form goes through.
    let (status, body) = buy_js(&app, &price_id.to_string(), "bob", "b@example.com").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(purchases().await, 1);
}

fn repopass_limit() -> usize {
    256 * 1024
}

/// The limits, at the default of 100 requests a minute per endpoint and
/// address (the other tests raise it: they all come from 127.0.0.1).
mod limits {
    use super::*;

    scenarios!(with [("REPOPASS_RATE_LIMIT", "100")] every_public_endpoint_is_rate_limited);

    async fn every_public_endpoint_is_rate_limited(app: TestApp) {
        on_sale(&app).await;
        let anonymous = browser();
        let endpoints: [(&str, &str); 6] = [
            ("POST", "/api/buy/check-username"),
            ("POST", "/api/checkout"),
            ("POST", "/api/account/email-link"),
            ("GET", "/p/enterprise-sdk"),
            ("GET", "/api/v1/repositories"),
            ("GET", "/auth/github"),
        ];
        for (method, path) in endpoints {
            let mut limited = None;
            let started = std::time::Instant::now();
            for i in 0..150 {
                let request = anonymous.request(method.parse().unwrap(), app.url(path));
                // A new address each time: one address has its own smaller cap (3 links).
                let email = format!("b{i}@example.com");
                let request = if method == "POST" {
                    request.form(&[("price_id", "1"), ("github_username", "bob"), ("email", email.as_str())])
                } else {
                    request
                };
                let response = request.send().await.unwrap();
                assert!(response.status().as_u16() < 500, "{method} {path} answered {}", response.status());
                if response.status() == 429 {
                    limited = Some((i, response));
                    break;
                }
            }
            let (after, response) = limited.unwrap_or_else(|| panic!("{method} {path} is not limited"));
            if path == "/p/enterprise-sdk" {
                // Another slug draws on the same, empty budget: it gets
                // through only with what refilled since (one every 0.6 s),
                // not with a budget of its own (100).
                let emptied = std::time::Instant::now();
                let mut through = 0;
                while app.get("/p/another").await.status() != 429 {
                    through += 1;
                    assert!(through <= 10, "/p/another has a budget of its own");
                }
                let refilled = (emptied.elapsed().as_secs_f64() / 0.6).ceil() as usize;
                assert!(
                    through <= refilled,
                    "product pages share one budget, whatever the slug: {through} got through in {:?}",
                    emptied.elapsed()
                );
            }
            // 100 at once, and the budget refills one every 0.6 s meanwhile
            // (on a loaded machine the 100 requests take seconds).
            let refilled = (started.elapsed().as_secs_f64() / 0.6).ceil() as usize;
            assert!(
                (100..=101 + refilled).contains(&after),
                "{path}: limited after {after} requests in {:?}; 100 a minute are allowed",
                started.elapsed()
            );
            let wait: u64 = header(&response, "retry-after").parse().expect("Retry-After in seconds");
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
            let body = response.text().await.unwrap();
            assert!(body.contains("Too many requests") && body.contains("seconds"), "{body}");
        }
        // Each endpoint has its own budget: the others still answer.
        assert_eq!(app.get("/").await.status(), 200, "the storefront's budget is its own");
        // Not limited: the webhooks (signed; Stripe sends bursts) and static files.
        for _ in 0..120 {
            let response = app.client.post(app.url("/api/webhooks/stripe")).body("{}").send().await.unwrap();
            assert_eq!(response.status(), 400);
        }
        for _ in 0..120 {
            assert_ne!(app.get("/pkg/repopass.css").await.status(), 429);
        }
    }
}

/// Behind a reverse proxy every request comes from the proxy: the clients
/// it names are told apart only when it is trusted, and IPv6 clients count
/// by their /64.
mod behind_a_proxy {
    use super::*;

    async fn readyz_from(app: &TestApp, forwarded_for: &str) -> u16 {
        app.client
            .get(app.url("/readyz"))
            .header("x-forwarded-for", forwarded_for)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Requests until the first 429 (at most 20).
    async fn allowed(app: &TestApp, forwarded_for: &str) -> usize {
        for i in 0..20 {
            if readyz_from(app, forwarded_for).await == 429 {
                return i;
            }
        }
        20
    }

    mod trusted {
        use super::*;
        scenarios!(with [("REPOPASS_RATE_LIMIT", "5"), ("REPOPASS_TRUSTED_PROXIES", "127.0.0.1")] each_forwarded_client_has_its_own_budget);

        async fn each_forwarded_client_has_its_own_budget(app: TestApp) {
            assert_eq!(allowed(&app, "203.0.113.1").await, 5);
            // Another client behind the same proxy still gets in.
            assert_eq!(readyz_from(&app, "203.0.113.2").await, 200);
            // A client cannot escape by forging the leftmost entry: the proxy appended its real address.
            assert_eq!(readyz_from(&app, "198.51.100.77, 203.0.113.1").await, 429);
            assert_eq!(readyz_from(&app, "for-sure-not-an-address, 203.0.113.1").await, 429);
            // One IPv6 /64 is one client.
            assert_eq!(allowed(&app, "2001:db8:1:2::1").await, 5);
            assert_eq!(
                readyz_from(&app, "2001:db8:1:2:ffff::9").await,
                429,
                "another address in the same /64 shares its budget"
            );
            assert_eq!(readyz_from(&app, "2001:db8:1:3::1").await, 200);
            // RFC 7239's header is read as well.
            let response = app
                .client
                .get(app.url("/readyz"))
                .header("forwarded", r#"for="[2001:db8:1:2::5]:4711";proto=https"#)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 429);
        }
    }

    mod untrusted {
        use super::*;
        scenarios!(with [("REPOPASS_RATE_LIMIT", "5")] forwarded_headers_are_ignored_without_trusted_proxies);

        async fn forwarded_headers_are_ignored_without_trusted_proxies(app: TestApp) {
            // Each request claims another client: without a trusted proxy they are all the peer.
            let mut answers = Vec::new();
            for i in 0..7 {
                answers.push(readyz_from(&app, &format!("203.0.113.{i}")).await);
            }
            assert_eq!(answers, [200, 200, 200, 200, 200, 429, 429]);
        }
    }
}

/// Slow and oversized requests are cut off at the connection (the limits of
/// `src/serve.rs`); on SQLite only: no database is involved.
mod connection_limits {
    use std::time::{Duration, Instant};

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };

    use crate::helpers::{guarded, spawn_app, Backend, TestApp};

    async fn connect(app: &TestApp) -> TcpStream {
        TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap()
    }

    /// What the server sends until it closes the connection (at most 60 s).
    async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut seen))
            .await
            .expect("the connection was never closed");
        (String::from_utf8_lossy(&seen).into_owned(), started.elapsed())
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_dropped() {
        guarded(concat!(module_path!(), "::a_client_that_never_finishes_its_headers_is_dropped"), async {
            let app = spawn_app(Backend::Sqlite).await.unwrap();
            let mut stream = connect(&app).await;
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
            let (_, after) = until_closed(&mut stream).await;
            assert!(
                after >= Duration::from_secs(9) && after < Duration::from_secs(30),
                "dropped after {after:?}; 10 s are allowed for the head"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_ends_the_request() {
        guarded(concat!(module_path!(), "::a_body_that_stops_arriving_ends_the_request"), async {
            let app = spawn_app(Backend::Sqlite).await.unwrap();
            let mut stream = connect(&app).await;
            let head = "POST /api/checkout HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nprice_id=1";
            stream.write_all(head.as_bytes()).await.unwrap();
            let (answer, after) = until_closed(&mut stream).await;
            assert!(after >= Duration::from_secs(29) && after < Duration::from_secs(50), "ended after {after:?}; a body gets 30 s");
            let status: u16 = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            assert!(answer.is_empty() || (400..500).contains(&status), "a slow body is the client's fault, not a 5xx: {answer}");
        })
        .await;
    }

    #[tokio::test]
    async fn oversized_heads_and_addresses_are_refused() {
        guarded(concat!(module_path!(), "::oversized_heads_and_addresses_are_refused"), async {
            let app = spawn_app(Backend::Sqlite).await.unwrap();
            let long = app.get(&format!("/p/{}", "a".repeat(9000))).await;
            assert_eq!(long.status(), 414);
            assert!(long.text().await.unwrap().contains("at most 8192"));
            let huge_header =
                app.client.get(app.url("/healthz")).header("x-big", "b".repeat(40 * 1024)).send().await.unwrap();
            assert_eq!(huge_header.status(), 431);
            let mut many = app.client.get(app.url("/healthz"));
            for i in 0..100 {
                many = many.header(format!("x-h{i}"), "1");
            }
            assert_eq!(many.send().await.unwrap().status(), 431);
            // Ordinary requests are untouched.
            assert_eq!(app.get("/healthz").await.status(), 200);
            assert_eq!(app.get(&format!("/p/{}", "a".repeat(2000))).await.status(), 404);
        })
        .await;
    }
}
