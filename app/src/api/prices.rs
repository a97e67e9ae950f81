//! A repository's prices: thin calls into `server::prices` (which creates
//! them in Stripe). Amounts arrive as the creator typed them ("49.90").

use leptos::prelude::*;

use crate::{error::AppError, types::PriceRow};

#[server(endpoint = "admin/prices/add")]
pub async fn add_price(
    repository_id: i64,
    interval: String,
    amount: String,
    currency: String,
    trial_days: String,
    permission: String,
) -> Result<PriceRow, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = ssr::new_price(interval, &amount, currency, &trial_days, permission)?;
    Ok(ssr::row(
        server::prices::add(&state.db, &state.stripe, server::domain::RepositoryId(repository_id), &new).await?,
    ))
}

/// A new amount makes a new Stripe price; subscribers keep the old one.
#[server(endpoint = "admin/prices/change")]
pub async fn change_price(
    id: i64,
    interval: String,
    amount: String,
    currency: String,
    trial_days: String,
    permission: String,
) -> Result<PriceRow, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = ssr::new_price(interval, &amount, currency, &trial_days, permission)?;
    Ok(ssr::row(server::prices::change(&state.db, &state.stripe, server::domain::PriceId(id), &new).await?))
}

#[server(endpoint = "admin/prices/remove")]
pub async fn remove_price(id: i64) -> Result<(), AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    server::prices::remove(&state.db, &state.stripe, server::domain::PriceId(id)).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{error::AppError, types::PriceRow};

    pub fn row(p: server::prices::Price) -> PriceRow {
        PriceRow {
            interval: p.interval().api().to_owned(),
            id: p.id.get(),
            amount: p.amount,
            currency: p.currency,
            trial_days: p.trial_days,
            permission: p.permission,
        }
    }

    fn invalid(field: &str, message: String) -> AppError {
        AppError::Invalid { field: field.to_owned(), message }.with_status(http::StatusCode::BAD_REQUEST)
    }

    pub fn new_price(
        interval: String,
        amount: &str,
        currency: String,
        trial_days: &str,
        permission: String,
    ) -> Result<server::prices::NewPrice, AppError> {
        let amount = crate::money::parse_amount(amount, &currency).map_err(|m| invalid("amount", m))?;
        let trial_days = match trial_days.trim() {
            "" => 0,
            t => t
                .parse()
                .map_err(|_| invalid("trial_days", "give the trial as a whole number of days (0 for none)".into()))?,
        };
        Ok(server::prices::NewPrice { interval, amount, currency, trial_days, permission })
    }
}
