//! The customer's account (`/account`): their purchases and what they may
//! do about them. Each function acts as the signed-in customer only; an id
//! that is not theirs is "not found", exactly like one that does not exist.

use leptos::prelude::*;

use crate::{error::AppError, types::Account};

/// The signed-in customer's purchases; `None` when nobody is signed in.
#[server(endpoint = "account/overview")]
pub async fn account_overview() -> Result<Option<Account>, AppError> {
    let state = super::state()?;
    let Some(who) = ssr::customer().await? else { return Ok(None) };
    Ok(Some(ssr::overview(&state, &who).await?))
}

/// Emails a one-time sign-in link to a purchase address (same answer
/// whether or not the address bought anything).
#[server(endpoint = "account/email-link")]
pub async fn request_sign_in_link(email: String) -> Result<(), AppError> {
    let state = super::state()?;
    server::sign_in_links::request(&state, &email).await?;
    // Without JavaScript, back to the page with a note that it was sent.
    super::buy::ssr::see_other_if_plain_form("/account?link=sent")?;
    Ok(())
}

#[server(endpoint = "account/resend")]
pub async fn resend_invitation(id: String) -> Result<(), AppError> {
    let state = super::state()?;
    let who = ssr::require_customer().await?;
    server::account::resend_invitation(&state, &who, &id).await?;
    Ok(())
}

#[server(endpoint = "account/move")]
pub async fn move_access(id: String, github_username: String) -> Result<(), AppError> {
    let state = super::state()?;
    let who = ssr::require_customer().await?;
    server::account::move_access(&state, &who, &id, &github_username).await?;
    ssr::remember_moved(who, id).await
}

/// Opens Stripe's billing portal: a plain form post gets a 303 there, the
/// hydrated page gets the URL and navigates.
#[server(endpoint = "account/billing")]
pub async fn manage_billing(id: String) -> Result<String, AppError> {
    let state = super::state()?;
    let who = ssr::require_customer().await?;
    let url = server::account::billing_portal(&state, &who, &id).await?;
    super::buy::ssr::see_other_if_plain_form(&url)?;
    Ok(url)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use server::{account, domain::PurchaseStatus, session_user::Customer};
    use tower_sessions::Session;

    use crate::{
        error::AppError,
        types::{Account, AccountPurchase, RepoLink, SeatChanges, SeatHolder, TeamSeats},
    };

    /// A team purchase as `who` sees it: everything for a manager, the
    /// counts only for anyone else who sees it (a holder who paid).
    pub fn team_seats(team: &server::teams::Team, who: &Customer, web: &str) -> TeamSeats {
        let manager = who.github_user_id.is_some_and(|id| team.managers.iter().any(|m| m.github_user_id.get() == id));
        let range = team.range.clone();
        TeamSeats {
            id: team.company.public_id.clone(),
            title: team.product.title.clone(),
            seats: team.seats,
            seats_next: team.seats_next,
            seats_next_when: team.seats_next.map(|_| match team.company.current_period_end {
                Some(at) => format!("from the renewal on {}", server::clock::day(at)),
                None => "from the next renewal".to_owned(),
            }),
            in_use: team.in_use(),
            free: team.free(),
            over: team.over(),
            seat_changes: if team.company.stripe_subscription_id.is_some() {
                SeatChanges::Prorated
            } else {
                SeatChanges::PaidOnce
            },
            // A one-time purchase keeps the seats it paid for.
            seats_min: if team.company.stripe_subscription_id.is_some() {
                *range.start()
            } else {
                team.seats.max(*range.start())
            },
            seats_max: *range.end(),
            holders: if manager {
                team.holders
                    .iter()
                    .map(|s| {
                        let p = &s.purchase;
                        let status = p.status;
                        SeatHolder {
                            id: p.public_id.clone(),
                            github_login: p.github_login.clone(),
                            status: status.to_string(),
                            headline: server::teams::holder_words(s),
                            repositories: s.repositories.iter().map(|r| RepoLink::of_grant(web, r)).collect(),
                            can_resend: account::resend_offered(status, p.status_reason_code),
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            },
            managers: if manager { team.managers.iter().map(|m| m.github_login.clone()).collect() } else { Vec::new() },
            in_force: team.company.status == server::domain::PurchaseStatus::Active,
            manager,
        }
    }

    pub async fn customer() -> Result<Option<Customer>, AppError> {
        let session: Session = leptos_axum::extract().await.map_err(|e| {
            tracing::error!(error = %e, "no session layer");
            AppError::Internal
        })?;
        Ok(server::session_user::customer(&session).await)
    }

    /// Keeps a purchase this session just moved away in view until sign-out.
    pub async fn remember_moved(mut who: Customer, id: String) -> Result<(), AppError> {
        let session: Session = leptos_axum::extract().await.map_err(|_| AppError::Internal)?;
        who.moved_away.push(id);
        session.insert(server::session_user::CUSTOMER_KEY, &who).await.map_err(|e| {
            tracing::error!(error = %e, "could not update the customer's session");
            AppError::Internal
        })
    }

    pub async fn require_customer() -> Result<Customer, AppError> {
        customer().await?.ok_or_else(|| AppError::Unauthorized.with_status(http::StatusCode::UNAUTHORIZED))
    }

    pub async fn overview(state: &server::AppState, who: &Customer) -> Result<Account, AppError> {
        let now = server::clock::now();
        // Dates that end access follow the sandbox's clock in zero-config mode.
        let dated_now = server::dated_clock::now(state).await?;
        let web = state.config.github.web_url.as_str().trim_end_matches('/').to_owned();
        let rows = account::purchases(&state.db, who).await?;
        let mut teams = std::collections::HashMap::new();
        for row in rows.iter().filter(|r| r.seats.is_some()) {
            let team = server::teams::team(&state.db, row.id).await?;
            teams.insert(row.id, team_seats(&team, who, &web));
        }
        let purchases = rows
            .into_iter()
            .map(|row| {
                let (mut headline, when) = account::describe(&row, now);
                let team = teams.remove(&row.id);
                if let (Some(t), PurchaseStatus::Active) = (&team, row.status) {
                    headline = format!("Team purchase: {} seats, {} in use", t.seats, t.in_use);
                }
                let can = account::customer_can(&row, who, now);
                let move_after =
                    account::move_after(&row, now).filter(|_| row.status.gives_access()).map(server::clock::day);
                AccountPurchase {
                    repositories: row.repositories.iter().map(|r| RepoLink::of_grant(&web, r)).collect(),
                    ending_soon: account::ending_soon(&row, dated_now),
                    renew_url: (row.seats.is_none()
                        && row.seat_of.is_none()
                        && account::renewal_offer(&row, dated_now))
                    .then(|| format!("/p/{}", row.slug)),
                    team,
                    given_by: row.given_by.clone(),
                    product_url: format!("/p/{}", row.slug),
                    price_text: account::price_words(&row),
                    can_resend: can.resend,
                    can_open: can.open_repository,
                    can_move: can.move_access,
                    move_after,
                    can_manage_billing: can.manage_billing,
                    invitation_url: row.invitation_url().filter(|_| row.status == PurchaseStatus::Invited),
                    id: row.public_id,
                    title: row.title,
                    github_login: row.github_login,
                    status: row.status.to_string(),
                    headline,
                    when,
                }
            })
            .collect();
        let mut signed_in_as = Vec::new();
        if let Some(login) = &who.github_login {
            signed_in_as.push(format!("@{login}"));
        }
        if let Some(email) = &who.email {
            signed_in_as.push(email.clone());
        }
        Ok(Account { signed_in_as, can_add_github: who.github_user_id.is_none(), purchases })
    }
}
