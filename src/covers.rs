//! Cover images over HTTP: the admin's upload (a plain multipart form, so it
//! works without JavaScript) and serving them, cached for a year (a file's
//! name is its content hash, so it never changes).

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Router,
};
use server::{covers, AppState};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};
use tower_sessions::Session;

pub fn router(state: &AppState) -> Router<AppState> {
    let files = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .service(ServeDir::new(covers::dir(&state.config.data_dir)));
    Router::new()
        .route(
            "/admin/repositories/{id}/cover",
            // The whole upload is read (up to READ_AT_MOST) before answering:
            // a browser whose upload is cut short shows "connection reset",
            // never the page that says the image is too large.
            post(upload).layer(DefaultBodyLimit::max(READ_AT_MOST)),
        )
        .nest_service("/covers", files)
}

/// Room for the multipart framing around a 2 MB image.
const ACCEPTED: usize = covers::MAX_BYTES + 64 * 1024;
/// Read, to answer in words, up to this much; beyond it the connection is cut.
const READ_AT_MOST: usize = 25 * 1024 * 1024;

const TOO_LARGE: &str = "the image is larger than 2 MB; upload a smaller one";

fn back(id: i64, outcome: Result<(), String>) -> Response {
    let query = match outcome {
        Ok(()) => "cover=saved".to_owned(),
        Err(message) => {
            format!("cover_error={}", url::form_urlencoded::byte_serialize(message.as_bytes()).collect::<String>())
        }
    };
    Redirect::to(&format!("/admin/repositories/{id}?{query}#cover")).into_response()
}

async fn upload(State(state): State<AppState>, session: Session, Path(id): Path<i64>, request: Request) -> Response {
    if let Err(refused) = crate::admin_session::require_admin(&state, &session).await {
        return refused;
    }
    let (parts, body) = request.into_parts();
    let whole = match axum::body::to_bytes(body, READ_AT_MOST).await {
        Ok(whole) => whole,
        Err(_) => return back(id, Err(TOO_LARGE.into())),
    };
    if whole.len() > ACCEPTED {
        return back(id, Err(TOO_LARGE.into()));
    }
    let mut multipart = match Multipart::from_request(Request::from_parts(parts, Body::from(whole)), &()).await {
        Ok(m) => m,
        Err(e) => {
            return back(id, Err(format!("the upload is not a form with an image ({}); try again", e.body_text())))
        }
    };
    let mut bytes = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("cover") => match field.bytes().await {
                Ok(b) => bytes = Some(b),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(id, Err(TOO_LARGE.into())),
                Err(e) => {
                    return back(id, Err(format!("the upload did not arrive whole ({}); try again", e.body_text())))
                }
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(id, Err(TOO_LARGE.into())),
            Err(e) => return back(id, Err(format!("the upload did not arrive whole ({}); try again", e.body_text()))),
        }
    }
    let Some(bytes) = bytes else {
        return back(id, Err("choose an image file to upload".into()));
    };
    match covers::save(&state.db, &state.config.data_dir, server::domain::ProductId(id), &bytes).await {
        Ok(_) => back(id, Ok(())),
        Err(e @ (server::Error::Invalid { .. } | server::Error::InvalidFields(_))) => back(id, Err(e.to_string())),
        Err(server::Error::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(server::Error::Unavailable(message) | server::Error::Later { message, .. }) => back(id, Err(message)),
        Err(server::Error::Internal(cause)) => {
            tracing::error!(%cause, "cover upload failed");
            back(id, Err("the image could not be saved on our side; try again in a moment".into()))
        }
    }
}
