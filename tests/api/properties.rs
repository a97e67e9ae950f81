//! Property: whatever happens to a purchase on Stripe's side, and however
//! its webhooks arrive — reordered, duplicated, some at the same time, stale
//! ones replayed after GitHub's acceptance — RepoPass ends in agreement
//! with Stripe: never access without a payment, never two invitations for
//! one buyer, and the final state is the one the last Stripe state implies.
//!
//! proptest draws each history (one-time or subscription; renewals, failed
//! renewals, cancellations, refunds, disputes; a seed for the delivery
//! order and duplicates; whether the buyer accepts). Every case runs on the
//! real server against the sandbox, with the sandbox's own deliveries
//! switched off so the test decides the order. Cases are not shrunk (each
//! is a server run); a failing one is printed whole with its seed.

use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRng, TestRunner},
};
use serde_json::{json, Value};

use crate::{
    checkout::on_sale,
    helpers::TestApp,
    rest_api::{api, api_key},
    scenarios,
};

scenarios!(random_histories_end_in_agreement_with_stripe);

#[derive(Debug, Clone, Copy)]
enum Op {
    Renew,
    FailNextRenewal,
    CancelNow,
    CancelAtPeriodEnd,
    RefundPart,
    RefundAll,
    Dispute,
}

#[derive(Debug, Clone)]
struct Story {
    subscription: bool,
    ops: Vec<Op>,
    /// Drives the delivery order, the duplicates and the concurrency.
    seed: u64,
    accepts: bool,
}

fn story() -> impl Strategy<Value = Story> {
    let op = prop_oneof![
        3 => Just(Op::Renew),
        2 => Just(Op::FailNextRenewal),
        1 => Just(Op::CancelNow),
        1 => Just(Op::CancelAtPeriodEnd),
        2 => Just(Op::RefundPart),
        2 => Just(Op::RefundAll),
        1 => Just(Op::Dispute),
    ];
    (any::<bool>(), proptest::collection::vec(op, 0..5), any::<u64>(), any::<bool>())
        .prop_map(|(subscription, ops, seed, accepts)| Story { subscription, ops, seed, accepts })
}

/// SplitMix64: the order and duplicates from the story's seed.
struct Mix(u64);
impl Mix {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % below.max(1) as u64) as usize
    }
}

const CASES: u32 = 32;

async fn random_histories_end_in_agreement_with_stripe(app: TestApp) {
    let (repo_id, monthly) = on_sale(&app).await;
    let key = api_key(&app).await;
    let (_, once) = api(
        &app,
        Some(&key),
        "POST",
        &format!("/repositories/{repo_id}/prices"),
        Some(json!({"interval": "one_time", "unit_amount": 4900, "currency": "usd"})),
    )
    .await;
    let once = once["id"].as_i64().unwrap();
    // The sandbox records every event but delivers none: the test does.
    app.control("/webhook_target", json!({"base": "http://127.0.0.1:9"})).await;

    let mut runner = TestRunner::new_with_rng(
        Config { cases: CASES, ..Config::default() },
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed_bytes()),
    );
    for case in 0..CASES {
        let story = story().new_tree(&mut runner).unwrap().current();
        let price = if story.subscription { monthly } else { once };
        if let Err(why) = run(&app, case, price, &story).await {
            panic!("case {case} failed: {why}\n{story:#?}\n(rerun with PROPTEST_SEED={})", seed_hex());
        }
    }
}

fn seed_hex() -> String {
    std::env::var("PROPTEST_SEED").unwrap_or_else(|_| format!("{:x}", std::process::id() as u64 * 0x9E37_79B9))
}

fn seed_bytes() -> [u8; 32] {
    let seed = u64::from_str_radix(&seed_hex(), 16).unwrap_or(7);
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (seed >> ((i % 8) * 8)) as u8 ^ i as u8;
    }
    bytes
}

/// A recorded delivery: provider, event type, payload.
type Delivery = (String, String, String);

async fn deliveries_after(app: &TestApp, after: i64) -> Vec<Delivery> {
    let all = app.control_get("/deliveries").await;
    let mut found: Vec<(i64, Delivery)> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["id"].as_i64().unwrap() > after)
        .map(|d| {
            let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (d["id"].as_i64().unwrap(), (text("provider"), text("event_type"), text("payload")))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, d)| d).collect()
}

async fn last_delivery(app: &TestApp) -> i64 {
    app.control_get("/deliveries").await.as_array().unwrap().iter().filter_map(|d| d["id"].as_i64()).max().unwrap_or(0)
}

/// Posts each delivery signed as its provider signs it; groups of up to
/// three go at the same time.
async fn deliver(app: &TestApp, batch: &[Delivery], mix: &mut Mix) {
    let mut i = 0;
    while i < batch.len() {
        let n = 1 + mix.next(3);
        let group = &batch[i..(i + n).min(batch.len())];
        let sends = group.iter().map(|(provider, kind, payload)| {
            let request = app.client.post(app.url(&format!("/api/webhooks/{provider}"))).body(payload.clone());
            let request = if provider == "stripe" {
                let secret = secrecy::SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET);
                request.header(
                    "stripe-signature",
                    sandbox::deliveries::stripe_signature(&secret, server::clock::now(), payload),
                )
            } else {
                let secret = secrecy::SecretString::from(sandbox::credentials::GITHUB_WEBHOOK_SECRET);
                request
                    .header("x-hub-signature-256", sandbox::deliveries::github_signature(&secret, payload))
                    .header("x-github-event", kind.as_str())
                    .header("x-github-delivery", format!("prop-{}", mix.next(1 << 30)))
            };
            async move { request.send().await.unwrap().status().as_u16() }
        });
        for status in futures::future::join_all(sends).await {
            if status != 200 {
                return;
            }
        }
        i += n;
    }
}

/// Until no webhook, grant or removal job is waiting.
async fn settle(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running') AND kind IN ('stripe_event', 'github_event', 'remove_access')")
            .fetch_one(app.pool())
            .await
            .unwrap();
        if open == 0 || std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn shuffled_with_duplicates(items: &[Delivery], mix: &mut Mix) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = items.to_vec();
    for _ in 0..mix.next(items.len() + 1) {
        let pick = out[mix.next(out.len())].clone();
        out.push(pick);
    }
    for i in (1..out.len()).rev() {
        out.swap(i, mix.next(i + 1));
    }
    out
}

async fn run(app: &TestApp, case: u32, price: i64, story: &Story) -> Result<(), String> {
    let mut mix = Mix(story.seed);
    let login = format!("prop-buyer-{case}");
    app.control("/github/users", json!({"login": login})).await;
    let start = last_delivery(app).await;

    // The buyer pays; then Stripe's side of the story happens.
    let response = app
        .client
        .post(app.url("/api/checkout"))
        .header("accept", "text/html")
        .form(&[
            ("price_id", price.to_string().as_str()),
            ("github_username", &login),
            ("email", &format!("{login}@example.com")),
        ])
        .send()
        .await
        .unwrap();
    if response.status() != 303 {
        return Err(format!("checkout: {}", response.status()));
    }
    let session_id = response.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let paid = app.control(&format!("/stripe/checkout/{session_id}/pay"), json!({})).await;
    let customer = paid["customer"].as_str().unwrap_or_default().to_owned();
    let intent = paid["payment_intent"].as_str().unwrap_or_default().to_owned();
    let subscription = paid["subscription"].as_str().map(str::to_owned);
    let target = subscription.clone().unwrap_or_else(|| session_id.clone());
    for op in &story.ops {
        let (path, body) = match (op, &subscription) {
            (Op::Renew, Some(s)) => (format!("/stripe/subscriptions/{s}/renew"), json!({})),
            (Op::FailNextRenewal, Some(s)) => {
                let _ = app
                    .client
                    .post(app.url(&format!("/sandbox/control/stripe/subscriptions/{s}/fail_next_payment")))
                    .json(&json!({}))
                    .send()
                    .await;
                (format!("/stripe/subscriptions/{s}/renew"), json!({}))
            }
            (Op::CancelNow, Some(s)) => (format!("/stripe/subscriptions/{s}/cancel"), json!({})),
            (Op::CancelAtPeriodEnd, Some(s)) => {
                (format!("/stripe/subscriptions/{s}/cancel"), json!({"at_period_end": true}))
            }
            (Op::RefundPart, _) => ("/stripe/refund".to_owned(), json!({"id": target, "amount": 100})),
            (Op::RefundAll, _) => ("/stripe/refund".to_owned(), json!({"id": target})),
            (Op::Dispute, _) => ("/stripe/dispute".to_owned(), json!({"id": target})),
            _ => continue, // subscription operations on a one-time purchase
        };
        // Stripe refuses some (a refund of a refunded charge, renewing a
        // cancelled subscription): the story goes on without them.
        let _ = app.client.post(app.url(&format!("/sandbox/control{path}"))).json(&body).send().await.unwrap();
    }

    // Every event of the story, shuffled, some twice, some at once.
    let events: Vec<Delivery> =
        deliveries_after(app, start).await.into_iter().filter(|(p, _, _)| p == "stripe").collect();
    let order = shuffled_with_duplicates(&events, &mut mix);
    deliver(app, &order, &mut mix).await;
    settle(app).await;

    let purchase: (i64, String) =
        sqlx::query_as("SELECT id, status FROM purchases WHERE stripe_checkout_session_id = $1")
            .bind(&session_id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    let purchase_id = purchase.0;

    // The buyer accepts, if invited; GitHub's event arrives twice, with
    // stale Stripe events replayed around it.
    if story.accepts {
        let before = last_delivery(app).await;
        let github = app.control_get("/github/state").await;
        let invitation = github["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["invitations"].as_array().unwrap().iter())
            .find(|i| i["login"] == login.as_str())
            .and_then(|i| i["id"].as_i64());
        if let Some(id) = invitation {
            app.control(&format!("/github/invitations/{id}/accept"), json!({})).await;
        }
        let mut later: Vec<Delivery> = deliveries_after(app, before).await;
        later.extend(later.clone());
        for _ in 0..mix.next(4) {
            if !events.is_empty() {
                later.push(events[mix.next(events.len())].clone());
            }
        }
        let order = shuffled_with_duplicates(&later, &mut mix);
        deliver(app, &order, &mut mix).await;
        settle(app).await;
    }

    // What Stripe says now.
    let stripe = app.control_get("/stripe/state").await;
    let charges: Vec<&Value> = stripe["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["status"] == "succeeded"
                && if subscription.is_some() {
                    c["customer"] == customer.as_str()
                } else {
                    c["payment_intent"] == intent.as_str()
                }
        })
        .collect();
    let disputed = charges.iter().any(|c| c["disputed"] == true);
    let sub_status = subscription
        .as_ref()
        .and_then(|s| stripe["subscriptions"].as_array().unwrap().iter().find(|x| x["id"] == s.as_str()))
        .map(|x| x["status"].as_str().unwrap_or_default().to_owned());
    let should_end = match &sub_status {
        // A subscription ends when Stripe ends it (a refund does not end it).
        Some(status) => disputed || status == "canceled",
        // A one-time purchase ends when its money is returned.
        None => disputed || charges.iter().any(|c| c["refunded"] == true),
    };

    // What RepoPass did.
    let status: String = sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let log: Vec<(String, String)> =
        sqlx::query_as("SELECT action, COALESCE(detail, '') FROM access_log WHERE purchase_id = $1 ORDER BY id")
            .bind(purchase_id)
            .fetch_all(app.pool())
            .await
            .unwrap();
    let github = app.control_get("/github/state").await;
    let holds = github["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["invitations"].as_array().unwrap().iter().chain(r["collaborators"].as_array().unwrap().iter()))
        .filter(|x| x["login"] == login.as_str())
        .count();

    let summary = format!(
        "status {status}, Stripe subscription {sub_status:?}, charges {}, GitHub holds {holds}\nlog: {log:?}",
        charges.len()
    );
    if holds > 1 {
        return Err(format!("two invitations or memberships for one buyer — {summary}"));
    }
    let first_paid = log.iter().position(|(a, _)| a == "paid");
    if let Some(granted) = log.iter().position(|(a, _)| a == "invitation_sent" || a == "access_active") {
        if first_paid.is_none_or(|p| p > granted) {
            return Err(format!("access before any payment — {summary}"));
        }
    }
    if should_end {
        if status != "revoked" || holds != 0 {
            return Err(format!("Stripe ended it; RepoPass did not — {summary}"));
        }
    } else {
        if !matches!(status.as_str(), "invited" | "active") || holds != 1 {
            return Err(format!("paid for and not ended in Stripe, yet no access — {summary}"));
        }
        if story.accepts && status != "active" {
            return Err(format!("accepted on GitHub, not active — {summary}"));
        }
    }
    Ok(())
}
