//! `/api/v1/purchases`, `/customers` and `/dashboard`.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use server::{access, purchases, AppState};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::ApiKey,
    error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody},
};

#[derive(Serialize, ToSchema)]
pub struct Purchase {
    pub id: i64,
    pub product_id: i64,
    /// The same as `product_id` (its name before products).
    pub repository_id: i64,
    pub price_id: i64,
    pub github_user_id: i64,
    pub github_login: String,
    pub email: String,
    /// `pending`, `paid`, `invited`, `active`, `revoked` or `expired`.
    pub status: String,
    pub status_reason: Option<String>,
    /// Why it is where it is, for programs: `payment_failed`,
    /// `subscription_ended`, `refunded`, `disputed`, `revoked_by_creator`,
    /// `duplicate_purchase`, `invitation_expired`, `queued_invite_limit`,
    /// `queued_rate_limit`, `github_user_gone`, `repository_gone`,
    /// `github_not_connected`, `checkout_payment_failed`, `access_period_ended`,
    /// `renewed`, `seat_taken_back` or `team_ended`.
    pub status_reason_code: Option<String>,
    /// A team purchase: the seats paid for now, and from the next renewal
    /// when fewer were chosen (null: one person's purchase).
    pub seats: Option<i64>,
    pub seats_next: Option<i64>,
    /// A seat: the id of the team purchase it belongs to.
    pub seat_of: Option<i64>,
    pub amount: i64,
    pub currency: String,
    pub stripe_subscription_id: Option<String>,
    /// The link the buyer accepts on GitHub, while an invitation is pending
    /// (the first, when several repositories wait).
    pub invitation_url: Option<String>,
    /// Each repository the purchase grants, with where its access stands.
    pub repositories: Vec<Grant>,
    pub current_period_end: Option<i64>,
    pub paid_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Unix seconds, UTC.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A purchase's access to one repository of its product.
#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub repository_id: i64,
    /// `owner/name`.
    pub full_name: String,
    /// `waiting` (queued behind GitHub's limits, or refused: see
    /// `status_reason`), `invited`, `active` or `removed`; absent before the
    /// purchase is paid.
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub invitation_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LogEntry {
    pub from_status: Option<String>,
    pub to_status: String,
    pub action: String,
    /// `stripe_event`, `github_event`, `admin`, `api_key`, `customer`, `schedule` or `system`.
    pub cause_kind: String,
    pub cause_ref: Option<String>,
    pub detail: Option<String>,
    /// The repository the entry is about (`owner/name`), when it is about one.
    pub repository: Option<String>,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PurchaseWithLog {
    #[serde(flatten)]
    pub purchase: Purchase,
    /// Every change, oldest first.
    pub access_log: Vec<LogEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct PurchaseList {
    pub data: Vec<Purchase>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct PurchaseQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Only purchases of this product.
    pub product_id: Option<i64>,
    /// The same as `product_id` (its name before products).
    pub repository_id: Option<i64>,
    /// GitHub login or email prefix.
    pub q: Option<String>,
    /// From 1 (default 1).
    pub page: Option<i64>,
    /// 1 to 100 (default 25).
    pub per_page: Option<i64>,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct RevokeBody {
    /// Shown to the buyer and in the access log.
    pub reason: Option<String>,
}

/// Purchases as the API shows them, each with its repositories' access.
async fn with_grants(state: &AppState, items: Vec<purchases::Purchase>) -> Result<Vec<Purchase>, ApiError> {
    let ids: Vec<_> = items.iter().map(|p| p.id).collect();
    let mut grants = server::grants::of_purchases(&state.db, &ids).await?;
    // Only the products on this page (a handful), not the catalogue.
    let mut products = std::collections::HashMap::new();
    for p in &items {
        if let std::collections::hash_map::Entry::Vacant(slot) = products.entry(p.product_id) {
            slot.insert(server::products::get(&state.db, p.product_id).await?);
        }
    }
    Ok(items
        .into_iter()
        .map(|p| {
            let held = grants.remove(&p.id).unwrap_or_default();
            let repositories = server::grants::RepoGrant::list(&products[&p.product_id], &held);
            purchase(p, &repositories)
        })
        .collect())
}

async fn one(state: &AppState, p: purchases::Purchase) -> Result<Purchase, ApiError> {
    Ok(with_grants(state, vec![p]).await?.remove(0))
}

fn purchase(p: purchases::Purchase, repositories: &[server::grants::RepoGrant]) -> Purchase {
    let grants = repositories
        .iter()
        .map(|r| Grant {
            repository_id: r.grant.as_ref().map_or(0, |g| g.repository_id.get()),
            full_name: r.full_name.clone(),
            status: r.grant.as_ref().map(|g| g.status.to_string()),
            status_reason: r.grant.as_ref().and_then(|g| g.status_reason.clone()),
            invitation_url: r.invitation_url().map(str::to_owned),
        })
        .collect();
    Purchase {
        id: p.id.get(),
        product_id: p.product_id.get(),
        repository_id: p.product_id.get(),
        price_id: p.price_id.get(),
        github_user_id: p.github_user_id.get(),
        github_login: p.github_login,
        email: p.email,
        status: p.status.to_string(),
        status_reason: p.status_reason,
        status_reason_code: p.status_reason_code.map(|c| c.to_string()),
        seats: p.seats,
        seats_next: p.seats_next,
        seat_of: p.seat_of.map(|id| id.get()),
        amount: p.amount,
        currency: p.currency,
        stripe_subscription_id: p.stripe_subscription_id,
        invitation_url: repositories.iter().find_map(|r| r.invitation_url()).map(str::to_owned),
        repositories: grants,
        current_period_end: p.current_period_end,
        paid_at: p.paid_at,
        revoked_at: p.revoked_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Purchases, newest first, filtered and paginated.
#[utoipa::path(get, path = "/purchases", tag = "purchases", params(PurchaseQuery),
    responses((status = 200, body = PurchaseList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiQuery(q): ApiQuery<PurchaseQuery>,
) -> Result<ApiJson<PurchaseList>, ApiError> {
    let status = purchases::parse_status(q.status.as_deref())?;
    let filter = purchases::Filter {
        status,
        product_id: q.product_id.or(q.repository_id).map(server::domain::ProductId),
        q: q.q,
        sort: None,
        // The API lists purchases, unfinished checkouts included (as it always has).
        unfinished: true,
    };
    let page = purchases::list(&state.db, &filter, q.page.unwrap_or(1), q.per_page.unwrap_or(25)).await?;
    Ok(ApiJson(PurchaseList {
        data: with_grants(&state, page.items).await?,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One purchase with its whole access log.
#[utoipa::path(get, path = "/purchases/{id}", tag = "purchases", params(("id" = i64, Path)),
    responses((status = 200, body = PurchaseWithLog), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<PurchaseWithLog>, ApiError> {
    let id = server::domain::PurchaseId(id);
    let p = purchases::get(&state.db, id).await?;
    let log = purchases::log(&state.db, id).await?;
    let names = server::repositories::names(&state.db).await?;
    Ok(ApiJson(PurchaseWithLog {
        purchase: one(&state, p).await?,
        access_log: log
            .into_iter()
            .map(|l| LogEntry {
                from_status: l.from_status.map(|s| s.to_string()),
                to_status: l.to_status.to_string(),
                action: l.action.to_string(),
                cause_kind: l.cause_kind.to_string(),
                cause_ref: l.cause_ref,
                detail: l.detail,
                repository: l.repository_id.and_then(|r| names.get(&r).cloned()),
                created_at: l.created_at,
            })
            .collect(),
    }))
}

/// Removes the buyer from the repository on GitHub now and marks the
/// purchase revoked. Revoking twice is harmless.
#[utoipa::path(post, path = "/purchases/{id}/revoke", tag = "purchases", params(("id" = i64, Path)), request_body(content = RevokeBody, description = "optional"),
    responses((status = 200, body = Purchase), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    key: ApiKey,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<ApiJson<Purchase>, ApiError> {
    // The body is optional: no body means no reason given.
    let body: RevokeBody = if body.iter().all(u8::is_ascii_whitespace) {
        RevokeBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("the body must be JSON like {{\"reason\":\"...\"}}: {e}")))?
    };
    let reason = body.reason.unwrap_or_default();
    let (id, cause) = (server::domain::PurchaseId(id), server::purchase_state::Cause::ApiKey(key.0));
    let revoked = access::revoke(&state, id, server::domain::Reason::RevokedByCreator, &reason, &cause).await?;
    Ok(ApiJson(one(&state, revoked).await?))
}

/// Invites the buyer again after a revoke.
#[utoipa::path(post, path = "/purchases/{id}/restore", tag = "purchases", params(("id" = i64, Path)),
    responses((status = 200, body = Purchase), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    key: ApiKey,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<Purchase>, ApiError> {
    let id = server::domain::PurchaseId(id);
    let restored = access::restore(&state, id, &server::purchase_state::Cause::ApiKey(key.0)).await?;
    Ok(ApiJson(one(&state, restored).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Customer {
    pub github_user_id: i64,
    pub github_login: String,
    pub email: String,
    pub purchases: i64,
    /// Purchases giving access now.
    pub active: i64,
    pub first_purchase_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    pub data: Vec<Customer>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// GitHub login or email prefix.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Everyone who has paid, one row per GitHub account, most recent first.
#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, body = CustomerList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn customers(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> Result<ApiJson<CustomerList>, ApiError> {
    let page = purchases::customers(&state.db, q.q.as_deref(), q.page.unwrap_or(1), q.per_page.unwrap_or(25)).await?;
    Ok(ApiJson(CustomerList {
        data: page
            .items
            .into_iter()
            .map(|c| Customer {
                github_user_id: c.github_user_id,
                github_login: c.github_login,
                email: c.email,
                purchases: c.purchases,
                active: c.active,
                first_purchase_at: c.first_purchase_at,
            })
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    /// Minor units per currency, paid since the 1st of this month (UTC).
    pub revenue_this_month: BTreeMap<String, i64>,
    /// Minor units per currency, paid in the last 30 days.
    pub revenue_30d: BTreeMap<String, i64>,
    /// Monthly recurring revenue per currency (yearly prices count a twelfth).
    pub mrr: BTreeMap<String, i64>,
    pub active_customers: i64,
    pub new_purchases_30d: i64,
    pub churned_30d: i64,
    pub refunds_30d: i64,
}

/// The business at a glance.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard",
    responses((status = 200, body = Dashboard), (status = 401, body = ErrorBody)))]
pub async fn dashboard(State(state): State<AppState>, _key: ApiKey) -> Result<ApiJson<Dashboard>, ApiError> {
    let s = server::dashboard::summary(&state.db).await?;
    Ok(ApiJson(Dashboard {
        revenue_this_month: s.revenue_this_month,
        revenue_30d: s.revenue_30d,
        mrr: s.mrr,
        active_customers: s.active_customers,
        new_purchases_30d: s.new_purchases_30d,
        churned_30d: s.churned_30d,
        refunds_30d: s.refunds_30d,
    }))
}
