//! Alerts: a condition that puts access or money at risk reaches the
//! creator, and whoever else they chose, by email through the outbox (and
//! any webhook endpoint that ticked the alert events: a Slack or Discord
//! channel). Once when it starts; at most once an hour after that, and only
//! when new occurrences came, with their count; and once when it clears.
//!
//! `alert_checks` says which conditions hold; this file keeps each one's
//! record (`alerts`) and decides who hears what. Every decision is a
//! compare-and-set on the record in the transaction that writes its
//! emails, so two workers checking at once send each notice once.

use std::collections::BTreeSet;

use serde_json::json;
use sqlx::AnyConnection;

use crate::{
    clock,
    domain::{AlertKind, EmailKind, WebhookEventType},
    emails::{self, Draft},
    outgoing_events, preferences, AppState, Db, Error, Result,
};

/// The least time between two emails about one condition.
pub const REPEAT_AFTER: i64 = 3600;

/// Occurrences remembered per alert: enough to count, bounded however long
/// a condition lasts.
const MAX_SUBJECTS: usize = 5000;

/// A condition found holding by a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: AlertKind,
    /// Each occurrence, named stably (a job's id, a purchase's id): one is
    /// counted once however many checks see it.
    pub subjects: Vec<String>,
    /// What happened, one sentence.
    pub what: String,
    /// What it affects, a line each (which purchases).
    pub affects: Vec<String>,
    /// The one thing to do, with a link where one helps.
    pub todo: String,
}

/// What a settle sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Opened,
    /// New occurrences, an hour or more after the last email.
    Repeated,
    Resolved,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Open {
    id: i64,
    opened_at: i64,
    subjects: String,
    notified_at: Option<i64>,
    notified_occurrences: i64,
}

/// Brings the record of `kind` in line with what its check found at
/// `now` (the clock of dated decisions): opens it, tells of new
/// occurrences, or resolves it; returns the notice sent, if any.
pub async fn settle(state: &AppState, kind: AlertKind, finding: Option<&Finding>, now: i64) -> Result<Option<Notice>> {
    let open: Option<Open> = sqlx::query_as(
        "SELECT id, opened_at, subjects, notified_at, notified_occurrences FROM alerts WHERE kind = $1 AND resolved_at IS NULL",
    )
    .bind(kind)
    .fetch_optional(state.db.pool())
    .await?;
    match (open, finding) {
        (None, None) => Ok(None),
        (None, Some(finding)) => open_alert(state, finding, now).await,
        (Some(open), Some(finding)) => carry_on(state, &open, finding, now).await,
        (Some(open), None) => resolve(state, kind, &open, now).await,
    }
}

async fn open_alert(state: &AppState, finding: &Finding, now: i64) -> Result<Option<Notice>> {
    let subjects = merged("", &finding.subjects);
    let count = subjects.len() as i64;
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.pool().begin().await?;
    // The unique index on open alerts makes a second opener do nothing.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO alerts (kind, opened_at, subjects, occurrences, notified_occurrences, summary, affects)
         VALUES ($1, $2, $3, $4, 0, $5, $6)
         ON CONFLICT (kind) WHERE resolved_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(finding.kind)
    .bind(now)
    .bind(joined(&subjects))
    .bind(count)
    .bind(&finding.what)
    .bind(finding.affects.join("\n"))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(None) };
    // Cleared and back within the hour: this one waits for the hour (see
    // `carry_on`), so a condition that flaps is one email an hour, not one
    // a check.
    let last = last_notified(&mut tx, finding.kind, id).await?;
    if last.is_some_and(|at| now - at < REPEAT_AFTER) {
        tx.commit().await?;
        return Ok(None);
    }
    sqlx::query("UPDATE alerts SET notified_at = $2, notified_occurrences = $3 WHERE id = $1")
        .bind(id)
        .bind(now)
        .bind(count)
        .execute(&mut *tx)
        .await?;
    let subject = format!("[RepoPass alert] {}", finding.what);
    tell(&mut tx, state, finding, Told { id, subject, new: count, count, opened_at: Some(now) }).await?;
    tx.commit().await?;
    state.wake.notify();
    tracing::warn!(kind = %finding.kind, alert = id, occurrences = count, "alert opened");
    Ok(Some(Notice::Opened))
}

async fn carry_on(state: &AppState, open: &Open, finding: &Finding, now: i64) -> Result<Option<Notice>> {
    let subjects = merged(&open.subjects, &finding.subjects);
    let count = subjects.len() as i64;
    // The last email about this kind: this alert's, or, while this one was
    // held (it came back within the hour), the one before it.
    let last = match open.notified_at {
        Some(at) => Some(at),
        None => last_notified(&mut *state.db.pool().acquire().await?, finding.kind, open.id).await?,
    };
    let due = count > open.notified_occurrences && last.is_none_or(|at| now - at >= REPEAT_AFTER);
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.pool().begin().await?;
    if !due {
        sqlx::query(
            "UPDATE alerts SET subjects = $2, occurrences = $3, summary = $4, affects = $5
             WHERE id = $1 AND resolved_at IS NULL AND occurrences <= $3",
        )
        .bind(open.id)
        .bind(joined(&subjects))
        .bind(count)
        .bind(&finding.what)
        .bind(finding.affects.join("\n"))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Only the checker that moves `notified_at` on from what it read sends.
    let moved = sqlx::query(
        "UPDATE alerts SET subjects = $2, occurrences = $3, summary = $4, affects = $5, notified_at = $6,
         notified_occurrences = $3 WHERE id = $1 AND resolved_at IS NULL AND notified_occurrences = $7
         AND (notified_at = $8 OR (notified_at IS NULL AND $8 IS NULL))",
    )
    .bind(open.id)
    .bind(joined(&subjects))
    .bind(count)
    .bind(&finding.what)
    .bind(finding.affects.join("\n"))
    .bind(now)
    .bind(open.notified_occurrences)
    .bind(open.notified_at)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(None);
    }
    let new = count - open.notified_occurrences;
    let subject = if open.notified_at.is_none() {
        format!("[RepoPass alert] {}", finding.what)
    } else {
        format!("[RepoPass alert] Still: {} ({new} more since the last email, {count} in all)", finding.kind.label())
    };
    tell(&mut tx, state, finding, Told { id: open.id, subject, new, count, opened_at: Some(open.opened_at) }).await?;
    tx.commit().await?;
    state.wake.notify();
    tracing::warn!(kind = %finding.kind, alert = open.id, new, occurrences = count, "alert repeated");
    Ok(Some(if open.notified_at.is_none() { Notice::Opened } else { Notice::Repeated }))
}

async fn resolve(state: &AppState, kind: AlertKind, open: &Open, now: i64) -> Result<Option<Notice>> {
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.pool().begin().await?;
    // Decided on the record as this update finds it, not as read before:
    // another checker may have told of it in between.
    let done: Option<(Option<i64>, String)> = sqlx::query_as(
        "UPDATE alerts SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL RETURNING notified_at, subjects",
    )
    .bind(open.id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    // Nobody was told it began (it came back within the hour and cleared
    // before the hour was up): nobody is told it ended.
    let Some((Some(_), stored)) = done else {
        tx.commit().await?;
        return Ok(None);
    };
    let count = merged(&stored, &[]).len();
    let subject = format!("[RepoPass] Resolved: {}", kind.label());
    let body = format!(
        "Resolved: {label}.\n\nIt began {began} and cleared {ended} ({lasted}), with {count} occurrence{s} in all.\n\
         Nothing more is needed; RepoPass writes again if it comes back.\n\n{footer}",
        label = kind.label(),
        began = when(open.opened_at),
        ended = when(now),
        lasted = lasted(now - open.opened_at),
        s = if count == 1 { "" } else { "s" },
        footer = footer(state),
    );
    for to in recipients_in(&mut tx, kind).await? {
        let draft = Draft { to, subject: subject.clone(), body: body.clone(), kind: EmailKind::AlertResolved };
        emails::enqueue_on(&mut tx, &draft, None).await?;
    }
    let data = json!({"alert": {
        "id": open.id, "kind": kind, "title": kind.label(), "occurrences": count,
        "opened_at": clock::rfc3339(open.opened_at), "resolved_at": clock::rfc3339(now),
    }});
    outgoing_events::record_alert(&mut tx, WebhookEventType::AlertResolved, &data).await?;
    tx.commit().await?;
    state.wake.notify();
    tracing::info!(kind = %kind, alert = open.id, "alert resolved");
    Ok(Some(Notice::Resolved))
}

/// An alert that began and ended before anyone could be told (the
/// database was out of reach): one record, already resolved, and one email
/// with the window. Each worker saw the outage; the first to tell of it
/// does, the others find its record overlapping theirs and do nothing.
pub async fn record_past(state: &AppState, finding: &Finding, from: i64, until: i64) -> Result<()> {
    let subjects = merged("", &finding.subjects);
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.pool().begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO alerts (kind, opened_at, resolved_at, subjects, occurrences, notified_at, notified_occurrences, summary, affects)
         SELECT $1, $2, $3, $4, $5, $3, $5, $6, $7
         WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE kind = $1 AND opened_at <= $3 AND resolved_at >= $2)
         RETURNING id",
    )
    .bind(finding.kind)
    .bind(from)
    .bind(until)
    .bind(joined(&subjects))
    .bind(subjects.len() as i64)
    .bind(&finding.what)
    .bind(finding.affects.join("\n"))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(()) };
    let subject = format!("[RepoPass alert] {}", finding.what);
    let count = subjects.len() as i64;
    tell(&mut tx, state, finding, Told { id, subject, new: count, count, opened_at: Some(from) }).await?;
    tx.commit().await?;
    state.wake.notify();
    Ok(())
}

/// One notice of an open alert: its subject, and the occurrences it tells of.
struct Told {
    id: i64,
    subject: String,
    /// New since the last notice.
    new: i64,
    /// Since it opened.
    count: i64,
    /// When it opened, for a notice after the first.
    opened_at: Option<i64>,
}

/// The email to each recipient of the kind, and the `alert.opened` event.
async fn tell(conn: &mut AnyConnection, state: &AppState, finding: &Finding, told: Told) -> Result<()> {
    let Told { id, subject, new, count, opened_at } = told;
    let mut body = format!("What happened: {}\n", finding.what);
    if let Some(at) = opened_at.filter(|_| new < count) {
        body.push_str(&format!("Since {}: {count} in all, {new} new since the last email.\n", when(at)));
    }
    if !finding.affects.is_empty() {
        body.push_str("\nWhat it affects:\n");
        for line in finding.affects.iter().take(50) {
            body.push_str(&format!("  - {line}\n"));
        }
        if finding.affects.len() > 50 {
            body.push_str(&format!("  … and {} more\n", finding.affects.len() - 50));
        }
    }
    body.push_str(&format!("\nWhat to do: {}\n\n", finding.todo));
    body.push_str(&format!(
        "RepoPass writes at most once an hour about this while it lasts, and once more when it is resolved.\n{}",
        footer(state)
    ));
    for to in recipients_in(conn, finding.kind).await? {
        let draft = Draft { to, subject: subject.clone(), body: body.clone(), kind: EmailKind::Alert };
        emails::enqueue_on(conn, &draft, None).await?;
    }
    let data = json!({"alert": {
        "id": id, "kind": finding.kind, "title": finding.kind.label(), "what": finding.what,
        "affects": finding.affects, "todo": finding.todo, "occurrences": count, "new": new,
        "opened_at": opened_at.and_then(clock::rfc3339),
    }});
    outgoing_events::record_alert(conn, WebhookEventType::AlertOpened, &data).await
}

/// When anyone was last emailed about `kind`, other than by alert `but`.
async fn last_notified(conn: &mut AnyConnection, kind: AlertKind, but: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MAX(notified_at) FROM alerts WHERE kind = $1 AND id <> $2")
        .bind(kind)
        .bind(but)
        .fetch_one(&mut *conn)
        .await?)
}

fn footer(state: &AppState) -> String {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    format!("Choose which alerts you get, and who else gets them: {base}/admin/settings/alerts\n\n— RepoPass")
}

/// Who gets alerts of `kind` by email: the recipients chosen in Settings,
/// or, while none is, the creator's email.
pub async fn recipients_in(conn: &mut AnyConnection, kind: AlertKind) -> Result<Vec<String>> {
    let chosen = recipients_on(conn).await?;
    if chosen.is_empty() {
        return Ok(preferences::creator_email_in(conn).await?.into_iter().collect());
    }
    Ok(chosen.into_iter().filter(|r| r.kinds.contains(&kind)).map(|r| r.email).collect())
}

/// One address and the alerts it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: i64,
    pub email: String,
    pub kinds: Vec<AlertKind>,
}

async fn recipients_on(conn: &mut AnyConnection) -> Result<Vec<Recipient>> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, email, kinds FROM alert_recipients ORDER BY id").fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, email, kinds)| Recipient {
            id,
            email,
            // A word a later version wrote is skipped, not fatal.
            kinds: kinds.split_whitespace().filter_map(|w| w.parse().ok()).collect(),
        })
        .collect())
}

pub async fn recipients(db: &Db) -> Result<Vec<Recipient>> {
    let mut conn = db.pool().acquire().await?;
    recipients_on(&mut conn).await
}

/// Adds an address, or changes the alerts one already here gets.
pub async fn set_recipient(db: &Db, email: &str, kinds: &[String]) -> Result<Recipient> {
    let email = crate::domain::Email::parse(email).ok_or_else(|| {
        Error::invalid(
            "email",
            format!("'{}' is not an email address: give the address alerts should go to", email.trim()),
        )
    })?;
    let mut chosen = Vec::new();
    for word in kinds {
        let kind = word.parse::<AlertKind>().map_err(|_| {
            Error::invalid(
                "kinds",
                format!(
                    "'{word}' is not an alert: choose from {}",
                    AlertKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !chosen.contains(&kind) {
            chosen.push(kind);
        }
    }
    let words = chosen.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" ");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alert_recipients (email, kinds, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET kinds = excluded.kinds RETURNING id",
    )
    .bind(email.as_str())
    .bind(&words)
    .bind(clock::now())
    .fetch_one(db.pool())
    .await?;
    Ok(Recipient { id, email: email.as_str().to_owned(), kinds: chosen })
}

pub async fn remove_recipient(db: &Db, id: i64) -> Result<()> {
    let gone = sqlx::query("DELETE FROM alert_recipients WHERE id = $1").bind(id).execute(db.pool()).await?;
    if gone.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// An alert as Settings lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub kind: AlertKind,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub occurrences: i64,
    pub notified_at: Option<i64>,
    pub summary: String,
    pub affects: String,
}

/// The open alerts first, then the latest resolved ones.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<Listed>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, opened_at, resolved_at, occurrences, notified_at, summary, affects FROM alerts
         ORDER BY CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?)
}

/// The stored subjects with the new ones, in a stable order, bounded.
fn merged(stored: &str, new: &[String]) -> BTreeSet<String> {
    let mut all: BTreeSet<String> = stored.split_whitespace().map(str::to_owned).collect();
    for s in new {
        if all.len() >= MAX_SUBJECTS {
            break;
        }
        all.insert(s.split_whitespace().collect::<Vec<_>>().join("_"));
    }
    all
}

fn joined(subjects: &BTreeSet<String>) -> String {
    subjects.iter().map(String::as_str).collect::<Vec<_>>().join(" ")
}

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// "3 h 20 min", "12 min", "45 s".
pub fn lasted(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s < 2 * 86_400 => format!("1 day {} h", s % 86_400 / 3600),
        s => format!("{} days {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_are_counted_once_and_bounded() {
        let once = merged("3 5", &["5".into(), "7".into()]);
        assert_eq!(joined(&once), "3 5 7");
        let many: Vec<String> = (0..MAX_SUBJECTS + 10).map(|i| i.to_string()).collect();
        assert_eq!(merged("", &many).len(), MAX_SUBJECTS);
        // A subject cannot split into two.
        assert_eq!(joined(&merged("", &["a b".into()])), "a_b");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(lasted(45), "45 s");
        assert_eq!(lasted(12 * 60 + 5), "12 min");
        assert_eq!(lasted(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(lasted(86_400 + 3600), "1 day 1 h");
        assert_eq!(lasted(2 * 86_400 + 3600), "2 days 1 h");
    }
}
