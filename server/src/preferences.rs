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
