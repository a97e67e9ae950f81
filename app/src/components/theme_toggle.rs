use leptos::prelude::*;

/// Light/dark switch. It needs the wasm (the server cannot know the
/// browser's choice), remembers the choice in localStorage, and is the
/// browser suite's proof that hydration happened.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(false);

    // After hydration: adopt the stored choice, or the system preference.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        dark.set(browser::initial_dark());
    });
    Effect::new(move |_| {
        let _is_dark = dark.get();
        #[cfg(feature = "hydrate")]
        browser::apply(_is_dark);
    });

    view! {
        <button
            type="button"
            data-testid="theme-toggle"
            aria-pressed=move || dark.get().to_string()
            title="Switch between light and dark"
            class="rounded-md border border-slate-300 px-2 py-1 text-slate-600 hover:bg-slate-100 dark:border-slate-700 dark:text-slate-300 dark:hover:bg-slate-800"
            on:click=move |_| dark.update(|d| *d = !*d)
        >
            <span aria-hidden="true">{move || if dark.get() { "☾" } else { "☀" }}</span>
            // The word is for screen readers only on a phone.
            <span class="sr-only sm:not-sr-only sm:ml-1">{move || if dark.get() { "Dark" } else { "Light" }}</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    const KEY: &str = "repopass-theme";

    pub fn initial_dark() -> bool {
        let Some(window) = web_sys::window() else { return false };
        match window.local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten()).as_deref() {
            Some("dark") => true,
            Some(_) => false,
            None => window.match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches()),
        }
    }

    pub fn apply(dark: bool) {
        let Some(window) = web_sys::window() else { return };
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = root.class_list().toggle_with_force("dark", dark);
        }
        if let Ok(Some(storage)) = window.local_storage() {
            let _ = storage.set_item(KEY, if dark { "dark" } else { "light" });
        }
    }
}
