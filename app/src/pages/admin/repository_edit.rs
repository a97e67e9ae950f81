use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{
    cover::Cover,
    gate::AdminGate,
    prices::{PriceActions, Prices},
    product_repositories::{reachable, Repositories, RepositoryActions},
};
use crate::{
    api::repositories::{get_repository, preview_markdown, RemoveCover, SaveRepository, SetRepositoryStatus},
    components::{container::Container, unsaved::warn_before_leaving},
    types::RepoEdit,
};

/// `/admin/repositories/{id}`: the page buyers will see, and its state.
#[component]
pub fn AdminRepositoryEdit() -> impl IntoView {
    view! {
        <Title text="Edit repository" />
        <AdminGate>
            <Editor />
        </AdminGate>
    }
}

#[component]
fn Editor() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let save = ServerAction::<SaveRepository>::new();
    let status = ServerAction::<SetRepositoryStatus>::new();
    let prices = PriceActions::new();
    let remove_cover = ServerAction::<RemoveCover>::new();
    let repositories = RepositoryActions::new();
    let addable = reachable();
    let repo = Resource::new(
        move || {
            let changes = save.version().get()
                + status.version().get()
                + prices.version()
                + remove_cover.version().get()
                + repositories.version();
            (id(), changes)
        },
        |(id, _)| get_repository(id),
    );
    view! {
        <Container>
            // Transition: after a save the old form stays until the new one is ready.
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match repo.await {
                        Ok(r) => view! {
                            <Form r=r.clone() save status />
                            <Repositories r=r.clone() actions=repositories reachable=addable />
                            <Prices r=r.clone() actions=prices />
                            <Cover r remove=remove_cover />
                        }.into_any(),
                        Err(err) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Container>
    }
}

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";

#[component]
fn Form(r: RepoEdit, save: ServerAction<SaveRepository>, status: ServerAction<SetRepositoryStatus>) -> impl IntoView {
    let preview = RwSignal::new(r.description_html.clone());
    // Live preview: rendered by the same sanitiser the product page uses.
    let render = Action::new(move |markdown: &String| {
        let markdown = markdown.clone();
        async move {
            if let Ok(html) = preview_markdown(markdown).await {
                preview.set(html);
            }
        }
    });
    // Typed but not saved: said beside Save, and leaving asks first.
    let dirty = RwSignal::new(false);
    warn_before_leaving(dirty);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            dirty.set(false);
        }
    });
    let error = move || save.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let saved = move || matches!(save.value().get(), Some(Ok(_)));
    let moved = move || status.value().get().and_then(|r| r.ok()).map(|r| r.status);
    let status_error = move || status.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let id = r.id;
    let public = format!("/p/{}", r.slug);
    let published = r.status == "published";
    let no_price = r.prices.is_empty();
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-3xl font-bold tracking-tight">{r.title.clone()}</h1>
            <span class="text-sm text-slate-500 dark:text-slate-400">{r.full_name.clone()} " · " <span data-testid="edit-status">{r.status.clone()}</span></span>
        </div>
        {r.github_trouble.clone().map(|state| view! { <p class="mt-2 text-amber-700 dark:text-amber-400">{format!("GitHub reports this repository as {state}.")}</p> })}
        <div on:input=move |_| dirty.set(true)>
        <ActionForm action=save attr:class="mt-6 grid gap-4">
            <input type="hidden" name="id" value=id />
            <label class="text-sm font-medium">"Title" <input name="title" value=r.title.clone() required class=INPUT /></label>
            <label class="text-sm font-medium">"Address" <span class="font-normal text-slate-600 dark:text-slate-400">" (/p/…)"</span>
                <input name="slug" value=r.slug.clone() required pattern="[a-z0-9]+(-[a-z0-9]+)*" class=INPUT />
            </label>
            <label class="text-sm font-medium">"Summary" <input name="summary" value=r.summary.clone() maxlength="280" class=INPUT /></label>
            <div class="grid gap-4 md:grid-cols-2">
                <label class="text-sm font-medium">"Description (Markdown)"
                    <textarea name="description" rows="12" class=INPUT
                        on:input=move |ev| { render.dispatch(event_target_value(&ev)); }
                    >{r.description.clone()}</textarea>
                </label>
                <div>
                    <div class="text-sm font-medium">"Preview"</div>
                    <div class="prose prose-sm mt-1 min-h-40 rounded-md border border-dashed border-slate-300 p-3 dark:prose-invert dark:border-slate-700" data-testid="preview" inner_html=move || preview.get()></div>
                </div>
            </div>
            {move || error().map(|e| view! { <p role="alert" class="text-red-600 dark:text-red-400">{e}</p> })}
            <div class="flex items-center gap-3">
                <button class="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">"Save"</button>
                {move || (saved() && !dirty.get()).then(|| view! { <span role="status" data-testid="saved" class="text-sm text-green-700 dark:text-green-400">"Saved."</span> })}
                {move || dirty.get().then(|| view! { <span role="status" data-testid="unsaved" class="text-sm text-amber-700 dark:text-amber-400">"Unsaved changes"</span> })}
            </div>
        </ActionForm>
        </div>
        {(no_price && !published).then(|| view! {
            <p data-testid="no-price-warning" class="mt-8 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
                "No price yet: published now, the page would say \"Coming soon\" and nobody could buy. Add a price below first."
            </p>
        })}
        {move || moved().map(|now| view! {
            <p role="status" data-testid="status-notice" class="mt-8 text-sm text-green-700 dark:text-green-400">
                {match now.as_str() {
                    "published" => "Published: buyers can see the page and buy.",
                    "unpublished" => "Unpublished: the page is hidden; buyers keep their access.",
                    "archived" => "Archived: off sale; buyers keep their access.",
                    _ => "Saved.",
                }}
            </p>
        })}
        {move || status_error().map(|e| view! { <p role="alert" class="mt-8 text-red-600 dark:text-red-400">{e}</p> })}
        {published.then(|| view! {
            <p class="mt-4 text-sm"><a href=public.clone() data-testid="public-link" class="font-medium text-indigo-600 underline dark:text-indigo-400">"View the page buyers see"</a></p>
        })}
        <div class="mt-4 flex flex-wrap gap-2 border-t border-slate-200 pt-6 dark:border-slate-800">
            {r.moves.iter().map(|s| (s.clone(), move_label(&r.status, s))).map(|(s, label)| view! {
                <ActionForm action=status>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="status" value=s />
                    <button class="rounded-md border border-slate-300 px-4 py-2 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">{label}</button>
                </ActionForm>
            }).collect_view()}
        </div>
    }
}

/// The button for a move the server allows (`RepoEdit::moves`).
fn move_label(from: &str, to: &str) -> &'static str {
    match (from, to) {
        (_, "published") => "Publish",
        ("archived", _) => "Restore (unpublished)",
        (_, "unpublished") => "Unpublish",
        _ => "Archive",
    }
}
