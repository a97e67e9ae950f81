//! `/admin/customers`: every purchase with its customer — search, filters,
//! sorting and pages on the server, all in the URL (a plain GET form, so it
//! works without JavaScript and a filtered view can be bookmarked), and the
//! same filter as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::gate::AdminGate;
use crate::{
    api::{
        customers::{list_customers, CustomersPage},
        session::current_viewer,
    },
    components::container::Container,
    error::AppError,
};

const INPUT: &str = "rounded-md border border-slate-300 px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";
const STATUSES: [&str; 6] = ["pending", "paid", "invited", "active", "revoked", "expired"];
const SORTS: [(&str, &str); 6] = [
    ("newest", "Newest"),
    ("oldest", "Oldest"),
    ("login", "GitHub login"),
    ("amount", "Amount"),
    ("status", "Status"),
    ("paid", "Paid date"),
];

#[component]
pub fn AdminCustomers() -> impl IntoView {
    // Made here, outside the gate, whose contents server rendering builds
    // more than once (a resource made in there fetches each time); it asks
    // who is looking first, so a visitor's page makes no refused call.
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).filter(|v| !v.is_empty()));
    let params = move || {
        (
            get("q"),
            get("status"),
            get("repository").and_then(|r| r.parse::<i64>().ok()),
            get("sort"),
            get("page").and_then(|p| p.parse::<i64>().ok()),
        )
    };
    let page = Resource::new(params, |(q, status, repository, sort, page)| async move {
        match current_viewer().await {
            Ok(Some(v)) if v.is_admin => list_customers(q, status, repository, sort, page).await,
            _ => Err(AppError::Unauthorized),
        }
    });
    view! {
        <Title text="Customers" />
        <AdminGate>
            <Container>
                <CustomersTable page />
            </Container>
        </AdminGate>
    }
}

#[component]
fn CustomersTable(page: Resource<Result<CustomersPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).filter(|v| !v.is_empty()));
    // The same filter, as a query string (for the CSV link and the pages).
    let query_string = move |page: Option<i64>| {
        let mut parts: Vec<String> = ["q", "status", "repository", "sort"]
            .iter()
            .filter_map(|k| get(k).map(|v| format!("{k}={}", urlencode(&v))))
            .collect();
        if let Some(p) = page {
            parts.push(format!("page={p}"));
        }
        parts.join("&")
    };
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-4">
            <h1 class="text-3xl font-bold tracking-tight">"Customers"</h1>
            <a href=move || format!("/admin/customers.csv?{}", query_string(None)) rel="external" download class="text-sm font-medium text-indigo-600 underline dark:text-indigo-400" data-testid="csv">"Export CSV"</a>
        </div>
        <form method="get" action="/admin/customers" class="mt-6 flex flex-wrap items-end gap-3" data-testid="filters">
            <label class="text-sm">"Search" <br />
                <input name="q" type="search" placeholder="GitHub login or email" class=INPUT prop:value=move || get("q").unwrap_or_default() />
            </label>
            <label class="text-sm">"Status" <br />
                <select name="status" class=INPUT>
                    <option value="">"Any"</option>
                    {STATUSES.iter().map(|s| view! { <option value=*s selected=move || get("status").as_deref() == Some(*s)>{*s}</option> }).collect_view()}
                </select>
            </label>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let repos = page.await.map(|p| p.repositories).unwrap_or_default();
                    view! {
                        <label class="text-sm">"Repository" <br />
                            <select name="repository" class=INPUT>
                                <option value="">"Any"</option>
                                {repos.into_iter().map(|(id, title)| view! { <option value=id.to_string() selected=move || get("repository") == Some(id.to_string())>{title}</option> }).collect_view()}
                            </select>
                        </label>
                    }
                })}
            </Suspense>
            <label class="text-sm">"Sort by" <br />
                <select name="sort" class=INPUT>
                    {SORTS.iter().map(|(v, label)| view! { <option value=*v selected=move || get("sort").as_deref() == Some(*v)>{*label}</option> }).collect_view()}
                </select>
            </label>
            <button class="rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white dark:bg-white dark:text-slate-900">"Apply"</button>
        </form>
        <Transition fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                    Ok(p) => {
                        let (current, pages, total) = (p.page, p.pages, p.total);
                        view! {
                            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400" data-testid="total">{format!("{total} purchase{}", if total == 1 { "" } else { "s" })}</p>
                            // Wide: on a phone it scrolls inside its own box, not the page.
                            <div class="mt-2 overflow-x-auto" tabindex="0" role="region" aria-label="Purchases">
                            <table class="w-full min-w-[44rem] text-left text-sm [&_td]:pr-4 [&_td]:align-top [&_th]:pr-4" data-testid="customers">
                                <thead class="text-slate-500 dark:text-slate-400">
                                    <tr><th class="py-2 font-medium">"Customer"</th><th class="font-medium">"Email"</th><th class="font-medium">"Repository"</th><th class="font-medium">"Status"</th><th class="font-medium">"Amount"</th><th class="font-medium">"Since"</th></tr>
                                </thead>
                                <tbody>
                                    {p.rows.into_iter().map(|r| { let key = r.github_login.clone(); view! {
                                        <tr class="border-t border-slate-100 dark:border-slate-800" data-login=key>
                                            <td class="py-2"><a href=format!("/admin/customers/{}", r.github_user_id) class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">"@"{r.github_login}</a></td>
                                            <td>{r.email}</td>
                                            <td>{r.repository}</td>
                                            <td data-testid="row-status">{r.status}</td>
                                            <td class="whitespace-nowrap tabular-nums">{r.amount_text}</td>
                                            <td class="text-slate-500 dark:text-slate-400">{r.created}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="mt-4 flex items-center gap-4 text-sm" aria-label="Pages">
                                {(current > 1).then(|| view! { <a href=format!("/admin/customers?{}", query_string(Some(current - 1))) class="underline">"← Previous"</a> })}
                                <span>{format!("Page {current} of {}", pages.max(1))}</span>
                                {(current < pages).then(|| view! { <a href=format!("/admin/customers?{}", query_string(Some(current + 1))) class="underline">"Next →"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Enough URL encoding for a query value (no crate in the wasm bundle for it).
fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::urlencode("a b&c=d@e.f"), "a%20b%26c%3Dd%40e.f");
    }
}
