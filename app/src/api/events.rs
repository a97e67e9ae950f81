//! Webhooks received (with their payloads) and the reconciliation's drift
//! report with its one-click fixes. Dead jobs are in `api::jobs`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    /// Why nothing was done (an ignored delivery): information, not a fault.
    pub note: Option<String>,
    /// What went wrong (a failed or dead delivery).
    pub error: Option<String>,
    pub attempts: i64,
    pub received: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub rows: Vec<EventRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    pub event: EventRow,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub id: i64,
    pub repository: String,
    pub kind: String,
    pub github_login: String,
    pub detail: String,
    pub detected: String,
    pub fix_label: String,
}

pub const PER_PAGE: i64 = 50;

#[server(endpoint = "admin/events/list")]
pub async fn list_events(
    provider: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
    page: Option<i64>,
) -> Result<EventsPage, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let (provider, status) = server::webhooks::parse_filter(provider.as_deref(), status.as_deref())?;
    let filter = server::webhooks::EventFilter { provider, status, event_type };
    let page = page.unwrap_or(1).max(1);
    let (rows, total) = server::webhooks::list(&state.db, &filter, page, PER_PAGE).await?;
    Ok(EventsPage {
        rows: rows.into_iter().map(ssr::row).collect(),
        total,
        page,
        pages: (total + PER_PAGE - 1) / PER_PAGE,
    })
}

#[server(endpoint = "admin/events/get")]
pub async fn get_event(id: i64) -> Result<EventDetail, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let (event, payload) = server::webhooks::detail(&state.db, id).await?;
    Ok(EventDetail { event: ssr::row(event), payload })
}

#[server(endpoint = "admin/drift/list")]
pub async fn list_drift() -> Result<Vec<DriftRow>, AppError> {
    use server::domain::DriftKind;
    let (state, _) = super::session::ssr::require_admin().await?;
    let repos = server::repositories::sold(&state.db).await?;
    Ok(server::scheduled::drift(&state)
        .await?
        .into_iter()
        .map(|d| DriftRow {
            id: d.id,
            repository: repos.iter().find(|r| r.id.get() == d.repository_id).map(|r| r.full_name()).unwrap_or_default(),
            fix_label: match d.kind {
                DriftKind::PaidWithoutAccess => format!("Invite @{} again", d.github_login),
                DriftKind::AccessWithoutPurchase => format!("Remove @{}", d.github_login),
            },
            kind: match d.kind {
                DriftKind::PaidWithoutAccess => "Paid, but no access on GitHub".to_owned(),
                DriftKind::AccessWithoutPurchase => "Access on GitHub, but no purchase".to_owned(),
            },
            github_login: d.github_login,
            detail: d.detail,
            detected: crate::time::format_utc(d.detected_at),
        })
        .collect())
}

#[server(endpoint = "admin/drift/fix")]
pub async fn fix_drift(id: i64) -> Result<String, AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    Ok(server::scheduled::fix_drift(&state, id, &super::customers::ssr::cause(&user)).await?)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::EventRow;

    pub fn row(e: server::webhooks::Listed) -> EventRow {
        let (note, error) = match e.status {
            server::domain::EventStatus::Ignored => (e.error, None),
            _ => (None, e.error),
        };
        EventRow {
            note,
            id: e.id,
            provider: e.provider.to_string(),
            event_id: e.event_id,
            event_type: e.event_type,
            status: e.status.to_string(),
            error,
            attempts: e.attempts,
            received: crate::time::format_utc(e.received_at),
        }
    }
}
