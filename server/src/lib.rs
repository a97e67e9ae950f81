//! Everything RepoPass does on the server that is not a view: configuration,
//! the database, and the domain services that server functions and HTTP
//! handlers call. Nothing in here knows about Leptos.
//!
//! The layers, from the bottom up (a module uses only those below it; the
//! README's "Inside `server`" lists each module):
//! - `domain`: states, reasons, actions, ids — types, no I/O;
//! - `config`, `db`, `clock`, `error`;
//! - outside services: `stripe`, `github`, `oauth` (their own types out, no database writes);
//! - stores: `purchases`, `products`, `repositories`, `prices`, `webhooks`, `jobs`, `ledger`, `emails`, ...;
//! - `purchase_state`: every status change, checked against its table, with its access-log entry;
//! - use cases: `checkout`, `fulfilment`, `access`, `refunds`, `account`, `listings`, `scheduled`, ...;
//! - event handlers: `lifecycle` (Stripe), `github_events`;
//! - `worker`, and `state` (what the boundaries hold).

pub mod access;
pub mod access_periods;
pub mod access_warnings;
pub mod account;
pub mod activity;
pub mod admins;
pub mod alert_checks;
pub mod alerts;
pub mod api_keys;
pub mod backups;
pub mod checkout;
pub mod clock;
pub mod columns;
pub mod config;
pub mod covers;
pub mod creator_summary;
pub mod dashboard;
pub mod dated_clock;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod drift;
pub mod duplicate_purchases;
pub mod emails;
pub mod error;
pub mod exports;
pub mod extra_seats;
pub mod fulfilment;
pub mod github;
pub mod github_accounts;
pub mod github_app;
pub mod github_events;
pub mod grants;
pub mod intake;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub mod listings;
pub mod markdown;
pub mod oauth;
pub mod outgoing_address;
pub mod outgoing_chat;
pub mod outgoing_delivery;
pub mod outgoing_endpoints;
pub mod outgoing_events;
pub mod outgoing_signature;
pub mod page_version;
pub mod page_views;
pub mod preferences;
pub mod prices;
pub mod product_repositories;
pub mod products;
pub mod purchase_state;
pub mod purchases;
pub mod refunds;
pub mod renewals;
pub mod repositories;
pub mod scheduled;
pub mod seats;
pub mod seed;
pub mod session_user;
pub mod settings;
pub mod setup;
pub mod sign_in_links;
pub mod signatures;
pub mod state;
pub mod storefront;
pub mod stripe;
pub mod stripe_connection;
pub mod tax;
pub mod team_access;
pub mod teams;
pub mod vault;
pub mod webhooks;
pub mod worker;

pub use config::Config;
pub use db::Db;
pub use error::{Error, Result};
pub use state::AppState;
