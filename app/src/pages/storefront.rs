use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::{api::storefront::list_products, components::container::Container, types::ProductCard};

/// `/`: every published repository.
#[component]
pub fn Storefront() -> impl IntoView {
    let products = Resource::new(|| (), |_| list_products());
    view! {
        <Title text="" />
        <Meta name="description" content="Buy access to private GitHub repositories." />
        <Container>
            <h1 class="text-3xl font-bold tracking-tight sm:text-4xl">"Private repositories for sale"</h1>
            <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">
                "Pay once or subscribe, and your GitHub account is invited to the repository straight away."
            </p>
            <Suspense fallback=|| view! { <p class="mt-10 text-slate-500 dark:text-slate-400">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match products.await {
                        Ok(list) if list.is_empty() => view! { <EmptyStore /> }.into_any(),
                        Ok(list) => view! { <ProductGrid list /> }.into_any(),
                        Err(err) => view! { <p class="mt-10 text-red-600 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Container>
    }
}

#[component]
fn ProductGrid(list: Vec<ProductCard>) -> impl IntoView {
    view! {
        <ul class="mt-10 grid gap-6 sm:grid-cols-2 lg:grid-cols-3" data-testid="product-list">
            {list.into_iter().map(|p| view! {
                <li class="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm transition hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                    <a href=format!("/p/{}", p.slug) class="block h-full">
                        {p.cover_url.map(|src| view! { <img src=src alt="" class="aspect-[2/1] w-full object-cover" loading="lazy" /> })}
                        <div class="p-5">
                            <h2 class="text-lg font-semibold">{p.title}</h2>
                            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{p.summary}</p>
                            <p class="mt-4 text-sm font-medium text-indigo-600 dark:text-indigo-400">
                                {p.from_price.unwrap_or_else(|| "Coming soon".to_owned())}
                            </p>
                        </div>
                    </a>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn EmptyStore() -> impl IntoView {
    view! {
        <div class="mt-10 rounded-xl border border-dashed border-slate-300 p-10 text-center dark:border-slate-700" data-testid="empty-store">
            <h2 class="text-lg font-semibold">"Nothing on sale yet"</h2>
            <p class="mt-2 text-slate-600 dark:text-slate-400">
                "Repositories appear here once their creator publishes them. "
                "If this is your RepoPass, sign in to the admin panel, add a repository, give it a price and publish it."
            </p>
        </div>
    }
}
