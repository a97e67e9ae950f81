//! `/account`: the customer's billing portal. Sign in (GitHub, or a one-time
//! link by email), see every purchase in words, resend an invitation, move
//! access to another GitHub account, open Stripe's billing portal. Plain
//! forms throughout: all of it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        account::{account_overview, ManageBilling, MoveAccess, RequestSignInLink, ResendInvitation},
        team::confirm_added_seats,
    },
    components::{
        action_result::{error_of, on_success},
        container::Container,
        repo_access::RepoAccessList,
    },
    pages::account_team::TeamPanel,
    types::{Account, AccountPurchase},
};

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const PRIMARY: &str =
    "rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-500 disabled:opacity-60";
const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";

#[component]
pub fn AccountPage() -> impl IntoView {
    // Bumped after an action succeeds: the purchases are read again.
    let version = RwSignal::new(0_u32);
    let notice: RwSignal<Option<String>> = RwSignal::new(None);
    // Back from paying for added seats: Stripe is asked first (its webhook
    // may be late), so the page shows the seats just bought.
    let query = use_query_map();
    let seats_paid = move || query.with(|q| q.get("seats_paid"));
    let account = Resource::new(
        move || (version.get(), seats_paid()),
        |(v, paid)| async move {
            let confirmed = match paid {
                Some(session) if v == 0 => Some(confirm_added_seats(session).await),
                _ => None,
            };
            (confirmed, account_overview().await)
        },
    );
    view! {
        <Title text="Your purchases" />
        <Container class="max-w-3xl">
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (confirmed, overview) = account.await;
                    match confirmed {
                        Some(Ok(said)) => notice.set(Some(said)),
                        Some(Err(e)) => notice.set(Some(e.to_string())),
                        None => {}
                    }
                    match overview {
                        Ok(Some(a)) => view! { <Purchases a version notice /> }.into_any(),
                        Ok(None) => view! { <SignIn /> }.into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-600 dark:text-red-400">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Container>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let query = use_query_map();
    let sent_without_js = move || query.with(|q| q.get("link").as_deref() == Some("sent"));
    let request = ServerAction::<RequestSignInLink>::new();
    let sent = move || sent_without_js() || matches!(request.value().get(), Some(Ok(())));
    let error = move || match request.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <h1 class="text-3xl font-bold tracking-tight">"Your purchases"</h1>
        <p class="mt-2 text-slate-600 dark:text-slate-400">
            "Sign in to see what you bought, resend an invitation, move access to another GitHub account or manage your billing."
        </p>
        <div class="mt-8 grid gap-6 sm:grid-cols-2">
            <section class="rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900">
                <h2 class="font-semibold">"With GitHub"</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Use the GitHub account that has (or should have) access."</p>
                <a href="/account/sign-in/github" rel="external" data-testid="account-github-sign-in"
                    class="mt-4 inline-flex rounded-md bg-slate-900 px-4 py-2 font-medium text-white hover:bg-slate-700 dark:bg-white dark:text-slate-900">
                    "Sign in with GitHub"
                </a>
            </section>
            <section class="rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900">
                <h2 class="font-semibold">"With your email"</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"We email a sign-in link to the address you paid with. It works once, for 15 minutes."</p>
                <ActionForm action=request attr:class="mt-3">
                    <label class="block text-sm font-medium">"Email"
                        <input name="email" type="email" required autocomplete="email" placeholder="you@example.com" class=INPUT />
                    </label>
                    <button class=format!("mt-3 {PRIMARY}") disabled=move || request.pending().get()>"Email me a link"</button>
                </ActionForm>
                {move || sent().then(|| view! {
                    <p role="status" class="mt-3 text-sm text-green-700 dark:text-green-400" data-testid="link-sent">
                        "If a purchase was made with this address, a sign-in link is on its way. Check your inbox."
                    </p>
                })}
                {move || error().map(|m| view! { <p role="alert" class="mt-3 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            </section>
        </div>
    }
}

#[component]
fn Purchases(a: Account, version: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let empty = a.purchases.is_empty();
    view! {
        <div class="flex flex-wrap items-baseline justify-between gap-4">
            <h1 class="text-3xl font-bold tracking-tight">"Your purchases"</h1>
            <form method="post" action="/auth/logout">
                <button class="text-sm text-slate-600 underline dark:text-slate-400">"Sign out"</button>
            </form>
        </div>
        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400" data-testid="signed-in-as">
            "Signed in as " {a.signed_in_as.join(" and ")} "."
            {a.can_add_github.then(|| view! {
                " Purchases made for a GitHub account with another email show after you "
                <a href="/account/sign-in/github" rel="external" class="underline">"sign in with GitHub"</a> " too."
            })}
        </p>
        {move || notice.get().map(|m| view! {
            <p role="status" data-testid="notice" class="mt-4 rounded-md bg-green-50 p-3 text-green-900 dark:bg-green-950 dark:text-green-200">{m}</p>
        })}
        {empty.then(|| view! {
            <p class="mt-8 rounded-xl border border-slate-200 p-5 dark:border-slate-800" data-testid="no-purchases">
                "No purchases for this account yet. Bought with another GitHub account or email? Sign out and sign in with that one."
            </p>
        })}
        <div class="mt-8 grid gap-5">
            {a.purchases.into_iter().map(|p| view! { <PurchaseCard p version notice /> }).collect_view()}
        </div>
    }
}

#[component]
fn PurchaseCard(p: AccountPurchase, version: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let resend = ServerAction::<ResendInvitation>::new();
    let moving = ServerAction::<MoveAccess>::new();
    let billing = ServerAction::<ManageBilling>::new();
    let names = p.repositories.iter().map(|r| r.full_name.clone()).collect::<Vec<_>>().join(", ");
    let name = names.clone();
    on_success(
        move || resend.value().get(),
        version,
        notice,
        move |_| format!("A new invitation to {name} is on its way: accept it on GitHub."),
    );
    let name = names.clone();
    on_success(
        move || moving.value().get(),
        version,
        notice,
        move |_| format!("Access to {name} moved. The new account has been invited."),
    );
    // Stripe's portal is another site: a full page load.
    Effect::new(move |_| {
        if let Some(Ok(url)) = billing.value().get() {
            let _ = window().location().set_href(&url);
        }
    });
    let resend_error = move || error_of(resend.value().get());
    let move_error = move || error_of(moving.value().get());
    let billing_error = move || error_of(billing.value().get());
    let (resend_id, billing_id, move_id) = (p.id.clone(), p.id.clone(), p.id.clone());
    view! {
        <article class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="purchase" data-status=p.status.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div>
                    <h2 class="text-lg font-semibold"><a href=p.product_url.clone() class="hover:underline">{p.title.clone()}</a></h2>
                    <p class="font-mono text-sm text-slate-600 dark:text-slate-400">{names.clone()}</p>
                </div>
                <p class="text-sm font-medium">{p.price_text.clone()}</p>
            </div>
            <p class="mt-3 font-medium" data-testid="purchase-status">{p.headline.clone()}</p>
            {p.when.clone().map(|w| view! { <p class="text-sm text-slate-600 dark:text-slate-400" data-testid="purchase-when">{w}</p> })}
            {p.ending_soon.clone().map(|notice| {
                let several = p.repositories.len() > 1;
                let downloads = p.repositories.iter().map(|r| {
                    let label = if several { format!("Download {} (zip)", r.full_name) } else { "Download the code (zip)".to_owned() };
                    view! { " " <a href=r.download_url.clone() rel="external noopener" class="font-medium underline">{label}</a> }
                }).collect_view();
                let renew = p.renew_url.clone().map(|url| view! {
                    " " <a href=url data-testid="renew" class="font-medium underline">"Buy another period (it starts when this one ends)"</a>
                });
                view! {
                    <p role="status" class="mt-2 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="ending-soon">
                        {notice} {downloads} {renew}
                    </p>
                }
            })}
            {match (&p.team, &p.given_by) {
                (Some(_), _) => view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Bought by " <span class="font-mono" data-testid="purchase-login">"@"{p.github_login.clone()}</span> " for a team"</p>
                }.into_any(),
                (None, Some(by)) => view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="seat-of">
                        "A seat of " <span class="font-mono">"@"{by.clone()}</span> "'s team purchase, for "
                        <span class="font-mono" data-testid="purchase-login">"@"{p.github_login.clone()}</span>
                        ". Its managers hand out the seats."
                    </p>
                }.into_any(),
                (None, None) => view! {
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"GitHub account: " <span class="font-mono" data-testid="purchase-login">"@"{p.github_login.clone()}</span></p>
                }.into_any(),
            }}
            {(p.repositories.len() > 1 && p.team.is_none()).then(|| view! { <RepoAccessList repositories=p.repositories.clone() /> })}
            {p.team.clone().filter(|t| t.manager).map(|t| view! { <TeamPanel t version notice /> })}
            {p.invitation_url.clone().map(|url| view! {
                <p class="mt-2 text-sm">
                    <a href=url rel="external" data-testid="accept-link" class="font-medium text-indigo-600 underline dark:text-indigo-400">"Accept the invitation on GitHub"</a>
                </p>
            })}
            {p.can_open.then(|| {
                let several = p.repositories.len() > 1;
                p.repositories.iter().map(|r| {
                    let label = if several { format!("Open {} on GitHub", r.full_name) } else { "Open on GitHub".to_owned() };
                    view! { <p class="mt-2 text-sm"><a href=r.url.clone() rel="external" class="font-medium text-indigo-600 underline dark:text-indigo-400">{label}</a></p> }
                }).collect_view()
            })}
            <div class="mt-4 flex flex-wrap gap-3">
                {p.can_resend.then(|| view! {
                    <ActionForm action=resend>
                        <input type="hidden" name="id" value=resend_id />
                        <button class=BUTTON disabled=move || resend.pending().get()>
                            {move || if resend.pending().get() { "Sending…" } else { "Resend invitation" }}
                        </button>
                    </ActionForm>
                })}
                {p.can_manage_billing.then(|| view! {
                    <ActionForm action=billing>
                        <input type="hidden" name="id" value=billing_id />
                        <button class=BUTTON disabled=move || billing.pending().get()>
                            {move || if billing.pending().get() { "Opening…" } else { "Manage billing" }}
                        </button>
                    </ActionForm>
                })}
            </div>
            {move || resend_error().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            {move || billing_error().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400">{m}</p> })}
            {p.can_move.then(|| view! {
                <details class="mt-4 rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid="move">
                    <summary class="cursor-pointer text-sm font-medium">"Move access to another GitHub account"</summary>
                    <ActionForm action=moving attr:class="mt-3">
                        <input type="hidden" name="id" value=move_id />
                        <label class="block text-sm">"New GitHub username"
                            <input name="github_username" required spellcheck="false" autocomplete="off" placeholder="octocat" class=INPUT />
                        </label>
                        <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">"The current account loses access and the new one is invited. You can move access once every 30 days."</p>
                        // Asked first (works without JavaScript): the move cannot be undone for 30 days.
                        <label class="mt-2 flex items-start gap-2 text-sm">
                            <input type="checkbox" required class="mt-1" data-testid="move-confirm" />
                            <span>{format!("I understand: @{current} loses access now, and access can move again only in 30 days.", current = p.github_login)}</span>
                        </label>
                        <button class=format!("mt-3 {BUTTON}") disabled=move || moving.pending().get()>
                            {move || if moving.pending().get() { "Moving…" } else { "Move access" }}
                        </button>
                    </ActionForm>
                    {move || move_error().map(|m| view! { <p role="alert" class="mt-2 text-sm text-red-600 dark:text-red-400" data-testid="move-error">{m}</p> })}
                </details>
            })}
            {p.move_after.clone().map(|day| view! { <p class="mt-3 text-xs text-slate-500 dark:text-slate-400">"Access was moved recently; it can move again on " {day} "."</p> })}
        </article>
    }
}
