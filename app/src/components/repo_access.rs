//! Where a purchase's access to each repository of its product stands: the
//! customer's page and the creator's customer page show the same list.

use leptos::prelude::*;

use crate::types::RepoLink;

/// One line per repository: its name, its state in words, and the link to
/// accept its invitation while one waits.
#[component]
pub fn RepoAccessList(repositories: Vec<RepoLink>) -> impl IntoView {
    view! {
        <ul class="mt-2 grid gap-1 text-sm" data-testid="repositories">
            {repositories.into_iter().map(|r| {
                let state = r.access.as_ref().map(|a| a.state.clone()).unwrap_or_default();
                let words = r.access.as_ref().map(|a| a.words.clone()).unwrap_or_else(|| "not granted yet".to_owned());
                let accept = r.access.and_then(|a| a.invitation_url);
                let name = r.full_name.clone();
                view! {
                    <li data-testid="repository-access" data-repository=r.full_name data-state=state class="flex flex-wrap items-baseline gap-x-2">
                        <a href=r.url rel="external" class="font-mono hover:underline">{name}</a>
                        <span class="text-slate-600 dark:text-slate-400">{words}</span>
                        {accept.map(|url| view! {
                            <a href=url rel="external" class="font-medium text-indigo-600 underline dark:text-indigo-400">"Accept on GitHub"</a>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
