//! `/admin/customers/:id`: one customer (a GitHub account) — every purchase
//! with its whole access-log timeline, and the actions: revoke (with a
//! reason), restore, resend the invitation, refund. Each asks to be
//! confirmed (a disclosure, which works without JavaScript), says it is
//! working while it works, and lands in the timeline.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::gate::AdminGate;
use crate::{
    api::customers::{
        get_customer, AdminPurchase, RefundPurchase, ResendPurchaseInvitation, RestorePurchase, RevokePurchase,
    },
    components::{
        action_result::{error_of, on_success},
        container::Container,
        repo_access::RepoAccessList,
    },
};

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const DANGER: &str =
    "rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-500 disabled:opacity-60";
const INPUT: &str =
    "mt-1 w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900";

#[component]
pub fn AdminCustomer() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let version = RwSignal::new(0_u32);
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    let customer = Resource::new(move || (id(), version.get()), |(id, _)| get_customer(id));
    view! {
        <Title text="Customer" />
        <AdminGate>
            <Container>
                <a href="/admin/customers" class="text-sm text-slate-600 underline dark:text-slate-400">"← Customers"</a>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match customer.await {
                            Err(e) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                            Ok(c) => view! {
                                <h1 class="mt-2 text-3xl font-bold tracking-tight">"@"{c.github_login.clone()}</h1>
                                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{format!("GitHub id {} · {}", c.github_user_id, c.emails.join(", "))}</p>
                                {move || notice.get().map(|m| view! { <p role="status" data-testid="notice" class="mt-4 rounded-md bg-green-50 p-3 text-green-900 dark:bg-green-950 dark:text-green-200">{m}</p> })}
                                <div class="mt-6 grid gap-6">
                                    {c.purchases.into_iter().map(|p| view! { <PurchasePanel p version notice /> }).collect_view()}
                                </div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </Container>
        </AdminGate>
    }
}

#[component]
fn PurchasePanel(p: AdminPurchase, version: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let revoke = ServerAction::<RevokePurchase>::new();
    let restore = ServerAction::<RestorePurchase>::new();
    let resend = ServerAction::<ResendPurchaseInvitation>::new();
    let refund = ServerAction::<RefundPurchase>::new();
    let repo = p.repository.clone();
    on_success(move || revoke.value().get(), version, notice, {
        let r = repo.clone();
        move |_| format!("Access to {r} revoked.")
    });
    on_success(move || restore.value().get(), version, notice, {
        let r = repo.clone();
        move |_| format!("Access to {r} restored: a new invitation is out.")
    });
    on_success(move || resend.value().get(), version, notice, {
        let r = repo.clone();
        move |_| format!("A new invitation to {r} is out.")
    });
    on_success(move || refund.value().get(), version, notice, |m: &String| m.clone());
    // Done: the refund form closes and forgets its amount.
    let (refund_box, refund_form) = (NodeRef::<leptos::html::Details>::new(), NodeRef::<leptos::html::Form>::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = refund.value().get() {
            if let Some(details) = refund_box.get_untracked() {
                details.set_open(false);
            }
            if let Some(form) = refund_form.get_untracked() {
                form.reset();
            }
        }
    });
    let errors = move || {
        [
            error_of(revoke.value().get()),
            error_of(restore.value().get()),
            error_of(resend.value().get()),
            error_of(refund.value().get()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
    };
    let id = p.id.to_string();
    let (id1, id2, id3, id4) = (id.clone(), id.clone(), id.clone(), id);
    view! {
        <article class="rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900" data-testid="admin-purchase" data-status=p.status.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-3">
                <h2 class="text-lg font-semibold">{p.repository.clone()}</h2>
                <span class="text-sm">
                    {p.price_text.clone()}
                    {p.refunded_text.clone().map(|r| view! { " · " <span data-testid="refunded" class="text-amber-700 dark:text-amber-400">{r}</span> })}
                </span>
            </div>
            <p class="mt-1 text-sm">
                "Status: " <strong data-testid="admin-status">{p.status.clone()}</strong>
                {p.status_reason.clone().map(|r| view! { <span class="text-slate-600 dark:text-slate-400">" — " {r}</span> })}
            </p>
            {p.seat_of.clone().map(|(login, id)| view! {
                <p class="mt-1 text-sm" data-testid="admin-seat-of">
                    "A seat of " <a class="underline" href=format!("/admin/customers/{id}")>"@"{login}</a> "'s team purchase"
                </p>
            })}
            {match p.team.clone() {
                Some(t) => view! {
                    <div class="mt-2 text-sm" data-testid="admin-team">
                        <p>"Team purchase: " <span data-testid="admin-seats">{t.seats_text}</span> " · managed by " {t.managers.join(", ")}</p>
                        <ul class="mt-1 list-disc pl-5">
                            {t.holders.into_iter().map(|(login, id, status)| view! {
                                <li data-testid="admin-holder"><a class="underline" href=format!("/admin/customers/{id}")>"@"{login}</a> " — " {status}</li>
                            }).collect_view()}
                        </ul>
                    </div>
                }.into_any(),
                None => view! { <RepoAccessList repositories=p.repositories.clone() /> }.into_any(),
            }}
            <div class="mt-4 flex flex-wrap items-start gap-3">
                {p.can_revoke.then(|| view! {
                    <details class="rounded-md border border-slate-200 p-2 dark:border-slate-700">
                        <summary class="cursor-pointer text-sm font-medium">"Revoke access…"</summary>
                        <ActionForm action=revoke attr:class="mt-2 w-64 max-w-full">
                            <input type="hidden" name="id" value=id1 />
                            <label class="block text-sm">"Reason (shown in the history)"
                                <input name="reason" required maxlength="200" placeholder="e.g. abuse of the licence" class=INPUT />
                            </label>
                            <button class=format!("mt-2 {DANGER}") disabled=move || revoke.pending().get()>{move || if revoke.pending().get() { "Revoking…" } else { "Confirm revoke" }}</button>
                        </ActionForm>
                    </details>
                })}
                {p.can_restore.then(|| view! {
                    <details class="rounded-md border border-slate-200 p-2 dark:border-slate-700">
                        <summary class="cursor-pointer text-sm font-medium">"Restore access…"</summary>
                        <ActionForm action=restore attr:class="mt-2">
                            <input type="hidden" name="id" value=id2 />
                            <p class="text-sm text-slate-600 dark:text-slate-400">"GitHub invites the account again."</p>
                            <button class=format!("mt-2 {BUTTON}") disabled=move || restore.pending().get()>{move || if restore.pending().get() { "Restoring…" } else { "Confirm restore" }}</button>
                        </ActionForm>
                    </details>
                })}
                {p.can_resend.then(|| view! {
                    <details class="rounded-md border border-slate-200 p-2 dark:border-slate-700">
                        <summary class="cursor-pointer text-sm font-medium">"Resend invitation…"</summary>
                        <ActionForm action=resend attr:class="mt-2">
                            <input type="hidden" name="id" value=id3 />
                            <button class=BUTTON disabled=move || resend.pending().get()>{move || if resend.pending().get() { "Sending…" } else { "Confirm resend" }}</button>
                        </ActionForm>
                    </details>
                })}
                {p.can_refund.then(|| view! {
                    <details class="rounded-md border border-slate-200 p-2 dark:border-slate-700" node_ref=refund_box>
                        <summary class="cursor-pointer text-sm font-medium">"Refund…"</summary>
                        <ActionForm action=refund node_ref=refund_form attr:class="mt-2 w-64 max-w-full">
                            <input type="hidden" name="id" value=id4 />
                            <label class="block text-sm">{format!("Amount in {} (empty: all that is left)", p.currency.to_uppercase())}
                                <input name="amount" inputmode="decimal" placeholder="all" class=INPUT />
                            </label>
                            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"Through Stripe. A full refund of a one-time purchase also ends its access."</p>
                            <button class=format!("mt-2 {DANGER}") disabled=move || refund.pending().get()>{move || if refund.pending().get() { "Refunding…" } else { "Confirm refund" }}</button>
                        </ActionForm>
                    </details>
                })}
            </div>
            {move || errors().into_iter().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> }).collect_view()}
            <h3 class="mt-5 text-sm font-semibold">"History"</h3>
            <ol class="mt-2 grid gap-2 border-l border-slate-200 pl-4 text-sm dark:border-slate-700" data-testid="timeline">
                {p.timeline.into_iter().map(|t| { let key = t.action.clone(); view! {
                    <li data-action=key>
                        <span class="font-medium">{t.action}</span> " · " {t.change} " · by " <span title=t.reference.unwrap_or_default()>{t.cause}</span>
                        {t.repository.map(|r| view! { " · " <span class="font-mono">{r}</span> })}
                        {t.detail.map(|d| view! { <div class="text-slate-600 dark:text-slate-400">{d}</div> })}
                        <div class="text-xs text-slate-500 dark:text-slate-400">{t.at}</div>
                    </li>
                }}).collect_view()}
            </ol>
        </article>
    }
}
