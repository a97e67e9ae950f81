//! The HTML around the sandbox's own pages (hosted checkout, OAuth, console).
//! maud escapes every interpolated value.

use maud::{html, Markup, DOCTYPE};

pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · RepoPass sandbox" }
                link rel="stylesheet" href="/pkg/repopass.css";
                link rel="icon" href="/favicon.ico";
            }
            body class="min-h-screen bg-slate-100 text-slate-900" {
                div class="bg-amber-400 px-4 py-2 text-center text-sm font-semibold text-amber-950" role="status" data-testid="sandbox-banner" {
                    "Sandbox — no real money or GitHub access"
                }
                main class="mx-auto max-w-3xl px-4 py-10" { (body) }
            }
        }
    }
}

pub fn error_page(title: &str, message: &str) -> Markup {
    page(
        title,
        html! {
            div class="rounded-xl border border-red-200 bg-white p-8 shadow-sm" {
                h1 class="text-xl font-semibold text-red-700" { (title) }
                p class="mt-2 text-slate-700" { (message) }
            }
        },
    )
}

pub const BUTTON: &str = "inline-flex items-center justify-center rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700";
pub const INPUT: &str =
    "w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none";

/// `1999, "usd"` → `19.99 USD`, as the sandbox's pages show amounts.
pub fn money(amount: i64, currency: &str) -> String {
    format!("{}.{:02} {}", amount / 100, amount % 100, currency.to_uppercase())
}
