use leptos::prelude::*;
use leptos_meta::Title;

use super::gate::AdminGate;
use crate::{
    api::webhooks::{
        webhooks_page, AddWebhookEndpoint, DeleteWebhookEndpoint, ResendWebhookDelivery, RotateWebhookSecret,
        SendWebhookTest, SetWebhookEndpointEnabled,
    },
    components::container::Container,
    time::format_utc,
    types::{BodyFormat, DeliveryState, DeliveryView, EventTypeOption, RevealedSecret, WebhookEndpointView},
};

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950";

/// `/admin/settings/webhooks`: where RepoPass tells the creator's tools
/// what happens, signed, with each delivery's log.
#[component]
pub fn AdminWebhooks() -> impl IntoView {
    view! {
        <Title text="Webhooks" />
        <AdminGate>
            <WebhooksBody />
        </AdminGate>
    }
}

/// The actions the page's forms use: any of them reloads the list.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddWebhookEndpoint>,
    rotate: ServerAction<RotateWebhookSecret>,
    test: ServerAction<SendWebhookTest>,
    enable: ServerAction<SetWebhookEndpointEnabled>,
    delete: ServerAction<DeleteWebhookEndpoint>,
    resend: ServerAction<ResendWebhookDelivery>,
}

#[component]
fn WebhooksBody() -> impl IntoView {
    let actions = Actions {
        add: ServerAction::new(),
        rotate: ServerAction::new(),
        test: ServerAction::new(),
        enable: ServerAction::new(),
        delete: ServerAction::new(),
        resend: ServerAction::new(),
    };
    // Bumped while a delivery is pending, so the log follows it.
    let tick = RwSignal::new(0u32);
    let page = Resource::new(
        move || {
            (
                actions.add.version().get(),
                actions.rotate.version().get(),
                actions.test.version().get(),
                actions.enable.version().get(),
                actions.delete.version().get(),
                actions.resend.version().get(),
                tick.get(),
            )
        },
        |_| webhooks_page(),
    );
    Effect::new(move |_| {
        let pending = page.get().and_then(Result::ok).is_some_and(|p| {
            p.endpoints
                .iter()
                .any(|e| e.deliveries.iter().any(|d| d.state == DeliveryState::Pending && d.next_attempt_at.is_none()))
        });
        if pending {
            set_timeout(move || tick.update(|n| *n += 1), std::time::Duration::from_millis(1000));
        }
    });
    view! {
        <Container>
            <p class="text-sm"><a href="/admin/settings" class="text-indigo-600 hover:underline dark:text-indigo-400">"← Settings"</a></p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">"Webhooks"</h1>
            <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">
                "RepoPass sends your tools what happens — sales, access granted and revoked, refunds, renewals — as signed JSON (the "
                <a class="text-indigo-600 underline dark:text-indigo-400" href="https://www.standardwebhooks.com/">"Standard Webhooks"</a>
                " format: verify with any of its libraries). Each payload is described in the API document's "
                <a class="text-indigo-600 underline dark:text-indigo-400" href="/api/v1/openapi.json">"webhooks section"</a> "."
            </p>
            <Transition fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! {
                            {(!p.creator_email_set).then(|| view! {
                                <p class="mt-4 text-sm text-amber-700 dark:text-amber-400" role="note">
                                    "Add your email under " <a class="underline" href="/admin/settings#notifications">"Settings → Notifications"</a>
                                    " to hear when an endpoint stops answering."
                                </p>
                            })}
                            <AddForm options=p.event_types.clone() bin=p.request_bin_url.clone() actions />
                            <Revealed actions />
                            {if p.endpoints.is_empty() {
                                view! { <p class="mt-8 text-slate-500 dark:text-slate-400" data-testid="no-endpoints">"No endpoints yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="mt-8 grid grid-cols-1 gap-6">
                                        {p.endpoints.into_iter().map(|e| view! { <Endpoint e actions /> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any(),
                        Err(err) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Container>
    }
}

#[component]
fn AddForm(options: Vec<EventTypeOption>, bin: Option<String>, actions: Actions) -> impl IntoView {
    let add = actions.add;
    view! {
        <section class="mt-8 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900" aria-labelledby="add-endpoint">
            <h2 id="add-endpoint" class="text-lg font-semibold">"Add an endpoint"</h2>
            <ActionForm action=add attr:class="mt-3 grid gap-3" attr:data-testid="add-endpoint">
                <label class="text-sm font-medium">"Endpoint URL"
                    <input name="url" type="url" required placeholder="https://example.com/repopass-webhooks" class=INPUT />
                </label>
                {bin.map(|bin| view! {
                    <p class="text-xs text-slate-500 dark:text-slate-400">"Sandbox: try the request bin, " <code class="break-all" data-testid="request-bin-url">{bin}</code> "."</p>
                })}
                <label class="text-sm font-medium">"Sends"
                    <select name="format" class=INPUT>
                        <option value="standard" selected>"signed JSON events (Standard Webhooks)"</option>
                        <option value="slack">"a message to a Slack incoming webhook"</option>
                        <option value="discord">"a message to a Discord webhook"</option>
                    </select>
                </label>
                <label class="text-sm font-medium">"Description (optional)"
                    <input name="description" maxlength="200" placeholder="e.g. licence server" class=INPUT />
                </label>
                <fieldset>
                    <legend class="text-sm font-medium">"Events (none ticked: every event; for Slack or Discord, sales and cancellations)"</legend>
                    <div class="mt-1 grid gap-1 sm:grid-cols-2">
                        {options.into_iter().map(|o| view! {
                            <label class="flex items-start gap-2 text-sm">
                                <input type="checkbox" name="event_types[]" value=o.value.clone() class="mt-1" />
                                <span><code class="text-xs">{o.value}</code> " — " {o.label}</span>
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <div><button class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                    disabled=move || add.pending().get()>"Add endpoint"</button></div>
            </ActionForm>
            {move || add.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="mt-3 break-words text-red-600 dark:text-red-400">{e.to_string()}</p> })}
        </section>
    }
}

/// The secret just made (added or rotated), shown this once.
#[component]
fn Revealed(actions: Actions) -> impl IntoView {
    let latest = Memo::new(move |_| {
        // Whichever of the two answered last.
        let added = actions.add.value().get().and_then(Result::ok);
        let rotated = actions.rotate.value().get().and_then(Result::ok);
        match (actions.add.version().get(), actions.rotate.version().get()) {
            (a, r) if r > a => rotated.or(added),
            _ => added.or(rotated),
        }
    });
    move || latest.get().map(|s| view! { <SecretPanel s /> })
}

#[component]
fn SecretPanel(s: RevealedSecret) -> impl IntoView {
    view! {
        <div class="mt-4 rounded-lg border border-green-300 bg-green-50 p-4 dark:border-green-800 dark:bg-green-950" role="status">
            <p class="font-medium break-words">"Signing secret for " <code>{s.url.clone()}</code> ". Copy it now: it will not be shown again."</p>
            <code class="mt-2 block break-all rounded bg-white p-2 font-mono text-sm dark:bg-slate-900" data-testid="signing-secret">{s.secret.clone()}</code>
            {s.request_bin.map(|bin| view! {
                // A plain form: the secret goes in the body, never in an address.
                <form method="post" action=format!("/sandbox/requests/{bin}/secret") class="mt-3">
                    <input type="hidden" name="secret" value=s.secret.clone() />
                    <button class=BUTTON>"Check signatures in the request bin"</button>
                </form>
            })}
        </div>
    }
}

#[component]
fn Endpoint(e: WebhookEndpointView, actions: Actions) -> impl IntoView {
    let id = e.id;
    let events = e.event_types.join(", ");
    let deliveries = e.deliveries.clone();
    view! {
        <li class="min-w-0 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900" data-testid="endpoint" data-url=e.url.clone()>
            <div class="flex flex-wrap items-center gap-2">
                <code class="break-all font-semibold">{e.url.clone()}</code>
                {if e.enabled {
                    view! { <span class="rounded bg-green-100 px-2 py-0.5 text-xs font-medium text-green-800 dark:bg-green-900 dark:text-green-200">"enabled"</span> }.into_any()
                } else {
                    view! { <span class="rounded bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800 dark:bg-red-900 dark:text-red-200" data-testid="endpoint-disabled">"disabled"</span> }.into_any()
                }}
            </div>
            {(!e.description.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{e.description.clone()}</p> })}
            <p class="mt-1 break-words text-sm text-slate-600 dark:text-slate-400">"Events: " {events}</p>
            {match e.format {
                BodyFormat::Standard => None,
                BodyFormat::Slack => Some("Sends a Slack message per event."),
                BodyFormat::Discord => Some("Sends a Discord message per event."),
            }.map(|words| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{words}</p> })}
            {e.disabled_reason.clone().map(|r| view! { <p class="mt-1 text-sm text-red-700 dark:text-red-400" role="note">{format!("Disabled: {r}.")}</p> })}
            {e.failing_since.filter(|_| e.enabled).map(|t| view! { <p class="mt-1 text-sm text-amber-700 dark:text-amber-400">{format!("Failing since {}; disabled after a day of failures.", format_utc(t))}</p> })}
            {e.previous_secret_until.map(|t| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{format!("The previous secret signs too until {}.", format_utc(t))}</p> })}
            <div class="mt-3 flex flex-wrap gap-2">
                <ActionForm action=actions.test>
                    <input type="hidden" name="id" value=id />
                    <button class=BUTTON disabled=!e.enabled>"Send test event"</button>
                </ActionForm>
                <ActionForm action=actions.rotate>
                    <input type="hidden" name="id" value=id />
                    <button class=BUTTON>"Rotate secret"</button>
                </ActionForm>
                <ActionForm action=actions.enable>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="enabled" value=if e.enabled { "false" } else { "true" } />
                    <button class=BUTTON>{if e.enabled { "Turn off" } else { "Turn on" }}</button>
                </ActionForm>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=id />
                    <button class=BUTTON>"Delete"</button>
                </ActionForm>
            </div>
            {move || actions.test.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{e.to_string()}</p> })}
            <h3 class="mt-5 text-sm font-semibold">"Deliveries"</h3>
            {if deliveries.is_empty() {
                view! { <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 grid grid-cols-1 gap-2" data-testid="deliveries">
                        {deliveries.into_iter().map(|d| view! { <Delivery d endpoint_id=id actions /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </li>
    }
}

#[component]
fn Delivery(d: DeliveryView, endpoint_id: i64, actions: Actions) -> impl IntoView {
    let (badge, colour) = match d.state {
        DeliveryState::Delivered => ("delivered", "bg-green-100 text-green-800 dark:bg-green-900 dark:text-green-200"),
        DeliveryState::Failed => ("failed", "bg-red-100 text-red-800 dark:bg-red-900 dark:text-red-200"),
        DeliveryState::Pending => ("pending", "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100"),
    };
    let last = d.attempts.last().map(|a| match a.status_code {
        Some(code) => format!("HTTP {code} in {} ms", a.duration_ms),
        None => format!("{} ({} ms)", a.error.clone().unwrap_or_default(), a.duration_ms),
    });
    view! {
        <li class="rounded-md border border-slate-200 text-sm dark:border-slate-800" data-testid="delivery" data-event=d.event_type.clone() data-state=d.state.words()>
            <details>
                <summary class="flex cursor-pointer flex-wrap items-center gap-2 p-2">
                    <span class=format!("rounded px-2 py-0.5 text-xs font-medium {colour}")>{badge}</span>
                    <code>{d.event_type.clone()}</code>
                    <span class="text-slate-500 dark:text-slate-400">{format_utc(d.created_at)}</span>
                    {last.map(|l| view! { <span class="text-slate-600 dark:text-slate-300" data-testid="last-attempt">{l}</span> })}
                    {d.next_attempt_at.map(|t| view! { <span class="text-amber-700 dark:text-amber-400">{format!("next try {}", format_utc(t))}</span> })}
                </summary>
                <div class="grid grid-cols-1 gap-2 border-t border-slate-200 p-2 dark:border-slate-800">
                    <p class="text-xs text-slate-500 dark:text-slate-400">"webhook-id " <code>{d.message_id.clone()}</code></p>
                    {d.last_error.clone().map(|e| view! { <p class="text-xs text-red-700 dark:text-red-400">{e}</p> })}
                    <p class="text-xs font-medium">"Request body"</p>
                    <pre tabindex="0" aria-label="Request body" class="max-h-64 overflow-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-950">{d.request_body.clone()}</pre>
                    <p class="text-xs font-medium">{format!("Attempts ({})", d.attempts.len())}</p>
                    <ol class="grid grid-cols-1 gap-1 text-xs">
                        {d.attempts.iter().map(|a| view! {
                            <li>
                                {format_utc(a.attempted_at)} " · "
                                {a.status_code.map(|c| format!("HTTP {c}")).or(a.error.clone()).unwrap_or_default()}
                                {format!(" · {} ms", a.duration_ms)}
                                {(!a.response_body.is_empty()).then(|| view! { <pre tabindex="0" aria-label="The answer" class="mt-1 overflow-auto rounded bg-slate-50 p-1 dark:bg-slate-950">{a.response_body.clone()}</pre> })}
                            </li>
                        }).collect_view()}
                    </ol>
                    <ActionForm action=actions.resend>
                        <input type="hidden" name="endpoint_id" value=endpoint_id />
                        <input type="hidden" name="delivery_id" value=d.id />
                        <button class=BUTTON>"Resend"</button>
                    </ActionForm>
                </div>
            </details>
        </li>
    }
}
