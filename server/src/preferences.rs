//! The creator's preferences: plain, typed values in `preferences` (secrets
//! live sealed in `stored_settings`). A preference never set has its default.

use crate::{clock, Db, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// Email customers seven days and one day before their access ends (on by default).
    AccessEndingEmails,
    /// Stripe Tax at checkout: tax from the buyer's address, business tax
    /// IDs collected (off by default; see `checkout::tax_ready`).
    StripeTax,
    /// Email the creator about each sale (on by default, once they give an email).
    SaleEmails,
    /// Email the creator about each cancellation (on by default, likewise).
    CancellationEmails,
}

impl Preference {
    fn name(self) -> &'static str {
        match self {
            Preference::AccessEndingEmails => "access_ending_emails",
            Preference::StripeTax => "stripe_tax",
            Preference::SaleEmails => "sale_emails",
            Preference::CancellationEmails => "cancellation_emails",
        }
    }

    fn default_on(self) -> bool {
        match self {
            Preference::AccessEndingEmails => true,
            Preference::StripeTax => false,
            Preference::SaleEmails | Preference::CancellationEmails => true,
        }
    }
}

pub async fn is_on(db: &Db, preference: Preference) -> Result<bool> {
    let mut conn = db.pool().acquire().await?;
    is_on_in(&mut conn, preference).await
}

/// `is_on` inside the caller's connection (a change's transaction).
pub async fn is_on_in(conn: &mut sqlx::AnyConnection, preference: Preference) -> Result<bool> {
    Ok(match text_in(conn, preference.name()).await?.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => preference.default_on(),
    })
}

/// Where RepoPass writes to the creator (an endpoint disabled; later, sale
/// notifications). None until they give one.
pub async fn creator_email(db: &Db) -> Result<Option<String>> {
    let mut conn = db.pool().acquire().await?;
    creator_email_in(&mut conn).await
}

/// `creator_email` inside the caller's connection.
pub async fn creator_email_in(conn: &mut sqlx::AnyConnection) -> Result<Option<String>> {
    Ok(text_in(conn, CREATOR_EMAIL).await?.filter(|v| !v.is_empty()))
}

/// How often the creator gets a summary of their business by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryEvery {
    Never,
    Day,
    /// On Mondays, of the week before.
    Week,
}

impl SummaryEvery {
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryEvery::Never => "never",
            SummaryEvery::Day => "daily",
            SummaryEvery::Week => "weekly",
        }
    }

    /// The creator's choice as a form sends it, refused with the choices.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "never" | "" => Ok(SummaryEvery::Never),
            "daily" => Ok(SummaryEvery::Day),
            "weekly" => Ok(SummaryEvery::Week),
            other => {
                Err(crate::Error::invalid("summary", format!("'{other}' is not a choice: never, daily or weekly")))
            }
        }
    }
}

const SUMMARY: &str = "summary_every";

pub async fn summary_every(db: &Db) -> Result<SummaryEvery> {
    Ok(text(db, SUMMARY).await?.and_then(|v| SummaryEvery::parse(&v).ok()).unwrap_or(SummaryEvery::Never))
}

pub async fn set_summary_every(db: &Db, every: SummaryEvery) -> Result<()> {
    set_text(db, SUMMARY, every.as_str()).await
}

async fn set_text(db: &Db, name: &str, value: &str) -> Result<()> {
    let mut conn = db.pool().acquire().await?;
    set_text_in(&mut conn, name, value).await
}

/// A value RepoPass keeps for itself among the preferences (when the last
/// summary went out), inside the caller's connection.
pub async fn set_text_in(conn: &mut sqlx::AnyConnection, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO preferences (name, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(clock::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn text(db: &Db, name: &str) -> Result<Option<String>> {
    let mut conn = db.pool().acquire().await?;
    text_in(&mut conn, name).await
}

/// The stored text of `name`, inside the caller's connection: the one read
/// every preference goes through.
async fn text_in(conn: &mut sqlx::AnyConnection, name: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM preferences WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Sets (or, empty, clears) the creator's email, checked to be one.
pub async fn set_creator_email(db: &Db, email: &str) -> Result<Option<String>> {
    let email = email.trim();
    if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
        return Err(crate::Error::invalid(
            "creator_email",
            format!("'{email}' is not an email address: write it as name@example.com"),
        ));
    }
    set_text(db, CREATOR_EMAIL, email).await?;
    Ok((!email.is_empty()).then(|| email.to_owned()))
}

const CREATOR_EMAIL: &str = "creator_email";

pub async fn set(db: &Db, preference: Preference, on: bool) -> Result<()> {
    set_text(db, preference.name(), if on { "on" } else { "off" }).await
}
