//! Which alert conditions hold now: one check per `AlertKind`, each a few
//! indexed reads, run every minute by the `check_alerts` job. A check says
//! what happened, which purchases it touches and the one thing to do;
//! `alerts::settle` decides whom to tell.
//!
//! Times are on the clock of dated decisions (the sandbox's in zero-config
//! mode), so a test moves the sandbox a day ahead to see Stripe fall
//! silent. A condition that must last before it counts (a purchase waiting
//! 15 minutes, Stripe quiet for a day) is measured from when a check first
//! saw it (`alert_watches`), not from a stored system-clock time: the two
//! clocks differ once the sandbox's has moved.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::{
    alerts::{self, Finding},
    dated_clock,
    domain::{
        AlertKind, BackupStatus, DriftKind, GithubState, GrantStatus, ProductStatus, Provider, PurchaseStatus, Reason,
    },
    jobs::{self, Job},
    AppState, Result,
};

/// A paid purchase without an invitation for this long is an alert.
pub const NOT_INVITED_AFTER: i64 = 15 * 60;
/// No Stripe webhook for this long, with subscriptions active, is an alert.
pub const STRIPE_SILENT_AFTER: i64 = 86_400;
/// The last verified backup older than this is an alert.
pub const BACKUP_STALE_AFTER: i64 = 2 * 86_400;
/// A day with more than this many times the 30-day daily average…
pub const SPIKE_FACTOR: i64 = 3;
/// …and at least this many (one failed payment after a quiet month is not a spike).
pub const SPIKE_AT_LEAST: i64 = 3;
const DAY: i64 = 86_400;

/// Runs every check and settles each alert; returns how many notices went out.
pub async fn check(state: &AppState) -> Result<usize> {
    let now = dated_clock::now(state).await?;
    let mut sent = 0;
    for &kind in AlertKind::ALL {
        // Told by the worker once the database is back (`worker::Outage`).
        if kind == AlertKind::DatabaseUnreachable {
            continue;
        }
        let finding = match find(state, kind, now).await {
            Ok(finding) => finding,
            // One check that cannot run must not keep the others from theirs.
            Err(e) => {
                tracing::warn!(%kind, error = %e, "alert check skipped");
                continue;
            }
        };
        match alerts::settle(state, kind, finding.as_ref(), now).await {
            Ok(Some(_)) => sent += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(%kind, error = %e, "alert not settled; tried again at the next check"),
        }
    }
    Ok(sent)
}

/// Whether `kind` holds at `now`, and how.
pub async fn find(state: &AppState, kind: AlertKind, now: i64) -> Result<Option<Finding>> {
    let mut conn = state.db.pool().acquire().await?;
    let base = state.config.public_url.as_str().trim_end_matches('/').to_owned();
    match kind {
        AlertKind::DeadJob => dead_jobs(&mut conn, &base, jobs::dead(&state.db).await?).await,
        AlertKind::NotInvited => not_invited(&mut conn, &base, now).await,
        AlertKind::StripeSilent => stripe_silent(&mut conn, &base, now).await,
        AlertKind::WebhookSignatures => signatures(&mut conn).await,
        AlertKind::DatabaseUnreachable => Ok(None),
        AlertKind::Drift => drift(&mut conn, &base).await,
        AlertKind::GithubAccessLost => access_lost(&mut conn).await,
        AlertKind::PaymentFailureSpike | AlertKind::CancellationSpike => {
            let moves = dated_clock::moves(state).await?;
            spike(&mut conn, kind, &base, now, &moves).await
        }
        AlertKind::BackupStale
            if state.db.backend() == crate::db::Backend::Sqlite && state.config.backups.enabled() =>
        {
            let last = crate::backups::last_verified(&state.db).await?.map(|b| b.taken_at);
            backup_stale(&mut conn, &base, now, last).await
        }
        AlertKind::BackupStale => Ok(None),
    }
}

/// The database out of reach of the worker from `from` to `until` (system
/// clock): told once it is back.
pub fn database_outage(state: &AppState, from: i64, until: i64) -> Finding {
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Finding {
        kind: AlertKind::DatabaseUnreachable,
        subjects: vec![from.to_string()],
        what: format!("The database was unreachable from the worker for {}", alerts::lasted(until - from)),
        affects: vec![
            format!("from {} to {}", at(from), at(until)),
            "invitations, removals and emails waited, and run now; webhooks that arrived then were answered 503, and Stripe and GitHub send them again".into(),
        ],
        todo: format!(
            "Nothing, if it does not happen again; if it does, check the database server's health, connections and disk (repopass doctor, and {base}/readyz)."
        ),
    }
}

/// "purchase #12 (@alice, Pro Kit)".
async fn purchase_line(conn: &mut AnyConnection, id: i64) -> Result<String> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT p.github_login, pr.title FROM purchases p JOIN products pr ON pr.id = p.product_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some((login, title)) => format!("purchase #{id} (@{login}, {title})"),
        None => format!("purchase #{id}"),
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `dead`: the jobs that stopped, newest first (`jobs::dead`).
async fn dead_jobs(conn: &mut AnyConnection, base: &str, dead: Vec<jobs::JobInfo>) -> Result<Option<Finding>> {
    let Some(first) = dead.first() else { return Ok(None) };
    let mut affects = Vec::new();
    for job in &dead {
        let read = Job::read(&job.kind, &job.payload).ok();
        let purchase = match read.as_ref() {
            Some(Job::StripeEvent { webhook_event_id }) => stripe_event_purchase(conn, *webhook_event_id).await?,
            Some(job) => job.purchase_id().map(|id| id.get()),
            None => None,
        };
        let about = match purchase {
            Some(id) => format!(" for {}", purchase_line(conn, id).await?),
            None => String::new(),
        };
        let error = job.last_error.as_deref().unwrap_or("no error recorded");
        affects.push(format!(
            "{} job #{}{about}, after {}: {error}. Retry: {base}/admin/events#job-{}",
            job.kind,
            job.id,
            plural(job.attempts.max(0) as usize, "attempt", "attempts"),
            job.id
        ));
    }
    let what = if dead.len() == 1 {
        // The subject line: the error's first line, cut short.
        let error = first.last_error.as_deref().and_then(|e| e.lines().next()).unwrap_or("no error recorded");
        let error: String = if error.chars().count() > 120 {
            format!("{}…", error.chars().take(120).collect::<String>())
        } else {
            error.to_owned()
        };
        format!("A {} job stopped retrying: {error}", first.kind)
    } else {
        format!("{} jobs stopped retrying", dead.len())
    };
    Ok(Some(Finding {
        kind: AlertKind::DeadJob,
        subjects: dead.iter().map(|j| j.id.to_string()).collect(),
        what,
        affects,
        todo: format!(
            "Fix what the error names (GitHub or Stripe out of reach, a repository gone), then press Retry beside the job at {base}/admin/events#dead-jobs."
        ),
    }))
}

/// The purchase a stored Stripe event is about, found by the ids its object
/// carries (a checkout session, a subscription, a payment).
async fn stripe_event_purchase(conn: &mut AnyConnection, webhook_event_id: i64) -> Result<Option<i64>> {
    let payload: Option<String> = sqlx::query_scalar("SELECT payload FROM webhook_events WHERE id = $1")
        .bind(webhook_event_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(event) = payload.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok()) else {
        return Ok(None);
    };
    let object = &event["data"]["object"];
    let id = object["id"].as_str();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let session = id.filter(|i| i.starts_with("cs_")).map(str::to_owned);
    let subscription = text(&object["subscription"])
        .or_else(|| text(&object["parent"]["subscription_details"]["subscription"]))
        .or_else(|| id.filter(|i| i.starts_with("sub_")).map(str::to_owned));
    let payment = text(&object["payment_intent"]).or_else(|| id.filter(|i| i.starts_with("pi_")).map(str::to_owned));
    Ok(sqlx::query_scalar(
        "SELECT id FROM purchases WHERE stripe_checkout_session_id = $1 OR stripe_subscription_id = $2
         OR stripe_payment_intent_id = $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(session.unwrap_or_default())
    .bind(subscription.unwrap_or_default())
    .bind(payment.unwrap_or_default())
    .fetch_optional(&mut *conn)
    .await?)
}

/// How `lifecycle::recover_stripe_events` marks an event RepoPass fetched
/// itself: not a delivery, so it says nothing of the webhook endpoint.
const RECOVERED: &str = "%\"recovered\":true%";

/// The webhook deliveries stored after `id`, oldest first, on the primary
/// key (only what came since, however large the table): each with its
/// provider and whether RepoPass fetched it itself (`RECOVERED`).
async fn stored_after(conn: &mut AnyConnection, id: i64) -> Result<Vec<(i64, Provider, bool)>> {
    let rows: Vec<(i64, Provider, i64)> = sqlx::query_as(
        "SELECT id, provider, CAST(CASE WHEN payload LIKE $2 THEN 1 ELSE 0 END AS BIGINT) FROM webhook_events
         WHERE id > $1 ORDER BY id LIMIT 5000",
    )
    .bind(id)
    .bind(RECOVERED)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id, provider, recovered)| (id, provider, recovered == 1)).collect())
}

/// The last of `stored` that `provider` delivered (not fetched by RepoPass).
fn last_delivered(stored: &[(i64, Provider, bool)], provider: Provider) -> Option<i64> {
    stored.iter().filter(|(_, from, recovered)| *from == provider && !recovered).map(|r| r.0).max()
}

/// Remembers since when each of `subjects` has been seen (first seen now
/// if new) and forgets those no longer seen; returns each one's since.
async fn watch(
    conn: &mut AnyConnection,
    kind: AlertKind,
    subjects: &[String],
    now: i64,
) -> Result<HashMap<String, i64>> {
    let known: Vec<(String, i64)> = sqlx::query_as("SELECT subject, since FROM alert_watches WHERE kind = $1")
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?;
    let mut since: HashMap<String, i64> = HashMap::new();
    for (subject, at) in known {
        if subjects.contains(&subject) {
            since.insert(subject, at);
        } else {
            sqlx::query("DELETE FROM alert_watches WHERE kind = $1 AND subject = $2")
                .bind(kind)
                .bind(&subject)
                .execute(&mut *conn)
                .await?;
        }
    }
    for subject in subjects {
        if !since.contains_key(subject) {
            sqlx::query(
                "INSERT INTO alert_watches (kind, subject, since) VALUES ($1, $2, $3) ON CONFLICT (kind, subject) DO NOTHING",
            )
            .bind(kind)
            .bind(subject)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            since.insert(subject.clone(), now);
        }
    }
    Ok(since)
}

/// The one watch of `kind` whose `value` is the last thing seen: restarted
/// (since now) when `seen` differs from it. Returns since when it has
/// stood still.
async fn watch_value(conn: &mut AnyConnection, kind: AlertKind, seen: Option<&str>, now: i64) -> Result<(i64, String)> {
    let known: Option<(i64, String)> =
        sqlx::query_as("SELECT since, value FROM alert_watches WHERE kind = $1 AND subject = $2")
            .bind(kind)
            .bind(kind.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    match (known, seen) {
        (Some((since, value)), None) => Ok((since, value)),
        (Some((since, value)), Some(seen)) if seen == value => Ok((since, value)),
        (_, seen) => {
            let value = seen.unwrap_or_default().to_owned();
            sqlx::query(
                "INSERT INTO alert_watches (kind, subject, since, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, subject) DO UPDATE SET since = excluded.since, value = excluded.value",
            )
            .bind(kind)
            .bind(kind.as_str())
            .bind(now)
            .bind(&value)
            .execute(&mut *conn)
            .await?;
            Ok((now, value))
        }
    }
}

async fn not_invited(conn: &mut AnyConnection, base: &str, now: i64) -> Result<Option<Finding>> {
    // Paid and not invited, unless waiting for one of GitHub's published
    // limits (the purchase's reason says which).
    // A purchase invited to some of its repositories and still waiting for
    // another counts too. One whose buyer left GitHub waits for the buyer,
    // not the creator.
    let mut waiting: Vec<(i64, Option<Reason>, Option<String>)> = sqlx::query_as(
        "SELECT id, status_reason_code, status_reason FROM purchases WHERE status = $1 AND paid_at IS NOT NULL ORDER BY id",
    )
    .bind(PurchaseStatus::Paid)
    .fetch_all(&mut *conn)
    .await?;
    let partly: Vec<(i64, Option<Reason>, Option<String>)> = sqlx::query_as(
        "SELECT g.purchase_id, g.status_reason_code, g.status_reason FROM grants g JOIN purchases p ON p.id = g.purchase_id
         WHERE g.status = $1 AND p.status IN ($2, $3) ORDER BY g.purchase_id",
    )
    .bind(GrantStatus::Waiting)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .fetch_all(&mut *conn)
    .await?;
    for row in partly {
        if !waiting.iter().any(|(id, ..)| *id == row.0) {
            waiting.push(row);
        }
    }
    let waiting: Vec<_> = waiting
        .into_iter()
        .filter(|(_, reason, _)| !reason.is_some_and(|r| r.is_queued() || r == Reason::GithubUserGone))
        .collect();
    let subjects: Vec<String> = waiting.iter().map(|(id, ..)| id.to_string()).collect();
    let since = watch(conn, AlertKind::NotInvited, &subjects, now).await?;
    let mut late = Vec::new();
    for (id, _, why) in &waiting {
        if since.get(&id.to_string()).is_some_and(|at| now - at >= NOT_INVITED_AFTER) {
            late.push((*id, why.clone()));
        }
    }
    if late.is_empty() {
        return Ok(None);
    }
    let mut affects = Vec::new();
    for (id, why) in &late {
        let why = why.as_deref().unwrap_or("no invitation sent yet");
        affects.push(format!("{}: {why}", purchase_line(conn, *id).await?));
    }
    Ok(Some(Finding {
        kind: AlertKind::NotInvited,
        subjects: late.iter().map(|(id, _)| id.to_string()).collect(),
        what: format!(
            "{} not invited to GitHub 15 minutes after paying",
            plural(late.len(), "customer", "customers")
        ),
        affects,
        todo: format!(
            "Fix what the reason names (GitHub's connection, the repository, a job that stopped at {base}/admin/events), then choose Resend invitation on the customer's page at {base}/admin/customers."
        ),
    }))
}

async fn stripe_silent(conn: &mut AnyConnection, base: &str, now: i64) -> Result<Option<Finding>> {
    // The last delivery Stripe pushed. Events RepoPass fetched itself while
    // deliveries were missing (`lifecycle::recover_stripe_events`) are
    // marked "recovered": they do not count as Stripe reaching RepoPass.
    // Read forward from the last one seen, on the primary key.
    let (since, last) = watch_value(conn, AlertKind::StripeSilent, None, now).await?;
    let stored = stored_after(conn, last.parse().unwrap_or(0)).await?;
    let since = match last_delivered(&stored, Provider::Stripe) {
        Some(pushed) => watch_value(conn, AlertKind::StripeSilent, Some(&pushed.to_string()), now).await?.0,
        None => since,
    };
    if now - since < STRIPE_SILENT_AFTER {
        return Ok(None);
    }
    // Quiet is not silence: a small store may hear nothing for days. It is
    // silence when Stripe had something to say — an event RepoPass had to
    // fetch itself, or a subscription whose period ended (a renewal's
    // invoice) without a word since.
    // No delivery since the last one: `stored` is what came since (up to 5 000).
    let recovered = stored.iter().filter(|(_, from, recovered)| *from == Provider::Stripe && *recovered).count() as i64;
    let overdue: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM purchases WHERE stripe_subscription_id IS NOT NULL AND status IN ($1, $2, $3)
         AND current_period_end >= $4 AND current_period_end <= $5 ORDER BY id LIMIT 50",
    )
    .bind(PurchaseStatus::Paid)
    .bind(PurchaseStatus::Invited)
    .bind(PurchaseStatus::Active)
    .bind(since)
    .bind(now - 3600)
    .fetch_all(&mut *conn)
    .await?;
    if recovered == 0 && overdue.is_empty() {
        return Ok(None);
    }
    let mut affects = Vec::new();
    if recovered > 0 {
        affects.push(format!(
            "{} RepoPass had to fetch itself (it asks Stripe every 15 minutes): Stripe has events it did not deliver",
            plural(recovered as usize, "event", "events")
        ));
    }
    for id in overdue {
        affects
            .push(format!("{}: its period ended, and no renewal or cancellation came", purchase_line(conn, id).await?));
    }
    Ok(Some(Finding {
        kind: AlertKind::StripeSilent,
        subjects: vec!["stripe".into()],
        what: format!("No webhook from Stripe for {}", alerts::lasted(now - since)),
        affects,
        todo: format!(
            "In Stripe's dashboard (Developers → Webhooks), check that the endpoint {base}/api/webhooks/stripe exists and is enabled, and that its signing secret is the one RepoPass has."
        ),
    }))
}

async fn signatures(conn: &mut AnyConnection) -> Result<Option<Finding>> {
    let mut subjects = Vec::new();
    let mut affects = Vec::new();
    let mut refused_total = 0;
    for provider in [Provider::Stripe, Provider::Github] {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT hour, refused, last_reason, seen_event_id FROM webhook_refusals WHERE provider = $1 ORDER BY hour",
        )
        .bind(provider)
        .fetch_all(&mut *conn)
        .await?;
        // Refusals after the last delivery of the provider that passed (by
        // id: both can happen in one second). Read forward from the first
        // refusal, on the primary key: only what came since.
        let Some(first) = rows.iter().map(|r| r.3).min() else { continue };
        // The last delivery that passed.
        let passed = last_delivered(&stored_after(conn, first).await?, provider);
        if let Some(pass) = passed {
            // Refusals a passing delivery followed are over: forgotten.
            sqlx::query("DELETE FROM webhook_refusals WHERE provider = $1 AND seen_event_id < $2")
                .bind(provider)
                .bind(pass)
                .execute(&mut *conn)
                .await?;
        }
        let rows: Vec<(i64, i64, String)> = rows
            .into_iter()
            .filter(|(.., seen)| passed.is_none_or(|pass| *seen >= pass))
            .map(|(hour, n, reason, _)| (hour, n, reason))
            .collect();
        let Some((_, _, reason)) = rows.last() else { continue };
        let refused: i64 = rows.iter().map(|(_, n, _)| n).sum();
        refused_total += refused;
        // One occurrence per refused delivery.
        subjects.extend(rows.iter().flat_map(|(hour, n, _)| (1..=*n).map(move |i| format!("{provider}:{hour}:{i}"))));
        let (name, secret) = match provider {
            Provider::Stripe => ("Stripe", "STRIPE_WEBHOOK_SECRET"),
            Provider::Github => ("GitHub", "GITHUB_WEBHOOK_SECRET"),
        };
        affects.push(format!(
            "{name}: {} refused ({reason}); what they carried (payments, cancellations, access changes) is not processed until they pass. Set {secret} to the secret {name} signs with now.",
            plural(refused as usize, "delivery", "deliveries")
        ));
    }
    if subjects.is_empty() {
        return Ok(None);
    }
    Ok(Some(Finding {
        kind: AlertKind::WebhookSignatures,
        subjects,
        what: format!(
            "{} failed the signature check since the last one that passed",
            plural(refused_total as usize, "webhook delivery", "webhook deliveries")
        ),
        affects,
        todo: "If the webhook's signing secret was rotated, give RepoPass the new one (Settings, or the variable named above) and restart it; Stripe and GitHub retry the refused deliveries. If you rotated nothing, someone else is posting to the webhook address: nothing was accepted.".into(),
    }))
}

/// A drift finding with its repository's name.
#[derive(sqlx::FromRow)]
struct DriftRow {
    repository_id: i64,
    kind: DriftKind,
    github_user_id: i64,
    github_login: String,
    purchase_id: Option<i64>,
    detail: String,
    owner: String,
    name: String,
}

async fn drift(conn: &mut AnyConnection, base: &str) -> Result<Option<Finding>> {
    let rows: Vec<DriftRow> = sqlx::query_as(
        "SELECT d.repository_id, d.kind, d.github_user_id, d.github_login, d.purchase_id, d.detail, r.owner, r.name
         FROM drift d JOIN repositories r ON r.id = d.repository_id ORDER BY d.id LIMIT 500",
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut affects = Vec::new();
    for d in &rows {
        let purchase = match d.purchase_id {
            Some(id) => format!(" ({})", purchase_line(conn, id).await?),
            None => String::new(),
        };
        affects.push(format!("@{} on {}/{}: {}{purchase}", d.github_login, d.owner, d.name, d.detail));
    }
    Ok(Some(Finding {
        kind: AlertKind::Drift,
        // Stable across reconciliations, which write their findings anew.
        subjects: rows.iter().map(|d| format!("{}:{}:{}", d.repository_id, d.github_user_id, d.kind)).collect(),
        what: format!(
            "Reconciliation found {} between GitHub and the purchases",
            plural(rows.len(), "difference", "differences")
        ),
        affects,
        todo: format!(
            "Press Fix beside each at {base}/admin/events#drift: it invites the paying customer again, or removes the collaborator nobody paid for."
        ),
    }))
}

async fn access_lost(conn: &mut AnyConnection) -> Result<Option<Finding>> {
    let rows: Vec<(i64, String, String, GithubState)> = sqlx::query_as(
        "SELECT DISTINCT r.id, r.owner, r.name, r.github_state FROM repositories r
         JOIN product_repositories x ON x.repository_id = r.id JOIN products p ON p.id = x.product_id
         WHERE p.status = $1 AND r.github_state IN ($2, $3) ORDER BY r.id",
    )
    .bind(ProductStatus::Published)
    .bind(GithubState::AccessLost)
    .bind(GithubState::Deleted)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut affects = Vec::new();
    for (id, owner, name, state) in &rows {
        let holders: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM grants WHERE repository_id = $1 AND status IN ($2, $3)")
                .bind(id)
                .bind(GrantStatus::Invited)
                .bind(GrantStatus::Active)
                .fetch_one(&mut *conn)
                .await?;
        let why = if *state == GithubState::Deleted {
            "deleted on GitHub"
        } else {
            "the RepoPass GitHub App was uninstalled or suspended, or no longer has this repository"
        };
        affects.push(format!(
            "{owner}/{name}: {why}; {} with access; its page is hidden from the store, and no invitation or removal can be made",
            plural(holders as usize, "customer", "customers")
        ));
    }
    let owners: Vec<&str> = rows
        .iter()
        .map(|(_, owner, ..)| owner.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(Some(Finding {
        kind: AlertKind::GithubAccessLost,
        subjects: rows.iter().map(|(id, ..)| id.to_string()).collect(),
        what: match rows.as_slice() {
            [(_, owner, name, _)] => format!("RepoPass lost access to {owner}/{name} on GitHub, a repository on sale"),
            _ => format!("RepoPass lost access to {} repositories on sale", rows.len()),
        },
        affects,
        todo: format!(
            "On GitHub, lift the RepoPass App's suspension or install it on {} again, with access to these repositories (Settings → Applications → Configure); a deleted repository, take off sale.",
            owners.join(", ")
        ),
    }))
}

/// Failed payments (or cancellations) in the last day against the daily
/// average of the 30 days before.
async fn spike(
    conn: &mut AnyConnection,
    kind: AlertKind,
    base: &str,
    now: i64,
    moves: &[(i64, i64)],
) -> Result<Option<Finding>> {
    // The log's times are the system clock's: read each as the dated clock
    // showed it then. The dated clock is never behind the system clock, so
    // every row in the dated window was written within the last 31 days.
    let since = crate::clock::now() - 31 * DAY;
    let until = crate::clock::now();
    // (id, purchase, when): each failed payment, or each subscription ended.
    let rows: Vec<(i64, i64, i64)> = if kind == AlertKind::PaymentFailureSpike {
        sqlx::query_as(
            "SELECT id, purchase_id, created_at FROM access_log WHERE created_at >= $1 AND created_at <= $2 AND action IN ($3, $4)",
        )
        .bind(since)
        .bind(until)
        .bind(crate::domain::Action::PaymentFailed)
        .bind(crate::domain::Action::CheckoutFailed)
        .fetch_all(&mut *conn)
        .await?
    } else {
        sqlx::query_as(
            "SELECT id, id, revoked_at FROM purchases
             WHERE status = $4 AND revoked_at >= $1 AND revoked_at <= $2 AND status_reason_code = $3",
        )
        .bind(since)
        .bind(until)
        .bind(Reason::SubscriptionEnded)
        .bind(PurchaseStatus::Revoked)
        .fetch_all(&mut *conn)
        .await?
    };
    let (recent, before): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|(id, purchase, at)| (id, purchase, dated_clock::at(at, moves)))
        .filter(|(_, _, at)| *at >= now - 31 * DAY && *at <= now)
        .partition(|(_, _, at)| *at > now - DAY);
    let average = before.len() as f64 / 30.0;
    let n = recent.len() as i64;
    if !is_spike(n, before.len() as i64) {
        return Ok(None);
    }
    let mut affects = Vec::new();
    for (_, purchase, _) in recent.iter().take(50) {
        affects.push(purchase_line(conn, *purchase).await?);
    }
    let (what, todo) = if kind == AlertKind::PaymentFailureSpike {
        (
            format!("{n} failed payments in the last 24 hours, against {average:.1} a day over the 30 days before"),
            "Check Stripe's dashboard (Payments → Failed) for a common cause: a card network outage, a Radar rule, a price or currency change.".to_owned(),
        )
    } else {
        (
            format!("{n} subscriptions ended in the last 24 hours, against {average:.1} a day over the 30 days before"),
            format!("Look for a common cause (a price change, access trouble, a failed renewal run) in the access log at {base}/admin/events."),
        )
    };
    Ok(Some(Finding { kind, subjects: recent.iter().map(|(id, ..)| id.to_string()).collect(), what, affects, todo }))
}

/// `last_day` events against `month_before` over the 30 days before: a
/// spike when over three times that daily average, and at least three.
pub fn is_spike(last_day: i64, month_before: i64) -> bool {
    last_day >= SPIKE_AT_LEAST && last_day * 30 > SPIKE_FACTOR * month_before
}

/// `last`: when the last verified backup was taken (`backups::last_verified`).
async fn backup_stale(conn: &mut AnyConnection, base: &str, now: i64, last: Option<i64>) -> Result<Option<Finding>> {
    let failed: Option<String> =
        sqlx::query_scalar("SELECT detail FROM backups WHERE status = $1 ORDER BY id DESC LIMIT 1")
            .bind(BackupStatus::Failed)
            .fetch_optional(&mut *conn)
            .await?;
    // Measured from the last verified backup, or, before the first, from
    // when RepoPass first looked.
    let since = match last {
        Some(taken_at) => taken_at,
        None => watch_value(conn, AlertKind::BackupStale, None, now).await?.0,
    };
    if now - since < BACKUP_STALE_AFTER {
        return Ok(None);
    }
    let mut affects = vec!["every purchase and its access history: a lost disk now loses them".to_owned()];
    if let Some(detail) = failed {
        affects.push(format!("the last attempt failed: {detail}"));
    }
    Ok(Some(Finding {
        kind: AlertKind::BackupStale,
        subjects: vec!["backup".into()],
        what: match last {
            Some(_) => format!("The last verified backup is {} old", alerts::lasted(now - since)),
            None => format!("No verified backup in {}", alerts::lasted(now - since)),
        },
        affects,
        todo: format!(
            "Open {base}/admin/settings/alerts, fix what the last backup's error names (space, permissions of the backup folder), and press Back up now."
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::is_spike;

    #[test]
    fn a_spike_is_over_three_times_the_daily_average_and_at_least_three() {
        assert!(!is_spike(2, 0), "two after a quiet month is not a spike");
        assert!(is_spike(3, 0));
        // 90 in the 30 days before: 3 a day; three times that is 9.
        assert!(!is_spike(9, 90), "exactly three times is not more than three times");
        assert!(is_spike(10, 90));
        assert!(!is_spike(3, 60), "2 a day: 3 is usual");
    }
}
