//! Crashes and several processes, with the real `repopass` binary: no
//! payment webhook is lost and no purchase is invited twice when the process
//! is killed (SIGKILL) in the middle of a burst, and when two processes share
//! one PostgreSQL database and one burst; and `repopass backup` taken in the
//! middle of a burst restores with every acknowledged webhook.
//!
//! 200 buyers pay for one of four repositories (GitHub allows 50 invitations
//! per repository a day; the sandbox holds RepoPass to that). The sandbox's
//! own webhook deliveries are pointed at a closed port, so the test delivers
//! the signed `checkout.session.completed` events itself, as Stripe would:
//! all at once, and again when they were not acknowledged.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::helpers::{guarded_for, repopass_command, scenario_limit, serve_command, Backend, Served, TestDatabase};

/// Hundreds of purchases through real processes: more than a scenario.
fn limit() -> Duration {
    scenario_limit() * 3
}

const BUYERS: usize = 200;
const REPOSITORIES: usize = 4;

#[tokio::test]
async fn a_killed_process_loses_no_payment_and_invites_no_one_twice_sqlite() {
    guarded_for(concat!(module_path!(), "::sqlite"), limit(), killed_mid_burst(Backend::Sqlite)).await;
}

#[tokio::test]
async fn a_killed_process_loses_no_payment_and_invites_no_one_twice_postgres() {
    guarded_for(concat!(module_path!(), "::postgres"), limit(), killed_mid_burst(Backend::Postgres)).await;
}

#[tokio::test]
async fn two_processes_share_one_burst_without_running_a_job_twice_postgres() {
    guarded_for(concat!(module_path!(), "::two_processes"), limit(), two_processes(Backend::Postgres)).await;
}

#[tokio::test]
async fn a_backup_taken_during_a_burst_restores_with_every_acknowledged_webhook_sqlite() {
    guarded_for(concat!(module_path!(), "::backup"), limit(), backup_during_burst()).await;
}

/// A `repopass serve` process of the test's own, with the limits a burst needs.
struct Process;

impl Process {
    fn start(db: &TestDatabase) -> Served {
        Served::start(serve_command(db, "warn,repopass=info,server::worker=info").env("REPOPASS_RATE_LIMIT", "100000"))
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn ok_json(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Four repositories on sale, 200 buyers who paid on the sandbox's
/// Checkout; returns each payment's signed-webhook payload (event id, body).
async fn paid_purchases(p: &Served, db: &server::Db) -> Vec<(String, String)> {
    let client = http();
    let key = server::api_keys::create(db, "crash test", None).await.unwrap().secret.expose_secret().to_owned();
    let control = |path: &str, body: Value| client.post(p.url(&format!("/sandbox/control{path}"))).json(&body).send();
    // The sandbox's deliveries go nowhere: the test delivers them itself.
    ok_json(control("/webhook_target", json!({"base": "http://127.0.0.1:9"})).await.unwrap(), "webhook target").await;
    let mut prices = Vec::new();
    for r in 0..REPOSITORIES {
        let name = format!("crash-kit-{r}");
        ok_json(
            control("/github/repos", json!({"owner": "sandbox-creator", "name": name})).await.unwrap(),
            "repository",
        )
        .await;
        let repo = json!({"owner": "sandbox-creator", "name": name, "slug": name, "title": format!("Crash kit {r}"), "published": true});
        let repo = ok_json(
            client.post(p.url("/api/v1/repositories")).bearer_auth(&key).json(&repo).send().await.unwrap(),
            "add repository",
        )
        .await;
        let price = json!({"interval": "one_time", "unit_amount": 1000, "currency": "usd"});
        let price = ok_json(
            client
                .post(p.url(&format!("/api/v1/repositories/{}/prices", repo["id"])))
                .bearer_auth(&key)
                .json(&price)
                .send()
                .await
                .unwrap(),
            "price",
        )
        .await;
        prices.push(price["id"].as_i64().unwrap());
    }
    let sessions: Vec<String> = stream::iter(0..BUYERS)
        .map(|i| {
            let (client, prices) = (client.clone(), prices.clone());
            async move {
                let login = format!("crash-buyer-{i:03}");
                ok_json(
                    client
                        .post(p.url("/sandbox/control/github/users"))
                        .json(&json!({"login": login}))
                        .send()
                        .await
                        .unwrap(),
                    "user",
                )
                .await;
                let form = [
                    ("price_id", prices[i % REPOSITORIES].to_string()),
                    ("github_username", login.clone()),
                    ("email", format!("{login}@example.com")),
                ];
                let checkout =
                    client.post(p.url("/api/checkout")).header("accept", "text/html").form(&form).send().await.unwrap();
                assert_eq!(checkout.status(), 303, "{login}: {:?}", checkout.text().await);
                let session = checkout.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
                ok_json(
                    client
                        .post(p.url(&format!("/sandbox/control/stripe/checkout/{session}/pay")))
                        .json(&json!({}))
                        .send()
                        .await
                        .unwrap(),
                    "pay",
                )
                .await;
                session
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(sessions.len(), BUYERS);
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT event_id, payload FROM sandbox_deliveries WHERE provider = 'stripe' AND event_type = 'checkout.session.completed' ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(events.len(), BUYERS, "one payment event per buyer");
    events
}

/// Delivers `events` to the processes in turn, signed now, 32 at a time;
/// counts each one acknowledged (2xx) in `acked`. Returns the indexes acknowledged.
async fn deliver(
    targets: Vec<String>,
    events: Arc<Vec<(String, String)>>,
    which: Vec<usize>,
    acked: Arc<AtomicUsize>,
) -> Vec<usize> {
    let client = http();
    let secret = SecretString::from(sandbox::credentials::STRIPE_WEBHOOK_SECRET);
    stream::iter(which)
        .map(|i| {
            let (client, secret, acked) = (client.clone(), secret.clone(), acked.clone());
            let target = format!("{}/api/webhooks/stripe", targets[i % targets.len()]);
            let payload = events[i].1.clone();
            async move {
                let signature = sandbox::deliveries::stripe_signature(&secret, server::clock::now(), &payload);
                let sent = client
                    .post(target)
                    .header("content-type", "application/json")
                    .header("stripe-signature", signature)
                    .body(payload)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        acked.fetch_add(1, Ordering::SeqCst);
                        Some(i)
                    }
                    Ok(r) => panic!("a signed payment webhook was refused: {}", r.status()),
                    // The process was killed under it: not acknowledged.
                    Err(_) => None,
                }
            }
        })
        .buffer_unordered(32)
        .filter_map(|i| async move { i })
        .collect()
        .await
}

/// Waits until every purchase is invited; returns how long that took.
async fn all_invited(db: &server::Db, log: &dyn Fn() -> String) -> Duration {
    let started = Instant::now();
    loop {
        let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE status = 'invited'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if invited as usize == BUYERS {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(200),
            "{invited} of {BUYERS} invited after {:?}; log:\n{}",
            started.elapsed(),
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Exactly one invitation per buyer on GitHub, each RepoPass's own and
/// recorded on its purchase; each event stored once and processed.
async fn one_invitation_each(p: &Served, db: &server::Db) {
    let state = ok_json(http().get(p.url("/sandbox/control/github/state")).send().await.unwrap(), "GitHub state").await;
    let mut invited: Vec<String> = state["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["full_name"].as_str().unwrap().starts_with("sandbox-creator/crash-kit-"))
        .flat_map(|r| {
            r["invitations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["login"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    invited.sort();
    let total = invited.len();
    invited.dedup();
    assert_eq!(
        (total, invited.len()),
        (BUYERS, BUYERS),
        "invitations on GitHub: {total}, people invited: {}",
        invited.len()
    );
    let (ours, recorded): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(g.github_invitation_id) FROM purchases p JOIN grants g ON g.purchase_id = p.id WHERE p.status = 'invited' AND g.github_access = 'repopass'").fetch_one(db.pool()).await.unwrap();
    assert_eq!(
        (ours as usize, recorded as usize),
        (BUYERS, BUYERS),
        "an invitation sent before the crash was taken for access the buyer already had"
    );
    let (events, processed): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(CASE WHEN status = 'processed' THEN 1 END) FROM webhook_events WHERE provider = 'stripe' AND event_type = 'checkout.session.completed'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!((events as usize, processed as usize), (BUYERS, BUYERS), "each payment event stored once and processed");
}

async fn killed_mid_burst(backend: Backend) {
    let Some(test_db) = TestDatabase::create(backend).await else { return };
    let mut first = Process::start(&test_db);
    let db = server::Db::connect(&SecretString::from(test_db.url.clone())).await.unwrap();
    let started = Instant::now();
    let events = Arc::new(paid_purchases(&first, &db).await);
    eprintln!("{backend:?}: {BUYERS} paid in {:.1} s", started.elapsed().as_secs_f64());

    // The burst; SIGKILL once half of it was acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let burst = tokio::spawn(deliver(vec![first.base.clone()], events.clone(), (0..BUYERS).collect(), acked.clone()));
    while acked.load(Ordering::SeqCst) < BUYERS / 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.kill();
    let acknowledged = burst.await.unwrap();
    eprintln!("{backend:?}: killed after {} acknowledged", acknowledged.len());
    assert!(
        acknowledged.len() >= BUYERS / 2 && acknowledged.len() < BUYERS,
        "killed after {} acknowledged",
        acknowledged.len()
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT event_id FROM webhook_events WHERE provider = 'stripe'")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let lost: Vec<&String> = acknowledged.iter().map(|i| &events[*i].0).filter(|id| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged before the kill, but not stored: {lost:?}");

    // Jobs the killed process had claimed: theirs until the lease runs out.
    let orphaned: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'running'").fetch_all(db.pool()).await.unwrap();

    // Restarted: Stripe redelivers what was not acknowledged, and some that were.
    let restarted = Instant::now();
    let second = Process::start(&test_db);
    let mut again: Vec<usize> = (0..BUYERS).filter(|i| !acknowledged.contains(i)).collect();
    again.extend(acknowledged.iter().take(20));
    let redelivered =
        deliver(vec![second.base.clone()], events.clone(), again.clone(), Arc::new(AtomicUsize::new(0))).await;
    assert_eq!(redelivered.len(), again.len());
    let log = || second.log.lock().unwrap().clone();
    let took = all_invited(&db, &log).await;
    // A job the killed process had finished the work of (its buyer already
    // invited) but not marked done waits for its lease like the others:
    // each is taken over once the lease runs out, and done.
    let mut taken_over = None;
    for id in &orphaned {
        let deadline = Instant::now() + Duration::from_secs(server::jobs::LEASE_SECS as u64 + 60);
        let updated_at = loop {
            let (status, updated_at): (String, i64) =
                sqlx::query_as("SELECT status, updated_at FROM jobs WHERE id = $1")
                    .bind(id)
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            if status == "done" {
                break updated_at;
            }
            assert!(Instant::now() < deadline, "job {id}, claimed by the killed process, is still {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        taken_over = taken_over.max(Some(updated_at));
    }
    let restart_at = server::clock::now() - restarted.elapsed().as_secs() as i64;
    eprintln!(
        "{backend:?}: killed after {} acknowledged with {} jobs claimed; restarted, all {BUYERS} invited {:.1} s after the redelivery; the killed process's jobs done {} s after the restart",
        acknowledged.len(),
        orphaned.len(),
        took.as_secs_f64(),
        taken_over.map_or(0, |t| t - restart_at)
    );
    one_invitation_each(&second, &db).await;
}

/// `repopass backup` while a burst of payment webhooks arrives: the copy
/// holds every webhook acknowledged before it started and every purchase,
/// and `repopass migrate` accepts it as a database.
async fn backup_during_burst() {
    let Some(test_db) = TestDatabase::create(Backend::Sqlite).await else { return };
    let serving = Process::start(&test_db);
    let db = server::Db::connect(&SecretString::from(test_db.url.clone())).await.unwrap();
    let events = Arc::new(paid_purchases(&serving, &db).await);

    let acked = Arc::new(AtomicUsize::new(0));
    let burst = tokio::spawn(deliver(vec![serving.base.clone()], events.clone(), (0..BUYERS).collect(), acked.clone()));
    while acked.load(Ordering::SeqCst) < BUYERS / 4 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Stored means acknowledged or about to be: all of these must be in the copy.
    let before: Vec<String> = sqlx::query_scalar("SELECT event_id FROM webhook_events WHERE provider = 'stripe'")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let copy = test_db.dir.path().join("backups").join("repopass.db");
    let backup = tokio::task::spawn_blocking({
        let (url, copy) = (test_db.url.clone(), copy.clone());
        move || repopass_command(&url, &["backup", copy.to_str().unwrap()], &[]).output().unwrap()
    })
    .await
    .unwrap();
    let during = acked.load(Ordering::SeqCst);
    assert!(backup.status.success(), "backup failed: {}", String::from_utf8_lossy(&backup.stderr));
    assert!(String::from_utf8_lossy(&backup.stdout).contains("written to"), "{:?}", backup);
    let acknowledged = burst.await.unwrap();
    assert_eq!(acknowledged.len(), BUYERS, "the burst went on beside the backup");
    eprintln!("backup started after {} of {BUYERS} webhooks, finished after {during}", before.len());

    // A second backup to the same name is refused, not overwritten.
    let again = repopass_command(&test_db.url, &["backup", copy.to_str().unwrap()], &[]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "{again:?}");

    // Restored: a database `repopass migrate` accepts, with everything acknowledged before.
    let restored_url = format!("sqlite://{}?mode=rw", copy.display());
    let migrate = repopass_command(&restored_url, &["migrate"], &[]).output().unwrap();
    assert!(migrate.status.success(), "migrate on the copy: {migrate:?}");
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("is current"), "{migrate:?}");
    let restored = server::Db::connect(&SecretString::from(restored_url)).await.unwrap();
    let kept: Vec<String> = sqlx::query_scalar("SELECT event_id FROM webhook_events WHERE provider = 'stripe'")
        .fetch_all(restored.pool())
        .await
        .unwrap();
    let missing: Vec<&String> = before.iter().filter(|id| !kept.contains(id)).collect();
    assert!(missing.is_empty(), "acknowledged before the backup, missing from it: {missing:?}");
    let purchases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases").fetch_one(restored.pool()).await.unwrap();
    assert_eq!(purchases, BUYERS as i64, "every purchase is in the copy");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(restored.pool()).await.unwrap();
    assert_eq!(integrity, "ok");
    restored.close().await;
    drop(serving);
}

async fn two_processes(backend: Backend) {
    let Some(test_db) = TestDatabase::create(backend).await else { return };
    let a = Process::start(&test_db);
    let b = Process::start(&test_db);
    let db = server::Db::connect(&SecretString::from(test_db.url.clone())).await.unwrap();
    let started = Instant::now();
    let events = Arc::new(paid_purchases(&a, &db).await);
    eprintln!("two processes: {BUYERS} paid in {:.1} s", started.elapsed().as_secs_f64());
    // Every event to one of the two, every third one to the other as well, at once.
    let once = deliver(
        vec![a.base.clone(), b.base.clone()],
        events.clone(),
        (0..BUYERS).collect(),
        Arc::new(AtomicUsize::new(0)),
    );
    let twice = deliver(
        vec![b.base.clone(), a.base.clone()],
        events.clone(),
        (0..BUYERS).step_by(3).collect(),
        Arc::new(AtomicUsize::new(0)),
    );
    let (once, twice) = tokio::join!(once, twice);
    assert_eq!((once.len(), twice.len()), (BUYERS, BUYERS.div_ceil(3)), "every delivery acknowledged");
    let log = || format!("{}\n{}", a.log.lock().unwrap(), b.log.lock().unwrap());
    all_invited(&db, &log).await;
    one_invitation_each(&a, &db).await;
    // No job ran twice: every payment's job was claimed once.
    let twice: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, attempts FROM jobs WHERE kind = 'stripe_event' AND attempts <> 1")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert!(twice.is_empty(), "jobs claimed more than once: {twice:?}");
    // Both processes did some of the work.
    for (name, p) in [("first", &a), ("second", &b)] {
        assert!(p.log.lock().unwrap().contains("job done"), "the {name} process ran no job");
    }
}
