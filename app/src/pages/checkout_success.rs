//! `/checkout/success?session_id=…`: where Stripe sends the buyer back.
//! Renders where the purchase stands at once, then follows it live (polling
//! every two seconds once hydrated; a meta refresh without JavaScript) until
//! the invitation is out.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{api::buy::get_checkout_progress, components::container::Container, types::CheckoutProgress};

#[component]
pub fn CheckoutSuccess() -> impl IntoView {
    let query = use_query_map();
    let session_id = move || query.with(|q| q.get("session_id").unwrap_or_default());
    let tick = RwSignal::new(0_u32);
    let progress = Resource::new(move || (session_id(), tick.get()), |(id, _)| get_checkout_progress(id));

    // Poll until settled (only in the browser: the server renders once).
    Effect::new(move |_| {
        let done = progress.get().map(|r| r.map(|p| p.settled).unwrap_or(true)).unwrap_or(false);
        if !done {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(2));
        }
    });

    view! {
        <Title text="Thank you" />
        <Container>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match progress.await {
                        Ok(p) => view! { <Progress p /> }.into_any(),
                        Err(e) => view! {
                            <h1 class="text-2xl font-bold">"We could not find this checkout"</h1>
                            <p role="alert" class="mt-2 text-slate-600 dark:text-slate-400">{e.to_string()} " If you paid, your receipt email has the details, and the invitation will still be sent."</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Container>
    }
}

#[component]
fn Step(done: bool, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <li class="flex items-start gap-3" data-testid=testid data-done=done.to_string()>
            <span class=if done { "mt-0.5 flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-green-600 text-sm text-white" } else { "mt-0.5 flex h-6 w-6 shrink-0 items-center justify-center rounded-full border-2 border-slate-300 text-sm dark:border-slate-600" }>
                {if done { "✓" } else { "" }}
            </span>
            <div>{children()}</div>
        </li>
    }
}

#[component]
fn Progress(p: CheckoutProgress) -> impl IntoView {
    let (paid, invited, active, waiting) = (p.paid, p.invited, p.active, !p.settled);
    let login = p.github_login.clone();
    let full_name = p.repositories.iter().map(|r| r.full_name.clone()).collect::<Vec<_>>().join(", ");
    let repositories = p.repositories.clone();
    let heading = p.heading.clone();
    view! {
        // Without JavaScript, the page refreshes itself while it waits.
        // (inner_html: hydration does not look inside it.)
        {waiting.then(|| view! { <noscript inner_html=r#"<meta http-equiv="refresh" content="3">"#></noscript> })}
        <h1 class="text-3xl font-bold tracking-tight">{heading}</h1>
        <p class="mt-2 text-slate-600 dark:text-slate-400">
            {p.title.clone()} " · access for GitHub account " <span class="font-mono">"@"{p.github_login.clone()}</span>
        </p>
        <ol class="mt-8 grid gap-5" data-testid="progress" data-status=p.status.clone()>
            <Step done=paid testid="step-paid">
                <p class="font-medium" data-testid="paid-words">{p.paid_words.clone()}</p>
                {p.access_until.clone().map(|until| view! {
                    <p class="text-sm" data-testid="access-until">{format!("Your access lasts until {until}.")}</p>
                })}
                {(!paid && waiting).then(|| view! { <p class="text-sm text-slate-500 dark:text-slate-400">"Waiting for Stripe…"</p> })}
                {p.payment_on_its_way.then(|| view! {
                    <p class="text-sm" data-testid="payment-on-its-way">
                        "Nothing more to do here: we will email you as soon as the money has arrived and GitHub has sent your invitation. You can close this page."
                    </p>
                })}
            </Step>
            {p.seats.map(|seats| view! {
                <Step done=active testid="step-seats">
                    <p class="font-medium">{format!("{seats} seats ready to hand out")}</p>
                    {active.then(|| view! {
                        <p class="text-sm">
                            "Give each seat to a GitHub account on "
                            <a href="/account" class="font-medium text-indigo-600 underline dark:text-indigo-400" data-testid="hand-out">"your account page"</a>
                            " (sign in with GitHub as @" {p.github_login.clone()} "). GitHub invites each holder."
                        </p>
                    })}
                </Step>
            })}
            {p.seats.is_none().then(|| view! {
            <Step done=invited testid="step-invited">
                <p class="font-medium">"Invitation sent"</p>
                {p.invitation_url.clone().filter(|_| !active).map(move |url| view! {
                    <p class="text-sm">
                        "GitHub has invited @" {login} " to " <span class="font-mono">{full_name}</span> ". "
                        <a href=url rel="external noopener" target="_blank" class="font-medium text-indigo-600 underline dark:text-indigo-400" data-testid="accept-link">"Accept the invitation on GitHub"</a>
                        " (it is valid for 7 days; it is also in your GitHub notifications)."
                    </p>
                })}
            </Step>
            <Step done=active testid="step-active">
                <p class="font-medium">"Access active"</p>
                {active.then(|| repositories.into_iter().map(|r| view! {
                    <p class="text-sm">
                        <a href=r.url rel="external" class="font-medium text-indigo-600 underline dark:text-indigo-400">"Open " {r.full_name} " on GitHub"</a>
                    </p>
                }).collect_view())}
            </Step>
            })}
        </ol>
        {p.problem.clone().map(|m| view! { <p role="alert" class="mt-6 rounded-md bg-amber-50 p-3 text-amber-900 dark:bg-amber-950 dark:text-amber-200">{m}</p> })}
        <p class="mt-10 text-sm text-slate-500 dark:text-slate-400">
            <a href=format!("/p/{}", p.slug) class="underline">"Back to " {p.title.clone()}</a>
        </p>
    }
}
