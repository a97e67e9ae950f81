use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    dashboard::{dashboard_resource, DashboardView},
    gate::AdminGate,
};
use crate::components::container::Container;

/// `/admin`: the creator's start page.
#[component]
pub fn AdminHome() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let data = dashboard_resource(version);
    view! {
        <Title text="Admin" />
        <AdminGate>
            <Container>
                <h1 class="text-3xl font-bold tracking-tight">"Your RepoPass"</h1>
                <p class="mt-2 text-slate-600 dark:text-slate-400" data-testid="admin-welcome">"Sell access to your private repositories."</p>
                <div class="mt-8"><DashboardView data version /></div>
                <nav class="mt-8 grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Admin">
                    <a href="/admin/customers" class="rounded-xl border border-slate-200 bg-white p-5 hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                        <div class="font-semibold">"Customers"</div>
                        <div class="text-sm text-slate-600 dark:text-slate-400">"Search, filter and export; revoke, restore, resend, refund."</div>
                    </a>
                    <a href="/admin/events" class="rounded-xl border border-slate-200 bg-white p-5 hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                        <div class="font-semibold">"Events and jobs"</div>
                        <div class="text-sm text-slate-600 dark:text-slate-400">"Webhooks received, jobs that gave up, access that drifted from payments."</div>
                    </a>
                    <a href="/admin/repositories" class="rounded-xl border border-slate-200 bg-white p-5 hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                        <div class="font-semibold">"Repositories"</div>
                        <div class="text-sm text-slate-600 dark:text-slate-400">"Add a repository, write its page, publish it."</div>
                    </a>
                    <a href="/admin/settings" class="rounded-xl border border-slate-200 bg-white p-5 hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                        <div class="font-semibold">"Settings"</div>
                        <div class="text-sm text-slate-600 dark:text-slate-400">"GitHub, Stripe, webhooks and email: what is connected and what to fix."</div>
                    </a>
                    <a href="/admin/api-keys" class="rounded-xl border border-slate-200 bg-white p-5 hover:shadow-md dark:border-slate-800 dark:bg-slate-900">
                        <div class="font-semibold">"API keys"</div>
                        <div class="text-sm text-slate-600 dark:text-slate-400">"Keys for the REST API: create, see when they were used, revoke."</div>
                    </a>
                </nav>
            </Container>
        </AdminGate>
    }
}
