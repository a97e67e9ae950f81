//! A team purchase's seats on `/account`: its managers give seats to
//! GitHub accounts, take them back, resend a holder's invitation, change
//! the number of seats and appoint other managers. Each function acts as
//! the signed-in customer; a team they do not manage is "not found".

use leptos::prelude::*;

use crate::{error::AppError, types::SeatsAnswer};

#[server(endpoint = "account/team/give")]
pub async fn give_seat(id: String, github_username: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    let seat = server::seats::give(&state, &who, &id, &github_username).await?;
    Ok(seat.github_login)
}

#[server(endpoint = "account/team/take-back")]
pub async fn take_seat_back(id: String, seat: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    let seat = server::seats::take_back(&state, &who, &id, &seat).await?;
    Ok(seat.github_login)
}

#[server(endpoint = "account/team/resend")]
pub async fn resend_seat_invitation(id: String, seat: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    let seat = server::seats::resend(&state, &who, &id, &seat).await?;
    Ok(seat.github_login)
}

/// The number of seats: more now (charged pro rata), fewer from the next
/// renewal; for a one-time price, more are paid once through Stripe
/// Checkout (a plain form post gets a 303 there). Answers what happened.
#[server(endpoint = "account/team/seats")]
pub async fn change_seats(id: String, seats: String) -> Result<SeatsAnswer, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    let wanted = super::buy::ssr::seats(Some(&seats))?.ok_or_else(|| {
        AppError::Invalid { field: "seats".into(), message: "enter how many seats the team should have".into() }
            .with_status(http::StatusCode::BAD_REQUEST)
    })?;
    Ok(SeatsAnswer::Said(match server::seats::change(&state, &who, &id, wanted).await? {
        server::seats::SeatsChanged::PayFirst { url } => {
            super::buy::ssr::see_other_if_plain_form(&url)?;
            return Ok(SeatsAnswer::PayAt(url));
        }
        server::seats::SeatsChanged::Now { seats } => {
            format!("The team now has {seats} seats; Stripe charged the added seats for the rest of this period.")
        }
        server::seats::SeatsChanged::FromRenewal { seats, on, over } => {
            let when =
                on.map(|at| format!("the renewal on {}", server::clock::day(at))).unwrap_or("the next renewal".into());
            match over {
                0 => format!("From {when} the team has {seats} seats."),
                n => format!(
                    "From {when} the team has {seats} seats. {n} more people hold a seat than that: take {n} back before then, or you will be asked to choose (nobody loses access until you do)."
                ),
            }
        }
    }))
}

/// The manager back from paying for added seats: Stripe is asked for the
/// session (its webhook may be late) and the seats are added if it is paid.
#[server(endpoint = "account/team/seats-paid")]
pub async fn confirm_added_seats(session: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    Ok(match server::extra_seats::paid_on_return(&state, &who, &session).await? {
        server::extra_seats::Applied::Added { seats } => format!("Payment received: the team now has {seats} seats."),
        server::extra_seats::Applied::NotPaid => {
            "Stripe has not confirmed the payment yet: the seats are added as soon as it does.".to_owned()
        }
    })
}

#[server(endpoint = "account/team/appoint")]
pub async fn appoint_manager(id: String, github_username: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = super::account::ssr::require_customer().await?;
    server::seats::appoint(&state, &who, &id, &github_username).await?;
    Ok(github_username.trim().trim_start_matches('@').to_owned())
}
