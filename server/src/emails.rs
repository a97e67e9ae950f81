//! Email through an outbox: a row in `emails` and a job to send it, in one
//! go, so a message is never lost between "decided to send" and "sent".
//! Sent over SMTP (lettre) when `SMTP_URL` is set; otherwise recorded as
//! `logged` and written to the log, which is what the sandbox shows.

use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::{
    clock,
    domain::{EmailKind, EmailStatus, PurchaseId},
    jobs::{self, Job},
    AppState, Error, Result,
};

/// An email decided together with a change, written in the change's own
/// transaction: both land, or neither does.
#[derive(Debug, Clone)]
pub struct Draft {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub kind: EmailKind,
}

pub async fn enqueue(
    state: &AppState,
    to: &str,
    subject: &str,
    body: &str,
    kind: EmailKind,
    purchase_id: Option<PurchaseId>,
) -> Result<i64> {
    let draft = Draft { to: to.to_owned(), subject: subject.to_owned(), body: body.to_owned(), kind };
    let mut tx = state.db.pool().begin().await?;
    let id = enqueue_in(&mut tx, &draft, purchase_id).await?;
    tx.commit().await?;
    state.wake.notify();
    Ok(id)
}

/// Writes `draft` and the job that sends it inside the caller's transaction.
pub async fn enqueue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    draft: &Draft,
    purchase_id: Option<PurchaseId>,
) -> Result<i64> {
    enqueue_on(tx, draft, purchase_id).await
}

/// `enqueue_in` on the connection of a transaction the caller holds.
pub async fn enqueue_on(conn: &mut sqlx::AnyConnection, draft: &Draft, purchase_id: Option<PurchaseId>) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO emails (to_address, subject, body_text, kind, purchase_id, status, attempts, created_at)
         VALUES ($1, $2, $3, $4, $5, $7, 0, $6) RETURNING id",
    )
    .bind(&draft.to)
    .bind(&draft.subject)
    .bind(&draft.body)
    .bind(draft.kind)
    .bind(purchase_id)
    .bind(clock::now())
    .bind(EmailStatus::Pending)
    .fetch_one(&mut *conn)
    .await?;
    jobs::enqueue(&mut *conn, &Job::SendEmail { email_id: id }, clock::now(), Some(&format!("email:{id}"))).await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Outgoing {
    to_address: String,
    subject: String,
    body_text: String,
    kind: EmailKind,
    status: EmailStatus,
}

/// The `send_email` job.
/// Sends one message through `smtp_url` now (the outbox's sender, and the
/// doctor's test email).
pub async fn deliver(
    config: &crate::Config,
    smtp_url: &secrecy::SecretString,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<()> {
    let from: Mailbox = config
        .email
        .from
        .as_deref()
        .unwrap_or("RepoPass <noreply@localhost>")
        .parse()
        .map_err(|e| Error::Internal(format!("EMAIL_FROM: {e}")))?;
    let to: Mailbox = to.parse().map_err(|e| Error::invalid("to", format!("'{to}' is not an email address: {e}")))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .body(body.to_owned())
        .map_err(|e| Error::Internal(format!("email: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url.expose_secret())
        .map_err(|e| Error::Internal(format!("SMTP_URL: {e}")))?
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport.send(message).await.map_err(|e| Error::Unavailable(format!("SMTP: {e}")))?;
    Ok(())
}

pub async fn send(state: &AppState, email_id: i64) -> Result<()> {
    let email: Outgoing =
        sqlx::query_as("SELECT to_address, subject, body_text, kind, status FROM emails WHERE id = $1")
            .bind(email_id)
            .fetch_one(state.db.pool())
            .await?;
    if email.status != EmailStatus::Pending {
        return Ok(());
    }
    let status = match &state.config.email.smtp_url {
        None => {
            tracing::info!(email_id, to = %email.to_address, subject = %email.subject, "email recorded, not sent: no SMTP_URL");
            EmailStatus::Logged
        }
        Some(url) => {
            if let Err(e) = deliver(&state.config, url, &email.to_address, &email.subject, &email.body_text).await {
                sqlx::query("UPDATE emails SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                    .bind(email_id)
                    .bind(e.to_string())
                    .execute(state.db.pool())
                    .await?;
                return Err(e);
            }
            EmailStatus::Sent
        }
    };
    sqlx::query("UPDATE emails SET status = $2, attempts = attempts + 1, sent_at = $3 WHERE id = $1")
        .bind(email_id)
        .bind(status)
        .bind(clock::now())
        .execute(state.db.pool())
        .await?;
    // Without SMTP the outbox is the only copy (the sandbox mailbox shows it).
    if status == EmailStatus::Sent && email.kind == EmailKind::SignInLink {
        sqlx::query("UPDATE emails SET body_text = '(sign-in link removed after sending)' WHERE id = $1")
            .bind(email_id)
            .execute(state.db.pool())
            .await?;
    }
    Ok(())
}
