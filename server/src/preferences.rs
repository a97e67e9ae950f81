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
}

impl Preference {
    fn name(self) -> &'static str {
        match self {
            Preference::AccessEndingEmails => "access_ending_emails",
            Preference::StripeTax => "stripe_tax",
        }
    }

    fn default_on(self) -> bool {
        match self {
            Preference::AccessEndingEmails => true,
            Preference::StripeTax => false,
        }
    }
}

pub async fn is_on(db: &Db, preference: Preference) -> Result<bool> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM preferences WHERE name = $1")
        .bind(preference.name())
        .fetch_optional(db.pool())
        .await?;
    Ok(match value.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => preference.default_on(),
    })
}

/// Where RepoPass writes to the creator (an endpoint disabled; later, sale
/// notifications). None until they give one.
pub async fn creator_email(db: &Db) -> Result<Option<String>> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM preferences WHERE name = $1")
        .bind(CREATOR_EMAIL)
        .fetch_optional(db.pool())
        .await?;
    Ok(value.filter(|v| !v.is_empty()))
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
    sqlx::query(
        "INSERT INTO preferences (name, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(CREATOR_EMAIL)
    .bind(email)
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok((!email.is_empty()).then(|| email.to_owned()))
}

const CREATOR_EMAIL: &str = "creator_email";

pub async fn set(db: &Db, preference: Preference, on: bool) -> Result<()> {
    sqlx::query(
        "INSERT INTO preferences (name, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(preference.name())
    .bind(if on { "on" } else { "off" })
    .bind(clock::now())
    .execute(db.pool())
    .await?;
    Ok(())
}
