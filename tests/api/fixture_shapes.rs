//! The sandbox's objects against the published examples: every field the
//! example has, the sandbox has too (with the same JSON type), except the
//! ones listed here as deliberately omitted. When Stripe or GitHub add
//! fields, refreshing the fixtures makes this test say what to add.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::{helpers::TestApp, scenarios};

scenarios!(
    stripe_objects_have_the_published_shape,
    github_member_event_has_the_published_shape,
    github_installation_suspension_has_the_published_shape
);

fn fixture(name: &str) -> Value {
    let path = crate::helpers::manifest_dir().join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Fields of `example` missing from `ours`, and fields whose types differ.
fn compare(name: &str, example: &Value, ours: &Value, omitted: &[&str]) {
    let problems = differences(name, example, ours, omitted);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn differences(name: &str, example: &Value, ours: &Value, omitted: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let theirs: BTreeSet<&str> = example.as_object().unwrap().keys().map(String::as_str).collect();
    let mine: BTreeSet<&str> = ours
        .as_object()
        .unwrap_or_else(|| panic!("{name} is not an object: {ours}"))
        .keys()
        .map(String::as_str)
        .collect();
    let missing: Vec<&str> = theirs.difference(&mine).copied().filter(|k| !omitted.contains(k)).collect();
    if !missing.is_empty() {
        problems.push(format!("{name}: the sandbox lacks {missing:?}"));
    }
    let stale: Vec<&str> = omitted.iter().copied().filter(|k| mine.contains(k) || !theirs.contains(k)).collect();
    if !stale.is_empty() {
        problems.push(format!("{name}: {stale:?} listed as omitted but present (or not in the example)"));
    }
    for key in theirs.intersection(&mine) {
        let (a, b) = (&example[*key], &ours[*key]);
        // Expandable fields are ids in one and objects in the other; nulls say nothing.
        if a.is_null() || b.is_null() || (a.is_string() && b.is_object()) || (a.is_object() && b.is_string()) {
            continue;
        }
        if kind(a) != kind(b) {
            problems.push(format!("{name}.{key}: example {a} vs sandbox {b}"));
        }
    }
    problems
}

async fn raw(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/sandbox/stripe/v1{path}")))
        .bearer_auth(sandbox::credentials::STRIPE_SECRET_KEY)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.unwrap()
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .post(app.url(&format!("/sandbox/stripe/v1{path}")))
        .bearer_auth(sandbox::credentials::STRIPE_SECRET_KEY)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

async fn stripe_objects_have_the_published_shape(app: TestApp) {
    let examples = fixture("stripe-objects.json");
    let product = post(&app, "/products", &[("name", "Pro Kit")]).await;
    let price = post(
        &app,
        "/prices",
        &[
            ("product", product["id"].as_str().unwrap()),
            ("currency", "usd"),
            ("unit_amount", "900"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let customer = post(&app, "/customers", &[("email", "alice@example.com")]).await;
    let session = post(
        &app,
        "/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("line_items[0][price]", price["id"].as_str().unwrap()),
            ("line_items[0][quantity]", "1"),
            ("success_url", "http://127.0.0.1/ok"),
            ("customer", customer["id"].as_str().unwrap()),
        ],
    )
    .await;
    let paid = app.control(&format!("/stripe/checkout/{}/pay", session["id"].as_str().unwrap()), json!({})).await;
    let subscription = raw(&app, &format!("/subscriptions/{}", paid["subscription"].as_str().unwrap())).await;
    let invoice = raw(&app, &format!("/invoices/{}", paid["invoice"].as_str().unwrap())).await;
    let refund = app.control("/stripe/refund", json!({ "id": paid["subscription"], "amount": 100 })).await;
    let charge = raw(&app, &format!("/charges/{}", refund["charge"].as_str().unwrap())).await;
    let dispute = app.control("/stripe/dispute", json!({ "id": charge["id"] })).await;
    let portal = post(&app, "/billing_portal/sessions", &[("customer", customer["id"].as_str().unwrap())]).await;
    let events = raw(&app, "/events?limit=1").await;

    // Fields the sandbox leaves out on purpose: Stripe features RepoPass
    // never uses (Connect, tax, shipping, payment method configuration...).
    let mut problems = Vec::new();
    problems.extend(differences("product", &examples["product"], &product, &[]));
    problems.extend(differences("price", &examples["price"], &price, &[]));
    problems.extend(differences("customer", &examples["customer"], &customer, &[]));
    problems.extend(differences(
        "checkout.session",
        &examples["checkout.session"],
        &raw(&app, &format!("/checkout/sessions/{}", session["id"].as_str().unwrap())).await,
        &[],
    ));
    problems.extend(differences("subscription", &examples["subscription"], &subscription, &[]));
    problems.extend(differences(
        "subscription_item",
        &examples["subscription_item"],
        &subscription["items"]["data"][0],
        &[],
    ));
    problems.extend(differences("plan", &examples["plan"], &subscription["items"]["data"][0]["plan"], &[]));
    problems.extend(differences("invoice", &examples["invoice"], &invoice, &[]));
    problems.extend(differences("charge", &examples["charge"], &charge, &[]));
    problems.extend(differences("refund", &examples["refund"], &refund, &[]));
    problems.extend(differences("dispute", &examples["dispute"], &dispute, &[]));
    problems.extend(differences("billing_portal.session", &examples["billing_portal.session"], &portal, &[]));
    problems.extend(differences("event", &examples["event"], &events["data"][0], &[]));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

async fn github_member_event_has_the_published_shape(app: TestApp) {
    let example = fixture("member.added.payload.json");
    let gh = app.github();
    let repo = gh.repos("sandbox-creator", "pro-kit");
    let invitation = repo.add_collaborator("alice").send().await.unwrap().unwrap();
    app.control(&format!("/github/invitations/{}/accept", invitation.id.0), json!({})).await;
    let deliveries = app.control_get("/deliveries").await;
    let payload: Value = serde_json::from_str(deliveries[0]["payload"].as_str().unwrap()).unwrap();
    compare("member event", &example, &payload, &[]);
    compare("member", &example["member"], &payload["member"], &[]);
    // Custom properties are an organisation feature RepoPass does not read.
    compare("repository", &example["repository"], &payload["repository"], &["custom_properties"]);
    compare("sender", &example["sender"], &payload["sender"], &[]);
}

async fn github_installation_suspension_has_the_published_shape(app: TestApp) {
    let example = fixture("installation.suspend.payload.json");
    app.control("/github/installations/sandbox-org/suspend", json!({})).await;
    let deliveries = app.control_get("/deliveries").await;
    let payload: Value = serde_json::from_str(deliveries[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(deliveries[0]["event_type"], "installation");
    assert_eq!(payload["action"], "suspend");
    compare("installation event", &example, &payload, &[]);
    compare("installation", &example["installation"], &payload["installation"], &[]);
    compare("account", &example["installation"]["account"], &payload["installation"]["account"], &[]);
    compare("sender", &example["sender"], &payload["sender"], &[]);
    assert!(payload["installation"]["suspended_at"].is_string(), "{payload}");
}
