//! The cover image section: a plain multipart form (works without
//! JavaScript; the server redirects back here with the outcome).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{api::repositories::RemoveCover, types::RepoEdit};

#[component]
pub fn Cover(r: RepoEdit, remove: ServerAction<RemoveCover>) -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("cover").is_some());
    let problem = move || query.with(|q| q.get("cover_error"));
    let action = format!("/admin/repositories/{}/cover", r.id);
    let id = r.id;
    view! {
        <section id="cover" class="mt-10 border-t border-slate-200 pt-6 dark:border-slate-800">
            <h2 class="text-xl font-semibold">"Cover image"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"PNG, JPEG or WebP, up to 2 MB. Shown on the storefront and when the page is shared."</p>
            {r.cover_url.clone().map(|src| view! {
                <img src=src alt="Current cover" data-testid="cover-image" class="mt-3 max-h-48 rounded-md border border-slate-200 dark:border-slate-800" />
                <ActionForm action=remove attr:class="mt-2">
                    <input type="hidden" name="id" value=id />
                    <button class="text-sm text-red-700 underline dark:text-red-400">"Remove cover"</button>
                </ActionForm>
            })}
            {move || saved().then(|| view! { <p class="mt-2 text-green-700 dark:text-green-400">"Cover saved."</p> })}
            {move || problem().map(|e| view! { <p role="alert" class="mt-2 text-red-600 dark:text-red-400">{e}</p> })}
            <form method="post" enctype="multipart/form-data" action=action class="mt-3 flex flex-wrap items-center gap-3">
                <label class="text-sm">
                    <span class="sr-only">"Cover image file"</span>
                    <input type="file" name="cover" accept="image/png,image/jpeg,image/webp" required class="max-w-full text-sm" />
                </label>
                <button class="rounded-md border border-slate-300 px-4 py-2 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Upload cover"</button>
            </form>
        </section>
    }
}
