//! The RepoPass program: the hydration entry point compiled to wasm
//! (`hydrate`), and the server wiring — command line, HTTP router, start-up —
//! compiled into the `repopass` binary (`ssr`).

// The app's view type, awaited whole by the asynchronous hydration, is deeper
// than the compiler's default limit.
#![recursion_limit = "256"]

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
    std::panic::set_hook(Box::new(reload_after_panic));
    // Asynchronously: a page whose code is a file of its own (the creator's
    // and the customer's pages, `app::shell`) is hydrated once that file has
    // loaded. The executor may already be set up; that is fine.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await.forget();
        // Lets browser tests (and curious people) see that the page is live.
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// A panic stops the page's code: its links and buttons would do nothing.
/// The likely cause is a page whose code chunk is gone because RepoPass was
/// upgraded while the tab was open (each build's files have their own
/// address), so after logging it the page is loaded again, from the new
/// build. At most once in 30 s: a page that panics on every load is left
/// as it is rather than reloaded for ever.
#[cfg(feature = "hydrate")]
fn reload_after_panic(info: &std::panic::PanicHookInfo) {
    const LAST_RELOAD: &str = "repopass-reloaded-after-panic";
    console_error_panic_hook::hook(info);
    let Some(window) = web_sys::window() else { return };
    let now = web_sys::js_sys::Date::now();
    let storage = window.session_storage().ok().flatten();
    let last =
        storage.as_ref().and_then(|s| s.get_item(LAST_RELOAD).ok().flatten()).and_then(|v| v.parse::<f64>().ok());
    if last.is_some_and(|at| now - at < 30_000.0) {
        return;
    }
    if let Some(storage) = &storage {
        let _ = storage.set_item(LAST_RELOAD, &now.to_string());
    }
    let _ = window.location().reload();
}
