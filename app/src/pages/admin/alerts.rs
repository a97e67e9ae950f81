use leptos::prelude::*;
use leptos_meta::Title;

use super::gate::AdminGate;
use crate::{
    api::alerts::{alerts_page, AddAlertChat, BackUpNow, RemoveAlertRecipient, SaveAlertRecipient},
    components::{action_result::error_of, container::Container},
    time::format_utc,
    types::{AlertKindOption, AlertView, AlertsOverview, BackupState, BackupView, BackupsOverview, BodyFormat},
};

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-60 dark:border-slate-700 dark:hover:bg-slate-800";
const PRIMARY: &str =
    "rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950";
const CARD: &str = "mt-8 rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900";

/// `/admin/settings/alerts`: what needs the creator's attention, who hears
/// of it, and the backups.
#[component]
pub fn AdminAlerts() -> impl IntoView {
    view! {
        <Title text="Alerts & backups" />
        <AdminGate>
            <AlertsBody />
        </AdminGate>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveAlertRecipient>,
    remove: ServerAction<RemoveAlertRecipient>,
    chat: ServerAction<AddAlertChat>,
    backup: ServerAction<BackUpNow>,
}

#[component]
fn AlertsBody() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        remove: ServerAction::new(),
        chat: ServerAction::new(),
        backup: ServerAction::new(),
    };
    let page = Resource::new(
        move || {
            (
                actions.save.version().get(),
                actions.remove.version().get(),
                actions.chat.version().get(),
                actions.backup.version().get(),
            )
        },
        |_| alerts_page(),
    );
    view! {
        <Container>
            <p class="text-sm"><a href="/admin/settings" class="text-indigo-600 hover:underline dark:text-indigo-400">"← Settings"</a></p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">"Alerts & backups"</h1>
            <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">
                "RepoPass writes when access or money is at risk: a job that stopped retrying, a paid customer not invited, Stripe gone quiet, access that differs from payments, a lost GitHub connection, a spike of failed payments or cancellations, an old backup. "
                "One email when it starts, at most one an hour while it lasts (with the count), and one when it is resolved."
            </p>
            <Transition fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <Overview p actions /> }.into_any(),
                        Err(err) => view! { <p role="alert" class="mt-6 text-red-600 dark:text-red-400">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Container>
    }
}

#[component]
fn Overview(p: AlertsOverview, actions: Actions) -> impl IntoView {
    let kinds = p.kinds.clone();
    view! {
        <AlertList alerts=p.alerts.clone() />
        <section class=CARD aria-labelledby="recipients">
            <h2 id="recipients" class="text-lg font-semibold">"Who gets them"</h2>
            {if p.recipients.is_empty() {
                if p.creator_email.is_empty() {
                    view! {
                        <p class="mt-2 text-sm text-amber-700 dark:text-amber-400" role="note" data-testid="no-recipient">
                            "Nobody yet: add an address below, or your email under " <a class="underline" href="/admin/settings#notifications">"Settings → Notifications"</a> "."
                        </p>
                    }.into_any()
                } else {
                    view! {
                        <p class="mt-2 text-sm" data-testid="default-recipient">
                            "Every alert goes to " <strong>{p.creator_email.clone()}</strong> " (your email in Settings → Notifications) until you add addresses here."
                        </p>
                    }.into_any()
                }
            } else {
                view! {
                    <ul class="mt-2 grid gap-2" data-testid="recipients">
                        {p.recipients.into_iter().map(|r| {
                            let labels: Vec<String> = r.kinds.iter()
                                .filter_map(|k| kinds.iter().find(|o| &o.value == k).map(|o| o.label.clone()))
                                .collect();
                            view! {
                                <li class="flex flex-wrap items-start justify-between gap-2 border-t border-slate-100 pt-2 text-sm dark:border-slate-800" data-testid="recipient">
                                    <div class="min-w-0"><strong class="break-all">{r.email.clone()}</strong>
                                        <div class="text-slate-600 dark:text-slate-400">{labels.join(" · ")}</div></div>
                                    <ActionForm action=actions.remove>
                                        <input type="hidden" name="id" value=r.id />
                                        <button class=BUTTON>"Remove"</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <RecipientForm kinds=p.kinds.clone() actions />
        </section>
        <ChatSection p_chats=p.chats.clone() actions />
        <Backups b=p.backups.clone() actions />
    }
}

#[component]
fn AlertList(alerts: Vec<AlertView>) -> impl IntoView {
    view! {
        <section class=CARD aria-labelledby="alert-list">
            <h2 id="alert-list" class="text-lg font-semibold">"Alerts"</h2>
            {if alerts.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="no-alerts">"None so far: nothing has needed you."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 grid gap-3" data-testid="alerts">
                        {alerts.into_iter().map(|a| {
                            let open = a.resolved_at.is_none();
                            view! {
                                <li class="min-w-0 border-t border-slate-100 pt-2 text-sm dark:border-slate-800" data-testid="alert" data-open=open.to_string()>
                                    <div class="flex flex-wrap items-center gap-2">
                                        {if open {
                                            view! { <span class="rounded bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800 dark:bg-red-950 dark:text-red-300">"Open"</span> }.into_any()
                                        } else {
                                            view! { <span class="rounded bg-green-100 px-2 py-0.5 text-xs font-medium text-green-800 dark:bg-green-950 dark:text-green-300">"Resolved"</span> }.into_any()
                                        }}
                                        <strong>{a.label.clone()}</strong>
                                    </div>
                                    <p class="mt-1 break-words">{a.summary.clone()}</p>
                                    <p class="text-xs text-slate-600 dark:text-slate-400">
                                        {format!("Since {}", format_utc(a.opened_at))}
                                        {a.resolved_at.map(|t| format!(" · resolved {}", format_utc(t)))}
                                        {format!(" · {} occurrence{}", a.occurrences, if a.occurrences == 1 { "" } else { "s" })}
                                        {(!a.notified).then_some(" · not emailed (within the hour of the last one)")}
                                    </p>
                                    {(!a.affects.is_empty()).then(|| view! {
                                        <details class="mt-1"><summary class="cursor-pointer text-xs">"What it affects"</summary>
                                            <ul class="mt-1 list-disc pl-5 text-xs">
                                                {a.affects.iter().map(|l| view! { <li class="break-words">{l.clone()}</li> }).collect_view()}
                                            </ul>
                                        </details>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RecipientForm(kinds: Vec<AlertKindOption>, actions: Actions) -> impl IntoView {
    let save = actions.save;
    view! {
        <ActionForm action=save attr:class="mt-4 grid gap-3" attr:data-testid="add-recipient">
            <label class="text-sm font-medium">"Email address (adds it, or changes the alerts it gets)"
                <input name="email" type="email" required placeholder="ops@example.com" class=INPUT />
            </label>
            <fieldset>
                <legend class="text-sm font-medium">"Alerts it gets"</legend>
                <div class="mt-1 grid gap-1 sm:grid-cols-2">
                    {kinds.into_iter().map(|k| view! {
                        <label class="flex items-start gap-2 text-sm">
                            <input type="checkbox" name="kinds[]" value=k.value.clone() checked class="mt-1" />
                            <span>{k.label}{(!k.critical).then_some(" (warning)")}</span>
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <div><button class=PRIMARY disabled=move || save.pending().get()>"Save address"</button></div>
        </ActionForm>
        {move || error_of(save.value().get()).map(|e| view! { <p role="alert" class="mt-3 break-words text-red-600 dark:text-red-400">{e}</p> })}
    }
}

#[component]
fn ChatSection(p_chats: Vec<crate::types::AlertChatView>, actions: Actions) -> impl IntoView {
    let chat = actions.chat;
    view! {
        <section class=CARD aria-labelledby="alert-chat">
            <h2 id="alert-chat" class="text-lg font-semibold">"Slack or Discord"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "Paste a channel's incoming-webhook URL: it hears the same alerts, as one sentence each. Its deliveries are on the "
                <a class="text-indigo-600 underline dark:text-indigo-400" href="/admin/settings/webhooks">"Webhooks"</a> " page."
            </p>
            {(!p_chats.is_empty()).then(|| view! {
                <ul class="mt-2 grid gap-1 text-sm" data-testid="alert-chats">
                    {p_chats.into_iter().map(|c| view! {
                        <li class="break-all">
                            {match c.format { BodyFormat::Slack => "Slack: ", BodyFormat::Discord => "Discord: ", BodyFormat::Standard => "Signed JSON: " }}
                            <code>{c.url}</code>{(!c.enabled).then_some(" (turned off)")}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <ActionForm action=chat attr:class="mt-3 grid gap-3 sm:grid-cols-[1fr_auto_auto] sm:items-end">
                <label class="text-sm font-medium">"Incoming-webhook URL"
                    <input name="url" type="url" required placeholder="https://hooks.slack.com/services/…" class=INPUT />
                </label>
                <label class="text-sm font-medium">"Format"
                    <select name="format" class=INPUT>
                        <option value="slack" selected>"Slack"</option>
                        <option value="discord">"Discord"</option>
                    </select>
                </label>
                <div><button class=PRIMARY disabled=move || chat.pending().get()>"Add channel"</button></div>
            </ActionForm>
            {move || error_of(chat.value().get()).map(|e| view! { <p role="alert" class="mt-3 break-words text-red-600 dark:text-red-400">{e}</p> })}
        </section>
    }
}

#[component]
fn Backups(b: BackupsOverview, actions: Actions) -> impl IntoView {
    let backup = actions.backup;
    if !b.sqlite {
        return view! {
            <section class=CARD aria-labelledby="backups" id="backup-settings">
                <h2 id="backups" class="text-lg font-semibold">"Backups"</h2>
                <p class="mt-2 text-sm" data-testid="backups-postgres">
                    "RepoPass runs on PostgreSQL here: back it up with pg_dump or your host's snapshots (see the README, \"Backups\"). RepoPass does not check them."
                </p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class=CARD aria-labelledby="backups" id="backup-settings">
            <h2 id="backups" class="text-lg font-semibold">"Backups"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                {if b.enabled {
                    format!("Daily into {}, keeping the last {}; each is opened and checked for integrity. Change with REPOPASS_BACKUP_DIR and REPOPASS_BACKUP_KEEP.", b.dir, b.keep)
                } else {
                    "The daily backup is off (REPOPASS_BACKUP_KEEP=0).".to_owned()
                }}
            </p>
            <p class="mt-2 text-sm" data-testid="last-backup">
                {match (&b.last_verified, &b.age) {
                    (Some(last), Some(age)) => format!("Last verified backup: {age} ago — {}", last.path),
                    _ => "No verified backup yet.".to_owned(),
                }}
            </p>
            {b.stale.then(|| view! {
                <p class="mt-1 text-sm font-medium text-red-700 dark:text-red-400" role="alert">"Older than two days: an alert is out."</p>
            })}
            <ActionForm action=backup attr:class="mt-3">
                <button class=PRIMARY disabled=move || backup.pending().get()>"Back up now"</button>
            </ActionForm>
            {move || backup.value().get().map(|r| match r {
                Ok(v) if v.state == BackupState::Verified => view! { <p class="mt-2 text-sm text-green-700 dark:text-green-400" role="status" data-testid="backup-result">{format!("Backed up and verified: {} ({})", v.path, v.detail)}</p> }.into_any(),
                Ok(v) => view! { <p class="mt-2 text-sm text-red-700 dark:text-red-400" role="alert" data-testid="backup-result">{format!("The backup failed: {}", v.detail)}</p> }.into_any(),
                Err(e) => view! { <p class="mt-2 text-sm text-red-700 dark:text-red-400" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            {(!b.recent.is_empty()).then(|| view! {
                <ul class="mt-3 grid gap-1 text-xs" data-testid="backups">
                    {b.recent.into_iter().map(|r| view! { <BackupRow r /> }).collect_view()}
                </ul>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn BackupRow(r: BackupView) -> impl IntoView {
    let state = match r.state {
        BackupState::Verified => "verified",
        BackupState::Failed => "failed",
        BackupState::Pruned => "pruned (older than the ones kept)",
    };
    view! {
        <li class="break-all" data-testid="backup" data-state=state>
            {format!("{} · {} · {} KB · {}", format_utc(r.taken_at), state, r.bytes / 1024, r.detail)}
            <span class="text-slate-500 dark:text-slate-400">{format!(" · {}", r.path)}</span>
        </li>
    }
}
