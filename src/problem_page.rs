//! The small static page a plain HTTP route answers with when something
//! went wrong outside the app (a sign-in that failed, a link that expired).

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

/// `title`, `message`, and a link back to `back` (a path of ours).
pub fn problem(status: StatusCode, title: &str, message: &str, back: &str) -> Response {
    // Static text only: nothing user-supplied is echoed into this page.
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · RepoPass</title>\
         <link rel=\"stylesheet\" href=\"/pkg/repopass.css\"></head><body class=\"bg-slate-50\">\
         <main class=\"mx-auto max-w-xl px-4 py-24 text-center\"><h1 class=\"text-2xl font-bold\">{title}</h1>\
         <p class=\"mt-4 text-slate-600\">{message}</p><a class=\"mt-8 inline-block text-indigo-600 underline\" href=\"{back}\">Back</a></main></body></html>"
    );
    (status, Html(page)).into_response()
}
