//! The RepoPass program: the hydration entry point compiled to wasm
//! (`hydrate`), and the server wiring — command line, HTTP router, start-up —
//! compiled into the `repopass` binary (`ssr`).

#[cfg(feature = "ssr")]
mod account_auth;
#[cfg(feature = "ssr")]
mod activity_stream;
#[cfg(feature = "ssr")]
mod admin_session;
#[cfg(feature = "ssr")]
pub mod api_v1;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
mod client_ip;
#[cfg(feature = "ssr")]
mod covers;
#[cfg(feature = "ssr")]
mod customers_csv;
#[cfg(feature = "ssr")]
pub mod leptos_settings;
#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
mod page_cache;
#[cfg(feature = "ssr")]
mod problem_page;
#[cfg(feature = "ssr")]
mod rate_limit;
#[cfg(feature = "ssr")]
mod render_guard;
#[cfg(feature = "ssr")]
mod security;
#[cfg(feature = "ssr")]
mod serve;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
mod setup;
#[cfg(feature = "ssr")]
mod sign_in;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod static_files;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
mod webhooks;

/// Called by the generated JavaScript once the wasm has loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests (and curious people) see that the page is live.
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
