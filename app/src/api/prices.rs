//! A repository's prices: thin calls into `server::prices` (which creates
//! them in Stripe). Amounts arrive as the creator typed them ("49.90").

use leptos::prelude::*;

use crate::{error::AppError, types::PriceRow};

/// The price form's fields, as typed (`price[amount]` and so on in the
/// form). Absent model fields come from older forms: a fixed price for life.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PriceForm {
    /// `one_time`, `month` or `year`.
    pub interval: String,
    /// As typed: "49.90".
    pub amount: String,
    pub currency: String,
    #[serde(default)]
    pub trial_days: String,
    pub permission: String,
    /// `fixed` (or absent) or `pay_what_you_want`.
    #[serde(default)]
    pub pricing: Option<String>,
    #[serde(default)]
    pub suggested_amount: Option<String>,
    #[serde(default)]
    pub access_days: Option<String>,
    /// `one` (or absent) or `per_seat`, with the fewest and most seats.
    #[serde(default)]
    pub sold: Option<String>,
    #[serde(default)]
    pub seats_min: Option<String>,
    #[serde(default)]
    pub seats_max: Option<String>,
}

#[server(endpoint = "admin/prices/add")]
pub async fn add_price(repository_id: i64, price: PriceForm) -> Result<PriceRow, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = ssr::new_price(price)?;
    Ok(ssr::row(server::prices::add(&state.db, &state.stripe, server::domain::ProductId(repository_id), &new).await?))
}

/// A new amount makes a new Stripe price; subscribers keep the old one.
#[server(endpoint = "admin/prices/change")]
pub async fn change_price(id: i64, price: PriceForm) -> Result<PriceRow, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    let new = ssr::new_price(price)?;
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
            seats: p.seats().map(|r| (*r.start(), *r.end())),
            interval: p.interval().api().to_owned(),
            id: p.id.get(),
            amount: p.amount,
            currency: p.currency,
            trial_days: p.trial_days,
            permission: p.permission,
            pay_what_you_want: p.custom_amount,
            suggested_amount: p.suggested_amount,
            access_days: p.access_days,
        }
    }

    fn invalid(field: &str, message: String) -> AppError {
        AppError::Invalid { field: field.to_owned(), message }.with_status(http::StatusCode::BAD_REQUEST)
    }

    pub fn new_price(form: super::PriceForm) -> Result<server::prices::NewPrice, AppError> {
        let super::PriceForm {
            interval,
            amount,
            currency,
            trial_days,
            permission,
            pricing,
            suggested_amount,
            access_days,
            sold,
            seats_min,
            seats_max,
        } = form;
        let amount = crate::money::parse_amount(&amount, &currency).map_err(|m| invalid("amount", m))?;
        let trial_days = match trial_days.trim() {
            "" => 0,
            t => t
                .parse()
                .map_err(|_| invalid("trial_days", "give the trial as a whole number of days (0 for none)".into()))?,
        };
        let pay_what_you_want = match pricing.as_deref().map(str::trim) {
            None | Some("") | Some("fixed") => false,
            Some("pay_what_you_want") => true,
            Some(_) => return Err(invalid("pricing", "choose a fixed price or pay what you want".into())),
        };
        let suggested_amount = match suggested_amount.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if pay_what_you_want => {
                Some(crate::money::parse_amount(s, &currency).map_err(|m| invalid("suggested_amount", m))?)
            }
            _ => None,
        };
        let access_days = match access_days.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => Some(d.parse().map_err(|_| {
                invalid("access_days", "give the period of access as a whole number of days, or leave it empty".into())
            })?),
        };
        let per_seat = match sold.as_deref().map(str::trim) {
            None | Some("") | Some("one") => false,
            Some("per_seat") => true,
            Some(_) => return Err(invalid("sold", "choose one purchase per person, or per seat".into())),
        };
        let seats = |typed: Option<String>, which: &str| -> Result<Option<i64>, AppError> {
            match typed.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(n) if per_seat => n
                    .parse()
                    .map(Some)
                    .map_err(|_| invalid("seats", format!("give the {which} seats as a whole number"))),
                _ => Ok(None),
            }
        };
        let (seats_min, seats_max) = (seats(seats_min, "fewest")?, seats(seats_max, "most")?);
        // Per seat with no bounds typed: from one seat up.
        let seats_min = if per_seat { seats_min.or(Some(1)) } else { None };
        Ok(server::prices::NewPrice {
            interval,
            amount,
            currency,
            trial_days,
            permission,
            pay_what_you_want,
            suggested_amount,
            access_days,
            seats_min,
            seats_max,
        })
    }
}
