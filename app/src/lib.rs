//! The RepoPass user interface. Components and routes render on the server
//! (`ssr`) and hydrate in the browser (`hydrate`); server functions are thin:
//! authenticate, call a `server` service, map its error.

pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod error;
pub mod money;
pub mod pages;
mod shell;
pub mod time;
pub mod types;

pub use shell::{shell, App, AssetRoot};
