//! Integration tests: each starts the real server on port 0 with a fresh
//! database (SQLite always; PostgreSQL when TEST_DATABASE_URL is set) and
//! talks to it over HTTP. All compile into one binary, as zero-to-production
//! recommends, so the link happens once.

mod helpers;
mod watch;

mod account;
mod admin_api_keys;
mod admin_auth;
mod admin_ops;
mod admin_prices;
mod admin_repositories;
mod alerts;
mod authorization;
mod authz_matrix;
mod checkout;
mod cli;
mod covers;
mod crash;
mod creator_notices;
mod doctor;
mod exports;
mod extra_seats;
mod fixture_shapes;
mod garbage;
mod lifecycle;
mod log_secrets;
mod migrations;
mod operations;
mod outgoing_webhooks;
mod page_cache;
mod pages;
mod price_models;
mod products;
mod properties;
mod rest_api;
mod sandbox_github;
mod sandbox_github_teams;
mod sandbox_stripe;
mod scheduled;
mod schema;
mod seats;
mod security;
mod settings;
mod setup;
mod static_files;
mod stripe_tax;
mod team_access;
mod trust;
mod webhooks;
