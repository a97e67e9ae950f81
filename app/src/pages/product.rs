//! `/p/{slug}`: a repository's page and its buy form. Server-rendered and
//! complete without JavaScript (the form is a plain POST to /api/checkout);
//! once hydrated, the GitHub username is checked as the buyer types.

use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::not_found::NotFound;
use crate::{
    api::buy::{check_github_username, get_product_page, saved_buy_form, Checkout},
    components::container::Container,
    error::AppError,
    types::{BuyFormDraft, BuyPrice, GithubUser, ProductPage},
};

#[component]
pub fn Product() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let page = Resource::new(slug, get_product_page);
    view! {
        <Suspense fallback=|| view! { <Container><p>"Loading…"</p></Container> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some(p)) => view! { <Page p /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <Container><p role="alert" class="text-red-600 dark:text-red-400">{err.to_string()}</p></Container> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Page(p: ProductPage) -> impl IntoView {
    let query = use_query_map();
    let cancelled = move || query.with(|q| q.get("checkout").as_deref() == Some("cancelled"));
    // What this visitor sent last time (a refusal, a cancelled checkout).
    let slug = p.slug.clone();
    let draft = Resource::new(move || slug.clone(), saved_buy_form);
    let form_page = p.clone();
    let description = if p.summary.is_empty() {
        format!("Access to {}", repositories_words(&p.repositories))
    } else {
        p.summary.clone()
    };
    view! {
        <Title text=p.title.clone() />
        <Meta name="description" content=description.clone() />
        <Meta property="og:type" content="product" />
        <Meta property="og:title" content=p.title.clone() />
        <Meta property="og:description" content=description />
        <Meta property="og:url" content=p.canonical_url.clone() />
        {p.image_url.clone().map(|src| view! { <Meta property="og:image" content=src /> })}
        <Link rel="canonical" href=p.canonical_url.clone() />
        <Container>
            {move || cancelled().then(|| view! {
                <p data-testid="checkout-cancelled" class="mb-6 rounded-md bg-amber-50 p-3 text-amber-900 dark:bg-amber-950 dark:text-amber-200">
                    "Checkout cancelled: you have not been charged. You can try again below."
                </p>
            })}
            <div class="grid gap-10 lg:grid-cols-[1fr_22rem]">
                <article>
                    {p.cover_url.clone().map(|src| view! { <img src=src alt="" class="mb-6 aspect-[2/1] w-full rounded-xl object-cover" /> })}
                    <h1 class="text-3xl font-bold tracking-tight sm:text-4xl">{p.title.clone()}</h1>
                    {(!p.summary.is_empty()).then(|| view! { <p class="mt-2 text-lg text-slate-600 dark:text-slate-400">{p.summary.clone()}</p> })}
                    <div class="prose mt-8 max-w-none dark:prose-invert" data-testid="description" inner_html=p.description_html.clone()></div>
                </article>
                <aside>
                    <Suspense fallback=|| ()>
                        {move || {
                            let p = form_page.clone();
                            Suspend::new(async move {
                                let draft = draft.await.ok().flatten();
                                view! { <BuyForm p draft /> }
                            })
                        }}
                    </Suspense>
                </aside>
            </div>
        </Container>
    }
}

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";

/// 365 → "12 months", 30 → "30 days": how creators name a period.
/// "You get read access to the private GitHub repository a/b", with each
/// repository's own level where it has one.
fn what_you_get(price_level: &str, repositories: &[String], own: &[(String, String)]) -> String {
    let at_price: Vec<String> = repositories.iter().filter(|r| !own.iter().any(|(n, _)| n == *r)).cloned().collect();
    let mut parts = Vec::new();
    if !at_price.is_empty() {
        parts.push(format!("{price_level} access to {}", repositories_words(&at_price)));
    }
    parts.extend(
        own.iter().map(|(name, level)| format!("{level} access to {}", repositories_words(std::slice::from_ref(name)))),
    );
    format!("You get {}", parts.join(", and "))
}

/// "the private GitHub repository a/b", or "… repositories a/b and a/c".
pub fn repositories_words(names: &[String]) -> String {
    match names {
        [one] => format!("the private GitHub repository {one}"),
        [rest @ .., last] => format!("the private GitHub repositories {} and {last}", rest.join(", ")),
        [] => "a private GitHub repository".to_owned(),
    }
}

pub fn period_words(days: i64) -> String {
    match days {
        d if d % 365 == 0 => match d / 365 {
            1 => "12 months".to_owned(),
            years => format!("{years} years"),
        },
        d if d % 30 == 0 && d >= 60 => format!("{} months", d / 30),
        1 => "1 day".to_owned(),
        d => format!("{d} days"),
    }
}

fn interval_words(price: &BuyPrice) -> String {
    let base = match (price.interval.as_str(), &price.access_days, &price.access_until) {
        ("month", ..) => "billed monthly, cancel any time".to_owned(),
        ("year", ..) => "billed yearly, cancel any time".to_owned(),
        (_, Some(days), Some(until)) => {
            format!("one payment, {} of access: until {until} if you buy today", period_words(*days))
        }
        _ => "one payment, access for life".to_owned(),
    };
    let base = if price.pay_what_you_want { format!("{base}; you choose the amount at checkout") } else { base };
    if price.trial_days > 0 {
        format!("{}-day free trial, then {base}", price.trial_days)
    } else {
        base
    }
}

/// The message for `field` in a refused checkout.
fn field_error(result: Option<Result<String, AppError>>, field: &str) -> Option<String> {
    match result? {
        Err(AppError::Invalid { field: f, message }) if f == field => Some(message),
        Err(AppError::Fields(list)) => list.into_iter().find(|(f, _)| f == field).map(|(_, m)| m),
        _ => None,
    }
}

#[component]
fn BuyForm(p: ProductPage, draft: Option<BuyFormDraft>) -> impl IntoView {
    let checkout = ServerAction::<Checkout>::new();
    let first = draft
        .as_ref()
        .map(|d| d.price_id)
        .filter(|id| p.prices.iter().any(|x| x.id == *id))
        .or_else(|| p.prices.first().map(|x| x.id))
        .unwrap_or_default();
    let (username0, email0) = draft.map(|d| (d.github_username, d.email)).unwrap_or_default();
    let chosen = RwSignal::new(first);
    let result = move || checkout.value().get();
    // Checkout is another site (Stripe's): a full page load, not a route change.
    Effect::new(move |_| {
        if let Some(Ok(url)) = checkout.value().get() {
            let _ = window().location().set_href(&url);
        }
    });
    let other_error = move || match result() {
        Some(Err(AppError::Invalid { field, .. }))
            if ["github_username", "email", "price_id", "seats"].contains(&field.as_str()) =>
        {
            None
        }
        Some(Err(AppError::Fields(_))) => None,
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };

    // The username check: 400 ms after the last keystroke, if still current.
    let typed = RwSignal::new(String::new());
    let checked: RwSignal<Option<Result<GithubUser, AppError>>> = RwSignal::new(None);
    let generation = StoredValue::new(0_u64);
    let on_username = move |value: String| {
        typed.set(value.clone());
        checked.set(None);
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if value.trim().is_empty() {
            return;
        }
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = check_github_username(chosen.get_untracked(), value).await;
                    if generation.get_value() == mine {
                        checked.set(Some(answer));
                    }
                });
            },
            std::time::Duration::from_millis(400),
        );
    };
    // Typed before the page became interactive (a slow connection): checked
    // as soon as it is.
    let username_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = username_input.get() {
            let value = input.value();
            if !value.trim().is_empty() && typed.get_untracked().is_empty() {
                on_username(value);
            }
        }
    });
    let username_error = move || {
        if let Some(Err(e)) = checked.get() {
            return Some(e.to_string());
        }
        field_error(result(), "github_username")
    };

    // The seats of the chosen price, when it is sold per seat.
    // (price id, its fewest and most seats when sold per seat)
    type SeatRange = (i64, Option<(i64, i64)>);
    let seat_ranges: StoredValue<Vec<SeatRange>> = StoredValue::new(p.prices.iter().map(|x| (x.id, x.seats)).collect());
    let seats_of = move || {
        let id = chosen.get();
        seat_ranges.with_value(|r| r.iter().find(|(x, _)| *x == id).and_then(|(_, s)| *s))
    };

    if p.prices.is_empty() {
        return view! { <p class="rounded-xl border border-slate-200 p-5 dark:border-slate-800">"Not on sale yet: check back soon."</p> }.into_any();
    }
    view! {
        <ActionForm action=checkout attr:class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900" attr:data-testid="buy-form">
            <fieldset>
                <legend class="text-sm font-semibold">"Choose"</legend>
                <div class="mt-2 grid gap-2">
                    {p.prices.iter().map(|price| {
                        let id = price.id;
                        view! {
                            <label class="flex cursor-pointer items-start gap-3 rounded-md border border-slate-200 p-3 has-checked:border-indigo-500 dark:border-slate-700" data-testid="price-option">
                                <input type="radio" name="price_id" value=id checked=id == first class="mt-1"
                                    on:change=move |_| chosen.set(id) />
                                <span>
                                    <span class="block font-semibold">{price.amount_text.clone()}</span>
                                    <span class="block text-sm text-slate-600 dark:text-slate-400">{interval_words(price)}</span>
                                </span>
                            </label>
                        }
                    }).collect_view()}
                </div>
                {move || field_error(result(), "price_id").map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            </fieldset>
            {move || seats_of().map(|(min, max)| view! {
                <div class="mt-4 rounded-md bg-slate-50 p-3 dark:bg-slate-800/50" data-testid="seats-fields">
                    <label class="block text-sm font-medium">"Seats"
                        <input name="seats" type="number" required min=min max=max value=min.max(1) inputmode="numeric" class=INPUT
                            aria-describedby="seats-help" aria-invalid=move || field_error(result(), "seats").is_some().to_string() />
                    </label>
                    <p id="seats-help" class="mt-1 text-xs text-slate-600 dark:text-slate-400">
                        {format!("{min} to {max}. You hand the seats out to GitHub accounts from your account page, and can add seats later.")}
                    </p>
                    <label class="mt-3 flex items-center gap-2 text-sm">
                        <input type="checkbox" name="take_seat" value="on" checked=true />
                        "I use one of the seats myself"
                    </label>
                    {move || field_error(result(), "seats").map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
                </div>
            })}
            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400" data-testid="what-you-get">
                {what_you_get(&p.prices[0].access, &p.repositories, &p.own_levels)}
                ": we invite your GitHub account as soon as you have paid."
            </p>
            <label class="mt-4 block text-sm font-medium">{move || if seats_of().is_some() { "Your GitHub username (you manage the seats)" } else { "GitHub username" }}
                <input name="github_username" required autocomplete="username" spellcheck="false" placeholder="octocat" class=INPUT
                    value=username0 aria-describedby="username-status" aria-invalid=move || username_error().is_some().to_string()
                    node_ref=username_input on:input=move |ev| on_username(event_target_value(&ev)) />
            </label>
            // Announced as it changes: checking, who it is, or what is wrong.
            <div id="username-status" aria-live="polite">
            {move || match checked.get() {
                Some(Ok(user)) => Some(view! {
                    <p class="mt-2 flex items-center gap-2 text-sm" data-testid="github-user">
                        <img src=user.avatar_url.clone() alt="" class="h-6 w-6 rounded-full" />
                        <span>{user.name.clone().unwrap_or_else(|| user.login.clone())} " (@" {user.login.clone()} ")"</span>
                    </p>
                }.into_any()),
                _ if !typed.get().trim().is_empty() && checked.get().is_none() => Some(view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400">"Checking on GitHub…"</p> }.into_any()),
                _ => None,
            }}
            {move || username_error().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400" data-testid="username-error">{m}</p> })}
            </div>
            <label class="mt-4 block text-sm font-medium">"Email"
                <input name="email" type="email" required autocomplete="email" placeholder="you@example.com" class=INPUT
                    value=email0 aria-describedby="email-error" aria-invalid=move || field_error(result(), "email").is_some().to_string() />
            </label>
            <div id="email-error">
                {move || field_error(result(), "email").map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            </div>
            {move || other_error().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            <button class="mt-5 w-full rounded-md bg-indigo-600 px-4 py-2.5 font-semibold text-white hover:bg-indigo-500 disabled:opacity-60"
                disabled=move || checkout.pending().get()>
                {move || if checkout.pending().get() { "Opening checkout…" } else { "Continue to payment" }}
            </button>
            <p class="mt-3 text-center text-xs text-slate-600 dark:text-slate-400">"Payment by Stripe. The receipt and your access links go to your email."</p>
        </ActionForm>
    }
    .into_any()
}
