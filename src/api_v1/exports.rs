//! `/api/v1/exports/…`: purchases (each with its access log), the access
//! log and the payments ledger, as JSON Lines or CSV, a page at a time.
//! Follow the `Link: <…>; rel="next"` header (or pass `X-Next-Cursor` as
//! `after`) until there is none.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use server::{exports, AppState};
use utoipa::IntoParams;

use super::{
    auth::ApiKey,
    error::{ApiError, ApiQuery, ErrorBody},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportPage {
    /// `jsonl` (the default: one JSON object a line) or `csv`.
    pub format: Option<String>,
    /// The cursor: rows after this id (the last page's `X-Next-Cursor`).
    pub after: Option<i64>,
    /// Rows a page, 1 to 5000; 1000 when absent.
    pub limit: Option<i64>,
}

async fn export(
    state: &AppState,
    dataset: exports::Dataset,
    path: &str,
    page: ExportPage,
) -> Result<Response, ApiError> {
    let format = exports::Format::parse(page.format.as_deref())?;
    let limit = exports::limit(page.limit)?;
    let after = page.after.unwrap_or(0);
    let out = exports::page(&state.db, dataset, format, after, limit).await?;
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], out.body).into_response();
    let headers = response.headers_mut();
    if let Some(next) = out.next {
        let link =
            format!("</api/v1/exports/{path}?format={}&after={next}&limit={limit}>; rel=\"next\"", format.as_str());
        if let Ok(link) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, link);
        }
        headers.insert("x-next-cursor", HeaderValue::from(next));
    }
    headers.insert("x-rows", HeaderValue::from(out.rows));
    Ok(response)
}

/// Every purchase in id order, each with its access log (JSON Lines; the
/// CSV has one row a purchase — the access log is its own export).
#[utoipa::path(get, path = "/exports/purchases", tag = "exports", params(ExportPage),
    responses(
        (status = 200, description = "One purchase a line (`application/x-ndjson`) or a row (`text/csv`); `Link` rel=next while more follow", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn purchases(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiQuery(page): ApiQuery<ExportPage>,
) -> Result<Response, ApiError> {
    export(&state, exports::Dataset::Purchases, "purchases", page).await
}

/// Every access-log entry in id order: what happened to each purchase, when, and why.
#[utoipa::path(get, path = "/exports/access-log", tag = "exports", params(ExportPage),
    responses(
        (status = 200, description = "One entry a line or a row; `Link` rel=next while more follow", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn access_log(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiQuery(page): ApiQuery<ExportPage>,
) -> Result<Response, ApiError> {
    export(&state, exports::Dataset::AccessLog, "access-log", page).await
}

/// Money in and out as Stripe reported it: payments, renewals, refunds (negative).
#[utoipa::path(get, path = "/exports/payments", tag = "exports", params(ExportPage),
    responses(
        (status = 200, description = "One payment a line or a row; `Link` rel=next while more follow", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn payments(
    State(state): State<AppState>,
    _key: ApiKey,
    ApiQuery(page): ApiQuery<ExportPage>,
) -> Result<Response, ApiError> {
    export(&state, exports::Dataset::Payments, "payments", page).await
}
