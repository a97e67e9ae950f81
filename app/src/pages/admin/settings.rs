use leptos::prelude::*;
use leptos_meta::Title;

use super::gate::AdminGate;
use crate::{
    api::notifications::{notifications, SaveNotifications},
    api::settings::{
        customer_emails, settings_status, stripe_tax, ConnectStripe, RepairStripeWebhook, RunChecks,
        SaveCustomerEmails, SaveStripeTax,
    },
    components::container::Container,
    types::{CheckLevel, CheckLine, ConnectionStatus, EndpointView, SummaryChoice},
};

/// `/admin/settings`: each connection, its state, and the fix where it is missing.
#[component]
pub fn AdminSettings() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <AdminGate>
            <SettingsBody />
        </AdminGate>
    }
}

#[component]
fn SettingsBody() -> impl IntoView {
    let status = Resource::new(|| (), |_| settings_status());
    view! {
        <Container>
            <h1 class="text-3xl font-bold tracking-tight">"Settings"</h1>
            <Suspense fallback=|| view! { <p class="mt-6">"Checking connections…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! { <Connections s /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <Notifications />
            <CustomerEmails />
            <StripeTax />
            <Checks />
        </Container>
    }
}

/// Where RepoPass writes to the creator and what about, and where their
/// tools hear of what happens (outgoing webhooks, on a page of their own).
#[component]
fn Notifications() -> impl IntoView {
    let save = ServerAction::<SaveNotifications>::new();
    let current = Resource::new(move || save.version().get(), |_| notifications());
    let input = "mt-1 block w-full max-w-md rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950";
    view! {
        <section class="mt-10" id="notifications" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading" class="text-xl font-semibold">"Notifications"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let Ok(n) = current.await else { return None };
                    Some(view! {
                        <ActionForm action=save attr:class="mt-3 grid gap-3" attr:data-testid="notifications">
                            <label class="text-sm">"Your email, for RepoPass's notices to you"
                                <input name="email" type="email" value=n.email placeholder="you@example.com" autocomplete="email" class=input />
                            </label>
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="sale_emails" checked=n.sale_emails />
                                "Email me each sale"
                            </label>
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="cancellation_emails" checked=n.cancellation_emails />
                                "Email me each cancelled subscription"
                            </label>
                            <label class="text-sm">"A summary (revenue, new customers, cancellations, invitations waiting)"
                                <select name="summary" class=input>
                                    {[(SummaryChoice::Never, "never"), (SummaryChoice::Daily, "every day"), (SummaryChoice::Weekly, "every Monday, of the week before")]
                                        .into_iter()
                                        .map(|(c, words)| view! { <option value=c.value() selected=n.summary == c>{words}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                            <p class="text-xs text-slate-500 dark:text-slate-400">"A webhook endpoint that stops answering is always reported to this email."</p>
                            <div><button class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Save"</button></div>
                        </ActionForm>
                    })
                })}
            </Suspense>
            {move || save.value().get().map(|r| match r {
                Ok(n) if n.email.is_empty() => view! { <p role="status" class="mt-2 text-sm text-amber-700 dark:text-amber-400">"Saved. No email is set: RepoPass cannot send you anything."</p> }.into_any(),
                Ok(n) => view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400">{format!("Saved: notices go to {}.", n.email)}</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="mt-2 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
            })}
            <p class="mt-4 text-sm">
                <a href="/admin/settings/webhooks" class="font-medium text-indigo-600 underline dark:text-indigo-400">"Webhooks →"</a>
                " send your tools (a licence server, a CRM, a spreadsheet, a Slack or Discord channel) each sale, grant, refund and revocation."
            </p>
            <p class="mt-2 text-sm">
                <a href="/admin/settings/alerts" class="font-medium text-indigo-600 underline dark:text-indigo-400">"Alerts & backups →"</a>
                " who hears when access or money is at risk, and the database's daily backups."
            </p>
        </section>
    }
}

/// The emails RepoPass sends customers on the creator's behalf that the
/// creator may turn off.
#[component]
fn CustomerEmails() -> impl IntoView {
    let save = ServerAction::<SaveCustomerEmails>::new();
    let current = Resource::new(move || save.version().get(), |_| customer_emails());
    view! {
        <section class="mt-10" aria-labelledby="customer-emails-heading">
            <h2 id="customer-emails-heading" class="text-xl font-semibold">"Emails to customers"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let on = current.await.unwrap_or(true);
                    view! {
                        <ActionForm action=save attr:class="mt-3 flex flex-wrap items-center gap-3" attr:data-testid="customer-emails">
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="access_ending" checked=on />
                                "Warn customers seven days and one day before their access ends (a cancelled subscription, a period of access running out, a failed payment)"
                            </label>
                            <button class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Save"</button>
                        </ActionForm>
                    }
                })}
            </Suspense>
            {move || save.value().get().map(|r| match r {
                Ok(true) => view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400">"Saved: customers are warned."</p> }.into_any(),
                Ok(false) => view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400">"Saved: no warnings are sent."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="mt-2 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// Stripe Tax at checkout: off by default; turned on only once Stripe can
/// calculate it (the refusal says what to do in Stripe).
#[component]
fn StripeTax() -> impl IntoView {
    let save = ServerAction::<SaveStripeTax>::new();
    let current = Resource::new(move || save.version().get(), |_| stripe_tax());
    view! {
        <section class="mt-10" aria-labelledby="tax-heading">
            <h2 id="tax-heading" class="text-xl font-semibold">"Tax"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let setting = current.await.ok();
                    let on = setting.as_ref().is_some_and(|s| s.on);
                    let behavior = setting.and_then(|s| s.behavior);
                    view! {
                        <ActionForm action=save attr:class="mt-3 flex flex-wrap items-center gap-3" attr:data-testid="stripe-tax">
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="stripe_tax" checked=on />
                                "Calculate tax with Stripe Tax at checkout (the buyer's address decides the rate; businesses can enter a tax ID)"
                            </label>
                            <button class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Save"</button>
                        </ActionForm>
                        {behavior.map(|b| view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="tax-behavior">"Stripe's setting: " {b} "."</p> })}
                    }
                })}
            </Suspense>
            {move || save.value().get().map(|r| match r {
                Ok(t) if t.on => view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400">"Saved: Stripe calculates tax at checkout."</p> }.into_any(),
                Ok(_) => view! { <p role="status" class="mt-2 text-sm text-green-700 dark:text-green-400">"Saved: no tax is added at checkout."</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="mt-2 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// The same checks as `repopass doctor`, on request.
#[component]
fn Checks() -> impl IntoView {
    let run = ServerAction::<RunChecks>::new();
    view! {
        <section class="mt-10" aria-labelledby="checks-heading">
            <h2 id="checks-heading" class="text-xl font-semibold">"Checks"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "What " <code>"repopass doctor"</code> " looks at: the database, this address from outside, Stripe, GitHub, webhooks received, email and backups."
            </p>
            <ActionForm action=run attr:class="mt-3">
                <button class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800"
                    disabled=move || run.pending().get()>
                    {move || if run.pending().get() { "Checking…" } else { "Run the checks" }}
                </button>
            </ActionForm>
            <div aria-live="polite">
                {move || match run.value().get() {
                    None => None,
                    Some(Err(e)) => Some(view! { <p role="alert" class="mt-3 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any()),
                    Some(Ok(lines)) => Some(view! {
                        <ul class="mt-4 grid gap-2" data-testid="checks">
                            {lines.into_iter().map(|l| view! { <Check l /> }).collect_view()}
                        </ul>
                    }.into_any()),
                }}
            </div>
        </section>
    }
}

#[component]
fn Check(l: CheckLine) -> impl IntoView {
    let (mark, colour) = match l.level {
        CheckLevel::Ok => ("✓ ok", "text-green-700 dark:text-green-400"),
        CheckLevel::Warning => ("▲ warning", "text-amber-700 dark:text-amber-400"),
        CheckLevel::Problem => ("✗ problem", "text-red-700 dark:text-red-400"),
    };
    let (area, level) = (l.area.clone(), l.level.as_str());
    view! {
        <li class="min-w-0 rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800" data-testid="check" data-area=area data-level=level>
            <span class=format!("font-semibold {colour}")>{mark}</span> " · " <strong>{l.area}</strong>
            <div class="break-words">{l.what}</div>
            {l.fix.map(|fix| view! { <div class="mt-1 break-words text-slate-600 dark:text-slate-400">"→ " {fix}</div> })}
        </li>
    }
}

#[component]
fn Row(label: &'static str, ok: bool, children: Children) -> impl IntoView {
    view! {
        <section class="min-w-0 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900" data-testid=label>
            <h2 class="flex items-center gap-2 font-semibold">
                <span class=if ok { "text-green-600" } else { "text-amber-600" } aria-hidden="true">{if ok { "●" } else { "▲" }}</span>
                {label}
                <span class="sr-only">{if ok { " (connected)" } else { " (needs attention)" }}</span>
            </h2>
            <div class="mt-2 space-y-2 text-sm text-slate-600 dark:text-slate-300">{children()}</div>
        </section>
    }
}

#[component]
fn Connections(s: ConnectionStatus) -> impl IntoView {
    let github_ok = s.github_problem.is_none();
    let repos = s.repositories.clone();
    view! {
        <div class="mt-8 grid gap-4">
            <Row label="GitHub" ok=github_ok>
                <p>{match s.github_mode.as_str() {
                    "app" => "Connected as a GitHub App.",
                    "token" if s.sandbox => "Connected to the sandbox's GitHub (no real repositories).",
                    "token" => "Connected with a personal access token.",
                    _ => "Not connected: set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY.",
                }}</p>
                {s.github_problem.map(|p| view! { <p class="text-amber-700 dark:text-amber-400" role="alert">{p}</p> })}
                <p>{format!("{} repositories you can sell:", repos.len())}</p>
                <ul class="list-inside list-disc" data-testid="reachable-repositories">
                    {repos.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ul>
            </Row>
            <Row label="Stripe" ok=s.stripe_endpoint.as_ref().is_none_or(|e| e.problem.is_none())>
                <p>{match s.stripe_mode.as_str() {
                    "sandbox" => "The sandbox's Stripe: no real money moves.",
                    "live" => "Live mode: real payments.",
                    _ => "Test mode: Stripe test cards only.",
                }}</p>
                {s.stripe_endpoint.clone().map(|e| view! { <StripeEndpoint e sandbox=s.sandbox /> })}
                {(!s.sandbox && !s.stripe_key_from_env).then(|| view! { <StripeKeyForm /> })}
                {(!s.sandbox && s.stripe_key_from_env).then(|| view! { <p>"The key comes from STRIPE_SECRET_KEY in the environment, which wins over a key saved here: change it there."</p> })}
            </Row>
            <Row label="Webhooks" ok=s.stripe_webhook_secret_set && s.github_webhook_secret_set>
                <p>"Stripe: add an endpoint for " <code class="break-all rounded bg-slate-100 px-1 dark:bg-slate-800">{s.stripe_webhook_url}</code>
                   {if s.stripe_webhook_secret_set { " — signing secret set." } else { " and put its signing secret in STRIPE_WEBHOOK_SECRET." }}</p>
                <p>"GitHub: send member and repository events to " <code class="break-all rounded bg-slate-100 px-1 dark:bg-slate-800">{s.github_webhook_url}</code>
                   {if s.github_webhook_secret_set { " — secret set." } else { " with a secret, and put it in GITHUB_WEBHOOK_SECRET." }}</p>
            </Row>
            <Row label="Sign-in" ok=s.sign_in_configured>
                <p>{if s.sign_in_configured { "Buyers and creators can sign in with GitHub." } else { "Set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET from a GitHub OAuth app." }}</p>
            </Row>
            <Row label="Email" ok=s.email == "smtp">
                <p>{if s.email == "smtp" { "Emails are sent through your SMTP server." } else { "No SMTP_URL: emails are kept in the outbox and written to the log." }}</p>
            </Row>
        </div>
    }
}

/// RepoPass's webhook endpoint as Stripe has it, and a repair when it is wrong.
#[component]
fn StripeEndpoint(e: EndpointView, sandbox: bool) -> impl IntoView {
    let repair = ServerAction::<RepairStripeWebhook>::new();
    let events = e.events.join(", ");
    view! {
        <div data-testid="stripe-endpoint">
            <p>"Webhook endpoint " {e.id.clone().map(|id| view! { <code class="rounded bg-slate-100 px-1 dark:bg-slate-800">{id}</code> })}
               {e.url.clone().map(|u| view! { " → " <code class="break-all rounded bg-slate-100 px-1 dark:bg-slate-800">{u}</code> })}</p>
            {(!events.is_empty()).then(|| view! { <p class="break-words">"Events: " {events}</p> })}
            {e.problem.clone().map(|p| view! {
                <p role="alert" class="text-amber-700 dark:text-amber-400">{format!("Needs attention: {p}.")}</p>
                {(!sandbox).then(|| view! {
                    <ActionForm action=repair>
                        <button class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800"
                            disabled=move || repair.pending().get()>"Repair the webhook endpoint"</button>
                    </ActionForm>
                })}
            })}
            <div aria-live="polite">
                {move || repair.value().get().map(|r| match r {
                    Ok(id) => view! { <p class="text-green-700 dark:text-green-400">{format!("Created again as {id}. RepoPass restarts with it; reload this page in a moment.")}</p> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                })}
            </div>
        </div>
    }
}

/// Paste a (new) Stripe key: checked, its endpoint created, saved sealed.
#[component]
fn StripeKeyForm() -> impl IntoView {
    let connect = ServerAction::<ConnectStripe>::new();
    view! {
        <ActionForm action=connect attr:class="mt-2">
            <label class="block font-medium text-slate-800 dark:text-slate-200" for="stripe-key">"Connect a Stripe key (sk_… or rk_…)"</label>
            <input id="stripe-key" name="key" type="password" required autocomplete="off"
                class="mt-1 block w-full max-w-md rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950" />
            <button class="mt-2 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-60"
                disabled=move || connect.pending().get()>
                {move || if connect.pending().get() { "Checking the key…" } else { "Connect" }}
            </button>
        </ActionForm>
        <div aria-live="polite">
            {move || connect.value().get().map(|r| match r {
                Ok(c) => view! { <p class="text-green-700 dark:text-green-400">{format!("Connected to {}. RepoPass restarts with the new key; reload this page in a moment.", c.account)}</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="break-words text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
}
