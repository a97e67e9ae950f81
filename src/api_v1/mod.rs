//! The REST API under `/api/v1`, for scripts and integrations: bearer API
//! keys, JSON in and out, errors as `{"error":{"code","message"}}`. Routes
//! and the OpenAPI document come from the same declarations (utoipa-axum),
//! so the document cannot list a route that does not exist, or miss one.

mod auth;
mod error;
mod exports;
mod products;
mod purchases;
mod repositories;
mod webhook_endpoints;
mod webhook_events;

use axum::{routing::get, Json, Router};
use server::AppState;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "RepoPass API", description = "Sell access to private GitHub repositories: repositories, prices, purchases, customers, exports, and webhook endpoints (the events RepoPass sends are in `webhooks`)."),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    components(schemas(webhook_events::WebhookEvent)),
    security(("api_key" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from the admin panel"))
                    .build(),
            ),
        );
    }
}

/// The API's routes and its OpenAPI document, built together.
pub fn split() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::list))
        .routes(routes!(products::get, products::patch))
        .routes(routes!(products::add_repository))
        .routes(routes!(products::remove_repository))
        .routes(routes!(repositories::list, repositories::create))
        .routes(routes!(repositories::get, repositories::patch, repositories::archive))
        .routes(routes!(repositories::add_price))
        .routes(routes!(repositories::change_price, repositories::remove_price))
        .routes(routes!(purchases::list))
        .routes(routes!(purchases::get))
        .routes(routes!(purchases::revoke))
        .routes(routes!(purchases::restore))
        .routes(routes!(purchases::customers))
        .routes(routes!(purchases::dashboard))
        .routes(routes!(webhook_endpoints::list, webhook_endpoints::create))
        .routes(routes!(webhook_endpoints::get, webhook_endpoints::patch, webhook_endpoints::delete))
        .routes(routes!(webhook_endpoints::rotate_secret))
        .routes(routes!(webhook_endpoints::test))
        .routes(routes!(webhook_endpoints::deliveries))
        .routes(routes!(webhook_endpoints::resend))
        .routes(routes!(exports::purchases))
        .routes(routes!(exports::access_log))
        .routes(routes!(exports::payments))
        .split_for_parts()
}

/// Mounted at `/api/v1`: the routes, `/openapi.json`, and JSON 404s.
pub fn router() -> Router<AppState> {
    let (api, doc) = split();
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    doc["webhooks"] = webhook_events::section();
    let doc = std::sync::Arc::new(doc);
    api.route("/openapi.json", get(move || std::future::ready(Json(doc.as_ref().clone()))))
        .fallback(|| async { error::ApiError::NotFound })
}
