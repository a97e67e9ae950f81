//! The authorization matrix: every route and every server function, tried
//! by each kind of caller — anonymous, customer A, customer B, the admin, a
//! live API key, a revoked API key — with each cell's answer asserted.
//! Server functions come from Leptos's registry and REST operations from the
//! OpenAPI document, so a new one lands in a row without editing this file
//! (and fails here until its class is known). Customer A's purchase is the
//! target of the per-purchase calls, so B's cells are B reaching for A's.
//! Every caller goes through every row before the next caller starts.

use crate::{
    account::{buy, public_id, sign_in_customer},
    admin_auth::{browser, sign_in},
    authorization::ANY_ARGS,
    checkout::on_sale,
    helpers::TestApp,
    rest_api::{api_key, documented_operations},
    scenarios,
};

scenarios!(every_route_and_server_function_for_every_caller);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// Exactly this status.
    Is(u16),
    /// Let through: whatever the function answers (its own 404 or 422
    /// included), but no 401/403 and no 5xx.
    Through,
}
use Want::{Is, Through};

const CALLERS: [&str; 6] = ["anonymous", "customer A", "customer B", "admin", "API key", "revoked API key"];
/// The admin goes last: some admin calls revoke things (API key 1, a
/// purchase) that the other callers' cells use.
const ORDER: [usize; 6] = [0, 1, 2, 4, 5, 3];

struct Row {
    method: &'static str,
    path: String,
    form: Vec<(String, String)>,
    multipart: bool,
    want: [Want; 6],
}

fn row(method: &'static str, path: impl Into<String>, want: [Want; 6]) -> Row {
    Row { method, path: path.into(), form: Vec::new(), multipart: false, want }
}

fn with(mut r: Row, form: &[(&str, &str)]) -> Row {
    r.form = form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    r
}

const EVERYONE_200: [Want; 6] = [Is(200); 6];
const ADMIN_ONLY: [Want; 6] = [Is(401), Is(401), Is(401), Through, Is(401), Is(401)];
const ADMIN_PAGE: [Want; 6] = [Is(401), Is(401), Is(401), Is(200), Is(401), Is(401)];
const KEY_ONLY: [Want; 6] = [Is(401), Is(401), Is(401), Is(401), Through, Is(401)];
/// Customer A's own purchase; B gets "not found" for it (no hint that it exists).
const CUSTOMER_A: [Want; 6] = [Is(401), Through, Is(404), Is(401), Is(401), Is(401)];

async fn every_route_and_server_function_for_every_caller(app: TestApp) {
    let (repo_id, price_id) = on_sale(&app).await;
    let admin = browser();
    sign_in(&app, &admin, "sandbox-creator", "/admin").await;
    let a_purchase = buy(&app, price_id, "alice", "alice@example.com").await;
    buy(&app, price_id, "bob", "bob@example.com").await;
    let a_id = public_id(&app, a_purchase).await;
    let a_session: String = sqlx::query_scalar("SELECT stripe_checkout_session_id FROM purchases WHERE id = $1")
        .bind(a_purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let (customer_a, customer_b) = (browser(), browser());
    sign_in_customer(&app, &customer_a, "alice").await;
    sign_in_customer(&app, &customer_b, "bob").await;
    let key = api_key(&app).await;
    let revoked = {
        use secrecy::ExposeSecret;
        let k = server::api_keys::create(&app.state.db, "old", None).await.unwrap();
        server::api_keys::revoke(&app.state.db, k.id).await.unwrap();
        k.secret.expose_secret().to_owned()
    };
    let alice_github: i64 = sqlx::query_scalar("SELECT github_user_id FROM purchases WHERE id = $1")
        .bind(a_purchase)
        .fetch_one(app.pool())
        .await
        .unwrap();

    // What the admin's and the key's calls may change: a second repository
    // (ids in their arguments point at it), so the first stays on sale for
    // the pages every caller opens.
    let (status, spare) = crate::rest_api::api(
        &app,
        Some(&key),
        "POST",
        "/repositories",
        Some(serde_json::json!({"owner": "sandbox-creator", "name": "pro-kit", "slug": "pro-kit", "title": "Pro Kit"})),
    )
    .await;
    assert_eq!(status, 201, "{spare}");
    let spare = spare["id"].as_i64().unwrap().to_string();
    let admin_args: Vec<(&str, &str)> = ANY_ARGS
        .iter()
        .map(|(k, v)| (*k, if matches!(*k, "id" | "repository_id") { spare.as_str() } else { *v }))
        .collect();

    let mut rows = Vec::new();

    // Pages.
    for path in [
        "/".to_owned(),
        "/p/enterprise-sdk".to_owned(),
        format!("/checkout/success?session_id={a_session}"),
        "/account".to_owned(),
    ] {
        rows.push(row("GET", path, EVERYONE_200));
    }
    rows.push(row("GET", "/checkout/success", [Is(404); 6]));
    for path in [
        "/admin".to_owned(),
        "/admin/customers".to_owned(),
        format!("/admin/customers/{alice_github}"),
        "/admin/events".to_owned(),
        "/admin/events/1".to_owned(),
        "/admin/settings".to_owned(),
        "/admin/settings/webhooks".to_owned(),
        "/admin/api-keys".to_owned(),
        "/admin/repositories".to_owned(),
        format!("/admin/repositories/{repo_id}"),
    ] {
        rows.push(row("GET", path, ADMIN_PAGE));
    }
    rows.push(row("GET", "/no-such-page", [Is(404); 6]));

    // Plain HTTP routes.
    rows.push(row("GET", "/admin/customers.csv", [Is(401), Is(401), Is(401), Is(200), Is(401), Is(401)]));
    rows.push(row("GET", "/admin/activity/stream", [Is(401), Is(401), Is(401), Is(200), Is(401), Is(401)]));
    let mut cover = row(
        "POST",
        format!("/admin/repositories/{repo_id}/cover"),
        [Is(401), Is(401), Is(401), Is(303), Is(401), Is(401)],
    );
    cover.multipart = true;
    rows.push(cover);
    rows.push(row("GET", "/covers/none.png", [Is(404); 6]));
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        rows.push(row("GET", path, EVERYONE_200));
    }
    // Webhooks: only a signature lets one in, whoever sends it.
    rows.push(row("POST", "/api/webhooks/stripe", [Is(400); 6]));
    rows.push(row("POST", "/api/webhooks/github", [Is(400); 6]));
    // Sign-in: starting is open to all; a forged callback or link is refused.
    rows.push(row("GET", "/auth/github", [Is(303); 6]));
    rows.push(row("GET", "/auth/github/callback?code=x&state=forged", [Is(400); 6]));
    rows.push(row("GET", "/account/sign-in/github", [Is(303); 6]));
    rows.push(row("GET", "/account/sign-in/email?token=forged", [Is(400); 6]));
    rows.push(with(row("POST", "/account/sign-in/email", [Is(400); 6]), &[("token", "forged")]));
    // Server functions, every one in the registry.
    let mut server_fns: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    server_fns.sort();
    let price = price_id.to_string();
    for path in server_fns {
        let r = if path.starts_with("/api/admin/") {
            with(row("POST", path, ADMIN_ONLY), &admin_args)
        } else if let Some(name) = path.strip_prefix("/api/account/") {
            let r = match name {
                // Public: anyone may ask for a link; the answer reveals
                // nothing. (Three links per address per 15 minutes: one
                // address per caller here.)
                "email-link" => with(row("POST", path, EVERYONE_200), &[("email", "{caller}@example.com")]),
                // The caller's own purchases (null to anyone not signed in as a customer).
                "overview" => row("POST", path, EVERYONE_200),
                // Moving to the current account is refused by the function itself (422).
                "move" => with(row("POST", path, CUSTOMER_A), &[("id", &a_id), ("github_username", "alice")]),
                "resend" | "billing" => with(row("POST", path, CUSTOMER_A), &[("id", &a_id)]),
                // A team's seats, for its managers only: A's purchase is no
                // team, so A gets the function's own answer and B "not found"
                // (the seats scenarios try a holder and another team's manager).
                "team/give" | "team/appoint" => {
                    with(row("POST", path, CUSTOMER_A), &[("id", &a_id), ("github_username", "carol")])
                }
                "team/take-back" | "team/resend" => {
                    with(row("POST", path, CUSTOMER_A), &[("id", &a_id), ("seat", &a_id)])
                }
                "team/seats" => with(row("POST", path, CUSTOMER_A), &[("id", &a_id), ("seats", "2")]),
                // A checkout for added seats: A's own checkout is none, so A
                // gets "not found", as B does.
                "team/seats-paid" => with(row("POST", path, CUSTOMER_A), &[("session", &a_session)]),
                other => panic!("/api/account/{other} is new: give it a row"),
            };
            r
        } else {
            let r = match path {
                "/api/checkout" => with(
                    row("POST", path, [Through; 6]),
                    &[("price_id", &price), ("github_username", "carol"), ("email", "c@example.com")],
                ),
                "/api/buy/check-username" => {
                    with(row("POST", path, EVERYONE_200), &[("price_id", &price), ("github_username", "carol")])
                }
                "/api/buy/product" => with(row("POST", path, EVERYONE_200), &[("slug", "enterprise-sdk")]),
                // What this browser last sent with the buy form (nothing, for a new one).
                "/api/buy/form" => with(row("POST", path, EVERYONE_200), &[("slug", "enterprise-sdk")]),
                "/api/buy/progress" => with(row("POST", path, EVERYONE_200), &[("session_id", &a_session)]),
                "/api/session/viewer" | "/api/storefront/products" => row("POST", path, EVERYONE_200),
                // Where setup stands: "finished" to all (the sandbox needs none).
                "/api/setup/status" => row("POST", path, EVERYONE_200),
                // Only the holder of a setup link, and there is none here.
                "/api/setup/stripe" => with(row("POST", path, [Is(403); 6]), &[("key", "sk_test_x")]),
                "/api/setup/stripe-endpoint" => row("POST", path, [Is(403); 6]),
                other => panic!("{other} is a new server function: give it a row"),
            };
            r
        };
        rows.push(r);
    }

    // The REST API, every documented operation.
    let operations = documented_operations(&app).await;
    assert!(operations.len() >= 14, "{operations:?}");
    for (method, path) in &operations {
        let method: &'static str = Box::leak(method.to_uppercase().into_boxed_str());
        let path = format!("/api/v1{}", path.replace("{id}", &spare));
        rows.push(row(method, path, KEY_ONLY));
    }

    // Last in each caller's column: signing out.
    rows.push(row("POST", "/auth/logout", [Is(303); 6]));

    // Run the table, one caller at a time.
    let clients = [&browser(), &customer_a, &customer_b, &admin, &browser(), &browser()];
    let mut wrong = Vec::new();
    let mut cells = 0;
    for who in ORDER {
        for r in &rows {
            let mut request = clients[who].request(r.method.parse().unwrap(), app.url(&r.path));
            match who {
                4 => request = request.bearer_auth(&key),
                5 => request = request.bearer_auth(&revoked),
                _ => {}
            }
            request = if r.multipart {
                let png = reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n".to_vec()).file_name("x.png");
                request.multipart(reqwest::multipart::Form::new().part("cover", png))
            } else if r.method == "POST" && r.path.starts_with("/api/v1") {
                request.json(&serde_json::json!({"title": "t", "status": "archived", "interval": "month", "unit_amount": 100, "currency": "usd", "owner": "sandbox-creator", "name": "course-materials", "reason": "matrix"}))
            } else if r.method != "GET" {
                let caller = format!("caller{who}");
                let form: Vec<(&str, String)> =
                    r.form.iter().map(|(k, v)| (k.as_str(), v.replace("{caller}", &caller))).collect();
                request.form(&form)
            } else {
                request
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            // Drop streaming bodies (the SSE stream) unread.
            let body =
                if r.path.ends_with("/stream") { String::new() } else { response.text().await.unwrap_or_default() };
            cells += 1;
            let ok = match r.want[who] {
                Is(want) => status == want,
                Through => status < 500 && status != 401 && status != 403,
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {}: got {status}, want {:?} — {}",
                    r.method,
                    r.path,
                    CALLERS[who],
                    r.want[who],
                    body.chars().take(160).collect::<String>()
                ));
            }
            // Whatever an admin page says to others, it is not the admin's data.
            if who != 3 && r.path.starts_with("/admin") && body.contains("alice@example.com") {
                wrong.push(format!("{} {} as {} shows a customer's email", r.method, r.path, CALLERS[who]));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {cells} cells wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert!(cells > 6 * 70, "the table has every route ({cells} cells)");
}
