//! Server functions: one file per area, each function thin.

pub mod account;
pub mod alerts;
pub mod api_keys;
pub mod buy;
pub mod customers;
pub mod dashboard;
pub mod events;
pub mod jobs;
pub mod notifications;
pub mod prices;
pub mod product_repositories;
pub mod repositories;
pub mod session;
pub mod settings;
pub mod setup;
pub mod storefront;
pub mod team;
pub mod webhooks;

/// The shared server state, provided to every server function by the router.
#[cfg(feature = "ssr")]
pub(crate) fn state() -> Result<server::AppState, crate::error::AppError> {
    leptos::prelude::use_context::<server::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        crate::error::AppError::Internal
    })
}
