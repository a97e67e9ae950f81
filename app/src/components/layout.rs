use leptos::prelude::*;
use leptos_router::components::A;

use super::{sandbox_banner::SandboxBanner, theme_toggle::ThemeToggle};

/// Header, main area and footer shared by every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col">
            <a href="#main" class="sr-only rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50">"Skip to content"</a>
            <SandboxBanner />
            <header class="border-b border-slate-200 bg-white/80 backdrop-blur dark:border-slate-800 dark:bg-slate-900/80">
                <nav class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 sm:px-6" aria-label="Main">
                    <A href="/" attr:class="flex items-center gap-2 text-lg font-semibold tracking-tight">
                        <span class="inline-flex h-8 w-8 items-center justify-center rounded-lg bg-indigo-600 text-sm font-bold text-white" aria-hidden="true">"RP"</span>
                        // On a phone the logo alone: the links need the room.
                        <span class="sr-only sm:not-sr-only">"RepoPass"</span>
                    </A>
                    <div class="flex items-center gap-3 text-sm sm:gap-4">
                        <A href="/" attr:class="text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"Store"</A>
                        <A href="/account" attr:class="text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"My purchases"</A>
                        <A href="/admin" attr:class="text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"Creator"</A>
                        <ThemeToggle />
                    </div>
                </nav>
            </header>
            <main id="main" tabindex="-1" class="flex-1 focus:outline-none">{children()}</main>
            <footer class="border-t border-slate-200 py-6 text-center text-sm text-slate-500 dark:border-slate-800 dark:text-slate-400">
                "RepoPass — access to private GitHub repositories, paid with Stripe."
            </footer>
        </div>
    }
}
