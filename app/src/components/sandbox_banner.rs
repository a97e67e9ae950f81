use leptos::{prelude::*, server::SharedValue};

/// "Sandbox" ribbon on every page while RepoPass runs on its stand-ins.
/// Decided on the server and handed to the browser with the page, so the
/// hydrated view agrees without a request.
#[component]
pub fn SandboxBanner() -> impl IntoView {
    let on = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        return use_context::<server::AppState>().is_some_and(|s| s.config.sandbox);
        #[cfg(not(feature = "ssr"))]
        false
    })
    .into_inner();
    on.then(|| {
        view! {
            <div class="bg-amber-400 px-4 py-2 text-center text-sm font-semibold text-amber-950" role="status" data-testid="sandbox-banner">
                "Sandbox — no real money or GitHub access. "
                <a href="/sandbox" rel="external" class="underline hover:no-underline">"Open the sandbox console"</a>
            </div>
        }
    })
}
