//! The creator's customers: the table (search, filters, sorting, pages),
//! one customer's purchases with their whole history, and the actions —
//! revoke, restore, resend the invitation, refund — each in the access log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub purchase_id: i64,
    pub github_login: String,
    pub github_user_id: i64,
    pub email: String,
    pub repository: String,
    pub status: String,
    pub amount_text: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomersPage {
    pub rows: Vec<CustomerRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// (id, title) for the repository filter.
    pub repositories: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub github_user_id: i64,
    pub github_login: String,
    pub emails: Vec<String>,
    pub purchases: Vec<AdminPurchase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminPurchase {
    pub id: i64,
    pub repository: String,
    /// Each repository of the product, with where this purchase's access stands.
    pub repositories: Vec<crate::types::RepoLink>,
    pub price_text: String,
    /// "$9.00 refunded" when money came back.
    pub refunded_text: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub currency: String,
    pub can_revoke: bool,
    pub can_restore: bool,
    pub can_resend: bool,
    pub can_refund: bool,
    pub timeline: Vec<TimelineEntry>,
    /// A team purchase: its seats and who holds them.
    pub team: Option<AdminTeam>,
    /// A seat: the login and GitHub id of the team purchase's buyer.
    pub seat_of: Option<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminTeam {
    /// "3 seats, 2 in use" (and "2 from the next renewal").
    pub seats_text: String,
    /// Each holder: login, GitHub id (their customer page), status.
    pub holders: Vec<(String, i64, String)>,
    pub managers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub action: String,
    pub change: String,
    pub cause: String,
    /// The event, delivery or session behind it (for the tooltip).
    pub reference: Option<String>,
    pub detail: Option<String>,
    /// The repository the change is about (`owner/name`), when it is about one.
    pub repository: Option<String>,
}

pub const PER_PAGE: i64 = 50;

#[server(endpoint = "admin/customers/list")]
pub async fn list_customers(
    q: Option<String>,
    status: Option<String>,
    repository: Option<i64>,
    sort: Option<String>,
    page: Option<i64>,
) -> Result<CustomersPage, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::list(&state, q, status, repository, sort, page.unwrap_or(1)).await
}

#[server(endpoint = "admin/customers/get")]
pub async fn get_customer(github_user_id: i64) -> Result<CustomerDetail, AppError> {
    let (state, _) = super::session::ssr::require_admin().await?;
    ssr::detail(&state, github_user_id).await
}

#[server(endpoint = "admin/purchases/revoke")]
pub async fn revoke_purchase(id: i64, reason: String) -> Result<(), AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    // The panel asks why: the customer and the history will show it.
    if reason.trim().is_empty() {
        return Err(AppError::Invalid {
            field: "reason".into(),
            message: "say why access is revoked: the reason goes into the purchase's history".into(),
        }
        .with_status(http::StatusCode::BAD_REQUEST));
    }
    let id = server::domain::PurchaseId(id);
    server::access::revoke(&state, id, server::domain::Reason::RevokedByCreator, &reason, &ssr::cause(&user)).await?;
    Ok(())
}

#[server(endpoint = "admin/purchases/restore")]
pub async fn restore_purchase(id: i64) -> Result<(), AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    server::access::restore(&state, server::domain::PurchaseId(id), &ssr::cause(&user)).await?;
    Ok(())
}

#[server(endpoint = "admin/purchases/resend")]
pub async fn resend_purchase_invitation(id: i64) -> Result<(), AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    server::access::reinvite(&state, server::domain::PurchaseId(id), &ssr::cause(&user)).await?;
    Ok(())
}

/// Refunds `amount` as typed ("12.50"; empty: everything left) through Stripe.
#[server(endpoint = "admin/purchases/refund")]
pub async fn refund_purchase(id: i64, amount: String) -> Result<String, AppError> {
    let (state, user) = super::session::ssr::require_admin().await?;
    let id = server::domain::PurchaseId(id);
    let p = server::purchases::get(&state.db, id).await?;
    let amount = match amount.trim() {
        "" => None,
        typed => Some(crate::money::parse_amount(typed, &p.currency).map_err(|m| {
            AppError::Invalid { field: "amount".into(), message: m }.with_status(http::StatusCode::BAD_REQUEST)
        })?),
    };
    let done = server::refunds::refund(&state, id, amount, &ssr::cause(&user)).await?;
    Ok(format!(
        "Refunded {} ({} refunded in all).",
        crate::money::format_amount(done.amount.amount, &done.amount.currency),
        crate::money::format_amount(done.in_all.amount, &done.in_all.currency)
    ))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use server::{domain::CauseKind, purchase_state::Cause, purchases};

    use super::*;
    use crate::{
        money::{format_amount, format_price},
        time::format_utc,
    };

    pub fn cause(user: &server::session_user::SessionUser) -> Cause {
        Cause::Admin(user.admin_id.unwrap_or_default())
    }

    pub async fn list(
        state: &server::AppState,
        q: Option<String>,
        status: Option<String>,
        repository: Option<i64>,
        sort: Option<String>,
        page: i64,
    ) -> Result<CustomersPage, AppError> {
        let filter = purchases::Filter {
            q,
            status: purchases::parse_status(status.as_deref())?,
            product_id: repository.filter(|r| *r > 0).map(server::domain::ProductId),
            sort,
            // Unfinished checkouts are not customers: listed only when their status is asked for.
            unfinished: false,
        };
        let found = purchases::list(&state.db, &filter, page.max(1), PER_PAGE).await?;
        let repos = server::products::list(&state.db).await?;
        let name = |id| repos.iter().find(|r| r.id == id).map(|r| r.title.clone()).unwrap_or_default();
        // The prices on this page (a handful): a trial says what comes after it.
        let mut prices = std::collections::HashMap::new();
        for p in &found.items {
            if let std::collections::hash_map::Entry::Vacant(slot) = prices.entry(p.price_id) {
                slot.insert(server::prices::get(&state.db, p.price_id).await?);
            }
        }
        let rows = found
            .items
            .into_iter()
            .map(|p| CustomerRow {
                purchase_id: p.id.get(),
                repository: name(p.product_id),
                amount_text: match prices.get(&p.price_id) {
                    _ if p.seat_of.is_some() => "a team's seat".to_owned(),
                    Some(price) if p.seats.is_some() => format!(
                        "{} for {} seats",
                        server::prices::paid_words(p.amount, &p.currency, price.kind, price.amount, price.trial_days),
                        p.seats.unwrap_or(1)
                    ),
                    Some(price) => {
                        server::prices::paid_words(p.amount, &p.currency, price.kind, price.amount, price.trial_days)
                    }
                    None => format_amount(p.amount, &p.currency),
                },
                created: format_utc(p.created_at),
                github_login: p.github_login,
                github_user_id: p.github_user_id.get(),
                email: p.email,
                status: p.status.to_string(),
            })
            .collect();
        Ok(CustomersPage {
            rows,
            total: found.total,
            page: found.page,
            pages: (found.total + PER_PAGE - 1) / PER_PAGE,
            repositories: repos.into_iter().map(|r| (r.id.get(), r.title)).collect(),
        })
    }

    /// Who or what made a change, in words; the reference (an event or
    /// session id) is kept for the row's tooltip, not its text.
    fn cause_words(kind: CauseKind, reference: Option<&str>) -> String {
        match (kind, reference) {
            (CauseKind::StripeEvent, _) => "Stripe".to_owned(),
            (CauseKind::GithubEvent, _) => "GitHub".to_owned(),
            (CauseKind::Admin, _) => "the creator".to_owned(),
            (CauseKind::ApiKey, Some(r)) => format!("API key #{r}"),
            (CauseKind::ApiKey, None) => "an API key".to_owned(),
            (CauseKind::Customer, Some(r)) => format!("the customer, {r}"),
            (CauseKind::Customer, None) => "the customer".to_owned(),
            (CauseKind::Schedule, _) => "RepoPass's scheduled check".to_owned(),
            (CauseKind::System, Some(r)) if r.starts_with("checkout return") => {
                "the buyer's return from Stripe Checkout".to_owned()
            }
            (CauseKind::System, _) => "RepoPass".to_owned(),
        }
    }

    pub async fn detail(state: &server::AppState, github_user_id: i64) -> Result<CustomerDetail, AppError> {
        let found = purchases::of_customer(&state.db, server::domain::GithubUserId(github_user_id)).await?;
        let Some((first, _)) = found.first() else {
            return Err(AppError::NotFound.with_status(http::StatusCode::NOT_FOUND));
        };
        let github_login = first.github_login.clone();
        let mut emails: Vec<String> = found.iter().map(|(p, _)| p.email.clone()).collect();
        emails.sort();
        emails.dedup();
        let mut out = Vec::new();
        let names = server::repositories::names(&state.db).await?;
        let web = state.config.github.web_url.as_str().trim_end_matches('/').to_owned();
        for (p, log) in found {
            let product = server::products::get(&state.db, p.product_id).await?;
            let held = server::grants::of_purchase(&state.db, p.id).await?;
            let price = server::prices::get(&state.db, p.price_id).await?;
            let can = purchases::CreatorCan::of(&p);
            let refunded = server::ledger::refunded_total(&state.db, p.id).await?;
            let refunded_text = (!refunded.is_empty()).then(|| {
                let amounts: Vec<String> = refunded.iter().map(|(c, a)| format_amount(*a, c)).collect();
                format!("{} refunded", amounts.join(" + "))
            });
            let team = match p.seats {
                Some(_) => {
                    let t = server::teams::team(&state.db, p.id).await?;
                    let mut seats_text = format!("{} seats, {} in use", t.seats, t.in_use());
                    if let Some(next) = t.seats_next {
                        seats_text += &format!(", {next} from the next renewal");
                    }
                    Some(AdminTeam {
                        seats_text,
                        holders: t
                            .holders
                            .iter()
                            .map(|s| {
                                let h = &s.purchase;
                                (h.github_login.clone(), h.github_user_id.get(), h.status.to_string())
                            })
                            .collect(),
                        managers: t.managers.iter().map(|m| format!("@{}", m.github_login)).collect(),
                    })
                }
                None => None,
            };
            let seat_of = match p.seat_of {
                Some(company) => {
                    let c = purchases::get(&state.db, company).await?;
                    Some((c.github_login, c.github_user_id.get()))
                }
                None => None,
            };
            out.push(AdminPurchase {
                team,
                seat_of,
                id: p.id.get(),
                repository: format!("{} ({})", product.title, product.full_names().join(", ")),
                repositories: server::grants::RepoGrant::list(&product, &held)
                    .iter()
                    .map(|r| crate::types::RepoLink::of_grant(&web, r))
                    .collect(),
                price_text: format_price(p.amount, &p.currency, price.kind.db()),
                refunded_text,
                can_revoke: can.revoke,
                can_restore: can.restore,
                can_resend: can.resend,
                can_refund: can.refund,
                currency: p.currency.clone(),
                status: p.status.to_string(),
                status_reason: p.status_reason,
                timeline: log
                    .into_iter()
                    .rev()
                    .map(|l| TimelineEntry {
                        at: format_utc(l.created_at),
                        change: match l.from_status {
                            Some(from) if from != l.to_status => format!("{from} → {}", l.to_status),
                            Some(_) => l.to_status.to_string(),
                            None => format!("→ {}", l.to_status),
                        },
                        cause: cause_words(l.cause_kind, l.cause_ref.as_deref()),
                        reference: l.cause_ref,
                        action: l.action.as_str().replace('_', " "),
                        detail: l.detail,
                        repository: l.repository_id.and_then(|r| names.get(&r).cloned()),
                    })
                    .collect(),
            });
        }
        Ok(CustomerDetail { github_user_id, github_login, emails, purchases: out })
    }
}
