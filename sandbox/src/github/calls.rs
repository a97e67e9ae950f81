//! A count of the calls made to the GitHub REST stand-in, by method and
//! route template ("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"),
//! so that a test can tell how many GitHub calls an operation costs. Every
//! matched request counts, armed faults included (GitHub counts those too).
//! Read at `GET /sandbox/control/github/calls`, cleared by a `POST` to
//! `/sandbox/control/github/calls/reset`.

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use crate::Sandbox;

/// Where the REST stand-in is nested; the templates are counted without it.
const PREFIX: &str = "/github/api";

pub async fn count(State(sb): State<Sandbox>, request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        sb.count_github_call(format!("{} {}", request.method(), route_template(path.as_str())));
    }
    next.run(request).await
}

/// `/sandbox/github/api/orgs/{org}/teams` → `/orgs/{org}/teams`.
fn route_template(matched: &str) -> &str {
    match matched.find(&format!("{PREFIX}/")) {
        Some(at) => &matched[at + PREFIX.len()..],
        None => matched,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_lose_the_mount_point() {
        assert_eq!(super::route_template("/sandbox/github/api/orgs/{org}/teams"), "/orgs/{org}/teams");
        assert_eq!(super::route_template("/github/api/user"), "/user");
        assert_eq!(super::route_template("/orgs/{org}/teams"), "/orgs/{org}/teams");
    }
}
