use leptos::prelude::*;
use leptos_meta::Title;

use crate::{api::session::current_viewer, components::container::Container, types::Viewer};

/// Shows `children` to admins; a sign-in prompt to visitors; a clear
/// "not an admin" page to anyone else signed in.
#[component]
pub fn AdminGate(children: ChildrenFn) -> impl IntoView {
    let who = Resource::new(|| (), |_| current_viewer());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <Container><p>"Loading…"</p></Container> }>
            {move || Suspend::new(async move {
                match who.await {
                    Ok(Some(Viewer { is_admin: true, login, .. })) => view! {
                        <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-end gap-x-3 px-4 pt-3 text-sm text-slate-600 dark:text-slate-400 sm:px-6" data-testid="admin-who">
                            <span>"Signed in as " <strong>"@"{login}</strong></span>
                            <form method="post" action="/auth/logout">
                                <button class="underline hover:text-slate-900 dark:hover:text-white">"Sign out"</button>
                            </form>
                        </div>
                        {children.with_value(|c| c())}
                    }.into_any(),
                    Ok(Some(viewer)) => view! { <NotAdmin login=viewer.login /> }.into_any(),
                    Ok(None) => view! { <SignIn /> }.into_any(),
                    Err(err) => view! { <Container><p role="alert" class="text-red-600 dark:text-red-400">{err.to_string()}</p></Container> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    set_status(401);
    view! {
        <Title text="Sign in" />
        <Container class="max-w-md py-24 text-center">
            <h1 class="text-2xl font-bold">"Creator sign-in"</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">"Sign in with the GitHub account that owns your repositories. The first person to sign in becomes the owner of this RepoPass."</p>
            <a href="/auth/github?next=/admin" rel="external" class="mt-8 inline-flex items-center gap-2 rounded-md bg-slate-900 px-5 py-2.5 font-medium text-white hover:bg-slate-700 dark:bg-white dark:text-slate-900">
                "Sign in with GitHub"
            </a>
        </Container>
    }
}

#[component]
fn NotAdmin(login: String) -> impl IntoView {
    set_status(403);
    view! {
        <Title text="Not an admin" />
        <Container class="max-w-md py-24 text-center" >
            <h1 class="text-2xl font-bold" data-testid="not-admin">"This account is not an admin"</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">
                "You are signed in as " <strong>{login}</strong> ", which cannot manage this RepoPass. "
                "Ask its owner to add you, or sign out and sign in with another GitHub account. "
                "Looking for something you bought? It is under My purchases."
            </p>
            <form method="post" action="/auth/logout" class="mt-8">
                <button class="rounded-md border border-slate-300 px-4 py-2 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">"Sign out"</button>
            </form>
        </Container>
    }
}

/// The server-rendered refusal says so in its status too (for clients,
/// crawlers and monitoring), not only in its words.
fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(code)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(_code))
    {
        response.set_status(code);
    }
}
