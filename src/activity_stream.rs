//! `GET /admin/activity/stream`: the creator's live activity as Server-Sent
//! Events. It reads the access log (every second, from the last id sent),
//! so it shows what any process did — a separate `repopass worker` too —
//! and a reconnecting browser resumes from `Last-Event-ID`.

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Router,
};
use serde::Deserialize;
use server::{activity, AppState};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/activity/stream", get(stream))
}

#[derive(Deserialize)]
struct After {
    after: Option<i64>,
}

const POLL: Duration = Duration::from_secs(1);

async fn stream(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Response {
    if let Err(refused) = crate::admin_session::require_admin(&state, &session).await {
        return refused;
    }
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).or(q.after);
    let start = match resume {
        Some(id) => id,
        None => activity::last_id(&state.db).await.unwrap_or(0),
    };
    let events = futures::stream::unfold((state, start, VecDeque::new()), |(state, last, mut queue)| async move {
        loop {
            if let Some(item) = queue.pop_front() {
                let item: activity::Activity = item;
                let data = serde_json::json!({
                    "id": item.id, "at": item.created_at, "action": item.action, "words": activity::words(&item), "github_user_id": item.github_user_id,
                });
                let event = Event::default().id(item.id.to_string()).event("activity").data(data.to_string());
                return Some((Ok::<Event, Infallible>(event), (state, item.id, queue)));
            }
            tokio::time::sleep(POLL).await;
            match activity::after(&state.db, last, 100).await {
                Ok(items) => queue.extend(items),
                Err(e) => tracing::warn!(error = %e, "activity stream: could not read the access log"),
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
