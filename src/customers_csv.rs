//! `GET /admin/customers.csv?q=&status=&repository=&sort=`: the customers
//! table's current filter as a CSV download (a plain route: a file, not a
//! server function's JSON).

use axum::{
    extract::{Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use serde::Deserialize;
use server::{purchases, AppState};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/customers.csv", get(export))
}

#[derive(Deserialize)]
struct Params {
    q: Option<String>,
    status: Option<String>,
    repository: Option<String>,
    sort: Option<String>,
}

async fn export(State(state): State<AppState>, session: Session, Query(p): Query<Params>) -> Response {
    if let Err(refused) = crate::admin_session::require_admin(&state, &session).await {
        return refused;
    }
    let status = match purchases::parse_status(p.status.as_deref()) {
        Ok(status) => status,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let filter = purchases::Filter {
        q: p.q,
        status,
        product_id: p.repository.and_then(|r| r.parse().ok()).filter(|r| *r > 0).map(server::domain::ProductId),
        sort: p.sort.filter(|s| !s.is_empty()),
        // As the customers page lists them: paid purchases, unless a status asks otherwise.
        unfinished: false,
    };
    match purchases::export_csv(&state.db, &filter).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"repopass-customers.csv\""),
            ],
            csv,
        )
            .into_response(),
        Err(server::Error::Invalid { message, .. }) => (StatusCode::BAD_REQUEST, message).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "CSV export failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The export failed; try again in a moment.").into_response()
        }
    }
}
