use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::components::container::Container;

/// Shown for any unknown address, with a real 404 status.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <Container class="py-24 text-center">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">"Page not found"</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-400">"There is nothing at this address. The link may be old, or the product may no longer be on sale."</p>
            <A href="/" attr:class="mt-8 inline-block rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">"Back to the store"</A>
        </Container>
    }
}
