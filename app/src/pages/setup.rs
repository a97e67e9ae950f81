use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::setup::{setup_status, SetupConnectStripe, SetupStripeEndpoint},
    components::container::Container,
    types::SetupView,
};

/// `/setup`: the first start of a real deployment — GitHub App, owner, Stripe.
#[component]
pub fn SetupPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| setup_status());
    view! {
        <Title text="Set up RepoPass" />
        <Container>
            <h1 class="text-3xl font-bold tracking-tight">"Set up RepoPass"</h1>
            <Suspense fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) if s.finished => view! {
                            <p class="mt-6" data-testid="setup-finished">"Setup is finished. "
                                <a class="font-medium text-indigo-700 underline dark:text-indigo-300" href="/admin">"Open the admin"</a></p>
                        }.into_any(),
                        Ok(s) if !s.holder => view! {
                            <div class="mt-6 max-w-2xl space-y-3" data-testid="setup-locked">
                                <p>"This RepoPass is not set up yet."</p>
                                <p class="text-slate-600 dark:text-slate-400">"If you are its owner: open the one-time setup link RepoPass printed to its log when it started (restart it for a new link)."</p>
                            </div>
                        }.into_any(),
                        Ok(s) => view! { <Steps s /> }.into_any(),
                        Err(e) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Container>
    }
}

#[component]
fn Step(n: u8, title: &'static str, done: bool, children: Children) -> impl IntoView {
    let badge = if done {
        "bg-green-600 text-white"
    } else {
        "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100"
    };
    view! {
        <li class="min-w-0 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900"
            data-testid=format!("setup-step-{n}") data-done=done.to_string()>
            <h2 class="flex items-center gap-3 text-lg font-semibold">
                <span class=format!("inline-flex h-7 w-7 items-center justify-center rounded-full text-sm {badge}") aria-hidden="true">
                    {if done { "✓".to_owned() } else { n.to_string() }}
                </span>
                {title}
                <span class="sr-only">{if done { " (done)" } else { "" }}</span>
            </h2>
            <div class="mt-3 space-y-3 text-sm text-slate-700 dark:text-slate-300">{children()}</div>
        </li>
    }
}

const BUTTON: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60";
const INPUT: &str = "mt-1 block w-full max-w-md rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950";

#[component]
fn Steps(s: SetupView) -> impl IntoView {
    let SetupView { github, owner, stripe, signed_in_as, .. } = s.clone();
    let signed_in = signed_in_as.is_some();
    let github_step = if github {
        view! { <GithubDone s=s.clone() /> }.into_any()
    } else {
        view! { <CreateApp s=s.clone() /> }.into_any()
    };
    let owner_step = match signed_in_as {
        Some(login) => {
            view! { <p>"Signed in as " <strong>{format!("@{login}")}</strong> ", the owner of this RepoPass."</p> }
                .into_any()
        }
        None if github => view! {
            <p>"Sign in with the GitHub account that will own this RepoPass (only this browser can)."</p>
            <a class=format!("inline-block {BUTTON}") href="/auth/github?next=/setup" rel="external">"Sign in with GitHub"</a>
        }
        .into_any(),
        None => view! { <p class="text-slate-500 dark:text-slate-400">"After GitHub is connected."</p> }.into_any(),
    };
    let stripe_step = if signed_in {
        view! { <ConnectStripe s=s /> }.into_any()
    } else {
        view! { <p class="text-slate-500 dark:text-slate-400">"After you have signed in."</p> }.into_any()
    };
    view! {
        <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">
            "Three steps connect this RepoPass to your GitHub and your Stripe. What you connect here is stored encrypted in the database."
        </p>
        <ol class="mt-8 grid max-w-3xl gap-4">
            <Step n=1 title="Connect GitHub" done=github>{github_step}</Step>
            <Step n=2 title="Sign in as the owner" done=owner && signed_in>{owner_step}</Step>
            <Step n=3 title="Connect Stripe" done=stripe>{stripe_step}</Step>
        </ol>
    }
}

/// The manifest form: GitHub creates the App from it and sends the browser back.
#[component]
fn CreateApp(s: SetupView) -> impl IntoView {
    let org = RwSignal::new(String::new());
    let (web, state) = (s.github_web_url.clone(), s.manifest_state.clone());
    let action = move || {
        let org = org.get();
        let org = org.trim();
        if org.is_empty() {
            format!("{web}/settings/apps/new?state={state}")
        } else {
            format!("{web}/organizations/{org}/settings/apps/new?state={state}")
        }
    };
    view! {
        <p>"RepoPass creates its own GitHub App: it may manage the collaborators of the repositories you choose, and nothing else. GitHub asks you to confirm."</p>
        <form method="post" action=action data-testid="create-app">
            <input type="hidden" name="manifest" value=s.manifest.clone() />
            <label class="block font-medium" for="setup-org">"Organisation (leave empty for your personal account)"</label>
            <input id="setup-org" class=INPUT autocomplete="off" pattern="[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
                prop:value=move || org.get() on:input=move |ev| org.set(event_target_value(&ev)) />
            <button class=format!("mt-3 {BUTTON}") type="submit">"Create the GitHub App"</button>
        </form>
    }
}

#[component]
fn GithubDone(s: SetupView) -> impl IntoView {
    let repos = s.repositories.clone();
    view! {
        <p>"The GitHub App exists. Install it on the repositories you will sell; you can add more later from GitHub."</p>
        {s.install_url.clone().map(|url| view! { <a class=format!("inline-block {BUTTON}") href=url rel="external" data-testid="install-app">"Install the App on your repositories"</a> })}
        <p>{format!("Repositories it can manage now: {}", repos.len())}</p>
        <ul class="list-inside list-disc" data-testid="setup-repositories">
            {repos.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
        </ul>
    }
}

#[component]
fn ConnectStripe(s: SetupView) -> impl IntoView {
    let connect = ServerAction::<SetupConnectStripe>::new();
    let endpoint = ServerAction::<SetupStripeEndpoint>::new();
    view! {
        {if s.stripe {
            view! { <p>"Stripe is connected."</p> }.into_any()
        } else if s.stripe_key_from_env {
            view! {
                <p>"The Stripe key comes from STRIPE_SECRET_KEY. RepoPass creates its webhook endpoint with it, for "
                   <code class="break-all rounded bg-slate-100 px-1 dark:bg-slate-800">{s.stripe_webhook_url.clone()}</code> "."</p>
                <ActionForm action=endpoint>
                    <button class=BUTTON type="submit" disabled=move || endpoint.pending().get()>"Create the webhook endpoint"</button>
                </ActionForm>
                <div aria-live="polite">
                    {move || endpoint.value().get().map(|r| match r {
                        Ok(id) => view! { <p class="text-green-700 dark:text-green-400">{format!("Created {id}. Setup is finished: ")}
                            <a class="font-medium underline" href="/admin" rel="external">"open the admin"</a></p> }.into_any(),
                        Err(e) => view! { <p role="alert" class="break-words text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                    })}
                </div>
            }.into_any()
        } else {
            view! {
                <p>"Paste your Stripe secret key, or a restricted key. RepoPass checks it and creates its webhook endpoint for "
                   <code class="break-all rounded bg-slate-100 px-1 dark:bg-slate-800">{s.stripe_webhook_url.clone()}</code> "."</p>
                <ActionForm action=connect attr:data-testid="connect-stripe">
                    <label class="block font-medium" for="setup-stripe-key">"Stripe key (sk_… or rk_…)"</label>
                    <input id="setup-stripe-key" name="key" type="password" required autocomplete="off" class=INPUT />
                    <button class=format!("mt-3 {BUTTON}") type="submit" disabled=move || connect.pending().get()>
                        {move || if connect.pending().get() { "Checking the key…" } else { "Connect Stripe" }}
                    </button>
                </ActionForm>
            }.into_any()
        }}
        <div aria-live="polite">
            {move || connect.value().get().map(|r| match r {
                Ok(c) => view! {
                    <p class="text-green-700 dark:text-green-400" data-testid="stripe-connected">
                        {format!("Connected to {} ({} mode), webhook endpoint {}. ", c.account, if c.live { "live" } else { "test" }, c.endpoint_id)}
                        "Setup is finished: "
                        <a class="font-medium underline" href="/admin" rel="external">"open the admin"</a>
                    </p>
                }.into_any(),
                Err(e) => view! { <p role="alert" class="break-words text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}
