//! `/admin`: the business at a glance. The numbers, the funnel and the
//! revenue chart (SVG drawn on the server: readable without JavaScript,
//! with native tooltips; once hydrated, a readout follows the pointer), and
//! the activity feed, which the server pushes (SSE) and which refreshes the
//! numbers as it arrives.

use leptos::prelude::*;
use tailwind_fuse::tw_merge;

use crate::{
    api::{
        dashboard::{get_dashboard, ActivityItem, Chart, Dashboard},
        session::current_viewer,
    },
    error::AppError,
};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900";

/// The dashboard's data, fetched again when `version` moves. Made by the
/// page, outside the admin gate, whose contents are built more than once
/// during server rendering (a resource made in there would fetch each
/// time). One future asks who is looking first, so a visitor's page is not
/// a refused request and the server waits for the whole of it.
pub fn dashboard_resource(version: RwSignal<u32>) -> Resource<Option<Result<Dashboard, AppError>>> {
    Resource::new(
        move || version.get(),
        |_| async move {
            match current_viewer().await {
                Ok(Some(v)) if v.is_admin => Some(get_dashboard().await),
                _ => None,
            }
        },
    )
}

#[component]
pub fn DashboardView(data: Resource<Option<Result<Dashboard, AppError>>>, version: RwSignal<u32>) -> impl IntoView {
    live_updates(version);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Some(Ok(d)) => view! { <Numbers d /> }.into_any(),
                    Some(Err(e)) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                    None => view! { <p>"Loading…"</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Listens to the activity stream (in the browser only) and bumps `version`
/// on each event, so the numbers and the feed are read again.
fn live_updates(version: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::{closure::Closure, JsCast};
        let source = StoredValue::new_local(None::<leptos::web_sys::EventSource>);
        Effect::new(move |_| {
            let Ok(es) = leptos::web_sys::EventSource::new("/admin/activity/stream") else { return };
            let on_event =
                Closure::<dyn FnMut(leptos::web_sys::MessageEvent)>::new(move |_| version.update(|v| *v += 1));
            let _ = es.add_event_listener_with_callback("activity", on_event.as_ref().unchecked_ref());
            on_event.forget();
            source.set_value(Some(es));
        });
        on_cleanup(move || {
            if let Some(Some(es)) = source.try_get_value() {
                es.close();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = version;
}

#[component]
fn Stat(label: &'static str, testid: &'static str, values: Vec<String>) -> impl IntoView {
    let shown = if values.is_empty() { "—".to_owned() } else { values.join(" · ") };
    view! {
        // Two to a row on a phone: smaller padding and figures there.
        <div class=tw_merge!(CARD, "min-w-0 p-3 sm:p-5")>
            <div class="text-sm text-slate-600 dark:text-slate-400">{label}</div>
            <div class="mt-1 break-words text-xl font-semibold tabular-nums sm:text-2xl" data-testid=testid>{shown}</div>
        </div>
    }
}

#[component]
fn Numbers(d: Dashboard) -> impl IntoView {
    view! {
        <section class="grid grid-cols-2 gap-3 sm:gap-4 lg:grid-cols-4" aria-label="Numbers">
            <Stat label="Revenue this month" testid="stat-revenue-month" values=d.revenue_month />
            <Stat label="Revenue, last 30 days" testid="stat-revenue-30d" values=d.revenue_30d />
            <Stat label="Monthly recurring revenue" testid="stat-mrr" values=d.mrr />
            <Stat label="Customers with access" testid="stat-active" values=vec![d.active_customers.to_string()] />
            <Stat label="New purchases, 30 days" testid="stat-new" values=vec![d.new_purchases.to_string()] />
            <Stat label="Subscriptions ended, 30 days" testid="stat-churn" values=vec![d.churned.to_string()] />
            <Stat label="Refunds, 30 days" testid="stat-refunds" values=vec![d.refunds.to_string()] />
            // Teams only: a creator without per-seat prices sees no empty box.
            {(d.seats_sold > 0).then(|| view! {
                <Stat label="Team seats in use" testid="stat-seats" values=vec![format!("{} of {} sold", d.seats_in_use, d.seats_sold)] />
            })}
        </section>
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section class=format!("{CARD} lg:col-span-2") aria-label="Revenue">
                <h2 class="font-semibold">"Revenue, last 30 days"</h2>
                {if d.charts.is_empty() {
                    view! { <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">"No payments yet: the chart starts with the first one."</p> }.into_any()
                } else {
                    // One chart per currency: amounts in different currencies do not add up.
                    let several = d.charts.len() > 1;
                    d.charts.into_iter().map(|chart| view! { <RevenueChart chart several /> }).collect_view().into_any()
                }}
            </section>
            <section class=CARD aria-label="Activity">
                <h2 class="flex items-center gap-2 font-semibold">"Activity" <span class="h-2 w-2 rounded-full bg-green-500" title="live"></span></h2>
                <ActivityFeed items=d.activity />
            </section>
        </div>
        <section class=format!("mt-6 {CARD}") aria-label="Conversion">
            <h2 class="font-semibold">"Conversion, last 30 days"</h2>
            <div class="mt-3 overflow-x-auto" tabindex="0" role="region" aria-label="Funnel">
            <table class="min-w-[24rem] w-full text-left text-sm" data-testid="funnel">
                <thead class="text-slate-500 dark:text-slate-400">
                    <tr><th class="py-1 font-medium">"Repository"</th><th class="font-medium">"Page views"</th><th class="font-medium">"Checkouts started"</th><th class="font-medium">"Paid"</th><th class="font-medium">"Paid per view"</th></tr>
                </thead>
                <tbody>
                    {d.funnel.into_iter().map(|f| { let key = f.title.clone(); view! {
                        <tr class="border-t border-slate-100 dark:border-slate-800" data-repository=key>
                            <td class="py-1.5">{f.title}</td>
                            <td class="tabular-nums">{f.views}</td>
                            <td class="tabular-nums">{f.checkouts}</td>
                            <td class="tabular-nums">{f.paid}</td>
                            <td class="tabular-nums">{f.conversion}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}

#[component]
fn ActivityFeed(items: Vec<ActivityItem>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="mt-3 text-sm text-slate-500 dark:text-slate-400" data-testid="activity">"Nothing yet: purchases, invitations and revokes appear here as they happen."</p> }.into_any();
    }
    view! {
        <ol class="mt-3 grid gap-2 text-sm" data-testid="activity">
            {items.into_iter().map(|a| view! {
                <li data-action=a.action.clone()>
                    <a href=format!("/admin/customers/{}", a.github_user_id) class="hover:underline">{a.words}</a>
                    <div class="text-xs text-slate-500 dark:text-slate-400">{a.at}</div>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn RevenueChart(chart: Chart, several: bool) -> impl IntoView {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let n = chart.days.len().max(1) as f64;
    let step = W / n;
    let hovered: RwSignal<Option<String>> = RwSignal::new(None);
    let max = chart.max as f64;
    let summary = format!("{} in all, in {}", chart.total_text, chart.currency.to_uppercase());
    let label = format!("Revenue per day in {}", chart.currency.to_uppercase());
    view! {
        {several.then(|| view! { <h3 class="mt-4 text-sm font-semibold">{chart.currency.to_uppercase()}</h3> })}
        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="chart-readout">
            {move || hovered.get().unwrap_or_else(|| summary.clone())}
        </p>
        <svg viewBox=format!("0 0 {W} {}", H + 20.0) class="mt-3 w-full" role="img" aria-label=label data-testid="revenue-chart" data-currency=chart.currency.clone()>
            <line x1="0" y1=H x2=W y2=H class="stroke-slate-300 dark:stroke-slate-700" />
            {chart.days.iter().enumerate().map(|(i, day)| {
                let height = if day.amount > 0 { (day.amount as f64 / max * (H - 10.0)).max(2.0) } else { 0.0 };
                let x = i as f64 * step + step * 0.15;
                let tip = format!("{}: {}", day.label, day.amount_text);
                let tip_hover = tip.clone();
                view! {
                    <g on:mouseenter=move |_| hovered.set(Some(tip_hover.clone())) on:mouseleave=move |_| hovered.set(None)>
                        // The whole column takes the pointer; the bar shows the amount.
                        <rect x=i as f64 * step y="0" width=step height=H fill="transparent" />
                        <rect x=x y=H - height width=step * 0.7 height=height rx="2" class="fill-indigo-500" data-amount=day.amount />
                        <title>{tip}</title>
                    </g>
                }
            }).collect_view()}
            {chart.days.first().map(|d| view! { <text x="0" y=H + 15.0 class="fill-slate-500 text-[10px]">{d.label.clone()}</text> })}
            {chart.days.last().map(|d| view! { <text x=W y=H + 15.0 text-anchor="end" class="fill-slate-500 text-[10px]">{d.label.clone()}</text> })}
        </svg>
    }
}
