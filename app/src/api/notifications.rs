//! The creator's own notices (Settings → Notifications): where they go,
//! which are sent, and the summary's schedule.

use leptos::prelude::*;

use crate::{error::AppError, types::NotificationSettings};

#[cfg(feature = "ssr")]
async fn current(state: &server::AppState) -> Result<NotificationSettings, AppError> {
    use crate::types::SummaryChoice;
    use server::preferences::{self, Preference, SummaryEvery};
    Ok(NotificationSettings {
        email: preferences::creator_email(&state.db).await?.unwrap_or_default(),
        sale_emails: preferences::is_on(&state.db, Preference::SaleEmails).await?,
        cancellation_emails: preferences::is_on(&state.db, Preference::CancellationEmails).await?,
        summary: match preferences::summary_every(&state.db).await? {
            SummaryEvery::Never => SummaryChoice::Never,
            SummaryEvery::Day => SummaryChoice::Daily,
            SummaryEvery::Week => SummaryChoice::Weekly,
        },
    })
}

#[server(endpoint = "admin/settings/notifications")]
pub async fn notifications() -> Result<NotificationSettings, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    current(&state).await
}

/// The form as it is sent: boxes present when ticked; `summary` one of
/// never, daily, weekly. A changed schedule starts from now.
#[server(endpoint = "admin/settings/notifications/save")]
pub async fn save_notifications(
    email: String,
    sale_emails: Option<String>,
    cancellation_emails: Option<String>,
    summary: String,
) -> Result<NotificationSettings, AppError> {
    use server::preferences::{self, Preference, SummaryEvery};
    let (state, _) = super::session::ssr::require_admin().await?;
    let every = SummaryEvery::parse(&summary)?;
    preferences::set_creator_email(&state.db, &email).await?;
    preferences::set(&state.db, Preference::SaleEmails, sale_emails.is_some()).await?;
    preferences::set(&state.db, Preference::CancellationEmails, cancellation_emails.is_some()).await?;
    if preferences::summary_every(&state.db).await? != every {
        server::creator_summary::chosen(&state, every).await?;
    }
    current(&state).await
}
