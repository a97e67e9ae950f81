//! Settings → Alerts & backups: the alerts open and past, who gets which,
//! the chat channels that hear them, and the SQLite backups.

use leptos::prelude::*;

use crate::{
    error::AppError,
    types::{AlertsOverview, BackupView},
};

#[cfg(feature = "ssr")]
mod ssr {
    use crate::types::{
        AlertChatView, AlertKindOption, AlertRecipientView, AlertView, AlertsOverview, BackupState, BackupView,
        BackupsOverview, BodyFormat,
    };
    use server::domain::{AlertKind, BackupStatus, EndpointFormat, EndpointStatus, WebhookEventType};

    pub fn backup(b: server::backups::Backup) -> BackupView {
        BackupView {
            id: b.id,
            path: b.path,
            taken_at: b.taken_at,
            bytes: b.bytes,
            state: match b.status {
                BackupStatus::Verified => BackupState::Verified,
                BackupStatus::Failed => BackupState::Failed,
                BackupStatus::Pruned => BackupState::Pruned,
            },
            detail: b.detail,
        }
    }

    pub async fn overview(state: &server::AppState) -> Result<AlertsOverview, server::Error> {
        let sqlite = state.db.backend() == server::db::Backend::Sqlite;
        let now = server::dated_clock::now(state).await?;
        let last = if sqlite { server::backups::last_verified(&state.db).await? } else { None };
        let age_secs = last.as_ref().map(|b| now - b.taken_at);
        let chats = server::outgoing_endpoints::list(&state.db)
            .await?
            .into_iter()
            .filter(|e| e.event_types.contains(&WebhookEventType::AlertOpened))
            .map(|e| AlertChatView {
                endpoint_id: e.id,
                url: e.url,
                format: match e.format {
                    EndpointFormat::Standard => BodyFormat::Standard,
                    EndpointFormat::Slack => BodyFormat::Slack,
                    EndpointFormat::Discord => BodyFormat::Discord,
                },
                enabled: e.status == EndpointStatus::Enabled,
            })
            .collect();
        Ok(AlertsOverview {
            kinds: AlertKind::ALL
                .iter()
                .map(|k| AlertKindOption { value: k.to_string(), label: k.label().to_owned(), critical: k.critical() })
                .collect(),
            creator_email: server::preferences::creator_email(&state.db).await?.unwrap_or_default(),
            recipients: server::alerts::recipients(&state.db)
                .await?
                .into_iter()
                .map(|r| AlertRecipientView {
                    id: r.id,
                    email: r.email,
                    kinds: r.kinds.iter().map(|k| k.to_string()).collect(),
                })
                .collect(),
            chats,
            alerts: server::alerts::list(&state.db, 50)
                .await?
                .into_iter()
                .map(|a| AlertView {
                    id: a.id,
                    label: a.kind.label().to_owned(),
                    summary: a.summary,
                    affects: a.affects.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
                    opened_at: a.opened_at,
                    resolved_at: a.resolved_at,
                    occurrences: a.occurrences,
                    notified: a.notified_at.is_some(),
                })
                .collect(),
            backups: BackupsOverview {
                sqlite,
                enabled: state.config.backups.enabled(),
                dir: state.config.backups.dir.display().to_string(),
                keep: state.config.backups.keep,
                stale: sqlite
                    && state.config.backups.enabled()
                    && age_secs.is_some_and(|a| a > server::alert_checks::BACKUP_STALE_AFTER),
                age: age_secs.map(server::alerts::lasted),
                last_verified: last.map(backup),
                recent: if sqlite {
                    server::backups::list(&state.db, 10).await?.into_iter().map(backup).collect()
                } else {
                    Vec::new()
                },
            },
        })
    }
}

#[server(endpoint = "admin/settings/alerts")]
pub async fn alerts_page() -> Result<AlertsOverview, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(ssr::overview(&state).await?)
}

/// Adds an address, or changes which alerts one gets: the boxes ticked
/// arrive as `kinds[]`; none ticked is refused (remove it instead).
#[server(endpoint = "admin/settings/alerts/recipient")]
pub async fn save_alert_recipient(email: String, kinds: Option<Vec<String>>) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let kinds = kinds.unwrap_or_default();
    if kinds.is_empty() {
        return Err(server::Error::invalid("kinds", "tick at least one alert, or remove the address").into());
    }
    server::alerts::set_recipient(&state.db, &email, &kinds).await?;
    Ok(())
}

#[server(endpoint = "admin/settings/alerts/recipient/remove")]
pub async fn remove_alert_recipient(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    server::alerts::remove_recipient(&state.db, id).await?;
    Ok(())
}

/// A Slack or Discord incoming-webhook URL that hears every alert: an
/// outgoing endpoint of that format with the alert events (its deliveries,
/// retries and log are the webhooks page's).
#[server(endpoint = "admin/settings/alerts/chat")]
pub async fn add_alert_chat(url: String, format: String) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = server::outgoing_endpoints::NewEndpoint {
        url,
        description: "Alerts".into(),
        event_types: vec!["alert.opened".into(), "alert.resolved".into()],
        format,
    };
    server::outgoing_endpoints::create(&state.db, &state.config, &new).await?;
    Ok(())
}

/// Takes a backup now, verified, as the daily one is.
#[server(endpoint = "admin/settings/backups/now")]
pub async fn back_up_now() -> Result<BackupView, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    Ok(ssr::backup(server::backups::take(&state).await?))
}
