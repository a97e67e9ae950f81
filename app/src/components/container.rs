use leptos::prelude::*;
use tailwind_fuse::tw_merge;

/// The page-width column. Callers may override spacing: `tw_merge!` lets a
/// caller's `py-4` replace the default `py-10` instead of fighting it.
#[component]
pub fn Container(#[prop(into, optional)] class: String, children: Children) -> impl IntoView {
    let class = tw_merge!("mx-auto w-full max-w-5xl px-4 py-10 sm:px-6", class);
    view! { <div class=class>{children()}</div> }
}
