use leptos::prelude::*;
use leptos_meta::Title;

use super::gate::AdminGate;
use crate::{
    api::api_keys::{list_api_keys, CreateApiKey, RevokeApiKey},
    components::container::Container,
    types::ApiKeyRow,
};

/// `/admin/api-keys`: keys for the REST API.
#[component]
pub fn AdminApiKeys() -> impl IntoView {
    view! {
        <Title text="API keys" />
        <AdminGate>
            <ApiKeys />
        </AdminGate>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    // Reload the list after every create or revoke.
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    view! {
        <Container>
            <h1 class="text-3xl font-bold tracking-tight">"API keys"</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">
                "Keys for the REST API at " <code>"/api/v1"</code> ". Send one as " <code>"Authorization: Bearer KEY"</code> "."
            </p>
            <ActionForm action=create attr:class="mt-6 flex flex-wrap items-end gap-2">
                <label class="flex flex-col text-sm">
                    "Name"
                    <input name="name" required maxlength="100" placeholder="e.g. zapier" class="mt-1 rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900" />
                </label>
                <button class="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">"Create key"</button>
            </ActionForm>
            {move || create.value().get().map(|result| match result {
                Ok(key) => view! {
                    <div class="mt-4 rounded-lg border border-green-300 bg-green-50 p-4 dark:border-green-800 dark:bg-green-950" role="status">
                        <p class="font-medium">"Key " <strong>{key.name}</strong> " created. Copy it now: it will not be shown again."</p>
                        <code class="mt-2 block break-all rounded bg-white p-2 font-mono text-sm dark:bg-slate-900" data-testid="new-api-key">{key.secret}</code>
                    </div>
                }.into_any(),
                Err(err) => view! { <p class="mt-4 text-red-600 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
            })}
            <Suspense fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! { <p class="mt-8 text-slate-500 dark:text-slate-400">"No keys yet."</p> }.into_any(),
                        Ok(list) => view! { <KeyTable list revoke /> }.into_any(),
                        Err(err) => view! { <p class="mt-6 text-red-600 dark:text-red-400" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Container>
    }
}

#[component]
fn KeyTable(list: Vec<ApiKeyRow>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    view! {
        <div class="mt-8 overflow-x-auto" tabindex="0" role="region" aria-label="API keys">
        <table class="min-w-[32rem] w-full text-left text-sm" data-testid="api-keys">
            <thead><tr class="text-xs uppercase text-slate-500 dark:text-slate-400"><th class="py-2">"Name"</th><th>"Key"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|k| { let key_name = k.name.clone(); view! {
                    <tr class="border-t border-slate-200 dark:border-slate-800" data-key=key_name>
                        <td class="py-2 font-medium">{k.name}</td>
                        <td class="font-mono text-xs">{format!("{}…", k.prefix)}</td>
                        <td>{if k.revoked { "revoked".to_owned() } else { k.last_used_at.map(crate::time::format_utc).unwrap_or_else(|| "never".to_owned()) }}</td>
                        <td class="text-right">
                            {(!k.revoked).then(|| view! {
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=k.id />
                                    <button class="rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Revoke"</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
