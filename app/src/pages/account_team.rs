//! A team purchase's seats on `/account`, for its managers: who holds a
//! seat and where their access stands, give a seat, take one back, resend
//! an invitation, change the number of seats, appoint another manager.
//! Plain forms: all of it works without JavaScript.

use leptos::prelude::*;

use crate::{
    api::team::{AppointManager, ChangeSeats, GiveSeat, ResendSeatInvitation, TakeSeatBack},
    components::{
        action_result::{error_of, on_success},
        repo_access::RepoAccessList,
    },
    types::{SeatChanges, SeatHolder, SeatsAnswer, TeamSeats},
};

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900";
const ALERT: &str = "mt-2 text-sm text-red-600 dark:text-red-400";

#[component]
pub fn TeamPanel(t: TeamSeats, version: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let give = ServerAction::<GiveSeat>::new();
    let change = ServerAction::<ChangeSeats>::new();
    let appoint = ServerAction::<AppointManager>::new();
    on_success(
        move || give.value().get(),
        version,
        notice,
        |login| format!("@{login} has a seat: GitHub has sent them an invitation."),
    );
    on_success(
        move || change.value().get(),
        version,
        notice,
        |answer| match answer {
            SeatsAnswer::Said(said) => said.clone(),
            SeatsAnswer::PayAt(_) => "Opening Stripe Checkout for the added seats…".to_owned(),
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(SeatsAnswer::PayAt(url))) = change.value().get() {
            let _ = window().location().set_href(&url);
        }
    });
    on_success(
        move || appoint.value().get(),
        version,
        notice,
        |login| format!("@{login} can now manage the seats too."),
    );
    let counts = match (t.seats_next, &t.seats_next_when) {
        (Some(next), Some(when)) => format!("{} of {} seats in use; {next} seats {when}", t.in_use, t.seats),
        _ => format!("{} of {} seats in use, {} free", t.in_use, t.seats, t.free),
    };
    let full = t.free == 0;
    let (id, give_id, change_id, appoint_id) = (t.id.clone(), t.id.clone(), t.id.clone(), t.id.clone());
    let (in_force, seat_changes, seats_min, seats_max) = (t.in_force, t.seat_changes, t.seats_min, t.seats_max);
    let how_seats_change = match seat_changes {
        SeatChanges::Prorated => {
            "More seats apply now and are charged for the rest of this period; fewer apply from the next renewal."
        }
        SeatChanges::PaidOnce => {
            "Added seats are paid once, through Stripe Checkout, and apply as soon as the payment is made. A one-time purchase keeps the seats it paid for."
        }
    };
    let seats_now = t.seats_next.unwrap_or(t.seats);
    let managers = t.managers.iter().map(|m| format!("@{m}")).collect::<Vec<_>>().join(", ");
    view! {
        <section class="mt-4 rounded-md border border-slate-200 p-4 dark:border-slate-700" data-testid="team">
            <h3 class="font-semibold">"Seats"</h3>
            <p class="text-sm" data-testid="seat-counts">{counts}</p>
            {(t.over > 0).then(|| view! {
                <p role="status" class="mt-2 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="seats-over">
                    {format!("{} people hold the team's {} seats: take {} back (or add seats). Nobody loses access until you choose.", t.in_use, t.seats, t.over)}
                </p>
            })}
            <ul class="mt-3 grid gap-3" data-testid="holders">
                {t.holders.into_iter().map(|h| view! { <Holder h team=id.clone() version notice /> }).collect_view()}
            </ul>
            {in_force.then(|| view! {
                <ActionForm action=give attr:class="mt-4" attr:data-testid="give-seat">
                    <input type="hidden" name="id" value=give_id />
                    <label class="block text-sm font-medium">"Give a seat to (GitHub username)"
                        <input name="github_username" required spellcheck="false" autocomplete="off" placeholder="octocat" class=INPUT />
                    </label>
                    <button class=format!("mt-2 {BUTTON}") disabled=move || give.pending().get() || full>
                        {move || if give.pending().get() { "Inviting…" } else { "Give a seat" }}
                    </button>
                    {full.then(|| view! { <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"Every seat is in use: add a seat or take one back first."</p> })}
                    {move || error_of(give.value().get()).map(|m| view! { <p role="alert" class=ALERT data-testid="give-error">{m}</p> })}
                </ActionForm>
            })}
            {in_force.then(|| view! {
                <ActionForm action=change attr:class="mt-4" attr:data-testid="change-seats">
                    <input type="hidden" name="id" value=change_id />
                    <label class="block text-sm font-medium">"Number of seats"
                        <input name="seats" type="number" required min=seats_min max=seats_max value=seats_now class=INPUT />
                    </label>
                    <p class="mt-1 text-xs text-slate-600 dark:text-slate-400" data-testid="how-seats-change">{how_seats_change}</p>
                    <button class=format!("mt-2 {BUTTON}") disabled=move || change.pending().get()>
                        {move || if change.pending().get() { "Changing…" } else { "Change seats" }}
                    </button>
                    {move || error_of(change.value().get()).map(|m| view! { <p role="alert" class=ALERT data-testid="change-error">{m}</p> })}
                </ActionForm>
            })}
            <details class="mt-4 text-sm">
                <summary class="cursor-pointer font-medium">"Managers: " {managers}</summary>
                <ActionForm action=appoint attr:class="mt-2" attr:data-testid="appoint">
                    <input type="hidden" name="id" value=appoint_id />
                    <label class="block">"Appoint another manager (GitHub username)"
                        <input name="github_username" required spellcheck="false" autocomplete="off" class=INPUT />
                    </label>
                    <button class=format!("mt-2 {BUTTON}") disabled=move || appoint.pending().get()>"Appoint"</button>
                    {move || error_of(appoint.value().get()).map(|m| view! { <p role="alert" class=ALERT>{m}</p> })}
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn Holder(h: SeatHolder, team: String, version: RwSignal<u32>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let take_back = ServerAction::<TakeSeatBack>::new();
    let resend = ServerAction::<ResendSeatInvitation>::new();
    on_success(
        move || take_back.value().get(),
        version,
        notice,
        |login| format!("@{login}'s seat is free again; their access was removed."),
    );
    on_success(
        move || resend.value().get(),
        version,
        notice,
        |login| format!("A new invitation is on its way to @{login}."),
    );
    let several = h.repositories.len() > 1;
    let (team2, seat1, seat2) = (team.clone(), h.id.clone(), h.id.clone());
    view! {
        <li class="rounded-md bg-slate-50 p-3 dark:bg-slate-800/50" data-testid="holder" data-login=h.github_login.clone() data-status=h.status.clone()>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <span><span class="font-mono">"@"{h.github_login.clone()}</span> " — " <span data-testid="holder-state">{h.headline.clone()}</span></span>
                <span class="flex gap-2">
                    {h.can_resend.then(|| view! {
                        <ActionForm action=resend>
                            <input type="hidden" name="id" value=team2 />
                            <input type="hidden" name="seat" value=seat1 />
                            <button class=BUTTON disabled=move || resend.pending().get()>"Resend invitation"</button>
                        </ActionForm>
                    })}
                    <ActionForm action=take_back>
                        <input type="hidden" name="id" value=team />
                        <input type="hidden" name="seat" value=seat2 />
                        <button class=BUTTON disabled=move || take_back.pending().get() data-testid="take-back">
                            {move || if take_back.pending().get() { "Removing…" } else { "Take seat back" }}
                        </button>
                    </ActionForm>
                </span>
            </div>
            {several.then(|| view! { <RepoAccessList repositories=h.repositories.clone() /> })}
            {move || error_of(take_back.value().get()).map(|m| view! { <p role="alert" class=ALERT>{m}</p> })}
            {move || error_of(resend.value().get()).map(|m| view! { <p role="alert" class=ALERT>{m}</p> })}
        </li>
    }
}
