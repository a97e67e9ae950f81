//! The webhook endpoints and the job queue: what is refused changes nothing,
//! what is accepted is stored once with its job, jobs are claimed once.

use sandbox::credentials::{GITHUB_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET};
use secrecy::SecretString;
use serde_json::json;

use crate::{helpers::TestApp, scenarios};

scenarios!(
    stripe_webhooks_are_verified_and_stored_once,
    github_webhooks_are_verified_and_answered,
    stripe_objects_name_purchases_by_their_random_id_only,
    deliveries_arriving_together_are_each_stored_once_with_their_job,
    a_delivery_the_database_refuses_does_not_refuse_those_stored_with_it
);

mod queue {
    // No worker in the app: these tests are the workers.
    crate::scenarios!(with [("REPOPASS_WORKERS", "0")] jobs_are_claimed_once_retried_and_end_dead);
    use super::jobs_are_claimed_once_retried_and_end_dead;
}

/// A delivery to the Stripe endpoint, signed with `signature` if given.
fn stripe_request(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::RequestBuilder {
    let request = app
        .client
        .post(app.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    match signature {
        Some(sig) => request.header("stripe-signature", sig),
        None => request,
    }
}

async fn post_stripe(app: &TestApp, body: &str, signature: Option<String>) -> u16 {
    stripe_request(app, body, signature).send().await.unwrap().status().as_u16()
}

fn stripe_sig(body: &str, at: i64) -> String {
    sandbox::deliveries::stripe_signature(&SecretString::from(STRIPE_WEBHOOK_SECRET), at, body)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(app.pool()).await.unwrap()
}

async fn stripe_webhooks_are_verified_and_stored_once(app: TestApp) {
    let event = json!({"id": "evt_test_1", "object": "event", "type": "invoice.payment_failed", "api_version": "2025-09-30.clover", "created": 1, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}, "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1", "parent": null}}}).to_string();
    let now = server::clock::now();
    let refused = [
        ("no signature", None),
        ("garbage", Some("nonsense".to_owned())),
        ("wrong secret", Some(sandbox::deliveries::stripe_signature(&SecretString::from("whsec_other"), now, &event))),
        ("stale", Some(stripe_sig(&event, now - 600))),
        ("another body", Some(stripe_sig(&event.replace("in_1", "in_2"), now))),
    ];
    for (what, sig) in refused {
        assert_eq!(post_stripe(&app, &event, sig).await, 400, "{what}");
    }
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(server::webhooks::MAX_BODY));
    assert_eq!(post_stripe(&app, &huge, Some(stripe_sig(&huge, now))).await, 413, "oversized");
    assert_eq!(
        (count(&app, "webhook_events").await, count(&app, "jobs WHERE kind LIKE '%_event'").await),
        (0, 0),
        "refusals store nothing"
    );

    assert_eq!(post_stripe(&app, &event, Some(stripe_sig(&event, now))).await, 200);
    assert_eq!(post_stripe(&app, &event, Some(stripe_sig(&event, now))).await, 200, "a duplicate is acknowledged");
    assert_eq!(count(&app, "webhook_events").await, 1, "stored once");
    assert_eq!(count(&app, "jobs WHERE kind LIKE '%_event'").await, 1, "one job");
    let stored: String = sqlx::query_scalar("SELECT payload FROM webhook_events").fetch_one(app.pool()).await.unwrap();
    assert_eq!(stored, event, "stored raw, byte for byte");

    // The worker reads it and records that there is nothing to do for it.
    let status = wait_for(&app, "SELECT status FROM webhook_events WHERE event_id = 'evt_test_1'", "ignored").await;
    assert_eq!(status, "ignored");
    let why: String = sqlx::query_scalar("SELECT error FROM webhook_events WHERE event_id = 'evt_test_1'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(why, "not a subscription invoice");

    // A type RepoPass never acts on (an endpoint subscribed to every event)
    // is stored as ignored at once, and queues no work.
    let other = event.replace("evt_test_1", "evt_test_2").replace("invoice.payment_failed", "customer.created");
    assert_eq!(post_stripe(&app, &other, Some(stripe_sig(&other, now))).await, 200);
    let (status, why): (String, String) =
        sqlx::query_as("SELECT status, error FROM webhook_events WHERE event_id = 'evt_test_2'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((status.as_str(), why.as_str()), ("ignored", "customer.created is not an event RepoPass acts on"));
    assert_eq!(count(&app, "jobs WHERE kind LIKE '%_event'").await, 1, "no job for it");
}

/// Polls `sql` (one text column) until it returns `want` (10 s at most).
pub async fn wait_for(app: &TestApp, sql: &str, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Some(v) = sqlx::query_scalar::<_, String>(sql).fetch_optional(app.pool()).await.unwrap() {
            if v == want {
                return v;
            }
            last = v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

async fn github_webhooks_are_verified_and_answered(app: TestApp) {
    let body = json!({"zen": "Keep it logically awesome.", "hook_id": 1}).to_string();
    let send = |sig: Option<String>, delivery: &'static str| {
        let mut request = app
            .client
            .post(app.url("/api/webhooks/github"))
            .header("x-github-event", "ping")
            .header("x-github-delivery", delivery)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(sig) = sig {
            request = request.header("x-hub-signature-256", sig);
        }
        request.send()
    };
    assert_eq!(send(None, "d-1").await.unwrap().status(), 400);
    assert_eq!(send(Some("sha256=00".into()), "d-1").await.unwrap().status(), 400);
    assert_eq!(count(&app, "webhook_events").await, 0);
    let good = sandbox::deliveries::github_signature(&SecretString::from(GITHUB_WEBHOOK_SECRET), &body);
    assert_eq!(send(Some(good.clone()), "d-1").await.unwrap().status(), 200);
    assert_eq!(send(Some(good.clone()), "d-1").await.unwrap().status(), 200);
    assert_eq!(count(&app, "webhook_events").await, 1);
    // A captured delivery replayed under a new delivery id: GitHub's
    // signature covers only the body, so the body decides. Acknowledged, not stored again.
    assert_eq!(send(Some(good), "d-replayed").await.unwrap().status(), 200);
    assert_eq!(count(&app, "webhook_events").await, 1, "a replayed body was stored as a new event");
    assert_eq!(
        wait_for(&app, "SELECT status FROM webhook_events WHERE event_id = 'd-1'", "processed").await,
        "processed",
        "ping is answered"
    );
}

/// Deliveries that arrive at the same moment are written together (one
/// transaction for all that wait): each is still stored once, with one job,
/// whoever else is in its group — repeats and replays included.
async fn deliveries_arriving_together_are_each_stored_once_with_their_job(app: TestApp) {
    let now = server::clock::now();
    let event = |i: usize, kind: &str| {
        json!({"id": format!("evt_together_{i}"), "object": "event", "type": kind, "api_version": "2025-09-30.clover", "created": now, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}, "data": {"object": {"id": format!("in_{i}"), "object": "invoice", "parent": null}}}).to_string()
    };
    // 48 events, the first 16 of them delivered twice, and one RepoPass never acts on.
    let mut bodies: Vec<String> = (0..48).map(|i| event(i, "invoice.payment_failed")).collect();
    bodies.extend((0..16).map(|i| event(i, "invoice.payment_failed")));
    bodies.push(event(99, "customer.created"));
    let stripe = bodies.iter().map(|body| stripe_request(&app, body, Some(stripe_sig(body, now))).send());
    // One GitHub body under two delivery ids (a replay), at the same moment.
    let ping = json!({"zen": "Together.", "hook_id": 2}).to_string();
    let signature = sandbox::deliveries::github_signature(&SecretString::from(GITHUB_WEBHOOK_SECRET), &ping);
    let github = ["d-together-1", "d-together-2"].map(|delivery| {
        app.client
            .post(app.url("/api/webhooks/github"))
            .header("x-github-event", "ping")
            .header("x-github-delivery", delivery)
            .header("x-hub-signature-256", &signature)
            .header("content-type", "application/json")
            .body(ping.clone())
            .send()
    });
    let (stripe, github) = futures::join!(futures::future::join_all(stripe), futures::future::join_all(github));
    let mut duplicates = 0;
    for answer in stripe.into_iter().chain(github) {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 200, "every delivery is acknowledged");
        let body: serde_json::Value = answer.json().await.unwrap();
        if body["duplicate"] == true {
            duplicates += 1;
        }
    }
    assert_eq!(duplicates, 17, "each repeat, and the replayed GitHub body, is acknowledged as seen before");
    assert_eq!(
        count(&app, "webhook_events WHERE event_id LIKE 'evt_together_%'").await,
        49,
        "each Stripe event stored once"
    );
    assert_eq!(
        count(&app, "webhook_events WHERE event_id LIKE 'd-together-%'").await,
        1,
        "the GitHub body stored once"
    );
    // One job for each event RepoPass acts on, pointing at its stored delivery.
    assert_eq!(
        count(&app, "jobs j JOIN webhook_events w ON j.dedupe_key = 'webhook:' || w.id WHERE w.event_id LIKE 'evt_together_%' OR w.event_id LIKE 'd-together-%'").await,
        49
    );
    assert_eq!(count(&app, "jobs WHERE kind LIKE '%_event'").await, 49, "no job without its delivery");
    assert_eq!(
        wait_for(&app, "SELECT status FROM webhook_events WHERE event_id = 'evt_together_47'", "ignored").await,
        "ignored",
        "the worker processes what was stored together"
    );
}

/// Deliveries arriving together are written in one transaction; when the
/// database refuses one of them (here a trigger stands for a disk or
/// constraint error on that row), the others are written one by one and
/// acknowledged, and only the refused one is answered 503 for a retry.
async fn a_delivery_the_database_refuses_does_not_refuse_those_stored_with_it(app: TestApp) {
    let refuse = match app.state.db.backend() {
        server::db::Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events WHEN NEW.event_id = 'evt_poison'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        server::db::Backend::Postgres => vec![
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN
                 IF NEW.event_id = 'evt_poison' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                 RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
        ],
    };
    for sql in refuse {
        sqlx::query(sql).execute(app.pool()).await.unwrap();
    }
    let now = server::clock::now();
    let event = |id: &str| {
        json!({"id": id, "object": "event", "type": "invoice.payment_failed", "api_version": "2025-09-30.clover", "created": now, "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null}, "data": {"object": {"id": "in_1", "object": "invoice", "parent": null}}}).to_string()
    };
    let ids: Vec<String> =
        (0..30).map(|i| if i == 15 { "evt_poison".to_owned() } else { format!("evt_fine_{i}") }).collect();
    let app = &app;
    let answers = futures::future::join_all(ids.iter().map(|id| {
        let body = event(id);
        async move { post_stripe(app, &body, Some(stripe_sig(&body, now))).await }
    }))
    .await;
    for (id, status) in ids.iter().zip(answers) {
        let want = if id == "evt_poison" { 503 } else { 200 };
        assert_eq!(status, want, "{id}");
    }
    assert_eq!(count(app, "webhook_events WHERE event_id LIKE 'evt_fine_%'").await, 29, "every other delivery stored");
    assert_eq!(count(app, "webhook_events WHERE event_id = 'evt_poison'").await, 0);
    assert_eq!(count(app, "jobs WHERE kind = 'stripe_event'").await, 29, "each with its job");
}

/// On a Stripe account shared with other products, another product's
/// dispute whose metadata says `purchase_id: "1"` must not revoke
/// RepoPass's purchase 1; the random public id is what names a purchase.
async fn stripe_objects_name_purchases_by_their_random_id_only(app: TestApp) {
    let (_, price_id) = crate::checkout::on_sale(&app).await;
    let (purchase_id, _) = crate::lifecycle::buy_and_pay(&app, price_id, "bob").await;
    wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "invited").await;
    let public_id: String = sqlx::query_scalar("SELECT public_id FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    let dispute = |event: &str, metadata: serde_json::Value| {
        json!({"id": event, "object": "event", "type": "charge.dispute.created", "api_version": "2025-09-30.clover", "created": 1, "livemode": false, "pending_webhooks": 1,
               "request": {"id": null, "idempotency_key": null},
               "data": {"object": {"id": format!("dp_{event}"), "object": "dispute", "charge": "ch_other_product", "payment_intent": null, "reason": "fraudulent", "amount": 900, "currency": "usd", "metadata": metadata}}})
        .to_string()
    };
    let now = server::clock::now();
    let foreign = dispute("evt_foreign", json!({ "purchase_id": purchase_id.to_string() }));
    assert_eq!(post_stripe(&app, &foreign, Some(stripe_sig(&foreign, now))).await, 200);
    assert_eq!(
        wait_for(&app, "SELECT status FROM webhook_events WHERE event_id = 'evt_foreign'", "ignored").await,
        "ignored"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM purchases WHERE id = $1")
        .bind(purchase_id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(status, "invited", "another product's event acted on a RepoPass purchase");

    // Named by its public id, the same event is ours.
    let ours = dispute("evt_ours", json!({ "purchase_id": purchase_id.to_string(), "purchase_public_id": public_id }));
    assert_eq!(post_stripe(&app, &ours, Some(stripe_sig(&ours, now))).await, 200);
    assert_eq!(
        wait_for(&app, &format!("SELECT status FROM purchases WHERE id = {purchase_id}"), "revoked").await,
        "revoked"
    );
}

pub async fn jobs_are_claimed_once_retried_and_end_dead(app: TestApp) {
    let db = &app.state.db;
    // Far in the future, so this process's own worker leaves them alone.
    let later = server::clock::now() + 3600;
    // Claimed and completed by the test itself, never run: any kind will do.
    for i in 0..40 {
        let key = format!("test_noop:{i}");
        server::jobs::enqueue(db.pool(), &server::jobs::Job::SendEmail { email_id: -1 }, later, Some(&key))
            .await
            .unwrap();
    }
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE dedupe_key LIKE 'test_noop:%'").execute(db.pool()).await.unwrap();
    // Four claimers race, two one job at a time and two in batches of
    // three (as each worker claims): every job once.
    let mut handles = Vec::new();
    for claimer in 0..4 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = if claimer % 2 == 0 {
                    server::jobs::claim(&db).await.unwrap().into_iter().collect()
                } else {
                    server::jobs::claim_batch(&db, 3).await.unwrap()
                };
                if batch.is_empty() {
                    break;
                }
                assert!(batch.len() <= 3, "a batch of {} jobs was claimed for at most 3", batch.len());
                for job in batch {
                    mine.push(job.id);
                    server::jobs::complete(&db, job.id).await.unwrap();
                }
            }
            mine
        }));
    }
    let mut claimed: Vec<i64> = Vec::new();
    for h in handles {
        claimed.extend(h.await.unwrap());
    }
    let done: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE 'test_noop:%' AND status = 'done'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), claimed.len(), "a job was claimed twice");
    assert_eq!(done, 40);

    // A job whose worker died is taken over when its lease runs out.
    let id = server::jobs::enqueue(db.pool(), &server::jobs::Job::SendEmail { email_id: -1 }, later, None)
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE jobs SET status = 'running', locked_until = $2, run_at = 0 WHERE id = $1")
        .bind(id)
        .bind(server::clock::now() - 1)
        .execute(db.pool())
        .await
        .unwrap();
    let first = server::jobs::claim(db).await.unwrap().expect("the expired lease is claimable");
    assert_eq!(first.id, id);
    // Its worker renews the lease while it runs; once the lease ran out and
    // another worker took the job, the old claim can renew it no more.
    assert!(server::jobs::renew(db, &first).await.unwrap(), "the running claim renews its lease");
    run_out_lease(db, id).await;
    let again = server::jobs::claim(db).await.unwrap().expect("taken over");
    assert!(!server::jobs::renew(db, &first).await.unwrap(), "a claim that was taken over renewed the lease");
    assert!(server::jobs::renew(db, &again).await.unwrap());

    // A batch takes the jobs whose lease ran out first, then the due ones
    // oldest first, and no more than asked.
    let mut due = Vec::new();
    for (i, run_at) in [(0, 20), (1, 10), (2, 30)] {
        let key = format!("test_batch:{i}");
        let job = server::jobs::Job::SendEmail { email_id: -1 };
        due.push(server::jobs::enqueue(db.pool(), &job, run_at, Some(&key)).await.unwrap().unwrap());
    }
    run_out_lease(db, id).await;
    let batch: Vec<i64> = server::jobs::claim_batch(db, 3).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(batch.len(), 3, "{batch:?}");
    assert_eq!(batch.iter().filter(|j| **j == id).count(), 1, "the run-out lease is in the batch: {batch:?}");
    assert!(batch.contains(&due[1]) && batch.contains(&due[0]), "the two oldest due jobs: {batch:?}");
    assert!(!batch.contains(&due[2]), "more than asked, or not the oldest: {batch:?}");
    let again = server::jobs::Claimed {
        attempts: sqlx::query_scalar("SELECT attempts FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap(),
        ..again
    };
    let rest: Vec<i64> = server::jobs::claim_batch(db, 3).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(rest, vec![due[2]], "what the first batch left");
    for job in due {
        server::jobs::complete(db, job).await.unwrap();
    }

    // Failing with no attempts left: dead, with the error; an admin's retry revives it.
    sqlx::query("UPDATE jobs SET max_attempts = attempts WHERE id = $1").bind(id).execute(db.pool()).await.unwrap();
    let job = server::jobs::Claimed { max_attempts: again.attempts, ..again };
    assert!(server::jobs::fail(db, &job, "GitHub answered 500", None).await.unwrap());
    let (status, error): (String, Option<String>) = sqlx::query_as("SELECT status, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!((status.as_str(), error.as_deref()), ("dead", Some("GitHub answered 500")));
    assert_eq!(server::jobs::dead(db).await.unwrap().len(), 1);
    assert!(server::jobs::retry_dead(db, id).await.unwrap());
    let status: String =
        sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap();
    assert_eq!(status, "pending");
}

/// The job's lease ran out a second ago (its worker died, or stalled).
async fn run_out_lease(db: &server::Db, id: i64) {
    sqlx::query("UPDATE jobs SET locked_until = $2 WHERE id = $1")
        .bind(id)
        .bind(server::clock::now() - 1)
        .execute(db.pool())
        .await
        .unwrap();
}
