//! The prices section of a repository's page: what is on sale, change an
//! amount, take a price off sale, add one.

use leptos::prelude::*;

use crate::{
    api::prices::{AddPrice, ChangePrice, RemovePrice},
    money::{amount_input, format_amount},
    types::{PriceRow, RepoEdit},
};

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";
const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";

pub fn interval_label(interval: &str, period: bool) -> &'static str {
    match interval {
        "month" => "Monthly",
        "year" => "Yearly",
        _ if period => "One-time",
        _ => "One-time (lifetime access)",
    }
}

/// The actions of this section; the page refetches when any of them ran.
#[derive(Clone, Copy)]
pub struct PriceActions {
    pub add: ServerAction<AddPrice>,
    pub change: ServerAction<ChangePrice>,
    pub remove: ServerAction<RemovePrice>,
}

impl PriceActions {
    pub fn new() -> Self {
        PriceActions { add: ServerAction::new(), change: ServerAction::new(), remove: ServerAction::new() }
    }
    pub fn version(&self) -> usize {
        self.add.version().get() + self.change.version().get() + self.remove.version().get()
    }
}

#[component]
pub fn Prices(r: RepoEdit, actions: PriceActions) -> impl IntoView {
    let error = move || {
        [actions.add.value().get(), actions.change.value().get()]
            .into_iter()
            .flatten()
            .find_map(|r| r.err())
            .or_else(|| actions.remove.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    let currencies = r.currencies.clone();
    let personal = !r.owner_is_org;
    // Hidden for one-time prices (see the label); emptied when one-time is
    // chosen, so a trial typed for a subscription is not sent with it.
    let trial_input = NodeRef::<leptos::html::Input>::new();
    let reset_trial = move |ev: leptos::ev::Event| {
        if event_target_value(&ev) == "one_time" {
            if let Some(input) = trial_input.get() {
                input.set_value("0");
            }
        }
    };
    view! {
        <section id="prices" class="mt-10 border-t border-slate-200 pt-6 dark:border-slate-800">
            <h2 class="text-xl font-semibold">"Prices"</h2>
            {personal.then(|| view! {
                <p data-testid="personal-warning" class="mt-2 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
                    "This is a personal repository: GitHub gives every collaborator write (push) access, whatever permission you choose here. "
                    "Move it to an organisation to sell read-only access."
                </p>
            })}
            {if r.prices.is_empty() {
                view! { <p class="mt-3 text-slate-600 dark:text-slate-400">"No prices yet: buyers cannot purchase until you add one."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 divide-y divide-slate-200 dark:divide-slate-800" data-testid="price-list">
                        {r.prices.iter().cloned().map(|p| view! { <PriceItem p actions personal /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {move || error().map(|e| view! { <p role="alert" class="mt-3 text-red-600 dark:text-red-400">{e}</p> })}
            <ActionForm action=actions.add attr:class="group mt-6 grid gap-3 md:grid-cols-6 md:items-end" attr:data-testid="add-price">
                <input type="hidden" name="repository_id" value=r.id />
                <label class="text-sm font-medium md:col-span-2">"Billing"
                    <select name="price[interval]" class=INPUT on:change=reset_trial>
                        <option value="one_time" class="one-time">"One-time (lifetime access)"</option>
                        <option value="month">"Monthly"</option>
                        <option value="year">"Yearly"</option>
                    </select>
                </label>
                <label class="text-sm font-medium">"Amount" <input name="price[amount]" required inputmode="decimal" placeholder="49.00" class=INPUT /></label>
                <label class="text-sm font-medium">"Currency"
                    <select name="price[currency]" class=INPUT>
                        {currencies.into_iter().map(|c| { let label = c.to_uppercase(); view! { <option value=c>{label}</option> } }).collect_view()}
                    </select>
                </label>
                // Trials are for subscriptions: hidden while one-time is chosen (CSS, so without JavaScript too).
                <label class="text-sm font-medium group-has-[.one-time:checked]:hidden" data-testid="trial-days">"Trial days" <input name="price[trial_days]" type="number" min="0" max="730" value="0" class=INPUT node_ref=trial_input /></label>
                // One-time prices only (hidden otherwise, by CSS): the buyer may
                // name the amount, and access may last a period.
                <label class="hidden text-sm font-medium group-has-[.one-time:checked]:block">"Price"
                    <select name="price[pricing]" class=INPUT>
                        <option value="fixed">"Fixed amount"</option>
                        <option value="pay_what_you_want">"Pay what you want (amount = minimum)"</option>
                    </select>
                </label>
                <label class="hidden text-sm font-medium group-has-[.one-time:checked]:block">"Suggested amount"
                    <input name="price[suggested_amount]" inputmode="decimal" placeholder="15.00" class=INPUT aria-describedby="suggested-help" />
                    <span id="suggested-help" class="block text-xs font-normal text-slate-500 dark:text-slate-400">"Pay what you want only; empty: the minimum"</span>
                </label>
                <label class="hidden text-sm font-medium group-has-[.one-time:checked]:block">"Access for (days)"
                    <input name="price[access_days]" type="number" min="1" max="3650" placeholder="365" class=INPUT aria-describedby="access-days-help" />
                    <span id="access-days-help" class="block text-xs font-normal text-slate-500 dark:text-slate-400">"Empty: access does not end"</span>
                </label>
                <label class="text-sm font-medium">"Sold"
                    <select name="price[sold]" class=INPUT data-testid="price-sold">
                        <option value="one">"One purchase, one person"</option>
                        <option value="per_seat">"Per seat (teams)"</option>
                    </select>
                </label>
                <label class="text-sm font-medium">"Seats (fewest–most)"
                    <span class="flex gap-2">
                        <input name="price[seats_min]" type="number" min="1" max="999" placeholder="1" class=INPUT aria-label="Fewest seats" />
                        <input name="price[seats_max]" type="number" min="1" max="999" placeholder="999" class=INPUT aria-label="Most seats" />
                    </span>
                    <span class="block text-xs font-normal text-slate-500 dark:text-slate-400">"Per seat only"</span>
                </label>
                <label class="text-sm font-medium">"Access"
                    <select name="price[permission]" class=INPUT>
                        <option value="pull">"Read (pull)"</option>
                        <option value="triage">"Triage"</option>
                        <option value="push">"Write (push)"</option>
                        <option value="maintain">"Maintain"</option>
                    </select>
                </label>
                <div class="md:col-span-6"><button class="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">"Add price"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PriceItem(p: PriceRow, actions: PriceActions, personal: bool) -> impl IntoView {
    let trial = (p.trial_days > 0).then(|| format!(" · {}-day trial", p.trial_days));
    let model = match (p.pay_what_you_want, p.suggested_amount) {
        (true, Some(s)) => {
            Some(format!(" · pay what you want, at least this, {} suggested", format_amount(s, &p.currency)))
        }
        (true, None) => Some(" · pay what you want, at least this".to_owned()),
        _ => None,
    };
    let period = p.access_days.map(|d| format!(" · {} of access", crate::pages::product::period_words(d)));
    let seats = p.seats.map(|(min, max)| format!(" · per seat, {min} to {max} seats"));
    // What the buyer really gets: GitHub gives every collaborator of a
    // personal repository write access, whatever the price says.
    let access = if personal {
        "read and write access (personal repository)".to_owned()
    } else {
        format!("{} access", p.permission)
    };
    let per = match p.interval.as_str() {
        "month" => " / month",
        "year" => " / year",
        _ => "",
    };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-3" data-testid="price">
            <div>
                <span class="font-medium">{format_amount(p.amount, &p.currency)}{per}</span>
                <span class="text-sm text-slate-500 dark:text-slate-400">" · " {interval_label(&p.interval, p.access_days.is_some())} {trial} {model} {period} {seats} " · " <span data-testid="price-access">{access}</span></span>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                <ActionForm action=actions.change attr:class="flex items-center gap-2">
                    <input type="hidden" name="id" value=p.id />
                    <input type="hidden" name="price[interval]" value=p.interval.clone() />
                    <input type="hidden" name="price[currency]" value=p.currency.clone() />
                    <input type="hidden" name="price[trial_days]" value=p.trial_days />
                    <input type="hidden" name="price[permission]" value=p.permission.clone() />
                    <input type="hidden" name="price[pricing]" value={if p.pay_what_you_want { "pay_what_you_want" } else { "fixed" }} />
                    <input type="hidden" name="price[suggested_amount]" value={p.suggested_amount.map(|s| amount_input(s, &p.currency)).unwrap_or_default()} />
                    <input type="hidden" name="price[access_days]" value={p.access_days.map(|d| d.to_string()).unwrap_or_default()} />
                    <input type="hidden" name="price[sold]" value={if p.seats.is_some() { "per_seat" } else { "one" }} />
                    <input type="hidden" name="price[seats_min]" value={p.seats.map(|(m, _)| m.to_string()).unwrap_or_default()} />
                    <input type="hidden" name="price[seats_max]" value={p.seats.map(|(_, m)| m.to_string()).unwrap_or_default()} />
                    <label class="sr-only" for=format!("amount-{}", p.id)>"New amount"</label>
                    <input id=format!("amount-{}", p.id) name="price[amount]" value=amount_input(p.amount, &p.currency) inputmode="decimal"
                        class="w-28 rounded-md border border-slate-300 px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900" />
                    <button class=BUTTON title="Creates a new Stripe price; current subscribers keep theirs">"Change amount"</button>
                </ActionForm>
                <ActionForm action=actions.remove>
                    <input type="hidden" name="id" value=p.id />
                    <button class=BUTTON>"Stop selling"</button>
                </ActionForm>
            </div>
        </li>
    }
}
