//! The repositories section of a product's page: what a purchase grants,
//! each at its level; add one (every customer is invited to it), take one
//! out (the number of customers who lose it shown, and confirmed, first).

use leptos::prelude::*;

use crate::{
    api::{
        product_repositories::{AddProductRepository, RemoveProductRepository, SetTeamAccess},
        repositories::reachable_repositories,
    },
    types::{ProductRepo, RepoEdit},
};

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";
const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";

/// The actions of this section; the page refetches when any of them ran.
/// Made by the editor, so the outcome of the last one outlives the section
/// (which is drawn again after each).
#[derive(Clone, Copy)]
pub struct RepositoryActions {
    pub add: ServerAction<AddProductRepository>,
    pub remove: ServerAction<RemoveProductRepository>,
    pub team: ServerAction<SetTeamAccess>,
    /// What the last action said: done (its words), or refused (why).
    last: RwSignal<Option<Result<String, String>>>,
}

impl RepositoryActions {
    pub fn new() -> Self {
        let add = ServerAction::<AddProductRepository>::new();
        let remove = ServerAction::<RemoveProductRepository>::new();
        let team = ServerAction::<SetTeamAccess>::new();
        let last = RwSignal::new(None);
        Effect::new(move |_| {
            if let Some(outcome) = team.value().get() {
                last.set(Some(outcome.map_err(|e| e.to_string())));
            }
        });
        Effect::new(move |_| {
            if let Some(outcome) = add.value().get() {
                last.set(Some(outcome.map_err(|e| e.to_string())));
            }
        });
        Effect::new(move |_| {
            if let Some(outcome) = remove.value().get() {
                last.set(Some(outcome.map_err(|e| e.to_string())));
            }
        });
        RepositoryActions { add, remove, team, last }
    }
    pub fn version(&self) -> usize {
        self.add.version().get() + self.remove.version().get() + self.team.version().get()
    }
}

/// The repositories the GitHub connection administers, loaded once by the
/// editor (outside its own suspense: a resource made inside one does not
/// hydrate).
pub type Reachable = Resource<Result<Vec<crate::types::ReachableRepo>, crate::error::AppError>>;

pub fn reachable() -> Reachable {
    Resource::new(|| (), |_| reachable_repositories())
}

#[component]
pub fn Repositories(r: RepoEdit, actions: RepositoryActions, reachable: Reachable) -> impl IntoView {
    let done = move || actions.last.get().and_then(|r| r.ok());
    let error = move || actions.last.get().and_then(|r| r.err());
    let in_product: Vec<i64> = r.repositories.iter().map(|p| p.github_id).collect();
    // Only repositories the GitHub connection administers, and not in this product yet.
    let single = r.repositories.len() == 1;
    view! {
        <section id="repositories" class="mt-10 border-t border-slate-200 pt-6 dark:border-slate-800">
            <h2 class="text-xl font-semibold">"Repositories"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"A purchase gives access to each of these."</p>
            <ul class="mt-3 divide-y divide-slate-200 dark:divide-slate-800" data-testid="product-repositories">
                {r.repositories.iter().cloned().map(|p| view! { <RepositoryItem p product=r.id actions single /> }).collect_view()}
            </ul>
            <TeamAccess id=r.id team=r.team.clone() org=r.team_org.clone() actions />
            {move || done().map(|m| view! { <p role="status" data-testid="repositories-notice" class="mt-3 text-sm text-green-700 dark:text-green-400">{m}</p> })}
            {move || error().map(|e| view! { <p role="alert" class="mt-3 text-red-600 dark:text-red-400">{e}</p> })}
            <ActionForm action=actions.add attr:class="mt-6 grid gap-3 md:grid-cols-4 md:items-end" attr:data-testid="add-repository">
                <input type="hidden" name="id" value=r.id />
                // The select is made whole once GitHub's list is in (hydration
                // cannot resume inside a <select>).
                <Suspense fallback=|| view! { <p class="text-sm md:col-span-2">"Loading the repositories GitHub lets RepoPass manage…"</p> }>
                    {move || Suspend::new({
                        let in_product = in_product.clone();
                        async move {
                            let repos = reachable.await.unwrap_or_default();
                            let options = repos
                                .into_iter()
                                .filter(|repo| !in_product.contains(&repo.github_id))
                                .map(|repo| view! { <option value=repo.github_id>{repo.full_name}</option> })
                                .collect_view();
                            view! {
                                <label class="text-sm font-medium md:col-span-2">"Add a repository"
                                    <select name="github_id" required class=INPUT>{options}</select>
                                </label>
                            }
                        }
                    })}
                </Suspense>
                <label class="text-sm font-medium">"Access"
                    <select name="permission" class=INPUT>
                        <option value="">"The price's"</option>
                        <option value="pull">"Read (pull)"</option>
                        <option value="triage">"Triage"</option>
                        <option value="push">"Write (push)"</option>
                        <option value="maintain">"Maintain"</option>
                    </select>
                </label>
                <button class=BUTTON disabled=move || actions.add.pending().get()>
                    {move || if actions.add.pending().get() { "Adding…" } else { "Add repository" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// Team access: how holders get the repositories when they all belong to
/// one organisation — one membership of a GitHub team, or a collaborator
/// invitation per repository.
#[component]
fn TeamAccess(id: i64, team: Option<String>, org: Option<String>, actions: RepositoryActions) -> impl IntoView {
    let (words, on) = match (&team, &org) {
        (Some(team), _) => (
            format!("Holders are members of the GitHub team {team}: one membership gives every repository, and a repository added here reaches all of them at once."),
            false,
        ),
        (None, Some(org)) => (
            format!("Every repository belongs to {org}: holders can get them as members of one GitHub team instead of a collaborator invitation per repository (those not in {org} yet are invited to it by GitHub)."),
            true,
        ),
        (None, None) => return ().into_any(),
    };
    view! {
        <div class="mt-4 rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="team-access">
            <p>{words}</p>
            <ActionForm action=actions.team attr:class="mt-2">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="on" value=on.to_string() />
                <button class=BUTTON disabled=move || actions.team.pending().get()>
                    {if on { "Grant through a GitHub team" } else { "Back to collaborator invitations" }}
                </button>
            </ActionForm>
        </div>
    }
    .into_any()
}

#[component]
fn RepositoryItem(p: ProductRepo, product: i64, actions: RepositoryActions, single: bool) -> impl IntoView {
    let losing = match p.customers {
        0 => "No customer has access to it yet.".to_owned(),
        1 => format!("1 customer loses access to {}.", p.full_name),
        n => format!("{n} customers lose access to {}.", p.full_name),
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="product-repository" data-repository=p.full_name.clone()>
            <span>
                <span class="font-mono">{p.full_name.clone()}</span>
                <span class="text-sm text-slate-600 dark:text-slate-400">{format!(" · access: {}", p.level)}</span>
                {(p.waiting > 0).then(|| view! {
                    <span class="text-sm text-amber-700 dark:text-amber-400" data-testid="waiting">
                        {format!(" · {} invitation{} queued behind GitHub's daily limit", p.waiting, if p.waiting == 1 { "" } else { "s" })}
                    </span>
                })}
            </span>
            {(!single).then(|| view! {
                <details class="rounded-md border border-slate-200 p-2 dark:border-slate-700">
                    <summary class="cursor-pointer text-sm font-medium">"Remove…"</summary>
                    <ActionForm action=actions.remove attr:class="mt-2 w-64 max-w-full">
                        <input type="hidden" name="id" value=product />
                        <input type="hidden" name="repository_id" value=p.repository_id />
                        <input type="hidden" name="confirm" value=p.customers />
                        <p class="text-sm" data-testid="removal-count">{losing}</p>
                        <button class="mt-2 rounded-md bg-red-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-500">"Confirm removal"</button>
                    </ActionForm>
                </details>
            })}
        </li>
    }
}
