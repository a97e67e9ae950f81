//! The HTML document and the route table.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    components::layout::Layout,
    pages::{
        account::AccountPage,
        admin::{
            api_keys::AdminApiKeys,
            customer::AdminCustomer,
            customers::AdminCustomers,
            events::{AdminEvent, AdminEvents},
            home::AdminHome,
            repositories::AdminRepositories,
            repository_edit::AdminRepositoryEdit,
            settings::AdminSettings,
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
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/checkout/success") view=CheckoutSuccess ssr=SsrMode::Async />
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminHome ssr=SsrMode::Async />
                    <Route path=path!("/admin/customers") view=AdminCustomers ssr=SsrMode::Async />
                    <Route path=path!("/admin/customers/:id") view=AdminCustomer ssr=SsrMode::Async />
                    <Route path=path!("/admin/events") view=AdminEvents ssr=SsrMode::Async />
                    <Route path=path!("/admin/events/:id") view=AdminEvent ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view=AdminSettings ssr=SsrMode::Async />
                    <Route path=path!("/admin/api-keys") view=AdminApiKeys ssr=SsrMode::Async />
                    <Route path=path!("/admin/repositories") view=AdminRepositories ssr=SsrMode::Async />
                    <Route path=path!("/admin/repositories/:id") view=AdminRepositoryEdit ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
