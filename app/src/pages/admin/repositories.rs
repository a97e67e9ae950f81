use leptos::prelude::*;
use leptos_meta::Title;

use super::gate::AdminGate;
use crate::{
    api::repositories::{list_repositories, reachable_repositories, AddRepository},
    components::container::Container,
};

/// `/admin/repositories`: what is on sale, and what could be.
#[component]
pub fn AdminRepositories() -> impl IntoView {
    view! {
        <Title text="Repositories" />
        <AdminGate>
            <Repositories />
        </AdminGate>
    }
}

#[component]
fn Repositories() -> impl IntoView {
    let add = ServerAction::<AddRepository>::new();
    let mine = Resource::new(move || add.version().get(), |_| list_repositories());
    let reachable = Resource::new(move || add.version().get(), |_| reachable_repositories());
    view! {
        <Container>
            <h1 class="text-3xl font-bold tracking-tight">"Repositories"</h1>
            <Suspense fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mine.await {
                        Ok(list) if list.is_empty() => view! { <p class="mt-6 text-slate-500 dark:text-slate-400">"Nothing on sale yet: add a repository below."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-6 divide-y divide-slate-200 dark:divide-slate-800" data-testid="my-repositories">
                                {list.into_iter().map(|r| view! {
                                    <li class="flex items-center justify-between py-3">
                                        <a href=format!("/admin/repositories/{}", r.id) class="font-medium text-indigo-700 hover:underline dark:text-indigo-400">{r.title}</a>
                                        <span class="text-sm text-slate-500 dark:text-slate-400">{r.full_name} " · " <span data-testid="repo-status">{r.status}</span>
                                            {r.github_trouble.clone().map(|state| view! { <span class="ml-2 text-amber-600 dark:text-amber-400">{format!("GitHub: {state}")}</span> })}
                                        </span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h2 class="mt-10 text-xl font-semibold">"Add a repository"</h2>
            <p class="text-sm text-slate-600 dark:text-slate-400">"Repositories your GitHub connection administers, private ones first."</p>
            {move || add.value().get().and_then(|r| r.err()).map(|err| view! { <p role="alert" class="mt-2 text-red-600 dark:text-red-400">{err.to_string()}</p> })}
            <Suspense fallback=|| view! { <p class="mt-4">"Asking GitHub…"</p> }>
                {move || Suspend::new(async move {
                    match reachable.await {
                        Ok(list) => view! {
                            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="reachable">
                                {list.into_iter().map(|r| { let (label, key) = (r.full_name.clone(), r.full_name.clone()); view! {
                                    <li class="flex items-center justify-between py-2" data-reachable=key>
                                        <span class="min-w-0 break-words">{r.full_name} {r.private.then_some(" (private)")}</span>
                                        {if r.already_added {
                                            view! { <span class="text-sm text-slate-500 dark:text-slate-400">"added"</span> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=add>
                                                    <input type="hidden" name="github_id" value=r.github_id />
                                                    <button class="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                                                        // Each button names its repository for screen readers.
                                                        "Add"<span class="sr-only">" "{label}</span>
                                                    </button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </li>
                                }}).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p role="alert" class="mt-4 text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Container>
    }
}
