//! `/admin/events`: what Stripe and GitHub sent (filters in the URL, each
//! delivery's payload on its own page), the jobs that gave up (with a retry
//! button) and the reconciliation's drift report (with one-click fixes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::gate::AdminGate;
use crate::{
    api::{
        events::{get_event, list_drift, list_events, FixDrift},
        jobs::{dead_jobs, RetryJob},
    },
    components::container::Container,
};

const INPUT: &str = "rounded-md border border-slate-300 px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900";
const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const CARD: &str = "mt-8 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn AdminEvents() -> impl IntoView {
    view! {
        <Title text="Events and jobs" />
        <AdminGate>
            <Container>
                <h1 class="text-3xl font-bold tracking-tight">"Events and jobs"</h1>
                <DriftReport />
                <DeadJobs />
                <Deliveries />
            </Container>
        </AdminGate>
    }
}

#[component]
fn Deliveries() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.with(|q| q.get(k).filter(|v| !v.is_empty()));
    let events = Resource::new(
        move || (get("provider"), get("status"), get("type"), get("page").and_then(|p| p.parse::<i64>().ok())),
        |(provider, status, kind, page)| list_events(provider, status, kind, page),
    );
    let select = move |name: &'static str, options: &'static [&'static str]| {
        view! {
            <select name=name class=INPUT>
                <option value="">"Any"</option>
                {options.iter().map(|o| view! { <option value=*o selected=move || get(name).as_deref() == Some(*o)>{*o}</option> }).collect_view()}
            </select>
        }
    };
    view! {
        <section class=CARD aria-label="Webhooks">
            <h2 class="font-semibold">"Webhooks received"</h2>
            <form method="get" action="/admin/events" class="mt-3 flex flex-wrap items-end gap-3">
                <label class="text-sm">"From" <br /> {select("provider", &["stripe", "github"])}</label>
                <label class="text-sm">"Status" <br /> {select("status", &["received", "processed", "ignored", "failed", "dead"])}</label>
                <label class="text-sm">"Type" <br /> <input name="type" placeholder="e.g. invoice." class=INPUT prop:value=move || get("type").unwrap_or_default() /></label>
                <button class="rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white dark:bg-white dark:text-slate-900">"Apply"</button>
            </form>
            <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Err(e) => view! { <p role="alert" class="mt-4 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                        Ok(page) => view! {
                            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">{format!("{} deliveries · page {} of {}", page.total, page.page, page.pages.max(1))}</p>
                            <div class="mt-2 overflow-x-auto" tabindex="0" role="region" aria-label="Events">
                            <table class="min-w-[40rem] w-full text-left text-sm" data-testid="events">
                                <thead class="text-slate-500 dark:text-slate-400"><tr><th class="py-1 font-medium">"Received"</th><th class="font-medium">"From"</th><th class="font-medium">"Type"</th><th class="font-medium">"Status"</th><th class="font-medium">"Note or error"</th></tr></thead>
                                <tbody>
                                    {page.rows.into_iter().map(|e| { let key = e.event_type.clone(); view! {
                                        <tr class="border-t border-slate-100 dark:border-slate-800" data-type=key>
                                            <td class="py-1.5 text-slate-500 dark:text-slate-400">{e.received}</td>
                                            <td>{e.provider}</td>
                                            <td><a href=format!("/admin/events/{}", e.id) class="font-mono text-indigo-600 hover:underline dark:text-indigo-400">{e.event_type}</a></td>
                                            <td data-testid="event-status">{e.status}</td>
                                            <td>
                                                {e.note.map(|n| view! { <span data-testid="event-note" class="text-slate-600 dark:text-slate-400">{n}</span> })}
                                                {e.error.map(|m| view! { <span data-testid="event-error" class="text-red-700 dark:text-red-400">{m}</span> })}
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="mt-3 flex gap-4 text-sm">
                                {(page.page > 1).then(|| view! { <a class="underline" href=format!("/admin/events?page={}", page.page - 1)>"← Newer"</a> })}
                                {(page.page < page.pages).then(|| view! { <a class="underline" href=format!("/admin/events?page={}", page.page + 1)>"Older →"</a> })}
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeadJobs() -> impl IntoView {
    let retry = ServerAction::<RetryJob>::new();
    let jobs = Resource::new(move || retry.version().get(), |_| dead_jobs());
    view! {
        // `#dead-jobs` and `#job-{id}`: where an alert's retry link lands.
        <section class=CARD aria-label="Dead jobs" id="dead-jobs">
            <h2 class="font-semibold">"Jobs that gave up"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Err(e) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="no-dead-jobs">"None: every job finished or is still being retried."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-2 grid gap-2" data-testid="dead-jobs">
                                {list.into_iter().map(|j| view! {
                                    <li class="flex items-start justify-between gap-4 border-t border-slate-100 pt-2 text-sm dark:border-slate-800" id=format!("job-{}", j.id)>
                                        <div><span class="font-mono">{j.kind}</span> {format!(" · {} attempts", j.attempts)}
                                            <div class="text-red-700 dark:text-red-400">{j.last_error.unwrap_or_default()}</div></div>
                                        <ActionForm action=retry>
                                            <input type="hidden" name="id" value=j.id />
                                            <button class=BUTTON>"Retry"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DriftReport() -> impl IntoView {
    let fix = ServerAction::<FixDrift>::new();
    let drift = Resource::new(move || fix.version().get(), |_| list_drift());
    view! {
        <section class=CARD aria-label="Drift" id="drift">
            <h2 class="font-semibold">"Access that differs from payments"</h2>
            <p class="text-sm text-slate-600 dark:text-slate-400">"The hourly comparison of each repository's collaborators with its purchases."</p>
            {move || match fix.value().get() {
                Some(Ok(done)) => Some(view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400" data-testid="drift-fixed">{done}</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any()),
                None => None,
            }}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match drift.await {
                        Err(e) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="no-drift">"Everything matches."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-2 grid gap-2" data-testid="drift">
                                {list.into_iter().map(|d| view! {
                                    <li class="flex items-start justify-between gap-4 border-t border-slate-100 pt-2 text-sm dark:border-slate-800" data-login=d.github_login.clone()>
                                        <div><strong>{d.kind}</strong> {format!(" · @{} on {}", d.github_login, d.repository)}
                                            <div class="text-slate-600 dark:text-slate-400">{d.detail} " (" {d.detected} ")"</div></div>
                                        <ActionForm action=fix>
                                            <input type="hidden" name="id" value=d.id />
                                            <button class=BUTTON disabled=move || fix.pending().get()>{d.fix_label}</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/admin/events/:id`: one delivery and its payload.
#[component]
pub fn AdminEvent() -> impl IntoView {
    let params = use_params_map();
    let event = Resource::new(
        move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)),
        get_event,
    );
    view! {
        <Title text="Event" />
        <AdminGate>
            <Container>
                <a href="/admin/events" class="text-sm text-slate-600 underline dark:text-slate-400">"← Events"</a>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match event.await {
                            Err(e) => view! { <p role="alert" class="mt-4 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                            Ok(d) => view! {
                                <h1 class="mt-2 break-all font-mono text-2xl font-bold">{d.event.event_type.clone()}</h1>
                                <p class="mt-1 break-all text-sm text-slate-600 dark:text-slate-400">
                                    {format!("{} · {} · received {} · {} · {} attempt(s)", d.event.provider, d.event.event_id, d.event.received, d.event.status, d.event.attempts)}
                                </p>
                                {d.event.note.clone().map(|n| view! { <p data-testid="event-note" class="mt-2 text-sm text-slate-600 dark:text-slate-400">{n}</p> })}
                                {d.event.error.clone().map(|e| view! { <p role="alert" class="mt-2 text-sm text-red-700 dark:text-red-400">{e}</p> })}
                                <pre class="mt-4 overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100" tabindex="0" aria-label="Payload" data-testid="payload">{d.payload}</pre>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </Container>
        </AdminGate>
    }
}
