//! Alerts and scheduled backups (issue 25): each condition made through the
//! sandbox, the creator's mailbox holding exactly one email per condition
//! and hour (with the count when more came), then one resolved notice; a
//! backup a day on the sandbox clock, verified, the oldest pruned, and a
//! restored copy that `repopass migrate` accepts with every purchase.
//!
//! The checks run as the `check_alerts` job runs them
//! (`alert_checks::check`), called here so that each step is one check.

use std::time::Duration;

use serde_json::json;

use crate::{checkout::on_sale, helpers::TestApp, lifecycle::buy_and_pay, scenarios, webhooks::wait_for};

scenarios!(with [("REPOPASS_BACKUP_KEEP", "2")]
    a_github_outage_longer_than_the_retries_alerts_once_per_condition_and_hour_then_resolves,
    a_silent_stripe_and_refused_signatures_alert_then_resolve,
    drift_and_a_lost_installation_alert_then_resolve,
    a_spike_of_failed_payments_alerts_on_the_sandbox_clock,
    a_backup_a_day_on_the_sandbox_clock_is_verified_pruned_and_restores
);

const OPS: &str = "ops@example.com";

/// (subject, body) of the alert emails of `kind` (`alert`, `alert_resolved`) to OPS.
async fn mail(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT subject, body_text FROM emails WHERE kind = $1 AND to_address = $2 ORDER BY id")
        .bind(kind)
        .bind(OPS)
        .fetch_all(app.pool())
        .await
        .unwrap()
}

fn subjects(mail: &[(String, String)]) -> Vec<String> {
    mail.iter().map(|(s, _)| s.clone()).collect()
}

/// The emails about one condition, found by words of its subject.
fn about<'a>(mail: &'a [(String, String)], words: &str) -> Vec<&'a (String, String)> {
    mail.iter().filter(|(s, _)| s.contains(words)).collect()
}

async fn check(app: &TestApp) {
    server::alert_checks::check(&app.state).await.unwrap();
}

async fn advance(app: &TestApp, seconds: i64) {
    app.control("/clock/advance", json!({ "seconds": seconds })).await;
}

/// The job queue's backoff runs on the system clock (minutes apart): the
/// test brings each retry of the jobs still pending forward instead of
/// waiting, until one of them is dead.
async fn until_dead(app: &TestApp, kind: &str, dead_before: i64) -> i64 {
    for _ in 0..400 {
        sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'pending' AND kind = $1")
            .bind(kind)
            .execute(app.pool())
            .await
            .unwrap();
        app.state.wake.notify();
        let dead: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'dead'").fetch_one(app.pool()).await.unwrap();
        if dead > dead_before {
            return dead;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} job used up its attempts");
}

async fn status(app: &TestApp, purchase: i64, want: &str) {
    let sql = format!("SELECT status FROM purchases WHERE id = {purchase}");
    assert_eq!(wait_for(app, &sql, want).await, want, "purchase {purchase}");
}

async fn accept_invitation(app: &TestApp, login: &str) {
    let github = app.control_get("/github/state").await;
    let repo = crate::lifecycle::repo_state(&github);
    let id =
        repo["invitations"].as_array().unwrap().iter().find(|i| i["login"] == login).unwrap()["id"].as_i64().unwrap();
    app.control(&format!("/github/invitations/{id}/accept"), json!({})).await;
}

async fn a_github_outage_longer_than_the_retries_alerts_once_per_condition_and_hour_then_resolves(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    let (_, price_id) = on_sale(&app).await;
    let (alice, _) = buy_and_pay(&app, price_id, "alice").await;
    status(&app, alice, "invited").await;
    check(&app).await;
    assert!(mail(&app, "alert").await.is_empty(), "all in order: no alert");
    let alice_subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(alice)
        .fetch_one(app.pool())
        .await
        .unwrap();

    // Bob checks out; GitHub answers 500 to everything from before he pays,
    // for longer than the job queue retries.
    let outage = json!({ "fault": "server_error", "count": 100_000 });
    let (bob, _) = crate::lifecycle::buy_then(&app, price_id, "bob", outage).await;
    until_dead(&app, "stripe_event", 0).await;
    check(&app).await;
    let first = mail(&app, "alert").await;
    assert_eq!(first.len(), 1, "one email, about the job: {:?}", subjects(&first));
    let (subject, body) = &first[0];
    assert!(subject.starts_with("[RepoPass alert] A stripe_event job stopped retrying"), "{subject}");
    assert!(body.contains(&format!("purchase #{bob} (@bob, Enterprise SDK)")), "which purchase: {body}");
    assert!(body.contains("/admin/events#job-"), "the retry link: {body}");
    assert!(body.contains("What to do: "), "{body}");

    // Alice's subscription is cancelled: her access must go, and GitHub
    // will not take it. A second job dies within the hour: counted, not
    // emailed yet.
    app.control(&format!("/stripe/subscriptions/{alice_subscription}/cancel"), json!({})).await;
    until_dead(&app, "stripe_event", 1).await;
    check(&app).await;
    assert_eq!(mail(&app, "alert").await.len(), 1, "at most one email an hour per condition");

    // Bob paid and has had no invitation for 15 minutes (sandbox clock).
    advance(&app, 16 * 60).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    let not_invited = about(&now, "not invited");
    assert_eq!(not_invited.len(), 1, "{:?}", subjects(&now));
    assert!(not_invited[0].1.contains(&format!("purchase #{bob} (@bob, Enterprise SDK)")), "{}", not_invited[0].1);
    assert_eq!(now.len(), 2);

    // An hour after the first email: one more, with the count.
    advance(&app, 45 * 60).await;
    check(&app).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    assert_eq!(now.len(), 3, "{:?}", subjects(&now));
    assert_eq!(
        now[2].0, "[RepoPass alert] Still: A job stopped retrying (1 more since the last email, 2 in all)",
        "the hour's email counts what came"
    );
    assert!(now[2].1.contains(&format!("purchase #{alice} (@alice, Enterprise SDK)")), "{}", now[2].1);

    // GitHub is back; the creator retries the jobs: bob is invited, alice's
    // access goes.
    app.control("/github/faults", json!({ "fault": "server_error", "count": 0 })).await;
    let dead: Vec<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'dead' ORDER BY id")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(dead.len(), 2);
    for id in dead {
        assert!(server::jobs::retry_dead(&app.state.db, id).await.unwrap());
    }
    app.state.wake.notify();
    status(&app, bob, "invited").await;
    status(&app, alice, "revoked").await;
    check(&app).await;
    check(&app).await;
    let resolved = mail(&app, "alert_resolved").await;
    let mut got = subjects(&resolved);
    got.sort();
    assert_eq!(
        got,
        ["[RepoPass] Resolved: A job stopped retrying", "[RepoPass] Resolved: A paid purchase has no invitation"],
        "one resolved notice per condition"
    );
    assert!(resolved.iter().any(|(_, b)| b.contains("2 occurrences in all")), "{resolved:?}");
    assert_eq!(mail(&app, "alert").await.len(), 3, "nothing more");
}

async fn a_silent_stripe_and_refused_signatures_alert_then_resolve(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    let (_, price_id) = on_sale(&app).await;
    let (alice, _) = buy_and_pay(&app, price_id, "alice").await;
    status(&app, alice, "invited").await;
    check(&app).await;

    let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
        .bind(alice)
        .fetch_one(app.pool())
        .await
        .unwrap();

    // Stripe's deliveries stop reaching RepoPass (its endpoint points
    // elsewhere). A quiet day alone is no alert: a small store may hear
    // nothing for days.
    app.control("/webhook_target", json!({ "base": "http://127.0.0.1:9" })).await;
    advance(&app, 25 * 3600).await;
    check(&app).await;
    assert!(about(&mail(&app, "alert").await, "Stripe").is_empty(), "quiet, with nothing Stripe had to say");

    // The subscription renews: Stripe has events, and RepoPass gets them
    // only by asking (its poll every 15 minutes).
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    let recovered = server::lifecycle::recover_stripe_events(&app.state).await.unwrap();
    assert!(recovered > 0, "the poll found the renewal's events");
    check(&app).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    let silent = about(&now, "No webhook from Stripe");
    assert_eq!(silent.len(), 1, "{:?}", subjects(&now));
    assert_eq!(silent[0].0, "[RepoPass alert] No webhook from Stripe for 1 day 1 h");
    assert!(silent[0].1.contains("RepoPass had to fetch itself"), "what it affects: {}", silent[0].1);
    assert!(silent[0].1.contains("/api/webhooks/stripe"), "what to do: {}", silent[0].1);

    // Deliveries signed with a secret RepoPass does not have (rotated in Stripe).
    for n in 0..2 {
        let payload = json!({"id": format!("evt_rotated_{n}"), "object": "event", "type": "invoice.paid", "data": {"object": {}}}).to_string();
        let t = server::clock::now();
        let signature =
            sandbox::deliveries::stripe_signature(&secrecy::SecretString::from("whsec_rotated_elsewhere"), t, &payload);
        let answer = app
            .client
            .post(app.url("/api/webhooks/stripe"))
            .header("stripe-signature", signature)
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
    }
    check(&app).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    let refused = about(&now, "signature check");
    assert_eq!(refused.len(), 1, "{:?}", subjects(&now));
    assert!(refused[0].0.contains("2 webhook deliveries failed the signature check"), "{}", refused[0].0);
    assert!(refused[0].1.contains("STRIPE_WEBHOOK_SECRET"), "{}", refused[0].1);

    // Stripe's endpoint is fixed and it delivers again (the next renewal),
    // signed right: both clear.
    app.control("/webhook_target", json!({ "base": null })).await;
    let delivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE provider = 'stripe'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
    let more = format!("SELECT CASE WHEN COUNT(*) > {delivered} THEN 'yes' ELSE 'no' END FROM webhook_events WHERE provider = 'stripe'");
    assert_eq!(wait_for(&app, &more, "yes").await, "yes");
    check(&app).await;
    check(&app).await;
    let mut resolved = subjects(&mail(&app, "alert_resolved").await);
    resolved.sort();
    assert_eq!(
        resolved,
        [
            "[RepoPass] Resolved: Stripe's webhooks stopped arriving",
            "[RepoPass] Resolved: Webhook deliveries fail their signature check"
        ]
    );
    assert_eq!(mail(&app, "alert").await.len(), 2, "one email per condition");
}

/// The texts a chat channel (the sandbox's request bin `name`, as a Slack
/// incoming webhook) has received, oldest first, once there are `n`.
async fn channel(app: &TestApp, name: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let listed: serde_json::Value = app.get(&format!("/sandbox/requests/{name}.json")).await.json().await.unwrap();
        let mut texts: Vec<String> = listed["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let body: serde_json::Value = serde_json::from_str(r["request"]["body"].as_str().unwrap()).unwrap();
                body["text"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        if texts.len() >= n {
            texts.reverse();
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the channel {name} did not receive {n} messages");
}

async fn drift_and_a_lost_installation_alert_then_resolve(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    // A Slack channel hears the same alerts (Settings → Alerts & backups
    // adds it so: an endpoint of Slack's format with the alert events).
    let key = crate::rest_api::api_key(&app).await;
    let slack = json!({"url": app.url("/sandbox/requests/ops-channel"), "format": "slack", "event_types": ["alert.opened", "alert.resolved"]});
    let (code, made) = crate::rest_api::api(&app, Some(&key), "POST", "/webhook-endpoints", Some(slack)).await;
    assert_eq!(code, 201, "{made}");
    let (_, price_id) = on_sale(&app).await;
    let (bob, _) = buy_and_pay(&app, price_id, "bob").await;
    status(&app, bob, "invited").await;
    accept_invitation(&app, "bob").await;
    status(&app, bob, "active").await;
    server::scheduled::reconcile(&app.state).await.unwrap();
    check(&app).await;
    assert!(mail(&app, "alert").await.is_empty());

    // Carol, who never paid, is added by hand.
    app.collaborator_by_hand("carol").await;
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 1);
    check(&app).await;
    // The next reconciliation writes the same finding anew: not a new one.
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 1);
    check(&app).await;
    let now = mail(&app, "alert").await;
    assert_eq!(now.len(), 1, "{:?}", subjects(&now));
    assert_eq!(now[0].0, "[RepoPass alert] Reconciliation found 1 difference between GitHub and the purchases");
    assert!(now[0].1.contains("@carol on sandbox-org/enterprise-sdk: a collaborator with no purchase"), "{}", now[0].1);
    let heard = channel(&app, "ops-channel", 1).await;
    assert!(
        heard[0].starts_with(
            "RepoPass alert: Reconciliation found 1 difference between GitHub and the purchases. What to do: Press Fix"
        ),
        "{heard:?}"
    );

    let finding = server::scheduled::drift(&app.state).await.unwrap().remove(0);
    server::scheduled::fix_drift(&app.state, finding.id, &server::purchase_state::Cause::System).await.unwrap();
    check(&app).await;
    assert_eq!(
        subjects(&mail(&app, "alert_resolved").await),
        ["[RepoPass] Resolved: Access differs from what was paid for"]
    );
    assert_eq!(channel(&app, "ops-channel", 2).await[1], "Resolved: Access differs from what was paid for.");

    // Carol is back within the hour: the alert is open again, but no email
    // until an hour after the last one, however many checks run.
    app.collaborator_by_hand("carol").await;
    assert_eq!(server::scheduled::reconcile(&app.state).await.unwrap(), 1);
    for _ in 0..3 {
        check(&app).await;
    }
    assert_eq!(mail(&app, "alert").await.len(), 1, "a condition that comes back within the hour waits for the hour");
    advance(&app, 61 * 60).await;
    check(&app).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    assert_eq!(now.len(), 2, "{:?}", subjects(&now));
    assert_eq!(now[1].0, "[RepoPass alert] Reconciliation found 1 difference between GitHub and the purchases");

    // The organisation's owner suspends the RepoPass App on GitHub.
    app.control("/github/installations/sandbox-org/suspend", json!({})).await;
    let lost = "SELECT github_state FROM repositories WHERE name = 'enterprise-sdk'";
    assert_eq!(wait_for(&app, lost, "access_lost").await, "access_lost");
    check(&app).await;
    check(&app).await;
    let now = mail(&app, "alert").await;
    let gone = about(&now, "lost access");
    assert_eq!(gone.len(), 1, "{:?}", subjects(&now));
    assert_eq!(
        gone[0].0,
        "[RepoPass alert] RepoPass lost access to sandbox-org/enterprise-sdk on GitHub, a repository on sale"
    );
    assert!(gone[0].1.contains("1 customer with access"), "{}", gone[0].1);
    assert!(
        gone[0].1.contains("lift the RepoPass App's suspension or install it on sandbox-org again"),
        "{}",
        gone[0].1
    );

    app.control("/github/installations/sandbox-org/unsuspend", json!({})).await;
    assert_eq!(wait_for(&app, lost, "ok").await, "ok");
    check(&app).await;
    let resolved = subjects(&mail(&app, "alert_resolved").await);
    assert_eq!(resolved.len(), 2, "{resolved:?}");
    assert_eq!(resolved[1], "[RepoPass] Resolved: GitHub access to a repository on sale was lost");
    assert_eq!(mail(&app, "alert").await.len(), 3);
}

async fn a_spike_of_failed_payments_alerts_on_the_sandbox_clock(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    let (_, price_id) = on_sale(&app).await;
    let mut purchases = Vec::new();
    for login in ["alice", "bob", "carol"] {
        let (id, _) = buy_and_pay(&app, price_id, login).await;
        status(&app, id, "invited").await;
        purchases.push(id);
    }
    check(&app).await;
    for (n, id) in purchases.iter().enumerate() {
        let subscription: String = sqlx::query_scalar("SELECT stripe_subscription_id FROM purchases WHERE id = $1")
            .bind(id)
            .fetch_one(app.pool())
            .await
            .unwrap();
        app.control(&format!("/stripe/subscriptions/{subscription}/fail_next_payment"), json!({})).await;
        app.control(&format!("/stripe/subscriptions/{subscription}/renew"), json!({})).await;
        let failed = "SELECT CAST(COUNT(*) AS TEXT) FROM access_log WHERE action = 'payment_failed'";
        assert_eq!(wait_for(&app, failed, &(n + 1).to_string()).await, (n + 1).to_string());
        check(&app).await;
        let spikes = about(&mail(&app, "alert").await, "failed payments").len();
        assert_eq!(spikes, usize::from(n == 2), "two failures are no spike; the third is (after {})", n + 1);
    }
    let now = mail(&app, "alert").await;
    let spike = about(&now, "failed payments");
    assert_eq!(
        spike[0].0,
        "[RepoPass alert] 3 failed payments in the last 24 hours, against 0.0 a day over the 30 days before"
    );
    for id in &purchases {
        assert!(spike[0].1.contains(&format!("purchase #{id} ")), "{}", spike[0].1);
    }

    // A day later the failures are outside the window: resolved.
    advance(&app, 25 * 3600).await;
    check(&app).await;
    check(&app).await;
    let resolved = subjects(&mail(&app, "alert_resolved").await);
    assert!(resolved.contains(&"[RepoPass] Resolved: Many failed payments".to_owned()), "{resolved:?}");
    assert_eq!(about(&mail(&app, "alert").await, "failed payments").len(), 1, "one email for the spike");
}

async fn a_backup_a_day_on_the_sandbox_clock_is_verified_pruned_and_restores(app: TestApp) {
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    let (_, price_id) = on_sale(&app).await;
    let (alice, _) = buy_and_pay(&app, price_id, "alice").await;
    let (bob, _) = buy_and_pay(&app, price_id, "bob").await;
    status(&app, alice, "invited").await;
    status(&app, bob, "invited").await;

    if app.state.db.backend() == server::db::Backend::Postgres {
        // PostgreSQL has its own tools: nothing is scheduled or checked.
        server::scheduled::schedule(&app.state).await.unwrap();
        let jobs: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'back_up'").fetch_one(app.pool()).await.unwrap();
        assert_eq!(jobs, 0);
        let refused = server::backups::take(&app.state).await.unwrap_err().to_string();
        assert!(refused.contains("pg_dump"), "{refused}");
        advance(&app, 3 * 86_400).await;
        check(&app).await;
        assert!(about(&mail(&app, "alert").await, "backup").is_empty());
        return;
    }

    let verified = |n: usize| {
        format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM backups WHERE status IN ('verified', 'pruned') HAVING COUNT(*) >= {n}"
        )
    };
    for day in 1..=3 {
        server::scheduled::schedule(&app.state).await.unwrap();
        app.state.wake.notify();
        assert_eq!(wait_for(&app, &verified(day), &day.to_string()).await, day.to_string(), "day {day}'s backup");
        // Scheduled again the same day: no second backup.
        server::scheduled::schedule(&app.state).await.unwrap();
        advance(&app, 86_400).await;
    }
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT path, status, detail FROM backups ORDER BY id").fetch_all(app.pool()).await.unwrap();
    assert_eq!(rows.len(), 3, "one a day: {rows:?}");
    assert_eq!(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["pruned", "verified", "verified"], "two kept");
    assert!(!std::path::Path::new(&rows[0].0).exists(), "the oldest file is deleted");
    for (path, _, detail) in &rows[1..] {
        assert!(std::path::Path::new(path).exists(), "{path}");
        assert_eq!(detail, "integrity ok; 2 purchases");
    }

    // Two days and more without a backup: an alert, then resolved by one.
    advance(&app, 2 * 86_400).await;
    check(&app).await;
    let stale = about(&mail(&app, "alert").await, "backup").len();
    assert_eq!(stale, 1, "{:?}", subjects(&mail(&app, "alert").await));
    let taken = server::backups::take(&app.state).await.unwrap();
    assert_eq!(taken.status, server::domain::BackupStatus::Verified);
    check(&app).await;
    assert_eq!(subjects(&mail(&app, "alert_resolved").await), ["[RepoPass] Resolved: No recent backup"]);

    // Restored elsewhere: `repopass migrate` accepts it, every purchase there.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restored_dir.path().join("restored.db");
    std::fs::copy(&taken.path, &restored).unwrap();
    let url = format!("sqlite://{}", restored.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_repopass"))
        .arg("migrate")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &url)
        .env("REPOPASS_DATA_DIR", restored_dir.path())
        .current_dir(restored_dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
    let live: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, github_login, status FROM purchases ORDER BY id")
        .fetch_all(app.pool())
        .await
        .unwrap();
    let copy = sqlx::AnyPool::connect(&url).await.unwrap();
    let kept: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, github_login, status FROM purchases ORDER BY id").fetch_all(&copy).await.unwrap();
    assert_eq!(kept, live, "every purchase, as it was");
}

/// PostgreSQL only: the database server refuses this test's database for
/// over a minute (its connections ended, new ones refused), then lets it
/// back in. SQLite is a file in the process: it is not "out of reach".
#[tokio::test]
async fn the_database_out_of_reach_of_the_worker_for_over_a_minute_is_told_once_it_is_back() {
    crate::helpers::run_scenario(
        "alerts::postgres::database_outage",
        crate::helpers::Backend::Postgres,
        &[],
        database_outage,
    )
    .await;
}

async fn database_outage(app: TestApp) {
    use sqlx::Connection;
    server::preferences::set_creator_email(&app.state.db, OPS).await.unwrap();
    let name: String =
        sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)").fetch_one(app.pool()).await.unwrap();
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("the PostgreSQL variant runs with TEST_DATABASE_URL");
    let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT CAST(pg_terminate_backend(pid) AS TEXT) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .fetch_all(&mut admin)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(70)).await;
    sqlx::query(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).execute(&mut admin).await.unwrap();

    // The pool's connections were ended with the database's: a query may
    // fail once before a fresh one is made.
    let mut got: Vec<(String, String)> = Vec::new();
    for _ in 0..150 {
        let read = sqlx::query_as("SELECT subject, body_text FROM emails WHERE kind = 'alert' ORDER BY id")
            .fetch_all(app.pool())
            .await;
        if let Ok(rows) = read {
            got = rows;
            if !got.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(got.len(), 1, "{:?}", subjects(&got));
    assert!(
        got[0].0.starts_with("[RepoPass alert] The database was unreachable from the worker for 1 min"),
        "{}",
        got[0].0
    );
    assert!(got[0].1.contains("from 20") && got[0].1.contains(" to 20"), "the window: {}", got[0].1);
    assert!(got[0].1.contains("Stripe and GitHub send them again"), "{}", got[0].1);
    // Told once: the next claims find nothing more to tell.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mail(&app, "alert").await.len(), 1);
    let resolved: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alerts WHERE kind = 'database_unreachable' AND resolved_at IS NOT NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(resolved, 1, "recorded as over, with its window");
}
