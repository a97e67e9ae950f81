//! The HTML document and the route table.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_location,
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::{
    components::layout::Layout,
    pages::{
        account::AccountPage,
        admin::{
            alerts::AdminAlerts,
            api_keys::AdminApiKeys,
            customer::AdminCustomer,
            customers::AdminCustomers,
            events::{AdminEvent, AdminEvents},
            home::AdminHome,
            repositories::AdminRepositories,
            repository_edit::AdminRepositoryEdit,
            settings::AdminSettings,
            webhooks::AdminWebhooks,
        },
        checkout_success::CheckoutSuccess,
        not_found::NotFound,
        product::Product,
        setup::SetupPage,
        storefront::Storefront,
    },
};

/// Where the browser's files are, named by their content (served by the
/// binary, cached as immutable): `/assets/{version}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRoot(pub String);

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    set_content_security_policy();
    let root = use_context::<AssetRoot>().map(|r| r.0).unwrap_or_default();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" root=root.clone() />
                <HydrationScripts options root />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

/// The page's policy names this response's nonce, which Leptos puts on
/// its hydration script.
fn set_content_security_policy() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let nonce = leptos::nonce::use_nonce();
        let forms = use_context::<crate::csp::FormTargets>().unwrap_or_default();
        if let Ok(value) = http::HeaderValue::from_str(&crate::csp::page_policy(nonce.as_deref(), &forms)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Link rel="icon" href="/favicon.ico" />
        <Title formatter=|page: String| if page.is_empty() { "RepoPass".to_owned() } else { format!("{page} · RepoPass") } />
        <Router>
            <Layout>
                // Async: pages are complete HTML before they are sent, so they
                // work without JavaScript and search engines see the content.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Storefront ssr=SsrMode::Async />
                    <Route path=path!("/p/:slug") view=Product ssr=SsrMode::Async />
                    // The rest load their code when opened: see `CreatorPages`.
                    <Route path=path!("/account") view={Lazy::<CustomerPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/checkout/success") view={Lazy::<CustomerPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/setup") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/customers") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/customers/:id") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/events") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/events/:id") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings/webhooks") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings/alerts") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/api-keys") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/repositories") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/repositories/:id") view={Lazy::<CreatorPages>::new()} ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}

/// The creator's pages (`/admin…`, `/setup`): with `cargo leptos --split`
/// their code is one wasm file of its own, loaded when one of them is
/// opened, so a buyer on `/` or `/p/{slug}` never downloads it. One lazy
/// route for the whole group rather than one per page: the splitter makes
/// a file for every set of pages sharing code (140 files with a route
/// each), and a page opened directly waited for them in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatorPages {
    Setup,
    Home,
    Customers,
    Customer,
    Events,
    Event,
    Settings,
    Webhooks,
    Alerts,
    ApiKeys,
    Repositories,
    RepositoryEdit,
}

impl CreatorPages {
    /// The page at `path`, one the route table sent here. A creator page
    /// added to the table is added here too, and to the test below.
    fn at(path: &str) -> Self {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            ["setup", ..] => Self::Setup,
            ["admin", "customers"] => Self::Customers,
            ["admin", "customers", _] => Self::Customer,
            ["admin", "events"] => Self::Events,
            ["admin", "events", _] => Self::Event,
            ["admin", "settings"] => Self::Settings,
            ["admin", "settings", "webhooks"] => Self::Webhooks,
            ["admin", "settings", "alerts"] => Self::Alerts,
            ["admin", "api-keys"] => Self::ApiKeys,
            ["admin", "repositories"] => Self::Repositories,
            ["admin", "repositories", _] => Self::RepositoryEdit,
            _ => Self::Home,
        }
    }
}

#[lazy_route]
impl LazyRoute for CreatorPages {
    fn data() -> Self {
        Self::at(&use_location().pathname.get_untracked())
    }

    fn view(this: Self) -> AnyView {
        match this {
            CreatorPages::Setup => SetupPage().into_any(),
            CreatorPages::Home => AdminHome().into_any(),
            CreatorPages::Customers => AdminCustomers().into_any(),
            CreatorPages::Customer => AdminCustomer().into_any(),
            CreatorPages::Events => AdminEvents().into_any(),
            CreatorPages::Event => AdminEvent().into_any(),
            CreatorPages::Settings => AdminSettings().into_any(),
            CreatorPages::Webhooks => AdminWebhooks().into_any(),
            CreatorPages::Alerts => AdminAlerts().into_any(),
            CreatorPages::ApiKeys => AdminApiKeys().into_any(),
            CreatorPages::Repositories => AdminRepositories().into_any(),
            CreatorPages::RepositoryEdit => AdminRepositoryEdit().into_any(),
        }
    }
}

/// The customer's pages (`/account`, the return from Checkout): one wasm
/// file of their own, as `CreatorPages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerPages {
    Account,
    CheckoutSuccess,
}

#[lazy_route]
impl LazyRoute for CustomerPages {
    fn data() -> Self {
        if use_location().pathname.get_untracked().starts_with("/checkout") {
            Self::CheckoutSuccess
        } else {
            Self::Account
        }
    }

    fn view(this: Self) -> AnyView {
        match this {
            CustomerPages::Account => AccountPage().into_any(),
            CustomerPages::CheckoutSuccess => CheckoutSuccess().into_any(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CreatorPages;

    #[test]
    fn every_creator_route_opens_its_own_page() {
        for (path, page) in [
            ("/setup", CreatorPages::Setup),
            ("/admin", CreatorPages::Home),
            ("/admin/", CreatorPages::Home),
            ("/admin/customers", CreatorPages::Customers),
            ("/admin/customers/42", CreatorPages::Customer),
            ("/admin/events", CreatorPages::Events),
            ("/admin/events/7", CreatorPages::Event),
            ("/admin/settings", CreatorPages::Settings),
            ("/admin/settings/webhooks", CreatorPages::Webhooks),
            ("/admin/settings/alerts", CreatorPages::Alerts),
            ("/admin/api-keys", CreatorPages::ApiKeys),
            ("/admin/repositories", CreatorPages::Repositories),
            ("/admin/repositories/3", CreatorPages::RepositoryEdit),
        ] {
            assert_eq!(CreatorPages::at(path), page, "{path}");
        }
    }
}
